//! Server log lines in Redis's format (`pid:M 28 Nov 2026 22:22:08.123 * message`), written to
//! `logfile` when set, else to standard output.

use parking_lot::Mutex;
use std::io::Write;
use std::sync::OnceLock;

static SINK: OnceLock<Mutex<Option<std::fs::File>>> = OnceLock::new();
static LEVEL: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(2);

/// Send log lines to `path` (None = stdout) at `level` (debug, verbose, notice, warning).
pub fn init(path: Option<&std::path::Path>, level: &str) -> std::io::Result<()> {
    let file = match path {
        Some(p) => Some(std::fs::OpenOptions::new().create(true).append(true).open(p)?),
        None => None,
    };
    set_level(level);
    let sink = SINK.get_or_init(|| Mutex::new(None));
    *sink.lock() = file;
    Ok(())
}

/// Log only lines at `level` (debug, verbose, notice, warning) or above (CONFIG SET loglevel).
pub fn set_level(level: &str) {
    let lvl = match level {
        "debug" => 0,
        "verbose" => 1,
        "notice" => 2,
        "warning" => 3,
        _ => 4,
    };
    LEVEL.store(lvl, std::sync::atomic::Ordering::Relaxed);
}

fn write(level: u8, mark: char, msg: &str) {
    if level < LEVEL.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let now = crate::clock::unix_time_ms();
    let line = format!("{}:M {} {} {}\n", std::process::id(), timestamp(now), mark, msg);
    match SINK.get().and_then(|s| s.lock().as_mut().map(|f| f.write_all(line.as_bytes()))) {
        Some(_) => {}
        None => {
            let _ = std::io::stdout().write_all(line.as_bytes());
        }
    }
}

pub fn notice(msg: &str) {
    write(2, '*', msg)
}

pub fn warning(msg: &str) {
    write(3, '#', msg)
}

pub fn verbose(msg: &str) {
    write(1, '-', msg)
}

/// "28 Nov 2026 22:22:08.123" in UTC.
fn timestamp(ms: i64) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        d,
        MONTHS[(m - 1) as usize],
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamp_format() {
        assert_eq!(super::timestamp(1_795_904_528_123), "28 Nov 2026 22:22:08.123");
    }
}
