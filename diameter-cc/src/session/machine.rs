//! The one shape of every session machine ([`Machine`]), and what it
//! exchanges with whoever drives it: the node it runs on ([`Node`], passed
//! in a [`Ctx`]), the requests it writes ([`Transmit`]), where they go
//! ([`Route`]) and how a request can fail ([`RequestFailed`]).

use diameter_core::peer::{identity_buf, ConfigError, IdentityBuf};
use diameter_core::time::Instant;
use diameter_core::{ApplicationId, EncodeError, Error, Message};

use super::WallClock;

/// The node a session runs on: its Origin-Host and Origin-Realm (RFC 6733
/// §6.3, §6.4) and its wall clock. One per endpoint, shared by every
/// session.
///
/// ```
/// use diameter_cc::session::{Node, WallClock};
/// let node = Node::new("client.diameter.test", "diameter.test", WallClock::new(1_704_067_200))?;
/// assert_eq!(node.origin_host.as_str(), "client.diameter.test");
/// # Ok::<(), diameter_core::peer::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Origin-Host of every message the sessions write.
    pub origin_host: IdentityBuf,
    /// Origin-Realm of every message the sessions write.
    pub origin_realm: IdentityBuf,
    /// Wall clock for Event-Timestamp and the SIP accounting times.
    pub clock: WallClock,
}

impl Node {
    /// A node named `origin_host` in `origin_realm`.
    pub fn new(
        origin_host: &str,
        origin_realm: &str,
        clock: WallClock,
    ) -> Result<Self, ConfigError> {
        Ok(Node {
            origin_host: identity_buf("Origin-Host", origin_host)?,
            origin_realm: identity_buf("Origin-Realm", origin_realm)?,
            clock,
        })
    }
}

/// What a machine may use during one call: the node, and the settings
/// (and, for a server, the rating engine or record store) shared by every
/// session of its kind.
#[derive(Debug)]
pub struct Ctx<'a, S: ?Sized> {
    /// The node.
    pub node: &'a Node,
    /// The shared part of this session kind ([`Machine::Shared`]).
    pub shared: &'a mut S,
}

impl<'a, S: ?Sized> Ctx<'a, S> {
    /// Bundle the node and the shared part.
    pub fn new(node: &'a Node, shared: &'a mut S) -> Self {
        Ctx { node, shared }
    }

    /// A shorter borrow, to pass on to a helper.
    pub fn reborrow(&mut self) -> Ctx<'_, S> {
        Ctx {
            node: self.node,
            shared: self.shared,
        }
    }
}

/// Where a session's requests go (RFC 6733 §6.1: routing by
/// Destination-Realm and application, optionally to one host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Route<'a> {
    /// The application of every request of the session.
    pub application: ApplicationId,
    /// Destination-Realm.
    pub realm: &'a str,
    /// Destination-Host: prefer the peer with this Origin-Host.
    pub host: Option<&'a str>,
    /// Only that host may take the requests (a credit-control session whose
    /// server does not support failover, RFC 8506 §5.7): when it is
    /// unreachable the request fails rather than going to another server.
    pub host_only: bool,
}

impl<'a> Route<'a> {
    /// Where a request the application encoded itself goes: its
    /// application, Destination-Realm and Destination-Host (RFC 6733 §6.1).
    /// A request naming a Destination-Host prefers that peer but may go
    /// elsewhere in the realm (`host_only` false). Every routable request
    /// carries a Destination-Realm (§6.1): without one, or with a value
    /// that does not decode, the error says which AVP and why.
    ///
    /// ```
    /// use diameter_cc::session::Route;
    /// use diameter_core::{Message, ErrorKind};
    /// # let bytes = diameter_core::doc_example();
    /// let m = Message::parse(&bytes).unwrap();
    /// // The example (a DWR) names no Destination-Realm.
    /// assert_eq!(Route::of_request(&m).unwrap_err().kind(), ErrorKind::MissingAvp);
    /// ```
    pub fn of_request(request: &Message<'a>) -> Result<Self, Error> {
        use diameter_core::dict::base;
        Ok(Route {
            application: request.application_id(),
            realm: request.require(&base::DESTINATION_REALM)?,
            host: request.get(&base::DESTINATION_HOST)?,
            host_only: false,
        })
    }
}

/// A request a machine wrote into the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use]
pub struct Transmit {
    /// Bytes written.
    pub len: usize,
    /// The session's own name for the request (CC-Request-Number,
    /// Accounting-Record-Number, ...), given back with its answer or
    /// failure.
    pub request: u32,
    /// When to give up waiting for the answer: the session owns this timer
    /// (Tx, the late-answer wait of RFC 8506 §5.7, ...); whoever sends the
    /// request reports [`Failure::TimedOut`] at this time.
    pub deadline: Instant,
    /// `Some(id)`: a retransmission of a request first sent with this
    /// End-to-End identifier. Send it with that identifier and the T flag
    /// (RFC 6733 §5.5.4); `None`: a new request, give it fresh identifiers.
    pub end_to_end: Option<u32>,
}

/// Why a request ended without a usable answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Failure {
    /// No answer by the deadline of [`Transmit::deadline`].
    TimedOut,
    /// The connection it went out on failed, and another peer can take it
    /// (RFC 6733 §5.5.4 failover): send it again, at once, with the T flag.
    HandedBack,
    /// No peer can take it (none open for its route): a "failure to send"
    /// in RFC 8506 §7 terms.
    Unreachable,
    /// The answer came but is not a valid answer.
    InvalidAnswer(Error),
    /// It could not be encoded (the buffer is too small, a value is out of
    /// range).
    Unsendable(EncodeError),
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Failure::TimedOut => f.write_str("no answer in time"),
            Failure::HandedBack => f.write_str("connection failed; failing over"),
            Failure::Unreachable => f.write_str("no peer can take the request"),
            Failure::InvalidAnswer(e) => write!(f, "invalid answer: {e}"),
            Failure::Unsendable(e) => write!(f, "cannot encode the request: {e}"),
        }
    }
}

/// A request of the session that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RequestFailed {
    /// [`Transmit::request`].
    pub request: u32,
    /// What happened.
    pub failure: Failure,
    /// The End-to-End identifier it went out with, if it went out: a
    /// retransmission keeps it.
    pub end_to_end: Option<u32>,
}

/// The shape every session machine has (see [`crate::session`] for the
/// driving contract). The endpoint drives every kind through it.
pub trait Machine {
    /// What every session of this kind on a node shares: settings, and for
    /// servers the rating engine or record store.
    type Shared: ?Sized;
    /// What the application hears.
    type Event;

    /// The Session-Id.
    fn session_id(&self) -> &str;

    /// Where the session's requests go now.
    fn route<'a>(&'a self, shared: &'a Self::Shared) -> Route<'a>;

    /// The answer to request `request` ([`Transmit::request`]), matched by
    /// Hop-by-Hop and End-to-End identifier and validated.
    fn handle_answer(
        &mut self,
        cx: Ctx<'_, Self::Shared>,
        now: Instant,
        request: u32,
        answer: &Message<'_>,
    );

    /// A request of this session failed.
    fn handle_request_failed(
        &mut self,
        cx: Ctx<'_, Self::Shared>,
        now: Instant,
        failed: RequestFailed,
    );

    /// A validated request addressed to this session (by Session-Id): write
    /// the answer into `answer` and return its length. `duplicate`: the
    /// request carries the T flag and was seen before (RFC 6733 §6.5).
    fn handle_request(
        &mut self,
        cx: Ctx<'_, Self::Shared>,
        now: Instant,
        request: &Message<'_>,
        duplicate: bool,
        answer: &mut [u8],
    ) -> Result<usize, EncodeError>;

    /// Act on expired timers.
    fn handle_timeout(&mut self, cx: Ctx<'_, Self::Shared>, now: Instant);

    /// The next request, written into `buf`.
    #[must_use]
    fn poll_transmit(
        &mut self,
        cx: Ctx<'_, Self::Shared>,
        now: Instant,
        buf: &mut [u8],
    ) -> Option<Result<Transmit, EncodeError>>;

    /// The next event for the application.
    #[must_use]
    fn poll_event(&mut self) -> Option<Self::Event>;

    /// When to call [`Machine::handle_timeout`] next.
    #[must_use]
    fn poll_timeout(&self) -> Option<Instant>;

    /// The session is over and has nothing more to send or say once its
    /// events are polled: its slot can be reused.
    fn is_closed(&self) -> bool;
}
