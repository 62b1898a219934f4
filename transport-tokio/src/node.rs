//! [`Node`]: the cloneable handle of a running Diameter node, and the
//! [`Builder`] that starts one.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diameter_cc::client::accounting::CallInfo;
use diameter_cc::client::Parties;
use diameter_cc::endpoint::{Endpoint, EndpointConfig};
use diameter_cc::server::accounting::{AccountingServerConfig, AccountingSink, NoSink};
use diameter_cc::server::credit_control::{CcServerConfig, NoRating, Rating};
use diameter_cc::session::WallClock;
use diameter_core::dict::base::DisconnectCause;
use diameter_core::time::Instant;
use diameter_core::ApplicationId;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::call::{Call, SessionError};
use crate::config::{Limits, Target};
use crate::driver::conn::BoxStream;
use crate::driver::ep::{PeerStatus, PEER_TX};
use crate::driver::{
    Command, Connector, Driver, Input, Open, ServerOp, Setup, Shared, Status, Tap, TargetStatus,
};
use crate::handler::Handler;
use crate::request::{Answer, RequestError};
use crate::stats::{Counters, Direction, NodeEvent, Stats};

/// Peer connections a node can hold by default ([`Builder::start`]).
pub const DEFAULT_PEERS: usize = 64;
/// Sessions a node can hold by default ([`Builder::start`]); it is also
/// each connection's limit of requests in flight.
pub const DEFAULT_SESSIONS: usize = 16_384;

/// A running Diameter node: a client, a server, or both (a proxy). Cheap to
/// clone; the node shuts down (DPR to every peer, a few seconds of grace)
/// when the last handle, [`crate::Call`] included, is dropped, or at
/// [`Node::shutdown`].
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// use diameter_tokio::{Node, Target};
/// use diameter_cc::endpoint::EndpointConfig;
/// use diameter_cc::client::{Parties, prepaid::PrepaidConfig};
/// use diameter_cc::session::WallClock;
/// use diameter_core::dict::base::TerminationCause;
/// use diameter_core::peer::{App, LocalIdentity, PeerConfig};
/// use std::time::Duration;
///
/// let me = LocalIdentity::new("proxy.example.org", "example.org")?.with_application(App::auth(4))?;
/// let mut config = EndpointConfig::new(PeerConfig::new(me, 1_764_720_000), WallClock::new(0));
/// config.prepaid = Some(PrepaidConfig::new("example.org", "voice@example.org")?);
/// let node = Node::builder(config)
///     .connect_to(Target::new("127.0.0.1:3868".parse()?))
///     .start()
///     .await?;
/// node.wait_open(Duration::from_secs(5)).await?;
/// let mut call = node.prepaid("call-1@proxy", Parties::new("1001", "1002")?).await?;
/// println!("{:?}", call.start().await?);
/// call.answered().await?;
/// call.hangup(TerminationCause::Logout).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Node {
    inner: Arc<Inner>,
}

struct Inner {
    commands: mpsc::UnboundedSender<Command>,
    shared: Arc<Shared>,
    local_addrs: Vec<SocketAddr>,
    request_timeout: Duration,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Shutdown {
            cause: DisconnectCause::Rebooting,
            grace: crate::driver::DROP_GRACE,
            reply: None,
        });
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("origin_host", &self.inner.shared.identity.0)
            .field("local_addrs", &self.inner.local_addrs)
            .finish()
    }
}

/// The node's thread is gone (it shut down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the Diameter node has stopped")
    }
}

impl std::error::Error for Stopped {}

/// No peer opened: why, target by target ([`Node::wait_open`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectError {
    /// Per target: its address and the last failure (`None`: still trying,
    /// no failure yet).
    pub targets: Vec<(SocketAddr, Option<String>)>,
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.targets.is_empty() {
            return f.write_str("no peer to connect to");
        }
        f.write_str("no peer opened")?;
        for (i, (addr, e)) in self.targets.iter().enumerate() {
            let sep = if i == 0 { ": " } else { "; " };
            match e {
                Some(e) => write!(f, "{sep}{addr}: {e}")?,
                None => write!(f, "{sep}{addr}: no answer yet")?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConnectError {}

impl Node {
    /// Configure a node: identity, applications and session settings in
    /// `config`; peers, listeners, served applications on the builder.
    pub fn builder(config: EndpointConfig) -> Builder {
        Builder::new(config)
    }

    /// Send a request the application encoded itself (any application the
    /// peers agreed on; Hop-by-Hop and End-to-End identifiers are written
    /// by the node) and wait for its answer, up to
    /// [`Limits::request_timeout`]. It goes to the first open peer that
    /// serves its Destination-Realm and application; if that connection
    /// fails first it goes again through another, with the T flag (RFC
    /// 6733 §5.5.4); with no open peer it waits for one until the deadline.
    /// An answer whose Result-Code is not 2xxx is
    /// [`RequestError::Rejected`], with the answer.
    pub async fn request(&self, bytes: Vec<u8>) -> Result<Answer, RequestError> {
        self.request_with_timeout(bytes, self.inner.request_timeout)
            .await
    }

    /// [`Node::request`] with its own deadline.
    pub async fn request_with_timeout(
        &self,
        bytes: Vec<u8>,
        timeout: Duration,
    ) -> Result<Answer, RequestError> {
        let (command, application) = match bytes.get(..12) {
            Some(h) => (
                u32::from_be_bytes([0, h[5], h[6], h[7]]),
                u32::from_be_bytes([h[8], h[9], h[10], h[11]]),
            ),
            None => (0, 0),
        };
        let span = tracing::debug_span!("request", command, application);
        let (reply, rx) = oneshot::channel();
        self.send(Command::Request {
            bytes,
            timeout,
            reply,
        })
        .map_err(|_| RequestError::Shutdown)?;
        let answer = tracing::Instrument::instrument(rx, span.clone()).await;
        let answer = answer.unwrap_or(Err(RequestError::Shutdown));
        span.in_scope(|| match &answer {
            Ok(a) => tracing::debug!(result_code = ?a.result_code(), "answered"),
            Err(e) => tracing::debug!(error = %e, "failed"),
        });
        answer
    }

    /// Open a prepaid call (RFC 8506 session-based charging, SCENARIOS
    /// Prepaid): nothing is sent until [`Call::start`].
    pub async fn prepaid(&self, session_id: &str, parties: Parties) -> Result<Call, SessionError> {
        self.open(Open::Prepaid {
            session_id: session_id.to_owned(),
            parties: Box::new(parties),
        })
        .await
    }

    /// Open a postpaid call (one CCR-Event at hangup).
    pub async fn postpaid(&self, session_id: &str, parties: Parties) -> Result<Call, SessionError> {
        self.open(Open::Postpaid {
            session_id: session_id.to_owned(),
            parties: Box::new(parties),
        })
        .await
    }

    /// Open a call's accounting (RFC 6733 §9: START at answer, INTERIM,
    /// STOP at hangup).
    pub async fn accounting(&self, info: CallInfo) -> Result<Call, SessionError> {
        self.open(Open::Accounting {
            info: Box::new(info),
        })
        .await
    }

    async fn open(&self, open: Open) -> Result<Call, SessionError> {
        let (reply, rx) = oneshot::channel();
        let kind = match &open {
            Open::Prepaid { .. } => diameter_cc::endpoint::SessionKind::Prepaid,
            Open::Postpaid { .. } => diameter_cc::endpoint::SessionKind::Postpaid,
            Open::Accounting { .. } => diameter_cc::endpoint::SessionKind::Accounting,
        };
        let session_id = match &open {
            Open::Prepaid { session_id, .. } | Open::Postpaid { session_id, .. } => {
                session_id.clone()
            }
            Open::Accounting { info } => info.session_id.as_str().to_owned(),
        };
        self.send(Command::Open { open, reply })
            .map_err(|_| SessionError::Stopped)?;
        let (h, events) = rx
            .await
            .map_err(|_| SessionError::Stopped)?
            .map_err(SessionError::Open)?;
        Ok(Call::new(self.clone(), h, kind, session_id, events))
    }

    /// A credit-control session this node serves: send its client an
    /// Abort-Session-Request (RFC 8506 §5.5). `Ok(false)` when the session
    /// has a request outstanding or is over.
    pub async fn abort_session(&self, session_id: &str) -> Result<bool, SessionError> {
        self.server_op(session_id, ServerOp::Abort).await
    }

    /// A credit-control session this node serves: send its client a
    /// Re-Auth-Request (RFC 8506 §5.5).
    pub async fn reauthorize(&self, session_id: &str) -> Result<bool, SessionError> {
        self.server_op(session_id, ServerOp::Reauthorize).await
    }

    async fn server_op(&self, session_id: &str, op: ServerOp) -> Result<bool, SessionError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Server {
            session_id: session_id.to_owned(),
            op,
            reply,
        })
        .map_err(|_| SessionError::Stopped)?;
        rx.await
            .map_err(|_| SessionError::Stopped)?
            .map_err(SessionError::Call)
    }

    /// The peer connections and their state.
    pub async fn peers(&self) -> Result<Vec<PeerStatus>, Stopped> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Peers { reply })?;
        rx.await.map_err(|_| Stopped)
    }

    /// Wait until at least one peer is open. Fails as soon as every target
    /// failed its first attempt (refused, timed out, CEA rejection: each
    /// said in the error), or at `timeout`.
    pub async fn wait_open(&self, timeout: Duration) -> Result<(), ConnectError> {
        let mut status = self.inner.shared.status.subscribe();
        let fail = |s: &Status| ConnectError {
            targets: s
                .targets
                .iter()
                .map(|t| (t.addr, t.last_error.clone()))
                .collect(),
        };
        let wait = async {
            loop {
                {
                    let s = status.borrow_and_update();
                    if s.open > 0 {
                        return Ok(());
                    }
                    let all_failed =
                        !s.targets.is_empty() && s.targets.iter().all(|t| t.last_error.is_some());
                    if s.stopped || all_failed || s.targets.is_empty() {
                        return Err(fail(&s));
                    }
                }
                if status.changed().await.is_err() {
                    return Err(fail(&status.borrow()));
                }
            }
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(r) => r,
            Err(_) => Err(fail(&status.borrow())),
        }
    }

    /// Events: peers up and down, server sessions, broken limits. Each
    /// receiver sees the events sent after it subscribed; a receiver that
    /// falls behind by more than 4,096 events misses the oldest.
    pub fn events(&self) -> broadcast::Receiver<NodeEvent> {
        self.inner.shared.events.subscribe()
    }

    /// The counters now.
    pub fn stats(&self) -> Stats {
        self.inner.shared.counters.snapshot()
    }

    /// The addresses the node listens on (port 0 resolved).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.inner.local_addrs
    }

    /// Origin-Host and Origin-Realm.
    pub fn identity(&self) -> (&str, &str) {
        (&self.inner.shared.identity.0, &self.inner.shared.identity.1)
    }

    /// Graceful shutdown: stop accepting, send DPR (DisconnectCause
    /// REBOOTING) to every peer and wait for their DPAs (RFC 6733 §5.4),
    /// closing what is left at `grace`. Requests still out fail with
    /// [`RequestError::Shutdown`].
    pub async fn shutdown(&self, grace: Duration) {
        let (reply, rx) = oneshot::channel();
        if self
            .send(Command::Shutdown {
                cause: DisconnectCause::Rebooting,
                grace,
                reply: Some(reply),
            })
            .is_ok()
        {
            let _ = rx.await;
        }
    }

    pub(crate) fn send(&self, c: Command) -> Result<(), Stopped> {
        self.inner.commands.send(c).map_err(|_| Stopped)
    }
}

/// Why a node could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// [`Builder::start`] must be called inside a tokio runtime.
    NoRuntime,
    /// A listen address could not be bound.
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        error: std::io::Error,
    },
    /// More targets than peer slots.
    TooManyPeers,
    /// The node's thread could not be started.
    Thread(std::io::Error),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::NoRuntime => f.write_str("start a Diameter node inside a tokio runtime"),
            StartError::Bind { addr, error } => write!(f, "cannot listen on {addr}: {error}"),
            StartError::TooManyPeers => f.write_str("more peers to connect to than peer slots"),
            StartError::Thread(e) => write!(f, "cannot start the node's thread: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// Sets up and starts a [`Node`].
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// use diameter_tokio::Node;
/// use diameter_cc::endpoint::EndpointConfig;
/// use diameter_cc::server::credit_control::{Balances, CcServerConfig};
/// use diameter_cc::session::WallClock;
/// use diameter_core::peer::{App, LocalIdentity, PeerConfig};
///
/// let me = LocalIdentity::new("ocs.example.org", "example.org")?
///     .with_application(App::auth(4))?
///     .with_application(App::acct(3))?;
/// let mut balances = Balances::<64>::new();
/// balances.set("1001", 3600);
/// let server = Node::builder(EndpointConfig::new(PeerConfig::new(me, 1_764_720_000), WallClock::new(0)))
///     .credit_control(CcServerConfig::new(), balances)
///     .listen("127.0.0.1:3868".parse()?)
///     .start()
///     .await?;
/// println!("listening on {:?}", server.local_addrs());
/// # Ok(()) }
/// ```
pub struct Builder<R = NoRating, K = NoSink> {
    config: EndpointConfig,
    credit_control: Option<(CcServerConfig, R)>,
    accounting: Option<(AccountingServerConfig, K)>,
    targets: Vec<Target>,
    listen: Vec<SocketAddr>,
    handlers: HashMap<u32, Arc<dyn Handler>>,
    any_handler: Option<Arc<dyn Handler>>,
    limits: Limits,
    tap: Option<Tap>,
    connector: Connector,
    speed: u32,
    #[cfg(feature = "tls")]
    acceptor: Option<tokio_rustls::TlsAcceptor>,
}

impl Builder {
    fn new(config: EndpointConfig) -> Self {
        Builder {
            config,
            credit_control: None,
            accounting: None,
            targets: Vec::new(),
            listen: Vec::new(),
            handlers: HashMap::new(),
            any_handler: None,
            limits: Limits::default(),
            tap: None,
            connector: Connector::default(),
            speed: 1,
            #[cfg(feature = "tls")]
            acceptor: None,
        }
    }
}

impl<R: Rating + Send + 'static, K: AccountingSink + Send + 'static> Builder<R, K> {
    /// Connect to `target` (in the order added: the first open peer that
    /// serves a request's realm takes it).
    pub fn connect_to(mut self, target: Target) -> Self {
        self.targets.push(target);
        self
    }

    /// Accept connections on `addr` (port 0: any free port, see
    /// [`Node::local_addrs`]). Peers are admitted by the allow-lists of the
    /// peer settings; others get CEA 3010 (RFC 6733 §5.3).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen.push(addr);
        self
    }

    /// Serve credit control (RFC 8506) with the built-in server sessions,
    /// rated by `rating`. It runs on the node's thread: a rating engine may
    /// block (a database commit), but it delays every message meanwhile.
    pub fn credit_control<R2: Rating + Send + 'static>(
        self,
        config: CcServerConfig,
        rating: R2,
    ) -> Builder<R2, K> {
        Builder {
            config: self.config,
            credit_control: Some((config, rating)),
            accounting: self.accounting,
            targets: self.targets,
            listen: self.listen,
            handlers: self.handlers,
            any_handler: self.any_handler,
            limits: self.limits,
            tap: self.tap,
            connector: self.connector,
            speed: self.speed,
            #[cfg(feature = "tls")]
            acceptor: self.acceptor,
        }
    }

    /// Serve accounting (RFC 6733 §9) with the built-in server sessions;
    /// records go to `sink` before the answer leaves.
    pub fn accounting<K2: AccountingSink + Send + 'static>(
        self,
        config: AccountingServerConfig,
        sink: K2,
    ) -> Builder<R, K2> {
        Builder {
            config: self.config,
            credit_control: self.credit_control,
            accounting: Some((config, sink)),
            targets: self.targets,
            listen: self.listen,
            handlers: self.handlers,
            any_handler: self.any_handler,
            limits: self.limits,
            tap: self.tap,
            connector: self.connector,
            speed: self.speed,
            #[cfg(feature = "tls")]
            acceptor: self.acceptor,
        }
    }

    /// Requests of `application` that the node does not serve itself go to
    /// `handler` (the application must be among the local identity's).
    pub fn handler(mut self, application: ApplicationId, handler: impl Handler) -> Self {
        self.handlers.insert(application.0, Arc::new(handler));
        self
    }

    /// Requests of any application without a handler of its own go to
    /// `handler`.
    pub fn fallback_handler(mut self, handler: impl Handler) -> Self {
        self.any_handler = Some(Arc::new(handler));
        self
    }

    /// Limits on peers (defaults: [`Limits::default`]).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Run the node's clock `speed` times faster than real time (default
    /// 1): every timer of the endpoint (Tx, Tcc, grants, watchdogs,
    /// request deadlines) and every time it writes (Event-Timestamp,
    /// CC-Time used) follows the fast clock, so a 67 s call plays in
    /// 67/`speed` s with the same messages. For demonstrations and tests
    /// against a peer that runs the same speed (an in-process server);
    /// transport limits ([`Limits`]) stay in real time. 0 counts as 1.
    pub fn clock_speed(mut self, speed: u32) -> Self {
        self.speed = speed.max(1);
        self
    }

    /// Call `tap` with every message in and out (on the node's thread:
    /// keep it short), e.g. to print a message ladder.
    pub fn tap(
        mut self,
        tap: impl Fn(Direction, Option<SocketAddr>, &[u8]) + Send + Sync + 'static,
    ) -> Self {
        self.tap = Some(Arc::new(tap));
        self
    }

    /// TLS for the targets that ask for it ([`Target::tls`]).
    #[cfg(feature = "tls")]
    pub fn tls_client(mut self, config: Arc<tokio_rustls::rustls::ClientConfig>) -> Self {
        self.connector.tls = Some(tokio_rustls::TlsConnector::from(config));
        self
    }

    /// TLS on every listener: the handshake comes first (RFC 6733 §2.1).
    #[cfg(feature = "tls")]
    pub fn tls_server(mut self, config: Arc<tokio_rustls::rustls::ServerConfig>) -> Self {
        self.acceptor = Some(tokio_rustls::TlsAcceptor::from(config));
        self
    }

    /// Start with room for [`DEFAULT_PEERS`] connections and
    /// [`DEFAULT_SESSIONS`] sessions.
    pub async fn start(self) -> Result<Node, StartError> {
        self.start_sized::<DEFAULT_PEERS, DEFAULT_SESSIONS>().await
    }

    /// Start with room for `PEERS` connections (targets included) and
    /// `SESSIONS` sessions (a power of two).
    pub async fn start_sized<const PEERS: usize, const SESSIONS: usize>(
        mut self,
    ) -> Result<Node, StartError> {
        let rt = tokio::runtime::Handle::try_current().map_err(|_| StartError::NoRuntime)?;
        if self.targets.len() > PEERS {
            return Err(StartError::TooManyPeers);
        }
        let (inputs_tx, inputs) = mpsc::channel::<Input>(1024);
        let mut listeners = Vec::new();
        let mut local_addrs = Vec::new();
        let mut bound = Vec::new();
        for addr in &self.listen {
            let l = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|error| StartError::Bind { addr: *addr, error })?;
            local_addrs.push(l.local_addr().unwrap_or(*addr));
            bound.push(l);
        }
        for l in bound {
            listeners.push(rt.spawn(accept_loop(
                l,
                inputs_tx.clone(),
                self.acceptor(),
                self.limits,
            )));
        }

        // The node's clock starts now: Instant::ZERO is this wall time.
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        self.config.clock = WallClock::new(unix);
        let identity = Arc::new((
            self.config.peer.local.origin_host.as_str().to_owned(),
            self.config.peer.local.origin_realm.as_str().to_owned(),
        ));
        let (events, _) = broadcast::channel(4096);
        let (status, _) = watch::channel(Status {
            open: 0,
            targets: self
                .targets
                .iter()
                .map(|t| TargetStatus {
                    addr: t.addr,
                    attempts: 0,
                    last_error: None,
                })
                .collect(),
            stopped: false,
        });
        let shared = Arc::new(Shared {
            counters: Counters::default(),
            events,
            status,
            identity,
        });
        let (commands_tx, commands) = mpsc::unbounded_channel();
        let setup = Setup {
            rt,
            inputs_tx,
            inputs,
            commands_tx: commands_tx.clone(),
            commands,
            shared: shared.clone(),
            limits: self.limits,
            connector: self.connector,
            targets: self.targets,
            handlers: self.handlers,
            any_handler: self.any_handler,
            tap: self.tap,
            listeners,
            speed: self.speed,
        };
        let config = self.config;
        let cc = self.credit_control;
        let acct = self.accounting;
        let stack = std::mem::size_of::<Endpoint<R, K, PEERS, SESSIONS, PEER_TX>>()
            .saturating_mul(4)
            .saturating_add(16 << 20);
        let name = format!("diameter {}", shared.identity.0);
        let status_on_failure = shared.clone();
        std::thread::Builder::new()
            .name(name)
            .stack_size(stack)
            .spawn(move || {
                let local = match tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot start the node's timer runtime");
                        status_on_failure.status.send_modify(|s| s.stopped = true);
                        return;
                    }
                };
                let mut ep = Endpoint::<R, K, PEERS, SESSIONS, PEER_TX>::new_serving(
                    config,
                    Instant::ZERO,
                    cc,
                    acct,
                );
                let driver = Driver::new(setup, &mut ep);
                local.block_on(driver.run(&mut ep));
            })
            .map_err(StartError::Thread)?;
        Ok(Node {
            inner: Arc::new(Inner {
                commands: commands_tx,
                shared,
                local_addrs,
                request_timeout: self.limits.request_timeout,
            }),
        })
    }

    #[cfg(feature = "tls")]
    fn acceptor(&self) -> Option<tokio_rustls::TlsAcceptor> {
        self.acceptor.clone()
    }

    #[cfg(not(feature = "tls"))]
    fn acceptor(&self) -> Option<()> {
        None
    }
}

#[cfg(feature = "tls")]
type Acceptor = Option<tokio_rustls::TlsAcceptor>;
#[cfg(not(feature = "tls"))]
type Acceptor = Option<()>;

/// Accept connections until the node stops (the task is aborted).
async fn accept_loop(
    listener: tokio::net::TcpListener,
    inputs: mpsc::Sender<Input>,
    acceptor: Acceptor,
    limits: Limits,
) {
    loop {
        let (tcp, remote) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors, say: wait a little, go on.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let inputs = inputs.clone();
        #[cfg_attr(not(feature = "tls"), allow(clippy::clone_on_copy))]
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let stream = match accept_tls(tcp, acceptor, limits.connect_timeout).await {
                Ok(s) => s,
                Err(error) => {
                    tracing::warn!(%remote, %error, "TLS handshake failed");
                    let _ = inputs.send(Input::HandshakeFailed { remote, error }).await;
                    return;
                }
            };
            let _ = inputs.send(Input::Accepted { stream, remote }).await;
        });
    }
}

#[cfg(feature = "tls")]
async fn accept_tls(
    tcp: tokio::net::TcpStream,
    acceptor: Acceptor,
    timeout: Duration,
) -> Result<BoxStream, String> {
    let Some(a) = acceptor else {
        return Ok(Box::new(tcp));
    };
    match tokio::time::timeout(timeout, a.accept(tcp)).await {
        Ok(Ok(s)) => Ok(Box::new(s)),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no handshake within {timeout:?}")),
    }
}

#[cfg(not(feature = "tls"))]
async fn accept_tls(
    tcp: tokio::net::TcpStream,
    _acceptor: Acceptor,
    _timeout: Duration,
) -> Result<BoxStream, String> {
    Ok(Box::new(tcp))
}
