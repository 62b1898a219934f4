//! Zero-allocation proof for the stack: a bare-metal binary with no global
//! allocator that decodes, validates, answers and encodes; runs the peer
//! machines' capabilities exchange; plays a prepaid call between the
//! credit-control session machines; and (feature `endpoint`, on by
//! default) runs a client `Endpoint` (one peer, a session table of 2, the
//! smallest the endpoint accepts) through a whole prepaid call against an
//! in-memory charging server. If anything reachable used `alloc`, this
//! would not link.
//!
//! The client endpoint and its transport buffers live in statics (as an
//! embedded application keeps them), so `.bss` shows their RAM; the
//! in-memory server is scaffolding on the stack.
#![no_std]
#![no_main]

use core::hint::black_box;
use diameter_core::answer::{error_answer, Identity};
use diameter_core::dict::base;
use diameter_core::{ApplicationId, CommandCode, Framer, HeaderRepr, Message, MessageBuilder};

/// A DWR on the wire (filled at run time through `black_box`, so nothing
/// is constant-folded away).
static INPUT: [u8; 80] = [0; 80];

fn run() -> usize {
    let input: &[u8] = black_box(&INPUT[..]);
    let mut out = [0u8; 512];
    let mut total = 0;
    // framing + decode + typed reads + grammar validation
    if let Ok(diameter_core::Frame::Complete(n)) = Framer::new(4096).check(input) {
        match Message::parse_with(&input[..n], &base::Base) {
            Ok(msg) => {
                if let Ok(Some(host)) = msg.get(&base::ORIGIN_HOST) {
                    total += host.len();
                }
                match msg.validate(&base::Base) {
                    Ok(()) => {
                        let mut b = MessageBuilder::answer_to(&mut out, &msg);
                        b.put(&base::RESULT_CODE, 2001)
                            .put(&base::ORIGIN_HOST, "fw.example")
                            .put(&base::ORIGIN_REALM, "example");
                        total += b.finish().map(|m| m.len()).unwrap_or(0);
                    }
                    Err(e) => {
                        #[cfg(feature = "defmt")]
                        defmt::info!("invalid: {}", e);
                        let me = Identity {
                            origin_host: "fw.example",
                            origin_realm: "example",
                        };
                        if let Ok(b) = error_answer(input, &e, &me, &base::Base, &mut out) {
                            total += b.finish().map(|m| m.len()).unwrap_or(0);
                        }
                    }
                }
            }
            Err(e) => {
                let me = Identity {
                    origin_host: "fw.example",
                    origin_realm: "example",
                };
                if let Ok(b) = error_answer(input, &e, &me, &base::Base, &mut out) {
                    total += b.finish().map(|m| m.len()).unwrap_or(0);
                }
            }
        }
    }
    // encoder from scratch, including a grouped AVP
    let hdr = HeaderRepr::request(
        CommandCode::CAPABILITIES_EXCHANGE,
        ApplicationId::COMMON,
        1,
        2,
    );
    let mut b = MessageBuilder::new(&mut out, hdr);
    b.put(&base::ORIGIN_HOST, "fw.example")
        .put(&base::ORIGIN_REALM, "example")
        .grouped(&base::VENDOR_SPECIFIC_APPLICATION_ID, |g| {
            g.put(&base::VENDOR_ID, 10415)
                .put(&base::AUTH_APPLICATION_ID, 4);
        });
    total + b.finish().map(|m| m.len()).unwrap_or(0)
}

/// The charging server of the examples: credit control rated from a small
/// balance table, and the one session it may hold.
mod ocs {
    use diameter_cc::msg::Ccr;
    use diameter_cc::server::credit_control::{
        Balances, CcServer, CcServerConfig, CcServerSession, Rating,
    };
    use diameter_cc::session::{Ctx, Machine, Node};
    use diameter_core::time::Instant;
    use diameter_core::{EncodeError, Message};

    pub struct Ocs {
        pub node: Node,
        pub server: CcServer<Balances<4>>,
        pub session: Option<CcServerSession>,
    }

    impl Ocs {
        pub fn new(node: Node, seconds: u64) -> Self {
            let mut balances = Balances::<4>::new();
            balances.set("1001", seconds);
            Ocs {
                node,
                server: CcServer::new(CcServerConfig::new(), balances),
                session: None,
            }
        }

        /// Answer a validated CCR into `out`: its session's answer, or a
        /// new session's.
        pub fn serve(
            &mut self,
            now: Instant,
            req: &Message<'_>,
            out: &mut [u8],
        ) -> Result<usize, EncodeError> {
            let server: &mut CcServer<dyn Rating> = &mut self.server;
            match self.session.as_mut() {
                Some(s) => s.handle_request(Ctx::new(&self.node, server), now, req, false, out),
                None => {
                    let ccr = Ccr::decode(req).map_err(|_| EncodeError::InvalidValue)?;
                    let (s, len) = server.handle_new(&self.node, now, req, &ccr, out);
                    self.session = s;
                    len
                }
            }
        }
    }
}

fn parties() -> Option<diameter_cc::client::Parties> {
    diameter_cc::client::Parties::new("1001", "1002").ok()
}

/// The credit-control machines: a prepaid client session and the server
/// answering it, in memory, driven through `session::Machine`.
fn charge() -> Option<usize> {
    use diameter_cc::client::prepaid::{PrepaidClient, PrepaidConfig};
    use diameter_cc::session::{session_id, Ctx, Machine, Node, WallClock};
    use diameter_core::dict::base::TerminationCause;
    use diameter_core::time::Instant;
    let clock = WallClock::new(1_704_067_200);
    let node = Node::new("fw.example", "example", clock).ok()?;
    let mut cfg = PrepaidConfig::new("example", "voice@fw").ok()?;
    let mut ocs = ocs::Ocs::new(
        Node::new("ocs.example", "example", clock).ok()?,
        black_box(600),
    );
    let sid = session_id("fw.example", 1, black_box(2), None)?;
    let mut c = PrepaidClient::new(sid, parties()?);
    let mut req = [0u8; 512];
    let mut ans = [0u8; 512];
    let mut total = 0;
    let mut hop_by_hop = 0u32;
    for step in 0..3u64 {
        let now = Instant::from_secs(step * 30);
        match step {
            0 => c.call_setup(Ctx::new(&node, &mut cfg), now),
            1 => c.call_answered(Ctx::new(&node, &mut cfg), now),
            _ => c.call_ended(now, TerminationCause::Logout),
        }
        while let Some(Ok(t)) = c.poll_transmit(Ctx::new(&node, &mut cfg), now, &mut req) {
            hop_by_hop += 1;
            req[12..16].copy_from_slice(&hop_by_hop.to_be_bytes());
            req[16..20].copy_from_slice(&hop_by_hop.to_be_bytes());
            let Ok(m) = Message::new_checked(&req[..t.len])
                .and_then(|m| m.validated(&diameter_cc::CreditControl))
            else {
                break;
            };
            let Ok(len) = ocs.serve(now, &m, &mut ans) else {
                break;
            };
            total += len;
            if let Ok(a) = Message::new_checked(&ans[..len])
                .and_then(|m| m.validated(&diameter_cc::CreditControl))
            {
                c.handle_answer(Ctx::new(&node, &mut cfg), now, t.request, &a);
            }
        }
        while c.poll_event().is_some() {
            total += 1;
        }
    }
    Some(total)
}

fn identity(host: &str) -> Option<diameter_core::peer::LocalIdentity> {
    use diameter_core::peer::{App, LocalIdentity};
    let me = LocalIdentity::new(host, "example")
        .and_then(|l| l.with_application(App::auth(4)))
        .and_then(|l| l.with_product_name("fw"))
        .ok()?;
    Some(me.with_origin_state_id(1))
}

/// The peer machine: capabilities exchange between two machines, in memory.
fn peers() -> Option<usize> {
    use diameter_core::peer::{Peer, PeerConfig, Role};
    use diameter_core::time::Instant;
    let ci = PeerConfig::new(identity("fw.example")?, 1_704_067_200);
    let cr = PeerConfig::new(identity("ocs.example")?, 1_704_067_200);
    let t0 = Instant::ZERO;
    let mut i: Peer<4, 1024> = Peer::new(ci, Role::Initiator, t0);
    let mut r: Peer<4, 1024> = Peer::new(cr, Role::Responder, t0);
    i.start(t0);
    i.handle_connected(t0);
    r.handle_connected(t0);
    let mut buf = [0u8; 1024];
    let mut total = 0;
    for _ in 0..2 {
        let n = i.transmit().len().min(buf.len());
        buf[..n].copy_from_slice(&i.transmit()[..n]);
        i.transmitted(n);
        if let Ok(diameter_core::Frame::Complete(len)) = Framer::new(1024).check(&buf[..n]) {
            let _ = r.handle_message(t0, &buf[..len], &base::Base);
        }
        let n = r.transmit().len().min(buf.len());
        buf[..n].copy_from_slice(&r.transmit()[..n]);
        r.transmitted(n);
        if let Ok(diameter_core::Frame::Complete(len)) = Framer::new(1024).check(&buf[..n]) {
            let _ = i.handle_message(t0, &buf[..len], &base::Base);
        }
        total += n;
    }
    while i.poll_event(t0).is_some() {}
    Some(total + usize::from(i.is_open()))
}

/// A client endpoint and its transport, through one prepaid call.
#[cfg(feature = "endpoint")]
mod client {
    use core::cell::UnsafeCell;
    use core::hint::black_box;
    use core::mem::MaybeUninit;
    use core::time::Duration;

    use diameter_cc::client::prepaid::PrepaidConfig;
    use diameter_cc::endpoint::{Endpoint, EndpointConfig, Event, PeerHandle};
    use diameter_cc::server::accounting::NoSink;
    use diameter_cc::server::credit_control::NoRating;
    use diameter_cc::session::{Node, WallClock};
    use diameter_core::dict::base::TerminationCause;
    use diameter_core::peer::{self, Incoming, Peer, PeerConfig, Role};
    use diameter_core::time::Instant;
    use diameter_core::RxBuf;

    use crate::ocs::Ocs;

    /// One peer; a session table of 2 (a power of two above 1: the
    /// smallest the endpoint's index accepts).
    pub type ClientEp = Endpoint<NoRating, NoSink, 1, 2>;
    /// Largest message either side sends here.
    const MSG: usize = 2048;

    /// A statically allocated cell, written once at reset (what the
    /// `static_cell` crate does).
    pub struct Static<T>(UnsafeCell<MaybeUninit<T>>);

    // SAFETY: single core, no interrupts touch it; each cell is written
    // once, from `reset`, through `init`.
    unsafe impl<T> Sync for Static<T> {}

    impl<T> Static<T> {
        const fn new() -> Self {
            Static(UnsafeCell::new(MaybeUninit::uninit()))
        }
        /// # Safety
        /// Call at most once per cell.
        #[allow(clippy::mut_from_ref)] // once per cell, as `static_cell`
        unsafe fn init(&'static self, value: T) -> &'static mut T {
            // SAFETY: the caller calls this once, so no other reference
            // to the cell's content exists.
            unsafe { (*self.0.get()).write(value) }
        }
    }

    static ENDPOINT: Static<ClientEp> = Static::new();
    static RX: Static<RxBuf<MSG>> = Static::new();
    static TX: Static<[u8; MSG]> = Static::new();

    /// The far end: a responder peer machine and the charging server.
    struct Far {
        peer: Peer<2, MSG>,
        ocs: Ocs,
        rx: RxBuf<MSG>,
    }

    struct Near {
        ep: &'static mut ClientEp,
        rx: &'static mut RxBuf<MSG>,
        tx: &'static mut [u8; MSG],
        peer: PeerHandle,
        heard: usize,
    }

    /// Everything either side has to say or send, until both are quiet.
    fn settle(now: Instant, near: &mut Near, far: &mut Far) -> usize {
        let mut bytes = 0;
        for _ in 0..64 {
            let mut progress = false;
            while let Some(e) = near.ep.poll_event(now) {
                progress = true;
                near.heard += 1;
                #[cfg(feature = "defmt")]
                defmt::info!("{}", e);
                if let Event::Peer {
                    peer,
                    event: peer::Event::Connect,
                } = e
                {
                    far.peer.handle_connected(now);
                    near.ep.handle_connected(now, peer);
                }
            }
            while let Some(o) = near.ep.poll_transmit(now, &mut near.tx[..]) {
                progress = true;
                bytes += o.len;
                far.rx.extend(&near.tx[..o.len]);
                while let Some(Ok(m)) = far.rx.next_message() {
                    let (peer, ocs) = (&mut far.peer, &mut far.ocs);
                    if let Incoming::Request { message, .. } =
                        peer.handle_message(now, m, &diameter_cc::CreditControl)
                    {
                        let _ = peer.queue_answer(|buf| ocs.serve(now, &message, buf));
                    }
                }
            }
            while far.peer.poll_event(now).is_some() {}
            let out = far.peer.transmit();
            if !out.is_empty() {
                progress = true;
                let n = near.rx.extend(out);
                bytes += n;
                far.peer.transmitted(n);
                while let Some(Ok(m)) = near.rx.next_message() {
                    let _ = near.ep.handle_message(now, near.peer, m);
                }
            }
            if !progress {
                break;
            }
        }
        bytes
    }

    fn config() -> Option<EndpointConfig> {
        let mut peer = PeerConfig::new(crate::identity("fw.example")?, 1_704_067_200);
        peer.tw = Duration::from_secs(30);
        let mut c = EndpointConfig::new(peer, WallClock::new(1_704_067_200));
        c.prepaid = Some(
            PrepaidConfig::new("example", "voice@fw")
                .and_then(|p| p.with_destination_host("ocs.example"))
                .ok()?,
        );
        Some(c)
    }

    pub fn call() -> Option<usize> {
        let clock = WallClock::new(1_704_067_200);
        let far_config = PeerConfig::new(crate::identity("ocs.example")?, 1_704_067_200);
        let mut far = Far {
            peer: Peer::new(far_config, Role::Responder, Instant::ZERO),
            ocs: Ocs::new(
                Node::new("ocs.example", "example", clock).ok()?,
                black_box(3600),
            ),
            rx: RxBuf::new(),
        };
        // SAFETY: `call` runs once, from `reset`.
        let (ep, rx, tx) = unsafe {
            (
                ENDPOINT.init(Endpoint::new(config()?, Instant::ZERO)),
                RX.init(RxBuf::new()),
                TX.init([0; MSG]),
            )
        };
        let peer = ep.add_peer(Role::Initiator, None)?;
        let mut near = Near {
            ep,
            rx,
            tx,
            peer,
            heard: 0,
        };
        let mut now = Instant::ZERO;
        near.ep.start(now);
        let mut bytes = settle(now, &mut near, &mut far);
        let call = near
            .ep
            .open_prepaid(now, "fw-call-1@fw.example", crate::parties()?)
            .ok()?;
        near.ep.call_setup(now, call).ok()?;
        bytes += settle(now, &mut near, &mut far);
        now = now + Duration::from_secs(3);
        near.ep.call_answered(now, call).ok()?;
        bytes += settle(now, &mut near, &mut far);
        now = now + Duration::from_secs(67);
        near.ep
            .call_ended(now, call, TerminationCause::Logout)
            .ok()?;
        bytes += settle(now, &mut near, &mut far);
        if let Some(t) = near.ep.poll_timeout() {
            near.ep.handle_timeout(t);
            bytes += settle(t, &mut near, &mut far);
        }
        Some(bytes + near.heard + near.ep.session_count())
    }
}

#[no_mangle]
#[link_section = ".text.reset"]
extern "C" fn reset() -> ! {
    black_box(run());
    black_box(charge());
    black_box(peers());
    #[cfg(feature = "endpoint")]
    black_box(client::call());
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

#[cfg(feature = "defmt")]
mod logger {
    //! A do-nothing defmt transport so the defmt build links.
    #[defmt::global_logger]
    struct Logger;
    unsafe impl defmt::Logger for Logger {
        fn acquire() {}
        unsafe fn flush() {}
        unsafe fn release() {}
        unsafe fn write(_bytes: &[u8]) {}
    }
    defmt::timestamp!("{=u32}", 0);
}
