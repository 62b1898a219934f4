//! Encoding messages straight into a caller's buffer.
//!
//! [`MessageBuilder`] writes the header, then each AVP in place (header,
//! data, zeroed padding). Grouped AVPs are written by a closure and their
//! length is patched when it returns; the message length is patched by
//! [`MessageBuilder::finish`].
//!
//! Errors are sticky: after the buffer runs out, later `put`s only count
//! bytes, and `finish` returns [`EncodeError::BufferTooSmall`] with the size
//! the whole message needs. A partial message is never returned as a
//! success. Nothing here allocates, and nothing panics for any buffer size.
//!
//! ```
//! use diameter_core::{MessageBuilder, HeaderRepr, CommandCode, ApplicationId, EncodeError};
//! use diameter_core::dict::base;
//! let hdr = HeaderRepr::request(CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, 1, 2);
//! let mut small = [0u8; 30];
//! let mut b = MessageBuilder::new(&mut small, hdr);
//! b.put(&base::ORIGIN_HOST, "client.example.org");
//! assert_eq!(b.finish(), Err(EncodeError::BufferTooSmall { needed: 48 }));
//! ```

use crate::avp::{padded, Avp, AvpFlags, AVP_HEADER_LEN, AVP_HEADER_LEN_VENDOR};
use crate::dict::AvpDef;
use crate::error::EncodeError;
use crate::header::{HeaderRepr, HEADER_LEN, MAX_MESSAGE_LEN};
use crate::message::Message;
use crate::types::{AvpType, Grouped};

/// Builds one message into a borrowed buffer.
#[derive(Debug)]
pub struct MessageBuilder<'b> {
    buf: &'b mut [u8],
    header: HeaderRepr,
    pos: usize,
    overflow: bool,
    error: Option<EncodeError>,
}

impl<'b> MessageBuilder<'b> {
    /// Start a message with `header`; AVPs follow with `put` and friends.
    pub fn new(buf: &'b mut [u8], header: HeaderRepr) -> Self {
        let overflow = buf.len() < HEADER_LEN;
        MessageBuilder {
            buf,
            header,
            pos: HEADER_LEN,
            overflow,
            error: None,
        }
    }

    /// Start the answer to `request` (§6.2): same Command-Code, Application-Id,
    /// Hop-by-Hop and End-to-End identifiers, P bit copied, R cleared; the
    /// request's Session-Id, if any, is copied as the first AVP (§8.8).
    pub fn answer_to(buf: &'b mut [u8], request: &Message<'_>) -> Self {
        let mut b = MessageBuilder::new(buf, request.header().answer());
        if let Some(sid) = request.find(263, 0) {
            b.put_raw(263, None, AvpFlags::MANDATORY, sid.data());
        }
        b
    }

    /// The header being built.
    pub const fn header(&self) -> HeaderRepr {
        self.header
    }

    /// Change the header (e.g. set the E or T bit) before `finish`.
    pub fn set_header(&mut self, header: HeaderRepr) -> &mut Self {
        self.header = header;
        self
    }

    /// Bytes written (or needed, after an overflow) so far, header included.
    pub const fn len(&self) -> usize {
        self.pos
    }

    /// Never true: the header is always counted. Present for clippy's sake.
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// Whether everything so far fit in the buffer.
    pub const fn fits(&self) -> bool {
        !self.overflow && self.error.is_none()
    }

    /// Reserve an AVP of `data_len` data bytes; write its header and zero its
    /// padding. Returns the data bytes to fill, or `None` once the buffer is
    /// exhausted (or the message is in error).
    // Inlined on hosts for speed; on bare metal (flash) the compiler decides.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    fn reserve(
        &mut self,
        code: u32,
        vendor: Option<u32>,
        flags: AvpFlags,
        data_len: usize,
    ) -> Option<&mut [u8]> {
        let hdr = if vendor.is_some() {
            AVP_HEADER_LEN_VENDOR
        } else {
            AVP_HEADER_LEN
        };
        let len = hdr.saturating_add(data_len);
        if len > MAX_MESSAGE_LEN {
            return self.too_long();
        }
        let start = self.pos;
        let end = start.saturating_add(padded(len));
        self.pos = end;
        if self.overflow | self.error.is_some() {
            self.overflow = true;
            return None;
        }
        let Some(out) = self.buf.get_mut(start..end) else {
            self.overflow = true;
            return None;
        };
        let flags = match vendor {
            Some(_) => flags.0 | AvpFlags::VENDOR.0,
            None => flags.0 & !AvpFlags::VENDOR.0,
        };
        // The padding (0 to 3 bytes) lies in the last word, which is past the
        // header (`out` is at least 8 bytes): zero that word first, then write
        // the header; the data goes over the rest of it.
        let n = out.len();
        out[n - 4..].fill(0);
        let (head, rest) = out.split_at_mut(8);
        head[..4].copy_from_slice(&code.to_be_bytes());
        head[4..].copy_from_slice(&((u32::from(flags) << 24) | len as u32).to_be_bytes());
        let data = match vendor {
            Some(v) => {
                let (id, data) = rest.split_at_mut(4);
                id.copy_from_slice(&v.to_be_bytes());
                data
            }
            None => rest,
        };
        data.get_mut(..data_len)
    }

    #[cold]
    #[inline(never)]
    fn too_long<T>(&mut self) -> Option<T> {
        self.error = Some(EncodeError::TooLong);
        None
    }

    /// Append an AVP of `def` with its default flags (every MUST bit set).
    #[inline]
    pub fn put<T: AvpType>(&mut self, def: &AvpDef<T>, value: T::Value<'_>) -> &mut Self {
        self.put_with_flags(def, def.info.flags.default_flags(), value)
    }

    /// Append an AVP of `def` with explicit flags. The V bit follows the
    /// definition's vendor (set when it is not 0) whatever `flags` says.
    // Inlined on hosts for speed; on bare metal (flash) the compiler decides.
    #[cfg_attr(not(target_os = "none"), inline)]
    pub fn put_with_flags<T: AvpType>(
        &mut self,
        def: &AvpDef<T>,
        flags: AvpFlags,
        value: T::Value<'_>,
    ) -> &mut Self {
        let vendor = (def.info.vendor != 0).then_some(def.info.vendor);
        let n = T::encoded_len(&value);
        if let Some(out) = self.reserve(def.info.code, vendor, flags, n) {
            T::encode(&value, out);
        }
        self
    }

    /// Append an AVP from raw parts: `vendor` `Some` sets the V bit and the
    /// Vendor-ID field. For unknown AVPs and pass-through.
    pub fn put_raw(
        &mut self,
        code: u32,
        vendor: Option<u32>,
        flags: AvpFlags,
        data: &[u8],
    ) -> &mut Self {
        if let Some(out) = self.reserve(code, vendor, flags, data.len()) {
            out.copy_from_slice(data);
        }
        self
    }

    /// Copy an AVP received in another message, flags and all.
    pub fn put_avp(&mut self, avp: &Avp<'_>) -> &mut Self {
        let vendor = avp.flags().is_vendor().then_some(avp.vendor());
        self.put_raw(avp.code(), vendor, avp.flags(), avp.data())
    }

    /// Append a Grouped AVP of `def` whose content `f` writes.
    ///
    /// ```
    /// use diameter_core::{MessageBuilder, HeaderRepr, CommandCode, ApplicationId, Message};
    /// use diameter_core::dict::base;
    /// let mut buf = [0u8; 128];
    /// let hdr = HeaderRepr::request(CommandCode::CAPABILITIES_EXCHANGE, ApplicationId::COMMON, 1, 1);
    /// let mut b = MessageBuilder::new(&mut buf, hdr);
    /// b.grouped(&base::VENDOR_SPECIFIC_APPLICATION_ID, |g| {
    ///     g.put(&base::VENDOR_ID, 10415).put(&base::AUTH_APPLICATION_ID, 16777238);
    /// });
    /// let bytes = b.finish().unwrap();
    /// let m = Message::parse_with(bytes, &base::Base).unwrap();
    /// let vsai = m.get(&base::VENDOR_SPECIFIC_APPLICATION_ID).unwrap().unwrap();
    /// assert_eq!(vsai.get(&base::VENDOR_ID).unwrap(), Some(10415));
    /// ```
    pub fn grouped(&mut self, def: &AvpDef<Grouped>, f: impl FnOnce(&mut Self)) -> &mut Self {
        let vendor = (def.info.vendor != 0).then_some(def.info.vendor);
        self.grouped_raw(def.info.code, vendor, def.info.flags.default_flags(), f)
    }

    /// [`MessageBuilder::grouped`] from raw parts.
    pub fn grouped_raw(
        &mut self,
        code: u32,
        vendor: Option<u32>,
        flags: AvpFlags,
        f: impl FnOnce(&mut Self),
    ) -> &mut Self {
        let start = self.pos;
        let placed = self.reserve(code, vendor, flags, 0).is_some();
        f(self);
        let len = self.pos - start;
        if len > MAX_MESSAGE_LEN {
            self.error = Some(EncodeError::TooLong);
        } else if placed && !self.overflow && self.error.is_none() {
            let w = (u32::from(self.buf[start + 4]) << 24) | len as u32;
            self.buf[start + 4..start + 8].copy_from_slice(&w.to_be_bytes());
        }
        self
    }

    /// Patch the message length and return the message bytes.
    pub fn finish(self) -> Result<&'b [u8], EncodeError> {
        let MessageBuilder {
            buf,
            header,
            pos,
            overflow,
            error,
        } = self;
        if let Some(e) = error {
            return Err(e);
        }
        if pos > MAX_MESSAGE_LEN {
            return Err(EncodeError::TooLong);
        }
        if header.command_code.0 > 0xff_ffff {
            // The Command-Code field has 24 bits (§3): never truncate.
            return Err(EncodeError::InvalidValue);
        }
        if overflow {
            return Err(EncodeError::BufferTooSmall { needed: pos });
        }
        header.emit(buf, pos as u32);
        Ok(&buf[..pos])
    }
}

/// Build a message into a `heapless::Vec`, which holds exactly the message
/// on success and is left empty on error.
///
/// ```
/// use diameter_core::{encode::encode_into_vec, HeaderRepr, CommandCode, ApplicationId};
/// use diameter_core::dict::base;
/// let mut v: heapless::Vec<u8, 128> = heapless::Vec::new();
/// let hdr = HeaderRepr::request(CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, 1, 2);
/// encode_into_vec(&mut v, hdr, |b| { b.put(&base::ORIGIN_HOST, "a.example"); }).unwrap();
/// assert_eq!(v.len(), 20 + 20);
/// ```
pub fn encode_into_vec<const N: usize>(
    vec: &mut heapless::Vec<u8, N>,
    header: HeaderRepr,
    f: impl FnOnce(&mut MessageBuilder<'_>),
) -> Result<(), EncodeError> {
    vec.clear();
    // Cannot fail: N is the capacity.
    let _ = vec.resize(N, 0);
    let mut b = MessageBuilder::new(vec.as_mut_slice(), header);
    f(&mut b);
    match b.finish() {
        Ok(bytes) => {
            let n = bytes.len();
            vec.truncate(n);
            Ok(())
        }
        Err(e) => {
            vec.clear();
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dict::base;
    use crate::header::{ApplicationId, CommandCode};
    use crate::message::Message;

    fn hdr() -> HeaderRepr {
        HeaderRepr::request(CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, 1, 2)
    }

    #[test]
    fn every_size_is_clean() {
        let mut full = [0u8; 256];
        let mut b = MessageBuilder::new(&mut full, hdr());
        b.put(&base::ORIGIN_HOST, "a.example");
        b.grouped(&base::VENDOR_SPECIFIC_APPLICATION_ID, |g| {
            g.put(&base::VENDOR_ID, 10415);
        });
        let want = b.finish().unwrap().to_vec();
        for size in 0..want.len() + 4 {
            let mut buf = [0xaau8; 256];
            let mut b = MessageBuilder::new(&mut buf[..size], hdr());
            b.put(&base::ORIGIN_HOST, "a.example");
            b.grouped(&base::VENDOR_SPECIFIC_APPLICATION_ID, |g| {
                g.put(&base::VENDOR_ID, 10415);
            });
            match b.finish() {
                Ok(bytes) => {
                    assert!(size >= want.len());
                    assert_eq!(bytes, &want[..]);
                }
                Err(e) => {
                    assert!(size < want.len());
                    assert_eq!(e, EncodeError::BufferTooSmall { needed: want.len() });
                }
            }
        }
    }

    #[test]
    fn padding_is_zeroed_and_raw_copy() {
        let mut buf = [0xffu8; 64];
        let mut b = MessageBuilder::new(&mut buf, hdr());
        b.put_raw(999, Some(7), AvpFlags::NONE, &[1, 2, 3]);
        let bytes = b.finish().unwrap();
        assert_eq!(bytes.len(), 20 + 16);
        assert_eq!(&bytes[32..36], &[1, 2, 3, 0]);
        let m = Message::parse(bytes).unwrap();
        let a = m.find(999, 7).unwrap();
        assert!(a.flags().is_vendor());
        let mut out = [0u8; 64];
        let mut b = MessageBuilder::new(&mut out, hdr());
        b.put_avp(&a);
        assert_eq!(b.finish().unwrap(), bytes);
    }

    #[test]
    fn vec_encode() {
        let mut v: heapless::Vec<u8, 24> = heapless::Vec::new();
        let r = encode_into_vec(&mut v, hdr(), |b| {
            b.put(&base::ORIGIN_HOST, "a.example");
        });
        assert_eq!(r, Err(EncodeError::BufferTooSmall { needed: 40 }));
        assert!(v.is_empty());
    }
}
