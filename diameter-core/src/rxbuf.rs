//! A receive buffer for a byte stream: bytes go in as the transport reads
//! them, complete Diameter messages come out (RFC 6733 §3: the Message
//! Length field frames messages on TCP and SCTP).
//!
//! [`RxBuf`] owns `N` bytes. Read into [`RxBuf::spare`] (or copy with
//! [`RxBuf::extend`]), report how much was read with [`RxBuf::filled`],
//! then take messages with [`RxBuf::next_message`] until it returns `None`.
//! Consumed bytes are compacted away before the next read. A message longer
//! than the buffer (or than the framer's maximum) and a stream that cannot
//! be framed are reported as one clear [`RxError`]; the stream cannot be
//! resynchronised after that, so close the connection.
//!
//! ```
//! use diameter_core::RxBuf;
//! # let msg = diameter_core::doc_example();
//! let mut rx: RxBuf<4096> = RxBuf::new();
//! // the transport read the first 30 bytes, then the rest
//! rx.extend(&msg[..30]);
//! assert!(rx.next_message().is_none());
//! rx.extend(&msg[30..]);
//! let m = rx.next_message().unwrap().unwrap();
//! assert_eq!(m, &msg[..]);
//! assert!(rx.next_message().is_none());
//! ```

use crate::error::{Error, ErrorKind};
use crate::framing::{Frame, Framer};

/// Why the stream cannot be read any further.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RxError {
    /// A message announces `len` bytes, more than the buffer or the
    /// configured maximum (`max`) allows.
    TooLarge {
        /// The Message Length field.
        len: usize,
        /// The largest message accepted.
        max: usize,
    },
    /// The bytes are not a Diameter stream (version not 1: 5011; a length
    /// below 20 or not a multiple of 4: 5015).
    Unframeable(Error),
}

impl core::fmt::Display for RxError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RxError::TooLarge { len, max } => {
                write!(f, "message of {len} bytes exceeds the {max}-byte limit")
            }
            RxError::Unframeable(e) => write!(f, "stream is not Diameter: {e}"),
        }
    }
}

impl core::error::Error for RxError {}

/// A stream receive buffer of `N` bytes (also the largest message).
#[derive(Debug, Clone)]
pub struct RxBuf<const N: usize> {
    buf: [u8; N],
    start: usize,
    end: usize,
    max: usize,
    failed: Option<RxError>,
}

impl<const N: usize> Default for RxBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> RxBuf<N> {
    /// An empty buffer accepting messages of up to `N` bytes.
    pub const fn new() -> Self {
        RxBuf {
            buf: [0; N],
            start: 0,
            end: 0,
            max: N,
            failed: None,
        }
    }

    /// An empty buffer accepting messages of up to `max` bytes (at most `N`).
    pub const fn with_max(max: usize) -> Self {
        let mut b = Self::new();
        b.max = if max < N { max } else { N };
        b
    }

    /// The largest message accepted.
    pub const fn max_message(&self) -> usize {
        self.max
    }

    /// Bytes received and not yet taken as messages.
    pub const fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// Where to read the next bytes into (compacting first). Empty when a
    /// message in progress fills the buffer, which cannot happen for a
    /// message within [`RxBuf::max_message`] (the error comes first).
    pub fn spare(&mut self) -> &mut [u8] {
        self.compact();
        &mut self.buf[self.end..]
    }

    /// `n` bytes were read into [`RxBuf::spare`].
    pub fn filled(&mut self, n: usize) {
        self.end = self.end.saturating_add(n).min(N);
    }

    /// Copy in as much of `bytes` as fits; returns how many were taken.
    pub fn extend(&mut self, bytes: &[u8]) -> usize {
        let spare = self.spare();
        let n = spare.len().min(bytes.len());
        spare[..n].copy_from_slice(&bytes[..n]);
        self.filled(n);
        n
    }

    /// The next complete message, `None` when more bytes are needed, or the
    /// error that makes the stream unreadable (returned again on every call).
    #[allow(clippy::should_implement_trait)]
    pub fn next_message(&mut self) -> Option<Result<&[u8], RxError>> {
        if let Some(e) = self.failed {
            return Some(Err(e));
        }
        let rest = &self.buf[self.start..self.end];
        match Framer::new(self.max).check(rest) {
            Ok(Frame::Complete(n)) => {
                let from = self.start;
                self.start += n;
                if self.start == self.end {
                    // Nothing left: the next read starts at the front.
                    let (s, e) = (from, from + n);
                    self.start = 0;
                    self.end = 0;
                    return Some(Ok(&self.buf[s..e]));
                }
                Some(Ok(&self.buf[from..from + n]))
            }
            Ok(Frame::Partial { .. }) => None,
            Err(e) => {
                let err = if e.kind() == ErrorKind::MessageTooLarge {
                    let len = rest
                        .get(1..4)
                        .map(|l| u32::from_be_bytes([0, l[0], l[1], l[2]]) as usize)
                        .unwrap_or(0);
                    RxError::TooLarge { len, max: self.max }
                } else {
                    RxError::Unframeable(e)
                };
                self.failed = Some(err);
                Some(Err(err))
            }
        }
    }

    /// Forget everything (a new connection).
    pub fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
        self.failed = None;
    }

    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(len: u32, fill: u8) -> std::vec::Vec<u8> {
        let mut b = std::vec![fill; len as usize];
        b[0] = 1;
        b[1..4].copy_from_slice(&len.to_be_bytes()[1..]);
        b
    }

    #[test]
    fn byte_by_byte_and_back_to_back() {
        let mut rx: RxBuf<64> = RxBuf::new();
        let a = msg(24, 7);
        let b = msg(20, 9);
        let mut stream = a.clone();
        stream.extend_from_slice(&b);
        let mut got = std::vec::Vec::new();
        for byte in &stream {
            assert_eq!(rx.extend(core::slice::from_ref(byte)), 1);
            while let Some(m) = rx.next_message() {
                got.push(m.unwrap().to_vec());
            }
        }
        assert_eq!(got, [a, b]);
        assert_eq!(rx.buffered(), 0);
    }

    #[test]
    fn compaction_keeps_a_partial_message() {
        let mut rx: RxBuf<48> = RxBuf::new();
        let a = msg(24, 1);
        let b = msg(40, 2);
        rx.extend(&a);
        assert_eq!(rx.extend(&b[..20]), 20);
        assert_eq!(rx.next_message().unwrap().unwrap(), &a[..]);
        assert!(rx.next_message().is_none());
        // 20 bytes of b are kept and moved to the front: 28 more fit
        assert_eq!(rx.spare().len(), 28);
        rx.extend(&b[20..]);
        assert_eq!(rx.next_message().unwrap().unwrap(), &b[..]);
    }

    #[test]
    fn oversize_and_garbage_are_errors() {
        let mut rx: RxBuf<32> = RxBuf::new();
        rx.extend(&msg(36, 0)[..8]);
        assert_eq!(
            rx.next_message().unwrap().unwrap_err(),
            RxError::TooLarge { len: 36, max: 32 }
        );
        // sticky
        assert!(rx.next_message().unwrap().is_err());
        rx.clear();
        rx.extend(&[2, 0, 0, 20]);
        let e = rx.next_message().unwrap().unwrap_err();
        assert!(matches!(e, RxError::Unframeable(_)));
        assert!(std::format!("{e}").contains("not Diameter"));
        let mut small: RxBuf<64> = RxBuf::with_max(24);
        small.extend(&msg(28, 0));
        assert_eq!(
            small.next_message().unwrap().unwrap_err(),
            RxError::TooLarge { len: 28, max: 24 }
        );
    }
}
