//! A call's accounting over Diameter, in memory (SCENARIOS.md,
//! Accounting): START at answer, INTERIM every 30 s, STOP at hangup, one
//! stable Session-Id, record numbers 0, 1, 2... Every record is kept by
//! the client until the server acknowledged it.
//!
//! ```sh
//! cargo run -p diameter-cc --example accounting_call
//! ```

use std::time::Duration;

use diameter_cc::client::accounting::{CallInfo, SipInfo};
use diameter_cc::session::session_id_from;
use diameter_core::dict::base::TerminationCause;
use diameter_core::peer::Role;
use diameter_sim::fixtures::{self, Client, Server};
use diameter_sim::{Net, Transcript};

type Proxy = Client<2, 16>;
type Ocs = Server<2, 16>;

fn main() {
    let mut config = fixtures::client_config();
    if let Some(a) = config.accounting.as_mut() {
        a.interim_interval = Some(30);
    }
    let mut net = Net::new(1);
    let ocs = net.add(fixtures::server::<2, 16>(fixtures::ledger()));
    let proxy = net.add(fixtures::client_with::<2, 16>(config));
    let peer = net
        .node::<Proxy>(proxy)
        .add_peer(Role::Initiator, None)
        .unwrap();
    net.route(proxy, peer, ocs);
    let mut ladder = Transcript::new((proxy, "proxy"), (ocs, "ocs"));
    println!("accounting of a 67 s call, interim records every 30 s\n");

    let now = net.now();
    net.node::<Proxy>(proxy).start(now);
    net.run_for(Duration::from_millis(100));
    ladder.print(&net);
    let mut info = CallInfo::new(session_id_from("sip-call-0003@proxy").unwrap());
    info.user_name = Some("1001".try_into().unwrap());
    info.sip = Some(SipInfo::new());
    let now = net.now();
    let call = net.node::<Proxy>(proxy).open_accounting(now, info).unwrap();
    ladder.say(&net, "200 OK: call answered");
    net.node::<Proxy>(proxy).call_answered(now, call).unwrap(); // START
    net.run_for(Duration::from_secs(67));
    ladder.print(&net);
    ladder.say(&net, "BYE");
    let now = net.now();
    net.node::<Proxy>(proxy)
        .call_ended(now, call, TerminationCause::Logout)
        .unwrap(); // STOP
    net.run_for(Duration::from_secs(1));
    ladder.print(&net);

    let stored = &net
        .node::<Ocs>(ocs)
        .accounting_server()
        .unwrap()
        .sink()
        .stored;
    println!("\nrecords stored by the server:");
    for r in stored {
        println!("  {} {:?} #{}", r.session_id, r.record_type, r.number);
    }
}
