//! Cluster health: whether this node considers the cluster usable (`cluster_state:ok`), from
//! slot coverage (`cluster-require-full-coverage`) and from reaching a majority of the masters
//! that serve slots (a node on the minority side of a partition stops serving, and waits a
//! rejoin delay before serving again), as Redis's `clusterUpdateState`.

use super::node::flags;
use super::state::{ClusterInner, ClusterState};

/// Recompute `state_ok`.
pub fn update_state(cs: &ClusterState, g: &mut ClusterInner) {
    let now = crate::shared::unix_time_ms();
    let mut ok = true;
    if cs.config.require_full_coverage {
        for owner in g.owners.iter() {
            match owner.as_ref().and_then(|id| g.nodes.get(id)) {
                Some(n) if !n.has(flags::FAIL) => {}
                _ => {
                    ok = false;
                    break;
                }
            }
        }
    }
    let size = g.cluster_size();
    let reachable = g.nodes.values().filter(|n| n.is_master() && !n.slots.is_empty() && !n.is_failing()).count();
    let quorum = size / 2 + 1;
    if reachable < quorum {
        ok = false;
        g.among_minority_since = now;
    }
    if ok && !g.state_ok && g.me().is_master() && g.among_minority_since != 0 {
        let rejoin_delay = cs.config.node_timeout.clamp(500, 5000);
        if now - g.among_minority_since < rejoin_delay {
            ok = false;
        }
    }
    if ok != g.state_ok {
        crate::log::notice(if ok { "Cluster state changed: ok" } else { "Cluster state changed: fail" });
        g.state_ok = ok;
    }
}
