//! [`Node`]: the endpoint shared between the task that moves its bytes (a
//! [`crate::Runner`]) and the tasks of the application (its sessions).
//!
//! The endpoint of `diameter-cc` is a plain `&mut` state machine. A node
//! wraps it in a blocking mutex (never held across an `.await`), wakes the
//! runner after every call of the application (the endpoint's inputs must
//! be followed by its polls, see `diameter_cc::endpoint`), and sorts the
//! endpoint's events: the transport commands go to the runner, a session's
//! events to the [`crate::calls`] object that opened it, everything else
//! (peer state, server sessions, one-time events) to
//! [`Node::next_event`]. Both queues are bounded ([`EVENT_QUEUE`]); when
//! one is full an event is dropped and counted
//! ([`NodeStats::events_dropped`]), never the transport's commands: for a
//! session's event, the oldest queued event of that same session first, so
//! one call that does not read its events cannot push out another's.

use core::cell::RefCell;
use core::future::poll_fn;
use core::task::{Context, Poll};

#[cfg(feature = "accounting")]
use diameter_cc::client::accounting::CallInfo;
#[cfg(any(feature = "prepaid", feature = "postpaid"))]
use diameter_cc::client::Parties;
#[cfg(any(feature = "prepaid", feature = "postpaid", feature = "accounting"))]
use diameter_cc::endpoint::OpenError;
use diameter_cc::endpoint::{Endpoint, Event, Outgoing, PeerHandle, SessionEvent, SessionHandle};
use diameter_cc::server::accounting::{AccountingSink, NoSink};
use diameter_cc::server::credit_control::{NoRating, Rating};
use diameter_core::answer::Identity;
use diameter_core::dict::base::DisconnectCause;
use diameter_core::peer;
use diameter_core::peer::Incoming;
use embassy_sync::blocking_mutex::raw::RawMutex;
use embassy_sync::blocking_mutex::Mutex;
use embassy_sync::signal::Signal;
use embassy_sync::waitqueue::MultiWakerRegistration;

#[cfg(feature = "accounting")]
use crate::calls::AccountingCall;
#[cfg(feature = "postpaid")]
use crate::calls::PostpaidCall;
#[cfg(feature = "prepaid")]
use crate::calls::PrepaidCall;
use crate::clock::now;
use crate::handler::Handler;

/// Capacity of each of the node's event queues (sessions' events waiting
/// for their call object, and the application's events).
pub const EVENT_QUEUE: usize = 16;
/// Tasks that may wait on one node at once before they are woken early
/// (a woken task that has nothing to do registers again: no wake-up is
/// lost).
const WAITERS: usize = 8;

/// Counters of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NodeStats {
    /// Events dropped because their queue was full (nobody read them).
    pub events_dropped: u32,
}

/// A transport command the endpoint gave the runner (the endpoint's
/// [`peer::Event::Connect`] and [`peer::Event::Close`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    Connect(PeerHandle),
    Close(PeerHandle),
}

pub(crate) struct State<
    R: Rating + 'static,
    K: AccountingSink + 'static,
    const P: usize,
    const S: usize,
> {
    pub(crate) ep: Endpoint<R, K, P, S>,
    /// Events of sessions that a call object owns, until it takes them.
    session_events: heapless::Vec<(SessionHandle, SessionEvent), EVENT_QUEUE>,
    /// Every other event but the transport commands.
    node_events: heapless::Deque<Event, EVENT_QUEUE>,
    /// Sessions owned by a call object.
    attached: heapless::Vec<SessionHandle, S>,
    waiters: MultiWakerRegistration<WAITERS>,
    stats: NodeStats,
}

impl<R: Rating + 'static, K: AccountingSink + 'static, const P: usize, const S: usize>
    State<R, K, P, S>
{
    /// File an event for whoever reads it, and wake the readers.
    fn deliver(&mut self, e: Event) {
        match e {
            Event::Session { session, event } if self.attached.contains(&session) => {
                if self.session_events.is_full() {
                    // Make room at the expense of the session that fills
                    // the queue (its oldest event), else of the oldest event
                    // that is not a session's end; another call's `Closed`
                    // goes last, since its owner waits for it.
                    let victim = self
                        .session_events
                        .iter()
                        .position(|(s, _)| *s == session)
                        .or_else(|| {
                            self.session_events
                                .iter()
                                .position(|(_, e)| !matches!(e, SessionEvent::Closed))
                        })
                        .unwrap_or(0);
                    self.session_events.remove(victim);
                    self.stats.events_dropped = self.stats.events_dropped.saturating_add(1);
                }
                let _ = self.session_events.push((session, event));
            }
            other => {
                if self.node_events.is_full() {
                    let _ = self.node_events.pop_front();
                    self.stats.events_dropped = self.stats.events_dropped.saturating_add(1);
                }
                let _ = self.node_events.push_back(other);
            }
        }
        self.waiters.wake();
    }

    pub(crate) fn detach(&mut self, h: SessionHandle) {
        self.attached.retain(|a| *a != h);
        self.session_events.retain(|(s, _)| *s != h);
    }

    pub(crate) fn take_session_event(&mut self, h: SessionHandle) -> Option<SessionEvent> {
        let i = self.session_events.iter().position(|(s, _)| *s == h)?;
        Some(self.session_events.remove(i).1)
    }

    pub(crate) fn register(&mut self, cx: &Context<'_>) {
        self.waiters.register(cx.waker());
    }

    fn is_open(&self) -> bool {
        self.ep
            .peers()
            .any(|p| self.ep.peer(p).is_some_and(|m| m.is_open()))
    }
}

/// An endpoint shared by one [`crate::Runner`] and the application's
/// tasks. `M` is the mutex kind (`NoopRawMutex` when everything runs in
/// one executor, `CriticalSectionRawMutex` across executors or
/// interrupts); `R`, `K`, `P` and `S` are the endpoint's (rating engine,
/// accounting sink, peer and session capacities).
///
/// ```
/// use diameter_cc::endpoint::{Endpoint, EndpointConfig};
/// use diameter_cc::session::WallClock;
/// use diameter_core::peer::{App, LocalIdentity, PeerConfig, Role};
/// use diameter_core::time::Instant;
/// use diameter_embassy::Node;
/// use embassy_sync::blocking_mutex::raw::NoopRawMutex;
///
/// let me = LocalIdentity::new("gw.example.org", "example.org")?.with_application(App::auth(4))?;
/// let config = EndpointConfig::new(PeerConfig::new(me, 1_764_720_000), WallClock::new(1_764_720_000));
/// let ep: Endpoint<_, _, 1, 4> = Endpoint::new(config, Instant::ZERO);
/// let node: Node<NoopRawMutex, _, _, 1, 4> = Node::new(ep);
/// let ocs = node.with(|ep| ep.add_peer(Role::Initiator, None)).unwrap();
/// assert!(!node.is_open());
/// # let _ = ocs;
/// # Ok::<(), diameter_core::peer::ConfigError>(())
/// ```
pub struct Node<
    M: RawMutex,
    R: Rating + 'static = NoRating,
    K: AccountingSink + 'static = NoSink,
    const P: usize = 1,
    const S: usize = 8,
> {
    state: Mutex<M, RefCell<State<R, K, P, S>>>,
    input: Signal<M, ()>,
}

impl<
        M: RawMutex,
        R: Rating + 'static,
        K: AccountingSink + 'static,
        const P: usize,
        const S: usize,
    > Node<M, R, K, P, S>
{
    /// Share `endpoint` (built and configured: session settings, served
    /// applications, peers).
    pub fn new(endpoint: Endpoint<R, K, P, S>) -> Self {
        Node {
            state: Mutex::new(RefCell::new(State {
                ep: endpoint,
                session_events: heapless::Vec::new(),
                node_events: heapless::Deque::new(),
                attached: heapless::Vec::new(),
                waiters: MultiWakerRegistration::new(),
                stats: NodeStats::default(),
            })),
            input: Signal::new(),
        }
    }

    /// Run `f` on the node's state (the mutex is held for `f` only).
    pub(crate) fn lock<T>(&self, f: impl FnOnce(&mut State<R, K, P, S>) -> T) -> T {
        self.state.lock(|s| f(&mut s.borrow_mut()))
    }

    /// Run `f` on the endpoint, then wake the runner to poll it: inspect it
    /// (sessions, peers, counters), add peers, top up a rating engine, or
    /// call any endpoint input the session objects do not cover.
    ///
    /// ```
    /// # use diameter_cc::endpoint::{Endpoint, EndpointConfig};
    /// # use diameter_cc::session::WallClock;
    /// # use diameter_core::peer::{LocalIdentity, PeerConfig};
    /// # use diameter_core::time::Instant;
    /// # use diameter_embassy::Node;
    /// # use embassy_sync::blocking_mutex::raw::NoopRawMutex;
    /// # let me = LocalIdentity::new("gw.example.org", "example.org").unwrap();
    /// # let config = EndpointConfig::new(PeerConfig::new(me, 0), WallClock::new(0));
    /// # let node: Node<NoopRawMutex> = Node::new(Endpoint::new(config, Instant::ZERO));
    /// assert_eq!(node.with(|ep| ep.session_count()), 0);
    /// ```
    pub fn with<T>(&self, f: impl FnOnce(&mut Endpoint<R, K, P, S>) -> T) -> T {
        let t = self.lock(|s| f(&mut s.ep));
        self.input.signal(());
        t
    }

    /// Whether a peer connection is open (capabilities exchanged, watchdog
    /// happy): sessions can send.
    pub fn is_open(&self) -> bool {
        self.lock(|s| s.is_open())
    }

    /// Wait until a peer connection is open (RFC 6733 §5.6 I-Open/R-Open).
    pub async fn wait_open(&self) {
        poll_fn(|cx| {
            self.lock(|s| {
                if s.is_open() {
                    Poll::Ready(())
                } else {
                    s.register(cx);
                    Poll::Pending
                }
            })
        })
        .await
    }

    /// The next event that no call object owns: peer state
    /// ([`peer::Event::Up`], `Down`, `Suspect`...), the end of the
    /// application's own requests, server sessions' and one-time events.
    pub async fn next_event(&self) -> Event {
        poll_fn(|cx| {
            self.lock(|s| match s.node_events.pop_front() {
                Some(e) => Poll::Ready(e),
                None => {
                    s.register(cx);
                    Poll::Pending
                }
            })
        })
        .await
    }

    /// The next such event, if one is waiting.
    pub fn try_next_event(&self) -> Option<Event> {
        self.lock(|s| s.node_events.pop_front())
    }

    /// Counters.
    pub fn stats(&self) -> NodeStats {
        self.lock(|s| s.stats)
    }

    /// Send DPR with `cause` on every connection (RFC 6733 §5.4): each
    /// closes after its DPA and does not reconnect until
    /// [`Node::start`].
    pub fn shutdown(&self, cause: DisconnectCause) {
        let now = now();
        self.with(|ep| ep.shutdown(now, cause));
    }

    /// (Re)start every initiator peer: each connects.
    pub fn start(&self) {
        let now = now();
        self.with(|ep| ep.start(now));
    }

    /// Open a prepaid session (RFC 8506 §5; SCENARIOS Prepaid) named
    /// `session_id` (the SIP Call-ID, say) for `parties`.
    #[cfg(feature = "prepaid")]
    pub fn prepaid(
        &self,
        session_id: &str,
        parties: Parties,
    ) -> Result<PrepaidCall<'_, M, R, K, P, S>, OpenError> {
        let h = self.open(|ep| ep.open_prepaid(now(), session_id, parties))?;
        Ok(PrepaidCall::new(self, h))
    }

    /// Open a postpaid session (one CCR-Event at hangup, SCENARIOS
    /// Postpaid).
    #[cfg(feature = "postpaid")]
    pub fn postpaid(
        &self,
        session_id: &str,
        parties: Parties,
    ) -> Result<PostpaidCall<'_, M, R, K, P, S>, OpenError> {
        let h = self.open(|ep| ep.open_postpaid(now(), session_id, parties))?;
        Ok(PostpaidCall::new(self, h))
    }

    /// Open a call's accounting session (RFC 6733 §9, SCENARIOS
    /// Accounting).
    #[cfg(feature = "accounting")]
    pub fn accounting(
        &self,
        info: CallInfo,
    ) -> Result<AccountingCall<'_, M, R, K, P, S>, OpenError> {
        let h = self.open(|ep| ep.open_accounting(now(), info))?;
        Ok(AccountingCall::new(self, h))
    }

    #[cfg(any(feature = "prepaid", feature = "postpaid", feature = "accounting"))]
    fn open(
        &self,
        f: impl FnOnce(&mut Endpoint<R, K, P, S>) -> Result<SessionHandle, OpenError>,
    ) -> Result<SessionHandle, OpenError> {
        self.lock(|s| {
            let h = f(&mut s.ep)?;
            // The table has S slots and `attached` S entries: this fits.
            let _ = s.attached.push(h);
            Ok(h)
        })
    }

    // ---- the runner's side --------------------------------------------------

    /// Wake the runner (the application changed the endpoint).
    pub(crate) fn kick(&self) {
        self.input.signal(());
    }

    /// Wait until the application calls the endpoint.
    pub(crate) async fn wait_input(&self) {
        self.input.wait().await
    }

    pub(crate) fn handle_connected(&self, peer: PeerHandle) {
        let now = now();
        self.lock(|s| s.ep.handle_connected(now, peer));
    }

    pub(crate) fn handle_disconnected(&self, peer: PeerHandle) {
        let now = now();
        self.lock(|s| s.ep.handle_disconnected(now, peer));
    }

    /// A responder connection came in: a responder peer takes it.
    pub(crate) fn accept(&self) -> Option<PeerHandle> {
        let now = now();
        self.lock(|s| s.ep.accept(now))
    }

    pub(crate) fn handle_timeout(&self) {
        let now = now();
        self.lock(|s| s.ep.handle_timeout(now));
    }

    pub(crate) fn poll_timeout(&self) -> Option<diameter_core::time::Instant> {
        self.lock(|s| s.ep.poll_timeout())
    }

    pub(crate) fn poll_transmit(&self, buf: &mut [u8]) -> Option<Outgoing> {
        let now = now();
        self.lock(|s| s.ep.poll_transmit(now, buf))
    }

    /// One framed message from `peer`; what the endpoint hands back goes
    /// to `handler` (requests are answered with what it writes).
    pub(crate) fn handle_message<H: Handler>(
        &self,
        peer: PeerHandle,
        bytes: &[u8],
        handler: &mut H,
    ) {
        let now = now();
        self.lock(|s| match s.ep.handle_message(now, peer, bytes) {
            Incoming::Request { message, .. } => {
                let node = s.ep.node().clone();
                let me = Identity {
                    origin_host: node.origin_host.as_str(),
                    origin_realm: node.origin_realm.as_str(),
                };
                let _ =
                    s.ep.answer(peer, |out| handler.request(peer, &message, &me, out));
            }
            Incoming::Answer { token, .. } => handler.answer(peer, token, bytes, true),
            Incoming::InvalidAnswer { token, .. } => handler.answer(peer, token, bytes, false),
            _ => {}
        });
    }

    /// Poll the endpoint's events until a transport command or `None`,
    /// filing every other event for its reader.
    pub(crate) fn poll_command(&self) -> Option<Command> {
        let now = now();
        self.lock(|s| {
            while let Some(e) = s.ep.poll_event(now) {
                match e {
                    Event::Peer {
                        peer,
                        event: peer::Event::Connect,
                    } => return Some(Command::Connect(peer)),
                    Event::Peer {
                        peer,
                        event: peer::Event::Close,
                    } => return Some(Command::Close(peer)),
                    other => {
                        #[cfg(feature = "defmt")]
                        defmt::debug!("diameter: {}", other);
                        s.deliver(other)
                    }
                }
            }
            None
        })
    }
}
