//! Our client against our server over loopback TCP: 10,000 prepaid
//! sessions open at the same time on one connection (CCR-I, CCR-U at
//! answer, CCR-T at hangup: 30,000 round trips), with no answer lost or
//! given to the wrong session.
//!
//! Every subscriber has a balance of its own, so every session's grant is
//! its own: a crossed answer would show as a wrong grant. A tap on the
//! client pairs each CCA with its CCR by Hop-by-Hop identifier and checks
//! the Session-Id echoed and Result-Code 2001.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use diameter_cc::client::prepaid::PrepaidEvent;
use diameter_cc::endpoint::{EndpointConfig, SessionEvent};
use diameter_cc::server::credit_control::{CcServerConfig, Rating};
use diameter_cc::session::WallClock;
use diameter_core::dict::base::{self, TerminationCause};
use diameter_core::{Message, ResultCode};
use diameter_sim::fixtures::Shared;
use diameter_tokio::{Authorization, Direction, Node, Target};

/// Sessions open at once.
const SESSIONS: usize = 10_000;

/// The caller of session `i`, and what its balance (hence its grant) is.
fn caller(i: usize) -> String {
    format!("{}", 100_000 + i)
}
fn balance(i: usize) -> u32 {
    500 + i as u32
}

/// A rating engine that grants each subscriber its whole balance (less
/// than the 10,800 s asked for) and remembers which subscriber each
/// session reserved for, so a crossed request shows on the server too.
#[derive(Default)]
struct Grants {
    balances: HashMap<String, u32>,
    /// Session-Id → subscriber of its reservations.
    sessions: HashMap<String, String>,
    /// Reservations whose subscriber is not the session's own.
    crossed: Vec<(String, String)>,
    /// Sessions whose reservation was released.
    released: HashSet<String>,
}

impl Rating for Grants {
    fn reserve(
        &mut self,
        session: &str,
        subscriber: &str,
        _destination: &str,
        requested: u32,
    ) -> Result<u32, ResultCode> {
        let balance = *self
            .balances
            .get(subscriber)
            .ok_or(ResultCode::USER_UNKNOWN)?;
        let known = self
            .sessions
            .entry(session.to_owned())
            .or_insert_with(|| subscriber.to_owned());
        if known != subscriber {
            self.crossed
                .push((session.to_owned(), subscriber.to_owned()));
        }
        Ok(requested.min(balance))
    }
    fn debit(
        &mut self,
        _session: &str,
        _subscriber: &str,
        _destination: &str,
        _used: u32,
    ) -> Result<(), ResultCode> {
        Ok(())
    }
    fn release(&mut self, session: &str, _subscriber: &str) {
        self.released.insert(session.to_owned());
    }
}

/// What the tap keeps of each credit-control message: Hop-by-Hop id,
/// Session-Id, Result-Code (answers).
type Seen = Arc<Mutex<Vec<(Direction, u32, String, Option<u32>)>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_concurrent_prepaid_sessions() {
    logs();
    let t0 = Instant::now();
    let mut grants = Grants::default();
    for i in 0..SESSIONS {
        grants.balances.insert(caller(i), balance(i));
    }
    let grants = Shared::new(grants);

    // Both nodes hold 16,384 sessions (the default size).
    let config = EndpointConfig::new(peer_config("ocs.diameter.test", REALM), WallClock::new(0));
    let server = Node::builder(config)
        .credit_control(CcServerConfig::new(), grants.clone())
        .listen("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .expect("server starts");

    let seen: Seen = Arc::default();
    let tap_seen = seen.clone();
    let client = Node::builder(client_config("proxy.diameter.test", REALM))
        .connect_to(Target::new(server.local_addrs()[0]))
        .tap(move |dir, _, bytes| {
            let Ok(m) = Message::new_checked(bytes) else {
                return;
            };
            if m.command_code().0 != 272 {
                return;
            }
            let sid = m.session_id().unwrap_or_default().to_owned();
            let rc = m.get(&base::RESULT_CODE).ok().flatten();
            tap_seen
                .lock()
                .unwrap()
                .push((dir, m.hop_by_hop(), sid, rc));
        })
        .start()
        .await
        .expect("client starts");
    client
        .wait_open(Duration::from_secs(10))
        .await
        .expect("the client opens");

    // Every session is open before any is answered: 10,000 at once.
    let opened = Arc::new(tokio::sync::Barrier::new(SESSIONS));
    let mut tasks = Vec::with_capacity(SESSIONS);
    for i in 0..SESSIONS {
        let client = client.clone();
        let opened = opened.clone();
        tasks.push(tokio::spawn(async move {
            let sid = format!("load-{i}@proxy.diameter.test");
            let mut call = client
                .prepaid(&sid, parties(&caller(i), "2000"))
                .await
                .map_err(|e| format!("{sid}: open: {e}"))?;
            let auth = call
                .start()
                .await
                .map_err(|e| format!("{sid}: start: {e}"))?;
            opened.wait().await;
            if auth
                != (Authorization::Allowed {
                    seconds: Some(balance(i)),
                })
            {
                return Err(format!("{sid}: got {auth:?}, its grant is {}", balance(i)));
            }
            call.answered()
                .await
                .map_err(|e| format!("{sid}: answered: {e}"))?;
            let events = call
                .hangup(TerminationCause::Logout)
                .await
                .map_err(|e| format!("{sid}: hangup: {e}"))?;
            if !events.contains(&SessionEvent::Prepaid(PrepaidEvent::Finished))
                || events.last() != Some(&SessionEvent::Closed)
            {
                return Err(format!("{sid}: ended with {events:?}"));
            }
            Ok::<(), String>(())
        }));
    }
    let mut failures = Vec::new();
    for t in tasks {
        // A lost answer would hang its session: Tx (10 s) ends it with an
        // error instead, which lands here.
        match tokio::time::timeout(Duration::from_secs(300), t).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => failures.push(e),
            Ok(Err(e)) => failures.push(format!("task: {e}")),
            Err(_) => failures.push("a session hung".into()),
        }
    }
    assert!(
        failures.is_empty(),
        "{} sessions failed, first: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    let elapsed = t0.elapsed();

    // Pair every CCA with its CCR.
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let mut out: HashMap<u32, &str> = HashMap::new();
    for (dir, hbh, sid, _) in seen.iter() {
        if *dir == Direction::Out {
            assert!(out.insert(*hbh, sid).is_none(), "Hop-by-Hop {hbh} reused");
        }
    }
    let mut answers = 0;
    let mut per_session: HashMap<&str, usize> = HashMap::new();
    for (dir, hbh, sid, rc) in seen.iter() {
        if *dir != Direction::In {
            continue;
        }
        answers += 1;
        let asked = out.get(hbh).expect("an answer to a request we sent");
        assert_eq!(asked, sid, "CCA {hbh} for another session");
        assert_eq!(*rc, Some(ResultCode::SUCCESS.0), "{sid}");
        *per_session.entry(sid).or_default() += 1;
    }
    assert_eq!(out.len(), 3 * SESSIONS, "CCR-I, CCR-U and CCR-T each");
    assert_eq!(answers, 3 * SESSIONS, "every CCR answered once");
    assert_eq!(per_session.len(), SESSIONS);
    assert!(per_session.values().all(|n| *n == 3));
    {
        let g = grants.lock();
        assert!(
            g.crossed.is_empty(),
            "{:?}",
            &g.crossed[..g.crossed.len().min(5)]
        );
        assert_eq!(g.sessions.len(), SESSIONS);
        assert_eq!(g.released.len(), SESSIONS, "every reservation released");
    }
    let s = client.stats();
    assert_eq!(s.connects, 1, "one connection all along: {s:?}");
    eprintln!(
        "{SESSIONS} prepaid sessions, {} round trips in {elapsed:?}",
        3 * SESSIONS
    );
    client.shutdown(Duration::from_secs(5)).await;
    server.shutdown(Duration::from_secs(5)).await;
}
