//! The after-run effects of the execution seam that are bookkeeping: INFO commandstats, the
//! latency monitor and the slow log.

use super::Resolved;
use crate::commands::session::ClientState;
use crate::shared::Shared;
use bytes::Bytes;
use std::sync::atomic::Ordering;

/// After command `r` ran from `start_us` to `end_us` (Unix µs): count it, sample it for the
/// latency monitor, and keep it in the slow log if it took at least
/// `slowlog-log-slower-than` (negative: never; commands flagged `skip_slowlog`, like EXEC
/// whose commands are logged one by one, never).
pub fn record_call(
    shared: &Shared,
    client: &ClientState,
    r: Resolved,
    args: &[Bytes],
    (start_us, end_us): (i64, i64),
    failed: bool,
) {
    let usec = (end_us - start_us).max(0) as u64;
    let now_secs = end_us / 1_000_000;
    shared.cmdstats.record(r.id, usec, failed);
    if usec >= 1000 {
        let event = if r.spec.has(slotbox_protocol::command::flags::FAST) { "fast-command" } else { "command" };
        shared.latency.sample(event, usec / 1000, now_secs);
    }
    let slower = shared.hot.slowlog_slower_than.load(Ordering::Relaxed);
    if slower < 0 || (usec as i64) < slower || r.spec.has(slotbox_protocol::command::flags::SKIP_SLOWLOG) {
        return;
    }
    let entry = crate::cmdstats::SlowEntry {
        id: 0,
        time: now_secs,
        usec,
        args: crate::cmdstats::shorten(&crate::cmdstats::redacted(r.full_name, args)),
        addr: client.info.addr.to_string(),
        name: client.info.name.lock().clone().unwrap_or_default(),
    };
    shared.slowlog.push(entry, shared.hot.slowlog_max_len.load(Ordering::Relaxed));
}
