//! The JSON form of a message, both ways: [`message_to_json`] for
//! `diameter decode --json`, [`json_to_message`] for `diameter encode`.
//!
//! The form is exact: encoding the JSON of a message gives back the same
//! bytes (header flags and reserved bits, both identifiers, AVP flags
//! including reserved bits, Vendor-IDs, padding bytes, unknown AVPs and
//! anything malformed). A message:
//!
//! ```json
//! {"command": "Credit-Control-Request", "abbrev": "CCR", "code": 272, "flags": "RP",
//!  "application_id": 4, "application": "Diameter Credit Control",
//!  "hop_by_hop": "0x5ae5a001", "end_to_end": "0x1c0de001", "length": 392,
//!  "avps": [ ... ]}
//! ```
//!
//! An AVP: `code`, `flags` (letters `V`, `M`, `P`), `vendor` exactly when
//! the flags have `V`, and its data as one of:
//!
//! - `"value"`: the typed value, read with `"type"` (an RFC 6733 type name
//!   such as `"Unsigned32"`, `"Time"`, `"Address"`) or, without it, the
//!   dictionary's type. Numbers are JSON numbers, Time is RFC 3339 UTC
//!   text (or NTP seconds as a number), Address is IPv4/IPv6 text,
//!   Enumerated is the number or the value's name (`"INITIAL_REQUEST"`);
//! - `"avps"`: the AVPs of a Grouped AVP;
//! - `"hex"`: the raw data (OctetString, unknown AVPs, and any data whose
//!   typed form would not give back the same bytes).
//!
//! Optional: `"flags_reserved"` (the five reserved AVP flag bits, or the
//! four command ones, as a number) and `"padding"` (hex, only when the
//! padding bytes are not zero). `name`, `abbrev`, `command`,
//! `application`, `length`, `enum`, `text`, `result`, `error`,
//! `capture` and `offset` are for people and are ignored by the encoder.
//!
//! ```
//! use diameter_cli::json::{message_to_json, json_to_message};
//! let dict = diameter_cc::CreditControl;
//! let dwr = diameter_core::doc_example();
//! let j = message_to_json(&dwr, &dict).unwrap();
//! assert_eq!(j["abbrev"], "DWR");
//! assert_eq!(j["avps"][2]["name"], "Origin-State-Id");
//! assert_eq!(j["avps"][2]["value"], 7);
//! assert_eq!(json_to_message(&j, &dict).unwrap(), dwr.to_vec());
//! ```

use std::fmt;
use std::net::IpAddr;

use diameter_core::avp::padding;
use diameter_core::dict::{names, AvpInfo, Dictionary};
use diameter_core::header::HEADER_LEN;
use diameter_core::types::{AddressValue, DataType, Uri};
use diameter_core::value::Value;
use diameter_core::{Avp, AvpSet, Message, Timestamp};
use serde_json::{json, Map, Value as Json};

use crate::input::{hex, unhex};
use crate::tree::{avp_flags, command_flags, describe_error};

/// A JSON document that is not a message, with where in it (`avps[3].code`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// Where: a path such as `avps[2].avps[0].value`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for JsonError {}

fn err<T>(path: &str, message: impl Into<String>) -> Result<T, JsonError> {
    Err(JsonError {
        path: path.to_string(),
        message: message.into(),
    })
}

/// The data types by their RFC 6733 names.
const TYPES: [DataType; 15] = [
    DataType::OctetString,
    DataType::Integer32,
    DataType::Integer64,
    DataType::Unsigned32,
    DataType::Unsigned64,
    DataType::Float32,
    DataType::Float64,
    DataType::Grouped,
    DataType::Address,
    DataType::Time,
    DataType::Utf8String,
    DataType::DiameterIdentity,
    DataType::DiameterUri,
    DataType::Enumerated,
    DataType::IpFilterRule,
];

/// A data type from its RFC name (ASCII case-insensitive).
///
/// ```
/// use diameter_core::types::DataType;
/// assert_eq!(diameter_cli::json::data_type("utf8string"), Some(DataType::Utf8String));
/// ```
pub fn data_type(name: &str) -> Option<DataType> {
    TYPES
        .into_iter()
        .find(|t| t.name().eq_ignore_ascii_case(name))
}

/// The JSON form of one message (`bytes` is exactly one message with a
/// valid header; a header error is returned as the error). AVPs that do
/// not parse are kept as a trailing `{"error": ..., "raw": "hex"}` entry,
/// so even a malformed body round-trips.
pub fn message_to_json<D: Dictionary + ?Sized>(
    bytes: &[u8],
    dict: &D,
) -> Result<Json, diameter_core::Error> {
    let msg = Message::new_checked(bytes)?;
    let code = msg.command_code();
    let mut m = Map::new();
    match dict.command(code, msg.is_request()) {
        Some(def) => {
            m.insert("command".into(), def.name.into());
            m.insert("abbrev".into(), def.abbrev.into());
        }
        None => {
            if let Some(n) = names::command_name(code) {
                m.insert("command".into(), n.into());
            }
        }
    }
    m.insert("code".into(), code.0.into());
    let flags = msg.flags().bits();
    m.insert("flags".into(), command_flags(flags & 0xf0).into());
    if flags & 0x0f != 0 {
        m.insert("flags_reserved".into(), (flags & 0x0f).into());
    }
    let app = msg.application_id();
    m.insert("application_id".into(), app.0.into());
    if let Some(n) = names::application_name(app) {
        m.insert("application".into(), n.into());
    }
    m.insert(
        "hop_by_hop".into(),
        format!("0x{:08x}", msg.hop_by_hop()).into(),
    );
    m.insert(
        "end_to_end".into(),
        format!("0x{:08x}", msg.end_to_end()).into(),
    );
    m.insert("length".into(), bytes.len().into());
    let body = &bytes[HEADER_LEN..];
    let (avps, _) = set_to_json(msg.avps(), body, HEADER_LEN, dict);
    m.insert("avps".into(), Json::Array(avps));
    if let Err(e) = msg.validate(&dict) {
        m.insert("error".into(), error_json(&e));
    }
    Ok(Json::Object(m))
}

/// An error as JSON: Result-Code, its name, byte offset, text.
pub fn error_json(e: &diameter_core::Error) -> Json {
    let rc = e.result_code();
    let mut m = Map::new();
    m.insert("result_code".into(), rc.get().into());
    if let Some(n) = rc.rfc_name() {
        m.insert("result".into(), n.into());
    }
    if let Some(o) = e.offset() {
        m.insert("offset".into(), o.into());
    }
    if let Some(a) = e.avp() {
        m.insert("avp".into(), a.code.into());
        if a.vendor != 0 {
            m.insert("vendor".into(), a.vendor.into());
        }
    }
    m.insert("message".into(), describe_error(e).into());
    Json::Object(m)
}

/// The AVPs of `set`, whose bytes are `bytes` starting at `base` in the
/// message. Returns the entries and whether every byte was read as AVPs.
fn set_to_json<D: Dictionary + ?Sized>(
    set: AvpSet<'_>,
    bytes: &[u8],
    base: usize,
    dict: &D,
) -> (Vec<Json>, bool) {
    let mut out = Vec::new();
    let mut pos = 0usize;
    for avp in set.iter() {
        match avp {
            Ok(a) => {
                let start = a.offset() - base;
                let end = start + a.len();
                let pad_end = (start + a.len() + padding(a.len())).min(bytes.len());
                out.push(avp_to_json(&a, &bytes[end..pad_end], dict));
                pos = pad_end;
            }
            Err(e) => {
                let mut m = Map::new();
                m.insert("error".into(), error_json(&e));
                m.insert("raw".into(), hex(&bytes[pos..]).into());
                out.push(Json::Object(m));
                return (out, false);
            }
        }
    }
    (out, true)
}

fn avp_to_json<D: Dictionary + ?Sized>(a: &Avp<'_>, pad: &[u8], dict: &D) -> Json {
    let info = dict.avp(a.code(), a.vendor());
    let mut m = Map::new();
    if let Some(i) = info {
        m.insert("name".into(), i.name.into());
    }
    m.insert("code".into(), a.code().into());
    let bits = a.flags().bits();
    m.insert("flags".into(), avp_flags(bits & 0xe0).into());
    if bits & 0x1f != 0 {
        m.insert("flags_reserved".into(), (bits & 0x1f).into());
    }
    if a.flags().is_vendor() {
        m.insert("vendor".into(), a.vendor().into());
    }
    data_to_json(a, info, dict, &mut m);
    if pad.iter().any(|&b| b != 0) {
        m.insert("padding".into(), hex(pad).into());
    }
    Json::Object(m)
}

/// The data of `a`: typed when the typed form encodes back to the same
/// bytes, raw hex otherwise.
fn data_to_json<D: Dictionary + ?Sized>(
    a: &Avp<'_>,
    info: Option<&AvpInfo>,
    dict: &D,
    m: &mut Map<String, Json>,
) {
    let data = a.data();
    let Some(info) = info else {
        m.insert("hex".into(), hex(data).into());
        return;
    };
    let t = info.data_type;
    m.insert("type".into(), t.name().into());
    match Value::of_type(a, t) {
        Ok(Value::Grouped(set)) => {
            let (avps, complete) = set_to_json(set, data, a.offset() + a.header_len(), dict);
            let entries = Json::Array(avps);
            // Exact only if the children encode back to the same bytes.
            let exact = complete
                && encode_set(&entries, dict, "")
                    .map(|b| b == data)
                    .unwrap_or(false);
            if exact {
                m.insert("avps".into(), entries);
            } else {
                m.insert("hex".into(), hex(data).into());
            }
        }
        Ok(Value::OctetString(b)) => {
            m.insert("hex".into(), hex(b).into());
            if let Ok(s) = std::str::from_utf8(b) {
                if !s.is_empty() && s.chars().all(|c| !c.is_control()) {
                    m.insert("text".into(), s.into());
                }
            }
        }
        Ok(v) => {
            let j = value_to_json(&v);
            let exact = value_from_json(t, &j, Some(info), "")
                .map(|b| b == data)
                .unwrap_or(false);
            if exact {
                m.insert("value".into(), j);
                if let Some(n) = names::value_name(info, &v) {
                    let key = if t == DataType::Enumerated {
                        "enum"
                    } else {
                        "meaning"
                    };
                    m.insert(key.into(), n.into());
                }
            } else {
                m.insert("hex".into(), hex(data).into());
            }
        }
        Err(e) => {
            m.insert("hex".into(), hex(data).into());
            m.insert("error".into(), error_json(&e));
        }
    }
}

/// A non-Grouped, non-OctetString value as JSON.
fn value_to_json(v: &Value<'_>) -> Json {
    match *v {
        Value::Integer32(x) | Value::Enumerated(x) => x.into(),
        Value::Integer64(x) => x.into(),
        Value::Unsigned32(x) => x.into(),
        Value::Unsigned64(x) => x.into(),
        Value::Float32(x) => serde_json::Number::from_f64(f64::from(x))
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Value::Float64(x) => serde_json::Number::from_f64(x)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Value::Address(AddressValue::V4(a)) => std::net::Ipv4Addr::from(a).to_string().into(),
        Value::Address(AddressValue::V6(a)) => std::net::Ipv6Addr::from(a).to_string().into(),
        Value::Address(AddressValue::Other { .. }) => Json::Null,
        Value::Time(t) => t.to_string().into(),
        Value::Utf8String(s) | Value::DiameterIdentity(s) | Value::IpFilterRule(s) => s.into(),
        Value::DiameterUri(u) => u.raw.into(),
        Value::OctetString(_) | Value::Grouped(_) => Json::Null,
    }
}

fn want_u64(j: &Json, path: &str) -> Result<u64, JsonError> {
    match j {
        Json::Number(n) => n
            .as_u64()
            .map_or_else(|| err(path, format!("{n} is not a whole number >= 0")), Ok),
        Json::String(s) => {
            let s = s.trim();
            let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                Some(h) => u64::from_str_radix(h, 16),
                None => s.parse(),
            };
            r.map_or_else(|_| err(path, format!("{s:?} is not a number")), Ok)
        }
        other => err(path, format!("expected a number, found {other}")),
    }
}

fn want_u32(j: &Json, path: &str) -> Result<u32, JsonError> {
    let v = want_u64(j, path)?;
    u32::try_from(v).map_or_else(|_| err(path, format!("{v} does not fit 32 bits")), Ok)
}

fn want_i64(j: &Json, path: &str) -> Result<i64, JsonError> {
    match j {
        Json::Number(n) => n
            .as_i64()
            .map_or_else(|| err(path, format!("{n} is not a whole number")), Ok),
        other => err(path, format!("expected a number, found {other}")),
    }
}

fn want_str<'j>(j: &'j Json, path: &str) -> Result<&'j str, JsonError> {
    j.as_str()
        .map_or_else(|| err(path, format!("expected a string, found {j}")), Ok)
}

fn want_f64(j: &Json, path: &str) -> Result<f64, JsonError> {
    j.as_f64()
        .map_or_else(|| err(path, format!("expected a number, found {j}")), Ok)
}

/// Encode a JSON value as data of type `t` (`info` names Enumerated
/// values). Grouped data is not handled here.
pub fn value_from_json(
    t: DataType,
    j: &Json,
    info: Option<&AvpInfo>,
    path: &str,
) -> Result<Vec<u8>, JsonError> {
    let bytes = match t {
        DataType::OctetString => unhex(want_str(j, path)?).map_err(|e| JsonError {
            path: path.into(),
            message: e.to_string(),
        })?,
        DataType::Integer32 => {
            let v = want_i64(j, path)?;
            i32::try_from(v)
                .map_or_else(|_| err(path, format!("{v} does not fit Integer32")), Ok)?
                .to_be_bytes()
                .to_vec()
        }
        DataType::Enumerated => {
            let v = match j {
                Json::String(name) => match info.and_then(|i| i.value_of(name)) {
                    Some(v) => i64::from(v),
                    None => return err(path, format!("no Enumerated value is named {name:?}")),
                },
                j => want_i64(j, path)?,
            };
            i32::try_from(v)
                .map_or_else(|_| err(path, format!("{v} does not fit Enumerated")), Ok)?
                .to_be_bytes()
                .to_vec()
        }
        DataType::Integer64 => want_i64(j, path)?.to_be_bytes().to_vec(),
        DataType::Unsigned32 => want_u32(j, path)?.to_be_bytes().to_vec(),
        DataType::Unsigned64 => want_u64(j, path)?.to_be_bytes().to_vec(),
        DataType::Float32 => (want_f64(j, path)? as f32).to_be_bytes().to_vec(),
        DataType::Float64 => want_f64(j, path)?.to_be_bytes().to_vec(),
        DataType::Address => {
            let s = want_str(j, path)?;
            let ip: IpAddr = s
                .parse()
                .map_or_else(|_| err(path, format!("{s:?} is not an IP address")), Ok)?;
            encode_value(&Value::Address(ip.into()))
        }
        DataType::Time => {
            let t = match j {
                Json::String(s) => Timestamp::parse_rfc3339(s).map_or_else(
                    || {
                        err(
                            path,
                            format!("{s:?} is not RFC 3339 UTC time (2024-01-01T00:00:00Z)"),
                        )
                    },
                    Ok,
                )?,
                j => Timestamp(want_u32(j, path)?),
            };
            t.0.to_be_bytes().to_vec()
        }
        DataType::Utf8String | DataType::IpFilterRule => want_str(j, path)?.as_bytes().to_vec(),
        DataType::DiameterIdentity => {
            let s = want_str(j, path)?;
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_graphic()) {
                return err(
                    path,
                    format!("{s:?} is not a DiameterIdentity (printable ASCII, no spaces)"),
                );
            }
            s.as_bytes().to_vec()
        }
        DataType::DiameterUri => {
            let s = want_str(j, path)?;
            if Uri::parse(s).is_none() {
                return err(
                    path,
                    format!("{s:?} is not a DiameterURI (aaa://host[:port][;transport=..])"),
                );
            }
            s.as_bytes().to_vec()
        }
        DataType::Grouped => return err(path, "a Grouped AVP takes \"avps\" or \"hex\""),
    };
    Ok(bytes)
}

fn encode_value(v: &Value<'_>) -> Vec<u8> {
    let mut out = vec![0u8; v.encoded_len()];
    let _ = v.encode(&mut out);
    out
}

/// Encode one message from its JSON form (see the module docs).
///
/// ```
/// use diameter_cli::json::json_to_message;
/// let j = serde_json::json!({"code": 280, "flags": "R", "application_id": 0,
///     "hop_by_hop": 1, "end_to_end": "0x2",
///     "avps": [{"code": 264, "flags": "M", "value": "a.example"},
///              {"code": 296, "flags": "M", "value": "example"}]});
/// let bytes = json_to_message(&j, &diameter_cc::CreditControl).unwrap();
/// assert_eq!(bytes.len(), 20 + 20 + 16);
/// let bad = serde_json::json!({"code": 280, "avps": [{"code": 1, "value": 5}]});
/// let e = json_to_message(&bad, &diameter_cc::CreditControl).unwrap_err();
/// assert_eq!(e.to_string(), "avps[0].value: expected a string, found 5");
/// ```
pub fn json_to_message<D: Dictionary + ?Sized>(j: &Json, dict: &D) -> Result<Vec<u8>, JsonError> {
    let Some(obj) = j.as_object() else {
        return err("", format!("a message is a JSON object, found {j}"));
    };
    let code = want_u32(obj.get("code").unwrap_or(&Json::Null), "code")?;
    if code > 0xff_ffff {
        return err(
            "code",
            format!("{code} does not fit the 24-bit Command-Code"),
        );
    }
    let mut flags = letters(
        obj.get("flags"),
        "flags",
        &[('R', 0x80), ('P', 0x40), ('E', 0x20), ('T', 0x10)],
    )?;
    if let Some(r) = obj.get("flags_reserved") {
        let r = want_u32(r, "flags_reserved")?;
        if r > 0x0f {
            return err("flags_reserved", "the reserved command flags are 4 bits");
        }
        flags |= r as u8;
    }
    let num = |k: &str| -> Result<u32, JsonError> { obj.get(k).map_or(Ok(0), |v| want_u32(v, k)) };
    let app = num("application_id")?;
    let hbh = num("hop_by_hop")?;
    let e2e = num("end_to_end")?;
    let body = match obj.get("avps") {
        None => Vec::new(),
        Some(a) => encode_set(a, dict, "avps")?,
    };
    let len = HEADER_LEN + body.len();
    if len > diameter_core::header::MAX_MESSAGE_LEN {
        return err("avps", "the message is longer than 16 MiB - 1");
    }
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&(len as u32 | 1 << 24).to_be_bytes());
    out.extend_from_slice(&(code | u32::from(flags) << 24).to_be_bytes());
    out.extend_from_slice(&app.to_be_bytes());
    out.extend_from_slice(&hbh.to_be_bytes());
    out.extend_from_slice(&e2e.to_be_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

fn letters(j: Option<&Json>, path: &str, table: &[(char, u8)]) -> Result<u8, JsonError> {
    let Some(j) = j else { return Ok(0) };
    let s = want_str(j, path)?;
    let mut bits = 0u8;
    for c in s.chars().filter(|c| !matches!(c, ' ' | '-' | ',')) {
        match table.iter().find(|(l, _)| l.eq_ignore_ascii_case(&c)) {
            Some((_, b)) => bits |= b,
            None => {
                let allowed: String = table.iter().map(|(l, _)| *l).collect();
                return err(path, format!("unknown flag {c:?} (flags are {allowed})"));
            }
        }
    }
    Ok(bits)
}

/// Encode a JSON array of AVPs (a message body or a Grouped AVP's data).
fn encode_set<D: Dictionary + ?Sized>(
    j: &Json,
    dict: &D,
    path: &str,
) -> Result<Vec<u8>, JsonError> {
    let Some(items) = j.as_array() else {
        return err(path, "expected an array of AVPs");
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        if let Some(raw) = item.get("raw") {
            // Bytes that did not parse as AVPs, kept verbatim.
            let bytes = unhex(want_str(raw, &p)?).map_err(|e| JsonError {
                path: format!("{p}.raw"),
                message: e.to_string(),
            })?;
            out.extend_from_slice(&bytes);
            continue;
        }
        encode_avp(item, dict, &p, &mut out)?;
    }
    Ok(out)
}

fn encode_avp<D: Dictionary + ?Sized>(
    j: &Json,
    dict: &D,
    path: &str,
    out: &mut Vec<u8>,
) -> Result<(), JsonError> {
    let Some(obj) = j.as_object() else {
        return err(path, format!("an AVP is a JSON object, found {j}"));
    };
    let sub = |k: &str| format!("{path}.{k}");
    let code = want_u32(obj.get("code").unwrap_or(&Json::Null), &sub("code"))?;
    let mut flags = letters(
        obj.get("flags"),
        &sub("flags"),
        &[('V', 0x80), ('M', 0x40), ('P', 0x20)],
    )?;
    if let Some(r) = obj.get("flags_reserved") {
        let r = want_u32(r, &sub("flags_reserved"))?;
        if r > 0x1f {
            return err(&sub("flags_reserved"), "the reserved AVP flags are 5 bits");
        }
        flags |= r as u8;
    }
    let vendor = match obj.get("vendor") {
        Some(v) if !v.is_null() => Some(want_u32(v, &sub("vendor"))?),
        _ => None,
    };
    match (flags & 0x80 != 0, vendor) {
        (true, None) => return err(path, "the V flag needs a \"vendor\""),
        (false, Some(_)) => return err(path, "a \"vendor\" needs the V flag"),
        _ => {}
    }
    let info = dict.avp(code, vendor.unwrap_or(0));
    let data = if let Some(h) = obj.get("hex") {
        unhex(want_str(h, &sub("hex"))?).map_err(|e| JsonError {
            path: sub("hex"),
            message: e.to_string(),
        })?
    } else if let Some(avps) = obj.get("avps") {
        encode_set(avps, dict, &sub("avps"))?
    } else if let Some(v) = obj.get("value") {
        let t = match obj.get("type") {
            Some(t) => {
                let name = want_str(t, &sub("type"))?;
                data_type(name).map_or_else(
                    || err(&sub("type"), format!("unknown data type {name:?}")),
                    Ok,
                )?
            }
            None => match info {
                Some(i) => i.data_type,
                None => {
                    return err(
                        path,
                        format!("AVP {code} is not in the dictionary: give \"type\" or \"hex\""),
                    )
                }
            },
        };
        value_from_json(t, v, info, &sub("value"))?
    } else {
        return err(path, "an AVP needs \"value\", \"avps\" or \"hex\"");
    };
    let hdr = if vendor.is_some() { 12 } else { 8 };
    let len = hdr + data.len();
    if len > 0xff_ffff {
        return err(path, "the AVP is longer than 16 MiB - 1");
    }
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(&(len as u32 | u32::from(flags) << 24).to_be_bytes());
    if let Some(v) = vendor {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(&data);
    let pad = padding(len);
    match obj.get("padding") {
        Some(p) => {
            let bytes = unhex(want_str(p, &sub("padding"))?).map_err(|e| JsonError {
                path: sub("padding"),
                message: e.to_string(),
            })?;
            if bytes.len() != pad {
                return err(
                    &sub("padding"),
                    format!("this AVP has {pad} padding bytes, not {}", bytes.len()),
                );
            }
            out.extend_from_slice(&bytes);
        }
        None => out.extend(std::iter::repeat_n(0u8, pad)),
    }
    Ok(())
}

/// Every JSON value in `text`: a stream of objects (one per line or
/// pretty-printed, as `decode --json` writes them) or one array of them.
///
/// ```
/// let v = diameter_cli::json::read_documents("{\"code\": 1}\n{\"code\": 2}").unwrap();
/// assert_eq!(v.len(), 2);
/// let v = diameter_cli::json::read_documents("[{\"code\": 1}, {\"code\": 2}]").unwrap();
/// assert_eq!(v.len(), 2);
/// assert!(diameter_cli::json::read_documents("{").unwrap_err().contains("line 1"));
/// ```
pub fn read_documents(text: &str) -> Result<Vec<Json>, String> {
    let mut out = Vec::new();
    for v in serde_json::Deserializer::from_str(text).into_iter::<Json>() {
        match v {
            Ok(Json::Array(items)) => out.extend(items),
            Ok(v) => out.push(v),
            Err(e) => return Err(format!("not JSON: {e}")),
        }
    }
    Ok(out)
}

/// A `{"error": ...}` document for a stream that stopped framing (a bad
/// header or a truncated message), with the bytes left.
pub fn broken_json(offset: usize, problem: &crate::input::Problem, rest: &[u8]) -> Json {
    let mut e = match problem {
        crate::input::Problem::Header(e) => error_json(e),
        crate::input::Problem::Truncated { .. } => json!({}),
    };
    if let Some(m) = e.as_object_mut() {
        m.insert("message".into(), problem.to_string().into());
    }
    json!({"error": e, "offset": offset, "raw": hex(rest)})
}
