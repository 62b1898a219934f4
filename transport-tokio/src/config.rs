//! What a node connects to and the limits it keeps.

use std::net::SocketAddr;
use std::time::Duration;

/// A peer this node connects to (an initiator, RFC 6733 §2.1): where, and
/// which realm it serves. Peers are tried in the order they were added:
/// a request goes to the first open peer that serves its realm and
/// application.
///
/// ```
/// use diameter_tokio::Target;
/// let ocs = Target::new("127.0.0.1:3868".parse().unwrap()).realm("example.org");
/// assert_eq!(ocs.realm.as_deref(), Some("example.org"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Where to connect.
    pub addr: SocketAddr,
    /// The realm it serves (`None`: any realm, a default route).
    pub realm: Option<String>,
    /// TLS at connect (RFC 6733 §2.1) with this server name; `None`: plain
    /// TCP. Needs the `tls` feature and a client TLS configuration on the
    /// builder.
    pub tls_server_name: Option<String>,
}

impl Target {
    /// Plain TCP to `addr`, any realm.
    pub fn new(addr: SocketAddr) -> Self {
        Target {
            addr,
            realm: None,
            tls_server_name: None,
        }
    }

    /// Serve only requests for `realm`.
    pub fn realm(mut self, realm: &str) -> Self {
        self.realm = Some(realm.to_owned());
        self
    }

    /// Connect with TLS, checking the server's certificate for `name`.
    pub fn tls(mut self, name: &str) -> Self {
        self.tls_server_name = Some(name.to_owned());
        self
    }
}

/// Limits a node enforces on its peers. Each is enforced with a clear error
/// value or a log line (target `diameter_tokio`), never by crashing.
///
/// ```
/// use diameter_tokio::Limits;
/// let l = Limits { max_connections: 8, ..Limits::default() };
/// assert_eq!(l.max_message_size, 65_536);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message accepted (at most 65,536 bytes); a peer that
    /// announces a larger one is disconnected.
    pub max_message_size: usize,
    /// Connections accepted at once; more are closed at once (logged). The
    /// endpoint's peer table bounds this too.
    pub max_connections: usize,
    /// Requests of one connection handed to a [`crate::Handler`] and not
    /// answered yet; more are answered 3004 DIAMETER_TOO_BUSY.
    pub max_requests_in_flight: usize,
    /// Bytes queued for a connection that does not read them; beyond this
    /// the connection is closed (a stuck or hostile reader).
    pub max_queued_bytes: usize,
    /// A connection that sends nothing at all for this long is closed
    /// (the watchdog keeps healthy connections talking).
    pub idle_timeout: Duration,
    /// A message started and not finished within this long is a stalled
    /// peer: the connection is closed.
    pub stall_timeout: Duration,
    /// How long a TCP connect (and TLS handshake) may take.
    pub connect_timeout: Duration,
    /// How long a request waits for its answer by default
    /// ([`crate::Node::request`]).
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: 65_536,
            max_connections: 64,
            max_requests_in_flight: 4096,
            max_queued_bytes: 16 << 20,
            idle_timeout: Duration::from_secs(120),
            stall_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
        }
    }
}
