//! The bytes a peer machine decided to send itself: CER/CEA, DWR/DWA,
//! DPR/DPA, error answers, and the answers the caller queues with
//! [`super::Peer::queue_answer`]. Like a socket's send buffer: whole
//! messages are appended, the transport drains it as a byte stream.

use crate::error::EncodeError;

/// A send buffer of `TX` bytes.
#[derive(Debug)]
pub(crate) struct TxBuf<const TX: usize> {
    buf: [u8; TX],
    len: usize,
    sent: usize,
}

impl<const TX: usize> TxBuf<TX> {
    pub(crate) const fn new() -> Self {
        TxBuf {
            buf: [0; TX],
            len: 0,
            sent: 0,
        }
    }

    /// Bytes not yet written to the transport.
    pub(crate) fn pending(&self) -> &[u8] {
        self.buf.get(self.sent..self.len).unwrap_or(&[])
    }

    /// `n` bytes of [`TxBuf::pending`] were written.
    pub(crate) fn consumed(&mut self, n: usize) {
        self.sent = self.sent.saturating_add(n).min(self.len);
        if self.sent == self.len {
            self.clear();
        }
    }

    pub(crate) fn clear(&mut self) {
        self.len = 0;
        self.sent = 0;
    }

    /// Append one message written by `f` into the free space; on error
    /// nothing is appended. Already-written bytes are compacted away first.
    /// The free space is not cleared: `f` writes every byte it reports.
    pub(crate) fn append(
        &mut self,
        f: impl FnOnce(&mut [u8]) -> Result<usize, EncodeError>,
    ) -> Result<usize, EncodeError> {
        if self.sent > 0 {
            self.buf.copy_within(self.sent..self.len, 0);
            self.len -= self.sent;
            self.sent = 0;
        }
        let free = self.buf.get_mut(self.len..).unwrap_or(&mut []);
        let room = free.len();
        let r = f(free);
        if let Ok(n) = r {
            if n <= room {
                self.len += n;
            }
        }
        r
    }
}
