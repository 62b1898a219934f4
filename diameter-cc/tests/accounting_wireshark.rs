//! Wireshark's dissector reads every accounting message the client and the
//! server write: ACR START/INTERIM/STOP/EVENT, a T-flagged retransmission,
//! ACAs with 2001 and 4002, and the error answers 5005, 3001 and 3004.
//!
//! Wireshark's tshark must be installed (`../shared/peers/install.sh`): the
//! test fails loudly without it.

mod acct;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use acct::*;
use diameter_cc::msg::Acr;
use diameter_cc::server::accounting::{AccountingServer, AccountingServerConfig};
use diameter_core::dict::base::{self, AccountingRealtimeRequired, AccountingRecordType};
use diameter_core::time::Instant;
use diameter_core::{HeaderRepr, Message, ResultCode};

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("shared")
        .join("peers")
        .join("tshark-decode.sh")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SCENARIOS.md flow: answer at 0 s, interims at 30 s and 60 s, hangup
/// at 67 s.
fn scenario_flow() -> Sim<4> {
    let mut sim: Sim<4> = Sim::scenario();
    sim.answer_call().unwrap();
    sim.run_until(Instant::from_secs(67));
    sim.end_call().unwrap();
    sim.run_until(Instant::from_secs(120));
    sim
}

#[test]
fn wireshark_dissects_every_message_kind() {
    for tool in ["tshark", "text2pcap"] {
        let ok = Command::new(tool)
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(
            ok,
            "{tool} not found: Wireshark's tshark is required by this test. Install it with \
             `bash ../shared/peers/install.sh` from the workspace root"
        );
    }
    assert!(script().is_file(), "{} is missing", script().display());

    // Clean messages: START, INTERIM, STOP, EVENT, a T-flagged
    // retransmission, ACAs with 2001 (with and without Acct-Interim-Interval
    // and Accounting-Realtime-Required) and 4002.
    let mut clean: Vec<(String, Vec<u8>)> = Vec::new();
    let sim = scenario_flow();
    for (i, w) in sim.requests.iter().enumerate() {
        clean.push((format!("acr-{i}"), w.bytes.clone()));
    }
    for (i, w) in sim.answers.iter().enumerate() {
        clean.push((format!("aca-{i}"), w.bytes.clone()));
    }
    let mut sc = server_config();
    sc.realtime_required = Some(AccountingRealtimeRequired::GrantAndStore);
    let mut sim: Sim<4> = Sim::new(client_config(), sc, call_info(), Instant::ZERO);
    let mut n = 0;
    sim.fate = Box::new(move |_| {
        n += 1;
        match n {
            1 => Fate::SinkFails,
            2 => Fate::LoseAnswer,
            _ => Fate::Deliver,
        }
    });
    sim.event().unwrap();
    sim.run_until(Instant::from_secs(60));
    assert_eq!(sim.requests.len(), 3);
    assert_acr_header(&sim.requests[1].bytes, true);
    for (i, w) in sim.requests.iter().enumerate() {
        clean.push((format!("event-acr-{i}"), w.bytes.clone()));
    }
    for (i, w) in sim.answers.iter().enumerate() {
        clean.push((format!("event-aca-{i}"), w.bytes.clone()));
    }
    let codes: BTreeSet<u32> = clean
        .iter()
        .filter_map(|(_, b)| {
            let m = Message::parse(b).unwrap();
            (!m.is_request()).then(|| m.get(&base::RESULT_CODE).unwrap().unwrap())
        })
        .collect();
    assert_eq!(codes, [2001, 4002].into_iter().collect());

    // Error answers from the server: 5005 with Failed-AVP and 3001 with E
    // (from a session), 3004 with E (a full session table, RFC 6733
    // §7.1.3).
    let mut errors: Vec<(String, Vec<u8>)> = Vec::new();
    let (_, answers) = session_answers(&[acr_without_number(), not_an_acr()]);
    errors.push(("error-5005".into(), answers[0].clone()));
    errors.push(("error-3001".into(), answers[1].clone()));
    let mut server = AccountingServer::new(AccountingServerConfig::new(), VecSink::default());
    let req = acr_for(
        "busy-call",
        CLIENT,
        AccountingRecordType::StartRecord,
        0,
        false,
        3,
        4,
    );
    let m = validated(&req);
    Acr::decode(&m).unwrap();
    let mut out = [0u8; 512];
    let len = server
        .refuse(&server_node(), &m, ResultCode::TOO_BUSY, &mut out)
        .unwrap();
    errors.push(("error-3004".into(), out[..len].to_vec()));
    let rcs: Vec<u32> = errors.iter().map(|(_, b)| rc(b)).collect();
    assert_eq!(rcs, [5005, 3001, 3004]);

    let dir = std::env::temp_dir().join(format!(
        "diameter-cc-accounting-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    for (set, args) in [(&clean, &[][..]), (&errors, &["--lenient"][..])] {
        let files: Vec<PathBuf> = set
            .iter()
            .map(|(name, bytes)| {
                let f = dir.join(format!("{name}.hex"));
                std::fs::write(&f, hex(bytes)).unwrap();
                f
            })
            .collect();
        let out = Command::new("bash")
            .arg(script())
            .args(args)
            .args(["-e", "diameter.Accounting-Record-Number"])
            .args(&files)
            .output()
            .expect("run bash");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "tshark-decode.sh {args:?} failed ({}); messages kept in {}\n{stderr}\n{stdout}",
            out.status,
            dir.display()
        );
        let mut lines = stdout.lines();
        let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
        let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
        let rows: Vec<Vec<&str>> = lines
            .filter(|l| !l.is_empty())
            .map(|l| l.split('\t').collect())
            .collect();
        assert_eq!(rows.len(), set.len(), "one frame per message");
        for (row, (name, bytes)) in rows.iter().zip(set.iter()) {
            let (h, _) = HeaderRepr::parse(bytes).unwrap();
            assert_eq!(
                row[col("diameter.cmd.code")],
                h.command_code.0.to_string(),
                "{name}"
            );
            assert_eq!(
                row[col("diameter.endtoendid")],
                format!("0x{:08x}", h.end_to_end),
                "{name}"
            );
            let m = Message::parse(bytes).unwrap();
            if let Ok(Some(n)) = m.get(&base::ACCOUNTING_RECORD_NUMBER) {
                assert_eq!(
                    row[col("diameter.Accounting-Record-Number")],
                    n.to_string(),
                    "{name}"
                );
            }
            if let Some(sid) = m.session_id() {
                assert_eq!(row[col("diameter.Session-Id")], sid, "{name}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
