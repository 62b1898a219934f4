//! The postpaid (event-based) credit-control client: one CCR-Event at
//! hangup, RFC 8506 §6 (one-time event) and §7 (client event-based state
//! machine), as in `SCENARIOS.md` (Postpaid).
//!
//! Nothing is sent at INVITE or answer; the answer time is remembered. At
//! hangup one CCR with CC-Request-Type EVENT_REQUEST (4), CC-Request-Number
//! 0, Requested-Action DIRECT_DEBITING, Termination-Cause 1,
//! Event-Timestamp = answer time, Requested-Service-Unit{CC-Time 0} and
//! Used-Service-Unit{CC-Time = duration} is sent.
//!
//! The CCR-Event is the call's only charge, so it is never lost silently.
//! When it cannot be delivered, Direct-Debiting-Failure-Handling (RFC 8506
//! §8.15, §6.5 and Table 5) decides:
//!
//! - TERMINATE_OR_BUFFER (the default): the event is stored and sent again
//!   (T flag, same End-to-End id) every [`PostpaidConfig::retry_interval`]
//!   until the server answers it; the application hears
//!   [`PostpaidEvent::Buffered`] once, and may give it up knowingly with
//!   [`PostpaidClient::drop_event`] ([`PostpaidEvent::Undelivered`]).
//! - CONTINUE: given up at once ([`PostpaidEvent::Undelivered`]).
//!
//! A request handed back by a failed connection is sent again at once
//! through another peer. Driven like every session machine (see
//! [`crate::session`]).

use core::time::Duration;

use diameter_core::dict::base::TerminationCause;
use diameter_core::peer::{owned_text, ConfigError, IdentityBuf};
use diameter_core::time::{earliest, Instant, Monotonic};
use diameter_core::{ApplicationId, EncodeError, Message, ResultCode};

use super::prepaid::answer_unsupported;
use super::{opt, CcrFields, CcrTarget, Parties, MAX_CONTEXT};
use crate::dict::{CcRequestType, DirectDebitingFailureHandling};
use crate::msg::Cca;
use crate::session::{
    seconds_between, Ctx, Failure, Machine, RequestFailed, Route, SessionId, Transmit,
};

/// Settings shared by all postpaid calls of one node.
///
/// ```
/// use diameter_cc::client::postpaid::PostpaidConfig;
/// let c = PostpaidConfig::new("diameter.test", "voice@OsipsDiamCCR")?;
/// assert_eq!(c.retry_interval.as_secs(), 30);
/// # Ok::<(), diameter_core::peer::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PostpaidConfig {
    /// Destination-Realm.
    pub destination_realm: IdentityBuf,
    /// Destination-Host, if any.
    pub destination_host: Option<IdentityBuf>,
    /// Service-Context-Id.
    pub service_context_id: heapless::String<MAX_CONTEXT>,
    /// Tx: how long to wait for the CCA (RFC 8506 §13, default 10 s).
    pub tx: Duration,
    /// What to do when the CCA does not come (default TERMINATE_OR_BUFFER).
    pub failure_handling: DirectDebitingFailureHandling,
    /// Under TERMINATE_OR_BUFFER, how long a stored event waits before it
    /// is sent again (default 30 s).
    pub retry_interval: Duration,
    /// Send Service-Information{IMS-Information} (3GPP, vendor 10415, M
    /// bit). An RFC-only server answers it with 5001; turn it off for those.
    pub service_information: bool,
}

impl PostpaidConfig {
    /// Defaults: Tx 10 s, TERMINATE_OR_BUFFER, retry every 30 s, 3GPP
    /// Service-Information sent.
    pub fn new(destination_realm: &str, service_context_id: &str) -> Result<Self, ConfigError> {
        Ok(PostpaidConfig {
            destination_realm: owned_text("Destination-Realm", destination_realm)?,
            destination_host: None,
            service_context_id: owned_text("Service-Context-Id", service_context_id)?,
            tx: Duration::from_secs(10),
            failure_handling: DirectDebitingFailureHandling::TerminateOrBuffer,
            retry_interval: Duration::from_secs(30),
            service_information: true,
        })
    }
}

/// States of the event-based client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PostpaidState {
    /// Call not answered yet.
    Idle,
    /// Answered; waiting for the hangup.
    Answered,
    /// CCR-Event outstanding, or stored waiting to be sent again.
    PendingEvent,
    /// Done.
    Ended,
}

/// What the application hears.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum PostpaidEvent {
    /// The server answered the CCR-Event with this Result-Code.
    Charged(ResultCode),
    /// The CCR-Event could not be delivered and is stored: it is sent again
    /// until the server answers (TERMINATE_OR_BUFFER). Reported once.
    Buffered,
    /// The CCR-Event was given up: CONTINUE after a failure, or
    /// [`PostpaidClient::drop_event`].
    Undelivered,
    /// The session is over.
    Finished,
}

/// One postpaid call.
#[derive(Debug, Clone)]
pub struct PostpaidClient {
    parties: Parties,
    session_id: SessionId,
    state: PostpaidState,
    answered: Option<Instant>,
    duration: u32,
    attempts: u32,
    sent: bool,
    end_to_end: Option<u32>,
    buffered: bool,
    retry_at: Option<Instant>,
    events: heapless::Deque<PostpaidEvent, 4>,
    clock: Monotonic,
}

impl PostpaidClient {
    /// A new call.
    pub fn new(session_id: SessionId, parties: Parties) -> Self {
        PostpaidClient {
            parties,
            session_id,
            state: PostpaidState::Idle,
            answered: None,
            duration: 0,
            attempts: 0,
            sent: false,
            end_to_end: None,
            buffered: false,
            retry_at: None,
            events: heapless::Deque::new(),
            clock: Monotonic::new(Instant::ZERO),
        }
    }

    /// The state.
    pub const fn state(&self) -> PostpaidState {
        self.state
    }

    /// How many times the CCR-Event was written.
    pub const fn attempts(&self) -> u32 {
        self.attempts
    }

    fn event(&mut self, e: PostpaidEvent) {
        if self.events.push_back(e).is_err() {
            let _ = self.events.pop_front();
            let _ = self.events.push_back(e);
        }
    }

    fn finish(&mut self) {
        self.state = PostpaidState::Ended;
        self.retry_at = None;
        self.event(PostpaidEvent::Finished);
    }

    /// The call was answered: remember when.
    pub fn call_answered(&mut self, now: Instant) {
        let now = self.clock.update(now);
        if self.state == PostpaidState::Idle {
            self.answered = Some(now);
            self.state = PostpaidState::Answered;
        }
    }

    /// The call ended: send the CCR-Event with the duration. A call never
    /// answered costs nothing and sends nothing.
    pub fn call_ended(&mut self, now: Instant) {
        let now = self.clock.update(now);
        match (self.state, self.answered) {
            (PostpaidState::Answered, Some(a)) => {
                self.duration = seconds_between(a, now);
                self.state = PostpaidState::PendingEvent;
            }
            (PostpaidState::Idle, _) => self.finish(),
            _ => {}
        }
    }

    /// Give up a stored CCR-Event knowingly (the call's charge is lost):
    /// [`PostpaidEvent::Undelivered`], then [`PostpaidEvent::Finished`].
    /// Only while it is stored waiting to be sent again; returns whether it
    /// was dropped.
    pub fn drop_event(&mut self) -> bool {
        if self.state == PostpaidState::PendingEvent && !self.sent && self.buffered {
            self.event(PostpaidEvent::Undelivered);
            self.finish();
            return true;
        }
        false
    }

    fn failed(&mut self, cfg: &PostpaidConfig, now: Instant, failure: Failure) {
        self.sent = false;
        if failure == Failure::HandedBack {
            // Another peer takes it now.
            return;
        }
        match cfg.failure_handling {
            DirectDebitingFailureHandling::Continue => {
                self.event(PostpaidEvent::Undelivered);
                self.finish();
            }
            // TERMINATE_OR_BUFFER and unknown values: keep it.
            _ => {
                if !self.buffered {
                    self.buffered = true;
                    self.event(PostpaidEvent::Buffered);
                }
                self.retry_at = Some(now + cfg.retry_interval);
            }
        }
    }
}

impl Machine for PostpaidClient {
    type Shared = PostpaidConfig;
    type Event = PostpaidEvent;

    fn session_id(&self) -> &str {
        self.session_id.as_str()
    }

    fn route<'a>(&'a self, shared: &'a PostpaidConfig) -> Route<'a> {
        Route {
            application: ApplicationId::CREDIT_CONTROL,
            realm: shared.destination_realm.as_str(),
            host: opt(&shared.destination_host),
            host_only: false,
        }
    }

    /// The CCA-Event. A "temporary error" (DIAMETER_TOO_BUSY,
    /// UNABLE_TO_DELIVER, LOOP_DETECTED: nothing was debited) is handled
    /// like a failure to send (RFC 8506 §6.5, Table 5); any other
    /// Result-Code ends the session with [`PostpaidEvent::Charged`] (a
    /// failed answer deletes the request whatever the DDFH, §6.5).
    fn handle_answer(
        &mut self,
        cx: Ctx<'_, PostpaidConfig>,
        now: Instant,
        request: u32,
        answer: &Message<'_>,
    ) {
        let now = self.clock.update(now);
        if self.state != PostpaidState::PendingEvent || !self.sent || request != 0 {
            return;
        }
        // A resend keeps this End-to-End id (and carries the T flag).
        self.end_to_end = self.end_to_end.or(Some(answer.end_to_end()));
        let rc = match Cca::decode(answer) {
            Ok(cca) => cca.result_code,
            Err(e) => return self.failed(cx.shared, now, Failure::InvalidAnswer(e)),
        };
        if rc == ResultCode::TOO_BUSY
            || rc == ResultCode::UNABLE_TO_DELIVER
            || rc == ResultCode::LOOP_DETECTED
        {
            return self.failed(cx.shared, now, Failure::TimedOut);
        }
        self.event(PostpaidEvent::Charged(rc));
        self.finish();
    }

    fn handle_request_failed(
        &mut self,
        cx: Ctx<'_, PostpaidConfig>,
        now: Instant,
        failed: RequestFailed,
    ) {
        let now = self.clock.update(now);
        if self.state != PostpaidState::PendingEvent || !self.sent || failed.request != 0 {
            return;
        }
        self.end_to_end = self.end_to_end.or(failed.end_to_end);
        self.failed(cx.shared, now, failed.failure);
    }

    fn handle_request(
        &mut self,
        cx: Ctx<'_, PostpaidConfig>,
        _now: Instant,
        request: &Message<'_>,
        _duplicate: bool,
        answer: &mut [u8],
    ) -> Result<usize, EncodeError> {
        // An event-based session has no server-initiated requests.
        let (host, realm) = (cx.node.origin_host.as_str(), cx.node.origin_realm.as_str());
        answer_unsupported(request, host, realm, answer)
    }

    fn handle_timeout(&mut self, _cx: Ctx<'_, PostpaidConfig>, now: Instant) {
        let now = self.clock.update(now);
        if self.retry_at.is_some_and(|t| now >= t) {
            self.retry_at = None;
        }
    }

    /// Write the CCR-Event (again, after a failure) into `buf`; its answer
    /// deadline is Tx.
    fn poll_transmit(
        &mut self,
        cx: Ctx<'_, PostpaidConfig>,
        now: Instant,
        buf: &mut [u8],
    ) -> Option<Result<Transmit, EncodeError>> {
        let now = self.clock.update(now);
        if self.state != PostpaidState::PendingEvent || self.sent || self.retry_at.is_some() {
            return None;
        }
        let c = &*cx.shared;
        let tx = c.tx;
        let at = self.answered.unwrap_or(now);
        let r = cx
            .node
            .clock
            .timestamp(at)
            .ok_or(EncodeError::InvalidValue)
            .and_then(|ts| {
                super::write_ccr(
                    cx.node,
                    &CcrTarget {
                        destination_realm: c.destination_realm.as_str(),
                        destination_host: opt(&c.destination_host),
                        service_context_id: c.service_context_id.as_str(),
                        service_information: c.service_information,
                    },
                    self.session_id.as_str(),
                    &self.parties,
                    &CcrFields {
                        request_type: CcRequestType::Event,
                        number: 0,
                        timestamp: ts,
                        cause: Some(TerminationCause::Logout),
                        requested: Some(0),
                        // RFC 8506 §8.41: Requested-Action MUST be in a CCR-Event.
                        requested_action: Some(crate::dict::RequestedAction::DirectDebiting),
                        used: Some(self.duration),
                    },
                    buf,
                )
            });
        self.sent = true;
        self.attempts = self.attempts.saturating_add(1);
        match r {
            Ok(len) => Some(Ok(Transmit {
                len,
                request: 0,
                deadline: now + tx,
                end_to_end: self.end_to_end,
            })),
            Err(e) => {
                // Cannot be sent now: stored and retried like any failure.
                self.failed(cx.shared, now, Failure::Unsendable(e));
                Some(Err(e))
            }
        }
    }

    fn poll_event(&mut self) -> Option<PostpaidEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        earliest(None, self.retry_at)
    }

    fn is_closed(&self) -> bool {
        self.state == PostpaidState::Ended && self.events.is_empty()
    }
}
