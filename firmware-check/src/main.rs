//! Zero-allocation proof for `diameter-core`: a bare-metal binary with no
//! global allocator that decodes, validates, answers and encodes. If the
//! codec used `alloc` anywhere reachable, this would not link.
#![no_std]
#![no_main]

use core::hint::black_box;
use diameter_core::answer::{error_answer, Identity};
use diameter_core::dict::base;
use diameter_core::{ApplicationId, CommandCode, Framer, HeaderRepr, Message, MessageBuilder};

/// A DWR on the wire (filled at run time through `black_box`, so nothing
/// is constant-folded away).
static INPUT: [u8; 80] = [0; 80];

fn run() -> usize {
    let input: &[u8] = black_box(&INPUT[..]);
    let mut out = [0u8; 512];
    let mut total = 0;
    // framing + decode + typed reads + grammar validation
    if let Ok(diameter_core::Frame::Complete(n)) = Framer::new(4096).check(input) {
        match Message::parse_with(&input[..n], &base::Base) {
            Ok(msg) => {
                if let Ok(Some(host)) = msg.get(&base::ORIGIN_HOST) {
                    total += host.len();
                }
                match msg.validate(&base::Base) {
                    Ok(()) => {
                        let mut b = MessageBuilder::answer_to(&mut out, &msg);
                        b.put(&base::RESULT_CODE, 2001)
                            .put(&base::ORIGIN_HOST, "fw.example")
                            .put(&base::ORIGIN_REALM, "example");
                        total += b.finish().map(|m| m.len()).unwrap_or(0);
                    }
                    Err(e) => {
                        #[cfg(feature = "defmt")]
                        defmt::info!("invalid: {}", e);
                        let me = Identity {
                            origin_host: "fw.example",
                            origin_realm: "example",
                        };
                        if let Ok(b) = error_answer(input, &e, &me, &base::Base, &mut out) {
                            total += b.finish().map(|m| m.len()).unwrap_or(0);
                        }
                    }
                }
            }
            Err(e) => {
                let me = Identity {
                    origin_host: "fw.example",
                    origin_realm: "example",
                };
                if let Ok(b) = error_answer(input, &e, &me, &base::Base, &mut out) {
                    total += b.finish().map(|m| m.len()).unwrap_or(0);
                }
            }
        }
    }
    // encoder from scratch, including a grouped AVP
    let hdr = HeaderRepr::request(
        CommandCode::CAPABILITIES_EXCHANGE,
        ApplicationId::COMMON,
        1,
        2,
    );
    let mut b = MessageBuilder::new(&mut out, hdr);
    b.put(&base::ORIGIN_HOST, "fw.example")
        .put(&base::ORIGIN_REALM, "example")
        .grouped(&base::VENDOR_SPECIFIC_APPLICATION_ID, |g| {
            g.put(&base::VENDOR_ID, 10415)
                .put(&base::AUTH_APPLICATION_ID, 4);
        });
    total + b.finish().map(|m| m.len()).unwrap_or(0)
}

/// The credit-control machines: a prepaid client session and the server
/// answering it, in memory.
fn charge() -> usize {
    use diameter_cc::client::prepaid::{Parties, PrepaidClient, PrepaidConfig, Transmit};
    use diameter_cc::dict::tgpp::{NodeFunctionality, RoleOfNode};
    use diameter_cc::server::credit_control::{Balances, CcServer, CcServerConfig};
    use diameter_core::time::Instant;
    let cfg = PrepaidConfig::new("fw.example", "example", "example", "voice@fw");
    let scfg = CcServerConfig::new("ocs.example", "example");
    let mut balances = Balances::<4>::new();
    balances.set("1001", black_box(60));
    let mut server: CcServer<'_, _, 4> = CcServer::new(&scfg, balances);
    let parties = Parties {
        user_name: "1001",
        subscription_id: "1001",
        calling_party: "1001",
        called_party: "1002",
        role_of_node: RoleOfNode::Originating,
        node_functionality: NodeFunctionality::As,
    };
    let Some(sid) = diameter_cc::session::session_id("fw.example", 1, black_box(2), None) else {
        return 0;
    };
    let mut c = PrepaidClient::new(&cfg, sid, parties);
    let mut req = [0u8; 512];
    let mut ans = [0u8; 512];
    let mut total = 0;
    c.call_setup(Instant::ZERO);
    while let Some(Ok(Transmit::Request { len, .. })) = c.poll_transmit(Instant::ZERO, &mut req) {
        let Ok(m) = Message::parse_with(&req[..len], &diameter_cc::CreditControl) else {
            break;
        };
        if let Ok(a) = server.handle_request(Instant::ZERO, &m, &mut ans) {
            total += a.len();
            if let Ok(am) = Message::parse_with(a, &diameter_cc::CreditControl) {
                c.handle_answer(Instant::ZERO, &am);
            }
        }
    }
    while c.poll_event().is_some() {
        total += 1;
    }
    total
}

/// The peer machine: capabilities exchange between two machines, in memory.
fn peers() -> usize {
    use diameter_core::peer::{App, LocalIdentity, Peer, PeerConfig, Role};
    use diameter_core::time::Instant;
    use diameter_core::AddressValue;
    const IP: [AddressValue<'static>; 1] = [AddressValue::V4([10, 0, 0, 1])];
    const APPS: [App; 1] = [App::auth(4)];
    let ident = |host: &'static str| LocalIdentity {
        origin_host: host,
        origin_realm: "example",
        host_ip_addresses: &IP,
        vendor_id: 0,
        product_name: "fw",
        firmware_revision: Some(1),
        origin_state_id: 1,
        supported_vendor_ids: &[],
        applications: &APPS,
        inband_security_id: None,
    };
    let ci = PeerConfig::new(ident("fw.example"));
    let cr = PeerConfig::new(ident("ocs.example"));
    let t0 = Instant::ZERO;
    let mut i: Peer<'_, 4, 1024> = Peer::new(&ci, Role::Initiator, t0);
    let mut r: Peer<'_, 4, 1024> = Peer::new(&cr, Role::Responder, t0);
    i.start(t0);
    i.handle_connected(t0);
    r.handle_connected(t0);
    let mut buf = [0u8; 1024];
    let mut total = 0;
    for _ in 0..2 {
        let n = i.transmit().len().min(buf.len());
        buf[..n].copy_from_slice(&i.transmit()[..n]);
        i.transmitted(n);
        if let Ok(diameter_core::Frame::Complete(len)) = Framer::new(1024).check(&buf[..n]) {
            let _ = r.handle_message(t0, &buf[..len], &base::Base);
        }
        let n = r.transmit().len().min(buf.len());
        buf[..n].copy_from_slice(&r.transmit()[..n]);
        r.transmitted(n);
        if let Ok(diameter_core::Frame::Complete(len)) = Framer::new(1024).check(&buf[..n]) {
            let _ = i.handle_message(t0, &buf[..len], &base::Base);
        }
        total += n;
    }
    while i.poll_event(t0).is_some() {}
    total + usize::from(i.is_open())
}

#[no_mangle]
#[link_section = ".text.reset"]
extern "C" fn reset() -> ! {
    black_box(run());
    black_box(charge());
    black_box(peers());
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

#[cfg(feature = "defmt")]
mod logger {
    //! A do-nothing defmt transport so the defmt build links.
    #[defmt::global_logger]
    struct Logger;
    unsafe impl defmt::Logger for Logger {
        fn acquire() {}
        unsafe fn flush() {}
        unsafe fn release() {}
        unsafe fn write(_bytes: &[u8]) {}
    }
    defmt::timestamp!("{=u32}", 0);
}
