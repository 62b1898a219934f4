//! Shared pieces of the codec benchmark (`benches/codec.rs`); results and the
//! exact commands are in `BENCHMARKS.md` at the workspace root.
//!
//! - [`load`]: the four messages of `../shared/bench-msgs/`.
//! - [`BenchDict`]: `diameter_cc::CreditControl`, the dictionary a user of
//!   the stack has (RFC 8506 + TS 32.299 Ro + SIP accounting + RFC 6733 base).
//! - [`bare_walk`]: the "bare AVP-header walk" baseline.
//! - [`full_decode`]: `Message::new_checked`, then one pass over every AVP
//!   with `AvpSet::walk` (headers checked, Grouped AVPs descended into in
//!   the same loop, every leaf decoded by its dictionary type).
//! - [`eager_decode`]: `Message::parse_with` (all headers checked first),
//!   then the same visit.
//! - [`encode`]: each message built from [`Values`] with `MessageBuilder`.

use std::path::PathBuf;

use diameter_core::dict::base;
use diameter_core::message::decode_avp;
use diameter_core::types::{
    Address, DataType, DiameterIdentity, DiameterUri, Enumerated, Enumeration, Float32, Float64,
    Integer32, Integer64, IpFilterRule, OctetString, Time, Unsigned32, Unsigned64, Utf8String,
};
use diameter_core::walk::WALK_DEPTH;
use diameter_core::{
    ApplicationId, AvpFlags, AvpSet, CommandCode, CommandFlags, Dictionary, EncodeError, Error,
    ErrorKind, HeaderRepr, Message, MessageBuilder, Timestamp,
};

// ---------------------------------------------------------------------------
// Inputs

/// The benchmark messages, by file stem in `shared/bench-msgs/`.
pub const MESSAGES: [&str; 4] = ["ccr-i", "cca-i", "acr-start", "ccr-u-large"];

/// The folder holding the `.hex` messages: `<workspace>/../shared/bench-msgs`.
pub fn msgs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench-msgs")
}

/// Read `<name>.hex` (one line of hex) as bytes. Panics with a message that
/// says where the file was expected when it is missing or not hex.
pub fn load(name: &str) -> Vec<u8> {
    let path = msgs_dir().join(format!("{name}.hex"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read benchmark message {}: {e}\n\
             the `shared/` folder (with bench-msgs/) must sit beside the workspace root",
            path.display()
        )
    });
    hex(text.trim()).unwrap_or_else(|| panic!("{} is not one line of hex", path.display()))
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if s.len() & 1 != 0 {
        return None;
    }
    s.as_bytes()
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect()
}

// ---------------------------------------------------------------------------
// Dictionary: the real one of `diameter-cc` (RFC 8506, TS 32.299, base)

/// The dictionary every row of ours uses: [`diameter_cc::CreditControl`].
pub use diameter_cc::CreditControl as BenchDict;

pub mod compiled;
/// 3GPP Vendor-Id.
pub const TGPP: u32 = diameter_cc::dict::tgpp::VENDOR_3GPP;
pub use diameter_cc::dict::tgpp::{
    CALLED_PARTY_ADDRESS, CALLING_PARTY_ADDRESS, IMS_INFORMATION, NODE_FUNCTIONALITY, ROLE_OF_NODE,
    SERVICE_INFORMATION,
};
pub use diameter_cc::dict::{
    CC_INPUT_OCTETS, CC_OUTPUT_OCTETS, CC_REQUEST_NUMBER, CC_REQUEST_TYPE, CC_TIME,
    CC_TOTAL_OCTETS, GRANTED_SERVICE_UNIT, MULTIPLE_SERVICES_CREDIT_CONTROL,
    MULTIPLE_SERVICES_INDICATOR, RATING_GROUP, REQUESTED_SERVICE_UNIT, SERVICE_CONTEXT_ID,
    SERVICE_IDENTIFIER, SUBSCRIPTION_ID, SUBSCRIPTION_ID_DATA, SUBSCRIPTION_ID_TYPE,
    USED_SERVICE_UNIT, VALIDITY_TIME,
};

// ---------------------------------------------------------------------------
// Decoding

/// Codes of the Grouped AVPs in the benchmark messages (for [`bare_walk`]).
pub const GROUPED_CODES: [u32; 7] = [443, 437, 431, 446, 456, 873, 876];

/// The "bare AVP-header walk": from byte 20, read each 8- or 12-byte AVP
/// header, descend into the Grouped codes of [`GROUPED_CODES`], skip by the
/// padded length. Only bounds are checked. Returns the sum of the codes.
#[inline]
pub fn bare_walk(msg: &[u8]) -> u32 {
    let mut sum = 0u32;
    walk(msg.get(20..).unwrap_or(&[]), &mut sum);
    sum
}

fn walk(b: &[u8], sum: &mut u32) {
    let mut pos = 0usize;
    while b.len() - pos >= 8 {
        let code = u32::from_be_bytes([b[pos], b[pos + 1], b[pos + 2], b[pos + 3]]);
        let word = u32::from_be_bytes([b[pos + 4], b[pos + 5], b[pos + 6], b[pos + 7]]);
        let len = (word & 0x00ff_ffff) as usize;
        let hdr = if word & 0x8000_0000 != 0 { 12 } else { 8 };
        if len < hdr || len > b.len() - pos {
            return;
        }
        *sum = sum.wrapping_add(code);
        if matches!(code, 443 | 437 | 431 | 446 | 456 | 873 | 876) {
            walk(&b[pos + hdr..pos + len], sum);
        }
        pos += (len + 3) & !3;
        if pos > b.len() {
            return;
        }
    }
}

/// The tightest header walk, the floor of every decode row: one
/// bounds-checked 8-byte read per AVP header (code, flags, length), the
/// Vendor-Id skipped by the V bit, Grouped codes of [`GROUPED_CODES`]
/// descended into, nothing else checked. Returns the sum of the codes.
#[inline]
pub fn tight_walk(msg: &[u8]) -> u32 {
    let mut sum = 0u32;
    tight(msg.get(20..).unwrap_or(&[]), &mut sum);
    sum
}

fn tight(b: &[u8], sum: &mut u32) {
    let mut pos = 0usize;
    while let Some(h) = b.get(pos..pos + 8) {
        let h: [u8; 8] = h.try_into().unwrap_or([0; 8]);
        let code = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        let len = u32::from_be_bytes([0, h[5], h[6], h[7]]) as usize;
        *sum = sum.wrapping_add(code);
        if GROUPED_CODES.contains(&code) {
            let hdr = if h[4] & 0x80 != 0 { 12 } else { 8 };
            if let Some(inner) = b.get(pos + hdr..pos + len) {
                tight(inner, sum);
            }
        }
        pos += (len + 3) & !3;
        if len < 8 {
            return;
        }
    }
}

/// `Message::parse_with(bytes, &BenchDict)` and nothing else.
#[inline]
pub fn parse_only(bytes: &[u8]) -> Result<Message<'_>, Error> {
    Message::parse_with(bytes, &BenchDict)
}

/// `Message::parse_with` then `Message::validate` against [`BenchDict`]
/// (grammar of CCR/CCA/ACR, flag rules, every known value checked).
#[inline]
pub fn parse_validate(bytes: &[u8]) -> Result<Message<'_>, Error> {
    let m = Message::parse_with(bytes, &BenchDict)?;
    m.validate(&BenchDict)?;
    Ok(m)
}

/// The receive path of the peer machine: [`Message::new_checked`] (the
/// header) then [`Message::validated`], one walk that checks every AVP
/// header, the command's grammar, flag rules and every known value,
/// recursively, and marks the message validated for the typed views.
#[inline]
pub fn check_validate(bytes: &[u8]) -> Result<Message<'_>, Error> {
    Message::new_checked(bytes)?.validated(&BenchDict)
}

/// The first message of a stream as a server's peer machine takes it:
/// framed ([`diameter_core::Framer`]) and its header checked
/// ([`Message::new_checked`]); a partial frame is an error here.
#[inline(always)]
pub fn framed(stream: &[u8]) -> Result<Message<'_>, Error> {
    let len = match diameter_core::Framer::default().check(stream)? {
        diameter_core::Frame::Complete(len) => len,
        diameter_core::Frame::Partial { .. } => {
            return Err(Error::new(ErrorKind::InvalidMessageLength))
        }
    };
    Message::new_checked(stream.get(..len).unwrap_or_default())
}

/// The server's receive path of a CCR up to the point where rating can
/// start: the stream framer finds the message ([`diameter_core::Framer`]),
/// the header is checked ([`Message::new_checked`], what the peer machine
/// does on receipt of a CCR for an endpoint's charging server since
/// 2026-12-04), and [`diameter_cc::msg::Ccr::decode`] validates every AVP
/// (headers, grammar, flag rules, values) and reads the fields a rater
/// needs in the same walk; they are folded into a checksum. Until then the
/// peer validated first and the typed view walked again. The peer's own
/// bookkeeping (state, watchdog, duplicate window) is not in this row: the
/// session bench's `endpoints` row has it.
#[inline]
pub fn server_ccr(stream: &[u8]) -> Result<u64, Error> {
    let msg = framed(stream)?;
    let ccr = diameter_cc::msg::Ccr::decode(&msg)?;
    let mut acc = Acc::default();
    acc.add(ccr.session_id.len() as u64);
    acc.add(diameter_core::types::Enumeration::to_i32(ccr.cc_request_type) as u64);
    acc.add(u64::from(ccr.cc_request_number));
    acc.add(ccr.service_context_id.len() as u64);
    if let Some(s) = ccr.subscription_id {
        acc.add(s.data.len() as u64);
    }
    if let Some(u) = ccr.requested_service_unit {
        acc.add(u.cc_time.map_or(0, u64::from));
    }
    for u in ccr.used_service_units() {
        acc.add(u?.cc_time.map_or(0, u64::from));
    }
    Ok(acc.sum)
}

/// The accounting server's receive path of an ACR up to the point where
/// the record can be stored, as [`server_ccr`] for a CCR: the framer, the
/// header check, and [`diameter_cc::msg::Acr::decode`] validating and
/// reading in one walk (what the endpoint's accounting server does), the
/// fields a record store keys on folded into a checksum.
#[inline]
pub fn server_acr(stream: &[u8]) -> Result<u64, Error> {
    let msg = framed(stream)?;
    let acr = diameter_cc::msg::Acr::decode(&msg)?;
    let mut acc = Acc::default();
    acc.add(acr.session_id.len() as u64);
    acc.add(diameter_core::types::Enumeration::to_i32(acr.accounting_record_type) as u64);
    acc.add(u64::from(acr.accounting_record_number));
    acc.add(acr.user_name.map_or(0, |u| u.len() as u64));
    acc.add(acr.acct_interim_interval.map_or(0, u64::from));
    Ok(acc.sum)
}

/// The full decode we advertise, in one pass: [`Message::new_checked`]
/// checks the header, then every AVP is visited depth first with
/// [`AvpSet::walk`] (which checks each AVP header: length, vendor, padding,
/// and bounds the nesting depth), with `parse_with`'s reserved-bit check,
/// Grouped AVPs descended into in the same loop (until 2026-12-03 the visit
/// recursed, one call per Grouped AVP) and every leaf decoded by its dictionary [`DataType`] (unknown AVPs as
/// OctetString: strings are UTF-8 validated, DiameterIdentity checked). The
/// values are folded into a checksum, returned with the AVP count.
#[inline]
pub fn full_decode(bytes: &[u8]) -> Result<(u32, u64), Error> {
    let m = Message::new_checked(bytes)?;
    let mut acc = Acc {
        n: 0,
        sum: u64::from(m.hop_by_hop()) ^ u64::from(m.command_code().0),
    };
    visit::<_, true>(m.avps(), &BenchDict, &mut acc)?;
    Ok((acc.n, acc.sum))
}

/// The eager variant: `Message::parse_with` (every AVP header checked up
/// front, recursively) and then the same visit as [`full_decode`]: two
/// walks over the message.
#[inline]
pub fn eager_decode(bytes: &[u8]) -> Result<(u32, u64), Error> {
    let m = Message::parse_with(bytes, &BenchDict)?;
    let mut acc = Acc {
        n: 0,
        sum: u64::from(m.hop_by_hop()) ^ u64::from(m.command_code().0),
    };
    visit::<_, false>(m.avps(), &BenchDict, &mut acc)?;
    Ok((acc.n, acc.sum))
}

/// AVPs seen and a checksum of every value read: a wrapping sum, as
/// [`tight_walk`] sums the codes (every value feeds it, so no decode can be
/// left out; until 2026-12-03 it was a multiply-add, two instructions more
/// per value than the floor's fold).
#[derive(Default)]
struct Acc {
    n: u32,
    sum: u64,
}

impl Acc {
    #[inline(always)]
    fn add(&mut self, v: u64) {
        self.sum = self.sum.wrapping_add(v);
    }
}

/// Visit every AVP of `set` depth first with [`AvpSet::walk`] (one loop,
/// Grouped AVPs known to `dict` descended into, nesting bounded by
/// [`WALK_DEPTH`]); with `CHECK`, also apply `parse_with`'s reserved-bit
/// check.
fn visit<D: Dictionary, const CHECK: bool>(
    set: AvpSet<'_>,
    dict: &D,
    acc: &mut Acc,
) -> Result<(), Error> {
    set.walk(dict, WALK_DEPTH, |w| {
        let avp = w.avp;
        if CHECK && avp.flags().0 & AvpFlags::RESERVED.0 != 0 {
            return Err(avp.error(ErrorKind::InvalidAvpBits));
        }
        acc.n += 1;
        acc.add(u64::from(avp.code()));
        let dt = w.info.map_or(DataType::OctetString, |i| i.data_type);
        match dt {
            // Its content comes next from the walk.
            DataType::Grouped => {}
            DataType::OctetString => acc.add(decode_avp::<OctetString>(&avp)?.len() as u64),
            DataType::Integer32 => acc.add(decode_avp::<Integer32>(&avp)? as u64),
            DataType::Integer64 => acc.add(decode_avp::<Integer64>(&avp)? as u64),
            DataType::Unsigned32 => acc.add(u64::from(decode_avp::<Unsigned32>(&avp)?)),
            DataType::Unsigned64 => acc.add(decode_avp::<Unsigned64>(&avp)?),
            DataType::Float32 => acc.add(u64::from(decode_avp::<Float32>(&avp)?.to_bits())),
            DataType::Float64 => acc.add(decode_avp::<Float64>(&avp)?.to_bits()),
            DataType::Address => acc.add(u64::from(decode_avp::<Address>(&avp)?.family())),
            DataType::Time => acc.add(u64::from(decode_avp::<Time>(&avp)?.ntp())),
            DataType::Utf8String => acc.add(decode_avp::<Utf8String>(&avp)?.len() as u64),
            DataType::DiameterIdentity => {
                acc.add(decode_avp::<DiameterIdentity>(&avp)?.len() as u64)
            }
            DataType::DiameterUri => acc.add(u64::from(decode_avp::<DiameterUri>(&avp)?.port())),
            DataType::Enumerated => acc.add(decode_avp::<Enumerated<i32>>(&avp)? as u64),
            DataType::IpFilterRule => acc.add(decode_avp::<IpFilterRule>(&avp)?.len() as u64),
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------
// Encoding: the values of each message (shared with the `diameter` crate
// encoder in the bench binary) and our encoder.

/// Event-Timestamp of every message: 2024-01-01T00:00:00Z.
pub const EVENT_NTP: u32 = 3_913_056_000;
/// Session-Id of every message.
pub const SESSION: &str = "client.cgrates.org;1704067200;1;sip-call-0001";

/// Used-Service-Unit contents.
#[derive(Debug, Clone, Copy)]
pub struct UsedUnits {
    /// CC-Time.
    pub cc_time: u32,
    /// CC-Total-Octets.
    pub total: u64,
    /// CC-Input-Octets.
    pub input: u64,
    /// CC-Output-Octets.
    pub output: u64,
}

/// One Multiple-Services-Credit-Control of a CCR-Update.
#[derive(Debug, Clone, Copy)]
pub struct MsccReq {
    /// Requested-Service-Unit { CC-Time }.
    pub requested_cc_time: u32,
    /// Used-Service-Unit.
    pub used: UsedUnits,
    /// Service-Identifier.
    pub service_identifier: u32,
    /// Rating-Group.
    pub rating_group: u32,
}

/// Service-Information { IMS-Information { ... } }.
#[derive(Debug, Clone, Copy)]
pub struct Ims<'a> {
    /// Role-Of-Node.
    pub role_of_node: i32,
    /// Node-Functionality.
    pub node_functionality: i32,
    /// Calling-Party-Address.
    pub calling: &'a str,
    /// Called-Party-Address.
    pub called: &'a str,
}

/// A CCR (both ccr-i and ccr-u-large).
#[derive(Debug, Clone)]
pub struct Ccr<'a> {
    /// Hop-by-Hop Identifier.
    pub hbh: u32,
    /// End-to-End Identifier.
    pub e2e: u32,
    /// Session-Id.
    pub session_id: &'a str,
    /// Origin-Host.
    pub origin_host: &'a str,
    /// Origin-Realm.
    pub origin_realm: &'a str,
    /// Destination-Realm.
    pub destination_realm: &'a str,
    /// Auth-Application-Id.
    pub auth_application_id: u32,
    /// Service-Context-Id.
    pub service_context_id: &'a str,
    /// CC-Request-Type.
    pub cc_request_type: i32,
    /// CC-Request-Number.
    pub cc_request_number: u32,
    /// Event-Timestamp (NTP seconds).
    pub event_timestamp: u32,
    /// Subscription-Id { Subscription-Id-Type, Subscription-Id-Data }.
    pub subscription_id: (i32, &'a str),
    /// Requested-Service-Unit { CC-Time }.
    pub requested_cc_time: Option<u32>,
    /// Multiple-Services-Indicator.
    pub multiple_services_indicator: Option<i32>,
    /// Multiple-Services-Credit-Control, in order.
    pub mscc: Vec<MsccReq>,
    /// Service-Information.
    pub ims: Ims<'a>,
}

/// The MSCC of the CCA.
#[derive(Debug, Clone, Copy)]
pub struct MsccAns {
    /// Granted-Service-Unit { CC-Time }.
    pub granted_cc_time: u32,
    /// Rating-Group.
    pub rating_group: u32,
    /// Validity-Time.
    pub validity_time: u32,
    /// Result-Code.
    pub result_code: u32,
}

/// A CCA (cca-i).
#[derive(Debug, Clone)]
pub struct Cca<'a> {
    /// Hop-by-Hop Identifier.
    pub hbh: u32,
    /// End-to-End Identifier.
    pub e2e: u32,
    /// Session-Id.
    pub session_id: &'a str,
    /// Result-Code.
    pub result_code: u32,
    /// Origin-Host.
    pub origin_host: &'a str,
    /// Origin-Realm.
    pub origin_realm: &'a str,
    /// Auth-Application-Id.
    pub auth_application_id: u32,
    /// CC-Request-Type.
    pub cc_request_type: i32,
    /// CC-Request-Number.
    pub cc_request_number: u32,
    /// Granted-Service-Unit { CC-Time }.
    pub granted_cc_time: u32,
    /// Multiple-Services-Credit-Control.
    pub mscc: MsccAns,
}

/// An ACR (acr-start).
#[derive(Debug, Clone)]
pub struct Acr<'a> {
    /// Hop-by-Hop Identifier.
    pub hbh: u32,
    /// End-to-End Identifier.
    pub e2e: u32,
    /// Session-Id.
    pub session_id: &'a str,
    /// Origin-Host.
    pub origin_host: &'a str,
    /// Origin-Realm.
    pub origin_realm: &'a str,
    /// Destination-Realm.
    pub destination_realm: &'a str,
    /// Accounting-Record-Type.
    pub record_type: i32,
    /// Accounting-Record-Number.
    pub record_number: u32,
    /// Acct-Application-Id.
    pub acct_application_id: u32,
    /// User-Name.
    pub user_name: &'a str,
    /// Acct-Interim-Interval.
    pub interim_interval: u32,
    /// Origin-State-Id.
    pub origin_state_id: u32,
    /// Event-Timestamp (NTP seconds).
    pub event_timestamp: u32,
}

/// The values of one benchmark message.
#[derive(Debug, Clone)]
pub enum Values {
    /// ccr-i, ccr-u-large.
    Ccr(Ccr<'static>),
    /// cca-i.
    Cca(Cca<'static>),
    /// acr-start.
    Acr(Acr<'static>),
}

const IMS: Ims<'static> = Ims {
    role_of_node: 0,
    node_functionality: 6,
    calling: "sip:1001@cgrates.org",
    called: "sip:1002@cgrates.org",
};

/// The values of message `name` as listed in `shared/bench-msgs/README.md`.
pub fn values(name: &str) -> Values {
    let ccr = |hbh, e2e, req_type, req_num| Ccr {
        hbh,
        e2e,
        session_id: SESSION,
        origin_host: "client.cgrates.org",
        origin_realm: "cgrates.org",
        destination_realm: "cgrates.org",
        auth_application_id: 4,
        service_context_id: "voice@cgrates.org",
        cc_request_type: req_type,
        cc_request_number: req_num,
        event_timestamp: EVENT_NTP,
        subscription_id: (0, "1001"),
        requested_cc_time: None,
        multiple_services_indicator: None,
        mscc: Vec::new(),
        ims: IMS,
    };
    match name {
        "ccr-i" => Values::Ccr(Ccr {
            requested_cc_time: Some(300),
            ..ccr(0x5AE5_A001, 0x1C0D_E001, 1, 0)
        }),
        "ccr-u-large" => Values::Ccr(Ccr {
            multiple_services_indicator: Some(1),
            mscc: (0..30u32)
                .map(|i| MsccReq {
                    requested_cc_time: 300,
                    used: UsedUnits {
                        cc_time: 60 + i,
                        total: 1_000_000 + u64::from(i),
                        input: 400_000 + u64::from(i),
                        output: 600_000 + u64::from(i),
                    },
                    service_identifier: 1000 + i,
                    rating_group: 100 + i,
                })
                .collect(),
            ..ccr(0x5AE5_A003, 0x1C0D_E003, 2, 1)
        }),
        "cca-i" => Values::Cca(Cca {
            hbh: 0x5AE5_A001,
            e2e: 0x1C0D_E001,
            session_id: SESSION,
            result_code: 2001,
            origin_host: "ocs.cgrates.org",
            origin_realm: "cgrates.org",
            auth_application_id: 4,
            cc_request_type: 1,
            cc_request_number: 0,
            granted_cc_time: 300,
            mscc: MsccAns {
                granted_cc_time: 300,
                rating_group: 1,
                validity_time: 3600,
                result_code: 2001,
            },
        }),
        "acr-start" => Values::Acr(Acr {
            hbh: 0x5AE5_A002,
            e2e: 0x1C0D_E002,
            session_id: SESSION,
            origin_host: "client.cgrates.org",
            origin_realm: "cgrates.org",
            destination_realm: "cgrates.org",
            record_type: 2,
            record_number: 0,
            acct_application_id: 3,
            user_name: "1001@cgrates.org",
            interim_interval: 300,
            origin_state_id: 1_704_067_200,
            event_timestamp: EVENT_NTP,
        }),
        other => panic!("unknown benchmark message {other}"),
    }
}

fn header(request: bool, code: CommandCode, app: ApplicationId, hbh: u32, e2e: u32) -> HeaderRepr {
    let mut flags = CommandFlags::PROXIABLE;
    if request {
        flags = CommandFlags(flags.0 | CommandFlags::REQUEST.0);
    }
    HeaderRepr {
        flags,
        command_code: code,
        application_id: app,
        hop_by_hop: hbh,
        end_to_end: e2e,
    }
}

/// Encode `v` with [`MessageBuilder`] into `buf`, typed `put`/`grouped` calls
/// only.
#[inline]
pub fn encode<'b>(v: &Values, buf: &'b mut [u8]) -> Result<&'b [u8], EncodeError> {
    match v {
        Values::Ccr(v) => encode_ccr(v, buf),
        Values::Cca(v) => encode_cca(v, buf),
        Values::Acr(v) => encode_acr(v, buf),
    }
}

fn encode_ccr<'b>(v: &Ccr<'_>, buf: &'b mut [u8]) -> Result<&'b [u8], EncodeError> {
    let hdr = header(
        true,
        CommandCode::CREDIT_CONTROL,
        ApplicationId::CREDIT_CONTROL,
        v.hbh,
        v.e2e,
    );
    let mut b = MessageBuilder::new(buf, hdr);
    b.put(&base::SESSION_ID, v.session_id)
        .put(&base::ORIGIN_HOST, v.origin_host)
        .put(&base::ORIGIN_REALM, v.origin_realm)
        .put(&base::DESTINATION_REALM, v.destination_realm)
        .put(&base::AUTH_APPLICATION_ID, v.auth_application_id)
        .put(&SERVICE_CONTEXT_ID, v.service_context_id)
        .put(&CC_REQUEST_TYPE, v.cc_request_type.into())
        .put(&CC_REQUEST_NUMBER, v.cc_request_number)
        .put(&base::EVENT_TIMESTAMP, Timestamp(v.event_timestamp))
        .grouped(&SUBSCRIPTION_ID, |g| {
            g.put(&SUBSCRIPTION_ID_TYPE, v.subscription_id.0.into())
                .put(&SUBSCRIPTION_ID_DATA, v.subscription_id.1);
        });
    if let Some(t) = v.requested_cc_time {
        b.grouped(&REQUESTED_SERVICE_UNIT, |g| {
            g.put(&CC_TIME, t);
        });
    }
    if let Some(m) = v.multiple_services_indicator {
        b.put(&MULTIPLE_SERVICES_INDICATOR, m.into());
    }
    for m in &v.mscc {
        b.grouped(&MULTIPLE_SERVICES_CREDIT_CONTROL, |g| {
            g.grouped(&REQUESTED_SERVICE_UNIT, |g| {
                g.put(&CC_TIME, m.requested_cc_time);
            })
            .grouped(&USED_SERVICE_UNIT, |g| {
                g.put(&CC_TIME, m.used.cc_time)
                    .put(&CC_TOTAL_OCTETS, m.used.total)
                    .put(&CC_INPUT_OCTETS, m.used.input)
                    .put(&CC_OUTPUT_OCTETS, m.used.output);
            })
            .put(&SERVICE_IDENTIFIER, m.service_identifier)
            .put(&RATING_GROUP, m.rating_group);
        });
    }
    b.grouped(&SERVICE_INFORMATION, |g| {
        g.grouped(&IMS_INFORMATION, |g| {
            g.put(&ROLE_OF_NODE, v.ims.role_of_node.into())
                .put(&NODE_FUNCTIONALITY, v.ims.node_functionality.into())
                .put(&CALLING_PARTY_ADDRESS, v.ims.calling)
                .put(&CALLED_PARTY_ADDRESS, v.ims.called);
        });
    });
    b.finish()
}

fn encode_cca<'b>(v: &Cca<'_>, buf: &'b mut [u8]) -> Result<&'b [u8], EncodeError> {
    let hdr = header(
        false,
        CommandCode::CREDIT_CONTROL,
        ApplicationId::CREDIT_CONTROL,
        v.hbh,
        v.e2e,
    );
    let mut b = MessageBuilder::new(buf, hdr);
    b.put(&base::SESSION_ID, v.session_id)
        .put(&base::RESULT_CODE, v.result_code)
        .put(&base::ORIGIN_HOST, v.origin_host)
        .put(&base::ORIGIN_REALM, v.origin_realm)
        .put(&base::AUTH_APPLICATION_ID, v.auth_application_id)
        .put(&CC_REQUEST_TYPE, v.cc_request_type.into())
        .put(&CC_REQUEST_NUMBER, v.cc_request_number)
        .grouped(&GRANTED_SERVICE_UNIT, |g| {
            g.put(&CC_TIME, v.granted_cc_time);
        })
        .grouped(&MULTIPLE_SERVICES_CREDIT_CONTROL, |g| {
            g.grouped(&GRANTED_SERVICE_UNIT, |g| {
                g.put(&CC_TIME, v.mscc.granted_cc_time);
            })
            .put(&RATING_GROUP, v.mscc.rating_group)
            .put(&VALIDITY_TIME, v.mscc.validity_time)
            .put(&base::RESULT_CODE, v.mscc.result_code);
        });
    b.finish()
}

fn encode_acr<'b>(v: &Acr<'_>, buf: &'b mut [u8]) -> Result<&'b [u8], EncodeError> {
    let hdr = header(
        true,
        CommandCode::ACCOUNTING,
        ApplicationId::BASE_ACCOUNTING,
        v.hbh,
        v.e2e,
    );
    let mut b = MessageBuilder::new(buf, hdr);
    b.put(&base::SESSION_ID, v.session_id)
        .put(&base::ORIGIN_HOST, v.origin_host)
        .put(&base::ORIGIN_REALM, v.origin_realm)
        .put(&base::DESTINATION_REALM, v.destination_realm)
        .put(
            &base::ACCOUNTING_RECORD_TYPE,
            Enumeration::from_i32(v.record_type),
        )
        .put(&base::ACCOUNTING_RECORD_NUMBER, v.record_number)
        .put(&base::ACCT_APPLICATION_ID, v.acct_application_id)
        .put(&base::USER_NAME, v.user_name)
        .put(&base::ACCT_INTERIM_INTERVAL, v.interim_interval)
        .put(&base::ORIGIN_STATE_ID, v.origin_state_id)
        .put(&base::EVENT_TIMESTAMP, Timestamp(v.event_timestamp));
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Total AVP counts from `shared/bench-msgs/README.md`.
    const TOTALS: [(&str, u32); 4] = [
        ("ccr-i", 20),
        ("cca-i", 15),
        ("acr-start", 11),
        ("ccr-u-large", 319),
    ];

    #[test]
    fn decode_visits_every_avp_and_validates() {
        for (name, total) in TOTALS {
            let bytes = load(name);
            assert_eq!(full_decode(&bytes).unwrap().0, total, "{name}");
            assert_eq!(
                eager_decode(&bytes).unwrap(),
                full_decode(&bytes).unwrap(),
                "{name}"
            );
            parse_validate(&bytes).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_ne!(bare_walk(&bytes), 0);
        }
    }

    /// The compiled ACR of the experiment reads what `Acr::decode` reads,
    /// and on every one-byte corruption of acr-start accepts exactly what
    /// the validating decoder accepts (their errors may differ: the
    /// experiment does not mirror the order of the checks).
    #[test]
    fn compiled_acr_agrees_with_the_codec() {
        let bytes = load("acr-start");
        fn fields(b: &[u8]) -> Option<compiled::AcrFields<'_>> {
            let m = Message::new_checked(b).ok()?;
            let a = diameter_cc::msg::Acr::decode(&m).ok()?;
            Some(compiled::AcrFields {
                session_id: a.session_id,
                record_type: Enumeration::to_i32(a.accounting_record_type),
                record_number: a.accounting_record_number,
                user_name: a.user_name,
                interim: a.acct_interim_interval,
            })
        }
        fn ours(b: &[u8]) -> Option<compiled::AcrFields<'_>> {
            compiled::decode(&Message::new_checked(b).ok()?).ok()
        }
        assert!(ours(&bytes).is_some());
        assert_eq!(ours(&bytes), fields(&bytes));
        assert_eq!(
            compiled::compiled_acr(&bytes).unwrap(),
            server_acr(&bytes).unwrap()
        );
        let mut differ = Vec::new();
        for i in 0..bytes.len() {
            for v in [0x00, 0x01, 0x40, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[i] ^= v;
                if ours(&b) != fields(&b) {
                    differ.push((i, v));
                }
            }
        }
        assert!(differ.is_empty(), "{differ:?}");
    }

    #[test]
    fn encode_matches_input_bytes() {
        let mut buf = vec![0u8; 8192];
        for name in MESSAGES {
            let bytes = load(name);
            let out = encode(&values(name), &mut buf).unwrap();
            assert_eq!(out, &bytes[..], "{name}");
        }
    }

    #[test]
    fn bare_walk_sums_codes() {
        // ACR: flat, 11 AVPs.
        let sum: u32 = [263, 264, 296, 283, 480, 485, 259, 1, 85, 278, 55]
            .iter()
            .sum();
        assert_eq!(bare_walk(&load("acr-start")), sum);
    }
}
