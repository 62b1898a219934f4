//! The shared bench messages (`../shared/bench-msgs/*.hex`, described in its
//! README) parse and validate against [`CreditControl`], and their values
//! read back through this crate's typed definitions.

use diameter_cc::dict::tgpp::{self, NodeFunctionality, RoleOfNode};
use diameter_cc::dict::{self, base, CcRequestType, MultipleServicesIndicator, SubscriptionIdType};
use diameter_cc::CreditControl;
use diameter_core::dict::Dictionary;
use diameter_core::{AvpSet, Message};

fn bench_msg(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/bench-msgs")
        .join(format!("{name}.hex"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "bench message {name} not found at {}: {e} (the tests expect the project's \
             shared/ folder beside the workspace)",
            path.display()
        )
    });
    let text = text.trim();
    assert!(text.len() % 2 == 0, "{name}: odd hex length");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

fn parsed(bytes: &[u8]) -> Message<'_> {
    let m = Message::parse_with(bytes, &CreditControl).unwrap_or_else(|e| panic!("parse: {e}"));
    m.validate(&CreditControl)
        .unwrap_or_else(|e| panic!("validate: {e}"));
    m
}

/// Every AVP of the set, recursively, is known to the dictionary.
fn all_known(set: AvpSet<'_>) -> usize {
    let mut n = 0;
    for a in set.iter() {
        let a = a.unwrap();
        let info = CreditControl
            .avp(a.code(), a.vendor())
            .unwrap_or_else(|| panic!("AVP {}/{} unknown", a.code(), a.vendor()));
        n += 1;
        if info.data_type == diameter_core::types::DataType::Grouped {
            n += all_known(a.group_set());
        }
    }
    n
}

#[test]
fn ccr_i() {
    let bytes = bench_msg("ccr-i");
    let m = parsed(&bytes);
    assert_eq!(all_known(m.avps()), 20);
    assert_eq!(
        m.get(&dict::CC_REQUEST_TYPE).unwrap(),
        Some(CcRequestType::Initial)
    );
    assert_eq!(m.get(&dict::CC_REQUEST_NUMBER).unwrap(), Some(0));
    assert_eq!(
        m.get(&dict::SERVICE_CONTEXT_ID).unwrap(),
        Some("voice@cgrates.org")
    );
    let sub = m.require(&dict::SUBSCRIPTION_ID).unwrap();
    assert_eq!(
        sub.get(&dict::SUBSCRIPTION_ID_TYPE).unwrap(),
        Some(SubscriptionIdType::E164)
    );
    assert_eq!(sub.get(&dict::SUBSCRIPTION_ID_DATA).unwrap(), Some("1001"));
    let rsu = m.require(&dict::REQUESTED_SERVICE_UNIT).unwrap();
    assert_eq!(rsu.get(&dict::CC_TIME).unwrap(), Some(300));
    let si = m.require(&tgpp::SERVICE_INFORMATION).unwrap();
    let ims = si.require(&tgpp::IMS_INFORMATION).unwrap();
    assert_eq!(
        ims.get(&tgpp::ROLE_OF_NODE).unwrap(),
        Some(RoleOfNode::Originating)
    );
    assert_eq!(
        ims.get(&tgpp::NODE_FUNCTIONALITY).unwrap(),
        Some(NodeFunctionality::As)
    );
    assert_eq!(
        ims.get(&tgpp::CALLING_PARTY_ADDRESS).unwrap(),
        Some("sip:1001@cgrates.org")
    );
    assert_eq!(
        ims.get(&tgpp::CALLED_PARTY_ADDRESS).unwrap(),
        Some("sip:1002@cgrates.org")
    );
}

#[test]
fn cca_i() {
    let bytes = bench_msg("cca-i");
    let m = parsed(&bytes);
    assert_eq!(all_known(m.avps()), 15);
    assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(2001));
    let gsu = m.require(&dict::GRANTED_SERVICE_UNIT).unwrap();
    assert_eq!(gsu.get(&dict::CC_TIME).unwrap(), Some(300));
    let mscc = m.require(&dict::MULTIPLE_SERVICES_CREDIT_CONTROL).unwrap();
    assert_eq!(mscc.get(&dict::RATING_GROUP).unwrap(), Some(1));
    assert_eq!(mscc.get(&dict::VALIDITY_TIME).unwrap(), Some(3600));
    assert_eq!(mscc.get(&base::RESULT_CODE).unwrap(), Some(2001));
}

#[test]
fn acr_start() {
    let bytes = bench_msg("acr-start");
    let m = parsed(&bytes);
    assert_eq!(all_known(m.avps()), 11);
}

#[test]
fn ccr_u_large() {
    let bytes = bench_msg("ccr-u-large");
    let m = parsed(&bytes);
    assert_eq!(all_known(m.avps()), 319);
    assert_eq!(
        m.get(&dict::CC_REQUEST_TYPE).unwrap(),
        Some(CcRequestType::Update)
    );
    assert_eq!(
        m.get(&dict::MULTIPLE_SERVICES_INDICATOR).unwrap(),
        Some(MultipleServicesIndicator::Supported)
    );
    let msccs: Vec<_> = m
        .get_all(&dict::MULTIPLE_SERVICES_CREDIT_CONTROL)
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(msccs.len(), 30);
    for (i, mscc) in msccs.iter().enumerate() {
        let i = i as u64;
        let usu = mscc.require(&dict::USED_SERVICE_UNIT).unwrap();
        assert_eq!(usu.get(&dict::CC_TIME).unwrap(), Some(60 + i as u32));
        assert_eq!(
            usu.get(&dict::CC_TOTAL_OCTETS).unwrap(),
            Some(1_000_000 + i)
        );
        assert_eq!(usu.get(&dict::CC_INPUT_OCTETS).unwrap(), Some(400_000 + i));
        assert_eq!(usu.get(&dict::CC_OUTPUT_OCTETS).unwrap(), Some(600_000 + i));
        assert_eq!(
            mscc.get(&dict::SERVICE_IDENTIFIER).unwrap(),
            Some(1000 + i as u32)
        );
        assert_eq!(mscc.get(&dict::RATING_GROUP).unwrap(), Some(100 + i as u32));
    }
}

/// A closed grammar rejects an AVP it does not list (5008), and a missing
/// required AVP is reported (5005): the grammars are live, not decoration.
#[test]
fn grammars_bite() {
    use diameter_core::{ApplicationId, CommandCode, ErrorKind, HeaderRepr, MessageBuilder};
    let build = |buf: &mut [u8], extra_in_subscription: bool, node_functionality: bool| {
        let hdr = HeaderRepr::request(
            CommandCode::CREDIT_CONTROL,
            ApplicationId::CREDIT_CONTROL,
            1,
            1,
        )
        .proxiable(true);
        let mut b = MessageBuilder::new(buf, hdr);
        b.put(&base::SESSION_ID, "c;1")
            .put(&base::ORIGIN_HOST, "c.example")
            .put(&base::ORIGIN_REALM, "example")
            .put(&base::DESTINATION_REALM, "example")
            .put(&base::AUTH_APPLICATION_ID, 4)
            .put(&dict::SERVICE_CONTEXT_ID, "voice@example")
            .put(&dict::CC_REQUEST_TYPE, CcRequestType::Event)
            .put(&dict::CC_REQUEST_NUMBER, 0)
            .grouped(&dict::SUBSCRIPTION_ID, |g| {
                g.put(&dict::SUBSCRIPTION_ID_TYPE, SubscriptionIdType::E164)
                    .put(&dict::SUBSCRIPTION_ID_DATA, "1001");
                if extra_in_subscription {
                    g.put(&dict::CC_TIME, 1);
                }
            })
            .grouped(&tgpp::SERVICE_INFORMATION, |g| {
                g.grouped(&tgpp::IMS_INFORMATION, |g| {
                    if node_functionality {
                        g.put(&tgpp::NODE_FUNCTIONALITY, NodeFunctionality::As);
                    }
                    g.put(&tgpp::CALLING_PARTY_ADDRESS, "sip:1001@example");
                });
            });
        b.finish().unwrap().len()
    };
    let mut buf = [0u8; 1024];
    let n = build(&mut buf, false, true);
    parsed(&buf[..n]);

    let n = build(&mut buf, true, true);
    let m = Message::parse_with(&buf[..n], &CreditControl).unwrap();
    let e = m.validate(&CreditControl).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AvpNotAllowed);
    assert_eq!(e.avp().map(|a| a.code), Some(420));

    let n = build(&mut buf, false, false);
    let m = Message::parse_with(&buf[..n], &CreditControl).unwrap();
    let e = m.validate(&CreditControl).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MissingAvp);
    let missing = e.avp().unwrap();
    assert_eq!(
        (missing.code, missing.vendor, missing.flags),
        (862, 10415, 0xc0)
    );
}
