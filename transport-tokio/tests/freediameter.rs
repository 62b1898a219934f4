//! diameter-tokio against an independent implementation: freeDiameter
//! 1.2.1 of `../shared/peers/` (as server and as client) and the Python
//! probe of the same folder. Every conversation is captured live with
//! `tshark -i lo` (CI runs as root) and every frame must dissect cleanly.
//!
//! The tests run one at a time (freeDiameter start-ups racing on a loaded
//! machine have failed before).

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use diameter_cc::client::accounting::AccountingConfig;
use diameter_cc::client::postpaid::{PostpaidConfig, PostpaidEvent};
use diameter_cc::client::prepaid::{PrepaidConfig, PrepaidEvent};
use diameter_cc::endpoint::{EndpointConfig, SessionEvent};
use diameter_cc::server::accounting::AccountingServerConfig;
use diameter_cc::server::credit_control::CcServerConfig;
use diameter_cc::session::WallClock;
use diameter_core::dict::base::{AccountingRecordType, TerminationCause};
use diameter_core::peer::DownReason;
use diameter_core::ResultCode;
use diameter_sim::fixtures::{Ledger, Records, Shared};
use diameter_sim::peers::{tshark_check, Capture, FreeDiameter, TempDir, FD_HOST, FD_REALM};
use diameter_tokio::{Authorization, Direction, Node, NodeEvent, RequestError, Target};

/// Our Origin-Host: freeDiameter's allow-list wants `*.localdomain`.
const HOST: &str = "rust-node.localdomain";
const CONTEXT: &str = "voice@OsipsDiamCCR";

const DWR: (u32, bool) = (280, true);
const DWA: (u32, bool) = (280, false);
const DPR: (u32, bool) = (282, true);
const DPA: (u32, bool) = (282, false);

async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static ONE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    ONE.lock().await
}

/// A SIP proxy's settings towards freeDiameter's realm. freeDiameter here
/// loads only `dict_dcca`: no 3GPP Service-Information.
fn proxy_config() -> EndpointConfig {
    let mut c = EndpointConfig::new(peer_config(HOST, FD_REALM), WallClock::new(0));
    let mut prepaid = PrepaidConfig::new(FD_REALM, CONTEXT).unwrap();
    prepaid.service_information = false;
    let mut postpaid = PostpaidConfig::new(FD_REALM, CONTEXT).unwrap();
    postpaid.service_information = false;
    c.prepaid = Some(prepaid);
    c.postpaid = Some(postpaid);
    c.accounting = Some(AccountingConfig::new(FD_REALM).unwrap());
    c
}

fn ccr(session: &str, valid: bool) -> Vec<u8> {
    ccr_event(session, HOST, FD_REALM, valid)
}

fn count(log: &Log, dir: Direction, what: (u32, bool)) -> usize {
    commands(log, dir).iter().filter(|c| **c == what).count()
}

/// Whether a peer of `node` is open.
async fn open(node: &Node) -> bool {
    node.peers().await.is_ok_and(|p| p.iter().any(|p| p.open))
}

async fn wait_open(node: &Node, secs: u64) -> bool {
    let end = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < end {
        if open(node).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// The prepaid, postpaid and accounting flows of SCENARIOS.md against
/// freeDiameter's test application.
async fn flows(client: &Node, tag: &str) {
    // Prepaid: CCR-I, CCR-U at answer, CCR-T at hangup; freeDiameter grants
    // CC-Time 60 (FD_CC_TIME).
    let mut call = client
        .prepaid(&format!("prepaid-{tag}@{HOST}"), parties("1001", "1002"))
        .await
        .unwrap();
    assert_eq!(
        call.start().await.unwrap(),
        Authorization::Allowed { seconds: Some(60) }
    );
    call.answered().await.unwrap();
    let events = call.hangup(TerminationCause::Logout).await.unwrap();
    assert!(
        events.contains(&SessionEvent::Prepaid(PrepaidEvent::Finished)),
        "{events:?}"
    );

    // Postpaid: one CCR-Event at hangup, answered 2001.
    let mut call = client
        .postpaid(&format!("postpaid-{tag}@{HOST}"), parties("1002", "1001"))
        .await
        .unwrap();
    assert_eq!(
        call.start().await.unwrap(),
        Authorization::Allowed { seconds: None }
    );
    call.answered().await.unwrap();
    let events = call.hangup(TerminationCause::Logout).await.unwrap();
    assert!(
        events.contains(&SessionEvent::Postpaid(PostpaidEvent::Charged(
            ResultCode::SUCCESS
        ))),
        "{events:?}"
    );

    // Accounting: START at answer, STOP at hangup, both acknowledged.
    let mut call = client
        .accounting(call_info(&format!("acct-{tag}@{HOST}"), "1001"))
        .await
        .unwrap();
    call.start().await.unwrap();
    call.answered().await.unwrap();
    let events = call.hangup(TerminationCause::Logout).await.unwrap();
    let acked = acknowledged(&events);
    assert_eq!(
        acked,
        [
            AccountingRecordType::StartRecord,
            AccountingRecordType::StopRecord
        ],
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_against_the_freediameter_server() {
    let _one = serial().await;
    logs();
    let dir = TempDir::new("tokio-fd-client");
    let fd = FreeDiameter::start("tokio-client", &[]);
    let capture = Capture::start(&dir.0, "client.pcap", fd.port);
    // Through a relay, so that the test can cut the link.
    let relay = Relay::start(fd.addr()).await;
    let log = Log::default();
    let client = Node::builder(proxy_config())
        .connect_to(Target::new(relay.addr))
        .tap(tap(&log))
        .start_sized::<2, 64>()
        .await
        .unwrap();
    client
        .wait_open(Duration::from_secs(10))
        .await
        .expect("freeDiameter admits us");
    let peers = client.peers().await.unwrap();
    assert_eq!(peers[0].host, FD_HOST);

    flows(&client, "1").await;

    // An invalid request: freeDiameter's core answers 5005 with a
    // Failed-AVP, which reaches the caller.
    match client.request(ccr("bad-1", false)).await {
        Err(RequestError::Rejected(a)) => {
            assert_eq!(a.result_code(), Some(ResultCode(5005)));
            assert_eq!(a.failed_avps().len(), 1, "Failed-AVP surfaced");
        }
        other => panic!("{other:?}"),
    }
    // A valid one through the same door.
    let a = client.request(ccr("event-1", true)).await.unwrap();
    assert_eq!(a.result_code(), Some(ResultCode::SUCCESS));

    // Watchdogs both ways (Tw 6 s on each side).
    assert!(
        until(30, || count(&log, Direction::In, DWR) >= 1
            && count(&log, Direction::Out, DWA) >= 1
            && count(&log, Direction::Out, DWR) >= 1
            && count(&log, Direction::In, DWA) >= 1)
        .await,
        "DWR/DWA both ways: {:?}",
        commands(&log, Direction::In)
    );

    // The link fails (no DPR): we reconnect; freeDiameter puts us in REOPEN
    // and sends its DWRs at once, which we answer; our own watchdog
    // re-opens the peer after its DWAs (RFC 3539 §3.4.1).
    let mut events = client.events();
    let dwr_in = count(&log, Direction::In, DWR);
    let dwa_out = count(&log, Direction::Out, DWA);
    relay.cut();
    let mut went_down = false;
    let mut came_back = false;
    let end = tokio::time::Instant::now() + Duration::from_secs(60);
    while !came_back {
        match tokio::time::timeout_at(end, events.recv()).await {
            Ok(Ok(NodeEvent::PeerDown { reason, .. })) => {
                assert!(!matches!(reason, DownReason::Disconnected(_)), "{reason:?}");
                went_down = true;
            }
            Ok(Ok(NodeEvent::PeerFailback { .. })) if went_down => came_back = true,
            Ok(Ok(NodeEvent::PeerUp { .. })) if went_down && open(&client).await => {
                came_back = true
            }
            Ok(Ok(_)) => {}
            other => panic!("no reconnection within 60 s: {other:?}"),
        }
    }
    assert!(wait_open(&client, 40).await, "the peer re-opens");
    assert!(
        until(20, || count(&log, Direction::In, DWR) >= dwr_in + 3
            && count(&log, Direction::Out, DWA) >= dwa_out + 3)
        .await,
        "freeDiameter's REOPEN DWRs answered: {} in, {} answered",
        count(&log, Direction::In, DWR) - dwr_in,
        count(&log, Direction::Out, DWA) - dwa_out
    );
    // Calls go on after the reconnection.
    flows(&client, "2").await;
    assert_eq!(client.stats().connects, 2);

    // DPR at the end, answered.
    client.shutdown(Duration::from_secs(5)).await;
    assert_eq!(count(&log, Direction::Out, DPR), 1);
    assert_eq!(count(&log, Direction::In, DPA), 1);

    let frames = capture.finish_and_check(true);
    assert!(frames >= 30, "{frames} Diameter frames captured");
    // What we sent dissects with no warning at all.
    let ours: Vec<Vec<u8>> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|(d, _)| *d == Direction::Out)
        .map(|(_, m)| m.clone())
        .collect();
    tshark_check(&ours, false);
    drop(fd);
}

/// A charging server admitting the peers of `localdomain`, listening on a
/// free loopback port.
async fn our_server(log: &Log) -> Node {
    let mut peer = peer_config(HOST, FD_REALM);
    peer.allow_realm(FD_REALM).unwrap();
    let config = EndpointConfig::new(peer, WallClock::new(0));
    let mut ledger = Ledger::default();
    // The probe sends no Subscription-Id: rate the empty subscriber.
    ledger.set("", 1_000_000);
    Node::builder(config)
        .credit_control(CcServerConfig::new(), Shared::new(ledger))
        .accounting(
            AccountingServerConfig::new(),
            Shared::new(Records::default()),
        )
        .listen("127.0.0.1:0".parse().unwrap())
        .tap(tap(log))
        .start_sized::<4, 64>()
        .await
        .unwrap()
}

fn port(node: &Node) -> u16 {
    let a: SocketAddr = node.local_addrs()[0];
    a.port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freediameter_as_a_client_of_our_server() {
    let _one = serial().await;
    logs();
    let dir = TempDir::new("tokio-fd-server");
    let log = Log::default();
    let server = our_server(&log).await;
    let mut events = server.events();
    let capture = Capture::start(&dir.0, "server.pcap", port(&server));
    let mut fd = FreeDiameter::start(
        "tokio-server",
        &[("FD_CONNECT", format!("{HOST}@{}", port(&server)))],
    );
    let up = loop {
        match tokio::time::timeout(Duration::from_secs(30), events.recv()).await {
            Ok(Ok(NodeEvent::PeerUp { host, .. })) => break host,
            Ok(Ok(_)) => {}
            other => panic!("freeDiameter's CER not accepted: {other:?}"),
        }
    };
    assert_eq!(up, FD_HOST);
    assert!(
        until(30, || count(&log, Direction::In, DWR) >= 1
            && count(&log, Direction::Out, DWA) >= 1)
        .await,
        "freeDiameter's DWR answered"
    );
    assert!(
        until(30, || count(&log, Direction::Out, DWR) >= 1
            && count(&log, Direction::In, DWA) >= 1)
        .await,
        "our DWR answered"
    );
    // Stopping freeDiameter makes it send DPR, which we answer.
    tokio::task::spawn_blocking(move || {
        fd.stop();
        fd
    })
    .await
    .map(|fd| {
        let said = fd.log();
        assert!(
            said.lines()
                .any(|l| l.contains(HOST) && l.contains("STATE_OPEN")),
            "freeDiameter's log shows no OPEN peer:\n{said}"
        );
    })
    .unwrap();
    assert!(
        until(10, || count(&log, Direction::In, DPR) == 1
            && count(&log, Direction::Out, DPA) == 1)
        .await,
        "DPR answered: {:?}",
        commands(&log, Direction::In)
    );
    let frames = capture.finish_and_check(false);
    assert!(frames >= 6, "{frames} frames");
    server.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_probe_passes_against_our_server() {
    let _one = serial().await;
    logs();
    let dir = TempDir::new("tokio-probe");
    let log = Log::default();
    let server = our_server(&log).await;
    let capture = Capture::start(&dir.0, "probe.pcap", port(&server));
    let hex = dir.join("hex");
    let p = port(&server);
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .arg(diameter_sim::peers::peers_dir().join("diameter_probe.py"))
            .args(["--port", &p.to_string()])
            .args(["--steps", "cer,dwr,ccr,ccre,ccrbad,acr,dpr"])
            .args(["--origin-host", "probe.localdomain"])
            .args(["--dest-realm", FD_REALM])
            .arg("--hexdir")
            .arg(&hex)
            .output()
            .expect("python3")
    })
    .await
    .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.contains("PASS"),
        "probe failed:\n{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every message of the conversation, as the probe saw it, dissects.
    let mut files: Vec<_> = std::fs::read_dir(dir.join("hex"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let messages: Vec<Vec<u8>> = files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let hex: String = text.chars().filter(|c| c.is_ascii_hexdigit()).collect();
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect()
        })
        .collect();
    assert!(messages.len() >= 14, "{} messages", messages.len());
    // The answer to `ccrbad` carries a Failed-AVP: tshark warns on it.
    tshark_check(&messages, true);
    capture.finish_and_check(true);
    server.shutdown(Duration::from_secs(2)).await;
}
