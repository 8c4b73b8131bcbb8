//! The `# Replication` section of INFO, from the live replication state (role, link status,
//! attached replicas with their acknowledged offsets and lag, ids and offsets).

use crate::shared::Shared;
use std::fmt::Write;
use std::sync::atomic::Ordering;

pub fn replication(out: &mut String, shared: &Shared) {
    let repl = &shared.repl;
    let now = crate::clock::unix_time_ms();
    let offset = repl.offset();
    let link = repl.master.lock().clone();
    match &link {
        Some(l) => replica_lines(out, shared, l, now, offset),
        None => out.push_str("role:master\r\n"),
    }
    let replicas: Vec<_> = repl.replicas.lock().iter().filter(|r| !r.gone.load(Ordering::Relaxed)).cloned().collect();
    let _ = write!(out, "connected_slaves:{}\r\n", replicas.len());
    let (min, lag) = {
        let c = shared.config.read();
        (c.min_replicas_to_write, c.min_replicas_max_lag)
    };
    if min > 0 && lag > 0 {
        let _ = write!(out, "min_slaves_good_slaves:{}\r\n", repl.good_replicas(lag as i64));
    }
    for (i, r) in replicas.iter().enumerate() {
        let state = *r.state.lock();
        let _ = write!(
            out,
            "slave{i}:ip={},port={},state={state},offset={},lag={}\r\n",
            r.addr.ip(),
            r.listening_port.load(Ordering::Relaxed),
            r.ack_offset.load(Ordering::Relaxed),
            if state == "online" { (now - r.last_ack.load(Ordering::Relaxed)) / 1000 } else { 0 }
        );
    }
    let (id2, off2) = repl.replid2.lock().clone();
    let active = repl.backlog.is_created();
    let (first, histlen) = if active { repl.backlog.history() } else { (0, 0) };
    let _ = write!(
        out,
        "master_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_replid2:{id2}\r\nmaster_repl_offset:{offset}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{}\r\nrepl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{}\r\nrepl_backlog_histlen:{}\r\n",
        repl.replid.lock(),
        if off2 == 0 { -1 } else { off2 as i64 },
        u8::from(active),
        shared.config.read().repl_backlog_size,
        first,
        histlen
    );
}

/// `sync_full`, `sync_partial_ok`, `sync_partial_err` lines for INFO stats.
pub fn sync_stats(shared: &Shared) -> String {
    let s = &shared.stats;
    format!(
        "sync_full:{} sync_partial_ok:{} sync_partial_err:{}",
        s.sync_full.load(Ordering::Relaxed),
        s.sync_partial_ok.load(Ordering::Relaxed),
        s.sync_partial_err.load(Ordering::Relaxed)
    )
}

/// The replica's part: its link to the master, as Redis 7.0 prints it (sync progress during a
/// full sync's transfer, how long the link has been down when it is).
fn replica_lines(out: &mut String, shared: &Shared, l: &crate::repl::MasterLink, now: i64, offset: u64) {
    use crate::repl::LinkState;
    let state = l.state();
    let up = state == LinkState::Connected;
    let secs_since = |ms: i64| (now - ms) / 1000;
    let _ = write!(
        out,
        "role:slave\r\nmaster_host:{}\r\nmaster_port:{}\r\nmaster_link_status:{}\r\nmaster_last_io_seconds_ago:{}\r\nmaster_sync_in_progress:{}\r\nslave_read_repl_offset:{offset}\r\nslave_repl_offset:{offset}\r\n",
        l.host,
        l.port,
        if up { "up" } else { "down" },
        if up { secs_since(l.last_io.load(Ordering::Relaxed)) } else { -1 },
        u8::from(state == LinkState::Transfer),
    );
    if state == LinkState::Transfer {
        let total = l.sync_total.load(Ordering::Relaxed);
        let read = l.sync_read.load(Ordering::Relaxed).min(total);
        let perc = if total > 0 { read as f64 / total as f64 * 100.0 } else { 0.0 };
        let _ = write!(
            out,
            "master_sync_total_bytes:{total}\r\nmaster_sync_read_bytes:{read}\r\nmaster_sync_left_bytes:{}\r\nmaster_sync_perc:{perc:.2}\r\nmaster_sync_last_io_seconds_ago:{}\r\n",
            total - read,
            secs_since(l.last_io.load(Ordering::Relaxed)).max(0),
        );
    }
    if !up {
        let since = l.down_since.load(Ordering::Relaxed);
        let _ = write!(out, "master_link_down_since_seconds:{}\r\n", if since == 0 { -1 } else { secs_since(since) });
    }
    let c = shared.config.read();
    let _ = write!(
        out,
        "slave_priority:{}\r\nslave_read_only:{}\r\nreplica_announced:1\r\n",
        c.replica_priority,
        u8::from(c.replica_read_only)
    );
}
