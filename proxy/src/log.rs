//! The proxy's log, as nutcracker 0.5 writes it: `[2026-12-07 03:17:11.680] file.rs:123 text`
//! (local time), to standard error or to the `-o` file, filtered by nutcracker's levels
//! (`-v N`, 0 emerg .. 11 pverb, default 5 notice). SIGHUP reopens the file (log rotation);
//! SIGUSR1 / SIGUSR2 raise / lower the level by one. One log per process (like nutcracker's):
//! proxies embedded in one process share it. Writing a line never fails the caller.

use parking_lot::Mutex;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};

/// nutcracker's levels (`nc_log.h`).
pub const EMERG: u8 = 0;
pub const CRIT: u8 = 2;
pub const ERR: u8 = 3;
pub const WARN: u8 = 4;
pub const NOTICE: u8 = 5;
pub const INFO: u8 = 6;
pub const DEBUG: u8 = 7;
pub const PVERB: u8 = 11;

static LEVEL: AtomicU8 = AtomicU8::new(NOTICE);
static FILE: Mutex<Option<(PathBuf, std::fs::File)>> = Mutex::new(None);

/// Log at `level` and above, to `path` (None: standard error). The file is opened for
/// appending (created 0644 as nutcracker does).
pub fn init(level: u8, path: Option<PathBuf>) -> std::io::Result<()> {
    LEVEL.store(level.min(PVERB), Ordering::Relaxed);
    *FILE.lock() = match path {
        Some(p) => Some((p.clone(), open(&p)?)),
        None => None,
    };
    Ok(())
}

fn open(p: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().create(true).append(true).mode(0o644).open(p)
}

/// Reopen the log file (after logrotate moved it); nothing when logging to standard error.
pub fn reopen() {
    let mut f = FILE.lock();
    if let Some((path, file)) = f.as_mut() {
        match open(path) {
            Ok(new) => *file = new,
            Err(e) => {
                let _ = writeln!(
                    file,
                    "{} reopening log file '{}' failed, ignored: {e}",
                    prefix(file!(), line!()),
                    path.display()
                );
            }
        }
    }
}

/// Is the log a file (`-o`)?
pub fn has_file() -> bool {
    FILE.lock().is_some()
}

/// The level in force.
pub fn level() -> u8 {
    LEVEL.load(Ordering::Relaxed)
}

/// One level more verbose (SIGUSR1), at most [`PVERB`].
pub fn level_up() {
    let l = (level() + 1).min(PVERB);
    LEVEL.store(l, Ordering::Relaxed);
    crate::plog!(EMERG, "up log level to {l}");
}

/// One level less verbose (SIGUSR2), at least [`EMERG`].
pub fn level_down() {
    let l = level().saturating_sub(1);
    LEVEL.store(l, Ordering::Relaxed);
    crate::plog!(EMERG, "down log level to {l}");
}

/// Would a line at `level` be written?
pub fn enabled(level: u8) -> bool {
    level <= LEVEL.load(Ordering::Relaxed)
}

/// Write one line (use the [`plog!`](crate::plog) macro, which fills in the file and line).
pub fn write(level: u8, file: &str, line: u32, args: std::fmt::Arguments) {
    if !enabled(level) {
        return;
    }
    let text = format!("{} {args}\n", prefix(file, line));
    match FILE.lock().as_mut() {
        Some((_, f)) => {
            let _ = f.write_all(text.as_bytes());
        }
        None => {
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
    }
}

/// `[2026-12-07 03:17:11.680] file.rs:123` in local time.
fn prefix(file: &str, line: u32) -> String {
    let name = file.rsplit('/').next().unwrap_or(file);
    format!("[{}] {name}:{line}", local_time_ms())
}

/// Now as `YYYY-mm-dd HH:MM:SS.mmm` in the local time zone.
pub fn local_time_ms() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    // SAFETY: `tm` is plain data that localtime_r fills in; both pointers are valid for the call.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&secs, &mut tm).is_null() };
    if !ok {
        return format!("{}.{:03}", now.as_secs(), now.subsec_millis());
    }
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        now.subsec_millis()
    )
}

/// `plog!(log::WARN, "server {} ejected", addr)`: one log line at a nutcracker level.
#[macro_export]
macro_rules! plog {
    ($level:expr, $($arg:tt)*) => {
        if $crate::log::enabled($level) {
            $crate::log::write($level, file!(), line!(), format_args!($($arg)*))
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn local_time_has_nutcrackers_shape() {
        let t = super::local_time_ms();
        let b = t.as_bytes();
        assert_eq!(b.len(), 23, "{t}");
        assert_eq!((b[4], b[7], b[10], b[13], b[16], b[19]), (b'-', b'-', b' ', b':', b':', b'.'), "{t}");
    }
}
