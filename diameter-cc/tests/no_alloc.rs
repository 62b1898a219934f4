//! Zero allocation, as in `core`: whole credit-control sessions make no
//! heap allocation, first between the session machines driven by hand
//! (the client machines and the credit-control server's session, every
//! message encoded into a buffer on the stack, parsed, validated and
//! answered), then through two endpoints joined by hand (a SIP proxy's
//! client endpoint and a charging server's endpoint, bytes moved between
//! them in a small loop: prepaid, postpaid and accounting calls). The
//! shared counting allocator counts the allocations of the measuring
//! thread only; a self-check proves it counts.

use std::hint::black_box;
use std::time::Duration;

use diameter_cc::client::accounting::{AccountingEvent, CallInfo};
use diameter_cc::client::postpaid::{PostpaidClient, PostpaidConfig, PostpaidEvent, PostpaidState};
use diameter_cc::client::prepaid::{PrepaidClient, PrepaidConfig, PrepaidEvent, PrepaidState};
use diameter_cc::client::Parties;
use diameter_cc::endpoint::{Endpoint, EndpointConfig, Event, PeerHandle, SessionEvent};
use diameter_cc::msg::Ccr;
use diameter_cc::server::accounting::{
    AccountingRecord, AccountingServerConfig, AccountingSink, SinkError,
};
use diameter_cc::server::credit_control::{
    Balances, CcServer, CcServerConfig, CcServerSession, Rating,
};
use diameter_cc::session::{
    session_id_from, Ctx, Failure, Machine, Node, RequestFailed, Transmit, WallClock,
};
use diameter_cc::CreditControl;
use diameter_core::dict::base::{self, TerminationCause};
use diameter_core::peer::{self, Incoming, Role};
use diameter_core::time::{earliest, Instant};
use diameter_core::{EncodeError, Message, ResultCode, RxBuf};
use diameter_sim::alloc::{allocations, assert_counting};
use diameter_sim::fixtures::{self, CLIENT, CONTEXT, EPOCH, REALM, SERVER};

#[global_allocator]
static ALLOC: diameter_sim::alloc::CountingAlloc = diameter_sim::alloc::CountingAlloc;

#[test]
fn the_allocation_counter_counts() {
    assert_counting();
    let (_, n) = allocations(|| black_box(Vec::<u8>::with_capacity(1)));
    assert_eq!(n, 1);
    let (_, n) = allocations(|| black_box(String::from("x")).len());
    assert_eq!(n, 1);
    let (_, n) = allocations(|| black_box([0u8; 64]));
    assert_eq!(n, 0);
    // another thread's allocations are not counted: spawning costs the
    // same whether the thread allocates 100 times or not at all
    let spawn = |k: usize| {
        allocations(|| {
            std::thread::scope(|s| {
                s.spawn(|| {
                    (0..k)
                        .map(|i| black_box(vec![0u8; i + 1]).len())
                        .sum::<usize>()
                })
                .join()
                .unwrap()
            })
        })
        .1
    };
    assert_eq!(spawn(100), spawn(0));
}

/// Parse and validate once, as the peer machine does on receipt: the
/// message comes out marked validated.
fn checked(bytes: &[u8]) -> Message<'_> {
    Message::new_checked(bytes)
        .and_then(|m| m.validated(&CreditControl))
        .unwrap()
}

/// Write the identifiers the machines leave at zero, as whoever sends a
/// request must: a new Hop-by-Hop id, and the End-to-End id (the first
/// attempt's, with the T flag, for a retransmission, RFC 6733 §5.5.4).
fn write_ids(bytes: &mut [u8], t: &Transmit, hop_by_hop: u32) -> u32 {
    let e2e = t.end_to_end.unwrap_or(hop_by_hop ^ 0xe2e0_0000);
    bytes[12..16].copy_from_slice(&hop_by_hop.to_be_bytes());
    bytes[16..20].copy_from_slice(&e2e.to_be_bytes());
    if t.end_to_end.is_some() {
        bytes[4] |= 0x10;
    }
    e2e
}

// ---------------------------------------------------------------------------
// The machines, driven by hand
// ---------------------------------------------------------------------------

/// Outputs seen, without a collection: (events, CCRs, answers to the
/// server, last event).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    events: u32,
    ccrs: u32,
    answers: u32,
    finished: bool,
}

/// Both nodes, the client's settings and the credit-control server with
/// its one session.
struct Machines {
    client: Node,
    server_node: Node,
    config: PrepaidConfig,
    server: CcServer<Balances<8>>,
    session: Option<CcServerSession>,
    hbh: u32,
}

impl Machines {
    fn new(server: CcServer<Balances<8>>) -> Self {
        let clock = WallClock::new(EPOCH);
        Machines {
            client: Node::new(CLIENT, REALM, clock).unwrap(),
            server_node: Node::new(SERVER, REALM, clock).unwrap(),
            config: PrepaidConfig::new(REALM, CONTEXT)
                .and_then(|c| c.with_destination_host(SERVER))
                .unwrap(),
            server,
            session: None,
            hbh: 0,
        }
    }

    /// The server answers a CCR: a new session for the CCR-I, then the
    /// session answers its own CCRs.
    fn serve(
        &mut self,
        now: Instant,
        req: &Message<'_>,
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        let server: &mut CcServer<dyn Rating> = &mut self.server;
        match self.session.as_mut() {
            Some(s) => s.handle_request(Ctx::new(&self.server_node, server), now, req, false, out),
            None => {
                let ccr = Ccr::decode(req).unwrap();
                let (s, len) = server.handle_new(&self.server_node, now, req, &ccr, out);
                self.session = s;
                len
            }
        }
    }
}

/// Move every CCR to the server and its CCA back: all in stack buffers.
fn exchange(now: Instant, c: &mut PrepaidClient, m: &mut Machines, tally: &mut Tally) {
    loop {
        while let Some(e) = c.poll_event() {
            tally.events += 1;
            tally.finished |= e == PrepaidEvent::Finished;
        }
        let mut buf = [0u8; 2048];
        let Some(t) = c.poll_transmit(Ctx::new(&m.client, &mut m.config), now, &mut buf) else {
            break;
        };
        let t = t.unwrap();
        m.hbh += 1;
        write_ids(&mut buf[..t.len], &t, m.hbh);
        let req = checked(&buf[..t.len]);
        let mut abuf = [0u8; 2048];
        let len = m.serve(now, &req, &mut abuf).unwrap();
        let ans = checked(&abuf[..len]);
        assert_eq!(ans.hop_by_hop(), m.hbh);
        c.handle_answer(Ctx::new(&m.client, &mut m.config), now, t.request, &ans);
        tally.ccrs += 1;
    }
}

/// The server's session sends a request (RAR): the client answers it.
fn server_request(now: Instant, c: &mut PrepaidClient, m: &mut Machines, tally: &mut Tally) {
    let server: &mut CcServer<dyn Rating> = &mut m.server;
    let s = m.session.as_mut().unwrap();
    let mut rbuf = [0u8; 512];
    let t = s
        .poll_transmit(Ctx::new(&m.server_node, server), now, &mut rbuf)
        .unwrap()
        .unwrap();
    m.hbh += 1;
    write_ids(&mut rbuf[..t.len], &t, m.hbh);
    let rar = checked(&rbuf[..t.len]);
    let mut abuf = [0u8; 512];
    let len = c
        .handle_request(
            Ctx::new(&m.client, &mut m.config),
            now,
            &rar,
            false,
            &mut abuf,
        )
        .unwrap();
    let raa = checked(&abuf[..len]);
    // RFC 8506 §5.5: 2002 DIAMETER_LIMITED_SUCCESS, a CCR-U follows
    assert_eq!(raa.get(&base::RESULT_CODE).unwrap(), Some(2002));
    s.handle_answer(Ctx::new(&m.server_node, server), now, t.request, &raa);
    tally.answers += 1;
}

#[test]
fn a_prepaid_session_allocates_nothing() {
    let parties = Parties::new("1001", "1002").unwrap();
    let (tally, n) = allocations(|| {
        let mut bal = Balances::<8>::new();
        bal.set("1001", 3600);
        let mut scfg = CcServerConfig::new();
        scfg.validity_time = Some(30);
        let mut m = Machines::new(CcServer::new(scfg, bal));
        let mut c = PrepaidClient::new(session_id_from("sip-call-na@client").unwrap(), parties);
        let mut tally = Tally::default();
        // INVITE: CCR-I, answer: CCR-U
        c.call_setup(Ctx::new(&m.client, &mut m.config), Instant::ZERO);
        exchange(Instant::ZERO, &mut c, &mut m, &mut tally);
        let ta = Instant::from_secs(3);
        c.call_answered(Ctx::new(&m.client, &mut m.config), ta);
        exchange(ta, &mut c, &mut m, &mut tally);
        // Validity-Time runs out: CCR-U
        let t = c.poll_timeout().unwrap();
        assert_eq!(t, Instant::from_secs(30));
        c.handle_timeout(Ctx::new(&m.client, &mut m.config), t);
        exchange(t, &mut c, &mut m, &mut tally);
        // the server re-authorises: RAR → RAA + CCR-U
        assert!(m.session.as_mut().unwrap().reauthorize());
        let now = t + Duration::from_secs(5);
        server_request(now, &mut c, &mut m, &mut tally);
        exchange(now, &mut c, &mut m, &mut tally);
        // hangup: CCR-T
        let end = Instant::from_secs(70);
        c.call_ended(end, TerminationCause::Logout);
        exchange(end, &mut c, &mut m, &mut tally);
        assert_eq!(c.state(), PrepaidState::Ended);
        assert!(c.is_closed());
        let s = m.session.as_mut().unwrap();
        assert!(!s.is_open());
        assert_eq!(s.used(), 67);
        while s.poll_event().is_some() {}
        assert_eq!(m.server.rating().balance("1001"), Some(3600 - 67));
        tally
    });
    assert_eq!(n, 0, "allocations in a prepaid session");
    // CCR-I, CCR-U (answer), CCR-U (validity), CCR-U (RAR), CCR-T; one RAA
    assert_eq!(tally.ccrs, 5);
    assert_eq!(tally.answers, 1);
    assert!(tally.finished);
}

#[test]
fn a_postpaid_session_allocates_nothing() {
    let parties = Parties::new("1001", "1002").unwrap();
    let (charged, n) = allocations(|| {
        let clock = WallClock::new(EPOCH);
        let node = Node::new(CLIENT, REALM, clock).unwrap();
        let server_node = Node::new(SERVER, REALM, clock).unwrap();
        let mut cfg = PostpaidConfig::new(REALM, CONTEXT).unwrap();
        let mut bal = Balances::<8>::new();
        bal.set("1001", 3600);
        let mut server = CcServer::new(CcServerConfig::new(), bal);
        let mut c = PostpaidClient::new(session_id_from("sip-call-pp@client").unwrap(), parties);
        c.call_answered(Instant::from_secs(4));
        c.call_ended(Instant::from_secs(71));
        let now = Instant::from_secs(71);
        let mut buf = [0u8; 2048];
        // the first CCR-Event is lost: no answer by its deadline (Tx)
        let t = c
            .poll_transmit(Ctx::new(&node, &mut cfg), now, &mut buf)
            .unwrap()
            .unwrap();
        assert_eq!(t.end_to_end, None);
        let e2e = write_ids(&mut buf[..t.len], &t, 1);
        let failed = RequestFailed {
            request: t.request,
            failure: Failure::TimedOut,
            end_to_end: Some(e2e),
        };
        c.handle_request_failed(Ctx::new(&node, &mut cfg), t.deadline, failed);
        assert_eq!(c.poll_event(), Some(PostpaidEvent::Buffered));
        // stored, and sent again with the T flag and the same End-to-End id
        let retry = c.poll_timeout().unwrap();
        c.handle_timeout(Ctx::new(&node, &mut cfg), retry);
        let t = c
            .poll_transmit(Ctx::new(&node, &mut cfg), retry, &mut buf)
            .unwrap()
            .unwrap();
        assert_eq!(t.end_to_end, Some(e2e));
        write_ids(&mut buf[..t.len], &t, 2);
        let req = checked(&buf[..t.len]);
        assert!(req.flags().is_retransmit());
        let ccr = Ccr::decode(&req).unwrap();
        let mut abuf = [0u8; 1024];
        let (session, len) = server.handle_new(&server_node, retry, &req, &ccr, &mut abuf);
        assert!(session.is_none(), "a one-time event keeps no session");
        let ans = checked(&abuf[..len.unwrap()]);
        c.handle_answer(Ctx::new(&node, &mut cfg), retry, t.request, &ans);
        let mut charged = None;
        while let Some(e) = c.poll_event() {
            if let PostpaidEvent::Charged(rc) = e {
                charged = Some(rc.0);
            }
        }
        assert_eq!(c.state(), PostpaidState::Ended);
        assert_eq!(server.rating().balance("1001"), Some(3600 - 67));
        charged
    });
    assert_eq!(n, 0, "allocations in a postpaid session");
    assert_eq!(charged, Some(2001));
}

// ---------------------------------------------------------------------------
// Two endpoints joined by hand
// ---------------------------------------------------------------------------

/// Stores nothing, counts records: a sink that does not allocate (the
/// fixtures' `Records` keeps every record in a `Vec` of `String`s).
#[derive(Debug, Default)]
struct CountingSink {
    records: u32,
}

impl AccountingSink for CountingSink {
    fn record(&mut self, _rec: &AccountingRecord<'_>) -> Result<(), SinkError> {
        self.records += 1;
        Ok(())
    }
}

type ClientEp = fixtures::Client<2, 16>;
type ServerEp = Endpoint<Balances<8>, CountingSink, 2, 16>;

/// The charging server of the fixtures ([`SERVER`], the fixture identity),
/// rated by [`Balances`] rather than the fixtures' `Ledger`, whose maps of
/// `String`s allocate on every reservation.
fn server() -> Box<ServerEp> {
    let config = EndpointConfig::new(fixtures::peer_config(SERVER), WallClock::new(EPOCH));
    let mut balances = Balances::<8>::new();
    balances.set("1001", 1_000_000);
    Box::new(
        Endpoint::new(config, Instant::ZERO)
            .with_credit_control(CcServerConfig::new(), balances)
            .with_accounting(AccountingServerConfig::new(), CountingSink::default()),
    )
}

/// What the client's application heard, counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Heard {
    allowed: u32,
    charged: u32,
    acknowledged: u32,
    finished: u32,
    closed: u32,
    server_opened: u32,
    server_closed: u32,
}

/// A client endpoint and a server endpoint, one connection between them:
/// the transport is this loop (framing with [`RxBuf`], as a real one).
struct Pair {
    client: Box<ClientEp>,
    server: Box<ServerEp>,
    cp: PeerHandle,
    sp: Option<PeerHandle>,
    to_server: Box<RxBuf<65536>>,
    to_client: Box<RxBuf<65536>>,
    buf: Box<[u8; 8192]>,
    now: Instant,
    heard: Heard,
}

impl Pair {
    fn connect() -> Self {
        let mut client = fixtures::client::<2, 16>();
        let cp = client.add_peer(Role::Initiator, None).unwrap();
        let mut p = Pair {
            client,
            server: server(),
            cp,
            sp: None,
            to_server: Box::new(RxBuf::new()),
            to_client: Box::new(RxBuf::new()),
            buf: Box::new([0u8; 8192]),
            now: Instant::ZERO,
            heard: Heard::default(),
        };
        p.client.start(p.now);
        p.run_for(Duration::from_millis(100));
        assert!(p.client.peer(cp).unwrap().is_open());
        assert!(p.server.peer(p.sp.unwrap()).unwrap().is_open());
        p
    }

    fn client_event(&mut self, e: Event) {
        match e {
            Event::Peer {
                peer,
                event: peer::Event::Connect,
            } => {
                assert_eq!(peer, self.cp);
                self.sp = Some(self.server.accept(self.now).expect("server slot"));
                self.client.handle_connected(self.now, peer);
            }
            Event::Peer {
                event: peer::Event::Close,
                ..
            } => panic!("the client closed the connection"),
            Event::Session { event, .. } => match event {
                SessionEvent::Prepaid(PrepaidEvent::Allowed { .. }) => self.heard.allowed += 1,
                SessionEvent::Postpaid(PostpaidEvent::Charged(rc)) => {
                    assert_eq!(rc, ResultCode::SUCCESS);
                    self.heard.charged += 1;
                }
                SessionEvent::Accounting(AccountingEvent::RecordAcknowledged { .. }) => {
                    self.heard.acknowledged += 1
                }
                SessionEvent::Prepaid(PrepaidEvent::Finished)
                | SessionEvent::Postpaid(PostpaidEvent::Finished)
                | SessionEvent::Accounting(AccountingEvent::Finished) => self.heard.finished += 1,
                SessionEvent::Closed => self.heard.closed += 1,
                other => panic!("client session event {other:?}"),
            },
            _ => {}
        }
    }

    fn server_event(&mut self, e: Event) {
        match e {
            Event::Peer {
                event: peer::Event::Close,
                ..
            } => panic!("the server closed the connection"),
            Event::Session {
                event: SessionEvent::Opened(_),
                ..
            } => self.heard.server_opened += 1,
            Event::Session {
                event: SessionEvent::Closed,
                ..
            } => self.heard.server_closed += 1,
            _ => {}
        }
    }

    /// Poll both endpoints until neither has anything to say or send.
    fn settle(&mut self) {
        for _ in 0..10_000 {
            let mut progress = false;
            while let Some(e) = self.client.poll_event(self.now) {
                progress = true;
                self.client_event(e);
            }
            while let Some(e) = self.server.poll_event(self.now) {
                progress = true;
                self.server_event(e);
            }
            if let Some(o) = self.client.poll_transmit(self.now, &mut self.buf[..]) {
                progress = true;
                assert_eq!(o.peer, self.cp);
                let sp = self.sp.expect("connected");
                assert_eq!(self.to_server.extend(&self.buf[..o.len]), o.len);
                while let Some(m) = self.to_server.next_message() {
                    let m = m.expect("framing");
                    let r = self.server.handle_message(self.now, sp, m);
                    assert!(matches!(r, Incoming::Handled), "server: {r:?}");
                }
            }
            if let Some(o) = self.server.poll_transmit(self.now, &mut self.buf[..]) {
                progress = true;
                assert_eq!(Some(o.peer), self.sp);
                assert_eq!(self.to_client.extend(&self.buf[..o.len]), o.len);
                while let Some(m) = self.to_client.next_message() {
                    let m = m.expect("framing");
                    let r = self.client.handle_message(self.now, self.cp, m);
                    assert!(matches!(r, Incoming::Handled), "client: {r:?}");
                }
            }
            if !progress {
                return;
            }
        }
        panic!("stuck at {:?}", self.now);
    }

    /// Run every timer due up to `now + d`, then stop there.
    fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        for _ in 0..10_000 {
            self.settle();
            match earliest(self.client.poll_timeout(), self.server.poll_timeout()) {
                Some(t) if t <= until => {
                    self.now = self.now.max(t);
                    self.client.handle_timeout(self.now);
                    self.server.handle_timeout(self.now);
                }
                _ => {
                    self.now = until;
                    self.settle();
                    return;
                }
            }
        }
        panic!("timers stuck at {:?}", self.now);
    }

    fn balance(&self) -> u64 {
        let srv = self.server.credit_control_server().unwrap();
        srv.rating().balance("1001").unwrap()
    }

    /// INVITE, answer after 1 s, 67 s of conversation, BYE (SCENARIOS
    /// prepaid: CCR-I, CCR-U, CCR-T); then the server forgets the session.
    fn prepaid_call(&mut self, sid: &str, parties: &Parties) {
        let before = (self.heard, self.balance());
        let h = self
            .client
            .open_prepaid(self.now, sid, parties.clone())
            .unwrap();
        self.client.call_setup(self.now, h).unwrap();
        self.run_for(Duration::from_secs(1));
        self.client.call_answered(self.now, h).unwrap();
        self.run_for(Duration::from_secs(67));
        self.client
            .call_ended(self.now, h, TerminationCause::Logout)
            .unwrap();
        self.run_for(Duration::from_secs(62));
        assert_eq!(self.heard.allowed, before.0.allowed + 1);
        assert_eq!(self.heard.finished, before.0.finished + 1);
        assert_eq!(self.heard.closed, before.0.closed + 1);
        assert_eq!(self.heard.server_closed, before.0.server_closed + 1);
        assert_eq!(self.balance(), before.1 - 67);
    }

    /// Answered at once, 42 s, BYE: one CCR-Event.
    fn postpaid_call(&mut self, sid: &str, parties: &Parties) {
        let before = (self.heard, self.balance());
        let h = self
            .client
            .open_postpaid(self.now, sid, parties.clone())
            .unwrap();
        self.client.call_setup(self.now, h).unwrap();
        self.client.call_answered(self.now, h).unwrap();
        self.run_for(Duration::from_secs(42));
        self.client
            .call_ended(self.now, h, TerminationCause::Logout)
            .unwrap();
        self.run_for(Duration::from_secs(1));
        assert_eq!(self.heard.charged, before.0.charged + 1);
        assert_eq!(self.heard.finished, before.0.finished + 1);
        assert_eq!(self.heard.closed, before.0.closed + 1);
        assert_eq!(self.balance(), before.1 - 42);
    }

    /// START at answer, STOP 10 s later; then the server forgets the
    /// session.
    fn accounting_call(&mut self, sid: &str) {
        let before = self.heard;
        let stored = self.server.accounting_server().unwrap().sink().records;
        let mut info = CallInfo::new(session_id_from(sid).unwrap());
        info.user_name = Some("1001".try_into().unwrap());
        let h = self.client.open_accounting(self.now, info).unwrap();
        self.client.call_answered(self.now, h).unwrap();
        self.run_for(Duration::from_secs(10));
        self.client
            .call_ended(self.now, h, TerminationCause::Logout)
            .unwrap();
        self.run_for(Duration::from_secs(62));
        assert_eq!(self.heard.acknowledged, before.acknowledged + 2);
        assert_eq!(self.heard.finished, before.finished + 1);
        assert_eq!(self.heard.closed, before.closed + 1);
        assert_eq!(self.heard.server_closed, before.server_closed + 1);
        let sink = self.server.accounting_server().unwrap().sink();
        assert_eq!(sink.records, stored + 2);
    }
}

/// Session-Ids made before measuring.
fn ids(kind: &str) -> Vec<String> {
    (0..4)
        .map(|i| format!("sip-call-{kind}-{i}@proxy"))
        .collect()
}

#[test]
fn a_prepaid_call_through_two_endpoints_allocates_nothing() {
    let mut p = Pair::connect();
    let parties = fixtures::parties();
    let ids = ids("prepaid");
    // warm-up
    p.prepaid_call(&ids[0], &parties);
    let ((), n) = allocations(|| {
        for sid in &ids[1..] {
            p.prepaid_call(sid, &parties);
        }
    });
    assert_eq!(n, 0, "allocations in 3 prepaid calls through the endpoints");
    assert_eq!(p.heard.allowed, 4);
    assert_eq!(p.client.session_count() + p.server.session_count(), 0);
}

#[test]
fn a_postpaid_call_through_two_endpoints_allocates_nothing() {
    let mut p = Pair::connect();
    let parties = fixtures::parties();
    let ids = ids("postpaid");
    p.postpaid_call(&ids[0], &parties);
    let ((), n) = allocations(|| {
        for sid in &ids[1..] {
            p.postpaid_call(sid, &parties);
        }
    });
    assert_eq!(
        n, 0,
        "allocations in 3 postpaid calls through the endpoints"
    );
    assert_eq!(p.heard.charged, 4);
    assert_eq!(p.client.session_count() + p.server.session_count(), 0);
}

#[test]
fn an_accounting_call_through_two_endpoints_allocates_nothing() {
    let mut p = Pair::connect();
    let ids = ids("acct");
    p.accounting_call(&ids[0]);
    let ((), n) = allocations(|| {
        for sid in &ids[1..] {
            p.accounting_call(sid);
        }
    });
    assert_eq!(
        n, 0,
        "allocations in 3 accounting calls through the endpoints"
    );
    assert_eq!(p.heard.acknowledged, 8);
    let stored = p.server.accounting_server().unwrap().sink().records;
    assert_eq!(stored, 8);
    assert_eq!(p.client.session_count() + p.server.session_count(), 0);
}

/// The three kinds at once, as a proxy charging one call prepaid while
/// another runs postpaid and a third is only accounted: sessions of every
/// kind interleave on the one connection, watchdogs included.
#[test]
fn calls_of_every_kind_together_allocate_nothing() {
    let mut p = Pair::connect();
    let parties = fixtures::parties();
    let (pre, post, acct) = (ids("mix-pre"), ids("mix-post"), ids("mix-acct"));
    let round = |p: &mut Pair, i: usize| {
        let now = p.now;
        let a = p
            .client
            .open_prepaid(now, &pre[i], parties.clone())
            .unwrap();
        let b = p
            .client
            .open_postpaid(now, &post[i], parties.clone())
            .unwrap();
        let mut info = CallInfo::new(session_id_from(&acct[i]).unwrap());
        info.user_name = Some("1001".try_into().unwrap());
        let c = p.client.open_accounting(now, info).unwrap();
        for h in [a, b, c] {
            p.client.call_setup(now, h).unwrap();
        }
        p.run_for(Duration::from_secs(2));
        let now = p.now;
        for h in [a, b, c] {
            p.client.call_answered(now, h).unwrap();
        }
        p.run_for(Duration::from_secs(95));
        let now = p.now;
        for h in [a, b, c] {
            p.client
                .call_ended(now, h, TerminationCause::Logout)
                .unwrap();
        }
        p.run_for(Duration::from_secs(62));
    };
    round(&mut p, 0);
    let start = p.heard;
    let ((), n) = allocations(|| {
        for i in 1..4 {
            round(&mut p, i);
        }
    });
    assert_eq!(n, 0, "allocations in 3 rounds of mixed calls");
    assert_eq!(p.heard.allowed - start.allowed, 3);
    assert_eq!(p.heard.charged - start.charged, 3);
    assert_eq!(p.heard.acknowledged - start.acknowledged, 6);
    assert_eq!(p.heard.closed - start.closed, 9);
    assert_eq!(p.balance(), 1_000_000 - 4 * (95 + 95));
    assert_eq!(p.client.session_count() + p.server.session_count(), 0);
}
