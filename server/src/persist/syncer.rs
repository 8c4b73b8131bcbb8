//! The `appendfsync always` syncer: one thread that fsyncs the AOF on request and wakes the
//! event loops waiting for it. An event loop whose replies wait for an fsync does not block:
//! it registers its waker and goes on serving other connections, whose writes the next fsync
//! covers, so one fsync acknowledges the writes of every thread (Redis fsyncs in the event
//! loop itself, once per loop turn).

use super::Persistence;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

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
    let s = Arc::new(Syncer { state: Mutex::new(State::default()), cv: Condvar::new() });
    let me = s.clone();
    let spawned = std::thread::Builder::new().name("slotbox-aof-sync".into()).spawn(move || run(&me, p));
    if let Err(e) = spawned {
        crate::log::warning(&format!("Could not start the AOF sync thread: {e}"));
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
