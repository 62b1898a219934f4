//! The transport failure detection algorithm of RFC 3539 §3.4 (used by
//! Diameter, RFC 6733 §5.5): Device-Watchdog requests after Tw of silence
//! and the states INITIAL, OKAY, SUSPECT, DOWN and REOPEN.
//!
//! [`Watchdog`] is a pure machine: its inputs return a [`WatchdogAction`]
//! telling the peer machine what to do (send a DWR, fail over, close,
//! reconnect). Tw is jittered by up to ±2 s on every arming (§3.4.1
//! "SetWatchdog"); the jitter comes from a small deterministic generator
//! seeded by the caller, so tests are reproducible.
//!
//! One deliberate difference from the RFC's pseudo-code: in REOPEN, after
//! each DWA the next DWR goes out at once instead of a Tw later, so a
//! reopened connection needs three round trips rather than three times Tw
//! before it carries traffic again (freeDiameter does the same).

use core::time::Duration;

use crate::time::Instant;

/// Smallest Tw RFC 3539 §3.4.1 allows.
pub const TW_MIN: Duration = Duration::from_secs(6);
/// Default Tw (RFC 3539 §3.4.1: TwInit SHOULD default to 30 s).
pub const TW_DEFAULT: Duration = Duration::from_secs(30);
/// Jitter applied to every Tw: ±2 s.
pub const TW_JITTER_MS: u64 = 2000;
/// DWAs needed in REOPEN before the connection is OKAY again.
pub const REOPEN_DWAS: u8 = 3;

/// Watchdog states (RFC 3539 §3.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WatchdogState {
    /// No connection has been up yet.
    Initial,
    /// The connection works.
    Okay,
    /// A DWR went unanswered for Tw: traffic fails over, the connection is kept.
    Suspect,
    /// The connection is closed; reconnection is attempted every Tw.
    Down,
    /// A new connection is up but must answer three DWRs before use.
    Reopen,
}

/// What the watchdog asks the peer machine to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WatchdogAction {
    /// Send a Device-Watchdog-Request now.
    pub send_dwr: bool,
    /// Stop sending traffic on this connection and hand pending requests to
    /// another peer (entered SUSPECT, or went DOWN).
    pub failover: bool,
    /// Traffic may use this connection again (back to OKAY).
    pub failback: bool,
    /// Close the transport connection.
    pub close: bool,
    /// Try to open a new transport connection.
    pub reconnect: bool,
}

/// A small xorshift generator for the Tw jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Jitter(u32);

impl Jitter {
    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

/// The RFC 3539 watchdog for one peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watchdog {
    state: WatchdogState,
    tw: Duration,
    pending: bool,
    num_dwa: i8,
    deadline: Option<Instant>,
    jitter: Jitter,
}

impl Watchdog {
    /// A watchdog with `tw` (raised to [`TW_MIN`] if smaller) and a jitter seed.
    pub fn new(tw: Duration, seed: u32) -> Self {
        Watchdog {
            state: WatchdogState::Initial,
            tw: if tw < TW_MIN { TW_MIN } else { tw },
            pending: false,
            num_dwa: 0,
            deadline: None,
            jitter: Jitter(seed | 1),
        }
    }

    /// The current state.
    pub const fn state(&self) -> WatchdogState {
        self.state
    }

    /// Tw without jitter.
    pub const fn tw(&self) -> Duration {
        self.tw
    }

    /// When [`Watchdog::on_timeout`] should be called next.
    pub const fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Whether a DWR is outstanding.
    pub const fn dwr_pending(&self) -> bool {
        self.pending
    }

    /// Whether application traffic may use the connection.
    pub const fn usable(&self) -> bool {
        matches!(self.state, WatchdogState::Okay)
    }

    /// SetWatchdog(): arm Tw ± 2 s.
    fn set(&mut self, now: Instant) {
        let span = 2 * TW_JITTER_MS + 1;
        let j = u64::from(self.jitter.next()) % span;
        // Saturate: `as u64` would truncate a huge Tw to a tiny one and the
        // subtraction could underflow.
        let tw = u64::try_from(self.tw.as_millis()).unwrap_or(u64::MAX);
        let ms = tw.saturating_add(j).saturating_sub(TW_JITTER_MS);
        self.deadline = Some(Instant(now.0.saturating_add(ms)));
    }

    /// The transport connection is up and capabilities are exchanged.
    pub fn connection_up(&mut self, now: Instant) -> WatchdogAction {
        let mut a = WatchdogAction::default();
        match self.state {
            WatchdogState::Initial | WatchdogState::Okay | WatchdogState::Suspect => {
                a.failback = self.state == WatchdogState::Suspect;
                self.state = WatchdogState::Okay;
                self.pending = false;
            }
            WatchdogState::Down | WatchdogState::Reopen => {
                self.state = WatchdogState::Reopen;
                self.num_dwa = 0;
                self.pending = true;
                a.send_dwr = true;
            }
        }
        self.set(now);
        a
    }

    /// The transport connection went down (closed by either side or failed).
    pub fn connection_down(&mut self, now: Instant) -> WatchdogAction {
        let mut a = WatchdogAction::default();
        if !matches!(self.state, WatchdogState::Down) {
            a.failover = matches!(self.state, WatchdogState::Okay);
        }
        self.state = WatchdogState::Down;
        self.pending = false;
        self.set(now);
        a
    }

    /// A message arrived. `is_dwa` for a Device-Watchdog-Answer. Returns
    /// what to do; in DOWN and REOPEN non-DWA traffic is to be thrown away
    /// (see [`Watchdog::usable`]).
    pub fn on_receive(&mut self, now: Instant, is_dwa: bool) -> WatchdogAction {
        let mut a = WatchdogAction::default();
        match self.state {
            WatchdogState::Okay => {
                if is_dwa {
                    self.pending = false;
                }
                self.set(now);
            }
            WatchdogState::Suspect => {
                if is_dwa {
                    self.pending = false;
                }
                self.state = WatchdogState::Okay;
                a.failback = true;
                self.set(now);
            }
            WatchdogState::Reopen if is_dwa => {
                self.pending = false;
                // From -1 after a missed DWA: four DWAs then (RFC 3539
                // §3.4.1), three otherwise.
                self.num_dwa = self.num_dwa.saturating_add(1);
                if self.num_dwa >= REOPEN_DWAS as i8 {
                    self.state = WatchdogState::Okay;
                    a.failback = true;
                    self.set(now);
                } else {
                    self.pending = true;
                    a.send_dwr = true;
                    self.set(now);
                }
            }
            WatchdogState::Reopen | WatchdogState::Down | WatchdogState::Initial => {}
        }
        a
    }

    /// Call when `now` has reached [`Watchdog::deadline`]; earlier calls do
    /// nothing.
    pub fn on_timeout(&mut self, now: Instant) -> WatchdogAction {
        let mut a = WatchdogAction::default();
        match self.deadline {
            Some(d) if now >= d => {}
            _ => return a,
        }
        match self.state {
            WatchdogState::Initial => {
                self.deadline = None;
                return a;
            }
            WatchdogState::Okay => {
                if self.pending {
                    self.state = WatchdogState::Suspect;
                    a.failover = true;
                } else {
                    self.pending = true;
                    a.send_dwr = true;
                }
            }
            WatchdogState::Suspect => {
                self.state = WatchdogState::Down;
                self.pending = false;
                a.close = true;
            }
            WatchdogState::Down => {
                a.reconnect = true;
            }
            WatchdogState::Reopen => {
                if self.pending {
                    if self.num_dwa < 0 {
                        self.state = WatchdogState::Down;
                        self.pending = false;
                        a.close = true;
                    } else {
                        self.num_dwa = -1;
                    }
                } else {
                    self.pending = true;
                    a.send_dwr = true;
                }
            }
        }
        self.set(now);
        a
    }

    /// Stop the timer (the peer is being shut down on purpose).
    pub fn stop(&mut self) {
        self.deadline = None;
        self.state = WatchdogState::Initial;
        self.pending = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> Instant {
        Instant::from_secs(s)
    }

    #[test]
    fn tw_is_jittered_within_two_seconds() {
        let mut w = Watchdog::new(TW_DEFAULT, 7);
        w.connection_up(at(0));
        for i in 0..200 {
            let now = at(i * 100);
            w.on_receive(now, false);
            let d = w.deadline().unwrap().0 - now.0;
            assert!((28_000..=32_000).contains(&d), "{d}");
        }
        assert_eq!(Watchdog::new(Duration::from_secs(1), 1).tw(), TW_MIN);
    }

    #[test]
    fn okay_suspect_down_reopen_okay() {
        let mut w = Watchdog::new(TW_MIN, 3);
        assert_eq!(w.connection_up(at(0)), WatchdogAction::default());
        assert_eq!(w.state(), WatchdogState::Okay);
        let t = w.deadline().unwrap();
        assert!(w.on_timeout(t).send_dwr);
        let t = w.deadline().unwrap();
        let a = w.on_timeout(t);
        assert!(a.failover && !a.close);
        assert_eq!(w.state(), WatchdogState::Suspect);
        let t = w.deadline().unwrap();
        assert!(w.on_timeout(t).close);
        assert_eq!(w.state(), WatchdogState::Down);
        let t = w.deadline().unwrap();
        assert!(w.on_timeout(t).reconnect);
        assert!(w.connection_up(t).send_dwr);
        assert_eq!(w.state(), WatchdogState::Reopen);
        // traffic other than DWA does not count
        w.on_receive(t, false);
        assert_eq!(w.state(), WatchdogState::Reopen);
        assert!(w.on_receive(t, true).send_dwr);
        assert!(w.on_receive(t, true).send_dwr);
        assert!(w.on_receive(t, true).failback);
        assert_eq!(w.state(), WatchdogState::Okay);
    }

    /// Issue 9.20, RFC 3539 §3.4.1: a DWR missed in REOPEN sets NumDWA to
    /// -1, so four DWAs are needed before OKAY (it was clamped to 0: three).
    #[test]
    fn reopen_after_a_missed_dwa_needs_four_dwas() {
        let mut w = Watchdog::new(TW_MIN, 3);
        w.connection_up(at(0));
        w.connection_down(at(1));
        assert!(w.connection_up(at(2)).send_dwr);
        assert_eq!(w.state(), WatchdogState::Reopen);
        // no DWA within Tw: NumDWA = -1, the connection stays
        let t = w.deadline().unwrap();
        let a = w.on_timeout(t);
        assert!(!a.close);
        assert_eq!(w.state(), WatchdogState::Reopen);
        // a DWA arrives late; then three more are needed
        for i in 0..3 {
            let a = w.on_receive(t, true);
            assert!(a.send_dwr && !a.failback, "DWA {}", i + 1);
            assert_eq!(w.state(), WatchdogState::Reopen);
        }
        assert!(w.on_receive(t, true).failback);
        assert_eq!(w.state(), WatchdogState::Okay);
    }

    #[test]
    fn suspect_recovers_on_any_message() {
        let mut w = Watchdog::new(TW_MIN, 3);
        w.connection_up(at(0));
        let t = w.deadline().unwrap();
        w.on_timeout(t);
        let t = w.deadline().unwrap();
        w.on_timeout(t);
        assert_eq!(w.state(), WatchdogState::Suspect);
        assert!(w.on_receive(t, false).failback);
        assert_eq!(w.state(), WatchdogState::Okay);
    }

    #[test]
    fn reopen_gives_up_after_two_silent_tw() {
        let mut w = Watchdog::new(TW_MIN, 3);
        w.connection_down(at(0));
        w.connection_up(at(1));
        let t = w.deadline().unwrap();
        assert_eq!(w.on_timeout(t), WatchdogAction::default());
        let t = w.deadline().unwrap();
        assert!(w.on_timeout(t).close);
        assert_eq!(w.state(), WatchdogState::Down);
    }

    #[test]
    fn early_timeout_is_a_no_op() {
        let mut w = Watchdog::new(TW_MIN, 3);
        w.connection_up(at(0));
        assert_eq!(w.on_timeout(at(1)), WatchdogAction::default());
    }
}
