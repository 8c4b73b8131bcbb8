//! [`Manager`]: the cluster as seen from one entry node, like redis-cli's `cluster_manager`.
//! Loads every node from the entry node's `CLUSTER NODES` (connecting to each), tells
//! whether all nodes agree about the slot configuration, waits for a cluster to join, and
//! prints the node tables of `check` / `info`. Slot operations live in `slot_ops.rs`.

use crate::args::Options;
use crate::conn::{frame_text, Conn};
use crate::error::ToolError;
use crate::log;
use crate::node::{config_signature, disconnected_links, parse_address, parse_nodes, Node};
use slotbox_protocol::Frame;
use std::time::{Duration, Instant};

/// Longest `wait_for_join` waits before giving up (redis-cli waits forever).
const JOIN_LIMIT: Duration = Duration::from_secs(120);

/// The nodes of one cluster and what the current command found wrong with it.
pub struct Manager {
    pub nodes: Vec<Node>,
    /// Problems found by `check` (redis-cli's `cluster_manager.errors`).
    pub errors: Vec<String>,
    /// Masters listed by the entry node that could not be reached.
    pub unreachable_masters: usize,
    pub opts: Options,
}

/// Print `e` the way redis-cli reports it, unless it was already reported.
pub fn report(e: &ToolError) {
    match e {
        ToolError::Reported => {}
        ToolError::Connect { .. } => eprintln!("{e}"),
        _ => log::err(&e.to_string()),
    }
}

/// The open connection of `node` (nodes are connected when loaded).
pub fn conn(node: &mut Node) -> Result<&mut Conn, ToolError> {
    let addr = node.addr();
    node.conn.as_mut().ok_or(ToolError::Io { addr, reason: "not connected".into() })
}

/// Connect to `node`, with the reply timeout derived from `--cluster-timeout`.
pub fn connect(node: &mut Node, opts: &Options) -> Result<(), ToolError> {
    let read_timeout = Duration::from_millis(opts.timeout_ms.saturating_add(30_000).max(60_000));
    node.conn = Some(Conn::open(&node.host, node.port, &opts.auth, read_timeout)?);
    Ok(())
}

/// A field of an INFO-style `key:value` text.
pub fn info_field<'a>(text: &'a str, field: &str) -> Option<&'a str> {
    text.lines().find_map(|l| l.strip_prefix(field)?.strip_prefix(':')).map(str::trim)
}

/// Fail with redis-cli's "[ERR] Node h:p is not configured as a cluster node." unless the
/// node runs in cluster mode.
pub fn ensure_cluster_node(node: &mut Node) -> Result<(), ToolError> {
    let addr = node.addr();
    let enabled = match conn(node)?.call(&["INFO"])? {
        Frame::Error(e) => Err(String::from_utf8_lossy(&e).into_owned()),
        f => Ok(frame_text(&f).is_some_and(|t| info_field(&t, "cluster_enabled") == Some("1"))),
    };
    match enabled {
        Ok(true) => Ok(()),
        Ok(false) => {
            log::err(&format!("[ERR] Node {addr} is not configured as a cluster node."));
            Err(ToolError::Reported)
        }
        Err(msg) => {
            log::err(&format!("[ERR] Node {addr} {msg}"));
            Err(ToolError::Reported)
        }
    }
}

/// Fail unless the node holds no key and knows no other node (create, add-node).
pub fn ensure_empty(node: &mut Node) -> Result<(), ToolError> {
    let addr = node.addr();
    let c = conn(node)?;
    let info = c.call_text(&["INFO"])?;
    let known = c.call_text(&["CLUSTER", "INFO"])?;
    let lone = info_field(&known, "cluster_known_nodes") == Some("1");
    if info.contains("db0:") || !lone {
        log::err(&format!(
            "[ERR] Node {addr} is not empty. Either the node already knows other nodes (check with \
             CLUSTER NODES) or contains some key in database 0."
        ));
        return Err(ToolError::Reported);
    }
    Ok(())
}

/// Load the node's own line of `CLUSTER NODES`; with `friends`, also return the other
/// nodes it knows (not yet connected), in the order it lists them.
pub fn load_node_info(node: &mut Node, friends: bool) -> Result<Vec<Node>, ToolError> {
    let text = conn(node)?.call_text(&["CLUSTER", "NODES"])?;
    let mut others = Vec::new();
    for line in parse_nodes(&text) {
        if line.has_flag("myself") {
            node.apply_own_line(&line);
        } else if friends {
            let mut f = Node::new(&line.host, line.port);
            f.bus_port = line.bus_port;
            f.apply_flags(&line);
            others.push(f);
        }
    }
    Ok(others)
}

impl Manager {
    pub fn new(opts: &Options) -> Manager {
        Manager { nodes: Vec::new(), errors: Vec::new(), unreachable_masters: 0, opts: opts.clone() }
    }

    /// redis-cli's `clusterManagerLoadInfoFromNode`: connect to the entry node, make sure it
    /// is a cluster node, then load and connect every node it knows.
    pub fn load(host: &str, port: u16, opts: &Options) -> Result<Manager, ToolError> {
        let mut m = Manager::new(opts);
        let mut entry = Node::new(host, port);
        connect(&mut entry, opts)?;
        ensure_cluster_node(&mut entry)?;
        let friends = load_node_info(&mut entry, true)?;
        m.nodes.push(entry);
        for mut f in friends {
            if m.load_friend(&mut f) {
                m.nodes.push(f);
            } else if !f.slave {
                m.unreachable_masters += 1;
            }
        }
        m.count_replicas();
        Ok(m)
    }

    /// Connect to a node listed by the entry node and load its own view; false if unusable.
    fn load_friend(&self, f: &mut Node) -> bool {
        if f.host.is_empty() || f.port == 0 {
            return false;
        }
        if let Err(e) = connect(f, &self.opts) {
            report(&e);
            return false;
        }
        if load_node_info(f, false).is_err() {
            log::err(&format!("[ERR] Unable to load info for node {}", f.addr()));
            return false;
        }
        !f.unusable
    }

    fn count_replicas(&mut self) {
        for i in 0..self.nodes.len() {
            let Some(master) = self.nodes[i].replicate.clone() else {
                continue;
            };
            match self.node_by_name(&master) {
                Some(m) => self.nodes[m].replicas_count += 1,
                None => log::warn(&format!(
                    "*** WARNING: {} claims to be slave of unknown node ID {master}.",
                    self.nodes[i].addr()
                )),
            }
        }
    }

    /// Index of the node with this id (case-insensitive).
    pub fn node_by_name(&self, name: &str) -> Option<usize> {
        let name = name.to_ascii_lowercase();
        self.nodes.iter().position(|n| !n.name.is_empty() && n.name == name)
    }

    /// Index of the first node whose id starts with `prefix`.
    pub fn node_by_prefix(&self, prefix: &str) -> Option<usize> {
        let prefix = prefix.to_ascii_lowercase();
        self.nodes.iter().position(|n| !n.name.is_empty() && n.name.starts_with(&prefix))
    }

    /// Indices of the masters.
    pub fn masters(&self) -> Vec<usize> {
        (0..self.nodes.len()).filter(|&i| self.nodes[i].is_master()).collect()
    }

    /// Record a problem found by check and print it.
    pub fn on_error(&mut self, msg: String) {
        log::err(&msg);
        self.errors.push(msg);
    }

    /// The `M:` / `S:` block of every node.
    pub fn show_nodes(&self) {
        for n in &self.nodes {
            log::out(&format!("{}\n", n.info_string(0)));
        }
    }

    /// `info`: keys, slots and replicas of every master, and the keys per slot.
    pub fn show_cluster_info(&mut self) {
        let (mut masters, mut keys) = (0usize, 0i64);
        for i in 0..self.nodes.len() {
            if self.nodes[i].slave || self.nodes[i].name.is_empty() {
                continue;
            }
            let name = self.nodes[i].name.clone();
            let replicas = self.nodes.iter().filter(|n| n.slave && n.replicate.as_deref() == Some(&name)).count();
            let dbsize = match conn(&mut self.nodes[i]).and_then(|c| c.call_int(&["DBSIZE"])) {
                Ok(n) => n,
                Err(e) => return report(&e),
            };
            let n = &self.nodes[i];
            log::out(&format!(
                "{} ({}...) -> {dbsize} keys | {} slots | {replicas} slaves.\n",
                n.addr(),
                &name[..name.len().min(8)],
                n.slots.count()
            ));
            masters += 1;
            keys += dbsize;
        }
        log::ok(&format!("[OK] {keys} keys in {masters} masters."));
        log::out(&format!("{:.2} keys per slot on average.\n", keys as f32 / 16384.0));
    }

    /// True when every node reports the same slot configuration.
    pub fn is_config_consistent(&mut self) -> bool {
        if self.nodes.len() <= 1 {
            return true;
        }
        let mut first: Option<String> = None;
        for n in &mut self.nodes {
            let Ok(text) = conn(n).and_then(|c| c.call_text(&["CLUSTER", "NODES"])) else {
                return false;
            };
            let sig = config_signature(&text);
            if sig.is_empty() {
                return false;
            }
            match &first {
                None => first = Some(sig),
                Some(f) if *f != sig => return false,
                Some(_) => {}
            }
        }
        true
    }

    /// Wait (with progress dots) until all nodes agree about the configuration.
    pub fn wait_for_join(&mut self) -> Result<(), ToolError> {
        log::out("Waiting for the cluster to join\n");
        let check_after = Duration::from_secs(20 + (self.nodes.len() as f32 * 0.15) as u64);
        let (start, mut warned_at) = (Instant::now(), Instant::now());
        let mut last_dot: Option<Instant> = None;
        while !self.is_config_consistent() {
            if start.elapsed() > JOIN_LIMIT {
                log::out("\n");
                log::err(&format!(
                    "[ERR] The nodes did not agree about the configuration in {}s.",
                    JOIN_LIMIT.as_secs()
                ));
                return Err(ToolError::Reported);
            }
            if last_dot.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                log::out(".");
                last_dot = Some(Instant::now());
            }
            std::thread::sleep(Duration::from_millis(100));
            if warned_at.elapsed() > check_after {
                self.warn_unreachable_links();
                warned_at = Instant::now();
            }
        }
        log::out("\n");
        Ok(())
    }

    /// After a long wait: which nodes cannot reach which bus ports.
    fn warn_unreachable_links(&mut self) {
        let mut status: Vec<(String, Vec<String>)> = Vec::new();
        for n in &mut self.nodes {
            let from = n.addr();
            let Ok(text) = conn(n).and_then(|c| c.call_text(&["CLUSTER", "NODES"])) else {
                continue;
            };
            for (_, addr) in disconnected_links(&text) {
                match status.iter_mut().find(|(a, _)| *a == addr) {
                    Some((_, list)) => list.push(from.clone()),
                    None => status.push((addr, vec![from.clone()])),
                }
            }
        }
        if status.is_empty() {
            return;
        }
        log::out("\n");
        log::err(&format!("Warning: {} node(s) may be unreachable", status.len()));
        for (addr, from) in status {
            match parse_address(&addr) {
                Some((ip, _, Some(bus))) => {
                    log::err(&format!(" - The port {bus} of node {ip} may be unreachable from:"))
                }
                _ => log::err(&format!(" - Node {addr} may be unreachable from:")),
            }
            for f in from {
                log::err(&format!("   {f}"));
            }
            log::err(
                "Cluster bus ports must be reachable by every node.\nRemember that cluster bus ports \
                 are different from standard instance ports.",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_fields() {
        let text = "# Cluster\r\ncluster_enabled:1\r\ncluster_known_nodes:1\r\n";
        assert_eq!(info_field(text, "cluster_enabled"), Some("1"));
        assert_eq!(info_field(text, "cluster_known_nodes"), Some("1"));
        assert_eq!(info_field(text, "cluster"), None);
    }
}
