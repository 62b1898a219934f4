//! Peer machines (`diameter_core::peer`) through the simulator of
//! `peer_harness`: the watchdog (RFC 3539: DWR on silence, DWR answered in
//! every state, SUSPECT, DOWN, REOPEN with three DWAs), requests handed back
//! when the connection fails and retransmitted with the T flag, and a
//! peer that goes silent halfway through a message.

mod peer_harness;

use std::time::Duration;

use diameter_core::dict::base::{self, DisconnectCause};
use diameter_core::peer::{
    set_retransmit_flag, DownReason, DropReason, Event, Incoming, Peer, PeerConfig, PeerState,
    Role, SendError, WatchdogState,
};
use diameter_core::time::Instant;
use peer_harness::wireshark::{decodes_every_message, Scenario};
use peer_harness::Side::{I, R};
use peer_harness::*;

// ---------------------------------------------------------------------------
// Scenarios (each returns its Pair so the Wireshark test can replay it)
// ---------------------------------------------------------------------------

fn s_dwr_on_silence() -> Pair {
    let mut p = open_pair();
    let t0 = p.now.0;
    let t1 = p.fire_next();
    assert!((t0 + 4_000..=t0 + 8_000).contains(&t1), "Tw ± 2 s: {t1}");
    assert_eq!(p.take_ladder(), ["I>R DWR", "R>I DWA 2001"]);
    let dwr = p.last(I, "DWR");
    let (hbh, e2e) = ids(&dwr);
    assert_eq!(e2e >> 20, 0xa3c);
    assert_bytes(&dwr, &expect_dwr(&client_identity(), hbh, e2e), "DWR");
    check_base(&dwr, &client_identity(), None);
    let dwa = p.last(R, "DWA");
    assert_bytes(&dwa, &expect_dwa(&server_identity(), hbh, e2e), "DWA");
    check_base(&dwa, &server_identity(), None);
    assert_eq!(p.take_events(I), NO_EVENTS);
    assert_eq!(p.take_events(R), NO_EVENTS);

    // Silence again: the next DWR a Tw later, forever; the responder's own
    // timer keeps being reset by the initiator's DWRs.
    let t2 = p.fire_next();
    assert!((t1 + 4_000..=t1 + 8_000).contains(&t2), "{t2}");
    assert_eq!(p.take_ladder(), ["I>R DWR", "R>I DWA 2001"]);
    p.sleep(120_000);
    let l = p.take_ladder();
    assert!(l.len() >= 2 * 15, "{l:?}");
    assert!(
        l.chunks(2).all(|c| c == ["I>R DWR", "R>I DWA 2001"]),
        "{l:?}"
    );
    // Identifiers keep moving.
    let dwrs = p.find(I, "DWR");
    for w in dwrs.windows(2) {
        let (a, b) = (ids(&w[0]), ids(&w[1]));
        assert_eq!(b.0, a.0.wrapping_add(1));
        assert_eq!(b.1, a.1 + 1);
    }
    assert!(p.peer(I).is_open() && p.peer(R).is_open());

    // The responder sends its own DWRs when the initiator is quiet: a
    // responder with Tw 6 s and an initiator with Tw 30 s.
    let ci = PeerConfig {
        tw: Duration::from_secs(30),
        ..client_cfg()
    };
    let cr = PeerConfig {
        tw: Duration::from_secs(6),
        ..server_cfg()
    };
    let mut q = open_pair_with(ci, cr);
    q.fire_next();
    assert_eq!(q.take_ladder(), ["R>I DWR", "I>R DWA 2001"]);
    let dwr = q.last(R, "DWR");
    let (hbh, e2e) = ids(&dwr);
    assert_eq!(e2e >> 20, 0xb07);
    assert_bytes(&dwr, &expect_dwr(&server_identity(), hbh, e2e), "R's DWR");
    assert_bytes(
        &q.last(I, "DWA"),
        &expect_dwa(&client_identity(), hbh, e2e),
        "I's DWA",
    );
    p
}

fn s_dwr_answered_in_every_state() -> Pair {
    // A DWR written by the responder's side right behind its CEA.
    let mut p = Pair::new(client_cfg(), server_cfg());
    p.wires[R.ix()].hold = true;
    p.start();
    let dwr = expect_dwr(&server_identity(), 0x0bad_0001, 0x0b07_0101);
    p.app_write(R, &dwr);
    p.wires[R.ix()].hold = false;
    p.run();
    assert_eq!(
        p.take_ladder(),
        ["I>R CER", "R>I CEA 2001", "R>I DWR", "I>R DWA 2001"]
    );
    let dwa = p.last(I, "DWA");
    assert_bytes(
        &dwa,
        &expect_dwa(&client_identity(), 0x0bad_0001, 0x0b07_0101),
        "DWA right after CEA",
    );
    check_base(&dwa, &client_identity(), None);
    let dwr_to_i = |p: &mut Pair, n: u32| {
        let d = expect_dwr(&server_identity(), 0x0bad_0000 + n, 0x0b07_0100 + n);
        p.app_write(R, &d);
        p.run();
        let dwa = p.last(I, "DWA");
        assert_eq!(ids(&dwa), (0x0bad_0000 + n, 0x0b07_0100 + n));
        assert_bytes(
            &dwa,
            &expect_dwa(&client_identity(), 0x0bad_0000 + n, 0x0b07_0100 + n),
            "DWA",
        );
    };
    // Open/OKAY.
    dwr_to_i(&mut p, 2);
    assert_eq!(p.take_ladder(), ["R>I DWR", "I>R DWA 2001"]);

    // SUSPECT: the initiator's DWAs are lost; its DWR goes unanswered.
    p.wires[R.ix()].drop = true;
    p.fire_next(); // DWR
    p.fire_next(); // no DWA: SUSPECT
    assert_eq!(p.peer(I).watchdog_state(), WatchdogState::Suspect);
    assert_eq!(p.take_events(I).last(), Some(&Event::Suspect));
    p.wires[R.ix()].drop = false;
    p.take_ladder();
    dwr_to_i(&mut p, 3);
    // Any message brings SUSPECT back to OKAY.
    assert_eq!(p.peer(I).watchdog_state(), WatchdogState::Okay);
    assert_eq!(p.take_events(I), [Event::Failback]);
    assert_eq!(p.take_ladder(), ["R>I DWR", "I>R DWA 2001"]);

    // Closing: DPR sent, DPA not yet back.
    p.wires[I.ix()].drop = true; // the DPR never arrives
    p.disconnect(I, DisconnectCause::Rebooting);
    assert_eq!(p.peer(I).state(), PeerState::Closing);
    dwr_to_i(&mut p, 4);
    assert_eq!(p.peer(I).state(), PeerState::Closing);

    // WaitCea: the CER is lost, the peer's DWR still gets its DWA.
    let mut q = Pair::new(client_cfg(), server_cfg());
    q.wires[I.ix()].hold = true;
    q.start();
    assert_eq!(q.peer(I).state(), PeerState::WaitCea);
    dwr_to_i(&mut q, 5);
    assert_eq!(q.peer(I).state(), PeerState::WaitCea);

    // WaitCer: a lone responder.
    let cfg = server_cfg();
    let mut r: TestPeer = Peer::new(cfg, Role::Responder, Instant::ZERO);
    r.handle_connected(Instant::ZERO);
    assert_eq!(r.state(), PeerState::WaitCer);
    let d = expect_dwr(&client_identity(), 77, 78);
    assert_eq!(
        r.handle_message(Instant::ZERO, &d, &base::Base),
        Incoming::Handled
    );
    assert_bytes(
        r.transmit(),
        &expect_dwa(&server_identity(), 77, 78),
        "DWA in WaitCer",
    );
    p
}

fn s_watchdog_failover_reopen() -> Pair {
    // Requests wait 60 s here, longer than the watchdog needs to give up
    // (the deadline is the application's now, not the configuration's).
    let mut p = open_pair();
    p.end_mut(I).request_timeout = Duration::from_secs(60);
    p.auto_answer[R.ix()] = false;
    p.send(I, acr(CLIENT, "client.example.org;1;wd", 1), 1)
        .unwrap();
    p.send(I, acr(CLIENT, "client.example.org;2;wd", 2), 2)
        .unwrap();
    assert_eq!(p.peer(I).pending_len(), 2);
    assert_eq!(p.ends[R.ix()].requests.len(), 2);
    let e2e = |p: &Pair, t: u64| p.ends[I.ix()].sent[&t].e2e;
    let (e1, e2) = (e2e(&p, 1), e2e(&p, 2));
    p.take_ladder();

    // The responder's answers stop arriving.
    p.wires[R.ix()].drop = true;
    let t_dwr = p.fire_next();
    assert_eq!(p.take_ladder(), ["I>R DWR", "R>I DWA 2001 (lost)"]);
    assert_eq!(p.peer(I).watchdog_state(), WatchdogState::Okay);
    assert_eq!(p.peer(I).pending_len(), 2);

    // No DWA within Tw: SUSPECT, and the pending requests are handed back.
    let t_suspect = p.fire_next();
    assert!((t_dwr + 4_000..=t_dwr + 8_000).contains(&t_suspect));
    let ev = p.take_events(I);
    assert_eq!(ev[0], Event::Suspect);
    let mut back: Vec<Event> = ev[1..].to_vec();
    back.sort_by_key(|e| match e {
        Event::RequestHandedBack { token, .. } => *token,
        _ => u64::MAX,
    });
    assert_eq!(
        back,
        [
            Event::RequestHandedBack {
                token: 1,
                end_to_end: e1
            },
            Event::RequestHandedBack {
                token: 2,
                end_to_end: e2
            }
        ]
    );
    assert_eq!(p.peer(I).pending_len(), 0);
    assert_eq!(p.peer(I).watchdog_state(), WatchdogState::Suspect);
    assert_eq!(p.peer(I).state(), PeerState::Open);
    assert!(!p.peer(I).is_open());
    assert_eq!(
        p.send(I, acr(CLIENT, "x;3", 3), 3),
        Err(SendError::NotOpen),
        "no traffic while SUSPECT"
    );
    assert_eq!(p.take_ladder(), Vec::<String>::new(), "no DWR in SUSPECT");

    // Another Tw: DOWN, the connection is closed.
    let t_down = p.fire_next();
    assert!((t_suspect + 4_000..=t_suspect + 8_000).contains(&t_down));
    assert_eq!(
        p.take_events(I),
        [Event::Down(DownReason::WatchdogExpired), Event::Close]
    );
    assert_eq!(p.take_events(R), [Event::Down(DownReason::TransportClosed)]);
    assert!(!p.conn);
    assert_eq!(p.peer(I).watchdog_state(), WatchdogState::Down);
    assert_eq!(p.peer(R).watchdog_state(), WatchdogState::Down);
    assert_eq!(p.take_ladder(), Vec::<String>::new());

    // Reconnect after the first back-off (1 s jittered within its upper
    // half, before the watchdog's own Tw), into REOPEN. Hold the
    // responder's side to count the DWAs one by one.
    p.wires[R.ix()].drop = false;
    p.wires[R.ix()].hold = true;
    let t_conn = p.fire_next();
    assert!(
        (t_down + 500..=t_down + 1_000).contains(&t_conn),
        "Connect after the back-off: {}",
        t_conn - t_down
    );
    assert_eq!(p.take_events(I), [Event::Connect]);
    assert_eq!(p.take_events(R), [Event::Up]);
    assert_eq!(p.peer(R).watchdog_state(), WatchdogState::Reopen);
    assert!(!p.peer(R).is_open());
    assert_eq!(p.take_ladder(), ["I>R CER", "R>I CEA 2001", "R>I DWR"]);

    assert_eq!(p.deliver(R, 1), ["CEA 2001"]);
    assert_eq!(p.take_events(I), [Event::Up]);
    assert_eq!(p.peer(I).state(), PeerState::Open);
    assert_eq!(p.peer(I).watchdog_state(), WatchdogState::Reopen);
    assert!(!p.peer(I).is_open());
    // REOPEN: the first DWR goes out at once; no traffic either way.
    assert_eq!(p.take_ladder(), ["I>R DWR", "R>I DWA 2001"]);
    assert_eq!(p.send(I, acr(CLIENT, "x;4", 4), 4), Err(SendError::NotOpen));
    let stray = {
        let mut a = acr(SERVER, "server.example.org;1;reopen", 9);
        a[12..20].copy_from_slice(&[0, 0, 0, 9, 0, 0, 0, 9]);
        a
    };
    p.app_write(R, &stray);
    let dropped_before = p.peer(I).stats().dropped;

    let mut dwas = 0;
    let mut delivered = Vec::new();
    while !p.peer(I).is_open() {
        assert!(delivered.len() < 20, "{delivered:?}\n{}", p.dump());
        let name = p.deliver(R, 1).remove(0);
        if name.starts_with("DWA") {
            dwas += 1;
        }
        if name.starts_with("ACR") {
            assert_eq!(
                p.take_got(I).last(),
                Some(&Got::Dropped(DropReason::NotOpen)),
                "application traffic is thrown away in REOPEN"
            );
            assert_eq!(p.peer(I).stats().dropped, dropped_before + 1);
        }
        delivered.push(name);
        let ev = p.take_events(I);
        if p.peer(I).is_open() {
            assert_eq!(ev, [Event::Failback]);
        } else {
            assert_eq!(ev, NO_EVENTS, "{delivered:?}");
            assert_eq!(p.peer(I).watchdog_state(), WatchdogState::Reopen);
        }
    }
    assert_eq!(dwas, 3, "three DWAs in REOPEN: {delivered:?}");
    assert!(
        delivered.iter().any(|d| d.starts_with("ACR")),
        "{delivered:?}"
    );
    assert_eq!(p.peer(I).watchdog_state(), WatchdogState::Okay);
    p.wires[R.ix()].hold = false;
    p.run();
    assert!(p.peer(R).is_open(), "{}", p.dump());
    assert_eq!(p.take_events(R), [Event::Failback]);
    // Every DWR since the reconnection got exactly one DWA.
    p.take_ladder();
    let ladder: Vec<String> = p
        .log
        .iter()
        .filter(|w| w.at >= t_conn)
        .map(Wired::rung)
        .collect();
    let n = |s: &str| ladder.iter().filter(|l| l.starts_with(s)).count();
    assert_eq!(n("I>R DWR"), n("R>I DWA"));
    assert_eq!(n("R>I DWR"), n("I>R DWA"));

    // Retransmit the handed-back requests with the T flag: End-to-End kept,
    // fresh Hop-by-Hop; the responder recognises them as duplicates.
    p.auto_answer[R.ix()] = true;
    for (old, new, e) in [(1u64, 11u64, e1), (2, 12, e2)] {
        let mut bytes = p.ends[I.ix()].sent[&old].bytes.clone();
        set_retransmit_flag(&mut bytes);
        let hbh = p.send(I, bytes, new).unwrap();
        let s = &p.ends[I.ix()].sent[&new];
        assert_eq!(s.e2e, e, "End-to-End kept on retransmission");
        assert_ne!(hbh, p.ends[I.ix()].sent[&old].hbh);
        assert_eq!(s.bytes[4] & 0x10, 0x10);
    }
    assert_eq!(
        p.take_ladder(),
        ["I>R ACR T", "R>I ACA 2001", "I>R ACR T", "R>I ACA 2001"]
    );
    let got: Vec<Got> = p.take_got(R);
    let dups: Vec<bool> = got
        .iter()
        .filter_map(|g| match g {
            Got::Request {
                duplicate,
                retransmit: true,
                ..
            } => Some(*duplicate),
            _ => None,
        })
        .collect();
    assert_eq!(dups, [true, true]);
    assert_eq!(p.peer(R).stats().duplicates, 2);
    assert_eq!(p.ends[I.ix()].ended[&11], Ending::Answered(Some(2001)));
    assert_eq!(p.ends[I.ix()].ended[&12], Ending::Answered(Some(2001)));
    p.check_all_ended(I);
    p
}

fn s_handback_and_retransmit() -> Pair {
    // The transport drops while requests are pending: handed back with their
    // End-to-End ids, retransmitted with T on the next connection.
    let mut p = open_pair();
    p.auto_answer[R.ix()] = false;
    p.send(I, acr(CLIENT, "client.example.org;1;hb", 1), 1)
        .unwrap();
    p.send(I, acr(CLIENT, "client.example.org;2;hb", 2), 2)
        .unwrap();
    let e1 = p.ends[I.ix()].sent[&1].e2e;
    p.drop_connection();
    p.run();
    let ev = p.take_events(I);
    assert_eq!(ev[0], Event::Down(DownReason::TransportClosed));
    let mut back: Vec<Event> = ev[1..].to_vec();
    back.sort_by_key(|e| match e {
        Event::RequestHandedBack { token, .. } => *token,
        _ => 0,
    });
    assert_eq!(
        back[0],
        Event::RequestHandedBack {
            token: 1,
            end_to_end: e1
        }
    );
    assert_eq!(back.len(), 2);
    assert_eq!(p.take_events(R), [Event::Down(DownReason::TransportClosed)]);
    // Reconnect (Tw-driven), REOPEN, then OKAY.
    p.auto_answer[R.ix()] = true;
    p.sleep(40_000);
    assert!(p.peer(I).is_open() && p.peer(R).is_open(), "{}", p.dump());
    let ev = p.take_events(I);
    assert_eq!(ev, [Event::Connect, Event::Up, Event::Failback]);
    let mut bytes = p.ends[I.ix()].sent[&1].bytes.clone();
    set_retransmit_flag(&mut bytes);
    p.send(I, bytes, 21).unwrap();
    assert_eq!(p.ends[I.ix()].sent[&21].e2e, e1);
    assert_eq!(p.ends[I.ix()].ended[&21], Ending::Answered(Some(2001)));
    assert!(matches!(
        p.take_got(R).last(),
        Some(Got::Request {
            duplicate: true,
            retransmit: true,
            ..
        })
    ));
    p.check_all_ended(I);
    p
}

fn s_half_message_then_silence() -> Pair {
    let mut p = open_pair();
    let t0 = p.now.0;
    let first = p.next_timer().unwrap().0;
    // The responder's side writes half a DWR, then goes silent for good.
    let dwr = expect_dwr(&server_identity(), 1, 2);
    p.inject(R, &dwr[..30]);
    p.wires[R.ix()].drop = true;
    assert_eq!(p.ends[I.ix()].rx.len(), 30, "buffered, not handed over");
    assert_eq!(p.take_ladder(), Vec::<String>::new());
    assert_eq!(p.take_got(I), NO_GOT);
    assert_eq!(p.take_events(I), NO_EVENTS);
    // Nothing happens until the watchdog timer.
    p.advance_to(first - 1);
    assert_eq!(p.take_ladder(), Vec::<String>::new());
    assert_eq!(p.take_events(I), NO_EVENTS);
    assert_eq!(p.next_timer().unwrap().0, first);
    assert!(first >= t0 + 4_000);
    let t1 = p.fire_next();
    assert_eq!(p.take_ladder(), ["I>R DWR", "R>I DWA 2001 (lost)"]);
    let t2 = p.fire_next();
    assert_eq!(p.take_events(I), [Event::Suspect]);
    let t3 = p.fire_next();
    assert_eq!(
        p.take_events(I),
        [Event::Down(DownReason::WatchdogExpired), Event::Close]
    );
    assert!(t1 < t2 && t2 < t3);
    assert_eq!(p.take_got(I), NO_GOT, "the half message never became one");
    p
}

/// Every scenario of this file, by name.
const SCENARIOS: &[(&str, Scenario)] = &[
    ("dwr-on-silence", s_dwr_on_silence),
    ("dwr-every-state", s_dwr_answered_in_every_state),
    ("watchdog", s_watchdog_failover_reopen),
    ("handback", s_handback_and_retransmit),
    ("half-message", s_half_message_then_silence),
];

#[test]
fn dwr_on_silence() {
    s_dwr_on_silence();
}

#[test]
fn dwr_answered_right_after_cea_and_in_every_state() {
    s_dwr_answered_in_every_state();
}

#[test]
fn watchdog_suspect_down_reopen_three_dwas() {
    s_watchdog_failover_reopen();
}

#[test]
fn handed_back_requests_retransmitted_keep_end_to_end() {
    s_handback_and_retransmit();
}

#[test]
fn half_message_then_silence() {
    s_half_message_then_silence();
}

/// At least this many of the replayed messages come from the machines.
const MIN_MACHINE: usize = 90;

#[test]
fn wireshark_decodes_every_emitted_message() {
    decodes_every_message(SCENARIOS, MIN_MACHINE);
}
