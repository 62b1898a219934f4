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
/// link failure: no DPR, the connection just ends), hold (the server's
/// bytes stop reaching the client: answers lost in the network), or kill
/// (cut, and connections refused from then on: the server crashed).
pub struct Relay {
    /// Where clients connect.
    pub addr: SocketAddr,
    cut: tokio::sync::watch::Sender<u64>,
    hold: tokio::sync::watch::Sender<bool>,
    dead: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    /// Relay connections to `target`.
    pub async fn start(target: SocketAddr) -> Relay {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let (cut, _) = tokio::sync::watch::channel(0u64);
        let (hold, _) = tokio::sync::watch::channel(false);
        let (dead, mut is_dead) = tokio::sync::watch::channel(false);
        let (cuts, holds) = (cut.clone(), hold.clone());
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    a = l.accept() => a,
                    _ = is_dead.wait_for(|d| *d) => return,
                };
                let Ok((a, _)) = accepted else { return };
                let mut gen = cuts.subscribe();
                let held = holds.subscribe();
                tokio::spawn(async move {
                    let Ok(b) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = relay(a, b, held) => {}
                        _ = gen.changed() => {}
                    }
                });
            }
        });
        Relay {
            addr,
            cut,
            hold,
            dead,
        }
    }

    /// End every connection relayed now.
    pub fn cut(&self) {
        self.cut.send_modify(|n| *n += 1);
    }

    /// Stop passing the server's bytes to the client (what was read from
    /// the server is kept, and lost at a [`Relay::cut`]).
    pub fn hold(&self) {
        self.hold.send_replace(true);
    }

    /// The server crashed: cut every connection and refuse new ones.
    pub fn kill(&self) {
        self.dead.send_replace(true);
        self.cut();
    }
}

/// Copy both ways until both sides closed; the server's bytes wait while
/// `held`.
async fn relay(
    a: tokio::net::TcpStream,
    b: tokio::net::TcpStream,
    mut held: tokio::sync::watch::Receiver<bool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut ar, mut aw) = a.into_split();
    let (mut br, mut bw) = b.into_split();
    let up = async move {
        let _ = tokio::io::copy(&mut ar, &mut bw).await;
        let _ = bw.shutdown().await;
    };
    let down = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match br.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if held.wait_for(|h| !*h).await.is_err() {
                break;
            }
            if aw.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = aw.shutdown().await;
    };
    tokio::join!(up, down);
}

/// A CCR-Event from `origin` for `realm`, without its Service-Context-Id
/// when `valid` is false (an invalid request: 5005 with Failed-AVP).
pub fn ccr_event(session: &str, origin: &str, realm: &str, valid: bool) -> Vec<u8> {
    let mut buf = vec![0u8; 1024];
    let repr = diameter_cc::msg::CcrRepr::new(
        session,
        origin,
        realm,
        realm,
        CONTEXT,
        diameter_cc::dict::CcRequestType::Event,
        0,
    );
    let len = repr
        .encode(diameter_cc::msg::CcrRepr::header(0, 0), &mut buf)
        .unwrap()
        .len();
    buf.truncate(len);
    if valid {
        buf
    } else {
        without_avp(&buf, 461)
    }
}

/// `msg` without its top-level AVPs of `code` (the length fixed).
pub fn without_avp(msg: &[u8], code: u32) -> Vec<u8> {
    let mut out = msg[..20].to_vec();
    let mut at = 20;
    while at + 8 <= msg.len() {
        let c = u32::from_be_bytes(msg[at..at + 4].try_into().unwrap());
        let len = u32::from_be_bytes([0, msg[at + 5], msg[at + 6], msg[at + 7]]) as usize;
        let padded = (len + 3) & !3;
        if c != code {
            out.extend_from_slice(&msg[at..at + padded]);
        }
        at += padded;
    }
    let n = (out.len() as u32).to_be_bytes();
    out[1..4].copy_from_slice(&n[1..]);
    out
}

/// The record types acknowledged among an accounting call's events.
pub fn acknowledged(
    events: &[diameter_cc::endpoint::SessionEvent],
) -> Vec<diameter_core::dict::base::AccountingRecordType> {
    use diameter_cc::client::accounting::AccountingEvent;
    use diameter_cc::endpoint::SessionEvent;
    events
        .iter()
        .filter_map(|e| match e {
            SessionEvent::Accounting(AccountingEvent::RecordAcknowledged {
                record_type, ..
            }) => Some(*record_type),
            _ => None,
        })
        .collect()
}
