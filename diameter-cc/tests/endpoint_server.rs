//! The server side of the endpoint: requests are routed by Session-Id to
//! the session that owns it, or to a new server session of the kind the
//! node serves; RAR/ASR/CCR-U naming no session get 5002, a full table
//! 3004 without evicting a live session, and requests of an application
//! the node does not serve go to the application.

use std::time::Duration;

use diameter_cc::client::accounting::{AccountingEvent, CallInfo};
use diameter_cc::client::prepaid::{DenyReason, PrepaidEvent, TerminateReason};
use diameter_cc::dict::CcRequestType;
use diameter_cc::endpoint::{Event, Session, SessionEvent, SessionHandle};
use diameter_cc::msg::{Cca, CcrRepr, RarRepr};
use diameter_cc::session::{session_id_from, Route};
use diameter_cc::CreditControl;
use diameter_core::dict::base::{self, TerminationCause};
use diameter_core::peer::Role;
use diameter_core::time::Instant;
use diameter_core::{ApplicationId, Message, ResultCode};
use diameter_sim::fixtures::{self, Client, Server};
use diameter_sim::{Net, NodeId, Unhandled};

type C = Client<2, 4>;
type S = Server<2, 2>;

fn pair() -> (Net, NodeId, NodeId) {
    let mut net = Net::new(5);
    let mut ledger = fixtures::ledger();
    for caller in ["2000", "2001", "2002"] {
        ledger.set(caller, 3600);
    }
    let server = net.add(fixtures::server::<2, 2>(ledger));
    let client = net.add(fixtures::client::<2, 4>());
    let peer = net
        .node::<C>(client)
        .add_peer(Role::Initiator, None)
        .unwrap();
    net.route(client, peer, server);
    let now = net.now();
    net.node::<C>(client).start(now);
    net.run_for(Duration::from_millis(10));
    (net, client, server)
}

fn events(net: &Net, node: NodeId, h: SessionHandle) -> Vec<SessionEvent> {
    net.events_of(node)
        .filter_map(|e| match e {
            Event::Session { session, event } if *session == h => Some(*event),
            _ => None,
        })
        .collect()
}

fn result_of(bytes: &[u8]) -> Option<u32> {
    let m = Message::parse_with(bytes, &CreditControl).ok()?;
    m.get(&base::RESULT_CODE).ok().flatten()
}

fn answers_to(net: &Net, node: NodeId, token: u64) -> Vec<Vec<u8>> {
    net.unhandled
        .iter()
        .filter_map(|(_, n, _, u)| match u {
            Unhandled::Answer { token: t, bytes } if *n == node && *t == token => {
                Some(bytes.clone())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn rar_for_an_unknown_session_gets_5002() {
    let (mut net, client, server) = pair();
    let mut buf = [0u8; 512];
    let rar = RarRepr::new(
        "no-such-session",
        fixtures::SERVER,
        fixtures::REALM,
        fixtures::REALM,
        fixtures::CLIENT,
    );
    let len = rar.encode(RarRepr::header(0, 0), &mut buf).unwrap().len();
    let route = Route {
        application: ApplicationId::CREDIT_CONTROL,
        realm: fixtures::REALM,
        host: Some(fixtures::CLIENT),
        host_only: false,
    };
    let now = net.now();
    let deadline = now + Duration::from_secs(5);
    let p = net
        .node::<S>(server)
        .send_request(now, &route, &mut buf[..len], 7, deadline)
        .unwrap();
    // The application encoded the request itself: the transport writes it
    // to the peer the endpoint chose.
    net.write(server, p, &buf[..len]);
    net.run_for(Duration::from_millis(10));
    let answers = answers_to(&net, server, 7);
    assert_eq!(answers.len(), 1);
    assert_eq!(result_of(&answers[0]), Some(5002));
    assert_eq!(net.node::<C>(client).stats().unknown_sessions, 1);
}

#[test]
fn ccr_update_for_an_unknown_session_gets_5002() {
    let (mut net, client, server) = pair();
    let mut buf = [0u8; 512];
    let ccr = CcrRepr::new(
        "never-started",
        fixtures::CLIENT,
        fixtures::REALM,
        fixtures::REALM,
        fixtures::CONTEXT,
        CcRequestType::Update,
        1,
    );
    let len = ccr.encode(CcrRepr::header(0, 0), &mut buf).unwrap().len();
    let cc = ApplicationId::CREDIT_CONTROL;
    let answer = exchange(&mut net, client, cc, &mut buf[..len], 9);
    let m = Message::parse_with(&answer, &CreditControl).unwrap();
    let cca = Cca::decode(&m).unwrap();
    assert_eq!(cca.result_code, ResultCode::UNKNOWN_SESSION_ID);
    assert!(!cca.is_protocol_error());
    assert_eq!(cca.cc_request_type, Some(CcRequestType::Update));
    assert_eq!(net.node::<S>(server).stats().unknown_sessions, 1);
}

#[test]
fn a_full_table_answers_3004_and_keeps_its_live_sessions() {
    let (mut net, client, server) = pair();
    let now = net.now();
    let mut calls = Vec::new();
    for i in 0..3 {
        let h = net
            .node::<C>(client)
            .open_prepaid(
                now,
                &format!("full-{i}"),
                fixtures::parties_of(&format!("200{i}"), "1002"),
            )
            .unwrap();
        net.node::<C>(client).call_setup(now, h).unwrap();
        net.run_for(Duration::from_millis(10));
        calls.push(h);
    }
    assert_eq!(
        events(&net, client, calls[2]),
        [
            SessionEvent::Prepaid(PrepaidEvent::Denied(DenyReason::Result(
                ResultCode::TOO_BUSY
            ))),
            SessionEvent::Prepaid(PrepaidEvent::Finished),
            SessionEvent::Closed
        ]
    );
    assert_eq!(net.node::<S>(server).stats().busy, 1);
    assert_eq!(net.node::<S>(server).session_count(), 2);
    // The two live calls end normally and are charged.
    let now = net.now();
    for &h in &calls[..2] {
        net.node::<C>(client).call_answered(now, h).unwrap();
    }
    net.run_for(Duration::from_secs(10));
    let now = net.now();
    for &h in &calls[..2] {
        net.node::<C>(client)
            .call_ended(now, h, TerminationCause::Logout)
            .unwrap();
    }
    net.run_for(Duration::from_secs(1));
    let ledger = net
        .node::<S>(server)
        .credit_control_server()
        .unwrap()
        .rating()
        .clone();
    assert_eq!(ledger.debited("full-0"), 10);
    assert_eq!(ledger.debited("full-1"), 10);
    assert_eq!(ledger.debited("full-2"), 0);
}

#[test]
fn a_full_table_delays_an_accounting_start_without_losing_it() {
    let (mut net, client, server) = pair();
    let now = net.now();
    // Two prepaid calls hold the server's two slots.
    for i in 0..2 {
        let h = net
            .node::<C>(client)
            .open_prepaid(
                now,
                &format!("hold-{i}"),
                fixtures::parties_of(&format!("200{i}"), "1002"),
            )
            .unwrap();
        net.node::<C>(client).call_setup(now, h).unwrap();
    }
    net.run_for(Duration::from_millis(10));
    let info = CallInfo::new(session_id_from("acct-1").unwrap());
    let acct = net.node::<C>(client).open_accounting(now, info).unwrap();
    let now = net.now();
    net.node::<C>(client).call_answered(now, acct).unwrap();
    net.run_for(Duration::from_secs(1));
    assert!(net.node::<S>(server).stats().busy >= 1);
    assert!(!events(&net, client, acct).iter().any(|e| matches!(
        e,
        SessionEvent::Accounting(AccountingEvent::RecordAcknowledged { .. })
    )));
    // A slot frees up (a call ends and its duplicate window passes): the
    // START retried every 5 s is stored.
    let held = net.node::<C>(client).find_session("hold-0").unwrap();
    let now = net.now();
    net.node::<C>(client)
        .call_ended(now, held, TerminationCause::Logout)
        .unwrap();
    net.run_for(Duration::from_secs(70));
    assert!(events(&net, client, acct).iter().any(|e| matches!(
        e,
        SessionEvent::Accounting(AccountingEvent::RecordAcknowledged { number: 0, .. })
    )));
    let stored = net
        .node::<S>(server)
        .accounting_server()
        .unwrap()
        .sink()
        .stored
        .clone();
    assert_eq!(stored.len(), 1);
}

#[test]
fn asr_from_the_server_application_ends_the_call_and_the_ccr_t_follows() {
    let (mut net, client, server) = pair();
    let now = net.now();
    let call = net
        .node::<C>(client)
        .open_prepaid(now, "asr-1", fixtures::parties())
        .unwrap();
    net.node::<C>(client).call_setup(now, call).unwrap();
    net.run_for(Duration::from_millis(10));
    let now = net.now();
    net.node::<C>(client).call_answered(now, call).unwrap();
    net.run_for(Duration::from_secs(20));
    let srv = net.node::<S>(server).find_session("asr-1").unwrap();
    let now = net.now();
    assert!(net.node::<S>(server).abort_session(now, srv).unwrap());
    net.run_for(Duration::from_secs(1));
    let ev = events(&net, client, call);
    assert!(
        ev.contains(&SessionEvent::Prepaid(PrepaidEvent::TerminateCall(
            TerminateReason::Aborted
        )))
    );
    assert!(ev.ends_with(&[
        SessionEvent::Prepaid(PrepaidEvent::Finished),
        SessionEvent::Closed
    ]));
    let ledger = net
        .node::<S>(server)
        .credit_control_server()
        .unwrap()
        .rating()
        .clone();
    assert_eq!(ledger.debited("asr-1"), 20);
    match net.node::<S>(server).session(srv) {
        Some(Session::CreditControlServer(s)) => assert!(!s.is_open()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rar_from_the_server_application_gets_a_ccr_update() {
    let (mut net, client, server) = pair();
    let now = net.now();
    let call = net
        .node::<C>(client)
        .open_prepaid(now, "rar-1", fixtures::parties())
        .unwrap();
    net.node::<C>(client).call_setup(now, call).unwrap();
    net.run_for(Duration::from_millis(10));
    let now = net.now();
    net.node::<C>(client).call_answered(now, call).unwrap();
    net.run_for(Duration::from_secs(5));
    let before = net.frames.len();
    let srv = net.node::<S>(server).find_session("rar-1").unwrap();
    let now = net.now();
    assert!(net.node::<S>(server).reauthorize(now, srv).unwrap());
    net.run_for(Duration::from_secs(1));
    let kinds: Vec<_> = net.frames[before..]
        .iter()
        .filter_map(|f| {
            let m = Message::parse_with(&f.bytes, &CreditControl).ok()?;
            Some((m.command_code().0, m.is_request(), result_of(&f.bytes)))
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (258, true, None),
            (258, false, Some(2002)),
            (272, true, None),
            (272, false, Some(2001))
        ]
    );
    assert!(
        events(&net, client, call).contains(&SessionEvent::Prepaid(PrepaidEvent::Regranted {
            seconds: 3600 - 5
        }))
    );
}

#[test]
fn a_request_of_an_application_not_served_goes_to_the_application() {
    // The client serves no credit control: a CCR it receives is handed over.
    let (mut net, client, server) = pair();
    let mut buf = [0u8; 512];
    let ccr = CcrRepr::new(
        "to-the-proxy",
        fixtures::SERVER,
        fixtures::REALM,
        fixtures::REALM,
        fixtures::CONTEXT,
        CcRequestType::Event,
        0,
    );
    let len = ccr.encode(CcrRepr::header(0, 0), &mut buf).unwrap().len();
    let route = Route {
        application: ApplicationId::CREDIT_CONTROL,
        realm: fixtures::REALM,
        host: Some(fixtures::CLIENT),
        host_only: true,
    };
    let now = net.now();
    let p = net
        .node::<S>(server)
        .send_request(now, &route, &mut buf[..len], 11, Instant::from_secs(100))
        .unwrap();
    net.write(server, p, &buf[..len]);
    net.run_for(Duration::from_millis(10));
    let handed: Vec<_> = net
        .unhandled
        .iter()
        .filter(|(_, n, _, u)| *n == client && matches!(u, Unhandled::Request { .. }))
        .collect();
    assert_eq!(handed.len(), 1);
}

/// Found by the property test: a CCR-Event whose answers are lost for
/// longer than the duplicate window is resent (T flag, TERMINATE_OR_BUFFER)
/// and must not be charged again (RFC 8506 §6.5).
#[test]
fn a_postpaid_event_resent_after_a_minute_is_charged_once() {
    let (mut net, client, server) = pair();
    let now = net.now();
    let call = net
        .node::<C>(client)
        .open_postpaid(now, "pp-1", fixtures::parties())
        .unwrap();
    net.node::<C>(client).call_answered(now, call).unwrap();
    net.run_for(Duration::from_secs(41));
    // Every CCA from the server is lost for the next 3 minutes.
    let until = net.now() + Duration::from_secs(180);
    net.set_filter(move |f| {
        let cca = Message::parse_with(&f.bytes, &CreditControl).is_ok_and(|m| {
            m.command_code() == diameter_core::CommandCode::CREDIT_CONTROL && !m.is_request()
        });
        if cca && f.sent < until {
            diameter_sim::Verdict::Drop
        } else {
            diameter_sim::Verdict::Deliver
        }
    });
    let now = net.now();
    net.node::<C>(client)
        .call_ended(now, call, TerminationCause::Logout)
        .unwrap();
    net.run_for(Duration::from_secs(300));
    let ev = events(&net, client, call);
    assert!(ev.contains(&SessionEvent::Postpaid(
        diameter_cc::client::postpaid::PostpaidEvent::Buffered
    )));
    assert!(ev.ends_with(&[
        SessionEvent::Postpaid(diameter_cc::client::postpaid::PostpaidEvent::Charged(
            ResultCode::SUCCESS
        )),
        SessionEvent::Postpaid(diameter_cc::client::postpaid::PostpaidEvent::Finished),
        SessionEvent::Closed
    ]));
    let ledger = net
        .node::<S>(server)
        .credit_control_server()
        .unwrap()
        .rating()
        .clone();
    let attempts = ledger.debits.iter().filter(|d| d.0 == "pp-1").count();
    assert_eq!(ledger.debited("pp-1"), 41, "{attempts} debits");
}

/// Exhaustion supervision (RFC 8506 §5.5): a client that opened a session
/// and never reports again gets an Abort-Session-Request once its grant,
/// the ringing allowance (`setup_time`, 180 s) and the grace (10 s) have
/// run out. The CCR-I here is the application's own, so no client session
/// polices the grant; the client endpoint answers the ASR 5002.
#[test]
fn a_client_that_never_reports_gets_an_asr() {
    let (mut net, client, server) = pair();
    let mut buf = [0u8; 512];
    let ccr = CcrRepr {
        requested_service_unit: Some(diameter_cc::msg::ServiceUnit::time(30)),
        subscription_ids: &[diameter_cc::msg::SubscriptionId::e164("2000")],
        ..CcrRepr::new(
            "silent-1",
            fixtures::CLIENT,
            fixtures::REALM,
            fixtures::REALM,
            fixtures::CONTEXT,
            CcRequestType::Initial,
            0,
        )
    };
    let len = ccr.encode(CcrRepr::header(0, 0), &mut buf).unwrap().len();
    send(
        &mut net,
        client,
        ApplicationId::CREDIT_CONTROL,
        &mut buf[..len],
        21,
    );
    let t0 = net.now();
    net.run_for(Duration::from_secs(300));
    let asr: Vec<_> = net
        .frames
        .iter()
        .filter(|f| {
            f.from == server
                && Message::parse_with(&f.bytes, &CreditControl).is_ok_and(|m| {
                    m.command_code() == diameter_core::CommandCode::ABORT_SESSION && m.is_request()
                })
        })
        .collect();
    assert_eq!(asr.len(), 1);
    assert_eq!(asr[0].sent.0 - t0.0, 1 + (180 + 30 + 10) * 1000);
    let answer = net
        .frames
        .iter()
        .find(|f| f.from == client && f.sent >= asr[0].sent)
        .unwrap();
    assert_eq!(result_of(&answer.bytes), Some(5002));
}

/// RFC 6733 §5.5.4: an application's own request handed back by a failed
/// connection is sent again through another peer with the T flag and the
/// End-to-End identifier of its first transmission, and is answered there.
#[test]
fn an_application_request_handed_back_goes_again_with_t_and_its_end_to_end() {
    let mut net = Net::new(9);
    let first = net.add(fixtures::server::<2, 2>(fixtures::ledger()));
    let second = net.add(fixtures::server_named::<2, 2>(
        fixtures::SERVER2,
        fixtures::ledger(),
    ));
    let client = net.add(fixtures::client::<2, 4>());
    let a = net
        .node::<C>(client)
        .add_peer(Role::Initiator, None)
        .unwrap();
    let b = net
        .node::<C>(client)
        .add_peer(Role::Initiator, None)
        .unwrap();
    net.route(client, a, first);
    net.route(client, b, second);
    let now = net.now();
    net.node::<C>(client).start(now);
    net.run_for(Duration::from_millis(10));

    let mut buf = [0u8; 512];
    let ccr = CcrRepr::new(
        "app-request-1",
        fixtures::CLIENT,
        fixtures::REALM,
        fixtures::REALM,
        fixtures::CONTEXT,
        CcRequestType::Update,
        1,
    );
    let len = ccr.encode(CcrRepr::header(0, 0), &mut buf).unwrap().len();
    let msg = Message::parse_with(&buf[..len], &CreditControl).unwrap();
    let route = Route::of_request(&msg).unwrap();
    assert_eq!(route.realm, fixtures::REALM);
    assert_eq!(route.application, ApplicationId::CREDIT_CONTROL);
    let (realm, app) = (route.realm.to_string(), route.application);
    let route = Route {
        application: app,
        realm: &realm,
        host: None,
        host_only: false,
    };
    let now = net.now();
    let deadline = now + Duration::from_secs(30);
    let p = net
        .node::<C>(client)
        .send_request(now, &route, &mut buf[..len], 21, deadline)
        .unwrap();
    assert_eq!(p, a, "the first peer in order takes it");
    let first_e2e = Message::parse_with(&buf[..len], &CreditControl)
        .unwrap()
        .end_to_end();
    // The first server never sees it: its connection fails first.
    net.kill(first);
    net.run_for(Duration::from_millis(10));
    let handed_back: Vec<_> = net
        .events_of(client)
        .filter_map(|e| match e {
            Event::Peer {
                event: diameter_core::peer::Event::RequestHandedBack { token, end_to_end },
                ..
            } => Some((*token, *end_to_end)),
            _ => None,
        })
        .collect();
    assert_eq!(handed_back, [(21, first_e2e)]);

    let now = net.now();
    let p = net
        .node::<C>(client)
        .resend_request(now, &route, &mut buf[..len], 21, first_e2e, deadline)
        .unwrap();
    assert_eq!(p, b);
    let again = Message::parse_with(&buf[..len], &CreditControl).unwrap();
    assert!(again.flags().is_retransmit(), "T flag");
    assert_eq!(again.end_to_end(), first_e2e);
    net.write(client, p, &buf[..len]);
    net.run_for(Duration::from_millis(10));
    let answers = answers_to(&net, client, 21);
    assert_eq!(answers.len(), 1, "answered once, by the second server");
    assert_eq!(result_of(&answers[0]), Some(5002));
}

/// Send `bytes` (a request of `app`, answer token `token`) from the
/// client towards the server.
fn send(net: &mut Net, client: NodeId, app: ApplicationId, bytes: &mut [u8], token: u64) {
    let route = Route {
        application: app,
        realm: fixtures::REALM,
        host: None,
        host_only: false,
    };
    let now = net.now();
    let p = net
        .node::<C>(client)
        .send_request(now, &route, bytes, token, now + Duration::from_secs(5))
        .unwrap();
    net.write(client, p, bytes);
}

/// [`send`], then the one answer 10 ms later.
fn exchange(
    net: &mut Net,
    client: NodeId,
    app: ApplicationId,
    bytes: &mut [u8],
    token: u64,
) -> Vec<u8> {
    send(net, client, app, bytes, token);
    net.run_for(Duration::from_millis(10));
    let mut answers = answers_to(net, client, token);
    assert_eq!(answers.len(), 1);
    answers.remove(0)
}

/// CCRs and ACRs for the servers of an endpoint are validated in the walk
/// that reads them (`Ccr::decode`, `Acr::decode`), not by the peer machine
/// first: an invalid one still gets its precise answer (here an unknown
/// AVP with the M bit: 5001 naming it in Failed-AVP, RFC 6733 §7.1.5), no
/// session is opened and nothing is charged or stored; a valid one after
/// it is served.
#[test]
fn invalid_requests_read_in_one_pass_get_their_precise_answer() {
    use diameter_cc::msg::AcrRepr;
    use diameter_core::dict::base::AccountingRecordType;
    use diameter_core::{AvpFlags, MessageBuilder};
    let (mut net, client, server) = pair();
    let unknown_m = |b: &mut MessageBuilder<'_>| {
        b.put_raw(99_999, None, AvpFlags::MANDATORY, &[1, 2, 3, 4]);
    };
    let failed_code = |bytes: &[u8]| {
        let m = Message::parse_with(bytes, &CreditControl).unwrap();
        let failed = m.get(&base::FAILED_AVP).unwrap().unwrap();
        failed.iter().next().unwrap().unwrap().code()
    };
    // A CCR-I with the unknown AVP.
    let mut buf = [0u8; 512];
    let mut b = MessageBuilder::new(&mut buf, CcrRepr::header(0, 0));
    CcrRepr::new(
        "bad-ccr",
        fixtures::CLIENT,
        fixtures::REALM,
        fixtures::REALM,
        fixtures::CONTEXT,
        CcRequestType::Initial,
        0,
    )
    .write(&mut b);
    unknown_m(&mut b);
    let len = b.finish().unwrap().len();
    let cc = ApplicationId::CREDIT_CONTROL;
    let answer = exchange(&mut net, client, cc, &mut buf[..len], 21);
    assert_eq!(result_of(&answer), Some(5001));
    assert_eq!(failed_code(&answer), 99_999);
    assert!(net.node::<S>(server).find_session("bad-ccr").is_none());
    // An ACR START with the unknown AVP: nothing stored, counted rejected.
    let mut b = MessageBuilder::new(&mut buf, AcrRepr::header(0, 0));
    let acr = AcrRepr::new(
        "bad-acr",
        fixtures::CLIENT,
        fixtures::REALM,
        fixtures::REALM,
        AccountingRecordType::StartRecord,
        0,
    );
    acr.write(&mut b);
    unknown_m(&mut b);
    let len = b.finish().unwrap().len();
    let acct = ApplicationId::BASE_ACCOUNTING;
    let answer = exchange(&mut net, client, acct, &mut buf[..len], 22);
    assert_eq!(result_of(&answer), Some(5001));
    assert_eq!(failed_code(&answer), 99_999);
    let srv = net.node::<S>(server).accounting_server().unwrap();
    assert!(srv.sink().stored.is_empty());
    assert_eq!(srv.stats().rejected, 1);
    // The same ACR without it is stored.
    let len = acr.encode(AcrRepr::header(0, 0), &mut buf).unwrap().len();
    let answer = exchange(&mut net, client, acct, &mut buf[..len], 23);
    assert_eq!(result_of(&answer), Some(2001));
    let srv = net.node::<S>(server).accounting_server().unwrap();
    assert_eq!(srv.sink().stored.len(), 1);
}
