//! Sentinel discovery through `__sentinel__:hello` (Redis's `sentinelSendHello` and
//! `sentinelProcessHelloMessage`): every 2 s each sentinel publishes
//! `ip,port,runid,current_epoch,master_name,master_ip,master_port,master_config_epoch` to the
//! master and its replicas, and sends it straight to the other sentinels; a newer config epoch
//! in a hello switches the master.

use super::instance::*;
use super::link::Pending;
use super::state::{Level, Loc, Sentinel, Which};

impl Sentinel {
    pub fn send_hello(&mut self, loc: Loc) -> bool {
        let master = &self.masters[loc.m];
        let maddr = master.current_addr();
        let inst = self.inst(loc);
        let Some(cc) = inst.link.cc.as_ref() else { return false };
        let ip = match &self.settings.announce_ip {
            Some(ip) => ip.clone(),
            None => match cc.local_ip() {
                Some(ip) => ip,
                None => return false,
            },
        };
        let port = if self.settings.announce_port != 0 { self.settings.announce_port } else { self.settings.port };
        let payload = format!(
            "{ip},{port},{},{},{},{},{},{}",
            self.myid, self.current_epoch, master.inst.name, maddr.ip, maddr.port, master.config_epoch
        );
        if let Some(cc) = self.inst_mut(loc).link.cc.as_mut() {
            cc.command(&[b"PUBLISH", b"__sentinel__:hello", payload.as_bytes()], Pending::Publish);
        }
        true
    }

    /// Make every instance of master `m` get a hello on the next tick.
    pub fn force_hello_update(&mut self, m: usize) {
        let master = &mut self.masters[m];
        let all =
            std::iter::once(&mut master.inst).chain(master.replicas.iter_mut()).chain(master.sentinels.iter_mut());
        for inst in all {
            if inst.last_pub_time > PUBLISH_PERIOD {
                inst.last_pub_time -= PUBLISH_PERIOD + 1;
            }
        }
    }

    /// A hello from another sentinel (via pub/sub or its PUBLISH to us).
    pub fn process_hello(&mut self, hello: &str) {
        let t: Vec<&str> = hello.split(',').collect();
        if t.len() != 8 {
            return;
        }
        let Some(m) = self.master_by_name(t[4]) else { return };
        let (Ok(port), Ok(master_port)) = (t[1].parse::<u16>(), t[6].parse::<u16>()) else { return };
        let current_epoch: u64 = t[3].parse().unwrap_or(0);
        let master_config_epoch: u64 = t[7].parse().unwrap_or(0);
        let (ip, runid) = (t[0], t[2]);
        if ip.parse::<std::net::IpAddr>().is_err() || !super::config_sentinel::valid_runid(runid) {
            return;
        }
        let mut si = self.masters[m]
            .sentinels
            .iter()
            .position(|s| s.addr.matches(ip, port) && s.runid.as_deref() == Some(runid));
        if si.is_none() {
            si = Some(self.add_sentinel(m, ip, port, runid, true));
        }
        self.observe_epoch(current_epoch);
        let master = &mut self.masters[m];
        if master.config_epoch < master_config_epoch {
            master.config_epoch = master_config_epoch;
            self.config_dirty = true;
            if !master.inst.addr.matches(t[5], master_port) {
                if let Some(i) = si {
                    self.event_at(Level::Warning, "+config-update-from", Loc { m, w: Which::Sentinel(i) }, "");
                }
                let master = &self.masters[m];
                let msg = format!(
                    "{} {} {} {} {}",
                    master.inst.name, master.inst.addr.ip, master.inst.addr.port, t[5], master_port
                );
                self.event(Level::Warning, "+switch-master", msg);
                self.reset_master_and_change_address(m, t[5], master_port);
            }
        }
        if let Some(i) = self.masters[m].sentinels.iter().position(|s| s.runid.as_deref() == Some(runid)) {
            self.masters[m].sentinels[i].last_hello_time = mstime();
        }
    }

    /// Add (or re-address) a sentinel of master `m`; returns its index. With `announce`,
    /// `+sentinel` (or `+sentinel-address-switch`) is published.
    pub fn add_sentinel(&mut self, m: usize, ip: &str, port: u16, runid: &str, announce: bool) -> usize {
        let master = &mut self.masters[m];
        let before = master.sentinels.len();
        master.sentinels.retain(|s| s.runid.as_deref() != Some(runid));
        let removed = master.sentinels.len() != before;
        if removed && announce {
            let extra = format!(" ip {ip} port {port} for {runid}");
            self.event_at(Level::Notice, "+sentinel-address-switch", Loc::master(m), &extra);
        } else if let Some(other) = self.masters[m].sentinels.iter().position(|s| s.addr.matches(ip, port)) {
            // Another run id at the same address: that sentinel restarted with a new id.
            if announce {
                self.event_at(Level::Notice, "+sentinel-invalid-addr", Loc { m, w: Which::Sentinel(other) }, "");
            }
            let obsolete = self.masters[m].sentinels[other].runid.clone();
            for master in &mut self.masters {
                master.sentinels.retain(|s| s.runid != obsolete);
            }
        }
        let id = self.next_id();
        let mut inst = Instance::new(id, Kind::Sentinel, runid.to_string(), Addr::new(ip, port));
        inst.runid = Some(runid.to_string());
        self.masters[m].sentinels.push(inst);
        let i = self.masters[m].sentinels.len() - 1;
        if announce && !removed {
            self.event_at(Level::Notice, "+sentinel", Loc { m, w: Which::Sentinel(i) }, "");
        }
        self.config_dirty = true;
        i
    }
}
