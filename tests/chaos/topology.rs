//! The cluster as its nodes describe it: CLUSTER NODES parsed into [`View`] (who is master of
//! which slots, who replicates whom), and [`health`]: the one definition of "healed" used
//! between faults and at the end — every node up and saying `cluster_state:ok`, all nodes
//! agreeing on roles and slots, no slot left migrating or importing, every slot covered, no
//! node flagged failing, every master with
//! a replica whose link is up (`master_link_status:up` on the replica, `state=online` in the
//! master's replica list).

use crate::common::text;
use crate::nodes::{Cluster, NodeState};

#[derive(Clone, Debug)]
pub struct Row {
    pub id: String,
    pub port: u16,
    pub master: bool,
    pub master_id: Option<String>,
    pub failing: bool,
    /// Slot ranges owned (masters).
    pub ranges: Vec<(u16, u16)>,
    /// Slots left migrating or importing (`[slot->-id]`, `[slot-<-id]`).
    pub open: Vec<String>,
}

impl Row {
    pub fn slot_count(&self) -> usize {
        self.ranges.iter().map(|(a, b)| (*b - *a) as usize + 1).sum()
    }

    pub fn first_slot(&self) -> u16 {
        self.ranges.iter().map(|r| r.0).min().unwrap_or(u16::MAX)
    }
}

#[derive(Clone, Debug)]
pub struct View {
    pub rows: Vec<Row>,
}

fn parse_row(line: &str) -> Option<Row> {
    let f: Vec<&str> = line.split(' ').collect();
    if f.len() < 8 {
        return None;
    }
    let port = f[1].split('@').next()?.rsplit_once(':')?.1.parse().ok()?;
    let ranges = f[8..]
        .iter()
        .filter(|s| !s.starts_with('['))
        .filter_map(|s| match s.split_once('-') {
            Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
            None => s.parse().ok().map(|a| (a, a)),
        })
        .collect();
    Some(Row {
        id: f[0].to_string(),
        port,
        master: f[2].contains("master"),
        master_id: (f[3] != "-").then(|| f[3].to_string()),
        failing: f[2].contains("fail"),
        ranges,
        open: f[8..].iter().filter(|s| s.starts_with('[')).map(|s| s.to_string()).collect(),
    })
}

impl View {
    /// CLUSTER NODES as node `i` sees the cluster.
    pub fn of(cluster: &Cluster, i: usize) -> Result<View, String> {
        let reply = cluster.call(i, &["CLUSTER", "NODES"])?;
        let rows: Vec<Row> = text(&reply).lines().filter_map(parse_row).collect();
        if rows.is_empty() {
            return Err(format!("CLUSTER NODES on {}: {}", cluster.hostport(i), text(&reply)));
        }
        Ok(View { rows })
    }

    /// The view of the first node that is up and answers.
    pub fn any(cluster: &Cluster) -> Result<View, String> {
        let mut last = String::from("no node is up");
        for i in 0..cluster.nodes.len() {
            match View::of(cluster, i) {
                Ok(v) => return Ok(v),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Masters owning slots, ordered by their first slot (a stable way to name shards).
    pub fn masters(&self) -> Vec<&Row> {
        let mut m: Vec<&Row> = self.rows.iter().filter(|r| r.master && !r.ranges.is_empty()).collect();
        m.sort_by_key(|r| r.first_slot());
        m
    }

    pub fn replicas_of(&self, master_id: &str) -> Vec<&Row> {
        self.rows.iter().filter(|r| !r.master && r.master_id.as_deref() == Some(master_id)).collect()
    }

    pub fn by_port(&self, port: u16) -> Option<&Row> {
        self.rows.iter().find(|r| r.port == port)
    }

    /// Roles and slots, normalised, for comparing two nodes' views.
    fn signature(&self) -> String {
        let mut rows: Vec<String> = self
            .rows
            .iter()
            .map(|r| format!("{} {} {:?} {:?} {}", r.id, r.master, r.master_id, r.ranges, r.failing))
            .collect();
        rows.sort();
        rows.join("\n")
    }
}

/// A field of an INFO reply (empty if absent).
pub fn info_field(info: &str, field: &str) -> String {
    let prefix = format!("{field}:");
    info.lines().find_map(|l| l.strip_prefix(&prefix)).unwrap_or_default().trim().to_string()
}

/// Is the cluster healed? Ok with the agreed view, or the first thing still wrong.
pub fn health(cluster: &Cluster) -> Result<View, String> {
    let n = cluster.nodes.len();
    let mut views = Vec::new();
    for i in 0..n {
        if cluster.nodes[i].state() != NodeState::Up {
            return Err(format!("{} is {:?}", cluster.hostport(i), cluster.nodes[i].state()));
        }
        let info = text(&cluster.call(i, &["CLUSTER", "INFO"])?);
        if info_field(&info, "cluster_state") != "ok" || info_field(&info, "cluster_known_nodes") != n.to_string() {
            let (state, known) = (info_field(&info, "cluster_state"), info_field(&info, "cluster_known_nodes"));
            return Err(format!("{}: cluster_state:{state} cluster_known_nodes:{known}", cluster.hostport(i)));
        }
        views.push(View::of(cluster, i)?);
    }
    let first = views[0].signature();
    if let Some(i) = views.iter().position(|v| v.signature() != first) {
        return Err(format!("{} and {} disagree about roles or slots", cluster.hostport(0), cluster.hostport(i)));
    }
    let view = views.swap_remove(0);
    check_roles(cluster, &view)?;
    Ok(view)
}

/// Slots covered, nobody failing, every master with an attached replica whose link is up.
fn check_roles(cluster: &Cluster, view: &View) -> Result<(), String> {
    if let Some(r) = view.rows.iter().find(|r| r.failing) {
        return Err(format!("127.0.0.1:{} is flagged failing", r.port));
    }
    if let Some(r) = view.rows.iter().find(|r| !r.open.is_empty()) {
        return Err(format!("127.0.0.1:{} has slots open: {}", r.port, r.open.join(" ")));
    }
    if let Some(r) = view.rows.iter().find(|r| r.master && r.ranges.is_empty()) {
        return Err(format!("127.0.0.1:{} is a master without slots (not rejoined as a replica)", r.port));
    }
    let covered: usize = view.masters().iter().map(|m| m.slot_count()).sum();
    if covered != 16384 {
        return Err(format!("{covered} of 16384 slots covered"));
    }
    for m in view.masters() {
        let replicas = view.replicas_of(&m.id);
        if replicas.is_empty() {
            return Err(format!("master 127.0.0.1:{} has no replica", m.port));
        }
        let mi = cluster.index_of(m.port).ok_or("unknown master port")?;
        let minfo = text(&cluster.call(mi, &["INFO", "replication"])?);
        for r in replicas {
            let ri = cluster.index_of(r.port).ok_or("unknown replica port")?;
            let rinfo = text(&cluster.call(ri, &["INFO", "replication"])?);
            let (link, port) = (info_field(&rinfo, "master_link_status"), info_field(&rinfo, "master_port"));
            if link != "up" || port != m.port.to_string() {
                return Err(format!(
                    "replica 127.0.0.1:{} of {}: master_port:{port} master_link_status:{link}",
                    r.port, m.port
                ));
            }
            let listed = minfo.lines().any(|l| {
                l.starts_with("slave") && l.contains(&format!("port={},", r.port)) && l.contains("state=online")
            });
            if !listed {
                return Err(format!("master 127.0.0.1:{} does not list replica {} online", m.port, r.port));
            }
        }
    }
    Ok(())
}
