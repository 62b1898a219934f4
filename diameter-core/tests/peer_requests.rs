//! Peer machines (`diameter_core::peer`) through the simulator of
//! `peer_harness`: application requests and answers (per-request deadlines,
//! back-pressure, error answers 3001/3007/5005/5004, duplicate detection,
//! answers matching nothing, answers that fail validation, queued answers,
//! End-to-End identifiers).

mod peer_harness;

use std::time::Duration;

use diameter_core::dict::base::{self, AccountingRecordType, DisconnectCause};
use diameter_core::peer::{
    set_retransmit_flag, DownReason, DropReason, Event, Incoming, PeerConfig, SendError,
};
use diameter_core::time::Instant;
use diameter_core::{
    ApplicationId, AvpFlags, CommandCode, CommandFlags, EncodeError, HeaderRepr, Message,
    MessageBuilder, ParseConfig,
};
use peer_harness::wireshark::{decodes_every_message, Scenario};
use peer_harness::Side::{I, R};
use peer_harness::*;

// ---------------------------------------------------------------------------
// Scenarios (each returns its Pair so the Wireshark test can replay it)
// ---------------------------------------------------------------------------

/// Requests sent 3 s apart with the same wait (the application's 10 s):
/// each times out 10 s after it was sent.
fn s_request_timeout() -> Pair {
    let mut p = open_pair();
    p.auto_answer[R.ix()] = false;
    let t0 = p.now.0;
    p.send(I, acr(CLIENT, "client.example.org;1;to", 1), 1)
        .unwrap();
    p.sleep(3_000);
    p.send(I, acr(CLIENT, "client.example.org;2;to", 2), 2)
        .unwrap();
    p.advance_to(t0 + 10_000 - 1);
    assert_eq!(p.peer(I).pending_len(), 2);
    assert!(p.take_timed_events(I).is_empty());
    p.advance_to(t0 + 13_000);
    let e2e = |p: &Pair, t: u64| p.ends[I.ix()].sent[&t].e2e;
    let (e1, e2) = (e2e(&p, 1), e2e(&p, 2));
    assert_eq!(
        p.take_timed_events(I),
        [
            (
                t0 + 10_000,
                Event::RequestTimedOut {
                    token: 1,
                    end_to_end: e1
                }
            ),
            (
                t0 + 13_000,
                Event::RequestTimedOut {
                    token: 2,
                    end_to_end: e2
                }
            )
        ]
    );
    assert_eq!(p.peer(I).pending_len(), 0);
    // A late answer matches nothing.
    p.answer_held(R, 0, 2001);
    assert_eq!(
        p.take_got(I).last(),
        Some(&Got::Dropped(DropReason::UnmatchedAnswer))
    );
    assert_eq!(p.peer(I).stats().unmatched_answers, 1);
    // The connection stays up (DWRs answered meanwhile).
    assert!(p.peer(I).is_open());
    p.check_all_ended(I);
    p
}

fn s_backpressure() -> Pair {
    let mut p = open_pair();
    p.auto_answer[R.ix()] = false;
    for t in 1..=P as u64 {
        p.send(
            I,
            acr(CLIENT, &format!("client.example.org;{t};bp"), t as u32),
            t,
        )
        .unwrap();
    }
    assert_eq!(p.peer(I).pending_len(), P);
    assert_eq!(p.peer(I).pending_capacity(), P);
    let ladder_before = p.log.len();
    assert_eq!(
        p.send(I, acr(CLIENT, "client.example.org;5;bp", 5), 5),
        Err(SendError::Full)
    );
    assert_eq!(p.log.len(), ladder_before, "nothing written");
    assert_eq!(p.peer(I).pending_len(), P);
    // One answer frees one slot.
    p.answer_held(R, 0, 2001);
    assert_eq!(p.ends[I.ix()].ended[&1], Ending::Answered(Some(2001)));
    assert_eq!(p.peer(I).pending_len(), P - 1);
    p.send(I, acr(CLIENT, "client.example.org;6;bp", 6), 6)
        .unwrap();
    assert_eq!(
        p.send(I, acr(CLIENT, "client.example.org;7;bp", 7), 7),
        Err(SendError::Full)
    );
    // Answer everything, then the table is empty.
    while !p.ends[R.ix()].requests.is_empty() {
        p.answer_held(R, 0, 2001);
    }
    assert_eq!(p.peer(I).pending_len(), 0);
    for t in [2, 3, 4, 6] {
        assert_eq!(p.ends[I.ix()].ended[&t], Ending::Answered(Some(2001)));
    }
    // Other send errors.
    let now = p.now;
    let deadline = now + REQUEST_TIMEOUT;
    let mut short = [1u8; 12];
    assert_eq!(
        p.end_mut(I)
            .peer
            .send_request(now, &mut short, 99, deadline),
        Err(SendError::NotARequest)
    );
    let mut ans = answer_for(&client_cfg(), &p.ends[I.ix()].sent[&1].bytes, 2001);
    assert_eq!(
        p.end_mut(I).peer.send_request(now, &mut ans, 99, deadline),
        Err(SendError::NotARequest)
    );
    let mut other_app = acr(CLIENT, "client.example.org;8;bp", 8);
    other_app[8..12].copy_from_slice(&16_777_251u32.to_be_bytes());
    assert_eq!(
        p.end_mut(I)
            .peer
            .send_request(now, &mut other_app, 99, deadline),
        Err(SendError::ApplicationNotSupported)
    );
    p.check_all_ended(I);
    p
}

fn s_error_answers() -> Pair {
    let mut p = open_pair();

    // Unknown command in a negotiated application: 3001, E bit.
    let mut unknown = acr(CLIENT, "client.example.org;1;3001", 1);
    unknown[5..8].copy_from_slice(&999u32.to_be_bytes()[1..]);
    p.send(I, unknown, 1).unwrap();
    assert_eq!(p.take_ladder(), ["I>R 999-R", "R>I 999-A 3001 E"]);
    assert_eq!(p.take_got(R), [Got::Rejected(3001)]);
    let req = p.ends[I.ix()].sent[&1].bytes.clone();
    let ans = p.last(R, "999-A");
    assert_bytes(
        &ans,
        &expect_error(&req, &server_identity(), 3001, &[], None),
        "3001",
    );
    let m = Message::parse_with(&ans, &base::Base).unwrap();
    assert!(m.flags().is_error() && m.flags().is_proxiable() && !m.is_request());
    assert_eq!(ids(&ans), ids(&req));
    assert_eq!(m.session_id(), Some("client.example.org;1;3001"));
    assert_eq!(m.get(&base::ORIGIN_HOST).unwrap(), Some(SERVER));
    assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(3001));
    diameter_core::message::validate_set(
        m.avps(),
        &base::ERROR_ANSWER,
        &base::Base,
        &ParseConfig::DEFAULT,
        0,
    )
    .expect("answer-message grammar");
    assert_eq!(p.ends[I.ix()].ended[&1], Ending::Answered(Some(3001)));

    // An unknown command in the common application (0), which every node
    // supports and `send_request` accepts: also 3001, not 3007.
    let mut common = acr(CLIENT, "client.example.org;5;3001", 5);
    common[5..8].copy_from_slice(&999u32.to_be_bytes()[1..]);
    common[8..12].copy_from_slice(&0u32.to_be_bytes());
    p.send(I, common, 5).unwrap();
    assert_eq!(p.take_ladder(), ["I>R 999-R", "R>I 999-A 3001 E"]);
    assert_eq!(p.take_got(R), [Got::Rejected(3001)]);
    let req = p.ends[I.ix()].sent[&5].bytes.clone();
    assert_bytes(
        &p.last(R, "999-A"),
        &expect_error(&req, &server_identity(), 3001, &[], None),
        "3001 in application 0",
    );
    assert_eq!(p.ends[I.ix()].ended[&5], Ending::Answered(Some(3001)));

    // An application the client did not negotiate: 3007, E bit. The client
    // machine refuses to send it, so its application writes it raw.
    let mut foreign = acr(CLIENT, "client.example.org;2;3007", 2);
    foreign[8..12].copy_from_slice(&16_777_251u32.to_be_bytes());
    assert_eq!(
        p.send(I, foreign.clone(), 2),
        Err(SendError::ApplicationNotSupported)
    );
    let foreign = raw_request(foreign, 0x7777_0001, 0x7777_0002);
    p.app_write(I, &foreign);
    p.run();
    assert_eq!(p.take_ladder(), ["I>R ACR", "R>I ACA 3007 E"]);
    assert_eq!(p.take_got(R), [Got::Rejected(3007)]);
    let ans = p.last(R, "ACA");
    assert_bytes(
        &ans,
        &expect_error(&foreign, &server_identity(), 3007, &[], None),
        "3007",
    );
    // ... and to the client machine it answers nothing it sent.
    assert_eq!(
        p.take_got(I),
        [
            Got::Answer {
                token: 1,
                rc: Some(3001)
            },
            Got::Answer {
                token: 5,
                rc: Some(3001)
            },
            Got::Dropped(DropReason::UnmatchedAnswer)
        ]
    );

    // A malformed request: Accounting-Record-Number missing: 5005 with a
    // Failed-AVP holding a zero-filled example of it; no E bit.
    let short = build(
        HeaderRepr::request(
            CommandCode::ACCOUNTING,
            ApplicationId::BASE_ACCOUNTING,
            0,
            0,
        )
        .proxiable(true),
        |b| {
            b.put(&base::SESSION_ID, "client.example.org;3;5005")
                .put(&base::ORIGIN_HOST, CLIENT)
                .put(&base::ORIGIN_REALM, REALM)
                .put(&base::DESTINATION_REALM, REALM)
                .put(
                    &base::ACCOUNTING_RECORD_TYPE,
                    AccountingRecordType::EventRecord,
                );
        },
    );
    let hbh = p.send(I, short, 3).unwrap();
    assert_eq!(p.take_ladder(), ["I>R ACR", "R>I ACA 5005"]);
    assert_eq!(p.take_got(R), [Got::Rejected(5005)]);
    let req = p.ends[I.ix()].sent[&3].bytes.clone();
    let ans = p.last(R, "ACA");
    assert_eq!(ids(&ans).0, hbh);
    assert_bytes(
        &ans,
        &expect_error(
            &req,
            &server_identity(),
            5005,
            // Changed on purpose: an answer without the E bit follows the
            // ACA grammar, so the request's Accounting-Record-Type is echoed.
            &[480],
            Some((485, AvpFlags::MANDATORY, &[0, 0, 0, 0])),
        ),
        "5005",
    );
    let m = Message::parse_with(&ans, &base::Base).unwrap();
    assert!(!m.flags().is_error());
    let failed = m.get(&base::FAILED_AVP).unwrap().expect("Failed-AVP");
    let inner = failed.iter().next().unwrap().unwrap();
    assert_eq!((inner.code(), inner.data()), (485, &[0u8, 0, 0, 0][..]));
    assert_eq!(p.ends[I.ix()].ended[&3], Ending::Answered(Some(5005)));

    // A bad value: Origin-Host not UTF-8: 5004, the AVP echoed.
    let bad = build(
        HeaderRepr::request(
            CommandCode::ACCOUNTING,
            ApplicationId::BASE_ACCOUNTING,
            0,
            0,
        )
        .proxiable(true),
        |b| {
            b.put(&base::SESSION_ID, "client.example.org;4;5004")
                .put_raw(264, None, AvpFlags::MANDATORY, &[0xff, 0xfe, b'x'])
                .put(&base::ORIGIN_REALM, REALM)
                .put(&base::DESTINATION_REALM, REALM)
                .put(
                    &base::ACCOUNTING_RECORD_TYPE,
                    AccountingRecordType::EventRecord,
                )
                .put(&base::ACCOUNTING_RECORD_NUMBER, 4);
        },
    );
    p.send(I, bad, 4).unwrap();
    assert_eq!(p.take_ladder(), ["I>R ACR", "R>I ACA 5004"]);
    let req = p.ends[I.ix()].sent[&4].bytes.clone();
    assert_bytes(
        &p.last(R, "ACA"),
        &expect_error(
            &req,
            &server_identity(),
            5004,
            &[480, 485],
            Some((264, AvpFlags::MANDATORY, &[0xff, 0xfe, b'x'])),
        ),
        "5004",
    );
    assert_eq!(p.peer(R).stats().rejected_requests, 5);
    assert!(p.peer(I).is_open() && p.peer(R).is_open());
    p.check_all_ended(I);
    p
}

fn s_duplicates() -> Pair {
    let mut p = open_pair();
    let req = acr(CLIENT, "client.example.org;1;dup", 1);
    p.send(I, req.clone(), 1).unwrap();
    let (h1, e1) = (p.ends[I.ix()].sent[&1].hbh, p.ends[I.ix()].sent[&1].e2e);
    // Retransmission (T flag) keeps the End-to-End id: a duplicate.
    let mut again = p.ends[I.ix()].sent[&1].bytes.clone();
    set_retransmit_flag(&mut again);
    let h2 = p.send(I, again, 2).unwrap();
    assert_ne!(h1, h2);
    assert_eq!(p.ends[I.ix()].sent[&2].e2e, e1);
    // Without the T flag the machine assigns a fresh End-to-End id.
    p.send(I, req.clone(), 3).unwrap();
    assert_ne!(p.ends[I.ix()].sent[&3].e2e, e1);
    // The same End-to-End id again without the T flag (written raw): seen
    // before, but not flagged (§6.5 only trusts the T flag).
    let raw = raw_request(p.ends[I.ix()].sent[&1].bytes.clone(), 0x5555_0001, e1);
    p.app_write(I, &raw);
    p.run();
    assert_eq!(
        p.take_ladder(),
        [
            "I>R ACR",
            "R>I ACA 2001",
            "I>R ACR T",
            "R>I ACA 2001",
            "I>R ACR",
            "R>I ACA 2001",
            "I>R ACR",
            "R>I ACA 2001"
        ]
    );
    let dups: Vec<(bool, bool)> = p
        .take_got(R)
        .into_iter()
        .map(|g| match g {
            Got::Request {
                retransmit,
                duplicate,
                ..
            } => (retransmit, duplicate),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        dups,
        [(false, false), (true, true), (false, false), (false, false)]
    );
    assert_eq!(p.peer(R).stats().duplicates, 1);
    // After the duplicate window (60 s) a retransmission is new again.
    p.sleep(61_000);
    p.take_ladder();
    let mut late = p.ends[I.ix()].sent[&1].bytes.clone();
    set_retransmit_flag(&mut late);
    p.send(I, late, 4).unwrap();
    assert_eq!(
        p.take_got(R).last(),
        Some(&Got::Request {
            code: 271,
            hbh: p.ends[I.ix()].sent[&4].hbh,
            e2e: e1,
            retransmit: true,
            duplicate: false
        })
    );
    // A different Session-Id with the same End-to-End is not a duplicate.
    let mut other = acr(CLIENT, "client.example.org;2;dup", 1);
    other[16..20].copy_from_slice(&e1.to_be_bytes());
    set_retransmit_flag(&mut other);
    p.send(I, other, 5).unwrap();
    assert!(matches!(
        p.take_got(R).last(),
        Some(Got::Request {
            duplicate: false,
            ..
        })
    ));
    assert_eq!(p.peer(R).stats().duplicates, 1);
    p.check_all_ended(I);
    p
}

fn s_answer_never_sent() -> Pair {
    let mut p = open_pair();
    p.auto_answer[R.ix()] = false;
    p.send(I, acr(CLIENT, "client.example.org;1;unsent", 1), 1)
        .unwrap();
    let req = p.ends[R.ix()].requests[0].clone();
    // An answer whose Hop-by-Hop matches nothing.
    let fake = raw_request(
        acr(CLIENT, "client.example.org;9;unsent", 9),
        0xdead_0001,
        0x1,
    );
    let a = answer_for(&server_cfg(), &fake, 2001);
    p.app_write(R, &a);
    p.run();
    // The right Hop-by-Hop with the wrong End-to-End.
    let mut wrong = answer_for(&server_cfg(), &req, 2001);
    let e = u32::from_be_bytes(wrong[16..20].try_into().unwrap());
    wrong[16..20].copy_from_slice(&(e ^ 1).to_be_bytes());
    p.app_write(R, &wrong);
    p.run();
    assert_eq!(
        p.take_got(I),
        [
            Got::Dropped(DropReason::UnmatchedAnswer),
            Got::Dropped(DropReason::UnmatchedAnswer)
        ]
    );
    assert_eq!(p.peer(I).stats().unmatched_answers, 2);
    assert_eq!(p.peer(I).pending_len(), 1);
    // The real answer still matches, once.
    p.answer_held(R, 0, 2001);
    assert_eq!(
        p.take_got(I),
        [Got::Answer {
            token: 1,
            rc: Some(2001)
        }]
    );
    let a = answer_for(&server_cfg(), &req, 2001);
    p.app_write(R, &a);
    p.run();
    assert_eq!(p.take_got(I), [Got::Dropped(DropReason::UnmatchedAnswer)]);
    assert_eq!(p.peer(I).stats().unmatched_answers, 3);
    assert!(p.peer(I).is_open());
    p.check_all_ended(I);
    p
}

// ---------------------------------------------------------------------------
// New behaviour of the `endpoint` API
// ---------------------------------------------------------------------------

/// The RequestTimedOut events of `side`, with their times.
fn timeouts(p: &mut Pair, side: Side) -> Vec<(u64, Event)> {
    p.take_timed_events(side)
        .into_iter()
        .filter(|(_, e)| matches!(e, Event::RequestTimedOut { .. }))
        .collect()
}

fn timed_out(token: u64, end_to_end: u32) -> Event {
    Event::RequestTimedOut { token, end_to_end }
}

/// New: a request's deadline is the one its sender gave `send_request`
/// (there is no machine-wide request timeout any more). Requests with
/// different deadlines time out at their own times, in deadline order
/// rather than send order, and RequestTimedOut carries the End-to-End id
/// the request went out with (to keep on retransmission).
fn s_request_deadlines() -> Pair {
    let mut p = open_pair();
    p.auto_answer[R.ix()] = false;
    let t0 = p.now.0;
    // A long wait first, then a short one.
    p.send_until(
        I,
        acr(CLIENT, "client.example.org;1;dl", 1),
        1,
        Instant(t0 + 20_000),
    )
    .unwrap();
    p.sleep(1_000);
    p.send_until(
        I,
        acr(CLIENT, "client.example.org;2;dl", 2),
        2,
        Instant(t0 + 5_000),
    )
    .unwrap();
    assert!(
        p.peer(I).poll_timeout().unwrap().0 <= t0 + 5_000,
        "the machine wakes up for the earliest deadline"
    );
    // A deadline that has already passed ends the request at once.
    p.send_until(I, acr(CLIENT, "client.example.org;3;dl", 3), 3, Instant(t0))
        .unwrap();
    let e2e = |p: &Pair, t: u64| p.ends[I.ix()].sent[&t].e2e;
    let (e1, e2, e3) = (e2e(&p, 1), e2e(&p, 2), e2e(&p, 3));
    assert!(e1 != e2 && e2 != e3 && e1 != e3);
    assert_eq!(timeouts(&mut p, I), [(t0 + 1_000, timed_out(3, e3))]);
    assert_eq!(p.peer(I).pending_len(), 2);

    p.advance_to(t0 + 5_000 - 1);
    assert_eq!(timeouts(&mut p, I), []);
    p.advance_to(t0 + 5_000);
    assert_eq!(timeouts(&mut p, I), [(t0 + 5_000, timed_out(2, e2))]);
    assert_eq!(p.peer(I).pending_len(), 1);
    p.advance_to(t0 + 20_000 - 1);
    assert_eq!(timeouts(&mut p, I), []);
    p.advance_to(t0 + 20_000);
    assert_eq!(timeouts(&mut p, I), [(t0 + 20_000, timed_out(1, e1))]);
    assert_eq!(p.peer(I).pending_len(), 0);
    assert_eq!(p.ends[I.ix()].ended[&2], Ending::TimedOut(e2));

    // Late answers match nothing; the connection stays up.
    while !p.ends[R.ix()].requests.is_empty() {
        p.answer_held(R, 0, 2001);
    }
    assert_eq!(
        p.take_got(I)
            .into_iter()
            .filter(|g| *g == Got::Dropped(DropReason::UnmatchedAnswer))
            .count(),
        3
    );
    assert!(p.peer(I).is_open());
    p.check_all_ended(I);
    p
}

/// An answer to the held request `req` with the AVPs `f` writes after the
/// Session-Id.
fn answer_with(req: &[u8], f: impl FnOnce(&mut MessageBuilder<'_>)) -> Vec<u8> {
    let m = Message::parse_with(req, &base::Base).expect("request parses");
    let mut buf = vec![0u8; 1024];
    let mut b = MessageBuilder::answer_to(&mut buf, &m);
    f(&mut b);
    let n = b.finish().expect("answer").len();
    buf.truncate(n);
    buf
}

/// New: answers are validated too (one walk, like requests). An answer
/// that fails validation ends its request with Incoming::InvalidAnswer
/// (it cannot be answered again); an answer whose Result-Code is not 2xxx
/// needs only the <answer-message> AVPs, and an E-bit answer is not checked
/// against the command's P bit.
fn s_invalid_answer() -> Pair {
    let mut p = open_pair();
    p.auto_answer[R.ix()] = false;
    for t in 1..=4u64 {
        let session = format!("client.example.org;{t};invalid");
        p.send(I, acr(CLIENT, &session, t as u32), t).unwrap();
    }
    p.take_ladder();
    let held = p.ends[R.ix()].requests.clone();
    let origin = |b: &mut MessageBuilder<'_>| {
        b.put(&base::ORIGIN_HOST, SERVER)
            .put(&base::ORIGIN_REALM, REALM);
    };

    // A success ACA without Accounting-Record-Number: 5005.
    let a = answer_with(&held[0], |b| {
        b.put(&base::RESULT_CODE, 2001);
        origin(b);
        b.put(
            &base::ACCOUNTING_RECORD_TYPE,
            AccountingRecordType::EventRecord,
        );
    });
    p.app_write(R, &a);
    p.run();
    assert_eq!(p.take_got(I), [Got::InvalidAnswer { token: 1, rc: 5005 }]);
    assert_eq!(p.ends[I.ix()].ended[&1], Ending::Invalid(5005));
    assert_eq!(p.peer(I).stats().invalid_answers, 1);
    assert_eq!(p.peer(I).pending_len(), 3);
    // The request ended: the valid answer, late, matches nothing.
    let late = answer_for(p.peer(R).config(), &held[0], 2001);
    p.app_write(R, &late);
    p.run();
    assert_eq!(p.take_got(I), [Got::Dropped(DropReason::UnmatchedAnswer)]);

    // A bad value: Origin-Host not UTF-8: 5004.
    let a = answer_with(&held[1], |b| {
        b.put(&base::RESULT_CODE, 2001)
            .put_raw(264, None, AvpFlags::MANDATORY, &[0xff, 0xfe, b'x'])
            .put(&base::ORIGIN_REALM, REALM)
            .put(
                &base::ACCOUNTING_RECORD_TYPE,
                AccountingRecordType::EventRecord,
            )
            .put(&base::ACCOUNTING_RECORD_NUMBER, 2);
    });
    p.app_write(R, &a);
    p.run();
    assert_eq!(p.take_got(I), [Got::InvalidAnswer { token: 2, rc: 5004 }]);
    assert_eq!(p.peer(I).stats().invalid_answers, 2);

    // A failure answer (5012) with only the <answer-message> AVPs is valid.
    let a = answer_with(&held[2], |b| {
        b.put(&base::RESULT_CODE, 5012);
        origin(b);
    });
    p.app_write(R, &a);
    p.run();
    assert_eq!(
        p.take_got(I),
        [Got::Answer {
            token: 3,
            rc: Some(5012)
        }]
    );

    // A protocol error (3002, E bit) without the P bit the ACA has: valid.
    let mut a = answer_with(&held[3], |b| {
        b.put(&base::RESULT_CODE, 3002);
        origin(b);
    });
    a[4] = (a[4] & !CommandFlags::PROXIABLE.0) | CommandFlags::ERROR.0;
    p.app_write(R, &a);
    p.run();
    assert_eq!(
        p.take_got(I),
        [Got::Answer {
            token: 4,
            rc: Some(3002)
        }]
    );
    assert_eq!(
        p.take_ladder(),
        [
            "R>I ACA 2001",
            "R>I ACA 2001",
            "R>I ACA 2001",
            "R>I ACA 5012",
            "R>I ACA 3002 E"
        ]
    );
    assert_eq!(p.peer(I).stats().invalid_answers, 2);
    assert!(p.peer(I).is_open() && p.peer(R).is_open());
    p.check_all_ended(I);
    p
}

/// `side`'s application answers its `i`-th held request through the
/// machine (`queue_answer`), with an Error-Message of `pad` octets; the
/// answer is not flushed (no `run`).
fn queue_held(p: &mut Pair, side: Side, i: usize, pad: usize) -> Result<usize, EncodeError> {
    let req = p.end_mut(side).requests.remove(i);
    let m = Message::parse_with(&req, &base::Base).expect("request parses");
    let local = p.peer(side).config().local.clone();
    let text = "x".repeat(pad);
    p.end_mut(side).peer.queue_answer(|buf| {
        let mut b = MessageBuilder::answer_to(buf, &m);
        b.put(&base::RESULT_CODE, 2001)
            .put(&base::ORIGIN_HOST, local.origin_host.as_str())
            .put(&base::ORIGIN_REALM, local.origin_realm.as_str());
        if let Ok(Some(t)) = m.get(&base::ACCOUNTING_RECORD_TYPE) {
            b.put(&base::ACCOUNTING_RECORD_TYPE, t);
        }
        if let Ok(Some(n)) = m.get(&base::ACCOUNTING_RECORD_NUMBER) {
            b.put(&base::ACCOUNTING_RECORD_NUMBER, n);
        }
        if pad > 0 {
            b.put(&base::ERROR_MESSAGE, text.as_str());
        }
        b.finish().map(|m| m.len())
    })
}

/// New: `queue_answer` appends an answer to the machine's own transmit
/// buffer, after whatever is queued there (its own messages, earlier
/// answers); one that does not fit in what is left closes the connection
/// with DownReason::TransmitOverflow and queues nothing.
fn s_queue_answer() -> Pair {
    let mut p = open_pair();
    p.auto_answer[R.ix()] = false;
    let send = |p: &mut Pair, t: u64| {
        let session = format!("client.example.org;{t};queue");
        p.send(I, acr(CLIENT, &session, t as u32), t).unwrap();
    };
    for t in 1..=3 {
        send(&mut p, t);
    }
    p.take_ladder();
    let held = p.ends[R.ix()].requests.clone();
    let server = server_cfg();

    // Two answers queued back to back go out in order, byte for byte.
    assert!(p.peer(R).transmit().is_empty());
    let n1 = queue_held(&mut p, R, 0, 0).unwrap();
    let n2 = queue_held(&mut p, R, 0, 0).unwrap();
    let mut want = answer_for(&server, &held[0], 2001);
    want.extend(answer_for(&server, &held[1], 2001));
    assert_eq!(n1 + n2, want.len());
    assert_bytes(p.peer(R).transmit(), &want, "two queued answers");
    p.run();
    assert_eq!(p.take_ladder(), ["R>I ACA 2001", "R>I ACA 2001"]);
    assert_eq!(p.ends[I.ix()].ended[&1], Ending::Answered(Some(2001)));
    assert_eq!(p.ends[I.ix()].ended[&2], Ending::Answered(Some(2001)));

    // After a message of the machine's own (the DWA to a DWR).
    let now = p.now;
    let dwr = expect_dwr(&client_identity(), 0x0dd0_0001, 0x0dd0_0002);
    assert_eq!(
        p.end_mut(R).peer.handle_message(now, &dwr, &base::Base),
        Incoming::Handled
    );
    queue_held(&mut p, R, 0, 0).unwrap();
    let mut want = expect_dwa(&server_identity(), 0x0dd0_0001, 0x0dd0_0002);
    want.extend(answer_for(&server, &held[2], 2001));
    assert_bytes(p.peer(R).transmit(), &want, "DWA, then the queued answer");
    p.run();
    assert_eq!(p.take_ladder(), ["R>I DWA 2001", "R>I ACA 2001"]);
    assert_eq!(p.ends[I.ix()].ended[&3], Ending::Answered(Some(2001)));
    p.take_events(I);
    p.take_events(R);
    send(&mut p, 4);
    send(&mut p, 5);
    p.take_ladder();

    // An answer of 3 000 octets fits the 4 096-octet buffer once, not twice:
    // the second closes the connection and is not queued.
    let big = queue_held(&mut p, R, 0, 2_900).unwrap();
    assert!((3_000..4_096).contains(&big), "{big}");
    let before = p.peer(R).transmit().to_vec();
    assert_eq!(before.len(), big);
    assert!(matches!(
        queue_held(&mut p, R, 0, 2_900),
        Err(EncodeError::BufferTooSmall { .. })
    ));
    assert_eq!(p.peer(R).transmit(), &before[..], "nothing queued");
    p.run();
    // What was queued before still went out, then the connection closed.
    assert_eq!(p.take_ladder(), ["R>I ACA 2001"]);
    assert_eq!(
        p.take_events(R),
        [Event::Down(DownReason::TransmitOverflow), Event::Close]
    );
    assert!(!p.conn);
    assert_eq!(p.ends[I.ix()].ended[&4], Ending::Answered(Some(2001)));
    let e5 = p.ends[I.ix()].sent[&5].e2e;
    assert_eq!(
        p.take_events(I),
        [
            Event::Down(DownReason::TransportClosed),
            Event::RequestHandedBack {
                token: 5,
                end_to_end: e5
            }
        ]
    );
    // No connection: nothing can be queued.
    assert_eq!(
        p.end_mut(R).peer.queue_answer(|_| Ok(0)),
        Err(EncodeError::InvalidValue)
    );
    p.check_all_ended(I);
    p
}

/// New: End-to-End ids carry the low 12 bits of the boot time in their
/// high 12 bits (RFC 6733 §3: unique across reboots); the low 20 bits
/// count from a seed-derived start, on every message the machine or the
/// application sends, and wrap without touching the high 12 bits.
fn s_end_to_end_boot_time() -> Pair {
    let mut last = None;
    for boot in [0u32, 0xfff, 0x1000, CLIENT_BOOT, 0x1234_5678, u32::MAX] {
        let high = boot & 0xfff;
        let mut ci = PeerConfig::new(client_identity(), boot);
        ci.tw = Duration::from_secs(6); // the client's DWR comes first
        let mut p = open_pair_with(ci, server_cfg());
        for t in 1..=3u64 {
            let session = format!("client.example.org;{t};boot");
            p.send(I, acr(CLIENT, &session, t as u32), t).unwrap();
        }
        p.fire_next(); // a DWR
        p.disconnect(I, DisconnectCause::Rebooting);
        let mine: Vec<u32> = p
            .log
            .iter()
            .filter(|w| w.from == I && msg_name(&w.bytes).starts_with(['C', 'A', 'D']))
            .filter(|w| HeaderRepr::parse(&w.bytes).unwrap().0.flags.is_request())
            .map(|w| ids(&w.bytes).1)
            .collect();
        let names: Vec<String> = p
            .log
            .iter()
            .filter(|w| w.from == I)
            .map(|w| msg_name(&w.bytes))
            .collect();
        assert_eq!(
            names,
            ["CER", "ACR", "ACR", "ACR", "DWR", "DPR"],
            "boot {boot:#x}"
        );
        for w in mine.windows(2) {
            assert_eq!(
                w[1],
                (w[0] & 0xfff0_0000) | (w[0].wrapping_add(1) & 0x000f_ffff)
            );
        }
        assert!(
            mine.iter().all(|e| e >> 20 == high),
            "boot {boot:#x}: {mine:08x?}"
        );
        // The server's own requests carry its boot time.
        assert!(p
            .find(R, "DWR")
            .iter()
            .chain(p.find(R, "DPR").iter())
            .all(|m| ids(m).1 >> 20 == SERVER_BOOT & 0xfff));
        last = Some(p);
    }
    // Another boot a second later starts elsewhere.
    let a = PeerConfig::new(client_identity(), 1_764_720_000);
    let b = PeerConfig::new(client_identity(), 1_764_720_001);
    let pa = open_pair_with(a, server_cfg());
    let pb = open_pair_with(b, server_cfg());
    assert_ne!(
        ids(&pa.last(I, "CER")).1 >> 20,
        ids(&pb.last(I, "CER")).1 >> 20
    );

    last.unwrap()
}

/// The low 20 bits of the End-to-End ids wrap inside them: 2^20 + 2
/// requests, each ended at once by a deadline already passed (not part of
/// the scenario list: nothing goes on the wire).
fn end_to_end_low_bits_wrap() {
    let mut p = open_pair_with(PeerConfig::new(client_identity(), 0xabc), server_cfg());
    let now = p.now;
    let mut bytes = acr(CLIENT, "client.example.org;1;wrap", 1);
    let mut prev = ids(&p.last(I, "CER")).1;
    let mut wrapped = 0;
    let peer = &mut p.end_mut(I).peer;
    for token in 0..(1u64 << 20) + 2 {
        peer.send_request(now, &mut bytes, token, now).unwrap();
        let e2e = ids(&bytes).1;
        assert_eq!(e2e >> 20, 0xabc);
        assert_eq!(e2e & 0xfffff, prev.wrapping_add(1) & 0xfffff);
        wrapped += u32::from(e2e & 0xfffff == 0);
        prev = e2e;
        assert_eq!(
            peer.poll_event(now),
            Some(Event::RequestTimedOut {
                token,
                end_to_end: e2e
            })
        );
        assert_eq!(peer.poll_event(now), None);
    }
    assert_eq!(wrapped, 1);
}

/// Every scenario of this file, by name.
const SCENARIOS: &[(&str, Scenario)] = &[
    ("request-timeout", s_request_timeout),
    ("backpressure", s_backpressure),
    ("error-answers", s_error_answers),
    ("duplicates", s_duplicates),
    ("answer-never-sent", s_answer_never_sent),
    ("request-deadlines", s_request_deadlines),
    ("invalid-answer", s_invalid_answer),
    ("queue-answer", s_queue_answer),
    ("end-to-end-boot-time", s_end_to_end_boot_time),
];

#[test]
fn request_timeouts() {
    s_request_timeout();
}

#[test]
fn backpressure_full_table() {
    s_backpressure();
}

#[test]
fn error_answers_3001_3007_5005() {
    s_error_answers();
}

#[test]
fn duplicate_detection_t_flag() {
    s_duplicates();
}

#[test]
fn answer_to_request_never_sent() {
    s_answer_never_sent();
}

#[test]
fn each_request_times_out_at_its_own_deadline() {
    s_request_deadlines();
}

#[test]
fn invalid_answer_ends_its_request() {
    s_invalid_answer();
}

#[test]
fn queue_answer_appends_and_overflow_closes() {
    s_queue_answer();
}

#[test]
fn end_to_end_ids_carry_boot_time() {
    s_end_to_end_boot_time();
    end_to_end_low_bits_wrap();
}

/// At least this many of the replayed messages come from the machines.
const MIN_MACHINE: usize = 50;

#[test]
fn wireshark_decodes_every_emitted_message() {
    decodes_every_message(SCENARIOS, MIN_MACHINE);
}
