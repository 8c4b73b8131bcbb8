//! [`LazyFree`]: values dropped on a background thread, as Redis's lazyfree does for UNLINK —
//! a value whose freeing is more work than [`THRESHOLD`] (`Value::free_effort`, Redis's
//! `lazyfreeGetFreeEffort`) leaves the command's thread at once and is freed there; INFO
//! reports `lazyfree_pending_objects` and `lazyfreed_objects`. One thread per server, started
//! on first use, ending when the server (and with it the sending side) goes.

use crate::store::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// Redis's LAZYFREE_THRESHOLD: values costing more than this many allocations to free.
pub const THRESHOLD: usize = 64;

#[derive(Default)]
struct Counts {
    pending: AtomicU64,
    freed: AtomicU64,
}

#[derive(Default)]
pub struct LazyFree {
    tx: OnceLock<crossbeam_channel::Sender<Value>>,
    counts: Arc<Counts>,
}

impl LazyFree {
    /// Free `value` here, or on the background thread when that is worth it (UNLINK).
    pub fn free(&self, value: Value) {
        if value.free_effort() <= THRESHOLD {
            return;
        }
        let tx = self.tx.get_or_init(|| {
            let (tx, rx) = crossbeam_channel::unbounded::<Value>();
            let counts = self.counts.clone();
            let spawned = std::thread::Builder::new().name("slotbox-lazyfree".into()).spawn(move || {
                while let Ok(v) = rx.recv() {
                    drop(v);
                    counts.freed.fetch_add(1, Ordering::Relaxed);
                    counts.pending.fetch_sub(1, Ordering::Relaxed);
                }
            });
            if spawned.is_err() {
                crate::log::warning("could not start the lazyfree thread: values are freed in place");
            }
            tx
        });
        self.counts.pending.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = tx.send(value) {
            // No thread: freed here after all.
            drop(e.into_inner());
            self.counts.pending.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// INFO `lazyfree_pending_objects`.
    pub fn pending(&self) -> u64 {
        self.counts.pending.load(Ordering::Relaxed)
    }

    /// INFO `lazyfreed_objects` (since the start or CONFIG RESETSTAT).
    pub fn freed(&self) -> u64 {
        self.counts.freed.load(Ordering::Relaxed)
    }

    pub fn reset_stats(&self) {
        self.counts.freed.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_values_go_to_the_thread_and_small_ones_do_not() {
        let lf = LazyFree::default();
        lf.free(Value::string(b"small"));
        assert_eq!((lf.pending(), lf.freed()), (0, 0));
        let mut list = crate::store::quicklist::QuickList::new();
        for i in 0..20_000 {
            list.push_back(format!("element {i}").as_bytes());
        }
        assert!(list.node_count() > THRESHOLD);
        lf.free(Value::List(Box::new(list)));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while lf.freed() == 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!((lf.pending(), lf.freed()), (0, 1));
        lf.reset_stats();
        assert_eq!(lf.freed(), 0);
    }
}
