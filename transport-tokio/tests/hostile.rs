//! Hostile peers against our server, while a well-behaved client keeps
//! running prepaid calls on it: garbage (a bad version, a bad length), a
//! message over `max_message_size`, a peer that stalls in the middle of a
//! message (or trickles it a byte at a time), a peer that floods CCRs
//! without reading its answers, a peer that sends a huge burst to a
//! handler (throttled by `max_requests_in_flight`: 3004), and more
//! connections than `max_connections`. Each is disconnected (or refused) with a
//! [`NodeEvent::LimitBroken`] and a log line, the server never falls over,
//! and the good client's requests keep completing within a bound.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::*;
use diameter_cc::dict::CcRequestType;
use diameter_cc::msg::CcrRepr;
use diameter_core::dict::base::TerminationCause;
use diameter_sim::fixtures::{ledger, Records, Shared};
use diameter_tokio::{Authorization, Limits, Node, NodeEvent, Target};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::broadcast;

/// The limits under test, short enough for a test.
fn limits() -> Limits {
    Limits {
        max_message_size: 8192,
        max_connections: 4,
        max_queued_bytes: 1 << 20,
        stall_timeout: Duration::from_millis(500),
        ..Limits::default()
    }
}

/// The good client's slowest operation must stay under this (a debug
/// build on two loaded cores; a healthy run stays far below).
const BOUND: Duration = Duration::from_secs(5);

/// Every log line of this test binary (info and up of the transport),
/// also printed when `RUST_LOG` is set.
fn log_lines() -> &'static Mutex<Vec<u8>> {
    static LOG: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    LOG.get_or_init(|| {
        struct W;
        impl std::io::Write for W {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                log_lines().lock().unwrap().extend_from_slice(b);
                if std::env::var_os("RUST_LOG").is_some() {
                    eprint!("{}", String::from_utf8_lossy(b));
                }
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let _ = tracing_subscriber::fmt()
            .with_env_filter("diameter_tokio=info")
            .with_ansi(false)
            .with_writer(|| W)
            .try_init();
        Mutex::new(Vec::new())
    })
}

/// Whether a log line contains `text`.
fn logged(text: &str) -> bool {
    String::from_utf8_lossy(&log_lines().lock().unwrap()).contains(text)
}

/// A server under attack and a good client running prepaid calls on it,
/// one after the other, timing each step.
struct Scene {
    server: Node,
    client: Node,
    events: broadcast::Receiver<NodeEvent>,
    running: Arc<AtomicBool>,
    worker: tokio::task::JoinHandle<Result<Vec<Duration>, String>>,
}

impl Scene {
    async fn start() -> Scene {
        let _ = log_lines();
        let server = server_with(
            "ocs.diameter.test",
            Shared::new(ledger()),
            Shared::new(Records::default()),
            limits(),
        )
        .await;
        let events = server.events();
        let client = client("proxy.diameter.test", server.local_addrs()).await;
        let running = Arc::new(AtomicBool::new(true));
        let worker = tokio::spawn(good_client(client.clone(), running.clone()));
        // The good client is served before anything else happens.
        let stats = client.clone();
        assert!(until(30, || stats.stats().messages_in >= 7).await);
        Scene {
            server,
            client,
            events,
            running,
            worker,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.server.local_addrs()[0]
    }

    /// Wait for a [`NodeEvent::LimitBroken`] whose text contains `what`.
    async fn limit_broken(&mut self, what: &str) -> (Option<SocketAddr>, String) {
        let wait = async {
            loop {
                match self.events.recv().await {
                    Ok(NodeEvent::LimitBroken { addr, what: w }) if w.contains(what) => {
                        return (addr, w)
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(e) => panic!("{e}"),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(60), wait)
            .await
            .unwrap_or_else(|_| panic!("no LimitBroken event with {what:?}"))
    }

    /// Stop the good client; its calls must all have succeeded in time.
    async fn finish(self) {
        self.running.store(false, Ordering::Relaxed);
        let times = self
            .worker
            .await
            .unwrap()
            .expect("the good client is served");
        let slowest = times.iter().max().copied().unwrap_or_default();
        assert!(times.len() >= 3, "the good client ran: {times:?}");
        eprintln!(
            "good client: {} steps (CCR-I; CCR-U and CCR-T), slowest {slowest:?}",
            times.len()
        );
        assert!(
            slowest < BOUND,
            "the good client waited {slowest:?} (over {BOUND:?})"
        );
        // The server is still up and admits a new client.
        let late = client("late.diameter.test", self.server.local_addrs()).await;
        late.shutdown(Duration::from_secs(2)).await;
        self.client.shutdown(Duration::from_secs(2)).await;
        self.server.shutdown(Duration::from_secs(2)).await;
    }
}

/// Prepaid calls one after the other until told to stop: how long each
/// step (CCR-I, CCR-U, CCR-T) took.
async fn good_client(client: Node, running: Arc<AtomicBool>) -> Result<Vec<Duration>, String> {
    let mut times = Vec::new();
    let mut n = 0;
    while running.load(Ordering::Relaxed) || times.len() < 3 {
        n += 1;
        let sid = format!("good-{n}@proxy.diameter.test");
        let mut call = client
            .prepaid(&sid, parties("1001", "1002"))
            .await
            .map_err(|e| format!("{sid}: {e}"))?;
        let t = Instant::now();
        let auth = call.start().await.map_err(|e| format!("{sid}: {e}"))?;
        times.push(t.elapsed());
        if !matches!(auth, Authorization::Allowed { seconds: Some(_) }) {
            return Err(format!("{sid}: {auth:?}"));
        }
        call.answered().await.map_err(|e| format!("{sid}: {e}"))?;
        let t = Instant::now();
        let events = call
            .hangup(TerminationCause::Logout)
            .await
            .map_err(|e| format!("{sid}: {e}"))?;
        times.push(t.elapsed());
        if events.last() != Some(&diameter_cc::endpoint::SessionEvent::Closed) {
            return Err(format!("{sid}: {events:?}"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(times)
}

/// How long until the server closes `s` (reading and dropping whatever it
/// sends); `None` if it is still open after `secs`.
async fn closed_within(s: &mut TcpStream, secs: u64) -> Option<Duration> {
    let t = Instant::now();
    let mut buf = vec![0u8; 64 * 1024];
    let end = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        match tokio::time::timeout_at(end, s.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(t.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

/// A Diameter header: version, length, flags (R), code, ids.
fn header(version: u8, len: u32, code: u32) -> Vec<u8> {
    let mut h = vec![0u8; 20];
    h[0] = version;
    h[1..4].copy_from_slice(&len.to_be_bytes()[1..]);
    h[4] = 0x80;
    h[5..8].copy_from_slice(&code.to_be_bytes()[1..]);
    h[12..16].copy_from_slice(&7u32.to_be_bytes());
    h[16..20].copy_from_slice(&7u32.to_be_bytes());
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_oversize_messages_are_cut_off() {
    let mut scene = Scene::start().await;

    // Version 2.
    let mut s = TcpStream::connect(scene.addr()).await.unwrap();
    let mut bad = header(2, 20, 257);
    bad.extend_from_slice(b"garbage garbage garbage garbage!");
    s.write_all(&bad).await.unwrap();
    assert!(closed_within(&mut s, 30).await.is_some(), "bad version");
    let (addr, what) = scene.limit_broken("not Diameter").await;
    assert_eq!(addr, Some(s.local_addr().unwrap()), "{what}");

    // A length below the header's.
    let mut s = TcpStream::connect(scene.addr()).await.unwrap();
    s.write_all(&header(1, 12, 257)).await.unwrap();
    assert!(closed_within(&mut s, 30).await.is_some(), "bad length");
    scene.limit_broken("not Diameter").await;

    // Random bytes.
    let mut s = TcpStream::connect(scene.addr()).await.unwrap();
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let _ = s.write_all(&noise).await;
    assert!(closed_within(&mut s, 30).await.is_some(), "noise");
    scene.limit_broken("not Diameter").await;

    // A message over max_message_size is refused from its header, its
    // body never awaited.
    let mut s = TcpStream::connect(scene.addr()).await.unwrap();
    s.write_all(&header(1, 100_000, 272)).await.unwrap();
    let t = closed_within(&mut s, 30).await.expect("oversize");
    assert!(t < limits().stall_timeout * 4, "{t:?}");
    let (_, what) = scene.limit_broken("exceeds").await;
    assert!(what.contains("100000") && what.contains("8192"), "{what}");
    assert!(logged("exceeds the 8192-byte limit"));

    scene.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_or_trickling_message_is_cut_off_after_the_stall_timeout() {
    let mut scene = Scene::start().await;
    let stall = limits().stall_timeout;

    // A header, and the body never comes.
    let mut s = TcpStream::connect(scene.addr()).await.unwrap();
    s.write_all(&header(1, 200, 257)).await.unwrap();
    let t = closed_within(&mut s, 30)
        .await
        .expect("stalled peer closed");
    assert!(t >= stall - Duration::from_millis(50), "{t:?}");
    let (_, what) = scene.limit_broken("stalled").await;
    assert!(what.contains("500 ms"), "{what}");
    assert!(logged("stalled in the middle of a message"));

    // The body a byte at a time, each within the stall timeout: the
    // message as a whole is not finished in time.
    let mut s = TcpStream::connect(scene.addr()).await.unwrap();
    s.write_all(&header(1, 200, 257)).await.unwrap();
    let t = Instant::now();
    let mut closed = false;
    for _ in 0..180 {
        tokio::time::sleep(stall / 4).await;
        if s.write_all(&[0]).await.is_err() {
            closed = true;
            break;
        }
        // A closed connection shows on a read before a write fails.
        let mut b = [0u8; 64];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(1), s.read(&mut b)).await
        {
            closed = true;
            break;
        }
    }
    assert!(closed, "a trickling peer is cut off");
    // Well before the peer machine's own CER timeout (10 s).
    assert!(t.elapsed() < stall * 10, "{:?}", t.elapsed());
    scene.limit_broken("stalled").await;

    scene.finish().await;
}

/// The bytes of a CER from `host`, as our own client sends it.
async fn cer_of(host: &str) -> Vec<u8> {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let node = Node::builder(client_config(host, REALM))
        .connect_to(Target::new(l.local_addr().unwrap()))
        .start_sized::<2, 16>()
        .await
        .unwrap();
    let (mut s, _) = l.accept().await.unwrap();
    let msg = read_message(&mut s).await;
    drop(s);
    node.shutdown(Duration::from_millis(100)).await;
    msg
}

async fn read_message(s: &mut TcpStream) -> Vec<u8> {
    let mut msg = vec![0u8; 4];
    s.read_exact(&mut msg).await.unwrap();
    let len = u32::from_be_bytes([0, msg[1], msg[2], msg[3]]) as usize;
    msg.resize(len, 0);
    s.read_exact(&mut msg[4..]).await.unwrap();
    msg
}

fn ccr_event(n: u32) -> Vec<u8> {
    let sid = format!("flood.diameter.test;{n}");
    let ccr = CcrRepr::new(
        &sid,
        "flood.diameter.test",
        REALM,
        REALM,
        CONTEXT,
        CcRequestType::Event,
        0,
    );
    let mut buf = vec![0u8; 1024];
    let len = ccr.encode(CcrRepr::header(n, n), &mut buf).unwrap().len();
    buf.truncate(len);
    buf
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_flooding_requests_without_reading_is_disconnected() {
    let mut scene = Scene::start().await;
    let cer = cer_of("flood.diameter.test").await;

    // The flooder is another process as far as the server can tell: a
    // thread of its own with a blocking socket, not a task competing with
    // the server's connections on the test's runtime.
    let addr = scene.addr();
    let (admitted_tx, admitted) = tokio::sync::oneshot::channel();
    let t = Instant::now();
    let flood = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(&cer).unwrap();
        let mut cea = vec![0u8; 4];
        s.read_exact(&mut cea).unwrap();
        let len = u32::from_be_bytes([0, cea[1], cea[2], cea[3]]) as usize;
        cea.resize(len, 0);
        s.read_exact(&mut cea[4..]).unwrap();
        let _ = admitted_tx.send((cea, s.local_addr().unwrap()));
        // CCRs as fast as the socket takes them, a hundred per write,
        // never a read, until the server closes the connection.
        let mut sent = 0u32;
        while sent < 1_000_000 {
            let mut burst = Vec::with_capacity(100 * 400);
            for _ in 0..100 {
                sent += 1;
                burst.extend_from_slice(&ccr_event(sent));
            }
            if s.write_all(&burst).is_err() {
                return (sent, true);
            }
        }
        (sent, false)
    });
    let (cea, flooder) = admitted.await.expect("CEA");
    let rc = diameter_core::Message::new_checked(&cea)
        .unwrap()
        .get(&diameter_core::dict::base::RESULT_CODE)
        .unwrap();
    assert_eq!(rc, Some(2001), "the flooder is admitted");
    let (addr, what) = scene.limit_broken("queued and not read").await;
    assert_eq!(addr, Some(flooder), "{what}");
    let flood = tokio::task::spawn_blocking(move || flood.join().unwrap());
    let (sent, cut) = tokio::time::timeout(Duration::from_secs(60), flood)
        .await
        .expect("the flooder's writes fail")
        .unwrap();
    assert!(cut, "the flooder was disconnected ({sent} CCRs sent)");
    assert!(logged("queued and not read"));
    let s = scene.server.stats();
    assert!(s.closed_by_limits >= 1, "{s:?}");
    eprintln!(
        "flooder cut off after {sent} CCRs in {:?}: {what}",
        t.elapsed()
    );
    scene.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_max_connections_are_refused() {
    let mut scene = Scene::start().await;
    // The good client holds one of the four.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(scene.addr()).await.unwrap());
    }
    let server = scene.server.clone();
    assert!(until(30, || server.stats().accepted == 4).await);
    let mut extra = TcpStream::connect(scene.addr()).await.unwrap();
    assert!(
        closed_within(&mut extra, 30).await.is_some(),
        "the fifth connection is closed at once"
    );
    let (addr, what) = scene.limit_broken("too many connections").await;
    assert_eq!(addr, Some(extra.local_addr().unwrap()));
    assert_eq!(what, "too many connections");
    assert!(logged("connection refused: too many connections"));
    assert_eq!(scene.server.stats().refused_connections, 1);
    // The held ones are still open.
    for s in &mut held {
        let mut b = [0u8; 1];
        assert!(
            tokio::time::timeout(Duration::from_millis(100), s.read(&mut b))
                .await
                .is_err(),
            "still open"
        );
    }
    // Once they go, a new client is admitted again (Scene::finish).
    drop(held);
    scene.finish().await;
}

/// A CCR-Event from the good client of [`a_burst_of_requests_is_throttled_per_connection`].
fn good_ccr(n: u32) -> Vec<u8> {
    let sid = format!("proxy.diameter.test;good;{n}");
    let ccr = CcrRepr::new(
        &sid,
        "proxy.diameter.test",
        REALM,
        REALM,
        CONTEXT,
        CcRequestType::Event,
        0,
    );
    let mut buf = vec![0u8; 1024];
    let len = ccr.encode(CcrRepr::header(0, 0), &mut buf).unwrap().len();
    buf.truncate(len);
    buf
}

/// A peer that sends a huge burst of requests (and reads its answers) to
/// a server whose handler answers from a task: beyond
/// `max_requests_in_flight` on that connection the requests are answered
/// 3004 DIAMETER_TOO_BUSY at once, none is lost, and another client's
/// requests are served meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_requests_is_throttled_per_connection() {
    let _ = log_lines();
    const BURST: u32 = 5_000;
    let config = diameter_cc::endpoint::EndpointConfig::new(
        peer_config("app.diameter.test", REALM),
        diameter_cc::session::WallClock::new(0),
    );
    let server = Node::builder(config)
        .handler(
            diameter_core::ApplicationId::CREDIT_CONTROL,
            |_req: diameter_tokio::IncomingRequest, res: diameter_tokio::Responder| {
                // Real work takes a while: answer from a task, later.
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    let _ = res.answer_with(diameter_core::ResultCode::SUCCESS, |b| {
                        b.put(&diameter_core::dict::base::AUTH_APPLICATION_ID, 4)
                            .put(&diameter_cc::dict::CC_REQUEST_TYPE, CcRequestType::Event)
                            .put(&diameter_cc::dict::CC_REQUEST_NUMBER, 0);
                    });
                });
            },
        )
        .limits(Limits {
            max_requests_in_flight: 64,
            ..limits()
        })
        .listen("127.0.0.1:0".parse().unwrap())
        .start_sized::<8, 64>()
        .await
        .unwrap();
    let addr = server.local_addrs()[0];
    let good = client("proxy.diameter.test", server.local_addrs()).await;
    let cer = cer_of("flood.diameter.test").await;

    // The burst, from a thread of its own: every CCR in a few writes, the
    // answers read meanwhile.
    let burst = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(&cer).unwrap();
        let mut r = s.try_clone().unwrap();
        let reader = std::thread::spawn(move || {
            let mut codes = std::collections::BTreeMap::<u32, u32>::new();
            let mut n = 0;
            // The CEA, then one answer per CCR.
            while n <= BURST {
                let mut msg = vec![0u8; 4];
                if r.read_exact(&mut msg).is_err() {
                    break;
                }
                let len = u32::from_be_bytes([0, msg[1], msg[2], msg[3]]) as usize;
                msg.resize(len, 0);
                if r.read_exact(&mut msg[4..]).is_err() {
                    break;
                }
                let m = diameter_core::Message::new_checked(&msg).unwrap();
                let rc = m
                    .get(&diameter_core::dict::base::RESULT_CODE)
                    .ok()
                    .flatten()
                    .unwrap_or(0);
                if m.command_code().0 == 272 {
                    *codes.entry(rc).or_default() += 1;
                }
                n += 1;
            }
            codes
        });
        std::thread::sleep(Duration::from_millis(200));
        let mut all = Vec::new();
        for n in 1..=BURST {
            all.extend_from_slice(&ccr_event(n));
        }
        s.write_all(&all).unwrap();
        let codes = reader.join().unwrap();
        drop(s);
        codes
    });

    // The good client, meanwhile: one request after another.
    let mut slowest = Duration::ZERO;
    let mut n = 0;
    while !burst.is_finished() || n < 3 {
        n += 1;
        let t = Instant::now();
        let a = good
            .request(good_ccr(n))
            .await
            .expect("the good client is served");
        slowest = slowest.max(t.elapsed());
        assert_eq!(a.result_code(), Some(diameter_core::ResultCode::SUCCESS));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let codes = tokio::task::spawn_blocking(move || burst.join().unwrap())
        .await
        .unwrap();
    let answered: u32 = codes.values().sum();
    eprintln!("burst of {BURST}: {codes:?}; good client: {n} requests, slowest {slowest:?}");
    assert_eq!(answered, BURST, "every request answered: {codes:?}");
    let busy = codes.get(&3004).copied().unwrap_or(0);
    assert!(busy > 0, "throttled: {codes:?}");
    assert!(codes.get(&2001).copied().unwrap_or(0) >= 64, "{codes:?}");
    assert_eq!(server.stats().too_busy, u64::from(busy));
    assert!(logged("too many requests in flight: answered 3004"));
    assert!(slowest < BOUND, "the good client waited {slowest:?}");
    good.shutdown(Duration::from_secs(2)).await;
    server.shutdown(Duration::from_secs(2)).await;
}
