//! Peer machines (`diameter_core::peer`) through the simulator of
//! `peer_harness`: hostile input from the peer (garbage requests and
//! answers, random bodies behind valid headers, non-Diameter bytes, garbage
//! before the CER, a 16 MiB length).

mod peer_harness;

use diameter_core::dict::base;
use diameter_core::peer::{DownReason, DropReason, Event, Incoming, Peer, PeerState, Role};
use diameter_core::time::Instant;
use diameter_core::{ErrorKind, Framer};
use peer_harness::wireshark::{decodes_every_message, Scenario};
use peer_harness::Side::{I, R};
use peer_harness::*;

// ---------------------------------------------------------------------------
// Scenarios (each returns its Pair so the Wireshark test can replay it)
// ---------------------------------------------------------------------------

fn s_garbage() -> Pair {
    let mut p = open_pair();
    p.auto_answer[R.ix()] = false;
    p.send(I, acr(CLIENT, "client.example.org;1;garbage", 1), 1)
        .unwrap();
    p.take_ladder();
    p.take_got(R);

    // A well-framed request whose AVP length is impossible: 5014, answered.
    let mut g = vec![1, 0, 0, 28, 0xc0, 0, 1, 15, 0, 0, 0, 3];
    g.extend_from_slice(&0x0102_0304u32.to_be_bytes());
    g.extend_from_slice(&0x0506_0708u32.to_be_bytes());
    g.extend_from_slice(&[0, 0, 1, 7, 0x40, 0, 0, 3]);
    p.inject(I, &g);
    assert_eq!(p.take_got(R), [Got::Rejected(5014)]);
    assert_eq!(p.take_ladder(), ["R>I ACA 5014"]);
    let ans = p.last(R, "ACA");
    assert_eq!(ids(&ans), (0x0102_0304, 0x0506_0708));
    assert_eq!(p.take_got(I), [Got::Dropped(DropReason::UnmatchedAnswer)]);

    // A request with the E bit: 3008, E bit.
    let mut e = acr(CLIENT, "client.example.org;2;garbage", 2);
    e[4] |= 0x20;
    p.inject(I, &raw_request(e, 0x0a0a_0a0a, 0x0b0b_0b0b));
    assert_eq!(p.take_got(R), [Got::Rejected(3008)]);
    assert_eq!(p.take_ladder(), ["R>I ACA 3008 E"]);
    assert_eq!(p.take_got(I), [Got::Dropped(DropReason::UnmatchedAnswer)]);

    // A malformed answer to our pending request. Changed on purpose:
    // answers are validated now, and one that fails validation but matches
    // a pending request ends that request with Incoming::InvalidAnswer
    // (before, it was dropped and the request stayed pending). The same
    // bytes again match nothing any more: dropped as a malformed answer.
    let req = p.ends[R.ix()].requests[0].clone();
    let mut bad = answer_for(&server_cfg(), &req, 2001);
    let n = bad.len();
    bad[n - 5] = 0xff; // Accounting-Record-Number's length: 0xff..
    bad[n - 6] = 0xff;
    p.inject(R, &bad);
    assert_eq!(p.take_got(I), [Got::InvalidAnswer { token: 1, rc: 5014 }]);
    assert_eq!(p.ends[I.ix()].ended[&1], Ending::Invalid(5014));
    assert_eq!(p.peer(I).pending_len(), 0);
    assert_eq!(p.peer(I).stats().invalid_answers, 1);
    p.inject(R, &bad);
    assert_eq!(p.take_got(I), [Got::Dropped(DropReason::MalformedAnswer)]);
    assert!(p.peer(I).is_open(), "an invalid answer does not close");
    // Another request, pending for the rest of the scenario.
    p.send(I, acr(CLIENT, "client.example.org;3;garbage", 3), 3)
        .unwrap();
    p.take_ladder();
    p.take_got(R);
    assert_eq!(p.peer(I).pending_len(), 1);

    // Random bytes behind a valid header: always an error answer or a drop,
    // never a panic, the connection stays open.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for round in 0..200u32 {
        let mut body = Vec::new();
        let len = 4 * (round as usize % 24);
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            body.push(x as u8);
        }
        let flags = if round % 3 == 0 { 0x00 } else { 0x80 };
        let mut m = vec![1, 0, 0, 0, flags, 0, 1, 15, 0, 0, 0, 3];
        m.extend_from_slice(&(0x1000_0000 + round).to_be_bytes());
        m.extend_from_slice(&round.to_be_bytes());
        m.extend_from_slice(&body);
        let total = m.len() as u32;
        m[1..4].copy_from_slice(&total.to_be_bytes()[1..]);
        p.inject(I, &m);
        let got = p.take_got(R);
        assert_eq!(got.len(), 1, "{got:?}");
        match &got[0] {
            Got::Rejected(_) => {
                let l = p.take_ladder();
                assert_eq!(l.len(), 1, "one error answer: {l:?}");
            }
            Got::Dropped(_) | Got::Request { .. } => {
                assert_eq!(p.take_ladder(), Vec::<String>::new());
            }
            other => panic!("{other:?}"),
        }
        assert!(p.peer(R).is_open());
    }
    p.take_got(I);

    // Bytes that are not Diameter at all (version 2): the framer gives up,
    // the transport closes; the pending request is handed back.
    p.inject(I, b"GET / HTTP/1.1\r\nHost: server.example.org\r\n\r\n");
    assert_eq!(
        p.framing_errors.last().map(|e| (e.1, e.2)),
        Some((R, ErrorKind::UnsupportedVersion))
    );
    assert!(!p.conn);
    let ev = p.take_events(I);
    assert_eq!(
        ev[..2],
        [
            Event::Down(DownReason::TransportClosed),
            Event::RequestHandedBack {
                token: 3,
                end_to_end: p.ends[I.ix()].sent[&3].e2e
            }
        ]
    );
    assert_eq!(p.take_events(R), [Event::Down(DownReason::TransportClosed)]);
    p.check_all_ended(I);

    // Garbage before the CER: an unparseable request is answered with its
    // error and (changed on purpose: nothing but a valid CER may open the
    // connection) the connection is closed with that error; an application
    // request closes the connection (5012).
    let mut q = Pair::new(client_cfg(), server_cfg());
    q.conn = true;
    let now = q.now;
    q.end_mut(R).peer.handle_connected(now);
    let mut early = raw_request(acr(CLIENT, "c;1", 1), 5, 6);
    early[4] |= 0x20; // E bit on a request: unparseable
    q.inject(I, &early);
    assert_eq!(q.take_got(R), [Got::Rejected(3008)]);
    assert_eq!(q.take_ladder(), ["R>I ACA 3008 E"]);
    assert_eq!(
        q.take_events(R),
        [
            Event::Down(DownReason::ProtocolError(
                diameter_core::ResultCode::INVALID_HDR_BITS
            )),
            Event::Close
        ]
    );
    assert!(!q.conn);
    assert_eq!(q.peer(R).state(), PeerState::Closed);

    let mut q = Pair::new(client_cfg(), server_cfg());
    q.conn = true;
    let now = q.now;
    q.end_mut(R).peer.handle_connected(now);
    assert_eq!(q.peer(R).state(), PeerState::WaitCer);
    q.inject(I, &raw_request(acr(CLIENT, "c;1", 1), 5, 6));
    assert_eq!(q.take_got(R), [Got::Dropped(DropReason::NotOpen)]);
    assert_eq!(
        q.take_events(R),
        [
            Event::Down(DownReason::ProtocolError(
                diameter_core::ResultCode::UNABLE_TO_COMPLY
            )),
            Event::Close
        ]
    );
    assert!(!q.conn);
    p
}

fn s_huge_length() -> Pair {
    let mut p = open_pair();
    p.auto_answer[R.ix()] = false;
    p.send(I, acr(CLIENT, "client.example.org;1;huge", 1), 1)
        .unwrap();
    // A header announcing a 16 MiB message (the 24-bit maximum).
    let mut hdr = vec![1, 0xff, 0xff, 0xfc, 0x80, 0, 1, 15, 0, 0, 0, 3];
    hdr.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2]);
    assert_eq!(
        Framer::default().check(&hdr).unwrap_err().kind(),
        ErrorKind::MessageTooLarge
    );
    // Handed to the machine directly (a transport that skipped the framer),
    // the 20 bytes are answered with 5015 and cost nothing.
    {
        let cfg = server_cfg();
        let mut lone: TestPeer = Peer::new(cfg, Role::Responder, Instant::ZERO);
        lone.handle_connected(Instant::ZERO);
        assert!(matches!(
            lone.handle_message(Instant::ZERO, &hdr, &base::Base),
            Incoming::Rejected(e) if e.result_code().get() == 5015
        ));
        assert_eq!(result_code(lone.transmit()), Some(5015));
    }
    p.inject(R, &hdr);
    assert_eq!(
        p.framing_errors.last().map(|e| (e.1, e.2)),
        Some((I, ErrorKind::MessageTooLarge))
    );
    assert!(!p.conn, "the transport closes");
    let ev = p.take_events(I);
    assert_eq!(ev[0], Event::Down(DownReason::TransportClosed));
    assert!(matches!(ev[1], Event::RequestHandedBack { token: 1, .. }));
    p.check_all_ended(I);
    // Not a multiple of four: also fatal.
    let mut q = open_pair();
    q.inject(R, &[1, 0xff, 0xff, 0xff]);
    assert_eq!(
        q.framing_errors.last().map(|e| e.2),
        Some(ErrorKind::InvalidMessageLength)
    );
    assert!(!q.conn);
    p
}

/// Every scenario of this file, by name.
const SCENARIOS: &[(&str, Scenario)] = &[("garbage", s_garbage), ("huge-length", s_huge_length)];

#[test]
fn garbage_from_peer() {
    s_garbage();
}

#[test]
fn sixteen_mib_length() {
    s_huge_length();
}

/// At least this many of the replayed messages come from the machines.
const MIN_MACHINE: usize = 120;

#[test]
fn wireshark_decodes_every_emitted_message() {
    decodes_every_message(SCENARIOS, MIN_MACHINE);
}
