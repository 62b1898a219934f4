//! Property tests of the credit-control machines: random call events, time
//! advances of 0..120 s on a millisecond clock (starting anywhere, with a
//! random wall clock for Event-Timestamp), answers from the real
//! [`CcServer`] (random balances and configurations) or made up (random
//! Result-Codes, grants, Validity-Time, Final-Unit-Indication, CCFH, E-bit
//! errors), duplicated, reordered, stale or lost answers, lost requests,
//! transport failures, and RAR/ASR from the server.
//!
//! The transport is modelled as the peer machine behaves: every CCR gets a
//! fresh Hop-by-Hop id; an answer reaches the client only if it carries the
//! Hop-by-Hop id of the request still waiting (so a late copy of an old
//! answer is dropped as unmatched), except for "stale" deliveries, which
//! hand the client an old answer anyway to exercise its own
//! CC-Request-Number check. A transport failure is reported for the
//! request still waiting.
//!
//! Invariants: no panic; CC-Request-Numbers strictly increase over the
//! CCRs sent (a retransmission repeats the previous CCR and is flagged); at
//! most one CCR-Termination and nothing but its retransmission after it;
//! exactly one CCR-T for a session that got a successful CCA-I (none for
//! a denied one; none after 4011 on an update); the Used-Service-Units never
//! add up to more than the time since answer (nor past the hangup) and add
//! up to exactly the call's duration when a CCR-T is sent; the session ends
//! (Ended, one `Finished`) once the call ends and the network behaves,
//! within a bounded number of steps; after every `handle_timeout(now)` no
//! timer is left at or before `now`; the server never debits more than
//! the usage reported to it (each CC-Request-Number once), and once its
//! sessions are over no credit stays reserved. The postpaid client sends
//! one CCR-Event per answered call, resent with the T flag at most
//! `max_attempts` times in all, and reports exactly one outcome.

use std::time::Duration;

use proptest::prelude::*;

use diameter_cc::client::postpaid::{PostpaidClient, PostpaidConfig, PostpaidEvent, PostpaidState};
use diameter_cc::client::prepaid::{
    OnExhaustion, Parties, PrepaidClient, PrepaidConfig, PrepaidEvent, PrepaidState, Transmit,
};
use diameter_cc::dict::{
    self, tgpp, CcRequestType, CreditControlFailureHandling as Ccfh,
    DirectDebitingFailureHandling as Ddfh, FinalUnitAction,
};
use diameter_cc::server::credit_control::{Balances, CcServer, CcServerConfig, NoCredit, Rating};
use diameter_cc::session::{seconds_between, session_id_from, WallClock};
use diameter_cc::CreditControl;
use diameter_core::dict::base::{self, TerminationCause};
use diameter_core::time::Instant;
use diameter_core::{
    ApplicationId, CommandCode, CommandFlags, HeaderRepr, Message, MessageBuilder,
};

const CLIENT: &str = "client.diameter.test";
const SERVER: &str = "server.diameter.test";
const REALM: &str = "diameter.test";
const CONTEXT: &str = "voice@OsipsDiamCCR";
const SID: &str = "sip-call-prop@client";
const CLOCK: WallClock = WallClock {
    unix_at_zero: 1_704_067_200,
};
const PARTIES: Parties<'static> = Parties {
    user_name: "1001",
    subscription_id: "1001",
    calling_party: "1001",
    called_party: "1002",
    role_of_node: tgpp::RoleOfNode::Originating,
    node_functionality: tgpp::NodeFunctionality::As,
};
/// Steps allowed to wind a session down once the call ended.
const SETTLE_STEPS: usize = 200;

fn parse(bytes: &[u8]) -> Message<'_> {
    Message::parse_with(bytes, &CreditControl).expect("parses")
}

/// A made-up answer.
#[derive(Debug, Clone, Copy)]
struct Fab {
    rc: u32,
    gsu: Option<u32>,
    validity: Option<u32>,
    fui: bool,
    ccfh: Option<Ccfh>,
}

impl Fab {
    fn e_bit(&self) -> bool {
        (3000..4000).contains(&self.rc)
    }

    fn encode(&self, hbh: u32, number: u32) -> Vec<u8> {
        let mut buf = [0u8; 512];
        let mut flags = CommandFlags::PROXIABLE;
        if self.e_bit() {
            flags = flags | CommandFlags::ERROR;
        }
        let hdr = HeaderRepr {
            flags,
            command_code: CommandCode::CREDIT_CONTROL,
            application_id: ApplicationId::CREDIT_CONTROL,
            hop_by_hop: hbh,
            end_to_end: hbh,
        };
        let mut b = MessageBuilder::new(&mut buf, hdr);
        b.put(&base::SESSION_ID, SID)
            .put(&base::RESULT_CODE, self.rc)
            .put(&base::ORIGIN_HOST, SERVER)
            .put(&base::ORIGIN_REALM, REALM);
        if !self.e_bit() {
            // error answers (E bit) carry no CC-Request-Number
            b.put(&base::AUTH_APPLICATION_ID, 4)
                .put(&dict::CC_REQUEST_NUMBER, number);
        }
        if let Some(f) = self.ccfh {
            b.put(&dict::CREDIT_CONTROL_FAILURE_HANDLING, f);
        }
        if let Some(g) = self.gsu {
            b.grouped(&dict::GRANTED_SERVICE_UNIT, |gsu| {
                gsu.put(&dict::CC_TIME, g);
            });
        }
        if let Some(v) = self.validity {
            b.put(&dict::VALIDITY_TIME, v);
        }
        if self.fui {
            b.grouped(&dict::FINAL_UNIT_INDICATION, |f| {
                f.put(&dict::FINAL_UNIT_ACTION, FinalUnitAction::Terminate);
            });
        }
        b.finish().unwrap().to_vec()
    }
}

fn fab() -> impl Strategy<Value = Fab> {
    (
        prop::sample::select(vec![
            2001u32, 2001, 2001, 2002, 4010, 4011, 4012, 5030, 5012, 5031, 5002, 3004, 3002, 3005,
            3001,
        ]),
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
    )
        .prop_map(|(rc, gsu, validity, fui, ccfh)| Fab {
            rc,
            gsu,
            validity,
            fui,
            ccfh,
        })
}

/// One step of a scenario.
#[derive(Debug, Clone)]
enum Act {
    Setup,
    Answer,
    Hangup(TerminationCause),
    /// Let this many milliseconds pass (timers that ran are handled).
    Advance(u64),
    /// Jump to the client's next timer.
    Fire,
    /// Deliver in-flight answer `i` (modulo their number): reordering.
    Deliver(usize),
    /// Deliver a copy of in-flight answer `i`, keeping it in flight.
    Duplicate(usize),
    /// Hand the client in-flight answer `i` even if the transport would not.
    Stale(usize),
    /// Lose in-flight answer `i`.
    Drop(usize),
    /// The next CCR is lost on its way to the server.
    LoseNext,
    /// The transport reports the waiting request as failed.
    Fail,
    /// The server sends an RAR.
    Rar,
    /// The server sends an ASR.
    Asr,
    /// A made-up answer to the last CCR sent joins the in-flight answers.
    Fabricate(Fab),
    /// The subscriber's balance is topped up.
    TopUp(u16),
}

fn act() -> impl Strategy<Value = Act> {
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
        2 => Just(Act::Fail),
        1 => Just(Act::Rar),
        1 => Just(Act::Asr),
        3 => fab().prop_map(Act::Fabricate),
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
    hbh: u32,
}

/// A CCR the client sent.
#[derive(Debug, Clone, Copy)]
struct Sent {
    t: CcRequestType,
    number: u32,
    retransmission: bool,
    usu: Option<u32>,
}

struct World<'a> {
    c: PrepaidClient<'a, 'static>,
    s: CcServer<'a, Balances<8>, 8>,
    now: Instant,
    next_hbh: u32,
    /// Hop-by-Hop id of the request the transport still waits on.
    waiting: Option<u32>,
    lose_next: bool,
    flights: Vec<Flight>,
    sent: Vec<Sent>,
    /// (number, USU) of the CCRs that reached the server.
    reached: Vec<(u32, u32)>,
    events: Vec<PrepaidEvent>,
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

impl<'a> World<'a> {
    fn live(&self) -> bool {
        matches!(
            self.c.state(),
            PrepaidState::PendingInitial | PrepaidState::Open | PrepaidState::PendingUpdate
        )
    }

    fn observe(&mut self) {
        if matches!(
            self.c.state(),
            PrepaidState::Open | PrepaidState::PendingUpdate | PrepaidState::PendingTermination
        ) {
            self.opened = true;
        }
    }

    /// Collect events and messages; CCRs go to the server (unless lost).
    fn pump(&mut self) {
        self.observe();
        while let Some(e) = self.c.poll_event() {
            if matches!(e, PrepaidEvent::TerminateCall(_)) && self.ended_at.is_none() {
                self.ended_at = Some(self.now);
            }
            self.events.push(e);
        }
        let mut buf = [0u8; 2048];
        while let Some(t) = self.c.poll_transmit(self.now, &mut buf) {
            match t.expect("encodes") {
                Transmit::Request {
                    len,
                    request_type,
                    number,
                    retransmission,
                } => {
                    self.next_hbh += 1;
                    let hbh = self.next_hbh;
                    buf[12..16].copy_from_slice(&hbh.to_be_bytes());
                    buf[16..20].copy_from_slice(&hbh.to_be_bytes());
                    let m = parse(&buf[..len]);
                    m.validate(&CreditControl).expect("valid CCR");
                    assert_eq!(m.get(&dict::CC_REQUEST_TYPE).unwrap(), Some(request_type));
                    assert_eq!(m.get(&dict::CC_REQUEST_NUMBER).unwrap(), Some(number));
                    let usu = m
                        .get(&dict::USED_SERVICE_UNIT)
                        .unwrap()
                        .map(|g| g.get(&dict::CC_TIME).unwrap().unwrap_or(0));
                    self.sent.push(Sent {
                        t: request_type,
                        number,
                        retransmission,
                        usu,
                    });
                    self.waiting = Some(hbh);
                    if std::mem::take(&mut self.lose_next) {
                        continue;
                    }
                    self.reached.push((number, usu.unwrap_or(0)));
                    let mut out = [0u8; 2048];
                    let a = self.s.handle_request(self.now, &m, &mut out).unwrap();
                    self.flights.push(Flight {
                        bytes: a.to_vec(),
                        hbh,
                    });
                }
                Transmit::Answer { len } => {
                    let m = parse(&buf[..len]);
                    m.validate(&CreditControl).expect("valid RAA/ASA");
                    let rc = m.get(&base::RESULT_CODE).unwrap().unwrap();
                    assert!([2001, 2002, 5002].contains(&rc), "answered {rc}");
                }
            }
        }
        self.observe();
    }

    fn deliver(&mut self, f: &Flight, force: bool) {
        let matched = self.waiting == Some(f.hbh);
        let m = parse(&f.bytes);
        // The peer drops an unmatched answer; a forced ("stale") one is
        // handed over if it names its CCR.
        let named = m.get(&dict::CC_REQUEST_NUMBER).unwrap().is_some();
        if !(matched || force && named) {
            return;
        }
        if matched {
            self.waiting = None;
        }
        let before = self.c.state();
        self.c.handle_answer(self.now, &m);
        if before == PrepaidState::PendingUpdate
            && self.c.state() == PrepaidState::Ended
            && m.get(&base::RESULT_CODE).unwrap() == Some(4011)
        {
            self.not_applicable = true;
        }
        self.pump();
    }

    /// `handle_timeout(now)` if a timer ran; then none may be left.
    fn timers(&mut self) {
        if self.s.poll_timeout().is_some_and(|t| t <= self.now) {
            self.s.handle_timeout(self.now);
        }
        if self.c.poll_timeout().is_some_and(|t| t <= self.now) {
            self.c.handle_timeout(self.now);
            self.pump();
            if let Some(t) = self.c.poll_timeout() {
                assert!(
                    t > self.now,
                    "{:?}: timer {t:?} not consumed at {:?}",
                    self.c.state(),
                    self.now
                );
            }
        }
    }

    fn hangup(&mut self, cause: TerminationCause) {
        if self.live() && self.ended_at.is_none() {
            self.ended_at = Some(self.now);
        }
        self.c.call_ended(self.now, cause);
        self.pump();
    }

    fn server_request(&mut self, code: CommandCode) {
        let queued = if code == CommandCode::ABORT_SESSION {
            self.s.abort_session(SID, CLIENT)
        } else {
            self.s.reauthorize(SID, CLIENT)
        };
        let mut buf = [0u8; 1024];
        let bytes = match self.s.poll_transmit(&mut buf) {
            Some(r) => buf[..r.unwrap()].to_vec(),
            None => {
                assert!(!queued);
                // the server has no session: send one anyway
                let hdr =
                    HeaderRepr::request(code, ApplicationId::CREDIT_CONTROL, 9, 9).proxiable(true);
                let mut b = MessageBuilder::new(&mut buf, hdr);
                b.put(&base::SESSION_ID, SID)
                    .put(&base::ORIGIN_HOST, SERVER)
                    .put(&base::ORIGIN_REALM, REALM)
                    .put(&base::DESTINATION_REALM, REALM)
                    .put(&base::AUTH_APPLICATION_ID, 4);
                b.finish().unwrap().to_vec()
            }
        };
        let m = parse(&bytes);
        assert!(self.c.handle_server_request(self.now, &m));
        self.pump();
    }

    fn step(&mut self, a: &Act) {
        let pick = |n: usize, i: usize| if n == 0 { None } else { Some(i % n) };
        match *a {
            Act::Setup => {
                self.c.call_setup(self.now);
                self.pump();
            }
            Act::Answer => {
                if self.live() && self.ended_at.is_none() && self.answered_at.is_none() {
                    self.answered_at = Some(self.now);
                }
                self.c.call_answered(self.now);
                self.pump();
            }
            Act::Hangup(cause) => self.hangup(cause),
            Act::Advance(ms) => {
                self.now = self.now + Duration::from_millis(ms);
                self.timers();
            }
            Act::Fire => {
                if let Some(t) = self.c.poll_timeout() {
                    self.now = self.now.max(t);
                    self.timers();
                }
            }
            Act::Deliver(i) => {
                if let Some(i) = pick(self.flights.len(), i) {
                    let f = self.flights.remove(i);
                    self.deliver(&f, false);
                }
            }
            Act::Duplicate(i) => {
                if let Some(i) = pick(self.flights.len(), i) {
                    let f = self.flights[i].clone();
                    self.deliver(&f, false);
                }
            }
            Act::Stale(i) => {
                if let Some(i) = pick(self.flights.len(), i) {
                    let f = self.flights[i].clone();
                    self.deliver(&f, true);
                }
            }
            Act::Drop(i) => {
                if let Some(i) = pick(self.flights.len(), i) {
                    self.flights.remove(i);
                }
            }
            Act::LoseNext => self.lose_next = true,
            Act::Fail => {
                if self.waiting.take().is_some() {
                    self.c.handle_request_failed(self.now);
                    self.pump();
                }
            }
            Act::Rar => self.server_request(CommandCode::RE_AUTH),
            Act::Asr => self.server_request(CommandCode::ABORT_SESSION),
            Act::Fabricate(f) => {
                if let (Some(hbh), Some(last)) = (self.waiting, self.sent.last()) {
                    self.flights.push(Flight {
                        bytes: f.encode(hbh, last.number),
                        hbh,
                    });
                }
            }
            Act::TopUp(n) => {
                let b = self.s.rating().balance("1001").unwrap();
                self.s.rating_mut().set("1001", b + u64::from(n));
                self.credited += u64::from(n);
            }
        }
    }

    /// The call ends and the network behaves: the session must end.
    fn settle(&mut self) {
        self.lose_next = false;
        self.hangup(TerminationCause::Logout);
        for _ in 0..SETTLE_STEPS {
            self.pump();
            if self.c.state() == PrepaidState::Ended {
                return;
            }
            if let Some(i) = self
                .flights
                .iter()
                .position(|f| Some(f.hbh) == self.waiting)
            {
                let f = self.flights.remove(i);
                self.deliver(&f, false);
                continue;
            }
            let t = self.c.poll_timeout().unwrap_or_else(|| {
                panic!("{:?} with no timer and nothing in flight", self.c.state())
            });
            self.now = self.now.max(t);
            self.timers();
        }
        panic!("not Ended after {SETTLE_STEPS} steps: {:?}", self.c.state());
    }

    /// Every invariant over what was sent.
    fn check(&mut self, initial_balance: u64, tcc: Duration) {
        // CC-Request-Numbers strictly increase; a retransmission repeats
        // the previous CCR; nothing but a CCR-T's retransmission after it.
        let mut last: Option<Sent> = None;
        let mut terminations = 0;
        for s in &self.sent {
            match last {
                None => {
                    assert_eq!(
                        (s.t, s.number, s.retransmission),
                        (CcRequestType::Initial, 0, false)
                    )
                }
                Some(l) if s.retransmission => {
                    assert_eq!(
                        (s.t, s.number),
                        (l.t, l.number),
                        "retransmission of another CCR"
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
            if s.t == CcRequestType::Termination && !s.retransmission {
                terminations += 1;
            }
            assert_ne!(s.t, CcRequestType::Event);
            last = Some(*s);
        }
        assert_eq!(u32::from(self.c.terminations()), terminations);
        let expected_t = u32::from(self.opened && !self.not_applicable);
        assert_eq!(
            terminations, expected_t,
            "CCR-Ts (opened {}, 4011 {})",
            self.opened, self.not_applicable
        );
        // usage
        let usu: u32 = self
            .sent
            .iter()
            .filter(|s| !s.retransmission)
            .filter_map(|s| s.usu)
            .sum();
        match self.answered_at {
            None => assert_eq!(usu, 0),
            Some(a) => {
                let end = self.ended_at.unwrap_or(self.now);
                let duration = seconds_between(a, end);
                if terminations == 1 {
                    assert_eq!(usu, duration, "usage of a terminated session");
                } else {
                    assert!(usu <= duration);
                }
            }
        }
        // one Finished, last
        let finished = self
            .events
            .iter()
            .filter(|e| **e == PrepaidEvent::Finished)
            .count();
        assert_eq!(finished, 1);
        assert_eq!(self.events.last(), Some(&PrepaidEvent::Finished));
        // server: debits at most the usage it got, each number once
        let mut numbers = std::collections::BTreeMap::new();
        for &(n, u) in &self.reached {
            numbers.entry(n).or_insert(u);
        }
        let reported: u64 = numbers.values().map(|&u| u64::from(u)).sum();
        let balance = self.s.rating().balance("1001").unwrap();
        let debited = initial_balance + self.credited - balance;
        assert!(
            debited <= reported,
            "debited {debited} > reported {reported}"
        );
        // sessions over (by CCR-T or failed update): nothing stays reserved
        if self.s.sessions() == 0 {
            assert_eq!(self.free(), balance);
        }
        // Tcc ends what the client left open (its CCR-T lost); then too
        self.now = self.now + tcc + Duration::from_secs(1);
        self.s.handle_timeout(self.now);
        assert_eq!(self.s.sessions(), 0);
        assert_eq!(self.free(), balance);
    }

    /// Seconds a new reservation could get: the balance minus what is
    /// reserved.
    fn free(&mut self) -> u64 {
        let r = self.s.rating_mut();
        let free = r.reserve("probe", "1001", "", u32::MAX).unwrap();
        r.release("probe", "1001");
        u64::from(free)
    }
}

fn run_prepaid(st: &Setup, acts: &[Act]) {
    let mut cfg = PrepaidConfig::new(CLIENT, REALM, REALM, CONTEXT);
    cfg.destination_host = Some(SERVER);
    cfg.clock = WallClock {
        unix_at_zero: st.unix0,
    };
    cfg.failure_handling = st.ccfh;
    cfg.on_exhaustion = st.on_exhaustion;
    cfg.update_on_answer = st.update_on_answer;
    cfg.requested_time = st.requested;
    cfg.tx = Duration::from_millis(st.tx_ms);
    let mut scfg = CcServerConfig::new(SERVER, REALM);
    scfg.no_credit = st.no_credit;
    scfg.max_grant = st.max_grant;
    scfg.validity_time = st.validity;
    scfg.tcc = Duration::from_secs(st.tcc_s);
    let mut bal = Balances::<8>::new();
    bal.set("1001", st.balance);
    let mut w = World {
        c: PrepaidClient::new(&cfg, session_id_from(SID).unwrap(), PARTIES),
        s: CcServer::new(&scfg, bal),
        now: Instant::from_millis(st.start_ms),
        next_hbh: 0,
        waiting: None,
        lose_next: false,
        flights: Vec::new(),
        sent: Vec::new(),
        reached: Vec::new(),
        events: Vec::new(),
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
    w.check(st.balance, scfg.tcc);
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1024,
        max_shrink_iters: 2_000,
        ..ProptestConfig::default()
    })]

    /// A call set up first, then anything.
    #[test]
    fn prepaid_invariants(st in setup(), acts in prop::collection::vec(act(), 0..80)) {
        let mut all = vec![Act::Setup];
        all.extend(acts);
        run_prepaid(&st, &all);
    }

    /// Anything, in any order (setup may come late or never).
    #[test]
    fn prepaid_invariants_any_order(st in setup(), acts in prop::collection::vec(act(), 0..40)) {
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
    Fail,
    Fabricate(Fab),
}

fn pact() -> impl Strategy<Value = PAct> {
    prop_oneof![
        2 => Just(PAct::Answer),
        2 => Just(PAct::Hangup),
        4 => (0u64..=120_000).prop_map(PAct::Advance),
        3 => Just(PAct::Fire),
        6 => any::<usize>().prop_map(PAct::Deliver),
        1 => any::<usize>().prop_map(PAct::Duplicate),
        2 => any::<usize>().prop_map(PAct::Drop),
        2 => Just(PAct::LoseNext),
        2 => Just(PAct::Fail),
        3 => fab().prop_map(PAct::Fabricate),
    ]
}

fn run_postpaid(ddfh: Ddfh, max_attempts: u8, balance: u64, acts: &[PAct]) {
    let mut cfg = PostpaidConfig::new(CLIENT, REALM, REALM, CONTEXT);
    cfg.destination_host = Some(SERVER);
    cfg.clock = CLOCK;
    cfg.failure_handling = ddfh;
    cfg.max_attempts = max_attempts;
    let scfg = CcServerConfig::new(SERVER, REALM);
    let mut bal = Balances::<8>::new();
    bal.set("1001", balance);
    let mut s: CcServer<'_, _, 8> = CcServer::new(&scfg, bal);
    let mut c = PostpaidClient::new(&cfg, session_id_from(SID).unwrap(), PARTIES);
    let mut now = Instant::from_millis(500);
    let mut flights: Vec<Flight> = Vec::new();
    let mut waiting: Option<u32> = None;
    let mut lose_next = false;
    let mut hbh = 0u32;
    let mut sent: Vec<(bool, u32)> = Vec::new();
    let mut events = Vec::new();
    let mut answered: Option<Instant> = None;
    let mut ended: Option<Instant> = None;

    macro_rules! pump {
        () => {{
            while let Some(e) = c.poll_event() {
                events.push(e);
            }
            let mut buf = [0u8; 2048];
            while let Some(t) = c.poll_transmit(now, &mut buf) {
                let t = t.expect("encodes");
                hbh += 1;
                buf[12..16].copy_from_slice(&hbh.to_be_bytes());
                let m = parse(&buf[..t.len]);
                m.validate(&CreditControl).expect("valid CCR-E");
                assert_eq!(
                    m.get(&dict::CC_REQUEST_TYPE).unwrap(),
                    Some(CcRequestType::Event)
                );
                assert_eq!(m.get(&dict::CC_REQUEST_NUMBER).unwrap(), Some(0));
                let usu = m
                    .get(&dict::USED_SERVICE_UNIT)
                    .unwrap()
                    .and_then(|g| g.get(&dict::CC_TIME).unwrap())
                    .unwrap();
                sent.push((t.retransmission, usu));
                waiting = Some(hbh);
                if std::mem::take(&mut lose_next) {
                    continue;
                }
                let mut out = [0u8; 1024];
                let a = s.handle_request(now, &m, &mut out).unwrap();
                flights.push(Flight {
                    bytes: a.to_vec(),
                    hbh,
                });
            }
        }};
    }
    macro_rules! deliver {
        ($f:expr) => {{
            let f: Flight = $f;
            if waiting == Some(f.hbh) {
                waiting = None;
                c.handle_answer(now, &parse(&f.bytes));
                pump!();
            }
        }};
    }
    macro_rules! timers {
        () => {{
            if c.poll_timeout().is_some_and(|t| t <= now) {
                c.handle_timeout(now);
                pump!();
                if let Some(t) = c.poll_timeout() {
                    assert!(t > now);
                }
            }
        }};
    }

    for a in acts {
        let pick = |n: usize, i: usize| if n == 0 { None } else { Some(i % n) };
        match *a {
            PAct::Answer => {
                if c.state() == PostpaidState::Idle {
                    answered = Some(now);
                }
                c.call_answered(now);
                pump!();
            }
            PAct::Hangup => {
                if c.state() == PostpaidState::Answered {
                    ended = Some(now);
                }
                c.call_ended(now);
                pump!();
            }
            PAct::Advance(ms) => {
                now = now + Duration::from_millis(ms);
                timers!();
            }
            PAct::Fire => {
                if let Some(t) = c.poll_timeout() {
                    now = now.max(t);
                    timers!();
                }
            }
            PAct::Deliver(i) => {
                if let Some(i) = pick(flights.len(), i) {
                    deliver!(flights.remove(i));
                }
            }
            PAct::Duplicate(i) => {
                if let Some(i) = pick(flights.len(), i) {
                    deliver!(flights[i].clone());
                }
            }
            PAct::Drop(i) => {
                if let Some(i) = pick(flights.len(), i) {
                    flights.remove(i);
                }
            }
            PAct::LoseNext => lose_next = true,
            PAct::Fail => {
                if waiting.take().is_some() {
                    c.handle_request_failed(now);
                    pump!();
                }
            }
            PAct::Fabricate(f) => {
                if let Some(h) = waiting {
                    flights.push(Flight {
                        bytes: f.encode(h, 0),
                        hbh: h,
                    });
                }
            }
        }
    }
    // the call ends and the network behaves
    lose_next = false;
    if c.state() == PostpaidState::Answered {
        ended = Some(now);
    }
    c.call_ended(now);
    pump!();
    let mut steps = 0;
    while c.state() != PostpaidState::Ended {
        steps += 1;
        assert!(steps < SETTLE_STEPS, "postpaid not Ended: {:?}", c.state());
        if let Some(i) = flights.iter().position(|f| Some(f.hbh) == waiting) {
            deliver!(flights.remove(i));
            continue;
        }
        let t = c.poll_timeout().expect("a timer while pending");
        now = now.max(t);
        timers!();
    }

    // one CCR-Event per answered call; resends flagged; bounded attempts
    match (answered, ended) {
        (Some(a), Some(e)) => {
            assert!(!sent.is_empty());
            assert!(sent.len() <= usize::from(max_attempts.max(1)));
            assert!(!sent[0].0);
            assert!(sent[1..].iter().all(|s| s.0), "resends carry the T flag");
            let d = seconds_between(a, e);
            assert!(sent.iter().all(|s| s.1 == d), "USU is the duration");
            if ddfh == Ddfh::Continue {
                assert!(
                    sent.len() == 1
                        || events
                            .iter()
                            .any(|e| matches!(e, PostpaidEvent::Charged(_)))
                );
            }
            let outcomes = events
                .iter()
                .filter(|e| matches!(e, PostpaidEvent::Charged(_) | PostpaidEvent::Undelivered))
                .count();
            assert_eq!(outcomes, 1);
        }
        _ => {
            assert!(sent.is_empty(), "a CCR-Event for a call never answered");
            assert!(events
                .iter()
                .all(|e| !matches!(e, PostpaidEvent::Charged(_) | PostpaidEvent::Undelivered)));
        }
    }
    assert_eq!(events.last(), Some(&PostpaidEvent::Finished));
    assert_eq!(
        events
            .iter()
            .filter(|e| **e == PostpaidEvent::Finished)
            .count(),
        1
    );
    // the server debited at most the one record
    let d = sent.first().map_or(0, |s| u64::from(s.1));
    assert!(balance - s.rating().balance("1001").unwrap() <= d);
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1024,
        ..ProptestConfig::default()
    })]

    #[test]
    fn postpaid_invariants(
        ddfh in prop::sample::select(vec![Ddfh::TerminateOrBuffer, Ddfh::Continue]),
        max_attempts in 0u8..5,
        balance in 0u64..400,
        acts in prop::collection::vec(pact(), 0..40),
    ) {
        run_postpaid(ddfh, max_attempts, balance, &acts);
    }
}
