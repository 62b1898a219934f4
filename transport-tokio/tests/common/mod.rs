//! What the transport's tests share: identities, ready-made client and
//! server nodes on loopback, and log output (`RUST_LOG=diameter_tokio=debug`).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use diameter_cc::client::accounting::{AccountingConfig, CallInfo};
use diameter_cc::client::postpaid::PostpaidConfig;
use diameter_cc::client::prepaid::PrepaidConfig;
use diameter_cc::client::Parties;
use diameter_cc::endpoint::EndpointConfig;
use diameter_cc::server::accounting::AccountingServerConfig;
use diameter_cc::server::credit_control::CcServerConfig;
use diameter_cc::session::{session_id_from, WallClock};
use diameter_core::peer::{App, LocalIdentity, PeerConfig};
use diameter_sim::fixtures::{Ledger, Records, Shared};
use diameter_tokio::{Limits, Node, Target};

/// Our realm in tests against our own server.
pub const REALM: &str = "diameter.test";
/// The Service-Context-Id of SCENARIOS.
pub const CONTEXT: &str = "voice@OsipsDiamCCR";

/// Log to the test's output when `RUST_LOG` asks for it.
pub fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// `host` in `realm`, advertising credit control (4) and accounting (3).
pub fn identity(host: &str, realm: &str) -> LocalIdentity {
    LocalIdentity::new(host, realm)
        .and_then(|l| l.with_application(App::auth(4)))
        .and_then(|l| l.with_application(App::acct(3)))
        .and_then(|l| l.with_supported_vendor(10415))
        .and_then(|l| l.with_product_name("diameter-rs"))
        .expect("identity")
}

/// Peer settings with a short Tw (6 s, the least RFC 3539 allows).
pub fn peer_config(host: &str, realm: &str) -> PeerConfig {
    let mut p = PeerConfig::new(identity(host, realm), 1_764_720_000);
    p.tw = Duration::from_secs(6);
    p
}

/// A SIP proxy's settings: prepaid, postpaid and accounting towards
/// `realm`.
pub fn client_config(host: &str, realm: &str) -> EndpointConfig {
    let mut c = EndpointConfig::new(peer_config(host, realm), WallClock::new(0));
    c.prepaid = Some(PrepaidConfig::new(realm, CONTEXT).expect("prepaid"));
    c.postpaid = Some(PostpaidConfig::new(realm, CONTEXT).expect("postpaid"));
    c.accounting = Some(AccountingConfig::new(realm).expect("accounting"));
    c
}

/// A charging server on a free loopback port: credit control rated by
/// `ledger`, accounting stored in `records`.
pub async fn server(host: &str, ledger: Shared<Ledger>, records: Shared<Records>) -> Node {
    server_with(host, ledger, records, Limits::default()).await
}

/// [`server`] with limits.
pub async fn server_with(
    host: &str,
    ledger: Shared<Ledger>,
    records: Shared<Records>,
    limits: Limits,
) -> Node {
    let config = EndpointConfig::new(peer_config(host, REALM), WallClock::new(0));
    Node::builder(config)
        .credit_control(CcServerConfig::new(), ledger)
        .accounting(AccountingServerConfig::new(), records)
        .listen("127.0.0.1:0".parse().unwrap())
        .limits(limits)
        .start_sized::<16, 1024>()
        .await
        .expect("server starts")
}

/// A proxy connected to `servers` in that order, open.
pub async fn client(host: &str, servers: &[SocketAddr]) -> Node {
    let mut b = Node::builder(client_config(host, REALM));
    for a in servers {
        b = b.connect_to(Target::new(*a));
    }
    let node = b.start_sized::<4, 1024>().await.expect("client starts");
    node.wait_open(Duration::from_secs(5))
        .await
        .expect("a peer opens");
    node
}

/// `caller` calls `callee`.
pub fn parties(caller: &str, callee: &str) -> Parties {
    Parties::new(caller, callee)
        .and_then(|p| {
            p.with_addresses(
                &format!("sip:{caller}@{REALM}"),
                &format!("sip:{callee}@{REALM}"),
            )
        })
        .expect("parties")
}

/// A call's accounting information.
pub fn call_info(session_id: &str, caller: &str) -> CallInfo {
    let mut info = CallInfo::new(session_id_from(session_id).expect("session id"));
    info.user_name = Some(diameter_cc::client::PartyBuf::try_from(caller).expect("caller"));
    info
}

/// Every message a node sent and received, in order (for a [`tap`]).
pub type Log = std::sync::Arc<std::sync::Mutex<Vec<(diameter_tokio::Direction, Vec<u8>)>>>;

/// A tap that appends to `log`.
pub fn tap(
    log: &Log,
) -> impl Fn(diameter_tokio::Direction, Option<SocketAddr>, &[u8]) + Send + Sync + 'static {
    let log = log.clone();
    move |d, _, m| log.lock().unwrap().push((d, m.to_vec()))
}

/// Command code and request bit of each logged message going `dir`.
pub fn commands(log: &Log, dir: diameter_tokio::Direction) -> Vec<(u32, bool)> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|(d, _)| *d == dir)
        .map(|(_, m)| {
            let code = u32::from_be_bytes([0, m[5], m[6], m[7]]);
            (code, m[4] & 0x80 != 0)
        })
        .collect()
}

/// Wait up to `secs` for `f` to hold.
pub async fn until(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < end {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f()
}

/// A TCP relay in front of a server, whose connections a test can cut (a
/// link failure: no DPR, the connection just ends).
pub struct Relay {
    /// Where clients connect.
    pub addr: SocketAddr,
    cut: tokio::sync::watch::Sender<u64>,
}

impl Relay {
    /// Relay connections to `target`.
    pub async fn start(target: SocketAddr) -> Relay {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let (cut, _) = tokio::sync::watch::channel(0u64);
        let cuts = cut.clone();
        tokio::spawn(async move {
            while let Ok((mut a, _)) = l.accept().await {
                let mut gen = cuts.subscribe();
                tokio::spawn(async move {
                    let Ok(mut b) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut a, &mut b) => {}
                        _ = gen.changed() => {}
                    }
                });
            }
        });
        Relay { addr, cut }
    }

    /// End every connection relayed now.
    pub fn cut(&self) {
        self.cut.send_modify(|n| *n += 1);
    }
}
