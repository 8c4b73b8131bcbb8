//! `GET /api/cluster`: a [`Snapshot`] and the events timeline as JSON. The fields are
//! documented in docs/dashboard.md; a change here is a change there.

use super::events::Event;
use super::json::Json;
use super::model::Snapshot;

/// The whole document.
pub fn render(s: &Snapshot, events: &[Event], interval_ms: u64) -> String {
    let mut j = Json::new();
    j.obj(None).int(Some("time_ms"), s.time_ms).int(Some("interval_ms"), interval_ms as i64);
    j.opt_str(Some("view_from"), s.view_from.as_deref()).opt_str(Some("error"), s.error.as_deref());
    j.obj(Some("cluster")).str(Some("state"), &s.cluster_state).int(Some("current_epoch"), s.current_epoch as i64);
    let assigned: usize = s.slots.iter().map(|r| r.end as usize - r.start as usize + 1).sum();
    j.int(Some("slots_assigned"), assigned as i64).int(Some("known_nodes"), s.nodes.len() as i64).end_obj();
    j.arr(Some("slots"));
    for r in &s.slots {
        j.obj(None).int(Some("start"), r.start as i64).int(Some("end"), r.end as i64).str(Some("owner"), &r.owner);
        j.end_obj();
    }
    j.end_arr().arr(Some("migrating"));
    for m in &s.migrations {
        j.obj(None).int(Some("slot"), m.slot as i64).opt_str(Some("from"), m.from.as_deref());
        j.opt_str(Some("to"), m.to.as_deref()).end_obj();
    }
    j.end_arr();
    nodes(&mut j, s);
    j.arr(Some("events"));
    for e in events {
        j.obj(None).int(Some("time_ms"), e.time_ms).str(Some("kind"), e.kind).str(Some("text"), &e.text).end_obj();
    }
    j.end_arr();
    proxy(&mut j, s);
    j.arr(Some("hot_keys"));
    for (id, keys) in &s.hot_keys {
        let n = s.node(id);
        j.obj(None).str(Some("node"), id).str(Some("addr"), n.map_or("", |n| n.addr.as_str()));
        let policy = n.and_then(|n| n.stats.as_ref()).map_or("", |st| st.maxmemory_policy.as_str());
        j.str(Some("policy"), policy).arr(Some("keys"));
        for k in keys {
            j.obj(None).str(Some("key"), &k.key).int(Some("freq"), k.freq as i64).end_obj();
        }
        j.end_arr().end_obj();
    }
    j.end_arr().end_obj();
    j.finish()
}

fn nodes(j: &mut Json, s: &Snapshot) {
    j.arr(Some("nodes"));
    for n in &s.nodes {
        j.obj(None).str(Some("id"), &n.id).str(Some("addr"), &n.addr).str(Some("role"), &n.role);
        j.opt_str(Some("master_id"), n.master_id.as_deref()).arr(Some("flags"));
        for f in &n.flags {
            j.str(None, f);
        }
        j.end_arr().str(Some("link"), &n.link).int(Some("config_epoch"), n.config_epoch as i64);
        j.int(Some("slots"), n.slots as i64).bool(Some("reachable"), n.reachable);
        let st = n.stats.as_ref();
        j.opt_num(Some("ops_per_sec"), st.and_then(|s| s.ops_per_sec));
        j.opt_num(Some("keys"), st.map(|s| s.keys as f64));
        j.opt_num(Some("used_memory"), st.map(|s| s.used_memory as f64));
        j.opt_num(Some("connected_clients"), st.map(|s| s.connected_clients as f64));
        j.opt_str(Some("maxmemory_policy"), st.map(|s| s.maxmemory_policy.as_str()));
        match s.repl_link(n) {
            Some(l) => {
                j.obj(Some("replication")).str(Some("link"), if l.up { "up" } else { "down" });
                j.opt_num(Some("lag_bytes"), l.lag_bytes.map(|v| v as f64));
                j.opt_num(Some("lag_seconds"), l.lag_seconds.map(|v| v as f64)).end_obj();
            }
            None => {
                j.null(Some("replication"));
            }
        }
        j.arr(Some("ops_history"));
        for v in &n.ops_history {
            j.num(None, *v);
        }
        j.end_arr().end_obj();
    }
    j.end_arr();
}

fn proxy(j: &mut Json, s: &Snapshot) {
    let Some(addr) = &s.proxy_addr else {
        j.null(Some("proxy"));
        return;
    };
    j.obj(Some("proxy")).str(Some("metrics"), addr).opt_str(Some("error"), s.proxy_error.as_deref());
    j.arr(Some("backends"));
    for b in &s.backends {
        j.obj(None).str(Some("pool"), &b.pool).str(Some("backend"), &b.backend);
        j.opt_num(Some("requests_per_sec"), b.requests_per_sec);
        j.opt_num(Some("p50_ms"), b.p50_ms).opt_num(Some("p90_ms"), b.p90_ms).opt_num(Some("p99_ms"), b.p99_ms);
        j.int(Some("connections"), b.connections).int(Some("ejections"), b.ejections as i64);
        match b.replica_link_up {
            Some(up) => j.bool(Some("replica_link_up"), up),
            None => j.null(Some("replica_link_up")),
        };
        j.end_obj();
    }
    j.end_arr().end_obj();
}
