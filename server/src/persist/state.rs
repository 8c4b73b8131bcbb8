//! [`Persistence`]: one server's persistence state (the AOF, its syncer, the `save` counters,
//! BGSAVE / rewrite status), and its place as a sink of the write stream.

use super::aof::{Aof, FsyncPolicy};
use super::paths::aof_path;
use super::syncer::Syncer;
use crate::core::Core;
use bytes::Bytes;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

/// Replays one command of an AOF at start (the server's execution seam); an error stops the
/// load as a corrupt file.
pub type Replay<'a> = &'a mut dyn FnMut(Vec<Bytes>) -> Result<(), String>;

/// Persistence state of one server (`shared.persist`).
pub struct Persistence {
    pub core: Arc<Core>,
    pub aof: Arc<Aof>,
    /// The `appendfsync always` syncer.
    pub syncer: Syncer,
    /// Writes since the last successful snapshot (`rdb_changes_since_last_save`).
    pub dirty: Dirty,
    pub bgsave_in_progress: AtomicBool,
    /// Unix ms when the running BGSAVE started.
    pub bgsave_started: AtomicI64,
    pub last_bgsave_ok: AtomicBool,
    pub last_bgsave_secs: AtomicI64,
    /// Unix ms of the last failed save attempt (retries wait 5 s, as in Redis).
    pub last_save_failure: AtomicI64,
    pub rdb_saves: AtomicU64,
    pub rewrite_in_progress: AtomicBool,
    pub rewrite_started: AtomicI64,
    pub last_rewrite_ok: AtomicBool,
    pub last_rewrite_secs: AtomicI64,
    pub rewrites: AtomicU64,
    pub rewrite_failures: AtomicU64,
    /// How long the last snapshot held the exec gate (every client paused), in microseconds.
    pub last_pause_us: AtomicU64,
    pub loaded_keys: AtomicU64,
}

impl Persistence {
    pub fn new(core: Arc<Core>) -> Persistence {
        let (path, policy) = {
            let c = core.config.read();
            (aof_path(&c), FsyncPolicy::parse(&c.appendfsync))
        };
        Persistence {
            core,
            aof: Arc::new(Aof::new(path, policy)),
            syncer: Syncer::default(),
            dirty: Dirty::default(),
            bgsave_in_progress: AtomicBool::new(false),
            bgsave_started: AtomicI64::new(0),
            last_bgsave_ok: AtomicBool::new(true),
            last_bgsave_secs: AtomicI64::new(-1),
            last_save_failure: AtomicI64::new(0),
            rdb_saves: AtomicU64::new(0),
            rewrite_in_progress: AtomicBool::new(false),
            rewrite_started: AtomicI64::new(0),
            last_rewrite_ok: AtomicBool::new(true),
            last_rewrite_secs: AtomicI64::new(-1),
            rewrites: AtomicU64::new(0),
            rewrite_failures: AtomicU64::new(0),
            last_pause_us: AtomicU64::new(0),
            loaded_keys: AtomicU64::new(0),
        }
    }
}

/// The append-only file and the change counter of `save` rules consume the write stream.
impl crate::stream::StreamSink for Persistence {
    /// One encoded command from the write stream (`name` is its first argument).
    fn feed(&self, name: &[u8], encoded: &[u8]) {
        if name.eq_ignore_ascii_case(b"replconf") || name.eq_ignore_ascii_case(b"ping") {
            return;
        }
        if !(name.eq_ignore_ascii_case(b"multi") || name.eq_ignore_ascii_case(b"exec")) {
            self.dirty.add(1);
        }
        self.aof.append(encoded);
    }
}

/// Writes since the last successful snapshot: every write counted on a striped counter (each
/// event loop bumps its own cache line: one shared atomic was bounced between the loops on
/// every write), less the count the last successful save covered.
#[derive(Default)]
pub struct Dirty {
    total: crate::stats::Counter,
    saved: AtomicU64,
}

impl Dirty {
    pub fn add(&self, n: u64) {
        self.total.fetch_add(n, Ordering::Relaxed);
    }

    /// Changes since the last successful save.
    pub fn get(&self) -> u64 {
        self.total.load(Ordering::Relaxed).saturating_sub(self.saved.load(Ordering::Relaxed))
    }

    /// The count a save cut now covers (hand it to [`Dirty::saved`] once the save succeeded).
    pub fn cut(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// A save cut at `at_cut` succeeded: the changes before it no longer count.
    pub fn saved(&self, at_cut: u64) {
        self.saved.fetch_max(at_cut, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::Dirty;

    #[test]
    fn a_save_forgets_only_the_changes_before_its_cut() {
        let d = Dirty::default();
        d.add(5);
        let cut = d.cut();
        let writer = std::thread::spawn(move || {
            d.add(3);
            d
        });
        let d = writer.join().expect("writer");
        assert_eq!(d.get(), 8);
        d.saved(cut);
        assert_eq!(d.get(), 3, "the writes after the cut still count");
        d.saved(cut - 2);
        assert_eq!(d.get(), 3, "an older save does not bring changes back");
        d.saved(d.cut());
        assert_eq!(d.get(), 0);
    }
}
