//! CCR/CCA round trips over loopback TCP (issue 10, "Speed"): rate and
//! p50/p99 latency with 1, 64 and 1,024 requests in flight on one
//! connection, in one run, for three servers:
//!
//! - `ours`: our server, a `diameter_tokio::Node` serving credit control
//!   with the built-in server sessions rated by an in-memory `Balances`
//!   (the default sizes: 64 peers, 16,384 sessions);
//! - `freeDiameter`: freeDiameter 1.2.1 with the test extension of
//!   `../shared/peers/` (its CCR handler answers 2001 with a
//!   Granted-Service-Unit);
//! - `echo`: a plain tokio server that reads each message by the length in
//!   its header and writes the same bytes back: the ceiling of any
//!   Diameter server on this transport.
//!
//! Each request is a CCR-Event (Requested-Action DIRECT_DEBITING,
//! Requested-Service-Unit CC-Time 1, User-Name 1001) with a Session-Id of
//! its own, so our server rates and debits one second every time. Two
//! clients:
//!
//! - `ours`: a `diameter_tokio::Node` (`Node::request`), one task per
//!   request in flight, each sending its next CCR as soon as its answer
//!   came; against our server and freeDiameter;
//! - `raw`: a minimal client on one connection (a CER first for the two
//!   Diameter servers), that writes one more message for each answer it
//!   reads (in one batch per read) and matches answers by Hop-by-Hop id;
//!   against all three. It shows each server apart from our client.
//!
//! Each server runs in a process of its own (ours and echo: this binary
//! again, on a 2-worker tokio runtime like the client's), so the CPU time
//! of the client process and of the server process are read apart from
//! `/proc/<pid>/stat`, per thread too.
//!
//! Then memory: our server's `VmRSS` before and after 1,000 idle peer
//! connections (CER/CEA done, nothing else), and on a fresh server before
//! and after 1,000 open prepaid sessions (CCR-I answered), and the fixed
//! sizes of the endpoint's tables.
//!
//! ```sh
//! cargo bench -p diameter-benches --bench transport          # the full run (about 4 minutes)
//! TRANSPORT_BENCH=smoke cargo bench -p diameter-benches --bench transport   # every row briefly
//! TRANSPORT_BENCH_ROWS=ours,echo TRANSPORT_BENCH_SECS=10 cargo bench -p diameter-benches --bench transport
//! ```
//!
//! Every cell (a row and a number in flight) is measured in 3 rounds, the
//! rows interleaved, so that a burst of load from elsewhere on a shared
//! machine lands in one round of several rows rather than in every round
//! of one row; the report takes the round of median rate and gives the
//! range. `TRANSPORT_BENCH_ROUNDS` and `TRANSPORT_BENCH_SECS` change the
//! rounds and the measured time of each (3 s, after 1 s of warm-up);
//! `TRANSPORT_BENCH_ROWS` picks among `ours,fd,echo,memory`. Needs `freeDiameterd` (`bash
//! ../shared/peers/install.sh`); without it the run fails.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diameter_cc::client::prepaid::PrepaidConfig;
use diameter_cc::client::Parties;
use diameter_cc::dict::{CcRequestType, RequestedAction};
use diameter_cc::endpoint::{Endpoint, EndpointConfig};
use diameter_cc::msg::{CcrRepr, ServiceUnit};
use diameter_cc::server::accounting::NoSink;
use diameter_cc::server::credit_control::{Balances, CcServerConfig};
use diameter_cc::session::WallClock;
use diameter_core::dict::base;
use diameter_core::dict::base::TerminationCause;
use diameter_core::peer::{App, LocalIdentity, PeerConfig};
use diameter_core::{
    AddressValue, ApplicationId, CommandCode, HeaderRepr, Message, MessageBuilder,
};
use diameter_sim::peers::FreeDiameter;
use diameter_tokio::{Authorization, Limits, Node, Target};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// freeDiameter admits `*.localdomain` and serves the realm `localdomain`:
/// every node of the run lives there.
const REALM: &str = "localdomain";
const SERVER: &str = "ocs.localdomain";
const CLIENT: &str = "bench.localdomain";
const CONTEXT: &str = "32260@3gpp.org";
const SUBSCRIBER: &str = "1001";
const WINDOWS: [usize; 3] = [1, 64, 1024];

/// The sizes of our server in the rate rows (the defaults of
/// `Builder::start`).
const PEERS: usize = diameter_tokio::DEFAULT_PEERS;
const SESSIONS: usize = diameter_tokio::DEFAULT_SESSIONS;
/// The sizes of our server in the memory rows: room for the idle peers.
const WIDE_PEERS: usize = 1100;
const WIDE_SESSIONS: usize = 2048;
type Rating = Balances<2048>;

struct Mode {
    name: &'static str,
    /// `TRANSPORT_BENCH_ROWS`: which of `ours,fd,echo,memory` run (all by
    /// default; a ratio whose rows did not run is left out).
    rows: Vec<String>,
    /// Every cell is measured this many times (interleaved with the other
    /// rows); the report takes the median.
    rounds: usize,
    warm: Duration,
    measure: Duration,
    idle_peers: usize,
    sessions: usize,
}

impl Mode {
    fn from_env() -> Mode {
        let mut m = Mode::sized();
        if let Ok(rows) = std::env::var("TRANSPORT_BENCH_ROWS") {
            m.rows = rows.split(',').map(str::to_owned).collect();
        }
        if let Ok(n) = std::env::var("TRANSPORT_BENCH_ROUNDS") {
            m.rounds = n.parse().expect("TRANSPORT_BENCH_ROUNDS");
            assert!(m.rounds > 0, "TRANSPORT_BENCH_ROUNDS=0");
        }
        if let Ok(secs) = std::env::var("TRANSPORT_BENCH_SECS") {
            m.measure = Duration::from_secs_f64(secs.parse().expect("TRANSPORT_BENCH_SECS"));
        }
        m
    }

    fn runs(&self, row: &str) -> bool {
        self.rows.iter().any(|r| r == row)
    }

    fn sized() -> Mode {
        let rows = ["ours", "fd", "echo", "memory"].map(str::to_owned).to_vec();
        match std::env::var("TRANSPORT_BENCH").as_deref() {
            Ok("smoke") => Mode {
                name: "smoke",
                rows,
                rounds: 1,
                warm: Duration::from_millis(100),
                measure: Duration::from_millis(300),
                idle_peers: 20,
                sessions: 20,
            },
            Ok("full") | Err(_) => Mode {
                name: "full",
                rows,
                rounds: 3,
                warm: Duration::from_secs(1),
                measure: Duration::from_secs(3),
                idle_peers: 1000,
                sessions: 1000,
            },
            Ok(other) => panic!("TRANSPORT_BENCH={other:?}: `smoke`, `full` or unset"),
        }
    }
}

fn main() {
    match std::env::var("TRANSPORT_BENCH_SERVE").as_deref() {
        Ok("ours") => return serve_ours::<PEERS, SESSIONS>(),
        Ok("ours-wide") => return serve_ours::<WIDE_PEERS, WIDE_SESSIONS>(),
        Ok("echo") => return serve_echo(),
        Ok(other) => panic!("TRANSPORT_BENCH_SERVE={other:?}"),
        Err(_) => {}
    }
    // `cargo bench` passes `--bench`; a name filter is not supported.
    let mode = Mode::from_env();
    let rt = runtime();
    rt.block_on(bench(mode));
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

// ---------------------------------------------------------------------------
// Identities and messages

fn identity(host: &str) -> LocalIdentity {
    LocalIdentity::new(host, REALM)
        .and_then(|l| l.with_application(App::auth(4)))
        .and_then(|l| l.with_supported_vendor(10415))
        .and_then(|l| l.with_product_name("diameter-rs"))
        .expect("identity")
}

fn endpoint_config(host: &str) -> EndpointConfig {
    EndpointConfig::new(
        PeerConfig::new(identity(host), 1_764_720_000),
        WallClock::new(0),
    )
}

/// A CER from `host` (for the idle peers of the memory rows).
fn cer(host: &str, id: u32) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let h = HeaderRepr::request(
        CommandCode::CAPABILITIES_EXCHANGE,
        ApplicationId::COMMON,
        id,
        id,
    );
    let mut b = MessageBuilder::new(&mut buf, h);
    b.put(&base::ORIGIN_HOST, host)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::HOST_IP_ADDRESS, AddressValue::V4([127, 0, 0, 1]))
        .put(&base::VENDOR_ID, 0)
        .put(&base::PRODUCT_NAME, "idle")
        .put(&base::AUTH_APPLICATION_ID, 4);
    b.finish().expect("CER encodes").to_vec()
}

fn result_code(msg: &[u8]) -> Option<u32> {
    let m = Message::new_checked(msg).ok()?;
    let rc = m.find(268, 0)?;
    rc.data().try_into().ok().map(u32::from_be_bytes)
}

// ---------------------------------------------------------------------------
// The server processes (this binary with TRANSPORT_BENCH_SERVE)

/// Say the port on stdout, then run until stdin closes.
fn serve_until_stdin_closes(port: u16) {
    println!("LISTEN {port}");
    std::io::stdout().flush().expect("stdout");
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
}

fn serve_ours<const P: usize, const S: usize>() {
    let rt = runtime();
    let node = rt.block_on(async {
        let mut rating = Rating::new();
        rating.set(SUBSCRIBER, u64::MAX / 4);
        let limits = Limits {
            max_connections: 4096,
            idle_timeout: Duration::from_secs(3600),
            ..Limits::default()
        };
        Node::builder(endpoint_config(SERVER))
            .credit_control(CcServerConfig::new(), rating)
            .listen("127.0.0.1:0".parse().expect("addr"))
            .limits(limits)
            .start_sized::<P, S>()
            .await
            .expect("our server starts")
    });
    serve_until_stdin_closes(node.local_addrs()[0].port());
    rt.block_on(node.shutdown(Duration::from_secs(1)));
}

fn serve_echo() {
    let rt = runtime();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    rt.spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(echo(s));
        }
    });
    serve_until_stdin_closes(port);
}

/// Write every whole message back as it came, as a server that answers
/// each request at once with a message of the same size would.
async fn echo(mut s: tokio::net::TcpStream) {
    let _ = s.set_nodelay(true);
    let mut buf = vec![0u8; 65_536];
    let mut filled = 0;
    loop {
        let n = match s.read(&mut buf[filled..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        filled += n;
        let whole = whole_messages(&buf[..filled]);
        if whole > 0 {
            if s.write_all(&buf[..whole]).await.is_err() {
                return;
            }
            buf.copy_within(whole..filled, 0);
            filled -= whole;
        }
        if filled == buf.len() {
            return; // a message larger than 64 KiB: not ours
        }
    }
}

/// How many bytes at the start of `b` are whole messages.
fn whole_messages(b: &[u8]) -> usize {
    let mut at = 0;
    while b.len() >= at + 4 {
        let len = u32::from_be_bytes([0, b[at + 1], b[at + 2], b[at + 3]]) as usize;
        if len < 20 || b.len() < at + len {
            break;
        }
        at += len;
    }
    at
}

/// A server process of ours (stopped when dropped: stdin closed).
struct ServerProc {
    child: Child,
    addr: SocketAddr,
}

impl ServerProc {
    fn spawn(role: &str) -> ServerProc {
        let exe = std::env::current_exe().expect("current exe");
        let mut child = Command::new(exe)
            .env("TRANSPORT_BENCH_SERVE", role)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start a server process");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the port");
        let port: u16 = line
            .strip_prefix("LISTEN ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("server process {role} said {line:?}"));
        ServerProc {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// /proc

/// User + system CPU time of a process, in seconds.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/<pid>/stat");
    // After the command name in parentheses: state is field 3, utime 14.
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().expect("utime") + f[12].parse::<u64>().expect("stime");
    ticks as f64 / clock_ticks() as f64
}

fn clock_ticks() -> u64 {
    static TCK: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TCK.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    })
}

/// CPU seconds of each thread of a process, summed by kind: our node's
/// thread (`diameter ...`), the tokio workers, any other name as it is.
fn thread_cpu(pid: u32) -> Vec<(String, f64)> {
    let mut by: Vec<(String, f64)> = Vec::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return by;
    };
    for t in dir.flatten() {
        let Ok(stat) = std::fs::read_to_string(t.path().join("stat")) else {
            continue;
        };
        let (Some(a), Some(b)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[a + 1..b];
        let kind = if comm.starts_with("diameter") {
            "node thread"
        } else if comm.starts_with("tokio-runtime") {
            "tokio workers"
        } else {
            comm
        };
        let f: Vec<&str> = stat[b + 2..].split_whitespace().collect();
        let ticks: u64 = f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0);
        let secs = ticks as f64 / clock_ticks() as f64;
        match by.iter_mut().find(|(k, _)| k == kind) {
            Some(e) => e.1 += secs,
            None => by.push((kind.to_owned(), secs)),
        }
    }
    by
}

/// `after - before` per kind, as "kind N%" over `secs` of wall time.
fn thread_share(before: &[(String, f64)], after: &[(String, f64)], secs: f64) -> String {
    after
        .iter()
        .map(|(k, a)| {
            let b = before.iter().find(|(kb, _)| kb == k).map_or(0.0, |x| x.1);
            (k, (a - b) / secs)
        })
        .filter(|(_, share)| *share >= 0.01)
        .map(|(k, share)| format!("{k} {:.0}%", 100.0 * share))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether process `pid` exists and is not a zombie.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let state = s[s.rfind(')')? + 2..].chars().next()?;
            Some(state != 'Z' && state != 'X')
        })
        .unwrap_or(false)
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/<pid>/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

// ---------------------------------------------------------------------------
// Measuring

/// One row and window of the table.
struct Cell {
    server: &'static str,
    client: &'static str,
    window: usize,
    round_trips: usize,
    secs: f64,
    p50_us: f64,
    p99_us: f64,
    client_cpu: f64,
    server_cpu: f64,
    client_threads: String,
    server_threads: String,
    /// The lowest and highest rate over the rounds.
    spread: (f64, f64),
}

impl Cell {
    fn rate(&self) -> f64 {
        self.round_trips as f64 / self.secs
    }
}

/// The times of one cell: warm up until `from`, count until `to`.
#[derive(Clone, Copy)]
struct Span {
    from: Instant,
    to: Instant,
}

impl Span {
    fn new(mode: &Mode) -> Span {
        let from = Instant::now() + mode.warm;
        Span {
            from,
            to: from + mode.measure,
        }
    }
    fn counts(&self, done: Instant) -> bool {
        done >= self.from && done < self.to
    }
}

/// CPU seconds of this process and of `server` between `span.from` and
/// `span.to` (sampled by a task of its own).
fn cpu_sampler(span: Span, server: u32) -> tokio::task::JoinHandle<Cpu> {
    let me = std::process::id();
    tokio::spawn(async move {
        tokio::time::sleep_until(span.from.into()).await;
        let (c0, s0) = (cpu_secs(me), cpu_secs(server));
        let (ct0, st0) = (thread_cpu(me), thread_cpu(server));
        tokio::time::sleep_until(span.to.into()).await;
        let (c1, s1) = (cpu_secs(me), cpu_secs(server));
        let secs = (span.to - span.from).as_secs_f64();
        Cpu {
            client: c1 - c0,
            server: s1 - s0,
            client_threads: thread_share(&ct0, &thread_cpu(me), secs),
            server_threads: thread_share(&st0, &thread_cpu(server), secs),
        }
    })
}

/// CPU seconds of the client and server processes during a cell, and the
/// share of their threads.
struct Cpu {
    client: f64,
    server: f64,
    client_threads: String,
    server_threads: String,
}

fn cell(
    server: &'static str,
    client: &'static str,
    window: usize,
    span: Span,
    mut lat: Vec<u32>,
    cpu: Cpu,
) -> Cell {
    assert!(!lat.is_empty(), "{server}, {window} in flight: no answer");
    lat.sort_unstable();
    let pct = |p: usize| lat[(lat.len() * p / 100).min(lat.len() - 1)] as f64 / 1000.0;
    Cell {
        server,
        client,
        window,
        round_trips: lat.len(),
        secs: (span.to - span.from).as_secs_f64(),
        p50_us: pct(50),
        p99_us: pct(99),
        client_cpu: cpu.client,
        server_cpu: cpu.server,
        client_threads: cpu.client_threads,
        server_threads: cpu.server_threads,
        spread: (0.0, 0.0),
    }
}

static NEXT_SESSION: AtomicU64 = AtomicU64::new(0);

/// `window` tasks, each sending a CCR through `node` as soon as its last
/// one was answered. Every answer must be a success.
async fn run_node(
    server: &'static str,
    node: &Node,
    window: usize,
    mode: &Mode,
    server_pid: u32,
) -> Cell {
    let span = Span::new(mode);
    let cpu = cpu_sampler(span, server_pid);
    let (template, digits) = ccr_template(CLIENT);
    let template = Arc::new(template);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..window {
        let node = node.clone();
        let template = template.clone();
        tasks.spawn(async move {
            let mut lat = Vec::new();
            loop {
                let mut bytes = template.to_vec();
                let n = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
                write_digits(&mut bytes[digits..digits + 10], n);
                let t0 = Instant::now();
                if t0 >= span.to {
                    return lat;
                }
                match node.request(bytes).await {
                    Ok(_) => {}
                    Err(e) => panic!("{server}, {window} in flight: {e}"),
                }
                let t1 = Instant::now();
                if span.counts(t1) {
                    lat.push((t1 - t0).as_nanos().min(u32::MAX as u128) as u32);
                }
            }
        });
    }
    let mut lat = Vec::new();
    while let Some(r) = tasks.join_next().await {
        lat.extend(r.expect("a request task"));
    }
    cell(
        server,
        "ours",
        window,
        span,
        lat,
        cpu.await.expect("cpu sampler"),
    )
}

/// The raw client: one connection, `window` messages in flight; each
/// answer read lets one more message go (written in one batch per read,
/// as our driver batches). Against a Diameter server (`diameter`) it does
/// the capabilities exchange first (Origin-Host `raw-<n>.localdomain`),
/// every CCR has its own Session-Id and identifiers, and answers are
/// matched by Hop-by-Hop id; the echo server gets the same bytes.
async fn run_raw(
    server: &'static str,
    addr: SocketAddr,
    window: usize,
    mode: &Mode,
    server_pid: u32,
    diameter: bool,
) -> Cell {
    // On the runtime's workers, as the tasks of our client run.
    let span = Span::new(mode);
    tokio::spawn(raw_client(server, addr, window, span, server_pid, diameter))
        .await
        .expect("the raw client")
}

/// A CCR-Event from `host` that our server rates (one second debited from
/// 1001) and freeDiameter answers, whose Session-Id ends in ten digits to
/// patch (every request has its own); returns it and where the digits
/// are.
fn ccr_template(host: &str) -> (Vec<u8>, usize) {
    let sid = format!("{host};bench;0000000000");
    let mut r = CcrRepr::new(&sid, host, REALM, REALM, CONTEXT, CcRequestType::Event, 0);
    r.user_name = Some(SUBSCRIBER);
    r.requested_action = Some(RequestedAction::DirectDebiting);
    r.requested_service_unit = Some(ServiceUnit {
        cc_time: Some(1),
        ..ServiceUnit::default()
    });
    let mut buf = [0u8; 1024];
    let m = r
        .encode(CcrRepr::header(0, 0), &mut buf)
        .expect("CCR encodes")
        .to_vec();
    let at = m
        .windows(sid.len())
        .position(|w| w == sid.as_bytes())
        .expect("the Session-Id is in the message")
        + sid.len()
        - 10;
    (m, at)
}

/// `n` as decimal digits filling `out`.
fn write_digits(out: &mut [u8], mut n: u64) {
    for d in out.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

static NEXT_RAW: AtomicU64 = AtomicU64::new(0);

async fn raw_client(
    server: &'static str,
    addr: SocketAddr,
    window: usize,
    span: Span,
    server_pid: u32,
    diameter: bool,
) -> Cell {
    let conn = NEXT_RAW.fetch_add(1, Ordering::Relaxed);
    let host = format!("raw-{conn}.{REALM}");
    let (template, digits) = ccr_template(&host);
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut buf = vec![0u8; 1 << 20];
    let mut filled = 0;
    if diameter {
        stream
            .write_all(&cer(&host, 1))
            .await
            .expect("CER to the server");
        loop {
            let n = stream.read(&mut buf[filled..]).await.expect("CEA");
            assert!(n > 0, "{server} closed before the CEA");
            filled += n;
            let whole = whole_messages(&buf[..filled]);
            if whole > 0 {
                let len = u32::from_be_bytes([0, buf[1], buf[2], buf[3]]) as usize;
                assert_eq!(result_code(&buf[..len]), Some(2001), "CEA of {server}");
                buf.copy_within(len..filled, 0);
                filled -= len;
                break;
            }
        }
    }
    let (mut rd, mut wr) = stream.into_split();
    let sent: Arc<Mutex<HashMap<u32, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let (more_tx, mut more_rx) = tokio::sync::mpsc::unbounded_channel::<usize>();
    let cpu = cpu_sampler(span, server_pid);

    let times = sent.clone();
    let writer = tokio::spawn(async move {
        let mut out = Vec::new();
        let mut n = window;
        let mut id: u32 = 1;
        loop {
            out.clear();
            {
                let now = Instant::now();
                let mut q = times.lock().expect("times");
                for _ in 0..n {
                    let at = out.len();
                    out.extend_from_slice(&template);
                    let m = &mut out[at..];
                    m[12..16].copy_from_slice(&id.to_be_bytes());
                    m[16..20].copy_from_slice(&id.to_be_bytes());
                    write_digits(&mut m[digits..digits + 10], u64::from(id));
                    q.insert(id, now);
                    id = id.wrapping_add(1).max(1);
                }
            }
            if wr.write_all(&out).await.is_err() {
                return;
            }
            let Some(k) = more_rx.recv().await else {
                return;
            };
            n = k;
            while let Ok(k) = more_rx.try_recv() {
                n += k;
            }
        }
    });

    let mut lat = Vec::new();
    let mut checked = 0u64;
    loop {
        let whole = whole_messages(&buf[..filled]);
        let now = Instant::now();
        let mut k = 0;
        let mut at = 0;
        {
            let mut q = sent.lock().expect("times");
            while at < whole {
                let m = &buf[at..];
                let len = u32::from_be_bytes([0, m[1], m[2], m[3]]) as usize;
                let m = &m[..len];
                at += len;
                if diameter && m[4] & 0x80 != 0 {
                    continue; // a request of the server (a DWR): not ours
                }
                if diameter && checked & 1023 == 0 {
                    assert_eq!(result_code(m), Some(2001), "an answer of {server}");
                }
                checked += 1;
                let hbh = u32::from_be_bytes([m[12], m[13], m[14], m[15]]);
                let t0 = q.remove(&hbh).expect("an answer to a request sent");
                k += 1;
                if span.counts(now) {
                    lat.push((now - t0).as_nanos().min(u32::MAX as u128) as u32);
                }
            }
        }
        buf.copy_within(whole..filled, 0);
        filled -= whole;
        if now >= span.to {
            break;
        }
        if k > 0 {
            let _ = more_tx.send(k);
        }
        let n = rd.read(&mut buf[filled..]).await.expect("read");
        assert!(n > 0, "{server} closed the connection");
        filled += n;
    }
    drop(more_tx);
    let _ = writer.await;
    cell(
        server,
        "raw",
        window,
        span,
        lat,
        cpu.await.expect("cpu sampler"),
    )
}

async fn client_node(addr: SocketAddr) -> Node {
    let mut config = endpoint_config(CLIENT);
    config.prepaid = Some(PrepaidConfig::new(REALM, CONTEXT).expect("prepaid config"));
    let node = Node::builder(config)
        .connect_to(Target::new(addr))
        .start_sized::<4, 2048>()
        .await
        .expect("our client starts");
    node.wait_open(Duration::from_secs(10))
        .await
        .expect("the server opens");
    node
}

// ---------------------------------------------------------------------------
// Memory

struct Memory {
    idle_peers: usize,
    idle_kib: (u64, u64),
    sessions: usize,
    session_kib: (u64, u64),
}

/// Our server's RSS with `n` idle peers (each a TCP connection that sent a
/// CER, got CEA 2001, and then nothing), and with `m` prepaid sessions
/// open (CCR-I answered, not ended).
async fn memory(mode: &Mode) -> Memory {
    let srv = ServerProc::spawn("ours-wide");
    tokio::time::sleep(Duration::from_millis(300)).await;
    // One peer first, so that what every connection shares (tasks, the
    // listener's first accept) is not counted.
    let mut idle = vec![idle_peer(srv.addr, 0).await];
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_kib(srv.pid());
    for chunk in (1..=mode.idle_peers).collect::<Vec<_>>().chunks(50) {
        let mut set = tokio::task::JoinSet::new();
        for &i in chunk {
            set.spawn(idle_peer(srv.addr, i as u32));
        }
        while let Some(s) = set.join_next().await {
            idle.push(s.expect("idle peer"));
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(srv.pid());
    drop(idle);
    drop(srv);

    // Sessions, on a fresh server: a few calls first (warm the
    // allocator), then `m` calls started and held.
    let srv = ServerProc::spawn("ours-wide");
    let client = client_node(srv.addr).await;
    for i in 0..20 {
        let mut c = start_call(&client, &format!("warm-{i}")).await;
        c.hangup(TerminationCause::Logout).await.expect("hangup");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s0 = rss_kib(srv.pid());
    let mut calls = Vec::new();
    for i in 0..mode.sessions {
        calls.push(start_call(&client, &format!("held-{i}")).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s1 = rss_kib(srv.pid());
    for mut c in calls {
        c.hangup(TerminationCause::Logout).await.expect("hangup");
    }
    client.shutdown(Duration::from_secs(2)).await;
    Memory {
        idle_peers: mode.idle_peers,
        idle_kib: (before, after),
        sessions: mode.sessions,
        session_kib: (s0, s1),
    }
}

async fn start_call(client: &Node, id: &str) -> diameter_tokio::Call {
    let parties = Parties::new(SUBSCRIBER, "1002").expect("parties");
    let mut c = client
        .prepaid(&format!("{CLIENT};{id}"), parties)
        .await
        .expect("open");
    let a = c.start().await.expect("CCR-I answered");
    assert!(matches!(a, Authorization::Allowed { .. }), "{a:?}");
    c
}

/// A connection that did the capabilities exchange and then stays quiet.
async fn idle_peer(addr: SocketAddr, i: u32) -> tokio::net::TcpStream {
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .expect("idle connect");
    s.write_all(&cer(&format!("idle-{i}.{REALM}"), i + 1))
        .await
        .expect("CER");
    let mut buf = vec![0u8; 4096];
    let mut filled = 0;
    loop {
        let n = s.read(&mut buf[filled..]).await.expect("CEA");
        assert!(n > 0, "closed before the CEA");
        filled += n;
        let whole = whole_messages(&buf[..filled]);
        if whole > 0 {
            assert_eq!(result_code(&buf[..whole]), Some(2001), "CEA of idle-{i}");
            return s;
        }
    }
}

// ---------------------------------------------------------------------------
// The run

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_owned()
}

async fn bench(mode: Mode) {
    println!(
        "transport bench ({} mode: {} rounds of {:?} per cell after {:?} of warm-up), {} CPUs, load average at start: {}",
        mode.name,
        mode.rounds,
        mode.measure,
        mode.warm,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg()
    );
    println!(
        "  a CCR-Event of {} bytes (our client's Origin-Host)",
        ccr_template(CLIENT).0.len()
    );
    // Every server starts once and serves every round.
    let ours = if mode.runs("ours") {
        let srv = ServerProc::spawn("ours");
        let client = client_node(srv.addr).await;
        println!(
            "  our server ({PEERS} peers, {SESSIONS} sessions) holds {} KiB resident with one peer open",
            rss_kib(srv.pid())
        );
        Some((srv, client))
    } else {
        None
    };
    let fd = if mode.runs("fd") {
        let fd = tokio::task::spawn_blocking(|| {
            FreeDiameter::start("transport-bench", &[("FD_TW", "30".to_owned())])
        })
        .await
        .expect("freeDiameter");
        let pid = fd.pid().expect("freeDiameter's pid");
        let client = client_node(fd.addr()).await;
        println!(
            "  freeDiameter holds {} KiB resident with one peer open",
            rss_kib(pid)
        );
        Some((fd, pid, client))
    } else {
        None
    };
    let echo = mode.runs("echo").then(|| ServerProc::spawn("echo"));

    let mut all = Vec::new();
    for round in 1..=mode.rounds {
        println!(
            "round {round} of {} (load average {})",
            mode.rounds,
            loadavg()
        );
        if let Some((srv, client)) = &ours {
            for w in WINDOWS {
                all.push(run_node("ours", client, w, &mode, srv.pid()).await);
                print_cell(all.last().expect("cell"));
            }
            for w in WINDOWS {
                all.push(run_raw("ours", srv.addr, w, &mode, srv.pid(), true).await);
                print_cell(all.last().expect("cell"));
            }
        }
        if let Some((fd, pid, client)) = &fd {
            for w in WINDOWS {
                all.push(run_node("freeDiameter", client, w, &mode, *pid).await);
                print_cell(all.last().expect("cell"));
            }
            for w in WINDOWS {
                all.push(run_raw("freeDiameter", fd.addr(), w, &mode, *pid, true).await);
                print_cell(all.last().expect("cell"));
            }
        }
        if let Some(srv) = &echo {
            for w in WINDOWS {
                all.push(run_raw("echo", srv.addr, w, &mode, srv.pid(), false).await);
                print_cell(all.last().expect("cell"));
            }
        }
    }
    if let Some((srv, client)) = ours {
        let s = client.stats();
        assert_eq!(s.timeouts, 0, "{s:?}");
        client.shutdown(Duration::from_secs(2)).await;
        drop(srv);
    }
    if let Some((fd, pid, client)) = fd {
        client.shutdown(Duration::from_secs(2)).await;
        tokio::task::spawn_blocking(move || drop(fd))
            .await
            .expect("stop freeDiameter");
        // Never leave a daemon behind on a shared machine.
        let end = Instant::now() + Duration::from_secs(12);
        while alive(pid) {
            assert!(
                Instant::now() < end,
                "freeDiameter (pid {pid}) still runs after its stop"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    drop(echo);

    let mem = if mode.runs("memory") {
        Some(memory(&mode).await)
    } else {
        None
    };
    println!("load average at the end: {}", loadavg());
    report(&medians(all), mode.rounds, mem.as_ref());
}

/// Per row and window, the round of median rate (its latencies and CPU
/// too), with the lowest and highest rate of all rounds.
fn medians(mut all: Vec<Cell>) -> Vec<Cell> {
    let mut out: Vec<Cell> = Vec::new();
    while let Some(first) = all.first() {
        let key = (first.server, first.client, first.window);
        let (mut same, rest): (Vec<Cell>, Vec<Cell>) = all
            .into_iter()
            .partition(|c| (c.server, c.client, c.window) == key);
        all = rest;
        same.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
        let lo = same.first().map_or(0.0, Cell::rate);
        let hi = same.last().map_or(0.0, Cell::rate);
        let mut m = same.swap_remove(same.len() / 2);
        m.spread = (lo, hi);
        out.push(m);
    }
    out
}

fn print_cell(c: &Cell) {
    println!(
        "  {:<12} ({:<4} client) {:>5} in flight: {:>9.0} round trips/s, p50 {:>8.1} µs, p99 {:>8.1} µs, CPU client {:>4.0}% server {:>4.0}%",
        c.server,
        c.client,
        c.window,
        c.rate(),
        c.p50_us,
        c.p99_us,
        100.0 * c.client_cpu / c.secs,
        100.0 * c.server_cpu / c.secs,
    );
    println!(
        "      client threads: {}; server threads: {}",
        c.client_threads, c.server_threads
    );
}

fn report(cells: &[Cell], rounds: usize, mem: Option<&Memory>) {
    println!();
    println!("Median round of {rounds} by rate (its latencies and CPU); the rate's range over the rounds:");
    println!();
    println!("| server (client) | in flight | round trips/s | range | p50 µs | p99 µs | client CPU | server CPU | client CPU µs per round trip | server CPU µs per round trip |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for c in cells {
        println!(
            "| {} ({}) | {} | {:.0} | {:.0}–{:.0} | {:.1} | {:.1} | {:.0}% | {:.0}% | {:.1} | {:.1} |",
            c.server,
            c.client,
            c.window,
            c.rate(),
            c.spread.0,
            c.spread.1,
            c.p50_us,
            c.p99_us,
            100.0 * c.client_cpu / c.secs,
            100.0 * c.server_cpu / c.secs,
            1e6 * c.client_cpu / c.round_trips as f64,
            1e6 * c.server_cpu / c.round_trips as f64,
        );
    }
    println!();
    let get = |s: &str, client: &str, w: usize| {
        cells
            .iter()
            .find(|c| c.server == s && c.client == client && c.window == w)
    };
    let ratio = |a: Option<&Cell>, b: Option<&Cell>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}", a.rate() / b.rate()),
        _ => "-".to_owned(),
    };
    println!("| in flight | ours / freeDiameter, our client (goal ≥ 5) | the same, raw client | ours (our client) / echo (goal ≥ 0.5) | ours / echo, both raw client |");
    println!("| ---: | ---: | ---: | ---: | ---: |");
    for w in WINDOWS {
        println!(
            "| {w} | {} | {} | {} | {} |",
            ratio(get("ours", "ours", w), get("freeDiameter", "ours", w)),
            ratio(get("ours", "raw", w), get("freeDiameter", "raw", w)),
            ratio(get("ours", "ours", w), get("echo", "raw", w)),
            ratio(get("ours", "raw", w), get("echo", "raw", w)),
        );
    }
    println!();
    // Who saturates first: the CPU of each side in the freeDiameter rows.
    for c in cells.iter().filter(|c| c.server == "freeDiameter") {
        println!(
            "freeDiameter ({} client), {} in flight: freeDiameter used {:.0}% CPU, the client process {:.0}% ({} client CPU per round trip: {:.1} µs; freeDiameter: {:.1} µs)",
            c.client,
            c.window,
            100.0 * c.server_cpu / c.secs,
            100.0 * c.client_cpu / c.secs,
            c.client,
            1e6 * c.client_cpu / c.round_trips as f64,
            1e6 * c.server_cpu / c.round_trips as f64,
        );
    }
    println!();
    let Some(mem) = mem else {
        return;
    };
    let kib = |(a, b): (u64, u64), n: usize| (b as f64 - a as f64) * 1024.0 / n as f64;
    println!("Memory (our server's process, VmRSS):");
    println!(
        "- {} idle peers: {} KiB -> {} KiB, {:.0} bytes per idle peer connection",
        mem.idle_peers,
        mem.idle_kib.0,
        mem.idle_kib.1,
        kib(mem.idle_kib, mem.idle_peers)
    );
    println!(
        "- {} open prepaid sessions: {} KiB -> {} KiB, {:.0} bytes per session",
        mem.sessions,
        mem.session_kib.0,
        mem.session_kib.1,
        kib(mem.session_kib, mem.sessions)
    );
    type Ep<const P: usize, const S: usize> = Endpoint<Rating, NoSink, P, S>;
    let per_peer = std::mem::size_of::<Ep<2, 1024>>() - std::mem::size_of::<Ep<1, 1024>>();
    let per_peer_wide = std::mem::size_of::<Ep<2, 16384>>() - std::mem::size_of::<Ep<1, 16384>>();
    let per_session =
        (std::mem::size_of::<Ep<1, 2048>>() - std::mem::size_of::<Ep<1, 1024>>()) / 1024;
    println!("Fixed sizes (allocated when the node starts, whether used or not):");
    println!(
        "- the endpoint of the rate rows ({PEERS} peers, {SESSIONS} sessions): {} bytes; of the memory rows ({WIDE_PEERS}, {WIDE_SESSIONS}): {} bytes",
        std::mem::size_of::<Ep<PEERS, SESSIONS>>(),
        std::mem::size_of::<Ep<WIDE_PEERS, WIDE_SESSIONS>>()
    );
    println!(
        "- a peer slot: {per_peer} bytes with 1,024 sessions, {per_peer_wide} bytes with 16,384 (its pending table has room for SESSIONS requests)"
    );
    println!("- a session slot (with its index entry and the growth of one peer's pending table): {per_session} bytes");
}
