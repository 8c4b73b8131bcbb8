//! Persistence: the append-only file (`aof.rs`), its rewrite (`rewrite.rs`), loading at start
//! and `--check-aof` (`load.rs`), and snapshot files with `save` rules (`save.rs`).
//!
//! Writes reach persistence through the replication stream: [`Persistence::feed`] receives
//! every command the write stream (`crate::stream`) carries (already made deterministic: absolute
//! expiry, SPOP as SREM, ...), so the AOF holds exactly what replicas receive. This module
//! never runs commands except when replaying a file at start.

pub mod aof;
pub mod info;
pub mod load;
pub mod rewrite;
pub mod save;
mod syncer;

use crate::shared::Shared;
use aof::{Aof, FsyncPolicy};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Persistence state of one server (`shared.persist`).
pub struct Persistence {
    pub aof: Aof,
    /// Writes since the last successful snapshot (`rdb_changes_since_last_save`).
    pub dirty: AtomicU64,
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
    pub fn new(shared_config: &crate::config::Config) -> Persistence {
        Persistence {
            aof: Aof::new(aof_path(shared_config), FsyncPolicy::parse(&shared_config.appendfsync)),
            dirty: AtomicU64::new(0),
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
            self.dirty.fetch_add(1, Ordering::Relaxed);
        }
        self.aof.append(encoded);
    }
}

/// This server's persistence state, created on first use.
pub fn of(shared: &Shared) -> &Arc<Persistence> {
    &shared.persist
}

/// `dir/appenddirname/appendfilename`.
pub fn aof_path(c: &crate::config::Config) -> PathBuf {
    c.dir.join(&c.appenddirname).join(&c.appendfilename)
}

/// `dir/dbfilename`.
pub fn snapshot_path(c: &crate::config::Config) -> PathBuf {
    c.dir.join(&c.dbfilename)
}

/// `save` rules as (seconds, changes) pairs.
pub fn save_rules(save: &str) -> Vec<(u64, u64)> {
    let nums: Vec<u64> = save.split_whitespace().filter_map(|s| s.parse().ok()).collect();
    nums.chunks_exact(2).map(|p| (p[0], p[1])).collect()
}

/// Does anything need the write stream (so propagation must run without replicas)?
fn wants_stream(shared: &Shared) -> bool {
    let c = shared.config.read();
    c.appendonly || !save_rules(&c.save).is_empty()
}

/// At start, before clients are served: load the data (the AOF when `appendonly yes`, else the
/// snapshot file), open the AOF, and start the persistence cron. Fails (the server must not
/// start) when a file is corrupt.
pub fn start(shared: &Arc<Shared>) -> std::io::Result<std::thread::JoinHandle<()>> {
    let p = of(shared).clone();
    let (appendonly, snap) = {
        let c = shared.config.read();
        (c.appendonly, snapshot_path(&c))
    };
    if appendonly {
        let path = p.aof.path();
        if path.exists() {
            load::load_aof_file(shared, &path)?;
            p.aof.open_existing()?;
        } else {
            load_snapshot_if_present(shared, &snap)?;
            p.aof.enabled.store(true, Ordering::Release);
            rewrite::rewrite_now(shared)?;
        }
    } else {
        load_snapshot_if_present(shared, &snap)?;
    }
    if wants_stream(shared) {
        shared.stream.activate();
    }
    let s = shared.clone();
    std::thread::Builder::new().name("slotbox-persist".into()).spawn(move || cron(s))
}

fn load_snapshot_if_present(shared: &Shared, path: &std::path::Path) -> std::io::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let n = save::load_snapshot_file(shared, path)?;
    of(shared).loaded_keys.store(n as u64, Ordering::Relaxed);
    Ok(())
}

/// Ten times a second: fsync for `everysec`, `save` rules, automatic rewrite, and CONFIG SET
/// changes of `appendonly` / `appendfsync`. On shutdown: a last fsync.
fn cron(shared: Arc<Shared>) {
    let p = of(&shared).clone();
    let mut last_fsync = std::time::Instant::now();
    let mut full_syncs = shared.repl.stats.sync_full.load(Ordering::Relaxed);
    while !shared.is_shutting_down() {
        for _ in 0..5 {
            if !shared.is_shutting_down() {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        follow_config(&shared, &p);
        if p.aof.policy() == FsyncPolicy::EverySec && last_fsync.elapsed() >= Duration::from_secs(1) {
            p.aof.sync_pending();
            last_fsync = std::time::Instant::now();
        }
        save::check_save_rules(&shared, &p);
        rewrite::check_auto_rewrite(&shared, &p);
        let n = shared.repl.stats.sync_full.load(Ordering::Relaxed);
        if n != full_syncs && shared.repl.is_replica() && p.aof.enabled.load(Ordering::Acquire) {
            // A full sync replaced the dataset: the AOF must start over from it.
            if rewrite::start_rewrite(&shared).is_ok() {
                full_syncs = n;
            }
        } else {
            full_syncs = n;
        }
    }
    p.aof.sync_pending();
}

/// Apply run-time changes of `appendonly`, `appendfsync` and `save`.
fn follow_config(shared: &Arc<Shared>, p: &Persistence) {
    let (appendonly, policy) = {
        let c = shared.config.read();
        (c.appendonly, FsyncPolicy::parse(&c.appendfsync))
    };
    p.aof.set_policy(policy);
    let enabled = p.aof.enabled.load(Ordering::Acquire);
    if appendonly && !enabled {
        p.aof.set_path(aof_path(&shared.config.read()));
        p.aof.enabled.store(true, Ordering::Release);
        shared.stream.activate();
        if let Err(e) = rewrite::start_rewrite(shared) {
            crate::log::warning(&format!("Can't start the append only file: {e}"));
            p.aof.enabled.store(false, Ordering::Release);
        }
    } else if !appendonly && enabled && !p.rewrite_in_progress.load(Ordering::Acquire) {
        p.aof.close();
    }
    if wants_stream(shared) && !shared.stream.is_active() {
        shared.stream.activate();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_save_rules() {
        assert_eq!(save_rules("3600 1 300 100"), vec![(3600, 1), (300, 100)]);
        assert!(save_rules("").is_empty());
    }
}
