//! The call-charging scenarios of `SCENARIOS.md`, played between the client
//! machines and the credit-control server machine with a fake clock. Every
//! message is encoded to bytes, parsed and validated against the
//! dictionary, and its AVPs are compared with the scenario's table; at the
//! end every message kind dissects cleanly in Wireshark.

use std::path::PathBuf;
use std::process::Command;

use diameter_cc::client::postpaid::{PostpaidClient, PostpaidConfig, PostpaidEvent};
use diameter_cc::client::prepaid::{
    DenyReason, OnExhaustion, Parties, PrepaidClient, PrepaidConfig, PrepaidEvent, PrepaidState,
    TerminateReason, Transmit,
};
use diameter_cc::dict::{self, tgpp};
use diameter_cc::server::credit_control::{
    Balances, CcServer, CcServerConfig, CcServerEvent, NoCredit,
};
use diameter_cc::session::{session_id_from, WallClock};
use diameter_cc::CreditControl;
use diameter_core::dict::base::{self, TerminationCause};
use diameter_core::dict::Dictionary;
use diameter_core::time::Instant;
use diameter_core::types::DataType;
use diameter_core::{AvpSet, Message, ResultCode};

const CLIENT: &str = "client.diameter.test";
const SERVER: &str = "server.diameter.test";
const REALM: &str = "diameter.test";
const CONTEXT: &str = "voice@OsipsDiamCCR";
/// 2024-01-01T00:00:00Z at Instant::ZERO.
const CLOCK: WallClock = WallClock {
    unix_at_zero: 1_704_067_200,
};
const NTP0: u32 = 3_913_056_000;

const PARTIES: Parties<'static> = Parties {
    user_name: "1001",
    subscription_id: "1001",
    calling_party: "1001",
    called_party: "1002",
    role_of_node: tgpp::RoleOfNode::Originating,
    node_functionality: tgpp::NodeFunctionality::As,
};

fn prepaid_config() -> PrepaidConfig<'static> {
    let mut c = PrepaidConfig::new(CLIENT, REALM, REALM, CONTEXT);
    c.destination_host = Some(SERVER);
    c.clock = CLOCK;
    c
}

fn server_config(no_credit: NoCredit) -> CcServerConfig<'static> {
    let mut c = CcServerConfig::new(SERVER, REALM);
    c.no_credit = no_credit;
    c
}

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
/// which TS 32.299 requires (see `Parties`).
fn ims() -> String {
    "Service-Information={IMS-Information={Role-Of-Node=0,Node-Functionality=6,\
     Calling-Party-Address=1001,Called-Party-Address=1002}}"
        .into()
}

/// The expected CCR for SCENARIOS.md's common fields.
fn ccr(
    sid: &str,
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
        format!("Destination-Host={SERVER}"),
        "User-Name=1001".into(),
        format!("Event-Timestamp={}", NTP0 + ts),
    ];
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

/// Plays the client against the server and records every message.
struct Net {
    wire: Vec<Vec<u8>>,
    ladder: Vec<String>,
    hbh: u32,
}

impl Net {
    fn new() -> Self {
        Net {
            wire: Vec::new(),
            ladder: Vec::new(),
            hbh: 0x100,
        }
    }

    /// Parse and validate, as every receiver does.
    fn check<'a>(&self, bytes: &'a [u8]) -> Message<'a> {
        let m = Message::parse_with(bytes, &CreditControl).expect("parses");
        m.validate(&CreditControl).expect("validates");
        m
    }

    /// Move every CCR the client wants to send to the server and the CCA
    /// back; returns the (CCR, CCA) AVP renderings.
    fn exchange<R: diameter_cc::server::credit_control::Rating, const N: usize>(
        &mut self,
        now: Instant,
        client: &mut PrepaidClient<'_, '_>,
        server: &mut CcServer<'_, R, N>,
    ) -> Vec<(Vec<String>, Vec<String>)> {
        let mut out = Vec::new();
        for _ in 0..8 {
            let mut buf = [0u8; 2048];
            let Some(t) = client.poll_transmit(now, &mut buf) else {
                break;
            };
            let len = match t.unwrap() {
                Transmit::Request { len, .. } => len,
                Transmit::Answer { len } => len,
            };
            // the peer machine would assign the identifiers
            self.hbh += 1;
            buf[12..16].copy_from_slice(&self.hbh.to_be_bytes());
            buf[16..20].copy_from_slice(&(self.hbh ^ 0xe2e0_0000).to_be_bytes());
            let req = buf[..len].to_vec();
            let m = self.check(&req);
            let mut abuf = [0u8; 2048];
            let ans = server.handle_request(now, &m, &mut abuf).unwrap().to_vec();
            let a = self.check(&ans);
            assert_eq!(
                (a.hop_by_hop(), a.end_to_end()),
                (m.hop_by_hop(), m.end_to_end())
            );
            self.ladder.push(format!(
                "{:>6} ms  client -> server  CCR {}/{}",
                now.0,
                m.get(&dict::CC_REQUEST_TYPE)
                    .unwrap()
                    .map(i32::from)
                    .unwrap(),
                m.get(&dict::CC_REQUEST_NUMBER).unwrap().unwrap()
            ));
            self.ladder.push(format!(
                "{:>6} ms  server -> client  CCA {}",
                now.0,
                a.get(&base::RESULT_CODE).unwrap().unwrap()
            ));
            out.push((render(m.avps()), render(a.avps())));
            client.handle_answer(now, &a);
            self.wire.push(req);
            self.wire.push(ans);
        }
        out
    }
}

fn events(c: &mut PrepaidClient<'_, '_>) -> Vec<PrepaidEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn tshark(name: &str, msgs: &[Vec<u8>]) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let script = root.join("../shared/peers/tshark-decode.sh");
    assert!(
        script.exists(),
        "missing {} (shared/ must sit beside the checkout)",
        script.display()
    );
    assert!(
        Command::new("tshark").arg("-v").output().is_ok(),
        "tshark is missing: run `bash ../shared/peers/install.sh`"
    );
    let dir = std::env::temp_dir().join(format!("dcc-scenario-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        let f = dir.join(format!("{i:02}.hex"));
        std::fs::write(&f, m.iter().map(|b| format!("{b:02x}")).collect::<String>()).unwrap();
        files.push(f);
    }
    let out = Command::new("bash")
        .arg(&script)
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

#[test]
fn prepaid_67_seconds_with_enough_credit() {
    let cfg = prepaid_config();
    let scfg = server_config(NoCredit::CreditLimitReached);
    let mut bal = Balances::<8>::new();
    bal.set("1001", 3600);
    let mut server: CcServer<'_, _, 8> = CcServer::new(&scfg, bal);
    let sid = "sip-call-0001@client";
    let mut c = PrepaidClient::new(&cfg, session_id_from(sid).unwrap(), PARTIES);
    let mut net = Net::new();

    // INVITE at t=0: CCR-I, blocking
    let t0 = Instant::ZERO;
    c.call_setup(t0);
    let x = net.exchange(t0, &mut c, &mut server);
    assert_eq!(x.len(), 1);
    assert_eq!(x[0].0, ccr(sid, 1, 0, 0, None, Some(10_800), None));
    assert_eq!(x[0].1, cca(sid, 2001, 1, 0, Some(3600)));
    assert_eq!(
        events(&mut c),
        [PrepaidEvent::Allowed {
            seconds: Some(3600)
        }]
    );

    // answered at t=3 s: CCR-U with RSU 0
    let ta = Instant::from_secs(3);
    c.call_answered(ta);
    let x = net.exchange(ta, &mut c, &mut server);
    assert_eq!(x[0].0, ccr(sid, 2, 1, 3, None, Some(0), None));
    assert_eq!(x[0].1, cca(sid, 2001, 2, 1, None));
    assert!(events(&mut c).is_empty());
    // the grant timer is armed at answer + 3600 s
    assert_eq!(c.poll_timeout(), Some(Instant::from_secs(3603)));

    // hangup 67 s after answer: CCR-T with cause 1 and USU 67
    let th = Instant::from_secs(70);
    c.call_ended(th, TerminationCause::Logout);
    let x = net.exchange(th, &mut c, &mut server);
    assert_eq!(x[0].0, ccr(sid, 3, 2, 70, Some(1), None, Some(67)));
    assert_eq!(x[0].1, cca(sid, 2001, 3, 2, None));
    assert_eq!(events(&mut c), [PrepaidEvent::Finished]);
    assert_eq!(c.state(), PrepaidState::Ended);
    assert_eq!(c.terminations(), 1);
    assert_eq!(server.rating().balance("1001"), Some(3600 - 67));
    assert_eq!(server.sessions(), 0);
    let ev: Vec<_> = std::iter::from_fn(|| server.poll_event()).collect();
    assert_eq!(
        ev,
        [
            CcServerEvent::Started { granted: 3600 },
            CcServerEvent::Ended { used: 67 }
        ]
    );
    for l in &net.ladder {
        println!("{l}");
    }
    tshark("prepaid-67", &net.wire);
}

#[test]
fn prepaid_credit_for_30_seconds_times_out() {
    let cfg = prepaid_config();
    let scfg = server_config(NoCredit::CreditLimitReached);
    let mut bal = Balances::<8>::new();
    bal.set("1001", 30);
    let mut server: CcServer<'_, _, 8> = CcServer::new(&scfg, bal);
    let sid = "sip-call-0002@client";
    let mut c = PrepaidClient::new(&cfg, session_id_from(sid).unwrap(), PARTIES);
    let mut net = Net::new();
    c.call_setup(Instant::ZERO);
    let x = net.exchange(Instant::ZERO, &mut c, &mut server);
    assert_eq!(x[0].1, cca(sid, 2001, 1, 0, Some(30)));
    assert_eq!(
        events(&mut c),
        [PrepaidEvent::Allowed { seconds: Some(30) }]
    );
    let ta = Instant::from_secs(2);
    c.call_answered(ta);
    net.exchange(ta, &mut c, &mut server);
    // the dialog times out 30 s after answer
    let tt = c.poll_timeout().unwrap();
    assert_eq!(tt, Instant::from_secs(32));
    c.handle_timeout(tt);
    assert_eq!(
        events(&mut c),
        [PrepaidEvent::TerminateCall(
            TerminateReason::CreditExhausted
        )]
    );
    let x = net.exchange(tt, &mut c, &mut server);
    assert_eq!(x[0].0, ccr(sid, 3, 2, 32, Some(6), None, Some(30)));
    assert_eq!(x[0].1, cca(sid, 2001, 3, 2, None));
    assert_eq!(events(&mut c), [PrepaidEvent::Finished]);
    assert_eq!(server.rating().balance("1001"), Some(0));
    tshark("prepaid-30", &net.wire);
}

#[test]
fn prepaid_denied_zero_grant_and_4012() {
    // CGRateS style: 2001 with CC-Time 0
    let cfg = prepaid_config();
    let scfg = server_config(NoCredit::ZeroGrant);
    let mut bal = Balances::<8>::new();
    bal.set("1001", 0);
    let mut server: CcServer<'_, _, 8> = CcServer::new(&scfg, bal);
    let sid = "sip-call-0003@client";
    let mut c = PrepaidClient::new(&cfg, session_id_from(sid).unwrap(), PARTIES);
    let mut net = Net::new();
    c.call_setup(Instant::ZERO);
    let x = net.exchange(Instant::ZERO, &mut c, &mut server);
    assert_eq!(x[0].1, cca(sid, 2001, 1, 0, Some(0)));
    assert_eq!(
        events(&mut c),
        [
            PrepaidEvent::Denied(DenyReason::NoCredit),
            PrepaidEvent::Finished
        ]
    );
    // nothing more is sent, even on hangup
    c.call_ended(Instant::from_secs(1), TerminationCause::Logout);
    assert!(net
        .exchange(Instant::from_secs(1), &mut c, &mut server)
        .is_empty());
    assert_eq!(c.terminations(), 0);

    // 4012 CREDIT_LIMIT_REACHED
    let scfg = server_config(NoCredit::CreditLimitReached);
    let mut bal = Balances::<8>::new();
    bal.set("1001", 0);
    let mut server: CcServer<'_, _, 8> = CcServer::new(&scfg, bal);
    let mut c = PrepaidClient::new(&cfg, session_id_from("s4").unwrap(), PARTIES);
    c.call_setup(Instant::ZERO);
    let x = net.exchange(Instant::ZERO, &mut c, &mut server);
    assert_eq!(x[0].1, cca("s4", 4012, 1, 0, None));
    assert_eq!(
        events(&mut c),
        [
            PrepaidEvent::Denied(DenyReason::Result(ResultCode::CREDIT_LIMIT_REACHED)),
            PrepaidEvent::Finished
        ]
    );
    // unknown subscriber: 5030
    let mut c = PrepaidClient::new(
        &cfg,
        session_id_from("s5").unwrap(),
        Parties {
            subscription_id: "9999",
            ..PARTIES
        },
    );
    c.call_setup(Instant::ZERO);
    let x = net.exchange(Instant::ZERO, &mut c, &mut server);
    assert_eq!(x[0].1, cca("s5", 5030, 1, 0, None));
    assert_eq!(
        events(&mut c)[0],
        PrepaidEvent::Denied(DenyReason::Result(ResultCode::USER_UNKNOWN))
    );
    tshark("prepaid-denied", &net.wire);
}

#[test]
fn postpaid_67_seconds() {
    let mut cfg = PostpaidConfig::new(CLIENT, REALM, REALM, CONTEXT);
    cfg.destination_host = Some(SERVER);
    cfg.clock = CLOCK;
    let scfg = server_config(NoCredit::CreditLimitReached);
    let mut bal = Balances::<8>::new();
    bal.set("1001", 3600);
    let mut server: CcServer<'_, _, 8> = CcServer::new(&scfg, bal);
    let sid = "sip-call-0006@client";
    let mut c = PostpaidClient::new(&cfg, session_id_from(sid).unwrap(), PARTIES);
    let mut buf = [0u8; 2048];
    // nothing at INVITE or answer
    c.call_answered(Instant::from_secs(4));
    assert!(c.poll_transmit(Instant::from_secs(4), &mut buf).is_none());
    c.call_ended(Instant::from_secs(71));
    let t = c
        .poll_transmit(Instant::from_secs(71), &mut buf)
        .unwrap()
        .unwrap();
    assert!(!t.retransmission);
    let req = buf[..t.len].to_vec();
    let m = Message::parse_with(&req, &CreditControl).unwrap();
    m.validate(&CreditControl).unwrap();
    // type 4 / number 0, cause 1, Event-Timestamp = answer time, RSU 0, USU 67,
    // plus Requested-Action DIRECT_DEBITING, which RFC 8506 §8.41 requires
    // in every CCR-Event (SCENARIOS.md omits it)
    let mut want = ccr(sid, 4, 0, 4, Some(1), Some(0), Some(67));
    let rsu = want
        .iter()
        .position(|a| a.starts_with("Requested-Service-Unit"))
        .unwrap();
    want.insert(rsu + 1, "Requested-Action=0".into());
    assert_eq!(render(m.avps()), want);
    let mut abuf = [0u8; 1024];
    let ans = server
        .handle_request(Instant::from_secs(71), &m, &mut abuf)
        .unwrap()
        .to_vec();
    let a = Message::parse_with(&ans, &CreditControl).unwrap();
    assert_eq!(render(a.avps()), cca(sid, 2001, 4, 0, None));
    c.handle_answer(Instant::from_secs(71), &a);
    let ev: Vec<_> = std::iter::from_fn(|| c.poll_event()).collect();
    assert_eq!(
        ev,
        [
            PostpaidEvent::Charged(ResultCode::SUCCESS),
            PostpaidEvent::Finished
        ]
    );
    assert_eq!(server.rating().balance("1001"), Some(3600 - 67));
    tshark("postpaid", &[req, ans]);
}

#[test]
fn reauthorization_when_the_grant_is_used_up() {
    let mut cfg = prepaid_config();
    cfg.on_exhaustion = OnExhaustion::Reauthorize;
    cfg.requested_time = 60;
    let scfg = server_config(NoCredit::CreditLimitReached);
    let mut bal = Balances::<8>::new();
    bal.set("1001", 100);
    let mut server: CcServer<'_, _, 8> = CcServer::new(&scfg, bal);
    let mut c = PrepaidClient::new(&cfg, session_id_from("r1").unwrap(), PARTIES);
    let mut net = Net::new();
    c.call_setup(Instant::ZERO);
    net.exchange(Instant::ZERO, &mut c, &mut server);
    c.call_answered(Instant::ZERO);
    net.exchange(Instant::ZERO, &mut c, &mut server);
    assert_eq!(
        events(&mut c),
        [PrepaidEvent::Allowed { seconds: Some(60) }]
    );
    // at 60 s the grant is used up: CCR-U with USU 60, RSU 60; only 40 left
    let t = c.poll_timeout().unwrap();
    assert_eq!(t, Instant::from_secs(60));
    c.handle_timeout(t);
    let x = net.exchange(t, &mut c, &mut server);
    assert!(x[0]
        .0
        .contains(&"Used-Service-Unit={CC-Time=60}".to_string()));
    assert!(x[0]
        .0
        .contains(&"Requested-Service-Unit={CC-Time=60}".to_string()));
    assert_eq!(events(&mut c), [PrepaidEvent::Regranted { seconds: 40 }]);
    // at 100 s: re-authorisation finds no credit: 4012 → terminate
    let t = c.poll_timeout().unwrap();
    assert_eq!(t, Instant::from_secs(100));
    c.handle_timeout(t);
    let x = net.exchange(t, &mut c, &mut server);
    assert_eq!(x.len(), 2, "CCR-U refused, then CCR-T");
    assert!(x[0].1.contains(&"Result-Code=4012".to_string()));
    assert!(x[1].0.contains(&"Termination-Cause=6".to_string()));
    let ev = events(&mut c);
    assert_eq!(
        ev,
        [
            PrepaidEvent::TerminateCall(TerminateReason::Refused(ResultCode::CREDIT_LIMIT_REACHED)),
            PrepaidEvent::Finished
        ]
    );
    assert_eq!(c.terminations(), 1);
    assert_eq!(server.rating().balance("1001"), Some(0));
}

#[test]
fn server_abort_and_reauth_requests() {
    let cfg = prepaid_config();
    let scfg = server_config(NoCredit::CreditLimitReached);
    let mut bal = Balances::<8>::new();
    bal.set("1001", 3600);
    let mut server: CcServer<'_, _, 8> = CcServer::new(&scfg, bal);
    let mut c = PrepaidClient::new(&cfg, session_id_from("a1").unwrap(), PARTIES);
    let mut net = Net::new();
    c.call_setup(Instant::ZERO);
    net.exchange(Instant::ZERO, &mut c, &mut server);
    c.call_answered(Instant::from_secs(1));
    net.exchange(Instant::from_secs(1), &mut c, &mut server);
    let _ = events(&mut c);
    // RAR → RAA 2001, then a CCR-U
    assert!(server.reauthorize("a1", CLIENT));
    let mut buf = [0u8; 1024];
    let n = server.poll_transmit(&mut buf).unwrap().unwrap();
    let rar = buf[..n].to_vec();
    let m = Message::parse_with(&rar, &CreditControl).unwrap();
    m.validate(&CreditControl).unwrap();
    assert_eq!(m.get(&base::DESTINATION_HOST).unwrap(), Some(CLIENT));
    assert!(c.handle_server_request(Instant::from_secs(5), &m));
    let mut abuf = [0u8; 1024];
    let raa = match c
        .poll_transmit(Instant::from_secs(5), &mut abuf)
        .unwrap()
        .unwrap()
    {
        Transmit::Answer { len } => abuf[..len].to_vec(),
        other => panic!("{other:?}"),
    };
    let a = Message::parse_with(&raa, &CreditControl).unwrap();
    a.validate(&CreditControl).unwrap();
    // RFC 8506 §5.5: 2002 DIAMETER_LIMITED_SUCCESS, a CCR-U follows
    assert_eq!(a.get(&base::RESULT_CODE).unwrap(), Some(2002));
    assert_eq!(a.hop_by_hop(), m.hop_by_hop());
    let x = net.exchange(Instant::from_secs(5), &mut c, &mut server);
    assert!(x[0].0.contains(&"CC-Request-Type=2".to_string()));
    assert!(x[0]
        .0
        .contains(&"Used-Service-Unit={CC-Time=4}".to_string()));
    // ASR → ASA, terminate, CCR-T with ADMINISTRATIVE
    assert!(server.abort_session("a1", CLIENT));
    let n = server.poll_transmit(&mut buf).unwrap().unwrap();
    let asr = buf[..n].to_vec();
    let m = Message::parse_with(&asr, &CreditControl).unwrap();
    m.validate(&CreditControl).unwrap();
    assert!(c.handle_server_request(Instant::from_secs(9), &m));
    assert!(events(&mut c).contains(&PrepaidEvent::TerminateCall(TerminateReason::Aborted)));
    let asa = match c
        .poll_transmit(Instant::from_secs(9), &mut abuf)
        .unwrap()
        .unwrap()
    {
        Transmit::Answer { len } => abuf[..len].to_vec(),
        other => panic!("{other:?}"),
    };
    Message::parse_with(&asa, &CreditControl)
        .unwrap()
        .validate(&CreditControl)
        .unwrap();
    let x = net.exchange(Instant::from_secs(9), &mut c, &mut server);
    assert!(x[0].0.contains(&"Termination-Cause=4".to_string()));
    assert_eq!(c.terminations(), 1);
    let mut all = net.wire.clone();
    all.extend([rar, raa, asr, asa]);
    tshark("server-requests", &all);
}

#[test]
fn malformed_ccr_gets_the_precise_error() {
    let scfg = server_config(NoCredit::CreditLimitReached);
    let mut server: CcServer<'_, _, 8> = CcServer::new(&scfg, Balances::<8>::new());
    // a CCR without Service-Context-Id: 5005 naming AVP 461
    let mut buf = [0u8; 1024];
    let hdr = diameter_core::HeaderRepr::request(
        diameter_core::CommandCode::CREDIT_CONTROL,
        diameter_core::ApplicationId::CREDIT_CONTROL,
        1,
        1,
    )
    .proxiable(true);
    let mut b = diameter_core::MessageBuilder::new(&mut buf, hdr);
    b.put(&base::SESSION_ID, "bad")
        .put(&base::ORIGIN_HOST, CLIENT)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::DESTINATION_REALM, REALM)
        .put(&base::AUTH_APPLICATION_ID, 4)
        .put(&dict::CC_REQUEST_TYPE, dict::CcRequestType::Initial)
        .put(&dict::CC_REQUEST_NUMBER, 0);
    let req = b.finish().unwrap().to_vec();
    let m = Message::parse_with(&req, &CreditControl).unwrap();
    let mut out = [0u8; 1024];
    let ans = server.handle_request(Instant::ZERO, &m, &mut out).unwrap();
    let a = Message::parse_with(ans, &CreditControl).unwrap();
    assert_eq!(a.get(&base::RESULT_CODE).unwrap(), Some(5005));
    let f = a.get(&base::FAILED_AVP).unwrap().unwrap();
    assert_eq!(f.iter().next().unwrap().unwrap().code(), 461);
    let _ = tgpp::SERVICE_INFORMATION;
}

/// Credit exhaustion mid-call (SCENARIOS.md, server behaviour): a client
/// that keeps the call beyond its grant without reporting gets an
/// Abort-Session-Request once the grant plus the grace has run out, answers
/// it and terminates.
#[test]
fn server_aborts_a_session_whose_grant_ran_out() {
    let mut cfg = prepaid_config();
    // a client that does not police its own grant (its dialog timer is
    // disabled): only the server can stop it
    cfg.on_exhaustion = OnExhaustion::Reauthorize;
    let scfg = server_config(NoCredit::CreditLimitReached);
    let mut bal = Balances::<8>::new();
    bal.set("1001", 30);
    let mut server: CcServer<'_, _, 8> = CcServer::new(&scfg, bal);
    let mut c = PrepaidClient::new(&cfg, session_id_from("x1").unwrap(), PARTIES);
    let mut net = Net::new();
    c.call_setup(Instant::ZERO);
    net.exchange(Instant::ZERO, &mut c, &mut server);
    c.call_answered(Instant::from_secs(2));
    net.exchange(Instant::from_secs(2), &mut c, &mut server);
    // the server supervises: grant 30 s from the CCR-U at 2 s, grace 10 s
    assert_eq!(server.poll_timeout(), Some(Instant::from_secs(42)));
    server.handle_timeout(Instant::from_secs(42));
    let ev: Vec<_> = std::iter::from_fn(|| server.poll_event()).collect();
    assert!(ev.contains(&CcServerEvent::Exhausted), "{ev:?}");
    let mut buf = [0u8; 1024];
    let n = server.poll_transmit(&mut buf).unwrap().unwrap();
    let asr = buf[..n].to_vec();
    let m = Message::parse_with(&asr, &CreditControl).unwrap();
    m.validate(&CreditControl).unwrap();
    assert_eq!(m.command_code(), diameter_core::CommandCode::ABORT_SESSION);
    assert_eq!(m.get(&base::DESTINATION_HOST).unwrap(), Some(CLIENT));
    let _ = events(&mut c);
    assert!(c.handle_server_request(Instant::from_secs(42), &m));
    assert!(events(&mut c).contains(&PrepaidEvent::TerminateCall(TerminateReason::Aborted)));
    let mut abuf = [0u8; 1024];
    match c
        .poll_transmit(Instant::from_secs(42), &mut abuf)
        .unwrap()
        .unwrap()
    {
        Transmit::Answer { len } => {
            let asa = Message::parse_with(&abuf[..len], &CreditControl).unwrap();
            assert_eq!(asa.get(&base::RESULT_CODE).unwrap(), Some(2001));
        }
        other => panic!("expected the ASA first: {other:?}"),
    }
    let x = net.exchange(Instant::from_secs(42), &mut c, &mut server);
    let ccr_t = x
        .iter()
        .find(|(r, _)| r.contains(&"CC-Request-Type=3".to_string()));
    assert!(ccr_t.is_some(), "a CCR-T follows the ASA: {x:?}");
    assert_eq!(server.sessions(), 0);
}
