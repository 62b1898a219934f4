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

#[no_mangle]
#[link_section = ".text.reset"]
extern "C" fn reset() -> ! {
    black_box(run());
    black_box(charge());
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
