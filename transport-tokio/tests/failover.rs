//! Failover under load: a client with two servers in priority order runs
//! prepaid calls and their accounting (START, INTERIM every second, STOP)
//! against the first; the first crashes mid-run (behind a [`Relay`]: its
//! answers are held back first, so it has stored records and answered
//! CCRs whose answers never arrive, then every connection is cut and new
//! ones refused); the client fails over to the second.
//!
//! Both servers store records in one deduplicating sink keyed by
//! (Session-Id, Accounting-Record-Number), as two servers in front of one
//! database would. Every record of the run must be acknowledged to the
//! client exactly once and stored exactly once; the records the first
//! server stored but could not acknowledge come again, with the T flag,
//! and the sink sees them as retransmitted duplicates. CCRs in flight at
//! the crash go again to the second server, with the T flag and their
//! first End-to-End identifier.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use diameter_cc::client::accounting::AccountingEvent;
use diameter_cc::client::prepaid::PrepaidEvent;
use diameter_cc::endpoint::{EndpointConfig, SessionEvent};
use diameter_cc::server::accounting::{
    AccountingRecord, AccountingServerConfig, AccountingSink, SinkError,
};
use diameter_cc::server::credit_control::{CcServerConfig, Rating};
use diameter_cc::session::WallClock;
use diameter_core::dict::base::{AccountingRecordType, TerminationCause};
use diameter_core::{Message, ResultCode};
use diameter_sim::fixtures::Shared;
use diameter_tokio::{Direction, Node, Target};

/// Grants up to ten minutes to anyone.
#[derive(Default)]
struct Generous;

impl Rating for Generous {
    fn reserve(&mut self, _: &str, _: &str, _: &str, requested: u32) -> Result<u32, ResultCode> {
        Ok(requested.min(600))
    }
    fn debit(&mut self, _: &str, _: &str, _: &str, _: u32) -> Result<(), ResultCode> {
        Ok(())
    }
    fn release(&mut self, _: &str, _: &str) {}
}

/// One record as the database keeps it.
#[derive(Debug, Clone)]
struct Row {
    record_type: AccountingRecordType,
    server: &'static str,
}

/// A record that came again, already stored.
#[derive(Debug, Clone)]
struct Duplicate {
    session_id: String,
    number: u32,
    retransmission: bool,
    server: &'static str,
}

/// The database both servers write to: each (Session-Id, number) once.
#[derive(Default)]
struct Dedup {
    rows: HashMap<(String, u32), Row>,
    duplicates: Vec<Duplicate>,
    /// Records per server, first copies and duplicates alike, and how many
    /// of them carried the T flag.
    seen: BTreeMap<&'static str, (usize, usize)>,
}

/// One server's connection to the [`Dedup`] database.
struct Store {
    server: &'static str,
    db: Shared<Dedup>,
}

impl AccountingSink for Store {
    fn record(&mut self, rec: &AccountingRecord<'_>) -> Result<(), SinkError> {
        let mut guard = self.db.lock();
        let db = &mut *guard;
        let seen = db.seen.entry(self.server).or_default();
        seen.0 += 1;
        seen.1 += usize::from(rec.retransmission);
        let key = (rec.session_id.to_owned(), rec.number);
        match db.rows.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => db.duplicates.push(Duplicate {
                session_id: e.key().0.clone(),
                number: e.key().1,
                retransmission: rec.retransmission,
                server: self.server,
            }),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(Row {
                    record_type: rec.record_type,
                    server: self.server,
                });
            }
        }
        Ok(())
    }
}

/// What a tap keeps of a credit-control or accounting message.
#[derive(Debug, Clone)]
struct Msg {
    dir: Direction,
    code: u32,
    request: bool,
    retransmit: bool,
    end_to_end: u32,
    session_id: String,
    /// CC-Request-Type of a CCR.
    cc_type: Option<u32>,
}

type Trace = Arc<Mutex<Vec<Msg>>>;

fn tracer(
    trace: &Trace,
) -> impl Fn(Direction, Option<std::net::SocketAddr>, &[u8]) + Send + Sync + 'static {
    let trace = trace.clone();
    move |dir, _, bytes| {
        let Ok(m) = Message::new_checked(bytes) else {
            return;
        };
        let code = m.command_code().0;
        if code != 271 && code != 272 {
            return;
        }
        let cc_type = m.find(416, 0).and_then(|a| {
            let d: [u8; 4] = a.data().try_into().ok()?;
            Some(u32::from_be_bytes(d))
        });
        trace.lock().unwrap().push(Msg {
            dir,
            code,
            request: m.is_request(),
            retransmit: m.flags().is_retransmit(),
            end_to_end: m.end_to_end(),
            session_id: m.session_id().unwrap_or_default().to_owned(),
            cc_type,
        });
    }
}

async fn charging_server(name: &'static str, db: &Shared<Dedup>, trace: &Trace) -> Node {
    let config = EndpointConfig::new(
        peer_config(&format!("{name}.diameter.test"), REALM),
        WallClock::new(0),
    );
    Node::builder(config)
        .credit_control(CcServerConfig::new(), Shared::new(Generous))
        .accounting(
            AccountingServerConfig::new(),
            Store {
                server: name,
                db: db.clone(),
            },
        )
        .tap(tracer(trace))
        .listen("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .expect("server starts")
}

/// What one call saw.
#[derive(Debug)]
struct Outcome {
    acct_session: String,
    /// Accounting events, from START to the end.
    acct: Vec<SessionEvent>,
    /// The prepaid session's end, or why it could not run.
    prepaid: Result<Vec<SessionEvent>, String>,
}

/// One call: prepaid credit control and accounting side by side.
async fn call(client: Node, n: usize, talk: Duration) -> Result<Outcome, String> {
    let cc_sid = format!("cc-{n}@proxy.diameter.test");
    let acct_sid = format!("acct-{n}@proxy.diameter.test");
    let mut cc = client
        .prepaid(&cc_sid, parties("1001", "1002"))
        .await
        .map_err(|e| format!("{cc_sid}: {e}"))?;
    let mut acct = client
        .accounting(call_info(&acct_sid, "1001"))
        .await
        .map_err(|e| format!("{acct_sid}: {e}"))?;
    // A CCR-I lost in the crash is answered by the second server; a CCR-U
    // or -T may not be (the session was bound to the first server), and
    // the prepaid session then ends by its failure handling: either way
    // it ends, and the accounting must not suffer from it.
    let prepaid = async {
        cc.start().await.map_err(|e| format!("start: {e}"))?;
        cc.answered().await.map_err(|e| format!("answered: {e}"))?;
        tokio::time::sleep(talk).await;
        cc.hangup(TerminationCause::Logout)
            .await
            .map_err(|e| format!("hangup: {e}"))
    };
    let accounting = async {
        acct.start().await.map_err(|e| format!("start: {e}"))?;
        acct.answered()
            .await
            .map_err(|e| format!("answered: {e}"))?;
        tokio::time::sleep(talk).await;
        acct.hangup(TerminationCause::Logout)
            .await
            .map_err(|e| format!("{acct_sid}: hangup: {e}"))
    };
    let (prepaid, acct) = tokio::join!(prepaid, accounting);
    Ok(Outcome {
        acct_session: acct_sid,
        acct: acct?,
        prepaid,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_server_crashes_and_every_record_is_stored_once() {
    logs();
    let db = Shared::new(Dedup::default());
    let (trace1, trace2, trace_client): (Trace, Trace, Trace) = Default::default();
    let server1 = charging_server("ocs1", &db, &trace1).await;
    let server2 = charging_server("ocs2", &db, &trace2).await;
    let relay = Relay::start(server1.local_addrs()[0]).await;

    let mut config = client_config("proxy.diameter.test", REALM);
    config
        .accounting
        .as_mut()
        .expect("client_config sets up accounting")
        .interim_interval = Some(1);
    let client = Node::builder(config)
        .connect_to(Target::new(relay.addr))
        .connect_to(Target::new(server2.local_addrs()[0]))
        .tap(tracer(&trace_client))
        .start_sized::<4, 4096>()
        .await
        .expect("client starts");
    let mut both_open = false;
    for _ in 0..400 {
        let peers = client.peers().await.expect("client runs");
        if peers.iter().filter(|p| p.open).count() == 2 {
            both_open = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(both_open, "both servers open");

    // A call every 10 ms, each 0.5 to 2.5 s long (1 to 3 INTERIMs).
    let running = Arc::new(AtomicBool::new(true));
    let spawner = {
        let client = client.clone();
        let running = running.clone();
        tokio::spawn(async move {
            let mut calls = Vec::new();
            let mut n = 0;
            while running.load(Ordering::Relaxed) {
                let talk = Duration::from_millis(500 + (n as u64 * 389) % 2000);
                calls.push(tokio::spawn(call(client.clone(), n, talk)));
                n += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            calls
        })
    };

    let stored_by = |server: &str| db.lock().seen.get(server).map_or(0, |s| s.0);
    let ccr_initials = |trace: &Trace| {
        trace
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.dir == Direction::In && m.request && m.cc_type == Some(1))
            .count()
    };
    assert!(
        until(60, || stored_by("ocs1") >= 300).await,
        "the first server stores records"
    );
    assert_eq!(stored_by("ocs2"), 0, "nothing goes to the second yet");

    // The crash: answers stop coming back, while the first server keeps
    // storing records and answering CCRs; then it is gone.
    relay.hold();
    let (records_then, initials_then) = (stored_by("ocs1"), ccr_initials(&trace1));
    assert!(
        until(60, || stored_by("ocs1") >= records_then + 10
            && ccr_initials(&trace1) >= initials_then + 3)
        .await,
        "the first server takes more records and CCR-Is after the hold"
    );
    relay.kill();
    server1.shutdown(Duration::from_secs(1)).await;
    let lost_records = stored_by("ocs1") - records_then;

    // The second server takes over; the run goes on a while.
    assert!(
        until(60, || stored_by("ocs2") >= lost_records + 200).await,
        "the second server takes the load"
    );
    running.store(false, Ordering::Relaxed);
    let calls = spawner.await.unwrap();
    let total = calls.len();
    let mut outcomes = Vec::new();
    for c in calls {
        match tokio::time::timeout(Duration::from_secs(120), c).await {
            Ok(Ok(Ok(o))) => outcomes.push(o),
            other => panic!("a call failed: {other:?}"),
        }
    }

    // Every record of every call acknowledged to the client once, numbers
    // 0..=n with the STOP last.
    let mut acked = HashMap::new();
    for o in &outcomes {
        let numbers: Vec<(u32, AccountingRecordType)> = o
            .acct
            .iter()
            .filter_map(|e| match e {
                SessionEvent::Accounting(AccountingEvent::RecordAcknowledged {
                    number,
                    record_type,
                }) => Some((*number, *record_type)),
                _ => None,
            })
            .collect();
        assert!(
            o.acct
                .contains(&SessionEvent::Accounting(AccountingEvent::Finished)),
            "{}: {:?}",
            o.acct_session,
            o.acct
        );
        assert!(numbers.len() >= 2, "{}: {numbers:?}", o.acct_session);
        for (i, (n, t)) in numbers.iter().enumerate() {
            assert_eq!(*n as usize, i, "{}: {numbers:?}", o.acct_session);
            let want = match i {
                0 => AccountingRecordType::StartRecord,
                i if i == numbers.len() - 1 => AccountingRecordType::StopRecord,
                _ => AccountingRecordType::InterimRecord,
            };
            assert_eq!(*t, want, "{}: {numbers:?}", o.acct_session);
            acked.insert((o.acct_session.clone(), *n), *t);
        }
    }

    // The database holds exactly the acknowledged records, once each; what
    // came twice was a retransmission (T flag) to the second server.
    let db = std::mem::take(&mut *db.lock());
    assert_eq!(db.rows.len(), acked.len(), "stored = acknowledged");
    for (key, t) in &acked {
        let row = db.rows.get(key).unwrap_or_else(|| panic!("{key:?} lost"));
        assert_eq!(row.record_type, *t, "{key:?}");
    }
    assert!(
        db.duplicates.len() >= 10,
        "the records whose answers were lost came again: {}",
        db.duplicates.len()
    );
    for d in &db.duplicates {
        assert!(d.retransmission, "a duplicate without the T flag: {d:?}");
        assert_eq!(d.server, "ocs2", "{d:?}");
        assert_eq!(db.rows[&(d.session_id.clone(), d.number)].server, "ocs1");
    }
    assert!(db.rows.values().any(|r| r.server == "ocs2"));

    // On the wire (the client's view): every ACR answered exactly once;
    // every retransmission keeps the End-to-End id of a first copy sent
    // without the T flag; CCRs were retransmitted too.
    let trace = std::mem::take(&mut *trace_client.lock().unwrap());
    let mut firsts: HashMap<u32, &str> = HashMap::new();
    let mut answers: HashMap<u32, usize> = HashMap::new();
    let (mut resent_acr, mut resent_ccr) = (0, 0);
    for m in trace.iter() {
        match (m.dir, m.request) {
            (Direction::Out, true) if !m.retransmit => {
                assert!(
                    firsts.insert(m.end_to_end, &m.session_id).is_none(),
                    "End-to-End {} reused",
                    m.end_to_end
                );
            }
            (Direction::Out, true) => {
                assert_eq!(
                    firsts.get(&m.end_to_end).copied(),
                    Some(m.session_id.as_str()),
                    "a T-flagged request without its first copy: {m:?}"
                );
                if m.code == 271 {
                    resent_acr += 1;
                } else {
                    resent_ccr += 1;
                }
            }
            (Direction::In, false) => *answers.entry(m.end_to_end).or_default() += 1,
            _ => {}
        }
    }
    let acrs: Vec<u32> = trace
        .iter()
        .filter(|m| m.dir == Direction::Out && m.request && !m.retransmit && m.code == 271)
        .map(|m| m.end_to_end)
        .collect();
    assert_eq!(acrs.len(), acked.len(), "one ACR per record");
    for e2e in &acrs {
        assert_eq!(answers.get(e2e), Some(&1), "ACR {e2e} answered once");
    }
    assert!(resent_acr >= 10, "{resent_acr} ACRs resent");
    assert!(resent_ccr >= 3, "{resent_ccr} CCRs resent");
    // The second server saw those retransmissions with the T flag.
    let t2 = std::mem::take(&mut *trace2.lock().unwrap());
    let t_at_2 = t2
        .iter()
        .filter(|m| m.dir == Direction::In && m.request && m.retransmit)
        .count();
    assert!(t_at_2 >= resent_acr + resent_ccr, "{t_at_2}");
    // Every prepaid session ended (normally, or by its failure handling
    // when it was bound to the first server), none with an error.
    for o in &outcomes {
        let events = o.prepaid.as_ref().expect("prepaid session ends");
        assert_eq!(events.last(), Some(&SessionEvent::Closed), "{events:?}");
    }
    let s = client.stats();
    assert_eq!(s.retransmissions, (resent_acr + resent_ccr) as u64, "{s:?}");
    let prepaid_ok = outcomes
        .iter()
        .filter(|o| {
            o.prepaid.as_ref().is_ok_and(|e| {
                !e.iter()
                    .any(|e| matches!(e, SessionEvent::Prepaid(PrepaidEvent::TerminateCall(_))))
            })
        })
        .count();
    eprintln!(
        "{total} calls, {} records stored once, {} duplicates detected, \
         {resent_acr} ACRs and {resent_ccr} CCRs resent with T, {prepaid_ok} prepaid sessions \
         ended normally, the others by failure handling; client {s:?}",
        db.rows.len(),
        db.duplicates.len()
    );
    client.shutdown(Duration::from_secs(5)).await;
    server2.shutdown(Duration::from_secs(5)).await;
}

/// A prepaid session whose server crashed ends by its failure handling
/// (TERMINATE: no other server may take a session bound to its first);
/// the proxy's BYE after that still gets the session's last events, not
/// an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hangup_after_the_session_ended_by_itself() {
    logs();
    let db = Shared::new(Dedup::default());
    let trace = Trace::default();
    let server = charging_server("ocs1", &db, &trace).await;
    let relay = Relay::start(server.local_addrs()[0]).await;
    let client = client("proxy.diameter.test", &[relay.addr]).await;
    let mut call = client
        .prepaid("bound@proxy.diameter.test", parties("1001", "1002"))
        .await
        .unwrap();
    call.start().await.unwrap();
    relay.kill();
    call.answered().await.unwrap();
    // The CCR-U has nowhere to go: the call must be torn down.
    let torn_down = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(e) = call.next_event().await {
            if let SessionEvent::Prepaid(PrepaidEvent::TerminateCall(_)) = e {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(torn_down, Ok(true));
    // The proxy sends BYE and hangs up: the session is over already.
    let events = call
        .hangup(TerminationCause::Logout)
        .await
        .expect("hangup after the end");
    assert_eq!(
        events,
        [
            SessionEvent::Prepaid(PrepaidEvent::Finished),
            SessionEvent::Closed
        ]
    );
    assert!(call.next_event().await.is_none());
    client.shutdown(Duration::from_secs(2)).await;
    server.shutdown(Duration::from_secs(2)).await;
}
