//! [`ClusterInner`]: this node's view of the cluster (nodes, epochs, slot owners, open slots,
//! election and manual-failover progress), the data behind `ClusterState`'s lock, with the
//! settings and counters that go with it. Plain data and queries: nothing here talks to the
//! bus, persists or publishes.

use super::node::{flags, Node, SlotSet};
use hashbrown::HashMap;
use std::path::PathBuf;

/// Cluster settings taken from the server config at start (some are live-updatable later).
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    pub node_timeout: i64,
    pub require_full_coverage: bool,
    pub allow_reads_when_down: bool,
    pub announce_ip: Option<String>,
    pub announce_port: Option<u16>,
    pub announce_bus_port: Option<u16>,
    pub config_file: PathBuf,
    pub replica_no_failover: bool,
    pub allow_replica_migration: bool,
    pub migration_barrier: u32,
    pub replica_validity_factor: u32,
}

/// Message counters per type name (CLUSTER INFO `cluster_stats_messages_*`).
#[derive(Default, Debug, Clone)]
pub struct MsgStats {
    pub sent: Vec<(&'static str, u64)>,
    pub received: Vec<(&'static str, u64)>,
}

impl MsgStats {
    fn bump(list: &mut Vec<(&'static str, u64)>, kind: &'static str) {
        match list.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => list.push((kind, 1)),
        }
    }

    pub fn sent(&mut self, kind: &'static str) {
        Self::bump(&mut self.sent, kind)
    }

    pub fn received(&mut self, kind: &'static str) {
        Self::bump(&mut self.received, kind)
    }
}

/// The mutable cluster view, behind one lock.
pub struct ClusterInner {
    pub myself: String,
    pub nodes: HashMap<String, Node>,
    /// Slot owner ids.
    pub owners: Vec<Option<String>>,
    pub migrating: HashMap<u16, String>,
    pub importing: HashMap<u16, String>,
    pub current_epoch: u64,
    pub last_vote_epoch: u64,
    pub state_ok: bool,
    pub stats: MsgStats,
    pub handles: HashMap<String, u32>,
    pub(super) next_handle: u32,
    /// Set by every change that must reach nodes.conf and the route table.
    pub dirty: bool,
    /// Nodes we were told to FORGET: not re-added from gossip until this unix ms.
    pub blacklist: HashMap<String, i64>,
    /// This replica's failover election.
    pub election: Election,
    /// Master side of a manual failover: writes paused until this unix ms, for this replica.
    pub mf_paused_until: i64,
    /// The pause is in force (the event loops see it), so our advertised offset is final.
    pub mf_pause_published: bool,
    pub mf_replica: Option<String>,
    /// Failovers this master voted for.
    pub voted: VoteLog,
    /// Unix ms when the cluster state last changed to fail / when it may rejoin.
    pub among_minority_since: i64,
    /// The view the route table reflects (None: nothing published yet).
    pub(super) published: Option<Published>,
    /// `cluster-allow-replica-migration`, refreshed from the running config by the bus cron.
    pub allow_replica_migration: bool,
}

impl ClusterInner {
    /// A view with these nodes and slot owners; everything else starts empty. Marked dirty so
    /// the first commit writes nodes.conf and the route table.
    pub fn new(
        myself: String,
        nodes: HashMap<String, Node>,
        owners: Vec<Option<String>>,
        migrating: HashMap<u16, String>,
        importing: HashMap<u16, String>,
        current_epoch: u64,
        last_vote_epoch: u64,
    ) -> Self {
        ClusterInner {
            myself,
            nodes,
            owners,
            migrating,
            importing,
            current_epoch,
            last_vote_epoch,
            state_ok: false,
            stats: MsgStats::default(),
            handles: HashMap::new(),
            next_handle: 0,
            dirty: true,
            blacklist: HashMap::new(),
            election: Default::default(),
            mf_paused_until: 0,
            mf_pause_published: false,
            mf_replica: None,
            voted: Default::default(),
            among_minority_since: 0,
            published: None,
            allow_replica_migration: true,
        }
    }

    /// Turn this node into a replica of `master` (CLUSTER REPLICATE, or a master that lost
    /// its last slot to a newer owner); open slots are dropped.
    pub fn become_replica_of(&mut self, master: &str) {
        let me = self.me_mut();
        me.flags = (me.flags & !flags::MASTER) | flags::SLAVE;
        me.master = Some(master.to_string());
        self.migrating.clear();
        self.importing.clear();
        self.dirty = true;
    }

    /// Redis's clusterBumpConfigEpochWithoutConsensus: unless our config epoch already is
    /// the greatest known (and not 0), take currentEpoch + 1. Returns the new epoch.
    pub fn bump_config_epoch(&mut self) -> Option<u64> {
        let max = self.nodes.values().map(|n| n.config_epoch).max().unwrap_or(0).max(self.current_epoch);
        let mine = self.me().config_epoch;
        if mine != 0 && mine == max {
            return None;
        }
        self.current_epoch += 1;
        let e = self.current_epoch;
        self.me_mut().config_epoch = e;
        self.dirty = true;
        Some(e)
    }

    pub fn me(&self) -> &Node {
        &self.nodes[&self.myself]
    }

    pub fn me_mut(&mut self) -> &mut Node {
        let id = self.myself.clone();
        self.nodes.get_mut(&id).expect("myself is always known")
    }

    /// The handle of a node id (assigned on first use, never reused).
    pub fn handle(&mut self, id: &str) -> u32 {
        if let Some(h) = self.handles.get(id) {
            return *h;
        }
        let h = self.next_handle;
        self.next_handle += 1;
        self.handles.insert(id.to_string(), h);
        h
    }

    /// Give `slot` to `id` (or nobody), keeping every node's slot bitmap consistent.
    pub fn assign_slot(&mut self, slot: u16, id: Option<&str>) {
        if let Some(old) = self.owners[slot as usize].take() {
            if let Some(n) = self.nodes.get_mut(&old) {
                n.slots.clear(slot);
            }
        }
        if let Some(id) = id {
            if let Some(n) = self.nodes.get_mut(id) {
                n.slots.set(slot);
                self.owners[slot as usize] = Some(id.to_string());
            }
        }
        self.dirty = true;
    }

    /// Masters that own at least one slot.
    pub fn cluster_size(&self) -> usize {
        self.nodes.values().filter(|n| n.is_master() && !n.slots.is_empty()).count()
    }

    /// Replicas of a master id.
    pub fn replicas_of(&self, id: &str) -> Vec<&Node> {
        let mut v: Vec<&Node> = self.nodes.values().filter(|n| n.master.as_deref() == Some(id)).collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    /// The master whose slots this node serves (itself for a master).
    pub fn master_of<'a>(&'a self, n: &'a Node) -> &'a Node {
        n.master.as_ref().and_then(|m| self.nodes.get(m)).unwrap_or(n)
    }

    /// Remove a node entirely (FORGET, handshake timeout).
    pub fn delete_node(&mut self, id: &str) {
        if let Some(n) = self.nodes.remove(id) {
            for s in n.slots.iter() {
                if self.owners[s as usize].as_deref() == Some(id) {
                    self.owners[s as usize] = None;
                }
            }
        }
        self.migrating.retain(|_, v| v != id);
        self.importing.retain(|_, v| v != id);
        for n in self.nodes.values_mut() {
            n.fail_reports.retain(|(r, _)| r != id);
            if n.master.as_deref() == Some(id) {
                n.master = None;
            }
        }
        self.dirty = true;
    }
}

/// Election progress of this replica.
#[derive(Debug, Default, Clone)]
pub struct Election {
    /// Unix ms at which the vote request may be sent (0 = no election).
    pub auth_time: i64,
    pub sent: bool,
    pub epoch: u64,
    pub votes: usize,
    /// Voters must ignore the "master is FAIL" rule (manual failover).
    pub force: bool,
    /// Coordinated manual failover: wait (until this unix ms) for the master to pause writes
    /// and for our offset to reach its offset before asking for votes.
    pub mf_wait_until: i64,
    /// Coordinated manual failover: give up unless promoted before this unix ms (the master
    /// pauses writes a little longer, so no write it acknowledges can be lost).
    pub mf_deadline: i64,
}

/// Masters this node voted for the failover of, with the vote time.
pub type VoteLog = hashbrown::HashMap<String, i64>;

/// What the route table holds, in the view's terms.
#[derive(Default)]
pub struct Published {
    /// Known node ids, sorted.
    pub(super) nodes: Vec<String>,
    /// Each node's slots.
    pub(super) slots: HashMap<String, SlotSet>,
    pub(super) migrating: HashMap<u16, String>,
    pub(super) importing: HashMap<u16, String>,
}
