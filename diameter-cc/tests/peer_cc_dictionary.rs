//! Issue 9.5: the peer machine answers a malformed request with the
//! dictionary it was given, so a bad Credit-Control AVP comes back in
//! Failed-AVP with a zero-filled payload of its type's size (RFC 6733
//! §7.5), not as a bare header (which tshark flags "[Data is empty]").

use diameter_cc::dict::{self, CcRequestType};
use diameter_cc::msg::CcrRepr;
use diameter_cc::CreditControl;
use diameter_core::dict::base;
use diameter_core::peer::{App, Incoming, LocalIdentity, Peer, PeerConfig, Role};
use diameter_core::time::Instant;
use diameter_core::{Message, MessageBuilder};

fn config(host: &str) -> PeerConfig {
    let me = LocalIdentity::new(host, "example.org")
        .and_then(|l| l.with_application(App::auth(4)))
        .unwrap();
    PeerConfig::new(me, 1_764_720_000)
}

#[test]
fn failed_avp_of_a_cc_avp_has_its_types_size() {
    let t = Instant::ZERO;
    let mut i: Peer<8> = Peer::new(config("client.example.org"), Role::Initiator, t);
    let mut r: Peer<8> = Peer::new(config("server.example.org"), Role::Responder, t);
    i.start(t);
    i.handle_connected(t);
    r.handle_connected(t);
    let cer = i.transmit().to_vec();
    i.transmitted(cer.len());
    let _ = r.handle_message(t, &cer, &CreditControl);
    assert!(r.is_open());
    let cea = r.transmit().to_vec();
    r.transmitted(cea.len());

    // A CCR without CC-Request-Number (Unsigned32): 5005, Failed-AVP with a
    // zero-filled example of 4 bytes.
    let mut buf = [0u8; 1024];
    let mut b = MessageBuilder::new(&mut buf, CcrRepr::header(1, 2));
    b.put(&base::SESSION_ID, "s;1")
        .put(&base::ORIGIN_HOST, "client.example.org")
        .put(&base::ORIGIN_REALM, "example.org")
        .put(&base::DESTINATION_REALM, "example.org")
        .put(&base::AUTH_APPLICATION_ID, 4)
        .put(&dict::SERVICE_CONTEXT_ID, "voice@x")
        .put(&dict::CC_REQUEST_TYPE, CcRequestType::Event);
    let req = b.finish().unwrap().to_vec();
    match r.handle_message(t, &req, &CreditControl) {
        Incoming::Rejected(e) => assert_eq!(e.result_code().get(), 5005),
        other => panic!("{other:?}"),
    }
    let ans = r.transmit().to_vec();
    let m = Message::parse_with(&ans, &CreditControl).unwrap();
    let failed = m.get(&base::FAILED_AVP).unwrap().unwrap();
    let inner = failed.iter().next().unwrap().unwrap();
    assert_eq!(inner.code(), dict::CC_REQUEST_NUMBER.code());
    assert_eq!(
        inner.data(),
        [0, 0, 0, 0],
        "zero-filled, the size of an Unsigned32"
    );
}
