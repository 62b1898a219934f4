//! Many sessions through one endpoint pair, and failover between two
//! servers: no crossed or lost answers, every accounting record
//! acknowledged exactly once, retransmissions flagged T.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use diameter_cc::client::accounting::{AccountingEvent, CallInfo};
use diameter_cc::client::postpaid::PostpaidEvent;
use diameter_cc::client::prepaid::PrepaidEvent;
use diameter_cc::endpoint::{Event, SessionEvent, SessionHandle};
use diameter_cc::session::session_id_from;
use diameter_cc::CreditControl;
use diameter_core::dict::base::{self, AccountingRecordType, TerminationCause};
use diameter_core::peer::Role;
use diameter_core::{CommandCode, Message, ResultCode};
use diameter_sim::fixtures::{self, Client, Server};
use diameter_sim::Net;

/// Endpoints of this size are large: run on a thread with room for them.
fn big_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

fn session_events(net: &Net, node: usize) -> HashMap<SessionHandle, Vec<SessionEvent>> {
    let mut m: HashMap<SessionHandle, Vec<SessionEvent>> = HashMap::new();
    for e in net.events_of(node) {
        if let Event::Session { session, event } = e {
            m.entry(*session).or_default().push(*event);
        }
    }
    m
}

#[test]
fn a_thousand_concurrent_sessions_of_mixed_kinds() {
    big_stack(|| {
        type C = Client<2, 1024>;
        type S = Server<2, 1024>;
        const N: usize = 1000;
        let mut ledger = fixtures::ledger();
        for i in 0..N {
            ledger.set(&format!("sub{i}"), 3600);
        }
        let mut net = Net::new(11);
        let server = net.add(fixtures::server::<2, 1024>(ledger));
        let client = net.add(fixtures::client::<2, 1024>());
        let peer = net
            .node::<C>(client)
            .add_peer(Role::Initiator, None)
            .unwrap();
        net.route(client, peer, server);
        let now = net.now();
        net.node::<C>(client).start(now);
        net.run_for(Duration::from_millis(10));

        // Open and set up every call at the same instant.
        let now = net.now();
        let mut calls = Vec::new();
        for i in 0..N {
            let sid = format!("call-{i}");
            let parties = fixtures::parties_of(&format!("sub{i}"), "1002");
            let ep = net.node::<C>(client);
            let h = match i % 3 {
                0 => ep.open_prepaid(now, &sid, parties).unwrap(),
                1 => ep.open_postpaid(now, &sid, parties).unwrap(),
                _ => ep
                    .open_accounting(now, CallInfo::new(session_id_from(&sid).unwrap()))
                    .unwrap(),
            };
            ep.call_setup(now, h).unwrap();
            calls.push((i, sid, h));
        }
        net.run_for(Duration::from_secs(1));
        let now = net.now();
        for (_, _, h) in &calls {
            net.node::<C>(client).call_answered(now, *h).unwrap();
        }
        // Each call lasts its own time: answers crossed between sessions
        // would show as wrong debits.
        for step in 1..=60u64 {
            net.run_for(Duration::from_secs(1));
            let now = net.now();
            for (i, _, h) in &calls {
                if (*i as u64 % 60) + 1 == step {
                    net.node::<C>(client)
                        .call_ended(now, *h, TerminationCause::Logout)
                        .unwrap();
                }
            }
        }
        net.run_for(Duration::from_secs(5));

        let events = session_events(&net, client);
        let ledger = net
            .node::<S>(server)
            .credit_control_server()
            .unwrap()
            .rating()
            .clone();
        let stored = net
            .node::<S>(server)
            .accounting_server()
            .unwrap()
            .sink()
            .stored
            .clone();
        for (i, sid, h) in &calls {
            let ev = &events[h];
            let duration = (*i as u32 % 60) + 1;
            assert_eq!(ev.last(), Some(&SessionEvent::Closed), "{sid}: {ev:?}");
            match i % 3 {
                0 => {
                    assert_eq!(
                        ev[0],
                        SessionEvent::Prepaid(PrepaidEvent::Allowed {
                            seconds: Some(3600)
                        }),
                        "{sid}"
                    );
                    assert_eq!(ledger.debited(sid), u64::from(duration), "{sid}");
                }
                1 => {
                    assert_eq!(
                        ev[0],
                        SessionEvent::Postpaid(PostpaidEvent::Charged(ResultCode::SUCCESS)),
                        "{sid}"
                    );
                    assert_eq!(ledger.debited(sid), u64::from(duration), "{sid}");
                }
                _ => {
                    let acked: Vec<_> = ev
                        .iter()
                        .filter_map(|e| match e {
                            SessionEvent::Accounting(AccountingEvent::RecordAcknowledged {
                                number,
                                ..
                            }) => Some(*number),
                            _ => None,
                        })
                        .collect();
                    assert_eq!(acked, [0, 1], "{sid}");
                    let mine: Vec<_> = stored.iter().filter(|r| &r.session_id == sid).collect();
                    assert_eq!(mine.len(), 2, "{sid}");
                }
            }
        }
        assert_eq!(net.node::<C>(client).session_count(), 0);
        assert!(ledger.reserved.is_empty());
        assert_eq!(net.node::<C>(client).stats().unmatched_answers, 0);
        assert_eq!(net.node::<C>(client).stats().stale_answers, 0);
    });
}

#[test]
fn accounting_fails_over_to_the_second_server_and_no_record_is_lost() {
    big_stack(|| {
        type C = Client<2, 64>;
        type S = Server<2, 64>;
        const CALLS: usize = 40;
        let mut config = fixtures::client_config();
        if let Some(a) = config.accounting.as_mut() {
            a.interim_interval = Some(10);
        }
        let mut net = Net::new(13);
        let a = net.add(fixtures::server::<2, 64>(fixtures::ledger()));
        let b = net.add(fixtures::server_named::<2, 64>(
            fixtures::SERVER2,
            fixtures::ledger(),
        ));
        let client = net.add(fixtures::client_with::<2, 64>(config));
        let pa = net
            .node::<C>(client)
            .add_peer(Role::Initiator, None)
            .unwrap();
        let pb = net
            .node::<C>(client)
            .add_peer(Role::Initiator, None)
            .unwrap();
        net.route(client, pa, a);
        net.route(client, pb, b);
        let now = net.now();
        net.node::<C>(client).start(now);
        net.run_for(Duration::from_millis(10));

        let mut calls = Vec::new();
        for i in 0..CALLS {
            // Staggered starts, so records are in flight when A dies.
            net.run_for(Duration::from_millis(250));
            let now = net.now();
            let sid = format!("acct-{i}");
            let h = net
                .node::<C>(client)
                .open_accounting(now, CallInfo::new(session_id_from(&sid).unwrap()))
                .unwrap();
            net.node::<C>(client).call_answered(now, h).unwrap();
            calls.push((sid, h));
        }
        // A is slow to answer (300 ms): when it dies, records are in flight.
        net.set_filter(move |f| {
            if f.from == a {
                diameter_sim::Verdict::Delay(Duration::from_millis(300))
            } else {
                diameter_sim::Verdict::Deliver
            }
        });
        net.run_for(Duration::from_millis(4_321));
        net.kill(a);
        net.run_for(Duration::from_secs(30));
        let now = net.now();
        for (_, h) in &calls {
            net.node::<C>(client)
                .call_ended(now, *h, TerminationCause::Logout)
                .unwrap();
        }
        net.run_for(Duration::from_secs(60));

        // Every record acknowledged exactly once, and every session over.
        let events = session_events(&net, client);
        let mut numbers: BTreeMap<String, u32> = BTreeMap::new();
        for (sid, h) in &calls {
            let ev = &events[h];
            assert_eq!(ev.last(), Some(&SessionEvent::Closed), "{sid}: {ev:?}");
            let acked: Vec<(u32, AccountingRecordType)> = ev
                .iter()
                .filter_map(|e| match e {
                    SessionEvent::Accounting(AccountingEvent::RecordAcknowledged {
                        number,
                        record_type,
                    }) => Some((*number, *record_type)),
                    _ => None,
                })
                .collect();
            let n = acked.len() as u32;
            assert!(n >= 2, "{sid}: {acked:?}");
            assert!(
                acked.iter().map(|a| a.0).eq(0..n),
                "{sid}: each record once, in order: {acked:?}"
            );
            assert_eq!(acked.last().unwrap().1, AccountingRecordType::StopRecord);
            numbers.insert(sid.clone(), n);
        }
        // Stored at least once, by A before it died or by B; a second copy
        // is always a retransmission (T flag).
        let sa = net
            .node::<S>(a)
            .accounting_server()
            .unwrap()
            .sink()
            .stored
            .clone();
        let sb = net
            .node::<S>(b)
            .accounting_server()
            .unwrap()
            .sink()
            .stored
            .clone();
        assert!(!sa.is_empty() && !sb.is_empty(), "both servers worked");
        for (sid, n) in &numbers {
            for k in 0..*n {
                let copies: Vec<_> = sa
                    .iter()
                    .chain(sb.iter())
                    .filter(|r| &r.session_id == sid && r.number == k)
                    .collect();
                assert!(!copies.is_empty(), "{sid} #{k} lost");
                assert!(
                    copies.iter().skip(1).all(|r| r.retransmission),
                    "{sid} #{k}: {copies:?}"
                );
            }
        }
        // On the wire: an ACR sent again after the failover keeps its
        // End-to-End id and carries the T flag.
        let mut first: HashMap<(String, u32), u32> = HashMap::new();
        let mut resent = 0;
        for f in net.frames.iter().filter(|f| f.from == client) {
            let Ok(m) = Message::parse_with(&f.bytes, &CreditControl) else {
                continue;
            };
            if m.command_code() != CommandCode::ACCOUNTING || !m.is_request() {
                continue;
            }
            let key = (
                m.session_id().unwrap().to_owned(),
                m.get(&base::ACCOUNTING_RECORD_NUMBER).unwrap().unwrap(),
            );
            match first.get(&key) {
                None => {
                    assert!(!m.flags().is_retransmit(), "{key:?} first copy has T");
                    first.insert(key, m.end_to_end());
                }
                Some(&e2e) => {
                    resent += 1;
                    assert!(m.flags().is_retransmit(), "{key:?} resent without T");
                    assert_eq!(
                        m.end_to_end(),
                        e2e,
                        "{key:?} resent with a new End-to-End id"
                    );
                }
            }
        }
        assert!(resent > 0, "the failover resent records");
        assert!(net.node::<C>(client).stats().failovers > 0);
    });
}
