//! End-to-end over TLS (RFC 6733 §2.1), running the `diameter` binary:
//! `call --tls` against the in-process server and its throw-away
//! certificate; `serve --tls-cert --tls-key` with certificates made here
//! (rcgen) and `call --peer --tls-ca`; a client trusting another CA, a
//! certificate for another name, client certificates, and bad files, each
//! failing with one line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use diameter_cli::charging::{Charging, ChargingConfig};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_diameter");

mod common;
use common::Serve;

/// The server's name in its certificate.
const SERVER_NAME: &str = "ocs.diameter.test";

fn diameter(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The last line of `call --json`: the summary.
fn summary(o: &Output) -> Value {
    let text = stdout(o);
    let last = text.lines().last().unwrap_or_else(|| panic!("{text}"));
    let v: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {last}"));
    assert_eq!(v["event"], "summary", "{text}");
    v
}

/// One line on stderr, exit status 2.
fn one_line_failure(o: &Output, starts: &str) -> String {
    let err = stderr(o);
    eprint!("{err}");
    assert_eq!(o.status.code(), Some(2), "{}{err}", stdout(o));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with(starts), "{err}");
    err
}

/// A CA of its own.
fn new_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// A certificate for `names` (IP addresses as IP subjectAltNames) signed
/// by `ca`, written as `NAME-chain.pem` (it, then the CA) and
/// `NAME-key.pem` (PKCS#8) into `dir`.
fn issue(
    dir: &Path,
    file: &str,
    names: &[&str],
    ca: &CertifiedIssuer<'static, KeyPair>,
) -> (PathBuf, PathBuf) {
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names.clone()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, names[0].as_str());
    let cert = params.signed_by(&key, ca).unwrap();
    let chain = dir.join(format!("{file}-chain.pem"));
    let key_file = dir.join(format!("{file}-key.pem"));
    std::fs::write(&chain, format!("{}{}", cert.pem(), ca.pem())).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    (chain, key_file)
}

/// A CA's certificate in `dir/NAME.pem`.
fn write_ca(dir: &Path, file: &str, ca: &CertifiedIssuer<'static, KeyPair>) -> PathBuf {
    let path = dir.join(format!("{file}.pem"));
    std::fs::write(&path, ca.pem()).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The certificates of one test: a CA, the server's chain and key from
/// it (for [`SERVER_NAME`] and 127.0.0.1), and another CA.
struct Pki {
    dir: tempfile::TempDir,
    ca: CertifiedIssuer<'static, KeyPair>,
    ca_pem: PathBuf,
    other_pem: PathBuf,
    chain: PathBuf,
    key: PathBuf,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let ca = new_ca("diameter.test CA");
        let other = new_ca("some other CA");
        let ca_pem = write_ca(dir.path(), "ca", &ca);
        let other_pem = write_ca(dir.path(), "other-ca", &other);
        let (chain, key) = issue(dir.path(), "server", &[SERVER_NAME, "127.0.0.1"], &ca);
        Pki {
            dir,
            ca,
            ca_pem,
            other_pem,
            chain,
            key,
        }
    }

    fn db(&self) -> String {
        format!("sqlite:{}", self.dir.path().join("charging.db").display())
    }
}

#[test]
fn call_tls_against_the_built_in_server() {
    let o = diameter(&[
        "call",
        "--tls",
        "--scenario",
        "prepaid",
        "--from",
        "1001",
        "--dur",
        "20",
        "--speed",
        "50",
        "--json",
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let s = summary(&o);
    assert_eq!(s["tls"], true, "{s}");
    assert_eq!(s["ended"], "hangup", "{s}");
    assert_eq!(s["granted"], 5940, "{s}");
    let used = s["used"].as_u64().unwrap();
    assert!((20..=21).contains(&used), "{s}");
    // 0.10 + 4 × 0.01 (6 s intervals).
    assert_eq!(s["charged"], 14, "{s}");
    assert_eq!(
        (s["balance_before"].as_i64(), s["balance_after"].as_i64()),
        (Some(1000), Some(986)),
        "{s}"
    );
    // The CER went over the TLS connection and got its CEA.
    let text = stdout(&o);
    assert!(text.contains("\"CEA  Result-Code 2001\""), "{text}");

    // The text form says so.
    let o = diameter(&[
        "call",
        "--tls",
        "--scenario",
        "postpaid",
        "--dur",
        "6",
        "--speed",
        "50",
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    let first = text.lines().next().unwrap();
    assert!(
        first.contains("over TLS (throw-away certificate for server.diameter.test)"),
        "{text}"
    );
    assert!(text.contains("(postpaid, over TLS)"), "{text}");
    assert!(text.contains("ended    hangup"), "{text}");
}

#[test]
fn send_and_bench_tls_against_the_built_in_server() {
    let hex = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench-msgs/ccr-i.hex");
    let o = diameter(&["decode", "--json", s(&hex)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("ccr.json");
    std::fs::write(&json, &o.stdout).unwrap();
    let o = diameter(&["send", "--tls", s(&json)]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("Result-Code (268) [M] = 2001 (DIAMETER_SUCCESS)"),
        "{text}"
    );

    let o = diameter(&[
        "bench",
        "--tls",
        "--sessions",
        "10",
        "--rate",
        "0",
        // 0.20 reserved for each: ten at once fit in 10.00.
        "--requested",
        "60",
        "--json",
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let r: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(r["calls"]["completed"], 10, "{r}");
    assert_eq!(r["calls"]["failed"], 0, "{r}");
}

#[test]
fn call_to_serve_over_tls_with_certificates_of_our_own() {
    let pki = Pki::new();
    let serve = Serve::start(
        &pki.db(),
        &[
            "--speed",
            "50",
            "--tls-cert",
            s(&pki.chain),
            "--tls-key",
            s(&pki.key),
        ],
    );
    assert!(serve.first.contains(" with TLS as "), "{}", serve.first);

    // The name checked is --tls-name.
    let o = diameter(&[
        "call",
        "--peer",
        &serve.addr,
        "--tls-ca",
        s(&pki.ca_pem),
        "--tls-name",
        SERVER_NAME,
        "--scenario",
        "prepaid",
        "--dur",
        "20",
        "--speed",
        "50",
        "--json",
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let s1 = summary(&o);
    assert_eq!(s1["tls"], true, "{s1}");
    assert_eq!(s1["ended"], "hangup", "{s1}");
    assert_eq!(s1["granted"], 5940, "{s1}");
    assert_eq!(s1["result_code"], 2001, "{s1}");
    let used = s1["used"].as_u64().unwrap();
    assert!((20..=21).contains(&used), "{s1}");

    // Without --tls-name, the host of --peer: 127.0.0.1, an IP
    // subjectAltName of the certificate.
    let o = diameter(&[
        "call",
        "--peer",
        &serve.addr,
        "--tls-ca",
        s(&pki.ca_pem),
        "--scenario",
        "postpaid",
        "--dur",
        "6",
        "--speed",
        "50",
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(
        text.lines()
            .next()
            .unwrap()
            .contains("over TLS (certificate checked for 127.0.0.1)"),
        "{text}"
    );
    assert!(text.contains("ended    hangup"), "{text}");

    // The server charged both calls: 0.14 for 20-21 s, 0.11 for 6 s.
    drop(serve);
    let mut db = Charging::open(&pki.db(), ChargingConfig::default()).unwrap();
    let a = db.account("1001").unwrap().unwrap();
    assert_eq!((a.balance, a.reserved), (1000 - 14 - 11, 0), "{a:?}");
}

#[test]
fn a_peer_the_client_does_not_trust_fails_with_one_line() {
    let pki = Pki::new();
    let serve = Serve::start(
        &pki.db(),
        &["--tls-cert", s(&pki.chain), "--tls-key", s(&pki.key)],
    );
    let peer = serve.addr.clone();
    let call = |extra: &[&str]| {
        let mut args = vec!["call", "--peer", &peer, "--dur", "1", "--timeout", "3"];
        args.extend_from_slice(extra);
        diameter(&args)
    };

    // Signed by a CA the client does not trust.
    let o = call(&["--tls-ca", s(&pki.other_pem), "--tls-name", SERVER_NAME]);
    let err = one_line_failure(
        &o,
        &format!("diameter: no peer opened: {peer}: TLS handshake with {SERVER_NAME} failed: "),
    );
    assert!(err.contains("certificate"), "{err}");
    assert!(
        err.contains("not signed by a CA this client trusts"),
        "{err}"
    );
    // The server says so too, in one line of its log.
    let line = serve
        .wait_for_line("TLS handshake failed")
        .expect("serve reports the failed handshake");
    assert!(line.contains("connection 127.0.0.1:"), "{line}");

    // Valid, but for another name.
    let o = call(&[
        "--tls-ca",
        s(&pki.ca_pem),
        "--tls-name",
        "billing.diameter.test",
    ]);
    let err = one_line_failure(
        &o,
        &format!(
            "diameter: no peer opened: {peer}: TLS handshake with billing.diameter.test failed: "
        ),
    );
    assert!(
        err.contains("certificate") && err.contains("not valid for name"),
        "{err}"
    );

    // Plain TCP to a TLS listener: its TLS alert is no Diameter.
    let o = call(&[]);
    let err = one_line_failure(&o, &format!("diameter: no peer opened: {peer}: "));
    assert!(
        err.contains("not Diameter") && err.contains("a TLS listener? then give --tls-ca"),
        "{err}"
    );

    // --tls towards a peer needs the CA to trust.
    let o = call(&["--tls"]);
    one_line_failure(&o, "diameter: --tls with --peer needs --tls-ca FILE.pem");
}

#[test]
fn client_certificates_when_the_server_asks() {
    let pki = Pki::new();
    let serve = Serve::start(
        &pki.db(),
        &[
            "--speed",
            "50",
            "--tls-cert",
            s(&pki.chain),
            "--tls-key",
            s(&pki.key),
            "--tls-client-ca",
            s(&pki.ca_pem),
        ],
    );
    assert!(
        serve
            .first
            .contains("with TLS (client certificates required)"),
        "{}",
        serve.first
    );
    let (chain, key) = issue(pki.dir.path(), "client", &["client.diameter.test"], &pki.ca);
    let o = diameter(&[
        "call",
        "--peer",
        &serve.addr,
        "--tls-ca",
        s(&pki.ca_pem),
        "--tls-cert",
        s(&chain),
        "--tls-key",
        s(&key),
        "--scenario",
        "postpaid",
        "--dur",
        "6",
        "--speed",
        "50",
        "--json",
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(summary(&o)["ended"], "hangup");

    // Without one: refused, one line that says what is missing.
    let o = diameter(&[
        "call",
        "--peer",
        &serve.addr,
        "--tls-ca",
        s(&pki.ca_pem),
        "--dur",
        "1",
        "--timeout",
        "3",
    ]);
    let err = one_line_failure(&o, &format!("diameter: no peer opened: {}: ", serve.addr));
    assert!(
        err.contains("CertificateRequired") && err.contains("give --tls-cert and --tls-key"),
        "{err}"
    );
}

#[test]
fn bad_certificate_files_are_one_line_naming_the_file() {
    let pki = Pki::new();
    let d = pki.dir.path();
    let missing = d.join("missing.pem");
    let db = pki.db();

    // serve: a missing certificate file.
    let o = diameter(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--db",
        &db,
        "--tls-cert",
        s(&missing),
        "--tls-key",
        s(&pki.key),
    ]);
    one_line_failure(
        &o,
        &format!("diameter: cannot read {}: ", missing.display()),
    );

    // A key file with no key in it (a certificate instead).
    let o = diameter(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--db",
        &db,
        "--tls-cert",
        s(&pki.chain),
        "--tls-key",
        s(&pki.chain),
    ]);
    one_line_failure(
        &o,
        &format!("diameter: {}: no private key in it", pki.chain.display()),
    );

    // A key that does not parse: good PEM, no key inside.
    let garbage = d.join("garbage-key.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN PRIVATE KEY-----\nAAAAAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let o = diameter(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--db",
        &db,
        "--tls-cert",
        s(&pki.chain),
        "--tls-key",
        s(&garbage),
    ]);
    one_line_failure(
        &o,
        &format!("diameter: {}: not a usable private key", garbage.display()),
    );

    // Bad PEM.
    let bad = d.join("bad.pem");
    std::fs::write(
        &bad,
        "-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let o = diameter(&["call", "--peer", "127.0.0.1:1", "--tls-ca", s(&bad)]);
    one_line_failure(&o, &format!("diameter: {}: bad PEM: ", bad.display()));

    // A key for another certificate.
    let (_, other_key) = issue(d, "other", &["other.diameter.test"], &pki.ca);
    let o = diameter(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--db",
        &db,
        "--tls-cert",
        s(&pki.chain),
        "--tls-key",
        s(&other_key),
    ]);
    one_line_failure(
        &o,
        &format!(
            "diameter: {}: the key does not match the certificate in {}",
            other_key.display(),
            pki.chain.display()
        ),
    );

    // call: a missing CA file.
    let o = diameter(&["call", "--peer", "127.0.0.1:1", "--tls-ca", s(&missing)]);
    one_line_failure(
        &o,
        &format!("diameter: cannot read {}: ", missing.display()),
    );
}

#[test]
fn help_shows_tls() {
    for (sub, flag) in [
        ("call", "diameter call --tls"),
        ("serve", "--tls-cert"),
        ("send", "--tls-ca"),
        ("bench", "diameter bench --tls"),
    ] {
        let o = diameter(&[sub, "--help"]);
        assert!(o.status.success());
        let text = stdout(&o);
        assert!(text.contains(flag), "{sub}: {text}");
    }
}

/// The system's CA bundle is a `--tls-ca` file like any other (the help
/// says so): it loads, and the call gets as far as the connection.
#[test]
fn the_system_ca_bundle_loads_as_tls_ca() {
    let bundle = "/etc/ssl/certs/ca-certificates.crt";
    assert!(
        Path::new(bundle).exists(),
        "{bundle} is missing: apt-get install ca-certificates"
    );
    // A port bound but not listening: connections are refused.
    let bound = tokio::net::TcpSocket::new_v4().unwrap();
    bound.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let peer = bound.local_addr().unwrap().to_string();
    let o = diameter(&["call", "--peer", &peer, "--tls-ca", bundle, "--dur", "1"]);
    let err = one_line_failure(&o, &format!("diameter: no peer opened: {peer}: "));
    assert!(err.to_lowercase().contains("refused"), "{err}");
}
