//! The two-peer simulator shared by the `peer_*` integration tests: byte-exact
//! conversations between two peer machines (`diameter_core::peer`) on a fake
//! clock.
//!
//! [`Pair`] is a small two-peer simulator in the style of quinn-proto's
//! tests: an initiator and a responder [`Peer`], one fake TCP connection
//! (one byte stream per direction), and a transport loop that does what the
//! machine's documentation asks of a transport: after every input it drains
//! `poll_event` (acting on `Connect` and `Close`), writes `transmit()` and
//! calls `transmitted`, and arms a timer for `poll_timeout`. Received bytes go
//! through a [`Framer`]; in split mode both the writes (`transmitted` in
//! pieces) and the reads (the stream cut at random points) are chopped up to
//! exercise framing. Every message put on the wire is logged with the time,
//! so each test asserts the ladder of (direction, command, Result-Code, E/T
//! flags) it expects. A step bound turns an endless loop (or a busy timer)
//! into a test failure that prints the ladder.
//!
//! For the key messages (CER, CEA 2001/3010/5010, DWR, DWA, DPR, DPA, the
//! 3001/3007/5005 error answers) the bytes the machine emitted are compared
//! byte for byte with a message built independently with `MessageBuilder`
//! from the configuration values ([`messages`]; the Hop-by-Hop and
//! End-to-End identifiers are taken from the emitted message and checked
//! separately), then decoded and checked AVP by AVP.
//!
//! Every test file keeps its scenarios in a list and replays them all
//! through Wireshark ([`wireshark::decodes_every_message`]): every message
//! either machine (or the test's application) put on the wire goes to
//! `shared/peers/tshark-decode.sh`; tshark is required.
#![allow(dead_code)]

pub mod messages;
pub mod wireshark;

pub use messages::*;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use diameter_core::dict::base::{self, DisconnectCause};
use diameter_core::peer::{
    App, DropReason, Event, Incoming, LocalIdentity, Peer, PeerConfig, Role, SendError,
};
use diameter_core::time::Instant;
use diameter_core::{ErrorKind, Frame, Framer, HeaderRepr, Message};

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

pub const CLIENT: &str = "client.example.org";
pub const SERVER: &str = "server.example.org";
pub const REALM: &str = "example.org";

/// Pending-table capacity of both machines.
pub const P: usize = 4;
pub type TestPeer = Peer<P>;

/// The applications of a server that shares none with the client.
pub const LONELY_APPS: [App; 1] = [App::auth(16_777_251).vendor_specific(10415)];

/// How long the test's application waits for an answer unless a test says
/// otherwise (the deadline it gives `send_request`: the machine has no
/// request timeout of its own any more).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub fn client_identity() -> LocalIdentity {
    let mut l = LocalIdentity::new(CLIENT, REALM)
        .unwrap()
        .with_addresses(&[IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))])
        .unwrap()
        .with_product_name("diameter-rs")
        .unwrap()
        .with_origin_state_id(1_700_000_000)
        .with_supported_vendor(10415)
        .unwrap()
        .with_application(App::auth(4))
        .unwrap()
        .with_application(App::acct(3))
        .unwrap();
    l.vendor_id = 0;
    l.firmware_revision = Some(1);
    l.inband_security_id = None;
    l
}

pub fn server_identity() -> LocalIdentity {
    let mut l = LocalIdentity::new(SERVER, REALM)
        .unwrap()
        .with_addresses(&[
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
            IpAddr::V6(Ipv6Addr::new(0x2001, 0x0db8, 0, 0, 0, 0, 0, 2)),
        ])
        .unwrap()
        .with_product_name("diameter-rs server")
        .unwrap()
        .with_origin_state_id(42)
        .with_supported_vendor(10415)
        .unwrap()
        .with_supported_vendor(5535)
        .unwrap()
        .with_application(App::auth(4))
        .unwrap()
        .with_application(App::acct(3))
        .unwrap()
        .with_application(App::auth(16_777_238).vendor_specific(10415))
        .unwrap();
    l.vendor_id = 10415;
    l.firmware_revision = None;
    l.inband_security_id = Some(0);
    l
}

/// The client's boot time: End-to-End ids start with its low 12 bits (0xa3c).
pub const CLIENT_BOOT: u32 = 0x0006_5a3c;
/// The server's boot time (low 12 bits 0xb07).
pub const SERVER_BOOT: u32 = 0x0000_0b07;

/// Tw 6 s (jittered to 4..8 s), CEA 10 s, DPA 5 s, Tc 30 s,
/// DO_NOT_WANT_TO_TALK_TO_YOU back-off 600 s. (Requests wait
/// [`REQUEST_TIMEOUT`]: the deadline is the application's, see [`Pair::send`].)
pub fn client_cfg() -> PeerConfig {
    PeerConfig {
        tw: Duration::from_secs(6),
        capabilities_timeout: Duration::from_secs(10),
        dpa_timeout: Duration::from_secs(5),
        reconnect_interval: Duration::from_secs(30),
        do_not_want_backoff: Duration::from_secs(600),
        seed: 0x1234_5678,
        ..PeerConfig::new(client_identity(), CLIENT_BOOT)
    }
}

/// The defaults (Tw 30 s) around the server identity.
pub fn server_cfg() -> PeerConfig {
    PeerConfig {
        seed: 0xdead_beef,
        ..PeerConfig::new(server_identity(), SERVER_BOOT)
    }
}
// The simulator
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    I,
    R,
}
use Side::{I, R};

impl Side {
    pub fn ix(self) -> usize {
        match self {
            I => 0,
            R => 1,
        }
    }
    pub fn other(self) -> Side {
        match self {
            I => R,
            R => I,
        }
    }
}

/// What a connection attempt does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    /// Connects at once.
    Up,
    /// Fails at once (`handle_disconnected`).
    Refuse,
    /// Never completes.
    Hang,
}

/// What `handle_message` made of a message, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    Handled,
    Request {
        code: u32,
        hbh: u32,
        e2e: u32,
        retransmit: bool,
        duplicate: bool,
    },
    Answer {
        token: u64,
        rc: Option<u32>,
    },
    /// An answer to one of ours that failed validation (new: answers are
    /// validated too): the token and the error's Result-Code.
    InvalidAnswer {
        token: u64,
        rc: u32,
    },
    Rejected(u32),
    Dropped(DropReason),
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Answered(Option<u32>),
    /// `Incoming::InvalidAnswer` with this error's Result-Code.
    Invalid(u32),
    /// At its deadline, with this End-to-End id.
    TimedOut(u32),
    /// Handed back with this End-to-End id.
    HandedBack(u32),
}

/// One message written to the wire.
#[derive(Debug, Clone)]
pub struct Wired {
    pub at: u64,
    pub from: Side,
    pub bytes: Vec<u8>,
    /// Emitted by the machine (`transmit()`), not by the test's application.
    pub machine: bool,
    /// Never arrived (direction dropped, or no connection).
    pub lost: bool,
}

impl Wired {
    pub fn rung(&self) -> String {
        let mut s = format!(
            "{}>{} {}",
            side_name(self.from),
            side_name(self.from.other()),
            msg_name(&self.bytes)
        );
        if self.lost {
            s.push_str(" (lost)");
        }
        s
    }
}

pub fn side_name(s: Side) -> &'static str {
    match s {
        I => "I",
        R => "R",
    }
}

/// "CEA 3010 E", "ACR T", "999-A 3001 E"...
pub fn msg_name(bytes: &[u8]) -> String {
    let Ok((h, _)) = HeaderRepr::parse(bytes) else {
        return format!("<{} bytes>", bytes.len());
    };
    let req = h.flags.is_request();
    let mut s = match (h.command_code.0, req) {
        (257, true) => "CER".to_string(),
        (257, false) => "CEA".to_string(),
        (280, true) => "DWR".to_string(),
        (280, false) => "DWA".to_string(),
        (282, true) => "DPR".to_string(),
        (282, false) => "DPA".to_string(),
        (271, true) => "ACR".to_string(),
        (271, false) => "ACA".to_string(),
        (c, true) => format!("{c}-R"),
        (c, false) => format!("{c}-A"),
    };
    if let Some(rc) = result_code(bytes) {
        let _ = write!(s, " {rc}");
    }
    if h.flags.is_error() {
        s.push_str(" E");
    }
    if h.flags.is_retransmit() {
        s.push_str(" T");
    }
    s
}

pub fn result_code(bytes: &[u8]) -> Option<u32> {
    Message::parse(bytes)
        .ok()?
        .get(&base::RESULT_CODE)
        .ok()
        .flatten()
}

pub fn ids(bytes: &[u8]) -> (u32, u32) {
    let (h, _) = HeaderRepr::parse(bytes).expect("header");
    (h.hop_by_hop, h.end_to_end)
}

#[derive(Default)]
pub struct Wire {
    /// Written, not yet read by the other side.
    pub bytes: Vec<u8>,
    /// Keep the bytes on the wire until `deliver`.
    pub hold: bool,
    /// Throw everything written away (a black hole).
    pub drop: bool,
}

pub struct Sent {
    pub hbh: u32,
    pub e2e: u32,
    pub bytes: Vec<u8>,
}

pub struct End {
    pub peer: TestPeer,
    /// How long this side's application waits for an answer (the deadline
    /// [`Pair::send`] passes to `send_request` is now + this).
    pub request_timeout: Duration,
    /// Read from the stream, not yet a whole message.
    pub rx: Vec<u8>,
    pub events: Vec<(u64, Event)>,
    pub got: Vec<(u64, Got)>,
    /// Application requests received and not answered automatically.
    pub requests: Vec<Vec<u8>>,
    pub sent: BTreeMap<u64, Sent>,
    pub ended: BTreeMap<u64, Ending>,
}

pub const MAX_STEPS: u32 = 50_000;
pub const NO_EVENTS: [Event; 0] = [];
pub const NO_GOT: [Got; 0] = [];

pub struct Pair {
    pub now: Instant,
    pub ends: [End; 2],
    pub wires: [Wire; 2],
    pub conn: bool,
    pub net: Net,
    pub log: Vec<Wired>,
    pub mark: usize,
    pub rng: Option<u64>,
    pub steps: u32,
    pub auto_answer: [bool; 2],
    pub framing_errors: Vec<(u64, Side, ErrorKind)>,
}

impl Pair {
    pub fn new(ci: PeerConfig, cr: PeerConfig) -> Pair {
        Pair::with_split(ci, cr, None)
    }

    /// `split`: seed for cutting writes and reads at random points.
    pub fn with_split(ci: PeerConfig, cr: PeerConfig, split: Option<u64>) -> Pair {
        let end = |cfg: PeerConfig, role| End {
            peer: Peer::new(cfg, role, Instant::ZERO),
            request_timeout: REQUEST_TIMEOUT,
            rx: Vec::new(),
            events: Vec::new(),
            got: Vec::new(),
            requests: Vec::new(),
            sent: BTreeMap::new(),
            ended: BTreeMap::new(),
        };
        Pair {
            now: Instant::ZERO,
            ends: [end(ci, Role::Initiator), end(cr, Role::Responder)],
            wires: [Wire::default(), Wire::default()],
            conn: false,
            net: Net::Up,
            log: Vec::new(),
            mark: 0,
            rng: split.map(|s| s | 1),
            steps: 0,
            auto_answer: [true, true],
            framing_errors: Vec::new(),
        }
    }

    pub fn peer(&self, s: Side) -> &TestPeer {
        &self.ends[s.ix()].peer
    }

    pub fn end_mut(&mut self, s: Side) -> &mut End {
        &mut self.ends[s.ix()]
    }

    pub fn rand(&mut self, n: usize) -> usize {
        let Some(x) = self.rng.as_mut() else {
            return n.saturating_sub(1);
        };
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        (*x % n as u64) as usize
    }

    pub fn guard(&mut self) {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            panic!(
                "step bound of {MAX_STEPS} exceeded: endless loop?\n{}",
                self.dump()
            );
        }
    }

    /// The ladder with times, and every event, for failure messages.
    pub fn dump(&self) -> String {
        let mut s = String::from("ladder:\n");
        for w in &self.log {
            let _ = writeln!(s, "  {:>8} ms  {}", w.at, w.rung());
        }
        for side in [I, R] {
            let _ = writeln!(s, "events {}:", side_name(side));
            for (t, e) in &self.ends[side.ix()].events {
                let _ = writeln!(s, "  {t:>8} ms  {e:?}");
            }
        }
        let _ = writeln!(
            s,
            "now {} ms, I {:?}, R {:?}",
            self.now.0,
            self.peer(I),
            self.peer(R)
        );
        s
    }

    // ---- transport loop ---------------------------------------------------

    /// Initiator: start.
    pub fn start(&mut self) {
        let now = self.now;
        self.end_mut(I).peer.start(now);
        self.run();
    }

    /// Drive both machines until nothing moves.
    pub fn run(&mut self) {
        loop {
            self.guard();
            let mut progress = false;
            for side in [I, R] {
                let mut commands = Vec::new();
                while let Some(e) = self.ends[side.ix()].peer.poll_event(self.now) {
                    self.guard();
                    progress = true;
                    self.ends[side.ix()].events.push((self.now.0, e));
                    match e {
                        Event::Connect | Event::Close => commands.push(e),
                        Event::RequestTimedOut { token, end_to_end } => {
                            self.end(side, token, Ending::TimedOut(end_to_end))
                        }
                        Event::RequestHandedBack { token, end_to_end } => {
                            self.end(side, token, Ending::HandedBack(end_to_end))
                        }
                        _ => {}
                    }
                }
                progress |= self.flush(side);
                for c in commands {
                    self.command(side, c);
                }
            }
            for from in [I, R] {
                if !self.wires[from.ix()].hold && !self.wires[from.ix()].bytes.is_empty() {
                    progress = true;
                    self.deliver_bytes(from, usize::MAX);
                }
            }
            if !progress {
                return;
            }
        }
    }

    pub fn end(&mut self, side: Side, token: u64, how: Ending) {
        let e = &mut self.ends[side.ix()];
        let Some(sent) = e.sent.get(&token) else {
            panic!("{side:?}: token {token} ended ({how:?}) but was never sent");
        };
        if let Ending::TimedOut(e2e) | Ending::HandedBack(e2e) = how {
            assert_eq!(
                e2e, sent.e2e,
                "{side:?}: token {token} ended ({how:?}) with another End-to-End id"
            );
        }
        if let Some(prev) = e.ended.insert(token, how) {
            panic!("{side:?}: token {token} ended twice: {prev:?} then {how:?}");
        }
    }

    /// Write the machine's `transmit()` to the wire.
    pub fn flush(&mut self, side: Side) -> bool {
        let snapshot = self.ends[side.ix()].peer.transmit().to_vec();
        if snapshot.is_empty() {
            return false;
        }
        // transmit() holds whole messages only.
        let mut whole = 0;
        for m in Framer::default().messages(&snapshot) {
            let m = m.unwrap_or_else(|e| panic!("transmit() does not frame: {e:?}"));
            whole += m.len();
            self.log_msg(side, m, true);
        }
        assert_eq!(whole, snapshot.len(), "transmit() holds a partial message");
        // Written in pieces in split mode, to exercise `transmitted`.
        let mut off = 0;
        while off < snapshot.len() {
            let k = 1 + self.rand(snapshot.len() - off);
            self.wire_append(side, &snapshot[off..off + k]);
            self.ends[side.ix()].peer.transmitted(k);
            off += k;
            assert_eq!(self.peer(side).transmit(), &snapshot[off..]);
        }
        true
    }

    pub fn log_msg(&mut self, from: Side, bytes: &[u8], machine: bool) {
        let lost = !self.conn || self.wires[from.ix()].drop;
        self.log.push(Wired {
            at: self.now.0,
            from,
            bytes: bytes.to_vec(),
            machine,
            lost,
        });
    }

    pub fn wire_append(&mut self, from: Side, bytes: &[u8]) {
        if self.conn && !self.wires[from.ix()].drop {
            self.wires[from.ix()].bytes.extend_from_slice(bytes);
        }
    }

    /// Whole messages written by a side's application (logged).
    pub fn app_write(&mut self, from: Side, bytes: &[u8]) {
        for m in Framer::default().messages(bytes) {
            let m = m.expect("application message frames");
            self.log_msg(from, m, false);
        }
        self.wire_append(from, bytes);
    }

    /// Raw bytes on the wire (a misbehaving peer; not logged), then run.
    pub fn inject(&mut self, from: Side, bytes: &[u8]) {
        assert!(self.conn, "inject without a connection");
        self.wires[from.ix()].bytes.extend_from_slice(bytes);
        self.run();
    }

    pub fn command(&mut self, side: Side, e: Event) {
        let now = self.now;
        match e {
            Event::Connect => {
                assert_eq!(side, I, "only the initiator connects\n{}", self.dump());
                assert!(!self.conn, "Connect while connected\n{}", self.dump());
                match self.net {
                    Net::Up => {
                        self.conn = true;
                        self.reset_streams();
                        self.end_mut(I).peer.handle_connected(now);
                        self.end_mut(R).peer.handle_connected(now);
                    }
                    Net::Refuse => self.end_mut(I).peer.handle_disconnected(now),
                    Net::Hang => {}
                }
            }
            Event::Close => {
                if self.conn {
                    // What the closing side flushed still arrives, then EOF.
                    if !self.wires[side.ix()].bytes.is_empty() {
                        self.deliver_bytes(side, usize::MAX);
                    }
                    self.drop_connection();
                } else {
                    // No connection (a hung or failed attempt): just abort.
                    self.end_mut(side).peer.handle_disconnected(now);
                }
            }
            _ => unreachable!(),
        }
    }

    pub fn reset_streams(&mut self) {
        for w in &mut self.wires {
            w.bytes.clear();
        }
        for e in &mut self.ends {
            e.rx.clear();
        }
    }

    /// The transport loses the connection: both sides see it closed.
    pub fn drop_connection(&mut self) {
        if !self.conn {
            return;
        }
        self.conn = false;
        self.reset_streams();
        let now = self.now;
        self.end_mut(I).peer.handle_disconnected(now);
        self.end_mut(R).peer.handle_disconnected(now);
    }

    /// Move up to `limit` bytes from the wire into the reader's stream
    /// buffer (in random pieces in split mode) and frame them.
    pub fn deliver_bytes(&mut self, from: Side, limit: usize) {
        let to = from.other();
        let n = limit.min(self.wires[from.ix()].bytes.len());
        let chunk: Vec<u8> = self.wires[from.ix()].bytes.drain(..n).collect();
        let mut off = 0;
        while off < chunk.len() {
            let k = 1 + self.rand(chunk.len() - off);
            self.ends[to.ix()]
                .rx
                .extend_from_slice(&chunk[off..off + k]);
            off += k;
            if !self.frame_rx(to) {
                return;
            }
        }
    }

    /// Hand every whole message in `to`'s stream buffer to its machine.
    /// False when the framer failed and the connection was closed.
    pub fn frame_rx(&mut self, to: Side) -> bool {
        loop {
            self.guard();
            match Framer::default().check(&self.ends[to.ix()].rx) {
                Ok(Frame::Complete(n)) => {
                    let msg: Vec<u8> = self.ends[to.ix()].rx.drain(..n).collect();
                    self.receive(to, &msg);
                    if !self.conn {
                        return false;
                    }
                }
                Ok(Frame::Partial { .. }) => return true,
                Err(e) => {
                    // The stream cannot be resynchronised: close.
                    self.framing_errors.push((self.now.0, to, e.kind()));
                    self.drop_connection();
                    return false;
                }
            }
        }
    }

    pub fn receive(&mut self, to: Side, msg: &[u8]) {
        let now = self.now;
        let got = summarize(
            self.ends[to.ix()]
                .peer
                .handle_message(now, msg, &base::Base),
        );
        self.ends[to.ix()].got.push((now.0, got.clone()));
        match got {
            Got::Answer { token, rc } => self.end(to, token, Ending::Answered(rc)),
            Got::InvalidAnswer { token, rc } => self.end(to, token, Ending::Invalid(rc)),
            Got::Request { .. } if self.auto_answer[to.ix()] => {
                let a = answer_for(self.peer(to).config(), msg, 2001);
                self.app_write(to, &a);
            }
            Got::Request { .. } => self.ends[to.ix()].requests.push(msg.to_vec()),
            _ => {}
        }
    }

    /// Deliver exactly `n` whole messages from a (held) direction, running
    /// the machines after each; returns their names.
    pub fn deliver(&mut self, from: Side, n: usize) -> Vec<String> {
        let mut names = Vec::new();
        for _ in 0..n {
            let len = match Framer::default().check(&self.wires[from.ix()].bytes) {
                Ok(Frame::Complete(len)) => len,
                other => panic!(
                    "no whole message on the wire from {from:?}: {other:?}\n{}",
                    self.dump()
                ),
            };
            names.push(msg_name(&self.wires[from.ix()].bytes[..len]));
            self.deliver_bytes(from, len);
            self.run();
        }
        names
    }

    // ---- time ---------------------------------------------------------------

    pub fn next_timer(&self) -> Option<Instant> {
        [I, R]
            .into_iter()
            .filter_map(|s| self.peer(s).poll_timeout())
            .min()
    }

    /// Advance the fake clock to `target`, firing every timer on the way at
    /// its exact time.
    pub fn advance_to(&mut self, target: u64) {
        self.run();
        while let Some(t) = self.next_timer() {
            if t.0 > target {
                break;
            }
            self.guard();
            self.now = Instant(t.0.max(self.now.0));
            let now = self.now;
            for s in [I, R] {
                self.end_mut(s).peer.handle_timeout(now);
            }
            self.run();
        }
        self.now = Instant(target.max(self.now.0));
        self.run();
    }

    pub fn sleep(&mut self, ms: u64) {
        self.advance_to(self.now.0 + ms);
    }

    /// Advance to the next timer and fire it; returns its time.
    pub fn fire_next(&mut self) -> u64 {
        let t = self
            .next_timer()
            .unwrap_or_else(|| panic!("no timer armed\n{}", self.dump()));
        self.advance_to(t.0);
        t.0
    }

    // ---- application --------------------------------------------------------

    /// Register a request with the machine and write it; its answer is
    /// awaited for the side's `request_timeout`.
    pub fn send(&mut self, side: Side, bytes: Vec<u8>, token: u64) -> Result<u32, SendError> {
        let deadline = self.now + self.ends[side.ix()].request_timeout;
        self.send_until(side, bytes, token, deadline)
    }

    /// [`Pair::send`] with an explicit answer deadline.
    pub fn send_until(
        &mut self,
        side: Side,
        mut bytes: Vec<u8>,
        token: u64,
        deadline: Instant,
    ) -> Result<u32, SendError> {
        let now = self.now;
        let hbh = self
            .end_mut(side)
            .peer
            .send_request(now, &mut bytes, token, deadline)?;
        let (h, e) = ids(&bytes);
        assert_eq!(h, hbh);
        let prev = self.end_mut(side).sent.insert(
            token,
            Sent {
                hbh,
                e2e: e,
                bytes: bytes.clone(),
            },
        );
        assert!(prev.is_none(), "token {token} reused by the test");
        self.app_write(side, &bytes);
        self.run();
        Ok(hbh)
    }

    /// Answer the `i`-th request `side`'s application holds.
    pub fn answer_held(&mut self, side: Side, i: usize, rc: u32) {
        let req = self.end_mut(side).requests.remove(i);
        let a = answer_for(self.peer(side).config(), &req, rc);
        self.app_write(side, &a);
        self.run();
    }

    pub fn disconnect(&mut self, side: Side, cause: DisconnectCause) {
        let now = self.now;
        self.end_mut(side).peer.disconnect(now, cause);
        self.run();
    }

    // ---- observations -------------------------------------------------------

    pub fn take_events(&mut self, side: Side) -> Vec<Event> {
        self.end_mut(side)
            .events
            .drain(..)
            .map(|(_, e)| e)
            .collect()
    }

    pub fn take_timed_events(&mut self, side: Side) -> Vec<(u64, Event)> {
        self.end_mut(side).events.drain(..).collect()
    }

    pub fn take_got(&mut self, side: Side) -> Vec<Got> {
        self.end_mut(side).got.drain(..).map(|(_, g)| g).collect()
    }

    pub fn take_ladder(&mut self) -> Vec<String> {
        let l = self.log[self.mark..].iter().map(Wired::rung).collect();
        self.mark = self.log.len();
        l
    }

    /// The messages from `from` named `name` (see [`msg_name`], without the
    /// Result-Code), in order.
    pub fn find(&self, from: Side, name: &str) -> Vec<Vec<u8>> {
        self.log
            .iter()
            .filter(|w| w.from == from && msg_name(&w.bytes).split(' ').next() == Some(name))
            .map(|w| w.bytes.clone())
            .collect()
    }

    pub fn last(&self, from: Side, name: &str) -> Vec<u8> {
        self.find(from, name)
            .pop()
            .unwrap_or_else(|| panic!("no {name} from {from:?}\n{}", self.dump()))
    }

    /// Every request `side` sent has ended exactly once.
    pub fn check_all_ended(&self, side: Side) {
        let e = &self.ends[side.ix()];
        let sent: Vec<u64> = e.sent.keys().copied().collect();
        let ended: Vec<u64> = e.ended.keys().copied().collect();
        assert_eq!(sent, ended, "requests that never ended\n{}", self.dump());
        assert_eq!(e.peer.pending_len(), 0);
    }
}

pub fn summarize(inc: Incoming<'_>) -> Got {
    match inc {
        Incoming::Handled => Got::Handled,
        Incoming::Request { message, duplicate } => Got::Request {
            code: message.command_code().0,
            hbh: message.hop_by_hop(),
            e2e: message.end_to_end(),
            retransmit: message.flags().is_retransmit(),
            duplicate,
        },
        Incoming::Answer { message, token } => Got::Answer {
            token,
            rc: message.get(&base::RESULT_CODE).ok().flatten(),
        },
        Incoming::InvalidAnswer { token, error } => Got::InvalidAnswer {
            token,
            rc: error.result_code().get(),
        },
        Incoming::Rejected(e) => Got::Rejected(e.result_code().get()),
        Incoming::Dropped(r) => Got::Dropped(r),
    }
}

/// A connected pair with both sides Up; ladder and events taken.
pub fn open_pair_with(ci: PeerConfig, cr: PeerConfig) -> Pair {
    let mut p = Pair::new(ci, cr);
    p.start();
    assert_eq!(p.take_ladder(), ["I>R CER", "R>I CEA 2001"], "{}", p.dump());
    assert_eq!(p.take_events(I), [Event::Connect, Event::Up]);
    assert_eq!(p.take_events(R), [Event::Up]);
    assert_eq!(p.take_got(I), [Got::Handled]);
    assert_eq!(p.take_got(R), [Got::Handled]);
    assert!(p.peer(I).is_open() && p.peer(R).is_open());
    p
}

pub fn open_pair() -> Pair {
    open_pair_with(client_cfg(), server_cfg())
}

/// A request from a side's application, written raw (not through
/// `send_request`), with the given identifiers.
pub fn raw_request(mut bytes: Vec<u8>, hbh: u32, e2e: u32) -> Vec<u8> {
    bytes[12..16].copy_from_slice(&hbh.to_be_bytes());
    bytes[16..20].copy_from_slice(&e2e.to_be_bytes());
    bytes
}
