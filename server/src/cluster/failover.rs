//! Replica promotion, as Redis Cluster does it. A replica whose master is FAIL waits a
//! rank-based delay (better-synced replicas go first), bumps `currentEpoch` and asks the
//! masters for votes; each master grants one vote per epoch (and one per failed master within
//! 2 × node-timeout) when the slots claimed are not newer elsewhere. With a majority the
//! replica takes its master's slots with `configEpoch = election epoch` and tells everyone.
//! CLUSTER FAILOVER FORCE starts an election at once; TAKEOVER skips the vote.

use super::inner::{ClusterInner, Election};
use super::message::{Body, Header};
use super::node::flags;
use super::outbox::{message, Out};
use super::state::ClusterState;

fn timeouts(cs: &ClusterState) -> (i64, i64) {
    let auth_timeout = (cs.config.node_timeout * 2).max(2000);
    (auth_timeout, auth_timeout * 2)
}

/// A master decides on a vote request.
pub fn handle_request(cs: &ClusterState, g: &mut ClusterInner, h: &Header, now: i64) -> Option<Out> {
    let me = g.me();
    if !me.is_master() || me.slots.is_empty() {
        return None;
    }
    let requester = g.nodes.get(&h.sender)?;
    let master_id = requester.master.clone().or_else(|| h.master.clone())?;
    let master = g.nodes.get(&master_id)?;
    let force = h.mflags & 2 != 0;
    if !force && !master.has(flags::FAIL) {
        return None;
    }
    if h.current_epoch < g.current_epoch || g.last_vote_epoch >= h.current_epoch {
        return None;
    }
    let (auth_timeout, _) = timeouts(cs);
    if g.voted.get(&master_id).is_some_and(|&t| now - t < auth_timeout) {
        return None;
    }
    for s in h.slots.iter() {
        let newer =
            g.owners[s as usize].as_ref().and_then(|o| g.nodes.get(o)).is_some_and(|o| o.config_epoch > h.config_epoch);
        if newer {
            return None;
        }
    }
    g.last_vote_epoch = h.current_epoch;
    g.voted.insert(master_id.clone(), now);
    g.dirty = true;
    crate::log::notice(&format!("Failover auth granted to {} for epoch {}", h.sender, h.current_epoch));
    g.stats.sent("auth-ack");
    Some(Out::To(h.sender.clone(), message(g, Body::FailoverAuthAck)))
}

/// A replica counts a vote.
pub fn handle_ack(g: &mut ClusterInner, h: &Header) {
    let from_master = g.nodes.get(&h.sender).is_some_and(|n| n.is_master() && !n.slots.is_empty());
    if from_master && g.election.sent && h.current_epoch >= g.election.epoch {
        g.election.votes += 1;
    }
}

/// This replica's rank: how many replicas of the same master have a better offset.
fn rank(g: &ClusterInner, my_offset: i64) -> i64 {
    let me = g.me();
    let Some(master) = &me.master else { return 0 };
    g.replicas_of(master).iter().filter(|r| r.id != me.id && r.repl_offset > my_offset).count() as i64
}

/// Take the master's slots now (won election or TAKEOVER). Returns the broadcast.
pub fn promote(g: &mut ClusterInner, epoch: u64) -> Out {
    let old_master = g.me().master.clone().unwrap_or_default();
    let slots: Vec<u16> = g.nodes.get(&old_master).map(|n| n.slots.iter().collect()).unwrap_or_default();
    let me_id = g.myself.clone();
    {
        let me = g.me_mut();
        me.flags = (me.flags & !flags::SLAVE) | flags::MASTER;
        me.master = None;
        me.config_epoch = epoch;
    }
    for s in slots {
        g.assign_slot(s, Some(&me_id));
    }
    if let Some(old) = g.nodes.get_mut(&old_master) {
        old.flags = (old.flags & !flags::MASTER) | flags::SLAVE;
        old.master = Some(me_id.clone());
    }
    g.election = Election::default();
    g.dirty = true;
    crate::log::notice(&format!("Failover election won: I'm the new master (configEpoch {epoch})."));
    g.stats.sent("pong");
    Out::Broadcast(message(g, Body::Pong(Vec::new())))
}

/// Replica side of the periodic work. `data_age_ms`: how long the master link has been down.
pub fn cron(cs: &ClusterState, g: &mut ClusterInner, now: i64, data_age_ms: i64, my_offset: i64) -> Vec<Out> {
    let me = g.me();
    let Some(master_id) = me.master.clone() else { return Vec::new() };
    let Some(master) = g.nodes.get(&master_id) else { return Vec::new() };
    let manual = g.election.force;
    let failing = master.has(flags::FAIL) && !master.slots.is_empty();
    if !manual && (!failing || cs.config.replica_no_failover) {
        g.election = Election::default();
        return Vec::new();
    }
    let factor = cs.config.replica_validity_factor as i64;
    if !manual && factor > 0 && data_age_ms > cs.config.node_timeout * factor + 10_000 {
        return Vec::new();
    }
    let (auth_timeout, retry) = timeouts(cs);
    if g.election.mf_deadline != 0 && now > g.election.mf_deadline {
        crate::log::notice("Manual failover timed out.");
        g.election = Election::default();
        return Vec::new();
    }
    if g.election.mf_wait_until != 0 {
        if master.mf_paused && my_offset >= master.repl_offset {
            crate::log::notice("All master replication stream processed, manual failover can start.");
            g.election.mf_wait_until = 0;
            g.election.auth_time = now;
        } else if now > g.election.mf_wait_until {
            crate::log::notice("Manual failover timed out.");
            g.election = Election::default();
        }
        return Vec::new();
    }
    if g.election.auth_time == 0 || (!manual && now - g.election.auth_time > retry) {
        let delay = if manual { 0 } else { 500 + (crate::rand::below(500) as i64) + rank(g, my_offset) * 1000 };
        g.election = Election { auth_time: now + delay, force: manual, ..Election::default() };
        return Vec::new();
    }
    if now < g.election.auth_time {
        return Vec::new();
    }
    if now - g.election.auth_time > auth_timeout {
        if manual {
            g.election = Election::default();
        }
        return Vec::new();
    }
    let mut out = Vec::new();
    if !g.election.sent {
        g.current_epoch += 1;
        g.election.epoch = g.current_epoch;
        g.election.sent = true;
        g.dirty = true;
        let mut m = message(g, Body::FailoverAuthRequest);
        if g.election.force {
            m.header.mflags |= 2;
        }
        g.stats.sent("auth-req");
        crate::log::notice(&format!(
            "Starting a failover election for epoch {} (me {}, master {master_id}, force {}).",
            g.election.epoch, g.myself, g.election.force
        ));
        out.push(Out::Broadcast(m));
        return out;
    }
    let needed = g.cluster_size() / 2 + 1;
    if g.election.votes >= needed {
        let epoch = g.election.epoch;
        out.push(promote(g, epoch));
    }
    out
}
