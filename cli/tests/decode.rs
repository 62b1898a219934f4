//! `diameter decode` and `diameter encode`, run as a person runs them: the
//! bench messages give the expected trees (golden files, `UPDATE_GOLDEN=1`
//! rewrites them), malformed inputs give their Result-Code and byte offset,
//! and `decode --json | encode` gives back the same bytes for well-formed,
//! odd (unknown AVPs, vendor bits, reserved bits, non-zero padding) and
//! malformed messages.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use diameter_core::avp::AvpIter;

fn bench_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench-msgs")
}

struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

fn diameter(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_diameter"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run diameter");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let o = child.wait_with_output().unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: o.stdout,
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn unhex(s: &str) -> Vec<u8> {
    diameter_cli::input::unhex(s).unwrap()
}

fn hex(b: &[u8]) -> String {
    diameter_cli::input::hex(b)
}

fn bench(name: &str) -> Vec<u8> {
    let path = bench_dir().join(format!("{name}.hex"));
    unhex(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}")))
}

const BENCH: [&str; 4] = ["ccr-i", "cca-i", "acr-start", "ccr-u-large"];

/// Offset of the first top-level AVP with `code`.
fn offset_of(msg: &[u8], code: u32) -> usize {
    AvpIter::with_offset(&msg[20..], 20)
        .map(Result::unwrap)
        .find(|a| a.code() == code)
        .unwrap()
        .offset()
}

/// `decode --json | encode` through the binary; returns the bytes.
fn round_trip(bytes: &[u8]) -> Vec<u8> {
    let d = diameter(&["decode", "--json", "--raw"], bytes);
    assert!(d.code == 0 || d.code == 1, "decode: {}", d.stderr);
    let e = diameter(&["encode", "--raw"], &d.stdout);
    assert_eq!(e.code, 0, "encode: {}", e.stderr);
    e.stdout
}

#[test]
fn every_bench_message_gives_its_tree() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    for name in BENCH {
        let path = bench_dir().join(format!("{name}.hex"));
        let r = diameter(&["decode", "--offsets", path.to_str().unwrap()], b"");
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let golden =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{name}.txt"));
        if update {
            std::fs::write(&golden, &r.stdout).unwrap();
        }
        let want = std::fs::read_to_string(&golden).unwrap();
        assert_eq!(r.out(), want, "{name}: tree differs from {golden:?}");
    }
    // The names the README promises, spot-checked.
    let t = diameter(&["decode"], bench("ccr-i").as_slice()).out();
    assert_eq!(t, diameter(&["decode", "--raw"], &bench("ccr-i")).out());
    let t = diameter(&["decode", "-"], hex(&bench("ccr-i")).as_bytes()).out();
    for line in [
        "CCR Credit-Control-Request (272), app 4 Diameter Credit Control, flags RP, hbh 0x5ae5a001, e2e 0x1c0de001, 392 bytes",
        "  CC-Request-Type (416) [M] = 1 (INITIAL_REQUEST)",
        "  Event-Timestamp (55) [M] = 2024-01-01T00:00:00Z",
        "    Subscription-Id-Type (450) [M] = 0 (END_USER_E164)",
        "      Role-Of-Node (829, vendor 10415 3GPP) [VM] = 0 (ORIGINATING_ROLE)",
    ] {
        assert!(t.contains(&format!("{line}\n")), "missing {line:?} in\n{t}");
    }
    let t = diameter(&["decode"], hex(&bench("cca-i")).as_bytes()).out();
    assert!(t.contains("  Result-Code (268) [M] = 2001 (DIAMETER_SUCCESS)\n"));
}

#[test]
fn bench_messages_round_trip_alone_and_as_one_stream() {
    let mut all = Vec::new();
    for name in BENCH {
        let b = bench(name);
        assert_eq!(round_trip(&b), b, "{name}");
        all.extend(b);
    }
    assert_eq!(round_trip(&all), all);
    // Hex in, hex out: one line per message.
    let d = diameter(&["decode", "--json", "--pretty"], hex(&all).as_bytes());
    let e = diameter(&["encode"], &d.stdout);
    let lines: Vec<String> = e.out().lines().map(str::to_string).collect();
    let want: Vec<String> = BENCH.iter().map(|n| hex(&bench(n))).collect();
    assert_eq!(lines, want);
}

#[test]
fn odd_messages_round_trip_byte_for_byte() {
    let mut m = bench("ccr-i");
    // An unknown vendor AVP with V, M, P and reserved flag bits, and data
    // whose padding bytes are not zero; an unknown IETF AVP without M.
    let mut extra = Vec::new();
    extra.extend_from_slice(&9999u32.to_be_bytes());
    extra.extend_from_slice(&[0xe3, 0, 0, 15]); // V M P + reserved 3, length 15
    extra.extend_from_slice(&12345u32.to_be_bytes());
    extra.extend_from_slice(&[1, 2, 3, 0xaa]); // 3 data bytes, padding 0xaa
    extra.extend_from_slice(&[0, 0, 0x27, 0x0f, 0, 0, 0, 9, 7, 0, 0, 0]);
    m.extend_from_slice(&extra);
    let len = m.len() as u32;
    m[1..4].copy_from_slice(&len.to_be_bytes()[1..]);
    m[4] |= 0x1f; // T bit and reserved command flags
    assert_eq!(round_trip(&m), m);
    let t = diameter(&["decode", "--raw"], &m);
    let out = t.out();
    assert!(
        out.contains("AVP 9999, vendor 12345 (unknown) [VMP reserved=0x03] = 0x010203 (non-zero padding 0xaa)"),
        "{out}"
    );
    assert!(out.contains("flags RPT reserved=0xf"), "{out}");
    // The reserved AVP bits are a 3009 for the validator.
    assert_eq!(t.code, 1);
    assert!(
        out.contains("Result-Code 3009 DIAMETER_INVALID_AVP_BITS"),
        "{out}"
    );

    // A Time that is not RFC 3339-able is still exact; an Address of
    // another family and a float NaN too.
    let j = serde_json::json!({"code": 257, "flags": "R", "avps": [
        {"code": 257, "flags": "M", "hex": "00080102"},
        {"code": 55, "flags": "M", "value": 1},
        {"code": 7777, "flags": "", "type": "Float64", "hex": "7ff8000000000001"},
    ]});
    let e = diameter(&["encode", "--raw"], j.to_string().as_bytes());
    assert_eq!(e.code, 0, "{}", e.stderr);
    assert_eq!(round_trip(&e.stdout), e.stdout);
}

#[test]
fn malformed_messages_say_result_code_and_offset() {
    let good = bench("ccr-i");
    let sid = 20;
    let sub = offset_of(&good, 443);
    let number = offset_of(&good, 415);
    let host = offset_of(&good, 264);
    // (what, bytes, expected text in the tree)
    let mut cases: Vec<(&str, Vec<u8>, String)> = Vec::new();

    let mut m = good.clone();
    m[sid + 5..sid + 8].copy_from_slice(&[0, 0x0f, 0xff]);
    cases.push(("AVP length past the end", m, format!("invalid AVP length (Result-Code 5014 DIAMETER_INVALID_AVP_LENGTH), AVP 263 at byte {sid}")));

    let mut m = good.clone();
    m[sid + 7] = 4; // length 4 < header
    cases.push((
        "AVP length below 8",
        m,
        format!("Result-Code 5014 DIAMETER_INVALID_AVP_LENGTH), AVP 263 at byte {sid}"),
    ));

    let mut m = good.clone();
    m[sub + 8 + 7] = 0xf0; // Subscription-Id-Type's length inside the group
    cases.push((
        "inner AVP length",
        m,
        format!(
            "Result-Code 5014 DIAMETER_INVALID_AVP_LENGTH), AVP 450 at byte {}",
            sub + 8
        ),
    ));

    let mut m = good.clone();
    m[sid + 8] = 0xff; // not UTF-8
    cases.push((
        "bad UTF-8",
        m,
        format!("Result-Code 5004 DIAMETER_INVALID_AVP_VALUE), AVP 263 at byte {sid}"),
    ));

    let mut m = good.clone();
    m[host + 8] = b' '; // a space in a DiameterIdentity
    cases.push((
        "bad DiameterIdentity",
        m,
        format!("Result-Code 5004 DIAMETER_INVALID_AVP_VALUE), AVP 264 at byte {host}"),
    ));

    let mut m = good.clone();
    m[number + 4] = 0x80 | 0x40; // V bit on an IETF AVP: the header grows, the value breaks
    cases.push((
        "V bit where it must not be",
        m,
        format!("Result-Code 5014 DIAMETER_INVALID_AVP_LENGTH), AVP 415 at byte {number}"),
    ));

    let mut m = good.clone();
    m[0] = 2;
    cases.push((
        "version 2",
        m,
        "unsupported Diameter version (Result-Code 5011 DIAMETER_UNSUPPORTED_VERSION) at byte 0"
            .into(),
    ));

    let mut m = good.clone();
    m[3] = m[3].wrapping_add(2);
    cases.push((
        "length not a multiple of 4",
        m,
        "invalid message length (Result-Code 5015 DIAMETER_INVALID_MESSAGE_LENGTH) at byte 0"
            .into(),
    ));

    let mut m = good.clone();
    m[4] = 0xe0; // E bit on a request
    cases.push((
        "E bit on a request",
        m,
        "invalid command flag bits (Result-Code 3008 DIAMETER_INVALID_HDR_BITS)".into(),
    ));

    cases.push((
        "truncated",
        good[..100].to_vec(),
        "truncated message: 100 of 392 bytes at byte 0".into(),
    ));

    let mut m = good.clone();
    m.extend_from_slice(&[0, 0, 0x27, 0x0f, 0x40, 0, 0, 8]);
    let len = m.len() as u32;
    m[1..4].copy_from_slice(&len.to_be_bytes()[1..]);
    cases.push(("unknown AVP with M", m, format!("unsupported AVP with the M bit (Result-Code 5001 DIAMETER_AVP_UNSUPPORTED), AVP 9999 at byte {}", good.len())));

    // Service-Context-Id removed: 5005.
    let mut m = good[..offset_of(&good, 461)].to_vec();
    m.extend_from_slice(&good[offset_of(&good, 416)..]);
    let len = m.len() as u32;
    m[1..4].copy_from_slice(&len.to_be_bytes()[1..]);
    cases.push((
        "missing Service-Context-Id",
        m,
        "missing required AVP (Result-Code 5005 DIAMETER_MISSING_AVP), AVP 461".into(),
    ));

    for (what, bytes, want) in &cases {
        let r = diameter(&["decode", "--raw"], bytes);
        assert_eq!(r.code, 1, "{what}: exit {} {}", r.code, r.stderr);
        assert!(
            r.out().contains(want.as_str()),
            "{what}: want {want:?} in\n{}",
            r.out()
        );
        // JSON names the same Result-Code, and the body still round-trips.
        let j = diameter(&["decode", "--raw", "--json"], bytes);
        assert_eq!(j.code, 1, "{what}");
        let doc: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
        let text = doc.to_string();
        let rc = want.split("Result-Code ").nth(1).and_then(|s| s.get(..4));
        if let Some(rc) = rc {
            assert!(
                text.contains(&format!("\"result_code\":{rc}")),
                "{what}: {text}"
            );
        }
        assert_eq!(&round_trip(bytes), bytes, "{what}: round trip");
    }
}

#[test]
fn errors_are_one_clear_line() {
    let r = diameter(&["decode", "/no/such/file.hex"], b"");
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "diameter: cannot read /no/such/file.hex: No such file or directory (os error 2)\n"
    );
    let r = diameter(&["decode", "--hex"], b"01 zz");
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (2, "diameter: stdin: not hex: 'z' on line 1, column 4\n")
    );
    let r = diameter(&["decode"], b"");
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (2, "diameter: stdin: no message (the input is empty)\n")
    );
    let r = diameter(&["decode", "--pcap"], b"not a capture at all");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .starts_with("diameter: stdin: not a readable capture"),
        "{}",
        r.stderr
    );
    let r = diameter(
        &["encode"],
        b"{\"code\": 272, \"avps\": [{\"code\": 416, \"flags\": \"M\", \"value\": \"NO_SUCH\"}]}",
    );
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            2,
            "diameter: stdin: message 1: avps[0].value: no Enumerated value is named \"NO_SUCH\"\n"
        )
    );
    let r = diameter(
        &["encode"],
        b"{\"code\": 272, \"avps\": [{\"code\": 9, \"flags\": \"V\", \"hex\": \"\"}]}",
    );
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            2,
            "diameter: stdin: message 1: avps[0]: the V flag needs a \"vendor\"\n"
        )
    );
    let r = diameter(&["encode"], b"{\"code\": 272,");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("diameter: stdin: not JSON: "),
        "{}",
        r.stderr
    );
    // Names work as values, and a value may leave out its type.
    let r = diameter(
        &["encode"],
        b"{\"code\": 272, \"flags\": \"RP\", \"application_id\": 4, \"avps\": [{\"code\": 416, \"flags\": \"M\", \"value\": \"TERMINATION_REQUEST\"}, {\"code\": 55, \"flags\": \"M\", \"value\": \"2024-01-01T00:00:00Z\"}]}",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let t = diameter(&["decode"], &r.stdout).out();
    assert!(
        t.contains("CC-Request-Type (416) [M] = 3 (TERMINATION_REQUEST)"),
        "{t}"
    );
    assert!(
        t.contains("Event-Timestamp (55) [M] = 2024-01-01T00:00:00Z"),
        "{t}"
    );
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    for sub in [
        &["--help"][..],
        &["decode", "--help"],
        &["encode", "--help"],
    ] {
        let r = diameter(sub, b"");
        assert_eq!(r.code, 0, "{sub:?}");
        assert!(r.out().contains("Example"), "{sub:?}: {}", r.out());
        assert!(r.out().contains("diameter "), "{sub:?}");
    }
}
