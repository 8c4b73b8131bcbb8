//! Persistence over a server's life: loading at start ([`Persistence::start`]), the cron
//! (fsync for `everysec`, `save` rules, automatic rewrite, CONFIG SET changes) and the last
//! fsync at shutdown.

use super::aof::FsyncPolicy;
use super::paths::{aof_path, save_rules, snapshot_path};
use super::state::{Persistence, Replay};
use super::{load, rewrite, save};
use crate::core::Core;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Does anything need the write stream (so propagation must run without replicas)?
fn wants_stream(core: &Core) -> bool {
    let c = core.config.read();
    c.appendonly || !save_rules(&c.save).is_empty()
}

impl Persistence {
    /// At start, before clients are served: load the data (the AOF when `appendonly yes`,
    /// else the snapshot file), open the AOF, and start the persistence cron. Fails (the
    /// server must not start) when a file is corrupt.
    pub fn start(self: &Arc<Self>, replay: Replay) -> std::io::Result<std::thread::JoinHandle<()>> {
        let (appendonly, snap) = {
            let c = self.core.config.read();
            (c.appendonly, snapshot_path(&c))
        };
        if appendonly {
            let path = self.aof.path();
            if path.exists() {
                load::load_aof_file(self, &path, replay)?;
                self.aof.open_existing()?;
            } else {
                self.load_snapshot_if_present(&snap)?;
                self.aof.enabled.store(true, Ordering::Release);
                rewrite::rewrite_now(self)?;
            }
        } else {
            self.load_snapshot_if_present(&snap)?;
        }
        if wants_stream(&self.core) {
            self.core.stream.activate();
        }
        let p = self.clone();
        std::thread::Builder::new().name("slotbox-persist".into()).spawn(move || cron(p))
    }

    fn load_snapshot_if_present(&self, path: &std::path::Path) -> std::io::Result<()> {
        if !path.exists() {
            return Ok(());
        }
        let n = save::load_snapshot_file(&self.core, path)?;
        self.loaded_keys.store(n as u64, Ordering::Relaxed);
        Ok(())
    }
}

/// Ten times a second: fsync for `everysec`, `save` rules, automatic rewrite, and CONFIG SET
/// changes of `appendonly` / `appendfsync`. On shutdown: a last fsync.
fn cron(p: Arc<Persistence>) {
    let core = p.core.clone();
    let mut last_fsync = std::time::Instant::now();
    let mut full_syncs = core.stats.full_sync_loads.load(Ordering::Relaxed);
    while !core.is_shutting_down() {
        for _ in 0..5 {
            if !core.is_shutting_down() {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        follow_config(&p);
        // A backstop for writers that did not commit their appends.
        p.commit();
        if p.aof.policy() == FsyncPolicy::EverySec && last_fsync.elapsed() >= Duration::from_secs(1) {
            p.aof.sync_pending();
            last_fsync = std::time::Instant::now();
        }
        save::check_save_rules(&p);
        rewrite::check_auto_rewrite(&p);
        let n = core.stats.full_sync_loads.load(Ordering::Relaxed);
        if n != full_syncs && core.keyspace.is_replica() && p.aof.enabled.load(Ordering::Acquire) {
            // A full sync replaced the dataset: the AOF must start over from it.
            if rewrite::start_rewrite(&p).is_ok() {
                full_syncs = n;
            }
        } else {
            full_syncs = n;
        }
    }
    p.aof.sync_pending();
}

/// Apply run-time changes of `appendonly`, `appendfsync` and `save`.
fn follow_config(p: &Arc<Persistence>) {
    let (appendonly, policy) = {
        let c = p.core.config.read();
        (c.appendonly, FsyncPolicy::parse(&c.appendfsync))
    };
    p.aof.set_policy(policy);
    let enabled = p.aof.enabled.load(Ordering::Acquire);
    if appendonly && !enabled {
        p.aof.set_path(aof_path(&p.core.config.read()));
        p.aof.enabled.store(true, Ordering::Release);
        p.core.stream.activate();
        if let Err(e) = rewrite::start_rewrite(p) {
            crate::log::warning(&format!("Can't start the append only file: {e}"));
            p.aof.enabled.store(false, Ordering::Release);
        }
    } else if !appendonly && enabled && !p.rewrite_in_progress.load(Ordering::Acquire) {
        p.aof.close();
    }
    if wants_stream(&p.core) && !p.core.stream.is_active() {
        p.core.stream.activate();
    }
}
