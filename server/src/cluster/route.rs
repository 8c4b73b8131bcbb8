//! Where a command must run in cluster mode: here, or a MOVED / ASK redirect, or one of
//! Redis's refusal errors (CROSSSLOT, TRYAGAIN, CLUSTERDOWN). The same algorithm as Redis's
//! `getNodeByQuery`, over the lock-free route table; key presence for open slots is asked of
//! the caller.

use super::routes::{RouteTable, NONE};
use slotbox_protocol::key_hash_slot;

/// The verdict for one command (or one whole transaction at EXEC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Local,
    /// Redirect: the error text without the leading '-'.
    Refuse(String),
}

/// What the router needs to know about the request.
pub struct Query<'a> {
    /// The keys of every command involved, in order.
    pub keys: &'a [&'a [u8]],
    pub is_write: bool,
    pub asking: bool,
    /// The command itself carries the ASKING flag (RESTORE-ASKING).
    pub cmd_asking: bool,
    pub readonly_client: bool,
    pub is_migrate: bool,
    pub is_pubsub_shard: bool,
    pub allow_reads_when_down: bool,
}

/// Decide. `exists(key)` reports whether a key is present locally (asked only for open slots).
pub fn route(rt: &RouteTable, q: &Query, mut exists: impl FnMut(&[u8]) -> bool) -> Route {
    let me = rt.me();
    let mut first: Option<&[u8]> = None;
    let mut slot = 0u16;
    let mut owner = NONE;
    let (mut migrating, mut importing, mut multiple, mut missing) = (false, false, false, 0usize);
    let mut migrating_to = NONE;
    for &key in q.keys {
        let ks = key_hash_slot(key);
        match first {
            None => {
                first = Some(key);
                slot = ks;
                let r = rt.slot(ks);
                owner = r.owner;
                if owner == NONE {
                    return Route::Refuse("CLUSTERDOWN Hash slot not served".into());
                }
                if owner == me && r.migrating_to != NONE {
                    migrating = true;
                    migrating_to = r.migrating_to;
                } else if r.importing_from != NONE {
                    importing = true;
                }
            }
            Some(f) => {
                if f != key {
                    if ks != slot {
                        return Route::Refuse("CROSSSLOT Keys in request don't hash to the same slot".into());
                    }
                    multiple = true;
                }
            }
        }
        if (migrating || importing) && !q.is_pubsub_shard && !exists(key) {
            missing += 1;
        }
    }
    if first.is_none() {
        return Route::Local;
    }
    if !rt.is_ok() {
        if !q.allow_reads_when_down || q.is_pubsub_shard {
            return Route::Refuse("CLUSTERDOWN The cluster is down".into());
        }
        if q.is_write {
            return Route::Refuse("CLUSTERDOWN The cluster is down and only accepts read commands".into());
        }
    }
    if (migrating || importing) && q.is_migrate {
        return Route::Local;
    }
    if migrating && missing > 0 {
        if multiple {
            return Route::Refuse("TRYAGAIN Multiple keys request during rehashing of slot".into());
        }
        return redirect(rt, "ASK", slot, migrating_to);
    }
    if importing && (q.asking || q.cmd_asking) {
        if multiple && missing > 0 {
            return Route::Refuse("TRYAGAIN Multiple keys request during rehashing of slot".into());
        }
        return Route::Local;
    }
    let my_master = rt.my_master.load(std::sync::atomic::Ordering::Relaxed);
    if (q.readonly_client || q.is_pubsub_shard) && !q.is_write && my_master != NONE && my_master == owner {
        return Route::Local;
    }
    if owner != me {
        return redirect(rt, "MOVED", slot, owner);
    }
    Route::Local
}

/// A client blocked on `key` (BLPOP ...) since before the slot map changed: the error that
/// ends its wait, if this node no longer serves the key (Redis's
/// `clusterRedirectBlockedClientIfNeeded`): the cluster went down, the slot became
/// unassigned, or it moved to another node and is not being imported here. A read-only
/// client of a replica keeps waiting on its master's slots.
pub fn blocked_redirect(rt: &RouteTable, key: &[u8], readonly_client: bool, is_write: bool) -> Option<String> {
    if !rt.is_ok() {
        return Some("CLUSTERDOWN The cluster is down".into());
    }
    let slot = key_hash_slot(key);
    let r = rt.slot(slot);
    let my_master = rt.my_master.load(std::sync::atomic::Ordering::Relaxed);
    let served_here = r.owner == rt.me() || (readonly_client && !is_write && my_master != NONE && my_master == r.owner);
    if served_here || r.importing_from != NONE {
        return None;
    }
    if r.owner == NONE {
        return Some("CLUSTERDOWN Hash slot not served".into());
    }
    match redirect(rt, "MOVED", slot, r.owner) {
        Route::Refuse(m) => Some(m),
        Route::Local => None,
    }
}

fn redirect(rt: &RouteTable, kind: &str, slot: u16, node: u32) -> Route {
    let (ip, port) = rt.addr(node).unwrap_or_default();
    Route::Refuse(format!("{kind} {slot} {ip}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::routes::SlotRoute;

    fn table() -> RouteTable {
        let rt = RouteTable::default();
        rt.my_handle.store(0, std::sync::atomic::Ordering::Relaxed);
        rt.set_addr(0, "127.0.0.1", 7000);
        rt.set_addr(1, "127.0.0.1", 7001);
        for s in 0..8192u16 {
            rt.set_slot(s, SlotRoute { owner: 0, migrating_to: NONE, importing_from: NONE });
        }
        for s in 8192..16384u16 {
            rt.set_slot(s, SlotRoute { owner: 1, migrating_to: NONE, importing_from: NONE });
        }
        rt.ok.store(true, std::sync::atomic::Ordering::Relaxed);
        rt
    }

    fn q<'a>(keys: &'a [&'a [u8]]) -> Query<'a> {
        Query {
            keys,
            is_write: false,
            asking: false,
            cmd_asking: false,
            readonly_client: false,
            is_migrate: false,
            is_pubsub_shard: false,
            allow_reads_when_down: false,
        }
    }

    #[test]
    fn moved_crossslot_local() {
        let rt = table();
        // "foo" is slot 12182 (node 1), "bar" slot 5061 (node 0).
        assert_eq!(route(&rt, &q(&[b"bar"]), |_| true), Route::Local);
        assert_eq!(route(&rt, &q(&[b"foo"]), |_| true), Route::Refuse("MOVED 12182 127.0.0.1:7001".into()));
        assert_eq!(
            route(&rt, &q(&[b"bar", b"foo"]), |_| true),
            Route::Refuse("CROSSSLOT Keys in request don't hash to the same slot".into())
        );
        assert_eq!(route(&rt, &q(&[b"{bar}1", b"{bar}2"]), |_| true), Route::Local);
        assert_eq!(route(&rt, &q(&[]), |_| true), Route::Local);
    }

    #[test]
    fn ask_and_tryagain_while_migrating() {
        let rt = table();
        rt.set_slot(5061, SlotRoute { owner: 0, migrating_to: 1, importing_from: NONE });
        assert_eq!(route(&rt, &q(&[b"bar"]), |_| true), Route::Local);
        assert_eq!(route(&rt, &q(&[b"bar"]), |_| false), Route::Refuse("ASK 5061 127.0.0.1:7001".into()));
        assert_eq!(
            route(&rt, &q(&[b"{bar}1", b"{bar}2"]), |k| k == b"{bar}1"),
            Route::Refuse("TRYAGAIN Multiple keys request during rehashing of slot".into())
        );
    }

    #[test]
    fn importing_needs_asking() {
        let rt = table();
        rt.set_slot(12182, SlotRoute { owner: 1, migrating_to: NONE, importing_from: 1 });
        assert!(matches!(route(&rt, &q(&[b"foo"]), |_| false), Route::Refuse(m) if m.starts_with("MOVED")));
        let mut query = q(&[b"foo"]);
        query.asking = true;
        assert_eq!(route(&rt, &query, |_| false), Route::Local);
    }

    #[test]
    fn blocked_clients_are_redirected_when_their_slot_leaves() {
        let rt = table();
        assert_eq!(blocked_redirect(&rt, b"bar", false, true), None, "still ours");
        rt.set_slot(5061, SlotRoute { owner: 0, migrating_to: 1, importing_from: NONE });
        assert_eq!(blocked_redirect(&rt, b"bar", false, true), None, "migrating: still ours");
        rt.set_slot(5061, SlotRoute { owner: 1, migrating_to: NONE, importing_from: NONE });
        assert_eq!(blocked_redirect(&rt, b"bar", false, true), Some("MOVED 5061 127.0.0.1:7001".into()));
        rt.set_slot(5061, SlotRoute { owner: 1, migrating_to: NONE, importing_from: 1 });
        assert_eq!(blocked_redirect(&rt, b"bar", false, true), None, "being imported here");
        rt.set_slot(5061, SlotRoute { owner: NONE, migrating_to: NONE, importing_from: NONE });
        assert_eq!(blocked_redirect(&rt, b"bar", false, true), Some("CLUSTERDOWN Hash slot not served".into()));
        rt.ok.store(false, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(blocked_redirect(&rt, b"foo", false, true), Some("CLUSTERDOWN The cluster is down".into()));
    }

    #[test]
    fn down_and_unbound() {
        let rt = table();
        rt.set_slot(5061, SlotRoute { owner: NONE, migrating_to: NONE, importing_from: NONE });
        assert_eq!(route(&rt, &q(&[b"bar"]), |_| true), Route::Refuse("CLUSTERDOWN Hash slot not served".into()));
        rt.ok.store(false, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(route(&rt, &q(&[b"{foo}x"]), |_| true), Route::Refuse("CLUSTERDOWN The cluster is down".into()));
    }
}
