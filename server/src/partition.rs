//! [`Partition`]: a simulated network partition of this node, set by `DEBUG PARTITION
//! <seconds>` (a slotbox addition for fault injection, as `slotbox-cluster chaos partition`
//! uses it). Until it ends, the cluster bus drops every link, refuses new ones and sends
//! nothing (its failure detection keeps running, so the node sees its peers fail as a node
//! in a minority partition does), and the event loops leave every client request unanswered
//! until the end. The process keeps running. Only the deadline lives here: the bus and the
//! event loops read it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// The longest partition `DEBUG PARTITION` accepts, in seconds.
pub const MAX_SECONDS: f64 = 3600.0;

/// When the partition of this node ends (unix ms; 0: none).
#[derive(Default)]
pub struct Partition {
    until_ms: AtomicI64,
}

impl Partition {
    /// Cut the node off until `now_ms + millis` (a later call replaces the end).
    pub fn start(&self, now_ms: i64, millis: i64) {
        self.until_ms.store(now_ms.saturating_add(millis.max(0)), Ordering::Relaxed);
    }

    /// Is the node cut off at `now_ms`?
    pub fn active(&self, now_ms: i64) -> bool {
        now_ms < self.until_ms.load(Ordering::Relaxed)
    }

    /// How long the partition still lasts at `now_ms` (None once it is over).
    pub fn remaining(&self, now_ms: i64) -> Option<Duration> {
        let left = self.until_ms.load(Ordering::Relaxed) - now_ms;
        (left > 0).then(|| Duration::from_millis(left as u64))
    }

    /// Sleep (in steps of at most 50 ms) until the partition is over or `stop()` (the server
    /// shuts down); returns at once when there is none. `now` reads the clock.
    pub fn wait_out(&self, now: impl Fn() -> i64, stop: impl Fn() -> bool) {
        if self.until_ms.load(Ordering::Relaxed) == 0 {
            // Never partitioned: no clock read on the event loops' every turn.
            return;
        }
        while let Some(left) = self.remaining(now()) {
            if stop() {
                return;
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_lasts_until_its_end() {
        let p = Partition::default();
        assert!(!p.active(0));
        assert_eq!(p.remaining(0), None);
        p.start(1000, 500);
        assert!(p.active(1000) && p.active(1499));
        assert!(!p.active(1500));
        assert_eq!(p.remaining(1200), Some(Duration::from_millis(300)));
        // A later call replaces the end; zero seconds ends it.
        p.start(1200, 0);
        assert!(!p.active(1200));
        p.wait_out(|| 5000, || false);
        // A shutdown ends the wait of a partition still in force.
        p.start(0, 60_000);
        p.wait_out(|| 10, || true);
    }
}
