//! The SCENARIOS.md flows from an embassy client to an embassy responder,
//! over two real embassy-net stacks joined in memory (see `util`): every
//! byte crosses TCP, every timer is embassy-time's.

mod util;

use diameter_cc::client::accounting::CallInfo;
use diameter_cc::session::session_id_from;
use diameter_core::dict::base::{AccountingRecordType, TerminationCause};
use diameter_core::ResultCode;
use diameter_embassy::Direction::{Received, Sent};
use diameter_embassy::Grant;
use diameter_sim::fixtures;
use embassy_time::{Duration, Timer};
use util::{run, Options};

const CER: u32 = 257;
const CCR: u32 = 272;
const ACR: u32 = 271;

#[test]
fn prepaid_call_charged_over_tcp() {
    let (grant, wire, server_wire, debited, left) = run(
        Options::default(),
        Duration::from_secs(30),
        |p| async move {
            p.client.wait_open().await;
            let mut call = p
                .client
                .prepaid("prepaid-1@client", fixtures::parties())
                .expect("a session");
            let grant = call.start().await.expect("CCA-I grants");
            call.answered().await.expect("CCR-U");
            Timer::after(Duration::from_millis(1200)).await;
            call.hangup(TerminationCause::Logout).await.expect("CCA-T");
            let (debited, left) = p.server.with(|ep| {
                let ledger = ep.credit_control_server().expect("serves cc").rating();
                (ledger.debited("prepaid-1@client"), ledger.balances["1001"])
            });
            (grant, p.client_wire, p.server_wire, debited, left)
        },
    );
    // 1001 has one hour; the CCR-I asks for 10800 s (SCENARIOS).
    assert_eq!(
        grant,
        Grant {
            seconds: Some(3600)
        }
    );
    assert_eq!(wire.count(Sent, CER, true), 1);
    assert_eq!(wire.count(Received, CER, false), 1);
    assert_eq!(wire.count(Sent, CCR, true), 3, "CCR-I, -U, -T");
    assert_eq!(wire.count(Received, CCR, false), 3);
    assert_eq!(server_wire.count(Received, CCR, true), 3);
    // Talked about a second: the CCR-T reported it, the server debited it.
    assert!(debited <= 2, "debited {debited} s");
    assert_eq!(left, 3600 - debited);
    wire.assert_valid();
    server_wire.assert_valid();
}

#[test]
fn postpaid_call_one_ccr_event() {
    let (rc, wire, records) = run(
        Options::default(),
        Duration::from_secs(30),
        |p| async move {
            p.client.wait_open().await;
            let mut call = p
                .client
                .postpaid("postpaid-1@client", fixtures::parties())
                .expect("a session");
            call.start().await.expect("nothing sent");
            call.answered().await.expect("nothing sent");
            Timer::after(Duration::from_millis(1100)).await;
            let rc = call.hangup().await;
            let debits = p.server.with(|ep| {
                ep.credit_control_server()
                    .expect("serves cc")
                    .rating()
                    .debited("postpaid-1@client")
            });
            (rc, p.client_wire, debits)
        },
    );
    assert_eq!(rc, Ok(ResultCode::SUCCESS));
    assert_eq!(wire.count(Sent, CCR, true), 1, "one CCR-Event");
    assert_eq!(wire.count(Received, CCR, false), 1);
    assert!((1..=2).contains(&records), "debited {records} s");
    wire.assert_valid();
}

#[test]
fn accounting_start_and_stop() {
    let (wire, stored) = run(
        Options::default(),
        Duration::from_secs(30),
        |p| async move {
            p.client.wait_open().await;
            let info = CallInfo::new(session_id_from("acct-1@client").expect("an id"));
            let mut call = p.client.accounting(info).expect("a session");
            call.start().await.expect("nothing sent");
            call.answered().await.expect("START acknowledged");
            Timer::after(Duration::from_millis(300)).await;
            call.hangup().await.expect("STOP acknowledged");
            let stored = p.server.with(|ep| {
                ep.accounting_server()
                    .expect("serves accounting")
                    .sink()
                    .stored
                    .clone()
            });
            (p.client_wire, stored)
        },
    );
    assert_eq!(wire.count(Sent, ACR, true), 2);
    assert_eq!(wire.count(Received, ACR, false), 2);
    let kinds: Vec<_> = stored.iter().map(|r| (r.record_type, r.number)).collect();
    assert_eq!(
        kinds,
        [
            (AccountingRecordType::StartRecord, 0),
            (AccountingRecordType::StopRecord, 1)
        ]
    );
    assert!(stored.iter().all(|r| r.session_id == "acct-1@client"));
    wire.assert_valid();
}
