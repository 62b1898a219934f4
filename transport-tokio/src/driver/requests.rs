//! The application's own requests while they are out: their bytes (kept
//! for a failover), where they go, their deadline, and who waits.

use std::collections::{HashMap, VecDeque};

use diameter_cc::endpoint::{PeerHandle, MAX_APP_TOKEN};
use diameter_cc::session::Route;
use diameter_core::header::Header;
use diameter_core::peer::SendError;
use diameter_core::time::Instant;
use diameter_core::{ApplicationId, Message};
use tokio::sync::oneshot;

use crate::request::{Answer, RequestError};

type Reply = oneshot::Sender<Result<Answer, RequestError>>;

/// One request of the application.
pub(crate) struct Pending {
    reply: Reply,
    bytes: Vec<u8>,
    application: ApplicationId,
    realm: String,
    host: Option<String>,
    deadline: Instant,
    /// The End-to-End id of its first transmission, once it went out.
    end_to_end: Option<u32>,
}

/// Every request out, by token; the parked ones wait for a peer.
#[derive(Default)]
pub(crate) struct Requests {
    map: HashMap<u64, Pending>,
    parked: VecDeque<u64>,
    next: u64,
}

impl Requests {
    /// Take a new request; `None` (and the caller told why) if it cannot
    /// be routed.
    pub(crate) fn add(&mut self, bytes: Vec<u8>, deadline: Instant, reply: Reply) -> Option<u64> {
        let route = Message::new_checked(&bytes).and_then(|m| {
            let r = Route::of_request(&m)?;
            Ok((r.application, r.realm.to_owned(), r.host.map(str::to_owned)))
        });
        let (application, realm, host) = match route {
            Ok(r) => r,
            Err(e) => {
                let _ = reply.send(Err(RequestError::Invalid(e)));
                return None;
            }
        };
        self.next = if self.next >= MAX_APP_TOKEN {
            1
        } else {
            self.next + 1
        };
        let token = self.next;
        self.map.insert(
            token,
            Pending {
                reply,
                bytes,
                application,
                realm,
                host,
                deadline,
                end_to_end: None,
            },
        );
        Some(token)
    }

    /// Send request `token` with `send` (the endpoint's `send_request`,
    /// given the End-to-End id to keep for a retransmission). Returns the
    /// peer and the bytes to write; parks the request when no peer can
    /// take it now; ends it when it is not a request at all.
    pub(crate) fn send(
        &mut self,
        token: u64,
        send: impl FnOnce(&Route<'_>, &mut [u8], Option<u32>, Instant) -> Result<PeerHandle, SendError>,
    ) -> Option<(PeerHandle, Vec<u8>)> {
        let p = self.map.get_mut(&token)?;
        let route = Route {
            application: p.application,
            realm: &p.realm,
            host: p.host.as_deref(),
            host_only: false,
        };
        match send(&route, &mut p.bytes, p.end_to_end, p.deadline) {
            Ok(peer) => {
                if p.end_to_end.is_none() {
                    p.end_to_end = Header::new_checked(&p.bytes[..])
                        .ok()
                        .map(|h| h.end_to_end());
                }
                Some((peer, p.bytes.clone()))
            }
            Err(SendError::NotARequest) => {
                let e = diameter_core::Error::new(diameter_core::ErrorKind::InvalidHeaderBits);
                self.finish(token, Err(RequestError::Invalid(e)));
                None
            }
            Err(_) => {
                // No open peer for its realm and application, or all full:
                // wait for one until the deadline.
                self.parked.push_back(token);
                None
            }
        }
    }

    /// The connection that carried `token` failed: keep its End-to-End id
    /// for the retransmission. False if the request is no longer out.
    pub(crate) fn handed_back(&mut self, token: u64, end_to_end: u32) -> bool {
        match self.map.get_mut(&token) {
            Some(p) => {
                p.end_to_end = Some(end_to_end);
                true
            }
            None => false,
        }
    }

    /// End request `token` with `result`.
    pub(crate) fn finish(&mut self, token: u64, result: Result<Answer, RequestError>) {
        if let Some(p) = self.map.remove(&token) {
            let _ = p.reply.send(result);
        }
    }

    /// The parked requests, to try again now.
    pub(crate) fn take_parked(&mut self) -> Vec<u64> {
        self.parked.drain(..).collect()
    }

    /// The earliest deadline of a parked request (sent requests are timed
    /// by the peer machine's pending table).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.parked
            .iter()
            .filter_map(|t| self.map.get(t))
            .map(|p| p.deadline)
            .min()
    }

    /// Parked requests past their deadline end: unreachable if never sent,
    /// timed out if they were. Returns how many.
    pub(crate) fn expire(&mut self, now: Instant) -> usize {
        let mut n = 0;
        let mut keep = VecDeque::new();
        while let Some(t) = self.parked.pop_front() {
            match self.map.get(&t) {
                Some(p) if p.deadline <= now => {
                    let e = if p.end_to_end.is_some() {
                        RequestError::Timeout
                    } else {
                        RequestError::Unreachable
                    };
                    self.finish(t, Err(e));
                    n += 1;
                }
                Some(_) => keep.push_back(t),
                None => {}
            }
        }
        self.parked = keep;
        n
    }

    /// End every request: the node is shutting down.
    pub(crate) fn fail_all(&mut self) {
        for (_, p) in self.map.drain() {
            let _ = p.reply.send(Err(RequestError::Shutdown));
        }
        self.parked.clear();
    }
}
