//! The endpoint: one sans-IO Diameter node that owns its peer connections
//! and a table of sessions of every kind, so that a transport only moves
//! bytes and time.
//!
//! Read `ARCHITECTURE.md` (the endpoint) and RFC 6733 §6.1 (routing), §5.5.4
//! (failover) first.
//!
//! [`Endpoint`] composes the peer machines of `diameter-core` (one per
//! connection, chosen by realm and application, RFC 6733 §6.1) and the
//! session machines of this crate ([`Session`]: prepaid, postpaid and
//! accounting clients; credit-control and accounting server sessions),
//! addressed by generational [`SessionHandle`]s, like smoltcp's
//! `SocketSet` or quinn-proto's `Endpoint`. It decides everything a
//! transport would otherwise have to:
//!
//! - **Request identifiers.** The endpoint writes the Hop-by-Hop and
//!   End-to-End identifiers of every request and remembers which session
//!   and which of its requests each one is; a retransmission keeps its
//!   End-to-End identifier and gets the T flag. Nobody touches header
//!   bytes.
//! - **One owner per timer.** Each session decides the deadline of each
//!   request's answer (Tx, the late-answer wait of RFC 8506 §5.7, the
//!   accounting answer timeout); the peer's pending table holds that
//!   deadline, so a late CCA under CONTINUE still reaches its session.
//! - **Failover.** A request handed back by a failed connection goes back
//!   to its session, which sends it again at once: the endpoint routes it
//!   to the next open peer for its realm and application, with the T flag
//!   (RFC 6733 §5.5.4). With no other peer it is a failure to send, and the
//!   session's failure handling decides. An accounting record is kept
//!   until acknowledged.
//! - **Server side.** A request is routed by Session-Id to the session that
//!   owns it, else to a new server session of the kind served for its
//!   application (credit control: [`Endpoint::with_credit_control`];
//!   accounting: [`Endpoint::with_accounting`]). RAR, ASR, CCR-Update and
//!   -Termination naming no session get 5002; a full table gets 3004
//!   (never an eviction of a live session). Requests of other applications
//!   are handed to the caller to answer ([`Endpoint::answer`]).
//! - **Validated once.** The peer machine validates every message once
//!   against the [`CreditControl`] dictionary; sessions read it through the
//!   typed views without validating again.
//!
//! # Driving an endpoint
//!
//! Like quinn-proto, methods come in kinds:
//!
//! - **inputs**: the transport's [`Endpoint::handle_connected`],
//!   [`Endpoint::handle_disconnected`], [`Endpoint::handle_message`] (one
//!   framed message, see [`diameter_core::RxBuf`]) and
//!   [`Endpoint::handle_timeout`]; the application's calls on a session
//!   handle ([`Endpoint::open_prepaid`], [`Endpoint::call_setup`],
//!   [`Endpoint::call_answered`], [`Endpoint::call_ended`], ...) and on
//!   peers ([`Endpoint::start`], [`Endpoint::disconnect`]);
//! - **outputs**, polled in this order after every input:
//!   1. [`Endpoint::poll_event`] until `None`: transport commands (connect,
//!      close), peer state, and every session's events, tagged with the
//!      peer or session handle. On [`peer::Event::Close`], first write what
//!      `poll_transmit` still has for that peer (a DPA, say), then close;
//!   2. [`Endpoint::poll_transmit`] until `None`: bytes to write to a peer
//!      connection: first what the peer machines send themselves (CER,
//!      DWR, DPR, their answers and error answers, and the answers of the
//!      sessions to incoming requests, in the order they were decided),
//!      then the sessions' requests;
//!   3. [`Endpoint::poll_timeout`]: when to call
//!      [`Endpoint::handle_timeout`].
//!
//! Time only moves forward (an earlier `now` is taken as the latest one
//! seen). Nothing here allocates; `PEERS` and `SESSIONS` (a power of two,
//! at least 2, which is also each peer's pending-request capacity) fix the
//! memory at compile time.
//!
//! ```
//! use diameter_cc::endpoint::{Endpoint, EndpointConfig, Event};
//! use diameter_cc::client::{Parties, prepaid::PrepaidConfig};
//! use diameter_cc::session::WallClock;
//! use diameter_core::peer::{App, LocalIdentity, PeerConfig, Role};
//! use diameter_core::time::Instant;
//!
//! let me = LocalIdentity::new("proxy.example.org", "example.org")?
//!     .with_application(App::auth(4))?;
//! let mut config = EndpointConfig::new(PeerConfig::new(me, 1_764_720_000), WallClock::new(1_764_720_000));
//! config.prepaid = Some(PrepaidConfig::new("example.org", "voice@example.org")?);
//! let mut ep: Endpoint = Endpoint::new(config, Instant::ZERO);
//! let ocs = ep.add_peer(Role::Initiator, None).unwrap();
//! ep.start(Instant::ZERO);
//! assert!(matches!(ep.poll_event(Instant::ZERO), Some(Event::Peer { peer, .. }) if peer == ocs));
//! let call = ep.open_prepaid(Instant::ZERO, "call-1@proxy", Parties::new("1001", "1002")?).unwrap();
//! ep.call_setup(Instant::ZERO, call).unwrap();
//! // no peer is open yet: the CCR-I cannot be sent, the call is denied
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod calls;
mod events;
mod handles;
mod routing;
mod sessions;
mod timers;

pub use events::{CallError, EndpointStats, Event, OpenError, Outgoing};
pub use handles::{PeerHandle, SessionHandle, MAX_APP_TOKEN};
pub use sessions::{Session, SessionEvent, SessionKind, ACCOUNTING_RECORDS};

use diameter_core::answer::{result_answer, Identity};
use diameter_core::dict::base::DisconnectCause;
use diameter_core::hash::fnv;
use diameter_core::header::{Header, HEADER_LEN};
use diameter_core::peer::{self, identity_buf, Incoming, Peer, PeerConfig, Role, SendError};
use diameter_core::time::{earliest, Instant, Monotonic};
use diameter_core::{CommandCode, CommandFlags, EncodeError, Message, ResultCode};

#[cfg(feature = "accounting")]
use crate::client::accounting::AccountingConfig;
#[cfg(feature = "postpaid")]
use crate::client::postpaid::PostpaidConfig;
#[cfg(feature = "prepaid")]
use crate::client::prepaid::PrepaidConfig;
#[cfg(feature = "server")]
use crate::msg::{Acr, Ccr};
#[cfg(feature = "server")]
use crate::server::accounting::{AccountingServer, AccountingServerConfig};
use crate::server::accounting::{AccountingSink, NoSink};
#[cfg(feature = "server")]
use crate::server::credit_control::{CcServer, CcServerConfig};
use crate::server::credit_control::{NoRating, Rating};
use crate::session::{Failure, Node, RequestFailed, Route, WallClock};
use crate::CreditControl;
use handles::{from_token, session_token};
use routing::PeerSlot;
use sessions::Shared;

/// Capacity of the endpoint's own event queue (peer events); the sessions
/// keep their own.
const EVENTS: usize = 32;
/// Requests one session may write in one `poll_transmit` before the
/// endpoint moves on (a bound against a session that keeps failing).
const BURST: usize = 4;

/// What an endpoint is built from.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// The peer connections' settings; its local identity is the node's
    /// Origin-Host and Origin-Realm for every session too.
    pub peer: PeerConfig,
    /// Wall clock for Event-Timestamp.
    pub clock: WallClock,
    /// Settings of prepaid sessions (`None`: none can be opened).
    #[cfg(feature = "prepaid")]
    pub prepaid: Option<PrepaidConfig>,
    /// Settings of postpaid sessions.
    #[cfg(feature = "postpaid")]
    pub postpaid: Option<PostpaidConfig>,
    /// Settings of accounting sessions.
    #[cfg(feature = "accounting")]
    pub accounting: Option<AccountingConfig>,
}

impl EndpointConfig {
    /// Peer settings and clock; no session kind yet.
    pub fn new(peer: PeerConfig, clock: WallClock) -> Self {
        EndpointConfig {
            peer,
            clock,
            #[cfg(feature = "prepaid")]
            prepaid: None,
            #[cfg(feature = "postpaid")]
            postpaid: None,
            #[cfg(feature = "accounting")]
            accounting: None,
        }
    }
}

struct Slot {
    generation: u16,
    session: Option<Session>,
    tx_queued: bool,
    ev_queued: bool,
}

/// A Diameter node: `PEERS` peer connections and `SESSIONS` sessions (a
/// power of two, at least 2). `R` rates credit-control requests when the node serves
/// them, `K` stores accounting records when it serves accounting. Each
/// peer has a transmit buffer of `TX` bytes, the largest message the node
/// sends (4 KiB suits a device; a server sending large answers wants
/// more).
pub struct Endpoint<
    R: Rating + 'static = NoRating,
    K: AccountingSink + 'static = NoSink,
    const PEERS: usize = 2,
    const SESSIONS: usize = 64,
    const TX: usize = 4096,
> {
    shared: Shared<R, K>,
    peer_config: PeerConfig,
    peers: heapless::Vec<PeerSlot<SESSIONS, TX>, PEERS>,
    slots: heapless::Vec<Slot, SESSIONS>,
    free: heapless::Vec<u16, SESSIONS>,
    index: heapless::index_map::FnvIndexMap<u64, u16, SESSIONS>,
    tx_ready: heapless::Deque<u16, SESSIONS>,
    ev_ready: heapless::Deque<u16, SESSIONS>,
    /// Each session's `poll_timeout`, set after every input.
    timers: timers::Timers<SESSIONS>,
    events: heapless::Deque<events::Event, EVENTS>,
    peer_cursor: usize,
    /// A peer had an input since its events were last drained.
    peers_dirty: bool,
    /// A peer had an input since its transmit buffers were last all found
    /// empty.
    peers_tx: bool,
    stats: EndpointStats,
    clock: Monotonic,
}

impl<
        R: Rating + 'static,
        K: AccountingSink + 'static,
        const PEERS: usize,
        const SESSIONS: usize,
        const TX: usize,
    > core::fmt::Debug for Endpoint<R, K, PEERS, SESSIONS, TX>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Endpoint")
            .field("node", &self.shared.node.origin_host)
            .field("peers", &self.peers.len())
            .field("sessions", &self.index.len())
            .finish()
    }
}

impl<const PEERS: usize, const SESSIONS: usize, const TX: usize>
    Endpoint<NoRating, NoSink, PEERS, SESSIONS, TX>
{
    /// An endpoint with no peers and no sessions.
    pub fn new(config: EndpointConfig, now: Instant) -> Self {
        #[cfg(feature = "server")]
        let ep = Self::build(config, now, None, None);
        #[cfg(not(feature = "server"))]
        let ep = Self::build(config, now);
        ep
    }
}

impl<
        R: Rating + 'static,
        K: AccountingSink + 'static,
        const PEERS: usize,
        const SESSIONS: usize,
        const TX: usize,
    > Endpoint<R, K, PEERS, SESSIONS, TX>
{
    /// Serve credit control (RFC 8506): a CCR-Initial naming no session
    /// opens a server session rated by `rating`; a CCR-Event is rated at
    /// once.
    #[cfg(feature = "server")]
    pub fn with_credit_control<R2: Rating + 'static>(
        self,
        config: CcServerConfig,
        rating: R2,
    ) -> Endpoint<R2, K, PEERS, SESSIONS, TX> {
        let mut ep = self.map_shared(|sh| Shared {
            node: sh.node,
            #[cfg(feature = "prepaid")]
            prepaid: sh.prepaid,
            #[cfg(feature = "postpaid")]
            postpaid: sh.postpaid,
            #[cfg(feature = "accounting")]
            accounting: sh.accounting,
            cc_server: None,
            acct_server: sh.acct_server,
        });
        ep.shared.cc_server = Some(CcServer::new(config, rating));
        ep
    }

    /// Serve accounting (RFC 6733 §9): records go to `sink`.
    #[cfg(feature = "server")]
    pub fn with_accounting<K2: AccountingSink + 'static>(
        self,
        config: AccountingServerConfig,
        sink: K2,
    ) -> Endpoint<R, K2, PEERS, SESSIONS, TX> {
        let mut ep = self.map_shared(|sh| Shared {
            node: sh.node,
            #[cfg(feature = "prepaid")]
            prepaid: sh.prepaid,
            #[cfg(feature = "postpaid")]
            postpaid: sh.postpaid,
            #[cfg(feature = "accounting")]
            accounting: sh.accounting,
            cc_server: sh.cc_server,
            acct_server: None,
        });
        ep.shared.acct_server = Some(AccountingServer::new(config, sink));
        ep
    }

    /// An endpoint that serves credit control when `credit_control` is
    /// given and accounting when `accounting` is (as
    /// [`Endpoint::with_credit_control`] and [`Endpoint::with_accounting`]
    /// would), for a caller that knows what it serves only at run time.
    ///
    /// ```
    /// use diameter_cc::endpoint::{Endpoint, EndpointConfig};
    /// use diameter_cc::server::accounting::NoSink;
    /// use diameter_cc::server::credit_control::{Balances, CcServerConfig};
    /// use diameter_cc::session::WallClock;
    /// use diameter_core::peer::{App, LocalIdentity, PeerConfig};
    /// use diameter_core::time::Instant;
    ///
    /// let me = LocalIdentity::new("ocs.example.org", "example.org")?.with_application(App::auth(4))?;
    /// let config = EndpointConfig::new(PeerConfig::new(me, 0), WallClock::new(0));
    /// let rating = Some((CcServerConfig::new(), Balances::<4>::new()));
    /// let ep: Box<Endpoint<Balances<4>, NoSink, 1, 2>> =
    ///     Box::new(Endpoint::new_serving(config, Instant::ZERO, rating, None));
    /// assert!(ep.credit_control_server().is_some() && ep.accounting_server().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "server")]
    pub fn new_serving(
        config: EndpointConfig,
        now: Instant,
        credit_control: Option<(CcServerConfig, R)>,
        accounting: Option<(AccountingServerConfig, K)>,
    ) -> Self {
        Self::build(
            config,
            now,
            credit_control.map(|(c, r)| CcServer::new(c, r)),
            accounting.map(|(c, k)| AccountingServer::new(c, k)),
        )
    }

    /// Every table built once, in place of the result (a second endpoint
    /// moved over would touch its size in memory again: tens of
    /// megabytes at a server's sizes).
    fn build(
        config: EndpointConfig,
        now: Instant,
        #[cfg(feature = "server")] cc_server: Option<CcServer<R>>,
        #[cfg(feature = "server")] acct_server: Option<AccountingServer<K>>,
    ) -> Self {
        let node = Node {
            origin_host: config.peer.local.origin_host.clone(),
            origin_realm: config.peer.local.origin_realm.clone(),
            clock: config.clock,
        };
        let mut slots = heapless::Vec::new();
        let mut free = heapless::Vec::new();
        for i in (0..SESSIONS).rev() {
            let _ = slots.push(Slot {
                generation: 0,
                session: None,
                tx_queued: false,
                ev_queued: false,
            });
            let _ = free.push(i as u16);
        }
        Endpoint {
            shared: Shared {
                node,
                #[cfg(feature = "prepaid")]
                prepaid: config.prepaid,
                #[cfg(feature = "postpaid")]
                postpaid: config.postpaid,
                #[cfg(feature = "accounting")]
                accounting: config.accounting,
                #[cfg(feature = "server")]
                cc_server,
                #[cfg(feature = "server")]
                acct_server,
                #[cfg(not(feature = "server"))]
                servers: core::marker::PhantomData,
            },
            peer_config: config.peer,
            peers: heapless::Vec::new(),
            slots,
            free,
            index: heapless::index_map::FnvIndexMap::new(),
            tx_ready: heapless::Deque::new(),
            ev_ready: heapless::Deque::new(),
            timers: timers::Timers::new(),
            events: heapless::Deque::new(),
            peer_cursor: 0,
            peers_dirty: false,
            peers_tx: false,
            stats: EndpointStats::default(),
            clock: Monotonic::new(now),
        }
    }

    #[cfg(feature = "server")]
    fn map_shared<R2: Rating + 'static, K2: AccountingSink + 'static>(
        self,
        f: impl FnOnce(Shared<R, K>) -> Shared<R2, K2>,
    ) -> Endpoint<R2, K2, PEERS, SESSIONS, TX> {
        Endpoint {
            shared: f(self.shared),
            peer_config: self.peer_config,
            peers: self.peers,
            slots: self.slots,
            free: self.free,
            index: self.index,
            tx_ready: self.tx_ready,
            ev_ready: self.ev_ready,
            timers: self.timers,
            events: self.events,
            peer_cursor: self.peer_cursor,
            peers_dirty: self.peers_dirty,
            peers_tx: self.peers_tx,
            stats: self.stats,
            clock: self.clock,
        }
    }

    // ---- getters ------------------------------------------------------------

    /// The node's identity and clock.
    pub const fn node(&self) -> &Node {
        &self.shared.node
    }
    /// Counters.
    pub const fn stats(&self) -> EndpointStats {
        self.stats
    }
    /// Live sessions.
    pub fn session_count(&self) -> usize {
        self.index.len()
    }
    /// A session, to inspect.
    pub fn session(&self, h: SessionHandle) -> Option<&Session> {
        self.slots
            .get(h.index())
            .filter(|s| s.generation == h.generation)
            .and_then(|s| s.session.as_ref())
    }
    /// The live session with this Session-Id.
    pub fn find_session(&self, session_id: &str) -> Option<SessionHandle> {
        self.find_session_bytes(session_id.as_bytes())
    }

    fn find_session_bytes(&self, session_id: &[u8]) -> Option<SessionHandle> {
        let i = *self.index.get(&fnv(session_id))?;
        let slot = self.slots.get(usize::from(i))?;
        slot.session
            .as_ref()
            .filter(|s| s.session_id().as_bytes() == session_id)
            .map(|_| SessionHandle {
                index: i,
                generation: slot.generation,
            })
    }
    /// A peer machine, to inspect (state, negotiated applications, counters).
    pub fn peer(&self, h: PeerHandle) -> Option<&Peer<SESSIONS, TX>> {
        self.peer_slot(h).map(|p| &p.peer)
    }
    /// Every peer in use.
    pub fn peers(&self) -> impl Iterator<Item = PeerHandle> + '_ {
        self.peers
            .iter()
            .enumerate()
            .filter(|(_, p)| p.in_use)
            .map(|(i, p)| PeerHandle {
                index: i as u16,
                generation: p.generation,
            })
    }
    /// The credit-control server, when the node serves credit control.
    #[cfg(feature = "server")]
    pub fn credit_control_server(&self) -> Option<&CcServer<R>> {
        self.shared.cc_server.as_ref()
    }
    /// The credit-control server, mutably (to top up balances).
    #[cfg(feature = "server")]
    pub fn credit_control_server_mut(&mut self) -> Option<&mut CcServer<R>> {
        self.shared.cc_server.as_mut()
    }
    /// The accounting server, when the node serves accounting.
    #[cfg(feature = "server")]
    pub fn accounting_server(&self) -> Option<&AccountingServer<K>> {
        self.shared.acct_server.as_ref()
    }
    /// The accounting server, mutably.
    #[cfg(feature = "server")]
    pub fn accounting_server_mut(&mut self) -> Option<&mut AccountingServer<K>> {
        self.shared.acct_server.as_mut()
    }

    fn peer_slot(&self, h: PeerHandle) -> Option<&PeerSlot<SESSIONS, TX>> {
        self.peers
            .get(h.index())
            .filter(|p| p.in_use && p.generation == h.generation)
    }

    fn peer_slot_mut(&mut self, h: PeerHandle) -> Option<&mut PeerSlot<SESSIONS, TX>> {
        self.peers
            .get_mut(h.index())
            .filter(|p| p.in_use && p.generation == h.generation)
    }

    // ---- peers ----------------------------------------------------------------

    /// Add a peer connection. An initiator connects when started
    /// ([`Endpoint::start`]: the transport gets [`peer::Event::Connect`]
    /// and knows where to); `realm`: the realm it serves (`None`: any,
    /// the default route). Peers are tried in the order they were added.
    /// `None` when all `PEERS` slots are taken.
    pub fn add_peer(&mut self, role: Role, realm: Option<&str>) -> Option<PeerHandle> {
        let realm = match realm {
            Some(r) => Some(identity_buf("realm", r).ok()?),
            None => None,
        };
        let now = self.clock.get();
        let i = self
            .peers
            .iter()
            .position(|p| !p.in_use)
            .unwrap_or(self.peers.len());
        // Each slot's machine has its own seed (jitter, identifiers).
        let base = self.peer_config.seed;
        self.peer_config.seed = base.wrapping_add((i as u32).wrapping_mul(0x9e37_79b9));
        let config = &self.peer_config;
        let fresh = i == self.peers.len();
        let slot = if fresh {
            // Slots are only taken as peers are added, so that a server
            // sized for many peers leaves the untouched ones alone. With
            // `Peer::new` inlined here, the compiler writes the transmit
            // buffer and the pending table straight into the slot; a copy
            // or two of the `PeerConfig` remains on the stack (4.4 KB
            // for the Cortex-M3 firmware, down from the 18 KB of a whole
            // `Peer` built and moved: BENCHMARKS.md, Stack).
            self.peers
                .resize_with(i + 1, || PeerSlot {
                    peer: Peer::new(config.clone(), role, now),
                    generation: 0,
                    realm: None,
                    in_use: false,
                })
                .ok()
                .and_then(|()| self.peers.get_mut(i))
        } else {
            // In place: a `Peer` is its transmit buffer and more, too big
            // to build on the stack and move into the slot.
            let mut slot = self.peers.get_mut(i);
            if let Some(slot) = slot.as_deref_mut() {
                slot.peer.reset(config, role, now);
                slot.generation = (slot.generation + 1) & 0x7fff;
            }
            slot
        };
        self.peer_config.seed = base;
        let slot = slot?;
        slot.realm = realm;
        slot.in_use = true;
        Some(PeerHandle {
            index: i as u16,
            generation: slot.generation,
        })
    }

    /// The transport accepted a connection: a responder peer takes it (the
    /// peer's CER decides whether it stays, with the allow-lists of the
    /// peer settings). `None`: no free slot, close the connection.
    pub fn accept(&mut self, now: Instant) -> Option<PeerHandle> {
        self.peers_touched();
        let now = self.clock.update(now);
        let h = self.add_peer(Role::Responder, None)?;
        if let Some(p) = self.peer_slot_mut(h) {
            p.peer.handle_connected(now);
        }
        Some(h)
    }

    /// Start every initiator peer: each asks the transport to connect.
    pub fn start(&mut self, now: Instant) {
        self.peers_touched();
        let now = self.clock.update(now);
        for p in self.peers.iter_mut().filter(|p| p.in_use) {
            p.peer.allow_reconnect();
            p.peer.start(now);
        }
    }

    /// The transport connection of `peer` is up (an initiator connected).
    pub fn handle_connected(&mut self, now: Instant, peer: PeerHandle) {
        self.peers_touched();
        let now = self.clock.update(now);
        if let Some(p) = self.peer_slot_mut(peer) {
            p.peer.handle_connected(now);
        }
    }

    /// The transport connection of `peer` closed or failed. Its requests
    /// go back to their sessions (failover); a responder's slot is freed
    /// once its events are polled.
    pub fn handle_disconnected(&mut self, now: Instant, peer: PeerHandle) {
        self.peers_touched();
        let now = self.clock.update(now);
        if let Some(p) = self.peer_slot_mut(peer) {
            p.peer.handle_disconnected(now);
        }
        self.pump(now);
    }

    /// Send DPR with `cause` on `peer` (RFC 6733 §5.4) and close after the
    /// DPA; it does not reconnect until [`Endpoint::start`].
    pub fn disconnect(&mut self, now: Instant, peer: PeerHandle, cause: DisconnectCause) {
        self.peers_touched();
        let now = self.clock.update(now);
        if let Some(p) = self.peer_slot_mut(peer) {
            p.peer.disconnect(now, cause);
        }
        self.pump(now);
    }

    /// DPR on every connection (graceful shutdown).
    pub fn shutdown(&mut self, now: Instant, cause: DisconnectCause) {
        self.peers_touched();
        let now = self.clock.update(now);
        for p in self.peers.iter_mut().filter(|p| p.in_use) {
            p.peer.disconnect(now, cause);
        }
        self.pump(now);
    }

    // ---- the application's own requests ---------------------------------------

    /// Send a request the application encoded itself (any application):
    /// routed like a session's, ids written into `bytes`. Its end comes
    /// back as [`Incoming::Answer`] (or [`Incoming::InvalidAnswer`]) from
    /// [`Endpoint::handle_message`] with `token`, or as
    /// [`peer::Event::RequestTimedOut`] / [`peer::Event::RequestHandedBack`]
    /// from [`Endpoint::poll_event`]. `token` must not exceed
    /// [`MAX_APP_TOKEN`]. Write `bytes` to the returned peer.
    pub fn send_request(
        &mut self,
        now: Instant,
        route: &Route<'_>,
        bytes: &mut [u8],
        token: u64,
        deadline: Instant,
    ) -> Result<PeerHandle, SendError> {
        let now = self.clock.update(now);
        if token > MAX_APP_TOKEN {
            return Err(SendError::NotARequest);
        }
        let i = routing::choose(&self.peers, route).ok_or(SendError::NotOpen)?;
        let slot = self.peers.get_mut(i).ok_or(SendError::NotOpen)?;
        slot.peer.send_request(now, bytes, token, deadline)?;
        Ok(PeerHandle {
            index: i as u16,
            generation: slot.generation,
        })
    }

    /// Send again, through whichever peer can take it now, a request of the
    /// application's that came back as [`peer::Event::RequestHandedBack`]
    /// (or that the application retries after
    /// [`peer::Event::RequestTimedOut`]): it keeps `end_to_end`, the
    /// End-to-End identifier of its first transmission, and goes with the T
    /// flag (RFC 6733 §5.5.4), so the server can recognise a duplicate.
    /// Otherwise as [`Endpoint::send_request`].
    pub fn resend_request(
        &mut self,
        now: Instant,
        route: &Route<'_>,
        bytes: &mut [u8],
        token: u64,
        end_to_end: u32,
        deadline: Instant,
    ) -> Result<PeerHandle, SendError> {
        let Some(h) = bytes.get_mut(..HEADER_LEN) else {
            return Err(SendError::NotARequest);
        };
        let mut hdr = Header::new_unchecked(h);
        hdr.set_end_to_end(end_to_end);
        let flags = hdr.flags();
        hdr.set_flags(flags | CommandFlags::RETRANSMIT);
        self.send_request(now, route, bytes, token, deadline)
    }

    /// Queue an answer to a request [`Endpoint::handle_message`] handed to
    /// the application: `write` encodes it into the peer's transmit buffer
    /// (see [`Peer::queue_answer`]).
    pub fn answer(
        &mut self,
        peer: PeerHandle,
        write: impl FnOnce(&mut [u8]) -> Result<usize, EncodeError>,
    ) -> Result<usize, EncodeError> {
        self.peers_touched();
        let p = self.peer_slot_mut(peer).ok_or(EncodeError::InvalidValue)?;
        p.peer.queue_answer(write)
    }

    // ---- inputs ---------------------------------------------------------------

    /// One complete message from `peer` (framed with
    /// [`diameter_core::RxBuf`]). Everything the endpoint owns is handled
    /// here (base protocol, answers to the sessions' requests, requests for
    /// its sessions and served applications) and reported as
    /// [`Incoming::Handled`]; what it does not own comes back: answers to
    /// the application's own requests, and requests of applications the
    /// node does not serve (answer them with [`Endpoint::answer`]).
    pub fn handle_message<'m>(
        &mut self,
        now: Instant,
        peer: PeerHandle,
        bytes: &'m [u8],
    ) -> Incoming<'m> {
        self.peers_touched();
        let now = self.clock.update(now);
        // The requests a server of this endpoint decodes: validated in the
        // same walk as their typed read (`Ccr::decode`, `Acr::decode`), not
        // by the peer machine first.
        #[cfg(feature = "server")]
        let (cc, acct) = (
            self.shared.cc_server.is_some(),
            self.shared.acct_server.is_some(),
        );
        #[cfg(not(feature = "server"))]
        let (cc, acct) = (false, false);
        let one_pass = move |code| {
            (cc && code == CommandCode::CREDIT_CONTROL) || (acct && code == CommandCode::ACCOUNTING)
        };
        let Some(slot) = self.peer_slot_mut(peer) else {
            return Incoming::Dropped(peer::DropReason::NotOpen);
        };
        let incoming = slot
            .peer
            .handle_message_one_pass(now, bytes, &CreditControl, one_pass);
        let out = match incoming {
            Incoming::Answer { message, token } => match from_token(token) {
                Some((h, request)) => {
                    self.on_answer(now, h, request, Ok(&message));
                    Incoming::Handled
                }
                None => incoming,
            },
            Incoming::InvalidAnswer { token, error } => match from_token(token) {
                Some((h, request)) => {
                    let e2e = Header::new_checked(bytes).ok().map(|h| h.end_to_end());
                    self.on_answer(now, h, request, Err((error, e2e)));
                    Incoming::Handled
                }
                None => incoming,
            },
            Incoming::Request { message, duplicate } => {
                self.on_request(now, peer, message, duplicate)
            }
            Incoming::Dropped(peer::DropReason::UnmatchedAnswer) => {
                self.stats.unmatched_answers = self.stats.unmatched_answers.saturating_add(1);
                incoming
            }
            other => other,
        };
        self.pump(now);
        out
    }

    /// Act on expired timers (peers' watchdogs, reconnects and request
    /// deadlines; the sessions' timers). Call at or after
    /// [`Endpoint::poll_timeout`]; an early call is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.peers_touched();
        let now = self.clock.update(now);
        for p in self.peers.iter_mut().filter(|p| p.in_use) {
            p.peer.handle_timeout(now);
        }
        // Each due session once (a session whose next deadline is again
        // due waits for the next call).
        let mut due = heapless::Vec::<u16, SESSIONS>::new();
        while let Some(i) = self.timers.pop_due(now) {
            let _ = due.push(i);
        }
        for &i in &due {
            if let Some(s) = self
                .slots
                .get_mut(usize::from(i))
                .and_then(|s| s.session.as_mut())
            {
                s.handle_timeout(&mut self.shared, now);
            }
            self.touch(i);
        }
        self.pump(now);
    }

    fn on_answer(
        &mut self,
        now: Instant,
        h: SessionHandle,
        request: u32,
        answer: Result<&Message<'_>, (diameter_core::Error, Option<u32>)>,
    ) {
        let Self { slots, shared, .. } = self;
        let Some(s) = slots
            .get_mut(h.index())
            .filter(|s| s.generation == h.generation)
            .and_then(|s| s.session.as_mut())
        else {
            self.stats.stale_answers = self.stats.stale_answers.saturating_add(1);
            return;
        };
        match answer {
            Ok(m) => s.handle_answer(shared, now, request, m),
            Err((e, end_to_end)) => {
                let failed = RequestFailed {
                    request,
                    failure: Failure::InvalidAnswer(e),
                    end_to_end,
                };
                s.handle_request_failed(shared, now, failed);
            }
        }
        self.touch(h.index);
    }

    /// A request from `peer`: validated, or (a CCR or ACR for a server of
    /// this endpoint) to be validated by its typed decode.
    fn on_request<'m>(
        &mut self,
        now: Instant,
        peer: PeerHandle,
        message: Message<'m>,
        duplicate: bool,
    ) -> Incoming<'m> {
        let owner = message
            .session_id_bytes()
            .and_then(|sid| self.find_session_bytes(sid));
        let code = message.command_code();
        let Some(pi) = self.peer_slot(peer).map(|_| peer.index()) else {
            return Incoming::Dropped(peer::DropReason::NotOpen);
        };
        if let Some(h) = owner {
            let Self {
                peers,
                slots,
                shared,
                ..
            } = self;
            if let (Some(p), Some(s)) = (
                peers.get_mut(pi),
                slots.get_mut(h.index()).and_then(|s| s.session.as_mut()),
            ) {
                let _ = p
                    .peer
                    .queue_answer(|buf| s.handle_request(shared, now, &message, duplicate, buf));
            }
            self.touch(h.index);
            return Incoming::Handled;
        }
        #[cfg(feature = "server")]
        if code == CommandCode::CREDIT_CONTROL && self.shared.cc_server.is_some() {
            self.new_cc_session(now, pi, &message);
            return Incoming::Handled;
        } else if code == CommandCode::ACCOUNTING && self.shared.acct_server.is_some() {
            self.new_acct_session(now, pi, &message);
            return Incoming::Handled;
        }
        if code == CommandCode::RE_AUTH || code == CommandCode::ABORT_SESSION {
            self.refuse(pi, &message, ResultCode::UNKNOWN_SESSION_ID);
            Incoming::Handled
        } else {
            Incoming::Request { message, duplicate }
        }
    }

    /// Answer the invalid request `message` from peer slot `pi` with the
    /// error answer of `error` (RFC 6733 §7.1), as its peer machine answers
    /// the requests it validates.
    #[cfg(feature = "server")]
    fn reject(&mut self, pi: usize, message: &Message<'_>, error: diameter_core::Error) {
        if let Some(p) = self.peers.get_mut(pi) {
            p.peer
                .reject_request(message.as_bytes(), error, &CreditControl);
        }
    }

    /// Answer `message` from peer slot `pi` with `result` only.
    fn refuse(&mut self, pi: usize, message: &Message<'_>, result: ResultCode) {
        if result == ResultCode::UNKNOWN_SESSION_ID {
            self.stats.unknown_sessions = self.stats.unknown_sessions.saturating_add(1);
        } else if result == ResultCode::TOO_BUSY {
            self.stats.busy = self.stats.busy.saturating_add(1);
        }
        let node = &self.shared.node;
        let me = Identity {
            origin_host: node.origin_host.as_str(),
            origin_realm: node.origin_realm.as_str(),
        };
        if let Some(p) = self.peers.get_mut(pi) {
            let _ = p.peer.queue_answer(|buf| {
                result_answer(message, result, &me, buf)
                    .finish()
                    .map(<[u8]>::len)
            });
        }
    }

    #[cfg(feature = "server")]
    fn new_cc_session(&mut self, now: Instant, pi: usize, message: &Message<'_>) {
        let ccr = match Ccr::decode(message) {
            Ok(c) => c,
            Err(e) => return self.reject(pi, message, e),
        };
        let needs_slot = ccr.cc_request_type == crate::dict::CcRequestType::Initial;
        if needs_slot && self.free.is_empty() {
            self.stats.busy = self.stats.busy.saturating_add(1);
            let Self { peers, shared, .. } = self;
            if let (Some(p), Some(srv)) = (peers.get_mut(pi), shared.cc_server.as_mut()) {
                let _ = p.peer.queue_answer(|buf| {
                    srv.refuse(&shared.node, message, ResultCode::TOO_BUSY, buf)
                });
            }
            return;
        }
        let mut opened = None;
        {
            let Self { peers, shared, .. } = self;
            if let (Some(p), Some(srv)) = (peers.get_mut(pi), shared.cc_server.as_mut()) {
                let _ = p.peer.queue_answer(|buf| {
                    let (s, len) = srv.handle_new(&shared.node, now, message, &ccr, buf);
                    opened = s;
                    len
                });
            }
        }
        if let Some(s) = opened {
            if ccr.cc_request_type == crate::dict::CcRequestType::Event {
                return;
            }
            if self.insert(Session::CreditControlServer(s)).is_err() {
                self.stats.busy = self.stats.busy.saturating_add(1);
            }
        } else if ccr.cc_request_type != crate::dict::CcRequestType::Initial
            && ccr.cc_request_type != crate::dict::CcRequestType::Event
        {
            self.stats.unknown_sessions = self.stats.unknown_sessions.saturating_add(1);
        }
    }

    #[cfg(feature = "server")]
    fn new_acct_session(&mut self, now: Instant, pi: usize, message: &Message<'_>) {
        let acr = match Acr::decode(message) {
            Ok(a) => a,
            Err(e) => {
                if let Some(srv) = self.shared.acct_server.as_mut() {
                    srv.rejected();
                }
                return self.reject(pi, message, e);
            }
        };
        let event = acr.accounting_record_type
            == diameter_core::dict::base::AccountingRecordType::EventRecord;
        if !event && self.free.is_empty() {
            self.stats.busy = self.stats.busy.saturating_add(1);
            let Self { peers, shared, .. } = self;
            if let (Some(p), Some(srv)) = (peers.get_mut(pi), shared.acct_server.as_mut()) {
                let _ = p.peer.queue_answer(|buf| {
                    srv.refuse(&shared.node, message, ResultCode::TOO_BUSY, buf)
                });
            }
            return;
        }
        let mut opened = None;
        {
            let Self { peers, shared, .. } = self;
            if let (Some(p), Some(srv)) = (peers.get_mut(pi), shared.acct_server.as_mut()) {
                let _ = p.peer.queue_answer(|buf| {
                    let (s, len) = srv.handle_new(&shared.node, now, message, &acr, buf);
                    opened = s;
                    len
                });
            }
        }
        if let Some(s) = opened {
            let _ = self.insert(Session::AccountingServer(s));
        }
    }

    // ---- the session table ------------------------------------------------------

    /// Put a new session in a free slot.
    #[cfg_attr(
        not(any(
            feature = "prepaid",
            feature = "postpaid",
            feature = "accounting",
            feature = "server"
        )),
        allow(dead_code)
    )]
    fn insert(&mut self, session: Session) -> Result<SessionHandle, OpenError> {
        let key = fnv(session.session_id().as_bytes());
        if self.index.contains_key(&key) {
            return Err(OpenError::DuplicateSessionId);
        }
        let i = *self.free.last().ok_or(OpenError::TableFull)?;
        if self.index.insert(key, i).is_err() {
            return Err(OpenError::TableFull);
        }
        let _ = self.free.pop();
        #[cfg(feature = "server")]
        let kind = session.kind();
        let slot = self
            .slots
            .get_mut(usize::from(i))
            .ok_or(OpenError::TableFull)?;
        slot.session = Some(session);
        let h = SessionHandle {
            index: i,
            generation: slot.generation,
        };
        self.touch(i);
        #[cfg(feature = "server")]
        if matches!(
            kind,
            SessionKind::CreditControlServer | SessionKind::AccountingServer
        ) {
            // Reported before the session's own events.
            let e = events::Event::Session {
                session: h,
                event: SessionEvent::Opened(kind),
            };
            let _ = self.events.push_back(e);
        }
        Ok(h)
    }

    /// Free a closed session's slot.
    fn remove(&mut self, i: u16) {
        let Some(slot) = self.slots.get_mut(usize::from(i)) else {
            return;
        };
        // Dropped in place: a session is too big to move out for nothing.
        if let Some(key) = slot
            .session
            .as_ref()
            .map(|s| fnv(s.session_id().as_bytes()))
        {
            slot.session = None;
            if self.index.get(&key) == Some(&i) {
                let _ = self.index.swap_remove(&key);
            }
        }
        slot.generation = (slot.generation + 1) & 0x7fff;
        self.timers.set(i, None);
        // `tx_queued` / `ev_queued` are kept: they describe queue entries
        // that are still there.
        let _ = self.free.push(i);
    }

    /// Session `i` had an input: its outputs may have changed.
    fn touch(&mut self, i: u16) {
        let Some(slot) = self.slots.get_mut(usize::from(i)) else {
            return;
        };
        self.timers
            .set(i, slot.session.as_ref().and_then(Session::poll_timeout));
        if !slot.tx_queued && self.tx_ready.push_back(i).is_ok() {
            slot.tx_queued = true;
        }
        if !slot.ev_queued && self.ev_ready.push_back(i).is_ok() {
            slot.ev_queued = true;
        }
    }

    /// Drain the peers' events: a session's request that timed out or was
    /// handed back goes to its session; everything else is queued for the
    /// application (while there is room: the rest waits in the peer).
    /// A peer is about to have an input: it may have events and bytes.
    fn peers_touched(&mut self) {
        self.peers_dirty = true;
        self.peers_tx = true;
    }

    fn pump(&mut self, now: Instant) {
        if !self.peers_dirty {
            return;
        }
        for pi in 0..self.peers.len() {
            loop {
                if self.events.is_full() {
                    // The rest waits in the peer: still dirty.
                    return;
                }
                let Some(slot) = self.peers.get_mut(pi) else {
                    break;
                };
                if !slot.in_use {
                    break;
                }
                let Some(e) = slot.peer.poll_event(now) else {
                    // A responder's slot is given back once its connection
                    // is gone and everything about it was reported.
                    if slot.role() == Role::Responder
                        && slot.peer.state() == peer::PeerState::Closed
                        && slot.peer.pending_len() == 0
                    {
                        slot.in_use = false;
                    }
                    break;
                };
                let handle = PeerHandle {
                    index: pi as u16,
                    generation: slot.generation,
                };
                let (token, end_to_end, timed_out) = match e {
                    peer::Event::RequestTimedOut { token, end_to_end } => (token, end_to_end, true),
                    peer::Event::RequestHandedBack { token, end_to_end } => {
                        (token, end_to_end, false)
                    }
                    other => {
                        let _ = self.events.push_back(events::Event::Peer {
                            peer: handle,
                            event: other,
                        });
                        continue;
                    }
                };
                let Some((h, request)) = from_token(token) else {
                    let _ = self.events.push_back(events::Event::Peer {
                        peer: handle,
                        event: e,
                    });
                    continue;
                };
                self.request_ended(now, h, request, end_to_end, timed_out);
            }
        }
        self.peers_dirty = false;
    }

    fn request_ended(
        &mut self,
        now: Instant,
        h: SessionHandle,
        request: u32,
        end_to_end: u32,
        timed_out: bool,
    ) {
        let Self {
            slots,
            shared,
            peers,
            stats,
            ..
        } = self;
        let Some(s) = slots
            .get_mut(h.index())
            .filter(|s| s.generation == h.generation)
            .and_then(|s| s.session.as_mut())
        else {
            return;
        };
        let failure = if timed_out {
            Failure::TimedOut
        } else {
            let alternative = s
                .route(shared)
                .is_some_and(|r| routing::choose(peers, &r).is_some());
            if alternative {
                stats.failovers = stats.failovers.saturating_add(1);
                Failure::HandedBack
            } else {
                stats.unreachable = stats.unreachable.saturating_add(1);
                Failure::Unreachable
            }
        };
        let failed = RequestFailed {
            request,
            failure,
            end_to_end: Some(end_to_end),
        };
        s.handle_request_failed(shared, now, failed);
        self.touch(h.index);
    }

    // ---- outputs ----------------------------------------------------------------

    /// The next event: peers' first (transport commands, state), then the
    /// sessions' in the order they had input, then the servers'. A session's
    /// last event is [`SessionEvent::Closed`], after which its handle is
    /// invalid.
    #[must_use]
    pub fn poll_event(&mut self, now: Instant) -> Option<events::Event> {
        let now = self.clock.update(now);
        self.pump(now);
        if let Some(e) = self.events.pop_front() {
            return Some(e);
        }
        while let Some(&i) = self.ev_ready.front() {
            let Some(slot) = self.slots.get_mut(usize::from(i)) else {
                let _ = self.ev_ready.pop_front();
                continue;
            };
            let h = SessionHandle {
                index: i,
                generation: slot.generation,
            };
            let Some(s) = slot.session.as_mut() else {
                slot.ev_queued = false;
                let _ = self.ev_ready.pop_front();
                continue;
            };
            if let Some(event) = s.poll_event() {
                return Some(events::Event::Session { session: h, event });
            }
            let closed = s.is_closed();
            slot.ev_queued = false;
            let _ = self.ev_ready.pop_front();
            if closed {
                // A closed session sends nothing more: free it now. If it
                // is still queued for transmit, the queue entry stays (with
                // the slot's flag) and serves whoever takes the slot next.
                self.remove(i);
                return Some(events::Event::Session {
                    session: h,
                    event: SessionEvent::Closed,
                });
            }
        }
        #[cfg(feature = "server")]
        if let Some(e) = self.shared.cc_server.as_mut().and_then(|s| s.poll_event()) {
            return Some(events::Event::CreditControlServer(e));
        }
        #[cfg(feature = "server")]
        if let Some(e) = self
            .shared
            .acct_server
            .as_mut()
            .and_then(|s| s.poll_event())
        {
            return Some(events::Event::AccountingServer(e));
        }
        None
    }

    /// Write the next bytes to send into `buf` (at least as large as the
    /// largest message, 4 KiB is plenty for credit control) and say which
    /// connection they go to: the peers' own bytes first (whole messages,
    /// as many as fit), then one session request at a time.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Outgoing> {
        let now = self.clock.update(now);
        self.pump(now);
        if self.peers_tx {
            if let Some(o) = self.peer_transmit(buf) {
                return Some(o);
            }
            self.peers_tx = false;
        }
        while let Some(&i) = self.tx_ready.front() {
            for _ in 0..BURST {
                match self.session_transmit(now, i, buf) {
                    Step::Sent(o) => return Some(o),
                    Step::Again => continue,
                    Step::Done => break,
                }
            }
            let _ = self.tx_ready.pop_front();
            if let Some(slot) = self.slots.get_mut(usize::from(i)) {
                slot.tx_queued = false;
                // Its events (after failures handled here) and closing.
                if !slot.ev_queued && self.ev_ready.push_back(i).is_ok() {
                    slot.ev_queued = true;
                }
                self.timers
                    .set(i, slot.session.as_ref().and_then(Session::poll_timeout));
            }
        }
        None
    }

    /// The peers' own bytes, round robin.
    fn peer_transmit(&mut self, buf: &mut [u8]) -> Option<Outgoing> {
        let n = self.peers.len();
        for k in 0..n {
            let mut pi = self.peer_cursor + k;
            if pi >= n {
                pi -= n;
            }
            let Some(slot) = self.peers.get_mut(pi) else {
                continue;
            };
            if !slot.in_use {
                continue;
            }
            let pending = slot.peer.transmit();
            let len = whole_messages(pending, buf.len());
            if len == 0 {
                continue;
            }
            buf[..len].copy_from_slice(&pending[..len]);
            slot.peer.transmitted(len);
            self.peer_cursor = if pi + 1 >= n { 0 } else { pi + 1 };
            return Some(Outgoing {
                peer: PeerHandle {
                    index: pi as u16,
                    generation: slot.generation,
                },
                len,
            });
        }
        None
    }

    /// One request of session `i`.
    fn session_transmit(&mut self, now: Instant, i: u16, buf: &mut [u8]) -> Step {
        let Self {
            slots,
            shared,
            peers,
            stats,
            ..
        } = self;
        let Some(slot) = slots.get_mut(usize::from(i)) else {
            return Step::Done;
        };
        let h = SessionHandle {
            index: i,
            generation: slot.generation,
        };
        let Some(s) = slot.session.as_mut() else {
            return Step::Done;
        };
        let t = match s.poll_transmit(shared, now, buf) {
            None => return Step::Done,
            Some(Err(_)) => {
                // The session handled it as a failure to send.
                stats.encode_errors = stats.encode_errors.saturating_add(1);
                return Step::Again;
            }
            Some(Ok(t)) => t,
        };
        let bytes = match buf.get_mut(..t.len) {
            Some(b) if t.len >= HEADER_LEN => b,
            _ => return Step::Again,
        };
        if let Some(e2e) = t.end_to_end {
            // A retransmission: the first attempt's End-to-End id and the
            // T flag (RFC 6733 §5.5.4).
            let mut hdr = Header::new_unchecked(&mut bytes[..HEADER_LEN]);
            hdr.set_end_to_end(e2e);
            let flags = hdr.flags();
            hdr.set_flags(flags | CommandFlags::RETRANSMIT);
        }
        let chosen = s.route(shared).and_then(|r| routing::choose(peers, &r));
        let sent = chosen.and_then(|pi| {
            let p = peers.get_mut(pi)?;
            p.peer
                .send_request(now, bytes, session_token(h, t.request), t.deadline)
                .ok()
                .map(|_| PeerHandle {
                    index: pi as u16,
                    generation: p.generation,
                })
        });
        match sent {
            Some(peer) => Step::Sent(Outgoing { peer, len: t.len }),
            None => {
                stats.unreachable = stats.unreachable.saturating_add(1);
                let failed = RequestFailed {
                    request: t.request,
                    failure: Failure::Unreachable,
                    end_to_end: t.end_to_end,
                };
                s.handle_request_failed(shared, now, failed);
                Step::Again
            }
        }
    }

    /// The earliest time [`Endpoint::handle_timeout`] must run.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t = None;
        for p in self.peers.iter().filter(|p| p.in_use) {
            t = earliest(t, p.peer.poll_timeout());
        }
        earliest(t, self.timers.next())
    }
}

enum Step {
    Sent(Outgoing),
    Again,
    Done,
}

/// How many bytes of `pending` (whole messages) fit in `room` bytes; when
/// not even one does, as much as fits (a byte stream may be cut anywhere).
fn whole_messages(pending: &[u8], room: usize) -> usize {
    let mut len = 0;
    while let Some(rest) = pending.get(len..) {
        let Some(l) = rest
            .get(1..4)
            .map(|b| u32::from_be_bytes([0, b[0], b[1], b[2]]) as usize)
        else {
            break;
        };
        if l < HEADER_LEN || len + l > room || len + l > pending.len() {
            break;
        }
        len += l;
    }
    if len == 0 {
        pending.len().min(room)
    } else {
        len
    }
}
