//! The 3GPP TS 32.299 (Diameter charging applications) subset an online
//! charging system reads from Ro CCRs for IMS voice, and the 3GPP quota
//! AVPs of Multiple-Services-Credit-Control.
//!
//! Every AVP here has Vendor-Id 3GPP ([`VENDOR_3GPP`], 10415) and flag rules
//! [`FlagRules::VM`]: TS 32.299 §7.2 lists them all with M and V in the
//! MUST column and P in the MAY column; following RFC 6733 §4.1 (P SHOULD
//! be 0), P is "must not" as everywhere in this stack. Data types are those
//! of the same table. Clause numbers inside §7.2 move between releases, so
//! each AVP cites §7.2 and its name; grammars are those of Release 17.
//!
//! Grammars listed completely here are [`Grammar::closed`] like the TS's
//! (which have no `*[ AVP ]`). [`SERVICE_INFORMATION`] and
//! [`IMS_INFORMATION`] list only the AVPs this module defines and are
//! [`Grammar::open`], so the many others the TS allows there (PS-, SMS-,
//! MMTel-Information, SDP AVPs, ...) pass unchecked.
//!
//! ```
//! use diameter_cc::dict::tgpp;
//! assert_eq!(tgpp::CALLING_PARTY_ADDRESS.code(), 831);
//! assert_eq!(tgpp::CALLING_PARTY_ADDRESS.vendor(), tgpp::VENDOR_3GPP);
//! ```

use diameter_core::dict::{AvpDef, FlagRules, Grammar, Rule};
use diameter_core::types::{Enumerated, Grouped, Integer32, Time, Unsigned32, Utf8String};

use super::rfc8506::SUBSCRIPTION_ID;

/// The 3GPP Vendor-Id: IANA Private Enterprise Number 10415, which every
/// 3GPP Diameter specification uses (TS 29.230 lists the 3GPP AVP codes).
pub const VENDOR_3GPP: u32 = 10415;

const V: u32 = VENDOR_3GPP;
const UNBOUNDED: u16 = Rule::UNBOUNDED;

// ---------------------------------------------------------------------------
// Enumerations
// ---------------------------------------------------------------------------

diameter_core::enumeration! {
    /// Values of Role-Of-Node (829), TS 32.299 §7.2 Role-Of-Node AVP: whom
    /// the IMS node serves.
    pub enum RoleOfNode {
        /// ORIGINATING_ROLE (0): serving the calling party.
        Originating = 0 => "ORIGINATING_ROLE",
        /// TERMINATING_ROLE (1): serving the called party.
        Terminating = 1 => "TERMINATING_ROLE",
        /// FORWARDING_ROLE (2): serving the forwarding party.
        Forwarding = 2 => "FORWARDING_ROLE",
    }
}

diameter_core::enumeration! {
    /// Values of Node-Functionality (862), TS 32.299 §7.2
    /// Node-Functionality AVP: the function of the reporting node.
    pub enum NodeFunctionality {
        /// S-CSCF (0).
        SCscf = 0 => "S-CSCF",
        /// P-CSCF (1).
        PCscf = 1 => "P-CSCF",
        /// I-CSCF (2).
        ICscf = 2 => "I-CSCF",
        /// MRFC (3).
        Mrfc = 3 => "MRFC",
        /// MGCF (4).
        Mgcf = 4 => "MGCF",
        /// BGCF (5).
        Bgcf = 5 => "BGCF",
        /// AS (6): application server.
        As = 6 => "AS",
        /// IBCF (7).
        Ibcf = 7 => "IBCF",
        /// S-GW (8).
        SGw = 8 => "S-GW",
        /// P-GW (9).
        PGw = 9 => "P-GW",
        /// HSGW (10).
        Hsgw = 10 => "HSGW",
        /// E-CSCF (11).
        ECscf = 11 => "E-CSCF",
        /// MME (12).
        Mme = 12 => "MME",
        /// TRF (13).
        Trf = 13 => "TRF",
        /// TF (14).
        Tf = 14 => "TF",
        /// ATCF (15).
        Atcf = 15 => "ATCF",
        /// Proxy Function (16).
        ProxyFunction = 16 => "Proxy Function",
        /// ePDG (17).
        EPdg = 17 => "ePDG",
        /// TDF (18).
        Tdf = 18 => "TDF",
        /// TWAG (19).
        Twag = 19 => "TWAG",
        /// SCEF (20).
        Scef = 20 => "SCEF",
        /// IWK-SCEF (21).
        IwkScef = 21 => "IWK-SCEF",
    }
}

diameter_core::enumeration! {
    /// Values of Originator (864), TS 32.299 §7.2 Originator AVP: which
    /// party sent a message body.
    pub enum Originator {
        /// Calling Party (0).
        CallingParty = 0 => "Calling Party",
        /// Called Party (1).
        CalledParty = 1 => "Called Party",
    }
}

diameter_core::enumeration! {
    /// Values of Reporting-Reason (872), TS 32.299 §7.2 Reporting-Reason AVP:
    /// why usage is reported, in Multiple-Services-Credit-Control (all quota
    /// types) or Used-Service-Unit (one quota type).
    pub enum ReportingReason {
        /// THRESHOLD (0): the threshold of this quota type was reached
        /// (Used-Service-Unit).
        Threshold = 0 => "THRESHOLD",
        /// QHT (1): the Quota-Holding-Time elapsed without use.
        Qht = 1 => "QHT",
        /// FINAL (2): the service (PDP context, bearer, flow) ended.
        Final = 2 => "FINAL",
        /// QUOTA_EXHAUSTED (3): this quota type is used up (Used-Service-Unit).
        QuotaExhausted = 3 => "QUOTA_EXHAUSTED",
        /// VALIDITY_TIME (4): the Validity-Time expired.
        ValidityTime = 4 => "VALIDITY_TIME",
        /// OTHER_QUOTA_TYPE (5): another quota type of a multi-dimensional
        /// quota triggered the report (Used-Service-Unit).
        OtherQuotaType = 5 => "OTHER_QUOTA_TYPE",
        /// RATING_CONDITION_CHANGE (6): an armed trigger (QoS, RAT, ...) fired.
        RatingConditionChange = 6 => "RATING_CONDITION_CHANGE",
        /// FORCED_REAUTHORISATION (7): a server-initiated re-authorization (RAR).
        ForcedReauthorisation = 7 => "FORCED_REAUTHORISATION",
        /// POOL_EXHAUSTED (8): the credit pool cannot cover this rating group.
        PoolExhausted = 8 => "POOL_EXHAUSTED",
        /// UNUSED_QUOTA_TIMER (9): the unused quota timer expired.
        UnusedQuotaTimer = 9 => "UNUSED_QUOTA_TIMER",
    }
}

// ---------------------------------------------------------------------------
// Service-Information and IMS-Information
// ---------------------------------------------------------------------------

/// Service-Information (873, Grouped), TS 32.299 §7.2 Service-Information
/// AVP: the 3GPP service-specific container of Ro CCRs and Rf ACRs.
///
/// The TS grammar is `*[ Subscription-Id ] [ AoC-Information ]
/// [ PS-Information ] [ IMS-Information ] [ MMS-Information ]
/// [ LCS-Information ] [ PoC-Information ] [ MBMS-Information ]
/// [ SMS-Information ] [ VCS-Information ] [ MMTel-Information ]
/// [ ProSe-Information ] [ Service-Generic-Information ] [ IM-Information ]
/// [ DCD-Information ] [ M2M-Information ] [ CPDT-Information ]`; only
/// Subscription-Id and IMS-Information are listed, the grammar is open.
pub const SERVICE_INFORMATION: AvpDef<Grouped> =
    AvpDef::new(873, V, "Service-Information", FlagRules::VM).with_grammar(Grammar::open(&[
        Rule::repeated(&SUBSCRIPTION_ID, 0, UNBOUNDED),
        Rule::optional(&IMS_INFORMATION),
    ]));

/// IMS-Information (876, Grouped), TS 32.299 §7.2 IMS-Information AVP.
///
/// Listed, in the TS's order: `[ Event-Type ] [ Role-Of-Node ]
/// { Node-Functionality } [ User-Session-Id ] [ Outgoing-Session-Id ]
/// *[ Calling-Party-Address ] [ Called-Party-Address ]
/// *[ Called-Asserted-Identity ] *[ Requested-Party-Address ]
/// *[ Associated-URI ] [ Time-Stamps ] *[ Inter-Operator-Identifier ]
/// [ IMS-Charging-Identifier ] *[ Message-Body ] [ Cause-Code ]`. The other
/// AVPs of the TS grammar pass through the open grammar.
pub const IMS_INFORMATION: AvpDef<Grouped> = AvpDef::new(876, V, "IMS-Information", FlagRules::VM)
    .with_grammar(Grammar::open(&[
        Rule::optional(&EVENT_TYPE),
        Rule::optional(&ROLE_OF_NODE),
        Rule::required(&NODE_FUNCTIONALITY),
        Rule::optional(&USER_SESSION_ID),
        Rule::optional(&OUTGOING_SESSION_ID),
        Rule::repeated(&CALLING_PARTY_ADDRESS, 0, UNBOUNDED),
        Rule::optional(&CALLED_PARTY_ADDRESS),
        Rule::repeated(&CALLED_ASSERTED_IDENTITY, 0, UNBOUNDED),
        Rule::repeated(&REQUESTED_PARTY_ADDRESS, 0, UNBOUNDED),
        Rule::repeated(&ASSOCIATED_URI, 0, UNBOUNDED),
        Rule::optional(&TIME_STAMPS),
        Rule::repeated(&INTER_OPERATOR_IDENTIFIER, 0, UNBOUNDED),
        Rule::optional(&IMS_CHARGING_IDENTIFIER),
        Rule::repeated(&MESSAGE_BODY, 0, UNBOUNDED),
        Rule::optional(&CAUSE_CODE),
    ]));

/// Event-Type (823, Grouped), TS 32.299 §7.2 Event-Type AVP:
/// `[ SIP-Method ] [ Event ] [ Expires ]`.
pub const EVENT_TYPE: AvpDef<Grouped> = AvpDef::new(823, V, "Event-Type", FlagRules::VM)
    .with_grammar(Grammar::closed(&[
        Rule::optional(&SIP_METHOD),
        Rule::optional(&EVENT),
        Rule::optional(&EXPIRES),
    ]));

/// SIP-Method (824, UTF8String), TS 32.299 §7.2 SIP-Method AVP: the method
/// of the SIP request that caused the report (`INVITE`, `BYE`, ...).
pub const SIP_METHOD: AvpDef<Utf8String> = AvpDef::new(824, V, "SIP-Method", FlagRules::VM);

/// Event (825, UTF8String), TS 32.299 §7.2 Event AVP: the SIP Event header
/// of a SUBSCRIBE/NOTIFY.
pub const EVENT: AvpDef<Utf8String> = AvpDef::new(825, V, "Event", FlagRules::VM);

/// Expires (888, Unsigned32), TS 32.299 §7.2 Expires AVP: the SIP Expires
/// header (seconds).
pub const EXPIRES: AvpDef<Unsigned32> = AvpDef::new(888, V, "Expires", FlagRules::VM);

/// Content-Type (826, UTF8String), TS 32.299 §7.2 Content-Type AVP: media
/// type of a message body.
pub const CONTENT_TYPE: AvpDef<Utf8String> = AvpDef::new(826, V, "Content-Type", FlagRules::VM);

/// Content-Length (827, Unsigned32), TS 32.299 §7.2 Content-Length AVP.
pub const CONTENT_LENGTH: AvpDef<Unsigned32> = AvpDef::new(827, V, "Content-Length", FlagRules::VM);

/// Content-Disposition (828, UTF8String), TS 32.299 §7.2
/// Content-Disposition AVP.
pub const CONTENT_DISPOSITION: AvpDef<Utf8String> =
    AvpDef::new(828, V, "Content-Disposition", FlagRules::VM);

/// Message-Body (889, Grouped), TS 32.299 §7.2 Message-Body AVP:
/// `{ Content-Type } { Content-Length } [ Content-Disposition ]
/// [ Originator ]`.
pub const MESSAGE_BODY: AvpDef<Grouped> = AvpDef::new(889, V, "Message-Body", FlagRules::VM)
    .with_grammar(Grammar::closed(&[
        Rule::required(&CONTENT_TYPE),
        Rule::required(&CONTENT_LENGTH),
        Rule::optional(&CONTENT_DISPOSITION),
        Rule::optional(&ORIGINATOR),
    ]));

/// Originator (864, Enumerated [`Originator`]), TS 32.299 §7.2 Originator AVP.
pub const ORIGINATOR: AvpDef<Enumerated<Originator>> =
    AvpDef::new(864, V, "Originator", FlagRules::VM);

/// Role-Of-Node (829, Enumerated [`RoleOfNode`]), TS 32.299 §7.2
/// Role-Of-Node AVP.
pub const ROLE_OF_NODE: AvpDef<Enumerated<RoleOfNode>> =
    AvpDef::new(829, V, "Role-Of-Node", FlagRules::VM);

/// Node-Functionality (862, Enumerated [`NodeFunctionality`]), TS 32.299
/// §7.2 Node-Functionality AVP; required in IMS-Information.
pub const NODE_FUNCTIONALITY: AvpDef<Enumerated<NodeFunctionality>> =
    AvpDef::new(862, V, "Node-Functionality", FlagRules::VM);

/// User-Session-Id (830, UTF8String), TS 32.299 §7.2 User-Session-Id AVP:
/// the SIP Call-ID of the session.
pub const USER_SESSION_ID: AvpDef<Utf8String> =
    AvpDef::new(830, V, "User-Session-Id", FlagRules::VM);

/// Outgoing-Session-Id (2320, UTF8String), TS 32.299 §7.2
/// Outgoing-Session-Id AVP: the Call-ID of the outgoing leg of a B2BUA.
pub const OUTGOING_SESSION_ID: AvpDef<Utf8String> =
    AvpDef::new(2320, V, "Outgoing-Session-Id", FlagRules::VM);

/// Calling-Party-Address (831, UTF8String), TS 32.299 §7.2
/// Calling-Party-Address AVP: the calling party's SIP or TEL URI
/// (P-Asserted-Identity).
pub const CALLING_PARTY_ADDRESS: AvpDef<Utf8String> =
    AvpDef::new(831, V, "Calling-Party-Address", FlagRules::VM);

/// Called-Party-Address (832, UTF8String), TS 32.299 §7.2
/// Called-Party-Address AVP: the called party's URI (Request-URI).
pub const CALLED_PARTY_ADDRESS: AvpDef<Utf8String> =
    AvpDef::new(832, V, "Called-Party-Address", FlagRules::VM);

/// Called-Asserted-Identity (1250, UTF8String), TS 32.299 §7.2
/// Called-Asserted-Identity AVP: the identity of the party that answered.
pub const CALLED_ASSERTED_IDENTITY: AvpDef<Utf8String> =
    AvpDef::new(1250, V, "Called-Asserted-Identity", FlagRules::VM);

/// Requested-Party-Address (1251, UTF8String), TS 32.299 §7.2
/// Requested-Party-Address AVP: the address the caller originally dialled.
pub const REQUESTED_PARTY_ADDRESS: AvpDef<Utf8String> =
    AvpDef::new(1251, V, "Requested-Party-Address", FlagRules::VM);

/// Associated-URI (856, UTF8String), TS 32.299 §7.2 Associated-URI AVP.
pub const ASSOCIATED_URI: AvpDef<Utf8String> = AvpDef::new(856, V, "Associated-URI", FlagRules::VM);

/// Time-Stamps (833, Grouped), TS 32.299 §7.2 Time-Stamps AVP:
/// `[ SIP-Request-Timestamp ] [ SIP-Response-Timestamp ]
/// [ SIP-Request-Timestamp-Fraction ] [ SIP-Response-Timestamp-Fraction ]`.
pub const TIME_STAMPS: AvpDef<Grouped> = AvpDef::new(833, V, "Time-Stamps", FlagRules::VM)
    .with_grammar(Grammar::closed(&[
        Rule::optional(&SIP_REQUEST_TIMESTAMP),
        Rule::optional(&SIP_RESPONSE_TIMESTAMP),
        Rule::optional(&SIP_REQUEST_TIMESTAMP_FRACTION),
        Rule::optional(&SIP_RESPONSE_TIMESTAMP_FRACTION),
    ]));

/// SIP-Request-Timestamp (834, Time), TS 32.299 §7.2 SIP-Request-Timestamp AVP.
pub const SIP_REQUEST_TIMESTAMP: AvpDef<Time> =
    AvpDef::new(834, V, "SIP-Request-Timestamp", FlagRules::VM);

/// SIP-Response-Timestamp (835, Time), TS 32.299 §7.2
/// SIP-Response-Timestamp AVP.
pub const SIP_RESPONSE_TIMESTAMP: AvpDef<Time> =
    AvpDef::new(835, V, "SIP-Response-Timestamp", FlagRules::VM);

/// SIP-Request-Timestamp-Fraction (2301, Unsigned32, milliseconds), TS
/// 32.299 §7.2 SIP-Request-Timestamp-Fraction AVP.
pub const SIP_REQUEST_TIMESTAMP_FRACTION: AvpDef<Unsigned32> =
    AvpDef::new(2301, V, "SIP-Request-Timestamp-Fraction", FlagRules::VM);

/// SIP-Response-Timestamp-Fraction (2302, Unsigned32, milliseconds), TS
/// 32.299 §7.2 SIP-Response-Timestamp-Fraction AVP.
pub const SIP_RESPONSE_TIMESTAMP_FRACTION: AvpDef<Unsigned32> =
    AvpDef::new(2302, V, "SIP-Response-Timestamp-Fraction", FlagRules::VM);

/// Inter-Operator-Identifier (838, Grouped), TS 32.299 §7.2
/// Inter-Operator-Identifier AVP: `[ Originating-IOI ] [ Terminating-IOI ]`.
pub const INTER_OPERATOR_IDENTIFIER: AvpDef<Grouped> =
    AvpDef::new(838, V, "Inter-Operator-Identifier", FlagRules::VM).with_grammar(Grammar::closed(
        &[
            Rule::optional(&ORIGINATING_IOI),
            Rule::optional(&TERMINATING_IOI),
        ],
    ));

/// Originating-IOI (839, UTF8String), TS 32.299 §7.2 Originating-IOI AVP.
pub const ORIGINATING_IOI: AvpDef<Utf8String> =
    AvpDef::new(839, V, "Originating-IOI", FlagRules::VM);

/// Terminating-IOI (840, UTF8String), TS 32.299 §7.2 Terminating-IOI AVP.
pub const TERMINATING_IOI: AvpDef<Utf8String> =
    AvpDef::new(840, V, "Terminating-IOI", FlagRules::VM);

/// IMS-Charging-Identifier (841, UTF8String), TS 32.299 §7.2
/// IMS-Charging-Identifier AVP: the ICID correlating all records of one
/// IMS session.
pub const IMS_CHARGING_IDENTIFIER: AvpDef<Utf8String> =
    AvpDef::new(841, V, "IMS-Charging-Identifier", FlagRules::VM);

/// Cause-Code (861, Integer32), TS 32.299 §7.2 Cause-Code AVP: ≤ 0 for
/// successful causes (0 normal end of session, -1 successful transaction,
/// ...), ≥ 1 for failures, SIP error codes reused as they are.
pub const CAUSE_CODE: AvpDef<Integer32> = AvpDef::new(861, V, "Cause-Code", FlagRules::VM);

// ---------------------------------------------------------------------------
// Quota management AVPs carried in Multiple-Services-Credit-Control
// ---------------------------------------------------------------------------

/// Time-Quota-Threshold (868, Unsigned32, seconds), TS 32.299 §7.2
/// Time-Quota-Threshold AVP: re-authorize when this much granted time is left.
pub const TIME_QUOTA_THRESHOLD: AvpDef<Unsigned32> =
    AvpDef::new(868, V, "Time-Quota-Threshold", FlagRules::VM);

/// Volume-Quota-Threshold (869, Unsigned32, octets), TS 32.299 §7.2
/// Volume-Quota-Threshold AVP.
pub const VOLUME_QUOTA_THRESHOLD: AvpDef<Unsigned32> =
    AvpDef::new(869, V, "Volume-Quota-Threshold", FlagRules::VM);

/// Unit-Quota-Threshold (1226, Unsigned32), TS 32.299 §7.2
/// Unit-Quota-Threshold AVP (service-specific units).
pub const UNIT_QUOTA_THRESHOLD: AvpDef<Unsigned32> =
    AvpDef::new(1226, V, "Unit-Quota-Threshold", FlagRules::VM);

/// Quota-Holding-Time (871, Unsigned32, seconds), TS 32.299 §7.2
/// Quota-Holding-Time AVP: report and release a quota unused this long.
pub const QUOTA_HOLDING_TIME: AvpDef<Unsigned32> =
    AvpDef::new(871, V, "Quota-Holding-Time", FlagRules::VM);

/// Quota-Consumption-Time (881, Unsigned32, seconds), TS 32.299 §7.2
/// Quota-Consumption-Time AVP: idle gap after which time-quota consumption stops.
pub const QUOTA_CONSUMPTION_TIME: AvpDef<Unsigned32> =
    AvpDef::new(881, V, "Quota-Consumption-Time", FlagRules::VM);

/// Reporting-Reason (872, Enumerated [`ReportingReason`]), TS 32.299 §7.2
/// Reporting-Reason AVP.
pub const REPORTING_REASON: AvpDef<Enumerated<ReportingReason>> =
    AvpDef::new(872, V, "Reporting-Reason", FlagRules::VM);
