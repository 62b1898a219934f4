//! Two embassy-net stacks in one process, joined by
//! `embassy-net-driver-channel` devices and a frame pump, each with a
//! Diameter node and its runner: the SCENARIOS proxy (client) at 10.0.0.1
//! and the charging server (responder) at 10.0.0.2:3868. Everything runs
//! on one thread (`futures_executor::block_on`) with embassy-time's std
//! clock; the test's own future decides when it ends.

#![allow(dead_code)] // each test file uses part of it

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use diameter_cc::endpoint::{EndpointConfig, Event};
use diameter_cc::CreditControl;
use diameter_core::peer::{self, PeerConfig, Role};
use diameter_core::Message;
use diameter_embassy::{Buffers, Direction, Handler, Node, Runner, TcpClient, TcpServer};
use diameter_sim::fixtures::{self, Ledger, Records};
use embassy_futures::join::join5;
use embassy_futures::select::{select, Either};
use embassy_net::driver::HardwareAddress;
use embassy_net::{
    Config, IpEndpoint, Ipv4Address, Ipv4Cidr, Stack, StackResources, StaticConfigV4,
};
use embassy_net_driver_channel as ch;
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_time::{Duration, Timer};

/// The client's endpoint: one peer, 8 sessions.
pub type ClientNode = Node<
    NoopRawMutex,
    diameter_cc::server::credit_control::NoRating,
    diameter_cc::server::accounting::NoSink,
    1,
    8,
>;
/// The server's endpoint: credit control rated by a ledger, accounting
/// kept in a list.
pub type ServerNode = Node<NoopRawMutex, Ledger, Records, 1, 8>;

/// Diameter's port on the server.
pub const PORT: u16 = 3868;
const MTU: usize = 1514;

/// Every whole message a runner wrote or read, in order.
#[derive(Clone, Default)]
pub struct Wire(pub Rc<RefCell<Vec<Logged>>>);

/// One message and which way it went.
pub type Logged = (Direction, Vec<u8>);

impl Handler for Wire {
    fn message(&mut self, _peer: diameter_cc::endpoint::PeerHandle, dir: Direction, bytes: &[u8]) {
        self.0.borrow_mut().push((dir, bytes.to_vec()));
    }
}

impl Wire {
    /// (direction, command code, is request) of every message.
    pub fn commands(&self) -> Vec<(Direction, u32, bool)> {
        self.0
            .borrow()
            .iter()
            .map(|(d, m)| {
                let h = diameter_core::header::Header::new_checked(&m[..]).expect("a header");
                (*d, h.command_code().0, h.flags().is_request())
            })
            .collect()
    }
    /// How many messages of `code` went `dir` as requests (`request`) or answers.
    pub fn count(&self, dir: Direction, code: u32, request: bool) -> usize {
        self.commands()
            .into_iter()
            .filter(|c| *c == (dir, code, request))
            .count()
    }
    /// Every message is a valid Diameter message of the credit-control
    /// dictionary (header, AVPs, grammar, flags, values).
    pub fn assert_valid(&self) {
        for (d, m) in self.0.borrow().iter() {
            let msg = Message::new_checked(m)
                .and_then(|m| m.validated(&CreditControl))
                .unwrap_or_else(|e| panic!("{d:?} message invalid: {e}: {m:02x?}"));
            let _ = msg;
        }
    }
    /// The raw messages.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        self.0.borrow().iter().map(|(_, m)| m.clone()).collect()
    }
}

fn leak<T>(t: T) -> &'static mut T {
    Box::leak(Box::new(t))
}

fn stack(
    device: ch::Device<'static, MTU>,
    addr: [u8; 4],
    seed: u64,
) -> (
    Stack<'static>,
    embassy_net::Runner<'static, ch::Device<'static, MTU>>,
) {
    let config = Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(Ipv4Address::new(addr[0], addr[1], addr[2], addr[3]), 24),
        gateway: None,
        dns_servers: Default::default(),
    });
    embassy_net::new(device, config, leak(StackResources::<4>::new()), seed)
}

/// Copy every frame from one device's transmit queue to the other's
/// receive queue, forever.
async fn pump(mut from: ch::TxRunner<'static, MTU>, mut to: ch::RxRunner<'static, MTU>) -> ! {
    loop {
        let frame = from.tx_buf().await;
        let buf = to.rx_buf().await;
        let n = frame.len().min(buf.len());
        buf[..n].copy_from_slice(&frame[..n]);
        to.rx_done(n);
        from.tx_done();
    }
}

/// What a test gets: both nodes and the wire as each runner saw it.
pub struct Pair {
    /// The proxy.
    pub client: &'static ClientNode,
    /// The charging server.
    pub server: &'static ServerNode,
    /// The client's view of the connection.
    pub client_wire: Wire,
    /// The server's view.
    pub server_wire: Wire,
}

/// Settings of both sides: Tw of each (`None`: the default 30 s).
#[derive(Clone, Copy, Default)]
pub struct Options {
    /// The client's Tw.
    pub client_tw: Option<std::time::Duration>,
    /// The server's Tw.
    pub server_tw: Option<std::time::Duration>,
}

/// Build both stacks and nodes, run them until `test` ends, and return
/// its output. Fails if `test` takes more than `limit`.
pub fn run<F, T>(options: Options, limit: Duration, test: impl FnOnce(Pair) -> F) -> T
where
    F: Future<Output = T>,
{
    let (ch_a, dev_a) = ch::new(
        leak(ch::State::<MTU, 4, 4>::new()),
        HardwareAddress::Ethernet([2, 0, 0, 0, 0, 1]),
    );
    let (ch_b, dev_b) = ch::new(
        leak(ch::State::<MTU, 4, 4>::new()),
        HardwareAddress::Ethernet([2, 0, 0, 0, 0, 2]),
    );
    let (state_a, rx_a, tx_a) = ch_a.split();
    let (state_b, rx_b, tx_b) = ch_b.split();
    state_a.set_link_state(ch::driver::LinkState::Up);
    state_b.set_link_state(ch::driver::LinkState::Up);
    let (stack_a, mut net_a) = stack(dev_a, [10, 0, 0, 1], 1);
    let (stack_b, mut net_b) = stack(dev_b, [10, 0, 0, 2], 2);

    let mut client_config: EndpointConfig = fixtures::client_config();
    if let Some(tw) = options.client_tw {
        client_config.peer.tw = tw;
    }
    let client_ep = *fixtures::client_with::<1, 8>(client_config);
    let client: &'static ClientNode = leak(Node::new(client_ep));
    client.with(|ep| ep.add_peer(Role::Initiator, None).expect("a peer slot"));

    let mut server_ep = *fixtures::server::<1, 8>(fixtures::ledger());
    if let Some(tw) = options.server_tw {
        let mut pc: PeerConfig = fixtures::peer_config(fixtures::SERVER);
        pc.tw = tw;
        let config = EndpointConfig::new(pc, diameter_cc::session::WallClock::new(fixtures::EPOCH));
        server_ep =
            diameter_cc::endpoint::Endpoint::new(config, diameter_core::time::Instant::ZERO)
                .with_credit_control(
                    diameter_cc::server::credit_control::CcServerConfig::new(),
                    fixtures::ledger(),
                )
                .with_accounting(
                    diameter_cc::server::accounting::AccountingServerConfig::new(),
                    Records::default(),
                );
    }
    let server: &'static ServerNode = leak(Node::new(server_ep));

    let client_wire = Wire::default();
    let server_wire = Wire::default();
    let remote = IpEndpoint::new(Ipv4Address::new(10, 0, 0, 2).into(), PORT);
    let tcp_a = TcpClient::new(stack_a, remote, leak([0u8; 4096]), leak([0u8; 4096]));
    let tcp_b = TcpServer::new(stack_b, PORT, leak([0u8; 4096]), leak([0u8; 4096]));
    let mut run_a = Runner::new(
        client,
        tcp_a,
        Buffers::<4096, 4096>::new(),
        client_wire.clone(),
    );
    let mut run_b = Runner::new(
        server,
        tcp_b,
        Buffers::<4096, 4096>::new(),
        server_wire.clone(),
    );

    let background = join5(
        async {
            join5(
                net_a.run(),
                net_b.run(),
                pump(tx_a, rx_b),
                pump(tx_b, rx_a),
                async {},
            )
            .await
        },
        run_a.run(),
        run_b.run(),
        async {},
        async {},
    );
    let pair = Pair {
        client,
        server,
        client_wire,
        server_wire,
    };
    let test = test(pair);
    let limited = async {
        match select(test, Timer::after(limit)).await {
            Either::First(t) => t,
            Either::Second(()) => panic!("test did not finish within {limit:?}"),
        }
    };
    futures_executor::block_on(async {
        match select(background, limited).await {
            Either::First(_) => unreachable!("the runners never return"),
            Either::Second(t) => t,
        }
    })
}

/// Wait for a node event matching `f` (other events are dropped).
pub async fn wait_event<M, R, K, const P: usize, const S: usize>(
    node: &Node<M, R, K, P, S>,
    mut f: impl FnMut(&Event) -> bool,
) -> Event
where
    M: embassy_sync::blocking_mutex::raw::RawMutex,
    R: diameter_cc::server::credit_control::Rating + 'static,
    K: diameter_cc::server::accounting::AccountingSink + 'static,
{
    loop {
        let e = node.next_event().await;
        if f(&e) {
            return e;
        }
    }
}

/// A peer event.
pub fn is_peer(e: &Event, want: fn(&peer::Event) -> bool) -> bool {
    matches!(e, Event::Peer { event, .. } if want(event))
}
