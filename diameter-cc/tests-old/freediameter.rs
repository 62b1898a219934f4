//! Interop with a real, independent implementation: freeDiameter 1.2.1 (the
//! server of `../shared/peers/`), over a real TCP connection on loopback.
//!
//! A minimal blocking driver (std::net, a `Framer` over a receive buffer)
//! runs our peer machine and the prepaid client machine: CER/CEA, the
//! watchdog, a prepaid call CCR-I/U/T with freeDiameter's answers, a CCR
//! carrying the 3GPP IMS AVPs (which this freeDiameter, loaded with only
//! `dict_dcca`, must refuse with 5001), and DPR/DPA. Every byte that crossed
//! the wire is then checked with tshark.
//!
//! freeDiameter and tshark come from `bash ../shared/peers/install.sh`; if
//! they are missing the test fails with that instruction (it never skips).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant as StdInstant};

use diameter_cc::client::accounting::{AccountingClient, AccountingConfig, CallInfo};
use diameter_cc::client::prepaid::{Parties, PrepaidClient, PrepaidConfig, PrepaidEvent, Transmit};
use diameter_cc::dict::tgpp;
use diameter_cc::session::{session_id_from, WallClock};
use diameter_cc::CreditControl;
use diameter_core::dict::base::{self, DisconnectCause, TerminationCause};
use diameter_core::framing::{Frame, Framer};
use diameter_core::peer::{App, Event, Incoming, LocalIdentity, Peer, PeerConfig, Role};
use diameter_core::time::Instant;
use diameter_core::{AddressValue, Message};

const HOST: &str = "rust-client.localdomain";
const REALM: &str = "localdomain";
const APPS: [App; 2] = [App::auth(4), App::acct(3)];
const IP: [AddressValue<'static>; 1] = [AddressValue::V4([127, 0, 0, 1])];

/// The two tests each run a freeDiameter daemon; run them one at a time so
/// that two start-ups never race on a loaded machine.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Run `freediameter-server.sh start DIR PORT` with `env`, retrying once
/// (with the next port) if the daemon dies during start-up.
fn start_fd(
    dir: &std::path::Path,
    port: u16,
    env: &[(&str, String)],
) -> (u16, std::process::Output) {
    let script = peers_dir().join("freediameter-server.sh");
    let mut last = None;
    for p in [port, port + 1] {
        let mut cmd = Command::new("bash");
        cmd.arg(&script).arg("start").arg(dir).arg(p.to_string());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run freediameter-server.sh");
        if out.status.success() {
            return (p, out);
        }
        eprintln!(
            "freeDiameter start failed on port {p}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_secs(1));
        last = Some((p, out));
    }
    last.unwrap()
}

fn peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers")
}

/// freeDiameter running in a temporary directory; stopped on drop.
struct FreeDiameter {
    dir: PathBuf,
    port: u16,
}

impl FreeDiameter {
    fn start() -> FreeDiameter {
        let script = peers_dir().join("freediameter-server.sh");
        assert!(
            script.exists(),
            "missing {} (shared/ beside the checkout)",
            script.display()
        );
        assert!(
            Command::new("sh")
                .arg("-c")
                .arg("command -v freeDiameterd")
                .status()
                .is_ok_and(|s| s.success()),
            "freeDiameterd is missing: run `bash ../shared/peers/install.sh`"
        );
        let port = 20_000 + (std::process::id() % 20_000) as u16;
        let dir = std::env::temp_dir().join(format!("fd-interop-{}", std::process::id()));
        let (port, out) = start_fd(&dir, port, &[("FD_TW", "6".into())]);
        assert!(
            out.status.success(),
            "freeDiameter did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        FreeDiameter { dir, port }
    }
}

impl Drop for FreeDiameter {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(peers_dir().join("freediameter-server.sh"))
            .arg("stop")
            .arg(&self.dir)
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The transport: a socket, a receive buffer, the clock, and a record of
/// every message in both directions.
struct Wire {
    sock: TcpStream,
    rx: Vec<u8>,
    t0: StdInstant,
    log: Vec<(bool, Vec<u8>)>,
}

impl Wire {
    fn now(&self) -> Instant {
        Instant(self.t0.elapsed().as_millis() as u64)
    }

    fn send(&mut self, bytes: &[u8]) {
        self.sock.write_all(bytes).expect("write");
        let mut rest = bytes;
        while let Ok(Frame::Complete(n)) = Framer::default().check(rest) {
            self.log.push((true, rest[..n].to_vec()));
            rest = &rest[n..];
        }
    }

    /// Flush the peer machine's own output.
    fn flush(&mut self, peer: &mut Peer<'_, 16>) {
        let out = peer.transmit().to_vec();
        if !out.is_empty() {
            self.send(&out);
            peer.transmitted(out.len());
        }
    }

    /// Read what arrives within `wait`, hand every message to the peer
    /// machine and return the answers (owned) it matched.
    fn pump(&mut self, peer: &mut Peer<'_, 16>, wait: Duration) -> Vec<Vec<u8>> {
        let mut answers = Vec::new();
        let end = StdInstant::now() + wait;
        self.sock
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        while StdInstant::now() < end {
            let mut buf = [0u8; 4096];
            match self.sock.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => self.rx.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
            loop {
                match Framer::default().check(&self.rx) {
                    Ok(Frame::Complete(n)) => {
                        let msg: Vec<u8> = self.rx.drain(..n).collect();
                        self.log.push((false, msg.clone()));
                        let now = self.now();
                        if let Incoming::Answer { .. } =
                            peer.handle_message(now, &msg, &CreditControl)
                        {
                            answers.push(msg);
                        }
                    }
                    Ok(Frame::Partial { .. }) => break,
                    Err(e) => panic!("framing: {e}"),
                }
            }
            let now = self.now();
            peer.handle_timeout(now);
            self.flush(peer);
            if !answers.is_empty() {
                break;
            }
        }
        answers
    }
}

fn events(peer: &mut Peer<'_, 16>, now: Instant) -> Vec<Event> {
    std::iter::from_fn(|| peer.poll_event(now)).collect()
}

#[test]
fn prepaid_call_against_freediameter_over_tcp() {
    let _serial = serial();
    let fd = FreeDiameter::start();
    let sock = TcpStream::connect(("127.0.0.1", fd.port)).expect("connect to freeDiameter");
    let mut wire = Wire {
        sock,
        rx: Vec::new(),
        t0: StdInstant::now(),
        log: Vec::new(),
    };
    let local = LocalIdentity {
        origin_host: HOST,
        origin_realm: REALM,
        host_ip_addresses: &IP,
        vendor_id: 0,
        product_name: "diameter-rs interop",
        firmware_revision: Some(1),
        origin_state_id: 1,
        supported_vendor_ids: &[],
        applications: &APPS,
        inband_security_id: None,
    };
    let pcfg = PeerConfig::new(local);
    let mut peer: Peer<'_, 16> = Peer::new(&pcfg, Role::Initiator, wire.now());

    // CER/CEA
    peer.start(wire.now());
    assert_eq!(events(&mut peer, wire.now()), [Event::Connect]);
    peer.handle_connected(wire.now());
    wire.flush(&mut peer);
    let deadline = StdInstant::now() + Duration::from_secs(5);
    while !peer.is_open() && StdInstant::now() < deadline {
        wire.pump(&mut peer, Duration::from_millis(100));
    }
    assert!(
        peer.is_open(),
        "no CEA from freeDiameter: {:?}",
        events(&mut peer, wire.now())
    );
    assert_eq!(
        peer.peer_info().origin_host.as_str(),
        "fd-server.localdomain"
    );
    assert!(peer.peer_info().allows(4) && peer.peer_info().allows(3));
    let _ = events(&mut peer, wire.now());

    // A prepaid call: CCR-I, CCR-U at answer, CCR-T at hangup.
    let mut cfg = PrepaidConfig::new(HOST, REALM, REALM, "voice@OsipsDiamCCR");
    cfg.clock = WallClock {
        unix_at_zero: 1_704_067_200,
    };
    cfg.service_information = false; // freeDiameter here has no 3GPP dictionary
    let parties = Parties {
        user_name: "1001",
        subscription_id: "1001",
        calling_party: "1001",
        called_party: "1002",
        role_of_node: tgpp::RoleOfNode::Originating,
        node_functionality: tgpp::NodeFunctionality::As,
    };
    let mut call = PrepaidClient::new(&cfg, session_id_from("interop-call-1").unwrap(), parties);
    let step = |wire: &mut Wire, peer: &mut Peer<'_, 16>, call: &mut PrepaidClient<'_, '_>| {
        let mut evs = Vec::new();
        for _ in 0..4 {
            let now = wire.now();
            let mut buf = [0u8; 2048];
            let Some(t) = call.poll_transmit(now, &mut buf) else {
                break;
            };
            let Transmit::Request { len, number, .. } = t.expect("encode") else {
                panic!("no server requests expected")
            };
            peer.send_request(now, &mut buf[..len], u64::from(number))
                .expect("send");
            wire.send(&buf[..len]);
            let answers = wire.pump(peer, Duration::from_secs(5));
            assert_eq!(answers.len(), 1, "no CCA from freeDiameter");
            let m = Message::parse_with(&answers[0], &CreditControl).unwrap();
            call.handle_answer(wire.now(), &m);
            evs.extend(std::iter::from_fn(|| call.poll_event()));
        }
        evs
    };
    call.call_setup(wire.now());
    let ev = step(&mut wire, &mut peer, &mut call);
    // freeDiameter's test extension grants CC-Time 60 (FD_CC_TIME)
    assert_eq!(ev, [PrepaidEvent::Allowed { seconds: Some(60) }]);
    call.call_answered(wire.now());
    let ev = step(&mut wire, &mut peer, &mut call);
    // the CCA-U carries a new grant of 60 s
    assert!(
        ev.iter()
            .all(|e| matches!(e, PrepaidEvent::Regranted { seconds: 60 })),
        "{ev:?}"
    );
    // let the watchdog run: with FD_TW=6 freeDiameter sends a DWR within
    // 6 ± 2 s of silence (RFC 3539), which our machine answers
    let dwr_seen = |w: &Wire| {
        w.log.iter().any(|(out, m)| {
            !*out && Message::parse(m).is_ok_and(|m| m.command_code().0 == 280 && m.is_request())
        })
    };
    let deadline = StdInstant::now() + Duration::from_secs(10);
    while !dwr_seen(&wire) && StdInstant::now() < deadline {
        wire.pump(&mut peer, Duration::from_millis(200));
    }
    assert!(dwr_seen(&wire), "no DWR from freeDiameter within 10 s");
    assert!(
        wire.log.iter().any(|(out, m)| *out
            && Message::parse(m).is_ok_and(|m| m.command_code().0 == 280 && !m.is_request())),
        "our DWA"
    );
    assert!(peer.is_open());
    call.call_ended(wire.now(), TerminationCause::Logout);
    let ev = step(&mut wire, &mut peer, &mut call);
    assert_eq!(ev, [PrepaidEvent::Finished]);
    assert_eq!(call.terminations(), 1);

    // The full SCENARIOS.md CCR carries 3GPP AVPs with the M bit; this
    // freeDiameter only loads dict_dcca, so it must answer 5001 with the
    // offending AVP in Failed-AVP (RFC 6733 §7.1.5): our client hears it as
    // a denial with that Result-Code.
    cfg.service_information = true;
    let mut call = PrepaidClient::new(&cfg, session_id_from("interop-call-2").unwrap(), parties);
    call.call_setup(wire.now());
    let ev = step(&mut wire, &mut peer, &mut call);
    assert!(
        matches!(ev.first(), Some(PrepaidEvent::Denied(_))),
        "expected a denial: {ev:?}"
    );
    let last = &wire.log.iter().rev().find(|(out, _)| !out).unwrap().1;
    let m = Message::parse_with(last, &CreditControl).unwrap();
    assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(5001));
    let failed = m.get(&base::FAILED_AVP).unwrap().expect("Failed-AVP");
    assert_eq!(failed.iter().next().unwrap().unwrap().vendor(), 10415);

    // Accounting for the same call: ACR START then STOP (RFC 6733 §9),
    // answered by freeDiameter's ACA.
    let acfg = AccountingConfig::new(HOST, REALM, REALM);
    let mut acct: AccountingClient<'_, 4> = AccountingClient::new(
        &acfg,
        CallInfo::new(session_id_from("interop-call-1").unwrap()),
    );
    acct.call_answered(wire.now()).unwrap();
    acct.call_ended(wire.now()).unwrap();
    let mut acked = 0;
    for _ in 0..4 {
        let now = wire.now();
        let mut buf = [0u8; 1024];
        let Some(t) = acct.poll_transmit(now, &mut buf) else {
            break;
        };
        let t = t.expect("encode ACR");
        peer.send_request(now, &mut buf[..t.len], 1000 + u64::from(t.record_number))
            .expect("send ACR");
        let e2e = u32::from_be_bytes([buf[16], buf[17], buf[18], buf[19]]);
        acct.handle_sent(t.record_number, e2e);
        wire.send(&buf[..t.len]);
        let answers = wire.pump(&mut peer, Duration::from_secs(5));
        assert_eq!(answers.len(), 1, "no ACA from freeDiameter");
        let m = Message::parse_with(&answers[0], &CreditControl).unwrap();
        assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(2001));
        assert!(acct.handle_answer(wire.now(), &m));
        acked += 1;
    }
    assert_eq!(acked, 2, "START and STOP acknowledged");
    assert_eq!(acct.stored_records().count(), 0);

    // DPR/DPA
    peer.disconnect(wire.now(), DisconnectCause::Rebooting);
    wire.flush(&mut peer);
    let deadline = StdInstant::now() + Duration::from_secs(5);
    let mut closed = false;
    while !closed && StdInstant::now() < deadline {
        wire.pump(&mut peer, Duration::from_millis(100));
        closed = events(&mut peer, wire.now()).contains(&Event::Close);
    }
    assert!(closed, "no DPA from freeDiameter");

    // Every message on the wire, ours and freeDiameter's, through tshark.
    let names: Vec<String> = wire
        .log
        .iter()
        .map(|(out, m)| {
            let m = Message::parse_with(m, &CreditControl).unwrap();
            format!(
                "{} {}{}",
                if *out { "->" } else { "<-" },
                m.command_code().0,
                if m.is_request() { "R" } else { "A" }
            )
        })
        .collect();
    println!("ladder: {}", names.join(", "));
    assert!(names.iter().any(|n| n == "<- 257A") && names.iter().any(|n| n == "<- 282A"));
    let dir = std::env::temp_dir().join(format!("fd-interop-hex-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut clean = Vec::new();
    let lenient: Vec<PathBuf> = Vec::new();
    for (i, (out, m)) in wire.log.iter().enumerate() {
        let msg = Message::parse_with(m, &CreditControl).unwrap();
        // freeDiameter's 5001 answer carries Service-Information in
        // Failed-AVP with a zero-filled payload (RFC 6733 §7.5 allows it);
        // Wireshark then flags the frame as malformed. It is not ours, so
        // it is left out; everything we sent, and the rest of what
        // freeDiameter sent, must dissect cleanly.
        if !*out && msg.get(&base::FAILED_AVP).ok().flatten().is_some() {
            continue;
        }
        let f = dir.join(format!("{i:03}.hex"));
        std::fs::write(&f, m.iter().map(|b| format!("{b:02x}")).collect::<String>()).unwrap();
        clean.push(f);
    }
    let script = peers_dir().join("tshark-decode.sh");
    for (args, files) in [(vec![], &clean), (vec!["--lenient"], &lenient)] {
        if files.is_empty() {
            continue;
        }
        let out = Command::new("bash")
            .arg(&script)
            .args(&args)
            .args(files.iter())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tshark: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The other role: freeDiameter connects to us (`FD_CONNECT`), our peer
/// machine is the responder. It must accept freeDiameter's CER (allow-list
/// by realm), answer its DWRs, and answer its DPR when freeDiameter stops.
#[test]
fn freediameter_connects_to_our_responder() {
    let _serial = serial();
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    let our_port = listener.local_addr().unwrap().port();
    assert!(
        Command::new("sh")
            .arg("-c")
            .arg("command -v freeDiameterd")
            .status()
            .is_ok_and(|s| s.success()),
        "freeDiameterd is missing: run `bash ../shared/peers/install.sh`"
    );
    let fd_port = 40_000 + (std::process::id() % 20_000) as u16;
    let dir = std::env::temp_dir().join(format!("fd-responder-{}", std::process::id()));
    let (fd_port, out) = start_fd(
        &dir,
        fd_port,
        &[
            ("FD_TW", "6".into()),
            ("FD_CONNECT", format!("{HOST}@{our_port}")),
        ],
    );
    let fd = FreeDiameter { dir, port: fd_port };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // wait (bounded) for freeDiameter to connect
    listener.set_nonblocking(true).unwrap();
    let deadline = StdInstant::now() + Duration::from_secs(20);
    let sock = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(_) if StdInstant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("freeDiameter did not connect within 20 s: {e}"),
        }
    };
    sock.set_nonblocking(false).unwrap();
    let mut wire = Wire {
        sock,
        rx: Vec::new(),
        t0: StdInstant::now(),
        log: Vec::new(),
    };
    let local = LocalIdentity {
        origin_host: HOST,
        origin_realm: REALM,
        host_ip_addresses: &IP,
        vendor_id: 0,
        product_name: "diameter-rs interop",
        firmware_revision: None,
        origin_state_id: 1,
        supported_vendor_ids: &[],
        applications: &APPS,
        inband_security_id: None,
    };
    let mut pcfg = PeerConfig::new(local);
    pcfg.allowed_realms = &["localdomain"];
    let mut peer: Peer<'_, 16> = Peer::new(&pcfg, Role::Responder, wire.now());
    peer.handle_connected(wire.now());
    let deadline = StdInstant::now() + Duration::from_secs(10);
    while !peer.is_open() && StdInstant::now() < deadline {
        wire.pump(&mut peer, Duration::from_millis(100));
    }
    assert!(peer.is_open(), "freeDiameter's CER was not accepted");
    assert_eq!(
        peer.peer_info().origin_host.as_str(),
        "fd-server.localdomain"
    );
    // freeDiameter's watchdog: a DWR within 6 ± 2 s, answered
    let deadline = StdInstant::now() + Duration::from_secs(10);
    let dwr = |w: &Wire| {
        w.log.iter().any(|(out, m)| {
            !*out && Message::parse(m).is_ok_and(|m| m.command_code().0 == 280 && m.is_request())
        })
    };
    while !dwr(&wire) && StdInstant::now() < deadline {
        wire.pump(&mut peer, Duration::from_millis(200));
    }
    assert!(dwr(&wire), "no DWR from freeDiameter");
    // stopping freeDiameter makes it send a DPR, which we answer
    let stopper = std::thread::spawn(move || drop(fd));
    let deadline = StdInstant::now() + Duration::from_secs(10);
    let mut disconnecting = false;
    while !disconnecting && StdInstant::now() < deadline {
        wire.pump(&mut peer, Duration::from_millis(100));
        disconnecting = events(&mut peer, wire.now())
            .iter()
            .any(|e| matches!(e, Event::PeerDisconnecting(_)));
    }
    assert!(disconnecting, "no DPR from freeDiameter");
    stopper.join().unwrap();
    assert!(
        wire.log.iter().any(|(out, m)| *out
            && Message::parse(m).is_ok_and(|m| m.command_code().0 == 282 && !m.is_request())),
        "our DPA"
    );
}
