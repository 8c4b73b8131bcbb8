//! The sentinel's whole state (`Sentinel`): identity, epoch, the monitored masters, and the
//! events waiting to be published. Instances are addressed by `Loc` (indices, valid until the
//! next change of a master's lists) or by their stable id.

use super::instance::{Instance, Master};
use super::settings::Settings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Master,
    Replica(usize),
    Sentinel(usize),
}

/// Where an instance is: master index, and which of its instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loc {
    pub m: usize,
    pub w: Which,
}

impl Loc {
    pub fn master(m: usize) -> Loc {
        Loc { m, w: Which::Master }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Verbose,
    Notice,
    Warning,
}

pub struct Sentinel {
    pub myid: String,
    pub current_epoch: u64,
    pub masters: Vec<Master>,
    pub settings: Settings,
    /// Events to publish to subscribed clients: (channel, message).
    pub outbox: Vec<(String, String)>,
    /// The config file must be rewritten (Redis's `sentinelFlushConfig` calls, batched).
    pub config_dirty: bool,
    pub simfailure_flags: u32,
    pub tilt: bool,
    pub tilt_start_time: i64,
    pub previous_time: i64,
    pub start_time: i64,
    pub total_connections: u64,
    pub total_commands: u64,
    next_id: u64,
}

pub const SIMFAILURE_CRASH_AFTER_ELECTION: u32 = 1;
pub const SIMFAILURE_CRASH_AFTER_PROMOTION: u32 = 2;

impl Sentinel {
    pub fn new(settings: Settings, myid: String, current_epoch: u64) -> Sentinel {
        let now = super::instance::mstime();
        Sentinel {
            myid,
            current_epoch,
            masters: Vec::new(),
            settings,
            outbox: Vec::new(),
            config_dirty: false,
            simfailure_flags: 0,
            tilt: false,
            tilt_start_time: 0,
            previous_time: now,
            start_time: now,
            total_connections: 0,
            total_commands: 0,
            next_id: 1,
        }
    }

    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn master_by_name(&self, name: &str) -> Option<usize> {
        self.masters.iter().position(|m| m.name() == name)
    }

    pub fn inst(&self, loc: Loc) -> &Instance {
        let m = &self.masters[loc.m];
        match loc.w {
            Which::Master => &m.inst,
            Which::Replica(i) => &m.replicas[i],
            Which::Sentinel(i) => &m.sentinels[i],
        }
    }

    pub fn inst_mut(&mut self, loc: Loc) -> &mut Instance {
        let m = &mut self.masters[loc.m];
        match loc.w {
            Which::Master => &mut m.inst,
            Which::Replica(i) => &mut m.replicas[i],
            Which::Sentinel(i) => &mut m.sentinels[i],
        }
    }

    /// Find an instance by its stable id.
    pub fn locate(&self, id: u64) -> Option<Loc> {
        for (m, master) in self.masters.iter().enumerate() {
            if master.inst.id == id {
                return Some(Loc::master(m));
            }
            if let Some(i) = master.replicas.iter().position(|r| r.id == id) {
                return Some(Loc { m, w: Which::Replica(i) });
            }
            if let Some(i) = master.sentinels.iter().position(|r| r.id == id) {
                return Some(Loc { m, w: Which::Sentinel(i) });
            }
        }
        None
    }

    /// Redis's `%@`: `<type> <name> <ip> <port>`, plus ` @ <master> <ip> <port>` for replicas
    /// and sentinels.
    pub fn describe(&self, loc: Loc) -> String {
        let i = self.inst(loc);
        let own = format!("{} {} {} {}", i.kind.type_str(), i.name, i.addr.ip, i.addr.port);
        match loc.w {
            Which::Master => own,
            _ => {
                let m = &self.masters[loc.m].inst;
                format!("{own} @ {} {} {}", m.name, m.addr.ip, m.addr.port)
            }
        }
    }

    /// Log an event and queue it for the subscribers of the channel named after it.
    pub fn event(&mut self, level: Level, ty: &str, msg: String) {
        let line = format!("{ty} {msg}");
        match level {
            Level::Warning => crate::log::warning(&line),
            Level::Notice => crate::log::notice(&line),
            Level::Verbose => crate::log::verbose(&line),
        }
        self.outbox.push((ty.to_string(), msg));
    }

    /// An event about one instance: `%@` followed by `extra`.
    pub fn event_at(&mut self, level: Level, ty: &str, loc: Loc, extra: &str) {
        let msg = format!("{}{extra}", self.describe(loc));
        self.event(level, ty, msg);
    }

    /// Raise the current epoch if `epoch` is newer (with `+new-epoch`).
    pub fn observe_epoch(&mut self, epoch: u64) {
        if epoch > self.current_epoch {
            self.current_epoch = epoch;
            self.config_dirty = true;
            self.event(Level::Warning, "+new-epoch", epoch.to_string());
        }
    }
}
