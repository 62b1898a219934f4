//! The endpoint's peer connections and the choice among them (RFC 6733
//! §6.1: a request goes to a peer by Destination-Realm and application,
//! or to the peer named by Destination-Host).

use diameter_core::peer::{IdentityBuf, Peer, Role};

use crate::session::Route;

/// One peer connection slot.
pub(crate) struct PeerSlot<const P: usize, const TX: usize> {
    pub peer: Peer<P, TX>,
    pub generation: u16,
    /// Realms this peer serves (`None`: any, the default route).
    pub realm: Option<IdentityBuf>,
    /// A responder slot is given back when its connection ends.
    pub in_use: bool,
}

impl<const P: usize, const TX: usize> PeerSlot<P, TX> {
    pub(crate) fn role(&self) -> Role {
        self.peer.role()
    }

    fn can_take(&self, application: u32) -> bool {
        self.in_use
            && self.peer.is_open()
            && self.peer.pending_len() < self.peer.pending_capacity()
            && (application == 0 || self.peer.peer_info().allows(application))
    }

    fn serves(&self, realm: &str) -> bool {
        self.realm
            .as_ref()
            .is_none_or(|r| r.as_str().eq_ignore_ascii_case(realm))
    }

    fn is(&self, host: &str) -> bool {
        // The identity learnt at the last capabilities exchange, kept while
        // the connection is down.
        self.in_use
            && self
                .peer
                .peer_info()
                .origin_host
                .as_str()
                .eq_ignore_ascii_case(host)
    }
}

/// The peer a request with `route` goes to now: the open peer whose
/// Origin-Host is the route's host, else (unless the route allows only
/// that host and it is a direct peer) the first open peer, in the order
/// the peers were added, that serves the realm and negotiated the
/// application. Peers whose pending table is full are skipped.
pub(crate) fn choose<const P: usize, const TX: usize>(
    peers: &[PeerSlot<P, TX>],
    route: &Route<'_>,
) -> Option<usize> {
    let app = route.application.0;
    if let Some(host) = route.host {
        if let Some(i) = peers.iter().position(|p| p.is(host) && p.can_take(app)) {
            return Some(i);
        }
        if route.host_only && peers.iter().any(|p| p.is(host)) {
            // The server itself is a direct peer and is not usable: the
            // session may not move elsewhere.
            return None;
        }
    }
    peers
        .iter()
        .position(|p| p.can_take(app) && p.serves(route.realm))
}
