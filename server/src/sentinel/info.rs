//! Reading a master's or replica's INFO (Redis's `sentinelRefreshInstanceInfo`): the parse
//! half records run id, role, replica list and replication fields; the acting half discovers
//! replicas, notices promotions and role changes, and points stray replicas at the master.

use super::instance::*;
use super::state::{Level, Loc, Sentinel, Which};

/// The fields of one INFO reply a sentinel uses.
#[derive(Default)]
struct Parsed {
    runid: Option<String>,
    role: Option<Role>,
    replicas: Vec<(String, u16)>,
    master_link_down_time: i64,
    master_host: Option<String>,
    master_port: Option<u16>,
    link_up: Option<bool>,
    priority: Option<i64>,
    offset: Option<u64>,
    announced: Option<bool>,
}

fn parse(info: &str) -> Parsed {
    let mut p = Parsed::default();
    for l in info.split("\r\n").flat_map(|l| l.split('\n')) {
        let Some((k, v)) = l.split_once(':') else { continue };
        match k {
            "run_id" if v.len() >= 40 => p.runid = Some(v[..40].to_string()),
            "role" if v == "master" => p.role = Some(Role::Master),
            "role" if v == "slave" => p.role = Some(Role::Slave),
            "master_link_down_since_seconds" => p.master_link_down_time = v.parse::<i64>().unwrap_or(0) * 1000,
            "master_host" => p.master_host = Some(v.to_string()),
            "master_port" => p.master_port = v.parse().ok(),
            "master_link_status" => p.link_up = Some(v.eq_ignore_ascii_case("up")),
            "slave_priority" | "replica_priority" => p.priority = v.parse().ok(),
            "slave_repl_offset" => p.offset = v.parse().ok(),
            "replica_announced" => p.announced = Some(v == "1"),
            _ if k.starts_with("slave") && k[5..].bytes().all(|b| b.is_ascii_digit()) && k.len() > 5 => {
                if let Some(r) = parse_replica_line(v) {
                    p.replicas.push(r);
                }
            }
            _ => {}
        }
    }
    p
}

/// `ip=127.0.0.1,port=6380,state=online,...` (or the old `<ip>,<port>,<state>`).
fn parse_replica_line(v: &str) -> Option<(String, u16)> {
    if !v.contains("ip=") {
        let mut it = v.split(',');
        return Some((it.next()?.to_string(), it.next()?.parse().ok()?));
    }
    let mut ip = None;
    let mut port = None;
    for kv in v.split(',') {
        match kv.split_once('=') {
            Some(("ip", x)) => ip = Some(x.to_string()),
            Some(("port", x)) => port = x.parse().ok(),
            _ => {}
        }
    }
    Some((ip?, port?))
}

impl Sentinel {
    pub fn refresh_info(&mut self, loc: Loc, info: &str) {
        let p = parse(info);
        let now = mstime();
        let is_master = loc.w == Which::Master;
        let mut reboot = false;
        {
            let inst = self.inst_mut(loc);
            inst.info = info.to_string();
            inst.master_link_down_time = p.master_link_down_time;
            if let Some(id) = &p.runid {
                if inst.runid.as_ref().is_some_and(|old| old != id) {
                    reboot = true;
                }
                inst.runid = Some(id.clone());
            }
        }
        if reboot {
            self.event_at(Level::Notice, "+reboot", loc, "");
        }
        if is_master {
            for (ip, port) in &p.replicas {
                self.add_replica(loc.m, ip, *port);
            }
        }
        let role = p.role.unwrap_or(Role::Unknown);
        {
            let inst = self.inst_mut(loc);
            if role == Role::Slave {
                if let Some(h) = &p.master_host {
                    if inst.slave_master_host.as_ref().is_none_or(|o| !o.eq_ignore_ascii_case(h)) {
                        inst.slave_master_host = Some(h.clone());
                        inst.slave_conf_change_time = now;
                    }
                }
                if let Some(port) = p.master_port {
                    if inst.slave_master_port != port {
                        inst.slave_master_port = port;
                        inst.slave_conf_change_time = now;
                    }
                }
                if let Some(up) = p.link_up {
                    inst.slave_master_link_up = up;
                }
                if let Some(pr) = p.priority {
                    inst.slave_priority = pr;
                }
                if let Some(o) = p.offset {
                    inst.slave_repl_offset = o;
                }
                if let Some(a) = p.announced {
                    inst.replica_announced = a;
                }
            }
            inst.info_refresh = now;
        }
        let inst = self.inst(loc);
        if role != inst.role_reported {
            let coherent = (inst.kind == Kind::Master && role == Role::Master)
                || (inst.kind == Kind::Replica && role == Role::Slave);
            let inst = self.inst_mut(loc);
            inst.role_reported_time = now;
            inst.role_reported = role;
            if role == Role::Slave {
                inst.slave_conf_change_time = now;
            }
            let ty = if coherent { "+role-change" } else { "-role-change" };
            let extra = format!(" new reported role is {}", if role == Role::Master { "master" } else { "slave" });
            self.event_at(Level::Verbose, ty, loc, &extra);
        }
        if self.tilt {
            return;
        }
        if let Which::Replica(_) = loc.w {
            match role {
                Role::Master => self.replica_reports_master(loc),
                Role::Slave => self.replica_reports_slave(loc),
                Role::Unknown => {}
            }
        }
    }

    /// Add a replica learned from the master's INFO (`+slave`), unless known.
    pub fn add_replica(&mut self, m: usize, ip: &str, port: u16) {
        if self.masters[m].replica_index(ip, port).is_some() || ip.parse::<std::net::IpAddr>().is_err() || port == 0 {
            return;
        }
        let id = self.next_id();
        let addr = Addr::new(ip, port);
        let r = Instance::new(id, Kind::Replica, addr.name(), addr);
        self.masters[m].replicas.push(r);
        let i = self.masters[m].replicas.len() - 1;
        self.event_at(Level::Notice, "+slave", Loc { m, w: Which::Replica(i) }, "");
        self.config_dirty = true;
    }

    fn replica_reports_master(&mut self, loc: Loc) {
        let now = mstime();
        let master = &self.masters[loc.m];
        let inst = self.inst(loc);
        if inst.has(PROMOTED)
            && master.inst.has(FAILOVER_IN_PROGRESS)
            && master.failover_state == FailoverState::WaitPromotion
        {
            let master = &mut self.masters[loc.m];
            master.config_epoch = master.failover_epoch;
            master.failover_state = FailoverState::ReconfSlaves;
            master.failover_state_change_time = now;
            self.config_dirty = true;
            self.event_at(Level::Warning, "+promoted-slave", loc, "");
            if self.simfailure_flags & super::state::SIMFAILURE_CRASH_AFTER_PROMOTION != 0 {
                crate::log::warning("Sentinel CRASH because of SENTINEL simulate-failure");
                std::process::exit(99);
            }
            self.event_at(Level::Warning, "+failover-state-reconf-slaves", Loc::master(loc.m), "");
            self.force_hello_update(loc.m);
        } else {
            let wait = PUBLISH_PERIOD * 4;
            if !inst.has(PROMOTED)
                && master.looks_sane()
                && inst.no_down_for(wait)
                && now - inst.role_reported_time > wait
            {
                let to = master.inst.addr.clone();
                if self.send_slaveof(loc, Some(&to)) {
                    self.event_at(Level::Notice, "+convert-to-slave", loc, "");
                }
            }
        }
    }

    fn replica_reports_slave(&mut self, loc: Loc) {
        let now = mstime();
        let master = &self.masters[loc.m];
        let inst = self.inst(loc);
        let maddr = &master.inst.addr;
        let wrong_master = inst.slave_master_port != maddr.port
            || !inst.slave_master_host.as_deref().is_some_and(|h| h.eq_ignore_ascii_case(&maddr.ip));
        if wrong_master {
            let wait = master.failover_timeout;
            if master.looks_sane() && inst.no_down_for(wait) && now - inst.slave_conf_change_time > wait {
                let to = maddr.clone();
                if self.send_slaveof(loc, Some(&to)) {
                    self.event_at(Level::Notice, "+fix-slave-config", loc, "");
                }
            }
        }
        let inst = self.inst(loc);
        if inst.flags & (RECONF_SENT | RECONF_INPROG) == 0 {
            return;
        }
        let promoted = self.masters[loc.m].promoted_replica().map(|p| p.addr.clone());
        let inst = self.inst(loc);
        if inst.has(RECONF_SENT) {
            if let (Some(p), Some(h)) = (&promoted, &inst.slave_master_host) {
                if p.ip.eq_ignore_ascii_case(h) && p.port == inst.slave_master_port {
                    let inst = self.inst_mut(loc);
                    inst.flags &= !RECONF_SENT;
                    inst.flags |= RECONF_INPROG;
                    self.event_at(Level::Notice, "+slave-reconf-inprog", loc, "");
                }
            }
        }
        let inst = self.inst_mut(loc);
        if inst.has(RECONF_INPROG) && inst.slave_master_link_up {
            inst.flags &= !RECONF_INPROG;
            inst.flags |= RECONF_DONE;
            self.event_at(Level::Notice, "+slave-reconf-done", loc, "");
        }
    }
}
