//! Answers and error answers (RFC 6733 §6.2, §7).
//!
//! [`error_answer`] turns a decode [`Error`] into the answer the RFC
//! prescribes, in one call: the request's identifiers and Session-Id, the
//! E bit for protocol errors (3xxx, §7.1.3), Origin-Host, Origin-Realm,
//! Result-Code and a Failed-AVP (§7.5) carrying the offending AVP. It works
//! from the raw request bytes, so it also answers requests that did not
//! parse. The returned builder can take more AVPs (an application's required
//! answer AVPs, Error-Message) before `finish`.
//!
//! ```
//! use diameter_core::{Message, answer::{error_answer, Identity}, dict::base, ErrorKind};
//! # let mut req = diameter_core::doc_example();
//! req[4] |= 0x20; // the E bit on a request: 3008
//! let err = Message::parse(&req).unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::InvalidHeaderBits);
//! let me = Identity { origin_host: "server.example.org", origin_realm: "example.org" };
//! let mut buf = [0u8; 256];
//! let ans = error_answer(&req, &err, &me, &base::Base, &mut buf).unwrap().finish().unwrap();
//! let ans = Message::parse(ans).unwrap();
//! assert!(ans.flags().is_error() && !ans.is_request());
//! assert_eq!(ans.get(&base::RESULT_CODE).unwrap(), Some(3008));
//! ```

use crate::avp::{AvpFlags, AvpIter, AVP_HEADER_LEN};
use crate::dict::{base, Dictionary};
use crate::encode::MessageBuilder;
use crate::error::{EncodeError, Error, ErrorKind};
use crate::header::{CommandFlags, Header, HeaderRepr, HEADER_LEN};

/// Who answers: the local Origin-Host and Origin-Realm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Identity<'a> {
    /// Origin-Host (DiameterIdentity).
    pub origin_host: &'a str,
    /// Origin-Realm (DiameterIdentity).
    pub origin_realm: &'a str,
}

/// Largest zero-filled payload written for a Failed-AVP example.
const MAX_EXAMPLE: usize = 16;

/// Largest offending AVP payload copied into Failed-AVP: a longer one is
/// answered with the zero-filled example (§7.5 allows it), so an error
/// answer always fits a peer's transmit buffer, whatever the request.
pub const MAX_FAILED_AVP_ECHO: usize = 256;

/// Start the answer to the raw request `request` for `err`.
///
/// Fails with [`EncodeError::InvalidValue`] when `request` has fewer than
/// 20 bytes (there are no identifiers to answer with); encoding errors are
/// reported by `finish` as usual.
pub fn error_answer<'b, D: Dictionary>(
    request: &[u8],
    err: &Error,
    me: &Identity<'_>,
    dict: &D,
    buf: &'b mut [u8],
) -> Result<MessageBuilder<'b>, EncodeError> {
    let h = Header::new_checked(request).map_err(|_| EncodeError::InvalidValue)?;
    let mut flags = CommandFlags(h.flags().0 & CommandFlags::PROXIABLE.0);
    if err.is_protocol_error() {
        flags = flags | CommandFlags::ERROR;
    }
    let header = HeaderRepr {
        flags,
        command_code: h.command_code(),
        application_id: h.application_id(),
        hop_by_hop: h.hop_by_hop(),
        end_to_end: h.end_to_end(),
    };
    let mut b = MessageBuilder::new(buf, header);
    // Session-Id first (§8.8), found leniently: stop at the first bad AVP.
    let body = request.get(HEADER_LEN..).unwrap_or(&[]);
    let sid = AvpIter::new(body)
        .map_while(Result::ok)
        .find(|a| a.is(263, 0))
        .and_then(|a| core::str::from_utf8(a.data()).ok().map(|_| a));
    if let Some(sid) = sid {
        // Copied with clean flags: the request's may carry reserved bits.
        b.put_raw(263, None, AvpFlags::MANDATORY, sid.data());
    }
    b.put(&base::ORIGIN_HOST, me.origin_host);
    b.put(&base::ORIGIN_REALM, me.origin_realm);
    b.put(&base::RESULT_CODE, err.result_code().get());
    // Base-protocol answers (CEA, DWA, DPA) describe their sender: nothing
    // of the request is theirs to echo.
    if !err.is_protocol_error() && header.application_id.0 != 0 {
        put_required(&mut b, request, header.command_code, dict);
    }
    if let Some(avp) = err.avp() {
        put_failed_avp(&mut b, request, err, &avp, dict);
    }
    Ok(b)
}

/// An application's answer without the E bit follows its command's
/// grammar (RFC 6733 §7.2): copy from the request every AVP that grammar
/// requires besides
/// Session-Id, Origin-Host, Origin-Realm and Result-Code (Auth- or
/// Acct-Application-Id, CC-Request-Type and -Number,
/// Accounting-Record-Type and -Number...), when the request carries a
/// well-formed one. Found leniently: the walk stops at the first bad AVP.
fn put_required<D: Dictionary>(
    b: &mut MessageBuilder<'_>,
    request: &[u8],
    code: crate::header::CommandCode,
    dict: &D,
) {
    let Some(def) = dict.command(code, false) else {
        return;
    };
    let body = request.get(HEADER_LEN..).unwrap_or(&[]);
    for rule in def.grammar.rules.iter().filter(|r| r.min > 0) {
        if rule.vendor == 0 && matches!(rule.code, 263 | 264 | 268 | 296) {
            continue;
        }
        let found = AvpIter::new(body)
            .map_while(Result::ok)
            .find(|a| a.is(rule.code, rule.vendor));
        let Some(avp) = found else {
            continue;
        };
        let intact = dict
            .avp(avp.code(), avp.vendor())
            .is_none_or(|i| i.data_type.check(avp.data()).is_ok());
        if intact {
            let vendor = (avp.vendor() != 0 || avp.flags().is_vendor()).then_some(avp.vendor());
            let flags = AvpFlags(avp.flags().0 & !AvpFlags::RESERVED.0);
            b.put_raw(avp.code(), vendor, flags, avp.data());
        }
    }
}

/// Start the answer to `request` carrying `result`: the request's header
/// (answer flags, its identifiers), its Session-Id (§8.8), Origin-Host,
/// Origin-Realm and Result-Code; the E bit for a protocol error (3xxx,
/// §7.1.3). For refusals that need no Failed-AVP: 3004 TOO_BUSY when a
/// table is full, 5002 UNKNOWN_SESSION_ID, 5012 UNABLE_TO_COMPLY.
///
/// ```
/// use diameter_core::{Message, ResultCode, answer::{result_answer, Identity}, dict::base};
/// # let req = diameter_core::doc_example();
/// let req = Message::parse(&req).unwrap();
/// let me = Identity { origin_host: "srv.example", origin_realm: "example" };
/// let mut buf = [0u8; 128];
/// let ans = result_answer(&req, ResultCode::TOO_BUSY, &me, &mut buf).finish().unwrap();
/// let ans = Message::parse(ans).unwrap();
/// assert!(ans.flags().is_error());
/// assert_eq!(ans.get(&base::RESULT_CODE).unwrap(), Some(3004));
/// ```
pub fn result_answer<'b>(
    request: &crate::message::Message<'_>,
    result: crate::result_code::ResultCode,
    me: &Identity<'_>,
    buf: &'b mut [u8],
) -> MessageBuilder<'b> {
    let mut b = MessageBuilder::answer_to(buf, request);
    if result.is_protocol_error() {
        let mut h = b.header();
        h.flags = h.flags | CommandFlags::ERROR;
        b.set_header(h);
    }
    b.put(&base::ORIGIN_HOST, me.origin_host)
        .put(&base::ORIGIN_REALM, me.origin_realm)
        .put(&base::RESULT_CODE, result.get());
    b
}

fn put_failed_avp<D: Dictionary>(
    b: &mut MessageBuilder<'_>,
    request: &[u8],
    err: &Error,
    avp: &crate::error::ErrorAvp,
    dict: &D,
) {
    let vendor_bit = avp.flags & AvpFlags::VENDOR.0 != 0;
    let vendor = vendor_bit.then_some(avp.vendor);
    let flags = AvpFlags(avp.flags & !AvpFlags::RESERVED.0);
    // Zero-filled example of the type's minimum length (§7.5 for 5005 and
    // for lengths that cannot be trusted).
    let example_len = dict
        .avp(avp.code, avp.vendor)
        .and_then(|i| i.data_type.fixed_len())
        .unwrap_or(0)
        .min(MAX_EXAMPLE);
    let zeros = [0u8; MAX_EXAMPLE];
    let example = zeros.get(..example_len).unwrap_or(&[]);
    let grouped = dict
        .avp(avp.code, avp.vendor)
        .is_some_and(|i| i.data_type == crate::types::DataType::Grouped);
    let hdr = if vendor_bit { 12 } else { AVP_HEADER_LEN };
    let echo = match (err.kind(), avp.offset) {
        (ErrorKind::MissingAvp, _) | (_, None) => None,
        // A Grouped AVP (nested too deep, say) is echoed as its header with
        // an empty payload, as §7.5 allows, not copied whole.
        _ if grouped => None,
        (kind, Some(off)) => {
            let off = off as usize;
            let raw = request.get(off..off.saturating_add(avp.len as usize));
            // For 5014, echo the AVP only when its length field is intact
            // (a wrong fixed size); a length below the header or past the
            // end gets the zero-filled example (§7.5).
            let intact = kind != ErrorKind::InvalidAvpLength
                || request
                    .get(off + 5..off + 8)
                    .map(|l| u32::from_be_bytes([0, l[0], l[1], l[2]]))
                    .is_some_and(|l| l == avp.len && l as usize >= hdr);
            raw.filter(|_| intact)
                .and_then(|raw| raw.get(hdr..))
                .filter(|data| data.len() <= MAX_FAILED_AVP_ECHO)
        }
    };
    b.grouped(&base::FAILED_AVP, |g| match echo {
        Some(data) => {
            g.put_raw(avp.code, vendor, flags, data);
        }
        None => {
            g.put_raw(avp.code, vendor, flags, example);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::{ApplicationId, CommandCode};
    use crate::message::Message;

    const ME: Identity<'static> = Identity {
        origin_host: "srv.example",
        origin_realm: "example",
    };

    #[test]
    fn missing_avp_gets_example() {
        let mut req = [0u8; 128];
        let mut b = MessageBuilder::new(
            &mut req,
            HeaderRepr::request(CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, 5, 6),
        );
        b.put(&base::ORIGIN_HOST, "c.example");
        let req = b.finish().unwrap();
        let err = Message::parse(req)
            .unwrap()
            .validate(&base::Base)
            .unwrap_err();
        let mut buf = [0u8; 256];
        let ans = error_answer(req, &err, &ME, &base::Base, &mut buf)
            .unwrap()
            .finish()
            .unwrap();
        let m = Message::parse_with(ans, &base::Base).unwrap();
        assert!(!m.flags().is_error());
        assert_eq!((m.hop_by_hop(), m.end_to_end()), (5, 6));
        assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(5005));
        let f = m.get(&base::FAILED_AVP).unwrap().unwrap();
        let inner = f.iter().next().unwrap().unwrap();
        assert_eq!(inner.code(), 296);
        assert!(inner.data().is_empty());
    }

    #[test]
    fn too_short_request() {
        let mut buf = [0u8; 64];
        let err = Error::new(ErrorKind::InvalidMessageLength);
        assert!(error_answer(&[1, 2, 3], &err, &ME, &base::Base, &mut buf).is_err());
    }
}
