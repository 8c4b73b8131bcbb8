//! Per-command statistics of a pool, as Envoy's Redis proxy keeps them: for each command of
//! the protocol table (plus one row for names the table does not know) the requests, the
//! error replies and the latency histogram as the client sees it (request decoded to reply
//! queued for writing). Relaxed atomics, one row per command, no allocation after creation.

use crate::latency::Histogram;
use slotbox_protocol::command::{self, COMMANDS};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// One command's counters.
#[derive(Debug, Default)]
pub struct CommandRow {
    pub calls: AtomicU64,
    pub errors: AtomicU64,
    pub latency: Histogram,
}

/// Every command's row (`COMMANDS` order, then the unknown-command row).
#[derive(Debug)]
pub struct CommandStats {
    rows: Box<[CommandRow]>,
}

impl Default for CommandStats {
    fn default() -> Self {
        CommandStats { rows: (0..=COMMANDS.len()).map(|_| CommandRow::default()).collect() }
    }
}

/// The row index of a request's command name (its first argument).
pub fn index_of(name: &[u8]) -> u16 {
    let i = command::lookup(name).map(|spec| {
        let base = COMMANDS.as_ptr() as usize;
        (spec as *const command::CommandSpec as usize - base) / std::mem::size_of::<command::CommandSpec>()
    });
    i.filter(|&i| i < COMMANDS.len()).unwrap_or(COMMANDS.len()) as u16
}

/// The name a row is exported under.
pub fn name_of(index: usize) -> &'static str {
    COMMANDS.get(index).map_or("unknown", |c| c.name)
}

impl CommandStats {
    /// A request of command `index` was answered after `took`; `error`: with an error reply.
    pub fn record(&self, index: u16, took: Duration, error: bool) {
        let Some(row) = self.rows.get(index as usize) else { return };
        row.calls.fetch_add(1, Ordering::Relaxed);
        if error {
            row.errors.fetch_add(1, Ordering::Relaxed);
        }
        row.latency.observe(took);
    }

    /// The rows with calls, with their index.
    pub fn used(&self) -> impl Iterator<Item = (usize, &CommandRow)> {
        self.rows.iter().enumerate().filter(|(_, r)| r.calls.load(Ordering::Relaxed) > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_by_name() {
        let s = CommandStats::default();
        let get = index_of(b"GET");
        assert_eq!(name_of(get as usize), "get");
        assert_eq!(index_of(b"get"), get);
        assert_eq!(name_of(index_of(b"nosuchcommand") as usize), "unknown");
        s.record(get, Duration::from_micros(300), false);
        s.record(get, Duration::from_micros(300), true);
        let used: Vec<_> =
            s.used().map(|(i, r)| (i, r.calls.load(Ordering::Relaxed), r.errors.load(Ordering::Relaxed))).collect();
        assert_eq!(used, vec![(get as usize, 2, 1)]);
    }
}
