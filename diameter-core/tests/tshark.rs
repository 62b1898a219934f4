//! Every kind of message our encoder emits must dissect cleanly in Wireshark.
//!
//! The messages (bench messages re-encoded, the fourteen base commands, ACR
//! of every record type, error answers from `answer::error_answer`, vendor,
//! Address, Time and DiameterURI AVPs) are written one per hex file into a
//! temporary folder and decoded by `shared/peers/tshark-decode.sh`, which
//! exits 0 only when every frame is Diameter, not malformed and without
//! expert warnings. The two error answers whose Failed-AVP Wireshark warns
//! about (an empty Session-Id example, an unknown vendor AVP echoed) are
//! checked with `--lenient` in a second run; the other error answers pass the
//! default level. The fields output is then read back to check command codes,
//! flags, identifiers, Session-Ids and Result-Codes as tshark saw them.
//!
//! tshark is required: without it this test fails and says how to install it.

mod common;

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use diameter_core::answer::{error_answer, Identity};
use diameter_core::dict::base;
use diameter_core::types::{AddressValue, Uri};
use diameter_core::{
    ApplicationId, AvpFlags, CommandCode, CommandFlags, EncodeError, ErrorKind, HeaderRepr,
    Message, MessageBuilder, Timestamp,
};

const CLIENT: &str = "client.example.org";
const SERVER: &str = "server.example.org";
const REALM: &str = "example.org";
const ME: Identity<'static> = Identity {
    origin_host: SERVER,
    origin_realm: REALM,
};

/// One encoded message and what tshark must see in it.
struct Case {
    name: String,
    bytes: Vec<u8>,
    /// Run with `--lenient` (error answers with Failed-AVP).
    lenient: bool,
    /// Validate with our own dictionary before handing it to tshark.
    validate: bool,
    /// The only complaint tshark may have: Failed-AVP echoes an AVP that is
    /// malformed on purpose (RFC 6733 §7.5), which Wireshark flags.
    expect_malformed: Option<&'static str>,
}

struct Cases(Vec<Case>);

impl Cases {
    fn add(&mut self, name: &str, r: Result<&[u8], EncodeError>) -> &mut Case {
        let bytes = r.unwrap_or_else(|e| panic!("{name}: encode: {e}")).to_vec();
        self.0.push(Case {
            name: name.to_string(),
            bytes,
            lenient: false,
            validate: true,
            expect_malformed: None,
        });
        self.0.last_mut().unwrap()
    }
}

fn req(code: CommandCode, app: ApplicationId, n: u32) -> HeaderRepr {
    HeaderRepr::request(code, app, 0x1000 + n, 0x2000 + n)
}

fn session(n: u32) -> String {
    format!("{CLIENT};1704067200;{n};tshark")
}

/// Build every message kind the encoder emits.
fn build_cases() -> Vec<Case> {
    let mut c = Cases(Vec::new());
    let mut buf = vec![0u8; 8192];

    // --- the bench messages, re-encoded from their values ---
    for name in BENCH_NAMES {
        c.add(&format!("bench-{name}"), encode(&mut buf, &expected(name)));
    }

    // --- capabilities exchange, with IPv4 and IPv6 Host-IP-Address ---
    let cer_hdr = req(CommandCode::CAPABILITIES_EXCHANGE, ApplicationId::COMMON, 1);
    let mut b = MessageBuilder::new(&mut buf, cer_hdr);
    b.put(&base::ORIGIN_HOST, CLIENT)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::HOST_IP_ADDRESS, Ipv4Addr::new(127, 0, 0, 1).into())
        .put(&base::HOST_IP_ADDRESS, Ipv6Addr::LOCALHOST.into())
        .put(&base::VENDOR_ID, 0)
        .put(&base::PRODUCT_NAME, "diameter-rs")
        .put(&base::ORIGIN_STATE_ID, 1_704_067_200)
        .put(&base::SUPPORTED_VENDOR_ID, TGPP)
        .put(&base::AUTH_APPLICATION_ID, 4)
        .put(
            &base::INBAND_SECURITY_ID,
            base::inband_security::NO_INBAND_SECURITY,
        )
        .put(&base::ACCT_APPLICATION_ID, 3)
        .grouped(&base::VENDOR_SPECIFIC_APPLICATION_ID, |g| {
            g.put(&base::VENDOR_ID, TGPP)
                .put(&base::AUTH_APPLICATION_ID, 16_777_238);
        })
        .put(&base::FIRMWARE_REVISION, 1);
    c.add("cer", b.finish());
    let cer = c.0.last().unwrap().bytes.clone();
    let cer_msg = Message::parse_with(&cer, &TestDict).unwrap();

    let mut b = MessageBuilder::answer_to(&mut buf, &cer_msg);
    b.put(&base::RESULT_CODE, 2001)
        .put(&base::ORIGIN_HOST, SERVER)
        .put(&base::ORIGIN_REALM, REALM)
        .put(
            &base::HOST_IP_ADDRESS,
            "2001:db8::1".parse::<Ipv6Addr>().unwrap().into(),
        )
        .put(&base::HOST_IP_ADDRESS, AddressValue::V4([192, 0, 2, 1]))
        .put(&base::VENDOR_ID, 0)
        .put(&base::PRODUCT_NAME, "diameter-rs server")
        .put(&base::ORIGIN_STATE_ID, 7)
        .put(&base::AUTH_APPLICATION_ID, 4)
        .put(&base::ACCT_APPLICATION_ID, 3)
        .put(&base::FIRMWARE_REVISION, 10201);
    c.add("cea", b.finish());

    // --- watchdog ---
    let mut b = MessageBuilder::new(
        &mut buf,
        req(CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, 2),
    );
    b.put(&base::ORIGIN_HOST, CLIENT)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::ORIGIN_STATE_ID, 1);
    c.add("dwr", b.finish());
    let dwr = c.0.last().unwrap().bytes.clone();
    let mut b = MessageBuilder::answer_to(&mut buf, &Message::parse(&dwr).unwrap());
    b.put(&base::RESULT_CODE, 2001)
        .put(&base::ORIGIN_HOST, SERVER)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::ORIGIN_STATE_ID, 7);
    c.add("dwa", b.finish());

    // --- disconnect ---
    let mut b = MessageBuilder::new(
        &mut buf,
        req(CommandCode::DISCONNECT_PEER, ApplicationId::COMMON, 3),
    );
    b.put(&base::ORIGIN_HOST, CLIENT)
        .put(&base::ORIGIN_REALM, REALM)
        .put(
            &base::DISCONNECT_CAUSE,
            base::DisconnectCause::DoNotWantToTalkToYou,
        );
    c.add("dpr", b.finish());
    let dpr = c.0.last().unwrap().bytes.clone();
    let mut b = MessageBuilder::answer_to(&mut buf, &Message::parse(&dpr).unwrap());
    b.put(&base::RESULT_CODE, 2001)
        .put(&base::ORIGIN_HOST, SERVER)
        .put(&base::ORIGIN_REALM, REALM);
    c.add("dpa", b.finish());

    // --- re-auth (server-initiated, in the CC application) ---
    let sid = session(10);
    let mut b = MessageBuilder::new(
        &mut buf,
        req(CommandCode::RE_AUTH, ApplicationId::CREDIT_CONTROL, 10).proxiable(true),
    );
    b.put(&base::SESSION_ID, &sid)
        .put(&base::ORIGIN_HOST, SERVER)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::DESTINATION_REALM, REALM)
        .put(&base::DESTINATION_HOST, CLIENT)
        .put(&base::AUTH_APPLICATION_ID, 4)
        .put(
            &base::RE_AUTH_REQUEST_TYPE,
            base::ReAuthRequestType::AuthorizeOnly,
        )
        .put(&base::USER_NAME, "1001@example.org")
        .grouped(&base::PROXY_INFO, |g| {
            g.put(&base::PROXY_HOST, "proxy.example.org")
                .put(&base::PROXY_STATE, b"opaque-state");
        })
        .put(&base::ROUTE_RECORD, "relay.example.org");
    c.add("rar", b.finish());
    let rar = c.0.last().unwrap().bytes.clone();
    let mut b = MessageBuilder::answer_to(&mut buf, &Message::parse(&rar).unwrap());
    b.put(&base::RESULT_CODE, 2001)
        .put(&base::ORIGIN_HOST, CLIENT)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::USER_NAME, "1001@example.org");
    c.add("raa", b.finish());

    // --- session termination ---
    let sid = session(11);
    let mut b = MessageBuilder::new(
        &mut buf,
        req(
            CommandCode::SESSION_TERMINATION,
            ApplicationId::CREDIT_CONTROL,
            11,
        )
        .proxiable(true),
    );
    b.put(&base::SESSION_ID, &sid)
        .put(&base::ORIGIN_HOST, CLIENT)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::DESTINATION_REALM, REALM)
        .put(&base::AUTH_APPLICATION_ID, 4)
        .put(&base::TERMINATION_CAUSE, base::TerminationCause::Logout)
        .put(&base::USER_NAME, "1001@example.org")
        .put(&base::CLASS, b"class-1")
        .put(&base::ORIGIN_STATE_ID, 1);
    c.add("str", b.finish());
    let str_ = c.0.last().unwrap().bytes.clone();
    let mut b = MessageBuilder::answer_to(&mut buf, &Message::parse(&str_).unwrap());
    b.put(&base::RESULT_CODE, 2001)
        .put(&base::ORIGIN_HOST, SERVER)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::CLASS, b"class-1");
    c.add("sta", b.finish());

    // --- abort session ---
    let sid = session(12);
    let mut b = MessageBuilder::new(
        &mut buf,
        req(
            CommandCode::ABORT_SESSION,
            ApplicationId::CREDIT_CONTROL,
            12,
        )
        .proxiable(true),
    );
    b.put(&base::SESSION_ID, &sid)
        .put(&base::ORIGIN_HOST, SERVER)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::DESTINATION_REALM, REALM)
        .put(&base::DESTINATION_HOST, CLIENT)
        .put(&base::AUTH_APPLICATION_ID, 4);
    c.add("asr", b.finish());
    let asr = c.0.last().unwrap().bytes.clone();
    let mut b = MessageBuilder::answer_to(&mut buf, &Message::parse(&asr).unwrap());
    b.put(&base::RESULT_CODE, 2001)
        .put(&base::ORIGIN_HOST, CLIENT)
        .put(&base::ORIGIN_REALM, REALM);
    c.add("asa", b.finish());

    // --- accounting: every record type, Time AVPs, and the answers ---
    let records = [
        ("event", base::AccountingRecordType::EventRecord, 0),
        ("start", base::AccountingRecordType::StartRecord, 0),
        ("interim", base::AccountingRecordType::InterimRecord, 1),
        ("stop", base::AccountingRecordType::StopRecord, 2),
    ];
    let acct_sid = session(20);
    for (i, (label, kind, number)) in records.into_iter().enumerate() {
        let sid = if kind == base::AccountingRecordType::EventRecord {
            session(19)
        } else {
            acct_sid.clone()
        };
        let n = 20 + i as u32;
        let mut b = MessageBuilder::new(
            &mut buf,
            req(CommandCode::ACCOUNTING, ApplicationId::BASE_ACCOUNTING, n).proxiable(true),
        );
        b.put(&base::SESSION_ID, &sid)
            .put(&base::ORIGIN_HOST, CLIENT)
            .put(&base::ORIGIN_REALM, REALM)
            .put(&base::DESTINATION_REALM, REALM)
            .put(&base::ACCOUNTING_RECORD_TYPE, kind)
            .put(&base::ACCOUNTING_RECORD_NUMBER, number)
            .put(&base::ACCT_APPLICATION_ID, 3)
            .put(&base::USER_NAME, "1001@example.org")
            .put(&base::ACCT_SESSION_ID, b"call-0001@example.org")
            .put(&base::ACCT_MULTI_SESSION_ID, "multi-1")
            .put(&base::ACCT_INTERIM_INTERVAL, 300)
            .put(
                &base::ACCOUNTING_REALTIME_REQUIRED,
                base::AccountingRealtimeRequired::GrantAndStore,
            )
            .put(&base::ORIGIN_STATE_ID, 1)
            .put(
                &base::EVENT_TIMESTAMP,
                Timestamp::from_unix(1_704_067_200 + i64::from(number) * 300).unwrap(),
            );
        c.add(&format!("acr-{label}"), b.finish());
        let acr = c.0.last().unwrap().bytes.clone();
        let mut b = MessageBuilder::answer_to(&mut buf, &Message::parse(&acr).unwrap());
        b.put(&base::RESULT_CODE, 2001)
            .put(&base::ORIGIN_HOST, SERVER)
            .put(&base::ORIGIN_REALM, REALM)
            .put(&base::ACCOUNTING_RECORD_TYPE, kind)
            .put(&base::ACCOUNTING_RECORD_NUMBER, number)
            .put(&base::ACCT_APPLICATION_ID, 3)
            .put(
                &base::EVENT_TIMESTAMP,
                Timestamp::from_unix(1_704_067_200).unwrap(),
            );
        c.add(&format!("aca-{label}"), b.finish());
    }
    // A Time after the 2036 NTP wrap.
    let mut b = MessageBuilder::new(
        &mut buf,
        req(CommandCode::ACCOUNTING, ApplicationId::BASE_ACCOUNTING, 30).proxiable(true),
    );
    b.put(&base::SESSION_ID, &session(30))
        .put(&base::ORIGIN_HOST, CLIENT)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::DESTINATION_REALM, REALM)
        .put(
            &base::ACCOUNTING_RECORD_TYPE,
            base::AccountingRecordType::EventRecord,
        )
        .put(&base::ACCOUNTING_RECORD_NUMBER, 0)
        .put(
            &base::EVENT_TIMESTAMP,
            Timestamp::from_unix(2_085_978_496 + 3600).unwrap(),
        );
    c.add("acr-after-2036", b.finish());

    // --- a CCR with vendor AVPs and an answer with Experimental-Result ---
    let mut ccr = expected_ccr_i();
    ccr.header.hop_by_hop = 0x40;
    ccr.header.end_to_end = 0x41;
    ccr.session_id = "client.cgrates.org;1704067200;40;vendor";
    ccr.service_information.calling = "tel:+15551234567";
    ccr.service_information.node_functionality = NodeFunctionality::PCscf;
    ccr.service_information.role_of_node = RoleOfNode::Terminating;
    c.add("ccr-vendor", encode_ccr(&mut buf, &ccr));
    let ccr_bytes = c.0.last().unwrap().bytes.clone();
    let ccr_msg = Message::parse_with(&ccr_bytes, &TestDict).unwrap();
    let mut b = MessageBuilder::answer_to(&mut buf, &ccr_msg);
    b.put(&base::ORIGIN_HOST, "ocs.cgrates.org")
        .put(&base::ORIGIN_REALM, "cgrates.org")
        .put(&base::AUTH_APPLICATION_ID, 4)
        .put(&CC_REQUEST_TYPE, CcRequestType::Initial)
        .put(&CC_REQUEST_NUMBER, 0)
        .grouped(&base::EXPERIMENTAL_RESULT, |g| {
            g.put(&base::VENDOR_ID, TGPP)
                .put(&base::EXPERIMENTAL_RESULT_CODE, 5030);
        })
        .put(&base::ERROR_MESSAGE, "user unknown");
    c.add("cca-experimental-result", b.finish());

    // --- redirect: a DiameterURI (Redirect-Host), with the E bit ---
    let mut b = MessageBuilder::answer_to(&mut buf, &ccr_msg);
    let hdr = b.header();
    b.set_header(HeaderRepr {
        flags: hdr.flags | CommandFlags::ERROR,
        ..hdr
    });
    b.put(&base::ORIGIN_HOST, "relay.cgrates.org")
        .put(&base::ORIGIN_REALM, "cgrates.org")
        .put(&base::RESULT_CODE, 3006)
        .put(
            &base::REDIRECT_HOST,
            Uri::parse("aaa://ocs1.cgrates.org:3868;transport=tcp;protocol=diameter").unwrap(),
        )
        .put(
            &base::REDIRECT_HOST,
            Uri::parse("aaas://ocs2.cgrates.org").unwrap(),
        )
        .put(
            &base::REDIRECT_HOST_USAGE,
            base::RedirectHostUsage::AllRealm,
        )
        .put(&base::REDIRECT_MAX_CACHE_TIME, 600);
    c.add("answer-3006-redirect", b.finish());

    // --- error answers from answer::error_answer ---
    // 5005: ACR without Accounting-Record-Type; Failed-AVP with a zero example.
    let mut b = MessageBuilder::new(
        &mut buf,
        req(CommandCode::ACCOUNTING, ApplicationId::BASE_ACCOUNTING, 50).proxiable(true),
    );
    b.put(&base::SESSION_ID, &session(50))
        .put(&base::ORIGIN_HOST, CLIENT)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::DESTINATION_REALM, REALM)
        .put(&base::ACCOUNTING_RECORD_NUMBER, 0);
    let bad = b.finish().unwrap().to_vec();
    let err = Message::parse_with(&bad, &TestDict)
        .unwrap()
        .validate(&TestDict)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingAvp);
    let mut b = error_answer(&bad, &err, &ME, &TestDict, &mut buf).unwrap();
    b.put(&base::ERROR_MESSAGE, "missing Accounting-Record-Type");
    let ans = b.finish().map(<[u8]>::to_vec);
    let case = c.add("error-5005-failed-avp", ans.as_deref().map_err(|e| *e));
    // Not a full ACA: the application adds its required AVPs.
    case.validate = false;

    // 5005 for a missing AVP with no fixed length (Session-Id missing in STR).
    let mut b = MessageBuilder::new(
        &mut buf,
        req(
            CommandCode::SESSION_TERMINATION,
            ApplicationId::CREDIT_CONTROL,
            51,
        )
        .proxiable(true),
    );
    b.put(&base::ORIGIN_HOST, CLIENT)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::DESTINATION_REALM, REALM)
        .put(&base::AUTH_APPLICATION_ID, 4)
        .put(&base::TERMINATION_CAUSE, base::TerminationCause::Logout);
    let bad = b.finish().unwrap().to_vec();
    let err = Message::parse_with(&bad, &TestDict)
        .unwrap()
        .validate(&TestDict)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingAvp);
    assert_eq!(err.avp().unwrap().code, 263);
    let ans = error_answer(&bad, &err, &ME, &TestDict, &mut buf)
        .unwrap()
        .finish()
        .map(<[u8]>::to_vec);
    let case = c.add(
        "error-5005-empty-session-id",
        ans.as_deref().map_err(|e| *e),
    );
    // Wireshark warns "Data is empty" on the zero-length Session-Id example.
    case.lenient = true;
    case.validate = false;

    // 3008: the E bit on a request (bench CCR), answered with the E bit.
    let mut bad = bench_msg("ccr-i");
    bad[4] |= CommandFlags::ERROR.0;
    let err = Message::parse_with(&bad, &TestDict).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidHeaderBits);
    let ans = error_answer(&bad, &err, &ME, &TestDict, &mut buf)
        .unwrap()
        .finish()
        .map(<[u8]>::to_vec);
    let case = c.add("error-3008-e-bit", ans.as_deref().map_err(|e| *e));
    case.validate = false;

    // 5014: CC-Request-Number with 5 bytes of data.
    let mut b = MessageBuilder::new(
        &mut buf,
        req(
            CommandCode::CREDIT_CONTROL,
            ApplicationId::CREDIT_CONTROL,
            52,
        )
        .proxiable(true),
    );
    b.put(&base::SESSION_ID, &session(52))
        .put(&base::ORIGIN_HOST, CLIENT)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::DESTINATION_REALM, REALM)
        .put(&base::AUTH_APPLICATION_ID, 4)
        .put(&SERVICE_CONTEXT_ID, "voice@example.org")
        .put(&CC_REQUEST_TYPE, CcRequestType::Event)
        .put_raw(415, None, AvpFlags::MANDATORY, &[0, 0, 0, 0, 1]);
    let bad = b.finish().unwrap().to_vec();
    let err = Message::parse_with(&bad, &TestDict)
        .unwrap()
        .validate(&TestDict)
        .unwrap_err();
    assert_eq!(err.result_code().get(), 5014);
    let ans = error_answer(&bad, &err, &ME, &TestDict, &mut buf)
        .unwrap()
        .finish()
        .map(<[u8]>::to_vec);
    let case = c.add("error-5014-failed-avp", ans.as_deref().map_err(|e| *e));
    case.validate = false;
    case.expect_malformed = Some("Bad Unsigned32 Length (5)");

    // 5001: an unknown vendor AVP with the M bit, echoed in Failed-AVP.
    let mut b = MessageBuilder::new(
        &mut buf,
        req(
            CommandCode::CREDIT_CONTROL,
            ApplicationId::CREDIT_CONTROL,
            53,
        )
        .proxiable(true),
    );
    b.put(&base::SESSION_ID, &session(53))
        .put(&base::ORIGIN_HOST, CLIENT)
        .put(&base::ORIGIN_REALM, REALM)
        .put_raw(
            4242,
            Some(TGPP),
            AvpFlags::MANDATORY,
            &[0xde, 0xad, 0xbe, 0xef, 1],
        );
    let bad = b.finish().unwrap().to_vec();
    let err = Message::parse_with(&bad, &TestDict)
        .unwrap()
        .validate(&TestDict)
        .unwrap_err();
    assert_eq!(err.result_code().get(), 5001);
    let ans = error_answer(&bad, &err, &ME, &TestDict, &mut buf)
        .unwrap()
        .finish()
        .map(<[u8]>::to_vec);
    let case = c.add(
        "error-5001-vendor-failed-avp",
        ans.as_deref().map_err(|e| *e),
    );
    // Wireshark warns about the unknown AVP echoed in Failed-AVP.
    case.lenient = true;
    // The echoed AVP is unknown with M: `validate` rejects the answer itself
    // (see error_answers.rs, `validate_accepts_error_answers_with_failed_avp`).
    case.validate = false;

    c.0
}

fn script() -> PathBuf {
    let root = workspace_root();
    root.join("..")
        .join("shared")
        .join("peers")
        .join("tshark-decode.sh")
}

fn require_tshark() {
    let missing: Vec<&str> = ["tshark", "text2pcap"]
        .into_iter()
        .filter(|tool| {
            Command::new(tool)
                .arg("--version")
                .output()
                .map(|o| !o.status.success())
                .unwrap_or(true)
        })
        .collect();
    assert!(
        missing.is_empty(),
        "{missing:?} not found: Wireshark's tshark is required by this test. Install it with \
         `bash ../shared/peers/install.sh` (from the workspace root; it needs root and apt)"
    );
    assert!(
        script().is_file(),
        "{} is missing: the shared/ folder must sit beside the workspace",
        script().display()
    );
}

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!(
            "diameter-core-tshark-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("keeping {} for inspection", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Run the decode script; returns stdout, panics with stderr on a non-zero exit.
fn decode(args: &[&str], files: &[PathBuf], what: &str) -> String {
    let out = Command::new("bash")
        .arg(script())
        .args(args)
        .args(files)
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "tshark-decode.sh {args:?} ({what}) exited with {}:\n{stderr}\n{stdout}",
        out.status
    );
    assert!(stderr.contains("decoded cleanly"), "{stderr}");
    stdout
}

/// Parse `-o fields` output (header line, tab-separated, `,` aggregator)
/// into rows of column name -> value.
fn rows(stdout: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut lines = stdout.lines();
    let header: Vec<&str> = lines.next().expect("fields header").split('\t').collect();
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            header
                .iter()
                .zip(l.split('\t').chain(std::iter::repeat("")))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn write_files(dir: &Path, cases: &[&Case]) -> Vec<PathBuf> {
    cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let p = dir.join(format!("{i:02}-{}.hex", c.name));
            std::fs::write(&p, format!("{}\n", hex_encode(&c.bytes))).unwrap();
            p
        })
        .collect()
}

/// tshark's view of one case must match the message we encoded.
fn check_row(row: &std::collections::HashMap<String, String>, c: &Case) {
    let m = Message::parse(&c.bytes).unwrap();
    let name = &c.name;
    let field = |k: &str| row.get(k).map(String::as_str).unwrap_or("");
    assert_eq!(
        field("diameter.cmd.code"),
        m.command_code().0.to_string(),
        "{name}: command code"
    );
    let req = field("diameter.flags.request");
    assert!(
        matches!(
            (req, m.is_request()),
            ("1" | "True" | "true", true) | ("0" | "False" | "false", false)
        ),
        "{name}: R flag {req:?}"
    );
    assert_eq!(
        field("diameter.applicationId"),
        m.application_id().0.to_string(),
        "{name}: application"
    );
    let hbh = field("diameter.hopbyhopid");
    assert_eq!(
        u32::from_str_radix(hbh.trim_start_matches("0x"), 16).ok(),
        Some(m.hop_by_hop()),
        "{name}: hop-by-hop {hbh:?}"
    );
    let e2e = field("diameter.endtoendid");
    assert_eq!(
        u32::from_str_radix(e2e.trim_start_matches("0x"), 16).ok(),
        Some(m.end_to_end()),
        "{name}: end-to-end {e2e:?}"
    );
    assert_eq!(
        field("diameter.Session-Id"),
        m.session_id().unwrap_or(""),
        "{name}: Session-Id"
    );
    assert_eq!(
        field("diameter.Origin-Host"),
        m.get(&base::ORIGIN_HOST).unwrap().unwrap_or(""),
        "{name}: Origin-Host"
    );
    // Every Result-Code (MSCC ones included), in order.
    let mut codes = Vec::new();
    collect_result_codes(m.avps(), &mut codes);
    let codes: Vec<String> = codes.iter().map(u32::to_string).collect();
    assert_eq!(
        field("diameter.Result-Code"),
        codes.join(","),
        "{name}: Result-Code"
    );
}

fn collect_result_codes(set: diameter_core::AvpSet<'_>, out: &mut Vec<u32>) {
    use diameter_core::Dictionary;
    for a in set.iter() {
        let a = a.unwrap();
        if a.is(268, 0) {
            out.push(u32::from_be_bytes(a.data().try_into().unwrap()));
        } else if a.code() != 279
            && TestDict
                .avp(a.code(), a.vendor())
                .is_some_and(|i| i.data_type == diameter_core::types::DataType::Grouped)
        {
            collect_result_codes(a.group_set(), out);
        }
    }
}

#[test]
fn every_message_kind_dissects_cleanly() {
    require_tshark();
    let cases = build_cases();
    for c in &cases {
        let m = Message::parse_with(&c.bytes, &TestDict)
            .unwrap_or_else(|e| panic!("{}: our own parser rejects it: {e}", c.name));
        // Answers with the E bit follow `<answer-message>`, which `validate`
        // does not apply (see error_answers.rs); they are only parsed here.
        if c.validate && !m.flags().is_error() {
            m.validate(&TestDict)
                .unwrap_or_else(|e| panic!("{}: our own validation rejects it: {e}", c.name));
        }
    }
    let dir = TempDir::new();
    let strict: Vec<&Case> = cases
        .iter()
        .filter(|c| !c.lenient && c.expect_malformed.is_none())
        .collect();
    let lenient: Vec<&Case> = cases.iter().filter(|c| c.lenient).collect();
    let echoes: Vec<&Case> = cases
        .iter()
        .filter(|c| c.expect_malformed.is_some())
        .collect();
    assert_eq!(strict.len(), 30, "strict cases");
    assert_eq!(echoes.len(), 1, "cases echoing a malformed AVP");
    assert_eq!(lenient.len(), 2, "lenient cases");

    let sdir = dir.0.join("clean");
    let ldir = dir.0.join("lenient");
    std::fs::create_dir_all(&sdir).unwrap();
    std::fs::create_dir_all(&ldir).unwrap();
    let files = write_files(&sdir, &strict);
    let out = decode(&[], &files, "clean messages");
    let r = rows(&out);
    assert_eq!(r.len(), strict.len(), "one row per message:\n{out}");
    for (row, c) in r.iter().zip(&strict) {
        check_row(row, c);
    }

    let files = write_files(&ldir, &lenient);
    let out = decode(&["--lenient"], &files, "error answers");
    let r = rows(&out);
    assert_eq!(r.len(), lenient.len(), "one row per message:\n{out}");
    for (row, c) in r.iter().zip(&lenient) {
        check_row(row, c);
    }

    // Failed-AVP carrying a malformed AVP as received: tshark must decode the
    // answer and complain about that AVP only.
    for c in echoes {
        let edir = dir.0.join(&c.name);
        std::fs::create_dir_all(&edir).unwrap();
        let files = write_files(&edir, &[c]);
        let out = Command::new("bash")
            .arg(script())
            .args(&files)
            .output()
            .expect("run bash");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let want = c.expect_malformed.unwrap();
        let problems: Vec<&str> = stderr.lines().filter(|l| l.starts_with("frame ")).collect();
        assert_eq!(problems.len(), 1, "{}: {stderr}", c.name);
        assert!(
            problems[0].contains(want) && problems[0].matches('[').count() == 1,
            "{}: unexpected complaints: {stderr}",
            c.name
        );
        let r = rows(&String::from_utf8_lossy(&out.stdout));
        assert_eq!(r.len(), 1);
        check_row(&r[0], c);
    }
}

/// Field values that need a dissector's understanding of the data types:
/// addresses, times, URIs, vendor AVPs, grouped content.
#[test]
fn tshark_reads_typed_values() {
    require_tshark();
    let cases = build_cases();
    let dir = TempDir::new();
    let pick = |name: &str| -> &Case {
        cases
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no case {name}"))
    };
    let chosen = [
        pick("cer"),
        pick("cea"),
        pick("acr-start"),
        pick("acr-after-2036"),
        pick("answer-3006-redirect"),
        pick("bench-ccr-i"),
        pick("bench-ccr-u-large"),
    ];
    let files = write_files(&dir.0, &chosen);
    let extra = [
        "diameter.Host-IP-Address.IPv4",
        "diameter.Host-IP-Address.IPv6",
        "diameter.Event-Timestamp",
        "diameter.Redirect-Host",
        "diameter.Calling-Party-Address",
        "diameter.Node-Functionality",
        "diameter.CC-Time",
        "diameter.Rating-Group",
        "diameter.Vendor-Specific-Application-Id",
    ];
    let mut args = Vec::new();
    for e in extra {
        args.push("-e");
        args.push(e);
    }
    let out = decode(&args, &files, "typed values");
    let r = rows(&out);
    assert_eq!(r.len(), chosen.len(), "{out}");
    let get = |i: usize, k: &str| r[i].get(k).cloned().unwrap_or_default();

    // CER / CEA: IPv4 and IPv6 Host-IP-Address.
    assert_eq!(get(0, "diameter.Host-IP-Address.IPv4"), "127.0.0.1");
    assert_eq!(get(0, "diameter.Host-IP-Address.IPv6"), "::1");
    assert_eq!(get(1, "diameter.Host-IP-Address.IPv4"), "192.0.2.1");
    assert_eq!(get(1, "diameter.Host-IP-Address.IPv6"), "2001:db8::1");

    // Event-Timestamp: 2024-01-01 and an hour after the 2036 NTP wrap.
    assert_eq!(
        get(2, "diameter.Event-Timestamp"),
        "Jan  1, 2024 00:00:00.000000000 UTC"
    );
    assert_eq!(
        get(3, "diameter.Event-Timestamp"),
        "Feb  7, 2036 07:28:16.000000000 UTC"
    );

    // Redirect-Host DiameterURIs.
    let uris = get(4, "diameter.Redirect-Host");
    assert!(
        uris.contains("aaa://ocs1.cgrates.org:3868;transport=tcp;protocol=diameter")
            && uris.contains("aaas://ocs2.cgrates.org"),
        "Redirect-Host {uris:?}"
    );

    // 3GPP vendor AVPs inside two levels of grouping.
    assert_eq!(
        get(5, "diameter.Calling-Party-Address"),
        "sip:1001@cgrates.org"
    );
    assert_eq!(get(5, "diameter.CC-Time"), "300");
    assert_eq!(get(5, "diameter.Node-Functionality"), "6");
    // A Grouped AVP's field is its raw content: the same bytes we wrote.
    let cer = Message::parse_with(&chosen[0].bytes, &TestDict).unwrap();
    let vsai = cer.require(&base::VENDOR_SPECIFIC_APPLICATION_ID).unwrap();
    assert_eq!(
        get(0, "diameter.Vendor-Specific-Application-Id"),
        hex_encode(vsai.as_bytes())
    );

    // All 30 MSCC of the large CCR, with their i-dependent values.
    let cc_time = get(6, "diameter.CC-Time");
    let want: Vec<String> = (0..30u32)
        .flat_map(|i| ["300".to_string(), (60 + i).to_string()])
        .collect();
    assert_eq!(cc_time, want.join(","), "CC-Time of ccr-u-large");
    let rg = get(6, "diameter.Rating-Group");
    let want: Vec<String> = (0..30u32).map(|i| (100 + i).to_string()).collect();
    assert_eq!(rg, want.join(","), "Rating-Group of ccr-u-large");
}
