//! Byte-exact conversations between two peer machines (`diameter_core::peer`)
//! on a fake clock.
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
//! from the configuration values (the Hop-by-Hop and End-to-End identifiers
//! are taken from the emitted message and checked separately), then decoded
//! and checked AVP by AVP.
//!
//! The last test replays every scenario and hands every message either
//! machine (or the test's application) put on the wire to Wireshark through
//! `shared/peers/tshark-decode.sh`; tshark is required.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use diameter_core::dict::base::{self, AccountingRecordType, DisconnectCause};
use diameter_core::dict::Dictionary;
use diameter_core::peer::{
    set_retransmit_flag, App, DownReason, DropReason, Event, Incoming, LocalIdentity, Peer,
    PeerConfig, PeerState, Role, SendError, WatchdogState,
};
use diameter_core::time::Instant;
use diameter_core::types::Enumeration;
use diameter_core::{
    AddressValue, ApplicationId, AvpFlags, CommandCode, CommandFlags, ErrorKind, Frame, Framer,
    HeaderRepr, Message, MessageBuilder, ParseConfig,
};

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

const CLIENT: &str = "client.example.org";
const SERVER: &str = "server.example.org";
const REALM: &str = "example.org";

/// Pending-table capacity of both machines.
const P: usize = 4;
type TestPeer = Peer<'static, P>;

static CLIENT_IPS: [AddressValue<'static>; 1] = [AddressValue::V4([192, 0, 2, 1])];
static SERVER_IPS: [AddressValue<'static>; 2] = [
    AddressValue::V4([192, 0, 2, 2]),
    AddressValue::V6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]),
];
static CLIENT_APPS: [App; 2] = [App::auth(4), App::acct(3)];
static SERVER_APPS: [App; 3] = [
    App::auth(4),
    App::acct(3),
    App::auth(16_777_238).vendor_specific(10415),
];
/// A server that shares no application with the client.
static LONELY_APPS: [App; 1] = [App::auth(16_777_251).vendor_specific(10415)];

fn client_identity() -> LocalIdentity<'static> {
    LocalIdentity {
        origin_host: CLIENT,
        origin_realm: REALM,
        host_ip_addresses: &CLIENT_IPS,
        vendor_id: 0,
        product_name: "diameter-rs",
        firmware_revision: Some(1),
        origin_state_id: 1_700_000_000,
        supported_vendor_ids: &[10415],
        applications: &CLIENT_APPS,
        inband_security_id: None,
    }
}

fn server_identity() -> LocalIdentity<'static> {
    LocalIdentity {
        origin_host: SERVER,
        origin_realm: REALM,
        host_ip_addresses: &SERVER_IPS,
        vendor_id: 10415,
        product_name: "diameter-rs server",
        firmware_revision: None,
        origin_state_id: 42,
        supported_vendor_ids: &[10415, 5535],
        applications: &SERVER_APPS,
        inband_security_id: Some(0),
    }
}

/// Tw 6 s (jittered to 4..8 s), requests 10 s, CEA 10 s, DPA 5 s, Tc 30 s,
/// DO_NOT_WANT_TO_TALK_TO_YOU back-off 600 s.
fn client_cfg() -> PeerConfig<'static> {
    PeerConfig {
        tw: Duration::from_secs(6),
        request_timeout: Duration::from_secs(10),
        capabilities_timeout: Duration::from_secs(10),
        dpa_timeout: Duration::from_secs(5),
        reconnect_interval: Duration::from_secs(30),
        do_not_want_backoff: Duration::from_secs(600),
        seed: 0x1234_5678,
        boot_time: 0x0006_5a3c,
        ..PeerConfig::new(client_identity())
    }
}

/// The defaults (Tw 30 s) around the server identity.
fn server_cfg() -> PeerConfig<'static> {
    PeerConfig {
        seed: 0xdead_beef,
        boot_time: 0x0000_0b07,
        ..PeerConfig::new(server_identity())
    }
}

fn leak(c: PeerConfig<'static>) -> &'static PeerConfig<'static> {
    Box::leak(Box::new(c))
}

// ---------------------------------------------------------------------------
// The simulator
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    I,
    R,
}
use Side::{I, R};

impl Side {
    fn ix(self) -> usize {
        match self {
            I => 0,
            R => 1,
        }
    }
    fn other(self) -> Side {
        match self {
            I => R,
            R => I,
        }
    }
}

/// What a connection attempt does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Net {
    /// Connects at once.
    Up,
    /// Fails at once (`handle_disconnected`).
    Refuse,
    /// Never completes.
    Hang,
}

/// What `handle_message` made of a message, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Got {
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
    Rejected(u32),
    Dropped(DropReason),
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Answered(Option<u32>),
    TimedOut,
    HandedBack(u32),
}

/// One message written to the wire.
#[derive(Debug, Clone)]
struct Wired {
    at: u64,
    from: Side,
    bytes: Vec<u8>,
    /// Emitted by the machine (`transmit()`), not by the test's application.
    machine: bool,
    /// Never arrived (direction dropped, or no connection).
    lost: bool,
}

impl Wired {
    fn rung(&self) -> String {
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

fn side_name(s: Side) -> &'static str {
    match s {
        I => "I",
        R => "R",
    }
}

/// "CEA 3010 E", "ACR T", "999-A 3001 E"...
fn msg_name(bytes: &[u8]) -> String {
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

fn result_code(bytes: &[u8]) -> Option<u32> {
    Message::parse(bytes)
        .ok()?
        .get(&base::RESULT_CODE)
        .ok()
        .flatten()
}

fn ids(bytes: &[u8]) -> (u32, u32) {
    let (h, _) = HeaderRepr::parse(bytes).expect("header");
    (h.hop_by_hop, h.end_to_end)
}

#[derive(Default)]
struct Wire {
    /// Written, not yet read by the other side.
    bytes: Vec<u8>,
    /// Keep the bytes on the wire until `deliver`.
    hold: bool,
    /// Throw everything written away (a black hole).
    drop: bool,
}

struct Sent {
    hbh: u32,
    e2e: u32,
    bytes: Vec<u8>,
}

struct End {
    cfg: &'static PeerConfig<'static>,
    peer: TestPeer,
    /// Read from the stream, not yet a whole message.
    rx: Vec<u8>,
    events: Vec<(u64, Event)>,
    got: Vec<(u64, Got)>,
    /// Application requests received and not answered automatically.
    requests: Vec<Vec<u8>>,
    sent: BTreeMap<u64, Sent>,
    ended: BTreeMap<u64, Ending>,
}

const MAX_STEPS: u32 = 50_000;
const NO_EVENTS: [Event; 0] = [];
const NO_GOT: [Got; 0] = [];

struct Pair {
    now: Instant,
    ends: [End; 2],
    wires: [Wire; 2],
    conn: bool,
    net: Net,
    log: Vec<Wired>,
    mark: usize,
    rng: Option<u64>,
    steps: u32,
    auto_answer: [bool; 2],
    framing_errors: Vec<(u64, Side, ErrorKind)>,
}

impl Pair {
    fn new(ci: PeerConfig<'static>, cr: PeerConfig<'static>) -> Pair {
        Pair::with_split(ci, cr, None)
    }

    /// `split`: seed for cutting writes and reads at random points.
    fn with_split(ci: PeerConfig<'static>, cr: PeerConfig<'static>, split: Option<u64>) -> Pair {
        let end = |cfg: &'static PeerConfig<'static>, role| End {
            cfg,
            peer: Peer::new(cfg, role, Instant::ZERO),
            rx: Vec::new(),
            events: Vec::new(),
            got: Vec::new(),
            requests: Vec::new(),
            sent: BTreeMap::new(),
            ended: BTreeMap::new(),
        };
        Pair {
            now: Instant::ZERO,
            ends: [
                end(leak(ci), Role::Initiator),
                end(leak(cr), Role::Responder),
            ],
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

    fn peer(&self, s: Side) -> &TestPeer {
        &self.ends[s.ix()].peer
    }

    fn end_mut(&mut self, s: Side) -> &mut End {
        &mut self.ends[s.ix()]
    }

    fn rand(&mut self, n: usize) -> usize {
        let Some(x) = self.rng.as_mut() else {
            return n.saturating_sub(1);
        };
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        (*x % n as u64) as usize
    }

    fn guard(&mut self) {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            panic!(
                "step bound of {MAX_STEPS} exceeded: endless loop?\n{}",
                self.dump()
            );
        }
    }

    /// The ladder with times, and every event, for failure messages.
    fn dump(&self) -> String {
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
    fn start(&mut self) {
        let now = self.now;
        self.end_mut(I).peer.start(now);
        self.run();
    }

    /// Drive both machines until nothing moves.
    fn run(&mut self) {
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
                        Event::RequestTimedOut { token } => self.end(side, token, Ending::TimedOut),
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

    fn end(&mut self, side: Side, token: u64, how: Ending) {
        let e = &mut self.ends[side.ix()];
        assert!(
            e.sent.contains_key(&token),
            "{side:?}: token {token} ended ({how:?}) but was never sent"
        );
        if let Some(prev) = e.ended.insert(token, how) {
            panic!("{side:?}: token {token} ended twice: {prev:?} then {how:?}");
        }
    }

    /// Write the machine's `transmit()` to the wire.
    fn flush(&mut self, side: Side) -> bool {
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

    fn log_msg(&mut self, from: Side, bytes: &[u8], machine: bool) {
        let lost = !self.conn || self.wires[from.ix()].drop;
        self.log.push(Wired {
            at: self.now.0,
            from,
            bytes: bytes.to_vec(),
            machine,
            lost,
        });
    }

    fn wire_append(&mut self, from: Side, bytes: &[u8]) {
        if self.conn && !self.wires[from.ix()].drop {
            self.wires[from.ix()].bytes.extend_from_slice(bytes);
        }
    }

    /// Whole messages written by a side's application (logged).
    fn app_write(&mut self, from: Side, bytes: &[u8]) {
        for m in Framer::default().messages(bytes) {
            let m = m.expect("application message frames");
            self.log_msg(from, m, false);
        }
        self.wire_append(from, bytes);
    }

    /// Raw bytes on the wire (a misbehaving peer; not logged), then run.
    fn inject(&mut self, from: Side, bytes: &[u8]) {
        assert!(self.conn, "inject without a connection");
        self.wires[from.ix()].bytes.extend_from_slice(bytes);
        self.run();
    }

    fn command(&mut self, side: Side, e: Event) {
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

    fn reset_streams(&mut self) {
        for w in &mut self.wires {
            w.bytes.clear();
        }
        for e in &mut self.ends {
            e.rx.clear();
        }
    }

    /// The transport loses the connection: both sides see it closed.
    fn drop_connection(&mut self) {
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
    fn deliver_bytes(&mut self, from: Side, limit: usize) {
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
    fn frame_rx(&mut self, to: Side) -> bool {
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

    fn receive(&mut self, to: Side, msg: &[u8]) {
        let now = self.now;
        let got = summarize(
            self.ends[to.ix()]
                .peer
                .handle_message(now, msg, &base::Base),
        );
        self.ends[to.ix()].got.push((now.0, got.clone()));
        match got {
            Got::Answer { token, rc } => self.end(to, token, Ending::Answered(rc)),
            Got::Request { .. } if self.auto_answer[to.ix()] => {
                let a = answer_for(self.ends[to.ix()].cfg, msg, 2001);
                self.app_write(to, &a);
            }
            Got::Request { .. } => self.ends[to.ix()].requests.push(msg.to_vec()),
            _ => {}
        }
    }

    /// Deliver exactly `n` whole messages from a (held) direction, running
    /// the machines after each; returns their names.
    fn deliver(&mut self, from: Side, n: usize) -> Vec<String> {
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

    fn next_timer(&self) -> Option<Instant> {
        [I, R]
            .into_iter()
            .filter_map(|s| self.peer(s).poll_timeout())
            .min()
    }

    /// Advance the fake clock to `target`, firing every timer on the way at
    /// its exact time.
    fn advance_to(&mut self, target: u64) {
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

    fn sleep(&mut self, ms: u64) {
        self.advance_to(self.now.0 + ms);
    }

    /// Advance to the next timer and fire it; returns its time.
    fn fire_next(&mut self) -> u64 {
        let t = self
            .next_timer()
            .unwrap_or_else(|| panic!("no timer armed\n{}", self.dump()));
        self.advance_to(t.0);
        t.0
    }

    // ---- application --------------------------------------------------------

    /// Register a request with the machine and write it.
    fn send(&mut self, side: Side, mut bytes: Vec<u8>, token: u64) -> Result<u32, SendError> {
        let now = self.now;
        let hbh = self
            .end_mut(side)
            .peer
            .send_request(now, &mut bytes, token)?;
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
    fn answer_held(&mut self, side: Side, i: usize, rc: u32) {
        let req = self.end_mut(side).requests.remove(i);
        let a = answer_for(self.ends[side.ix()].cfg, &req, rc);
        self.app_write(side, &a);
        self.run();
    }

    fn disconnect(&mut self, side: Side, cause: DisconnectCause) {
        let now = self.now;
        self.end_mut(side).peer.disconnect(now, cause);
        self.run();
    }

    // ---- observations -------------------------------------------------------

    fn take_events(&mut self, side: Side) -> Vec<Event> {
        self.end_mut(side)
            .events
            .drain(..)
            .map(|(_, e)| e)
            .collect()
    }

    fn take_timed_events(&mut self, side: Side) -> Vec<(u64, Event)> {
        self.end_mut(side).events.drain(..).collect()
    }

    fn take_got(&mut self, side: Side) -> Vec<Got> {
        self.end_mut(side).got.drain(..).map(|(_, g)| g).collect()
    }

    fn take_ladder(&mut self) -> Vec<String> {
        let l = self.log[self.mark..].iter().map(Wired::rung).collect();
        self.mark = self.log.len();
        l
    }

    /// The messages from `from` named `name` (see [`msg_name`], without the
    /// Result-Code), in order.
    fn find(&self, from: Side, name: &str) -> Vec<Vec<u8>> {
        self.log
            .iter()
            .filter(|w| w.from == from && msg_name(&w.bytes).split(' ').next() == Some(name))
            .map(|w| w.bytes.clone())
            .collect()
    }

    fn last(&self, from: Side, name: &str) -> Vec<u8> {
        self.find(from, name)
            .pop()
            .unwrap_or_else(|| panic!("no {name} from {from:?}\n{}", self.dump()))
    }

    /// Every request `side` sent has ended exactly once.
    fn check_all_ended(&self, side: Side) {
        let e = &self.ends[side.ix()];
        let sent: Vec<u64> = e.sent.keys().copied().collect();
        let ended: Vec<u64> = e.ended.keys().copied().collect();
        assert_eq!(sent, ended, "requests that never ended\n{}", self.dump());
        assert_eq!(e.peer.pending_len(), 0);
    }
}

fn summarize(inc: Incoming<'_>) -> Got {
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
        Incoming::Rejected(e) => Got::Rejected(e.result_code().get()),
        Incoming::Dropped(r) => Got::Dropped(r),
    }
}

// ---------------------------------------------------------------------------
// Messages built independently of the machine
// ---------------------------------------------------------------------------

fn build(hdr: HeaderRepr, f: impl FnOnce(&mut MessageBuilder<'_>)) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let mut b = MessageBuilder::new(&mut buf, hdr);
    f(&mut b);
    let n = b.finish().expect("encode").len();
    buf.truncate(n);
    buf
}

/// The CER/CEA capability AVPs of RFC 6733 §5.3.1/§5.3.2 from `l`.
fn put_caps(b: &mut MessageBuilder<'_>, l: &LocalIdentity<'_>) {
    b.put(&base::ORIGIN_HOST, l.origin_host)
        .put(&base::ORIGIN_REALM, l.origin_realm);
    for ip in l.host_ip_addresses {
        b.put(&base::HOST_IP_ADDRESS, *ip);
    }
    b.put(&base::VENDOR_ID, l.vendor_id)
        .put(&base::PRODUCT_NAME, l.product_name)
        .put(&base::ORIGIN_STATE_ID, l.origin_state_id);
    for v in l.supported_vendor_ids {
        b.put(&base::SUPPORTED_VENDOR_ID, *v);
    }
    for a in l.applications.iter().filter(|a| a.vendor.is_none()) {
        match a.kind {
            diameter_core::peer::AppKind::Auth => b.put(&base::AUTH_APPLICATION_ID, a.id),
            diameter_core::peer::AppKind::Acct => b.put(&base::ACCT_APPLICATION_ID, a.id),
        };
    }
    if let Some(i) = l.inband_security_id {
        b.put(&base::INBAND_SECURITY_ID, i);
    }
    for a in l.applications {
        if let Some(v) = a.vendor {
            b.grouped(&base::VENDOR_SPECIFIC_APPLICATION_ID, |g| {
                g.put(&base::VENDOR_ID, v);
                match a.kind {
                    diameter_core::peer::AppKind::Auth => g.put(&base::AUTH_APPLICATION_ID, a.id),
                    diameter_core::peer::AppKind::Acct => g.put(&base::ACCT_APPLICATION_ID, a.id),
                };
            });
        }
    }
    if let Some(f) = l.firmware_revision {
        b.put(&base::FIRMWARE_REVISION, f);
    }
}

fn common_req(code: CommandCode, hbh: u32, e2e: u32) -> HeaderRepr {
    HeaderRepr::request(code, ApplicationId::COMMON, hbh, e2e)
}

fn common_ans(code: CommandCode, hbh: u32, e2e: u32, error: bool) -> HeaderRepr {
    let mut h = common_req(code, hbh, e2e).answer();
    if error {
        h.flags = h.flags | CommandFlags::ERROR;
    }
    h
}

fn expect_cer(l: &LocalIdentity<'_>, hbh: u32, e2e: u32) -> Vec<u8> {
    build(
        common_req(CommandCode::CAPABILITIES_EXCHANGE, hbh, e2e),
        |b| put_caps(b, l),
    )
}

fn expect_cea(l: &LocalIdentity<'_>, hbh: u32, e2e: u32, rc: u32, error: bool) -> Vec<u8> {
    build(
        common_ans(CommandCode::CAPABILITIES_EXCHANGE, hbh, e2e, error),
        |b| {
            b.put(&base::RESULT_CODE, rc);
            put_caps(b, l);
        },
    )
}

fn expect_dwr(l: &LocalIdentity<'_>, hbh: u32, e2e: u32) -> Vec<u8> {
    build(common_req(CommandCode::DEVICE_WATCHDOG, hbh, e2e), |b| {
        b.put(&base::ORIGIN_HOST, l.origin_host)
            .put(&base::ORIGIN_REALM, l.origin_realm)
            .put(&base::ORIGIN_STATE_ID, l.origin_state_id);
    })
}

fn expect_dwa(l: &LocalIdentity<'_>, hbh: u32, e2e: u32) -> Vec<u8> {
    build(
        common_ans(CommandCode::DEVICE_WATCHDOG, hbh, e2e, false),
        |b| {
            b.put(&base::RESULT_CODE, 2001)
                .put(&base::ORIGIN_HOST, l.origin_host)
                .put(&base::ORIGIN_REALM, l.origin_realm)
                .put(&base::ORIGIN_STATE_ID, l.origin_state_id);
        },
    )
}

fn expect_dpr(l: &LocalIdentity<'_>, hbh: u32, e2e: u32, cause: DisconnectCause) -> Vec<u8> {
    build(common_req(CommandCode::DISCONNECT_PEER, hbh, e2e), |b| {
        b.put(&base::ORIGIN_HOST, l.origin_host)
            .put(&base::ORIGIN_REALM, l.origin_realm)
            .put(&base::DISCONNECT_CAUSE, cause);
    })
}

fn expect_dpa(l: &LocalIdentity<'_>, hbh: u32, e2e: u32) -> Vec<u8> {
    build(
        common_ans(CommandCode::DISCONNECT_PEER, hbh, e2e, false),
        |b| {
            b.put(&base::RESULT_CODE, 2001)
                .put(&base::ORIGIN_HOST, l.origin_host)
                .put(&base::ORIGIN_REALM, l.origin_realm);
        },
    )
}

/// The error answer of RFC 6733 §7.2 to `req`: identifiers and P bit kept,
/// E bit for 3xxx, Session-Id, Origin-Host, Origin-Realm, Result-Code and an
/// optional Failed-AVP holding one AVP (code, flags, data).
fn expect_error(
    req: &[u8],
    l: &LocalIdentity<'_>,
    rc: u32,
    failed: Option<(u32, AvpFlags, &[u8])>,
) -> Vec<u8> {
    let (h, _) = HeaderRepr::parse(req).expect("request header");
    let mut hdr = h.answer();
    if (3000..4000).contains(&rc) {
        hdr.flags = hdr.flags | CommandFlags::ERROR;
    }
    let m = Message::parse(req).expect("request");
    build(hdr, |b| {
        if let Some(sid) = m.find(263, 0) {
            b.put_avp(&sid);
        }
        b.put(&base::ORIGIN_HOST, l.origin_host)
            .put(&base::ORIGIN_REALM, l.origin_realm)
            .put(&base::RESULT_CODE, rc);
        if let Some((code, flags, data)) = failed {
            b.grouped(&base::FAILED_AVP, |g| {
                g.put_raw(code, None, flags, data);
            });
        }
    })
}

/// An Accounting-Request (base accounting, application 3) from `host`,
/// identifiers left 0 for the machine to fill in.
fn acr(host: &str, session: &str, record: u32) -> Vec<u8> {
    build(
        HeaderRepr::request(
            CommandCode::ACCOUNTING,
            ApplicationId::BASE_ACCOUNTING,
            0,
            0,
        )
        .proxiable(true),
        |b| {
            b.put(&base::SESSION_ID, session)
                .put(&base::ORIGIN_HOST, host)
                .put(&base::ORIGIN_REALM, REALM)
                .put(&base::DESTINATION_REALM, REALM)
                .put(
                    &base::ACCOUNTING_RECORD_TYPE,
                    AccountingRecordType::EventRecord,
                )
                .put(&base::ACCOUNTING_RECORD_NUMBER, record);
        },
    )
}

/// The application's answer to an ACR.
fn answer_for(cfg: &PeerConfig<'_>, req: &[u8], rc: u32) -> Vec<u8> {
    let m = Message::parse_with(req, &base::Base).expect("request parses");
    let mut buf = vec![0u8; 1024];
    let mut b = MessageBuilder::answer_to(&mut buf, &m);
    b.put(&base::RESULT_CODE, rc)
        .put(&base::ORIGIN_HOST, cfg.local.origin_host)
        .put(&base::ORIGIN_REALM, cfg.local.origin_realm);
    if let Ok(Some(t)) = m.get(&base::ACCOUNTING_RECORD_TYPE) {
        b.put(&base::ACCOUNTING_RECORD_TYPE, t);
    }
    if let Ok(Some(n)) = m.get(&base::ACCOUNTING_RECORD_NUMBER) {
        b.put(&base::ACCOUNTING_RECORD_NUMBER, n);
    }
    let n = b.finish().expect("answer").len();
    buf.truncate(n);
    buf
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn assert_bytes(actual: &[u8], expected: &[u8], what: &str) {
    if actual != expected {
        let at = actual
            .iter()
            .zip(expected)
            .position(|(a, b)| a != b)
            .unwrap_or(actual.len().min(expected.len()));
        panic!(
            "{what}: bytes differ at offset {at} (lengths {} / {})\n  actual:   {}\n  expected: {}",
            actual.len(),
            expected.len(),
            hex(actual),
            hex(expected)
        );
    }
}

/// Decode a CER/CEA and check every capability AVP against `l`.
fn check_caps(m: &Message<'_>, l: &LocalIdentity<'_>) {
    let def = if m.is_request() {
        &base::CER
    } else {
        &base::CEA
    };
    m.validate_command(def, &base::Base, &ParseConfig::DEFAULT)
        .expect("CER/CEA grammar");
    assert_eq!(m.get(&base::ORIGIN_HOST).unwrap(), Some(l.origin_host));
    assert_eq!(m.get(&base::ORIGIN_REALM).unwrap(), Some(l.origin_realm));
    let ips: Vec<AddressValue<'_>> = m
        .get_all(&base::HOST_IP_ADDRESS)
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(ips, l.host_ip_addresses);
    assert_eq!(m.get(&base::VENDOR_ID).unwrap(), Some(l.vendor_id));
    assert_eq!(m.get(&base::PRODUCT_NAME).unwrap(), Some(l.product_name));
    assert_eq!(
        m.get(&base::ORIGIN_STATE_ID).unwrap(),
        Some(l.origin_state_id)
    );
    let svi: Vec<u32> = m
        .get_all(&base::SUPPORTED_VENDOR_ID)
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(svi, l.supported_vendor_ids);
    let plain = |kind| -> Vec<u32> {
        l.applications
            .iter()
            .filter(|a| a.vendor.is_none() && a.kind == kind)
            .map(|a| a.id)
            .collect()
    };
    let auth: Vec<u32> = m
        .get_all(&base::AUTH_APPLICATION_ID)
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(auth, plain(diameter_core::peer::AppKind::Auth));
    let acct: Vec<u32> = m
        .get_all(&base::ACCT_APPLICATION_ID)
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(acct, plain(diameter_core::peer::AppKind::Acct));
    let vsai: Vec<(Option<u32>, Option<u32>, Option<u32>)> = m
        .get_all(&base::VENDOR_SPECIFIC_APPLICATION_ID)
        .map(|g| {
            let g = g.unwrap();
            (
                g.get(&base::VENDOR_ID).unwrap(),
                g.get(&base::AUTH_APPLICATION_ID).unwrap(),
                g.get(&base::ACCT_APPLICATION_ID).unwrap(),
            )
        })
        .collect();
    let want: Vec<(Option<u32>, Option<u32>, Option<u32>)> = l
        .applications
        .iter()
        .filter_map(|a| {
            let v = a.vendor?;
            Some(match a.kind {
                diameter_core::peer::AppKind::Auth => (Some(v), Some(a.id), None),
                diameter_core::peer::AppKind::Acct => (Some(v), None, Some(a.id)),
            })
        })
        .collect();
    assert_eq!(vsai, want);
    assert_eq!(
        m.get(&base::INBAND_SECURITY_ID).unwrap(),
        l.inband_security_id
    );
    assert_eq!(
        m.get(&base::FIRMWARE_REVISION).unwrap(),
        l.firmware_revision
    );
    let n = 2
        + l.host_ip_addresses.len()
        + 3
        + l.supported_vendor_ids.len()
        + l.applications.len()
        + usize::from(l.inband_security_id.is_some())
        + usize::from(l.firmware_revision.is_some())
        + usize::from(!m.is_request());
    assert_eq!(m.avps().count(), n, "no other AVPs");
}

/// Decode a DWR/DWA/DPR/DPA and check every AVP.
fn check_base(bytes: &[u8], l: &LocalIdentity<'_>, cause: Option<DisconnectCause>) {
    let m = Message::parse_with(bytes, &base::Base).expect("parses");
    m.validate(&base::Base).expect("grammar");
    assert!(!m.flags().is_proxiable() && !m.flags().is_error());
    assert_eq!(m.application_id(), ApplicationId::COMMON);
    assert_eq!(m.get(&base::ORIGIN_HOST).unwrap(), Some(l.origin_host));
    assert_eq!(m.get(&base::ORIGIN_REALM).unwrap(), Some(l.origin_realm));
    let mut n = 2;
    if !m.is_request() {
        assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(2001));
        n += 1;
    }
    if m.command_code() == CommandCode::DEVICE_WATCHDOG {
        assert_eq!(
            m.get(&base::ORIGIN_STATE_ID).unwrap(),
            Some(l.origin_state_id)
        );
        n += 1;
    }
    if m.command_code() == CommandCode::DISCONNECT_PEER && m.is_request() {
        assert_eq!(m.get(&base::DISCONNECT_CAUSE).unwrap(), cause);
        n += 1;
    }
    assert_eq!(m.avps().count(), n, "no other AVPs");
}

// ---------------------------------------------------------------------------
// Scenarios (each returns its Pair so the Wireshark test can replay it)
// ---------------------------------------------------------------------------

/// A connected pair with both sides Up; ladder and events taken.
fn open_pair_with(ci: PeerConfig<'static>, cr: PeerConfig<'static>) -> Pair {
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

fn open_pair() -> Pair {
    open_pair_with(client_cfg(), server_cfg())
}

fn s_cer_cea() -> Pair {
    let mut p = Pair::new(client_cfg(), server_cfg());
    assert_eq!(p.peer(I).state(), PeerState::Closed);
    assert_eq!(p.next_timer(), None, "nothing armed before start");
    p.start();
    assert_eq!(p.take_ladder(), ["I>R CER", "R>I CEA 2001"]);
    assert_eq!(p.take_events(I), [Event::Connect, Event::Up]);
    assert_eq!(p.take_events(R), [Event::Up]);
    for s in [I, R] {
        assert!(p.peer(s).is_open());
        assert_eq!(p.peer(s).state(), PeerState::Open);
        assert_eq!(p.peer(s).watchdog_state(), WatchdogState::Okay);
        assert_eq!(p.peer(s).pending_len(), 0);
    }

    let cer = p.last(I, "CER");
    let (hbh, e2e) = ids(&cer);
    assert_eq!(
        e2e >> 20,
        0xa3c,
        "End-to-End starts with boot_time's low 12 bits"
    );
    assert_bytes(&cer, &expect_cer(&client_identity(), hbh, e2e), "CER");
    let m = Message::parse_with(&cer, &base::Base).unwrap();
    assert!(m.is_request() && !m.flags().is_proxiable());
    check_caps(&m, &client_identity());

    let cea = p.last(R, "CEA");
    assert_eq!(ids(&cea), (hbh, e2e), "CEA echoes the CER's identifiers");
    assert_bytes(
        &cea,
        &expect_cea(&server_identity(), hbh, e2e, 2001, false),
        "CEA",
    );
    let m = Message::parse_with(&cea, &base::Base).unwrap();
    assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(2001));
    check_caps(&m, &server_identity());

    // What each side learnt.
    let i = p.peer(I).peer_info();
    assert_eq!(i.origin_host.as_str(), SERVER);
    assert_eq!(i.origin_realm.as_str(), REALM);
    assert_eq!(i.origin_state_id, Some(42));
    assert_eq!(i.vendor_id, 10415);
    assert_eq!(i.common.as_slice(), [App::auth(4), App::acct(3)]);
    let r = p.peer(R).peer_info();
    assert_eq!(r.origin_host.as_str(), CLIENT);
    assert_eq!(r.origin_state_id, Some(1_700_000_000));
    assert_eq!(r.common.as_slice(), [App::auth(4), App::acct(3)]);
    p
}

fn s_cer_cea_split() -> Pair {
    // The same exchange with writes and reads cut at random points.
    let mut last = None;
    for seed in 1..=64u64 {
        let mut p = Pair::with_split(client_cfg(), server_cfg(), Some(seed * 0x9e37_79b9));
        p.start();
        assert_eq!(p.take_ladder(), ["I>R CER", "R>I CEA 2001"], "seed {seed}");
        assert_eq!(p.take_events(I), [Event::Connect, Event::Up]);
        assert_eq!(p.take_events(R), [Event::Up]);
        // a request and its answer, a DWR round and a DPR round, all split
        p.send(I, acr(CLIENT, "client.example.org;1;split", 1), 1)
            .unwrap();
        p.fire_next();
        p.disconnect(I, DisconnectCause::Rebooting);
        assert_eq!(
            p.take_ladder(),
            [
                "I>R ACR",
                "R>I ACA 2001",
                "I>R DWR",
                "R>I DWA 2001",
                "I>R DPR",
                "R>I DPA 2001"
            ],
            "seed {seed}\n{}",
            p.dump()
        );
        assert_eq!(p.ends[I.ix()].ended[&1], Ending::Answered(Some(2001)));
        assert_eq!(p.peer(I).state(), PeerState::Closed);
        assert_eq!(p.peer(R).state(), PeerState::Closed);
        last = Some(p);
    }
    last.unwrap()
}

fn s_cea_5010() -> Pair {
    let cr = PeerConfig {
        local: LocalIdentity {
            applications: &LONELY_APPS,
            ..server_identity()
        },
        ..server_cfg()
    };
    let mut p = Pair::new(client_cfg(), cr);
    p.start();
    assert_eq!(p.take_ladder(), ["I>R CER", "R>I CEA 5010"], "{}", p.dump());
    let (hbh, e2e) = ids(&p.last(I, "CER"));
    let cea = p.last(R, "CEA");
    let want = expect_cea(&p.ends[R.ix()].cfg.local, hbh, e2e, 5010, false);
    assert_bytes(&cea, &want, "CEA 5010");
    let m = Message::parse_with(&cea, &base::Base).unwrap();
    assert!(!m.flags().is_error(), "5xxx: no E bit");
    assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(5010));
    check_caps(&m, &p.ends[R.ix()].cfg.local);
    assert_eq!(
        p.take_events(R),
        [
            Event::Down(DownReason::CapabilitiesRejected(
                diameter_core::ResultCode::NO_COMMON_APPLICATION
            )),
            Event::Close
        ]
    );
    assert_eq!(
        p.take_events(I),
        [
            Event::Connect,
            Event::Down(DownReason::CapabilitiesRejected(diameter_core::ResultCode(
                5010
            ))),
            Event::Close
        ]
    );
    assert!(!p.conn);
    assert_eq!(p.peer(I).state(), PeerState::Closed);
    assert_eq!(p.peer(R).state(), PeerState::Closed);
    // The initiator tries again after Tc.
    let t0 = p.now.0;
    let t = p.fire_next();
    assert_eq!(t, t0 + 30_000);
    assert_eq!(p.take_events(I)[0], Event::Connect);
    p
}

fn s_cea_3010() -> Pair {
    let cr = PeerConfig {
        allowed_hosts: &["peer.other.org"],
        allowed_realms: &["other.org"],
        ..server_cfg()
    };
    let mut p = Pair::new(client_cfg(), cr);
    p.start();
    assert_eq!(
        p.take_ladder(),
        ["I>R CER", "R>I CEA 3010 E"],
        "{}",
        p.dump()
    );
    let (hbh, e2e) = ids(&p.last(I, "CER"));
    let cea = p.last(R, "CEA");
    assert_bytes(
        &cea,
        &expect_cea(&server_identity(), hbh, e2e, 3010, true),
        "CEA 3010",
    );
    let m = Message::parse_with(&cea, &base::Base).unwrap();
    assert!(m.flags().is_error(), "3xxx: E bit");
    assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(3010));
    check_caps(&m, &server_identity());
    assert_eq!(
        p.take_events(R),
        [
            Event::Down(DownReason::CapabilitiesRejected(
                diameter_core::ResultCode::UNKNOWN_PEER
            )),
            Event::Close
        ]
    );
    assert_eq!(
        p.take_events(I),
        [
            Event::Connect,
            Event::Down(DownReason::CapabilitiesRejected(diameter_core::ResultCode(
                3010
            ))),
            Event::Close
        ]
    );
    assert!(!p.conn);
    assert_eq!(p.peer(R).state(), PeerState::Closed);

    // The same client is admitted by host (any case) or by realm.
    for (hosts, realms) in [
        (&["CLIENT.Example.ORG"][..], &[][..]),
        (&[][..], &["EXAMPLE.org"][..]),
        (&["nobody.example.net"][..], &["example.org"][..]),
    ] {
        let cr = PeerConfig {
            allowed_hosts: hosts,
            allowed_realms: realms,
            ..server_cfg()
        };
        let mut q = Pair::new(client_cfg(), cr);
        q.start();
        assert_eq!(q.take_ladder(), ["I>R CER", "R>I CEA 2001"]);
        assert!(q.peer(I).is_open() && q.peer(R).is_open());
    }
    p
}

fn s_capabilities_timeouts() -> Pair {
    // CEA never comes: the responder does not answer (I->R is a black hole).
    let cr = PeerConfig {
        capabilities_timeout: Duration::from_secs(20),
        ..server_cfg()
    };
    let mut p = Pair::new(client_cfg(), cr);
    p.wires[I.ix()].drop = true;
    p.start();
    assert_eq!(p.take_ladder(), ["I>R CER (lost)"]);
    assert_eq!(p.peer(I).state(), PeerState::WaitCea);
    assert_eq!(p.peer(R).state(), PeerState::WaitCer);
    let t = p.fire_next();
    assert_eq!(t, 10_000, "capabilities_timeout");
    assert_eq!(
        p.take_events(I),
        [
            Event::Connect,
            Event::Down(DownReason::CapabilitiesTimeout),
            Event::Close
        ]
    );
    assert_eq!(p.take_events(R), [Event::Down(DownReason::TransportClosed)]);
    assert_eq!(p.take_ladder(), Vec::<String>::new());

    // The responder's CER wait: the initiator connects but never sends.
    let mut q = Pair::new(client_cfg(), server_cfg());
    q.net = Net::Up;
    q.conn = true;
    let now = q.now;
    q.end_mut(R).peer.handle_connected(now);
    q.run();
    assert_eq!(q.peer(R).state(), PeerState::WaitCer);
    assert_eq!(q.fire_next(), 10_000);
    assert_eq!(
        q.take_events(R),
        [Event::Down(DownReason::CapabilitiesTimeout), Event::Close]
    );
    assert_eq!(q.peer(R).state(), PeerState::Closed);

    // The transport connection never completes.
    let mut h = Pair::new(client_cfg(), server_cfg());
    h.net = Net::Hang;
    h.start();
    assert_eq!(h.peer(I).state(), PeerState::Connecting);
    assert_eq!(h.fire_next(), 10_000);
    assert_eq!(
        h.take_events(I),
        [
            Event::Connect,
            Event::Down(DownReason::CapabilitiesTimeout),
            Event::Close
        ]
    );
    assert_eq!(h.peer(I).state(), PeerState::Closed);
    // ... and is retried after Tc; a refused attempt is retried too.
    h.net = Net::Refuse;
    assert_eq!(h.fire_next(), 40_000);
    assert_eq!(
        h.take_events(I),
        [Event::Connect, Event::Down(DownReason::TransportClosed)]
    );
    h.net = Net::Up;
    assert_eq!(h.fire_next(), 70_000);
    assert_eq!(h.take_events(I), [Event::Connect, Event::Up]);
    assert_eq!(h.take_ladder(), ["I>R CER", "R>I CEA 2001"]);
    p
}

fn s_dwr_on_silence() -> Pair {
    let mut p = open_pair();
    let t0 = p.now.0;
    let t1 = p.fire_next();
    assert!((t0 + 4_000..=t0 + 8_000).contains(&t1), "Tw ± 2 s: {t1}");
    assert_eq!(p.take_ladder(), ["I>R DWR", "R>I DWA 2001"]);
    let dwr = p.last(I, "DWR");
    let (hbh, e2e) = ids(&dwr);
    assert_eq!(e2e >> 20, 0xa3c);
    assert_bytes(&dwr, &expect_dwr(&client_identity(), hbh, e2e), "DWR");
    check_base(&dwr, &client_identity(), None);
    let dwa = p.last(R, "DWA");
    assert_bytes(&dwa, &expect_dwa(&server_identity(), hbh, e2e), "DWA");
    check_base(&dwa, &server_identity(), None);
    assert_eq!(p.take_events(I), NO_EVENTS);
    assert_eq!(p.take_events(R), NO_EVENTS);

    // Silence again: the next DWR a Tw later, forever; the responder's own
    // timer keeps being reset by the initiator's DWRs.
    let t2 = p.fire_next();
    assert!((t1 + 4_000..=t1 + 8_000).contains(&t2), "{t2}");
    assert_eq!(p.take_ladder(), ["I>R DWR", "R>I DWA 2001"]);
    p.sleep(120_000);
    let l = p.take_ladder();
    assert!(l.len() >= 2 * 15, "{l:?}");
    assert!(
        l.chunks(2).all(|c| c == ["I>R DWR", "R>I DWA 2001"]),
        "{l:?}"
    );
    // Identifiers keep moving.
    let dwrs = p.find(I, "DWR");
    for w in dwrs.windows(2) {
        let (a, b) = (ids(&w[0]), ids(&w[1]));
        assert_eq!(b.0, a.0.wrapping_add(1));
        assert_eq!(b.1, a.1 + 1);
    }
    assert!(p.peer(I).is_open() && p.peer(R).is_open());

    // The responder sends its own DWRs when the initiator is quiet: a
    // responder with Tw 6 s and an initiator with Tw 30 s.
    let ci = PeerConfig {
        tw: Duration::from_secs(30),
        ..client_cfg()
    };
    let cr = PeerConfig {
        tw: Duration::from_secs(6),
        ..server_cfg()
    };
    let mut q = open_pair_with(ci, cr);
    q.fire_next();
    assert_eq!(q.take_ladder(), ["R>I DWR", "I>R DWA 2001"]);
    let dwr = q.last(R, "DWR");
    let (hbh, e2e) = ids(&dwr);
    assert_eq!(e2e >> 20, 0xb07);
    assert_bytes(&dwr, &expect_dwr(&server_identity(), hbh, e2e), "R's DWR");
    assert_bytes(
        &q.last(I, "DWA"),
        &expect_dwa(&client_identity(), hbh, e2e),
        "I's DWA",
    );
    p
}

fn s_dwr_answered_in_every_state() -> Pair {
    // A DWR written by the responder's side right behind its CEA.
    let mut p = Pair::new(client_cfg(), server_cfg());
    p.wires[R.ix()].hold = true;
    p.start();
    let dwr = expect_dwr(&server_identity(), 0x0bad_0001, 0x0b07_0101);
    p.app_write(R, &dwr);
    p.wires[R.ix()].hold = false;
    p.run();
    assert_eq!(
        p.take_ladder(),
        ["I>R CER", "R>I CEA 2001", "R>I DWR", "I>R DWA 2001"]
    );
    let dwa = p.last(I, "DWA");
    assert_bytes(
        &dwa,
        &expect_dwa(&client_identity(), 0x0bad_0001, 0x0b07_0101),
        "DWA right after CEA",
    );
    check_base(&dwa, &client_identity(), None);
    let dwr_to_i = |p: &mut Pair, n: u32| {
        let d = expect_dwr(&server_identity(), 0x0bad_0000 + n, 0x0b07_0100 + n);
        p.app_write(R, &d);
        p.run();
        let dwa = p.last(I, "DWA");
        assert_eq!(ids(&dwa), (0x0bad_0000 + n, 0x0b07_0100 + n));
        assert_bytes(
            &dwa,
            &expect_dwa(&client_identity(), 0x0bad_0000 + n, 0x0b07_0100 + n),
            "DWA",
        );
    };
    // Open/OKAY.
    dwr_to_i(&mut p, 2);
    assert_eq!(p.take_ladder(), ["R>I DWR", "I>R DWA 2001"]);

    // SUSPECT: the initiator's DWAs are lost; its DWR goes unanswered.
    p.wires[R.ix()].drop = true;
    p.fire_next(); // DWR
    p.fire_next(); // no DWA: SUSPECT
    assert_eq!(p.peer(I).watchdog_state(), WatchdogState::Suspect);
    assert_eq!(p.take_events(I).last(), Some(&Event::Suspect));
    p.wires[R.ix()].drop = false;
    p.take_ladder();
    dwr_to_i(&mut p, 3);
    // Any message brings SUSPECT back to OKAY.
    assert_eq!(p.peer(I).watchdog_state(), WatchdogState::Okay);
    assert_eq!(p.take_events(I), [Event::Failback]);
    assert_eq!(p.take_ladder(), ["R>I DWR", "I>R DWA 2001"]);

    // Closing: DPR sent, DPA not yet back.
    p.wires[I.ix()].drop = true; // the DPR never arrives
    p.disconnect(I, DisconnectCause::Rebooting);
    assert_eq!(p.peer(I).state(), PeerState::Closing);
    dwr_to_i(&mut p, 4);
    assert_eq!(p.peer(I).state(), PeerState::Closing);

    // WaitCea: the CER is lost, the peer's DWR still gets its DWA.
    let mut q = Pair::new(client_cfg(), server_cfg());
    q.wires[I.ix()].hold = true;
    q.start();
    assert_eq!(q.peer(I).state(), PeerState::WaitCea);
    dwr_to_i(&mut q, 5);
    assert_eq!(q.peer(I).state(), PeerState::WaitCea);

    // WaitCer: a lone responder.
    let cfg = leak(server_cfg());
    let mut r: TestPeer = Peer::new(cfg, Role::Responder, Instant::ZERO);
    r.handle_connected(Instant::ZERO);
    assert_eq!(r.state(), PeerState::WaitCer);
    let d = expect_dwr(&client_identity(), 77, 78);
    assert_eq!(
        r.handle_message(Instant::ZERO, &d, &base::Base),
        Incoming::Handled
    );
    assert_bytes(
        r.transmit(),
        &expect_dwa(&server_identity(), 77, 78),
        "DWA in WaitCer",
    );
    p
}

fn s_watchdog_failover_reopen() -> Pair {
    // Requests wait 60 s here, longer than the watchdog needs to give up.
    let ci = PeerConfig {
        request_timeout: Duration::from_secs(60),
        ..client_cfg()
    };
    let mut p = open_pair_with(ci, server_cfg());
    p.auto_answer[R.ix()] = false;
    p.send(I, acr(CLIENT, "client.example.org;1;wd", 1), 1)
        .unwrap();
    p.send(I, acr(CLIENT, "client.example.org;2;wd", 2), 2)
        .unwrap();
    assert_eq!(p.peer(I).pending_len(), 2);
    assert_eq!(p.ends[R.ix()].requests.len(), 2);
    let e2e = |p: &Pair, t: u64| p.ends[I.ix()].sent[&t].e2e;
    let (e1, e2) = (e2e(&p, 1), e2e(&p, 2));
    p.take_ladder();

    // The responder's answers stop arriving.
    p.wires[R.ix()].drop = true;
    let t_dwr = p.fire_next();
    assert_eq!(p.take_ladder(), ["I>R DWR", "R>I DWA 2001 (lost)"]);
    assert_eq!(p.peer(I).watchdog_state(), WatchdogState::Okay);
    assert_eq!(p.peer(I).pending_len(), 2);

    // No DWA within Tw: SUSPECT, and the pending requests are handed back.
    let t_suspect = p.fire_next();
    assert!((t_dwr + 4_000..=t_dwr + 8_000).contains(&t_suspect));
    let ev = p.take_events(I);
    assert_eq!(ev[0], Event::Suspect);
    let mut back: Vec<Event> = ev[1..].to_vec();
    back.sort_by_key(|e| match e {
        Event::RequestHandedBack { token, .. } => *token,
        _ => u64::MAX,
    });
    assert_eq!(
        back,
        [
            Event::RequestHandedBack {
                token: 1,
                end_to_end: e1
            },
            Event::RequestHandedBack {
                token: 2,
                end_to_end: e2
            }
        ]
    );
    assert_eq!(p.peer(I).pending_len(), 0);
    assert_eq!(p.peer(I).watchdog_state(), WatchdogState::Suspect);
    assert_eq!(p.peer(I).state(), PeerState::Open);
    assert!(!p.peer(I).is_open());
    assert_eq!(
        p.send(I, acr(CLIENT, "x;3", 3), 3),
        Err(SendError::NotOpen),
        "no traffic while SUSPECT"
    );
    assert_eq!(p.take_ladder(), Vec::<String>::new(), "no DWR in SUSPECT");

    // Another Tw: DOWN, the connection is closed.
    let t_down = p.fire_next();
    assert!((t_suspect + 4_000..=t_suspect + 8_000).contains(&t_down));
    assert_eq!(
        p.take_events(I),
        [Event::Down(DownReason::WatchdogExpired), Event::Close]
    );
    assert_eq!(p.take_events(R), [Event::Down(DownReason::TransportClosed)]);
    assert!(!p.conn);
    assert_eq!(p.peer(I).watchdog_state(), WatchdogState::Down);
    assert_eq!(p.peer(R).watchdog_state(), WatchdogState::Down);
    assert_eq!(p.take_ladder(), Vec::<String>::new());

    // Reconnect after Tw (here before Tc = 30 s), into REOPEN. Hold the
    // responder's side to count the DWAs one by one.
    p.wires[R.ix()].drop = false;
    p.wires[R.ix()].hold = true;
    let t_conn = p.fire_next();
    assert!(
        (t_down + 4_000..=t_down + 8_000).contains(&t_conn),
        "Connect after Tw: {t_conn}"
    );
    assert_eq!(p.take_events(I), [Event::Connect]);
    assert_eq!(p.take_events(R), [Event::Up]);
    assert_eq!(p.peer(R).watchdog_state(), WatchdogState::Reopen);
    assert!(!p.peer(R).is_open());
    assert_eq!(p.take_ladder(), ["I>R CER", "R>I CEA 2001", "R>I DWR"]);

    assert_eq!(p.deliver(R, 1), ["CEA 2001"]);
    assert_eq!(p.take_events(I), [Event::Up]);
    assert_eq!(p.peer(I).state(), PeerState::Open);
    assert_eq!(p.peer(I).watchdog_state(), WatchdogState::Reopen);
    assert!(!p.peer(I).is_open());
    // REOPEN: the first DWR goes out at once; no traffic either way.
    assert_eq!(p.take_ladder(), ["I>R DWR", "R>I DWA 2001"]);
    assert_eq!(p.send(I, acr(CLIENT, "x;4", 4), 4), Err(SendError::NotOpen));
    let stray = {
        let mut a = acr(SERVER, "server.example.org;1;reopen", 9);
        a[12..20].copy_from_slice(&[0, 0, 0, 9, 0, 0, 0, 9]);
        a
    };
    p.app_write(R, &stray);
    let dropped_before = p.peer(I).stats().dropped;

    let mut dwas = 0;
    let mut delivered = Vec::new();
    while !p.peer(I).is_open() {
        assert!(delivered.len() < 20, "{delivered:?}\n{}", p.dump());
        let name = p.deliver(R, 1).remove(0);
        if name.starts_with("DWA") {
            dwas += 1;
        }
        if name.starts_with("ACR") {
            assert_eq!(
                p.take_got(I).last(),
                Some(&Got::Dropped(DropReason::NotOpen)),
                "application traffic is thrown away in REOPEN"
            );
            assert_eq!(p.peer(I).stats().dropped, dropped_before + 1);
        }
        delivered.push(name);
        let ev = p.take_events(I);
        if p.peer(I).is_open() {
            assert_eq!(ev, [Event::Failback]);
        } else {
            assert_eq!(ev, NO_EVENTS, "{delivered:?}");
            assert_eq!(p.peer(I).watchdog_state(), WatchdogState::Reopen);
        }
    }
    assert_eq!(dwas, 3, "three DWAs in REOPEN: {delivered:?}");
    assert!(
        delivered.iter().any(|d| d.starts_with("ACR")),
        "{delivered:?}"
    );
    assert_eq!(p.peer(I).watchdog_state(), WatchdogState::Okay);
    p.wires[R.ix()].hold = false;
    p.run();
    assert!(p.peer(R).is_open(), "{}", p.dump());
    assert_eq!(p.take_events(R), [Event::Failback]);
    // Every DWR since the reconnection got exactly one DWA.
    p.take_ladder();
    let ladder: Vec<String> = p
        .log
        .iter()
        .filter(|w| w.at >= t_conn)
        .map(Wired::rung)
        .collect();
    let n = |s: &str| ladder.iter().filter(|l| l.starts_with(s)).count();
    assert_eq!(n("I>R DWR"), n("R>I DWA"));
    assert_eq!(n("R>I DWR"), n("I>R DWA"));

    // Retransmit the handed-back requests with the T flag: End-to-End kept,
    // fresh Hop-by-Hop; the responder recognises them as duplicates.
    p.auto_answer[R.ix()] = true;
    for (old, new, e) in [(1u64, 11u64, e1), (2, 12, e2)] {
        let mut bytes = p.ends[I.ix()].sent[&old].bytes.clone();
        set_retransmit_flag(&mut bytes);
        let hbh = p.send(I, bytes, new).unwrap();
        let s = &p.ends[I.ix()].sent[&new];
        assert_eq!(s.e2e, e, "End-to-End kept on retransmission");
        assert_ne!(hbh, p.ends[I.ix()].sent[&old].hbh);
        assert_eq!(s.bytes[4] & 0x10, 0x10);
    }
    assert_eq!(
        p.take_ladder(),
        ["I>R ACR T", "R>I ACA 2001", "I>R ACR T", "R>I ACA 2001"]
    );
    let got: Vec<Got> = p.take_got(R);
    let dups: Vec<bool> = got
        .iter()
        .filter_map(|g| match g {
            Got::Request {
                duplicate,
                retransmit: true,
                ..
            } => Some(*duplicate),
            _ => None,
        })
        .collect();
    assert_eq!(dups, [true, true]);
    assert_eq!(p.peer(R).stats().duplicates, 2);
    assert_eq!(p.ends[I.ix()].ended[&11], Ending::Answered(Some(2001)));
    assert_eq!(p.ends[I.ix()].ended[&12], Ending::Answered(Some(2001)));
    p.check_all_ended(I);
    p
}

fn dpr_from(side: Side, cause: DisconnectCause) -> Pair {
    let mut p = open_pair();
    let other = side.other();
    // A request in flight is handed back when the connection closes.
    p.auto_answer[R.ix()] = false;
    p.send(I, acr(CLIENT, "client.example.org;7;dpr", 7), 7)
        .unwrap();
    p.take_ladder();
    let t = p.now.0;
    p.disconnect(side, cause);
    let c = cause.to_i32();
    let sn = side_name(side);
    let on = side_name(other);
    assert_eq!(
        p.take_ladder(),
        [format!("{sn}>{on} DPR"), format!("{on}>{sn} DPA 2001")]
    );
    let l = |s: Side| p.ends[s.ix()].cfg.local;
    let dpr = p.last(side, "DPR");
    let (hbh, e2e) = ids(&dpr);
    assert_bytes(&dpr, &expect_dpr(&l(side), hbh, e2e, cause), "DPR");
    check_base(&dpr, &l(side), Some(cause));
    let dpa = p.last(other, "DPA");
    assert_bytes(&dpa, &expect_dpa(&l(other), hbh, e2e), "DPA");
    check_base(&dpa, &l(other), None);

    let mut receiver = vec![
        Event::PeerDisconnecting(c),
        Event::Down(DownReason::Disconnected(c)),
        Event::Close,
    ];
    let mut sender = vec![Event::Down(DownReason::Disconnected(c)), Event::Close];
    let handed_back = Event::RequestHandedBack {
        token: 7,
        end_to_end: p.ends[I.ix()].sent[&7].e2e,
    };
    if side == I {
        sender.push(handed_back);
    } else {
        receiver.push(handed_back);
    }
    assert_eq!(p.take_events(side), sender, "{}", p.dump());
    assert_eq!(p.take_events(other), receiver, "{}", p.dump());
    assert!(!p.conn);
    for s in [I, R] {
        assert_eq!(p.peer(s).state(), PeerState::Closed);
        assert_eq!(
            p.peer(s).watchdog_state(),
            WatchdogState::Initial,
            "DPR stops the watchdog"
        );
    }
    p.check_all_ended(I);

    // Reconnection policy.
    let backoff = 600_000;
    match (side, cause) {
        (I, _) => {
            // We said goodbye: no reconnect until allowed.
            p.sleep(2 * 3_600_000);
            assert_eq!(p.take_events(I), NO_EVENTS);
            p.end_mut(I).peer.allow_reconnect();
            p.start();
            assert_eq!(p.take_events(I), [Event::Connect, Event::Up]);
        }
        (R, DisconnectCause::DoNotWantToTalkToYou) => {
            p.advance_to(t + backoff - 1);
            assert_eq!(
                p.take_events(I),
                NO_EVENTS,
                "no reconnect within the back-off"
            );
            p.start(); // even when asked
            assert_eq!(p.take_events(I), NO_EVENTS);
            p.advance_to(t + backoff);
            assert_eq!(p.take_events(I), [Event::Connect, Event::Up]);
        }
        (R, _) => {
            p.advance_to(t + 30_000 - 1);
            assert_eq!(p.take_events(I), NO_EVENTS);
            p.advance_to(t + 30_000);
            assert_eq!(p.take_events(I), [Event::Connect, Event::Up]);
        }
    }
    // A connection after DPR/DPA starts in OKAY, not REOPEN.
    assert!(p.peer(I).is_open() && p.peer(R).is_open());
    assert_eq!(p.take_events(R), [Event::Up]);
    p
}

fn s_dpr_both_ways() -> Pair {
    let mut last = None;
    for side in [I, R] {
        for cause in [
            DisconnectCause::Rebooting,
            DisconnectCause::Busy,
            DisconnectCause::DoNotWantToTalkToYou,
        ] {
            last = Some(dpr_from(side, cause));
        }
    }
    last.unwrap()
}

fn s_dpa_timeout() -> Pair {
    let mut p = open_pair();
    p.wires[I.ix()].drop = true;
    let t = p.now.0;
    p.disconnect(I, DisconnectCause::Busy);
    assert_eq!(p.take_ladder(), ["I>R DPR (lost)"]);
    assert_eq!(p.peer(I).state(), PeerState::Closing);
    assert_eq!(p.fire_next(), t + 5_000, "dpa_timeout");
    assert_eq!(
        p.take_events(I),
        [Event::Down(DownReason::Disconnected(1)), Event::Close],
        "the cause we sent"
    );
    assert_eq!(p.take_events(R), [Event::Down(DownReason::TransportClosed)]);
    p
}

fn s_request_timeout() -> Pair {
    let mut p = open_pair();
    p.auto_answer[R.ix()] = false;
    let t0 = p.now.0;
    p.send(I, acr(CLIENT, "client.example.org;1;to", 1), 1)
        .unwrap();
    p.sleep(3_000);
    p.send(I, acr(CLIENT, "client.example.org;2;to", 2), 2)
        .unwrap();
    p.advance_to(t0 + 10_000 - 1);
    assert_eq!(p.peer(I).pending_len(), 2);
    assert!(p.take_timed_events(I).is_empty());
    p.advance_to(t0 + 13_000);
    assert_eq!(
        p.take_timed_events(I),
        [
            (t0 + 10_000, Event::RequestTimedOut { token: 1 }),
            (t0 + 13_000, Event::RequestTimedOut { token: 2 })
        ]
    );
    assert_eq!(p.peer(I).pending_len(), 0);
    // A late answer matches nothing.
    p.answer_held(R, 0, 2001);
    assert_eq!(
        p.take_got(I).last(),
        Some(&Got::Dropped(DropReason::UnmatchedAnswer))
    );
    assert_eq!(p.peer(I).stats().unmatched_answers, 1);
    // The connection stays up (DWRs answered meanwhile).
    assert!(p.peer(I).is_open());
    p.check_all_ended(I);
    p
}

fn s_backpressure() -> Pair {
    let mut p = open_pair();
    p.auto_answer[R.ix()] = false;
    for t in 1..=P as u64 {
        p.send(
            I,
            acr(CLIENT, &format!("client.example.org;{t};bp"), t as u32),
            t,
        )
        .unwrap();
    }
    assert_eq!(p.peer(I).pending_len(), P);
    assert_eq!(p.peer(I).pending_capacity(), P);
    let ladder_before = p.log.len();
    assert_eq!(
        p.send(I, acr(CLIENT, "client.example.org;5;bp", 5), 5),
        Err(SendError::Full)
    );
    assert_eq!(p.log.len(), ladder_before, "nothing written");
    assert_eq!(p.peer(I).pending_len(), P);
    // One answer frees one slot.
    p.answer_held(R, 0, 2001);
    assert_eq!(p.ends[I.ix()].ended[&1], Ending::Answered(Some(2001)));
    assert_eq!(p.peer(I).pending_len(), P - 1);
    p.send(I, acr(CLIENT, "client.example.org;6;bp", 6), 6)
        .unwrap();
    assert_eq!(
        p.send(I, acr(CLIENT, "client.example.org;7;bp", 7), 7),
        Err(SendError::Full)
    );
    // Answer everything, then the table is empty.
    while !p.ends[R.ix()].requests.is_empty() {
        p.answer_held(R, 0, 2001);
    }
    assert_eq!(p.peer(I).pending_len(), 0);
    for t in [2, 3, 4, 6] {
        assert_eq!(p.ends[I.ix()].ended[&t], Ending::Answered(Some(2001)));
    }
    // Other send errors.
    let now = p.now;
    let mut short = [1u8; 12];
    assert_eq!(
        p.end_mut(I).peer.send_request(now, &mut short, 99),
        Err(SendError::NotARequest)
    );
    let mut ans = answer_for(&client_cfg(), &p.ends[I.ix()].sent[&1].bytes, 2001);
    assert_eq!(
        p.end_mut(I).peer.send_request(now, &mut ans, 99),
        Err(SendError::NotARequest)
    );
    let mut other_app = acr(CLIENT, "client.example.org;8;bp", 8);
    other_app[8..12].copy_from_slice(&16_777_251u32.to_be_bytes());
    assert_eq!(
        p.end_mut(I).peer.send_request(now, &mut other_app, 99),
        Err(SendError::ApplicationNotSupported)
    );
    p.check_all_ended(I);
    p
}

/// A request from the initiator's application, written raw (not through
/// `send_request`), with the given identifiers.
fn raw_request(mut bytes: Vec<u8>, hbh: u32, e2e: u32) -> Vec<u8> {
    bytes[12..16].copy_from_slice(&hbh.to_be_bytes());
    bytes[16..20].copy_from_slice(&e2e.to_be_bytes());
    bytes
}

fn s_error_answers() -> Pair {
    let mut p = open_pair();

    // Unknown command in a negotiated application: 3001, E bit.
    let mut unknown = acr(CLIENT, "client.example.org;1;3001", 1);
    unknown[5..8].copy_from_slice(&999u32.to_be_bytes()[1..]);
    p.send(I, unknown, 1).unwrap();
    assert_eq!(p.take_ladder(), ["I>R 999-R", "R>I 999-A 3001 E"]);
    assert_eq!(p.take_got(R), [Got::Rejected(3001)]);
    let req = p.ends[I.ix()].sent[&1].bytes.clone();
    let ans = p.last(R, "999-A");
    assert_bytes(
        &ans,
        &expect_error(&req, &server_identity(), 3001, None),
        "3001",
    );
    let m = Message::parse_with(&ans, &base::Base).unwrap();
    assert!(m.flags().is_error() && m.flags().is_proxiable() && !m.is_request());
    assert_eq!(ids(&ans), ids(&req));
    assert_eq!(m.session_id(), Some("client.example.org;1;3001"));
    assert_eq!(m.get(&base::ORIGIN_HOST).unwrap(), Some(SERVER));
    assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(3001));
    diameter_core::message::validate_set(
        m.avps(),
        &base::ERROR_ANSWER,
        &base::Base,
        &ParseConfig::DEFAULT,
        0,
    )
    .expect("answer-message grammar");
    assert_eq!(p.ends[I.ix()].ended[&1], Ending::Answered(Some(3001)));

    // An unknown command in the common application (0), which every node
    // supports and `send_request` accepts: also 3001, not 3007.
    let mut common = acr(CLIENT, "client.example.org;5;3001", 5);
    common[5..8].copy_from_slice(&999u32.to_be_bytes()[1..]);
    common[8..12].copy_from_slice(&0u32.to_be_bytes());
    p.send(I, common, 5).unwrap();
    assert_eq!(p.take_ladder(), ["I>R 999-R", "R>I 999-A 3001 E"]);
    assert_eq!(p.take_got(R), [Got::Rejected(3001)]);
    let req = p.ends[I.ix()].sent[&5].bytes.clone();
    assert_bytes(
        &p.last(R, "999-A"),
        &expect_error(&req, &server_identity(), 3001, None),
        "3001 in application 0",
    );
    assert_eq!(p.ends[I.ix()].ended[&5], Ending::Answered(Some(3001)));

    // An application the client did not negotiate: 3007, E bit. The client
    // machine refuses to send it, so its application writes it raw.
    let mut foreign = acr(CLIENT, "client.example.org;2;3007", 2);
    foreign[8..12].copy_from_slice(&16_777_251u32.to_be_bytes());
    assert_eq!(
        p.send(I, foreign.clone(), 2),
        Err(SendError::ApplicationNotSupported)
    );
    let foreign = raw_request(foreign, 0x7777_0001, 0x7777_0002);
    p.app_write(I, &foreign);
    p.run();
    assert_eq!(p.take_ladder(), ["I>R ACR", "R>I ACA 3007 E"]);
    assert_eq!(p.take_got(R), [Got::Rejected(3007)]);
    let ans = p.last(R, "ACA");
    assert_bytes(
        &ans,
        &expect_error(&foreign, &server_identity(), 3007, None),
        "3007",
    );
    // ... and to the client machine it answers nothing it sent.
    assert_eq!(
        p.take_got(I),
        [
            Got::Answer {
                token: 1,
                rc: Some(3001)
            },
            Got::Answer {
                token: 5,
                rc: Some(3001)
            },
            Got::Dropped(DropReason::UnmatchedAnswer)
        ]
    );

    // A malformed request: Accounting-Record-Number missing: 5005 with a
    // Failed-AVP holding a zero-filled example of it; no E bit.
    let short = build(
        HeaderRepr::request(
            CommandCode::ACCOUNTING,
            ApplicationId::BASE_ACCOUNTING,
            0,
            0,
        )
        .proxiable(true),
        |b| {
            b.put(&base::SESSION_ID, "client.example.org;3;5005")
                .put(&base::ORIGIN_HOST, CLIENT)
                .put(&base::ORIGIN_REALM, REALM)
                .put(&base::DESTINATION_REALM, REALM)
                .put(
                    &base::ACCOUNTING_RECORD_TYPE,
                    AccountingRecordType::EventRecord,
                );
        },
    );
    let hbh = p.send(I, short, 3).unwrap();
    assert_eq!(p.take_ladder(), ["I>R ACR", "R>I ACA 5005"]);
    assert_eq!(p.take_got(R), [Got::Rejected(5005)]);
    let req = p.ends[I.ix()].sent[&3].bytes.clone();
    let ans = p.last(R, "ACA");
    assert_eq!(ids(&ans).0, hbh);
    assert_bytes(
        &ans,
        &expect_error(
            &req,
            &server_identity(),
            5005,
            Some((485, AvpFlags::MANDATORY, &[0, 0, 0, 0])),
        ),
        "5005",
    );
    let m = Message::parse_with(&ans, &base::Base).unwrap();
    assert!(!m.flags().is_error());
    let failed = m.get(&base::FAILED_AVP).unwrap().expect("Failed-AVP");
    let inner = failed.iter().next().unwrap().unwrap();
    assert_eq!((inner.code(), inner.data()), (485, &[0u8, 0, 0, 0][..]));
    assert_eq!(p.ends[I.ix()].ended[&3], Ending::Answered(Some(5005)));

    // A bad value: Origin-Host not UTF-8: 5004, the AVP echoed.
    let bad = build(
        HeaderRepr::request(
            CommandCode::ACCOUNTING,
            ApplicationId::BASE_ACCOUNTING,
            0,
            0,
        )
        .proxiable(true),
        |b| {
            b.put(&base::SESSION_ID, "client.example.org;4;5004")
                .put_raw(264, None, AvpFlags::MANDATORY, &[0xff, 0xfe, b'x'])
                .put(&base::ORIGIN_REALM, REALM)
                .put(&base::DESTINATION_REALM, REALM)
                .put(
                    &base::ACCOUNTING_RECORD_TYPE,
                    AccountingRecordType::EventRecord,
                )
                .put(&base::ACCOUNTING_RECORD_NUMBER, 4);
        },
    );
    p.send(I, bad, 4).unwrap();
    assert_eq!(p.take_ladder(), ["I>R ACR", "R>I ACA 5004"]);
    let req = p.ends[I.ix()].sent[&4].bytes.clone();
    assert_bytes(
        &p.last(R, "ACA"),
        &expect_error(
            &req,
            &server_identity(),
            5004,
            Some((264, AvpFlags::MANDATORY, &[0xff, 0xfe, b'x'])),
        ),
        "5004",
    );
    assert_eq!(p.peer(R).stats().rejected_requests, 5);
    assert!(p.peer(I).is_open() && p.peer(R).is_open());
    p.check_all_ended(I);
    p
}

fn s_duplicates() -> Pair {
    let mut p = open_pair();
    let req = acr(CLIENT, "client.example.org;1;dup", 1);
    p.send(I, req.clone(), 1).unwrap();
    let (h1, e1) = (p.ends[I.ix()].sent[&1].hbh, p.ends[I.ix()].sent[&1].e2e);
    // Retransmission (T flag) keeps the End-to-End id: a duplicate.
    let mut again = p.ends[I.ix()].sent[&1].bytes.clone();
    set_retransmit_flag(&mut again);
    let h2 = p.send(I, again, 2).unwrap();
    assert_ne!(h1, h2);
    assert_eq!(p.ends[I.ix()].sent[&2].e2e, e1);
    // Without the T flag the machine assigns a fresh End-to-End id.
    p.send(I, req.clone(), 3).unwrap();
    assert_ne!(p.ends[I.ix()].sent[&3].e2e, e1);
    // The same End-to-End id again without the T flag (written raw): seen
    // before, but not flagged (§6.5 only trusts the T flag).
    let raw = raw_request(p.ends[I.ix()].sent[&1].bytes.clone(), 0x5555_0001, e1);
    p.app_write(I, &raw);
    p.run();
    assert_eq!(
        p.take_ladder(),
        [
            "I>R ACR",
            "R>I ACA 2001",
            "I>R ACR T",
            "R>I ACA 2001",
            "I>R ACR",
            "R>I ACA 2001",
            "I>R ACR",
            "R>I ACA 2001"
        ]
    );
    let dups: Vec<(bool, bool)> = p
        .take_got(R)
        .into_iter()
        .map(|g| match g {
            Got::Request {
                retransmit,
                duplicate,
                ..
            } => (retransmit, duplicate),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        dups,
        [(false, false), (true, true), (false, false), (false, false)]
    );
    assert_eq!(p.peer(R).stats().duplicates, 1);
    // After the duplicate window (60 s) a retransmission is new again.
    p.sleep(61_000);
    p.take_ladder();
    let mut late = p.ends[I.ix()].sent[&1].bytes.clone();
    set_retransmit_flag(&mut late);
    p.send(I, late, 4).unwrap();
    assert_eq!(
        p.take_got(R).last(),
        Some(&Got::Request {
            code: 271,
            hbh: p.ends[I.ix()].sent[&4].hbh,
            e2e: e1,
            retransmit: true,
            duplicate: false
        })
    );
    // A different Session-Id with the same End-to-End is not a duplicate.
    let mut other = acr(CLIENT, "client.example.org;2;dup", 1);
    other[16..20].copy_from_slice(&e1.to_be_bytes());
    set_retransmit_flag(&mut other);
    p.send(I, other, 5).unwrap();
    assert!(matches!(
        p.take_got(R).last(),
        Some(Got::Request {
            duplicate: false,
            ..
        })
    ));
    assert_eq!(p.peer(R).stats().duplicates, 1);
    p.check_all_ended(I);
    p
}

fn s_handback_and_retransmit() -> Pair {
    // The transport drops while requests are pending: handed back with their
    // End-to-End ids, retransmitted with T on the next connection.
    let mut p = open_pair();
    p.auto_answer[R.ix()] = false;
    p.send(I, acr(CLIENT, "client.example.org;1;hb", 1), 1)
        .unwrap();
    p.send(I, acr(CLIENT, "client.example.org;2;hb", 2), 2)
        .unwrap();
    let e1 = p.ends[I.ix()].sent[&1].e2e;
    p.drop_connection();
    p.run();
    let ev = p.take_events(I);
    assert_eq!(ev[0], Event::Down(DownReason::TransportClosed));
    let mut back: Vec<Event> = ev[1..].to_vec();
    back.sort_by_key(|e| match e {
        Event::RequestHandedBack { token, .. } => *token,
        _ => 0,
    });
    assert_eq!(
        back[0],
        Event::RequestHandedBack {
            token: 1,
            end_to_end: e1
        }
    );
    assert_eq!(back.len(), 2);
    assert_eq!(p.take_events(R), [Event::Down(DownReason::TransportClosed)]);
    // Reconnect (Tw-driven), REOPEN, then OKAY.
    p.auto_answer[R.ix()] = true;
    p.sleep(40_000);
    assert!(p.peer(I).is_open() && p.peer(R).is_open(), "{}", p.dump());
    let ev = p.take_events(I);
    assert_eq!(ev, [Event::Connect, Event::Up, Event::Failback]);
    let mut bytes = p.ends[I.ix()].sent[&1].bytes.clone();
    set_retransmit_flag(&mut bytes);
    p.send(I, bytes, 21).unwrap();
    assert_eq!(p.ends[I.ix()].sent[&21].e2e, e1);
    assert_eq!(p.ends[I.ix()].ended[&21], Ending::Answered(Some(2001)));
    assert!(matches!(
        p.take_got(R).last(),
        Some(Got::Request {
            duplicate: true,
            retransmit: true,
            ..
        })
    ));
    p.check_all_ended(I);
    p
}

fn s_garbage() -> Pair {
    let mut p = open_pair();
    p.auto_answer[R.ix()] = false;
    p.send(I, acr(CLIENT, "client.example.org;1;garbage", 1), 1)
        .unwrap();
    p.take_ladder();
    p.take_got(R);

    // A well-framed request whose AVP length is impossible: 5014, answered.
    let mut g = vec![1, 0, 0, 28, 0xc0, 0, 1, 15, 0, 0, 0, 3];
    g.extend_from_slice(&0x0102_0304u32.to_be_bytes());
    g.extend_from_slice(&0x0506_0708u32.to_be_bytes());
    g.extend_from_slice(&[0, 0, 1, 7, 0x40, 0, 0, 3]);
    p.inject(I, &g);
    assert_eq!(p.take_got(R), [Got::Rejected(5014)]);
    assert_eq!(p.take_ladder(), ["R>I ACA 5014"]);
    let ans = p.last(R, "ACA");
    assert_eq!(ids(&ans), (0x0102_0304, 0x0506_0708));
    assert_eq!(p.take_got(I), [Got::Dropped(DropReason::UnmatchedAnswer)]);

    // A request with the E bit: 3008, E bit.
    let mut e = acr(CLIENT, "client.example.org;2;garbage", 2);
    e[4] |= 0x20;
    p.inject(I, &raw_request(e, 0x0a0a_0a0a, 0x0b0b_0b0b));
    assert_eq!(p.take_got(R), [Got::Rejected(3008)]);
    assert_eq!(p.take_ladder(), ["R>I ACA 3008 E"]);
    assert_eq!(p.take_got(I), [Got::Dropped(DropReason::UnmatchedAnswer)]);

    // A malformed answer to our pending request: dropped, request still
    // pending (it will time out or be answered).
    let req = p.ends[R.ix()].requests[0].clone();
    let mut bad = answer_for(&server_cfg(), &req, 2001);
    let n = bad.len();
    bad[n - 5] = 0xff; // Accounting-Record-Number's length: 0xff..
    bad[n - 6] = 0xff;
    p.inject(R, &bad);
    assert_eq!(p.take_got(I), [Got::Dropped(DropReason::MalformedAnswer)]);
    assert_eq!(p.peer(I).pending_len(), 1);

    // Random bytes behind a valid header: always an error answer or a drop,
    // never a panic, the connection stays open.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for round in 0..200u32 {
        let mut body = Vec::new();
        let len = 4 * (round as usize % 24);
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            body.push(x as u8);
        }
        let flags = if round % 3 == 0 { 0x00 } else { 0x80 };
        let mut m = vec![1, 0, 0, 0, flags, 0, 1, 15, 0, 0, 0, 3];
        m.extend_from_slice(&(0x1000_0000 + round).to_be_bytes());
        m.extend_from_slice(&round.to_be_bytes());
        m.extend_from_slice(&body);
        let total = m.len() as u32;
        m[1..4].copy_from_slice(&total.to_be_bytes()[1..]);
        p.inject(I, &m);
        let got = p.take_got(R);
        assert_eq!(got.len(), 1, "{got:?}");
        match &got[0] {
            Got::Rejected(_) => {
                let l = p.take_ladder();
                assert_eq!(l.len(), 1, "one error answer: {l:?}");
            }
            Got::Dropped(_) | Got::Request { .. } => {
                assert_eq!(p.take_ladder(), Vec::<String>::new());
            }
            other => panic!("{other:?}"),
        }
        assert!(p.peer(R).is_open());
    }
    p.take_got(I);

    // Bytes that are not Diameter at all (version 2): the framer gives up,
    // the transport closes; the pending request is handed back.
    p.inject(I, b"GET / HTTP/1.1\r\nHost: server.example.org\r\n\r\n");
    assert_eq!(
        p.framing_errors.last().map(|e| (e.1, e.2)),
        Some((R, ErrorKind::UnsupportedVersion))
    );
    assert!(!p.conn);
    let ev = p.take_events(I);
    assert_eq!(
        ev[..2],
        [
            Event::Down(DownReason::TransportClosed),
            Event::RequestHandedBack {
                token: 1,
                end_to_end: p.ends[I.ix()].sent[&1].e2e
            }
        ]
    );
    assert_eq!(p.take_events(R), [Event::Down(DownReason::TransportClosed)]);
    p.check_all_ended(I);

    // Garbage before the CER: an application request closes the connection
    // (5012), an unparseable one is answered with its error.
    let mut q = Pair::new(client_cfg(), server_cfg());
    q.conn = true;
    let now = q.now;
    q.end_mut(R).peer.handle_connected(now);
    let mut early = raw_request(acr(CLIENT, "c;1", 1), 5, 6);
    early[4] |= 0x20; // E bit on a request: unparseable
    q.inject(I, &early);
    assert_eq!(q.take_got(R), [Got::Rejected(3008)]);
    assert_eq!(q.take_ladder(), ["R>I ACA 3008 E"]);
    assert_eq!(q.peer(R).state(), PeerState::WaitCer);
    q.inject(I, &raw_request(acr(CLIENT, "c;1", 1), 5, 6));
    assert_eq!(q.take_got(R), [Got::Dropped(DropReason::NotOpen)]);
    assert_eq!(
        q.take_events(R),
        [
            Event::Down(DownReason::ProtocolError(
                diameter_core::ResultCode::UNABLE_TO_COMPLY
            )),
            Event::Close
        ]
    );
    assert!(!q.conn);
    p
}

fn s_half_message_then_silence() -> Pair {
    let mut p = open_pair();
    let t0 = p.now.0;
    let first = p.next_timer().unwrap().0;
    // The responder's side writes half a DWR, then goes silent for good.
    let dwr = expect_dwr(&server_identity(), 1, 2);
    p.inject(R, &dwr[..30]);
    p.wires[R.ix()].drop = true;
    assert_eq!(p.ends[I.ix()].rx.len(), 30, "buffered, not handed over");
    assert_eq!(p.take_ladder(), Vec::<String>::new());
    assert_eq!(p.take_got(I), NO_GOT);
    assert_eq!(p.take_events(I), NO_EVENTS);
    // Nothing happens until the watchdog timer.
    p.advance_to(first - 1);
    assert_eq!(p.take_ladder(), Vec::<String>::new());
    assert_eq!(p.take_events(I), NO_EVENTS);
    assert_eq!(p.next_timer().unwrap().0, first);
    assert!(first >= t0 + 4_000);
    let t1 = p.fire_next();
    assert_eq!(p.take_ladder(), ["I>R DWR", "R>I DWA 2001 (lost)"]);
    let t2 = p.fire_next();
    assert_eq!(p.take_events(I), [Event::Suspect]);
    let t3 = p.fire_next();
    assert_eq!(
        p.take_events(I),
        [Event::Down(DownReason::WatchdogExpired), Event::Close]
    );
    assert!(t1 < t2 && t2 < t3);
    assert_eq!(p.take_got(I), NO_GOT, "the half message never became one");
    p
}

fn s_huge_length() -> Pair {
    let mut p = open_pair();
    p.auto_answer[R.ix()] = false;
    p.send(I, acr(CLIENT, "client.example.org;1;huge", 1), 1)
        .unwrap();
    // A header announcing a 16 MiB message (the 24-bit maximum).
    let mut hdr = vec![1, 0xff, 0xff, 0xfc, 0x80, 0, 1, 15, 0, 0, 0, 3];
    hdr.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2]);
    assert_eq!(
        Framer::default().check(&hdr).unwrap_err().kind(),
        ErrorKind::MessageTooLarge
    );
    // Handed to the machine directly (a transport that skipped the framer),
    // the 20 bytes are answered with 5015 and cost nothing.
    {
        let cfg = leak(server_cfg());
        let mut lone: TestPeer = Peer::new(cfg, Role::Responder, Instant::ZERO);
        lone.handle_connected(Instant::ZERO);
        assert!(matches!(
            lone.handle_message(Instant::ZERO, &hdr, &base::Base),
            Incoming::Rejected(e) if e.result_code().get() == 5015
        ));
        assert_eq!(result_code(lone.transmit()), Some(5015));
    }
    p.inject(R, &hdr);
    assert_eq!(
        p.framing_errors.last().map(|e| (e.1, e.2)),
        Some((I, ErrorKind::MessageTooLarge))
    );
    assert!(!p.conn, "the transport closes");
    let ev = p.take_events(I);
    assert_eq!(ev[0], Event::Down(DownReason::TransportClosed));
    assert!(matches!(ev[1], Event::RequestHandedBack { token: 1, .. }));
    p.check_all_ended(I);
    // Not a multiple of four: also fatal.
    let mut q = open_pair();
    q.inject(R, &[1, 0xff, 0xff, 0xff]);
    assert_eq!(
        q.framing_errors.last().map(|e| e.2),
        Some(ErrorKind::InvalidMessageLength)
    );
    assert!(!q.conn);
    p
}

fn s_answer_never_sent() -> Pair {
    let mut p = open_pair();
    p.auto_answer[R.ix()] = false;
    p.send(I, acr(CLIENT, "client.example.org;1;unsent", 1), 1)
        .unwrap();
    let req = p.ends[R.ix()].requests[0].clone();
    // An answer whose Hop-by-Hop matches nothing.
    let fake = raw_request(
        acr(CLIENT, "client.example.org;9;unsent", 9),
        0xdead_0001,
        0x1,
    );
    let a = answer_for(&server_cfg(), &fake, 2001);
    p.app_write(R, &a);
    p.run();
    // The right Hop-by-Hop with the wrong End-to-End.
    let mut wrong = answer_for(&server_cfg(), &req, 2001);
    let e = u32::from_be_bytes(wrong[16..20].try_into().unwrap());
    wrong[16..20].copy_from_slice(&(e ^ 1).to_be_bytes());
    p.app_write(R, &wrong);
    p.run();
    assert_eq!(
        p.take_got(I),
        [
            Got::Dropped(DropReason::UnmatchedAnswer),
            Got::Dropped(DropReason::UnmatchedAnswer)
        ]
    );
    assert_eq!(p.peer(I).stats().unmatched_answers, 2);
    assert_eq!(p.peer(I).pending_len(), 1);
    // The real answer still matches, once.
    p.answer_held(R, 0, 2001);
    assert_eq!(
        p.take_got(I),
        [Got::Answer {
            token: 1,
            rc: Some(2001)
        }]
    );
    let a = answer_for(&server_cfg(), &req, 2001);
    p.app_write(R, &a);
    p.run();
    assert_eq!(p.take_got(I), [Got::Dropped(DropReason::UnmatchedAnswer)]);
    assert_eq!(p.peer(I).stats().unmatched_answers, 3);
    assert!(p.peer(I).is_open());
    p.check_all_ended(I);
    p
}

/// A scenario: runs, asserts, returns its pair for the Wireshark replay.
type Scenario = fn() -> Pair;

/// Every scenario, by name.
const SCENARIOS: &[(&str, Scenario)] = &[
    ("cer-cea", s_cer_cea),
    ("cer-cea-split", s_cer_cea_split),
    ("cea-5010", s_cea_5010),
    ("cea-3010", s_cea_3010),
    ("capabilities-timeouts", s_capabilities_timeouts),
    ("dwr-on-silence", s_dwr_on_silence),
    ("dwr-every-state", s_dwr_answered_in_every_state),
    ("watchdog", s_watchdog_failover_reopen),
    ("dpr", s_dpr_both_ways),
    ("dpa-timeout", s_dpa_timeout),
    ("request-timeout", s_request_timeout),
    ("backpressure", s_backpressure),
    ("error-answers", s_error_answers),
    ("duplicates", s_duplicates),
    ("handback", s_handback_and_retransmit),
    ("garbage", s_garbage),
    ("half-message", s_half_message_then_silence),
    ("huge-length", s_huge_length),
    ("answer-never-sent", s_answer_never_sent),
];

#[test]
fn normal_cer_cea_byte_exact() {
    s_cer_cea();
}

#[test]
fn split_stream_conversations() {
    s_cer_cea_split();
}

#[test]
fn no_common_application_5010() {
    s_cea_5010();
}

#[test]
fn unknown_peer_3010() {
    s_cea_3010();
}

#[test]
fn capabilities_and_connect_timeouts() {
    s_capabilities_timeouts();
}

#[test]
fn dwr_on_silence() {
    s_dwr_on_silence();
}

#[test]
fn dwr_answered_right_after_cea_and_in_every_state() {
    s_dwr_answered_in_every_state();
}

#[test]
fn watchdog_suspect_down_reopen_three_dwas() {
    s_watchdog_failover_reopen();
}

#[test]
fn dpr_both_ways_every_cause() {
    s_dpr_both_ways();
}

#[test]
fn dpa_timeout() {
    s_dpa_timeout();
}

#[test]
fn request_timeouts() {
    s_request_timeout();
}

#[test]
fn backpressure_full_table() {
    s_backpressure();
}

#[test]
fn error_answers_3001_3007_5005() {
    s_error_answers();
}

#[test]
fn duplicate_detection_t_flag() {
    s_duplicates();
}

#[test]
fn handed_back_requests_retransmitted_keep_end_to_end() {
    s_handback_and_retransmit();
}

#[test]
fn garbage_from_peer() {
    s_garbage();
}

#[test]
fn half_message_then_silence() {
    s_half_message_then_silence();
}

#[test]
fn sixteen_mib_length() {
    s_huge_length();
}

#[test]
fn answer_to_request_never_sent() {
    s_answer_never_sent();
}

// ---------------------------------------------------------------------------
// Wireshark
// ---------------------------------------------------------------------------

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

#[test]
fn wireshark_decodes_every_emitted_message() {
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
    for (name, scenario) in SCENARIOS {
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
    assert!(machine > 200, "{machine} machine messages");
    eprintln!(
        "tshark: {} messages checked, {} of them error answers (--lenient), {machine} from the machines",
        strict.len() + lenient.len(),
        lenient.len()
    );
    for (set, args) in [(&strict, &[][..]), (&lenient, &["--lenient"][..])] {
        assert!(!set.is_empty());
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
