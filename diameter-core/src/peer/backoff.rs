//! Reconnection back-off for an initiator (RFC 6733 §2.1, the Tc timer):
//! exponential from [`PeerConfig::reconnect_initial`] up to Tc
//! ([`PeerConfig::reconnect_interval`]), each delay drawn uniformly from
//! its upper half ("equal jitter"), so that many clients that lost the
//! same server do not all come back in the same millisecond.
//!
//! [`PeerConfig::reconnect_initial`]: super::PeerConfig::reconnect_initial
//! [`PeerConfig::reconnect_interval`]: super::PeerConfig::reconnect_interval

use core::time::Duration;

/// Consecutive connection attempts that did not reach the Open state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    failures: u32,
    rng: u32,
}

impl Backoff {
    /// No failure yet; `seed` drives the jitter.
    pub(crate) const fn new(seed: u32) -> Self {
        Backoff {
            failures: 0,
            // xorshift must not start at 0
            rng: seed | 1,
        }
    }

    /// A connection reached Open: the next reconnection waits the least.
    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }

    /// The wait before the next attempt: `initial · 2^n` capped at `max`
    /// (`n` attempts since the last Open), jittered within its upper half.
    pub(crate) fn next_delay(&mut self, initial: Duration, max: Duration) -> Duration {
        let initial = initial.min(max);
        let shift = self.failures.min(31);
        self.failures = self.failures.saturating_add(1);
        let base = initial.saturating_mul(1 << shift).min(max);
        let ms = u64::try_from(base.as_millis()).unwrap_or(u64::MAX);
        let half = ms / 2;
        let jitter = if half == 0 {
            0
        } else {
            u64::from(self.next_random()) % (half + 1)
        };
        Duration::from_millis(ms - half + jitter)
    }

    fn next_random(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn doubles_up_to_the_cap_within_the_upper_half() {
        let mut b = Backoff::new(7);
        for (n, top) in [1, 2, 4, 8, 16, 30, 30, 30].into_iter().enumerate() {
            let d = b.next_delay(S(1), S(30));
            assert!(d <= S(top) && d >= S(top) / 2, "attempt {n}: {d:?}");
        }
        b.reset();
        assert!(b.next_delay(S(1), S(30)) <= S(1));
    }

    #[test]
    fn jitter_spreads_clients() {
        let delays: Vec<_> = (0..50u32)
            .map(|seed| Backoff::new(seed.wrapping_mul(2_654_435_761)).next_delay(S(8), S(30)))
            .collect();
        let distinct = delays
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        assert!(distinct > 40, "{distinct} distinct delays of 50");
    }

    #[test]
    fn extremes_do_not_overflow() {
        let mut b = Backoff::new(0);
        for _ in 0..100 {
            let d = b.next_delay(Duration::MAX, Duration::MAX);
            assert!(d >= Duration::from_millis(u64::MAX / 2));
        }
        assert_eq!(
            Backoff::new(1).next_delay(Duration::ZERO, S(30)),
            Duration::ZERO
        );
        assert_eq!(
            Backoff::new(1).next_delay(S(5), Duration::from_millis(1)),
            Duration::from_millis(1)
        );
    }
}
