//! The base-protocol messages the peer machine sends and answers itself:
//! CER/CEA (RFC 6733 §5.3), DWR/DWA (§5.5) and DPR/DPA (§5.4).

use super::{
    negotiate, CapabilitiesError, DownReason, Event, Incoming, Peer, PeerState, Role,
    WatchdogAction,
};
use crate::dict::base;
use crate::encode::MessageBuilder;
use crate::header::{ApplicationId, CommandCode, CommandFlags, HeaderRepr};
use crate::message::Message;
use crate::result_code::ResultCode;
use crate::time::Instant;

impl<const P: usize, const TX: usize> Peer<P, TX> {
    /// Append a message to the transmit buffer: `start` begins it in the
    /// buffer, `f` adds the AVPs; a message that does not fit closes the
    /// connection.
    fn emit_with(
        &mut self,
        start: impl FnOnce(&mut [u8]) -> MessageBuilder<'_>,
        f: impl FnOnce(&PeerConfigView<'_>, &mut MessageBuilder<'_>),
    ) {
        let view = PeerConfigView {
            config: &self.config,
        };
        let r = self.tx.append(|buf| {
            let mut b = start(buf);
            f(&view, &mut b);
            b.finish().map(|m| m.len())
        });
        if r.is_err() {
            self.close(DownReason::TransmitOverflow);
        }
    }

    fn emit_request(
        &mut self,
        code: CommandCode,
        f: impl FnOnce(&PeerConfigView<'_>, &mut MessageBuilder<'_>),
    ) {
        let hbh = self.new_hop_by_hop();
        let e2e = self.ids.end_to_end();
        let header = HeaderRepr::request(code, ApplicationId::COMMON, hbh, e2e);
        self.emit_with(|buf| MessageBuilder::new(buf, header), f);
    }

    /// An answer to `req`: its identifiers and Session-Id
    /// ([`MessageBuilder::answer_to`]), the E bit if `error`.
    fn emit_answer(
        &mut self,
        req: &Message<'_>,
        error: bool,
        f: impl FnOnce(&PeerConfigView<'_>, &mut MessageBuilder<'_>),
    ) {
        self.emit_with(
            |buf| {
                let mut b = MessageBuilder::answer_to(buf, req);
                if error {
                    let mut h = b.header();
                    h.flags = h.flags | CommandFlags::ERROR;
                    b.set_header(h);
                }
                b
            },
            f,
        );
    }

    pub(super) fn send_cer(&mut self) {
        self.emit_request(CommandCode::CAPABILITIES_EXCHANGE, |c, b| {
            c.config.local.put_capabilities(b)
        });
    }

    fn send_dwr(&mut self) {
        self.emit_request(CommandCode::DEVICE_WATCHDOG, |c, b| {
            let l = &c.config.local;
            b.put(&base::ORIGIN_HOST, l.origin_host.as_str())
                .put(&base::ORIGIN_REALM, l.origin_realm.as_str())
                .put(&base::ORIGIN_STATE_ID, l.origin_state_id);
        });
    }

    pub(super) fn answer_dwr(&mut self, msg: &Message<'_>) {
        self.emit_answer(msg, false, |c, b| {
            let l = &c.config.local;
            b.put(&base::RESULT_CODE, ResultCode::SUCCESS.0)
                .put(&base::ORIGIN_HOST, l.origin_host.as_str())
                .put(&base::ORIGIN_REALM, l.origin_realm.as_str())
                .put(&base::ORIGIN_STATE_ID, l.origin_state_id);
        });
    }

    pub(super) fn on_dpr(&mut self, now: Instant, msg: &Message<'_>) {
        let cause = msg
            .value(&base::DISCONNECT_CAUSE)
            .map(crate::types::Enumeration::to_i32)
            .unwrap_or(0);
        self.emit_answer(msg, false, |c, b| {
            let l = &c.config.local;
            b.put(&base::RESULT_CODE, ResultCode::SUCCESS.0)
                .put(&base::ORIGIN_HOST, l.origin_host.as_str())
                .put(&base::ORIGIN_REALM, l.origin_realm.as_str());
        });
        self.event(Event::PeerDisconnecting(cause));
        // RFC 6733 §5.4.3: after BUSY (1) or DO_NOT_WANT_TO_TALK_TO_YOU (2)
        // the receiver "SHOULD NOT attempt reconnection"; after REBOOTING
        // (0) it may, after the reconnection back-off.
        if cause == 1 || cause == 2 {
            self.not_before = Some(now + self.config.do_not_want_backoff);
        }
        self.watchdog.stop();
        self.close(DownReason::Disconnected(cause));
    }

    /// Send a DPR with `cause` (§5.4) and close after its DPA. With no open
    /// connection the machine just stops.
    pub fn disconnect(&mut self, now: Instant, cause: base::DisconnectCause) {
        let now = self.clock(now);
        let code = crate::types::Enumeration::to_i32(cause);
        match self.state {
            PeerState::Open => {
                self.emit_request(CommandCode::DISCONNECT_PEER, |c, b| {
                    let l = &c.config.local;
                    b.put(&base::ORIGIN_HOST, l.origin_host.as_str())
                        .put(&base::ORIGIN_REALM, l.origin_realm.as_str())
                        .put(&base::DISCONNECT_CAUSE, cause);
                });
                self.state = PeerState::Closing;
                self.state_deadline = Some(now + self.config.dpa_timeout);
                self.dpr_cause = code;
                self.watchdog.stop();
            }
            PeerState::Closed => {
                self.state_deadline = None;
                self.watchdog.stop();
            }
            _ => {
                self.watchdog.stop();
                self.close(DownReason::Disconnected(code));
            }
        }
        self.not_before = Some(Instant(u64::MAX));
    }

    pub(super) fn apply_watchdog(&mut self, now: Instant, a: WatchdogAction) {
        if a.send_dwr
            && matches!(
                self.state,
                PeerState::Open | PeerState::WaitCea | PeerState::WaitCer
            )
        {
            self.send_dwr();
        }
        if a.failover {
            self.event(Event::Suspect);
            self.pending.hand_back_all();
        }
        if a.failback && self.state == PeerState::Open {
            self.event(Event::Failback);
        }
        if a.close {
            self.close(DownReason::WatchdogExpired);
        }
        if a.reconnect && self.role == Role::Initiator && self.state == PeerState::Closed {
            self.start(now);
        }
    }

    fn opened(&mut self, now: Instant) {
        self.state = PeerState::Open;
        self.backoff.reset();
        self.state_deadline = None;
        let wd = self.watchdog.connection_up(now);
        self.apply_watchdog(now, wd);
        self.event(Event::Up);
    }

    /// Responder: the CER that opens the connection.
    pub(super) fn on_cer<'m>(&mut self, now: Instant, msg: &Message<'m>) -> Incoming<'m> {
        let host = msg.value(&base::ORIGIN_HOST).unwrap_or("");
        let realm = msg.value(&base::ORIGIN_REALM).unwrap_or("");
        let result = if !self.config.admits(host, realm) {
            Err(ResultCode::UNKNOWN_PEER)
        } else {
            match negotiate(msg, &self.config.local) {
                Ok(info) => {
                    self.peer = info;
                    Ok(())
                }
                Err(e) => Err(refusal(e)),
            }
        };
        let code = result.err().unwrap_or(ResultCode::SUCCESS);
        self.emit_answer(msg, code.is_protocol_error(), |c, b| {
            b.put(&base::RESULT_CODE, code.0);
            c.config.local.put_capabilities(b);
        });
        match result {
            Ok(()) => self.opened(now),
            Err(c) => self.close(DownReason::CapabilitiesRejected(c)),
        }
        Incoming::Handled
    }

    /// A CER on an open connection: answered, the connection stays open.
    pub(super) fn on_cer_open(&mut self, msg: &Message<'_>) {
        let code = match negotiate(msg, &self.config.local) {
            Ok(info) if info.origin_host == self.peer.origin_host => {
                self.peer = info;
                ResultCode::SUCCESS
            }
            Ok(_) => ResultCode::UNKNOWN_PEER,
            Err(e) => refusal(e),
        };
        self.emit_answer(msg, code.is_protocol_error(), |c, b| {
            b.put(&base::RESULT_CODE, code.0);
            c.config.local.put_capabilities(b);
        });
    }

    /// Initiator: the CEA to our CER.
    pub(super) fn on_cea<'m>(&mut self, now: Instant, msg: &Message<'m>) -> Incoming<'m> {
        let rc = msg.value(&base::RESULT_CODE).unwrap_or(0);
        if rc != ResultCode::SUCCESS.0 {
            self.close(DownReason::CapabilitiesRejected(ResultCode(rc)));
            return Incoming::Handled;
        }
        match negotiate(msg, &self.config.local) {
            Ok(info) => {
                self.peer = info;
                self.opened(now);
            }
            Err(CapabilitiesError::NoCommonApplication) => {
                self.close(DownReason::CapabilitiesRejected(
                    ResultCode::NO_COMMON_APPLICATION,
                ));
            }
            Err(_) => self.close(DownReason::ProtocolError(ResultCode::INVALID_AVP_VALUE)),
        }
        Incoming::Handled
    }
}

/// Read-only access to the configuration while the transmit buffer is
/// borrowed mutably.
struct PeerConfigView<'a> {
    config: &'a super::PeerConfig,
}

/// The Result-Code refusing a CER whose capabilities cannot be agreed.
fn refusal(e: CapabilitiesError) -> ResultCode {
    match e {
        CapabilitiesError::NoCommonApplication => ResultCode::NO_COMMON_APPLICATION,
        CapabilitiesError::Invalid(e) => e.result_code(),
        CapabilitiesError::IdentityTooLong => ResultCode::INVALID_AVP_LENGTH,
    }
}
