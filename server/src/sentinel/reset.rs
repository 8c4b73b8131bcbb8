//! Resetting a master (Redis's `sentinelResetMaster`): forget replicas (and, for SENTINEL
//! RESET, sentinels), drop the links, clear the failover; and moving a master to a new
//! address after a failover, keeping the old address as a replica.

use super::instance::*;
use super::state::{Level, Loc, Sentinel, Which};

impl Sentinel {
    pub fn reset_master(&mut self, m: usize, keep_sentinels: bool, announce: bool) {
        let now = mstime();
        let master = &mut self.masters[m];
        master.replicas.clear();
        if !keep_sentinels {
            master.sentinels.clear();
        }
        // Dropping a connection closes its socket (and so leaves the poll).
        master.inst.link.cc = None;
        master.inst.link.pc = None;
        master.inst.flags = 0;
        master.inst.leader = None;
        master.failover_state = FailoverState::None;
        master.failover_state_change_time = 0;
        master.failover_start_time = 0;
        master.promoted = None;
        master.inst.runid = None;
        master.inst.slave_master_host = None;
        let link = &mut master.inst.link;
        link.act_ping_time = now;
        link.last_ping_time = 0;
        link.last_avail_time = now;
        link.last_pong_time = now;
        link.last_reconn_time = 0;
        master.inst.role_reported_time = now;
        master.inst.role_reported = Role::Master;
        master.inst.info_refresh = 0;
        if announce {
            self.event_at(Level::Warning, "+reset-master", Loc::master(m), "");
        }
    }

    pub fn reset_master_and_change_address(&mut self, m: usize, ip: &str, port: u16) {
        let master = &self.masters[m];
        let mut replicas: Vec<Addr> =
            master.replicas.iter().filter(|r| !r.addr.matches(ip, port)).map(|r| r.addr.clone()).collect();
        if !master.inst.addr.matches(ip, port) {
            replicas.push(master.inst.addr.clone());
        }
        self.reset_master(m, true, false);
        let master = &mut self.masters[m];
        master.inst.addr = Addr::new(ip, port);
        master.inst.o_down_since = 0;
        master.inst.s_down_since = 0;
        for a in replicas {
            let id = self.next_id();
            let r = Instance::new(id, Kind::Replica, a.name(), a);
            self.masters[m].replicas.push(r);
            let i = self.masters[m].replicas.len() - 1;
            self.event_at(Level::Notice, "+slave", Loc { m, w: Which::Replica(i) }, "");
        }
        self.config_dirty = true;
    }
}
