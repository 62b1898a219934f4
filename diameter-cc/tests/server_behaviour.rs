//! The credit-control server's behaviour (SCENARIOS.md, "Server
//! behaviour"), through two endpoints joined by the simulator: a SIP
//! proxy's client endpoint and a charging server's endpoint. Every message
//! on the wire is parsed and validated against the dictionary and its AVPs
//! are compared with the scenario's table (requests and the answers that
//! echo them); every scenario's wire dissects cleanly in Wireshark.
//!
//! The plain call flows (a prepaid, a postpaid and an accounting call
//! charged end to end) are in `scenarios.rs`; these tests check what the
//! server says and does: grants, zero grants, 4012, 5030 for an unknown
//! subscriber, the precise error for a malformed CCR, re-authorisation
//! (RAR, then the client's CCR-U), abort (ASR, then the client's CCR-T),
//! and the ASR it sends on its own when a client keeps a session beyond
//! its grant without reporting.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use diameter_cc::client::prepaid::{
    DenyReason, OnExhaustion, PrepaidEvent, PrepaidState, TerminateReason,
};
use diameter_cc::client::Parties;
use diameter_cc::dict::{self, CcRequestType};
use diameter_cc::endpoint::{CallError, Event, Session, SessionEvent, SessionHandle, SessionKind};
use diameter_cc::msg::CcrRepr;
use diameter_cc::server::credit_control::{CcServerEvent, NoCredit};
use diameter_cc::session::{Machine, Route};
use diameter_cc::CreditControl;
use diameter_core::dict::base::{self, TerminationCause};
use diameter_core::dict::Dictionary;
use diameter_core::peer::Role;
use diameter_core::time::Instant;
use diameter_core::types::DataType;
use diameter_core::{ApplicationId, AvpSet, CommandCode, Message, MessageBuilder, ResultCode};
use diameter_sim::fixtures::{self, Client, Ledger, Server, CLIENT, CONTEXT, REALM, SERVER};
use diameter_sim::{Frame, Net, NodeId, Unhandled};

type C = Client<2, 16>;
type S = Server<2, 16>;

/// 2024-01-01T00:00:00Z (the fixtures' epoch) as a Diameter Time.
const NTP0: u32 = 3_913_056_000;

// ---------------------------------------------------------------------------
// The world: a client endpoint and a server endpoint, one connection
// ---------------------------------------------------------------------------

struct World {
    net: Net,
    client: NodeId,
    server: NodeId,
}

/// The fixtures' proxy (with `client` applied to its settings) connected to
/// the fixtures' charging server rating with `ledger` (with `server`
/// applied to its credit-control settings).
fn world_with(
    client: impl FnOnce(&mut diameter_cc::endpoint::EndpointConfig),
    ledger: Ledger,
    server: impl FnOnce(&mut diameter_cc::server::credit_control::CcServerConfig),
) -> World {
    let mut net = Net::new(1);
    let mut srv = fixtures::server::<2, 16>(ledger);
    server(&mut srv.credit_control_server_mut().unwrap().config);
    let server = net.add(srv);
    let mut config = fixtures::client_config();
    client(&mut config);
    let client = net.add(fixtures::client_with::<2, 16>(config));
    let peer = net
        .node::<C>(client)
        .add_peer(Role::Initiator, None)
        .unwrap();
    net.route(client, peer, server);
    let now = net.now();
    net.node::<C>(client).start(now);
    net.run_for(Duration::from_millis(100));
    assert!(net.node::<C>(client).peer(peer).unwrap().is_open());
    World {
        net,
        client,
        server,
    }
}

/// 1001 holds `seconds`.
fn ledger_1001(seconds: u64) -> Ledger {
    let mut l = Ledger::default();
    l.set("1001", seconds);
    l
}

fn world(ledger: Ledger) -> World {
    world_with(|_| {}, ledger, |_| {})
}

impl World {
    fn c(&mut self) -> &mut C {
        self.net.node::<C>(self.client)
    }
    fn s(&mut self) -> &mut S {
        self.net.node::<S>(self.server)
    }
    fn now(&self) -> Instant {
        self.net.now()
    }
    fn run(&mut self, d: Duration) {
        self.net.run_for(d);
    }
    fn balance(&mut self, subscriber: &str) -> u64 {
        let ledger = self.s().credit_control_server().unwrap().rating();
        ledger.balances[subscriber]
    }

    /// Open a prepaid call and send its CCR-I (INVITE).
    fn invite(&mut self, sid: &str, parties: Parties) -> SessionHandle {
        let now = self.now();
        let call = self.c().open_prepaid(now, sid, parties).unwrap();
        self.c().call_setup(now, call).unwrap();
        call
    }
    fn answered(&mut self, call: SessionHandle) {
        let now = self.now();
        self.c().call_answered(now, call).unwrap();
    }
    fn hangup(&mut self, call: SessionHandle) {
        let now = self.now();
        self.c()
            .call_ended(now, call, TerminationCause::Logout)
            .unwrap();
    }

    /// The prepaid events of the client's session `h`, and whether it closed.
    fn prepaid_events(&self, h: SessionHandle) -> (Vec<PrepaidEvent>, bool) {
        let mut closed = false;
        let ev = self
            .net
            .events_of(self.client)
            .filter_map(|e| match e {
                Event::Session { session, event } if *session == h => match event {
                    SessionEvent::Prepaid(p) => Some(*p),
                    SessionEvent::Closed => {
                        closed = true;
                        None
                    }
                    other => panic!("{other:?}"),
                },
                _ => None,
            })
            .collect();
        (ev, closed)
    }

    /// What the server reported: its sessions' credit-control events and
    /// its own (one-time events, refusals of new sessions), in order.
    fn server_events(&self) -> Vec<CcServerEvent> {
        self.net
            .events_of(self.server)
            .filter_map(|e| match e {
                Event::Session {
                    event: SessionEvent::CreditControlServer(e),
                    ..
                } => Some(*e),
                Event::CreditControlServer(e) => Some(*e),
                _ => None,
            })
            .collect()
    }

    /// The server's live session with this Session-Id.
    fn server_session(&mut self, sid: &str) -> SessionHandle {
        let h = self.s().find_session(sid).expect("server session");
        match self.s().session(h).map(|s| s.kind()) {
            Some(SessionKind::CreditControlServer) => h,
            other => panic!("{other:?}"),
        }
    }

    /// The application messages (not CER/CEA, DWR/DWA, DPR/DPA) on the
    /// wire, parsed and validated as every receiver does.
    fn app_frames(&self) -> Vec<&Frame> {
        self.net
            .frames
            .iter()
            .filter(|f| {
                let m = check(&f.bytes);
                !matches!(m.command_code().0, 257 | 280 | 282)
            })
            .collect()
    }

    /// Every request of `command` sent by `from`, rendered, with the answer
    /// to it (same Hop-by-Hop and End-to-End ids), rendered.
    fn exchanges(&self, from: NodeId, command: u32) -> Vec<(Vec<String>, Vec<String>)> {
        let frames = self.app_frames();
        frames
            .iter()
            .filter(|f| f.from == from)
            .map(|f| check(&f.bytes))
            .filter(|m| m.is_request() && m.command_code().0 == command)
            .map(|req| {
                let ans = frames
                    .iter()
                    .map(|f| check(&f.bytes))
                    .find(|a| {
                        !a.is_request()
                            && a.command_code() == req.command_code()
                            && a.hop_by_hop() == req.hop_by_hop()
                    })
                    .unwrap_or_else(|| panic!("no answer to {:?}", render(req.avps())));
                assert_eq!(ans.end_to_end(), req.end_to_end());
                (render(req.avps()), render(ans.avps()))
            })
            .collect()
    }

    /// The client's CCRs and the CCAs to them.
    fn ccrs(&self) -> Vec<(Vec<String>, Vec<String>)> {
        self.exchanges(self.client, 272)
    }

    /// Print the message ladder (for `--nocapture`).
    fn ladder(&self) {
        for f in self.app_frames() {
            let m = check(&f.bytes);
            let t = m.get(&dict::CC_REQUEST_TYPE).ok().flatten().map(i32::from);
            let rc = m.get(&base::RESULT_CODE).ok().flatten();
            println!(
                "{:>7} ms  {} -> {}  {}{} {t:?} {rc:?}",
                f.sent.0,
                f.from,
                f.to,
                m.command_code().0,
                if m.is_request() { "R" } else { "A" },
            );
        }
    }

    /// Every message of the run through Wireshark.
    fn tshark(&self, name: &str) {
        self.tshark_with(name, &[]);
    }

    /// The same with options of `tshark-decode.sh` (`--lenient`).
    fn tshark_with(&self, name: &str, options: &[&str]) {
        let all: Vec<Vec<u8>> = self.net.frames.iter().map(|f| f.bytes.clone()).collect();
        tshark(name, &all, options);
    }
}

/// Parse and validate, as every receiver does.
fn check(bytes: &[u8]) -> Message<'_> {
    let m = Message::parse_with(bytes, &CreditControl).expect("parses");
    m.validate(&CreditControl).expect("validates");
    m
}

// ---------------------------------------------------------------------------
// The scenario tables
// ---------------------------------------------------------------------------

/// One AVP rendered as `name=value`, grouped ones as `name{...}`.
fn render(set: AvpSet<'_>) -> Vec<String> {
    set.iter()
        .map(|a| {
            let a = a.unwrap();
            let info = CreditControl
                .avp(a.code(), a.vendor())
                .unwrap_or_else(|| panic!("unknown AVP {}", a.code()));
            assert!(a.flags().is_mandatory(), "{} without M", info.name);
            assert_eq!(a.flags().is_vendor(), a.vendor() != 0);
            let v = match info.data_type {
                DataType::Grouped => format!("{{{}}}", render(a.group_set()).join(",")),
                DataType::Unsigned32 | DataType::Time => {
                    u32::from_be_bytes(a.data().try_into().unwrap()).to_string()
                }
                DataType::Enumerated | DataType::Integer32 => {
                    i32::from_be_bytes(a.data().try_into().unwrap()).to_string()
                }
                _ => String::from_utf8(a.data().to_vec()).unwrap(),
            };
            format!("{}={v}", info.name)
        })
        .collect()
}

fn tail() -> Vec<String> {
    vec!["Subscription-Id={Subscription-Id-Type=0,Subscription-Id-Data=1001}".into()]
}

/// SCENARIOS.md's IMS-Information plus Role-Of-Node and Node-Functionality,
/// which TS 32.299 requires (see `Parties`); the fixtures' parties carry
/// SIP URIs as the 3GPP addresses.
fn ims() -> String {
    format!(
        "Service-Information={{IMS-Information={{Role-Of-Node=0,Node-Functionality=6,\
         Calling-Party-Address=sip:1001@{REALM},Called-Party-Address=sip:1002@{REALM}}}}}"
    )
}

/// The expected CCR for SCENARIOS.md's common fields: `host` the
/// Destination-Host, `ts` the Event-Timestamp in seconds from the epoch.
#[allow(clippy::too_many_arguments)]
fn ccr(
    sid: &str,
    host: Option<&str>,
    t: u32,
    n: u32,
    ts: u32,
    cause: Option<u32>,
    rsu: Option<u32>,
    usu: Option<u32>,
) -> Vec<String> {
    let mut v = vec![
        format!("Session-Id={sid}"),
        format!("Origin-Host={CLIENT}"),
        format!("Origin-Realm={REALM}"),
        format!("Destination-Realm={REALM}"),
        "Auth-Application-Id=4".into(),
        format!("Service-Context-Id={CONTEXT}"),
        format!("CC-Request-Type={t}"),
        format!("CC-Request-Number={n}"),
    ];
    if let Some(h) = host {
        v.push(format!("Destination-Host={h}"));
    }
    v.push("User-Name=1001".into());
    v.push(format!("Event-Timestamp={}", NTP0 + ts));
    v.extend(tail());
    if let Some(c) = cause {
        v.push(format!("Termination-Cause={c}"));
    }
    if let Some(r) = rsu {
        v.push(format!("Requested-Service-Unit={{CC-Time={r}}}"));
    }
    if let Some(u) = usu {
        v.push(format!("Used-Service-Unit={{CC-Time={u}}}"));
    }
    v.push(ims());
    v
}

/// A prepaid CCR (Destination-Host the server, as the fixtures' proxy sets).
fn prepaid_ccr(
    sid: &str,
    t: u32,
    n: u32,
    ts: u32,
    cause: Option<u32>,
    rsu: Option<u32>,
    usu: Option<u32>,
) -> Vec<String> {
    ccr(sid, Some(SERVER), t, n, ts, cause, rsu, usu)
}

/// The expected CCA: the request's Session-Id, CC-Request-Type and
/// CC-Request-Number echoed (RFC 8506 §3.2), the server's identity.
fn cca(sid: &str, rc: u32, t: u32, n: u32, gsu: Option<u32>) -> Vec<String> {
    let mut v = vec![
        format!("Session-Id={sid}"),
        format!("Result-Code={rc}"),
        format!("Origin-Host={SERVER}"),
        format!("Origin-Realm={REALM}"),
        "Auth-Application-Id=4".into(),
        format!("CC-Request-Type={t}"),
        format!("CC-Request-Number={n}"),
    ];
    if let Some(g) = gsu {
        v.push(format!("Granted-Service-Unit={{CC-Time={g}}}"));
    }
    v
}

fn tshark(name: &str, msgs: &[Vec<u8>], options: &[&str]) {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers/tshark-decode.sh");
    assert!(
        script.exists(),
        "missing {} (shared/ must sit beside the checkout)",
        script.display()
    );
    assert!(
        Command::new("tshark").arg("-v").output().is_ok(),
        "tshark is missing: run `bash ../shared/peers/install.sh`"
    );
    let dir = std::env::temp_dir().join(format!("dcc-server-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        let f = dir.join(format!("{i:02}.hex"));
        std::fs::write(&f, m.iter().map(|b| format!("{b:02x}")).collect::<String>()).unwrap();
        files.push(f);
    }
    let out = Command::new("bash")
        .arg(&script)
        .args(options)
        .args(&files)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{name}: tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------
// Grants
// ---------------------------------------------------------------------------

/// SCENARIOS prepaid, 67 s with enough credit: every CCR carries the
/// table's AVPs, and every CCA echoes the request's Session-Id,
/// CC-Request-Type and CC-Request-Number (RFC 8506 §3.2) with the grant of
/// the CCR-I only; the server reports the grant and the usage.
#[test]
fn prepaid_67_seconds_answers_echo_the_request() {
    let mut w = world(fixtures::ledger());
    let sid = "sip-call-0001@client";
    // INVITE at t=0: CCR-I, blocking
    let call = w.invite(sid, fixtures::parties());
    w.run(Duration::from_secs(3));
    // answered at t=3 s: CCR-U with RSU 0
    w.answered(call);
    let answered = w.now();
    w.run(Duration::from_secs(1));
    // the grant timer is armed at answer + 3600 s
    match w.c().session(call) {
        Some(Session::Prepaid(m)) => {
            assert_eq!(m.poll_timeout(), Some(answered + Duration::from_secs(3600)));
            assert_eq!(m.state(), PrepaidState::Open);
        }
        other => panic!("{other:?}"),
    }
    w.run(Duration::from_secs(66));
    // hangup 67 s after answer: CCR-T with cause 1 and USU 67
    w.hangup(call);
    w.run(Duration::from_secs(1));
    let x = w.ccrs();
    assert_eq!(x.len(), 3);
    assert_eq!(x[0].0, prepaid_ccr(sid, 1, 0, 0, None, Some(10_800), None));
    assert_eq!(x[0].1, cca(sid, 2001, 1, 0, Some(3600)));
    assert_eq!(x[1].0, prepaid_ccr(sid, 2, 1, 3, None, Some(0), None));
    assert_eq!(x[1].1, cca(sid, 2001, 2, 1, None));
    assert_eq!(x[2].0, prepaid_ccr(sid, 3, 2, 70, Some(1), None, Some(67)));
    assert_eq!(x[2].1, cca(sid, 2001, 3, 2, None));
    assert_eq!(
        w.prepaid_events(call),
        (
            vec![
                PrepaidEvent::Allowed {
                    seconds: Some(3600)
                },
                PrepaidEvent::Finished
            ],
            true
        )
    );
    assert_eq!(
        w.server_events(),
        [
            CcServerEvent::Started { granted: 3600 },
            CcServerEvent::Ended { used: 67 }
        ]
    );
    assert_eq!(w.balance("1001"), 3600 - 67);
    w.ladder();
    w.tshark("prepaid-67");
}

/// Credit for 30 s: the grant is 30 s, the proxy's dialog timer ends the
/// call 30 s after answer with Termination-Cause DIAMETER_AUTH_EXPIRED (6)
/// and USU 30, and the balance is used up exactly.
#[test]
fn prepaid_credit_for_30_seconds_times_out() {
    let mut w = world(ledger_1001(30));
    let sid = "sip-call-0002@client";
    let call = w.invite(sid, fixtures::parties());
    w.run(Duration::from_secs(2));
    w.answered(call);
    // the dialog times out 30 s after answer
    w.run(Duration::from_secs(31));
    let x = w.ccrs();
    assert_eq!(x[0].1, cca(sid, 2001, 1, 0, Some(30)));
    assert_eq!(x.len(), 3, "CCR-I, CCR-U, CCR-T");
    assert_eq!(x[2].0, prepaid_ccr(sid, 3, 2, 32, Some(6), None, Some(30)));
    assert_eq!(x[2].1, cca(sid, 2001, 3, 2, None));
    assert_eq!(
        w.prepaid_events(call),
        (
            vec![
                PrepaidEvent::Allowed { seconds: Some(30) },
                PrepaidEvent::TerminateCall(TerminateReason::CreditExhausted),
                PrepaidEvent::Finished
            ],
            true
        )
    );
    // the CCR-T left 30 s after the answer, when the grant ran out
    let frames = w.app_frames();
    let ccr_t = frames
        .iter()
        .find(|f| {
            check(&f.bytes).get(&dict::CC_REQUEST_TYPE).unwrap() == Some(CcRequestType::Termination)
        })
        .unwrap();
    let answer = frames
        .iter()
        .find(|f| {
            check(&f.bytes).get(&dict::CC_REQUEST_NUMBER).unwrap() == Some(1) && f.from == w.client
        })
        .unwrap();
    assert_eq!(ccr_t.sent.0 - answer.sent.0, 30_000);
    assert_eq!(w.balance("1001"), 0);
    w.tshark("prepaid-30");
}

/// No credit, CGRateS style (RFC 8506 leaves it to the server): 2001 with
/// Granted-Service-Unit{CC-Time 0}; the call is denied and nothing more is
/// sent, even on hangup.
#[test]
fn prepaid_denied_by_a_zero_grant() {
    let mut w = world_with(
        |_| {},
        ledger_1001(0),
        |c| c.no_credit = NoCredit::ZeroGrant,
    );
    let sid = "sip-call-0003@client";
    let call = w.invite(sid, fixtures::parties());
    w.run(Duration::from_secs(1));
    let x = w.ccrs();
    assert_eq!(x.len(), 1);
    assert_eq!(x[0].1, cca(sid, 2001, 1, 0, Some(0)));
    assert_eq!(
        w.prepaid_events(call),
        (
            vec![
                PrepaidEvent::Denied(DenyReason::NoCredit),
                PrepaidEvent::Finished
            ],
            true
        )
    );
    // the session is over: a hangup has nothing to send
    let frames = w.net.frames.len();
    let now = w.now();
    assert_eq!(
        w.c().call_ended(now, call, TerminationCause::Logout),
        Err(CallError::UnknownSession)
    );
    w.run(Duration::from_secs(1));
    assert_eq!(w.net.frames.len(), frames);
    // the server opened no session for a zero grant
    assert_eq!(w.s().session_count(), 0);
    assert_eq!(w.c().session_count(), 0);
    w.tshark("prepaid-zero-grant");
}

/// No credit: 4012 DIAMETER_CREDIT_LIMIT_REACHED (RFC 8506 §9.1), the
/// default; and an unknown subscriber: 5030 DIAMETER_USER_UNKNOWN (RFC
/// 8506 §9.1). Both answers echo the CCR-I; both calls are denied.
#[test]
fn prepaid_denied_with_4012_and_5030() {
    let mut w = world(ledger_1001(0));
    let call = w.invite("s4", fixtures::parties());
    w.run(Duration::from_secs(1));
    // unknown subscriber
    let unknown = w.invite("s5", fixtures::parties_of("9999", "1002"));
    w.run(Duration::from_secs(1));
    let x = w.ccrs();
    assert_eq!(x.len(), 2);
    assert_eq!(x[0].1, cca("s4", 4012, 1, 0, None));
    assert!(x[1].0.contains(
        &"Subscription-Id={Subscription-Id-Type=0,Subscription-Id-Data=9999}".to_string()
    ));
    assert_eq!(x[1].1, cca("s5", 5030, 1, 0, None));
    assert_eq!(
        w.prepaid_events(call),
        (
            vec![
                PrepaidEvent::Denied(DenyReason::Result(ResultCode::CREDIT_LIMIT_REACHED)),
                PrepaidEvent::Finished
            ],
            true
        )
    );
    assert_eq!(
        w.prepaid_events(unknown).0[0],
        PrepaidEvent::Denied(DenyReason::Result(ResultCode::USER_UNKNOWN))
    );
    assert_eq!(
        w.server_events(),
        [
            CcServerEvent::Refused(ResultCode::CREDIT_LIMIT_REACHED),
            CcServerEvent::Refused(ResultCode::USER_UNKNOWN)
        ]
    );
    assert_eq!(w.s().session_count(), 0);
    w.tshark("prepaid-denied");
}

/// SCENARIOS postpaid: one CCR-Event at hangup with type 4 / number 0,
/// cause 1, Event-Timestamp = answer time, RSU 0, USU 67, plus
/// Requested-Action DIRECT_DEBITING, which RFC 8506 §8.41 requires in
/// every CCR-Event (SCENARIOS.md omits it); the CCA echoes it and the
/// server charges it as a one-time event (RFC 8506 §6).
#[test]
fn postpaid_event_carries_the_scenario_avps() {
    let mut w = world(fixtures::ledger());
    let sid = "sip-call-0006@client";
    let now = w.now();
    let call = w.c().open_postpaid(now, sid, fixtures::parties()).unwrap();
    // nothing at INVITE or answer
    w.c().call_setup(now, call).unwrap();
    w.run(Duration::from_secs(4));
    w.answered(call);
    w.run(Duration::from_secs(67));
    assert!(w.app_frames().is_empty());
    w.hangup(call);
    w.run(Duration::from_secs(1));
    let x = w.ccrs();
    assert_eq!(x.len(), 1);
    // (the fixtures' postpaid settings name no Destination-Host)
    let mut want = ccr(sid, None, 4, 0, 4, Some(1), Some(0), Some(67));
    let rsu = want
        .iter()
        .position(|a| a.starts_with("Requested-Service-Unit"))
        .unwrap();
    want.insert(rsu + 1, "Requested-Action=0".into());
    assert_eq!(x[0].0, want);
    assert_eq!(x[0].1, cca(sid, 2001, 4, 0, None));
    assert_eq!(
        w.server_events(),
        [CcServerEvent::EventCharged { used: 67 }]
    );
    assert_eq!(w.balance("1001"), 3600 - 67);
    // a one-time event keeps no session on the server
    assert_eq!(w.s().session_count(), 0);
    w.tshark("postpaid");
}

// ---------------------------------------------------------------------------
// Re-authorisation and refusal of an update
// ---------------------------------------------------------------------------

/// A proxy that re-authorises when its grant is used up (RFC 8506 §5.2):
/// the CCR-U reports USU 60 and asks for 60 more; only 40 are left, so the
/// server grants 40; at their end it refuses with 4012 and ends the
/// session (RFC 8506 Table 6), the proxy tears the call down and sends its
/// CCR-T with DIAMETER_AUTH_EXPIRED.
#[test]
fn reauthorization_when_the_grant_is_used_up() {
    let mut w = world_with(
        |c| {
            let p = c.prepaid.as_mut().unwrap();
            p.on_exhaustion = OnExhaustion::Reauthorize;
            p.requested_time = 60;
        },
        ledger_1001(100),
        |_| {},
    );
    let sid = "r1";
    let call = w.invite(sid, fixtures::parties());
    w.run(Duration::from_millis(10));
    w.answered(call);
    w.run(Duration::from_secs(59));
    assert_eq!(
        w.prepaid_events(call).0,
        [PrepaidEvent::Allowed { seconds: Some(60) }]
    );
    // at 60 s the grant is used up: CCR-U with USU 60, RSU 60; only 40 left
    w.run(Duration::from_secs(2));
    let x = w.ccrs();
    assert_eq!(x.len(), 3);
    assert!(x[2]
        .0
        .contains(&"Used-Service-Unit={CC-Time=60}".to_string()));
    assert!(x[2]
        .0
        .contains(&"Requested-Service-Unit={CC-Time=60}".to_string()));
    assert_eq!(x[2].1, cca(sid, 2001, 2, 2, Some(40)));
    assert_eq!(
        w.prepaid_events(call).0[1],
        PrepaidEvent::Regranted { seconds: 40 }
    );
    // at 100 s: re-authorisation finds no credit: 4012 → terminate
    w.run(Duration::from_secs(40));
    let x = w.ccrs();
    assert_eq!(x.len(), 5, "CCR-U refused, then CCR-T");
    assert!(x[3]
        .0
        .contains(&"Used-Service-Unit={CC-Time=40}".to_string()));
    assert!(x[3].1.contains(&"Result-Code=4012".to_string()));
    assert!(x[4].0.contains(&"CC-Request-Type=3".to_string()));
    assert!(x[4].0.contains(&"Termination-Cause=6".to_string()));
    // (the server ended the session with the refusal, RFC 8506 Table 6:
    // its answer to this CCR-T echoes it whatever its Result-Code)
    assert!(x[4].1.contains(&"CC-Request-Type=3".to_string()));
    assert!(x[4].1.contains(&"CC-Request-Number=4".to_string()));
    let (ev, closed) = w.prepaid_events(call);
    assert_eq!(
        &ev[2..],
        [
            PrepaidEvent::TerminateCall(TerminateReason::Refused(ResultCode::CREDIT_LIMIT_REACHED)),
            PrepaidEvent::Finished
        ]
    );
    assert!(closed);
    let terminations = x
        .iter()
        .filter(|(r, _)| r.contains(&"CC-Request-Type=3".to_string()))
        .count();
    assert_eq!(terminations, 1);
    assert_eq!(w.balance("1001"), 0);
    assert!(w
        .server_events()
        .contains(&CcServerEvent::Refused(ResultCode::CREDIT_LIMIT_REACHED)));
    w.ladder();
    w.tshark("reauthorization");
}

// ---------------------------------------------------------------------------
// Server-initiated requests
// ---------------------------------------------------------------------------

/// RFC 8506 §5.5: the server's Re-Auth-Request reaches the client (its
/// Destination-Host is the client's Origin-Host), which answers 2002
/// DIAMETER_LIMITED_SUCCESS and sends a CCR-U with the usage so far; the
/// server's Abort-Session-Request is answered 2001, the call is torn down
/// and its CCR-T says DIAMETER_ADMINISTRATIVE (4).
#[test]
fn server_reauthorizes_then_aborts_a_session() {
    let mut w = world(fixtures::ledger());
    let sid = "a1";
    let call = w.invite(sid, fixtures::parties());
    w.run(Duration::from_secs(1));
    w.answered(call);
    w.run(Duration::from_secs(4));
    let h = w.server_session(sid);
    // RAR → RAA 2002, then a CCR-U
    let now = w.now();
    assert!(w.s().reauthorize(now, h).unwrap());
    w.run(Duration::from_secs(1));
    let rar = w.exchanges(w.server, 258);
    assert_eq!(rar.len(), 1);
    assert_eq!(
        rar[0].0,
        [
            format!("Session-Id={sid}"),
            format!("Origin-Host={SERVER}"),
            format!("Origin-Realm={REALM}"),
            format!("Destination-Realm={REALM}"),
            format!("Destination-Host={CLIENT}"),
            "Auth-Application-Id=4".into(),
            "Re-Auth-Request-Type=0".into(),
        ]
    );
    assert_eq!(
        rar[0].1,
        [
            format!("Session-Id={sid}"),
            "Result-Code=2002".into(),
            format!("Origin-Host={CLIENT}"),
            format!("Origin-Realm={REALM}"),
        ]
    );
    let x = w.ccrs();
    assert_eq!(x.len(), 3);
    assert!(x[2].0.contains(&"CC-Request-Type=2".to_string()));
    assert!(x[2]
        .0
        .contains(&"Used-Service-Unit={CC-Time=4}".to_string()));
    assert_eq!(x[2].1, cca(sid, 2001, 2, 2, Some(3600 - 4)));
    // ASR → ASA 2001, terminate, CCR-T with ADMINISTRATIVE
    w.run(Duration::from_secs(3));
    let now = w.now();
    assert!(w.s().abort_session(now, h).unwrap());
    w.run(Duration::from_secs(1));
    let asr = w.exchanges(w.server, 274);
    assert_eq!(asr.len(), 1);
    assert_eq!(
        asr[0].0,
        [
            format!("Session-Id={sid}"),
            format!("Origin-Host={SERVER}"),
            format!("Origin-Realm={REALM}"),
            format!("Destination-Realm={REALM}"),
            format!("Destination-Host={CLIENT}"),
            "Auth-Application-Id=4".into(),
        ]
    );
    assert_eq!(
        asr[0].1,
        [
            format!("Session-Id={sid}"),
            "Result-Code=2001".into(),
            format!("Origin-Host={CLIENT}"),
            format!("Origin-Realm={REALM}"),
        ]
    );
    let (ev, closed) = w.prepaid_events(call);
    assert!(ev.contains(&PrepaidEvent::TerminateCall(TerminateReason::Aborted)));
    assert_eq!(ev.last(), Some(&PrepaidEvent::Finished));
    assert!(closed);
    let x = w.ccrs();
    assert_eq!(x.len(), 4);
    assert!(x[3].0.contains(&"Termination-Cause=4".to_string()));
    assert!(x[3]
        .0
        .contains(&"Used-Service-Unit={CC-Time=4}".to_string()));
    assert_eq!(x[3].1, cca(sid, 2001, 3, 3, None));
    let terminations = x
        .iter()
        .filter(|(r, _)| r.contains(&"CC-Request-Type=3".to_string()))
        .count();
    assert_eq!(terminations, 1);
    assert_eq!(w.balance("1001"), 3600 - 8);
    w.ladder();
    w.tshark("server-requests");
}

/// Issue 9.13: the server's exhaustion supervision must not count the
/// grant from the CCR-I while the client counts it from the answer (RFC
/// 8506 §5.2). A call that rang 20 s with a 30 s grant and no CCR-U at
/// answer used to be aborted 20 s into the call; now the client's own
/// grant timer ends it after its 30 s, with CCR-T cause 6, and no ASR.
/// (The server's ASR for a client that never reports is tested in
/// `endpoint_server.rs`.)
#[test]
fn a_call_that_rang_is_not_aborted_before_its_grant_is_used() {
    let mut w = world_with(
        |c| c.prepaid.as_mut().unwrap().update_on_answer = false,
        ledger_1001(30),
        |_| {},
    );
    let sid = "x1";
    let call = w.invite(sid, fixtures::parties());
    w.run(Duration::from_secs(20));
    w.answered(call);
    w.run(Duration::from_secs(45));
    assert!(
        !w.server_events().contains(&CcServerEvent::Exhausted),
        "{:?}",
        w.server_events()
    );
    let frames = w.app_frames();
    assert!(!frames
        .iter()
        .any(|f| check(&f.bytes).command_code() == CommandCode::ABORT_SESSION));
    let (ev, closed) = w.prepaid_events(call);
    assert_eq!(
        ev,
        [
            PrepaidEvent::Allowed { seconds: Some(30) },
            PrepaidEvent::TerminateCall(TerminateReason::CreditExhausted),
            PrepaidEvent::Finished
        ]
    );
    assert!(closed);
    let x = w.ccrs();
    assert_eq!(x.len(), 2, "CCR-I and CCR-T: no CCR-U at answer");
    // the whole grant was used and is charged: 30 s from the answer
    assert_eq!(x[1].0, prepaid_ccr(sid, 3, 1, 50, Some(6), None, Some(30)));
    assert_eq!(w.balance("1001"), 0);
    w.tshark("exhaustion");
}

// ---------------------------------------------------------------------------
// A malformed CCR
// ---------------------------------------------------------------------------

/// A CCR without Service-Context-Id is answered with the precise error:
/// 5005 DIAMETER_MISSING_AVP with a Failed-AVP naming AVP 461 (RFC 6733
/// §7.5), and no session is opened.
#[test]
fn malformed_ccr_gets_the_precise_error() {
    let mut w = world(fixtures::ledger());
    // a CCR without Service-Context-Id: 5005 naming AVP 461
    let mut buf = [0u8; 1024];
    let mut b = MessageBuilder::new(&mut buf, CcrRepr::header(0, 0));
    b.put(&base::SESSION_ID, "bad")
        .put(&base::ORIGIN_HOST, CLIENT)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::DESTINATION_REALM, REALM)
        .put(&base::AUTH_APPLICATION_ID, 4)
        .put(&dict::CC_REQUEST_TYPE, CcRequestType::Initial)
        .put(&dict::CC_REQUEST_NUMBER, 0);
    let mut req = b.finish().unwrap().to_vec();
    let route = Route {
        application: ApplicationId::CREDIT_CONTROL,
        realm: REALM,
        host: None,
        host_only: false,
    };
    let now = w.now();
    let peer = w
        .c()
        .send_request(now, &route, &mut req, 7, now + Duration::from_secs(10))
        .unwrap();
    let client = w.client;
    w.net.write(client, peer, &req);
    w.run(Duration::from_secs(1));
    // the answer reaches the application, with the request's token
    let answers: Vec<_> = w
        .net
        .unhandled
        .iter()
        .filter_map(|(_, node, _, u)| match u {
            Unhandled::Answer { token, bytes } if *node == client => Some((*token, bytes.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(answers.len(), 1);
    let (token, ans) = answers[0].clone();
    assert_eq!(token, 7);
    let a = check(&ans);
    assert_eq!(a.command_code(), CommandCode::CREDIT_CONTROL);
    assert_eq!(a.get(&base::RESULT_CODE).unwrap(), Some(5005));
    assert_eq!(a.get(&base::ORIGIN_HOST).unwrap(), Some(SERVER));
    let f = a.get(&base::FAILED_AVP).unwrap().unwrap();
    assert_eq!(f.iter().next().unwrap().unwrap().code(), 461);
    assert_eq!(w.s().session_count(), 0);
    // the connection stays up
    assert!(w.c().peer(peer).unwrap().is_open());
    // The Failed-AVP names the missing AVP with "a zero-filled payload of
    // the minimum required length" (RFC 6733 §7.5): 0 octets for a
    // UTF8String, which Wireshark notes as "Data is empty" (a warning, not
    // an error).
    w.tshark_with("malformed", &["--lenient"]);
}
