//! One credit-control session on the server side (RFC 8506 §7, server
//! session-based state machine). See [`super::credit_control`].

use core::time::Duration;

use diameter_core::peer::{owned_text, IdentityBuf};
use diameter_core::time::{earliest, Instant, Monotonic};
use diameter_core::{ApplicationId, CommandCode, EncodeError, Message, ResultCode};

use super::credit_control::{
    destination_of, subscriber_of, used_in, write_cca, Answer, CcServer, CcServerEvent, Rating,
};
use crate::client::prepaid::answer_unsupported;
use crate::client::PartyBuf;
use crate::dict::CcRequestType;
use crate::msg::{AsrRepr, Ccr, RarRepr};
use crate::session::{Ctx, Machine, NumberWindow, RequestFailed, Route, SessionId, Transmit};

/// How many answers a session keeps to answer duplicates again.
const ANSWERS: usize = 4;
const EVENTS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Credit granted; CCR-Update and -Termination expected.
    Open,
    /// Ended (CCR-T, a refused update, Tcc): kept to answer retransmissions
    /// until the duplicate window passes.
    Ended,
    /// Nothing more to do.
    Closed,
}

/// A server-initiated request of the session (RFC 8506 §5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Abort,
    ReAuth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Outgoing {
    kind: Kind,
    tag: u32,
    sent: bool,
    end_to_end: Option<u32>,
}

/// One credit-control session as the server sees it.
#[derive(Debug, Clone)]
pub struct CcServerSession {
    session_id: SessionId,
    client_host: IdentityBuf,
    client_realm: IdentityBuf,
    subscriber: PartyBuf,
    destination: PartyBuf,
    state: State,
    numbers: NumberWindow,
    /// The last answers, by CC-Request-Number, to answer duplicates again.
    answers: heapless::Deque<(u32, Answer), ANSWERS>,
    used: u32,
    /// Seconds of the current grant, and of it reported as used.
    granted: u32,
    used_of_grant: u32,
    tcc_deadline: Option<Instant>,
    /// When the grant (plus grace) runs out unreported: ASR.
    exhaust_deadline: Option<Instant>,
    /// A CCR-Update or -Termination came: the service started.
    started: bool,
    linger_until: Option<Instant>,
    outgoing: Option<Outgoing>,
    next_tag: u32,
    events: heapless::Deque<CcServerEvent, EVENTS>,
    clock: Monotonic,
}

impl CcServerSession {
    /// Open a session for a CCR-Initial: reserve, and return the session
    /// (when credit was granted) with the answer.
    pub(crate) fn open<R: Rating + ?Sized>(
        server: &mut CcServer<R>,
        now: Instant,
        ccr: &Ccr<'_>,
    ) -> (Option<Self>, Answer) {
        let subscriber = subscriber_of(ccr);
        let destination = destination_of(ccr);
        let requested = ccr.requested_service_unit.map(|u| u.cc_time.unwrap_or(0));
        let a = server.grant(
            ccr.session_id,
            ccr.cc_request_number,
            subscriber,
            destination,
            requested,
        );
        if !a.result.is_success() || a.granted == Some(0) {
            server.release(ccr.session_id, subscriber);
            return (None, a);
        }
        let owned = (|| {
            Some((
                crate::session::session_id_from(ccr.session_id)?,
                owned_text("Origin-Host", ccr.origin_host).ok()?,
                owned_text("Origin-Realm", ccr.origin_realm).ok()?,
                owned_text("subscriber", subscriber).ok()?,
                owned_text("destination", destination).ok()?,
            ))
        })();
        let Some((session_id, client_host, client_realm, sub, dst)) = owned else {
            server.release(ccr.session_id, subscriber);
            return (
                None,
                Answer {
                    result: ResultCode::UNABLE_TO_COMPLY,
                    granted: None,
                },
            );
        };
        let mut s = CcServerSession {
            session_id,
            client_host,
            client_realm,
            subscriber: sub,
            destination: dst,
            state: State::Open,
            numbers: NumberWindow::default(),
            answers: heapless::Deque::new(),
            used: 0,
            granted: 0,
            used_of_grant: 0,
            tcc_deadline: None,
            exhaust_deadline: None,
            started: false,
            linger_until: None,
            outgoing: None,
            next_tag: 0,
            events: heapless::Deque::new(),
            clock: Monotonic::new(now),
        };
        s.numbers.mark(ccr.cc_request_number);
        s.remember(ccr.cc_request_number, a);
        s.new_grant(&server.config, now, a.granted.unwrap_or(0));
        s.event(CcServerEvent::Started {
            granted: a.granted.unwrap_or(0),
        });
        (Some(s), a)
    }

    /// The client's Origin-Host.
    pub fn client_host(&self) -> &str {
        self.client_host.as_str()
    }
    /// The subscriber charged.
    pub fn subscriber(&self) -> &str {
        self.subscriber.as_str()
    }
    /// Seconds debited so far.
    pub const fn used(&self) -> u32 {
        self.used
    }
    /// Whether the session still holds credit (not ended).
    pub fn is_open(&self) -> bool {
        self.state == State::Open
    }

    /// Ask the client to stop (ASR, RFC 8506 §5.5), for example when its
    /// balance ran out. False if the session is over or a request of the
    /// session is already outstanding.
    pub fn abort(&mut self) -> bool {
        self.server_request(Kind::Abort)
    }

    /// Ask the client to re-authorise (RAR, RFC 8506 §5.5).
    pub fn reauthorize(&mut self) -> bool {
        self.server_request(Kind::ReAuth)
    }

    fn server_request(&mut self, kind: Kind) -> bool {
        if self.state != State::Open || self.outgoing.is_some() {
            return false;
        }
        self.next_tag = self.next_tag.wrapping_add(1);
        self.outgoing = Some(Outgoing {
            kind,
            tag: self.next_tag,
            sent: false,
            end_to_end: None,
        });
        true
    }

    fn event(&mut self, e: CcServerEvent) {
        if self.events.push_back(e).is_err() {
            let _ = self.events.pop_front();
            let _ = self.events.push_back(e);
        }
    }

    fn remember(&mut self, number: u32, a: Answer) {
        if self.answers.is_full() {
            let _ = self.answers.pop_front();
        }
        let _ = self.answers.push_back((number, a));
    }

    /// A new grant: re-arm Tcc (never shorter than twice the grant's
    /// validity, RFC 8506 §13) and exhaustion supervision.
    fn new_grant(&mut self, config: &super::credit_control::CcServerConfig, now: Instant, g: u32) {
        self.granted = g;
        self.used_of_grant = 0;
        self.supervise(config, now);
    }

    fn supervise(&mut self, config: &super::credit_control::CcServerConfig, now: Instant) {
        let left = self.granted.saturating_sub(self.used_of_grant);
        let validity = config.validity_time.unwrap_or(left).max(1);
        let tcc = config.tcc.max(Duration::from_secs(2 * u64::from(validity)));
        self.tcc_deadline = Some(now + tcc);
        // Before the service started the call may still be ringing: the
        // client counts its grant from the answer (RFC 8506 §5.2).
        let ringing = if self.started {
            Duration::ZERO
        } else {
            config.setup_time
        };
        self.exhaust_deadline = config
            .exhaustion_grace
            .map(|g| now + ringing + Duration::from_secs(u64::from(left)) + g);
    }

    fn end<R: Rating + ?Sized>(&mut self, server: &mut CcServer<R>, now: Instant) {
        server.release(self.session_id.as_str(), self.subscriber.as_str());
        self.state = State::Ended;
        self.tcc_deadline = None;
        self.exhaust_deadline = None;
        self.outgoing = None;
        self.linger_until = Some(now + server.config.duplicate_window);
        self.event(CcServerEvent::Ended { used: self.used });
    }

    /// Decide the answer to a CCR of this session.
    fn decide<R: Rating + ?Sized>(
        &mut self,
        server: &mut CcServer<R>,
        now: Instant,
        ccr: &Ccr<'_>,
    ) -> Answer {
        let number = ccr.cc_request_number;
        // Older than the window: taken as processed (never rated twice).
        if self.numbers.seen(number).unwrap_or(true) {
            // A duplicate or a late out-of-sequence copy: the same answer
            // again, nothing rated (RFC 8506 §5.7).
            return self
                .answers
                .iter()
                .find(|(n, _)| *n == number)
                .map(|(_, a)| *a)
                .unwrap_or(Answer {
                    result: ResultCode::SUCCESS,
                    granted: None,
                });
        }
        if self.state != State::Open {
            return Answer {
                result: ResultCode::UNKNOWN_SESSION_ID,
                granted: None,
            };
        }
        self.numbers.mark(number);
        if matches!(
            ccr.cc_request_type,
            CcRequestType::Update | CcRequestType::Termination
        ) {
            self.started = true;
        }
        let (sid, sub, dst) = (
            self.session_id.clone(),
            self.subscriber.clone(),
            self.destination.clone(),
        );
        let used = used_in(ccr);
        let answer = match ccr.cc_request_type {
            CcRequestType::Initial => {
                // A new CCR-I for a live session: release the old
                // reservation and start over.
                server.release(sid.as_str(), sub.as_str());
                server.grant(
                    sid.as_str(),
                    number,
                    sub.as_str(),
                    dst.as_str(),
                    ccr.requested_service_unit.map(|u| u.cc_time.unwrap_or(0)),
                )
            }
            CcRequestType::Update | CcRequestType::Termination => {
                self.used = self.used.saturating_add(used);
                let debit = server.debit(sid.as_str(), number, sub.as_str(), dst.as_str(), used);
                let requested = ccr.requested_service_unit.and_then(|u| u.cc_time);
                match (debit, ccr.cc_request_type, requested) {
                    (Err(rc), _, _) => Answer {
                        result: rc,
                        granted: None,
                    },
                    (Ok(()), CcRequestType::Update, Some(r)) if r > 0 => {
                        // A new grant replaces what is left of the old one
                        // (RFC 8506 §5.2.2).
                        server.release(sid.as_str(), sub.as_str());
                        server.grant(sid.as_str(), number, sub.as_str(), dst.as_str(), Some(r))
                    }
                    (Ok(()), _, _) => Answer {
                        result: ResultCode::SUCCESS,
                        granted: None,
                    },
                }
            }
            _ => Answer {
                result: ResultCode::UNABLE_TO_COMPLY,
                granted: None,
            },
        };
        self.remember(number, answer);
        let ends = ccr.cc_request_type == CcRequestType::Termination
            || !answer.result.is_success()
            || answer.granted == Some(0);
        if !answer.result.is_success() {
            self.event(CcServerEvent::Refused(answer.result));
        }
        if ends {
            // RFC 8506 Table 6: an update "not successfully processed" is
            // answered with its Result-Code, the used units debited, and the
            // session ends (Idle).
            self.end(server, now);
        } else {
            match answer.granted {
                Some(g) => self.new_grant(&server.config, now, g),
                None => {
                    self.used_of_grant = self.used_of_grant.saturating_add(used);
                    self.supervise(&server.config, now);
                }
            }
        }
        answer
    }
}

impl Machine for CcServerSession {
    type Shared = CcServer<dyn Rating>;
    type Event = CcServerEvent;

    fn session_id(&self) -> &str {
        self.session_id.as_str()
    }

    /// ASR and RAR go back to the client: Destination-Realm is the
    /// Origin-Realm it sent (RFC 6733 §6.6), Destination-Host its
    /// Origin-Host.
    fn route<'a>(&'a self, _shared: &'a CcServer<dyn Rating>) -> Route<'a> {
        Route {
            application: ApplicationId::CREDIT_CONTROL,
            realm: self.client_realm.as_str(),
            host: Some(self.client_host.as_str()),
            host_only: false,
        }
    }

    /// The ASA or RAA: the request is done whatever it says.
    fn handle_answer(
        &mut self,
        _cx: Ctx<'_, CcServer<dyn Rating>>,
        now: Instant,
        request: u32,
        _answer: &Message<'_>,
    ) {
        self.clock.update(now);
        if self.outgoing.is_some_and(|o| o.tag == request && o.sent) {
            self.outgoing = None;
        }
    }

    fn handle_request_failed(
        &mut self,
        _cx: Ctx<'_, CcServer<dyn Rating>>,
        now: Instant,
        failed: RequestFailed,
    ) {
        self.clock.update(now);
        if let Some(mut o) = self.outgoing.filter(|o| o.tag == failed.request && o.sent) {
            if failed.failure == crate::session::Failure::HandedBack {
                o.sent = false;
                o.end_to_end = o.end_to_end.or(failed.end_to_end);
                self.outgoing = Some(o);
            } else {
                self.outgoing = None;
            }
        }
    }

    /// A CCR of this session (another command: 3001).
    fn handle_request(
        &mut self,
        cx: Ctx<'_, CcServer<dyn Rating>>,
        now: Instant,
        request: &Message<'_>,
        _duplicate: bool,
        answer: &mut [u8],
    ) -> Result<usize, EncodeError> {
        let now = self.clock.update(now);
        let (host, realm) = (cx.node.origin_host.as_str(), cx.node.origin_realm.as_str());
        if request.command_code() != CommandCode::CREDIT_CONTROL {
            return answer_unsupported(request, host, realm, answer);
        }
        let ccr = match Ccr::decode(request) {
            Ok(c) => c,
            Err(e) => {
                let me = diameter_core::answer::Identity {
                    origin_host: host,
                    origin_realm: realm,
                };
                return diameter_core::answer::error_answer(
                    request.as_bytes(),
                    &e,
                    &me,
                    &crate::CreditControl,
                    answer,
                )?
                .finish()
                .map(<[u8]>::len);
            }
        };
        let server = cx.shared;
        let a = self.decide(server, now, &ccr);
        write_cca(cx.node, &server.config, request, &ccr, a, answer)
    }

    /// Tcc (RFC 8506 §13: the session is released, its reservation given
    /// back) and exhaustion supervision (an ASR); an ended session is
    /// forgotten when its duplicate window passes.
    fn handle_timeout(&mut self, cx: Ctx<'_, CcServer<dyn Rating>>, now: Instant) {
        let now = self.clock.update(now);
        if self.exhaust_deadline.is_some_and(|d| now >= d) {
            self.exhaust_deadline = None;
            if self.server_request(Kind::Abort) {
                self.event(CcServerEvent::Exhausted);
            }
        }
        if self.tcc_deadline.is_some_and(|d| now >= d) {
            self.end(cx.shared, now);
            // `end` reported Ended; Tcc is reported as such.
            let _ = self.events.pop_back();
            self.event(CcServerEvent::Expired);
        }
        if self.linger_until.is_some_and(|d| now >= d) {
            self.linger_until = None;
            self.state = State::Closed;
        }
    }

    fn poll_transmit(
        &mut self,
        cx: Ctx<'_, CcServer<dyn Rating>>,
        now: Instant,
        buf: &mut [u8],
    ) -> Option<Result<Transmit, EncodeError>> {
        let now = self.clock.update(now);
        let mut o = self.outgoing.filter(|o| !o.sent)?;
        let (me, realm) = (cx.node.origin_host.as_str(), cx.node.origin_realm.as_str());
        let (sid, host, dest_realm) = (
            self.session_id.as_str(),
            self.client_host.as_str(),
            self.client_realm.as_str(),
        );
        let r =
            match o.kind {
                Kind::Abort => AsrRepr::new(sid, me, realm, dest_realm, host)
                    .encode(AsrRepr::header(0, 0), buf),
                Kind::ReAuth => RarRepr::new(sid, me, realm, dest_realm, host)
                    .encode(RarRepr::header(0, 0), buf),
            };
        let deadline = now + cx.shared.config.request_timeout;
        match r {
            Ok(b) => {
                o.sent = true;
                self.outgoing = Some(o);
                Some(Ok(Transmit {
                    len: b.len(),
                    request: o.tag,
                    deadline,
                    end_to_end: o.end_to_end,
                }))
            }
            Err(e) => {
                // It cannot be sent: given up.
                self.outgoing = None;
                Some(Err(e))
            }
        }
    }

    fn poll_event(&mut self) -> Option<CcServerEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        earliest(
            earliest(self.tcc_deadline, self.exhaust_deadline),
            self.linger_until,
        )
    }

    fn is_closed(&self) -> bool {
        self.state == State::Closed && self.events.is_empty() && self.outgoing.is_none()
    }
}
