//! The accounting client ([`AccountingClient`]) driven against the
//! accounting server in memory (see `acct/mod.rs`): the SCENARIOS.md flow,
//! the server's interval and policy, loss and retransmission (RFC 6733
//! §9.4), a full record store, and Accounting-Realtime-Required (RFC 6733
//! §9.8.7).

mod acct;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use acct::*;
use diameter_cc::client::accounting::{
    AccountingClient, AccountingConfig, AccountingError, AccountingEvent, ClientState,
};
use diameter_cc::server::accounting::Anomaly;
use diameter_cc::session::{Ctx, Failure, Machine, RequestFailed};
use diameter_core::dict::base::{self, AccountingRealtimeRequired, AccountingRecordType};
use diameter_core::time::Instant;
use diameter_core::{HeaderRepr, Message, ResultCode};

use AccountingRealtimeRequired::{DeliverAndGrant, GrantAndLose, GrantAndStore};
use AccountingRecordType::{EventRecord, InterimRecord, StartRecord, StopRecord};

// ---------------------------------------------------------------------------
// The SCENARIOS.md accounting flow
// ---------------------------------------------------------------------------

/// Answer at 0 s, interims at 30 s and 60 s, hangup at 67 s.
fn scenario_flow() -> Sim<4> {
    let mut sim: Sim<4> = Sim::scenario();
    sim.answer_call().unwrap();
    sim.run_until(sim.at(67.0));
    sim.end_call().unwrap();
    sim.run_until(sim.at(120.0));
    sim
}

#[test]
fn scenario_start_two_interims_stop() {
    let sim = scenario_flow();
    assert_eq!(sim.client.state(), ClientState::Ended);
    assert_eq!(sim.client.stops(), 1);

    // Four ACRs: at 0, about 30 and 60 s (RFC 6733 §9.8.2: interim times
    // are randomized, within a tenth of the interval here), 67 s; numbers
    // 0..=3, none retransmitted.
    let times: Vec<u64> = sim.requests.iter().map(|w| w.at.0).collect();
    assert_eq!(times.len(), 4);
    assert_eq!((times[0], times[3]), (0, 67_000));
    assert!(times[1].abs_diff(30_000) <= 3_000, "{times:?}");
    assert!(times[2].abs_diff(60_000) <= 3_000, "{times:?}");
    let kinds: Vec<(AccountingRecordType, u32, bool)> = sim
        .sent
        .iter()
        .map(|s| (s.kind, s.number, s.t_flag))
        .collect();
    assert_eq!(
        kinds,
        [
            (StartRecord, 0, false),
            (InterimRecord, 1, false),
            (InterimRecord, 2, false),
            (StopRecord, 3, false)
        ]
    );
    for w in &sim.requests {
        assert_acr_header(&w.bytes, false);
    }

    // START: type 2, number 0, our interval hint and policy (RFC 6733
    // §9.8.2, §9.8.7).
    let mut start = acr_head(2, 0);
    start.extend([(85, u(30)), (483, e(2)), (55, ts(0))]);
    start.extend(sip_tail(Some(1), 1, None));
    assert_avps(&sim.requests[0].bytes, &start);

    // INTERIMs: type 3, numbers 1 and 2, cumulative duration at the
    // (randomized) time they were produced.
    for i in [1u32, 2] {
        let ms = sim.requests[i as usize].at.0;
        let mut interim = acr_head(3, i);
        interim.push((55, ts((ms / 1000) as i64)));
        interim.extend(sip_tail(Some(3), 1, Some(ms as u32)));
        assert_avps(&sim.requests[i as usize].bytes, &interim);
    }

    // STOP: type 4, number 3, BYE, 67 s.
    let mut stop = acr_head(4, 3);
    stop.push((55, ts(67)));
    stop.extend(sip_tail(Some(2), 8, Some(67_000)));
    assert_avps(&sim.requests[3].bytes, &stop);

    // ACAs echo Session-Id, type, number, Acct-Application-Id; 2001; the
    // server's interval in the answers to START and INTERIM (RFC 6733
    // §9.7.2).
    assert_eq!(sim.answers.len(), 4);
    for (i, (kind, extra)) in [(2, true), (3, true), (3, true), (4, false)]
        .into_iter()
        .enumerate()
    {
        let ex: Vec<(u32, Vec<u8>)> = if extra { vec![(85, u(30))] } else { vec![] };
        assert_avps(&sim.answers[i].bytes, &aca_avps(kind, i as u32, 2001, &ex));
        let (h, _) = HeaderRepr::parse(&sim.answers[i].bytes).unwrap();
        let (rh, _) = HeaderRepr::parse(&sim.requests[i].bytes).unwrap();
        assert!(!h.flags.is_request() && h.flags.is_proxiable() && !h.flags.is_retransmit());
        assert_eq!((h.hop_by_hop, h.end_to_end), (rh.hop_by_hop, rh.end_to_end));
    }

    // One stable Session-Id and Acct-Session-Id, numbers increasing by one
    // (RFC 6733 §9.8.3, §9.8.4).
    let sink = sim.server.sink();
    assert!(sink.anomalies.is_empty(), "{:?}", sink.anomalies);
    let got: Vec<(AccountingRecordType, u32)> = sink
        .records
        .iter()
        .map(|r| (r.record_type, r.number))
        .collect();
    assert_eq!(
        got,
        [
            (StartRecord, 0),
            (InterimRecord, 1),
            (InterimRecord, 2),
            (StopRecord, 3)
        ]
    );
    for r in &sink.records {
        assert_eq!(r.session_id, SID);
        assert_eq!(r.origin_host, CLIENT);
        assert_eq!(r.acct_session_id.as_deref(), Some(SID.as_bytes()));
        assert_eq!(r.user_name.as_deref(), Some("1001"));
        assert_eq!(r.from_tag.as_deref(), Some("1928301774"));
        assert_eq!(r.to_tag.as_deref(), Some("a6c85cf"));
        assert_eq!(r.created, Some(UNIX0 as u32));
        assert!(!r.retransmission);
    }
    assert_eq!(sink.records[3].duration, Some(67));
    assert_eq!(sink.records[3].ms_duration, Some(67_000));

    // Events: four acknowledgements then Finished; the server's interval
    // equals ours, so no change is reported.
    assert_eq!(
        sim.event_list(),
        [
            AccountingEvent::RecordAcknowledged {
                number: 0,
                record_type: StartRecord
            },
            AccountingEvent::RecordAcknowledged {
                number: 1,
                record_type: InterimRecord
            },
            AccountingEvent::RecordAcknowledged {
                number: 2,
                record_type: InterimRecord
            },
            AccountingEvent::RecordAcknowledged {
                number: 3,
                record_type: StopRecord
            },
            AccountingEvent::Finished,
        ]
    );
    assert_eq!(sim.client.poll_timeout(), None);
    assert!(sim.client.is_closed());
}

#[test]
fn event_record_flow() {
    let mut sim: Sim<4> = Sim::new(
        client_config(),
        server_config(),
        call_info(),
        Instant::from_secs(5),
    );
    sim.event().unwrap();
    sim.run_until(Instant::from_secs(10));
    assert_eq!(sim.client.state(), ClientState::Ended);
    let mut want = acr_head(1, 0);
    want.extend([(483, e(2)), (55, ts(5))]);
    let mut tail = sip_tail(None, 1, None);
    // An EVENT's Sip-Call-Created is the record's own time.
    for a in &mut tail {
        if a.0 == 229 {
            a.1 = u(UNIX0 as u32 + 5);
        }
    }
    want.extend(tail);
    assert_avps(&sim.requests[0].bytes, &want);
    // No interval in the answer to an EVENT (RFC 6733 §9.8.2: only for
    // sessions).
    assert_avps(&sim.answers[0].bytes, &aca_avps(1, 0, 2001, &[]));
    assert_eq!(
        sim.event_list(),
        [
            AccountingEvent::RecordAcknowledged {
                number: 0,
                record_type: EventRecord
            },
            AccountingEvent::Finished
        ]
    );
    // The server answered it statelessly: no session was opened.
    assert!(sim.server.sessions.is_empty());
}

#[test]
fn server_interim_interval_wins() {
    // RFC 6733 §9.8.2: the server's Acct-Interim-Interval overrides ours.
    let mut sc = server_config();
    sc.interim_interval = Some(20);
    let mut sim: Sim<4> = Sim::new(client_config(), sc, call_info(), Instant::ZERO);
    sim.answer_call().unwrap();
    sim.run_until(Instant::from_secs(67));
    sim.end_call().unwrap();
    sim.run_until(Instant::from_secs(100));
    // Interims every 20 s, each randomized within ±2 s (RFC 6733 §9.8.2).
    let times: Vec<(u64, AccountingRecordType, u32)> = sim
        .sent
        .iter()
        .map(|s| ((s.at.0 + 2_000) / 20_000 * 20, s.kind, s.number))
        .collect();
    assert_eq!(
        times,
        [
            (0, StartRecord, 0),
            (20, InterimRecord, 1),
            (40, InterimRecord, 2),
            (60, InterimRecord, 3),
            (60, StopRecord, 4)
        ]
    );
    assert_eq!(sim.sent[4].at.0, 67_000);
    for s in &sim.sent[1..4] {
        assert!((s.at.0 + 2_000) % 20_000 <= 4_000, "{:?}", s.at);
    }
    assert_eq!(sim.client.interim_interval(&sim.cfg), Some(20));
    // Both from the START's ACA, at 50 ms: the server's interval is applied
    // as the answer is read, before the record is reported acknowledged.
    assert_eq!(
        sim.event_list()[..2],
        [
            AccountingEvent::InterimIntervalChanged { seconds: Some(20) },
            AccountingEvent::RecordAcknowledged {
                number: 0,
                record_type: StartRecord
            }
        ]
    );
    // The START still carried our hint: 30.
    let m = Message::parse(&sim.requests[0].bytes).unwrap();
    assert_eq!(m.get(&base::ACCT_INTERIM_INTERVAL).unwrap(), Some(30));

    // A server saying 0 turns interims off (RFC 6733 §9.8.2).
    sc.interim_interval = Some(0);
    let mut sim: Sim<4> = Sim::new(client_config(), sc, call_info(), Instant::ZERO);
    sim.answer_call().unwrap();
    sim.run_until(Instant::from_secs(67));
    sim.end_call().unwrap();
    sim.run_until(Instant::from_secs(100));
    let kinds: Vec<AccountingRecordType> = sim.sent.iter().map(|s| s.kind).collect();
    assert_eq!(kinds, [StartRecord, StopRecord]);
    assert!(sim
        .event_list()
        .contains(&AccountingEvent::InterimIntervalChanged { seconds: None }));

    // No interval anywhere: no interims unless the server asks.
    let mut quiet = client_config();
    quiet.interim_interval = None;
    let mut sc = server_config();
    sc.interim_interval = Some(25);
    let mut sim: Sim<4> = Sim::new(quiet, sc, call_info(), Instant::ZERO);
    sim.answer_call().unwrap();
    sim.run_until(Instant::from_secs(60));
    // About every 25 s, each within ±2.5 s (RFC 6733 §9.8.2 jitter).
    let times: Vec<u64> = sim.sent.iter().map(|s| s.at.0).collect();
    assert_eq!(times.len(), 3, "{times:?}");
    assert_eq!(times[0], 0);
    assert!(
        times[1].abs_diff(25_000) <= 2_500 && times[2].abs_diff(50_000) <= 2_500,
        "{times:?}"
    );
}

// ---------------------------------------------------------------------------
// Loss and retransmission (RFC 6733 §9.4, §5.5.4)
// ---------------------------------------------------------------------------

#[test]
fn lost_answers_are_retried_with_t_flag_until_answered() {
    let mut sim: Sim<4> = Sim::scenario();
    // START: answer lost twice, then delivered. INTERIM 1: request lost
    // once. INTERIM 2: the sink fails once (4002). STOP: answer duplicated.
    let mut seen: BTreeMap<u32, u32> = BTreeMap::new();
    sim.fate = Box::new(move |s: &Sent| {
        let n = seen.entry(s.number).or_insert(0);
        *n += 1;
        match (s.number, *n) {
            (0, 1 | 2) => Fate::LoseAnswer,
            (1, 1) => Fate::LoseRequest,
            (2, 1) => Fate::SinkFails,
            (3, _) => Fate::DuplicateAnswer,
            _ => Fate::Deliver,
        }
    });
    sim.answer_call().unwrap();
    sim.run_until(Instant::from_secs(67));
    sim.end_call().unwrap();
    sim.run_until(Instant::from_secs(300));
    assert_eq!(sim.client.state(), ClientState::Ended);

    // START sent 3 times (T on the 2nd and 3rd, same End-to-End id).
    let starts: Vec<&Sent> = sim.sent.iter().filter(|s| s.number == 0).collect();
    assert_eq!(starts.len(), 3);
    assert_eq!(
        starts.iter().map(|s| s.t_flag).collect::<Vec<_>>(),
        [false, true, true]
    );
    assert!(starts.iter().all(|s| s.end_to_end == starts[0].end_to_end));
    // Timed out at the answer timeout (10 s), retried 5 s later: at 0, 15,
    // 30.
    assert_eq!(
        starts.iter().map(|s| s.at.0).collect::<Vec<_>>(),
        [0, 15_000, 30_000]
    );
    for w in &sim.requests {
        let (h, _) = HeaderRepr::parse(&w.bytes).unwrap();
        let n = Message::parse(&w.bytes)
            .unwrap()
            .get(&base::ACCOUNTING_RECORD_NUMBER)
            .unwrap()
            .unwrap();
        assert_eq!(h.end_to_end, sim.first_e2e[&n]);
    }
    // No record sent twice without the T flag.
    let mut firsts = BTreeSet::new();
    for s in &sim.sent {
        if !s.t_flag {
            assert!(
                firsts.insert(s.number),
                "record {} sent twice without T",
                s.number
            );
        }
    }

    // The server stored each record once (the retransmissions of START were
    // answered as duplicates); record 2 after its 4002.
    let sink = sim.server.sink();
    let got: Vec<(u32, bool)> = sink
        .records
        .iter()
        .map(|r| (r.number, r.retransmission))
        .collect();
    assert_eq!(got, [(0, false), (1, true), (2, true), (3, false)]);
    assert_eq!(sim.server.server.stats().duplicates, 2);
    assert_eq!(sim.server.server.stats().sink_errors, 1);
    assert!(sink.anomalies.is_empty(), "{:?}", sink.anomalies);
    // The 4002 answer (RFC 6733 §9.4: DIAMETER_OUT_OF_SPACE).
    let out_of_space = sim
        .answers
        .iter()
        .find(|w| rc(&w.bytes) == 4002)
        .expect("a 4002 answer");
    assert_avps(&out_of_space.bytes, &aca_avps(3, 2, 4002, &[]));
    // The STOP's second answer matched nothing pending: dropped.
    assert_eq!(sim.strays, 1);

    // Every record acknowledged exactly once, nothing lost.
    let acked: Vec<u32> = sim
        .event_list()
        .iter()
        .filter_map(|e| match e {
            AccountingEvent::RecordAcknowledged { number, .. } => Some(*number),
            AccountingEvent::RecordLost { .. } | AccountingEvent::StopService => panic!("{e:?}"),
            _ => None,
        })
        .collect();
    assert_eq!(acked, [0, 1, 2, 3]);
}

#[test]
fn retransmission_bytes_differ_only_in_flags_and_ids() {
    let mut sim: Sim<4> = Sim::scenario();
    let mut first = true;
    sim.fate = Box::new(move |_| {
        if std::mem::take(&mut first) {
            Fate::LoseRequest
        } else {
            Fate::Deliver
        }
    });
    sim.answer_call().unwrap();
    sim.run_until(Instant::from_secs(20));
    assert_eq!(sim.requests.len(), 2);
    let (a, b) = (&sim.requests[0].bytes, &sim.requests[1].bytes);
    assert_eq!(a.len(), b.len());
    assert_eq!(a[4] | 0x10, b[4]);
    assert_eq!(&a[16..20], &b[16..20], "End-to-End id kept");
    assert_eq!(&a[20..], &b[20..], "same AVPs");
    assert_acr_header(b, true);
}

/// New in the `endpoint` API: there is no `handle_sent`; the End-to-End id
/// of the first attempt comes back with its failure
/// ([`RequestFailed::end_to_end`]) or in the answer's header, and the
/// retransmission's [`diameter_cc::session::Transmit::end_to_end`] is
/// `Some(that id)` (RFC 6733 §9.4: the T flag and the same End-to-End id let
/// the server recognise a record it already stored; §5.5.4).
#[test]
fn retransmission_after_a_timeout_carries_the_first_end_to_end_id() {
    let node = client_node();
    let mut cfg = client_config();
    let mut c: AccountingClient<4> = AccountingClient::new(call_info());
    let mut buf = [0u8; 1024];
    c.call_answered(Ctx::new(&node, &mut cfg), Instant::ZERO)
        .unwrap();
    let t = c
        .poll_transmit(Ctx::new(&node, &mut cfg), Instant::ZERO, &mut buf)
        .unwrap()
        .unwrap();
    assert_eq!((t.request, t.end_to_end), (0, None), "a new request");
    assert_eq!(t.deadline, Instant::from_secs(10), "answer_timeout");
    // In flight: nothing more to send.
    assert!(c
        .poll_transmit(Ctx::new(&node, &mut cfg), Instant::from_secs(9), &mut buf)
        .is_none());
    // Timed out at its deadline, having gone out as 0x1234_5678.
    let failed = RequestFailed {
        request: 0,
        failure: Failure::TimedOut,
        end_to_end: Some(0x1234_5678),
    };
    c.handle_request_failed(Ctx::new(&node, &mut cfg), t.deadline, failed);
    assert!(drain(&mut c).is_empty(), "one failure of three");
    // Retried after retry_interval (5 s), not before.
    assert_eq!(c.poll_timeout(), Some(Instant::from_secs(15)));
    assert!(c
        .poll_transmit(Ctx::new(&node, &mut cfg), Instant(14_999), &mut buf)
        .is_none());
    let t2 = c
        .poll_transmit(Ctx::new(&node, &mut cfg), Instant::from_secs(15), &mut buf)
        .unwrap()
        .unwrap();
    assert_eq!((t2.request, t2.end_to_end), (0, Some(0x1234_5678)));
    assert_eq!(t2.deadline, Instant::from_secs(25));
    // Every later attempt keeps the first id, even if a failure reports
    // another one.
    let failed = RequestFailed {
        end_to_end: Some(0x9999),
        ..failed
    };
    c.handle_request_failed(Ctx::new(&node, &mut cfg), t2.deadline, failed);
    let t3 = c
        .poll_transmit(Ctx::new(&node, &mut cfg), Instant::from_secs(30), &mut buf)
        .unwrap()
        .unwrap();
    assert_eq!(t3.end_to_end, Some(0x1234_5678));

    // The id can also come from the answer's header: a 4002 answer to a
    // first attempt sent as 0x4242 makes the retry carry 0x4242.
    let mut c: AccountingClient<4> = AccountingClient::new(call_info());
    c.event(Instant::ZERO).unwrap();
    let t = c
        .poll_transmit(Ctx::new(&node, &mut cfg), Instant::ZERO, &mut buf)
        .unwrap()
        .unwrap();
    assert_eq!(t.end_to_end, None);
    buf[16..20].copy_from_slice(&0x4242u32.to_be_bytes());
    let ans = answer_for(&buf[..t.len], 4002, true);
    c.handle_answer(
        Ctx::new(&node, &mut cfg),
        Instant(50),
        t.request,
        &validated(&ans),
    );
    assert_eq!(c.state(), ClientState::PendingEvent);
    let t = c
        .poll_transmit(Ctx::new(&node, &mut cfg), Instant(5_050), &mut buf)
        .unwrap()
        .unwrap();
    assert_eq!(t.end_to_end, Some(0x4242));

    // The same through the simulated peer: every retransmission (T flag)
    // carries the id of the first attempt, which the sim checks on the wire.
    let mut sim: Sim<4> = Sim::scenario();
    sim.fate = Box::new(|s: &Sent| {
        if s.at < Instant::from_secs(40) {
            Fate::LoseRequest
        } else {
            Fate::Deliver
        }
    });
    sim.answer_call().unwrap();
    sim.run_until(Instant::from_secs(60));
    let starts: Vec<&Sent> = sim.sent.iter().filter(|s| s.number == 0).collect();
    assert!(starts.len() >= 3, "{starts:?}");
    assert!(!starts[0].t_flag && starts[1..].iter().all(|s| s.t_flag));
    assert!(starts.iter().all(|s| s.end_to_end == starts[0].end_to_end));
}

/// New in the `endpoint` API: a record handed back by a failed connection
/// ([`Failure::HandedBack`], RFC 6733 §5.5.4 failover) goes out again at
/// once, with the T flag and its first End-to-End id, and the hand-back is
/// not a failed attempt: even with `max_attempts = 1` under GRANT_AND_LOSE
/// nothing is lost until a real attempt fails (RFC 6733 §9.4, §9.8.7).
#[test]
fn a_handed_back_record_is_resent_at_once_and_is_not_a_failed_attempt() {
    let node = client_node();
    let mut cfg = client_config();
    cfg.max_attempts = 1;
    cfg.realtime_required = GrantAndLose;
    let mut c: AccountingClient<4> = AccountingClient::new(call_info());
    let mut buf = [0u8; 1024];
    c.call_answered(Ctx::new(&node, &mut cfg), Instant::ZERO)
        .unwrap();
    let t = c
        .poll_transmit(Ctx::new(&node, &mut cfg), Instant::ZERO, &mut buf)
        .unwrap()
        .unwrap();
    assert_eq!(t.end_to_end, None);
    let mut now = Instant::ZERO;
    for i in 1..=5u64 {
        now = Instant(i * 100);
        let failed = RequestFailed {
            request: 0,
            failure: Failure::HandedBack,
            end_to_end: Some(77),
        };
        c.handle_request_failed(Ctx::new(&node, &mut cfg), now, failed);
        assert!(drain(&mut c).is_empty(), "hand-back {i}: nothing lost");
        assert_eq!(c.state(), ClientState::PendingStart);
        // Due now, not after retry_interval.
        assert_eq!(c.poll_timeout(), Some(now));
        let t = c
            .poll_transmit(Ctx::new(&node, &mut cfg), now, &mut buf)
            .unwrap()
            .unwrap();
        assert_eq!((t.request, t.end_to_end), (0, Some(77)));
        assert_eq!(t.deadline, now + cfg.answer_timeout);
    }
    // One real failure is the one allowed attempt: lost.
    let failed = RequestFailed {
        request: 0,
        failure: Failure::TimedOut,
        end_to_end: Some(77),
    };
    c.handle_request_failed(Ctx::new(&node, &mut cfg), now, failed);
    assert_eq!(drain(&mut c), [AccountingEvent::RecordLost { number: 0 }]);

    // Through the simulated peer, under the default GRANT_AND_STORE: the
    // START is handed back twice (once after the server stored it), then
    // delivered; it is sent three times at the same instant, stored once.
    let mut sim: Sim<4> = Sim::scenario();
    sim.cfg.max_attempts = 1;
    let mut n = 0;
    sim.fate = Box::new(move |_| {
        n += 1;
        match n {
            1 => Fate::HandedBack,
            2 => Fate::HandedBackAfterServer,
            _ => Fate::Deliver,
        }
    });
    sim.answer_call().unwrap();
    sim.run_until(Instant::from_secs(1));
    let sent: Vec<(u64, bool)> = sim.sent.iter().map(|s| (s.at.0, s.t_flag)).collect();
    assert_eq!(sent, [(0, false), (50, true), (100, true)]);
    assert_eq!(
        sim.event_list(),
        [AccountingEvent::RecordAcknowledged {
            number: 0,
            record_type: StartRecord
        }]
    );
    assert!(!sim.client.service_stopped());
    assert_eq!(sim.stored_numbers(), [0]);
    assert_eq!(sim.server.server.stats().duplicates, 1);
}

/// The other failures of `session::Failure` are failed attempts (RFC 6733
/// §9.4): retried after `retry_interval`, counted against `max_attempts`.
/// A record that never went out (no End-to-End id reported, e.g. no peer
/// could take it) is not a retransmission: its next attempt gets fresh
/// identifiers and no T flag (RFC 6733 §5.5.4: only a request sent before
/// carries the T flag).
#[test]
fn other_failures_are_failed_attempts() {
    let node = client_node();
    let invalid = diameter_core::Error::new(diameter_core::ErrorKind::MissingAvp);
    let unsendable = diameter_core::EncodeError::InvalidValue;
    for (failure, sent) in [
        (Failure::TimedOut, true),
        (Failure::InvalidAnswer(invalid), true),
        (Failure::Unreachable, false),
        (Failure::Unsendable(unsendable), false),
    ] {
        let mut cfg = client_config();
        cfg.max_attempts = 2;
        cfg.realtime_required = GrantAndLose;
        let mut c: AccountingClient<4> = AccountingClient::new(call_info());
        let mut buf = [0u8; 1024];
        c.event(Instant::ZERO).unwrap();
        let failed = RequestFailed {
            request: 0,
            failure,
            end_to_end: sent.then_some(0x77),
        };
        for attempt in 1..=2u64 {
            let at = Instant::from_secs(10 * attempt);
            let t = c
                .poll_transmit(Ctx::new(&node, &mut cfg), at, &mut buf)
                .unwrap()
                .unwrap();
            let want = (attempt > 1 && sent).then_some(0x77);
            assert_eq!(t.end_to_end, want, "{failure:?} attempt {attempt}");
            c.handle_request_failed(Ctx::new(&node, &mut cfg), at, failed);
            if attempt == 1 {
                assert!(drain(&mut c).is_empty(), "{failure:?}");
                assert_eq!(c.poll_timeout(), Some(at + cfg.retry_interval));
            }
        }
        assert_eq!(
            drain(&mut c),
            [
                AccountingEvent::RecordLost { number: 0 },
                AccountingEvent::Finished
            ],
            "{failure:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Store full
// ---------------------------------------------------------------------------

#[test]
fn store_full_refuses_and_loses_nothing() {
    // Two slots: START (undeliverable) and one INTERIM.
    let mut sim: Sim<2> = Sim::scenario();
    sim.fate = Box::new(|s: &Sent| {
        if s.at < Instant::from_secs(100) {
            Fate::LoseRequest
        } else {
            Fate::Deliver
        }
    });
    sim.answer_call().unwrap();
    sim.run_until(Instant::from_secs(70));
    assert!(sim.client.stored_records().eq([0, 1]));
    // The unsent interim was overwritten at 60 s, not duplicated (RFC 6733
    // §9.4: one pending interim).
    assert_eq!(sim.client.next_record_number(), 2);
    assert_eq!(sim.end_call(), Err(AccountingError::StoreFull));
    assert_eq!(sim.client.stops(), 0);
    assert!(sim.client.stored_records().eq([0, 1]));
    assert_eq!(sim.client.state(), ClientState::PendingStart);
    // GRANT_AND_STORE: nothing reported lost, no stop.
    assert!(sim.events.is_empty(), "{:?}", sim.events);

    // The server comes back at 100 s; once a record is settled the STOP fits.
    let mut ended_at = None;
    for t in 71..400 {
        sim.run_until(Instant::from_secs(t));
        if ended_at.is_none() && sim.end_call().is_ok() {
            ended_at = Some(t);
        }
    }
    assert!(ended_at.unwrap() >= 100);
    assert_eq!(sim.client.state(), ClientState::Ended);
    let got: Vec<(AccountingRecordType, u32)> = sim
        .server
        .sink()
        .records
        .iter()
        .map(|r| (r.record_type, r.number))
        .collect();
    assert_eq!(got, [(StartRecord, 0), (InterimRecord, 1), (StopRecord, 2)]);
    // The interim carries the time of its latest overwrite: due at about
    // 30, 60 and 90 s (randomized by up to 3 s, RFC 6733 §9.8.2) while
    // START was stuck, sent only after START at 105 s.
    let d = sim.server.sink().records[1].duration.unwrap();
    assert!((87..=93).contains(&d), "{d}");
}

#[test]
fn interim_with_no_room_follows_the_policy() {
    // RFC 6733 §9.8.7 / §8.2: an interim that cannot be stored is a
    // delivery failure; only GRANT_AND_LOSE keeps the service.
    for (policy, stop) in [
        (GrantAndStore, true),
        (DeliverAndGrant, true),
        (GrantAndLose, false),
    ] {
        let mut cc = client_config();
        cc.realtime_required = policy;
        cc.max_attempts = 100;
        let mut sim: Sim<1> = Sim::new(cc, server_config(), call_info(), Instant::ZERO);
        sim.fate = Box::new(|_| Fate::LoseRequest);
        sim.answer_call().unwrap();
        sim.run_until(Instant::from_secs(31));
        assert_eq!(sim.client.skipped_interims(), 1, "{policy:?}");
        assert!(sim.client.stored_records().eq([0]));
        assert_eq!(
            sim.event_list().contains(&AccountingEvent::StopService),
            stop,
            "{policy:?}"
        );
        assert_eq!(sim.client.service_stopped(), stop);
    }
}

// ---------------------------------------------------------------------------
// Accounting-Realtime-Required (RFC 6733 §9.8.7)
// ---------------------------------------------------------------------------

/// Server unreachable until `up_at`; answer at 0, hang up at 67 s. Each
/// attempt waits 5 s for its answer (the request deadline is
/// `AccountingConfig::answer_timeout`), then 5 s before the retry.
fn outage(policy: AccountingRealtimeRequired, up_at: u64) -> Sim<4> {
    let mut cc = client_config();
    cc.realtime_required = policy;
    cc.max_attempts = 3;
    cc.retry_interval = Duration::from_secs(5);
    cc.answer_timeout = Duration::from_secs(5);
    let mut sim: Sim<4> = Sim::new(cc, server_config(), call_info(), Instant::ZERO);
    sim.fate = Box::new(move |s: &Sent| {
        if s.at < Instant::from_secs(up_at) {
            Fate::LoseRequest
        } else {
            Fate::Deliver
        }
    });
    sim.answer_call().unwrap();
    sim.run_until(Instant::from_secs(67));
    let _ = sim.end_call();
    sim.run_until(Instant::from_secs(1000));
    sim
}

#[test]
fn deliver_and_grant_stops_the_service_and_keeps_the_records() {
    let sim = outage(DeliverAndGrant, 200);
    let ev = sim.event_list();
    // Third failure of START: 0 → fail 5 → resend 10 → fail 15 → resend 20
    // → fail 25: StopService at 25 s, once.
    let stops: Vec<Instant> = sim
        .events
        .iter()
        .filter(|e| e.1 == AccountingEvent::StopService)
        .map(|e| e.0)
        .collect();
    assert_eq!(stops, [Instant::from_secs(25)]);
    assert!(!ev
        .iter()
        .any(|e| matches!(e, AccountingEvent::RecordLost { .. })));
    // Everything arrives once the server is back.
    assert_eq!(sim.stored_numbers(), [0, 1, 2]);
    assert_eq!(sim.client.state(), ClientState::Ended);
    // Only the unsent interim was overwritten: one INTERIM, numbered 1.
    assert_eq!(sim.server.sink().records[1].record_type, InterimRecord);
}

#[test]
fn grant_and_store_keeps_retrying() {
    let sim = outage(GrantAndStore, 500);
    let ev = sim.event_list();
    assert!(!ev.contains(&AccountingEvent::StopService));
    assert!(!ev
        .iter()
        .any(|e| matches!(e, AccountingEvent::RecordLost { .. })));
    // START was tried many times before the server came back.
    let tries = sim.sent.iter().filter(|s| s.number == 0).count();
    assert!(tries > 40, "{tries}");
    assert!(sim
        .sent
        .iter()
        .filter(|s| s.number == 0)
        .skip(1)
        .all(|s| s.t_flag));
    assert_eq!(sim.stored_numbers(), [0, 1, 2]);
    assert_eq!(sim.client.state(), ClientState::Ended);
}

#[test]
fn grant_and_lose_reports_every_lost_record() {
    let sim = outage(GrantAndLose, 60);
    let ev = sim.event_list();
    assert!(!ev.contains(&AccountingEvent::StopService));
    // START: sent at 0, 10, 20 s, given up at 25 s. INTERIM 1 (30 s): sent
    // at 30, 40, 50 s, given up at 55 s. The server is back at 60 s for
    // INTERIM 2 and the STOP.
    let lost: Vec<u32> = ev
        .iter()
        .filter_map(|e| match e {
            AccountingEvent::RecordLost { number } => Some(*number),
            _ => None,
        })
        .collect();
    let acked: Vec<u32> = ev
        .iter()
        .filter_map(|e| match e {
            AccountingEvent::RecordAcknowledged { number, .. } => Some(*number),
            _ => None,
        })
        .collect();
    assert_eq!(lost, [0, 1]);
    assert_eq!(acked, [2, 3]);
    let mut all: Vec<u32> = lost.iter().chain(&acked).copied().collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (0..sim.client.next_record_number()).collect::<Vec<_>>()
    );
    assert_eq!(sim.client.state(), ClientState::Ended);
    // The server sees the gap (RFC 6733 §9.8.3).
    let sink = sim.server.sink();
    assert_eq!(sim.stored_numbers(), acked);
    assert_eq!(
        sink.anomalies,
        [(SID.to_string(), Anomaly::Missing { first: 0, last: 1 })]
    );
}

#[test]
fn server_policy_and_rejections() {
    // The server tells the client GRANT_AND_LOSE (RFC 6733 §9.8.7: the
    // ACA's Accounting-Realtime-Required overrides ours).
    let mut sc = server_config();
    sc.realtime_required = Some(GrantAndLose);
    let mut sim: Sim<4> = Sim::new(client_config(), sc, call_info(), Instant::ZERO);
    sim.answer_call().unwrap();
    sim.run_until(Instant::from_secs(1));
    assert_eq!(sim.client.realtime_required(&sim.cfg), GrantAndLose);
    assert!(sim
        .event_list()
        .contains(&AccountingEvent::RealtimeRequiredChanged(GrantAndLose)));
    assert_avps(
        &sim.answers[0].bytes,
        &aca_avps(2, 0, 2001, &[(85, u(30)), (483, e(3))]),
    );
    // The typed view reads it.
    let aca = diameter_cc::msg::Aca::decode(&validated(&sim.answers[0].bytes)).unwrap();
    assert_eq!(aca.accounting_realtime_required, Some(GrantAndLose));

    // A permanent failure (RFC 6733 §7.1.5, §8.2 "failed accounting
    // answer"): reported, not resent; GRANT_AND_STORE stops the service.
    let node = client_node();
    let mut cfg: AccountingConfig = client_config();
    let mut c: AccountingClient<4> = AccountingClient::new(call_info());
    c.call_answered(Ctx::new(&node, &mut cfg), Instant::ZERO)
        .unwrap();
    let mut buf = [0u8; 1024];
    let t = c
        .poll_transmit(Ctx::new(&node, &mut cfg), Instant::ZERO, &mut buf)
        .unwrap()
        .unwrap();
    let ans = answer_for(&buf[..t.len], 5012, true);
    c.handle_answer(
        Ctx::new(&node, &mut cfg),
        Instant::ZERO,
        t.request,
        &validated(&ans),
    );
    assert_eq!(
        drain(&mut c),
        [
            AccountingEvent::RecordRejected {
                number: 0,
                result_code: ResultCode(5012)
            },
            AccountingEvent::StopService
        ]
    );
    assert_eq!(c.state(), ClientState::Open);
    assert!(c
        .poll_transmit(Ctx::new(&node, &mut cfg), Instant::from_secs(100), &mut buf)
        .is_none());
}
