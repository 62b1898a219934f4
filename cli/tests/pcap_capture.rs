//! A capture recorded by tshark while `../shared/peers/diameter_probe.py`
//! talks to the freeDiameter server decodes: every message the probe sent
//! and received is found in it, byte for byte, in order per direction.
//!
//! Needs tshark, freeDiameter and the right to capture on `lo` (root):
//! `bash ../shared/peers/install.sh`. Without them the test fails and says
//! so; it never skips.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers")
}

fn require(tool: &str) {
    assert!(
        Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success()),
        "{tool} is missing: run `bash ../shared/peers/install.sh`"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// freeDiameter in its own directory; stopped on drop.
struct FreeDiameter {
    dir: PathBuf,
}

impl Drop for FreeDiameter {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(peers_dir().join("freediameter-server.sh"))
            .arg("stop")
            .arg(&self.dir)
            .output();
    }
}

/// tshark writing a capture; stopped (SIGINT, so the file is complete) on drop.
struct Tshark(Child);

impl Tshark {
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-INT")
            .arg(self.0.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Tshark {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            self.stop();
        }
    }
}

#[test]
fn a_tshark_capture_of_the_probe_against_freediameter_decodes() {
    require("tshark");
    require("freeDiameterd");
    require("python3");
    let tmp = tempfile::tempdir().unwrap();
    let fd_dir = tmp.path().join("fd");
    // Start freeDiameter on a free port (retry once: the port may be taken
    // between the check and the bind).
    let mut started = None;
    let mut last = String::new();
    for _ in 0..2 {
        let port = free_port();
        let out = Command::new("bash")
            .arg(peers_dir().join("freediameter-server.sh"))
            .arg("start")
            .arg(&fd_dir)
            .arg(port.to_string())
            .output()
            .expect("run freediameter-server.sh");
        if out.status.success() {
            started = Some(port);
            break;
        }
        last = String::from_utf8_lossy(&out.stderr).into_owned();
    }
    let _fd = FreeDiameter {
        dir: fd_dir.clone(),
    };
    let port = started.unwrap_or_else(|| panic!("freeDiameter did not start: {last}"));

    let cap = tmp.path().join("probe.pcapng");
    let mut tshark = Tshark(
        Command::new("tshark")
            .args(["-i", "lo", "-f", &format!("tcp port {port}"), "-w"])
            .arg(&cap)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tshark"),
    );
    // Wait until it captures.
    let stderr = tshark.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) if line.contains("Capturing on") => break,
            Ok(line) => seen.push(line),
            Err(_) if Instant::now() > deadline => {
                panic!("tshark did not start capturing on lo (root needed): {seen:?}")
            }
            Err(_) => {}
        }
    }
    std::thread::sleep(Duration::from_millis(300));

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
    std::thread::sleep(Duration::from_millis(500));
    tshark.stop();

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
