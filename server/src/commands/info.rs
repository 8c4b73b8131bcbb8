//! INFO [section ...]: the server's state as Redis 7.0 prints it: `# Section` headers,
//! `field:value` lines ending in CRLF, a blank line between sections; a bulk string in RESP2
//! and a verbatim `txt` string in RESP3. Sections always come in Redis's order, whatever the
//! order asked for; unknown section names add nothing.
//!
//! Fields slotbox has no counterpart for (forks, defrag, Lua...) are printed
//! with the value an idle Redis shows, so tools parsing INFO find every field they expect.

use super::info_fmt::{field, fixed, read_proc};
use super::{Ctx, Registration};
use crate::clock::unix_time_us;
use crate::commands::Reply;
use crate::shared::Shared;
use bytes::Bytes;
use slotbox_protocol::Frame;
use std::fmt::Write;
use std::sync::atomic::Ordering;

type SectionFn = fn(&mut String, &Shared);

/// (name, header, in `default`) in Redis's order; `all` and `everything` take every one.
const SECTIONS: &[(&str, &str, bool, SectionFn)] = &[
    ("server", "Server", true, server),
    ("clients", "Clients", true, clients),
    ("memory", "Memory", true, super::info_memory::memory),
    ("persistence", "Persistence", true, persistence),
    ("stats", "Stats", true, stats),
    ("replication", "Replication", true, replication),
    ("cpu", "CPU", true, cpu),
    ("modules", "Modules", true, empty),
    ("commandstats", "Commandstats", false, commandstats),
    ("errorstats", "Errorstats", true, errorstats),
    ("latencystats", "Latencystats", false, latencystats),
    ("cluster", "Cluster", true, cluster),
    ("keyspace", "Keyspace", true, keyspace),
];

/// `INFO [section ...]`.
fn info(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let wanted = |name: &str, default: bool| {
        if args.len() == 1 {
            return default;
        }
        args[1..].iter().any(|a| {
            let a = a.to_ascii_lowercase();
            a == name.as_bytes() || a == b"all" || a == b"everything" || (a == b"default" && default)
        })
    };
    Ok(Frame::Verbatim("txt", Bytes::from(render(ctx.shared, wanted))))
}

/// The INFO text of the sections `wanted(name, in_default)` selects.
pub fn render(shared: &Shared, wanted: impl Fn(&str, bool) -> bool) -> String {
    let mut out = String::new();
    for &(name, header, default, section) in SECTIONS {
        if !wanted(name, default) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        let _ = write!(out, "# {header}\r\n");
        section(&mut out, shared);
    }
    out
}

fn empty(_out: &mut String, _shared: &Shared) {}

/// `errorstat_<CODE>:count=N` per error code replied since the start (or CONFIG RESETSTAT).
fn errorstats(out: &mut String, shared: &Shared) {
    for (code, n) in shared.errorstats.counts() {
        let _ = write!(out, "errorstat_{code}:count={n}\r\n");
    }
}

/// `cmdstat_<name>:calls=..,usec=..,usec_per_call=..,rejected_calls=..,failed_calls=..` for
/// every command called or rejected since the start (or CONFIG RESETSTAT), by name.
fn commandstats(out: &mut String, shared: &Shared) {
    let mut rows: Vec<_> = shared.cmdstats.totals().into_iter().map(|(id, t)| (super::name_of(id), t)).collect();
    rows.sort_by_key(|&(name, _)| name);
    for (name, t) in rows {
        let per_call = if t.calls == 0 { 0.0 } else { t.usec as f64 / t.calls as f64 };
        let _ = write!(
            out,
            "cmdstat_{name}:calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}\r\n",
            t.calls, t.usec, t.rejected, t.failed
        );
    }
}

fn os_name() -> String {
    let os = read_proc("/proc/sys/kernel/ostype").unwrap_or_else(|| std::env::consts::OS.to_string());
    let release = read_proc("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{os} {release} {}", std::env::consts::ARCH)
}

fn server(out: &mut String, shared: &Shared) {
    let config = shared.config.read();
    let uptime = shared.uptime_secs();
    field(out, "redis_version", crate::core::REDIS_VERSION);
    field(out, "slotbox_version", env!("CARGO_PKG_VERSION"));
    fixed(out, "redis_git_sha1:00000000 redis_git_dirty:0");
    field(out, "redis_build_id", &shared.run_id[..16]);
    let mode = if config.cluster_enabled { "cluster" } else { "standalone" };
    field(out, "redis_mode", mode);
    field(out, "os", os_name());
    field(out, "arch_bits", usize::BITS);
    out.push_str("monotonic_clock:POSIX clock_gettime\r\n");
    fixed(out, "multiplexing_api:epoll atomicvar_api:c11-builtin gcc_version:0.0.0");
    field(out, "process_id", std::process::id());
    field(out, "process_supervised", "no");
    field(out, "run_id", &shared.run_id);
    field(out, "tcp_port", shared.tcp_port.load(Ordering::Relaxed));
    field(out, "server_time_usec", unix_time_us());
    field(out, "uptime_in_seconds", uptime);
    field(out, "uptime_in_days", uptime / 86400);
    field(out, "hz", config.hz);
    field(out, "configured_hz", config.hz);
    field(out, "lru_clock", (unix_time_us() / 1_000_000) & ((1 << 24) - 1));
    field(out, "executable", &shared.executable);
    let config_file = config.config_file.as_ref().map(|p| p.display().to_string());
    field(out, "config_file", config_file.unwrap_or_default());
    field(out, "io_threads_active", 0);
}

fn clients(out: &mut String, shared: &Shared) {
    field(out, "connected_clients", shared.connected_clients.load(Ordering::Relaxed));
    field(out, "cluster_connections", 0);
    field(out, "maxclients", shared.config.read().maxclients);
    fixed(out, "client_recent_max_input_buffer:0 client_recent_max_output_buffer:0");
    // Clients held back by a client pause count as blocked, as in Redis.
    field(out, "blocked_clients", shared.blocking.len() + shared.pause.postponed());
    field(out, "tracking_clients", shared.tracking.tracking_clients());
    fixed(out, "clients_in_timeout_table:0");
}

/// `latency_percentiles_usec_<command>:p50=1.000,p99=2.000,p99.9=3.000` for every command
/// called, at the percentiles of `latency-tracking-info-percentiles`.
fn latencystats(out: &mut String, shared: &Shared) {
    let wanted = shared.config.read().get("latency-tracking-info-percentiles").unwrap_or_default();
    let ps: Vec<(&str, f64)> = wanted.split_whitespace().filter_map(|w| Some((w, w.parse().ok()?))).collect();
    let values: Vec<f64> = ps.iter().map(|&(_, p)| p).collect();
    let mut rows: Vec<_> =
        shared.cmdlatency.percentiles(&values).into_iter().map(|(id, v)| (super::name_of(id), v)).collect();
    rows.sort_by_key(|&(name, _)| name);
    for (name, v) in rows {
        let _ = write!(out, "latency_percentiles_usec_{name}:");
        for (i, ((label, _), us)) in ps.iter().zip(v).enumerate() {
            let sep = if i + 1 < ps.len() { "," } else { "" };
            let _ = write!(out, "p{label}={:.3}{sep}", us as f64);
        }
        out.push_str("\r\n");
    }
}

fn persistence(out: &mut String, shared: &Shared) {
    crate::persist::info::render(out, &shared.persist);
}

fn stats(out: &mut String, shared: &Shared) {
    let s = &shared.stats;
    let n = |c: &crate::stats::Counter| c.load(Ordering::Relaxed);
    field(out, "total_connections_received", n(&s.total_connections_received));
    field(out, "total_commands_processed", n(&s.total_commands_processed));
    field(out, "instantaneous_ops_per_sec", s.instantaneous_ops.load(Ordering::Relaxed));
    field(out, "total_net_input_bytes", n(&s.net_input_bytes));
    field(out, "total_net_output_bytes", n(&s.net_output_bytes));
    fixed(
        out,
        "total_net_repl_input_bytes:0 total_net_repl_output_bytes:0 instantaneous_input_kbps:0.00 \
         instantaneous_output_kbps:0.00 instantaneous_input_repl_kbps:0.00 \
         instantaneous_output_repl_kbps:0.00",
    );
    field(out, "rejected_connections", n(&s.rejected_connections));
    fixed(out, &super::info_repl::sync_stats(shared));
    field(out, "expired_keys", shared.keyspace.expired_keys.load(Ordering::Relaxed));
    fixed(out, "expired_stale_perc:0.00 expired_time_cap_reached_count:0 expire_cycle_cpu_milliseconds:0");
    field(out, "evicted_keys", n(&s.evicted_keys));
    fixed(out, "evicted_clients:0 total_eviction_exceeded_time:0 current_eviction_exceeded_time:0");
    field(out, "keyspace_hits", n(&s.keyspace_hits));
    field(out, "keyspace_misses", n(&s.keyspace_misses));
    let (channels, patterns, shard_channels) = shared.pubsub.counts();
    field(out, "pubsub_channels", channels);
    field(out, "pubsub_patterns", patterns);
    field(out, "pubsubshard_channels", shard_channels);
    fixed(
        out,
        "latest_fork_usec:0 total_forks:0 \
         migrate_cached_sockets:0 slave_expires_tracked_keys:0 active_defrag_hits:0 \
         active_defrag_misses:0 active_defrag_key_hits:0 active_defrag_key_misses:0 \
         total_active_defrag_time:0 current_active_defrag_time:0",
    );
    let (keys, items, prefixes) = shared.tracking.totals();
    field(out, "tracking_total_keys", keys);
    field(out, "tracking_total_items", items);
    field(out, "tracking_total_prefixes", prefixes);
    fixed(out, "unexpected_error_replies:0");
    field(out, "total_error_replies", n(&s.total_error_replies));
    fixed(out, "dump_payload_sanitizations:0");
    field(out, "total_reads_processed", n(&s.reads_processed));
    field(out, "total_writes_processed", n(&s.writes_processed));
    fixed(
        out,
        "io_threaded_reads_processed:0 io_threaded_writes_processed:0 reply_buffer_shrinks:0 \
         reply_buffer_expands:0",
    );
    // slotbox's own: clients moved to the event loop serving their hot slot.
    field(out, "hot_slot_client_moves", n(&s.hot_slot_client_moves));
    field(out, "balance_client_moves", n(&s.balance_client_moves));
}

fn replication(out: &mut String, shared: &Shared) {
    super::info_repl::replication(out, shared);
}

/// (system, user) CPU seconds of `who` (a `RUSAGE_*` constant).
fn rusage(who: libc::c_int) -> (f64, f64) {
    // SAFETY: `rusage` is plain old data, valid when zeroed; getrusage writes only into the
    // struct it is given and reports failure through its return value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut ru) } != 0 {
        return (0.0, 0.0);
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (secs(ru.ru_stime), secs(ru.ru_utime))
}

#[cfg(target_os = "linux")]
const RUSAGE_THIS_THREAD: libc::c_int = libc::RUSAGE_THREAD;
#[cfg(not(target_os = "linux"))]
const RUSAGE_THIS_THREAD: libc::c_int = libc::RUSAGE_SELF;

fn cpu(out: &mut String, _shared: &Shared) {
    let (sys, user) = rusage(libc::RUSAGE_SELF);
    let (csys, cuser) = rusage(libc::RUSAGE_CHILDREN);
    let (tsys, tuser) = rusage(RUSAGE_THIS_THREAD);
    for (k, v) in [
        ("used_cpu_sys", sys),
        ("used_cpu_user", user),
        ("used_cpu_sys_children", csys),
        ("used_cpu_user_children", cuser),
        ("used_cpu_sys_main_thread", tsys),
        ("used_cpu_user_main_thread", tuser),
    ] {
        field(out, k, format!("{v:.6}"));
    }
}

fn cluster(out: &mut String, shared: &Shared) {
    field(out, "cluster_enabled", u8::from(shared.config.read().cluster_enabled));
}

fn keyspace(out: &mut String, shared: &Shared) {
    for db in shared.keyspace.iter() {
        let (keys, expires) = db.counts();
        if keys > 0 {
            let _ = write!(out, "db{}:keys={keys},expires={expires},avg_ttl={}\r\n", db.id, db.avg_ttl());
        }
    }
}

pub const COMMANDS: Registration = &[("info", info)];

#[cfg(test)]
mod tests {
    use super::super::connection::testing::TestClient;
    use super::*;
    use crate::commands::info_fmt::human_bytes;
    use crate::store::{Entry, Value};

    #[test]
    fn default_info_has_the_main_fields() {
        let mut c = TestClient::new();
        let Frame::Verbatim("txt", body) = c.run(&["INFO"]) else { panic!() };
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(text.starts_with("# Server\r\nredis_version:7.0.15\r\n"), "{text}");
        for f in [
            "\r\nredis_mode:standalone\r\n",
            "\r\nrole:master\r\n",
            "\r\nconnected_clients:",
            "\r\nmaxclients:10000\r\n",
        ] {
            assert!(text.contains(f), "{f} missing");
        }
        assert!(text.contains("\r\n\r\n# Clients\r\n") && text.ends_with("# Keyspace\r\n"), "{text}");
        assert!(!text.contains("# Commandstats"));
        let used: u64 = text.split("\r\nused_memory:").nth(1).unwrap().split("\r\n").next().unwrap().parse().unwrap();
        assert!(used > 0);
        let cpu: f64 = text.split("used_cpu_user:").nth(1).unwrap().split("\r\n").next().unwrap().parse().unwrap();
        assert!(cpu >= 0.0);
    }

    #[test]
    fn sections_and_encodings() {
        let mut c = TestClient::new();
        c.shared.keyspace.db(0).shard(5).insert(b"k", Entry::new(Value::string(b"v")));
        assert_eq!(c.wire(&["INFO", "keyspace"]), "$44\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n\r\n");
        assert_eq!(c.wire(&["INFO", "nosuch"]), "$0\r\n\r\n");
        let two = c.wire(&["INFO", "CLUSTER", "server"]);
        assert!(
            two.contains("\r\n# Server\r\n") && two.ends_with("\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n"),
            "{two}"
        );
        assert!(c.wire(&["INFO", "all"]).contains("# Commandstats\r\n"));
        c.run(&["HELLO", "3"]);
        assert!(c.wire(&["INFO", "cpu"]).starts_with("="));
    }

    #[test]
    fn human_bytes_matches_redis() {
        assert_eq!(human_bytes(1023), "1023B");
        assert_eq!(human_bytes(941640), "919.57K");
        assert_eq!(human_bytes(6807552), "6.49M");
        assert_eq!(human_bytes(25325268992), "23.59G");
        assert_eq!(human_bytes(0), "0B");
    }
}
