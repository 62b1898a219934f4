//! Consistency of the tables: lookup, uniqueness, grammars, flag rules,
//! enumerations.

use super::*;
use diameter_core::dict::{FlagRule, FlagRules, Grammar, RuleKind};
use diameter_core::types::{DataType, Enumeration};
use diameter_core::ApplicationId;
use std::collections::BTreeSet;
use std::format;
use std::string::String;
use std::vec::Vec;

/// Every grammar reachable from this crate and base: grouped AVPs and
/// commands, with a label for messages.
fn grammars() -> Vec<(String, Grammar)> {
    let mut out = Vec::new();
    for a in AVPS.iter().chain(base::AVPS.iter()) {
        if a.data_type == DataType::Grouped {
            out.push((format!("{} ({})", a.name, a.code), a.grammar));
        }
    }
    for c in COMMANDS.iter().chain(base::COMMANDS.iter()) {
        out.push((format!("command {}", c.abbrev), c.grammar));
    }
    out
}

#[test]
fn every_avp_is_found_and_unique() {
    let d = CreditControl;
    let mut seen = BTreeSet::new();
    for a in AVPS {
        let found = d
            .avp(a.code, a.vendor)
            .unwrap_or_else(|| panic!("{} ({}/{}) not found", a.name, a.code, a.vendor));
        assert_eq!(found, *a, "{}: lookup returns another entry", a.name);
        assert!(seen.insert((a.vendor, a.code)), "{} listed twice", a.name);
        assert!(
            base::Base.avp(a.code, a.vendor).is_none(),
            "{} ({}/{}) clashes with a base AVP",
            a.name,
            a.code,
            a.vendor
        );
    }
    let names: BTreeSet<_> = AVPS.iter().map(|a| a.name).collect();
    assert_eq!(names.len(), AVPS.len(), "duplicate names");
}

#[test]
fn base_avps_and_commands_fall_back() {
    let d = CreditControl;
    for a in base::AVPS {
        assert_eq!(d.avp(a.code, a.vendor), Some(*a), "{}", a.name);
    }
    for c in base::COMMANDS {
        assert_eq!(d.command(c.code, c.request), Some(*c), "{}", c.abbrev);
    }
    assert_eq!(d.avp(420, 10415), None, "vendor is part of the key");
    assert_eq!(d.avp(831, 0), None, "vendor is part of the key");
    assert_eq!(d.avp(9999, 0), None);
}

#[test]
fn lookup_is_a_search_of_the_lists() {
    // The index tables cover part of the code space only (vendor 0 up to
    // the highest code defined, 3GPP from its lowest to its highest): on
    // and past their edges the lookup still agrees with a plain search.
    let d = CreditControl;
    let search = |code: u32, vendor: u32| {
        AVPS.iter()
            .chain(base::AVPS.iter())
            .find(|a| a.code == code && a.vendor == vendor)
            .copied()
    };
    let edges = [DIRECT as u32, FIRST_3GPP, FIRST_3GPP + DIRECT_3GPP as u32];
    let codes = (0..4200).chain(edges.iter().flat_map(|&e| e.saturating_sub(2)..e + 2));
    for code in codes.chain([u32::MAX, u32::MAX - 1, 1 << 24]) {
        for vendor in [0, tgpp::VENDOR_3GPP, 5535, u32::MAX] {
            assert_eq!(d.avp(code, vendor), search(code, vendor), "{code}/{vendor}");
        }
    }
}

#[test]
fn table_sizes() {
    let count = |v: u32| AVPS.iter().filter(|a| a.vendor == v).count();
    // RFC 8506 §8: 411..=461 and 653..=669, plus Filter-Id and Filter-Rule.
    let cc = AVPS
        .iter()
        .filter(|a| {
            a.vendor == 0 && ((411..=461).contains(&a.code) || (653..=669).contains(&a.code))
        })
        .count();
    assert_eq!(cc, 51 + 17);
    assert_eq!(count(tgpp::VENDOR_3GPP), 36);
    assert_eq!(count(0), 68 + 2 + 11);
    assert_eq!(AVPS.len(), 68 + 2 + 36 + 11);
}

#[test]
fn grammar_rules_refer_to_known_avps() {
    let d = CreditControl;
    for (label, g) in grammars() {
        for r in g.rules {
            let info = d.avp(r.code, r.vendor);
            assert!(
                info.is_some(),
                "{label}: rule for unknown AVP {}/{}",
                r.code,
                r.vendor
            );
            // Validation takes the type and flag rules from the rule.
            assert!(
                info.is_some_and(|i| r.describes(i)),
                "{label}: rule for {}/{} disagrees with the dictionary",
                r.code,
                r.vendor
            );
        }
    }
}

#[test]
fn grammars_are_well_formed() {
    for (label, g) in grammars() {
        assert!(
            g.rules.len() <= Grammar::MAX_RULES,
            "{label}: too many rules"
        );
        let mut fixed_done = false;
        let mut keys = BTreeSet::new();
        for (i, r) in g.rules.iter().enumerate() {
            match r.kind {
                RuleKind::Fixed => {
                    assert!(!fixed_done, "{label}: fixed rule {i} after a non-fixed one")
                }
                _ => fixed_done = true,
            }
            assert!(r.min <= r.max && r.max >= 1, "{label}: rule {i} bounds");
            match r.kind {
                RuleKind::Optional => assert_eq!(r.min, 0, "{label}: rule {i}"),
                _ => assert!(r.min >= 1, "{label}: rule {i}"),
            }
            assert!(
                keys.insert((r.vendor, r.code)),
                "{label}: AVP {} twice",
                r.code
            );
        }
    }
}

#[test]
fn grouped_avps_have_grammars_and_others_none() {
    for a in AVPS {
        if a.data_type == DataType::Grouped {
            if a.code == FILTER_RULE.code() {
                // RFC 5777 content is not modelled (documented on FILTER_RULE).
                assert_eq!(a.grammar, Grammar::EMPTY);
            } else {
                assert!(!a.grammar.rules.is_empty(), "{}: no grammar", a.name);
            }
        } else {
            assert_eq!(
                a.grammar,
                Grammar::EMPTY,
                "{}: grammar on a non-grouped AVP",
                a.name
            );
        }
    }
}

#[test]
fn rfc8506_flag_rules() {
    // The §8 table: these have M in the MAY column, all others in MUST; V is
    // MUST NOT everywhere.
    let m_may: BTreeSet<u32> = [411, 440, 441, 442, 458, 459, 460]
        .into_iter()
        .chain(653..=669)
        .collect();
    for a in AVPS.iter().filter(|a| a.vendor == 0 && a.code >= 411) {
        if a.code == FILTER_RULE.code() {
            continue;
        }
        let want = if m_may.contains(&a.code) {
            FlagRules::M_MAY
        } else {
            FlagRules::M
        };
        assert_eq!(a.flags, want, "{}", a.name);
        assert_eq!(a.flags.v, FlagRule::MustNot, "{}", a.name);
    }
    for a in AVPS.iter().filter(|a| a.vendor == tgpp::VENDOR_3GPP) {
        assert_eq!(a.flags, FlagRules::VM, "{}", a.name);
    }
    for code in [6, 40, 204, 205, 206, 207, 225, 227, 228, 229, 230] {
        assert_eq!(CreditControl.avp(code, 0).unwrap().flags, FlagRules::M);
    }
}

#[test]
fn commands() {
    let d = CreditControl;
    let ccr = d.command(CommandCode::CREDIT_CONTROL, true).unwrap();
    let cca = d.command(CommandCode::CREDIT_CONTROL, false).unwrap();
    assert_eq!((ccr.abbrev, cca.abbrev), ("CCR", "CCA"));
    for c in [ccr, cca] {
        assert_eq!(c.code, CommandCode(272));
        assert_eq!(c.application, Some(ApplicationId(4)));
        assert!(c.proxiable);
        assert!(c.grammar.extensible, "{}: *[ AVP ]", c.abbrev);
        assert_eq!(c.grammar.rules[0].code, 263);
        assert_eq!(c.grammar.rules[0].kind, RuleKind::Fixed);
    }
    assert!(ccr.request && !cca.request);
    assert_eq!(ccr.grammar.rules.len(), 29);
    assert_eq!(cca.grammar.rules.len(), 28);
    let required = |c: &CommandDef| -> Vec<u32> {
        c.grammar
            .rules
            .iter()
            .filter(|r| r.kind == RuleKind::Required)
            .map(|r| r.code)
            .collect()
    };
    assert_eq!(required(ccr), [264, 296, 283, 258, 461, 416, 415]);
    assert_eq!(required(cca), [268, 264, 296, 258, 416, 415]);
}

#[test]
fn spot_checks() {
    assert_eq!(CC_TIME.info.data_type, DataType::Unsigned32);
    assert_eq!(CC_TOTAL_OCTETS.info.data_type, DataType::Unsigned64);
    assert_eq!(VALUE_DIGITS.info.data_type, DataType::Integer64);
    assert_eq!(EXPONENT.info.data_type, DataType::Integer32);
    assert_eq!(TARIFF_TIME_CHANGE.info.data_type, DataType::Time);
    assert_eq!(
        RESTRICTION_FILTER_RULE.info.data_type,
        DataType::IpFilterRule
    );
    assert_eq!(
        REDIRECT_ADDRESS_IP_ADDRESS.info.data_type,
        DataType::Address
    );
    assert_eq!(CC_REQUEST_TYPE.info.data_type, DataType::Enumerated);
    assert_eq!(SUBSCRIPTION_ID.info.grammar.rules.len(), 2);
    const { assert!(!SUBSCRIPTION_ID.info.grammar.extensible) };
    const { assert!(MULTIPLE_SERVICES_CREDIT_CONTROL.info.grammar.extensible) };
    const { assert!(SUBSCRIPTION_ID_EXTENSION.info.grammar.extensible) };
    assert_eq!(tgpp::CAUSE_CODE.info.data_type, DataType::Integer32);
    assert_eq!(tgpp::SIP_REQUEST_TIMESTAMP.info.data_type, DataType::Time);
    let ims = &tgpp::IMS_INFORMATION.info.grammar;
    let nf = ims.rules.iter().find(|r| r.code == 862).unwrap();
    assert_eq!((nf.kind, nf.min, nf.max), (RuleKind::Required, 1, 1));
    assert_eq!(sip::SIP_CALL_CREATED.info.data_type, DataType::Unsigned32);
    assert_eq!(sip::SIP_METHOD.info.data_type, DataType::Enumerated);
    assert_eq!(sip::SIP_FROM_TAG.info.data_type, DataType::Utf8String);
}

#[test]
fn enumerations() {
    assert_eq!(CcRequestType::from_i32(1), CcRequestType::Initial);
    assert_eq!(CcRequestType::Event.to_i32(), 4);
    assert_eq!(CcRequestType::from_i32(0), CcRequestType::Unknown(0));
    assert_eq!(CreditControlFailureHandling::RetryAndTerminate.to_i32(), 2);
    assert_eq!(
        DirectDebitingFailureHandling::from_i32(0),
        DirectDebitingFailureHandling::TerminateOrBuffer
    );
    assert_eq!(FinalUnitAction::RestrictAccess.to_i32(), 2);
    assert_eq!(RequestedAction::PriceEnquiry.to_i32(), 3);
    assert_eq!(SubscriptionIdType::from_i32(0), SubscriptionIdType::E164);
    assert_eq!(SubscriptionIdType::Private.to_i32(), 4);
    assert_eq!(MultipleServicesIndicator::Supported.to_i32(), 1);
    assert_eq!(CcUnitType::ServiceSpecificUnits.to_i32(), 5);
    assert_eq!(CheckBalanceResult::NoCredit.to_i32(), 1);
    assert_eq!(CcSessionFailover::Supported.to_i32(), 1);
    assert_eq!(RedirectAddressType::SipUri.to_i32(), 3);
    assert_eq!(TariffChangeUsage::Indeterminate.to_i32(), 2);
    assert_eq!(UserEquipmentInfoType::ModifiedEui64.to_i32(), 3);
    assert_eq!(CreditControlType::ReAuthorization.to_i32(), 1);
    assert_eq!(tgpp::RoleOfNode::Forwarding.to_i32(), 2);
    assert_eq!(
        tgpp::NodeFunctionality::from_i32(6),
        tgpp::NodeFunctionality::As
    );
    assert_eq!(tgpp::NodeFunctionality::IwkScef.to_i32(), 21);
    assert_eq!(tgpp::ReportingReason::UnusedQuotaTimer.to_i32(), 9);
    assert_eq!(tgpp::Originator::CalledParty.to_i32(), 1);
    assert_eq!(sip::ServiceType::SipSession.to_i32(), 15);
    assert_eq!(sip::AcctStatusType::InterimUpdate.to_i32(), 3);
    assert_eq!(sip::SipMethod::Info.to_i32(), 16);
    assert_eq!(sip::SipMethod::from_i32(16384), sip::SipMethod::Other);
    assert_eq!(i32::from(CcRequestType::Update), 2);
}

#[test]
fn every_enumerated_avp_names_its_values() {
    let d = CreditControl;
    for a in AVPS.iter().chain(base::AVPS.iter()) {
        let found = d.avp(a.code, a.vendor).unwrap();
        assert_eq!(found.values, a.values, "{}", a.name);
        if a.data_type == DataType::Enumerated {
            assert!(!a.values.is_empty(), "{} names no value", a.name);
            for (i, v) in a.values.iter().enumerate() {
                assert_eq!(a.value_name(v.value), Some(v.name), "{}", a.name);
                assert_eq!(a.value_of(v.name), Some(v.value), "{}", a.name);
                assert!(
                    a.values[..i].iter().all(|w| w.value != v.value),
                    "{}",
                    a.name
                );
            }
        } else {
            assert!(a.values.is_empty(), "{}", a.name);
        }
    }
    // The names the bench messages and the scenarios print.
    let name = |code: u32, vendor: u32, v: i32| d.avp(code, vendor).unwrap().value_name(v);
    assert_eq!(name(416, 0, 1), Some("INITIAL_REQUEST"));
    assert_eq!(name(450, 0, 0), Some("END_USER_E164"));
    assert_eq!(name(829, tgpp::VENDOR_3GPP, 0), Some("ORIGINATING_ROLE"));
    assert_eq!(name(862, tgpp::VENDOR_3GPP, 6), Some("AS"));
    assert_eq!(name(455, 0, 1), Some("MULTIPLE_SERVICES_SUPPORTED"));
    assert_eq!(name(480, 0, 2), Some("START_RECORD"));
    assert_eq!(name(204, 0, 8), Some("BYE"));
    assert_eq!(
        CcRequestType::Termination.name(),
        Some("TERMINATION_REQUEST")
    );
    assert_eq!(CcRequestType::NAMES.len(), 4);
}
