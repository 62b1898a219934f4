//! A prepaid call charged over Diameter, in memory: 1001 calls 1002 and
//! talks for 67 s (SCENARIOS.md, Prepaid).
//!
//! Two endpoints, the SIP proxy's and the charging server's, are joined by
//! the simulator of `diameter-sim` (a virtual clock, bytes on an in-memory
//! connection). The proxy only opens a session and reports the call's
//! events; CER/CEA, watchdogs, CCR-I/U/T and their answers, ids, timers
//! and failover are the endpoints' business. Every message is printed as it
//! crosses the wire.
//!
//! ```sh
//! cargo run -p diameter-cc --example prepaid_call
//! cargo run -p diameter-cc --example prepaid_call -- 30 120   # 30 s of credit, 120 s call
//! ```

use std::time::Duration;

use diameter_cc::client::prepaid::PrepaidEvent;
use diameter_cc::endpoint::SessionEvent;
use diameter_core::dict::base::{DisconnectCause, TerminationCause};
use diameter_core::peer::Role;
use diameter_sim::fixtures::{self, Client, Server};
use diameter_sim::{Net, Transcript};

type Proxy = Client<2, 16>;
type Ocs = Server<2, 16>;

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let credit = args.first().copied().unwrap_or(3600);
    let talk = args.get(1).copied().unwrap_or(67);
    let mut ledger = fixtures::ledger();
    ledger.set("1001", credit);

    // The charging server and the proxy, one connection between them.
    let mut net = Net::new(1);
    let ocs = net.add(fixtures::server::<2, 16>(ledger));
    let proxy = net.add(fixtures::client::<2, 16>());
    let peer = net
        .node::<Proxy>(proxy)
        .add_peer(Role::Initiator, None)
        .unwrap();
    net.route(proxy, peer, ocs);
    let mut ladder = Transcript::new((proxy, "proxy"), (ocs, "ocs"));
    println!("prepaid call: 1001 -> 1002, balance {credit} s, talking {talk} s\n");

    let now = net.now();
    net.node::<Proxy>(proxy).start(now); // CER/CEA
    net.run_for(Duration::from_millis(100));
    ladder.print(&net);

    ladder.say(&net, "INVITE 1001 -> 1002");
    let now = net.now();
    let call = net
        .node::<Proxy>(proxy)
        .open_prepaid(now, "sip-call-0001@proxy", fixtures::parties())
        .unwrap();
    net.node::<Proxy>(proxy).call_setup(now, call).unwrap(); // CCR-I
    net.run_for(Duration::from_secs(3));
    let allowed =
        |e: &SessionEvent| matches!(e, SessionEvent::Prepaid(PrepaidEvent::Allowed { .. }));
    if !ladder.print(&net).iter().any(allowed) {
        println!("\ncall refused");
        return;
    }

    ladder.say(&net, "200 OK: call answered");
    let now = net.now();
    net.node::<Proxy>(proxy).call_answered(now, call).unwrap(); // CCR-U
    let ended =
        |e: &SessionEvent| matches!(e, SessionEvent::Prepaid(PrepaidEvent::TerminateCall(_)));
    let mut torn_down = false;
    for _ in 0..talk {
        net.run_for(Duration::from_secs(1));
        if ladder.print(&net).iter().any(ended) {
            // The grant ran out: the session already sent its CCR-T.
            ladder.say(&net, "BYE (credit control ended the call)");
            torn_down = true;
            break;
        }
    }
    if !torn_down {
        ladder.say(&net, "BYE");
        let now = net.now();
        net.node::<Proxy>(proxy)
            .call_ended(now, call, TerminationCause::Logout)
            .unwrap(); // CCR-T
    }
    net.run_for(Duration::from_millis(500));
    let now = net.now();
    net.node::<Proxy>(proxy)
        .disconnect(now, peer, DisconnectCause::Rebooting); // DPR
    net.run_for(Duration::from_millis(100));
    ladder.print(&net);

    let ledger = net
        .node::<Ocs>(ocs)
        .credit_control_server()
        .unwrap()
        .rating();
    println!(
        "\nbalance of 1001 after the call: {} s",
        ledger.balances["1001"]
    );
}
