//! Counters of a node, readable from any handle without asking the node's
//! thread, and the events it broadcasts.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

use diameter_cc::endpoint::{PeerHandle, SessionEvent, SessionHandle};
use diameter_cc::server::accounting::AccountingServerEvent;
use diameter_cc::server::credit_control::CcServerEvent;
use diameter_core::peer::DownReason;

/// Live counters (atomics), shared by the node's thread and its handles.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub answers: AtomicU64,
    pub timeouts: AtomicU64,
    pub failovers: AtomicU64,
    pub retransmissions: AtomicU64,
    pub unreachable: AtomicU64,
    pub connects: AtomicU64,
    pub connect_failures: AtomicU64,
    pub reconnects: AtomicU64,
    pub accepted: AtomicU64,
    pub refused_connections: AtomicU64,
    pub closed_by_limits: AtomicU64,
    pub too_busy: AtomicU64,
    pub messages_in: AtomicU64,
    pub messages_out: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    pub handled_requests: AtomicU64,
    pub by_result_code: Mutex<BTreeMap<u32, u64>>,
}

impl Counters {
    pub(crate) fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Relaxed);
    }

    pub(crate) fn result_code(&self, rc: u32) {
        if let Ok(mut m) = self.by_result_code.lock() {
            *m.entry(rc).or_insert(0) += 1;
        }
    }

    pub(crate) fn snapshot(&self) -> Stats {
        Stats {
            requests: self.requests.load(Relaxed),
            answers: self.answers.load(Relaxed),
            timeouts: self.timeouts.load(Relaxed),
            failovers: self.failovers.load(Relaxed),
            retransmissions: self.retransmissions.load(Relaxed),
            unreachable: self.unreachable.load(Relaxed),
            connects: self.connects.load(Relaxed),
            connect_failures: self.connect_failures.load(Relaxed),
            reconnects: self.reconnects.load(Relaxed),
            accepted: self.accepted.load(Relaxed),
            refused_connections: self.refused_connections.load(Relaxed),
            closed_by_limits: self.closed_by_limits.load(Relaxed),
            too_busy: self.too_busy.load(Relaxed),
            messages_in: self.messages_in.load(Relaxed),
            messages_out: self.messages_out.load(Relaxed),
            bytes_in: self.bytes_in.load(Relaxed),
            bytes_out: self.bytes_out.load(Relaxed),
            handled_requests: self.handled_requests.load(Relaxed),
            answers_by_result_code: self
                .by_result_code
                .lock()
                .map(|m| m.clone())
                .unwrap_or_default(),
        }
    }
}

/// A node's counters at one moment ([`crate::Node::stats`]).
///
/// ```
/// let s = diameter_tokio::Stats::default();
/// assert_eq!(s.requests, 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// The application's own requests sent ([`crate::Node::request`]).
    pub requests: u64,
    /// Answers to them received.
    pub answers: u64,
    /// Requests that got no answer in time.
    pub timeouts: u64,
    /// The application's own requests ([`crate::Node::request`]) sent
    /// again through another peer after a connection failed.
    pub failovers: u64,
    /// Requests sent with the T flag (RFC 6733 §5.5.4, §9.4): every
    /// failover, the application's requests and the sessions' CCRs and
    /// ACRs alike, and accounting records sent again after a failed
    /// attempt.
    pub retransmissions: u64,
    /// Requests no open peer could take before their deadline.
    pub unreachable: u64,
    /// Transport connections opened to peers.
    pub connects: u64,
    /// Connection attempts that failed (refused, timed out, TLS).
    pub connect_failures: u64,
    /// Connections opened again after one was lost.
    pub reconnects: u64,
    /// Connections accepted by the listeners.
    pub accepted: u64,
    /// Connections refused because of [`crate::Limits::max_connections`]
    /// or a full peer table.
    pub refused_connections: u64,
    /// Connections closed for breaking a limit: oversize or unframeable
    /// messages, a stall, idleness, a reader that does not read.
    pub closed_by_limits: u64,
    /// Requests answered 3004 because too many were in flight.
    pub too_busy: u64,
    /// Messages received.
    pub messages_in: u64,
    /// Messages sent.
    pub messages_out: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Requests handed to handlers.
    pub handled_requests: u64,
    /// Answers to the application's requests, by Result-Code.
    pub answers_by_result_code: BTreeMap<u32, u64>,
}

/// What a node reports on its event stream ([`crate::Node::events`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeEvent {
    /// A peer passed the capabilities exchange.
    PeerUp {
        /// Which connection.
        peer: PeerHandle,
        /// The peer's Origin-Host.
        host: String,
        /// Its address.
        addr: Option<SocketAddr>,
    },
    /// A peer connection ended.
    PeerDown {
        /// Which connection.
        peer: PeerHandle,
        /// Why.
        reason: DownReason,
    },
    /// The watchdog suspects a peer (RFC 3539): requests go elsewhere.
    PeerSuspect {
        /// Which connection.
        peer: PeerHandle,
    },
    /// The watchdog is satisfied again after a suspicion or a reconnection
    /// (RFC 3539 REOPEN): requests may go to the peer again.
    PeerFailback {
        /// Which connection.
        peer: PeerHandle,
    },
    /// An event of a session served by this node (credit-control or
    /// accounting server sessions), or of a client session no
    /// [`crate::Call`] listens to any more.
    Session {
        /// The session.
        session: SessionHandle,
        /// Its Session-Id.
        session_id: String,
        /// What happened.
        event: SessionEvent,
    },
    /// The credit-control server answered a one-time event or refused a
    /// new session.
    CreditControlServer(CcServerEvent),
    /// The accounting server stored an EVENT record or refused a session.
    AccountingServer(AccountingServerEvent),
    /// An accepted connection's TLS handshake failed (RFC 6733 §2.1: TLS
    /// comes before the CER), or did not finish within the connect
    /// timeout; the connection was closed.
    HandshakeFailed {
        /// The client's address.
        addr: SocketAddr,
        /// What went wrong, in words (rustls' error or the timeout).
        error: String,
    },
    /// A connection was closed for breaking a [`crate::Limits`] limit.
    LimitBroken {
        /// The connection's address.
        addr: Option<SocketAddr>,
        /// Which limit, in words.
        what: String,
    },
}

/// Which way a message went ([`crate::Tap`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received from the peer.
    In,
    /// Sent to the peer.
    Out,
}
