//! Transition table of the postpaid client ([`PostpaidClient`], RFC 8506
//! §7 Table 5, under each Direct-Debiting-Failure-Handling), written as
//! data: for every state and every input, the next state, the events and
//! what is sent. Each combination drives a fresh machine through
//! [`Machine`] (with the node model of `machines`) into the state, applies
//! the input and checks the row; exactly one row exists for every (state,
//! input, failure handling).
//!
//! TERMINATE_OR_BUFFER changed on purpose: the CCR-Event is the call's only
//! charge, so it is stored and sent again every `retry_interval` until the
//! server answers it (event `Buffered` once), instead of being resent at
//! once a bounded number of times and then dropped (RFC 8506 §6.5 and
//! Table 5: "store request"). The table therefore has a state for the
//! stored event (Buffered).

mod machines;

use std::time::Duration;

use diameter_cc::client::postpaid::{PostpaidClient, PostpaidConfig, PostpaidEvent, PostpaidState};
use diameter_cc::dict::{CcRequestType, DirectDebitingFailureHandling as Ddfh, RequestedAction};
use diameter_cc::session::{Ctx, Failure, Machine, RequestFailed};
use diameter_core::dict::base::{self, TerminationCause};
use diameter_core::time::Instant;
use diameter_core::{CommandCode, ResultCode};

use machines::*;

/// Where the table starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PSt {
    Idle,
    /// Answered at 4 s.
    Answered,
    /// Hangup at 71 s, the CCR-Event out (deadline Tx, 81 s).
    Pending,
    /// The CCR-Event timed out at 81 s and is stored: sent again at 111 s
    /// (TERMINATE_OR_BUFFER only).
    Buffered,
    /// Its CCA received.
    Ended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PIn {
    Answered,
    Hangup,
    CcaSuccess,
    Cca4011,
    Cca4012,
    Cca5030,
    Cca5012,
    /// 3004 TOO_BUSY with the E bit: a "temporary error".
    Cca3004E,
    /// A CCA for a request that is not outstanding.
    CcaWrongNumber,
    /// An RAA matched to the CCR-Event: not a CCA.
    InvalidAnswer,
    /// The connection failed and no other peer can take the request.
    Unreachable,
    /// The connection failed; another peer can take it.
    HandedBack,
    /// 10 s pass (Tx).
    TxTimeout,
    /// `retry_interval` (30 s) passes.
    RetryTimer,
    /// `drop_event()`.
    DropEvent,
    /// Requests a postpaid session does not handle (RAR, STR).
    Unexpected,
}

const PINPUTS: [PIn; 16] = [
    PIn::Answered,
    PIn::Hangup,
    PIn::CcaSuccess,
    PIn::Cca4011,
    PIn::Cca4012,
    PIn::Cca5030,
    PIn::Cca5012,
    PIn::Cca3004E,
    PIn::CcaWrongNumber,
    PIn::InvalidAnswer,
    PIn::Unreachable,
    PIn::HandedBack,
    PIn::TxTimeout,
    PIn::RetryTimer,
    PIn::DropEvent,
    PIn::Unexpected,
];

const PSTATES: [PSt; 5] = [
    PSt::Idle,
    PSt::Answered,
    PSt::Pending,
    PSt::Buffered,
    PSt::Ended,
];

const DDFHS: [Ddfh; 2] = [Ddfh::TerminateOrBuffer, Ddfh::Continue];

/// Which Direct-Debiting-Failure-Handling a row is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum D {
    Any,
    /// TERMINATE_OR_BUFFER.
    Buf,
    /// CONTINUE.
    Cont,
}

type PEv = PostpaidEvent;
type PRow = (PSt, PIn, D, PostpaidState, &'static [PEv], &'static [Out]);

use PostpaidState::{Answered as PAns, Ended as PEd, Idle as PId, PendingEvent as PPE};

const PNONE: &[PEv] = &[];
const NO_TX: &[Out] = &[];
const fn charged(v: u32) -> [PEv; 2] {
    [PEv::Charged(ResultCode::new(v)), PEv::Finished]
}
const UNDELIVERED: &[PEv] = &[PEv::Undelivered, PEv::Finished];
const BUFFERED: &[PEv] = &[PEv::Buffered];
const RESEND: &[Out] = &[Out::Ccr(E, 0, true)];
/// An RAR and an STR, answered 3001 COMMAND_UNSUPPORTED: an event-based
/// session has no server-initiated requests.
const UNSUPPORTED: &[Out] = &[Out::Ans(258, 3001), Out::Ans(275, 3001)];

#[rustfmt::skip]
const POSTPAID: &[PRow] = &[
    (PSt::Idle, PIn::Answered,       D::Any, PAns, PNONE, NO_TX),
    // never answered: nothing to charge, nothing sent
    (PSt::Idle, PIn::Hangup,         D::Any, PEd, &[PEv::Finished], NO_TX),
    (PSt::Idle, PIn::CcaSuccess,     D::Any, PId, PNONE, NO_TX),
    (PSt::Idle, PIn::Cca4011,        D::Any, PId, PNONE, NO_TX),
    (PSt::Idle, PIn::Cca4012,        D::Any, PId, PNONE, NO_TX),
    (PSt::Idle, PIn::Cca5030,        D::Any, PId, PNONE, NO_TX),
    (PSt::Idle, PIn::Cca5012,        D::Any, PId, PNONE, NO_TX),
    (PSt::Idle, PIn::Cca3004E,       D::Any, PId, PNONE, NO_TX),
    (PSt::Idle, PIn::CcaWrongNumber, D::Any, PId, PNONE, NO_TX),
    (PSt::Idle, PIn::InvalidAnswer,  D::Any, PId, PNONE, NO_TX),
    (PSt::Idle, PIn::Unreachable,    D::Any, PId, PNONE, NO_TX),
    (PSt::Idle, PIn::HandedBack,     D::Any, PId, PNONE, NO_TX),
    (PSt::Idle, PIn::TxTimeout,      D::Any, PId, PNONE, NO_TX),
    (PSt::Idle, PIn::RetryTimer,     D::Any, PId, PNONE, NO_TX),
    (PSt::Idle, PIn::DropEvent,      D::Any, PId, PNONE, NO_TX),
    (PSt::Idle, PIn::Unexpected,     D::Any, PId, PNONE, UNSUPPORTED),

    (PSt::Answered, PIn::Answered,       D::Any, PAns, PNONE, NO_TX),
    (PSt::Answered, PIn::Hangup,         D::Any, PPE, PNONE, &[Out::Ccr(E, 0, false)]),
    (PSt::Answered, PIn::CcaSuccess,     D::Any, PAns, PNONE, NO_TX),
    (PSt::Answered, PIn::Cca4011,        D::Any, PAns, PNONE, NO_TX),
    (PSt::Answered, PIn::Cca4012,        D::Any, PAns, PNONE, NO_TX),
    (PSt::Answered, PIn::Cca5030,        D::Any, PAns, PNONE, NO_TX),
    (PSt::Answered, PIn::Cca5012,        D::Any, PAns, PNONE, NO_TX),
    (PSt::Answered, PIn::Cca3004E,       D::Any, PAns, PNONE, NO_TX),
    (PSt::Answered, PIn::CcaWrongNumber, D::Any, PAns, PNONE, NO_TX),
    (PSt::Answered, PIn::InvalidAnswer,  D::Any, PAns, PNONE, NO_TX),
    (PSt::Answered, PIn::Unreachable,    D::Any, PAns, PNONE, NO_TX),
    (PSt::Answered, PIn::HandedBack,     D::Any, PAns, PNONE, NO_TX),
    (PSt::Answered, PIn::TxTimeout,      D::Any, PAns, PNONE, NO_TX),
    (PSt::Answered, PIn::RetryTimer,     D::Any, PAns, PNONE, NO_TX),
    (PSt::Answered, PIn::DropEvent,      D::Any, PAns, PNONE, NO_TX),
    (PSt::Answered, PIn::Unexpected,     D::Any, PAns, PNONE, UNSUPPORTED),

    (PSt::Pending, PIn::Answered,       D::Any, PPE, PNONE, NO_TX),
    (PSt::Pending, PIn::Hangup,         D::Any, PPE, PNONE, NO_TX),
    (PSt::Pending, PIn::CcaSuccess,     D::Any, PEd, &charged(2001), NO_TX),
    (PSt::Pending, PIn::Cca4011,        D::Any, PEd, &charged(4011), NO_TX),
    (PSt::Pending, PIn::Cca4012,        D::Any, PEd, &charged(4012), NO_TX),
    (PSt::Pending, PIn::Cca5030,        D::Any, PEd, &charged(5030), NO_TX),
    // a failed answer deletes the request whatever the DDFH (§6.5)
    (PSt::Pending, PIn::Cca5012,        D::Any, PEd, &charged(5012), NO_TX),
    // temporary error: nothing debited, like a failure to send; stored
    // and sent again after retry_interval (it used to go out at once)
    (PSt::Pending, PIn::Cca3004E,       D::Buf,  PPE, BUFFERED, NO_TX),
    (PSt::Pending, PIn::Cca3004E,       D::Cont, PEd, UNDELIVERED, NO_TX),
    (PSt::Pending, PIn::CcaWrongNumber, D::Any, PPE, PNONE, NO_TX),
    // not known to be charged: kept like a failure to send (the server
    // recognises the event if it comes again, §6.5)
    (PSt::Pending, PIn::InvalidAnswer,  D::Buf,  PPE, BUFFERED, NO_TX),
    (PSt::Pending, PIn::InvalidAnswer,  D::Cont, PEd, UNDELIVERED, NO_TX),
    (PSt::Pending, PIn::Unreachable,    D::Buf,  PPE, BUFFERED, NO_TX),
    (PSt::Pending, PIn::Unreachable,    D::Cont, PEd, UNDELIVERED, NO_TX),
    // RFC 6733 §5.5.4: failover, at once, whatever the DDFH
    (PSt::Pending, PIn::HandedBack,     D::Any, PPE, PNONE, RESEND),
    (PSt::Pending, PIn::TxTimeout,      D::Buf,  PPE, BUFFERED, NO_TX),
    (PSt::Pending, PIn::TxTimeout,      D::Cont, PEd, UNDELIVERED, NO_TX),
    // Tx (81 s) passes on the way: stored, sent again at 111 s
    (PSt::Pending, PIn::RetryTimer,     D::Buf,  PPE, BUFFERED, NO_TX),
    (PSt::Pending, PIn::RetryTimer,     D::Cont, PEd, UNDELIVERED, NO_TX),
    // only a stored event can be dropped
    (PSt::Pending, PIn::DropEvent,      D::Any, PPE, PNONE, NO_TX),
    (PSt::Pending, PIn::Unexpected,     D::Any, PPE, PNONE, UNSUPPORTED),

    // nothing outstanding: answers and failures are not for it
    (PSt::Buffered, PIn::Answered,       D::Buf, PPE, PNONE, NO_TX),
    (PSt::Buffered, PIn::Hangup,         D::Buf, PPE, PNONE, NO_TX),
    (PSt::Buffered, PIn::CcaSuccess,     D::Buf, PPE, PNONE, NO_TX),
    (PSt::Buffered, PIn::Cca4011,        D::Buf, PPE, PNONE, NO_TX),
    (PSt::Buffered, PIn::Cca4012,        D::Buf, PPE, PNONE, NO_TX),
    (PSt::Buffered, PIn::Cca5030,        D::Buf, PPE, PNONE, NO_TX),
    (PSt::Buffered, PIn::Cca5012,        D::Buf, PPE, PNONE, NO_TX),
    (PSt::Buffered, PIn::Cca3004E,       D::Buf, PPE, PNONE, NO_TX),
    (PSt::Buffered, PIn::CcaWrongNumber, D::Buf, PPE, PNONE, NO_TX),
    (PSt::Buffered, PIn::InvalidAnswer,  D::Buf, PPE, PNONE, NO_TX),
    (PSt::Buffered, PIn::Unreachable,    D::Buf, PPE, PNONE, NO_TX),
    (PSt::Buffered, PIn::HandedBack,     D::Buf, PPE, PNONE, NO_TX),
    (PSt::Buffered, PIn::TxTimeout,      D::Buf, PPE, PNONE, NO_TX),
    // sent again with the T flag and the first End-to-End id; Buffered is
    // not reported twice
    (PSt::Buffered, PIn::RetryTimer,     D::Buf, PPE, PNONE, RESEND),
    // given up knowingly
    (PSt::Buffered, PIn::DropEvent,      D::Buf, PEd, UNDELIVERED, NO_TX),
    (PSt::Buffered, PIn::Unexpected,     D::Buf, PPE, PNONE, UNSUPPORTED),

    (PSt::Ended, PIn::Answered,       D::Any, PEd, PNONE, NO_TX),
    (PSt::Ended, PIn::Hangup,         D::Any, PEd, PNONE, NO_TX),
    (PSt::Ended, PIn::CcaSuccess,     D::Any, PEd, PNONE, NO_TX),
    (PSt::Ended, PIn::Cca4011,        D::Any, PEd, PNONE, NO_TX),
    (PSt::Ended, PIn::Cca4012,        D::Any, PEd, PNONE, NO_TX),
    (PSt::Ended, PIn::Cca5030,        D::Any, PEd, PNONE, NO_TX),
    (PSt::Ended, PIn::Cca5012,        D::Any, PEd, PNONE, NO_TX),
    (PSt::Ended, PIn::Cca3004E,       D::Any, PEd, PNONE, NO_TX),
    (PSt::Ended, PIn::CcaWrongNumber, D::Any, PEd, PNONE, NO_TX),
    (PSt::Ended, PIn::InvalidAnswer,  D::Any, PEd, PNONE, NO_TX),
    (PSt::Ended, PIn::Unreachable,    D::Any, PEd, PNONE, NO_TX),
    (PSt::Ended, PIn::HandedBack,     D::Any, PEd, PNONE, NO_TX),
    (PSt::Ended, PIn::TxTimeout,      D::Any, PEd, PNONE, NO_TX),
    (PSt::Ended, PIn::RetryTimer,     D::Any, PEd, PNONE, NO_TX),
    (PSt::Ended, PIn::DropEvent,      D::Any, PEd, PNONE, NO_TX),
    (PSt::Ended, PIn::Unexpected,     D::Any, PEd, PNONE, UNSUPPORTED),
];

fn postpaid_config(ddfh: Ddfh) -> PostpaidConfig {
    let mut c = PostpaidConfig::new(REALM, CONTEXT).unwrap();
    c.failure_handling = ddfh;
    c
}

struct PDrive {
    w: Wire<PostpaidClient>,
    cfg: PostpaidConfig,
}

impl PDrive {
    fn new(cfg: PostpaidConfig) -> Self {
        PDrive {
            w: Wire::new(
                PostpaidClient::new(sid(SID), parties()),
                client_node(),
                Instant::ZERO,
            ),
            cfg,
        }
    }

    fn at(&mut self, secs: u64) {
        self.w.advance_to(&mut self.cfg, Instant::from_secs(secs));
    }

    fn answered(&mut self) {
        self.w.m.call_answered(self.w.now);
        self.w.pump(&mut self.cfg);
    }

    fn hangup(&mut self) {
        self.w.m.call_ended(self.w.now);
        self.w.pump(&mut self.cfg);
    }

    /// The answer to the CCR-Event if it is outstanding; otherwise handed
    /// over for request 0 anyway (it must be ignored).
    fn answer(&mut self, bytes: &[u8]) {
        if self.w.pending.is_some() {
            self.w.answer(&mut self.cfg, bytes);
        } else {
            self.w.deliver(&mut self.cfg, 0, bytes);
        }
    }

    fn fail(&mut self, failure: Failure) {
        if !self.w.fail(&mut self.cfg, failure) {
            let failed = RequestFailed {
                request: 0,
                failure,
                end_to_end: Some(7),
            };
            let now = self.w.now;
            self.w
                .m
                .handle_request_failed(Ctx::new(&self.w.node, &mut self.cfg), now, failed);
            self.w.pump(&mut self.cfg);
        }
    }

    fn take(&mut self) -> (Vec<PostpaidEvent>, Vec<Out>) {
        let (ev, out) = self.w.take();
        (ev, outs(&out))
    }

    fn reach(&mut self, s: PSt) {
        if s != PSt::Idle {
            self.at(4);
            self.answered();
        }
        if matches!(s, PSt::Pending | PSt::Buffered | PSt::Ended) {
            self.at(71);
            self.hangup();
        }
        if s == PSt::Buffered {
            self.at(81);
            assert_eq!(self.w.m.poll_timeout(), Some(Instant::from_secs(111)));
        }
        if s == PSt::Ended {
            self.answer(&ok(CcRequestType::Event, 0, None));
        }
        let want = match s {
            PSt::Idle => PId,
            PSt::Answered => PAns,
            PSt::Pending | PSt::Buffered => PPE,
            PSt::Ended => PEd,
        };
        assert_eq!(self.w.m.state(), want, "reaching {s:?}");
        self.take();
    }

    fn apply(&mut self, input: PIn) {
        let simple = |rc: u32| CcaSpec::new(rc, CcRequestType::Event, 0).encode();
        match input {
            PIn::Answered => self.answered(),
            PIn::Hangup => self.hangup(),
            PIn::CcaSuccess => self.answer(&simple(2001)),
            PIn::Cca4011 => self.answer(&simple(4011)),
            PIn::Cca4012 => self.answer(&simple(4012)),
            PIn::Cca5030 => self.answer(&simple(5030)),
            PIn::Cca5012 => self.answer(&simple(5012)),
            PIn::Cca3004E => self.answer(&simple(3004)),
            PIn::CcaWrongNumber => {
                let a = CcaSpec::new(2001, CcRequestType::Event, 5).encode();
                self.w.deliver(&mut self.cfg, 5, &a);
            }
            PIn::InvalidAnswer => self.answer(&raa()),
            PIn::Unreachable => self.fail(Failure::Unreachable),
            PIn::HandedBack => self.fail(Failure::HandedBack),
            PIn::TxTimeout => self.w.advance(&mut self.cfg, Duration::from_secs(10)),
            PIn::RetryTimer => self.w.advance(&mut self.cfg, Duration::from_secs(30)),
            PIn::DropEvent => {
                self.w.m.drop_event();
                self.w.pump(&mut self.cfg);
            }
            PIn::Unexpected => {
                self.w
                    .request(&mut self.cfg, &server_request(CommandCode::RE_AUTH, SID));
                let str_ = server_request(CommandCode::SESSION_TERMINATION, SID);
                self.w.request(&mut self.cfg, &str_);
            }
        }
    }
}

#[test]
fn postpaid_transition_table() {
    let mut bad = Vec::new();
    let mut used = vec![0usize; POSTPAID.len()];
    let mut checked = 0;
    for &s in &PSTATES {
        for &input in &PINPUTS {
            for &ddfh in &DDFHS {
                if s == PSt::Buffered && ddfh == Ddfh::Continue {
                    // CONTINUE never stores the event.
                    continue;
                }
                let rows: Vec<usize> = (0..POSTPAID.len())
                    .filter(|&i| {
                        let r = &POSTPAID[i];
                        r.0 == s
                            && r.1 == input
                            && match r.2 {
                                D::Any => true,
                                D::Buf => ddfh == Ddfh::TerminateOrBuffer,
                                D::Cont => ddfh == Ddfh::Continue,
                            }
                    })
                    .collect();
                assert_eq!(rows.len(), 1, "({s:?}, {input:?}, {ddfh:?})");
                let (_, _, _, next, events, out) = POSTPAID[rows[0]];
                used[rows[0]] += 1;
                let mut d = PDrive::new(postpaid_config(ddfh));
                d.reach(s);
                d.apply(input);
                let (ev, sent) = d.take();
                let got = (d.w.m.state(), ev, sent);
                let want = (next, events.to_vec(), out.to_vec());
                if got != want {
                    bad.push(format!(
                        "({s:?}, {input:?}, {ddfh:?}):\n   got  {got:?}\n   want {want:?}"
                    ));
                }
                checked += 1;
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} rows differ:\n{}",
        bad.len(),
        bad.join("\n")
    );
    assert_eq!(checked, 5 * 16 * 2 - 16);
    assert!(used.iter().all(|&n| n > 0), "unused postpaid rows");
}

// ---------------------------------------------------------------------------
// Regression tests
// ---------------------------------------------------------------------------

#[test]
fn postpaid_keeps_retrying_a_too_busy_answer() {
    // A 3004 used to be reported as Charged and the record dropped; then
    // it was resent at once up to max_attempts and given up. Now, under
    // TERMINATE_OR_BUFFER (RFC 8506 §6.5, Table 5), it is stored and sent
    // again every retry_interval, for as long as it takes.
    let mut d = PDrive::new(postpaid_config(Ddfh::TerminateOrBuffer));
    d.reach(PSt::Pending);
    let busy = CcaSpec::new(3004, CcRequestType::Event, 0).encode();
    let first = d.w.pending.unwrap().end_to_end;
    let mut sent_at = Vec::new();
    for round in 0..20 {
        d.answer(&busy);
        let (ev, out) = d.take();
        assert_eq!(
            ev,
            if round == 0 { BUFFERED } else { PNONE },
            "round {round}"
        );
        assert_eq!(out, NO_TX);
        let retry = d.w.m.poll_timeout().unwrap();
        assert_eq!(retry, d.w.now + Duration::from_secs(30));
        d.w.advance_to(&mut d.cfg, retry);
        assert_eq!(d.take(), (vec![], RESEND.to_vec()), "round {round}");
        assert_eq!(d.w.pending.unwrap().end_to_end, first);
        sent_at.push(d.w.now);
    }
    assert_eq!(d.w.m.attempts(), 21);
    assert_eq!(sent_at[19], Instant::from_secs(71 + 20 * 30));
    d.answer(&ok(CcRequestType::Event, 0, None));
    assert_eq!(d.take(), (charged(2001).to_vec(), vec![]));
    assert!(d.w.m.is_closed());
}

#[test]
fn continue_gives_the_event_up_at_the_first_failure() {
    // RFC 8506 §6.5, Table 5: DDFH CONTINUE: the service was given, the
    // event is not stored.
    for failure in [Failure::TimedOut, Failure::Unreachable] {
        let mut d = PDrive::new(postpaid_config(Ddfh::Continue));
        d.reach(PSt::Pending);
        d.fail(failure);
        assert_eq!(d.take(), (UNDELIVERED.to_vec(), vec![]));
        assert_eq!(d.w.m.poll_timeout(), None);
        assert!(d.w.m.is_closed());
    }
}

#[test]
fn the_stored_event_is_the_same_record() {
    // The resent CCR-Event carries what the first one did: the answer time
    // as Event-Timestamp, the duration as Used-Service-Unit, CC-Time 0
    // requested and Requested-Action DIRECT_DEBITING (RFC 8506 §8.41).
    let mut d = PDrive::new(postpaid_config(Ddfh::TerminateOrBuffer));
    d.reach(PSt::Answered);
    d.at(71);
    d.hangup();
    d.at(81);
    d.at(111);
    d.at(121);
    d.at(151);
    let (ev, out) = d.w.take();
    assert_eq!(ev, BUFFERED);
    let sent = ccrs(&out);
    assert_eq!(sent.len(), 3);
    for (i, s) in sent.iter().enumerate() {
        assert_eq!(
            (s.t, s.number, s.retransmission),
            (CcRequestType::Event, 0, i > 0)
        );
        assert_eq!(s.usu, Some(67));
        assert_eq!(s.rsu, Some(0));
        assert_eq!(s.event_timestamp, NTP0 + 4);
    }
    let sent_at = [71, 111, 151];
    for (o, at) in out.iter().zip(sent_at) {
        let Output::Request(w) = o else { continue };
        // Tx runs from every transmission
        assert_eq!(w.t.deadline, Instant::from_secs(at + 10));
        let m = recv(&w.bytes);
        assert_eq!(
            m.get(&diameter_cc::dict::REQUESTED_ACTION).unwrap(),
            Some(RequestedAction::DirectDebiting)
        );
        assert_eq!(
            m.get(&base::TERMINATION_CAUSE).unwrap(),
            Some(TerminationCause::Logout)
        );
    }
}

#[test]
fn an_event_answered_invalidly_is_resent_as_a_retransmission() {
    // The server got the CCR-Event (it answered, if badly): the copy sent
    // later is a possible duplicate, marked with the T flag and the first
    // End-to-End id (RFC 6733 §5.5.4; the module docs: "sent again (T
    // flag, same End-to-End id)"). Input: hangup, RAA as the answer, 30 s.
    let mut d = PDrive::new(postpaid_config(Ddfh::TerminateOrBuffer));
    d.reach(PSt::Pending);
    let first = d.w.pending.unwrap().end_to_end;
    d.answer(&raa());
    d.w.advance(&mut d.cfg, Duration::from_secs(30));
    assert_eq!(d.take(), (BUFFERED.to_vec(), RESEND.to_vec()));
    assert_eq!(d.w.pending.unwrap().end_to_end, first);
}

#[test]
fn a_handed_back_event_goes_out_at_once_with_its_first_identity() {
    // RFC 6733 §5.5.4: failover keeps the End-to-End id and sets the T
    // flag; Tx starts again for the new transmission.
    for ddfh in DDFHS {
        let mut d = PDrive::new(postpaid_config(ddfh));
        d.reach(PSt::Pending);
        let first = d.w.pending.unwrap();
        d.at(75);
        d.fail(Failure::HandedBack);
        let p = d.w.pending.unwrap();
        assert_eq!(p.end_to_end, first.end_to_end);
        assert_ne!(p.hop_by_hop, first.hop_by_hop);
        assert_eq!(p.deadline, Instant::from_secs(85));
        assert_eq!(d.take(), (vec![], RESEND.to_vec()));
        assert_eq!(d.w.m.attempts(), 2);
    }
}
