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
//! [`AccountingClient::event`]); Diameter input from the transport
//! ([`AccountingClient::handle_answer`], [`AccountingClient::handle_sent`],
//! [`AccountingClient::handle_request_failed`]); time through
//! [`AccountingClient::handle_timeout`]. Outputs follow the order of
//! [`crate::session`]: [`AccountingClient::poll_event`],
//! [`AccountingClient::poll_transmit`], [`AccountingClient::poll_timeout`].
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
//! [`AccountingConfig::retry_interval`], flagged
//! [`Transmit::retransmission`]: set the T flag with
//! [`diameter_core::peer::set_retransmit_flag`] and keep the End-to-End id
//! of the first attempt (RFC 6733 §9.4, §5.5.4). Reporting that id through
//! [`AccountingClient::handle_sent`] makes the retransmitted bytes carry it.
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
//! use diameter_cc::session::session_id_from;
//! use diameter_core::dict::base::AccountingRecordType;
//! use diameter_core::time::Instant;
//!
//! let mut config = AccountingConfig::new("client.diameter.test", "diameter.test", "diameter.test");
//! config.interim_interval = Some(30);
//! let info = CallInfo::new(session_id_from("call-1@example").unwrap());
//! let mut client: AccountingClient<'_, 4> = AccountingClient::new(&config, info);
//!
//! client.call_answered(Instant::from_secs(0)).unwrap();
//! let mut buf = [0u8; 1024];
//! let t = client.poll_transmit(Instant::from_secs(0), &mut buf).unwrap().unwrap();
//! assert_eq!((t.record_type, t.record_number, t.retransmission),
//!            (AccountingRecordType::StartRecord, 0, false));
//! assert_eq!(client.state(), ClientState::PendingStart);
//! // ... pass buf[..t.len] to the peer's send_request, feed the ACA to
//! // handle_answer, arm a timer for poll_timeout():
//! assert_eq!(client.poll_timeout(), Some(Instant::from_secs(30)));
//! ```

use core::time::Duration;

use diameter_core::dict::base::{self, AccountingRealtimeRequired, AccountingRecordType};
use diameter_core::time::{earliest, Instant};
use diameter_core::{ApplicationId, CommandCode, EncodeError, HeaderRepr, Message, ResultCode};

use crate::dict::sip::{AcctStatusType, ServiceType, SipMethod};
use crate::msg::AcrRepr;
use crate::session::{SessionId, WallClock};

/// Settings of an accounting client (shared by all calls of a proxy).
///
/// RFC 6733 §9.7.1 (the ACR's routing AVPs), §9.8.2
/// (Acct-Interim-Interval), §9.8.7 (Accounting-Realtime-Required), §9.4
/// (retries).
///
/// ```
/// use diameter_cc::client::accounting::AccountingConfig;
/// use diameter_core::dict::base::AccountingRealtimeRequired;
/// let mut c = AccountingConfig::new("client.diameter.test", "diameter.test", "diameter.test");
/// c.interim_interval = Some(30);
/// c.realtime_required = AccountingRealtimeRequired::GrantAndLose;
/// assert_eq!(c.acct_application_id, 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AccountingConfig<'a> {
    /// Origin-Host (RFC 6733 §6.3).
    pub origin_host: &'a str,
    /// Origin-Realm (RFC 6733 §6.4).
    pub origin_realm: &'a str,
    /// Destination-Realm (RFC 6733 §6.6).
    pub destination_realm: &'a str,
    /// Destination-Host (RFC 6733 §6.5); leave `None` when the session
    /// binding forbids it (RFC 6733 §8.17, ACCOUNTING bit).
    pub destination_host: Option<&'a str>,
    /// Acct-Application-Id and header Application-Id: 3, base accounting
    /// (RFC 6733 §9.3, §6.9).
    pub acct_application_id: u32,
    /// Wall clock for Event-Timestamp (RFC 6733 §8.21) and Sip-Call-Created.
    pub clock: WallClock,
    /// Seconds between INTERIM records until the server says otherwise
    /// (RFC 6733 §9.8.2); `None` (or 0): no interims unless the server asks.
    /// Sent in the START record as a hint.
    pub interim_interval: Option<u32>,
    /// Accounting-Realtime-Required policy until the server says otherwise
    /// (RFC 6733 §9.8.7; the RFC's default is GRANT_AND_STORE). Sent in
    /// the START and EVENT records.
    pub realtime_required: AccountingRealtimeRequired,
    /// Wait between a failed attempt and its retransmission (RFC 6733 §9.4).
    pub retry_interval: Duration,
    /// Failed attempts of one record after which delivery counts as failed
    /// (see the module docs); 0 is taken as 1.
    pub max_attempts: u32,
}

impl<'a> AccountingConfig<'a> {
    /// Defaults: base accounting (3), no Destination-Host, no interims,
    /// GRANT_AND_STORE, retry every 5 s, delivery failed after 3 attempts,
    /// wall clock at the Unix epoch (set [`AccountingConfig::clock`]).
    ///
    /// ```
    /// use diameter_cc::client::accounting::AccountingConfig;
    /// use diameter_core::dict::base::AccountingRealtimeRequired;
    /// let c = AccountingConfig::new("client.diameter.test", "diameter.test", "diameter.test");
    /// assert_eq!(c.realtime_required, AccountingRealtimeRequired::GrantAndStore);
    /// assert_eq!((c.interim_interval, c.max_attempts), (None, 3));
    /// ```
    pub const fn new(
        origin_host: &'a str,
        origin_realm: &'a str,
        destination_realm: &'a str,
    ) -> Self {
        AccountingConfig {
            origin_host,
            origin_realm,
            destination_realm,
            destination_host: None,
            acct_application_id: ApplicationId::BASE_ACCOUNTING.0,
            clock: WallClock { unix_at_zero: 0 },
            interim_interval: None,
            realtime_required: AccountingRealtimeRequired::GrantAndStore,
            retry_interval: Duration::from_secs(5),
            max_attempts: 3,
        }
    }
}

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
/// sip.from_tag = Some("a1b2");
/// sip.response_code = Some(200);
/// assert!(sip.avps.is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SipInfo<'a> {
    /// Sip-Method (204) of START, INTERIM and EVENT records (INVITE for a
    /// call); STOP records carry BYE.
    pub method: SipMethod,
    /// Sip-From-Tag (206).
    pub from_tag: Option<&'a str>,
    /// Sip-To-Tag (207).
    pub to_tag: Option<&'a str>,
    /// Sip-Response-Code (205): the final response to the INVITE.
    pub response_code: Option<u32>,
    /// Sip-Call-Setuptime (228): seconds from INVITE to 200 OK.
    pub setup_time: Option<u32>,
    /// SIP-AVP (225) `name:value` pairs, one AVP each.
    pub avps: &'a [&'a str],
}

impl<'a> SipInfo<'a> {
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
            avps: &[],
        }
    }
}

impl Default for SipInfo<'_> {
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
/// info.user_name = Some("1001");
/// info.sip = Some(SipInfo::new());
/// assert_eq!(info.acct_session_id(), b"a84b4c76e66710@pc33");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo<'a> {
    /// Session-Id of every record.
    pub session_id: SessionId,
    /// Acct-Session-Id (44); `None`: the Session-Id's bytes.
    pub acct_session_id: Option<&'a [u8]>,
    /// User-Name (1): the caller.
    pub user_name: Option<&'a str>,
    /// The SIP accounting AVPs; `None`: none sent.
    pub sip: Option<SipInfo<'a>>,
}

impl<'a> CallInfo<'a> {
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
    /// info.acct_session_id = Some(b"radius-42");
    /// assert_eq!(info.acct_session_id(), b"radius-42");
    /// ```
    pub fn acct_session_id(&self) -> &[u8] {
        match self.acct_session_id {
            Some(a) => a,
            None => self.session_id.as_bytes(),
        }
    }
}

/// States of the client (RFC 6733 §8.2, client accounting; see the module
/// docs for the mapping).
///
/// ```
/// use diameter_cc::client::accounting::*;
/// use diameter_cc::session::session_id_from;
/// use diameter_core::time::Instant;
/// let config = AccountingConfig::new("c.example", "example", "example");
/// let mut c: AccountingClient<'_, 4> =
///     AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
/// assert_eq!(c.state(), ClientState::Idle);
/// c.event(Instant::ZERO).unwrap();
/// assert_eq!(c.state(), ClientState::PendingEvent);
/// ```
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
///
/// ```
/// use diameter_cc::client::accounting::*;
/// use diameter_cc::session::session_id_from;
/// use diameter_core::time::Instant;
/// let config = AccountingConfig::new("c.example", "example", "example");
/// let mut c: AccountingClient<'_, 4> =
///     AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
/// assert_eq!(c.call_ended(Instant::ZERO), Err(AccountingError::WrongState(ClientState::Idle)));
/// ```
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

/// What the application must know or do.
///
/// ```
/// use diameter_cc::client::accounting::AccountingEvent;
/// use diameter_core::dict::base::AccountingRecordType;
/// let e = AccountingEvent::RecordAcknowledged { number: 0, record_type: AccountingRecordType::StartRecord };
/// assert_ne!(e, AccountingEvent::StopService);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
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

/// What [`AccountingClient::poll_transmit`] wrote: an ACR for the peer
/// machine's `send_request` (RFC 6733 §9.7.1).
///
/// ```
/// use diameter_cc::client::accounting::Transmit;
/// use diameter_core::dict::base::AccountingRecordType;
/// let t = Transmit { len: 200, record_number: 1, record_type: AccountingRecordType::InterimRecord,
///                    retransmission: true, end_to_end: Some(0x1234) };
/// let mut bytes = [0u8; 200];
/// if t.retransmission {
///     diameter_core::peer::set_retransmit_flag(&mut bytes[..t.len]);
/// }
/// assert_eq!(bytes[4], 0x10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Transmit {
    /// Bytes written.
    pub len: usize,
    /// Its Accounting-Record-Number (RFC 6733 §9.8.3): the token to give the
    /// peer machine, and what [`AccountingClient::handle_request_failed`] takes.
    pub record_number: u32,
    /// Its Accounting-Record-Type (RFC 6733 §9.8.1).
    pub record_type: AccountingRecordType,
    /// A retransmission of a record sent before: set the T flag with
    /// [`diameter_core::peer::set_retransmit_flag`] and keep the first
    /// End-to-End id (RFC 6733 §9.4, §5.5.4).
    pub retransmission: bool,
    /// The End-to-End id reported with [`AccountingClient::handle_sent`],
    /// already written into the header of a retransmission.
    pub end_to_end: Option<u32>,
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
    /// Creation time: Event-Timestamp, and the end of the duration reported.
    at: Instant,
    slot: Slot,
    /// Transmissions so far.
    sent: u32,
    /// Failed attempts so far.
    failures: u32,
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

/// Bound on queued events (one input produces at most four).
const EVENTS: usize = 16;

/// One call's accounting session (RFC 6733 §8.2 client, §9). `N` bounds the
/// records stored until acknowledged (3 are enough for START, INTERIM and
/// STOP; see the module docs).
///
/// ```
/// use diameter_cc::client::accounting::*;
/// use diameter_cc::session::session_id_from;
/// use diameter_core::time::Instant;
/// let config = AccountingConfig::new("c.example", "example", "example");
/// let client: AccountingClient<'_, 3> =
///     AccountingClient::new(&config, CallInfo::new(session_id_from("call-1").unwrap()));
/// assert_eq!(client.session_id(), "call-1");
/// assert_eq!(client.next_record_number(), 0);
/// ```
#[derive(Debug)]
pub struct AccountingClient<'c, const N: usize> {
    config: &'c AccountingConfig<'c>,
    info: CallInfo<'c>,
    phase: Phase,
    records: heapless::Vec<Record, N>,
    next_number: u32,
    events: heapless::Deque<AccountingEvent, EVENTS>,
    interval: Option<u32>,
    policy: AccountingRealtimeRequired,
    answered_at: Option<Instant>,
    /// Interims are due at `interim_base + k * interval`.
    interim_base: Instant,
    next_interim: Option<Instant>,
    service_stopped: bool,
    stops: u8,
    skipped_interims: u32,
    last_now: Instant,
}

impl<'c, const N: usize> AccountingClient<'c, N> {
    /// A new session in state [`ClientState::Idle`].
    ///
    /// ```
    /// use diameter_cc::client::accounting::*;
    /// use diameter_cc::session::session_id_from;
    /// let config = AccountingConfig::new("c.example", "example", "example");
    /// let c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("call-1").unwrap()));
    /// assert_eq!(c.state(), ClientState::Idle);
    /// ```
    pub fn new(config: &'c AccountingConfig<'c>, info: CallInfo<'c>) -> Self {
        AccountingClient {
            config,
            info,
            phase: Phase::Idle,
            records: heapless::Vec::new(),
            next_number: 0,
            events: heapless::Deque::new(),
            interval: config.interim_interval.filter(|s| *s > 0),
            policy: config.realtime_required,
            answered_at: None,
            interim_base: Instant::ZERO,
            next_interim: None,
            service_stopped: false,
            stops: 0,
            skipped_interims: 0,
            last_now: Instant::ZERO,
        }
    }

    // ---- getters ------------------------------------------------------------

    /// The state (RFC 6733 §8.2).
    ///
    /// ```
    /// # use diameter_cc::client::accounting::*;
    /// # use diameter_cc::session::session_id_from;
    /// # use diameter_core::time::Instant;
    /// # let config = AccountingConfig::new("c.example", "example", "example");
    /// let mut c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
    /// c.call_answered(Instant::ZERO).unwrap();
    /// assert_eq!(c.state(), ClientState::PendingStart);
    /// ```
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

    /// The Session-Id of every record (RFC 6733 §8.8).
    ///
    /// ```
    /// # use diameter_cc::client::accounting::*;
    /// # use diameter_cc::session::session_id_from;
    /// # let config = AccountingConfig::new("c.example", "example", "example");
    /// let c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("sid").unwrap()));
    /// assert_eq!(c.session_id(), "sid");
    /// ```
    pub fn session_id(&self) -> &str {
        self.info.session_id.as_str()
    }

    /// The call's description.
    ///
    /// ```
    /// # use diameter_cc::client::accounting::*;
    /// # use diameter_cc::session::session_id_from;
    /// # let config = AccountingConfig::new("c.example", "example", "example");
    /// let c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("sid").unwrap()));
    /// assert_eq!(c.call_info().acct_session_id(), b"sid");
    /// ```
    pub fn call_info(&self) -> &CallInfo<'c> {
        &self.info
    }

    /// The Accounting-Record-Number the next record gets (RFC 6733 §9.8.3).
    ///
    /// ```
    /// # use diameter_cc::client::accounting::*;
    /// # use diameter_cc::session::session_id_from;
    /// # use diameter_core::time::Instant;
    /// # let config = AccountingConfig::new("c.example", "example", "example");
    /// let mut c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
    /// c.call_answered(Instant::ZERO).unwrap();
    /// assert_eq!(c.next_record_number(), 1);
    /// ```
    pub const fn next_record_number(&self) -> u32 {
        self.next_number
    }

    /// Records stored and not yet settled (RFC 6733 §9.4).
    ///
    /// ```
    /// # use diameter_cc::client::accounting::*;
    /// # use diameter_cc::session::session_id_from;
    /// # use diameter_core::time::Instant;
    /// # let config = AccountingConfig::new("c.example", "example", "example");
    /// let mut c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
    /// c.event(Instant::ZERO).unwrap();
    /// assert_eq!(c.unacknowledged(), 1);
    /// ```
    pub fn unacknowledged(&self) -> usize {
        self.records.len()
    }

    /// The Accounting-Record-Numbers stored and not yet settled, oldest first.
    ///
    /// ```
    /// # use diameter_cc::client::accounting::*;
    /// # use diameter_cc::session::session_id_from;
    /// # use diameter_core::time::Instant;
    /// # let config = AccountingConfig::new("c.example", "example", "example");
    /// let mut c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
    /// c.call_answered(Instant::ZERO).unwrap();
    /// c.call_ended(Instant::from_secs(5)).unwrap();
    /// assert!(c.stored_records().eq([0, 1]));
    /// ```
    pub fn stored_records(&self) -> impl Iterator<Item = u32> + '_ {
        self.records.iter().map(|r| r.number)
    }

    /// The Acct-Interim-Interval in force, in seconds (RFC 6733 §9.8.2).
    ///
    /// ```
    /// # use diameter_cc::client::accounting::*;
    /// # use diameter_cc::session::session_id_from;
    /// let mut config = AccountingConfig::new("c.example", "example", "example");
    /// config.interim_interval = Some(0);
    /// let c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
    /// assert_eq!(c.interim_interval(), None);
    /// ```
    pub const fn interim_interval(&self) -> Option<u32> {
        self.interval
    }

    /// The Accounting-Realtime-Required policy in force (RFC 6733 §9.8.7).
    ///
    /// ```
    /// # use diameter_cc::client::accounting::*;
    /// # use diameter_cc::session::session_id_from;
    /// use diameter_core::dict::base::AccountingRealtimeRequired;
    /// # let config = AccountingConfig::new("c.example", "example", "example");
    /// let c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
    /// assert_eq!(c.realtime_required(), AccountingRealtimeRequired::GrantAndStore);
    /// ```
    pub const fn realtime_required(&self) -> AccountingRealtimeRequired {
        self.policy
    }

    /// Whether [`AccountingEvent::StopService`] was reported.
    ///
    /// ```
    /// # use diameter_cc::client::accounting::*;
    /// # use diameter_cc::session::session_id_from;
    /// # let config = AccountingConfig::new("c.example", "example", "example");
    /// let c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
    /// assert!(!c.service_stopped());
    /// ```
    pub const fn service_stopped(&self) -> bool {
        self.service_stopped
    }

    /// How many STOP records this session created (0 or 1).
    ///
    /// ```
    /// # use diameter_cc::client::accounting::*;
    /// # use diameter_cc::session::session_id_from;
    /// # let config = AccountingConfig::new("c.example", "example", "example");
    /// let c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
    /// assert_eq!(c.stops(), 0);
    /// ```
    pub const fn stops(&self) -> u8 {
        self.stops
    }

    /// INTERIM records not created because one was already outstanding or
    /// the store was full (RFC 6733 §9.4: one pending interim only).
    ///
    /// ```
    /// # use diameter_cc::client::accounting::*;
    /// # use diameter_cc::session::session_id_from;
    /// # let config = AccountingConfig::new("c.example", "example", "example");
    /// let c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
    /// assert_eq!(c.skipped_interims(), 0);
    /// ```
    pub const fn skipped_interims(&self) -> u32 {
        self.skipped_interims
    }

    // ---- internals ------------------------------------------------------------

    fn clock(&mut self, now: Instant) -> Instant {
        if now > self.last_now {
            self.last_now = now;
        }
        self.last_now
    }

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

    fn interval_ms(&self) -> Option<u64> {
        self.interval.map(|s| u64::from(s) * 1000)
    }

    /// Next interim deadline from `interim_base`, not before `now`.
    fn schedule_interim(&mut self, now: Instant) {
        self.next_interim = match (self.phase, self.interval_ms()) {
            (Phase::Started, Some(ms)) => {
                Some(Instant(self.interim_base.0.saturating_add(ms)).max(now))
            }
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
    fn attempt_failed(&mut self, idx: usize, now: Instant) {
        let max = self.config.max_attempts.max(1);
        let retry = Slot::Retry(now + self.config.retry_interval);
        let policy = self.policy;
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
    ///
    /// ```
    /// # use diameter_cc::client::accounting::*;
    /// # use diameter_cc::session::session_id_from;
    /// use diameter_core::time::Instant;
    /// let mut config = AccountingConfig::new("c.example", "example", "example");
    /// config.interim_interval = Some(60);
    /// let mut c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
    /// c.call_answered(Instant::from_secs(10)).unwrap();
    /// assert_eq!(c.poll_timeout(), Some(Instant::from_secs(10))); // the START is ready
    /// assert!(c.call_answered(Instant::from_secs(11)).is_err());
    /// ```
    pub fn call_answered(&mut self, now: Instant) -> Result<(), AccountingError> {
        let now = self.clock(now);
        if self.phase != Phase::Idle {
            return Err(AccountingError::WrongState(self.state()));
        }
        self.create(now, AccountingRecordType::StartRecord)?;
        self.phase = Phase::Started;
        self.answered_at = Some(now);
        self.interim_base = now;
        self.schedule_interim(now);
        Ok(())
    }

    /// The call ended: create the STOP record (type 4, the next number; RFC
    /// 6733 §9.2) with the call's duration. Only while started; exactly one
    /// STOP per session. [`AccountingError::StoreFull`] leaves the session
    /// started: call again once a record is settled.
    ///
    /// ```
    /// # use diameter_cc::client::accounting::*;
    /// # use diameter_cc::session::session_id_from;
    /// use diameter_core::time::Instant;
    /// # let config = AccountingConfig::new("c.example", "example", "example");
    /// let mut c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
    /// c.call_answered(Instant::ZERO).unwrap();
    /// c.call_ended(Instant::from_secs(67)).unwrap();
    /// assert_eq!(c.state(), ClientState::PendingStop);
    /// assert_eq!(c.stops(), 1);
    /// ```
    pub fn call_ended(&mut self, now: Instant) -> Result<(), AccountingError> {
        let now = self.clock(now);
        if self.phase != Phase::Started {
            return Err(AccountingError::WrongState(self.state()));
        }
        self.create(now, AccountingRecordType::StopRecord)?;
        self.phase = Phase::Stopped;
        self.next_interim = None;
        self.stops = self.stops.saturating_add(1);
        Ok(())
    }

    /// A one-time service: create the EVENT record (type 1, number 0; RFC
    /// 6733 §9.2, §9.8.1). Only in [`ClientState::Idle`]; the session ends
    /// when it is settled.
    ///
    /// ```
    /// # use diameter_cc::client::accounting::*;
    /// # use diameter_cc::session::session_id_from;
    /// use diameter_core::time::Instant;
    /// # let config = AccountingConfig::new("c.example", "example", "example");
    /// let mut c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
    /// c.event(Instant::ZERO).unwrap();
    /// assert!(c.call_answered(Instant::ZERO).is_err());
    /// ```
    pub fn event(&mut self, now: Instant) -> Result<(), AccountingError> {
        let now = self.clock(now);
        if self.phase != Phase::Idle {
            return Err(AccountingError::WrongState(self.state()));
        }
        self.create(now, AccountingRecordType::EventRecord)?;
        self.phase = Phase::Event;
        Ok(())
    }

    // ---- Diameter input -----------------------------------------------------------

    /// An ACA (RFC 6733 §9.7.2) for this session, matched to a stored
    /// record by Accounting-Record-Number (or, when an error answer lacks
    /// it, to the record in flight). Returns whether it matched; answers
    /// for another Session-Id or for settled records are ignored.
    ///
    /// 2xxx acknowledges the record and applies the server's
    /// Acct-Interim-Interval and Accounting-Realtime-Required (RFC 6733
    /// §9.8.2, §9.8.7); 5xxx rejects it; anything else is a failed attempt
    /// (4002 DIAMETER_OUT_OF_SPACE, 3xxx: RFC 6733 §9.4).
    ///
    /// ```
    /// # use diameter_cc::client::accounting::*;
    /// # use diameter_cc::session::session_id_from;
    /// use diameter_core::dict::base::{self, AccountingRecordType};
    /// use diameter_core::{Message, MessageBuilder, time::Instant};
    /// # let config = AccountingConfig::new("c.example", "example", "example");
    /// let mut c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
    /// c.call_answered(Instant::ZERO).unwrap();
    /// let mut acr = [0u8; 512];
    /// let t = c.poll_transmit(Instant::ZERO, &mut acr).unwrap().unwrap();
    /// let req = Message::parse(&acr[..t.len]).unwrap();
    /// let mut out = [0u8; 256];
    /// let mut b = MessageBuilder::answer_to(&mut out, &req);
    /// b.put(&base::RESULT_CODE, 2001)
    ///     .put(&base::ORIGIN_HOST, "s.example")
    ///     .put(&base::ORIGIN_REALM, "example")
    ///     .put(&base::ACCOUNTING_RECORD_TYPE, AccountingRecordType::StartRecord)
    ///     .put(&base::ACCOUNTING_RECORD_NUMBER, 0);
    /// let aca = Message::parse(b.finish().unwrap()).unwrap();
    /// assert!(c.handle_answer(Instant::ZERO, &aca));
    /// assert_eq!(c.state(), ClientState::Open);
    /// ```
    pub fn handle_answer(&mut self, now: Instant, aca: &Message<'_>) -> bool {
        let now = self.clock(now);
        if aca.is_request() || aca.command_code() != CommandCode::ACCOUNTING {
            return false;
        }
        if let Some(sid) = aca.session_id() {
            if sid != self.info.session_id.as_str() {
                return false;
            }
        }
        // Only records sent at least once can be answered.
        let idx = match aca.get(&base::ACCOUNTING_RECORD_NUMBER) {
            Ok(Some(n)) => self
                .records
                .iter()
                .position(|r| r.number == n && r.sent > 0),
            _ => self.records.iter().position(|r| r.slot == Slot::InFlight),
        };
        let Some(idx) = idx else {
            return false;
        };
        let rc = match aca.get(&base::RESULT_CODE) {
            Ok(Some(rc)) => ResultCode(rc),
            // No readable Result-Code: not an answer we can trust.
            _ => ResultCode::UNABLE_TO_COMPLY,
        };
        if rc.is_success() {
            if let Some(r) = self.remove(idx) {
                self.event_out(AccountingEvent::RecordAcknowledged {
                    number: r.number,
                    record_type: r.kind,
                });
            }
            self.apply_server_policy(now, aca);
            self.finish_if_done();
        } else if rc.is_permanent_failure() {
            if let Some(r) = self.remove(idx) {
                self.event_out(AccountingEvent::RecordRejected {
                    number: r.number,
                    result_code: rc,
                });
            }
            if self.policy != AccountingRealtimeRequired::GrantAndLose {
                self.stop_service();
            }
            self.finish_if_done();
        } else if self
            .records
            .get(idx)
            .is_some_and(|r| r.slot == Slot::InFlight)
        {
            self.attempt_failed(idx, now);
        }
        true
    }

    fn apply_server_policy(&mut self, now: Instant, aca: &Message<'_>) {
        if let Ok(Some(s)) = aca.get(&base::ACCT_INTERIM_INTERVAL) {
            let new = Some(s).filter(|s| *s > 0);
            if new != self.interval {
                self.interval = new;
                self.event_out(AccountingEvent::InterimIntervalChanged { seconds: new });
                self.schedule_interim(now);
            }
        }
        if let Ok(Some(p)) = aca.get(&base::ACCOUNTING_REALTIME_REQUIRED) {
            if p != self.policy {
                self.policy = p;
                self.event_out(AccountingEvent::RealtimeRequiredChanged(p));
            }
        }
    }

    /// The peer machine gave the record this End-to-End id (read it from
    /// the header after `send_request`). Retransmissions then carry it, so
    /// that setting the T flag is all that is left to do (RFC 6733 §9.4,
    /// §6.5). Returns whether the record is stored.
    ///
    /// ```
    /// # use diameter_cc::client::accounting::*;
    /// # use diameter_cc::session::session_id_from;
    /// use diameter_core::time::Instant;
    /// # let config = AccountingConfig::new("c.example", "example", "example");
    /// let mut c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
    /// c.call_answered(Instant::ZERO).unwrap();
    /// let mut buf = [0u8; 512];
    /// let t = c.poll_transmit(Instant::ZERO, &mut buf).unwrap().unwrap();
    /// assert!(c.handle_sent(t.record_number, 0xabc));
    /// c.handle_request_failed(Instant::ZERO, t.record_number);
    /// let t = c.poll_transmit(Instant::from_secs(5), &mut buf).unwrap().unwrap();
    /// assert_eq!((t.retransmission, t.end_to_end), (true, Some(0xabc)));
    /// assert_eq!(&buf[16..20], &0xabcu32.to_be_bytes());
    /// ```
    pub fn handle_sent(&mut self, record_number: u32, end_to_end: u32) -> bool {
        match self.records.iter_mut().find(|r| r.number == record_number) {
            Some(r) => {
                r.end_to_end = Some(end_to_end);
                true
            }
            None => false,
        }
    }

    /// The record's request failed: the peer machine reported
    /// `RequestTimedOut` or `RequestHandedBack`, or `send_request` refused
    /// it. The record is retransmitted with the T flag after
    /// [`AccountingConfig::retry_interval`] (RFC 6733 §9.4), or, after
    /// [`AccountingConfig::max_attempts`], handled by the
    /// Accounting-Realtime-Required policy. Returns whether the record was
    /// in flight (anything else is ignored).
    ///
    /// ```
    /// # use diameter_cc::client::accounting::*;
    /// # use diameter_cc::session::session_id_from;
    /// use diameter_core::time::Instant;
    /// # let config = AccountingConfig::new("c.example", "example", "example");
    /// let mut c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
    /// c.call_answered(Instant::ZERO).unwrap();
    /// let mut buf = [0u8; 512];
    /// let t = c.poll_transmit(Instant::ZERO, &mut buf).unwrap().unwrap();
    /// assert!(c.handle_request_failed(Instant::from_secs(10), t.record_number));
    /// assert_eq!(c.poll_timeout(), Some(Instant::from_secs(15)));
    /// assert_eq!(c.unacknowledged(), 1); // never dropped
    /// ```
    pub fn handle_request_failed(&mut self, now: Instant, record_number: u32) -> bool {
        let now = self.clock(now);
        let idx = self
            .records
            .iter()
            .position(|r| r.number == record_number && r.slot == Slot::InFlight);
        match idx {
            Some(idx) => {
                self.attempt_failed(idx, now);
                true
            }
            None => false,
        }
    }

    /// Act on expired timers: create the INTERIM record when
    /// Acct-Interim-Interval has elapsed (RFC 6733 §9.8.2), overwriting a
    /// stored interim that was never sent (RFC 6733 §9.4). Retransmissions
    /// become due by themselves; a call before any deadline does nothing.
    ///
    /// ```
    /// # use diameter_cc::client::accounting::*;
    /// # use diameter_cc::session::session_id_from;
    /// use diameter_core::time::Instant;
    /// let mut config = AccountingConfig::new("c.example", "example", "example");
    /// config.interim_interval = Some(30);
    /// let mut c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
    /// c.call_answered(Instant::ZERO).unwrap();
    /// c.handle_timeout(Instant::from_secs(29));
    /// assert_eq!(c.next_record_number(), 1);
    /// c.handle_timeout(Instant::from_secs(30));
    /// assert_eq!(c.next_record_number(), 2);
    /// assert_eq!(c.poll_timeout(), Some(Instant::from_secs(30))); // START still unsent: now
    /// ```
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.clock(now);
        let (Some(due), Some(ms)) = (self.next_interim, self.interval_ms()) else {
            return;
        };
        if self.phase != Phase::Started || now < due || ms == 0 {
            return;
        }
        // Catch up without a burst: one record for however many intervals
        // elapsed; the next one is due at the next multiple.
        let periods = (now.0 - self.interim_base.0) / ms;
        self.interim_base = Instant(
            self.interim_base
                .0
                .saturating_add(periods.saturating_mul(ms)),
        );
        self.next_interim = Some(Instant(self.interim_base.0.saturating_add(ms)));
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
                    if self.policy != AccountingRealtimeRequired::GrantAndLose {
                        self.stop_service();
                    }
                }
            }
        }
    }

    // ---- outputs ------------------------------------------------------------------

    /// The next thing the application must know or do.
    ///
    /// ```
    /// # use diameter_cc::client::accounting::*;
    /// # use diameter_cc::session::session_id_from;
    /// # let config = AccountingConfig::new("c.example", "example", "example");
    /// let mut c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
    /// assert_eq!(c.poll_event(), None);
    /// ```
    #[must_use]
    pub fn poll_event(&mut self) -> Option<AccountingEvent> {
        self.events.pop_front()
    }

    /// When [`AccountingClient::handle_timeout`] (or
    /// [`AccountingClient::poll_transmit`], for a due retransmission) should
    /// next run.
    ///
    /// ```
    /// # use diameter_cc::client::accounting::*;
    /// # use diameter_cc::session::session_id_from;
    /// # let config = AccountingConfig::new("c.example", "example", "example");
    /// let c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
    /// assert_eq!(c.poll_timeout(), None);
    /// ```
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let head = self.records.first().and_then(|r| match r.slot {
            Slot::Ready => Some(self.last_now),
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

    /// Write the next ACR (RFC 6733 §9.7.1) into `buf`. Records go out one
    /// at a time, oldest first: `None` while one is in flight or waiting for
    /// its retry. After an error nothing changed: retry with a larger
    /// buffer ([`EncodeError::BufferTooSmall`] says how large).
    ///
    /// ```
    /// # use diameter_cc::client::accounting::*;
    /// # use diameter_cc::session::session_id_from;
    /// use diameter_core::{time::Instant, EncodeError};
    /// # let config = AccountingConfig::new("c.example", "example", "example");
    /// let mut c: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
    /// c.call_answered(Instant::ZERO).unwrap();
    /// let mut small = [0u8; 16];
    /// assert!(matches!(c.poll_transmit(Instant::ZERO, &mut small),
    ///                  Some(Err(EncodeError::BufferTooSmall { .. }))));
    /// let mut buf = [0u8; 512];
    /// assert!(c.poll_transmit(Instant::ZERO, &mut buf).unwrap().is_ok());
    /// assert!(c.poll_transmit(Instant::ZERO, &mut buf).is_none()); // in flight
    /// ```
    #[must_use]
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        buf: &mut [u8],
    ) -> Option<Result<Transmit, EncodeError>> {
        let now = self.clock(now);
        let r = *self.records.first()?;
        match r.slot {
            Slot::InFlight => return None,
            Slot::Retry(at) if now < at => return None,
            _ => {}
        }
        let len = match self.write_acr(&r, buf) {
            Ok(len) => len,
            Err(e) => return Some(Err(e)),
        };
        if let Some(head) = self.records.first_mut() {
            head.slot = Slot::InFlight;
            head.sent = head.sent.saturating_add(1);
        }
        Some(Ok(Transmit {
            len,
            record_number: r.number,
            record_type: r.kind,
            retransmission: r.sent > 0,
            end_to_end: r.end_to_end,
        }))
    }

    /// Encode one record through [`crate::msg::AcrRepr`] (RFC 6733 §9.7.1
    /// order, then the SIP accounting AVPs).
    fn write_acr(&self, r: &Record, buf: &mut [u8]) -> Result<usize, EncodeError> {
        let c = self.config;
        let kind = r.kind;
        let first = matches!(
            kind,
            AccountingRecordType::StartRecord | AccountingRecordType::EventRecord
        );
        let mut repr = AcrRepr {
            acct_application_id: Some(c.acct_application_id),
            user_name: self.info.user_name,
            destination_host: c.destination_host,
            acct_session_id: Some(self.info.acct_session_id()),
            acct_interim_interval: if kind == AccountingRecordType::StartRecord {
                self.interval
            } else {
                None
            },
            accounting_realtime_required: first.then_some(self.policy),
            event_timestamp: c.clock.timestamp(r.at),
            ..AcrRepr::new(
                self.info.session_id.as_str(),
                c.origin_host,
                c.origin_realm,
                c.destination_realm,
                kind,
                r.number,
            )
        };
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
            repr.sip_from_tag = s.from_tag;
            repr.sip_to_tag = s.to_tag;
            repr.sip_call_setuptime = s.setup_time;
            let created = match (kind, self.answered_at) {
                (AccountingRecordType::EventRecord, _) | (_, None) => r.at,
                (_, Some(a)) => a,
            };
            repr.sip_call_created = Some(unix_u32(c.clock.unix(created)));
            if matches!(
                kind,
                AccountingRecordType::InterimRecord | AccountingRecordType::StopRecord
            ) {
                let ms = self.answered_at.map_or(0, |a| r.at.0.saturating_sub(a.0));
                repr.sip_call_duration = Some(clamp_u32(ms.div_ceil(1000)));
                repr.sip_call_ms_duration = Some(clamp_u32(ms));
            }
            repr.sip_avps = s.avps;
        }
        let hdr = HeaderRepr::request(
            CommandCode::ACCOUNTING,
            ApplicationId(c.acct_application_id),
            0,
            r.end_to_end.unwrap_or(0),
        )
        .proxiable(true);
        repr.encode(hdr, buf).map(<[u8]>::len)
    }
}

fn clamp_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn unix_u32(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::session_id_from;

    fn cfg() -> AccountingConfig<'static> {
        let mut c = AccountingConfig::new("c.example", "example", "example");
        c.interim_interval = Some(30);
        c
    }

    #[test]
    fn numbers_and_store_bound() {
        let config = cfg();
        let mut c: AccountingClient<'_, 2> =
            AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
        c.call_answered(Instant::ZERO).unwrap();
        c.handle_timeout(Instant::from_secs(30));
        assert!(c.stored_records().eq([0, 1]));
        // A second interim overwrites the unsent one: still two records.
        c.handle_timeout(Instant::from_secs(60));
        assert!(c.stored_records().eq([0, 1]));
        assert_eq!(
            c.call_ended(Instant::from_secs(61)),
            Err(AccountingError::StoreFull)
        );
        assert_eq!(c.state(), ClientState::PendingStart);
        assert_eq!(c.stops(), 0);
    }

    #[test]
    fn zero_capacity_refuses_everything() {
        let config = cfg();
        let mut c: AccountingClient<'_, 0> =
            AccountingClient::new(&config, CallInfo::new(session_id_from("s").unwrap()));
        assert_eq!(
            c.call_answered(Instant::ZERO),
            Err(AccountingError::StoreFull)
        );
        assert_eq!(c.event(Instant::ZERO), Err(AccountingError::StoreFull));
        assert_eq!(c.state(), ClientState::Idle);
        assert_eq!(c.next_record_number(), 0);
    }
}
