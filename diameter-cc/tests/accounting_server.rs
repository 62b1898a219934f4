//! The accounting server (RFC 6733 §8.2, server accounting state machine;
//! §9): [`AccountingServer`] (what every session shares, and the stateless
//! EVENT path) and [`AcctServerSession`] (one session per Session-Id),
//! driven by hand and as the endpoint holds them (`acct::AcctServer`), and
//! two endpoints joined by the simulator for what only the endpoint decides
//! (3004 when the session table is full).

mod acct;

use std::time::Duration;

use acct::*;
use diameter_cc::client::accounting::{AccountingEvent, CallInfo};
use diameter_cc::endpoint::{Event, SessionEvent};
use diameter_cc::server::accounting::{
    AccountingServer, AccountingServerConfig, AccountingServerEvent, AccountingSink, Anomaly,
    RECENT_EVENTS,
};
use diameter_cc::session::{session_id_from, Ctx, Machine};
use diameter_cc::CreditControl;
use diameter_core::dict::base::{self, AccountingRealtimeRequired, AccountingRecordType};
use diameter_core::peer::Role;
use diameter_core::time::Instant;
use diameter_core::{CommandCode, Message, ResultCode};
use diameter_sim::fixtures::{self, Client, Server};
use diameter_sim::net::Verdict;
use diameter_sim::Net;

use AccountingRecordType::{EventRecord, InterimRecord, StartRecord, StopRecord};

fn at(secs: u64) -> Instant {
    Instant::from_secs(secs)
}

// ---------------------------------------------------------------------------
// Duplicates, gaps, disorder (RFC 6733 §9.4, §9.8.3)
// ---------------------------------------------------------------------------

#[test]
fn server_detects_duplicates_gaps_and_disorder() {
    let mut s = AcctServer::new(AccountingServerConfig::new(), 4);
    let h = CLIENT;
    let t0 = Instant::ZERO;
    assert_eq!(rc(&s.serve(t0, &acr(h, StartRecord, 0, false))), 2001);
    // T flag + already stored: answered, not stored twice.
    assert_eq!(rc(&s.serve(t0, &acr(h, StartRecord, 0, true))), 2001);
    // Same without T: answered, not stored, reported.
    assert_eq!(rc(&s.serve(t0, &acr(h, StartRecord, 0, false))), 2001);
    // A gap: 1 and 2 missing.
    assert_eq!(rc(&s.serve(t0, &acr(h, InterimRecord, 3, false))), 2001);
    // Late: 2 arrives after 3.
    assert_eq!(rc(&s.serve(t0, &acr(h, InterimRecord, 2, false))), 2001);
    // STOP, then something after it.
    assert_eq!(rc(&s.serve(t0, &acr(h, StopRecord, 4, false))), 2001);
    assert_eq!(rc(&s.serve(t0, &acr(h, InterimRecord, 5, false))), 2001);
    // Changed on purpose: sessions are per Session-Id. The Session-Id is
    // globally unique (RFC 6733 §8.8) and with Accounting-Record-Number
    // identifies a record (RFC 6733 §9.8.3, §9.4), so the same Session-Id
    // from another host is the same session: record 0 is a duplicate,
    // answered and not stored twice (before: another session).
    let other = "other.diameter.test";
    assert_eq!(rc(&s.serve(t0, &acr(other, StartRecord, 0, false))), 2001);
    // Sink failure: 4002 (RFC 6733 §9.4), then the retransmission is stored.
    // An EVENT record (of another Session-Id) opens no session.
    let third = "third.diameter.test";
    s.sink_mut().fail_next = 1;
    let event = |t_flag| acr_for("third-call", third, EventRecord, 0, t_flag, 8, 8);
    assert_eq!(rc(&s.serve(t0, &event(false))), 4002);
    assert_eq!(rc(&s.serve(t0, &event(true))), 2001);

    let got: Vec<(String, u32)> = s
        .sink()
        .records
        .iter()
        .map(|r| (r.origin_host.clone(), r.number))
        .collect();
    assert_eq!(
        got,
        [
            (CLIENT.into(), 0),
            (CLIENT.into(), 3),
            (CLIENT.into(), 2),
            (CLIENT.into(), 4),
            (CLIENT.into(), 5),
            (third.into(), 0),
        ]
    );
    let anomalies: Vec<Anomaly> = s.sink().anomalies.iter().map(|a| a.1).collect();
    assert_eq!(
        anomalies,
        [
            Anomaly::Duplicate { number: 0 },
            Anomaly::Missing { first: 1, last: 2 },
            Anomaly::OutOfOrder {
                number: 2,
                highest: 3
            },
            Anomaly::AfterEnd { number: 5 },
            Anomaly::Duplicate { number: 0 },
        ]
    );
    let st = s.server.stats();
    assert_eq!(
        (st.stored, st.duplicates, st.sink_errors, st.anomalies),
        (6, 3, 1, 5)
    );
    assert_eq!(s.sessions.len(), 1);
    assert!(s.session(SID).unwrap().is_ended());
    assert_eq!(s.session(SID).unwrap().origin_host(), CLIENT);

    // Changed on purpose: no session is evicted any more. With the table
    // full, a new session is refused with 3004 DIAMETER_TOO_BUSY (RFC 6733
    // §7.1.3, with the E bit) and the client retries; EVENT records need no
    // slot. The stopped session stays for duplicate_window (60 s) to answer
    // a retransmitted STOP, then closes and makes room.
    for (i, host) in ["fourth", "fifth", "sixth"].iter().enumerate() {
        let sid = format!("{host}-call");
        let r = acr_for(&sid, host, StartRecord, 0, false, 10 + i as u32, 10);
        assert_eq!(rc(&s.serve(t0, &r)), 2001);
    }
    assert_eq!(s.sessions.len(), 4);
    let seventh = acr_for("seventh-call", "seventh", StartRecord, 0, false, 20, 20);
    let a = s.serve(at(1), &seventh);
    assert_eq!(rc(&a), 3004);
    assert!(Message::parse(&a).unwrap().flags().is_error());
    assert_eq!(s.server.stats().busy, 1);
    assert_eq!(s.sessions.len(), 4, "nobody evicted");
    let ev = acr_for("eighth-call", "eighth", EventRecord, 0, false, 21, 21);
    assert_eq!(rc(&s.serve(at(1), &ev)), 2001, "an EVENT needs no slot");
    // The STOP's retransmission within the window: answered again.
    assert_eq!(rc(&s.serve(at(30), &acr(h, StopRecord, 4, true))), 2001);
    s.handle_timeout(at(59));
    assert_eq!(s.sessions.len(), 4);
    s.handle_timeout(at(60));
    assert_eq!(s.closed, [SID]);
    let retry = acr_for("seventh-call", "seventh", StartRecord, 0, true, 22, 20);
    assert_eq!(rc(&s.serve(at(61), &retry)), 2001);
    assert_eq!(s.sessions.len(), 4);
    let last = s.sink().records.last().unwrap();
    assert_eq!(
        (last.session_id.as_str(), last.retransmission),
        ("seventh-call", true)
    );
}

// ---------------------------------------------------------------------------
// What is not a valid ACR
// ---------------------------------------------------------------------------

#[test]
fn server_rejects_what_is_not_a_valid_acr() {
    let (server, answers) = session_answers(&[acr_without_number(), not_an_acr()]);
    // Missing Accounting-Record-Number: 5005 DIAMETER_MISSING_AVP with
    // Failed-AVP (RFC 6733 §7.1.5, §7.5).
    let m = Message::parse_with(&answers[0], &CreditControl).unwrap();
    assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(5005));
    assert!(!m.flags().is_error());
    assert!(m.get(&base::FAILED_AVP).unwrap().is_some());
    assert_eq!(m.session_id(), Some(SID));
    // Another command: 3001 DIAMETER_COMMAND_UNSUPPORTED with the E bit
    // (RFC 6733 §7.1.3).
    let m = Message::parse(&answers[1]).unwrap();
    assert!(m.flags().is_error());
    assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(3001));
    m.validate(&CreditControl).unwrap();
    // Only the START was stored.
    assert_eq!(server.sink().records.len(), 1);

    // Through the "peer machine" of the endpoint (every request validated
    // once): a new session's invalid ACR is answered 5005 before any
    // session sees it.
    let mut s = AcctServer::new(AccountingServerConfig::new(), 4);
    let a = s.serve(Instant::ZERO, &acr_without_number());
    assert_eq!(rc(&a), 5005);
    assert_eq!((s.invalid, s.sessions.len()), (1, 0));

    // Too small a buffer: an error, nothing stored; then it is.
    let node = server_node();
    let mut server = AccountingServer::new(AccountingServerConfig::new(), VecSink::default());
    let req = acr(CLIENT, StartRecord, 0, false);
    let m = validated(&req);
    let a = diameter_cc::msg::Acr::decode(&m).unwrap();
    let mut tiny = [0u8; 40];
    let (session, r) = server.handle_new(&node, Instant::ZERO, &m, &a, &mut tiny);
    assert!(r.is_err());
    assert!(server.sink().records.is_empty());
    assert_eq!(server.stats().stored, 0);
    let mut session = session.expect("the session is kept to take the retransmission");
    let mut out = [0u8; 1024];
    let shared: &mut AccountingServer<dyn AccountingSink> = &mut server;
    let len = session
        .handle_request(Ctx::new(&node, shared), Instant::ZERO, &m, true, &mut out)
        .unwrap();
    assert_eq!(rc(&out[..len]), 2001);
    assert_eq!(server.sink().records.len(), 1);
    // The same for an ACR to a session.
    let interim = acr(CLIENT, InterimRecord, 1, false);
    let m = validated(&interim);
    let shared: &mut AccountingServer<dyn AccountingSink> = &mut server;
    assert!(session
        .handle_request(Ctx::new(&node, shared), Instant::ZERO, &m, false, &mut tiny)
        .is_err());
    assert_eq!(server.sink().records.len(), 1);
}

/// `ServerStats::rejected` counts "Requests answered with an error (not an
/// ACR, invalid)", those a session answers too (found by this port: the
/// session's 3001 and 5005 answers were not counted).
#[test]
fn rejected_requests_are_counted() {
    let (server, _) = session_answers(&[acr_without_number(), not_an_acr()]);
    assert_eq!(server.stats().rejected, 2);
}

/// The 5005 answer to an ACR lacking Accounting-Record-Number echoes its
/// Accounting-Record-Type: it has no E bit, so it is an ACA (RFC 6733 §7.2
/// allows the generic answer-message only with the E bit) and RFC 6733
/// §9.7.2 requires { Accounting-Record-Type } (found by this port: the
/// generic `error_answer` had dropped it; the old server echoed it).
#[test]
fn invalid_acr_answer_echoes_the_record_type() {
    let (_, answers) = session_answers(&[acr_without_number()]);
    let m = Message::parse_with(&answers[0], &CreditControl).unwrap();
    assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(5005));
    assert_eq!(
        m.get(&base::ACCOUNTING_RECORD_TYPE).unwrap(),
        Some(StartRecord)
    );
}

// ---------------------------------------------------------------------------
// Session lifetime: duplicate window after the STOP, idle timeout
// ---------------------------------------------------------------------------

#[test]
fn a_stopped_session_lingers_for_the_duplicate_window_then_closes() {
    let mut s = AcctServer::new(server_config(), 4);
    assert_eq!(
        rc(&s.serve(at(0), &acr(CLIENT, StartRecord, 0, false))),
        2001
    );
    assert_eq!(s.session(SID).unwrap().poll_timeout(), Some(at(3600)));
    assert_eq!(
        rc(&s.serve(at(10), &acr(CLIENT, StopRecord, 1, false))),
        2001
    );
    let session = s.session(SID).unwrap();
    assert!(session.is_ended() && !session.is_closed());
    // RFC 6733 §9.4: remembered duplicate_window (60 s) after the STOP.
    assert_eq!(session.poll_timeout(), Some(at(70)));
    assert_eq!(
        rc(&s.serve(at(20), &acr(CLIENT, StopRecord, 1, true))),
        2001
    );
    assert_eq!(s.stored_numbers_of(SID), [0, 1]);
    assert_eq!(s.server.stats().duplicates, 1);
    s.handle_timeout(Instant(69_999));
    assert!(s.session(SID).is_some());
    s.handle_timeout(at(70));
    assert!(s.session(SID).is_none());
    assert_eq!(s.closed, [SID]);
    assert_eq!(
        s.session_events,
        [
            AccountingServerEvent::Stored {
                record_type: StartRecord,
                number: 0
            },
            AccountingServerEvent::Stored {
                record_type: StopRecord,
                number: 1
            },
            AccountingServerEvent::Duplicate { number: 1 },
        ]
    );
    // A session's records are reported by the session only.
    assert!(s.server_events.is_empty(), "{:?}", s.server_events);
    // Later than the window the server no longer knows the session: a STOP
    // still retransmitted opens it again and is stored, flagged as a
    // retransmission (the T flag) for the sink to sort out, with the gap
    // reported. Documented behaviour of the bounded memory.
    assert_eq!(
        rc(&s.serve(at(80), &acr(CLIENT, StopRecord, 1, true))),
        2001
    );
    assert_eq!(s.stored_numbers_of(SID), [0, 1, 1]);
    assert!(s.sink().records[2].retransmission);
    assert_eq!(
        s.sink().anomalies,
        [(SID.to_owned(), Anomaly::Missing { first: 0, last: 0 })]
    );
}

#[test]
fn an_idle_session_closes_after_the_idle_timeout() {
    let mut cfg = server_config();
    cfg.idle_timeout = Duration::from_secs(100);
    let mut s = AcctServer::new(cfg, 4);
    assert_eq!(
        rc(&s.serve(at(0), &acr(CLIENT, StartRecord, 0, false))),
        2001
    );
    // Every record of the session restarts the idle timer.
    assert_eq!(
        rc(&s.serve(at(60), &acr(CLIENT, InterimRecord, 1, false))),
        2001
    );
    s.handle_timeout(at(100));
    assert!(s.session(SID).is_some());
    assert_eq!(s.session(SID).unwrap().poll_timeout(), Some(at(160)));
    s.handle_timeout(at(160));
    assert!(s.session(SID).is_none(), "idle: forgotten");
    assert_eq!(s.closed, [SID]);
    // Its next record opens it again and is stored, with the gap reported.
    assert_eq!(
        rc(&s.serve(at(200), &acr(CLIENT, InterimRecord, 2, false))),
        2001
    );
    assert_eq!(s.stored_numbers_of(SID), [0, 1, 2]);
    assert_eq!(
        s.sink().anomalies,
        [(SID.to_owned(), Anomaly::Missing { first: 0, last: 1 })]
    );
}

// ---------------------------------------------------------------------------
// EVENT records: stateless, with a ring of the last RECENT_EVENTS
// ---------------------------------------------------------------------------

#[test]
fn event_records_are_answered_statelessly_and_deduplicated() {
    let node = server_node();
    let mut server = AccountingServer::new(server_config(), VecSink::default());
    let mut out = [0u8; 1024];
    let mut serve = |server: &mut AccountingServer<VecSink>, now: Instant, req: &[u8]| {
        let m = validated(req);
        let a = diameter_cc::msg::Acr::decode(&m).unwrap();
        let (session, r) = server.handle_new(&node, now, &m, &a, &mut out);
        assert!(session.is_none(), "an EVENT record opens no session");
        rc(&out[..r.unwrap()])
    };
    let ev = |host: &str, t_flag| acr(host, EventRecord, 0, t_flag);
    assert_eq!(serve(&mut server, at(0), &ev(CLIENT, false)), 2001);
    // RFC 6733 §9.4: a retransmission (T flag) within duplicate_window is
    // answered again, not stored twice; so is a plain duplicate, reported.
    assert_eq!(serve(&mut server, at(30), &ev(CLIENT, true)), 2001);
    assert_eq!(serve(&mut server, at(31), &ev(CLIENT, false)), 2001);
    // Origin-Host is a DiameterIdentity: compared without case.
    assert_eq!(
        serve(&mut server, at(32), &ev("CLIENT.Diameter.Test", true)),
        2001
    );
    assert_eq!(server.sink().records.len(), 1);
    assert_eq!(server.stats().duplicates, 3);
    assert_eq!(
        server.sink().anomalies,
        [(SID.to_owned(), Anomaly::Duplicate { number: 0 })]
    );
    // Remembered by count, whatever the age (not for duplicate_window
    // only): a retransmission an hour later is still answered, not stored.
    assert_eq!(serve(&mut server, at(3600), &ev(CLIENT, true)), 2001);
    assert_eq!(server.sink().records.len(), 1);
    // The ring remembers the last RECENT_EVENTS records: the oldest is
    // forgotten when more come, and its retransmission is then stored
    // again, flagged as a retransmission for the sink (RFC 6733 §9.4).
    for i in 0..RECENT_EVENTS {
        let sid = format!("event-{i}");
        let r = acr_for(&sid, CLIENT, EventRecord, 0, false, 1, 1);
        assert_eq!(serve(&mut server, at(3601), &r), 2001);
    }
    assert_eq!(server.sink().records.len(), 1 + RECENT_EVENTS);
    assert_eq!(serve(&mut server, at(3602), &ev(CLIENT, true)), 2001);
    assert_eq!(server.sink().records.len(), 2 + RECENT_EVENTS);
    assert!(server.sink().records.last().unwrap().retransmission);
    let last = acr_for(
        &format!("event-{}", RECENT_EVENTS - 1),
        CLIENT,
        EventRecord,
        0,
        true,
        1,
        1,
    );
    assert_eq!(serve(&mut server, at(3603), &last), 2001);
    assert_eq!(server.sink().records.len(), 2 + RECENT_EVENTS, "remembered");
}

#[test]
fn aca_carries_interval_and_policy_by_record_type() {
    // RFC 6733 §9.7.2, §9.8.2, §9.8.7: Acct-Interim-Interval in the answers
    // to START and INTERIM, Accounting-Realtime-Required in the answers to
    // START, INTERIM and EVENT; neither in the answer to a STOP.
    let mut cfg = server_config();
    cfg.realtime_required = Some(AccountingRealtimeRequired::DeliverAndGrant);
    let mut s = AcctServer::new(cfg, 4);
    let cases = [
        (StartRecord, 0, Some(30), Some(1)),
        (InterimRecord, 1, Some(30), Some(1)),
        (StopRecord, 2, None, None),
    ];
    for (kind, n, interval, policy) in cases {
        let a = s.serve(at(1), &acr(CLIENT, kind, n, false));
        let aca = diameter_cc::msg::Aca::decode(&validated(&a)).unwrap();
        assert_eq!(aca.result_code, ResultCode::SUCCESS);
        assert_eq!(
            (aca.accounting_record_type, aca.accounting_record_number),
            (Some(kind), Some(n))
        );
        assert_eq!(aca.acct_interim_interval, interval, "{kind:?}");
        assert_eq!(
            aca.accounting_realtime_required.map(i32::from),
            policy,
            "{kind:?}"
        );
    }
    let a = s.serve(at(1), &acr_for("ev", CLIENT, EventRecord, 0, false, 1, 1));
    let aca = diameter_cc::msg::Aca::decode(&validated(&a)).unwrap();
    assert_eq!(aca.acct_interim_interval, None);
    assert_eq!(
        aca.accounting_realtime_required,
        Some(AccountingRealtimeRequired::DeliverAndGrant)
    );
}

// ---------------------------------------------------------------------------
// A STOP retransmitted after the server answered (RFC 6733 §9.4)
// ---------------------------------------------------------------------------

/// New behaviour: the STOP's answer is lost, the client retransmits it
/// (T flag, same End-to-End id) after its answer timeout; the server's
/// session, lingering after the STOP, answers it again and stores it once.
#[test]
fn a_stop_retransmitted_after_the_answer_is_answered_again_and_stored_once() {
    let mut sim: Sim<4> = Sim::scenario();
    sim.fate = Box::new(|s: &Sent| {
        if s.kind == StopRecord && !s.t_flag {
            Fate::LoseAnswer
        } else {
            Fate::Deliver
        }
    });
    sim.answer_call().unwrap();
    sim.run_until(at(10));
    sim.end_call().unwrap();
    sim.run_until(at(40));
    let stops: Vec<&Sent> = sim.sent.iter().filter(|s| s.kind == StopRecord).collect();
    assert_eq!(stops.len(), 2);
    assert_eq!(stops[1].at, at(25), "answer timeout 10 s + retry 5 s");
    assert!(stops[1].t_flag && stops[1].end_to_end == stops[0].end_to_end);
    assert_eq!(sim.stored_numbers(), [0, 1]);
    assert_eq!(sim.server.server.stats().duplicates, 1);
    assert_eq!(rc(&sim.answers[2].bytes), 2001);
    assert_avps(&sim.answers[2].bytes, &aca_avps(4, 1, 2001, &[]));
    assert_eq!(sim.event_list().last(), Some(&AccountingEvent::Finished));
    assert!(sim.server.sink().anomalies.is_empty());
    // The server's session closes one duplicate window after the STOP.
    sim.run_until(at(69));
    assert_eq!(sim.server.sessions.len(), 1);
    sim.run_until(at(70));
    assert!(sim.server.sessions.is_empty());
}

// ---------------------------------------------------------------------------
// Two endpoints joined by the simulator
// ---------------------------------------------------------------------------

type C = Client<2, 8>;
type S = Server<2, 4>;

/// A client endpoint (8 sessions) and a charging server with 4 session
/// slots, connected.
fn world() -> (Net, usize, usize) {
    let mut net = Net::new(3);
    let server = net.add(fixtures::server::<2, 4>(fixtures::ledger()));
    let client = net.add(fixtures::client::<2, 8>());
    let peer = net
        .node::<C>(client)
        .add_peer(Role::Initiator, None)
        .unwrap();
    net.route(client, peer, server);
    net.node::<C>(client).start(Instant::ZERO);
    net.run_for(Duration::from_millis(100));
    assert!(net.node::<C>(client).peer(peer).unwrap().is_open());
    (net, client, server)
}

/// An ACR or ACA on the wire: (request?, T flag?, Accounting-Record-Type,
/// Result-Code, Session-Id).
type AcctFrame = (bool, bool, Option<i32>, Option<u32>, String);

fn accounting_frames(net: &Net) -> Vec<AcctFrame> {
    net.frames
        .iter()
        .filter_map(|f| {
            let m = Message::parse_with(&f.bytes, &CreditControl).ok()?;
            if m.command_code() != CommandCode::ACCOUNTING {
                return None;
            }
            let t = m
                .get(&base::ACCOUNTING_RECORD_TYPE)
                .ok()
                .flatten()
                .map(i32::from);
            let rc = m.get(&base::RESULT_CODE).ok().flatten();
            let sid = m.session_id().unwrap_or_default().to_owned();
            Some((m.is_request(), m.flags().is_retransmit(), t, rc, sid))
        })
        .collect()
}

/// Changed on purpose: the server no longer evicts sessions. A full session
/// table is answered 3004 DIAMETER_TOO_BUSY by the endpoint (RFC 6733
/// §7.1.3); the client keeps the record and retries (a 3xxx answer is a
/// failed attempt, RFC 6733 §9.4) until a stopped session has lingered its
/// duplicate window and made room. EVENT records need no slot.
#[test]
fn a_full_session_table_is_answered_3004_by_the_endpoint() {
    let (mut net, client, server) = world();
    let now = net.now();
    let mut calls = Vec::new();
    for i in 1..=5 {
        let sid = format!("call-{i}@proxy");
        let info = CallInfo::new(session_id_from(&sid).unwrap());
        let h = net.node::<C>(client).open_accounting(now, info).unwrap();
        net.node::<C>(client).call_answered(now, h).unwrap();
        calls.push(h);
        // One at a time, so that call-5 is the one refused.
        net.run_for(Duration::from_millis(10));
    }
    net.run_for(Duration::from_secs(1));
    let acct = accounting_frames(&net);
    let busy: Vec<_> = acct.iter().filter(|f| f.3 == Some(3004)).collect();
    assert_eq!(busy.len(), 1, "{acct:?}");
    assert_eq!(busy[0].4, "call-5@proxy");
    assert_eq!(net.node::<S>(server).session_count(), 4);
    assert_eq!(net.node::<S>(server).stats().busy, 1);

    // An EVENT record is served with the table full.
    let info = CallInfo::new(session_id_from("event-1@proxy").unwrap());
    let now = net.now();
    let ev = net.node::<C>(client).open_accounting(now, info).unwrap();
    net.node::<C>(client).account_event(now, ev).unwrap();
    net.run_for(Duration::from_secs(1));

    // call-1 hangs up at 10 s; its server session lingers 60 s, then the
    // retried START of call-5 finds room.
    net.run_until(at(10));
    net.node::<C>(client)
        .call_ended(at(10), calls[0], base::TerminationCause::Logout)
        .unwrap();
    net.run_until(at(69));
    assert!(net.node::<S>(server).find_session("call-1@proxy").is_some());
    net.run_until(at(90));
    assert!(net.node::<S>(server).find_session("call-1@proxy").is_none());
    assert!(net.node::<S>(server).find_session("call-5@proxy").is_some());

    let stored = net
        .node::<S>(server)
        .accounting_server()
        .unwrap()
        .sink()
        .stored
        .clone();
    let mut got: Vec<(String, i32)> = stored
        .iter()
        .map(|r| (r.session_id.clone(), i32::from(r.record_type)))
        .collect();
    got.sort();
    let mut want: Vec<(String, i32)> = (1..=5)
        .map(|i| (format!("call-{i}@proxy"), StartRecord))
        .chain([
            ("call-1@proxy".into(), StopRecord),
            ("event-1@proxy".into(), EventRecord),
        ])
        .map(|(sid, t)| (sid, i32::from(t)))
        .collect();
    want.sort();
    assert_eq!(got, want, "every record stored once, nobody evicted");
    let c5 = stored
        .iter()
        .find(|r| r.session_id == "call-5@proxy")
        .unwrap();
    assert!(c5.retransmission, "the retried START carries the T flag");
    // Every 3004 was for call-5, and call-5's START was acknowledged.
    let acct = accounting_frames(&net);
    assert!(acct
        .iter()
        .filter(|f| f.3 == Some(3004))
        .all(|f| f.4 == "call-5@proxy"));
    let acked = net.events_of(client).any(|e| {
        matches!(e, Event::Session { session, event: SessionEvent::Accounting(
            AccountingEvent::RecordAcknowledged { number: 0, .. }) } if *session == calls[4])
    });
    assert!(acked);
}

/// The same as `a_stop_retransmitted_after_the_answer_...` through two
/// endpoints: the simulator drops the STOP's first answer; the client's
/// endpoint resends it with the T flag and the same End-to-End id; the
/// server's endpoint routes it to the lingering session, which answers it
/// again and stores it once.
#[test]
fn a_stop_retransmitted_between_endpoints_is_stored_once() {
    let (mut net, client, server) = world();
    let mut dropped = false;
    net.set_filter(move |f| {
        let Ok(m) = Message::parse(&f.bytes) else {
            return Verdict::Deliver;
        };
        let stop = m.get(&base::ACCOUNTING_RECORD_TYPE).ok().flatten() == Some(StopRecord);
        if stop && !m.is_request() && !dropped {
            dropped = true;
            return Verdict::Drop;
        }
        Verdict::Deliver
    });
    let now = net.now();
    let info = CallInfo::new(session_id_from("call-9@proxy").unwrap());
    let h = net.node::<C>(client).open_accounting(now, info).unwrap();
    net.node::<C>(client).call_answered(now, h).unwrap();
    net.run_until(at(5));
    net.node::<C>(client)
        .call_ended(at(5), h, base::TerminationCause::Logout)
        .unwrap();
    net.run_until(at(40));
    let stops: Vec<(bool, u32)> = net
        .frames
        .iter()
        .filter_map(|f| {
            let m = Message::parse(&f.bytes).ok()?;
            let t = m.get(&base::ACCOUNTING_RECORD_TYPE).ok().flatten()?;
            (m.is_request() && t == StopRecord).then(|| (m.flags().is_retransmit(), m.end_to_end()))
        })
        .collect();
    assert_eq!(stops.len(), 2, "{stops:?}");
    assert_eq!((stops[0].0, stops[1].0), (false, true));
    assert_eq!(stops[0].1, stops[1].1, "same End-to-End id");
    let stored: Vec<(AccountingRecordType, bool)> = net
        .node::<S>(server)
        .accounting_server()
        .unwrap()
        .sink()
        .stored
        .iter()
        .map(|r| (r.record_type, r.retransmission))
        .collect();
    assert_eq!(stored, [(StartRecord, false), (StopRecord, false)]);
    assert_eq!(
        net.node::<S>(server)
            .accounting_server()
            .unwrap()
            .stats()
            .duplicates,
        1
    );
    let finished = net.events_of(client).any(|e| {
        matches!(e, Event::Session { session, event: SessionEvent::Accounting(
            AccountingEvent::Finished) } if *session == h)
    });
    assert!(finished);
}

/// A record of a session is reported to the application once, as the
/// session's `SessionEvent::AccountingServer(Stored)`:
/// `AccountingServer::poll_event` only has "Events of the EVENT-record path
/// and of refused sessions" (found by this port: `AccountingServer::store`
/// queued an event for session records too, so each was reported twice).
#[test]
fn each_stored_record_is_reported_once() {
    let (mut net, client, server) = world();
    let now = net.now();
    let info = CallInfo::new(session_id_from("call-7@proxy").unwrap());
    let h = net.node::<C>(client).open_accounting(now, info).unwrap();
    net.node::<C>(client).call_answered(now, h).unwrap();
    net.run_for(Duration::from_secs(1));
    let stored = AccountingServerEvent::Stored {
        record_type: StartRecord,
        number: 0,
    };
    let reports: Vec<&Event> = net
        .events_of(server)
        .filter(|e| match e {
            Event::AccountingServer(e) => *e == stored,
            Event::Session {
                event: SessionEvent::AccountingServer(e),
                ..
            } => *e == stored,
            _ => false,
        })
        .collect();
    assert_eq!(reports.len(), 1, "{reports:?}");
}
