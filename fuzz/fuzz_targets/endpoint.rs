//! Two endpoints of `diameter-cc` joined by a fuzz-driven transport: a SIP
//! proxy's client endpoint (prepaid, postpaid and accounting sessions; one
//! or two connections) and a charging server's endpoint (credit control
//! rated by `Balances`, accounting into a sink that may fail). The input
//! decides every interleaving: connections up, refused or down on either
//! side, bytes moved from `poll_transmit` to the other side through
//! `RxBuf` in random amounts (message by message or in batches), arbitrary
//! bytes or crafted valid messages (CEA, CER, DWR, DPR, CCA, ACA, RAR, ASR,
//! CCR, ACR with fuzz-chosen or matching identifiers and fields) fed to
//! `handle_message`, time jumps (`handle_timeout` at `poll_timeout` or
//! later), and the application's calls on stale and live handles.
//!
//! Asserted: no panic; every poll loop ends within a bound (events,
//! transmits, settling, timers: a timer that stays due is a failure);
//! `session_count` never exceeds the table and always equals the sessions
//! the application was told about (opened minus `Closed`), every session
//! event names a live session (a served session's `Opened` comes first, and
//! nothing follows `Closed`); calls on a live handle never answer
//! `UnknownSession` and calls on a stale one always do; opening fails with
//! `TableFull` / `DuplicateSessionId` exactly when it should; every byte an
//! endpoint writes frames, and every message validates against the
//! `CreditControl` dictionary; the first message on every new connection is
//! the CER (client) and, unless the input fed the server a message first,
//! the CEA (server); `handle_message` never returns an
//! answer to the application (it sent no request of its own); pending
//! tables stay within their bound; time only moves forward.
#![no_main]

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use arbitrary::Arbitrary;
use diameter_cc::client::accounting::{AccountingConfig, CallInfo};
use diameter_cc::client::postpaid::PostpaidConfig;
use diameter_cc::client::prepaid::{OnExhaustion, PrepaidConfig};
use diameter_cc::client::Parties;
use diameter_cc::dict::{
    CcRequestType, CcSessionFailover, CreditControlFailureHandling, DirectDebitingFailureHandling,
    FinalUnitAction, RequestedAction,
};
use diameter_cc::endpoint::{
    CallError, Endpoint, EndpointConfig, Event, OpenError, PeerHandle, SessionEvent, SessionHandle,
};
use diameter_cc::msg::{
    AcaRepr, AcrRepr, AsrRepr, CcaRepr, CcrRepr, FinalUnitIndicationRepr, MsccRepr, RarRepr,
    ServiceUnit, SubscriptionId,
};
use diameter_cc::server::accounting::{
    AccountingRecord, AccountingServerConfig, AccountingSink, NoSink, SinkError,
};
use diameter_cc::server::credit_control::{Balances, CcServerConfig, NoCredit, NoRating};
use diameter_cc::session::{session_id_from, WallClock};
use diameter_cc::CreditControl;
use diameter_core::answer::{result_answer, Identity};
use diameter_core::dict::base::{
    self, AccountingRealtimeRequired, AccountingRecordType, DisconnectCause, TerminationCause,
};
use diameter_core::peer::{self, App, Incoming, LocalIdentity, PeerConfig, Role};
use diameter_core::time::{earliest, Instant};
use diameter_core::{
    AddressValue, ApplicationId, CommandCode, CommandFlags, HeaderRepr, Message, MessageBuilder,
    ResultCode, RxBuf,
};
use libfuzzer_sys::fuzz_target;

const CLIENT: &str = "client.diameter.test";
const SERVER: &str = "server.diameter.test";
const STRANGER: &str = "stranger.example";
const REALM: &str = "diameter.test";
const CONTEXT: &str = "voice@fuzz";
const EPOCH: i64 = 1_704_067_200;
/// Session table of both endpoints (and each peer's pending capacity).
const SESSIONS: usize = 4;
const CALLS: [&str; 9] = [
    "call-0@proxy",
    "call-1@proxy",
    "call-2@proxy",
    "call-3@proxy",
    "call-4@proxy",
    "call-5@proxy",
    "call-6@proxy",
    "call-7@proxy",
    "unknown-session@elsewhere",
];
/// Result-Codes worth answering with.
const CODES: [u32; 14] = [
    2001, 2002, 3002, 3004, 3005, 3007, 4010, 4011, 4012, 5002, 5003, 5012, 5030, 5031,
];
/// Bounds of every loop.
const POLLS: usize = 2_000;
const ROUNDS: usize = 1_000;
const SETTLE: usize = 10_000;
const RUN_STEPS: usize = 20_000;
/// Timers further away than this are taken as "never".
const FAR: Duration = Duration::from_secs(366 * 24 * 3600);

type ClientEp = Endpoint<NoRating, NoSink, 2, SESSIONS>;
type ServerEp = Endpoint<Balances<4>, Sink, 2, SESSIONS>;

/// An accounting store that counts, and fails on demand.
#[derive(Debug, Default)]
struct Sink {
    fail: bool,
    records: u32,
}

impl AccountingSink for Sink {
    fn record(&mut self, _rec: &AccountingRecord<'_>) -> Result<(), SinkError> {
        if self.fail {
            return Err(SinkError::OutOfSpace);
        }
        self.records += 1;
        Ok(())
    }
}

#[derive(Debug, Arbitrary)]
struct Setup {
    two_links: bool,
    /// Bit i: link i waits for `Up`/`Refuse` instead of connecting at once.
    manual_connect: u8,
    short_tw: bool,
    ccfh: u8,
    reauthorize: bool,
    update_on_answer: bool,
    tx_secs: u8,
    requested: u16,
    destination_host: bool,
    ddfh_continue: bool,
    retry_secs: u8,
    interim: Option<u8>,
    realtime: u8,
    validity: Option<u8>,
    zero_grant: bool,
    grace: Option<u8>,
    tcc_secs: u16,
    balance: u16,
    server_interim: Option<u8>,
}

#[derive(Debug, Arbitrary)]
enum Kind {
    Cea,
    Cer,
    Dwr,
    Dpr,
    Cca,
    Aca,
    Rar,
    Asr,
    Ccr,
    Acr,
}

#[derive(Debug, Arbitrary)]
struct Fields {
    sid: u8,
    /// Take the identifiers (and by default the Session-Id, type and
    /// number) of a request the client sent: a matching answer, or a
    /// duplicate request.
    matched: Option<u8>,
    hop_by_hop: u32,
    end_to_end: u32,
    rc: u8,
    raw_rc: Option<u16>,
    number: Option<u8>,
    sub: u8,
    grant: Option<u16>,
    used: Option<u16>,
    validity: Option<u8>,
    t_flag: bool,
    mscc: bool,
    fui: bool,
    failover: bool,
    ccfh: Option<u8>,
    stranger: bool,
}

#[derive(Debug, Arbitrary)]
enum Op {
    /// Deliver everything both ways until both endpoints are quiet.
    Settle,
    /// Run every timer due within `secs`, delivering everything.
    Run {
        secs: u16,
    },
    /// Move up to `bytes` bytes of one direction of one connection.
    Deliver {
        link: bool,
        to_server: bool,
        bytes: u16,
        batch: bool,
    },
    /// Time passes without `handle_timeout`.
    Advance {
        ms: u32,
    },
    /// `handle_timeout` of one side at its `poll_timeout`.
    PollTimeout {
        server: bool,
    },
    /// `handle_timeout` of one side at a later time.
    TimeoutLater {
        server: bool,
        ms: u32,
    },
    Up {
        link: bool,
    },
    Refuse {
        link: bool,
    },
    Down {
        link: bool,
    },
    Start,
    Disconnect {
        link: bool,
        server: bool,
        cause: u8,
    },
    Shutdown {
        server: bool,
    },
    Raw {
        link: bool,
        to_server: bool,
        bytes: Vec<u8>,
    },
    Msg {
        link: bool,
        to_server: bool,
        kind: Kind,
        fields: Fields,
    },
    OpenPrepaid {
        sid: u8,
        unknown_user: bool,
    },
    OpenPostpaid {
        sid: u8,
        unknown_user: bool,
    },
    OpenAccounting {
        sid: u8,
        user: bool,
    },
    CallSetup {
        pick: u8,
    },
    CallAnswered {
        pick: u8,
    },
    CallEnded {
        pick: u8,
        cause: u8,
    },
    AccountEvent {
        pick: u8,
    },
    DropEvent {
        pick: u8,
    },
    Abort {
        pick: u8,
    },
    Reauthorize {
        pick: u8,
    },
    Balance {
        seconds: u16,
    },
    SinkFails(bool),
}

#[derive(Debug, Arbitrary)]
struct Input {
    setup: Setup,
    ops: Vec<Op>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Client,
    Server,
}

/// Direction 0: client to server; 1: server to client.
const UP: usize = 0;
const DOWN: usize = 1;

/// One transport connection between a client peer and a server responder.
struct Link {
    cp: PeerHandle,
    sp: Option<PeerHandle>,
    last_sp: Option<PeerHandle>,
    auto: bool,
    connected: bool,
    connect_pending: bool,
    /// Who asked to close: its last bytes still reach the other side.
    closing: Option<Side>,
    wire: [Vec<u8>; 2],
    rx: [Box<RxBuf<16384>>; 2],
    /// The next message in that direction is the first of the connection.
    fresh: [bool; 2],
    /// Messages were injected into the server on this connection: its
    /// first answer may be to one of them rather than the CEA.
    tampered: bool,
}

/// A request the client sent, as seen on the wire.
#[derive(Debug, Clone)]
struct Sent {
    hop_by_hop: u32,
    end_to_end: u32,
    sid: String,
    number: u32,
    kind: u8,
}

struct World {
    c: Box<ClientEp>,
    s: Box<ServerEp>,
    links: Vec<Link>,
    now: Instant,
    buf: Box<[u8; 8192]>,
    c_handles: Vec<SessionHandle>,
    s_handles: Vec<SessionHandle>,
    c_live: HashMap<SessionHandle, &'static str>,
    s_live: HashSet<SessionHandle>,
    sent: Vec<Sent>,
}

fn identity(host: &str) -> LocalIdentity {
    LocalIdentity::new(host, REALM)
        .and_then(|l| l.with_application(App::auth(4)))
        .and_then(|l| l.with_application(App::acct(3)))
        .and_then(|l| l.with_supported_vendor(10415))
        .and_then(|l| l.with_product_name("diameter-fuzz"))
        .expect("identity")
        .with_origin_state_id(1)
}

fn peer_config(host: &str, short_tw: bool) -> PeerConfig {
    let mut c = PeerConfig::new(identity(host), EPOCH as u32);
    if short_tw {
        c.tw = Duration::from_secs(6);
    }
    c
}

fn client(s: &Setup) -> Box<ClientEp> {
    let mut config = EndpointConfig::new(peer_config(CLIENT, s.short_tw), WallClock::new(EPOCH));
    let mut pre = PrepaidConfig::new(REALM, CONTEXT).unwrap();
    if s.destination_host {
        pre = pre.with_destination_host(SERVER).unwrap();
    }
    pre.failure_handling = CreditControlFailureHandling::from(i32::from(s.ccfh % 3));
    pre.on_exhaustion = if s.reauthorize {
        OnExhaustion::Reauthorize
    } else {
        OnExhaustion::Terminate
    };
    pre.update_on_answer = s.update_on_answer;
    pre.tx = Duration::from_secs(1 + u64::from(s.tx_secs % 20));
    pre.requested_time = u32::from(s.requested);
    config.prepaid = Some(pre);
    let mut post = PostpaidConfig::new(REALM, CONTEXT).unwrap();
    post.failure_handling = if s.ddfh_continue {
        DirectDebitingFailureHandling::Continue
    } else {
        DirectDebitingFailureHandling::TerminateOrBuffer
    };
    post.retry_interval = Duration::from_secs(1 + u64::from(s.retry_secs % 60));
    config.postpaid = Some(post);
    let mut acct = AccountingConfig::new(REALM).unwrap();
    acct.interim_interval = s.interim.map(|i| 1 + u32::from(i));
    acct.realtime_required = AccountingRealtimeRequired::from(1 + i32::from(s.realtime % 3));
    config.accounting = Some(acct);
    Box::new(Endpoint::new(config, Instant::ZERO))
}

fn server(s: &Setup) -> Box<ServerEp> {
    let config = EndpointConfig::new(peer_config(SERVER, s.short_tw), WallClock::new(EPOCH));
    let mut cc = CcServerConfig::new();
    // At least 1 s: a Validity-Time of 0 on every grant makes the prepaid
    // client re-authorise in a loop without time passing (a known problem;
    // crafted CCAs in `Msg` may still carry 0, one re-authorisation each).
    cc.validity_time = s.validity.map(|v| u32::from(v).max(1));
    cc.no_credit = if s.zero_grant {
        NoCredit::ZeroGrant
    } else {
        NoCredit::CreditLimitReached
    };
    cc.exhaustion_grace = s.grace.map(|g| Duration::from_secs(u64::from(g)));
    cc.tcc = Duration::from_secs(1 + u64::from(s.tcc_secs % 1200));
    let mut balances = Balances::<4>::new();
    balances.set("1001", u64::from(s.balance));
    let mut acct = AccountingServerConfig::new();
    acct.interim_interval = s.server_interim.map(|i| 1 + u32::from(i));
    Box::new(
        Endpoint::new(config, Instant::ZERO)
            .with_credit_control(cc, balances)
            .with_accounting(acct, Sink::default()),
    )
}

fn rc_of(f: &Fields) -> u32 {
    match f.raw_rc {
        Some(r) => 1000 + u32::from(r) % 5000,
        None => CODES[usize::from(f.rc) % CODES.len()],
    }
}

fn flags(mut h: HeaderRepr, rc: Option<u32>, t: bool) -> HeaderRepr {
    if rc.is_some_and(|rc| (3000..4000).contains(&rc)) {
        h.flags = h.flags.with(CommandFlags::ERROR, true);
    }
    if t && h.flags.is_request() {
        h.flags = h.flags.with(CommandFlags::RETRANSMIT, true);
    }
    h
}

/// A valid message of `kind` from the other side of the link (or a
/// stranger), with the fields of `f`.
fn craft(kind: &Kind, f: &Fields, to_server: bool, sent: &[Sent]) -> Vec<u8> {
    let m = f
        .matched
        .filter(|_| !sent.is_empty())
        .map(|k| &sent[usize::from(k) % sent.len()]);
    let (hbh, e2e) = m.map_or((f.hop_by_hop, f.end_to_end), |m| {
        (m.hop_by_hop, m.end_to_end)
    });
    let sid = m.map_or(CALLS[usize::from(f.sid) % CALLS.len()], |m| m.sid.as_str());
    let number = f.number.map(u32::from).or(m.map(|m| m.number)).unwrap_or(0);
    let sub = m.map_or(f.sub % 4 + 1, |m| m.kind);
    let sender = if f.stranger {
        STRANGER
    } else if to_server {
        CLIENT
    } else {
        SERVER
    };
    let receiver = if to_server { SERVER } else { CLIENT };
    let rc = rc_of(f);
    let cc_type = CcRequestType::from(i32::from(sub));
    let record_type = AccountingRecordType::from(i32::from(sub));
    let grant = f.grant.map(|g| ServiceUnit::time(u32::from(g)));
    let used = f.used.map(|u| ServiceUnit::time(u32::from(u)));
    let used = used.as_slice();
    let fui = f
        .fui
        .then(|| FinalUnitIndicationRepr::new(FinalUnitAction::Terminate));
    let mut buf = vec![0u8; 4096];
    let out = match kind {
        Kind::Cea | Kind::Cer => {
            let mut h = HeaderRepr::request(
                CommandCode::CAPABILITIES_EXCHANGE,
                ApplicationId::COMMON,
                hbh,
                e2e,
            );
            let answer = matches!(kind, Kind::Cea);
            if answer {
                h = h.answer();
            }
            let mut b = MessageBuilder::new(&mut buf, flags(h, answer.then_some(rc), false));
            if answer {
                b.put(&base::RESULT_CODE, rc);
            }
            b.put(&base::ORIGIN_HOST, sender)
                .put(&base::ORIGIN_REALM, REALM)
                .put(&base::HOST_IP_ADDRESS, AddressValue::V4([127, 0, 0, 2]))
                .put(&base::VENDOR_ID, 0)
                .put(&base::PRODUCT_NAME, "fuzz");
            if f.mscc {
                b.put(&base::AUTH_APPLICATION_ID, 4)
                    .put(&base::ACCT_APPLICATION_ID, 3);
            } else {
                b.put(&base::AUTH_APPLICATION_ID, 99);
            }
            b.finish().map(<[u8]>::to_vec)
        }
        Kind::Dwr | Kind::Dpr => {
            let code = if matches!(kind, Kind::Dwr) {
                CommandCode::DEVICE_WATCHDOG
            } else {
                CommandCode::DISCONNECT_PEER
            };
            let h = HeaderRepr::request(code, ApplicationId::COMMON, hbh, e2e);
            let mut b = MessageBuilder::new(&mut buf, flags(h, None, f.t_flag));
            b.put(&base::ORIGIN_HOST, sender)
                .put(&base::ORIGIN_REALM, REALM);
            if matches!(kind, Kind::Dpr) {
                b.put(
                    &base::DISCONNECT_CAUSE,
                    DisconnectCause::from(i32::from(f.sub % 3)),
                );
            }
            b.finish().map(<[u8]>::to_vec)
        }
        Kind::Cca => {
            let mscc = [MsccRepr {
                granted_service_unit: grant,
                validity_time: f.validity.map(u32::from),
                result_code: Some(ResultCode(rc)),
                final_unit_indication: fui,
                ..MsccRepr::EMPTY
            }];
            let mut a = CcaRepr::new(sid, ResultCode(rc), sender, REALM, cc_type, number);
            if f.mscc {
                a.mscc = &mscc;
            } else {
                a.granted_service_unit = grant;
                a.validity_time = f.validity.map(u32::from);
                a.final_unit_indication = fui;
            }
            a.cc_session_failover = f.failover.then_some(CcSessionFailover::Supported);
            a.credit_control_failure_handling = f
                .ccfh
                .map(|c| CreditControlFailureHandling::from(i32::from(c % 3)));
            a.encode(flags(CcaRepr::header(hbh, e2e), Some(rc), false), &mut buf)
                .map(<[u8]>::to_vec)
        }
        Kind::Aca => {
            let mut a = AcaRepr::new(sid, ResultCode(rc), sender, REALM, record_type, number);
            a.acct_interim_interval = f.validity.map(u32::from);
            a.encode(flags(AcaRepr::header(hbh, e2e), Some(rc), false), &mut buf)
                .map(<[u8]>::to_vec)
        }
        Kind::Rar => RarRepr::new(sid, sender, REALM, REALM, receiver)
            .encode(flags(RarRepr::header(hbh, e2e), None, f.t_flag), &mut buf)
            .map(<[u8]>::to_vec),
        Kind::Asr => AsrRepr::new(sid, sender, REALM, REALM, receiver)
            .encode(flags(AsrRepr::header(hbh, e2e), None, f.t_flag), &mut buf)
            .map(<[u8]>::to_vec),
        Kind::Ccr => {
            let subs = [SubscriptionId::e164("1001")];
            let mut r = CcrRepr::new(sid, sender, REALM, REALM, CONTEXT, cc_type, number);
            r.destination_host = f.failover.then_some(receiver);
            r.subscription_ids = &subs;
            r.requested_service_unit = grant;
            r.used_service_units = used;
            if cc_type == CcRequestType::Event {
                r.requested_action = Some(RequestedAction::DirectDebiting);
            }
            if cc_type == CcRequestType::Termination {
                r.termination_cause = Some(TerminationCause::Logout);
            }
            r.encode(flags(CcrRepr::header(hbh, e2e), None, f.t_flag), &mut buf)
                .map(<[u8]>::to_vec)
        }
        Kind::Acr => {
            let mut r = AcrRepr::new(sid, sender, REALM, REALM, record_type, number);
            r.acct_application_id = Some(3);
            r.user_name = f.mscc.then_some("1001");
            r.encode(flags(AcrRepr::header(hbh, e2e), None, f.t_flag), &mut buf)
                .map(<[u8]>::to_vec)
        }
    };
    out.expect("crafted message encodes")
}

impl World {
    fn new(setup: &Setup) -> World {
        let mut c = client(setup);
        let mut links = Vec::new();
        for i in 0..if setup.two_links { 2 } else { 1 } {
            let cp = c.add_peer(Role::Initiator, None).expect("client peer");
            links.push(Link {
                cp,
                sp: None,
                last_sp: None,
                auto: setup.manual_connect & (1 << i) == 0,
                connected: false,
                connect_pending: false,
                closing: None,
                wire: [Vec::new(), Vec::new()],
                rx: [Box::new(RxBuf::new()), Box::new(RxBuf::new())],
                fresh: [false, false],
                tampered: false,
            });
        }
        World {
            c,
            s: server(setup),
            links,
            now: Instant::ZERO,
            buf: Box::new([0u8; 8192]),
            c_handles: Vec::new(),
            s_handles: Vec::new(),
            c_live: HashMap::new(),
            s_live: HashSet::new(),
            sent: Vec::new(),
        }
    }

    fn set_now(&mut self, t: Instant) {
        assert!(t >= self.now, "time went back");
        self.now = t;
    }

    fn link_of(&self, side: Side, peer: PeerHandle) -> Option<usize> {
        self.links.iter().position(|l| match side {
            Side::Client => l.cp == peer,
            Side::Server => l.sp == Some(peer),
        })
    }

    fn link(&self, second: bool) -> usize {
        usize::from(second) % self.links.len()
    }

    // ---- the transport's part -------------------------------------------

    fn connect(&mut self, i: usize) {
        let now = self.now;
        let cp = self.links[i].cp;
        self.links[i].connect_pending = false;
        match self.s.accept(now) {
            Some(sp) => {
                let l = &mut self.links[i];
                l.sp = Some(sp);
                l.last_sp = Some(sp);
                l.connected = true;
                l.fresh = [true, true];
                l.tampered = false;
                self.c.handle_connected(now, cp);
            }
            None => self.c.handle_disconnected(now, cp),
        }
    }

    /// The connection of link `i` is gone: both sides are told, bytes in
    /// flight are lost.
    fn drop_link(&mut self, i: usize) {
        let now = self.now;
        let l = &mut self.links[i];
        let (cp, sp) = (l.cp, l.sp.take());
        let was = l.connected || l.connect_pending;
        l.connected = false;
        l.connect_pending = false;
        l.closing = None;
        l.fresh = [false, false];
        for d in [UP, DOWN] {
            l.wire[d].clear();
            l.rx[d].clear();
        }
        if was {
            self.c.handle_disconnected(now, cp);
        }
        if let Some(sp) = sp {
            self.s.handle_disconnected(now, sp);
        }
    }

    fn client_event(&mut self, e: Event) {
        match e {
            Event::Peer { peer, event } => {
                let i = self
                    .link_of(Side::Client, peer)
                    .expect("event of an unknown peer");
                match event {
                    peer::Event::Connect => {
                        let l = &mut self.links[i];
                        assert!(!l.connected, "Connect on a connected link");
                        if l.auto {
                            self.connect(i);
                        } else {
                            l.connect_pending = true;
                        }
                    }
                    peer::Event::Close => {
                        let l = &mut self.links[i];
                        if l.connected || l.connect_pending {
                            l.closing.get_or_insert(Side::Client);
                        }
                    }
                    _ => {}
                }
            }
            Event::Session { session, event } => {
                assert!(
                    !matches!(event, SessionEvent::Opened(_)),
                    "the client served a session"
                );
                assert!(
                    self.c_live.contains_key(&session),
                    "client event {event:?} of a session not live"
                );
                if event == SessionEvent::Closed {
                    self.c_live.remove(&session);
                }
            }
            other => panic!("client endpoint event {other:?}: it serves nothing"),
        }
    }

    fn server_event(&mut self, e: Event) {
        match e {
            Event::Peer { peer, event } => match event {
                peer::Event::Connect => panic!("the server has no initiator peer"),
                peer::Event::Close => match self.link_of(Side::Server, peer) {
                    Some(i) => {
                        self.links[i].closing.get_or_insert(Side::Server);
                    }
                    None => self.s.handle_disconnected(self.now, peer),
                },
                _ => {}
            },
            Event::Session { session, event } => match event {
                SessionEvent::Opened(_) => {
                    assert!(self.s_live.insert(session), "opened twice: {session:?}");
                    self.s_handles.push(session);
                }
                SessionEvent::Closed => {
                    assert!(self.s_live.remove(&session), "closed a session not live");
                }
                other => assert!(
                    self.s_live.contains(&session),
                    "server event {other:?} of a session not live"
                ),
            },
            _ => {}
        }
    }

    /// `len` bytes of `side`'s buffer go to `peer`'s connection.
    fn output(&mut self, side: Side, peer: PeerHandle, len: usize) {
        let Some(i) = self.link_of(side, peer) else {
            return;
        };
        let l = &mut self.links[i];
        if !l.connected {
            return;
        }
        let d = if side == Side::Client { UP } else { DOWN };
        l.wire[d].extend_from_slice(&self.buf[..len]);
    }

    /// Poll both endpoints until neither has an event or bytes.
    fn drain(&mut self) {
        for round in 0.. {
            assert!(round < ROUNDS, "outputs never end");
            let mut progress = false;
            for n in 0.. {
                assert!(n < POLLS, "client poll_event never ends");
                let Some(e) = self.c.poll_event(self.now) else {
                    break;
                };
                progress = true;
                self.client_event(e);
            }
            for n in 0.. {
                assert!(n < POLLS, "server poll_event never ends");
                let Some(e) = self.s.poll_event(self.now) else {
                    break;
                };
                progress = true;
                self.server_event(e);
            }
            for n in 0.. {
                assert!(n < POLLS, "client poll_transmit never ends");
                let Some(o) = self.c.poll_transmit(self.now, &mut self.buf[..]) else {
                    break;
                };
                assert!(o.len > 0 && o.len <= self.buf.len());
                progress = true;
                self.output(Side::Client, o.peer, o.len);
            }
            for n in 0.. {
                assert!(n < POLLS, "server poll_transmit never ends");
                let Some(o) = self.s.poll_transmit(self.now, &mut self.buf[..]) else {
                    break;
                };
                assert!(o.len > 0 && o.len <= self.buf.len());
                progress = true;
                self.output(Side::Server, o.peer, o.len);
            }
            if !progress {
                return;
            }
        }
    }

    /// Drain, complete the connections asked to close (their last bytes
    /// delivered first), and check the invariants.
    fn pump(&mut self) {
        for n in 0.. {
            assert!(n < ROUNDS, "closing never ends");
            self.drain();
            let Some(i) = self.links.iter().position(|l| l.closing.is_some()) else {
                break;
            };
            let d = if self.links[i].closing == Some(Side::Client) {
                UP
            } else {
                DOWN
            };
            self.deliver(i, d, usize::MAX, false);
            self.drop_link(i);
        }
        assert!(self.c.session_count() <= SESSIONS);
        assert!(self.s.session_count() <= SESSIONS);
        assert_eq!(self.c.session_count(), self.c_live.len(), "client sessions");
        assert_eq!(self.s.session_count(), self.s_live.len(), "server sessions");
        for l in &self.links {
            let peers = [self.c.peer(l.cp), l.sp.and_then(|h| self.s.peer(h))];
            for p in peers.into_iter().flatten() {
                assert!(p.pending_len() <= p.pending_capacity());
            }
        }
    }

    /// Move up to `n` bytes of direction `d` of link `i` into the
    /// receiver's `RxBuf` and hand it every complete message.
    fn deliver(&mut self, i: usize, d: usize, n: usize, batch: bool) {
        if !self.links[i].connected {
            return;
        }
        let take = n.min(self.links[i].wire[d].len());
        let chunk: Vec<u8> = self.links[i].wire[d].drain(..take).collect();
        let mut off = 0;
        while off < chunk.len() {
            let k = self.links[i].rx[d].extend(&chunk[off..]);
            off += k;
            let mut got = false;
            loop {
                let msg = match self.links[i].rx[d].next_message() {
                    None => break,
                    Some(Ok(m)) => m.to_vec(),
                    Some(Err(e)) => panic!("an endpoint wrote an unframeable stream: {e:?}"),
                };
                got = true;
                self.receive(i, d, &msg);
                if !batch {
                    self.drain();
                }
                if !self.links[i].connected {
                    // Dropped meanwhile (a close completed): the rest is lost.
                    return;
                }
            }
            assert!(k > 0 || got, "receive buffer full without a message");
        }
    }

    /// A message that crossed link `i` in direction `d`.
    fn receive(&mut self, i: usize, d: usize, bytes: &[u8]) {
        let m = Message::new_checked(bytes)
            .and_then(|m| m.validated(&CreditControl))
            .unwrap_or_else(|e| panic!("an endpoint wrote an invalid message ({e}): {bytes:02x?}"));
        let l = &mut self.links[i];
        if l.fresh[d] && !(d == DOWN && l.tampered) {
            assert_eq!(
                m.command_code(),
                CommandCode::CAPABILITIES_EXCHANGE,
                "the first message of a connection is not the CER/CEA"
            );
            assert_eq!(m.is_request(), d == UP);
        }
        l.fresh[d] = false;
        if d == UP && m.is_request() {
            let number = m
                .get(&diameter_cc::dict::CC_REQUEST_NUMBER)
                .ok()
                .flatten()
                .or(m.get(&base::ACCOUNTING_RECORD_NUMBER).ok().flatten());
            let kind = m
                .get(&diameter_cc::dict::CC_REQUEST_TYPE)
                .ok()
                .flatten()
                .map(i32::from)
                .or(m
                    .get(&base::ACCOUNTING_RECORD_TYPE)
                    .ok()
                    .flatten()
                    .map(i32::from));
            if let (Some(sid), Some(number), Some(kind)) = (m.session_id(), number, kind) {
                if self.sent.len() >= 32 {
                    self.sent.remove(0);
                }
                self.sent.push(Sent {
                    hop_by_hop: m.hop_by_hop(),
                    end_to_end: m.end_to_end(),
                    sid: sid.to_owned(),
                    number,
                    kind: kind.clamp(1, 4) as u8,
                });
            }
        }
        let to = if d == UP { Side::Server } else { Side::Client };
        let h = if d == UP {
            l.sp.expect("a connected link has a server peer")
        } else {
            l.cp
        };
        self.inject(to, h, bytes);
    }

    /// `handle_message` on `side` from `peer`; requests it does not own are
    /// answered as an application would (3001 COMMAND_UNSUPPORTED).
    fn inject(&mut self, side: Side, peer: PeerHandle, bytes: &[u8]) {
        let now = self.now;
        let (host, r) = match side {
            Side::Client => (CLIENT, self.c.handle_message(now, peer, bytes)),
            Side::Server => (SERVER, self.s.handle_message(now, peer, bytes)),
        };
        match r {
            Incoming::Answer { .. } | Incoming::InvalidAnswer { .. } => {
                panic!("{side:?} handed over an answer to a request nobody sent: {r:?}")
            }
            Incoming::Request { message, .. } => {
                let me = Identity {
                    origin_host: host,
                    origin_realm: REALM,
                };
                let write = |buf: &mut [u8]| {
                    result_answer(&message, ResultCode::COMMAND_UNSUPPORTED, &me, buf)
                        .finish()
                        .map(<[u8]>::len)
                };
                let _ = match side {
                    Side::Client => self.c.answer(peer, write),
                    Side::Server => self.s.answer(peer, write),
                };
            }
            _ => {}
        }
    }

    /// Deliver everything both ways until both are quiet.
    fn settle(&mut self) {
        for _ in 0..SETTLE {
            self.pump();
            let next = self.links.iter().enumerate().find_map(|(i, l)| {
                if !l.connected {
                    return None;
                }
                [UP, DOWN]
                    .into_iter()
                    .find(|&d| !l.wire[d].is_empty())
                    .map(|d| (i, d))
            });
            let Some((i, d)) = next else {
                return;
            };
            self.deliver(i, d, usize::MAX, false);
        }
        panic!("settle never ends at {:?}", self.now);
    }

    /// Run every timer due within `d`, delivering everything.
    fn run(&mut self, d: Duration) {
        let until = self.now + d;
        let mut same = 0;
        for _ in 0..RUN_STEPS {
            self.settle();
            match earliest(self.c.poll_timeout(), self.s.poll_timeout()) {
                Some(t) if t <= until => {
                    if t <= self.now {
                        same += 1;
                        assert!(same < 64, "a timer stays due at {:?}", self.now);
                    } else {
                        same = 0;
                        self.set_now(t);
                    }
                    self.c.handle_timeout(self.now);
                    self.s.handle_timeout(self.now);
                }
                _ => {
                    self.set_now(until);
                    self.settle();
                    return;
                }
            }
        }
        panic!("timers never end before {until:?}");
    }

    /// `handle_timeout` on one side at `t`; after its outputs, no timer of
    /// that side may still be due.
    fn timeout(&mut self, server: bool, t: Instant) {
        self.set_now(t);
        if server {
            self.s.handle_timeout(self.now);
        } else {
            self.c.handle_timeout(self.now);
        }
        self.pump();
        let next = if server {
            self.s.poll_timeout()
        } else {
            self.c.poll_timeout()
        };
        assert!(
            next.is_none_or(|n| n > self.now),
            "{} timer still due after handle_timeout at {:?}: {next:?}",
            if server { "server" } else { "client" },
            self.now
        );
    }

    // ---- the application's part ----------------------------------------

    fn pick(handles: &[SessionHandle], k: u8) -> Option<SessionHandle> {
        (!handles.is_empty()).then(|| handles[usize::from(k) % handles.len()])
    }

    fn opened(&mut self, sid: &'static str, r: Result<SessionHandle, OpenError>) {
        let duplicate = self.c_live.values().any(|s| *s == sid);
        match r {
            Ok(h) => {
                assert!(!duplicate, "a second live session {sid}");
                assert!(self.c_live.len() < SESSIONS, "opened beyond the table");
                assert!(self.c_live.insert(h, sid).is_none(), "a live handle reused");
                self.c_handles.push(h);
            }
            Err(OpenError::DuplicateSessionId) => assert!(duplicate, "{sid} is not live"),
            Err(OpenError::TableFull) => {
                assert!(!duplicate);
                assert_eq!(self.c_live.len(), SESSIONS, "TableFull with free slots");
            }
            Err(e) => panic!("open {sid}: {e:?}"),
        }
    }

    fn called<T: core::fmt::Debug>(live: bool, r: Result<T, CallError>) {
        if live {
            assert_ne!(
                r.err(),
                Some(CallError::UnknownSession),
                "a live handle unknown"
            );
        } else {
            assert_eq!(
                r.err(),
                Some(CallError::UnknownSession),
                "a stale handle accepted"
            );
        }
    }

    fn parties(unknown: bool) -> Parties {
        let caller = if unknown { "1003" } else { "1001" };
        Parties::new(caller, "1002")
            .and_then(|p| p.with_addresses("sip:1001@diameter.test", "sip:1002@diameter.test"))
            .unwrap()
    }

    fn apply(&mut self, op: &Op) {
        let now = self.now;
        match op {
            Op::Settle => self.settle(),
            Op::Run { secs } => self.run(Duration::from_secs(u64::from(secs % 600))),
            Op::Deliver {
                link,
                to_server,
                bytes,
                batch,
            } => {
                let i = self.link(*link);
                let d = if *to_server { UP } else { DOWN };
                self.deliver(i, d, usize::from(*bytes), *batch);
            }
            Op::Advance { ms } => {
                self.set_now(now + Duration::from_millis(u64::from(ms % 7_200_000)))
            }
            Op::PollTimeout { server } => {
                let t = if *server {
                    self.s.poll_timeout()
                } else {
                    self.c.poll_timeout()
                };
                // A peer told not to reconnect (disconnect, shutdown) waits
                // until Instant(u64::MAX), its "never": not a time to jump to.
                if let Some(t) = t.filter(|t| *t <= now + FAR) {
                    self.timeout(*server, t.max(now));
                }
            }
            Op::TimeoutLater { server, ms } => self.timeout(
                *server,
                now + Duration::from_millis(u64::from(ms % 7_200_000)),
            ),
            Op::Up { link } => {
                let i = self.link(*link);
                if self.links[i].connect_pending {
                    self.connect(i);
                }
            }
            Op::Refuse { link } => {
                let i = self.link(*link);
                if self.links[i].connect_pending {
                    self.links[i].connect_pending = false;
                    let cp = self.links[i].cp;
                    self.c.handle_disconnected(now, cp);
                }
            }
            Op::Down { link } => {
                let i = self.link(*link);
                self.drop_link(i);
            }
            Op::Start => self.c.start(now),
            Op::Disconnect {
                link,
                server,
                cause,
            } => {
                let i = self.link(*link);
                let cause = DisconnectCause::from(i32::from(cause % 3));
                if *server {
                    if let Some(sp) = self.links[i].sp {
                        self.s.disconnect(now, sp, cause);
                    }
                } else {
                    let cp = self.links[i].cp;
                    self.c.disconnect(now, cp, cause);
                }
            }
            Op::Shutdown { server } => {
                if *server {
                    self.s.shutdown(now, DisconnectCause::Rebooting);
                } else {
                    self.c.shutdown(now, DisconnectCause::Rebooting);
                }
            }
            Op::Raw {
                link,
                to_server,
                bytes,
            } => self.inject_to(*link, *to_server, bytes),
            Op::Msg {
                link,
                to_server,
                kind,
                fields,
            } => {
                let bytes = craft(kind, fields, *to_server, &self.sent);
                self.inject_to(*link, *to_server, &bytes);
            }
            Op::OpenPrepaid { sid, unknown_user } => {
                let sid = CALLS[usize::from(*sid) % 8];
                let r = self.c.open_prepaid(now, sid, Self::parties(*unknown_user));
                self.opened(sid, r);
            }
            Op::OpenPostpaid { sid, unknown_user } => {
                let sid = CALLS[usize::from(*sid) % 8];
                let r = self.c.open_postpaid(now, sid, Self::parties(*unknown_user));
                self.opened(sid, r);
            }
            Op::OpenAccounting { sid, user } => {
                let sid = CALLS[usize::from(*sid) % 8];
                let mut info = CallInfo::new(session_id_from(sid).unwrap());
                if *user {
                    info.user_name = Some("1001".try_into().unwrap());
                }
                let r = self.c.open_accounting(now, info);
                self.opened(sid, r);
            }
            Op::CallSetup { pick }
            | Op::CallAnswered { pick }
            | Op::CallEnded { pick, .. }
            | Op::AccountEvent { pick }
            | Op::DropEvent { pick } => {
                let Some(h) = Self::pick(&self.c_handles, *pick) else {
                    return;
                };
                let live = self.c_live.contains_key(&h);
                match op {
                    Op::CallSetup { .. } => Self::called(live, self.c.call_setup(now, h)),
                    Op::CallAnswered { .. } => Self::called(live, self.c.call_answered(now, h)),
                    Op::CallEnded { cause, .. } => {
                        let cause = TerminationCause::from(i32::from(cause % 9));
                        Self::called(live, self.c.call_ended(now, h, cause))
                    }
                    Op::AccountEvent { .. } => Self::called(live, self.c.account_event(now, h)),
                    _ => Self::called(live, self.c.drop_event(now, h)),
                }
            }
            Op::Abort { pick } | Op::Reauthorize { pick } => {
                let Some(h) = Self::pick(&self.s_handles, *pick) else {
                    return;
                };
                let live = self.s_live.contains(&h);
                if matches!(op, Op::Abort { .. }) {
                    Self::called(live, self.s.abort_session(now, h));
                } else {
                    Self::called(live, self.s.reauthorize(now, h));
                }
            }
            Op::Balance { seconds } => {
                if let Some(cc) = self.s.credit_control_server_mut() {
                    cc.rating_mut().set("1001", u64::from(*seconds));
                }
            }
            Op::SinkFails(f) => {
                if let Some(a) = self.s.accounting_server_mut() {
                    a.sink_mut().fail = *f;
                }
            }
        }
        self.pump();
    }

    fn inject_to(&mut self, link: bool, to_server: bool, bytes: &[u8]) {
        let i = self.link(link);
        if to_server {
            if let Some(sp) = self.links[i].sp.or(self.links[i].last_sp) {
                self.links[i].tampered = true;
                self.inject(Side::Server, sp, bytes);
            }
        } else {
            let cp = self.links[i].cp;
            self.inject(Side::Client, cp, bytes);
        }
    }
}

fuzz_target!(|inp: Input| {
    let mut w = World::new(&inp.setup);
    w.c.start(Instant::ZERO);
    w.pump();
    for op in inp.ops.iter().take(128) {
        w.apply(op);
    }
});
