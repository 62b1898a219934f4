//! What the machine-level tests share: the identities, the messages they
//! feed in, and a model of the node that drives one session machine
//! through [`Machine`] the way the endpoint does ([`Wire`]): it writes the
//! identifiers into every request (the End-to-End id and the T flag of a
//! retransmission, RFC 6733 §5.5.4), validates every answer before handing
//! it over (an invalid one becomes [`Failure::InvalidAnswer`]), reports
//! [`Failure::TimedOut`] at the deadline the session chose for the answer,
//! and runs the session's timers in time order.
//!
//! [`ServerNode`] is the same for the server side: one shared
//! [`CcServer`], one [`CcServerSession`] per Session-Id, CCRs of unknown
//! sessions handed to [`CcServer::handle_new`], ended sessions kept until
//! they close (as `Endpoint::on_request` does).

#![allow(dead_code)]

use std::time::Duration;

use diameter_cc::client::Parties;
use diameter_cc::dict::{
    self, CcRequestType, CcSessionFailover, CreditControlFailureHandling as Ccfh, FinalUnitAction,
    RequestedAction,
};
use diameter_cc::msg::{
    CcaRepr, Ccr, CcrRepr, FinalUnitIndicationRepr, MsccRepr, ServiceUnit, SubscriptionId,
};
use diameter_cc::server::credit_control::{
    Balances, CcServer, CcServerConfig, CcServerEvent, CcServerSession, Rating,
};
use diameter_cc::session::{
    session_id_from, Ctx, Failure, Machine, Node, RequestFailed, SessionId, Transmit, WallClock,
};
use diameter_cc::CreditControl;
use diameter_core::answer::{result_answer, Identity};
use diameter_core::dict::base::{self, TerminationCause};
use diameter_core::time::{earliest, Instant};
use diameter_core::{
    ApplicationId, CommandCode, CommandFlags, Error, HeaderRepr, Message, MessageBuilder,
    ResultCode,
};

pub const CLIENT: &str = "client.diameter.test";
/// The client's realm differs from the server's, so that the tests see
/// which one a message is addressed to (RFC 6733 §6.6: an ASR or RAR goes
/// to the client's Origin-Realm).
pub const CLIENT_REALM: &str = "proxy.diameter.test";
pub const SERVER: &str = "server.diameter.test";
/// Another credit-control server of the realm.
pub const SERVER2: &str = "ocs2.diameter.test";
pub const REALM: &str = "diameter.test";
pub const CONTEXT: &str = "voice@OsipsDiamCCR";
pub const SID: &str = "sip-call-tt@client";
pub const SUBSCRIBER: &str = "1001";
/// Unix time at `Instant::ZERO`, and the same as NTP seconds
/// (Event-Timestamp).
pub const UNIX0: i64 = 1_704_067_200;
pub const NTP0: u32 = 3_913_056_000;

pub fn client_node() -> Node {
    Node::new(CLIENT, CLIENT_REALM, WallClock::new(UNIX0)).unwrap()
}

pub fn server_node() -> Node {
    Node::new(SERVER, REALM, WallClock::new(UNIX0)).unwrap()
}

/// 1001 calls 1002.
pub fn parties() -> Parties {
    Parties::new(SUBSCRIBER, "1002").unwrap()
}

pub fn sid(s: &str) -> SessionId {
    session_id_from(s).unwrap()
}

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

/// What the peer does with every received message before a machine sees
/// it: the header, every AVP and the command's grammar, in one walk.
pub fn try_recv(bytes: &[u8]) -> Result<Message<'_>, Error> {
    Message::new_checked(bytes)?.validated(&CreditControl)
}

/// [`try_recv`] of a message that must be valid.
pub fn recv(bytes: &[u8]) -> Message<'_> {
    try_recv(bytes).unwrap_or_else(|e| panic!("invalid message: {e:?}"))
}

/// Write the Hop-by-Hop and End-to-End identifiers.
pub fn set_ids(bytes: &mut [u8], hop_by_hop: u32, end_to_end: u32) {
    bytes[12..16].copy_from_slice(&hop_by_hop.to_be_bytes());
    bytes[16..20].copy_from_slice(&end_to_end.to_be_bytes());
}

/// Set the T flag.
pub fn set_retransmit(bytes: &mut [u8]) {
    bytes[4] |= CommandFlags::RETRANSMIT.0;
}

/// A CCA as a server (or an agent) answers, made to order. A Result-Code
/// 3xxx makes an `<answer-message>` with the E bit (RFC 6733 §7.2):
/// Session-Id, Origin-Host, Origin-Realm, Result-Code, and no
/// CC-Request-Type / -Number, as `error_answer` builds it; the optional
/// AVPs ride along as the grammar's `* [ AVP ]`.
#[derive(Debug, Clone, Copy)]
pub struct CcaSpec {
    pub rc: u32,
    pub request_type: CcRequestType,
    pub number: u32,
    pub gsu: Option<u32>,
    pub validity: Option<u32>,
    pub fui: Option<FinalUnitAction>,
    pub ccfh: Option<Ccfh>,
    pub failover: Option<CcSessionFailover>,
    /// One Multiple-Services-Credit-Control: (Result-Code, GSU CC-Time).
    pub mscc: Option<(Option<u32>, Option<u32>)>,
    pub origin_host: &'static str,
}

impl CcaSpec {
    pub const fn new(rc: u32, request_type: CcRequestType, number: u32) -> Self {
        CcaSpec {
            rc,
            request_type,
            number,
            gsu: None,
            validity: None,
            fui: None,
            ccfh: None,
            failover: None,
            mscc: None,
            origin_host: SERVER,
        }
    }
    pub const fn gsu(mut self, seconds: u32) -> Self {
        self.gsu = Some(seconds);
        self
    }
    pub const fn validity(mut self, seconds: u32) -> Self {
        self.validity = Some(seconds);
        self
    }
    pub fn encode(&self) -> Vec<u8> {
        cca(self)
    }
}

pub fn cca(s: &CcaSpec) -> Vec<u8> {
    let mut buf = [0u8; 1024];
    if (3000..4000).contains(&s.rc) {
        let hdr = HeaderRepr {
            flags: CommandFlags::PROXIABLE | CommandFlags::ERROR,
            command_code: CommandCode::CREDIT_CONTROL,
            application_id: ApplicationId::CREDIT_CONTROL,
            hop_by_hop: 0,
            end_to_end: 0,
        };
        let mut b = MessageBuilder::new(&mut buf, hdr);
        b.put(&base::SESSION_ID, SID)
            .put(&base::ORIGIN_HOST, s.origin_host)
            .put(&base::ORIGIN_REALM, REALM)
            .put(&base::RESULT_CODE, s.rc);
        if let Some(f) = s.ccfh {
            b.put(&dict::CREDIT_CONTROL_FAILURE_HANDLING, f);
        }
        if let Some(g) = s.gsu {
            b.grouped(&dict::GRANTED_SERVICE_UNIT, |gsu| {
                gsu.put(&dict::CC_TIME, g);
            });
        }
        return b.finish().unwrap().to_vec();
    }
    let mscc = s.mscc.map(|(rc, gsu)| MsccRepr {
        result_code: rc.map(ResultCode::new),
        granted_service_unit: gsu.map(ServiceUnit::time),
        ..MsccRepr::EMPTY
    });
    let repr = CcaRepr {
        granted_service_unit: s.gsu.map(ServiceUnit::time),
        validity_time: s.validity,
        final_unit_indication: s.fui.map(FinalUnitIndicationRepr::new),
        credit_control_failure_handling: s.ccfh,
        cc_session_failover: s.failover,
        mscc: mscc.as_slice(),
        ..CcaRepr::new(
            SID,
            ResultCode::new(s.rc),
            s.origin_host,
            REALM,
            s.request_type,
            s.number,
        )
    };
    repr.encode(CcaRepr::header(0, 0), &mut buf)
        .unwrap()
        .to_vec()
}

/// CCA 2001, with a Granted-Service-Unit if `gsu`.
pub fn ok(request_type: CcRequestType, number: u32, gsu: Option<u32>) -> Vec<u8> {
    CcaSpec {
        gsu,
        ..CcaSpec::new(2001, request_type, number)
    }
    .encode()
}

/// A CCA that fails validation (no Origin-Host): the node turns it into
/// [`Failure::InvalidAnswer`].
pub fn invalid_cca() -> Vec<u8> {
    let mut buf = [0u8; 512];
    let mut b = MessageBuilder::new(&mut buf, CcaRepr::header(0, 0));
    b.put(&base::SESSION_ID, SID)
        .put(&base::RESULT_CODE, 2001)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::AUTH_APPLICATION_ID, 4)
        .put(&dict::CC_REQUEST_TYPE, CcRequestType::Update)
        .put(&dict::CC_REQUEST_NUMBER, 1);
    b.finish().unwrap().to_vec()
}

/// A valid RAA: a well-formed answer, but not a CCA. Matched to a CCR by
/// its identifiers, it is an invalid answer for the session.
pub fn raa() -> Vec<u8> {
    let mut buf = [0u8; 256];
    let hdr =
        HeaderRepr::request(CommandCode::RE_AUTH, ApplicationId::CREDIT_CONTROL, 0, 0).answer();
    let mut b = MessageBuilder::new(&mut buf, hdr);
    b.put(&base::SESSION_ID, SID)
        .put(&base::RESULT_CODE, 2001)
        .put(&base::ORIGIN_HOST, SERVER)
        .put(&base::ORIGIN_REALM, REALM);
    b.finish().unwrap().to_vec()
}

/// A request of the server to the client: RAR, ASR, or anything else (an
/// STR here is valid: it carries Termination-Cause).
pub fn server_request(code: CommandCode, session: &str) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let hdr = HeaderRepr::request(code, ApplicationId::CREDIT_CONTROL, 0x51, 0x52).proxiable(true);
    let mut b = MessageBuilder::new(&mut buf, hdr);
    b.put(&base::SESSION_ID, session)
        .put(&base::ORIGIN_HOST, SERVER)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::DESTINATION_REALM, CLIENT_REALM)
        .put(&base::DESTINATION_HOST, CLIENT)
        .put(&base::AUTH_APPLICATION_ID, 4);
    if code == CommandCode::RE_AUTH {
        b.put(
            &base::RE_AUTH_REQUEST_TYPE,
            base::ReAuthRequestType::AuthorizeOnly,
        );
    }
    if code == CommandCode::SESSION_TERMINATION {
        b.put(&base::TERMINATION_CAUSE, TerminationCause::Logout);
    }
    b.finish().unwrap().to_vec()
}

/// A CCR as a client sends it (Hop-by-Hop `number + 100`, End-to-End
/// `number + 200`, so that a copy is a retransmission of the same request).
pub fn ccr(
    session: &str,
    t: CcRequestType,
    number: u32,
    rsu: Option<u32>,
    usu: Option<u32>,
    retransmit: bool,
) -> Vec<u8> {
    let mut buf = [0u8; 1024];
    let subscription = [SubscriptionId::e164(SUBSCRIBER)];
    let used = usu.map(ServiceUnit::time);
    let repr = CcrRepr {
        subscription_ids: &subscription,
        requested_service_unit: rsu.map(ServiceUnit::time),
        requested_action: (t == CcRequestType::Event).then_some(RequestedAction::DirectDebiting),
        used_service_units: used.as_slice(),
        ..CcrRepr::new(session, CLIENT, CLIENT_REALM, REALM, CONTEXT, t, number)
    };
    let mut bytes = repr
        .encode(CcrRepr::header(number + 100, number + 200), &mut buf)
        .unwrap()
        .to_vec();
    if retransmit {
        set_retransmit(&mut bytes);
    }
    bytes
}

/// A CCR without Service-Context-Id: it fails validation with 5005.
pub fn malformed_ccr() -> Vec<u8> {
    let mut buf = [0u8; 512];
    let mut b = MessageBuilder::new(&mut buf, CcrRepr::header(1, 1));
    b.put(&base::SESSION_ID, SID)
        .put(&base::ORIGIN_HOST, CLIENT)
        .put(&base::ORIGIN_REALM, CLIENT_REALM)
        .put(&base::DESTINATION_REALM, REALM)
        .put(&base::AUTH_APPLICATION_ID, 4)
        .put(&dict::CC_REQUEST_TYPE, CcRequestType::Update)
        .put(&dict::CC_REQUEST_NUMBER, 1);
    b.finish().unwrap().to_vec()
}

// ---------------------------------------------------------------------------
// What a machine sent, as the tables spell it
// ---------------------------------------------------------------------------

/// One message out: a CCR (CC-Request-Type code, CC-Request-Number, sent as
/// a retransmission: same End-to-End id, T flag) or an answer to a request
/// (command code, Result-Code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Out {
    Ccr(i32, u32, bool),
    Ans(u32, u32),
}

pub const I: i32 = 1;
pub const U: i32 = 2;
pub const T: i32 = 3;
pub const E: i32 = 4;

/// A CCR as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentCcr {
    pub t: CcRequestType,
    pub number: u32,
    pub retransmission: bool,
    pub usu: Option<u32>,
    pub rsu: Option<u32>,
    pub event_timestamp: u32,
}

impl SentCcr {
    pub fn out(&self) -> Out {
        Out::Ccr(i32::from(self.t), self.number, self.retransmission)
    }
}

pub fn read_ccr(bytes: &[u8]) -> SentCcr {
    let m = recv(bytes);
    assert!(m.is_request());
    let cc_time = |g: diameter_core::AvpSet<'_>| g.get(&dict::CC_TIME).unwrap().unwrap_or(0);
    SentCcr {
        t: m.get(&dict::CC_REQUEST_TYPE).unwrap().unwrap(),
        number: m.get(&dict::CC_REQUEST_NUMBER).unwrap().unwrap(),
        retransmission: m.flags().is_retransmit(),
        usu: m.get(&dict::USED_SERVICE_UNIT).unwrap().map(cc_time),
        rsu: m.get(&dict::REQUESTED_SERVICE_UNIT).unwrap().map(cc_time),
        event_timestamp: m.get(&base::EVENT_TIMESTAMP).unwrap().unwrap().ntp(),
    }
}

/// The command code and Result-Code of an answer.
pub fn read_answer(bytes: &[u8]) -> Out {
    let m = recv(bytes);
    assert!(!m.is_request());
    Out::Ans(
        m.command_code().0,
        m.get(&base::RESULT_CODE).unwrap().unwrap(),
    )
}

/// Destination-Host of a message.
pub fn destination_host(bytes: &[u8]) -> Option<String> {
    recv(bytes)
        .get(&base::DESTINATION_HOST)
        .unwrap()
        .map(str::to_owned)
}

// ---------------------------------------------------------------------------
// The node, as a session sees it
// ---------------------------------------------------------------------------

/// A request as it went out: with its identifiers written.
#[derive(Debug, Clone)]
pub struct Wired {
    pub bytes: Vec<u8>,
    pub t: Transmit,
    pub hop_by_hop: u32,
    pub end_to_end: u32,
}

/// What the session put on the wire, in order.
#[derive(Debug, Clone)]
pub enum Output {
    Request(Wired),
    /// An answer to a request given to `handle_request`.
    Answer(Vec<u8>),
    /// A request that found no peer (reported [`Failure::Unreachable`] at
    /// once): as the session wrote it, without identifiers.
    NoRoute(Vec<u8>, Transmit),
}

/// The request the node waits for an answer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    pub tag: u32,
    pub hop_by_hop: u32,
    pub end_to_end: u32,
    pub deadline: Instant,
}

/// One session machine and the node around it.
pub struct Wire<M: Machine> {
    pub m: M,
    pub node: Node,
    pub now: Instant,
    next_id: u32,
    pub pending: Option<Pending>,
    pub events: Vec<M::Event>,
    pub out: Vec<Output>,
    /// The next request finds no peer: [`Failure::Unreachable`] at once.
    pub unreachable_next: bool,
}

impl<M: Machine> Wire<M> {
    pub fn new(m: M, node: Node, now: Instant) -> Self {
        Wire {
            m,
            node,
            now,
            next_id: 0,
            pending: None,
            events: Vec::new(),
            out: Vec::new(),
            unreachable_next: false,
        }
    }

    /// Poll events and requests, in the driving order of `session`; every
    /// request gets fresh identifiers, a retransmission its first
    /// End-to-End id and the T flag.
    pub fn pump(&mut self, shared: &mut M::Shared) {
        let mut buf = [0u8; 4096];
        loop {
            while let Some(e) = self.m.poll_event() {
                self.events.push(e);
            }
            let Some(t) = self
                .m
                .poll_transmit(Ctx::new(&self.node, shared), self.now, &mut buf)
            else {
                break;
            };
            let t = t.expect("the request encodes");
            if std::mem::take(&mut self.unreachable_next) {
                self.out.push(Output::NoRoute(buf[..t.len].to_vec(), t));
                let failed = RequestFailed {
                    request: t.request,
                    failure: Failure::Unreachable,
                    end_to_end: t.end_to_end,
                };
                self.m
                    .handle_request_failed(Ctx::new(&self.node, shared), self.now, failed);
                continue;
            }
            // RFC 8506 §5.1: one request outstanding at a time.
            assert_eq!(self.pending, None, "a request while one is outstanding");
            assert!(t.deadline > self.now, "deadline {:?} not ahead", t.deadline);
            self.next_id += 1;
            let hop_by_hop = self.next_id;
            let end_to_end = t.end_to_end.unwrap_or(0x5000_0000 + self.next_id);
            let mut bytes = buf[..t.len].to_vec();
            set_ids(&mut bytes, hop_by_hop, end_to_end);
            if t.end_to_end.is_some() {
                set_retransmit(&mut bytes);
            }
            recv(&bytes);
            self.pending = Some(Pending {
                tag: t.request,
                hop_by_hop,
                end_to_end,
                deadline: t.deadline,
            });
            self.out.push(Output::Request(Wired {
                bytes,
                t,
                hop_by_hop,
                end_to_end,
            }));
        }
        while let Some(e) = self.m.poll_event() {
            self.events.push(e);
        }
    }

    /// The answer to the outstanding request (its identifiers written in).
    pub fn answer(&mut self, shared: &mut M::Shared, bytes: &[u8]) {
        let p = self.pending.take().expect("a request waits for the answer");
        let mut bytes = bytes.to_vec();
        set_ids(&mut bytes, p.hop_by_hop, p.end_to_end);
        self.deliver(shared, p.tag, &bytes);
    }

    /// Hand an answer over for request `tag`, whatever is outstanding: an
    /// invalid one as [`Failure::InvalidAnswer`], as the endpoint does.
    pub fn deliver(&mut self, shared: &mut M::Shared, tag: u32, bytes: &[u8]) {
        match try_recv(bytes) {
            Ok(m) => self
                .m
                .handle_answer(Ctx::new(&self.node, shared), self.now, tag, &m),
            Err(e) => {
                // The endpoint passes the answer's End-to-End id on.
                let end_to_end = bytes
                    .get(16..20)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                let failed = RequestFailed {
                    request: tag,
                    failure: Failure::InvalidAnswer(e),
                    end_to_end,
                };
                self.m
                    .handle_request_failed(Ctx::new(&self.node, shared), self.now, failed);
            }
        }
        self.pump(shared);
    }

    /// The outstanding request failed (it went out: its End-to-End id is
    /// given back). False when nothing is outstanding.
    pub fn fail(&mut self, shared: &mut M::Shared, failure: Failure) -> bool {
        let Some(p) = self.pending.take() else {
            return false;
        };
        let failed = RequestFailed {
            request: p.tag,
            failure,
            end_to_end: Some(p.end_to_end),
        };
        self.m
            .handle_request_failed(Ctx::new(&self.node, shared), self.now, failed);
        self.pump(shared);
        true
    }

    /// A request addressed to the session; its answer (also in `out`).
    pub fn request(&mut self, shared: &mut M::Shared, bytes: &[u8]) -> Vec<u8> {
        let m = recv(bytes);
        let duplicate = m.flags().is_retransmit();
        let mut buf = [0u8; 4096];
        let n = self
            .m
            .handle_request(
                Ctx::new(&self.node, shared),
                self.now,
                &m,
                duplicate,
                &mut buf,
            )
            .expect("the answer encodes");
        let a = buf[..n].to_vec();
        let am = recv(&a);
        assert!(!am.is_request());
        assert_eq!(
            (am.hop_by_hop(), am.end_to_end(), am.command_code()),
            (m.hop_by_hop(), m.end_to_end(), m.command_code())
        );
        self.out.push(Output::Answer(a.clone()));
        self.pump(shared);
        a
    }

    /// When something is due: a session timer or the answer deadline.
    pub fn next_timer(&self) -> Option<Instant> {
        earliest(self.m.poll_timeout(), self.pending.map(|p| p.deadline))
    }

    /// Let time pass until `to`, in order: the answer deadline (reported as
    /// [`Failure::TimedOut`]) and the session's timers. After every
    /// `handle_timeout(now)` no timer may be left at or before `now`.
    pub fn advance_to(&mut self, shared: &mut M::Shared, to: Instant) {
        while let Some(next) = self.next_timer().filter(|&t| t <= to) {
            self.now = self.now.max(next);
            if self.pending.is_some_and(|p| p.deadline <= self.now) {
                self.fail(shared, Failure::TimedOut);
            }
            if self.m.poll_timeout().is_some_and(|t| t <= self.now) {
                self.m
                    .handle_timeout(Ctx::new(&self.node, shared), self.now);
                self.pump(shared);
                if let Some(t) = self.m.poll_timeout() {
                    assert!(
                        t > self.now,
                        "timer {t:?} left in the past at {:?}",
                        self.now
                    );
                }
            }
        }
        self.now = self.now.max(to);
    }

    /// [`Wire::advance_to`] `now + d`.
    pub fn advance(&mut self, shared: &mut M::Shared, d: Duration) {
        let to = self.now + d;
        self.advance_to(shared, to);
    }

    /// Events and output so far, and forget them.
    pub fn take(&mut self) -> (Vec<M::Event>, Vec<Output>) {
        (
            std::mem::take(&mut self.events),
            std::mem::take(&mut self.out),
        )
    }
}

/// The output as the tables spell it.
pub fn outs(out: &[Output]) -> Vec<Out> {
    out.iter()
        .map(|o| match o {
            Output::Request(w) => {
                let s = read_ccr(&w.bytes);
                assert_eq!(s.retransmission, w.t.end_to_end.is_some());
                assert_eq!(s.number, w.t.request, "tag is the CC-Request-Number");
                s.out()
            }
            Output::Answer(a) => read_answer(a),
            Output::NoRoute(..) => panic!("no route in a table"),
        })
        .collect()
}

/// The CCRs in an output.
pub fn ccrs(out: &[Output]) -> Vec<SentCcr> {
    out.iter()
        .filter_map(|o| match o {
            Output::Request(w) => Some(read_ccr(&w.bytes)),
            Output::Answer(_) | Output::NoRoute(..) => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The server node
// ---------------------------------------------------------------------------

/// A credit-control server node: the shared server and its sessions.
pub struct ServerNode {
    pub node: Node,
    pub server: CcServer<Balances<8>>,
    pub sessions: Vec<Wire<CcServerSession>>,
    pub now: Instant,
    /// Events of the server and of every session, in order.
    pub events: Vec<CcServerEvent>,
    /// Requests (ASR, RAR) the sessions sent, with their Session-Id.
    pub requests: Vec<(String, Vec<u8>)>,
}

impl ServerNode {
    /// A server whose subscriber 1001 has `balance` seconds.
    pub fn new(config: CcServerConfig, balance: u64) -> Self {
        let mut bal = Balances::<8>::new();
        bal.set(SUBSCRIBER, balance);
        ServerNode {
            node: server_node(),
            server: CcServer::new(config, bal),
            sessions: Vec::new(),
            now: Instant::ZERO,
            events: Vec::new(),
            requests: Vec::new(),
        }
    }

    /// The session of this Session-Id, open or lingering.
    pub fn find(&self, session_id: &str) -> Option<usize> {
        self.sessions
            .iter()
            .position(|w| w.m.session_id() == session_id)
    }

    /// The open session of this Session-Id.
    pub fn session(&self, session_id: &str) -> Option<&CcServerSession> {
        self.find(session_id)
            .map(|i| &self.sessions[i].m)
            .filter(|s| s.is_open())
    }

    pub fn open_sessions(&self) -> usize {
        self.sessions.iter().filter(|w| w.m.is_open()).count()
    }

    /// Collect what the sessions said and sent; forget closed sessions.
    fn collect(&mut self) {
        while let Some(e) = self.server.poll_event() {
            self.events.push(e);
        }
        for w in &mut self.sessions {
            self.events.append(&mut w.events);
            for o in std::mem::take(&mut w.out) {
                if let Output::Request(r) = o {
                    self.requests.push((w.m.session_id().to_owned(), r.bytes));
                }
            }
        }
        self.sessions.retain(|w| !w.m.is_closed());
    }

    /// A request from a client. `Err`: it fails validation, and the peer
    /// answers it (5005...) before any machine sees it; `Ok(None)`: no
    /// session machine takes it (the endpoint hands it to the application).
    pub fn handle(&mut self, bytes: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        let m = try_recv(bytes)?;
        let sid = m.session_id().unwrap_or("").to_owned();
        let a = if let Some(i) = self.find(&sid) {
            let w = &mut self.sessions[i];
            w.now = w.now.max(self.now);
            let shared: &mut CcServer<dyn Rating> = &mut self.server;
            Some(w.request(shared, bytes))
        } else if m.command_code() == CommandCode::CREDIT_CONTROL {
            let c = Ccr::decode(&m).expect("a validated CCR decodes");
            let mut buf = [0u8; 4096];
            let (s, len) = self
                .server
                .handle_new(&self.node, self.now, &m, &c, &mut buf);
            let a = buf[..len.expect("the CCA encodes")].to_vec();
            if let Some(s) = s {
                assert_eq!(c.cc_request_type, CcRequestType::Initial);
                let mut w = Wire::new(s, self.node.clone(), self.now);
                let shared: &mut CcServer<dyn Rating> = &mut self.server;
                w.pump(shared);
                self.sessions.push(w);
            }
            Some(a)
        } else if m.command_code() == CommandCode::RE_AUTH
            || m.command_code() == CommandCode::ABORT_SESSION
        {
            let me = Identity {
                origin_host: SERVER,
                origin_realm: REALM,
            };
            let mut buf = [0u8; 1024];
            let a = result_answer(&m, ResultCode::UNKNOWN_SESSION_ID, &me, &mut buf)
                .finish()
                .unwrap()
                .to_vec();
            Some(a)
        } else {
            None
        };
        self.collect();
        Ok(a)
    }

    /// [`ServerNode::handle`] of a message that must be valid and answered.
    pub fn answer(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.handle(bytes)
            .expect("a valid request")
            .expect("answered by a machine")
    }

    /// The client's answer to a request of session `session_id`.
    pub fn client_answered(&mut self, session_id: &str, bytes: &[u8]) {
        if let Some(i) = self.find(session_id) {
            let w = &mut self.sessions[i];
            w.now = w.now.max(self.now);
            let shared: &mut CcServer<dyn Rating> = &mut self.server;
            if w.pending.is_some() {
                w.answer(shared, bytes);
            }
        }
        self.collect();
    }

    /// Ask the open session to abort (ASR) or re-authorise (RAR); whether
    /// it queued the request.
    pub fn server_request(&mut self, session_id: &str, abort: bool) -> bool {
        let Some(i) = self.find(session_id) else {
            return false;
        };
        let w = &mut self.sessions[i];
        w.now = w.now.max(self.now);
        let queued = if abort {
            w.m.abort()
        } else {
            w.m.reauthorize()
        };
        let shared: &mut CcServer<dyn Rating> = &mut self.server;
        w.pump(shared);
        self.collect();
        queued
    }

    pub fn next_timer(&self) -> Option<Instant> {
        self.sessions
            .iter()
            .fold(None, |t, w| earliest(t, w.next_timer()))
    }

    /// Let time pass until `to` in every session.
    pub fn advance_to(&mut self, to: Instant) {
        for w in &mut self.sessions {
            let shared: &mut CcServer<dyn Rating> = &mut self.server;
            w.advance_to(shared, to);
        }
        self.now = self.now.max(to);
        self.collect();
    }

    pub fn balance(&self) -> u64 {
        self.server.rating().balance(SUBSCRIBER).unwrap()
    }

    /// Seconds a new reservation could get: the balance minus what is
    /// reserved.
    pub fn free(&mut self) -> u64 {
        let r = self.server.rating_mut();
        let g = r.reserve("probe", SUBSCRIBER, "", u32::MAX).unwrap();
        r.release("probe", SUBSCRIBER);
        u64::from(g)
    }

    pub fn take_events(&mut self) -> Vec<CcServerEvent> {
        std::mem::take(&mut self.events)
    }
}

/// What a CCA says: (Result-Code, Granted-Service-Unit CC-Time).
pub fn read_cca(bytes: &[u8]) -> (u32, Option<u32>) {
    let a = recv(bytes);
    assert!(!a.is_request());
    let rc = a.get(&base::RESULT_CODE).unwrap().unwrap();
    assert_eq!(a.flags().is_error(), (3000..4000).contains(&rc));
    let gsu = a
        .get(&dict::GRANTED_SERVICE_UNIT)
        .unwrap()
        .map(|g| g.get(&dict::CC_TIME).unwrap().unwrap());
    (rc, gsu)
}
