//! The `# Replication` section of INFO, from the live replication state (role, link status,
//! attached replicas with their acknowledged offsets and lag, ids and offsets).

use crate::shared::Shared;
use std::fmt::Write;
use std::sync::atomic::Ordering;

pub fn replication(out: &mut String, shared: &Shared) {
    let repl = &shared.repl;
    let now = crate::shared::unix_time_ms();
    let offset = repl.offset();
    let link = repl.master.lock().clone();
    match &link {
        Some(l) => {
            let up = l.up.load(Ordering::Relaxed);
            let _ = write!(
                out,
                "role:slave\r\nmaster_host:{}\r\nmaster_port:{}\r\nmaster_link_status:{}\r\nmaster_last_io_seconds_ago:{}\r\nmaster_sync_in_progress:{}\r\nslave_read_repl_offset:{offset}\r\nslave_repl_offset:{offset}\r\n",
                l.host,
                l.port,
                if up { "up" } else { "down" },
                if up { (now - l.last_io.load(Ordering::Relaxed)) / 1000 } else { -1 },
                u8::from(l.sync_in_progress.load(Ordering::Relaxed)),
            );
            if !up {
                let _ = write!(
                    out,
                    "master_link_down_since_seconds:{}\r\n",
                    (now - l.down_since.load(Ordering::Relaxed)) / 1000
                );
            }
            let c = shared.config.read();
            let _ = write!(
                out,
                "slave_priority:{}\r\nslave_read_only:{}\r\nreplica_announced:1\r\n",
                c.replica_priority,
                u8::from(c.replica_read_only)
            );
        }
        None => out.push_str("role:master\r\n"),
    }
    let replicas: Vec<_> = repl.replicas.lock().iter().filter(|r| !r.gone.load(Ordering::Relaxed)).cloned().collect();
    let _ = write!(out, "connected_slaves:{}\r\n", replicas.len());
    for (i, r) in replicas.iter().enumerate() {
        let _ = write!(
            out,
            "slave{i}:ip={},port={},state={},offset={},lag={}\r\n",
            r.addr.ip(),
            r.listening_port.load(Ordering::Relaxed),
            r.state.lock(),
            r.ack_offset.load(Ordering::Relaxed),
            (now - r.last_ack.load(Ordering::Relaxed)) / 1000
        );
    }
    let (id2, off2) = repl.replid2.lock().clone();
    let active = repl.active.load(Ordering::Relaxed);
    let _ = write!(
        out,
        "master_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_replid2:{id2}\r\nmaster_repl_offset:{offset}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{}\r\nrepl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{}\r\nrepl_backlog_histlen:{}\r\n",
        repl.replid.lock(),
        if off2 == 0 { -1 } else { off2 as i64 },
        u8::from(active),
        shared.config.read().repl_backlog_size,
        if active { offset + 1 } else { 0 },
        0
    );
}

/// `sync_full`, `sync_partial_ok`, `sync_partial_err` lines for INFO stats.
pub fn sync_stats(shared: &Shared) -> String {
    let s = &shared.repl.stats;
    format!(
        "sync_full:{} sync_partial_ok:{} sync_partial_err:{}",
        s.sync_full.load(Ordering::Relaxed),
        s.sync_partial_ok.load(Ordering::Relaxed),
        s.sync_partial_err.load(Ordering::Relaxed)
    )
}
