//! Peer slots are reused in place: a responder's slot is given back when
//! its connection ends, and the next connection resets the machine in it
//! (`Peer::reset`) instead of building a new one; the old handle goes
//! stale, the new connection works like the first.

use std::time::Duration;

use diameter_cc::endpoint::{Event, PeerHandle};
use diameter_core::peer::{self, Role};
use diameter_sim::fixtures::{self, Client, Server};
use diameter_sim::{Net, NodeId};

type C = Client<1, 4>;
type S = Server<1, 2>;

/// The server-side handles of every connection that came up, in order.
fn ups(net: &Net, node: NodeId) -> Vec<PeerHandle> {
    net.events_of(node)
        .filter_map(|e| match e {
            Event::Peer {
                peer,
                event: peer::Event::Up,
            } => Some(*peer),
            _ => None,
        })
        .collect()
}

#[test]
fn a_responder_slot_is_reset_for_the_next_connection() {
    let mut net = Net::new(1);
    let server = net.add(fixtures::server::<1, 2>(fixtures::ledger()));
    let client = net.add(fixtures::client::<1, 4>());
    let peer = net
        .node::<C>(client)
        .add_peer(Role::Initiator, None)
        .unwrap();
    net.route(client, peer, server);
    let now = net.now();
    net.node::<C>(client).start(now);
    net.run_for(Duration::from_millis(10));
    for round in 1..=3 {
        let handles = ups(&net, server);
        assert_eq!(handles.len(), round, "connection {round} came up");
        let h = *handles.last().unwrap();
        assert_eq!(h.index(), 0, "one slot, reused");
        let m = net.node::<S>(server).peer(h).expect("live handle");
        assert!(m.is_open());
        assert_eq!(m.role(), Role::Responder);
        assert_eq!(m.pending_len(), 0);
        assert_eq!(m.peer_info().origin_host.as_str(), fixtures::CLIENT);
        if round > 1 {
            let old = handles[round - 2];
            assert_ne!(old, h, "a new generation");
            assert!(net.node::<S>(server).peer(old).is_none(), "stale handle");
        }
        // The connection breaks; the client connects again after its
        // backoff and the server's only slot takes the new connection.
        net.break_links(client);
        net.run_for(Duration::from_secs(60));
    }
    assert_eq!(net.node::<S>(server).peers().count(), 1);
}
