//! Time as the caller gives it: the machines have no clock of their own.
//!
//! [`Instant`] is milliseconds since an arbitrary origin chosen by the
//! transport (boot, process start, a test's fake clock). Time only moves
//! forward; a call with an earlier `now` than a previous one is treated as
//! that previous time.

use core::time::Duration;

/// A point in time: milliseconds since the transport's origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Instant(pub u64);

impl Instant {
    /// The origin.
    pub const ZERO: Instant = Instant(0);

    /// From milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }
    /// From seconds.
    pub const fn from_secs(s: u64) -> Self {
        Instant(s.saturating_mul(1000))
    }
    /// Milliseconds since the origin.
    pub const fn as_millis(self) -> u64 {
        self.0
    }
    /// `self + d`, saturating.
    // 64-bit arithmetic is a dozen instructions on a 32-bit target, and
    // every deadline computed had its copy: one out-of-line copy there.
    #[cfg_attr(target_pointer_width = "32", inline(never))]
    pub const fn add(self, d: Duration) -> Self {
        // `d.as_millis()` saturated to u64, without its u128 arithmetic
        // (a call into the 128-bit multiply on a 32-bit target, at every
        // deadline computed).
        let ms = if d.as_secs() > u64::MAX / 1000 {
            u64::MAX
        } else {
            (d.as_secs() * 1000).saturating_add(d.subsec_millis() as u64)
        };
        Instant(self.0.saturating_add(ms))
    }
    /// `self - earlier`, zero if `earlier` is later.
    pub const fn since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl core::ops::Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant::add(self, d)
    }
}

/// The earliest of two optional deadlines.
#[cfg_attr(target_pointer_width = "32", inline(never))]
pub fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// The latest time a machine was given: with it, time only moves forward
/// (an earlier `now` than a previous one is taken as that previous one).
///
/// ```
/// use diameter_core::time::{Instant, Monotonic};
/// let mut clock = Monotonic::new(Instant(5));
/// assert_eq!(clock.update(Instant(9)), Instant(9));
/// assert_eq!(clock.update(Instant(3)), Instant(9));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Monotonic(Instant);

impl Monotonic {
    /// Starting at `now`.
    pub const fn new(now: Instant) -> Self {
        Monotonic(now)
    }
    /// Take `now` into account and return the time to use.
    #[cfg_attr(target_pointer_width = "32", inline(never))]
    pub fn update(&mut self, now: Instant) -> Instant {
        if now > self.0 {
            self.0 = now;
        }
        self.0
    }
    /// The latest time seen.
    pub const fn get(&self) -> Instant {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Instant::add` as it was written first, with `as_millis` (u128).
    fn reference(i: Instant, d: Duration) -> Instant {
        Instant(i.0.saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)))
    }

    #[test]
    fn add_saturates_like_as_millis() {
        let durations = [
            Duration::ZERO,
            Duration::from_nanos(999_999),
            Duration::from_nanos(1_000_000),
            Duration::from_millis(1_999),
            Duration::new(30, 999_999_999),
            Duration::from_millis(u64::MAX),
            Duration::from_millis(u64::MAX - 1),
            Duration::new(u64::MAX / 1000, 551_615_999),
            Duration::new(u64::MAX / 1000, 615_000_000),
            Duration::new(u64::MAX / 1000 + 1, 0),
            Duration::MAX,
        ];
        let instants = [0, 1, 1_764_720_000_000, u64::MAX - 1_000, u64::MAX];
        for &d in &durations {
            for &i in &instants {
                assert_eq!(Instant(i).add(d), reference(Instant(i), d), "{i} + {d:?}");
            }
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let d = Duration::new(x >> (x % 64), (x % 1_000_000_000) as u32);
            let i = Instant(x.rotate_left(17) >> (x % 64));
            assert_eq!(i.add(d), reference(i, d), "{i:?} + {d:?}");
        }
    }
}
