//! End-to-end: the `diameter` binary playing calls against its built-in
//! server (in-process and as `diameter serve`), its errors, its help, and
//! a `serve` killed with SIGKILL that loses nothing it acknowledged.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use diameter_cli::charging::{Charging, ChargingConfig};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_diameter");

mod common;
use common::Serve;

fn diameter(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The JSON lines of `call --json`: the messages, then the summary.
fn json_lines(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn summary(o: &Output) -> Value {
    let lines = json_lines(o);
    let last = lines.last().expect("a summary").clone();
    assert_eq!(last["event"], "summary", "{}", stdout(o));
    last
}

fn commands(o: &Output) -> Vec<String> {
    json_lines(o)
        .iter()
        .filter(|v| v["event"] == "message")
        .map(|v| {
            format!(
                "{} {}",
                v["dir"].as_str().unwrap(),
                v["line"].as_str().unwrap()
            )
        })
        .filter(|l| !l.contains("DWR") && !l.contains("DWA"))
        .collect()
}

fn call(extra: &[&str]) -> Output {
    let mut args = vec!["call", "--json", "--speed", "50"];
    if !extra.contains(&"--dur") {
        args.extend_from_slice(&["--dur", "20"]);
    }
    args.extend_from_slice(extra);
    let o = diameter(&args);
    assert!(
        o.status.success(),
        "{args:?}: {}\n{}",
        stdout(&o),
        stderr(&o)
    );
    o
}

/// Seconds used of a 20 s call at `--speed 50`: the call's clock runs 50
/// times faster than the machine's, so 20 ms of scheduling delay on a
/// loaded machine add a second. 20 or 21, and the ladder says the same.
fn used(o: &Output) -> u64 {
    let used = summary(o)["used"].as_u64().expect("used");
    assert!((20..=21).contains(&used), "{used}");
    used
}

#[test]
fn prepaid_against_the_built_in_server() {
    let o = call(&["--scenario", "prepaid", "--from", "1001", "--to", "1002"]);
    let used = used(&o);
    assert_eq!(
        commands(&o),
        [
            "out CER",
            "in CEA  Result-Code 2001",
            "out CCR  INITIAL/0 RSU{CC-Time 10800}",
            "in CCA  INITIAL/0 Result-Code 2001 GSU{CC-Time 5940}",
            "out CCR  UPDATE/1 RSU{CC-Time 0}",
            "in CCA  UPDATE/1 Result-Code 2001",
            format!("out CCR  TERMINATION/2 USU{{CC-Time {used}}} Termination-Cause 1").as_str(),
            "in CCA  TERMINATION/2 Result-Code 2001",
            "out DPR",
            "in DPA  Result-Code 2001",
        ]
    );
    let s = summary(&o);
    assert_eq!(s["ended"], "hangup");
    assert_eq!(s["granted"], 5940);
    // 0.10 + 4 × 0.01 (6 s intervals).
    assert_eq!(s["charged"], 14);
    assert_eq!(s["balance_before"], 1000);
    assert_eq!(s["balance_after"], 986);
}

#[test]
fn postpaid_against_the_built_in_server() {
    let o = call(&["--scenario", "postpaid"]);
    let used = used(&o);
    assert_eq!(
        commands(&o),
        [
            "out CER",
            "in CEA  Result-Code 2001",
            format!("out CCR  EVENT/0 RSU{{CC-Time 0}} USU{{CC-Time {used}}} Termination-Cause 1")
                .as_str(),
            "in CCA  EVENT/0 Result-Code 2001",
            "out DPR",
            "in DPA  Result-Code 2001",
        ]
    );
    let s = summary(&o);
    assert_eq!(
        (s["ended"].as_str(), s["charged"].as_i64()),
        (Some("hangup"), Some(14))
    );
}

#[test]
fn accounting_against_the_built_in_server() {
    let o = call(&["--scenario", "accounting"]);
    let s = summary(&o);
    assert_eq!(s["ended"], "hangup");
    // START at answer, STOP at hangup (the interim interval, 30 s, is
    // longer than the call).
    assert_eq!(
        s["records_acknowledged"],
        serde_json::json!(["START", "STOP"])
    );
    assert_eq!(s["records_stored"], 2);
    let c = commands(&o);
    assert!(c.contains(&"out ACR  START/0".to_string()), "{c:?}");
    assert!(
        c.contains(&"in ACA  STOP/1 Result-Code 2001".to_string()),
        "{c:?}"
    );
}

#[test]
fn too_little_credit_is_cut_off_and_the_summary_says_so() {
    // 1003 has 0.15: the fee and five 6 s intervals, 30 s.
    let o = call(&["--scenario", "prepaid", "--from", "1003", "--dur", "67"]);
    let s = summary(&o);
    assert_eq!(s["ended"], "credit-exhausted", "{s}");
    assert_eq!(s["granted"], 30);
    assert_eq!(s["used"], 30);
    assert_eq!(s["termination_cause"], 6);
    assert_eq!(s["balance_after"], 0);
    assert!(s["why"]
        .as_str()
        .unwrap()
        .starts_with("cut off: credit exhausted"));

    // The text form says it too.
    let o = diameter(&["call", "--speed", "50", "--from", "1003", "--dur", "67"]);
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(
        text.contains("ended    cut off: credit exhausted after the 30 s granted (Termination-Cause 6 DIAMETER_AUTH_EXPIRED)"),
        "{text}"
    );
}

#[test]
fn no_credit_at_all_is_denied() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("c.db").display());
    let mut db = Charging::open(&url, ChargingConfig::default()).unwrap();
    db.put_subscriber("2002", "default", 5).unwrap();
    drop(db);
    let o = call(&["--db", &url, "--from", "2002"]);
    let s = summary(&o);
    assert_eq!(s["ended"], "denied");
    assert_eq!(s["result_code"], 4012);
}

/// One line on stderr, exit status 2.
fn one_line_failure(o: &Output, starts: &str) {
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(o), stderr(o));
    let err = stderr(o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with(starts), "{err}");
}

#[test]
fn connection_refused() {
    // A socket bound but never listening: the port stays ours (no parallel
    // test can take it) and connections to it are refused.
    let bound = tokio::net::TcpSocket::new_v4().unwrap();
    bound.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let peer = bound.local_addr().unwrap().to_string();
    let o = diameter(&["call", "--peer", &peer, "--dur", "1"]);
    one_line_failure(&o, &format!("diameter: no peer opened: {peer}: "));
    assert!(
        stderr(&o).to_lowercase().contains("refused"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn no_answer_is_a_timeout() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = l.local_addr().unwrap().to_string();
    let holder = std::thread::spawn(move || {
        let c = l.accept();
        std::thread::sleep(Duration::from_secs(4));
        drop(c);
    });
    let o = diameter(&["call", "--peer", &peer, "--dur", "1", "--timeout", "1"]);
    one_line_failure(
        &o,
        &format!("diameter: no peer opened: {peer}: no CEA in time"),
    );
    holder.join().unwrap();
}

#[test]
fn bad_database_urls() {
    let o = diameter(&["serve", "--db", "mysql://db/x", "--listen", "127.0.0.1:0"]);
    one_line_failure(&o, "diameter: bad database URL \"mysql://db/x\"");
    let o = diameter(&["call", "--db", "sqlite:/no/such/dir/c.db"]);
    one_line_failure(
        &o,
        "diameter: cannot open the database sqlite:/no/such/dir/c.db",
    );
}

#[test]
fn cea_rejection() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("c.db").display());
    let serve = Serve::start(&db, &["--allow-host", "proxy.elsewhere.example"]);
    let o = diameter(&["call", "--peer", &serve.addr, "--dur", "1"]);
    one_line_failure(
        &o,
        &format!(
            "diameter: no peer opened: {}: CEA rejected us with Result-Code 3010 DIAMETER_UNKNOWN_PEER",
            serve.addr
        ),
    );
}

#[test]
fn help_has_an_example_on_every_subcommand() {
    for sub in ["call", "serve", "send", "bench", "decode", "encode"] {
        let o = diameter(&[sub, "--help"]);
        assert!(o.status.success());
        let text = stdout(&o);
        assert!(
            text.contains("Examples:") && text.contains(&format!("diameter {sub}")),
            "{sub}: {text}"
        );
    }
    let o = diameter(&["--help"]);
    assert!(stdout(&o).contains("diameter call --scenario prepaid"));
}

/// What a client saw acknowledged: accounting records (Session-Id,
/// record number) and credit-control requests reporting usage
/// (Session-Id, CC-Request-Number) answered 2001; and every Session-Id.
type Acked = (
    BTreeSet<(String, u64)>,
    BTreeSet<(String, u64)>,
    BTreeSet<String>,
);

fn acknowledged(o: &Output) -> Acked {
    let text = stdout(o);
    let mut records = BTreeSet::new();
    let mut ccrs = BTreeSet::new();
    let mut sessions = BTreeSet::new();
    let mut usage = BTreeSet::new();
    for l in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(l) else {
            continue; // a line cut by the kill
        };
        if let Some(sid) = v["session_id"].as_str() {
            sessions.insert(sid.to_string());
            if v["dir"] == "out" && v["command"] == "CCR" && v["used"].as_u64().unwrap_or(0) > 0 {
                usage.insert((sid.to_string(), v["cc_request_number"].as_u64().unwrap()));
            }
        }
        if v["dir"] != "in" || v["result_code"] != 2001 {
            continue;
        }
        let sid = v["session_id"].as_str().unwrap_or_default().to_string();
        match v["command"].as_str() {
            Some("ACA") => {
                records.insert((sid, v["record_number"].as_u64().unwrap()));
            }
            Some("CCA") => {
                let key = (sid, v["cc_request_number"].as_u64().unwrap());
                if usage.contains(&key) {
                    ccrs.insert(key);
                }
            }
            _ => {}
        }
    }
    (records, ccrs, sessions)
}

#[test]
fn serve_killed_mid_run_keeps_everything_it_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("charging.db").display());
    let mut serve = Serve::start(&db, &["--speed", "20", "--interim", "2"]);
    let addr = serve.addr.clone();

    // Calls one after the other, accounting and prepaid in turn, until the
    // server goes away under one of them.
    let caller = std::thread::spawn(move || {
        let mut outputs = Vec::new();
        for i in 0.. {
            let scenario = if i % 2 == 0 { "accounting" } else { "prepaid" };
            let o = diameter(&[
                "call",
                "--peer",
                &addr,
                "--json",
                "--speed",
                "20",
                "--dur",
                "10",
                "--scenario",
                scenario,
                "--timeout",
                "2",
            ]);
            let ok = o.status.success();
            outputs.push(o);
            if !ok {
                break;
            }
        }
        outputs
    });
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(3500));
    serve.child.kill().unwrap(); // SIGKILL
    serve.child.wait().unwrap();
    let outputs = caller.join().unwrap();
    assert!(started.elapsed() < Duration::from_secs(60));
    assert!(outputs.len() >= 3, "only {} calls", outputs.len());

    let mut records = BTreeSet::new();
    let mut ccrs = BTreeSet::new();
    let mut sessions = BTreeSet::new();
    for o in &outputs {
        let (r, c, s) = acknowledged(o);
        records.extend(r);
        ccrs.extend(c);
        sessions.extend(s);
    }
    assert!(
        records.len() >= 4 && !ccrs.is_empty(),
        "{records:?} {ccrs:?}"
    );
    eprintln!(
        "{} calls, {} records and {} usage reports acknowledged before the kill",
        outputs.len(),
        records.len(),
        ccrs.len()
    );

    // Restarted on the same database: it opens, and holds nothing.
    let again = Serve::start(&db, &["--speed", "20"]);
    let o = diameter(&[
        "call",
        "--peer",
        &again.addr,
        "--json",
        "--speed",
        "50",
        "--dur",
        "6",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    drop(again);

    let mut db = Charging::open(&db, ChargingConfig::default()).unwrap();
    for (sid, n) in &records {
        let stored = db.records(sid).unwrap();
        assert!(
            stored.iter().any(|r| u64::from(r.record_number) == *n),
            "record {n} of {sid} acknowledged but not stored"
        );
    }
    for (sid, n) in &ccrs {
        let charges = db.charges(sid).unwrap();
        assert!(
            charges.iter().any(|c| c.request.map(u64::from) == Some(*n)),
            "CCR {n} of {sid} acknowledged but not charged"
        );
    }
    // Every balance change is a stored charge: nothing half-done.
    let a = db.account("1001").unwrap().unwrap();
    let last = summary(&o);
    sessions.insert(last["session_id"].as_str().unwrap().to_string());
    let charged: i64 = sessions
        .iter()
        .filter_map(|s| db.call(s).unwrap())
        .map(|c| c.charged)
        .sum();
    assert_eq!(a.balance, 1000 - charged, "{a:?}");
    assert_eq!(a.reserved, 0, "{a:?}");
}

/// The bench's CCR-Initial (`shared/bench-msgs/ccr-i.hex`) in its JSON
/// form (`diameter decode --json`), written into `dir`.
fn ccr_i_json(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let hex = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/bench-msgs/ccr-i.hex");
    let o = diameter(&["decode", "--json", hex.to_str().unwrap()]);
    assert!(o.status.success());
    let json = dir.path().join("ccr.json");
    std::fs::write(&json, &o.stdout).unwrap();
    json
}

#[test]
fn send_one_request_from_its_json_form() {
    let dir = tempfile::tempdir().unwrap();
    let json = ccr_i_json(&dir);

    // To the built-in server: the tree of the CCA.
    let o = diameter(&["send", json.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("CCA Credit-Control-Answer (272)"), "{text}");
    assert!(
        text.contains("Result-Code (268) [M] = 2001 (DIAMETER_SUCCESS)"),
        "{text}"
    );

    // As JSON, which encode reads back.
    let o = diameter(&["send", "--json", json.to_str().unwrap()]);
    assert!(o.status.success());
    let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["abbrev"], "CCA");

    // Nobody there: one line, exit 2.
    // A socket bound but never listening: the port stays ours (no parallel
    // test can take it) and connections to it are refused.
    let bound = tokio::net::TcpSocket::new_v4().unwrap();
    bound.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let peer = bound.local_addr().unwrap().to_string();
    let o = diameter(&["send", "--peer", &peer, json.to_str().unwrap()]);
    one_line_failure(&o, "diameter: no peer opened: ");
}

/// A CCR-Initial whose answer was lost, resent to a second `serve`
/// instance on the same database (failover, RFC 8506 §5.7): both answer
/// 2001 with the same grant, and the subscriber's money is held once, not
/// once per instance.
#[test]
fn a_ccr_resent_to_another_instance_holds_the_money_once() {
    let dir = tempfile::tempdir().unwrap();
    let json = ccr_i_json(&dir);
    let db = format!("sqlite:{}", dir.path().join("charging.db").display());
    let a = Serve::start(&db, &["--instance", "a"]);
    let b = Serve::start(&db, &["--instance", "b"]);
    let reserved = || {
        let mut c = Charging::open(&db, ChargingConfig::default()).unwrap();
        c.account("1001").unwrap().unwrap().reserved
    };

    let mut grants = Vec::new();
    let mut held = Vec::new();
    for peer in [&a.addr, &b.addr] {
        let o = diameter(&["send", "--json", "--peer", peer, json.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = stdout(&o);
        assert!(text.contains("\"Result-Code\""), "{text}");
        assert!(text.contains("2001"), "{text}");
        let v: Value = serde_json::from_str(text.trim()).unwrap();
        grants.push(granted_cc_time(&v).unwrap_or_else(|| panic!("no CC-Time: {text}")));
        held.push(reserved());
    }
    // ccr-i asks for 300 s of 1001's 10.00: 0.10 + 50 × 0.01 held.
    assert_eq!(grants, [300, 300]);
    assert_eq!(held, [60, 60], "held once, not once per instance");
    drop((a, b));
}

/// The CC-Time of the Granted-Service-Unit in the JSON form of a CCA.
fn granted_cc_time(v: &Value) -> Option<u64> {
    match v {
        Value::Object(o) => {
            if o.get("name").and_then(Value::as_str) == Some("CC-Time") {
                return o.get("value").and_then(Value::as_u64);
            }
            o.values().find_map(granted_cc_time)
        }
        Value::Array(a) => a.iter().find_map(granted_cc_time),
        _ => None,
    }
}

#[test]
fn bench_against_the_built_in_server() {
    let o = diameter(&[
        "bench",
        "--sessions",
        "100",
        "--rate",
        "0",
        "--dur",
        "6",
        "--speed",
        "20",
        "--requested",
        "60",
        "--json",
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let r: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let calls = &r["calls"];
    assert_eq!(calls["failed"], 0, "{r}");
    // 10.00 holds fifty 60 s reservations (0.20 each) at once.
    assert!(calls["completed"].as_u64().unwrap() >= 50, "{r}");
    assert_eq!(
        calls["completed"].as_u64().unwrap() + calls["denied"].as_u64().unwrap(),
        100,
        "{r}"
    );
    for code in r["answers_by_result_code"].as_object().unwrap().keys() {
        assert!(code == "2001" || code == "4012", "{r}");
    }
    assert_eq!(r["requests"], r["answers"], "{r}");
    assert!(r["latency_ms"]["p99"].as_f64().unwrap() > 0.0, "{r}");

    // The text form: a line per figure.
    let o = diameter(&[
        "bench",
        "--sessions",
        "10",
        "--rate",
        "0",
        "--scenario",
        "accounting",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("latency    p50 "), "{text}");
    assert!(text.contains("10 completed, 0 denied"), "{text}");
}
