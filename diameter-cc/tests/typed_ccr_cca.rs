//! The typed Credit-Control-Request and -Answer of `diameter_cc::msg`
//! (RFC 8506 §3.1, §3.2) against the shared bench messages
//! (`../shared/bench-msgs`), against themselves (repr → bytes → typed
//! decode), against the grammar (precise errors; the failure-answer rule of
//! RFC 6733 §7.2 in diameter-core's validation), against a message already
//! validated (the typed views then skip validation), and against the heap
//! (the shared counting allocator: decoding ccr-u-large and encoding ccr-i
//! make no allocation).

mod typed;

use std::hint::black_box;

use diameter_cc::dict::tgpp::{self, NodeFunctionality, RoleOfNode};
use diameter_cc::dict::{self, base, CcRequestType, MultipleServicesIndicator, SubscriptionIdType};
use diameter_cc::msg::{Cca, CcaRepr, Ccr, CcrRepr, MsccRepr, ServiceUnit, SubscriptionId};
use diameter_cc::CreditControl;
use diameter_core::answer::{error_answer, Identity};
use diameter_core::{
    ApplicationId, CommandFlags, ErrorKind, Message, MessageBuilder, ResultCode, Timestamp,
};
use diameter_sim::alloc::{allocations, assert_counting};

use typed::*;

#[global_allocator]
static ALLOC: diameter_sim::alloc::CountingAlloc = diameter_sim::alloc::CountingAlloc;

// ---------------------------------------------------------------------------
// Bench messages: decode every field
// ---------------------------------------------------------------------------

#[test]
fn decode_ccr_i() {
    let bytes = bench_msg("ccr-i");
    let msg = parse(&bytes);
    let c = Ccr::decode(&msg).unwrap();
    assert_eq!(c.message, msg);
    assert_eq!(
        (c.message.hop_by_hop(), c.message.end_to_end()),
        (0x5AE5_A001, 0x1C0D_E001)
    );
    assert_eq!(c.session_id, SID);
    assert_eq!(c.origin_host, "client.cgrates.org");
    assert_eq!(c.origin_realm, "cgrates.org");
    assert_eq!(c.destination_realm, "cgrates.org");
    assert_eq!(c.destination_host, None);
    assert_eq!(c.auth_application_id, 4);
    assert_eq!(c.service_context_id, "voice@cgrates.org");
    assert_eq!(c.cc_request_type, CcRequestType::Initial);
    assert_eq!(c.cc_request_number, 0);
    assert_eq!(c.user_name, None);
    assert_eq!(c.origin_state_id, None);
    assert_eq!(c.event_timestamp.map(Timestamp::unix), Some(1_704_067_200));
    assert_eq!(
        c.subscription_id,
        Some(SubscriptionId {
            id_type: SubscriptionIdType::E164,
            data: "1001"
        })
    );
    assert_eq!(c.subscription_ids().count(), 1);
    assert_eq!(c.service_identifier, None);
    assert_eq!(c.termination_cause, None);
    assert_eq!(
        c.requested_service_unit,
        Some(ServiceUnit {
            cc_time: Some(300),
            ..ServiceUnit::EMPTY
        })
    );
    assert_eq!(c.requested_action, None);
    assert_eq!(c.used_service_units().count(), 0);
    assert_eq!(c.multiple_services_indicator, None);
    assert_eq!(c.mscc().count(), 0);
    let si = c.service_information.unwrap();
    assert_eq!(si.count(), 1);
    let ims = c.ims.unwrap();
    assert_eq!(ims.role_of_node, Some(RoleOfNode::Originating));
    assert_eq!(ims.node_functionality, NodeFunctionality::As);
    assert_eq!(ims.calling_party_address, Some("sip:1001@cgrates.org"));
    assert_eq!(ims.called_party_address, Some("sip:1002@cgrates.org"));
    assert_eq!(all(ims.calling_party_addresses()), ["sip:1001@cgrates.org"]);
    assert_eq!(
        (ims.user_session_id, ims.ims_charging_identifier),
        (None, None)
    );
    assert_eq!(ims.avps.count(), 4);
    // And as a whole against the documented values.
    assert_ccr(&c, &CCR_I);
}

#[test]
fn decode_cca_i() {
    let bytes = bench_msg("cca-i");
    let msg = parse(&bytes);
    let c = Cca::decode(&msg).unwrap();
    assert_eq!(c.message.flags(), CommandFlags::PROXIABLE);
    assert_eq!(
        (c.message.hop_by_hop(), c.message.end_to_end()),
        (0x5AE5_A001, 0x1C0D_E001)
    );
    assert_eq!(c.session_id, SID);
    assert_eq!(c.result_code, ResultCode::SUCCESS);
    assert_eq!((c.origin_host, c.origin_realm), (OCS, REALM));
    assert_eq!(c.auth_application_id, Some(4));
    assert_eq!(c.cc_request_type, Some(CcRequestType::Initial));
    assert_eq!(c.cc_request_number, Some(0));
    assert_eq!(c.granted_service_unit, Some(ServiceUnit::time(300)));
    assert_eq!(c.validity_time, None);
    assert_eq!(c.final_unit_indication, None);
    let msccs = all(c.mscc());
    assert_eq!(msccs.len(), 1);
    let m = &msccs[0];
    assert_eq!(m.granted_service_unit, Some(ServiceUnit::time(300)));
    assert_eq!(m.requested_service_unit, None);
    assert_eq!(m.rating_group, Some(1));
    assert_eq!(m.validity_time, Some(3600));
    assert_eq!(m.result_code, Some(ResultCode::SUCCESS));
    assert_eq!(m.used_service_units().count(), 0);
    assert_eq!(m.service_identifiers().count(), 0);
    assert_eq!(m.avps.count(), 4);
    assert_cca(&c, &CCA_I);
}

#[test]
fn decode_ccr_u_large() {
    let bytes = bench_msg("ccr-u-large");
    let msg = parse(&bytes);
    let c = Ccr::decode(&msg).unwrap();
    assert_eq!(c.cc_request_type, CcRequestType::Update);
    assert_eq!(c.cc_request_number, 1);
    assert_eq!(c.requested_service_unit, None);
    assert_eq!(
        c.multiple_services_indicator,
        Some(MultipleServicesIndicator::Supported)
    );
    let mut n = 0u32;
    for (i, m) in c.mscc().enumerate() {
        let m = m.unwrap();
        let i = i as u32;
        assert_eq!(m.requested_service_unit, Some(ServiceUnit::time(300)));
        assert_eq!(m.granted_service_unit, None);
        assert_eq!(all(m.used_service_units()), [large_usu(i)]);
        assert_eq!(all(m.service_identifiers()), [1000 + i]);
        assert_eq!(m.rating_group, Some(100 + i));
        assert_eq!(m.validity_time, None);
        n += 1;
    }
    assert_eq!(n, 30);
    let large = Large::new();
    let mscc = large.mscc();
    assert_ccr(&c, &ccr_u_large(&mscc));
}

// ---------------------------------------------------------------------------
// Bench messages: encode byte for byte
// ---------------------------------------------------------------------------

#[test]
fn encode_reproduces_bench_bytes() {
    let mut buf = [0u8; 4096];
    let ccr_i = bench_msg("ccr-i");
    assert_eq!(CCR_I.encode(CCR_I_HEADER, &mut buf).unwrap(), &ccr_i[..]);

    let cca_i = bench_msg("cca-i");
    let cca_header = CcaRepr::header(0x5AE5_A001, 0x1C0D_E001);
    assert_eq!(CCA_I.encode(cca_header, &mut buf).unwrap(), &cca_i[..]);
    // As the answer to ccr-i: header, identifiers and Session-Id from it.
    let request = parse(&ccr_i);
    assert_eq!(
        CCA_I.encode_answer_to(&request, &mut buf).unwrap(),
        &cca_i[..]
    );
    // And from the decoded request.
    let answer = CcaRepr {
        granted_service_unit: Some(ServiceUnit::time(300)),
        mscc: &CCA_I_MSCC,
        ..Ccr::decode(&request)
            .unwrap()
            .answer(OCS, REALM, ResultCode::SUCCESS)
    };
    assert_eq!(answer, CCA_I);

    let large_bytes = bench_msg("ccr-u-large");
    let large = Large::new();
    let mscc = large.mscc();
    assert_eq!(
        ccr_u_large(&mscc)
            .encode(CcrRepr::header(0x5AE5_A003, 0x1C0D_E003), &mut buf)
            .unwrap(),
        &large_bytes[..]
    );
}

/// Decode, rebuild a repr from nothing but the decoded values, re-encode:
/// the same bytes (the bench README's "decode, touch every leaf,
/// re-encode, compare").
#[test]
fn decode_then_reencode_bench_messages() {
    let mut buf = [0u8; 4096];
    for name in ["ccr-i", "ccr-u-large"] {
        let bytes = bench_msg(name);
        let msg = parse(&bytes);
        let c = Ccr::decode(&msg).unwrap();
        let subs = all(c.subscription_ids());
        let usus = all(c.used_service_units());
        let msccs = all(c.mscc());
        let mscc_usus: Vec<Vec<ServiceUnit>> =
            msccs.iter().map(|m| all(m.used_service_units())).collect();
        let mscc_sids: Vec<Vec<u32>> = msccs.iter().map(|m| all(m.service_identifiers())).collect();
        let mscc_reprs: Vec<MsccRepr<'_>> = msccs
            .iter()
            .enumerate()
            .map(|(i, m)| {
                assert!(m.final_unit_indication.is_none());
                MsccRepr {
                    granted_service_unit: m.granted_service_unit,
                    requested_service_unit: m.requested_service_unit,
                    used_service_units: &mscc_usus[i],
                    service_identifiers: &mscc_sids[i],
                    rating_group: m.rating_group,
                    validity_time: m.validity_time,
                    result_code: m.result_code,
                    final_unit_indication: None,
                    time_quota_threshold: m.time_quota_threshold,
                    volume_quota_threshold: m.volume_quota_threshold,
                    unit_quota_threshold: m.unit_quota_threshold,
                    quota_holding_time: m.quota_holding_time,
                    quota_consumption_time: m.quota_consumption_time,
                    reporting_reason: m.reporting_reason,
                }
            })
            .collect();
        let repr = CcrRepr {
            session_id: c.session_id,
            origin_host: c.origin_host,
            origin_realm: c.origin_realm,
            destination_realm: c.destination_realm,
            auth_application_id: c.auth_application_id,
            service_context_id: c.service_context_id,
            cc_request_type: c.cc_request_type,
            cc_request_number: c.cc_request_number,
            destination_host: c.destination_host,
            user_name: c.user_name,
            origin_state_id: c.origin_state_id,
            event_timestamp: c.event_timestamp,
            subscription_ids: &subs,
            service_identifier: c.service_identifier,
            termination_cause: c.termination_cause,
            requested_service_unit: c.requested_service_unit,
            requested_action: c.requested_action,
            used_service_units: &usus,
            multiple_services_indicator: c.multiple_services_indicator,
            mscc: &mscc_reprs,
            ims: c.ims.map(|i| i.repr()),
        };
        let out = repr.encode(msg.header(), &mut buf).unwrap();
        assert!(out == &bytes[..], "{name}: re-encoded bytes differ");
    }
}

// ---------------------------------------------------------------------------
// Round trips, with every field set
// ---------------------------------------------------------------------------

#[test]
fn round_trip_ccr_and_cca() {
    let mut buf = [0u8; 4096];

    for r in [ccr_full(), CCR_I] {
        let bytes = r.encode(CcrRepr::header(1, 2), &mut buf).unwrap().to_vec();
        let msg = parse(&bytes);
        msg.validate(&CreditControl).unwrap();
        assert_ccr(&Ccr::decode(&msg).unwrap(), &r);
    }

    let request = ccr_full()
        .encode(CcrRepr::header(3, 4), &mut buf)
        .unwrap()
        .to_vec();
    let request = parse(&request);
    for r in [cca_full(), CCA_I] {
        let bytes = r.encode_answer_to(&request, &mut buf).unwrap().to_vec();
        let msg = parse(&bytes);
        assert_eq!((msg.hop_by_hop(), msg.end_to_end()), (3, 4));
        // The Session-Id is the request's.
        let c = Cca::decode(&msg).unwrap();
        assert_cca(
            &c,
            &CcaRepr {
                session_id: "sid;full",
                ..r
            },
        );
        let bytes = r.encode(CcaRepr::header(5, 6), &mut buf).unwrap().to_vec();
        assert_cca(&Cca::decode(&parse(&bytes)).unwrap(), &r);
    }
}

/// Unknown AVPs after the repr's (written through `write` + the builder)
/// stay reachable through `message`, and the typed fields ignore them.
#[test]
fn extra_avps_stay_reachable() {
    let mut buf = [0u8; 1024];
    let mut b = MessageBuilder::new(&mut buf, CCR_I_HEADER);
    CCR_I.write(&mut b);
    b.put_raw(9999, Some(12345), diameter_core::AvpFlags::NONE, b"opaque");
    b.put(&base::ROUTE_RECORD, "relay.cgrates.org");
    let bytes = b.finish().unwrap();
    let msg = parse(bytes);
    let c = Ccr::decode(&msg).unwrap();
    assert_ccr(&c, &CCR_I);
    assert_eq!(c.message.find(9999, 12345).unwrap().data(), b"opaque");
    assert_eq!(
        c.message.get(&base::ROUTE_RECORD).unwrap(),
        Some("relay.cgrates.org")
    );
}

// ---------------------------------------------------------------------------
// Grammar errors come back precise
// ---------------------------------------------------------------------------

#[test]
fn missing_service_context_id_is_5005_naming_461() {
    let mut buf = [0u8; 512];
    let mut b = MessageBuilder::new(&mut buf, CCR_I_HEADER);
    b.put(&base::SESSION_ID, SID)
        .put(&base::ORIGIN_HOST, CLIENT)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::DESTINATION_REALM, REALM)
        .put(&base::AUTH_APPLICATION_ID, 4)
        .put(&dict::CC_REQUEST_TYPE, CcRequestType::Initial)
        .put(&dict::CC_REQUEST_NUMBER, 0);
    let bytes = b.finish().unwrap();
    let e = Ccr::decode(&parse(bytes)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MissingAvp);
    assert_eq!(e.result_code().get(), 5005);
    let avp = e.avp().unwrap();
    assert_eq!((avp.code, avp.vendor, avp.flags), (461, 0, 0x40));
    assert_eq!(avp.offset, None);

    // The error answers in one call, with Failed-AVP naming 461.
    let me = Identity {
        origin_host: OCS,
        origin_realm: REALM,
    };
    let mut out = [0u8; 512];
    let ans = error_answer(bytes, &e, &me, &CreditControl, &mut out)
        .unwrap()
        .finish()
        .unwrap();
    let cca = Cca::decode(&parse(ans)).unwrap();
    assert_eq!(cca.result_code.get(), 5005);
    assert_eq!(cca.session_id, SID);
    // Without the E bit the answer follows the CCA grammar (RFC 6733
    // §7.2): error_answer echoes the request's CC-Request-Type.
    assert_eq!(cca.cc_request_type, Some(CcRequestType::Initial));
    let failed = cca.failed_avp.unwrap();
    assert_eq!(failed.iter().next().unwrap().unwrap().code(), 461);
}

#[test]
fn two_cc_request_types_is_5009_at_the_second() {
    let mut buf = [0u8; 1024];
    let mut b = MessageBuilder::new(&mut buf, CCR_I_HEADER);
    CCR_I.write(&mut b);
    let second = b.len();
    b.put(&dict::CC_REQUEST_TYPE, CcRequestType::Update);
    let bytes = b.finish().unwrap();
    let e = Ccr::decode(&parse(bytes)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooManyAvps);
    assert_eq!(e.result_code().get(), 5009);
    let avp = e.avp().unwrap();
    assert_eq!(avp.code, 416);
    assert_eq!(e.offset(), Some(second));
}

#[test]
fn bad_utf8_in_called_party_address_is_5004_pointing_at_it() {
    let mut bytes = CCR_I
        .encode(CCR_I_HEADER, &mut [0u8; 512])
        .unwrap()
        .to_vec();
    let offset = {
        let m = parse(&bytes);
        let si = m.require(&tgpp::SERVICE_INFORMATION).unwrap();
        let ims = si.require(&tgpp::IMS_INFORMATION).unwrap();
        ims.find(
            tgpp::CALLED_PARTY_ADDRESS.code(),
            tgpp::CALLED_PARTY_ADDRESS.vendor(),
        )
        .unwrap()
        .offset()
    };
    // Vendor AVP header is 12 bytes; spoil the first data byte.
    bytes[offset + 12] = 0xff;
    let msg = parse(&bytes); // the headers are still fine
    let e = Ccr::decode(&msg).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidAvpValue);
    assert_eq!(e.result_code().get(), 5004);
    let avp = e.avp().unwrap();
    assert_eq!((avp.code, avp.vendor, avp.flags), (832, 10415, 0xc0));
    assert_eq!(e.offset(), Some(offset));
    assert_eq!(avp.len, 32);
}

#[test]
fn header_errors() {
    let mut buf = [0u8; 512];
    // Another application with the CCR command code (e.g. Gx): 3007.
    let mut h = CCR_I_HEADER;
    h.application_id = ApplicationId(16_777_238);
    let bytes = CCR_I.encode(h, &mut buf).unwrap().to_vec();
    assert_eq!(
        Ccr::decode(&parse(&bytes)).unwrap_err().kind(),
        ErrorKind::ApplicationUnsupported
    );
    // A CCA given to Ccr::decode: 3008 (R bit).
    let cca = bench_msg("cca-i");
    assert_eq!(
        Ccr::decode(&parse(&cca)).unwrap_err().kind(),
        ErrorKind::InvalidHeaderBits
    );
    // An ACR given to Ccr::decode: 3001.
    let acr = bench_msg("acr-start");
    assert_eq!(
        Ccr::decode(&parse(&acr)).unwrap_err().kind(),
        ErrorKind::CommandUnsupported
    );
}

#[test]
fn bad_value_inside_an_mscc_points_into_the_group() {
    let mut buf = [0u8; 1024];
    let mut b = MessageBuilder::new(&mut buf, CCR_I_HEADER);
    CCR_I.write(&mut b);
    let mscc_at = b.len();
    b.grouped(&dict::MULTIPLE_SERVICES_CREDIT_CONTROL, |g| {
        g.put(&dict::RATING_GROUP, 1);
        // Validity-Time with 2 bytes of data: 5014.
        g.put_raw(448, None, diameter_core::AvpFlags::MANDATORY, &[0, 1]);
    });
    let bytes = b.finish().unwrap();
    let e = Ccr::decode(&parse(bytes)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidAvpLength);
    assert_eq!(e.avp().unwrap().code, 448);
    assert_eq!(e.offset(), Some(mscc_at + 8 + 12));
}

/// A successful CCA must carry CC-Request-Type (RFC 8506 §3.2); a failure
/// answer without it is accepted so that the Result-Code is not lost. The
/// rule lives in diameter-core's validation, so `Message::validate` and
/// `Cca::decode` agree on every case.
#[test]
fn cca_cc_fields_required_only_on_success() {
    let build = |rc: u32, buf: &mut [u8; 256]| -> Vec<u8> {
        let mut b = MessageBuilder::new(buf, CcaRepr::header(1, 1));
        b.put(&base::SESSION_ID, SID)
            .put(&base::RESULT_CODE, rc)
            .put(&base::ORIGIN_HOST, OCS)
            .put(&base::ORIGIN_REALM, REALM)
            .put(&base::AUTH_APPLICATION_ID, 4)
            .put(&dict::CC_REQUEST_NUMBER, 0);
        b.finish().unwrap().to_vec()
    };
    let mut buf = [0u8; 256];
    let ok = build(2001, &mut buf);
    let e = Cca::decode(&parse(&ok)).unwrap_err();
    assert_eq!(
        (e.kind(), e.avp().unwrap().code),
        (ErrorKind::MissingAvp, 416)
    );
    let e = parse(&ok).validate(&CreditControl).unwrap_err();
    assert_eq!(
        (e.kind(), e.avp().unwrap().code),
        (ErrorKind::MissingAvp, 416)
    );
    let failed = build(5030, &mut buf);
    parse(&failed).validate(&CreditControl).unwrap();
    let c = Cca::decode(&parse(&failed)).unwrap();
    assert_eq!(c.result_code.get(), 5030);
    assert_eq!((c.cc_request_type, c.cc_request_number), (None, Some(0)));
    // Origin-Host is never optional.
    let mut b = MessageBuilder::new(&mut buf, CcaRepr::header(1, 1));
    b.put(&base::SESSION_ID, SID)
        .put(&base::RESULT_CODE, 5030)
        .put(&base::ORIGIN_REALM, REALM);
    let bytes = b.finish().unwrap().to_vec();
    let e = Cca::decode(&parse(&bytes)).unwrap_err();
    assert_eq!(e.avp().unwrap().code, 264);
    let e = parse(&bytes).validate(&CreditControl).unwrap_err();
    assert_eq!(e.avp().unwrap().code, 264);

    // A protocol error with the E bit follows RFC 6733 §7.2.
    let mut h = CcaRepr::header(1, 1);
    h.flags = h.flags | CommandFlags::ERROR;
    let mut b = MessageBuilder::new(&mut buf, h);
    b.put(&base::SESSION_ID, SID)
        .put(&base::ORIGIN_HOST, OCS)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::RESULT_CODE, 3004)
        .put(&base::ERROR_MESSAGE, "busy");
    let bytes = b.finish().unwrap().to_vec();
    parse(&bytes).validate(&CreditControl).unwrap();
    let c = Cca::decode(&parse(&bytes)).unwrap();
    assert!(c.is_protocol_error());
    assert_eq!(c.result_code, ResultCode::TOO_BUSY);
    assert_eq!(c.error_message, Some("busy"));
    assert_eq!(c.auth_application_id, None);
}

// ---------------------------------------------------------------------------
// Failure answers: the <answer-message> rule of diameter-core's validation
// ---------------------------------------------------------------------------

/// Validate `bytes` both ways a receiver can: `Message::validate` against
/// [`CreditControl`], and the typed `Cca::decode` (from an unvalidated
/// message, which validates, and from one marked validated, which does not).
fn cca_both_ways(
    bytes: &[u8],
) -> (
    Result<(), diameter_core::Error>,
    Result<Cca<'_>, diameter_core::Error>,
) {
    let msg = Message::new_checked(bytes).unwrap();
    let validated = msg.validate(&CreditControl);
    let decoded = Cca::decode(&msg);
    if validated.is_ok() {
        let checked = msg.validated(&CreditControl).unwrap();
        let fast = Cca::decode(&checked).expect("decode of a validated CCA");
        let slow = decoded.as_ref().expect("validate and decode disagree");
        assert_eq!(
            Cca {
                message: msg,
                ..fast
            },
            *slow
        );
    }
    (validated, decoded)
}

/// RFC 6733 §7.2: a failure answer need carry only the `<answer-message>`
/// AVPs. freeDiameter's 5005 CCA leaves Auth-Application-Id (RFC 8506 §3.2
/// `{ Auth-Application-Id }`), CC-Request-Type and CC-Request-Number out:
/// `Message::validate` and `Cca::decode` both accept it.
#[test]
fn cca_5005_without_the_cc_avps_is_accepted_by_validate_and_decode() {
    let mut buf = [0u8; 512];
    let mut b = MessageBuilder::new(&mut buf, CcaRepr::header(7, 8));
    b.put(&base::SESSION_ID, SID)
        .put(&base::ORIGIN_HOST, OCS)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::RESULT_CODE, 5005)
        .put(&base::ERROR_MESSAGE, "missing AVP")
        .grouped(&base::FAILED_AVP, |g| {
            g.put(&dict::SERVICE_CONTEXT_ID, "");
        });
    let bytes = b.finish().unwrap();
    let m = Message::new_checked(bytes).unwrap();
    assert!(m.flags().is_proxiable() && !m.flags().is_error());
    let (validated, decoded) = cca_both_ways(bytes);
    validated.unwrap();
    let c = decoded.unwrap();
    assert_eq!(c.result_code, ResultCode::MISSING_AVP);
    assert_eq!(c.session_id, SID);
    assert_eq!((c.origin_host, c.origin_realm), (OCS, REALM));
    assert_eq!(c.auth_application_id, None);
    assert_eq!((c.cc_request_type, c.cc_request_number), (None, None));
    assert!(!c.is_protocol_error());
    assert_eq!(c.error_message, Some("missing AVP"));
    let failed = c.failed_avp.unwrap();
    assert_eq!(failed.iter().next().unwrap().unwrap().code(), 461);
}

/// RFC 6733 §7.2: `<answer-message> ::= < Diameter Header: code, ERR [, PXY] >`.
/// A 3002 DIAMETER_UNABLE_TO_DELIVER from a relay carries the E bit and
/// need not copy the CCR's P bit (RFC 8506 §3.2 marks the CCA PXY): an
/// E-bit answer is not checked against the command's P bit, by
/// `Message::validate` nor by `Cca::decode`.
#[test]
fn cca_3002_with_e_bit_and_without_p_bit_is_accepted_by_validate_and_decode() {
    let mut h = CcaRepr::header(7, 8);
    h.flags = CommandFlags::ERROR;
    let mut buf = [0u8; 256];
    let mut b = MessageBuilder::new(&mut buf, h);
    b.put(&base::SESSION_ID, SID)
        .put(&base::ORIGIN_HOST, "relay.cgrates.org")
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::RESULT_CODE, 3002);
    let bytes = b.finish().unwrap();
    let m = Message::new_checked(bytes).unwrap();
    assert!(!m.flags().is_proxiable() && m.flags().is_error());
    let (validated, decoded) = cca_both_ways(bytes);
    validated.unwrap();
    let c = decoded.unwrap();
    assert!(c.is_protocol_error());
    assert_eq!(c.result_code, ResultCode::UNABLE_TO_DELIVER);
    assert_eq!(c.origin_host, "relay.cgrates.org");
    assert_eq!(c.auth_application_id, None);
    assert_eq!((c.cc_request_type, c.cc_request_number), (None, None));

    // Without the E bit the P bit is checked again (RFC 8506 §3.2): 3008.
    let mut h = CcaRepr::header(7, 8);
    h.flags = CommandFlags(0);
    let mut b = MessageBuilder::new(&mut buf, h);
    b.put(&base::SESSION_ID, SID)
        .put(&base::ORIGIN_HOST, OCS)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::RESULT_CODE, 5012);
    let bytes = b.finish().unwrap();
    let (validated, decoded) = cca_both_ways(bytes);
    assert_eq!(validated.unwrap_err().kind(), ErrorKind::InvalidHeaderBits);
    assert_eq!(decoded.unwrap_err().kind(), ErrorKind::InvalidHeaderBits);
}

/// RFC 8506 §3.2: a successful CCA carries `{ CC-Request-Type }`; without it
/// both `Message::validate` and `Cca::decode` say 5005 naming AVP 416.
#[test]
fn cca_2001_without_cc_request_type_is_rejected_by_validate_and_decode() {
    let mut buf = [0u8; 256];
    let mut b = MessageBuilder::new(&mut buf, CcaRepr::header(7, 8));
    b.put(&base::SESSION_ID, SID)
        .put(&base::RESULT_CODE, 2001)
        .put(&base::ORIGIN_HOST, OCS)
        .put(&base::ORIGIN_REALM, REALM)
        .put(&base::AUTH_APPLICATION_ID, 4)
        .put(&dict::CC_REQUEST_NUMBER, 0)
        .grouped(&dict::GRANTED_SERVICE_UNIT, |g| {
            g.put(&dict::CC_TIME, 300);
        });
    let bytes = b.finish().unwrap();
    let (validated, decoded) = cca_both_ways(bytes);
    for e in [validated.unwrap_err(), decoded.unwrap_err()] {
        assert_eq!(e.kind(), ErrorKind::MissingAvp);
        assert_eq!(e.result_code(), ResultCode::MISSING_AVP);
        let avp = e.avp().unwrap();
        assert_eq!((avp.code, avp.vendor), (416, 0));
    }
    assert!(Message::new_checked(bytes)
        .unwrap()
        .validated(&CreditControl)
        .is_err());
}

// ---------------------------------------------------------------------------
// Views of a message marked validated
// ---------------------------------------------------------------------------

/// A message validated once (`Message::new_checked(b)?.validated(&CreditControl)?`,
/// as the peer machine hands it over) gives the typed views the same fields
/// as an unvalidated one, which the view validates itself; the header
/// checks (Command-Code, R bit, Application-Id) still apply.
#[test]
fn views_of_a_validated_message_read_the_same_fields() {
    let mut buf = [0u8; 4096];
    let large = Large::new();
    let mscc = large.mscc();
    let requests: Vec<(&str, Vec<u8>)> = vec![
        ("ccr-i", bench_msg("ccr-i")),
        ("ccr-u-large", bench_msg("ccr-u-large")),
        (
            "ccr-full",
            ccr_full()
                .encode(CcrRepr::header(1, 2), &mut buf)
                .unwrap()
                .to_vec(),
        ),
        (
            "ccr-u-large (repr)",
            ccr_u_large(&mscc)
                .encode(CcrRepr::header(3, 4), &mut buf)
                .unwrap()
                .to_vec(),
        ),
    ];
    for (name, bytes) in &requests {
        let plain = Message::new_checked(bytes).unwrap();
        let once = Message::new_checked(bytes)
            .unwrap()
            .validated(&CreditControl)
            .unwrap();
        assert!(once.is_validated() && !plain.is_validated(), "{name}");
        let slow = Ccr::decode(&plain).unwrap();
        let fast = Ccr::decode(&once).unwrap();
        assert!(fast.message.is_validated(), "{name}");
        let mut same = fast;
        same.message = plain;
        assert_eq!(same, slow, "{name}");
        assert!(fast.mscc().eq(slow.mscc()), "{name}");
        assert!(
            fast.subscription_ids().eq(slow.subscription_ids()),
            "{name}"
        );
        assert!(
            fast.used_service_units().eq(slow.used_service_units()),
            "{name}"
        );
        // Header checks are not skipped: a validated CCR is no CCA.
        assert_eq!(
            Cca::decode(&once).unwrap_err().kind(),
            ErrorKind::InvalidHeaderBits,
            "{name}"
        );
    }
    assert_ccr(&Ccr::decode(&checked(&requests[2].1)).unwrap(), &ccr_full());

    let answers: Vec<(&str, Vec<u8>)> = vec![
        ("cca-i", bench_msg("cca-i")),
        (
            "cca-full",
            cca_full()
                .encode(CcaRepr::header(5, 6), &mut buf)
                .unwrap()
                .to_vec(),
        ),
    ];
    for (name, bytes) in &answers {
        let plain = Message::new_checked(bytes).unwrap();
        let once = checked(bytes);
        let slow = Cca::decode(&plain).unwrap();
        let fast = Cca::decode(&once).unwrap();
        assert_eq!(
            Cca {
                message: plain,
                ..fast
            },
            slow,
            "{name}"
        );
        assert!(fast.mscc().eq(slow.mscc()), "{name}");
        assert_eq!(
            Ccr::decode(&once).unwrap_err().kind(),
            ErrorKind::InvalidHeaderBits,
            "{name}"
        );
    }
    assert_cca(&Cca::decode(&checked(&answers[1].1)).unwrap(), &cca_full());
}

// ---------------------------------------------------------------------------
// No heap allocation
// ---------------------------------------------------------------------------

#[test]
fn the_allocation_counter_counts() {
    assert_counting();
    let (_, n) = allocations(|| black_box(Vec::<u8>::with_capacity(1)));
    assert_eq!(n, 1);
    let (_, n) = allocations(|| black_box([0u8; 64]));
    assert_eq!(n, 0);
}

#[test]
fn decode_iterate_and_encode_allocate_nothing() {
    let large = bench_msg("ccr-u-large");
    let ccr_i = bench_msg("ccr-i");
    let cca_i = bench_msg("cca-i");

    // Decode + iterate every MSCC of ccr-u-large, reading every value.
    let (sum, n) = allocations(|| {
        let msg = Message::parse_with(&large, &CreditControl).unwrap();
        let c = Ccr::decode(&msg).unwrap();
        let mut sum = 0u64;
        let mut groups = 0;
        for m in c.mscc() {
            let m = m.unwrap();
            groups += 1;
            sum += u64::from(m.rating_group.unwrap());
            sum += u64::from(m.requested_service_unit.unwrap().cc_time.unwrap());
            for u in m.used_service_units() {
                let u = u.unwrap();
                sum += u64::from(u.cc_time.unwrap()) + u.cc_total_octets.unwrap();
                sum += u.cc_input_octets.unwrap() + u.cc_output_octets.unwrap();
            }
            for s in m.service_identifiers() {
                sum += u64::from(s.unwrap());
            }
        }
        assert_eq!(groups, 30);
        for s in c.subscription_ids() {
            black_box(s.unwrap().data);
        }
        black_box(c.ims.unwrap().called_party_address);
        sum
    });
    assert_eq!(n, 0, "decode + iterate ccr-u-large: {n} allocation(s)");
    let want: u64 = (0..30u64)
        .map(|i| {
            (100 + i)
                + 300
                + (60 + i)
                + (1_000_000 + i)
                + (400_000 + i)
                + (600_000 + i)
                + (1000 + i)
        })
        .sum();
    assert_eq!(sum, want);

    // The receive path of the peer machine: validated once (header, AVP
    // headers, grammar, values), then read by the view without validating
    // again.
    let (groups, n) = allocations(|| {
        let msg = Message::new_checked(&large)
            .and_then(|m| m.validated(&CreditControl))
            .unwrap();
        let c = Ccr::decode(&msg).unwrap();
        c.mscc().filter_map(Result::ok).count()
    });
    assert_eq!(
        n, 0,
        "validate once + decode ccr-u-large: {n} allocation(s)"
    );
    assert_eq!(groups, 30);

    // Encode ccr-i from its repr into a stack buffer.
    let (same, n) = allocations(|| {
        let mut buf = [0u8; 512];
        let out = CCR_I.encode(CCR_I_HEADER, &mut buf).unwrap();
        out == &ccr_i[..]
    });
    assert_eq!(n, 0, "encode ccr-i: {n} allocation(s)");
    assert!(same);

    // The answer path too: decode ccr-i, answer it with cca-i.
    let (same, n) = allocations(|| {
        let request = Message::parse_with(&ccr_i, &CreditControl).unwrap();
        let ccr = Ccr::decode(&request).unwrap();
        let answer = CcaRepr {
            granted_service_unit: Some(ServiceUnit::time(300)),
            mscc: &CCA_I_MSCC,
            ..ccr.answer(OCS, REALM, ResultCode::SUCCESS)
        };
        let mut buf = [0u8; 512];
        let out = answer.encode_answer_to(&request, &mut buf).unwrap();
        let cca = Cca::decode(&Message::parse_with(out, &CreditControl).unwrap()).unwrap();
        cca.result_code.is_success() && out == &cca_i[..]
    });
    assert_eq!(n, 0, "answer ccr-i: {n} allocation(s)");
    assert!(same);

    // Errors are built without the heap as well.
    let (kind, n) = allocations(|| {
        let msg = Message::parse_with(&cca_i, &CreditControl).unwrap();
        Ccr::decode(&msg).unwrap_err().kind()
    });
    assert_eq!((kind, n), (ErrorKind::InvalidHeaderBits, 0));
}
