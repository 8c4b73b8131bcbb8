//! AOF rewrite (BGREWRITEAOF, automatic rewrite): compact the log into the current dataset.
//!
//! The exec gate is held exclusively only while the AOF starts collecting new writes and the
//! keyspace is serialized with `snapshot::dump` (that pause is measured and logged). A
//! background thread then writes `PREAMBLE_MAGIC`, the snapshot length and bytes, the writes
//! collected since the cut, fsyncs, and renames the file over the AOF.
//!
//! File format: `SBAOFv1\n` + u64 LE snapshot length + snapshot + RESP commands. A file that
//! does not start with the magic is a plain RESP command log.

use super::Persistence;
use crate::clock::unix_time_ms;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// The first bytes of an AOF that starts with a snapshot.
pub const PREAMBLE_MAGIC: &[u8; 8] = b"SBAOFv1\n";

/// Serialize the keyspace at one instant, pausing every client; starts collecting the writes
/// that follow. Returns the snapshot.
fn cut(p: &Persistence) -> Vec<u8> {
    let started = Instant::now();
    let snapshot = {
        let _paused = p.core.exec_gate.write_all();
        // The new file's tail is replayed from database 0: its first command names its own.
        p.core.stream.forget_db();
        p.aof.begin_rewrite();
        crate::store::snapshot::dump(&p.core.keyspace, unix_time_ms())
    };
    let pause = started.elapsed();
    p.last_pause_us.store(pause.as_micros() as u64, Ordering::Relaxed);
    crate::log::notice(&format!(
        "AOF rewrite: snapshot of {} keys ({} bytes) taken, clients paused {:.3} ms",
        p.core.keyspace.len(),
        snapshot.len(),
        pause.as_secs_f64() * 1000.0
    ));
    snapshot
}

/// Write the snapshot part of a new AOF to a temp file next to `path`.
fn write_base(path: &Path, snapshot: &[u8]) -> std::io::Result<(PathBuf, std::fs::File, u64)> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("temp-rewriteaof-{}-{}.aof", std::process::id(), unix_time_ms()));
    let mut f = std::fs::File::create(&tmp)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, &mut f);
    w.write_all(PREAMBLE_MAGIC)?;
    w.write_all(&(snapshot.len() as u64).to_le_bytes())?;
    w.write_all(snapshot)?;
    w.flush()?;
    drop(w);
    let base = (PREAMBLE_MAGIC.len() + 8 + snapshot.len()) as u64;
    Ok((tmp, f, base))
}

/// One whole rewrite, in the calling thread.
fn rewrite(p: &Persistence) -> std::io::Result<()> {
    let started = Instant::now();
    let snapshot = cut(p);
    let path = p.aof.path();
    let result = write_base(&path, &snapshot).and_then(|(tmp, f, base)| {
        p.aof.finish_rewrite(&tmp, f, base).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    });
    match result {
        Ok(tail) => {
            crate::log::notice(&format!(
                "Background AOF rewrite finished successfully in {} ms ({tail} bytes of writes made during the rewrite appended)",
                started.elapsed().as_millis()
            ));
            p.rewrites.fetch_add(1, Ordering::Relaxed);
            p.rewrite_failures.store(0, Ordering::Relaxed);
            p.last_rewrite_ok.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => {
            p.aof.abort_rewrite();
            crate::log::warning(&format!("Background AOF rewrite failed: {e}"));
            p.rewrite_failures.fetch_add(1, Ordering::Relaxed);
            p.last_rewrite_ok.store(false, Ordering::Relaxed);
            Err(e)
        }
    }
}

/// Mark a rewrite as running; false if one already is.
fn claim(p: &Persistence) -> bool {
    if p.rewrite_in_progress.swap(true, Ordering::AcqRel) {
        return false;
    }
    p.rewrite_started.store(unix_time_ms(), Ordering::Relaxed);
    true
}

fn release(p: &Persistence) {
    let secs = (unix_time_ms() - p.rewrite_started.load(Ordering::Relaxed)) / 1000;
    p.last_rewrite_secs.store(secs, Ordering::Relaxed);
    p.rewrite_in_progress.store(false, Ordering::Release);
}

/// Rewrite synchronously (creating the first AOF at start, before clients are served).
pub fn rewrite_now(p: &Persistence) -> std::io::Result<()> {
    if !claim(p) {
        return Err(std::io::Error::other("a rewrite is already in progress"));
    }
    let r = rewrite(p);
    release(p);
    r
}

/// Start a rewrite in a background thread (BGREWRITEAOF). Errors with the Redis message when
/// one is already running.
pub fn start_rewrite(p: &Arc<Persistence>) -> Result<(), String> {
    if !claim(p) {
        return Err("ERR Background append only file rewriting already in progress".into());
    }
    let bg = p.clone();
    let spawned = std::thread::Builder::new().name("slotbox-aof-rewrite".into()).spawn(move || {
        crate::log::as_child();
        let _ = rewrite(&bg);
        release(&bg);
    });
    spawned.map(|_| ()).map_err(|e| {
        release(p);
        format!("ERR Can't start the rewrite thread: {e}")
    })
}

/// `auto-aof-rewrite-percentage` / `auto-aof-rewrite-min-size`: rewrite once the file grew
/// that much past its size after the last rewrite.
pub fn check_auto_rewrite(p: &Arc<Persistence>) {
    if !p.aof.enabled.load(Ordering::Acquire) || p.rewrite_in_progress.load(Ordering::Acquire) {
        return;
    }
    let (pct, min) = {
        let c = p.core.config.read();
        (c.auto_aof_rewrite_percentage, c.auto_aof_rewrite_min_size as u64)
    };
    let size = p.aof.current_size.load(Ordering::Relaxed);
    let base = p.aof.base_size.load(Ordering::Relaxed).max(1);
    if pct == 0 || size < min || size <= base {
        return;
    }
    let growth = (size - base) * 100 / base;
    if growth >= pct {
        crate::log::notice(&format!("Starting automatic rewriting of AOF on {growth}% growth"));
        let _ = start_rewrite(p);
    }
}
