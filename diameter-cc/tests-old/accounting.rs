//! The accounting client ([`AccountingClient`]) driven against the
//! accounting server ([`AccountingServer`]) in memory, with a fake clock
//! and a fake peer layer (RFC 6733 §8.2, §9; SCENARIOS.md, Accounting).
//!
//! Every ACR the client writes is parsed with `Message::parse_with(..,
//! &CreditControl)` and validated before the server sees it; every ACA is
//! parsed and validated before the client sees it. The fake peer assigns
//! End-to-End ids as `Peer::send_request` does (a fresh one, or the one in
//! the header when the T flag is set) and ends every request exactly once:
//! answered, or failed after its time-out (`RequestTimedOut`).
//!
//! Wireshark's tshark must be installed (`../shared/peers/install.sh`): the
//! dissection test fails loudly without it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use diameter_cc::client::accounting::{
    AccountingClient, AccountingConfig, AccountingError, AccountingEvent, CallInfo, ClientState,
    SipInfo, Transmit,
};
use diameter_cc::server::accounting::{
    AccountingRecord, AccountingServer, AccountingServerConfig, AccountingSink, Anomaly, SinkError,
};
use diameter_cc::session::{session_id_from, WallClock};
use diameter_cc::CreditControl;
use diameter_core::dict::base::{self, AccountingRealtimeRequired, AccountingRecordType};
use diameter_core::peer::set_retransmit_flag;
use diameter_core::time::Instant;
use diameter_core::{ApplicationId, CommandCode, HeaderRepr, Message, MessageBuilder, ResultCode};
use proptest::prelude::*;

use AccountingRealtimeRequired::{DeliverAndGrant, GrantAndLose, GrantAndStore};
use AccountingRecordType::{EventRecord, InterimRecord, StartRecord, StopRecord};

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

/// The SIP Call-ID, used as Session-Id and Acct-Session-Id.
const SID: &str = "a84b4c76e66710@pc33.atlanta.example.com";
const CLIENT: &str = "client.diameter.test";
const SERVER: &str = "server.diameter.test";
const REALM: &str = "diameter.test";
/// Unix time at `Instant::ZERO` (2024-01-01T00:00:00Z).
const UNIX0: i64 = 1_704_067_200;
const NTP_OFFSET: i64 = 2_208_988_800;
const SIP_AVPS: [&str; 1] = ["callee:1002"];

fn client_config() -> AccountingConfig<'static> {
    let mut c = AccountingConfig::new(CLIENT, REALM, REALM);
    c.destination_host = Some(SERVER);
    c.clock = WallClock {
        unix_at_zero: UNIX0,
    };
    c.interim_interval = Some(30);
    c
}

fn server_config() -> AccountingServerConfig<'static> {
    let mut c = AccountingServerConfig::new(SERVER, REALM);
    c.interim_interval = Some(30);
    c
}

fn call_info() -> CallInfo<'static> {
    let mut info = CallInfo::new(session_id_from(SID).unwrap());
    info.user_name = Some("1001");
    let mut sip = SipInfo::new();
    sip.from_tag = Some("1928301774");
    sip.to_tag = Some("a6c85cf");
    sip.response_code = Some(200);
    sip.setup_time = Some(3);
    sip.avps = &SIP_AVPS;
    info.sip = Some(sip);
    info
}

/// What the sink stored, owned.
#[derive(Debug, Clone, PartialEq)]
struct Stored {
    session_id: String,
    origin_host: String,
    record_type: AccountingRecordType,
    number: u32,
    retransmission: bool,
    acct_session_id: Option<Vec<u8>>,
    user_name: Option<String>,
    from_tag: Option<String>,
    to_tag: Option<String>,
    created: Option<u32>,
    duration: Option<u32>,
    ms_duration: Option<u32>,
}

#[derive(Debug, Default)]
struct VecSink {
    records: Vec<Stored>,
    anomalies: Vec<(String, Anomaly)>,
    /// Fail this many of the next records.
    fail_next: u32,
}

impl AccountingSink for VecSink {
    fn record(&mut self, r: &AccountingRecord<'_>) -> Result<(), SinkError> {
        if self.fail_next > 0 {
            self.fail_next -= 1;
            return Err(SinkError::OutOfSpace);
        }
        self.records.push(Stored {
            session_id: r.session_id.into(),
            origin_host: r.origin_host.into(),
            record_type: r.record_type,
            number: r.number,
            retransmission: r.retransmission,
            acct_session_id: r.acct_session_id.map(<[u8]>::to_vec),
            user_name: r.user_name.map(String::from),
            from_tag: r.sip_from_tag.map(String::from),
            to_tag: r.sip_to_tag.map(String::from),
            created: r.sip_call_created,
            duration: r.sip_call_duration,
            ms_duration: r.sip_call_ms_duration,
        });
        Ok(())
    }

    fn anomaly(&mut self, session_id: &str, _origin_host: &str, anomaly: Anomaly) {
        self.anomalies.push((session_id.into(), anomaly));
    }
}

/// What happens to one transmission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Answered after the latency.
    Deliver,
    /// The request never reaches the server: the peer times out.
    LoseRequest,
    /// The server handles it, the answer is lost: the peer times out.
    LoseAnswer,
    /// The answer arrives twice.
    DuplicateAnswer,
    /// The server's sink fails once (ACA 4002).
    SinkFails,
}

#[derive(Debug, Clone)]
enum Delivery {
    Answer(Vec<u8>),
    Failed(u32),
}

/// One message on the wire.
#[derive(Debug, Clone)]
struct Wire {
    at: Instant,
    bytes: Vec<u8>,
}

/// One transmission by the client, as the peer saw it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Sent {
    at: Instant,
    number: u32,
    kind: AccountingRecordType,
    t_flag: bool,
    end_to_end: u32,
}

type FateFn = Box<dyn FnMut(&Sent) -> Fate>;

/// Client + server + fake peer layer + fake clock.
struct Sim<'c, const N: usize> {
    now: Instant,
    client: AccountingClient<'c, N>,
    server: AccountingServer<'c, VecSink, 64>,
    fate: FateFn,
    latency: u64,
    timeout: u64,
    pending: Vec<(Instant, u64, Delivery)>,
    seq: u64,
    next_e2e: u32,
    next_hbh: u32,
    first_e2e: BTreeMap<u32, u32>,
    requests: Vec<Wire>,
    answers: Vec<Wire>,
    sent: Vec<Sent>,
    events: Vec<(Instant, AccountingEvent)>,
    steps: usize,
}

const STEP_BOUND: usize = 200_000;

impl<'c, const N: usize> Sim<'c, N> {
    fn new(
        cc: &'c AccountingConfig<'c>,
        sc: &'c AccountingServerConfig<'c>,
        info: CallInfo<'c>,
        start: Instant,
    ) -> Self {
        Sim {
            now: start,
            client: AccountingClient::new(cc, info),
            server: AccountingServer::new(sc, VecSink::default()),
            fate: Box::new(|_| Fate::Deliver),
            latency: 50,
            timeout: 10_000,
            pending: Vec::new(),
            seq: 0,
            next_e2e: 0x5000_0000,
            next_hbh: 1,
            first_e2e: BTreeMap::new(),
            requests: Vec::new(),
            answers: Vec::new(),
            sent: Vec::new(),
            events: Vec::new(),
            steps: 0,
        }
    }

    fn at(&mut self, secs: f64) -> Instant {
        Instant((secs * 1000.0) as u64)
    }

    fn schedule(&mut self, at: Instant, d: Delivery) {
        self.seq += 1;
        self.pending.push((at, self.seq, d));
    }

    /// Poll in the documented order after an input.
    fn pump(&mut self) {
        // RFC 6733 §9.4: one pending INTERIM at most, so a session never
        // stores more than START, INTERIM and STOP.
        assert!(
            self.client.unacknowledged() <= 3,
            "more than one pending interim"
        );
        while let Some(e) = self.client.poll_event() {
            self.events.push((self.now, e));
        }
        let mut buf = [0u8; 2048];
        while let Some(t) = self.client.poll_transmit(self.now, &mut buf) {
            self.steps += 1;
            assert!(self.steps < STEP_BOUND, "step bound");
            let t: Transmit = t.expect("ACR encodes");
            self.send(t, buf[..t.len].to_vec());
        }
        while let Some(e) = self.client.poll_event() {
            self.events.push((self.now, e));
        }
    }

    /// The fake peer's `send_request`, then the wire and the server.
    fn send(&mut self, t: Transmit, mut bytes: Vec<u8>) {
        if t.retransmission {
            set_retransmit_flag(&mut bytes);
        }
        let (h, _) = HeaderRepr::parse(&bytes).unwrap();
        let e2e = if h.flags.is_retransmit() {
            h.end_to_end
        } else {
            self.next_e2e += 1;
            self.next_e2e
        };
        let hbh = self.next_hbh;
        self.next_hbh += 1;
        bytes[12..16].copy_from_slice(&hbh.to_be_bytes());
        bytes[16..20].copy_from_slice(&e2e.to_be_bytes());
        assert!(self.client.handle_sent(t.record_number, e2e));
        let sent = Sent {
            at: self.now,
            number: t.record_number,
            kind: t.record_type,
            t_flag: h.flags.is_retransmit(),
            end_to_end: e2e,
        };
        self.sent.push(sent);
        self.first_e2e.entry(t.record_number).or_insert(e2e);
        self.requests.push(Wire {
            at: self.now,
            bytes: bytes.clone(),
        });
        let req = Message::parse_with(&bytes, &CreditControl).expect("ACR parses");
        req.validate(&CreditControl).expect("ACR validates");
        let fate = (self.fate)(&sent);
        if fate == Fate::LoseRequest {
            let at = Instant(self.now.0 + self.timeout);
            self.schedule(at, Delivery::Failed(t.record_number));
            return;
        }
        if fate == Fate::SinkFails {
            self.server.sink_mut().fail_next = 1;
        }
        let mut out = [0u8; 2048];
        let aca = self
            .server
            .handle_request(self.now, &req, &mut out)
            .expect("ACA encodes")
            .to_vec();
        self.server.sink_mut().fail_next = 0;
        self.answers.push(Wire {
            at: self.now,
            bytes: aca.clone(),
        });
        let m = Message::parse_with(&aca, &CreditControl).expect("ACA parses");
        m.validate(&CreditControl).expect("ACA validates");
        assert_eq!((m.hop_by_hop(), m.end_to_end()), (hbh, e2e));
        let lat = Instant(self.now.0 + self.latency);
        match fate {
            Fate::LoseAnswer => {
                let at = Instant(self.now.0 + self.timeout);
                self.schedule(at, Delivery::Failed(t.record_number));
            }
            Fate::DuplicateAnswer => {
                self.schedule(lat, Delivery::Answer(aca.clone()));
                self.schedule(Instant(lat.0 + 1), Delivery::Answer(aca));
            }
            _ => self.schedule(lat, Delivery::Answer(aca)),
        }
    }

    fn deliver(&mut self, d: Delivery) {
        match d {
            Delivery::Answer(bytes) => {
                let m = Message::parse_with(&bytes, &CreditControl).unwrap();
                let _ = self.client.handle_answer(self.now, &m);
            }
            Delivery::Failed(n) => {
                assert!(
                    self.client.handle_request_failed(self.now, n),
                    "the record of a failed request is in flight"
                );
            }
        }
    }

    /// Run every timer and delivery up to `t`, then set the clock to `t`.
    fn run_until(&mut self, t: Instant) {
        loop {
            self.steps += 1;
            assert!(self.steps < STEP_BOUND, "step bound: endless loop?");
            let net = self.pending.iter().map(|p| (p.0, p.1)).min();
            let timer = self.client.poll_timeout();
            let next = match (net.map(|n| n.0), timer) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => a.or(b).unwrap_or(Instant(u64::MAX)),
            };
            if next > t {
                break;
            }
            self.now = self.now.max(next);
            if let Some((at, seq)) = net.filter(|n| n.0 <= self.now) {
                let i = self
                    .pending
                    .iter()
                    .position(|p| p.0 == at && p.1 == seq)
                    .unwrap();
                let (_, _, d) = self.pending.remove(i);
                self.deliver(d);
            } else {
                self.client.handle_timeout(self.now);
            }
            self.pump();
        }
        self.now = self.now.max(t);
        self.client.handle_timeout(self.now);
        self.pump();
    }

    fn input(
        &mut self,
        f: impl FnOnce(&mut AccountingClient<'c, N>, Instant) -> Result<(), AccountingError>,
    ) -> Result<(), AccountingError> {
        let r = f(&mut self.client, self.now);
        self.pump();
        r
    }

    fn event_list(&self) -> Vec<AccountingEvent> {
        self.events.iter().map(|e| e.1).collect()
    }
}

// ---------------------------------------------------------------------------
// AVP assertions
// ---------------------------------------------------------------------------

fn s(v: &str) -> Vec<u8> {
    v.as_bytes().to_vec()
}
fn u(v: u32) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}
fn e(v: i32) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}
/// Event-Timestamp at `secs` after `Instant::ZERO`.
fn ts(secs: i64) -> Vec<u8> {
    u((UNIX0 + secs + NTP_OFFSET) as u32)
}

/// Every top-level AVP as (code, data); all vendor 0 with exactly the M flag.
fn avps(m: &Message<'_>) -> Vec<(u32, Vec<u8>)> {
    m.iter()
        .map(|a| {
            let a = a.unwrap();
            assert_eq!(a.flags().bits(), 0x40, "AVP {} flags", a.code());
            assert_eq!(a.vendor(), 0);
            (a.code(), a.data().to_vec())
        })
        .collect()
}

#[track_caller]
fn assert_avps(bytes: &[u8], want: &[(u32, Vec<u8>)]) {
    let m = Message::parse_with(bytes, &CreditControl).unwrap();
    m.validate(&CreditControl).unwrap();
    let got = avps(&m);
    let show = |l: &[(u32, Vec<u8>)]| {
        l.iter()
            .map(|(c, d)| format!("{c}={d:02x?}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(got, want, "\ngot:\n{}\nwant:\n{}", show(&got), show(want));
}

#[track_caller]
fn assert_acr_header(bytes: &[u8], t_flag: bool) {
    let (h, _) = HeaderRepr::parse(bytes).unwrap();
    assert_eq!(h.command_code, CommandCode::ACCOUNTING);
    assert_eq!(h.application_id, ApplicationId::BASE_ACCOUNTING);
    assert!(h.flags.is_request() && h.flags.is_proxiable() && !h.flags.is_error());
    assert_eq!(h.flags.is_retransmit(), t_flag);
}

/// The ACR fields every record of the call carries, before the
/// record-specific ones.
fn acr_head(kind: i32, number: u32) -> Vec<(u32, Vec<u8>)> {
    vec![
        (263, s(SID)),
        (264, s(CLIENT)),
        (296, s(REALM)),
        (283, s(REALM)),
        (480, e(kind)),
        (485, u(number)),
        (259, u(3)),
        (1, s("1001")),
        (293, s(SERVER)),
        (44, s(SID)),
    ]
}

fn sip_tail(status: Option<i32>, method: i32, duration_ms: Option<u32>) -> Vec<(u32, Vec<u8>)> {
    let mut v = vec![(6, e(15))];
    if let Some(st) = status {
        v.push((40, e(st)));
    }
    v.extend([
        (204, e(method)),
        (205, u(200)),
        (206, s("1928301774")),
        (207, s("a6c85cf")),
        (228, u(3)),
        (229, u(UNIX0 as u32)),
    ]);
    if let Some(ms) = duration_ms {
        v.push((227, u(ms.div_ceil(1000))));
        v.push((230, u(ms)));
    }
    v.push((225, s("callee:1002")));
    v
}

fn aca_avps(kind: i32, number: u32, rc: u32, extra: &[(u32, Vec<u8>)]) -> Vec<(u32, Vec<u8>)> {
    let mut v = vec![
        (263, s(SID)),
        (268, u(rc)),
        (264, s(SERVER)),
        (296, s(REALM)),
        (480, e(kind)),
        (485, u(number)),
        (259, u(3)),
        (44, s(SID)),
    ];
    v.extend_from_slice(extra);
    v
}

// ---------------------------------------------------------------------------
// The SCENARIOS.md accounting flow
// ---------------------------------------------------------------------------

/// Answer at 0 s, interims at 30 s and 60 s, hangup at 67 s.
fn scenario_flow() -> Sim<'static, 4> {
    let cc: &'static AccountingConfig<'static> = Box::leak(Box::new(client_config()));
    let sc: &'static AccountingServerConfig<'static> = Box::leak(Box::new(server_config()));
    let mut sim: Sim<'static, 4> = Sim::new(cc, sc, call_info(), Instant::ZERO);
    sim.input(|c, now| c.call_answered(now)).unwrap();
    let t = sim.at(67.0);
    sim.run_until(t);
    sim.input(|c, now| c.call_ended(now)).unwrap();
    let t = sim.at(120.0);
    sim.run_until(t);
    sim
}

#[test]
fn scenario_start_two_interims_stop() {
    let sim = scenario_flow();
    assert_eq!(sim.client.state(), ClientState::Ended);
    assert_eq!(sim.client.stops(), 1);

    // Four ACRs: at 0, 30, 60, 67 s, numbers 0..=3, none retransmitted.
    let times: Vec<u64> = sim.requests.iter().map(|w| w.at.0).collect();
    assert_eq!(times, [0, 30_000, 60_000, 67_000]);
    let kinds: Vec<(AccountingRecordType, u32, bool)> = sim
        .sent
        .iter()
        .map(|s| (s.kind, s.number, s.t_flag))
        .collect();
    assert_eq!(
        kinds,
        [
            (StartRecord, 0, false),
            (InterimRecord, 1, false),
            (InterimRecord, 2, false),
            (StopRecord, 3, false)
        ]
    );
    for w in &sim.requests {
        assert_acr_header(&w.bytes, false);
    }

    // START: type 2, number 0, our interval hint and policy.
    let mut start = acr_head(2, 0);
    start.extend([(85, u(30)), (483, e(2)), (55, ts(0))]);
    start.extend(sip_tail(Some(1), 1, None));
    assert_avps(&sim.requests[0].bytes, &start);

    // INTERIMs: type 3, numbers 1 and 2, cumulative duration.
    for (i, secs) in [(1u32, 30i64), (2, 60)] {
        let mut interim = acr_head(3, i);
        interim.push((55, ts(secs)));
        interim.extend(sip_tail(Some(3), 1, Some(secs as u32 * 1000)));
        assert_avps(&sim.requests[i as usize].bytes, &interim);
    }

    // STOP: type 4, number 3, BYE, 67 s.
    let mut stop = acr_head(4, 3);
    stop.push((55, ts(67)));
    stop.extend(sip_tail(Some(2), 8, Some(67_000)));
    assert_avps(&sim.requests[3].bytes, &stop);

    // ACAs echo Session-Id, type, number, Acct-Application-Id; 2001; the
    // server's interval in the answers to START and INTERIM.
    assert_eq!(sim.answers.len(), 4);
    for (i, (kind, extra)) in [(2, true), (3, true), (3, true), (4, false)]
        .into_iter()
        .enumerate()
    {
        let ex: Vec<(u32, Vec<u8>)> = if extra { vec![(85, u(30))] } else { vec![] };
        assert_avps(&sim.answers[i].bytes, &aca_avps(kind, i as u32, 2001, &ex));
        let (h, _) = HeaderRepr::parse(&sim.answers[i].bytes).unwrap();
        let (rh, _) = HeaderRepr::parse(&sim.requests[i].bytes).unwrap();
        assert!(!h.flags.is_request() && h.flags.is_proxiable() && !h.flags.is_retransmit());
        assert_eq!((h.hop_by_hop, h.end_to_end), (rh.hop_by_hop, rh.end_to_end));
    }

    // One stable Session-Id and Acct-Session-Id, numbers increasing by one.
    let sink = sim.server.sink();
    assert!(sink.anomalies.is_empty(), "{:?}", sink.anomalies);
    let got: Vec<(AccountingRecordType, u32)> = sink
        .records
        .iter()
        .map(|r| (r.record_type, r.number))
        .collect();
    assert_eq!(
        got,
        [
            (StartRecord, 0),
            (InterimRecord, 1),
            (InterimRecord, 2),
            (StopRecord, 3)
        ]
    );
    for r in &sink.records {
        assert_eq!(r.session_id, SID);
        assert_eq!(r.origin_host, CLIENT);
        assert_eq!(r.acct_session_id.as_deref(), Some(SID.as_bytes()));
        assert_eq!(r.user_name.as_deref(), Some("1001"));
        assert_eq!(r.from_tag.as_deref(), Some("1928301774"));
        assert_eq!(r.to_tag.as_deref(), Some("a6c85cf"));
        assert_eq!(r.created, Some(UNIX0 as u32));
        assert!(!r.retransmission);
    }
    assert_eq!(sink.records[3].duration, Some(67));
    assert_eq!(sink.records[3].ms_duration, Some(67_000));

    // Events: four acknowledgements then Finished; the server's interval
    // equals ours, so no change is reported.
    assert_eq!(
        sim.event_list(),
        [
            AccountingEvent::RecordAcknowledged {
                number: 0,
                record_type: StartRecord
            },
            AccountingEvent::RecordAcknowledged {
                number: 1,
                record_type: InterimRecord
            },
            AccountingEvent::RecordAcknowledged {
                number: 2,
                record_type: InterimRecord
            },
            AccountingEvent::RecordAcknowledged {
                number: 3,
                record_type: StopRecord
            },
            AccountingEvent::Finished,
        ]
    );
    assert_eq!(sim.client.poll_timeout(), None);
}

#[test]
fn event_record_flow() {
    let cc = client_config();
    let sc = server_config();
    let mut sim: Sim<'_, 4> = Sim::new(&cc, &sc, call_info(), Instant::from_secs(5));
    sim.input(|c, now| c.event(now)).unwrap();
    sim.run_until(Instant::from_secs(10));
    assert_eq!(sim.client.state(), ClientState::Ended);
    let mut want = acr_head(1, 0);
    want.extend([(483, e(2)), (55, ts(5))]);
    let mut tail = sip_tail(None, 1, None);
    // An EVENT's Sip-Call-Created is the record's own time.
    for a in &mut tail {
        if a.0 == 229 {
            a.1 = u(UNIX0 as u32 + 5);
        }
    }
    want.extend(tail);
    assert_avps(&sim.requests[0].bytes, &want);
    // No interval in the answer to an EVENT.
    assert_avps(&sim.answers[0].bytes, &aca_avps(1, 0, 2001, &[]));
    assert_eq!(
        sim.event_list(),
        [
            AccountingEvent::RecordAcknowledged {
                number: 0,
                record_type: EventRecord
            },
            AccountingEvent::Finished
        ]
    );
}

#[test]
fn server_interim_interval_wins() {
    let cc = client_config(); // 30 s
    let mut sc = server_config();
    sc.interim_interval = Some(20);
    let mut sim: Sim<'_, 4> = Sim::new(&cc, &sc, call_info(), Instant::ZERO);
    sim.input(|c, now| c.call_answered(now)).unwrap();
    sim.run_until(Instant::from_secs(67));
    sim.input(|c, now| c.call_ended(now)).unwrap();
    sim.run_until(Instant::from_secs(100));
    let times: Vec<(u64, AccountingRecordType, u32)> = sim
        .sent
        .iter()
        .map(|s| (s.at.0 / 1000, s.kind, s.number))
        .collect();
    assert_eq!(
        times,
        [
            (0, StartRecord, 0),
            (20, InterimRecord, 1),
            (40, InterimRecord, 2),
            (60, InterimRecord, 3),
            (67, StopRecord, 4)
        ]
    );
    assert_eq!(sim.client.interim_interval(), Some(20));
    assert_eq!(
        sim.events[1].1,
        AccountingEvent::InterimIntervalChanged { seconds: Some(20) }
    );
    // The START still carried our hint: 30.
    let m = Message::parse_with(&sim.requests[0].bytes, &CreditControl).unwrap();
    assert_eq!(m.get(&base::ACCT_INTERIM_INTERVAL).unwrap(), Some(30));

    // A server saying 0 turns interims off (RFC 6733 §9.8.2).
    sc.interim_interval = Some(0);
    let mut sim: Sim<'_, 4> = Sim::new(&cc, &sc, call_info(), Instant::ZERO);
    sim.input(|c, now| c.call_answered(now)).unwrap();
    sim.run_until(Instant::from_secs(67));
    sim.input(|c, now| c.call_ended(now)).unwrap();
    sim.run_until(Instant::from_secs(100));
    let kinds: Vec<AccountingRecordType> = sim.sent.iter().map(|s| s.kind).collect();
    assert_eq!(kinds, [StartRecord, StopRecord]);
    assert!(sim
        .event_list()
        .contains(&AccountingEvent::InterimIntervalChanged { seconds: None }));

    // No interval anywhere: no interims unless the server asks.
    let mut quiet = client_config();
    quiet.interim_interval = None;
    let mut sc = server_config();
    sc.interim_interval = Some(25);
    let mut sim: Sim<'_, 4> = Sim::new(&quiet, &sc, call_info(), Instant::ZERO);
    sim.input(|c, now| c.call_answered(now)).unwrap();
    sim.run_until(Instant::from_secs(60));
    let times: Vec<u64> = sim.sent.iter().map(|s| s.at.0 / 1000).collect();
    assert_eq!(times, [0, 25, 50]);
}

// ---------------------------------------------------------------------------
// Loss and retransmission
// ---------------------------------------------------------------------------

#[test]
fn lost_answers_are_retried_with_t_flag_until_answered() {
    let cc = client_config();
    let sc = server_config();
    let mut sim: Sim<'_, 4> = Sim::new(&cc, &sc, call_info(), Instant::ZERO);
    // START: answer lost twice, then delivered. INTERIM 1: request lost
    // once. STOP: answer duplicated.
    let mut seen: BTreeMap<u32, u32> = BTreeMap::new();
    sim.fate = Box::new(move |s: &Sent| {
        let n = seen.entry(s.number).or_insert(0);
        *n += 1;
        match (s.number, *n) {
            (0, 1 | 2) => Fate::LoseAnswer,
            (1, 1) => Fate::LoseRequest,
            (2, 1) => Fate::SinkFails,
            (3, _) => Fate::DuplicateAnswer,
            _ => Fate::Deliver,
        }
    });
    sim.input(|c, now| c.call_answered(now)).unwrap();
    sim.run_until(Instant::from_secs(67));
    sim.input(|c, now| c.call_ended(now)).unwrap();
    sim.run_until(Instant::from_secs(300));
    assert_eq!(sim.client.state(), ClientState::Ended);

    // START sent 3 times (T on the 2nd and 3rd, same End-to-End id).
    let starts: Vec<&Sent> = sim.sent.iter().filter(|s| s.number == 0).collect();
    assert_eq!(starts.len(), 3);
    assert_eq!(
        starts.iter().map(|s| s.t_flag).collect::<Vec<_>>(),
        [false, true, true]
    );
    assert!(starts.iter().all(|s| s.end_to_end == starts[0].end_to_end));
    // Timed out at 10 s, retried 5 s later: at 0, 15, 30.
    assert_eq!(
        starts.iter().map(|s| s.at.0).collect::<Vec<_>>(),
        [0, 15_000, 30_000]
    );
    for w in &sim.requests {
        let (h, _) = HeaderRepr::parse(&w.bytes).unwrap();
        let n = Message::parse(&w.bytes)
            .unwrap()
            .get(&base::ACCOUNTING_RECORD_NUMBER)
            .unwrap()
            .unwrap();
        assert_eq!(h.end_to_end, sim.first_e2e[&n]);
    }
    // No record sent twice without the T flag.
    let mut firsts = BTreeSet::new();
    for s in &sim.sent {
        if !s.t_flag {
            assert!(
                firsts.insert(s.number),
                "record {} sent twice without T",
                s.number
            );
        }
    }

    // The server stored each record once (the retransmissions of START were
    // answered as duplicates); record 2 after its 4002.
    let sink = sim.server.sink();
    let got: Vec<(u32, bool)> = sink
        .records
        .iter()
        .map(|r| (r.number, r.retransmission))
        .collect();
    assert_eq!(got, [(0, false), (1, true), (2, true), (3, false)]);
    assert_eq!(sim.server.stats().duplicates, 2);
    assert_eq!(sim.server.stats().sink_errors, 1);
    assert!(sink.anomalies.is_empty(), "{:?}", sink.anomalies);
    // The 4002 answer.
    let out_of_space = sim
        .answers
        .iter()
        .find(|w| {
            Message::parse(&w.bytes)
                .unwrap()
                .get(&base::RESULT_CODE)
                .unwrap()
                == Some(4002)
        })
        .expect("a 4002 answer");
    assert_avps(&out_of_space.bytes, &aca_avps(3, 2, 4002, &[]));

    // Every record acknowledged exactly once, nothing lost.
    let acked: Vec<u32> = sim
        .event_list()
        .iter()
        .filter_map(|e| match e {
            AccountingEvent::RecordAcknowledged { number, .. } => Some(*number),
            AccountingEvent::RecordLost { .. } | AccountingEvent::StopService => panic!("{e:?}"),
            _ => None,
        })
        .collect();
    assert_eq!(acked, [0, 1, 2, 3]);
}

#[test]
fn retransmission_bytes_differ_only_in_flags_and_ids() {
    let cc = client_config();
    let sc = server_config();
    let mut sim: Sim<'_, 4> = Sim::new(&cc, &sc, call_info(), Instant::ZERO);
    let mut first = true;
    sim.fate = Box::new(move |_| {
        if std::mem::take(&mut first) {
            Fate::LoseRequest
        } else {
            Fate::Deliver
        }
    });
    sim.input(|c, now| c.call_answered(now)).unwrap();
    sim.run_until(Instant::from_secs(20));
    assert_eq!(sim.requests.len(), 2);
    let (a, b) = (&sim.requests[0].bytes, &sim.requests[1].bytes);
    assert_eq!(a.len(), b.len());
    assert_eq!(a[4] | 0x10, b[4]);
    assert_eq!(&a[16..20], &b[16..20], "End-to-End id kept");
    assert_eq!(&a[20..], &b[20..], "same AVPs");
    assert_acr_header(b, true);
}

// ---------------------------------------------------------------------------
// Store full
// ---------------------------------------------------------------------------

#[test]
fn store_full_refuses_and_loses_nothing() {
    let cc = client_config();
    let sc = server_config();
    // Two slots: START (undeliverable) and one INTERIM.
    let mut sim: Sim<'_, 2> = Sim::new(&cc, &sc, call_info(), Instant::ZERO);
    sim.fate = Box::new(|s: &Sent| {
        if s.at < Instant::from_secs(100) {
            Fate::LoseRequest
        } else {
            Fate::Deliver
        }
    });
    sim.input(|c, now| c.call_answered(now)).unwrap();
    sim.run_until(Instant::from_secs(70));
    assert!(sim.client.stored_records().eq([0, 1]));
    // The unsent interim was overwritten at 60 s, not duplicated.
    assert_eq!(sim.client.next_record_number(), 2);
    assert_eq!(
        sim.input(|c, now| c.call_ended(now)),
        Err(AccountingError::StoreFull)
    );
    assert_eq!(sim.client.stops(), 0);
    assert!(sim.client.stored_records().eq([0, 1]));
    assert_eq!(sim.client.state(), ClientState::PendingStart);
    // GRANT_AND_STORE: nothing reported lost, no stop.
    assert!(sim.events.is_empty(), "{:?}", sim.events);

    // The server comes back at 100 s; once a record is settled the STOP fits.
    let mut ended_at = None;
    for t in 71..400 {
        sim.run_until(Instant::from_secs(t));
        if ended_at.is_none() && sim.input(|c, now| c.call_ended(now)).is_ok() {
            ended_at = Some(t);
        }
    }
    assert!(ended_at.unwrap() >= 100);
    assert_eq!(sim.client.state(), ClientState::Ended);
    let got: Vec<(AccountingRecordType, u32)> = sim
        .server
        .sink()
        .records
        .iter()
        .map(|r| (r.record_type, r.number))
        .collect();
    assert_eq!(got, [(StartRecord, 0), (InterimRecord, 1), (StopRecord, 2)]);
    // The interim carries the time of its latest overwrite: due at 30, 60
    // and 90 s while START was stuck, sent only after START at 105 s.
    assert_eq!(sim.server.sink().records[1].duration, Some(90));
}

#[test]
fn interim_with_no_room_follows_the_policy() {
    for (policy, stop) in [
        (GrantAndStore, true),
        (DeliverAndGrant, true),
        (GrantAndLose, false),
    ] {
        let mut cc = client_config();
        cc.realtime_required = policy;
        cc.max_attempts = 100;
        let sc = server_config();
        let mut sim: Sim<'_, 1> = Sim::new(&cc, &sc, call_info(), Instant::ZERO);
        sim.fate = Box::new(|_| Fate::LoseRequest);
        sim.input(|c, now| c.call_answered(now)).unwrap();
        sim.run_until(Instant::from_secs(31));
        assert_eq!(sim.client.skipped_interims(), 1, "{policy:?}");
        assert!(sim.client.stored_records().eq([0]));
        assert_eq!(
            sim.event_list().contains(&AccountingEvent::StopService),
            stop,
            "{policy:?}"
        );
        assert_eq!(sim.client.service_stopped(), stop);
    }
}

// ---------------------------------------------------------------------------
// Accounting-Realtime-Required (RFC 6733 §9.8.7)
// ---------------------------------------------------------------------------

/// Server unreachable until `up_at`; answer at 0, hang up at 67 s.
fn outage(policy: AccountingRealtimeRequired, up_at: u64) -> Sim<'static, 4> {
    let mut cc = client_config();
    cc.realtime_required = policy;
    cc.max_attempts = 3;
    cc.retry_interval = Duration::from_secs(5);
    let cc: &'static AccountingConfig<'static> = Box::leak(Box::new(cc));
    let sc: &'static AccountingServerConfig<'static> = Box::leak(Box::new(server_config()));
    let mut sim: Sim<'static, 4> = Sim::new(cc, sc, call_info(), Instant::ZERO);
    sim.timeout = 5_000;
    sim.fate = Box::new(move |s: &Sent| {
        if s.at < Instant::from_secs(up_at) {
            Fate::LoseRequest
        } else {
            Fate::Deliver
        }
    });
    sim.input(|c, now| c.call_answered(now)).unwrap();
    sim.run_until(Instant::from_secs(67));
    let _ = sim.input(|c, now| c.call_ended(now));
    sim.run_until(Instant::from_secs(1000));
    sim
}

#[test]
fn deliver_and_grant_stops_the_service_and_keeps_the_records() {
    let sim = outage(DeliverAndGrant, 200);
    let ev = sim.event_list();
    // Third failure of START: 0 → fail 5 → resend 10 → fail 15 → resend 20
    // → fail 25: StopService at 25 s, once.
    let stops: Vec<Instant> = sim
        .events
        .iter()
        .filter(|e| e.1 == AccountingEvent::StopService)
        .map(|e| e.0)
        .collect();
    assert_eq!(stops, [Instant::from_secs(25)]);
    assert!(!ev
        .iter()
        .any(|e| matches!(e, AccountingEvent::RecordLost { .. })));
    // Everything arrives once the server is back.
    let got: Vec<u32> = sim.server.sink().records.iter().map(|r| r.number).collect();
    assert_eq!(got, [0, 1, 2]);
    assert_eq!(sim.client.state(), ClientState::Ended);
    // Only the unsent interim was overwritten: one INTERIM, numbered 1.
    assert_eq!(sim.server.sink().records[1].record_type, InterimRecord);
}

#[test]
fn grant_and_store_keeps_retrying() {
    let sim = outage(GrantAndStore, 500);
    let ev = sim.event_list();
    assert!(!ev.contains(&AccountingEvent::StopService));
    assert!(!ev
        .iter()
        .any(|e| matches!(e, AccountingEvent::RecordLost { .. })));
    // START was tried many times before the server came back.
    let tries = sim.sent.iter().filter(|s| s.number == 0).count();
    assert!(tries > 40, "{tries}");
    assert!(sim
        .sent
        .iter()
        .filter(|s| s.number == 0)
        .skip(1)
        .all(|s| s.t_flag));
    let got: Vec<u32> = sim.server.sink().records.iter().map(|r| r.number).collect();
    assert_eq!(got, [0, 1, 2]);
    assert_eq!(sim.client.state(), ClientState::Ended);
}

#[test]
fn grant_and_lose_reports_every_lost_record() {
    let sim = outage(GrantAndLose, 60);
    let ev = sim.event_list();
    assert!(!ev.contains(&AccountingEvent::StopService));
    // START: sent at 0, 10, 20 s, given up at 25 s. INTERIM 1 (30 s): sent
    // at 30, 40, 50 s, given up at 55 s. The server is back at 60 s for
    // INTERIM 2 and the STOP.
    let lost: Vec<u32> = ev
        .iter()
        .filter_map(|e| match e {
            AccountingEvent::RecordLost { number } => Some(*number),
            _ => None,
        })
        .collect();
    let acked: Vec<u32> = ev
        .iter()
        .filter_map(|e| match e {
            AccountingEvent::RecordAcknowledged { number, .. } => Some(*number),
            _ => None,
        })
        .collect();
    assert_eq!(lost, [0, 1]);
    assert_eq!(acked, [2, 3]);
    let mut all: Vec<u32> = lost.iter().chain(&acked).copied().collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (0..sim.client.next_record_number()).collect::<Vec<_>>()
    );
    assert_eq!(sim.client.state(), ClientState::Ended);
    // The server sees the gap.
    let sink = sim.server.sink();
    let stored: Vec<u32> = sink.records.iter().map(|r| r.number).collect();
    assert_eq!(stored, acked);
    assert_eq!(
        sink.anomalies,
        [(SID.to_string(), Anomaly::Missing { first: 0, last: 1 })]
    );
}

#[test]
fn server_policy_and_rejections() {
    // The server tells the client GRANT_AND_LOSE.
    let cc = client_config();
    let mut sc = server_config();
    sc.realtime_required = Some(GrantAndLose);
    let mut sim: Sim<'_, 4> = Sim::new(&cc, &sc, call_info(), Instant::ZERO);
    sim.input(|c, now| c.call_answered(now)).unwrap();
    sim.run_until(Instant::from_secs(1));
    assert_eq!(sim.client.realtime_required(), GrantAndLose);
    assert!(sim
        .event_list()
        .contains(&AccountingEvent::RealtimeRequiredChanged(GrantAndLose)));
    assert_avps(
        &sim.answers[0].bytes,
        &aca_avps(2, 0, 2001, &[(85, u(30)), (483, e(3))]),
    );

    // A permanent failure: reported, not resent; GRANT_AND_STORE stops.
    let mut c: AccountingClient<'_, 4> = AccountingClient::new(&cc, call_info());
    c.call_answered(Instant::ZERO).unwrap();
    let mut buf = [0u8; 1024];
    let t = c.poll_transmit(Instant::ZERO, &mut buf).unwrap().unwrap();
    let ans = answer_for(&buf[..t.len], 5012, true);
    assert!(c.handle_answer(Instant::ZERO, &Message::parse(&ans).unwrap()));
    assert_eq!(
        drain(&mut c),
        [
            AccountingEvent::RecordRejected {
                number: 0,
                result_code: ResultCode(5012)
            },
            AccountingEvent::StopService
        ]
    );
    assert_eq!(c.state(), ClientState::Open);
    assert!(c.poll_transmit(Instant::from_secs(100), &mut buf).is_none());
}

// ---------------------------------------------------------------------------
// Server specifics
// ---------------------------------------------------------------------------

/// An ACR for `SID` with the given number/type, from `host`.
fn acr(host: &str, kind: AccountingRecordType, number: u32, t_flag: bool) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let mut h = HeaderRepr::request(
        CommandCode::ACCOUNTING,
        ApplicationId::BASE_ACCOUNTING,
        7,
        9,
    )
    .proxiable(true);
    if t_flag {
        h.flags = h.flags.with(diameter_core::CommandFlags::RETRANSMIT, true);
    }
    let mut b = MessageBuilder::new(&mut buf, h);
    b.put(&base::SESSION_ID, SID)
        .put(&base::ORIGIN_HOST, host)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::DESTINATION_REALM, REALM)
        .put(&base::ACCOUNTING_RECORD_TYPE, kind)
        .put(&base::ACCOUNTING_RECORD_NUMBER, number);
    b.finish().unwrap().to_vec()
}

fn serve<const N: usize>(s: &mut AccountingServer<'_, VecSink, N>, req: &[u8]) -> Vec<u8> {
    let m = Message::parse_with(req, &CreditControl).unwrap();
    let mut out = [0u8; 1024];
    let a = s
        .handle_request(Instant::ZERO, &m, &mut out)
        .unwrap()
        .to_vec();
    Message::parse_with(&a, &CreditControl).unwrap();
    a
}

fn rc(aca: &[u8]) -> u32 {
    Message::parse(aca)
        .unwrap()
        .get(&base::RESULT_CODE)
        .unwrap()
        .unwrap()
}

#[test]
fn server_detects_duplicates_gaps_and_disorder() {
    let sc = AccountingServerConfig::new(SERVER, REALM);
    let mut s: AccountingServer<'_, VecSink, 4> = AccountingServer::new(&sc, VecSink::default());
    let h = CLIENT;
    assert_eq!(rc(&serve(&mut s, &acr(h, StartRecord, 0, false))), 2001);
    // T flag + already stored: answered, not stored twice.
    assert_eq!(rc(&serve(&mut s, &acr(h, StartRecord, 0, true))), 2001);
    // Same without T: answered, not stored, reported.
    assert_eq!(rc(&serve(&mut s, &acr(h, StartRecord, 0, false))), 2001);
    // A gap: 1 and 2 missing.
    assert_eq!(rc(&serve(&mut s, &acr(h, InterimRecord, 3, false))), 2001);
    // Late: 2 arrives after 3.
    assert_eq!(rc(&serve(&mut s, &acr(h, InterimRecord, 2, false))), 2001);
    // STOP, then something after it.
    assert_eq!(rc(&serve(&mut s, &acr(h, StopRecord, 4, false))), 2001);
    assert_eq!(rc(&serve(&mut s, &acr(h, InterimRecord, 5, false))), 2001);
    // The same Session-Id from another host is another session.
    assert_eq!(
        rc(&serve(
            &mut s,
            &acr("other.diameter.test", StartRecord, 0, false)
        )),
        2001
    );
    // Sink failure: 4002, then the retransmission is stored.
    s.sink_mut().fail_next = 1;
    let a = serve(&mut s, &acr("third.diameter.test", EventRecord, 0, false));
    assert_eq!(rc(&a), 4002);
    assert_eq!(
        rc(&serve(
            &mut s,
            &acr("third.diameter.test", EventRecord, 0, true)
        )),
        2001
    );

    let got: Vec<(String, u32)> = s
        .sink()
        .records
        .iter()
        .map(|r| (r.origin_host.clone(), r.number))
        .collect();
    assert_eq!(
        got,
        [
            (CLIENT.into(), 0),
            (CLIENT.into(), 3),
            (CLIENT.into(), 2),
            (CLIENT.into(), 4),
            (CLIENT.into(), 5),
            ("other.diameter.test".into(), 0),
            ("third.diameter.test".into(), 0),
        ]
    );
    let anomalies: Vec<Anomaly> = s.sink().anomalies.iter().map(|a| a.1).collect();
    assert_eq!(
        anomalies,
        [
            Anomaly::Duplicate { number: 0 },
            Anomaly::Missing { first: 1, last: 2 },
            Anomaly::OutOfOrder {
                number: 2,
                highest: 3
            },
            Anomaly::AfterEnd { number: 5 },
        ]
    );
    let st = s.stats();
    assert_eq!(
        (st.stored, st.duplicates, st.sink_errors, st.anomalies),
        (7, 2, 1, 4)
    );
    assert_eq!(s.sessions(), 3);

    // A full table pushes out ended sessions first.
    let _ = serve(&mut s, &acr("fourth.diameter.test", StartRecord, 0, false));
    let _ = serve(&mut s, &acr("fifth.diameter.test", StartRecord, 0, false));
    assert_eq!(s.sessions(), 4);
    assert_eq!(s.stats().evicted_active, 0);
    let _ = serve(&mut s, &acr("sixth.diameter.test", StartRecord, 0, false));
    assert_eq!(s.stats().evicted_active, 0);
    // No ended session left: the least recently seen running one goes.
    let _ = serve(&mut s, &acr("seventh.diameter.test", StartRecord, 0, false));
    assert_eq!(s.stats().evicted_active, 1);
    assert_eq!(s.sessions(), 4);
}

#[test]
fn server_rejects_what_is_not_a_valid_acr() {
    let sc = AccountingServerConfig::new(SERVER, REALM);
    let mut s: AccountingServer<'_, VecSink, 4> = AccountingServer::new(&sc, VecSink::default());
    // Missing Accounting-Record-Number: 5005 with Failed-AVP, the type echoed.
    let mut buf = [0u8; 512];
    let h = HeaderRepr::request(
        CommandCode::ACCOUNTING,
        ApplicationId::BASE_ACCOUNTING,
        1,
        2,
    )
    .proxiable(true);
    let mut b = MessageBuilder::new(&mut buf, h);
    b.put(&base::SESSION_ID, SID)
        .put(&base::ORIGIN_HOST, CLIENT)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::DESTINATION_REALM, REALM)
        .put(&base::ACCOUNTING_RECORD_TYPE, StartRecord);
    let req = b.finish().unwrap().to_vec();
    let a = serve(&mut s, &req);
    let m = Message::parse_with(&a, &CreditControl).unwrap();
    assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(5005));
    assert_eq!(
        m.get(&base::ACCOUNTING_RECORD_TYPE).unwrap(),
        Some(StartRecord)
    );
    assert!(m.get(&base::FAILED_AVP).unwrap().is_some());
    // Another command: 3001 with the E bit.
    let mut buf = [0u8; 512];
    let h = HeaderRepr::request(
        CommandCode::CREDIT_CONTROL,
        ApplicationId::CREDIT_CONTROL,
        1,
        2,
    )
    .proxiable(true);
    let mut b = MessageBuilder::new(&mut buf, h);
    b.put(&base::SESSION_ID, SID)
        .put(&base::ORIGIN_HOST, CLIENT);
    let req = b.finish().unwrap().to_vec();
    let a = serve(&mut s, &req);
    let m = Message::parse(&a).unwrap();
    assert!(m.flags().is_error());
    assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(3001));
    assert!(s.sink().records.is_empty());
    assert_eq!(s.stats().rejected, 2);
    // Too small a buffer: an error, nothing stored; then it is.
    let req = acr(CLIENT, StartRecord, 0, false);
    let m = Message::parse_with(&req, &CreditControl).unwrap();
    let mut tiny = [0u8; 40];
    assert!(s.handle_request(Instant::ZERO, &m, &mut tiny).is_err());
    assert!(s.sink().records.is_empty());
    assert_eq!(rc(&serve(&mut s, &req)), 2001);
    assert_eq!(s.sink().records.len(), 1);
}

// ---------------------------------------------------------------------------
// The transition table
// ---------------------------------------------------------------------------

/// Inputs of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    CallAnswered,
    CallEnded,
    Event,
    /// `handle_timeout` one interim interval (30 s) later.
    InterimTimer,
    /// ACA 2001 for the record in flight (or record 0 if none).
    AnswerSuccess,
    /// ACA 4002.
    AnswerOutOfSpace,
    /// ACA 5012.
    AnswerRejected,
    /// The peer reports a failure; attempts remain.
    RequestFailed,
    /// The last allowed attempt failed, GRANT_AND_STORE.
    DeliveryFailedStore,
    /// The last allowed attempt failed, GRANT_AND_LOSE.
    DeliveryFailedLose,
    /// The last allowed attempt failed, DELIVER_AND_GRANT.
    DeliveryFailedDeliver,
}

const INPUTS: [Input; 11] = [
    Input::CallAnswered,
    Input::CallEnded,
    Input::Event,
    Input::InterimTimer,
    Input::AnswerSuccess,
    Input::AnswerOutOfSpace,
    Input::AnswerRejected,
    Input::RequestFailed,
    Input::DeliveryFailedStore,
    Input::DeliveryFailedLose,
    Input::DeliveryFailedDeliver,
];

const STATES: [ClientState; 7] = [
    ClientState::Idle,
    ClientState::PendingStart,
    ClientState::Open,
    ClientState::PendingInterim,
    ClientState::PendingStop,
    ClientState::PendingEvent,
    ClientState::Ended,
];

/// The immediate result of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum R {
    Ok,
    Err(AccountingError),
    /// `handle_answer` / `handle_request_failed` returned this.
    Matched(bool),
    /// `handle_timeout` returns nothing.
    Unit,
}

type Row = (
    ClientState,
    Input,
    R,
    ClientState,
    &'static [AccountingEvent],
);

const fn ack(number: u32, record_type: AccountingRecordType) -> AccountingEvent {
    AccountingEvent::RecordAcknowledged {
        number,
        record_type,
    }
}
const fn rej(number: u32) -> AccountingEvent {
    AccountingEvent::RecordRejected {
        number,
        result_code: ResultCode(5012),
    }
}
const fn lost(number: u32) -> AccountingEvent {
    AccountingEvent::RecordLost { number }
}
const STOP: AccountingEvent = AccountingEvent::StopService;
const FIN: AccountingEvent = AccountingEvent::Finished;
const fn wrong(s: ClientState) -> R {
    R::Err(AccountingError::WrongState(s))
}

/// Every (state, input) pair and its outcome: result, next state, events.
/// In the Pending states the record in flight is: START 0, INTERIM 1 (after
/// START 0 was acknowledged), STOP 1 (after START 0), EVENT 0.
#[rustfmt::skip]
const TABLE: &[Row] = {
    use ClientState::*;
    use Input::*;
    &[
        (Idle, CallAnswered, R::Ok, PendingStart, &[]),
        (Idle, CallEnded, wrong(Idle), Idle, &[]),
        (Idle, Event, R::Ok, PendingEvent, &[]),
        (Idle, InterimTimer, R::Unit, Idle, &[]),
        (Idle, AnswerSuccess, R::Matched(false), Idle, &[]),
        (Idle, AnswerOutOfSpace, R::Matched(false), Idle, &[]),
        (Idle, AnswerRejected, R::Matched(false), Idle, &[]),
        (Idle, RequestFailed, R::Matched(false), Idle, &[]),
        (Idle, DeliveryFailedStore, R::Matched(false), Idle, &[]),
        (Idle, DeliveryFailedLose, R::Matched(false), Idle, &[]),
        (Idle, DeliveryFailedDeliver, R::Matched(false), Idle, &[]),

        (PendingStart, CallAnswered, wrong(PendingStart), PendingStart, &[]),
        (PendingStart, CallEnded, R::Ok, PendingStop, &[]),
        (PendingStart, Event, wrong(PendingStart), PendingStart, &[]),
        (PendingStart, InterimTimer, R::Unit, PendingStart, &[]),
        (PendingStart, AnswerSuccess, R::Matched(true), Open, &[ack(0, StartRecord)]),
        (PendingStart, AnswerOutOfSpace, R::Matched(true), PendingStart, &[]),
        (PendingStart, AnswerRejected, R::Matched(true), Open, &[rej(0), STOP]),
        (PendingStart, RequestFailed, R::Matched(true), PendingStart, &[]),
        (PendingStart, DeliveryFailedStore, R::Matched(true), PendingStart, &[]),
        (PendingStart, DeliveryFailedLose, R::Matched(true), Open, &[lost(0)]),
        (PendingStart, DeliveryFailedDeliver, R::Matched(true), PendingStart, &[STOP]),

        (Open, CallAnswered, wrong(Open), Open, &[]),
        (Open, CallEnded, R::Ok, PendingStop, &[]),
        (Open, Event, wrong(Open), Open, &[]),
        (Open, InterimTimer, R::Unit, PendingInterim, &[]),
        (Open, AnswerSuccess, R::Matched(false), Open, &[]),
        (Open, AnswerOutOfSpace, R::Matched(false), Open, &[]),
        (Open, AnswerRejected, R::Matched(false), Open, &[]),
        (Open, RequestFailed, R::Matched(false), Open, &[]),
        (Open, DeliveryFailedStore, R::Matched(false), Open, &[]),
        (Open, DeliveryFailedLose, R::Matched(false), Open, &[]),
        (Open, DeliveryFailedDeliver, R::Matched(false), Open, &[]),

        (PendingInterim, CallAnswered, wrong(PendingInterim), PendingInterim, &[]),
        (PendingInterim, CallEnded, R::Ok, PendingStop, &[]),
        (PendingInterim, Event, wrong(PendingInterim), PendingInterim, &[]),
        (PendingInterim, InterimTimer, R::Unit, PendingInterim, &[]),
        (PendingInterim, AnswerSuccess, R::Matched(true), Open, &[ack(1, InterimRecord)]),
        (PendingInterim, AnswerOutOfSpace, R::Matched(true), PendingInterim, &[]),
        (PendingInterim, AnswerRejected, R::Matched(true), Open, &[rej(1), STOP]),
        (PendingInterim, RequestFailed, R::Matched(true), PendingInterim, &[]),
        (PendingInterim, DeliveryFailedStore, R::Matched(true), PendingInterim, &[]),
        (PendingInterim, DeliveryFailedLose, R::Matched(true), Open, &[lost(1)]),
        (PendingInterim, DeliveryFailedDeliver, R::Matched(true), PendingInterim, &[STOP]),

        (PendingStop, CallAnswered, wrong(PendingStop), PendingStop, &[]),
        (PendingStop, CallEnded, wrong(PendingStop), PendingStop, &[]),
        (PendingStop, Event, wrong(PendingStop), PendingStop, &[]),
        (PendingStop, InterimTimer, R::Unit, PendingStop, &[]),
        (PendingStop, AnswerSuccess, R::Matched(true), Ended, &[ack(1, StopRecord), FIN]),
        (PendingStop, AnswerOutOfSpace, R::Matched(true), PendingStop, &[]),
        (PendingStop, AnswerRejected, R::Matched(true), Ended, &[rej(1), STOP, FIN]),
        (PendingStop, RequestFailed, R::Matched(true), PendingStop, &[]),
        (PendingStop, DeliveryFailedStore, R::Matched(true), PendingStop, &[]),
        (PendingStop, DeliveryFailedLose, R::Matched(true), Ended, &[lost(1), FIN]),
        (PendingStop, DeliveryFailedDeliver, R::Matched(true), PendingStop, &[STOP]),

        (PendingEvent, CallAnswered, wrong(PendingEvent), PendingEvent, &[]),
        (PendingEvent, CallEnded, wrong(PendingEvent), PendingEvent, &[]),
        (PendingEvent, Event, wrong(PendingEvent), PendingEvent, &[]),
        (PendingEvent, InterimTimer, R::Unit, PendingEvent, &[]),
        (PendingEvent, AnswerSuccess, R::Matched(true), Ended, &[ack(0, EventRecord), FIN]),
        (PendingEvent, AnswerOutOfSpace, R::Matched(true), PendingEvent, &[]),
        (PendingEvent, AnswerRejected, R::Matched(true), Ended, &[rej(0), STOP, FIN]),
        (PendingEvent, RequestFailed, R::Matched(true), PendingEvent, &[]),
        (PendingEvent, DeliveryFailedStore, R::Matched(true), PendingEvent, &[]),
        (PendingEvent, DeliveryFailedLose, R::Matched(true), Ended, &[lost(0), FIN]),
        (PendingEvent, DeliveryFailedDeliver, R::Matched(true), PendingEvent, &[STOP]),

        (Ended, CallAnswered, wrong(Ended), Ended, &[]),
        (Ended, CallEnded, wrong(Ended), Ended, &[]),
        (Ended, Event, wrong(Ended), Ended, &[]),
        (Ended, InterimTimer, R::Unit, Ended, &[]),
        (Ended, AnswerSuccess, R::Matched(false), Ended, &[]),
        (Ended, AnswerOutOfSpace, R::Matched(false), Ended, &[]),
        (Ended, AnswerRejected, R::Matched(false), Ended, &[]),
        (Ended, RequestFailed, R::Matched(false), Ended, &[]),
        (Ended, DeliveryFailedStore, R::Matched(false), Ended, &[]),
        (Ended, DeliveryFailedLose, R::Matched(false), Ended, &[]),
        (Ended, DeliveryFailedDeliver, R::Matched(false), Ended, &[]),
    ]
};

/// An answer to the ACR `req` with Result-Code `rc` (E bit for 3xxx).
fn answer_for(req: &[u8], rc: u32, with_record: bool) -> Vec<u8> {
    let m = Message::parse(req).unwrap();
    let mut out = [0u8; 512];
    let mut b = MessageBuilder::answer_to(&mut out, &m);
    b.put(&base::RESULT_CODE, rc)
        .put(&base::ORIGIN_HOST, SERVER)
        .put(&base::ORIGIN_REALM, REALM);
    if with_record {
        b.put(
            &base::ACCOUNTING_RECORD_TYPE,
            m.get(&base::ACCOUNTING_RECORD_TYPE).unwrap().unwrap(),
        )
        .put(
            &base::ACCOUNTING_RECORD_NUMBER,
            m.get(&base::ACCOUNTING_RECORD_NUMBER).unwrap().unwrap(),
        );
    }
    b.finish().unwrap().to_vec()
}

fn drain<const N: usize>(c: &mut AccountingClient<'_, N>) -> Vec<AccountingEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

struct Placed<'c> {
    client: AccountingClient<'c, 4>,
    /// The ACR in flight, or a template for record 0.
    request: Vec<u8>,
    number: u32,
    now: Instant,
}

/// A client driven into `state`.
fn place<'c>(config: &'c AccountingConfig<'c>, state: ClientState) -> Placed<'c> {
    let mut c: AccountingClient<'c, 4> = AccountingClient::new(config, call_info());
    let mut buf = [0u8; 1024];
    let mut send = |c: &mut AccountingClient<'c, 4>, now: Instant| -> Vec<u8> {
        let t = c.poll_transmit(now, &mut buf).unwrap().unwrap();
        buf[..t.len].to_vec()
    };
    let ack_head = |c: &mut AccountingClient<'c, 4>, req: &[u8]| {
        let a = answer_for(req, 2001, true);
        assert!(c.handle_answer(Instant::ZERO, &Message::parse(&a).unwrap()));
    };
    let mut now = Instant::ZERO;
    let request = match state {
        ClientState::Idle => acr(CLIENT, StartRecord, 0, false),
        ClientState::PendingStart => {
            c.call_answered(now).unwrap();
            send(&mut c, now)
        }
        ClientState::Open => {
            c.call_answered(now).unwrap();
            let r = send(&mut c, now);
            ack_head(&mut c, &r);
            r
        }
        ClientState::PendingInterim => {
            c.call_answered(now).unwrap();
            let r = send(&mut c, now);
            ack_head(&mut c, &r);
            now = Instant::from_secs(30);
            c.handle_timeout(now);
            send(&mut c, now)
        }
        ClientState::PendingStop => {
            c.call_answered(now).unwrap();
            let r = send(&mut c, now);
            ack_head(&mut c, &r);
            now = Instant::from_secs(10);
            c.call_ended(now).unwrap();
            send(&mut c, now)
        }
        ClientState::PendingEvent => {
            c.event(now).unwrap();
            send(&mut c, now)
        }
        ClientState::Ended => {
            c.event(now).unwrap();
            let r = send(&mut c, now);
            ack_head(&mut c, &r);
            r
        }
    };
    assert_eq!(c.state(), state, "placing");
    let _ = drain(&mut c);
    let number = Message::parse(&request)
        .unwrap()
        .get(&base::ACCOUNTING_RECORD_NUMBER)
        .unwrap()
        .unwrap();
    Placed {
        client: c,
        request,
        number,
        now,
    }
}

fn config_for(input: Input) -> AccountingConfig<'static> {
    let mut c = client_config();
    c.realtime_required = GrantAndStore;
    c.max_attempts = 3;
    match input {
        Input::DeliveryFailedStore => c.max_attempts = 1,
        Input::DeliveryFailedLose => {
            c.max_attempts = 1;
            c.realtime_required = GrantAndLose;
        }
        Input::DeliveryFailedDeliver => {
            c.max_attempts = 1;
            c.realtime_required = DeliverAndGrant;
        }
        _ => {}
    }
    c
}

fn apply(p: &mut Placed<'_>, input: Input) -> R {
    let c = &mut p.client;
    let now = p.now;
    let answer = |rc: u32| answer_for(&p.request, rc, true);
    match input {
        Input::CallAnswered => c.call_answered(now).map_or_else(R::Err, |()| R::Ok),
        Input::CallEnded => c.call_ended(now).map_or_else(R::Err, |()| R::Ok),
        Input::Event => c.event(now).map_or_else(R::Err, |()| R::Ok),
        Input::InterimTimer => {
            c.handle_timeout(Instant(now.0 + 30_000));
            R::Unit
        }
        Input::AnswerSuccess => {
            R::Matched(c.handle_answer(now, &Message::parse(&answer(2001)).unwrap()))
        }
        Input::AnswerOutOfSpace => {
            R::Matched(c.handle_answer(now, &Message::parse(&answer(4002)).unwrap()))
        }
        Input::AnswerRejected => {
            R::Matched(c.handle_answer(now, &Message::parse(&answer(5012)).unwrap()))
        }
        Input::RequestFailed
        | Input::DeliveryFailedStore
        | Input::DeliveryFailedLose
        | Input::DeliveryFailedDeliver => R::Matched(c.handle_request_failed(now, p.number)),
    }
}

#[test]
fn transition_table_is_complete_and_holds() {
    assert_eq!(TABLE.len(), STATES.len() * INPUTS.len());
    for state in STATES {
        for input in INPUTS {
            let rows: Vec<&Row> = TABLE
                .iter()
                .filter(|r| r.0 == state && r.1 == input)
                .collect();
            assert_eq!(
                rows.len(),
                1,
                "({state:?}, {input:?}) must have exactly one row"
            );
            let (_, _, want_r, want_state, want_events) = *rows[0];
            let config = config_for(input);
            let mut p = place(&config, state);
            let r = apply(&mut p, input);
            assert_eq!(r, want_r, "({state:?}, {input:?}) result");
            assert_eq!(p.client.state(), want_state, "({state:?}, {input:?}) state");
            assert_eq!(
                drain(&mut p.client),
                want_events,
                "({state:?}, {input:?}) events"
            );
            // Nothing accepted is dropped except as reported.
            let lost_or_rejected = want_events
                .iter()
                .filter(|e| {
                    matches!(
                        e,
                        AccountingEvent::RecordLost { .. }
                            | AccountingEvent::RecordRejected { .. }
                            | AccountingEvent::RecordAcknowledged { .. }
                    )
                })
                .count();
            let created = p.client.next_record_number() as usize;
            let before = place(&config, state);
            let stored_before = before.client.unacknowledged();
            let created_now = created - before.client.next_record_number() as usize;
            assert_eq!(
                p.client.unacknowledged(),
                stored_before + created_now - lost_or_rejected,
                "({state:?}, {input:?}) store"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Property test
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Op {
    Answer,
    Hangup,
    Event,
    Wait(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Answer),
        1 => Just(Op::Hangup),
        1 => Just(Op::Event),
        10 => (0u64..90_000).prop_map(Op::Wait),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    ops: Vec<Op>,
    fates: Vec<u8>,
    origin: u64,
    unix_at_zero: i64,
    interval: Option<u32>,
    server_interval: Option<Option<u32>>,
    policy: AccountingRealtimeRequired,
    max_attempts: u32,
    retry_ms: u64,
    timeout_ms: u64,
    latency_ms: u64,
}

fn case() -> impl Strategy<Value = Case> {
    (
        proptest::collection::vec(op(), 0..40),
        proptest::collection::vec(0u8..10, 1..64),
        0u64..1_000_000_000,
        1_000_000_000i64..2_000_000_000,
        prop_oneof![Just(None), (5u32..60).prop_map(Some)],
        prop_oneof![
            Just(None),
            Just(Some(None)),
            (5u32..60).prop_map(|s| Some(Some(s)))
        ],
        prop_oneof![
            Just(GrantAndStore),
            Just(GrantAndLose),
            Just(DeliverAndGrant)
        ],
        1u32..5,
        (1u64..10_000, 1u64..10_000, 1u64..500),
    )
        .prop_map(
            |(
                ops,
                fates,
                origin,
                unix_at_zero,
                interval,
                server_interval,
                policy,
                max_attempts,
                (retry_ms, timeout_ms, latency_ms),
            )| Case {
                ops,
                fates,
                origin,
                unix_at_zero,
                interval,
                server_interval,
                policy,
                max_attempts,
                retry_ms,
                timeout_ms,
                latency_ms,
            },
        )
}

fn fate_of(v: u8) -> Fate {
    match v {
        0..=4 => Fate::Deliver,
        5 => Fate::LoseRequest,
        6 => Fate::LoseAnswer,
        7 => Fate::DuplicateAnswer,
        8 => Fate::SinkFails,
        _ => Fate::Deliver,
    }
}

fn run_case<const N: usize>(case: &Case) {
    let mut cc = client_config();
    cc.clock = WallClock {
        unix_at_zero: case.unix_at_zero,
    };
    cc.interim_interval = case.interval;
    cc.realtime_required = case.policy;
    cc.max_attempts = case.max_attempts;
    cc.retry_interval = Duration::from_millis(case.retry_ms);
    let mut sc = server_config();
    match case.server_interval {
        None => sc.interim_interval = None,
        Some(None) => sc.interim_interval = Some(0),
        Some(Some(s)) => sc.interim_interval = Some(s),
    }
    let start = Instant(case.origin);
    let mut sim: Sim<'_, N> = Sim::new(&cc, &sc, call_info(), start);
    sim.timeout = case.timeout_ms;
    sim.latency = case.latency_ms;
    let fates = case.fates.clone();
    let mut i = 0usize;
    let perfect = std::rc::Rc::new(Cell::new(false));
    let p2 = perfect.clone();
    sim.fate = Box::new(move |_| {
        if p2.get() {
            return Fate::Deliver;
        }
        i += 1;
        fate_of(fates[i % fates.len()])
    });
    for op in &case.ops {
        match *op {
            Op::Answer => {
                let _ = sim.input(|c, now| c.call_answered(now));
            }
            Op::Hangup => {
                let _ = sim.input(|c, now| c.call_ended(now));
            }
            Op::Event => {
                let _ = sim.input(|c, now| c.event(now));
            }
            Op::Wait(ms) => {
                let t = Instant(sim.now.0 + ms);
                sim.run_until(t);
            }
        }
    }
    // Settle: the network heals, the call ends, everything drains.
    perfect.set(true);
    for _ in 0..10_000 {
        match sim.client.state() {
            ClientState::Idle | ClientState::Ended => break,
            ClientState::Open | ClientState::PendingStart | ClientState::PendingInterim => {
                match sim.input(|c, now| c.call_ended(now)) {
                    Ok(()) => {}
                    Err(AccountingError::StoreFull) => {
                        let t = Instant(sim.now.0 + 1000);
                        sim.run_until(t);
                    }
                    Err(e) => panic!("call_ended: {e:?}"),
                }
            }
            ClientState::PendingStop | ClientState::PendingEvent => {
                let t = Instant(sim.now.0 + 1000);
                sim.run_until(t);
            }
        }
    }
    let t = Instant(sim.now.0 + 60_000);
    sim.run_until(t);

    let created = sim.client.next_record_number();
    let state = sim.client.state();
    assert!(
        matches!(state, ClientState::Idle | ClientState::Ended),
        "{state:?}"
    );
    assert!(sim.pending.is_empty());

    // Transmissions: first sends strictly increasing; no record sent twice
    // without the T flag; retransmissions keep the End-to-End id.
    let mut last_first: Option<u32> = None;
    let mut sent_once = BTreeSet::new();
    for s in &sim.sent {
        if s.t_flag {
            assert!(sent_once.contains(&s.number), "T flag on a first send");
            assert_eq!(s.end_to_end, sim.first_e2e[&s.number]);
        } else {
            assert!(
                sent_once.insert(s.number),
                "record {} sent twice without T",
                s.number
            );
            assert!(last_first.is_none_or(|l| s.number > l), "numbers increase");
            last_first = Some(s.number);
        }
    }
    // Every created record was sent at least once; numbers are 0..created.
    assert_eq!(sent_once, (0..created).collect::<BTreeSet<_>>());

    // Every record ends acknowledged or lost (lost only under GRANT_AND_LOSE).
    let mut acked = BTreeSet::new();
    let mut lost = BTreeSet::new();
    let mut finished = 0;
    let mut stops = 0;
    for e in sim.event_list() {
        match e {
            AccountingEvent::RecordAcknowledged { number, .. } => assert!(acked.insert(number)),
            AccountingEvent::RecordLost { number } => assert!(lost.insert(number)),
            AccountingEvent::RecordRejected { .. } => panic!("no rejections from our server"),
            AccountingEvent::Finished => finished += 1,
            AccountingEvent::StopService => stops += 1,
            _ => {}
        }
    }
    assert!(acked.is_disjoint(&lost));
    assert_eq!(
        acked.union(&lost).copied().collect::<BTreeSet<_>>(),
        (0..created).collect()
    );
    if case.policy != GrantAndLose {
        assert!(lost.is_empty(), "lost under {:?}", case.policy);
    }
    assert!(stops <= 1);
    if case.policy == GrantAndLose || (case.policy == GrantAndStore && N >= 2) {
        assert_eq!(stops, 0, "StopService under {:?}", case.policy);
    }
    assert_eq!(finished, u32::from(created > 0));
    assert_eq!(sim.client.unacknowledged(), 0);

    // Exactly one STOP per started session.
    let kinds: Vec<AccountingRecordType> = sim
        .sent
        .iter()
        .filter(|s| !s.t_flag)
        .map(|s| s.kind)
        .collect();
    match kinds.first() {
        None => assert_eq!(created, 0),
        Some(EventRecord) => assert_eq!(kinds, [EventRecord]),
        Some(StartRecord) => {
            assert_eq!(sim.client.stops(), 1);
            assert_eq!(kinds.iter().filter(|k| **k == StopRecord).count(), 1);
            assert_eq!(kinds.last(), Some(&StopRecord));
            assert!(kinds[1..kinds.len() - 1]
                .iter()
                .all(|k| *k == InterimRecord));
        }
        Some(k) => panic!("first record {k:?}"),
    }

    // The server stored each record at most once, in increasing order, and
    // every acknowledged one; only gaps from lost records are reported.
    let sink = sim.server.sink();
    let stored: Vec<u32> = sink.records.iter().map(|r| r.number).collect();
    assert!(stored.windows(2).all(|w| w[0] < w[1]), "{stored:?}");
    let stored: BTreeSet<u32> = stored.into_iter().collect();
    assert!(acked.is_subset(&stored));
    assert!(
        sink.records
            .iter()
            .filter(|r| r.record_type == StopRecord)
            .count()
            <= 1
    );
    for (_, a) in &sink.anomalies {
        match *a {
            Anomaly::Missing { first, last } => {
                assert!(
                    (first..=last).all(|n| lost.contains(&n)),
                    "{a:?} not lost: {lost:?}"
                );
            }
            other => panic!("anomaly {other:?}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_sessions_keep_the_invariants(c in case()) {
        run_case::<4>(&c);
    }

    #[test]
    fn random_sessions_with_a_tight_store(c in case()) {
        run_case::<2>(&c);
        run_case::<1>(&c);
    }
}

// ---------------------------------------------------------------------------
// Wireshark
// ---------------------------------------------------------------------------

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("shared")
        .join("peers")
        .join("tshark-decode.sh")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn wireshark_dissects_every_message_kind() {
    for tool in ["tshark", "text2pcap"] {
        let ok = Command::new(tool)
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(
            ok,
            "{tool} not found: Wireshark's tshark is required by this test. Install it with \
             `bash ../shared/peers/install.sh` from the workspace root"
        );
    }
    assert!(script().is_file(), "{} is missing", script().display());

    // Clean messages: START, INTERIM, STOP, EVENT, a T-flagged
    // retransmission, ACAs with 2001 (with and without Acct-Interim-Interval
    // and Accounting-Realtime-Required) and 4002.
    let mut clean: Vec<(String, Vec<u8>)> = Vec::new();
    let sim = scenario_flow();
    for (i, w) in sim.requests.iter().enumerate() {
        clean.push((format!("acr-{i}"), w.bytes.clone()));
    }
    for (i, w) in sim.answers.iter().enumerate() {
        clean.push((format!("aca-{i}"), w.bytes.clone()));
    }
    let cc = client_config();
    let mut sc = server_config();
    sc.realtime_required = Some(GrantAndStore);
    let mut sim: Sim<'_, 4> = Sim::new(&cc, &sc, call_info(), Instant::ZERO);
    let mut n = 0;
    sim.fate = Box::new(move |_| {
        n += 1;
        match n {
            1 => Fate::SinkFails,
            2 => Fate::LoseAnswer,
            _ => Fate::Deliver,
        }
    });
    sim.input(|c, now| c.event(now)).unwrap();
    sim.run_until(Instant::from_secs(60));
    assert_eq!(sim.requests.len(), 3);
    assert_acr_header(&sim.requests[1].bytes, true);
    for (i, w) in sim.requests.iter().enumerate() {
        clean.push((format!("event-acr-{i}"), w.bytes.clone()));
    }
    for (i, w) in sim.answers.iter().enumerate() {
        clean.push((format!("event-aca-{i}"), w.bytes.clone()));
    }
    let codes: BTreeSet<u32> = clean
        .iter()
        .filter_map(|(_, b)| {
            let m = Message::parse(b).unwrap();
            (!m.is_request()).then(|| m.get(&base::RESULT_CODE).unwrap().unwrap())
        })
        .collect();
    assert_eq!(codes, [2001, 4002].into_iter().collect());

    // Error answers from the server: 5005 with Failed-AVP, 3001 with E.
    let mut errors: Vec<(String, Vec<u8>)> = Vec::new();
    let sc = AccountingServerConfig::new(SERVER, REALM);
    let mut s: AccountingServer<'_, VecSink, 4> = AccountingServer::new(&sc, VecSink::default());
    let mut buf = [0u8; 512];
    let h = HeaderRepr::request(
        CommandCode::ACCOUNTING,
        ApplicationId::BASE_ACCOUNTING,
        1,
        2,
    )
    .proxiable(true);
    let mut b = MessageBuilder::new(&mut buf, h);
    b.put(&base::SESSION_ID, SID)
        .put(&base::ORIGIN_HOST, CLIENT)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::DESTINATION_REALM, REALM)
        .put(&base::ACCOUNTING_RECORD_TYPE, StartRecord);
    let req = b.finish().unwrap().to_vec();
    errors.push(("error-5005".into(), serve(&mut s, &req)));
    let mut buf = [0u8; 512];
    let h = HeaderRepr::request(
        CommandCode::CREDIT_CONTROL,
        ApplicationId::CREDIT_CONTROL,
        1,
        2,
    )
    .proxiable(true);
    let mut b = MessageBuilder::new(&mut buf, h);
    b.put(&base::SESSION_ID, SID)
        .put(&base::ORIGIN_HOST, CLIENT);
    let req = b.finish().unwrap().to_vec();
    errors.push(("error-3001".into(), serve(&mut s, &req)));

    let dir = std::env::temp_dir().join(format!(
        "diameter-cc-accounting-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    for (set, args) in [(&clean, &[][..]), (&errors, &["--lenient"][..])] {
        let files: Vec<PathBuf> = set
            .iter()
            .map(|(name, bytes)| {
                let f = dir.join(format!("{name}.hex"));
                std::fs::write(&f, hex(bytes)).unwrap();
                f
            })
            .collect();
        let out = Command::new("bash")
            .arg(script())
            .args(args)
            .args(["-e", "diameter.Accounting-Record-Number"])
            .args(&files)
            .output()
            .expect("run bash");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "tshark-decode.sh {args:?} failed ({}); messages kept in {}\n{stderr}\n{stdout}",
            out.status,
            dir.display()
        );
        let mut lines = stdout.lines();
        let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
        let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
        let rows: Vec<Vec<&str>> = lines
            .filter(|l| !l.is_empty())
            .map(|l| l.split('\t').collect())
            .collect();
        assert_eq!(rows.len(), set.len(), "one frame per message");
        for (row, (name, bytes)) in rows.iter().zip(set.iter()) {
            let (h, _) = HeaderRepr::parse(bytes).unwrap();
            assert_eq!(
                row[col("diameter.cmd.code")],
                h.command_code.0.to_string(),
                "{name}"
            );
            assert_eq!(
                row[col("diameter.endtoendid")],
                format!("0x{:08x}", h.end_to_end),
                "{name}"
            );
            let m = Message::parse(bytes).unwrap();
            if let Ok(Some(n)) = m.get(&base::ACCOUNTING_RECORD_NUMBER) {
                assert_eq!(
                    row[col("diameter.Accounting-Record-Number")],
                    n.to_string(),
                    "{name}"
                );
            }
            if let Some(sid) = m.session_id() {
                assert_eq!(row[col("diameter.Session-Id")], sid, "{name}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------
// Zero allocations
// ---------------------------------------------------------------------------

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static MEASURING: Mutex<()> = Mutex::new(());

thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
}

fn note() {
    if ACTIVE.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: every method forwards to `System` unchanged; `note` only touches an
// atomic and a const-initialised thread-local without destructor.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Run `f`; return its result and the heap allocations it made on this thread.
fn allocations<T>(f: impl FnOnce() -> T) -> (T, usize) {
    struct Off;
    impl Drop for Off {
        fn drop(&mut self) {
            ACTIVE.with(|a| a.set(false));
        }
    }
    let _lock = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    ALLOCATIONS.store(0, Ordering::SeqCst);
    ACTIVE.with(|a| a.set(true));
    let off = Off;
    let r = black_box(f());
    drop(off);
    (r, ALLOCATIONS.load(Ordering::SeqCst))
}

/// (type, number, Sip-Call-Duration) of each record stored.
type Kinds = [Option<(AccountingRecordType, u32, u32)>; 8];

/// A sink with fixed storage.
#[derive(Default)]
struct ArraySink {
    kinds: Kinds,
    n: usize,
}

impl AccountingSink for ArraySink {
    fn record(&mut self, r: &AccountingRecord<'_>) -> Result<(), SinkError> {
        let slot = self.kinds.get_mut(self.n).ok_or(SinkError::OutOfSpace)?;
        *slot = Some((r.record_type, r.number, r.sip_call_duration.unwrap_or(0)));
        self.n += 1;
        Ok(())
    }
}

/// START, two INTERIMs, STOP through client and server on stack buffers;
/// returns what the sink stored.
fn full_session_on_the_stack() -> (Kinds, ClientState) {
    let cc = client_config();
    let sc = server_config();
    let mut client: AccountingClient<'_, 4> = AccountingClient::new(&cc, call_info());
    let mut server: AccountingServer<'_, ArraySink, 8> =
        AccountingServer::new(&sc, ArraySink::default());
    let mut acr = [0u8; 1024];
    let mut aca = [0u8; 1024];
    let mut e2e = 100u32;
    let mut exchange = |client: &mut AccountingClient<'_, 4>, now: Instant| {
        while let Some(t) = client.poll_transmit(now, &mut acr) {
            let t = t.unwrap();
            e2e += 1;
            acr[16..20].copy_from_slice(&e2e.to_be_bytes());
            assert!(client.handle_sent(t.record_number, e2e));
            let req = Message::parse_with(&acr[..t.len], &CreditControl).unwrap();
            req.validate(&CreditControl).unwrap();
            let a = server.handle_request(now, &req, &mut aca).unwrap();
            let a = Message::parse_with(a, &CreditControl).unwrap();
            a.validate(&CreditControl).unwrap();
            assert!(client.handle_answer(now, &a));
            while client.poll_event().is_some() {}
        }
    };
    client.call_answered(Instant::ZERO).unwrap();
    exchange(&mut client, Instant::ZERO);
    let mut now = Instant::ZERO;
    while let Some(t) = client.poll_timeout() {
        if t > Instant::from_secs(67) {
            break;
        }
        now = t;
        client.handle_timeout(now);
        exchange(&mut client, now);
    }
    let _ = now;
    client.call_ended(Instant::from_secs(67)).unwrap();
    exchange(&mut client, Instant::from_secs(67));
    (server.into_sink().kinds, client.state())
}

#[test]
fn a_full_session_makes_no_allocation() {
    // Warm up (thread-locals, lazy statics), then measure.
    let _ = full_session_on_the_stack();
    let ((kinds, state), n) = allocations(full_session_on_the_stack);
    assert_eq!(
        n, 0,
        "{n} heap allocation(s) in a START/INTERIM/STOP session"
    );
    assert_eq!(state, ClientState::Ended);
    assert_eq!(
        &kinds[..5],
        &[
            Some((StartRecord, 0, 0)),
            Some((InterimRecord, 1, 30)),
            Some((InterimRecord, 2, 60)),
            Some((StopRecord, 3, 67)),
            None
        ]
    );
    // The counter counts.
    let (_, n) = allocations(|| black_box(Vec::<u8>::with_capacity(1)));
    assert_eq!(n, 1);
}
