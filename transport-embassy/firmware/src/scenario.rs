//! The prepaid call of SCENARIOS (1001 calls 1002, talks 67 s) between a
//! `diameter-embassy` client node and a responder node that charges it,
//! each on its own embassy-net stack; the two stacks are joined in memory
//! by `embassy-net-driver-channel` devices and a frame pump. Everything a
//! gateway would keep lives in statics; only the futures are on the stack.

#[cfg(not(feature = "client-only"))]
use core::mem::size_of_val;
use core::pin::pin;
#[cfg(not(feature = "client-only"))]
use cortex_m_semihosting::hprintln;
use diameter_cc::client::prepaid::PrepaidConfig;
use diameter_cc::client::Parties;
use diameter_cc::endpoint::{Endpoint, EndpointConfig, Event};
use diameter_cc::server::accounting::NoSink;
use diameter_cc::server::credit_control::NoRating;
use diameter_cc::session::WallClock;
use diameter_core::dict::base::{DisconnectCause, TerminationCause};
use diameter_core::peer::{self, App, LocalIdentity, PeerConfig, Role};
use diameter_embassy::{Buffers, Grant, NoHandler, Node, Runner, TcpClient};

use embassy_futures::select::{select, Either};
use embassy_net::driver::HardwareAddress;
use embassy_net::{
    Config, IpEndpoint, Ipv4Address, Ipv4Cidr, Stack, StackResources, StaticConfigV4,
};
use embassy_net_driver_channel as ch;
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_time::{Duration, Timer};
use static_cell::{ConstStaticCell, StaticCell};

/// Frames of the in-memory link.
const MTU: usize = 1500;
/// The runners' message buffers: CER/CEA and CCR/CCA of this call are
/// well under 1 KiB.
pub const MSG: usize = 1024;
/// TCP socket buffers.
const SOCKET: usize = 1024;
/// Unix time at boot (2024-01-01).
const EPOCH: i64 = 1_704_067_200;
/// The caller's balance and the call's length.
pub const BALANCE: u64 = 3600;
/// Seconds talked.
pub const TALK: u64 = 67;

/// The gateway's node: one peer, a session table of 2 (the smallest).
pub type ClientNode = Node<NoopRawMutex, NoRating, NoSink, 1, 2>;
#[cfg(not(feature = "client-only"))]
type Balances = diameter_cc::server::credit_control::Balances<4>;
/// The charging server's node.
#[cfg(not(feature = "client-only"))]
pub type ServerNode = Node<NoopRawMutex, Balances, NoSink, 1, 2>;

pub type ClientRunner =
    Runner<'static, NoopRawMutex, NoRating, NoSink, TcpClient<'static>, NoHandler, 1, 2, MSG, MSG>;
#[cfg(not(feature = "client-only"))]
type ServerRunner = Runner<
    'static,
    NoopRawMutex,
    Balances,
    NoSink,
    diameter_embassy::TcpServer<'static>,
    NoHandler,
    1,
    2,
    MSG,
    MSG,
>;

/// Stack bytes: the high-water mark of setting the nodes up (they are
/// built on the stack before they move into their statics) and the depth
/// when the call starts; `vtime::TASK_STACK` has the most each task's
/// polls used below that.
pub struct StackUse {
    /// High-water mark of everything before the call (bench included).
    pub setup: usize,
    /// Depth when the call starts (the caller's frames and the pinned
    /// futures).
    pub start: usize,
}

/// Filled in by [`run`].
pub static mut STACK: StackUse = StackUse { setup: 0, start: 0 };

/// Run `f` on a freshly painted stack and record its use in [`STACK`].
#[inline(never)]
fn measured<T>(f: impl FnOnce() -> T) -> T {
    let setup = crate::stack::high_water();
    crate::stack::paint();
    let start = crate::stack::depth();
    // SAFETY: single-threaded, written once here and read by `main` after.
    unsafe {
        STACK = StackUse { setup, start };
    }
    f()
}

/// The tasks of [`run`], in the executor's order (the call last).
#[cfg(not(feature = "client-only"))]
pub const TASK_NAMES: [&str; 7] = [
    "client stack",
    "server stack",
    "pump c->s",
    "pump s->c",
    "client runner",
    "server runner",
    "the call",
];
/// The tasks of [`run`], in the executor's order (the call last).
#[cfg(feature = "client-only")]
pub const TASK_NAMES: [&str; 4] = ["client stack", "sink", "client runner", "the call"];

/// What the call came to.
pub struct Outcome {
    /// The CCA-I's verdict.
    pub grant: Result<Grant, diameter_embassy::calls::Error>,
    /// The CCR-T's fate.
    pub hangup: Result<(), diameter_embassy::calls::Error>,
    /// The peer event that ended the connection after DPR.
    pub down: Option<peer::Event>,
}

fn identity(host: &str) -> LocalIdentity {
    LocalIdentity::new(host, "example")
        .and_then(|l| l.with_application(App::auth(4)))
        .and_then(|l| l.with_product_name("diameter-embassy fw"))
        .expect("valid identity")
        .with_origin_state_id(1)
}

fn stack(
    device: ch::Device<'static, MTU>,
    addr: Ipv4Address,
    resources: &'static mut StackResources<2>,
) -> (
    Stack<'static>,
    embassy_net::Runner<'static, ch::Device<'static, MTU>>,
) {
    let config = Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(addr, 24),
        gateway: None,
        dns_servers: heapless::Vec::new(),
    });
    embassy_net::new(device, config, resources, u64::from(addr.to_bits()))
}

/// Copy frames from one device to the other, forever. Like a wire, it
/// drops a frame the far end has no room for (TCP sends it again): a pump
/// that waited for room while holding the frame could deadlock, since a
/// stack only takes a frame in when it also has room to send one.
#[cfg(not(feature = "client-only"))]
async fn pump(mut from: ch::TxRunner<'static, MTU>, mut to: ch::RxRunner<'static, MTU>) -> ! {
    loop {
        let frame = from.tx_buf().await;
        if let Some(buf) = to.try_rx_buf() {
            let n = frame.len().min(buf.len());
            buf[..n].copy_from_slice(&frame[..n]);
            to.rx_done(n);
            FRAMES.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        } else {
            DROPPED.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        }
        from.tx_done();
    }
}
/// Frames the pumps delivered.
pub static FRAMES: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);
/// Frames the pumps dropped (the far end's receive queue was full).
pub static DROPPED: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);

/// Frames sent where nobody listens (the client-only build).
#[cfg(feature = "client-only")]
async fn sink(mut from: ch::TxRunner<'static, MTU>) -> ! {
    loop {
        let _ = from.tx_buf().await;
        from.tx_done();
    }
}

fn channel(
    state: &'static mut ch::State<MTU, 2, 2>,
) -> (
    ch::Device<'static, MTU>,
    ch::RxRunner<'static, MTU>,
    ch::TxRunner<'static, MTU>,
) {
    let (runner, device) = ch::new(state, HardwareAddress::Ip);
    let (link, rx, tx) = runner.split();
    link.set_link_state(ch::driver::LinkState::Up);
    (device, rx, tx)
}

/// The application's side: open the call, answer, talk, hang up, DPR.
async fn call(client: &ClientNode) -> Outcome {
    // Capabilities exchange first (bounded: the client-only build has no
    // far end).
    let _ = select(client.wait_open(), Timer::after(Duration::from_secs(20))).await;
    let parties = Parties::new("1001", "1002").expect("valid parties");
    let mut call = match client.prepaid("fw-call-1@client.example", parties) {
        Ok(c) => c,
        Err(_) => {
            return Outcome {
                grant: Err(diameter_embassy::calls::Error::Closed),
                hangup: Err(diameter_embassy::calls::Error::Closed),
                down: None,
            }
        }
    };
    let grant = call.start().await; // INVITE: CCR-I
    let mut hangup = Err(diameter_embassy::calls::Error::Closed);
    if grant.is_ok() {
        let _ = call.answered().await; // 200 OK: CCR-U
        Timer::after(Duration::from_secs(TALK)).await;
        hangup = call.hangup(TerminationCause::Logout).await; // BYE: CCR-T
    }
    drop(call);
    client.shutdown(DisconnectCause::Rebooting); // DPR
    let down = match select(
        async {
            loop {
                if let Event::Peer {
                    event: e @ peer::Event::Down(_),
                    ..
                } = client.next_event().await
                {
                    return e;
                }
            }
        },
        Timer::after(Duration::from_secs(20)),
    )
    .await
    {
        Either::First(e) => Some(e),
        Either::Second(()) => None,
    };
    Outcome {
        grant,
        hangup,
        down,
    }
}

#[inline(never)]
fn client_node() -> &'static ClientNode {
    static NODE: StaticCell<ClientNode> = StaticCell::new();
    let mut peer = PeerConfig::new(identity("client.example"), EPOCH as u32);
    peer.tw = core::time::Duration::from_secs(30);
    let mut config = EndpointConfig::new(peer, WallClock::new(EPOCH));
    config.prepaid = Some(
        PrepaidConfig::new("example", "voice@example")
            .and_then(|p| p.with_destination_host("ocs.example"))
            .expect("valid prepaid settings"),
    );
    // Built in the static, not on the stack and moved (`init_with`).
    let node = NODE.init_with(|| Node::new(Endpoint::new(config, diameter_embassy::clock::now())));
    node.with(|ep| ep.add_peer(Role::Initiator, None));
    node
}

/// The charging server's node, with 1001's balance.
#[cfg(not(feature = "client-only"))]
#[inline(never)]
fn server_node() -> &'static ServerNode {
    use diameter_cc::server::credit_control::CcServerConfig;
    static SERVER: StaticCell<ServerNode> = StaticCell::new();
    let mut balances = Balances::new();
    balances.set("1001", BALANCE);
    let server_config = EndpointConfig::new(
        PeerConfig::new(identity("ocs.example"), EPOCH as u32),
        WallClock::new(EPOCH),
    );
    SERVER.init_with(|| {
        Node::new(
            Endpoint::new(server_config, diameter_embassy::clock::now())
                .with_credit_control(CcServerConfig::new(), balances),
        )
    })
}

/// Client and server over two stacks; returns the call's outcome and the
/// server's balance of 1001 after it.
#[cfg(not(feature = "client-only"))]
pub fn run() -> Option<(Outcome, Option<u64>)> {
    use diameter_embassy::TcpServer;

    static STATE_A: ConstStaticCell<ch::State<MTU, 2, 2>> = ConstStaticCell::new(ch::State::new());
    static STATE_B: ConstStaticCell<ch::State<MTU, 2, 2>> = ConstStaticCell::new(ch::State::new());
    static RES_A: ConstStaticCell<StackResources<2>> = ConstStaticCell::new(StackResources::new());
    static RES_B: ConstStaticCell<StackResources<2>> = ConstStaticCell::new(StackResources::new());
    static SOCKETS: ConstStaticCell<[[u8; SOCKET]; 4]> = ConstStaticCell::new([[0; SOCKET]; 4]);

    let (dev_a, rx_a, tx_a) = channel(STATE_A.take());
    let (dev_b, rx_b, tx_b) = channel(STATE_B.take());
    let (stack_a, mut net_a) = stack(dev_a, Ipv4Address::new(10, 0, 0, 1), RES_A.take());
    let (stack_b, mut net_b) = stack(dev_b, Ipv4Address::new(10, 0, 0, 2), RES_B.take());
    let [s0, s1, s2, s3] = SOCKETS.take();

    let client = client_node();
    let server = server_node();

    let ocs = IpEndpoint::new(Ipv4Address::new(10, 0, 0, 2).into(), 3868);
    static RUN_A: StaticCell<ClientRunner> = StaticCell::new();
    static RUN_B: StaticCell<ServerRunner> = StaticCell::new();
    let run_a = RUN_A.init(Runner::new(
        client,
        TcpClient::new(stack_a, ocs, s0, s1),
        Buffers::<MSG, MSG>::new(),
        NoHandler,
    ));
    let run_b = RUN_B.init(Runner::new(
        server,
        TcpServer::new(stack_b, 3868, s2, s3),
        Buffers::<MSG, MSG>::new(),
        NoHandler,
    ));
    let runners = (core::mem::size_of_val(run_a), core::mem::size_of_val(run_b));
    use crate::vtime::task;
    let (t0, t1) = (pin!(task(net_a.run())), pin!(task(net_b.run())));
    let (t2, t3) = (pin!(task(pump(tx_a, rx_b))), pin!(task(pump(tx_b, rx_a))));
    let (t4, t5) = (pin!(task(run_a.run())), pin!(task(run_b.run())));
    let main = call(client);
    hprintln!(
        "  futures (on the stack): stacks {} + {} B, runners {} + {} B, the call {} B",
        size_of_val(&*t0),
        size_of_val(&*t1),
        size_of_val(&*t4),
        size_of_val(&*t5),
        size_of_val(&main),
    );
    hprintln!(
        "  runners (static, with their message buffers): {} + {} B",
        runners.0,
        runners.1
    );
    let outcome = measured(|| crate::vtime::run(main, [t0, t1, t2, t3, t4, t5]))?;
    let balance = server.with(|ep| {
        ep.credit_control_server()
            .and_then(|s| s.rating().balance("1001"))
    });
    Some((outcome, balance))
}

/// The client alone (the footprint build): its frames go nowhere.
#[cfg(feature = "client-only")]
pub fn run() -> Option<(Outcome, Option<u64>)> {
    static STATE_A: ConstStaticCell<ch::State<MTU, 2, 2>> = ConstStaticCell::new(ch::State::new());
    static RES_A: ConstStaticCell<StackResources<2>> = ConstStaticCell::new(StackResources::new());
    static SOCKETS: ConstStaticCell<[[u8; SOCKET]; 2]> = ConstStaticCell::new([[0; SOCKET]; 2]);

    let (dev_a, _rx_a, tx_a) = channel(STATE_A.take());
    let (stack_a, mut net_a) = stack(dev_a, Ipv4Address::new(10, 0, 0, 1), RES_A.take());
    let [s0, s1] = SOCKETS.take();
    let client = client_node();
    let ocs = IpEndpoint::new(Ipv4Address::new(10, 0, 0, 2).into(), 3868);
    static RUN_A: StaticCell<ClientRunner> = StaticCell::new();
    let run_a = RUN_A.init(Runner::new(
        client,
        TcpClient::new(stack_a, ocs, s0, s1).with_connect_timeout(Duration::from_secs(5)),
        Buffers::<MSG, MSG>::new(),
        NoHandler,
    ));
    use crate::vtime::task;
    let t0 = pin!(task(net_a.run()));
    let t1 = pin!(task(sink(tx_a)));
    let t2 = pin!(task(run_a.run()));
    let outcome = measured(|| crate::vtime::run(call(client), [t0, t1, t2]))?;
    Some((outcome, None))
}
