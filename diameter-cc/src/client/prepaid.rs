//! The prepaid (session-based) credit-control client: RFC 8506 §7, client
//! session-based state machine, as a SIP proxy uses it to charge one call.
//!
//! Read RFC 8506 §5 (session-based credit control), §7 (state machines)
//! and `SCENARIOS.md` (Prepaid) first.
//!
//! One [`PrepaidClient`] per call. Call events come from the application
//! ([`PrepaidClient::call_setup`] at INVITE, [`PrepaidClient::call_answered`],
//! [`PrepaidClient::call_ended`]); Diameter input from the transport
//! ([`PrepaidClient::handle_answer`], [`PrepaidClient::handle_server_request`]
//! for RAR/ASR, [`PrepaidClient::handle_request_failed`]); time through
//! [`PrepaidClient::handle_timeout`]. The outputs follow the order of
//! [`crate::session`]: [`PrepaidClient::poll_event`] (allow, deny, tear the
//! call down), [`PrepaidClient::poll_transmit`] (CCRs, RAAs, ASAs),
//! [`PrepaidClient::poll_timeout`].
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
//! it ([`PrepaidEvent::Allowed`] `None`) and keep waiting for a late answer;
//! a failure to send (or a temporary error) is retried once under
//! RETRY_AND_TERMINATE, granted under CONTINUE and refused under TERMINATE.
//! Deliberate departure from Table 4: once a CCA-I succeeded the session
//! always ends with exactly one CCR-T (even when failure handling ends the
//! service, or continues it unsupervised until the hangup), so the server
//! gets the final usage and releases its reservation at once; the only
//! exception is 4011 (credit control not applicable), after which no CCR is
//! sent.

use core::time::Duration;

use diameter_core::dict::base::{self, TerminationCause};
use diameter_core::time::{earliest, Instant};
use diameter_core::{AvpSet, CommandCode, EncodeError, HeaderRepr, Message, ResultCode};

use crate::dict::{self, CcRequestType, CreditControlFailureHandling, FinalUnitAction};
use crate::msg::{AsaRepr, RaaRepr};
use crate::session::{seconds_between, SessionId, WallClock};

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

/// Settings shared by all prepaid calls of one client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrepaidConfig<'a> {
    /// Origin-Host.
    pub origin_host: &'a str,
    /// Origin-Realm.
    pub origin_realm: &'a str,
    /// Destination-Realm.
    pub destination_realm: &'a str,
    /// Destination-Host, which lets the server send RAR/ASR back to us.
    pub destination_host: Option<&'a str>,
    /// Service-Context-Id (e.g. `voice@OsipsDiamCCR`).
    pub service_context_id: &'a str,
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
    /// Wall clock for Event-Timestamp.
    pub clock: WallClock,
}

impl<'a> PrepaidConfig<'a> {
    /// Defaults: RSU 10800 s, CCR-U on answer, terminate on exhaustion,
    /// Tx 10 s, TERMINATE on failure, no Destination-Host.
    pub const fn new(
        origin_host: &'a str,
        origin_realm: &'a str,
        destination_realm: &'a str,
        service_context_id: &'a str,
    ) -> Self {
        PrepaidConfig {
            origin_host,
            origin_realm,
            destination_realm,
            destination_host: None,
            service_context_id,
            requested_time: 10_800,
            update_on_answer: true,
            on_exhaustion: OnExhaustion::Terminate,
            tx: Duration::from_secs(10),
            failure_handling: CreditControlFailureHandling::Terminate,
            service_information: true,
            clock: WallClock { unix_at_zero: 0 },
        }
    }
}

/// Who is charged for what: the "common tail" of every CCR in SCENARIOS.md.
///
/// IMS-Information also carries Role-Of-Node and Node-Functionality: TS
/// 32.299 §7.2 makes Node-Functionality required there, so a 3GPP-aware
/// server (and our own validation) rejects an IMS-Information without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parties<'s> {
    /// User-Name (the caller).
    pub user_name: &'s str,
    /// Subscription-Id-Data, sent as END_USER_E164 (the caller's number).
    pub subscription_id: &'s str,
    /// Calling-Party-Address (3GPP).
    pub calling_party: &'s str,
    /// Called-Party-Address (3GPP).
    pub called_party: &'s str,
    /// Role-Of-Node (3GPP), usually ORIGINATING.
    pub role_of_node: crate::dict::tgpp::RoleOfNode,
    /// Node-Functionality (3GPP); a SIP proxy charging calls acts as AS.
    pub node_functionality: crate::dict::tgpp::NodeFunctionality,
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
pub enum DenyReason {
    /// The CCA carried this Result-Code (4010, 4012, 5030, 5031...).
    Result(ResultCode),
    /// Success, but Granted-Service-Unit CC-Time 0: no credit.
    NoCredit,
    /// No CCA (Tx expired, or the request failed) and the failure handling
    /// says TERMINATE (RETRY_AND_TERMINATE: after its one retry).
    Timeout,
}

/// Why a running call must be torn down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
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

/// What [`PrepaidClient::poll_transmit`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Transmit {
    /// A CCR: pass it to the peer's `send_request`; if `retransmission`,
    /// set the T flag and keep the End-to-End id of the first attempt.
    Request {
        /// Bytes written.
        len: usize,
        /// Its CC-Request-Type.
        request_type: CcRequestType,
        /// Its CC-Request-Number.
        number: u32,
        /// A resend after a failure (RFC 8506 §5.7 RETRY_AND_TERMINATE).
        retransmission: bool,
    },
    /// An answer (RAA/ASA) to a server request: write it as is.
    Answer {
        /// Bytes written.
        len: usize,
    },
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
    /// When it was (last) written by `poll_transmit`.
    sent_at: Instant,
    sent: bool,
    retransmission: bool,
    retried: bool,
    /// Tx expired for this transmission; waiting for a late answer.
    waiting: bool,
    /// Tx expired with CONTINUE or RETRY_AND_TERMINATE and the service was
    /// granted while waiting (RFC 8506 §5.7).
    granted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ServerRequest {
    header: HeaderRepr,
    result: ResultCode,
}

/// Bound on queued events and answers.
const QUEUE: usize = 8;

/// After Tx expired with CONTINUE or RETRY_AND_TERMINATE the client keeps
/// waiting for a late answer "until the timeout of the request (e.g., 120
/// seconds)" (RFC 8506 §5.7): it gives the request up this many Tx after it
/// was sent (120 s with the default Tx of 10 s), unless the transport
/// reports the failure first ([`PrepaidClient::handle_request_failed`]).
const LATE_ANSWER_FACTOR: u32 = 12;

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
        DenyReason::NoCredit => TerminateReason::CreditExhausted,
        DenyReason::Timeout => TerminateReason::Timeout,
    }
}

/// One prepaid call's credit-control session.
#[derive(Debug)]
pub struct PrepaidClient<'c, 's> {
    config: &'c PrepaidConfig<'c>,
    parties: Parties<'s>,
    session_id: SessionId,
    state: PrepaidState,
    next_number: u32,
    out: Option<Outgoing>,
    answers: heapless::Deque<ServerRequest, 4>,
    events: heapless::Deque<PrepaidEvent, QUEUE>,
    failure_handling: CreditControlFailureHandling,
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
    tx_deadline: Option<Instant>,
    final_units: bool,
    /// The application hung up (or must) while a CCR was outstanding.
    end_pending: Option<TerminationCause>,
    /// The call was answered while a CCR-U was outstanding: the CCR-U of
    /// [`PrepaidConfig::update_on_answer`] is still to be sent.
    answer_update_owed: bool,
    terminations: u8,
}

impl<'c, 's> PrepaidClient<'c, 's> {
    /// A new session (state Idle) with its Session-Id (e.g. the SIP Call-ID).
    pub fn new(config: &'c PrepaidConfig<'c>, session_id: SessionId, parties: Parties<'s>) -> Self {
        PrepaidClient {
            config,
            parties,
            session_id,
            state: PrepaidState::Idle,
            next_number: 0,
            out: None,
            answers: heapless::Deque::new(),
            events: heapless::Deque::new(),
            failure_handling: config.failure_handling,
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
        }
    }

    /// The state.
    pub const fn state(&self) -> PrepaidState {
        self.state
    }
    /// The Session-Id.
    pub fn session_id(&self) -> &str {
        self.session_id.as_str()
    }
    /// How many CCR-Terminations this session produced (0 or 1).
    pub const fn terminations(&self) -> u8 {
        self.terminations
    }
    /// The CC-Request-Number the next CCR will carry.
    pub const fn next_request_number(&self) -> u32 {
        self.next_number
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
            sent_at: now,
            sent: false,
            retransmission: false,
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
    fn terminate_on_exhaustion(&self) -> bool {
        self.config.on_exhaustion == OnExhaustion::Terminate || self.final_units
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
    pub fn call_setup(&mut self, now: Instant) {
        if self.state != PrepaidState::Idle {
            return;
        }
        let rsu = self.config.requested_time;
        self.queue(now, CcRequestType::Initial, None, Some(rsu), None);
    }

    /// The call was answered: usage counts from now; the grant timer starts.
    /// With [`PrepaidConfig::update_on_answer`] a CCR-U (RSU 0, Event-Timestamp
    /// = answer time) follows, once no other CCR is outstanding.
    pub fn call_answered(&mut self, now: Instant) {
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
        if self.config.update_on_answer {
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

    /// A CCA for this session, matched to its CCR by the transport
    /// (Hop-by-Hop and End-to-End identifiers). Other messages, and answers
    /// whose CC-Request-Number is not the outstanding CCR's, are ignored
    /// (RFC 8506 §5.1). An answer without CC-Request-Number (an error answer
    /// with the E bit, RFC 6733 §7.2) is taken as the outstanding CCR's.
    ///
    /// Result-Codes follow RFC 8506 §7 Tables 3 and 4: 4011 grants the
    /// service without credit control; DIAMETER_TOO_BUSY,
    /// UNABLE_TO_DELIVER and LOOP_DETECTED are "temporary errors" handled
    /// like a failure to send ([`PrepaidClient::handle_request_failed`]);
    /// 4010, other 4xxx (4012...) and, on the CCR-I, 5030 refuse the service;
    /// any other failure is a "failed answer" for which the
    /// Credit-Control-Failure-Handling decides (CONTINUE grants the service).
    pub fn handle_answer(&mut self, now: Instant, cca: &Message<'_>) {
        if cca.is_request() || cca.command_code() != CommandCode::CREDIT_CONTROL {
            return;
        }
        // A late answer to the previous copy is good while a retransmission
        // waits to be sent.
        let Some(out) = self.out.filter(|o| o.sent || o.retransmission) else {
            return;
        };
        match cca.get(&dict::CC_REQUEST_NUMBER) {
            Ok(Some(n)) if n == out.number => {}
            Ok(None) => {}
            _ => return,
        }
        let rc = ResultCode(
            cca.get(&base::RESULT_CODE)
                .ok()
                .flatten()
                .unwrap_or(ResultCode::UNABLE_TO_COMPLY.0),
        );
        if let Ok(Some(f)) = cca.get(&dict::CREDIT_CONTROL_FAILURE_HANDLING) {
            self.failure_handling = f;
        }
        let outcome = classify(rc, out.request_type == CcRequestType::Initial);
        if outcome == Outcome::Temporary {
            // "Failure to send, or temporary error" (Tables 3 and 4).
            if out.sent {
                self.send_failed(now, Some(rc));
            }
            return;
        }
        self.out = None;
        self.tx_deadline = None;
        let grant = Grant::read(cca.avps());
        match out.request_type {
            CcRequestType::Initial => self.on_initial_answer(now, rc, outcome, grant, out.granted),
            CcRequestType::Update => self.on_update_answer(now, rc, outcome, grant, out.granted),
            _ => self.finish(),
        }
    }

    fn continues(&self) -> bool {
        self.failure_handling == CreditControlFailureHandling::Continue
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
            Outcome::Failed if self.continues() => {
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
        match grant.time {
            Some(0) => self.refuse_initial(DenyReason::NoCredit, granted),
            seconds => {
                self.state = PrepaidState::Open;
                self.granted = seconds;
                self.final_units = grant.final_action.is_some();
                if let Some(v) = grant.validity {
                    self.validity_deadline = Some(now + Duration::from_secs(u64::from(v)));
                }
                if let (Some(a), Some(g)) = (self.answered, seconds) {
                    self.grant_deadline = Some(a + Duration::from_secs(u64::from(g)));
                }
                if let Some(cause) = self.end_pending.take() {
                    self.terminate(now, cause);
                } else {
                    self.allow(seconds);
                    if let (Some(a), true) = (self.answered, self.config.update_on_answer) {
                        self.queue(a, CcRequestType::Update, None, Some(0), None);
                    }
                }
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
            Outcome::Failed if self.continues() => {
                self.unsupervised(granted);
                return;
            }
            _ => {
                self.event(PrepaidEvent::TerminateCall(TerminateReason::Refused(rc)));
                self.terminate(now, TerminationCause::AuthExpired);
                return;
            }
        }
        if grant.time.is_some() {
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
        match grant.time {
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

    /// The outstanding CCR could not be delivered: the peer machine reported
    /// a time-out or hand-back ("failure to send", RFC 8506 §7). With
    /// Credit-Control-Failure-Handling (§5.7, §8.14) RETRY_AND_TERMINATE the
    /// CCR is sent once more (T flag, same CC-Request-Number); otherwise
    /// CONTINUE grants the service and TERMINATE refuses it or tears the
    /// call down (then a CCR-T reports the usage).
    pub fn handle_request_failed(&mut self, now: Instant) {
        if self.out.is_some_and(|o| o.sent) {
            self.send_failed(now, None);
        }
    }

    fn send_failed(&mut self, now: Instant, rc: Option<ResultCode>) {
        let Some(mut out) = self.out else {
            return;
        };
        self.tx_deadline = None;
        let retry = self.failure_handling == CreditControlFailureHandling::RetryAndTerminate
            && !out.retried;
        if retry {
            out.sent = false;
            out.retransmission = true;
            out.retried = true;
            out.waiting = false;
            self.out = Some(out);
            return;
        }
        self.out = None;
        let cont = self.continues();
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

    /// Tx expired (RFC 8506 §5.7, Tables 3 and 4): with TERMINATE the
    /// request has failed; with CONTINUE or RETRY_AND_TERMINATE the service
    /// is granted and the client keeps waiting for a late answer (up to
    /// [`LATE_ANSWER_FACTOR`] × Tx after sending). A CCR-T has no service to
    /// grant: Tx fails it.
    fn tx_expired(&mut self, now: Instant) {
        self.tx_deadline = None;
        let Some(mut out) = self.out.filter(|o| o.sent) else {
            return;
        };
        let waits = self.failure_handling != CreditControlFailureHandling::Terminate
            && matches!(
                out.request_type,
                CcRequestType::Initial | CcRequestType::Update
            );
        let late = out.sent_at + self.config.tx.saturating_mul(LATE_ANSWER_FACTOR);
        if !waits || out.waiting || late <= now {
            self.send_failed(now, None);
            return;
        }
        out.waiting = true;
        if !out.granted {
            out.granted = true;
            self.allow(None);
        }
        self.out = Some(out);
        self.tx_deadline = Some(late);
    }

    /// A server-initiated request for this session: RAR (re-authorise) or
    /// ASR (abort). The answer is queued for [`PrepaidClient::poll_transmit`].
    /// Returns false if it is neither (the caller answers 3001).
    ///
    /// RAR in Open: RAA 2002 DIAMETER_LIMITED_SUCCESS, then a CCR-U (RFC
    /// 8506 §5.5); while a CCR is outstanding, or the CCR-T is: RAA 2001 and
    /// nothing more. ASR (RFC 6733 §8.5): ASA 2001, the call is torn down
    /// and the CCR-T follows (after the outstanding answer, if any). Before
    /// the session starts, after it ended or for another Session-Id: 5002
    /// DIAMETER_UNKNOWN_SESSION_ID.
    pub fn handle_server_request(&mut self, now: Instant, req: &Message<'_>) -> bool {
        let code = req.command_code();
        if !req.is_request() || (code != CommandCode::RE_AUTH && code != CommandCode::ABORT_SESSION)
        {
            return false;
        }
        let ours = req.get(&base::SESSION_ID).ok().flatten() == Some(self.session_id.as_str());
        let live = ours && !matches!(self.state, PrepaidState::Idle | PrepaidState::Ended);
        let result = if !live {
            ResultCode::UNKNOWN_SESSION_ID
        } else if code == CommandCode::RE_AUTH && self.state == PrepaidState::Open {
            ResultCode::LIMITED_SUCCESS
        } else {
            ResultCode::SUCCESS
        };
        // Act on it even if the answer cannot be queued (never when the
        // outputs are polled after every input).
        let _ = self.answers.push_back(ServerRequest {
            header: req.header().answer(),
            result,
        });
        if !live {
            return true;
        }
        if code == CommandCode::ABORT_SESSION {
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
        } else if self.state == PrepaidState::Open {
            self.reauthorize(now);
        }
        true
    }

    fn reauthorize(&mut self, now: Instant) {
        let used = if self.answered.is_some() {
            Some(self.take_usage(now))
        } else {
            None
        };
        let rsu = self.config.requested_time;
        self.queue(now, CcRequestType::Update, None, Some(rsu), used);
    }

    // ---- time -----------------------------------------------------------------

    /// Act on expired timers: Tx (failure handling), the grant (terminate
    /// or re-authorise) and Validity-Time (re-authorise). While a CCR-U is
    /// outstanding, a grant that ends the call when used up still does
    /// (the CCR-T follows the answer).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.tx_deadline.is_some_and(|d| now >= d) {
            self.tx_expired(now);
        }
        let grant_expired = self.grant_deadline.is_some_and(|d| now >= d);
        match self.state {
            PrepaidState::PendingUpdate if grant_expired && self.terminate_on_exhaustion() => {
                self.event(PrepaidEvent::TerminateCall(
                    TerminateReason::CreditExhausted,
                ));
                self.end_later(now, TerminationCause::AuthExpired);
            }
            PrepaidState::Open if grant_expired => {
                self.grant_deadline = None;
                if self.terminate_on_exhaustion() {
                    self.event(PrepaidEvent::TerminateCall(
                        TerminateReason::CreditExhausted,
                    ));
                    self.ended_at = Some(now);
                    self.terminate(now, TerminationCause::AuthExpired);
                } else {
                    self.reauthorize(now);
                }
            }
            PrepaidState::Open if self.validity_deadline.is_some_and(|d| now >= d) => {
                self.validity_deadline = None;
                self.reauthorize(now);
            }
            _ => {}
        }
    }

    // ---- outputs ----------------------------------------------------------------

    /// The next thing the application must do.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<PrepaidEvent> {
        self.events.pop_front()
    }

    /// When [`PrepaidClient::handle_timeout`] should run next. Only timers
    /// that `handle_timeout` acts on in the current state are reported, so
    /// a deadline in the past is always consumed.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let t = self.tx_deadline;
        match self.state {
            PrepaidState::Open => {
                earliest(t, earliest(self.grant_deadline, self.validity_deadline))
            }
            PrepaidState::PendingUpdate if self.terminate_on_exhaustion() => {
                earliest(t, self.grant_deadline)
            }
            _ => t,
        }
    }

    /// Write the next message to send into `buf`: answers to server requests
    /// first, then the outstanding CCR (once; it is written again only for a
    /// retransmission). Starts Tx for a CCR.
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        buf: &mut [u8],
    ) -> Option<Result<Transmit, EncodeError>> {
        if let Some(a) = self.answers.pop_front() {
            return Some(
                self.write_answer(&a, buf)
                    .map(|len| Transmit::Answer { len }),
            );
        }
        let mut out = self.out.filter(|o| !o.sent)?;
        let r = self.write_ccr(&out, buf);
        if r.is_ok() {
            out.sent = true;
            out.sent_at = now;
            out.waiting = false;
            self.out = Some(out);
            self.tx_deadline = Some(now + self.config.tx);
        }
        Some(r.map(|len| Transmit::Request {
            len,
            request_type: out.request_type,
            number: out.number,
            retransmission: out.retransmission,
        }))
    }

    fn write_answer(&self, a: &ServerRequest, buf: &mut [u8]) -> Result<usize, EncodeError> {
        let (sid, host, realm) = (
            self.session_id.as_str(),
            self.config.origin_host,
            self.config.origin_realm,
        );
        let r = if a.header.command_code == CommandCode::ABORT_SESSION {
            AsaRepr::new(sid, a.result, host, realm).encode(a.header, buf)
        } else {
            RaaRepr::new(sid, a.result, host, realm).encode(a.header, buf)
        };
        r.map(<[u8]>::len)
    }

    fn write_ccr(&self, o: &Outgoing, buf: &mut [u8]) -> Result<usize, EncodeError> {
        let c = self.config;
        let ts = c.clock.timestamp(o.at).ok_or(EncodeError::InvalidValue)?;
        super::write_ccr(
            &super::CcrTarget {
                origin_host: c.origin_host,
                origin_realm: c.origin_realm,
                destination_realm: c.destination_realm,
                destination_host: c.destination_host,
                service_context_id: c.service_context_id,
                service_information: c.service_information,
            },
            self.session_id.as_str(),
            &self.parties,
            &super::CcrFields {
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

/// What a CCA grants: CC-Time from the top-level Granted-Service-Unit or
/// the first Multiple-Services-Credit-Control, Validity-Time and
/// Final-Unit-Indication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Grant {
    time: Option<u32>,
    validity: Option<u32>,
    final_action: Option<FinalUnitAction>,
}

impl Grant {
    fn read(avps: AvpSet<'_>) -> Grant {
        let mut g = Grant::default();
        let gsu_time = |set: AvpSet<'_>| {
            set.get(&dict::GRANTED_SERVICE_UNIT)
                .ok()
                .flatten()
                .and_then(|gsu| gsu.get(&dict::CC_TIME).ok().flatten())
        };
        let fui = |set: AvpSet<'_>| {
            set.get(&dict::FINAL_UNIT_INDICATION)
                .ok()
                .flatten()
                .and_then(|f| f.get(&dict::FINAL_UNIT_ACTION).ok().flatten())
        };
        g.time = gsu_time(avps);
        g.validity = avps.get(&dict::VALIDITY_TIME).ok().flatten();
        g.final_action = fui(avps);
        if let Ok(Some(m)) = avps.get(&dict::MULTIPLE_SERVICES_CREDIT_CONTROL) {
            g.time = g.time.or_else(|| gsu_time(m));
            g.validity = g
                .validity
                .or_else(|| m.get(&dict::VALIDITY_TIME).ok().flatten());
            g.final_action = g.final_action.or_else(|| fui(m));
        }
        g
    }
}
