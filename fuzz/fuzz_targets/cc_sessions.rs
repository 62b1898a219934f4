//! Random answers, timings and server-initiated requests into the prepaid
//! and postpaid client machines, with the real credit-control server
//! answering some requests and random bytes answering others. Invariants of
//! the diameter-cc issue: no panic, CC-Request-Numbers strictly increasing
//! (retransmissions flagged and keeping theirs), at most one CCR-Termination
//! per session and nothing after it, usage never above the elapsed time.
#![no_main]

use arbitrary::Arbitrary;
use diameter_cc::client::postpaid::{PostpaidClient, PostpaidConfig};
use diameter_cc::client::prepaid::{OnExhaustion, Parties, PrepaidClient, PrepaidConfig, Transmit};
use diameter_cc::dict::{self, tgpp, CcRequestType, CreditControlFailureHandling};
use diameter_cc::server::credit_control::{Balances, CcServer, CcServerConfig, NoCredit};
use diameter_cc::session::session_id_from;
use diameter_cc::CreditControl;
use diameter_core::dict::base::{self, TerminationCause};
use diameter_core::time::Instant;
use diameter_core::{ApplicationId, CommandCode, HeaderRepr, Message, MessageBuilder};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
enum Op {
    Setup,
    Answered,
    Ended(u8),
    Advance(u16),
    Timeout,
    /// Let the real server answer what the client sent.
    Serve,
    /// Answer with a crafted CCA.
    Cca {
        rc: u16,
        number_delta: i8,
        grant: Option<u16>,
        validity: Option<u8>,
        ccfh: Option<u8>,
    },
    Garbage(Vec<u8>),
    Failed,
    Rar,
    Asr,
}

#[derive(Debug, Arbitrary)]
struct Input {
    balance: u16,
    zero_grant: bool,
    reauth: bool,
    ccfh: u8,
    requested: u16,
    ops: Vec<Op>,
    postpaid_ops: Vec<u8>,
}

const PARTIES: Parties<'static> = Parties {
    user_name: "1001",
    subscription_id: "1001",
    calling_party: "1001",
    called_party: "1002",
    role_of_node: tgpp::RoleOfNode::Originating,
    node_functionality: tgpp::NodeFunctionality::As,
};

fn cca(
    number: u32,
    t: CcRequestType,
    rc: u32,
    grant: Option<u32>,
    validity: Option<u32>,
    ccfh: Option<u8>,
) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let hdr = HeaderRepr::request(
        CommandCode::CREDIT_CONTROL,
        ApplicationId::CREDIT_CONTROL,
        1,
        1,
    )
    .proxiable(true)
    .answer();
    let mut b = MessageBuilder::new(&mut buf, hdr);
    b.put(&base::SESSION_ID, "s")
        .put(&base::RESULT_CODE, rc)
        .put(&base::ORIGIN_HOST, "ocs.example")
        .put(&base::ORIGIN_REALM, "example")
        .put(&base::AUTH_APPLICATION_ID, 4)
        .put(&dict::CC_REQUEST_TYPE, t)
        .put(&dict::CC_REQUEST_NUMBER, number);
    if let Some(f) = ccfh {
        b.put(
            &dict::CREDIT_CONTROL_FAILURE_HANDLING,
            CreditControlFailureHandling::from(i32::from(f % 4)),
        );
    }
    if let Some(g) = grant {
        b.grouped(&dict::GRANTED_SERVICE_UNIT, |x| {
            x.put(&dict::CC_TIME, g);
        });
    }
    if let Some(v) = validity {
        b.put(&dict::VALIDITY_TIME, v);
    }
    b.finish().unwrap().to_vec()
}

fn server_request(code: CommandCode) -> Vec<u8> {
    let mut buf = [0u8; 256];
    let hdr = HeaderRepr::request(code, ApplicationId::CREDIT_CONTROL, 9, 9).proxiable(true);
    let mut b = MessageBuilder::new(&mut buf, hdr);
    b.put(&base::SESSION_ID, "s")
        .put(&base::ORIGIN_HOST, "ocs.example")
        .put(&base::ORIGIN_REALM, "example")
        .put(&base::DESTINATION_REALM, "example")
        .put(&base::DESTINATION_HOST, "client.example")
        .put(&base::AUTH_APPLICATION_ID, 4);
    if code == CommandCode::RE_AUTH {
        b.put(
            &base::RE_AUTH_REQUEST_TYPE,
            base::ReAuthRequestType::AuthorizeOnly,
        );
    }
    b.finish().unwrap().to_vec()
}

fuzz_target!(|inp: Input| {
    let mut cfg = PrepaidConfig::new("client.example", "example", "example", "voice@fuzz");
    cfg.on_exhaustion = if inp.reauth {
        OnExhaustion::Reauthorize
    } else {
        OnExhaustion::Terminate
    };
    cfg.failure_handling = CreditControlFailureHandling::from(i32::from(inp.ccfh % 3));
    cfg.requested_time = u32::from(inp.requested);
    cfg.clock.unix_at_zero = 1_704_067_200;
    let mut scfg = CcServerConfig::new("ocs.example", "example");
    scfg.no_credit = if inp.zero_grant {
        NoCredit::ZeroGrant
    } else {
        NoCredit::CreditLimitReached
    };
    let mut bal = Balances::<4>::new();
    bal.set("1001", u64::from(inp.balance));
    let mut server: CcServer<'_, _, 4> = CcServer::new(&scfg, bal);
    let mut c = PrepaidClient::new(&cfg, session_id_from("s").unwrap(), PARTIES);

    let mut now = Instant::ZERO;
    let mut answered_at: Option<Instant> = None;
    let mut last_number: Option<u32> = None;
    let mut outstanding: Option<(u32, CcRequestType, Vec<u8>)> = None;
    let mut terminations = 0u32;
    let mut after_termination = 0u32;
    let mut usage_total = 0u64;

    for op in inp.ops.iter().take(200) {
        match op {
            Op::Setup => c.call_setup(now),
            Op::Answered => {
                if answered_at.is_none() {
                    answered_at = Some(now);
                }
                c.call_answered(now)
            }
            Op::Ended(k) => c.call_ended(now, TerminationCause::from(i32::from(k % 9))),
            Op::Advance(ms) => now = Instant(now.0 + u64::from(*ms) * 10),
            Op::Timeout => c.handle_timeout(now),
            Op::Serve => {
                if let Some((_, _, bytes)) = outstanding.take() {
                    let m = Message::parse_with(&bytes, &CreditControl).expect("our CCR parses");
                    let mut out = [0u8; 1024];
                    let a = server
                        .handle_request(now, &m, &mut out)
                        .expect("CCA encodes");
                    let am = Message::parse_with(a, &CreditControl).expect("our CCA parses");
                    c.handle_answer(now, &am);
                }
            }
            Op::Cca {
                rc,
                number_delta,
                grant,
                validity,
                ccfh,
            } => {
                let (n, t) = outstanding
                    .as_ref()
                    .map(|o| (o.0, o.1))
                    .unwrap_or((0, CcRequestType::Initial));
                let n = n.wrapping_add_signed(i32::from(*number_delta % 2));
                let bytes = cca(
                    n,
                    t,
                    2000 + u32::from(*rc % 4) * 1000 + u32::from(*rc % 32),
                    grant.map(u32::from),
                    validity.map(u32::from),
                    *ccfh,
                );
                let m = Message::parse_with(&bytes, &CreditControl).unwrap();
                c.handle_answer(now, &m);
                if n == outstanding.as_ref().map(|o| o.0).unwrap_or(u32::MAX) {
                    outstanding = None;
                }
            }
            Op::Garbage(g) => {
                if let Ok(m) = Message::parse_with(g, &CreditControl) {
                    c.handle_answer(now, &m);
                    let _ = c.handle_server_request(now, &m);
                }
            }
            Op::Failed => {
                c.handle_request_failed(now);
            }
            Op::Rar | Op::Asr => {
                let code = if matches!(op, Op::Rar) {
                    CommandCode::RE_AUTH
                } else {
                    CommandCode::ABORT_SESSION
                };
                let bytes = server_request(code);
                let m = Message::parse_with(&bytes, &CreditControl).unwrap();
                assert!(c.handle_server_request(now, &m));
            }
        }
        while c.poll_event().is_some() {}
        let mut buf = [0u8; 2048];
        let mut guard = 0;
        while let Some(t) = c.poll_transmit(now, &mut buf) {
            guard += 1;
            assert!(guard < 16, "poll_transmit never ends");
            match t.expect("encodes") {
                Transmit::Request {
                    len,
                    request_type,
                    number,
                    retransmission,
                } => {
                    let m = Message::parse_with(&buf[..len], &CreditControl).expect("CCR parses");
                    m.validate(&CreditControl).expect("CCR validates");
                    assert_eq!(m.get(&dict::CC_REQUEST_NUMBER).unwrap(), Some(number));
                    match last_number {
                        Some(l) if retransmission => {
                            assert_eq!(number, l, "a retransmission keeps its number")
                        }
                        Some(l) => assert!(
                            number > l,
                            "request numbers must increase: {l} then {number}"
                        ),
                        None => assert_eq!(number, 0),
                    }
                    last_number = Some(number);
                    if terminations > 0 && !retransmission {
                        after_termination += 1;
                    }
                    if request_type == CcRequestType::Termination && !retransmission {
                        terminations += 1;
                    }
                    if let Ok(Some(u)) = m.get(&dict::USED_SERVICE_UNIT) {
                        if !retransmission {
                            usage_total += u64::from(u.get(&dict::CC_TIME).unwrap().unwrap_or(0));
                        }
                    }
                    outstanding = Some((number, request_type, buf[..len].to_vec()));
                }
                Transmit::Answer { len } => {
                    Message::parse_with(&buf[..len], &CreditControl).expect("answer parses");
                }
            }
        }
        assert!(terminations <= 1, "more than one CCR-T");
        assert_eq!(after_termination, 0, "a CCR after the CCR-T");
        if let Some(a) = answered_at {
            let elapsed = now.0.saturating_sub(a.0) / 1000 + 1;
            assert!(
                usage_total <= elapsed,
                "usage {usage_total} s exceeds elapsed {elapsed} s"
            );
        }
        assert_eq!(u32::from(c.terminations()), terminations);
    }

    // Postpaid: random event order, at most one CCR-Event (plus retries).
    let mut pcfg = PostpaidConfig::new("client.example", "example", "example", "voice@fuzz");
    pcfg.clock.unix_at_zero = 1_704_067_200;
    let mut p = PostpaidClient::new(&pcfg, session_id_from("p").unwrap(), PARTIES);
    let mut now = Instant::ZERO;
    let mut sent = 0u32;
    for &b in inp.postpaid_ops.iter().take(64) {
        match b % 6 {
            0 => p.call_answered(now),
            1 => p.call_ended(now),
            2 => now = Instant(now.0 + u64::from(b) * 100),
            3 => p.handle_timeout(now),
            4 => p.handle_request_failed(now),
            _ => {
                let bytes = cca(0, CcRequestType::Event, 2001, None, None, None);
                p.handle_answer(now, &Message::parse_with(&bytes, &CreditControl).unwrap());
            }
        }
        while p.poll_event().is_some() {}
        let mut buf = [0u8; 2048];
        while let Some(t) = p.poll_transmit(now, &mut buf) {
            let t = t.expect("encodes");
            sent += 1;
            assert_eq!(t.retransmission, sent > 1);
        }
        assert!(sent <= u32::from(pcfg.max_attempts));
    }
});
