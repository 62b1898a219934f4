//! The sans-IO peer state machine (RFC 6733 §5): one Diameter peer over one
//! transport connection at a time, as initiator or responder.
//!
//! Read RFC 6733 §5.3 (capabilities exchange), §5.4 (disconnect), §5.5 and
//! RFC 3539 §3.4 (watchdog), §5.6 (state machine) and §6.5 (duplicates)
//! first.
//!
//! [`Peer`] performs no I/O and has no clock. A transport drives it:
//!
//! * **Inputs** (`handle_*`): [`Peer::start`], [`Peer::handle_connected`],
//!   [`Peer::handle_disconnected`], [`Peer::handle_message`] for every
//!   complete message framed from the stream (see [`crate::framing`]),
//!   [`Peer::handle_timeout`], and the local calls [`Peer::send_request`]
//!   and [`Peer::disconnect`].
//! * **Outputs** (`poll_*`), in this order after every input:
//!   [`Peer::poll_event`] until `None` (it includes the transport commands
//!   [`Event::Connect`] and [`Event::Close`]), then write
//!   [`Peer::transmit`] to the socket and call [`Peer::transmitted`], then
//!   arm a timer for [`Peer::poll_timeout`].
//!
//! Base-protocol messages (CER/CEA, DWR/DWA, DPR/DPA) are handled inside
//! the machine; application messages are handed to the caller by
//! [`Peer::handle_message`] as borrowed [`Message`]s: requests to answer,
//! answers matched to the caller's request by Hop-by-Hop and End-to-End
//! identifier. Malformed requests, unknown commands (3001) and unsupported
//! applications (3007) are answered by the machine with the precise error
//! answer. Every request the caller sends ends exactly once: answered,
//! [`Event::RequestTimedOut`], or [`Event::RequestHandedBack`] when the
//! connection fails, for retransmission on another peer with the T flag
//! (§5.5.4).
//!
//! Memory is fixed: `P` pending requests (a power of two), a duplicate
//! window of `P` entries and a `TX`-byte buffer for the machine's own
//! messages. No allocation, no panics on any input or event sequence.
//!
//! ```
//! use diameter_core::peer::{Peer, PeerConfig, Role, Event, App, LocalIdentity};
//! use diameter_core::time::Instant;
//! use diameter_core::AddressValue;
//! let me = LocalIdentity {
//!     origin_host: "client.example.org", origin_realm: "example.org",
//!     host_ip_addresses: &[AddressValue::V4([127, 0, 0, 1])],
//!     vendor_id: 0, product_name: "diameter-rs", firmware_revision: None,
//!     origin_state_id: 1, supported_vendor_ids: &[],
//!     applications: &[App::auth(4)], inband_security_id: None,
//! };
//! let config = PeerConfig::new(me);
//! let mut peer: Peer<'_, 16> = Peer::new(&config, Role::Initiator, Instant::ZERO);
//! peer.start(Instant::ZERO);
//! assert_eq!(peer.poll_event(Instant::ZERO), Some(Event::Connect));
//! peer.handle_connected(Instant::ZERO);
//! assert!(!peer.transmit().is_empty()); // the CER
//! ```

mod capabilities;
pub mod watchdog;

use core::time::Duration;

pub use capabilities::{
    election_won, negotiate, App, AppKind, CapabilitiesError, LocalIdentity, PeerInfo, MAX_APPS,
    MAX_IDENTITY, RELAY,
};
pub use watchdog::{Watchdog, WatchdogAction, WatchdogState};

use crate::answer::{error_answer, Identity};
use crate::dict::{base, Dictionary};
use crate::encode::MessageBuilder;
use crate::error::{Error, ErrorKind};
use crate::header::{ApplicationId, CommandCode, CommandFlags, Header, HeaderRepr, HEADER_LEN};
use crate::message::{Message, ParseConfig};
use crate::result_code::ResultCode;
use crate::time::{earliest, Instant};

/// Which side opened the transport connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Role {
    /// We connect and send the CER.
    Initiator,
    /// The peer connected to us; we wait for its CER.
    Responder,
}

/// The connection states of §5.6, folded for one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PeerState {
    /// No connection.
    Closed,
    /// Initiator: waiting for the transport connection (Wait-Conn-Ack).
    Connecting,
    /// Initiator: CER sent, waiting for the CEA (Wait-I-CEA).
    WaitCea,
    /// Responder: connection accepted, waiting for the CER.
    WaitCer,
    /// Capabilities agreed (I-Open / R-Open).
    Open,
    /// DPR sent, waiting for the DPA (Closing).
    Closing,
    /// Told the transport to close; waiting for [`Peer::handle_disconnected`].
    Disconnecting,
}

/// Why a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DownReason {
    /// The transport reported the connection closed or failed.
    TransportClosed,
    /// The watchdog declared the peer down (no answer to DWRs).
    WatchdogExpired,
    /// No CEA (or CER) within the configured time.
    CapabilitiesTimeout,
    /// The CEA carried this Result-Code, or our CEA did (3010, 5010...).
    CapabilitiesRejected(ResultCode),
    /// A DPR/DPA exchange closed the connection; the cause is the
    /// Disconnect-Cause sent or received.
    Disconnected(i32),
    /// The peer violated the protocol (garbage, a message before CER...).
    ProtocolError(ResultCode),
    /// The transmit buffer overflowed (the peer does not read).
    TransmitOverflow,
}

/// What the machine tells the caller and the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Event {
    /// Transport: open a connection to the peer, then call
    /// [`Peer::handle_connected`] (or `handle_disconnected` on failure).
    Connect,
    /// Transport: flush [`Peer::transmit`], close the connection, then call
    /// [`Peer::handle_disconnected`].
    Close,
    /// Capabilities are agreed; application requests may be sent.
    Up,
    /// The connection is gone; pending requests follow as
    /// [`Event::RequestHandedBack`].
    Down(DownReason),
    /// The watchdog suspects the connection: send new requests elsewhere.
    Suspect,
    /// The watchdog is satisfied again after [`Event::Suspect`] or a reopen.
    Failback,
    /// The peer sent a DPR with this Disconnect-Cause.
    PeerDisconnecting(i32),
    /// A request we sent got no answer in time. It ends here.
    RequestTimedOut {
        /// The caller's token from [`Peer::send_request`].
        token: u64,
    },
    /// A request we sent cannot be answered on this connection any more:
    /// retransmit it on another peer with the T flag (§5.5.4). It ends here.
    RequestHandedBack {
        /// The caller's token from [`Peer::send_request`].
        token: u64,
        /// Its End-to-End Identifier, to keep on retransmission.
        end_to_end: u32,
    },
}

/// What [`Peer::handle_message`] made of one message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Incoming<'a> {
    /// A base-protocol message, handled inside; see the poll functions.
    Handled,
    /// An application request for the caller to answer.
    Request {
        /// The request, validated against the dictionary.
        message: Message<'a>,
        /// It carries the T flag and matches a request seen within the
        /// duplicate window (§6.5): answer it from your cache if you have one.
        duplicate: bool,
    },
    /// The answer to one of our requests.
    Answer {
        /// The answer.
        message: Message<'a>,
        /// The token given to [`Peer::send_request`].
        token: u64,
    },
    /// The machine answered the request itself with this error (3001,
    /// 3007, a codec error...).
    Rejected(Error),
    /// Dropped and counted (see [`Peer::stats`]).
    Dropped(DropReason),
}

/// Why a message was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DropReason {
    /// An answer matching no pending request (§6.2: silently discarded).
    UnmatchedAnswer,
    /// Traffic while the watchdog is in REOPEN or the peer is not open.
    NotOpen,
    /// An answer that failed to parse (it cannot be answered).
    MalformedAnswer,
}

/// Why a request could not be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SendError {
    /// The peer is not open (or the watchdog does not allow traffic).
    NotOpen,
    /// The pending table is full: back-pressure, try later or elsewhere.
    Full,
    /// The bytes are not a request header (fewer than 20 bytes or R clear).
    NotARequest,
    /// The application was not negotiated with this peer (3007 would follow).
    ApplicationNotSupported,
}

/// Counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stats {
    /// Answers that matched no pending request.
    pub unmatched_answers: u32,
    /// Requests answered with an error by the machine.
    pub rejected_requests: u32,
    /// Messages dropped while not open.
    pub dropped: u32,
    /// Duplicate requests recognised.
    pub duplicates: u32,
}

/// Timers and policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeerConfig<'a> {
    /// What we advertise.
    pub local: LocalIdentity<'a>,
    /// Tw (default 30 s, at least 6 s; jittered ±2 s).
    pub tw: Duration,
    /// How long an application request waits for its answer (default 10 s).
    pub request_timeout: Duration,
    /// How long to wait for CEA (initiator) or CER (responder) (default 10 s).
    pub capabilities_timeout: Duration,
    /// How long to wait for a DPA (default 5 s).
    pub dpa_timeout: Duration,
    /// Delay before reconnecting after a closed connection (Tc, default 30 s).
    pub reconnect_interval: Duration,
    /// After the peer sent DO_NOT_WANT_TO_TALK_TO_YOU, no reconnect for this
    /// long (default 1 h).
    pub do_not_want_backoff: Duration,
    /// Responder: Origin-Hosts accepted; empty with empty realms = anyone.
    pub allowed_hosts: &'a [&'a str],
    /// Responder: Origin-Realms accepted.
    pub allowed_realms: &'a [&'a str],
    /// Window for duplicate detection (§6.5) (default 60 s).
    pub duplicate_window: Duration,
    /// Seed for Tw jitter and the first Hop-by-Hop id.
    pub seed: u32,
    /// Boot time in seconds: its low 12 bits start every End-to-End id (§3).
    pub boot_time: u32,
    /// Parser settings for incoming messages.
    pub parse: ParseConfig,
}

impl<'a> PeerConfig<'a> {
    /// Defaults around `local`.
    pub const fn new(local: LocalIdentity<'a>) -> Self {
        PeerConfig {
            local,
            tw: watchdog::TW_DEFAULT,
            request_timeout: Duration::from_secs(10),
            capabilities_timeout: Duration::from_secs(10),
            dpa_timeout: Duration::from_secs(5),
            reconnect_interval: Duration::from_secs(30),
            do_not_want_backoff: Duration::from_secs(3600),
            allowed_hosts: &[],
            allowed_realms: &[],
            duplicate_window: Duration::from_secs(60),
            seed: 0x9e37_79b9,
            boot_time: 0,
            parse: ParseConfig::DEFAULT,
        }
    }

    fn identity(&self) -> Identity<'a> {
        Identity {
            origin_host: self.local.origin_host,
            origin_realm: self.local.origin_realm,
        }
    }

    fn admits(&self, host: &str, realm: &str) -> bool {
        (self.allowed_hosts.is_empty() && self.allowed_realms.is_empty())
            || self
                .allowed_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(host))
            || self
                .allowed_realms
                .iter()
                .any(|r| r.eq_ignore_ascii_case(realm))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PendingState {
    Waiting,
    HandedBack,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    end_to_end: u32,
    deadline: Instant,
    token: u64,
    state: PendingState,
}

/// Capacity of the event queue.
const EVENTS: usize = 16;

/// The peer machine. `P` is the pending-request capacity (a power of two),
/// `TX` the size of the buffer for the machine's own messages.
pub struct Peer<'c, const P: usize, const TX: usize = 4096> {
    config: &'c PeerConfig<'c>,
    role: Role,
    state: PeerState,
    watchdog: Watchdog,
    /// CEA/CER wait, DPA wait, or reconnect.
    state_deadline: Option<Instant>,
    not_before: Option<Instant>,
    peer: PeerInfo,
    pending: heapless::index_map::FnvIndexMap<u32, Pending, P>,
    dups: heapless::Deque<(u64, Instant), P>,
    next_hbh: u32,
    e2e_counter: u32,
    events: heapless::Deque<Event, EVENTS>,
    tx: heapless::Vec<u8, TX>,
    tx_sent: usize,
    last_now: Instant,
    stats: Stats,
    want_close: bool,
    /// The Disconnect-Cause of the DPR we sent (reported when it completes).
    dpr_cause: i32,
}

impl<'c, const P: usize, const TX: usize> core::fmt::Debug for Peer<'c, P, TX> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Peer")
            .field("role", &self.role)
            .field("state", &self.state)
            .field("watchdog", &self.watchdog.state())
            .field("peer", &self.peer.origin_host)
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl<'c, const P: usize, const TX: usize> Peer<'c, P, TX> {
    /// A machine for one peer. It does nothing until [`Peer::start`]
    /// (initiator) or [`Peer::handle_connected`] (responder).
    pub fn new(config: &'c PeerConfig<'c>, role: Role, now: Instant) -> Self {
        Peer {
            config,
            role,
            state: PeerState::Closed,
            watchdog: Watchdog::new(config.tw, config.seed),
            state_deadline: None,
            not_before: None,
            peer: PeerInfo::default(),
            pending: heapless::index_map::FnvIndexMap::new(),
            dups: heapless::Deque::new(),
            next_hbh: config.seed.rotate_left(16) ^ 0x5bd1_e995,
            e2e_counter: 0,
            events: heapless::Deque::new(),
            tx: heapless::Vec::new(),
            tx_sent: 0,
            last_now: now,
            stats: Stats::default(),
            want_close: false,
            dpr_cause: 0,
        }
    }

    // ---- getters ----------------------------------------------------------

    /// Connection state.
    pub const fn state(&self) -> PeerState {
        self.state
    }
    /// Initiator or responder.
    pub const fn role(&self) -> Role {
        self.role
    }
    /// Watchdog state.
    pub const fn watchdog_state(&self) -> WatchdogState {
        self.watchdog.state()
    }
    /// The peer's identity and the negotiated applications (valid once Up).
    pub const fn peer_info(&self) -> &PeerInfo {
        &self.peer
    }
    /// Whether application requests may be sent now.
    pub fn is_open(&self) -> bool {
        self.state == PeerState::Open && self.watchdog.usable()
    }
    /// Requests waiting for an answer (or to be handed back).
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }
    /// Pending-table capacity.
    pub const fn pending_capacity(&self) -> usize {
        P
    }
    /// Counters.
    pub const fn stats(&self) -> Stats {
        self.stats
    }

    fn clock(&mut self, now: Instant) -> Instant {
        if now > self.last_now {
            self.last_now = now;
        }
        self.last_now
    }

    fn event(&mut self, e: Event) {
        if self.events.push_back(e).is_err() {
            // Bounded queue: keep the newest transport command; the caller
            // polls after every input, so this only happens when it does not.
            let _ = self.events.pop_front();
            let _ = self.events.push_back(e);
        }
    }

    // ---- identifiers (§3) -------------------------------------------------

    fn new_hop_by_hop(&mut self) -> u32 {
        loop {
            let h = self.next_hbh;
            self.next_hbh = self.next_hbh.wrapping_add(1);
            if !self.pending.contains_key(&h) {
                return h;
            }
        }
    }

    fn new_end_to_end(&mut self) -> u32 {
        let c = self.e2e_counter;
        self.e2e_counter = (c + 1) & 0x000f_ffff;
        ((self.config.boot_time & 0xfff) << 20) | c
    }

    // ---- inputs -----------------------------------------------------------

    /// Initiator: ask the transport to connect (now, or after a back-off).
    pub fn start(&mut self, now: Instant) {
        let now = self.clock(now);
        if self.role != Role::Initiator || self.state != PeerState::Closed {
            return;
        }
        match self.not_before {
            Some(t) if now < t => self.state_deadline = Some(t),
            _ => {
                self.state = PeerState::Connecting;
                self.state_deadline = Some(now + self.config.capabilities_timeout);
                self.event(Event::Connect);
            }
        }
    }

    /// The transport connection is up (initiator: connected; responder:
    /// accepted). The initiator sends its CER.
    pub fn handle_connected(&mut self, now: Instant) {
        let now = self.clock(now);
        // A call in any other state is ignored, and must not drop what is
        // still to be written on the current connection.
        let accepted = match self.role {
            Role::Initiator => matches!(self.state, PeerState::Connecting | PeerState::Closed),
            Role::Responder => self.state == PeerState::Closed,
        };
        if !accepted {
            return;
        }
        self.tx.clear();
        self.tx_sent = 0;
        self.want_close = false;
        match self.role {
            Role::Initiator => {
                self.state = PeerState::WaitCea;
                self.state_deadline = Some(now + self.config.capabilities_timeout);
                let hbh = self.new_hop_by_hop();
                let e2e = self.new_end_to_end();
                let hdr = HeaderRepr::request(
                    CommandCode::CAPABILITIES_EXCHANGE,
                    ApplicationId::COMMON,
                    hbh,
                    e2e,
                );
                let local = self.config.local;
                self.emit(hdr, |b| local.put_capabilities(b));
            }
            Role::Responder => {
                self.state = PeerState::WaitCer;
                self.state_deadline = Some(now + self.config.capabilities_timeout);
            }
        }
    }

    /// The transport connection closed or could not be opened.
    pub fn handle_disconnected(&mut self, now: Instant) {
        let now = self.clock(now);
        let was = self.state;
        if was == PeerState::Closed {
            return;
        }
        self.state = PeerState::Closed;
        self.tx.clear();
        self.tx_sent = 0;
        self.want_close = false;
        // A connection lost without DPR puts the watchdog DOWN, so the next
        // connection must pass REOPEN (RFC 3539 §3.4.1); after DPR/DPA the
        // watchdog was stopped and stays INITIAL.
        if self.watchdog.state() != WatchdogState::Initial {
            let _ = self.watchdog.connection_down(now);
        }
        if !matches!(was, PeerState::Disconnecting) {
            self.event(Event::Down(DownReason::TransportClosed));
        }
        self.hand_back_all();
        // Initiator: reconnect after Tc unless told not to talk to us.
        self.state_deadline = match self.role {
            Role::Initiator => {
                let t = now + self.config.reconnect_interval;
                Some(match self.not_before {
                    Some(nb) if nb > t => nb,
                    _ => t,
                })
            }
            Role::Responder => None,
        };
    }

    fn hand_back_all(&mut self) {
        for (_, p) in self.pending.iter_mut() {
            p.state = PendingState::HandedBack;
        }
    }

    /// Send a DPR with `cause` (§5.4) and close after its DPA. With no open
    /// connection the machine just stops.
    pub fn disconnect(&mut self, now: Instant, cause: base::DisconnectCause) {
        let now = self.clock(now);
        match self.state {
            PeerState::Open => {
                let hbh = self.new_hop_by_hop();
                let e2e = self.new_end_to_end();
                let hdr = HeaderRepr::request(
                    CommandCode::DISCONNECT_PEER,
                    ApplicationId::COMMON,
                    hbh,
                    e2e,
                );
                let id = self.config.identity();
                self.emit(hdr, |b| {
                    b.put(&base::ORIGIN_HOST, id.origin_host)
                        .put(&base::ORIGIN_REALM, id.origin_realm)
                        .put(&base::DISCONNECT_CAUSE, cause);
                });
                self.state = PeerState::Closing;
                self.state_deadline = Some(now + self.config.dpa_timeout);
                self.dpr_cause = crate::types::Enumeration::to_i32(cause);
                self.watchdog.stop();
            }
            PeerState::Closed => {
                self.state_deadline = None;
                self.watchdog.stop();
            }
            _ => {
                self.watchdog.stop();
                self.close(DownReason::Disconnected(crate::types::Enumeration::to_i32(
                    cause,
                )));
            }
        }
        self.not_before = Some(Instant(u64::MAX));
    }

    /// Allow [`Peer::start`] again after [`Peer::disconnect`].
    pub fn allow_reconnect(&mut self) {
        self.not_before = None;
    }

    fn close(&mut self, reason: DownReason) {
        if matches!(self.state, PeerState::Closed | PeerState::Disconnecting) {
            return;
        }
        self.state = PeerState::Disconnecting;
        self.state_deadline = None;
        self.event(Event::Down(reason));
        self.event(Event::Close);
        self.hand_back_all();
    }

    /// Register an application request the caller has encoded in `bytes`:
    /// the machine writes a fresh Hop-by-Hop id and, unless the T flag is set
    /// (a retransmission keeps its End-to-End id, §5.5.4), a fresh
    /// End-to-End id into the header, and remembers `token` until the answer,
    /// the timeout or the hand-back. Then write `bytes` to the transport.
    pub fn send_request(
        &mut self,
        now: Instant,
        bytes: &mut [u8],
        token: u64,
    ) -> Result<u32, SendError> {
        let now = self.clock(now);
        if !self.is_open() {
            return Err(SendError::NotOpen);
        }
        let Ok(h) = Header::new_checked(&bytes[..]) else {
            return Err(SendError::NotARequest);
        };
        if !h.flags().is_request() {
            return Err(SendError::NotARequest);
        }
        let app = h.application_id().0;
        if app != 0 && !self.peer.allows(app) {
            return Err(SendError::ApplicationNotSupported);
        }
        let retransmit = h.flags().is_retransmit();
        let e2e = if retransmit { h.end_to_end() } else { 0 };
        if self.pending.len() >= P {
            return Err(SendError::Full);
        }
        let hbh = self.new_hop_by_hop();
        let e2e = if retransmit {
            e2e
        } else {
            self.new_end_to_end()
        };
        let entry = Pending {
            end_to_end: e2e,
            deadline: now + self.config.request_timeout,
            token,
            state: PendingState::Waiting,
        };
        if self.pending.insert(hbh, entry).is_err() {
            return Err(SendError::Full);
        }
        let mut h = Header::new_unchecked(&mut bytes[..HEADER_LEN]);
        h.set_hop_by_hop(hbh);
        h.set_end_to_end(e2e);
        Ok(hbh)
    }

    /// Handle one complete message from the peer (framed with
    /// [`crate::Framer`]). `dict` knows the applications the caller serves;
    /// it is used to validate application requests.
    pub fn handle_message<'m, D: Dictionary>(
        &mut self,
        now: Instant,
        bytes: &'m [u8],
        dict: &D,
    ) -> Incoming<'m> {
        let now = self.clock(now);
        if matches!(
            self.state,
            PeerState::Closed | PeerState::Disconnecting | PeerState::Connecting
        ) {
            self.stats.dropped = self.stats.dropped.saturating_add(1);
            return Incoming::Dropped(DropReason::NotOpen);
        }
        let is_request = Header::new_checked(bytes)
            .map(|h| h.flags().is_request())
            .unwrap_or(true);
        let msg = match Message::parse_with_config(bytes, dict, &self.config.parse) {
            Ok(m) => m,
            Err(e) if is_request => return self.reject(bytes, e),
            Err(_) => {
                self.stats.dropped = self.stats.dropped.saturating_add(1);
                return Incoming::Dropped(DropReason::MalformedAnswer);
            }
        };
        let code = msg.command_code();
        // Before capabilities are agreed only CER/CEA (and DWR) are legal.
        match (self.state, code) {
            (PeerState::WaitCer, CommandCode::CAPABILITIES_EXCHANGE) if msg.is_request() => {
                return self.on_cer(now, &msg)
            }
            (PeerState::WaitCea, CommandCode::CAPABILITIES_EXCHANGE) if !msg.is_request() => {
                return self.on_cea(now, &msg)
            }
            (PeerState::WaitCer | PeerState::WaitCea, CommandCode::DEVICE_WATCHDOG) => {}
            (PeerState::WaitCer | PeerState::WaitCea, _) => {
                self.close(DownReason::ProtocolError(ResultCode::UNABLE_TO_COMPLY));
                self.stats.dropped = self.stats.dropped.saturating_add(1);
                return Incoming::Dropped(DropReason::NotOpen);
            }
            _ => {}
        }
        let is_dwa = code == CommandCode::DEVICE_WATCHDOG && !msg.is_request();
        let wd = self.watchdog.on_receive(now, is_dwa);
        self.apply_watchdog(now, wd);
        match code {
            CommandCode::CAPABILITIES_EXCHANGE => {
                // A CER on an open connection is answered with a CEA and
                // the connection stays open (§5.6.1: I-Open/R-Open on
                // Rcv-CER → Snd-CEA); a stray CEA is ignored.
                if msg.is_request() {
                    return self.on_cer_open(&msg);
                }
                Incoming::Handled
            }
            CommandCode::DEVICE_WATCHDOG if msg.is_request() => {
                if let Err(e) = msg.validate_command(&base::DWR, &base::Base, &self.config.parse) {
                    return self.reject(bytes, e);
                }
                let id = self.config.identity();
                let osi = self.config.local.origin_state_id;
                self.emit_answer(&msg, |b| {
                    b.put(&base::RESULT_CODE, ResultCode::SUCCESS.0)
                        .put(&base::ORIGIN_HOST, id.origin_host)
                        .put(&base::ORIGIN_REALM, id.origin_realm)
                        .put(&base::ORIGIN_STATE_ID, osi);
                });
                Incoming::Handled
            }
            CommandCode::DEVICE_WATCHDOG => Incoming::Handled,
            CommandCode::DISCONNECT_PEER if msg.is_request() => {
                if let Err(e) = msg.validate_command(&base::DPR, &base::Base, &self.config.parse) {
                    return self.reject(bytes, e);
                }
                let cause = msg
                    .get(&base::DISCONNECT_CAUSE)
                    .ok()
                    .flatten()
                    .map(crate::types::Enumeration::to_i32)
                    .unwrap_or(0);
                let id = self.config.identity();
                self.emit_answer(&msg, |b| {
                    b.put(&base::RESULT_CODE, ResultCode::SUCCESS.0)
                        .put(&base::ORIGIN_HOST, id.origin_host)
                        .put(&base::ORIGIN_REALM, id.origin_realm);
                });
                self.event(Event::PeerDisconnecting(cause));
                if cause == 2 {
                    self.not_before = Some(now + self.config.do_not_want_backoff);
                }
                self.watchdog.stop();
                self.close(DownReason::Disconnected(cause));
                Incoming::Handled
            }
            CommandCode::DISCONNECT_PEER => {
                if self.state == PeerState::Closing {
                    self.close(DownReason::Disconnected(self.dpr_cause));
                }
                Incoming::Handled
            }
            _ if msg.is_request() => self.on_app_request(now, bytes, msg, dict),
            _ => self.on_app_answer(msg),
        }
    }

    fn on_app_request<'m, D: Dictionary>(
        &mut self,
        now: Instant,
        bytes: &'m [u8],
        msg: Message<'m>,
        dict: &D,
    ) -> Incoming<'m> {
        if !self.is_open() {
            self.stats.dropped = self.stats.dropped.saturating_add(1);
            return Incoming::Dropped(DropReason::NotOpen);
        }
        // The common application (0) is supported by every node (§2.4), as
        // in `send_request`; an unknown command there is 3001, not 3007.
        let app = msg.application_id().0;
        if app != 0 && !self.peer.allows(app) {
            return self.reject(bytes, Error::new(ErrorKind::ApplicationUnsupported));
        }
        let Some(def) = dict.command(msg.command_code(), true) else {
            return self.reject(bytes, Error::new(ErrorKind::CommandUnsupported));
        };
        if let Err(e) = msg.validate_command(def, dict, &self.config.parse) {
            return self.reject(bytes, e);
        }
        let duplicate = self.check_duplicate(now, &msg);
        Incoming::Request {
            message: msg,
            duplicate,
        }
    }

    fn on_app_answer<'m>(&mut self, msg: Message<'m>) -> Incoming<'m> {
        let hbh = msg.hop_by_hop();
        match self.pending.get(&hbh) {
            Some(p) if p.end_to_end == msg.end_to_end() && p.state == PendingState::Waiting => {
                let token = p.token;
                self.pending.swap_remove(&hbh);
                Incoming::Answer {
                    message: msg,
                    token,
                }
            }
            _ => {
                self.stats.unmatched_answers = self.stats.unmatched_answers.saturating_add(1);
                Incoming::Dropped(DropReason::UnmatchedAnswer)
            }
        }
    }

    /// §6.5: remember (Session-Id, Origin-Host, End-to-End) of every request
    /// for the window; a T-flagged request already seen is a duplicate.
    fn check_duplicate(&mut self, now: Instant, msg: &Message<'_>) -> bool {
        let window = self.config.duplicate_window;
        while let Some(&(_, t)) = self.dups.front() {
            if now.since(t) > window {
                self.dups.pop_front();
            } else {
                break;
            }
        }
        let mut h = Fnv::new();
        h.write(msg.session_id().unwrap_or("").as_bytes());
        h.write(&[0]);
        if let Ok(Some(o)) = msg.get(&base::ORIGIN_HOST) {
            h.write(o.as_bytes());
        }
        h.write(&msg.end_to_end().to_be_bytes());
        let key = h.finish();
        let seen = self.dups.iter().any(|&(k, _)| k == key);
        if !seen {
            if self.dups.is_full() {
                self.dups.pop_front();
            }
            let _ = self.dups.push_back((key, now));
        }
        let dup = seen && msg.flags().is_retransmit();
        if dup {
            self.stats.duplicates = self.stats.duplicates.saturating_add(1);
        }
        dup
    }

    fn on_cer<'m>(&mut self, now: Instant, msg: &Message<'m>) -> Incoming<'m> {
        if let Err(e) = msg.validate_command(&base::CER, &base::Base, &self.config.parse) {
            let _ = self.reject(msg.as_bytes(), e);
            self.close(DownReason::ProtocolError(e.result_code()));
            return Incoming::Rejected(e);
        }
        let host = msg.get(&base::ORIGIN_HOST).ok().flatten().unwrap_or("");
        let realm = msg.get(&base::ORIGIN_REALM).ok().flatten().unwrap_or("");
        let result = if !self.config.admits(host, realm) {
            Err(ResultCode::UNKNOWN_PEER)
        } else {
            match negotiate(msg, &self.config.local) {
                Ok(info) => {
                    self.peer = info;
                    Ok(())
                }
                Err(CapabilitiesError::NoCommonApplication) => {
                    Err(ResultCode::NO_COMMON_APPLICATION)
                }
                Err(CapabilitiesError::Invalid(e)) => Err(e.result_code()),
                Err(CapabilitiesError::IdentityTooLong) => Err(ResultCode::INVALID_AVP_LENGTH),
            }
        };
        let code = match result {
            Ok(()) => ResultCode::SUCCESS,
            Err(c) => c,
        };
        let local = self.config.local;
        self.emit_answer_flags(msg, code.is_protocol_error(), |b| {
            b.put(&base::RESULT_CODE, code.0);
            local.put_capabilities(b);
        });
        match result {
            Ok(()) => {
                self.state = PeerState::Open;
                self.state_deadline = None;
                let wd = self.watchdog.connection_up(now);
                self.apply_watchdog(now, wd);
                self.event(Event::Up);
                Incoming::Handled
            }
            Err(c) => {
                self.close(DownReason::CapabilitiesRejected(c));
                Incoming::Handled
            }
        }
    }

    fn on_cer_open<'m>(&mut self, msg: &Message<'m>) -> Incoming<'m> {
        if let Err(e) = msg.validate_command(&base::CER, &base::Base, &self.config.parse) {
            return self.reject(msg.as_bytes(), e);
        }
        let code = match negotiate(msg, &self.config.local) {
            Ok(info) if info.origin_host == self.peer.origin_host => {
                self.peer = info;
                ResultCode::SUCCESS
            }
            Ok(_) => ResultCode::UNKNOWN_PEER,
            Err(CapabilitiesError::NoCommonApplication) => ResultCode::NO_COMMON_APPLICATION,
            Err(CapabilitiesError::Invalid(e)) => e.result_code(),
            Err(CapabilitiesError::IdentityTooLong) => ResultCode::INVALID_AVP_LENGTH,
        };
        let local = self.config.local;
        self.emit_answer_flags(msg, code.is_protocol_error(), |b| {
            b.put(&base::RESULT_CODE, code.0);
            local.put_capabilities(b);
        });
        Incoming::Handled
    }

    fn on_cea<'m>(&mut self, now: Instant, msg: &Message<'m>) -> Incoming<'m> {
        let rc = msg.get(&base::RESULT_CODE).ok().flatten().unwrap_or(0);
        if rc != ResultCode::SUCCESS.0 {
            self.close(DownReason::CapabilitiesRejected(ResultCode(rc)));
            return Incoming::Handled;
        }
        if let Err(e) = msg.validate_command(&base::CEA, &base::Base, &self.config.parse) {
            self.close(DownReason::ProtocolError(e.result_code()));
            return Incoming::Handled;
        }
        match negotiate(msg, &self.config.local) {
            Ok(info) => {
                self.peer = info;
                self.state = PeerState::Open;
                self.state_deadline = None;
                let wd = self.watchdog.connection_up(now);
                self.apply_watchdog(now, wd);
                self.event(Event::Up);
            }
            Err(CapabilitiesError::NoCommonApplication) => {
                self.close(DownReason::CapabilitiesRejected(
                    ResultCode::NO_COMMON_APPLICATION,
                ));
            }
            Err(_) => self.close(DownReason::ProtocolError(ResultCode::INVALID_AVP_VALUE)),
        }
        Incoming::Handled
    }

    /// Act on expired timers. Call at (or after) [`Peer::poll_timeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.clock(now);
        if let Some(d) = self.watchdog.deadline() {
            if now >= d {
                let wd = self.watchdog.on_timeout(now);
                self.apply_watchdog(now, wd);
            }
        }
        if let Some(d) = self.state_deadline {
            if now >= d {
                self.state_deadline = None;
                match self.state {
                    PeerState::Connecting | PeerState::WaitCea | PeerState::WaitCer => {
                        self.close(DownReason::CapabilitiesTimeout)
                    }
                    PeerState::Closing => self.close(DownReason::Disconnected(self.dpr_cause)),
                    PeerState::Closed => self.start(now),
                    _ => {}
                }
            }
        }
        // Request timeouts are reported lazily by poll_event.
    }

    fn apply_watchdog(&mut self, now: Instant, a: WatchdogAction) {
        if a.send_dwr
            && matches!(
                self.state,
                PeerState::Open | PeerState::WaitCea | PeerState::WaitCer
            )
        {
            let hbh = self.new_hop_by_hop();
            let e2e = self.new_end_to_end();
            let hdr = HeaderRepr::request(
                CommandCode::DEVICE_WATCHDOG,
                ApplicationId::COMMON,
                hbh,
                e2e,
            );
            let id = self.config.identity();
            let osi = self.config.local.origin_state_id;
            self.emit(hdr, |b| {
                b.put(&base::ORIGIN_HOST, id.origin_host)
                    .put(&base::ORIGIN_REALM, id.origin_realm)
                    .put(&base::ORIGIN_STATE_ID, osi);
            });
        }
        if a.failover {
            self.event(Event::Suspect);
            self.hand_back_all();
        }
        if a.failback && self.state == PeerState::Open {
            self.event(Event::Failback);
        }
        if a.close {
            self.close(DownReason::WatchdogExpired);
        }
        if a.reconnect && self.role == Role::Initiator && self.state == PeerState::Closed {
            self.start(now);
        }
    }

    // ---- outputs ----------------------------------------------------------

    /// The next event, including request time-outs and hand-backs (each
    /// reported once, then forgotten).
    #[must_use]
    pub fn poll_event(&mut self, now: Instant) -> Option<Event> {
        let now = self.clock(now);
        if let Some(e) = self.events.pop_front() {
            return Some(e);
        }
        let mut found = None;
        for (&hbh, p) in self.pending.iter() {
            if p.state == PendingState::HandedBack {
                found = Some((
                    hbh,
                    Event::RequestHandedBack {
                        token: p.token,
                        end_to_end: p.end_to_end,
                    },
                ));
                break;
            }
            if now >= p.deadline {
                found = Some((hbh, Event::RequestTimedOut { token: p.token }));
                break;
            }
        }
        let (hbh, e) = found?;
        self.pending.swap_remove(&hbh);
        Some(e)
    }

    /// Bytes the machine wants written to the transport (CER, CEA, DWR, DWA,
    /// DPR, DPA, error answers), whole messages only.
    pub fn transmit(&self) -> &[u8] {
        self.tx.get(self.tx_sent..).unwrap_or(&[])
    }

    /// `n` bytes of [`Peer::transmit`] were written.
    pub fn transmitted(&mut self, n: usize) {
        self.tx_sent = self.tx_sent.saturating_add(n).min(self.tx.len());
        if self.tx_sent == self.tx.len() {
            self.tx.clear();
            self.tx_sent = 0;
        }
    }

    /// When [`Peer::handle_timeout`] should next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t = earliest(self.watchdog.deadline(), self.state_deadline);
        for (_, p) in self.pending.iter() {
            let d = match p.state {
                PendingState::HandedBack => self.last_now,
                PendingState::Waiting => p.deadline,
            };
            t = earliest(t, Some(d));
        }
        t
    }

    // ---- encoding helpers ---------------------------------------------------

    fn emit(&mut self, header: HeaderRepr, f: impl FnOnce(&mut MessageBuilder<'_>)) {
        let start = self.tx.len();
        let _ = self.tx.resize(TX, 0);
        let ok = {
            let buf = self.tx.get_mut(start..).unwrap_or(&mut []);
            let mut b = MessageBuilder::new(buf, header);
            f(&mut b);
            b.finish().map(|m| m.len())
        };
        match ok {
            Ok(n) => self.tx.truncate(start + n),
            Err(_) => {
                self.tx.truncate(start);
                self.close(DownReason::TransmitOverflow);
            }
        }
    }

    fn emit_answer(&mut self, req: &Message<'_>, f: impl FnOnce(&mut MessageBuilder<'_>)) {
        self.emit_answer_flags(req, false, f)
    }

    fn emit_answer_flags(
        &mut self,
        req: &Message<'_>,
        error: bool,
        f: impl FnOnce(&mut MessageBuilder<'_>),
    ) {
        let mut hdr = req.header().answer();
        if error {
            hdr.flags = hdr.flags | CommandFlags::ERROR;
        }
        let sid = req.find(263, 0);
        self.emit(hdr, |b| {
            if let Some(s) = sid {
                b.put_avp(&s);
            }
            f(b)
        });
    }

    fn reject<'m>(&mut self, bytes: &[u8], e: Error) -> Incoming<'m> {
        self.stats.rejected_requests = self.stats.rejected_requests.saturating_add(1);
        let start = self.tx.len();
        let _ = self.tx.resize(TX, 0);
        let id = self.config.identity();
        let n = {
            let buf = self.tx.get_mut(start..).unwrap_or(&mut []);
            error_answer(bytes, &e, &id, &base::Base, buf)
                .ok()
                .and_then(|b| b.finish().ok().map(|m| m.len()))
        };
        match n {
            Some(n) => self.tx.truncate(start + n),
            None => {
                self.tx.truncate(start);
                if bytes.len() >= HEADER_LEN {
                    self.close(DownReason::TransmitOverflow);
                }
            }
        }
        Incoming::Rejected(e)
    }
}

/// FNV-1a, for duplicate detection keys.
struct Fnv(u64);
impl Fnv {
    const fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    const fn finish(&self) -> u64 {
        self.0
    }
}

/// Set the T flag on an encoded request before retransmitting it on
/// another peer after [`Event::RequestHandedBack`] (§5.5.4).
pub fn set_retransmit_flag(bytes: &mut [u8]) {
    if let Some(f) = bytes.get_mut(4) {
        *f |= CommandFlags::RETRANSMIT.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::{Frame, Framer};
    use crate::types::AddressValue;
    use std::vec::Vec;

    const IP: [AddressValue<'static>; 1] = [AddressValue::V4([127, 0, 0, 1])];

    fn ident(host: &'static str) -> LocalIdentity<'static> {
        LocalIdentity {
            origin_host: host,
            origin_realm: "example.org",
            host_ip_addresses: &IP,
            vendor_id: 0,
            product_name: "test",
            firmware_revision: Some(1),
            origin_state_id: 7,
            supported_vendor_ids: &[10415],
            applications: &APPS,
            inband_security_id: None,
        }
    }
    const APPS: [App; 2] = [App::auth(4), App::acct(3)];

    /// Move every transmitted message from `a` to `b`, returning what `b`
    /// made of each (as owned summaries).
    fn pump<const P: usize>(
        now: Instant,
        a: &mut Peer<'_, P>,
        b: &mut Peer<'_, P>,
    ) -> Vec<(u32, bool)> {
        let bytes: Vec<u8> = a.transmit().to_vec();
        a.transmitted(bytes.len());
        let mut out = Vec::new();
        let mut rest = &bytes[..];
        while let Ok(Frame::Complete(n)) = Framer::default().check(rest) {
            let (m, r) = rest.split_at(n);
            rest = r;
            let h = Header::new_checked(m).unwrap();
            out.push((h.command_code().0, h.flags().is_request()));
            let _ = b.handle_message(now, m, &base::Base);
        }
        out
    }

    fn events<const P: usize>(now: Instant, p: &mut Peer<'_, P>) -> Vec<Event> {
        core::iter::from_fn(|| p.poll_event(now)).collect()
    }

    #[test]
    fn cer_cea_dwr_dpr() {
        let ci = PeerConfig::new(ident("client.example.org"));
        let cr = PeerConfig::new(ident("server.example.org"));
        let t0 = Instant::ZERO;
        let mut i: Peer<'_, 8> = Peer::new(&ci, Role::Initiator, t0);
        let mut r: Peer<'_, 8> = Peer::new(&cr, Role::Responder, t0);
        i.start(t0);
        assert_eq!(events(t0, &mut i), [Event::Connect]);
        i.handle_connected(t0);
        r.handle_connected(t0);
        assert_eq!(pump(t0, &mut i, &mut r), [(257, true)]);
        assert_eq!(events(t0, &mut r), [Event::Up]);
        assert_eq!(pump(t0, &mut r, &mut i), [(257, false)]);
        assert_eq!(events(t0, &mut i), [Event::Up]);
        assert!(i.is_open() && r.is_open());
        assert_eq!(i.peer_info().origin_host.as_str(), "server.example.org");
        assert_eq!(i.peer_info().common.len(), 2);
        // silence: DWR after ~30 s
        let t = i.poll_timeout().unwrap();
        assert!(t.0 >= 28_000 && t.0 <= 32_000);
        i.handle_timeout(t);
        assert_eq!(pump(t, &mut i, &mut r), [(280, true)]);
        assert_eq!(pump(t, &mut r, &mut i), [(280, false)]);
        // DPR from the initiator
        i.disconnect(t, base::DisconnectCause::Rebooting);
        assert_eq!(pump(t, &mut i, &mut r), [(282, true)]);
        assert_eq!(
            events(t, &mut r),
            [
                Event::PeerDisconnecting(0),
                Event::Down(DownReason::Disconnected(0)),
                Event::Close
            ]
        );
        assert_eq!(pump(t, &mut r, &mut i), [(282, false)]);
        assert_eq!(
            events(t, &mut i),
            [Event::Down(DownReason::Disconnected(0)), Event::Close]
        );
    }

    #[test]
    fn cer_on_open_connection_gets_a_cea() {
        let ci = PeerConfig::new(ident("client.example.org"));
        let cr = PeerConfig::new(ident("server.example.org"));
        let t0 = Instant::ZERO;
        let mut i: Peer<'_, 8> = Peer::new(&ci, Role::Initiator, t0);
        let mut r: Peer<'_, 8> = Peer::new(&cr, Role::Responder, t0);
        i.start(t0);
        i.handle_connected(t0);
        r.handle_connected(t0);
        let cer = i.transmit().to_vec();
        pump(t0, &mut i, &mut r);
        pump(t0, &mut r, &mut i);
        let _ = (events(t0, &mut i), events(t0, &mut r));
        // the same CER again, on the open connection (RFC 6733 §5.6.1)
        assert_eq!(r.handle_message(t0, &cer, &base::Base), Incoming::Handled);
        let cea = r.transmit().to_vec();
        let m = Message::parse_with(&cea, &base::Base).unwrap();
        assert_eq!(m.command_code(), CommandCode::CAPABILITIES_EXCHANGE);
        assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(2001));
        assert!(r.is_open());
    }

    #[test]
    fn requests_answers_timeouts_backpressure_handback() {
        let ci = PeerConfig::new(ident("client.example.org"));
        let cr = PeerConfig::new(ident("server.example.org"));
        let t0 = Instant::ZERO;
        let mut i: Peer<'_, 2> = Peer::new(&ci, Role::Initiator, t0);
        let mut r: Peer<'_, 2> = Peer::new(&cr, Role::Responder, t0);
        i.start(t0);
        let _ = events(t0, &mut i);
        i.handle_connected(t0);
        r.handle_connected(t0);
        pump(t0, &mut i, &mut r);
        pump(t0, &mut r, &mut i);
        let _ = (events(t0, &mut i), events(t0, &mut r));
        // an ACR-like request on app 3 (STR grammar is simplest: use ASR? use DWR-shaped app msg)
        let mut req = [0u8; 128];
        let n = {
            let mut b = MessageBuilder::new(
                &mut req,
                HeaderRepr::request(
                    CommandCode::ACCOUNTING,
                    ApplicationId::BASE_ACCOUNTING,
                    0,
                    0,
                )
                .proxiable(true),
            );
            b.put(&base::SESSION_ID, "s;1")
                .put(&base::ORIGIN_HOST, "client.example.org")
                .put(&base::ORIGIN_REALM, "example.org")
                .put(&base::DESTINATION_REALM, "example.org")
                .put(
                    &base::ACCOUNTING_RECORD_TYPE,
                    base::AccountingRecordType::EventRecord,
                )
                .put(&base::ACCOUNTING_RECORD_NUMBER, 0);
            b.finish().unwrap().len()
        };
        let mut r1 = req;
        let hbh = i.send_request(t0, &mut r1[..n], 11).unwrap();
        let mut r2 = req;
        i.send_request(t0, &mut r2[..n], 12).unwrap();
        let mut r3 = req;
        assert_eq!(i.send_request(t0, &mut r3[..n], 13), Err(SendError::Full));
        // the server sees a valid request
        match r.handle_message(t0, &r1[..n], &base::Base) {
            Incoming::Request { message, duplicate } => {
                assert!(!duplicate);
                assert_eq!(message.hop_by_hop(), hbh);
                let mut ans = [0u8; 128];
                let mut b = MessageBuilder::answer_to(&mut ans, &message);
                b.put(&base::RESULT_CODE, 2001);
                let a = b.finish().unwrap();
                match i.handle_message(t0, a, &base::Base) {
                    Incoming::Answer { token, .. } => assert_eq!(token, 11),
                    other => panic!("{other:?}"),
                }
                // the same answer again matches nothing
                assert_eq!(
                    i.handle_message(t0, a, &base::Base),
                    Incoming::Dropped(DropReason::UnmatchedAnswer)
                );
            }
            other => panic!("{other:?}"),
        }
        // request 12 times out after 10 s
        let t = Instant::from_secs(10);
        i.handle_timeout(t);
        assert_eq!(events(t, &mut i), [Event::RequestTimedOut { token: 12 }]);
        // one more, then the connection drops: handed back
        let mut r4 = req;
        i.send_request(t, &mut r4[..n], 14).unwrap();
        i.handle_disconnected(t);
        let ev = events(t, &mut i);
        assert_eq!(ev[0], Event::Down(DownReason::TransportClosed));
        assert!(matches!(ev[1], Event::RequestHandedBack { token: 14, .. }));
        assert_eq!(i.pending_len(), 0);
    }
}
