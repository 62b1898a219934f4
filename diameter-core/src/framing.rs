//! Splitting a byte stream into Diameter messages (RFC 6733 §3: the
//! Message Length field frames messages on TCP and SCTP streams).
//!
//! Like httparse, "need more bytes" is not an error: [`Framer::check`]
//! returns [`Frame::Partial`] with the number of bytes the message needs,
//! or [`Frame::Complete`] with its length. The maximum message size is
//! checked from the header before anything is buffered, so a 16 MiB length
//! field costs nothing but an error.
//!
//! ```
//! use diameter_core::{Framer, Frame};
//! # let msg = diameter_core::doc_example();
//! let framer = Framer::new(4096);
//! assert_eq!(framer.check(&msg[..10]), Ok(Frame::Partial { needed: 80 }));
//! assert_eq!(framer.check(&msg), Ok(Frame::Complete(80)));
//! ```

use crate::error::{Error, ErrorKind};
use crate::header::{HEADER_LEN, MAX_MESSAGE_LEN, VERSION};

/// The framer's verdict on the bytes at the start of a stream buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Frame {
    /// A whole message of this many bytes is at the start of the buffer.
    Complete(usize),
    /// More bytes are needed: the message (or header) needs `needed` bytes.
    Partial {
        /// Total bytes the message needs, as far as known (20 before the
        /// length field is complete).
        needed: usize,
    },
}

/// Frames messages with a maximum size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Framer {
    max_len: usize,
}

impl Default for Framer {
    /// A framer with a 64 KiB limit.
    fn default() -> Self {
        Framer::new(65_536)
    }
}

impl Framer {
    /// A framer accepting messages of at most `max_len` bytes (clamped to the
    /// 24-bit maximum).
    pub const fn new(max_len: usize) -> Self {
        let max_len = if max_len > MAX_MESSAGE_LEN {
            MAX_MESSAGE_LEN
        } else {
            max_len
        };
        Framer { max_len }
    }

    /// The configured maximum.
    pub const fn max_len(&self) -> usize {
        self.max_len
    }

    /// Look at the start of `buf`. Errors: version not 1 (5011), a length
    /// below 20 or not a multiple of 4 (5015), a length above the maximum
    /// ([`ErrorKind::MessageTooLarge`]). After an error the stream cannot be
    /// resynchronised; close the connection.
    pub fn check(&self, buf: &[u8]) -> Result<Frame, Error> {
        let Some(&version) = buf.first() else {
            return Ok(Frame::Partial { needed: HEADER_LEN });
        };
        if version != VERSION {
            return Err(Error::new(ErrorKind::UnsupportedVersion));
        }
        let [_, a, b, c, ..] = *buf else {
            return Ok(Frame::Partial { needed: HEADER_LEN });
        };
        let len = u32::from_be_bytes([0, a, b, c]) as usize;
        if len < HEADER_LEN || len % 4 != 0 {
            return Err(Error::new(ErrorKind::InvalidMessageLength));
        }
        if len > self.max_len {
            return Err(Error::new(ErrorKind::MessageTooLarge));
        }
        if buf.len() < len {
            return Ok(Frame::Partial { needed: len });
        }
        Ok(Frame::Complete(len))
    }

    /// Iterate over the complete messages at the start of `buf`. The
    /// iterator ends at the first partial message (see
    /// [`Messages::consumed`]) or yields one error and stops.
    pub fn messages<'a>(&self, buf: &'a [u8]) -> Messages<'a> {
        Messages {
            framer: *self,
            buf,
            pos: 0,
            failed: false,
        }
    }
}

/// Iterator of [`Framer::messages`].
#[derive(Debug, Clone)]
pub struct Messages<'a> {
    framer: Framer,
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Messages<'a> {
    /// Bytes taken by the complete messages yielded so far: drop them from
    /// the stream buffer.
    pub const fn consumed(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<&'a [u8], Error>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let rest = self.buf.get(self.pos..)?;
        match self.framer.check(rest) {
            Ok(Frame::Complete(n)) => {
                self.pos += n;
                rest.get(..n).map(Ok)
            }
            Ok(Frame::Partial { .. }) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(len: u32) -> [u8; 24] {
        let mut b = [0u8; 24];
        b[0] = 1;
        b[1..4].copy_from_slice(&len.to_be_bytes()[1..]);
        b
    }

    #[test]
    fn partial_complete_errors() {
        let f = Framer::new(1024);
        assert_eq!(f.check(&[]), Ok(Frame::Partial { needed: 20 }));
        assert_eq!(f.check(&[1, 0]), Ok(Frame::Partial { needed: 20 }));
        assert_eq!(f.check(&msg(24)[..21]), Ok(Frame::Partial { needed: 24 }));
        assert_eq!(f.check(&msg(20)), Ok(Frame::Complete(20)));
        assert_eq!(
            f.check(&[2]).unwrap_err().kind(),
            ErrorKind::UnsupportedVersion
        );
        assert_eq!(
            f.check(&msg(22)).unwrap_err().kind(),
            ErrorKind::InvalidMessageLength
        );
        assert_eq!(
            f.check(&msg(8)).unwrap_err().kind(),
            ErrorKind::InvalidMessageLength
        );
        assert_eq!(
            f.check(&msg(0xff_fffc)).unwrap_err().kind(),
            ErrorKind::MessageTooLarge
        );
        assert_eq!(Framer::new(usize::MAX).max_len(), MAX_MESSAGE_LEN);
    }

    #[test]
    fn stream_iteration() {
        let mut s = [0u8; 64];
        s[..20].copy_from_slice(&msg(20)[..20]);
        s[20..44].copy_from_slice(&msg(24));
        s[44..48].copy_from_slice(&msg(24)[..4]);
        let f = Framer::new(100);
        let mut it = f.messages(&s[..48]);
        assert_eq!(it.next().unwrap().unwrap().len(), 20);
        assert_eq!(it.next().unwrap().unwrap().len(), 24);
        assert!(it.next().is_none());
        assert_eq!(it.consumed(), 44);
    }
}
