//! [`Node`]: what the tool knows about one cluster node (id, address, role, slots, open
//! slots, and its connection), plus the pure parsing of `CLUSTER NODES` text: one
//! [`NodeLine`] per line, the config signature used to decide whether all nodes agree, and
//! the list of disconnected links. Nothing here sends a command.

use crate::conn::Conn;
use crate::slots::SlotSet;

/// One entry of a node's slot field in `CLUSTER NODES`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotToken {
    Range(u16, u16),
    Migrating(u16, String),
    Importing(u16, String),
}

/// One parsed `CLUSTER NODES` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeLine {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub bus_port: Option<u16>,
    pub flags: Vec<String>,
    pub master_id: Option<String>,
    pub config_epoch: u64,
    pub link_state: String,
    pub slots: Vec<SlotToken>,
}

impl NodeLine {
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }
}

/// Split `ip:port@cport[,hostname]` into (ip, port, bus port).
pub fn parse_address(addr: &str) -> Option<(String, u16, Option<u16>)> {
    let addr = addr.split(',').next().unwrap_or(addr);
    let (hostport, bus) = match addr.rsplit_once('@') {
        Some((hp, b)) => (hp, b.parse().ok()),
        None => (addr, None),
    };
    let (host, port) = hostport.rsplit_once(':')?;
    Some((host.to_string(), port.parse().ok()?, bus))
}

fn parse_slot_token(tok: &str) -> Option<SlotToken> {
    if let Some(inner) = tok.strip_prefix('[') {
        let inner = inner.trim_end_matches(']');
        if let Some((slot, id)) = inner.split_once("->-") {
            return Some(SlotToken::Migrating(slot.parse().ok()?, id.to_string()));
        }
        let (slot, id) = inner.split_once("-<-")?;
        return Some(SlotToken::Importing(slot.parse().ok()?, id.to_string()));
    }
    match tok.split_once('-') {
        Some((a, b)) => Some(SlotToken::Range(a.parse().ok()?, b.parse().ok()?)),
        None => tok.parse().ok().map(|s| SlotToken::Range(s, s)),
    }
}

/// Parse one line; `None` if it has fewer than the 8 fixed fields.
pub fn parse_line(line: &str) -> Option<NodeLine> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() < 8 {
        return None;
    }
    let (host, port, bus_port) = parse_address(fields[1]).unwrap_or_default();
    Some(NodeLine {
        name: fields[0].to_string(),
        host,
        port,
        bus_port,
        flags: fields[2].split(',').filter(|f| !f.is_empty()).map(str::to_string).collect(),
        master_id: Some(fields[3]).filter(|m| *m != "-").map(str::to_string),
        config_epoch: fields[6].parse().unwrap_or(0),
        link_state: fields[7].to_string(),
        slots: fields[8..].iter().filter_map(|t| parse_slot_token(t)).collect(),
    })
}

/// Parse a whole `CLUSTER NODES` reply.
pub fn parse_nodes(text: &str) -> Vec<NodeLine> {
    text.lines().filter_map(parse_line).collect()
}

/// redis-cli's config signature: for every node serving slots, `id:slot,slot` (slot tokens
/// sorted as strings, open-slot tokens ignored), all sorted and joined with `|`.
/// Two nodes agree about the configuration when their signatures are equal.
pub fn config_signature(text: &str) -> String {
    let mut configs: Vec<String> = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 9 {
            continue;
        }
        let mut slots: Vec<&str> = fields[8..].iter().copied().filter(|t| !t.starts_with('[')).collect();
        if slots.is_empty() {
            continue;
        }
        slots.sort();
        configs.push(format!("{}:{}", fields[0], slots.join(",")));
    }
    configs.sort();
    configs.join("|")
}

/// Links a node reports as disconnected or still handshaking: `(id, address)` pairs.
pub fn disconnected_links(text: &str) -> Vec<(String, String)> {
    parse_nodes(text)
        .into_iter()
        .filter(|l| !l.has_flag("myself"))
        .filter(|l| l.has_flag("disconnected") || l.link_state.contains("disconnected") || l.has_flag("handshake"))
        .map(|l| {
            let addr = match l.bus_port {
                Some(b) => format!("{}:{}@{}", l.host, l.port, b),
                None => format!("{}:{}", l.host, l.port),
            };
            (l.name, addr)
        })
        .collect()
}

/// A cluster node as the tool sees it.
#[derive(Debug, Default)]
pub struct Node {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub bus_port: Option<u16>,
    /// Flags as printed by `CLUSTER NODES` (including `myself`).
    pub flags: Vec<String>,
    pub slave: bool,
    pub unusable: bool,
    /// Master id when this node is (or is planned to be) a replica.
    pub replicate: Option<String>,
    /// Planned configuration not yet sent to the node (create).
    pub dirty: bool,
    pub slots: SlotSet,
    pub migrating: Vec<(u16, String)>,
    pub importing: Vec<(u16, String)>,
    pub config_epoch: u64,
    pub replicas_count: usize,
    pub weight: f32,
    pub conn: Option<Conn>,
}

impl Node {
    pub fn new(host: &str, port: u16) -> Node {
        Node { host: host.to_string(), port, weight: 1.0, ..Node::default() }
    }

    /// `host:port`.
    pub fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    pub fn is_master(&self) -> bool {
        !self.slave && self.replicate.is_none()
    }

    /// Take role, flags and epoch from a line (seen by any node).
    pub fn apply_flags(&mut self, line: &NodeLine) {
        self.name = line.name.clone();
        if line.bus_port.is_some() {
            self.bus_port = line.bus_port;
        }
        self.flags = line.flags.clone();
        for f in &line.flags {
            match f.as_str() {
                "noaddr" | "disconnected" | "fail" => self.unusable = true,
                "slave" => {
                    self.slave = true;
                    if let Some(m) = &line.master_id {
                        self.replicate = Some(m.clone());
                    }
                }
                _ => {}
            }
        }
        self.config_epoch = line.config_epoch;
    }

    /// Take everything from the node's own `myself` line, slots and open slots included.
    pub fn apply_own_line(&mut self, line: &NodeLine) {
        self.apply_flags(line);
        self.slots.clear();
        self.migrating.clear();
        self.importing.clear();
        for tok in &line.slots {
            match tok {
                SlotToken::Range(a, b) => self.slots.insert_range(*a, *b),
                SlotToken::Migrating(s, id) => self.migrating.push((*s, id.clone())),
                SlotToken::Importing(s, id) => self.importing.push((*s, id.clone())),
            }
        }
        self.dirty = false;
    }

    /// Flags without `myself`, comma separated.
    pub fn flag_string(&self) -> String {
        let flags: Vec<&str> = self.flags.iter().map(String::as_str).filter(|f| *f != "myself").collect();
        flags.join(",")
    }

    /// redis-cli's `clusterManagerNodeInfo`: the `M:`/`S:` block shown by create and check.
    pub fn info_string(&self, indent: usize) -> String {
        let spaces = " ".repeat(indent);
        let mut info = spaces.clone();
        if self.dirty && self.replicate.is_some() {
            info.push_str(&format!("S: {} {}", self.name, self.addr()));
        } else {
            let role = if self.slave { "S" } else { "M" };
            info.push_str(&format!(
                "{role}: {} {}\n{spaces}   slots:{} ({} slots) {}",
                self.name,
                self.addr(),
                self.slots.ranges_string(),
                self.slots.count(),
                self.flag_string()
            ));
        }
        if let Some(m) = &self.replicate {
            info.push_str(&format!("\n{spaces}   replicates {m}"));
        } else if self.replicas_count > 0 {
            info.push_str(&format!("\n{spaces}   {} additional replica(s)", self.replicas_count));
        }
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID_A: &str = "b460dba5d8b0588f91ceb5afe08bdb81ee554911";
    const ID_B: &str = "f27b5bdc89915a69ccb7c1e45a9daec338bafe1c";

    fn sample() -> String {
        format!(
            "{ID_A} 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460 [77->-{ID_B}]\n\
             {ID_B} 127.0.0.1:7001@17001,host-b master - 0 1 2 connected 5461-10922 16383 [88-<-{ID_A}]\n\
             c48c449944bbd7dc52fc4225c3c07a5e5a0f830a 127.0.0.1:7003@17003 slave {ID_A} 0 1 1 disconnected\n"
        )
    }

    #[test]
    fn parses_lines_with_open_slots_and_hostnames() {
        let lines = parse_nodes(&sample());
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].slots[1], SlotToken::Migrating(77, ID_B.into()));
        assert_eq!((lines[1].host.as_str(), lines[1].port, lines[1].bus_port), ("127.0.0.1", 7001, Some(17001)));
        assert_eq!(
            lines[1].slots,
            vec![SlotToken::Range(5461, 10922), SlotToken::Range(16383, 16383), SlotToken::Importing(88, ID_A.into())]
        );
        assert_eq!(lines[2].master_id.as_deref(), Some(ID_A));
        assert!(lines[0].master_id.is_none());
    }

    #[test]
    fn signature_ignores_open_slots_and_order() {
        let sig = config_signature(&sample());
        assert_eq!(sig, format!("{ID_A}:0-5460|{ID_B}:16383,5461-10922"));
        let reordered: String = sample().lines().rev().map(|l| format!("{l}\n")).collect();
        assert_eq!(config_signature(&reordered), sig);
    }

    #[test]
    fn node_info_block() {
        let lines = parse_nodes(&sample());
        let mut n = Node::new("127.0.0.1", 7000);
        n.apply_own_line(&lines[0]);
        n.replicas_count = 1;
        assert_eq!(n.migrating, vec![(77, ID_B.to_string())]);
        assert_eq!(
            n.info_string(0),
            format!("M: {ID_A} 127.0.0.1:7000\n   slots:[0-5460] (5461 slots) master\n   1 additional replica(s)")
        );
        let mut r = Node::new("127.0.0.1", 7003);
        r.apply_own_line(&lines[2]);
        assert!(r.slave && !r.unusable);
        assert_eq!(
            r.info_string(4),
            format!("    S: {} 127.0.0.1:7003\n       slots: (0 slots) slave\n       replicates {ID_A}", lines[2].name)
        );
    }

    #[test]
    fn disconnected_links_are_reported() {
        let links = disconnected_links(&sample());
        assert_eq!(links, vec![(parse_nodes(&sample())[2].name.clone(), "127.0.0.1:7003@17003".to_string())]);
    }
}
