//! What handling a bus message or a cron tick produces ([`Out`]: replies, sends, broadcasts,
//! local PUBLISH deliveries) and how this node's messages are stamped (its header, the
//! gossip section).

use super::inner::ClusterInner;
use super::message::{Body, Gossip, Header, Message};
use super::node::flags;

/// Something the bus must do after processing.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// Send on the link the message came from.
    Reply(Message),
    /// Send to one node (on our outbound link to it).
    To(String, Message),
    /// Send to every known node except myself and nodes in handshake.
    Broadcast(Message),
    /// Deliver a PUBLISH locally.
    Deliver { channel: Vec<u8>, message: Vec<u8>, shard: bool },
}

/// This node's header.
pub fn header(g: &ClusterInner) -> Header {
    let me = g.me();
    let master = g.master_of(me);
    Header {
        sender: me.id.clone(),
        ip: me.ip.clone(),
        port: me.port,
        cport: me.cport,
        flags: me.flags & !(flags::MYSELF | flags::PFAIL | flags::FAIL),
        current_epoch: g.current_epoch,
        config_epoch: master.config_epoch,
        repl_offset: me.repl_offset as u64,
        master: me.master.clone(),
        slots: master.slots.clone(),
        state_ok: g.state_ok,
        // Advertise the pause only once it has been in force for a cron tick, so the offset
        // in the same header is final.
        mflags: u8::from(g.mf_paused_until > crate::clock::unix_time_ms() && g.mf_pause_published),
    }
}

/// Gossip about every node but myself and `skip` (small clusters: everybody).
pub fn gossip_entries(g: &ClusterInner, skip: Option<&str>) -> Vec<Gossip> {
    g.nodes
        .values()
        .filter(|n| !n.has(flags::MYSELF) && !n.has(flags::HANDSHAKE) && Some(n.id.as_str()) != skip)
        .map(|n| Gossip {
            id: n.id.clone(),
            ip: n.ip.clone(),
            port: n.port,
            cport: n.cport,
            flags: n.flags,
            ping_sent: n.ping_sent,
            pong_received: n.pong_received,
        })
        .collect()
}

pub fn message(g: &ClusterInner, body: Body) -> Message {
    Message { header: header(g), body }
}
