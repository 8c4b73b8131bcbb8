//! Agreeing that a master is down and who fails it over: ODOWN from the other sentinels'
//! answers (quorum), the IS-MASTER-DOWN-BY-ADDR questions, and the leader vote per epoch
//! (Redis's `sentinelVoteLeader` / `sentinelGetLeader`).

use super::instance::*;
use super::link::Pending;
use super::state::{Level, Loc, Sentinel};
use std::collections::HashMap;

impl Sentinel {
    pub fn check_objectively_down(&mut self, m: usize) {
        let master = &self.masters[m];
        let mut quorum = 0u32;
        let mut odown = false;
        if master.inst.has(S_DOWN) {
            quorum = 1 + master.sentinels.iter().filter(|s| s.has(MASTER_DOWN)).count() as u32;
            odown = quorum >= master.quorum;
        }
        if odown {
            if !master.inst.has(O_DOWN) {
                let extra = format!(" #quorum {quorum}/{}", master.quorum);
                self.event_at(Level::Warning, "+odown", Loc::master(m), &extra);
                let master = &mut self.masters[m];
                master.inst.flags |= O_DOWN;
                master.inst.o_down_since = mstime();
            }
        } else if master.inst.has(O_DOWN) {
            self.event_at(Level::Warning, "-odown", Loc::master(m), "");
            self.masters[m].inst.flags &= !O_DOWN;
        }
    }

    /// Ask every other sentinel whether it sees master `m` down (and, once we try a
    /// failover, for its vote). `forced` skips the once-a-second limit.
    pub fn ask_other_sentinels(&mut self, m: usize, forced: bool) {
        let now = mstime();
        let epoch = self.current_epoch.to_string();
        let master = &mut self.masters[m];
        let sdown = master.inst.has(S_DOWN);
        let ip = master.inst.addr.ip.clone();
        let port = master.inst.addr.port.to_string();
        let runid = if master.failover_state > FailoverState::None { self.myid.clone() } else { "*".to_string() };
        for si in &mut master.sentinels {
            if now - si.last_master_down_reply_time > ASK_PERIOD * 5 {
                si.flags &= !MASTER_DOWN;
                si.leader = None;
            }
            if !sdown || si.link.disconnected() {
                continue;
            }
            if !forced && now - si.last_master_down_reply_time < ASK_PERIOD {
                continue;
            }
            if let Some(cc) = si.link.cc.as_mut() {
                let args: [&[u8]; 6] = [
                    b"SENTINEL",
                    b"is-master-down-by-addr",
                    ip.as_bytes(),
                    port.as_bytes(),
                    epoch.as_bytes(),
                    runid.as_bytes(),
                ];
                cc.command(&args, Pending::IsMasterDown);
            }
        }
    }

    /// Vote for `req_runid` as the leader of epoch `req_epoch` unless we already voted in it;
    /// returns our vote (leader, epoch).
    pub fn vote_leader(&mut self, m: usize, req_epoch: u64, req_runid: &str) -> (Option<String>, u64) {
        self.observe_epoch(req_epoch);
        let master = &mut self.masters[m];
        if master.inst.leader_epoch < req_epoch && self.current_epoch <= req_epoch {
            master.inst.leader = Some(req_runid.to_string());
            master.inst.leader_epoch = self.current_epoch;
            self.config_dirty = true;
            let msg = format!("{req_runid} {}", self.current_epoch);
            if !req_runid.eq_ignore_ascii_case(&self.myid) {
                self.masters[m].failover_start_time = mstime() + (crate::rand::next_u64() % MAX_DESYNC as u64) as i64;
            }
            self.event(Level::Warning, "+vote-for-leader", msg);
        }
        let master = &self.masters[m];
        (master.inst.leader.clone(), master.inst.leader_epoch)
    }

    /// The leader of `epoch` if one has a majority of the known sentinels and the quorum.
    pub fn get_leader(&mut self, m: usize, epoch: u64) -> Option<String> {
        let master = &self.masters[m];
        let voters = master.sentinels.len() as u64 + 1;
        let mut counters: HashMap<String, u64> = HashMap::new();
        for si in &master.sentinels {
            if let Some(l) = &si.leader {
                if si.leader_epoch == self.current_epoch {
                    *counters.entry(l.clone()).or_default() += 1;
                }
            }
        }
        let mut winner: Option<String> = None;
        let mut max_votes = 0;
        for (l, v) in &counters {
            if *v > max_votes {
                max_votes = *v;
                winner = Some(l.clone());
            }
        }
        let candidate = winner.clone().unwrap_or_else(|| self.myid.clone());
        let (myvote, leader_epoch) = self.vote_leader(m, epoch, &candidate);
        if let Some(v) = myvote {
            if leader_epoch == epoch {
                let votes = counters.get(&v).copied().unwrap_or(0) + 1;
                if votes > max_votes {
                    max_votes = votes;
                    winner = Some(v);
                }
            }
        }
        let quorum = self.masters[m].quorum as u64;
        let voters_quorum = voters / 2 + 1;
        winner.filter(|_| max_votes >= voters_quorum && max_votes >= quorum)
    }
}
