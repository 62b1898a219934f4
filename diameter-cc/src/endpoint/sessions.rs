//! The sessions an endpoint holds, of every kind, and how each kind is
//! given its shared part ([`Machine::Shared`]) when the endpoint drives it.

use diameter_core::time::Instant;
use diameter_core::{EncodeError, Message};

#[cfg(feature = "accounting")]
use crate::client::accounting::{AccountingClient, AccountingConfig, AccountingEvent};
#[cfg(feature = "postpaid")]
use crate::client::postpaid::{PostpaidClient, PostpaidConfig, PostpaidEvent};
#[cfg(feature = "prepaid")]
use crate::client::prepaid::{PrepaidClient, PrepaidConfig, PrepaidEvent};
use crate::server::accounting::AccountingSink;
#[cfg(feature = "server")]
use crate::server::accounting::{AccountingServer, AccountingServerEvent, AcctServerSession};
use crate::server::credit_control::Rating;
#[cfg(feature = "server")]
use crate::server::credit_control::{CcServer, CcServerEvent, CcServerSession};
#[cfg(any(
    feature = "prepaid",
    feature = "postpaid",
    feature = "accounting",
    feature = "server"
))]
use crate::session::{Ctx, Machine};
use crate::session::{Node, RequestFailed, Route, Transmit};

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

/// One session of an endpoint: a variant for each session kind the crate
/// was built with (the features `prepaid`, `postpaid`, `accounting` and
/// `server`, all in `default`).
#[derive(Debug, Clone)]
#[non_exhaustive]
// Every slot of the table is the size of the largest kind built in;
// boxing the large ones is not possible without an allocator.
#[allow(clippy::large_enum_variant)]
pub enum Session {
    /// A prepaid call.
    #[cfg(feature = "prepaid")]
    Prepaid(PrepaidClient),
    /// A postpaid call.
    #[cfg(feature = "postpaid")]
    Postpaid(PostpaidClient),
    /// A call's accounting.
    #[cfg(feature = "accounting")]
    Accounting(AccountingClient<ACCOUNTING_RECORDS>),
    /// A credit-control session served.
    #[cfg(feature = "server")]
    CreditControlServer(CcServerSession),
    /// An accounting session served.
    #[cfg(feature = "server")]
    AccountingServer(AcctServerSession),
}

/// What a session tells the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SessionEvent {
    /// From a prepaid call: allow, deny, tear down, finished.
    #[cfg(feature = "prepaid")]
    Prepaid(PrepaidEvent),
    /// From a postpaid call: charged, buffered, finished.
    #[cfg(feature = "postpaid")]
    Postpaid(PostpaidEvent),
    /// From a call's accounting: record acknowledged, stop the service...
    #[cfg(feature = "accounting")]
    Accounting(AccountingEvent),
    /// From a credit-control session served.
    #[cfg(feature = "server")]
    CreditControlServer(CcServerEvent),
    /// From an accounting session served.
    #[cfg(feature = "server")]
    AccountingServer(AccountingServerEvent),
    /// A request from a peer opened this server session.
    #[cfg(feature = "server")]
    Opened(SessionKind),
    /// The session is over: its handle is no longer valid. The last event
    /// of every session.
    Closed,
}

/// The parts of the endpoint every session of a kind shares.
pub(crate) struct Shared<R: Rating + 'static, K: AccountingSink + 'static> {
    pub node: Node,
    #[cfg(feature = "prepaid")]
    pub prepaid: Option<PrepaidConfig>,
    #[cfg(feature = "postpaid")]
    pub postpaid: Option<PostpaidConfig>,
    #[cfg(feature = "accounting")]
    pub accounting: Option<AccountingConfig>,
    #[cfg(feature = "server")]
    pub cc_server: Option<CcServer<R>>,
    #[cfg(feature = "server")]
    pub acct_server: Option<AccountingServer<K>>,
    /// The rating engine and the accounting sink are those of the servers.
    #[cfg(not(feature = "server"))]
    pub servers: core::marker::PhantomData<fn() -> (R, K)>,
}

/// Call `$m` on the machine inside `$s` with its shared part; `$none` if
/// the kind is not configured (which cannot happen for an open session).
macro_rules! with_machine {
    ($s:expr, $sh:expr, |$m:ident, $cx:ident| $body:expr, $none:expr) => {{
        let sh = $sh;
        match $s {
            #[cfg(feature = "prepaid")]
            Session::Prepaid($m) => match sh.prepaid.as_mut() {
                Some(c) => {
                    let $cx = Ctx::new(&sh.node, c);
                    $body
                }
                None => $none,
            },
            #[cfg(feature = "postpaid")]
            Session::Postpaid($m) => match sh.postpaid.as_mut() {
                Some(c) => {
                    let $cx = Ctx::new(&sh.node, c);
                    $body
                }
                None => $none,
            },
            #[cfg(feature = "accounting")]
            Session::Accounting($m) => match sh.accounting.as_mut() {
                Some(c) => {
                    let $cx = Ctx::new(&sh.node, c);
                    $body
                }
                None => $none,
            },
            #[cfg(feature = "server")]
            Session::CreditControlServer($m) => match sh.cc_server.as_mut() {
                Some(c) => {
                    let c: &mut CcServer<dyn Rating> = c;
                    let $cx = Ctx::new(&sh.node, c);
                    $body
                }
                None => $none,
            },
            #[cfg(feature = "server")]
            Session::AccountingServer($m) => match sh.acct_server.as_mut() {
                Some(c) => {
                    let c: &mut AccountingServer<dyn AccountingSink> = c;
                    let $cx = Ctx::new(&sh.node, c);
                    $body
                }
                None => $none,
            },
            #[cfg(not(any(
                feature = "prepaid",
                feature = "postpaid",
                feature = "accounting",
                feature = "server"
            )))]
            _ => {
                let _ = sh;
                match *$s {}
            }
        }
    }};
}

// Built with no session kind, `Session` is empty and these are never
// called.
#[cfg_attr(
    not(any(
        feature = "prepaid",
        feature = "postpaid",
        feature = "accounting",
        feature = "server"
    )),
    allow(unused_variables, unreachable_code)
)]
impl Session {
    /// The kind.
    pub const fn kind(&self) -> SessionKind {
        match self {
            #[cfg(feature = "prepaid")]
            Session::Prepaid(_) => SessionKind::Prepaid,
            #[cfg(feature = "postpaid")]
            Session::Postpaid(_) => SessionKind::Postpaid,
            #[cfg(feature = "accounting")]
            Session::Accounting(_) => SessionKind::Accounting,
            #[cfg(feature = "server")]
            Session::CreditControlServer(_) => SessionKind::CreditControlServer,
            #[cfg(feature = "server")]
            Session::AccountingServer(_) => SessionKind::AccountingServer,
            #[cfg(not(any(
                feature = "prepaid",
                feature = "postpaid",
                feature = "accounting",
                feature = "server"
            )))]
            _ => match *self {},
        }
    }

    /// The Session-Id.
    pub fn session_id(&self) -> &str {
        match self {
            #[cfg(feature = "prepaid")]
            Session::Prepaid(m) => m.session_id(),
            #[cfg(feature = "postpaid")]
            Session::Postpaid(m) => m.session_id(),
            #[cfg(feature = "accounting")]
            Session::Accounting(m) => m.session_id(),
            #[cfg(feature = "server")]
            Session::CreditControlServer(m) => m.session_id(),
            #[cfg(feature = "server")]
            Session::AccountingServer(m) => m.session_id(),
            #[cfg(not(any(
                feature = "prepaid",
                feature = "postpaid",
                feature = "accounting",
                feature = "server"
            )))]
            _ => match *self {},
        }
    }

    pub(crate) fn route<'a, R: Rating, K: AccountingSink>(
        &'a self,
        sh: &'a Shared<R, K>,
    ) -> Option<Route<'a>> {
        Some(match self {
            #[cfg(feature = "prepaid")]
            Session::Prepaid(m) => m.route(sh.prepaid.as_ref()?),
            #[cfg(feature = "postpaid")]
            Session::Postpaid(m) => m.route(sh.postpaid.as_ref()?),
            #[cfg(feature = "accounting")]
            Session::Accounting(m) => m.route(sh.accounting.as_ref()?),
            #[cfg(feature = "server")]
            Session::CreditControlServer(m) => {
                let c: &CcServer<dyn Rating> = sh.cc_server.as_ref()?;
                m.route(c)
            }
            #[cfg(feature = "server")]
            Session::AccountingServer(m) => {
                let c: &AccountingServer<dyn AccountingSink> = sh.acct_server.as_ref()?;
                m.route(c)
            }
            #[cfg(not(any(
                feature = "prepaid",
                feature = "postpaid",
                feature = "accounting",
                feature = "server"
            )))]
            _ => {
                let _ = sh;
                match *self {}
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
            #[cfg(feature = "prepaid")]
            Session::Prepaid(m) => m.poll_event().map(SessionEvent::Prepaid),
            #[cfg(feature = "postpaid")]
            Session::Postpaid(m) => m.poll_event().map(SessionEvent::Postpaid),
            #[cfg(feature = "accounting")]
            Session::Accounting(m) => m.poll_event().map(SessionEvent::Accounting),
            #[cfg(feature = "server")]
            Session::CreditControlServer(m) => {
                m.poll_event().map(SessionEvent::CreditControlServer)
            }
            #[cfg(feature = "server")]
            Session::AccountingServer(m) => m.poll_event().map(SessionEvent::AccountingServer),
            #[cfg(not(any(
                feature = "prepaid",
                feature = "postpaid",
                feature = "accounting",
                feature = "server"
            )))]
            _ => match *self {},
        }
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        match self {
            #[cfg(feature = "prepaid")]
            Session::Prepaid(m) => m.poll_timeout(),
            #[cfg(feature = "postpaid")]
            Session::Postpaid(m) => m.poll_timeout(),
            #[cfg(feature = "accounting")]
            Session::Accounting(m) => m.poll_timeout(),
            #[cfg(feature = "server")]
            Session::CreditControlServer(m) => m.poll_timeout(),
            #[cfg(feature = "server")]
            Session::AccountingServer(m) => m.poll_timeout(),
            #[cfg(not(any(
                feature = "prepaid",
                feature = "postpaid",
                feature = "accounting",
                feature = "server"
            )))]
            _ => match *self {},
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        match self {
            #[cfg(feature = "prepaid")]
            Session::Prepaid(m) => m.is_closed(),
            #[cfg(feature = "postpaid")]
            Session::Postpaid(m) => m.is_closed(),
            #[cfg(feature = "accounting")]
            Session::Accounting(m) => m.is_closed(),
            #[cfg(feature = "server")]
            Session::CreditControlServer(m) => m.is_closed(),
            #[cfg(feature = "server")]
            Session::AccountingServer(m) => m.is_closed(),
            #[cfg(not(any(
                feature = "prepaid",
                feature = "postpaid",
                feature = "accounting",
                feature = "server"
            )))]
            _ => match *self {},
        }
    }
}
