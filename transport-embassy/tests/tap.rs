//! A real kernel link: the embassy client of this crate reaches a server
//! through a TAP device (`embassy-net-tuntap`) inside a network namespace
//! each test creates, plays the SCENARIOS prepaid call (CCR-I/U/T) and
//! shuts down with DPR; `tshark` captures the tap and every Diameter frame
//! of the capture must dissect cleanly (`tshark-decode.sh --pcap`), as must
//! every message the runner logged. Two servers, on the kernel's side of
//! the tap at 10.99.0.1:3868:
//!
//! - the freeDiameter server of `../shared/peers/` (an independent
//!   implementation);
//! - the diameter-tokio server of this workspace (`diameter_tokio::Node`
//!   serving credit control from a ledger).
//!
//! They need root (a namespace, a TAP device), freeDiameter and tshark, so
//! a plain `cargo test` leaves them out (`#[ignore]`); `scripts/test.sh`
//! runs them with `--ignored`, and there anything missing fails the run.

mod util;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration as StdDuration;

use diameter_cc::client::prepaid::PrepaidConfig;
use diameter_cc::client::Parties;
use diameter_cc::endpoint::{Endpoint, EndpointConfig};
use diameter_cc::session::WallClock;
use diameter_core::dict::base::{DisconnectCause, TerminationCause};
use diameter_core::peer::{self, App, LocalIdentity, PeerConfig, Role};
use diameter_embassy::{Buffers, Grant, Node, Runner, TcpClient};
use embassy_futures::select::{select, select3, Either, Either3};
use embassy_net::{Config, IpEndpoint, Ipv4Address, Ipv4Cidr, StackResources, StaticConfigV4};
use embassy_net_tuntap::TunTapDevice;
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_time::{Duration, Timer};
use util::{is_peer, wait_event, Wire};

const HOST: &str = "embassy-gw.localdomain";
const REALM: &str = "localdomain";
const SERVER_ADDR: &str = "10.99.0.1";
const PORT: u16 = 3868;

fn peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers")
}

fn sh(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn require(tool: &str, hint: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(found, "{tool} is missing: {hint}");
}

/// A network namespace (named after the test, so no two tests share one) with
/// a TAP device `tap0` at 10.99.0.1/24 (the
/// server's side); deleted on drop, with everything in it.
struct Namespace {
    name: String,
}

impl Namespace {
    fn new(tag: &str) -> Namespace {
        let name = format!("dia-embassy-{tag}-{}", std::process::id());
        let ns = Namespace { name };
        sh(Command::new("ip").args(["netns", "add", &ns.name]));
        for args in [
            vec!["link", "set", "lo", "up"],
            vec!["tuntap", "add", "dev", "tap0", "mode", "tap"],
            vec!["addr", "add", "10.99.0.1/24", "dev", "tap0"],
            vec!["link", "set", "tap0", "up"],
        ] {
            sh(Command::new("ip").args(["-n", &ns.name]).args(args));
        }
        ns
    }

    /// `argv` run inside the namespace.
    fn exec(&self, argv: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).args(argv);
        c
    }

    /// Move the calling thread into the namespace (`setns(2)`): sockets
    /// and TAP devices it opens afterwards are the namespace's.
    fn enter(&self) {
        let path = format!("/var/run/netns/{}", self.name);
        let f = fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        use std::os::fd::AsRawFd;
        // SAFETY: a plain system call on a file descriptor we own.
        let r = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// freeDiameter listening on the namespace's 10.99.0.1:3868.
struct FreeDiameter {
    dir: PathBuf,
}

impl FreeDiameter {
    fn start(ns: &Namespace, dir: &Path) -> FreeDiameter {
        let dir = dir.join("fd");
        let script = peers_dir().join("freediameter-server.sh");
        let out = ns
            .exec(&[
                "env",
                &format!("FD_LISTEN={SERVER_ADDR}"),
                "bash",
                script.to_str().expect("utf-8 path"),
                "start",
                dir.to_str().expect("utf-8 path"),
                &PORT.to_string(),
            ])
            .output()
            .expect("run freediameter-server.sh");
        let fd = FreeDiameter { dir };
        if !out.status.success() {
            // The script can take a starting daemon for dead: it reads
            // /proc/PID/comm, which is still `setsid` until the exec (seen
            // about once in five starts while tshark runs). Adopt the
            // daemon if it runs with our configuration.
            let conf = fd.dir.join("freeDiameter.conf");
            let want = format!("freeDiameterd -c {}", conf.display());
            let pid = fs::read_dir("/proc")
                .into_iter()
                .flatten()
                .flatten()
                .find(|e| {
                    fs::read(e.path().join("cmdline")).is_ok_and(|c| {
                        String::from_utf8_lossy(&c).replace('\0', " ").trim_end() == want
                    })
                })
                .map(|e| e.file_name().to_string_lossy().into_owned());
            let Some(pid) = pid else {
                panic!(
                    "freeDiameter did not start: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            };
            fs::write(fd.dir.join("freeDiameterd.pid"), format!("{pid}\n")).expect("pid file");
        }
        fd.wait_listening(ns);
        fd
    }

    /// Until the namespace has a TCP listener on PORT (10 s at most).
    fn wait_listening(&self, ns: &Namespace) {
        let port = format!(":{PORT:04X}");
        for _ in 0..100 {
            let tcp = sh(&mut ns.exec(&["cat", "/proc/net/tcp"]));
            let listening = tcp.lines().skip(1).any(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                cols.get(1).is_some_and(|a| a.ends_with(&port)) && cols.get(3) == Some(&"0A")
            });
            if listening {
                return;
            }
            std::thread::sleep(StdDuration::from_millis(100));
        }
        panic!("freeDiameter does not listen on port {PORT}");
    }
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

/// tshark capturing the tap into `file` until stopped.
struct Capture {
    child: Child,
    file: PathBuf,
}

impl Capture {
    fn start(ns: &Namespace, dir: &Path) -> Capture {
        let file = dir.join("tap0.pcapng");
        let mut capture = Capture {
            child: ns
                .exec(&[
                    "tshark",
                    "-q",
                    "-i",
                    "tap0",
                    "-f",
                    &format!("tcp port {PORT}"),
                    "-w",
                    file.to_str().expect("utf-8 path"),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start tshark"),
            file,
        };
        // The file appears when the capture has started.
        for _ in 0..100 {
            if fs::metadata(&capture.file).is_ok_and(|m| m.len() > 0) {
                std::thread::sleep(StdDuration::from_millis(300));
                return capture;
            }
            if let Ok(Some(status)) = capture.child.try_wait() {
                panic!("tshark exited: {status}");
            }
            std::thread::sleep(StdDuration::from_millis(100));
        }
        panic!("tshark did not start capturing on tap0");
    }

    /// Stop (SIGINT, so the file is complete) and return the capture.
    fn stop(mut self) -> PathBuf {
        std::thread::sleep(StdDuration::from_millis(500));
        // SAFETY: signals our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let _ = self.child.wait();
        self.file.clone()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The gateway's settings; `service_information`: whether its CCRs carry
/// the 3GPP Service-Information (freeDiameter here loads only dict_dcca).
fn config(service_information: bool) -> EndpointConfig {
    let me = LocalIdentity::new(HOST, REALM)
        .and_then(|l| l.with_application(App::auth(4)))
        .and_then(|l| l.with_product_name("diameter-embassy"))
        .expect("identity")
        .with_origin_state_id(1);
    let mut c = EndpointConfig::new(
        PeerConfig::new(me, 1_704_067_200),
        WallClock::new(1_704_067_200),
    );
    let mut prepaid = PrepaidConfig::new(REALM, "voice@OsipsDiamCCR").expect("prepaid");
    prepaid.service_information = service_information;
    c.prepaid = Some(prepaid);
    c
}

/// The tests take turns: run side by side, freeDiameter now and then
/// exited at start-up with an empty log (seen once in three runs).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Root, the tools, a temporary directory and a namespace with its tap
/// captured: what both tests start from. Hold the guard until the end.
fn setup(
    tag: &str,
) -> (
    std::sync::MutexGuard<'static, ()>,
    PathBuf,
    Namespace,
    Capture,
) {
    let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: a plain system call.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "needs root (a network namespace and a TAP device)"
    );
    for tool in ["ip", "tshark", "freeDiameterd"] {
        require(
            tool,
            "run `bash ../shared/peers/install.sh` (Debian packages iproute2, tshark, freediameter)",
        );
    }
    let dir = std::env::temp_dir().join(format!("dia-embassy-tap-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("temp dir");
    let ns = Namespace::new(tag);
    let capture = Capture::start(&ns, &dir);
    (turn, dir, ns, capture)
}

/// On the calling thread, inside `ns` (which it enters): the embassy
/// stack on `tap0` at 10.99.0.2, a client node towards 10.99.0.1:3868, the
/// prepaid call `session_id` (CCR-I, CCR-U, 1.5 s, CCR-T), then DPR. The
/// CCA-I's grant, and every message the runner wrote or read.
fn embassy_call(ns: &Namespace, config: EndpointConfig, session_id: &str) -> (Grant, Wire) {
    ns.enter();
    let mut tap = TunTapDevice::new("tap0").expect("attach to tap0");
    tap.set_hardware_address([0x02, 0, 0, 0x99, 0, 2]);
    let net_config = Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(Ipv4Address::new(10, 99, 0, 2), 24),
        gateway: None,
        dns_servers: Default::default(),
    });
    let mut resources = StackResources::<4>::new();
    let (stack, mut net) = embassy_net::new(tap, net_config, &mut resources, 0x5eed);

    let node: Node<NoopRawMutex, _, _, 1, 4> =
        Node::new(Endpoint::new(config, diameter_embassy::clock::now()));
    node.with(|ep| ep.add_peer(Role::Initiator, None).expect("a peer slot"));
    let remote = IpEndpoint::new(Ipv4Address::new(10, 99, 0, 1).into(), PORT);
    let (mut rx, mut tx) = ([0u8; 4096], [0u8; 4096]);
    let wire = Wire::default();
    let mut runner = Runner::new(
        &node,
        TcpClient::new(stack, remote, &mut rx, &mut tx),
        Buffers::<4096, 4096>::new(),
        wire.clone(),
    );

    let call = async {
        node.wait_open().await;
        let mut call = node
            .prepaid(session_id, Parties::new("1001", "1002").expect("parties"))
            .expect("a session");
        let grant = call.start().await;
        call.answered().await.expect("CCR-U");
        Timer::after(Duration::from_millis(1500)).await;
        call.hangup(TerminationCause::Logout).await.expect("CCA-T");
        node.shutdown(DisconnectCause::Rebooting);
        wait_event(&node, |e| is_peer(e, |e| matches!(e, peer::Event::Down(_)))).await;
        grant
    };
    let grant = futures_executor::block_on(async {
        match select(
            select3(net.run(), runner.run(), call),
            Timer::after(Duration::from_secs(60)),
        )
        .await
        {
            Either::First(Either3::Third(grant)) => grant,
            Either::First(_) => unreachable!("the runners never return"),
            Either::Second(()) => panic!(
                "the call did not complete within 60 s: {:?}",
                wire.commands()
            ),
        }
    });
    (grant.expect("the CCA-I grants"), wire)
}

/// Every frame of the capture and every logged message dissect cleanly,
/// and the capture holds exactly one CER/CEA, three CCR/CCA and one
/// DPR/DPA.
fn check_capture(dir: &Path, capture: Capture, wire: &Wire) {
    wire.assert_valid();
    let pcap = capture.stop();
    let decode = peers_dir().join("tshark-decode.sh");
    sh(Command::new("bash").arg(&decode).args([
        "--pcap",
        pcap.to_str().expect("utf-8 path"),
        "--port",
        &PORT.to_string(),
    ]));
    let fields = sh(Command::new("tshark").args([
        "-n",
        "-r",
        pcap.to_str().expect("utf-8 path"),
        "-d",
        &format!("tcp.port=={PORT},diameter"),
        "-Y",
        "diameter",
        "-T",
        "fields",
        "-e",
        "diameter.cmd.code",
        "-e",
        "diameter.flags.request",
    ]));
    let seen: Vec<(u32, bool)> = fields
        .lines()
        .flat_map(|l| {
            // One line per frame; a frame may carry several messages.
            let mut cols = l.split('\t');
            let codes: Vec<u32> = cols
                .next()
                .unwrap_or("")
                .split(',')
                .filter_map(|c| c.parse().ok())
                .collect();
            let reqs: Vec<bool> = cols
                .next()
                .unwrap_or("")
                .split(',')
                .map(|r| r == "1" || r == "True")
                .collect();
            codes.into_iter().zip(reqs).collect::<Vec<_>>()
        })
        .collect();
    let count = |code, req| seen.iter().filter(|s| **s == (code, req)).count();
    assert_eq!(count(257, true), 1, "CER in {seen:?}");
    assert_eq!(count(257, false), 1, "CEA in {seen:?}");
    assert_eq!(count(272, true), 3, "CCR-I/U/T in {seen:?}");
    assert_eq!(count(272, false), 3, "CCAs in {seen:?}");
    assert_eq!(count(282, true), 1, "DPR in {seen:?}");
    assert_eq!(count(282, false), 1, "DPA in {seen:?}");

    // And every message the runner logged, one by one.
    let hex = dir.join("messages.hex");
    let text: String = wire
        .messages()
        .iter()
        .map(|m| m.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n")
        .collect();
    fs::write(&hex, text).expect("write hex");
    sh(Command::new("bash").arg(&decode).arg(&hex));
}

#[test]
#[ignore = "needs root, freeDiameter and tshark: run by scripts/test.sh with --ignored"]
fn prepaid_call_over_a_tap_link_to_freediameter() {
    let (_turn, dir, ns, capture) = setup("fd");
    let fd = FreeDiameter::start(&ns, &dir);
    let (grant, wire) = embassy_call(&ns, config(false), "embassy-tap-call-1");
    // freeDiameter's test extension grants CC-Time 60 (FD_CC_TIME).
    assert_eq!(grant, Grant { seconds: Some(60) });
    drop(fd);
    check_capture(&dir, capture, &wire);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs root and tshark: run by scripts/test.sh with --ignored"]
fn prepaid_call_over_a_tap_link_to_the_diameter_tokio_server() {
    use diameter_cc::server::credit_control::CcServerConfig;
    use diameter_sim::fixtures::{ledger, Shared};

    let (_turn, dir, ns, capture) = setup("tokio");
    // The server's threads and sockets are the namespace's: enter it
    // before the runtime starts its workers.
    ns.enter();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let me = LocalIdentity::new("ocs.localdomain", REALM)
        .and_then(|l| l.with_application(App::auth(4)))
        .and_then(|l| l.with_product_name("diameter-tokio"))
        .expect("identity");
    let rating = Shared::new(ledger());
    let server = rt
        .block_on(
            diameter_tokio::Node::builder(EndpointConfig::new(
                PeerConfig::new(me, 1_704_067_200),
                WallClock::new(0),
            ))
            .credit_control(CcServerConfig::new(), rating.clone())
            .listen(format!("{SERVER_ADDR}:{PORT}").parse().expect("an address"))
            .start(),
        )
        .expect("the diameter-tokio server starts");

    let (grant, wire) = embassy_call(&ns, config(true), "embassy-tap-call-2");
    // 1001 has one hour; the CCR-I asks for more (SCENARIOS).
    assert_eq!(
        grant,
        Grant {
            seconds: Some(3600)
        }
    );
    // The CCR-T reported the 1.5 s talked: the server debited it.
    let debited = rating.lock().debited("embassy-tap-call-2");
    assert!((1..=3).contains(&debited), "debited {debited} s");
    rt.block_on(server.shutdown(StdDuration::from_secs(2)));
    drop(rt);
    check_capture(&dir, capture, &wire);
    let _ = fs::remove_dir_all(&dir);
}
