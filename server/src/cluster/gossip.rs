//! What the bus does with messages, as pure logic over the cluster view (no I/O, so it is unit
//! tested directly): learn nodes, epochs and slot owners from headers, answer PING/MEET with
//! PONG, collect failure reports and mark nodes FAIL on a majority, resolve config-epoch
//! collisions, send UPDATE to nodes with stale slot claims. The periodic [`cron`] pings
//! nodes, flags PFAIL after node-timeout and expires handshakes.

use super::inner::ClusterInner;
use super::message::{Body, Gossip, Header, Message};
use super::node::{flags, Node};
use super::outbox::{gossip_entries, message, Out};
use super::state::ClusterState;

/// Process one received message. `peer_ip` is the link's remote address (used when the
/// sender announces no ip); `link_node` is the node an outbound link was opened to.
pub fn handle(
    cs: &ClusterState,
    g: &mut ClusterInner,
    m: Message,
    peer_ip: &str,
    link_node: Option<&str>,
    now: i64,
) -> Vec<Out> {
    let mut out = Vec::new();
    g.stats.received(m.body.kind());
    let h = &m.header;
    let sender_ip = if h.ip.is_empty() { peer_ip.to_string() } else { h.ip.clone() };
    if h.current_epoch > g.current_epoch {
        g.current_epoch = h.current_epoch;
        g.dirty = true;
    }
    // A PONG on the link we opened for a MEET/handshake names the node: adopt its real id.
    if let (Body::Pong(_), Some(temp)) = (&m.body, link_node) {
        if temp != h.sender && g.nodes.get(temp).is_some_and(|n| n.has(flags::HANDSHAKE)) {
            g.nodes.remove(temp);
            g.dirty = true;
        }
    }
    if !g.nodes.contains_key(&h.sender) && !learn_sender(g, &m, &sender_ip, link_node, now, &mut out) {
        return out;
    }
    update_sender(cs, g, h, &sender_ip, now, &mut out);
    handle_body(cs, g, &m, now, &mut out);
    out
}

/// A message from a node we do not know: learn it (from a MEET, or on a link we opened to it)
/// unless it was forgotten recently. False if the message should be answered (a PING gets
/// its PONG, as in Redis) and otherwise ignored.
fn learn_sender(
    g: &mut ClusterInner,
    m: &Message,
    sender_ip: &str,
    link_node: Option<&str>,
    now: i64,
    out: &mut Vec<Out>,
) -> bool {
    let h = &m.header;
    let learn = matches!(m.body, Body::Meet(_)) || link_node.is_some_and(|l| l != h.sender);
    if !learn || g.blacklist.get(&h.sender).is_some_and(|&until| until > now) {
        if matches!(m.body, Body::Ping(_) | Body::Meet(_)) {
            g.stats.sent("pong");
            out.push(Out::Reply(message(g, Body::Pong(Vec::new()))));
        }
        return false;
    }
    let n = Node::new(
        h.sender.clone(),
        sender_ip.to_string(),
        h.port,
        h.cport,
        h.flags & (flags::MASTER | flags::SLAVE),
        now,
    );
    g.nodes.insert(h.sender.clone(), n);
    g.dirty = true;
    crate::log::notice(&format!("Node {} ({}:{}) added to the cluster", h.sender, sender_ip, h.port));
    true
}

/// What the message's body asks for, once its sender is known and its header applied.
fn handle_body(cs: &ClusterState, g: &mut ClusterInner, m: &Message, now: i64, out: &mut Vec<Out>) {
    let h = &m.header;
    match &m.body {
        Body::Ping(gs) | Body::Meet(gs) => {
            process_gossip(g, &h.sender, gs, now);
            let pong = message(g, Body::Pong(gossip_entries(g, Some(&h.sender))));
            g.stats.sent("pong");
            out.push(Out::Reply(pong));
        }
        Body::Pong(gs) => {
            if let Some(n) = g.nodes.get_mut(&h.sender) {
                n.pong_received = now;
                n.ping_sent = 0;
                if n.has(flags::PFAIL) {
                    n.flags &= !flags::PFAIL;
                    g.dirty = true;
                }
            }
            process_gossip(g, &h.sender, gs, now);
        }
        Body::Fail { id } => {
            if *id != g.myself {
                if let Some(n) = g.nodes.get_mut(id) {
                    if !n.has(flags::FAIL) {
                        n.flags = (n.flags | flags::FAIL) & !flags::PFAIL;
                        n.fail_time = now;
                        g.dirty = true;
                        crate::log::notice(&format!("FAIL message received from {} about {}", h.sender, id));
                    }
                }
            }
        }
        Body::Update { id, config_epoch, slots } => {
            if g.nodes.get(id).is_some_and(|n| n.config_epoch < *config_epoch) {
                if let Some(n) = g.nodes.get_mut(id) {
                    n.config_epoch = *config_epoch;
                }
                claim_slots(g, id, slots, slots.count(), *config_epoch);
            }
        }
        Body::Publish { channel, message } => {
            out.push(Out::Deliver { channel: channel.clone(), message: message.clone(), shard: false })
        }
        Body::PublishShard { channel, message } => {
            out.push(Out::Deliver { channel: channel.clone(), message: message.clone(), shard: true })
        }
        Body::FailoverAuthRequest => {
            if let Some(o) = super::failover::handle_request(cs, g, h, now) {
                out.push(o);
            }
        }
        Body::FailoverAuthAck => super::failover::handle_ack(g, h),
        Body::MfStart => {
            let mine = g.nodes.get(&h.sender).and_then(|n| n.master.clone()) == Some(g.myself.clone());
            if mine && g.me().is_master() {
                g.mf_paused_until = now + cs.config.node_timeout * 2;
                g.mf_pause_published = false;
                g.mf_replica = Some(h.sender.clone());
                crate::log::notice(&format!("Manual failover requested by replica {}: pausing writes", h.sender));
                // The offset the replica must reach is sent by the next cron pings, read after
                // the pause took effect (an immediate reply could carry a stale offset).
            }
        }
    }
}

/// Apply what a known sender's header says about itself.
fn update_sender(cs: &ClusterState, g: &mut ClusterInner, h: &Header, ip: &str, now: i64, out: &mut Vec<Out>) {
    let myself = g.myself.clone();
    let mut role_changed = false;
    {
        let Some(n) = g.nodes.get_mut(&h.sender) else { return };
        n.data_received = now;
        if n.ip != ip || n.port != h.port || n.cport != h.cport {
            n.ip = ip.to_string();
            n.port = h.port;
            n.cport = h.cport;
            g.dirty = true;
        }
        let role = h.flags & (flags::MASTER | flags::SLAVE);
        if n.flags & (flags::MASTER | flags::SLAVE) != role || n.master != h.master {
            n.flags = (n.flags & !(flags::MASTER | flags::SLAVE)) | role;
            n.master = h.master.clone();
            role_changed = true;
        }
        n.repl_offset = h.repl_offset as i64;
        n.mf_paused = h.mflags & 1 != 0;
        if h.flags & flags::NOFAILOVER != n.flags & flags::NOFAILOVER {
            n.flags ^= flags::NOFAILOVER;
        }
        if role & flags::MASTER != 0 && n.config_epoch != h.config_epoch && h.master.is_none() {
            n.config_epoch = h.config_epoch;
            g.dirty = true;
        }
    }
    if role_changed {
        g.dirty = true;
        if h.master.is_some() {
            // A master that became a replica gives up its slots.
            let slots: Vec<u16> = g.nodes[&h.sender].slots.iter().collect();
            for s in slots {
                g.assign_slot(s, None);
            }
        }
    }
    let _ = cs;
    // Only slots claimed beyond those we already give the sender can change anything (none,
    // for every ping of a stable master).
    let new_claims = g.nodes.get(&h.sender).map(|n| h.slots.minus(&n.slots)).filter(|c| !c.is_empty());
    if let (true, Some(new_claims)) = (h.master.is_none() && h.flags & flags::MASTER != 0, new_claims) {
        // Slots claimed with a newer config win; a stale claim gets an UPDATE back.
        claim_slots(g, &h.sender, &new_claims, h.slots.count(), h.config_epoch);
        let newer = new_claims.iter().find_map(|s| {
            let owner = g.owners[s as usize].as_deref().filter(|o| *o != h.sender)?;
            let o = g.nodes.get(owner)?;
            (o.config_epoch > h.config_epoch).then(|| Body::Update {
                id: owner.to_string(),
                config_epoch: o.config_epoch,
                slots: o.slots.clone(),
            })
        });
        if let Some(upd) = newer {
            let m = message(g, upd);
            g.stats.sent("update");
            out.push(Out::Reply(m));
        }
    }
    if h.master.is_none() && h.flags & flags::MASTER != 0 {
        // Config epoch collision between two masters: the smaller id takes a new epoch.
        let me = g.me();
        if me.is_master() && me.config_epoch == h.config_epoch && h.sender.as_str() > myself.as_str() {
            g.current_epoch += 1;
            let e = g.current_epoch;
            g.me_mut().config_epoch = e;
            g.dirty = true;
            crate::log::verbose(&format!("configEpoch collision with node {}: configEpoch set to {e}", h.sender));
        }
    }
}

/// `id` (a master with `config_epoch`, claiming `sender_slots` slots in all) claims `slots`:
/// take those whose owner has an older config (or none), except slots we are importing. If we
/// lose our last slot to it, we become its replica, as Redis 7.0's
/// clusterUpdateSlotsConfigWith: when replica migration is allowed, or when every slot it
/// claims was ours (a failed-over master rejoining); otherwise (our slots were resharded away
/// with `cluster-allow-replica-migration no`) we stay an empty master.
pub fn claim_slots(
    g: &mut ClusterInner,
    id: &str,
    slots: &super::node::SlotSet,
    sender_slots: usize,
    config_epoch: u64,
) {
    let myself = g.myself.clone();
    let had_slots = !g.me().slots.is_empty();
    let mut migrated_ours = 0;
    for s in slots.iter() {
        let owner = g.owners[s as usize].as_deref();
        if owner == Some(id) || g.importing.contains_key(&s) {
            continue;
        }
        let take = match owner.and_then(|o| g.nodes.get(o)) {
            None => true,
            Some(o) => o.config_epoch < config_epoch,
        };
        if take {
            let was_mine = owner == Some(myself.as_str());
            g.assign_slot(s, Some(id));
            if was_mine {
                migrated_ours += 1;
                g.migrating.remove(&s);
            }
        }
    }
    let follow = g.allow_replica_migration || sender_slots == migrated_ours;
    if had_slots && g.me().slots.is_empty() && g.me().is_master() && id != myself && follow {
        crate::log::notice(&format!("Configuration change detected. Reconfiguring myself as a replica of {id}"));
        g.become_replica_of(id);
    }
}

/// Failure reports and new nodes from a gossip section.
fn process_gossip(g: &mut ClusterInner, sender: &str, entries: &[Gossip], now: i64) {
    let sender_is_master = g.nodes.get(sender).is_some_and(|n| n.is_master());
    for e in entries {
        if e.id == g.myself {
            continue;
        }
        if g.nodes.contains_key(&e.id) {
            if sender_is_master {
                let failing = e.flags & (flags::PFAIL | flags::FAIL) != 0;
                let n = g.nodes.get_mut(&e.id).expect("checked");
                n.fail_reports.retain(|(r, _)| r != sender);
                if failing {
                    n.fail_reports.push((sender.to_string(), now));
                }
            }
        } else if e.flags & (flags::HANDSHAKE | flags::NOADDR) == 0
            && g.blacklist.get(&e.id).is_none_or(|&until| until <= now)
            && !e.ip.is_empty()
        {
            let n =
                Node::new(e.id.clone(), e.ip.clone(), e.port, e.cport, e.flags & (flags::MASTER | flags::SLAVE), now);
            g.nodes.insert(e.id.clone(), n);
            g.dirty = true;
        }
    }
}

/// Nodes flagged PFAIL by us whose failure a majority of masters confirm become FAIL;
/// returns the FAIL broadcasts to send.
pub fn check_failures(cs: &ClusterState, g: &mut ClusterInner, now: i64) -> Vec<Out> {
    let validity = cs.config.node_timeout * 2;
    let needed = g.cluster_size() / 2 + 1;
    let me_master = g.me().is_master();
    let mut failed = Vec::new();
    for n in g.nodes.values_mut() {
        n.fail_reports.retain(|(_, t)| now - t <= validity);
        if !n.has(flags::PFAIL) || n.has(flags::FAIL) {
            continue;
        }
        let votes = n.fail_reports.len() + usize::from(me_master);
        if votes >= needed {
            n.flags = (n.flags | flags::FAIL) & !flags::PFAIL;
            n.fail_time = now;
            failed.push(n.id.clone());
        }
    }
    let mut out = Vec::new();
    for id in failed {
        crate::log::notice(&format!("Marking node {id} as failing (quorum reached)."));
        g.dirty = true;
        let m = message(g, Body::Fail { id });
        g.stats.sent("fail");
        out.push(Out::Broadcast(m));
    }
    out
}

/// Clear FAIL on a node that is reachable again: at once for replicas and slot-less masters,
/// after 2 × node-timeout for masters with slots (their replicas had the chance to fail over).
pub fn clear_failures(cs: &ClusterState, g: &mut ClusterInner, now: i64) {
    let undo = cs.config.node_timeout * 2;
    for n in g.nodes.values_mut() {
        if !n.has(flags::FAIL) || n.ping_sent != 0 || n.pong_received < n.fail_time {
            continue;
        }
        if !n.is_master() || n.slots.is_empty() || now - n.fail_time > undo {
            n.flags &= !flags::FAIL;
            g.dirty = true;
            crate::log::notice(&format!("Clear FAIL state for node {}: is reachable again.", n.id));
        }
    }
}

/// Periodic work: returns messages to send.
pub fn cron(
    cs: &ClusterState,
    g: &mut ClusterInner,
    now: i64,
    tick: u64,
    data_age_ms: i64,
    my_offset: i64,
) -> Vec<Out> {
    let timeout = cs.config.node_timeout;
    let handshake_timeout = timeout.max(1000);
    let expired: Vec<String> = g
        .nodes
        .values()
        .filter(|n| n.has(flags::HANDSHAKE) && now - n.created > handshake_timeout)
        .map(|n| n.id.clone())
        .collect();
    for id in expired {
        g.delete_node(&id);
    }
    g.blacklist.retain(|_, until| *until > now);
    let mut to_ping: Vec<String> = Vec::new();
    for n in g.nodes.values_mut() {
        if n.has(flags::MYSELF) || !n.link_connected {
            continue;
        }
        // A ping sent on a link that died is never answered: keep pinging every second
        // while one is pending (ping_sent keeps the first unanswered ping, for PFAIL).
        let due = now - n.pong_received > timeout / 2 || n.has(flags::HANDSHAKE) || tick.is_multiple_of(10);
        if (n.ping_sent == 0 && due) || (n.ping_sent != 0 && tick.is_multiple_of(5)) {
            to_ping.push(n.id.clone());
        }
        if n.ping_sent != 0 && now - n.ping_sent > timeout && !n.has(flags::PFAIL) && !n.has(flags::FAIL) {
            n.flags |= flags::PFAIL;
            crate::log::notice(&format!("*** NODE {} possibly failing", n.id));
        }
    }
    // Nodes we cannot even connect to time out too.
    for n in g.nodes.values_mut() {
        if !n.has(flags::MYSELF) && !n.link_connected && !n.has(flags::HANDSHAKE) {
            let last = n.pong_received.max(n.created);
            if now - last > timeout && !n.has(flags::PFAIL) && !n.has(flags::FAIL) {
                n.flags |= flags::PFAIL;
            }
        }
    }
    if g.mf_paused_until > now {
        if let Some(r) = g.mf_replica.clone() {
            if !to_ping.contains(&r) {
                to_ping.push(r);
            }
        }
    } else if g.mf_replica.take().is_some() {
        g.mf_paused_until = 0;
    }
    let mut out = Vec::new();
    for id in to_ping {
        let is_meet = g.nodes[&id].has(flags::MEET);
        let body =
            if is_meet { Body::Meet(gossip_entries(g, Some(&id))) } else { Body::Ping(gossip_entries(g, Some(&id))) };
        g.stats.sent(body.kind());
        let m = message(g, body);
        if let Some(n) = g.nodes.get_mut(&id) {
            if n.ping_sent == 0 {
                n.ping_sent = now;
            }
        }
        out.push(Out::To(id, m));
    }
    out.extend(check_failures(cs, g, now));
    clear_failures(cs, g, now);
    out.extend(super::failover::cron(cs, g, now, data_age_ms, my_offset));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::node::SlotSet;
    use hashbrown::HashMap;
    use slotbox_protocol::SLOT_COUNT;

    /// This node ("a", a master owning slot 0, epoch 1) and master "b" (slot 1, epoch 1).
    fn view(allow_migration: bool) -> ClusterInner {
        let mut nodes = HashMap::new();
        for (id, port) in [("a", 7000), ("b", 7001)] {
            let f = flags::MASTER | if id == "a" { flags::MYSELF } else { 0 };
            let mut n = Node::new(id.into(), "127.0.0.1".into(), port, port + 10000, f, 0);
            n.config_epoch = 1;
            nodes.insert(id.to_string(), n);
        }
        let mut owners = vec![None; SLOT_COUNT];
        owners[0] = Some("a".to_string());
        owners[1] = Some("b".to_string());
        nodes.get_mut("a").unwrap().slots.set(0);
        nodes.get_mut("b").unwrap().slots.set(1);
        let mut g = ClusterInner::new("a".into(), nodes, owners, HashMap::new(), HashMap::new(), 1, 0);
        g.allow_replica_migration = allow_migration;
        g
    }

    fn claim(g: &mut ClusterInner, slots: &[u16]) {
        let mut set = SlotSet::default();
        slots.iter().for_each(|&s| set.set(s));
        claim_slots(g, "b", &set, set.count(), 2);
    }

    #[test]
    fn losing_the_last_slot_follows_redis_replica_migration_rules() {
        // Resharded away (b keeps its own slot too): with migration allowed we follow b...
        let mut g = view(true);
        claim(&mut g, &[0, 1]);
        assert_eq!(g.owners[0].as_deref(), Some("b"));
        assert_eq!(g.me().master.as_deref(), Some("b"));
        // ...with `cluster-allow-replica-migration no` we stay an empty master.
        let mut g = view(false);
        claim(&mut g, &[0, 1]);
        assert_eq!(g.owners[0].as_deref(), Some("b"));
        assert!(g.me().is_master() && g.me().master.is_none());
        // Every slot b claims was ours (a failover took them): we follow even then.
        let mut g = view(false);
        g.assign_slot(1, Some("a"));
        claim(&mut g, &[0, 1]);
        assert_eq!(g.me().master.as_deref(), Some("b"));
    }
}
