//! TLS at connect (RFC 6733 §2.1) between our client and our server, with
//! certificates made at test time (`rcgen`, ring): the prepaid flow over
//! TLS, and a client that trusts another CA, which fails with one clear
//! line naming the cause.
#![cfg(feature = "tls")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use diameter_cc::client::prepaid::PrepaidEvent;
use diameter_cc::endpoint::{EndpointConfig, SessionEvent};
use diameter_cc::server::accounting::AccountingServerConfig;
use diameter_cc::server::credit_control::CcServerConfig;
use diameter_cc::session::WallClock;
use diameter_core::dict::base::TerminationCause;
use diameter_sim::fixtures::{ledger, Records, Shared};
use diameter_tokio::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use diameter_tokio::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use diameter_tokio::{Authorization, Direction, Node, Target};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

/// The server's name in its certificate.
const SERVER_NAME: &str = "ocs.diameter.test";

/// A CA of its own.
fn new_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The server's TLS settings: a certificate for [`SERVER_NAME`] from `ca`.
fn server_tls(ca: &CertifiedIssuer<'static, KeyPair>) -> Arc<ServerConfig> {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec![SERVER_NAME.to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, SERVER_NAME);
    let cert = params.signed_by(&key, ca).unwrap();
    let chain = vec![cert.der().clone(), ca.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Arc::new(
        ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap(),
    )
}

/// A client's TLS settings trusting `ca` only.
fn client_tls(ca: &CertificateDer<'static>) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    Arc::new(
        ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

async fn tls_server(
    ca: &CertifiedIssuer<'static, KeyPair>,
    ledger: Shared<diameter_sim::fixtures::Ledger>,
) -> Node {
    let config = EndpointConfig::new(peer_config(SERVER_NAME, REALM), WallClock::new(0));
    Node::builder(config)
        .credit_control(CcServerConfig::new(), ledger)
        .accounting(
            AccountingServerConfig::new(),
            Shared::new(Records::default()),
        )
        .tls_server(server_tls(ca))
        .listen("127.0.0.1:0".parse().unwrap())
        .start_sized::<4, 64>()
        .await
        .expect("server starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepaid_flow_over_tls() {
    logs();
    let ca = new_ca("diameter.test CA");
    let ledger = Shared::new(ledger());
    let server = tls_server(&ca, ledger.clone()).await;
    let log = Log::default();
    let client = Node::builder(client_config("proxy.diameter.test", REALM))
        .tls_client(client_tls(ca.der()))
        .connect_to(Target::new(server.local_addrs()[0]).tls(SERVER_NAME))
        .tap(tap(&log))
        .start_sized::<4, 64>()
        .await
        .unwrap();
    client
        .wait_open(Duration::from_secs(10))
        .await
        .expect("TLS, then CER/CEA");

    let mut call = client
        .prepaid("tls-1@proxy.diameter.test", parties("1001", "1002"))
        .await
        .unwrap();
    let auth = call.start().await.unwrap();
    assert!(
        matches!(auth, Authorization::Allowed { seconds: Some(s) } if s > 0),
        "{auth:?}"
    );
    call.answered().await.unwrap();
    let events = call.hangup(TerminationCause::Logout).await.unwrap();
    assert!(
        events.contains(&SessionEvent::Prepaid(PrepaidEvent::Finished)),
        "{events:?}"
    );
    assert_eq!(events.last(), Some(&SessionEvent::Closed));
    assert!(ledger.lock().reserved.is_empty());
    // CER, CCR-I, CCR-U, CCR-T out; CEA and three CCAs in.
    let out = commands(&log, Direction::Out);
    assert_eq!(
        out.iter().filter(|c| **c == (272, true)).count(),
        3,
        "{out:?}"
    );
    assert_eq!(out.first(), Some(&(257, true)));

    // A plain TCP client gets no CEA from the TLS listener.
    let plain = Node::builder(client_config("plain.diameter.test", REALM))
        .connect_to(Target::new(server.local_addrs()[0]))
        .limits(diameter_tokio::Limits {
            connect_timeout: Duration::from_secs(2),
            ..Default::default()
        })
        .start_sized::<2, 16>()
        .await
        .unwrap();
    let line = plain
        .wait_open(Duration::from_secs(3))
        .await
        .expect_err("no CEA from a TLS listener")
        .to_string();
    // Said as soon as the listener drops the connection, not at the
    // timeout: its TLS alert is no Diameter message.
    assert!(line.contains("connection closed before the CEA"), "{line}");
    plain.shutdown(Duration::from_secs(1)).await;

    client.shutdown(Duration::from_secs(2)).await;
    server.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_with_the_wrong_ca_fails_with_one_clear_line() {
    logs();
    let ca = new_ca("diameter.test CA");
    let other = new_ca("some other CA");
    let server = tls_server(&ca, Shared::new(ledger())).await;
    let client = Node::builder(client_config("proxy.diameter.test", REALM))
        .tls_client(client_tls(other.der()))
        .connect_to(Target::new(server.local_addrs()[0]).tls(SERVER_NAME))
        .start_sized::<4, 64>()
        .await
        .unwrap();
    let e = client
        .wait_open(Duration::from_secs(10))
        .await
        .expect_err("the server's certificate is not trusted");
    let line = e.to_string();
    eprintln!("{line}");
    assert!(!line.contains('\n'), "one line: {line:?}");
    assert!(
        line.contains("TLS handshake with ocs.diameter.test failed"),
        "{line}"
    );
    assert!(
        line.contains("UnknownIssuer") && line.contains("not signed by a CA this client trusts"),
        "names the cause: {line}"
    );
    assert!(client.stats().connect_failures >= 1);

    // The right name is checked too: a certificate for another host.
    let client2 = Node::builder(client_config("proxy2.diameter.test", REALM))
        .tls_client(client_tls(ca.der()))
        .connect_to(Target::new(server.local_addrs()[0]).tls("billing.diameter.test"))
        .start_sized::<4, 64>()
        .await
        .unwrap();
    let line = client2
        .wait_open(Duration::from_secs(10))
        .await
        .expect_err("wrong name")
        .to_string();
    eprintln!("{line}");
    assert!(!line.contains('\n'), "{line:?}");
    assert!(line.contains("not valid for name"), "{line}");
    client.shutdown(Duration::from_secs(1)).await;
    client2.shutdown(Duration::from_secs(1)).await;
    server.shutdown(Duration::from_secs(1)).await;
}
