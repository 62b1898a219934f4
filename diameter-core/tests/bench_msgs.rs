//! The four bench messages of `shared/bench-msgs/`: parse with the test
//! dictionary, check header and every documented leaf value through typed
//! `get`/`get_all`, validate, then rebuild each one from its values with
//! `MessageBuilder` and compare the bytes.

mod common;

use common::*;
use diameter_core::dict::base;
use diameter_core::{ApplicationId, CommandCode, Dictionary, Message, MessageBuilder};

fn parse(bytes: &[u8]) -> Message<'_> {
    Message::parse_with(bytes, &TestDict).unwrap_or_else(|e| panic!("parse_with: {e}"))
}

/// Header, sizes, leaf values (compared with the README's), validation and
/// byte-exact re-encoding for one bench message.
fn check_bench(name: &str) {
    let bytes = bench_msg(name);
    let (len, top, total) = documented_sizes(name);
    assert_eq!(bytes.len(), len, "{name}: documented size");
    let m = parse(&bytes);
    assert_eq!(m.as_bytes().len(), len);
    assert_eq!(m.avps().count(), top, "{name}: top-level AVPs");
    assert_eq!(count_avps(m.avps()), total, "{name}: AVPs in total");

    let want = expected(name);
    let got = decode_like(&want, &m).unwrap_or_else(|e| panic!("{name}: decode: {e}"));
    assert_eq!(got, want, "{name}: leaf values");

    // Every AVP of the message carries M, the 3GPP ones V with 10415 too.
    fn flags_ok(set: diameter_core::AvpSet<'_>) {
        for a in set.iter() {
            let a = a.unwrap();
            assert!(a.flags().is_mandatory(), "AVP {} without M", a.code());
            assert_eq!(
                a.flags().is_vendor(),
                a.vendor() == TGPP,
                "AVP {}",
                a.code()
            );
            assert_eq!(
                a.flags().bits() & 0x3f,
                0,
                "AVP {}: P/reserved bits",
                a.code()
            );
            if matches!(a.code(), 443 | 437 | 431 | 446 | 456 | 873 | 876) {
                flags_ok(a.group_set());
            }
        }
    }
    flags_ok(m.avps());

    m.validate(&TestDict)
        .unwrap_or_else(|e| panic!("{name}: validate: {e}"));

    let mut buf = [0u8; 4096];
    let out = encode(&mut buf, &got).unwrap_or_else(|e| panic!("{name}: encode: {e}"));
    if out != &bytes[..] {
        let pos = out
            .iter()
            .zip(bytes.iter())
            .position(|(a, b)| a != b)
            .unwrap_or(out.len().min(bytes.len()));
        panic!(
            "{name}: re-encoded bytes differ at offset {pos} (len {} vs {})\n ours: {}\n want: {}",
            out.len(),
            bytes.len(),
            hex_encode(out),
            hex_encode(&bytes)
        );
    }
    // Encoding the expected values (not the decoded ones) gives the same bytes.
    let mut buf2 = [0u8; 4096];
    assert_eq!(encode(&mut buf2, &want).unwrap(), &bytes[..]);
}

#[test]
fn ccr_i() {
    check_bench("ccr-i");
}

#[test]
fn cca_i() {
    check_bench("cca-i");
}

#[test]
fn acr_start() {
    check_bench("acr-start");
}

#[test]
fn ccr_u_large() {
    check_bench("ccr-u-large");
}

#[test]
fn ccr_i_details() {
    let bytes = bench_msg("ccr-i");
    let m = parse(&bytes);
    assert_eq!(m.header().flags.bits(), 0xc0);
    assert!(m.is_request() && m.flags().is_proxiable() && !m.flags().is_error());
    assert_eq!(m.command_code(), CommandCode::CREDIT_CONTROL);
    assert_eq!(m.application_id(), ApplicationId::CREDIT_CONTROL);
    assert_eq!((m.hop_by_hop(), m.end_to_end()), (0x5AE5_A001, 0x1C0D_E001));
    assert_eq!(m.session_id(), Some(SESSION_ID));
    assert_eq!(m.get(&base::SESSION_ID).unwrap(), Some(SESSION_ID));
    let ts = m.get(&base::EVENT_TIMESTAMP).unwrap().unwrap();
    assert_eq!(ts.ntp(), 3_913_056_000);
    assert_eq!(ts.unix(), 1_704_067_200);
    assert_eq!(m.get(&base::AUTH_APPLICATION_ID).unwrap(), Some(4));
    assert_eq!(
        m.get(&CC_REQUEST_TYPE).unwrap(),
        Some(CcRequestType::Initial)
    );
    assert_eq!(m.get(&CC_REQUEST_NUMBER).unwrap(), Some(0));
    // Grouped contents with message-relative offsets.
    let sub = m.require(&SUBSCRIPTION_ID).unwrap();
    assert_eq!(sub.count(), 2);
    assert_eq!(
        sub.get(&SUBSCRIPTION_ID_TYPE).unwrap(),
        Some(SubscriptionIdType::EndUserE164)
    );
    assert_eq!(sub.get(&SUBSCRIPTION_ID_DATA).unwrap(), Some("1001"));
    let data = sub.find(444, 0).unwrap();
    assert_eq!(
        &bytes[data.offset()..data.offset() + data.len()],
        data.raw()
    );
    let rsu = m.require(&REQUESTED_SERVICE_UNIT).unwrap();
    assert_eq!(rsu.get(&CC_TIME).unwrap(), Some(300));
    let ims = m
        .require(&SERVICE_INFORMATION)
        .unwrap()
        .require(&IMS_INFORMATION)
        .unwrap();
    assert_eq!(ims.count(), 4);
    assert_eq!(
        ims.get(&ROLE_OF_NODE).unwrap(),
        Some(RoleOfNode::Originating)
    );
    assert_eq!(
        ims.get(&NODE_FUNCTIONALITY).unwrap(),
        Some(NodeFunctionality::As)
    );
    assert_eq!(
        ims.get(&CALLING_PARTY_ADDRESS).unwrap(),
        Some("sip:1001@cgrates.org")
    );
    assert_eq!(
        ims.get(&CALLED_PARTY_ADDRESS).unwrap(),
        Some("sip:1002@cgrates.org")
    );
    let called = ims.find(832, TGPP).unwrap();
    assert_eq!(
        &bytes[called.offset()..called.offset() + called.len()],
        called.raw()
    );
    // Absent AVPs read as None.
    assert_eq!(m.get(&MULTIPLE_SERVICES_INDICATOR).unwrap(), None);
    assert_eq!(m.get_all(&MULTIPLE_SERVICES_CREDIT_CONTROL).count(), 0);
}

#[test]
fn cca_i_details() {
    let bytes = bench_msg("cca-i");
    let m = parse(&bytes);
    assert_eq!(m.header().flags.bits(), 0x40);
    assert!(!m.is_request());
    assert_eq!(m.command_code(), CommandCode::CREDIT_CONTROL);
    assert_eq!(m.application_id(), ApplicationId::CREDIT_CONTROL);
    assert_eq!((m.hop_by_hop(), m.end_to_end()), (0x5AE5_A001, 0x1C0D_E001));
    assert_eq!(m.session_id(), Some(SESSION_ID));
    assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(2001));
    assert_eq!(m.get(&base::ORIGIN_HOST).unwrap(), Some("ocs.cgrates.org"));
    let gsu = m.require(&GRANTED_SERVICE_UNIT).unwrap();
    assert_eq!(gsu.get(&CC_TIME).unwrap(), Some(300));
    let all: Vec<_> = m
        .get_all(&MULTIPLE_SERVICES_CREDIT_CONTROL)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(all.len(), 1);
    let mscc = all[0];
    assert_eq!(
        mscc.require(&GRANTED_SERVICE_UNIT)
            .unwrap()
            .get(&CC_TIME)
            .unwrap(),
        Some(300)
    );
    assert_eq!(mscc.get(&RATING_GROUP).unwrap(), Some(1));
    assert_eq!(mscc.get(&VALIDITY_TIME).unwrap(), Some(3600));
    assert_eq!(mscc.get(&base::RESULT_CODE).unwrap(), Some(2001));
    // The answer built from ccr-i with answer_to has the same header.
    let req = bench_msg("ccr-i");
    let req = parse(&req);
    let mut buf = [0u8; 512];
    let mut b = MessageBuilder::answer_to(&mut buf, &req);
    let want = expected_cca_i();
    b.put(&base::RESULT_CODE, want.result_code)
        .put(&base::ORIGIN_HOST, want.origin_host)
        .put(&base::ORIGIN_REALM, want.origin_realm)
        .put(&base::AUTH_APPLICATION_ID, want.auth_application_id)
        .put(&CC_REQUEST_TYPE, want.cc_request_type)
        .put(&CC_REQUEST_NUMBER, want.cc_request_number)
        .grouped(&GRANTED_SERVICE_UNIT, |g| {
            g.put(&CC_TIME, 300);
        })
        .grouped(&MULTIPLE_SERVICES_CREDIT_CONTROL, |g| {
            g.grouped(&GRANTED_SERVICE_UNIT, |u| {
                u.put(&CC_TIME, 300);
            })
            .put(&RATING_GROUP, 1)
            .put(&VALIDITY_TIME, 3600)
            .put(&base::RESULT_CODE, 2001);
        });
    assert_eq!(b.finish().unwrap(), &bytes[..], "answer_to(ccr-i) == cca-i");
}

#[test]
fn acr_start_details() {
    let bytes = bench_msg("acr-start");
    let m = parse(&bytes);
    assert_eq!(m.header().flags.bits(), 0xc0);
    assert_eq!(m.command_code(), CommandCode::ACCOUNTING);
    assert_eq!(m.application_id(), ApplicationId::BASE_ACCOUNTING);
    assert_eq!((m.hop_by_hop(), m.end_to_end()), (0x5AE5_A002, 0x1C0D_E002));
    assert_eq!(m.session_id(), Some(SESSION_ID));
    assert_eq!(
        m.get(&base::ACCOUNTING_RECORD_TYPE).unwrap(),
        Some(base::AccountingRecordType::StartRecord)
    );
    assert_eq!(m.get(&base::USER_NAME).unwrap(), Some("1001@cgrates.org"));
    assert_eq!(m.get(&base::ORIGIN_STATE_ID).unwrap(), Some(1_704_067_200));
    let ts = m.get(&base::EVENT_TIMESTAMP).unwrap().unwrap();
    assert_eq!((ts.ntp(), ts.unix()), (3_913_056_000, 1_704_067_200));
    // The base dictionary knows ACR: validation uses its grammar, and
    // with the base dictionary alone it passes too (all AVPs are base ones).
    assert!(base::Base.command(CommandCode::ACCOUNTING, true).is_some());
    m.validate(&base::Base).unwrap();
    m.validate(&TestDict).unwrap();
    // A grammar is really applied: dropping the required Accounting-Record-Type
    // fails validation with 5005 naming it.
    let mut v = expected_acr_start();
    v.header.hop_by_hop = 1;
    let mut buf = [0u8; 512];
    let mut b = MessageBuilder::new(&mut buf, v.header);
    b.put(&base::SESSION_ID, v.session_id)
        .put(&base::ORIGIN_HOST, v.origin_host)
        .put(&base::ORIGIN_REALM, v.origin_realm)
        .put(&base::DESTINATION_REALM, v.destination_realm)
        .put(&base::ACCOUNTING_RECORD_NUMBER, 0);
    let short = b.finish().unwrap();
    let e = Message::parse_with(short, &TestDict)
        .unwrap()
        .validate(&TestDict)
        .unwrap_err();
    assert_eq!(e.result_code().get(), 5005, "{e}");
    assert_eq!(e.avp().unwrap().code, 480);
}

#[test]
fn ccr_u_large_details() {
    let bytes = bench_msg("ccr-u-large");
    let m = parse(&bytes);
    assert_eq!(m.header().flags.bits(), 0xc0);
    assert_eq!(m.command_code(), CommandCode::CREDIT_CONTROL);
    assert_eq!(m.application_id(), ApplicationId::CREDIT_CONTROL);
    assert_eq!((m.hop_by_hop(), m.end_to_end()), (0x5AE5_A003, 0x1C0D_E003));
    assert_eq!(
        m.get(&CC_REQUEST_TYPE).unwrap(),
        Some(CcRequestType::Update)
    );
    assert_eq!(m.get(&CC_REQUEST_NUMBER).unwrap(), Some(1));
    assert_eq!(
        m.get(&MULTIPLE_SERVICES_INDICATOR).unwrap(),
        Some(MultipleServicesIndicator::Supported)
    );
    assert_eq!(m.get(&REQUESTED_SERVICE_UNIT).unwrap(), None);
    let mut n = 0u32;
    for (i, mscc) in m.get_all(&MULTIPLE_SERVICES_CREDIT_CONTROL).enumerate() {
        let i = i as u32;
        let mscc = mscc.unwrap();
        assert_eq!(mscc.count(), 4, "MSCC {i}");
        let rsu = mscc.require(&REQUESTED_SERVICE_UNIT).unwrap();
        assert_eq!(rsu.get(&CC_TIME).unwrap(), Some(300));
        let usu = mscc.require(&USED_SERVICE_UNIT).unwrap();
        assert_eq!(usu.count(), 4);
        assert_eq!(usu.get(&CC_TIME).unwrap(), Some(60 + i));
        assert_eq!(
            usu.get(&CC_TOTAL_OCTETS).unwrap(),
            Some(1_000_000 + u64::from(i))
        );
        assert_eq!(
            usu.get(&CC_INPUT_OCTETS).unwrap(),
            Some(400_000 + u64::from(i))
        );
        assert_eq!(
            usu.get(&CC_OUTPUT_OCTETS).unwrap(),
            Some(600_000 + u64::from(i))
        );
        assert_eq!(mscc.get(&SERVICE_IDENTIFIER).unwrap(), Some(1000 + i));
        assert_eq!(mscc.get(&RATING_GROUP).unwrap(), Some(100 + i));
        n += 1;
    }
    assert_eq!(n, 30);
    // get() returns the first MSCC.
    let first = m.require(&MULTIPLE_SERVICES_CREDIT_CONTROL).unwrap();
    assert_eq!(first.get(&RATING_GROUP).unwrap(), Some(100));
    // The Service-Information is the last AVP, as in ccr-i.
    let last = m.iter().last().unwrap().unwrap();
    assert_eq!((last.code(), last.vendor()), (873, TGPP));
}

/// Without a dictionary the message still parses (grouped AVPs opaque), and
/// the values read the same.
#[test]
fn parse_without_dictionary() {
    for name in BENCH_NAMES {
        let bytes = bench_msg(name);
        let m = Message::parse(&bytes).unwrap();
        let want = expected(name);
        assert_eq!(decode_like(&want, &m).unwrap(), want, "{name}");
    }
}

/// Too-small buffers report the size needed for every bench message.
#[test]
fn encode_reports_needed_size() {
    for name in BENCH_NAMES {
        let want = expected(name);
        let (len, _, _) = documented_sizes(name);
        let mut small = vec![0u8; len - 1];
        assert_eq!(
            encode(&mut small, &want),
            Err(diameter_core::EncodeError::BufferTooSmall { needed: len }),
            "{name}"
        );
    }
}

mod random {
    //! The same model with random values: encode, parse, validate, decode.
    use super::*;
    use proptest::prelude::*;

    fn ident() -> impl Strategy<Value = String> {
        "[a-z0-9][a-z0-9.-]{0,40}"
    }

    fn mscc() -> impl Strategy<Value = Mscc> {
        (
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<u32>()),
            proptest::option::of((any::<u32>(), any::<u64>(), any::<u64>(), any::<u64>())),
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<u32>()),
        )
            .prop_map(|(g, r, u, si, rg, vt, rc)| Mscc {
                gsu_cc_time: g,
                rsu_cc_time: r,
                usu: u.map(|(cc_time, total, input, output)| Usu {
                    cc_time,
                    total,
                    input,
                    output,
                }),
                service_identifier: si,
                rating_group: rg,
                validity_time: vt,
                result_code: rc,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn ccr_round_trip(
            sid in "\\PC{0,60}",
            host in ident(),
            realm in ident(),
            ctx in "\\PC{0,30}",
            kind in 0i32..6,
            number in any::<u32>(),
            ntp in any::<u32>(),
            sub in ("\\PC{0,20}", 0i32..5),
            rsu in proptest::option::of(any::<u32>()),
            msi in proptest::option::of(0i32..2),
            msccs in proptest::collection::vec(mscc(), 0..MAX_MSCC),
            calling in "\\PC{0,30}",
            called in "\\PC{0,30}",
            hbh in any::<u32>(),
        ) {
            let mut v = expected_ccr_i();
            v.header.hop_by_hop = hbh;
            v.session_id = &sid;
            v.origin_host = &host;
            v.origin_realm = &realm;
            v.destination_realm = &realm;
            v.service_context_id = &ctx;
            v.cc_request_type = kind.into();
            v.cc_request_number = number;
            v.event_timestamp = diameter_core::Timestamp(ntp);
            v.subscription_id = (sub.1.into(), &sub.0);
            v.rsu_cc_time = rsu;
            v.multiple_services_indicator = msi.map(Into::into);
            v.mscc = msccs.iter().copied().collect();
            v.service_information.calling = &calling;
            v.service_information.called = &called;
            let mut buf = vec![0u8; 8192];
            let bytes = encode_ccr(&mut buf, &v).unwrap().to_vec();
            prop_assert_eq!(bytes.len() % 4, 0);
            let m = Message::parse_with(&bytes, &TestDict).unwrap();
            m.validate(&TestDict).unwrap();
            prop_assert_eq!(decode_ccr(&m).unwrap(), v.clone());
            // Every encoded length field is consistent: re-encoding the
            // decoded values gives the same bytes.
            let mut buf2 = vec![0u8; 8192];
            prop_assert_eq!(encode_ccr(&mut buf2, &decode_ccr(&m).unwrap()).unwrap(), &bytes[..]);
        }
    }
}
