//! The endpoint behind one object-safe trait, so the driver is written
//! once for every rating engine, record sink and table size.

use diameter_cc::client::accounting::CallInfo;
use diameter_cc::client::Parties;
use diameter_cc::endpoint::{
    CallError, Endpoint, Event, OpenError, Outgoing, PeerHandle, SessionHandle,
};
use diameter_cc::server::accounting::AccountingSink;
use diameter_cc::server::credit_control::Rating;
use diameter_cc::session::Route;
use diameter_core::dict::base::{DisconnectCause, TerminationCause};
use diameter_core::peer::{Incoming, PeerState, Role, SendError};
use diameter_core::time::Instant;
use diameter_core::EncodeError;

/// A peer connection as the application sees it ([`crate::Node::peers`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerStatus {
    /// Its handle.
    pub peer: PeerHandle,
    /// Whether we connect (initiator) or accepted it (responder).
    pub role: Role,
    /// The peer machine's state (RFC 6733 §5.6).
    pub state: PeerState,
    /// Open and usable for requests (capabilities agreed, watchdog OKAY).
    pub open: bool,
    /// The peer's Origin-Host, learnt at the capabilities exchange.
    pub host: String,
    /// The connection's remote address.
    pub remote: Option<std::net::SocketAddr>,
}

/// What the driver needs of an endpoint.
pub(crate) trait Ep: Send {
    fn add_peer(&mut self, role: Role, realm: Option<&str>) -> Option<PeerHandle>;
    fn accept(&mut self, now: Instant) -> Option<PeerHandle>;
    fn start(&mut self, now: Instant);
    fn handle_connected(&mut self, now: Instant, peer: PeerHandle);
    fn handle_disconnected(&mut self, now: Instant, peer: PeerHandle);
    fn handle_message<'m>(
        &mut self,
        now: Instant,
        peer: PeerHandle,
        bytes: &'m [u8],
    ) -> Incoming<'m>;
    fn handle_timeout(&mut self, now: Instant);
    fn poll_event(&mut self, now: Instant) -> Option<Event>;
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Outgoing>;
    fn poll_timeout(&self) -> Option<Instant>;
    fn send_request(
        &mut self,
        now: Instant,
        route: &Route<'_>,
        bytes: &mut [u8],
        token: u64,
        end_to_end: Option<u32>,
        deadline: Instant,
    ) -> Result<PeerHandle, SendError>;
    fn answer(&mut self, peer: PeerHandle, bytes: &[u8]) -> Result<usize, EncodeError>;
    fn shutdown(&mut self, now: Instant, cause: DisconnectCause);
    fn open_prepaid(
        &mut self,
        now: Instant,
        sid: &str,
        p: Parties,
    ) -> Result<SessionHandle, OpenError>;
    fn open_postpaid(
        &mut self,
        now: Instant,
        sid: &str,
        p: Parties,
    ) -> Result<SessionHandle, OpenError>;
    fn open_accounting(&mut self, now: Instant, info: CallInfo)
        -> Result<SessionHandle, OpenError>;
    fn call_setup(&mut self, now: Instant, h: SessionHandle) -> Result<(), CallError>;
    fn call_answered(&mut self, now: Instant, h: SessionHandle) -> Result<(), CallError>;
    fn call_ended(
        &mut self,
        now: Instant,
        h: SessionHandle,
        c: TerminationCause,
    ) -> Result<(), CallError>;
    fn account_event(&mut self, now: Instant, h: SessionHandle) -> Result<(), CallError>;
    fn drop_event(&mut self, now: Instant, h: SessionHandle) -> Result<bool, CallError>;
    fn abort_session(&mut self, now: Instant, h: SessionHandle) -> Result<bool, CallError>;
    fn reauthorize(&mut self, now: Instant, h: SessionHandle) -> Result<bool, CallError>;
    fn find_session(&self, session_id: &str) -> Option<SessionHandle>;
    fn session_id(&self, h: SessionHandle) -> Option<String>;
    fn peer_status(&self) -> Vec<PeerStatus>;
    fn peer_host(&self, peer: PeerHandle) -> Option<String>;
}

impl<
        R: Rating + Send + 'static,
        K: AccountingSink + Send + 'static,
        const P: usize,
        const S: usize,
    > Ep for Endpoint<R, K, P, S>
{
    fn add_peer(&mut self, role: Role, realm: Option<&str>) -> Option<PeerHandle> {
        Endpoint::add_peer(self, role, realm)
    }
    fn accept(&mut self, now: Instant) -> Option<PeerHandle> {
        Endpoint::accept(self, now)
    }
    fn start(&mut self, now: Instant) {
        Endpoint::start(self, now)
    }
    fn handle_connected(&mut self, now: Instant, peer: PeerHandle) {
        Endpoint::handle_connected(self, now, peer)
    }
    fn handle_disconnected(&mut self, now: Instant, peer: PeerHandle) {
        Endpoint::handle_disconnected(self, now, peer)
    }
    fn handle_message<'m>(
        &mut self,
        now: Instant,
        peer: PeerHandle,
        bytes: &'m [u8],
    ) -> Incoming<'m> {
        Endpoint::handle_message(self, now, peer, bytes)
    }
    fn handle_timeout(&mut self, now: Instant) {
        Endpoint::handle_timeout(self, now)
    }
    fn poll_event(&mut self, now: Instant) -> Option<Event> {
        Endpoint::poll_event(self, now)
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Outgoing> {
        Endpoint::poll_transmit(self, now, buf)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Endpoint::poll_timeout(self)
    }
    fn send_request(
        &mut self,
        now: Instant,
        route: &Route<'_>,
        bytes: &mut [u8],
        token: u64,
        end_to_end: Option<u32>,
        deadline: Instant,
    ) -> Result<PeerHandle, SendError> {
        match end_to_end {
            None => Endpoint::send_request(self, now, route, bytes, token, deadline),
            Some(e) => Endpoint::resend_request(self, now, route, bytes, token, e, deadline),
        }
    }
    fn answer(&mut self, peer: PeerHandle, bytes: &[u8]) -> Result<usize, EncodeError> {
        Endpoint::answer(self, peer, |buf| {
            let dst = buf
                .get_mut(..bytes.len())
                .ok_or(EncodeError::BufferTooSmall {
                    needed: bytes.len(),
                })?;
            dst.copy_from_slice(bytes);
            Ok(bytes.len())
        })
    }
    fn shutdown(&mut self, now: Instant, cause: DisconnectCause) {
        Endpoint::shutdown(self, now, cause)
    }
    fn open_prepaid(
        &mut self,
        now: Instant,
        sid: &str,
        p: Parties,
    ) -> Result<SessionHandle, OpenError> {
        Endpoint::open_prepaid(self, now, sid, p)
    }
    fn open_postpaid(
        &mut self,
        now: Instant,
        sid: &str,
        p: Parties,
    ) -> Result<SessionHandle, OpenError> {
        Endpoint::open_postpaid(self, now, sid, p)
    }
    fn open_accounting(
        &mut self,
        now: Instant,
        info: CallInfo,
    ) -> Result<SessionHandle, OpenError> {
        Endpoint::open_accounting(self, now, info)
    }
    fn call_setup(&mut self, now: Instant, h: SessionHandle) -> Result<(), CallError> {
        Endpoint::call_setup(self, now, h)
    }
    fn call_answered(&mut self, now: Instant, h: SessionHandle) -> Result<(), CallError> {
        Endpoint::call_answered(self, now, h)
    }
    fn call_ended(
        &mut self,
        now: Instant,
        h: SessionHandle,
        c: TerminationCause,
    ) -> Result<(), CallError> {
        Endpoint::call_ended(self, now, h, c)
    }
    fn account_event(&mut self, now: Instant, h: SessionHandle) -> Result<(), CallError> {
        Endpoint::account_event(self, now, h)
    }
    fn drop_event(&mut self, now: Instant, h: SessionHandle) -> Result<bool, CallError> {
        Endpoint::drop_event(self, now, h)
    }
    fn abort_session(&mut self, now: Instant, h: SessionHandle) -> Result<bool, CallError> {
        Endpoint::abort_session(self, now, h)
    }
    fn reauthorize(&mut self, now: Instant, h: SessionHandle) -> Result<bool, CallError> {
        Endpoint::reauthorize(self, now, h)
    }
    fn find_session(&self, session_id: &str) -> Option<SessionHandle> {
        Endpoint::find_session(self, session_id)
    }
    fn session_id(&self, h: SessionHandle) -> Option<String> {
        self.session(h).map(|s| s.session_id().to_owned())
    }
    fn peer_status(&self) -> Vec<PeerStatus> {
        self.peers()
            .filter_map(|h| {
                let p = self.peer(h)?;
                Some(PeerStatus {
                    peer: h,
                    role: p.role(),
                    state: p.state(),
                    open: p.is_open(),
                    host: p.peer_info().origin_host.as_str().to_owned(),
                    remote: None,
                })
            })
            .collect()
    }
    fn peer_host(&self, peer: PeerHandle) -> Option<String> {
        self.peer(peer)
            .map(|p| p.peer_info().origin_host.as_str().to_owned())
    }
}
