//! The requests a peer machine sent and waits for (RFC 6733 §6.2: answers
//! are matched by Hop-by-Hop and End-to-End identifier), and the window of
//! requests it received, for duplicate detection (§6.5).

use core::time::Duration;

use crate::hash::Fnv;
use crate::time::{earliest, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    end_to_end: u32,
    deadline: Instant,
    token: u64,
    handed_back: bool,
}

/// How a pending request ended without an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    TimedOut { token: u64, end_to_end: u32 },
    HandedBack { token: u64, end_to_end: u32 },
}

/// Up to `P` outstanding requests (a power of two), keyed by Hop-by-Hop id.
/// Each one ends exactly once: answered ([`Pending::answer`]), timed out at
/// the deadline its sender chose, or handed back when the connection fails.
///
/// The earliest deadline and whether anything is handed back are kept as
/// a lower bound, so that polling for ended requests costs nothing when
/// none can have ended (the common case after every input).
#[derive(Debug)]
pub(crate) struct Pending<const P: usize> {
    map: heapless::index_map::FnvIndexMap<u32, Entry, P>,
    /// No entry has an earlier deadline (answered ones may have had it).
    earliest: Option<Instant>,
    handed_back: bool,
}

impl<const P: usize> Pending<P> {
    pub(crate) const fn new() -> Self {
        Pending {
            map: heapless::index_map::FnvIndexMap::new(),
            earliest: None,
            handed_back: false,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Forget every entry, in place (as [`Pending::new`]).
    pub(crate) fn clear(&mut self) {
        self.map.clear();
        self.earliest = None;
        self.handed_back = false;
    }

    pub(crate) fn is_full(&self) -> bool {
        self.map.len() >= P
    }

    pub(crate) fn contains(&self, hop_by_hop: u32) -> bool {
        self.map.contains_key(&hop_by_hop)
    }

    pub(crate) fn insert(
        &mut self,
        hop_by_hop: u32,
        end_to_end: u32,
        deadline: Instant,
        token: u64,
    ) -> bool {
        let e = Entry {
            end_to_end,
            deadline,
            token,
            handed_back: false,
        };
        let ok = self.map.insert(hop_by_hop, e).is_ok();
        if ok {
            self.earliest = earliest(self.earliest, Some(deadline));
        }
        ok
    }

    /// The token of the request this answer answers, removing it; `None`
    /// for an answer matching nothing outstanding.
    pub(crate) fn answer(&mut self, hop_by_hop: u32, end_to_end: u32) -> Option<u64> {
        match self.map.get(&hop_by_hop) {
            Some(e) if e.end_to_end == end_to_end && !e.handed_back => {
                let token = e.token;
                self.map.swap_remove(&hop_by_hop);
                Some(token)
            }
            _ => None,
        }
    }

    /// The connection failed: every request is to be handed back.
    pub(crate) fn hand_back_all(&mut self) {
        for (_, e) in self.map.iter_mut() {
            e.handed_back = true;
        }
        self.handed_back = !self.map.is_empty();
    }

    /// Remove and return one request that ended without an answer: handed
    /// back, or past its deadline at `now`.
    pub(crate) fn next_ended(&mut self, now: Instant) -> Option<Ended> {
        if !self.handed_back && self.earliest.is_none_or(|t| now < t) {
            return None;
        }
        let found = self
            .map
            .iter()
            .find(|(_, e)| e.handed_back || now >= e.deadline);
        let Some((&hbh, e)) = found else {
            // Nothing ended: tighten the bounds.
            self.handed_back = false;
            self.earliest = self
                .map
                .values()
                .fold(None, |t, e| earliest(t, Some(e.deadline)));
            return None;
        };
        let ended = if e.handed_back {
            Ended::HandedBack {
                token: e.token,
                end_to_end: e.end_to_end,
            }
        } else {
            Ended::TimedOut {
                token: e.token,
                end_to_end: e.end_to_end,
            }
        };
        self.map.swap_remove(&hbh);
        Some(ended)
    }

    /// The earliest deadline (`now` for a handed-back request), or an
    /// earlier time (a bound kept without scanning; a wake-up then finds
    /// nothing ended and tightens it).
    pub(crate) fn earliest(&self, now: Instant) -> Option<Instant> {
        if self.map.is_empty() {
            return None;
        }
        if self.handed_back {
            return Some(now);
        }
        self.earliest
    }
}

/// Requests remembered for duplicate detection, at most (RFC 6733
/// Appendix C): 512 on hosted targets (4 KiB), 32 on bare metal.
#[cfg(not(target_os = "none"))]
pub const DUPLICATE_ENTRIES: usize = 512;
/// Requests remembered for duplicate detection on bare metal.
#[cfg(target_os = "none")]
pub const DUPLICATE_ENTRIES: usize = 32;

/// The requests received in the last [`super::PeerConfig::duplicate_window`]
/// (RFC 6733 Appendix C), as 32-bit hashes of (Session-Id, Origin-Host,
/// End-to-End) with their arrival second: [`DUPLICATE_ENTRIES`] of them at
/// most, so when more than that arrive within the window the oldest are
/// forgotten early. A collision of two hashes (one in 2^32) marks a new
/// request as a possible duplicate; the flag is advisory (sessions detect
/// duplicates by their own request numbers).
#[derive(Debug)]
pub(crate) struct DuplicateWindow {
    seen: heapless::Deque<(u32, u32), DUPLICATE_ENTRIES>,
}

impl DuplicateWindow {
    pub(crate) const fn new() -> Self {
        DuplicateWindow {
            seen: heapless::Deque::new(),
        }
    }

    /// Forget everything, in place (as [`DuplicateWindow::new`]).
    pub(crate) fn clear(&mut self) {
        self.seen.clear();
    }

    /// Remember a request; true if `retransmitted` (its T flag) and the
    /// same key was seen within `window`. Only a retransmission can be a
    /// duplicate (RFC 6733 §6.5), so only those search the window: every
    /// other request is remembered in constant time.
    pub(crate) fn check(
        &mut self,
        now: Instant,
        window: Duration,
        session_id: &[u8],
        origin_host: &str,
        end_to_end: u32,
        retransmitted: bool,
    ) -> bool {
        let secs = (now.0 / 1000) as u32;
        let window = window.as_secs().min(u64::from(u32::MAX)) as u32;
        while let Some(&(_, t)) = self.seen.front() {
            if secs.wrapping_sub(t) > window {
                self.seen.pop_front();
            } else {
                break;
            }
        }
        let mut h = Fnv::new();
        core::hash::Hasher::write(&mut h, session_id);
        core::hash::Hasher::write(&mut h, &[0]);
        h.write_lowercase(origin_host.as_bytes());
        core::hash::Hasher::write(&mut h, &end_to_end.to_be_bytes());
        let full = core::hash::Hasher::finish(&h);
        let key = (full ^ (full >> 32)) as u32;
        let seen = retransmitted && self.seen.iter().any(|&(k, _)| k == key);
        if !seen {
            if self.seen.is_full() {
                self.seen.pop_front();
            }
            let _ = self.seen.push_back((key, secs));
        }
        seen
    }
}
