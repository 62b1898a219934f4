//! The base protocol through the embassy runners (RFC 6733 §5): watchdog
//! exchanges on an idle connection, DPR/DPA on shutdown, and a
//! server-initiated request (RAR, RFC 8506 §5.5) reaching its session.

mod util;

use diameter_cc::client::prepaid::PrepaidEvent;
use diameter_cc::endpoint::{Event, SessionEvent, SessionKind};
use diameter_core::dict::base::{DisconnectCause, TerminationCause};
use diameter_core::peer::{self, DownReason};
use diameter_embassy::Direction::{Received, Sent};
use diameter_sim::fixtures;
use embassy_time::{Duration, Timer};
use util::{is_peer, run, wait_event, Options};

const CER: u32 = 257;
const RAR: u32 = 258;
const CCR: u32 = 272;
const DWR: u32 = 280;
const DPR: u32 = 282;

#[test]
fn watchdog_keeps_an_idle_connection() {
    let tw = std::time::Duration::from_secs(6);
    let options = Options {
        client_tw: Some(tw),
        server_tw: Some(tw),
    };
    let (client, server, open) = run(options, Duration::from_secs(30), |p| async move {
        p.client.wait_open().await;
        // Tw is 6 s ± 2 s (RFC 3539 §3.4.1 jitter): two periods at most.
        Timer::after(Duration::from_secs(17)).await;
        (p.client_wire, p.server_wire, p.client.is_open())
    });
    assert!(open, "the connection stayed open");
    assert_eq!(client.count(Sent, CER, true), 1, "never reconnected");
    // Whoever's timer fires first asks; the other side's is reset by it.
    let asked = client.count(Sent, DWR, true) + server.count(Sent, DWR, true);
    assert!(asked >= 2, "{asked} DWRs in 17 s with Tw 6 s");
    assert_eq!(
        client.count(Sent, DWR, true),
        client.count(Received, DWR, false)
    );
    assert_eq!(
        server.count(Sent, DWR, true),
        server.count(Received, DWR, false)
    );
    client.assert_valid();
}

#[test]
fn shutdown_sends_dpr_and_stays_closed() {
    let (client, server, client_down, server_down) = run(
        Options::default(),
        Duration::from_secs(30),
        |p| async move {
            p.client.wait_open().await;
            p.client.shutdown(DisconnectCause::Rebooting);
            let c = wait_event(p.client, |e| {
                is_peer(e, |e| matches!(e, peer::Event::Down(_)))
            })
            .await;
            let s = wait_event(p.server, |e| {
                is_peer(e, |e| matches!(e, peer::Event::Down(_)))
            })
            .await;
            // No reconnection after a DPR (RFC 6733 §5.4).
            Timer::after(Duration::from_millis(1500)).await;
            assert!(!p.client.is_open());
            (p.client_wire, p.server_wire, c, s)
        },
    );
    let rebooting = i32::from(DisconnectCause::Rebooting);
    assert!(
        matches!(client_down, Event::Peer { event: peer::Event::Down(DownReason::Disconnected(c)), .. } if c == rebooting),
        "{client_down:?}"
    );
    assert!(
        matches!(server_down, Event::Peer { event: peer::Event::Down(DownReason::Disconnected(c)), .. } if c == rebooting),
        "{server_down:?}"
    );
    assert_eq!(client.count(Sent, DPR, true), 1);
    assert_eq!(client.count(Received, DPR, false), 1);
    assert_eq!(server.count(Received, DPR, true), 1);
    assert_eq!(client.count(Sent, CER, true), 1);
    client.assert_valid();
}

#[test]
fn server_reauthorizes_a_prepaid_call() {
    let (client, regrant) = run(
        Options::default(),
        Duration::from_secs(30),
        |p| async move {
            p.client.wait_open().await;
            let mut call = p
                .client
                .prepaid("rar-1@client", fixtures::parties())
                .expect("a session");
            call.start().await.expect("granted");
            call.answered().await.expect("CCR-U");
            // The server's session for this call.
            let served = wait_event(p.server, |e| {
                matches!(
                    e,
                    Event::Session {
                        event: SessionEvent::Opened(SessionKind::CreditControlServer),
                        ..
                    }
                )
            })
            .await;
            let Event::Session { session, .. } = served else {
                unreachable!()
            };
            Timer::after(Duration::from_millis(200)).await;
            let now = diameter_embassy::clock::now();
            let sent = p.server.with(|ep| ep.reauthorize(now, session));
            assert_eq!(sent, Ok(true));
            let regrant = loop {
                match call.next_event().await {
                    Some(e @ PrepaidEvent::Regranted { .. }) => break e,
                    Some(_) => {}
                    None => panic!("session closed"),
                }
            };
            call.hangup(TerminationCause::Logout).await.expect("CCA-T");
            (p.client_wire, regrant)
        },
    );
    assert!(matches!(regrant, PrepaidEvent::Regranted { .. }));
    assert_eq!(client.count(Received, RAR, true), 1);
    assert_eq!(client.count(Sent, RAR, false), 1, "RAA");
    assert_eq!(
        client.count(Sent, CCR, true),
        4,
        "CCR-I, -U, -U after the RAR, -T"
    );
    client.assert_valid();
}
