//! For `peer_prop.rs`: the random configuration and operations, and the
//! messages of the remote peer (built, then possibly mangled).
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use proptest::prelude::*;

use diameter_core::dict::base::{self, AccountingRecordType};
use diameter_core::peer::{App, LocalIdentity, PeerConfig, Role, RELAY};
use diameter_core::{
    AddressValue, ApplicationId, CommandCode, CommandFlags, HeaderRepr, MessageBuilder,
};

pub const P: usize = 4;
/// A small transmit buffer (a CER is about 200 bytes), so that overflow
/// happens too.
pub const TX: usize = 512;

pub const APPS: [App; 3] = [
    App::auth(4),
    App::acct(3),
    App::auth(16_777_238).vendor_specific(10415),
];

pub const REMOTE: &str = "peer.example.net";
pub const REMOTE_REALM: &str = "example.net";

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct Cfg {
    pub role: Role,
    pub tw: Duration,
    pub request_timeout: Duration,
    pub capabilities_timeout: Duration,
    pub dpa_timeout: Duration,
    pub reconnect_interval: Duration,
    pub do_not_want_backoff: Duration,
    pub duplicate_window: Duration,
    pub restrict: bool,
    pub seed: u32,
    pub boot_time: u32,
}

pub fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        1 => Just(Duration::ZERO),
        2 => Just(Duration::from_secs(1)),
        4 => Just(Duration::from_secs(6)),
        4 => Just(Duration::from_secs(10)),
        4 => Just(Duration::from_secs(30)),
        2 => (0u64..120_000).prop_map(Duration::from_millis),
        1 => Just(Duration::MAX),
        // Just past u64::MAX milliseconds.
        1 => Just(Duration::from_secs(u64::MAX / 1000 + 1)),
    ]
}

/// Tc must not be zero: with Tc = 0, a zero capabilities timeout and a
/// transport that connects (or fails) within the same instant, the machine
/// is asked to reconnect, time out and reconnect forever at one instant of
/// a fake clock. That is the configuration's doing, not a busy timer.
pub fn nonzero_duration() -> impl Strategy<Value = Duration> {
    duration().prop_map(|d| d.max(Duration::from_millis(1)))
}

pub fn config() -> impl Strategy<Value = Cfg> {
    (
        prop_oneof![Just(Role::Initiator), Just(Role::Responder)],
        (duration(), duration(), duration(), duration()),
        (nonzero_duration(), duration(), duration()),
        any::<bool>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(
            |(role, (tw, rq, cap, dpa), (rec, dnw, dup), restrict, seed, boot_time)| Cfg {
                role,
                tw,
                request_timeout: rq,
                capabilities_timeout: cap,
                dpa_timeout: dpa,
                reconnect_interval: rec,
                do_not_want_backoff: dnw,
                duplicate_window: dup,
                restrict,
                seed,
                boot_time,
            },
        )
}

/// The machine's configuration. `c.request_timeout` is not in it any more:
/// it is the harness application's default wait (see [`H::send`]).
pub fn peer_config(c: &Cfg) -> PeerConfig {
    let mut local = LocalIdentity::new("local.example.org", "example.org")
        .unwrap()
        .with_addresses(&[IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))])
        .unwrap()
        .with_product_name("prop")
        .unwrap()
        .with_origin_state_id(5)
        .with_supported_vendor(10415)
        .unwrap();
    for a in APPS {
        local = local.with_application(a).unwrap();
    }
    local.firmware_revision = Some(3);
    let mut config = PeerConfig {
        tw: c.tw,
        capabilities_timeout: c.capabilities_timeout,
        dpa_timeout: c.dpa_timeout,
        reconnect_interval: c.reconnect_interval,
        do_not_want_backoff: c.do_not_want_backoff,
        duplicate_window: c.duplicate_window,
        seed: c.seed,
        ..PeerConfig::new(local, c.boot_time)
    };
    if c.restrict {
        config.allow_host(REMOTE).unwrap();
        config.allow_realm("other.example").unwrap();
    }
    config
}

// ---------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
pub enum ReqShape {
    Valid,
    Short,
    NotRequest,
}

#[derive(Debug, Clone)]
pub enum Kind {
    /// `apps`: bit 0 auth 4, 1 acct 3, 2 relay, 3 auth 5, 4 vendor 16777238.
    Cer {
        apps: u8,
        known: bool,
    },
    Cea {
        rc: u32,
        apps: u8,
        reply: bool,
    },
    Dwr,
    Dwa {
        reply: bool,
        rc: u32,
    },
    Dpr {
        cause: i32,
    },
    Dpa {
        reply: bool,
    },
    AppReq {
        app: u32,
        code: u32,
        valid: bool,
        retransmit: bool,
        e2e: u32,
        session: u8,
    },
    AppAns {
        pick: usize,
        e2e_ok: bool,
        rc: u32,
        error: bool,
        /// With Accounting-Record-Number (required in a success ACA).
        complete: bool,
    },
    /// A valid header (version 1, length right) around random bytes.
    Garbage {
        flags: u8,
        code: u32,
        app: u32,
        body: Vec<u8>,
    },
}

#[derive(Debug, Clone)]
pub enum Mangle {
    None,
    /// Cut at this point; optionally rewrite the length field to match.
    Truncate(usize, bool),
    Flip(usize, u8),
    Append(Vec<u8>),
}

#[derive(Debug, Clone)]
pub enum Op {
    Start,
    Connected,
    Disconnected,
    AllowReconnect,
    Disconnect(i32),
    /// Move the clock only.
    Advance(u64),
    /// Move the clock, firing every timer at its exact time.
    AdvanceFiring(u64, bool),
    /// `handle_timeout` with a time this far in the past.
    Stale(u64),
    Timeout,
    /// Call `handle_timeout` while `poll_timeout` is due: must settle.
    Timers,
    Drain {
        react: bool,
    },
    /// The transport writes up to this many bytes of `transmit()`.
    Write(usize),
    Send {
        app: u32,
        retransmit: bool,
        shape: ReqShape,
        e2e: u32,
        /// How long to wait for the answer (the request's own deadline);
        /// `None`: the configuration's `request_timeout`.
        wait: Option<Duration>,
    },
    Deliver {
        kind: Kind,
        mangle: Mangle,
        stream: bool,
    },
    Random {
        bytes: Vec<u8>,
        stream: bool,
    },
    /// Get to Open: initiator start, connect, CER out, CEA in; responder
    /// connected, CER in.
    Establish,
    /// A well-behaved remote: write everything, answer every CER/DWR/DPR the
    /// machine sent, and (optionally) every pending application request.
    Cooperate {
        answer_apps: bool,
    },
    /// Several valid requests in a row.
    Burst(u8),
}

pub fn app_id() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0u32),
        Just(3),
        Just(4),
        Just(16_777_238),
        Just(16_777_251),
        any::<u32>()
    ]
}

pub fn rc() -> impl Strategy<Value = u32> {
    prop_oneof![
        6 => Just(2001u32),
        1 => Just(3010),
        1 => Just(5010),
        1 => Just(3002),
        1 => Just(4010),
        1 => any::<u32>(),
    ]
}

pub fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        3 => (any::<u8>(), prop::bool::weighted(0.9)).prop_map(|(apps, known)| Kind::Cer { apps, known }),
        3 => (rc(), any::<u8>(), prop::bool::weighted(0.8))
            .prop_map(|(rc, apps, reply)| Kind::Cea { rc, apps, reply }),
        2 => Just(Kind::Dwr),
        3 => (prop::bool::weighted(0.8), rc()).prop_map(|(reply, rc)| Kind::Dwa { reply, rc }),
        1 => prop_oneof![Just(0i32), Just(1), Just(2), Just(7)].prop_map(|cause| Kind::Dpr { cause }),
        1 => prop::bool::weighted(0.8).prop_map(|reply| Kind::Dpa { reply }),
        4 => (
            prop_oneof![3 => Just(3u32), 1 => app_id()],
            prop_oneof![4 => Just(271u32), 1 => Just(999), 1 => Just(258), 1 => Just(257)],
            prop::bool::weighted(0.8),
            any::<bool>(),
            0u32..4,
            0u8..3,
        )
            .prop_map(|(app, code, valid, retransmit, e2e, session)| Kind::AppReq {
                app,
                code,
                valid,
                retransmit,
                e2e,
                session
            }),
        6 => (
            any::<usize>(),
            prop::bool::weighted(0.9),
            rc(),
            prop::bool::weighted(0.1),
            prop::bool::weighted(0.65),
        )
            .prop_map(|(pick, e2e_ok, rc, error, complete)| Kind::AppAns {
                pick,
                e2e_ok,
                rc,
                error,
                complete
            }),
        2 => (
            any::<u8>(),
            prop_oneof![Just(257u32), Just(271), Just(280), Just(282), 0u32..0x100_0000],
            app_id(),
            prop::collection::vec(any::<u8>(), 0..25).prop_map(|mut v| {
                let n = v.len() / 4 * 4;
                v.truncate(n);
                v
            }),
        )
            .prop_map(|(flags, code, app, body)| Kind::Garbage { flags, code, app, body }),
    ]
}

pub fn mangle() -> impl Strategy<Value = Mangle> {
    prop_oneof![
        24 => Just(Mangle::None),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(n, fix)| Mangle::Truncate(n, fix)),
        1 => (any::<usize>(), 1u8..=255).prop_map(|(p, x)| Mangle::Flip(p, x)),
        1 => prop::collection::vec(any::<u8>(), 1..12).prop_map(Mangle::Append),
    ]
}

pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Start),
        3 => Just(Op::Connected),
        2 => Just(Op::Disconnected),
        1 => Just(Op::AllowReconnect),
        1 => (0i32..4).prop_map(Op::Disconnect),
        2 => (0u64..60_000).prop_map(Op::Advance),
        3 => (0u64..60_000, any::<bool>()).prop_map(|(ms, react)| Op::AdvanceFiring(ms, react)),
        1 => (0u64..100_000).prop_map(Op::Stale),
        2 => Just(Op::Timeout),
        2 => Just(Op::Timers),
        5 => any::<bool>().prop_map(|react| Op::Drain { react }),
        5 => prop_oneof![Just(usize::MAX), 0usize..300].prop_map(Op::Write),
        6 => (
            app_id(),
            prop::bool::weighted(0.2),
            prop_oneof![8 => Just(ReqShape::Valid), 1 => Just(ReqShape::Short), 1 => Just(ReqShape::NotRequest)],
            any::<u32>(),
            prop::option::of(duration()),
        )
            .prop_map(|(app, retransmit, shape, e2e, wait)| Op::Send { app, retransmit, shape, e2e, wait }),
        14 => (kind(), mangle(), any::<bool>())
            .prop_map(|(kind, mangle, stream)| Op::Deliver { kind, mangle, stream }),
        1 => (prop::collection::vec(any::<u8>(), 0..64), prop::bool::weighted(0.2))
            .prop_map(|(bytes, stream)| Op::Random { bytes, stream }),
        4 => Just(Op::Establish),
        6 => prop::bool::weighted(0.7).prop_map(|answer_apps| Op::Cooperate { answer_apps }),
        3 => (1u8..7).prop_map(Op::Burst),
    ]
}

// ---------------------------------------------------------------------------
// Messages from the remote peer
// ---------------------------------------------------------------------------

pub fn build(hdr: HeaderRepr, f: impl FnOnce(&mut MessageBuilder<'_>)) -> Vec<u8> {
    let mut buf = vec![0u8; 2048];
    let mut b = MessageBuilder::new(&mut buf, hdr);
    f(&mut b);
    let n = b.finish().expect("encode").len();
    buf.truncate(n);
    buf
}

pub fn put_remote_caps(b: &mut MessageBuilder<'_>, apps: u8, known: bool) {
    let (host, realm) = if known {
        (REMOTE, REMOTE_REALM)
    } else {
        ("intruder.example.com", "example.com")
    };
    b.put(&base::ORIGIN_HOST, host)
        .put(&base::ORIGIN_REALM, realm)
        .put(&base::HOST_IP_ADDRESS, AddressValue::V4([10, 0, 0, 2]))
        .put(&base::VENDOR_ID, 0)
        .put(&base::PRODUCT_NAME, "remote");
    if apps & 1 != 0 {
        b.put(&base::AUTH_APPLICATION_ID, 4);
    }
    if apps & 2 != 0 {
        b.put(&base::ACCT_APPLICATION_ID, 3);
    }
    if apps & 4 != 0 {
        b.put(&base::AUTH_APPLICATION_ID, RELAY);
    }
    if apps & 8 != 0 {
        b.put(&base::AUTH_APPLICATION_ID, 5);
    }
    if apps & 16 != 0 {
        b.grouped(&base::VENDOR_SPECIFIC_APPLICATION_ID, |g| {
            g.put(&base::VENDOR_ID, 10415)
                .put(&base::AUTH_APPLICATION_ID, 16_777_238);
        });
    }
}

pub fn answer_hdr(code: CommandCode, app: u32, ids: (u32, u32), error: bool) -> HeaderRepr {
    let mut h = HeaderRepr::request(code, ApplicationId(app), ids.0, ids.1).answer();
    if error {
        h.flags = h.flags | CommandFlags::ERROR;
    }
    h
}

pub fn acr(app: u32, session: &str, valid: bool) -> Vec<u8> {
    build(
        HeaderRepr::request(CommandCode::ACCOUNTING, ApplicationId(app), 0, 0).proxiable(true),
        |b| {
            b.put(&base::SESSION_ID, session)
                .put(&base::ORIGIN_HOST, REMOTE)
                .put(&base::ORIGIN_REALM, REMOTE_REALM)
                .put(&base::DESTINATION_REALM, "example.org")
                .put(
                    &base::ACCOUNTING_RECORD_TYPE,
                    AccountingRecordType::EventRecord,
                );
            if valid {
                b.put(&base::ACCOUNTING_RECORD_NUMBER, 1);
            }
        },
    )
}

/// The Hop-by-Hop and End-to-End fields of whatever 20 bytes head `bytes`
/// (the machine matches answers on them even when the rest is broken).
pub fn ids_of(bytes: &[u8]) -> Option<(u32, u32)> {
    let word = |at: usize| Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    Some((word(12)?, word(16)?))
}

pub fn set_ids(bytes: &mut [u8], hbh: u32, e2e: u32) {
    bytes[12..16].copy_from_slice(&hbh.to_be_bytes());
    bytes[16..20].copy_from_slice(&e2e.to_be_bytes());
}

pub fn apply_mangle(mut m: Vec<u8>, mangle: &Mangle) -> Vec<u8> {
    match *mangle {
        Mangle::None => {}
        Mangle::Truncate(n, fix) => {
            let n = n % m.len().max(1);
            m.truncate(n);
            if fix && m.len() >= 4 {
                let l = m.len() as u32;
                m[1..4].copy_from_slice(&l.to_be_bytes()[1..]);
            }
        }
        Mangle::Flip(p, x) => {
            if !m.is_empty() {
                let i = p % m.len();
                m[i] ^= x;
            }
        }
        Mangle::Append(ref v) => m.extend_from_slice(v),
    }
    m
}
