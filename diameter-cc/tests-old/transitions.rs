//! Transition tables of the credit-control machines, written as data: for
//! every state and every input of [`PrepaidClient`] (RFC 8506 §7 Tables 3
//! and 4, under each Credit-Control-Failure-Handling), [`PostpaidClient`]
//! (Table 5, under each Direct-Debiting-Failure-Handling) and one session of
//! [`CcServer`] (Table 6), the next state, the events and what is sent.
//! Each test drives a fresh machine into the state, applies the input and
//! checks the row; it also checks that exactly one row exists for every
//! (state, input, failure handling), so no pair is left undefined.
//!
//! The regression tests at the end pin behaviours that were fixed while
//! the tables were written (each says what used to happen).

use std::time::Duration;

use diameter_cc::client::postpaid::{PostpaidClient, PostpaidConfig, PostpaidEvent, PostpaidState};
use diameter_cc::client::prepaid::{
    DenyReason, OnExhaustion, Parties, PrepaidClient, PrepaidConfig, PrepaidEvent, PrepaidState,
    TerminateReason, Transmit,
};
use diameter_cc::dict::{
    self, tgpp, CcRequestType, CreditControlFailureHandling as Ccfh,
    DirectDebitingFailureHandling as Ddfh, FinalUnitAction,
};
use diameter_cc::server::credit_control::{
    Balances, CcServer, CcServerConfig, CcServerEvent, NoCredit, Rating,
};
use diameter_cc::session::{session_id_from, WallClock};
use diameter_cc::CreditControl;
use diameter_core::dict::base::{self, TerminationCause};
use diameter_core::time::Instant;
use diameter_core::{
    ApplicationId, CommandCode, CommandFlags, HeaderRepr, Message, MessageBuilder, ResultCode,
};

const CLIENT: &str = "client.diameter.test";
const SERVER: &str = "server.diameter.test";
const REALM: &str = "diameter.test";
const CONTEXT: &str = "voice@OsipsDiamCCR";
const SID: &str = "sip-call-tt@client";
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

// ---------------------------------------------------------------------------
// Messages the tests feed in
// ---------------------------------------------------------------------------

/// A CCA (or, with `e_bit`, a protocol-error answer without
/// CC-Request-Number, as `error_answer` builds it).
#[derive(Debug, Clone, Copy, Default)]
struct CcaSpec {
    rc: u32,
    request_type: Option<CcRequestType>,
    number: Option<u32>,
    gsu: Option<u32>,
    validity: Option<u32>,
    fui: Option<FinalUnitAction>,
    ccfh: Option<Ccfh>,
    e_bit: bool,
}

fn cca(s: CcaSpec) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let mut flags = CommandFlags::PROXIABLE;
    if s.e_bit {
        flags = flags | CommandFlags::ERROR;
    }
    let hdr = HeaderRepr {
        flags,
        command_code: CommandCode::CREDIT_CONTROL,
        application_id: ApplicationId::CREDIT_CONTROL,
        hop_by_hop: 7,
        end_to_end: 7,
    };
    let mut b = MessageBuilder::new(&mut buf, hdr);
    b.put(&base::SESSION_ID, SID)
        .put(&base::RESULT_CODE, s.rc)
        .put(&base::ORIGIN_HOST, SERVER)
        .put(&base::ORIGIN_REALM, REALM);
    if !s.e_bit {
        b.put(&base::AUTH_APPLICATION_ID, 4);
        if let Some(t) = s.request_type {
            b.put(&dict::CC_REQUEST_TYPE, t);
        }
    }
    if let Some(n) = s.number {
        b.put(&dict::CC_REQUEST_NUMBER, n);
    }
    if let Some(f) = s.ccfh {
        b.put(&dict::CREDIT_CONTROL_FAILURE_HANDLING, f);
    }
    if let Some(g) = s.gsu {
        b.grouped(&dict::GRANTED_SERVICE_UNIT, |gsu| {
            gsu.put(&dict::CC_TIME, g);
        });
    }
    if let Some(v) = s.validity {
        b.put(&dict::VALIDITY_TIME, v);
    }
    if let Some(a) = s.fui {
        b.grouped(&dict::FINAL_UNIT_INDICATION, |f| {
            f.put(&dict::FINAL_UNIT_ACTION, a);
        });
    }
    b.finish().unwrap().to_vec()
}

fn ok(number: u32, gsu: Option<u32>) -> Vec<u8> {
    cca(CcaSpec {
        rc: 2001,
        number: Some(number),
        gsu,
        ..Default::default()
    })
}

/// A request from the server (RAR, ASR) or anything else.
fn server_request(code: CommandCode, session: &str) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let hdr = HeaderRepr::request(code, ApplicationId::CREDIT_CONTROL, 0x51, 0x52).proxiable(true);
    let mut b = MessageBuilder::new(&mut buf, hdr);
    b.put(&base::SESSION_ID, session)
        .put(&base::ORIGIN_HOST, SERVER)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::DESTINATION_REALM, REALM)
        .put(&base::DESTINATION_HOST, CLIENT)
        .put(&base::AUTH_APPLICATION_ID, 4);
    if code == CommandCode::RE_AUTH {
        b.put(
            &base::RE_AUTH_REQUEST_TYPE,
            base::ReAuthRequestType::AuthorizeOnly,
        );
    }
    b.finish().unwrap().to_vec()
}

/// A non-CCA answer (an RAA), which `handle_answer` must not take.
fn raa() -> Vec<u8> {
    let mut buf = [0u8; 256];
    let hdr =
        HeaderRepr::request(CommandCode::RE_AUTH, ApplicationId::CREDIT_CONTROL, 7, 7).answer();
    let mut b = MessageBuilder::new(&mut buf, hdr);
    b.put(&base::SESSION_ID, SID)
        .put(&base::RESULT_CODE, 2001)
        .put(&base::ORIGIN_HOST, SERVER)
        .put(&base::ORIGIN_REALM, REALM);
    b.finish().unwrap().to_vec()
}

fn parse(bytes: &[u8]) -> Message<'_> {
    Message::parse_with(bytes, &CreditControl).expect("parses")
}

// ---------------------------------------------------------------------------
// What a machine sent, as the tables spell it
// ---------------------------------------------------------------------------

/// One message out: a CCR (CC-Request-Type code, CC-Request-Number, T flag
/// expected) or an answer to a server request (command code, Result-Code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Out {
    Ccr(i32, u32, bool),
    Ans(u32, u32),
}

const I: i32 = 1;
const U: i32 = 2;
const T: i32 = 3;
const E: i32 = 4;

/// A CCR as sent, with its Used-Service-Unit CC-Time.
#[derive(Debug, Clone, Copy)]
struct Sent {
    out: Out,
    usu: Option<u32>,
    event_timestamp: u32,
}

fn read_ccr(bytes: &[u8], retransmission: bool) -> Sent {
    let m = parse(bytes);
    m.validate(&CreditControl).expect("valid CCR");
    let t = i32::from(m.get(&dict::CC_REQUEST_TYPE).unwrap().unwrap());
    let n = m.get(&dict::CC_REQUEST_NUMBER).unwrap().unwrap();
    let usu = m
        .get(&dict::USED_SERVICE_UNIT)
        .unwrap()
        .map(|g| g.get(&dict::CC_TIME).unwrap().unwrap_or(0));
    let ts = m.get(&base::EVENT_TIMESTAMP).unwrap().unwrap().ntp();
    Sent {
        out: Out::Ccr(t, n, retransmission),
        usu,
        event_timestamp: ts,
    }
}

// ---------------------------------------------------------------------------
// Prepaid
// ---------------------------------------------------------------------------

/// The inputs of the prepaid machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum In {
    /// `call_setup` (INVITE).
    Setup,
    /// `call_answered`.
    Answered,
    /// `call_ended(Logout)`.
    Hangup,
    /// CCA 2001 with Granted-Service-Unit{CC-Time 60}.
    CcaGrant,
    /// CCA 2001 with Granted-Service-Unit{CC-Time 0}.
    CcaZero,
    /// CCA 4011 CREDIT_CONTROL_NOT_APPLICABLE.
    Cca4011,
    /// CCA 4012 CREDIT_LIMIT_REACHED.
    Cca4012,
    /// CCA 5030 USER_UNKNOWN.
    Cca5030,
    /// CCA 5012 UNABLE_TO_COMPLY (a "failed answer").
    Cca5012,
    /// 3004 TOO_BUSY with the E bit and no CC-Request-Number (a "temporary
    /// error").
    Cca3004E,
    /// CCA 2001 with a CC-Request-Number that is not outstanding.
    CcaWrongNumber,
    /// `handle_request_failed` (the peer reported a time-out or hand-back).
    RequestFailed,
    /// `handle_timeout` when Tx (10 s) has run.
    TxTimeout,
    /// `handle_timeout` when the grant (60 s from answer) has run.
    GrantTimeout,
    /// `handle_timeout` when Validity-Time (30 s from the CCA-I) has run.
    ValidityTimeout,
    /// An RAR for the session.
    Rar,
    /// An ASR for the session.
    Asr,
    /// An RAR for another Session-Id.
    RarOtherSession,
    /// Messages that are none of the above: an RAA and a CCR request given
    /// to `handle_answer`, an STR given to `handle_server_request`.
    Unexpected,
}

const INPUTS: [In; 19] = [
    In::Setup,
    In::Answered,
    In::Hangup,
    In::CcaGrant,
    In::CcaZero,
    In::Cca4011,
    In::Cca4012,
    In::Cca5030,
    In::Cca5012,
    In::Cca3004E,
    In::CcaWrongNumber,
    In::RequestFailed,
    In::TxTimeout,
    In::GrantTimeout,
    In::ValidityTimeout,
    In::Rar,
    In::Asr,
    In::RarOtherSession,
    In::Unexpected,
];

const STATES: [PrepaidState; 6] = [
    PrepaidState::Idle,
    PrepaidState::PendingInitial,
    PrepaidState::Open,
    PrepaidState::PendingUpdate,
    PrepaidState::PendingTermination,
    PrepaidState::Ended,
];

const CCFHS: [Ccfh; 3] = [Ccfh::Terminate, Ccfh::Continue, Ccfh::RetryAndTerminate];

/// Which failure handling a row is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum F {
    Any,
    /// TERMINATE.
    Te,
    /// CONTINUE.
    Co,
    /// RETRY_AND_TERMINATE.
    Rt,
    /// TERMINATE or RETRY_AND_TERMINATE.
    TeRt,
    /// TERMINATE or CONTINUE.
    TeCo,
    /// CONTINUE or RETRY_AND_TERMINATE.
    CoRt,
}

impl F {
    fn matches(self, c: Ccfh) -> bool {
        match self {
            F::Any => true,
            F::Te => c == Ccfh::Terminate,
            F::Co => c == Ccfh::Continue,
            F::Rt => c == Ccfh::RetryAndTerminate,
            F::TeRt => c != Ccfh::Continue,
            F::TeCo => c != Ccfh::RetryAndTerminate,
            F::CoRt => c != Ccfh::Terminate,
        }
    }
}

type Ev = PrepaidEvent;
type Row = (
    PrepaidState,
    In,
    F,
    PrepaidState,
    &'static [Ev],
    &'static [Out],
);

use PrepaidState::{
    Ended as Ed, Idle as Id, Open as Op, PendingInitial as PI, PendingTermination as PT,
    PendingUpdate as PU,
};

const NONE: &[Ev] = &[];
const NO_TX: &[Out] = &[];
const FINISHED: &[Ev] = &[Ev::Finished];
const ALLOW_FREE: &[Ev] = &[Ev::Allowed { seconds: None }];
const ALLOW_FREE_END: &[Ev] = &[Ev::Allowed { seconds: None }, Ev::Finished];
const fn deny(d: DenyReason) -> [Ev; 2] {
    [Ev::Denied(d), Ev::Finished]
}
const fn rc(v: u32) -> ResultCode {
    ResultCode(v)
}
const RAA_OK: &[Out] = &[Out::Ans(258, 2001)];
const ASA_OK: &[Out] = &[Out::Ans(274, 2001)];
const RAA_5002: &[Out] = &[Out::Ans(258, 5002)];
const ASA_5002: &[Out] = &[Out::Ans(274, 5002)];
const CCR_T2: &[Out] = &[Out::Ccr(T, 2, false)];

/// The prepaid client's table. States are reached as in SCENARIOS.md
/// (update on answer, terminate when the grant is used up): PendingInitial
/// = CCR-I 0 out at 0 s; Open = CCA-I granted, answered at 1 s, CCR-U 1
/// answered; PendingUpdate = CCR-U 1 out at 1 s; PendingTermination =
/// hangup at 2 s, CCR-T 2 out; Ended = CCA-T received.
#[rustfmt::skip]
const PREPAID: &[Row] = &[
    // ---- Idle: nothing sent -------------------------------------------------
    (Id, In::Setup,           F::Any, PI, NONE, &[Out::Ccr(I, 0, false)]),
    (Id, In::Answered,        F::Any, Id, NONE, NO_TX),
    (Id, In::Hangup,          F::Any, Ed, FINISHED, NO_TX),
    (Id, In::CcaGrant,        F::Any, Id, NONE, NO_TX),
    (Id, In::CcaZero,         F::Any, Id, NONE, NO_TX),
    (Id, In::Cca4011,         F::Any, Id, NONE, NO_TX),
    (Id, In::Cca4012,         F::Any, Id, NONE, NO_TX),
    (Id, In::Cca5030,         F::Any, Id, NONE, NO_TX),
    (Id, In::Cca5012,         F::Any, Id, NONE, NO_TX),
    (Id, In::Cca3004E,        F::Any, Id, NONE, NO_TX),
    (Id, In::CcaWrongNumber,  F::Any, Id, NONE, NO_TX),
    (Id, In::RequestFailed,   F::Any, Id, NONE, NO_TX),
    (Id, In::TxTimeout,       F::Any, Id, NONE, NO_TX),
    (Id, In::GrantTimeout,    F::Any, Id, NONE, NO_TX),
    (Id, In::ValidityTimeout, F::Any, Id, NONE, NO_TX),
    (Id, In::Rar,             F::Any, Id, NONE, RAA_5002),
    (Id, In::Asr,             F::Any, Id, NONE, ASA_5002),
    (Id, In::RarOtherSession, F::Any, Id, NONE, RAA_5002),
    (Id, In::Unexpected,      F::Any, Id, NONE, NO_TX),
    // ---- PendingInitial: Table 3 ------------------------------------------------
    (PI, In::Setup,           F::Any, PI, NONE, NO_TX),
    // answer time kept; the CCR-U on answer follows the CCA-I
    (PI, In::Answered,        F::Any, PI, NONE, NO_TX),
    // "user service terminated": queued
    (PI, In::Hangup,          F::Any, PI, NONE, NO_TX),
    (PI, In::CcaGrant,        F::Any, Op, &[Ev::Allowed { seconds: Some(60) }], NO_TX),
    // SCENARIOS.md: CC-Time 0 is a denial
    (PI, In::CcaZero,         F::Any, Ed, &deny(DenyReason::NoCredit), NO_TX),
    (PI, In::Cca4011,         F::Any, Ed, ALLOW_FREE_END, NO_TX),
    (PI, In::Cca4012,         F::Any, Ed, &deny(DenyReason::Result(rc(4012))), NO_TX),
    (PI, In::Cca5030,         F::Any, Ed, &deny(DenyReason::Result(rc(5030))), NO_TX),
    // failed CCA-I: CCFH decides
    (PI, In::Cca5012,         F::TeRt, Ed, &deny(DenyReason::Result(rc(5012))), NO_TX),
    (PI, In::Cca5012,         F::Co,   Ed, ALLOW_FREE_END, NO_TX),
    // temporary error = failure to send
    (PI, In::Cca3004E,        F::Te, Ed, &deny(DenyReason::Result(rc(3004))), NO_TX),
    (PI, In::Cca3004E,        F::Co, Ed, ALLOW_FREE_END, NO_TX),
    (PI, In::Cca3004E,        F::Rt, PI, NONE, &[Out::Ccr(I, 0, true)]),
    (PI, In::CcaWrongNumber,  F::Any, PI, NONE, NO_TX),
    (PI, In::RequestFailed,   F::Te, Ed, &deny(DenyReason::Timeout), NO_TX),
    (PI, In::RequestFailed,   F::Co, Ed, ALLOW_FREE_END, NO_TX),
    (PI, In::RequestFailed,   F::Rt, PI, NONE, &[Out::Ccr(I, 0, true)]),
    // Tx: TERMINATE ends; CONTINUE / RETRY_AND_TERMINATE grant and wait
    (PI, In::TxTimeout,       F::Te,   Ed, &deny(DenyReason::Timeout), NO_TX),
    (PI, In::TxTimeout,       F::CoRt, PI, ALLOW_FREE, NO_TX),
    (PI, In::GrantTimeout,    F::Any, PI, NONE, NO_TX),
    (PI, In::ValidityTimeout, F::Any, PI, NONE, NO_TX),
    (PI, In::Rar,             F::Any, PI, NONE, RAA_OK),
    (PI, In::Asr,             F::Any, PI, &[Ev::TerminateCall(TerminateReason::Aborted)], ASA_OK),
    (PI, In::RarOtherSession, F::Any, PI, NONE, RAA_5002),
    (PI, In::Unexpected,      F::Any, PI, NONE, NO_TX),
    // ---- Open: Table 4 -------------------------------------------------------------
    (Op, In::Setup,           F::Any, Op, NONE, NO_TX),
    (Op, In::Answered,        F::Any, Op, NONE, NO_TX),
    (Op, In::Hangup,          F::Any, PT, NONE, CCR_T2),
    (Op, In::CcaGrant,        F::Any, Op, NONE, NO_TX),
    (Op, In::CcaZero,         F::Any, Op, NONE, NO_TX),
    (Op, In::Cca4011,         F::Any, Op, NONE, NO_TX),
    (Op, In::Cca4012,         F::Any, Op, NONE, NO_TX),
    (Op, In::Cca5030,         F::Any, Op, NONE, NO_TX),
    (Op, In::Cca5012,         F::Any, Op, NONE, NO_TX),
    (Op, In::Cca3004E,        F::Any, Op, NONE, NO_TX),
    (Op, In::CcaWrongNumber,  F::Any, Op, NONE, NO_TX),
    (Op, In::RequestFailed,   F::Any, Op, NONE, NO_TX),
    (Op, In::TxTimeout,       F::Any, Op, NONE, NO_TX),
    (Op, In::GrantTimeout,    F::Any, PT, &[Ev::TerminateCall(TerminateReason::CreditExhausted)], CCR_T2),
    (Op, In::ValidityTimeout, F::Any, PU, NONE, &[Out::Ccr(U, 2, false)]),
    // §5.5: RAA 2002 LIMITED_SUCCESS, then the CCR-U
    (Op, In::Rar,             F::Any, PU, NONE, &[Out::Ans(258, 2002), Out::Ccr(U, 2, false)]),
    (Op, In::Asr,             F::Any, PT, &[Ev::TerminateCall(TerminateReason::Aborted)], &[Out::Ans(274, 2001), Out::Ccr(T, 2, false)]),
    (Op, In::RarOtherSession, F::Any, Op, NONE, RAA_5002),
    (Op, In::Unexpected,      F::Any, Op, NONE, NO_TX),
    // ---- PendingUpdate: Table 4 -------------------------------------------------------
    (PU, In::Setup,           F::Any, PU, NONE, NO_TX),
    (PU, In::Answered,        F::Any, PU, NONE, NO_TX),
    (PU, In::Hangup,          F::Any, PU, NONE, NO_TX),
    (PU, In::CcaGrant,        F::Any, Op, &[Ev::Regranted { seconds: 60 }], NO_TX),
    (PU, In::CcaZero,         F::Any, PT, &[Ev::TerminateCall(TerminateReason::CreditExhausted)], CCR_T2),
    // grant the service, credit control ends (no CCR-T)
    (PU, In::Cca4011,         F::Any, Ed, ALLOW_FREE_END, NO_TX),
    (PU, In::Cca4012,         F::Any, PT, &[Ev::TerminateCall(TerminateReason::Refused(rc(4012)))], CCR_T2),
    // failed CCA-U: CCFH decides (CONTINUE: unsupervised until the hangup)
    (PU, In::Cca5030,         F::TeRt, PT, &[Ev::TerminateCall(TerminateReason::Refused(rc(5030)))], CCR_T2),
    (PU, In::Cca5030,         F::Co,   Op, ALLOW_FREE, NO_TX),
    (PU, In::Cca5012,         F::TeRt, PT, &[Ev::TerminateCall(TerminateReason::Refused(rc(5012)))], CCR_T2),
    (PU, In::Cca5012,         F::Co,   Op, ALLOW_FREE, NO_TX),
    (PU, In::Cca3004E,        F::Te, PT, &[Ev::TerminateCall(TerminateReason::Refused(rc(3004)))], CCR_T2),
    (PU, In::Cca3004E,        F::Co, Op, ALLOW_FREE, NO_TX),
    (PU, In::Cca3004E,        F::Rt, PU, NONE, &[Out::Ccr(U, 1, true)]),
    (PU, In::CcaWrongNumber,  F::Any, PU, NONE, NO_TX),
    (PU, In::RequestFailed,   F::Te, PT, &[Ev::TerminateCall(TerminateReason::Timeout)], CCR_T2),
    (PU, In::RequestFailed,   F::Co, Op, ALLOW_FREE, NO_TX),
    (PU, In::RequestFailed,   F::Rt, PU, NONE, &[Out::Ccr(U, 1, true)]),
    (PU, In::TxTimeout,       F::Te,   PT, &[Ev::TerminateCall(TerminateReason::Timeout)], CCR_T2),
    (PU, In::TxTimeout,       F::CoRt, PU, ALLOW_FREE, NO_TX),
    // the grant still ends the call; the CCR-T follows the CCA-U
    (PU, In::GrantTimeout,    F::Any, PU, &[Ev::TerminateCall(TerminateReason::CreditExhausted)], NO_TX),
    (PU, In::ValidityTimeout, F::Any, PU, NONE, NO_TX),
    // RAR/CCR collision (§5.5): RAA 2001, no new CCR-U
    (PU, In::Rar,             F::Any, PU, NONE, RAA_OK),
    (PU, In::Asr,             F::Any, PU, &[Ev::TerminateCall(TerminateReason::Aborted)], ASA_OK),
    (PU, In::RarOtherSession, F::Any, PU, NONE, RAA_5002),
    (PU, In::Unexpected,      F::Any, PU, NONE, NO_TX),
    // ---- PendingTermination: Table 4 --------------------------------------------------
    (PT, In::Setup,           F::Any, PT, NONE, NO_TX),
    (PT, In::Answered,        F::Any, PT, NONE, NO_TX),
    (PT, In::Hangup,          F::Any, PT, NONE, NO_TX),
    (PT, In::CcaGrant,        F::Any, Ed, FINISHED, NO_TX),
    (PT, In::CcaZero,         F::Any, Ed, FINISHED, NO_TX),
    (PT, In::Cca4011,         F::Any, Ed, FINISHED, NO_TX),
    (PT, In::Cca4012,         F::Any, Ed, FINISHED, NO_TX),
    (PT, In::Cca5030,         F::Any, Ed, FINISHED, NO_TX),
    (PT, In::Cca5012,         F::Any, Ed, FINISHED, NO_TX),
    (PT, In::Cca3004E,        F::TeCo, Ed, FINISHED, NO_TX),
    (PT, In::Cca3004E,        F::Rt,   PT, NONE, &[Out::Ccr(T, 2, true)]),
    (PT, In::CcaWrongNumber,  F::Any, PT, NONE, NO_TX),
    (PT, In::RequestFailed,   F::TeCo, Ed, FINISHED, NO_TX),
    (PT, In::RequestFailed,   F::Rt,   PT, NONE, &[Out::Ccr(T, 2, true)]),
    (PT, In::TxTimeout,       F::TeCo, Ed, FINISHED, NO_TX),
    (PT, In::TxTimeout,       F::Rt,   PT, NONE, &[Out::Ccr(T, 2, true)]),
    (PT, In::GrantTimeout,    F::Any, PT, NONE, NO_TX),
    (PT, In::ValidityTimeout, F::Any, PT, NONE, NO_TX),
    (PT, In::Rar,             F::Any, PT, NONE, RAA_OK),
    (PT, In::Asr,             F::Any, PT, NONE, ASA_OK),
    (PT, In::RarOtherSession, F::Any, PT, NONE, RAA_5002),
    (PT, In::Unexpected,      F::Any, PT, NONE, NO_TX),
    // ---- Ended ---------------------------------------------------------------------------
    (Ed, In::Setup,           F::Any, Ed, NONE, NO_TX),
    (Ed, In::Answered,        F::Any, Ed, NONE, NO_TX),
    (Ed, In::Hangup,          F::Any, Ed, NONE, NO_TX),
    (Ed, In::CcaGrant,        F::Any, Ed, NONE, NO_TX),
    (Ed, In::CcaZero,         F::Any, Ed, NONE, NO_TX),
    (Ed, In::Cca4011,         F::Any, Ed, NONE, NO_TX),
    (Ed, In::Cca4012,         F::Any, Ed, NONE, NO_TX),
    (Ed, In::Cca5030,         F::Any, Ed, NONE, NO_TX),
    (Ed, In::Cca5012,         F::Any, Ed, NONE, NO_TX),
    (Ed, In::Cca3004E,        F::Any, Ed, NONE, NO_TX),
    (Ed, In::CcaWrongNumber,  F::Any, Ed, NONE, NO_TX),
    (Ed, In::RequestFailed,   F::Any, Ed, NONE, NO_TX),
    (Ed, In::TxTimeout,       F::Any, Ed, NONE, NO_TX),
    (Ed, In::GrantTimeout,    F::Any, Ed, NONE, NO_TX),
    (Ed, In::ValidityTimeout, F::Any, Ed, NONE, NO_TX),
    (Ed, In::Rar,             F::Any, Ed, NONE, RAA_5002),
    (Ed, In::Asr,             F::Any, Ed, NONE, ASA_5002),
    (Ed, In::RarOtherSession, F::Any, Ed, NONE, RAA_5002),
    (Ed, In::Unexpected,      F::Any, Ed, NONE, NO_TX),
];

fn prepaid_config(ccfh: Ccfh, tx: u64) -> PrepaidConfig<'static> {
    let mut c = PrepaidConfig::new(CLIENT, REALM, REALM, CONTEXT);
    c.destination_host = Some(SERVER);
    c.clock = CLOCK;
    c.failure_handling = ccfh;
    c.tx = Duration::from_secs(tx);
    c
}

/// A prepaid client, the fake clock and what came out.
struct Drive<'c> {
    c: PrepaidClient<'c, 'static>,
    now: Instant,
    events: Vec<PrepaidEvent>,
    sent: Vec<Sent>,
}

impl<'c> Drive<'c> {
    fn new(cfg: &'c PrepaidConfig<'c>) -> Self {
        Drive {
            c: PrepaidClient::new(cfg, session_id_from(SID).unwrap(), PARTIES),
            now: Instant::ZERO,
            events: Vec::new(),
            sent: Vec::new(),
        }
    }

    /// Poll events and transmits (the driving order of `session`).
    fn pump(&mut self) {
        while let Some(e) = self.c.poll_event() {
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
                    let s = read_ccr(&buf[..len], retransmission);
                    assert_eq!(
                        s.out,
                        Out::Ccr(i32::from(request_type), number, retransmission)
                    );
                    self.sent.push(s);
                }
                Transmit::Answer { len } => {
                    let m = parse(&buf[..len]);
                    m.validate(&CreditControl).expect("valid answer");
                    assert!(!m.is_request());
                    let rc = m.get(&base::RESULT_CODE).unwrap().unwrap();
                    self.sent.push(Sent {
                        out: Out::Ans(m.command_code().0, rc),
                        usu: None,
                        event_timestamp: 0,
                    });
                }
            }
        }
    }

    /// After `handle_timeout(now)` and the outputs, no timer is left at or
    /// before `now`: `handle_timeout` consumed every expired one.
    fn check_timers_consumed(&self) {
        if let Some(t) = self.c.poll_timeout() {
            assert!(
                t > self.now,
                "timer {t:?} left in the past at {:?}",
                self.now
            );
        }
    }

    fn at(&mut self, secs: u64) {
        self.now = Instant::from_secs(secs);
    }

    fn answer(&mut self, bytes: &[u8]) {
        self.c.handle_answer(self.now, &parse(bytes));
        self.pump();
    }

    fn timeout_at(&mut self, t: Instant) {
        self.now = t;
        self.c.handle_timeout(t);
        self.pump();
        self.check_timers_consumed();
    }

    fn take(&mut self) -> (Vec<PrepaidEvent>, Vec<Out>) {
        let ev = std::mem::take(&mut self.events);
        let out = std::mem::take(&mut self.sent)
            .into_iter()
            .map(|s| s.out)
            .collect();
        (ev, out)
    }

    /// Drive into `s` as the table's heading says. `grant` and `validity`
    /// go into the CCA-I.
    fn reach(&mut self, s: PrepaidState, grant: u32, validity: Option<u32>) {
        if s != Id {
            self.at(0);
            self.c.call_setup(self.now);
            self.pump();
        }
        if matches!(s, Op | PU | PT | Ed) {
            self.answer(&cca(CcaSpec {
                rc: 2001,
                number: Some(0),
                gsu: Some(grant),
                validity,
                ..Default::default()
            }));
            self.at(1);
            self.c.call_answered(self.now);
            self.pump();
        }
        if matches!(s, Op | PT | Ed) {
            self.answer(&ok(1, None));
        }
        if matches!(s, PT | Ed) {
            self.at(2);
            self.c.call_ended(self.now, TerminationCause::Logout);
            self.pump();
        }
        if s == Ed {
            self.answer(&ok(2, None));
        }
        assert_eq!(self.c.state(), s, "reaching {s:?}");
        self.take();
    }

    fn apply(&mut self, input: In, tx: u64) {
        let last = self.c.next_request_number().saturating_sub(1);
        let simple = |rc: u32| {
            cca(CcaSpec {
                rc,
                number: Some(last),
                ..Default::default()
            })
        };
        match input {
            In::Setup => self.c.call_setup(self.now),
            In::Answered => self.c.call_answered(self.now),
            In::Hangup => self.c.call_ended(self.now, TerminationCause::Logout),
            In::CcaGrant => self.c.handle_answer(self.now, &parse(&ok(last, Some(60)))),
            In::CcaZero => self.c.handle_answer(self.now, &parse(&ok(last, Some(0)))),
            In::Cca4011 => self.c.handle_answer(self.now, &parse(&simple(4011))),
            In::Cca4012 => self.c.handle_answer(self.now, &parse(&simple(4012))),
            In::Cca5030 => self.c.handle_answer(self.now, &parse(&simple(5030))),
            In::Cca5012 => self.c.handle_answer(self.now, &parse(&simple(5012))),
            In::Cca3004E => {
                let m = cca(CcaSpec {
                    rc: 3004,
                    e_bit: true,
                    ..Default::default()
                });
                self.c.handle_answer(self.now, &parse(&m));
            }
            In::CcaWrongNumber => self
                .c
                .handle_answer(self.now, &parse(&ok(last + 7, Some(60)))),
            In::RequestFailed => self.c.handle_request_failed(self.now),
            In::TxTimeout => {
                self.now = self.now + Duration::from_secs(tx);
                self.c.handle_timeout(self.now);
            }
            In::GrantTimeout => {
                self.at(61);
                self.c.handle_timeout(self.now);
            }
            In::ValidityTimeout => {
                self.at(30);
                self.c.handle_timeout(self.now);
            }
            In::Rar => {
                let m = server_request(CommandCode::RE_AUTH, SID);
                assert!(self.c.handle_server_request(self.now, &parse(&m)));
            }
            In::Asr => {
                let m = server_request(CommandCode::ABORT_SESSION, SID);
                assert!(self.c.handle_server_request(self.now, &parse(&m)));
            }
            In::Unexpected => {
                self.c.handle_answer(self.now, &parse(&raa()));
                let ccr = server_request(CommandCode::CREDIT_CONTROL, SID);
                self.c.handle_answer(self.now, &parse(&ccr));
                let str_ = server_request(CommandCode::SESSION_TERMINATION, SID);
                assert!(!self.c.handle_server_request(self.now, &parse(&str_)));
            }
            In::RarOtherSession => {
                let m = server_request(CommandCode::RE_AUTH, "someone-else");
                assert!(self.c.handle_server_request(self.now, &parse(&m)));
            }
        }
        self.pump();
        if matches!(
            input,
            In::TxTimeout | In::GrantTimeout | In::ValidityTimeout
        ) {
            self.check_timers_consumed();
        }
    }
}

/// The configuration an input is tested with: Tx, the granted CC-Time and
/// the Validity-Time of the CCA-I (each timer input isolates its timer).
fn setup_for(input: In) -> (u64, u32, Option<u32>) {
    match input {
        In::GrantTimeout => (1000, 60, None),
        In::ValidityTimeout => (1000, 3600, Some(30)),
        _ => (10, 3600, None),
    }
}

#[test]
fn prepaid_transition_table() {
    let mut bad = Vec::new();
    let mut used = vec![0usize; PREPAID.len()];
    let mut checked = 0;
    for &s in &STATES {
        for &input in &INPUTS {
            for &ccfh in &CCFHS {
                let rows: Vec<usize> = (0..PREPAID.len())
                    .filter(|&i| {
                        PREPAID[i].0 == s && PREPAID[i].1 == input && PREPAID[i].2.matches(ccfh)
                    })
                    .collect();
                assert_eq!(
                    rows.len(),
                    1,
                    "({s:?}, {input:?}, {ccfh:?}) must have exactly one row"
                );
                let (_, _, _, next, events, out) = PREPAID[rows[0]];
                used[rows[0]] += 1;
                let (tx, grant, validity) = setup_for(input);
                let cfg = prepaid_config(ccfh, tx);
                let mut d = Drive::new(&cfg);
                d.reach(s, grant, validity);
                let before = d.c.terminations();
                d.apply(input, tx);
                let (ev, sent) = d.take();
                let new_t = out
                    .iter()
                    .filter(|o| matches!(o, Out::Ccr(T, _, false)))
                    .count();
                let got = (
                    d.c.state(),
                    ev,
                    sent,
                    usize::from(d.c.terminations() - before),
                );
                let want = (next, events.to_vec(), out.to_vec(), new_t);
                if got != want {
                    bad.push(format!(
                        "({s:?}, {input:?}, {ccfh:?}):\n   got  {got:?}\n   want {want:?}"
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
    assert_eq!(checked, STATES.len() * INPUTS.len() * CCFHS.len());
    assert_eq!(checked, 6 * 19 * 3);
    for (i, n) in used.iter().enumerate() {
        assert!(*n > 0, "row {i} {:?} is never used", &PREPAID[i].0);
    }
}

// ---------------------------------------------------------------------------
// Postpaid
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PIn {
    Answered,
    Hangup,
    CcaSuccess,
    Cca4011,
    Cca4012,
    Cca5030,
    Cca5012,
    Cca3004E,
    CcaWrongNumber,
    RequestFailed,
    TxTimeout,
    /// An RAA and a CCR request given to `handle_answer`.
    Unexpected,
}

const PINPUTS: [PIn; 12] = [
    PIn::Answered,
    PIn::Hangup,
    PIn::CcaSuccess,
    PIn::Cca4011,
    PIn::Cca4012,
    PIn::Cca5030,
    PIn::Cca5012,
    PIn::Cca3004E,
    PIn::CcaWrongNumber,
    PIn::RequestFailed,
    PIn::TxTimeout,
    PIn::Unexpected,
];

const PSTATES: [PostpaidState; 4] = [
    PostpaidState::Idle,
    PostpaidState::Answered,
    PostpaidState::PendingEvent,
    PostpaidState::Ended,
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
type PRow = (
    PostpaidState,
    PIn,
    D,
    PostpaidState,
    &'static [PEv],
    &'static [Out],
);

use PostpaidState::{Answered as PAns, Ended as PEd, Idle as PId, PendingEvent as PPE};

const PNONE: &[PEv] = &[];
const fn charged(v: u32) -> [PEv; 2] {
    [PEv::Charged(ResultCode(v)), PEv::Finished]
}
const UNDELIVERED: &[PEv] = &[PEv::Undelivered, PEv::Finished];
const RESEND: &[Out] = &[Out::Ccr(E, 0, true)];

/// The postpaid client's table. Answered = answered at 4 s; PendingEvent =
/// hangup at 71 s, CCR-Event sent once; Ended = its CCA received.
#[rustfmt::skip]
const POSTPAID: &[PRow] = &[
    (PId, PIn::Answered,       D::Any, PAns, PNONE, NO_TX),
    // never answered: nothing to charge, nothing sent
    (PId, PIn::Hangup,         D::Any, PEd, &[PEv::Finished], NO_TX),
    (PId, PIn::CcaSuccess,     D::Any, PId, PNONE, NO_TX),
    (PId, PIn::Cca4011,        D::Any, PId, PNONE, NO_TX),
    (PId, PIn::Cca4012,        D::Any, PId, PNONE, NO_TX),
    (PId, PIn::Cca5030,        D::Any, PId, PNONE, NO_TX),
    (PId, PIn::Cca5012,        D::Any, PId, PNONE, NO_TX),
    (PId, PIn::Cca3004E,       D::Any, PId, PNONE, NO_TX),
    (PId, PIn::CcaWrongNumber, D::Any, PId, PNONE, NO_TX),
    (PId, PIn::RequestFailed,  D::Any, PId, PNONE, NO_TX),
    (PId, PIn::TxTimeout,      D::Any, PId, PNONE, NO_TX),
    (PId, PIn::Unexpected,     D::Any, PId, PNONE, NO_TX),

    (PAns, PIn::Answered,       D::Any, PAns, PNONE, NO_TX),
    (PAns, PIn::Hangup,         D::Any, PPE, PNONE, &[Out::Ccr(E, 0, false)]),
    (PAns, PIn::CcaSuccess,     D::Any, PAns, PNONE, NO_TX),
    (PAns, PIn::Cca4011,        D::Any, PAns, PNONE, NO_TX),
    (PAns, PIn::Cca4012,        D::Any, PAns, PNONE, NO_TX),
    (PAns, PIn::Cca5030,        D::Any, PAns, PNONE, NO_TX),
    (PAns, PIn::Cca5012,        D::Any, PAns, PNONE, NO_TX),
    (PAns, PIn::Cca3004E,       D::Any, PAns, PNONE, NO_TX),
    (PAns, PIn::CcaWrongNumber, D::Any, PAns, PNONE, NO_TX),
    (PAns, PIn::RequestFailed,  D::Any, PAns, PNONE, NO_TX),
    (PAns, PIn::TxTimeout,      D::Any, PAns, PNONE, NO_TX),
    (PAns, PIn::Unexpected,     D::Any, PAns, PNONE, NO_TX),

    (PPE, PIn::Answered,       D::Any, PPE, PNONE, NO_TX),
    (PPE, PIn::Hangup,         D::Any, PPE, PNONE, NO_TX),
    (PPE, PIn::CcaSuccess,     D::Any, PEd, &charged(2001), NO_TX),
    (PPE, PIn::Cca4011,        D::Any, PEd, &charged(4011), NO_TX),
    (PPE, PIn::Cca4012,        D::Any, PEd, &charged(4012), NO_TX),
    (PPE, PIn::Cca5030,        D::Any, PEd, &charged(5030), NO_TX),
    // a failed answer deletes the request whatever the DDFH (§6.5)
    (PPE, PIn::Cca5012,        D::Any, PEd, &charged(5012), NO_TX),
    // temporary error: nothing debited, like a failure to send
    (PPE, PIn::Cca3004E,       D::Buf,  PPE, PNONE, RESEND),
    (PPE, PIn::Cca3004E,       D::Cont, PEd, UNDELIVERED, NO_TX),
    (PPE, PIn::CcaWrongNumber, D::Any, PPE, PNONE, NO_TX),
    (PPE, PIn::RequestFailed,  D::Buf,  PPE, PNONE, RESEND),
    (PPE, PIn::RequestFailed,  D::Cont, PEd, UNDELIVERED, NO_TX),
    (PPE, PIn::TxTimeout,      D::Buf,  PPE, PNONE, RESEND),
    (PPE, PIn::TxTimeout,      D::Cont, PEd, UNDELIVERED, NO_TX),
    (PPE, PIn::Unexpected,     D::Any, PPE, PNONE, NO_TX),

    (PEd, PIn::Answered,       D::Any, PEd, PNONE, NO_TX),
    (PEd, PIn::Hangup,         D::Any, PEd, PNONE, NO_TX),
    (PEd, PIn::CcaSuccess,     D::Any, PEd, PNONE, NO_TX),
    (PEd, PIn::Cca4011,        D::Any, PEd, PNONE, NO_TX),
    (PEd, PIn::Cca4012,        D::Any, PEd, PNONE, NO_TX),
    (PEd, PIn::Cca5030,        D::Any, PEd, PNONE, NO_TX),
    (PEd, PIn::Cca5012,        D::Any, PEd, PNONE, NO_TX),
    (PEd, PIn::Cca3004E,       D::Any, PEd, PNONE, NO_TX),
    (PEd, PIn::CcaWrongNumber, D::Any, PEd, PNONE, NO_TX),
    (PEd, PIn::RequestFailed,  D::Any, PEd, PNONE, NO_TX),
    (PEd, PIn::TxTimeout,      D::Any, PEd, PNONE, NO_TX),
    (PEd, PIn::Unexpected,     D::Any, PEd, PNONE, NO_TX),
];

fn postpaid_config(ddfh: Ddfh) -> PostpaidConfig<'static> {
    let mut c = PostpaidConfig::new(CLIENT, REALM, REALM, CONTEXT);
    c.destination_host = Some(SERVER);
    c.clock = CLOCK;
    c.failure_handling = ddfh;
    c
}

struct PDrive<'c> {
    c: PostpaidClient<'c, 'static>,
    now: Instant,
    events: Vec<PostpaidEvent>,
    sent: Vec<Sent>,
}

impl<'c> PDrive<'c> {
    fn new(cfg: &'c PostpaidConfig<'c>) -> Self {
        PDrive {
            c: PostpaidClient::new(cfg, session_id_from(SID).unwrap(), PARTIES),
            now: Instant::ZERO,
            events: Vec::new(),
            sent: Vec::new(),
        }
    }

    fn pump(&mut self) {
        while let Some(e) = self.c.poll_event() {
            self.events.push(e);
        }
        let mut buf = [0u8; 2048];
        while let Some(t) = self.c.poll_transmit(self.now, &mut buf) {
            let t = t.expect("encodes");
            self.sent.push(read_ccr(&buf[..t.len], t.retransmission));
        }
        if let Some(t) = self.c.poll_timeout() {
            assert!(t > self.now);
        }
    }

    fn take(&mut self) -> (Vec<PostpaidEvent>, Vec<Out>) {
        let ev = std::mem::take(&mut self.events);
        let out = std::mem::take(&mut self.sent)
            .into_iter()
            .map(|s| s.out)
            .collect();
        (ev, out)
    }

    fn reach(&mut self, s: PostpaidState) {
        if s != PId {
            self.now = Instant::from_secs(4);
            self.c.call_answered(self.now);
            self.pump();
        }
        if matches!(s, PPE | PEd) {
            self.now = Instant::from_secs(71);
            self.c.call_ended(self.now);
            self.pump();
        }
        if s == PEd {
            self.c.handle_answer(self.now, &parse(&ok(0, None)));
            self.pump();
        }
        assert_eq!(self.c.state(), s);
        self.take();
    }

    fn apply(&mut self, input: PIn) {
        let simple = |rc: u32| {
            cca(CcaSpec {
                rc,
                request_type: Some(CcRequestType::Event),
                number: Some(0),
                ..Default::default()
            })
        };
        let n = self.now;
        match input {
            PIn::Answered => self.c.call_answered(n),
            PIn::Hangup => self.c.call_ended(n),
            PIn::CcaSuccess => self.c.handle_answer(n, &parse(&simple(2001))),
            PIn::Cca4011 => self.c.handle_answer(n, &parse(&simple(4011))),
            PIn::Cca4012 => self.c.handle_answer(n, &parse(&simple(4012))),
            PIn::Cca5030 => self.c.handle_answer(n, &parse(&simple(5030))),
            PIn::Cca5012 => self.c.handle_answer(n, &parse(&simple(5012))),
            PIn::Cca3004E => {
                let m = cca(CcaSpec {
                    rc: 3004,
                    e_bit: true,
                    ..Default::default()
                });
                self.c.handle_answer(n, &parse(&m));
            }
            PIn::CcaWrongNumber => self.c.handle_answer(n, &parse(&ok(5, None))),
            PIn::RequestFailed => self.c.handle_request_failed(n),
            PIn::TxTimeout => {
                self.now = n + Duration::from_secs(10);
                self.c.handle_timeout(self.now);
            }
            PIn::Unexpected => {
                self.c.handle_answer(n, &parse(&raa()));
                let ccr = server_request(CommandCode::CREDIT_CONTROL, SID);
                self.c.handle_answer(n, &parse(&ccr));
            }
        }
        self.pump();
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
                let cfg = postpaid_config(ddfh);
                let mut d = PDrive::new(&cfg);
                d.reach(s);
                d.apply(input);
                let (ev, sent) = d.take();
                let got = (d.c.state(), ev, sent);
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
    assert_eq!(checked, 4 * 12 * 2);
    assert!(used.iter().all(|&n| n > 0), "unused postpaid rows");
}

// ---------------------------------------------------------------------------
// Server, one session (RFC 8506 Table 6)
// ---------------------------------------------------------------------------

/// Server-side state of the session under test. Open0: CCR-I 0 granted 60
/// of the 100 s balance; Open1: then CCR-U 1 reported 10 s and was granted
/// 60 more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SS {
    Idle,
    Open0,
    Open1,
    /// Any open session (as a next state).
    Open,
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
    /// A CCR-Event (another Session-Id), USU 10.
    CcrE,
    /// Tcc (600 s) expires.
    Tcc,
    /// `abort_session`.
    Asr,
    /// `reauthorize`.
    Rar,
    /// A CCR without Service-Context-Id.
    Malformed,
    /// A request that is not a CCR (STR).
    NotCcr,
}

const SSTATES: [SS; 3] = [SS::Idle, SS::Open0, SS::Open1];
const SINPUTS: [SIn; 12] = [
    SIn::CcrI,
    SIn::CcrU,
    SIn::CcrUExhaust,
    SIn::CcrUOverdraw,
    SIn::CcrT,
    SIn::CcrDup,
    SIn::CcrE,
    SIn::Tcc,
    SIn::Asr,
    SIn::Rar,
    SIn::Malformed,
    SIn::NotCcr,
];

/// What the server sends: a CCA (Result-Code, GSU CC-Time), a request of
/// its own (command code), or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SOut {
    Cca(u32, Option<u32>),
    Req(u32),
    Nothing,
}

type SEv = CcServerEvent;
/// (state, input, next, answer, events, balance after, credit free after)
type SRow = (SS, SIn, SS, SOut, &'static [SEv], u64, u64);

const fn refused(v: u32) -> SEv {
    SEv::Refused(ResultCode(v))
}

#[rustfmt::skip]
const SERVER_TABLE: &[SRow] = &[
    (SS::Idle, SIn::CcrI,         SS::Open, SOut::Cca(2001, Some(60)), &[SEv::Started { granted: 60 }], 100, 40),
    (SS::Idle, SIn::CcrU,         SS::Idle, SOut::Cca(5002, None), &[refused(5002)], 100, 100),
    (SS::Idle, SIn::CcrUExhaust,  SS::Idle, SOut::Cca(5002, None), &[refused(5002)], 100, 100),
    (SS::Idle, SIn::CcrUOverdraw, SS::Idle, SOut::Cca(5002, None), &[refused(5002)], 100, 100),
    (SS::Idle, SIn::CcrT,         SS::Idle, SOut::Cca(5002, None), &[refused(5002)], 100, 100),
    (SS::Idle, SIn::CcrDup,       SS::Idle, SOut::Cca(5002, None), &[refused(5002)], 100, 100),
    (SS::Idle, SIn::CcrE,         SS::Idle, SOut::Cca(2001, None), &[SEv::EventCharged { used: 10 }], 90, 90),
    (SS::Idle, SIn::Tcc,          SS::Idle, SOut::Nothing, &[], 100, 100),
    (SS::Idle, SIn::Asr,          SS::Idle, SOut::Nothing, &[], 100, 100),
    (SS::Idle, SIn::Rar,          SS::Idle, SOut::Nothing, &[], 100, 100),
    (SS::Idle, SIn::Malformed,    SS::Idle, SOut::Cca(5005, None), &[refused(5005)], 100, 100),
    (SS::Idle, SIn::NotCcr,       SS::Idle, SOut::Cca(3001, None), &[refused(3001)], 100, 100),

    // a repeated CCR-I 0 is a duplicate: same answer, nothing reserved again
    (SS::Open0, SIn::CcrI,         SS::Open, SOut::Cca(2001, Some(60)), &[], 100, 40),
    (SS::Open0, SIn::CcrU,         SS::Open, SOut::Cca(2001, Some(60)), &[], 90, 30),
    // Table 6: update not successfully processed → debit, answer, Idle
    (SS::Open0, SIn::CcrUExhaust,  SS::Idle, SOut::Cca(4012, None), &[SEv::Ended { used: 100 }, refused(4012)], 0, 0),
    (SS::Open0, SIn::CcrUOverdraw, SS::Idle, SOut::Cca(4012, None), &[SEv::Ended { used: 150 }, refused(4012)], 0, 0),
    (SS::Open0, SIn::CcrT,         SS::Idle, SOut::Cca(2001, None), &[SEv::Ended { used: 10 }], 90, 90),
    (SS::Open0, SIn::CcrDup,       SS::Open, SOut::Cca(2001, Some(60)), &[], 100, 40),
    (SS::Open0, SIn::CcrE,         SS::Open, SOut::Cca(2001, None), &[SEv::EventCharged { used: 10 }], 90, 30),
    (SS::Open0, SIn::Tcc,          SS::Idle, SOut::Nothing, &[SEv::Exhausted, SEv::Expired], 100, 100),
    (SS::Open0, SIn::Asr,          SS::Open, SOut::Req(274), &[], 100, 40),
    (SS::Open0, SIn::Rar,          SS::Open, SOut::Req(258), &[], 100, 40),
    (SS::Open0, SIn::Malformed,    SS::Open, SOut::Cca(5005, None), &[refused(5005)], 100, 40),
    (SS::Open0, SIn::NotCcr,       SS::Open, SOut::Cca(3001, None), &[refused(3001)], 100, 40),

    // a new CCR-I for the session starts it over
    (SS::Open1, SIn::CcrI,         SS::Open, SOut::Cca(2001, Some(60)), &[SEv::Started { granted: 60 }], 90, 30),
    (SS::Open1, SIn::CcrU,         SS::Open, SOut::Cca(2001, Some(60)), &[], 80, 20),
    (SS::Open1, SIn::CcrUExhaust,  SS::Idle, SOut::Cca(4012, None), &[SEv::Ended { used: 110 }, refused(4012)], 0, 0),
    (SS::Open1, SIn::CcrUOverdraw, SS::Idle, SOut::Cca(4012, None), &[SEv::Ended { used: 160 }, refused(4012)], 0, 0),
    (SS::Open1, SIn::CcrT,         SS::Idle, SOut::Cca(2001, None), &[SEv::Ended { used: 20 }], 80, 80),
    // the resent CCR-U 1 is answered again and not debited twice
    (SS::Open1, SIn::CcrDup,       SS::Open, SOut::Cca(2001, Some(60)), &[], 90, 30),
    (SS::Open1, SIn::CcrE,         SS::Open, SOut::Cca(2001, None), &[SEv::EventCharged { used: 10 }], 80, 20),
    (SS::Open1, SIn::Tcc,          SS::Idle, SOut::Nothing, &[SEv::Exhausted, SEv::Expired], 90, 90),
    (SS::Open1, SIn::Asr,          SS::Open, SOut::Req(274), &[], 90, 30),
    (SS::Open1, SIn::Rar,          SS::Open, SOut::Req(258), &[], 90, 30),
    (SS::Open1, SIn::Malformed,    SS::Open, SOut::Cca(5005, None), &[refused(5005)], 90, 30),
    (SS::Open1, SIn::NotCcr,       SS::Open, SOut::Cca(3001, None), &[refused(3001)], 90, 30),
];

/// A CCR as a client sends it.
fn ccr(
    session: &str,
    t: CcRequestType,
    number: u32,
    rsu: Option<u32>,
    usu: Option<u32>,
    retransmit: bool,
) -> Vec<u8> {
    let mut buf = [0u8; 1024];
    let mut hdr = HeaderRepr::request(
        CommandCode::CREDIT_CONTROL,
        ApplicationId::CREDIT_CONTROL,
        number + 100,
        number + 200,
    )
    .proxiable(true);
    if retransmit {
        hdr.flags = hdr.flags | CommandFlags::RETRANSMIT;
    }
    let mut b = MessageBuilder::new(&mut buf, hdr);
    b.put(&base::SESSION_ID, session)
        .put(&base::ORIGIN_HOST, CLIENT)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::DESTINATION_REALM, REALM)
        .put(&base::AUTH_APPLICATION_ID, 4)
        .put(&dict::SERVICE_CONTEXT_ID, CONTEXT)
        .put(&dict::CC_REQUEST_TYPE, t)
        .put(&dict::CC_REQUEST_NUMBER, number);
    b.grouped(&dict::SUBSCRIPTION_ID, |g| {
        g.put(&dict::SUBSCRIPTION_ID_TYPE, dict::SubscriptionIdType::E164)
            .put(&dict::SUBSCRIPTION_ID_DATA, "1001");
    });
    if let Some(r) = rsu {
        b.grouped(&dict::REQUESTED_SERVICE_UNIT, |g| {
            g.put(&dict::CC_TIME, r);
        });
    }
    if let Some(u) = usu {
        b.grouped(&dict::USED_SERVICE_UNIT, |g| {
            g.put(&dict::CC_TIME, u);
        });
    }
    b.finish().unwrap().to_vec()
}

fn malformed_ccr() -> Vec<u8> {
    let mut buf = [0u8; 512];
    let hdr = HeaderRepr::request(
        CommandCode::CREDIT_CONTROL,
        ApplicationId::CREDIT_CONTROL,
        1,
        1,
    )
    .proxiable(true);
    let mut b = MessageBuilder::new(&mut buf, hdr);
    b.put(&base::SESSION_ID, SID)
        .put(&base::ORIGIN_HOST, CLIENT)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::DESTINATION_REALM, REALM)
        .put(&base::AUTH_APPLICATION_ID, 4)
        .put(&dict::CC_REQUEST_TYPE, CcRequestType::Update)
        .put(&dict::CC_REQUEST_NUMBER, 1);
    b.finish().unwrap().to_vec()
}

struct SDrive<'c> {
    s: CcServer<'c, Balances<8>, 8>,
    now: Instant,
    /// The last CCR sent to the server, its number.
    last: Option<(Vec<u8>, u32)>,
}

impl<'c> SDrive<'c> {
    fn send(&mut self, bytes: &[u8]) -> (u32, Option<u32>) {
        let m = parse(bytes);
        let mut out = [0u8; 1024];
        let a = self.s.handle_request(self.now, &m, &mut out).unwrap();
        let a = parse(a);
        if !a.flags().is_error() {
            // (an E-bit answer follows RFC 6733 §7.2's generic grammar)
            a.validate(&CreditControl).expect("valid answer");
        }
        assert_eq!(
            (a.hop_by_hop(), a.end_to_end()),
            (m.hop_by_hop(), m.end_to_end())
        );
        let rc = a.get(&base::RESULT_CODE).unwrap().unwrap();
        assert_eq!(a.flags().is_error(), (3000..4000).contains(&rc));
        let gsu = a
            .get(&dict::GRANTED_SERVICE_UNIT)
            .unwrap()
            .map(|g| g.get(&dict::CC_TIME).unwrap().unwrap());
        (rc, gsu)
    }

    fn ccr(
        &mut self,
        t: CcRequestType,
        number: u32,
        rsu: Option<u32>,
        usu: Option<u32>,
    ) -> (u32, Option<u32>) {
        let m = ccr(SID, t, number, rsu, usu, false);
        let r = self.send(&m);
        self.last = Some((m, number));
        r
    }

    fn next_number(&self) -> u32 {
        self.last.as_ref().map_or(1, |l| l.1 + 1)
    }

    fn events(&mut self) -> Vec<CcServerEvent> {
        std::iter::from_fn(|| self.s.poll_event()).collect()
    }

    /// Seconds a new reservation could get: balance minus what is reserved.
    fn free(&mut self) -> u64 {
        let r = self.s.rating_mut();
        let g = r.reserve("probe", "1001", "", u32::MAX).unwrap();
        r.release("probe", "1001");
        u64::from(g)
    }
}

#[test]
fn server_session_transition_table() {
    let mut scfg = CcServerConfig::new(SERVER, REALM);
    scfg.no_credit = NoCredit::CreditLimitReached;
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
            let mut bal = Balances::<8>::new();
            bal.set("1001", 100);
            let mut d = SDrive {
                s: CcServer::new(&scfg, bal),
                now: Instant::ZERO,
                last: None,
            };
            if st != SS::Idle {
                assert_eq!(
                    d.ccr(CcRequestType::Initial, 0, Some(60), None),
                    (2001, Some(60))
                );
            }
            if st == SS::Open1 {
                d.now = Instant::from_secs(10);
                assert_eq!(
                    d.ccr(CcRequestType::Update, 1, Some(60), Some(10)),
                    (2001, Some(60))
                );
            }
            d.events();
            d.now = d.now + Duration::from_secs(1);
            let n = d.next_number();
            let got = match input {
                SIn::CcrI => SOut::from(d.ccr(CcRequestType::Initial, 0, Some(60), None)),
                SIn::CcrU => SOut::from(d.ccr(CcRequestType::Update, n, Some(60), Some(10))),
                SIn::CcrUExhaust => {
                    SOut::from(d.ccr(CcRequestType::Update, n, Some(60), Some(100)))
                }
                SIn::CcrUOverdraw => {
                    SOut::from(d.ccr(CcRequestType::Update, n, Some(0), Some(150)))
                }
                SIn::CcrT => SOut::from(d.ccr(CcRequestType::Termination, n, None, Some(10))),
                SIn::CcrDup => {
                    let m = match &d.last {
                        // the same bytes with the T flag set
                        Some((m, _)) => {
                            let mut m = m.clone();
                            m[4] |= CommandFlags::RETRANSMIT.0;
                            m
                        }
                        None => ccr(SID, CcRequestType::Update, 1, Some(60), Some(10), true),
                    };
                    SOut::from(d.send(&m))
                }
                SIn::CcrE => SOut::from(d.send(&ccr(
                    "ev-1",
                    CcRequestType::Event,
                    0,
                    Some(0),
                    Some(10),
                    false,
                ))),
                SIn::Tcc => {
                    d.now = d.now + Duration::from_secs(600);
                    d.s.handle_timeout(d.now);
                    SOut::Nothing
                }
                SIn::Asr | SIn::Rar => {
                    let queued = if input == SIn::Asr {
                        d.s.abort_session(SID, CLIENT)
                    } else {
                        d.s.reauthorize(SID, CLIENT)
                    };
                    let mut buf = [0u8; 512];
                    match d.s.poll_transmit(&mut buf) {
                        Some(r) => {
                            assert!(queued);
                            let len = r.unwrap();
                            let m = parse(&buf[..len]);
                            m.validate(&CreditControl).unwrap();
                            assert_eq!(m.get(&base::DESTINATION_HOST).unwrap(), Some(CLIENT));
                            SOut::Req(m.command_code().0)
                        }
                        None => {
                            assert!(!queued);
                            SOut::Nothing
                        }
                    }
                }
                SIn::Malformed => SOut::from(d.send(&malformed_ccr())),
                SIn::NotCcr => {
                    SOut::from(d.send(&server_request(CommandCode::SESSION_TERMINATION, SID)))
                }
            };
            let open = d.s.sessions() == 1;
            // an open session is supervised by Tcc; a closed one is not
            assert_eq!(
                d.s.poll_timeout().is_some(),
                open,
                "({st:?}, {input:?}): Tcc"
            );
            let next_got = if open { SS::Open } else { SS::Idle };
            let next_want = if next == SS::Idle { SS::Idle } else { SS::Open };
            let got = (
                next_got,
                got,
                d.events(),
                d.s.rating().balance("1001"),
                d.free(),
            );
            let want = (next_want, answer, events.to_vec(), Some(balance), free);
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
    assert_eq!(checked, 3 * 12);
    assert!(used.iter().all(|&n| n > 0));
}

impl From<(u32, Option<u32>)> for SOut {
    fn from((rc, gsu): (u32, Option<u32>)) -> Self {
        SOut::Cca(rc, gsu)
    }
}

// ---------------------------------------------------------------------------
// Regression tests for the fixes
// ---------------------------------------------------------------------------

/// The USU of every CCR sent so far.
fn usu_total(sent: &[Sent]) -> u32 {
    sent.iter()
        .filter(|s| matches!(s.out, Out::Ccr(_, _, false)))
        .filter_map(|s| s.usu)
        .sum()
}

#[test]
fn usage_stops_at_a_hangup_during_a_pending_update() {
    // The CCR-T used to report the time up to the CCA-U, not to the hangup.
    let cfg = prepaid_config(Ccfh::Terminate, 10);
    let mut d = Drive::new(&cfg);
    d.reach(Op, 3600, None);
    d.sent.clear();
    let rar = server_request(CommandCode::RE_AUTH, SID);
    d.at(5);
    d.c.handle_server_request(d.now, &parse(&rar));
    d.pump();
    d.at(9);
    d.c.call_ended(d.now, TerminationCause::Logout);
    d.pump();
    d.at(17);
    d.answer(&ok(2, Some(60)));
    let (_, out) = (d.events.clone(), d.sent.clone());
    let t = out.last().unwrap();
    assert_eq!(t.out, Out::Ccr(T, 3, false));
    // answered at 1, hangup at 9: 4 s in the CCR-U, 4 s in the CCR-T
    assert_eq!(t.usu, Some(4));
    assert_eq!(usu_total(&out), 8);
}

#[test]
fn an_answer_during_a_pending_update_is_kept() {
    // call_answered used to be ignored while a CCR-U (RAR before the
    // answer) was outstanding: no usage was ever reported.
    let cfg = prepaid_config(Ccfh::Terminate, 10);
    let mut d = Drive::new(&cfg);
    d.at(0);
    d.c.call_setup(d.now);
    d.pump();
    d.answer(&ok(0, Some(600)));
    d.at(2);
    let rar = server_request(CommandCode::RE_AUTH, SID);
    d.c.handle_server_request(d.now, &parse(&rar));
    d.pump();
    assert_eq!(d.c.state(), PU);
    d.at(3);
    d.c.call_answered(d.now);
    d.pump();
    d.at(4);
    d.answer(&ok(1, Some(600)));
    // the CCR-U on answer follows, stamped with the answer time
    let u = d.sent.last().unwrap();
    assert_eq!(u.out, Out::Ccr(U, 2, false));
    assert_eq!(u.event_timestamp, 3_913_056_000 + 3);
    assert_eq!(u.usu, None);
    d.answer(&ok(2, None));
    d.at(50);
    d.c.call_ended(d.now, TerminationCause::Logout);
    d.pump();
    let t = d.sent.last().unwrap();
    assert_eq!(t.out, Out::Ccr(T, 3, false));
    assert_eq!(t.usu, Some(47));
}

#[test]
fn validity_time_during_a_pending_update_does_not_spin() {
    // poll_timeout used to return the expired Validity-Time while a CCR-U
    // was outstanding, which handle_timeout never consumed.
    let cfg = prepaid_config(Ccfh::Terminate, 10);
    let mut d = Drive::new(&cfg);
    d.at(0);
    d.c.call_setup(d.now);
    d.pump();
    d.answer(&cca(CcaSpec {
        rc: 2001,
        number: Some(0),
        gsu: Some(600),
        validity: Some(5),
        ..Default::default()
    }));
    d.at(4);
    d.c.call_answered(d.now);
    d.pump();
    assert_eq!(d.c.state(), PU);
    // Tx of the CCR-U (14 s) is the only timer
    assert_eq!(d.c.poll_timeout(), Some(Instant::from_secs(14)));
    d.timeout_at(Instant::from_secs(5));
    assert_eq!(d.c.poll_timeout(), Some(Instant::from_secs(14)));
    // back in Open the expired Validity-Time re-authorises at once
    d.at(6);
    d.answer(&ok(1, None));
    assert_eq!(d.c.poll_timeout(), Some(Instant::from_secs(5)));
    d.timeout_at(Instant::from_secs(6));
    assert_eq!(d.sent.last().unwrap().out, Out::Ccr(U, 2, false));
}

#[test]
fn tx_expiry_with_continue_grants_and_waits_for_the_late_answer() {
    let cfg = prepaid_config(Ccfh::Continue, 10);
    let mut d = Drive::new(&cfg);
    d.at(0);
    d.c.call_setup(d.now);
    d.pump();
    d.timeout_at(Instant::from_secs(10));
    assert_eq!(d.take().0, [Ev::Allowed { seconds: None }]);
    assert_eq!(d.c.state(), PI);
    // the late grant sets the limit; the session is Open
    d.at(30);
    d.answer(&ok(0, Some(90)));
    assert_eq!(d.take().0, [Ev::Allowed { seconds: Some(90) }]);
    assert_eq!(d.c.state(), Op);

    // no late answer at all: given up 12 × Tx after sending, no CCR-T
    let mut d = Drive::new(&cfg);
    d.at(0);
    d.c.call_setup(d.now);
    d.pump();
    d.take();
    d.timeout_at(d.c.poll_timeout().unwrap());
    assert_eq!(d.c.poll_timeout(), Some(Instant::from_secs(120)));
    d.timeout_at(Instant::from_secs(120));
    assert_eq!(
        d.take(),
        (vec![Ev::Allowed { seconds: None }, Ev::Finished], vec![])
    );
    assert_eq!(d.c.state(), Ed);
    assert_eq!(d.c.terminations(), 0);

    // RETRY_AND_TERMINATE: granted at Tx, then the transport fails the
    // request: one resend, then the (already running) call is torn down
    let cfg = prepaid_config(Ccfh::RetryAndTerminate, 10);
    let mut d = Drive::new(&cfg);
    d.at(0);
    d.c.call_setup(d.now);
    d.pump();
    d.timeout_at(Instant::from_secs(10));
    d.at(11);
    d.c.handle_request_failed(d.now);
    d.pump();
    d.at(12);
    d.c.handle_request_failed(d.now);
    d.pump();
    assert_eq!(
        d.take(),
        (
            vec![
                Ev::Allowed { seconds: None },
                Ev::TerminateCall(TerminateReason::Timeout),
                Ev::Finished
            ],
            vec![Out::Ccr(I, 0, false), Out::Ccr(I, 0, true)]
        )
    );
}

#[test]
fn the_server_may_switch_the_failure_handling() {
    // CCFH from the CCA overrides the configured one (§5.7).
    let cfg = prepaid_config(Ccfh::Terminate, 10);
    let mut d = Drive::new(&cfg);
    d.reach(PI, 0, None);
    d.answer(&cca(CcaSpec {
        rc: 2001,
        number: Some(0),
        gsu: Some(600),
        ccfh: Some(Ccfh::Continue),
        ..Default::default()
    }));
    d.at(1);
    d.c.call_answered(d.now);
    d.pump();
    d.c.handle_request_failed(d.now);
    d.pump();
    assert_eq!(d.c.state(), Op);
    assert_eq!(
        d.take().0,
        [
            Ev::Allowed { seconds: Some(600) },
            Ev::Allowed { seconds: None }
        ]
    );
    // unsupervised, but the hangup still closes the session with its usage
    d.at(31);
    d.c.call_ended(d.now, TerminationCause::Logout);
    d.pump();
    assert_eq!(d.sent.last().unwrap().out, Out::Ccr(T, 2, false));
    assert_eq!(d.sent.last().unwrap().usu, Some(30));
}

#[test]
fn final_units_end_with_their_grant_only() {
    // Final-Unit-Indication used to stick for the rest of the session.
    let mut cfg = prepaid_config(Ccfh::Terminate, 10);
    cfg.on_exhaustion = OnExhaustion::Reauthorize;
    cfg.update_on_answer = false;
    let mut d = Drive::new(&cfg);
    d.at(0);
    d.c.call_setup(d.now);
    d.pump();
    d.answer(&cca(CcaSpec {
        rc: 2001,
        number: Some(0),
        gsu: Some(20),
        fui: Some(FinalUnitAction::Terminate),
        ..Default::default()
    }));
    d.c.call_answered(d.now);
    // a top-up and RAR: the new grant has no FUI
    d.at(5);
    let rar = server_request(CommandCode::RE_AUTH, SID);
    d.c.handle_server_request(d.now, &parse(&rar));
    d.pump();
    d.answer(&ok(1, Some(20)));
    d.take();
    d.timeout_at(Instant::from_secs(25));
    // re-authorised, not terminated
    assert_eq!(d.take(), (vec![], vec![Out::Ccr(U, 2, false)]));
}

#[test]
fn grant_running_out_during_a_pending_update_ends_the_call() {
    // The call used to outlive its grant while a CCR-U was outstanding.
    let cfg = prepaid_config(Ccfh::Continue, 100);
    let mut d = Drive::new(&cfg);
    d.reach(PU, 30, None);
    assert_eq!(d.c.poll_timeout(), Some(Instant::from_secs(31)));
    d.timeout_at(Instant::from_secs(31));
    assert_eq!(
        d.take().0,
        [Ev::TerminateCall(TerminateReason::CreditExhausted)]
    );
    d.at(40);
    d.answer(&ok(1, None));
    let t = d.sent.last().unwrap();
    assert_eq!(t.out, Out::Ccr(T, 2, false));
    assert_eq!(t.usu, Some(30));
}

#[test]
fn a_resent_update_is_debited_once() {
    // The server used to debit a retransmitted CCR-U again.
    let cfg = prepaid_config(Ccfh::RetryAndTerminate, 10);
    let mut scfg = CcServerConfig::new(SERVER, REALM);
    scfg.no_credit = NoCredit::CreditLimitReached;
    let mut bal = Balances::<8>::new();
    bal.set("1001", 1000);
    let mut server: CcServer<'_, _, 8> = CcServer::new(&scfg, bal);
    let mut c = PrepaidClient::new(&cfg, session_id_from(SID).unwrap(), PARTIES);
    let mut buf = [0u8; 2048];
    let mut abuf = [0u8; 2048];
    let mut exchange = |c: &mut PrepaidClient<'_, '_>, now: Instant, deliver: bool| {
        let mut n = 0;
        while let Some(t) = c.poll_transmit(now, &mut buf) {
            let Transmit::Request { len, .. } = t.unwrap() else {
                continue;
            };
            let m = parse(&buf[..len]);
            let a = server.handle_request(now, &m, &mut abuf).unwrap();
            if deliver {
                c.handle_answer(now, &parse(a));
            }
            n += 1;
        }
        n
    };
    c.call_setup(Instant::ZERO);
    exchange(&mut c, Instant::ZERO, true);
    c.call_answered(Instant::from_secs(1));
    exchange(&mut c, Instant::from_secs(1), true);
    let rar = server_request(CommandCode::RE_AUTH, SID);
    c.handle_server_request(Instant::from_secs(41), &parse(&rar));
    // the CCR-U reporting 40 s reaches the server, its answer is lost
    assert_eq!(exchange(&mut c, Instant::from_secs(41), false), 1);
    c.handle_request_failed(Instant::from_secs(45));
    assert_eq!(exchange(&mut c, Instant::from_secs(45), true), 1);
    assert_eq!(c.state(), Op);
    c.call_ended(Instant::from_secs(61), TerminationCause::Logout);
    exchange(&mut c, Instant::from_secs(61), true);
    assert_eq!(c.state(), Ed);
    assert_eq!(server.rating().balance("1001"), Some(1000 - 60));
}

#[test]
fn a_resent_event_is_debited_once() {
    // The server used to debit a CCR-Event resent (T flag) after a lost
    // answer once more.
    let scfg = CcServerConfig::new(SERVER, REALM);
    let mut bal = Balances::<8>::new();
    bal.set("1001", 100);
    let mut d = SDrive {
        s: CcServer::new(&scfg, bal),
        now: Instant::ZERO,
        last: None,
    };
    let first = ccr("ev-2", CcRequestType::Event, 0, Some(0), Some(30), false);
    let again = ccr("ev-2", CcRequestType::Event, 0, Some(0), Some(30), true);
    assert_eq!(d.send(&first), (2001, None));
    assert_eq!(d.send(&again), (2001, None));
    assert_eq!(d.s.rating().balance("1001"), Some(70));
    assert_eq!(d.events(), [CcServerEvent::EventCharged { used: 30 }]);
    // another event is charged
    let other = ccr("ev-3", CcRequestType::Event, 0, Some(0), Some(30), false);
    assert_eq!(d.send(&other), (2001, None));
    assert_eq!(d.s.rating().balance("1001"), Some(40));
}

#[test]
fn postpaid_retries_a_too_busy_answer() {
    // A 3004 used to be reported as Charged and the record dropped.
    let cfg = postpaid_config(Ddfh::TerminateOrBuffer);
    let mut d = PDrive::new(&cfg);
    d.reach(PPE);
    let busy = cca(CcaSpec {
        rc: 3004,
        e_bit: true,
        ..Default::default()
    });
    for _ in 0..2 {
        d.c.handle_answer(d.now, &parse(&busy));
        d.pump();
    }
    assert_eq!(
        d.take(),
        (vec![], vec![Out::Ccr(E, 0, true), Out::Ccr(E, 0, true)])
    );
    // the third attempt fails too: max_attempts (3) reached
    d.c.handle_answer(d.now, &parse(&busy));
    d.pump();
    assert_eq!(d.take(), (UNDELIVERED.to_vec(), vec![]));
}
