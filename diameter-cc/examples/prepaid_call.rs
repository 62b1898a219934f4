//! A prepaid call charged over Diameter, played entirely in memory: 1001
//! calls 1002 and talks for 67 s (SCENARIOS.md, Prepaid).
//!
//! Two peer machines (client and charging server) exchange CER/CEA over a
//! simulated connection; on top of them the prepaid client machine sends
//! CCR-Initial / Update / Termination and the credit-control server machine
//! answers from a balance. Every message crosses the "wire" as bytes and is
//! printed as a ladder.
//!
//! ```sh
//! cargo run -p diameter-cc --example prepaid_call
//! cargo run -p diameter-cc --example prepaid_call -- 30 120   # 30 s of credit, 120 s call
//! ```

use diameter_cc::client::prepaid::{
    Parties, PrepaidClient, PrepaidConfig, PrepaidEvent, Transmit as CcTransmit,
};
use diameter_cc::dict::{self, tgpp};
use diameter_cc::server::credit_control::{Balances, CcServer, CcServerConfig};
use diameter_cc::session::{session_id_from, WallClock};
use diameter_cc::CreditControl;
use diameter_core::dict::base::{self, DisconnectCause, TerminationCause};
use diameter_core::dict::Dictionary;
use diameter_core::framing::{Frame, Framer};
use diameter_core::peer::{App, Event, Incoming, LocalIdentity, Peer, PeerConfig, Role};
use diameter_core::time::Instant;
use diameter_core::{AddressValue, Message};

const CLIENT: &str = "client.diameter.test";
const SERVER: &str = "server.diameter.test";
const REALM: &str = "diameter.test";
const APPS: [App; 2] = [App::auth(4), App::acct(3)];
const IP: [AddressValue<'static>; 1] = [AddressValue::V4([127, 0, 0, 1])];

fn identity(host: &'static str, product: &'static str) -> LocalIdentity<'static> {
    LocalIdentity {
        origin_host: host,
        origin_realm: REALM,
        host_ip_addresses: &IP,
        vendor_id: 0,
        product_name: product,
        firmware_revision: None,
        origin_state_id: 1,
        supported_vendor_ids: &[10415],
        applications: &APPS,
        inband_security_id: None,
    }
}

/// One line of the ladder for a message on the wire.
fn describe(bytes: &[u8]) -> String {
    let Ok(m) = Message::parse_with(bytes, &CreditControl) else {
        return "(malformed)".into();
    };
    let name = CreditControl
        .command(m.command_code(), m.is_request())
        .map(|c| c.abbrev)
        .unwrap_or("?");
    let mut s = format!("{name:<4}");
    if let Ok(Some(t)) = m.get(&dict::CC_REQUEST_TYPE) {
        let t = match t {
            dict::CcRequestType::Initial => "INITIAL",
            dict::CcRequestType::Update => "UPDATE",
            dict::CcRequestType::Termination => "TERMINATION",
            dict::CcRequestType::Event => "EVENT",
            dict::CcRequestType::Unknown(_) => "?",
        };
        let n = m.get(&dict::CC_REQUEST_NUMBER).ok().flatten().unwrap_or(0);
        s += &format!(" {t}/{n}");
    }
    if let Ok(Some(rc)) = m.get(&base::RESULT_CODE) {
        s += &format!(" Result-Code {rc}");
    }
    let unit =
        |def: &diameter_core::AvpDef<diameter_core::types::Grouped>, label: &str| -> String {
            match m.get(def) {
                Ok(Some(g)) => match diameter_core::AvpSet::get(&g, &dict::CC_TIME) {
                    Ok(Some(t)) => format!(" {label}{{CC-Time {t}}}"),
                    _ => String::new(),
                },
                _ => String::new(),
            }
        };
    s += &unit(&dict::REQUESTED_SERVICE_UNIT, "RSU");
    s += &unit(&dict::GRANTED_SERVICE_UNIT, "GSU");
    s += &unit(&dict::USED_SERVICE_UNIT, "USU");
    if let Ok(Some(c)) = m.get(&base::TERMINATION_CAUSE) {
        s += &format!(" Termination-Cause {}", i32::from(c));
    }
    s
}

struct Sim<'a> {
    now: Instant,
    client_peer: Peer<'a, 16>,
    server_peer: Peer<'a, 16>,
    prepaid: PrepaidClient<'a, 'a>,
    server: CcServer<'a, Balances<8>, 8>,
    ended: bool,
}

impl Sim<'_> {
    fn log(&self, arrow: &str, bytes: &[u8]) {
        println!(
            "{:>8.3} s  {arrow}  {}",
            self.now.0 as f64 / 1000.0,
            describe(bytes)
        );
    }

    /// Run every machine until nothing moves.
    fn settle(&mut self) {
        for _ in 0..64 {
            let mut moved = false;
            // prepaid client events
            while let Some(e) = self.prepaid.poll_event() {
                println!("{:>8.3} s  [proxy] {e:?}", self.now.0 as f64 / 1000.0);
                if let PrepaidEvent::Finished = e {
                    self.ended = true;
                }
            }
            // prepaid client → client peer → wire → server peer → server
            let mut buf = [0u8; 4096];
            while let Some(t) = self.prepaid.poll_transmit(self.now, &mut buf) {
                let len = match t.expect("encode") {
                    CcTransmit::Request { len, number, .. } => {
                        self.client_peer
                            .send_request(self.now, &mut buf[..len], u64::from(number))
                            .expect("peer open");
                        len
                    }
                    CcTransmit::Answer { len } => len,
                };
                self.log("proxy  -> ocs  ", &buf[..len]);
                self.deliver_to_server(&buf[..len]);
                moved = true;
            }
            // peer machines' own messages (CER, CEA, DWR, DPR...)
            let tx = self.client_peer.transmit().to_vec();
            if !tx.is_empty() {
                self.client_peer.transmitted(tx.len());
                for m in frames(&tx) {
                    self.log("proxy  -> ocs  ", &m);
                    self.deliver_to_server(&m);
                }
                moved = true;
            }
            let tx = self.server_peer.transmit().to_vec();
            if !tx.is_empty() {
                self.server_peer.transmitted(tx.len());
                for m in frames(&tx) {
                    self.log("proxy <-  ocs  ", &m);
                    self.deliver_to_client(&m);
                }
                moved = true;
            }
            for p in [&mut self.client_peer, &mut self.server_peer] {
                while let Some(e) = p.poll_event(self.now) {
                    if matches!(e, Event::Up | Event::Down(_)) {
                        println!("{:>8.3} s  [peer] {e:?}", self.now.0 as f64 / 1000.0);
                    }
                }
            }
            if !moved {
                return;
            }
        }
    }

    fn deliver_to_server(&mut self, bytes: &[u8]) {
        match self
            .server_peer
            .handle_message(self.now, bytes, &CreditControl)
        {
            Incoming::Request { message, .. } => {
                let mut out = [0u8; 4096];
                let ans = self
                    .server
                    .handle_request(self.now, &message, &mut out)
                    .expect("encode CCA")
                    .to_vec();
                self.log("proxy <-  ocs  ", &ans);
                self.deliver_to_client(&ans);
            }
            Incoming::Rejected(e) => println!("           server rejected: {e}"),
            _ => {}
        }
    }

    fn deliver_to_client(&mut self, bytes: &[u8]) {
        if let Incoming::Answer { message, .. } =
            self.client_peer
                .handle_message(self.now, bytes, &CreditControl)
        {
            self.prepaid.handle_answer(self.now, &message);
        }
    }

    fn advance(&mut self, to: Instant) {
        // fire every timer on the way, in order
        loop {
            let next = [
                self.prepaid.poll_timeout(),
                self.client_peer.poll_timeout(),
                self.server_peer.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min();
            match next {
                Some(t) if t <= to => {
                    self.now = t.max(self.now);
                    self.prepaid.handle_timeout(self.now);
                    self.client_peer.handle_timeout(self.now);
                    self.server_peer.handle_timeout(self.now);
                    self.settle();
                }
                _ => break,
            }
        }
        self.now = to;
    }
}

fn frames(stream: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = stream;
    while let Ok(Frame::Complete(n)) = Framer::default().check(rest) {
        out.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    out
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let credit = args.first().copied().unwrap_or(3600);
    let talk = args.get(1).copied().unwrap_or(67);

    let mut ccfg = PeerConfig::new(identity(CLIENT, "diameter-rs proxy"));
    ccfg.tw = core::time::Duration::from_secs(30);
    let scfg = PeerConfig::new(identity(SERVER, "diameter-rs ocs"));
    let mut pcfg = PrepaidConfig::new(CLIENT, REALM, REALM, "voice@OsipsDiamCCR");
    pcfg.destination_host = Some(SERVER);
    pcfg.clock = WallClock {
        unix_at_zero: 1_704_067_200,
    };
    let ocfg = CcServerConfig::new(SERVER, REALM);
    let mut balances = Balances::<8>::new();
    balances.set("1001", credit);
    let parties = Parties {
        user_name: "1001",
        subscription_id: "1001",
        calling_party: "sip:1001@diameter.test",
        called_party: "sip:1002@diameter.test",
        role_of_node: tgpp::RoleOfNode::Originating,
        node_functionality: tgpp::NodeFunctionality::As,
    };
    println!("prepaid call: 1001 -> 1002, balance {credit} s, talking {talk} s\n");
    let mut sim = Sim {
        now: Instant::ZERO,
        client_peer: Peer::new(&ccfg, Role::Initiator, Instant::ZERO),
        server_peer: Peer::new(&scfg, Role::Responder, Instant::ZERO),
        prepaid: PrepaidClient::new(
            &pcfg,
            session_id_from("sip-call-0001@proxy").unwrap(),
            parties,
        ),
        server: CcServer::new(&ocfg, balances),
        ended: false,
    };

    // connect: CER/CEA
    sim.client_peer.start(sim.now);
    let _ = sim.client_peer.poll_event(sim.now);
    sim.client_peer.handle_connected(sim.now);
    sim.server_peer.handle_connected(sim.now);
    sim.settle();

    // INVITE
    sim.advance(Instant::from_millis(100));
    println!(
        "{:>8.3} s  [proxy] INVITE 1001 -> 1002",
        sim.now.0 as f64 / 1000.0
    );
    sim.prepaid.call_setup(sim.now);
    sim.settle();
    if sim.ended {
        println!("\ncall refused");
        return;
    }
    // 200 OK after 3 s of ringing
    sim.advance(Instant::from_millis(3100));
    println!(
        "{:>8.3} s  [proxy] 200 OK: call answered",
        sim.now.0 as f64 / 1000.0
    );
    sim.prepaid.call_answered(sim.now);
    sim.settle();
    // talk (timers may end the call first)
    let hangup = Instant::from_millis(3100 + talk * 1000);
    sim.advance(hangup);
    if !sim.ended {
        println!("{:>8.3} s  [proxy] BYE", sim.now.0 as f64 / 1000.0);
        sim.prepaid.call_ended(sim.now, TerminationCause::Logout);
        sim.settle();
    }
    // close the connection politely
    sim.advance(Instant(sim.now.0 + 500));
    sim.client_peer
        .disconnect(sim.now, DisconnectCause::Rebooting);
    sim.settle();
    println!(
        "\nbalance of 1001 after the call: {} s",
        sim.server.rating().balance("1001").unwrap_or(0)
    );
}
