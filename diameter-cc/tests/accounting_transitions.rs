//! The transition table of the accounting client (RFC 6733 §8.2, client
//! accounting state machine; see the state mapping in
//! `diameter_cc::client::accounting`): every (state, input) pair and its
//! outcome.

mod acct;

use acct::*;
use diameter_cc::client::accounting::{
    AccountingClient, AccountingConfig, AccountingError, AccountingEvent, ClientState,
};
use diameter_cc::session::{Ctx, Failure, Machine, Node, RequestFailed};
use diameter_core::dict::base::{self, AccountingRealtimeRequired, AccountingRecordType};
use diameter_core::time::Instant;
use diameter_core::{Message, ResultCode};

use AccountingRealtimeRequired::{DeliverAndGrant, GrantAndLose, GrantAndStore};
use AccountingRecordType::{EventRecord, InterimRecord, StartRecord, StopRecord};

/// Inputs of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    CallAnswered,
    CallEnded,
    Event,
    /// `handle_timeout` one interim interval (30 s) later.
    InterimTimer,
    /// ACA 2001 for the record in flight (or record 0 if none).
    AnswerSuccess,
    /// ACA 4002.
    AnswerOutOfSpace,
    /// ACA 5012.
    AnswerRejected,
    /// The request timed out; attempts remain.
    RequestFailed,
    /// The last allowed attempt failed, GRANT_AND_STORE.
    DeliveryFailedStore,
    /// The last allowed attempt failed, GRANT_AND_LOSE.
    DeliveryFailedLose,
    /// The last allowed attempt failed, DELIVER_AND_GRANT.
    DeliveryFailedDeliver,
    /// New in the `endpoint` API: the request was handed back by a failed
    /// connection (RFC 6733 §5.5.4), with one allowed attempt under
    /// GRANT_AND_LOSE: it is not a failed attempt, nothing is lost.
    HandedBack,
}

const INPUTS: [Input; 12] = [
    Input::CallAnswered,
    Input::CallEnded,
    Input::Event,
    Input::InterimTimer,
    Input::AnswerSuccess,
    Input::AnswerOutOfSpace,
    Input::AnswerRejected,
    Input::RequestFailed,
    Input::DeliveryFailedStore,
    Input::DeliveryFailedLose,
    Input::DeliveryFailedDeliver,
    Input::HandedBack,
];

const STATES: [ClientState; 7] = [
    ClientState::Idle,
    ClientState::PendingStart,
    ClientState::Open,
    ClientState::PendingInterim,
    ClientState::PendingStop,
    ClientState::PendingEvent,
    ClientState::Ended,
];

/// The immediate result of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum R {
    Ok,
    Err(AccountingError),
    /// For an answer or a failure of the record in flight: whether the
    /// machine took it, that is the record is no longer in flight afterwards
    /// (settled, or waiting for its retransmission). `handle_answer` and
    /// `handle_request_failed` return nothing now (the peer matches answers
    /// by Hop-by-Hop id); an input for a record not in flight changes
    /// nothing.
    Matched(bool),
    /// `handle_timeout` returns nothing.
    Unit,
}

type Row = (
    ClientState,
    Input,
    R,
    ClientState,
    &'static [AccountingEvent],
);

const fn ack(number: u32, record_type: AccountingRecordType) -> AccountingEvent {
    AccountingEvent::RecordAcknowledged {
        number,
        record_type,
    }
}
const fn rej(number: u32) -> AccountingEvent {
    AccountingEvent::RecordRejected {
        number,
        result_code: ResultCode(5012),
    }
}
const fn lost(number: u32) -> AccountingEvent {
    AccountingEvent::RecordLost { number }
}
const STOP: AccountingEvent = AccountingEvent::StopService;
const FIN: AccountingEvent = AccountingEvent::Finished;
const fn wrong(s: ClientState) -> R {
    R::Err(AccountingError::WrongState(s))
}

/// Every (state, input) pair and its outcome: result, next state, events.
/// In the Pending states the record in flight is: START 0, INTERIM 1 (after
/// START 0 was acknowledged), STOP 1 (after START 0), EVENT 0.
#[rustfmt::skip]
const TABLE: &[Row] = {
    use ClientState::*;
    use Input::*;
    &[
        (Idle, CallAnswered, R::Ok, PendingStart, &[]),
        (Idle, CallEnded, wrong(Idle), Idle, &[]),
        (Idle, Event, R::Ok, PendingEvent, &[]),
        (Idle, InterimTimer, R::Unit, Idle, &[]),
        (Idle, AnswerSuccess, R::Matched(false), Idle, &[]),
        (Idle, AnswerOutOfSpace, R::Matched(false), Idle, &[]),
        (Idle, AnswerRejected, R::Matched(false), Idle, &[]),
        (Idle, RequestFailed, R::Matched(false), Idle, &[]),
        (Idle, DeliveryFailedStore, R::Matched(false), Idle, &[]),
        (Idle, DeliveryFailedLose, R::Matched(false), Idle, &[]),
        (Idle, DeliveryFailedDeliver, R::Matched(false), Idle, &[]),
        (Idle, HandedBack, R::Matched(false), Idle, &[]),

        (PendingStart, CallAnswered, wrong(PendingStart), PendingStart, &[]),
        (PendingStart, CallEnded, R::Ok, PendingStop, &[]),
        (PendingStart, Event, wrong(PendingStart), PendingStart, &[]),
        (PendingStart, InterimTimer, R::Unit, PendingStart, &[]),
        (PendingStart, AnswerSuccess, R::Matched(true), Open, &[ack(0, StartRecord)]),
        (PendingStart, AnswerOutOfSpace, R::Matched(true), PendingStart, &[]),
        (PendingStart, AnswerRejected, R::Matched(true), Open, &[rej(0), STOP]),
        (PendingStart, RequestFailed, R::Matched(true), PendingStart, &[]),
        (PendingStart, DeliveryFailedStore, R::Matched(true), PendingStart, &[]),
        (PendingStart, DeliveryFailedLose, R::Matched(true), Open, &[lost(0)]),
        (PendingStart, DeliveryFailedDeliver, R::Matched(true), PendingStart, &[STOP]),
        (PendingStart, HandedBack, R::Matched(true), PendingStart, &[]),

        (Open, CallAnswered, wrong(Open), Open, &[]),
        (Open, CallEnded, R::Ok, PendingStop, &[]),
        (Open, Event, wrong(Open), Open, &[]),
        (Open, InterimTimer, R::Unit, PendingInterim, &[]),
        (Open, AnswerSuccess, R::Matched(false), Open, &[]),
        (Open, AnswerOutOfSpace, R::Matched(false), Open, &[]),
        (Open, AnswerRejected, R::Matched(false), Open, &[]),
        (Open, RequestFailed, R::Matched(false), Open, &[]),
        (Open, DeliveryFailedStore, R::Matched(false), Open, &[]),
        (Open, DeliveryFailedLose, R::Matched(false), Open, &[]),
        (Open, DeliveryFailedDeliver, R::Matched(false), Open, &[]),
        (Open, HandedBack, R::Matched(false), Open, &[]),

        (PendingInterim, CallAnswered, wrong(PendingInterim), PendingInterim, &[]),
        (PendingInterim, CallEnded, R::Ok, PendingStop, &[]),
        (PendingInterim, Event, wrong(PendingInterim), PendingInterim, &[]),
        (PendingInterim, InterimTimer, R::Unit, PendingInterim, &[]),
        (PendingInterim, AnswerSuccess, R::Matched(true), Open, &[ack(1, InterimRecord)]),
        (PendingInterim, AnswerOutOfSpace, R::Matched(true), PendingInterim, &[]),
        (PendingInterim, AnswerRejected, R::Matched(true), Open, &[rej(1), STOP]),
        (PendingInterim, RequestFailed, R::Matched(true), PendingInterim, &[]),
        (PendingInterim, DeliveryFailedStore, R::Matched(true), PendingInterim, &[]),
        (PendingInterim, DeliveryFailedLose, R::Matched(true), Open, &[lost(1)]),
        (PendingInterim, DeliveryFailedDeliver, R::Matched(true), PendingInterim, &[STOP]),
        (PendingInterim, HandedBack, R::Matched(true), PendingInterim, &[]),

        (PendingStop, CallAnswered, wrong(PendingStop), PendingStop, &[]),
        (PendingStop, CallEnded, wrong(PendingStop), PendingStop, &[]),
        (PendingStop, Event, wrong(PendingStop), PendingStop, &[]),
        (PendingStop, InterimTimer, R::Unit, PendingStop, &[]),
        (PendingStop, AnswerSuccess, R::Matched(true), Ended, &[ack(1, StopRecord), FIN]),
        (PendingStop, AnswerOutOfSpace, R::Matched(true), PendingStop, &[]),
        (PendingStop, AnswerRejected, R::Matched(true), Ended, &[rej(1), STOP, FIN]),
        (PendingStop, RequestFailed, R::Matched(true), PendingStop, &[]),
        (PendingStop, DeliveryFailedStore, R::Matched(true), PendingStop, &[]),
        (PendingStop, DeliveryFailedLose, R::Matched(true), Ended, &[lost(1), FIN]),
        (PendingStop, DeliveryFailedDeliver, R::Matched(true), PendingStop, &[STOP]),
        (PendingStop, HandedBack, R::Matched(true), PendingStop, &[]),

        (PendingEvent, CallAnswered, wrong(PendingEvent), PendingEvent, &[]),
        (PendingEvent, CallEnded, wrong(PendingEvent), PendingEvent, &[]),
        (PendingEvent, Event, wrong(PendingEvent), PendingEvent, &[]),
        (PendingEvent, InterimTimer, R::Unit, PendingEvent, &[]),
        (PendingEvent, AnswerSuccess, R::Matched(true), Ended, &[ack(0, EventRecord), FIN]),
        (PendingEvent, AnswerOutOfSpace, R::Matched(true), PendingEvent, &[]),
        (PendingEvent, AnswerRejected, R::Matched(true), Ended, &[rej(0), STOP, FIN]),
        (PendingEvent, RequestFailed, R::Matched(true), PendingEvent, &[]),
        (PendingEvent, DeliveryFailedStore, R::Matched(true), PendingEvent, &[]),
        (PendingEvent, DeliveryFailedLose, R::Matched(true), Ended, &[lost(0), FIN]),
        (PendingEvent, DeliveryFailedDeliver, R::Matched(true), PendingEvent, &[STOP]),
        (PendingEvent, HandedBack, R::Matched(true), PendingEvent, &[]),

        (Ended, CallAnswered, wrong(Ended), Ended, &[]),
        (Ended, CallEnded, wrong(Ended), Ended, &[]),
        (Ended, Event, wrong(Ended), Ended, &[]),
        (Ended, InterimTimer, R::Unit, Ended, &[]),
        (Ended, AnswerSuccess, R::Matched(false), Ended, &[]),
        (Ended, AnswerOutOfSpace, R::Matched(false), Ended, &[]),
        (Ended, AnswerRejected, R::Matched(false), Ended, &[]),
        (Ended, RequestFailed, R::Matched(false), Ended, &[]),
        (Ended, DeliveryFailedStore, R::Matched(false), Ended, &[]),
        (Ended, DeliveryFailedLose, R::Matched(false), Ended, &[]),
        (Ended, DeliveryFailedDeliver, R::Matched(false), Ended, &[]),
        (Ended, HandedBack, R::Matched(false), Ended, &[]),
    ]
};

struct Placed {
    node: Node,
    config: AccountingConfig,
    client: AccountingClient<4>,
    /// The ACR in flight, or a template for record 0.
    request: Vec<u8>,
    number: u32,
    now: Instant,
}

/// A client driven into `state`.
fn place(config: &AccountingConfig, state: ClientState) -> Placed {
    let node = client_node();
    let mut cfg = config.clone();
    let mut c: AccountingClient<4> = AccountingClient::new(call_info());
    let mut buf = [0u8; 1024];
    let mut send = |c: &mut AccountingClient<4>, cfg: &mut AccountingConfig, now: Instant| {
        let t = c
            .poll_transmit(Ctx::new(&node, cfg), now, &mut buf)
            .unwrap()
            .unwrap();
        buf[..t.len].to_vec()
    };
    let ack_head = |c: &mut AccountingClient<4>, cfg: &mut AccountingConfig, req: &[u8]| {
        let a = answer_for(req, 2001, true);
        let n = Message::parse(req)
            .unwrap()
            .require(&base::ACCOUNTING_RECORD_NUMBER)
            .unwrap();
        c.handle_answer(Ctx::new(&node, cfg), Instant::ZERO, n, &validated(&a));
    };
    let mut now = Instant::ZERO;
    let request = match state {
        ClientState::Idle => acr(CLIENT, StartRecord, 0, false),
        ClientState::PendingStart => {
            c.call_answered(Ctx::new(&node, &mut cfg), now).unwrap();
            send(&mut c, &mut cfg, now)
        }
        ClientState::Open => {
            c.call_answered(Ctx::new(&node, &mut cfg), now).unwrap();
            let r = send(&mut c, &mut cfg, now);
            ack_head(&mut c, &mut cfg, &r);
            r
        }
        ClientState::PendingInterim => {
            c.call_answered(Ctx::new(&node, &mut cfg), now).unwrap();
            let r = send(&mut c, &mut cfg, now);
            ack_head(&mut c, &mut cfg, &r);
            now = Instant::from_secs(30);
            c.handle_timeout(Ctx::new(&node, &mut cfg), now);
            send(&mut c, &mut cfg, now)
        }
        ClientState::PendingStop => {
            c.call_answered(Ctx::new(&node, &mut cfg), now).unwrap();
            let r = send(&mut c, &mut cfg, now);
            ack_head(&mut c, &mut cfg, &r);
            now = Instant::from_secs(10);
            c.call_ended(now).unwrap();
            send(&mut c, &mut cfg, now)
        }
        ClientState::PendingEvent => {
            c.event(now).unwrap();
            send(&mut c, &mut cfg, now)
        }
        ClientState::Ended => {
            c.event(now).unwrap();
            let r = send(&mut c, &mut cfg, now);
            ack_head(&mut c, &mut cfg, &r);
            r
        }
    };
    assert_eq!(c.state(), state, "placing");
    let _ = drain(&mut c);
    let number = Message::parse(&request)
        .unwrap()
        .require(&base::ACCOUNTING_RECORD_NUMBER)
        .unwrap();
    Placed {
        node,
        config: cfg,
        client: c,
        request,
        number,
        now,
    }
}

/// The record in flight: stored, and `poll_transmit` has nothing to send
/// however late (probed on a copy).
fn in_flight(p: &Placed) -> Option<u32> {
    let head = p.client.stored_records().next()?;
    let mut probe = p.client.clone();
    let mut cfg = p.config.clone();
    let mut buf = [0u8; 1024];
    let far = Instant::from_secs(1_000_000);
    probe
        .poll_transmit(Ctx::new(&p.node, &mut cfg), far, &mut buf)
        .is_none()
        .then_some(head)
}

fn config_for(input: Input) -> AccountingConfig {
    let mut c = client_config();
    c.realtime_required = GrantAndStore;
    c.max_attempts = 3;
    match input {
        Input::DeliveryFailedStore => c.max_attempts = 1,
        Input::DeliveryFailedLose | Input::HandedBack => {
            c.max_attempts = 1;
            c.realtime_required = GrantAndLose;
        }
        Input::DeliveryFailedDeliver => {
            c.max_attempts = 1;
            c.realtime_required = DeliverAndGrant;
        }
        _ => {}
    }
    c
}

fn apply(p: &mut Placed, input: Input) -> R {
    let before = in_flight(p);
    let now = p.now;
    let answer = |rc: u32| answer_for(&p.request, rc, true);
    let c = &mut p.client;
    let cx = Ctx::new(&p.node, &mut p.config);
    let failed = |failure| RequestFailed {
        request: p.number,
        failure,
        end_to_end: Some(0x0abc),
    };
    match input {
        Input::CallAnswered => return c.call_answered(cx, now).map_or_else(R::Err, |()| R::Ok),
        Input::CallEnded => return c.call_ended(now).map_or_else(R::Err, |()| R::Ok),
        Input::Event => return c.event(now).map_or_else(R::Err, |()| R::Ok),
        Input::InterimTimer => {
            c.handle_timeout(cx, Instant(now.0 + 30_000));
            return R::Unit;
        }
        Input::AnswerSuccess => c.handle_answer(cx, now, p.number, &validated(&answer(2001))),
        Input::AnswerOutOfSpace => c.handle_answer(cx, now, p.number, &validated(&answer(4002))),
        Input::AnswerRejected => c.handle_answer(cx, now, p.number, &validated(&answer(5012))),
        Input::RequestFailed
        | Input::DeliveryFailedStore
        | Input::DeliveryFailedLose
        | Input::DeliveryFailedDeliver => {
            c.handle_request_failed(cx, now, failed(Failure::TimedOut));
        }
        Input::HandedBack => c.handle_request_failed(cx, now, failed(Failure::HandedBack)),
    }
    R::Matched(before.is_some() && in_flight(p) != before)
}

#[test]
fn transition_table_is_complete_and_holds() {
    assert_eq!(TABLE.len(), STATES.len() * INPUTS.len());
    for state in STATES {
        for input in INPUTS {
            let rows: Vec<&Row> = TABLE
                .iter()
                .filter(|r| r.0 == state && r.1 == input)
                .collect();
            assert_eq!(
                rows.len(),
                1,
                "({state:?}, {input:?}) must have exactly one row"
            );
            let (_, _, want_r, want_state, want_events) = *rows[0];
            let config = config_for(input);
            let mut p = place(&config, state);
            let r = apply(&mut p, input);
            assert_eq!(r, want_r, "({state:?}, {input:?}) result");
            assert_eq!(p.client.state(), want_state, "({state:?}, {input:?}) state");
            assert_eq!(
                drain(&mut p.client),
                want_events,
                "({state:?}, {input:?}) events"
            );
            // Nothing accepted is dropped except as reported.
            let lost_or_rejected = want_events
                .iter()
                .filter(|e| {
                    matches!(
                        e,
                        AccountingEvent::RecordLost { .. }
                            | AccountingEvent::RecordRejected { .. }
                            | AccountingEvent::RecordAcknowledged { .. }
                    )
                })
                .count();
            let created = p.client.next_record_number() as usize;
            let before = place(&config, state);
            let stored_before = before.client.unacknowledged();
            let created_now = created - before.client.next_record_number() as usize;
            assert_eq!(
                p.client.unacknowledged(),
                stored_before + created_now - lost_or_rejected,
                "({state:?}, {input:?}) store"
            );
            // A hand-back makes the record due at once (RFC 6733 §5.5.4);
            // a failed attempt waits retry_interval (RFC 6733 §9.4).
            if want_r == R::Matched(true) && p.client.unacknowledged() > 0 {
                let due = p.client.poll_timeout();
                if input == Input::HandedBack {
                    assert_eq!(due, Some(p.now), "({state:?}, {input:?}) due");
                } else if matches!(
                    input,
                    Input::RequestFailed
                        | Input::AnswerOutOfSpace
                        | Input::DeliveryFailedStore
                        | Input::DeliveryFailedDeliver
                ) {
                    let retry = p.now + p.config.retry_interval;
                    assert!(
                        due.is_some_and(|d| d <= retry && d > p.now),
                        "({state:?}, {input:?}) due {due:?}"
                    );
                }
            }
        }
    }
}
