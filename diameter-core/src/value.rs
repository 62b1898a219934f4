//! A generic decoded AVP value: one enum over every data format of RFC 6733
//! §4.2 (basic) and §4.3 (derived), for tools that print or rebuild any
//! message without knowing its AVPs at compile time.
//!
//! Typed access ([`crate::Message::get`] with an [`crate::dict::AvpDef`]) is
//! what applications use; [`Value`] is what a pretty-printer, a capture
//! decoder or a JSON converter uses: the data type comes from a
//! [`Dictionary`] at run time, the value borrows from the message, and a
//! Grouped value is an [`AvpSet`] view to recurse into. Nothing here
//! allocates.
//!
//! ```
//! use diameter_core::dict::{base::Base, Dictionary};
//! use diameter_core::value::Value;
//! use diameter_core::Message;
//! # let bytes = diameter_core::doc_example();
//! let msg = Message::parse_with(&bytes, &Base)?;
//! for avp in msg.iter() {
//!     let avp = avp?;
//!     let info = Base.avp(avp.code(), avp.vendor());
//!     let value = Value::of(&avp, &Base)?;
//!     // Origin-Host = "client.example.org", ..., Origin-State-Id = 7
//!     let name = info.map(|i| i.name).unwrap_or("?");
//!     assert!(!format!("{name} = {value}").is_empty());
//! }
//! # Ok::<(), diameter_core::Error>(())
//! ```
//!
//! [`Value`] implements `Display` (hex for OctetString, quoted and escaped
//! text for strings, dotted or RFC 5952 text for IP addresses, RFC 3339 UTC
//! for Time); names of Enumerated values, Result-Codes, applications and
//! vendors come from [`crate::dict::names`].
//!
//! No-panic promise: [`Value::decode`] and [`Value::of`] never panic on any
//! input; [`Value::encode`] never panics and reports a short buffer.

use core::fmt;

use crate::avp::Avp;
use crate::dict::Dictionary;
use crate::error::{EncodeError, Error, ErrorKind};
use crate::message::AvpSet;
use crate::types::{
    Address, AddressValue, AvpType, DataType, DiameterIdentity, DiameterUri, Float32, Float64,
    Integer32, Integer64, IpFilterRule, Time, Timestamp, Unsigned32, Unsigned64, Uri, Utf8String,
};

/// One AVP value of any data type (RFC 6733 §4.2, §4.3), borrowed from the
/// message.
///
/// ```
/// use diameter_core::types::DataType;
/// use diameter_core::value::Value;
/// let v = Value::decode(DataType::Unsigned32, &[0, 0, 7, 209]).unwrap();
/// assert_eq!(v, Value::Unsigned32(2001));
/// assert_eq!(v.data_type(), DataType::Unsigned32);
/// let mut out = [0u8; 4];
/// assert_eq!(v.encode(&mut out), Ok(4));
/// assert_eq!(out, [0, 0, 7, 209]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Value<'a> {
    /// OctetString (§4.2): arbitrary bytes.
    OctetString(&'a [u8]),
    /// Integer32 (§4.2).
    Integer32(i32),
    /// Integer64 (§4.2).
    Integer64(i64),
    /// Unsigned32 (§4.2).
    Unsigned32(u32),
    /// Unsigned64 (§4.2).
    Unsigned64(u64),
    /// Float32 (§4.2).
    Float32(f32),
    /// Float64 (§4.2).
    Float64(f64),
    /// Grouped (§4.4): the inner AVPs, with message offsets when read
    /// through [`Value::of`].
    Grouped(AvpSet<'a>),
    /// Address (§4.3.1).
    Address(AddressValue<'a>),
    /// Time (§4.3.1): NTP seconds.
    Time(Timestamp),
    /// UTF8String (§4.3.1).
    Utf8String(&'a str),
    /// DiameterIdentity (§4.3.1).
    DiameterIdentity(&'a str),
    /// DiameterURI (§4.3.1).
    DiameterUri(Uri<'a>),
    /// Enumerated (§4.3.1): the raw Integer32; its name is in the
    /// dictionary entry ([`crate::dict::AvpInfo::value_name`]).
    Enumerated(i32),
    /// IPFilterRule (§4.3.1), as text.
    IpFilterRule(&'a str),
}

impl<'a> Value<'a> {
    /// Decode AVP data (no header, no padding) as `data_type`. A Grouped
    /// value's offsets count from the start of `data`; prefer
    /// [`Value::of`], which keeps message offsets.
    ///
    /// Errors are [`ErrorKind::InvalidAvpLength`] for a wrong fixed size and
    /// [`ErrorKind::InvalidAvpValue`] for a bad value, as for typed reads.
    pub fn decode(data_type: DataType, data: &'a [u8]) -> Result<Self, ErrorKind> {
        Ok(match data_type {
            DataType::OctetString => Value::OctetString(data),
            DataType::Integer32 => Value::Integer32(Integer32::decode(data)?),
            DataType::Integer64 => Value::Integer64(Integer64::decode(data)?),
            DataType::Unsigned32 => Value::Unsigned32(Unsigned32::decode(data)?),
            DataType::Unsigned64 => Value::Unsigned64(Unsigned64::decode(data)?),
            DataType::Float32 => Value::Float32(Float32::decode(data)?),
            DataType::Float64 => Value::Float64(Float64::decode(data)?),
            DataType::Grouped => Value::Grouped(AvpSet::new(data, 0)),
            DataType::Address => Value::Address(Address::decode(data)?),
            DataType::Time => Value::Time(Time::decode(data)?),
            DataType::Utf8String => Value::Utf8String(Utf8String::decode(data)?),
            DataType::DiameterIdentity => Value::DiameterIdentity(DiameterIdentity::decode(data)?),
            DataType::DiameterUri => Value::DiameterUri(DiameterUri::decode(data)?),
            DataType::Enumerated => Value::Enumerated(Integer32::decode(data)?),
            DataType::IpFilterRule => Value::IpFilterRule(IpFilterRule::decode(data)?),
        })
    }

    /// Decode `avp` with the data type `dict` gives it; an AVP the
    /// dictionary does not know is an [`Value::OctetString`] of its data.
    /// A Grouped value keeps message offsets; an error points at the AVP.
    pub fn of<D: Dictionary + ?Sized>(avp: &Avp<'a>, dict: &D) -> Result<Self, Error> {
        let data_type = dict
            .avp(avp.code(), avp.vendor())
            .map(|i| i.data_type)
            .unwrap_or(DataType::OctetString);
        Self::of_type(avp, data_type)
    }

    /// Decode `avp` as `data_type`, keeping message offsets for a Grouped
    /// value; an error points at the AVP.
    pub fn of_type(avp: &Avp<'a>, data_type: DataType) -> Result<Self, Error> {
        match data_type {
            DataType::Grouped => Ok(Value::Grouped(avp.group_set())),
            t => Value::decode(t, avp.data()).map_err(|k| avp.error(k)),
        }
    }

    /// The data type of this value.
    pub const fn data_type(&self) -> DataType {
        match self {
            Value::OctetString(_) => DataType::OctetString,
            Value::Integer32(_) => DataType::Integer32,
            Value::Integer64(_) => DataType::Integer64,
            Value::Unsigned32(_) => DataType::Unsigned32,
            Value::Unsigned64(_) => DataType::Unsigned64,
            Value::Float32(_) => DataType::Float32,
            Value::Float64(_) => DataType::Float64,
            Value::Grouped(_) => DataType::Grouped,
            Value::Address(_) => DataType::Address,
            Value::Time(_) => DataType::Time,
            Value::Utf8String(_) => DataType::Utf8String,
            Value::DiameterIdentity(_) => DataType::DiameterIdentity,
            Value::DiameterUri(_) => DataType::DiameterUri,
            Value::Enumerated(_) => DataType::Enumerated,
            Value::IpFilterRule(_) => DataType::IpFilterRule,
        }
    }

    /// Length of the encoded data (no header, no padding).
    pub fn encoded_len(&self) -> usize {
        match self {
            Value::OctetString(b) => b.len(),
            Value::Integer32(_)
            | Value::Unsigned32(_)
            | Value::Float32(_)
            | Value::Time(_)
            | Value::Enumerated(_) => 4,
            Value::Integer64(_) | Value::Unsigned64(_) | Value::Float64(_) => 8,
            Value::Grouped(s) => s.as_bytes().len(),
            Value::Address(a) => Address::encoded_len(a),
            Value::Utf8String(s) | Value::DiameterIdentity(s) | Value::IpFilterRule(s) => s.len(),
            Value::DiameterUri(u) => u.raw.len(),
        }
    }

    /// Write the data into the front of `out` and return its length, or
    /// [`EncodeError::BufferTooSmall`] (nothing written) when `out` is
    /// shorter than [`Value::encoded_len`]. A Grouped value copies the
    /// bytes of its set.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let n = self.encoded_len();
        let Some(out) = out.get_mut(..n) else {
            return Err(EncodeError::BufferTooSmall { needed: n });
        };
        match self {
            Value::OctetString(b) => out.copy_from_slice(b),
            Value::Integer32(v) | Value::Enumerated(v) => out.copy_from_slice(&v.to_be_bytes()),
            Value::Integer64(v) => out.copy_from_slice(&v.to_be_bytes()),
            Value::Unsigned32(v) => out.copy_from_slice(&v.to_be_bytes()),
            Value::Unsigned64(v) => out.copy_from_slice(&v.to_be_bytes()),
            Value::Float32(v) => out.copy_from_slice(&v.to_be_bytes()),
            Value::Float64(v) => out.copy_from_slice(&v.to_be_bytes()),
            Value::Grouped(s) => out.copy_from_slice(s.as_bytes()),
            Value::Address(a) => Address::encode(a, out),
            Value::Time(t) => out.copy_from_slice(&t.0.to_be_bytes()),
            Value::Utf8String(s) | Value::DiameterIdentity(s) | Value::IpFilterRule(s) => {
                out.copy_from_slice(s.as_bytes())
            }
            Value::DiameterUri(u) => out.copy_from_slice(u.raw.as_bytes()),
        }
        Ok(n)
    }
}

/// Bytes as lowercase hex, without a prefix.
///
/// ```
/// use diameter_core::value::Hex;
/// assert_eq!(format!("{}", Hex(&[0x0a, 0xff])), "0aff");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hex<'a>(pub &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Display for AddressValue<'_> {
    /// IPv4 dotted, IPv6 as RFC 5952 text, other families as
    /// `family N: 0x...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressValue::V4(a) => fmt::Display::fmt(&core::net::Ipv4Addr::from(*a), f),
            AddressValue::V6(a) => fmt::Display::fmt(&core::net::Ipv6Addr::from(*a), f),
            AddressValue::Other { family, bytes } => {
                write!(f, "family {family}: 0x{}", Hex(bytes))
            }
        }
    }
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::OctetString(b) => write!(f, "0x{}", Hex(b)),
            Value::Integer32(v) | Value::Enumerated(v) => write!(f, "{v}"),
            Value::Integer64(v) => write!(f, "{v}"),
            Value::Unsigned32(v) => write!(f, "{v}"),
            Value::Unsigned64(v) => write!(f, "{v}"),
            Value::Float32(v) => write!(f, "{v}"),
            Value::Float64(v) => write!(f, "{v}"),
            Value::Grouped(s) => write!(f, "{{{} AVPs}}", s.count()),
            Value::Address(a) => write!(f, "{a}"),
            Value::Time(t) => write!(f, "{t}"),
            Value::Utf8String(s) | Value::DiameterIdentity(s) | Value::IpFilterRule(s) => {
                write!(f, "{s:?}")
            }
            Value::DiameterUri(u) => write!(f, "{:?}", u.raw),
        }
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (H. Hinnant's `civil_from_days`).
const fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01 (`days_from_civil`).
const fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Timestamp {
    /// Parse RFC 3339 UTC text, `YYYY-MM-DDTHH:MM:SSZ` (a space instead of
    /// `T` and `+00:00` instead of `Z` are accepted); `None` if malformed
    /// or outside the range a Time can carry (1968..2104).
    ///
    /// ```
    /// use diameter_core::Timestamp;
    /// let t = Timestamp::parse_rfc3339("2024-01-01T00:00:00Z").unwrap();
    /// assert_eq!(t.ntp(), 3_913_056_000);
    /// assert_eq!(t.to_string(), "2024-01-01T00:00:00Z");
    /// assert!(Timestamp::parse_rfc3339("2024-13-01T00:00:00Z").is_none());
    /// ```
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        let utc = matches!(b.get(19..)?, b"Z" | b"z" | b"+00:00");
        if !utc || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let num = |r: core::ops::Range<usize>| -> Option<u32> {
            let mut v = 0u32;
            for &c in b.get(r)? {
                if !c.is_ascii_digit() {
                    return None;
                }
                v = v * 10 + u32::from(c - b'0');
            }
            Some(v)
        };
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let days_in = [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        if !(1..=12).contains(&mo) || d == 0 || d > days_in[mo as usize - 1] {
            return None;
        }
        if h > 23 || mi > 59 || sec > 59 {
            return None;
        }
        let days = days_from_civil(i64::from(y), mo, d);
        Timestamp::from_unix(days * 86_400 + i64::from(h * 3600 + mi * 60 + sec))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 UTC: `2024-01-01T00:00:00Z` (with the 2036 era rule of
    /// [`Timestamp::unix`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unix = self.unix();
        let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dict::base::{self, Base};
    use crate::encode::MessageBuilder;
    use crate::header::{ApplicationId, CommandCode, HeaderRepr};
    use crate::message::Message;
    use std::format;
    use std::string::ToString;

    #[test]
    fn every_type_round_trips() {
        let cases: &[(DataType, &[u8])] = &[
            (DataType::OctetString, &[1, 2, 3]),
            (DataType::Integer32, &[0xff, 0xff, 0xff, 0xfe]),
            (DataType::Integer64, &[0x80, 0, 0, 0, 0, 0, 0, 1]),
            (DataType::Unsigned32, &[0, 0, 7, 209]),
            (DataType::Unsigned64, &[0, 0, 0, 0, 0, 0x0f, 0x42, 0x40]),
            (DataType::Float32, &[0x3f, 0xc0, 0, 0]),
            (
                DataType::Float64,
                &[0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18],
            ),
            (DataType::Address, &[0, 1, 127, 0, 0, 1]),
            (DataType::Address, &[0, 8, b'4', b'4']),
            (DataType::Time, &[0xe9, 0x3c, 0x0e, 0x80]),
            (DataType::Utf8String, "héllo".as_bytes()),
            (DataType::DiameterIdentity, b"a.example"),
            (DataType::DiameterUri, b"aaa://a.example:3868;transport=tcp"),
            (DataType::Enumerated, &[0, 0, 0, 3]),
            (DataType::IpFilterRule, b"permit in ip from any to any"),
            (
                DataType::Grouped,
                &[0, 0, 1, 22, 0x40, 0, 0, 12, 0, 0, 0, 7],
            ),
        ];
        for &(t, data) in cases {
            let v = Value::decode(t, data).unwrap();
            assert_eq!(v.data_type(), t);
            assert_eq!(v.encoded_len(), data.len(), "{t:?}");
            let mut out = [0u8; 64];
            assert_eq!(v.encode(&mut out), Ok(data.len()));
            assert_eq!(&out[..data.len()], data, "{t:?}");
            assert_eq!(
                v.encode(&mut out[..data.len().saturating_sub(1)]),
                if data.is_empty() {
                    Ok(0)
                } else {
                    Err(EncodeError::BufferTooSmall { needed: data.len() })
                }
            );
        }
    }

    #[test]
    fn decode_errors_are_typed_ones() {
        assert_eq!(
            Value::decode(DataType::Unsigned32, &[0; 3]),
            Err(ErrorKind::InvalidAvpLength)
        );
        assert_eq!(
            Value::decode(DataType::Utf8String, &[0xff]),
            Err(ErrorKind::InvalidAvpValue)
        );
        assert_eq!(
            Value::decode(DataType::DiameterIdentity, b""),
            Err(ErrorKind::InvalidAvpValue)
        );
        assert_eq!(
            Value::decode(DataType::Address, &[0, 1, 1]),
            Err(ErrorKind::InvalidAvpLength)
        );
    }

    #[test]
    fn display() {
        let s = |t, d: &[u8]| Value::decode(t, d).unwrap().to_string();
        assert_eq!(s(DataType::OctetString, &[0xab, 1]), "0xab01");
        assert_eq!(s(DataType::Utf8String, b"a\"b\n"), "\"a\\\"b\\n\"");
        assert_eq!(s(DataType::Address, &[0, 1, 10, 0, 0, 1]), "10.0.0.1");
        let mut v6 = [0u8; 18];
        v6[1] = 2;
        v6[17] = 1;
        assert_eq!(s(DataType::Address, &v6), "::1");
        assert_eq!(s(DataType::Address, &[0, 8, 0x12]), "family 8: 0x12");
        assert_eq!(
            s(DataType::Time, &3_913_056_000u32.to_be_bytes()),
            "2024-01-01T00:00:00Z"
        );
        assert_eq!(s(DataType::Integer32, &[0xff; 4]), "-1");
        assert_eq!(s(DataType::Float32, &1.5f32.to_be_bytes()), "1.5");
    }

    #[test]
    fn time_text_both_ways() {
        for unix in [
            Timestamp::MIN_UNIX,
            -1,
            0,
            951_782_400, // 2000-02-29
            1_704_067_200,
            2_085_978_495,
            2_085_978_496,
            Timestamp::MAX_UNIX,
        ] {
            let t = Timestamp::from_unix(unix).unwrap();
            let text = t.to_string();
            assert_eq!(Timestamp::parse_rfc3339(&text), Some(t), "{text}");
        }
        assert_eq!(
            Timestamp(0).to_string(),
            "2036-02-07T06:28:16Z",
            "the 2036 era"
        );
        assert_eq!(
            Timestamp::parse_rfc3339("2000-02-29 12:00:00+00:00")
                .unwrap()
                .unix(),
            951_825_600
        );
        for bad in [
            "",
            "2024-01-01T00:00:00",
            "2023-02-29T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00+01:00",
            "1900-01-01T00:00:00Z",
            "20x4-01-01T00:00:00Z",
            "2024/01/01T00:00:00Z",
        ] {
            assert!(Timestamp::parse_rfc3339(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn of_uses_the_dictionary_and_keeps_offsets() {
        let mut buf = [0u8; 128];
        let hdr = HeaderRepr::request(
            CommandCode::CAPABILITIES_EXCHANGE,
            ApplicationId::COMMON,
            1,
            1,
        );
        let mut b = MessageBuilder::new(&mut buf, hdr);
        b.put(&base::ORIGIN_HOST, "a.example")
            .grouped(&base::VENDOR_SPECIFIC_APPLICATION_ID, |g| {
                g.put(&base::VENDOR_ID, 10415);
            })
            .put_raw(9999, None, crate::AvpFlags::NONE, b"xyz");
        let bytes = b.finish().unwrap();
        let m = Message::parse_with(bytes, &Base).unwrap();
        let avps: std::vec::Vec<_> = m.iter().map(Result::unwrap).collect();
        assert_eq!(
            Value::of(&avps[0], &Base).unwrap(),
            Value::DiameterIdentity("a.example")
        );
        let Value::Grouped(set) = Value::of(&avps[1], &Base).unwrap() else {
            panic!("grouped")
        };
        let inner = set.iter().next().unwrap().unwrap();
        assert_eq!(inner.offset(), avps[1].offset() + 8);
        assert_eq!(
            Value::of(&avps[2], &Base).unwrap(),
            Value::OctetString(b"xyz")
        );
        assert_eq!(
            format!("{}", Value::of(&avps[1], &Base).unwrap()),
            "{1 AVPs}"
        );
        // a value error points at the AVP
        let e = Value::of_type(&avps[2], DataType::Unsigned32).unwrap_err();
        assert_eq!(e.offset(), Some(avps[2].offset()));
        assert_eq!(e.result_code().get(), 5014);
    }
}
