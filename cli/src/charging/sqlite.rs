//! The SQLite backend: one file, WAL journal, `synchronous=FULL` (a
//! committed transaction survives a power loss), writers serialized by
//! `BEGIN IMMEDIATE` (which also serializes several processes on one
//! file), waiting up to `lock_timeout` for the lock.

use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Row, TransactionBehavior};

use super::{
    seed, Account, Call, Charge, ChargingConfig, DbError, DbResult, Fail, RecordRow, Reservation,
    StoredRecord, Tariff, Tx,
};

/// The schema (see the module docs of `charging` for what each table holds).
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');
CREATE TABLE IF NOT EXISTS tariffs (
    name TEXT PRIMARY KEY,
    connect_fee INTEGER NOT NULL CHECK (connect_fee >= 0),
    price_per_interval INTEGER NOT NULL CHECK (price_per_interval >= 0),
    interval_secs INTEGER NOT NULL CHECK (interval_secs > 0)
);
CREATE TABLE IF NOT EXISTS subscribers (
    id TEXT PRIMARY KEY,
    tariff TEXT NOT NULL REFERENCES tariffs(name),
    balance INTEGER NOT NULL CHECK (balance >= 0),
    reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= balance)
);
CREATE TABLE IF NOT EXISTS reservations (
    session TEXT PRIMARY KEY,
    subscriber TEXT NOT NULL REFERENCES subscribers(id),
    seconds INTEGER NOT NULL CHECK (seconds >= 0),
    amount INTEGER NOT NULL CHECK (amount >= 0),
    expires_at INTEGER NOT NULL,
    instance TEXT NOT NULL,
    request INTEGER
);
CREATE INDEX IF NOT EXISTS reservations_subscriber ON reservations (subscriber);
CREATE INDEX IF NOT EXISTS reservations_expires ON reservations (expires_at);
CREATE INDEX IF NOT EXISTS reservations_instance ON reservations (instance);
CREATE TABLE IF NOT EXISTS calls (
    session TEXT PRIMARY KEY,
    subscriber TEXT NOT NULL,
    destination TEXT NOT NULL,
    used_secs INTEGER NOT NULL,
    charged INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS charges (
    id INTEGER PRIMARY KEY,
    session TEXT NOT NULL,
    request INTEGER,
    subscriber TEXT NOT NULL,
    destination TEXT NOT NULL,
    seconds INTEGER NOT NULL,
    amount INTEGER NOT NULL CHECK (amount >= 0),
    balance_after INTEGER NOT NULL,
    result_code INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    instance TEXT NOT NULL,
    UNIQUE (session, request)
);
CREATE TABLE IF NOT EXISTS accounting_records (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    origin_host TEXT NOT NULL,
    origin_realm TEXT NOT NULL,
    record_type INTEGER NOT NULL,
    record_number INTEGER NOT NULL,
    retransmission INTEGER NOT NULL,
    user_name TEXT,
    acct_session_id BLOB,
    event_time INTEGER,
    sip_method INTEGER,
    sip_response_code INTEGER,
    sip_call_duration INTEGER,
    sip_call_created INTEGER,
    message BLOB NOT NULL,
    received_at INTEGER NOT NULL,
    instance TEXT NOT NULL,
    UNIQUE (session_id, origin_host, record_number)
);
CREATE TABLE IF NOT EXISTS accounting_anomalies (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    origin_host TEXT NOT NULL,
    anomaly TEXT NOT NULL,
    noted_at INTEGER NOT NULL,
    instance TEXT NOT NULL
);
";

pub(crate) struct Sqlite {
    conn: Connection,
}

fn err(e: rusqlite::Error) -> DbError {
    let retry = matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    );
    DbError {
        message: e.to_string(),
        retry,
    }
}

impl Sqlite {
    pub(crate) fn open(path: &str, config: &ChargingConfig) -> DbResult<Sqlite> {
        let mut conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(config.lock_timeout).map_err(err)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(DbError {
                message: format!("cannot use the WAL journal (got {mode})"),
                retry: false,
            });
        }
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
            .map_err(err)?;
        create(&mut conn)?;
        add_reservation_request(&mut conn).map_err(err)?;
        Ok(Sqlite { conn })
    }

    pub(crate) fn transaction<T>(
        &mut self,
        f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, Fail>,
    ) -> Result<T, Fail> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let v = f(&mut SqliteTx(&tx))?; // dropped: rolled back
        tx.commit().map_err(err)?;
        Ok(v)
    }
}

/// The tables, and the demo data when there were none, in one immediate
/// transaction (as the PostgreSQL backend does): a new database has both
/// or neither, whatever stops the process on the way, and of two
/// processes creating one file only the first seeds (the second finds the
/// tables). Until 2026-12-05 the data came in a second transaction, on a
/// file that did not exist before the open: a crash between the two, or
/// before the first commit (an empty file), left a database that no later
/// start seeded.
fn create(conn: &mut Connection) -> DbResult<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(err)?;
    let new: bool = tx
        .query_row(
            "SELECT COUNT(*) = 0 FROM sqlite_master WHERE type = 'table' AND name = 'tariffs'",
            [],
            |r| r.get(0),
        )
        .map_err(err)?;
    tx.execute_batch(SCHEMA).map_err(err)?;
    if new {
        seed(&mut SqliteTx(&tx))?;
    }
    tx.commit().map_err(err)
}

/// Databases made before `reservations.request` (the CC-Request-Number
/// that granted the reservation, so that the same request resent is not
/// granted twice) get the column. SQLite has no `ADD COLUMN IF NOT
/// EXISTS`: the column is looked for and added in one immediate
/// transaction, so that two processes opening one old file do not both
/// add it.
fn add_reservation_request(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let has: bool = tx.query_row(
        "SELECT COUNT(*) > 0 FROM pragma_table_info('reservations') WHERE name = 'request'",
        [],
        |r| r.get(0),
    )?;
    if !has {
        tx.execute_batch("ALTER TABLE reservations ADD COLUMN request INTEGER")?;
    }
    tx.commit()
}

struct SqliteTx<'a>(&'a Connection);

fn account(r: &Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        subscriber: r.get(0)?,
        tariff: r.get(1)?,
        balance: r.get(2)?,
        reserved: r.get(3)?,
    })
}

fn reservation(r: &Row<'_>) -> rusqlite::Result<Reservation> {
    Ok(Reservation {
        session: r.get(0)?,
        subscriber: r.get(1)?,
        seconds: r.get(2)?,
        amount: r.get(3)?,
        expires_at: r.get(4)?,
        instance: r.get(5)?,
        request: r.get::<_, Option<i64>>(6)?.and_then(super::request_number),
    })
}

fn charge(r: &Row<'_>) -> rusqlite::Result<Charge> {
    Ok(Charge {
        session: r.get(0)?,
        request: r.get::<_, Option<i64>>(1)?.and_then(super::request_number),
        subscriber: r.get(2)?,
        destination: r.get(3)?,
        seconds: r.get(4)?,
        amount: r.get(5)?,
        balance_after: r.get(6)?,
        result_code: r.get::<_, i64>(7)? as u32,
        created_at: r.get(8)?,
    })
}

const CHARGE_COLUMNS: &str =
    "session, request, subscriber, destination, seconds, amount, balance_after, result_code, created_at";

impl Tx for SqliteTx<'_> {
    fn subscriber(&mut self, id: &str) -> DbResult<Option<Account>> {
        self.0
            .prepare_cached("SELECT id, tariff, balance, reserved FROM subscribers WHERE id = ?1")
            .and_then(|mut s| s.query_row([id], account).optional())
            .map_err(err)
    }

    fn set_account(&mut self, a: &Account) -> DbResult<()> {
        self.0
            .prepare_cached("UPDATE subscribers SET balance = ?2, reserved = ?3 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![a.subscriber, a.balance, a.reserved]))
            .map(|_| ())
            .map_err(err)
    }

    fn put_subscriber(&mut self, a: &Account) -> DbResult<()> {
        self.0
            .prepare_cached(
                "INSERT INTO subscribers (id, tariff, balance, reserved) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET tariff = excluded.tariff, balance = excluded.balance",
            )
            .and_then(|mut s| s.execute(params![a.subscriber, a.tariff, a.balance, a.reserved]))
            .map(|_| ())
            .map_err(err)
    }

    fn tariff(&mut self, name: &str) -> DbResult<Option<Tariff>> {
        self.0
            .prepare_cached(
                "SELECT name, connect_fee, price_per_interval, interval_secs FROM tariffs WHERE name = ?1",
            )
            .and_then(|mut s| {
                s.query_row([name], |r| {
                    Ok(Tariff {
                        name: r.get(0)?,
                        connect_fee: r.get(1)?,
                        price_per_interval: r.get(2)?,
                        interval_secs: r.get::<_, i64>(3)? as u32,
                    })
                })
                .optional()
            })
            .map_err(err)
    }

    fn put_tariff(&mut self, t: &Tariff) -> DbResult<()> {
        self.0
            .prepare_cached(
                "INSERT INTO tariffs (name, connect_fee, price_per_interval, interval_secs)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET connect_fee = excluded.connect_fee,
                   price_per_interval = excluded.price_per_interval,
                   interval_secs = excluded.interval_secs",
            )
            .and_then(|mut s| {
                s.execute(params![
                    t.name,
                    t.connect_fee,
                    t.price_per_interval,
                    i64::from(t.interval_secs)
                ])
            })
            .map(|_| ())
            .map_err(err)
    }

    fn reservation(&mut self, session: &str) -> DbResult<Option<Reservation>> {
        self.0
            .prepare_cached(
                "SELECT session, subscriber, seconds, amount, expires_at, instance, request
                 FROM reservations WHERE session = ?1",
            )
            .and_then(|mut s| s.query_row([session], reservation).optional())
            .map_err(err)
    }

    fn put_reservation(&mut self, r: &Reservation) -> DbResult<()> {
        self.0
            .prepare_cached(
                "INSERT INTO reservations
                   (session, subscriber, seconds, amount, expires_at, instance, request)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (session) DO UPDATE SET subscriber = excluded.subscriber,
                   seconds = excluded.seconds, amount = excluded.amount,
                   expires_at = excluded.expires_at, instance = excluded.instance,
                   request = excluded.request",
            )
            .and_then(|mut s| {
                s.execute(params![
                    r.session,
                    r.subscriber,
                    r.seconds,
                    r.amount,
                    r.expires_at,
                    r.instance,
                    r.request
                ])
            })
            .map(|_| ())
            .map_err(err)
    }

    fn delete_reservation(&mut self, session: &str) -> DbResult<()> {
        self.0
            .prepare_cached("DELETE FROM reservations WHERE session = ?1")
            .and_then(|mut s| s.execute([session]))
            .map(|_| ())
            .map_err(err)
    }

    fn expired(&mut self, subscriber: Option<&str>, now: i64) -> DbResult<Vec<String>> {
        let sql = match subscriber {
            Some(_) => "SELECT session FROM reservations WHERE subscriber = ?2 AND expires_at < ?1",
            None => "SELECT session FROM reservations WHERE expires_at < ?1 AND ?2 IS NULL",
        };
        self.0
            .prepare_cached(sql)
            .and_then(|mut s| {
                s.query_map(params![now, subscriber], |r| r.get(0))?
                    .collect()
            })
            .map_err(err)
    }

    fn held_by(&mut self, instance: &str) -> DbResult<Vec<String>> {
        self.0
            .prepare_cached("SELECT session FROM reservations WHERE instance = ?1")
            .and_then(|mut s| s.query_map([instance], |r| r.get(0))?.collect())
            .map_err(err)
    }

    fn call(&mut self, session: &str) -> DbResult<Option<Call>> {
        self.0
            .prepare_cached(
                "SELECT session, subscriber, destination, used_secs, charged, started_at, updated_at
                 FROM calls WHERE session = ?1",
            )
            .and_then(|mut s| {
                s.query_row([session], |r| {
                    Ok(Call {
                        session: r.get(0)?,
                        subscriber: r.get(1)?,
                        destination: r.get(2)?,
                        used_secs: r.get(3)?,
                        charged: r.get(4)?,
                        started_at: r.get(5)?,
                        updated_at: r.get(6)?,
                    })
                })
                .optional()
            })
            .map_err(err)
    }

    fn put_call(&mut self, c: &Call) -> DbResult<()> {
        self.0
            .prepare_cached(
                "INSERT INTO calls (session, subscriber, destination, used_secs, charged, started_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (session) DO UPDATE SET used_secs = excluded.used_secs,
                   charged = excluded.charged, updated_at = excluded.updated_at",
            )
            .and_then(|mut s| {
                s.execute(params![
                    c.session,
                    c.subscriber,
                    c.destination,
                    c.used_secs,
                    c.charged,
                    c.started_at,
                    c.updated_at
                ])
            })
            .map(|_| ())
            .map_err(err)
    }

    fn charge(&mut self, session: &str, request: u32) -> DbResult<Option<Charge>> {
        self.0
            .prepare_cached(&format!(
                "SELECT {CHARGE_COLUMNS} FROM charges WHERE session = ?1 AND request = ?2"
            ))
            .and_then(|mut s| {
                s.query_row(params![session, i64::from(request)], charge)
                    .optional()
            })
            .map_err(err)
    }

    fn charges(&mut self, session: &str) -> DbResult<Vec<Charge>> {
        self.0
            .prepare_cached(&format!(
                "SELECT {CHARGE_COLUMNS} FROM charges WHERE session = ?1 ORDER BY id"
            ))
            .and_then(|mut s| s.query_map([session], charge)?.collect())
            .map_err(err)
    }

    fn insert_charge(&mut self, c: &Charge, instance: &str) -> DbResult<()> {
        self.0
            .prepare_cached(&format!(
                "INSERT INTO charges ({CHARGE_COLUMNS}, instance)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ))
            .and_then(|mut s| {
                s.execute(params![
                    c.session,
                    c.request.map(i64::from),
                    c.subscriber,
                    c.destination,
                    c.seconds,
                    c.amount,
                    c.balance_after,
                    i64::from(c.result_code),
                    c.created_at,
                    instance
                ])
            })
            .map(|_| ())
            .map_err(err)
    }

    fn insert_record(&mut self, r: &RecordRow<'_>, instance: &str) -> DbResult<bool> {
        self.0
            .prepare_cached(
                "INSERT INTO accounting_records (session_id, origin_host, origin_realm, record_type,
                   record_number, retransmission, user_name, acct_session_id, event_time,
                   sip_method, sip_response_code, sip_call_duration, sip_call_created, message,
                   received_at, instance)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
                 ON CONFLICT (session_id, origin_host, record_number) DO NOTHING",
            )
            .and_then(|mut s| {
                s.execute(params![
                    r.session_id,
                    r.origin_host,
                    r.origin_realm,
                    r.record_type,
                    r.record_number,
                    r.retransmission,
                    r.user_name,
                    r.acct_session_id,
                    r.event_time,
                    r.sip_method,
                    r.sip_response_code,
                    r.sip_call_duration,
                    r.sip_call_created,
                    r.message,
                    r.received_at,
                    instance
                ])
            })
            .map(|n| n == 1)
            .map_err(err)
    }

    fn records(&mut self, session_id: &str) -> DbResult<Vec<StoredRecord>> {
        self.0
            .prepare_cached(
                "SELECT session_id, origin_host, record_type, record_number, message
                 FROM accounting_records WHERE session_id = ?1 ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map([session_id], |r| {
                    Ok(StoredRecord {
                        session_id: r.get(0)?,
                        origin_host: r.get(1)?,
                        record_type: r.get::<_, i64>(2)? as i32,
                        record_number: r.get::<_, i64>(3)? as u32,
                        message: r.get(4)?,
                    })
                })?
                .collect()
            })
            .map_err(err)
    }

    fn insert_anomaly(
        &mut self,
        sid: &str,
        host: &str,
        what: &str,
        now: i64,
        instance: &str,
    ) -> DbResult<()> {
        self.0
            .prepare_cached(
                "INSERT INTO accounting_anomalies (session_id, origin_host, anomaly, noted_at, instance)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| s.execute(params![sid, host, what, now, instance]))
            .map(|_| ())
            .map_err(err)
    }
}
