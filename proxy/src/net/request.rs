//! What the proxy knows of a request before it sends it anywhere: the command spec that
//! describes its keys, the keys it is routed by, whether it is a (un)subscribe, the errors for
//! commands the proxy does not serve, and the INFO text it answers itself. Plain functions of
//! the request (and of a pool, for INFO): no worker, no connection.

use super::pool::PoolRt;
use crate::config::ReadFrom;
use bytes::Bytes;
use slotbox_protocol::command::{self, CommandSpec, KeyIndices};
use slotbox_protocol::Frame;
use std::sync::atomic::Ordering;

/// The error for a command the proxy does not serve.
pub fn unsupported(name: &str) -> Frame {
    Frame::error(format!("ERR command '{name}' is not supported by slotbox-proxy"))
}

/// Redis's error for a command it does not know.
pub fn unknown(args: &[Bytes]) -> Frame {
    let mut rest = String::new();
    for a in args.iter().skip(1) {
        rest.push_str(&format!("'{}' ", String::from_utf8_lossy(a)));
    }
    Frame::error(format!(
        "ERR unknown command '{}', with args beginning with: {rest}",
        String::from_utf8_lossy(&args[0])
    ))
}

/// The spec that describes the keys of `args` (a container's subcommand when there is one).
pub fn spec_for(spec: &'static CommandSpec, args: &[Bytes]) -> &'static CommandSpec {
    match args.get(1) {
        Some(sub) if !spec.subcommands.is_empty() => spec.subcommand(sub).unwrap_or(spec),
        _ => spec,
    }
}

/// The arguments a request is routed by: its keys (shard channels included), or for PUBLISH
/// the channel, hashed like a key so publishers and subscribers meet on one backend.
pub fn routing_keys(spec: &CommandSpec, name: &str, args: &[Bytes]) -> KeyIndices {
    if name == "publish" && args.len() > 1 {
        return KeyIndices::from_slice(&[1]);
    }
    command::extract_keys(spec, args)
}

/// (P|S)(UN)SUBSCRIBE.
pub fn is_subscribe_family(name: &str) -> bool {
    matches!(name, "subscribe" | "psubscribe" | "ssubscribe" | "unsubscribe" | "punsubscribe" | "sunsubscribe")
}

/// INFO as the proxy answers it to a client of `pool`.
pub fn info_text(pool: &PoolRt) -> String {
    let mut s = String::from("# Server\r\nredis_version:7.0.0\r\nproxy:slotbox-proxy\r\n");
    s.push_str(&format!("process_id:{}\r\n\r\n# Clients\r\n", std::process::id()));
    let st = &pool.shared.stats;
    s.push_str(&format!("connected_clients:{}\r\n\r\n", st.client_connections.load(Ordering::Relaxed)));
    s.push_str(&format!("# Stats\r\nforward_error:{}\r\n", st.forward_error.load(Ordering::Relaxed)));
    if pool.cache.is_some() {
        let l = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
        s.push_str(&format!(
            "hot_cache_hits:{}\r\nhot_cache_misses:{}\r\nhot_cache_fills:{}\r\nhot_cache_invalidations:{}\r\n\
             hot_cache_expirations:{}\r\nhot_cache_entries:{}\r\n",
            l(&st.hot_cache_hits),
            l(&st.hot_cache_misses),
            l(&st.hot_cache_fills),
            l(&st.hot_cache_invalidations),
            l(&st.hot_cache_expirations),
            st.hot_cache_entries.load(Ordering::Relaxed)
        ));
    }
    s.push_str("\r\n# Pool\r\n");
    s.push_str(&format!("pool:{}\r\n", pool.cfg().name));
    for (i, srv) in pool.servers.iter().enumerate() {
        let live = if srv.ejected_until.is_some() { "ejected" } else { "up" };
        s.push_str(&format!("backend{i}:addr={},name={},weight={},status={live}", srv.addr, srv.name, srv.weight));
        if pool.cfg().read_from != ReadFrom::Master && pool.replicas.contains(&i) {
            s.push_str(&format!(",replica_link={}", srv.link.state.name()));
        }
        s.push_str("\r\n");
    }
    s
}
