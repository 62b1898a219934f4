//! Property tests for the peer machine (`diameter_core::peer`): random
//! interleavings of every input, with random and mangled bytes.
//!
//! One machine (random role, random timers including zero and absurdly large
//! ones, sometimes an admission list) is driven by a random sequence of
//! operations: start, transport connected / disconnected, `disconnect` with
//! any cause, `allow_reconnect`, the clock moving forward by 0..60 s (with or
//! without firing the timers at their exact times), `handle_timeout` now or
//! with a stale time, `send_request` of valid and invalid requests in random
//! applications with or without the T flag, each with its own deadline
//! (random waits, zero and absurd ones too), the transport writing part of
//! `transmit()`, event draining (with or without the transport acting on
//! `Connect`/`Close`), and deliveries from the remote peer: CER, CEA (any
//! Result-Code), DWR, DWA, DPR (any cause), DPA, application requests (valid,
//! malformed, unknown command, foreign application, duplicates), answers
//! matching or not matching a pending request (complete or not, success or
//! failure, with or without the E bit), random bytes and well-framed
//! garbage; each delivery possibly truncated, corrupted or extended, handed
//! over directly or through a stream buffer and the `Framer` (a framing error
//! closes the connection, as a transport would).
//!
//! Invariants, after every operation:
//! * no panic;
//! * `pending_len() <= pending_capacity()`, and the pending table holds
//!   exactly the requests that have not ended yet;
//! * every token accepted by `send_request` ends exactly once: an
//!   `Incoming::Answer` carrying it (with its Hop-by-Hop and End-to-End
//!   identifiers, marked validated when the dictionary knows the command),
//!   `Incoming::InvalidAnswer` (for an answer with its identifiers that
//!   fails validation, and only then: an unmangled answer is invalid exactly
//!   when it is a 2xxx answer without a required AVP),
//!   `Event::RequestTimedOut` (not before its own deadline) or
//!   `Event::RequestHandedBack` (both with the End-to-End id it was sent
//!   with); nothing else ever ends, and after draining the events no request
//!   is left past its deadline;
//! * `send_request` errors are the right ones (`NotOpen` iff not open, `Full`
//!   iff the table is full, ...), a T-flagged request keeps its End-to-End id
//!   and Hop-by-Hop ids of pending requests are unique;
//! * no busy loop: calling `handle_timeout` at `poll_timeout` and draining
//!   events reaches a deadline in the future within a few rounds;
//! * an input the machine ignores (connected/disconnected in the wrong
//!   state) changes nothing it was about to write;
//! * everything the machine writes is a clean stream of whole messages:
//!   requests are CER/DWR/DPR that validate against the base dictionary, and
//!   answers carry the E bit exactly when their Result-Code is 3xxx.
//!
//! At the end the connection is dropped and the clock moved far ahead: every
//! request must have ended.

mod peer_prop_ops;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use proptest::prelude::*;

use diameter_core::dict::base::{self, AccountingRecordType, DisconnectCause};
use diameter_core::dict::Dictionary;
use diameter_core::peer::{DownReason, Event, Incoming, Peer, PeerState, Role, SendError};
use diameter_core::time::Instant;
use diameter_core::{ApplicationId, CommandCode, CommandFlags, Frame, Framer, HeaderRepr, Message};
use peer_prop_ops::*;

// ---------------------------------------------------------------------------
// The harness
// ---------------------------------------------------------------------------

/// What a run reached, to show the random walk is not vacuous.
#[derive(Debug, Default, Clone, Copy)]
struct Coverage {
    open: u32,
    reopen: u32,
    suspect: u32,
    closing: u32,
    accepted: u32,
    full: u32,
    answered: u32,
    timed_out: u32,
    handed_back: u32,
    rejected: u32,
    duplicates: u32,
    overflow: u32,
    framing_closed: u32,
    invalid_answers: u32,
    /// Two requests outstanding at once whose deadlines are not in the
    /// order they were sent.
    deadlines_crossed: u32,
}

impl Coverage {
    fn add(&mut self, o: &Coverage) {
        self.open += o.open.min(1);
        self.reopen += o.reopen.min(1);
        self.suspect += o.suspect.min(1);
        self.closing += o.closing.min(1);
        self.accepted += o.accepted;
        self.full += o.full;
        self.answered += o.answered;
        self.timed_out += o.timed_out;
        self.handed_back += o.handed_back;
        self.rejected += o.rejected;
        self.duplicates += o.duplicates;
        self.overflow += o.overflow;
        self.framing_closed += o.framing_closed;
        self.invalid_answers += o.invalid_answers;
        self.deadlines_crossed += o.deadlines_crossed;
    }

    fn observe(&mut self, p: &Peer<P, TX>) {
        use diameter_core::peer::WatchdogState;
        self.open += u32::from(p.is_open());
        self.reopen +=
            u32::from(p.state() == PeerState::Open && p.watchdog_state() == WatchdogState::Reopen);
        self.suspect += u32::from(p.watchdog_state() == WatchdogState::Suspect);
        self.closing += u32::from(p.state() == PeerState::Closing);
    }
}

struct H {
    peer: Peer<P, TX>,
    /// The application's default wait for an answer.
    request_timeout: Duration,
    now: u64,
    next_token: u64,
    /// Accepted and not ended: token -> (Hop-by-Hop, End-to-End).
    outstanding: BTreeMap<u64, (u32, u32)>,
    /// The deadline each outstanding request was sent with.
    deadlines: BTreeMap<u64, Instant>,
    accepted: BTreeSet<u64>,
    ended: BTreeSet<u64>,
    /// Ended with `Incoming::InvalidAnswer`.
    invalid: BTreeSet<u64>,
    /// What the transport wrote, not yet a whole message.
    wire: Vec<u8>,
    /// Received from the remote, not yet a whole message.
    rx: Vec<u8>,
    /// Identifiers of the machine's last CER/DWR/DPR.
    last_req: BTreeMap<u32, (u32, u32)>,
    remote_hbh: u32,
    cov: Coverage,
    /// The machine's requests (code, Hop-by-Hop, End-to-End) the remote
    /// has not answered on this connection.
    unanswered: Vec<(u32, u32, u32)>,
}

impl H {
    fn now(&self) -> Instant {
        Instant(self.now)
    }

    fn check(&self) {
        let p = &self.peer;
        assert!(p.pending_len() <= p.pending_capacity());
        assert_eq!(
            p.pending_len(),
            self.outstanding.len(),
            "the pending table holds exactly the requests not ended"
        );
        if p.is_open() {
            assert_eq!(p.state(), PeerState::Open);
        }
    }

    fn end(&mut self, token: u64) -> (u32, u32) {
        let ids = self
            .outstanding
            .remove(&token)
            .unwrap_or_else(|| panic!("token {token} ended but is not outstanding"));
        assert!(self.ended.insert(token), "token {token} ended twice");
        self.deadlines.remove(&token);
        ids
    }

    fn drain(&mut self, react: bool) {
        let mut n = 0;
        while let Some(e) = self.peer.poll_event(self.now()) {
            n += 1;
            assert!(n < 1000, "poll_event never ends");
            match e {
                Event::RequestTimedOut { token, end_to_end } => {
                    let deadline = self.deadlines.get(&token).copied();
                    let (_, e2e) = self.end(token);
                    assert_eq!(end_to_end, e2e, "timed out with its End-to-End id");
                    let deadline = deadline.expect("deadline");
                    assert!(
                        self.now >= deadline.0,
                        "token {token} timed out at {} before its deadline {deadline:?}",
                        self.now
                    );
                    self.cov.timed_out += 1;
                }
                Event::RequestHandedBack { token, end_to_end } => {
                    let (_, e2e) = self.end(token);
                    assert_eq!(end_to_end, e2e, "handed back with its End-to-End id");
                    self.cov.handed_back += 1;
                }
                Event::Down(DownReason::TransmitOverflow) => {
                    self.cov.overflow += 1;
                }
                Event::Connect if react => self.connected(),
                Event::Close if react => self.disconnected(),
                _ => {}
            }
        }
        // Every request still outstanding is within its own deadline.
        for (token, d) in &self.deadlines {
            assert!(
                d.0 > self.now,
                "token {token} outlived its deadline {d:?} (now {})",
                self.now
            );
        }
    }

    fn connected(&mut self) {
        let before = (self.peer.state(), self.peer.transmit().to_vec());
        self.peer.handle_connected(self.now());
        if self.peer.state() == before.0 {
            assert!(
                self.peer.transmit() == &before.1[..],
                "an ignored handle_connected ({:?}) changed the output ({} bytes before, {} after)",
                before.0,
                before.1.len(),
                self.peer.transmit().len()
            );
        } else {
            self.wire.clear();
            self.rx.clear();
            self.unanswered.clear();
        }
    }

    fn disconnected(&mut self) {
        let before = (self.peer.state(), self.peer.transmit().to_vec());
        self.peer.handle_disconnected(self.now());
        if self.peer.state() == before.0 {
            assert!(
                self.peer.transmit() == &before.1[..],
                "an ignored handle_disconnected changed the output"
            );
        } else {
            self.wire.clear();
            self.rx.clear();
            self.unanswered.clear();
        }
    }

    /// The transport writes up to `n` bytes.
    fn write(&mut self, n: usize) {
        let t = self.peer.transmit();
        let k = n.min(t.len());
        self.wire.extend_from_slice(&t[..k]);
        self.peer.transmitted(k);
        loop {
            match Framer::default().check(&self.wire) {
                Ok(Frame::Complete(n)) => {
                    let m: Vec<u8> = self.wire.drain(..n).collect();
                    self.check_emitted(&m);
                }
                Ok(Frame::Partial { .. }) => break,
                Err(e) => panic!("the machine wrote a broken stream: {e:?}"),
            }
        }
    }

    fn check_emitted(&mut self, m: &[u8]) {
        let msg = Message::parse(m).unwrap_or_else(|e| panic!("emitted message: {e:?}"));
        let h = msg.header();
        assert_eq!(h.flags.0 & CommandFlags::RESERVED.0, 0);
        if msg.is_request() {
            assert!(
                matches!(h.command_code.0, 257 | 280 | 282),
                "the machine only originates CER, DWR and DPR"
            );
            assert!(!h.flags.is_proxiable() && !h.flags.is_error());
            Message::parse_with(m, &base::Base)
                .and_then(|m| m.validate(&base::Base))
                .unwrap_or_else(|e| panic!("emitted request invalid: {e:?}"));
            self.last_req
                .insert(h.command_code.0, (h.hop_by_hop, h.end_to_end));
            self.unanswered
                .push((h.command_code.0, h.hop_by_hop, h.end_to_end));
        } else if let Ok(Some(rc)) = msg.get(&base::RESULT_CODE) {
            assert_eq!(
                h.flags.is_error(),
                (3000..4000).contains(&rc),
                "E bit exactly on 3xxx answers ({rc})"
            );
        }
    }

    fn handle(&mut self, bytes: &[u8]) {
        let now = self.now();
        match self.peer.handle_message(now, bytes, &base::Base) {
            Incoming::Answer { message, token } => {
                self.cov.answered += 1;
                let (hbh, e2e) = self.end(token);
                assert_eq!((message.hop_by_hop(), message.end_to_end()), (hbh, e2e));
                assert!(!message.is_request());
                // Answers are validated too: marked so whenever the
                // dictionary knows the command (an answer is matched by its
                // identifiers only, so a mangled command code may get here).
                assert!(
                    message.is_validated()
                        || base::Base.command(message.command_code(), false).is_none(),
                    "an answer of a known command handed over unvalidated"
                );
            }
            Incoming::Request { message, duplicate } => {
                assert!(message.is_request());
                assert!(message.is_validated(), "handed over marked validated");
                message
                    .validate(&base::Base)
                    .expect("requests handed over are valid");
                self.cov.duplicates += u32::from(duplicate);
            }
            Incoming::InvalidAnswer { token, error } => {
                // New: answers are validated; one that is not ends its request.
                self.cov.invalid_answers += 1;
                let (hbh, e2e) = self.end(token);
                self.invalid.insert(token);
                assert_eq!(ids_of(bytes), Some((hbh, e2e)));
                assert!(
                    Message::new_checked(bytes)
                        .and_then(|m| m.validated(&base::Base))
                        .is_err(),
                    "InvalidAnswer for a valid answer ({error:?})"
                );
            }
            Incoming::Rejected(_) => self.cov.rejected += 1,
            Incoming::Handled | Incoming::Dropped(_) => {}
        }
    }

    fn deliver(&mut self, bytes: &[u8], stream: bool) {
        if !stream {
            self.handle(bytes);
            return;
        }
        self.rx.extend_from_slice(bytes);
        loop {
            match Framer::default().check(&self.rx) {
                Ok(Frame::Complete(n)) => {
                    let m: Vec<u8> = self.rx.drain(..n).collect();
                    self.handle(&m);
                }
                Ok(Frame::Partial { .. }) => break,
                Err(_) => {
                    // The stream cannot be resynchronised: the transport closes.
                    self.cov.framing_closed += 1;
                    self.rx.clear();
                    self.disconnected();
                    break;
                }
            }
        }
    }

    /// `handle_timeout` while due, draining events: must settle quickly.
    fn timers(&mut self) {
        for _ in 0..8 {
            match self.peer.poll_timeout() {
                Some(t) if t.0 <= self.now => {
                    self.peer.handle_timeout(self.now());
                    self.drain(false);
                }
                _ => return,
            }
        }
        panic!(
            "busy loop: poll_timeout {:?} still due at {} after 8 rounds ({:?})",
            self.peer.poll_timeout(),
            self.now,
            self.peer
        );
    }

    fn advance_firing(&mut self, ms: u64, react: bool) {
        let target = self.now + ms;
        let mut rounds = 0;
        while let Some(t) = self.peer.poll_timeout() {
            if t.0 > target {
                break;
            }
            if t.0 > self.now {
                rounds = 0;
            }
            rounds += 1;
            assert!(
                rounds < 64,
                "timers keep firing without time passing ({:?})",
                self.peer
            );
            self.now = self.now.max(t.0);
            self.peer.handle_timeout(self.now());
            self.drain(react);
        }
        self.now = target;
    }

    fn send(
        &mut self,
        app: u32,
        retransmit: bool,
        shape: ReqShape,
        e2e: u32,
        wait: Option<Duration>,
    ) {
        let token = self.next_token;
        self.next_token += 1;
        let mut bytes = match shape {
            ReqShape::Valid | ReqShape::NotRequest => {
                acr(app, &format!("local.example.org;{token}"), true)
            }
            ReqShape::Short => vec![1, 0, 0, 12, 0x80, 0, 1, 15, 0, 0, 0, 3],
        };
        if bytes.len() >= 20 {
            set_ids(&mut bytes, 0, e2e);
            if retransmit {
                diameter_core::peer::set_retransmit_flag(&mut bytes);
            }
            if let ReqShape::NotRequest = shape {
                bytes[4] &= !0x80;
            }
        }
        let open = self.peer.is_open();
        let len = self.peer.pending_len();
        let allowed = app == 0 || self.peer.peer_info().allows(app);
        // The request's own deadline (saturating for absurd waits).
        let deadline = self.now() + wait.unwrap_or(self.request_timeout);
        match self
            .peer
            .send_request(self.now(), &mut bytes, token, deadline)
        {
            Ok(hbh) => {
                assert!(open && len < P && allowed);
                assert!(matches!(shape, ReqShape::Valid));
                let got_hbh = u32::from_be_bytes(bytes[12..16].try_into().unwrap());
                let got_e2e = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
                assert_eq!(got_hbh, hbh);
                if retransmit {
                    assert_eq!(got_e2e, e2e, "the T flag keeps the End-to-End id");
                }
                assert!(
                    self.outstanding.values().all(|&(h, _)| h != hbh),
                    "Hop-by-Hop ids of pending requests are unique"
                );
                self.outstanding.insert(token, (hbh, got_e2e));
                if self.deadlines.values().any(|&d| d > deadline) {
                    self.cov.deadlines_crossed += 1;
                }
                self.deadlines.insert(token, deadline);
                self.accepted.insert(token);
                self.cov.accepted += 1;
                assert_eq!(self.peer.pending_len(), len + 1);
            }
            Err(SendError::NotOpen) => assert!(!open),
            Err(SendError::Full) => {
                assert!(open && len == P);
                self.cov.full += 1;
            }
            Err(SendError::NotARequest) => {
                assert!(open && !matches!(shape, ReqShape::Valid))
            }
            Err(SendError::ApplicationNotSupported) => assert!(open && !allowed),
            Err(e) => panic!("unexpected send error {e:?}"),
        }
        assert!(self.peer.pending_len() <= P);
    }

    fn establish(&mut self) {
        match self.peer.role() {
            Role::Initiator => {
                self.peer.start(self.now());
                self.drain(true);
                self.write(usize::MAX);
                let m = self.message(&Kind::Cea {
                    rc: 2001,
                    apps: 3,
                    reply: true,
                });
                self.deliver(&m, true);
            }
            Role::Responder => {
                self.connected();
                let m = self.message(&Kind::Cer {
                    apps: 3,
                    known: true,
                });
                self.deliver(&m, true);
            }
        }
        self.drain(true);
    }

    fn cooperate(&mut self, answer_apps: bool) {
        for _ in 0..4 {
            self.write(usize::MAX);
            let todo = std::mem::take(&mut self.unanswered);
            if todo.is_empty() {
                break;
            }
            for (code, hbh, e2e) in todo {
                let mut m = match code {
                    257 => self.message(&Kind::Cea {
                        rc: 2001,
                        apps: 3,
                        reply: true,
                    }),
                    280 => self.message(&Kind::Dwa {
                        reply: true,
                        rc: 2001,
                    }),
                    _ => self.message(&Kind::Dpa { reply: true }),
                };
                set_ids(&mut m, hbh, e2e);
                self.deliver(&m, true);
            }
        }
        if answer_apps {
            let ids: Vec<(u32, u32)> = self.outstanding.values().copied().collect();
            for (hbh, e2e) in ids {
                let mut m = self.message(&Kind::AppAns {
                    pick: 0,
                    e2e_ok: true,
                    rc: 2001,
                    error: false,
                    complete: true,
                });
                set_ids(&mut m, hbh, e2e);
                self.deliver(&m, true);
            }
        }
        self.drain(true);
    }

    fn message(&mut self, kind: &Kind) -> Vec<u8> {
        self.remote_hbh = self.remote_hbh.wrapping_add(1);
        let rh = self.remote_hbh;
        let last = |h: &Self, code: u32, reply: bool| {
            if reply {
                h.last_req.get(&code).copied().unwrap_or((0, 0))
            } else {
                (rh, rh ^ 0x5555)
            }
        };
        match *kind {
            Kind::Cer { apps, known } => build(
                HeaderRepr::request(
                    CommandCode::CAPABILITIES_EXCHANGE,
                    ApplicationId::COMMON,
                    rh,
                    rh,
                ),
                |b| put_remote_caps(b, apps, known),
            ),
            Kind::Cea { rc, apps, reply } => {
                let ids = last(self, 257, reply);
                build(
                    answer_hdr(
                        CommandCode::CAPABILITIES_EXCHANGE,
                        0,
                        ids,
                        (3000..4000).contains(&rc),
                    ),
                    |b| {
                        b.put(&base::RESULT_CODE, rc);
                        put_remote_caps(b, apps, true);
                    },
                )
            }
            Kind::Dwr => build(
                HeaderRepr::request(CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, rh, rh),
                |b| {
                    b.put(&base::ORIGIN_HOST, REMOTE)
                        .put(&base::ORIGIN_REALM, REMOTE_REALM);
                },
            ),
            Kind::Dwa { reply, rc } => {
                let ids = last(self, 280, reply);
                build(
                    answer_hdr(CommandCode::DEVICE_WATCHDOG, 0, ids, false),
                    |b| {
                        b.put(&base::RESULT_CODE, rc)
                            .put(&base::ORIGIN_HOST, REMOTE)
                            .put(&base::ORIGIN_REALM, REMOTE_REALM);
                    },
                )
            }
            Kind::Dpr { cause } => build(
                HeaderRepr::request(CommandCode::DISCONNECT_PEER, ApplicationId::COMMON, rh, rh),
                |b| {
                    b.put(&base::ORIGIN_HOST, REMOTE)
                        .put(&base::ORIGIN_REALM, REMOTE_REALM)
                        .put(&base::DISCONNECT_CAUSE, DisconnectCause::from(cause));
                },
            ),
            Kind::Dpa { reply } => {
                let ids = last(self, 282, reply);
                build(
                    answer_hdr(CommandCode::DISCONNECT_PEER, 0, ids, false),
                    |b| {
                        b.put(&base::RESULT_CODE, 2001)
                            .put(&base::ORIGIN_HOST, REMOTE)
                            .put(&base::ORIGIN_REALM, REMOTE_REALM);
                    },
                )
            }
            Kind::AppReq {
                app,
                code,
                valid,
                retransmit,
                e2e,
                session,
            } => {
                let mut m = acr(app, &format!("{REMOTE};{session}"), valid);
                m[5..8].copy_from_slice(&code.to_be_bytes()[1..]);
                set_ids(&mut m, rh, e2e);
                if retransmit {
                    diameter_core::peer::set_retransmit_flag(&mut m);
                }
                m
            }
            Kind::AppAns {
                pick,
                e2e_ok,
                rc,
                error,
                complete,
            } => {
                let ids = if self.outstanding.is_empty() {
                    (rh, rh)
                } else {
                    let (_, &(h, e)) = self
                        .outstanding
                        .iter()
                        .nth(pick % self.outstanding.len())
                        .unwrap();
                    (h, if e2e_ok { e } else { e ^ 1 })
                };
                let mut h = answer_hdr(CommandCode::ACCOUNTING, 3, ids, error);
                h.flags = h.flags | CommandFlags::PROXIABLE;
                build(h, |b| {
                    b.put(&base::SESSION_ID, "local.example.org;1")
                        .put(&base::RESULT_CODE, rc)
                        .put(&base::ORIGIN_HOST, REMOTE)
                        .put(&base::ORIGIN_REALM, REMOTE_REALM)
                        .put(
                            &base::ACCOUNTING_RECORD_TYPE,
                            AccountingRecordType::EventRecord,
                        );
                    if complete {
                        b.put(&base::ACCOUNTING_RECORD_NUMBER, 1);
                    }
                })
            }
            Kind::Garbage {
                flags,
                code,
                app,
                ref body,
            } => {
                let mut m = vec![1, 0, 0, 0, flags];
                m.extend_from_slice(&code.to_be_bytes()[1..]);
                m.extend_from_slice(&app.to_be_bytes());
                m.extend_from_slice(&rh.to_be_bytes());
                m.extend_from_slice(&rh.to_be_bytes());
                m.extend_from_slice(body);
                let n = m.len() as u32;
                m[1..4].copy_from_slice(&n.to_be_bytes()[1..]);
                m
            }
        }
    }
}

fn run(cfg: &Cfg, ops: &[Op]) -> Coverage {
    let config = peer_config(cfg);
    let mut h = H {
        peer: Peer::new(config, cfg.role, Instant::ZERO),
        request_timeout: cfg.request_timeout,
        now: 0,
        next_token: 1,
        outstanding: BTreeMap::new(),
        deadlines: BTreeMap::new(),
        accepted: BTreeSet::new(),
        ended: BTreeSet::new(),
        invalid: BTreeSet::new(),
        wire: Vec::new(),
        rx: Vec::new(),
        last_req: BTreeMap::new(),
        remote_hbh: 0x7000_0000,
        cov: Coverage::default(),
        unanswered: Vec::new(),
    };
    for op in ops {
        match op {
            Op::Start => h.peer.start(h.now()),
            Op::Connected => h.connected(),
            Op::Disconnected => h.disconnected(),
            Op::AllowReconnect => h.peer.allow_reconnect(),
            Op::Disconnect(c) => {
                let now = h.now();
                h.peer.disconnect(now, DisconnectCause::from(*c));
            }
            Op::Advance(ms) => h.now += ms,
            Op::AdvanceFiring(ms, react) => h.advance_firing(*ms, *react),
            Op::Stale(ms) => {
                let t = Instant(h.now.saturating_sub(*ms));
                h.peer.handle_timeout(t);
            }
            Op::Timeout => h.peer.handle_timeout(h.now()),
            Op::Timers => h.timers(),
            Op::Drain { react } => h.drain(*react),
            Op::Write(n) => h.write(*n),
            Op::Send {
                app,
                retransmit,
                shape,
                e2e,
                wait,
            } => h.send(*app, *retransmit, *shape, *e2e, *wait),
            Op::Deliver {
                kind,
                mangle,
                stream,
            } => {
                let m = h.message(kind);
                if let (
                    Kind::AppReq {
                        retransmit: true, ..
                    },
                    Mangle::None,
                ) = (kind, mangle)
                {
                    // A retransmission follows its original.
                    let mut original = m.clone();
                    original[4] &= !CommandFlags::RETRANSMIT.0;
                    h.deliver(&original, *stream);
                }
                // An unmangled answer to a pending request (not glued to
                // earlier bytes in the stream buffer): it fails
                // validation exactly when it is a success answer (2xxx, no
                // E bit) without Accounting-Record-Number; a failure answer
                // needs only the <answer-message> AVPs.
                let expect = match (kind, mangle) {
                    (
                        &Kind::AppAns {
                            pick,
                            e2e_ok: true,
                            rc,
                            error,
                            complete,
                        },
                        Mangle::None,
                    ) if !h.outstanding.is_empty() && (!*stream || h.rx.is_empty()) => {
                        let n = h.outstanding.len();
                        let token = *h.outstanding.keys().nth(pick % n).unwrap();
                        Some((token, !complete && (2000..3000).contains(&rc) && !error))
                    }
                    _ => None,
                };
                let m = apply_mangle(m, mangle);
                h.deliver(&m, *stream);
                if let Some((token, invalid)) = expect {
                    if h.ended.contains(&token) {
                        assert_eq!(
                            h.invalid.contains(&token),
                            invalid,
                            "token {token}: InvalidAnswer iff the answer is invalid"
                        );
                    }
                }
            }
            Op::Random { bytes, stream } => h.deliver(bytes, *stream),
            Op::Establish => h.establish(),
            Op::Cooperate { answer_apps } => h.cooperate(*answer_apps),
            Op::Burst(n) => {
                for i in 0..*n {
                    let app = if i % 2 == 0 { 3 } else { 4 };
                    h.send(app, false, ReqShape::Valid, u32::from(i), None);
                }
            }
        }
        h.check();
        h.cov.observe(&h.peer);
    }
    // Everything written so far is clean.
    h.write(usize::MAX);
    h.timers();
    // The end: the connection goes, the clock moves far ahead.
    h.disconnected();
    h.drain(false);
    h.now = h.now.saturating_add(1 << 50);
    h.peer.handle_timeout(h.now());
    h.drain(false);
    h.check();
    assert!(
        h.outstanding.is_empty(),
        "requests never ended: {:?}",
        h.outstanding
    );
    assert_eq!(h.accepted, h.ended);
    assert_eq!(h.peer.pending_len(), 0);
    h.cov
}

/// 512 random cases; afterwards, check the walk reached every interesting
/// place at least a few times.
#[test]
fn random_interleavings() {
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config {
        cases: 512,
        max_shrink_iters: 20_000,
        failure_persistence: None,
        ..Config::default()
    });
    let total = std::cell::Cell::new(Coverage::default());
    let strategy = (config(), prop::collection::vec(op(), 1..160));
    let result = runner.run(&strategy, |(cfg, ops)| {
        let c = run(&cfg, &ops);
        let mut t = total.get();
        t.add(&c);
        total.set(t);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let t = total.get();
    eprintln!("coverage over 512 cases: {t:?}");
    assert!(t.open >= 100, "{t:?}");
    assert!(t.reopen >= 3, "{t:?}");
    assert!(t.suspect >= 3, "{t:?}");
    assert!(t.closing >= 10, "{t:?}");
    assert!(t.accepted >= 500, "{t:?}");
    assert!(t.full >= 20, "{t:?}");
    assert!(t.answered >= 100, "{t:?}");
    assert!(t.timed_out >= 20, "{t:?}");
    assert!(t.handed_back >= 100, "{t:?}");
    assert!(t.rejected >= 100, "{t:?}");
    assert!(t.duplicates >= 5, "{t:?}");
    assert!(t.overflow >= 1, "{t:?}");
    assert!(t.framing_closed >= 20, "{t:?}");
    assert!(t.invalid_answers >= 8, "{t:?}");
    assert!(t.deadlines_crossed >= 10, "{t:?}");
}

/// A fixed, long script through the states the random walk reaches only
/// rarely: open, suspect, down, reopen, open again, DPR.
#[test]
fn scripted_walk_through_every_state() {
    for role in [Role::Initiator, Role::Responder] {
        let cfg = Cfg {
            role,
            tw: Duration::from_secs(6),
            request_timeout: Duration::from_secs(60),
            capabilities_timeout: Duration::from_secs(10),
            dpa_timeout: Duration::from_secs(5),
            reconnect_interval: Duration::from_secs(30),
            do_not_want_backoff: Duration::from_secs(600),
            duplicate_window: Duration::from_secs(60),
            restrict: false,
            seed: 1,
            boot_time: 2,
        };
        let open = |role: Role| -> Vec<Op> {
            let d = |kind| Op::Deliver {
                kind,
                mangle: Mangle::None,
                stream: true,
            };
            match role {
                Role::Initiator => vec![
                    Op::Start,
                    Op::Drain { react: true },
                    Op::Write(usize::MAX),
                    d(Kind::Cea {
                        rc: 2001,
                        apps: 3,
                        reply: true,
                    }),
                ],
                Role::Responder => vec![
                    Op::Connected,
                    d(Kind::Cer {
                        apps: 3,
                        known: true,
                    }),
                ],
            }
        };
        let send = |n: u32| Op::Send {
            app: 3,
            retransmit: false,
            shape: ReqShape::Valid,
            e2e: n,
            wait: None,
        };
        let mut ops = open(role);
        ops.extend([send(1), send(2), send(3), send(4), send(5)]);
        ops.push(Op::Write(usize::MAX));
        // silence: DWR, SUSPECT (handed back), DOWN
        for _ in 0..3 {
            ops.push(Op::AdvanceFiring(9_000, false));
            ops.push(Op::Write(usize::MAX));
        }
        ops.push(Op::Drain { react: true });
        ops.push(Op::Disconnected);
        ops.push(Op::AdvanceFiring(40_000, true));
        ops.extend(open(role));
        ops.push(Op::Write(usize::MAX));
        for _ in 0..3 {
            ops.push(Op::Deliver {
                kind: Kind::Dwa {
                    reply: true,
                    rc: 2001,
                },
                mangle: Mangle::None,
                stream: false,
            });
            ops.push(Op::Write(usize::MAX));
        }
        ops.extend([send(6), send(7)]);
        ops.push(Op::Disconnect(1));
        ops.push(Op::Write(usize::MAX));
        ops.push(Op::Deliver {
            kind: Kind::Dpa { reply: true },
            mangle: Mangle::None,
            stream: true,
        });
        ops.push(Op::Drain { react: true });
        run(&cfg, &ops);
    }
}

/// A transport calling `handle_connected` / `handle_disconnected` in a
/// state where they mean nothing (twice, while half a message is written,
/// while the machine waits to be closed) must not lose or cut what the
/// machine still has to write.
#[test]
fn stray_transport_calls_change_nothing() {
    for role in [Role::Initiator, Role::Responder] {
        let cfg = Cfg {
            role,
            tw: Duration::from_secs(30),
            request_timeout: Duration::from_secs(10),
            capabilities_timeout: Duration::from_secs(10),
            dpa_timeout: Duration::from_secs(5),
            reconnect_interval: Duration::from_secs(30),
            do_not_want_backoff: Duration::from_secs(600),
            duplicate_window: Duration::from_secs(60),
            restrict: false,
            seed: 9,
            boot_time: 9,
        };
        let dwr = || Op::Deliver {
            kind: Kind::Dwr,
            mangle: Mangle::None,
            stream: false,
        };
        let ops = vec![
            // Initiator: CER queued, connected again before it is written.
            Op::Start,
            Op::Drain { react: true },
            Op::Connected,
            Op::Write(7),
            Op::Connected,
            Op::Write(usize::MAX),
            Op::Establish,
            // Open: a DWA queued and half written, then stray calls.
            dwr(),
            Op::Write(30),
            Op::Connected,
            Op::Write(usize::MAX),
            dwr(),
            Op::Connected,
            // Disconnecting after a DPR from the peer: the DPA must survive.
            Op::Deliver {
                kind: Kind::Dpr { cause: 0 },
                mangle: Mangle::None,
                stream: false,
            },
            Op::Connected,
            Op::Write(usize::MAX),
            Op::Drain { react: true },
            Op::Disconnected,
            Op::Write(usize::MAX),
        ];
        run(&cfg, &ops);
    }
}

/// Zero and huge timers must neither panic nor spin.
#[test]
fn extreme_timers() {
    for d in [
        Duration::ZERO,
        Duration::MAX,
        Duration::from_secs(u64::MAX / 1000 + 1),
        Duration::from_millis(u64::MAX),
    ] {
        for role in [Role::Initiator, Role::Responder] {
            let cfg = Cfg {
                role,
                tw: d,
                request_timeout: d,
                capabilities_timeout: d,
                dpa_timeout: d,
                reconnect_interval: d.max(Duration::from_millis(1)),
                do_not_want_backoff: d,
                duplicate_window: d,
                restrict: false,
                seed: 3,
                boot_time: 4,
            };
            let mut ops = vec![
                Op::Start,
                Op::Drain { react: true },
                Op::Connected,
                Op::Write(usize::MAX),
                Op::Deliver {
                    kind: Kind::Cea {
                        rc: 2001,
                        apps: 3,
                        reply: true,
                    },
                    mangle: Mangle::None,
                    stream: false,
                },
                Op::Deliver {
                    kind: Kind::Cer {
                        apps: 3,
                        known: true,
                    },
                    mangle: Mangle::None,
                    stream: false,
                },
            ];
            for _ in 0..20 {
                ops.push(Op::Send {
                    app: 3,
                    retransmit: false,
                    shape: ReqShape::Valid,
                    e2e: 0,
                    wait: None,
                });
                ops.push(Op::AdvanceFiring(7_000, true));
                ops.push(Op::Timers);
                ops.push(Op::Write(usize::MAX));
            }
            run(&cfg, &ops);
        }
    }
}
