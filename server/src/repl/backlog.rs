//! The replication buffer: the replication stream (RESP-encoded write commands) with absolute
//! byte offsets, shared by the backlog and every attached replica, as Redis 7.0's shared
//! replication buffer.
//!
//! - The **backlog** is its last `repl-backlog-size` bytes: what a replica that reconnects may
//!   continue from (partial resync, [`Backlog::covers`]).
//! - Each attached replica is a [`Reader`] with the offset of the next byte it needs. Bytes a
//!   reader still needs are kept even when they are older than the backlog, so a replica is
//!   never dropped because one write (or a burst during its full sync) was larger than the
//!   backlog; its unsent bytes are its output buffer, bounded by the `replica` class of
//!   `client-output-buffer-limit` (checked by the sender, `master.rs`).
//!
//! Bytes are dropped from the front once they are outside the backlog and no reader needs
//! them.

use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::time::Duration;

struct Inner {
    buf: VecDeque<u8>,
    /// Offset of the first byte in `buf` (offsets start at 1, as in Redis).
    first: u64,
    /// Total bytes ever fed: the master replication offset.
    end: u64,
    /// `repl-backlog-size`.
    cap: usize,
    /// (reader id, next offset it needs).
    readers: Vec<(u64, u64)>,
    next_reader: u64,
    /// Does the backlog exist? As in Redis, a master creates it when its first replica
    /// attaches (a replica when it syncs); until then writes are not kept and the offset
    /// stays where it is.
    created: bool,
}

impl Inner {
    /// The first offset of the backlog proper (the last `cap` bytes).
    fn backlog_start(&self) -> u64 {
        (self.end + 1).saturating_sub(self.cap as u64).max(self.first)
    }

    /// Drop what neither the backlog nor any reader needs.
    fn trim(&mut self) {
        // Readers left behind by a reset are out of range already: they hold nothing.
        let first = self.first;
        let keep_from =
            self.readers.iter().map(|&(_, pos)| pos).filter(|&p| p >= first).fold(self.backlog_start(), u64::min);
        let excess = keep_from.saturating_sub(self.first).min(self.buf.len() as u64) as usize;
        if excess > 0 {
            self.buf.drain(..excess);
            self.first += excess as u64;
        }
    }
}

pub struct Backlog {
    inner: Mutex<Inner>,
    cond: Condvar,
}

/// The requested offset is no longer (or not yet) in the buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct OutOfRange;

/// One attached replica's place in the stream; detaches when dropped.
pub struct Reader<'a> {
    backlog: &'a Backlog,
    id: u64,
    /// The next offset this replica needs.
    pos: u64,
}

impl Backlog {
    pub fn new(cap: usize) -> Self {
        Backlog {
            inner: Mutex::new(Inner {
                buf: VecDeque::new(),
                first: 1,
                end: 0,
                cap: cap.max(1024),
                readers: Vec::new(),
                next_reader: 0,
                created: false,
            }),
            cond: Condvar::new(),
        }
    }

    /// Append stream bytes and wake waiting senders.
    pub fn append(&self, data: &[u8]) {
        let mut g = self.inner.lock();
        if !g.created {
            return;
        }
        g.buf.extend(data);
        g.end += data.len() as u64;
        g.trim();
        drop(g);
        self.cond.notify_all();
    }

    /// Create the backlog (the first replica attaches): from now on writes are kept.
    pub fn create(&self) {
        self.inner.lock().created = true;
    }

    /// Has the backlog been created (INFO's `repl_backlog_active`)?
    pub fn is_created(&self) -> bool {
        self.inner.lock().created
    }

    /// The master replication offset (bytes fed so far).
    pub fn offset(&self) -> u64 {
        self.inner.lock().end
    }

    /// Restart the stream at `offset` (a replica after a full sync, or a new history). Readers
    /// attached before fall out of range (their replicas must resync).
    pub fn reset(&self, offset: u64) {
        let mut g = self.inner.lock();
        g.buf.clear();
        g.end = offset;
        g.first = offset + 1;
        g.created = true;
        drop(g);
        self.cond.notify_all();
    }

    pub fn resize(&self, cap: usize) {
        let mut g = self.inner.lock();
        g.cap = cap.max(1024);
        g.trim();
    }

    /// Can a replica continue from `from` (the next byte it needs)?
    pub fn covers(&self, from: u64) -> bool {
        let g = self.inner.lock();
        g.created && from >= g.backlog_start() && from <= g.end + 1
    }

    /// INFO's `repl_backlog_first_byte_offset` and `repl_backlog_histlen`.
    pub fn history(&self) -> (u64, u64) {
        let g = self.inner.lock();
        let start = g.backlog_start();
        (start, g.end + 1 - start)
    }

    /// Bytes held for the backlog and for replicas that have not been sent them.
    pub fn memory(&self) -> usize {
        self.inner.lock().buf.len()
    }

    /// Attach a replica that needs the stream from `from` on: it must still be in the buffer
    /// (the backlog, or held for another reader), or be the next byte to come.
    pub fn attach(&self, from: u64) -> Result<Reader<'_>, OutOfRange> {
        let mut g = self.inner.lock();
        if from < g.first || from > g.end + 1 {
            return Err(OutOfRange);
        }
        let id = g.next_reader;
        g.next_reader += 1;
        g.readers.push((id, from));
        Ok(Reader { backlog: self, id, pos: from })
    }

    /// Wake every waiting sender (shutdown, role change).
    pub fn wake_all(&self) {
        self.cond.notify_all();
    }
}

impl Reader<'_> {
    /// The next offset this replica needs.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// Stream bytes this replica has not been sent (its output buffer).
    pub fn pending(&self) -> u64 {
        (self.backlog.inner.lock().end + 1).saturating_sub(self.pos)
    }

    /// The next bytes for this replica (at most `max`), waiting up to `wait` for new data.
    /// Everything before them was sent, so the buffer may let it go.
    pub fn next(&mut self, max: usize, wait: Duration) -> Result<Vec<u8>, OutOfRange> {
        let b = self.backlog;
        let mut g = b.inner.lock();
        if self.pos > g.end {
            b.cond.wait_for(&mut g, wait);
        }
        if self.pos < g.first || self.pos > g.end + 1 {
            return Err(OutOfRange);
        }
        let start = (self.pos - g.first) as usize;
        let n = (g.buf.len() - start).min(max);
        Ok(g.buf.range(start..start + n).copied().collect())
    }

    /// `n` bytes of what [`Reader::next`] returned were sent.
    pub fn sent(&mut self, n: usize) {
        self.pos += n as u64;
        let mut g = self.backlog.inner.lock();
        let (id, pos) = (self.id, self.pos);
        if let Some(r) = g.readers.iter_mut().find(|r| r.0 == id) {
            r.1 = pos;
        }
        g.trim();
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        let mut g = self.backlog.inner.lock();
        g.readers.retain(|r| r.0 != self.id);
        g.trim();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_trimming() {
        let b = Backlog::new(1024);
        b.create();
        b.append(&[1u8; 1000]);
        b.append(&[2u8; 100]);
        assert_eq!(b.offset(), 1100);
        assert!(!b.covers(1));
        assert!(b.covers(77));
        assert!(b.covers(1101));
        assert!(!b.covers(1102));
        assert_eq!(b.history(), (77, 1024));
        let mut r = b.attach(1001).unwrap();
        assert_eq!(r.next(1000, Duration::ZERO).unwrap(), vec![2u8; 100]);
        assert!(b.attach(1).is_err());
        drop(r);
        let mut r = b.attach(1101).unwrap();
        assert!(r.next(10, Duration::from_millis(1)).unwrap().is_empty());
        drop(r);
        b.reset(5000);
        assert!(b.covers(5001));
        assert_eq!(b.offset(), 5000);
        assert_eq!(b.history(), (5001, 0));
    }

    #[test]
    fn a_reader_keeps_what_it_was_not_sent_beyond_the_backlog() {
        let b = Backlog::new(1024);
        b.create();
        b.append(b"x");
        let mut r = b.attach(2).unwrap();
        // One write four times the backlog: still all there for the attached replica.
        let big = vec![7u8; 4096];
        b.append(&big);
        assert_eq!(r.pending(), 4096);
        assert!(!b.covers(2), "the backlog proper is only the last 1024 bytes");
        let mut got = Vec::new();
        while got.len() < big.len() {
            let chunk = r.next(1000, Duration::ZERO).unwrap();
            r.sent(chunk.len());
            got.extend(chunk);
        }
        assert_eq!(got, big);
        assert_eq!(r.pending(), 0);
        assert!(b.memory() <= 1024, "sent bytes outside the backlog are let go: {}", b.memory());
        drop(r);
        assert_eq!(b.history(), (4097 - 1024 + 1, 1024));
    }

    #[test]
    fn nothing_is_kept_before_the_backlog_is_created() {
        let b = Backlog::new(1024);
        b.append(b"abc");
        assert_eq!((b.offset(), b.memory()), (0, 0));
        assert!(!b.covers(1));
        b.create();
        b.append(b"abc");
        assert_eq!((b.offset(), b.memory()), (3, 3));
        assert!(b.covers(1));
    }

    #[test]
    fn reset_puts_attached_readers_out_of_range() {
        let b = Backlog::new(1024);
        b.create();
        b.append(b"abc");
        let mut r = b.attach(4).unwrap();
        b.reset(100);
        assert_eq!(r.next(10, Duration::ZERO), Err(OutOfRange));
    }
}
