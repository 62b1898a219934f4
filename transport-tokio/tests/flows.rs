//! Our client against our server over loopback TCP: the SCENARIOS flows
//! (prepaid, postpaid, accounting), the application's own requests and a
//! handler, error answers surfaced to the caller, connection failures as
//! one clear error, and graceful shutdown with DPR.

mod common;

use std::time::Duration;

use common::*;
use diameter_cc::client::postpaid::PostpaidEvent;
use diameter_cc::client::prepaid::PrepaidEvent;
use diameter_cc::dict::CcRequestType;
use diameter_cc::endpoint::{EndpointConfig, SessionEvent};
use diameter_cc::session::WallClock;
use diameter_core::dict::base::{AccountingRecordType, TerminationCause};
use diameter_core::peer::DownReason;
use diameter_core::{ApplicationId, AvpFlags, ResultCode};
use diameter_sim::fixtures::{ledger, Records, Shared};
use diameter_tokio::{
    Authorization, IncomingRequest, Node, NodeEvent, RequestError, Responder, Target,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepaid_postpaid_and_accounting_flows() {
    logs();
    let ledger = Shared::new(ledger());
    let records = Shared::new(Records::default());
    let server = server("ocs.diameter.test", ledger.clone(), records.clone()).await;
    let client = client("proxy.diameter.test", server.local_addrs()).await;

    // Prepaid: CCR-I at INVITE, CCR-U at answer, CCR-T at hangup.
    let mut call = client
        .prepaid("prepaid-1@proxy", parties("1001", "1002"))
        .await
        .unwrap();
    let auth = call.start().await.unwrap();
    assert!(
        matches!(auth, Authorization::Allowed { seconds: Some(s) } if s > 0),
        "{auth:?}"
    );
    call.answered().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let events = call.hangup(TerminationCause::Logout).await.unwrap();
    assert!(
        events.contains(&SessionEvent::Prepaid(PrepaidEvent::Finished)),
        "{events:?}"
    );
    assert_eq!(events.last(), Some(&SessionEvent::Closed));
    assert!(call.next_event().await.is_none());
    // The server debited what was used, nothing stays reserved.
    {
        let l = ledger.lock();
        assert!(l.debited("prepaid-1@proxy") >= 1, "{:?}", l.debits);
        assert!(l.reserved.is_empty(), "{:?}", l.reserved);
    }

    // Postpaid: one CCR-Event at hangup, charged.
    let mut call = client
        .postpaid("postpaid-1@proxy", parties("1002", "1001"))
        .await
        .unwrap();
    assert_eq!(
        call.start().await.unwrap(),
        Authorization::Allowed { seconds: None }
    );
    call.answered().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let events = call.hangup(TerminationCause::Logout).await.unwrap();
    assert!(
        events.contains(&SessionEvent::Postpaid(PostpaidEvent::Charged(
            ResultCode::SUCCESS
        ))),
        "{events:?}"
    );
    assert_eq!(ledger.lock().debited("postpaid-1@proxy"), 1);

    // Accounting: START at answer, STOP at hangup, each acknowledged.
    let mut call = client
        .accounting(call_info("acct-1@proxy", "1001"))
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
        ]
    );
    let stored: Vec<_> = records
        .lock()
        .stored
        .iter()
        .map(|r| (r.session_id.clone(), r.record_type, r.number))
        .collect();
    assert_eq!(
        stored,
        [
            ("acct-1@proxy".into(), AccountingRecordType::StartRecord, 0),
            ("acct-1@proxy".into(), AccountingRecordType::StopRecord, 1)
        ]
    );

    let s = client.stats();
    assert_eq!(s.connects, 1);
    assert!(s.messages_out >= 7 && s.messages_in >= 7, "{s:?}");
    client.shutdown(Duration::from_secs(2)).await;
    server.shutdown(Duration::from_secs(2)).await;
}

fn ccr(session: &str, valid: bool) -> Vec<u8> {
    ccr_event(session, "proxy.diameter.test", REALM, valid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_of_the_application_and_a_handler() {
    logs();
    // A node that serves credit control through its own handler, not the
    // built-in server sessions.
    let config = EndpointConfig::new(peer_config("app.diameter.test", REALM), WallClock::new(0));
    let server = Node::builder(config)
        .handler(
            ApplicationId::CREDIT_CONTROL,
            |req: IncomingRequest, res: Responder| {
                let m = req.message().unwrap();
                let sid = m.session_id().unwrap_or("").to_owned();
                // Answer from a task, as a handler that does real work would.
                tokio::spawn(async move {
                    let rc = if sid.starts_with("refuse") {
                        ResultCode(5030)
                    } else {
                        ResultCode::SUCCESS
                    };
                    // The CCA grammar wants Auth-Application-Id and the
                    // request's CC-Request-Type and -Number (RFC 8506 §3.2).
                    let sent = res.answer_with(rc, |b| {
                        b.put(&diameter_core::dict::base::AUTH_APPLICATION_ID, 4)
                            .put(&diameter_cc::dict::CC_REQUEST_TYPE, CcRequestType::Event)
                            .put(&diameter_cc::dict::CC_REQUEST_NUMBER, 0);
                        if sid.starts_with("huge") {
                            // More than a node sends: 5012 instead.
                            b.put_raw(99_999, None, AvpFlags::NONE, &[7u8; 70_000]);
                        }
                        if sid.starts_with("large") {
                            // An answer far larger than a small device's
                            // 4 KiB transmit buffer (an AVP of no
                            // dictionary, M bit clear).
                            b.put_raw(99_999, None, AvpFlags::NONE, &[7u8; 20_000]);
                        }
                    });
                    // Only the huge answer does not fit (the responder,
                    // dropped, answers 5012).
                    assert_eq!(sent.is_err(), sid.starts_with("huge"), "{sent:?}");
                });
            },
        )
        .listen("127.0.0.1:0".parse().unwrap())
        .start_sized::<4, 64>()
        .await
        .unwrap();
    let client = client("proxy.diameter.test", server.local_addrs()).await;

    // Many in flight on one connection, matched by identifiers.
    let mut tasks = Vec::new();
    for i in 0..200 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            c.request(ccr(&format!("event-{i}"), true)).await
        }));
    }
    for t in tasks {
        let a = t.await.unwrap().expect("answered");
        assert_eq!(a.result_code(), Some(ResultCode::SUCCESS));
    }
    // An answer of 20 KB.
    let a = client.request(ccr("large-1", true)).await.unwrap();
    assert!(a.bytes().len() > 20_000, "{}", a.bytes().len());
    match client.request(ccr("huge-1", true)).await {
        Err(RequestError::Rejected(a)) => {
            assert_eq!(a.result_code(), Some(ResultCode::UNABLE_TO_COMPLY))
        }
        other => panic!("{other:?}"),
    }
    // A failure answer comes back as Rejected, with the answer.
    match client.request(ccr("refuse-1", true)).await {
        Err(RequestError::Rejected(a)) => assert_eq!(a.result_code(), Some(ResultCode(5030))),
        other => panic!("{other:?}"),
    }
    assert_eq!(client.stats().answers_by_result_code[&2001], 201);
    assert_eq!(server.stats().handled_requests, 203);

    // A request the peer machine finds invalid (CCR without
    // Service-Context-Id) is answered 5005 with Failed-AVP, surfaced.
    match client.request(ccr("bad-1", false)).await {
        Err(e @ RequestError::Rejected(_)) => {
            let RequestError::Rejected(a) = &e else {
                unreachable!()
            };
            assert_eq!(a.result_code(), Some(ResultCode(5005)));
            let failed = a.failed_avps();
            assert_eq!(failed.len(), 1);
            assert_eq!(failed[0].code(), 461, "Service-Context-Id");
            assert!(e.to_string().contains("5005"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    // Not a routable request: no Destination-Realm.
    let mut dwr = diameter_core::doc_example().to_vec();
    dwr.truncate(80);
    assert!(matches!(
        client.request(dwr).await,
        Err(RequestError::Invalid(_))
    ));
    client.shutdown(Duration::from_secs(2)).await;
    server.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_failures_say_why_in_one_line() {
    logs();
    // Nobody listens: a socket bound but never listening keeps the port
    // ours (no parallel test can take it) and refuses connections.
    let bound = tokio::net::TcpSocket::new_v4().unwrap();
    bound.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let dead = bound.local_addr().unwrap();
    let node = Node::builder(client_config("proxy.diameter.test", REALM))
        .connect_to(Target::new(dead))
        .start_sized::<2, 16>()
        .await
        .unwrap();
    let e = node.wait_open(Duration::from_secs(5)).await.unwrap_err();
    let line = e.to_string();
    assert!(line.contains("refused"), "{line}");
    assert!(!line.contains('\n'));

    // A server that does not admit us: CEA 3010.
    let mut p = peer_config("ocs.diameter.test", REALM);
    p.allow_host("*.elsewhere.test").unwrap();
    let server = Node::builder(EndpointConfig::new(p, WallClock::new(0)))
        .credit_control(
            diameter_cc::server::credit_control::CcServerConfig::new(),
            Shared::new(ledger()),
        )
        .listen("127.0.0.1:0".parse().unwrap())
        .start_sized::<4, 16>()
        .await
        .unwrap();
    let node = Node::builder(client_config("proxy.diameter.test", REALM))
        .connect_to(Target::new(server.local_addrs()[0]))
        .start_sized::<2, 16>()
        .await
        .unwrap();
    let e = node.wait_open(Duration::from_secs(5)).await.unwrap_err();
    assert!(e.to_string().contains("3010"), "{e}");
    node.shutdown(Duration::from_secs(1)).await;
    server.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_sends_dpr_and_the_peer_sees_it() {
    logs();
    let server = server(
        "ocs.diameter.test",
        Shared::new(ledger()),
        Shared::new(Records::default()),
    )
    .await;
    let mut events = server.events();
    let client = client("proxy.diameter.test", server.local_addrs()).await;
    let t = std::time::Instant::now();
    client.shutdown(Duration::from_secs(3)).await;
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "DPA came, no need to wait the grace"
    );
    let down = loop {
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(Ok(NodeEvent::PeerDown { reason, .. })) => break reason,
            Ok(Ok(_)) => continue,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(down, DownReason::Disconnected(0), "REBOOTING");
    // Requests after shutdown fail at once.
    assert!(matches!(
        client.request(ccr("late", true)).await,
        Err(RequestError::Shutdown)
    ));
    server.shutdown(Duration::from_secs(1)).await;
}
