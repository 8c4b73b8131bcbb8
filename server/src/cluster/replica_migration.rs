//! Replica migration, as Redis 7.0's `clusterHandleReplicaMigration`: when a master that
//! serves slots is left without a working replica although it had replicas (Redis's
//! `CLUSTER_NODE_MIGRATE_TO`), one replica of the master with the most working replicas
//! moves over to it, as CLUSTER REPLICATE would, and the other nodes learn it from its next
//! PING/PONG header. The decision is pure logic over the cluster view plus an
//! [`OrphanTracker`] (no I/O, unit tested below); the bus cron calls [`cron`] every 100 ms.
//!
//! Rules (`cluster-allow-replica-migration`, `cluster-migration-barrier`):
//! - never while `cluster_state` is fail, never when migration is disabled;
//! - a master is orphaned when it is not FAIL, serves slots, has no replica without FAIL and
//!   either had a replica before or is a promoted replica; it must stay orphaned for
//!   [`MIGRATION_DELAY_MS`] (its own replicas may still be announcing a failover);
//! - only a replica whose master keeps at least `migration-barrier` working replicas after it
//!   leaves, whose master has the most working replicas (at least two), and which has the
//!   smallest node id among the working replicas of all such masters, migrates.

use super::inner::ClusterInner;
use super::message::Body;
use super::node::{flags, Node};
use super::outbox::{message, Out};
use hashbrown::{HashMap, HashSet};

/// How long a master must stay orphaned before a replica migrates to it (Redis's
/// `CLUSTER_SLAVE_MIGRATION_DELAY`).
pub const MIGRATION_DELAY_MS: i64 = 5000;

/// The live `cluster-allow-replica-migration` / `cluster-migration-barrier` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationSettings {
    pub allow: bool,
    pub barrier: u32,
}

impl MigrationSettings {
    /// Read them from the running config (CONFIG SET changes them at once).
    pub fn read(core: &crate::core::Core) -> Self {
        let c = core.config.read();
        MigrationSettings { allow: c.cluster_allow_replica_migration, barrier: c.cluster_migration_barrier }
    }
}

/// What replica migration remembers between cron runs (Redis keeps it in node flags and
/// `orphaned_time`).
#[derive(Debug, Default)]
pub struct OrphanTracker {
    /// Masters that had a replica, or replicas promoted to master (`CLUSTER_NODE_MIGRATE_TO`).
    migrate_to: HashSet<String>,
    /// Nodes that were replicas at the previous run (to notice promotions).
    was_replica: HashSet<String>,
    /// Orphaned masters and the unix ms since which they are orphaned.
    orphaned_since: HashMap<String, i64>,
}

/// A replica that other nodes have not marked FAIL (Redis's `clusterCountNonFailingSlaves`).
fn not_failed(n: &Node) -> bool {
    !n.has(flags::FAIL)
}

/// Replicas of every master id, each list sorted by node id.
fn replicas_by_master(g: &ClusterInner) -> HashMap<&str, Vec<&Node>> {
    let mut map: HashMap<&str, Vec<&Node>> = HashMap::new();
    for n in g.nodes.values() {
        if let Some(m) = n.master.as_deref() {
            map.entry(m).or_default().push(n);
        }
    }
    for list in map.values_mut() {
        list.sort_by(|a, b| a.id.cmp(&b.id));
    }
    map
}

impl OrphanTracker {
    /// Update the MIGRATE_TO marks and orphan times from the current view.
    pub fn observe(&mut self, g: &ClusterInner, now: i64) {
        let replicas = replicas_by_master(g);
        for n in g.nodes.values().filter(|n| n.is_master()) {
            let had = replicas.get(n.id.as_str()).is_some_and(|r| !r.is_empty());
            if had || self.was_replica.contains(&n.id) {
                self.migrate_to.insert(n.id.clone());
            }
        }
        self.migrate_to.retain(|id| g.nodes.get(id).is_some_and(|n| n.is_master()));
        self.was_replica = g.nodes.values().filter(|n| n.master.is_some()).map(|n| n.id.clone()).collect();
        for n in g.nodes.values() {
            let working = replicas.get(n.id.as_str()).map_or(0, |r| r.iter().filter(|r| not_failed(r)).count());
            let orphaned = n.is_master()
                && !n.has(flags::FAIL)
                && !n.slots.is_empty()
                && working == 0
                && self.migrate_to.contains(&n.id);
            if orphaned {
                self.orphaned_since.entry(n.id.clone()).or_insert(now);
            } else {
                self.orphaned_since.remove(&n.id);
            }
        }
        self.orphaned_since.retain(|id, _| g.nodes.contains_key(id));
    }

    /// Masters orphaned for longer than the delay, longest first (then by id).
    fn ripe_orphans(&self, now: i64) -> Vec<&str> {
        let mut v: Vec<(&str, i64)> = self
            .orphaned_since
            .iter()
            .filter(|(_, &since)| now - since > MIGRATION_DELAY_MS)
            .map(|(id, &since)| (id.as_str(), since))
            .collect();
        v.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0)));
        v.into_iter().map(|(id, _)| id).collect()
    }
}

/// The orphaned master this node (a replica) should migrate to now, if any.
pub fn decide(g: &ClusterInner, t: &OrphanTracker, s: MigrationSettings, now: i64) -> Option<String> {
    if !s.allow || !g.state_ok || g.election.auth_time != 0 || g.election.force {
        return None;
    }
    let me = g.me();
    let my_master = g.nodes.get(me.master.as_deref()?)?;
    if !my_master.is_master() || my_master.has(flags::FAIL) {
        return None;
    }
    let replicas = replicas_by_master(g);
    let list = |id: &str| replicas.get(id).map(Vec::as_slice).unwrap_or(&[]);
    // My master must keep at least `barrier` replicas that are neither FAIL nor PFAIL.
    let mine = list(&my_master.id);
    if mine.iter().filter(|r| !r.is_failing()).count() <= s.barrier as usize {
        return None;
    }
    let working = |id: &str| list(id).iter().filter(|r| not_failed(r)).count();
    let masters: Vec<&Node> = g.nodes.values().filter(|n| n.is_master() && !n.has(flags::FAIL)).collect();
    let max = masters.iter().map(|m| working(&m.id)).max().unwrap_or(0);
    if max < 2 || working(&my_master.id) != max {
        return None;
    }
    let target = t.ripe_orphans(now).into_iter().find(|id| {
        g.nodes
            .get(*id)
            .is_some_and(|n| n.is_master() && !n.has(flags::FAIL) && !n.slots.is_empty() && working(id) == 0)
    })?;
    let candidate = masters
        .iter()
        .filter(|m| working(&m.id) == max)
        .flat_map(|m| list(&m.id).iter().filter(|r| not_failed(r)))
        .map(|r| r.id.as_str())
        .min()?;
    (candidate == me.id).then(|| target.to_string())
}

/// One cron run: update the tracker, and if this replica should migrate, make it a replica
/// of the orphaned master (replication follows via `sync_replication`) and announce it.
pub fn cron(g: &mut ClusterInner, t: &mut OrphanTracker, s: MigrationSettings, now: i64) -> Vec<Out> {
    t.observe(g, now);
    let Some(target) = decide(g, t, s, now) else { return Vec::new() };
    crate::log::notice(&format!("Migrating to orphaned master {target}"));
    g.become_replica_of(&target);
    t.orphaned_since.remove(&target);
    g.stats.sent("pong");
    vec![Out::Broadcast(message(g, Body::Pong(Vec::new())))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use slotbox_protocol::SLOT_COUNT;

    const ON: MigrationSettings = MigrationSettings { allow: true, barrier: 1 };

    fn id(c: char) -> String {
        c.to_string().repeat(40)
    }

    /// Masters `a`, `b`, `c` with slots; replicas given as (replica, master); `me` is myself.
    fn view(me: char, replicas: &[(char, char)]) -> ClusterInner {
        let mut nodes = hashbrown::HashMap::new();
        for (i, m) in ['a', 'b', 'c'].into_iter().enumerate() {
            let mut n = Node::new(id(m), "127.0.0.1".into(), 7000 + i as u16, 17000, flags::MASTER, 0);
            n.slots.set(i as u16);
            nodes.insert(id(m), n);
        }
        for &(r, m) in replicas {
            let mut n = Node::new(id(r), "127.0.0.1".into(), 0, 0, flags::SLAVE, 0);
            n.master = Some(id(m));
            nodes.insert(id(r), n);
        }
        nodes.get_mut(&id(me)).expect("me").flags |= flags::MYSELF;
        let mut g =
            ClusterInner::new(id(me), nodes, vec![None; SLOT_COUNT], Default::default(), Default::default(), 1, 0);
        g.state_ok = true;
        g
    }

    fn fail(g: &mut ClusterInner, c: char, flag: u16) {
        g.nodes.get_mut(&id(c)).unwrap().flags |= flag;
    }

    /// a has replicas 1 and 2, b has 3, c has 4; then 4 fails.
    fn orphaned_c(me: char) -> (ClusterInner, OrphanTracker) {
        let mut g = view(me, &[('1', 'a'), ('2', 'a'), ('3', 'b'), ('4', 'c')]);
        let mut t = OrphanTracker::default();
        t.observe(&g, 0);
        fail(&mut g, '4', flags::FAIL);
        t.observe(&g, 1000);
        (g, t)
    }

    #[test]
    fn smallest_replica_of_the_richest_master_migrates_after_the_delay() {
        let (g, mut t) = orphaned_c('1');
        assert_eq!(decide(&g, &t, ON, 1000 + MIGRATION_DELAY_MS), None, "too early");
        t.observe(&g, 1000 + MIGRATION_DELAY_MS + 1);
        assert_eq!(decide(&g, &t, ON, 1000 + MIGRATION_DELAY_MS + 1), Some(id('c')));
        let (g2, mut t2) = orphaned_c('2');
        t2.observe(&g2, 9000);
        assert_eq!(decide(&g2, &t2, ON, 9000), None, "not the smallest id");
        let (g3, mut t3) = orphaned_c('3');
        t3.observe(&g3, 9000);
        assert_eq!(decide(&g3, &t3, ON, 9000), None, "its master has only one replica");
    }

    #[test]
    fn cron_reconfigures_and_the_orphan_is_no_longer_orphaned() {
        let (mut g, mut t) = orphaned_c('1');
        let out = cron(&mut g, &mut t, ON, 9000);
        assert!(matches!(out.as_slice(), [Out::Broadcast(_)]));
        assert_eq!(g.me().master, Some(id('c')));
        assert!(g.dirty);
        // Now a has one working replica left: nobody else moves.
        let mut g2 = view('2', &[('1', 'c'), ('2', 'a'), ('3', 'b'), ('4', 'c')]);
        fail(&mut g2, '4', flags::FAIL);
        let mut t2 = OrphanTracker::default();
        assert!(cron(&mut g2, &mut t2, ON, 0).is_empty());
        assert!(cron(&mut g2, &mut t2, ON, 20_000).is_empty());
    }

    #[test]
    fn disabled_or_cluster_fail_or_barrier_prevents_migration() {
        let (mut g, t) = orphaned_c('1');
        assert_eq!(decide(&g, &t, MigrationSettings { allow: false, barrier: 1 }, 9000), None);
        assert_eq!(decide(&g, &t, MigrationSettings { allow: true, barrier: 2 }, 9000), None);
        assert_eq!(decide(&g, &t, MigrationSettings { allow: true, barrier: 0 }, 9000), Some(id('c')));
        g.state_ok = false;
        assert_eq!(decide(&g, &t, ON, 9000), None);
    }

    #[test]
    fn a_pfail_sibling_counts_against_the_barrier() {
        let (mut g, t) = orphaned_c('1');
        fail(&mut g, '2', flags::PFAIL);
        assert_eq!(decide(&g, &t, ON, 9000), None);
    }

    #[test]
    fn masters_that_never_had_replicas_are_not_orphans() {
        let mut g = view('1', &[('1', 'a'), ('2', 'a'), ('3', 'b')]);
        let mut t = OrphanTracker::default();
        t.observe(&g, 0);
        t.observe(&g, 9000);
        assert_eq!(decide(&g, &t, ON, 9000), None);
        // A failed master is no target either, nor one whose replica is only PFAIL.
        let (mut g2, mut t2) = orphaned_c('1');
        fail(&mut g2, 'c', flags::FAIL);
        t2.observe(&g2, 9000);
        assert_eq!(decide(&g2, &t2, ON, 9000), None);
        g = view('1', &[('1', 'a'), ('2', 'a'), ('3', 'b'), ('4', 'c')]);
        fail(&mut g, '4', flags::PFAIL);
        t = OrphanTracker::default();
        t.observe(&g, 0);
        t.observe(&g, 9000);
        assert_eq!(decide(&g, &t, ON, 9000), None);
    }

    #[test]
    fn a_promoted_replica_without_replicas_is_an_orphan() {
        // 4 replaced c as master (c is FAIL, now 4's replica); 4 never had replicas itself.
        let mut g = view('1', &[('1', 'a'), ('2', 'a'), ('3', 'b'), ('4', 'c')]);
        let mut t = OrphanTracker::default();
        t.observe(&g, 0);
        {
            let n = g.nodes.get_mut(&id('4')).unwrap();
            n.flags = flags::MASTER;
            n.master = None;
            n.slots.set(2);
            let c = g.nodes.get_mut(&id('c')).unwrap();
            c.flags = flags::SLAVE | flags::FAIL;
            c.master = Some(id('4'));
            c.slots = Default::default();
        }
        t.observe(&g, 100);
        t.observe(&g, 5200);
        assert_eq!(decide(&g, &t, ON, 5200), Some(id('4')));
    }

    #[test]
    fn recovery_resets_the_orphan_clock() {
        let (mut g, mut t) = orphaned_c('1');
        g.nodes.get_mut(&id('4')).unwrap().flags &= !flags::FAIL;
        t.observe(&g, 4000);
        fail(&mut g, '4', flags::FAIL);
        t.observe(&g, 5000);
        assert_eq!(decide(&g, &t, ON, 9000), None);
        t.observe(&g, 10_001);
        assert_eq!(decide(&g, &t, ON, 10_001), Some(id('c')));
    }
}
