//! The failover state machine of a master (Redis's `sentinelFailover*`): wait for the
//! election, pick the best replica, `REPLICAOF NO ONE` it, point the other replicas at it
//! `parallel-syncs` at a time, then switch the master's address (`+switch-master`).

use super::instance::*;
use super::link::Pending;
use super::state::{Level, Loc, Sentinel, Which, SIMFAILURE_CRASH_AFTER_ELECTION};

impl Sentinel {
    pub fn start_failover_if_needed(&mut self, m: usize) -> bool {
        let master = &mut self.masters[m];
        if !master.inst.has(O_DOWN) || master.inst.has(FAILOVER_IN_PROGRESS) {
            return false;
        }
        if mstime() - master.failover_start_time < master.failover_timeout * 2 {
            if master.failover_delay_logged != master.failover_start_time {
                master.failover_delay_logged = master.failover_start_time;
                let at = (master.failover_start_time + master.failover_timeout * 2) / 1000;
                crate::log::warning(&format!("Next failover delay: I will not start a failover before unix time {at}"));
            }
            return false;
        }
        self.start_failover(m);
        true
    }

    pub fn start_failover(&mut self, m: usize) {
        self.current_epoch += 1;
        let epoch = self.current_epoch;
        let master = &mut self.masters[m];
        master.failover_state = FailoverState::WaitStart;
        master.inst.flags |= FAILOVER_IN_PROGRESS;
        master.failover_epoch = epoch;
        self.config_dirty = true;
        self.event(Level::Warning, "+new-epoch", epoch.to_string());
        self.event_at(Level::Warning, "+try-failover", Loc::master(m), "");
        let master = &mut self.masters[m];
        master.failover_start_time = mstime() + (crate::rand::next_u64() % MAX_DESYNC as u64) as i64;
        master.failover_state_change_time = mstime();
    }

    pub fn failover_state_machine(&mut self, m: usize) {
        if !self.masters[m].inst.has(FAILOVER_IN_PROGRESS) {
            return;
        }
        match self.masters[m].failover_state {
            FailoverState::WaitStart => self.failover_wait_start(m),
            FailoverState::SelectSlave => self.failover_select_slave(m),
            FailoverState::SendSlaveofNoOne => self.failover_send_slaveof_noone(m),
            FailoverState::WaitPromotion => {
                let master = &self.masters[m];
                if mstime() - master.failover_state_change_time > master.failover_timeout {
                    self.event_at(Level::Warning, "-failover-abort-slave-timeout", Loc::master(m), "");
                    self.abort_failover(m);
                }
            }
            FailoverState::ReconfSlaves => self.reconf_next_slave(m),
            FailoverState::None | FailoverState::UpdateConfig => {}
        }
    }

    fn set_state(&mut self, m: usize, st: FailoverState) {
        self.masters[m].failover_state = st;
        self.masters[m].failover_state_change_time = mstime();
    }

    fn failover_wait_start(&mut self, m: usize) {
        let epoch = self.masters[m].failover_epoch;
        let leader = self.get_leader(m, epoch);
        let is_leader = leader.as_deref().is_some_and(|l| l.eq_ignore_ascii_case(&self.myid));
        let master = &self.masters[m];
        if !is_leader && !master.inst.has(FORCE_FAILOVER) {
            let election_timeout = ELECTION_TIMEOUT.min(master.failover_timeout);
            if mstime() - master.failover_start_time > election_timeout {
                self.event_at(Level::Warning, "-failover-abort-not-elected", Loc::master(m), "");
                self.abort_failover(m);
            }
            return;
        }
        self.event_at(Level::Warning, "+elected-leader", Loc::master(m), "");
        if self.simfailure_flags & SIMFAILURE_CRASH_AFTER_ELECTION != 0 {
            crate::log::warning("Sentinel CRASH because of SENTINEL simulate-failure");
            std::process::exit(99);
        }
        self.set_state(m, FailoverState::SelectSlave);
        self.event_at(Level::Warning, "+failover-state-select-slave", Loc::master(m), "");
    }

    /// Redis's `sentinelSelectSlave`: a replica that is up, recently heard from, with a
    /// nonzero priority and not cut off too long; the lowest priority, then the largest
    /// offset, then the smallest run id.
    pub fn select_slave(&self, m: usize) -> Option<usize> {
        let now = mstime();
        let master = &self.masters[m];
        let mut max_down = master.down_after * 10;
        if master.inst.has(S_DOWN) {
            max_down += now - master.inst.s_down_since;
        }
        let validity = if master.inst.has(S_DOWN) { PING_PERIOD * 5 } else { INFO_PERIOD * 3 };
        let mut ok: Vec<usize> = (0..master.replicas.len())
            .filter(|&i| {
                let r = &master.replicas[i];
                r.flags & (S_DOWN | O_DOWN) == 0
                    && !r.link.disconnected()
                    && now - r.link.last_avail_time <= PING_PERIOD * 5
                    && r.slave_priority != 0
                    && now - r.info_refresh <= validity
                    && r.master_link_down_time <= max_down
            })
            .collect();
        ok.sort_by(|&a, &b| {
            let (a, b) = (&master.replicas[a], &master.replicas[b]);
            a.slave_priority.cmp(&b.slave_priority).then(b.slave_repl_offset.cmp(&a.slave_repl_offset)).then_with(
                || match (&a.runid, &b.runid) {
                    (None, None) => std::cmp::Ordering::Equal,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (Some(x), Some(y)) => x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase()),
                },
            )
        });
        ok.first().copied()
    }

    fn failover_select_slave(&mut self, m: usize) {
        match self.select_slave(m) {
            None => {
                self.event_at(Level::Warning, "-failover-abort-no-good-slave", Loc::master(m), "");
                self.abort_failover(m);
            }
            Some(i) => {
                let loc = Loc { m, w: Which::Replica(i) };
                self.event_at(Level::Warning, "+selected-slave", loc, "");
                let r = &mut self.masters[m].replicas[i];
                r.flags |= PROMOTED;
                self.masters[m].promoted = Some(r.id);
                self.set_state(m, FailoverState::SendSlaveofNoOne);
                self.event_at(Level::Notice, "+failover-state-send-slaveof-noone", loc, "");
            }
        }
    }

    fn promoted_loc(&self, m: usize) -> Option<Loc> {
        let id = self.masters[m].promoted?;
        let i = self.masters[m].replicas.iter().position(|r| r.id == id)?;
        Some(Loc { m, w: Which::Replica(i) })
    }

    fn failover_send_slaveof_noone(&mut self, m: usize) {
        let Some(loc) = self.promoted_loc(m) else { return self.abort_failover(m) };
        if self.inst(loc).link.disconnected() {
            let master = &self.masters[m];
            if mstime() - master.failover_state_change_time > master.failover_timeout {
                self.event_at(Level::Warning, "-failover-abort-slave-timeout", Loc::master(m), "");
                self.abort_failover(m);
            }
            return;
        }
        if !self.send_slaveof(loc, None) {
            return;
        }
        self.event_at(Level::Notice, "+failover-state-wait-promotion", loc, "");
        self.set_state(m, FailoverState::WaitPromotion);
    }

    /// `MULTI; REPLICAOF host port (or NO ONE); CONFIG REWRITE; CLIENT KILL TYPE normal;
    /// CLIENT KILL TYPE pubsub; EXEC` on the instance's command link.
    pub fn send_slaveof(&mut self, loc: Loc, to: Option<&Addr>) -> bool {
        let (host, port) = match to {
            Some(a) => (a.ip.clone(), a.port.to_string()),
            None => ("NO".to_string(), "ONE".to_string()),
        };
        let Some(cc) = self.inst_mut(loc).link.cc.as_mut() else { return false };
        cc.command(&[b"MULTI"], Pending::Discard);
        cc.command(&[b"SLAVEOF", host.as_bytes(), port.as_bytes()], Pending::Discard);
        cc.command(&[b"CONFIG", b"REWRITE"], Pending::Discard);
        cc.command(&[b"CLIENT", b"KILL", b"TYPE", b"normal"], Pending::Discard);
        cc.command(&[b"CLIENT", b"KILL", b"TYPE", b"pubsub"], Pending::Discard);
        cc.command(&[b"EXEC"], Pending::Discard);
        true
    }

    fn reconf_next_slave(&mut self, m: usize) {
        let Some(promoted) = self.masters[m].promoted_replica().map(|p| p.addr.clone()) else { return };
        let now = mstime();
        let master = &self.masters[m];
        let mut in_progress =
            master.replicas.iter().filter(|r| r.flags & (RECONF_SENT | RECONF_INPROG) != 0).count() as u32;
        for i in 0..self.masters[m].replicas.len() {
            if in_progress >= self.masters[m].parallel_syncs {
                break;
            }
            let loc = Loc { m, w: Which::Replica(i) };
            let r = &mut self.masters[m].replicas[i];
            if r.flags & (PROMOTED | RECONF_DONE) != 0 {
                continue;
            }
            if r.has(RECONF_SENT) && now - r.slave_reconf_sent_time > SLAVE_RECONF_TIMEOUT {
                r.flags &= !RECONF_SENT;
                r.flags |= RECONF_DONE;
                self.event_at(Level::Notice, "-slave-reconf-sent-timeout", loc, "");
                continue;
            }
            if r.flags & (RECONF_SENT | RECONF_INPROG) != 0 || r.link.disconnected() {
                continue;
            }
            if self.send_slaveof(loc, Some(&promoted)) {
                let r = &mut self.masters[m].replicas[i];
                r.flags |= RECONF_SENT;
                r.slave_reconf_sent_time = now;
                self.event_at(Level::Notice, "+slave-reconf-sent", loc, "");
                in_progress += 1;
            }
        }
        self.failover_detect_end(m);
    }

    fn failover_detect_end(&mut self, m: usize) {
        let master = &self.masters[m];
        let Some(p) = master.promoted_replica() else { return };
        if p.has(S_DOWN) {
            return;
        }
        let elapsed = mstime() - master.failover_state_change_time;
        let mut not_reconfigured =
            master.replicas.iter().filter(|r| r.flags & (PROMOTED | RECONF_DONE | S_DOWN) == 0).count();
        let timeout = elapsed > master.failover_timeout;
        if timeout {
            not_reconfigured = 0;
            self.event_at(Level::Warning, "+failover-end-for-timeout", Loc::master(m), "");
        }
        if not_reconfigured == 0 {
            self.event_at(Level::Warning, "+failover-end", Loc::master(m), "");
            self.set_state(m, FailoverState::UpdateConfig);
        }
        if timeout {
            let promoted = self.masters[m].promoted_replica().map(|p| p.addr.clone());
            for i in 0..self.masters[m].replicas.len() {
                let r = &self.masters[m].replicas[i];
                if r.flags & (PROMOTED | RECONF_DONE | RECONF_SENT) != 0 || r.link.disconnected() {
                    continue;
                }
                let loc = Loc { m, w: Which::Replica(i) };
                if self.send_slaveof(loc, promoted.as_ref()) {
                    self.event_at(Level::Notice, "+slave-reconf-sent-be", loc, "");
                    self.masters[m].replicas[i].flags |= RECONF_SENT;
                }
            }
        }
    }

    pub fn abort_failover(&mut self, m: usize) {
        let master = &mut self.masters[m];
        master.inst.flags &= !(FAILOVER_IN_PROGRESS | FORCE_FAILOVER);
        master.failover_state = FailoverState::None;
        master.failover_state_change_time = mstime();
        if let Some(id) = master.promoted.take() {
            if let Some(r) = master.replicas.iter_mut().find(|r| r.id == id) {
                r.flags &= !PROMOTED;
            }
        }
    }

    pub fn switch_to_promoted(&mut self, m: usize) {
        let master = &self.masters[m];
        let to = master.promoted_replica().map(|p| p.addr.clone()).unwrap_or_else(|| master.inst.addr.clone());
        let msg =
            format!("{} {} {} {} {}", master.inst.name, master.inst.addr.ip, master.inst.addr.port, to.ip, to.port);
        self.event(Level::Warning, "+switch-master", msg);
        self.reset_master_and_change_address(m, &to.ip, to.port);
    }
}
