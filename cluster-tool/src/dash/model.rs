//! What the dashboard knows about the cluster at one instant ([`Snapshot`]) and the pure
//! reading of node replies into it: `CLUSTER NODES` lines (through `crate::node`), `INFO`
//! fields, the replication section's replica lines. No I/O (`poll.rs` asks the nodes).

use crate::node::{NodeLine, SlotToken};
use std::collections::HashMap;

/// One node as the dashboard shows it.
#[derive(Debug, Clone, Default)]
pub struct NodeView {
    pub id: String,
    pub addr: String,
    /// "master" or "replica".
    pub role: String,
    pub master_id: Option<String>,
    /// CLUSTER NODES flags of the view node about this node (myself, master, slave, fail?, ...).
    pub flags: Vec<String>,
    pub link: String,
    pub config_epoch: u64,
    pub slots: usize,
    /// Did the node answer the dashboard's INFO in this poll?
    pub reachable: bool,
    pub stats: Option<NodeStats>,
    /// The last minute of ops/s, oldest first (one value per poll).
    pub ops_history: Vec<f64>,
}

/// Figures read from one node's INFO.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeStats {
    pub total_commands: u64,
    /// Commands per second since the previous poll (None on the first poll of this node).
    pub ops_per_sec: Option<f64>,
    pub keys: u64,
    pub used_memory: u64,
    pub connected_clients: u64,
    pub master_repl_offset: i64,
    /// For a replica: its link to its master ("up" / "down") and seconds since the master
    /// last talked to it.
    pub master_link_status: Option<String>,
    pub master_last_io_seconds: Option<i64>,
    /// For a master: its replicas' `(ip:port, offset, lag seconds)`.
    pub replicas: Vec<(String, i64, i64)>,
    pub maxmemory_policy: String,
}

/// A replica's link as shown in the nodes table.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplLink {
    pub up: bool,
    pub lag_bytes: Option<i64>,
    pub lag_seconds: Option<i64>,
}

/// A contiguous run of slots served by one node.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotRange {
    pub start: u16,
    pub end: u16,
    pub owner: String,
}

/// A slot being moved: MIGRATING on `from`, IMPORTING on `to` (either may be unknown yet).
#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    pub slot: u16,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// One key sampled for the hot-keys table.
#[derive(Debug, Clone, PartialEq)]
pub struct HotKey {
    pub key: String,
    pub freq: u64,
}

/// One proxy backend's figures over the last poll.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Backend {
    pub pool: String,
    pub backend: String,
    pub requests_per_sec: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub connections: i64,
    pub ejections: u64,
    pub replica_link_up: Option<bool>,
}

/// The whole picture at one poll.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub time_ms: i64,
    /// The node whose CLUSTER NODES / INFO the map and flags come from.
    pub view_from: Option<String>,
    pub error: Option<String>,
    pub cluster_state: String,
    pub current_epoch: u64,
    pub nodes: Vec<NodeView>,
    pub slots: Vec<SlotRange>,
    pub migrations: Vec<Migration>,
    /// Per node id: its top keys (nodes under an LFU policy only).
    pub hot_keys: Vec<(String, Vec<HotKey>)>,
    pub proxy_addr: Option<String>,
    pub proxy_error: Option<String>,
    pub backends: Vec<Backend>,
}

impl Snapshot {
    /// The owner of every slot (None: unassigned), from `slots`.
    pub fn owners(&self) -> Vec<Option<&str>> {
        let mut owners = vec![None; 16384];
        for r in &self.slots {
            for s in r.start..=r.end {
                owners[s as usize] = Some(r.owner.as_str());
            }
        }
        owners
    }

    pub fn node(&self, id: &str) -> Option<&NodeView> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// A replica's link to its master: up/down from its INFO, lag from its master's INFO.
    pub fn repl_link(&self, n: &NodeView) -> Option<ReplLink> {
        let master = self.node(n.master_id.as_deref()?)?;
        let mine = n.stats.as_ref();
        let entry = master.stats.as_ref().and_then(|s| s.replicas.iter().find(|r| r.0 == n.addr).cloned());
        let up = mine.and_then(|s| s.master_link_status.as_deref()).map(|s| s == "up").unwrap_or(false);
        let lag_bytes = match (&master.stats, &entry) {
            (Some(ms), Some(e)) => Some((ms.master_repl_offset - e.1).max(0)),
            _ => None,
        };
        let lag_seconds = entry.map(|e| e.2).or_else(|| mine.and_then(|s| s.master_last_io_seconds));
        Some(ReplLink { up, lag_bytes, lag_seconds })
    }
}

/// Nodes, slot ranges and open slots from one node's `CLUSTER NODES`.
pub fn read_nodes(lines: &[NodeLine]) -> (Vec<NodeView>, Vec<SlotRange>, Vec<Migration>) {
    let mut nodes = Vec::new();
    let mut ranges = Vec::new();
    let mut migrations: Vec<Migration> = Vec::new();
    for l in lines {
        let mut slots = 0;
        for t in &l.slots {
            match t {
                SlotToken::Range(a, b) => {
                    slots += (*b as usize + 1).saturating_sub(*a as usize);
                    ranges.push(SlotRange { start: *a, end: *b, owner: l.name.clone() });
                }
                SlotToken::Migrating(s, to) => merge_migration(&mut migrations, *s, Some(&l.name), Some(to)),
                SlotToken::Importing(s, from) => merge_migration(&mut migrations, *s, Some(from), Some(&l.name)),
            }
        }
        let role = if l.has_flag("master") { "master" } else { "replica" };
        nodes.push(NodeView {
            id: l.name.clone(),
            addr: format!("{}:{}", l.host, l.port),
            role: role.into(),
            master_id: l.master_id.clone(),
            flags: l.flags.clone(),
            link: l.link_state.clone(),
            config_epoch: l.config_epoch,
            slots,
            ..Default::default()
        });
    }
    ranges.sort_by_key(|r| r.start);
    migrations.sort_by_key(|m| m.slot);
    (nodes, ranges, migrations)
}

fn merge_migration(list: &mut Vec<Migration>, slot: u16, from: Option<&String>, to: Option<&String>) {
    let m = match list.iter_mut().find(|m| m.slot == slot) {
        Some(m) => m,
        None => {
            list.push(Migration { slot, from: None, to: None });
            list.last_mut().expect("just pushed")
        }
    };
    if m.from.is_none() {
        m.from = from.cloned();
    }
    if m.to.is_none() {
        m.to = to.cloned();
    }
}

/// `field:value` lines of an INFO reply.
pub fn info_fields(text: &str) -> HashMap<&str, &str> {
    text.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.trim_end().split_once(':')).collect()
}

/// The figures the dashboard shows, from an INFO reply (all sections).
pub fn read_info(text: &str) -> NodeStats {
    let f = info_fields(text);
    let num = |k: &str| f.get(k).and_then(|v| v.parse::<i64>().ok());
    let keys = f
        .iter()
        .filter(|(k, _)| k.starts_with("db"))
        .filter_map(|(_, v)| v.split(',').find_map(|p| p.strip_prefix("keys=")).and_then(|n| n.parse::<u64>().ok()))
        .sum();
    let replicas = f
        .iter()
        .filter(|(k, _)| k.starts_with("slave") && k[5..].chars().all(|c| c.is_ascii_digit()) && k.len() > 5)
        .filter_map(|(_, v)| {
            let kv: HashMap<&str, &str> = v.split(',').filter_map(|p| p.split_once('=')).collect();
            let addr = format!("{}:{}", kv.get("ip")?, kv.get("port")?);
            Some((addr, kv.get("offset")?.parse().ok()?, kv.get("lag")?.parse().ok()?))
        })
        .collect();
    NodeStats {
        total_commands: num("total_commands_processed").unwrap_or(0).max(0) as u64,
        ops_per_sec: None,
        keys,
        used_memory: num("used_memory").unwrap_or(0).max(0) as u64,
        connected_clients: num("connected_clients").unwrap_or(0).max(0) as u64,
        master_repl_offset: num("master_repl_offset").unwrap_or(0),
        master_link_status: f.get("master_link_status").map(|s| s.to_string()),
        master_last_io_seconds: num("master_last_io_seconds_ago"),
        replicas,
        maxmemory_policy: f.get("maxmemory_policy").map(|s| s.to_string()).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::parse_nodes;

    const NODES: &str = "\
a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460 [5461-<-b2]
b2 127.0.0.1:7001@17001 master - 0 0 2 connected 5461-10922 [5461->-a1]
c3 127.0.0.1:7002@17002 master,fail - 0 0 3 disconnected 10923-16383
d4 127.0.0.1:7003@17003 slave a1 0 0 1 connected
";

    #[test]
    fn nodes_ranges_and_migrations() {
        let (nodes, ranges, migrations) = read_nodes(&parse_nodes(NODES));
        assert_eq!(nodes.len(), 4);
        assert_eq!((nodes[0].slots, nodes[2].slots, nodes[3].slots), (5461, 5461, 0));
        assert_eq!(nodes[3].role, "replica");
        assert_eq!(nodes[3].master_id.as_deref(), Some("a1"));
        assert_eq!(ranges.len(), 3);
        assert_eq!(ranges[2], SlotRange { start: 10923, end: 16383, owner: "c3".into() });
        assert_eq!(migrations, vec![Migration { slot: 5461, from: Some("b2".into()), to: Some("a1".into()) }]);
        let snap = Snapshot { slots: ranges, ..Default::default() };
        let owners = snap.owners();
        assert_eq!((owners[0], owners[10922], owners[16383]), (Some("a1"), Some("b2"), Some("c3")));
    }

    #[test]
    fn info_figures_and_replica_lag() {
        let master = read_info(
            "# Clients\r\nconnected_clients:7\r\n# Memory\r\nused_memory:1048576\r\n\
             # Stats\r\ntotal_commands_processed:1234\r\n# Replication\r\nrole:master\r\n\
             slave0:ip=127.0.0.1,port=7003,state=online,offset=900,lag=1\r\nmaster_repl_offset:1000\r\n\
             # Keyspace\r\ndb0:keys=42,expires=0,avg_ttl=0\r\n",
        );
        assert_eq!((master.connected_clients, master.used_memory, master.keys), (7, 1048576, 42));
        assert_eq!(master.replicas, vec![("127.0.0.1:7003".to_string(), 900, 1)]);
        let replica = read_info("role:slave\r\nmaster_link_status:up\r\nmaster_last_io_seconds_ago:0\r\n");
        let (nodes, _, _) = read_nodes(&parse_nodes(NODES));
        let mut snap = Snapshot { nodes, ..Default::default() };
        snap.nodes[0].stats = Some(master);
        snap.nodes[3].stats = Some(replica);
        let link = snap.repl_link(&snap.nodes[3]).expect("a replica has a link");
        assert_eq!(link, ReplLink { up: true, lag_bytes: Some(100), lag_seconds: Some(1) });
        assert_eq!(snap.repl_link(&snap.nodes[0]), None);
    }
}
