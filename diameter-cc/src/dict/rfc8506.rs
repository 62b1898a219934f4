//! RFC 8506, the Diameter Credit-Control Application (obsoletes RFC 4006).
//!
//! - Every AVP of the §8 table (codes 411–461 from RFC 4006 and 653–669
//!   added by RFC 8506) as an [`AvpDef`] constant typed by its data format,
//!   with the table's flag rules: "M" in the MUST column is
//!   [`FlagRules::M`], "M" in the MAY column [`FlagRules::M_MAY`]; V is
//!   MUST NOT throughout. The table has no P column (RFC 6733 §4.1: P SHOULD
//!   be 0), so P is "must not" as in the base dictionary.
//! - Grouped AVPs carry their §8 grammar. A grammar ending in `*[ AVP ]` is
//!   [`Grammar::open`], one without it [`Grammar::closed`]. The three
//!   `*-Extension` AVPs (§8.52, §8.58, §8.64) end in `[ AVP ]` (at most one
//!   AVP not listed); the grammar model has no such bound, so they are open.
//! - The values of every Enumerated AVP as Rust enums that keep unknown
//!   values ([`CcRequestType`], [`FinalUnitAction`], ...).
//! - [`CCR`] and [`CCA`] (§3.1, §3.2) with their CCF grammars.
//! - [`FILTER_ID`] (RFC 7155) and [`FILTER_RULE`] (RFC 5777), which the
//!   Final-Unit-Indication grammars (§8.34, §8.68) refer to.
//!
//! ```
//! use diameter_cc::dict::{self, CcRequestType};
//! use diameter_core::types::Enumeration;
//! assert_eq!(dict::CC_REQUEST_TYPE.code(), 416);
//! assert_eq!(CcRequestType::from_i32(3), CcRequestType::Termination);
//! assert_eq!(dict::CCR.abbrev, "CCR");
//! ```

use diameter_core::dict::base::{
    ACCT_MULTI_SESSION_ID, AUTH_APPLICATION_ID, DESTINATION_HOST, DESTINATION_REALM,
    EVENT_TIMESTAMP, FAILED_AVP, ORIGIN_HOST, ORIGIN_REALM, ORIGIN_STATE_ID, PROXY_INFO,
    REDIRECT_HOST, REDIRECT_HOST_USAGE, REDIRECT_MAX_CACHE_TIME, RESULT_CODE, ROUTE_RECORD,
    SESSION_ID, TERMINATION_CAUSE, USER_NAME,
};
use diameter_core::dict::{AvpDef, CommandDef, FlagRules, Grammar, Rule};
use diameter_core::types::{
    Address, Enumerated, Grouped, Integer32, Integer64, IpFilterRule, OctetString, Time,
    Unsigned32, Unsigned64, Utf8String,
};
use diameter_core::{ApplicationId, CommandCode};

const UNBOUNDED: u16 = Rule::UNBOUNDED;

// ---------------------------------------------------------------------------
// Enumerations
// ---------------------------------------------------------------------------

diameter_core::enumeration! {
    /// Values of CC-Request-Type (416), RFC 8506 §8.3. Zero is reserved.
    pub enum CcRequestType {
        /// INITIAL_REQUEST (1): opens a credit-control session.
        Initial = 1 => "INITIAL_REQUEST",
        /// UPDATE_REQUEST (2): re-authorization or usage report within a session.
        Update = 2 => "UPDATE_REQUEST",
        /// TERMINATION_REQUEST (3): closes the session.
        Termination = 3 => "TERMINATION_REQUEST",
        /// EVENT_REQUEST (4): a one-time event, no session state (§6).
        Event = 4 => "EVENT_REQUEST",
    }
}

diameter_core::enumeration! {
    /// Values of CC-Session-Failover (418), RFC 8506 §8.4.
    pub enum CcSessionFailover {
        /// FAILOVER_NOT_SUPPORTED (0): the default; never move the session.
        NotSupported = 0 => "FAILOVER_NOT_SUPPORTED",
        /// FAILOVER_SUPPORTED (1): the session may move to an alternative server.
        Supported = 1 => "FAILOVER_SUPPORTED",
    }
}

diameter_core::enumeration! {
    /// Values of Check-Balance-Result (422), RFC 8506 §8.6.
    pub enum CheckBalanceResult {
        /// ENOUGH_CREDIT (0).
        EnoughCredit = 0 => "ENOUGH_CREDIT",
        /// NO_CREDIT (1).
        NoCredit = 1 => "NO_CREDIT",
    }
}

diameter_core::enumeration! {
    /// Values of the Credit-Control AVP (426) sent in AA-Requests, RFC 8506 §8.13.
    pub enum CreditControlType {
        /// CREDIT_AUTHORIZATION (0): contact the credit-control server for the
        /// first interrogation.
        CreditAuthorization = 0 => "CREDIT_AUTHORIZATION",
        /// RE_AUTHORIZATION (1): a credit-control session is already ongoing.
        ReAuthorization = 1 => "RE_AUTHORIZATION",
    }
}

diameter_core::enumeration! {
    /// Values of Credit-Control-Failure-Handling (427), RFC 8506 §8.14 (CCFH).
    pub enum CreditControlFailureHandling {
        /// TERMINATE (0): the default; end the service when the server is
        /// unreachable or Tx expires.
        Terminate = 0 => "TERMINATE",
        /// CONTINUE (1): fail over if possible, otherwise grant the service anyway.
        Continue = 1 => "CONTINUE",
        /// RETRY_AND_TERMINATE (2): fail over if possible, otherwise end the service.
        RetryAndTerminate = 2 => "RETRY_AND_TERMINATE",
    }
}

diameter_core::enumeration! {
    /// Values of Direct-Debiting-Failure-Handling (428), RFC 8506 §8.15 (DDFH).
    pub enum DirectDebitingFailureHandling {
        /// TERMINATE_OR_BUFFER (0): the default; terminate if nothing was
        /// debited, else grant, store and resend with the T flag.
        TerminateOrBuffer = 0 => "TERMINATE_OR_BUFFER",
        /// CONTINUE (1): grant the service and drop the request.
        Continue = 1 => "CONTINUE",
    }
}

diameter_core::enumeration! {
    /// Values of Tariff-Change-Usage (452), RFC 8506 §8.27.
    pub enum TariffChangeUsage {
        /// UNIT_BEFORE_TARIFF_CHANGE (0).
        BeforeTariffChange = 0 => "UNIT_BEFORE_TARIFF_CHANGE",
        /// UNIT_AFTER_TARIFF_CHANGE (1).
        AfterTariffChange = 1 => "UNIT_AFTER_TARIFF_CHANGE",
        /// UNIT_INDETERMINATE (2): units straddling the change (Used-Service-Unit only).
        Indeterminate = 2 => "UNIT_INDETERMINATE",
    }
}

diameter_core::enumeration! {
    /// Values of CC-Unit-Type (454), RFC 8506 §8.32.
    pub enum CcUnitType {
        /// TIME (0).
        Time = 0 => "TIME",
        /// MONEY (1).
        Money = 1 => "MONEY",
        /// TOTAL-OCTETS (2).
        TotalOctets = 2 => "TOTAL-OCTETS",
        /// INPUT-OCTETS (3).
        InputOctets = 3 => "INPUT-OCTETS",
        /// OUTPUT-OCTETS (4).
        OutputOctets = 4 => "OUTPUT-OCTETS",
        /// SERVICE-SPECIFIC-UNITS (5).
        ServiceSpecificUnits = 5 => "SERVICE-SPECIFIC-UNITS",
    }
}

diameter_core::enumeration! {
    /// Values of Final-Unit-Action (449), RFC 8506 §8.35.
    pub enum FinalUnitAction {
        /// TERMINATE (0): end the service session; also the handling of any
        /// unsupported value.
        Terminate = 0 => "TERMINATE",
        /// REDIRECT (1): redirect the user to the Redirect-Server(-Extension) address.
        Redirect = 1 => "REDIRECT",
        /// RESTRICT_ACCESS (2): apply the restriction filters, drop the rest.
        RestrictAccess = 2 => "RESTRICT_ACCESS",
    }
}

diameter_core::enumeration! {
    /// Values of Redirect-Address-Type (433), RFC 8506 §8.38.
    pub enum RedirectAddressType {
        /// IPv4 Address (0), dotted-decimal.
        Ipv4Address = 0 => "IPv4 Address",
        /// IPv6 Address (1), RFC 5952 text.
        Ipv6Address = 1 => "IPv6 Address",
        /// URL (2), RFC 3986.
        Url = 2 => "URL",
        /// SIP URI (3), RFC 3261.
        SipUri = 3 => "SIP URI",
    }
}

diameter_core::enumeration! {
    /// Values of Multiple-Services-Indicator (455), RFC 8506 §8.40.
    pub enum MultipleServicesIndicator {
        /// MULTIPLE_SERVICES_NOT_SUPPORTED (0).
        NotSupported = 0 => "MULTIPLE_SERVICES_NOT_SUPPORTED",
        /// MULTIPLE_SERVICES_SUPPORTED (1).
        Supported = 1 => "MULTIPLE_SERVICES_SUPPORTED",
    }
}

diameter_core::enumeration! {
    /// Values of Requested-Action (436) in EVENT_REQUESTs, RFC 8506 §8.41.
    pub enum RequestedAction {
        /// DIRECT_DEBITING (0).
        DirectDebiting = 0 => "DIRECT_DEBITING",
        /// REFUND_ACCOUNT (1).
        RefundAccount = 1 => "REFUND_ACCOUNT",
        /// CHECK_BALANCE (2).
        CheckBalance = 2 => "CHECK_BALANCE",
        /// PRICE_ENQUIRY (3).
        PriceEnquiry = 3 => "PRICE_ENQUIRY",
    }
}

diameter_core::enumeration! {
    /// Values of Subscription-Id-Type (450), RFC 8506 §8.47.
    pub enum SubscriptionIdType {
        /// END_USER_E164 (0): international E.164 number (MSISDN).
        E164 = 0 => "END_USER_E164",
        /// END_USER_IMSI (1): E.212 IMSI.
        Imsi = 1 => "END_USER_IMSI",
        /// END_USER_SIP_URI (2): SIP URI, RFC 3261.
        SipUri = 2 => "END_USER_SIP_URI",
        /// END_USER_NAI (3): Network Access Identifier, RFC 7542.
        Nai = 3 => "END_USER_NAI",
        /// END_USER_PRIVATE (4): a credit-control server private identifier.
        Private = 4 => "END_USER_PRIVATE",
    }
}

diameter_core::enumeration! {
    /// Values of User-Equipment-Info-Type (459), RFC 8506 §8.50.
    pub enum UserEquipmentInfoType {
        /// IMEISV (0), 3GPP TS 23.003.
        Imeisv = 0 => "IMEISV",
        /// MAC (1), 48-bit MAC address.
        Mac = 1 => "MAC",
        /// EUI64 (2).
        Eui64 = 2 => "EUI64",
        /// MODIFIED_EUI64 (3), RFC 4291.
        ModifiedEui64 = 3 => "MODIFIED_EUI64",
    }
}

// ---------------------------------------------------------------------------
// AVPs, in §8 table order
// ---------------------------------------------------------------------------

/// CC-Correlation-Id (411, OctetString, M may), RFC 8506 §8.1: correlates
/// requests for different components of one service.
pub const CC_CORRELATION_ID: AvpDef<OctetString> =
    AvpDef::new(411, 0, "CC-Correlation-Id", FlagRules::M_MAY);

/// CC-Input-Octets (412, Unsigned64, M), RFC 8506 §8.24: octets received
/// from the end user.
pub const CC_INPUT_OCTETS: AvpDef<Unsigned64> =
    AvpDef::new(412, 0, "CC-Input-Octets", FlagRules::M);

/// CC-Money (413, Grouped, M), RFC 8506 §8.22:
/// `{ Unit-Value } [ Currency-Code ]`.
pub const CC_MONEY: AvpDef<Grouped> =
    AvpDef::new(413, 0, "CC-Money", FlagRules::M).with_grammar(Grammar::closed(&[
        Rule::required(&UNIT_VALUE),
        Rule::optional(&CURRENCY_CODE),
    ]));

/// CC-Output-Octets (414, Unsigned64, M), RFC 8506 §8.25: octets sent to
/// the end user.
pub const CC_OUTPUT_OCTETS: AvpDef<Unsigned64> =
    AvpDef::new(414, 0, "CC-Output-Octets", FlagRules::M);

/// CC-Request-Number (415, Unsigned32, M), RFC 8506 §8.2: 0 for the
/// initial (or event) request, then +1 per request of the session.
pub const CC_REQUEST_NUMBER: AvpDef<Unsigned32> =
    AvpDef::new(415, 0, "CC-Request-Number", FlagRules::M);

/// CC-Request-Type (416, Enumerated [`CcRequestType`], M), RFC 8506 §8.3.
pub const CC_REQUEST_TYPE: AvpDef<Enumerated<CcRequestType>> =
    AvpDef::new(416, 0, "CC-Request-Type", FlagRules::M);

/// CC-Service-Specific-Units (417, Unsigned64, M), RFC 8506 §8.26.
pub const CC_SERVICE_SPECIFIC_UNITS: AvpDef<Unsigned64> =
    AvpDef::new(417, 0, "CC-Service-Specific-Units", FlagRules::M);

/// CC-Session-Failover (418, Enumerated [`CcSessionFailover`], M), RFC 8506 §8.4.
pub const CC_SESSION_FAILOVER: AvpDef<Enumerated<CcSessionFailover>> =
    AvpDef::new(418, 0, "CC-Session-Failover", FlagRules::M);

/// CC-Sub-Session-Id (419, Unsigned64, M), RFC 8506 §8.5.
pub const CC_SUB_SESSION_ID: AvpDef<Unsigned64> =
    AvpDef::new(419, 0, "CC-Sub-Session-Id", FlagRules::M);

/// CC-Time (420, Unsigned32, M), RFC 8506 §8.21: requested, granted or
/// used time in seconds.
pub const CC_TIME: AvpDef<Unsigned32> = AvpDef::new(420, 0, "CC-Time", FlagRules::M);

/// CC-Total-Octets (421, Unsigned64, M), RFC 8506 §8.23: octets in both
/// directions.
pub const CC_TOTAL_OCTETS: AvpDef<Unsigned64> =
    AvpDef::new(421, 0, "CC-Total-Octets", FlagRules::M);

/// CC-Unit-Type (454, Enumerated [`CcUnitType`], M), RFC 8506 §8.32.
pub const CC_UNIT_TYPE: AvpDef<Enumerated<CcUnitType>> =
    AvpDef::new(454, 0, "CC-Unit-Type", FlagRules::M);

/// Check-Balance-Result (422, Enumerated [`CheckBalanceResult`], M), RFC 8506 §8.6.
pub const CHECK_BALANCE_RESULT: AvpDef<Enumerated<CheckBalanceResult>> =
    AvpDef::new(422, 0, "Check-Balance-Result", FlagRules::M);

/// Cost-Information (423, Grouped, M), RFC 8506 §8.7:
/// `{ Unit-Value } { Currency-Code } [ Cost-Unit ]`.
pub const COST_INFORMATION: AvpDef<Grouped> = AvpDef::new(423, 0, "Cost-Information", FlagRules::M)
    .with_grammar(Grammar::closed(&[
        Rule::required(&UNIT_VALUE),
        Rule::required(&CURRENCY_CODE),
        Rule::optional(&COST_UNIT),
    ]));

/// Cost-Unit (424, UTF8String, M), RFC 8506 §8.12: human-readable unit of a
/// per-unit cost ("minute", ...).
pub const COST_UNIT: AvpDef<Utf8String> = AvpDef::new(424, 0, "Cost-Unit", FlagRules::M);

/// Credit-Control (426, Enumerated [`CreditControlType`], M), RFC 8506 §8.13:
/// sent in AA-Requests.
pub const CREDIT_CONTROL: AvpDef<Enumerated<CreditControlType>> =
    AvpDef::new(426, 0, "Credit-Control", FlagRules::M);

/// Credit-Control-Failure-Handling (427, Enumerated
/// [`CreditControlFailureHandling`], M), RFC 8506 §8.14.
pub const CREDIT_CONTROL_FAILURE_HANDLING: AvpDef<Enumerated<CreditControlFailureHandling>> =
    AvpDef::new(427, 0, "Credit-Control-Failure-Handling", FlagRules::M);

/// Currency-Code (425, Unsigned32, M), RFC 8506 §8.11: ISO 4217 numeric code.
pub const CURRENCY_CODE: AvpDef<Unsigned32> = AvpDef::new(425, 0, "Currency-Code", FlagRules::M);

/// Direct-Debiting-Failure-Handling (428, Enumerated
/// [`DirectDebitingFailureHandling`], M), RFC 8506 §8.15.
pub const DIRECT_DEBITING_FAILURE_HANDLING: AvpDef<Enumerated<DirectDebitingFailureHandling>> =
    AvpDef::new(428, 0, "Direct-Debiting-Failure-Handling", FlagRules::M);

/// Exponent (429, Integer32, M), RFC 8506 §8.9: power of ten applied to
/// Value-Digits; absent means 0.
pub const EXPONENT: AvpDef<Integer32> = AvpDef::new(429, 0, "Exponent", FlagRules::M);

/// Final-Unit-Action (449, Enumerated [`FinalUnitAction`], M), RFC 8506 §8.35.
pub const FINAL_UNIT_ACTION: AvpDef<Enumerated<FinalUnitAction>> =
    AvpDef::new(449, 0, "Final-Unit-Action", FlagRules::M);

/// Final-Unit-Indication (430, Grouped, M), RFC 8506 §8.34:
/// `{ Final-Unit-Action } *[ Restriction-Filter-Rule ] *[ Filter-Id ]
/// [ Redirect-Server ]`.
pub const FINAL_UNIT_INDICATION: AvpDef<Grouped> =
    AvpDef::new(430, 0, "Final-Unit-Indication", FlagRules::M).with_grammar(Grammar::closed(&[
        Rule::required(&FINAL_UNIT_ACTION),
        Rule::repeated(&RESTRICTION_FILTER_RULE, 0, UNBOUNDED),
        Rule::repeated(&FILTER_ID, 0, UNBOUNDED),
        Rule::optional(&REDIRECT_SERVER),
    ]));

/// QoS-Final-Unit-Indication (669, Grouped, M may), RFC 8506 §8.68:
/// `{ Final-Unit-Action } *[ Filter-Rule ] *[ Filter-Id ]
/// [ Redirect-Server-Extension ] *[ AVP ]`.
pub const QOS_FINAL_UNIT_INDICATION: AvpDef<Grouped> =
    AvpDef::new(669, 0, "QoS-Final-Unit-Indication", FlagRules::M_MAY).with_grammar(Grammar::open(
        &[
            Rule::required(&FINAL_UNIT_ACTION),
            Rule::repeated(&FILTER_RULE, 0, UNBOUNDED),
            Rule::repeated(&FILTER_ID, 0, UNBOUNDED),
            Rule::optional(&REDIRECT_SERVER_EXTENSION),
        ],
    ));

/// Granted-Service-Unit (431, Grouped, M), RFC 8506 §8.17:
/// `[ Tariff-Time-Change ] [ CC-Time ] [ CC-Money ] [ CC-Total-Octets ]
/// [ CC-Input-Octets ] [ CC-Output-Octets ] [ CC-Service-Specific-Units ]
/// *[ AVP ]`.
pub const GRANTED_SERVICE_UNIT: AvpDef<Grouped> =
    AvpDef::new(431, 0, "Granted-Service-Unit", FlagRules::M).with_grammar(Grammar::open(&[
        Rule::optional(&TARIFF_TIME_CHANGE),
        Rule::optional(&CC_TIME),
        Rule::optional(&CC_MONEY),
        Rule::optional(&CC_TOTAL_OCTETS),
        Rule::optional(&CC_INPUT_OCTETS),
        Rule::optional(&CC_OUTPUT_OCTETS),
        Rule::optional(&CC_SERVICE_SPECIFIC_UNITS),
    ]));

/// G-S-U-Pool-Identifier (453, Unsigned32, M), RFC 8506 §8.31: a credit pool
/// within the session.
pub const G_S_U_POOL_IDENTIFIER: AvpDef<Unsigned32> =
    AvpDef::new(453, 0, "G-S-U-Pool-Identifier", FlagRules::M);

/// G-S-U-Pool-Reference (457, Grouped, M), RFC 8506 §8.30:
/// `{ G-S-U-Pool-Identifier } { CC-Unit-Type } { Unit-Value }`.
pub const G_S_U_POOL_REFERENCE: AvpDef<Grouped> =
    AvpDef::new(457, 0, "G-S-U-Pool-Reference", FlagRules::M).with_grammar(Grammar::closed(&[
        Rule::required(&G_S_U_POOL_IDENTIFIER),
        Rule::required(&CC_UNIT_TYPE),
        Rule::required(&UNIT_VALUE),
    ]));

/// Multiple-Services-Credit-Control (456, Grouped, M), RFC 8506 §8.16:
/// `[ Granted-Service-Unit ] [ Requested-Service-Unit ]
/// *[ Used-Service-Unit ] [ Tariff-Change-Usage ] *[ Service-Identifier ]
/// [ Rating-Group ] *[ G-S-U-Pool-Reference ] [ Validity-Time ]
/// [ Result-Code ] [ Final-Unit-Indication ] [ QoS-Final-Unit-Indication ]
/// *[ AVP ]`.
///
/// 3GPP TS 32.299 adds its own AVPs here (Reporting-Reason, thresholds,
/// Quota-Holding-Time, ...); the open grammar admits them.
pub const MULTIPLE_SERVICES_CREDIT_CONTROL: AvpDef<Grouped> =
    AvpDef::new(456, 0, "Multiple-Services-Credit-Control", FlagRules::M).with_grammar(
        Grammar::open(&[
            Rule::optional(&GRANTED_SERVICE_UNIT),
            Rule::optional(&REQUESTED_SERVICE_UNIT),
            Rule::repeated(&USED_SERVICE_UNIT, 0, UNBOUNDED),
            Rule::optional(&TARIFF_CHANGE_USAGE),
            Rule::repeated(&SERVICE_IDENTIFIER, 0, UNBOUNDED),
            Rule::optional(&RATING_GROUP),
            Rule::repeated(&G_S_U_POOL_REFERENCE, 0, UNBOUNDED),
            Rule::optional(&VALIDITY_TIME),
            Rule::optional(&RESULT_CODE),
            Rule::optional(&FINAL_UNIT_INDICATION),
            Rule::optional(&QOS_FINAL_UNIT_INDICATION),
        ]),
    );

/// Multiple-Services-Indicator (455, Enumerated [`MultipleServicesIndicator`],
/// M), RFC 8506 §8.40.
pub const MULTIPLE_SERVICES_INDICATOR: AvpDef<Enumerated<MultipleServicesIndicator>> =
    AvpDef::new(455, 0, "Multiple-Services-Indicator", FlagRules::M);

/// Rating-Group (432, Unsigned32, M), RFC 8506 §8.29.
pub const RATING_GROUP: AvpDef<Unsigned32> = AvpDef::new(432, 0, "Rating-Group", FlagRules::M);

/// Redirect-Address-Type (433, Enumerated [`RedirectAddressType`], M), RFC 8506 §8.38.
pub const REDIRECT_ADDRESS_TYPE: AvpDef<Enumerated<RedirectAddressType>> =
    AvpDef::new(433, 0, "Redirect-Address-Type", FlagRules::M);

/// Redirect-Server (434, Grouped, M), RFC 8506 §8.37:
/// `{ Redirect-Address-Type } { Redirect-Server-Address }`.
pub const REDIRECT_SERVER: AvpDef<Grouped> = AvpDef::new(434, 0, "Redirect-Server", FlagRules::M)
    .with_grammar(Grammar::closed(&[
        Rule::required(&REDIRECT_ADDRESS_TYPE),
        Rule::required(&REDIRECT_SERVER_ADDRESS),
    ]));

/// Redirect-Server-Address (435, UTF8String, M), RFC 8506 §8.39.
pub const REDIRECT_SERVER_ADDRESS: AvpDef<Utf8String> =
    AvpDef::new(435, 0, "Redirect-Server-Address", FlagRules::M);

/// Redirect-Server-Extension (665, Grouped, M may), RFC 8506 §8.64:
/// `[ Redirect-Address-IPAddress ] [ Redirect-Address-URL ]
/// [ Redirect-Address-SIP-URI ] [ AVP ]`; exactly one AVP inside.
pub const REDIRECT_SERVER_EXTENSION: AvpDef<Grouped> =
    AvpDef::new(665, 0, "Redirect-Server-Extension", FlagRules::M_MAY).with_grammar(Grammar::open(
        &[
            Rule::optional(&REDIRECT_ADDRESS_IP_ADDRESS),
            Rule::optional(&REDIRECT_ADDRESS_URL),
            Rule::optional(&REDIRECT_ADDRESS_SIP_URI),
        ],
    ));

/// Redirect-Address-IPAddress (666, Address, M may), RFC 8506 §8.65.
pub const REDIRECT_ADDRESS_IP_ADDRESS: AvpDef<Address> =
    AvpDef::new(666, 0, "Redirect-Address-IPAddress", FlagRules::M_MAY);

/// Redirect-Address-URL (667, UTF8String, M may), RFC 8506 §8.66.
pub const REDIRECT_ADDRESS_URL: AvpDef<Utf8String> =
    AvpDef::new(667, 0, "Redirect-Address-URL", FlagRules::M_MAY);

/// Redirect-Address-SIP-URI (668, UTF8String, M may), RFC 8506 §8.67.
pub const REDIRECT_ADDRESS_SIP_URI: AvpDef<Utf8String> =
    AvpDef::new(668, 0, "Redirect-Address-SIP-URI", FlagRules::M_MAY);

/// Requested-Action (436, Enumerated [`RequestedAction`], M), RFC 8506 §8.41.
pub const REQUESTED_ACTION: AvpDef<Enumerated<RequestedAction>> =
    AvpDef::new(436, 0, "Requested-Action", FlagRules::M);

/// Requested-Service-Unit (437, Grouped, M), RFC 8506 §8.18:
/// `[ CC-Time ] [ CC-Money ] [ CC-Total-Octets ] [ CC-Input-Octets ]
/// [ CC-Output-Octets ] [ CC-Service-Specific-Units ] *[ AVP ]`.
pub const REQUESTED_SERVICE_UNIT: AvpDef<Grouped> =
    AvpDef::new(437, 0, "Requested-Service-Unit", FlagRules::M).with_grammar(Grammar::open(&[
        Rule::optional(&CC_TIME),
        Rule::optional(&CC_MONEY),
        Rule::optional(&CC_TOTAL_OCTETS),
        Rule::optional(&CC_INPUT_OCTETS),
        Rule::optional(&CC_OUTPUT_OCTETS),
        Rule::optional(&CC_SERVICE_SPECIFIC_UNITS),
    ]));

/// Restriction-Filter-Rule (438, IPFilterRule, M), RFC 8506 §8.36.
pub const RESTRICTION_FILTER_RULE: AvpDef<IpFilterRule> =
    AvpDef::new(438, 0, "Restriction-Filter-Rule", FlagRules::M);

/// Service-Context-Id (461, UTF8String, M), RFC 8506 §8.42:
/// `service-context "@" domain`, e.g. `32260@3gpp.org`.
pub const SERVICE_CONTEXT_ID: AvpDef<Utf8String> =
    AvpDef::new(461, 0, "Service-Context-Id", FlagRules::M);

/// Service-Identifier (439, Unsigned32, M), RFC 8506 §8.28.
pub const SERVICE_IDENTIFIER: AvpDef<Unsigned32> =
    AvpDef::new(439, 0, "Service-Identifier", FlagRules::M);

/// Service-Parameter-Info (440, Grouped, M may), RFC 8506 §8.43:
/// `{ Service-Parameter-Type } { Service-Parameter-Value }`.
pub const SERVICE_PARAMETER_INFO: AvpDef<Grouped> =
    AvpDef::new(440, 0, "Service-Parameter-Info", FlagRules::M_MAY).with_grammar(Grammar::closed(
        &[
            Rule::required(&SERVICE_PARAMETER_TYPE),
            Rule::required(&SERVICE_PARAMETER_VALUE),
        ],
    ));

/// Service-Parameter-Type (441, Unsigned32, M may), RFC 8506 §8.44.
pub const SERVICE_PARAMETER_TYPE: AvpDef<Unsigned32> =
    AvpDef::new(441, 0, "Service-Parameter-Type", FlagRules::M_MAY);

/// Service-Parameter-Value (442, OctetString, M may), RFC 8506 §8.45.
pub const SERVICE_PARAMETER_VALUE: AvpDef<OctetString> =
    AvpDef::new(442, 0, "Service-Parameter-Value", FlagRules::M_MAY);

/// Subscription-Id (443, Grouped, M), RFC 8506 §8.46:
/// `{ Subscription-Id-Type } { Subscription-Id-Data }`.
pub const SUBSCRIPTION_ID: AvpDef<Grouped> = AvpDef::new(443, 0, "Subscription-Id", FlagRules::M)
    .with_grammar(Grammar::closed(&[
        Rule::required(&SUBSCRIPTION_ID_TYPE),
        Rule::required(&SUBSCRIPTION_ID_DATA),
    ]));

/// Subscription-Id-Data (444, UTF8String, M), RFC 8506 §8.48.
pub const SUBSCRIPTION_ID_DATA: AvpDef<Utf8String> =
    AvpDef::new(444, 0, "Subscription-Id-Data", FlagRules::M);

/// Subscription-Id-Type (450, Enumerated [`SubscriptionIdType`], M), RFC 8506 §8.47.
pub const SUBSCRIPTION_ID_TYPE: AvpDef<Enumerated<SubscriptionIdType>> =
    AvpDef::new(450, 0, "Subscription-Id-Type", FlagRules::M);

/// Subscription-Id-Extension (659, Grouped, M may), RFC 8506 §8.58:
/// `[ Subscription-Id-E164 ] [ Subscription-Id-IMSI ]
/// [ Subscription-Id-SIP-URI ] [ Subscription-Id-NAI ]
/// [ Subscription-Id-Private ] [ AVP ]`; exactly one AVP inside.
pub const SUBSCRIPTION_ID_EXTENSION: AvpDef<Grouped> =
    AvpDef::new(659, 0, "Subscription-Id-Extension", FlagRules::M_MAY).with_grammar(Grammar::open(
        &[
            Rule::optional(&SUBSCRIPTION_ID_E164),
            Rule::optional(&SUBSCRIPTION_ID_IMSI),
            Rule::optional(&SUBSCRIPTION_ID_SIP_URI),
            Rule::optional(&SUBSCRIPTION_ID_NAI),
            Rule::optional(&SUBSCRIPTION_ID_PRIVATE),
        ],
    ));

/// Subscription-Id-E164 (660, UTF8String, M may), RFC 8506 §8.59.
pub const SUBSCRIPTION_ID_E164: AvpDef<Utf8String> =
    AvpDef::new(660, 0, "Subscription-Id-E164", FlagRules::M_MAY);

/// Subscription-Id-IMSI (661, UTF8String, M may), RFC 8506 §8.60.
pub const SUBSCRIPTION_ID_IMSI: AvpDef<Utf8String> =
    AvpDef::new(661, 0, "Subscription-Id-IMSI", FlagRules::M_MAY);

/// Subscription-Id-SIP-URI (662, UTF8String, M may), RFC 8506 §8.61.
pub const SUBSCRIPTION_ID_SIP_URI: AvpDef<Utf8String> =
    AvpDef::new(662, 0, "Subscription-Id-SIP-URI", FlagRules::M_MAY);

/// Subscription-Id-NAI (663, UTF8String, M may), RFC 8506 §8.62.
pub const SUBSCRIPTION_ID_NAI: AvpDef<Utf8String> =
    AvpDef::new(663, 0, "Subscription-Id-NAI", FlagRules::M_MAY);

/// Subscription-Id-Private (664, UTF8String, M may), RFC 8506 §8.63.
pub const SUBSCRIPTION_ID_PRIVATE: AvpDef<Utf8String> =
    AvpDef::new(664, 0, "Subscription-Id-Private", FlagRules::M_MAY);

/// Tariff-Change-Usage (452, Enumerated [`TariffChangeUsage`], M), RFC 8506 §8.27.
pub const TARIFF_CHANGE_USAGE: AvpDef<Enumerated<TariffChangeUsage>> =
    AvpDef::new(452, 0, "Tariff-Change-Usage", FlagRules::M);

/// Tariff-Time-Change (451, Time, M), RFC 8506 §8.20.
pub const TARIFF_TIME_CHANGE: AvpDef<Time> =
    AvpDef::new(451, 0, "Tariff-Time-Change", FlagRules::M);

/// Unit-Value (445, Grouped, M), RFC 8506 §8.8:
/// `{ Value-Digits } [ Exponent ]`; the value is Value-Digits × 10^Exponent.
pub const UNIT_VALUE: AvpDef<Grouped> = AvpDef::new(445, 0, "Unit-Value", FlagRules::M)
    .with_grammar(Grammar::closed(&[
        Rule::required(&VALUE_DIGITS),
        Rule::optional(&EXPONENT),
    ]));

/// Used-Service-Unit (446, Grouped, M), RFC 8506 §8.19:
/// `[ Tariff-Change-Usage ] [ CC-Time ] [ CC-Money ] [ CC-Total-Octets ]
/// [ CC-Input-Octets ] [ CC-Output-Octets ] [ CC-Service-Specific-Units ]
/// *[ AVP ]`.
pub const USED_SERVICE_UNIT: AvpDef<Grouped> =
    AvpDef::new(446, 0, "Used-Service-Unit", FlagRules::M).with_grammar(Grammar::open(&[
        Rule::optional(&TARIFF_CHANGE_USAGE),
        Rule::optional(&CC_TIME),
        Rule::optional(&CC_MONEY),
        Rule::optional(&CC_TOTAL_OCTETS),
        Rule::optional(&CC_INPUT_OCTETS),
        Rule::optional(&CC_OUTPUT_OCTETS),
        Rule::optional(&CC_SERVICE_SPECIFIC_UNITS),
    ]));

/// User-Equipment-Info (458, Grouped, M may), RFC 8506 §8.49:
/// `{ User-Equipment-Info-Type } { User-Equipment-Info-Value }`.
pub const USER_EQUIPMENT_INFO: AvpDef<Grouped> =
    AvpDef::new(458, 0, "User-Equipment-Info", FlagRules::M_MAY).with_grammar(Grammar::closed(&[
        Rule::required(&USER_EQUIPMENT_INFO_TYPE),
        Rule::required(&USER_EQUIPMENT_INFO_VALUE),
    ]));

/// User-Equipment-Info-Type (459, Enumerated [`UserEquipmentInfoType`], M
/// may), RFC 8506 §8.50.
pub const USER_EQUIPMENT_INFO_TYPE: AvpDef<Enumerated<UserEquipmentInfoType>> =
    AvpDef::new(459, 0, "User-Equipment-Info-Type", FlagRules::M_MAY);

/// User-Equipment-Info-Value (460, OctetString, M may), RFC 8506 §8.51.
pub const USER_EQUIPMENT_INFO_VALUE: AvpDef<OctetString> =
    AvpDef::new(460, 0, "User-Equipment-Info-Value", FlagRules::M_MAY);

/// User-Equipment-Info-Extension (653, Grouped, M may), RFC 8506 §8.52:
/// `[ User-Equipment-Info-IMEISV ] [ User-Equipment-Info-MAC ]
/// [ User-Equipment-Info-EUI64 ] [ User-Equipment-Info-ModifiedEUI64 ]
/// [ User-Equipment-Info-IMEI ] [ AVP ]`; exactly one AVP inside.
pub const USER_EQUIPMENT_INFO_EXTENSION: AvpDef<Grouped> =
    AvpDef::new(653, 0, "User-Equipment-Info-Extension", FlagRules::M_MAY).with_grammar(
        Grammar::open(&[
            Rule::optional(&USER_EQUIPMENT_INFO_IMEISV),
            Rule::optional(&USER_EQUIPMENT_INFO_MAC),
            Rule::optional(&USER_EQUIPMENT_INFO_EUI64),
            Rule::optional(&USER_EQUIPMENT_INFO_MODIFIED_EUI64),
            Rule::optional(&USER_EQUIPMENT_INFO_IMEI),
        ]),
    );

/// User-Equipment-Info-IMEISV (654, OctetString, M may), RFC 8506 §8.53.
pub const USER_EQUIPMENT_INFO_IMEISV: AvpDef<OctetString> =
    AvpDef::new(654, 0, "User-Equipment-Info-IMEISV", FlagRules::M_MAY);

/// User-Equipment-Info-MAC (655, OctetString, M may), RFC 8506 §8.54.
pub const USER_EQUIPMENT_INFO_MAC: AvpDef<OctetString> =
    AvpDef::new(655, 0, "User-Equipment-Info-MAC", FlagRules::M_MAY);

/// User-Equipment-Info-EUI64 (656, OctetString, M may), RFC 8506 §8.55.
pub const USER_EQUIPMENT_INFO_EUI64: AvpDef<OctetString> =
    AvpDef::new(656, 0, "User-Equipment-Info-EUI64", FlagRules::M_MAY);

/// User-Equipment-Info-ModifiedEUI64 (657, OctetString, M may), RFC 8506 §8.56.
pub const USER_EQUIPMENT_INFO_MODIFIED_EUI64: AvpDef<OctetString> = AvpDef::new(
    657,
    0,
    "User-Equipment-Info-ModifiedEUI64",
    FlagRules::M_MAY,
);

/// User-Equipment-Info-IMEI (658, OctetString, M may), RFC 8506 §8.57.
pub const USER_EQUIPMENT_INFO_IMEI: AvpDef<OctetString> =
    AvpDef::new(658, 0, "User-Equipment-Info-IMEI", FlagRules::M_MAY);

/// Value-Digits (447, Integer64, M), RFC 8506 §8.10: significant digits of
/// a Unit-Value.
pub const VALUE_DIGITS: AvpDef<Integer64> = AvpDef::new(447, 0, "Value-Digits", FlagRules::M);

/// Validity-Time (448, Unsigned32, M), RFC 8506 §8.33: seconds the granted
/// units stay valid; at expiry the client sends an UPDATE_REQUEST.
pub const VALIDITY_TIME: AvpDef<Unsigned32> = AvpDef::new(448, 0, "Validity-Time", FlagRules::M);

// ---------------------------------------------------------------------------
// AVPs of other documents that the §8 grammars refer to
// ---------------------------------------------------------------------------

/// Filter-Id (11, UTF8String, M), RFC 7155 §4.4.7 (NASREQ): the name of a
/// filter list installed by other means. Referred to by
/// Final-Unit-Indication (RFC 8506 §8.34) and QoS-Final-Unit-Indication (§8.68).
pub const FILTER_ID: AvpDef<Utf8String> = AvpDef::new(11, 0, "Filter-Id", FlagRules::M);

/// Filter-Rule (509, Grouped, M), RFC 5777 §3.2: a classifier/action rule.
/// Referred to by QoS-Final-Unit-Indication (RFC 8506 §8.68).
///
/// Its content (RFC 5777 §3.2 and §4) is not modelled here: the grammar is
/// [`Grammar::EMPTY`], so the AVP is carried and its inner AVPs are not
/// checked.
pub const FILTER_RULE: AvpDef<Grouped> = AvpDef::new(509, 0, "Filter-Rule", FlagRules::M);

// ---------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------

/// Credit-Control-Request (272, REQ, PXY, application 4), RFC 8506 §3.1.
///
/// ```text
/// < Session-Id > { Origin-Host } { Origin-Realm } { Destination-Realm }
/// { Auth-Application-Id } { Service-Context-Id } { CC-Request-Type }
/// { CC-Request-Number } [ Destination-Host ] [ User-Name ]
/// [ CC-Sub-Session-Id ] [ Acct-Multi-Session-Id ] [ Origin-State-Id ]
/// [ Event-Timestamp ] *[ Subscription-Id ] *[ Subscription-Id-Extension ]
/// [ Service-Identifier ] [ Termination-Cause ] [ Requested-Service-Unit ]
/// [ Requested-Action ] *[ Used-Service-Unit ] [ Multiple-Services-Indicator ]
/// *[ Multiple-Services-Credit-Control ] *[ Service-Parameter-Info ]
/// [ CC-Correlation-Id ] [ User-Equipment-Info ]
/// [ User-Equipment-Info-Extension ] *[ Proxy-Info ] *[ Route-Record ] *[ AVP ]
/// ```
pub const CCR: CommandDef = CommandDef {
    name: "Credit-Control-Request",
    abbrev: "CCR",
    code: CommandCode::CREDIT_CONTROL,
    application: Some(ApplicationId::CREDIT_CONTROL),
    request: true,
    proxiable: true,
    grammar: Grammar::open(&[
        Rule::fixed(&SESSION_ID),
        Rule::required(&ORIGIN_HOST),
        Rule::required(&ORIGIN_REALM),
        Rule::required(&DESTINATION_REALM),
        Rule::required(&AUTH_APPLICATION_ID),
        Rule::required(&SERVICE_CONTEXT_ID),
        Rule::required(&CC_REQUEST_TYPE),
        Rule::required(&CC_REQUEST_NUMBER),
        Rule::optional(&DESTINATION_HOST),
        Rule::optional(&USER_NAME),
        Rule::optional(&CC_SUB_SESSION_ID),
        Rule::optional(&ACCT_MULTI_SESSION_ID),
        Rule::optional(&ORIGIN_STATE_ID),
        Rule::optional(&EVENT_TIMESTAMP),
        Rule::repeated(&SUBSCRIPTION_ID, 0, UNBOUNDED),
        Rule::repeated(&SUBSCRIPTION_ID_EXTENSION, 0, UNBOUNDED),
        Rule::optional(&SERVICE_IDENTIFIER),
        Rule::optional(&TERMINATION_CAUSE),
        Rule::optional(&REQUESTED_SERVICE_UNIT),
        Rule::optional(&REQUESTED_ACTION),
        Rule::repeated(&USED_SERVICE_UNIT, 0, UNBOUNDED),
        Rule::optional(&MULTIPLE_SERVICES_INDICATOR),
        Rule::repeated(&MULTIPLE_SERVICES_CREDIT_CONTROL, 0, UNBOUNDED),
        Rule::repeated(&SERVICE_PARAMETER_INFO, 0, UNBOUNDED),
        Rule::optional(&CC_CORRELATION_ID),
        Rule::optional(&USER_EQUIPMENT_INFO),
        Rule::optional(&USER_EQUIPMENT_INFO_EXTENSION),
        Rule::repeated(&PROXY_INFO, 0, UNBOUNDED),
        Rule::repeated(&ROUTE_RECORD, 0, UNBOUNDED),
    ]),
};

/// Credit-Control-Answer (272, PXY, application 4), RFC 8506 §3.2.
///
/// ```text
/// < Session-Id > { Result-Code } { Origin-Host } { Origin-Realm }
/// { Auth-Application-Id } { CC-Request-Type } { CC-Request-Number }
/// [ User-Name ] [ CC-Session-Failover ] [ CC-Sub-Session-Id ]
/// [ Acct-Multi-Session-Id ] [ Origin-State-Id ] [ Event-Timestamp ]
/// [ Granted-Service-Unit ] *[ Multiple-Services-Credit-Control ]
/// [ Cost-Information ] [ Final-Unit-Indication ] [ QoS-Final-Unit-Indication ]
/// [ Check-Balance-Result ] [ Credit-Control-Failure-Handling ]
/// [ Direct-Debiting-Failure-Handling ] [ Validity-Time ] *[ Redirect-Host ]
/// [ Redirect-Host-Usage ] [ Redirect-Max-Cache-Time ] *[ Proxy-Info ]
/// *[ Route-Record ] *[ Failed-AVP ] *[ AVP ]
/// ```
pub const CCA: CommandDef = CommandDef {
    name: "Credit-Control-Answer",
    abbrev: "CCA",
    code: CommandCode::CREDIT_CONTROL,
    application: Some(ApplicationId::CREDIT_CONTROL),
    request: false,
    proxiable: true,
    grammar: Grammar::open(&[
        Rule::fixed(&SESSION_ID),
        Rule::required(&RESULT_CODE),
        Rule::required(&ORIGIN_HOST),
        Rule::required(&ORIGIN_REALM),
        Rule::required(&AUTH_APPLICATION_ID),
        Rule::required(&CC_REQUEST_TYPE),
        Rule::required(&CC_REQUEST_NUMBER),
        Rule::optional(&USER_NAME),
        Rule::optional(&CC_SESSION_FAILOVER),
        Rule::optional(&CC_SUB_SESSION_ID),
        Rule::optional(&ACCT_MULTI_SESSION_ID),
        Rule::optional(&ORIGIN_STATE_ID),
        Rule::optional(&EVENT_TIMESTAMP),
        Rule::optional(&GRANTED_SERVICE_UNIT),
        Rule::repeated(&MULTIPLE_SERVICES_CREDIT_CONTROL, 0, UNBOUNDED),
        Rule::optional(&COST_INFORMATION),
        Rule::optional(&FINAL_UNIT_INDICATION),
        Rule::optional(&QOS_FINAL_UNIT_INDICATION),
        Rule::optional(&CHECK_BALANCE_RESULT),
        Rule::optional(&CREDIT_CONTROL_FAILURE_HANDLING),
        Rule::optional(&DIRECT_DEBITING_FAILURE_HANDLING),
        Rule::optional(&VALIDITY_TIME),
        Rule::repeated(&REDIRECT_HOST, 0, UNBOUNDED),
        Rule::optional(&REDIRECT_HOST_USAGE),
        Rule::optional(&REDIRECT_MAX_CACHE_TIME),
        Rule::repeated(&PROXY_INFO, 0, UNBOUNDED),
        Rule::repeated(&ROUTE_RECORD, 0, UNBOUNDED),
        Rule::repeated(&FAILED_AVP, 0, UNBOUNDED),
    ]),
};
