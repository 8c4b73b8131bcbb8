//! Cluster health: whether this node considers the cluster usable (`cluster_state:ok`), from
//! slot coverage (`cluster-require-full-coverage`) and from reaching a majority of the masters
//! that serve slots (a node on the minority side of a partition stops serving, and waits a
//! rejoin delay before serving again), as Redis's `clusterUpdateState`.

use super::inner::{ClusterConfig, ClusterInner};
use super::node::flags;
use slotbox_protocol::SLOT_COUNT;

/// Recompute `state_ok`.
pub fn update_state(config: &ClusterConfig, g: &mut ClusterInner) {
    let now = crate::clock::unix_time_ms();
    let mut ok = true;
    // Every slot has an owner that is not FAIL: the owners' slot bitmaps (kept consistent
    // with the per-slot owner table by `assign_slot`) add up to all the slots.
    if config.require_full_coverage {
        let covered: usize = g.nodes.values().filter(|n| !n.has(flags::FAIL)).map(|n| n.slots.count()).sum();
        ok = covered == SLOT_COUNT;
    }
    let size = g.cluster_size();
    let reachable = g.nodes.values().filter(|n| n.is_master() && !n.slots.is_empty() && !n.is_failing()).count();
    let quorum = size / 2 + 1;
    if reachable < quorum {
        ok = false;
        g.among_minority_since = now;
    }
    if ok && !g.state_ok && g.me().is_master() && g.among_minority_since != 0 {
        let rejoin_delay = config.node_timeout.clamp(500, 5000);
        if now - g.among_minority_since < rejoin_delay {
            ok = false;
        }
    }
    if ok != g.state_ok {
        crate::log::notice(if ok { "Cluster state changed: ok" } else { "Cluster state changed: fail" });
        g.state_ok = ok;
    }
}
