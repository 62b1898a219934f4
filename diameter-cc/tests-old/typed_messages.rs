//! The typed messages of `diameter_cc::msg` against the shared bench
//! messages (`../shared/bench-msgs`), against themselves (repr → bytes →
//! typed decode), against the grammar (precise errors), against the heap
//! (a counting allocator: decoding ccr-u-large and encoding ccr-i make no
//! allocation) and against Wireshark (every message type dissects cleanly
//! with `shared/peers/tshark-decode.sh`; tshark is required, the test fails
//! without it).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use diameter_cc::dict::base::{AccountingRecordType, ReAuthRequestType, TerminationCause};
use diameter_cc::dict::sip::{ServiceType, SipMethod};
use diameter_cc::dict::tgpp::{self, NodeFunctionality, ReportingReason, RoleOfNode};
use diameter_cc::dict::{
    self, base, CcRequestType, CcSessionFailover, CheckBalanceResult, CreditControlFailureHandling,
    DirectDebitingFailureHandling, FinalUnitAction, MultipleServicesIndicator, RedirectAddressType,
    RequestedAction, SubscriptionIdType, TariffChangeUsage,
};
use diameter_cc::msg::{
    Aca, AcaRepr, Acr, AcrRepr, Asa, AsaRepr, Asr, AsrRepr, CcMoney, Cca, CcaRepr, Ccr, CcrRepr,
    CostInformation, FinalUnitIndication, FinalUnitIndicationRepr, ImsRepr, Mscc, MsccRepr, Raa,
    RaaRepr, Rar, RarRepr, RedirectServer, ServiceUnit, SubscriptionId, UnitValue,
};
use diameter_cc::CreditControl;
use diameter_core::answer::{error_answer, Identity};
use diameter_core::{
    ApplicationId, CommandFlags, Error, ErrorKind, HeaderRepr, Message, MessageBuilder, ResultCode,
    Timestamp,
};

// ---------------------------------------------------------------------------
// The bench messages and their values
// ---------------------------------------------------------------------------

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

fn bench_msg(name: &str) -> Vec<u8> {
    let path = shared().join("bench-msgs").join(format!("{name}.hex"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "bench message {name} not found at {}: {e} (the shared/ folder must sit beside \
             the workspace)",
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

fn parse(bytes: &[u8]) -> Message<'_> {
    Message::parse_with(bytes, &CreditControl).unwrap_or_else(|e| panic!("parse: {e}"))
}

const SID: &str = "client.cgrates.org;1704067200;1;sip-call-0001";
const CLIENT: &str = "client.cgrates.org";
const OCS: &str = "ocs.cgrates.org";
const REALM: &str = "cgrates.org";
/// 2024-01-01T00:00:00Z.
const T0: Timestamp = Timestamp(3_913_056_000);
const SUBS: [SubscriptionId<'static>; 1] = [SubscriptionId::e164("1001")];
const IMS: ImsRepr<'static> = ImsRepr {
    role_of_node: Some(RoleOfNode::Originating),
    node_functionality: NodeFunctionality::As,
    calling_party_address: Some("sip:1001@cgrates.org"),
    called_party_address: Some("sip:1002@cgrates.org"),
};

/// ccr-i as documented in the bench README.
const CCR_I: CcrRepr<'static> = CcrRepr {
    event_timestamp: Some(T0),
    subscription_ids: &SUBS,
    requested_service_unit: Some(ServiceUnit::time(300)),
    ims: Some(IMS),
    ..CcrRepr::new(
        SID,
        CLIENT,
        REALM,
        REALM,
        "voice@cgrates.org",
        CcRequestType::Initial,
        0,
    )
};
const CCR_I_HEADER: HeaderRepr = CcrRepr::header(0x5AE5_A001, 0x1C0D_E001);

const CCA_I_MSCC: [MsccRepr<'static>; 1] = [MsccRepr {
    granted_service_unit: Some(ServiceUnit::time(300)),
    rating_group: Some(1),
    validity_time: Some(3600),
    result_code: Some(ResultCode::SUCCESS),
    ..MsccRepr::EMPTY
}];

/// cca-i as documented.
const CCA_I: CcaRepr<'static> = CcaRepr {
    granted_service_unit: Some(ServiceUnit::time(300)),
    mscc: &CCA_I_MSCC,
    ..CcaRepr::new(
        SID,
        ResultCode::SUCCESS,
        OCS,
        REALM,
        CcRequestType::Initial,
        0,
    )
};

/// acr-start as documented.
const ACR_START: AcrRepr<'static> = AcrRepr {
    acct_application_id: Some(3),
    user_name: Some("1001@cgrates.org"),
    acct_interim_interval: Some(300),
    origin_state_id: Some(1_704_067_200),
    event_timestamp: Some(T0),
    ..AcrRepr::new(
        SID,
        CLIENT,
        REALM,
        REALM,
        AccountingRecordType::StartRecord,
        0,
    )
};

/// The used units of ccr-u-large's MSCC number `i`.
fn large_usu(i: u32) -> ServiceUnit {
    ServiceUnit {
        cc_time: Some(60 + i),
        cc_total_octets: Some(1_000_000 + u64::from(i)),
        cc_input_octets: Some(400_000 + u64::from(i)),
        cc_output_octets: Some(600_000 + u64::from(i)),
        ..ServiceUnit::EMPTY
    }
}

/// Storage for ccr-u-large's repeated values, which its repr borrows.
struct Large {
    usu: Vec<[ServiceUnit; 1]>,
    sids: Vec<[u32; 1]>,
}

impl Large {
    fn new() -> Self {
        Large {
            usu: (0..30).map(|i| [large_usu(i)]).collect(),
            sids: (0..30).map(|i| [1000 + i]).collect(),
        }
    }
    fn mscc(&self) -> Vec<MsccRepr<'_>> {
        (0..30)
            .map(|i| MsccRepr {
                requested_service_unit: Some(ServiceUnit::time(300)),
                used_service_units: &self.usu[i],
                service_identifiers: &self.sids[i],
                rating_group: Some(100 + i as u32),
                ..MsccRepr::EMPTY
            })
            .collect()
    }
}

fn ccr_u_large<'a>(mscc: &'a [MsccRepr<'a>]) -> CcrRepr<'a> {
    CcrRepr {
        cc_request_type: CcRequestType::Update,
        cc_request_number: 1,
        requested_service_unit: None,
        multiple_services_indicator: Some(MultipleServicesIndicator::Supported),
        mscc,
        ..CCR_I
    }
}

// ---------------------------------------------------------------------------
// Field-by-field comparison of a decoded message with the repr it came from
// ---------------------------------------------------------------------------

fn all<T>(it: impl Iterator<Item = Result<T, Error>>) -> Vec<T> {
    it.map(|r| r.unwrap_or_else(|e| panic!("iterate: {e}")))
        .collect()
}

fn assert_fui(got: Option<FinalUnitIndication<'_>>, want: Option<FinalUnitIndicationRepr<'_>>) {
    match (got, want) {
        (None, None) => {}
        (Some(f), Some(w)) => {
            assert_eq!(f.final_unit_action, w.final_unit_action);
            assert_eq!(f.redirect_server, w.redirect_server);
            assert_eq!(
                all(f.restriction_filter_rules()),
                w.restriction_filter_rules
            );
            assert_eq!(all(f.filter_ids()), w.filter_ids);
        }
        (g, w) => panic!("Final-Unit-Indication: got {g:?}, want {w:?}"),
    }
}

fn assert_mscc(m: &Mscc<'_>, r: &MsccRepr<'_>) {
    assert_eq!(m.granted_service_unit, r.granted_service_unit);
    assert_eq!(m.requested_service_unit, r.requested_service_unit);
    assert_eq!(all(m.used_service_units()), r.used_service_units);
    assert_eq!(all(m.service_identifiers()), r.service_identifiers);
    assert_eq!(m.rating_group, r.rating_group);
    assert_eq!(m.validity_time, r.validity_time);
    assert_eq!(m.result_code, r.result_code);
    assert_fui(m.final_unit_indication, r.final_unit_indication);
    assert_eq!(m.time_quota_threshold, r.time_quota_threshold);
    assert_eq!(m.volume_quota_threshold, r.volume_quota_threshold);
    assert_eq!(m.unit_quota_threshold, r.unit_quota_threshold);
    assert_eq!(m.quota_holding_time, r.quota_holding_time);
    assert_eq!(m.quota_consumption_time, r.quota_consumption_time);
    assert_eq!(m.reporting_reason, r.reporting_reason);
}

fn assert_msccs(got: Vec<Mscc<'_>>, want: &[MsccRepr<'_>]) {
    assert_eq!(got.len(), want.len(), "MSCC count");
    for (m, r) in got.iter().zip(want) {
        assert_mscc(m, r);
    }
}

fn assert_ccr(c: &Ccr<'_>, r: &CcrRepr<'_>) {
    assert_eq!(c.session_id, r.session_id);
    assert_eq!(c.origin_host, r.origin_host);
    assert_eq!(c.origin_realm, r.origin_realm);
    assert_eq!(c.destination_realm, r.destination_realm);
    assert_eq!(c.destination_host, r.destination_host);
    assert_eq!(c.auth_application_id, r.auth_application_id);
    assert_eq!(c.service_context_id, r.service_context_id);
    assert_eq!(c.cc_request_type, r.cc_request_type);
    assert_eq!(c.cc_request_number, r.cc_request_number);
    assert_eq!(c.user_name, r.user_name);
    assert_eq!(c.origin_state_id, r.origin_state_id);
    assert_eq!(c.event_timestamp, r.event_timestamp);
    assert_eq!(c.subscription_id, r.subscription_ids.first().copied());
    assert_eq!(all(c.subscription_ids()), r.subscription_ids);
    assert_eq!(c.service_identifier, r.service_identifier);
    assert_eq!(c.termination_cause, r.termination_cause);
    assert_eq!(c.requested_service_unit, r.requested_service_unit);
    assert_eq!(c.requested_action, r.requested_action);
    assert_eq!(all(c.used_service_units()), r.used_service_units);
    assert_eq!(c.multiple_services_indicator, r.multiple_services_indicator);
    assert_msccs(all(c.mscc()), r.mscc);
    assert_eq!(c.ims.map(|i| i.repr()), r.ims);
    assert_eq!(c.service_information.is_some(), r.ims.is_some());
}

fn assert_cca(c: &Cca<'_>, r: &CcaRepr<'_>) {
    assert_eq!(c.session_id, r.session_id);
    assert_eq!(c.result_code, r.result_code);
    assert_eq!(c.origin_host, r.origin_host);
    assert_eq!(c.origin_realm, r.origin_realm);
    assert_eq!(c.auth_application_id, Some(r.auth_application_id));
    assert_eq!(c.cc_request_type, Some(r.cc_request_type));
    assert_eq!(c.cc_request_number, Some(r.cc_request_number));
    assert_eq!(c.user_name, r.user_name);
    assert_eq!(c.cc_session_failover, r.cc_session_failover);
    assert_eq!(c.origin_state_id, r.origin_state_id);
    assert_eq!(c.event_timestamp, r.event_timestamp);
    assert_eq!(c.granted_service_unit, r.granted_service_unit);
    assert_msccs(all(c.mscc()), r.mscc);
    assert_eq!(c.cost_information, r.cost_information);
    assert_fui(c.final_unit_indication, r.final_unit_indication);
    assert_eq!(c.check_balance_result, r.check_balance_result);
    assert_eq!(
        c.credit_control_failure_handling,
        r.credit_control_failure_handling
    );
    assert_eq!(
        c.direct_debiting_failure_handling,
        r.direct_debiting_failure_handling
    );
    assert_eq!(c.validity_time, r.validity_time);
    assert!(!c.is_protocol_error());
    assert_eq!((c.error_message, c.failed_avp), (None, None));
}

fn assert_acr(a: &Acr<'_>, r: &AcrRepr<'_>) {
    assert_eq!(a.session_id, r.session_id);
    assert_eq!(a.origin_host, r.origin_host);
    assert_eq!(a.origin_realm, r.origin_realm);
    assert_eq!(a.destination_realm, r.destination_realm);
    assert_eq!(a.accounting_record_type, r.accounting_record_type);
    assert_eq!(a.accounting_record_number, r.accounting_record_number);
    assert_eq!(a.acct_application_id, r.acct_application_id);
    assert_eq!(a.user_name, r.user_name);
    assert_eq!(a.destination_host, r.destination_host);
    assert_eq!(a.acct_session_id, r.acct_session_id);
    assert_eq!(a.acct_interim_interval, r.acct_interim_interval);
    assert_eq!(a.origin_state_id, r.origin_state_id);
    assert_eq!(a.event_timestamp, r.event_timestamp);
    assert_eq!(a.service_type, r.service_type);
    assert_eq!(a.sip_method, r.sip_method);
    assert_eq!(a.sip_response_code, r.sip_response_code);
    assert_eq!(a.sip_from_tag, r.sip_from_tag);
    assert_eq!(a.sip_to_tag, r.sip_to_tag);
    assert_eq!(a.sip_call_duration, r.sip_call_duration);
    assert_eq!(a.sip_call_setuptime, r.sip_call_setuptime);
    assert_eq!(a.sip_call_created, r.sip_call_created);
    assert_eq!(a.sip_call_ms_duration, r.sip_call_ms_duration);
}

fn assert_aca(a: &Aca<'_>, r: &AcaRepr<'_>) {
    assert_eq!(a.session_id, r.session_id);
    assert_eq!(a.result_code, r.result_code);
    assert_eq!(a.origin_host, r.origin_host);
    assert_eq!(a.origin_realm, r.origin_realm);
    assert_eq!(a.accounting_record_type, Some(r.accounting_record_type));
    assert_eq!(a.accounting_record_number, Some(r.accounting_record_number));
    assert_eq!(a.acct_application_id, r.acct_application_id);
    assert_eq!(a.acct_interim_interval, r.acct_interim_interval);
    assert_eq!((a.user_name, a.acct_session_id), (None, None));
    assert_eq!((a.error_message, a.failed_avp), (None, None));
    assert!(!a.is_protocol_error());
}

fn assert_rar(a: &Rar<'_>, r: &RarRepr<'_>) {
    assert_eq!(a.session_id, r.session_id);
    assert_eq!(a.origin_host, r.origin_host);
    assert_eq!(a.origin_realm, r.origin_realm);
    assert_eq!(a.destination_realm, r.destination_realm);
    assert_eq!(a.destination_host, r.destination_host);
    assert_eq!(a.auth_application_id, r.auth_application_id);
    assert_eq!(a.re_auth_request_type, r.re_auth_request_type);
    assert_eq!(a.user_name, r.user_name);
    assert_eq!(a.origin_state_id, r.origin_state_id);
    assert_eq!(a.cc_sub_session_id, r.cc_sub_session_id);
    assert_eq!(a.g_s_u_pool_identifier, r.g_s_u_pool_identifier);
    assert_eq!(a.service_identifier, r.service_identifier);
    assert_eq!(a.rating_group, r.rating_group);
}

fn assert_asr(a: &Asr<'_>, r: &AsrRepr<'_>) {
    assert_eq!(a.session_id, r.session_id);
    assert_eq!(a.origin_host, r.origin_host);
    assert_eq!(a.origin_realm, r.origin_realm);
    assert_eq!(a.destination_realm, r.destination_realm);
    assert_eq!(a.destination_host, r.destination_host);
    assert_eq!(a.auth_application_id, r.auth_application_id);
    assert_eq!(a.user_name, r.user_name);
    assert_eq!(a.origin_state_id, r.origin_state_id);
}

macro_rules! assert_session_answer {
    ($a:expr, $r:expr) => {{
        let (a, r) = ($a, $r);
        assert_eq!(a.session_id, r.session_id);
        assert_eq!(a.result_code, r.result_code);
        assert_eq!(a.origin_host, r.origin_host);
        assert_eq!(a.origin_realm, r.origin_realm);
        assert_eq!(a.user_name, r.user_name);
        assert_eq!(a.origin_state_id, r.origin_state_id);
        assert_eq!((a.error_message, a.failed_avp), (None, None));
    }};
}

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
fn decode_acr_start() {
    let bytes = bench_msg("acr-start");
    let msg = parse(&bytes);
    let a = Acr::decode(&msg).unwrap();
    assert_eq!(msg.application_id(), ApplicationId::BASE_ACCOUNTING);
    assert_eq!(a.session_id, SID);
    assert_eq!((a.origin_host, a.origin_realm), (CLIENT, REALM));
    assert_eq!(a.destination_realm, REALM);
    assert_eq!(a.accounting_record_type, AccountingRecordType::StartRecord);
    assert_eq!(a.accounting_record_number, 0);
    assert_eq!(a.acct_application_id, Some(3));
    assert_eq!(a.user_name, Some("1001@cgrates.org"));
    assert_eq!(a.acct_interim_interval, Some(300));
    assert_eq!(a.origin_state_id, Some(1_704_067_200));
    assert_eq!(a.event_timestamp, Some(T0));
    assert_eq!(a.acct_session_id, None);
    assert_eq!(a.service_type, None);
    assert_acr(&a, &ACR_START);
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

    let acr = bench_msg("acr-start");
    assert_eq!(
        ACR_START
            .encode(AcrRepr::header(0x5AE5_A002, 0x1C0D_E002), &mut buf)
            .unwrap(),
        &acr[..]
    );

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
// Round trips of every message type, with every field set
// ---------------------------------------------------------------------------

const USED: [ServiceUnit; 2] = [
    ServiceUnit {
        reporting_reason: Some(ReportingReason::QuotaExhausted),
        tariff_change_usage: Some(TariffChangeUsage::BeforeTariffChange),
        cc_time: Some(120),
        cc_service_specific_units: Some(3),
        ..ServiceUnit::EMPTY
    },
    ServiceUnit {
        tariff_change_usage: Some(TariffChangeUsage::AfterTariffChange),
        cc_time: Some(15),
        cc_total_octets: Some(u64::MAX),
        cc_input_octets: Some(1),
        cc_output_octets: Some(2),
        ..ServiceUnit::EMPTY
    },
];

const MONEY: CcMoney = CcMoney {
    unit_value: UnitValue {
        value_digits: 1234,
        exponent: Some(-2),
    },
    currency_code: Some(978),
};

const FUI_REDIRECT: FinalUnitIndicationRepr<'static> = FinalUnitIndicationRepr {
    redirect_server: Some(RedirectServer {
        address_type: RedirectAddressType::SipUri,
        address: "sip:topup@cgrates.org",
    }),
    ..FinalUnitIndicationRepr::new(FinalUnitAction::Redirect)
};

const FUI_RESTRICT: FinalUnitIndicationRepr<'static> = FinalUnitIndicationRepr {
    final_unit_action: FinalUnitAction::RestrictAccess,
    restriction_filter_rules: &[
        "permit out ip from any to 10.0.0.1",
        "permit in ip from 10.0.0.1 to any",
    ],
    filter_ids: &["topup-only"],
    redirect_server: None,
};

/// A CCR-U reporting on two rating groups, every CCR field set.
fn ccr_full() -> CcrRepr<'static> {
    const SUBS2: [SubscriptionId<'static>; 2] = [
        SubscriptionId::e164("1001"),
        SubscriptionId {
            id_type: SubscriptionIdType::SipUri,
            data: "sip:1001@cgrates.org",
        },
    ];
    const MSCC: [MsccRepr<'static>; 2] = [
        MsccRepr {
            requested_service_unit: Some(ServiceUnit::time(300)),
            used_service_units: &USED,
            service_identifiers: &[1, 2, 3],
            rating_group: Some(10),
            reporting_reason: Some(ReportingReason::ValidityTime),
            ..MsccRepr::EMPTY
        },
        MsccRepr {
            requested_service_unit: Some(ServiceUnit {
                cc_money: Some(MONEY),
                ..ServiceUnit::EMPTY
            }),
            rating_group: Some(11),
            ..MsccRepr::EMPTY
        },
    ];
    CcrRepr {
        destination_host: Some(OCS),
        user_name: Some("1001"),
        origin_state_id: Some(7),
        event_timestamp: Some(T0),
        subscription_ids: &SUBS2,
        service_identifier: Some(99),
        termination_cause: Some(TerminationCause::AuthExpired),
        requested_service_unit: Some(ServiceUnit::time(0)),
        requested_action: Some(RequestedAction::DirectDebiting),
        used_service_units: &USED,
        multiple_services_indicator: Some(MultipleServicesIndicator::Supported),
        mscc: &MSCC,
        ims: Some(ImsRepr {
            role_of_node: Some(RoleOfNode::Terminating),
            node_functionality: NodeFunctionality::SCscf,
            calling_party_address: Some("tel:+4412345"),
            called_party_address: None,
        }),
        ..CcrRepr::new(
            "sid;full",
            CLIENT,
            REALM,
            REALM,
            "voice@OsipsDiamCCR",
            CcRequestType::Update,
            5,
        )
    }
}

/// A CCA with every CCA field set.
fn cca_full() -> CcaRepr<'static> {
    const MSCC: [MsccRepr<'static>; 3] = [
        MsccRepr {
            granted_service_unit: Some(ServiceUnit {
                tariff_time_change: Some(Timestamp(3_913_059_600)),
                cc_time: Some(600),
                cc_money: Some(MONEY),
                ..ServiceUnit::EMPTY
            }),
            rating_group: Some(10),
            validity_time: Some(1800),
            result_code: Some(ResultCode::SUCCESS),
            final_unit_indication: Some(FUI_REDIRECT),
            time_quota_threshold: Some(30),
            volume_quota_threshold: Some(1 << 20),
            unit_quota_threshold: Some(5),
            quota_holding_time: Some(60),
            quota_consumption_time: Some(10),
            ..MsccRepr::EMPTY
        },
        MsccRepr {
            rating_group: Some(11),
            result_code: Some(ResultCode(4012)),
            final_unit_indication: Some(FUI_RESTRICT),
            ..MsccRepr::EMPTY
        },
        // (An empty MSCC is legal but Wireshark flags empty groups.)
        MsccRepr {
            service_identifiers: &[7],
            ..MsccRepr::EMPTY
        },
    ];
    CcaRepr {
        user_name: Some("1001"),
        cc_session_failover: Some(CcSessionFailover::Supported),
        origin_state_id: Some(9),
        event_timestamp: Some(T0),
        granted_service_unit: Some(ServiceUnit::time(300)),
        mscc: &MSCC,
        cost_information: Some(CostInformation {
            unit_value: UnitValue {
                value_digits: 5,
                exponent: None,
            },
            currency_code: 840,
            cost_unit: Some("minute"),
        }),
        final_unit_indication: Some(FUI_REDIRECT),
        check_balance_result: Some(CheckBalanceResult::EnoughCredit),
        credit_control_failure_handling: Some(CreditControlFailureHandling::RetryAndTerminate),
        direct_debiting_failure_handling: Some(DirectDebitingFailureHandling::Continue),
        validity_time: Some(3600),
        ..CcaRepr::new(
            "sid;full",
            ResultCode::SUCCESS,
            OCS,
            REALM,
            CcRequestType::Update,
            5,
        )
    }
}

fn acr_full(t: AccountingRecordType, n: u32) -> AcrRepr<'static> {
    AcrRepr {
        acct_application_id: Some(3),
        user_name: Some("1001"),
        destination_host: Some(OCS),
        acct_session_id: Some(b"sip-call-0001"),
        acct_interim_interval: Some(60),
        origin_state_id: Some(1),
        event_timestamp: Some(T0),
        service_type: Some(ServiceType::SipSession),
        sip_method: Some(SipMethod::Bye),
        sip_response_code: Some(200),
        sip_from_tag: Some("ftag-1"),
        sip_to_tag: Some("ttag-2"),
        sip_call_duration: Some(43),
        sip_call_setuptime: Some(2),
        sip_call_created: Some(1_704_067_200),
        sip_call_ms_duration: Some(42_017),
        ..AcrRepr::new("sid;acct", CLIENT, REALM, REALM, t, n)
    }
}

const ACA_FULL: AcaRepr<'static> = AcaRepr {
    acct_application_id: Some(3),
    acct_interim_interval: Some(120),
    ..AcaRepr::new(
        "sid;acct",
        ResultCode::SUCCESS,
        OCS,
        REALM,
        AccountingRecordType::InterimRecord,
        2,
    )
};

const RAR_FULL: RarRepr<'static> = RarRepr {
    re_auth_request_type: ReAuthRequestType::AuthorizeAuthenticate,
    user_name: Some("1001"),
    origin_state_id: Some(3),
    cc_sub_session_id: Some(1 << 40),
    g_s_u_pool_identifier: Some(4),
    service_identifier: Some(5),
    rating_group: Some(6),
    ..RarRepr::new("sid;full", OCS, REALM, REALM, CLIENT)
};

const RAA_FULL: RaaRepr<'static> = RaaRepr {
    user_name: Some("1001"),
    origin_state_id: Some(8),
    ..RaaRepr::new("sid;full", ResultCode::SUCCESS, CLIENT, REALM)
};

const ASR_FULL: AsrRepr<'static> = AsrRepr {
    user_name: Some("1001"),
    origin_state_id: Some(3),
    ..AsrRepr::new("sid;full", OCS, REALM, REALM, CLIENT)
};

const ASA_FULL: AsaRepr<'static> = AsaRepr {
    user_name: Some("1001"),
    origin_state_id: Some(8),
    ..AsaRepr::new("sid;full", ResultCode(5002), CLIENT, REALM)
};

#[test]
fn round_trip_every_message_type() {
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

    for (i, t) in [
        AccountingRecordType::EventRecord,
        AccountingRecordType::StartRecord,
        AccountingRecordType::InterimRecord,
        AccountingRecordType::StopRecord,
    ]
    .into_iter()
    .enumerate()
    {
        let r = acr_full(t, i as u32);
        let bytes = r.encode(AcrRepr::header(7, 8), &mut buf).unwrap().to_vec();
        let msg = parse(&bytes);
        let acr = Acr::decode(&msg).unwrap();
        assert_acr(&acr, &r);
        // The answer built from the decoded request.
        let aca = AcaRepr {
            acct_interim_interval: Some(120),
            ..acr.answer(OCS, REALM, ResultCode::SUCCESS)
        };
        let bytes = aca.encode_answer_to(&msg, &mut buf).unwrap().to_vec();
        let got = Aca::decode(&parse(&bytes)).unwrap();
        assert_aca(&got, &aca);
        assert_eq!(got.message.end_to_end(), 8);
    }
    let bytes = ACA_FULL
        .encode(AcaRepr::header(1, 1), &mut buf)
        .unwrap()
        .to_vec();
    assert_aca(&Aca::decode(&parse(&bytes)).unwrap(), &ACA_FULL);

    let bytes = RAR_FULL
        .encode(RarRepr::header(9, 10), &mut buf)
        .unwrap()
        .to_vec();
    let rar_msg = parse(&bytes);
    let rar = Rar::decode(&rar_msg).unwrap();
    assert_rar(&rar, &RAR_FULL);
    let raa = RaaRepr {
        user_name: Some("1001"),
        origin_state_id: Some(8),
        ..rar.answer(CLIENT, REALM, ResultCode::SUCCESS)
    };
    assert_eq!(raa, RAA_FULL);
    let bytes = raa.encode_answer_to(&rar_msg, &mut buf).unwrap().to_vec();
    let got = Raa::decode(&parse(&bytes)).unwrap();
    assert_session_answer!(&got, &RAA_FULL);
    assert_eq!(got.message.hop_by_hop(), 9);

    let bytes = ASR_FULL
        .encode(AsrRepr::header(11, 12), &mut buf)
        .unwrap()
        .to_vec();
    let asr_msg = parse(&bytes);
    let asr = Asr::decode(&asr_msg).unwrap();
    assert_asr(&asr, &ASR_FULL);
    let asa = AsaRepr {
        user_name: Some("1001"),
        origin_state_id: Some(8),
        ..asr.answer(CLIENT, REALM, ResultCode(5002))
    };
    assert_eq!(asa, ASA_FULL);
    let bytes = asa.encode_answer_to(&asr_msg, &mut buf).unwrap().to_vec();
    let got = Asa::decode(&parse(&bytes)).unwrap();
    assert_session_answer!(&got, &ASA_FULL);
    assert_eq!(got.message.end_to_end(), 12);
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
    assert_eq!(cca.cc_request_type, None);
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
/// answer without it is accepted so that the Result-Code is not lost.
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
    let failed = build(5030, &mut buf);
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
    let c = Cca::decode(&parse(&bytes)).unwrap();
    assert!(c.is_protocol_error());
    assert_eq!(c.result_code, ResultCode::TOO_BUSY);
    assert_eq!(c.error_message, Some("busy"));
    assert_eq!(c.auth_application_id, None);
}

// ---------------------------------------------------------------------------
// No heap allocation
// ---------------------------------------------------------------------------

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static MEASURING: Mutex<()> = Mutex::new(());

thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
}

fn note() {
    if ACTIVE.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: every method forwards to `System` unchanged; `note` only touches an
// atomic and a const-initialised thread-local without destructor.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Run `f`, returning its result and the heap allocations it made on this
/// thread.
fn allocations<R>(f: impl FnOnce() -> R) -> (R, usize) {
    struct Off;
    impl Drop for Off {
        fn drop(&mut self) {
            ACTIVE.with(|a| a.set(false));
        }
    }
    let _lock = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    ALLOCATIONS.store(0, Ordering::SeqCst);
    ACTIVE.with(|a| a.set(true));
    let off = Off;
    let r = black_box(f());
    drop(off);
    (r, ALLOCATIONS.load(Ordering::SeqCst))
}

#[test]
fn the_allocation_counter_counts() {
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

// ---------------------------------------------------------------------------
// Wireshark
// ---------------------------------------------------------------------------

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let p =
            std::env::temp_dir().join(format!("diameter-cc-typed-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("keeping {} for inspection", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every message type this module encodes, as (name, bytes, command code,
/// request?).
fn every_message() -> Vec<(String, Vec<u8>, u32, bool)> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 8192];
    let mut add = |name: &str, bytes: &[u8]| {
        let m = parse(bytes);
        m.validate(&CreditControl)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push((
            name.to_string(),
            bytes.to_vec(),
            m.command_code().0,
            m.is_request(),
        ));
    };

    add("ccr-i", CCR_I.encode(CCR_I_HEADER, &mut buf).unwrap());
    let large = Large::new();
    let mscc = large.mscc();
    add(
        "ccr-u-large",
        ccr_u_large(&mscc)
            .encode(CcrRepr::header(0x5AE5_A003, 0x1C0D_E003), &mut buf)
            .unwrap(),
    );
    add(
        "ccr-u-full",
        ccr_full().encode(CcrRepr::header(2, 2), &mut buf).unwrap(),
    );
    // SCENARIOS prepaid CCR-U, CCR-T and the postpaid CCR-Event.
    let tail = CcrRepr {
        destination_host: Some("server.diameter.test"),
        user_name: Some("1001"),
        subscription_ids: &SUBS,
        ims: Some(ImsRepr {
            role_of_node: None,
            ..IMS
        }),
        ..CcrRepr::new(
            "call-1",
            "client.diameter.test",
            "diameter.test",
            "diameter.test",
            "voice@OsipsDiamCCR",
            CcRequestType::Update,
            1,
        )
    };
    add(
        "ccr-u",
        CcrRepr {
            event_timestamp: Some(T0),
            requested_service_unit: Some(ServiceUnit::time(0)),
            ..tail
        }
        .encode(CcrRepr::header(3, 3), &mut buf)
        .unwrap(),
    );
    add(
        "ccr-t",
        CcrRepr {
            cc_request_type: CcRequestType::Termination,
            cc_request_number: 2,
            termination_cause: Some(TerminationCause::Logout),
            used_service_units: &[ServiceUnit::time(42)],
            ..tail
        }
        .encode(CcrRepr::header(4, 4), &mut buf)
        .unwrap(),
    );
    add(
        "ccr-event",
        CcrRepr {
            cc_request_type: CcRequestType::Event,
            cc_request_number: 0,
            termination_cause: Some(TerminationCause::Logout),
            event_timestamp: Some(T0),
            requested_service_unit: Some(ServiceUnit::time(0)),
            used_service_units: &[ServiceUnit::time(42)],
            ..tail
        }
        .encode(CcrRepr::header(5, 5), &mut buf)
        .unwrap(),
    );

    add(
        "cca-i",
        CCA_I
            .encode(CcaRepr::header(0x5AE5_A001, 0x1C0D_E001), &mut buf)
            .unwrap(),
    );
    add(
        "cca-full",
        cca_full().encode(CcaRepr::header(2, 2), &mut buf).unwrap(),
    );
    add(
        "cca-4012",
        CcaRepr::new(
            "call-1",
            ResultCode(4012),
            OCS,
            REALM,
            CcRequestType::Update,
            1,
        )
        .encode(CcaRepr::header(3, 3), &mut buf)
        .unwrap(),
    );

    for (i, t) in [
        AccountingRecordType::EventRecord,
        AccountingRecordType::StartRecord,
        AccountingRecordType::InterimRecord,
        AccountingRecordType::StopRecord,
    ]
    .into_iter()
    .enumerate()
    {
        let i = i as u32;
        add(
            &format!("acr-{i}"),
            acr_full(t, i)
                .encode(AcrRepr::header(10 + i, 10 + i), &mut buf)
                .unwrap(),
        );
    }
    add(
        "acr-start",
        ACR_START
            .encode(AcrRepr::header(0x5AE5_A002, 0x1C0D_E002), &mut buf)
            .unwrap(),
    );
    add(
        "aca",
        ACA_FULL.encode(AcaRepr::header(11, 11), &mut buf).unwrap(),
    );
    add(
        "rar",
        RAR_FULL.encode(RarRepr::header(12, 12), &mut buf).unwrap(),
    );
    add(
        "raa",
        RAA_FULL.encode(RaaRepr::header(12, 12), &mut buf).unwrap(),
    );
    add(
        "asr",
        ASR_FULL.encode(AsrRepr::header(13, 13), &mut buf).unwrap(),
    );
    add(
        "asa",
        ASA_FULL.encode(AsaRepr::header(13, 13), &mut buf).unwrap(),
    );
    out
}

#[test]
fn every_message_type_dissects_cleanly_in_tshark() {
    for tool in ["tshark", "text2pcap"] {
        let ok = Command::new(tool)
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(
            ok,
            "{tool} not found: Wireshark's tshark is required by this test. Install it with \
             `bash ../shared/peers/install.sh` (from the workspace root; it needs root and apt)"
        );
    }
    let script = shared().join("peers/tshark-decode.sh");
    assert!(
        script.is_file(),
        "{} is missing: the shared/ folder must sit beside the workspace",
        script.display()
    );

    let msgs = every_message();
    let dir = TempDir::new();
    let files: Vec<PathBuf> = msgs
        .iter()
        .enumerate()
        .map(|(i, (name, bytes, ..))| {
            let p = dir.0.join(format!("{i:02}-{name}.hex"));
            std::fs::write(&p, hex(bytes)).unwrap();
            p
        })
        .collect();
    let out = Command::new("bash")
        .arg(&script)
        .args([
            "-e",
            "diameter.CC-Request-Type",
            "-e",
            "diameter.Accounting-Record-Type",
        ])
        .args(&files)
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "tshark-decode.sh exited with {}:\n{stderr}\n{stdout}",
        out.status
    );
    assert!(stderr.contains("decoded cleanly"), "{stderr}");

    // What tshark saw, frame by frame.
    let mut lines = stdout.lines();
    let header: Vec<&str> = lines.next().expect("fields header").split('\t').collect();
    let rows: Vec<HashMap<&str, &str>> = lines
        .filter(|l| !l.is_empty())
        .map(|l| header.iter().copied().zip(l.split('\t')).collect())
        .collect();
    assert_eq!(rows.len(), msgs.len(), "{stdout}");
    for (row, (name, bytes, code, request)) in rows.iter().zip(&msgs) {
        let m = parse(bytes);
        assert_eq!(row["diameter.cmd.code"], code.to_string(), "{name}");
        let r = row["diameter.flags.request"];
        assert!(
            (r == "1" || r == "True" || r == "true") == *request,
            "{name}: R flag {r}"
        );
        assert_eq!(
            row["diameter.hopbyhopid"]
                .trim_start_matches("0x")
                .trim_start_matches('0'),
            format!("{:x}", m.hop_by_hop()),
            "{name}"
        );
        assert_eq!(Some(row["diameter.Session-Id"]), m.session_id(), "{name}");
        if let Ok(Some(rc)) = m.get(&base::RESULT_CODE) {
            // (occurrence=a: a Result-Code inside an MSCC follows the top one)
            let top = row["diameter.Result-Code"].split(',').next();
            assert_eq!(top, Some(rc.to_string().as_str()), "{name}");
        }
        if let Ok(Some(t)) = m.get(&dict::CC_REQUEST_TYPE) {
            let v: i32 = t.into();
            assert_eq!(row["diameter.CC-Request-Type"], v.to_string(), "{name}");
        }
        if let Ok(Some(t)) = m.get(&base::ACCOUNTING_RECORD_TYPE) {
            let v: i32 = t.into();
            assert_eq!(
                row["diameter.Accounting-Record-Type"],
                v.to_string(),
                "{name}"
            );
        }
    }
}
