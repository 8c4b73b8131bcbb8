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

use super::Persistence;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

/// The longest an fsync waits for event loops to finish their turn.
const GATHER: Duration = Duration::from_micros(200);

/// Event loops in the middle of a turn (only counted with `appendfsync always`).
static BUSY: AtomicUsize = AtomicUsize::new(0);
/// The syncer is parked waiting for `BUSY` to drop to 0.
static GATHERING: AtomicBool = AtomicBool::new(false);

/// An event loop starts a turn (it has events to handle).
pub fn turn_begin() {
    BUSY.fetch_add(1, Ordering::AcqRel);
}

/// An event loop finished its turn (its writes are in the AOF's pending buffer).
pub fn turn_end() {
    if BUSY.fetch_sub(1, Ordering::AcqRel) == 1 && GATHERING.load(Ordering::Acquire) {
        if let Some(t) = SYNCER.get().and_then(|s| s.thread.get()) {
            t.unpark();
        }
    }
}

#[derive(Default)]
struct State {
    /// The highest logical AOF position someone waits to see synced.
    wanted: u64,
    /// Event loops to wake after the next fsync.
    waiters: Vec<Arc<mio::Waker>>,
}

struct Syncer {
    state: Mutex<State>,
    cv: Condvar,
    thread: OnceLock<std::thread::Thread>,
}

static SYNCER: OnceLock<Arc<Syncer>> = OnceLock::new();

/// Ask for an fsync covering `end`; `waker` is woken when one completes.
pub fn request(p: &Arc<Persistence>, end: u64, waker: &Arc<mio::Waker>) {
    let s = SYNCER.get_or_init(|| start(Arc::downgrade(p)));
    let mut st = s.state.lock();
    st.wanted = st.wanted.max(end);
    if !st.waiters.iter().any(|w| Arc::ptr_eq(w, waker)) {
        st.waiters.push(waker.clone());
    }
    s.cv.notify_one();
}

fn start(p: Weak<Persistence>) -> Arc<Syncer> {
    let s = Arc::new(Syncer { state: Mutex::new(State::default()), cv: Condvar::new(), thread: OnceLock::new() });
    let me = s.clone();
    let spawned = std::thread::Builder::new().name("slotbox-aof-sync".into()).spawn(move || run(&me, p));
    match spawned {
        Ok(h) => {
            let _ = s.thread.set(h.thread().clone());
        }
        Err(e) => crate::log::warning(&format!("Could not start the AOF sync thread: {e}")),
    }
    s
}

fn run(s: &Syncer, p: Weak<Persistence>) {
    loop {
        let waiters = {
            let mut st = s.state.lock();
            while st.waiters.is_empty() {
                s.cv.wait_for(&mut st, Duration::from_millis(200));
                if p.strong_count() == 0 {
                    return;
                }
            }
            std::mem::take(&mut st.waiters)
        };
        let Some(p) = p.upgrade() else { return };
        gather();
        // Everything appended so far, not only what was asked for: later requests are
        // covered too, and their threads see `synced` when woken.
        p.aof.sync_pending();
        if !p.aof.write_ok.load(Ordering::Relaxed) {
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
fn gather() {
    let deadline = Instant::now() + GATHER;
    GATHERING.store(true, Ordering::Release);
    while BUSY.load(Ordering::Acquire) > 0 {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        std::thread::park_timeout(deadline - now);
    }
    GATHERING.store(false, Ordering::Release);
}
