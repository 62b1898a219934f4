//! `diameter call` against freeDiameter 1.2.1 (`../shared/peers/`): the
//! prepaid call is granted 60 s by it and cut off by the grant; the
//! accounting call's records are acknowledged.

use std::process::Command;

use diameter_sim::peers::FreeDiameter;
use serde_json::Value;

fn call(peer: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "call",
        "--peer",
        peer,
        "--origin-host",
        "client.localdomain",
        "--realm",
        "localdomain",
        "--no-service-information",
        "--json",
        "--speed",
        "20",
    ];
    args.extend_from_slice(extra);
    let o = Command::new(env!("CARGO_BIN_EXE_diameter"))
        .args(&args)
        .output()
        .expect("runs");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let last = out.lines().last().expect("a summary");
    serde_json::from_str(last).expect("JSON")
}

#[test]
fn prepaid_and_accounting_against_freediameter() {
    let fd = FreeDiameter::start("cli-call", &[]);
    let peer = fd.addr().to_string();

    let s = call(&peer, &["--scenario", "prepaid", "--dur", "67"]);
    assert_eq!(s["granted"], 60, "{s}");
    assert_eq!(s["used"], 60, "{s}");
    assert_eq!(s["ended"], "credit-exhausted", "{s}");
    assert_eq!(s["result_code"], 2001, "{s}");

    let s = call(&peer, &["--scenario", "accounting", "--dur", "20"]);
    assert_eq!(s["ended"], "hangup", "{s}");
    assert_eq!(
        s["records_acknowledged"],
        serde_json::json!(["START", "STOP"]),
        "{s}\n{}",
        fd.log()
    );
}
