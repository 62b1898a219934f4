//! Property tests of the credit-control machines: random call events, time
//! advances of 0..120 s on a millisecond clock (starting anywhere, with a
//! random wall clock for Event-Timestamp), answers from the real server
//! (`machines::ServerNode`: [`CcServer`] and its sessions, random balances
//! and configurations) or made up (random Result-Codes, grants,
//! Validity-Time, Final-Unit-Indication, CCFH, Multiple-Services-Credit-
//! Control, CC-Session-Failover, E-bit errors), duplicated, reordered,
//! stale or lost answers, lost requests, failed connections (handed back
//! to another peer, or with no other peer), requests that find no peer,
//! invalid answers, and RAR/ASR from the server (asked for, or sent by the
//! server itself when a grant runs out unreported).
//!
//! The transport is modelled as the endpoint behaves (`machines::Wire`):
//! every CCR gets a fresh Hop-by-Hop id, a retransmission its first
//! End-to-End id and the T flag; an answer reaches the client only if it
//! carries the Hop-by-Hop id of the request still waiting (so a late copy
//! of an old answer is dropped as unmatched), except for "stale"
//! deliveries, which hand the client an old answer with the tag of its own
//! request anyway: the client must ignore it. Answers are validated first
//! (an invalid one is reported as `Failure::InvalidAnswer`); the request's
//! deadline, chosen by the session, is reported as `Failure::TimedOut`.
//!
//! Invariants: no panic; one CCR outstanding at a time; CC-Request-Numbers
//! strictly increase over the CCRs sent (a retransmission repeats the
//! previous CCR and is flagged); at most one CCR-Termination and nothing
//! but its retransmission after it; exactly one CCR-T for a session that
//! got a successful CCA-I (none for a denied one; none after 4011 on an
//! update); the Used-Service-Units never add up to more than the time since
//! answer (nor past the hangup) and add up to exactly the call's duration
//! when a CCR-T is sent; a stale answer changes nothing; the session ends
//! (Ended, one `Finished`) once the call ends and the network behaves,
//! within a bounded number of steps; after every `handle_timeout(now)` no
//! timer is left at or before `now`; the server never debits more than the
//! usage reported to it (each CC-Request-Number once), and once its
//! sessions are over (CCR-T, or Tcc, at least twice the grant) and
//! forgotten, no credit stays reserved. The postpaid client sends one
//! CCR-Event per answered call, sent again with the T flag (after a
//! failover always, and under TERMINATE_OR_BUFFER every retry interval
//! until answered), and reports exactly one outcome; the server charges it
//! once.
//!
//! The `*_strict` variants generate every input; the others leave out
//! temporary errors (3002, 3004, 3005) for the prepaid client and invalid
//! answers for the postpaid one, which the strict variants found to be
//! resent without the T flag (fixed since).

mod machines;

use std::time::Duration;

use proptest::prelude::*;

use diameter_cc::client::postpaid::{PostpaidClient, PostpaidConfig, PostpaidEvent, PostpaidState};
use diameter_cc::client::prepaid::{
    OnExhaustion, PrepaidClient, PrepaidConfig, PrepaidEvent, PrepaidState,
};
use diameter_cc::dict::{
    CcRequestType, CcSessionFailover, CreditControlFailureHandling as Ccfh,
    DirectDebitingFailureHandling as Ddfh, FinalUnitAction,
};
use diameter_cc::server::credit_control::{CcServerConfig, NoCredit};
use diameter_cc::session::{seconds_between, Ctx, Failure, Machine, Node, WallClock};
use diameter_core::dict::base::TerminationCause;
use diameter_core::time::{earliest, Instant};
use diameter_core::CommandCode;

use machines::*;

/// Steps allowed to wind a session down once the call ended.
const SETTLE_STEPS: usize = 300;

/// A made-up answer.
#[derive(Debug, Clone, Copy)]
struct Fab {
    rc: u32,
    gsu: Option<u32>,
    validity: Option<u32>,
    fui: bool,
    ccfh: Option<Ccfh>,
    mscc: Option<(Option<u32>, Option<u32>)>,
    failover: bool,
}

impl Fab {
    fn encode(&self, t: CcRequestType, number: u32) -> Vec<u8> {
        CcaSpec {
            gsu: self.gsu,
            validity: self.validity,
            fui: self.fui.then_some(FinalUnitAction::Terminate),
            ccfh: self.ccfh,
            failover: self.failover.then_some(CcSessionFailover::Supported),
            mscc: self.mscc,
            ..CcaSpec::new(self.rc, t, number)
        }
        .encode()
    }
}

/// `temporary`: also the "temporary errors" of RFC 8506 §7 (3002, 3004,
/// 3005).
fn fab(temporary: bool) -> impl Strategy<Value = Fab> {
    let mut codes = vec![
        2001u32, 2001, 2001, 2002, 4010, 4011, 4012, 5030, 5012, 5031, 5002, 3001,
    ];
    if temporary {
        codes.extend([3004, 3002, 3005]);
    }
    (
        prop::sample::select(codes),
        prop::option::weighted(0.7, prop_oneof![Just(0u32), 1u32..200]),
        prop::option::weighted(0.2, 0u32..100),
        prop::bool::weighted(0.15),
        prop::option::weighted(
            0.2,
            prop::sample::select(vec![
                Ccfh::Terminate,
                Ccfh::Continue,
                Ccfh::RetryAndTerminate,
            ]),
        ),
        prop::option::weighted(
            0.15,
            (
                prop::option::of(prop::sample::select(vec![2001u32, 4012, 5031])),
                prop::option::of(0u32..200),
            ),
        ),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(rc, gsu, validity, fui, ccfh, mscc, failover)| Fab {
            rc,
            gsu,
            validity,
            fui,
            ccfh,
            mscc,
            failover,
        })
}

/// One step of a scenario.
#[derive(Debug, Clone)]
enum Act {
    Setup,
    Answer,
    Hangup(TerminationCause),
    /// Let this many milliseconds pass (timers and deadlines that ran are
    /// handled, in order).
    Advance(u64),
    /// Jump to the client's next timer or deadline.
    Fire,
    /// Deliver in-flight answer `i` (modulo their number): reordering.
    Deliver(usize),
    /// Deliver a copy of in-flight answer `i`, keeping it in flight.
    Duplicate(usize),
    /// Hand the client in-flight answer `i` for its own request even if the
    /// transport would not.
    Stale(usize),
    /// Lose in-flight answer `i`.
    Drop(usize),
    /// The next CCR is lost on its way to the server.
    LoseNext,
    /// The waiting request's connection fails; another peer takes it.
    HandBack,
    /// The waiting request's connection fails; no other peer.
    Unreachable,
    /// The next CCR finds no peer.
    NoRoute,
    /// The answer to the waiting request is an RAA (true) or fails
    /// validation (false).
    Invalid(bool),
    /// The server sends an RAR.
    Rar,
    /// The server sends an ASR.
    Asr,
    /// A made-up answer to the last CCR sent joins the in-flight answers.
    Fabricate(Fab),
    /// The subscriber's balance is topped up.
    TopUp(u16),
}

fn act(temporary: bool) -> impl Strategy<Value = Act> {
    prop_oneof![
        3 => Just(Act::Setup),
        3 => Just(Act::Answer),
        2 => prop::sample::select(vec![
            TerminationCause::Logout,
            TerminationCause::Administrative,
        ])
        .prop_map(Act::Hangup),
        6 => (0u64..=120_000).prop_map(Act::Advance),
        4 => Just(Act::Fire),
        10 => any::<usize>().prop_map(Act::Deliver),
        2 => any::<usize>().prop_map(Act::Duplicate),
        1 => any::<usize>().prop_map(Act::Stale),
        2 => any::<usize>().prop_map(Act::Drop),
        1 => Just(Act::LoseNext),
        1 => Just(Act::HandBack),
        1 => Just(Act::Unreachable),
        1 => Just(Act::NoRoute),
        1 => any::<bool>().prop_map(Act::Invalid),
        1 => Just(Act::Rar),
        1 => Just(Act::Asr),
        3 => fab(temporary).prop_map(Act::Fabricate),
        1 => (0u16..300).prop_map(Act::TopUp),
    ]
}

/// Client and server settings.
#[derive(Debug, Clone)]
struct Setup {
    ccfh: Ccfh,
    on_exhaustion: OnExhaustion,
    update_on_answer: bool,
    requested: u32,
    tx_ms: u64,
    balance: u64,
    no_credit: NoCredit,
    max_grant: u32,
    validity: Option<u32>,
    tcc_s: u64,
    /// Where the monotonic clock starts (ms).
    start_ms: u64,
    /// The wall clock at the monotonic origin (Unix seconds).
    unix0: i64,
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        prop::sample::select(vec![
            Ccfh::Terminate,
            Ccfh::Continue,
            Ccfh::RetryAndTerminate,
        ]),
        prop::sample::select(vec![OnExhaustion::Terminate, OnExhaustion::Reauthorize]),
        any::<bool>(),
        prop_oneof![1 => Just(0u32), 6 => 1u32..400, 2 => Just(10_800)],
        1_000u64..30_000,
        prop_oneof![1 => Just(0u64), 6 => 1u64..400],
        prop::sample::select(vec![NoCredit::ZeroGrant, NoCredit::CreditLimitReached]),
        1u32..300,
        prop::option::weighted(0.3, 1u32..120),
        60u64..900,
        (
            prop_oneof![Just(0u64), 0u64..1_000_000_000_000],
            prop_oneof![Just(0i64), 0i64..3_000_000_000],
        ),
    )
        .prop_map(
            |(
                ccfh,
                on_exhaustion,
                update_on_answer,
                requested,
                tx_ms,
                balance,
                no_credit,
                max_grant,
                validity,
                tcc_s,
                (start_ms, unix0),
            )| Setup {
                ccfh,
                on_exhaustion,
                update_on_answer,
                requested,
                tx_ms,
                balance,
                no_credit,
                max_grant,
                validity,
                tcc_s,
                start_ms,
                unix0,
            },
        )
}

/// An answer on its way back.
#[derive(Debug, Clone)]
struct Flight {
    bytes: Vec<u8>,
    hop_by_hop: u32,
    /// The request it answers (CC-Request-Number).
    tag: u32,
}

fn pick(n: usize, i: usize) -> Option<usize> {
    (n > 0).then(|| i % n)
}

// ---------------------------------------------------------------------------
// Prepaid
// ---------------------------------------------------------------------------

struct World {
    c: Wire<PrepaidClient>,
    cfg: PrepaidConfig,
    s: ServerNode,
    lose_next: bool,
    flights: Vec<Flight>,
    /// Every CCR the session wrote, and whether it went out (false: it
    /// found no peer).
    sent: Vec<(SentCcr, bool)>,
    /// (number, USU) of the CCRs that reached the server.
    reached: Vec<(u32, u32)>,
    /// Events looked at so far.
    seen: usize,
    /// When the client took the answer.
    answered_at: Option<Instant>,
    /// When the call ended or had to end (hangup, TerminateCall).
    ended_at: Option<Instant>,
    /// The state was ever Open, PendingUpdate or PendingTermination.
    opened: bool,
    /// A 4011 answered a CCR-U: credit control ended without CCR-T.
    not_applicable: bool,
    credited: u64,
}

impl World {
    fn state(&self) -> PrepaidState {
        self.c.m.state()
    }

    fn live(&self) -> bool {
        matches!(
            self.state(),
            PrepaidState::PendingInitial | PrepaidState::Open | PrepaidState::PendingUpdate
        )
    }

    fn observe(&mut self) {
        if matches!(
            self.state(),
            PrepaidState::Open | PrepaidState::PendingUpdate | PrepaidState::PendingTermination
        ) {
            self.opened = true;
        }
        for e in &self.c.events[self.seen..] {
            if matches!(e, PrepaidEvent::TerminateCall(_)) && self.ended_at.is_none() {
                self.ended_at = Some(self.c.now);
            }
        }
        self.seen = self.c.events.len();
    }

    /// Carry the messages: CCRs to the server (unless lost), its answers
    /// into flight; requests of the server to the client and back.
    fn io(&mut self) {
        loop {
            self.observe();
            let out = std::mem::take(&mut self.c.out);
            let requests = std::mem::take(&mut self.s.requests);
            if out.is_empty() && requests.is_empty() {
                return;
            }
            for o in out {
                match o {
                    Output::Request(w) => {
                        let s = read_ccr(&w.bytes);
                        assert_eq!(s.retransmission, w.t.end_to_end.is_some());
                        assert_eq!(s.number, w.t.request);
                        self.sent.push((s, true));
                        if std::mem::take(&mut self.lose_next) {
                            continue;
                        }
                        self.reached.push((s.number, s.usu.unwrap_or(0)));
                        self.s.now = self.s.now.max(self.c.now);
                        let a = self.s.answer(&w.bytes);
                        self.flights.push(Flight {
                            bytes: a,
                            hop_by_hop: w.hop_by_hop,
                            tag: w.t.request,
                        });
                    }
                    Output::Answer(a) => {
                        let Out::Ans(code, rc) = read_answer(&a) else {
                            unreachable!()
                        };
                        assert!([2001, 2002, 5002].contains(&rc), "{code} answered {rc}");
                        self.s.client_answered(SID, &a);
                    }
                    Output::NoRoute(bytes, t) => {
                        let mut s = read_ccr(&bytes);
                        assert_eq!(s.number, t.request);
                        s.retransmission = t.end_to_end.is_some();
                        self.sent.push((s, false));
                    }
                }
            }
            for (sid, r) in requests {
                assert_eq!(sid, SID);
                self.c.request(&mut self.cfg, &r);
            }
        }
    }

    /// Let time run to `to`, client and server in step.
    fn advance_to(&mut self, to: Instant) {
        while let Some(t) = earliest(self.c.next_timer(), self.s.next_timer()).filter(|&t| t <= to)
        {
            self.c.advance_to(&mut self.cfg, t);
            self.s.advance_to(t);
            self.io();
        }
        self.c.advance_to(&mut self.cfg, to);
        self.s.advance_to(to);
        self.io();
    }

    fn deliver(&mut self, f: &Flight) {
        // The peer drops an answer that matches no waiting request.
        if self.c.pending.is_none_or(|p| p.hop_by_hop != f.hop_by_hop) {
            return;
        }
        let before = self.state();
        self.c.answer(&mut self.cfg, &f.bytes);
        if before == PrepaidState::PendingUpdate
            && self.state() == PrepaidState::Ended
            && read_answer(&f.bytes) == Out::Ans(272, 4011)
        {
            self.not_applicable = true;
        }
        self.io();
    }

    /// An answer for a request that is not the outstanding one: nothing
    /// may change.
    fn stale(&mut self, f: &Flight) {
        if self.c.pending.is_some_and(|p| p.tag == f.tag) {
            return;
        }
        let m = &self.c.m;
        let before = (
            m.state(),
            m.poll_timeout(),
            m.next_request_number(),
            m.terminations(),
            self.c.events.len(),
        );
        self.c.deliver(&mut self.cfg, f.tag, &f.bytes);
        let m = &self.c.m;
        let after = (
            m.state(),
            m.poll_timeout(),
            m.next_request_number(),
            m.terminations(),
            self.c.events.len(),
        );
        assert_eq!(
            before, after,
            "a stale answer for {} changed the session",
            f.tag
        );
        assert!(self.c.out.is_empty());
    }

    /// The waiting request's connection fails.
    fn connection_failed(&mut self, failure: Failure) {
        if let Some(p) = self.c.pending {
            self.flights.retain(|f| f.hop_by_hop != p.hop_by_hop);
            self.c.fail(&mut self.cfg, failure);
            self.io();
        }
    }

    fn hangup(&mut self, cause: TerminationCause) {
        if self.live() && self.ended_at.is_none() {
            self.ended_at = Some(self.c.now);
        }
        self.c.m.call_ended(self.c.now, cause);
        self.c.pump(&mut self.cfg);
        self.io();
    }

    fn server_request(&mut self, code: CommandCode) {
        let abort = code == CommandCode::ABORT_SESSION;
        if !self.s.server_request(SID, abort) {
            // the server has no session (or one request out): send one anyway
            self.c.request(&mut self.cfg, &server_request(code, SID));
        }
        self.io();
    }

    fn step(&mut self, a: &Act) {
        let now = self.c.now;
        match *a {
            Act::Setup => {
                self.c
                    .m
                    .call_setup(Ctx::new(&self.c.node, &mut self.cfg), now);
                self.c.pump(&mut self.cfg);
                self.io();
            }
            Act::Answer => {
                if self.live() && self.ended_at.is_none() && self.answered_at.is_none() {
                    self.answered_at = Some(now);
                }
                self.c
                    .m
                    .call_answered(Ctx::new(&self.c.node, &mut self.cfg), now);
                self.c.pump(&mut self.cfg);
                self.io();
            }
            Act::Hangup(cause) => self.hangup(cause),
            Act::Advance(ms) => self.advance_to(now + Duration::from_millis(ms)),
            Act::Fire => {
                if let Some(t) = self.c.next_timer() {
                    self.advance_to(t.max(now));
                }
            }
            Act::Deliver(i) => {
                if let Some(i) = pick(self.flights.len(), i) {
                    let f = self.flights.remove(i);
                    self.deliver(&f);
                }
            }
            Act::Duplicate(i) => {
                if let Some(i) = pick(self.flights.len(), i) {
                    let f = self.flights[i].clone();
                    self.deliver(&f);
                }
            }
            Act::Stale(i) => {
                if let Some(i) = pick(self.flights.len(), i) {
                    let f = self.flights[i].clone();
                    self.stale(&f);
                }
            }
            Act::Drop(i) => {
                if let Some(i) = pick(self.flights.len(), i) {
                    self.flights.remove(i);
                }
            }
            Act::LoseNext => self.lose_next = true,
            Act::HandBack => self.connection_failed(Failure::HandedBack),
            Act::Unreachable => self.connection_failed(Failure::Unreachable),
            Act::NoRoute => self.c.unreachable_next = true,
            Act::Invalid(raa_answer) => {
                if self.c.pending.is_some() {
                    let bytes = if raa_answer { raa() } else { invalid_cca() };
                    self.c.answer(&mut self.cfg, &bytes);
                    self.io();
                }
            }
            Act::Rar => self.server_request(CommandCode::RE_AUTH),
            Act::Asr => self.server_request(CommandCode::ABORT_SESSION),
            Act::Fabricate(f) => {
                if let (Some(p), Some((last, _))) = (self.c.pending, self.sent.last()) {
                    self.flights.push(Flight {
                        bytes: f.encode(last.t, last.number),
                        hop_by_hop: p.hop_by_hop,
                        tag: p.tag,
                    });
                }
            }
            Act::TopUp(n) => {
                let b = self.s.balance();
                self.s.server.rating_mut().set(SUBSCRIBER, b + u64::from(n));
                self.credited += u64::from(n);
            }
        }
    }

    /// The call ends and the network behaves: the session must end.
    fn settle(&mut self) {
        self.lose_next = false;
        self.c.unreachable_next = false;
        self.hangup(TerminationCause::Logout);
        for _ in 0..SETTLE_STEPS {
            self.io();
            if self.state() == PrepaidState::Ended {
                return;
            }
            let waiting = self.c.pending.map(|p| p.hop_by_hop);
            if let Some(i) = self
                .flights
                .iter()
                .position(|f| Some(f.hop_by_hop) == waiting)
            {
                let f = self.flights.remove(i);
                self.deliver(&f);
                continue;
            }
            let t = self.c.next_timer().unwrap_or_else(|| {
                panic!("{:?} with no timer and nothing in flight", self.state())
            });
            self.advance_to(t.max(self.c.now));
        }
        panic!("not Ended after {SETTLE_STEPS} steps: {:?}", self.state());
    }

    /// Every invariant over what was sent.
    fn check(&mut self, initial_balance: u64, st: &Setup, scfg: &CcServerConfig) {
        // CC-Request-Numbers strictly increase; a retransmission repeats
        // the previous CCR (one that went out); a CCR that found no peer may
        // go out again as a first transmission; nothing but a CCR-T's
        // retransmission after it; every copy of a CCR carries the same
        // usage.
        let mut last: Option<SentCcr> = None;
        let mut went_out = std::collections::BTreeSet::new();
        let mut usage = std::collections::BTreeMap::new();
        let mut terminations = std::collections::BTreeSet::new();
        for &(s, out) in &self.sent {
            match last {
                None => {
                    assert_eq!((s.t, s.number), (CcRequestType::Initial, 0));
                    assert!(!s.retransmission);
                }
                Some(l) if s.retransmission => {
                    assert_eq!(
                        (s.t, s.number),
                        (l.t, l.number),
                        "retransmission of another CCR"
                    );
                    assert!(went_out.contains(&s.number), "a retransmission of nothing");
                }
                Some(l) if s.number == l.number => {
                    assert_eq!(s.t, l.t);
                    assert!(
                        !went_out.contains(&s.number),
                        "CCR {:?} {} sent again as a new request",
                        s.t,
                        s.number
                    );
                }
                Some(l) => {
                    assert!(
                        s.number > l.number,
                        "CC-Request-Number {} after {}",
                        s.number,
                        l.number
                    );
                    assert_ne!(l.t, CcRequestType::Termination, "a CCR after the CCR-T");
                }
            }
            if out {
                went_out.insert(s.number);
            }
            let u = *usage.entry(s.number).or_insert(s.usu);
            assert_eq!(
                u, s.usu,
                "copies of CCR {} report different usage",
                s.number
            );
            if s.t == CcRequestType::Termination {
                terminations.insert(s.number);
            }
            assert_ne!(s.t, CcRequestType::Event);
            last = Some(s);
        }
        let terminations = terminations.len() as u32;
        assert_eq!(u32::from(self.c.m.terminations()), terminations);
        // Opened: seen Open (or later), or a CCR-U or CCR-T written (a state
        // passed within one input is not seen: a hangup queued during the
        // CCR-I turns its successful answer into the CCR-T at once).
        let later = self.sent.iter().any(|(s, _)| s.t != CcRequestType::Initial);
        let denied = self
            .c
            .events
            .iter()
            .any(|e| matches!(e, PrepaidEvent::Denied(_)));
        assert!(!(denied && later), "a CCR-U or CCR-T after a denial");
        self.opened |= later;
        let expected_t = u32::from(self.opened && !self.not_applicable);
        assert_eq!(
            terminations, expected_t,
            "CCR-Ts (opened {}, 4011 {})",
            self.opened, self.not_applicable
        );
        // usage
        let usu: u32 = usage.values().flatten().sum();
        match self.answered_at {
            None => assert_eq!(usu, 0),
            Some(a) => {
                let end = self.ended_at.unwrap_or(self.c.now);
                let duration = seconds_between(a, end);
                if terminations == 1 {
                    assert_eq!(usu, duration, "usage of a terminated session");
                } else {
                    assert!(usu <= duration);
                }
            }
        }
        // one Finished, last
        let events = &self.c.events;
        let finished = events
            .iter()
            .filter(|e| **e == PrepaidEvent::Finished)
            .count();
        assert_eq!(finished, 1);
        assert_eq!(events.last(), Some(&PrepaidEvent::Finished));
        assert!(self.c.m.is_closed());
        // server: debits at most the usage it got, each number once
        let mut numbers = std::collections::BTreeMap::new();
        for &(n, u) in &self.reached {
            numbers.entry(n).or_insert(u);
        }
        let reported: u64 = numbers.values().map(|&u| u64::from(u)).sum();
        let credited = self.credited;
        let debited = |s: &ServerNode| initial_balance + credited - s.balance();
        assert!(
            debited(&self.s) <= reported,
            "debited {} > reported {reported}",
            debited(&self.s)
        );
        // sessions over (by CCR-T or failed update): nothing stays reserved
        if self.s.open_sessions() == 0 {
            assert_eq!(self.s.free(), self.s.balance());
        }
        // Tcc (never shorter than twice the grant or Validity-Time) ends
        // what the client left open (its CCR-T lost); the duplicate window
        // then forgets it
        let longest = u64::from(st.max_grant.max(st.validity.unwrap_or(0)));
        let horizon = Duration::from_secs(st.tcc_s.max(2 * longest))
            + scfg.duplicate_window
            + scfg.request_timeout
            + Duration::from_secs(1);
        let to = self.c.now + horizon;
        self.advance_to(to);
        assert_eq!(self.s.open_sessions(), 0);
        assert!(self.s.sessions.is_empty(), "sessions not forgotten");
        assert_eq!(self.s.free(), self.s.balance());
        assert!(debited(&self.s) <= reported);
    }
}

fn run_prepaid(st: &Setup, acts: &[Act]) {
    let mut cfg = PrepaidConfig::new(REALM, CONTEXT)
        .unwrap()
        .with_destination_host(SERVER)
        .unwrap();
    cfg.failure_handling = st.ccfh;
    cfg.on_exhaustion = st.on_exhaustion;
    cfg.update_on_answer = st.update_on_answer;
    cfg.requested_time = st.requested;
    cfg.tx = Duration::from_millis(st.tx_ms);
    let mut scfg = CcServerConfig::new();
    scfg.no_credit = st.no_credit;
    scfg.max_grant = st.max_grant;
    scfg.validity_time = st.validity;
    scfg.tcc = Duration::from_secs(st.tcc_s);
    let node = Node::new(CLIENT, CLIENT_REALM, WallClock::new(st.unix0)).unwrap();
    let start = Instant::from_millis(st.start_ms);
    let mut s = ServerNode::new(scfg, st.balance);
    s.now = start;
    let mut w = World {
        c: Wire::new(PrepaidClient::new(sid(SID), parties()), node, start),
        cfg,
        s,
        lose_next: false,
        flights: Vec::new(),
        sent: Vec::new(),
        reached: Vec::new(),
        seen: 0,
        answered_at: None,
        ended_at: None,
        opened: false,
        not_applicable: false,
        credited: 0,
    };
    for a in acts {
        w.step(a);
    }
    w.settle();
    w.check(st.balance, st, &scfg);
}

fn prepaid_with_setup(acts: Vec<Act>) -> Vec<Act> {
    let mut all = vec![Act::Setup];
    all.extend(acts);
    all
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1024,
        max_shrink_iters: 2_000,
        ..ProptestConfig::default()
    })]

    /// A call set up first, then anything (no temporary errors).
    #[test]
    fn prepaid_invariants(st in setup(), acts in prop::collection::vec(act(false), 0..80)) {
        run_prepaid(&st, &prepaid_with_setup(acts));
    }

    /// Anything, in any order (setup may come late or never).
    #[test]
    fn prepaid_invariants_any_order(st in setup(), acts in prop::collection::vec(act(false), 0..40)) {
        run_prepaid(&st, &acts);
    }

    /// A well-behaved network: every answer arrives, after a random delay;
    /// the CCRs report exactly the call's duration.
    #[test]
    fn prepaid_usage_adds_up(
        st in setup(),
        ring_ms in 0u64..20_000,
        talk in prop::collection::vec((0u64..60_000, 0u8..4), 1..12),
    ) {
        let mut acts = vec![Act::Setup, Act::Advance(ring_ms), Act::Deliver(0), Act::Answer];
        for (ms, what) in talk {
            acts.push(Act::Advance(ms));
            acts.push(match what {
                0 => Act::Rar,
                1 => Act::Fire,
                _ => Act::Deliver(0),
            });
        }
        acts.push(Act::Hangup(TerminationCause::Logout));
        run_prepaid(&st, &acts);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1024,
        max_shrink_iters: 2_000,
        ..ProptestConfig::default()
    })]

    /// Every input, temporary errors included.
    #[test]
    fn prepaid_invariants_strict(st in setup(), acts in prop::collection::vec(act(true), 0..80)) {
        run_prepaid(&st, &prepaid_with_setup(acts));
    }
}

// ---------------------------------------------------------------------------
// Postpaid
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum PAct {
    Answer,
    Hangup,
    Advance(u64),
    Fire,
    Deliver(usize),
    Duplicate(usize),
    Drop(usize),
    LoseNext,
    HandBack,
    Unreachable,
    NoRoute,
    Invalid(bool),
    Fabricate(Fab),
    DropEvent,
}

fn pact(invalid: bool) -> impl Strategy<Value = PAct> {
    prop_oneof![
        2 => Just(PAct::Answer),
        2 => Just(PAct::Hangup),
        4 => (0u64..=120_000).prop_map(PAct::Advance),
        3 => Just(PAct::Fire),
        6 => any::<usize>().prop_map(PAct::Deliver),
        1 => any::<usize>().prop_map(PAct::Duplicate),
        2 => any::<usize>().prop_map(PAct::Drop),
        2 => Just(PAct::LoseNext),
        1 => Just(PAct::HandBack),
        1 => Just(PAct::Unreachable),
        1 => Just(PAct::NoRoute),
        // (without invalid answers: a failed connection with no other peer)
        1 => any::<bool>().prop_map(move |b| if invalid { PAct::Invalid(b) } else { PAct::Unreachable }),
        3 => fab(true).prop_map(PAct::Fabricate),
        1 => Just(PAct::DropEvent),
    ]
}

struct PWorld {
    c: Wire<PostpaidClient>,
    cfg: PostpaidConfig,
    s: ServerNode,
    flights: Vec<Flight>,
    lose_next: bool,
    /// (retransmission, USU) of every CCR-Event sent.
    sent: Vec<(bool, u32)>,
    hand_backs: usize,
    dropped: bool,
}

impl PWorld {
    fn io(&mut self) {
        for o in std::mem::take(&mut self.c.out) {
            let w = match o {
                Output::Request(w) => w,
                // found no peer: an attempt that did not go out
                Output::NoRoute(..) => continue,
                Output::Answer(_) => panic!("a postpaid session answers nothing here"),
            };
            let s = read_ccr(&w.bytes);
            assert_eq!((s.t, s.number), (CcRequestType::Event, 0));
            assert_eq!(s.retransmission, w.t.end_to_end.is_some());
            assert_eq!(s.rsu, Some(0));
            self.sent.push((s.retransmission, s.usu.expect("USU")));
            if std::mem::take(&mut self.lose_next) {
                continue;
            }
            self.s.advance_to(self.c.now);
            let a = self.s.answer(&w.bytes);
            self.flights.push(Flight {
                bytes: a,
                hop_by_hop: w.hop_by_hop,
                tag: 0,
            });
        }
    }

    fn deliver(&mut self, f: &Flight) {
        if self.c.pending.is_some_and(|p| p.hop_by_hop == f.hop_by_hop) {
            self.c.answer(&mut self.cfg, &f.bytes);
            self.io();
        }
    }

    fn advance_to(&mut self, to: Instant) {
        self.c.advance_to(&mut self.cfg, to);
        self.io();
    }

    fn connection_failed(&mut self, failure: Failure) {
        if let Some(p) = self.c.pending {
            self.flights.retain(|f| f.hop_by_hop != p.hop_by_hop);
            if failure == Failure::HandedBack {
                self.hand_backs += 1;
            }
            self.c.fail(&mut self.cfg, failure);
            self.io();
        }
    }
}

fn run_postpaid(ddfh: Ddfh, retry_s: u64, balance: u64, acts: &[PAct]) {
    let mut cfg = PostpaidConfig::new(REALM, CONTEXT).unwrap();
    cfg.failure_handling = ddfh;
    cfg.retry_interval = Duration::from_secs(retry_s);
    let scfg = CcServerConfig::new();
    let start = Instant::from_millis(500);
    let mut s = ServerNode::new(scfg, balance);
    s.now = start;
    let mut w = PWorld {
        c: Wire::new(
            PostpaidClient::new(sid(SID), parties()),
            client_node(),
            start,
        ),
        cfg,
        s,
        flights: Vec::new(),
        lose_next: false,
        sent: Vec::new(),
        hand_backs: 0,
        dropped: false,
    };
    let mut answered: Option<Instant> = None;
    let mut ended: Option<Instant> = None;

    for a in acts {
        let now = w.c.now;
        match *a {
            PAct::Answer => {
                if w.c.m.state() == PostpaidState::Idle {
                    answered = Some(now);
                }
                w.c.m.call_answered(now);
                w.c.pump(&mut w.cfg);
            }
            PAct::Hangup => {
                if w.c.m.state() == PostpaidState::Answered {
                    ended = Some(now);
                }
                w.c.m.call_ended(now);
                w.c.pump(&mut w.cfg);
                w.io();
            }
            PAct::Advance(ms) => w.advance_to(now + Duration::from_millis(ms)),
            PAct::Fire => {
                if let Some(t) = w.c.next_timer() {
                    w.advance_to(t.max(now));
                }
            }
            PAct::Deliver(i) => {
                if let Some(i) = pick(w.flights.len(), i) {
                    let f = w.flights.remove(i);
                    w.deliver(&f);
                }
            }
            PAct::Duplicate(i) => {
                if let Some(i) = pick(w.flights.len(), i) {
                    let f = w.flights[i].clone();
                    w.deliver(&f);
                }
            }
            PAct::Drop(i) => {
                if let Some(i) = pick(w.flights.len(), i) {
                    w.flights.remove(i);
                }
            }
            PAct::LoseNext => w.lose_next = true,
            PAct::HandBack => w.connection_failed(Failure::HandedBack),
            PAct::Unreachable => w.connection_failed(Failure::Unreachable),
            PAct::NoRoute => w.c.unreachable_next = true,
            PAct::Invalid(raa_answer) => {
                if w.c.pending.is_some() {
                    let bytes = if raa_answer { raa() } else { invalid_cca() };
                    w.c.answer(&mut w.cfg, &bytes);
                    w.io();
                }
            }
            PAct::Fabricate(f) => {
                if let Some(p) = w.c.pending {
                    w.flights.push(Flight {
                        bytes: f.encode(CcRequestType::Event, 0),
                        hop_by_hop: p.hop_by_hop,
                        tag: 0,
                    });
                }
            }
            PAct::DropEvent => {
                if w.c.m.drop_event() {
                    w.dropped = true;
                }
                w.c.pump(&mut w.cfg);
            }
        }
    }
    // the call ends and the network behaves
    w.lose_next = false;
    w.c.unreachable_next = false;
    if w.c.m.state() == PostpaidState::Answered {
        ended = Some(w.c.now);
    }
    let now = w.c.now;
    w.c.m.call_ended(now);
    w.c.pump(&mut w.cfg);
    w.io();
    let mut steps = 0;
    while w.c.m.state() != PostpaidState::Ended {
        steps += 1;
        assert!(
            steps < SETTLE_STEPS,
            "postpaid not Ended: {:?}",
            w.c.m.state()
        );
        let waiting = w.c.pending.map(|p| p.hop_by_hop);
        if let Some(i) = w.flights.iter().position(|f| Some(f.hop_by_hop) == waiting) {
            let f = w.flights.remove(i);
            w.deliver(&f);
            continue;
        }
        let t = w.c.next_timer().expect("a timer while pending");
        w.advance_to(t.max(w.c.now));
    }
    assert!(w.c.m.is_closed());

    let events = &w.c.events;
    let count = |f: &dyn Fn(&PostpaidEvent) -> bool| events.iter().filter(|e| f(e)).count();
    let outcomes = count(&|e| matches!(e, PostpaidEvent::Charged(_) | PostpaidEvent::Undelivered));
    let buffered = count(&|e| *e == PostpaidEvent::Buffered);
    assert!(buffered <= 1, "Buffered is reported once");
    assert!(buffered == 0 || ddfh == Ddfh::TerminateOrBuffer);
    match (answered, ended) {
        (Some(a), Some(e)) => {
            // one CCR-Event (at least one attempt: it may have found no peer)
            assert!(w.c.m.attempts() >= 1);
            assert!(w.sent.len() <= w.c.m.attempts() as usize);
            if let Some((first, rest)) = w.sent.split_first() {
                assert!(!first.0, "the first transmission is not a retransmission");
                assert!(rest.iter().all(|s| s.0), "resends carry the T flag");
            }
            let d = seconds_between(a, e);
            assert!(w.sent.iter().all(|s| s.1 == d), "USU is the duration");
            if ddfh == Ddfh::Continue {
                // RFC 8506 Table 5: CONTINUE gives up at the first failure;
                // only a failover sends it again
                assert!(w.sent.len() <= 1 + w.hand_backs);
            }
            assert_eq!(outcomes, 1);
            let undelivered = count(&|e| *e == PostpaidEvent::Undelivered);
            if ddfh == Ddfh::TerminateOrBuffer {
                // stored until answered, unless given up knowingly
                assert_eq!(undelivered, usize::from(w.dropped));
            }
        }
        _ => {
            assert!(w.sent.is_empty(), "a CCR-Event for a call never answered");
            assert_eq!(w.c.m.attempts(), 0);
            assert_eq!(outcomes, 0);
        }
    }
    assert_eq!(events.last(), Some(&PostpaidEvent::Finished));
    assert_eq!(count(&|e| *e == PostpaidEvent::Finished), 1);
    // the server charged at most the one record
    let d = w.sent.first().map_or(0, |s| u64::from(s.1));
    assert!(balance - w.s.balance() <= d);
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1024,
        ..ProptestConfig::default()
    })]

    #[test]
    fn postpaid_invariants(
        ddfh in prop::sample::select(vec![Ddfh::TerminateOrBuffer, Ddfh::Continue]),
        retry_s in 1u64..60,
        balance in 0u64..400,
        acts in prop::collection::vec(pact(false), 0..40),
    ) {
        run_postpaid(ddfh, retry_s, balance, &acts);
    }

    #[test]
    fn postpaid_invariants_strict(
        ddfh in prop::sample::select(vec![Ddfh::TerminateOrBuffer, Ddfh::Continue]),
        retry_s in 1u64..60,
        balance in 0u64..400,
        acts in prop::collection::vec(pact(true), 0..40),
    ) {
        run_postpaid(ddfh, retry_s, balance, &acts);
    }
}
