//! One owner per timer: a session decides the deadline of each request's
//! answer and the peer's pending table holds it, so a late CCA under
//! CONTINUE reaches its session (RFC 8506 §5.7), and one after the
//! late-answer deadline is dropped and counted.

use std::time::Duration;

use diameter_cc::client::prepaid::{PrepaidEvent, PrepaidState, LATE_ANSWER_FACTOR};
use diameter_cc::dict::CreditControlFailureHandling;
use diameter_cc::endpoint::{Event, Session, SessionEvent, SessionHandle};
use diameter_cc::CreditControl;
use diameter_core::dict::base::TerminationCause;
use diameter_core::peer::Role;
use diameter_core::{CommandCode, Message};
use diameter_sim::fixtures::{self, Client, Server};
use diameter_sim::{Net, NodeId, Verdict};

type C = Client<2, 16>;
type S = Server<2, 16>;

fn pair(ccfh: CreditControlFailureHandling) -> (Net, NodeId, NodeId) {
    let mut config = fixtures::client_config();
    if let Some(p) = config.prepaid.as_mut() {
        p.failure_handling = ccfh;
    }
    let mut net = Net::new(3);
    let server = net.add(fixtures::server::<2, 16>(fixtures::ledger()));
    let client = net.add(fixtures::client_with::<2, 16>(config));
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

/// Hold the first CCA (of any kind) back by `delay`.
fn delay_first_cca(net: &mut Net, delay: Duration) {
    let mut done = false;
    net.set_filter(move |f| {
        let cca = Message::parse_with(&f.bytes, &CreditControl)
            .is_ok_and(|m| m.command_code() == CommandCode::CREDIT_CONTROL && !m.is_request());
        if cca && !done {
            done = true;
            return Verdict::Delay(delay);
        }
        Verdict::Deliver
    });
}

fn events(net: &Net, node: NodeId, h: SessionHandle) -> Vec<SessionEvent> {
    net.events_of(node)
        .filter_map(|e| match e {
            Event::Session { session, event } if *session == h => Some(*event),
            _ => None,
        })
        .collect()
}

#[test]
fn late_cca_under_continue_is_applied_to_its_session() {
    let (mut net, client, _server) = pair(CreditControlFailureHandling::Continue);
    delay_first_cca(&mut net, Duration::from_secs(30));
    let now = net.now();
    let call = net
        .node::<C>(client)
        .open_prepaid(now, "late-1", fixtures::parties())
        .unwrap();
    net.node::<C>(client).call_setup(now, call).unwrap();
    // Tx (10 s) expires: CONTINUE grants the call without a limit.
    net.run_for(Duration::from_secs(11));
    assert_eq!(
        events(&net, client, call),
        [SessionEvent::Prepaid(PrepaidEvent::Allowed {
            seconds: None
        })]
    );
    // The CCA arrives 30 s late, well before the late-answer deadline
    // (LATE_ANSWER_FACTOR x Tx = 120 s): the session takes its grant.
    net.run_for(Duration::from_secs(25));
    assert_eq!(
        events(&net, client, call),
        [
            SessionEvent::Prepaid(PrepaidEvent::Allowed { seconds: None }),
            SessionEvent::Prepaid(PrepaidEvent::Allowed {
                seconds: Some(3600)
            })
        ]
    );
    match net.node::<C>(client).session(call) {
        Some(Session::Prepaid(p)) => assert_eq!(p.state(), PrepaidState::Open),
        other => panic!("{other:?}"),
    }
    assert_eq!(net.node::<C>(client).stats().unmatched_answers, 0);
    // and the call ends normally, charged.
    let now = net.now();
    net.node::<C>(client).call_answered(now, call).unwrap();
    net.run_for(Duration::from_secs(20));
    let now = net.now();
    net.node::<C>(client)
        .call_ended(now, call, TerminationCause::Logout)
        .unwrap();
    net.run_for(Duration::from_secs(1));
    assert!(events(&net, client, call).ends_with(&[
        SessionEvent::Prepaid(PrepaidEvent::Finished),
        SessionEvent::Closed
    ]));
}

#[test]
fn cca_after_the_late_answer_deadline_is_dropped_and_counted() {
    let (mut net, client, server) = pair(CreditControlFailureHandling::Continue);
    let late = Duration::from_secs(10) * (LATE_ANSWER_FACTOR + 1);
    delay_first_cca(&mut net, late);
    let now = net.now();
    let call = net
        .node::<C>(client)
        .open_prepaid(now, "late-2", fixtures::parties())
        .unwrap();
    net.node::<C>(client).call_setup(now, call).unwrap();
    net.run_for(late + Duration::from_secs(5));
    // Tx granted the call; at the request's deadline the CCR-I failed and
    // CONTINUE goes on without credit control (RFC 8506 Table 3).
    assert_eq!(
        events(&net, client, call),
        [
            SessionEvent::Prepaid(PrepaidEvent::Allowed { seconds: None }),
            SessionEvent::Prepaid(PrepaidEvent::Finished),
            SessionEvent::Closed
        ]
    );
    assert_eq!(net.node::<C>(client).stats().unmatched_answers, 1);
    // The server granted and holds a reservation for a client that gave up:
    // Tcc gives it back.
    net.run_for(Duration::from_secs(3600 * 3));
    let ledger = net
        .node::<S>(server)
        .credit_control_server()
        .unwrap()
        .rating()
        .clone();
    assert!(ledger.reserved.is_empty());
    assert_eq!(ledger.debited("late-2"), 0);
}

#[test]
fn under_terminate_the_deadline_is_tx_and_the_call_is_denied() {
    let (mut net, client, _server) = pair(CreditControlFailureHandling::Terminate);
    delay_first_cca(&mut net, Duration::from_secs(30));
    let now = net.now();
    let call = net
        .node::<C>(client)
        .open_prepaid(now, "late-3", fixtures::parties())
        .unwrap();
    net.node::<C>(client).call_setup(now, call).unwrap();
    net.run_for(Duration::from_secs(40));
    assert_eq!(
        events(&net, client, call),
        [
            SessionEvent::Prepaid(PrepaidEvent::Denied(
                diameter_cc::client::prepaid::DenyReason::Timeout
            )),
            SessionEvent::Prepaid(PrepaidEvent::Finished),
            SessionEvent::Closed
        ]
    );
    assert_eq!(net.node::<C>(client).stats().unmatched_answers, 1);
}

/// Issue 9.17, RFC 6733 §9.8.2: "the client MUST ensure that the interim
/// record production times are randomized so that large accounting
/// message storms are not created either among records or around a
/// common service start time". Twenty calls answered at the same instant
/// used to send their interims at exactly the same times.
#[test]
fn interims_of_sessions_started_together_are_spread() {
    use diameter_cc::client::accounting::CallInfo;
    use diameter_cc::session::session_id_from;
    let mut config = fixtures::client_config();
    if let Some(a) = config.accounting.as_mut() {
        a.interim_interval = Some(30);
    }
    let mut net = Net::new(9);
    let server = net.add(fixtures::server::<2, 32>(fixtures::ledger()));
    let client = net.add(fixtures::client_with::<2, 32>(config));
    let peer = net
        .node::<Client<2, 32>>(client)
        .add_peer(Role::Initiator, None)
        .unwrap();
    net.route(client, peer, server);
    let now = net.now();
    net.node::<Client<2, 32>>(client).start(now);
    net.run_for(Duration::from_millis(10));
    let now = net.now();
    for i in 0..20 {
        let info = CallInfo::new(session_id_from(&format!("storm-{i}")).unwrap());
        let h = net
            .node::<Client<2, 32>>(client)
            .open_accounting(now, info)
            .unwrap();
        net.node::<Client<2, 32>>(client)
            .call_answered(now, h)
            .unwrap();
    }
    net.run_for(Duration::from_secs(100));
    let interims: Vec<u64> = net
        .frames
        .iter()
        .filter(|f| f.from == client)
        .filter_map(|f| {
            let m = Message::parse_with(&f.bytes, &CreditControl).ok()?;
            let t = m
                .get(&diameter_core::dict::base::ACCOUNTING_RECORD_TYPE)
                .ok()??;
            (t == diameter_core::dict::base::AccountingRecordType::InterimRecord)
                .then(|| f.sent.0 - now.0)
        })
        .collect();
    assert_eq!(interims.len(), 60, "three interims per call in 100 s");
    let mut distinct = interims.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(distinct.len() > 40, "interims still bunched: {interims:?}");
    for t in &interims {
        let nearest = (t + 15_000) / 30_000 * 30_000;
        assert!(
            t.abs_diff(nearest) <= 3_000,
            "{t} ms is not within a tenth of the interval"
        );
    }
}
