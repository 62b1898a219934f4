//! A capture recorded by tshark while `../shared/peers/diameter_probe.py`
//! talks to the freeDiameter server decodes: every message the probe sent
//! and received is found in it, byte for byte, in order per direction.
//!
//! Needs tshark, freeDiameter and the right to capture on `lo` (root):
//! `bash ../shared/peers/install.sh`. Without them the test fails and says
//! so; it never skips.

use std::path::PathBuf;
use std::process::Command;

use diameter_sim::peers::{peers_dir, require, Capture, FreeDiameter};

#[test]
fn a_tshark_capture_of_the_probe_against_freediameter_decodes() {
    require("python3");
    let tmp = tempfile::tempdir().unwrap();
    // freeDiameter on a free port, tshark capturing it (both from
    // `diameter_sim::peers`: the start-up retries and checks live there).
    let fd = FreeDiameter::start("pcap-capture", &[]);
    let port = fd.port;
    let capture = Capture::start(tmp.path(), "probe.pcapng", port);
    let cap = capture.path.clone();

    let hexdir = tmp.path().join("hex");
    let probe = Command::new("python3")
        .arg(peers_dir().join("diameter_probe.py"))
        .args([
            "--port",
            &port.to_string(),
            "--steps",
            "cer,dwr,ccr,ccre,acr,dpr",
            "--hexdir",
        ])
        .arg(&hexdir)
        .output()
        .expect("run the probe");
    assert!(
        probe.status.success(),
        "probe failed: {}{}",
        String::from_utf8_lossy(&probe.stdout),
        String::from_utf8_lossy(&probe.stderr)
    );
    // Stop the capture; tshark's own dissector must find every frame
    // well formed (lenient: freeDiameter's zero-filled Failed-AVP payloads
    // draw warnings).
    let frames = capture.finish_and_check(true);
    assert!(frames >= 12, "{frames} Diameter frames captured");

    // What the probe saw, per direction, in order.
    let mut files: Vec<PathBuf> = std::fs::read_dir(&hexdir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let read = |dir: &str| -> Vec<String> {
        files
            .iter()
            .filter(|p| p.file_name().unwrap().to_string_lossy().contains(dir))
            .map(|p| {
                let b = diameter_cli::input::unhex(&std::fs::read_to_string(p).unwrap()).unwrap();
                diameter_cli::input::hex(&b)
            })
            .collect()
    };
    let (sent, received) = (read("-tx-"), read("-rx-"));
    assert!(sent.len() >= 6 && received.len() >= 6, "{files:?}");

    // The tree: every message, valid, with the probe's commands.
    let bin = env!("CARGO_BIN_EXE_diameter");
    let out = Command::new(bin)
        .args(["decode", "--pcap", "--port", &port.to_string()])
        .arg(&cap)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for cmd in [
        "CER Capabilities-Exchange-Request",
        "CEA Capabilities-Exchange-Answer",
        "DWR ",
        "DWA ",
        "CCR Credit-Control-Request",
        "CCA Credit-Control-Answer",
        "ACR Accounting-Request",
        "ACA Accounting-Answer",
        "DPR ",
        "DPA ",
    ] {
        assert!(text.contains(cmd), "{cmd} missing:\n{text}");
    }
    assert!(text.contains("Result-Code (268) [M] = 2001 (DIAMETER_SUCCESS)"));
    assert!(
        text.contains("Product-Name (269) [] = \"freeDiameter\""),
        "{text}"
    );

    // The bytes: the JSON of each message encodes back to what the probe
    // sent or received, in order per direction.
    let json = Command::new(bin)
        .args(["decode", "--pcap", "--json"])
        .arg(&cap)
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(0));
    let docs = diameter_cli::json::read_documents(&String::from_utf8_lossy(&json.stdout)).unwrap();
    let (mut to_server, mut to_probe) = (Vec::new(), Vec::new());
    for d in &docs {
        let bytes = diameter_cli::json::json_to_message(d, &diameter_cc::CreditControl).unwrap();
        let dst = d["capture"]["dst"].as_str().unwrap();
        if dst.ends_with(&format!(":{port}")) {
            to_server.push(diameter_cli::input::hex(&bytes));
        } else {
            to_probe.push(diameter_cli::input::hex(&bytes));
        }
    }
    assert_eq!(to_server, sent, "messages the probe sent");
    assert_eq!(to_probe, received, "messages the probe received");
}
