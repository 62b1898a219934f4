//! One accounting session on the server side (RFC 6733 §8.2, server
//! accounting state machine). See [`super::accounting`].

use diameter_core::dict::base::AccountingRecordType;
use diameter_core::peer::{owned_text, IdentityBuf};
use diameter_core::time::{earliest, Instant, Monotonic};
use diameter_core::{ApplicationId, CommandCode, EncodeError, Message};

use super::accounting::{
    record_of, AccountingRecord, AccountingServer, AccountingServerEvent, AccountingSink, Anomaly,
};
use crate::client::prepaid::answer_unsupported;
use crate::msg::Acr;
use crate::session::{Ctx, Machine, Node, NumberWindow, RequestFailed, Route, SessionId, Transmit};

/// One accounting session as the server sees it.
#[derive(Debug, Clone)]
pub struct AcctServerSession {
    session_id: SessionId,
    origin_host: IdentityBuf,
    numbers: NumberWindow,
    /// The STOP (or EVENT) record was stored.
    ended: bool,
    linger_until: Option<Instant>,
    idle_deadline: Instant,
    closed: bool,
    events: heapless::Deque<AccountingServerEvent, 8>,
    clock: Monotonic,
}

impl AcctServerSession {
    /// Open a session for its first record (any but EVENT) and store it.
    pub(crate) fn open<K: AccountingSink + ?Sized>(
        server: &mut AccountingServer<K>,
        node: &Node,
        now: Instant,
        request: &Message<'_>,
        rec: &AccountingRecord<'_>,
        out: &mut [u8],
    ) -> (Option<Self>, Result<usize, EncodeError>) {
        let owned = crate::session::session_id_from(rec.session_id)
            .zip(owned_text("Origin-Host", rec.origin_host).ok());
        let Some((session_id, origin_host)) = owned else {
            // Cannot keep it: store the record all the same, statelessly.
            let r = server.store(node, request, rec, false, out);
            if let Ok((_, e)) = r {
                server.event(e);
            }
            return (None, r.map(|(len, _)| len));
        };
        let mut s = AcctServerSession {
            session_id,
            origin_host,
            numbers: NumberWindow::default(),
            ended: false,
            linger_until: None,
            idle_deadline: now + server.config.idle_timeout,
            closed: false,
            events: heapless::Deque::new(),
            clock: Monotonic::new(now),
        };
        let r = s.process(server, node, now, request, rec, out);
        (Some(s), r)
    }

    /// The client's Origin-Host.
    pub fn origin_host(&self) -> &str {
        self.origin_host.as_str()
    }

    /// Whether the STOP (or EVENT) record was stored.
    pub const fn is_ended(&self) -> bool {
        self.ended
    }

    fn process<K: AccountingSink + ?Sized>(
        &mut self,
        server: &mut AccountingServer<K>,
        node: &Node,
        now: Instant,
        request: &Message<'_>,
        rec: &AccountingRecord<'_>,
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        // Out of the window: trust the T flag.
        let duplicate = self.numbers.seen(rec.number).unwrap_or(rec.retransmission);
        let before = self.numbers;
        let was_ended = self.ended;
        let (len, outcome) = server.store(node, request, rec, duplicate, out)?;
        self.idle_deadline = now + server.config.idle_timeout;
        if self.events.push_back(outcome).is_err() {
            let _ = self.events.pop_front();
            let _ = self.events.push_back(outcome);
        }
        if let AccountingServerEvent::Stored { .. } = outcome {
            self.numbers.mark(rec.number);
            if matches!(
                rec.record_type,
                AccountingRecordType::StopRecord | AccountingRecordType::EventRecord
            ) {
                self.ended = true;
                self.linger_until = Some(now + server.config.duplicate_window);
            }
            let (sid, host, n) = (rec.session_id, rec.origin_host, rec.number);
            if was_ended {
                server.report(sid, host, Anomaly::AfterEnd { number: n });
            }
            match before.highest() {
                None if n > 0 => server.report(
                    sid,
                    host,
                    Anomaly::Missing {
                        first: 0,
                        last: n - 1,
                    },
                ),
                Some(h) if n > h.saturating_add(1) => server.report(
                    sid,
                    host,
                    Anomaly::Missing {
                        first: h + 1,
                        last: n - 1,
                    },
                ),
                Some(h) if n < h => server.report(
                    sid,
                    host,
                    Anomaly::OutOfOrder {
                        number: n,
                        highest: h,
                    },
                ),
                _ => {}
            }
        }
        Ok(len)
    }
}

impl Machine for AcctServerSession {
    type Shared = AccountingServer<dyn AccountingSink>;
    type Event = AccountingServerEvent;

    fn session_id(&self) -> &str {
        self.session_id.as_str()
    }

    /// An accounting server session sends no requests.
    fn route<'a>(&'a self, _shared: &'a Self::Shared) -> Route<'a> {
        Route {
            application: ApplicationId::BASE_ACCOUNTING,
            realm: "",
            host: Some(self.origin_host.as_str()),
            host_only: true,
        }
    }

    fn handle_answer(&mut self, _: Ctx<'_, Self::Shared>, now: Instant, _: u32, _: &Message<'_>) {
        self.clock.update(now);
    }

    fn handle_request_failed(&mut self, _: Ctx<'_, Self::Shared>, now: Instant, _: RequestFailed) {
        self.clock.update(now);
    }

    /// An ACR of this session (another command: 3001).
    fn handle_request(
        &mut self,
        cx: Ctx<'_, Self::Shared>,
        now: Instant,
        request: &Message<'_>,
        _duplicate: bool,
        answer: &mut [u8],
    ) -> Result<usize, EncodeError> {
        let now = self.clock.update(now);
        let (host, realm) = (cx.node.origin_host.as_str(), cx.node.origin_realm.as_str());
        if request.command_code() != CommandCode::ACCOUNTING {
            cx.shared.rejected();
            return answer_unsupported(request, host, realm, answer);
        }
        let acr = match Acr::decode(request) {
            Ok(a) => a,
            Err(e) => {
                cx.shared.rejected();
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
        let rec = record_of(&acr);
        self.process(cx.shared, cx.node, now, request, &rec, answer)
    }

    /// The duplicate window after the STOP, or the idle timeout: the
    /// session is forgotten.
    fn handle_timeout(&mut self, _cx: Ctx<'_, Self::Shared>, now: Instant) {
        let now = self.clock.update(now);
        if self.linger_until.is_some_and(|t| now >= t) || now >= self.idle_deadline {
            self.closed = true;
            self.linger_until = None;
        }
    }

    fn poll_transmit(
        &mut self,
        _: Ctx<'_, Self::Shared>,
        _: Instant,
        _: &mut [u8],
    ) -> Option<Result<Transmit, EncodeError>> {
        None
    }

    fn poll_event(&mut self) -> Option<AccountingServerEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        earliest(self.linger_until, Some(self.idle_deadline))
    }

    fn is_closed(&self) -> bool {
        self.closed && self.events.is_empty()
    }
}
