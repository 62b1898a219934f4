//! Pieces every session machine shares: Session-Id (RFC 6733 §8.8), wall
//! clock for Event-Timestamp, and the driving conventions.
//!
//! # How session machines are driven
//!
//! Like [`diameter_core::peer::Peer`], every machine in [`crate::client`] and
//! [`crate::server`] is sans-IO: inputs are `handle_*` / call-event methods
//! taking `now`, outputs are polled in this order after every input:
//!
//! 1. `poll_event()` until `None`: what the application must do (allow or
//!    deny a call, tear it down, ...);
//! 2. `poll_transmit(now, buf)` until `None`: the next message to send,
//!    encoded into `buf` (requests get their Hop-by-Hop / End-to-End ids
//!    from the peer machine's `send_request`);
//! 3. `poll_timeout()`: when to call `handle_timeout` next.
//!
//! Time is [`Instant`] (monotonic milliseconds from the transport). The
//! wall clock needed for Event-Timestamp comes from a [`WallClock`]: the Unix
//! time at `Instant::ZERO`.

use core::fmt::Write as _;

use diameter_core::time::Instant;
use diameter_core::Timestamp;

/// Longest Session-Id a machine stores (RFC 6733 §8.8 sets no limit; SIP
/// Call-IDs are typically well under 100 octets).
pub const MAX_SESSION_ID: usize = 128;

/// A stored Session-Id.
pub type SessionId = heapless::String<MAX_SESSION_ID>;

/// Build a Session-Id as RFC 6733 §8.8 recommends:
/// `<DiameterIdentity>;<high 32 bits>;<low 32 bits>[;<optional value>]`.
/// `high` is usually the boot time and `low` a counter; `optional` can carry
/// the SIP Call-ID. `None` if it does not fit [`MAX_SESSION_ID`].
///
/// ```
/// let sid = diameter_cc::session::session_id("client.example.org", 1704067200, 1, Some("sip-call-0001")).unwrap();
/// assert_eq!(sid.as_str(), "client.example.org;1704067200;1;sip-call-0001");
/// ```
pub fn session_id(host: &str, high: u32, low: u32, optional: Option<&str>) -> Option<SessionId> {
    let mut s = SessionId::new();
    write!(s, "{host};{high};{low}").ok()?;
    if let Some(o) = optional {
        s.push(';').ok()?;
        s.push_str(o).ok()?;
    }
    Some(s)
}

/// A Session-Id given by the caller (for example the SIP Call-ID, as the
/// scenarios in SCENARIOS.md use). `None` if empty or too long.
pub fn session_id_from(text: &str) -> Option<SessionId> {
    if text.is_empty() {
        return None;
    }
    let mut s = SessionId::new();
    s.push_str(text).ok()?;
    Some(s)
}

/// Converts the monotonic [`Instant`] into wall-clock time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WallClock {
    /// Unix seconds at `Instant::ZERO`.
    pub unix_at_zero: i64,
}

impl WallClock {
    /// Unix seconds at `now`.
    pub const fn unix(&self, now: Instant) -> i64 {
        self.unix_at_zero + (now.0 / 1000) as i64
    }
    /// The Diameter Time at `now` (`None` outside 1968..2104).
    pub const fn timestamp(&self, now: Instant) -> Option<Timestamp> {
        Timestamp::from_unix(self.unix(now))
    }
}

/// Whole seconds between two instants, rounded to the nearest second (the
/// unit of CC-Time, RFC 8506 §8.21), saturating.
pub const fn seconds_between(from: Instant, to: Instant) -> u32 {
    let ms = to.0.saturating_sub(from.0);
    let s = (ms + 500) / 1000;
    if s > u32::MAX as u64 {
        u32::MAX
    } else {
        s as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_clock() {
        assert!(session_id(&"h".repeat(200), 1, 2, None).is_none());
        assert_eq!(session_id("h", 1, 2, None).unwrap().as_str(), "h;1;2");
        assert!(session_id_from("").is_none());
        let c = WallClock {
            unix_at_zero: 1_704_067_200,
        };
        assert_eq!(
            c.timestamp(Instant::from_secs(0)).unwrap().ntp(),
            3_913_056_000
        );
        assert_eq!(seconds_between(Instant(1000), Instant(68_400)), 67);
        assert_eq!(seconds_between(Instant(5), Instant(1)), 0);
    }
}
