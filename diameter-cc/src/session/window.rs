//! The request numbers a session processed (CC-Request-Number, RFC 8506
//! §5.7; Accounting-Record-Number, RFC 6733 §9.8.3): the highest and a
//! window of the 64 below it, so that duplicates and out-of-sequence
//! requests are told apart in constant memory.

/// A window of processed numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct NumberWindow {
    highest: Option<u32>,
    window: u64,
}

impl NumberWindow {
    /// Whether `n` was processed: `None` when it is older than the window
    /// (the caller decides what to believe).
    pub(crate) fn seen(&self, n: u32) -> Option<bool> {
        let Some(h) = self.highest else {
            return Some(false);
        };
        if n > h {
            return Some(false);
        }
        let back = h - n;
        (back < 64).then(|| self.window & (1u64 << back) != 0)
    }

    /// The highest number processed.
    pub(crate) const fn highest(&self) -> Option<u32> {
        self.highest
    }

    /// Mark `n` processed.
    pub(crate) fn mark(&mut self, n: u32) {
        match self.highest {
            Some(h) if n <= h => {
                let back = h - n;
                if back < 64 {
                    self.window |= 1u64 << back;
                }
            }
            Some(h) => {
                let shift = n - h;
                self.window = if shift >= 64 { 0 } else { self.window << shift };
                self.window |= 1;
                self.highest = Some(n);
            }
            None => {
                self.window = 1;
                self.highest = Some(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NumberWindow;

    #[test]
    fn marks_and_forgets() {
        let mut e = NumberWindow::default();
        assert_eq!(e.seen(0), Some(false));
        e.mark(0);
        e.mark(2);
        assert_eq!(e.seen(0), Some(true));
        assert_eq!(e.seen(1), Some(false));
        assert_eq!(e.seen(2), Some(true));
        e.mark(1);
        assert_eq!(e.seen(1), Some(true));
        e.mark(100);
        assert_eq!(e.seen(2), None);
        assert_eq!(e.seen(100), Some(true));
        assert_eq!(e.seen(99), Some(false));
        assert_eq!(e.highest(), Some(100));
    }
}
