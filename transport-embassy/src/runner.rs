//! [`Runner`]: the task that moves a node's bytes and time. It follows the
//! endpoint's driving contract (`diameter_cc::endpoint`, "Driving an
//! endpoint") and decides nothing itself:
//!
//! - after every input (a framed message, a timer, a connection change,
//!   the application's call): the endpoint's events until `None` (a
//!   `Connect` opens the connection; a `Close` closes it once what
//!   `poll_transmit` still has for it is written), then `poll_transmit`
//!   until `None`, each message written whole to the connection;
//! - then it waits for the first of: bytes on the connection (framed by
//!   [`RxBuf`], each message handed to the endpoint and followed by the
//!   polls), the endpoint's `poll_timeout`, or a call of the application.
//!
//! One runner serves one connection at a time: an initiator connects when
//! the endpoint asks (RFC 6733 §5.6 Start → Wait-Conn-Ack) and again after
//! the peer machine's reconnect delay; a responder accepts the next
//! connection whenever none is up. Its memory is the [`Buffers`] the caller
//! sizes: `RX` bytes (also the largest message accepted) and `TX` bytes
//! (the largest message sent: a request that does not fit is a failure to
//! send for its session, reported by the session; a received message
//! larger than `RX` closes the connection with [`LinkError::TooLarge`]).

use core::pin::pin;

use diameter_cc::endpoint::PeerHandle;
use diameter_cc::server::accounting::AccountingSink;
use diameter_cc::server::credit_control::Rating;
use diameter_core::header::HEADER_LEN;
use diameter_core::{RxBuf, RxError};
use embassy_futures::select::{select, select3, Either, Either3};
use embassy_sync::blocking_mutex::raw::RawMutex;
use embassy_time::Timer;
use embedded_io_async::{Read, Write};

use crate::clock::at;
use crate::handler::{Direction, Handler};
use crate::node::{Command, Node};
use crate::transport::{Connection, OpenError, Role, Transport};

/// A runner's message buffers: `RX` bytes to frame received messages,
/// `TX` bytes to write outgoing ones.
///
/// ```
/// let bufs = diameter_embassy::Buffers::<4096, 2048>::new();
/// assert_eq!(bufs.max_message(), 4096);
/// ```
pub struct Buffers<const RX: usize, const TX: usize> {
    rx: RxBuf<RX>,
    tx: [u8; TX],
}

impl<const RX: usize, const TX: usize> Buffers<RX, TX> {
    /// Empty buffers.
    pub const fn new() -> Self {
        Buffers {
            rx: RxBuf::new(),
            tx: [0; TX],
        }
    }

    /// The largest message accepted.
    pub const fn max_message(&self) -> usize {
        RX
    }
}

impl<const RX: usize, const TX: usize> Default for Buffers<RX, TX> {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a connection ended on the runner's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum LinkError {
    /// The connection could not be opened.
    Open(OpenError),
    /// A received message does not fit the receive buffer (or the stream
    /// is not Diameter): RFC 6733 §3 framing cannot resynchronise, so the
    /// connection was closed.
    TooLarge(RxError),
    /// Reading or writing failed (reset by the remote end).
    Io,
    /// The remote end closed the connection.
    Closed,
}

impl core::fmt::Display for LinkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LinkError::Open(e) => write!(f, "open: {e}"),
            LinkError::TooLarge(e) => write!(f, "receive: {e}"),
            LinkError::Io => f.write_str("connection reset"),
            LinkError::Closed => f.write_str("closed by the remote end"),
        }
    }
}

impl core::error::Error for LinkError {}

/// Counters of a runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LinkStats {
    /// Connections opened.
    pub connections: u32,
    /// Connections that ended with an error (see `last_error`).
    pub errors: u32,
    /// Messages (or message parts) written.
    pub messages_sent: u32,
    /// Whole messages read.
    pub messages_received: u32,
    /// Bytes the endpoint wanted to send to a peer with no connection
    /// here (a second peer: one runner serves one connection).
    pub bytes_dropped: u32,
    /// The last error.
    pub last_error: Option<LinkError>,
}

impl LinkStats {
    fn error(&mut self, e: LinkError) {
        self.errors = self.errors.saturating_add(1);
        self.last_error = Some(e);
        #[cfg(feature = "defmt")]
        defmt::warn!("diameter link: {}", e);
    }
}

/// Drives a [`Node`] over connections from a [`Transport`]: run it in its
/// own task ([`Runner::run`] never returns).
///
/// ```no_run
/// # use diameter_embassy::{Buffers, NoHandler, Node, Runner, TcpClient};
/// # use embassy_sync::blocking_mutex::raw::NoopRawMutex;
/// # async fn doc(node: &Node<NoopRawMutex>, transport: TcpClient<'_>) {
/// let mut runner = Runner::new(node, transport, Buffers::<4096, 4096>::new(), NoHandler);
/// runner.run().await
/// # }
/// ```
pub struct Runner<
    'n,
    M: RawMutex,
    R: Rating + 'static,
    K: AccountingSink + 'static,
    T: Transport,
    H: Handler,
    const P: usize,
    const S: usize,
    const RX: usize,
    const TX: usize,
> {
    transport: T,
    core: Core<'n, M, R, K, H, P, S, RX, TX>,
}

struct Core<
    'n,
    M: RawMutex,
    R: Rating + 'static,
    K: AccountingSink + 'static,
    H: Handler,
    const P: usize,
    const S: usize,
    const RX: usize,
    const TX: usize,
> {
    node: &'n Node<M, R, K, P, S>,
    handler: H,
    bufs: Buffers<RX, TX>,
    stats: LinkStats,
}

/// What settling the endpoint left to do.
enum Settled {
    /// Nothing: wait for input.
    Quiet,
    /// Open a connection for this peer.
    Connect(PeerHandle),
    /// Close the connection (asked, or it broke while writing).
    Close,
}

impl<
        'n,
        M: RawMutex,
        R: Rating + 'static,
        K: AccountingSink + 'static,
        T: Transport,
        H: Handler,
        const P: usize,
        const S: usize,
        const RX: usize,
        const TX: usize,
    > Runner<'n, M, R, K, T, H, P, S, RX, TX>
{
    /// A runner for `node` over `transport`, with these buffers; requests
    /// the endpoint does not own go to `handler`.
    pub fn new(
        node: &'n Node<M, R, K, P, S>,
        transport: T,
        bufs: Buffers<RX, TX>,
        handler: H,
    ) -> Self {
        Runner {
            transport,
            core: Core {
                node,
                handler,
                bufs,
                stats: LinkStats::default(),
            },
        }
    }

    /// Counters.
    pub fn stats(&self) -> LinkStats {
        self.core.stats
    }

    /// The handler.
    pub fn handler(&mut self) -> &mut H {
        &mut self.core.handler
    }

    /// Drive the node forever. An initiator's peers are started first
    /// (each asks to connect).
    pub async fn run(&mut self) -> ! {
        let role = self.transport.role();
        if role == Role::Initiator {
            self.core.node.start();
        }
        loop {
            let peer = match role {
                Role::Initiator => Some(self.core.idle().await),
                Role::Responder => None,
            };
            let Runner { transport, core } = self;
            let mut conn = transport.connection();
            match core.open(&mut conn).await {
                Err(e) => {
                    core.stats.error(LinkError::Open(e));
                    if let Some(p) = peer {
                        core.node.handle_disconnected(p);
                    }
                    // A responder's listening socket failed: do not spin.
                    if role == Role::Responder {
                        Timer::after_millis(100).await;
                    }
                }
                Ok(()) => {
                    let peer = match peer {
                        Some(p) => {
                            core.node.handle_connected(p);
                            Some(p)
                        }
                        None => core.node.accept(),
                    };
                    match peer {
                        Some(p) => {
                            core.stats.connections = core.stats.connections.saturating_add(1);
                            core.serve(&mut conn, p).await;
                        }
                        // No free peer slot: refuse the connection.
                        None => conn.close().await,
                    }
                }
            }
        }
    }
}

impl<
        'n,
        M: RawMutex,
        R: Rating + 'static,
        K: AccountingSink + 'static,
        H: Handler,
        const P: usize,
        const S: usize,
        const RX: usize,
        const TX: usize,
    > Core<'n, M, R, K, H, P, S, RX, TX>
{
    /// No connection: serve the endpoint until it asks to connect.
    async fn idle(&mut self) -> PeerHandle {
        loop {
            let mut none: Option<(&mut NoConnection, PeerHandle)> = None;
            if let Settled::Connect(p) = self.settle(&mut none).await {
                return p;
            }
            let _ = self.wait(None::<&mut NoConnection>).await;
        }
    }

    /// Open `conn` while serving the endpoint (its timers and the
    /// application keep running during a connection attempt).
    async fn open<C: Connection>(&mut self, conn: &mut C) -> Result<(), OpenError> {
        let mut opening = pin!(conn.open());
        loop {
            let timer = self.timer();
            match select3(&mut opening, self.node.wait_input(), timer).await {
                Either3::First(r) => return r,
                Either3::Second(()) => {}
                Either3::Third(()) => self.node.handle_timeout(),
            }
            let mut none: Option<(&mut NoConnection, PeerHandle)> = None;
            // A Connect for another peer has to wait: one connection at a time.
            if let Settled::Connect(p) = self.settle(&mut none).await {
                self.node.handle_disconnected(p);
            }
        }
    }

    /// Serve `peer` on the open `conn` until the endpoint closes it or it
    /// breaks.
    async fn serve<C: Connection>(&mut self, conn: &mut C, peer: PeerHandle) {
        let mut link = Some((&mut *conn, peer));
        loop {
            match self.settle(&mut link).await {
                Settled::Quiet => {}
                Settled::Connect(p) => self.node.handle_disconnected(p),
                Settled::Close => break,
            }
            let Some((c, _)) = link.as_mut() else { break };
            match self.wait(Some(&mut **c)).await {
                Ok(0) => {}
                Ok(_) => {
                    if let Err(e) = self.deliver(&mut link).await {
                        self.stats.error(e);
                        break;
                    }
                }
                Err(e) => {
                    self.stats.error(e);
                    break;
                }
            }
        }
        conn.close().await;
        self.node.handle_disconnected(peer);
        // Drop what a closed connection left half-read.
        self.bufs.rx = RxBuf::new();
        let mut none: Option<(&mut NoConnection, PeerHandle)> = None;
        if let Settled::Connect(p) = self.settle(&mut none).await {
            // No connection to give it while this one is being torn down:
            // the endpoint hears the attempt failed and backs off (as in
            // `deliver`), rather than wait out its CER timer.
            self.node.handle_disconnected(p);
        }
    }

    /// Hand every complete message read so far to the endpoint, polling
    /// after each.
    async fn deliver<C: Connection>(
        &mut self,
        link: &mut Option<(&mut C, PeerHandle)>,
    ) -> Result<(), LinkError> {
        let Some(peer) = link.as_ref().map(|(_, p)| *p) else {
            return Ok(());
        };
        loop {
            match self.bufs.rx.next_message() {
                None => return Ok(()),
                Some(Err(e)) => return Err(LinkError::TooLarge(e)),
                Some(Ok(msg)) => {
                    self.stats.messages_received = self.stats.messages_received.saturating_add(1);
                    self.handler.message(peer, Direction::Received, msg);
                    self.node.handle_message(peer, msg, &mut self.handler);
                }
            }
            match self.settle(link).await {
                Settled::Quiet => {}
                Settled::Connect(p) => self.node.handle_disconnected(p),
                Settled::Close => {
                    *link = None;
                    return Ok(());
                }
            }
        }
    }

    /// The endpoint's timer as a future (pending forever without one).
    fn timer(&self) -> Timer {
        match self.node.poll_timeout() {
            Some(t) => Timer::at(at(t)),
            None => Timer::at(embassy_time::Instant::MAX),
        }
    }

    /// Wait for bytes (into the receive buffer: returns how many), the
    /// endpoint's timer or the application (`Ok(0)`).
    async fn wait<C: Connection>(&mut self, conn: Option<&mut C>) -> Result<usize, LinkError> {
        let timer = self.timer();
        let Some(conn) = conn else {
            if let Either::Second(()) = select(self.node.wait_input(), timer).await {
                self.node.handle_timeout();
            }
            return Ok(0);
        };
        let spare = self.bufs.rx.spare();
        if spare.is_empty() {
            // Only a message larger than the buffer fills it; framing
            // reports that before, but never read into nothing.
            return Err(LinkError::TooLarge(RxError::TooLarge {
                len: RX + 1,
                max: RX,
            }));
        }
        match select3(conn.read(spare), self.node.wait_input(), timer).await {
            Either3::First(Ok(0)) => Err(LinkError::Closed),
            Either3::First(Ok(n)) => {
                self.bufs.rx.filled(n);
                Ok(n)
            }
            Either3::First(Err(_)) => Err(LinkError::Io),
            Either3::Second(()) => Ok(0),
            Either3::Third(()) => {
                self.node.handle_timeout();
                Ok(0)
            }
        }
    }

    /// The endpoint's outputs, in the contract's order, until it is quiet
    /// or a transport command needs the caller.
    async fn settle<C: Connection>(&mut self, link: &mut Option<(&mut C, PeerHandle)>) -> Settled {
        let current = link.as_ref().map(|(_, p)| *p);
        let mut connect = None;
        loop {
            let mut progress = false;
            let mut close = false;
            while let Some(cmd) = self.node.poll_command() {
                progress = true;
                match cmd {
                    Command::Close(p) if Some(p) == current => close = true,
                    // Already connected.
                    Command::Connect(p) if Some(p) == current => {}
                    Command::Connect(p) if current.is_none() && connect.is_none() => {
                        connect = Some(p)
                    }
                    // A peer with no connection here: nothing to close; a
                    // second connection is not served by this runner.
                    Command::Connect(p) | Command::Close(p) => self.node.handle_disconnected(p),
                }
            }
            while let Some(o) = self.node.poll_transmit(&mut self.bufs.tx) {
                progress = true;
                let bytes = self.bufs.tx.get(..o.len).unwrap_or(&[]);
                match link.as_mut() {
                    Some((conn, p)) if *p == o.peer => {
                        for_each_message(bytes, |m| {
                            self.handler.message(o.peer, Direction::Sent, m);
                            self.stats.messages_sent = self.stats.messages_sent.saturating_add(1);
                        });
                        if conn.write_all(bytes).await.is_err() {
                            self.stats.error(LinkError::Io);
                            close = true;
                        }
                    }
                    _ => {
                        let n = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
                        self.stats.bytes_dropped = self.stats.bytes_dropped.saturating_add(n);
                    }
                }
            }
            if close {
                if let Some((conn, _)) = link.as_mut() {
                    let _ = conn.flush().await;
                }
                return Settled::Close;
            }
            if !progress {
                return match connect {
                    Some(p) => Settled::Connect(p),
                    None => Settled::Quiet,
                };
            }
        }
    }
}

/// Call `f` on each whole message in `bytes` (what `poll_transmit` wrote:
/// whole messages, or one part of a message larger than the buffer).
fn for_each_message(mut bytes: &[u8], mut f: impl FnMut(&[u8])) {
    while let Some(len) = bytes
        .get(1..4)
        .map(|b| u32::from_be_bytes([0, b[0], b[1], b[2]]) as usize)
    {
        match bytes.get(..len) {
            Some(m) if len >= HEADER_LEN => {
                f(m);
                bytes = &bytes[len..];
            }
            _ => {
                f(bytes);
                return;
            }
        }
    }
}

/// The connection type of a runner with no connection (never built).
enum NoConnection {}

impl embedded_io_async::ErrorType for NoConnection {
    type Error = core::convert::Infallible;
}

impl Read for NoConnection {
    async fn read(&mut self, _: &mut [u8]) -> Result<usize, Self::Error> {
        match *self {}
    }
}

impl Write for NoConnection {
    async fn write(&mut self, _: &[u8]) -> Result<usize, Self::Error> {
        match *self {}
    }
    async fn flush(&mut self) -> Result<(), Self::Error> {
        match *self {}
    }
}

impl Connection for NoConnection {
    async fn open(&mut self) -> Result<(), OpenError> {
        match *self {}
    }
    async fn close(&mut self) {
        match *self {}
    }
}
