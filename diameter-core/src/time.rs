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
    pub const fn add(self, d: Duration) -> Self {
        let ms = d.as_millis();
        let ms = if ms > u64::MAX as u128 {
            u64::MAX
        } else {
            ms as u64
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
