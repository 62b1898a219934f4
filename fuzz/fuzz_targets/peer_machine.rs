//! Random bytes and random timer/event sequences into the peer machine, as
//! initiator and as responder: no panic, the pending table stays bounded,
//! and every request ends exactly once (answered, timed out or handed back).
#![no_main]

use std::collections::HashMap;

use arbitrary::Arbitrary;
use diameter_core::dict::base::{self, Base};
use diameter_core::peer::{App, Event, Incoming, LocalIdentity, Peer, PeerConfig, Role};
use diameter_core::time::Instant;
use diameter_core::{AddressValue, ApplicationId, CommandCode, HeaderRepr, MessageBuilder};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
enum Op {
    Start,
    Connected,
    Disconnected,
    Advance(u16),
    Timeout,
    Send { app: bool, deadline: u16 },
    Bytes(Vec<u8>),
    Cer { ok_app: bool },
    Cea { result: u16, ok_app: bool },
    Dwr,
    Dwa,
    Dpr(u8),
    Answer { pick: u8, e2e_ok: bool, valid: bool },
    Disconnect(u8),
    Transmitted(u16),
}

#[derive(Debug, Arbitrary)]
struct Input {
    responder: bool,
    ops: Vec<Op>,
}

fn msg(code: CommandCode, request: bool, f: impl FnOnce(&mut MessageBuilder<'_>)) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let mut hdr = HeaderRepr::request(code, ApplicationId::COMMON, 7, 7);
    if !request {
        hdr = hdr.answer();
    }
    let mut b = MessageBuilder::new(&mut buf, hdr);
    f(&mut b);
    b.finish().unwrap().to_vec()
}

fn caps(b: &mut MessageBuilder<'_>, ok_app: bool) {
    b.put(&base::ORIGIN_HOST, "peer.example")
        .put(&base::ORIGIN_REALM, "example")
        .put(&base::HOST_IP_ADDRESS, AddressValue::V4([127, 0, 0, 2]))
        .put(&base::VENDOR_ID, 0)
        .put(&base::PRODUCT_NAME, "fuzz")
        .put(&base::AUTH_APPLICATION_ID, if ok_app { 4 } else { 99 });
}

fuzz_target!(|inp: Input| {
    let me = LocalIdentity::new("me.example", "example")
        .and_then(|l| l.with_application(App::auth(4)))
        .and_then(|l| l.with_application(App::acct(3)))
        .and_then(|l| l.with_product_name("fuzz"))
        .expect("identity")
        .with_origin_state_id(1);
    let config = PeerConfig::new(me, 1_704_067_200);
    let role = if inp.responder {
        Role::Responder
    } else {
        Role::Initiator
    };
    let mut now = Instant::ZERO;
    let mut peer: Peer<4, 1024> = Peer::new(config, role, now);
    // token -> (hbh, e2e) of requests in flight; ended tokens
    let mut live: HashMap<u64, (u32, u32)> = HashMap::new();
    let mut ended: HashMap<u64, u32> = HashMap::new();
    let mut next_token = 0u64;

    let mut end = |t: u64, live: &mut HashMap<u64, (u32, u32)>| {
        assert!(
            live.remove(&t).is_some(),
            "token {t} ended twice or never started"
        );
        *ended.entry(t).or_default() += 1;
    };

    for op in inp.ops.iter().take(256) {
        let mut deliver: Option<Vec<u8>> = None;
        match op {
            Op::Start => peer.start(now),
            Op::Connected => peer.handle_connected(now),
            Op::Disconnected => peer.handle_disconnected(now),
            Op::Advance(ms) => now = Instant(now.0 + u64::from(*ms) * 100),
            Op::Timeout => peer.handle_timeout(now),
            Op::Send { app, deadline } => {
                let app = if *app {
                    ApplicationId::BASE_ACCOUNTING
                } else {
                    ApplicationId(77)
                };
                let mut buf = [0u8; 256];
                let mut b = MessageBuilder::new(
                    &mut buf,
                    HeaderRepr::request(CommandCode::ACCOUNTING, app, 0, 0).proxiable(true),
                );
                b.put(&base::SESSION_ID, "s;1");
                let n = b.finish().unwrap().len();
                let t = next_token;
                next_token += 1;
                let deadline = Instant(now.0 + u64::from(*deadline) * 10);
                if let Ok(hbh) = peer.send_request(now, &mut buf[..n], t, deadline) {
                    let e2e = u32::from_be_bytes([buf[16], buf[17], buf[18], buf[19]]);
                    live.insert(t, (hbh, e2e));
                }
            }
            Op::Bytes(b) => deliver = Some(b.clone()),
            Op::Cer { ok_app } => {
                deliver = Some(msg(CommandCode::CAPABILITIES_EXCHANGE, true, |b| {
                    caps(b, *ok_app)
                }))
            }
            Op::Cea { result, ok_app } => {
                let rc = if *result % 4 == 0 {
                    u32::from(*result)
                } else {
                    2001
                };
                deliver = Some(msg(CommandCode::CAPABILITIES_EXCHANGE, false, |b| {
                    b.put(&base::RESULT_CODE, rc);
                    caps(b, *ok_app)
                }))
            }
            Op::Dwr => {
                deliver = Some(msg(CommandCode::DEVICE_WATCHDOG, true, |b| {
                    b.put(&base::ORIGIN_HOST, "peer.example")
                        .put(&base::ORIGIN_REALM, "example");
                }))
            }
            Op::Dwa => {
                deliver = Some(msg(CommandCode::DEVICE_WATCHDOG, false, |b| {
                    b.put(&base::RESULT_CODE, 2001)
                        .put(&base::ORIGIN_HOST, "peer.example")
                        .put(&base::ORIGIN_REALM, "example");
                }))
            }
            Op::Dpr(c) => {
                deliver = Some(msg(CommandCode::DISCONNECT_PEER, true, |b| {
                    b.put(&base::ORIGIN_HOST, "peer.example")
                        .put(&base::ORIGIN_REALM, "example")
                        .put(
                            &base::DISCONNECT_CAUSE,
                            base::DisconnectCause::from(i32::from(*c % 4)),
                        );
                }))
            }
            Op::Answer {
                pick,
                e2e_ok,
                valid,
            } => {
                let (hbh, e2e) = live
                    .values()
                    .nth(usize::from(*pick) % live.len().max(1))
                    .copied()
                    .unwrap_or((u32::from(*pick), 0));
                let mut buf = [0u8; 256];
                let hdr = HeaderRepr::request(
                    CommandCode::ACCOUNTING,
                    ApplicationId::BASE_ACCOUNTING,
                    hbh,
                    if *e2e_ok { e2e } else { e2e ^ 1 },
                )
                .proxiable(true)
                .answer();
                let mut b = MessageBuilder::new(&mut buf, hdr);
                b.put(&base::SESSION_ID, "s;1")
                    .put(&base::RESULT_CODE, 2001);
                if *valid {
                    // An ACA the validation accepts (RFC 6733 §9.7.2).
                    b.put(&base::ORIGIN_HOST, "peer.example")
                        .put(&base::ORIGIN_REALM, "example")
                        .put(
                            &base::ACCOUNTING_RECORD_TYPE,
                            base::AccountingRecordType::EventRecord,
                        )
                        .put(&base::ACCOUNTING_RECORD_NUMBER, 0);
                }
                deliver = Some(b.finish().unwrap().to_vec());
            }
            Op::Disconnect(c) => {
                peer.disconnect(now, base::DisconnectCause::from(i32::from(*c % 3)))
            }
            Op::Transmitted(n) => peer.transmitted(usize::from(*n)),
        }
        if let Some(bytes) = deliver {
            match peer.handle_message(now, &bytes, &Base) {
                Incoming::Answer { token, .. } | Incoming::InvalidAnswer { token, .. } => {
                    end(token, &mut live)
                }
                _ => {}
            }
        }
        while let Some(e) = peer.poll_event(now) {
            match e {
                Event::RequestTimedOut { token, .. } | Event::RequestHandedBack { token, .. } => {
                    end(token, &mut live)
                }
                _ => {}
            }
        }
        assert!(peer.pending_len() <= peer.pending_capacity());
        assert_eq!(
            peer.pending_len(),
            live.len(),
            "pending table and live tokens disagree"
        );
    }
    // Drain: far future, connection gone: every request must have ended.
    now = Instant(now.0 + 10_000_000);
    peer.handle_disconnected(now);
    peer.handle_timeout(now);
    while let Some(e) = peer.poll_event(now) {
        match e {
            Event::RequestTimedOut { token, .. } | Event::RequestHandedBack { token, .. } => {
                end(token, &mut live)
            }
            _ => {}
        }
    }
    assert!(live.is_empty(), "requests never ended: {live:?}");
    assert!(ended.values().all(|&n| n == 1));
});
