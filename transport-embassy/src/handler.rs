//! What the application does with the messages the endpoint does not own:
//! requests of applications the node does not serve (RFC 6733 §6: every
//! request gets an answer) and answers to the application's own requests
//! (`Endpoint::send_request`). Also a tap on every message that crosses
//! the connection, for logs and tests.

use diameter_cc::endpoint::PeerHandle;
use diameter_core::answer::{result_answer, Identity};
use diameter_core::{EncodeError, Message, ResultCode};

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Direction {
    /// Written to the connection.
    Sent,
    /// Read from the connection.
    Received,
}

/// The application's side of a [`crate::Runner`]. Every method has a
/// default: a node that serves only its own sessions needs [`NoHandler`].
///
/// ```
/// use diameter_embassy::{Direction, Handler};
/// use diameter_cc::endpoint::PeerHandle;
///
/// /// Counts messages each way.
/// #[derive(Default)]
/// struct Count { sent: usize, received: usize }
/// impl Handler for Count {
///     fn message(&mut self, _peer: PeerHandle, dir: Direction, _bytes: &[u8]) {
///         match dir {
///             Direction::Sent => self.sent += 1,
///             Direction::Received => self.received += 1,
///         }
///     }
/// }
/// ```
pub trait Handler {
    /// A request the endpoint hands over (an application the node does
    /// not serve, or a server-initiated request no session owns): write
    /// its answer into `out` and return its length. The default answers
    /// 5012 DIAMETER_UNABLE_TO_COMPLY (RFC 6733 §7.1.5). An error sends
    /// nothing (the peer's request times out).
    fn request(
        &mut self,
        peer: PeerHandle,
        request: &Message<'_>,
        me: &Identity<'_>,
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        let _ = peer;
        result_answer(request, ResultCode::UNABLE_TO_COMPLY, me, out)
            .finish()
            .map(<[u8]>::len)
    }

    /// The answer to a request the application sent itself with
    /// `Endpoint::send_request` and `token` (validated against the
    /// credit-control dictionary; `valid` false if it failed).
    fn answer(&mut self, peer: PeerHandle, token: u64, answer: &[u8], valid: bool) {
        let _ = (peer, token, answer, valid);
    }

    /// Every message written to or read from the connection, whole.
    fn message(&mut self, peer: PeerHandle, dir: Direction, bytes: &[u8]) {
        let _ = (peer, dir, bytes);
    }
}

/// The defaults: unknown requests answered 5012, nothing watched.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHandler;

impl Handler for NoHandler {}

impl<H: Handler + ?Sized> Handler for &mut H {
    fn request(
        &mut self,
        peer: PeerHandle,
        request: &Message<'_>,
        me: &Identity<'_>,
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        (**self).request(peer, request, me, out)
    }
    fn answer(&mut self, peer: PeerHandle, token: u64, answer: &[u8], valid: bool) {
        (**self).answer(peer, token, answer, valid)
    }
    fn message(&mut self, peer: PeerHandle, dir: Direction, bytes: &[u8]) {
        (**self).message(peer, dir, bytes)
    }
}
