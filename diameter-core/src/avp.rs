//! AVPs (RFC 6733 §4.1): header, flags, padding and a zero-copy iterator.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                           AVP Code                            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |V M P r r r r r|                  AVP Length                   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        Vendor-ID (opt)                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |    Data ...
//! +-+-+-+-+-+-+-+-+
//! ```
//!
//! The AVP Length covers header and data but not the padding that aligns the
//! next AVP on 4 bytes. [`AvpIter`] walks a byte slice of AVPs (a message
//! body or a Grouped AVP's data), yields borrowed [`Avp`]s, and stops at the
//! first malformed header with an [`Error`] that points at it.
//!
//! No-panic promise: nothing in this module panics on any input.

use crate::error::{Error, ErrorAvp, ErrorKind};

/// AVP header length without Vendor-ID.
pub const AVP_HEADER_LEN: usize = 8;
/// AVP header length with Vendor-ID (V bit set).
pub const AVP_HEADER_LEN_VENDOR: usize = 12;

/// Bytes of padding after data of `len` bytes to reach a multiple of 4.
#[inline]
pub const fn padding(len: usize) -> usize {
    (4 - (len & 3)) & 3
}

/// `len` rounded up to a multiple of 4.
#[inline]
pub const fn padded(len: usize) -> usize {
    (len + 3) & !3
}

/// AVP flags (§4.1): V, M, P and five reserved bits.
///
/// ```
/// use diameter_core::AvpFlags;
/// let f = AvpFlags::VENDOR | AvpFlags::MANDATORY;
/// assert!(f.is_vendor() && f.is_mandatory() && !f.is_protected());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AvpFlags(pub u8);

impl AvpFlags {
    /// V: a Vendor-ID field follows the length.
    pub const VENDOR: AvpFlags = AvpFlags(0x80);
    /// M: the receiver must understand this AVP or reject the message (5001).
    pub const MANDATORY: AvpFlags = AvpFlags(0x40);
    /// P: end-to-end security (deprecated by RFC 6733, must be 0 for base AVPs).
    pub const PROTECTED: AvpFlags = AvpFlags(0x20);
    /// The five reserved bits.
    pub const RESERVED: AvpFlags = AvpFlags(0x1f);
    /// No flag.
    pub const NONE: AvpFlags = AvpFlags(0);

    /// Raw bits.
    pub const fn bits(self) -> u8 {
        self.0
    }
    /// V bit.
    pub const fn is_vendor(self) -> bool {
        self.0 & 0x80 != 0
    }
    /// M bit.
    pub const fn is_mandatory(self) -> bool {
        self.0 & 0x40 != 0
    }
    /// P bit.
    pub const fn is_protected(self) -> bool {
        self.0 & 0x20 != 0
    }
}

impl core::ops::BitOr for AvpFlags {
    type Output = AvpFlags;
    fn bitor(self, rhs: Self) -> Self {
        AvpFlags(self.0 | rhs.0)
    }
}

/// A Vendor-Id (§5.3.3). 0 is IETF; 10415 is 3GPP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct VendorId(pub u32);

impl VendorId {
    /// IETF (no vendor).
    pub const IETF: VendorId = VendorId(0);
    /// 3GPP.
    pub const TGPP: VendorId = VendorId(10415);
}

/// One AVP borrowed from a message buffer.
///
/// Vendor 0 with the V bit clear is "no vendor"; with the V bit set the
/// Vendor-ID field is present even if it is 0, and [`Avp::flags`] says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Avp<'a> {
    code: u32,
    flags: AvpFlags,
    vendor: u32,
    offset: u32,
    hdr: u8,
    raw: &'a [u8],
}

impl<'a> Avp<'a> {
    /// AVP code.
    #[inline]
    pub const fn code(&self) -> u32 {
        self.code
    }
    /// AVP flags as received.
    #[inline]
    pub const fn flags(&self) -> AvpFlags {
        self.flags
    }
    /// Vendor-ID, 0 when the V bit is clear.
    #[inline]
    pub const fn vendor(&self) -> u32 {
        self.vendor
    }
    /// The data (no header, no padding).
    #[inline]
    pub fn data(&self) -> &'a [u8] {
        // `hdr` is 8 or 12 and `raw` at least that long (checked by `parse`).
        self.raw.get(self.hdr as usize..).unwrap_or(&[])
    }
    /// Length of the AVP header: 8, or 12 with a Vendor-ID.
    #[inline]
    pub const fn header_len(&self) -> usize {
        self.hdr as usize
    }
    /// Header and data as on the wire, without padding: what Failed-AVP echoes.
    #[inline]
    pub const fn raw(&self) -> &'a [u8] {
        self.raw
    }
    /// Offset of this AVP's header from the start of the message (or of the
    /// buffer the iterator was started on).
    #[inline]
    pub const fn offset(&self) -> usize {
        self.offset as usize
    }
    /// The AVP Length field: header plus data.
    #[inline]
    pub const fn len(&self) -> usize {
        self.raw.len()
    }
    /// Always false: an AVP has at least a header. Present for clippy's sake.
    #[inline]
    pub const fn is_empty(&self) -> bool {
        false
    }
    /// Whether this AVP has the given code and vendor.
    #[inline]
    pub const fn is(&self, code: u32, vendor: u32) -> bool {
        self.code == code && self.vendor == vendor
    }

    /// A description of this AVP for error reports.
    pub const fn error_avp(&self) -> ErrorAvp {
        ErrorAvp {
            code: self.code,
            vendor: self.vendor,
            flags: self.flags.0,
            offset: Some(self.offset),
            len: self.raw.len() as u32,
        }
    }

    /// An error of `kind` about this AVP.
    pub const fn error(&self, kind: ErrorKind) -> Error {
        Error::at(kind, self.error_avp())
    }

    /// Iterate over the AVPs inside this AVP's data (a Grouped AVP).
    /// Offsets stay relative to the message.
    pub fn group(&self) -> AvpIter<'a> {
        AvpIter::with_offset(self.data(), self.offset as usize + self.hdr as usize)
    }

    /// The AVP at the start of `buf`, the bytes it occupies with its
    /// padding and the bytes after them, if its header is well formed and
    /// it fits, padding included (the checks of [`AvpIter`]). The bytes
    /// after come from the check itself, so that a walk steps on without
    /// another bounds check.
    #[inline(always)]
    pub(crate) fn parse_well_formed(
        buf: &'a [u8],
        offset: usize,
    ) -> Option<(Avp<'a>, usize, &'a [u8])> {
        // The checks of `parse`, as one flag, so that the hot loop carries
        // no error value; `parse` says what is wrong when this says no.
        let head: &[u8; 8] = buf.first_chunk()?;
        let code = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let word = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
        let flags = AvpFlags((word >> 24) as u8);
        let len = (word & 0xff_ffff) as usize;
        let (hdr, vendor) = if flags.is_vendor() {
            let v: &[u8; 12] = buf.first_chunk()?;
            (
                AVP_HEADER_LEN_VENDOR,
                u32::from_be_bytes([v[8], v[9], v[10], v[11]]),
            )
        } else {
            (AVP_HEADER_LEN, 0)
        };
        // As `len + padding`, not `padded(len)`, so that the compiler sees
        // `len <= step` and `this.get(..len)` costs no compare.
        let step = len + padding(len);
        if len < hdr {
            return None;
        }
        let (this, after) = buf.split_at_checked(step)?;
        let avp = Avp {
            code,
            flags,
            vendor,
            offset: offset as u32,
            hdr: hdr as u8,
            raw: this.get(..len)?,
        };
        Some((avp, step, after))
    }

    /// Decode one AVP from the start of `buf`. Returns the AVP and the number
    /// of bytes it occupies including padding (which may run past `buf` for
    /// the last AVP of an unpadded buffer; callers check). `offset` is the
    /// offset of `buf` in the message, used for error reports.
    #[inline(always)]
    pub fn parse(buf: &'a [u8], offset: usize) -> Result<(Avp<'a>, usize), Error> {
        if buf.len() < AVP_HEADER_LEN {
            return Err(truncated(buf, offset));
        }
        let word = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
        let code = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
        let flags = AvpFlags((word >> 24) as u8);
        let len = (word & 0xff_ffff) as usize;
        let (hdr, vendor) = if flags.is_vendor() {
            if buf.len() < AVP_HEADER_LEN_VENDOR || len < AVP_HEADER_LEN_VENDOR {
                return Err(short_vendor(code, flags, buf, offset, len));
            }
            (
                AVP_HEADER_LEN_VENDOR,
                u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]),
            )
        } else {
            (AVP_HEADER_LEN, 0)
        };
        if len < hdr || len > buf.len() {
            return Err(bad_len(code, vendor, flags, buf, offset, len));
        }
        let avp = Avp {
            code,
            flags,
            vendor,
            offset: offset as u32,
            hdr: hdr as u8,
            raw: &buf[..len],
        };
        Ok((avp, padded(len)))
    }
}

#[cold]
fn short_vendor(code: u32, flags: AvpFlags, buf: &[u8], offset: usize, len: usize) -> Error {
    let vendor = match buf.get(8..12) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
        _ => 0,
    };
    bad_len(code, vendor, flags, buf, offset, len)
}

#[cold]
fn truncated(buf: &[u8], offset: usize) -> Error {
    // Fewer than 8 bytes: report the code if we have it, as §7.5 allows
    // ("padding the incomplete AVP header with zero").
    let mut code = [0u8; 4];
    for (d, s) in code.iter_mut().zip(buf.iter()) {
        *d = *s;
    }
    let flags = buf.get(4).copied().unwrap_or(0);
    Error::at(
        ErrorKind::InvalidAvpLength,
        ErrorAvp {
            code: u32::from_be_bytes(code),
            vendor: 0,
            flags,
            offset: Some(offset as u32),
            len: buf.len() as u32,
        },
    )
}

#[cold]
fn bad_len(
    code: u32,
    vendor: u32,
    flags: AvpFlags,
    buf: &[u8],
    offset: usize,
    len: usize,
) -> Error {
    Error::at(
        ErrorKind::InvalidAvpLength,
        ErrorAvp {
            code,
            vendor,
            flags: flags.0,
            offset: Some(offset as u32),
            len: len.min(buf.len()) as u32,
        },
    )
}

/// An iterator over the AVPs of a byte slice, yielding borrowed [`Avp`]s.
///
/// After the first error it yields nothing more (it is fused). An AVP whose
/// padding would run past the end of the slice is an error (5014): inside a
/// message every AVP is padded (§4.1).
///
/// ```
/// use diameter_core::avp::AvpIter;
/// // Origin-State-Id (278), M bit, length 12, value 7
/// let bytes = [0, 0, 1, 22, 0x40, 0, 0, 12, 0, 0, 0, 7];
/// let avps: Vec<_> = AvpIter::new(&bytes).collect::<Result<_, _>>().unwrap();
/// assert_eq!(avps[0].code(), 278);
/// assert_eq!(avps[0].data(), &[0, 0, 0, 7]);
/// ```
#[derive(Debug, Clone)]
pub struct AvpIter<'a> {
    /// The bytes not yet visited.
    rest: &'a [u8],
    /// Offset of `rest` in the message, for error reports.
    offset: usize,
}

impl<'a> AvpIter<'a> {
    /// Iterate over `buf`; error offsets count from the start of `buf`.
    pub const fn new(buf: &'a [u8]) -> Self {
        AvpIter {
            rest: buf,
            offset: 0,
        }
    }

    /// Iterate over `buf`, which starts `base` bytes into the message.
    pub const fn with_offset(buf: &'a [u8], base: usize) -> Self {
        AvpIter {
            rest: buf,
            offset: base,
        }
    }

    /// The bytes not yet visited.
    pub fn remaining(&self) -> &'a [u8] {
        self.rest
    }

    /// The next well-formed AVP, or `None` at the end *or* at a malformed
    /// AVP, which then stays unvisited: call [`AvpIter::finish`] after the
    /// loop to tell the two apart. This is the iterator's hot loop without
    /// an error value per AVP; `next` is the same walk with the error in
    /// each item.
    ///
    /// ```
    /// use diameter_core::avp::AvpIter;
    /// // Origin-State-Id (278) = 7, then 5 bytes that are no AVP header.
    /// let bytes = [0, 0, 1, 22, 0x40, 0, 0, 12, 0, 0, 0, 7, 1, 2, 3, 4, 5];
    /// let mut it = AvpIter::new(&bytes);
    /// let mut codes = 0;
    /// while let Some(avp) = it.next_avp() {
    ///     codes += avp.code();
    /// }
    /// assert_eq!(codes, 278);
    /// assert_eq!(it.finish().unwrap_err().avp().unwrap().offset, Some(12));
    /// ```
    #[inline(always)]
    pub fn next_avp(&mut self) -> Option<Avp<'a>> {
        let (avp, step, after) = Avp::parse_well_formed(self.rest, self.offset)?;
        self.rest = after;
        self.offset += step;
        Some(avp)
    }

    /// After [`AvpIter::next_avp`] returned `None`: `Ok` at the end of the
    /// bytes, the error of the malformed AVP that stopped it otherwise.
    #[inline]
    pub fn finish(&self) -> Result<(), Error> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(malformed(self.rest, self.offset))
        }
    }
}

impl<'a> Iterator for AvpIter<'a> {
    type Item = Result<Avp<'a>, Error>;

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let rest = self.rest;
        let offset = self.offset;
        match Avp::parse_well_formed(rest, offset) {
            Some((avp, step, after)) => {
                self.rest = after;
                self.offset = offset + step;
                Some(Ok(avp))
            }
            None => {
                self.rest = &[];
                Some(Err(malformed(rest, offset)))
            }
        }
    }
}

/// The error [`AvpIter`] reports for the malformed AVP at the start of
/// `rest` (out of the hot loop: it is built only on failure).
#[cold]
#[inline(never)]
pub(crate) fn malformed(rest: &[u8], offset: usize) -> Error {
    match Avp::parse(rest, offset) {
        Ok((avp, _)) => avp.error(ErrorKind::InvalidAvpLength),
        Err(e) => e,
    }
}

impl core::iter::FusedIterator for AvpIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn avp(code: u32, flags: u8, len: u32, extra: &[u8]) -> [u8; 32] {
        let mut b = [0u8; 32];
        b[..4].copy_from_slice(&code.to_be_bytes());
        b[4] = flags;
        b[5..8].copy_from_slice(&len.to_be_bytes()[1..]);
        b[8..8 + extra.len()].copy_from_slice(extra);
        b
    }

    #[test]
    fn lengths_below_header_fail() {
        for len in 0..8u32 {
            let b = avp(1, 0x40, len, &[]);
            let e = AvpIter::new(&b[..16]).next().unwrap().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidAvpLength, "len {len}");
            assert_eq!(e.offset(), Some(0));
        }
        // V bit with length 8..11 is short for the vendor header.
        for len in 8..12u32 {
            let b = avp(1, 0xc0, len, &[0, 0, 0x28, 0xaf]);
            let e = AvpIter::new(&b[..16]).next().unwrap().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidAvpLength);
        }
    }

    #[test]
    fn vendor_and_padding() {
        let b = avp(873, 0xc0, 13, &[0, 0, 0x28, 0xaf, 9]);
        let mut it = AvpIter::new(&b[..16]);
        let a = it.next().unwrap().unwrap();
        assert_eq!((a.code(), a.vendor(), a.data()), (873, 10415, &[9u8][..]));
        assert_eq!(a.raw().len(), 13);
        assert!(it.next().is_none());
        // padding missing at the end of the buffer
        let e = AvpIter::new(&b[..13]).next().unwrap().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidAvpLength);
    }

    #[test]
    fn length_past_end_and_fused() {
        let b = avp(1, 0x40, 64, &[]);
        let mut it = AvpIter::new(&b[..]);
        let e = it.next().unwrap().unwrap_err();
        assert_eq!(e.avp().unwrap().len, 32);
        assert!(it.next().is_none());
        // truncated header keeps the code
        let e = AvpIter::new(&b[..5]).next().unwrap().unwrap_err();
        assert_eq!(e.avp().unwrap().code, 1);
    }

    #[test]
    fn pad_helpers() {
        assert_eq!(
            (padding(0), padding(1), padding(3), padding(4)),
            (0, 3, 1, 0)
        );
        assert_eq!((padded(5), padded(8)), (8, 8));
    }
}
