//! Hop-by-Hop and End-to-End identifiers (RFC 6733 §3).
//!
//! - Hop-by-Hop: unique on the connection among outstanding requests; a
//!   counter from a seeded start, skipping values still pending.
//! - End-to-End: "the high-order 12 bits contain the low-order 12 bits of
//!   current time, and the low-order 20 bits a random value" at start, then
//!   a counter, so that ids stay unique across reboots for 4 minutes. The
//!   time is the boot time the caller supplies ([`super::PeerConfig::new`]).

/// Identifier generator of one peer machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ids {
    next_hbh: u32,
    e2e_high: u32,
    e2e_low: u32,
}

impl Ids {
    pub(crate) const fn new(seed: u32, boot_time: u32) -> Self {
        Ids {
            next_hbh: seed.rotate_left(16) ^ 0x5bd1_e995,
            e2e_high: (boot_time & 0xfff) << 20,
            e2e_low: seed.wrapping_mul(0x9e37_79b9) & 0x000f_ffff,
        }
    }

    /// The next Hop-by-Hop id for which `taken` is false.
    pub(crate) fn hop_by_hop(&mut self, taken: impl Fn(u32) -> bool) -> u32 {
        loop {
            let h = self.next_hbh;
            self.next_hbh = self.next_hbh.wrapping_add(1);
            if !taken(h) {
                return h;
            }
        }
    }

    /// The next End-to-End id.
    pub(crate) fn end_to_end(&mut self) -> u32 {
        let low = self.e2e_low;
        self.e2e_low = (low + 1) & 0x000f_ffff;
        self.e2e_high | low
    }
}

#[cfg(test)]
mod tests {
    use super::Ids;

    #[test]
    fn end_to_end_carries_boot_time() {
        let mut a = Ids::new(1, 0x1234_5678);
        let e = a.end_to_end();
        assert_eq!(e >> 20, 0x678);
        assert_eq!(a.end_to_end(), (e & 0xfff0_0000) | ((e + 1) & 0xfffff));
        // another boot a second later starts elsewhere
        let mut b = Ids::new(1, 0x1234_5679);
        assert_ne!(b.end_to_end() >> 20, e >> 20);
    }

    #[test]
    fn hop_by_hop_skips_taken() {
        let mut a = Ids::new(7, 0);
        let first = a.hop_by_hop(|_| false);
        let mut b = Ids::new(7, 0);
        assert_eq!(b.hop_by_hop(|h| h == first), first.wrapping_add(1));
    }
}
