//! What every session machine shares: one shape ([`Machine`]), the node it
//! runs on ([`Node`]), Session-Ids (RFC 6733 §8.8) and the wall clock for
//! Event-Timestamp.
//!
//! # How session machines are driven
//!
//! Every machine in [`crate::client`] and [`crate::server`] implements
//! [`Machine`] and is driven the same way, by the endpoint
//! ([`crate::endpoint`]) or by hand. Like quinn-proto's connections, the
//! methods come in four kinds:
//!
//! - **getters** (`state()`, `session_id()`, [`Machine::route`]);
//! - **inputs** (`handle_*`): answers to the session's requests, requests
//!   addressed to the session (RAR, ASR; CCR and ACR on the server side),
//!   failed requests, timer expiry; and the application's call events
//!   (`call_setup`, `call_answered`, `call_ended`, ...);
//! - **outputs** (`poll_*`, all `#[must_use]`), polled in this order after
//!   every input: `poll_event()` until `None` (what the application must
//!   do: allow or deny a call, tear it down, ...), `poll_transmit(now,
//!   buf)` until `None` (the next request, encoded into `buf`, with the
//!   deadline the session chose for its answer), `poll_timeout()` (when to
//!   call `handle_timeout`).
//!
//! Every input takes `now`; time only moves forward in every machine (an
//! earlier `now` than a previous one is taken as that previous one). A
//! timeout handled early is a no-op. Settings shared by every session of a
//! kind (and, for servers, the rating engine or record store) are passed in
//! on every call through a [`Ctx`], so a machine borrows nothing and can
//! live in a `static` cell or a task.
//!
//! Time is [`Instant`] (monotonic milliseconds from the transport). The
//! wall clock needed for Event-Timestamp comes from a [`WallClock`]: the Unix
//! time at `Instant::ZERO`.

mod machine;
mod window;

pub(crate) use window::NumberWindow;

pub use machine::{Ctx, Failure, Machine, Node, RequestFailed, Route, Transmit};

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
    /// The wall clock whose Unix time at `Instant::ZERO` is `unix_at_zero`.
    pub const fn new(unix_at_zero: i64) -> Self {
        WallClock { unix_at_zero }
    }
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
