//! [`Call`]: one prepaid, postpaid or accounting session of a call, as a
//! SIP proxy drives it: start at INVITE, answered at 200 OK, hangup at
//! BYE, and the session's events (grants, terminations, acknowledged
//! records) as values in between.

use std::collections::VecDeque;
use std::fmt;

use diameter_cc::client::postpaid::PostpaidEvent;
use diameter_cc::client::prepaid::{DenyReason, PrepaidEvent};
use diameter_cc::endpoint::{CallError, OpenError, SessionEvent, SessionHandle, SessionKind};
use diameter_core::dict::base::TerminationCause;
use tokio::sync::{mpsc, oneshot};

use crate::driver::{CallOp, Command};
use crate::node::Node;

/// What [`Call::start`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authorization {
    /// Let the call through; `Some(n)`: it may last `n` seconds from
    /// answer (set the dialog timer); `None`: no limit.
    Allowed {
        /// Seconds granted.
        seconds: Option<u32>,
    },
    /// Refuse the call (SIP 403), and why.
    Denied(DenyReason),
}

/// Why a session call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionError {
    /// The session could not be opened.
    Open(OpenError),
    /// The endpoint refused the call (the session is over, wrong kind...).
    Call(CallError),
    /// The session ended before what was awaited happened.
    Closed,
    /// The node has stopped.
    Stopped,
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::Open(e) => write!(f, "cannot open the session: {e}"),
            SessionError::Call(e) => write!(f, "{e}"),
            SessionError::Closed => f.write_str("the session is over"),
            SessionError::Stopped => f.write_str("the Diameter node has stopped"),
        }
    }
}

impl std::error::Error for SessionError {}

/// One session of one call. Dropped before [`Call::hangup`], it ends the
/// session with Termination-Cause DIAMETER_ADMINISTRATIVE (4), so that no
/// reservation is left behind.
pub struct Call {
    node: Node,
    session: SessionHandle,
    kind: SessionKind,
    session_id: String,
    events: mpsc::UnboundedReceiver<SessionEvent>,
    held: VecDeque<SessionEvent>,
    ended: bool,
    closed: bool,
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("session_id", &self.session_id)
            .field("kind", &self.kind)
            .field("closed", &self.closed)
            .finish()
    }
}

impl Call {
    pub(crate) fn new(
        node: Node,
        session: SessionHandle,
        kind: SessionKind,
        session_id: String,
        events: mpsc::UnboundedReceiver<SessionEvent>,
    ) -> Self {
        Call {
            node,
            session,
            kind,
            session_id,
            events,
            held: VecDeque::new(),
            ended: false,
            closed: false,
        }
    }

    /// The Session-Id.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// Prepaid, postpaid or accounting.
    pub fn kind(&self) -> SessionKind {
        self.kind
    }

    /// The endpoint's handle of the session.
    pub fn handle(&self) -> SessionHandle {
        self.session
    }

    /// INVITE. Prepaid: send the CCR-Initial and wait for the decision;
    /// postpaid and accounting: nothing to ask, the call is allowed.
    pub async fn start(&mut self) -> Result<Authorization, SessionError> {
        self.op(CallOp::Setup).await?;
        if self.kind != SessionKind::Prepaid {
            return Ok(Authorization::Allowed { seconds: None });
        }
        loop {
            match self.recv().await? {
                SessionEvent::Prepaid(PrepaidEvent::Allowed { seconds }) => {
                    return Ok(Authorization::Allowed { seconds })
                }
                SessionEvent::Prepaid(PrepaidEvent::Denied(r)) => {
                    self.held
                        .push_back(SessionEvent::Prepaid(PrepaidEvent::Denied(r)));
                    return Ok(Authorization::Denied(r));
                }
                SessionEvent::Closed => {
                    self.held.push_back(SessionEvent::Closed);
                    return Err(SessionError::Closed);
                }
                other => self.held.push_back(other),
            }
        }
    }

    /// 200 OK: usage counts from now (prepaid: the CCR-Update of
    /// SCENARIOS goes out; accounting: the START record).
    pub async fn answered(&mut self) -> Result<(), SessionError> {
        self.op(CallOp::Answered).await.map(|_| ())
    }

    /// A one-shot service on an accounting session: the EVENT record.
    pub async fn account_event(&mut self) -> Result<(), SessionError> {
        self.op(CallOp::AccountEvent).await.map(|_| ())
    }

    /// BYE: prepaid sends its CCR-Termination with `cause`, postpaid its
    /// CCR-Event, accounting its STOP record. Waits until the session is
    /// over (or, postpaid, its CCR-Event is stored for later delivery) and
    /// returns every event it had not returned yet.
    pub async fn hangup(
        &mut self,
        cause: TerminationCause,
    ) -> Result<Vec<SessionEvent>, SessionError> {
        if !self.closed {
            self.op(CallOp::Ended(cause)).await?;
        }
        self.ended = true;
        let mut seen: Vec<SessionEvent> = self.held.drain(..).collect();
        if seen.contains(&SessionEvent::Closed) {
            self.closed = true;
            return Ok(seen);
        }
        loop {
            match self.recv().await {
                Ok(e) => {
                    seen.push(e);
                    if e == SessionEvent::Closed
                        || e == SessionEvent::Postpaid(PostpaidEvent::Buffered)
                    {
                        return Ok(seen);
                    }
                }
                Err(SessionError::Stopped) if !seen.is_empty() => return Ok(seen),
                Err(e) => return Err(e),
            }
        }
    }

    /// Give up a postpaid call's stored CCR-Event knowingly; whether there
    /// was one.
    pub async fn drop_event(&mut self) -> Result<bool, SessionError> {
        self.op(CallOp::DropEvent).await
    }

    /// The next event of the session (grants, re-authorisations,
    /// "terminate the call", acknowledged records...); `None` once the
    /// session is over and every event was returned.
    pub async fn next_event(&mut self) -> Option<SessionEvent> {
        if self.closed && self.held.is_empty() {
            return None;
        }
        self.recv().await.ok()
    }

    async fn recv(&mut self) -> Result<SessionEvent, SessionError> {
        if let Some(e) = self.held.pop_front() {
            return Ok(e);
        }
        let e = self.events.recv().await.ok_or(SessionError::Stopped)?;
        if e == SessionEvent::Closed {
            self.closed = true;
        }
        Ok(e)
    }

    async fn op(&mut self, op: CallOp) -> Result<bool, SessionError> {
        let (reply, rx) = oneshot::channel();
        self.node
            .send(Command::Call {
                session: self.session,
                op,
                reply,
            })
            .map_err(|_| SessionError::Stopped)?;
        rx.await
            .map_err(|_| SessionError::Stopped)?
            .map_err(SessionError::Call)
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        let end = (!self.ended).then_some(TerminationCause::Administrative);
        let _ = self.node.send(Command::Release {
            session: self.session,
            end,
        });
    }
}
