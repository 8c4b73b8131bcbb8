//! The events timeline: what changed between two successive snapshots, in words — a node
//! flagged PFAIL / FAIL or cleared, a failover (a replica became master, with the epoch), a
//! master turned replica, slots that changed owner (grouped per old → new owner), migrations
//! opened and closed, current-epoch bumps, nodes that stopped or resumed answering, nodes
//! joining or leaving, proxy ejections. Pure: snapshots in, events out.

use super::model::{NodeView, Snapshot};
use std::collections::BTreeMap;

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub time_ms: i64,
    /// pfail · fail · recovered · failover · demoted · slots · migration · epoch · unreachable ·
    /// reachable · joined · left · ejection
    pub kind: &'static str,
    pub text: String,
}

/// How the timeline names a node: its address and the start of its id.
fn name(n: &NodeView) -> String {
    format!("{} ({})", n.addr, &n.id[..n.id.len().min(8)])
}

fn flagged(n: &NodeView, f: &str) -> bool {
    n.flags.iter().any(|x| x == f)
}

/// What happened between `prev` and `next`.
pub fn diff(prev: &Snapshot, next: &Snapshot) -> Vec<Event> {
    let mut out = Vec::new();
    let mut ev = |kind, text: String| out.push(Event { time_ms: next.time_ms, kind, text });
    if prev.view_from.is_some() && next.view_from.is_none() {
        ev("unreachable", next.error.clone().unwrap_or_else(|| "no node answers".into()));
    }
    if next.view_from.is_none() {
        return out;
    }
    for n in &next.nodes {
        let Some(p) = prev.node(&n.id) else {
            if !prev.nodes.is_empty() {
                ev("joined", format!("{} joined the cluster as {}", name(n), n.role));
            }
            continue;
        };
        node_changes(p, n, next, &mut ev);
    }
    for p in &prev.nodes {
        if next.node(&p.id).is_none() && prev.view_from == next.view_from {
            ev("left", format!("{} left the cluster", name(p)));
        }
    }
    slot_changes(prev, next, &mut ev);
    if prev.current_epoch != 0 && next.current_epoch > prev.current_epoch {
        ev("epoch", format!("current epoch {} → {}", prev.current_epoch, next.current_epoch));
    }
    for b in &next.backends {
        let before = prev.backends.iter().find(|x| x.pool == b.pool && x.backend == b.backend);
        if let Some(before) = before {
            if b.ejections > before.ejections {
                ev("ejection", format!("proxy pool {} ejected backend {}", b.pool, b.backend));
            }
        }
    }
    out
}

fn node_changes(p: &NodeView, n: &NodeView, next: &Snapshot, ev: &mut impl FnMut(&'static str, String)) {
    if flagged(n, "fail") && !flagged(p, "fail") {
        ev("fail", format!("{} marked FAIL by the cluster", name(n)));
    } else if flagged(n, "fail?") && !flagged(p, "fail?") && !flagged(p, "fail") {
        ev("pfail", format!("{} suspected down (PFAIL)", name(n)));
    } else if (flagged(p, "fail") || flagged(p, "fail?")) && !flagged(n, "fail") && !flagged(n, "fail?") {
        ev("recovered", format!("{} is no longer flagged failing", name(n)));
    }
    if p.role == "replica" && n.role == "master" {
        ev(
            "failover",
            format!("failover: {} is now master of {} slots (config epoch {})", name(n), n.slots, n.config_epoch),
        );
    } else if p.role == "master" && n.role == "replica" {
        let of = n.master_id.as_deref().and_then(|m| next.node(m)).map(name).unwrap_or_else(|| "?".into());
        ev("demoted", format!("{} is now a replica of {of}", name(n)));
    }
    if p.reachable && !n.reachable {
        ev("unreachable", format!("{} does not answer the dashboard", name(n)));
    } else if !p.reachable && n.reachable && !p.ops_history.is_empty() {
        ev("reachable", format!("{} answers again", name(n)));
    }
}

fn slot_changes(prev: &Snapshot, next: &Snapshot, ev: &mut impl FnMut(&'static str, String)) {
    if prev.view_from.is_none() || prev.slots.is_empty() {
        return;
    }
    let (a, b) = (prev.owners(), next.owners());
    let mut moves: BTreeMap<(Option<&str>, Option<&str>), usize> = BTreeMap::new();
    for (x, y) in a.iter().zip(&b) {
        if x != y {
            *moves.entry((*x, *y)).or_default() += 1;
        }
    }
    let label = |id: Option<&str>| match id.and_then(|i| next.node(i).or_else(|| prev.node(i))) {
        Some(n) => name(n),
        None => "unassigned".into(),
    };
    for ((from, to), count) in moves {
        ev("slots", format!("{count} slot(s) moved {} → {}", label(from), label(to)));
    }
    let opened = next.migrations.iter().filter(|m| !prev.migrations.iter().any(|p| p.slot == m.slot)).count();
    let closed = prev.migrations.iter().filter(|m| !next.migrations.iter().any(|p| p.slot == m.slot)).count();
    if opened > 0 {
        ev("migration", format!("{opened} slot(s) now migrating"));
    }
    if closed > 0 {
        ev("migration", format!("{closed} slot migration(s) finished"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dash::model::{read_nodes, Snapshot};
    use crate::node::parse_nodes;

    fn snap(text: &str, epoch: u64) -> Snapshot {
        let (nodes, slots, migrations) = read_nodes(&parse_nodes(text));
        let nodes = nodes.into_iter().map(|n| NodeView { reachable: true, ..n }).collect();
        Snapshot {
            time_ms: 5,
            view_from: Some("x".into()),
            current_epoch: epoch,
            nodes,
            slots,
            migrations,
            ..Default::default()
        }
    }

    #[test]
    fn failover_and_slot_moves_are_told() {
        let before = snap(
            "aaaaaaaaaa 127.0.0.1:7000@17000 master - 0 0 1 connected 0-99\n\
             bbbbbbbbbb 127.0.0.1:7001@17001 slave aaaaaaaaaa 0 0 1 connected\n\
             cccccccccc 127.0.0.1:7002@17002 myself,master - 0 0 2 connected 100-16383\n",
            2,
        );
        let pfail = snap(&before_text_with("master,fail?"), 2);
        let e = diff(&before, &pfail);
        assert_eq!(e.iter().map(|e| e.kind).collect::<Vec<_>>(), vec!["pfail"]);
        let after = snap(
            "aaaaaaaaaa 127.0.0.1:7000@17000 master,fail - 0 0 1 disconnected\n\
             bbbbbbbbbb 127.0.0.1:7001@17001 master - 0 0 3 connected 0-99\n\
             cccccccccc 127.0.0.1:7002@17002 myself,master - 0 0 2 connected 100-16383\n",
            3,
        );
        let e = diff(&pfail, &after);
        let kinds: Vec<_> = e.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, vec!["fail", "failover", "slots", "epoch"]);
        assert_eq!(e[1].text, "failover: 127.0.0.1:7001 (bbbbbbbb) is now master of 100 slots (config epoch 3)");
        assert_eq!(e[2].text, "100 slot(s) moved 127.0.0.1:7000 (aaaaaaaa) → 127.0.0.1:7001 (bbbbbbbb)");
        assert!(diff(&after, &after).is_empty());
    }

    fn before_text_with(flags: &str) -> String {
        format!(
            "aaaaaaaaaa 127.0.0.1:7000@17000 {flags} - 0 0 1 connected 0-99\n\
             bbbbbbbbbb 127.0.0.1:7001@17001 slave aaaaaaaaaa 0 0 1 connected\n\
             cccccccccc 127.0.0.1:7002@17002 myself,master - 0 0 2 connected 100-16383\n"
        )
    }
}
