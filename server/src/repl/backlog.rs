//! The replication backlog: the tail of the replication stream (RESP-encoded write commands)
//! with absolute byte offsets, so a replica that reconnects can continue where it stopped
//! (partial resync) and sender threads can wait for new data.

use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::time::Duration;

struct Inner {
    buf: VecDeque<u8>,
    /// Offset of the first byte in `buf` (offsets start at 1, as in Redis).
    first: u64,
    /// Total bytes ever fed: the master replication offset.
    end: u64,
    cap: usize,
}

pub struct Backlog {
    inner: Mutex<Inner>,
    cond: Condvar,
}

/// The requested offset is no longer (or not yet) in the backlog.
#[derive(Debug, PartialEq, Eq)]
pub struct OutOfRange;

impl Backlog {
    pub fn new(cap: usize) -> Self {
        Backlog {
            inner: Mutex::new(Inner { buf: VecDeque::new(), first: 1, end: 0, cap: cap.max(1024) }),
            cond: Condvar::new(),
        }
    }

    /// Append stream bytes and wake waiting senders.
    pub fn feed(&self, data: &[u8]) {
        let mut g = self.inner.lock();
        g.buf.extend(data);
        g.end += data.len() as u64;
        let excess = g.buf.len().saturating_sub(g.cap);
        if excess > 0 {
            g.buf.drain(..excess);
            g.first += excess as u64;
        }
        drop(g);
        self.cond.notify_all();
    }

    /// The master replication offset (bytes fed so far).
    pub fn offset(&self) -> u64 {
        self.inner.lock().end
    }

    /// Restart the stream at `offset` (a replica after a full sync, or a new history).
    pub fn reset(&self, offset: u64) {
        let mut g = self.inner.lock();
        g.buf.clear();
        g.end = offset;
        g.first = offset + 1;
    }

    pub fn resize(&self, cap: usize) {
        self.inner.lock().cap = cap.max(1024);
    }

    /// Can a replica continue from `from` (the next byte it needs)?
    pub fn covers(&self, from: u64) -> bool {
        let g = self.inner.lock();
        from >= g.first && from <= g.end + 1
    }

    /// Bytes from `from` on (at most `max`), waiting up to `wait` for new data.
    pub fn read_from(&self, from: u64, max: usize, wait: Duration) -> Result<Vec<u8>, OutOfRange> {
        let mut g = self.inner.lock();
        if from > g.end {
            self.cond.wait_for(&mut g, wait);
        }
        if from < g.first || from > g.end + 1 {
            return Err(OutOfRange);
        }
        let start = (from - g.first) as usize;
        let n = (g.buf.len() - start).min(max);
        Ok(g.buf.range(start..start + n).copied().collect())
    }

    /// Wake every waiting sender (shutdown, role change).
    pub fn wake_all(&self) {
        self.cond.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_trimming() {
        let b = Backlog::new(1024);
        b.feed(&[1u8; 1000]);
        b.feed(&[2u8; 100]);
        assert_eq!(b.offset(), 1100);
        assert!(!b.covers(1));
        assert!(b.covers(77));
        assert!(b.covers(1101));
        assert!(!b.covers(1102));
        let tail = b.read_from(1001, 1000, Duration::ZERO).unwrap();
        assert_eq!(tail, vec![2u8; 100]);
        assert_eq!(b.read_from(1, 10, Duration::ZERO), Err(OutOfRange));
        assert!(b.read_from(1101, 10, Duration::from_millis(1)).unwrap().is_empty());
        b.reset(5000);
        assert!(b.covers(5001));
        assert_eq!(b.offset(), 5000);
    }
}
