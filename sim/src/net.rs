//! [`Net`]: endpoints joined by in-memory connections, driven by a virtual
//! clock. A node is anything with the endpoint's driving contract
//! ([`Node`]); every [`diameter_cc::endpoint::Endpoint`] is one.
//!
//! The simulator plays the transport exactly as a real one must: it polls
//! events (connecting and closing on [`peer::Event::Connect`] and
//! [`peer::Event::Close`]), writes what `poll_transmit` gives to the
//! connection, frames what arrives with an [`RxBuf`] and hands each message
//! to `handle_message`, and calls `handle_timeout` when `poll_timeout`
//! says. It adds what a test needs: a per-message delay, seeded loss,
//! a filter that can drop or delay chosen messages, broken connections and
//! dead nodes, a trace of every message on the wire, and a bound on the
//! steps of one instant that turns an endless loop into a panic.
//!
//! ```
//! use diameter_sim::{fixtures, Net};
//! use diameter_core::time::Instant;
//! let mut net = Net::new(7);
//! let server = net.add(fixtures::server::<2, 16>(fixtures::ledger()));
//! let client = net.add(fixtures::client::<2, 16>());
//! let peer = net.node::<fixtures::Client<2, 16>>(client).add_peer(diameter_core::peer::Role::Initiator, None).unwrap();
//! net.route(client, peer, server);
//! net.node::<fixtures::Client<2, 16>>(client).start(Instant::ZERO);
//! net.run_for(core::time::Duration::from_secs(1));
//! assert!(net.node::<fixtures::Client<2, 16>>(client).peer(peer).unwrap().is_open());
//! ```

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use diameter_cc::endpoint::{Endpoint, Event, Outgoing, PeerHandle};
use diameter_cc::server::accounting::AccountingSink;
use diameter_cc::server::credit_control::Rating;
use diameter_core::peer::{self, Incoming};
use diameter_core::time::Instant;
use diameter_core::RxBuf;

/// A node's index in a [`Net`].
pub type NodeId = usize;

/// The driving contract of an endpoint, as the simulator uses it.
pub trait Node: Any {
    /// A connection came in: a responder peer takes it.
    fn accept(&mut self, now: Instant) -> Option<PeerHandle>;
    /// An outgoing connection is up.
    fn handle_connected(&mut self, now: Instant, peer: PeerHandle);
    /// A connection is gone.
    fn handle_disconnected(&mut self, now: Instant, peer: PeerHandle);
    /// One framed message; what the node did not handle itself comes back.
    fn handle_message(&mut self, now: Instant, peer: PeerHandle, bytes: &[u8])
        -> Option<Unhandled>;
    /// Timers.
    fn handle_timeout(&mut self, now: Instant);
    /// The next event.
    fn poll_event(&mut self, now: Instant) -> Option<Event>;
    /// The next bytes to send.
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Outgoing>;
    /// The next timer.
    fn poll_timeout(&self) -> Option<Instant>;
    /// For [`Net::node`].
    fn as_any(&mut self) -> &mut dyn Any;
}

impl<R: Rating + 'static, K: AccountingSink + 'static, const P: usize, const S: usize> Node
    for Endpoint<R, K, P, S>
{
    fn accept(&mut self, now: Instant) -> Option<PeerHandle> {
        Endpoint::accept(self, now)
    }
    fn handle_connected(&mut self, now: Instant, peer: PeerHandle) {
        Endpoint::handle_connected(self, now, peer)
    }
    fn handle_disconnected(&mut self, now: Instant, peer: PeerHandle) {
        Endpoint::handle_disconnected(self, now, peer)
    }
    fn handle_message(
        &mut self,
        now: Instant,
        peer: PeerHandle,
        bytes: &[u8],
    ) -> Option<Unhandled> {
        match Endpoint::handle_message(self, now, peer, bytes) {
            Incoming::Answer { message, token } => Some(Unhandled::Answer {
                token,
                bytes: message.as_bytes().to_vec(),
            }),
            Incoming::InvalidAnswer { token, .. } => Some(Unhandled::Answer {
                token,
                bytes: bytes.to_vec(),
            }),
            Incoming::Request { message, .. } => Some(Unhandled::Request {
                bytes: message.as_bytes().to_vec(),
            }),
            _ => None,
        }
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
    fn as_any(&mut self) -> &mut dyn Any {
        self
    }
}

/// A message a node handed back to its application (see
/// [`Endpoint::handle_message`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unhandled {
    /// The answer to one of the application's own requests.
    Answer {
        /// Its token.
        token: u64,
        /// The answer.
        bytes: Vec<u8>,
    },
    /// A request of an application the node does not serve.
    Request {
        /// The request.
        bytes: Vec<u8>,
    },
}

/// One message that crossed (or was dropped on) a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// When it was sent.
    pub sent: Instant,
    /// When it arrived (`None`: dropped).
    pub delivered: Option<Instant>,
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
    /// The message.
    pub bytes: Vec<u8>,
}

/// What the filter decides for one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Deliver after the link delay.
    Deliver,
    /// Lose it.
    Drop,
    /// Deliver after this much more than the link delay, as if its sender
    /// had written it that much later: messages sent meanwhile overtake it
    /// (a slow server, not a stuck connection).
    Delay(Duration),
}

type Filter = Box<dyn FnMut(&Frame) -> Verdict>;

struct End {
    node: NodeId,
    peer: PeerHandle,
    rx: Box<RxBuf<65536>>,
}

struct Link {
    ends: [End; 2],
    /// Messages in flight towards end 0 and end 1: (arrival, frame index).
    queues: [VecDeque<(Instant, usize)>; 2],
    /// The end that closed: the other one learns after what is in flight.
    closed_by: Option<usize>,
    /// Arrival of the last in-order message towards each end.
    tails: [Instant; 2],
}

/// Endpoints and the connections between them.
pub struct Net {
    nodes: Vec<Box<dyn Node>>,
    alive: Vec<bool>,
    routes: HashMap<(NodeId, PeerHandle), NodeId>,
    links: Vec<Option<Link>>,
    now: Instant,
    /// Every message sent, in order.
    pub frames: Vec<Frame>,
    /// Every event the nodes reported but the transport commands, in order.
    pub events: Vec<(Instant, NodeId, Event)>,
    /// What the nodes handed back to their application, in order.
    pub unhandled: Vec<(Instant, NodeId, PeerHandle, Unhandled)>,
    /// The delay of every message (default 1 ms).
    pub latency: Duration,
    /// The probability (0.0..1.0) that a message is lost (default 0).
    pub loss: f64,
    /// Most steps at one instant before the simulation is declared stuck.
    pub max_steps: usize,
    filter: Option<Filter>,
    rng: u64,
    buf: Vec<u8>,
}

impl Net {
    /// An empty network; `seed` makes loss reproducible.
    pub fn new(seed: u64) -> Self {
        Net {
            nodes: Vec::new(),
            alive: Vec::new(),
            routes: HashMap::new(),
            links: Vec::new(),
            now: Instant::ZERO,
            frames: Vec::new(),
            events: Vec::new(),
            unhandled: Vec::new(),
            latency: Duration::from_millis(1),
            loss: 0.0,
            max_steps: 1_000_000,
            filter: None,
            rng: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
            buf: vec![0; 65536],
        }
    }

    /// Add a node (boxed: endpoints are large).
    pub fn add<N: Node>(&mut self, node: Box<N>) -> NodeId {
        self.nodes.push(node);
        self.alive.push(true);
        self.nodes.len() - 1
    }

    /// The node, as its type.
    pub fn node<N: Node>(&mut self, id: NodeId) -> &mut N {
        self.nodes[id]
            .as_any()
            .downcast_mut::<N>()
            .expect("node of another type")
    }

    /// Connect requests of `node`'s `peer` go to `target`.
    pub fn route(&mut self, node: NodeId, peer: PeerHandle, target: NodeId) {
        self.routes.insert((node, peer), target);
    }

    /// Decide the fate of chosen messages.
    pub fn set_filter(&mut self, f: impl FnMut(&Frame) -> Verdict + 'static) {
        self.filter = Some(Box::new(f));
    }

    /// Remove the filter.
    pub fn clear_filter(&mut self) {
        self.filter = None;
    }

    /// The virtual time.
    pub const fn now(&self) -> Instant {
        self.now
    }

    /// Events of one node reported since the start, oldest first.
    pub fn events_of(&self, node: NodeId) -> impl Iterator<Item = &Event> + '_ {
        self.events
            .iter()
            .filter(move |(_, n, _)| *n == node)
            .map(|(_, _, e)| e)
    }

    /// Take every recorded event (the log starts empty again).
    pub fn take_events(&mut self) -> Vec<(Instant, NodeId, Event)> {
        std::mem::take(&mut self.events)
    }

    /// Break every connection of `node` (both sides see it go down).
    pub fn break_links(&mut self, node: NodeId) {
        for i in 0..self.links.len() {
            let involved = self.links[i]
                .as_ref()
                .is_some_and(|l| l.ends.iter().any(|e| e.node == node));
            if involved {
                self.drop_link(i);
            }
        }
    }

    /// Kill `node`: its connections break and new ones are refused until
    /// [`Net::revive`]. It is not driven meanwhile.
    pub fn kill(&mut self, node: NodeId) {
        self.break_links(node);
        self.alive[node] = false;
    }

    /// Let a killed node run and accept connections again.
    pub fn revive(&mut self, node: NodeId) {
        self.alive[node] = true;
    }

    /// Write bytes the application encoded itself (a request sent with
    /// [`Endpoint::send_request`], an answer) to `node`'s connection `peer`,
    /// as a transport would.
    pub fn write(&mut self, node: NodeId, peer: PeerHandle, bytes: &[u8]) {
        if let Some((i, side)) = self.find(node, peer) {
            self.enqueue(i, side, bytes.to_vec());
        }
    }

    /// Run until `now + d`.
    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    /// Run every timer and message due up to `until`, then stop there.
    pub fn run_until(&mut self, until: Instant) {
        loop {
            self.settle();
            let next = self.next_wakeup();
            match next {
                Some(t) if t <= until => {
                    self.now = self.now.max(t);
                    self.fire_timers();
                    self.deliver_due();
                }
                _ => break,
            }
        }
        self.now = self.now.max(until);
        self.fire_timers();
        self.settle();
    }

    /// Process everything due at the current instant.
    pub fn settle(&mut self) {
        for _ in 0..self.max_steps {
            let mut progress = false;
            for id in 0..self.nodes.len() {
                if !self.alive[id] {
                    continue;
                }
                let (p, closes) = self.drain_events(id);
                progress |= p;
                progress |= self.drain_transmits(id);
                // A connection closes after what was queued for it is
                // written (the order a transport must follow).
                for peer in closes {
                    self.close(id, peer);
                }
            }
            progress |= self.deliver_due();
            if !progress {
                return;
            }
        }
        panic!(
            "simulation stuck at {:?}: no quiet state after {} steps",
            self.now, self.max_steps
        );
    }

    fn next_wakeup(&self) -> Option<Instant> {
        let mut t: Option<Instant> = None;
        for (id, n) in self.nodes.iter().enumerate() {
            if self.alive[id] {
                t = diameter_core::time::earliest(t, n.poll_timeout());
            }
        }
        for l in self.links.iter().flatten() {
            for q in &l.queues {
                t = diameter_core::time::earliest(t, q.front().map(|(at, _)| *at));
            }
        }
        t
    }

    fn fire_timers(&mut self) {
        let now = self.now;
        for id in 0..self.nodes.len() {
            if self.alive[id] && self.nodes[id].poll_timeout().is_some_and(|t| t <= now) {
                self.nodes[id].handle_timeout(now);
            }
        }
    }

    fn drain_events(&mut self, id: NodeId) -> (bool, Vec<PeerHandle>) {
        let mut progress = false;
        let mut closes = Vec::new();
        while let Some(e) = self.nodes[id].poll_event(self.now) {
            progress = true;
            match e {
                Event::Peer {
                    peer,
                    event: peer::Event::Connect,
                } => self.connect(id, peer),
                Event::Peer {
                    peer,
                    event: peer::Event::Close,
                } => closes.push(peer),
                other => self.events.push((self.now, id, other)),
            }
        }
        (progress, closes)
    }

    fn connect(&mut self, id: NodeId, peer: PeerHandle) {
        let now = self.now;
        let target = self.routes.get(&(id, peer)).copied();
        let accepted = match target {
            Some(t) if self.alive[t] => self.nodes[t].accept(now).map(|p| (t, p)),
            _ => None,
        };
        match accepted {
            Some((t, tp)) => {
                let link = Link {
                    ends: [
                        End {
                            node: id,
                            peer,
                            rx: Box::new(RxBuf::new()),
                        },
                        End {
                            node: t,
                            peer: tp,
                            rx: Box::new(RxBuf::new()),
                        },
                    ],
                    queues: [VecDeque::new(), VecDeque::new()],
                    closed_by: None,
                    tails: [Instant::ZERO; 2],
                };
                self.links.push(Some(link));
                self.nodes[id].handle_connected(now, peer);
            }
            // Connection refused.
            None => self.nodes[id].handle_disconnected(now, peer),
        }
    }

    fn find(&self, id: NodeId, peer: PeerHandle) -> Option<(usize, usize)> {
        self.links.iter().enumerate().find_map(|(i, l)| {
            let l = l.as_ref()?;
            l.ends
                .iter()
                .position(|e| e.node == id && e.peer == peer)
                .map(|side| (i, side))
        })
    }

    fn close(&mut self, id: NodeId, peer: PeerHandle) {
        let now = self.now;
        match self.find(id, peer) {
            Some((i, side)) => {
                if let Some(l) = self.links[i].as_mut() {
                    if l.closed_by.is_none() {
                        l.closed_by = Some(side);
                    }
                }
                self.nodes[id].handle_disconnected(now, peer);
            }
            None => self.nodes[id].handle_disconnected(now, peer),
        }
    }

    fn drop_link(&mut self, i: usize) {
        let now = self.now;
        if let Some(l) = self.links[i].take() {
            // What was in flight is lost with the connection.
            for e in &l.ends {
                if self.alive[e.node] {
                    self.nodes[e.node].handle_disconnected(now, e.peer);
                }
            }
        }
    }

    fn random(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    fn drain_transmits(&mut self, id: NodeId) -> bool {
        let mut progress = false;
        let mut buf = std::mem::take(&mut self.buf);
        while let Some(o) = self.nodes[id].poll_transmit(self.now, &mut buf) {
            progress = true;
            let Some((i, side)) = self.find(id, o.peer) else {
                continue; // no connection: the bytes are lost
            };
            if self.links[i]
                .as_ref()
                .is_some_and(|l| l.closed_by.is_some())
            {
                continue;
            }
            let mut rest = &buf[..o.len];
            while rest.len() >= 4 {
                let len = u32::from_be_bytes([0, rest[1], rest[2], rest[3]]) as usize;
                let len = if len < 20 || len > rest.len() {
                    rest.len()
                } else {
                    len
                };
                let (msg, tail) = rest.split_at(len);
                rest = tail;
                self.enqueue(i, side, msg.to_vec());
            }
            if !rest.is_empty() {
                self.enqueue(i, side, rest.to_vec());
            }
        }
        self.buf = buf;
        progress
    }

    fn enqueue(&mut self, link: usize, from_side: usize, bytes: Vec<u8>) {
        let Some(l) = self.links[link].as_ref() else {
            return;
        };
        let to_side = 1 - from_side;
        let mut frame = Frame {
            sent: self.now,
            delivered: None,
            from: l.ends[from_side].node,
            to: l.ends[to_side].node,
            bytes,
        };
        let mut verdict = match self.filter.as_mut() {
            Some(f) => f(&frame),
            None => Verdict::Deliver,
        };
        if verdict == Verdict::Deliver && self.loss > 0.0 && self.random() < self.loss {
            verdict = Verdict::Drop;
        }
        let at = match verdict {
            Verdict::Drop => None,
            Verdict::Deliver => Some(self.now + self.latency),
            Verdict::Delay(d) => Some(self.now + self.latency + d),
        };
        frame.delivered = at;
        let idx = self.frames.len();
        self.frames.push(frame);
        if let (Some(at), Some(l)) = (at, self.links[link].as_mut()) {
            let q = &mut l.queues[to_side];
            if let Verdict::Delay(_) = verdict {
                // A message its sender wrote late (a slow server): what is
                // sent meanwhile goes first.
                let pos = q.iter().position(|(t, _)| *t > at).unwrap_or(q.len());
                q.insert(pos, (at, idx));
            } else {
                // The stream keeps its order: never before what was sent
                // earlier (late writes aside).
                let at = l.tails[to_side].max(at);
                l.tails[to_side] = at;
                self.frames[idx].delivered = Some(at);
                let pos = q.iter().position(|(t, _)| *t > at).unwrap_or(q.len());
                q.insert(pos, (at, idx));
            }
        }
    }

    fn deliver_due(&mut self) -> bool {
        let now = self.now;
        let mut progress = false;
        for i in 0..self.links.len() {
            for side in 0..2 {
                while let Some(l) = self.links[i].as_mut() {
                    let due = l.queues[side].front().is_some_and(|(at, _)| *at <= now);
                    if !due {
                        if l.queues[side].is_empty() && l.closed_by == Some(1 - side) {
                            // What was in flight arrived: the other side
                            // learns the connection is closed.
                            let end = &l.ends[side];
                            let (node, peer) = (end.node, end.peer);
                            self.links[i] = None;
                            if self.alive[node] {
                                self.nodes[node].handle_disconnected(now, peer);
                            }
                            progress = true;
                        }
                        break;
                    }
                    let (_, f) = l.queues[side].pop_front().unwrap_or((now, 0));
                    let end = &mut l.ends[side];
                    let (node, peer) = (end.node, end.peer);
                    end.rx.extend(&self.frames[f].bytes);
                    let mut msgs = Vec::new();
                    let mut broken = false;
                    while let Some(m) = end.rx.next_message() {
                        match m {
                            Ok(m) => msgs.push(m.to_vec()),
                            Err(_) => {
                                broken = true;
                                break;
                            }
                        }
                    }
                    progress = true;
                    if !self.alive[node] {
                        continue;
                    }
                    for m in msgs {
                        if let Some(u) = self.nodes[node].handle_message(now, peer, &m) {
                            self.unhandled.push((now, node, peer, u));
                        }
                        // The contract: poll after every input (an answer
                        // queued in the peer's buffer goes out before the
                        // next request fills it).
                        self.drain_transmits(node);
                    }
                    if broken {
                        self.drop_link(i);
                        break;
                    }
                }
            }
        }
        progress
    }
}
