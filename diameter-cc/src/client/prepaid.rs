//! The prepaid (session-based) credit-control client: RFC 8506 §7, client
//! session-based state machine, as a SIP proxy uses it to charge one call.
//!
//! Read RFC 8506 §5 (session-based credit control), §7 (state machines)
//! and `SCENARIOS.md` (Prepaid) first.
//!
//! One [`PrepaidClient`] per call, driven through [`Machine`] like every
//! session (see [`crate::session`]; the endpoint does it for you). Call
//! events come from the application ([`PrepaidClient::call_setup`] at
//! INVITE, [`PrepaidClient::call_answered`], [`PrepaidClient::call_ended`]);
//! Diameter input from the node (CCAs, RAR/ASR, failed requests); time
//! through `handle_timeout`. The outputs: `poll_event` (allow, deny, tear
//! the call down), `poll_transmit` (CCRs, each with the deadline of its
//! answer), `poll_timeout`.
//!
//! The message ladder of SCENARIOS.md:
//!
//! | step | message | type / number | key AVPs |
//! | --- | --- | --- | --- |
//! | INVITE | CCR-I | 1 / 0 | Event-Timestamp, RSU{CC-Time requested} |
//! | answer | CCR-U | 2 / 1 | Event-Timestamp = answer, RSU{CC-Time 0} |
//! | hangup / grant used up | CCR-T | 3 / n | Termination-Cause 1 or 6, USU{CC-Time used} |
//!
//! Only one CCR is outstanding at a time (RFC 8506 §5.1); a hangup during a
//! pending CCR-U is sent as CCR-T once the CCA-U arrives, with the usage up
//! to the hangup. Usage in every Used-Service-Unit is the time since the
//! previous report, counted so that the sum over a session is the call's
//! duration (answer to hangup, rounded to the second).
//!
//! Failures follow RFC 8506 §5.7 and §7 Tables 3 and 4 with the
//! Credit-Control-Failure-Handling (CCFH) in force: when Tx expires,
//! TERMINATE ends the service while CONTINUE and RETRY_AND_TERMINATE grant
//! it ([`PrepaidEvent::Allowed`] `None`) and keep waiting for a late answer
//! until the request's deadline ([`LATE_ANSWER_FACTOR`] × Tx, RFC 8506
//! §5.7 "e.g., 120 seconds"), which the session hands to the node with the
//! request ([`Transmit::deadline`]): one owner per timer. A failure to send
//! (or a temporary error) is retried once under RETRY_AND_TERMINATE,
//! granted under CONTINUE and refused under TERMINATE. A request handed
//! back by a failed connection goes out again at once (T flag, same
//! End-to-End id) if the node has another route for it; after the first
//! answer the session stays with the server that answered (Destination-Host)
//! unless it announced CC-Session-Failover FAILOVER_SUPPORTED (§5.7).
//! Deliberate departure from Table 4: once a CCA-I succeeded the session
//! always ends with exactly one CCR-T (even when failure handling ends the
//! service, or continues it unsupervised until the hangup), so the server
//! gets the final usage and releases its reservation at once; the only
//! exception is 4011 (credit control not applicable), after which no CCR is
//! sent.

use core::time::Duration;

use diameter_core::answer::{error_answer, Identity};
use diameter_core::dict::base::TerminationCause;
use diameter_core::peer::{owned_text, ConfigError, IdentityBuf};
use diameter_core::time::{earliest, Instant, Monotonic};
use diameter_core::{
    ApplicationId, CommandCode, EncodeError, Error, ErrorKind, Message, ResultCode,
};

use super::{opt, CcrFields, CcrTarget, Parties, MAX_CONTEXT};
use crate::dict::{
    CcRequestType, CcSessionFailover, CreditControlFailureHandling, FinalUnitAction,
};
use crate::msg::{AsaRepr, Cca, RaaRepr};
use crate::session::{
    seconds_between, Ctx, Failure, Machine, RequestFailed, Route, SessionId, Transmit,
};
use crate::CreditControl;

/// What to do when the granted time is used up (RFC 8506 §5.2 leaves the
/// timing of re-authorisation to the client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum OnExhaustion {
    /// End the call with Termination-Cause DIAMETER_AUTH_EXPIRED (6), as the
    /// SIP proxy of SCENARIOS.md does when its dialog timer fires.
    Terminate,
    /// Send a CCR-Update with the usage and ask for more (RFC 8506 §5.2).
    Reauthorize,
}

/// Settings shared by all prepaid calls of one node (Origin-Host, realm
/// and clock come from the [`crate::session::Node`]).
///
/// ```
/// use diameter_cc::client::prepaid::PrepaidConfig;
/// let mut c = PrepaidConfig::new("diameter.test", "voice@OsipsDiamCCR")?;
/// c.requested_time = 3600;
/// assert_eq!(c.tx.as_secs(), 10);
/// # Ok::<(), diameter_core::peer::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PrepaidConfig {
    /// Destination-Realm.
    pub destination_realm: IdentityBuf,
    /// Destination-Host, which lets the server send RAR/ASR back to us.
    pub destination_host: Option<IdentityBuf>,
    /// Service-Context-Id (e.g. `voice@OsipsDiamCCR`).
    pub service_context_id: heapless::String<MAX_CONTEXT>,
    /// CC-Time asked for in the CCR-Initial (SCENARIOS.md: 10800).
    pub requested_time: u32,
    /// Send a CCR-Update when the call is answered (SCENARIOS.md does).
    pub update_on_answer: bool,
    /// What happens when the grant is used up.
    pub on_exhaustion: OnExhaustion,
    /// Tx: how long to wait for a CCA (RFC 8506 §13, default 10 s).
    pub tx: Duration,
    /// Credit-Control-Failure-Handling when the server does not send one
    /// (RFC 8506 §8.14; the default is TERMINATE).
    pub failure_handling: CreditControlFailureHandling,
    /// Send Service-Information{IMS-Information} (3GPP, vendor 10415, M
    /// bit). A server without the TS 32.299 dictionary (freeDiameter with
    /// only `dict_dcca`, say) answers it with 5001; turn it off for those.
    pub service_information: bool,
}

impl PrepaidConfig {
    /// Defaults: RSU 10800 s, CCR-U on answer, terminate on exhaustion,
    /// Tx 10 s, TERMINATE on failure, no Destination-Host, 3GPP
    /// Service-Information sent.
    pub fn new(destination_realm: &str, service_context_id: &str) -> Result<Self, ConfigError> {
        Ok(PrepaidConfig {
            destination_realm: owned_text("Destination-Realm", destination_realm)?,
            destination_host: None,
            service_context_id: owned_text("Service-Context-Id", service_context_id)?,
            requested_time: 10_800,
            update_on_answer: true,
            on_exhaustion: OnExhaustion::Terminate,
            tx: Duration::from_secs(10),
            failure_handling: CreditControlFailureHandling::Terminate,
            service_information: true,
        })
    }

    /// Set the Destination-Host.
    pub fn with_destination_host(mut self, host: &str) -> Result<Self, ConfigError> {
        self.destination_host = Some(owned_text("Destination-Host", host)?);
        Ok(self)
    }
}

/// States of the client machine (RFC 8506 §7, session based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PrepaidState {
    /// Nothing sent yet.
    Idle,
    /// CCR-Initial outstanding.
    PendingInitial,
    /// Credit granted; no CCR outstanding.
    Open,
    /// CCR-Update outstanding.
    PendingUpdate,
    /// CCR-Termination outstanding.
    PendingTermination,
    /// Session over.
    Ended,
}

/// Why a call is refused at setup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DenyReason {
    /// The CCA (or the Multiple-Services-Credit-Control of the service)
    /// carried this Result-Code (4010, 4012, 5030, 5031...).
    Result(ResultCode),
    /// Success, but Granted-Service-Unit CC-Time 0: no credit.
    NoCredit,
    /// Success, but no time granted at all (no Granted-Service-Unit, or one
    /// with volume units only): the call cannot be timed, so it does not
    /// run unlimited.
    NoTimeGranted,
    /// No CCA (Tx expired, or the request failed) and the failure handling
    /// says TERMINATE (RETRY_AND_TERMINATE: after its one retry).
    Timeout,
}

/// Why a running call must be torn down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum TerminateReason {
    /// The granted time is used up (final units, or exhaustion policy).
    CreditExhausted,
    /// A re-authorisation was refused with this Result-Code.
    Refused(ResultCode),
    /// The server sent an Abort-Session-Request.
    Aborted,
    /// No CCA within Tx and the failure handling says to terminate.
    Timeout,
}

/// What the application must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum PrepaidEvent {
    /// Let the call through. `Some(n)`: the call may last `n` seconds from
    /// answer (set the dialog timer); `None`: no limit (credit control not
    /// applicable, 4011, or failure handling granting the service: CONTINUE,
    /// or Tx expired under CONTINUE or RETRY_AND_TERMINATE). After a `None`
    /// granted at Tx expiry, a late CCA-I may still bring `Some(n)`, and a
    /// late failure a [`PrepaidEvent::TerminateCall`].
    Allowed {
        /// Seconds granted.
        seconds: Option<u32>,
    },
    /// Refuse the call (SIP 403).
    Denied(DenyReason),
    /// A re-authorisation granted this many more seconds from now.
    Regranted {
        /// Seconds granted.
        seconds: u32,
    },
    /// End the call now.
    TerminateCall(TerminateReason),
    /// The session is over (after the CCA-T, or after a denial).
    Finished,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Outgoing {
    request_type: CcRequestType,
    number: u32,
    /// Termination-Cause (CCR-T only).
    cause: Option<TerminationCause>,
    /// CC-Time requested (RSU), if any.
    requested: Option<u32>,
    /// CC-Time used since the last report (USU), if any.
    used: Option<u32>,
    /// Event-Timestamp.
    at: Instant,
    sent: bool,
    /// The End-to-End id of the first transmission, once it went out.
    end_to_end: Option<u32>,
    retried: bool,
    /// Tx expired for this transmission; waiting for a late answer.
    waiting: bool,
    /// Tx expired with CONTINUE or RETRY_AND_TERMINATE and the service was
    /// granted while waiting (RFC 8506 §5.7).
    granted: bool,
}

/// Bound on queued events.
const QUEUE: usize = 8;

/// After Tx expired with CONTINUE or RETRY_AND_TERMINATE the client keeps
/// waiting for a late answer "until the timeout of the request (e.g., 120
/// seconds)" (RFC 8506 §5.7): a CCR's answer deadline is this many Tx after
/// it was sent (120 s with the default Tx of 10 s). Under TERMINATE, and
/// for a CCR-T, the deadline is Tx itself.
pub const LATE_ANSWER_FACTOR: u32 = 12;

/// How a CCA's Result-Code is handled (RFC 8506 §7, Tables 3 and 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// 2xxx.
    Success,
    /// 4011 DIAMETER_CREDIT_CONTROL_NOT_APPLICABLE: grant the service, end
    /// credit control (Idle).
    NotApplicable,
    /// "Temporary error": DIAMETER_TOO_BUSY, UNABLE_TO_DELIVER or
    /// LOOP_DETECTED, handled as a failure to send.
    Temporary,
    /// Refused whatever the CCFH: END_USER_SERVICE_DENIED (and USER_UNKNOWN
    /// on the initial request), as the tables list, and every other
    /// transient failure such as 4012 CREDIT_LIMIT_REACHED (the account
    /// cannot cover the service, §9.1).
    Refused,
    /// "Failed answer" (any other code): the CCFH decides.
    Failed,
}

fn classify(rc: ResultCode, initial: bool) -> Outcome {
    if rc.is_success() {
        Outcome::Success
    } else if rc == ResultCode::CREDIT_CONTROL_NOT_APPLICABLE {
        Outcome::NotApplicable
    } else if rc == ResultCode::TOO_BUSY
        || rc == ResultCode::UNABLE_TO_DELIVER
        || rc == ResultCode::LOOP_DETECTED
    {
        Outcome::Temporary
    } else if rc.is_transient_failure() || (initial && rc == ResultCode::USER_UNKNOWN) {
        Outcome::Refused
    } else {
        Outcome::Failed
    }
}

const fn terminate_reason(d: DenyReason) -> TerminateReason {
    match d {
        DenyReason::Result(rc) => TerminateReason::Refused(rc),
        DenyReason::NoCredit | DenyReason::NoTimeGranted => TerminateReason::CreditExhausted,
        DenyReason::Timeout => TerminateReason::Timeout,
    }
}

/// One prepaid call's credit-control session.
#[derive(Debug, Clone)]
pub struct PrepaidClient {
    parties: Parties,
    session_id: SessionId,
    state: PrepaidState,
    next_number: u32,
    out: Option<Outgoing>,
    events: heapless::Deque<PrepaidEvent, QUEUE>,
    failure_handling: Option<CreditControlFailureHandling>,
    /// The server that answered the CCR-I, when it does not support
    /// failover (CC-Session-Failover, RFC 8506 §5.7): later CCRs go there.
    server: Option<IdentityBuf>,
    /// Call answered at.
    answered: Option<Instant>,
    /// The call ended (or had to end) at: usage stops here.
    ended_at: Option<Instant>,
    /// Seconds of usage reported so far (sum of every USU sent).
    reported: u32,
    /// Granted seconds not yet re-authorised (for Allowed before answer).
    granted: Option<u32>,
    /// The grant runs out at.
    grant_deadline: Option<Instant>,
    /// Validity-Time runs out at.
    validity_deadline: Option<Instant>,
    /// Tx, owned by the session under CONTINUE and RETRY_AND_TERMINATE
    /// (it grants the service; the request's own deadline is later).
    tx_deadline: Option<Instant>,
    final_units: bool,
    /// The application hung up (or must) while a CCR was outstanding.
    end_pending: Option<TerminationCause>,
    /// The call was answered while a CCR-U was outstanding: the CCR-U of
    /// [`PrepaidConfig::update_on_answer`] is still to be sent.
    answer_update_owed: bool,
    terminations: u8,
    clock: Monotonic,
}

impl PrepaidClient {
    /// A new session (state Idle) with its Session-Id (e.g. the SIP Call-ID).
    pub fn new(session_id: SessionId, parties: Parties) -> Self {
        PrepaidClient {
            parties,
            session_id,
            state: PrepaidState::Idle,
            next_number: 0,
            out: None,
            events: heapless::Deque::new(),
            failure_handling: None,
            server: None,
            answered: None,
            ended_at: None,
            reported: 0,
            granted: None,
            grant_deadline: None,
            validity_deadline: None,
            tx_deadline: None,
            final_units: false,
            end_pending: None,
            answer_update_owed: false,
            terminations: 0,
            clock: Monotonic::new(Instant::ZERO),
        }
    }

    /// The state.
    pub const fn state(&self) -> PrepaidState {
        self.state
    }
    /// The parties charged.
    pub const fn parties(&self) -> &Parties {
        &self.parties
    }
    /// How many CCR-Terminations this session produced (0 or 1).
    pub const fn terminations(&self) -> u8 {
        self.terminations
    }
    /// The CC-Request-Number the next CCR will carry.
    pub const fn next_request_number(&self) -> u32 {
        self.next_number
    }
    /// The server the session is bound to after its first answer, if it
    /// does not support failover.
    pub fn server(&self) -> Option<&str> {
        opt(&self.server)
    }

    fn ccfh(&self, cfg: &PrepaidConfig) -> CreditControlFailureHandling {
        self.failure_handling.unwrap_or(cfg.failure_handling)
    }

    fn event(&mut self, e: PrepaidEvent) {
        if self.events.push_back(e).is_err() {
            let _ = self.events.pop_front();
            let _ = self.events.push_back(e);
        }
    }

    /// Grant the service, unless the call is already over.
    fn allow(&mut self, seconds: Option<u32>) {
        if self.end_pending.is_none() {
            self.event(PrepaidEvent::Allowed { seconds });
        }
    }

    fn queue(
        &mut self,
        now: Instant,
        t: CcRequestType,
        cause: Option<TerminationCause>,
        requested: Option<u32>,
        used: Option<u32>,
    ) {
        let number = self.next_number;
        self.next_number = self.next_number.saturating_add(1);
        self.out = Some(Outgoing {
            request_type: t,
            number,
            cause,
            requested,
            used,
            at: now,
            sent: false,
            end_to_end: None,
            retried: false,
            waiting: false,
            granted: false,
        });
        self.state = match t {
            CcRequestType::Initial => PrepaidState::PendingInitial,
            CcRequestType::Termination => {
                self.terminations = self.terminations.saturating_add(1);
                PrepaidState::PendingTermination
            }
            _ => PrepaidState::PendingUpdate,
        };
        self.tx_deadline = None;
    }

    /// Usage since the last report (answer to hangup, or to `now` while the
    /// call runs), and mark it reported. Whole seconds of the running total
    /// are reported, so the reports add up to the rounded duration.
    fn take_usage(&mut self, now: Instant) -> u32 {
        let Some(a) = self.answered else {
            return 0;
        };
        let until = self.ended_at.unwrap_or(now);
        let total = seconds_between(a, until);
        let used = total.saturating_sub(self.reported);
        self.reported = self.reported.max(total);
        used
    }

    /// The grant running out ends the call (rather than re-authorising).
    fn terminate_on_exhaustion(&self, cfg: &PrepaidConfig) -> bool {
        cfg.on_exhaustion == OnExhaustion::Terminate || self.final_units
    }

    /// The call must end (hangup, abort, grant used up) while a CCR is
    /// outstanding: remember it; the CCR-T follows the answer.
    fn end_later(&mut self, now: Instant, cause: TerminationCause) {
        if self.end_pending.is_none() {
            self.end_pending = Some(cause);
            self.ended_at = Some(now);
        }
        // Usage stops now, whatever the answer says.
        self.grant_deadline = None;
    }

    // ---- call events --------------------------------------------------------

    /// INVITE: send the CCR-Initial (blocking: wait for [`PrepaidEvent::Allowed`]
    /// or [`PrepaidEvent::Denied`]).
    pub fn call_setup(&mut self, cx: Ctx<'_, PrepaidConfig>, now: Instant) {
        let now = self.clock.update(now);
        if self.state != PrepaidState::Idle {
            return;
        }
        let rsu = cx.shared.requested_time;
        self.queue(now, CcRequestType::Initial, None, Some(rsu), None);
    }

    /// The call was answered: usage counts from now; the grant timer starts.
    /// With [`PrepaidConfig::update_on_answer`] a CCR-U (RSU 0, Event-Timestamp
    /// = answer time) follows, once no other CCR is outstanding.
    pub fn call_answered(&mut self, cx: Ctx<'_, PrepaidConfig>, now: Instant) {
        let now = self.clock.update(now);
        if self.answered.is_some()
            || self.end_pending.is_some()
            || !matches!(
                self.state,
                PrepaidState::Open | PrepaidState::PendingInitial | PrepaidState::PendingUpdate
            )
        {
            return;
        }
        self.answered = Some(now);
        if let Some(g) = self.granted {
            self.grant_deadline = Some(now + Duration::from_secs(u64::from(g)));
        }
        if cx.shared.update_on_answer {
            match self.state {
                PrepaidState::Open => {
                    self.queue(now, CcRequestType::Update, None, Some(0), None);
                }
                PrepaidState::PendingUpdate => self.answer_update_owed = true,
                // Sent after the CCA-I.
                _ => {}
            }
        }
    }

    /// The call ended (BYE, CANCEL, or the application's own reason):
    /// send the CCR-Termination with the usage (Termination-Cause 1,
    /// DIAMETER_LOGOUT, for a hangup). While a CCR is outstanding the
    /// termination is queued (RFC 8506 §7 "User service terminated") and the
    /// usage stops now.
    pub fn call_ended(&mut self, now: Instant, cause: TerminationCause) {
        let now = self.clock.update(now);
        match self.state {
            PrepaidState::Open => {
                self.ended_at = Some(now);
                self.terminate(now, cause);
            }
            PrepaidState::PendingInitial | PrepaidState::PendingUpdate => {
                self.end_later(now, cause);
            }
            PrepaidState::Idle => {
                self.state = PrepaidState::Ended;
                self.event(PrepaidEvent::Finished);
            }
            PrepaidState::PendingTermination | PrepaidState::Ended => {}
        }
    }

    fn terminate(&mut self, now: Instant, cause: TerminationCause) {
        let used = self.take_usage(now);
        self.grant_deadline = None;
        self.validity_deadline = None;
        self.answer_update_owed = false;
        self.queue(
            now,
            CcRequestType::Termination,
            Some(cause),
            None,
            Some(used),
        );
    }

    fn finish(&mut self) {
        self.state = PrepaidState::Ended;
        self.out = None;
        self.tx_deadline = None;
        self.grant_deadline = None;
        self.validity_deadline = None;
        self.answer_update_owed = false;
        self.event(PrepaidEvent::Finished);
    }

    // ---- Diameter input -------------------------------------------------------

    /// The CCA to the outstanding CCR. Result-Codes follow RFC 8506 §7
    /// Tables 3 and 4: 4011 grants the service without credit control;
    /// DIAMETER_TOO_BUSY, UNABLE_TO_DELIVER and LOOP_DETECTED are
    /// "temporary errors" handled like a failure to send; 4010, other 4xxx
    /// (4012...) and, on the CCR-I, 5030 refuse the service; any other
    /// failure is a "failed answer" for which the
    /// Credit-Control-Failure-Handling decides (CONTINUE grants the service).
    fn on_answer(&mut self, cfg: &PrepaidConfig, now: Instant, cca: &Cca<'_>) {
        let Some(out) = self.out.filter(|o| o.sent) else {
            return;
        };
        let rc = cca.result_code;
        if let Some(f) = cca.credit_control_failure_handling {
            self.failure_handling = Some(f);
        }
        let outcome = classify(rc, out.request_type == CcRequestType::Initial);
        if outcome == Outcome::Temporary {
            // "Failure to send, or temporary error" (Tables 3 and 4); a
            // retry keeps the End-to-End id and carries the T flag.
            let mut o = out;
            o.end_to_end = o.end_to_end.or(Some(cca.message.end_to_end()));
            self.out = Some(o);
            self.send_failed(cfg, now, Some(rc));
            return;
        }
        if outcome == Outcome::Success && out.request_type == CcRequestType::Initial {
            // RFC 8506 §5.7: without FAILOVER_SUPPORTED the session stays
            // with the server that answered.
            let failover = cca.cc_session_failover == Some(CcSessionFailover::Supported);
            self.server = if failover {
                None
            } else {
                owned_text("Origin-Host", cca.origin_host).ok()
            };
        }
        self.out = None;
        self.tx_deadline = None;
        let grant = Grant::read(cca);
        match out.request_type {
            CcRequestType::Initial => {
                self.on_initial_answer(cfg, now, rc, outcome, grant, out.granted)
            }
            CcRequestType::Update => {
                self.on_update_answer(cfg, now, rc, outcome, grant, out.granted)
            }
            _ => self.finish(),
        }
    }

    fn continues(&self, cfg: &PrepaidConfig) -> bool {
        self.ccfh(cfg) == CreditControlFailureHandling::Continue
    }

    /// The initial request failed: refuse the call (or, if the service was
    /// granted when Tx expired, tear it down).
    fn refuse_initial(&mut self, reason: DenyReason, granted: bool) {
        if granted {
            self.event(PrepaidEvent::TerminateCall(terminate_reason(reason)));
        } else {
            self.event(PrepaidEvent::Denied(reason));
        }
        self.finish();
    }

    fn on_initial_answer(
        &mut self,
        cfg: &PrepaidConfig,
        now: Instant,
        rc: ResultCode,
        outcome: Outcome,
        grant: Grant,
        granted: bool,
    ) {
        match outcome {
            Outcome::Success => {}
            Outcome::NotApplicable => {
                // §5.1, Table 3: service without credit control; no
                // further CCRs.
                if !granted {
                    self.allow(None);
                }
                self.finish();
                return;
            }
            Outcome::Failed if self.continues(cfg) => {
                // Table 3: failed CCA-I and CCFH CONTINUE: grant, Idle.
                if !granted {
                    self.allow(None);
                }
                self.finish();
                return;
            }
            _ => {
                self.refuse_initial(DenyReason::Result(rc), granted);
                return;
            }
        }
        let seconds = match grant.time {
            Err(rc) => return self.refuse_initial(DenyReason::Result(rc), granted),
            Ok(None) => return self.refuse_initial(DenyReason::NoTimeGranted, granted),
            Ok(Some(0)) => return self.refuse_initial(DenyReason::NoCredit, granted),
            Ok(Some(s)) => s,
        };
        self.state = PrepaidState::Open;
        self.granted = Some(seconds);
        self.final_units = grant.final_action.is_some();
        if let Some(v) = grant.validity {
            self.validity_deadline = Some(now + Duration::from_secs(u64::from(v)));
        }
        if let Some(a) = self.answered {
            // RFC 8506 §5.2: the grant counts from when the service is
            // delivered; ringing before the answer is not charged.
            self.grant_deadline = Some(a.max(now) + Duration::from_secs(u64::from(seconds)));
        }
        if let Some(cause) = self.end_pending.take() {
            self.terminate(now, cause);
        } else {
            self.allow(Some(seconds));
            if let (Some(a), true) = (self.answered, cfg.update_on_answer) {
                self.queue(a, CcRequestType::Update, None, Some(0), None);
            }
        }
    }

    /// Keep the call without credit supervision (CCFH CONTINUE after a
    /// failed CCR-U). The session stays Open so that the hangup still sends
    /// the one CCR-T with the usage.
    fn unsupervised(&mut self, granted: bool) {
        self.state = PrepaidState::Open;
        self.grant_deadline = None;
        self.validity_deadline = None;
        self.final_units = false;
        if !granted {
            self.allow(None);
        }
    }

    fn on_update_answer(
        &mut self,
        cfg: &PrepaidConfig,
        now: Instant,
        rc: ResultCode,
        outcome: Outcome,
        grant: Grant,
        granted: bool,
    ) {
        self.state = PrepaidState::Open;
        if outcome == Outcome::NotApplicable {
            // Table 4: grant the service, credit control ends (Idle).
            if !granted {
                self.allow(None);
            }
            self.finish();
            return;
        }
        if let Some(cause) = self.end_pending.take() {
            self.terminate(now, cause);
            return;
        }
        match outcome {
            Outcome::Success => {}
            Outcome::Failed if self.continues(cfg) => {
                self.unsupervised(granted);
                return;
            }
            _ => {
                self.event(PrepaidEvent::TerminateCall(TerminateReason::Refused(rc)));
                self.terminate(now, TerminationCause::AuthExpired);
                return;
            }
        }
        let time = match grant.time {
            Err(rc) => {
                self.event(PrepaidEvent::TerminateCall(TerminateReason::Refused(rc)));
                self.terminate(now, TerminationCause::AuthExpired);
                return;
            }
            Ok(t) => t,
        };
        if time.is_some() {
            // A new grant replaces the old one with its Validity-Time and
            // Final-Unit-Indication (RFC 8506 §5.6, §8.33).
            self.final_units = grant.final_action.is_some();
            self.validity_deadline = None;
        } else if grant.final_action.is_some() {
            self.final_units = true;
        }
        if let Some(v) = grant.validity {
            self.validity_deadline = Some(now + Duration::from_secs(u64::from(v)));
        }
        match time {
            Some(0) if self.answered.is_some() => {
                // Re-authorisation refused by a zero grant.
                self.event(PrepaidEvent::TerminateCall(
                    TerminateReason::CreditExhausted,
                ));
                self.terminate(now, TerminationCause::AuthExpired);
                return;
            }
            Some(g) if self.answered.is_some() => {
                self.granted = Some(g);
                self.grant_deadline = Some(now + Duration::from_secs(u64::from(g)));
                self.event(PrepaidEvent::Regranted { seconds: g });
            }
            Some(g) => self.granted = Some(g),
            None => {}
        }
        if self.answer_update_owed {
            self.answer_update_owed = false;
            if let Some(a) = self.answered {
                self.queue(a, CcRequestType::Update, None, Some(0), None);
            }
        }
    }

    /// "Failure to send" (RFC 8506 §7): with Credit-Control-Failure-Handling
    /// (§5.7, §8.14) RETRY_AND_TERMINATE the CCR is sent once more (T flag,
    /// same CC-Request-Number); otherwise CONTINUE grants the service and
    /// TERMINATE refuses it or tears the call down (then a CCR-T reports the
    /// usage).
    fn send_failed(&mut self, cfg: &PrepaidConfig, now: Instant, rc: Option<ResultCode>) {
        let Some(mut out) = self.out else {
            return;
        };
        self.tx_deadline = None;
        let retry =
            self.ccfh(cfg) == CreditControlFailureHandling::RetryAndTerminate && !out.retried;
        if retry {
            out.sent = false;
            out.retried = true;
            out.waiting = false;
            self.out = Some(out);
            return;
        }
        self.out = None;
        let cont = self.continues(cfg);
        match out.request_type {
            CcRequestType::Initial => {
                if cont {
                    // Continue without credit control: no further CCRs.
                    if !out.granted {
                        self.allow(None);
                    }
                    self.finish();
                } else {
                    let reason = rc.map_or(DenyReason::Timeout, DenyReason::Result);
                    self.refuse_initial(reason, out.granted);
                }
            }
            CcRequestType::Update => {
                self.state = PrepaidState::Open;
                if let Some(cause) = self.end_pending.take() {
                    self.terminate(now, cause);
                } else if cont {
                    self.unsupervised(out.granted);
                } else {
                    let reason = rc.map_or(TerminateReason::Timeout, TerminateReason::Refused);
                    self.event(PrepaidEvent::TerminateCall(reason));
                    self.terminate(now, TerminationCause::AuthExpired);
                }
            }
            _ => self.finish(),
        }
    }

    /// Tx expired under CONTINUE or RETRY_AND_TERMINATE (RFC 8506 §5.7,
    /// Tables 3 and 4): the service is granted and the session keeps
    /// waiting for a late answer until the request's deadline.
    fn tx_expired(&mut self) {
        self.tx_deadline = None;
        let Some(mut out) = self.out.filter(|o| o.sent) else {
            return;
        };
        out.waiting = true;
        if !out.granted {
            out.granted = true;
            self.allow(None);
        }
        self.out = Some(out);
    }

    fn reauthorize(&mut self, cfg: &PrepaidConfig, now: Instant) {
        let used = if self.answered.is_some() {
            Some(self.take_usage(now))
        } else {
            None
        };
        self.queue(
            now,
            CcRequestType::Update,
            None,
            Some(cfg.requested_time),
            used,
        );
    }

    /// A server-initiated request for this session: RAR (re-authorise) or
    /// ASR (abort).
    ///
    /// RAR in Open: RAA 2002 DIAMETER_LIMITED_SUCCESS, then a CCR-U (RFC
    /// 8506 §5.5); while a CCR is outstanding, or the CCR-T is: RAA 2001 and
    /// nothing more. ASR (RFC 6733 §8.5): ASA 2001, the call is torn down
    /// and the CCR-T follows (after the outstanding answer, if any). Before
    /// the session starts or after it ended: 5002
    /// DIAMETER_UNKNOWN_SESSION_ID. Any other command: 3001.
    fn on_server_request(
        &mut self,
        cx: Ctx<'_, PrepaidConfig>,
        now: Instant,
        req: &Message<'_>,
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        let code = req.command_code();
        let (host, realm) = (cx.node.origin_host.as_str(), cx.node.origin_realm.as_str());
        if code != CommandCode::RE_AUTH && code != CommandCode::ABORT_SESSION {
            return answer_unsupported(req, host, realm, out);
        }
        let live = !matches!(self.state, PrepaidState::Idle | PrepaidState::Ended);
        let result = if !live {
            ResultCode::UNKNOWN_SESSION_ID
        } else if code == CommandCode::RE_AUTH && self.state == PrepaidState::Open {
            ResultCode::LIMITED_SUCCESS
        } else {
            ResultCode::SUCCESS
        };
        let sid = self.session_id.as_str();
        let written = if code == CommandCode::ABORT_SESSION {
            AsaRepr::new(sid, result, host, realm).encode_answer_to(req, out)
        } else {
            RaaRepr::new(sid, result, host, realm).encode_answer_to(req, out)
        }
        .map(<[u8]>::len);
        if live && code == CommandCode::ABORT_SESSION {
            match self.state {
                PrepaidState::Open => {
                    self.event(PrepaidEvent::TerminateCall(TerminateReason::Aborted));
                    self.ended_at = Some(now);
                    self.terminate(now, TerminationCause::Administrative);
                }
                PrepaidState::PendingInitial | PrepaidState::PendingUpdate => {
                    if self.end_pending.is_none() {
                        self.event(PrepaidEvent::TerminateCall(TerminateReason::Aborted));
                    }
                    self.end_later(now, TerminationCause::Administrative);
                }
                _ => {}
            }
        } else if live && self.state == PrepaidState::Open {
            self.reauthorize(cx.shared, now);
        }
        written
    }

    fn write_ccr(
        &self,
        cx: &Ctx<'_, PrepaidConfig>,
        o: &Outgoing,
        buf: &mut [u8],
    ) -> Result<usize, EncodeError> {
        let c = &*cx.shared;
        let ts = cx
            .node
            .clock
            .timestamp(o.at)
            .ok_or(EncodeError::InvalidValue)?;
        super::write_ccr(
            cx.node,
            &CcrTarget {
                destination_realm: c.destination_realm.as_str(),
                destination_host: opt(&self.server).or(opt(&c.destination_host)),
                service_context_id: c.service_context_id.as_str(),
                service_information: c.service_information,
            },
            self.session_id.as_str(),
            &self.parties,
            &CcrFields {
                request_type: o.request_type,
                number: o.number,
                timestamp: ts,
                cause: o.cause,
                requested: o.requested,
                requested_action: None,
                used: o.used,
            },
            buf,
        )
    }
}

/// Answer a request a session does not handle: 3001
/// DIAMETER_COMMAND_UNSUPPORTED (RFC 6733 §7.1.3), with the E bit.
pub(crate) fn answer_unsupported(
    req: &Message<'_>,
    host: &str,
    realm: &str,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    let me = Identity {
        origin_host: host,
        origin_realm: realm,
    };
    let e = Error::new(ErrorKind::CommandUnsupported);
    error_answer(req.as_bytes(), &e, &me, &CreditControl, out)?
        .finish()
        .map(<[u8]>::len)
}

impl Machine for PrepaidClient {
    type Shared = PrepaidConfig;
    type Event = PrepaidEvent;

    fn session_id(&self) -> &str {
        self.session_id.as_str()
    }

    fn route<'a>(&'a self, shared: &'a PrepaidConfig) -> Route<'a> {
        Route {
            application: ApplicationId::CREDIT_CONTROL,
            realm: shared.destination_realm.as_str(),
            host: opt(&self.server).or(opt(&shared.destination_host)),
            host_only: self.server.is_some(),
        }
    }

    fn handle_answer(
        &mut self,
        cx: Ctx<'_, PrepaidConfig>,
        now: Instant,
        request: u32,
        answer: &Message<'_>,
    ) {
        let now = self.clock.update(now);
        if self.out.is_none_or(|o| o.number != request) {
            return;
        }
        match Cca::decode(answer) {
            Ok(cca) => self.on_answer(cx.shared, now, &cca),
            Err(e) => {
                let failed = RequestFailed {
                    request,
                    failure: Failure::InvalidAnswer(e),
                    end_to_end: Some(answer.end_to_end()),
                };
                self.handle_request_failed(cx, now, failed);
            }
        }
    }

    /// The outstanding CCR failed. Handed back with another route: sent
    /// again at once (T flag, same End-to-End id), Tx restarted. An invalid
    /// answer is a "failed answer" (as 5012 would be). Anything else is a
    /// failure to send.
    fn handle_request_failed(
        &mut self,
        cx: Ctx<'_, PrepaidConfig>,
        now: Instant,
        failed: RequestFailed,
    ) {
        let now = self.clock.update(now);
        let Some(mut out) = self.out.filter(|o| o.sent && o.number == failed.request) else {
            return;
        };
        out.end_to_end = out.end_to_end.or(failed.end_to_end);
        self.out = Some(out);
        match failed.failure {
            Failure::HandedBack => {
                out.sent = false;
                self.out = Some(out);
                self.tx_deadline = None;
            }
            Failure::InvalidAnswer(_) => {
                let outcome = classify(ResultCode::UNABLE_TO_COMPLY, false);
                self.out = None;
                self.tx_deadline = None;
                let g = Grant::default();
                let rc = ResultCode::UNABLE_TO_COMPLY;
                match out.request_type {
                    CcRequestType::Initial => {
                        self.on_initial_answer(cx.shared, now, rc, outcome, g, out.granted)
                    }
                    CcRequestType::Update => {
                        self.on_update_answer(cx.shared, now, rc, outcome, g, out.granted)
                    }
                    _ => self.finish(),
                }
            }
            _ => self.send_failed(cx.shared, now, None),
        }
    }

    fn handle_request(
        &mut self,
        cx: Ctx<'_, PrepaidConfig>,
        now: Instant,
        request: &Message<'_>,
        _duplicate: bool,
        answer: &mut [u8],
    ) -> Result<usize, EncodeError> {
        let now = self.clock.update(now);
        self.on_server_request(cx, now, request, answer)
    }

    /// Act on expired timers: Tx (failure handling), the grant (terminate
    /// or re-authorise) and Validity-Time (re-authorise). While a CCR-U is
    /// outstanding, a grant that ends the call when used up still does
    /// (the CCR-T follows the answer).
    fn handle_timeout(&mut self, cx: Ctx<'_, PrepaidConfig>, now: Instant) {
        let now = self.clock.update(now);
        let cfg = &*cx.shared;
        if self.tx_deadline.is_some_and(|d| now >= d) {
            self.tx_expired();
        }
        let grant_expired = self.grant_deadline.is_some_and(|d| now >= d);
        match self.state {
            PrepaidState::PendingUpdate if grant_expired => {
                if self.terminate_on_exhaustion(cfg) {
                    self.event(PrepaidEvent::TerminateCall(
                        TerminateReason::CreditExhausted,
                    ));
                    self.end_later(now, TerminationCause::AuthExpired);
                } else {
                    // The re-authorisation is under way; its answer sets
                    // the next grant.
                    self.grant_deadline = None;
                }
            }
            PrepaidState::Open if grant_expired => {
                self.grant_deadline = None;
                if self.terminate_on_exhaustion(cfg) {
                    self.event(PrepaidEvent::TerminateCall(
                        TerminateReason::CreditExhausted,
                    ));
                    self.ended_at = Some(now);
                    self.terminate(now, TerminationCause::AuthExpired);
                } else {
                    self.reauthorize(cfg, now);
                }
            }
            PrepaidState::Open if self.validity_deadline.is_some_and(|d| now >= d) => {
                self.validity_deadline = None;
                self.reauthorize(cfg, now);
            }
            _ => {}
        }
    }

    /// Write the outstanding CCR into `buf` (once; it is written again only
    /// for a retransmission). Starts Tx under CONTINUE and
    /// RETRY_AND_TERMINATE; the request's deadline is the late-answer wait
    /// then, Tx itself under TERMINATE and for a CCR-T.
    fn poll_transmit(
        &mut self,
        cx: Ctx<'_, PrepaidConfig>,
        now: Instant,
        buf: &mut [u8],
    ) -> Option<Result<Transmit, EncodeError>> {
        let now = self.clock.update(now);
        let mut out = self.out.filter(|o| !o.sent)?;
        let r = self.write_ccr(&cx, &out, buf);
        let len = match r {
            Ok(len) => len,
            Err(e) => {
                // It cannot be sent: a failure to send, handled here (a
                // retry under RETRY_AND_TERMINATE fails the same way and
                // then ends it).
                out.sent = true;
                self.out = Some(out);
                self.send_failed(cx.shared, now, None);
                return Some(Err(e));
            }
        };
        let tx = cx.shared.tx;
        let waits = self.ccfh(cx.shared) != CreditControlFailureHandling::Terminate
            && out.request_type != CcRequestType::Termination;
        let deadline = if waits {
            self.tx_deadline = Some(now + tx);
            now + tx.saturating_mul(LATE_ANSWER_FACTOR)
        } else {
            self.tx_deadline = None;
            now + tx
        };
        out.sent = true;
        out.waiting = false;
        self.out = Some(out);
        Some(Ok(Transmit {
            len,
            request: out.number,
            deadline,
            end_to_end: out.end_to_end,
        }))
    }

    fn poll_event(&mut self) -> Option<PrepaidEvent> {
        self.events.pop_front()
    }

    /// Only timers that `handle_timeout` acts on in the current state are
    /// reported, so a deadline in the past is always consumed.
    fn poll_timeout(&self) -> Option<Instant> {
        let t = self.tx_deadline;
        match self.state {
            PrepaidState::Open => {
                earliest(t, earliest(self.grant_deadline, self.validity_deadline))
            }
            PrepaidState::PendingUpdate => earliest(t, self.grant_deadline),
            _ => t,
        }
    }

    fn is_closed(&self) -> bool {
        self.state == PrepaidState::Ended && self.events.is_empty()
    }
}

/// What a CCA grants for the call: CC-Time from the top-level
/// Granted-Service-Unit, else from the Multiple-Services-Credit-Control of
/// the service (RFC 8506 §5.1.2: its Result-Code applies to that service),
/// with Validity-Time and Final-Unit-Indication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Grant {
    /// `Ok(None)`: no time granted; `Err(rc)`: the service was refused in
    /// its Multiple-Services-Credit-Control.
    time: Result<Option<u32>, ResultCode>,
    validity: Option<u32>,
    final_action: Option<FinalUnitAction>,
}

impl Default for Grant {
    fn default() -> Self {
        Grant {
            time: Ok(None),
            validity: None,
            final_action: None,
        }
    }
}

impl Grant {
    fn read(cca: &Cca<'_>) -> Grant {
        let mut g = Grant {
            time: Ok(cca.granted_service_unit.and_then(|u| u.cc_time)),
            // A Validity-Time of 0 would re-authorise again at once, in a
            // loop: taken as absent.
            validity: cca.validity_time.filter(|v| *v > 0),
            final_action: cca.final_unit_indication.map(|f| f.final_unit_action),
        };
        if matches!(g.time, Ok(Some(_))) {
            return g;
        }
        // The first service granted time, else the first refusal.
        let mut refused = None;
        for m in cca.mscc().filter_map(Result::ok) {
            match m.result_code {
                Some(rc) if !rc.is_success() => {
                    refused = refused.or(Some(rc));
                }
                _ => {
                    if let Some(t) = m.granted_service_unit.and_then(|u| u.cc_time) {
                        g.time = Ok(Some(t));
                        g.validity = g.validity.or(m.validity_time.filter(|v| *v > 0));
                        g.final_action = g
                            .final_action
                            .or(m.final_unit_indication.map(|f| f.final_unit_action));
                        return g;
                    }
                }
            }
        }
        if let Some(rc) = refused {
            g.time = Err(rc);
        }
        g
    }
}
