//! A whole prepaid call per iteration (SCENARIOS prepaid: CCR-I/CCA-I at
//! INVITE, CCR-U/CCA-U at answer, CCR-T/CCA-T at hangup, 67 s of usage),
//! two ways in the same run:
//!
//! - `prepaid_call_ccr_i_u_t`: the session machines alone. The prepaid
//!   client machine and the credit-control server (`CcServer::handle_new`
//!   for the CCR-I, then the `CcServerSession` it opened, both driven
//!   through `session::Machine`) exchange the messages as bytes: each CCR
//!   encoded by the client, given identifiers, parsed and validated once
//!   (`Message::new_checked` + `validated`, as the peer machine does on
//!   receipt), answered by the server, the CCA validated the same way and
//!   handed to the client; events drained.
//! - `prepaid_call_endpoints`: the same call through two `Endpoint`s in
//!   memory (a client endpoint and a charging server's endpoint, one
//!   connection, already Open): `open_prepaid`, `call_setup`,
//!   `call_answered`, `call_ended`, and after each call the bytes moved by
//!   hand from `poll_transmit` to the other side's `handle_message` until
//!   both are quiet, events drained. Then the server's ended session is let
//!   go (its duplicate window passes: one `handle_timeout`), so every
//!   iteration starts from the same tables.
//!
//! `cargo bench -p diameter-benches --bench session`

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, Criterion, Throughput};
use diameter_cc::client::prepaid::{PrepaidClient, PrepaidConfig};
use diameter_cc::client::Parties;
use diameter_cc::endpoint::{Endpoint, EndpointConfig, Event, PeerHandle};
use diameter_cc::msg::Ccr;
use diameter_cc::server::accounting::NoSink;
use diameter_cc::server::credit_control::{
    Balances, CcServer, CcServerConfig, CcServerSession, NoRating, Rating,
};
use diameter_cc::session::{session_id_from, Ctx, Machine, Node, Transmit, WallClock};
use diameter_cc::CreditControl;
use diameter_core::dict::base::TerminationCause;
use diameter_core::peer::{self, App, LocalIdentity, PeerConfig, Role};
use diameter_core::time::Instant;
use diameter_core::Message;

const CLIENT: &str = "client.cgrates.org";
const SERVER: &str = "ocs.cgrates.org";
const REALM: &str = "cgrates.org";
const CONTEXT: &str = "voice@cgrates.org";
const SESSION: &str = "sip-call-0001@bench";
const EPOCH: i64 = 1_704_067_200;
/// Answered 3 s after the INVITE, hung up 67 s later.
const ANSWER: Duration = Duration::from_secs(3);
const HANGUP: Duration = Duration::from_secs(70);

fn parties() -> Parties {
    Parties::new("1001", "1002")
        .and_then(|p| p.with_addresses("sip:1001@cgrates.org", "sip:1002@cgrates.org"))
        .expect("parties")
}

fn prepaid_config() -> PrepaidConfig {
    PrepaidConfig::new(REALM, CONTEXT)
        .and_then(|c| c.with_destination_host(SERVER))
        .expect("prepaid config")
}

fn balances() -> Balances<4> {
    let mut b = Balances::<4>::new();
    b.set("1001", u64::MAX / 2);
    b
}

/// Parse and validate once, as the peer machine does on receipt.
fn checked(bytes: &[u8]) -> Message<'_> {
    Message::new_checked(bytes)
        .and_then(|m| m.validated(&CreditControl))
        .expect("valid message")
}

// ---------------------------------------------------------------------------
// The machines alone

struct Machines {
    client: Node,
    server_node: Node,
    config: PrepaidConfig,
    server: CcServer<Balances<4>>,
    session: Option<CcServerSession>,
    hop_by_hop: u32,
    req: Box<[u8; 2048]>,
    ans: Box<[u8; 2048]>,
}

impl Machines {
    fn new() -> Self {
        let clock = WallClock::new(EPOCH);
        Machines {
            client: Node::new(CLIENT, REALM, clock).expect("node"),
            server_node: Node::new(SERVER, REALM, clock).expect("node"),
            config: prepaid_config(),
            server: CcServer::new(CcServerConfig::new(), balances()),
            session: None,
            hop_by_hop: 0,
            req: Box::new([0u8; 2048]),
            ans: Box::new([0u8; 2048]),
        }
    }

    /// Every CCR of the client to the server and its CCA back; returns the
    /// bytes exchanged.
    fn exchange(&mut self, c: &mut PrepaidClient, now: Instant) -> usize {
        let mut bytes = 0;
        while let Some(t) = c.poll_transmit(
            Ctx::new(&self.client, &mut self.config),
            now,
            &mut self.req[..],
        ) {
            let t: Transmit = t.expect("CCR encodes");
            // The ids a sender writes (the endpoint's peer does it there).
            self.hop_by_hop = self.hop_by_hop.wrapping_add(1);
            let r = &mut self.req[..t.len];
            r[12..16].copy_from_slice(&self.hop_by_hop.to_be_bytes());
            r[16..20].copy_from_slice(&(self.hop_by_hop ^ 0x5a5a_0000).to_be_bytes());
            let req = checked(&self.req[..t.len]);
            let server: &mut CcServer<dyn Rating> = &mut self.server;
            let len = match self.session.as_mut() {
                Some(s) => s.handle_request(
                    Ctx::new(&self.server_node, server),
                    now,
                    &req,
                    false,
                    &mut self.ans[..],
                ),
                None => {
                    let ccr = Ccr::decode(&req).expect("CCR decodes");
                    let (s, len) =
                        server.handle_new(&self.server_node, now, &req, &ccr, &mut self.ans[..]);
                    self.session = s;
                    len
                }
            }
            .expect("CCA encodes");
            let ans = checked(&self.ans[..len]);
            c.handle_answer(
                Ctx::new(&self.client, &mut self.config),
                now,
                t.request,
                &ans,
            );
            bytes += t.len + len;
        }
        while let Some(e) = c.poll_event() {
            black_box(e);
        }
        bytes
    }

    /// One call; returns the bytes exchanged.
    fn call(&mut self) -> usize {
        let t0 = Instant::ZERO;
        let mut c = PrepaidClient::new(session_id_from(SESSION).expect("sid"), parties());
        c.call_setup(Ctx::new(&self.client, &mut self.config), t0);
        let mut bytes = self.exchange(&mut c, t0);
        c.call_answered(Ctx::new(&self.client, &mut self.config), t0 + ANSWER);
        bytes += self.exchange(&mut c, t0 + ANSWER);
        c.call_ended(t0 + HANGUP, TerminationCause::Logout);
        bytes += self.exchange(&mut c, t0 + HANGUP);
        assert!(c.is_closed(), "the call ended");
        // The ended server session is forgotten (the endpoint does it when
        // its duplicate window passes).
        self.session = None;
        bytes
    }
}

// ---------------------------------------------------------------------------
// Two endpoints

type ClientEp = Endpoint<NoRating, NoSink>;
type ServerEp = Endpoint<Balances<4>, NoSink>;

fn peer_config(host: &str) -> PeerConfig {
    let me = LocalIdentity::new(host, REALM)
        .and_then(|l| l.with_application(App::auth(4)))
        .and_then(|l| l.with_supported_vendor(10415))
        .expect("identity");
    let mut c = PeerConfig::new(me, EPOCH as u32);
    // Calls keep the connection busy; no watchdog exchange in the loop.
    c.tw = Duration::from_secs(10 * 24 * 3600);
    c
}

struct Pair {
    client: Box<ClientEp>,
    server: Box<ServerEp>,
    cp: PeerHandle,
    sp: Option<PeerHandle>,
    buf: Box<[u8; 8192]>,
    now: Instant,
    bytes: usize,
    events: usize,
}

/// Hand every whole message in `bytes` to `ep`'s `handle_message`.
macro_rules! deliver {
    ($ep:expr, $now:expr, $peer:expr, $bytes:expr) => {{
        let b: &[u8] = $bytes;
        let mut off = 0;
        while off < b.len() {
            let len = u32::from_be_bytes([0, b[off + 1], b[off + 2], b[off + 3]]) as usize;
            black_box($ep.handle_message($now, $peer, &b[off..off + len]));
            off += len;
        }
    }};
}

impl Pair {
    fn connect() -> Self {
        let mut config = EndpointConfig::new(peer_config(CLIENT), WallClock::new(EPOCH));
        config.prepaid = Some(prepaid_config());
        let mut client: Box<ClientEp> = Box::new(Endpoint::new(config, Instant::ZERO));
        let config = EndpointConfig::new(peer_config(SERVER), WallClock::new(EPOCH));
        let server: Box<ServerEp> = Box::new(
            Endpoint::new(config, Instant::ZERO)
                .with_credit_control(CcServerConfig::new(), balances()),
        );
        let cp = client.add_peer(Role::Initiator, None).expect("peer");
        let mut p = Pair {
            client,
            server,
            cp,
            sp: None,
            buf: Box::new([0u8; 8192]),
            now: Instant::ZERO,
            bytes: 0,
            events: 0,
        };
        p.client.start(p.now);
        p.settle();
        assert!(
            p.client.peer(cp).is_some_and(|x| x.is_open()),
            "client open"
        );
        assert!(p
            .server
            .peer(p.sp.expect("accepted"))
            .is_some_and(|x| x.is_open()));
        p
    }

    /// Poll both endpoints in the documented order (events until `None`,
    /// then transmits until `None`, each delivered at once) until a round
    /// changes nothing.
    fn settle(&mut self) {
        loop {
            let mut progress = false;
            while let Some(e) = self.client.poll_event(self.now) {
                progress = true;
                self.events += 1;
                if let Event::Peer {
                    peer,
                    event: peer::Event::Connect,
                } = e
                {
                    self.sp = self.server.accept(self.now);
                    self.client.handle_connected(self.now, peer);
                }
            }
            while let Some(e) = self.server.poll_event(self.now) {
                progress = true;
                self.events += 1;
                black_box(e);
            }
            while let Some(o) = self.client.poll_transmit(self.now, &mut self.buf[..]) {
                progress = true;
                self.bytes += o.len;
                let sp = self.sp.expect("connected");
                deliver!(self.server, self.now, sp, &self.buf[..o.len]);
            }
            while let Some(o) = self.server.poll_transmit(self.now, &mut self.buf[..]) {
                progress = true;
                self.bytes += o.len;
                deliver!(self.client, self.now, self.cp, &self.buf[..o.len]);
            }
            if !progress {
                return;
            }
        }
    }

    /// One call; returns the bytes exchanged.
    fn call(&mut self) -> usize {
        let before = self.bytes;
        let t0 = self.now;
        let h = self
            .client
            .open_prepaid(t0, SESSION, parties())
            .expect("open");
        self.client.call_setup(t0, h).expect("setup");
        self.settle();
        self.now = t0 + ANSWER;
        self.client.call_answered(self.now, h).expect("answered");
        self.settle();
        self.now = t0 + HANGUP;
        self.client
            .call_ended(self.now, h, TerminationCause::Logout)
            .expect("ended");
        self.settle();
        // The server's session lingers for its duplicate window: let it go.
        // Its `Closed` event comes only after `poll_transmit` (which
        // re-queues it once `poll_event` has said `None`): a second pass.
        if let Some(t) = self.server.poll_timeout() {
            self.now = self.now.max(t);
            self.server.handle_timeout(self.now);
            self.settle();
            self.settle();
        }
        self.bytes - before
    }
}

fn bench(cr: &mut Criterion) {
    let mut m = Machines::new();
    let n = m.call();
    let mut p = Pair::connect();
    let n_ep = p.call();
    assert_eq!(p.client.session_count() + p.server.session_count(), 0);
    assert_eq!(n, n_ep, "both rows exchange the same messages");

    let mut g = cr.benchmark_group("session");
    g.throughput(Throughput::Bytes(n as u64));
    g.bench_function("prepaid_call_ccr_i_u_t", |b| b.iter(|| black_box(m.call())));
    g.bench_function("prepaid_call_endpoints", |b| b.iter(|| black_box(p.call())));
    g.finish();
    assert_eq!(p.client.session_count() + p.server.session_count(), 0);
}

criterion_group!(benches, bench);

/// `SESSION_BENCH_CALLS=<machines|endpoints>:<n>` runs `n` calls of one row
/// and exits, without criterion: for counting instructions, which the noise
/// of a shared machine does not move (`scripts/session-instructions.sh`).
fn main() {
    if let Ok(spec) = std::env::var("SESSION_BENCH_CALLS") {
        let (row, n) = spec.split_once(':').expect("SESSION_BENCH_CALLS=<row>:<n>");
        let n: usize = n.parse().expect("a number of calls");
        let bytes = match row {
            "machines" => {
                let mut m = Machines::new();
                (0..n).map(|_| black_box(m.call())).sum::<usize>()
            }
            "endpoints" => {
                let mut p = Pair::connect();
                (0..n).map(|_| black_box(p.call())).sum::<usize>()
            }
            other => panic!("unknown row {other:?}: machines or endpoints"),
        };
        println!("{row}: {n} calls, {bytes} bytes");
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
