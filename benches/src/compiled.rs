//! EXPERIMENT (issue 13, BENCHMARKS "Eighth look"): how fast a grammar
//! compiled per command could be. The ACR of the base protocol (RFC 6733
//! §9.7.1) validated and read by hand-written code: each AVP's code
//! dispatched once, its flags checked against constants, its value
//! decoded once into the field, its rule's seen bit set. Not the codec:
//! its errors are not those of `Message::validate` in every case (the
//! order of checks, Failed-AVP of a missing AVP); it measures a ceiling,
//! on the bench message only (`CODEC_BENCH_OPS=compiled_acr:acr-start:N`).
//! The codec's own version of it came after (`ReadAvps::listed`, DESIGN.md
//! "Readers check the AVPs they list"); this stays as the ceiling that
//! `ours_server_acr` is compared with.

use diameter_core::dict::{base, AvpInfo};
use diameter_core::message::{validate_set, ParseConfig};
use diameter_core::types::{
    AvpType, DataType, DiameterIdentity, Enumerated, OctetString, Time, Unsigned32, Unsigned64,
    Utf8String,
};
use diameter_core::{Avp, AvpFlags, CommandCode, Dictionary, Error, ErrorKind, Message};

use crate::BenchDict;

/// The fields of an ACR a record store keys on, as `server_acr` sums them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AcrFields<'a> {
    /// Session-Id.
    pub session_id: &'a str,
    /// Accounting-Record-Type.
    pub record_type: i32,
    /// Accounting-Record-Number.
    pub record_number: u32,
    /// User-Name.
    pub user_name: Option<&'a str>,
    /// Acct-Interim-Interval.
    pub interim: Option<u32>,
}

const V: u8 = AvpFlags::VENDOR.0;
const RESERVED: u8 = AvpFlags::RESERVED.0;

/// Seen bits of the rules with a minimum: Session-Id, Origin-Host,
/// Origin-Realm, Destination-Realm, Accounting-Record-Type and -Number.
const REQUIRED: u32 = 0b11_1111;

/// The compiled ACR: framed, header checked, every AVP checked and read in
/// one loop with one dispatch on its code.
#[inline]
pub fn compiled_acr(stream: &[u8]) -> Result<u64, Error> {
    let msg = crate::framed(stream)?;
    let f = decode(&msg)?;
    Ok((f.session_id.len() as u64)
        .wrapping_add(f.record_type as u64)
        .wrapping_add(u64::from(f.record_number))
        .wrapping_add(f.user_name.map_or(0, |u| u.len() as u64))
        .wrapping_add(f.interim.map_or(0, u64::from)))
}

/// Validate and read an ACR in one dispatch per AVP.
#[inline(always)]
pub fn decode<'a>(msg: &Message<'a>) -> Result<AcrFields<'a>, Error> {
    if msg.command_code() != CommandCode::ACCOUNTING || !msg.is_request() {
        return Err(Error::new(ErrorKind::CommandUnsupported));
    }
    if msg.flags().is_error() || !msg.flags().is_proxiable() {
        return Err(Error::new(ErrorKind::InvalidHeaderBits));
    }
    let mut f = AcrFields::default();
    let mut seen = 0u32;
    let mut first = true;
    let mut iter = msg.avps().iter();
    while let Some(avp) = iter.next_avp() {
        let flags = avp.flags().0;
        // Every AVP of the ACR grammar: M must, V must not (RFC 6733 §9.7.1).
        let known = |bit: u32, seen: &mut u32| -> Result<(), Error> {
            if flags & (V | RESERVED) != 0 {
                return Err(avp.error(ErrorKind::InvalidAvpBits));
            }
            if *seen & bit != 0 {
                return Err(avp.error(ErrorKind::TooManyAvps));
            }
            *seen |= bit;
            Ok(())
        };
        let val = |k: ErrorKind| avp.error(k);
        match (avp.code(), avp.vendor()) {
            (263, 0) => {
                known(1 << 0, &mut seen)?;
                if !first {
                    return Err(avp.error(ErrorKind::AvpNotAllowed));
                }
                f.session_id = Utf8String::decode(avp.data()).map_err(val)?;
            }
            (264, 0) => {
                known(1 << 1, &mut seen)?;
                DiameterIdentity::decode(avp.data()).map_err(val)?;
            }
            (296, 0) => {
                known(1 << 2, &mut seen)?;
                DiameterIdentity::decode(avp.data()).map_err(val)?;
            }
            (283, 0) => {
                known(1 << 3, &mut seen)?;
                DiameterIdentity::decode(avp.data()).map_err(val)?;
            }
            (480, 0) => {
                known(1 << 4, &mut seen)?;
                f.record_type = Enumerated::<i32>::decode(avp.data()).map_err(val)?;
            }
            (485, 0) => {
                known(1 << 5, &mut seen)?;
                f.record_number = Unsigned32::decode(avp.data()).map_err(val)?;
            }
            (259, 0) => {
                known(1 << 6, &mut seen)?;
                Unsigned32::decode(avp.data()).map_err(val)?;
            }
            (1, 0) => {
                known(1 << 7, &mut seen)?;
                f.user_name = Some(Utf8String::decode(avp.data()).map_err(val)?);
            }
            (293, 0) => {
                known(1 << 8, &mut seen)?;
                DiameterIdentity::decode(avp.data()).map_err(val)?;
            }
            (287, 0) => {
                known(1 << 9, &mut seen)?;
                Unsigned64::decode(avp.data()).map_err(val)?;
            }
            (44, 0) => {
                known(1 << 10, &mut seen)?;
                OctetString::decode(avp.data()).map_err(val)?;
            }
            (50, 0) => {
                known(1 << 11, &mut seen)?;
                Utf8String::decode(avp.data()).map_err(val)?;
            }
            (85, 0) => {
                known(1 << 12, &mut seen)?;
                f.interim = Some(Unsigned32::decode(avp.data()).map_err(val)?);
            }
            (483, 0) => {
                known(1 << 13, &mut seen)?;
                Enumerated::<i32>::decode(avp.data()).map_err(val)?;
            }
            (278, 0) => {
                known(1 << 14, &mut seen)?;
                Unsigned32::decode(avp.data()).map_err(val)?;
            }
            (55, 0) => {
                known(1 << 15, &mut seen)?;
                Time::decode(avp.data()).map_err(val)?;
            }
            // Vendor-Specific-Application-Id, Proxy-Info, Route-Record and
            // any other AVP: the generic rules (the dictionary's flags and
            // type; an unknown AVP with the M bit is refused).
            (code, vendor) => {
                if flags & RESERVED != 0 {
                    return Err(avp.error(ErrorKind::InvalidAvpBits));
                }
                match BenchDict.avp(code, vendor) {
                    Some(info) => {
                        if !info.flags.accepts(avp.flags()) {
                            return Err(avp.error(ErrorKind::InvalidAvpBits));
                        }
                        info.data_type.check(avp.data()).map_err(val)?;
                        if info.data_type == DataType::Grouped {
                            group(&avp, info)?;
                        }
                    }
                    None if avp.flags().is_mandatory() => {
                        return Err(avp.error(ErrorKind::AvpUnsupported))
                    }
                    None => {}
                }
            }
        }
        first = false;
    }
    iter.finish()?;
    if seen & REQUIRED != REQUIRED {
        return Err(Error::new(ErrorKind::MissingAvp));
    }
    Ok(f)
}

/// A Grouped AVP outside the ACR's own rules, by the generic validator:
/// its content against its grammar, or only the AVP headers of a
/// Failed-AVP (RFC 6733 §7.5).
#[cold]
#[inline(never)]
fn group(avp: &Avp<'_>, info: &AvpInfo) -> Result<(), Error> {
    if avp.is(base::FAILED_AVP.code(), 0) {
        let mut it = avp.group();
        while it.next_avp().is_some() {}
        return it.finish();
    }
    validate_set(
        avp.group_set(),
        &info.grammar,
        &BenchDict,
        &ParseConfig::DEFAULT,
        1,
    )
}
