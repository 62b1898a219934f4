//! The credit-control server: RFC 8506 §7 server session-based and
//! event-based state machines, with grants from a pluggable [`Rating`].
//!
//! Read RFC 8506 §5 and §6 (session and event charging), §7 (server
//! state machines), §13 (Tcc) and `SCENARIOS.md` (Server behaviour) first.
//!
//! [`CcServer`] keeps a bounded table of sessions keyed by Session-Id and
//! Origin-Host (CGRateS keys them the same way). For each CCR it validates
//! the request, talks to the [`Rating`] (reserve on INITIAL and on an
//! UPDATE asking for more, debit the reported usage, release at the end),
//! and encodes the CCA into the caller's buffer. The session supervision
//! timer Tcc releases sessions whose client went silent. Server-initiated
//! requests (ASR when credit is gone, RAR to force a re-authorisation) come
//! out of [`CcServer::poll_transmit`].
//!
//! Per session (RFC 8506 Table 6): an UPDATE or TERMINATION that is not
//! successfully processed is answered with its Result-Code after debiting
//! the used units, and the session ends (its reservation released). A CCR
//! repeating the last one's CC-Request-Type and CC-Request-Number (a
//! retransmission whose answer was lost, §5.7) gets the same answer again
//! without being rated twice; so does a CCR-Event repeating one of the
//! last few events' Session-Id (§6.5).
//!
//! Result-Codes, following SCENARIOS.md: unknown subscriber 5030
//! (USER_UNKNOWN), no credit 4012 (CREDIT_LIMIT_REACHED) or a zero grant
//! (configurable), unknown session 5002, table full 3004 (TOO_BUSY, E bit),
//! a malformed CCR the codec's precise error (5005 with Failed-AVP...).

use core::hash::Hasher as _;
use core::time::Duration;

use diameter_core::answer::{error_answer, Identity};
use diameter_core::dict::base;
use diameter_core::time::{earliest, Instant};
use diameter_core::{ApplicationId, CommandCode, EncodeError, Error, Message, ResultCode};

use crate::dict::{self, CcRequestType, CreditControl};
use crate::msg::{AsrRepr, CcaRepr, Ccr, RarRepr, ServiceUnit};
use crate::session::SessionId;

/// Longest subscriber or destination kept per session.
pub const MAX_PARTY: usize = 96;

/// A balance store: what a charging system plugs in.
pub trait Rating {
    /// Reserve up to `requested` seconds for `subscriber` calling
    /// `destination`. Returns the seconds granted (0 = no credit left), or
    /// the Result-Code to refuse with (5030 for an unknown subscriber...).
    fn reserve(
        &mut self,
        session: &str,
        subscriber: &str,
        destination: &str,
        requested: u32,
    ) -> Result<u32, ResultCode>;
    /// Debit `used` seconds, drawn from this session's reservation first.
    fn debit(
        &mut self,
        session: &str,
        subscriber: &str,
        destination: &str,
        used: u32,
    ) -> Result<(), ResultCode>;
    /// Give back what is still reserved for the session.
    fn release(&mut self, session: &str, subscriber: &str);
}

/// What to answer when the subscriber has no credit left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NoCredit {
    /// 2001 with Granted-Service-Unit{CC-Time 0} (what CGRateS does).
    ZeroGrant,
    /// 4012 DIAMETER_CREDIT_LIMIT_REACHED (RFC 8506 §9.1).
    CreditLimitReached,
}

/// Server settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CcServerConfig<'a> {
    /// Origin-Host.
    pub origin_host: &'a str,
    /// Origin-Realm.
    pub origin_realm: &'a str,
    /// Tcc, the session supervision timer (RFC 8506 §13; default 10 min).
    pub tcc: Duration,
    /// Most seconds granted at once (the RSU is capped to this).
    pub max_grant: u32,
    /// Seconds granted when the CCR has no Requested-Service-Unit.
    pub default_grant: u32,
    /// Answer for an exhausted balance.
    pub no_credit: NoCredit,
    /// Validity-Time to send with grants, if any.
    pub validity_time: Option<u32>,
    /// Exhaustion supervision: when a client keeps a session beyond its
    /// granted time plus this grace without reporting (no CCR-U/T), the
    /// server sends an Abort-Session-Request (RFC 8506 §5.5). `None`
    /// disables it.
    pub exhaustion_grace: Option<Duration>,
}

impl<'a> CcServerConfig<'a> {
    /// Defaults: Tcc 10 min, grants capped at 3 h, 300 s without RSU,
    /// 4012 when out of credit, no Validity-Time, ASR 10 s after a grant
    /// runs out unreported.
    pub const fn new(origin_host: &'a str, origin_realm: &'a str) -> Self {
        CcServerConfig {
            origin_host,
            origin_realm,
            tcc: Duration::from_secs(600),
            max_grant: 10_800,
            default_grant: 300,
            no_credit: NoCredit::CreditLimitReached,
            validity_time: None,
            exhaustion_grace: Some(Duration::from_secs(10)),
        }
    }
}

/// What happened, for logs and CDRs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CcServerEvent {
    /// A session started with this grant.
    Started {
        /// Seconds granted.
        granted: u32,
    },
    /// A session ended; total seconds debited.
    Ended {
        /// Seconds used over the session.
        used: u32,
    },
    /// Tcc expired: the session was released without a CCR-T.
    Expired,
    /// A one-time event (CCR-Event) was charged.
    EventCharged {
        /// Seconds debited.
        used: u32,
    },
    /// A request was refused with this Result-Code.
    Refused(ResultCode),
    /// A client used up its grant (plus the grace) without reporting: an
    /// Abort-Session-Request is queued.
    Exhausted,
}

#[derive(Debug, Clone)]
struct Session {
    session_id: SessionId,
    peer_host: heapless::String<255>,
    subscriber: heapless::String<MAX_PARTY>,
    destination: heapless::String<MAX_PARTY>,
    /// The last CCR processed (type and CC-Request-Number) and its answer,
    /// to answer a duplicate again without rating it twice.
    last_type: CcRequestType,
    last_number: u32,
    last_answer: Answer,
    used: u32,
    tcc_deadline: Instant,
    /// Seconds of the current grant, and of it reported as used.
    granted: u32,
    used_of_grant: u32,
    /// When the grant (plus grace) runs out unreported: ASR.
    exhaust_deadline: Option<Instant>,
}

impl Session {
    /// Re-arm exhaustion supervision after a CCR at `now`.
    fn supervise(&mut self, now: Instant, grace: Option<Duration>) {
        self.exhaust_deadline = grace.map(|g| {
            let left = self.granted.saturating_sub(self.used_of_grant);
            now + Duration::from_secs(u64::from(left)) + g
        });
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerRequestKind {
    Abort,
    ReAuth,
}

/// The credit-control server for up to `N` concurrent sessions (a power of
/// two).
pub struct CcServer<'c, R: Rating, const N: usize> {
    config: &'c CcServerConfig<'c>,
    rating: R,
    sessions: heapless::index_map::FnvIndexMap<u64, Session, N>,
    outgoing: heapless::Deque<(u64, ServerRequestKind), 8>,
    events: heapless::Deque<CcServerEvent, 16>,
    /// The last one-time events answered (key, answer), for duplicates.
    recent_events: heapless::Deque<(u64, Answer), RECENT_EVENTS>,
}

/// How many one-time events are remembered for duplicate detection.
const RECENT_EVENTS: usize = 16;

impl<'c, R: Rating, const N: usize> core::fmt::Debug for CcServer<'c, R, N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CcServer")
            .field("sessions", &self.sessions.len())
            .finish()
    }
}

fn key(session_id: &str, origin_host: &str) -> u64 {
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    h.write(session_id.as_bytes());
    h.write(&[0]);
    h.write(origin_host.as_bytes());
    h.finish()
}

struct Fnv(u64);
impl core::hash::Hasher for Fnv {
    fn write(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// The caller's identity and what it asks for, read from a CCR.
struct Request<'a> {
    session_id: &'a str,
    origin_host: &'a str,
    request_type: CcRequestType,
    number: u32,
    subscriber: &'a str,
    destination: &'a str,
    requested: Option<u32>,
    used: u32,
}

/// Read a CCR through [`Ccr::decode`], which checks the command, the
/// application and the RFC 8506 §3.1 grammar and returns the precise error.
fn read_request<'a>(msg: &Message<'a>) -> Result<Request<'a>, Error> {
    let ccr = Ccr::decode(msg)?;
    // Subscriber: Subscription-Id-Data, else User-Name.
    let subscriber = ccr
        .subscription_id
        .map(|s| s.data)
        .or(ccr.user_name)
        .unwrap_or("");
    let destination = ccr.ims.and_then(|i| i.called_party_address).unwrap_or("");
    let requested = ccr.requested_service_unit.map(|u| u.cc_time.unwrap_or(0));
    let mut used = 0u32;
    for u in ccr.used_service_units() {
        used = used.saturating_add(u?.cc_time.unwrap_or(0));
    }
    for m in ccr.mscc() {
        for u in m?.used_service_units() {
            used = used.saturating_add(u?.cc_time.unwrap_or(0));
        }
    }
    Ok(Request {
        session_id: ccr.session_id,
        origin_host: ccr.origin_host,
        request_type: ccr.cc_request_type,
        number: ccr.cc_request_number,
        subscriber,
        destination,
        requested,
        used,
    })
}

/// What a CCA says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Answer {
    result: ResultCode,
    granted: Option<u32>,
}

impl<'c, R: Rating, const N: usize> CcServer<'c, R, N> {
    /// A server with no sessions.
    pub fn new(config: &'c CcServerConfig<'c>, rating: R) -> Self {
        CcServer {
            config,
            rating,
            sessions: heapless::index_map::FnvIndexMap::new(),
            outgoing: heapless::Deque::new(),
            events: heapless::Deque::new(),
            recent_events: heapless::Deque::new(),
        }
    }

    /// The rating engine (to inspect balances).
    pub fn rating(&self) -> &R {
        &self.rating
    }
    /// The rating engine, mutably (to top up balances).
    pub fn rating_mut(&mut self) -> &mut R {
        &mut self.rating
    }
    /// Sessions open.
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    fn event(&mut self, e: CcServerEvent) {
        if self.events.push_back(e).is_err() {
            let _ = self.events.pop_front();
            let _ = self.events.push_back(e);
        }
    }

    /// Answer one CCR into `out`. Malformed requests get the codec's precise
    /// error answer (with Failed-AVP); everything else a CCA.
    pub fn handle_request<'b>(
        &mut self,
        now: Instant,
        msg: &Message<'_>,
        out: &'b mut [u8],
    ) -> Result<&'b [u8], EncodeError> {
        let me = Identity {
            origin_host: self.config.origin_host,
            origin_realm: self.config.origin_realm,
        };
        let checked = read_request(msg);
        let req = match checked {
            Ok(r) => r,
            Err(e) => {
                self.event(CcServerEvent::Refused(e.result_code()));
                let mut b = error_answer(msg.as_bytes(), &e, &me, &CreditControl, out)?;
                if !e.is_protocol_error()
                    && msg.command_code() == CommandCode::CREDIT_CONTROL
                    && msg.is_request()
                {
                    // Without the E bit the answer is a CCA (RFC 8506 §3.2):
                    // echo what can be read of the request.
                    b.put(&base::AUTH_APPLICATION_ID, ApplicationId::CREDIT_CONTROL.0);
                    let avps = msg.avps();
                    if let Ok(Some(t)) = avps.get(&dict::CC_REQUEST_TYPE) {
                        b.put(&dict::CC_REQUEST_TYPE, t);
                    }
                    if let Ok(Some(n)) = avps.get(&dict::CC_REQUEST_NUMBER) {
                        b.put(&dict::CC_REQUEST_NUMBER, n);
                    }
                }
                return b.finish();
            }
        };
        let answer = self.decide(now, &req);
        if !answer.result.is_success() {
            self.event(CcServerEvent::Refused(answer.result));
        }
        let granted = answer.granted.map(ServiceUnit::time);
        let cca = CcaRepr {
            granted_service_unit: granted,
            validity_time: granted.and(self.config.validity_time),
            ..CcaRepr::new(
                req.session_id,
                answer.result,
                self.config.origin_host,
                self.config.origin_realm,
                req.request_type,
                req.number,
            )
        };
        cca.encode_answer_to(msg, out)
    }

    fn grant_for(
        &mut self,
        session: &str,
        subscriber: &str,
        destination: &str,
        requested: Option<u32>,
    ) -> Answer {
        let want = requested
            .unwrap_or(self.config.default_grant)
            .min(self.config.max_grant);
        match self.rating.reserve(session, subscriber, destination, want) {
            Ok(0) if want > 0 => match self.config.no_credit {
                NoCredit::ZeroGrant => Answer {
                    result: ResultCode::SUCCESS,
                    granted: Some(0),
                },
                NoCredit::CreditLimitReached => Answer {
                    result: ResultCode::CREDIT_LIMIT_REACHED,
                    granted: None,
                },
            },
            Ok(g) => Answer {
                result: ResultCode::SUCCESS,
                granted: Some(g),
            },
            Err(rc) => Answer {
                result: rc,
                granted: None,
            },
        }
    }

    fn decide(&mut self, now: Instant, req: &Request<'_>) -> Answer {
        let k = key(req.session_id, req.origin_host);
        let tcc = now + self.config.tcc;
        match req.request_type {
            CcRequestType::Initial => {
                if let Some(s) = self.sessions.get_mut(&k) {
                    if s.last_type == CcRequestType::Initial && s.last_number == req.number {
                        // A duplicate CCR-I (a retransmission whose answer
                        // was lost): the same answer, no new reservation
                        // (RFC 8506 §5.7: duplicates are detected by
                        // Session-Id and CC-Request-Number).
                        s.tcc_deadline = tcc;
                        return s.last_answer;
                    }
                    // A new CCR-I for a live session: release the old
                    // reservation and start over.
                    if let Some(s) = self.sessions.swap_remove(&k) {
                        self.rating.release(req.session_id, s.subscriber.as_str());
                    }
                }
                if self.sessions.len() >= N {
                    return Answer {
                        result: ResultCode::TOO_BUSY,
                        granted: None,
                    };
                }
                let a = self.grant_for(
                    req.session_id,
                    req.subscriber,
                    req.destination,
                    req.requested,
                );
                if a.result.is_success() && a.granted != Some(0) {
                    let mut s = Session {
                        session_id: SessionId::new(),
                        peer_host: heapless::String::new(),
                        subscriber: heapless::String::new(),
                        destination: heapless::String::new(),
                        last_type: CcRequestType::Initial,
                        last_number: req.number,
                        last_answer: a,
                        used: 0,
                        tcc_deadline: tcc,
                        granted: a.granted.unwrap_or(0),
                        used_of_grant: 0,
                        exhaust_deadline: None,
                    };
                    s.supervise(now, self.config.exhaustion_grace);
                    let ok = s.session_id.push_str(req.session_id).is_ok()
                        && s.peer_host.push_str(req.origin_host).is_ok()
                        && s.subscriber.push_str(req.subscriber).is_ok()
                        && s.destination.push_str(req.destination).is_ok();
                    if !ok || self.sessions.insert(k, s).is_err() {
                        self.rating.release(req.session_id, req.subscriber);
                        return Answer {
                            result: ResultCode::UNABLE_TO_COMPLY,
                            granted: None,
                        };
                    }
                    self.event(CcServerEvent::Started {
                        granted: a.granted.unwrap_or(0),
                    });
                } else {
                    self.rating.release(req.session_id, req.subscriber);
                }
                a
            }
            CcRequestType::Update | CcRequestType::Termination => {
                let Some(s) = self.sessions.get_mut(&k) else {
                    return Answer {
                        result: ResultCode::UNKNOWN_SESSION_ID,
                        granted: None,
                    };
                };
                s.tcc_deadline = tcc;
                if s.last_type == req.request_type && s.last_number == req.number {
                    // A duplicate (e.g. a CCR-U resent with the T flag whose
                    // first copy was processed): answer again, debit once.
                    return s.last_answer;
                }
                s.last_type = req.request_type;
                s.last_number = req.number;
                s.used = s.used.saturating_add(req.used);
                let (sub, dst) = (s.subscriber.clone(), s.destination.clone());
                let debit = if req.used > 0 {
                    self.rating
                        .debit(req.session_id, sub.as_str(), dst.as_str(), req.used)
                } else {
                    Ok(())
                };
                if req.request_type == CcRequestType::Termination {
                    self.rating.release(req.session_id, sub.as_str());
                    let used = self.sessions.swap_remove(&k).map(|s| s.used).unwrap_or(0);
                    self.event(CcServerEvent::Ended { used });
                    return Answer {
                        result: debit.err().unwrap_or(ResultCode::SUCCESS),
                        granted: None,
                    };
                }
                let answer = match (debit, req.requested) {
                    (Err(rc), _) => Answer {
                        result: rc,
                        granted: None,
                    },
                    (Ok(()), Some(r)) if r > 0 => {
                        // A new grant replaces what is left of the old one
                        // (RFC 8506 §5.2.2).
                        self.rating.release(req.session_id, sub.as_str());
                        self.grant_for(req.session_id, sub.as_str(), dst.as_str(), Some(r))
                    }
                    (Ok(()), _) => Answer {
                        result: ResultCode::SUCCESS,
                        granted: None,
                    },
                };
                if answer.result.is_success() {
                    let grace = self.config.exhaustion_grace;
                    if let Some(s) = self.sessions.get_mut(&k) {
                        s.last_answer = answer;
                        match answer.granted {
                            Some(g) => {
                                s.granted = g;
                                s.used_of_grant = 0;
                            }
                            None => s.used_of_grant = s.used_of_grant.saturating_add(req.used),
                        }
                        s.supervise(now, grace);
                    }
                } else {
                    // RFC 8506 Table 6: an update "not successfully
                    // processed" is answered with its Result-Code, the used
                    // units debited, and the session ends (Idle).
                    self.rating.release(req.session_id, sub.as_str());
                    let used = self.sessions.swap_remove(&k).map(|s| s.used).unwrap_or(0);
                    self.event(CcServerEvent::Ended { used });
                }
                answer
            }
            CcRequestType::Event | CcRequestType::Unknown(_) => {
                // A one-time event resent after a lost answer (T flag, same
                // Session-Id, RFC 8506 §6.5: the server detects duplicates)
                // is answered again, not debited twice.
                if let Some((_, a)) = self.recent_events.iter().find(|(e, _)| *e == k) {
                    return *a;
                }
                let a = match self.rating.debit(
                    req.session_id,
                    req.subscriber,
                    req.destination,
                    req.used,
                ) {
                    Ok(()) => {
                        self.event(CcServerEvent::EventCharged { used: req.used });
                        Answer {
                            result: ResultCode::SUCCESS,
                            granted: None,
                        }
                    }
                    Err(rc) => Answer {
                        result: rc,
                        granted: None,
                    },
                };
                if self.recent_events.is_full() {
                    let _ = self.recent_events.pop_front();
                }
                let _ = self.recent_events.push_back((k, a));
                a
            }
        }
    }

    /// Ask the client of `session_id` to stop (ASR, RFC 8506 §5.5), for
    /// example when its balance ran out. False if the session is unknown.
    pub fn abort_session(&mut self, session_id: &str, client_host: &str) -> bool {
        self.server_request(session_id, client_host, ServerRequestKind::Abort)
    }

    /// Ask the client of `session_id` to re-authorise (RAR, RFC 8506 §5.5).
    pub fn reauthorize(&mut self, session_id: &str, client_host: &str) -> bool {
        self.server_request(session_id, client_host, ServerRequestKind::ReAuth)
    }

    fn server_request(
        &mut self,
        session_id: &str,
        client_host: &str,
        kind: ServerRequestKind,
    ) -> bool {
        let k = key(session_id, client_host);
        self.sessions.contains_key(&k) && self.outgoing.push_back((k, kind)).is_ok()
    }

    /// Release sessions whose Tcc expired (RFC 8506 §13), and queue an ASR
    /// for sessions whose grant ran out unreported (see
    /// [`CcServerConfig::exhaustion_grace`]).
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut exhausted: heapless::Vec<u64, 8> = heapless::Vec::new();
        for (k, s) in self.sessions.iter_mut() {
            if s.exhaust_deadline.is_some_and(|d| now >= d) && exhausted.push(*k).is_ok() {
                s.exhaust_deadline = None;
            }
        }
        for k in exhausted {
            if self
                .outgoing
                .push_back((k, ServerRequestKind::Abort))
                .is_ok()
            {
                self.event(CcServerEvent::Exhausted);
            } else if let Some(s) = self.sessions.get_mut(&k) {
                // The queue is full: try again at the next timeout.
                s.exhaust_deadline = Some(now);
            }
        }
        loop {
            let expired = self
                .sessions
                .iter()
                .find(|(_, s)| now >= s.tcc_deadline)
                .map(|(k, _)| *k);
            let Some(k) = expired else { break };
            if let Some(s) = self.sessions.swap_remove(&k) {
                self.rating
                    .release(s.session_id.as_str(), s.subscriber.as_str());
                self.event(CcServerEvent::Expired);
            }
        }
    }

    /// When [`CcServer::handle_timeout`] should run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.sessions.iter().fold(None, |t, (_, s)| {
            earliest(earliest(t, Some(s.tcc_deadline)), s.exhaust_deadline)
        })
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<CcServerEvent> {
        self.events.pop_front()
    }

    /// Write the next server-initiated request (ASR or RAR) into `buf`;
    /// give it to the peer machine's `send_request`.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<Result<usize, EncodeError>> {
        loop {
            let (k, kind) = self.outgoing.pop_front()?;
            let Some(s) = self.sessions.get(&k) else {
                continue;
            };
            let (sid, host) = (s.session_id.as_str(), s.peer_host.as_str());
            let (me, realm) = (self.config.origin_host, self.config.origin_realm);
            let r = match kind {
                ServerRequestKind::Abort => AsrRepr::new(sid, me, realm, realm_of(host), host)
                    .encode(AsrRepr::header(0, 0), buf),
                ServerRequestKind::ReAuth => RarRepr::new(sid, me, realm, realm_of(host), host)
                    .encode(RarRepr::header(0, 0), buf),
            };
            return Some(r.map(<[u8]>::len));
        }
    }
}

/// The realm of a host: everything after the first dot (the host itself
/// when it has none).
fn realm_of(host: &str) -> &str {
    host.split_once('.').map(|(_, r)| r).unwrap_or(host)
}

/// A simple [`Rating`]: per-subscriber balances in seconds, reservations
/// per session, for tests, examples and the built-in charging server.
#[derive(Debug, Clone, Default)]
pub struct Balances<const N: usize> {
    accounts: heapless::Vec<(heapless::String<MAX_PARTY>, u64), N>,
    reserved: heapless::Vec<(u64, usize, u64), N>,
}

impl<const N: usize> Balances<N> {
    /// No accounts.
    pub const fn new() -> Self {
        Balances {
            accounts: heapless::Vec::new(),
            reserved: heapless::Vec::new(),
        }
    }
    /// Create or top up an account; false when the table is full.
    pub fn set(&mut self, subscriber: &str, seconds: u64) -> bool {
        if let Some(a) = self
            .accounts
            .iter_mut()
            .find(|a| a.0.as_str() == subscriber)
        {
            a.1 = seconds;
            return true;
        }
        let mut name = heapless::String::new();
        name.push_str(subscriber).is_ok() && self.accounts.push((name, seconds)).is_ok()
    }
    /// Seconds left (not counting reservations), if the account exists.
    pub fn balance(&self, subscriber: &str) -> Option<u64> {
        self.accounts
            .iter()
            .find(|a| a.0.as_str() == subscriber)
            .map(|a| a.1)
    }
    fn index(&self, subscriber: &str) -> Option<usize> {
        self.accounts
            .iter()
            .position(|a| a.0.as_str() == subscriber)
    }
    fn reserved_for(&self, account: usize) -> u64 {
        self.reserved
            .iter()
            .filter(|r| r.1 == account)
            .map(|r| r.2)
            .sum()
    }
}

impl<const N: usize> Rating for Balances<N> {
    fn reserve(
        &mut self,
        session: &str,
        subscriber: &str,
        _dst: &str,
        requested: u32,
    ) -> Result<u32, ResultCode> {
        let i = self.index(subscriber).ok_or(ResultCode::USER_UNKNOWN)?;
        let free = self.accounts[i].1.saturating_sub(self.reserved_for(i));
        let g = u64::from(requested).min(free);
        let sk = key(session, "");
        match self.reserved.iter_mut().find(|r| r.0 == sk) {
            Some(r) => r.2 += g,
            None => {
                if g > 0 && self.reserved.push((sk, i, g)).is_err() {
                    return Err(ResultCode::TOO_BUSY);
                }
            }
        }
        Ok(g as u32)
    }
    fn debit(
        &mut self,
        session: &str,
        subscriber: &str,
        _dst: &str,
        used: u32,
    ) -> Result<(), ResultCode> {
        let i = self.index(subscriber).ok_or(ResultCode::USER_UNKNOWN)?;
        let used = u64::from(used);
        let sk = key(session, "");
        if let Some(r) = self.reserved.iter_mut().find(|r| r.0 == sk) {
            r.2 = r.2.saturating_sub(used);
        }
        let a = &mut self.accounts[i];
        if a.1 < used {
            a.1 = 0;
            return Err(ResultCode::CREDIT_LIMIT_REACHED);
        }
        a.1 -= used;
        Ok(())
    }
    fn release(&mut self, session: &str, _subscriber: &str) {
        let sk = key(session, "");
        self.reserved.retain(|r| r.0 != sk);
    }
}
