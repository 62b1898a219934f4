//! What the endpoint tells the application and the transport, and how its
//! calls can fail.

use diameter_core::peer;

use super::handles::{PeerHandle, SessionHandle};
use super::sessions::{SessionEvent, SessionKind};
#[cfg(feature = "accounting")]
use crate::client::accounting::AccountingError;
#[cfg(feature = "server")]
use crate::server::accounting::AccountingServerEvent;
#[cfg(feature = "server")]
use crate::server::credit_control::CcServerEvent;

/// An event of the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Event {
    /// A peer connection's event: for the transport [`peer::Event::Connect`]
    /// and [`peer::Event::Close`]; for the application `Up`, `Down`,
    /// `Suspect`...; and the end of the application's own requests
    /// ([`super::Endpoint::send_request`]). The sessions' requests never
    /// show up here: the endpoint gives them back to their session.
    Peer {
        /// Which connection.
        peer: PeerHandle,
        /// What happened.
        event: peer::Event,
    },
    /// A session's event.
    Session {
        /// Which session.
        session: SessionHandle,
        /// What happened.
        event: SessionEvent,
    },
    /// A one-time credit-control event (CCR-Event) was served, or a new
    /// credit-control session refused: no session handle.
    #[cfg(feature = "server")]
    CreditControlServer(CcServerEvent),
    /// An EVENT accounting record was served, or a new accounting session
    /// refused: no session handle.
    #[cfg(feature = "server")]
    AccountingServer(AccountingServerEvent),
}

/// What the endpoint sends: `len` bytes of the caller's buffer go to
/// `peer`'s connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Outgoing {
    /// The connection to write to.
    pub peer: PeerHandle,
    /// Bytes written into the buffer given to
    /// [`super::Endpoint::poll_transmit`].
    pub len: usize,
}

/// Counters of the endpoint (each peer machine keeps its own too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EndpointStats {
    /// Answers that matched no outstanding request (late after their
    /// deadline, duplicates): dropped (RFC 6733 §6.2).
    pub unmatched_answers: u32,
    /// Answers for a session that no longer exists: dropped.
    pub stale_answers: u32,
    /// Requests no peer could take (a "failure to send").
    pub unreachable: u32,
    /// Requests handed back by a failed connection and sent again through
    /// another peer.
    pub failovers: u32,
    /// Requests that could not be encoded.
    pub encode_errors: u32,
    /// Requests refused with 3004 because the session table was full.
    pub busy: u32,
    /// RAR/ASR/CCR-U/T naming no session: answered 5002.
    pub unknown_sessions: u32,
}

/// Why a session could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum OpenError {
    /// Every session slot is taken.
    TableFull,
    /// A live session already has this Session-Id.
    DuplicateSessionId,
    /// The Session-Id is empty or longer than
    /// [`crate::session::MAX_SESSION_ID`].
    InvalidSessionId,
    /// The endpoint was built without the settings of this kind.
    NotConfigured(SessionKind),
}

impl core::fmt::Display for OpenError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            OpenError::TableFull => f.write_str("session table full"),
            OpenError::DuplicateSessionId => f.write_str("a live session has this Session-Id"),
            OpenError::InvalidSessionId => f.write_str("Session-Id empty or too long"),
            OpenError::NotConfigured(k) => write!(f, "endpoint has no {k:?} settings"),
        }
    }
}

impl core::error::Error for OpenError {}

/// Why a call on a session handle failed. Nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CallError {
    /// The handle names no live session (it ended, or was never valid).
    UnknownSession,
    /// The session is of another kind.
    WrongKind(SessionKind),
    /// The accounting session refused it.
    #[cfg(feature = "accounting")]
    Accounting(AccountingError),
}

impl core::fmt::Display for CallError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CallError::UnknownSession => f.write_str("no such session"),
            CallError::WrongKind(k) => write!(f, "not possible on a {k:?} session"),
            #[cfg(feature = "accounting")]
            CallError::Accounting(e) => write!(f, "accounting: {e}"),
        }
    }
}

impl core::error::Error for CallError {}

#[cfg(feature = "accounting")]
impl From<AccountingError> for CallError {
    fn from(e: AccountingError) -> Self {
        CallError::Accounting(e)
    }
}
