//! The postpaid (event-based) credit-control client: one CCR-Event at
//! hangup, RFC 8506 §6 (one-time event) and §7 (client event-based state
//! machine), as in `SCENARIOS.md` (Postpaid).
//!
//! Nothing is sent at INVITE or answer; the answer time is remembered. At
//! hangup one CCR with CC-Request-Type EVENT_REQUEST (4), CC-Request-Number
//! 0, Termination-Cause 1, Event-Timestamp = answer time,
//! Requested-Service-Unit{CC-Time 0} and Used-Service-Unit{CC-Time =
//! duration} is sent. When it cannot be delivered,
//! Direct-Debiting-Failure-Handling (RFC 8506 §8.15) decides:
//! TERMINATE_OR_BUFFER keeps the record and retries (with the T flag) up to
//! [`PostpaidConfig::max_attempts`], CONTINUE gives up at once; either way
//! the application hears about it ([`PostpaidEvent::Undelivered`]).
//!
//! Driven like every session machine (see [`crate::session`]).

use core::time::Duration;

use diameter_core::dict::base::{self, TerminationCause};
use diameter_core::time::Instant;
use diameter_core::{CommandCode, EncodeError, Message, ResultCode};

use super::{CcrFields, CcrTarget, Parties};
use crate::dict::{self, CcRequestType, DirectDebitingFailureHandling};
use crate::session::{seconds_between, SessionId, WallClock};

/// Settings shared by all postpaid calls of one client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PostpaidConfig<'a> {
    /// Origin-Host.
    pub origin_host: &'a str,
    /// Origin-Realm.
    pub origin_realm: &'a str,
    /// Destination-Realm.
    pub destination_realm: &'a str,
    /// Destination-Host, if any.
    pub destination_host: Option<&'a str>,
    /// Service-Context-Id.
    pub service_context_id: &'a str,
    /// Tx: how long to wait for the CCA (RFC 8506 §13, default 10 s).
    pub tx: Duration,
    /// What to do when the CCA does not come (default TERMINATE_OR_BUFFER).
    pub failure_handling: DirectDebitingFailureHandling,
    /// Attempts before giving up under TERMINATE_OR_BUFFER (default 3).
    pub max_attempts: u8,
    /// Wall clock for Event-Timestamp.
    pub clock: WallClock,
}

impl<'a> PostpaidConfig<'a> {
    /// Defaults: Tx 10 s, TERMINATE_OR_BUFFER, 3 attempts.
    pub const fn new(
        origin_host: &'a str,
        origin_realm: &'a str,
        destination_realm: &'a str,
        service_context_id: &'a str,
    ) -> Self {
        PostpaidConfig {
            origin_host,
            origin_realm,
            destination_realm,
            destination_host: None,
            service_context_id,
            tx: Duration::from_secs(10),
            failure_handling: DirectDebitingFailureHandling::TerminateOrBuffer,
            max_attempts: 3,
            clock: WallClock { unix_at_zero: 0 },
        }
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
    /// CCR-Event outstanding (or waiting to be resent).
    PendingEvent,
    /// Done.
    Ended,
}

/// What the application hears.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PostpaidEvent {
    /// The server answered the CCR-Event with this Result-Code.
    Charged(ResultCode),
    /// The CCR-Event could not be delivered; the record is given up.
    Undelivered,
    /// The session is over.
    Finished,
}

/// What [`PostpaidClient::poll_transmit`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Transmit {
    /// Bytes written.
    pub len: usize,
    /// A resend: set the T flag and keep the first End-to-End id.
    pub retransmission: bool,
}

/// One postpaid call.
#[derive(Debug)]
pub struct PostpaidClient<'c, 's> {
    config: &'c PostpaidConfig<'c>,
    parties: Parties<'s>,
    session_id: SessionId,
    state: PostpaidState,
    answered: Option<Instant>,
    duration: u32,
    attempts: u8,
    sent: bool,
    tx_deadline: Option<Instant>,
    events: heapless::Deque<PostpaidEvent, 4>,
}

impl<'c, 's> PostpaidClient<'c, 's> {
    /// A new call.
    pub fn new(
        config: &'c PostpaidConfig<'c>,
        session_id: SessionId,
        parties: Parties<'s>,
    ) -> Self {
        PostpaidClient {
            config,
            parties,
            session_id,
            state: PostpaidState::Idle,
            answered: None,
            duration: 0,
            attempts: 0,
            sent: false,
            tx_deadline: None,
            events: heapless::Deque::new(),
        }
    }

    /// The state.
    pub const fn state(&self) -> PostpaidState {
        self.state
    }

    fn event(&mut self, e: PostpaidEvent) {
        let _ = self.events.push_back(e);
    }

    fn finish(&mut self) {
        self.state = PostpaidState::Ended;
        self.tx_deadline = None;
        self.event(PostpaidEvent::Finished);
    }

    /// The call was answered: remember when.
    pub fn call_answered(&mut self, now: Instant) {
        if self.state == PostpaidState::Idle {
            self.answered = Some(now);
            self.state = PostpaidState::Answered;
        }
    }

    /// The call ended: send the CCR-Event with the duration. A call never
    /// answered costs nothing and sends nothing.
    pub fn call_ended(&mut self, now: Instant) {
        match (self.state, self.answered) {
            (PostpaidState::Answered, Some(a)) => {
                self.duration = seconds_between(a, now);
                self.state = PostpaidState::PendingEvent;
            }
            (PostpaidState::Idle, _) => self.finish(),
            _ => {}
        }
    }

    /// The CCA-Event, matched to the CCR by the transport. Other messages
    /// and answers with another CC-Request-Number are ignored; an answer
    /// without CC-Request-Number (an error answer with the E bit, RFC 6733
    /// §7.2) is taken as the CCR's. A "temporary error" (DIAMETER_TOO_BUSY,
    /// UNABLE_TO_DELIVER, LOOP_DETECTED: nothing was debited) is handled
    /// like a failure to send (RFC 8506 §6.5, Table 5); any other
    /// Result-Code ends the session with [`PostpaidEvent::Charged`] (a
    /// failed answer deletes the request whatever the DDFH, §6.5). A late
    /// answer to an earlier copy is accepted while the resend waits.
    pub fn handle_answer(&mut self, now: Instant, cca: &Message<'_>) {
        if cca.is_request() || cca.command_code() != CommandCode::CREDIT_CONTROL {
            return;
        }
        if self.state != PostpaidState::PendingEvent || self.attempts == 0 {
            return;
        }
        match cca.get(&dict::CC_REQUEST_NUMBER) {
            Ok(Some(0)) | Ok(None) => {}
            _ => return,
        }
        let rc = ResultCode(
            cca.get(&base::RESULT_CODE)
                .ok()
                .flatten()
                .unwrap_or(ResultCode::UNABLE_TO_COMPLY.0),
        );
        if rc == ResultCode::TOO_BUSY
            || rc == ResultCode::UNABLE_TO_DELIVER
            || rc == ResultCode::LOOP_DETECTED
        {
            self.handle_request_failed(now);
            return;
        }
        self.event(PostpaidEvent::Charged(rc));
        self.finish();
    }

    /// The CCR-Event was not answered (Tx, peer time-out or hand-back):
    /// Direct-Debiting-Failure-Handling TERMINATE_OR_BUFFER resends it (T
    /// flag) until [`PostpaidConfig::max_attempts`] were made (at least
    /// one), CONTINUE gives it up ([`PostpaidEvent::Undelivered`]).
    pub fn handle_request_failed(&mut self, _now: Instant) {
        if self.state != PostpaidState::PendingEvent || !self.sent {
            return;
        }
        self.tx_deadline = None;
        let buffer =
            self.config.failure_handling == DirectDebitingFailureHandling::TerminateOrBuffer;
        if buffer && self.attempts < self.config.max_attempts {
            self.sent = false; // resent by poll_transmit with the T flag
        } else {
            self.event(PostpaidEvent::Undelivered);
            self.finish();
        }
    }

    /// Tx.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.tx_deadline.is_some_and(|d| now >= d) {
            self.handle_request_failed(now);
        }
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<PostpaidEvent> {
        self.events.pop_front()
    }

    /// When to call [`PostpaidClient::handle_timeout`].
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.tx_deadline
    }

    /// Write the CCR-Event (again, after a failure) into `buf`.
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        buf: &mut [u8],
    ) -> Option<Result<Transmit, EncodeError>> {
        if self.state != PostpaidState::PendingEvent || self.sent {
            return None;
        }
        let c = self.config;
        let at = self.answered.unwrap_or(now);
        let Some(ts) = c.clock.timestamp(at) else {
            return Some(Err(EncodeError::InvalidValue));
        };
        let r = super::write_ccr(
            &CcrTarget {
                origin_host: c.origin_host,
                origin_realm: c.origin_realm,
                destination_realm: c.destination_realm,
                destination_host: c.destination_host,
                service_context_id: c.service_context_id,
                service_information: true,
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
        );
        if r.is_ok() {
            self.sent = true;
            self.attempts = self.attempts.saturating_add(1);
            self.tx_deadline = Some(now + c.tx);
        }
        Some(r.map(|len| Transmit {
            len,
            retransmission: self.attempts > 1,
        }))
    }
}
