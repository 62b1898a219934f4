//! Regression tests for peer-machine conformance items (issue 9): an
//! error answer to a huge malformed request still fits the transmit buffer
//! (9.18), and duplicate detection covers a time window, not only the last
//! `P` requests (9.19).

use diameter_core::dict::base::{self, AccountingRecordType};
use diameter_core::peer::{App, Event, Incoming, LocalIdentity, Peer, PeerConfig, Role};
use diameter_core::time::Instant;
use diameter_core::{ApplicationId, AvpFlags, CommandCode, HeaderRepr, Message, MessageBuilder};

fn config(host: &str) -> PeerConfig {
    let me = LocalIdentity::new(host, "example.org")
        .and_then(|l| l.with_application(App::acct(3)))
        .unwrap();
    PeerConfig::new(me, 1_764_720_000)
}

/// An open responder (the machine under test) and its initiator.
fn open_pair() -> (Peer<8>, Peer<8>) {
    let t = Instant::ZERO;
    let mut i: Peer<8> = Peer::new(config("client.example.org"), Role::Initiator, t);
    let mut r: Peer<8> = Peer::new(config("server.example.org"), Role::Responder, t);
    i.start(t);
    i.handle_connected(t);
    r.handle_connected(t);
    let cer = i.transmit().to_vec();
    i.transmitted(cer.len());
    let _ = r.handle_message(t, &cer, &base::Base);
    let cea = r.transmit().to_vec();
    r.transmitted(cea.len());
    let _ = i.handle_message(t, &cea, &base::Base);
    while i.poll_event(t).is_some() {}
    while r.poll_event(t).is_some() {}
    assert!(i.is_open() && r.is_open());
    (i, r)
}

fn acr(session: &str, e2e: u32, retransmit: bool, extra: Option<&[u8]>) -> Vec<u8> {
    let mut buf = vec![0u8; 8192];
    let mut h = HeaderRepr::request(
        CommandCode::ACCOUNTING,
        ApplicationId::BASE_ACCOUNTING,
        1,
        e2e,
    )
    .proxiable(true);
    if retransmit {
        h.flags = h.flags | diameter_core::CommandFlags::RETRANSMIT;
    }
    let mut b = MessageBuilder::new(&mut buf, h);
    b.put(&base::SESSION_ID, session)
        .put(&base::ORIGIN_HOST, "client.example.org")
        .put(&base::ORIGIN_REALM, "example.org")
        .put(&base::DESTINATION_REALM, "example.org")
        .put(
            &base::ACCOUNTING_RECORD_TYPE,
            AccountingRecordType::EventRecord,
        )
        .put(&base::ACCOUNTING_RECORD_NUMBER, 0);
    if let Some(x) = extra {
        // User-Name (UTF8String) with bytes that are not UTF-8: 5004.
        b.put_raw(1, None, AvpFlags::MANDATORY, x);
    }
    b.finish().unwrap().to_vec()
}

#[test]
fn an_error_answer_to_a_huge_bad_request_fits_and_the_connection_stays() {
    let (_i, mut r) = open_pair();
    let t = Instant::from_secs(1);
    let junk = vec![0xffu8; 5 * 1024];
    let req = acr("big;1", 7, false, Some(&junk));
    match r.handle_message(t, &req, &base::Base) {
        Incoming::Rejected(e) => assert_eq!(e.result_code().get(), 5004),
        other => panic!("{other:?}"),
    }
    assert!(r.is_open(), "the connection must stay open");
    let events: Vec<Event> = std::iter::from_fn(|| r.poll_event(t)).collect();
    assert!(events.is_empty(), "{events:?}");
    let ans = r.transmit().to_vec();
    assert!(ans.len() < 1024, "answer of {} bytes", ans.len());
    let m = Message::parse_with(&ans, &base::Base).unwrap();
    assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(5004));
    let failed = m.get(&base::FAILED_AVP).unwrap().unwrap();
    let inner = failed.iter().next().unwrap().unwrap();
    assert_eq!(inner.code(), 1);
    assert!(inner.data().len() <= diameter_core::answer::MAX_FAILED_AVP_ECHO);
}

#[test]
fn a_retransmission_after_many_requests_is_still_a_duplicate() {
    let (_i, mut r) = open_pair();
    // The first request, then 100 others (more than the pending capacity
    // of 8), all within a few seconds.
    let first = acr("dup;1", 1000, false, None);
    assert!(matches!(
        r.handle_message(Instant::from_secs(1), &first, &base::Base),
        Incoming::Request {
            duplicate: false,
            ..
        }
    ));
    for k in 0..100u32 {
        let other = acr(&format!("other;{k}"), 2000 + k, false, None);
        let _ = r.handle_message(Instant::from_secs(2), &other, &base::Base);
    }
    // Its retransmission 5 s later (T flag, same End-to-End id).
    let again = acr("dup;1", 1000, true, None);
    assert!(matches!(
        r.handle_message(Instant::from_secs(6), &again, &base::Base),
        Incoming::Request {
            duplicate: true,
            ..
        }
    ));
    // After the window (60 s) it is forgotten.
    let late = acr("dup;1", 1000, true, None);
    assert!(matches!(
        r.handle_message(Instant::from_secs(200), &late, &base::Base),
        Incoming::Request {
            duplicate: false,
            ..
        }
    ));
}
