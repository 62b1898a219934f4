//! AVP data formats (RFC 6733 §4.2 basic, §4.3 derived) as marker types.
//!
//! Each marker type implements [`AvpType`]: it names the Rust value that the
//! wire format decodes to (borrowed where the wire holds bytes, `Copy`
//! otherwise), how to decode it from AVP data and how to encode it. A
//! dictionary entry [`crate::dict::AvpDef<T>`] carries its marker type, so
//! `msg.get(&ORIGIN_STATE_ID)` returns a `u32` and putting a `&str` there
//! does not compile.
//!
//! | marker | value | RFC 6733 |
//! | --- | --- | --- |
//! | [`OctetString`] | `&[u8]` | §4.2 |
//! | [`Integer32`] / [`Integer64`] | `i32` / `i64` | §4.2 |
//! | [`Unsigned32`] / [`Unsigned64`] | `u32` / `u64` | §4.2 |
//! | [`Float32`] / [`Float64`] | `f32` / `f64` | §4.2 |
//! | [`Grouped`] | [`crate::AvpSet`] | §4.4 |
//! | [`Address`] | [`AddressValue`] | §4.3.1 |
//! | [`Time`] | [`Timestamp`] | §4.3.1 |
//! | [`Utf8String`] | `&str` (validated) | §4.3.1 |
//! | [`DiameterIdentity`] | `&str` (ASCII, validated) | §4.3.1 |
//! | [`DiameterUri`] | [`Uri`] | §4.3.1 |
//! | [`Enumerated<E>`] | `E` ([`Enumeration`]) | §4.3.1 |
//! | [`IpFilterRule`] | `&str` | §4.3.1 |
//!
//! No-panic promise: `decode` never panics on any input; `encode` never
//! panics when `out.len() == encoded_len(value)`.

use core::fmt;
use core::marker::PhantomData;

use crate::avp::Avp;
use crate::error::ErrorKind;
use crate::message::AvpSet;

/// The data type of an AVP, as a runtime value (for dictionaries and
/// generic tools such as a pretty-printer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DataType {
    /// OctetString
    OctetString,
    /// Integer32
    Integer32,
    /// Integer64
    Integer64,
    /// Unsigned32
    Unsigned32,
    /// Unsigned64
    Unsigned64,
    /// Float32
    Float32,
    /// Float64
    Float64,
    /// Grouped
    Grouped,
    /// Address
    Address,
    /// Time
    Time,
    /// UTF8String
    Utf8String,
    /// DiameterIdentity
    DiameterIdentity,
    /// DiameterURI
    DiameterUri,
    /// Enumerated
    Enumerated,
    /// IPFilterRule
    IpFilterRule,
}

impl DataType {
    /// The fixed data length of this type, if it has one.
    pub const fn fixed_len(self) -> Option<usize> {
        match self {
            DataType::Integer32
            | DataType::Unsigned32
            | DataType::Float32
            | DataType::Time
            | DataType::Enumerated => Some(4),
            DataType::Integer64 | DataType::Unsigned64 | DataType::Float64 => Some(8),
            _ => None,
        }
    }

    /// Check AVP data against this type without keeping the value: the
    /// fixed size (5014) and the value rules (5004).
    // Inlined on hosts for speed; on bare metal (flash) the compiler decides.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    pub fn check(self, data: &[u8]) -> Result<(), ErrorKind> {
        // The fixed sizes inline (a compare), the text types out of line.
        match self {
            DataType::OctetString | DataType::Grouped => Ok(()),
            DataType::Integer32
            | DataType::Unsigned32
            | DataType::Float32
            | DataType::Time
            | DataType::Enumerated => match data.len() {
                4 => Ok(()),
                _ => Err(ErrorKind::InvalidAvpLength),
            },
            DataType::Integer64 | DataType::Unsigned64 | DataType::Float64 => match data.len() {
                8 => Ok(()),
                _ => Err(ErrorKind::InvalidAvpLength),
            },
            _ => self.check_text(data),
        }
    }

    /// [`DataType::check`] of the types with value rules. Inline on hosts,
    /// and there with the word-at-a-time string check (on bare metal, out
    /// of line, the typed reads' own checks, for flash): the generic
    /// validator's loop, which runs it, measured slower with the SSE2 check
    /// of the typed reads inlined (more registers spilled around it) and
    /// slower still with the check out of line (BENCHMARKS.md, eleventh look).
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    fn check_text(self, data: &[u8]) -> Result<(), ErrorKind> {
        #[cfg(not(target_os = "none"))]
        let text = |graphic| match ascii_ok(data, graphic) {
            true => Ok(()),
            false => Err(ErrorKind::InvalidAvpValue),
        };
        match self {
            DataType::Address => Address::decode(data).map(|_| ()),
            #[cfg(not(target_os = "none"))]
            DataType::Utf8String => text(false).or_else(|_| {
                core::str::from_utf8(data)
                    .map(drop)
                    .map_err(|_| ErrorKind::InvalidAvpValue)
            }),
            #[cfg(not(target_os = "none"))]
            DataType::DiameterIdentity if data.is_empty() => Err(ErrorKind::InvalidAvpValue),
            #[cfg(not(target_os = "none"))]
            DataType::DiameterIdentity => text(true),
            // On bare metal (flash) the typed reads' own checks, shared.
            #[cfg(target_os = "none")]
            DataType::Utf8String => Utf8String::decode(data).map(|_| ()),
            #[cfg(target_os = "none")]
            DataType::DiameterIdentity => DiameterIdentity::decode(data).map(|_| ()),
            DataType::DiameterUri => DiameterUri::decode(data).map(|_| ()),
            DataType::IpFilterRule => IpFilterRule::decode(data).map(|_| ()),
            other => match other.fixed_len() {
                Some(n) if n != data.len() => Err(ErrorKind::InvalidAvpLength),
                _ => Ok(()),
            },
        }
    }

    /// The RFC name of the type.
    pub const fn name(self) -> &'static str {
        match self {
            DataType::OctetString => "OctetString",
            DataType::Integer32 => "Integer32",
            DataType::Integer64 => "Integer64",
            DataType::Unsigned32 => "Unsigned32",
            DataType::Unsigned64 => "Unsigned64",
            DataType::Float32 => "Float32",
            DataType::Float64 => "Float64",
            DataType::Grouped => "Grouped",
            DataType::Address => "Address",
            DataType::Time => "Time",
            DataType::Utf8String => "UTF8String",
            DataType::DiameterIdentity => "DiameterIdentity",
            DataType::DiameterUri => "DiameterURI",
            DataType::Enumerated => "Enumerated",
            DataType::IpFilterRule => "IPFilterRule",
        }
    }
}

/// A wire data format: how AVP data decodes to a Rust value and back.
///
/// Errors are [`ErrorKind::InvalidAvpLength`] for a wrong fixed size and
/// [`ErrorKind::InvalidAvpValue`] for a bad value; the caller attaches the AVP.
pub trait AvpType {
    /// The decoded value, borrowing from the message where it can.
    type Value<'a>;
    /// The runtime tag of this type.
    const DATA_TYPE: DataType;
    /// The named values of this type (those of `E` for [`Enumerated<E>`],
    /// none otherwise); [`crate::dict::AvpDef::new`] copies them into the
    /// dictionary entry.
    const VALUE_NAMES: &'static [EnumValue] = &[];
    /// Decode AVP data (no header, no padding).
    fn decode(data: &[u8]) -> Result<Self::Value<'_>, ErrorKind>;
    /// Length of the encoded data (no header, no padding).
    fn encoded_len(value: &Self::Value<'_>) -> usize;
    /// Write the data into `out`, whose length is exactly `encoded_len(value)`.
    fn encode(value: &Self::Value<'_>, out: &mut [u8]);
    /// Decode from a whole AVP. The default decodes [`Avp::data`]; Grouped
    /// overrides it to keep offsets relative to the message.
    #[inline]
    fn decode_avp<'a>(avp: &Avp<'a>) -> Result<Self::Value<'a>, ErrorKind> {
        Self::decode(avp.data())
    }
}

/// `data` as `&str` when every byte is ASCII and, with `graphic`, also
/// printable and not a space (0x21..=0x7e, `u8::is_ascii_graphic`).
///
/// This is the one `unsafe` block of the crate, kept for measured wins
/// (see BENCHMARKS.md): `core::str::from_utf8` is an out-of-line call that
/// dominated the decoding of short strings, and on x86-64 the check runs
/// sixteen bytes per SSE2 compare (eleventh look: 5–10% fewer instructions
/// for a full decode). Bytes below 0x80 are always valid one-byte UTF-8
/// sequences, so the check is exactly the precondition of
/// `from_utf8_unchecked`.
#[inline(always)]
fn ascii_str(data: &[u8], graphic: bool) -> Option<&str> {
    #[allow(unsafe_code, unused_unsafe)]
    // SAFETY: (1) the SSE2 intrinsics (x86-64 only) compute on values and
    // touch no memory, and SSE2 is part of every x86-64 processor (the
    // target's baseline; Rust 1.87 made them safe to call, this crate
    // supports 1.83). (2) When the check passes every byte is < 0x80, a
    // complete one-byte UTF-8 sequence, so `data` is valid UTF-8.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        let ok = sse2::ascii_ok(data, graphic, |lo, hi| {
            use core::arch::x86_64::{
                _mm_and_si128, _mm_cmpgt_epi8, _mm_cmplt_epi8, _mm_movemask_epi8, _mm_set1_epi8,
                _mm_set_epi64x,
            };
            let v = _mm_set_epi64x(hi as i64, lo as i64);
            match graphic {
                // 0x21..=0x7e: above 0x20 and below 0x7f as signed bytes
                // (0x80 and up are negative).
                true => {
                    let ok = _mm_and_si128(
                        _mm_cmpgt_epi8(v, _mm_set1_epi8(0x20)),
                        _mm_cmplt_epi8(v, _mm_set1_epi8(0x7f)),
                    );
                    _mm_movemask_epi8(ok) ^ 0xffff
                }
                // Below 0x80: the high bits.
                false => _mm_movemask_epi8(v),
            }
        });
        #[cfg(not(target_arch = "x86_64"))]
        let ok = ascii_ok(data, graphic);
        match ok {
            true => Some(core::str::from_utf8_unchecked(data)),
            false => None,
        }
    }
}

/// The check of [`ascii_str`] sixteen bytes per step with SSE2, part of
/// every x86-64 processor: per block two words, two compares and a byte
/// mask (the arithmetic is in `ascii_str`'s `unsafe` block); strings of 4
/// to 16 bytes in one block made of their first and last bytes (which
/// overlap), longer ones in blocks of sixteen from the start and a last
/// block of the last sixteen bytes; strings under 4 bytes one byte at a
/// time.
#[cfg(target_arch = "x86_64")]
mod sse2 {
    /// The sixteen bytes of `data` from `at` (all present by the caller's
    /// arithmetic) as two words.
    #[inline(always)]
    fn block(data: &[u8], at: usize) -> (u64, u64) {
        let b = data.get(at..).and_then(|d| d.first_chunk::<16>());
        let b = b.copied().unwrap_or([0x80; 16]);
        let (lo, hi) = b.split_at(8);
        let word = |w: &[u8]| u64::from_le_bytes(w.try_into().unwrap_or([0x80; 8]));
        (word(lo), word(hi))
    }

    /// Whether every byte of `data` is allowed, with `bad` giving the
    /// bytes of a block (two words) that are not, one bit each.
    #[inline(always)]
    pub(super) fn ascii_ok(data: &[u8], graphic: bool, bad: impl Fn(u64, u64) -> i32) -> bool {
        let n = data.len();
        if n >= 16 {
            let mut any = 0;
            let mut at = 0;
            while at + 16 < n {
                let (lo, hi) = block(data, at);
                any |= bad(lo, hi);
                at += 16;
            }
            let (lo, hi) = block(data, n - 16);
            return any | bad(lo, hi) == 0;
        }
        let (lo, hi) = match (data.first_chunk::<8>(), data.last_chunk::<8>()) {
            (Some(a), Some(b)) => (u64::from_le_bytes(*a), u64::from_le_bytes(*b)),
            _ => match (data.first_chunk::<4>(), data.last_chunk::<4>()) {
                (Some(a), Some(b)) => {
                    let w =
                        u64::from(u32::from_le_bytes(*a)) | u64::from(u32::from_le_bytes(*b)) << 32;
                    (w, w)
                }
                _ => {
                    return data.iter().fold(true, |ok, &b| {
                        ok & (b < 0x80) & (!graphic | b.is_ascii_graphic())
                    })
                }
            },
        };
        bad(lo, hi) == 0
    }
}

/// Whether every byte of `data` is below 0x80 and, with `graphic`, within
/// 0x21..=0x7e, eight bytes per word in general-purpose registers (SWAR),
/// where SSE2 is not at hand: no early exit, the last word overlapping the
/// one before it (8 to 16 bytes, on hosts: the first and the last word, no
/// loop); strings shorter than eight bytes one byte at a time.
#[inline(always)]
fn ascii_ok(data: &[u8], graphic: bool) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let Some(last) = data.last_chunk::<8>() else {
        return data.iter().fold(true, |ok, &b| {
            ok & (b < 0x80) & (!graphic | b.is_ascii_graphic())
        });
    };
    // Up to sixteen bytes (most names and realms): the first and the last
    // word, which overlap, and no loop. Hosts only: on bare metal the
    // extra branch at every inlined call site cost 440 bytes of flash.
    if cfg!(not(target_os = "none")) && data.len() <= 16 {
        if let Some(first) = data.first_chunk::<8>() {
            let bad = ascii_bad(u64::from_le_bytes(*first), graphic)
                | ascii_bad(u64::from_le_bytes(*last), graphic);
            return bad & HIGH == 0;
        }
    }
    let mut bad = 0u64;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        bad |= ascii_bad(u64::from_le_bytes(w), graphic);
    }
    if !chunks.remainder().is_empty() {
        bad |= ascii_bad(u64::from_le_bytes(*last), graphic);
    }
    bad & HIGH == 0
}

/// Eight bytes at once: the high bit of a byte of the result is set when
/// that byte (or, for the range test, a byte of the word) is not allowed.
/// Both range tests are exact whenever every byte is below 0x80, and a byte
/// at or above 0x80 sets its high bit through `x` itself.
#[inline(always)]
fn ascii_bad(x: u64, graphic: bool) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut bad = x;
    if graphic {
        // Some byte below 0x21 (Hacker's Delight `hasless`, n = 0x21)...
        bad |= x.wrapping_sub(ONES * 0x21) & !x;
        // ...or equal to 0x7f (0x7f + 1 sets the high bit, no carry out).
        bad |= x.wrapping_add(ONES);
    }
    bad
}

/// UTF-8 validation with an inline fast path for ASCII text.
#[inline(always)]
fn utf8(data: &[u8]) -> Result<&str, ErrorKind> {
    match ascii_str(data, false) {
        Some(s) => Ok(s),
        None => core::str::from_utf8(data).map_err(|_| ErrorKind::InvalidAvpValue),
    }
}

#[inline]
fn fixed<const N: usize>(data: &[u8]) -> Result<[u8; N], ErrorKind> {
    data.try_into().map_err(|_| ErrorKind::InvalidAvpLength)
}

/// Arbitrary bytes (§4.2).
#[derive(Debug, Clone, Copy)]
pub struct OctetString;
impl AvpType for OctetString {
    type Value<'a> = &'a [u8];
    const DATA_TYPE: DataType = DataType::OctetString;
    #[inline]
    fn decode(data: &[u8]) -> Result<&[u8], ErrorKind> {
        Ok(data)
    }
    fn encoded_len(v: &&[u8]) -> usize {
        v.len()
    }
    fn encode(v: &&[u8], out: &mut [u8]) {
        out.copy_from_slice(v);
    }
}

macro_rules! number {
    ($(#[$doc:meta])* $name:ident, $t:ty, $n:expr, $dt:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name;
        impl AvpType for $name {
            type Value<'a> = $t;
            const DATA_TYPE: DataType = DataType::$dt;
            #[inline]
            fn decode(data: &[u8]) -> Result<$t, ErrorKind> {
                fixed::<$n>(data).map(<$t>::from_be_bytes)
            }
            #[inline]
            fn encoded_len(_: &$t) -> usize {
                $n
            }
            #[inline]
            fn encode(v: &$t, out: &mut [u8]) {
                out.copy_from_slice(&v.to_be_bytes());
            }
        }
    };
}

number!(
    /// 32-bit signed, network order (§4.2).
    Integer32, i32, 4, Integer32);
number!(
    /// 64-bit signed, network order (§4.2).
    Integer64, i64, 8, Integer64);
number!(
    /// 32-bit unsigned, network order (§4.2).
    Unsigned32, u32, 4, Unsigned32);
number!(
    /// 64-bit unsigned, network order (§4.2).
    Unsigned64, u64, 8, Unsigned64);
number!(
    /// IEEE 754 single precision, network order (§4.2).
    Float32, f32, 4, Float32);
number!(
    /// IEEE 754 double precision, network order (§4.2).
    Float64, f64, 8, Float64);

/// A Grouped AVP (§4.4): its data is a sequence of AVPs, read through
/// [`AvpSet`]. Encode grouped AVPs with
/// [`crate::MessageBuilder::grouped`]; encoding an `AvpSet` copies its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Grouped;
impl AvpType for Grouped {
    type Value<'a> = AvpSet<'a>;
    const DATA_TYPE: DataType = DataType::Grouped;
    /// The returned set's offsets are relative to the AVP data; prefer
    /// [`crate::Message::get`], which keeps message offsets.
    fn decode(data: &[u8]) -> Result<AvpSet<'_>, ErrorKind> {
        Ok(AvpSet::new(data, 0))
    }
    fn decode_avp<'a>(avp: &Avp<'a>) -> Result<AvpSet<'a>, ErrorKind> {
        Ok(avp.group_set())
    }
    fn encoded_len(v: &AvpSet<'_>) -> usize {
        v.as_bytes().len()
    }
    fn encode(v: &AvpSet<'_>, out: &mut [u8]) {
        out.copy_from_slice(v.as_bytes());
    }
}

/// An Address value (§4.3.1): a 2-byte IANA address family then the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AddressValue<'a> {
    /// Family 1, 4 bytes.
    V4([u8; 4]),
    /// Family 2, 16 bytes.
    V6([u8; 16]),
    /// Any other family (E.164 is 8, for example), bytes kept raw.
    Other {
        /// IANA address family number.
        family: u16,
        /// The address bytes.
        bytes: &'a [u8],
    },
}

impl AddressValue<'_> {
    /// The IANA address family number.
    pub const fn family(&self) -> u16 {
        match self {
            AddressValue::V4(_) => 1,
            AddressValue::V6(_) => 2,
            AddressValue::Other { family, .. } => *family,
        }
    }
}

impl From<core::net::Ipv4Addr> for AddressValue<'_> {
    fn from(a: core::net::Ipv4Addr) -> Self {
        AddressValue::V4(a.octets())
    }
}
impl From<core::net::Ipv6Addr> for AddressValue<'_> {
    fn from(a: core::net::Ipv6Addr) -> Self {
        AddressValue::V6(a.octets())
    }
}
impl From<core::net::IpAddr> for AddressValue<'_> {
    fn from(a: core::net::IpAddr) -> Self {
        match a {
            core::net::IpAddr::V4(a) => a.into(),
            core::net::IpAddr::V6(a) => a.into(),
        }
    }
}

/// Address (§4.3.1). IPv4 must be 4 bytes, IPv6 16; other families are kept raw.
#[derive(Debug, Clone, Copy)]
pub struct Address;
impl AvpType for Address {
    type Value<'a> = AddressValue<'a>;
    const DATA_TYPE: DataType = DataType::Address;
    fn decode(data: &[u8]) -> Result<AddressValue<'_>, ErrorKind> {
        let (fam, rest) = match data {
            [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
            _ => return Err(ErrorKind::InvalidAvpLength),
        };
        match fam {
            1 => rest
                .try_into()
                .map(AddressValue::V4)
                .map_err(|_| ErrorKind::InvalidAvpLength),
            2 => rest
                .try_into()
                .map(AddressValue::V6)
                .map_err(|_| ErrorKind::InvalidAvpLength),
            family => Ok(AddressValue::Other {
                family,
                bytes: rest,
            }),
        }
    }
    fn encoded_len(v: &AddressValue<'_>) -> usize {
        2 + match v {
            AddressValue::V4(_) => 4,
            AddressValue::V6(_) => 16,
            AddressValue::Other { bytes, .. } => bytes.len(),
        }
    }
    fn encode(v: &AddressValue<'_>, out: &mut [u8]) {
        out[..2].copy_from_slice(&v.family().to_be_bytes());
        match v {
            AddressValue::V4(a) => out[2..].copy_from_slice(a),
            AddressValue::V6(a) => out[2..].copy_from_slice(a),
            AddressValue::Other { bytes, .. } => out[2..].copy_from_slice(bytes),
        }
    }
}

/// Seconds between the NTP epoch (1900-01-01) and the Unix epoch.
pub const NTP_UNIX_OFFSET: i64 = 2_208_988_800;

/// A Diameter Time value (§4.3.1): 32-bit NTP seconds.
///
/// The 32-bit field wraps on 2036-02-07T06:28:16Z. Following RFC 6733
/// §4.3.1 (which refers to the SNTP rule of RFC 4330 §3), a value with the
/// most significant bit set counts from 1900 (1968..2036), and a value with
/// it clear counts from the 2036 wrap (2036..2104).
///
/// ```
/// use diameter_core::Timestamp;
/// let t = Timestamp::from_unix(1_704_067_200).unwrap(); // 2024-01-01
/// assert_eq!(t.ntp(), 3_913_056_000);
/// assert_eq!(t.unix(), 1_704_067_200);
/// // after the 2036 wrap
/// let late = Timestamp::from_unix(2_085_978_496 + 10).unwrap();
/// assert_eq!(late.ntp(), 10);
/// assert_eq!(late.unix(), 2_085_978_506);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timestamp(pub u32);

impl Timestamp {
    /// First Unix second representable: 1968-01-20T03:14:08Z (NTP 0x80000000).
    pub const MIN_UNIX: i64 = 0x8000_0000 - NTP_UNIX_OFFSET;
    /// Last Unix second representable: 2104-02-26T09:42:23Z (NTP 0x7fffffff, era 1).
    pub const MAX_UNIX: i64 = (1i64 << 32) + 0x7fff_ffff - NTP_UNIX_OFFSET;

    /// The raw NTP seconds on the wire.
    pub const fn ntp(self) -> u32 {
        self.0
    }

    /// Seconds since the Unix epoch, applying the 2036 rule.
    pub const fn unix(self) -> i64 {
        let ntp = self.0 as i64;
        if self.0 & 0x8000_0000 != 0 {
            ntp - NTP_UNIX_OFFSET
        } else {
            ntp + (1i64 << 32) - NTP_UNIX_OFFSET
        }
    }

    /// From seconds since the Unix epoch; `None` outside 1968..2104.
    pub const fn from_unix(unix: i64) -> Option<Self> {
        if unix < Self::MIN_UNIX || unix > Self::MAX_UNIX {
            return None;
        }
        let ntp = unix + NTP_UNIX_OFFSET; // 0x80000000 ..= 2^32 + 0x7fffffff
        Some(Timestamp((ntp & 0xffff_ffff) as u32))
    }
}

/// Time (§4.3.1).
#[derive(Debug, Clone, Copy)]
pub struct Time;
impl AvpType for Time {
    type Value<'a> = Timestamp;
    const DATA_TYPE: DataType = DataType::Time;
    #[inline]
    fn decode(data: &[u8]) -> Result<Timestamp, ErrorKind> {
        fixed::<4>(data).map(|b| Timestamp(u32::from_be_bytes(b)))
    }
    fn encoded_len(_: &Timestamp) -> usize {
        4
    }
    fn encode(v: &Timestamp, out: &mut [u8]) {
        out.copy_from_slice(&v.0.to_be_bytes());
    }
}

/// UTF8String (§4.3.1): validated UTF-8.
#[derive(Debug, Clone, Copy)]
pub struct Utf8String;
impl AvpType for Utf8String {
    type Value<'a> = &'a str;
    const DATA_TYPE: DataType = DataType::Utf8String;
    #[inline]
    fn decode(data: &[u8]) -> Result<&str, ErrorKind> {
        utf8(data)
    }
    fn encoded_len(v: &&str) -> usize {
        v.len()
    }
    fn encode(v: &&str, out: &mut [u8]) {
        out.copy_from_slice(v.as_bytes());
    }
}

/// DiameterIdentity (§4.3.1): an FQDN or realm, as non-empty printable
/// ASCII without spaces (IDNs travel as A-labels, RFC 5890).
#[derive(Debug, Clone, Copy)]
pub struct DiameterIdentity;
impl AvpType for DiameterIdentity {
    type Value<'a> = &'a str;
    const DATA_TYPE: DataType = DataType::DiameterIdentity;
    #[inline]
    fn decode(data: &[u8]) -> Result<&str, ErrorKind> {
        if data.is_empty() {
            return Err(ErrorKind::InvalidAvpValue);
        }
        ascii_str(data, true).ok_or(ErrorKind::InvalidAvpValue)
    }
    fn encoded_len(v: &&str) -> usize {
        v.len()
    }
    fn encode(v: &&str, out: &mut [u8]) {
        out.copy_from_slice(v.as_bytes());
    }
}

/// IPFilterRule (§4.3.1), kept as text: it is an ASCII rule such as
/// `permit in ip from 10.0.0.1 to any`. It must start with `permit` or `deny`.
#[derive(Debug, Clone, Copy)]
pub struct IpFilterRule;
impl AvpType for IpFilterRule {
    type Value<'a> = &'a str;
    const DATA_TYPE: DataType = DataType::IpFilterRule;
    fn decode(data: &[u8]) -> Result<&str, ErrorKind> {
        let s = core::str::from_utf8(data).map_err(|_| ErrorKind::InvalidAvpValue)?;
        if !s.is_ascii() || !(s.starts_with("permit") || s.starts_with("deny")) {
            return Err(ErrorKind::InvalidAvpValue);
        }
        Ok(s)
    }
    fn encoded_len(v: &&str) -> usize {
        v.len()
    }
    fn encode(v: &&str, out: &mut [u8]) {
        out.copy_from_slice(v.as_bytes());
    }
}

/// Transport of a DiameterURI (§4.3.1 `transport=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum UriTransport {
    /// `tcp`
    Tcp,
    /// `sctp`
    Sctp,
    /// `udp`
    Udp,
}

/// Protocol of a DiameterURI (§4.3.1 `protocol=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum UriProtocol {
    /// `diameter`
    Diameter,
    /// `radius`
    Radius,
    /// `tacacs+`
    TacacsPlus,
}

/// A parsed DiameterURI (§4.3.1):
/// `"aaa://" | "aaas://" FQDN [ ":" port ] [ ";transport=" t ] [ ";protocol=" p ]`.
///
/// The original text is kept, so encoding gives back the same bytes.
///
/// ```
/// use diameter_core::types::{Uri, UriTransport};
/// let u = Uri::parse("aaas://ocs.example.net:5658;transport=tcp;protocol=diameter").unwrap();
/// assert!(u.secure);
/// assert_eq!(u.fqdn, "ocs.example.net");
/// assert_eq!(u.port(), 5658);
/// assert_eq!(u.transport, Some(UriTransport::Tcp));
/// assert_eq!(Uri::parse("aaa://h").unwrap().port(), 3868);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Uri<'a> {
    /// The whole URI text.
    pub raw: &'a str,
    /// `aaas` (TLS/DTLS) rather than `aaa`.
    pub secure: bool,
    /// The host part.
    pub fqdn: &'a str,
    /// The explicit port, if any.
    pub explicit_port: Option<u16>,
    /// `;transport=`.
    pub transport: Option<UriTransport>,
    /// `;protocol=`.
    pub protocol: Option<UriProtocol>,
}

impl<'a> Uri<'a> {
    /// Parse a DiameterURI; `None` if it does not follow §4.3.1.
    pub fn parse(raw: &'a str) -> Option<Uri<'a>> {
        let (secure, rest) = if let Some(r) = raw.strip_prefix("aaas://") {
            (true, r)
        } else if let Some(r) = raw.strip_prefix("aaa://") {
            (false, r)
        } else {
            return None;
        };
        let mut parts = rest.split(';');
        let hostport = parts.next()?;
        let (fqdn, explicit_port) = match hostport.rsplit_once(':') {
            Some((h, p)) => {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (h, Some(p.parse::<u16>().ok()?))
            }
            None => (hostport, None),
        };
        let host_ok = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_';
        if fqdn.is_empty() || !fqdn.bytes().all(host_ok) {
            return None;
        }
        let mut transport = None;
        let mut protocol = None;
        for p in parts {
            let (k, v) = p.split_once('=')?;
            match k {
                "transport" if transport.is_none() => {
                    transport = Some(match v {
                        "tcp" => UriTransport::Tcp,
                        "sctp" => UriTransport::Sctp,
                        "udp" => UriTransport::Udp,
                        _ => return None,
                    })
                }
                "protocol" if protocol.is_none() => {
                    protocol = Some(match v {
                        "diameter" => UriProtocol::Diameter,
                        "radius" => UriProtocol::Radius,
                        "tacacs+" => UriProtocol::TacacsPlus,
                        _ => return None,
                    })
                }
                _ => return None,
            }
        }
        Some(Uri {
            raw,
            secure,
            fqdn,
            explicit_port,
            transport,
            protocol,
        })
    }

    /// The port: explicit, else 3868 for `aaa` and 5658 for `aaas` (§4.3.1).
    pub const fn port(&self) -> u16 {
        match self.explicit_port {
            Some(p) => p,
            None if self.secure => 5658,
            None => 3868,
        }
    }
}

impl fmt::Display for Uri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw)
    }
}

/// DiameterURI (§4.3.1).
#[derive(Debug, Clone, Copy)]
pub struct DiameterUri;
impl AvpType for DiameterUri {
    type Value<'a> = Uri<'a>;
    const DATA_TYPE: DataType = DataType::DiameterUri;
    fn decode(data: &[u8]) -> Result<Uri<'_>, ErrorKind> {
        let s = core::str::from_utf8(data).map_err(|_| ErrorKind::InvalidAvpValue)?;
        Uri::parse(s).ok_or(ErrorKind::InvalidAvpValue)
    }
    fn encoded_len(v: &Uri<'_>) -> usize {
        v.raw.len()
    }
    fn encode(v: &Uri<'_>, out: &mut [u8]) {
        out.copy_from_slice(v.raw.as_bytes());
    }
}

/// One named value of an Enumerated AVP: the wire value and its name in
/// the defining document (`INITIAL_REQUEST`, `END_USER_E164`, ...).
///
/// ```
/// use diameter_core::dict::base::DisconnectCause;
/// use diameter_core::types::Enumeration;
/// let v = DisconnectCause::NAMES[1];
/// assert_eq!((v.value, v.name), (1, "BUSY"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EnumValue {
    /// The wire value.
    pub value: i32,
    /// The name, as the defining RFC or specification spells it.
    pub name: &'static str,
}

/// The name of `value` in a table of named values (see [`EnumValue`]).
///
/// ```
/// use diameter_core::dict::base::DisconnectCause;
/// use diameter_core::types::{value_name, Enumeration};
/// assert_eq!(value_name(DisconnectCause::NAMES, 2), Some("DO_NOT_WANT_TO_TALK_TO_YOU"));
/// assert_eq!(value_name(DisconnectCause::NAMES, 9), None);
/// ```
pub fn value_name(table: &[EnumValue], value: i32) -> Option<&'static str> {
    table.iter().find(|v| v.value == value).map(|v| v.name)
}

/// The value named `name` in a table of named values (ASCII
/// case-insensitive), the reverse of [`value_name`].
///
/// ```
/// use diameter_core::dict::base::DisconnectCause;
/// use diameter_core::types::{value_of, Enumeration};
/// assert_eq!(value_of(DisconnectCause::NAMES, "busy"), Some(1));
/// ```
pub fn value_of(table: &[EnumValue], name: &str) -> Option<i32> {
    table
        .iter()
        .find(|v| v.name.eq_ignore_ascii_case(name))
        .map(|v| v.value)
}

/// A Rust enum for an Enumerated AVP's values. Unknown values must survive a
/// round trip, so implementors keep them (see [`crate::enumeration!`]).
pub trait Enumeration: Copy {
    /// The named values, in definition order (empty when the type names
    /// none, as for a plain `i32`). Dictionary entries carry them
    /// ([`crate::dict::AvpInfo::values`]) so that generic tools can print
    /// `INITIAL_REQUEST` rather than `1`.
    const NAMES: &'static [EnumValue] = &[];
    /// From the wire value.
    fn from_i32(v: i32) -> Self;
    /// To the wire value.
    fn to_i32(self) -> i32;
}

impl Enumeration for i32 {
    fn from_i32(v: i32) -> Self {
        v
    }
    fn to_i32(self) -> i32 {
        self
    }
}

/// Enumerated (§4.3.1): an Integer32 whose values are named by `E`.
pub struct Enumerated<E>(PhantomData<E>);
impl<E: Enumeration> AvpType for Enumerated<E> {
    type Value<'a> = E;
    const DATA_TYPE: DataType = DataType::Enumerated;
    const VALUE_NAMES: &'static [EnumValue] = E::NAMES;
    #[inline]
    fn decode(data: &[u8]) -> Result<E, ErrorKind> {
        fixed::<4>(data).map(|b| E::from_i32(i32::from_be_bytes(b)))
    }
    fn encoded_len(_: &E) -> usize {
        4
    }
    fn encode(v: &E, out: &mut [u8]) {
        out.copy_from_slice(&v.to_i32().to_be_bytes());
    }
}

/// Define an enum for an Enumerated AVP with an `Unknown(i32)` variant that
/// keeps values the dictionary does not name.
///
/// Each variant may give the value's name in the defining document after
/// `=>`; without one the variant's identifier is used. The names end up in
/// [`Enumeration::NAMES`] and in every dictionary entry of the type
/// ([`crate::dict::AvpInfo::values`]).
///
/// ```
/// diameter_core::enumeration! {
///     /// Colours.
///     pub enum Colour {
///         /// 0
///         Red = 0 => "RED",
///         /// 1
///         Green = 1,
///     }
/// }
/// use diameter_core::types::Enumeration;
/// assert_eq!(Colour::from_i32(1), Colour::Green);
/// assert_eq!(Colour::from_i32(9), Colour::Unknown(9));
/// assert_eq!(Colour::Unknown(9).to_i32(), 9);
/// assert_eq!(Colour::NAMES[0].name, "RED");
/// assert_eq!(Colour::NAMES[1].name, "Green");
/// assert_eq!(Colour::Green.name(), Some("Green"));
/// assert_eq!(Colour::Unknown(9).name(), None);
/// ```
#[macro_export]
macro_rules! enumeration {
    (@name $var:ident) => { stringify!($var) };
    (@name $var:ident $label:literal) => { $label };
    ($(#[$doc:meta])* pub enum $name:ident { $($(#[$vdoc:meta])* $var:ident = $val:expr $(=> $label:literal)?,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub enum $name {
            $($(#[$vdoc])* $var,)*
            /// A value this dictionary does not name, kept as received.
            Unknown(i32),
        }
        impl $crate::types::Enumeration for $name {
            const NAMES: &'static [$crate::types::EnumValue] = &[
                $($crate::types::EnumValue {
                    value: $val,
                    name: $crate::enumeration!(@name $var $($label)?),
                },)*
            ];
            fn from_i32(v: i32) -> Self {
                match v {
                    $($val => $name::$var,)*
                    other => $name::Unknown(other),
                }
            }
            fn to_i32(self) -> i32 {
                match self {
                    $($name::$var => $val,)*
                    $name::Unknown(v) => v,
                }
            }
        }
        impl $name {
            /// The value's name in the defining document; `None` for an
            /// unknown value.
            pub fn name(self) -> Option<&'static str> {
                let v = <$name as $crate::types::Enumeration>::to_i32(self);
                $crate::types::value_name(<$name as $crate::types::Enumeration>::NAMES, v)
            }
        }
        impl From<i32> for $name {
            fn from(v: i32) -> Self {
                <$name as $crate::types::Enumeration>::from_i32(v)
            }
        }
        impl From<$name> for i32 {
            fn from(v: $name) -> i32 {
                <$name as $crate::types::Enumeration>::to_i32(v)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    /// Both checks, `ascii_str`'s (SSE2 on x86-64) and the
    /// eight-bytes-at-a-time one, agree with a byte-by-byte one for every
    /// byte value at every position of strings up to 50 bytes long, among
    /// valid neighbours of both kinds.
    #[test]
    fn ascii_ok_matches_bytewise() {
        for graphic in [false, true] {
            let naive = |d: &[u8]| {
                d.iter()
                    .all(|&b| b < 0x80 && (!graphic || b.is_ascii_graphic()))
            };
            // Under Miri (which checks the `unsafe` blocks) a sample: one
            // length of each path, the boundary values at both ends.
            let (lens, fills, values): (std::vec::Vec<usize>, &[u8], std::vec::Vec<u8>) =
                if cfg!(miri) {
                    let lens = std::vec![1, 4, 7, 8, 15, 16, 17, 32, 33, 48, 49];
                    (lens, b"a", std::vec![0x20, 0x21, 0x7e, 0x7f, 0x80])
                } else {
                    ((1..=50).collect(), b"a~!0", (0..=255u8).collect())
                };
            // Both paths: SSE2 on x86-64 hosts, SWAR elsewhere.
            for len in lens {
                for &fill in fills {
                    let positions: std::vec::Vec<usize> = match cfg!(miri) {
                        true => std::vec![0, len - 1],
                        false => (0..len).collect(),
                    };
                    for pos in positions {
                        for &v in &values {
                            let mut d = std::vec![fill; len];
                            d[pos] = v;
                            let want = naive(&d);
                            let s = ascii_str(&d, graphic);
                            assert_eq!(s.is_some(), want, "{graphic} {d:?}");
                            assert_eq!(ascii_ok(&d, graphic), want, "{graphic} {d:?}");
                        }
                    }
                }
            }
            assert!(ascii_ok(&[], graphic) && ascii_str(&[], graphic) == Some(""));
        }
    }

    fn rt<T: AvpType>(v: T::Value<'_>)
    where
        for<'a> T::Value<'a>: PartialEq + fmt::Debug,
    {
        let mut out = [0u8; 64];
        let n = T::encoded_len(&v);
        T::encode(&v, &mut out[..n]);
        let back = T::decode(&out[..n]).unwrap();
        assert_eq!(format!("{back:?}"), format!("{v:?}"));
    }

    #[test]
    fn numbers_round_trip_and_fixed_sizes() {
        rt::<Integer32>(-5);
        rt::<Integer32>(i32::MIN);
        rt::<Integer64>(i64::MAX);
        rt::<Unsigned32>(u32::MAX);
        rt::<Unsigned64>(0);
        rt::<Float32>(1.5);
        rt::<Float64>(-2.25);
        for n in [0usize, 3, 5, 8] {
            assert_eq!(
                Unsigned32::decode(&[0u8; 16][..n]),
                Err(ErrorKind::InvalidAvpLength)
            );
        }
        for n in [0usize, 4, 7, 9] {
            assert_eq!(
                Unsigned64::decode(&[0u8; 16][..n]),
                Err(ErrorKind::InvalidAvpLength)
            );
        }
        assert!(Float64::decode(&f64::NAN.to_be_bytes()).unwrap().is_nan());
        assert_eq!(Integer32::decode(&[0xff; 4]), Ok(-1));
    }

    #[test]
    fn strings() {
        assert_eq!(Utf8String::decode("héllo".as_bytes()), Ok("héllo"));
        assert_eq!(Utf8String::decode(&[0xc3]), Err(ErrorKind::InvalidAvpValue));
        assert_eq!(
            Utf8String::decode(&[0xff, 0xfe]),
            Err(ErrorKind::InvalidAvpValue)
        );
        assert_eq!(Utf8String::decode(b""), Ok(""));
        assert_eq!(DiameterIdentity::decode(b"a.example"), Ok("a.example"));
        assert_eq!(
            DiameterIdentity::decode(b""),
            Err(ErrorKind::InvalidAvpValue)
        );
        assert_eq!(
            DiameterIdentity::decode(b"a b"),
            Err(ErrorKind::InvalidAvpValue)
        );
        assert_eq!(
            DiameterIdentity::decode("é".as_bytes()),
            Err(ErrorKind::InvalidAvpValue)
        );
        assert!(IpFilterRule::decode(b"permit in ip from any to 10.0.0.1").is_ok());
        assert!(IpFilterRule::decode(b"allow everything").is_err());
        rt::<OctetString>(&[0, 1, 2]);
    }

    #[test]
    fn addresses() {
        rt::<Address>(AddressValue::V4([10, 0, 0, 1]));
        rt::<Address>(AddressValue::V6([1; 16]));
        rt::<Address>(AddressValue::Other {
            family: 8,
            bytes: b"4412345",
        });
        assert_eq!(
            Address::decode(&[0, 1, 1, 2, 3]),
            Err(ErrorKind::InvalidAvpLength)
        );
        assert_eq!(
            Address::decode(&[0, 2, 1, 2, 3, 4]),
            Err(ErrorKind::InvalidAvpLength)
        );
        assert_eq!(Address::decode(&[0]), Err(ErrorKind::InvalidAvpLength));
        let ip: core::net::IpAddr = "::1".parse().unwrap();
        assert_eq!(AddressValue::from(ip).family(), 2);
    }

    #[test]
    fn time_eras() {
        // 1900 era
        assert_eq!(Timestamp(0x8000_0000).unix(), Timestamp::MIN_UNIX);
        assert_eq!(Timestamp::from_unix(0).unwrap().ntp(), 2_208_988_800);
        assert_eq!(Timestamp(2_208_988_800).unix(), 0);
        // last second of era 0, first of era 1
        let wrap = (1i64 << 32) - NTP_UNIX_OFFSET; // 2036-02-07T06:28:16Z
        assert_eq!(Timestamp::from_unix(wrap - 1).unwrap().ntp(), u32::MAX);
        assert_eq!(Timestamp::from_unix(wrap).unwrap().ntp(), 0);
        assert_eq!(Timestamp(0).unix(), wrap);
        assert_eq!(Timestamp(0x7fff_ffff).unix(), Timestamp::MAX_UNIX);
        assert!(Timestamp::from_unix(Timestamp::MAX_UNIX + 1).is_none());
        assert!(Timestamp::from_unix(Timestamp::MIN_UNIX - 1).is_none());
        for u in [
            Timestamp::MIN_UNIX,
            0,
            1_704_067_200,
            wrap,
            Timestamp::MAX_UNIX,
        ] {
            assert_eq!(Timestamp::from_unix(u).unwrap().unix(), u);
        }
        assert_eq!(Time::decode(&[0; 3]), Err(ErrorKind::InvalidAvpLength));
    }

    #[test]
    fn uris() {
        let u = Uri::parse("aaa://host.example.com:6666;transport=tcp;protocol=diameter").unwrap();
        assert_eq!(u.fqdn, "host.example.com");
        assert_eq!(u.port(), 6666);
        assert_eq!(u.protocol, Some(UriProtocol::Diameter));
        assert_eq!(Uri::parse("aaas://a.b").unwrap().port(), 5658);
        for bad in [
            "http://a",
            "aaa://",
            "aaa://a:",
            "aaa://a:99999",
            "aaa://a;transport=ftp",
            "aaa://a;foo=bar",
            "aaa://a;transport=tcp;transport=tcp",
            "aaa://a b",
            "aaa://a;transport",
        ] {
            assert!(Uri::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(
            DiameterUri::decode(&[0xff]),
            Err(ErrorKind::InvalidAvpValue)
        );
    }

    crate::enumeration! {
        /// test
        pub enum Cause {
            /// 0
            A = 0,
            /// 2
            B = 2,
        }
    }

    #[test]
    fn enums_keep_unknown() {
        rt::<Enumerated<Cause>>(Cause::B);
        rt::<Enumerated<Cause>>(Cause::Unknown(-7));
        assert_eq!(Enumerated::<Cause>::decode(&[0, 0, 0, 2]), Ok(Cause::B));
        assert_eq!(
            Enumerated::<i32>::decode(&[0, 0, 1]),
            Err(ErrorKind::InvalidAvpLength)
        );
    }

    #[test]
    fn datatype_check() {
        assert_eq!(
            DataType::Unsigned32.check(&[0; 5]),
            Err(ErrorKind::InvalidAvpLength)
        );
        assert_eq!(
            DataType::Utf8String.check(&[0xff]),
            Err(ErrorKind::InvalidAvpValue)
        );
        assert_eq!(DataType::Grouped.fixed_len(), None);
        assert_eq!(DataType::Time.fixed_len(), Some(4));
    }

    /// Each type's decoder refuses exactly what its data type's check
    /// refuses, with the same error: a reader that decodes an AVP in place
    /// of the validator's check (`read::WalkState::read`) answers as the
    /// validator would. Every length up to 20 bytes, with bytes of every
    /// kind the checks tell apart (ASCII, space, control, high, address
    /// families, URI text).
    #[test]
    fn decoders_refuse_what_checks_refuse() {
        fn agree<T: AvpType>(data: &[u8]) {
            let decoded = T::decode(data).err();
            assert_eq!(
                decoded,
                T::DATA_TYPE.check(data).err(),
                "{:?} {data:02x?}",
                T::DATA_TYPE
            );
        }
        let fills: [&[u8]; 8] = [
            b"a",
            b" ",
            b"\x00",
            b"\xc3\xa9",
            b"\xff",
            &[0, 1, 10, 0, 0, 1],
            b"aaa://h.example:3868;transport=tcp",
            b"permit in ip from any to any",
        ];
        let mut buf = [0u8; 40];
        for fill in fills {
            for len in 0..=fill.len().max(20).min(buf.len()) {
                for (i, b) in buf[..len].iter_mut().enumerate() {
                    *b = fill[i % fill.len()];
                }
                let data = &buf[..len];
                agree::<OctetString>(data);
                agree::<Integer32>(data);
                agree::<Integer64>(data);
                agree::<Unsigned32>(data);
                agree::<Unsigned64>(data);
                agree::<Float32>(data);
                agree::<Float64>(data);
                agree::<Address>(data);
                agree::<Time>(data);
                agree::<Utf8String>(data);
                agree::<DiameterIdentity>(data);
                agree::<DiameterUri>(data);
                agree::<IpFilterRule>(data);
                agree::<Enumerated<i32>>(data);
            }
        }
    }
}
