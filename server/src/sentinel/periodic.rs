//! The sentinel timer (Redis's `sentinelTimer`, every 100 ms): reconnect links, send PING /
//! INFO / hello, judge SDOWN, and for masters run ODOWN, the failover state machine and the
//! questions to the other sentinels. Replies are handled in `replies`.

use super::instance::*;
use super::link::{Conn, Pending};
use super::state::{Level, Loc, Sentinel, Which};
use mio::{Registry, Token};
use std::net::{IpAddr, SocketAddr};

/// Tokens of outgoing links start here (below: listeners and clients).
pub const LINK_TOKEN_BASE: usize = 1 << 40;

pub fn link_token(id: u64, pubsub: bool) -> Token {
    Token(LINK_TOKEN_BASE + (id as usize) * 2 + pubsub as usize)
}

impl Sentinel {
    pub fn tick(&mut self, reg: &Registry) {
        self.check_tilt();
        let mut switch_to_promoted = None;
        let mut m = 0;
        while m < self.masters.len() {
            self.handle_instance(reg, Loc::master(m));
            for i in 0..self.masters[m].replicas.len() {
                self.handle_instance(reg, Loc { m, w: Which::Replica(i) });
            }
            for i in 0..self.masters[m].sentinels.len() {
                self.handle_instance(reg, Loc { m, w: Which::Sentinel(i) });
            }
            if self.masters[m].failover_state == FailoverState::UpdateConfig {
                switch_to_promoted = Some(m);
            }
            m += 1;
        }
        if let Some(m) = switch_to_promoted {
            self.switch_to_promoted(m);
        }
    }

    fn check_tilt(&mut self) {
        let now = mstime();
        let delta = now - self.previous_time;
        if !(0..=TILT_TRIGGER).contains(&delta) {
            self.tilt = true;
            self.tilt_start_time = now;
            self.event(Level::Warning, "+tilt", "#tilt mode entered".into());
        }
        self.previous_time = now;
    }

    fn handle_instance(&mut self, reg: &Registry, loc: Loc) {
        self.reconnect(reg, loc);
        self.send_periodic(loc);
        if self.tilt {
            if mstime() - self.tilt_start_time < TILT_PERIOD {
                return;
            }
            self.tilt = false;
            self.event(Level::Warning, "-tilt", "#tilt mode exited".into());
        }
        self.check_subjectively_down(reg, loc);
        if loc.w == Which::Master {
            self.check_objectively_down(loc.m);
            if self.start_failover_if_needed(loc.m) {
                self.ask_other_sentinels(loc.m, true);
            }
            self.failover_state_machine(loc.m);
            self.ask_other_sentinels(loc.m, false);
        }
    }

    /// Credentials for an instance's links: the master's `auth-user`/`auth-pass` for its
    /// servers, `sentinel-user`/`sentinel-pass` for other sentinels.
    fn auth_for(&self, loc: Loc) -> (Option<String>, Option<String>) {
        match loc.w {
            Which::Sentinel(_) => (self.settings.sentinel_user.clone(), self.settings.sentinel_pass.clone()),
            _ => {
                let m = &self.masters[loc.m];
                (m.auth_user.clone(), m.auth_pass.clone())
            }
        }
    }

    fn reconnect(&mut self, reg: &Registry, loc: Loc) {
        let now = mstime();
        let (user, pass) = self.auth_for(loc);
        let myid8 = self.myid[..8].to_string();
        let inst = self.inst_mut(loc);
        if !inst.link.disconnected() || inst.addr.port == 0 || now - inst.link.last_reconn_time < PING_PERIOD {
            return;
        }
        inst.link.last_reconn_time = now;
        let Ok(ip) = inst.addr.ip.parse::<IpAddr>() else { return };
        let sa = SocketAddr::new(ip, inst.addr.port);
        let auth = |c: &mut Conn| {
            if let Some(p) = &pass {
                match &user {
                    Some(u) => c.command(&[b"AUTH", u.as_bytes(), p.as_bytes()], Pending::Discard),
                    None => c.command(&[b"AUTH", p.as_bytes()], Pending::Discard),
                }
            }
        };
        let mut sent_ping = false;
        if inst.link.cc.is_none() {
            if let Ok(mut c) = Conn::connect(sa, link_token(inst.id, false), reg, now) {
                auth(&mut c);
                let name = format!("sentinel-{myid8}-cmd");
                c.command(&[b"CLIENT", b"SETNAME", name.as_bytes()], Pending::Discard);
                inst.link.cc = Some(c);
                sent_ping = true;
            }
        }
        if inst.link.uses_pubsub && inst.link.pc.is_none() {
            if let Ok(mut c) = Conn::connect(sa, link_token(inst.id, true), reg, now) {
                auth(&mut c);
                let name = format!("sentinel-{myid8}-pubsub");
                c.command(&[b"CLIENT", b"SETNAME", name.as_bytes()], Pending::Discard);
                c.command(&[b"SUBSCRIBE", b"__sentinel__:hello"], Pending::Discard);
                inst.link.pc_last_activity = now;
                inst.link.pc = Some(c);
            }
        }
        if sent_ping {
            self.send_ping(loc);
        }
    }

    pub fn send_ping(&mut self, loc: Loc) -> bool {
        let link = &mut self.inst_mut(loc).link;
        let Some(cc) = link.cc.as_mut() else { return false };
        cc.command(&[b"PING"], Pending::Ping);
        link.last_ping_time = mstime();
        if link.act_ping_time == 0 {
            link.act_ping_time = link.last_ping_time;
        }
        true
    }

    fn send_periodic(&mut self, loc: Loc) {
        let now = mstime();
        let m = &self.masters[loc.m];
        let (down_after, master_flags) = (m.down_after, m.inst.flags);
        let inst = self.inst(loc);
        if inst.link.disconnected() || inst.link.pending_commands() >= MAX_PENDING_COMMANDS {
            return;
        }
        let is_replica = matches!(loc.w, Which::Replica(_));
        let info_period =
            if is_replica && (master_flags & (O_DOWN | FAILOVER_IN_PROGRESS) != 0 || inst.master_link_down_time != 0) {
                1000
            } else {
                INFO_PERIOD
            };
        let ping_period = down_after.min(PING_PERIOD);
        let want_info =
            !matches!(loc.w, Which::Sentinel(_)) && (inst.info_refresh == 0 || now - inst.info_refresh > info_period);
        let want_ping =
            now - inst.link.last_pong_time > ping_period && now - inst.link.last_ping_time > ping_period / 2;
        let want_hello = now - inst.last_pub_time > PUBLISH_PERIOD;
        if want_info {
            if let Some(cc) = self.inst_mut(loc).link.cc.as_mut() {
                cc.command(&[b"INFO"], Pending::Info);
            }
        }
        if want_ping {
            self.send_ping(loc);
        }
        if want_hello {
            self.send_hello(loc);
        }
    }

    fn check_subjectively_down(&mut self, reg: &Registry, loc: Loc) {
        let now = mstime();
        let down_after = self.masters[loc.m].down_after;
        let inst = self.inst_mut(loc);
        let link = &mut inst.link;
        let elapsed = if link.act_ping_time != 0 {
            now - link.act_ping_time
        } else if link.disconnected() {
            now - link.last_avail_time
        } else {
            0
        };
        // A link that looks stuck is closed so that it reconnects.
        if let Some(cc) = &link.cc {
            if now - cc.conn_time > MIN_LINK_RECONNECT_PERIOD
                && link.act_ping_time != 0
                && now - link.act_ping_time > down_after / 2
                && now - link.last_pong_time > down_after / 2
            {
                if let Some(mut c) = link.cc.take() {
                    c.deregister(reg);
                }
            }
        }
        if let Some(pc) = &link.pc {
            if now - pc.conn_time > MIN_LINK_RECONNECT_PERIOD && now - link.pc_last_activity > PUBLISH_PERIOD * 3 {
                if let Some(mut c) = link.pc.take() {
                    c.deregister(reg);
                }
            }
        }
        let master_claims_slave = inst.kind == Kind::Master
            && inst.role_reported == Role::Slave
            && now - inst.role_reported_time > down_after + INFO_PERIOD * 2;
        if elapsed > down_after || master_claims_slave {
            if !inst.has(S_DOWN) {
                inst.s_down_since = now;
                inst.flags |= S_DOWN;
                self.event_at(Level::Warning, "+sdown", loc, "");
            }
        } else if inst.has(S_DOWN) {
            inst.flags &= !(S_DOWN | SCRIPT_KILL_SENT);
            self.event_at(Level::Warning, "-sdown", loc, "");
        }
    }
}
