//! Every message of a list of scenarios, decoded by Wireshark through
//! `shared/peers/tshark-decode.sh` (tshark is required: the check fails
//! loudly, it never skips).

use std::path::PathBuf;
use std::process::Command;

use diameter_core::dict::base;
use diameter_core::dict::Dictionary;
use diameter_core::{HeaderRepr, Message};

use super::{hex, result_code, Pair};

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("shared")
        .join("peers")
        .join("tshark-decode.sh")
}

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let p =
            std::env::temp_dir().join(format!("diameter-core-peer-{}-{nanos}", std::process::id()));
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

/// Run the decode script on `files` (in order); panics unless it exits 0.
fn tshark(args: &[&str], files: &[PathBuf]) -> String {
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
        "tshark-decode.sh {args:?} exited with {}:\n{stderr}\n{stdout}",
        out.status
    );
    stdout
}

/// A scenario: runs, asserts, returns its pair for the Wireshark replay.
pub type Scenario = fn() -> Pair;

/// Replay every scenario and hand every message either machine (or the
/// test's application) put on the wire to Wireshark; at least
/// `min_machine` of them must come from the machines.
pub fn decodes_every_message(scenarios: &[(&str, Scenario)], min_machine: usize) {
    // tshark is required: fail loudly, never skip.
    for tool in ["tshark", "text2pcap"] {
        let ok = Command::new(tool)
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(
            ok,
            "{tool} not found: Wireshark's tshark is required by this test. Install it \
             with `bash ../shared/peers/install.sh` from the workspace root"
        );
    }
    assert!(
        script().is_file(),
        "{} is missing: the shared/ folder must sit beside the workspace",
        script().display()
    );

    let dir = TempDir::new();
    let mut strict = Vec::new();
    let mut lenient = Vec::new();
    let mut machine = 0;
    for (name, scenario) in scenarios {
        let p = scenario();
        for (i, w) in p.log.iter().enumerate() {
            machine += usize::from(w.machine);
            let m = Message::parse(&w.bytes).expect("logged messages parse");
            // Error answers (E bit, Failed-AVP) and the test's deliberately
            // unknown command are checked leniently.
            let error = m.flags().is_error()
                || m.find(279, 0).is_some()
                || base::Base
                    .command(m.command_code(), m.is_request())
                    .is_none();
            let file = dir.0.join(format!(
                "{name}-{i:04}-{}.hex",
                w.rung().replace([' ', '>', '(', ')'], "_")
            ));
            std::fs::write(&file, hex(&w.bytes)).unwrap();
            let (h, _) = HeaderRepr::parse(&w.bytes).unwrap();
            let rc = result_code(&w.bytes);
            let want = (
                file,
                h,
                rc,
                m.get(&base::ORIGIN_HOST).ok().flatten().map(String::from),
            );
            if error {
                lenient.push(want);
            } else {
                strict.push(want);
            }
        }
    }
    assert!(
        machine >= min_machine,
        "{machine} machine messages, fewer than {min_machine}"
    );
    eprintln!(
        "tshark: {} messages checked, {} of them error answers (--lenient), {machine} from the machines",
        strict.len() + lenient.len(),
        lenient.len()
    );
    assert!(!strict.is_empty(), "no message to check strictly");
    for (set, args) in [(&strict, &[][..]), (&lenient, &["--lenient"][..])] {
        if set.is_empty() {
            continue;
        }
        let files: Vec<PathBuf> = set.iter().map(|w| w.0.clone()).collect();
        let out = tshark(args, &files);
        // Read the fields back: command, R flag, identifiers, Result-Code,
        // Origin-Host as Wireshark saw them.
        let mut lines = out.lines();
        let header: Vec<&str> = lines.next().expect("fields header").split('\t').collect();
        let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
        let rows: Vec<Vec<&str>> = lines
            .filter(|l| !l.is_empty())
            .map(|l| l.split('\t').collect())
            .collect();
        assert_eq!(rows.len(), set.len(), "one frame per message");
        for (row, (file, h, rc, host)) in rows.iter().zip(set) {
            // The first occurrence (a Failed-AVP may repeat a field).
            let get = |n: &str| {
                row.get(col(n))
                    .copied()
                    .unwrap_or("")
                    .split(',')
                    .next()
                    .unwrap_or("")
            };
            let what = file.display();
            assert_eq!(
                get("diameter.cmd.code"),
                h.command_code.0.to_string(),
                "{what}"
            );
            let req = get("diameter.flags.request");
            assert!(
                req == if h.flags.is_request() { "1" } else { "0" }
                    || req.eq_ignore_ascii_case(if h.flags.is_request() {
                        "true"
                    } else {
                        "false"
                    }),
                "{what}: R flag {req}"
            );
            assert_eq!(
                get("diameter.hopbyhopid"),
                format!("0x{:08x}", h.hop_by_hop),
                "{what}"
            );
            assert_eq!(
                get("diameter.endtoendid"),
                format!("0x{:08x}", h.end_to_end),
                "{what}"
            );
            assert_eq!(
                get("diameter.Result-Code"),
                rc.map(|r| r.to_string()).unwrap_or_default(),
                "{what}"
            );
            if let Some(host) = host {
                assert_eq!(get("diameter.Origin-Host"), host, "{what}");
            }
        }
    }
}
