//! The independent implementations of `../shared/peers/` for interop
//! tests: a freeDiameter daemon in a temporary directory, a live `tshark`
//! capture on loopback, and the `tshark-decode.sh` checks. Every tool that
//! is missing fails the test with the command that installs it; nothing
//! skips.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `../shared/peers` of the repository.
pub fn peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers")
}

/// Fail the test, saying how to install it, when `tool` is not on the
/// `PATH` (tests that need a real peer never skip).
pub fn require(tool: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "{tool} is missing: run `bash ../shared/peers/install.sh`"
    );
}

/// A free TCP port on loopback (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A test's own temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// `$TMPDIR/<tag>-<pid>-<n>`, fresh.
    pub fn new(tag: &str) -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
    /// A path inside.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// freeDiameter 1.2.1 with the CC and accounting test extension, running in
/// a temporary directory on a free port (Origin-Host
/// `fd-server.localdomain`, realm `localdomain`, Tw 6 s unless `env` says
/// otherwise); stopped (DPR to its peers) on drop.
#[derive(Debug)]
pub struct FreeDiameter {
    dir: PathBuf,
    /// Its listening port.
    pub port: u16,
}

/// freeDiameter's Origin-Host.
pub const FD_HOST: &str = "fd-server.localdomain";
/// freeDiameter's realm.
pub const FD_REALM: &str = "localdomain";

/// freeDiameter daemons of one test binary start one at a time: two
/// start-ups racing on a loaded machine have failed before.
static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl FreeDiameter {
    /// Start it, retrying once on another port if it dies during start-up.
    /// `env`: `FD_CONNECT`, `FD_TW`, `FD_ACL`... (see the peers README).
    pub fn start(tag: &str, env: &[(&str, String)]) -> FreeDiameter {
        require("freeDiameterd");
        let _one = STARTING.lock().unwrap_or_else(|e| e.into_inner());
        let script = peers_dir().join("freediameter-server.sh");
        let dir = std::env::temp_dir().join(format!("fd-{tag}-{}", std::process::id()));
        let mut last = String::new();
        for _ in 0..2 {
            let port = free_port();
            let mut cmd = Command::new("bash");
            cmd.arg(&script)
                .arg("start")
                .arg(&dir)
                .arg(port.to_string())
                .env("FD_TW", "6");
            for (k, v) in env {
                cmd.env(k, v);
            }
            let out = cmd.output().expect("run freediameter-server.sh");
            if out.status.success() {
                return FreeDiameter { dir, port };
            }
            // The script can take a starting daemon for dead (it reads
            // /proc/PID/comm, which is still `setsid` until the exec):
            // adopt the daemon if it runs with this configuration and
            // listens, rather than leave it running behind the test.
            if let Some(pid) = daemon_of(&dir) {
                let _ = std::fs::write(dir.join("freeDiameterd.pid"), format!("{pid}\n"));
                let fd = FreeDiameter {
                    dir: dir.clone(),
                    port,
                };
                if listens(port) {
                    return fd;
                }
                drop(fd);
            }
            last = String::from_utf8_lossy(&out.stderr).into_owned();
            std::thread::sleep(Duration::from_secs(1));
        }
        panic!("freeDiameter did not start: {last}");
    }

    /// Its address.
    pub fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Its process id (from the pid file the script keeps), to read its
    /// CPU time or memory in `/proc`.
    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.join("freeDiameterd.pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("freeDiameterd.log")).unwrap_or_default()
    }

    /// Stop it now (it sends DPR to its peers and waits for the DPAs).
    pub fn stop(&mut self) {
        let _ = Command::new("bash")
            .arg(peers_dir().join("freediameter-server.sh"))
            .arg("stop")
            .arg(&self.dir)
            .output();
    }
}

/// The pid of the freeDiameterd running with `dir`'s configuration.
fn daemon_of(dir: &Path) -> Option<u32> {
    let want = format!(
        "freeDiameterd -c {}",
        dir.join("freeDiameter.conf").display()
    );
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        (cmdline.trim_end() == want).then_some(pid)
    })
}

/// Whether something accepts connections on loopback `port` (10 s at most).
fn listens(port: u16) -> bool {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

impl Drop for FreeDiameter {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A live `tshark` capture of one TCP port on loopback (needs root, as CI
/// has), written to a pcap file.
#[derive(Debug)]
pub struct Capture {
    child: Child,
    /// The capture file.
    pub path: PathBuf,
    /// The port captured.
    pub port: u16,
}

impl Capture {
    /// Start capturing `tcp port <port>` on `lo` into `dir/name`; returns
    /// once tshark says it is capturing.
    pub fn start(dir: &Path, name: &str, port: u16) -> Capture {
        require("tshark");
        let path = dir.join(name);
        let mut child = Command::new("tshark")
            .args(["-i", "lo", "-f"])
            .arg(format!("tcp port {port}"))
            .arg("-w")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tshark");
        let stderr = child.stderr.take().expect("tshark stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut said = Vec::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("Capturing on") {
                    let _ = tx.send(Ok(()));
                }
                said.push(line);
            }
            let _ = tx.send(Err(said.join("\n")));
        });
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(Ok(())) => {}
            Ok(Err(said)) => panic!("tshark could not capture on lo (root needed): {said}"),
            Err(_) => panic!("tshark did not start capturing within 20 s"),
        }
        Capture { child, path, port }
    }

    /// Stop (after a moment for the last packets) and check every Diameter
    /// frame of the capture with `tshark-decode.sh --pcap`: dissected as
    /// Diameter, nothing malformed, no error-level expert info (`lenient`:
    /// warnings allowed, as freeDiameter's zero-filled Failed-AVP payloads
    /// draw them). Returns how many Diameter frames there were.
    pub fn finish_and_check(mut self, lenient: bool) -> usize {
        std::thread::sleep(Duration::from_millis(500));
        let _ = Command::new("kill")
            .arg("-INT")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let mut cmd = Command::new("bash");
        cmd.arg(peers_dir().join("tshark-decode.sh"))
            .arg("--pcap")
            .arg(&self.path)
            .arg("--port")
            .arg(self.port.to_string());
        if lenient {
            cmd.arg("--lenient");
        }
        let out = cmd.output().expect("run tshark-decode.sh");
        assert!(
            out.status.success(),
            "tshark found problems in {}:\n{}{}",
            self.path.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let frames = Command::new("tshark")
            .arg("-r")
            .arg(&self.path)
            .arg("-d")
            .arg(format!("tcp.port=={},diameter", self.port))
            .args(["-Y", "diameter", "-T", "fields", "-e", "diameter.cmd.code"])
            .output()
            .expect("tshark -r");
        String::from_utf8_lossy(&frames.stdout)
            .lines()
            .map(|l| l.split(',').count())
            .sum()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Check messages with `tshark-decode.sh` (each one wrapped in its own
/// frame); `lenient` as in [`Capture::finish_and_check`].
pub fn tshark_check(messages: &[Vec<u8>], lenient: bool) {
    if messages.is_empty() {
        return;
    }
    require("tshark");
    let dir = TempDir::new("tshark-check");
    let files: Vec<PathBuf> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let f = dir.join(&format!("{i:04}.hex"));
            std::fs::write(&f, m.iter().map(|b| format!("{b:02x}")).collect::<String>())
                .expect("write hex");
            f
        })
        .collect();
    let mut cmd = Command::new("bash");
    cmd.arg(peers_dir().join("tshark-decode.sh"));
    if lenient {
        cmd.arg("--lenient");
    }
    let out = cmd.args(&files).output().expect("run tshark-decode.sh");
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
