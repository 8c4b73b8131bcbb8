//! The Redis Cluster slot map of a `cluster: true` pool, built from `CLUSTER SLOTS` and
//! patched by `-MOVED`. Backends are named by index into the pool's backend table (the
//! caller maps addresses to indices); this module parses replies and answers lookups only.

use super::Router;
use slotbox_protocol::{key_hash_slot, Frame, SLOT_COUNT};

/// One `CLUSTER SLOTS` row: slots `start..=end`, master address, replica addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotRange {
    pub start: u16,
    pub end: u16,
    pub master: String,
    pub replicas: Vec<String>,
}

/// Parse a `CLUSTER SLOTS` reply into rows.
pub fn parse_cluster_slots(reply: &Frame) -> Option<Vec<SlotRange>> {
    let Frame::Array(rows) = reply else {
        return None;
    };
    let mut out = Vec::new();
    for row in rows {
        let Frame::Array(items) = row else {
            return None;
        };
        let start = items.first()?.as_integer()? as u16;
        let end = items.get(1)?.as_integer()? as u16;
        let mut nodes = items[2..].iter().filter_map(node_addr);
        let master = nodes.next()?;
        out.push(SlotRange { start, end, master, replicas: nodes.collect() });
    }
    Some(out)
}

fn node_addr(node: &Frame) -> Option<String> {
    let Frame::Array(n) = node else { return None };
    let host = std::str::from_utf8(n.first()?.as_bytes()?).ok()?;
    let port = n.get(1)?.as_integer()?;
    Some(format!("{host}:{port}"))
}

/// Slot -> (master, replicas) as backend indices. `u32::MAX` marks an unserved slot.
#[derive(Debug, Clone)]
pub struct ClusterSlots {
    master: Vec<u32>,
    replicas: Vec<Vec<u32>>,
    /// Index into `replicas` for each slot.
    replica_set: Vec<u32>,
}

impl Default for ClusterSlots {
    fn default() -> Self {
        ClusterSlots {
            master: vec![u32::MAX; SLOT_COUNT],
            replicas: vec![Vec::new()],
            replica_set: vec![0; SLOT_COUNT],
        }
    }
}

impl ClusterSlots {
    /// Build from rows whose addresses `index_of` turns into backend indices.
    pub fn from_ranges(ranges: &[SlotRange], mut index_of: impl FnMut(&str) -> usize) -> Self {
        let mut map = ClusterSlots::default();
        for r in ranges {
            let m = index_of(&r.master) as u32;
            let reps: Vec<u32> = r.replicas.iter().map(|a| index_of(a) as u32).collect();
            map.replicas.push(reps);
            let set = (map.replicas.len() - 1) as u32;
            for slot in r.start as usize..=(r.end as usize).min(SLOT_COUNT - 1) {
                map.master[slot] = m;
                map.replica_set[slot] = set;
            }
        }
        map
    }

    /// A `-MOVED slot addr` taught us a new owner for one slot.
    pub fn set_master(&mut self, slot: u16, backend: usize) {
        self.master[slot as usize] = backend as u32;
        self.replica_set[slot as usize] = 0;
    }

    /// The master serving `slot`.
    pub fn master_of(&self, slot: u16) -> Option<usize> {
        match self.master[slot as usize] {
            u32::MAX => None,
            m => Some(m as usize),
        }
    }

    /// The replicas of `slot`'s master, as backend indices.
    pub fn replicas_of(&self, slot: u16) -> &[u32] {
        &self.replicas[self.replica_set[slot as usize] as usize]
    }

    /// Every backend that is a replica of some master in this map, each once.
    pub fn all_replicas(&self) -> Vec<usize> {
        let mut out: Vec<usize> = self.replicas.iter().flatten().map(|&r| r as usize).collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

impl Router for ClusterSlots {
    fn route(&self, key: &[u8]) -> Option<usize> {
        self.master_of(key_hash_slot(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn node(port: i64) -> Frame {
        Frame::Array(vec![Frame::Bulk(Bytes::from_static(b"127.0.0.1")), Frame::Integer(port)])
    }

    #[test]
    fn parses_and_routes() {
        let reply = Frame::Array(vec![
            Frame::Array(vec![Frame::Integer(0), Frame::Integer(8191), node(7000), node(7003)]),
            Frame::Array(vec![Frame::Integer(8192), Frame::Integer(16383), node(7001)]),
        ]);
        let ranges = parse_cluster_slots(&reply).unwrap();
        assert_eq!(ranges[0].replicas, vec!["127.0.0.1:7003".to_string()]);
        let mut addrs: Vec<String> = Vec::new();
        let map = ClusterSlots::from_ranges(&ranges, |a| {
            addrs.iter().position(|x| x == a).unwrap_or_else(|| {
                addrs.push(a.to_string());
                addrs.len() - 1
            })
        });
        assert_eq!(map.master_of(0), Some(0));
        assert_eq!(map.master_of(16383), Some(2));
        assert_eq!(map.replicas_of(5), &[1]);
        assert_eq!(map.all_replicas(), vec![1]);
        // "foo" hashes to slot 12182.
        assert_eq!(map.route(b"foo"), Some(2));
    }
}
