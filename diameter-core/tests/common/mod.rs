//! Shared by the integration tests: a Credit-Control / 3GPP test dictionary
//! that falls back to the RFC 6733 base dictionary, bench-message loading, hex
//! helpers, and for each bench message a plain-value model with a decoder
//! (every leaf read through typed `get`/`get_all`), the documented expected
//! values, and an encoder that rebuilds the message from the values.
//!
//! Everything below the hex helpers is allocation-free, so `no_alloc.rs` can
//! run it under a counting allocator.
#![allow(dead_code)]

use diameter_core::dict::base;
use diameter_core::dict::{AvpInfo, CommandDef, FlagRules, Grammar, Rule};
use diameter_core::types::{Enumerated, Grouped, Unsigned32, Unsigned64, Utf8String};
use diameter_core::{
    ApplicationId, AvpDef, AvpSet, CommandCode, CommandFlags, Dictionary, EncodeError, Error,
    HeaderRepr, Message, MessageBuilder, Timestamp,
};

// ---------------------------------------------------------------------------
// Test dictionary
// ---------------------------------------------------------------------------

/// 3GPP.
pub const TGPP: u32 = 10415;

diameter_core::enumeration! {
    /// CC-Request-Type (RFC 8506 §8.3).
    pub enum CcRequestType {
        /// 1
        Initial = 1,
        /// 2
        Update = 2,
        /// 3
        Termination = 3,
        /// 4
        Event = 4,
    }
}

diameter_core::enumeration! {
    /// Subscription-Id-Type (RFC 8506 §8.47).
    pub enum SubscriptionIdType {
        /// 0
        EndUserE164 = 0,
        /// 1
        EndUserImsi = 1,
        /// 2
        EndUserSipUri = 2,
        /// 3
        EndUserNai = 3,
        /// 4
        EndUserPrivate = 4,
    }
}

diameter_core::enumeration! {
    /// Multiple-Services-Indicator (RFC 8506 §8.40).
    pub enum MultipleServicesIndicator {
        /// 0
        NotSupported = 0,
        /// 1
        Supported = 1,
    }
}

diameter_core::enumeration! {
    /// Role-Of-Node (TS 32.299 §7.2.201).
    pub enum RoleOfNode {
        /// 0
        Originating = 0,
        /// 1
        Terminating = 1,
        /// 2
        Forwarding = 2,
    }
}

diameter_core::enumeration! {
    /// Node-Functionality (TS 32.299 §7.2.111), partial.
    pub enum NodeFunctionality {
        /// 0
        SCscf = 0,
        /// 1
        PCscf = 1,
        /// 2
        ICscf = 2,
        /// 3
        Mrfc = 3,
        /// 4
        Mgcf = 4,
        /// 5
        Bgcf = 5,
        /// 6
        As = 6,
    }
}

pub const SERVICE_CONTEXT_ID: AvpDef<Utf8String> =
    AvpDef::new(461, 0, "Service-Context-Id", FlagRules::M);
pub const CC_REQUEST_TYPE: AvpDef<Enumerated<CcRequestType>> =
    AvpDef::new(416, 0, "CC-Request-Type", FlagRules::M);
pub const CC_REQUEST_NUMBER: AvpDef<Unsigned32> =
    AvpDef::new(415, 0, "CC-Request-Number", FlagRules::M);
pub const SUBSCRIPTION_ID_TYPE: AvpDef<Enumerated<SubscriptionIdType>> =
    AvpDef::new(450, 0, "Subscription-Id-Type", FlagRules::M);
pub const SUBSCRIPTION_ID_DATA: AvpDef<Utf8String> =
    AvpDef::new(444, 0, "Subscription-Id-Data", FlagRules::M);
pub const SUBSCRIPTION_ID: AvpDef<Grouped> = AvpDef::new(443, 0, "Subscription-Id", FlagRules::M)
    .with_grammar(Grammar::closed(&[
        Rule::required(&SUBSCRIPTION_ID_TYPE),
        Rule::required(&SUBSCRIPTION_ID_DATA),
    ]));
pub const CC_TIME: AvpDef<Unsigned32> = AvpDef::new(420, 0, "CC-Time", FlagRules::M);
pub const CC_TOTAL_OCTETS: AvpDef<Unsigned64> =
    AvpDef::new(421, 0, "CC-Total-Octets", FlagRules::M);
pub const CC_INPUT_OCTETS: AvpDef<Unsigned64> =
    AvpDef::new(412, 0, "CC-Input-Octets", FlagRules::M);
pub const CC_OUTPUT_OCTETS: AvpDef<Unsigned64> =
    AvpDef::new(414, 0, "CC-Output-Octets", FlagRules::M);

const SERVICE_UNIT_RULES: &[Rule] = &[
    Rule::optional(&CC_TIME),
    Rule::optional(&CC_TOTAL_OCTETS),
    Rule::optional(&CC_INPUT_OCTETS),
    Rule::optional(&CC_OUTPUT_OCTETS),
];
pub const REQUESTED_SERVICE_UNIT: AvpDef<Grouped> =
    AvpDef::new(437, 0, "Requested-Service-Unit", FlagRules::M)
        .with_grammar(Grammar::open(SERVICE_UNIT_RULES));
pub const GRANTED_SERVICE_UNIT: AvpDef<Grouped> =
    AvpDef::new(431, 0, "Granted-Service-Unit", FlagRules::M)
        .with_grammar(Grammar::open(SERVICE_UNIT_RULES));
pub const USED_SERVICE_UNIT: AvpDef<Grouped> =
    AvpDef::new(446, 0, "Used-Service-Unit", FlagRules::M)
        .with_grammar(Grammar::open(SERVICE_UNIT_RULES));

pub const MULTIPLE_SERVICES_INDICATOR: AvpDef<Enumerated<MultipleServicesIndicator>> =
    AvpDef::new(455, 0, "Multiple-Services-Indicator", FlagRules::M);
pub const SERVICE_IDENTIFIER: AvpDef<Unsigned32> =
    AvpDef::new(439, 0, "Service-Identifier", FlagRules::M);
pub const RATING_GROUP: AvpDef<Unsigned32> = AvpDef::new(432, 0, "Rating-Group", FlagRules::M);
pub const VALIDITY_TIME: AvpDef<Unsigned32> = AvpDef::new(448, 0, "Validity-Time", FlagRules::M);
pub const MULTIPLE_SERVICES_CREDIT_CONTROL: AvpDef<Grouped> =
    AvpDef::new(456, 0, "Multiple-Services-Credit-Control", FlagRules::M).with_grammar(
        Grammar::open(&[
            Rule::optional(&GRANTED_SERVICE_UNIT),
            Rule::optional(&REQUESTED_SERVICE_UNIT),
            Rule::repeated(&USED_SERVICE_UNIT, 0, Rule::UNBOUNDED),
            Rule::repeated(&SERVICE_IDENTIFIER, 0, Rule::UNBOUNDED),
            Rule::optional(&RATING_GROUP),
            Rule::optional(&VALIDITY_TIME),
            Rule::optional(&base::RESULT_CODE),
        ]),
    );

pub const ROLE_OF_NODE: AvpDef<Enumerated<RoleOfNode>> =
    AvpDef::new(829, TGPP, "Role-Of-Node", FlagRules::VM);
pub const NODE_FUNCTIONALITY: AvpDef<Enumerated<NodeFunctionality>> =
    AvpDef::new(862, TGPP, "Node-Functionality", FlagRules::VM);
pub const CALLING_PARTY_ADDRESS: AvpDef<Utf8String> =
    AvpDef::new(831, TGPP, "Calling-Party-Address", FlagRules::VM);
pub const CALLED_PARTY_ADDRESS: AvpDef<Utf8String> =
    AvpDef::new(832, TGPP, "Called-Party-Address", FlagRules::VM);
pub const IMS_INFORMATION: AvpDef<Grouped> =
    AvpDef::new(876, TGPP, "IMS-Information", FlagRules::VM).with_grammar(Grammar::open(&[
        Rule::optional(&ROLE_OF_NODE),
        Rule::required(&NODE_FUNCTIONALITY),
        Rule::repeated(&CALLING_PARTY_ADDRESS, 0, Rule::UNBOUNDED),
        Rule::optional(&CALLED_PARTY_ADDRESS),
    ]));
pub const SERVICE_INFORMATION: AvpDef<Grouped> =
    AvpDef::new(873, TGPP, "Service-Information", FlagRules::VM)
        .with_grammar(Grammar::open(&[Rule::optional(&IMS_INFORMATION)]));

/// The Credit-Control and 3GPP AVPs of the bench messages, then [`base::Base`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TestDict;

impl Dictionary for TestDict {
    fn avp(&self, code: u32, vendor: u32) -> Option<&'static AvpInfo> {
        let info: &'static AvpInfo = match (code, vendor) {
            (461, 0) => &SERVICE_CONTEXT_ID.info,
            (416, 0) => &CC_REQUEST_TYPE.info,
            (415, 0) => &CC_REQUEST_NUMBER.info,
            (443, 0) => &SUBSCRIPTION_ID.info,
            (450, 0) => &SUBSCRIPTION_ID_TYPE.info,
            (444, 0) => &SUBSCRIPTION_ID_DATA.info,
            (437, 0) => &REQUESTED_SERVICE_UNIT.info,
            (431, 0) => &GRANTED_SERVICE_UNIT.info,
            (446, 0) => &USED_SERVICE_UNIT.info,
            (420, 0) => &CC_TIME.info,
            (421, 0) => &CC_TOTAL_OCTETS.info,
            (412, 0) => &CC_INPUT_OCTETS.info,
            (414, 0) => &CC_OUTPUT_OCTETS.info,
            (456, 0) => &MULTIPLE_SERVICES_CREDIT_CONTROL.info,
            (455, 0) => &MULTIPLE_SERVICES_INDICATOR.info,
            (439, 0) => &SERVICE_IDENTIFIER.info,
            (432, 0) => &RATING_GROUP.info,
            (448, 0) => &VALIDITY_TIME.info,
            (873, TGPP) => &SERVICE_INFORMATION.info,
            (876, TGPP) => &IMS_INFORMATION.info,
            (829, TGPP) => &ROLE_OF_NODE.info,
            (862, TGPP) => &NODE_FUNCTIONALITY.info,
            (831, TGPP) => &CALLING_PARTY_ADDRESS.info,
            (832, TGPP) => &CALLED_PARTY_ADDRESS.info,
            _ => return base::Base.avp(code, vendor),
        };
        Some(info)
    }

    fn command(&self, code: CommandCode, request: bool) -> Option<&'static CommandDef> {
        base::Base.command(code, request)
    }
}

// ---------------------------------------------------------------------------
// Files and hex
// ---------------------------------------------------------------------------

/// The workspace root (`diameter-core/..`).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `shared/` beside the workspace.
pub fn shared_dir() -> std::path::PathBuf {
    workspace_root().join("..").join("shared")
}

/// The names of the four bench messages.
pub const BENCH_NAMES: [&str; 4] = ["ccr-i", "cca-i", "acr-start", "ccr-u-large"];

/// Load `shared/bench-msgs/NAME.hex` as bytes; panics with a clear message
/// if the file is missing or not hex.
pub fn bench_msg(name: &str) -> Vec<u8> {
    let path = shared_dir().join("bench-msgs").join(format!("{name}.hex"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "bench message {name} not found at {}: {e} (the tests expect the project's \
             shared/ folder beside the workspace)",
            path.display()
        )
    });
    hex_decode(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Lowercase hex of `bytes`.
pub fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Decode hex text; ASCII whitespace is ignored.
pub fn hex_decode(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    let val = |c: u8| -> Result<u8, String> {
        match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(format!("not a hex digit: {:?}", c as char)),
        }
    };
    digits
        .chunks(2)
        .map(|p| Ok(val(p[0])? << 4 | val(p[1])?))
        .collect()
}

/// Number of AVPs in `set`, counting the content of every Grouped AVP that
/// `TestDict` knows (allocation-free).
pub fn count_avps(set: AvpSet<'_>) -> usize {
    set.iter()
        .map(|a| {
            let a = a.expect("AVP iterates");
            let nested = match TestDict.avp(a.code(), a.vendor()) {
                Some(i) if i.data_type == diameter_core::types::DataType::Grouped => {
                    count_avps(a.group_set())
                }
                _ => 0,
            };
            1 + nested
        })
        .sum()
}

// ---------------------------------------------------------------------------
// Value models of the bench messages
// ---------------------------------------------------------------------------

/// Event-Timestamp of every bench message: 2024-01-01T00:00:00Z.
pub const EVENT_TS: Timestamp = Timestamp(3_913_056_000);
/// The Session-Id of every bench message.
pub const SESSION_ID: &str = "client.cgrates.org;1704067200;1;sip-call-0001";

/// Used-Service-Unit content of the bench CCR-U.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usu {
    pub cc_time: u32,
    pub total: u64,
    pub input: u64,
    pub output: u64,
}

/// One Multiple-Services-Credit-Control. Encoded in field order: GSU, RSU,
/// USU, Service-Identifier, Rating-Group, Validity-Time, Result-Code (the
/// order both bench messages use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mscc {
    /// Granted-Service-Unit { CC-Time }.
    pub gsu_cc_time: Option<u32>,
    /// Requested-Service-Unit { CC-Time }.
    pub rsu_cc_time: Option<u32>,
    /// Used-Service-Unit { CC-Time, CC-Total/Input/Output-Octets }.
    pub usu: Option<Usu>,
    pub service_identifier: Option<u32>,
    pub rating_group: Option<u32>,
    pub validity_time: Option<u32>,
    pub result_code: Option<u32>,
}

/// Service-Information { IMS-Information { ... } }.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImsInfo<'a> {
    pub role_of_node: RoleOfNode,
    pub node_functionality: NodeFunctionality,
    pub calling: &'a str,
    pub called: &'a str,
}

/// Most MSCCs any bench message carries.
pub const MAX_MSCC: usize = 30;

/// A CCR as the bench messages carry it, in wire order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ccr<'a> {
    pub header: HeaderRepr,
    pub session_id: &'a str,
    pub origin_host: &'a str,
    pub origin_realm: &'a str,
    pub destination_realm: &'a str,
    pub auth_application_id: u32,
    pub service_context_id: &'a str,
    pub cc_request_type: CcRequestType,
    pub cc_request_number: u32,
    pub event_timestamp: Timestamp,
    pub subscription_id: (SubscriptionIdType, &'a str),
    /// Requested-Service-Unit { CC-Time } at the top level.
    pub rsu_cc_time: Option<u32>,
    pub multiple_services_indicator: Option<MultipleServicesIndicator>,
    pub mscc: heapless::Vec<Mscc, MAX_MSCC>,
    pub service_information: ImsInfo<'a>,
}

/// A CCA as the bench message carries it, in wire order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cca<'a> {
    pub header: HeaderRepr,
    pub session_id: &'a str,
    pub result_code: u32,
    pub origin_host: &'a str,
    pub origin_realm: &'a str,
    pub auth_application_id: u32,
    pub cc_request_type: CcRequestType,
    pub cc_request_number: u32,
    pub gsu_cc_time: Option<u32>,
    pub mscc: heapless::Vec<Mscc, MAX_MSCC>,
}

/// An ACR as the bench message carries it, in wire order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acr<'a> {
    pub header: HeaderRepr,
    pub session_id: &'a str,
    pub origin_host: &'a str,
    pub origin_realm: &'a str,
    pub destination_realm: &'a str,
    pub accounting_record_type: base::AccountingRecordType,
    pub accounting_record_number: u32,
    pub acct_application_id: u32,
    pub user_name: &'a str,
    pub acct_interim_interval: u32,
    pub origin_state_id: u32,
    pub event_timestamp: Timestamp,
}

fn hdr(flags: u8, code: u32, app: u32, hbh: u32, e2e: u32) -> HeaderRepr {
    HeaderRepr {
        flags: CommandFlags(flags),
        command_code: CommandCode(code),
        application_id: ApplicationId(app),
        hop_by_hop: hbh,
        end_to_end: e2e,
    }
}

fn ims_expected() -> ImsInfo<'static> {
    ImsInfo {
        role_of_node: RoleOfNode::Originating,
        node_functionality: NodeFunctionality::As,
        calling: "sip:1001@cgrates.org",
        called: "sip:1002@cgrates.org",
    }
}

/// ccr-i as documented in `shared/bench-msgs/README.md`.
pub fn expected_ccr_i() -> Ccr<'static> {
    Ccr {
        header: hdr(0xc0, 272, 4, 0x5AE5_A001, 0x1C0D_E001),
        session_id: SESSION_ID,
        origin_host: "client.cgrates.org",
        origin_realm: "cgrates.org",
        destination_realm: "cgrates.org",
        auth_application_id: 4,
        service_context_id: "voice@cgrates.org",
        cc_request_type: CcRequestType::Initial,
        cc_request_number: 0,
        event_timestamp: EVENT_TS,
        subscription_id: (SubscriptionIdType::EndUserE164, "1001"),
        rsu_cc_time: Some(300),
        multiple_services_indicator: None,
        mscc: heapless::Vec::new(),
        service_information: ims_expected(),
    }
}

/// ccr-u-large as documented: 30 MSCC with i-dependent values.
pub fn expected_ccr_u_large() -> Ccr<'static> {
    let mut mscc = heapless::Vec::new();
    for i in 0..30u32 {
        let m = Mscc {
            rsu_cc_time: Some(300),
            usu: Some(Usu {
                cc_time: 60 + i,
                total: 1_000_000 + u64::from(i),
                input: 400_000 + u64::from(i),
                output: 600_000 + u64::from(i),
            }),
            service_identifier: Some(1000 + i),
            rating_group: Some(100 + i),
            ..Mscc::default()
        };
        mscc.push(m).expect("30 MSCC fit");
    }
    Ccr {
        header: hdr(0xc0, 272, 4, 0x5AE5_A003, 0x1C0D_E003),
        cc_request_type: CcRequestType::Update,
        cc_request_number: 1,
        rsu_cc_time: None,
        multiple_services_indicator: Some(MultipleServicesIndicator::Supported),
        mscc,
        ..expected_ccr_i()
    }
}

/// cca-i as documented.
pub fn expected_cca_i() -> Cca<'static> {
    let mut mscc = heapless::Vec::new();
    mscc.push(Mscc {
        gsu_cc_time: Some(300),
        rating_group: Some(1),
        validity_time: Some(3600),
        result_code: Some(2001),
        ..Mscc::default()
    })
    .expect("fits");
    Cca {
        header: hdr(0x40, 272, 4, 0x5AE5_A001, 0x1C0D_E001),
        session_id: SESSION_ID,
        result_code: 2001,
        origin_host: "ocs.cgrates.org",
        origin_realm: "cgrates.org",
        auth_application_id: 4,
        cc_request_type: CcRequestType::Initial,
        cc_request_number: 0,
        gsu_cc_time: Some(300),
        mscc,
    }
}

/// acr-start as documented.
pub fn expected_acr_start() -> Acr<'static> {
    Acr {
        header: hdr(0xc0, 271, 3, 0x5AE5_A002, 0x1C0D_E002),
        session_id: SESSION_ID,
        origin_host: "client.cgrates.org",
        origin_realm: "cgrates.org",
        destination_realm: "cgrates.org",
        accounting_record_type: base::AccountingRecordType::StartRecord,
        accounting_record_number: 0,
        acct_application_id: 3,
        user_name: "1001@cgrates.org",
        acct_interim_interval: 300,
        origin_state_id: 1_704_067_200,
        event_timestamp: EVENT_TS,
    }
}

// --- decoding: every leaf through typed get / get_all ----------------------

fn u32_of(set: &AvpSet<'_>, def: &AvpDef<Unsigned32>) -> Result<u32, Error> {
    set.require(def)
}

fn opt_u32(set: &AvpSet<'_>, def: &AvpDef<Unsigned32>) -> Result<Option<u32>, Error> {
    set.get(def)
}

fn decode_usu(set: AvpSet<'_>) -> Result<Usu, Error> {
    Ok(Usu {
        cc_time: set.require(&CC_TIME)?,
        total: set.require(&CC_TOTAL_OCTETS)?,
        input: set.require(&CC_INPUT_OCTETS)?,
        output: set.require(&CC_OUTPUT_OCTETS)?,
    })
}

fn decode_mscc(set: AvpSet<'_>) -> Result<Mscc, Error> {
    let unit_time = |def: &AvpDef<Grouped>| -> Result<Option<u32>, Error> {
        match set.get(def)? {
            Some(g) => Ok(Some(g.require(&CC_TIME)?)),
            None => Ok(None),
        }
    };
    Ok(Mscc {
        gsu_cc_time: unit_time(&GRANTED_SERVICE_UNIT)?,
        rsu_cc_time: unit_time(&REQUESTED_SERVICE_UNIT)?,
        usu: match set.get(&USED_SERVICE_UNIT)? {
            Some(g) => Some(decode_usu(g)?),
            None => None,
        },
        service_identifier: opt_u32(&set, &SERVICE_IDENTIFIER)?,
        rating_group: opt_u32(&set, &RATING_GROUP)?,
        validity_time: opt_u32(&set, &VALIDITY_TIME)?,
        result_code: opt_u32(&set, &base::RESULT_CODE)?,
    })
}

fn decode_all_mscc(set: &AvpSet<'_>, out: &mut heapless::Vec<Mscc, MAX_MSCC>) -> Result<(), Error> {
    for g in set.get_all(&MULTIPLE_SERVICES_CREDIT_CONTROL) {
        let m = decode_mscc(g?)?;
        out.push(m).expect("at most MAX_MSCC MSCC");
    }
    Ok(())
}

fn decode_ims<'a>(set: &AvpSet<'a>) -> Result<ImsInfo<'a>, Error> {
    let si = set.require(&SERVICE_INFORMATION)?;
    let ims = si.require(&IMS_INFORMATION)?;
    Ok(ImsInfo {
        role_of_node: ims.require(&ROLE_OF_NODE)?,
        node_functionality: ims.require(&NODE_FUNCTIONALITY)?,
        calling: ims.require(&CALLING_PARTY_ADDRESS)?,
        called: ims.require(&CALLED_PARTY_ADDRESS)?,
    })
}

/// Read every leaf of a bench CCR.
pub fn decode_ccr<'a>(m: &Message<'a>) -> Result<Ccr<'a>, Error> {
    let set = m.avps();
    let sub = set.require(&SUBSCRIPTION_ID)?;
    let mut mscc = heapless::Vec::new();
    decode_all_mscc(&set, &mut mscc)?;
    Ok(Ccr {
        header: m.header(),
        session_id: set.require(&base::SESSION_ID)?,
        origin_host: set.require(&base::ORIGIN_HOST)?,
        origin_realm: set.require(&base::ORIGIN_REALM)?,
        destination_realm: set.require(&base::DESTINATION_REALM)?,
        auth_application_id: u32_of(&set, &base::AUTH_APPLICATION_ID)?,
        service_context_id: set.require(&SERVICE_CONTEXT_ID)?,
        cc_request_type: set.require(&CC_REQUEST_TYPE)?,
        cc_request_number: u32_of(&set, &CC_REQUEST_NUMBER)?,
        event_timestamp: set.require(&base::EVENT_TIMESTAMP)?,
        subscription_id: (
            sub.require(&SUBSCRIPTION_ID_TYPE)?,
            sub.require(&SUBSCRIPTION_ID_DATA)?,
        ),
        rsu_cc_time: match set.get(&REQUESTED_SERVICE_UNIT)? {
            Some(g) => Some(g.require(&CC_TIME)?),
            None => None,
        },
        multiple_services_indicator: set.get(&MULTIPLE_SERVICES_INDICATOR)?,
        mscc,
        service_information: decode_ims(&set)?,
    })
}

/// Read every leaf of the bench CCA.
pub fn decode_cca<'a>(m: &Message<'a>) -> Result<Cca<'a>, Error> {
    let set = m.avps();
    let mut mscc = heapless::Vec::new();
    decode_all_mscc(&set, &mut mscc)?;
    Ok(Cca {
        header: m.header(),
        session_id: set.require(&base::SESSION_ID)?,
        result_code: u32_of(&set, &base::RESULT_CODE)?,
        origin_host: set.require(&base::ORIGIN_HOST)?,
        origin_realm: set.require(&base::ORIGIN_REALM)?,
        auth_application_id: u32_of(&set, &base::AUTH_APPLICATION_ID)?,
        cc_request_type: set.require(&CC_REQUEST_TYPE)?,
        cc_request_number: u32_of(&set, &CC_REQUEST_NUMBER)?,
        gsu_cc_time: match set.get(&GRANTED_SERVICE_UNIT)? {
            Some(g) => Some(g.require(&CC_TIME)?),
            None => None,
        },
        mscc,
    })
}

/// Read every leaf of the bench ACR.
pub fn decode_acr<'a>(m: &Message<'a>) -> Result<Acr<'a>, Error> {
    let set = m.avps();
    Ok(Acr {
        header: m.header(),
        session_id: set.require(&base::SESSION_ID)?,
        origin_host: set.require(&base::ORIGIN_HOST)?,
        origin_realm: set.require(&base::ORIGIN_REALM)?,
        destination_realm: set.require(&base::DESTINATION_REALM)?,
        accounting_record_type: set.require(&base::ACCOUNTING_RECORD_TYPE)?,
        accounting_record_number: u32_of(&set, &base::ACCOUNTING_RECORD_NUMBER)?,
        acct_application_id: u32_of(&set, &base::ACCT_APPLICATION_ID)?,
        user_name: set.require(&base::USER_NAME)?,
        acct_interim_interval: u32_of(&set, &base::ACCT_INTERIM_INTERVAL)?,
        origin_state_id: u32_of(&set, &base::ORIGIN_STATE_ID)?,
        event_timestamp: set.require(&base::EVENT_TIMESTAMP)?,
    })
}

// --- encoding from the values ----------------------------------------------

fn put_mscc(b: &mut MessageBuilder<'_>, m: &Mscc) {
    b.grouped(&MULTIPLE_SERVICES_CREDIT_CONTROL, |g| {
        if let Some(t) = m.gsu_cc_time {
            g.grouped(&GRANTED_SERVICE_UNIT, |u| {
                u.put(&CC_TIME, t);
            });
        }
        if let Some(t) = m.rsu_cc_time {
            g.grouped(&REQUESTED_SERVICE_UNIT, |u| {
                u.put(&CC_TIME, t);
            });
        }
        if let Some(usu) = m.usu {
            g.grouped(&USED_SERVICE_UNIT, |u| {
                u.put(&CC_TIME, usu.cc_time)
                    .put(&CC_TOTAL_OCTETS, usu.total)
                    .put(&CC_INPUT_OCTETS, usu.input)
                    .put(&CC_OUTPUT_OCTETS, usu.output);
            });
        }
        if let Some(v) = m.service_identifier {
            g.put(&SERVICE_IDENTIFIER, v);
        }
        if let Some(v) = m.rating_group {
            g.put(&RATING_GROUP, v);
        }
        if let Some(v) = m.validity_time {
            g.put(&VALIDITY_TIME, v);
        }
        if let Some(v) = m.result_code {
            g.put(&base::RESULT_CODE, v);
        }
    });
}

/// Put a bench CCR's AVPs in wire order.
pub fn put_ccr(b: &mut MessageBuilder<'_>, c: &Ccr<'_>) {
    b.put(&base::SESSION_ID, c.session_id)
        .put(&base::ORIGIN_HOST, c.origin_host)
        .put(&base::ORIGIN_REALM, c.origin_realm)
        .put(&base::DESTINATION_REALM, c.destination_realm)
        .put(&base::AUTH_APPLICATION_ID, c.auth_application_id)
        .put(&SERVICE_CONTEXT_ID, c.service_context_id)
        .put(&CC_REQUEST_TYPE, c.cc_request_type)
        .put(&CC_REQUEST_NUMBER, c.cc_request_number)
        .put(&base::EVENT_TIMESTAMP, c.event_timestamp)
        .grouped(&SUBSCRIPTION_ID, |g| {
            g.put(&SUBSCRIPTION_ID_TYPE, c.subscription_id.0)
                .put(&SUBSCRIPTION_ID_DATA, c.subscription_id.1);
        });
    if let Some(t) = c.rsu_cc_time {
        b.grouped(&REQUESTED_SERVICE_UNIT, |g| {
            g.put(&CC_TIME, t);
        });
    }
    if let Some(v) = c.multiple_services_indicator {
        b.put(&MULTIPLE_SERVICES_INDICATOR, v);
    }
    for m in &c.mscc {
        put_mscc(b, m);
    }
    let ims = c.service_information;
    b.grouped(&SERVICE_INFORMATION, |si| {
        si.grouped(&IMS_INFORMATION, |g| {
            g.put(&ROLE_OF_NODE, ims.role_of_node)
                .put(&NODE_FUNCTIONALITY, ims.node_functionality)
                .put(&CALLING_PARTY_ADDRESS, ims.calling)
                .put(&CALLED_PARTY_ADDRESS, ims.called);
        });
    });
}

/// Put the bench CCA's AVPs in wire order.
pub fn put_cca(b: &mut MessageBuilder<'_>, c: &Cca<'_>) {
    b.put(&base::SESSION_ID, c.session_id)
        .put(&base::RESULT_CODE, c.result_code)
        .put(&base::ORIGIN_HOST, c.origin_host)
        .put(&base::ORIGIN_REALM, c.origin_realm)
        .put(&base::AUTH_APPLICATION_ID, c.auth_application_id)
        .put(&CC_REQUEST_TYPE, c.cc_request_type)
        .put(&CC_REQUEST_NUMBER, c.cc_request_number);
    if let Some(t) = c.gsu_cc_time {
        b.grouped(&GRANTED_SERVICE_UNIT, |g| {
            g.put(&CC_TIME, t);
        });
    }
    for m in &c.mscc {
        put_mscc(b, m);
    }
}

/// Put the bench ACR's AVPs in wire order.
pub fn put_acr(b: &mut MessageBuilder<'_>, a: &Acr<'_>) {
    b.put(&base::SESSION_ID, a.session_id)
        .put(&base::ORIGIN_HOST, a.origin_host)
        .put(&base::ORIGIN_REALM, a.origin_realm)
        .put(&base::DESTINATION_REALM, a.destination_realm)
        .put(&base::ACCOUNTING_RECORD_TYPE, a.accounting_record_type)
        .put(&base::ACCOUNTING_RECORD_NUMBER, a.accounting_record_number)
        .put(&base::ACCT_APPLICATION_ID, a.acct_application_id)
        .put(&base::USER_NAME, a.user_name)
        .put(&base::ACCT_INTERIM_INTERVAL, a.acct_interim_interval)
        .put(&base::ORIGIN_STATE_ID, a.origin_state_id)
        .put(&base::EVENT_TIMESTAMP, a.event_timestamp);
}

/// Encode a CCR into `buf`.
pub fn encode_ccr<'b>(buf: &'b mut [u8], c: &Ccr<'_>) -> Result<&'b [u8], EncodeError> {
    let mut b = MessageBuilder::new(buf, c.header);
    put_ccr(&mut b, c);
    b.finish()
}

/// Encode a CCA into `buf`.
pub fn encode_cca<'b>(buf: &'b mut [u8], c: &Cca<'_>) -> Result<&'b [u8], EncodeError> {
    let mut b = MessageBuilder::new(buf, c.header);
    put_cca(&mut b, c);
    b.finish()
}

/// Encode an ACR into `buf`.
pub fn encode_acr<'b>(buf: &'b mut [u8], a: &Acr<'_>) -> Result<&'b [u8], EncodeError> {
    let mut b = MessageBuilder::new(buf, a.header);
    put_acr(&mut b, a);
    b.finish()
}

/// One bench message in value form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bench<'a> {
    Ccr(Ccr<'a>),
    Cca(Cca<'a>),
    Acr(Acr<'a>),
}

/// The documented values of bench message `name`.
pub fn expected(name: &str) -> Bench<'static> {
    match name {
        "ccr-i" => Bench::Ccr(expected_ccr_i()),
        "cca-i" => Bench::Cca(expected_cca_i()),
        "acr-start" => Bench::Acr(expected_acr_start()),
        "ccr-u-large" => Bench::Ccr(expected_ccr_u_large()),
        other => panic!("no bench message {other}"),
    }
}

/// Decode `m` in the shape of bench message `kind` (the same shape as `like`).
pub fn decode_like<'a>(like: &Bench<'_>, m: &Message<'a>) -> Result<Bench<'a>, Error> {
    Ok(match like {
        Bench::Ccr(_) => Bench::Ccr(decode_ccr(m)?),
        Bench::Cca(_) => Bench::Cca(decode_cca(m)?),
        Bench::Acr(_) => Bench::Acr(decode_acr(m)?),
    })
}

/// Encode a bench message from its values.
pub fn encode<'b>(buf: &'b mut [u8], v: &Bench<'_>) -> Result<&'b [u8], EncodeError> {
    match v {
        Bench::Ccr(c) => encode_ccr(buf, c),
        Bench::Cca(c) => encode_cca(buf, c),
        Bench::Acr(a) => encode_acr(buf, a),
    }
}

/// Put a bench message's AVPs (for `encode_into_vec`).
pub fn put(b: &mut MessageBuilder<'_>, v: &Bench<'_>) {
    match v {
        Bench::Ccr(c) => put_ccr(b, c),
        Bench::Cca(c) => put_cca(b, c),
        Bench::Acr(a) => put_acr(b, a),
    }
}

/// The header of a bench message.
pub fn header_of(v: &Bench<'_>) -> HeaderRepr {
    match v {
        Bench::Ccr(c) => c.header,
        Bench::Cca(c) => c.header,
        Bench::Acr(a) => a.header,
    }
}

/// Documented (bytes, top-level AVPs, AVPs in total) of each bench message.
pub fn documented_sizes(name: &str) -> (usize, usize, usize) {
    match name {
        "ccr-i" => (392, 12, 20),
        "cca-i" => (252, 9, 15),
        "acr-start" => (240, 11, 11),
        "ccr-u-large" => (3984, 42, 319),
        other => panic!("no bench message {other}"),
    }
}
