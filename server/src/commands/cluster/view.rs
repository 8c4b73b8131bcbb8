//! Reply shapes of CLUSTER SLOTS, SHARDS and LINKS (maps in RESP3, flat arrays in RESP2, as
//! Redis 7.0) and CLUSTER HELP.

use crate::cluster::node::{flags, Node};
use crate::cluster::ClusterState;
use bytes::Bytes;
use slotbox_protocol::Frame;

fn b(s: &str) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

fn node_entry(n: &Node) -> Frame {
    Frame::Array(vec![b(&n.ip), Frame::Integer(n.port as i64), b(&n.id), Frame::Map(Vec::new())])
}

/// CLUSTER SLOTS: per contiguous range of a master, [start, end, master, replicas...].
pub fn slots(c: &ClusterState) -> Frame {
    let g = c.lock();
    let mut masters: Vec<&Node> = g.nodes.values().filter(|n| n.is_master() && !n.slots.is_empty()).collect();
    masters.sort_by(|a, b| a.id.cmp(&b.id));
    let mut rows: Vec<(u16, Frame)> = Vec::new();
    for m in masters {
        let replicas: Vec<&Node> = g.replicas_of(&m.id).into_iter().filter(|r| !r.has(flags::FAIL)).collect();
        for (start, end) in m.slots.ranges() {
            let mut row = vec![Frame::Integer(start as i64), Frame::Integer(end as i64), node_entry(m)];
            row.extend(replicas.iter().map(|r| node_entry(r)));
            rows.push((start, Frame::Array(row)));
        }
    }
    rows.sort_by_key(|(s, _)| *s);
    Frame::Array(rows.into_iter().map(|(_, f)| f).collect())
}

fn shard_node(n: &Node, master: &Node) -> Frame {
    let health = if n.has(flags::FAIL) { "fail" } else { "online" };
    let role = if n.is_master() { "master" } else { "replica" };
    let _ = master;
    Frame::Map(vec![
        (b("id"), b(&n.id)),
        (b("port"), Frame::Integer(n.port as i64)),
        (b("ip"), b(&n.ip)),
        (b("endpoint"), b(&n.ip)),
        (b("role"), b(role)),
        (b("replication-offset"), Frame::Integer(n.repl_offset)),
        (b("health"), b(health)),
    ])
}

/// CLUSTER SHARDS: one entry per master: its slot ranges and its nodes.
pub fn shards(c: &ClusterState) -> Frame {
    let g = c.lock();
    let mut masters: Vec<&Node> = g.nodes.values().filter(|n| n.is_master() && !n.has(flags::HANDSHAKE)).collect();
    masters.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out = Vec::new();
    for m in masters {
        let mut slots = Vec::new();
        for (s, e) in m.slots.ranges() {
            slots.push(Frame::Integer(s as i64));
            slots.push(Frame::Integer(e as i64));
        }
        let mut nodes = vec![shard_node(m, m)];
        nodes.extend(g.replicas_of(&m.id).into_iter().map(|r| shard_node(r, m)));
        out.push(Frame::Map(vec![(b("slots"), Frame::Array(slots)), (b("nodes"), Frame::Array(nodes))]));
    }
    Frame::Array(out)
}

/// CLUSTER LINKS: the bus links as the bus last reported them.
pub fn links(c: &ClusterState) -> Frame {
    let links = c.links.lock().clone();
    Frame::Array(
        links
            .into_iter()
            .map(|l| {
                Frame::Map(vec![
                    (b("direction"), b(if l.inbound { "from" } else { "to" })),
                    (b("node"), b(&l.node)),
                    (b("create-time"), Frame::Integer(l.create_time)),
                    (b("events"), b(&l.events)),
                    (b("send-buffer-allocated"), Frame::Integer(l.send_buffer_allocated as i64)),
                    (b("send-buffer-used"), Frame::Integer(l.send_buffer_used as i64)),
                ])
            })
            .collect(),
    )
}

pub fn help() -> Frame {
    let lines = [
        "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ADDSLOTS <slot> [<slot> ...]",
        "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
        "BUMPEPOCH",
        "COUNT-FAILURE-REPORTS <node-id>",
        "COUNTKEYSINSLOT <slot>",
        "DELSLOTS <slot> [<slot> ...]",
        "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
        "FLUSHSLOTS",
        "FORGET <node-id>",
        "GETKEYSINSLOT <slot> <count>",
        "INFO",
        "KEYSLOT <key>",
        "LINKS",
        "MEET <ip> <port> [<bus-port>]",
        "MYID",
        "MYSHARDID",
        "NODES",
        "REPLICATE <node-id>",
        "RESET [HARD|SOFT]",
        "SET-CONFIG-EPOCH <epoch>",
        "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
        "REPLICAS <node-id>",
        "SAVECONFIG",
        "SHARDS",
        "SLOTS",
        "HELP",
    ];
    Frame::Array(lines.iter().map(|l| Frame::Simple(Bytes::from_static(l.as_bytes()))).collect())
}
