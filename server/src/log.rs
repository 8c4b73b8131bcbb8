//! Server log lines in Redis's format (`pid:M 28 Nov 2026 22:22:08.123 * message`, local
//! time), written to `logfile` when set, else to standard output. The role letter is Redis's:
//! `M` a master, `S` a replica ([`set_replica`]), `C` a line from a background save or AOF
//! rewrite (Redis's forked child; here a thread, marked with [`as_child`]).

use parking_lot::Mutex;
use std::io::Write;
use std::sync::OnceLock;

static SINK: OnceLock<Mutex<Option<std::fs::File>>> = OnceLock::new();
static LEVEL: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(2);
static REPLICA: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

thread_local! {
    static CHILD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The server became a replica (`S`) or a master (`M`).
pub fn set_replica(on: bool) {
    REPLICA.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Lines from this thread are a background job's (`C`, as Redis's forked child).
pub fn as_child() {
    CHILD.with(|c| c.set(true));
}

fn role() -> char {
    if CHILD.with(|c| c.get()) {
        'C'
    } else if REPLICA.load(std::sync::atomic::Ordering::Relaxed) {
        'S'
    } else {
        'M'
    }
}

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
    let line = format!("{}:{} {} {} {}\n", std::process::id(), role(), timestamp(now), mark, msg);
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

/// "28 Nov 2026 22:22:08.123" in local time, as Redis writes it (`%d %b %Y %H:%M:%S.` + ms).
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
#[cfg(test)]
const MONTHS_FOR_TEST: [&str; 12] = MONTHS;

fn timestamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000) as libc::time_t;
    // SAFETY: `tm` is plain data, valid zeroed; localtime_r writes only into it and both
    // pointers are valid for the call.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    if unsafe { libc::localtime_r(&secs, &mut tm) }.is_null() {
        return format!("{secs}.{:03}", ms.rem_euclid(1000));
    }
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        tm.tm_mday,
        MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        ms.rem_euclid(1000)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamp_format() {
        // Local time: the shape, the milliseconds and (in any zone) the minutes' ones digit.
        let t = super::timestamp(1_795_904_528_123);
        let b = t.as_bytes();
        assert_eq!(b.len(), 24, "{t}");
        assert!(t.ends_with(":08.123"), "{t}");
        assert_eq!((b[2], b[6], b[11], b[14], b[17]), (b' ', b' ', b' ', b':', b':'), "{t}");
        assert!(super::MONTHS_FOR_TEST.iter().any(|m| &t[3..6] == *m), "{t}");
    }

    #[test]
    fn role_letters() {
        super::set_replica(false);
        assert_eq!(super::role(), 'M');
        std::thread::spawn(|| {
            super::as_child();
            assert_eq!(super::role(), 'C');
        })
        .join()
        .unwrap();
        assert_eq!(super::role(), 'M', "only the marked thread is a child");
    }
}
