//! The operations behind the CLUSTER commands, on [`ClusterState`]: slot assignment, MEET,
//! FORGET, REPLICATE, SETSLOT, epochs, RESET, and the text of CLUSTER INFO / NODES. Errors
//! are Redis's texts (without the leading '-'). Every change is committed (persisted and
//! published) before returning.

use super::bus_handle::BusCmd;
use super::message::Body;
use super::node::{flags, valid_node_id, Node};
use super::state::{ClusterInner, ClusterState};
use slotbox_protocol::SLOT_COUNT;

pub type OpResult<T> = Result<T, String>;

/// Subcommand of CLUSTER SETSLOT.
pub enum SetSlot {
    Importing(String),
    Migrating(String),
    Node(String),
    Stable,
}

impl ClusterState {
    fn change<T>(&self, f: impl FnOnce(&mut ClusterInner) -> OpResult<T>) -> OpResult<T> {
        let mut g = self.lock();
        let r = f(&mut g);
        self.commit(&mut g);
        r
    }

    /// The bus, for commands that must tell other nodes (set by the server at start).
    pub fn bus_send(&self, cmd: BusCmd) {
        if let Some(b) = self.bus.get() {
            b.send(cmd);
        }
    }

    pub fn add_slots(&self, slots: &[u16]) -> OpResult<()> {
        self.change(|g| {
            let mut seen = vec![false; SLOT_COUNT];
            for &s in slots {
                if g.owners[s as usize].is_some() {
                    return Err(format!("ERR Slot {s} is already busy"));
                }
                if std::mem::replace(&mut seen[s as usize], true) {
                    return Err(format!("ERR Slot {s} specified multiple times"));
                }
            }
            let me = g.myself.clone();
            for &s in slots {
                g.importing.remove(&s);
                g.assign_slot(s, Some(&me));
            }
            Ok(())
        })
    }

    pub fn del_slots(&self, slots: &[u16]) -> OpResult<()> {
        self.change(|g| {
            let mut seen = vec![false; SLOT_COUNT];
            for &s in slots {
                if g.owners[s as usize].is_none() {
                    return Err(format!("ERR Slot {s} is already unassigned"));
                }
                if std::mem::replace(&mut seen[s as usize], true) {
                    return Err(format!("ERR Slot {s} specified multiple times"));
                }
            }
            for &s in slots {
                g.assign_slot(s, None);
                g.migrating.remove(&s);
                g.importing.remove(&s);
            }
            Ok(())
        })
    }

    /// Unassign every slot of this node (the caller checked the keyspace is empty).
    pub fn flush_slots(&self) {
        let _ = self.change(|g| {
            let mine: Vec<u16> = g.me().slots.iter().collect();
            for s in mine {
                g.assign_slot(s, None);
            }
            Ok(())
        });
    }

    /// Start a handshake with ip:port (bus port `cport`).
    pub fn meet(&self, ip: &str, port: u16, cport: u16) -> OpResult<()> {
        let parsed: Result<std::net::IpAddr, _> = ip.parse();
        if parsed.is_err() || port == 0 {
            return Err(format!("ERR Invalid node address specified: {ip}:{port}"));
        }
        let now = crate::clock::unix_time_ms();
        self.change(|g| {
            let already = g.nodes.values().any(|n| n.ip == ip && n.port == port && n.has(flags::HANDSHAKE));
            if !already {
                let id = crate::rand::random_hex(40);
                let n = Node::new(id.clone(), ip.to_string(), port, cport, flags::HANDSHAKE | flags::MEET, now);
                g.nodes.insert(id, n);
            }
            Ok(())
        })?;
        self.bus_send(BusCmd::Wake);
        Ok(())
    }

    pub fn forget(&self, id: &str) -> OpResult<()> {
        let now = crate::clock::unix_time_ms();
        self.change(|g| {
            if !g.nodes.contains_key(id) {
                return Err(format!("ERR Unknown node {id}"));
            }
            if id == g.myself {
                return Err("ERR I tried hard but I can't forget myself...".into());
            }
            if g.me().master.as_deref() == Some(id) {
                return Err("ERR Can't forget my master!".into());
            }
            g.blacklist.insert(id.to_string(), now + 60_000);
            g.delete_node(id);
            Ok(())
        })
    }

    /// Become a replica of `id`. `db_empty` tells whether this node holds keys.
    pub fn replicate(&self, id: &str, db_empty: bool) -> OpResult<()> {
        self.change(|g| {
            let Some(target) = g.nodes.get(id) else {
                return Err(format!("ERR Unknown node {id}"));
            };
            if id == g.myself {
                return Err("ERR Can't replicate myself".into());
            }
            if !target.is_master() {
                return Err("ERR I can only replicate a master, not a replica.".into());
            }
            let me = g.me();
            if me.is_master() && (!me.slots.is_empty() || !db_empty) {
                return Err("ERR To set a master the node must be empty and without assigned slots.".into());
            }
            g.become_replica_of(id);
            Ok(())
        })
    }

    /// CLUSTER SETSLOT. `keys_in_slot` is how many keys this node holds in the slot.
    pub fn set_slot(&self, slot: u16, op: SetSlot, keys_in_slot: usize) -> OpResult<()> {
        let bump = self.change(|g| {
            if g.me().has(flags::SLAVE) {
                return Err("ERR Please use SETSLOT only with masters.".into());
            }
            let me = g.myself.clone();
            let known_master = |g: &ClusterInner, id: &str| -> OpResult<()> {
                match g.nodes.get(id) {
                    None => Err(format!("ERR I don't know about node {id}")),
                    Some(n) if !n.is_master() => Err("ERR Target node is not a master".into()),
                    Some(_) => Ok(()),
                }
            };
            match op {
                SetSlot::Migrating(id) => {
                    if g.owners[slot as usize].as_deref() != Some(me.as_str()) {
                        return Err(format!("ERR I'm not the owner of hash slot {slot}"));
                    }
                    known_master(g, &id)?;
                    g.migrating.insert(slot, id);
                }
                SetSlot::Importing(id) => {
                    if g.owners[slot as usize].as_deref() == Some(me.as_str()) {
                        return Err(format!("ERR I'm already the owner of hash slot {slot}"));
                    }
                    known_master(g, &id)?;
                    g.importing.insert(slot, id);
                }
                SetSlot::Stable => {
                    g.migrating.remove(&slot);
                    g.importing.remove(&slot);
                }
                SetSlot::Node(id) => {
                    let Some(target) = g.nodes.get(&id) else {
                        return Err(format!("ERR Unknown node {id}"));
                    };
                    if target.has(flags::SLAVE) {
                        return Err("ERR Target node is not a master".into());
                    }
                    if g.owners[slot as usize].as_deref() == Some(me.as_str()) && id != me && keys_in_slot > 0 {
                        return Err(format!(
                            "ERR Can't assign hashslot {slot} to a different node while I still hold keys for this hash slot."
                        ));
                    }
                    if keys_in_slot == 0 && g.migrating.get(&slot).is_some() {
                        g.migrating.remove(&slot);
                    }
                    let importing = id == me && g.importing.remove(&slot).is_some();
                    g.assign_slot(slot, Some(&id));
                    g.dirty = true;
                    if importing {
                        // Importing finished: take the slot with a fresh epoch so the rest of
                        // the cluster prefers our claim. Under the same lock as the
                        // assignment: a stale claim of the old owner handled in between would
                        // otherwise win against our old epoch and take the slot back.
                        g.bump_config_epoch();
                    }
                    return Ok(importing);
                }
            }
            g.dirty = true;
            Ok(false)
        })?;
        if bump {
            self.broadcast_pong();
        }
        Ok(())
    }

    /// Tell every node about our configuration now.
    pub fn broadcast_pong(&self) {
        let m = {
            let mut g = self.lock();
            g.stats.sent("pong");
            super::outbox::message(&g, Body::Pong(Vec::new()))
        };
        self.bus_send(BusCmd::Broadcast(m));
    }

    pub fn set_config_epoch(&self, epoch: u64) -> OpResult<()> {
        self.change(|g| {
            if g.nodes.len() > 1 {
                return Err(
                    "ERR The user can assign a config epoch only when the node does not know any other node.".into()
                );
            }
            if g.me().config_epoch != 0 {
                return Err("ERR Node config epoch is already non-zero".into());
            }
            g.me_mut().config_epoch = epoch;
            if g.current_epoch < epoch {
                g.current_epoch = epoch;
            }
            g.dirty = true;
            Ok(())
        })
    }

    /// CLUSTER BUMPEPOCH: "BUMPED n" or "STILL n".
    /// A new epoch is broadcast at once: a node that bumps from a stale view of the epochs
    /// (the next SETSLOT NODE elsewhere) would otherwise collide with it.
    pub fn bump_epoch(&self) -> String {
        let (reply, bumped) = self
            .change(|g| {
                Ok(match g.bump_config_epoch() {
                    Some(e) => (format!("BUMPED {e}"), true),
                    None => (format!("STILL {}", g.me().config_epoch), false),
                })
            })
            .unwrap_or_default();
        if bumped {
            self.broadcast_pong();
        }
        reply
    }

    pub fn count_failure_reports(&self, id: &str) -> OpResult<usize> {
        let g = self.lock();
        let validity = self.config.node_timeout * 2;
        let now = crate::clock::unix_time_ms();
        match g.nodes.get(id) {
            None => Err(format!("ERR Unknown node {id}")),
            Some(n) => Ok(n.fail_reports.iter().filter(|(_, t)| now - t <= validity).count()),
        }
    }

    /// CLUSTER RESET. The caller checked a master's keyspace is empty.
    pub fn reset(&self, hard: bool) {
        let _ = self.change(|g| {
            let me = g.myself.clone();
            let others: Vec<String> = g.nodes.keys().filter(|id| **id != me).cloned().collect();
            for id in others {
                g.delete_node(&id);
            }
            for s in 0..SLOT_COUNT as u16 {
                g.assign_slot(s, None);
            }
            g.migrating.clear();
            g.importing.clear();
            let n = g.me_mut();
            n.flags = flags::MYSELF | flags::MASTER;
            n.master = None;
            if hard {
                n.config_epoch = 0;
                g.current_epoch = 0;
                g.last_vote_epoch = 0;
                let new_id = crate::rand::random_hex(40);
                let mut node = g.nodes.remove(&me).expect("myself");
                node.id = new_id.clone();
                g.nodes.insert(new_id.clone(), node);
                g.myself = new_id;
            }
            g.dirty = true;
            Ok(())
        });
    }

    /// Force a nodes.conf write.
    pub fn save_config(&self) -> OpResult<()> {
        let g = self.lock();
        super::nodes_conf::save(&self.config.config_file, &g)
            .map_err(|e| format!("ERR error saving the cluster node config: {e}"))
    }

    /// CLUSTER NODES text.
    pub fn nodes_text(&self) -> String {
        super::nodes_conf::nodes_text(&self.lock())
    }

    /// CLUSTER INFO text.
    pub fn info_text(&self) -> String {
        let g = self.lock();
        let mut assigned = 0;
        let (mut pfail, mut fail) = (0, 0);
        // Owners come in runs of slots: look each run's node up once (16384 map lookups
        // made CLUSTER INFO cost ~300 µs).
        let mut last = None;
        for o in g.owners.iter().flatten() {
            assigned += 1;
            let (failed, pfailed) = match last {
                Some((id, st)) if id == o => st,
                _ => {
                    let st = g.nodes.get(o).map_or((false, false), |n| (n.has(flags::FAIL), n.has(flags::PFAIL)));
                    last = Some((o, st));
                    st
                }
            };
            if failed {
                fail += 1;
            } else if pfailed {
                pfail += 1;
            }
        }
        let me = g.me();
        let my_epoch = g.master_of(me).config_epoch;
        let mut out = format!(
            "cluster_state:{}\r\ncluster_slots_assigned:{}\r\ncluster_slots_ok:{}\r\ncluster_slots_pfail:{}\r\ncluster_slots_fail:{}\r\ncluster_known_nodes:{}\r\ncluster_size:{}\r\ncluster_current_epoch:{}\r\ncluster_my_epoch:{}\r\n",
            if g.state_ok { "ok" } else { "fail" },
            assigned,
            assigned - pfail - fail,
            pfail,
            fail,
            g.nodes.len(),
            g.cluster_size(),
            g.current_epoch,
            my_epoch
        );
        const ORDER: [&str; 11] = [
            "ping",
            "pong",
            "meet",
            "fail",
            "publish",
            "auth-req",
            "auth-ack",
            "update",
            "mfstart",
            "module",
            "publishshard",
        ];
        for (list, dir) in [(&g.stats.sent, "sent"), (&g.stats.received, "received")] {
            let mut total = 0;
            for kind in ORDER {
                if let Some((_, n)) = list.iter().find(|(k, _)| *k == kind) {
                    out.push_str(&format!("cluster_stats_messages_{kind}_{dir}:{n}\r\n"));
                    total += n;
                }
            }
            out.push_str(&format!("cluster_stats_messages_{dir}:{total}\r\n"));
        }
        out.push_str("total_cluster_links_buffer_limit_exceeded:0\r\n");
        out
    }
}

/// Parse a node id argument.
pub fn node_id_arg(arg: &[u8]) -> Option<String> {
    valid_node_id(arg).then(|| String::from_utf8_lossy(arg).into_owned())
}

impl ClusterState {
    /// Send a PUBLISH to every other node (or, for SPUBLISH, to the other nodes of this
    /// node's shard), as Redis propagates pub/sub over the bus.
    pub fn propagate_publish(&self, channel: &[u8], message: &[u8], shard: bool) {
        let (m, shard_nodes) = {
            let mut g = self.lock();
            let body = if shard {
                Body::PublishShard { channel: channel.to_vec(), message: message.to_vec() }
            } else {
                Body::Publish { channel: channel.to_vec(), message: message.to_vec() }
            };
            g.stats.sent(body.kind());
            let m = super::outbox::message(&g, body);
            let master = g.master_of(g.me()).id.clone();
            let mut ids: Vec<String> = g.replicas_of(&master).iter().map(|n| n.id.clone()).collect();
            ids.push(master);
            ids.retain(|id| *id != g.myself);
            (m, ids)
        };
        if shard {
            for id in shard_nodes {
                self.bus_send(BusCmd::Send(id, m.clone()));
            }
        } else {
            self.bus_send(BusCmd::Broadcast(m));
        }
    }
}

impl ClusterState {
    /// Make replication follow the cluster role: replicate our master (CLUSTER REPLICATE, or
    /// a failed-over master rejoining), or stop replicating once promoted.
    pub fn sync_replication(&self, repl: &std::sync::Arc<crate::repl::Replication>) {
        let target = {
            let g = self.lock();
            match &g.me().master {
                None => None,
                Some(m) => match g.nodes.get(m) {
                    Some(n) if !n.ip.is_empty() => Some((n.ip.clone(), n.port)),
                    _ => return,
                },
            }
        };
        let current = repl.master.lock().as_ref().map(|l| (l.host.clone(), l.port));
        if target != current {
            crate::repl::replica::set_master(repl, target);
        }
    }

    /// CLUSTER FAILOVER [FORCE|TAKEOVER] on a replica.
    pub fn manual_failover(&self, mode: Option<&str>) -> OpResult<()> {
        let out = self.change(|g| {
            if g.me().master.is_none() {
                return Err("ERR You should send CLUSTER FAILOVER to a replica".into());
            }
            let master = g.me().master.clone().unwrap_or_default();
            if !g.nodes.contains_key(&master) {
                return Err("ERR I'm a replica but my master is unknown to me".into());
            }
            match mode {
                Some("takeover") => {
                    g.current_epoch += 1;
                    let e = g.current_epoch;
                    Ok(Some(super::failover::promote(g, e)))
                }
                Some(_) => {
                    g.election = super::inner::Election { force: true, ..Default::default() };
                    Ok(None)
                }
                None => {
                    if g.nodes[&master].has(flags::FAIL) {
                        return Err("ERR Master is down or failed, please use CLUSTER FAILOVER FORCE".into());
                    }
                    let now = crate::clock::unix_time_ms();
                    let pause = self.config.node_timeout * 2;
                    g.election = super::inner::Election {
                        force: true,
                        mf_wait_until: now + pause,
                        mf_deadline: now + pause - pause / 4,
                        ..Default::default()
                    };
                    g.stats.sent("mfstart");
                    Ok(Some(super::outbox::Out::To(master, super::outbox::message(g, Body::MfStart))))
                }
            }
        })?;
        match out {
            Some(super::outbox::Out::Broadcast(m)) => self.bus_send(BusCmd::Broadcast(m)),
            Some(super::outbox::Out::To(id, m)) => self.bus_send(BusCmd::Send(id, m)),
            _ => {}
        }
        Ok(())
    }
}
