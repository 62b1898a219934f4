//! Random answers, timings, failures and server-initiated requests into the
//! prepaid and postpaid client machines, driven through the session
//! [`Machine`] contract as the endpoint drives them: the real credit-control
//! server (a [`CcServerSession`] opened by `CcServer::handle_new`) answers
//! some requests, crafted CCAs and random bytes answer others, requests fail
//! in every way ([`Failure`]), deadlines pass, and the server session's own
//! timers send ASR/RAR. Invariants of the diameter-cc issue: no panic, every
//! CCR validates, CC-Request-Numbers start at 0 and never go back
//! (retransmissions keep theirs, their End-to-End id and carry the T flag),
//! at most one CCR-Termination per session and nothing new after it, usage
//! never above the elapsed time, `Finished` is the last event.
#![no_main]

use std::collections::HashMap;

use arbitrary::Arbitrary;
use diameter_cc::client::postpaid::{PostpaidClient, PostpaidConfig, PostpaidEvent};
use diameter_cc::client::prepaid::{OnExhaustion, PrepaidClient, PrepaidConfig, PrepaidEvent};
use diameter_cc::client::Parties;
use diameter_cc::dict::{
    self, CcRequestType, CcSessionFailover, CreditControlFailureHandling,
    DirectDebitingFailureHandling,
};
use diameter_cc::msg::Ccr;
use diameter_cc::server::credit_control::{
    Balances, CcServer, CcServerConfig, CcServerSession, NoCredit, Rating,
};
use diameter_cc::session::{
    session_id_from, Ctx, Failure, Machine, Node, RequestFailed, Transmit, WallClock,
};
use diameter_cc::CreditControl;
use diameter_core::answer::{result_answer, Identity};
use diameter_core::dict::base::{self, TerminationCause};
use diameter_core::time::Instant;
use diameter_core::{
    ApplicationId, CommandCode, CommandFlags, EncodeError, Error, ErrorKind, HeaderRepr, Message,
    MessageBuilder, ResultCode,
};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
enum Op {
    Setup,
    Answered,
    Ended(u8),
    Advance(u16),
    /// The client's timers, the outstanding request's deadline, and the
    /// server session's timers (Tcc, exhaustion: ASR).
    Timeout,
    /// Let the real server answer what the client sent.
    Serve,
    /// Answer with a crafted CCA (matched to the outstanding request by its
    /// identifiers, as a peer does; its CC-Request-Number may differ).
    Cca {
        rc: u16,
        number_delta: i8,
        grant: Option<u16>,
        validity: Option<u8>,
        ccfh: Option<u8>,
        failover: bool,
    },
    Garbage(Vec<u8>),
    /// The outstanding request fails (timed out, handed back, unreachable,
    /// invalid answer, unsendable).
    Failed(u8),
    Rar,
    Asr,
    /// The real server's session asks to re-authorise or abort.
    ServerRequest {
        abort: bool,
    },
}

#[derive(Debug, Arbitrary)]
struct Input {
    balance: u16,
    zero_grant: bool,
    reauth: bool,
    ccfh: u8,
    requested: u16,
    validity: Option<u8>,
    ops: Vec<Op>,
    ddfh_continue: bool,
    postpaid_ops: Vec<u8>,
}

/// The request outstanding, as a node remembers it.
#[derive(Debug, Clone)]
struct Sent {
    tag: u32,
    kind: CcRequestType,
    bytes: Vec<u8>,
    end_to_end: u32,
    deadline: Instant,
}

const UNIX: i64 = 1_704_067_200;

/// Parse and validate once, as the peer machine does on receipt.
fn checked(bytes: &[u8]) -> Result<Message<'_>, Error> {
    Message::new_checked(bytes).and_then(|m| m.validated(&CreditControl))
}

/// Write the identifiers a sender writes (RFC 6733 §5.5.4: a
/// retransmission keeps its End-to-End id and carries the T flag).
fn write_ids(bytes: &mut [u8], t: &Transmit, hop_by_hop: u32) -> u32 {
    let e2e = t.end_to_end.unwrap_or(0x0e2e_0000 ^ hop_by_hop);
    bytes[12..16].copy_from_slice(&hop_by_hop.to_be_bytes());
    bytes[16..20].copy_from_slice(&e2e.to_be_bytes());
    if t.end_to_end.is_some() {
        bytes[4] |= CommandFlags::RETRANSMIT.0;
    }
    e2e
}

#[allow(clippy::too_many_arguments)]
fn cca(
    ids: (u32, u32),
    number: u32,
    t: CcRequestType,
    rc: u32,
    grant: Option<u32>,
    validity: Option<u32>,
    ccfh: Option<u8>,
    failover: bool,
) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let mut hdr = HeaderRepr::request(
        CommandCode::CREDIT_CONTROL,
        ApplicationId::CREDIT_CONTROL,
        ids.0,
        ids.1,
    )
    .proxiable(true)
    .answer();
    if (3000..4000).contains(&rc) {
        hdr.flags = hdr.flags.with(CommandFlags::ERROR, true);
    }
    let mut b = MessageBuilder::new(&mut buf, hdr);
    b.put(&base::SESSION_ID, "s")
        .put(&base::RESULT_CODE, rc)
        .put(&base::ORIGIN_HOST, "ocs.example")
        .put(&base::ORIGIN_REALM, "example")
        .put(&base::AUTH_APPLICATION_ID, 4)
        .put(&dict::CC_REQUEST_TYPE, t)
        .put(&dict::CC_REQUEST_NUMBER, number);
    if failover {
        b.put(&dict::CC_SESSION_FAILOVER, CcSessionFailover::Supported);
    }
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

fn failure(k: u8) -> Failure {
    match k % 5 {
        0 => Failure::TimedOut,
        1 => Failure::HandedBack,
        2 => Failure::Unreachable,
        3 => Failure::InvalidAnswer(Error::new(ErrorKind::MissingAvp)),
        _ => Failure::Unsendable(EncodeError::InvalidValue),
    }
}

/// The client's events: `Finished` comes once, last.
fn drain_prepaid(c: &mut PrepaidClient, finished: &mut bool) {
    while let Some(e) = c.poll_event() {
        assert!(!*finished, "event {e:?} after Finished");
        *finished |= e == PrepaidEvent::Finished;
    }
    assert_eq!(c.is_closed(), *finished, "closed exactly when finished");
}

/// The server side: a credit-control server and the one session it may
/// hold for Session-Id "s".
struct Ocs {
    node: Node,
    server: CcServer<Balances<4>>,
    session: Option<CcServerSession>,
    hbh: u32,
}

impl Ocs {
    /// Answer a CCR: its session when it has one (as the endpoint routes by
    /// Session-Id), else a new one.
    fn serve(&mut self, now: Instant, req: &Message<'_>, out: &mut [u8]) -> usize {
        let server: &mut CcServer<dyn Rating> = &mut self.server;
        let r = match self.session.as_mut() {
            Some(s) => {
                let dup = req.flags().is_retransmit();
                s.handle_request(Ctx::new(&self.node, server), now, req, dup, out)
            }
            None => {
                let ccr = Ccr::decode(req).expect("our CCR decodes");
                let (s, len) = server.handle_new(&self.node, now, req, &ccr, out);
                self.session = s;
                len
            }
        };
        r.expect("CCA encodes")
    }

    fn settle(&mut self) {
        if let Some(s) = self.session.as_mut() {
            while s.poll_event().is_some() {}
            if s.is_closed() {
                self.session = None;
            }
        }
        while self.server.poll_event().is_some() {}
    }
}

fuzz_target!(|inp: Input| {
    let clock = WallClock::new(UNIX);
    let node = Node::new("client.example", "example", clock).unwrap();
    let mut cfg = PrepaidConfig::new("example", "voice@fuzz").unwrap();
    cfg.on_exhaustion = if inp.reauth {
        OnExhaustion::Reauthorize
    } else {
        OnExhaustion::Terminate
    };
    cfg.failure_handling = CreditControlFailureHandling::from(i32::from(inp.ccfh % 3));
    cfg.requested_time = u32::from(inp.requested);
    let mut scfg = CcServerConfig::new();
    scfg.no_credit = if inp.zero_grant {
        NoCredit::ZeroGrant
    } else {
        NoCredit::CreditLimitReached
    };
    scfg.validity_time = inp.validity.map(u32::from);
    let mut bal = Balances::<4>::new();
    bal.set("1001", u64::from(inp.balance));
    let mut ocs = Ocs {
        node: Node::new("ocs.example", "example", clock).unwrap(),
        server: CcServer::new(scfg, bal),
        session: None,
        hbh: 0x4000_0000,
    };
    let parties = Parties::new("1001", "1002").unwrap();
    let mut c = PrepaidClient::new(session_id_from("s").unwrap(), parties.clone());

    let mut now = Instant::ZERO;
    let mut hbh = 0u32;
    let mut answered_at: Option<Instant> = None;
    let mut last_number: Option<u32> = None;
    let mut e2e_of: HashMap<u32, u32> = HashMap::new();
    let mut outstanding: Option<Sent> = None;
    let mut terminations = 0u32;
    let mut termination_number: Option<u32> = None;
    let mut usage_total = 0u64;
    let mut finished = false;

    for op in inp.ops.iter().take(200) {
        match op {
            Op::Setup => c.call_setup(Ctx::new(&node, &mut cfg), now),
            Op::Answered => {
                if answered_at.is_none() {
                    answered_at = Some(now);
                }
                c.call_answered(Ctx::new(&node, &mut cfg), now)
            }
            Op::Ended(k) => c.call_ended(now, TerminationCause::from(i32::from(k % 9))),
            Op::Advance(ms) => now = Instant(now.0 + u64::from(*ms) * 10),
            Op::Timeout => {
                c.handle_timeout(Ctx::new(&node, &mut cfg), now);
                if outstanding.as_ref().is_some_and(|o| o.deadline <= now) {
                    let o = outstanding.take().unwrap();
                    let failed = RequestFailed {
                        request: o.tag,
                        failure: Failure::TimedOut,
                        end_to_end: Some(o.end_to_end),
                    };
                    c.handle_request_failed(Ctx::new(&node, &mut cfg), now, failed);
                }
                let server: &mut CcServer<dyn Rating> = &mut ocs.server;
                if let Some(s) = ocs.session.as_mut() {
                    if s.poll_timeout().is_some_and(|t| t <= now) {
                        s.handle_timeout(Ctx::new(&ocs.node, server), now);
                    }
                }
            }
            Op::ServerRequest { abort } => {
                if let Some(s) = ocs.session.as_mut() {
                    if *abort {
                        s.abort();
                    } else {
                        s.reauthorize();
                    }
                }
            }
            Op::Serve => {
                if let Some(o) = outstanding.take() {
                    let req = checked(&o.bytes).expect("our CCR validates");
                    let mut out = [0u8; 1024];
                    let len = ocs.serve(now, &req, &mut out);
                    let am = checked(&out[..len]).expect("the server's CCA validates");
                    assert_eq!(am.hop_by_hop(), req.hop_by_hop());
                    assert_eq!(am.end_to_end(), req.end_to_end());
                    c.handle_answer(Ctx::new(&node, &mut cfg), now, o.tag, &am);
                }
            }
            Op::Cca {
                rc,
                number_delta,
                grant,
                validity,
                ccfh,
                failover,
            } => {
                let (tag, kind, ids) = outstanding
                    .as_ref()
                    .map(|o| (o.tag, o.kind, (hbh, o.end_to_end)))
                    .unwrap_or((last_number.unwrap_or(0), CcRequestType::Initial, (1, 1)));
                let n = tag.wrapping_add_signed(i32::from(*number_delta % 2));
                let bytes = cca(
                    ids,
                    n,
                    kind,
                    2000 + u32::from(*rc % 4) * 1000 + u32::from(*rc % 32),
                    grant.map(u32::from),
                    validity.map(u32::from),
                    *ccfh,
                    *failover,
                );
                let cx = Ctx::new(&node, &mut cfg);
                match checked(&bytes) {
                    Ok(m) => c.handle_answer(cx, now, tag, &m),
                    Err(e) => {
                        // It went out with this id (`RequestFailed::end_to_end`:
                        // "the End-to-End identifier it went out with").
                        let failed = RequestFailed {
                            request: tag,
                            failure: Failure::InvalidAnswer(e),
                            end_to_end: outstanding.as_ref().map(|o| o.end_to_end),
                        };
                        c.handle_request_failed(cx, now, failed);
                    }
                }
                outstanding = None;
            }
            Op::Garbage(g) => {
                if let Ok(m) = checked(g) {
                    let cx = Ctx::new(&node, &mut cfg);
                    if m.is_request() {
                        let mut out = [0u8; 4096];
                        if let Ok(len) = c.handle_request(cx, now, &m, false, &mut out) {
                            Message::parse_with(&out[..len], &CreditControl)
                                .expect("answer parses");
                        }
                    } else {
                        let tag = outstanding.take().map_or(0, |o| o.tag);
                        c.handle_answer(cx, now, tag, &m);
                    }
                }
            }
            Op::Failed(k) => {
                let (tag, e2e) = outstanding
                    .take()
                    .map_or((last_number.unwrap_or(0), None), |o| {
                        (o.tag, Some(o.end_to_end))
                    });
                let f = failure(*k);
                // A request no peer could take never went out: no id.
                let e2e = if f == Failure::Unreachable && k & 0x80 != 0 {
                    None
                } else {
                    e2e
                };
                let failed = RequestFailed {
                    request: tag,
                    failure: f,
                    end_to_end: e2e,
                };
                c.handle_request_failed(Ctx::new(&node, &mut cfg), now, failed);
            }
            Op::Rar | Op::Asr => {
                let code = if matches!(op, Op::Rar) {
                    CommandCode::RE_AUTH
                } else {
                    CommandCode::ABORT_SESSION
                };
                let bytes = server_request(code);
                let m = checked(&bytes).expect("crafted RAR/ASR validates");
                let mut out = [0u8; 1024];
                let len = c
                    .handle_request(Ctx::new(&node, &mut cfg), now, &m, false, &mut out)
                    .expect("RAA/ASA encodes");
                checked(&out[..len]).expect("RAA/ASA validates");
            }
        }
        // The real server's requests (ASR, RAR) go to the client at once.
        {
            let server: &mut CcServer<dyn Rating> = &mut ocs.server;
            if let Some(s) = ocs.session.as_mut() {
                let mut rbuf = [0u8; 1024];
                let mut guard = 0;
                while let Some(t) =
                    s.poll_transmit(Ctx::new(&ocs.node, &mut *server), now, &mut rbuf)
                {
                    guard += 1;
                    assert!(guard < 8, "server poll_transmit never ends");
                    let t = t.expect("ASR/RAR encodes");
                    ocs.hbh += 1;
                    write_ids(&mut rbuf[..t.len], &t, ocs.hbh);
                    let req = checked(&rbuf[..t.len]).expect("the server's ASR/RAR validates");
                    let mut abuf = [0u8; 1024];
                    let len = c
                        .handle_request(Ctx::new(&node, &mut cfg), now, &req, false, &mut abuf)
                        .expect("RAA/ASA encodes");
                    let ans = checked(&abuf[..len]).expect("RAA/ASA validates");
                    s.handle_answer(Ctx::new(&ocs.node, &mut *server), now, t.request, &ans);
                }
            }
        }
        ocs.settle();
        drain_prepaid(&mut c, &mut finished);
        let mut guard = 0;
        loop {
            let mut buf = [0u8; 2048];
            let Some(t) = c.poll_transmit(Ctx::new(&node, &mut cfg), now, &mut buf) else {
                break;
            };
            guard += 1;
            assert!(guard < 16, "poll_transmit never ends");
            let t = t.expect("CCR encodes");
            assert!(!finished, "a CCR after Finished");
            assert!(t.deadline > now, "a deadline in the past");
            hbh += 1;
            let e2e = write_ids(&mut buf[..t.len], &t, hbh);
            let m = checked(&buf[..t.len]).expect("CCR validates");
            let number = m.get(&dict::CC_REQUEST_NUMBER).unwrap().unwrap();
            let kind = m.get(&dict::CC_REQUEST_TYPE).unwrap().unwrap();
            assert_eq!(number, t.request, "the tag is the CC-Request-Number");
            match last_number {
                Some(l) if t.end_to_end.is_some() => {
                    assert_eq!(number, l, "a retransmission keeps its number")
                }
                Some(l) => assert!(number >= l, "request numbers went back: {l} then {number}"),
                None => assert_eq!(number, 0),
            }
            match (t.end_to_end, e2e_of.get(&number)) {
                (Some(x), Some(&first)) => {
                    assert_eq!(x, first, "a retransmission keeps its End-to-End id")
                }
                (Some(x), None) => panic!("retransmission {x:#x} of a request never sent"),
                (None, _) => {
                    e2e_of.insert(number, e2e);
                }
            }
            let new = last_number != Some(number);
            if new {
                assert!(termination_number.is_none(), "a new CCR after the CCR-T");
                if kind == CcRequestType::Termination {
                    terminations += 1;
                    termination_number = Some(number);
                }
                if let Ok(Some(u)) = m.get(&dict::USED_SERVICE_UNIT) {
                    usage_total += u64::from(u.get(&dict::CC_TIME).unwrap().unwrap_or(0));
                }
            }
            last_number = Some(number);
            outstanding = Some(Sent {
                tag: t.request,
                kind,
                bytes: buf[..t.len].to_vec(),
                end_to_end: e2e,
                deadline: t.deadline,
            });
        }
        drain_prepaid(&mut c, &mut finished);
        assert!(terminations <= 1, "more than one CCR-T");
        if let Some(a) = answered_at {
            let elapsed = now.0.saturating_sub(a.0) / 1000 + 1;
            assert!(
                usage_total <= elapsed,
                "usage {usage_total} s exceeds elapsed {elapsed} s"
            );
        } else {
            assert_eq!(usage_total, 0, "usage reported before the answer");
        }
        assert_eq!(u32::from(c.terminations()), terminations);
    }

    // Postpaid: random event order. One CCR-Event outstanding at a time;
    // every resend keeps the first End-to-End id and carries the T flag;
    // nothing after Finished.
    let mut pcfg = PostpaidConfig::new("example", "voice@fuzz").unwrap();
    pcfg.failure_handling = if inp.ddfh_continue {
        DirectDebitingFailureHandling::Continue
    } else {
        DirectDebitingFailureHandling::TerminateOrBuffer
    };
    let me = Identity {
        origin_host: "ocs.example",
        origin_realm: "example",
    };
    let mut p = PostpaidClient::new(session_id_from("p").unwrap(), parties);
    let mut now = Instant::ZERO;
    let mut answered: Option<Instant> = None;
    let mut sent = 0u32;
    let mut first_e2e: Option<u32> = None;
    let mut pending: Option<(Vec<u8>, u32)> = None;
    let mut finished = false;
    for &b in inp.postpaid_ops.iter().take(64) {
        match b % 8 {
            0 => {
                answered = answered.or(Some(now));
                p.call_answered(now)
            }
            1 => p.call_ended(now),
            2 => now = Instant(now.0 + u64::from(b) * 1000),
            3 => p.handle_timeout(Ctx::new(&node, &mut pcfg), now),
            4 => {
                if let Some((_, e2e)) = pending.take() {
                    let failed = RequestFailed {
                        request: 0,
                        failure: failure(b / 8),
                        end_to_end: Some(e2e),
                    };
                    p.handle_request_failed(Ctx::new(&node, &mut pcfg), now, failed);
                }
            }
            5 | 6 => {
                if let Some((bytes, e2e)) = pending.take() {
                    let req = checked(&bytes).expect("our CCR-Event validates");
                    let rc = match (b % 8, b / 8 % 2) {
                        (5, 0) => ResultCode::SUCCESS,
                        (5, _) => ResultCode::CREDIT_LIMIT_REACHED,
                        (_, 0) => ResultCode::TOO_BUSY,
                        _ => ResultCode::UNABLE_TO_DELIVER,
                    };
                    let mut out = [0u8; 1024];
                    // A whole CCA, or only the <answer-message> AVPs (for a
                    // 2001 that is an invalid answer).
                    let len = if b / 16 % 2 == 0 && !rc.is_protocol_error() {
                        let ccr = Ccr::decode(&req).expect("our CCR-Event decodes");
                        ccr.answer("ocs.example", "example", rc)
                            .encode_answer_to(&req, &mut out)
                            .expect("CCA encodes")
                            .len()
                    } else {
                        result_answer(&req, rc, &me, &mut out)
                            .finish()
                            .expect("answer encodes")
                            .len()
                    };
                    let cx = Ctx::new(&node, &mut pcfg);
                    match checked(&out[..len]) {
                        Ok(m) => p.handle_answer(cx, now, 0, &m),
                        Err(e) => {
                            let failed = RequestFailed {
                                request: 0,
                                failure: Failure::InvalidAnswer(e),
                                end_to_end: Some(e2e),
                            };
                            p.handle_request_failed(cx, now, failed);
                        }
                    }
                }
            }
            _ => {
                p.drop_event();
            }
        }
        while let Some(e) = p.poll_event() {
            assert!(!finished, "postpaid event {e:?} after Finished");
            finished |= e == PostpaidEvent::Finished;
        }
        let mut buf = [0u8; 2048];
        let mut guard = 0;
        while let Some(t) = p.poll_transmit(Ctx::new(&node, &mut pcfg), now, &mut buf) {
            guard += 1;
            assert!(guard < 4, "postpaid poll_transmit never ends");
            let t = t.expect("CCR-Event encodes");
            assert!(!finished, "a CCR-Event after Finished");
            assert!(pending.is_none(), "two CCR-Events outstanding");
            sent += 1;
            hbh += 1;
            let e2e = write_ids(&mut buf[..t.len], &t, hbh);
            match first_e2e {
                None => {
                    assert_eq!(t.end_to_end, None, "the first CCR-Event is new");
                    first_e2e = Some(e2e);
                }
                Some(f) => assert_eq!(t.end_to_end, Some(f), "a resend keeps its id"),
            }
            let m = checked(&buf[..t.len]).expect("CCR-Event validates");
            assert_eq!(m.get(&dict::CC_REQUEST_NUMBER).unwrap(), Some(0));
            if let Ok(Some(u)) = m.get(&dict::USED_SERVICE_UNIT) {
                let used = u64::from(u.get(&dict::CC_TIME).unwrap().unwrap_or(0));
                let elapsed = answered.map_or(0, |a| (now.0 - a.0) / 1000 + 1);
                assert!(used <= elapsed, "postpaid usage {used} s > {elapsed} s");
            }
            pending = Some((buf[..t.len].to_vec(), e2e));
        }
        while let Some(e) = p.poll_event() {
            assert!(!finished, "postpaid event {e:?} after Finished");
            finished |= e == PostpaidEvent::Finished;
        }
        assert_eq!(p.attempts(), sent);
    }
});
