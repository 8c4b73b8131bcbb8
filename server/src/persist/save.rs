//! Snapshot files (`dir/dbfilename`, in `store::snapshot`'s format): SAVE, BGSAVE, the
//! `save <seconds> <changes>` rules, SHUTDOWN's final save, and loading at start.
//!
//! BGSAVE holds the exec gate exclusively only while `snapshot::dump` runs (one consistent
//! instant), then writes the file from its own thread. SAVE and SHUTDOWN run inside a
//! command batch, where taking the gate would deadlock: they dump slot by slot (each slot
//! consistent) and write synchronously. Files are written to a temp name, fsynced and renamed.

use super::aof::sync_dir;
use super::{save_rules, snapshot_path, Persistence};
use crate::clock::unix_time_ms;
use crate::core::Core;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// Load `path` into the keyspace; the number of keys.
pub fn load_snapshot_file(core: &Core, path: &Path) -> std::io::Result<usize> {
    let started = Instant::now();
    let data = std::fs::read(path)?;
    let n = crate::store::snapshot::load(&core.keyspace, &data, core.hot.hash_limits())
        .map_err(|e| std::io::Error::other(format!("Can't load the snapshot file {}: {e}", path.display())))?;
    crate::log::notice(&format!(
        "DB loaded from disk ({}): {n} keys in {} ms",
        path.display(),
        started.elapsed().as_millis()
    ));
    Ok(n)
}

/// Write `bytes` to `path` atomically (temp file, fsync, rename, fsync of the directory).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!("temp-{}-{}.rdb", std::process::id(), unix_time_ms()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    } else {
        sync_dir(path);
    }
    result
}

/// Record the outcome of a save cut when the change count was `dirty_at_cut` (`Dirty::cut`).
fn finished(p: &Persistence, result: &std::io::Result<()>, dirty_at_cut: u64) {
    match result {
        Ok(()) => {
            p.dirty.saved(dirty_at_cut);
            p.core.lastsave.store(unix_time_ms() as u64 / 1000, Ordering::Relaxed);
            p.rdb_saves.fetch_add(1, Ordering::Relaxed);
            p.last_bgsave_ok.store(true, Ordering::Relaxed);
        }
        Err(e) => {
            crate::log::warning(&format!("Error saving the DB on disk: {e}"));
            p.last_bgsave_ok.store(false, Ordering::Relaxed);
            p.last_save_failure.store(unix_time_ms(), Ordering::Relaxed);
        }
    }
}

/// SAVE / SHUTDOWN: dump and write in the calling thread.
pub fn save_now(p: &Persistence) -> std::io::Result<()> {
    let dirty = p.dirty.cut();
    let started = Instant::now();
    let data = crate::store::snapshot::dump(&p.core.keyspace, unix_time_ms());
    let path = snapshot_path(&p.core.config.read());
    let result = write_atomically(&path, &data);
    finished(p, &result, dirty);
    if result.is_ok() {
        crate::log::notice(&format!("DB saved on disk ({} bytes, {} ms)", data.len(), started.elapsed().as_millis()));
    }
    result
}

/// BGSAVE: start a background save; the Redis error when one is running.
pub fn start_bgsave(p: &Arc<Persistence>) -> Result<(), String> {
    if p.bgsave_in_progress.swap(true, Ordering::AcqRel) {
        return Err("ERR Background save already in progress".into());
    }
    p.bgsave_started.store(unix_time_ms(), Ordering::Relaxed);
    crate::log::notice("Background saving started");
    let bg = p.clone();
    let spawned = std::thread::Builder::new().name("slotbox-bgsave".into()).spawn(move || {
        crate::log::as_child();
        bgsave(&bg)
    });
    spawned.map(|_| ()).map_err(|e| {
        p.bgsave_in_progress.store(false, Ordering::Release);
        format!("ERR Can't start the save thread: {e}")
    })
}

fn bgsave(p: &Persistence) {
    let started = Instant::now();
    let (data, dirty) = {
        let _paused = p.core.exec_gate.write_all();
        (crate::store::snapshot::dump(&p.core.keyspace, unix_time_ms()), p.dirty.cut())
    };
    let pause = started.elapsed();
    p.last_pause_us.store(pause.as_micros() as u64, Ordering::Relaxed);
    let path = snapshot_path(&p.core.config.read());
    let result = write_atomically(&path, &data);
    finished(p, &result, dirty);
    if result.is_ok() {
        crate::log::notice(&format!(
            "Background saving terminated with success ({} bytes; clients paused {:.3} ms, total {} ms)",
            data.len(),
            pause.as_secs_f64() * 1000.0,
            started.elapsed().as_millis()
        ));
    }
    let secs = (unix_time_ms() - p.bgsave_started.load(Ordering::Relaxed)) / 1000;
    p.last_bgsave_secs.store(secs, Ordering::Relaxed);
    p.bgsave_in_progress.store(false, Ordering::Release);
}

/// `save <seconds> <changes>`: start a BGSAVE when any rule is met (after a failure, wait
/// 5 s before retrying, as Redis does).
pub fn check_save_rules(p: &Arc<Persistence>) {
    if p.bgsave_in_progress.load(Ordering::Acquire) {
        return;
    }
    let rules = save_rules(&p.core.config.read().save);
    let dirty = p.dirty.get();
    if rules.is_empty() || dirty == 0 {
        return;
    }
    let now = unix_time_ms();
    if !p.last_bgsave_ok.load(Ordering::Relaxed) && now - p.last_save_failure.load(Ordering::Relaxed) < 5000 {
        return;
    }
    let since = (now / 1000) as u64 - p.core.lastsave.load(Ordering::Relaxed).min((now / 1000) as u64);
    if let Some((secs, changes)) = rules.iter().find(|&&(secs, changes)| dirty >= changes && since >= secs) {
        crate::log::notice(&format!("{changes} changes in {secs} seconds. Saving..."));
        let _ = start_bgsave(p);
    }
}

/// SHUTDOWN: save if `save` rules exist (or SAVE was given) unless NOSAVE; sync the AOF.
pub fn on_shutdown(p: &Persistence, save: bool, nosave: bool) -> std::io::Result<()> {
    if p.aof.enabled.load(Ordering::Acquire) {
        crate::log::notice("Calling fsync() on the AOF file.");
    }
    p.aof.sync_pending();
    let rules = !save_rules(&p.core.config.read().save).is_empty();
    if (rules || save) && !nosave {
        crate::log::notice("Saving the final RDB snapshot before exiting.");
        return save_now(p);
    }
    Ok(())
}
