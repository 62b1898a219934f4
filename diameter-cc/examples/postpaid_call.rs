//! A postpaid call charged over Diameter, in memory (SCENARIOS.md,
//! Postpaid): nothing at INVITE or answer; at hangup one CCR-Event with
//! the call's duration. Pass `outage` to take the charging server away
//! during the hangup: the event is stored and sent again (T flag) when it
//! is back, never lost.
//!
//! ```sh
//! cargo run -p diameter-cc --example postpaid_call
//! cargo run -p diameter-cc --example postpaid_call -- outage
//! ```

use std::time::Duration;

use diameter_core::dict::base::TerminationCause;
use diameter_core::peer::Role;
use diameter_sim::fixtures::{self, Client, Server};
use diameter_sim::{Net, Transcript};

type Proxy = Client<2, 16>;
type Ocs = Server<2, 16>;

fn main() {
    let outage = std::env::args().any(|a| a == "outage");
    let mut net = Net::new(1);
    let ocs = net.add(fixtures::server::<2, 16>(fixtures::ledger()));
    let proxy = net.add(fixtures::client::<2, 16>());
    let peer = net
        .node::<Proxy>(proxy)
        .add_peer(Role::Initiator, None)
        .unwrap();
    net.route(proxy, peer, ocs);
    let mut ladder = Transcript::new((proxy, "proxy"), (ocs, "ocs"));
    println!("postpaid call: 1001 -> 1002, talking 42 s\n");

    let now = net.now();
    net.node::<Proxy>(proxy).start(now);
    net.run_for(Duration::from_millis(100));
    ladder.print(&net);
    ladder.say(&net, "INVITE 1001 -> 1002, 200 OK after 2 s");
    let now = net.now();
    let call = net
        .node::<Proxy>(proxy)
        .open_postpaid(now, "sip-call-0002@proxy", fixtures::parties())
        .unwrap();
    net.run_for(Duration::from_secs(2));
    let now = net.now();
    net.node::<Proxy>(proxy).call_answered(now, call).unwrap();
    net.run_for(Duration::from_secs(42));
    ladder.print(&net);

    if outage {
        ladder.say(&net, "(the charging server goes away)");
        net.kill(ocs);
    }
    ladder.say(&net, "BYE");
    let now = net.now();
    net.node::<Proxy>(proxy)
        .call_ended(now, call, TerminationCause::Logout)
        .unwrap(); // CCR-E
    net.run_for(Duration::from_secs(1));
    ladder.print(&net);
    if outage {
        net.run_for(Duration::from_secs(60));
        ladder.say(&net, "(the charging server is back)");
        net.revive(ocs);
        net.run_for(Duration::from_secs(90));
        ladder.print(&net);
    }

    let ledger = net
        .node::<Ocs>(ocs)
        .credit_control_server()
        .unwrap()
        .rating();
    println!(
        "\ncharged to 1001: {} s",
        ledger.debited("sip-call-0002@proxy")
    );
}
