//! The accounting server: RFC 6733 §8.2 (server accounting state machine)
//! and §9 (accounting), as a charging server uses it to collect call
//! records.
//!
//! Read RFC 6733 §9.4 (fault resilience, duplicates), §9.7 (ACR/ACA),
//! §9.8 (the accounting AVPs) and `SCENARIOS.md` (Accounting) first.
//!
//! Split the way the endpoint holds it:
//!
//! - [`AccountingServer`] is what every accounting session of a node
//!   shares: the settings, the [`AccountingSink`] records go to, the
//!   counters, and the EVENT records answered recently. It takes an ACR
//!   whose Session-Id names no live session ([`AccountingServer::handle_new`]):
//!   an EVENT record is stored and answered at once, any other record
//!   opens an [`AcctServerSession`] (an INTERIM or STOP for a session this
//!   server never saw, after a restart or a failover, is stored too: a
//!   record is never dropped).
//! - [`AcctServerSession`] is one accounting session, a [`Machine`](crate::session::Machine): it
//!   stores each record of the session once, and stays for
//!   [`AccountingServerConfig::duplicate_window`] after the STOP so that a
//!   retransmitted STOP is answered again.
//!
//! The sink learns each record before the answer leaves (it must have made
//! it durable by then); the ACA carries Session-Id, Result-Code,
//! Origin-Host, Origin-Realm, Accounting-Record-Type,
//! Accounting-Record-Number, then the request's Acct-Application-Id,
//! Acct-Session-Id, Acct-Multi-Session-Id and Accounting-Sub-Session-Id,
//! and the configured Acct-Interim-Interval and Accounting-Realtime-Required
//! (RFC 6733 §9.7.2).
//!
//! Per session the server remembers which of the last 64 record numbers it
//! stored, so that:
//!
//! - a record it already stored (a retransmission with the T flag, RFC
//!   6733 §9.4, or a plain duplicate) is answered again with 2001 and not
//!   stored twice; a duplicate without the T flag is also reported as
//!   [`Anomaly::Duplicate`];
//! - a gap in the numbering (RFC 6733 §9.8.3) is reported as
//!   [`Anomaly::Missing`], a number below the highest one as
//!   [`Anomaly::OutOfOrder`], a record after the STOP (or EVENT) as
//!   [`Anomaly::AfterEnd`].
//!
//! A sink error gives Result-Code 4002 DIAMETER_OUT_OF_SPACE (RFC 6733
//! §9.4, §7.1.4): the record is not marked stored, so the client's
//! retransmission is stored when it comes. A full session table gives 3004
//! DIAMETER_TOO_BUSY (the client retries later); a live session is never
//! evicted. A session that sends nothing for
//! [`AccountingServerConfig::idle_timeout`] is forgotten (a later record
//! opens it again and is stored, with [`Anomaly::Missing`]).
//!
//! ```
//! use diameter_cc::server::accounting::*;
//!
//! #[derive(Default)]
//! struct Count(u32);
//! impl AccountingSink for Count {
//!     fn record(&mut self, _rec: &AccountingRecord<'_>) -> Result<(), SinkError> {
//!         self.0 += 1;
//!         Ok(())
//!     }
//! }
//! let mut config = AccountingServerConfig::new();
//! config.interim_interval = Some(30);
//! let server = AccountingServer::new(config, Count::default());
//! assert_eq!(server.sink().0, 0);
//! ```

use core::time::Duration;

use diameter_core::answer::{result_answer, Identity};
use diameter_core::dict::base::{self, AccountingRealtimeRequired, AccountingRecordType};
use diameter_core::hash::Fnv;
use diameter_core::time::Instant;
use diameter_core::{EncodeError, Message, MessageBuilder, ResultCode, Timestamp};

use crate::dict::sip::SipMethod;
use crate::msg::Acr;
use crate::session::Node;

pub use super::acct_session::AcctServerSession;

/// Settings of an accounting server.
///
/// RFC 6733 §9.7.2 (ACA), §9.8.2 (Acct-Interim-Interval), §9.8.7
/// (Accounting-Realtime-Required).
///
/// ```
/// use diameter_cc::server::accounting::AccountingServerConfig;
/// let c = AccountingServerConfig::new();
/// assert_eq!(c.interim_interval, None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountingServerConfig {
    /// Acct-Interim-Interval to tell clients in the answers to START and
    /// INTERIM records (RFC 6733 §9.8.2: the server's value wins); `None`:
    /// not sent.
    pub interim_interval: Option<u32>,
    /// Accounting-Realtime-Required to tell clients in the answers to START,
    /// INTERIM and EVENT records (RFC 6733 §9.8.7); `None`: not sent.
    pub realtime_required: Option<AccountingRealtimeRequired>,
    /// How long a stopped session is remembered to answer retransmissions
    /// (default 60 s; EVENT records are remembered by count, the last
    /// [`RECENT_EVENTS`]).
    pub duplicate_window: Duration,
    /// A session that sends nothing for this long is forgotten (default
    /// 1 h; it is opened again by its next record).
    pub idle_timeout: Duration,
}

impl AccountingServerConfig {
    /// Nothing told to clients; duplicates remembered 60 s, idle sessions
    /// forgotten after 1 h.
    pub const fn new() -> Self {
        AccountingServerConfig {
            interim_interval: None,
            realtime_required: None,
            duplicate_window: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(3600),
        }
    }
}

impl Default for AccountingServerConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// One accounting record as received (RFC 6733 §9.7.1, §9.8; the SIP AVPs
/// of [`crate::dict::sip`]).
///
/// ```
/// use diameter_cc::server::accounting::AccountingRecord;
/// use diameter_core::dict::base::AccountingRecordType;
/// fn is_stop(r: &AccountingRecord<'_>) -> bool {
///     r.record_type == AccountingRecordType::StopRecord
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountingRecord<'a> {
    /// Session-Id (RFC 6733 §8.8).
    pub session_id: &'a str,
    /// The client's Origin-Host.
    pub origin_host: &'a str,
    /// The client's Origin-Realm.
    pub origin_realm: &'a str,
    /// Accounting-Record-Type (RFC 6733 §9.8.1).
    pub record_type: AccountingRecordType,
    /// Accounting-Record-Number (RFC 6733 §9.8.3).
    pub number: u32,
    /// The request carried the T flag (RFC 6733 §9.4): it may have been
    /// seen before (by another server, or before this server restarted).
    pub retransmission: bool,
    /// Acct-Application-Id (RFC 6733 §6.9).
    pub acct_application_id: Option<u32>,
    /// Acct-Session-Id (RFC 6733 §9.8.4).
    pub acct_session_id: Option<&'a [u8]>,
    /// Acct-Multi-Session-Id (RFC 6733 §9.8.5).
    pub acct_multi_session_id: Option<&'a str>,
    /// Accounting-Sub-Session-Id (RFC 6733 §9.8.6).
    pub accounting_sub_session_id: Option<u64>,
    /// User-Name (RFC 6733 §8.14).
    pub user_name: Option<&'a str>,
    /// Event-Timestamp (RFC 6733 §8.21).
    pub event_timestamp: Option<Timestamp>,
    /// Acct-Interim-Interval the client proposed (RFC 6733 §9.8.2).
    pub interim_interval: Option<u32>,
    /// Sip-Method (204).
    pub sip_method: Option<SipMethod>,
    /// Sip-Response-Code (205).
    pub sip_response_code: Option<u32>,
    /// Sip-From-Tag (206).
    pub sip_from_tag: Option<&'a str>,
    /// Sip-To-Tag (207).
    pub sip_to_tag: Option<&'a str>,
    /// Sip-Call-Created (229), Unix seconds.
    pub sip_call_created: Option<u32>,
    /// Sip-Call-Duration (227), seconds.
    pub sip_call_duration: Option<u32>,
    /// Sip-Call-MSDuration (230), milliseconds.
    pub sip_call_ms_duration: Option<u32>,
    /// Sip-Call-Setuptime (228), seconds.
    pub sip_call_setup_time: Option<u32>,
    /// The whole request, for anything else (SIP-AVP, vendor AVPs...).
    pub message: Message<'a>,
}

/// The sink could not store the record; the ACA says 4002
/// DIAMETER_OUT_OF_SPACE and the client retries (RFC 6733 §9.4).
///
/// ```
/// use diameter_cc::server::accounting::SinkError;
/// assert_eq!(SinkError::OutOfSpace, SinkError::OutOfSpace);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SinkError {
    /// No room (or no working storage) right now.
    OutOfSpace,
}

/// Something unusual in a session's record stream (RFC 6733 §9.8.3:
/// numbers start at 0 and increase by one).
///
/// ```
/// use diameter_cc::server::accounting::Anomaly;
/// let a = Anomaly::Missing { first: 1, last: 2 };
/// assert_ne!(a, Anomaly::Duplicate { number: 1 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Anomaly {
    /// Records `first..=last` were never stored before a higher number.
    Missing {
        /// First missing number.
        first: u32,
        /// Last missing number.
        last: u32,
    },
    /// A number below the highest stored one (stored all the same).
    OutOfOrder {
        /// The record's number.
        number: u32,
        /// The highest number stored so far.
        highest: u32,
    },
    /// A record already stored came again without the T flag; answered,
    /// not stored twice.
    Duplicate {
        /// The record's number.
        number: u32,
    },
    /// A record after the session's STOP or EVENT record (stored all the
    /// same).
    AfterEnd {
        /// The record's number.
        number: u32,
    },
}

impl core::fmt::Display for SinkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SinkError::OutOfSpace => f.write_str("accounting record store out of space"),
        }
    }
}

impl core::error::Error for SinkError {}

/// Where records go: a CDR writer, a rating engine, a test's vector.
///
/// ```
/// use diameter_cc::server::accounting::*;
/// struct Full;
/// impl AccountingSink for Full {
///     fn record(&mut self, _: &AccountingRecord<'_>) -> Result<(), SinkError> {
///         Err(SinkError::OutOfSpace) // every ACA says 4002
///     }
/// }
/// ```
pub trait AccountingSink {
    /// Store one record (START, INTERIM, STOP or EVENT). An error makes
    /// the answer 4002 DIAMETER_OUT_OF_SPACE (RFC 6733 §9.4).
    fn record(&mut self, rec: &AccountingRecord<'_>) -> Result<(), SinkError>;

    /// Told about gaps, duplicates and disorder in a session's records,
    /// after the record concerned was handled. The default ignores them.
    ///
    /// ```
    /// use diameter_cc::server::accounting::*;
    /// struct Log(u32);
    /// impl AccountingSink for Log {
    ///     fn record(&mut self, _: &AccountingRecord<'_>) -> Result<(), SinkError> { Ok(()) }
    ///     fn anomaly(&mut self, _sid: &str, _host: &str, _a: Anomaly) { self.0 += 1; }
    /// }
    /// ```
    fn anomaly(&mut self, session_id: &str, origin_host: &str, anomaly: Anomaly) {
        let _ = (session_id, origin_host, anomaly);
    }
}

/// Counters.
///
/// ```
/// use diameter_cc::server::accounting::ServerStats;
/// assert_eq!(ServerStats::default().stored, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ServerStats {
    /// Records the sink accepted.
    pub stored: u32,
    /// Records answered again without being stored twice (RFC 6733 §9.4).
    pub duplicates: u32,
    /// Records answered 4002 because the sink failed.
    pub sink_errors: u32,
    /// Requests answered with an error (not an ACR, invalid).
    pub rejected: u32,
    /// Anomalies reported to the sink.
    pub anomalies: u32,
    /// New sessions refused with 3004 because the session table was full
    /// (no session is ever evicted to make room).
    pub busy: u32,
}
/// No record store: a node that does not serve accounting. Every record
/// is refused with 4002 DIAMETER_OUT_OF_SPACE (the client keeps it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoSink;

impl AccountingSink for NoSink {
    fn record(&mut self, _rec: &AccountingRecord<'_>) -> Result<(), SinkError> {
        Err(SinkError::OutOfSpace)
    }
}

/// What happened to a record, for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AccountingServerEvent {
    /// The sink stored the record.
    Stored {
        /// Accounting-Record-Type.
        record_type: AccountingRecordType,
        /// Accounting-Record-Number.
        number: u32,
    },
    /// A record stored before came again; answered, not stored twice.
    Duplicate {
        /// Accounting-Record-Number.
        number: u32,
    },
    /// The record was answered with this failure (4002 when the sink
    /// failed, 3004 when the table was full).
    Refused(ResultCode),
}

/// How many EVENT records are remembered for duplicate detection: the
/// last this many, whatever their age.
#[cfg(not(target_os = "none"))]
pub const RECENT_EVENTS: usize = 256;
/// How many EVENT records are remembered on bare metal, where RAM is scarce.
#[cfg(target_os = "none")]
pub const RECENT_EVENTS: usize = 16;

/// What every accounting session of a node shares: the settings, the
/// counters, the recent EVENT records, and the sink (last, so that a
/// session can take any server as `&mut AccountingServer<dyn AccountingSink>`).
pub struct AccountingServer<K: AccountingSink + ?Sized> {
    /// The settings.
    pub config: AccountingServerConfig,
    stats: ServerStats,
    recent: heapless::Deque<(u64, Instant), RECENT_EVENTS>,
    events: heapless::Deque<AccountingServerEvent, 16>,
    sink: K,
}

impl<K: AccountingSink + ?Sized> core::fmt::Debug for AccountingServer<K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AccountingServer")
            .field("config", &self.config)
            .field("stats", &self.stats)
            .finish()
    }
}

impl<K: AccountingSink> AccountingServer<K> {
    /// A server storing into `sink`.
    pub fn new(config: AccountingServerConfig, sink: K) -> Self {
        AccountingServer {
            config,
            stats: ServerStats::default(),
            recent: heapless::Deque::new(),
            events: heapless::Deque::new(),
            sink,
        }
    }

    /// The sink, by value.
    pub fn into_sink(self) -> K {
        self.sink
    }
}

/// The one-record view the sink gets, read from a validated ACR.
pub(crate) fn record_of<'a>(acr: &Acr<'a>) -> AccountingRecord<'a> {
    AccountingRecord {
        session_id: acr.session_id,
        origin_host: acr.origin_host,
        origin_realm: acr.origin_realm,
        record_type: acr.accounting_record_type,
        number: acr.accounting_record_number,
        retransmission: acr.message.flags().is_retransmit(),
        acct_application_id: acr.acct_application_id,
        acct_session_id: acr.acct_session_id,
        acct_multi_session_id: acr.acct_multi_session_id,
        accounting_sub_session_id: acr.accounting_sub_session_id,
        user_name: acr.user_name,
        event_timestamp: acr.event_timestamp,
        interim_interval: acr.acct_interim_interval,
        sip_method: acr.sip_method,
        sip_response_code: acr.sip_response_code,
        sip_from_tag: acr.sip_from_tag,
        sip_to_tag: acr.sip_to_tag,
        sip_call_created: acr.sip_call_created,
        sip_call_duration: acr.sip_call_duration,
        sip_call_ms_duration: acr.sip_call_ms_duration,
        sip_call_setup_time: acr.sip_call_setuptime,
        message: acr.message,
    }
}

impl<K: AccountingSink + ?Sized> AccountingServer<K> {
    /// The sink (to inspect what was stored).
    pub fn sink(&self) -> &K {
        &self.sink
    }
    /// The sink, mutably.
    pub fn sink_mut(&mut self) -> &mut K {
        &mut self.sink
    }
    /// Counters.
    pub const fn stats(&self) -> ServerStats {
        self.stats
    }

    pub(crate) fn event(&mut self, e: AccountingServerEvent) {
        if self.events.push_back(e).is_err() {
            let _ = self.events.pop_front();
            let _ = self.events.push_back(e);
        }
    }

    /// Events of the EVENT-record path and of refused sessions; session
    /// events come from each [`AcctServerSession`].
    #[must_use]
    pub fn poll_event(&mut self) -> Option<AccountingServerEvent> {
        self.events.pop_front()
    }

    pub(crate) fn report(&mut self, sid: &str, host: &str, a: Anomaly) {
        self.stats.anomalies = self.stats.anomalies.saturating_add(1);
        self.sink.anomaly(sid, host, a);
    }

    /// Store `rec` unless it is a duplicate, and write the ACA. Returns the
    /// answer's length and what happened (for the caller to report).
    pub(crate) fn store(
        &mut self,
        node: &Node,
        request: &Message<'_>,
        rec: &AccountingRecord<'_>,
        duplicate: bool,
        out: &mut [u8],
    ) -> Result<(usize, AccountingServerEvent), EncodeError> {
        // The success answer first: if it does not fit, nothing is stored.
        let len = write_aca(node, &self.config, request, rec, ResultCode::SUCCESS, out)?;
        if duplicate {
            self.stats.duplicates = self.stats.duplicates.saturating_add(1);
            if !rec.retransmission {
                let a = Anomaly::Duplicate { number: rec.number };
                self.report(rec.session_id, rec.origin_host, a);
            }
            return Ok((len, AccountingServerEvent::Duplicate { number: rec.number }));
        }
        if self.sink.record(rec).is_ok() {
            self.stats.stored = self.stats.stored.saturating_add(1);
            let e = AccountingServerEvent::Stored {
                record_type: rec.record_type,
                number: rec.number,
            };
            return Ok((len, e));
        }
        self.stats.sink_errors = self.stats.sink_errors.saturating_add(1);
        // No longer than the success answer: it fits.
        let rc = ResultCode::OUT_OF_SPACE;
        let len = write_aca(node, &self.config, request, rec, rc, out)?;
        Ok((len, AccountingServerEvent::Refused(rc)))
    }

    /// Count a request answered with an error by a session.
    pub(crate) fn rejected(&mut self) {
        self.stats.rejected = self.stats.rejected.saturating_add(1);
    }

    /// An ACR (`acr`, read from the validated `request`) whose Session-Id
    /// names no live session: an EVENT record is stored and answered at
    /// once; any other record opens a session (returned). The caller must
    /// have room for a session before handing over a non-EVENT record
    /// (else answer it with [`AccountingServer::refuse`] and 3004).
    pub fn handle_new(
        &mut self,
        node: &Node,
        now: Instant,
        request: &Message<'_>,
        acr: &Acr<'_>,
        out: &mut [u8],
    ) -> (Option<AcctServerSession>, Result<usize, EncodeError>) {
        let rec = record_of(acr);
        if rec.record_type != AccountingRecordType::EventRecord {
            return AcctServerSession::open(self, node, now, request, &rec, out);
        }
        let mut h = Fnv::new();
        core::hash::Hasher::write(&mut h, rec.session_id.as_bytes());
        core::hash::Hasher::write(&mut h, &[0]);
        h.write_lowercase(rec.origin_host.as_bytes());
        core::hash::Hasher::write(&mut h, &rec.number.to_be_bytes());
        let key = core::hash::Hasher::finish(&h);
        let duplicate = self.recent.iter().any(|(k, _)| *k == key);
        let r = self.store(node, request, &rec, duplicate, out);
        if let Ok((_, e)) = r {
            if let AccountingServerEvent::Stored { .. } = e {
                if self.recent.is_full() {
                    let _ = self.recent.pop_front();
                }
                let _ = self.recent.push_back((key, now));
            }
            self.event(e);
        }
        (None, r.map(|(len, _)| len))
    }

    /// Answer an ACR with `result` and nothing else (3004 when the session
    /// table is full): with the E bit for a protocol error.
    pub fn refuse(
        &mut self,
        node: &Node,
        request: &Message<'_>,
        result: ResultCode,
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        if result == ResultCode::TOO_BUSY {
            self.stats.busy = self.stats.busy.saturating_add(1);
        } else {
            self.stats.rejected = self.stats.rejected.saturating_add(1);
        }
        self.event(AccountingServerEvent::Refused(result));
        let me = Identity {
            origin_host: node.origin_host.as_str(),
            origin_realm: node.origin_realm.as_str(),
        };
        result_answer(request, result, &me, out)
            .finish()
            .map(<[u8]>::len)
    }
}

/// Write the ACA (RFC 6733 §9.7.2).
pub(crate) fn write_aca(
    node: &Node,
    c: &AccountingServerConfig,
    req: &Message<'_>,
    rec: &AccountingRecord<'_>,
    result: ResultCode,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    let mut b = MessageBuilder::answer_to(out, req);
    b.put(&base::RESULT_CODE, result.0)
        .put(&base::ORIGIN_HOST, node.origin_host.as_str())
        .put(&base::ORIGIN_REALM, node.origin_realm.as_str())
        .put(&base::ACCOUNTING_RECORD_TYPE, rec.record_type)
        .put(&base::ACCOUNTING_RECORD_NUMBER, rec.number);
    if let Some(a) = rec.acct_application_id {
        b.put(&base::ACCT_APPLICATION_ID, a);
    }
    if let Some(a) = rec.acct_session_id {
        b.put(&base::ACCT_SESSION_ID, a);
    }
    if let Some(m) = rec.acct_multi_session_id {
        b.put(&base::ACCT_MULTI_SESSION_ID, m);
    }
    if let Some(s) = rec.accounting_sub_session_id {
        b.put(&base::ACCOUNTING_SUB_SESSION_ID, s);
    }
    if result.is_success() {
        let ongoing = matches!(
            rec.record_type,
            AccountingRecordType::StartRecord | AccountingRecordType::InterimRecord
        );
        if ongoing {
            if let Some(s) = c.interim_interval {
                b.put(&base::ACCT_INTERIM_INTERVAL, s);
            }
        }
        if rec.record_type != AccountingRecordType::StopRecord {
            if let Some(p) = c.realtime_required {
                b.put(&base::ACCOUNTING_REALTIME_REQUIRED, p);
            }
        }
    }
    b.finish().map(|m| m.len())
}
