//! Where connections come from: the [`Transport`] and [`Connection`]
//! traits a [`crate::Runner`] drives, and their implementations over
//! `embassy_net::tcp::TcpSocket` ([`TcpClient`] connects, [`TcpServer`]
//! accepts). RFC 6733 §2.1: Diameter runs over TCP (or SCTP), port 3868.
//!
//! A connection is read and written through the `embedded_io_async`
//! traits, so any byte stream can carry Diameter (a test can wrap a socket
//! to watch every byte). A transport hands out one connection at a time;
//! the runner drops it before asking for the next.

use embassy_net::tcp::{self, TcpSocket};
use embassy_net::{IpEndpoint, Stack};
use embassy_time::{with_timeout, Duration};

pub use diameter_core::peer::Role;

/// Why a connection could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum OpenError {
    /// Refused or reset by the remote end.
    Refused,
    /// No answer in time.
    TimedOut,
    /// No route to the remote address (no address configured yet?).
    NoRoute,
    /// The socket was not closed (a bug in the transport).
    InvalidState,
}

impl core::fmt::Display for OpenError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            OpenError::Refused => "connection refused or reset",
            OpenError::TimedOut => "connection timed out",
            OpenError::NoRoute => "no route to host",
            OpenError::InvalidState => "socket not closed",
        })
    }
}

impl core::error::Error for OpenError {}

/// One transport connection: a byte stream that can be opened and closed.
///
/// Implemented for the sockets of [`TcpClient`] and [`TcpServer`];
/// implement it to carry Diameter over anything else.
#[allow(async_fn_in_trait)] // single-threaded executors: no `Send` bound wanted
pub trait Connection: embedded_io_async::Read + embedded_io_async::Write {
    /// Open it: connect (initiator) or wait for the remote end to connect
    /// (responder). Cancel-safe: the runner polls it alongside the
    /// endpoint's timers and keeps the same future until it completes.
    async fn open(&mut self) -> Result<(), OpenError>;
    /// Close it gracefully once everything written has been sent (TCP FIN,
    /// RFC 6733 §5.4 closes the transport after the DPA), within a bounded
    /// time; afterwards it is not used again.
    async fn close(&mut self);
}

/// A source of connections to one peer, in one role.
pub trait Transport {
    /// The connection type; it may borrow the transport's buffers.
    type Conn<'t>: Connection
    where
        Self: 't;
    /// Initiator (we connect, when the endpoint asks) or responder (we
    /// accept whenever no connection is up).
    fn role(&self) -> Role;
    /// A new, unopened connection.
    fn connection(&mut self) -> Self::Conn<'_>;
}

/// How long a graceful close may take before the connection is reset.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// An embassy-net TCP socket as a [`Connection`].
pub struct TcpConnection<'t> {
    socket: TcpSocket<'t>,
    open: Open,
}

#[derive(Clone, Copy)]
enum Open {
    Connect(IpEndpoint, Duration),
    Accept(u16),
}

impl<'t> TcpConnection<'t> {
    /// The socket (to read its state or endpoints).
    pub fn socket(&self) -> &TcpSocket<'t> {
        &self.socket
    }
}

impl embedded_io_async::ErrorType for TcpConnection<'_> {
    type Error = tcp::Error;
}

impl embedded_io_async::Read for TcpConnection<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, tcp::Error> {
        self.socket.read(buf).await
    }
}

impl embedded_io_async::Write for TcpConnection<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, tcp::Error> {
        self.socket.write(buf).await
    }
    async fn flush(&mut self) -> Result<(), tcp::Error> {
        self.socket.flush().await
    }
}

impl Connection for TcpConnection<'_> {
    async fn open(&mut self) -> Result<(), OpenError> {
        match self.open {
            Open::Connect(remote, timeout) => {
                match with_timeout(timeout, self.socket.connect(remote)).await {
                    Err(_) => Err(OpenError::TimedOut),
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(tcp::ConnectError::NoRoute)) => Err(OpenError::NoRoute),
                    Ok(Err(tcp::ConnectError::TimedOut)) => Err(OpenError::TimedOut),
                    Ok(Err(tcp::ConnectError::InvalidState)) => Err(OpenError::InvalidState),
                    Ok(Err(_)) => Err(OpenError::Refused),
                }
            }
            Open::Accept(port) => self
                .socket
                .accept(port)
                .await
                .map_err(|_| OpenError::InvalidState),
        }
    }

    async fn close(&mut self) {
        self.socket.close();
        if with_timeout(CLOSE_TIMEOUT, self.socket.flush())
            .await
            .is_err()
        {
            self.socket.abort();
            let _ = with_timeout(CLOSE_TIMEOUT, self.socket.flush()).await;
        }
    }
}

fn new_socket<'t>(stack: Stack<'t>, rx: &'t mut [u8], tx: &'t mut [u8]) -> TcpSocket<'t> {
    let mut socket = TcpSocket::new(stack, rx, tx);
    // Requests and answers are small and latency matters more than
    // segment count (a CCR waits for its CCA).
    socket.set_nagle_enabled(false);
    socket
}

/// Connect to one peer over TCP (initiator, RFC 6733 §2.1), with socket
/// buffers the caller sizes (at least the largest message is a good rule).
///
/// ```no_run
/// # async fn doc(stack: embassy_net::Stack<'static>) {
/// use diameter_embassy::TcpClient;
/// use embassy_net::{IpEndpoint, Ipv4Address};
/// let (mut rx, mut tx) = ([0u8; 2048], [0u8; 2048]);
/// let ocs = IpEndpoint::new(Ipv4Address::new(10, 0, 0, 1).into(), 3868);
/// let transport = TcpClient::new(stack, ocs, &mut rx, &mut tx);
/// # let _ = transport;
/// # }
/// ```
pub struct TcpClient<'a> {
    stack: Stack<'a>,
    remote: IpEndpoint,
    rx: &'a mut [u8],
    tx: &'a mut [u8],
    connect_timeout: Duration,
}

impl<'a> TcpClient<'a> {
    /// Connect to `remote` through `stack`, with these socket buffers.
    pub fn new(stack: Stack<'a>, remote: IpEndpoint, rx: &'a mut [u8], tx: &'a mut [u8]) -> Self {
        TcpClient {
            stack,
            remote,
            rx,
            tx,
            connect_timeout: Duration::from_secs(10),
        }
    }

    /// Give up a connection attempt after `timeout` (default 10 s); the
    /// peer machine then waits its reconnect interval (Tc, RFC 6733 §2.1).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
}

impl Transport for TcpClient<'_> {
    type Conn<'t>
        = TcpConnection<'t>
    where
        Self: 't;

    fn role(&self) -> Role {
        Role::Initiator
    }

    fn connection(&mut self) -> TcpConnection<'_> {
        TcpConnection {
            socket: new_socket(self.stack, self.rx, self.tx),
            open: Open::Connect(self.remote, self.connect_timeout),
        }
    }
}

/// Accept peers on a TCP port, one connection at a time (responder, RFC
/// 6733 §2.1: 3868 is Diameter's port).
///
/// ```no_run
/// # async fn doc(stack: embassy_net::Stack<'static>) {
/// use diameter_embassy::TcpServer;
/// let (mut rx, mut tx) = ([0u8; 2048], [0u8; 2048]);
/// let transport = TcpServer::new(stack, 3868, &mut rx, &mut tx);
/// # let _ = transport;
/// # }
/// ```
pub struct TcpServer<'a> {
    stack: Stack<'a>,
    port: u16,
    rx: &'a mut [u8],
    tx: &'a mut [u8],
}

impl<'a> TcpServer<'a> {
    /// Listen on `port` of `stack`, with these socket buffers.
    pub fn new(stack: Stack<'a>, port: u16, rx: &'a mut [u8], tx: &'a mut [u8]) -> Self {
        TcpServer {
            stack,
            port,
            rx,
            tx,
        }
    }
}

impl Transport for TcpServer<'_> {
    type Conn<'t>
        = TcpConnection<'t>
    where
        Self: 't;

    fn role(&self) -> Role {
        Role::Responder
    }

    fn connection(&mut self) -> TcpConnection<'_> {
        TcpConnection {
            socket: new_socket(self.stack, self.rx, self.tx),
            open: Open::Accept(self.port),
        }
    }
}
