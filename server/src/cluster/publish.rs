//! Publishing the cluster view to the lock-free [`RouteTable`], incrementally: the view last
//! published is kept, and only the slots whose owner or open state changed since are
//! rewritten (a reshard changes one slot per command; rewriting all 16384 routes each time
//! made every CLUSTER SETSLOT cost more than the whole round trip). A change to the set of
//! nodes republishes every slot.

use super::inner::{ClusterInner, Published};
use super::node::SlotSet;
use super::routes::{RouteTable, SlotRoute, NONE};
use std::sync::atomic::Ordering;

/// Bring the route table in line with `g`.
pub fn publish(routes: &RouteTable, g: &mut ClusterInner) {
    let mut ids: Vec<String> = g.nodes.keys().cloned().collect();
    ids.sort_unstable();
    for id in &ids {
        let h = g.handle(id);
        let n = &g.nodes[id];
        routes.set_addr(h, &n.ip, n.port);
    }
    let me = g.myself.clone();
    routes.my_handle.store(g.handle(&me), Ordering::Relaxed);
    let master = g.me().master.clone();
    let mh = match master {
        Some(m) if g.nodes.contains_key(&m) => g.handle(&m),
        _ => NONE,
    };
    routes.my_master.store(mh, Ordering::Relaxed);

    let changed = match g.published.as_ref() {
        Some(p) if p.nodes == ids => changed_slots(p, g),
        _ => SlotSet::full(),
    };
    let handle = |g: &ClusterInner, id: Option<&String>| {
        id.filter(|i| g.nodes.contains_key(*i)).and_then(|i| g.handles.get(i)).copied().unwrap_or(NONE)
    };
    // Owners come in long runs: reuse the previous slot's handle while the id repeats.
    let mut last: Option<(&String, u32)> = None;
    for s in changed.iter() {
        let owner = match (g.owners[s as usize].as_ref(), last) {
            (Some(o), Some((lo, lh))) if o == lo => lh,
            (Some(o), _) => {
                let h = handle(g, Some(o));
                last = Some((o, h));
                h
            }
            (None, _) => NONE,
        };
        let r = SlotRoute {
            owner,
            migrating_to: handle(g, g.migrating.get(&s)),
            importing_from: handle(g, g.importing.get(&s)),
        };
        routes.set_slot(s, r);
    }
    g.published = Some(Published {
        slots: g.nodes.values().map(|n| (n.id.clone(), n.slots.clone())).collect(),
        nodes: ids,
        migrating: g.migrating.clone(),
        importing: g.importing.clone(),
    });
    routes.ok.store(g.state_ok, Ordering::Release);
}

/// Slots whose owner (same node set) or migrating / importing peer differs from `p`.
fn changed_slots(p: &Published, g: &ClusterInner) -> SlotSet {
    let mut changed = SlotSet::default();
    for n in g.nodes.values() {
        match p.slots.get(&n.id) {
            Some(old) => changed.add_difference(old, &n.slots),
            None => return SlotSet::full(),
        }
    }
    // An owner id naming no known node is in no slot set and routes as NONE, like no owner:
    // changes between the two need no republish, and a node joining republishes all.
    for (now, before) in [(&g.migrating, &p.migrating), (&g.importing, &p.importing)] {
        for (s, id) in now {
            if before.get(s) != Some(id) {
                changed.set(*s);
            }
        }
        for s in before.keys() {
            if !now.contains_key(s) {
                changed.set(*s);
            }
        }
    }
    changed
}
