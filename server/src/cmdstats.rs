//! What monitoring reads about commands: per-command counters (INFO commandstats: calls,
//! microseconds, rejected and failed calls) and the slow log (SLOWLOG: the commands that ran
//! longer than `slowlog-log-slower-than`). Counters are striped per thread like `stats`, so
//! two event loops never share a cache line on the request path; the slow log takes a lock
//! only for a command that is slow.

use crate::stats::stripe;
use bytes::Bytes;
use hashbrown::HashMap;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

/// More than the registered commands and subcommands (checked when the registry is built).
pub const MAX_COMMANDS: usize = 512;
const STRIPES: usize = crate::stats::STRIPES;

#[derive(Default)]
struct Cell {
    calls: AtomicU64,
    usec: AtomicU64,
    rejected: AtomicU64,
    failed: AtomicU64,
}

/// One command's totals.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub calls: u64,
    pub usec: u64,
    pub rejected: u64,
    pub failed: u64,
}

/// Counters per command id, one block of them per stripe.
pub struct CommandStats {
    cells: Box<[Cell]>,
}

impl Default for CommandStats {
    fn default() -> Self {
        CommandStats { cells: (0..STRIPES * MAX_COMMANDS).map(|_| Cell::default()).collect() }
    }
}

impl CommandStats {
    fn cell(&self, id: u16) -> &Cell {
        &self.cells[stripe() * MAX_COMMANDS + (id as usize % MAX_COMMANDS)]
    }

    /// Command `id` ran for `usec` microseconds; `failed`: it answered an error.
    #[inline]
    pub fn record(&self, id: u16, usec: u64, failed: bool) {
        let c = self.cell(id);
        c.calls.fetch_add(1, Ordering::Relaxed);
        c.usec.fetch_add(usec, Ordering::Relaxed);
        if failed {
            c.failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Command `id` was refused before it ran (NOAUTH, a redirect, READONLY, ...).
    pub fn reject(&self, id: u16) {
        self.cell(id).rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// Totals of every command id that was called or rejected.
    pub fn totals(&self) -> Vec<(u16, Totals)> {
        (0..MAX_COMMANDS)
            .filter_map(|id| {
                let mut t = Totals::default();
                for s in 0..STRIPES {
                    let c = &self.cells[s * MAX_COMMANDS + id];
                    t.calls += c.calls.load(Ordering::Relaxed);
                    t.usec += c.usec.load(Ordering::Relaxed);
                    t.rejected += c.rejected.load(Ordering::Relaxed);
                    t.failed += c.failed.load(Ordering::Relaxed);
                }
                (t.calls + t.rejected > 0).then_some((id as u16, t))
            })
            .collect()
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        for c in self.cells.iter() {
            for a in [&c.calls, &c.usec, &c.rejected, &c.failed] {
                a.store(0, Ordering::Relaxed);
            }
        }
    }
}

/// Error replies by their code (INFO errorstats): `ERR`, `WRONGTYPE`, `MOVED`... Errors are
/// rare next to replies, so one lock is enough.
#[derive(Default)]
pub struct ErrorStats {
    counts: Mutex<HashMap<String, u64>>,
}

/// Distinct codes tracked at most (Redis stops tracking new ones there too).
const MAX_ERROR_CODES: usize = 128;

impl ErrorStats {
    /// Count the error reply `text` (without its '-') under its first word.
    pub fn record(&self, text: &[u8]) {
        let head = &text[..text.len().min(32)];
        let code = head.split(|&b| b == b' ').next().unwrap_or_default();
        let code = String::from_utf8_lossy(code);
        let mut counts = self.counts.lock();
        if let Some(n) = counts.get_mut(code.as_ref()) {
            *n += 1;
        } else if counts.len() < MAX_ERROR_CODES {
            counts.insert(code.into_owned(), 1);
        }
    }

    /// Take back one count of `text`'s code (an error a script already counted when its
    /// command failed, about to be counted again as the script's reply).
    pub fn unrecord(&self, text: &[u8]) {
        let head = &text[..text.len().min(32)];
        let code = head.split(|&b| b == b' ').next().unwrap_or_default();
        let mut counts = self.counts.lock();
        if let Some(n) = counts.get_mut(String::from_utf8_lossy(code).as_ref()) {
            *n = n.saturating_sub(1);
        }
    }

    /// (code, count), by code.
    pub fn counts(&self) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self.counts.lock().iter().map(|(k, n)| (k.clone(), *n)).collect();
        v.sort();
        v
    }

    pub fn reset(&self) {
        self.counts.lock().clear();
    }
}

/// Arguments kept per slow log entry, and bytes kept per argument (Redis's limits).
const MAX_ARGS: usize = 32;
const MAX_ARG_BYTES: usize = 128;

/// One slow command.
#[derive(Debug, Clone)]
pub struct SlowEntry {
    pub id: u64,
    /// Unix seconds when it ran.
    pub time: i64,
    pub usec: u64,
    /// The command, shortened as Redis does (see [`shorten`]).
    pub args: Vec<Bytes>,
    pub addr: String,
    pub name: Bytes,
}

/// The slow log, newest first.
#[derive(Default)]
pub struct SlowLog {
    entries: Mutex<VecDeque<SlowEntry>>,
    next_id: AtomicU64,
}

impl SlowLog {
    /// Keep a slow command (the caller checked the threshold), dropping the oldest beyond
    /// `max_len`.
    pub fn push(&self, mut entry: SlowEntry, max_len: usize) {
        let mut entries = self.entries.lock();
        entry.id = self.next_id.fetch_add(1, Ordering::Relaxed);
        entries.push_front(entry);
        entries.truncate(max_len);
    }

    /// The newest `count` entries.
    pub fn newest(&self, count: usize) -> Vec<SlowEntry> {
        self.entries.lock().iter().take(count).cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn reset(&self) {
        self.entries.lock().clear();
    }
}

/// A command as the slow log keeps it: at most 32 arguments (the last saying how many more
/// there were) of at most 128 bytes each (saying how many more bytes there were).
pub fn shorten(args: &[Bytes]) -> Vec<Bytes> {
    let kept = args.len().min(MAX_ARGS);
    let mut out = Vec::with_capacity(kept);
    for (j, a) in args[..kept].iter().enumerate() {
        if kept != args.len() && j == kept - 1 {
            out.push(Bytes::from(format!("... ({} more arguments)", args.len() - kept + 1)));
        } else if a.len() > MAX_ARG_BYTES {
            let mut s = a[..MAX_ARG_BYTES].to_vec();
            s.extend_from_slice(format!("... ({} more bytes)", a.len() - MAX_ARG_BYTES).as_bytes());
            out.push(Bytes::from(s));
        } else {
            // A copy: the argument may be a slice of a whole request buffer, which a clone
            // would keep alive for as long as the entry is in the log.
            out.push(Bytes::copy_from_slice(a));
        }
    }
    out
}

/// A command as the slow log and MONITOR show it: passwords replaced by `(redacted)`, as
/// Redis does (AUTH, HELLO ... AUTH, MIGRATE ... AUTH / AUTH2, CONFIG SET requirepass /
/// masterauth / masteruser).
pub fn redacted(full_name: &str, args: &[Bytes]) -> Vec<Bytes> {
    let mut out = args.to_vec();
    let hide = |out: &mut Vec<Bytes>, from: usize, n: usize| {
        for a in out.iter_mut().skip(from).take(n) {
            *a = Bytes::from_static(b"(redacted)");
        }
    };
    let is = |a: &Bytes, word: &str| a.eq_ignore_ascii_case(word.as_bytes());
    match full_name {
        "auth" => hide(&mut out, 1, usize::MAX),
        "hello" | "migrate" => {
            let mut j = 1;
            while j < args.len() {
                if is(&args[j], "auth") {
                    let n = if full_name == "hello" { 2 } else { 1 };
                    hide(&mut out, j + 1, n);
                    j += n;
                } else if full_name == "migrate" && is(&args[j], "auth2") {
                    hide(&mut out, j + 1, 2);
                    j += 2;
                }
                j += 1;
            }
        }
        "config|set" => {
            for j in (2..args.len()).step_by(2) {
                if ["requirepass", "masterauth", "masteruser"].iter().any(|w| is(&args[j], w)) {
                    hide(&mut out, j + 1, 1);
                }
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(v: &[&str]) -> Vec<Bytes> {
        v.iter().map(|s| Bytes::from(s.to_string())).collect()
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redacted("auth", &words(&["AUTH", "u", "p"])), words(&["AUTH", "(redacted)", "(redacted)"]));
        assert_eq!(
            redacted("hello", &words(&["HELLO", "3", "AUTH", "u", "p", "SETNAME", "n"])),
            words(&["HELLO", "3", "AUTH", "(redacted)", "(redacted)", "SETNAME", "n"])
        );
        assert_eq!(
            redacted("migrate", &words(&["MIGRATE", "h", "1", "", "0", "5", "AUTH2", "u", "p", "KEYS", "k"])),
            words(&["MIGRATE", "h", "1", "", "0", "5", "AUTH2", "(redacted)", "(redacted)", "KEYS", "k"])
        );
        assert_eq!(
            redacted("config|set", &words(&["CONFIG", "SET", "hz", "5", "requirepass", "s"])),
            words(&["CONFIG", "SET", "hz", "5", "requirepass", "(redacted)"])
        );
        assert_eq!(redacted("get", &words(&["GET", "auth"])), words(&["GET", "auth"]));
    }

    #[test]
    fn errors_count_by_code() {
        let e = ErrorStats::default();
        e.record(b"ERR wrong number of arguments");
        e.record(b"WRONGTYPE Operation against a key");
        e.record(b"ERR syntax error");
        e.record(b"NOCODE");
        assert_eq!(e.counts(), vec![("ERR".into(), 2), ("NOCODE".into(), 1), ("WRONGTYPE".into(), 1)]);
        e.reset();
        assert!(e.counts().is_empty());
    }

    #[test]
    fn counters_add_up_over_threads_and_reset() {
        let stats = std::sync::Arc::new(CommandStats::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let s = stats.clone();
                std::thread::spawn(move || {
                    for i in 0..100 {
                        s.record(7, 2, i % 10 == 0);
                    }
                    s.reject(9);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let totals = stats.totals();
        assert_eq!(totals[0], (7, Totals { calls: 400, usec: 800, rejected: 0, failed: 40 }));
        assert_eq!(totals[1], (9, Totals { calls: 0, usec: 0, rejected: 4, failed: 0 }));
        stats.reset();
        assert!(stats.totals().is_empty());
    }

    #[test]
    fn slow_log_keeps_the_newest_and_shortens_commands() {
        let log = SlowLog::default();
        let entry = |usec| SlowEntry { id: 0, time: 1, usec, args: vec![], addr: "a".into(), name: Bytes::new() };
        for usec in 0..5 {
            log.push(entry(usec), 3);
        }
        let kept: Vec<(u64, u64)> = log.newest(10).iter().map(|e| (e.id, e.usec)).collect();
        assert_eq!(kept, vec![(4, 4), (3, 3), (2, 2)]);
        assert_eq!(log.newest(1).len(), 1);

        let many: Vec<Bytes> = (0..40).map(|i| Bytes::from(i.to_string())).collect();
        let short = shorten(&many);
        assert_eq!(short.len(), 32);
        assert_eq!(short[30], Bytes::from("30"));
        assert_eq!(short[31], Bytes::from("... (9 more arguments)"));
        let long = shorten(&[Bytes::from("SET"), Bytes::from("x".repeat(130))]);
        assert_eq!(long[1], Bytes::from(format!("{}... (2 more bytes)", "x".repeat(128))));
    }
}
