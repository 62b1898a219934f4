//! Requests of applications the node does not serve itself go to a
//! [`Handler`]; it answers through a [`Responder`].

use std::net::SocketAddr;
use std::sync::Arc;

use diameter_core::answer::{result_answer, Identity};
use diameter_core::{EncodeError, Message, MessageBuilder, ResultCode};
use tokio::sync::mpsc;

use crate::driver::Command;

/// Serves the requests of one application (or of every application it is
/// registered for) that the node's endpoint does not serve itself: not
/// credit control or accounting when those run on the built-in server
/// sessions, and never the base protocol.
///
/// `handle` runs on the node's own thread, between messages: it must not
/// block. Answer at once, or move the [`Responder`] into a task and answer
/// from there. A request whose responder is dropped unanswered gets 5012
/// DIAMETER_UNABLE_TO_COMPLY, so no request goes unanswered.
///
/// Closures are handlers:
///
/// ```
/// use diameter_tokio::{Handler, IncomingRequest, Responder};
/// use diameter_core::ResultCode;
/// fn assert_handler(_: impl Handler) {}
/// assert_handler(|_req: IncomingRequest, res: Responder| {
///     let _ = res.answer_with(ResultCode::SUCCESS, |_b| {});
/// });
/// ```
pub trait Handler: Send + Sync + 'static {
    /// One request; answer it with `responder`.
    fn handle(&self, request: IncomingRequest, responder: Responder);
}

impl<F: Fn(IncomingRequest, Responder) + Send + Sync + 'static> Handler for F {
    fn handle(&self, request: IncomingRequest, responder: Responder) {
        self(request, responder)
    }
}

/// One request from a peer, validated against the node's dictionary.
#[derive(Debug, Clone)]
pub struct IncomingRequest {
    pub(crate) bytes: Arc<Vec<u8>>,
    pub(crate) remote: Option<SocketAddr>,
    pub(crate) duplicate: bool,
}

impl IncomingRequest {
    /// The request's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// A view of the request (it passed the peer machine's checks, so
    /// this succeeds).
    pub fn message(&self) -> Result<Message<'_>, diameter_core::Error> {
        Message::new_checked(&self.bytes)
    }
    /// The connection's remote address.
    pub fn remote(&self) -> Option<SocketAddr> {
        self.remote
    }
    /// It carries the T flag and matches a request seen within the
    /// duplicate window (RFC 6733 §6.5): answer it as the first time.
    pub fn is_duplicate(&self) -> bool {
        self.duplicate
    }
}

/// Answers one [`IncomingRequest`]. Dropped unanswered, it answers 5012.
#[derive(Debug)]
pub struct Responder {
    pub(crate) request: Arc<Vec<u8>>,
    pub(crate) slot: crate::driver::InboundSlot,
    pub(crate) identity: Arc<(String, String)>,
    pub(crate) commands: mpsc::UnboundedSender<Command>,
    pub(crate) answered: bool,
}

impl Responder {
    /// Send `answer`, encoded by the application (with the request's
    /// Hop-by-Hop and End-to-End identifiers: see
    /// [`MessageBuilder::answer_to`]).
    pub fn send(mut self, answer: Vec<u8>) {
        self.answered = true;
        let _ = self.commands.send(Command::Answer {
            slot: self.slot,
            bytes: answer,
        });
    }

    /// Answer with `result` (Origin-Host, Origin-Realm, Session-Id and the
    /// identifiers filled in; the E bit for a protocol error), then the
    /// AVPs `more` adds.
    pub fn answer_with(
        self,
        result: ResultCode,
        more: impl FnOnce(&mut MessageBuilder<'_>),
    ) -> Result<(), EncodeError> {
        let bytes = build_answer(&self.request, &self.identity, result, more)?;
        self.send(bytes);
        Ok(())
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if self.answered {
            return;
        }
        if let Ok(bytes) = build_answer(
            &self.request,
            &self.identity,
            ResultCode::UNABLE_TO_COMPLY,
            |_| {},
        ) {
            let _ = self.commands.send(Command::Answer {
                slot: self.slot,
                bytes,
            });
        }
    }
}

/// An answer to `request` with `result`, Origin-Host/Realm from `identity`.
pub(crate) fn build_answer(
    request: &[u8],
    identity: &(String, String),
    result: ResultCode,
    more: impl FnOnce(&mut MessageBuilder<'_>),
) -> Result<Vec<u8>, EncodeError> {
    let req = Message::new_checked(request).map_err(|_| EncodeError::InvalidValue)?;
    let me = Identity {
        origin_host: &identity.0,
        origin_realm: &identity.1,
    };
    let mut buf = vec![0u8; 65_536];
    let mut b = result_answer(&req, result, &me, &mut buf);
    more(&mut b);
    let len = b.finish()?.len();
    buf.truncate(len);
    Ok(buf)
}
