//! The credit-control server: RFC 8506 §7 server session-based and
//! event-based state machines, with grants from a pluggable [`Rating`].
//!
//! Read RFC 8506 §5 and §6 (session and event charging), §7 (server
//! state machines), §13 (Tcc) and `SCENARIOS.md` (Server behaviour) first.
//!
//! The server is split the way the endpoint holds it:
//!
//! - [`CcServer`] is what every server session of a node shares: the
//!   settings, the [`Rating`] engine, and the one-time events (CCR-Event)
//!   answered recently. It answers a CCR whose Session-Id names no live
//!   session ([`CcServer::handle_new`]): a CCR-Initial opens a
//!   [`CcServerSession`], a CCR-Event is rated and answered at once
//!   (RFC 8506 §6: no session state), a CCR-Update or -Termination gets
//!   5002 DIAMETER_UNKNOWN_SESSION_ID.
//! - [`CcServerSession`] is one credit-control session, a [`Machine`](crate::session::Machine):
//!   it answers the session's CCR-Update and -Termination, supervises the
//!   session with Tcc, and sends an Abort-Session-Request when the client
//!   keeps the session beyond its grant without reporting, or a
//!   Re-Auth-Request when asked to.
//!
//! Per session (RFC 8506 Table 6): an UPDATE or TERMINATION that is not
//! successfully processed is answered with its Result-Code after debiting
//! the used units, and the session ends (its reservation released).
//! Duplicates and out-of-sequence requests are recognised by
//! CC-Request-Number (RFC 8506 §5.7): a number already processed is
//! answered again without being rated twice. An ended session stays for
//! [`CcServerConfig::duplicate_window`], so that a retransmitted CCR-T gets
//! its answer again rather than 5002. A one-time event repeated with the T
//! flag (same Session-Id, RFC 8506 §6.5) is answered again, not debited
//! twice, while it is among the [`RECENT_EVENTS`] last events, whatever
//! their age (its client may resend it long after the first copy). Older
//! duplicates can only be told by the rating engine, from the Session-Id
//! of the event (unique per event, RFC 6733 §8.8).
//!
//! Result-Codes, following SCENARIOS.md: unknown subscriber 5030
//! (USER_UNKNOWN), no credit 4012 (CREDIT_LIMIT_REACHED) or a zero grant
//! (configurable), unknown session 5002, table full 3004 (TOO_BUSY, E bit,
//! from the endpoint).

use core::time::Duration;

use diameter_core::answer::{result_answer, Identity};
use diameter_core::hash::Fnv;
use diameter_core::time::Instant;
use diameter_core::{EncodeError, Message, ResultCode};

use crate::dict::CcRequestType;
use crate::msg::{CcaRepr, Ccr, ServiceUnit};
use crate::session::Node;

pub use super::balances::Balances;
pub use super::cc_session::CcServerSession;

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

    /// [`Rating::reserve`] for the CCR numbered `request` (its
    /// CC-Request-Number) of `session`: what the server calls. A rating
    /// engine that keeps its reservations can note the request that made
    /// one, so that the same request resent to another server sharing the
    /// same balances (failover, RFC 8506 §5.7), or retried after a crash,
    /// gets its grant again instead of a second one held beside it. The
    /// default ignores `request`.
    fn reserve_request(
        &mut self,
        session: &str,
        request: u32,
        subscriber: &str,
        destination: &str,
        requested: u32,
    ) -> Result<u32, ResultCode> {
        let _ = request;
        self.reserve(session, subscriber, destination, requested)
    }

    /// [`Rating::debit`] for the CCR numbered `request` (its
    /// CC-Request-Number) of `session`: what the server calls. A rating
    /// engine that stores its debits can key them by `(session, request)`
    /// so that a request retried after a crash, or resent to another
    /// server sharing the same balances, is not debited twice. The default
    /// ignores `request`.
    fn debit_request(
        &mut self,
        session: &str,
        request: u32,
        subscriber: &str,
        destination: &str,
        used: u32,
    ) -> Result<(), ResultCode> {
        let _ = request;
        self.debit(session, subscriber, destination, used)
    }
}

/// No rating engine: a node that does not serve credit control. Every
/// request is refused with 5012 DIAMETER_UNABLE_TO_COMPLY.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoRating;

impl Rating for NoRating {
    fn reserve(&mut self, _: &str, _: &str, _: &str, _: u32) -> Result<u32, ResultCode> {
        Err(ResultCode::UNABLE_TO_COMPLY)
    }
    fn debit(&mut self, _: &str, _: &str, _: &str, _: u32) -> Result<(), ResultCode> {
        Err(ResultCode::UNABLE_TO_COMPLY)
    }
    fn release(&mut self, _: &str, _: &str) {}
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
///
/// ```
/// use diameter_cc::server::credit_control::CcServerConfig;
/// let c = CcServerConfig::new();
/// assert_eq!(c.max_grant, 10_800);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CcServerConfig {
    /// Tcc, the session supervision timer (RFC 8506 §13; default 10 min).
    /// A session is never supervised shorter than twice its Validity-Time,
    /// or twice its grant when no Validity-Time is sent, so that a call
    /// that reports only at its end is still billed.
    pub tcc: Duration,
    /// Most seconds granted at once (the RSU is capped to this).
    pub max_grant: u32,
    /// Seconds granted when the CCR has no Requested-Service-Unit.
    pub default_grant: u32,
    /// Answer for an exhausted balance.
    pub no_credit: NoCredit,
    /// Validity-Time to send with grants, if any (0 is not sent).
    pub validity_time: Option<u32>,
    /// Exhaustion supervision: when a client keeps a session beyond its
    /// granted time plus this grace without reporting (no CCR-U/T), the
    /// server sends an Abort-Session-Request (RFC 8506 §5.5). `None`
    /// disables it.
    pub exhaustion_grace: Option<Duration>,
    /// How long an ended session is remembered to answer retransmissions
    /// (RFC 6733 §6.5; default 60 s).
    pub duplicate_window: Duration,
    /// How long a call may ring between its CCR-Initial and its answer:
    /// until the client's first CCR-Update or -Termination shows the
    /// service started, exhaustion supervision allows this much on top of
    /// the grant (the client counts its grant from the answer, RFC 8506
    /// §5.2). Default 180 s, the INVITE timeout of RFC 3261 (Timer C).
    pub setup_time: Duration,
    /// How long an ASR or RAR waits for its answer (default 10 s).
    pub request_timeout: Duration,
}

impl CcServerConfig {
    /// Defaults: Tcc 10 min, grants capped at 3 h, 300 s without RSU,
    /// 4012 when out of credit, no Validity-Time, ASR 10 s after a grant
    /// runs out unreported, ended sessions remembered 60 s.
    pub const fn new() -> Self {
        CcServerConfig {
            tcc: Duration::from_secs(600),
            max_grant: 10_800,
            default_grant: 300,
            no_credit: NoCredit::CreditLimitReached,
            validity_time: None,
            exhaustion_grace: Some(Duration::from_secs(10)),
            duplicate_window: Duration::from_secs(60),
            setup_time: Duration::from_secs(180),
            request_timeout: Duration::from_secs(10),
        }
    }
}

impl Default for CcServerConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// What happened, for logs and CDRs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
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

/// What a CCA says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Answer {
    pub result: ResultCode,
    pub granted: Option<u32>,
}

/// How many one-time events are remembered for duplicate detection: the
/// last this many, whatever their age (a client under
/// TERMINATE_OR_BUFFER may resend an event long after its first copy).
#[cfg(not(target_os = "none"))]
pub const RECENT_EVENTS: usize = 256;
/// How many one-time events are remembered on bare metal, where RAM is scarce.
#[cfg(target_os = "none")]
pub const RECENT_EVENTS: usize = 16;
const EVENTS: usize = 16;

/// What every credit-control server session of a node shares: settings,
/// the rating engine, and the recent one-time events.
///
/// The rating engine is the last field, so that a session can take any
/// server as `&mut CcServer<dyn Rating>` and stay non-generic.
pub struct CcServer<R: Rating + ?Sized> {
    /// The settings.
    pub config: CcServerConfig,
    recent: heapless::Deque<(u64, Answer, Instant), RECENT_EVENTS>,
    events: heapless::Deque<CcServerEvent, EVENTS>,
    rating: R,
}

impl<R: Rating + ?Sized> core::fmt::Debug for CcServer<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CcServer")
            .field("config", &self.config)
            .field("recent_events", &self.recent.len())
            .finish()
    }
}

pub(crate) fn event_key(session_id: &str, origin_host: &str) -> u64 {
    let mut h = Fnv::new();
    core::hash::Hasher::write(&mut h, session_id.as_bytes());
    core::hash::Hasher::write(&mut h, &[0]);
    h.write_lowercase(origin_host.as_bytes());
    core::hash::Hasher::finish(&h)
}

/// Seconds used in a CCR: every Used-Service-Unit CC-Time, at the top
/// level and in every Multiple-Services-Credit-Control.
pub(crate) fn used_in(ccr: &Ccr<'_>) -> u32 {
    let mut used = 0u32;
    for u in ccr.used_service_units().flatten() {
        used = used.saturating_add(u.cc_time.unwrap_or(0));
    }
    for m in ccr.mscc().flatten() {
        for u in m.used_service_units().flatten() {
            used = used.saturating_add(u.cc_time.unwrap_or(0));
        }
    }
    used
}

/// The subscriber charged: Subscription-Id-Data, else User-Name.
pub(crate) fn subscriber_of<'a>(ccr: &Ccr<'a>) -> &'a str {
    ccr.subscription_id
        .map(|s| s.data)
        .or(ccr.user_name)
        .unwrap_or("")
}

/// The destination rated: the 3GPP Called-Party-Address.
pub(crate) fn destination_of<'a>(ccr: &Ccr<'a>) -> &'a str {
    ccr.ims.and_then(|i| i.called_party_address).unwrap_or("")
}

/// Encode the CCA for `ccr`.
pub(crate) fn write_cca(
    node: &Node,
    config: &CcServerConfig,
    request: &Message<'_>,
    ccr: &Ccr<'_>,
    answer: Answer,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    let granted = answer.granted.map(ServiceUnit::time);
    let cca = CcaRepr {
        granted_service_unit: granted,
        validity_time: granted.and(config.validity_time.filter(|v| *v > 0)),
        ..ccr.answer(
            node.origin_host.as_str(),
            node.origin_realm.as_str(),
            answer.result,
        )
    };
    cca.encode_answer_to(request, out).map(<[u8]>::len)
}

impl<R: Rating> CcServer<R> {
    /// A server with no sessions.
    pub fn new(config: CcServerConfig, rating: R) -> Self {
        CcServer {
            config,
            recent: heapless::Deque::new(),
            events: heapless::Deque::new(),
            rating,
        }
    }
}

impl<R: Rating + ?Sized> CcServer<R> {
    /// The rating engine (to inspect balances).
    pub fn rating(&self) -> &R {
        &self.rating
    }
    /// The rating engine, mutably (to top up balances).
    pub fn rating_mut(&mut self) -> &mut R {
        &mut self.rating
    }

    pub(crate) fn event(&mut self, e: CcServerEvent) {
        if self.events.push_back(e).is_err() {
            let _ = self.events.pop_front();
            let _ = self.events.push_back(e);
        }
    }

    /// Events of the one-time (CCR-Event) path and of refused new
    /// sessions; session events come from each [`CcServerSession`].
    #[must_use]
    pub fn poll_event(&mut self) -> Option<CcServerEvent> {
        self.events.pop_front()
    }

    /// Grant up to `requested` seconds (the configured default without
    /// RSU, capped at [`CcServerConfig::max_grant`]) for the CCR numbered
    /// `request` of `session`.
    pub(crate) fn grant(
        &mut self,
        session: &str,
        request: u32,
        subscriber: &str,
        destination: &str,
        requested: Option<u32>,
    ) -> Answer {
        let want = requested
            .unwrap_or(self.config.default_grant)
            .min(self.config.max_grant);
        let reserved = self
            .rating
            .reserve_request(session, request, subscriber, destination, want);
        match reserved {
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

    pub(crate) fn debit(
        &mut self,
        session: &str,
        request: u32,
        subscriber: &str,
        destination: &str,
        used: u32,
    ) -> Result<(), ResultCode> {
        if used == 0 {
            return Ok(());
        }
        self.rating
            .debit_request(session, request, subscriber, destination, used)
    }

    pub(crate) fn release(&mut self, session: &str, subscriber: &str) {
        self.rating.release(session, subscriber);
    }

    /// A CCR (`ccr`, read from the validated `request`) whose Session-Id
    /// names no live session: a CCR-Initial opens a session (returned with
    /// its CCA written into `out`); a CCR-Event is rated and answered at
    /// once (RFC 8506 §6); anything else gets 5002
    /// DIAMETER_UNKNOWN_SESSION_ID. The caller must have room for a new
    /// session before handing a CCR-Initial over (else answer it with
    /// [`CcServer::refuse`] and 3004).
    pub fn handle_new(
        &mut self,
        node: &Node,
        now: Instant,
        request: &Message<'_>,
        ccr: &Ccr<'_>,
        out: &mut [u8],
    ) -> (Option<CcServerSession>, Result<usize, EncodeError>) {
        match ccr.cc_request_type {
            CcRequestType::Initial => {
                let (session, answer) = CcServerSession::open(self, now, ccr);
                if !answer.result.is_success() {
                    self.event(CcServerEvent::Refused(answer.result));
                }
                let len = write_cca(node, &self.config, request, ccr, answer, out);
                (session, len)
            }
            CcRequestType::Event => {
                let answer = self.one_time_event(now, ccr);
                (
                    None,
                    write_cca(node, &self.config, request, ccr, answer, out),
                )
            }
            _ => {
                let answer = Answer {
                    result: ResultCode::UNKNOWN_SESSION_ID,
                    granted: None,
                };
                self.event(CcServerEvent::Refused(answer.result));
                (
                    None,
                    write_cca(node, &self.config, request, ccr, answer, out),
                )
            }
        }
    }

    /// Answer a CCR with `result` and nothing else (3004 when the session
    /// table is full, say): with the E bit for a protocol error.
    pub fn refuse(
        &mut self,
        node: &Node,
        request: &Message<'_>,
        result: ResultCode,
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        self.event(CcServerEvent::Refused(result));
        let me = Identity {
            origin_host: node.origin_host.as_str(),
            origin_realm: node.origin_realm.as_str(),
        };
        result_answer(request, result, &me, out)
            .finish()
            .map(<[u8]>::len)
    }

    /// RFC 8506 §6: rate a one-time event. Direct debiting
    /// (Requested-Action DIRECT_DEBITING, §6.3) deducts the
    /// Requested-Service-Unit and answers it as the Granted-Service-Unit;
    /// with no units requested (the SCENARIOS postpaid CCR-Event asks for
    /// CC-Time 0), the Used-Service-Unit is deducted. Other actions (refund,
    /// balance check, price enquiry) are refused with 5012.
    fn one_time_event(&mut self, now: Instant, ccr: &Ccr<'_>) -> Answer {
        let key = event_key(ccr.session_id, ccr.origin_host);
        if let Some((_, a, _)) = self.recent.iter().find(|(k, _, _)| *k == key) {
            // A one-time event resent after a lost answer (T flag, same
            // Session-Id, RFC 8506 §6.5): answered again, not debited twice.
            return *a;
        }
        let action = ccr
            .requested_action
            .unwrap_or(crate::dict::RequestedAction::DirectDebiting);
        if action != crate::dict::RequestedAction::DirectDebiting {
            self.event(CcServerEvent::Refused(ResultCode::UNABLE_TO_COMPLY));
            return Answer {
                result: ResultCode::UNABLE_TO_COMPLY,
                granted: None,
            };
        }
        let subscriber = subscriber_of(ccr);
        let destination = destination_of(ccr);
        let used = used_in(ccr);
        let requested = ccr
            .requested_service_unit
            .and_then(|u| u.cc_time)
            .unwrap_or(0);
        let charge = if requested > 0 { requested } else { used };
        let answer = match self.debit(
            ccr.session_id,
            ccr.cc_request_number,
            subscriber,
            destination,
            charge,
        ) {
            Ok(()) => {
                self.event(CcServerEvent::EventCharged { used: charge });
                Answer {
                    result: ResultCode::SUCCESS,
                    granted: (requested > 0).then_some(charge),
                }
            }
            Err(rc) => {
                self.event(CcServerEvent::Refused(rc));
                Answer {
                    result: rc,
                    granted: None,
                }
            }
        };
        if self.recent.is_full() {
            let _ = self.recent.pop_front();
        }
        let _ = self.recent.push_back((key, answer, now));
        answer
    }
}
