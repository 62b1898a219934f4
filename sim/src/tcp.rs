//! [`TcpDriver`]: one endpoint over real TCP sockets, blocking and single
//! threaded, for interop tests against independent implementations
//! (freeDiameter). It follows the endpoint's driving contract like any
//! transport: connect on [`peer::Event::Connect`], write what
//! `poll_transmit` gives, frame reads with an [`RxBuf`] and poll after
//! every message, close after flushing on [`peer::Event::Close`], and call
//! `handle_timeout` when due. Every message in both directions is logged.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant as StdInstant};

use diameter_cc::endpoint::{Event, PeerHandle};
use diameter_core::peer;
use diameter_core::time::Instant;
use diameter_core::RxBuf;

use crate::net::{Node, Unhandled};

struct Conn {
    sock: TcpStream,
    rx: Box<RxBuf<65536>>,
}

/// An endpoint driven over TCP.
pub struct TcpDriver<N: Node> {
    /// The endpoint.
    pub node: Box<N>,
    conns: HashMap<PeerHandle, Conn>,
    targets: HashMap<PeerHandle, SocketAddr>,
    t0: StdInstant,
    /// Every message: (sent by us?, bytes).
    pub log: Vec<(bool, Vec<u8>)>,
    /// Every event but the transport commands.
    pub events: Vec<Event>,
    /// Messages the endpoint handed back to the application.
    pub unhandled: Vec<(PeerHandle, Unhandled)>,
    buf: Vec<u8>,
}

impl<N: Node> TcpDriver<N> {
    /// Drive `node`; its clock starts now.
    pub fn new(node: Box<N>) -> Self {
        TcpDriver {
            node,
            conns: HashMap::new(),
            targets: HashMap::new(),
            t0: StdInstant::now(),
            log: Vec::new(),
            events: Vec::new(),
            unhandled: Vec::new(),
            buf: vec![0; 65536],
        }
    }

    /// The endpoint's time.
    pub fn now(&self) -> Instant {
        Instant(self.t0.elapsed().as_millis() as u64)
    }

    /// `peer` connects to `addr` when it asks to.
    pub fn target(&mut self, peer: PeerHandle, addr: SocketAddr) {
        self.targets.insert(peer, addr);
    }

    /// A connection was accepted: a responder peer of the endpoint takes
    /// it. `None` when the endpoint has no free slot.
    pub fn adopt(&mut self, sock: TcpStream) -> Option<PeerHandle> {
        let now = self.now();
        let peer = self.node.accept(now)?;
        sock.set_nodelay(true).ok();
        self.conns.insert(
            peer,
            Conn {
                sock,
                rx: Box::new(RxBuf::new()),
            },
        );
        Some(peer)
    }

    /// Drive until `done` holds or `timeout` passes; returns whether `done`.
    pub fn run_until(
        &mut self,
        timeout: Duration,
        mut done: impl FnMut(&mut Self) -> bool,
    ) -> bool {
        let end = StdInstant::now() + timeout;
        loop {
            self.step(Duration::from_millis(20));
            if done(self) {
                return true;
            }
            if StdInstant::now() >= end {
                return false;
            }
        }
    }

    /// Drive for `d`.
    pub fn run_for(&mut self, d: Duration) {
        let _ = self.run_until(d, |_| false);
    }

    /// Write bytes the application encoded itself to `peer`.
    pub fn write(&mut self, peer: PeerHandle, bytes: &[u8]) {
        if let Some(c) = self.conns.get_mut(&peer) {
            if c.sock.write_all(bytes).is_ok() {
                self.log.push((true, bytes.to_vec()));
            }
        }
    }

    /// One round: events, transmits, timers, then wait up to `wait` for
    /// bytes.
    pub fn step(&mut self, wait: Duration) {
        self.settle();
        let now = self.now();
        if self.node.poll_timeout().is_some_and(|t| t <= now) {
            self.node.handle_timeout(now);
            self.settle();
        }
        let per = wait / (self.conns.len().max(1) as u32);
        let peers: Vec<PeerHandle> = self.conns.keys().copied().collect();
        for p in peers {
            self.read(p, per.max(Duration::from_millis(1)));
        }
    }

    fn settle(&mut self) {
        for _ in 0..10_000 {
            let mut progress = false;
            let mut closes = Vec::new();
            while let Some(e) = self.node.poll_event(self.now()) {
                progress = true;
                match e {
                    Event::Peer {
                        peer,
                        event: peer::Event::Connect,
                    } => self.connect(peer),
                    Event::Peer {
                        peer,
                        event: peer::Event::Close,
                    } => closes.push(peer),
                    other => self.events.push(other),
                }
            }
            progress |= self.flush();
            for p in closes {
                if let Some(c) = self.conns.remove(&p) {
                    let _ = c.sock.shutdown(std::net::Shutdown::Both);
                }
                let now = self.now();
                self.node.handle_disconnected(now, p);
            }
            if !progress {
                return;
            }
        }
        panic!("endpoint never settles");
    }

    fn connect(&mut self, peer: PeerHandle) {
        let now = self.now();
        let sock = self
            .targets
            .get(&peer)
            .and_then(|a| TcpStream::connect_timeout(a, Duration::from_secs(2)).ok());
        match sock {
            Some(sock) => {
                sock.set_nodelay(true).ok();
                self.conns.insert(
                    peer,
                    Conn {
                        sock,
                        rx: Box::new(RxBuf::new()),
                    },
                );
                self.node.handle_connected(now, peer);
            }
            None => self.node.handle_disconnected(now, peer),
        }
    }

    fn flush(&mut self) -> bool {
        let mut progress = false;
        let mut buf = std::mem::take(&mut self.buf);
        while let Some(o) = self.node.poll_transmit(self.now(), &mut buf) {
            progress = true;
            let bytes = &buf[..o.len];
            let ok = self
                .conns
                .get_mut(&o.peer)
                .is_some_and(|c| c.sock.write_all(bytes).is_ok());
            if ok {
                log_messages(&mut self.log, true, bytes);
            }
        }
        self.buf = buf;
        progress
    }

    fn read(&mut self, peer: PeerHandle, wait: Duration) {
        let mut tmp = [0u8; 16384];
        let n = {
            let Some(c) = self.conns.get_mut(&peer) else {
                return;
            };
            c.sock.set_read_timeout(Some(wait)).ok();
            match c.sock.read(&mut tmp) {
                Ok(n) => Some(n),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return;
                }
                Err(_) => None,
            }
        };
        let now = self.now();
        match n {
            Some(0) | None => {
                self.conns.remove(&peer);
                self.node.handle_disconnected(now, peer);
            }
            Some(n) => {
                let mut msgs = Vec::new();
                let mut broken = false;
                if let Some(c) = self.conns.get_mut(&peer) {
                    c.rx.extend(&tmp[..n]);
                    while let Some(m) = c.rx.next_message() {
                        match m {
                            Ok(m) => msgs.push(m.to_vec()),
                            Err(_) => {
                                broken = true;
                                break;
                            }
                        }
                    }
                }
                for m in msgs {
                    self.log.push((false, m.clone()));
                    let now = self.now();
                    if let Some(u) = self.node.handle_message(now, peer, &m) {
                        self.unhandled.push((peer, u));
                    }
                    self.settle();
                }
                if broken {
                    self.conns.remove(&peer);
                    self.node.handle_disconnected(now, peer);
                }
            }
        }
    }
}

fn log_messages(log: &mut Vec<(bool, Vec<u8>)>, out: bool, mut bytes: &[u8]) {
    while bytes.len() >= 4 {
        let len = u32::from_be_bytes([0, bytes[1], bytes[2], bytes[3]]) as usize;
        if len < 20 || len > bytes.len() {
            break;
        }
        log.push((out, bytes[..len].to_vec()));
        bytes = &bytes[len..];
    }
}
