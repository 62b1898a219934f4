//! The sans-IO peer state machine (RFC 6733 §5): one Diameter peer over one
//! transport connection at a time, as initiator or responder.
//!
//! Read RFC 6733 §5.3 (capabilities exchange), §5.4 (disconnect), §5.5 and
//! RFC 3539 §3.4 (watchdog), §5.6 (state machine) and §6.5 (duplicates)
//! first.
//!
//! [`Peer`] performs no I/O and has no clock. A transport (or the endpoint
//! of `diameter-cc`, which owns several) drives it:
//!
//! * **Inputs** (`handle_*`): [`Peer::start`], [`Peer::handle_connected`],
//!   [`Peer::handle_disconnected`], [`Peer::handle_message`] for every
//!   complete message framed from the stream (see [`crate::rxbuf`]),
//!   [`Peer::handle_timeout`], and the local calls [`Peer::send_request`],
//!   [`Peer::queue_answer`] and [`Peer::disconnect`].
//! * **Outputs** (`poll_*`), in this order after every input:
//!   [`Peer::poll_event`] until `None` (it includes the transport commands
//!   [`Event::Connect`] and [`Event::Close`]), then write
//!   [`Peer::transmit`] to the socket and call [`Peer::transmitted`], then
//!   arm a timer for [`Peer::poll_timeout`].
//!
//! Base-protocol messages (CER/CEA, DWR/DWA, DPR/DPA) are handled inside
//! the machine; application messages are validated once against the
//! caller's dictionary and handed over by [`Peer::handle_message`] as
//! borrowed, validated [`Message`]s: requests to answer, answers matched to
//! the caller's request by Hop-by-Hop and End-to-End identifier. Malformed
//! requests, unknown commands (3001) and unsupported applications (3007)
//! are answered by the machine with the precise error answer. Every request
//! the caller sends ends exactly once: answered (validly or not,
//! [`Incoming::InvalidAnswer`]), [`Event::RequestTimedOut`] at the deadline
//! the caller chose, or [`Event::RequestHandedBack`] when the connection
//! fails, for retransmission on another peer with the T flag (§5.5.4).
//!
//! Memory is fixed: `P` pending requests (a power of two), a duplicate
//! window of [`DUPLICATE_ENTRIES`] requests and a `TX`-byte buffer for the
//! machine's own messages. No allocation, no panics on any input or event sequence.
//!
//! ```
//! use diameter_core::peer::{Peer, PeerConfig, Role, Event, App, LocalIdentity};
//! use diameter_core::time::Instant;
//! let me = LocalIdentity::new("client.example.org", "example.org")?.with_application(App::auth(4))?;
//! let mut peer: Peer<16> = Peer::new(PeerConfig::new(me, 1_764_720_000), Role::Initiator, Instant::ZERO);
//! peer.start(Instant::ZERO);
//! assert_eq!(peer.poll_event(Instant::ZERO), Some(Event::Connect));
//! peer.handle_connected(Instant::ZERO);
//! assert!(!peer.transmit().is_empty()); // the CER
//! # Ok::<(), diameter_core::peer::ConfigError>(())
//! ```

mod backoff;
mod base_messages;
mod capabilities;
mod config;
mod ids;
mod pending;
mod txbuf;
pub mod watchdog;

pub use capabilities::{
    election_won, identity_buf, negotiate, owned_text, App, AppKind, CapabilitiesError,
    ConfigError, IdentityBuf, LocalIdentity, PeerInfo, MAX_ADDRESSES, MAX_APPS, MAX_IDENTITY,
    MAX_PRODUCT, MAX_VENDORS, RELAY,
};
pub use config::{Pattern, PeerConfig, MAX_ALLOWED, MAX_PATTERN};
pub use pending::DUPLICATE_ENTRIES;
pub use watchdog::{Watchdog, WatchdogAction, WatchdogState};

use crate::answer::error_answer;
use crate::dict::Dictionary;
use crate::error::{EncodeError, Error, ErrorKind};
use crate::header::{CommandCode, CommandFlags, Header, HEADER_LEN};
use crate::message::Message;
use crate::result_code::ResultCode;
use crate::time::{earliest, Instant};
use ids::Ids;
use pending::{DuplicateWindow, Ended, Pending};
use txbuf::TxBuf;

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
#[non_exhaustive]
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

impl core::fmt::Display for DownReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DownReason::TransportClosed => f.write_str("transport connection closed"),
            DownReason::WatchdogExpired => f.write_str("watchdog: no answer to DWR"),
            DownReason::CapabilitiesTimeout => f.write_str("no capabilities exchange in time"),
            DownReason::CapabilitiesRejected(rc) => write!(f, "capabilities rejected ({rc})"),
            DownReason::Disconnected(c) => write!(f, "disconnected (Disconnect-Cause {c})"),
            DownReason::ProtocolError(rc) => write!(f, "protocol error ({rc})"),
            DownReason::TransmitOverflow => f.write_str("transmit buffer overflow"),
        }
    }
}

/// What the machine tells the caller and the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
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
    /// A request we sent got no answer by its deadline. It ends here.
    RequestTimedOut {
        /// The caller's token from [`Peer::send_request`].
        token: u64,
        /// Its End-to-End Identifier, to keep on retransmission.
        end_to_end: u32,
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
        /// The request, validated against the dictionary
        /// ([`Message::is_validated`]); only its header is checked when
        /// [`Peer::handle_message_one_pass`] was asked to leave it to the
        /// caller's one-pass read.
        message: Message<'a>,
        /// It carries the T flag and matches a request seen within the
        /// duplicate window (§6.5): answer it from your cache if you have one.
        duplicate: bool,
    },
    /// The answer to one of our requests, validated against the dictionary.
    Answer {
        /// The answer.
        message: Message<'a>,
        /// The token given to [`Peer::send_request`].
        token: u64,
    },
    /// The answer to one of our requests, which failed validation: the
    /// request ends here (it cannot be answered again).
    InvalidAnswer {
        /// The token given to [`Peer::send_request`].
        token: u64,
        /// What is wrong with the answer.
        error: Error,
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
#[non_exhaustive]
pub enum DropReason {
    /// An answer matching no pending request (§6.2: silently discarded).
    UnmatchedAnswer,
    /// Traffic while the watchdog is in REOPEN or the peer is not open.
    NotOpen,
    /// An answer that failed to parse and matched nothing (it cannot be
    /// answered).
    MalformedAnswer,
}

impl core::fmt::Display for DropReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            DropReason::UnmatchedAnswer => "answer matching no pending request",
            DropReason::NotOpen => "message while the connection is not open",
            DropReason::MalformedAnswer => "malformed answer",
        })
    }
}

/// Why a request could not be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
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

impl core::fmt::Display for SendError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            SendError::NotOpen => "peer connection not open",
            SendError::Full => "too many requests in flight",
            SendError::NotARequest => "not a request",
            SendError::ApplicationNotSupported => "application not negotiated with this peer",
        })
    }
}

impl core::error::Error for SendError {}

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
    /// Answers that matched a request but failed validation.
    pub invalid_answers: u32,
}

/// Capacity of the event queue.
const EVENTS: usize = 16;

/// The peer machine. `P` is the pending-request capacity (a power of two),
/// `TX` the size of the buffer for the machine's own messages and queued
/// answers.
pub struct Peer<const P: usize, const TX: usize = 4096> {
    config: PeerConfig,
    role: Role,
    state: PeerState,
    watchdog: Watchdog,
    /// CEA/CER wait, DPA wait, or reconnect.
    state_deadline: Option<Instant>,
    not_before: Option<Instant>,
    /// Reconnection attempts since the last Open, and their jitter.
    backoff: backoff::Backoff,
    peer: PeerInfo,
    pending: Pending<P>,
    dups: DuplicateWindow,
    ids: Ids,
    events: heapless::Deque<Event, EVENTS>,
    tx: TxBuf<TX>,
    last_now: Instant,
    stats: Stats,
    /// The Disconnect-Cause of the DPR we sent (reported when it completes).
    dpr_cause: i32,
}

impl<const P: usize, const TX: usize> core::fmt::Debug for Peer<P, TX> {
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

impl<const P: usize, const TX: usize> Peer<P, TX> {
    /// A machine for one peer. It does nothing until [`Peer::start`]
    /// (initiator) or [`Peer::handle_connected`] (responder).
    // Inlined so that a caller writing the result into its place (an
    // endpoint's peer slot) gets the transmit buffer and the pending table
    // built there, not on the stack and then copied.
    #[inline(always)]
    pub fn new(config: PeerConfig, role: Role, now: Instant) -> Self {
        Peer {
            watchdog: Watchdog::new(config.tw, config.seed),
            ids: Ids::new(config.seed, config.boot_time),
            backoff: backoff::Backoff::new(config.seed.rotate_left(16)),
            config,
            role,
            state: PeerState::Closed,
            state_deadline: None,
            not_before: None,
            peer: PeerInfo::default(),
            pending: Pending::new(),
            dups: DuplicateWindow::new(),
            events: heapless::Deque::new(),
            tx: TxBuf::new(),
            last_now: now,
            stats: Stats::default(),
            dpr_cause: 0,
        }
    }

    /// Make this machine what `Peer::new(config.clone(), role, now)` would
    /// be, in place: nothing the size of a `Peer` (its `TX`-byte transmit
    /// buffer, its pending table) is built on the stack and moved, as
    /// `*peer = Peer::new(..)` would (the copy of `config` is the largest
    /// temporary). Whatever it still had pending is forgotten without
    /// events: reset a machine that is done with (closed, nothing pending),
    /// as an endpoint reusing a peer slot does.
    ///
    /// ```
    /// use diameter_core::peer::{LocalIdentity, Peer, PeerConfig, PeerState, Role};
    /// use diameter_core::time::Instant;
    /// let config = PeerConfig::new(LocalIdentity::new("a.example", "example")?, 0);
    /// let mut peer: Peer<4> = Peer::new(config.clone(), Role::Initiator, Instant::ZERO);
    /// peer.start(Instant::ZERO);
    /// peer.reset(&config, Role::Responder, Instant::ZERO);
    /// assert_eq!((peer.state(), peer.role()), (PeerState::Closed, Role::Responder));
    /// # Ok::<(), diameter_core::peer::ConfigError>(())
    /// ```
    pub fn reset(&mut self, config: &PeerConfig, role: Role, now: Instant) {
        // Every field by name (no `..`): a new field does not compile
        // until it is reset here too.
        let Peer {
            config: own_config,
            role: own_role,
            state,
            watchdog,
            state_deadline,
            not_before,
            backoff,
            peer,
            pending,
            dups,
            ids,
            events,
            tx,
            last_now,
            stats,
            dpr_cause,
        } = self;
        own_config.clone_from(config);
        *watchdog = Watchdog::new(config.tw, config.seed);
        *ids = Ids::new(config.seed, config.boot_time);
        *backoff = backoff::Backoff::new(config.seed.rotate_left(16));
        *own_role = role;
        *state = PeerState::Closed;
        *state_deadline = None;
        *not_before = None;
        *peer = PeerInfo::default();
        pending.clear();
        dups.clear();
        events.clear();
        tx.clear();
        *last_now = now;
        *stats = Stats::default();
        *dpr_cause = 0;
    }

    // ---- getters ----------------------------------------------------------

    /// The configuration.
    pub const fn config(&self) -> &PeerConfig {
        &self.config
    }
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

    fn new_hop_by_hop(&mut self) -> u32 {
        let pending = &self.pending;
        self.ids.hop_by_hop(|h| pending.contains(h))
    }

    // ---- inputs -----------------------------------------------------------

    /// Initiator: ask the transport to connect (now, or after a back-off).
    pub fn start(&mut self, now: Instant) {
        let now = self.clock(now);
        if self.role != Role::Initiator || self.state != PeerState::Closed {
            return;
        }
        match self.not_before {
            // Disconnected on purpose: only allow_reconnect lifts it.
            Some(Instant(u64::MAX)) => self.state_deadline = None,
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
        self.state_deadline = Some(now + self.config.capabilities_timeout);
        match self.role {
            Role::Initiator => {
                self.state = PeerState::WaitCea;
                self.send_cer();
            }
            Role::Responder => self.state = PeerState::WaitCer,
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
        // A connection lost without DPR puts the watchdog DOWN, so the next
        // connection must pass REOPEN (RFC 3539 §3.4.1); after DPR/DPA the
        // watchdog was stopped and stays INITIAL.
        if self.watchdog.state() != WatchdogState::Initial {
            let _ = self.watchdog.connection_down(now);
        }
        if !matches!(was, PeerState::Disconnecting) {
            self.event(Event::Down(DownReason::TransportClosed));
        }
        self.pending.hand_back_all();
        // Initiator: reconnect after the back-off (at most Tc) unless told
        // not to talk to us.
        self.state_deadline = match (self.role, self.not_before) {
            // Disconnected on purpose: no reconnect until allowed.
            (_, Some(Instant(u64::MAX))) | (Role::Responder, _) => None,
            (Role::Initiator, nb) => {
                let wait = self.backoff.next_delay(
                    self.config.reconnect_initial,
                    self.config.reconnect_interval,
                );
                let t = now + wait;
                Some(match nb {
                    Some(nb) if nb > t => nb,
                    _ => t,
                })
            }
        };
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
        self.pending.hand_back_all();
    }

    /// Register an application request the caller has encoded in `bytes`:
    /// the machine writes a fresh Hop-by-Hop id and, unless the T flag is set
    /// (a retransmission keeps its End-to-End id, §5.5.4), a fresh
    /// End-to-End id into the header, and remembers `token` until the
    /// answer, the `deadline` the caller chose, or the hand-back. Then write
    /// `bytes` to the transport. Returns the Hop-by-Hop id.
    pub fn send_request(
        &mut self,
        now: Instant,
        bytes: &mut [u8],
        token: u64,
        deadline: Instant,
    ) -> Result<u32, SendError> {
        self.clock(now);
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
        if self.pending.is_full() {
            return Err(SendError::Full);
        }
        let retransmit = h.flags().is_retransmit();
        let kept = h.end_to_end();
        let hbh = self.new_hop_by_hop();
        let e2e = if retransmit {
            kept
        } else {
            self.ids.end_to_end()
        };
        if !self.pending.insert(hbh, e2e, deadline, token) {
            return Err(SendError::Full);
        }
        let mut h = Header::new_unchecked(&mut bytes[..HEADER_LEN]);
        h.set_hop_by_hop(hbh);
        h.set_end_to_end(e2e);
        Ok(hbh)
    }

    /// Queue an answer to a request received on this connection: `write`
    /// encodes it into the free part of the transmit buffer and returns its
    /// length. It goes out with [`Peer::transmit`], after what is already
    /// queued. If it does not fit, nothing is queued and the connection is
    /// closed ([`DownReason::TransmitOverflow`]: the transport does not
    /// drain the buffer); other encoding errors are returned as they are.
    pub fn queue_answer(
        &mut self,
        write: impl FnOnce(&mut [u8]) -> Result<usize, EncodeError>,
    ) -> Result<usize, EncodeError> {
        if !matches!(self.state, PeerState::Open | PeerState::Closing) {
            return Err(EncodeError::InvalidValue);
        }
        let r = self.tx.append(write);
        if let Err(EncodeError::BufferTooSmall { .. }) = r {
            self.close(DownReason::TransmitOverflow);
        }
        r
    }

    /// Handle one complete message from the peer (framed with
    /// [`crate::Framer`] or [`crate::RxBuf`]). `dict` knows the applications
    /// the caller serves: every message is validated against it once, in
    /// a single walk (header, AVP headers, grammar, values and flag rules),
    /// and application messages are handed over marked validated.
    pub fn handle_message<'m, D: Dictionary>(
        &mut self,
        now: Instant,
        bytes: &'m [u8],
        dict: &D,
    ) -> Incoming<'m> {
        self.handle_message_one_pass(now, bytes, dict, |_| false)
    }

    /// [`Peer::handle_message`], except that an application request whose
    /// command `one_pass` names, received in the open state, is handed over
    /// with only its header checked ([`Message::new_checked`], not
    /// [`Message::is_validated`]): the caller validates and reads it in one
    /// walk ([`Message::validate_command_reading`], which the typed views of
    /// `diameter-cc` use) instead of a validation here and a read after,
    /// and answers a failure with [`Peer::reject_request`]. Its duplicate
    /// check (§5.6, from the Session-Id, Origin-Host and End-to-End
    /// Identifier) is made here as for any request.
    pub fn handle_message_one_pass<'m, D, F>(
        &mut self,
        now: Instant,
        bytes: &'m [u8],
        dict: &D,
        one_pass: F,
    ) -> Incoming<'m>
    where
        D: Dictionary,
        F: Fn(CommandCode) -> bool,
    {
        let now = self.clock(now);
        if matches!(
            self.state,
            PeerState::Closed | PeerState::Disconnecting | PeerState::Connecting
        ) {
            self.stats.dropped = self.stats.dropped.saturating_add(1);
            return Incoming::Dropped(DropReason::NotOpen);
        }
        let header = Header::new_checked(bytes).ok();
        let is_request = header.as_ref().is_none_or(|h| h.flags().is_request());
        // Application requests the caller reads in one pass: not validated
        // here (only when open: before, nothing but CER/DWR is legal).
        let deferred = self.state == PeerState::Open
            && header.as_ref().is_some_and(|h| {
                h.flags().is_request() && h.application_id().0 != 0 && one_pass(h.command_code())
            });
        let msg = match Message::new_checked(bytes).and_then(|m| match deferred {
            true => Ok(m),
            false => m.validated_with_config(dict, &self.config.parse),
        }) {
            Ok(m) => m,
            Err(e) if is_request => {
                let r = self.reject(bytes, e, dict);
                if matches!(self.state, PeerState::WaitCer | PeerState::WaitCea) {
                    // Nothing but a valid CER may open the connection.
                    self.close(DownReason::ProtocolError(e.result_code()));
                }
                return r;
            }
            Err(e) => return self.on_invalid_answer(header.as_ref(), e),
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
                    self.on_cer_open(&msg);
                }
                Incoming::Handled
            }
            CommandCode::DEVICE_WATCHDOG => {
                if msg.is_request() {
                    self.answer_dwr(&msg);
                }
                Incoming::Handled
            }
            CommandCode::DISCONNECT_PEER => {
                if msg.is_request() {
                    self.on_dpr(now, &msg);
                } else if self.state == PeerState::Closing {
                    self.close(DownReason::Disconnected(self.dpr_cause));
                }
                Incoming::Handled
            }
            _ if msg.is_request() => self.on_app_request(now, bytes, msg, deferred, dict),
            _ => self.on_app_answer(msg),
        }
    }

    fn on_invalid_answer<'m>(
        &mut self,
        header: Option<&Header<&[u8]>>,
        error: Error,
    ) -> Incoming<'m> {
        let matched = header.and_then(|h| self.pending.answer(h.hop_by_hop(), h.end_to_end()));
        match matched {
            Some(token) => {
                self.stats.invalid_answers = self.stats.invalid_answers.saturating_add(1);
                Incoming::InvalidAnswer { token, error }
            }
            None => {
                self.stats.dropped = self.stats.dropped.saturating_add(1);
                Incoming::Dropped(DropReason::MalformedAnswer)
            }
        }
    }

    fn on_app_request<'m, D: Dictionary>(
        &mut self,
        now: Instant,
        bytes: &'m [u8],
        msg: Message<'m>,
        deferred: bool,
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
            return self.reject(bytes, Error::new(ErrorKind::ApplicationUnsupported), dict);
        }
        if !msg.is_validated() && !deferred {
            // The dictionary does not know the command (§7.1.3: 3001).
            return self.reject(bytes, Error::new(ErrorKind::CommandUnsupported), dict);
        }
        let sid = msg.session_id_bytes().unwrap_or(b"");
        let host = msg
            .get(&crate::dict::base::ORIGIN_HOST)
            .ok()
            .flatten()
            .unwrap_or("");
        let window = self.config.duplicate_window;
        let retransmitted = msg.flags().is_retransmit();
        let duplicate = self
            .dups
            .check(now, window, sid, host, msg.end_to_end(), retransmitted);
        if duplicate {
            self.stats.duplicates = self.stats.duplicates.saturating_add(1);
        }
        Incoming::Request {
            message: msg,
            duplicate,
        }
    }

    fn on_app_answer<'m>(&mut self, msg: Message<'m>) -> Incoming<'m> {
        match self.pending.answer(msg.hop_by_hop(), msg.end_to_end()) {
            Some(token) => Incoming::Answer {
                message: msg,
                token,
            },
            None => {
                self.stats.unmatched_answers = self.stats.unmatched_answers.saturating_add(1);
                Incoming::Dropped(DropReason::UnmatchedAnswer)
            }
        }
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
        // Request deadlines are reported lazily by poll_event.
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
        Some(match self.pending.next_ended(now)? {
            Ended::TimedOut { token, end_to_end } => Event::RequestTimedOut { token, end_to_end },
            Ended::HandedBack { token, end_to_end } => {
                Event::RequestHandedBack { token, end_to_end }
            }
        })
    }

    /// Bytes the machine wants written to the transport (CER, CEA, DWR, DWA,
    /// DPR, DPA, error answers, queued answers), whole messages only.
    #[must_use]
    pub fn transmit(&self) -> &[u8] {
        self.tx.pending()
    }

    /// `n` bytes of [`Peer::transmit`] were written.
    pub fn transmitted(&mut self, n: usize) {
        self.tx.consumed(n);
    }

    /// When [`Peer::handle_timeout`] should next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let t = earliest(self.watchdog.deadline(), self.state_deadline);
        earliest(t, self.pending.earliest(self.last_now))
    }

    // ---- encoding helpers ---------------------------------------------------

    /// Answer the request `bytes` (handed over by
    /// [`Peer::handle_message_one_pass`]) with the error answer of `error`
    /// (§7.1: its Result-Code, the E bit for a protocol error, Failed-AVP),
    /// counted in [`Stats::rejected_requests`], as the peer machine
    /// answers the requests it validates itself.
    pub fn reject_request<D: Dictionary>(&mut self, bytes: &[u8], error: Error, dict: &D) {
        let _ = self.reject(bytes, error, dict);
    }

    fn reject<'m, D: Dictionary>(&mut self, bytes: &[u8], e: Error, dict: &D) -> Incoming<'m> {
        self.stats.rejected_requests = self.stats.rejected_requests.saturating_add(1);
        let id = self.config.identity();
        let r = self.tx.append(|buf| {
            error_answer(bytes, &e, &id, dict, buf)?
                .finish()
                .map(|m| m.len())
        });
        if let Err(EncodeError::BufferTooSmall { .. }) = r {
            self.close(DownReason::TransmitOverflow);
        }
        Incoming::Rejected(e)
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
mod tests;
