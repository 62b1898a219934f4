//! The PostgreSQL backend (cargo feature `postgres`): READ COMMITTED
//! transactions that lock the subscriber's row (`SELECT ... FOR UPDATE`)
//! before touching its money or reservations, so instances sharing the
//! database serialize per subscriber; commits are durable with the
//! server's default `synchronous_commit = on`. A broken connection is
//! opened again on the next operation.

use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Transaction};

use super::{
    seed, Account, Call, Charge, ChargingConfig, DbError, DbResult, Fail, RecordRow, Reservation,
    StoredRecord, Tariff, Tx,
};

/// The schema (see the module docs of `charging`), the SQLite one in
/// PostgreSQL types.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('schema_version', '1') ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS tariffs (
    name TEXT PRIMARY KEY,
    connect_fee BIGINT NOT NULL CHECK (connect_fee >= 0),
    price_per_interval BIGINT NOT NULL CHECK (price_per_interval >= 0),
    interval_secs BIGINT NOT NULL CHECK (interval_secs > 0)
);
CREATE TABLE IF NOT EXISTS subscribers (
    id TEXT PRIMARY KEY,
    tariff TEXT NOT NULL REFERENCES tariffs(name),
    balance BIGINT NOT NULL CHECK (balance >= 0),
    reserved BIGINT NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= balance)
);
CREATE TABLE IF NOT EXISTS reservations (
    session TEXT PRIMARY KEY,
    subscriber TEXT NOT NULL REFERENCES subscribers(id),
    seconds BIGINT NOT NULL CHECK (seconds >= 0),
    amount BIGINT NOT NULL CHECK (amount >= 0),
    expires_at BIGINT NOT NULL,
    instance TEXT NOT NULL,
    request BIGINT
);
-- Databases made before the column: the CC-Request-Number that granted
-- the reservation, so that the same request resent is not granted twice.
ALTER TABLE reservations ADD COLUMN IF NOT EXISTS request BIGINT;
CREATE INDEX IF NOT EXISTS reservations_subscriber ON reservations (subscriber);
CREATE INDEX IF NOT EXISTS reservations_expires ON reservations (expires_at);
CREATE INDEX IF NOT EXISTS reservations_instance ON reservations (instance);
CREATE TABLE IF NOT EXISTS calls (
    session TEXT PRIMARY KEY,
    subscriber TEXT NOT NULL,
    destination TEXT NOT NULL,
    used_secs BIGINT NOT NULL,
    charged BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS charges (
    id BIGSERIAL PRIMARY KEY,
    session TEXT NOT NULL,
    request BIGINT,
    subscriber TEXT NOT NULL,
    destination TEXT NOT NULL,
    seconds BIGINT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount >= 0),
    balance_after BIGINT NOT NULL,
    result_code BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    instance TEXT NOT NULL,
    UNIQUE (session, request)
);
CREATE TABLE IF NOT EXISTS accounting_records (
    id BIGSERIAL PRIMARY KEY,
    session_id TEXT NOT NULL,
    origin_host TEXT NOT NULL,
    origin_realm TEXT NOT NULL,
    record_type BIGINT NOT NULL,
    record_number BIGINT NOT NULL,
    retransmission BOOLEAN NOT NULL,
    user_name TEXT,
    acct_session_id BYTEA,
    event_time BIGINT,
    sip_method BIGINT,
    sip_response_code BIGINT,
    sip_call_duration BIGINT,
    sip_call_created BIGINT,
    message BYTEA NOT NULL,
    received_at BIGINT NOT NULL,
    instance TEXT NOT NULL,
    UNIQUE (session_id, origin_host, record_number)
);
CREATE TABLE IF NOT EXISTS accounting_anomalies (
    id BIGSERIAL PRIMARY KEY,
    session_id TEXT NOT NULL,
    origin_host TEXT NOT NULL,
    anomaly TEXT NOT NULL,
    noted_at BIGINT NOT NULL,
    instance TEXT NOT NULL
);
";

/// An arbitrary key for the advisory lock that serializes schema creation
/// between instances starting together.
const SCHEMA_LOCK: i64 = 0x0d1a_3e7e_0001;

/// A connection. The `postgres` client runs a small tokio runtime of its
/// own inside each call, which tokio forbids inside another runtime (the
/// diameter-tokio node's thread, `serve`'s main task): so every call is
/// made on a short-lived thread of its own, outside any runtime, and the
/// client is dropped on one too.
pub(crate) struct Postgres {
    client: Option<Client>,
    url: String,
    lock_timeout_ms: u128,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            let _ = std::thread::spawn(move || drop(c)).join();
        }
    }
}

/// Run `f` on a thread outside any tokio runtime, and wait for it.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

fn err(e: postgres::Error) -> DbError {
    let retry = e.code().is_some_and(|c| {
        *c == SqlState::T_R_SERIALIZATION_FAILURE
            || *c == SqlState::T_R_DEADLOCK_DETECTED
            || *c == SqlState::UNIQUE_VIOLATION
            || *c == SqlState::LOCK_NOT_AVAILABLE
    });
    // The server's own message, on one line.
    let message = match e.as_db_error() {
        Some(d) => format!("{}: {}", d.severity(), d.message()),
        None => e.to_string(),
    };
    DbError { message, retry }
}

impl Postgres {
    fn connect(url: &str, lock_timeout_ms: u128) -> DbResult<Client> {
        let mut client = Client::connect(url, NoTls).map_err(err)?;
        client
            .batch_execute(&format!(
                "SET lock_timeout = {lock_timeout_ms}; SET synchronous_commit = on;"
            ))
            .map_err(err)?;
        Ok(client)
    }

    pub(crate) fn open(url: &str, config: &ChargingConfig) -> DbResult<Postgres> {
        off_runtime(|| Self::open_here(url, config))
    }

    fn open_here(url: &str, config: &ChargingConfig) -> DbResult<Postgres> {
        let lock_timeout_ms = config.lock_timeout.as_millis();
        let mut client = Self::connect(url, lock_timeout_ms)?;
        let mut tx = client.transaction().map_err(err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
            .map_err(err)?;
        let new: bool = tx
            .query_one("SELECT to_regclass('tariffs') IS NULL", &[])
            .map_err(err)?
            .get(0);
        tx.batch_execute(SCHEMA).map_err(err)?;
        if new {
            seed(&mut PgTx(&mut tx))?;
        }
        tx.commit().map_err(err)?;
        Ok(Postgres {
            client: Some(client),
            url: url.to_string(),
            lock_timeout_ms,
        })
    }

    pub(crate) fn transaction<T: Send>(
        &mut self,
        f: &mut (dyn FnMut(&mut dyn Tx) -> Result<T, Fail> + Send),
    ) -> Result<T, Fail> {
        off_runtime(|| self.transaction_here(f))
    }

    fn transaction_here<T>(
        &mut self,
        f: &mut (dyn FnMut(&mut dyn Tx) -> Result<T, Fail> + Send),
    ) -> Result<T, Fail> {
        let client = match &mut self.client {
            Some(c) if !c.is_closed() => c,
            _ => self
                .client
                .insert(Self::connect(&self.url, self.lock_timeout_ms)?),
        };
        let mut tx = client.transaction().map_err(err)?;
        let v = f(&mut PgTx(&mut tx))?; // dropped: rolled back
        tx.commit().map_err(err)?;
        Ok(v)
    }
}

struct PgTx<'a, 'b>(&'a mut Transaction<'b>);

impl PgTx<'_, '_> {
    fn opt(&mut self, sql: &str, p: &[&(dyn ToSql + Sync)]) -> DbResult<Option<Row>> {
        self.0.query_opt(sql, p).map_err(err)
    }
    fn all(&mut self, sql: &str, p: &[&(dyn ToSql + Sync)]) -> DbResult<Vec<Row>> {
        self.0.query(sql, p).map_err(err)
    }
    fn exec(&mut self, sql: &str, p: &[&(dyn ToSql + Sync)]) -> DbResult<u64> {
        self.0.execute(sql, p).map_err(err)
    }
}

fn reservation(r: &Row) -> Reservation {
    Reservation {
        session: r.get(0),
        subscriber: r.get(1),
        seconds: r.get(2),
        amount: r.get(3),
        expires_at: r.get(4),
        instance: r.get(5),
        request: r.get::<_, Option<i64>>(6).and_then(super::request_number),
    }
}

fn charge(r: &Row) -> Charge {
    Charge {
        session: r.get(0),
        request: r.get::<_, Option<i64>>(1).and_then(super::request_number),
        subscriber: r.get(2),
        destination: r.get(3),
        seconds: r.get(4),
        amount: r.get(5),
        balance_after: r.get(6),
        result_code: r.get::<_, i64>(7) as u32,
        created_at: r.get(8),
    }
}

const CHARGE_COLUMNS: &str =
    "session, request, subscriber, destination, seconds, amount, balance_after, result_code, created_at";

impl Tx for PgTx<'_, '_> {
    fn subscriber(&mut self, id: &str) -> DbResult<Option<Account>> {
        Ok(self
            .opt(
                "SELECT id, tariff, balance, reserved FROM subscribers WHERE id = $1 FOR UPDATE",
                &[&id],
            )?
            .map(|r| Account {
                subscriber: r.get(0),
                tariff: r.get(1),
                balance: r.get(2),
                reserved: r.get(3),
            }))
    }

    fn set_account(&mut self, a: &Account) -> DbResult<()> {
        self.exec(
            "UPDATE subscribers SET balance = $2, reserved = $3 WHERE id = $1",
            &[&a.subscriber, &a.balance, &a.reserved],
        )
        .map(|_| ())
    }

    fn put_subscriber(&mut self, a: &Account) -> DbResult<()> {
        self.exec(
            "INSERT INTO subscribers (id, tariff, balance, reserved) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET tariff = excluded.tariff, balance = excluded.balance",
            &[&a.subscriber, &a.tariff, &a.balance, &a.reserved],
        )
        .map(|_| ())
    }

    fn tariff(&mut self, name: &str) -> DbResult<Option<Tariff>> {
        Ok(self
            .opt(
                "SELECT name, connect_fee, price_per_interval, interval_secs FROM tariffs WHERE name = $1",
                &[&name],
            )?
            .map(|r| Tariff {
                name: r.get(0),
                connect_fee: r.get(1),
                price_per_interval: r.get(2),
                interval_secs: r.get::<_, i64>(3) as u32,
            }))
    }

    fn put_tariff(&mut self, t: &Tariff) -> DbResult<()> {
        self.exec(
            "INSERT INTO tariffs (name, connect_fee, price_per_interval, interval_secs)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO UPDATE SET connect_fee = excluded.connect_fee,
               price_per_interval = excluded.price_per_interval,
               interval_secs = excluded.interval_secs",
            &[
                &t.name,
                &t.connect_fee,
                &t.price_per_interval,
                &i64::from(t.interval_secs),
            ],
        )
        .map(|_| ())
    }

    fn reservation(&mut self, session: &str) -> DbResult<Option<Reservation>> {
        Ok(self
            .opt(
                "SELECT session, subscriber, seconds, amount, expires_at, instance, request
                 FROM reservations WHERE session = $1",
                &[&session],
            )?
            .as_ref()
            .map(reservation))
    }

    fn put_reservation(&mut self, r: &Reservation) -> DbResult<()> {
        self.exec(
            "INSERT INTO reservations
               (session, subscriber, seconds, amount, expires_at, instance, request)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (session) DO UPDATE SET subscriber = excluded.subscriber,
               seconds = excluded.seconds, amount = excluded.amount,
               expires_at = excluded.expires_at, instance = excluded.instance,
               request = excluded.request",
            &[
                &r.session,
                &r.subscriber,
                &r.seconds,
                &r.amount,
                &r.expires_at,
                &r.instance,
                &r.request.map(i64::from),
            ],
        )
        .map(|_| ())
    }

    fn delete_reservation(&mut self, session: &str) -> DbResult<()> {
        self.exec("DELETE FROM reservations WHERE session = $1", &[&session])
            .map(|_| ())
    }

    fn expired(&mut self, subscriber: Option<&str>, now: i64) -> DbResult<Vec<String>> {
        let rows = match subscriber {
            Some(s) => self.all(
                "SELECT session FROM reservations WHERE subscriber = $1 AND expires_at < $2",
                &[&s, &now],
            )?,
            None => self.all(
                "SELECT session FROM reservations WHERE expires_at < $1",
                &[&now],
            )?,
        };
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn held_by(&mut self, instance: &str) -> DbResult<Vec<String>> {
        let rows = self.all(
            "SELECT session FROM reservations WHERE instance = $1",
            &[&instance],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn call(&mut self, session: &str) -> DbResult<Option<Call>> {
        Ok(self
            .opt(
                "SELECT session, subscriber, destination, used_secs, charged, started_at, updated_at
                 FROM calls WHERE session = $1",
                &[&session],
            )?
            .map(|r| Call {
                session: r.get(0),
                subscriber: r.get(1),
                destination: r.get(2),
                used_secs: r.get(3),
                charged: r.get(4),
                started_at: r.get(5),
                updated_at: r.get(6),
            }))
    }

    fn put_call(&mut self, c: &Call) -> DbResult<()> {
        self.exec(
            "INSERT INTO calls (session, subscriber, destination, used_secs, charged, started_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (session) DO UPDATE SET used_secs = excluded.used_secs,
               charged = excluded.charged, updated_at = excluded.updated_at",
            &[
                &c.session,
                &c.subscriber,
                &c.destination,
                &c.used_secs,
                &c.charged,
                &c.started_at,
                &c.updated_at,
            ],
        )
        .map(|_| ())
    }

    fn charge(&mut self, session: &str, request: u32) -> DbResult<Option<Charge>> {
        Ok(self
            .opt(
                &format!(
                    "SELECT {CHARGE_COLUMNS} FROM charges WHERE session = $1 AND request = $2"
                ),
                &[&session, &i64::from(request)],
            )?
            .as_ref()
            .map(charge))
    }

    fn charges(&mut self, session: &str) -> DbResult<Vec<Charge>> {
        Ok(self
            .all(
                &format!("SELECT {CHARGE_COLUMNS} FROM charges WHERE session = $1 ORDER BY id"),
                &[&session],
            )?
            .iter()
            .map(charge)
            .collect())
    }

    fn insert_charge(&mut self, c: &Charge, instance: &str) -> DbResult<()> {
        self.exec(
            &format!(
                "INSERT INTO charges ({CHARGE_COLUMNS}, instance)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ),
            &[
                &c.session,
                &c.request.map(i64::from),
                &c.subscriber,
                &c.destination,
                &c.seconds,
                &c.amount,
                &c.balance_after,
                &i64::from(c.result_code),
                &c.created_at,
                &instance,
            ],
        )
        .map(|_| ())
    }

    fn insert_record(&mut self, r: &RecordRow<'_>, instance: &str) -> DbResult<bool> {
        self.exec(
            "INSERT INTO accounting_records (session_id, origin_host, origin_realm, record_type,
               record_number, retransmission, user_name, acct_session_id, event_time,
               sip_method, sip_response_code, sip_call_duration, sip_call_created, message,
               received_at, instance)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
             ON CONFLICT (session_id, origin_host, record_number) DO NOTHING",
            &[
                &r.session_id,
                &r.origin_host,
                &r.origin_realm,
                &r.record_type,
                &r.record_number,
                &r.retransmission,
                &r.user_name,
                &r.acct_session_id,
                &r.event_time,
                &r.sip_method,
                &r.sip_response_code,
                &r.sip_call_duration,
                &r.sip_call_created,
                &r.message,
                &r.received_at,
                &instance,
            ],
        )
        .map(|n| n == 1)
    }

    fn records(&mut self, session_id: &str) -> DbResult<Vec<StoredRecord>> {
        Ok(self
            .all(
                "SELECT session_id, origin_host, record_type, record_number, message
                 FROM accounting_records WHERE session_id = $1 ORDER BY id",
                &[&session_id],
            )?
            .iter()
            .map(|r| StoredRecord {
                session_id: r.get(0),
                origin_host: r.get(1),
                record_type: r.get::<_, i64>(2) as i32,
                record_number: r.get::<_, i64>(3) as u32,
                message: r.get(4),
            })
            .collect())
    }

    fn insert_anomaly(
        &mut self,
        sid: &str,
        host: &str,
        what: &str,
        now: i64,
        instance: &str,
    ) -> DbResult<()> {
        self.exec(
            "INSERT INTO accounting_anomalies (session_id, origin_host, anomaly, noted_at, instance)
             VALUES ($1, $2, $3, $4, $5)",
            &[&sid, &host, &what, &now, &instance],
        )
        .map(|_| ())
    }
}
