//! The field lists of SENTINEL MASTER / MASTERS / REPLICAS / SENTINELS (Redis's
//! `addReplySentinelRedisInstance`): a map in RESP3, a flat array in RESP2, every value a
//! bulk string.

use super::instance::*;
use super::state::{Loc, Sentinel, Which};
use slotbox_protocol::frame::Frame;

fn flags_str(i: &Instance) -> String {
    let mut f = Vec::new();
    let pairs: [(u32, &str); 2] = [(S_DOWN, "s_down"), (O_DOWN, "o_down")];
    for (bit, name) in pairs {
        if i.has(bit) {
            f.push(name);
        }
    }
    f.push(match i.kind {
        Kind::Master => "master",
        Kind::Replica => "slave",
        Kind::Sentinel => "sentinel",
    });
    if i.link.disconnected() {
        f.push("disconnected");
    }
    let rest: [(u32, &str); 8] = [
        (MASTER_DOWN, "master_down"),
        (FAILOVER_IN_PROGRESS, "failover_in_progress"),
        (PROMOTED, "promoted"),
        (RECONF_SENT, "reconf_sent"),
        (RECONF_INPROG, "reconf_inprog"),
        (RECONF_DONE, "reconf_done"),
        (FORCE_FAILOVER, "force_failover"),
        (SCRIPT_KILL_SENT, "script_kill_sent"),
    ];
    for (bit, name) in rest {
        if i.has(bit) {
            f.push(name);
        }
    }
    f.join(",")
}

/// One instance's fields, as Redis lists them.
pub fn instance(s: &Sentinel, loc: Loc) -> Frame {
    let now = mstime();
    let m = &s.masters[loc.m];
    let i = s.inst(loc);
    let mut kv: Vec<(Frame, Frame)> = Vec::new();
    let mut put = |k: &str, v: String| kv.push((Frame::bulk(k.to_string()), Frame::bulk(v)));
    put("name", i.name.clone());
    put("ip", i.addr.ip.clone());
    put("port", i.addr.port.to_string());
    put("runid", i.runid.clone().unwrap_or_default());
    put("flags", flags_str(i));
    put("link-pending-commands", i.link.pending_commands().to_string());
    put("link-refcount", "1".into());
    if i.has(FAILOVER_IN_PROGRESS) {
        put("failover-state", m.failover_state.as_str().into());
    }
    let ping_sent = if i.link.act_ping_time != 0 { now - i.link.act_ping_time } else { 0 };
    put("last-ping-sent", ping_sent.to_string());
    put("last-ok-ping-reply", (now - i.link.last_avail_time).to_string());
    put("last-ping-reply", (now - i.link.last_pong_time).to_string());
    if i.has(S_DOWN) {
        put("s-down-time", (now - i.s_down_since).to_string());
    }
    if i.has(O_DOWN) {
        put("o-down-time", (now - i.o_down_since).to_string());
    }
    put("down-after-milliseconds", m.down_after.to_string());
    if i.kind != Kind::Sentinel {
        let refresh = if i.info_refresh != 0 { now - i.info_refresh } else { 0 };
        put("info-refresh", refresh.to_string());
        put("role-reported", if i.role_reported == Role::Master { "master" } else { "slave" }.into());
        put("role-reported-time", (now - i.role_reported_time).to_string());
    }
    match loc.w {
        Which::Master => {
            put("config-epoch", m.config_epoch.to_string());
            put("num-slaves", m.replicas.len().to_string());
            put("num-other-sentinels", m.sentinels.len().to_string());
            put("quorum", m.quorum.to_string());
            put("failover-timeout", m.failover_timeout.to_string());
            put("parallel-syncs", m.parallel_syncs.to_string());
        }
        Which::Replica(_) => {
            put("master-link-down-time", i.master_link_down_time.to_string());
            put("master-link-status", if i.slave_master_link_up { "ok" } else { "err" }.into());
            put("master-host", i.slave_master_host.clone().unwrap_or_else(|| "?".into()));
            put("master-port", i.slave_master_port.to_string());
            put("slave-priority", i.slave_priority.to_string());
            put("slave-repl-offset", i.slave_repl_offset.to_string());
            put("replica-announced", (i.replica_announced as u8).to_string());
        }
        Which::Sentinel(_) => {
            put("last-hello-message", (now - i.last_hello_time).to_string());
            put("voted-leader", i.leader.clone().unwrap_or_else(|| "?".into()));
            put("voted-leader-epoch", i.leader_epoch.to_string());
        }
    }
    Frame::Map(kv)
}
