//! The application's calls on an endpoint: open a session, feed it the
//! call's events, ask a server session to abort or re-authorise.

use diameter_core::dict::base::TerminationCause;
use diameter_core::time::Instant;

use super::events::CallError;
#[cfg(any(feature = "prepaid", feature = "postpaid", feature = "accounting"))]
use super::events::OpenError;
use super::handles::SessionHandle;
use super::sessions::Session;
#[cfg(any(feature = "prepaid", feature = "postpaid", feature = "accounting"))]
use super::sessions::SessionKind;
use super::Endpoint;
#[cfg(feature = "accounting")]
use crate::client::accounting::{AccountingClient, CallInfo};
#[cfg(feature = "postpaid")]
use crate::client::postpaid::PostpaidClient;
#[cfg(feature = "prepaid")]
use crate::client::prepaid::PrepaidClient;
#[cfg(any(feature = "prepaid", feature = "postpaid"))]
use crate::client::Parties;
use crate::server::accounting::AccountingSink;
use crate::server::credit_control::Rating;
#[cfg(any(feature = "prepaid", feature = "postpaid"))]
use crate::session::session_id_from;
#[cfg(any(feature = "prepaid", feature = "accounting"))]
use crate::session::Ctx;

impl<
        R: Rating + 'static,
        K: AccountingSink + 'static,
        const PEERS: usize,
        const SESSIONS: usize,
        const TX: usize,
    > Endpoint<R, K, PEERS, SESSIONS, TX>
{
    /// Open a prepaid session (RFC 8506 §5, SCENARIOS Prepaid) with
    /// `session_id` (the SIP Call-ID, say). Nothing is sent until
    /// [`Endpoint::call_setup`].
    #[cfg(feature = "prepaid")]
    pub fn open_prepaid(
        &mut self,
        now: Instant,
        session_id: &str,
        parties: Parties,
    ) -> Result<SessionHandle, OpenError> {
        self.clock.update(now);
        if self.shared.prepaid.is_none() {
            return Err(OpenError::NotConfigured(SessionKind::Prepaid));
        }
        let sid = session_id_from(session_id).ok_or(OpenError::InvalidSessionId)?;
        self.insert(Session::Prepaid(PrepaidClient::new(sid, parties)))
    }

    /// Open a postpaid session (one CCR-Event at hangup, SCENARIOS
    /// Postpaid).
    #[cfg(feature = "postpaid")]
    pub fn open_postpaid(
        &mut self,
        now: Instant,
        session_id: &str,
        parties: Parties,
    ) -> Result<SessionHandle, OpenError> {
        self.clock.update(now);
        if self.shared.postpaid.is_none() {
            return Err(OpenError::NotConfigured(SessionKind::Postpaid));
        }
        let sid = session_id_from(session_id).ok_or(OpenError::InvalidSessionId)?;
        self.insert(Session::Postpaid(PostpaidClient::new(sid, parties)))
    }

    /// Open a call's accounting session (RFC 6733 §9, SCENARIOS
    /// Accounting). START goes out at [`Endpoint::call_answered`].
    #[cfg(feature = "accounting")]
    pub fn open_accounting(
        &mut self,
        now: Instant,
        info: CallInfo,
    ) -> Result<SessionHandle, OpenError> {
        self.clock.update(now);
        if self.shared.accounting.is_none() {
            return Err(OpenError::NotConfigured(SessionKind::Accounting));
        }
        if info.session_id.is_empty() {
            return Err(OpenError::InvalidSessionId);
        }
        self.insert(Session::Accounting(AccountingClient::new(info)))
    }

    fn with<T>(
        &mut self,
        now: Instant,
        h: SessionHandle,
        f: impl FnOnce(
            &mut Session,
            &mut super::sessions::Shared<R, K>,
            Instant,
        ) -> Result<T, CallError>,
    ) -> Result<T, CallError> {
        let now = self.clock.update(now);
        let slot = self
            .slots
            .get_mut(h.index())
            .filter(|s| s.generation == h.generation)
            .ok_or(CallError::UnknownSession)?;
        let s = slot.session.as_mut().ok_or(CallError::UnknownSession)?;
        let r = f(s, &mut self.shared, now);
        self.touch(h.index);
        r
    }

    /// INVITE: a prepaid session sends its CCR-Initial (wait for
    /// [`crate::client::prepaid::PrepaidEvent::Allowed`] or `Denied`);
    /// postpaid and accounting sessions send nothing yet.
    pub fn call_setup(&mut self, now: Instant, h: SessionHandle) -> Result<(), CallError> {
        self.with(now, h, |s, _sh, _now| match s {
            #[cfg(feature = "prepaid")]
            Session::Prepaid(m) => {
                if let Some(c) = _sh.prepaid.as_mut() {
                    m.call_setup(Ctx::new(&_sh.node, c), _now);
                }
                Ok(())
            }
            #[cfg(feature = "postpaid")]
            Session::Postpaid(_) => Ok(()),
            #[cfg(feature = "accounting")]
            Session::Accounting(_) => Ok(()),
            #[allow(unreachable_patterns)]
            other => Err(CallError::WrongKind(other.kind())),
        })
    }

    /// 200 OK: usage counts from now. Prepaid: the grant timer starts (and
    /// the CCR-Update of SCENARIOS goes out); postpaid: the answer time is
    /// kept; accounting: the START record goes out.
    pub fn call_answered(&mut self, now: Instant, h: SessionHandle) -> Result<(), CallError> {
        self.with(now, h, |s, _sh, _now| match s {
            #[cfg(feature = "prepaid")]
            Session::Prepaid(m) => {
                if let Some(c) = _sh.prepaid.as_mut() {
                    m.call_answered(Ctx::new(&_sh.node, c), _now);
                }
                Ok(())
            }
            #[cfg(feature = "postpaid")]
            Session::Postpaid(m) => {
                m.call_answered(_now);
                Ok(())
            }
            #[cfg(feature = "accounting")]
            Session::Accounting(m) => match _sh.accounting.as_mut() {
                Some(c) => Ok(m.call_answered(Ctx::new(&_sh.node, c), _now)?),
                None => Ok(()),
            },
            #[allow(unreachable_patterns)]
            other => Err(CallError::WrongKind(other.kind())),
        })
    }

    /// BYE (or a timeout, or a refusal the proxy acts on): prepaid sends
    /// its CCR-Termination with `cause` (1 DIAMETER_LOGOUT for a hangup);
    /// postpaid its CCR-Event; accounting its STOP record (a call never
    /// answered has no accounting session to stop: its session simply
    /// ends).
    pub fn call_ended(
        &mut self,
        now: Instant,
        h: SessionHandle,
        cause: TerminationCause,
    ) -> Result<(), CallError> {
        let _ = cause;
        self.with(now, h, |s, _sh, _now| match s {
            #[cfg(feature = "prepaid")]
            Session::Prepaid(m) => {
                m.call_ended(_now, cause);
                Ok(())
            }
            #[cfg(feature = "postpaid")]
            Session::Postpaid(m) => {
                m.call_ended(_now);
                Ok(())
            }
            #[cfg(feature = "accounting")]
            Session::Accounting(m) => Ok(m.call_ended(_now)?),
            #[allow(unreachable_patterns)]
            other => Err(CallError::WrongKind(other.kind())),
        })
    }

    /// A one-shot service on an accounting session: the EVENT record.
    #[cfg(feature = "accounting")]
    pub fn account_event(&mut self, now: Instant, h: SessionHandle) -> Result<(), CallError> {
        self.with(now, h, |s, _sh, now| match s {
            Session::Accounting(m) => Ok(m.event(now)?),
            #[allow(unreachable_patterns)]
            other => Err(CallError::WrongKind(other.kind())),
        })
    }

    /// Give up a postpaid session's stored CCR-Event knowingly (see
    /// [`PostpaidClient::drop_event`]); returns whether it was dropped.
    #[cfg(feature = "postpaid")]
    pub fn drop_event(&mut self, now: Instant, h: SessionHandle) -> Result<bool, CallError> {
        self.with(now, h, |s, _sh, _now| match s {
            Session::Postpaid(m) => Ok(m.drop_event()),
            #[allow(unreachable_patterns)]
            other => Err(CallError::WrongKind(other.kind())),
        })
    }

    /// A credit-control session served: send the client an
    /// Abort-Session-Request (RFC 8506 §5.5). False if the session is over
    /// or already has a request outstanding.
    #[cfg(feature = "server")]
    pub fn abort_session(&mut self, now: Instant, h: SessionHandle) -> Result<bool, CallError> {
        self.with(now, h, |s, _sh, _now| match s {
            Session::CreditControlServer(m) => Ok(m.abort()),
            other => Err(CallError::WrongKind(other.kind())),
        })
    }

    /// A credit-control session served: send the client a Re-Auth-Request
    /// (RFC 8506 §5.5).
    #[cfg(feature = "server")]
    pub fn reauthorize(&mut self, now: Instant, h: SessionHandle) -> Result<bool, CallError> {
        self.with(now, h, |s, _sh, _now| match s {
            Session::CreditControlServer(m) => Ok(m.reauthorize()),
            other => Err(CallError::WrongKind(other.kind())),
        })
    }
}
