//! Throttled `Bytes` events: at most one per 64 KiB or 100 ms per file.

use std::time::{Duration, Instant};

/// Bytes since the last event before another is sent.
const BYTES: u64 = 64 * 1024;
/// Time since the last event before another is sent.
const INTERVAL: Duration = Duration::from_millis(100);

/// Collects byte counts and says when an event is due.
#[derive(Debug)]
pub(crate) struct Throttle {
    pending: u64,
    total: u64,
    last: Instant,
}

impl Throttle {
    pub(crate) fn new() -> Throttle {
        Throttle {
            pending: 0,
            total: 0,
            last: Instant::now(),
        }
    }

    /// Adds `n` bytes; returns the bytes to report when an event is due.
    pub(crate) fn add(&mut self, n: u64) -> Option<u64> {
        self.pending += n;
        self.total += n;
        if self.pending >= BYTES || (self.pending > 0 && self.last.elapsed() >= INTERVAL) {
            return self.take();
        }
        None
    }

    /// The bytes not reported yet, if any.
    pub(crate) fn take(&mut self) -> Option<u64> {
        self.last = Instant::now();
        let n = std::mem::take(&mut self.pending);
        (n > 0).then_some(n)
    }

    /// Every byte added so far.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_chunks_are_batched() {
        let mut t = Throttle::new();
        let mut events = Vec::new();
        for _ in 0..1000 {
            if let Some(n) = t.add(1024) {
                events.push(n);
            }
        }
        events.extend(t.take());
        assert_eq!(events.iter().sum::<u64>(), 1000 * 1024);
        assert!(events.len() <= 16 + 1, "{}", events.len());
        assert_eq!(t.total(), 1000 * 1024);
        assert_eq!(t.take(), None);
    }
}
