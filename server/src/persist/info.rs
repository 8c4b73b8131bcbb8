//! The `# Persistence` section of INFO, with Redis 7.0's field names and order. Fields about
//! forks and copy-on-write (slotbox does not fork) print 0. One slotbox field is added at the
//! end: `slotbox_last_snapshot_pause_ms`, how long the last BGSAVE / rewrite paused clients.

use super::Persistence;
use crate::clock::unix_time_ms;
use std::fmt::Write;
use std::sync::atomic::Ordering;

fn status(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "err"
    }
}

/// Seconds since `started_ms` while `running`, else -1.
fn running_secs(running: bool, started_ms: i64) -> i64 {
    if running {
        (unix_time_ms() - started_ms) / 1000
    } else {
        -1
    }
}

/// Append the section's `field:value` lines.
pub fn render(out: &mut String, p: &Persistence) {
    let ld = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let bgsave = p.bgsave_in_progress.load(Ordering::Relaxed);
    let rewrite = p.rewrite_in_progress.load(Ordering::Relaxed);
    let aof_on = p.aof.enabled.load(Ordering::Relaxed);
    let _ = write!(
        out,
        "loading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\n\
         current_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\n\
         rdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\n\
         rdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{}\r\n\
         rdb_saves:{}\r\nrdb_last_cow_size:0\r\nrdb_last_load_keys_expired:0\r\nrdb_last_load_keys_loaded:{}\r\n",
        p.dirty.get(),
        u8::from(bgsave),
        p.core.lastsave.load(Ordering::Relaxed),
        status(p.last_bgsave_ok.load(Ordering::Relaxed)),
        p.last_bgsave_secs.load(Ordering::Relaxed),
        running_secs(bgsave, p.bgsave_started.load(Ordering::Relaxed)),
        ld(&p.rdb_saves),
        ld(&p.loaded_keys),
    );
    let _ = write!(
        out,
        "aof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:0\r\n\
         aof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{}\r\naof_last_bgrewrite_status:{}\r\n\
         aof_rewrites:{}\r\naof_rewrites_consecutive_failures:{}\r\naof_last_write_status:{}\r\n\
         aof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
        u8::from(aof_on),
        u8::from(rewrite),
        p.last_rewrite_secs.load(Ordering::Relaxed),
        running_secs(rewrite, p.rewrite_started.load(Ordering::Relaxed)),
        status(p.last_rewrite_ok.load(Ordering::Relaxed)),
        ld(&p.rewrites),
        ld(&p.rewrite_failures),
        status(p.aof.write_ok.load(Ordering::Relaxed)),
    );
    if aof_on {
        let _ = write!(
            out,
            "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:0\r\naof_buffer_length:0\r\n\
             aof_pending_bio_fsync:0\r\naof_delayed_fsync:0\r\n",
            ld(&p.aof.current_size),
            ld(&p.aof.base_size),
        );
    }
    let _ = write!(out, "slotbox_last_snapshot_pause_ms:{:.3}\r\n", ld(&p.last_pause_us) as f64 / 1000.0);
}
