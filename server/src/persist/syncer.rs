//! The `appendfsync always` syncer: one thread that fsyncs the AOF on request and wakes the
//! event loops waiting for it. An event loop whose replies wait for an fsync does not block:
//! it registers its waker and goes on serving other connections, whose writes the next fsync
//! covers, so one fsync acknowledges the writes of every thread (Redis fsyncs in the event
//! loop itself, once per loop turn).
//!
//! Before each fsync the syncer waits (at most [`GATHER`]) until no event loop is in the
//! middle of a turn: a loop mid-turn is about to write its batch, and syncing without it
//! would cost that batch an fsync of its own. With several loops this keeps one fsync per
//! round of requests, as with one loop; each fsync is real work for the filesystem.

use super::aof::Aof;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

/// The longest an fsync waits for event loops to finish their turn.
const GATHER: Duration = Duration::from_micros(200);

#[derive(Default)]
struct Wanted {
    /// The highest logical AOF position someone waits to see synced.
    end: u64,
    /// Event loops to wake after the next fsync.
    waiters: Vec<Arc<mio::Waker>>,
}

#[derive(Default)]
struct Inner {
    wanted: Mutex<Wanted>,
    cv: Condvar,
    thread: OnceLock<std::thread::Thread>,
    /// Event loops in the middle of a turn (only counted with `appendfsync always`).
    busy: AtomicUsize,
    /// The syncer is parked waiting for `busy` to drop to 0.
    gathering: AtomicBool,
}

/// One server's syncer (its thread starts on the first request and ends with the AOF).
pub struct Syncer {
    inner: Arc<Inner>,
    started: std::sync::Once,
}

impl Default for Syncer {
    fn default() -> Self {
        Syncer { inner: Arc::default(), started: std::sync::Once::new() }
    }
}

impl Syncer {
    /// An event loop starts a turn (it has events to handle).
    pub fn turn_begin(&self) {
        self.inner.busy.fetch_add(1, Ordering::AcqRel);
    }

    /// An event loop finished its turn (its writes are in the AOF's pending buffer).
    pub fn turn_end(&self) {
        let s = &self.inner;
        if s.busy.fetch_sub(1, Ordering::AcqRel) == 1 && s.gathering.load(Ordering::Acquire) {
            if let Some(t) = s.thread.get() {
                t.unpark();
            }
        }
    }

    /// Ask for an fsync of `aof` covering `end`; `waker` is woken when one completes.
    pub fn request(&self, aof: &Arc<Aof>, end: u64, waker: &Arc<mio::Waker>) {
        self.started.call_once(|| start(Arc::downgrade(aof), self.inner.clone()));
        let s = &self.inner;
        let mut w = s.wanted.lock();
        w.end = w.end.max(end);
        if !w.waiters.iter().any(|x| Arc::ptr_eq(x, waker)) {
            w.waiters.push(waker.clone());
        }
        s.cv.notify_one();
    }
}

fn start(aof: Weak<Aof>, s: Arc<Inner>) {
    let me = s.clone();
    let spawned = std::thread::Builder::new().name("slotbox-aof-sync".into()).spawn(move || run(&me, aof));
    match spawned {
        Ok(h) => {
            let _ = s.thread.set(h.thread().clone());
        }
        Err(e) => crate::log::warning(&format!("Could not start the AOF sync thread: {e}")),
    }
}

fn run(s: &Inner, aof: Weak<Aof>) {
    loop {
        let waiters = {
            let mut w = s.wanted.lock();
            while w.waiters.is_empty() {
                s.cv.wait_for(&mut w, Duration::from_millis(200));
                if aof.strong_count() == 0 {
                    return;
                }
            }
            std::mem::take(&mut w.waiters)
        };
        let Some(aof) = aof.upgrade() else { return };
        gather(s);
        // Everything appended so far, not only what was asked for: later requests are
        // covered too, and their threads see `synced` when woken.
        aof.sync_pending();
        if !aof.write_ok.load(Ordering::Relaxed) {
            // Writes or fsyncs fail: the waiters re-request after being woken; do not spin.
            std::thread::sleep(Duration::from_millis(10));
        }
        for w in waiters {
            let _ = w.wake();
        }
    }
}

/// Wait (at most [`GATHER`]) until no event loop is mid-turn, so this fsync covers their
/// batches too. The loop whose request started this is itself finishing its turn.
fn gather(s: &Inner) {
    let deadline = Instant::now() + GATHER;
    s.gathering.store(true, Ordering::Release);
    while s.busy.load(Ordering::Acquire) > 0 {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        std::thread::park_timeout(deadline - now);
    }
    s.gathering.store(false, Ordering::Release);
}
