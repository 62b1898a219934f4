//! Transition table of one credit-control server session (RFC 8506 §7
//! Table 6), written as data: for every state and input, the next state,
//! the answer, the events, the balance and the credit left free. The
//! server is driven as the endpoint drives it (`machines::ServerNode`): a
//! CCR of an unknown Session-Id goes to [`CcServer::handle_new`], one of a
//! known session to its [`CcServerSession`] through [`Machine`], and every
//! request is validated by the peer first.
//!
//! Changed on purpose since the server was split into the shared server and
//! one machine per session: duplicates are recognised by CC-Request-Number
//! (RFC 8506 §5.7), whether or not the copy carries the T flag; an ended
//! session lingers for the duplicate window and answers a retransmitted
//! CCR-T again (RFC 6733 §6.5); Tcc is at least twice the grant (RFC 8506
//! §13); a one-time event under DIRECT_DEBITING charges its
//! Requested-Service-Unit when it is not zero (RFC 8506 §6.3); ASR and RAR
//! go to the client's Origin-Realm (RFC 6733 §6.6). Malformed requests are
//! answered by the peer (validation happens once, before any machine).

mod machines;

use std::time::Duration;

use diameter_cc::client::prepaid::{PrepaidClient, PrepaidConfig, PrepaidState};
use diameter_cc::dict::{CcRequestType, CreditControlFailureHandling as Ccfh, RequestedAction};
use diameter_cc::msg::{CcrRepr, ServiceUnit, SubscriptionId};
use diameter_cc::server::credit_control::{
    CcServer, CcServerConfig, CcServerEvent, CcServerSession, NoCredit, Rating,
};
use diameter_cc::session::{Ctx, Failure, Machine};
use diameter_cc::CreditControl;
use diameter_core::dict::base::{self, TerminationCause};
use diameter_core::time::Instant;
use diameter_core::{CommandCode, Message, ResultCode};

use machines::*;

/// Where the session under test starts. Open0: CCR-I 0 granted 60 of the
/// 100 s balance; Open1: then CCR-U 1 at 10 s reported 10 s and was granted
/// 60 more; Ended: Open0, then CCR-T 1 at 10 s reported 10 s (the session
/// lingers for the duplicate window, 60 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SS {
    Idle,
    Open0,
    Open1,
    Ended,
}

/// What is left after the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// No session.
    None,
    /// An open session.
    Open,
    /// An ended session kept to answer retransmissions.
    Lingering,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SIn {
    /// CCR-I 0, RSU 60.
    CcrI,
    /// CCR-U with the next number, USU 10, RSU 60.
    CcrU,
    /// CCR-U with the next number reporting the whole balance left (USU
    /// 100), RSU 60: nothing left to grant.
    CcrUExhaust,
    /// CCR-U with the next number, USU 150 (more than the balance), RSU 0.
    CcrUOverdraw,
    /// CCR-T with the next number, USU 10.
    CcrT,
    /// The last CCR processed, again (as a retransmission with the T flag).
    CcrDup,
    /// The last CCR processed, again, without the T flag.
    CcrDupNoT,
    /// A CCR-Event (another Session-Id), USU 10.
    CcrE,
    /// 600 s pass (Tcc).
    Tcc,
    /// `abort()`.
    Asr,
    /// `reauthorize()`.
    Rar,
    /// A CCR without Service-Context-Id.
    Malformed,
    /// A request that is not a CCR (STR).
    NotCcr,
}

const SSTATES: [SS; 4] = [SS::Idle, SS::Open0, SS::Open1, SS::Ended];
const SINPUTS: [SIn; 13] = [
    SIn::CcrI,
    SIn::CcrU,
    SIn::CcrUExhaust,
    SIn::CcrUOverdraw,
    SIn::CcrT,
    SIn::CcrDup,
    SIn::CcrDupNoT,
    SIn::CcrE,
    SIn::Tcc,
    SIn::Asr,
    SIn::Rar,
    SIn::Malformed,
    SIn::NotCcr,
];

/// What the server sends: a CCA (Result-Code, GSU CC-Time), another answer
/// (command code, Result-Code), a request of its own (command code), or
/// nothing; Rejected: the peer refuses the request before any machine
/// sees it (Result-Code of the validation error); ToApp: no machine takes
/// it (the endpoint hands it to the application).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SOut {
    Cca(u32, Option<u32>),
    Other(u32, u32),
    Req(u32),
    Nothing,
    Rejected(u32),
    ToApp,
}

type SEv = CcServerEvent;
/// (state, input, next, answer, events, balance after, credit free after)
type SRow = (SS, SIn, Next, SOut, &'static [SEv], u64, u64);

const fn refused(v: u32) -> SEv {
    SEv::Refused(ResultCode::new(v))
}
const UNKNOWN: &[SEv] = &[refused(5002)];
const EXPIRED: &[SEv] = &[SEv::Exhausted, SEv::Expired];

#[rustfmt::skip]
const SERVER_TABLE: &[SRow] = &[
    (SS::Idle, SIn::CcrI,         Next::Open, SOut::Cca(2001, Some(60)), &[SEv::Started { granted: 60 }], 100, 40),
    (SS::Idle, SIn::CcrU,         Next::None, SOut::Cca(5002, None), UNKNOWN, 100, 100),
    (SS::Idle, SIn::CcrUExhaust,  Next::None, SOut::Cca(5002, None), UNKNOWN, 100, 100),
    (SS::Idle, SIn::CcrUOverdraw, Next::None, SOut::Cca(5002, None), UNKNOWN, 100, 100),
    (SS::Idle, SIn::CcrT,         Next::None, SOut::Cca(5002, None), UNKNOWN, 100, 100),
    (SS::Idle, SIn::CcrDup,       Next::None, SOut::Cca(5002, None), UNKNOWN, 100, 100),
    (SS::Idle, SIn::CcrDupNoT,    Next::None, SOut::Cca(5002, None), UNKNOWN, 100, 100),
    (SS::Idle, SIn::CcrE,         Next::None, SOut::Cca(2001, None), &[SEv::EventCharged { used: 10 }], 90, 90),
    (SS::Idle, SIn::Tcc,          Next::None, SOut::Nothing, &[], 100, 100),
    (SS::Idle, SIn::Asr,          Next::None, SOut::Nothing, &[], 100, 100),
    (SS::Idle, SIn::Rar,          Next::None, SOut::Nothing, &[], 100, 100),
    // validated once by the peer (5005 MISSING_AVP, RFC 6733 §7.1.5); it
    // used to be the server's own 5005 answer and Refused event
    (SS::Idle, SIn::Malformed,    Next::None, SOut::Rejected(5005), &[], 100, 100),
    // no credit-control machine owns it (it used to be 3001 and Refused)
    (SS::Idle, SIn::NotCcr,       Next::None, SOut::ToApp, &[], 100, 100),

    // a repeated CCR-I 0 is a duplicate: same answer, nothing reserved again
    (SS::Open0, SIn::CcrI,         Next::Open, SOut::Cca(2001, Some(60)), &[], 100, 40),
    (SS::Open0, SIn::CcrU,         Next::Open, SOut::Cca(2001, Some(60)), &[], 90, 30),
    // Table 6: update not successfully processed → debit, answer, Idle
    (SS::Open0, SIn::CcrUExhaust,  Next::Lingering, SOut::Cca(4012, None), &[refused(4012), SEv::Ended { used: 100 }], 0, 0),
    (SS::Open0, SIn::CcrUOverdraw, Next::Lingering, SOut::Cca(4012, None), &[refused(4012), SEv::Ended { used: 150 }], 0, 0),
    (SS::Open0, SIn::CcrT,         Next::Lingering, SOut::Cca(2001, None), &[SEv::Ended { used: 10 }], 90, 90),
    (SS::Open0, SIn::CcrDup,       Next::Open, SOut::Cca(2001, Some(60)), &[], 100, 40),
    // RFC 8506 §5.7: a duplicate by CC-Request-Number, T flag or not
    (SS::Open0, SIn::CcrDupNoT,    Next::Open, SOut::Cca(2001, Some(60)), &[], 100, 40),
    (SS::Open0, SIn::CcrE,         Next::Open, SOut::Cca(2001, None), &[SEv::EventCharged { used: 10 }], 90, 30),
    // the grant (60 s) runs out unreported: ASR at 70 s (RFC 8506 §5.5),
    // then Tcc (RFC 8506 §13) releases the reservation
    (SS::Open0, SIn::Tcc,          Next::Lingering, SOut::Req(274), EXPIRED, 100, 100),
    (SS::Open0, SIn::Asr,          Next::Open, SOut::Req(274), &[], 100, 40),
    (SS::Open0, SIn::Rar,          Next::Open, SOut::Req(258), &[], 100, 40),
    (SS::Open0, SIn::Malformed,    Next::Open, SOut::Rejected(5005), &[], 100, 40),
    // the session answers 3001 COMMAND_UNSUPPORTED (RFC 6733 §7.1.3)
    (SS::Open0, SIn::NotCcr,       Next::Open, SOut::Other(275, 3001), &[], 100, 40),

    // a CCR-I 0 again is a duplicate of number 0 (RFC 8506 §5.7): answered
    // as before, not started over (it used to restart the session)
    (SS::Open1, SIn::CcrI,         Next::Open, SOut::Cca(2001, Some(60)), &[], 90, 30),
    (SS::Open1, SIn::CcrU,         Next::Open, SOut::Cca(2001, Some(60)), &[], 80, 20),
    (SS::Open1, SIn::CcrUExhaust,  Next::Lingering, SOut::Cca(4012, None), &[refused(4012), SEv::Ended { used: 110 }], 0, 0),
    (SS::Open1, SIn::CcrUOverdraw, Next::Lingering, SOut::Cca(4012, None), &[refused(4012), SEv::Ended { used: 160 }], 0, 0),
    (SS::Open1, SIn::CcrT,         Next::Lingering, SOut::Cca(2001, None), &[SEv::Ended { used: 20 }], 80, 80),
    // the resent CCR-U 1 is answered again and not debited twice
    (SS::Open1, SIn::CcrDup,       Next::Open, SOut::Cca(2001, Some(60)), &[], 90, 30),
    (SS::Open1, SIn::CcrDupNoT,    Next::Open, SOut::Cca(2001, Some(60)), &[], 90, 30),
    (SS::Open1, SIn::CcrE,         Next::Open, SOut::Cca(2001, None), &[SEv::EventCharged { used: 10 }], 80, 20),
    (SS::Open1, SIn::Tcc,          Next::Lingering, SOut::Req(274), EXPIRED, 90, 90),
    (SS::Open1, SIn::Asr,          Next::Open, SOut::Req(274), &[], 90, 30),
    (SS::Open1, SIn::Rar,          Next::Open, SOut::Req(258), &[], 90, 30),
    (SS::Open1, SIn::Malformed,    Next::Open, SOut::Rejected(5005), &[], 90, 30),
    (SS::Open1, SIn::NotCcr,       Next::Open, SOut::Other(275, 3001), &[], 90, 30),

    // RFC 6733 §6.5: the ended session answers the requests it processed
    // again (a CCR-I 0 copy included); new ones are for no session (5002)
    (SS::Ended, SIn::CcrI,         Next::Lingering, SOut::Cca(2001, Some(60)), &[], 90, 90),
    (SS::Ended, SIn::CcrU,         Next::Lingering, SOut::Cca(5002, None), &[], 90, 90),
    (SS::Ended, SIn::CcrUExhaust,  Next::Lingering, SOut::Cca(5002, None), &[], 90, 90),
    (SS::Ended, SIn::CcrUOverdraw, Next::Lingering, SOut::Cca(5002, None), &[], 90, 90),
    (SS::Ended, SIn::CcrT,         Next::Lingering, SOut::Cca(5002, None), &[], 90, 90),
    // the retransmitted CCR-T gets its answer again, not 5002
    (SS::Ended, SIn::CcrDup,       Next::Lingering, SOut::Cca(2001, None), &[], 90, 90),
    (SS::Ended, SIn::CcrDupNoT,    Next::Lingering, SOut::Cca(2001, None), &[], 90, 90),
    (SS::Ended, SIn::CcrE,         Next::Lingering, SOut::Cca(2001, None), &[SEv::EventCharged { used: 10 }], 80, 80),
    // the duplicate window (60 s) passes: forgotten
    (SS::Ended, SIn::Tcc,          Next::None, SOut::Nothing, &[], 90, 90),
    (SS::Ended, SIn::Asr,          Next::Lingering, SOut::Nothing, &[], 90, 90),
    (SS::Ended, SIn::Rar,          Next::Lingering, SOut::Nothing, &[], 90, 90),
    (SS::Ended, SIn::Malformed,    Next::Lingering, SOut::Rejected(5005), &[], 90, 90),
    (SS::Ended, SIn::NotCcr,       Next::Lingering, SOut::Other(275, 3001), &[], 90, 90),
];

struct SDrive {
    s: ServerNode,
    /// The last CCR sent to the server, its number.
    last: Option<(Vec<u8>, u32)>,
}

impl SDrive {
    fn new(config: CcServerConfig, balance: u64) -> Self {
        SDrive {
            s: ServerNode::new(config, balance),
            last: None,
        }
    }

    fn at(&mut self, secs: u64) {
        self.s.advance_to(Instant::from_secs(secs));
    }

    fn send(&mut self, bytes: &[u8]) -> SOut {
        let m = recv_or_parse(bytes);
        match self.s.handle(bytes) {
            Err(e) => SOut::Rejected(e.result_code().get()),
            Ok(None) => SOut::ToApp,
            Ok(Some(a)) => {
                let am = recv(&a);
                assert_eq!(
                    (am.hop_by_hop(), am.end_to_end()),
                    (m.hop_by_hop(), m.end_to_end())
                );
                if am.command_code() == CommandCode::CREDIT_CONTROL {
                    let (rc, gsu) = read_cca(&a);
                    SOut::Cca(rc, gsu)
                } else {
                    let Out::Ans(code, rc) = read_answer(&a) else {
                        unreachable!()
                    };
                    SOut::Other(code, rc)
                }
            }
        }
    }

    fn ccr(&mut self, t: CcRequestType, number: u32, rsu: Option<u32>, usu: Option<u32>) -> SOut {
        let m = ccr(SID, t, number, rsu, usu, false);
        let r = self.send(&m);
        self.last = Some((m, number));
        r
    }

    fn next_number(&self) -> u32 {
        self.last.as_ref().map_or(1, |l| l.1 + 1)
    }

    /// The last CCR again, with or without the T flag.
    fn again(&mut self, retransmit: bool) -> SOut {
        let m = match &self.last {
            Some((m, _)) => {
                let mut m = m.clone();
                if retransmit {
                    set_retransmit(&mut m);
                }
                m
            }
            None => ccr(
                SID,
                CcRequestType::Update,
                1,
                Some(60),
                Some(10),
                retransmit,
            ),
        };
        self.send(&m)
    }

    /// The requests the sessions sent, checked for where they go.
    fn requests(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.s.requests)
            .into_iter()
            .map(|(sid, r)| {
                assert_eq!(sid, SID);
                let m = recv(&r);
                assert!(m.is_request());
                // RFC 6733 §6.6: back to the client's realm and host
                assert_eq!(m.get(&base::DESTINATION_HOST).unwrap(), Some(CLIENT));
                assert_eq!(m.get(&base::DESTINATION_REALM).unwrap(), Some(CLIENT_REALM));
                assert_eq!(m.get(&base::ORIGIN_REALM).unwrap(), Some(REALM));
                m.command_code().0
            })
            .collect()
    }

    fn state(&self) -> Next {
        match self.s.find(SID) {
            None => Next::None,
            Some(i) if self.s.sessions[i].m.is_open() => Next::Open,
            Some(_) => Next::Lingering,
        }
    }
}

/// The request as the server receives it, validated or (when it fails
/// validation) only parsed.
fn recv_or_parse(bytes: &[u8]) -> Message<'_> {
    try_recv(bytes).unwrap_or_else(|_| Message::parse_with(bytes, &CreditControl).unwrap())
}

fn table_config() -> CcServerConfig {
    let mut c = CcServerConfig::new();
    c.no_credit = NoCredit::CreditLimitReached;
    c
}

#[test]
fn server_session_transition_table() {
    let mut checked = 0;
    let mut bad = Vec::new();
    let mut used = vec![0usize; SERVER_TABLE.len()];
    for &st in &SSTATES {
        for &input in &SINPUTS {
            let rows: Vec<usize> = (0..SERVER_TABLE.len())
                .filter(|&i| SERVER_TABLE[i].0 == st && SERVER_TABLE[i].1 == input)
                .collect();
            assert_eq!(rows.len(), 1, "({st:?}, {input:?})");
            let (_, _, next, answer, events, balance, free) = SERVER_TABLE[rows[0]];
            used[rows[0]] += 1;
            let mut d = SDrive::new(table_config(), 100);
            if st != SS::Idle {
                assert_eq!(
                    d.ccr(CcRequestType::Initial, 0, Some(60), None),
                    SOut::Cca(2001, Some(60))
                );
            }
            if st == SS::Open1 {
                d.at(10);
                assert_eq!(
                    d.ccr(CcRequestType::Update, 1, Some(60), Some(10)),
                    SOut::Cca(2001, Some(60))
                );
            }
            if st == SS::Ended {
                d.at(10);
                assert_eq!(
                    d.ccr(CcRequestType::Termination, 1, None, Some(10)),
                    SOut::Cca(2001, None)
                );
            }
            d.s.take_events();
            let now = d.s.now + Duration::from_secs(1);
            d.s.advance_to(now);
            let n = d.next_number();
            let got = match input {
                SIn::CcrI => d.ccr(CcRequestType::Initial, 0, Some(60), None),
                SIn::CcrU => d.ccr(CcRequestType::Update, n, Some(60), Some(10)),
                SIn::CcrUExhaust => d.ccr(CcRequestType::Update, n, Some(60), Some(100)),
                SIn::CcrUOverdraw => d.ccr(CcRequestType::Update, n, Some(0), Some(150)),
                SIn::CcrT => d.ccr(CcRequestType::Termination, n, None, Some(10)),
                SIn::CcrDup => d.again(true),
                SIn::CcrDupNoT => d.again(false),
                SIn::CcrE => d.send(&ccr(
                    "ev-1",
                    CcRequestType::Event,
                    0,
                    Some(0),
                    Some(10),
                    false,
                )),
                SIn::Tcc => {
                    let to = d.s.now + Duration::from_secs(600);
                    d.s.advance_to(to);
                    match d.requests()[..] {
                        [] => SOut::Nothing,
                        [code] => SOut::Req(code),
                        ref more => panic!("{more:?}"),
                    }
                }
                SIn::Asr | SIn::Rar => {
                    let queued = d.s.server_request(SID, input == SIn::Asr);
                    match d.requests()[..] {
                        [] => {
                            assert!(!queued);
                            SOut::Nothing
                        }
                        [code] => {
                            assert!(queued);
                            SOut::Req(code)
                        }
                        ref more => panic!("{more:?}"),
                    }
                }
                SIn::Malformed => d.send(&malformed_ccr()),
                SIn::NotCcr => d.send(&server_request(CommandCode::SESSION_TERMINATION, SID)),
            };
            let state = d.state();
            // an open session is supervised (Tcc); an ended one waits only
            // for its duplicate window
            match state {
                Next::Open => assert!(d.s.next_timer().is_some()),
                Next::Lingering => assert!(
                    d.s.next_timer().unwrap() <= d.s.now + Duration::from_secs(60),
                    "({st:?}, {input:?}): lingers too long"
                ),
                Next::None => assert_eq!(d.s.next_timer(), None),
            }
            let got = (state, got, d.s.take_events(), d.s.balance(), d.s.free());
            let want = (next, answer, events.to_vec(), balance, free);
            if got != want {
                bad.push(format!(
                    "({st:?}, {input:?}):\n   got  {got:?}\n   want {want:?}"
                ));
            }
            checked += 1;
        }
    }
    assert!(
        bad.is_empty(),
        "{} rows differ:\n{}",
        bad.len(),
        bad.join("\n")
    );
    assert_eq!(checked, 4 * 13);
    assert!(used.iter().all(|&n| n > 0));
}

// ---------------------------------------------------------------------------
// Regression tests
// ---------------------------------------------------------------------------

/// A prepaid client and a server: the client's CCRs reach the server, its
/// answers come back unless `deliver` is false.
struct Pair {
    c: Wire<PrepaidClient>,
    cfg: PrepaidConfig,
    s: ServerNode,
}

impl Pair {
    fn new(ccfh: Ccfh, balance: u64) -> Self {
        let mut cfg = PrepaidConfig::new(REALM, CONTEXT)
            .unwrap()
            .with_destination_host(SERVER)
            .unwrap();
        cfg.failure_handling = ccfh;
        cfg.tx = Duration::from_secs(10);
        Pair {
            c: Wire::new(
                PrepaidClient::new(sid(SID), parties()),
                client_node(),
                Instant::ZERO,
            ),
            cfg,
            s: ServerNode::new(table_config(), balance),
        }
    }

    fn at(&mut self, secs: u64) {
        let t = Instant::from_secs(secs);
        self.c.advance_to(&mut self.cfg, t);
        self.s.advance_to(t);
    }

    /// Take the CCRs the client sent to the server; how many.
    fn exchange(&mut self, deliver: bool) -> usize {
        let mut n = 0;
        for o in std::mem::take(&mut self.c.out) {
            let Output::Request(w) = o else { continue };
            let a = self.s.answer(&w.bytes);
            if deliver {
                self.c.answer(&mut self.cfg, &a);
            }
            n += 1;
        }
        n
    }
}

#[test]
fn a_resent_update_is_debited_once() {
    // The server used to debit a retransmitted CCR-U again. The answer is
    // lost with its connection (HandedBack: RFC 6733 §5.5.4); the client
    // sends the CCR-U again with the T flag; the server recognises it by
    // CC-Request-Number (RFC 8506 §5.7).
    let mut p = Pair::new(Ccfh::RetryAndTerminate, 1000);
    let now = p.c.now;
    p.c.m.call_setup(Ctx::new(&p.c.node, &mut p.cfg), now);
    p.c.pump(&mut p.cfg);
    p.exchange(true);
    p.at(1);
    let now = p.c.now;
    p.c.m.call_answered(Ctx::new(&p.c.node, &mut p.cfg), now);
    p.c.pump(&mut p.cfg);
    p.exchange(true);
    p.at(41);
    p.c.request(&mut p.cfg, &server_request(CommandCode::RE_AUTH, SID));
    // the CCR-U reporting 40 s reaches the server, its answer is lost
    assert_eq!(p.exchange(false), 1);
    p.at(45);
    p.c.fail(&mut p.cfg, Failure::HandedBack);
    let Output::Request(resent) = &p.c.out[0] else {
        panic!("{:?}", p.c.out)
    };
    assert!(read_ccr(&resent.bytes).retransmission);
    assert_eq!(p.exchange(true), 1);
    assert_eq!(p.c.m.state(), PrepaidState::Open);
    p.at(61);
    p.c.m.call_ended(p.c.now, TerminationCause::Logout);
    p.c.pump(&mut p.cfg);
    p.exchange(true);
    assert_eq!(p.c.m.state(), PrepaidState::Ended);
    assert_eq!(p.s.balance(), 1000 - 60);
    assert_eq!(p.s.free(), 1000 - 60);
}

#[test]
fn a_resent_event_is_debited_once() {
    // The server used to debit a CCR-Event resent (T flag) after a lost
    // answer once more (RFC 8506 §6.5).
    let mut d = SDrive::new(CcServerConfig::new(), 100);
    let first = ccr("ev-2", CcRequestType::Event, 0, Some(0), Some(30), false);
    let again = ccr("ev-2", CcRequestType::Event, 0, Some(0), Some(30), true);
    assert_eq!(d.send(&first), SOut::Cca(2001, None));
    assert_eq!(d.send(&again), SOut::Cca(2001, None));
    assert_eq!(d.s.balance(), 70);
    assert_eq!(
        d.s.take_events(),
        [CcServerEvent::EventCharged { used: 30 }]
    );
    // another event is charged
    let other = ccr("ev-3", CcRequestType::Event, 0, Some(0), Some(30), false);
    assert_eq!(d.send(&other), SOut::Cca(2001, None));
    assert_eq!(d.s.balance(), 40);
    // a copy long after the first (a client under TERMINATE_OR_BUFFER
    // resends a stored event for as long as it takes) is still recognised:
    // the last RECENT_EVENTS events are remembered whatever their age
    for secs in [61, 86_400] {
        d.at(secs);
        assert_eq!(d.send(&again), SOut::Cca(2001, None));
        assert_eq!(d.s.balance(), 40);
    }
    assert_eq!(
        d.s.take_events(),
        [CcServerEvent::EventCharged { used: 30 }]
    );
}

#[test]
fn duplicates_are_recognised_by_request_number() {
    // RFC 8506 §5.7: the CC-Request-Number tells duplicates and
    // out-of-sequence requests apart, T flag or not.
    let mut c = table_config();
    c.max_grant = 10;
    let mut d = SDrive::new(c, 10_000);
    assert_eq!(
        d.ccr(CcRequestType::Initial, 0, Some(10), None),
        SOut::Cca(2001, Some(10))
    );
    // 1 and 3 processed; 2 late (not seen yet): processed once
    d.ccr(CcRequestType::Update, 1, Some(10), Some(5));
    d.ccr(CcRequestType::Update, 3, Some(10), Some(5));
    let late = ccr(SID, CcRequestType::Update, 2, Some(10), Some(5), false);
    assert_eq!(d.send(&late), SOut::Cca(2001, Some(10)));
    assert_eq!(d.s.balance(), 10_000 - 15);
    // every copy, with or without T flag: answered again, not rated
    for n in 1..=3 {
        for t in [false, true] {
            let copy = ccr(SID, CcRequestType::Update, n, Some(10), Some(5), t);
            assert_eq!(d.send(&copy), SOut::Cca(2001, Some(10)), "copy of {n}");
        }
    }
    assert_eq!(d.s.balance(), 10_000 - 15);
    // far ahead: a number more than 64 below the highest is taken as
    // processed (never rated twice), answered without a grant
    d.ccr(CcRequestType::Update, 100, Some(10), Some(5));
    assert_eq!(d.s.balance(), 10_000 - 20);
    let old = ccr(SID, CcRequestType::Update, 20, Some(10), Some(5), false);
    assert_eq!(d.send(&old), SOut::Cca(2001, None));
    assert_eq!(d.s.balance(), 10_000 - 20);
    assert_eq!(d.s.open_sessions(), 1);
    assert!(d
        .s
        .take_events()
        .iter()
        .all(|e| !matches!(e, CcServerEvent::Refused(_))));
}

#[test]
fn an_ended_session_answers_its_ccr_t_again_until_the_window_passes() {
    // RFC 6733 §6.5 / RFC 8506 §5.7: a CCR-T resent after a lost answer
    // used to get 5002 UNKNOWN_SESSION_ID once the session was gone.
    let mut d = SDrive::new(table_config(), 100);
    d.ccr(CcRequestType::Initial, 0, Some(60), None);
    d.at(10);
    assert_eq!(
        d.ccr(CcRequestType::Termination, 1, None, Some(10)),
        SOut::Cca(2001, None)
    );
    d.at(69);
    assert_eq!(d.again(true), SOut::Cca(2001, None));
    assert_eq!(d.s.balance(), 90);
    assert_eq!(
        d.s.take_events(),
        [
            CcServerEvent::Started { granted: 60 },
            CcServerEvent::Ended { used: 10 }
        ]
    );
    // 60 s after the CCR-T the session is forgotten
    d.at(70);
    assert_eq!(d.state(), Next::None);
    assert_eq!(d.again(true), SOut::Cca(5002, None));
    assert_eq!(d.s.balance(), 90);
}

#[test]
fn tcc_is_at_least_twice_the_grant() {
    // RFC 8506 §13: Tcc must not end a session that is within its grant;
    // the session is supervised for at least twice the grant, or twice the
    // Validity-Time when one is sent, so that a call reporting only at its
    // end is still billed.
    for (validity, expires) in [(None, 7200), (Some(100), 200)] {
        let mut c = table_config();
        c.tcc = Duration::from_secs(60);
        c.exhaustion_grace = None;
        c.validity_time = validity;
        let mut d = SDrive::new(c, 10_000);
        assert_eq!(
            d.ccr(CcRequestType::Initial, 0, Some(3600), None),
            SOut::Cca(2001, Some(3600))
        );
        d.at(expires - 1);
        assert_eq!(d.state(), Next::Open, "{validity:?}");
        d.at(expires);
        assert_eq!(d.state(), Next::Lingering, "{validity:?}");
        assert_eq!(
            d.s.take_events(),
            [
                CcServerEvent::Started { granted: 3600 },
                CcServerEvent::Expired
            ]
        );
        assert_eq!(d.s.free(), 10_000);
    }
    // a report re-arms it from the report
    let mut c = table_config();
    c.tcc = Duration::from_secs(60);
    c.exhaustion_grace = None;
    let mut d = SDrive::new(c, 10_000);
    d.ccr(CcRequestType::Initial, 0, Some(100), None);
    d.at(150);
    // 50 s of the grant left: Tcc = max(60, 2 × 50) from now
    d.ccr(CcRequestType::Update, 1, None, Some(50));
    d.at(249);
    assert_eq!(d.state(), Next::Open);
    d.at(250);
    assert_eq!(d.state(), Next::Lingering);
}

#[test]
fn a_one_time_event_charges_the_requested_units() {
    // RFC 8506 §6.3: DIRECT_DEBITING deducts the Requested-Service-Unit and
    // answers it as Granted-Service-Unit; with CC-Time 0 requested (the
    // SCENARIOS postpaid CCR-Event) the Used-Service-Unit is charged.
    let mut d = SDrive::new(CcServerConfig::new(), 100);
    let e = ccr("ev-rsu", CcRequestType::Event, 0, Some(30), None, false);
    assert_eq!(d.send(&e), SOut::Cca(2001, Some(30)));
    assert_eq!(d.s.balance(), 70);
    let e = ccr("ev-usu", CcRequestType::Event, 0, Some(0), Some(42), false);
    assert_eq!(d.send(&e), SOut::Cca(2001, None));
    assert_eq!(d.s.balance(), 28);
    assert_eq!(
        d.s.take_events(),
        [
            CcServerEvent::EventCharged { used: 30 },
            CcServerEvent::EventCharged { used: 42 }
        ]
    );
    // more than the balance: refused (the balance is debited what is left)
    let e = ccr("ev-big", CcRequestType::Event, 0, Some(50), None, false);
    assert_eq!(d.send(&e), SOut::Cca(4012, None));
    // other actions are not offered: 5012
    let mut d = SDrive::new(CcServerConfig::new(), 100);
    let subscription = [SubscriptionId::e164(SUBSCRIBER)];
    let mut buf = [0u8; 512];
    let refund = CcrRepr {
        subscription_ids: &subscription,
        requested_service_unit: Some(ServiceUnit::time(30)),
        requested_action: Some(RequestedAction::RefundAccount),
        ..CcrRepr::new(
            "ev-refund",
            CLIENT,
            CLIENT_REALM,
            REALM,
            CONTEXT,
            CcRequestType::Event,
            0,
        )
    }
    .encode(CcrRepr::header(1, 1), &mut buf)
    .unwrap()
    .to_vec();
    assert_eq!(d.send(&refund), SOut::Cca(5012, None));
    assert_eq!(d.s.balance(), 100);
}

#[test]
fn asr_and_rar_go_back_to_the_client() {
    // RFC 6733 §6.6: a request for the client goes to the realm the client
    // named as its Origin-Realm, to its Origin-Host. The answer ends the
    // request; a second one can follow.
    let mut d = SDrive::new(table_config(), 100);
    d.ccr(CcRequestType::Initial, 0, Some(60), None);
    let i = d.s.find(SID).unwrap();
    let s: &CcServerSession = &d.s.sessions[i].m;
    let shared: &CcServer<dyn Rating> = &d.s.server;
    let r = s.route(shared);
    assert_eq!(
        (r.realm, r.host, r.host_only),
        (CLIENT_REALM, Some(CLIENT), false)
    );
    assert_eq!(s.client_host(), CLIENT);
    assert_eq!(s.subscriber(), SUBSCRIBER);
    assert!(d.s.server_request(SID, false));
    assert_eq!(d.requests(), [258]);
    // one request of the session at a time
    assert!(!d.s.server_request(SID, true));
    let raa = diameter_cc::msg::RaaRepr::new(SID, ResultCode::SUCCESS, CLIENT, CLIENT_REALM);
    let pending = d.s.sessions[i].pending.unwrap();
    let mut req = server_request(CommandCode::RE_AUTH, SID);
    set_ids(&mut req, pending.hop_by_hop, pending.end_to_end);
    let mut buf = [0u8; 512];
    let a = raa
        .encode_answer_to(&recv(&req), &mut buf)
        .unwrap()
        .to_vec();
    d.s.client_answered(SID, &a);
    assert!(d.s.server_request(SID, true));
    assert_eq!(d.requests(), [274]);
    // a request handed back is sent again with its End-to-End id
    let w = &mut d.s.sessions[i];
    let first = w.pending.unwrap().end_to_end;
    let shared: &mut CcServer<dyn Rating> = &mut d.s.server;
    w.fail(shared, Failure::HandedBack);
    assert_eq!(w.pending.unwrap().end_to_end, first);
}

#[test]
fn a_malformed_ccr_handed_over_unvalidated_is_answered_5005() {
    // The peer validates every request once; a session given one that did
    // not pass still answers it (RFC 6733 §7.1.5 5005) and is unchanged.
    let mut d = SDrive::new(table_config(), 100);
    d.ccr(CcRequestType::Initial, 0, Some(60), None);
    let i = d.s.find(SID).unwrap();
    let bytes = malformed_ccr();
    let m = Message::parse_with(&bytes, &CreditControl).unwrap();
    let mut buf = [0u8; 1024];
    let w = &mut d.s.sessions[i];
    let shared: &mut CcServer<dyn Rating> = &mut d.s.server;
    let n =
        w.m.handle_request(Ctx::new(&w.node, shared), w.now, &m, false, &mut buf)
            .unwrap();
    assert_eq!(read_answer(&buf[..n]), Out::Ans(272, 5005));
    assert!(w.m.is_open());
    assert_eq!((d.s.balance(), d.s.free()), (100, 40));
    // the session still takes its CCR-U 1
    assert_eq!(
        d.ccr(CcRequestType::Update, 1, Some(60), Some(10)),
        SOut::Cca(2001, Some(60))
    );
}

#[test]
fn a_buffered_event_resent_long_after_is_charged_once() {
    // RFC 8506 §6.5: the server must not debit a resent event twice, even
    // when the client stored it (TERMINATE_OR_BUFFER) and sends it again
    // after the server's duplicate window (60 s) for sessions. Answer at
    // 0 s, hangup at 10 s (CCR-Event, USU 10, charged); its answer is
    // lost, and so is the answer to the copy sent at 50 s; the copy sent
    // at 90 s is answered again, not charged.
    use diameter_cc::client::postpaid::{PostpaidClient, PostpaidConfig};
    let mut cfg = PostpaidConfig::new(REALM, CONTEXT).unwrap();
    let mut c = Wire::new(
        PostpaidClient::new(sid(SID), parties()),
        client_node(),
        Instant::ZERO,
    );
    let mut s = ServerNode::new(CcServerConfig::new(), 100);
    c.m.call_answered(Instant::ZERO);
    c.advance_to(&mut cfg, Instant::from_secs(10));
    c.m.call_ended(c.now);
    c.pump(&mut cfg);
    let mut arrivals = Vec::new();
    for round in 0..3 {
        let Some(Output::Request(w)) = c.out.pop() else {
            panic!("round {round}: {:?}", c.out)
        };
        assert_eq!(read_ccr(&w.bytes).retransmission, round > 0);
        s.advance_to(c.now);
        arrivals.push(c.now);
        let a = s.answer(&w.bytes);
        if round == 2 {
            c.answer(&mut cfg, &a);
            break;
        }
        // the answer is lost; the event waits, then goes out again
        let retry = c.next_timer().unwrap();
        c.advance_to(&mut cfg, retry);
        let retry = c.next_timer().unwrap();
        c.advance_to(&mut cfg, retry);
    }
    assert_eq!(arrivals, [10, 50, 90].map(Instant::from_secs));
    assert!(c.m.is_closed());
    assert_eq!(s.balance(), 90);
    assert_eq!(s.take_events(), [CcServerEvent::EventCharged { used: 10 }]);
}
