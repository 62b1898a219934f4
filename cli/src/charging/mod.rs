//! The charging database of the built-in charging server: subscribers,
//! balances, a simple tariff, reservations, charge records (CDRs) and
//! accounting records, in SQLite (the default) or PostgreSQL (cargo
//! feature `postgres`), behind diameter-cc's [`Rating`] and
//! [`AccountingSink`].
//!
//! ```
//! use diameter_cli::charging::{Charging, ChargingConfig};
//! let dir = tempfile::tempdir().unwrap();
//! let url = format!("sqlite:{}", dir.path().join("charging.db").display());
//! // A missing file is created with the demo tariff and subscribers 1001, 1002, 1003.
//! let mut db = Charging::open(&url, ChargingConfig::default()).unwrap();
//! let before = db.account("1001").unwrap().unwrap().balance;
//! let grant = db.reserve("call-1", Some(0), "1001", "1002", 300).unwrap();
//! assert_eq!(grant.seconds, 300);
//! let debit = db.debit("call-1", Some(1), "1001", "1002", 67).unwrap();
//! db.release("call-1").unwrap();
//! let after = db.account("1001").unwrap().unwrap();
//! assert_eq!(after.balance, before - debit.amount);
//! assert_eq!(after.reserved, 0);
//! // The same request again is not charged twice.
//! assert!(db.debit("call-1", Some(1), "1001", "1002", 67).unwrap().replayed);
//! ```
//!
//! # Money and the tariff
//!
//! Balances are integers in the currency's minor unit (cents). A
//! subscriber's [`Tariff`] has a connect fee, a price per interval and the
//! interval in seconds: a call of `t > 0` seconds costs `connect_fee +
//! ceil(t / interval) × price_per_interval`, and a call of 0 seconds
//! nothing. Usage is charged cumulatively per session (its [`Call`] row),
//! so reporting a call in pieces (CCR-Update, CCR-Update, CCR-Termination)
//! costs exactly what reporting it at once would.
//!
//! # Reservations
//!
//! [`Charging::reserve`] grants the most seconds (up to the request) whose
//! cost the subscriber's *available* money (`balance - reserved`) covers,
//! and holds that money in a [`Reservation`] row. [`Charging::debit`]
//! charges usage, drawn from the session's reservation first; it never
//! takes a balance below zero: usage beyond the money left is charged up
//! to what there is and answered 4012 DIAMETER_CREDIT_LIMIT_REACHED.
//! [`Charging::release`] gives back what is left. A reservation notes the
//! CC-Request-Number that made it: the same request again (resent to
//! another instance after a failover, RFC 8506 §5.7, or after a crash), or
//! an older one arriving late, is granted the seconds the session holds and
//! holds nothing more.
//!
//! Each operation is one database transaction that first locks the
//! subscriber's row (PostgreSQL `SELECT ... FOR UPDATE`, SQLite `BEGIN
//! IMMEDIATE`), so any number of `serve` instances sharing one database
//! never spend the same money twice; CHECK constraints (`0 <= reserved <=
//! balance`) back this up in the database itself.
//!
//! # Durability and retries
//!
//! Every debit writes a [`Charge`] row (the CDR of that request) and
//! updates the [`Call`] row, and every accounting record is inserted, in a
//! transaction committed before the call returns (SQLite in WAL mode with
//! `synchronous=FULL`; PostgreSQL with its default `synchronous_commit`):
//! the answer to a request is only written after what it acknowledges is
//! on disk. A debit is keyed by `(session, request)` (the CC-Request-Number)
//! and an accounting record by `(Session-Id, Origin-Host,
//! Accounting-Record-Number)`: a retransmission, after a crash or to
//! another instance, is answered from the stored row and never charged or
//! stored twice.
//!
//! A reservation expires `reservation_ttl` plus twice its seconds after it
//! was last touched, so the money of sessions lost in a crash comes back:
//! expired reservations are released whenever their subscriber reserves
//! again and by [`Charging::expire_reservations`] (call it periodically);
//! [`Charging::release_instance`] releases at once every reservation a
//! named instance held, for a `serve` restarting after a crash (its
//! sessions are gone: their CCR-Updates get 5002).
//!
//! # Schema
//!
//! | table | one row per | columns |
//! | --- | --- | --- |
//! | `tariffs` | tariff | `name` (key), `connect_fee`, `price_per_interval`, `interval_secs` |
//! | `subscribers` | subscriber (Subscription-Id-Data or User-Name) | `id` (key), `tariff`, `balance`, `reserved` (sum of its reservations) |
//! | `reservations` | live grant | `session` (key), `subscriber`, `seconds`, `amount`, `expires_at`, `instance`, `request` (the CC-Request-Number that made it; added to older databases when opened) |
//! | `calls` | charged session | `session` (key), `subscriber`, `destination`, `used_secs`, `charged`, `started_at`, `updated_at` |
//! | `charges` | debit (the CDR) | `session`, `request` (unique together), `subscriber`, `destination`, `seconds`, `amount`, `balance_after`, `result_code`, `created_at`, `instance` |
//! | `accounting_records` | ACR stored | `session_id`, `origin_host`, `record_number` (unique together), `origin_realm`, `record_type`, `retransmission`, `user_name`, `acct_session_id`, `event_time`, `sip_method`, `sip_response_code`, `sip_call_duration`, `sip_call_created`, `message` (the whole ACR), `received_at`, `instance` |
//! | `accounting_anomalies` | gap, duplicate or disorder | `session_id`, `origin_host`, `anomaly`, `noted_at`, `instance` |
//! | `meta` | setting | `key`, `value` (`schema_version` = 1) |
//!
//! Times are Unix seconds. The exact DDL is in `sqlite.rs` and
//! `postgres.rs`.
//!
//! # In `diameter serve`
//!
//! Open one [`Charging`] for the credit-control server and a second
//! connection ([`Charging::reopen`]) for the accounting server; both run
//! on the endpoint's thread, where blocking calls are fine:
//!
//! ```
//! use diameter_cc::server::accounting::{AccountingServer, AccountingServerConfig};
//! use diameter_cc::server::credit_control::{CcServer, CcServerConfig};
//! use diameter_cli::charging::{Charging, ChargingConfig};
//! # let dir = tempfile::tempdir().unwrap();
//! # let url = format!("sqlite:{}", dir.path().join("c.db").display());
//! let mut config = ChargingConfig::default();
//! config.instance = "serve-a".into(); // stable per instance
//! let mut rating = Charging::open(&url, config).unwrap();
//! rating.release_instance().unwrap(); // what a crashed predecessor held
//! let sink = rating.reopen().unwrap();
//! let cc = CcServer::new(CcServerConfig::new(), rating);
//! let acct = AccountingServer::new(AccountingServerConfig::new(), sink);
//! # let _ = (cc, acct);
//! ```

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diameter_cc::server::accounting::{AccountingRecord, AccountingSink, Anomaly, SinkError};
use diameter_cc::server::credit_control::Rating;
use diameter_core::ResultCode;

#[cfg(feature = "postgres")]
mod postgres;
mod sqlite;

/// A tariff: what a call costs.
///
/// ```
/// use diameter_cli::charging::Tariff;
/// let t = Tariff::demo();
/// assert_eq!(t.cost(0), 0);
/// assert_eq!(t.cost(1), t.connect_fee + t.price_per_interval);
/// assert_eq!(t.cost(67), t.connect_fee + 12 * t.price_per_interval); // 6 s intervals
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tariff {
    /// Name (key).
    pub name: String,
    /// Charged once per call, with its first second (minor units).
    pub connect_fee: i64,
    /// Charged per started interval (minor units).
    pub price_per_interval: i64,
    /// The interval in seconds (at least 1).
    pub interval_secs: u32,
}

impl Tariff {
    /// The demo tariff of a new database: `default`, 0.10 to connect, then
    /// 0.01 per started 6 s (0.10 a minute).
    pub fn demo() -> Tariff {
        Tariff {
            name: "default".into(),
            connect_fee: 10,
            price_per_interval: 1,
            interval_secs: 6,
        }
    }

    /// What a call of `seconds` costs: nothing for 0 seconds, else the
    /// connect fee plus every started interval (saturating).
    pub fn cost(&self, seconds: u64) -> i64 {
        if seconds == 0 {
            return 0;
        }
        let interval = u64::from(self.interval_secs.max(1));
        let intervals = i64::try_from(seconds.div_ceil(interval)).unwrap_or(i64::MAX);
        self.connect_fee
            .saturating_add(intervals.saturating_mul(self.price_per_interval))
    }

    /// The most seconds `g <= requested` such that extending a session
    /// from `base` seconds (already used or held, `paid` already charged
    /// or held) by `g` costs at most `available`; and that cost.
    ///
    /// ```
    /// use diameter_cli::charging::Tariff;
    /// let t = Tariff::demo(); // 10 + 1 per 6 s
    /// assert_eq!(t.affordable(0, 0, 13, 3600), (18, 13)); // 3 intervals
    /// assert_eq!(t.affordable(0, 0, 9, 3600), (0, 0)); // not even the fee
    /// assert_eq!(t.affordable(18, 13, 1, 3600), (6, 1));
    /// assert_eq!(t.affordable(0, 0, 1_000_000, 300), (300, 60));
    /// ```
    pub fn affordable(&self, base: u64, paid: i64, available: i64, requested: u64) -> (u64, i64) {
        let need = |g: u64| (self.cost(base.saturating_add(g)) - paid).max(0);
        let (mut lo, mut hi) = (0u64, requested);
        if need(hi) <= available {
            return (hi, need(hi));
        }
        // need(lo) fits (or lo = 0), need(hi) does not.
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if need(mid) <= available {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        if need(lo) <= available {
            (lo, need(lo))
        } else {
            (0, 0)
        }
    }
}

/// A subscriber's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Subscriber id: the Subscription-Id-Data (E.164 number) or User-Name.
    pub subscriber: String,
    /// Name of the subscriber's tariff.
    pub tariff: String,
    /// Money left (minor units), reservations included.
    pub balance: i64,
    /// Money held by live reservations.
    pub reserved: i64,
}

impl Account {
    /// What a new reservation can take: `balance - reserved`.
    pub fn available(&self) -> i64 {
        self.balance - self.reserved
    }
}

/// Money held for a session's grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// Session-Id (key).
    pub session: String,
    /// Subscriber charged.
    pub subscriber: String,
    /// Seconds granted and not yet reported as used.
    pub seconds: i64,
    /// Money held.
    pub amount: i64,
    /// When it lapses (Unix seconds) if nobody touches it.
    pub expires_at: i64,
    /// The instance that made it ([`ChargingConfig::instance`]).
    pub instance: String,
    /// The CC-Request-Number of the request that granted it, if known: the
    /// same request resent (to another instance after a failover, or after
    /// a crash) gets the same grant back instead of a second one.
    pub request: Option<u32>,
}

/// The running total of one charged session: the call's CDR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Session-Id (key).
    pub session: String,
    /// Subscriber charged.
    pub subscriber: String,
    /// Destination rated (Called-Party-Address).
    pub destination: String,
    /// Seconds used so far.
    pub used_secs: i64,
    /// Money charged so far.
    pub charged: i64,
    /// First debit (Unix seconds).
    pub started_at: i64,
    /// Last debit (Unix seconds).
    pub updated_at: i64,
}

/// One debit: the charge record of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// Session-Id.
    pub session: String,
    /// CC-Request-Number of the request; `None` for a debit without one.
    pub request: Option<u32>,
    /// Subscriber charged.
    pub subscriber: String,
    /// Destination rated.
    pub destination: String,
    /// Seconds reported.
    pub seconds: i64,
    /// Money taken.
    pub amount: i64,
    /// The balance after it.
    pub balance_after: i64,
    /// 2001, or 4012 when the balance could not cover the usage.
    pub result_code: u32,
    /// When (Unix seconds).
    pub created_at: i64,
}

/// What [`Charging::reserve`] granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// Seconds granted (0: no credit).
    pub seconds: u32,
    /// Money held for them.
    pub amount: i64,
}

/// What [`Charging::debit`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Debit {
    /// Money taken (by the first attempt, when replayed).
    pub amount: i64,
    /// False when the balance could not cover the usage (4012).
    pub covered: bool,
    /// This `(session, request)` was debited before: nothing was charged
    /// now, the stored outcome is returned.
    pub replayed: bool,
}

/// An accounting record as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// Session-Id.
    pub session_id: String,
    /// The client's Origin-Host.
    pub origin_host: String,
    /// Accounting-Record-Type (1 EVENT, 2 START, 3 INTERIM, 4 STOP).
    pub record_type: i32,
    /// Accounting-Record-Number.
    pub record_number: u32,
    /// The whole ACR as received.
    pub message: Vec<u8>,
}

/// What went wrong, in one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargingError {
    /// The database URL is not one this build understands.
    BadUrl {
        /// The URL (password hidden).
        url: String,
        /// Why.
        why: String,
    },
    /// The database could not be opened or reached.
    Open {
        /// The URL (password hidden).
        url: String,
        /// The driver's message.
        message: String,
    },
    /// A statement failed.
    Db(String),
    /// No such subscriber (5030 DIAMETER_USER_UNKNOWN).
    UnknownSubscriber(String),
    /// No such tariff.
    UnknownTariff(String),
}

impl ChargingError {
    /// The Result-Code a server answers with: 5030 for an unknown
    /// subscriber, 5012 DIAMETER_UNABLE_TO_COMPLY otherwise.
    pub fn result_code(&self) -> ResultCode {
        match self {
            ChargingError::UnknownSubscriber(_) => ResultCode::USER_UNKNOWN,
            _ => ResultCode::UNABLE_TO_COMPLY,
        }
    }
}

impl fmt::Display for ChargingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChargingError::BadUrl { url, why } => write!(f, "bad database URL {url:?}: {why}"),
            ChargingError::Open { url, message } => {
                write!(f, "cannot open the database {url}: {message}")
            }
            ChargingError::Db(m) => write!(f, "database error: {m}"),
            ChargingError::UnknownSubscriber(s) => write!(f, "unknown subscriber {s:?}"),
            ChargingError::UnknownTariff(t) => write!(f, "unknown tariff {t:?}"),
        }
    }
}

impl std::error::Error for ChargingError {}

/// A driver error, and whether running the transaction again may succeed
/// (lock timeouts, serialization failures, deadlocks, a key inserted
/// concurrently).
#[derive(Debug, Clone)]
pub(crate) struct DbError {
    pub message: String,
    pub retry: bool,
}

type DbResult<T> = Result<T, DbError>;

/// Why a transaction's body stopped: a driver error (rolled back, maybe
/// retried) or a refusal of the charging logic (rolled back).
pub(crate) enum Fail {
    Db(DbError),
    Logic(ChargingError),
}

impl From<DbError> for Fail {
    fn from(e: DbError) -> Self {
        Fail::Db(e)
    }
}

impl From<ChargingError> for Fail {
    fn from(e: ChargingError) -> Self {
        Fail::Logic(e)
    }
}

/// What the charging logic needs from a database, inside one
/// transaction. `subscriber` locks the row until the transaction ends.
pub(crate) trait Tx {
    fn subscriber(&mut self, id: &str) -> DbResult<Option<Account>>;
    fn set_account(&mut self, a: &Account) -> DbResult<()>;
    fn put_subscriber(&mut self, a: &Account) -> DbResult<()>;
    fn tariff(&mut self, name: &str) -> DbResult<Option<Tariff>>;
    fn put_tariff(&mut self, t: &Tariff) -> DbResult<()>;
    fn reservation(&mut self, session: &str) -> DbResult<Option<Reservation>>;
    fn put_reservation(&mut self, r: &Reservation) -> DbResult<()>;
    fn delete_reservation(&mut self, session: &str) -> DbResult<()>;
    /// Sessions of reservations expired at `now` (of one subscriber, or all).
    fn expired(&mut self, subscriber: Option<&str>, now: i64) -> DbResult<Vec<String>>;
    /// Sessions of the reservations an instance holds.
    fn held_by(&mut self, instance: &str) -> DbResult<Vec<String>>;
    fn call(&mut self, session: &str) -> DbResult<Option<Call>>;
    fn put_call(&mut self, c: &Call) -> DbResult<()>;
    fn charge(&mut self, session: &str, request: u32) -> DbResult<Option<Charge>>;
    fn charges(&mut self, session: &str) -> DbResult<Vec<Charge>>;
    fn insert_charge(&mut self, c: &Charge, instance: &str) -> DbResult<()>;
    /// Insert unless `(session_id, origin_host, record_number)` is there;
    /// true when inserted.
    fn insert_record(&mut self, r: &RecordRow<'_>, instance: &str) -> DbResult<bool>;
    fn records(&mut self, session_id: &str) -> DbResult<Vec<StoredRecord>>;
    fn insert_anomaly(
        &mut self,
        sid: &str,
        host: &str,
        what: &str,
        now: i64,
        instance: &str,
    ) -> DbResult<()>;
}

/// An accounting record's columns.
pub(crate) struct RecordRow<'a> {
    pub session_id: &'a str,
    pub origin_host: &'a str,
    pub origin_realm: &'a str,
    pub record_type: i64,
    pub record_number: i64,
    pub retransmission: bool,
    pub user_name: Option<&'a str>,
    pub acct_session_id: Option<&'a [u8]>,
    pub event_time: Option<i64>,
    pub sip_method: Option<i64>,
    pub sip_response_code: Option<i64>,
    pub sip_call_duration: Option<i64>,
    pub sip_call_created: Option<i64>,
    pub message: &'a [u8],
    pub received_at: i64,
}

enum Backend {
    Sqlite(sqlite::Sqlite),
    #[cfg(feature = "postgres")]
    Postgres(Box<postgres::Postgres>),
}

/// Settings of a [`Charging`] connection.
///
/// ```
/// use diameter_cli::charging::ChargingConfig;
/// let c = ChargingConfig::default();
/// assert_eq!(c.instance, "serve");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargingConfig {
    /// This instance's name, written on its reservations and records; keep
    /// it stable across restarts and distinct between instances sharing a
    /// database ([`Charging::release_instance`]).
    pub instance: String,
    /// A reservation lapses this long (plus twice its seconds) after it
    /// was last touched. Default 15 min: longer than the credit-control
    /// server's Tcc (10 min) and ringing time (3 min) allow a live
    /// session to stay silent.
    pub reservation_ttl: Duration,
    /// How long to wait for a lock held by another instance before giving
    /// up (default 10 s).
    pub lock_timeout: Duration,
}

impl Default for ChargingConfig {
    fn default() -> Self {
        ChargingConfig {
            instance: "serve".into(),
            reservation_ttl: Duration::from_secs(15 * 60),
            lock_timeout: Duration::from_secs(10),
        }
    }
}

/// A connection to the charging database (see the module docs).
pub struct Charging {
    backend: Backend,
    url: String,
    config: ChargingConfig,
    clock: Option<Box<dyn Fn() -> i64 + Send>>,
    last_error: Option<ChargingError>,
}

impl fmt::Debug for Charging {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Charging")
            .field("url", &self.url)
            .field("config", &self.config)
            .finish()
    }
}

/// The URL with any password replaced by `***`.
///
/// ```
/// use diameter_cli::charging::redact;
/// assert_eq!(redact("postgres://me:secret@db/x"), "postgres://me:***@db/x");
/// assert_eq!(redact("sqlite:a.db"), "sqlite:a.db");
/// ```
pub fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((auth, host)) = rest.split_once('@') {
            if let Some((user, _)) = auth.split_once(':') {
                return format!("{scheme}://{user}:***@{host}");
            }
        }
    }
    url.to_string()
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Charging {
    /// Open (and, the first time, create) the database at `url`:
    ///
    /// - `sqlite:PATH`, `sqlite://PATH` or a plain file path: SQLite. A
    ///   missing file is created with the schema, the [`Tariff::demo`]
    ///   tariff and subscribers `1001` (10.00), `1002` (5.00) and `1003`
    ///   (0.15: 30 s of calls, to see what running out looks like).
    /// - `postgres://...` or `postgresql://...`: PostgreSQL (cargo feature
    ///   `postgres`); the schema is created if missing, with the same demo
    ///   data when the tables are new.
    ///
    /// ```
    /// use diameter_cli::charging::{Charging, ChargingConfig};
    /// let e = Charging::open("mysql://db/x", ChargingConfig::default()).unwrap_err();
    /// assert_eq!(e.to_string(), "bad database URL \"mysql://db/x\": use a file path, sqlite:PATH or postgres://USER@HOST/DB");
    /// ```
    pub fn open(url: &str, config: ChargingConfig) -> Result<Charging, ChargingError> {
        let shown = redact(url);
        let backend = if let Some(rest) = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
        {
            let _ = rest;
            Self::open_postgres(url, &shown, &config)?
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            if path.is_empty() || (path.contains("://") && !url.starts_with("sqlite")) {
                return Err(ChargingError::BadUrl {
                    url: shown,
                    why: "use a file path, sqlite:PATH or postgres://USER@HOST/DB".into(),
                });
            }
            Backend::Sqlite(sqlite::Sqlite::open(path, &config).map_err(|e| {
                ChargingError::Open {
                    url: shown.clone(),
                    message: e.message,
                }
            })?)
        };
        Ok(Charging {
            backend,
            url: url.to_string(),
            config,
            clock: None,
            last_error: None,
        })
    }

    #[cfg(feature = "postgres")]
    fn open_postgres(
        url: &str,
        shown: &str,
        config: &ChargingConfig,
    ) -> Result<Backend, ChargingError> {
        postgres::Postgres::open(url, config)
            .map(|p| Backend::Postgres(Box::new(p)))
            .map_err(|e| ChargingError::Open {
                url: shown.to_string(),
                message: e.message,
            })
    }

    #[cfg(not(feature = "postgres"))]
    fn open_postgres(
        _url: &str,
        shown: &str,
        _config: &ChargingConfig,
    ) -> Result<Backend, ChargingError> {
        Err(ChargingError::BadUrl {
            url: shown.to_string(),
            why: "PostgreSQL support is not built in (build with --features postgres)".into(),
        })
    }

    /// Another connection to the same database, with the same settings
    /// (one for the credit-control server, one for the accounting server).
    pub fn reopen(&self) -> Result<Charging, ChargingError> {
        Charging::open(&self.url, self.config.clone())
    }

    /// The database URL, password hidden.
    pub fn url(&self) -> String {
        redact(&self.url)
    }

    /// The settings.
    pub fn config(&self) -> &ChargingConfig {
        &self.config
    }

    /// Use `clock` (Unix seconds) instead of the system clock: for tests
    /// of expiry.
    pub fn set_clock(&mut self, clock: impl Fn() -> i64 + Send + 'static) {
        self.clock = Some(Box::new(clock));
    }

    fn now(&self) -> i64 {
        self.clock.as_ref().map_or_else(now_unix, |c| c())
    }

    /// The last error the [`Rating`] or [`AccountingSink`] methods turned
    /// into a Result-Code, taken (for the server's log).
    pub fn take_error(&mut self) -> Option<ChargingError> {
        self.last_error.take()
    }

    /// Run `f` in one transaction (committed when it returns `Ok`), again
    /// on a retryable driver error.
    fn tx<T: Send>(
        &mut self,
        mut f: impl FnMut(&mut dyn Tx) -> Result<T, Fail> + Send,
    ) -> Result<T, ChargingError> {
        let mut attempt = 0u32;
        loop {
            let r = match &mut self.backend {
                Backend::Sqlite(db) => db.transaction(&mut f),
                #[cfg(feature = "postgres")]
                Backend::Postgres(db) => db.transaction(&mut f),
            };
            match r {
                Ok(v) => return Ok(v),
                Err(Fail::Logic(e)) => return Err(e),
                Err(Fail::Db(e)) if e.retry && attempt < 50 => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(u64::from(attempt.min(20)) * 2));
                }
                Err(Fail::Db(e)) => return Err(ChargingError::Db(e.message)),
            }
        }
    }

    /// Reserve up to `requested` seconds for `subscriber` (see the module
    /// docs); adds to the session's reservation if it has one. With
    /// `request` (the CC-Request-Number), a reservation that the same
    /// request of the session made already is not added to: the seconds
    /// it holds are granted again and nothing more is held (a CCR resent
    /// to another server sharing the database, RFC 8506 §5.7).
    pub fn reserve(
        &mut self,
        session: &str,
        request: Option<u32>,
        subscriber: &str,
        destination: &str,
        requested: u32,
    ) -> Result<Grant, ChargingError> {
        let now = self.now();
        let ttl = self.config.reservation_ttl.as_secs() as i64;
        let instance = self.config.instance.clone();
        let _ = destination;
        self.tx(|tx| {
            let mut acct = locked(tx, subscriber)?;
            for s in tx.expired(Some(subscriber), now)? {
                if let Some(r) = tx.reservation(&s)? {
                    tx.delete_reservation(&s)?;
                    acct.reserved -= r.amount;
                }
            }
            let held = tx.reservation(session)?;
            // The same request again, or an older one arriving late: the
            // session's reservation was made for it already.
            let seen =
                |r: &&Reservation| matches!((r.request, request), (Some(m), Some(n)) if m >= n);
            if let Some(r) = held.as_ref().filter(seen) {
                // What expired above is given back all the same.
                tx.set_account(&acct)?;
                return Ok(Grant {
                    seconds: r.seconds.clamp(0, i64::from(u32::MAX)) as u32,
                    amount: 0,
                });
            }
            let tariff = tariff_of(tx, &acct)?;
            let call = tx.call(session)?;
            let (used, charged) = call.map_or((0, 0), |c| (c.used_secs, c.charged));
            let (held_secs, held_amount) = held.as_ref().map_or((0, 0), |r| (r.seconds, r.amount));
            let (g, amount) = tariff.affordable(
                (used + held_secs).max(0) as u64,
                charged + held_amount,
                acct.available().max(0),
                u64::from(requested),
            );
            if g > 0 {
                let seconds = held_secs + g as i64;
                tx.put_reservation(&Reservation {
                    session: session.to_string(),
                    subscriber: subscriber.to_string(),
                    seconds,
                    amount: held_amount + amount,
                    expires_at: now + ttl + 2 * seconds,
                    instance: instance.clone(),
                    request,
                })?;
                acct.reserved += amount;
            }
            tx.set_account(&acct)?;
            Ok(Grant {
                seconds: g as u32,
                amount,
            })
        })
    }

    /// Charge `used` seconds of `session` (see the module docs), drawn from
    /// its reservation first. With `request` (the CC-Request-Number), a
    /// second debit of the same `(session, request)` charges nothing and
    /// returns the first one's outcome.
    pub fn debit(
        &mut self,
        session: &str,
        request: Option<u32>,
        subscriber: &str,
        destination: &str,
        used: u32,
    ) -> Result<Debit, ChargingError> {
        let now = self.now();
        let ttl = self.config.reservation_ttl.as_secs() as i64;
        let instance = self.config.instance.clone();
        self.tx(|tx| {
            let mut acct = locked(tx, subscriber)?;
            if let Some(n) = request {
                if let Some(c) = tx.charge(session, n)? {
                    return Ok(Debit {
                        amount: c.amount,
                        covered: c.result_code == ResultCode::SUCCESS.get(),
                        replayed: true,
                    });
                }
            }
            let tariff = tariff_of(tx, &acct)?;
            let mut call = tx.call(session)?.unwrap_or(Call {
                session: session.to_string(),
                subscriber: subscriber.to_string(),
                destination: destination.to_string(),
                used_secs: 0,
                charged: 0,
                started_at: now,
                updated_at: now,
            });
            let used_total = call.used_secs + i64::from(used);
            let due = (tariff.cost(used_total.max(0) as u64) - call.charged).max(0);
            let mut drawn = 0;
            if let Some(mut r) = tx.reservation(session)? {
                drawn = due.min(r.amount);
                r.amount -= drawn;
                r.seconds = (r.seconds - i64::from(used)).max(0);
                r.expires_at = now + ttl + 2 * r.seconds;
                tx.put_reservation(&r)?;
            }
            let charge = due.min(drawn + acct.available().max(0));
            acct.reserved -= drawn;
            acct.balance -= charge;
            call.used_secs = used_total;
            call.charged += charge;
            call.updated_at = now;
            let covered = charge == due;
            let result = if covered {
                ResultCode::SUCCESS
            } else {
                ResultCode::CREDIT_LIMIT_REACHED
            };
            tx.insert_charge(
                &Charge {
                    session: session.to_string(),
                    request,
                    subscriber: subscriber.to_string(),
                    destination: destination.to_string(),
                    seconds: i64::from(used),
                    amount: charge,
                    balance_after: acct.balance,
                    result_code: result.get(),
                    created_at: now,
                },
                &instance,
            )?;
            tx.put_call(&call)?;
            tx.set_account(&acct)?;
            Ok(Debit {
                amount: charge,
                covered,
                replayed: false,
            })
        })
    }

    /// Give back what the session's reservation still holds; returns the
    /// amount (0 when it had none).
    pub fn release(&mut self, session: &str) -> Result<i64, ChargingError> {
        self.release_if(session, |_| true)
    }

    fn release_if(
        &mut self,
        session: &str,
        cond: impl Fn(&Reservation) -> bool + Sync,
    ) -> Result<i64, ChargingError> {
        // Which subscriber to lock first (lock order: subscriber, then its
        // reservations), then read the reservation again under the lock.
        let Some(first) = self.tx(|tx| Ok(tx.reservation(session)?))? else {
            return Ok(0);
        };
        self.tx(|tx| {
            let mut acct = locked(tx, &first.subscriber)?;
            let Some(r) = tx.reservation(session)? else {
                return Ok(0);
            };
            if !cond(&r) {
                return Ok(0);
            }
            tx.delete_reservation(session)?;
            acct.reserved -= r.amount;
            tx.set_account(&acct)?;
            Ok(r.amount)
        })
    }

    /// Release every reservation that has lapsed; returns how many.
    pub fn expire_reservations(&mut self) -> Result<usize, ChargingError> {
        let now = self.now();
        let sessions = self.tx(|tx| Ok(tx.expired(None, now)?))?;
        let mut n = 0;
        for s in sessions {
            if self.release_if(&s, |r| r.expires_at < now)? > 0 {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Release every reservation held by this instance's name (a `serve`
    /// starting again after a crash: the sessions they were for are gone);
    /// returns how many.
    pub fn release_instance(&mut self) -> Result<usize, ChargingError> {
        let me = self.config.instance.clone();
        let sessions = self.tx(|tx| Ok(tx.held_by(&me)?))?;
        let mut n = 0;
        for s in sessions {
            if self.release_if(&s, |r| r.instance == me)? > 0 {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Store an accounting record, durably; false when it was stored
    /// before (a retransmission), which is not an error.
    pub fn store_record(&mut self, rec: &AccountingRecord<'_>) -> Result<bool, ChargingError> {
        let now = self.now();
        let instance = self.config.instance.clone();
        let row = RecordRow {
            session_id: rec.session_id,
            origin_host: rec.origin_host,
            origin_realm: rec.origin_realm,
            record_type: i64::from(i32::from(rec.record_type)),
            record_number: i64::from(rec.number),
            retransmission: rec.retransmission,
            user_name: rec.user_name,
            acct_session_id: rec.acct_session_id,
            event_time: rec.event_timestamp.map(|t| t.unix()),
            sip_method: rec.sip_method.map(|m| i64::from(i32::from(m))),
            sip_response_code: rec.sip_response_code.map(i64::from),
            sip_call_duration: rec.sip_call_duration.map(i64::from),
            sip_call_created: rec.sip_call_created.map(i64::from),
            message: rec.message.as_bytes(),
            received_at: now,
        };
        self.tx(|tx| Ok(tx.insert_record(&row, &instance)?))
    }

    /// The accounting records of a session, in the order stored.
    pub fn records(&mut self, session_id: &str) -> Result<Vec<StoredRecord>, ChargingError> {
        self.tx(|tx| Ok(tx.records(session_id)?))
    }

    /// Create or replace a tariff.
    pub fn put_tariff(&mut self, t: &Tariff) -> Result<(), ChargingError> {
        if t.interval_secs == 0 || t.connect_fee < 0 || t.price_per_interval < 0 {
            return Err(ChargingError::Db(format!(
                "tariff {:?}: fees must be >= 0 and the interval > 0",
                t.name
            )));
        }
        self.tx(|tx| Ok(tx.put_tariff(t)?))
    }

    /// Create a subscriber, or set an existing one's tariff and balance
    /// (its reservations are kept; the balance may not go below them).
    pub fn put_subscriber(
        &mut self,
        id: &str,
        tariff: &str,
        balance: i64,
    ) -> Result<(), ChargingError> {
        self.tx(|tx| {
            if tx.tariff(tariff)?.is_none() {
                return Err(ChargingError::UnknownTariff(tariff.into()).into());
            }
            let reserved = tx.subscriber(id)?.map_or(0, |a| a.reserved);
            tx.put_subscriber(&Account {
                subscriber: id.into(),
                tariff: tariff.into(),
                balance,
                reserved,
            })?;
            Ok(())
        })
    }

    /// A subscriber's account.
    pub fn account(&mut self, id: &str) -> Result<Option<Account>, ChargingError> {
        self.tx(|tx| Ok(tx.subscriber(id)?))
    }

    /// A tariff.
    pub fn tariff(&mut self, name: &str) -> Result<Option<Tariff>, ChargingError> {
        self.tx(|tx| Ok(tx.tariff(name)?))
    }

    /// A session's reservation.
    pub fn reservation(&mut self, session: &str) -> Result<Option<Reservation>, ChargingError> {
        self.tx(|tx| Ok(tx.reservation(session)?))
    }

    /// A session's running total.
    pub fn call(&mut self, session: &str) -> Result<Option<Call>, ChargingError> {
        self.tx(|tx| Ok(tx.call(session)?))
    }

    /// A session's charge records, in order.
    pub fn charges(&mut self, session: &str) -> Result<Vec<Charge>, ChargingError> {
        self.tx(|tx| Ok(tx.charges(session)?))
    }
}

fn locked(tx: &mut dyn Tx, id: &str) -> Result<Account, Fail> {
    tx.subscriber(id)?
        .ok_or_else(|| ChargingError::UnknownSubscriber(id.to_string()).into())
}

fn tariff_of(tx: &mut dyn Tx, a: &Account) -> Result<Tariff, Fail> {
    tx.tariff(&a.tariff)?
        .ok_or_else(|| ChargingError::UnknownTariff(a.tariff.clone()).into())
}

/// The demo data of a new database.
pub(crate) fn seed(tx: &mut dyn Tx) -> DbResult<()> {
    let t = Tariff::demo();
    tx.put_tariff(&t)?;
    for (id, balance) in [("1001", 1000), ("1002", 500), ("1003", 15)] {
        tx.put_subscriber(&Account {
            subscriber: id.into(),
            tariff: t.name.clone(),
            balance,
            reserved: 0,
        })?;
    }
    Ok(())
}

impl Charging {
    fn remember<T>(&mut self, r: Result<T, ChargingError>) -> Result<T, ResultCode> {
        r.map_err(|e| {
            let rc = e.result_code();
            self.last_error = Some(e);
            rc
        })
    }
}

impl Rating for Charging {
    fn reserve(
        &mut self,
        session: &str,
        subscriber: &str,
        destination: &str,
        requested: u32,
    ) -> Result<u32, ResultCode> {
        let r = Charging::reserve(self, session, None, subscriber, destination, requested);
        self.remember(r).map(|g| g.seconds)
    }

    fn reserve_request(
        &mut self,
        session: &str,
        request: u32,
        subscriber: &str,
        destination: &str,
        requested: u32,
    ) -> Result<u32, ResultCode> {
        let r = Charging::reserve(
            self,
            session,
            Some(request),
            subscriber,
            destination,
            requested,
        );
        self.remember(r).map(|g| g.seconds)
    }

    fn debit(
        &mut self,
        session: &str,
        subscriber: &str,
        destination: &str,
        used: u32,
    ) -> Result<(), ResultCode> {
        let r = Charging::debit(self, session, None, subscriber, destination, used);
        match self.remember(r)? {
            d if d.covered => Ok(()),
            _ => Err(ResultCode::CREDIT_LIMIT_REACHED),
        }
    }

    fn debit_request(
        &mut self,
        session: &str,
        request: u32,
        subscriber: &str,
        destination: &str,
        used: u32,
    ) -> Result<(), ResultCode> {
        let r = Charging::debit(self, session, Some(request), subscriber, destination, used);
        match self.remember(r)? {
            d if d.covered => Ok(()),
            _ => Err(ResultCode::CREDIT_LIMIT_REACHED),
        }
    }

    fn release(&mut self, session: &str, _subscriber: &str) {
        let r = Charging::release(self, session);
        let _ = self.remember(r);
    }
}

impl AccountingSink for Charging {
    fn record(&mut self, rec: &AccountingRecord<'_>) -> Result<(), SinkError> {
        let r = self.store_record(rec);
        self.remember(r)
            .map(|_| ())
            .map_err(|_| SinkError::OutOfSpace)
    }

    fn anomaly(&mut self, session_id: &str, origin_host: &str, anomaly: Anomaly) {
        let now = self.now();
        let instance = self.config.instance.clone();
        let what = format!("{anomaly:?}");
        let r = self.tx(|tx| {
            tx.insert_anomaly(session_id, origin_host, &what, now, &instance)?;
            Ok(())
        });
        let _ = self.remember(r);
    }
}

/// A stored request number, or `None` (unknown) for a value no
/// CC-Request-Number can have: a corrupted row must not read as a later
/// request (a resent one would take it for a replay and be granted what
/// was never held).
pub(super) fn request_number(n: i64) -> Option<u32> {
    u32::try_from(n).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_and_affordable() {
        let t = Tariff {
            name: "t".into(),
            connect_fee: 5,
            price_per_interval: 2,
            interval_secs: 60,
        };
        assert_eq!(t.cost(0), 0);
        assert_eq!(t.cost(1), 7);
        assert_eq!(t.cost(60), 7);
        assert_eq!(t.cost(61), 9);
        // Pieces cost what the whole costs.
        assert_eq!(t.cost(30) + (t.cost(90) - t.cost(30)), t.cost(90));
        assert_eq!(t.affordable(0, 0, 6, 100), (0, 0));
        assert_eq!(t.affordable(0, 0, 7, 100), (60, 7));
        assert_eq!(t.affordable(0, 0, 8, 100), (60, 7));
        assert_eq!(t.affordable(0, 0, 9, 100), (100, 9));
        assert_eq!(t.affordable(60, 7, 0, 100), (0, 0));
        assert_eq!(t.affordable(30, 7, 0, 100), (30, 0)); // the paid interval's rest is free
        assert_eq!(
            t.affordable(0, 0, i64::MAX, u64::from(u32::MAX)).0,
            u64::from(u32::MAX)
        );
        let free = Tariff {
            name: "f".into(),
            connect_fee: 0,
            price_per_interval: 0,
            interval_secs: 1,
        };
        assert_eq!(free.affordable(0, 0, 0, 300), (300, 0));
    }

    #[test]
    fn urls() {
        let bad = |u: &str| Charging::open(u, ChargingConfig::default()).unwrap_err();
        assert!(matches!(bad(""), ChargingError::BadUrl { .. }));
        assert!(matches!(bad("redis://x"), ChargingError::BadUrl { .. }));
        let e = bad("sqlite:/no/such/dir/x.db");
        assert!(
            e.to_string()
                .starts_with("cannot open the database sqlite:/no/such/dir/x.db: "),
            "{e}"
        );
        #[cfg(not(feature = "postgres"))]
        assert_eq!(
            bad("postgres://u:pw@h/db").to_string(),
            "bad database URL \"postgres://u:***@h/db\": PostgreSQL support is not built in (build with --features postgres)"
        );
    }
}
