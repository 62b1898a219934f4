//! The sessions an endpoint holds, of every kind, and how each kind is
//! given its shared part ([`Machine::Shared`]) when the endpoint drives it.

use diameter_core::time::Instant;
use diameter_core::{EncodeError, Message};

use crate::client::accounting::{AccountingClient, AccountingConfig, AccountingEvent};
use crate::client::postpaid::{PostpaidClient, PostpaidConfig, PostpaidEvent};
use crate::client::prepaid::{PrepaidClient, PrepaidConfig, PrepaidEvent};
use crate::server::accounting::{
    AccountingServer, AccountingServerEvent, AccountingSink, AcctServerSession,
};
use crate::server::credit_control::{CcServer, CcServerEvent, CcServerSession, Rating};
use crate::session::{Ctx, Machine, Node, RequestFailed, Route, Transmit};

/// Records an accounting client session keeps until they are
/// acknowledged: START, one INTERIM, STOP.
pub const ACCOUNTING_RECORDS: usize = 3;

/// The kinds of session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SessionKind {
    /// [`PrepaidClient`].
    Prepaid,
    /// [`PostpaidClient`].
    Postpaid,
    /// [`AccountingClient`].
    Accounting,
    /// [`CcServerSession`].
    CreditControlServer,
    /// [`AcctServerSession`].
    AccountingServer,
}

/// One session of an endpoint.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Session {
    /// A prepaid call.
    Prepaid(PrepaidClient),
    /// A postpaid call.
    Postpaid(PostpaidClient),
    /// A call's accounting.
    Accounting(AccountingClient<ACCOUNTING_RECORDS>),
    /// A credit-control session served.
    CreditControlServer(CcServerSession),
    /// An accounting session served.
    AccountingServer(AcctServerSession),
}

/// What a session tells the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SessionEvent {
    /// From a prepaid call: allow, deny, tear down, finished.
    Prepaid(PrepaidEvent),
    /// From a postpaid call: charged, buffered, finished.
    Postpaid(PostpaidEvent),
    /// From a call's accounting: record acknowledged, stop the service...
    Accounting(AccountingEvent),
    /// From a credit-control session served.
    CreditControlServer(CcServerEvent),
    /// From an accounting session served.
    AccountingServer(AccountingServerEvent),
    /// A request from a peer opened this server session.
    Opened(SessionKind),
    /// The session is over: its handle is no longer valid. The last event
    /// of every session.
    Closed,
}

/// The parts of the endpoint every session of a kind shares.
pub(crate) struct Shared<R: Rating + 'static, K: AccountingSink + 'static> {
    pub node: Node,
    pub prepaid: Option<PrepaidConfig>,
    pub postpaid: Option<PostpaidConfig>,
    pub accounting: Option<AccountingConfig>,
    pub cc_server: Option<CcServer<R>>,
    pub acct_server: Option<AccountingServer<K>>,
}

/// Call `$m` on the machine inside `$s` with its shared part; `$none` if
/// the kind is not configured (which cannot happen for an open session).
macro_rules! with_machine {
    ($s:expr, $sh:expr, |$m:ident, $cx:ident| $body:expr, $none:expr) => {{
        let sh = $sh;
        match $s {
            Session::Prepaid($m) => match sh.prepaid.as_mut() {
                Some(c) => {
                    let $cx = Ctx::new(&sh.node, c);
                    $body
                }
                None => $none,
            },
            Session::Postpaid($m) => match sh.postpaid.as_mut() {
                Some(c) => {
                    let $cx = Ctx::new(&sh.node, c);
                    $body
                }
                None => $none,
            },
            Session::Accounting($m) => match sh.accounting.as_mut() {
                Some(c) => {
                    let $cx = Ctx::new(&sh.node, c);
                    $body
                }
                None => $none,
            },
            Session::CreditControlServer($m) => match sh.cc_server.as_mut() {
                Some(c) => {
                    let c: &mut CcServer<dyn Rating> = c;
                    let $cx = Ctx::new(&sh.node, c);
                    $body
                }
                None => $none,
            },
            Session::AccountingServer($m) => match sh.acct_server.as_mut() {
                Some(c) => {
                    let c: &mut AccountingServer<dyn AccountingSink> = c;
                    let $cx = Ctx::new(&sh.node, c);
                    $body
                }
                None => $none,
            },
        }
    }};
}

impl Session {
    /// The kind.
    pub const fn kind(&self) -> SessionKind {
        match self {
            Session::Prepaid(_) => SessionKind::Prepaid,
            Session::Postpaid(_) => SessionKind::Postpaid,
            Session::Accounting(_) => SessionKind::Accounting,
            Session::CreditControlServer(_) => SessionKind::CreditControlServer,
            Session::AccountingServer(_) => SessionKind::AccountingServer,
        }
    }

    /// The Session-Id.
    pub fn session_id(&self) -> &str {
        match self {
            Session::Prepaid(m) => m.session_id(),
            Session::Postpaid(m) => m.session_id(),
            Session::Accounting(m) => m.session_id(),
            Session::CreditControlServer(m) => m.session_id(),
            Session::AccountingServer(m) => m.session_id(),
        }
    }

    pub(crate) fn route<'a, R: Rating, K: AccountingSink>(
        &'a self,
        sh: &'a Shared<R, K>,
    ) -> Option<Route<'a>> {
        Some(match self {
            Session::Prepaid(m) => m.route(sh.prepaid.as_ref()?),
            Session::Postpaid(m) => m.route(sh.postpaid.as_ref()?),
            Session::Accounting(m) => m.route(sh.accounting.as_ref()?),
            Session::CreditControlServer(m) => {
                let c: &CcServer<dyn Rating> = sh.cc_server.as_ref()?;
                m.route(c)
            }
            Session::AccountingServer(m) => {
                let c: &AccountingServer<dyn AccountingSink> = sh.acct_server.as_ref()?;
                m.route(c)
            }
        })
    }

    pub(crate) fn handle_answer<R: Rating, K: AccountingSink>(
        &mut self,
        sh: &mut Shared<R, K>,
        now: Instant,
        request: u32,
        answer: &Message<'_>,
    ) {
        with_machine!(
            self,
            sh,
            |m, cx| m.handle_answer(cx, now, request, answer),
            ()
        )
    }

    pub(crate) fn handle_request_failed<R: Rating, K: AccountingSink>(
        &mut self,
        sh: &mut Shared<R, K>,
        now: Instant,
        failed: RequestFailed,
    ) {
        with_machine!(
            self,
            sh,
            |m, cx| m.handle_request_failed(cx, now, failed),
            ()
        )
    }

    pub(crate) fn handle_request<R: Rating, K: AccountingSink>(
        &mut self,
        sh: &mut Shared<R, K>,
        now: Instant,
        request: &Message<'_>,
        duplicate: bool,
        answer: &mut [u8],
    ) -> Result<usize, EncodeError> {
        with_machine!(
            self,
            sh,
            |m, cx| m.handle_request(cx, now, request, duplicate, answer),
            Err(EncodeError::InvalidValue)
        )
    }

    pub(crate) fn handle_timeout<R: Rating, K: AccountingSink>(
        &mut self,
        sh: &mut Shared<R, K>,
        now: Instant,
    ) {
        with_machine!(self, sh, |m, cx| m.handle_timeout(cx, now), ())
    }

    pub(crate) fn poll_transmit<R: Rating, K: AccountingSink>(
        &mut self,
        sh: &mut Shared<R, K>,
        now: Instant,
        buf: &mut [u8],
    ) -> Option<Result<Transmit, EncodeError>> {
        with_machine!(self, sh, |m, cx| m.poll_transmit(cx, now, buf), None)
    }

    pub(crate) fn poll_event(&mut self) -> Option<SessionEvent> {
        match self {
            Session::Prepaid(m) => m.poll_event().map(SessionEvent::Prepaid),
            Session::Postpaid(m) => m.poll_event().map(SessionEvent::Postpaid),
            Session::Accounting(m) => m.poll_event().map(SessionEvent::Accounting),
            Session::CreditControlServer(m) => {
                m.poll_event().map(SessionEvent::CreditControlServer)
            }
            Session::AccountingServer(m) => m.poll_event().map(SessionEvent::AccountingServer),
        }
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Session::Prepaid(m) => m.poll_timeout(),
            Session::Postpaid(m) => m.poll_timeout(),
            Session::Accounting(m) => m.poll_timeout(),
            Session::CreditControlServer(m) => m.poll_timeout(),
            Session::AccountingServer(m) => m.poll_timeout(),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        match self {
            Session::Prepaid(m) => m.is_closed(),
            Session::Postpaid(m) => m.is_closed(),
            Session::Accounting(m) => m.is_closed(),
            Session::CreditControlServer(m) => m.is_closed(),
            Session::AccountingServer(m) => m.is_closed(),
        }
    }
}
