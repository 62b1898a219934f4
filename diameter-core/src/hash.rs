//! The one small hash the stack uses for its fixed-size tables (duplicate
//! windows, Session-Id indexes): FNV-1a taken eight bytes at a time, with a
//! 64-bit finalizer (MurmurHash3's `fmix64`) so every input bit reaches
//! every output bit. Not keyed: use it only where a collision costs a
//! lookup, never correctness.
//!
//! ```
//! use core::hash::Hasher;
//! use diameter_core::hash::Fnv;
//! let mut h = Fnv::new();
//! h.write(b"session;1");
//! assert_eq!(h.finish(), diameter_core::hash::fnv(b"session;1"));
//! ```

/// The FNV-1a 64-bit hasher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fnv(u64);

impl Fnv {
    /// A hasher at the FNV offset basis.
    pub const fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    /// Feed bytes, lower-casing ASCII (for case-insensitive names such as
    /// DiameterIdentity, RFC 6733 §4.3.1).
    pub fn write_lowercase(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.byte(b.to_ascii_lowercase());
        }
    }

    #[inline]
    fn byte(&mut self, b: u8) {
        self.0 ^= u64::from(b);
        self.0 = self.0.wrapping_mul(PRIME);
    }
}

impl Default for Fnv {
    fn default() -> Self {
        Fnv::new()
    }
}

const PRIME: u64 = 0x0000_0100_0000_01b3;

impl core::hash::Hasher for Fnv {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            self.0 = (self.0 ^ u64::from_le_bytes(b)).wrapping_mul(PRIME);
            self.0 ^= self.0 >> 32;
        }
        for &b in words.remainder() {
            self.byte(b);
        }
    }
    #[inline]
    fn finish(&self) -> u64 {
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }
}

/// FNV-1a of `bytes`.
pub fn fnv(bytes: &[u8]) -> u64 {
    let mut h = Fnv::new();
    core::hash::Hasher::write(&mut h, bytes);
    core::hash::Hasher::finish(&h)
}
