//! The accounting server: RFC 6733 §8.2 (server accounting state machine)
//! and §9 (accounting), as a charging server uses it to collect call
//! records.
//!
//! Read RFC 6733 §9.4 (fault resilience, duplicates), §9.7 (ACR/ACA),
//! §9.8 (the accounting AVPs) and `SCENARIOS.md` (Accounting) first.
//!
//! [`AccountingServer::handle_request`] takes an ACR (already framed and
//! handed over by the peer machine), tells the [`AccountingSink`] about the
//! record, and writes the ACA: Session-Id, Result-Code, Origin-Host,
//! Origin-Realm, Accounting-Record-Type, Accounting-Record-Number, then the
//! request's Acct-Application-Id, Acct-Session-Id, Acct-Multi-Session-Id
//! and Accounting-Sub-Session-Id, and the configured Acct-Interim-Interval
//! and Accounting-Realtime-Required (RFC 6733 §9.7.2).
//!
//! Sessions are tracked in a table of `N` entries keyed by a hash of
//! Session-Id and Origin-Host (SCENARIOS.md: the server keys a session on
//! both). Per session the server remembers which of the last 64 record
//! numbers it stored, so that:
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
//! retransmission is stored when it comes. A request that is not a valid
//! ACR gets the error answer RFC 6733 §7 prescribes (3001 for another
//! command, 5005 for a missing AVP...).
//!
//! When the table is full, a new session takes the place of the least
//! recently seen ended session, else of the least recently seen one
//! (counted in [`ServerStats::evicted_active`]).
//!
//! ```
//! use diameter_cc::server::accounting::*;
//! use diameter_core::time::Instant;
//!
//! #[derive(Default)]
//! struct Count(u32);
//! impl AccountingSink for Count {
//!     fn record(&mut self, _rec: &AccountingRecord<'_>) -> Result<(), SinkError> {
//!         self.0 += 1;
//!         Ok(())
//!     }
//! }
//! let mut config = AccountingServerConfig::new("server.diameter.test", "diameter.test");
//! config.interim_interval = Some(30);
//! let mut server: AccountingServer<'_, Count, 64> = AccountingServer::new(&config, Count::default());
//! assert_eq!(server.sessions(), 0);
//! assert_eq!(server.sink().0, 0);
//! ```

use diameter_core::answer::{error_answer, Identity};
use diameter_core::dict::base::{self, AccountingRealtimeRequired, AccountingRecordType};
use diameter_core::time::Instant;
use diameter_core::{
    CommandCode, EncodeError, Error, ErrorKind, Message, MessageBuilder, ResultCode, Timestamp,
};

use crate::dict::sip::{self, SipMethod};
use crate::CreditControl;

/// Settings of an accounting server.
///
/// RFC 6733 §9.7.2 (ACA), §9.8.2 (Acct-Interim-Interval), §9.8.7
/// (Accounting-Realtime-Required).
///
/// ```
/// use diameter_cc::server::accounting::AccountingServerConfig;
/// let c = AccountingServerConfig::new("server.diameter.test", "diameter.test");
/// assert_eq!(c.interim_interval, None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountingServerConfig<'a> {
    /// Origin-Host of the answers (RFC 6733 §6.3).
    pub origin_host: &'a str,
    /// Origin-Realm of the answers (RFC 6733 §6.4).
    pub origin_realm: &'a str,
    /// Acct-Interim-Interval to tell clients in the answers to START and
    /// INTERIM records (RFC 6733 §9.8.2: the server's value wins); `None`:
    /// not sent.
    pub interim_interval: Option<u32>,
    /// Accounting-Realtime-Required to tell clients in the answers to START,
    /// INTERIM and EVENT records (RFC 6733 §9.8.7); `None`: not sent.
    pub realtime_required: Option<AccountingRealtimeRequired>,
}

impl<'a> AccountingServerConfig<'a> {
    /// Only the identity; nothing told to clients.
    ///
    /// ```
    /// use diameter_cc::server::accounting::AccountingServerConfig;
    /// let c = AccountingServerConfig::new("server.diameter.test", "diameter.test");
    /// assert!(c.realtime_required.is_none());
    /// ```
    pub const fn new(origin_host: &'a str, origin_realm: &'a str) -> Self {
        AccountingServerConfig {
            origin_host,
            origin_realm,
            interim_interval: None,
            realtime_required: None,
        }
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
    /// Sessions still running that were pushed out of a full table.
    pub evicted_active: u32,
}

/// Per-session memory of the records stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    key: u64,
    /// Highest number stored.
    highest: Option<u32>,
    /// Bit `i`: number `highest - i` stored.
    window: u64,
    ended: bool,
    last_seen: Instant,
}

impl Entry {
    /// `Some(stored?)`, or `None` when too far below the window to know.
    fn stored(&self, n: u32) -> Option<bool> {
        let Some(h) = self.highest else {
            return Some(false);
        };
        if n > h {
            return Some(false);
        }
        let d = h - n;
        (d < 64).then(|| self.window & (1u64 << d) != 0)
    }

    fn mark(&mut self, n: u32) {
        match self.highest {
            Some(h) if n <= h => {
                let d = h - n;
                if d < 64 {
                    self.window |= 1u64 << d;
                }
            }
            Some(h) => {
                let shift = n - h;
                self.window = if shift >= 64 { 0 } else { self.window << shift };
                self.window |= 1;
                self.highest = Some(n);
            }
            None => {
                self.window = 1;
                self.highest = Some(n);
            }
        }
    }
}

/// The accounting server (RFC 6733 §8.2 server, §9). `N` bounds the
/// sessions remembered for duplicate and gap detection.
///
/// ```
/// use diameter_cc::server::accounting::*;
/// struct Discard;
/// impl AccountingSink for Discard {
///     fn record(&mut self, _: &AccountingRecord<'_>) -> Result<(), SinkError> { Ok(()) }
/// }
/// let config = AccountingServerConfig::new("server.diameter.test", "diameter.test");
/// let server: AccountingServer<'_, Discard, 16> = AccountingServer::new(&config, Discard);
/// assert_eq!(server.stats(), ServerStats::default());
/// ```
pub struct AccountingServer<'c, S: AccountingSink, const N: usize> {
    config: &'c AccountingServerConfig<'c>,
    sink: S,
    sessions: heapless::Vec<Entry, N>,
    stats: ServerStats,
    last_now: Instant,
}

impl<'c, S: AccountingSink, const N: usize> core::fmt::Debug for AccountingServer<'c, S, N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AccountingServer")
            .field("origin_host", &self.config.origin_host)
            .field("sessions", &self.sessions.len())
            .field("stats", &self.stats)
            .finish()
    }
}

impl<'c, S: AccountingSink, const N: usize> AccountingServer<'c, S, N> {
    /// A server with an empty session table.
    ///
    /// ```
    /// # use diameter_cc::server::accounting::*;
    /// # struct Discard;
    /// # impl AccountingSink for Discard {
    /// #     fn record(&mut self, _: &AccountingRecord<'_>) -> Result<(), SinkError> { Ok(()) }
    /// # }
    /// let config = AccountingServerConfig::new("server.diameter.test", "diameter.test");
    /// let server: AccountingServer<'_, Discard, 16> = AccountingServer::new(&config, Discard);
    /// assert_eq!(server.sessions(), 0);
    /// ```
    pub const fn new(config: &'c AccountingServerConfig<'c>, sink: S) -> Self {
        AccountingServer {
            config,
            sink,
            sessions: heapless::Vec::new(),
            stats: ServerStats {
                stored: 0,
                duplicates: 0,
                sink_errors: 0,
                rejected: 0,
                anomalies: 0,
                evicted_active: 0,
            },
            last_now: Instant::ZERO,
        }
    }

    /// The sink.
    ///
    /// ```
    /// # use diameter_cc::server::accounting::*;
    /// # struct Discard;
    /// # impl AccountingSink for Discard {
    /// #     fn record(&mut self, _: &AccountingRecord<'_>) -> Result<(), SinkError> { Ok(()) }
    /// # }
    /// # let config = AccountingServerConfig::new("s", "r");
    /// let server: AccountingServer<'_, Discard, 4> = AccountingServer::new(&config, Discard);
    /// let _sink: &Discard = server.sink();
    /// ```
    pub const fn sink(&self) -> &S {
        &self.sink
    }

    /// The sink, mutably (to make it fail in a test, say).
    ///
    /// ```
    /// # use diameter_cc::server::accounting::*;
    /// # struct Discard;
    /// # impl AccountingSink for Discard {
    /// #     fn record(&mut self, _: &AccountingRecord<'_>) -> Result<(), SinkError> { Ok(()) }
    /// # }
    /// # let config = AccountingServerConfig::new("s", "r");
    /// let mut server: AccountingServer<'_, Discard, 4> = AccountingServer::new(&config, Discard);
    /// let _sink: &mut Discard = server.sink_mut();
    /// ```
    pub fn sink_mut(&mut self) -> &mut S {
        &mut self.sink
    }

    /// Give the sink back.
    ///
    /// ```
    /// # use diameter_cc::server::accounting::*;
    /// # struct Discard;
    /// # impl AccountingSink for Discard {
    /// #     fn record(&mut self, _: &AccountingRecord<'_>) -> Result<(), SinkError> { Ok(()) }
    /// # }
    /// # let config = AccountingServerConfig::new("s", "r");
    /// let server: AccountingServer<'_, Discard, 4> = AccountingServer::new(&config, Discard);
    /// let Discard = server.into_sink();
    /// ```
    pub fn into_sink(self) -> S {
        self.sink
    }

    /// Sessions remembered.
    ///
    /// ```
    /// # use diameter_cc::server::accounting::*;
    /// # struct Discard;
    /// # impl AccountingSink for Discard {
    /// #     fn record(&mut self, _: &AccountingRecord<'_>) -> Result<(), SinkError> { Ok(()) }
    /// # }
    /// # let config = AccountingServerConfig::new("s", "r");
    /// let server: AccountingServer<'_, Discard, 4> = AccountingServer::new(&config, Discard);
    /// assert_eq!(server.sessions(), 0);
    /// ```
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    /// Counters.
    ///
    /// ```
    /// # use diameter_cc::server::accounting::*;
    /// # struct Discard;
    /// # impl AccountingSink for Discard {
    /// #     fn record(&mut self, _: &AccountingRecord<'_>) -> Result<(), SinkError> { Ok(()) }
    /// # }
    /// # let config = AccountingServerConfig::new("s", "r");
    /// let server: AccountingServer<'_, Discard, 4> = AccountingServer::new(&config, Discard);
    /// assert_eq!(server.stats().duplicates, 0);
    /// ```
    pub const fn stats(&self) -> ServerStats {
        self.stats
    }

    fn identity(&self) -> Identity<'c> {
        Identity {
            origin_host: self.config.origin_host,
            origin_realm: self.config.origin_realm,
        }
    }

    fn reject<'b>(
        &mut self,
        req: &Message<'_>,
        err: &Error,
        out: &'b mut [u8],
    ) -> Result<&'b [u8], EncodeError> {
        self.stats.rejected = self.stats.rejected.saturating_add(1);
        let me = self.identity();
        let mut b = error_answer(req.as_bytes(), err, &me, &CreditControl, out)?;
        // A non-E answer follows the ACA grammar: echo what can be read.
        if !b.header().flags.is_error() && req.command_code() == CommandCode::ACCOUNTING {
            if let Ok(Some(t)) = req.get(&base::ACCOUNTING_RECORD_TYPE) {
                b.put(&base::ACCOUNTING_RECORD_TYPE, t);
            }
            if let Ok(Some(n)) = req.get(&base::ACCOUNTING_RECORD_NUMBER) {
                b.put(&base::ACCOUNTING_RECORD_NUMBER, n);
            }
        }
        b.finish()
    }

    /// Find or make the session's entry; `None` only when `N` is 0.
    fn entry(&mut self, key: u64, now: Instant) -> Option<usize> {
        if let Some(i) = self.sessions.iter().position(|e| e.key == key) {
            return Some(i);
        }
        let fresh = Entry {
            key,
            highest: None,
            window: 0,
            ended: false,
            last_seen: now,
        };
        if self.sessions.push(fresh).is_ok() {
            return Some(self.sessions.len() - 1);
        }
        // Full: the least recently seen ended session, else the least
        // recently seen one.
        let victim = self
            .sessions
            .iter()
            .enumerate()
            .min_by_key(|(_, e)| (!e.ended, e.last_seen))
            .map(|(i, e)| (i, e.ended))?;
        if !victim.1 {
            self.stats.evicted_active = self.stats.evicted_active.saturating_add(1);
        }
        let slot = self.sessions.get_mut(victim.0)?;
        *slot = fresh;
        Some(victim.0)
    }

    fn report(&mut self, sid: &str, host: &str, a: Anomaly) {
        self.stats.anomalies = self.stats.anomalies.saturating_add(1);
        self.sink.anomaly(sid, host, a);
    }

    /// Handle one request and write the answer into `out`: the ACA of RFC
    /// 6733 §9.7.2 (2001, or 4002 when the sink fails), or the error answer
    /// for a request that is not a valid ACR. The only error is a buffer
    /// too small for the answer ([`EncodeError::BufferTooSmall`] says how
    /// large); the answer is encoded before the sink is called, so nothing
    /// was stored then.
    ///
    /// ```
    /// use diameter_cc::client::accounting::{AccountingClient, AccountingConfig, CallInfo};
    /// use diameter_cc::server::accounting::*;
    /// use diameter_cc::session::session_id_from;
    /// use diameter_core::{dict::base, time::Instant, Message};
    /// # struct Discard;
    /// # impl AccountingSink for Discard {
    /// #     fn record(&mut self, _: &AccountingRecord<'_>) -> Result<(), SinkError> { Ok(()) }
    /// # }
    /// let cc = AccountingConfig::new("client.diameter.test", "diameter.test", "diameter.test");
    /// let mut client: AccountingClient<'_, 3> =
    ///     AccountingClient::new(&cc, CallInfo::new(session_id_from("call-1").unwrap()));
    /// client.call_answered(Instant::ZERO).unwrap();
    /// let mut acr = [0u8; 512];
    /// let t = client.poll_transmit(Instant::ZERO, &mut acr).unwrap().unwrap();
    ///
    /// let sc = AccountingServerConfig::new("server.diameter.test", "diameter.test");
    /// let mut server: AccountingServer<'_, Discard, 8> = AccountingServer::new(&sc, Discard);
    /// let req = Message::parse(&acr[..t.len]).unwrap();
    /// let mut out = [0u8; 512];
    /// let aca = server.handle_request(Instant::ZERO, &req, &mut out).unwrap();
    /// let aca = Message::parse(aca).unwrap();
    /// assert_eq!(aca.get(&base::RESULT_CODE).unwrap(), Some(2001));
    /// assert_eq!(aca.get(&base::ACCOUNTING_RECORD_NUMBER).unwrap(), Some(0));
    /// assert!(client.handle_answer(Instant::ZERO, &aca));
    /// ```
    pub fn handle_request<'b>(
        &mut self,
        now: Instant,
        req: &Message<'_>,
        out: &'b mut [u8],
    ) -> Result<&'b [u8], EncodeError> {
        if now > self.last_now {
            self.last_now = now;
        }
        let now = self.last_now;
        if !req.is_request() || req.command_code() != CommandCode::ACCOUNTING {
            return self.reject(req, &Error::new(ErrorKind::CommandUnsupported), out);
        }
        if let Err(e) = req.validate(&CreditControl) {
            return self.reject(req, &e, out);
        }
        let rec = match read_record(req) {
            Ok(r) => r,
            Err(e) => return self.reject(req, &e, out),
        };
        let key = session_key(rec.session_id, rec.origin_host);
        let idx = self.entry(key, now);
        let known = match idx.and_then(|i| self.sessions.get(i)) {
            Some(e) => e.stored(rec.number),
            None => Some(false),
        };
        // Out of the window: trust the T flag.
        let duplicate = known.unwrap_or(rec.retransmission);
        // The success answer first: if it does not fit, nothing is stored.
        let mut len = self.write_aca(req, &rec, ResultCode::SUCCESS, out)?;
        if let Some(e) = idx.and_then(|i| self.sessions.get_mut(i)) {
            e.last_seen = now;
        }
        if duplicate {
            self.stats.duplicates = self.stats.duplicates.saturating_add(1);
            if !rec.retransmission {
                let a = Anomaly::Duplicate { number: rec.number };
                self.report(rec.session_id, rec.origin_host, a);
            }
        } else if self.sink.record(&rec).is_ok() {
            self.stats.stored = self.stats.stored.saturating_add(1);
            self.stored(idx, now, &rec);
        } else {
            self.stats.sink_errors = self.stats.sink_errors.saturating_add(1);
            // No longer than the success answer: it fits.
            len = self.write_aca(req, &rec, ResultCode::OUT_OF_SPACE, out)?;
        }
        out.get(..len)
            .ok_or(EncodeError::BufferTooSmall { needed: len })
    }

    /// Bookkeeping after the sink stored `rec`: anomalies, window, end.
    fn stored(&mut self, idx: Option<usize>, now: Instant, rec: &AccountingRecord<'_>) {
        let Some(e) = idx.and_then(|i| self.sessions.get_mut(i)) else {
            return;
        };
        let before = *e;
        e.mark(rec.number);
        e.last_seen = now;
        if matches!(
            rec.record_type,
            AccountingRecordType::StopRecord | AccountingRecordType::EventRecord
        ) {
            e.ended = true;
        }
        let n = rec.number;
        if before.ended {
            self.report(
                rec.session_id,
                rec.origin_host,
                Anomaly::AfterEnd { number: n },
            );
        }
        match before.highest {
            None if n > 0 => self.report(
                rec.session_id,
                rec.origin_host,
                Anomaly::Missing {
                    first: 0,
                    last: n - 1,
                },
            ),
            Some(h) if n > h.saturating_add(1) => self.report(
                rec.session_id,
                rec.origin_host,
                Anomaly::Missing {
                    first: h + 1,
                    last: n - 1,
                },
            ),
            Some(h) if n < h => self.report(
                rec.session_id,
                rec.origin_host,
                Anomaly::OutOfOrder {
                    number: n,
                    highest: h,
                },
            ),
            _ => {}
        }
    }

    fn write_aca(
        &self,
        req: &Message<'_>,
        rec: &AccountingRecord<'_>,
        result: ResultCode,
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        let c = self.config;
        let mut b = MessageBuilder::answer_to(out, req);
        b.put(&base::RESULT_CODE, result.0)
            .put(&base::ORIGIN_HOST, c.origin_host)
            .put(&base::ORIGIN_REALM, c.origin_realm)
            .put(&base::ACCOUNTING_RECORD_TYPE, rec.record_type)
            .put(&base::ACCOUNTING_RECORD_NUMBER, rec.number);
        if let Some(a) = rec.acct_application_id {
            b.put(&base::ACCT_APPLICATION_ID, a);
        }
        if let Some(a) = rec.acct_session_id {
            b.put(&base::ACCT_SESSION_ID, a);
        }
        if let Ok(Some(m)) = req.get(&base::ACCT_MULTI_SESSION_ID) {
            b.put(&base::ACCT_MULTI_SESSION_ID, m);
        }
        if let Ok(Some(s)) = req.get(&base::ACCOUNTING_SUB_SESSION_ID) {
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
}

/// Read the record from a validated ACR.
fn read_record<'a>(req: &Message<'a>) -> Result<AccountingRecord<'a>, Error> {
    Ok(AccountingRecord {
        session_id: req.require(&base::SESSION_ID)?,
        origin_host: req.require(&base::ORIGIN_HOST)?,
        origin_realm: req.require(&base::ORIGIN_REALM)?,
        record_type: req.require(&base::ACCOUNTING_RECORD_TYPE)?,
        number: req.require(&base::ACCOUNTING_RECORD_NUMBER)?,
        retransmission: req.flags().is_retransmit(),
        acct_application_id: req.get(&base::ACCT_APPLICATION_ID)?,
        acct_session_id: req.get(&base::ACCT_SESSION_ID)?,
        user_name: req.get(&base::USER_NAME)?,
        event_timestamp: req.get(&base::EVENT_TIMESTAMP)?,
        interim_interval: req.get(&base::ACCT_INTERIM_INTERVAL)?,
        sip_method: req.get(&sip::SIP_METHOD)?,
        sip_response_code: req.get(&sip::SIP_RESPONSE_CODE)?,
        sip_from_tag: req.get(&sip::SIP_FROM_TAG)?,
        sip_to_tag: req.get(&sip::SIP_TO_TAG)?,
        sip_call_created: req.get(&sip::SIP_CALL_CREATED)?,
        sip_call_duration: req.get(&sip::SIP_CALL_DURATION)?,
        sip_call_ms_duration: req.get(&sip::SIP_CALL_MS_DURATION)?,
        sip_call_setup_time: req.get(&sip::SIP_CALL_SETUPTIME)?,
        message: *req,
    })
}

/// FNV-1a over the Session-Id, a separator, and the Origin-Host in lower
/// case (DiameterIdentity compares case-insensitively).
fn session_key(session_id: &str, origin_host: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    for b in session_id.bytes() {
        eat(b);
    }
    eat(0xff);
    for b in origin_host.bytes() {
        eat(b.to_ascii_lowercase());
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_marks_and_forgets() {
        let mut e = Entry {
            key: 0,
            highest: None,
            window: 0,
            ended: false,
            last_seen: Instant::ZERO,
        };
        assert_eq!(e.stored(0), Some(false));
        e.mark(0);
        e.mark(2);
        assert_eq!(e.stored(0), Some(true));
        assert_eq!(e.stored(1), Some(false));
        assert_eq!(e.stored(2), Some(true));
        e.mark(1);
        assert_eq!(e.stored(1), Some(true));
        e.mark(100);
        assert_eq!(e.stored(2), None);
        assert_eq!(e.stored(100), Some(true));
        assert_eq!(e.stored(99), Some(false));
    }

    #[test]
    fn keys_ignore_host_case() {
        assert_eq!(
            session_key("s", "Client.Example"),
            session_key("s", "client.example")
        );
        assert_ne!(session_key("s", "a"), session_key("s", "b"));
        assert_ne!(session_key("sa", ""), session_key("s", "a"));
    }
}
