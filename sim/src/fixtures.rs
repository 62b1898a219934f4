//! The identities and settings of `SCENARIOS.md`, and endpoints built from
//! them: a SIP proxy's client endpoint (prepaid, postpaid and accounting
//! sessions) and a charging server (credit control rated by a [`Ledger`],
//! accounting stored in a [`Records`] list).

use std::collections::HashMap;
use std::time::Duration;

use diameter_cc::client::accounting::AccountingConfig;
use diameter_cc::client::postpaid::PostpaidConfig;
use diameter_cc::client::prepaid::PrepaidConfig;
use diameter_cc::client::Parties;
use diameter_cc::endpoint::{Endpoint, EndpointConfig};
use diameter_cc::server::accounting::{
    AccountingRecord, AccountingServerConfig, AccountingSink, NoSink, SinkError,
};
use diameter_cc::server::credit_control::{CcServerConfig, NoRating, Rating};
use diameter_cc::session::WallClock;
use diameter_core::dict::base::AccountingRecordType;
use diameter_core::peer::{App, LocalIdentity, PeerConfig};
use diameter_core::ResultCode;

/// The SIP proxy's Origin-Host.
pub const CLIENT: &str = "client.diameter.test";
/// The charging server's Origin-Host.
pub const SERVER: &str = "server.diameter.test";
/// A second charging server.
pub const SERVER2: &str = "server2.diameter.test";
/// Both sides' realm.
pub const REALM: &str = "diameter.test";
/// The Service-Context-Id of the tutorial.
pub const CONTEXT: &str = "voice@OsipsDiamCCR";
/// Unix time at `Instant::ZERO` (2024-01-01).
pub const EPOCH: i64 = 1_704_067_200;

/// A client endpoint of the fixtures.
pub type Client<const P: usize, const S: usize> = Endpoint<NoRating, NoSink, P, S>;
/// A server endpoint of the fixtures.
pub type Server<const P: usize, const S: usize> = Endpoint<Ledger, Records, P, S>;

/// What `host` advertises: credit control (4) and accounting (3), 3GPP.
pub fn identity(host: &str) -> LocalIdentity {
    LocalIdentity::new(host, REALM)
        .and_then(|l| l.with_application(App::auth(4)))
        .and_then(|l| l.with_application(App::acct(3)))
        .and_then(|l| l.with_supported_vendor(10415))
        .and_then(|l| l.with_product_name("diameter-rs"))
        .expect("fixture identity")
        .with_origin_state_id(1)
}

/// Peer settings for `host` (Tw 30 s).
pub fn peer_config(host: &str) -> PeerConfig {
    PeerConfig::new(identity(host), EPOCH as u32)
}

/// The proxy's settings: prepaid (Destination-Host the server, as
/// SCENARIOS recommends), postpaid and accounting, all towards
/// `diameter.test`.
pub fn client_config() -> EndpointConfig {
    let mut c = EndpointConfig::new(peer_config(CLIENT), WallClock::new(EPOCH));
    c.prepaid = Some(
        PrepaidConfig::new(REALM, CONTEXT)
            .and_then(|p| p.with_destination_host(SERVER))
            .expect("prepaid fixture"),
    );
    c.postpaid = Some(PostpaidConfig::new(REALM, CONTEXT).expect("postpaid fixture"));
    c.accounting = Some(AccountingConfig::new(REALM).expect("accounting fixture"));
    c
}

/// A client endpoint (boxed: endpoints are large).
pub fn client<const P: usize, const S: usize>() -> Box<Client<P, S>> {
    client_with(client_config())
}

/// A client endpoint with these settings.
pub fn client_with<const P: usize, const S: usize>(config: EndpointConfig) -> Box<Client<P, S>> {
    Box::new(Endpoint::new(config, diameter_core::time::Instant::ZERO))
}

/// A charging server named [`SERVER`] rating with `ledger`.
pub fn server<const P: usize, const S: usize>(ledger: Ledger) -> Box<Server<P, S>> {
    server_named(SERVER, ledger)
}

/// A charging server named `host`.
pub fn server_named<const P: usize, const S: usize>(
    host: &str,
    ledger: Ledger,
) -> Box<Server<P, S>> {
    let config = EndpointConfig::new(peer_config(host), WallClock::new(EPOCH));
    Box::new(
        Endpoint::new(config, diameter_core::time::Instant::ZERO)
            .with_credit_control(CcServerConfig::new(), ledger)
            .with_accounting(AccountingServerConfig::new(), Records::default()),
    )
}

/// 1001 calls 1002.
pub fn parties() -> Parties {
    parties_of("1001", "1002")
}

/// `caller` calls `callee` (SIP URIs in the 3GPP addresses).
pub fn parties_of(caller: &str, callee: &str) -> Parties {
    Parties::new(caller, callee)
        .and_then(|p| {
            p.with_addresses(
                &format!("sip:{caller}@{REALM}"),
                &format!("sip:{callee}@{REALM}"),
            )
        })
        .expect("fixture parties")
}

/// A ledger with 1001 and 1002 holding one hour each.
pub fn ledger() -> Ledger {
    let mut l = Ledger::default();
    l.set("1001", 3600);
    l.set("1002", 3600);
    l
}

/// A [`Rating`] that remembers everything: balances, reservations per
/// session and every debit, so that tests can check that money is never
/// lost or taken twice.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    /// Seconds left per subscriber.
    pub balances: HashMap<String, u64>,
    /// Seconds reserved per session: (subscriber, seconds).
    pub reserved: HashMap<String, (String, u64)>,
    /// Every debit: (session, subscriber, seconds).
    pub debits: Vec<(String, String, u32)>,
}

impl Ledger {
    /// Create or top up an account.
    pub fn set(&mut self, subscriber: &str, seconds: u64) {
        self.balances.insert(subscriber.to_owned(), seconds);
    }
    /// Seconds debited for `session`.
    pub fn debited(&self, session: &str) -> u64 {
        self.debits
            .iter()
            .filter(|d| d.0 == session)
            .map(|d| u64::from(d.2))
            .sum()
    }
}

impl Rating for Ledger {
    fn reserve(
        &mut self,
        session: &str,
        subscriber: &str,
        _destination: &str,
        requested: u32,
    ) -> Result<u32, ResultCode> {
        let balance = *self
            .balances
            .get(subscriber)
            .ok_or(ResultCode::USER_UNKNOWN)?;
        let held: u64 = self
            .reserved
            .values()
            .filter(|(s, _)| s == subscriber)
            .map(|(_, n)| n)
            .sum();
        let free = balance.saturating_sub(held);
        let g = u64::from(requested).min(free);
        let entry = self
            .reserved
            .entry(session.to_owned())
            .or_insert_with(|| (subscriber.to_owned(), 0));
        entry.1 += g;
        Ok(g as u32)
    }
    fn debit(
        &mut self,
        session: &str,
        subscriber: &str,
        _destination: &str,
        used: u32,
    ) -> Result<(), ResultCode> {
        let b = self
            .balances
            .get_mut(subscriber)
            .ok_or(ResultCode::USER_UNKNOWN)?;
        if let Some(r) = self.reserved.get_mut(session) {
            r.1 = r.1.saturating_sub(u64::from(used));
        }
        self.debits
            .push((session.to_owned(), subscriber.to_owned(), used));
        if *b < u64::from(used) {
            *b = 0;
            return Err(ResultCode::CREDIT_LIMIT_REACHED);
        }
        *b -= u64::from(used);
        Ok(())
    }
    fn release(&mut self, session: &str, _subscriber: &str) {
        self.reserved.remove(session);
    }
}

/// One stored accounting record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// Session-Id.
    pub session_id: String,
    /// Accounting-Record-Type.
    pub record_type: AccountingRecordType,
    /// Accounting-Record-Number.
    pub number: u32,
    /// It came with the T flag.
    pub retransmission: bool,
}

/// An [`AccountingSink`] that keeps every record; `fail` makes it answer
/// 4002 for a while.
#[derive(Debug, Clone, Default)]
pub struct Records {
    /// What was stored, in order.
    pub stored: Vec<StoredRecord>,
    /// While true, every record fails (DIAMETER_OUT_OF_SPACE).
    pub fail: bool,
}

impl AccountingSink for Records {
    fn record(&mut self, rec: &AccountingRecord<'_>) -> Result<(), SinkError> {
        if self.fail {
            return Err(SinkError::OutOfSpace);
        }
        self.stored.push(StoredRecord {
            session_id: rec.session_id.to_owned(),
            record_type: rec.record_type,
            number: rec.number,
            retransmission: rec.retransmission,
        });
        Ok(())
    }
}

/// A common wait: one Tw plus jitter.
pub const TW: Duration = Duration::from_secs(32);

/// A rating engine or record sink shared with the test that gave it to a
/// node running on another thread (the tokio transport): the node uses it
/// through the lock, the test reads it the same way.
///
/// ```
/// use diameter_sim::fixtures::{ledger, Shared};
/// let l = Shared::new(ledger());
/// let node_side = l.clone();
/// assert_eq!(node_side.lock().balances["1001"], 3600);
/// ```
#[derive(Debug, Default)]
pub struct Shared<T>(pub std::sync::Arc<std::sync::Mutex<T>>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<T> Shared<T> {
    /// Share `t`.
    pub fn new(t: T) -> Self {
        Shared(std::sync::Arc::new(std::sync::Mutex::new(t)))
    }
    /// The value, locked (a poisoned lock is taken over).
    pub fn lock(&self) -> std::sync::MutexGuard<'_, T> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T: Rating> Rating for Shared<T> {
    fn reserve(
        &mut self,
        session: &str,
        subscriber: &str,
        destination: &str,
        requested: u32,
    ) -> Result<u32, ResultCode> {
        self.lock()
            .reserve(session, subscriber, destination, requested)
    }
    fn debit(
        &mut self,
        session: &str,
        subscriber: &str,
        destination: &str,
        used: u32,
    ) -> Result<(), ResultCode> {
        self.lock().debit(session, subscriber, destination, used)
    }
    fn release(&mut self, session: &str, subscriber: &str) {
        self.lock().release(session, subscriber)
    }
    fn reserve_request(
        &mut self,
        session: &str,
        request: u32,
        subscriber: &str,
        destination: &str,
        requested: u32,
    ) -> Result<u32, ResultCode> {
        self.lock()
            .reserve_request(session, request, subscriber, destination, requested)
    }
    fn debit_request(
        &mut self,
        session: &str,
        request: u32,
        subscriber: &str,
        destination: &str,
        used: u32,
    ) -> Result<(), ResultCode> {
        self.lock()
            .debit_request(session, request, subscriber, destination, used)
    }
}

impl<T: AccountingSink> AccountingSink for Shared<T> {
    fn record(&mut self, rec: &AccountingRecord<'_>) -> Result<(), SinkError> {
        self.lock().record(rec)
    }
    fn anomaly(
        &mut self,
        session_id: &str,
        origin_host: &str,
        anomaly: diameter_cc::server::accounting::Anomaly,
    ) {
        self.lock().anomaly(session_id, origin_host, anomaly)
    }
}
