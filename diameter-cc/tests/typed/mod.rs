//! Shared by the `typed_*` tests: the shared bench messages
//! (`../shared/bench-msgs`) and the values they were built from, one repr of
//! every message type with every field set, and field-by-field comparisons
//! of a decoded view with the repr it came from.
//!
//! Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use diameter_cc::dict::base::{AccountingRecordType, ReAuthRequestType, TerminationCause};
use diameter_cc::dict::sip::{ServiceType, SipMethod};
use diameter_cc::dict::tgpp::{NodeFunctionality, ReportingReason, RoleOfNode};
use diameter_cc::dict::{
    CcRequestType, CcSessionFailover, CheckBalanceResult, CreditControlFailureHandling,
    DirectDebitingFailureHandling, FinalUnitAction, MultipleServicesIndicator, RedirectAddressType,
    RequestedAction, SubscriptionIdType, TariffChangeUsage,
};
use diameter_cc::msg::{
    Aca, AcaRepr, Acr, AcrRepr, AsaRepr, Asr, AsrRepr, CcMoney, Cca, CcaRepr, Ccr, CcrRepr,
    CostInformation, FinalUnitIndication, FinalUnitIndicationRepr, ImsRepr, Mscc, MsccRepr,
    RaaRepr, Rar, RarRepr, RedirectServer, ServiceUnit, SubscriptionId, UnitValue,
};
use diameter_cc::CreditControl;
use diameter_core::{Error, HeaderRepr, Message, ResultCode, Timestamp};

// ---------------------------------------------------------------------------
// The bench messages and their values
// ---------------------------------------------------------------------------

pub fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

pub fn bench_msg(name: &str) -> Vec<u8> {
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

pub fn parse(bytes: &[u8]) -> Message<'_> {
    Message::parse_with(bytes, &CreditControl).unwrap_or_else(|e| panic!("parse: {e}"))
}

/// As the peer machine hands a message over: header checked, then validated
/// once (header, AVP headers, grammar and values in one walk) and marked
/// validated, so that the typed views do not validate again.
pub fn checked(bytes: &[u8]) -> Message<'_> {
    Message::new_checked(bytes)
        .and_then(|m| m.validated(&CreditControl))
        .unwrap_or_else(|e| panic!("validate: {e}"))
}

pub const SID: &str = "client.cgrates.org;1704067200;1;sip-call-0001";
pub const CLIENT: &str = "client.cgrates.org";
pub const OCS: &str = "ocs.cgrates.org";
pub const REALM: &str = "cgrates.org";
/// 2024-01-01T00:00:00Z.
pub const T0: Timestamp = Timestamp(3_913_056_000);
pub const SUBS: [SubscriptionId<'static>; 1] = [SubscriptionId::e164("1001")];
pub const IMS: ImsRepr<'static> = ImsRepr {
    role_of_node: Some(RoleOfNode::Originating),
    node_functionality: NodeFunctionality::As,
    calling_party_address: Some("sip:1001@cgrates.org"),
    called_party_address: Some("sip:1002@cgrates.org"),
};

/// ccr-i as documented in the bench README.
pub const CCR_I: CcrRepr<'static> = CcrRepr {
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
pub const CCR_I_HEADER: HeaderRepr = CcrRepr::header(0x5AE5_A001, 0x1C0D_E001);

pub const CCA_I_MSCC: [MsccRepr<'static>; 1] = [MsccRepr {
    granted_service_unit: Some(ServiceUnit::time(300)),
    rating_group: Some(1),
    validity_time: Some(3600),
    result_code: Some(ResultCode::SUCCESS),
    ..MsccRepr::EMPTY
}];

/// cca-i as documented.
pub const CCA_I: CcaRepr<'static> = CcaRepr {
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
pub const ACR_START: AcrRepr<'static> = AcrRepr {
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
pub fn large_usu(i: u32) -> ServiceUnit {
    ServiceUnit {
        cc_time: Some(60 + i),
        cc_total_octets: Some(1_000_000 + u64::from(i)),
        cc_input_octets: Some(400_000 + u64::from(i)),
        cc_output_octets: Some(600_000 + u64::from(i)),
        ..ServiceUnit::EMPTY
    }
}

/// Storage for ccr-u-large's repeated values, which its repr borrows.
pub struct Large {
    pub usu: Vec<[ServiceUnit; 1]>,
    pub sids: Vec<[u32; 1]>,
}

impl Large {
    pub fn new() -> Self {
        Large {
            usu: (0..30).map(|i| [large_usu(i)]).collect(),
            sids: (0..30).map(|i| [1000 + i]).collect(),
        }
    }
    pub fn mscc(&self) -> Vec<MsccRepr<'_>> {
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

pub fn ccr_u_large<'a>(mscc: &'a [MsccRepr<'a>]) -> CcrRepr<'a> {
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

pub fn all<T>(it: impl Iterator<Item = Result<T, Error>>) -> Vec<T> {
    it.map(|r| r.unwrap_or_else(|e| panic!("iterate: {e}")))
        .collect()
}

pub fn assert_fui(got: Option<FinalUnitIndication<'_>>, want: Option<FinalUnitIndicationRepr<'_>>) {
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

pub fn assert_mscc(m: &Mscc<'_>, r: &MsccRepr<'_>) {
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

pub fn assert_msccs(got: Vec<Mscc<'_>>, want: &[MsccRepr<'_>]) {
    assert_eq!(got.len(), want.len(), "MSCC count");
    for (m, r) in got.iter().zip(want) {
        assert_mscc(m, r);
    }
}

pub fn assert_ccr(c: &Ccr<'_>, r: &CcrRepr<'_>) {
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

pub fn assert_cca(c: &Cca<'_>, r: &CcaRepr<'_>) {
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

pub fn assert_acr(a: &Acr<'_>, r: &AcrRepr<'_>) {
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

pub fn assert_aca(a: &Aca<'_>, r: &AcaRepr<'_>) {
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

pub fn assert_rar(a: &Rar<'_>, r: &RarRepr<'_>) {
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

pub fn assert_asr(a: &Asr<'_>, r: &AsrRepr<'_>) {
    assert_eq!(a.session_id, r.session_id);
    assert_eq!(a.origin_host, r.origin_host);
    assert_eq!(a.origin_realm, r.origin_realm);
    assert_eq!(a.destination_realm, r.destination_realm);
    assert_eq!(a.destination_host, r.destination_host);
    assert_eq!(a.auth_application_id, r.auth_application_id);
    assert_eq!(a.user_name, r.user_name);
    assert_eq!(a.origin_state_id, r.origin_state_id);
}

// ---------------------------------------------------------------------------
// Round trips of every message type, with every field set
// ---------------------------------------------------------------------------

pub const USED: [ServiceUnit; 2] = [
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

pub const MONEY: CcMoney = CcMoney {
    unit_value: UnitValue {
        value_digits: 1234,
        exponent: Some(-2),
    },
    currency_code: Some(978),
};

pub const FUI_REDIRECT: FinalUnitIndicationRepr<'static> = FinalUnitIndicationRepr {
    redirect_server: Some(RedirectServer {
        address_type: RedirectAddressType::SipUri,
        address: "sip:topup@cgrates.org",
    }),
    ..FinalUnitIndicationRepr::new(FinalUnitAction::Redirect)
};

pub const FUI_RESTRICT: FinalUnitIndicationRepr<'static> = FinalUnitIndicationRepr {
    final_unit_action: FinalUnitAction::RestrictAccess,
    restriction_filter_rules: &[
        "permit out ip from any to 10.0.0.1",
        "permit in ip from 10.0.0.1 to any",
    ],
    filter_ids: &["topup-only"],
    redirect_server: None,
};

/// A CCR-U reporting on two rating groups, every CCR field set.
pub fn ccr_full() -> CcrRepr<'static> {
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
pub fn cca_full() -> CcaRepr<'static> {
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

pub fn acr_full(t: AccountingRecordType, n: u32) -> AcrRepr<'static> {
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

pub const ACA_FULL: AcaRepr<'static> = AcaRepr {
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

pub const RAR_FULL: RarRepr<'static> = RarRepr {
    re_auth_request_type: ReAuthRequestType::AuthorizeAuthenticate,
    user_name: Some("1001"),
    origin_state_id: Some(3),
    cc_sub_session_id: Some(1 << 40),
    g_s_u_pool_identifier: Some(4),
    service_identifier: Some(5),
    rating_group: Some(6),
    ..RarRepr::new("sid;full", OCS, REALM, REALM, CLIENT)
};

pub const RAA_FULL: RaaRepr<'static> = RaaRepr {
    user_name: Some("1001"),
    origin_state_id: Some(8),
    ..RaaRepr::new("sid;full", ResultCode::SUCCESS, CLIENT, REALM)
};

pub const ASR_FULL: AsrRepr<'static> = AsrRepr {
    user_name: Some("1001"),
    origin_state_id: Some(3),
    ..AsrRepr::new("sid;full", OCS, REALM, REALM, CLIENT)
};

pub const ASA_FULL: AsaRepr<'static> = AsaRepr {
    user_name: Some("1001"),
    origin_state_id: Some(8),
    ..AsaRepr::new("sid;full", ResultCode(5002), CLIENT, REALM)
};
