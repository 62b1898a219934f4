//! Peer machines (`diameter_core::peer`) through the simulator of
//! `peer_harness`: the capabilities exchange (CER/CEA byte for byte, split
//! streams, 5010, 3010 and the allow-lists, capabilities and connect
//! timeouts) and the disconnect (DPR/DPA both ways with every cause and the
//! reconnection policy, DPA timeout).

mod peer_harness;

use std::time::Duration;

use diameter_core::dict::base::{self, DisconnectCause};
use diameter_core::peer::{App, DownReason, Event, PeerConfig, PeerState, WatchdogState};
use diameter_core::types::Enumeration;
use diameter_core::{AddressValue, HeaderRepr, Message};
use peer_harness::wireshark::{decodes_every_message, Scenario};
use peer_harness::Side::{I, R};
use peer_harness::*;

// ---------------------------------------------------------------------------
// Scenarios (each returns its Pair so the Wireshark test can replay it)
// ---------------------------------------------------------------------------

fn s_cer_cea() -> Pair {
    let mut p = Pair::new(client_cfg(), server_cfg());
    assert_eq!(p.peer(I).state(), PeerState::Closed);
    assert_eq!(p.next_timer(), None, "nothing armed before start");
    p.start();
    assert_eq!(p.take_ladder(), ["I>R CER", "R>I CEA 2001"]);
    assert_eq!(p.take_events(I), [Event::Connect, Event::Up]);
    assert_eq!(p.take_events(R), [Event::Up]);
    for s in [I, R] {
        assert!(p.peer(s).is_open());
        assert_eq!(p.peer(s).state(), PeerState::Open);
        assert_eq!(p.peer(s).watchdog_state(), WatchdogState::Okay);
        assert_eq!(p.peer(s).pending_len(), 0);
    }

    let cer = p.last(I, "CER");
    let (hbh, e2e) = ids(&cer);
    assert_eq!(
        e2e >> 20,
        0xa3c,
        "End-to-End starts with boot_time's low 12 bits"
    );
    assert_bytes(&cer, &expect_cer(&client_identity(), hbh, e2e), "CER");
    let m = Message::parse_with(&cer, &base::Base).unwrap();
    assert!(m.is_request() && !m.flags().is_proxiable());
    check_caps(&m, &client_identity());

    let cea = p.last(R, "CEA");
    assert_eq!(ids(&cea), (hbh, e2e), "CEA echoes the CER's identifiers");
    assert_bytes(
        &cea,
        &expect_cea(&server_identity(), hbh, e2e, 2001, false),
        "CEA",
    );
    let m = Message::parse_with(&cea, &base::Base).unwrap();
    assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(2001));
    check_caps(&m, &server_identity());

    // What each side learnt.
    let i = p.peer(I).peer_info();
    assert_eq!(i.origin_host.as_str(), SERVER);
    assert_eq!(i.origin_realm.as_str(), REALM);
    assert_eq!(i.origin_state_id, Some(42));
    assert_eq!(i.vendor_id, 10415);
    assert_eq!(i.common.as_slice(), [App::auth(4), App::acct(3)]);
    let r = p.peer(R).peer_info();
    assert_eq!(r.origin_host.as_str(), CLIENT);
    assert_eq!(r.origin_state_id, Some(1_700_000_000));
    assert_eq!(r.common.as_slice(), [App::auth(4), App::acct(3)]);
    p
}

fn s_cer_cea_split() -> Pair {
    // The same exchange with writes and reads cut at random points.
    let mut last = None;
    for seed in 1..=64u64 {
        let mut p = Pair::with_split(client_cfg(), server_cfg(), Some(seed * 0x9e37_79b9));
        p.start();
        assert_eq!(p.take_ladder(), ["I>R CER", "R>I CEA 2001"], "seed {seed}");
        assert_eq!(p.take_events(I), [Event::Connect, Event::Up]);
        assert_eq!(p.take_events(R), [Event::Up]);
        // a request and its answer, a DWR round and a DPR round, all split
        p.send(I, acr(CLIENT, "client.example.org;1;split", 1), 1)
            .unwrap();
        p.fire_next();
        p.disconnect(I, DisconnectCause::Rebooting);
        assert_eq!(
            p.take_ladder(),
            [
                "I>R ACR",
                "R>I ACA 2001",
                "I>R DWR",
                "R>I DWA 2001",
                "I>R DPR",
                "R>I DPA 2001"
            ],
            "seed {seed}\n{}",
            p.dump()
        );
        assert_eq!(p.ends[I.ix()].ended[&1], Ending::Answered(Some(2001)));
        assert_eq!(p.peer(I).state(), PeerState::Closed);
        assert_eq!(p.peer(R).state(), PeerState::Closed);
        last = Some(p);
    }
    last.unwrap()
}

fn s_cea_5010() -> Pair {
    let mut cr = server_cfg();
    cr.local.applications = heapless::Vec::from_slice(&LONELY_APPS).unwrap();
    let mut p = Pair::new(client_cfg(), cr);
    p.start();
    assert_eq!(p.take_ladder(), ["I>R CER", "R>I CEA 5010"], "{}", p.dump());
    let (hbh, e2e) = ids(&p.last(I, "CER"));
    let cea = p.last(R, "CEA");
    let want = expect_cea(&p.peer(R).config().local, hbh, e2e, 5010, false);
    assert_bytes(&cea, &want, "CEA 5010");
    let m = Message::parse_with(&cea, &base::Base).unwrap();
    assert!(!m.flags().is_error(), "5xxx: no E bit");
    assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(5010));
    check_caps(&m, &p.peer(R).config().local);
    assert_eq!(
        p.take_events(R),
        [
            Event::Down(DownReason::CapabilitiesRejected(
                diameter_core::ResultCode::NO_COMMON_APPLICATION
            )),
            Event::Close
        ]
    );
    assert_eq!(
        p.take_events(I),
        [
            Event::Connect,
            Event::Down(DownReason::CapabilitiesRejected(diameter_core::ResultCode(
                5010
            ))),
            Event::Close
        ]
    );
    assert!(!p.conn);
    assert_eq!(p.peer(I).state(), PeerState::Closed);
    assert_eq!(p.peer(R).state(), PeerState::Closed);
    // The initiator tries again after the first back-off (1 s, jittered
    // within its upper half).
    let t0 = p.now.0;
    let t = p.fire_next();
    assert!((t0 + 500..=t0 + 1_000).contains(&t), "{}", t - t0);
    assert_eq!(p.take_events(I)[0], Event::Connect);
    p
}

fn s_cea_3010() -> Pair {
    // Allow-lists are owned pattern lists now; `*.domain` patterns too.
    let mut cr = server_cfg();
    cr.allow_host("peer.other.org").unwrap();
    cr.allow_host("*.other.org").unwrap();
    cr.allow_realm("other.org").unwrap();
    let mut p = Pair::new(client_cfg(), cr);
    p.start();
    assert_eq!(
        p.take_ladder(),
        ["I>R CER", "R>I CEA 3010 E"],
        "{}",
        p.dump()
    );
    let (hbh, e2e) = ids(&p.last(I, "CER"));
    let cea = p.last(R, "CEA");
    assert_bytes(
        &cea,
        &expect_cea(&server_identity(), hbh, e2e, 3010, true),
        "CEA 3010",
    );
    let m = Message::parse_with(&cea, &base::Base).unwrap();
    assert!(m.flags().is_error(), "3xxx: E bit");
    assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(3010));
    check_caps(&m, &server_identity());
    assert_eq!(
        p.take_events(R),
        [
            Event::Down(DownReason::CapabilitiesRejected(
                diameter_core::ResultCode::UNKNOWN_PEER
            )),
            Event::Close
        ]
    );
    assert_eq!(
        p.take_events(I),
        [
            Event::Connect,
            Event::Down(DownReason::CapabilitiesRejected(diameter_core::ResultCode(
                3010
            ))),
            Event::Close
        ]
    );
    assert!(!p.conn);
    assert_eq!(p.peer(R).state(), PeerState::Closed);

    // The same client is admitted by host (any case, or a `*.domain`
    // pattern) or by realm.
    for (hosts, realms) in [
        (&["CLIENT.Example.ORG"][..], &[][..]),
        (&["*.EXAMPLE.org"][..], &[][..]),
        (&[][..], &["EXAMPLE.org"][..]),
        (&["nobody.example.net"][..], &["example.org"][..]),
    ] {
        let mut cr = server_cfg();
        for h in hosts {
            cr.allow_host(h).unwrap();
        }
        for r in realms {
            cr.allow_realm(r).unwrap();
        }
        let mut q = Pair::new(client_cfg(), cr);
        q.start();
        assert_eq!(q.take_ladder(), ["I>R CER", "R>I CEA 2001"]);
        assert!(q.peer(I).is_open() && q.peer(R).is_open());
    }
    p
}

fn s_capabilities_timeouts() -> Pair {
    // CEA never comes: the responder does not answer (I->R is a black hole).
    let cr = PeerConfig {
        capabilities_timeout: Duration::from_secs(20),
        ..server_cfg()
    };
    let mut p = Pair::new(client_cfg(), cr);
    p.wires[I.ix()].drop = true;
    p.start();
    assert_eq!(p.take_ladder(), ["I>R CER (lost)"]);
    assert_eq!(p.peer(I).state(), PeerState::WaitCea);
    assert_eq!(p.peer(R).state(), PeerState::WaitCer);
    let t = p.fire_next();
    assert_eq!(t, 10_000, "capabilities_timeout");
    assert_eq!(
        p.take_events(I),
        [
            Event::Connect,
            Event::Down(DownReason::CapabilitiesTimeout),
            Event::Close
        ]
    );
    assert_eq!(p.take_events(R), [Event::Down(DownReason::TransportClosed)]);
    assert_eq!(p.take_ladder(), Vec::<String>::new());

    // The responder's CER wait: the initiator connects but never sends.
    let mut q = Pair::new(client_cfg(), server_cfg());
    q.net = Net::Up;
    q.conn = true;
    let now = q.now;
    q.end_mut(R).peer.handle_connected(now);
    q.run();
    assert_eq!(q.peer(R).state(), PeerState::WaitCer);
    assert_eq!(q.fire_next(), 10_000);
    assert_eq!(
        q.take_events(R),
        [Event::Down(DownReason::CapabilitiesTimeout), Event::Close]
    );
    assert_eq!(q.peer(R).state(), PeerState::Closed);

    // The transport connection never completes.
    let mut h = Pair::new(client_cfg(), server_cfg());
    h.net = Net::Hang;
    h.start();
    assert_eq!(h.peer(I).state(), PeerState::Connecting);
    assert_eq!(h.fire_next(), 10_000);
    assert_eq!(
        h.take_events(I),
        [
            Event::Connect,
            Event::Down(DownReason::CapabilitiesTimeout),
            Event::Close
        ]
    );
    assert_eq!(h.peer(I).state(), PeerState::Closed);
    // ... and is retried after a back-off that doubles with every failed
    // attempt (1 s, 2 s, 4 s... jittered within the upper half of each) up
    // to Tc (30 s); a refused attempt is retried too.
    h.net = Net::Refuse;
    let mut last = 10_000;
    for top in [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000] {
        let t = h.fire_next();
        assert!(
            (last + top / 2..=last + top).contains(&t),
            "waited {} ms, expected {}..={}",
            t - last,
            top / 2,
            top
        );
        assert_eq!(
            h.take_events(I),
            [Event::Connect, Event::Down(DownReason::TransportClosed)]
        );
        last = t;
    }
    h.net = Net::Up;
    let t = h.fire_next();
    assert!((last + 15_000..=last + 30_000).contains(&t));
    assert_eq!(h.take_events(I), [Event::Connect, Event::Up]);
    assert_eq!(h.take_ladder(), ["I>R CER", "R>I CEA 2001"]);
    p
}

fn dpr_from(side: Side, cause: DisconnectCause) -> Pair {
    let mut p = open_pair();
    let other = side.other();
    // A request in flight is handed back when the connection closes.
    p.auto_answer[R.ix()] = false;
    p.send(I, acr(CLIENT, "client.example.org;7;dpr", 7), 7)
        .unwrap();
    p.take_ladder();
    let t = p.now.0;
    p.disconnect(side, cause);
    let c = cause.to_i32();
    let sn = side_name(side);
    let on = side_name(other);
    assert_eq!(
        p.take_ladder(),
        [format!("{sn}>{on} DPR"), format!("{on}>{sn} DPA 2001")]
    );
    let l = |s: Side| p.peer(s).config().local.clone();
    let dpr = p.last(side, "DPR");
    let (hbh, e2e) = ids(&dpr);
    assert_bytes(&dpr, &expect_dpr(&l(side), hbh, e2e, cause), "DPR");
    check_base(&dpr, &l(side), Some(cause));
    let dpa = p.last(other, "DPA");
    assert_bytes(&dpa, &expect_dpa(&l(other), hbh, e2e), "DPA");
    check_base(&dpa, &l(other), None);

    let mut receiver = vec![
        Event::PeerDisconnecting(c),
        Event::Down(DownReason::Disconnected(c)),
        Event::Close,
    ];
    let mut sender = vec![Event::Down(DownReason::Disconnected(c)), Event::Close];
    let handed_back = Event::RequestHandedBack {
        token: 7,
        end_to_end: p.ends[I.ix()].sent[&7].e2e,
    };
    if side == I {
        sender.push(handed_back);
    } else {
        receiver.push(handed_back);
    }
    assert_eq!(p.take_events(side), sender, "{}", p.dump());
    assert_eq!(p.take_events(other), receiver, "{}", p.dump());
    assert!(!p.conn);
    for s in [I, R] {
        assert_eq!(p.peer(s).state(), PeerState::Closed);
        assert_eq!(
            p.peer(s).watchdog_state(),
            WatchdogState::Initial,
            "DPR stops the watchdog"
        );
    }
    p.check_all_ended(I);

    // Reconnection policy.
    let backoff = 600_000;
    match (side, cause) {
        (I, _) => {
            // We said goodbye: no reconnect until allowed.
            p.sleep(2 * 3_600_000);
            assert_eq!(p.take_events(I), NO_EVENTS);
            p.end_mut(I).peer.allow_reconnect();
            p.start();
            assert_eq!(p.take_events(I), [Event::Connect, Event::Up]);
        }
        // Issue 9.16, RFC 6733 §5.4.3: after BUSY or
        // DO_NOT_WANT_TO_TALK_TO_YOU the receiver SHOULD NOT reconnect.
        (R, DisconnectCause::DoNotWantToTalkToYou | DisconnectCause::Busy) => {
            p.advance_to(t + backoff - 1);
            assert_eq!(
                p.take_events(I),
                NO_EVENTS,
                "no reconnect within the back-off"
            );
            p.start(); // even when asked
            assert_eq!(p.take_events(I), NO_EVENTS);
            p.advance_to(t + backoff);
            assert_eq!(p.take_events(I), [Event::Connect, Event::Up]);
        }
        (R, _) => {
            // REBOOTING: reconnect after the first back-off (the connection
            // had opened: 1 s, jittered within its upper half).
            p.advance_to(t + 500 - 1);
            assert_eq!(p.take_events(I), NO_EVENTS);
            p.advance_to(t + 1_000);
            assert_eq!(p.take_events(I), [Event::Connect, Event::Up]);
        }
    }
    // A connection after DPR/DPA starts in OKAY, not REOPEN.
    assert!(p.peer(I).is_open() && p.peer(R).is_open());
    assert_eq!(p.take_events(R), [Event::Up]);
    p
}

fn s_dpr_both_ways() -> Pair {
    let mut last = None;
    for side in [I, R] {
        for cause in [
            DisconnectCause::Rebooting,
            DisconnectCause::Busy,
            DisconnectCause::DoNotWantToTalkToYou,
        ] {
            last = Some(dpr_from(side, cause));
        }
    }
    last.unwrap()
}

fn s_dpa_timeout() -> Pair {
    let mut p = open_pair();
    p.wires[I.ix()].drop = true;
    let t = p.now.0;
    p.disconnect(I, DisconnectCause::Busy);
    assert_eq!(p.take_ladder(), ["I>R DPR (lost)"]);
    assert_eq!(p.peer(I).state(), PeerState::Closing);
    assert_eq!(p.fire_next(), t + 5_000, "dpa_timeout");
    assert_eq!(
        p.take_events(I),
        [Event::Down(DownReason::Disconnected(1)), Event::Close],
        "the cause we sent"
    );
    assert_eq!(p.take_events(R), [Event::Down(DownReason::TransportClosed)]);
    p
}

/// A responder with a connection and no CER yet.
fn waiting_for_cer() -> Pair {
    let mut q = Pair::new(client_cfg(), server_cfg());
    q.conn = true;
    let now = q.now;
    q.end_mut(R).peer.handle_connected(now);
    q.run();
    assert_eq!(q.peer(R).state(), PeerState::WaitCer);
    q
}

/// Changed on purpose: a CER that fails validation (here: no Origin-Realm,
/// 5005) is answered with the error and, since nothing but a valid CER may
/// open the connection, the connection is closed with
/// DownReason::ProtocolError(5005) (before, it was answered and the
/// responder kept waiting for a CER).
fn s_malformed_cer() -> Pair {
    let mut q = waiting_for_cer();
    let client = client_identity();
    let mut cer = expect_cer(&client, 0x0c0c_0001, 0x0c0c_0002);
    // Rebuild it without Origin-Realm.
    let m = Message::parse_with(&cer, &base::Base).unwrap();
    let (h, _) = HeaderRepr::parse(&cer).unwrap();
    cer = build(h, |b| {
        for a in m.iter().map(Result::unwrap).filter(|a| a.code() != 296) {
            b.put_avp(&a);
        }
    });
    q.inject(I, &cer);
    assert_eq!(q.take_got(R), [Got::Rejected(5005)]);
    assert_eq!(q.take_ladder(), ["R>I CEA 5005"]);
    let cea = q.last(R, "CEA");
    assert_eq!(ids(&cea), (0x0c0c_0001, 0x0c0c_0002));
    let a = Message::parse_with(&cea, &base::Base).unwrap();
    assert!(!a.flags().is_error());
    assert_eq!(a.get(&base::ORIGIN_HOST).unwrap(), Some(SERVER));
    assert_eq!(a.get(&base::ORIGIN_REALM).unwrap(), Some(REALM));
    let failed = a.get(&base::FAILED_AVP).unwrap().expect("Failed-AVP");
    assert_eq!(failed.iter().next().unwrap().unwrap().code(), 296);
    assert_eq!(
        q.take_events(R),
        [
            Event::Down(DownReason::ProtocolError(
                diameter_core::ResultCode::MISSING_AVP
            )),
            Event::Close
        ]
    );
    assert!(!q.conn);
    assert_eq!(q.peer(R).state(), PeerState::Closed);
    assert_eq!(q.peer(R).stats().rejected_requests, 1);
    q
}

/// Every scenario of this file, by name.
const SCENARIOS: &[(&str, Scenario)] = &[
    ("cer-cea", s_cer_cea),
    ("cer-cea-split", s_cer_cea_split),
    ("cea-5010", s_cea_5010),
    ("cea-3010", s_cea_3010),
    ("capabilities-timeouts", s_capabilities_timeouts),
    ("dpr", s_dpr_both_ways),
    ("dpa-timeout", s_dpa_timeout),
    ("malformed-cer", s_malformed_cer),
];

#[test]
fn normal_cer_cea_byte_exact() {
    s_cer_cea();
}

#[test]
fn split_stream_conversations() {
    s_cer_cea_split();
}

#[test]
fn no_common_application_5010() {
    s_cea_5010();
}

#[test]
fn unknown_peer_3010() {
    s_cea_3010();
}

#[test]
fn capabilities_and_connect_timeouts() {
    s_capabilities_timeouts();
}

#[test]
fn dpr_both_ways_every_cause() {
    s_dpr_both_ways();
}

#[test]
fn dpa_timeout() {
    s_dpa_timeout();
}

#[test]
fn malformed_cer_answered_and_closed() {
    s_malformed_cer();
}

/// A CEA describes its sender (RFC 6733 §5.3.2): the Host-IP-Address,
/// Vendor-Id and Product-Name of the error CEA to a malformed CER must be
/// the responder's own (or absent), never copied from the CER.
#[test]
fn error_cea_carries_the_responders_own_identity() {
    let q = s_malformed_cer();
    let cea = q.last(R, "CEA");
    let a = Message::parse_with(&cea, &base::Base).unwrap();
    let server = server_identity();
    let ips: Vec<AddressValue<'_>> = a
        .get_all(&base::HOST_IP_ADDRESS)
        .map(Result::unwrap)
        .collect();
    let ours: Vec<AddressValue<'_>> = server
        .host_ip_addresses
        .iter()
        .map(|ip| AddressValue::from(*ip))
        .collect();
    assert!(ips.is_empty() || ips == ours, "Host-IP-Address {ips:?}");
    let vendor = a.get(&base::VENDOR_ID).unwrap();
    assert!(
        vendor.is_none() || vendor == Some(server.vendor_id),
        "Vendor-Id {vendor:?}"
    );
    let product = a.get(&base::PRODUCT_NAME).unwrap();
    assert!(
        product.is_none() || product == Some(server.product_name.as_str()),
        "Product-Name {product:?}"
    );
}

/// At least this many of the replayed messages come from the machines.
const MIN_MACHINE: usize = 20;

#[test]
fn wireshark_decodes_every_emitted_message() {
    decodes_every_message(SCENARIOS, MIN_MACHINE);
}
