//! Handles: a peer slot or a session slot plus a generation, so that a
//! handle kept after its slot was reused is recognised as stale (smoltcp's
//! `SocketHandle`, quinn-proto's `ConnectionHandle`). And the request
//! token the endpoint gives the peer machine, which names the session and
//! the session's own request.

/// A peer connection of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PeerHandle {
    pub(crate) index: u16,
    pub(crate) generation: u16,
}

impl PeerHandle {
    /// The slot index (stable while the handle is valid; for a
    /// transport's own table of sockets).
    pub const fn index(self) -> usize {
        self.index as usize
    }
}

/// A session of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SessionHandle {
    pub(crate) index: u16,
    pub(crate) generation: u16,
}

impl SessionHandle {
    /// The slot index (stable while the handle is valid).
    pub const fn index(self) -> usize {
        self.index as usize
    }
}

/// Tokens with this bit name a session's request; the others are the
/// application's own ([`super::Endpoint::send_request`]).
pub(crate) const SESSION_TOKEN: u64 = 1 << 63;

/// The largest token the application may use for its own requests.
pub const MAX_APP_TOKEN: u64 = SESSION_TOKEN - 1;

pub(crate) const fn session_token(h: SessionHandle, request: u32) -> u64 {
    SESSION_TOKEN
        | ((h.generation as u64 & 0x7fff) << 48)
        | ((h.index as u64) << 32)
        | request as u64
}

/// The session and request a token names, if it is a session token.
pub(crate) const fn from_token(token: u64) -> Option<(SessionHandle, u32)> {
    if token & SESSION_TOKEN == 0 {
        return None;
    }
    Some((
        SessionHandle {
            index: (token >> 32) as u16,
            generation: ((token >> 48) & 0x7fff) as u16,
        },
        token as u32,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        let h = SessionHandle {
            index: 1023,
            generation: 0x7abc,
        };
        let t = session_token(h, 0xdead_beef);
        assert_eq!(from_token(t), Some((h, 0xdead_beef)));
        assert_eq!(from_token(MAX_APP_TOKEN), None);
    }
}
