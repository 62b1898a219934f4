//! The endpoint's one timer table: each session slot's next deadline in an
//! indexed binary min-heap, so that `poll_timeout` is a look at the root
//! and `handle_timeout` visits only the sessions that are due, however
//! many sessions the endpoint holds (moving a deadline is O(log n)).

use diameter_core::time::Instant;

/// Deadlines of up to `N` slots, at most one per slot.
pub(crate) struct Timers<const N: usize> {
    /// `(deadline, slot)`, a min-heap on the deadline.
    heap: heapless::Vec<(Instant, u16), N>,
    /// `position[slot]`: the slot's place in `heap`, `NONE` if it has no
    /// deadline.
    position: [u16; N],
}

const NONE: u16 = u16::MAX;

impl<const N: usize> Timers<N> {
    /// No deadlines.
    pub(crate) const fn new() -> Self {
        Timers {
            heap: heapless::Vec::new(),
            position: [NONE; N],
        }
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.heap.first().map(|&(at, _)| at)
    }

    /// Give `slot` the deadline `at` (`None`: none). Slots at or beyond
    /// `N` are ignored.
    pub(crate) fn set(&mut self, slot: u16, at: Option<Instant>) {
        let Some(&p) = self.position.get(usize::from(slot)) else {
            return;
        };
        match (p != NONE, at) {
            (false, None) => {}
            (false, Some(at)) => {
                let i = self.heap.len();
                if self.heap.push((at, slot)).is_ok() {
                    self.place(i);
                    self.sift_up(i);
                }
            }
            (true, None) => self.remove_at(usize::from(p)),
            (true, Some(at)) => {
                let i = usize::from(p);
                let Some(entry) = self.heap.get_mut(i) else {
                    return;
                };
                let old = entry.0;
                entry.0 = at;
                if at < old {
                    self.sift_up(i);
                } else {
                    self.sift_down(i);
                }
            }
        }
    }

    /// Take out the slot with the earliest deadline if it is at or before
    /// `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<u16> {
        let &(at, slot) = self.heap.first()?;
        if at > now {
            return None;
        }
        self.remove_at(0);
        Some(slot)
    }

    fn remove_at(&mut self, i: usize) {
        let Some(&(_, slot)) = self.heap.get(i) else {
            return;
        };
        if let Some(p) = self.position.get_mut(usize::from(slot)) {
            *p = NONE;
        }
        let _ = self.heap.swap_remove(i);
        if i < self.heap.len() {
            self.place(i);
            self.sift_up(i);
            self.sift_down(i);
        }
    }

    /// Record where entry `i` sits.
    fn place(&mut self, i: usize) {
        if let Some(&(_, slot)) = self.heap.get(i) {
            if let Some(p) = self.position.get_mut(usize::from(slot)) {
                *p = i as u16;
            }
        }
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.heap[i].0 >= self.heap[parent].0 {
                break;
            }
            self.heap.swap(i, parent);
            self.place(i);
            self.place(parent);
            i = parent;
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.heap.len();
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut least = i;
            if l < n && self.heap[l].0 < self.heap[least].0 {
                least = l;
            }
            if r < n && self.heap[r].0 < self.heap[least].0 {
                least = r;
            }
            if least == i {
                break;
            }
            self.heap.swap(i, least);
            self.place(i);
            self.place(least);
            i = least;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random moves against a plain array of deadlines.
    #[test]
    fn agrees_with_a_scan() {
        const N: usize = 16;
        let mut t = Timers::<N>::new();
        let mut model = [None::<Instant>; N];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut now = Instant::ZERO;
        for _ in 0..20_000 {
            let r = next();
            let slot = (r % N as u64) as u16;
            match (r >> 8) % 4 {
                0 => {
                    t.set(slot, None);
                    model[usize::from(slot)] = None;
                }
                1 | 2 => {
                    let at = Instant::from_millis(now.as_millis() + (r >> 16) % 50);
                    t.set(slot, Some(at));
                    model[usize::from(slot)] = Some(at);
                }
                _ => {
                    now = Instant::from_millis(now.as_millis() + (r >> 16) % 10);
                    while let Some(s) = t.pop_due(now) {
                        let d = model[usize::from(s)].expect("a popped slot had a deadline");
                        assert!(d <= now);
                        assert_eq!(Some(d), model.iter().flatten().min().copied());
                        model[usize::from(s)] = None;
                    }
                    assert!(model.iter().flatten().all(|&d| d > now));
                }
            }
            assert_eq!(t.next(), model.iter().flatten().min().copied());
        }
        t.set(N as u16, Some(Instant::ZERO));
        assert_eq!(t.next().is_some(), model.iter().any(Option::is_some));
    }
}
