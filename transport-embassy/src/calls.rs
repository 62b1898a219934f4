//! Sessions as async calls: what a SIP proxy or a gateway writes. Each
//! object owns one session of the node's endpoint ([`Node::prepaid`],
//! [`Node::postpaid`], [`Node::accounting`]) and turns the call's events
//! (`start` at INVITE, `answered` at 200 OK, `hangup` at BYE) into the
//! endpoint's inputs, then waits for the session's verdict: grants,
//! refusals and failures come back as values. Every protocol decision
//! (what to send, retries, Tx, failure handling) stays in the session
//! machines of `diameter-cc`.
//!
//! Dropping an object does not end its session (the endpoint keeps it
//! until it ends by itself); its later events go to [`Node::next_event`].
//!
//! Each kind of call comes with its feature (`prepaid`, `postpaid`,
//! `accounting`, all in `default`).

// Without any of them, the shared part below has no user.
#![cfg_attr(
    not(any(feature = "prepaid", feature = "postpaid", feature = "accounting")),
    allow(dead_code, unused_imports)
)]

#[cfg(feature = "accounting")]
use diameter_cc::client::accounting::AccountingEvent;
#[cfg(feature = "postpaid")]
use diameter_cc::client::postpaid::PostpaidEvent;
#[cfg(feature = "prepaid")]
use diameter_cc::client::prepaid::PrepaidEvent;
use diameter_cc::client::prepaid::{DenyReason, TerminateReason};
use diameter_cc::endpoint::{self, Endpoint, SessionEvent, SessionHandle};
use diameter_cc::server::accounting::AccountingSink;
use diameter_cc::server::credit_control::Rating;
#[cfg(feature = "accounting")]
use diameter_core::dict::base::AccountingRecordType;
#[cfg(any(feature = "prepaid", feature = "postpaid", feature = "accounting"))]
use diameter_core::dict::base::TerminationCause;
use diameter_core::time::Instant;
use diameter_core::ResultCode;
use embassy_sync::blocking_mutex::raw::RawMutex;

use core::future::poll_fn;
use core::task::Poll;

use crate::clock::now;
use crate::node::Node;

/// Why a call did not go as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The endpoint refused the input (the session is gone, or of another
    /// kind, or an accounting record cannot be created now).
    Endpoint(endpoint::CallError),
    /// Prepaid: the call is refused (SIP 403; RFC 8506 §5.3, §7).
    Denied(DenyReason),
    /// Prepaid: the call must end now (RFC 8506 §5.6, §5.7).
    Terminated(TerminateReason),
    /// Postpaid: the CCR-Event was given up (RFC 8506 §6.2 CONTINUE).
    Undelivered,
    /// Accounting: the server refused a record (5xxx, RFC 6733 §9.7.2).
    Rejected {
        /// Accounting-Record-Number.
        number: u32,
        /// The ACA's Result-Code.
        result_code: ResultCode,
    },
    /// Accounting: a record was given up (GRANT_AND_LOSE, RFC 6733
    /// §9.8.7).
    RecordLost {
        /// Accounting-Record-Number.
        number: u32,
    },
    /// Accounting cannot be delivered: end the call (RFC 6733 §9.8.7).
    StopService,
    /// The session ended before the outcome was known.
    Closed,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Endpoint(e) => write!(f, "endpoint: {e}"),
            Error::Denied(r) => write!(f, "call denied: {r:?}"),
            Error::Terminated(r) => write!(f, "call terminated: {r:?}"),
            Error::Undelivered => f.write_str("CCR-Event given up"),
            Error::Rejected {
                number,
                result_code,
            } => write!(f, "accounting record {number} rejected ({result_code})"),
            Error::RecordLost { number } => write!(f, "accounting record {number} lost"),
            Error::StopService => f.write_str("accounting undeliverable: stop the service"),
            Error::Closed => f.write_str("session closed"),
        }
    }
}

impl core::error::Error for Error {}

impl From<endpoint::CallError> for Error {
    fn from(e: endpoint::CallError) -> Self {
        Error::Endpoint(e)
    }
}

/// What a prepaid call may use (RFC 8506 §8.17 Granted-Service-Unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Grant {
    /// Seconds from answer (set the dialog timer); `None`: no limit
    /// (credit control not applicable, or failure handling granted the
    /// service, RFC 8506 §5.7).
    pub seconds: Option<u32>,
}

/// One session of a node, owned by a call object.
struct Call<
    'n,
    M: RawMutex,
    R: Rating + 'static,
    K: AccountingSink + 'static,
    const P: usize,
    const S: usize,
> {
    node: &'n Node<M, R, K, P, S>,
    handle: SessionHandle,
    closed: bool,
}

impl<
        'n,
        M: RawMutex,
        R: Rating + 'static,
        K: AccountingSink + 'static,
        const P: usize,
        const S: usize,
    > Call<'n, M, R, K, P, S>
{
    /// An endpoint input on this session; the runner polls after it.
    fn input<T>(
        &self,
        f: impl FnOnce(
            &mut Endpoint<R, K, P, S>,
            Instant,
            SessionHandle,
        ) -> Result<T, endpoint::CallError>,
    ) -> Result<T, Error> {
        if self.closed {
            return Err(Error::Closed);
        }
        let now = now();
        let r = self.node.lock(|s| f(&mut s.ep, now, self.handle));
        self.node.kick();
        Ok(r?)
    }

    /// The session's next event; `None` once it is closed.
    async fn next(&mut self) -> Option<SessionEvent> {
        if self.closed {
            return None;
        }
        let h = self.handle;
        let e = poll_fn(|cx| {
            self.node.lock(|s| match s.take_session_event(h) {
                Some(e) => Poll::Ready(e),
                None => {
                    s.register(cx);
                    Poll::Pending
                }
            })
        })
        .await;
        if e == SessionEvent::Closed {
            self.closed = true;
            self.node.lock(|s| s.detach(h));
            return None;
        }
        Some(e)
    }
}

impl<
        M: RawMutex,
        R: Rating + 'static,
        K: AccountingSink + 'static,
        const P: usize,
        const S: usize,
    > Drop for Call<'_, M, R, K, P, S>
{
    fn drop(&mut self) {
        let h = self.handle;
        self.node.lock(|s| s.detach(h));
    }
}

/// A prepaid call (RFC 8506 §5: CCR-Initial at INVITE, -Update at answer,
/// -Termination at hangup; SCENARIOS Prepaid). Feature `prepaid`.
///
/// ```no_run
/// # use diameter_embassy::{Node, calls::Error};
/// # use diameter_cc::client::Parties;
/// # use diameter_core::dict::base::TerminationCause;
/// # use embassy_sync::blocking_mutex::raw::NoopRawMutex;
/// # async fn doc(node: &Node<NoopRawMutex>) -> Result<(), Error> {
/// let mut call = node.prepaid("call-1@gw", Parties::new("1001", "1002").unwrap()).unwrap();
/// let grant = call.start().await?;            // INVITE: CCR-I, wait for the CCA
/// call.answered().await?;                     // 200 OK: CCR-U goes out
/// // ... talk, at most `grant.seconds` ...
/// call.hangup(TerminationCause::Logout).await?; // BYE: CCR-T, wait for the CCA
/// # let _ = grant; Ok(()) }
/// ```
#[cfg(feature = "prepaid")]
pub struct PrepaidCall<
    'n,
    M: RawMutex,
    R: Rating + 'static,
    K: AccountingSink + 'static,
    const P: usize,
    const S: usize,
> {
    call: Call<'n, M, R, K, P, S>,
}

#[cfg(feature = "prepaid")]
impl<
        'n,
        M: RawMutex,
        R: Rating + 'static,
        K: AccountingSink + 'static,
        const P: usize,
        const S: usize,
    > PrepaidCall<'n, M, R, K, P, S>
{
    pub(crate) fn new(node: &'n Node<M, R, K, P, S>, handle: SessionHandle) -> Self {
        PrepaidCall {
            call: Call {
                node,
                handle,
                closed: false,
            },
        }
    }

    /// The session's handle in the node's endpoint.
    pub fn handle(&self) -> SessionHandle {
        self.call.handle
    }

    /// INVITE: send the CCR-Initial and wait for the verdict (RFC 8506
    /// §5.3): the grant, or why the call is refused.
    pub async fn start(&mut self) -> Result<Grant, Error> {
        self.call.input(|ep, now, h| ep.call_setup(now, h))?;
        loop {
            match self.next_event().await {
                Some(PrepaidEvent::Allowed { seconds }) => return Ok(Grant { seconds }),
                Some(PrepaidEvent::Denied(r)) => return Err(Error::Denied(r)),
                Some(PrepaidEvent::TerminateCall(r)) => return Err(Error::Terminated(r)),
                Some(_) => {}
                None => return Err(Error::Closed),
            }
        }
    }

    /// 200 OK: the grant's time counts from now; the CCR-Update of
    /// SCENARIOS goes out (its answer does not hold the call up: a refusal
    /// comes from [`PrepaidCall::next_event`]).
    pub async fn answered(&mut self) -> Result<(), Error> {
        self.call.input(|ep, now, h| ep.call_answered(now, h))
    }

    /// BYE (or the dialog timer, `cause` 6 AUTH_EXPIRED): send the
    /// CCR-Termination with the time used and wait until the session ends
    /// (RFC 8506 §5.5).
    pub async fn hangup(&mut self, cause: TerminationCause) -> Result<(), Error> {
        self.call.input(|ep, now, h| ep.call_ended(now, h, cause))?;
        while self.next_event().await.is_some() {}
        Ok(())
    }

    /// The session's next event (a re-grant, a termination the server or
    /// the grant's end decides...); `None` once the session is closed.
    pub async fn next_event(&mut self) -> Option<PrepaidEvent> {
        loop {
            match self.call.next().await? {
                SessionEvent::Prepaid(e) => return Some(e),
                _ => continue,
            }
        }
    }
}

/// A postpaid call (RFC 8506 §6: one CCR-Event at hangup; SCENARIOS
/// Postpaid). Feature `postpaid`.
///
/// ```no_run
/// # use diameter_embassy::{Node, calls::Error};
/// # use diameter_cc::client::Parties;
/// # use embassy_sync::blocking_mutex::raw::NoopRawMutex;
/// # async fn doc(node: &Node<NoopRawMutex>) -> Result<(), Error> {
/// let mut call = node.postpaid("call-2@gw", Parties::new("1001", "1002").unwrap()).unwrap();
/// call.start().await?;
/// call.answered().await?;
/// let result = call.hangup().await?; // the CCR-Event's answer
/// assert!(result.is_success());
/// # Ok(()) }
/// ```
#[cfg(feature = "postpaid")]
pub struct PostpaidCall<
    'n,
    M: RawMutex,
    R: Rating + 'static,
    K: AccountingSink + 'static,
    const P: usize,
    const S: usize,
> {
    call: Call<'n, M, R, K, P, S>,
}

#[cfg(feature = "postpaid")]
impl<
        'n,
        M: RawMutex,
        R: Rating + 'static,
        K: AccountingSink + 'static,
        const P: usize,
        const S: usize,
    > PostpaidCall<'n, M, R, K, P, S>
{
    pub(crate) fn new(node: &'n Node<M, R, K, P, S>, handle: SessionHandle) -> Self {
        PostpaidCall {
            call: Call {
                node,
                handle,
                closed: false,
            },
        }
    }

    /// The session's handle in the node's endpoint.
    pub fn handle(&self) -> SessionHandle {
        self.call.handle
    }

    /// INVITE: nothing is sent for a postpaid call.
    pub async fn start(&mut self) -> Result<(), Error> {
        self.call.input(|ep, now, h| ep.call_setup(now, h))
    }

    /// 200 OK: the answer time is kept for the CCR-Event.
    pub async fn answered(&mut self) -> Result<(), Error> {
        self.call.input(|ep, now, h| ep.call_answered(now, h))
    }

    /// BYE: send the CCR-Event and wait until the session ends; the
    /// server's Result-Code. A CCR-Event that could not be delivered is
    /// stored and sent again (TERMINATE_OR_BUFFER), so this may wait a
    /// long time; [`Error::Undelivered`] if it was given up.
    pub async fn hangup(&mut self) -> Result<ResultCode, Error> {
        self.call
            .input(|ep, now, h| ep.call_ended(now, h, TerminationCause::Logout))?;
        let mut outcome = Err(Error::Closed);
        while let Some(e) = self.next_event().await {
            match e {
                PostpaidEvent::Charged(rc) => outcome = Ok(rc),
                PostpaidEvent::Undelivered => outcome = Err(Error::Undelivered),
                _ => {}
            }
        }
        outcome
    }

    /// The session's next event; `None` once it is closed.
    pub async fn next_event(&mut self) -> Option<PostpaidEvent> {
        loop {
            match self.call.next().await? {
                SessionEvent::Postpaid(e) => return Some(e),
                _ => continue,
            }
        }
    }
}

/// A call's accounting (RFC 6733 §9: START at answer, INTERIM records on
/// the interval, STOP at hangup; SCENARIOS Accounting). Feature
/// `accounting`.
///
/// ```no_run
/// # use diameter_embassy::{Node, calls::Error};
/// # use diameter_cc::client::accounting::CallInfo;
/// # use diameter_cc::session::session_id_from;
/// # use embassy_sync::blocking_mutex::raw::NoopRawMutex;
/// # async fn doc(node: &Node<NoopRawMutex>) -> Result<(), Error> {
/// let info = CallInfo::new(session_id_from("call-3@gw").unwrap());
/// let mut call = node.accounting(info).unwrap();
/// call.start().await?;
/// call.answered().await?; // START acknowledged
/// call.hangup().await?;   // STOP acknowledged, session over
/// # Ok(()) }
/// ```
#[cfg(feature = "accounting")]
pub struct AccountingCall<
    'n,
    M: RawMutex,
    R: Rating + 'static,
    K: AccountingSink + 'static,
    const P: usize,
    const S: usize,
> {
    call: Call<'n, M, R, K, P, S>,
}

#[cfg(feature = "accounting")]
impl<
        'n,
        M: RawMutex,
        R: Rating + 'static,
        K: AccountingSink + 'static,
        const P: usize,
        const S: usize,
    > AccountingCall<'n, M, R, K, P, S>
{
    pub(crate) fn new(node: &'n Node<M, R, K, P, S>, handle: SessionHandle) -> Self {
        AccountingCall {
            call: Call {
                node,
                handle,
                closed: false,
            },
        }
    }

    /// The session's handle in the node's endpoint.
    pub fn handle(&self) -> SessionHandle {
        self.call.handle
    }

    /// INVITE: nothing is sent yet.
    pub async fn start(&mut self) -> Result<(), Error> {
        self.call.input(|ep, now, h| ep.call_setup(now, h))
    }

    /// 200 OK: send the START record and wait for its answer (RFC 6733
    /// §9.7.2).
    pub async fn answered(&mut self) -> Result<(), Error> {
        self.call.input(|ep, now, h| ep.call_answered(now, h))?;
        self.settled(AccountingRecordType::StartRecord).await
    }

    /// BYE: send the STOP record and wait until the session ends (every
    /// record settled).
    pub async fn hangup(&mut self) -> Result<(), Error> {
        self.call
            .input(|ep, now, h| ep.call_ended(now, h, TerminationCause::Logout))?;
        let mut outcome = Err(Error::Closed);
        while let Some(e) = self.next_event().await {
            match e {
                AccountingEvent::RecordAcknowledged {
                    record_type: AccountingRecordType::StopRecord,
                    ..
                }
                | AccountingEvent::Finished => {
                    if outcome == Err(Error::Closed) {
                        outcome = Ok(());
                    }
                }
                other => {
                    if let Some(e) = failure(other) {
                        outcome = Err(e);
                    }
                }
            }
        }
        outcome
    }

    /// The session's next event (INTERIM acknowledgements, interval
    /// changes...); `None` once it is closed.
    pub async fn next_event(&mut self) -> Option<AccountingEvent> {
        loop {
            match self.call.next().await? {
                SessionEvent::Accounting(e) => return Some(e),
                _ => continue,
            }
        }
    }

    /// Wait for the fate of the record of type `kind`.
    async fn settled(&mut self, kind: AccountingRecordType) -> Result<(), Error> {
        loop {
            match self.next_event().await {
                Some(AccountingEvent::RecordAcknowledged { record_type, .. })
                    if record_type == kind =>
                {
                    return Ok(())
                }
                Some(other) => {
                    if let Some(e) = failure(other) {
                        return Err(e);
                    }
                }
                None => return Err(Error::Closed),
            }
        }
    }
}

/// The accounting events that are failures.
#[cfg(feature = "accounting")]
fn failure(e: AccountingEvent) -> Option<Error> {
    match e {
        AccountingEvent::RecordRejected {
            number,
            result_code,
        } => Some(Error::Rejected {
            number,
            result_code,
        }),
        AccountingEvent::RecordLost { number } => Some(Error::RecordLost { number }),
        AccountingEvent::StopService => Some(Error::StopService),
        _ => None,
    }
}
