//! Shared by the accounting tests (`accounting_*.rs`): the SCENARIOS.md
//! identities, a sink that keeps everything, the accounting server as the
//! endpoint holds it ([`AcctServer`]), and [`Sim`]: the accounting client
//! ([`AccountingClient`]) driven against that server in memory, with a fake
//! clock and a fake peer layer (RFC 6733 §8.2, §9; SCENARIOS.md,
//! Accounting).
//!
//! Every ACR the client writes is validated (`Message::new_checked(..)?
//! .validated(&CreditControl)`, what the peer machine does once on the way
//! in) before the server sees it; every ACA likewise before the client sees
//! it. The fake peer plays `Peer::send_request`: it writes the Hop-by-Hop
//! and End-to-End identifiers (a fresh End-to-End id for a new request, the
//! one of [`Transmit::end_to_end`] and the T flag for a retransmission, RFC
//! 6733 §5.5.4, §9.4), keeps a pending table by Hop-by-Hop id with the
//! deadline the session chose ([`Transmit::deadline`]), and ends every
//! request exactly once: answered, timed out at its deadline, or handed
//! back by a failed connection. An answer that matches nothing pending is
//! dropped, as the peer machine drops it (RFC 6733 §6.2).
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use diameter_cc::client::accounting::{
    AccountingClient, AccountingConfig, AccountingError, AccountingEvent, CallInfo, SipInfo,
};
use diameter_cc::msg::Acr;
use diameter_cc::server::accounting::{
    AccountingRecord, AccountingServer, AccountingServerConfig, AccountingServerEvent,
    AccountingSink, AcctServerSession, Anomaly, SinkError,
};
use diameter_cc::session::{
    session_id_from, Ctx, Failure, Machine, Node, RequestFailed, Transmit, WallClock,
};
use diameter_cc::CreditControl;
use diameter_core::answer::{error_answer, Identity};
use diameter_core::dict::base::{self, AccountingRecordType};
use diameter_core::peer::{identity_buf, set_retransmit_flag};
use diameter_core::time::{earliest, Instant};
use diameter_core::{
    ApplicationId, CommandCode, EncodeError, Error, ErrorKind, HeaderRepr, Message, MessageBuilder,
    ResultCode,
};

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

/// The SIP Call-ID, used as Session-Id and Acct-Session-Id.
pub const SID: &str = "a84b4c76e66710@pc33.atlanta.example.com";
pub const CLIENT: &str = "client.diameter.test";
pub const SERVER: &str = "server.diameter.test";
pub const REALM: &str = "diameter.test";
/// Unix time at `Instant::ZERO` (2024-01-01T00:00:00Z).
pub const UNIX0: i64 = 1_704_067_200;
pub const NTP_OFFSET: i64 = 2_208_988_800;

/// The client's node (Origin-Host, Origin-Realm, wall clock).
pub fn client_node() -> Node {
    Node::new(CLIENT, REALM, WallClock::new(UNIX0)).unwrap()
}

/// The server's node.
pub fn server_node() -> Node {
    Node::new(SERVER, REALM, WallClock::new(UNIX0)).unwrap()
}

/// Destination-Host the server, 30 s interims; otherwise the defaults
/// (GRANT_AND_STORE, answers awaited 10 s, retry every 5 s, 3 attempts).
pub fn client_config() -> AccountingConfig {
    let mut c = AccountingConfig::new(REALM).unwrap();
    c.destination_host = Some(identity_buf("Destination-Host", SERVER).unwrap());
    c.interim_interval = Some(30);
    c
}

/// The server tells clients 30 s.
pub fn server_config() -> AccountingServerConfig {
    let mut c = AccountingServerConfig::new();
    c.interim_interval = Some(30);
    c
}

pub fn call_info() -> CallInfo {
    let mut info = CallInfo::new(session_id_from(SID).unwrap());
    info.user_name = Some("1001".try_into().unwrap());
    let mut sip = SipInfo::new();
    sip.from_tag = Some("1928301774".try_into().unwrap());
    sip.to_tag = Some("a6c85cf".try_into().unwrap());
    sip.response_code = Some(200);
    sip.setup_time = Some(3);
    sip.avps.push("callee:1002".try_into().unwrap()).unwrap();
    info.sip = Some(sip);
    info
}

/// What the sink stored, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub session_id: String,
    pub origin_host: String,
    pub record_type: AccountingRecordType,
    pub number: u32,
    pub retransmission: bool,
    pub acct_session_id: Option<Vec<u8>>,
    pub user_name: Option<String>,
    pub from_tag: Option<String>,
    pub to_tag: Option<String>,
    pub created: Option<u32>,
    pub duration: Option<u32>,
    pub ms_duration: Option<u32>,
}

#[derive(Debug, Default)]
pub struct VecSink {
    pub records: Vec<Stored>,
    pub anomalies: Vec<(String, Anomaly)>,
    /// Fail this many of the next records.
    pub fail_next: u32,
}

impl AccountingSink for VecSink {
    fn record(&mut self, r: &AccountingRecord<'_>) -> Result<(), SinkError> {
        if self.fail_next > 0 {
            self.fail_next -= 1;
            return Err(SinkError::OutOfSpace);
        }
        self.records.push(Stored {
            session_id: r.session_id.into(),
            origin_host: r.origin_host.into(),
            record_type: r.record_type,
            number: r.number,
            retransmission: r.retransmission,
            acct_session_id: r.acct_session_id.map(<[u8]>::to_vec),
            user_name: r.user_name.map(String::from),
            from_tag: r.sip_from_tag.map(String::from),
            to_tag: r.sip_to_tag.map(String::from),
            created: r.sip_call_created,
            duration: r.sip_call_duration,
            ms_duration: r.sip_call_ms_duration,
        });
        Ok(())
    }

    fn anomaly(&mut self, session_id: &str, _origin_host: &str, anomaly: Anomaly) {
        self.anomalies.push((session_id.into(), anomaly));
    }
}

// ---------------------------------------------------------------------------
// The server as the endpoint holds it
// ---------------------------------------------------------------------------

/// The accounting server wired the way `diameter_cc::endpoint::Endpoint`
/// wires it (its `on_request` / `new_acct_session`), without peers: a
/// request is validated once (what the peer machine does; an invalid one is
/// answered with `error_answer`), then routed by Session-Id to the session
/// that owns it; an ACR naming no session goes to
/// [`AccountingServer::handle_new`] (an EVENT record is answered
/// statelessly, anything else opens a session), or, when the table is full
/// and it is not an EVENT record, is refused with 3004 DIAMETER_TOO_BUSY
/// (RFC 6733 §7.1.3: no live session is evicted).
pub struct AcctServer {
    pub node: Node,
    pub server: AccountingServer<VecSink>,
    pub sessions: Vec<AcctServerSession>,
    pub capacity: usize,
    /// Every event of the shared server ([`AccountingServer::poll_event`]),
    /// in order.
    pub server_events: Vec<AccountingServerEvent>,
    /// Every event of the sessions, in order.
    pub session_events: Vec<AccountingServerEvent>,
    /// Sessions closed (lingered after their STOP, or idle).
    pub closed: Vec<String>,
    /// Requests the "peer machine" rejected before any session saw them.
    pub invalid: usize,
    /// (Origin-Host, End-to-End id) of every request seen: RFC 6733 §6.5
    /// duplicate detection, as the peer machine reports it.
    seen: BTreeSet<(String, u32)>,
}

impl AcctServer {
    pub fn new(config: AccountingServerConfig, capacity: usize) -> Self {
        AcctServer {
            node: server_node(),
            server: AccountingServer::new(config, VecSink::default()),
            sessions: Vec::new(),
            capacity,
            server_events: Vec::new(),
            session_events: Vec::new(),
            closed: Vec::new(),
            invalid: 0,
            seen: BTreeSet::new(),
        }
    }

    pub fn sink(&self) -> &VecSink {
        self.server.sink()
    }

    pub fn sink_mut(&mut self) -> &mut VecSink {
        self.server.sink_mut()
    }

    /// The numbers the sink stored for `sid`, in order.
    pub fn stored_numbers_of(&self, sid: &str) -> Vec<u32> {
        self.sink()
            .records
            .iter()
            .filter(|r| r.session_id == sid)
            .map(|r| r.number)
            .collect()
    }

    pub fn session(&self, sid: &str) -> Option<&AcctServerSession> {
        self.sessions.iter().find(|s| s.session_id() == sid)
    }

    /// Serve one request; the answer, parsed and validated.
    #[track_caller]
    pub fn serve(&mut self, now: Instant, request: &[u8]) -> Vec<u8> {
        let mut out = [0u8; 2048];
        let len = self
            .serve_into(now, request, &mut out)
            .expect("answer encodes");
        let a = out[..len].to_vec();
        Message::new_checked(&a)
            .and_then(|m| m.validated(&CreditControl))
            .expect("the answer validates");
        a
    }

    /// Serve one request into `out`.
    pub fn serve_into(
        &mut self,
        now: Instant,
        request: &[u8],
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        let me = Identity {
            origin_host: SERVER,
            origin_realm: REALM,
        };
        let msg = match Message::new_checked(request).and_then(|m| m.validated(&CreditControl)) {
            Ok(m) => m,
            Err(e) => {
                self.invalid += 1;
                return error_answer(request, &e, &me, &CreditControl, out)?
                    .finish()
                    .map(<[u8]>::len);
            }
        };
        let host = msg
            .get(&base::ORIGIN_HOST)
            .ok()
            .flatten()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let first = self.seen.insert((host, msg.end_to_end()));
        let duplicate = msg.flags().is_retransmit() && !first;
        let Self {
            node,
            server,
            sessions,
            ..
        } = self;
        let shared: &mut AccountingServer<dyn AccountingSink> = server;
        let owner = msg
            .session_id()
            .and_then(|sid| sessions.iter_mut().find(|s| s.session_id() == sid));
        let r = if let Some(s) = owner {
            s.handle_request(Ctx::new(node, shared), now, &msg, duplicate, out)
        } else if msg.command_code() != CommandCode::ACCOUNTING {
            // The endpoint hands other applications' requests to its caller.
            let e = Error::new(ErrorKind::CommandUnsupported);
            error_answer(request, &e, &me, &CreditControl, out)?
                .finish()
                .map(<[u8]>::len)
        } else {
            match Acr::decode(&msg) {
                Err(_) => server.refuse(node, &msg, ResultCode::UNABLE_TO_COMPLY, out),
                Ok(acr)
                    if acr.accounting_record_type != AccountingRecordType::EventRecord
                        && sessions.len() >= self.capacity =>
                {
                    server.refuse(node, &msg, ResultCode::TOO_BUSY, out)
                }
                Ok(acr) => {
                    let (s, r) = server.handle_new(node, now, &msg, &acr, out);
                    if let Some(s) = s {
                        sessions.push(s);
                    }
                    r
                }
            }
        };
        self.collect();
        r
    }

    /// The sessions' timers (the duplicate window after the STOP, the idle
    /// timeout); closed sessions leave the table.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Self {
            node,
            server,
            sessions,
            ..
        } = self;
        let shared: &mut AccountingServer<dyn AccountingSink> = server;
        for s in sessions.iter_mut() {
            if s.poll_timeout().is_some_and(|t| t <= now) {
                s.handle_timeout(Ctx::new(node, &mut *shared), now);
            }
        }
        self.collect();
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.sessions
            .iter()
            .fold(None, |t, s| earliest(t, s.poll_timeout()))
    }

    fn collect(&mut self) {
        while let Some(e) = self.server.poll_event() {
            self.server_events.push(e);
        }
        for s in &mut self.sessions {
            while let Some(e) = s.poll_event() {
                self.session_events.push(e);
            }
        }
        let closed = &mut self.closed;
        self.sessions.retain(|s| {
            if s.is_closed() {
                closed.push(s.session_id().to_owned());
            }
            !s.is_closed()
        });
    }
}

// ---------------------------------------------------------------------------
// The simulation
// ---------------------------------------------------------------------------

/// What happens to one transmission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Answered after the latency.
    Deliver,
    /// The request never reaches the server: it times out at its deadline.
    LoseRequest,
    /// The server handles it, the answer is lost: it times out.
    LoseAnswer,
    /// The answer arrives twice (the peer drops the second one).
    DuplicateAnswer,
    /// The server's sink fails once (ACA 4002).
    SinkFails,
    /// The connection fails before the request reaches the server: handed
    /// back after the latency (RFC 6733 §5.5.4).
    HandedBack,
    /// The server stores the record, then the connection fails before the
    /// answer arrives: handed back.
    HandedBackAfterServer,
}

#[derive(Debug, Clone)]
enum Delivery {
    Answer { hbh: u32, bytes: Vec<u8> },
    Deadline { hbh: u32 },
    HandBack { hbh: u32 },
}

/// One message on the wire.
#[derive(Debug, Clone)]
pub struct Wire {
    pub at: Instant,
    pub bytes: Vec<u8>,
}

/// One transmission by the client, as the peer saw it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sent {
    pub at: Instant,
    pub number: u32,
    pub kind: AccountingRecordType,
    pub t_flag: bool,
    pub end_to_end: u32,
    pub deadline: Instant,
}

pub type FateFn = Box<dyn FnMut(&Sent) -> Fate>;

/// Client + server + fake peer layer + fake clock.
pub struct Sim<const N: usize> {
    pub now: Instant,
    pub node: Node,
    pub cfg: AccountingConfig,
    pub client: AccountingClient<N>,
    pub server: AcctServer,
    pub fate: FateFn,
    pub latency: u64,
    pending: Vec<(Instant, u64, Delivery)>,
    seq: u64,
    next_e2e: u32,
    next_hbh: u32,
    /// The peer's pending table: Hop-by-Hop id → (record, End-to-End id).
    in_flight: BTreeMap<u32, (u32, u32)>,
    pub first_e2e: BTreeMap<u32, u32>,
    pub requests: Vec<Wire>,
    pub answers: Vec<Wire>,
    pub sent: Vec<Sent>,
    pub events: Vec<(Instant, AccountingEvent)>,
    /// Answers that matched nothing pending (dropped, RFC 6733 §6.2).
    pub strays: usize,
    /// When each record of the sink was stored (parallel to its records).
    pub stored_at: Vec<Instant>,
    steps: usize,
}

pub const STEP_BOUND: usize = 400_000;

impl<const N: usize> Sim<N> {
    pub fn new(
        cfg: AccountingConfig,
        sc: AccountingServerConfig,
        info: CallInfo,
        start: Instant,
    ) -> Self {
        Sim {
            now: start,
            node: client_node(),
            cfg,
            client: AccountingClient::new(info),
            server: AcctServer::new(sc, 64),
            fate: Box::new(|_| Fate::Deliver),
            latency: 50,
            pending: Vec::new(),
            seq: 0,
            next_e2e: 0x5000_0000,
            next_hbh: 1,
            in_flight: BTreeMap::new(),
            first_e2e: BTreeMap::new(),
            requests: Vec::new(),
            answers: Vec::new(),
            sent: Vec::new(),
            events: Vec::new(),
            strays: 0,
            stored_at: Vec::new(),
            steps: 0,
        }
    }

    /// The default simulation of the tests: SCENARIOS settings from 0 s.
    pub fn scenario() -> Self {
        Sim::new(client_config(), server_config(), call_info(), Instant::ZERO)
    }

    pub fn at(&self, secs: f64) -> Instant {
        Instant((secs * 1000.0) as u64)
    }

    /// Nothing pending in the fake peer.
    pub fn idle(&self) -> bool {
        self.pending.is_empty() && self.in_flight.is_empty()
    }

    fn schedule(&mut self, at: Instant, d: Delivery) {
        self.seq += 1;
        self.pending.push((at, self.seq, d));
    }

    /// Poll in the documented order after an input.
    pub fn pump(&mut self) {
        // RFC 6733 §9.4: one pending INTERIM at most, so a session never
        // stores more than START, INTERIM and STOP.
        assert!(
            self.client.unacknowledged() <= 3,
            "more than one pending interim"
        );
        self.drain_events();
        let mut buf = [0u8; 2048];
        while let Some(t) =
            self.client
                .poll_transmit(Ctx::new(&self.node, &mut self.cfg), self.now, &mut buf)
        {
            self.steps += 1;
            assert!(self.steps < STEP_BOUND, "step bound");
            let t: Transmit = t.expect("ACR encodes");
            self.send(t, buf[..t.len].to_vec());
        }
        self.drain_events();
    }

    fn drain_events(&mut self) {
        while let Some(e) = self.client.poll_event() {
            self.events.push((self.now, e));
        }
    }

    /// The fake peer's `send_request`, then the wire and the server.
    fn send(&mut self, t: Transmit, mut bytes: Vec<u8>) {
        // Requests are encoded with zero identifiers; whoever sends them
        // writes them.
        assert_eq!(&bytes[12..20], &[0; 8], "ids left to the sender");
        // The session owns the answer timer: AccountingConfig::answer_timeout.
        assert_eq!(t.deadline, self.now + self.cfg.answer_timeout, "deadline");
        let e2e = match t.end_to_end {
            Some(id) => {
                // RFC 6733 §5.5.4, §9.4: a retransmission carries the T flag
                // and the End-to-End id of the first attempt.
                set_retransmit_flag(&mut bytes);
                id
            }
            None => {
                self.next_e2e += 1;
                self.next_e2e
            }
        };
        let hbh = self.next_hbh;
        self.next_hbh += 1;
        bytes[12..16].copy_from_slice(&hbh.to_be_bytes());
        bytes[16..20].copy_from_slice(&e2e.to_be_bytes());
        let req = Message::new_checked(&bytes)
            .and_then(|m| m.validated(&CreditControl))
            .expect("ACR validates");
        let number = req.require(&base::ACCOUNTING_RECORD_NUMBER).unwrap();
        assert_eq!(number, t.request, "Transmit::request is the record number");
        let sent = Sent {
            at: self.now,
            number,
            kind: req.require(&base::ACCOUNTING_RECORD_TYPE).unwrap(),
            t_flag: req.flags().is_retransmit(),
            end_to_end: e2e,
            deadline: t.deadline,
        };
        self.sent.push(sent);
        self.first_e2e.entry(number).or_insert(e2e);
        self.requests.push(Wire {
            at: self.now,
            bytes: bytes.clone(),
        });
        self.in_flight.insert(hbh, (number, e2e));
        self.schedule(t.deadline, Delivery::Deadline { hbh });
        let fate = (self.fate)(&sent);
        let lat = Instant(self.now.0 + self.latency);
        match fate {
            Fate::LoseRequest => return,
            Fate::HandedBack => {
                self.schedule(lat, Delivery::HandBack { hbh });
                return;
            }
            Fate::SinkFails => self.server.sink_mut().fail_next = 1,
            _ => {}
        }
        let before = self.server.sink().records.len();
        let aca = self.server.serve(self.now, &bytes);
        self.server.sink_mut().fail_next = 0;
        let after = self.server.sink().records.len();
        self.stored_at.extend((before..after).map(|_| self.now));
        self.answers.push(Wire {
            at: self.now,
            bytes: aca.clone(),
        });
        let (h, _) = HeaderRepr::parse(&aca).unwrap();
        assert_eq!((h.hop_by_hop, h.end_to_end), (hbh, e2e));
        match fate {
            Fate::LoseAnswer => {}
            Fate::HandedBackAfterServer => self.schedule(lat, Delivery::HandBack { hbh }),
            Fate::DuplicateAnswer => {
                self.schedule(
                    lat,
                    Delivery::Answer {
                        hbh,
                        bytes: aca.clone(),
                    },
                );
                self.schedule(Instant(lat.0 + 1), Delivery::Answer { hbh, bytes: aca });
            }
            _ => self.schedule(lat, Delivery::Answer { hbh, bytes: aca }),
        }
    }

    fn deliver(&mut self, d: Delivery) {
        let cx = Ctx::new(&self.node, &mut self.cfg);
        match d {
            Delivery::Answer { hbh, bytes } => {
                let m = Message::new_checked(&bytes)
                    .and_then(|m| m.validated(&CreditControl))
                    .unwrap();
                match self.in_flight.remove(&hbh) {
                    Some((n, _)) => self.client.handle_answer(cx, self.now, n, &m),
                    None => self.strays += 1,
                }
            }
            Delivery::Deadline { hbh } => {
                if let Some((n, e2e)) = self.in_flight.remove(&hbh) {
                    let f = RequestFailed {
                        request: n,
                        failure: Failure::TimedOut,
                        end_to_end: Some(e2e),
                    };
                    self.client.handle_request_failed(cx, self.now, f);
                }
            }
            Delivery::HandBack { hbh } => {
                if let Some((n, e2e)) = self.in_flight.remove(&hbh) {
                    let f = RequestFailed {
                        request: n,
                        failure: Failure::HandedBack,
                        end_to_end: Some(e2e),
                    };
                    self.client.handle_request_failed(cx, self.now, f);
                }
            }
        }
    }

    /// Run every timer and delivery up to `t`, then set the clock to `t`.
    pub fn run_until(&mut self, t: Instant) {
        loop {
            self.steps += 1;
            assert!(self.steps < STEP_BOUND, "step bound: endless loop?");
            let net = self.pending.iter().map(|p| (p.0, p.1)).min();
            let timer = earliest(self.client.poll_timeout(), self.server.poll_timeout());
            let next = match (net.map(|n| n.0), timer) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => a.or(b).unwrap_or(Instant(u64::MAX)),
            };
            if next > t {
                break;
            }
            self.now = self.now.max(next);
            if let Some((at, seq)) = net.filter(|n| n.0 <= self.now) {
                let i = self
                    .pending
                    .iter()
                    .position(|p| p.0 == at && p.1 == seq)
                    .unwrap();
                let (_, _, d) = self.pending.remove(i);
                self.deliver(d);
            } else {
                self.client
                    .handle_timeout(Ctx::new(&self.node, &mut self.cfg), self.now);
                self.server.handle_timeout(self.now);
            }
            self.pump();
        }
        self.now = self.now.max(t);
        self.client
            .handle_timeout(Ctx::new(&self.node, &mut self.cfg), self.now);
        self.server.handle_timeout(self.now);
        self.pump();
    }

    /// An application input (`call_answered`, `call_ended`, `event`), then
    /// the outputs.
    pub fn input(
        &mut self,
        f: impl FnOnce(
            &mut AccountingClient<N>,
            Ctx<'_, AccountingConfig>,
            Instant,
        ) -> Result<(), AccountingError>,
    ) -> Result<(), AccountingError> {
        let r = f(
            &mut self.client,
            Ctx::new(&self.node, &mut self.cfg),
            self.now,
        );
        self.pump();
        r
    }

    pub fn answer_call(&mut self) -> Result<(), AccountingError> {
        self.input(|c, cx, now| c.call_answered(cx, now))
    }

    pub fn end_call(&mut self) -> Result<(), AccountingError> {
        self.input(|c, _, now| c.call_ended(now))
    }

    pub fn event(&mut self) -> Result<(), AccountingError> {
        self.input(|c, _, now| c.event(now))
    }

    pub fn event_list(&self) -> Vec<AccountingEvent> {
        self.events.iter().map(|e| e.1).collect()
    }

    /// The numbers the sink stored, in order.
    pub fn stored_numbers(&self) -> Vec<u32> {
        self.server
            .sink()
            .records
            .iter()
            .map(|r| r.number)
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Messages and AVP assertions
// ---------------------------------------------------------------------------

pub fn s(v: &str) -> Vec<u8> {
    v.as_bytes().to_vec()
}
pub fn u(v: u32) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}
pub fn e(v: i32) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}
/// Event-Timestamp at `secs` after `Instant::ZERO`.
pub fn ts(secs: i64) -> Vec<u8> {
    u((UNIX0 + secs + NTP_OFFSET) as u32)
}

/// Every top-level AVP as (code, data); all vendor 0 with exactly the M flag.
pub fn avps(m: &Message<'_>) -> Vec<(u32, Vec<u8>)> {
    m.iter()
        .map(|a| {
            let a = a.unwrap();
            assert_eq!(a.flags().bits(), 0x40, "AVP {} flags", a.code());
            assert_eq!(a.vendor(), 0);
            (a.code(), a.data().to_vec())
        })
        .collect()
}

#[track_caller]
pub fn assert_avps(bytes: &[u8], want: &[(u32, Vec<u8>)]) {
    let m = Message::new_checked(bytes)
        .and_then(|m| m.validated(&CreditControl))
        .unwrap();
    let got = avps(&m);
    let show = |l: &[(u32, Vec<u8>)]| {
        l.iter()
            .map(|(c, d)| format!("{c}={d:02x?}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(got, want, "\ngot:\n{}\nwant:\n{}", show(&got), show(want));
}

#[track_caller]
pub fn assert_acr_header(bytes: &[u8], t_flag: bool) {
    let (h, _) = HeaderRepr::parse(bytes).unwrap();
    assert_eq!(h.command_code, CommandCode::ACCOUNTING);
    assert_eq!(h.application_id, ApplicationId::BASE_ACCOUNTING);
    assert!(h.flags.is_request() && h.flags.is_proxiable() && !h.flags.is_error());
    assert_eq!(h.flags.is_retransmit(), t_flag);
}

/// The ACR fields every record of the call carries, before the
/// record-specific ones.
pub fn acr_head(kind: i32, number: u32) -> Vec<(u32, Vec<u8>)> {
    vec![
        (263, s(SID)),
        (264, s(CLIENT)),
        (296, s(REALM)),
        (283, s(REALM)),
        (480, e(kind)),
        (485, u(number)),
        (259, u(3)),
        (1, s("1001")),
        (293, s(SERVER)),
        (44, s(SID)),
    ]
}

pub fn sip_tail(status: Option<i32>, method: i32, duration_ms: Option<u32>) -> Vec<(u32, Vec<u8>)> {
    let mut v = vec![(6, e(15))];
    if let Some(st) = status {
        v.push((40, e(st)));
    }
    v.extend([
        (204, e(method)),
        (205, u(200)),
        (206, s("1928301774")),
        (207, s("a6c85cf")),
        (228, u(3)),
        (229, u(UNIX0 as u32)),
    ]);
    if let Some(ms) = duration_ms {
        v.push((227, u(ms.div_ceil(1000))));
        v.push((230, u(ms)));
    }
    v.push((225, s("callee:1002")));
    v
}

pub fn aca_avps(kind: i32, number: u32, rc: u32, extra: &[(u32, Vec<u8>)]) -> Vec<(u32, Vec<u8>)> {
    let mut v = vec![
        (263, s(SID)),
        (268, u(rc)),
        (264, s(SERVER)),
        (296, s(REALM)),
        (480, e(kind)),
        (485, u(number)),
        (259, u(3)),
        (44, s(SID)),
    ];
    v.extend_from_slice(extra);
    v
}

/// A bare ACR for `SID` with the given type and number, from `host`.
pub fn acr(host: &str, kind: AccountingRecordType, number: u32, t_flag: bool) -> Vec<u8> {
    acr_for(SID, host, kind, number, t_flag, 7, 9)
}

/// A bare ACR with every field chosen.
pub fn acr_for(
    sid: &str,
    host: &str,
    kind: AccountingRecordType,
    number: u32,
    t_flag: bool,
    hop_by_hop: u32,
    end_to_end: u32,
) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let mut h = HeaderRepr::request(
        CommandCode::ACCOUNTING,
        ApplicationId::BASE_ACCOUNTING,
        hop_by_hop,
        end_to_end,
    )
    .proxiable(true);
    if t_flag {
        h.flags = h.flags.with(diameter_core::CommandFlags::RETRANSMIT, true);
    }
    let mut b = MessageBuilder::new(&mut buf, h);
    b.put(&base::SESSION_ID, sid)
        .put(&base::ORIGIN_HOST, host)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::DESTINATION_REALM, REALM)
        .put(&base::ACCOUNTING_RECORD_TYPE, kind)
        .put(&base::ACCOUNTING_RECORD_NUMBER, number);
    b.finish().unwrap().to_vec()
}

/// The Result-Code of an answer.
pub fn rc(aca: &[u8]) -> u32 {
    Message::parse(aca)
        .unwrap()
        .get(&base::RESULT_CODE)
        .unwrap()
        .unwrap()
}

/// An answer to the ACR `req` with Result-Code `rc`, valid (RFC 6733
/// §9.7.2: Origin-Host, Origin-Realm and, with `with_record`, the record's
/// type and number).
pub fn answer_for(req: &[u8], rc: u32, with_record: bool) -> Vec<u8> {
    let m = Message::parse(req).unwrap();
    let mut out = [0u8; 512];
    let mut b = MessageBuilder::answer_to(&mut out, &m);
    b.put(&base::RESULT_CODE, rc)
        .put(&base::ORIGIN_HOST, SERVER)
        .put(&base::ORIGIN_REALM, REALM);
    if with_record {
        b.put(
            &base::ACCOUNTING_RECORD_TYPE,
            m.get(&base::ACCOUNTING_RECORD_TYPE).unwrap().unwrap(),
        )
        .put(
            &base::ACCOUNTING_RECORD_NUMBER,
            m.get(&base::ACCOUNTING_RECORD_NUMBER).unwrap().unwrap(),
        );
    }
    b.finish().unwrap().to_vec()
}

/// Parse and validate, as the peer machine hands messages over.
pub fn validated(bytes: &[u8]) -> Message<'_> {
    Message::new_checked(bytes)
        .and_then(|m| m.validated(&CreditControl))
        .unwrap()
}

pub fn drain<const N: usize>(c: &mut AccountingClient<N>) -> Vec<AccountingEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

/// An ACR without Accounting-Record-Number (RFC 6733 §9.7.1 requires it).
pub fn acr_without_number() -> Vec<u8> {
    let mut buf = [0u8; 512];
    let h = HeaderRepr::request(
        CommandCode::ACCOUNTING,
        ApplicationId::BASE_ACCOUNTING,
        1,
        2,
    )
    .proxiable(true);
    let mut b = MessageBuilder::new(&mut buf, h);
    b.put(&base::SESSION_ID, SID)
        .put(&base::ORIGIN_HOST, CLIENT)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::DESTINATION_REALM, REALM)
        .put(
            &base::ACCOUNTING_RECORD_TYPE,
            AccountingRecordType::StartRecord,
        );
    b.finish().unwrap().to_vec()
}

/// A CCR header with the call's Session-Id: not an ACR.
pub fn not_an_acr() -> Vec<u8> {
    let mut buf = [0u8; 512];
    let h = HeaderRepr::request(
        CommandCode::CREDIT_CONTROL,
        ApplicationId::CREDIT_CONTROL,
        1,
        2,
    )
    .proxiable(true);
    let mut b = MessageBuilder::new(&mut buf, h);
    b.put(&base::SESSION_ID, SID)
        .put(&base::ORIGIN_HOST, CLIENT);
    b.finish().unwrap().to_vec()
}

/// A server with the session of `SID` open (its START stored); the
/// session's answers to `requests`, parsed without validation (as the old
/// server got them: the session validates what was not validated).
pub fn session_answers(requests: &[Vec<u8>]) -> (AccountingServer<VecSink>, Vec<Vec<u8>>) {
    let node = server_node();
    let mut server = AccountingServer::new(AccountingServerConfig::new(), VecSink::default());
    let start = acr(CLIENT, AccountingRecordType::StartRecord, 0, false);
    let m = validated(&start);
    let a = diameter_cc::msg::Acr::decode(&m).unwrap();
    let mut out = [0u8; 1024];
    let (session, r) = server.handle_new(&node, Instant::ZERO, &m, &a, &mut out);
    assert_eq!(rc(&out[..r.unwrap()]), 2001);
    let mut session = session.expect("a START opens a session");
    let mut answers = Vec::new();
    for req in requests {
        let m = Message::parse_with(req, &CreditControl).unwrap();
        let shared: &mut AccountingServer<dyn AccountingSink> = &mut server;
        let len = session
            .handle_request(Ctx::new(&node, shared), Instant::ZERO, &m, false, &mut out)
            .unwrap();
        answers.push(out[..len].to_vec());
    }
    (server, answers)
}
