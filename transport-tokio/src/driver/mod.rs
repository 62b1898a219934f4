//! The node's thread: it owns the endpoint and follows its driving
//! contract (inputs, then `poll_event`, `poll_transmit`, `poll_timeout`),
//! and nothing else. Connections are tasks on the application's runtime
//! that only move bytes ([`conn`]); handles talk to the thread through
//! [`Command`]s.
//!
//! The thread exists so that the endpoint (its tables are fixed at compile
//! time and may be tens of megabytes) is built where it lives, on a stack
//! sized for it, and so that a rating engine or record sink that blocks
//! (a database commit before the answer leaves) never stalls the
//! application's runtime.

pub(crate) mod conn;
pub(crate) mod ep;
mod requests;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use diameter_cc::client::accounting::CallInfo;
use diameter_cc::client::Parties;
use diameter_cc::endpoint::{CallError, Event, OpenError, PeerHandle, SessionEvent, SessionHandle};
use diameter_core::dict::base::{DisconnectCause, TerminationCause};
use diameter_core::peer::{self, DownReason, Incoming};
use diameter_core::time::Instant;
use diameter_core::ResultCode;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::config::{Limits, Target};
use crate::handler::{build_answer, Handler, IncomingRequest, Responder};
use crate::request::{Answer, RequestError};
use crate::stats::{Counters, Direction, NodeEvent};
use conn::{BoxStream, CloseReason, ConnId, WriterMsg};
use ep::{Ep, PeerStatus};

/// Inputs from the connection tasks and listeners.
pub(crate) enum Input {
    /// An outgoing connection is up.
    Connected {
        conn: ConnId,
        stream: BoxStream,
        remote: SocketAddr,
    },
    /// An outgoing connection could not be made.
    ConnectFailed { conn: ConnId, error: String },
    /// A listener accepted a connection (TLS already accepted).
    Accepted {
        stream: BoxStream,
        remote: SocketAddr,
    },
    /// An accepted connection's TLS handshake failed.
    HandshakeFailed { remote: SocketAddr, error: String },
    /// Whole messages read from a connection; the permit goes back to
    /// the connection's reader once they are handled.
    Messages {
        conn: ConnId,
        bytes: Vec<u8>,
        _permit: tokio::sync::OwnedSemaphorePermit,
    },
    /// A connection ended.
    Closed { conn: ConnId, reason: CloseReason },
}

/// Where the answer to a request given to a handler goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InboundSlot {
    pub conn: ConnId,
}

/// A session to open.
pub(crate) enum Open {
    Prepaid {
        session_id: String,
        parties: Box<Parties>,
    },
    Postpaid {
        session_id: String,
        parties: Box<Parties>,
    },
    Accounting {
        info: Box<CallInfo>,
    },
}

/// A call on a client session.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CallOp {
    Setup,
    Answered,
    Ended(TerminationCause),
    AccountEvent,
    DropEvent,
}

/// A call on a server session.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ServerOp {
    Abort,
    Reauthorize,
}

pub(crate) type Opened = (SessionHandle, mpsc::UnboundedReceiver<SessionEvent>);

/// What handles ask of the node's thread.
pub(crate) enum Command {
    Request {
        bytes: Vec<u8>,
        timeout: Duration,
        reply: oneshot::Sender<Result<Answer, RequestError>>,
    },
    Answer {
        slot: InboundSlot,
        bytes: Vec<u8>,
    },
    Open {
        open: Open,
        reply: oneshot::Sender<Result<Opened, OpenError>>,
    },
    Call {
        session: SessionHandle,
        op: CallOp,
        reply: oneshot::Sender<Result<bool, CallError>>,
    },
    /// A [`crate::Call`] was dropped: end its session with `end` if given,
    /// and stop sending it events.
    Release {
        session: SessionHandle,
        end: Option<TerminationCause>,
    },
    Server {
        session_id: String,
        op: ServerOp,
        reply: oneshot::Sender<Result<bool, CallError>>,
    },
    Peers {
        reply: oneshot::Sender<Vec<PeerStatus>>,
    },
    Shutdown {
        cause: DisconnectCause,
        grace: Duration,
        reply: Option<oneshot::Sender<()>>,
    },
}

/// What the handles and the thread share.
pub(crate) struct Shared {
    pub counters: Counters,
    pub events: broadcast::Sender<NodeEvent>,
    pub status: watch::Sender<Status>,
    pub identity: Arc<(String, String)>,
}

/// Connection state the handles can wait on ([`crate::Node::wait_open`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Status {
    /// Peers open now.
    pub open: usize,
    /// Per target, in order: attempts made and the last failure.
    pub targets: Vec<TargetStatus>,
    /// The node stopped.
    pub stopped: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct TargetStatus {
    pub addr: SocketAddr,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// Called with every message in and out, on the node's thread.
pub type Tap = Arc<dyn Fn(Direction, Option<SocketAddr>, &[u8]) + Send + Sync>;

/// How a connection is opened: plain TCP or TLS.
#[derive(Clone, Default)]
pub(crate) struct Connector {
    #[cfg(feature = "tls")]
    pub tls: Option<tokio_rustls::TlsConnector>,
}

struct Conn {
    serial: u64,
    tx: mpsc::UnboundedSender<WriterMsg>,
    queued: Arc<std::sync::atomic::AtomicUsize>,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
    out: Vec<u8>,
    close: bool,
    close_sent: bool,
    remote: Option<SocketAddr>,
    in_flight: usize,
}

struct TargetSlot {
    target: Target,
    index: usize,
    connected_before: bool,
}

struct Stopping {
    deadline: tokio::time::Instant,
    replies: Vec<oneshot::Sender<()>>,
}

/// Everything the node's thread keeps besides the endpoint.
pub(crate) struct Driver {
    origin: tokio::time::Instant,
    /// The node's clock runs this many times faster than real time.
    speed: u32,
    rt: tokio::runtime::Handle,
    inputs_tx: mpsc::Sender<Input>,
    inputs: mpsc::Receiver<Input>,
    commands_tx: mpsc::UnboundedSender<Command>,
    commands: mpsc::UnboundedReceiver<Command>,
    shared: Arc<Shared>,
    limits: Limits,
    connector: Connector,
    targets: HashMap<PeerHandle, TargetSlot>,
    conns: HashMap<PeerHandle, Conn>,
    connecting: HashMap<PeerHandle, (u64, JoinHandle<()>)>,
    /// Peers open now (Up seen, Down not yet).
    up: HashSet<PeerHandle>,
    /// Targets whose connection closed before the capabilities exchange
    /// ended: why, for [`crate::Node::wait_open`] when the peer goes down.
    closed_early: HashMap<PeerHandle, String>,
    next_serial: u64,
    requests: requests::Requests,
    sessions: HashMap<SessionHandle, mpsc::UnboundedSender<SessionEvent>>,
    server_sessions: HashMap<SessionHandle, String>,
    handlers: HashMap<u32, Arc<dyn Handler>>,
    any_handler: Option<Arc<dyn Handler>>,
    tap: Option<Tap>,
    listeners: Vec<JoinHandle<()>>,
    stopping: Option<Stopping>,
    buf: Vec<u8>,
    /// Messages handled in this turn of the loop.
    handled: usize,
}

/// How a driver is set up ([`crate::Builder`] fills it in).
pub(crate) struct Setup {
    pub rt: tokio::runtime::Handle,
    pub inputs_tx: mpsc::Sender<Input>,
    pub inputs: mpsc::Receiver<Input>,
    pub commands_tx: mpsc::UnboundedSender<Command>,
    pub commands: mpsc::UnboundedReceiver<Command>,
    pub shared: Arc<Shared>,
    pub limits: Limits,
    pub connector: Connector,
    pub targets: Vec<Target>,
    pub handlers: HashMap<u32, Arc<dyn Handler>>,
    pub any_handler: Option<Arc<dyn Handler>>,
    pub tap: Option<Tap>,
    pub listeners: Vec<JoinHandle<()>>,
    pub speed: u32,
}

/// How many inputs or commands (or messages) are taken in one turn, before
/// the outputs are flushed and the timers looked at.
const BATCH: usize = 64;

/// Grace given to peers when every handle is gone.
pub(crate) const DROP_GRACE: Duration = Duration::from_secs(5);

enum Wake {
    Input(Option<Input>),
    Command(Option<Command>),
    Timer,
}

impl Driver {
    /// A driver for `ep`; the peers to connect to are added to it.
    pub(crate) fn new(setup: Setup, ep: &mut dyn Ep) -> Self {
        let mut targets = HashMap::new();
        for (index, target) in setup.targets.into_iter().enumerate() {
            match ep.add_peer(peer::Role::Initiator, target.realm.as_deref()) {
                Some(h) => {
                    targets.insert(
                        h,
                        TargetSlot {
                            target,
                            index,
                            connected_before: false,
                        },
                    );
                }
                None => tracing::error!(addr = %target.addr, "no peer slot left for this target"),
            }
        }
        Driver {
            origin: tokio::time::Instant::now(),
            speed: setup.speed.max(1),
            rt: setup.rt,
            inputs_tx: setup.inputs_tx,
            inputs: setup.inputs,
            commands_tx: setup.commands_tx,
            commands: setup.commands,
            shared: setup.shared,
            limits: setup.limits,
            connector: setup.connector,
            targets,
            conns: HashMap::new(),
            connecting: HashMap::new(),
            up: HashSet::new(),
            closed_early: HashMap::new(),
            next_serial: 0,
            requests: requests::Requests::default(),
            sessions: HashMap::new(),
            server_sessions: HashMap::new(),
            handlers: setup.handlers,
            any_handler: setup.any_handler,
            tap: setup.tap,
            listeners: setup.listeners,
            stopping: None,
            buf: vec![0; 65_536],
            handled: 0,
        }
    }

    fn now(&self) -> Instant {
        let us = self.origin.elapsed().as_micros() as u64;
        Instant(us.saturating_mul(u64::from(self.speed)) / 1000)
    }

    fn at(&self, t: Instant) -> tokio::time::Instant {
        // Rounded up, so that a wake-up never comes before the deadline.
        let us = t.0.saturating_mul(1000).div_ceil(u64::from(self.speed));
        self.origin + Duration::from_micros(us)
    }

    /// Run until shut down.
    pub(crate) async fn run(mut self, ep: &mut dyn Ep) {
        let now = self.now();
        ep.start(now);
        let mut commands_open = true;
        loop {
            self.settle(ep);
            self.flush(ep);
            if self.finished(ep) {
                break;
            }
            let deadline = [
                ep.poll_timeout().map(|t| self.at(t)),
                self.requests.next_deadline().map(|t| self.at(t)),
                self.stopping.as_ref().map(|s| s.deadline),
            ]
            .into_iter()
            .flatten()
            .min();
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            // Not biased: under a steady stream of input (a flood, an
            // overload) the timers (watchdogs, request deadlines) and the
            // commands (handlers' answers, the application's requests)
            // must still get their turn.
            let wake = tokio::select! {
                i = self.inputs.recv() => Wake::Input(i),
                c = self.commands.recv(), if commands_open => Wake::Command(c),
                () = sleep => Wake::Timer,
            };
            match wake {
                Wake::Input(Some(i)) => {
                    // Up to BATCH inputs, or BATCH messages, whichever
                    // comes first: one input of a busy peer holds a whole
                    // read (hundreds of messages), and the answers of a
                    // turn only leave at its end (flush).
                    self.handled = 0;
                    self.on_input(ep, i);
                    self.settle(ep);
                    for _ in 0..BATCH {
                        if self.handled >= BATCH {
                            break;
                        }
                        match self.inputs.try_recv() {
                            Ok(i) => {
                                self.on_input(ep, i);
                                self.settle(ep);
                            }
                            Err(_) => break,
                        }
                    }
                }
                // The driver holds a sender itself: never closed.
                Wake::Input(None) => {}
                Wake::Command(Some(c)) => {
                    // Outputs after every command: answers go through the
                    // peer's transmit buffer, which is drained each time.
                    self.on_command(ep, c);
                    self.settle(ep);
                    for _ in 0..BATCH {
                        match self.commands.try_recv() {
                            Ok(c) => {
                                self.on_command(ep, c);
                                self.settle(ep);
                            }
                            Err(_) => break,
                        }
                    }
                }
                Wake::Command(None) => commands_open = false,
                Wake::Timer => {
                    let now = self.now();
                    ep.handle_timeout(now);
                    self.expire_requests(now);
                    if self
                        .stopping
                        .as_ref()
                        .is_some_and(|s| tokio::time::Instant::now() >= s.deadline)
                    {
                        self.force_close(ep);
                    }
                }
            }
        }
        self.stop();
    }

    // ---- outputs --------------------------------------------------------------

    /// Poll events, then transmits, until the endpoint is quiet.
    fn settle(&mut self, ep: &mut dyn Ep) {
        loop {
            let mut progress = false;
            let now = self.now();
            while let Some(e) = ep.poll_event(now) {
                progress = true;
                self.on_event(ep, e);
            }
            while let Some(o) = ep.poll_transmit(now, &mut self.buf) {
                progress = true;
                let bytes = &self.buf[..o.len];
                let remote = self.conns.get(&o.peer).and_then(|c| c.remote);
                self.count_out(remote, bytes);
                match self.conns.get_mut(&o.peer) {
                    Some(c) => c.out.extend_from_slice(bytes),
                    None => tracing::debug!(peer = o.peer.index(), "bytes for a closed connection"),
                }
            }
            if !progress {
                return;
            }
        }
    }

    fn count_out(&self, remote: Option<SocketAddr>, mut bytes: &[u8]) {
        Counters::add(&self.shared.counters.bytes_out, bytes.len() as u64);
        while bytes.len() >= 4 {
            let len = u32::from_be_bytes([0, bytes[1], bytes[2], bytes[3]]) as usize;
            if len < 20 || len > bytes.len() {
                break;
            }
            Counters::add(&self.shared.counters.messages_out, 1);
            // R and T: a request sent again.
            if bytes[4] & 0x90 == 0x90 {
                Counters::add(&self.shared.counters.retransmissions, 1);
            }
            if let Some(tap) = &self.tap {
                tap(Direction::Out, remote, &bytes[..len]);
            }
            bytes = &bytes[len..];
        }
    }

    /// Hand what each connection has to its writer; close those asked to.
    fn flush(&mut self, ep: &mut dyn Ep) {
        let mut broken = Vec::new();
        for (peer, c) in &mut self.conns {
            if !c.out.is_empty() {
                let out = std::mem::take(&mut c.out);
                let queued = c.queued.fetch_add(out.len(), Ordering::Relaxed) + out.len();
                if queued > self.limits.max_queued_bytes {
                    broken.push((*peer, format!("{queued} bytes queued and not read")));
                    continue;
                }
                let _ = c.tx.send(WriterMsg::Data(out));
            }
            if c.close && !c.close_sent {
                c.close_sent = true;
                let _ = c.tx.send(WriterMsg::Close);
            }
        }
        for (peer, what) in broken {
            self.drop_conn(ep, peer, CloseReason::Limit(what));
        }
    }

    fn on_event(&mut self, ep: &mut dyn Ep, e: Event) {
        match e {
            Event::Peer { peer, event } => self.on_peer_event(ep, peer, event),
            Event::Session { session, event } => self.on_session_event(ep, session, event),
            Event::CreditControlServer(e) => {
                let _ = self.shared.events.send(NodeEvent::CreditControlServer(e));
            }
            Event::AccountingServer(e) => {
                let _ = self.shared.events.send(NodeEvent::AccountingServer(e));
            }
            other => tracing::debug!(?other, "endpoint event"),
        }
    }

    fn on_peer_event(&mut self, ep: &mut dyn Ep, peer: PeerHandle, event: peer::Event) {
        match event {
            peer::Event::Connect => self.connect(peer),
            peer::Event::Close => {
                if let Some(c) = self.conns.get_mut(&peer) {
                    c.close = true;
                } else if let Some((_, task)) = self.connecting.remove(&peer) {
                    task.abort();
                    let now = self.now();
                    ep.handle_disconnected(now, peer);
                } else {
                    let now = self.now();
                    ep.handle_disconnected(now, peer);
                }
            }
            peer::Event::Up => {
                let host = ep.peer_host(peer).unwrap_or_default();
                let addr = self.conns.get(&peer).and_then(|c| c.remote);
                tracing::info!(peer = peer.index(), %host, ?addr, "peer open");
                self.up.insert(peer);
                self.closed_early.remove(&peer);
                self.shared.status.send_modify(|s| s.open += 1);
                let _ = self
                    .shared
                    .events
                    .send(NodeEvent::PeerUp { peer, host, addr });
                self.retry_parked(ep);
            }
            peer::Event::Down(reason) => {
                tracing::info!(peer = peer.index(), %reason, "peer down");
                self.peer_down(peer, reason);
                let _ = self
                    .shared
                    .events
                    .send(NodeEvent::PeerDown { peer, reason });
            }
            peer::Event::Suspect => {
                let _ = self.shared.events.send(NodeEvent::PeerSuspect { peer });
            }
            peer::Event::Failback => {
                let _ = self.shared.events.send(NodeEvent::PeerFailback { peer });
                self.retry_parked(ep);
            }
            peer::Event::RequestTimedOut { token, .. } => {
                Counters::add(&self.shared.counters.timeouts, 1);
                self.requests.finish(token, Err(RequestError::Timeout));
            }
            peer::Event::RequestHandedBack { token, end_to_end } => {
                if self.requests.handed_back(token, end_to_end) {
                    Counters::add(&self.shared.counters.failovers, 1);
                    self.send_request(ep, token);
                }
            }
            other => tracing::debug!(peer = peer.index(), ?other, "peer event"),
        }
    }

    /// Bookkeeping when a peer goes down: open count, the reason for
    /// [`crate::Node::wait_open`] when it never opened (a failed connect
    /// has set it already).
    fn peer_down(&mut self, peer: PeerHandle, reason: DownReason) {
        let was_open = self.up.remove(&peer);
        let closed_early = self.closed_early.remove(&peer);
        let why = match (was_open, reason) {
            (true, _) => None,
            (false, DownReason::CapabilitiesRejected(_) | DownReason::CapabilitiesTimeout) => {
                Some(describe_down(reason))
            }
            (false, _) => closed_early,
        };
        let index = self.targets.get(&peer).map(|t| t.index);
        self.shared.status.send_modify(|s| {
            if was_open {
                s.open = s.open.saturating_sub(1);
            }
            if let (Some(t), Some(why)) = (index.and_then(|i| s.targets.get_mut(i)), why) {
                t.last_error = Some(why);
            }
        });
    }

    fn on_session_event(&mut self, ep: &mut dyn Ep, h: SessionHandle, event: SessionEvent) {
        if let Some(tx) = self.sessions.get(&h) {
            if tx.send(event).is_ok() {
                if event == SessionEvent::Closed {
                    self.sessions.remove(&h);
                }
                return;
            }
            self.sessions.remove(&h);
        }
        if let SessionEvent::Opened(_) = event {
            if let Some(sid) = ep.session_id(h) {
                self.server_sessions.insert(h, sid);
            }
        }
        let session_id = if event == SessionEvent::Closed {
            self.server_sessions.remove(&h)
        } else {
            self.server_sessions.get(&h).cloned()
        }
        .or_else(|| ep.session_id(h))
        .unwrap_or_default();
        let _ = self.shared.events.send(NodeEvent::Session {
            session: h,
            session_id,
            event,
        });
    }

    // ---- connections ------------------------------------------------------------

    fn connect(&mut self, peer: PeerHandle) {
        let Some(t) = self.targets.get(&peer) else {
            tracing::error!(
                peer = peer.index(),
                "asked to connect a peer with no address"
            );
            return;
        };
        let addr = t.target.addr;
        let index = t.index;
        let tls_name = t.target.tls_server_name.clone();
        self.closed_early.remove(&peer);
        let serial = self.serial();
        let conn = ConnId { peer, serial };
        let connector = self.connector.clone();
        let timeout = self.limits.connect_timeout;
        let inputs = self.inputs_tx.clone();
        self.shared.status.send_modify(|s| {
            if let Some(t) = s.targets.get_mut(index) {
                t.attempts += 1;
            }
        });
        tracing::debug!(%addr, "connecting");
        let task = self.rt.spawn(async move {
            let input = match open(addr, tls_name, connector, timeout).await {
                Ok(stream) => Input::Connected {
                    conn,
                    stream,
                    remote: addr,
                },
                Err(error) => Input::ConnectFailed { conn, error },
            };
            let _ = inputs.send(input).await;
        });
        if let Some((_, old)) = self.connecting.insert(peer, (serial, task)) {
            old.abort();
        }
    }

    fn serial(&mut self) -> u64 {
        self.next_serial += 1;
        self.next_serial
    }

    fn adopt(&mut self, peer: PeerHandle, serial: u64, stream: BoxStream, remote: SocketAddr) {
        let id = ConnId { peer, serial };
        let conn::Tasks {
            tx,
            queued,
            reader,
            writer,
        } = conn::spawn(
            &self.rt,
            id,
            stream,
            Some(remote),
            self.limits,
            self.inputs_tx.clone(),
        );
        let old = self.conns.insert(
            peer,
            Conn {
                serial,
                tx,
                queued,
                reader,
                writer,
                out: Vec::new(),
                close: false,
                close_sent: false,
                remote: Some(remote),
                in_flight: 0,
            },
        );
        if let Some(old) = old {
            old.reader.abort();
            old.writer.abort();
        }
    }

    /// Close a connection now (a broken limit, a forced shutdown). Only
    /// after an orderly close (the peer's, or ours once the writer is
    /// done) may the writer finish writing what is queued; otherwise it is
    /// stopped, which closes the socket even when the peer reads nothing.
    fn drop_conn(&mut self, ep: &mut dyn Ep, peer: PeerHandle, reason: CloseReason) {
        let Some(c) = self.conns.remove(&peer) else {
            return;
        };
        c.reader.abort();
        if reason != CloseReason::Closed {
            c.writer.abort();
        }
        drop(c.tx);
        if self.targets.contains_key(&peer) && !self.up.contains(&peer) {
            // Closed before the CEA: a TLS server refusing our
            // certificate, a plain connection to a TLS listener...
            let why = match &reason {
                CloseReason::Closed => "connection closed by the peer before the CEA".to_string(),
                CloseReason::Io(e) | CloseReason::Limit(e) => {
                    format!("connection closed before the CEA: {e}")
                }
            };
            self.closed_early.insert(peer, why);
        }
        if let CloseReason::Limit(what) = reason {
            tracing::warn!(peer = peer.index(), remote = ?c.remote, %what, "closing the connection");
            Counters::add(&self.shared.counters.closed_by_limits, 1);
            let _ = self.shared.events.send(NodeEvent::LimitBroken {
                addr: c.remote,
                what,
            });
        }
        let now = self.now();
        ep.handle_disconnected(now, peer);
    }

    // ---- inputs -----------------------------------------------------------------

    fn on_input(&mut self, ep: &mut dyn Ep, input: Input) {
        match input {
            Input::Connected {
                conn,
                stream,
                remote,
            } => {
                if self.connecting.get(&conn.peer).map(|c| c.0) != Some(conn.serial) {
                    return;
                }
                self.connecting.remove(&conn.peer);
                let again = self
                    .targets
                    .get_mut(&conn.peer)
                    .map(|t| std::mem::replace(&mut t.connected_before, true))
                    .unwrap_or(false);
                Counters::add(&self.shared.counters.connects, 1);
                if again {
                    Counters::add(&self.shared.counters.reconnects, 1);
                }
                tracing::info!(%remote, "connected");
                self.adopt(conn.peer, conn.serial, stream, remote);
                let now = self.now();
                ep.handle_connected(now, conn.peer);
            }
            Input::ConnectFailed { conn, error } => {
                if self.connecting.get(&conn.peer).map(|c| c.0) != Some(conn.serial) {
                    return;
                }
                self.connecting.remove(&conn.peer);
                Counters::add(&self.shared.counters.connect_failures, 1);
                tracing::info!(%error, "connection failed");
                let index = self.targets.get(&conn.peer).map(|t| t.index);
                self.shared.status.send_modify(|s| {
                    if let Some(t) = index.and_then(|i| s.targets.get_mut(i)) {
                        t.last_error = Some(error);
                    }
                });
                let now = self.now();
                ep.handle_disconnected(now, conn.peer);
            }
            Input::Accepted { stream, remote } => self.accepted(ep, stream, remote),
            Input::HandshakeFailed { remote, error } => {
                let _ = self.shared.events.send(NodeEvent::HandshakeFailed {
                    addr: remote,
                    error,
                });
            }
            Input::Messages { conn, bytes, .. } => self.messages(ep, conn, &bytes),
            Input::Closed { conn, reason } => {
                if self.conns.get(&conn.peer).map(|c| c.serial) != Some(conn.serial) {
                    return;
                }
                self.drop_conn(ep, conn.peer, reason);
            }
        }
    }

    fn accepted(&mut self, ep: &mut dyn Ep, stream: BoxStream, remote: SocketAddr) {
        let responders = self.conns.len().saturating_sub(self.targets.len());
        let full = responders >= self.limits.max_connections;
        let peer = if self.stopping.is_some() || full {
            None
        } else {
            ep.accept(self.now())
        };
        let Some(peer) = peer else {
            Counters::add(&self.shared.counters.refused_connections, 1);
            tracing::warn!(%remote, "connection refused: too many connections");
            let _ = self.shared.events.send(NodeEvent::LimitBroken {
                addr: Some(remote),
                what: "too many connections".into(),
            });
            return;
        };
        Counters::add(&self.shared.counters.accepted, 1);
        tracing::info!(%remote, peer = peer.index(), "accepted");
        let serial = self.serial();
        self.adopt(peer, serial, stream, remote);
    }

    fn messages(&mut self, ep: &mut dyn Ep, conn: ConnId, mut bytes: &[u8]) {
        let Some(remote) = self
            .conns
            .get(&conn.peer)
            .filter(|c| c.serial == conn.serial)
            .map(|c| c.remote)
        else {
            return;
        };
        Counters::add(&self.shared.counters.bytes_in, bytes.len() as u64);
        while bytes.len() >= 20 {
            let len = u32::from_be_bytes([0, bytes[1], bytes[2], bytes[3]]) as usize;
            let Some(msg) = bytes.get(..len).filter(|_| len >= 20) else {
                break;
            };
            bytes = &bytes[len..];
            Counters::add(&self.shared.counters.messages_in, 1);
            self.handled += 1;
            if let Some(tap) = &self.tap {
                tap(Direction::In, remote, msg);
            }
            let now = self.now();
            match ep.handle_message(now, conn.peer, msg) {
                Incoming::Answer { token, .. } => self.answered(token, msg),
                Incoming::InvalidAnswer { token, error } => {
                    Counters::add(&self.shared.counters.answers, 1);
                    self.requests
                        .finish(token, Err(RequestError::InvalidAnswer(error)));
                }
                Incoming::Request { message, duplicate } => {
                    let app = message.application_id().0;
                    self.dispatch(ep, conn, remote, app, msg, duplicate);
                }
                Incoming::Rejected(e) => {
                    tracing::debug!(error = %e, "request answered with an error")
                }
                Incoming::Dropped(r) => tracing::debug!(reason = ?r, "message dropped"),
                Incoming::Handled => {}
            }
            // The peer's transmit buffer is drained after every message.
            self.settle(ep);
        }
    }

    fn answered(&mut self, token: u64, msg: &[u8]) {
        Counters::add(&self.shared.counters.answers, 1);
        let answer = Answer::new(msg.to_vec());
        if let Some(rc) = answer.result_code() {
            self.shared.counters.result_code(rc.0);
        }
        let r = if answer.is_success() {
            Ok(answer)
        } else {
            Err(RequestError::Rejected(answer))
        };
        self.requests.finish(token, r);
    }

    /// A request of an application the endpoint does not serve itself.
    fn dispatch(
        &mut self,
        ep: &mut dyn Ep,
        conn: ConnId,
        remote: Option<SocketAddr>,
        app: u32,
        msg: &[u8],
        duplicate: bool,
    ) {
        let handler = self
            .handlers
            .get(&app)
            .or(self.any_handler.as_ref())
            .cloned();
        let busy = self
            .conns
            .get(&conn.peer)
            .is_some_and(|c| c.in_flight >= self.limits.max_requests_in_flight);
        let refuse = match (&handler, busy) {
            (None, _) => {
                tracing::warn!(app, "no handler for this application: answered 5012");
                Some(ResultCode::UNABLE_TO_COMPLY)
            }
            (Some(_), true) => {
                Counters::add(&self.shared.counters.too_busy, 1);
                tracing::warn!(?remote, "too many requests in flight: answered 3004");
                Some(ResultCode::TOO_BUSY)
            }
            (Some(_), false) => None,
        };
        if let Some(rc) = refuse {
            if let Ok(a) = build_answer(msg, &self.shared.identity, rc, |_| {}) {
                let _ = ep.answer(conn.peer, &a);
            }
            return;
        }
        let Some(handler) = handler else {
            return;
        };
        if let Some(c) = self.conns.get_mut(&conn.peer) {
            c.in_flight += 1;
        }
        Counters::add(&self.shared.counters.handled_requests, 1);
        let bytes = Arc::new(msg.to_vec());
        let request = IncomingRequest {
            bytes: bytes.clone(),
            remote,
            duplicate,
        };
        let responder = Responder {
            request: bytes,
            slot: InboundSlot { conn },
            identity: self.shared.identity.clone(),
            commands: self.commands_tx.clone(),
            answered: false,
        };
        handler.handle(request, responder);
    }

    // ---- commands -----------------------------------------------------------------

    fn on_command(&mut self, ep: &mut dyn Ep, c: Command) {
        let now = self.now();
        match c {
            Command::Request {
                bytes,
                timeout,
                reply,
            } => {
                if self.stopping.is_some() {
                    let _ = reply.send(Err(RequestError::Shutdown));
                    return;
                }
                let deadline = now + timeout;
                if let Some(token) = self.requests.add(bytes, deadline, reply) {
                    Counters::add(&self.shared.counters.requests, 1);
                    self.send_request(ep, token);
                }
            }
            Command::Answer { slot, bytes } => {
                let Some(c) = self
                    .conns
                    .get_mut(&slot.conn.peer)
                    .filter(|c| c.serial == slot.conn.serial)
                else {
                    tracing::debug!("answer for a connection that is gone: dropped");
                    return;
                };
                c.in_flight = c.in_flight.saturating_sub(1);
                if let Err(e) = ep.answer(slot.conn.peer, &bytes) {
                    tracing::warn!(error = %e, len = bytes.len(), "answer not sent");
                }
            }
            Command::Open { open, reply } => {
                let r = match open {
                    Open::Prepaid {
                        session_id,
                        parties,
                    } => ep.open_prepaid(now, &session_id, *parties),
                    Open::Postpaid {
                        session_id,
                        parties,
                    } => ep.open_postpaid(now, &session_id, *parties),
                    Open::Accounting { info } => ep.open_accounting(now, *info),
                };
                let r = r.map(|h| {
                    let (tx, rx) = mpsc::unbounded_channel();
                    self.sessions.insert(h, tx);
                    (h, rx)
                });
                let _ = reply.send(r);
            }
            Command::Call { session, op, reply } => {
                let r = match op {
                    CallOp::Setup => ep.call_setup(now, session).map(|()| true),
                    CallOp::Answered => ep.call_answered(now, session).map(|()| true),
                    CallOp::Ended(cause) => ep.call_ended(now, session, cause).map(|()| true),
                    CallOp::AccountEvent => ep.account_event(now, session).map(|()| true),
                    CallOp::DropEvent => ep.drop_event(now, session),
                };
                let _ = reply.send(r);
            }
            Command::Release { session, end } => {
                self.sessions.remove(&session);
                if let Some(cause) = end {
                    let _ = ep.call_ended(now, session, cause);
                }
            }
            Command::Server {
                session_id,
                op,
                reply,
            } => {
                let r = match ep.find_session(&session_id) {
                    None => Err(CallError::UnknownSession),
                    Some(h) => match op {
                        ServerOp::Abort => ep.abort_session(now, h),
                        ServerOp::Reauthorize => ep.reauthorize(now, h),
                    },
                };
                let _ = reply.send(r);
            }
            Command::Peers { reply } => {
                let mut peers = ep.peer_status();
                for p in &mut peers {
                    p.remote = self.conns.get(&p.peer).and_then(|c| c.remote);
                }
                let _ = reply.send(peers);
            }
            Command::Shutdown {
                cause,
                grace,
                reply,
            } => self.begin_shutdown(ep, cause, grace, reply),
        }
    }

    // ---- the application's requests -------------------------------------------------

    /// Send (or send again, or park until a peer opens) request `token`.
    fn send_request(&mut self, ep: &mut dyn Ep, token: u64) {
        let now = self.now();
        let Some(sent) = self.requests.send(token, |route, bytes, e2e, deadline| {
            ep.send_request(now, route, bytes, token, e2e, deadline)
        }) else {
            return;
        };
        let (peer, bytes) = sent;
        let remote = self.conns.get(&peer).and_then(|c| c.remote);
        self.count_out(remote, &bytes);
        match self.conns.get_mut(&peer) {
            Some(c) => c.out.extend_from_slice(&bytes),
            None => tracing::debug!("request for a connection that is gone"),
        }
    }

    fn retry_parked(&mut self, ep: &mut dyn Ep) {
        for token in self.requests.take_parked() {
            self.send_request(ep, token);
        }
    }

    fn expire_requests(&mut self, now: Instant) {
        let n = self.requests.expire(now);
        Counters::add(&self.shared.counters.unreachable, n as u64);
    }

    // ---- shutdown -----------------------------------------------------------------

    fn begin_shutdown(
        &mut self,
        ep: &mut dyn Ep,
        cause: DisconnectCause,
        grace: Duration,
        reply: Option<oneshot::Sender<()>>,
    ) {
        let deadline = tokio::time::Instant::now() + grace;
        match &mut self.stopping {
            Some(s) => {
                s.deadline = s.deadline.min(deadline);
                s.replies.extend(reply);
                return;
            }
            None => {
                self.stopping = Some(Stopping {
                    deadline,
                    replies: reply.into_iter().collect(),
                });
            }
        }
        tracing::info!(?grace, "shutting down: DPR to every peer");
        for l in self.listeners.drain(..) {
            l.abort();
        }
        for (_, (_, task)) in self.connecting.drain() {
            task.abort();
        }
        self.requests.fail_all();
        let now = self.now();
        ep.shutdown(now, cause);
    }

    fn finished(&self, _ep: &mut dyn Ep) -> bool {
        self.stopping.is_some() && self.conns.is_empty() && self.connecting.is_empty()
    }

    fn force_close(&mut self, ep: &mut dyn Ep) {
        let peers: Vec<PeerHandle> = self.conns.keys().copied().collect();
        for p in peers {
            tracing::info!(peer = p.index(), "no DPA before the deadline: closing");
            if let Some(c) = self.conns.get(&p) {
                c.writer.abort();
            }
            self.drop_conn(ep, p, CloseReason::Closed);
        }
        for (_, (_, task)) in self.connecting.drain() {
            task.abort();
        }
    }

    fn stop(mut self) {
        self.requests.fail_all();
        self.shared.status.send_modify(|s| {
            s.stopped = true;
            s.open = 0;
        });
        if let Some(s) = self.stopping.take() {
            for r in s.replies {
                let _ = r.send(());
            }
        }
        tracing::info!("node stopped");
    }
}

fn describe_down(reason: DownReason) -> String {
    match reason {
        DownReason::CapabilitiesRejected(rc) => {
            let name = match rc.0 {
                3010 => " DIAMETER_UNKNOWN_PEER",
                5010 => " DIAMETER_NO_COMMON_APPLICATION",
                5012 => " DIAMETER_UNABLE_TO_COMPLY",
                _ => "",
            };
            format!("CEA rejected us with Result-Code {}{name}", rc.0)
        }
        DownReason::CapabilitiesTimeout => "no CEA in time".into(),
        other => other.to_string(),
    }
}

/// Open a connection (and its TLS session when asked).
async fn open(
    addr: SocketAddr,
    tls_name: Option<String>,
    connector: Connector,
    timeout: Duration,
) -> Result<BoxStream, String> {
    let work = async {
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("{addr}: {e}"))?;
        let _ = tcp.set_nodelay(true);
        match tls_name {
            None => {
                let _ = &connector;
                Ok(Box::new(tcp) as BoxStream)
            }
            Some(name) => tls_connect(tcp, &name, &connector).await,
        }
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(format!("{addr}: no connection within {timeout:?}")),
    }
}

#[cfg(feature = "tls")]
async fn tls_connect(
    tcp: tokio::net::TcpStream,
    name: &str,
    connector: &Connector,
) -> Result<BoxStream, String> {
    let Some(c) = &connector.tls else {
        return Err("a TLS target but no TLS client configuration on the builder".into());
    };
    let server = tokio_rustls::rustls::pki_types::ServerName::try_from(name.to_owned())
        .map_err(|e| format!("bad TLS server name {name:?}: {e}"))?;
    let s = c
        .connect(server, tcp)
        .await
        .map_err(|e| format!("TLS handshake with {name} failed: {e}{}", tls_hint(&e)))?;
    Ok(Box::new(s))
}

/// What a certificate error means for whoever reads the log line.
#[cfg(feature = "tls")]
fn tls_hint(e: &std::io::Error) -> &'static str {
    use tokio_rustls::rustls::{CertificateError, Error};
    match e.get_ref().and_then(|e| e.downcast_ref::<Error>()) {
        Some(Error::InvalidCertificate(CertificateError::UnknownIssuer)) => {
            " (the server's certificate is not signed by a CA this client trusts)"
        }
        _ => "",
    }
}

#[cfg(not(feature = "tls"))]
async fn tls_connect(
    _tcp: tokio::net::TcpStream,
    _name: &str,
    _connector: &Connector,
) -> Result<BoxStream, String> {
    Err("a TLS target, but diameter-tokio was built without its `tls` feature".into())
}
