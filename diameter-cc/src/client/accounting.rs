//! The accounting client: RFC 6733 §8.2 (client accounting state machine)
//! and §9 (accounting), as a SIP proxy uses it to account one call.
//!
//! Read RFC 6733 §9.2 (interim records), §9.4 (fault resilience), §9.7
//! (ACR/ACA), §9.8 (the accounting AVPs) and `SCENARIOS.md` (Accounting)
//! first.
//!
//! One [`AccountingClient`] per call, that is one accounting session with
//! one stable Session-Id (the SIP Call-ID, say) and one stable
//! Acct-Session-Id. Call events come from the application
//! ([`AccountingClient::call_answered`], [`AccountingClient::call_ended`],
//! [`AccountingClient::event`]); everything else goes through [`Machine`],
//! like every session (see [`crate::session`]; the endpoint does it).
//!
//! The message ladder (SCENARIOS.md, RFC 6733 §9.8.3 numbering):
//!
//! | step | message | Accounting-Record-Type / -Number |
//! | --- | --- | --- |
//! | answer (200 OK) | ACR START | 2 / 0 |
//! | every Acct-Interim-Interval | ACR INTERIM | 3 / 1, 2, ... |
//! | hangup (BYE) | ACR STOP | 4 / last + 1 |
//! | one-shot service | ACR EVENT | 1 / 0 |
//!
//! # Delivery
//!
//! Every record created is kept in a bounded store of `N` records until it
//! is acknowledged (an ACA with a 2xxx Result-Code), rejected by the server
//! (5xxx, reported as [`AccountingEvent::RecordRejected`]), or, under
//! GRANT_AND_LOSE only, given up after [`AccountingConfig::max_attempts`]
//! (reported as [`AccountingEvent::RecordLost`]). Nothing is dropped
//! silently. Records go out one at a time, oldest first, so the server sees
//! the record numbers in order. A failed attempt (the peer machine's
//! time-out or hand-back, a 3xxx or 4xxx answer such as 4002
//! DIAMETER_OUT_OF_SPACE) schedules a retransmission after
//! [`AccountingConfig::retry_interval`]; a record handed back by a failed
//! connection goes out again at once through another peer. Either way the
//! retransmission keeps the End-to-End id of the first attempt and carries
//! the T flag ([`Transmit::end_to_end`], RFC 6733 §9.4, §5.5.4), so the
//! server recognises a record it already stored.
//!
//! Only one INTERIM record is ever stored: a new interim overwrites a
//! stored one that was never sent, and is skipped while a sent one awaits
//! its answer (RFC 6733 §9.4, "only one pending interim record"). A session
//! therefore needs at most three slots (START, INTERIM, STOP); with fewer,
//! an input that would create a record returns [`AccountingError::StoreFull`]
//! and changes nothing.
//!
//! # Accounting-Realtime-Required (RFC 6733 §9.8.7)
//!
//! "Delivery fails" means a record failed [`AccountingConfig::max_attempts`]
//! times in a row, or the server rejected it (5xxx), or an interim could not
//! be stored.
//!
//! - DELIVER_AND_GRANT: [`AccountingEvent::StopService`] (once); the record
//!   is kept and retried.
//! - GRANT_AND_STORE: the record is kept and retried every
//!   [`AccountingConfig::retry_interval`] until answered; a rejection or a
//!   full store also gives [`AccountingEvent::StopService`] (RFC 6733 §8.2:
//!   "realtime not equal to GRANT_AND_LOSE → disconnect user").
//! - GRANT_AND_LOSE: the record is given up with
//!   [`AccountingEvent::RecordLost`]; the service goes on.
//!
//! The server's Accounting-Realtime-Required and Acct-Interim-Interval in an
//! ACA override the configured ones (RFC 6733 §9.8.2, §9.8.7).
//!
//! # States
//!
//! [`ClientState`] folds RFC 6733 §8.2's client states onto this design:
//!
//! | state | RFC 6733 §8.2 | meaning |
//! | --- | --- | --- |
//! | `Idle` | Idle | nothing created yet |
//! | `PendingStart` | PendingS | START stored, not yet answered |
//! | `Open` | Open | started, nothing outstanding |
//! | `PendingInterim` | PendingI | an INTERIM stored, not yet answered |
//! | `PendingStop` | PendingL | STOP created; records outstanding |
//! | `PendingEvent` | PendingE | EVENT stored, not yet answered |
//! | `Ended` | Idle (after) | every record settled; [`AccountingEvent::Finished`] |
//!
//! ```
//! use diameter_cc::client::accounting::*;
//! use diameter_cc::session::{session_id_from, Ctx, Machine, Node, WallClock};
//! use diameter_core::dict::base::AccountingRecordType;
//! use diameter_core::time::Instant;
//!
//! let node = Node::new("client.diameter.test", "diameter.test", WallClock::new(1_704_067_200))?;
//! let mut config = AccountingConfig::new("diameter.test")?;
//! config.interim_interval = Some(30);
//! let info = CallInfo::new(session_id_from("call-1@example").unwrap());
//! let mut client: AccountingClient<4> = AccountingClient::new(info);
//!
//! client.call_answered(Ctx::new(&node, &mut config), Instant::from_secs(0)).unwrap();
//! let mut buf = [0u8; 1024];
//! let t = client.poll_transmit(Ctx::new(&node, &mut config), Instant::from_secs(0), &mut buf)
//!     .unwrap().unwrap();
//! assert_eq!((t.request, t.end_to_end), (0, None)); // record 0, first attempt
//! assert_eq!(client.state(), ClientState::PendingStart);
//! // ... send buf[..t.len]; its ACA goes to handle_answer; then the interim,
//! // about 30 s later (randomized by up to 3 s, RFC 6733 §9.8.2):
//! let due = client.poll_timeout().unwrap().as_millis();
//! assert!(due.abs_diff(30_000) <= 3_000);
//! # Ok::<(), diameter_core::peer::ConfigError>(())
//! ```

use core::time::Duration;

use diameter_core::dict::base::{AccountingRealtimeRequired, AccountingRecordType};
use diameter_core::peer::{owned_text, ConfigError, IdentityBuf};
use diameter_core::time::{earliest, Instant, Monotonic};
use diameter_core::{ApplicationId, CommandCode, EncodeError, HeaderRepr, Message, ResultCode};

use super::prepaid::answer_unsupported;
use super::{opt, PartyBuf};
use crate::dict::sip::{AcctStatusType, ServiceType, SipMethod};
use crate::msg::{Aca, AcrRepr};
use crate::session::{Ctx, Failure, Machine, RequestFailed, Route, SessionId, Transmit};

/// Settings of the accounting sessions of one node.
///
/// RFC 6733 §9.7.1 (the ACR's routing AVPs), §9.8.2
/// (Acct-Interim-Interval), §9.8.7 (Accounting-Realtime-Required), §9.4
/// (retries).
///
/// ```
/// use diameter_cc::client::accounting::AccountingConfig;
/// use diameter_core::dict::base::AccountingRealtimeRequired;
/// let mut c = AccountingConfig::new("diameter.test")?;
/// c.interim_interval = Some(30);
/// c.realtime_required = AccountingRealtimeRequired::GrantAndLose;
/// assert_eq!(c.acct_application_id, 3);
/// # Ok::<(), diameter_core::peer::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AccountingConfig {
    /// Destination-Realm (RFC 6733 §6.6).
    pub destination_realm: IdentityBuf,
    /// Destination-Host (RFC 6733 §6.5); leave `None` when the session
    /// binding forbids it (RFC 6733 §8.17, ACCOUNTING bit).
    pub destination_host: Option<IdentityBuf>,
    /// Acct-Application-Id and header Application-Id: 3, base accounting
    /// (RFC 6733 §9.3, §6.9).
    pub acct_application_id: u32,
    /// Seconds between INTERIM records until the server says otherwise
    /// (RFC 6733 §9.8.2); `None` (or 0): no interims unless the server asks.
    /// Sent in the START record as a hint.
    pub interim_interval: Option<u32>,
    /// Accounting-Realtime-Required policy until the server says otherwise
    /// (RFC 6733 §9.8.7; the RFC's default is GRANT_AND_STORE). Sent in
    /// the START and EVENT records.
    pub realtime_required: AccountingRealtimeRequired,
    /// How long an ACR waits for its ACA before the attempt fails.
    pub answer_timeout: Duration,
    /// Wait between a failed attempt and its retransmission (RFC 6733 §9.4).
    pub retry_interval: Duration,
    /// Failed attempts of one record after which delivery counts as failed
    /// (see the module docs); 0 is taken as 1.
    pub max_attempts: u32,
}

impl AccountingConfig {
    /// Defaults: base accounting (3), no Destination-Host, no interims,
    /// GRANT_AND_STORE, answers awaited 10 s, retry every 5 s, delivery
    /// failed after 3 attempts.
    ///
    /// ```
    /// use diameter_cc::client::accounting::AccountingConfig;
    /// use diameter_core::dict::base::AccountingRealtimeRequired;
    /// let c = AccountingConfig::new("diameter.test")?;
    /// assert_eq!(c.realtime_required, AccountingRealtimeRequired::GrantAndStore);
    /// assert_eq!((c.interim_interval, c.max_attempts), (None, 3));
    /// # Ok::<(), diameter_core::peer::ConfigError>(())
    /// ```
    pub fn new(destination_realm: &str) -> Result<Self, ConfigError> {
        Ok(AccountingConfig {
            destination_realm: owned_text("Destination-Realm", destination_realm)?,
            destination_host: None,
            acct_application_id: ApplicationId::BASE_ACCOUNTING.0,
            interim_interval: None,
            realtime_required: AccountingRealtimeRequired::GrantAndStore,
            answer_timeout: Duration::from_secs(10),
            retry_interval: Duration::from_secs(5),
            max_attempts: 3,
        })
    }
}

/// Longest SIP tag kept.
pub const MAX_TAG: usize = 64;
/// Longest SIP-AVP value kept.
pub const MAX_SIP_AVP: usize = 64;
/// Most SIP-AVP values kept.
pub const MAX_SIP_AVPS: usize = 4;
/// Longest Acct-Session-Id kept.
pub const MAX_ACCT_SESSION_ID: usize = 64;

/// The SIP accounting AVPs of [`crate::dict::sip`] sent with every record
/// (the OpenSIPS set of SCENARIOS.md).
///
/// With these, every record carries Service-Type 15 (Sip-Session),
/// Acct-Status-Type (Start / Interim-Update / Stop; none for EVENT),
/// Sip-Method ([`SipInfo::method`], BYE in the STOP), the optional fields
/// below, Sip-Call-Created (Unix time of the answer; of the record for an
/// EVENT) and, in INTERIM and STOP records, Sip-Call-Duration (seconds,
/// rounded up) and Sip-Call-MSDuration (milliseconds) since the answer.
///
/// ```
/// use diameter_cc::client::accounting::SipInfo;
/// let mut sip = SipInfo::new();
/// sip.from_tag = Some("a1b2".try_into().unwrap());
/// sip.response_code = Some(200);
/// assert!(sip.avps.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipInfo {
    /// Sip-Method (204) of START, INTERIM and EVENT records (INVITE for a
    /// call); STOP records carry BYE.
    pub method: SipMethod,
    /// Sip-From-Tag (206).
    pub from_tag: Option<heapless::String<MAX_TAG>>,
    /// Sip-To-Tag (207).
    pub to_tag: Option<heapless::String<MAX_TAG>>,
    /// Sip-Response-Code (205): the final response to the INVITE.
    pub response_code: Option<u32>,
    /// Sip-Call-Setuptime (228): seconds from INVITE to 200 OK.
    pub setup_time: Option<u32>,
    /// SIP-AVP (225) `name:value` pairs, one AVP each.
    pub avps: heapless::Vec<heapless::String<MAX_SIP_AVP>, MAX_SIP_AVPS>,
}

impl SipInfo {
    /// INVITE, nothing else.
    ///
    /// ```
    /// use diameter_cc::client::accounting::SipInfo;
    /// use diameter_cc::dict::sip::SipMethod;
    /// assert_eq!(SipInfo::new().method, SipMethod::Invite);
    /// ```
    pub const fn new() -> Self {
        SipInfo {
            method: SipMethod::Invite,
            from_tag: None,
            to_tag: None,
            response_code: None,
            setup_time: None,
            avps: heapless::Vec::new(),
        }
    }
}

impl Default for SipInfo {
    fn default() -> Self {
        Self::new()
    }
}

/// What identifies and describes one call's accounting session.
///
/// RFC 6733 §8.8 (Session-Id), §9.8.4 (Acct-Session-Id), §8.14
/// (User-Name). SCENARIOS.md: the Session-Id is the SIP Call-ID and must
/// stay the same for START, INTERIM and STOP.
///
/// ```
/// use diameter_cc::client::accounting::{CallInfo, SipInfo};
/// use diameter_cc::session::session_id_from;
/// let mut info = CallInfo::new(session_id_from("a84b4c76e66710@pc33").unwrap());
/// info.user_name = Some("1001".try_into().unwrap());
/// info.sip = Some(SipInfo::new());
/// assert_eq!(info.acct_session_id(), b"a84b4c76e66710@pc33");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo {
    /// Session-Id of every record.
    pub session_id: SessionId,
    /// Acct-Session-Id (44); `None`: the Session-Id's bytes.
    pub acct_session_id: Option<heapless::Vec<u8, MAX_ACCT_SESSION_ID>>,
    /// User-Name (1): the caller.
    pub user_name: Option<PartyBuf>,
    /// The SIP accounting AVPs; `None`: none sent.
    pub sip: Option<SipInfo>,
}

impl CallInfo {
    /// Just the Session-Id.
    ///
    /// ```
    /// use diameter_cc::client::accounting::CallInfo;
    /// use diameter_cc::session::session_id_from;
    /// let info = CallInfo::new(session_id_from("call").unwrap());
    /// assert!(info.user_name.is_none() && info.sip.is_none());
    /// ```
    pub fn new(session_id: SessionId) -> Self {
        CallInfo {
            session_id,
            acct_session_id: None,
            user_name: None,
            sip: None,
        }
    }

    /// The Acct-Session-Id sent (RFC 6733 §9.8.4).
    ///
    /// ```
    /// use diameter_cc::client::accounting::CallInfo;
    /// use diameter_cc::session::session_id_from;
    /// let mut info = CallInfo::new(session_id_from("call").unwrap());
    /// info.acct_session_id = Some(heapless::Vec::from_slice(b"radius-42").unwrap());
    /// assert_eq!(info.acct_session_id(), b"radius-42");
    /// ```
    pub fn acct_session_id(&self) -> &[u8] {
        match &self.acct_session_id {
            Some(a) => a,
            None => self.session_id.as_bytes(),
        }
    }
}

/// States of the client (RFC 6733 §8.2, client accounting; see the module
/// docs for the mapping).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ClientState {
    /// Nothing created yet (RFC 6733 §8.2 Idle).
    Idle,
    /// The START record is stored, not yet answered (PendingS).
    PendingStart,
    /// Started; no record outstanding (Open).
    Open,
    /// An INTERIM record is stored, not yet answered (PendingI).
    PendingInterim,
    /// The STOP record was created; records are outstanding (PendingL).
    PendingStop,
    /// The EVENT record is stored, not yet answered (PendingE).
    PendingEvent,
    /// Every record is settled; [`AccountingEvent::Finished`] was reported.
    Ended,
}

/// Why an input was refused. Nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AccountingError {
    /// The store of unacknowledged records is full: try again after a
    /// record is acknowledged or reported lost (RFC 6733 §9.4). Nothing
    /// already accepted was touched.
    StoreFull,
    /// The input makes no sense in this state (a second answer, a hangup
    /// before the answer, an EVENT in a started session...).
    WrongState(ClientState),
}

impl core::fmt::Display for AccountingError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AccountingError::StoreFull => f.write_str("accounting record store full"),
            AccountingError::WrongState(s) => write!(f, "not possible in accounting state {s:?}"),
        }
    }
}

impl core::error::Error for AccountingError {}

/// What the application must know or do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AccountingEvent {
    /// The server acknowledged the record (2xxx, RFC 6733 §9.7.2).
    RecordAcknowledged {
        /// Accounting-Record-Number.
        number: u32,
        /// Accounting-Record-Type.
        record_type: AccountingRecordType,
    },
    /// An ACA set a new Acct-Interim-Interval (RFC 6733 §9.8.2): `None`
    /// means no more INTERIM records.
    InterimIntervalChanged {
        /// Seconds between INTERIM records.
        seconds: Option<u32>,
    },
    /// An ACA set a new Accounting-Realtime-Required (RFC 6733 §9.8.7).
    RealtimeRequiredChanged(AccountingRealtimeRequired),
    /// Accounting cannot be delivered and the policy is not GRANT_AND_LOSE
    /// (RFC 6733 §8.2 "disconnect user/device", §9.8.7): end the call, then
    /// call [`AccountingClient::call_ended`]. Reported once per session.
    StopService,
    /// GRANT_AND_LOSE: the record was given up after
    /// [`AccountingConfig::max_attempts`] failed attempts (RFC 6733 §9.8.7).
    RecordLost {
        /// Accounting-Record-Number.
        number: u32,
    },
    /// The server refused the record with a permanent failure (5xxx): it
    /// was delivered and will not be resent (RFC 6733 §7.1.5, §8.2 "failed
    /// accounting answer").
    RecordRejected {
        /// Accounting-Record-Number.
        number: u32,
        /// The ACA's Result-Code.
        result_code: ResultCode,
    },
    /// The session is over: STOP (or EVENT) created and every record
    /// settled.
    Finished,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Waiting to be sent (never sent, or its retry is due).
    Ready,
    /// Sent; waiting for the ACA or a failure report.
    InFlight,
    /// Failed; resend at.
    Retry(Instant),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Record {
    number: u32,
    kind: AccountingRecordType,
    /// Event-Timestamp (and the duration's end).
    at: Instant,
    slot: Slot,
    /// Attempts written so far.
    sent: u32,
    /// Attempts that failed in a row.
    failures: u32,
    /// The End-to-End id of the first attempt that went out.
    end_to_end: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Started,
    Stopped,
    Event,
    Ended,
}

const EVENTS: usize = 16;

/// One call's accounting session, with a store of up to `N` records not
/// yet acknowledged (3 is enough: START, one INTERIM, STOP).
#[derive(Debug, Clone)]
pub struct AccountingClient<const N: usize> {
    info: CallInfo,
    phase: Phase,
    records: heapless::Vec<Record, N>,
    next_number: u32,
    events: heapless::Deque<AccountingEvent, EVENTS>,
    /// The server's Acct-Interim-Interval, once it sent one.
    server_interval: Option<Option<u32>>,
    /// The server's Accounting-Realtime-Required, once it sent one.
    server_policy: Option<AccountingRealtimeRequired>,
    answered_at: Option<Instant>,
    interim_base: Instant,
    next_interim: Option<Instant>,
    service_stopped: bool,
    stops: u8,
    skipped_interims: u32,
    clock: Monotonic,
}

impl<const N: usize> AccountingClient<N> {
    /// A session in [`ClientState::Idle`].
    pub fn new(info: CallInfo) -> Self {
        AccountingClient {
            info,
            phase: Phase::Idle,
            records: heapless::Vec::new(),
            next_number: 0,
            events: heapless::Deque::new(),
            server_interval: None,
            server_policy: None,
            answered_at: None,
            interim_base: Instant::ZERO,
            next_interim: None,
            service_stopped: false,
            stops: 0,
            skipped_interims: 0,
            clock: Monotonic::new(Instant::ZERO),
        }
    }

    // ---- getters ------------------------------------------------------------

    /// The state (RFC 6733 §8.2).
    pub fn state(&self) -> ClientState {
        match self.phase {
            Phase::Idle => ClientState::Idle,
            Phase::Ended => ClientState::Ended,
            Phase::Event => ClientState::PendingEvent,
            Phase::Stopped => ClientState::PendingStop,
            Phase::Started => {
                if self.has(AccountingRecordType::StartRecord) {
                    ClientState::PendingStart
                } else if self.has(AccountingRecordType::InterimRecord) {
                    ClientState::PendingInterim
                } else {
                    ClientState::Open
                }
            }
        }
    }

    /// What the session sends about the call.
    pub const fn call_info(&self) -> &CallInfo {
        &self.info
    }

    /// The Accounting-Record-Number the next record gets.
    pub const fn next_record_number(&self) -> u32 {
        self.next_number
    }

    /// Records created and not yet settled.
    pub fn unacknowledged(&self) -> usize {
        self.records.len()
    }

    /// The numbers of the stored records, oldest first.
    pub fn stored_records(&self) -> impl Iterator<Item = u32> + '_ {
        self.records.iter().map(|r| r.number)
    }

    /// The interim interval in force (the server's once it sent one).
    pub fn interim_interval(&self, cfg: &AccountingConfig) -> Option<u32> {
        self.server_interval
            .unwrap_or(cfg.interim_interval)
            .filter(|s| *s > 0)
    }

    /// The Accounting-Realtime-Required policy in force.
    pub fn realtime_required(&self, cfg: &AccountingConfig) -> AccountingRealtimeRequired {
        self.server_policy.unwrap_or(cfg.realtime_required)
    }

    /// Whether [`AccountingEvent::StopService`] was reported.
    pub const fn service_stopped(&self) -> bool {
        self.service_stopped
    }

    /// STOP records created (0 or 1).
    pub const fn stops(&self) -> u8 {
        self.stops
    }

    /// INTERIM records skipped because one was still in flight or the store
    /// was full.
    pub const fn skipped_interims(&self) -> u32 {
        self.skipped_interims
    }

    // ---- internals ------------------------------------------------------------

    fn has(&self, kind: AccountingRecordType) -> bool {
        self.records.iter().any(|r| r.kind == kind)
    }

    fn event_out(&mut self, e: AccountingEvent) {
        if self.events.push_back(e).is_err() {
            // The caller polls after every input, which never produces more
            // than EVENTS; keep the newest.
            let _ = self.events.pop_front();
            let _ = self.events.push_back(e);
        }
    }

    fn stop_service(&mut self) {
        if !self.service_stopped {
            self.service_stopped = true;
            self.event_out(AccountingEvent::StopService);
        }
    }

    fn create(&mut self, now: Instant, kind: AccountingRecordType) -> Result<(), AccountingError> {
        let r = Record {
            number: self.next_number,
            kind,
            at: now,
            slot: Slot::Ready,
            sent: 0,
            failures: 0,
            end_to_end: None,
        };
        self.records
            .push(r)
            .map_err(|_| AccountingError::StoreFull)?;
        self.next_number = self.next_number.saturating_add(1);
        Ok(())
    }

    /// When the interim record after `base` is due: one interval later,
    /// moved by up to a tenth of the interval either way. RFC 6733 §9.8.2:
    /// "the client MUST ensure that the interim record production times
    /// are randomized so that large accounting message storms are not
    /// created either among records or around a common service start
    /// time". The offset comes from the Session-Id and the record number,
    /// so it differs between sessions and between records of one session.
    fn interim_due(&self, base: Instant, ms: u64) -> Instant {
        let mut h = diameter_core::hash::Fnv::new();
        core::hash::Hasher::write(&mut h, self.info.session_id.as_bytes());
        core::hash::Hasher::write(&mut h, &self.next_number.to_be_bytes());
        let r = core::hash::Hasher::finish(&h);
        let span = ms / 5; // the jitter covers ±10 % of the interval
        let offset = if span == 0 { 0 } else { r % (span + 1) };
        Instant(
            base.0
                .saturating_add(ms)
                .saturating_add(offset)
                .saturating_sub(span / 2),
        )
    }

    /// Next interim deadline from `interim_base`, not before `now`.
    fn schedule_interim(&mut self, cfg: &AccountingConfig, now: Instant) {
        let ms = self.interim_interval(cfg).map(|s| u64::from(s) * 1000);
        self.next_interim = match (self.phase, ms) {
            (Phase::Started, Some(ms)) => Some(self.interim_due(self.interim_base, ms).max(now)),
            _ => None,
        };
    }

    fn finish_if_done(&mut self) {
        if matches!(self.phase, Phase::Stopped | Phase::Event) && self.records.is_empty() {
            self.phase = Phase::Ended;
            self.next_interim = None;
            self.event_out(AccountingEvent::Finished);
        }
    }

    fn remove(&mut self, idx: usize) -> Option<Record> {
        if idx < self.records.len() {
            Some(self.records.remove(idx))
        } else {
            None
        }
    }

    /// One failed attempt of the record at `idx` (RFC 6733 §9.4, §9.8.7).
    fn attempt_failed(&mut self, cfg: &AccountingConfig, idx: usize, now: Instant) {
        let max = cfg.max_attempts.max(1);
        let retry = Slot::Retry(now + cfg.retry_interval);
        let policy = self.realtime_required(cfg);
        let Some(r) = self.records.get_mut(idx) else {
            return;
        };
        r.failures = r.failures.saturating_add(1);
        if r.failures < max {
            r.slot = retry;
            return;
        }
        match policy {
            AccountingRealtimeRequired::GrantAndLose => {
                let number = r.number;
                let _ = self.remove(idx);
                self.event_out(AccountingEvent::RecordLost { number });
                self.finish_if_done();
            }
            AccountingRealtimeRequired::DeliverAndGrant => {
                r.slot = retry;
                self.stop_service();
            }
            // GRANT_AND_STORE and unknown values (the RFC's default).
            _ => r.slot = retry,
        }
    }

    // ---- call events ----------------------------------------------------------

    /// The call was answered: create the START record (Accounting-Record-Type
    /// 2, Record-Number 0; RFC 6733 §9.2, §9.8.3) and start the interim timer
    /// (RFC 6733 §9.8.2). Only in [`ClientState::Idle`].
    pub fn call_answered(
        &mut self,
        cx: Ctx<'_, AccountingConfig>,
        now: Instant,
    ) -> Result<(), AccountingError> {
        let now = self.clock.update(now);
        if self.phase != Phase::Idle {
            return Err(AccountingError::WrongState(self.state()));
        }
        self.create(now, AccountingRecordType::StartRecord)?;
        self.phase = Phase::Started;
        self.answered_at = Some(now);
        self.interim_base = now;
        self.schedule_interim(cx.shared, now);
        Ok(())
    }

    /// The call ended: create the STOP record (4) with the next number and
    /// stop the interim timer. Only after [`AccountingClient::call_answered`].
    pub fn call_ended(&mut self, now: Instant) -> Result<(), AccountingError> {
        let now = self.clock.update(now);
        if self.phase != Phase::Started {
            return Err(AccountingError::WrongState(self.state()));
        }
        self.create(now, AccountingRecordType::StopRecord)?;
        self.phase = Phase::Stopped;
        self.next_interim = None;
        self.stops = self.stops.saturating_add(1);
        Ok(())
    }

    /// A one-shot service: create the EVENT record (1, number 0; RFC 6733
    /// §9.2). Only in [`ClientState::Idle`].
    pub fn event(&mut self, now: Instant) -> Result<(), AccountingError> {
        let now = self.clock.update(now);
        if self.phase != Phase::Idle {
            return Err(AccountingError::WrongState(self.state()));
        }
        self.create(now, AccountingRecordType::EventRecord)?;
        self.phase = Phase::Event;
        Ok(())
    }

    fn apply_server_policy(&mut self, cfg: &AccountingConfig, now: Instant, aca: &Aca<'_>) {
        if let Some(s) = aca.acct_interim_interval {
            let before = self.interim_interval(cfg);
            self.server_interval = Some(Some(s));
            let new = self.interim_interval(cfg);
            if new != before {
                self.event_out(AccountingEvent::InterimIntervalChanged { seconds: new });
                self.schedule_interim(cfg, now);
            }
        }
        if let Some(p) = aca.accounting_realtime_required {
            if p != self.realtime_required(cfg) {
                self.server_policy = Some(p);
                self.event_out(AccountingEvent::RealtimeRequiredChanged(p));
            }
        }
    }

    fn on_result(&mut self, cfg: &AccountingConfig, now: Instant, idx: usize, rc: ResultCode) {
        if rc.is_success() {
            if let Some(r) = self.remove(idx) {
                self.event_out(AccountingEvent::RecordAcknowledged {
                    number: r.number,
                    record_type: r.kind,
                });
            }
        } else if rc.is_permanent_failure() {
            if let Some(r) = self.remove(idx) {
                self.event_out(AccountingEvent::RecordRejected {
                    number: r.number,
                    result_code: rc,
                });
            }
            if self.realtime_required(cfg) != AccountingRealtimeRequired::GrantAndLose {
                self.stop_service();
            }
        } else {
            self.attempt_failed(cfg, idx, now);
        }
        self.finish_if_done();
    }

    fn write_acr(
        &self,
        cx: &Ctx<'_, AccountingConfig>,
        r: &Record,
        buf: &mut [u8],
    ) -> Result<usize, EncodeError> {
        let c = &*cx.shared;
        let node = cx.node;
        let kind = r.kind;
        let first = matches!(
            kind,
            AccountingRecordType::StartRecord | AccountingRecordType::EventRecord
        );
        let mut repr = AcrRepr {
            acct_application_id: Some(c.acct_application_id),
            user_name: self.info.user_name.as_ref().map(|u| u.as_str()),
            destination_host: opt(&c.destination_host),
            acct_session_id: Some(self.info.acct_session_id()),
            acct_interim_interval: if kind == AccountingRecordType::StartRecord {
                self.interim_interval(c)
            } else {
                None
            },
            accounting_realtime_required: first.then_some(self.realtime_required(c)),
            event_timestamp: node.clock.timestamp(r.at),
            ..AcrRepr::new(
                self.info.session_id.as_str(),
                node.origin_host.as_str(),
                node.origin_realm.as_str(),
                c.destination_realm.as_str(),
                kind,
                r.number,
            )
        };
        let mut sip_avps: heapless::Vec<&str, MAX_SIP_AVPS> = heapless::Vec::new();
        if let Some(s) = &self.info.sip {
            repr.service_type = Some(ServiceType::SipSession);
            repr.acct_status_type = match kind {
                AccountingRecordType::StartRecord => Some(AcctStatusType::Start),
                AccountingRecordType::InterimRecord => Some(AcctStatusType::InterimUpdate),
                AccountingRecordType::StopRecord => Some(AcctStatusType::Stop),
                _ => None,
            };
            repr.sip_method = Some(if kind == AccountingRecordType::StopRecord {
                SipMethod::Bye
            } else {
                s.method
            });
            repr.sip_response_code = s.response_code;
            repr.sip_from_tag = s.from_tag.as_ref().map(|t| t.as_str());
            repr.sip_to_tag = s.to_tag.as_ref().map(|t| t.as_str());
            repr.sip_call_setuptime = s.setup_time;
            let created = match (kind, self.answered_at) {
                (AccountingRecordType::EventRecord, _) | (_, None) => r.at,
                (_, Some(a)) => a,
            };
            repr.sip_call_created = Some(unix_u32(node.clock.unix(created)));
            if matches!(
                kind,
                AccountingRecordType::InterimRecord | AccountingRecordType::StopRecord
            ) {
                let ms = self.answered_at.map_or(0, |a| r.at.0.saturating_sub(a.0));
                repr.sip_call_duration = Some(clamp_u32(ms.div_ceil(1000)));
                repr.sip_call_ms_duration = Some(clamp_u32(ms));
            }
            for a in &s.avps {
                let _ = sip_avps.push(a.as_str());
            }
        }
        repr.sip_avps = &sip_avps;
        let hdr = HeaderRepr::request(
            CommandCode::ACCOUNTING,
            ApplicationId(c.acct_application_id),
            0,
            0,
        )
        .proxiable(true);
        repr.encode(hdr, buf).map(<[u8]>::len)
    }
}

impl<const N: usize> Machine for AccountingClient<N> {
    type Shared = AccountingConfig;
    type Event = AccountingEvent;

    fn session_id(&self) -> &str {
        self.info.session_id.as_str()
    }

    fn route<'a>(&'a self, shared: &'a AccountingConfig) -> Route<'a> {
        Route {
            application: ApplicationId(shared.acct_application_id),
            realm: shared.destination_realm.as_str(),
            host: opt(&shared.destination_host),
            host_only: false,
        }
    }

    /// The ACA of record `request`. 2xxx acknowledges it (the server's
    /// Acct-Interim-Interval and Accounting-Realtime-Required override the
    /// configured ones, RFC 6733 §9.8.2, §9.8.7); 5xxx rejects it
    /// ([`AccountingEvent::RecordRejected`]); anything else (3xxx, 4xxx such
    /// as 4002 OUT_OF_SPACE) fails the attempt, retried later.
    fn handle_answer(
        &mut self,
        cx: Ctx<'_, AccountingConfig>,
        now: Instant,
        request: u32,
        answer: &Message<'_>,
    ) {
        let now = self.clock.update(now);
        let Some(idx) = self
            .records
            .iter()
            .position(|r| r.number == request && r.slot == Slot::InFlight)
        else {
            return;
        };
        if let Some(r) = self.records.get_mut(idx) {
            r.end_to_end = r.end_to_end.or(Some(answer.end_to_end()));
        }
        match Aca::decode(answer) {
            Ok(aca) => {
                if aca.result_code.is_success() {
                    self.apply_server_policy(cx.shared, now, &aca);
                }
                self.on_result(cx.shared, now, idx, aca.result_code);
            }
            // Not a readable ACA: a failed attempt, as if reported as
            // Failure::InvalidAnswer; the record is kept and retried.
            Err(_) => {
                self.attempt_failed(cx.shared, idx, now);
                self.finish_if_done();
            }
        }
    }

    /// An attempt failed: handed back, the record goes out again at once
    /// (T flag, same End-to-End id) and the failure does not count; any
    /// other failure counts against [`AccountingConfig::max_attempts`] and
    /// the record is retried after [`AccountingConfig::retry_interval`].
    fn handle_request_failed(
        &mut self,
        cx: Ctx<'_, AccountingConfig>,
        now: Instant,
        failed: RequestFailed,
    ) {
        let now = self.clock.update(now);
        let Some(idx) = self
            .records
            .iter()
            .position(|r| r.number == failed.request && r.slot == Slot::InFlight)
        else {
            return;
        };
        if let Some(r) = self.records.get_mut(idx) {
            r.end_to_end = r.end_to_end.or(failed.end_to_end);
            if failed.failure == Failure::HandedBack {
                r.slot = Slot::Ready;
                return;
            }
        }
        self.attempt_failed(cx.shared, idx, now);
    }

    fn handle_request(
        &mut self,
        cx: Ctx<'_, AccountingConfig>,
        _now: Instant,
        request: &Message<'_>,
        _duplicate: bool,
        answer: &mut [u8],
    ) -> Result<usize, EncodeError> {
        let (host, realm) = (cx.node.origin_host.as_str(), cx.node.origin_realm.as_str());
        answer_unsupported(request, host, realm, answer)
    }

    /// The interim timer: create an INTERIM record (RFC 6733 §9.8.2). One
    /// record covers however many intervals elapsed; an INTERIM never sent
    /// is refreshed rather than duplicated; one still in flight means this
    /// one is skipped (§9.4: one pending interim). A full store skips it
    /// and, unless GRANT_AND_LOSE, stops the service.
    fn handle_timeout(&mut self, cx: Ctx<'_, AccountingConfig>, now: Instant) {
        let now = self.clock.update(now);
        let cfg = &*cx.shared;
        let ms = self.interim_interval(cfg).map(|s| u64::from(s) * 1000);
        let (Some(due), Some(ms)) = (self.next_interim, ms) else {
            self.next_interim = None;
            return;
        };
        if self.phase != Phase::Started || now < due {
            return;
        }
        // Catch up without a burst: one record for however many intervals
        // elapsed; the next one is due at the next multiple.
        // The record stands for the nearest interval boundary (the due time
        // was jittered around it), at least the next one.
        let periods = ((now.0.saturating_sub(self.interim_base.0) + ms / 2) / ms).max(1);
        self.interim_base = Instant(
            self.interim_base
                .0
                .saturating_add(periods.saturating_mul(ms)),
        );
        let stored = self
            .records
            .iter_mut()
            .find(|r| r.kind == AccountingRecordType::InterimRecord);
        match stored {
            Some(r) if r.sent == 0 => r.at = now,
            Some(_) => self.skipped_interims = self.skipped_interims.saturating_add(1),
            None => {
                if self
                    .create(now, AccountingRecordType::InterimRecord)
                    .is_err()
                {
                    self.skipped_interims = self.skipped_interims.saturating_add(1);
                    if self.realtime_required(cfg) != AccountingRealtimeRequired::GrantAndLose {
                        self.stop_service();
                    }
                }
            }
        }
        let next = self.interim_due(self.interim_base, ms);
        self.next_interim = Some(next.max(Instant(now.0.saturating_add(1))));
    }

    /// The oldest stored record, when it is due (records go out one at a
    /// time, in order). Its answer deadline is
    /// [`AccountingConfig::answer_timeout`].
    fn poll_transmit(
        &mut self,
        cx: Ctx<'_, AccountingConfig>,
        now: Instant,
        buf: &mut [u8],
    ) -> Option<Result<Transmit, EncodeError>> {
        let now = self.clock.update(now);
        let r = *self.records.first()?;
        match r.slot {
            Slot::InFlight => return None,
            Slot::Retry(at) if now < at => return None,
            _ => {}
        }
        let len = match self.write_acr(&cx, &r, buf) {
            Ok(len) => len,
            Err(e) => {
                // Cannot be sent now: a failed attempt, retried later.
                if let Some(head) = self.records.first_mut() {
                    head.slot = Slot::InFlight;
                }
                self.attempt_failed(cx.shared, 0, now);
                return Some(Err(e));
            }
        };
        if let Some(head) = self.records.first_mut() {
            head.slot = Slot::InFlight;
            head.sent = head.sent.saturating_add(1);
        }
        Some(Ok(Transmit {
            len,
            request: r.number,
            deadline: now + cx.shared.answer_timeout,
            end_to_end: r.end_to_end,
        }))
    }

    fn poll_event(&mut self) -> Option<AccountingEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let head = self.records.first().and_then(|r| match r.slot {
            Slot::Ready => Some(self.clock.get()),
            Slot::Retry(at) => Some(at),
            Slot::InFlight => None,
        });
        let interim = if self.phase == Phase::Started {
            self.next_interim
        } else {
            None
        };
        earliest(head, interim)
    }

    fn is_closed(&self) -> bool {
        self.phase == Phase::Ended && self.events.is_empty()
    }
}

fn clamp_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn unix_u32(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}
