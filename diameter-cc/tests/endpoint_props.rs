//! Property: whatever the network does for a while (lost messages, slow
//! answers, broken connections, a dead server), once it heals every session
//! ends: none waits forever, and money is never taken twice.

use std::collections::HashMap;
use std::time::Duration;

use diameter_cc::client::accounting::CallInfo;
use diameter_cc::dict::CreditControlFailureHandling;
use diameter_cc::endpoint::{Event, SessionEvent, SessionHandle};
use diameter_cc::session::session_id_from;
use diameter_core::dict::base::TerminationCause;
use diameter_core::peer::Role;
use diameter_core::time::Instant;
use diameter_sim::fixtures::{self, Client, Server};
use diameter_sim::{Net, Verdict};
use proptest::prelude::*;

type C = Client<2, 32>;
type S = Server<2, 32>;

#[derive(Debug, Clone)]
struct Call {
    kind: u8,
    setup_ms: u64,
    ring_ms: u64,
    talk_s: u64,
}

#[derive(Debug, Clone)]
enum Trouble {
    /// Lose this share (percent) of messages until the network heals.
    Loss(u8),
    /// Break the connection at this time (ms).
    Break(u64),
    /// The server is dead from this time (ms) for this long (s).
    Outage(u64, u64),
    /// Server answers take this long (ms) until the network heals.
    Slow(u64),
}

fn call() -> impl Strategy<Value = Call> {
    (0u8..3, 0u64..20_000, 0u64..5_000, 0u64..200).prop_map(|(kind, setup_ms, ring_ms, talk_s)| {
        Call {
            kind,
            setup_ms,
            ring_ms,
            talk_s,
        }
    })
}

fn trouble() -> impl Strategy<Value = Trouble> {
    prop_oneof![
        (1u8..40).prop_map(Trouble::Loss),
        (0u64..120_000).prop_map(Trouble::Break),
        (0u64..120_000, 1u64..300).prop_map(|(t, d)| Trouble::Outage(t, d)),
        (1u64..30_000).prop_map(Trouble::Slow),
    ]
}

fn ccfh() -> impl Strategy<Value = CreditControlFailureHandling> {
    prop_oneof![
        Just(CreditControlFailureHandling::Terminate),
        Just(CreditControlFailureHandling::Continue),
        Just(CreditControlFailureHandling::RetryAndTerminate),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn every_session_ends_once_the_network_heals(
        calls in proptest::collection::vec(call(), 1..12),
        troubles in proptest::collection::vec(trouble(), 0..4),
        ccfh in ccfh(),
        seed in any::<u64>(),
    ) {
        let mut config = fixtures::client_config();
        if let Some(p) = config.prepaid.as_mut() {
            p.failure_handling = ccfh;
        }
        if let Some(a) = config.accounting.as_mut() {
            a.interim_interval = Some(30);
        }
        let mut net = Net::new(seed);
        let server = net.add(fixtures::server::<2, 32>(fixtures::ledger()));
        let client = net.add(fixtures::client_with::<2, 32>(config));
        let peer = net.node::<C>(client).add_peer(Role::Initiator, None).unwrap();
        net.route(client, peer, server);
        net.node::<C>(client).start(Instant::ZERO);

        // The trouble lasts until `heal`.
        let heal = Instant::from_secs(400);
        let mut slow = 0;
        for t in &troubles {
            match t {
                Trouble::Loss(p) => net.loss = f64::from(*p) / 100.0,
                Trouble::Slow(ms) => slow = *ms,
                _ => {}
            }
        }
        if slow > 0 {
            net.set_filter(move |f| {
                if f.from == 0 && f.sent < heal {
                    Verdict::Delay(Duration::from_millis(slow))
                } else {
                    Verdict::Deliver
                }
            });
        }
        // A timeline of what happens when.
        let mut timeline: Vec<(u64, usize, u8)> = Vec::new(); // (ms, call, step)
        for (i, c) in calls.iter().enumerate() {
            timeline.push((c.setup_ms, i, 0));
            timeline.push((c.setup_ms + c.ring_ms, i, 1));
            timeline.push((c.setup_ms + c.ring_ms + c.talk_s * 1000, i, 2));
        }
        for t in &troubles {
            match t {
                Trouble::Break(ms) => timeline.push((*ms, usize::MAX, 3)),
                Trouble::Outage(ms, d) => {
                    timeline.push((*ms, usize::MAX, 4));
                    timeline.push((ms + d * 1000, usize::MAX, 5));
                }
                _ => {}
            }
        }
        timeline.push((heal.0, usize::MAX, 6));
        timeline.sort();
        let mut handles: HashMap<usize, SessionHandle> = HashMap::new();
        for (ms, i, step) in timeline {
            net.run_until(Instant(ms));
            let now = net.now();
            match step {
                0 => {
                    let c = &calls[i];
                    let sid = format!("prop-{i}");
                    let ep = net.node::<C>(client);
                    let h = match c.kind {
                        0 => ep.open_prepaid(now, &sid, fixtures::parties()).unwrap(),
                        1 => ep.open_postpaid(now, &sid, fixtures::parties()).unwrap(),
                        _ => ep.open_accounting(now, CallInfo::new(session_id_from(&sid).unwrap())).unwrap(),
                    };
                    let _ = ep.call_setup(now, h);
                    handles.insert(i, h);
                }
                1 => { let _ = net.node::<C>(client).call_answered(now, handles[&i]); }
                2 => { let _ = net.node::<C>(client).call_ended(now, handles[&i], TerminationCause::Logout); }
                3 => net.break_links(server),
                4 => net.kill(server),
                5 => net.revive(server),
                _ => {
                    net.loss = 0.0;
                    net.revive(server);
                }
            }
        }
        // Healed: everything must end, without anyone's help.
        net.run_for(Duration::from_secs(3 * 3600));
        let mut closed: HashMap<SessionHandle, usize> = HashMap::new();
        for e in net.events_of(client) {
            if let Event::Session { session, event: SessionEvent::Closed } = e {
                *closed.entry(*session).or_default() += 1;
            }
        }
        for (i, h) in &handles {
            prop_assert_eq!(closed.get(h).copied(), Some(1), "call {} {:?} never ended", i, calls[*i]);
        }
        prop_assert_eq!(net.node::<C>(client).session_count(), 0);
        // The server side ends too: nothing reserved, nothing left open
        // beyond Tcc.
        net.run_for(Duration::from_secs(7 * 3600));
        let ledger = net.node::<S>(server).credit_control_server().unwrap().rating().clone();
        prop_assert!(ledger.reserved.is_empty(), "reservations left: {:?}", ledger.reserved);
        prop_assert_eq!(net.node::<S>(server).session_count(), 0);
        // Never charged more than the call lasted.
        for (i, c) in calls.iter().enumerate() {
            let charged = ledger.debited(&format!("prop-{i}"));
            prop_assert!(charged <= c.talk_s + 1, "call {} charged {} for {} s", i, charged, c.talk_s);
        }
    }
}
