//! The bytes a peer machine decided to send itself: CER/CEA, DWR/DWA,
//! DPR/DPA, error answers, and the answers the caller queues with
//! [`super::Peer::queue_answer`]. Like a socket's send buffer: whole
//! messages are appended, the transport drains it as a byte stream.

use crate::error::EncodeError;

/// A send buffer of `TX` bytes.
#[derive(Debug)]
pub(crate) struct TxBuf<const TX: usize> {
    buf: heapless::Vec<u8, TX>,
    sent: usize,
}

impl<const TX: usize> TxBuf<TX> {
    pub(crate) const fn new() -> Self {
        TxBuf {
            buf: heapless::Vec::new(),
            sent: 0,
        }
    }

    /// Bytes not yet written to the transport.
    pub(crate) fn pending(&self) -> &[u8] {
        self.buf.get(self.sent..).unwrap_or(&[])
    }

    /// `n` bytes of [`TxBuf::pending`] were written.
    pub(crate) fn consumed(&mut self, n: usize) {
        self.sent = self.sent.saturating_add(n).min(self.buf.len());
        if self.sent == self.buf.len() {
            self.clear();
        }
    }

    pub(crate) fn clear(&mut self) {
        self.buf.clear();
        self.sent = 0;
    }

    /// Append one message written by `f` into the free space; on error
    /// nothing is appended. Already-written bytes are compacted away first.
    pub(crate) fn append(
        &mut self,
        f: impl FnOnce(&mut [u8]) -> Result<usize, EncodeError>,
    ) -> Result<usize, EncodeError> {
        if self.sent > 0 {
            let rest = self.buf.len() - self.sent;
            self.buf.copy_within(self.sent.., 0);
            self.buf.truncate(rest);
            self.sent = 0;
        }
        let start = self.buf.len();
        let _ = self.buf.resize(TX, 0);
        let r = f(self.buf.get_mut(start..).unwrap_or(&mut []));
        match r {
            Ok(n) if start + n <= TX => self.buf.truncate(start + n),
            _ => self.buf.truncate(start),
        }
        r
    }
}
