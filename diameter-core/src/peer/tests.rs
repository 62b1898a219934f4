//! Unit tests of the peer machine (the integration tests in
//! `tests/peer_*.rs` drive it through every state).

use super::*;
use crate::dict::base;
use crate::encode::MessageBuilder;
use crate::framing::{Frame, Framer};
use crate::header::{ApplicationId, CommandCode, HeaderRepr};
use std::vec::Vec;

fn ident(host: &'static str) -> LocalIdentity {
    let mut l = LocalIdentity::new(host, "example.org")
        .unwrap()
        .with_product_name("test")
        .unwrap()
        .with_origin_state_id(7)
        .with_supported_vendor(10415)
        .unwrap()
        .with_application(App::auth(4))
        .unwrap()
        .with_application(App::acct(3))
        .unwrap();
    l.firmware_revision = Some(1);
    l
}

fn cfg(host: &'static str) -> PeerConfig {
    PeerConfig::new(ident(host), 1_764_720_000)
}

/// Move every transmitted message from `a` to `b`, returning what `b`
/// made of each (as owned summaries).
fn pump<const P: usize>(now: Instant, a: &mut Peer<P>, b: &mut Peer<P>) -> Vec<(u32, bool)> {
    let bytes: Vec<u8> = a.transmit().to_vec();
    a.transmitted(bytes.len());
    let mut out = Vec::new();
    let mut rest = &bytes[..];
    while let Ok(Frame::Complete(n)) = Framer::default().check(rest) {
        let (m, r) = rest.split_at(n);
        rest = r;
        let h = Header::new_checked(m).unwrap();
        out.push((h.command_code().0, h.flags().is_request()));
        let _ = b.handle_message(now, m, &base::Base);
    }
    out
}

fn events<const P: usize>(now: Instant, p: &mut Peer<P>) -> Vec<Event> {
    core::iter::from_fn(|| p.poll_event(now)).collect()
}

/// An ACR EVENT_RECORD (application 3) with End-to-End `e2e` into `buf`,
/// with or without its required Accounting-Record-Number; its length.
fn acr_event(buf: &mut [u8], e2e: u32, with_number: bool) -> usize {
    let head = HeaderRepr::request(
        CommandCode::ACCOUNTING,
        ApplicationId::BASE_ACCOUNTING,
        0,
        e2e,
    );
    let mut b = MessageBuilder::new(buf, head.proxiable(true));
    b.put(&base::SESSION_ID, "s;1")
        .put(&base::ORIGIN_HOST, "client.example.org")
        .put(&base::ORIGIN_REALM, "example.org")
        .put(&base::DESTINATION_REALM, "example.org")
        .put(
            &base::ACCOUNTING_RECORD_TYPE,
            base::AccountingRecordType::EventRecord,
        );
    if with_number {
        b.put(&base::ACCOUNTING_RECORD_NUMBER, 0);
    }
    b.finish().unwrap().len()
}

/// An initiator and a responder, connected, capabilities exchanged, their
/// events drained: both open.
fn open_pair<const P: usize>(t0: Instant) -> (Peer<P>, Peer<P>) {
    let mut i: Peer<P> = Peer::new(cfg("client.example.org"), Role::Initiator, t0);
    let mut r: Peer<P> = Peer::new(cfg("server.example.org"), Role::Responder, t0);
    i.start(t0);
    let _ = events(t0, &mut i);
    i.handle_connected(t0);
    r.handle_connected(t0);
    pump(t0, &mut i, &mut r);
    pump(t0, &mut r, &mut i);
    let _ = (events(t0, &mut i), events(t0, &mut r));
    (i, r)
}

#[test]
fn cer_cea_dwr_dpr() {
    let ci = cfg("client.example.org");
    let cr = cfg("server.example.org");
    let t0 = Instant::ZERO;
    let mut i: Peer<8> = Peer::new(ci, Role::Initiator, t0);
    let mut r: Peer<8> = Peer::new(cr, Role::Responder, t0);
    i.start(t0);
    assert_eq!(events(t0, &mut i), [Event::Connect]);
    i.handle_connected(t0);
    r.handle_connected(t0);
    assert_eq!(pump(t0, &mut i, &mut r), [(257, true)]);
    assert_eq!(events(t0, &mut r), [Event::Up]);
    assert_eq!(pump(t0, &mut r, &mut i), [(257, false)]);
    assert_eq!(events(t0, &mut i), [Event::Up]);
    assert!(i.is_open() && r.is_open());
    assert_eq!(i.peer_info().origin_host.as_str(), "server.example.org");
    assert_eq!(i.peer_info().common.len(), 2);
    // silence: DWR after ~30 s
    let t = i.poll_timeout().unwrap();
    assert!(t.0 >= 28_000 && t.0 <= 32_000);
    i.handle_timeout(t);
    assert_eq!(pump(t, &mut i, &mut r), [(280, true)]);
    assert_eq!(pump(t, &mut r, &mut i), [(280, false)]);
    // DPR from the initiator
    i.disconnect(t, base::DisconnectCause::Rebooting);
    assert_eq!(pump(t, &mut i, &mut r), [(282, true)]);
    assert_eq!(
        events(t, &mut r),
        [
            Event::PeerDisconnecting(0),
            Event::Down(DownReason::Disconnected(0)),
            Event::Close
        ]
    );
    assert_eq!(pump(t, &mut r, &mut i), [(282, false)]);
    assert_eq!(
        events(t, &mut i),
        [Event::Down(DownReason::Disconnected(0)), Event::Close]
    );
}

#[test]
fn cer_on_open_connection_gets_a_cea() {
    let ci = cfg("client.example.org");
    let cr = cfg("server.example.org");
    let t0 = Instant::ZERO;
    let mut i: Peer<8> = Peer::new(ci, Role::Initiator, t0);
    let mut r: Peer<8> = Peer::new(cr, Role::Responder, t0);
    i.start(t0);
    i.handle_connected(t0);
    r.handle_connected(t0);
    let cer = i.transmit().to_vec();
    pump(t0, &mut i, &mut r);
    pump(t0, &mut r, &mut i);
    let _ = (events(t0, &mut i), events(t0, &mut r));
    // the same CER again, on the open connection (RFC 6733 §5.6.1)
    assert_eq!(r.handle_message(t0, &cer, &base::Base), Incoming::Handled);
    let cea = r.transmit().to_vec();
    let m = Message::parse_with(&cea, &base::Base).unwrap();
    assert_eq!(m.command_code(), CommandCode::CAPABILITIES_EXCHANGE);
    assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(2001));
    assert!(r.is_open());
}

#[test]
fn requests_answers_timeouts_backpressure_handback() {
    let t0 = Instant::ZERO;
    let (mut i, mut r) = open_pair::<2>(t0);
    // an application request: an ACR on app 3
    let mut req = [0u8; 128];
    let n = acr_event(&mut req, 0, true);
    let mut r1 = req;
    let hbh = i
        .send_request(t0, &mut r1[..n], 11, Instant::from_secs(10))
        .unwrap();
    let mut r2 = req;
    i.send_request(t0, &mut r2[..n], 12, Instant::from_secs(10))
        .unwrap();
    let mut r3 = req;
    assert_eq!(
        i.send_request(t0, &mut r3[..n], 13, Instant::from_secs(10)),
        Err(SendError::Full)
    );
    // the server sees a valid request
    match r.handle_message(t0, &r1[..n], &base::Base) {
        Incoming::Request { message, duplicate } => {
            assert!(!duplicate);
            assert_eq!(message.hop_by_hop(), hbh);
            let mut ans = [0u8; 128];
            let mut b = MessageBuilder::answer_to(&mut ans, &message);
            b.put(&base::RESULT_CODE, 2001)
                .put(&base::ORIGIN_HOST, "server.example.org")
                .put(&base::ORIGIN_REALM, "example.org")
                .put(
                    &base::ACCOUNTING_RECORD_TYPE,
                    base::AccountingRecordType::EventRecord,
                )
                .put(&base::ACCOUNTING_RECORD_NUMBER, 0);
            let a = b.finish().unwrap();
            match i.handle_message(t0, a, &base::Base) {
                Incoming::Answer { token, .. } => assert_eq!(token, 11),
                other => panic!("{other:?}"),
            }
            // the same answer again matches nothing
            assert_eq!(
                i.handle_message(t0, a, &base::Base),
                Incoming::Dropped(DropReason::UnmatchedAnswer)
            );
        }
        other => panic!("{other:?}"),
    }
    // request 12 times out at the deadline its sender chose
    let r2_e2e = Header::new_checked(&r2[..n]).unwrap().end_to_end();
    let t = Instant::from_secs(10);
    i.handle_timeout(t);
    assert_eq!(
        events(t, &mut i),
        [Event::RequestTimedOut {
            token: 12,
            end_to_end: r2_e2e
        }]
    );
    // one more, then the connection drops: handed back
    let mut r4 = req;
    i.send_request(t, &mut r4[..n], 14, Instant::from_secs(20))
        .unwrap();
    i.handle_disconnected(t);
    let ev = events(t, &mut i);
    assert_eq!(ev[0], Event::Down(DownReason::TransportClosed));
    assert!(matches!(ev[1], Event::RequestHandedBack { token: 14, .. }));
    assert_eq!(i.pending_len(), 0);
}

#[test]
fn reset_is_new_in_place() {
    // A machine that went through a CER/CEA, a request and a DPR, then
    // reset, behaves byte for byte like a new one.
    let t0 = Instant::ZERO;
    let mut used: Peer<2> = Peer::new(cfg("client.example.org"), Role::Initiator, t0);
    let mut r: Peer<2> = Peer::new(cfg("server.example.org"), Role::Responder, t0);
    used.start(t0);
    used.handle_connected(t0);
    r.handle_connected(t0);
    pump(t0, &mut used, &mut r);
    pump(t0, &mut r, &mut used);
    assert!(used.is_open());
    used.disconnect(t0, base::DisconnectCause::Rebooting);
    assert!(!used.transmit().is_empty());

    let mut config = cfg("other.example.org");
    config.seed = 0x1234_5678;
    let t1 = Instant::from_secs(100);
    used.reset(&config, Role::Responder, t1);
    let mut fresh: Peer<2> = Peer::new(config.clone(), Role::Responder, t1);
    assert_eq!(used.config(), &config);
    assert_eq!(used.peer_info(), fresh.peer_info());
    assert_eq!(used.stats(), fresh.stats());
    assert_eq!(
        (
            used.state(),
            used.role(),
            used.pending_len(),
            used.watchdog_state()
        ),
        (
            fresh.state(),
            fresh.role(),
            fresh.pending_len(),
            fresh.watchdog_state()
        )
    );
    assert!(used.transmit().is_empty() && used.poll_event(t1).is_none());
    for p in [&mut used, &mut fresh] {
        p.handle_connected(t1);
    }
    let mut r2: Peer<2> = Peer::new(cfg("server.example.org"), Role::Initiator, t1);
    r2.start(t1);
    r2.handle_connected(t1);
    let cer = r2.transmit().to_vec();
    let (a, b) = (
        used.handle_message(t1, &cer, &base::Base),
        fresh.handle_message(t1, &cer, &base::Base),
    );
    assert_eq!(a, b);
    assert_eq!(used.transmit(), fresh.transmit(), "the CEA, byte for byte");
    assert_eq!(used.poll_timeout(), fresh.poll_timeout());
    assert_eq!(events(t1, &mut used), events(t1, &mut fresh));
}

/// `handle_message_one_pass`: an application request the caller reads in
/// one pass is handed over with only its header checked (valid or not),
/// others are validated as before; `reject_request` answers a failure
/// as the peer answers the requests it validates (the E bit and
/// Result-Code of the error, counted in `rejected_requests`).
#[test]
fn one_pass_requests_are_handed_over_unvalidated() {
    let t0 = Instant::ZERO;
    let (_, mut r) = open_pair::<4>(t0);
    // An ACR without Accounting-Record-Number (5005 once validated).
    let mut req = [0u8; 128];
    let n = acr_event(&mut req, 1, false);
    let acr = |c: CommandCode| c == CommandCode::ACCOUNTING;
    let error = match r.handle_message_one_pass(t0, &req[..n], &base::Base, acr) {
        Incoming::Request { message, duplicate } => {
            assert!(!message.is_validated() && !duplicate);
            message
                .validate_command(&base::ACR, &base::Base, &crate::ParseConfig::DEFAULT)
                .unwrap_err()
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(error.result_code().0, 5005);
    assert!(r.transmit().is_empty());
    r.reject_request(&req[..n], error, &base::Base);
    let answer = Message::parse_with(r.transmit(), &base::Base).unwrap();
    assert_eq!(answer.get(&base::RESULT_CODE).unwrap(), Some(5005));
    assert_eq!(answer.end_to_end(), 1);
    assert_eq!(r.stats().rejected_requests, 1);
    let len = r.transmit().len();
    r.transmitted(len);
    // Without the one-pass predicate the peer validates and answers itself.
    match r.handle_message(t0, &req[..n], &base::Base) {
        Incoming::Rejected(e) => assert_eq!(e.result_code().0, 5005),
        other => panic!("{other:?}"),
    }
    assert_eq!(r.stats().rejected_requests, 2);
}
