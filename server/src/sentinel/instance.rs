//! The instances a sentinel watches: a master, its replicas and the other sentinels watching
//! it (`Instance`, one struct for the three kinds, as Redis's `sentinelRedisInstance`), and a
//! `Master` that owns its replicas and sentinels. Plain data: no I/O, no events here.

use super::link::InstanceLink;

pub const S_DOWN: u32 = 1 << 3;
pub const O_DOWN: u32 = 1 << 4;
pub const MASTER_DOWN: u32 = 1 << 5;
pub const FAILOVER_IN_PROGRESS: u32 = 1 << 6;
pub const PROMOTED: u32 = 1 << 7;
pub const RECONF_SENT: u32 = 1 << 8;
pub const RECONF_INPROG: u32 = 1 << 9;
pub const RECONF_DONE: u32 = 1 << 10;
pub const FORCE_FAILOVER: u32 = 1 << 11;
pub const SCRIPT_KILL_SENT: u32 = 1 << 12;

/// Redis's timing constants (milliseconds).
pub const PING_PERIOD: i64 = 1000;
pub const INFO_PERIOD: i64 = 10000;
pub const ASK_PERIOD: i64 = 1000;
pub const PUBLISH_PERIOD: i64 = 2000;
pub const DEFAULT_DOWN_AFTER: i64 = 30000;
pub const DEFAULT_FAILOVER_TIMEOUT: i64 = 180000;
pub const SLAVE_RECONF_TIMEOUT: i64 = 10000;
pub const MIN_LINK_RECONNECT_PERIOD: i64 = 15000;
pub const ELECTION_TIMEOUT: i64 = 10000;
pub const MAX_DESYNC: i64 = 1000;
pub const MAX_PENDING_COMMANDS: usize = 100;
pub const TILT_TRIGGER: i64 = 2000;
pub const TILT_PERIOD: i64 = PING_PERIOD * 30;

/// Milliseconds since the Unix epoch (Redis's `mstime()`).
pub fn mstime() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Master,
    Replica,
    Sentinel,
}

impl Kind {
    pub fn type_str(self) -> &'static str {
        match self {
            Kind::Master => "master",
            Kind::Replica => "slave",
            Kind::Sentinel => "sentinel",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addr {
    pub ip: String,
    pub port: u16,
}

impl Addr {
    pub fn new(ip: &str, port: u16) -> Addr {
        Addr { ip: ip.to_string(), port }
    }
    pub fn matches(&self, ip: &str, port: u16) -> bool {
        self.port == port && self.ip.eq_ignore_ascii_case(ip)
    }
    /// `ip:port`, with brackets around an IPv6 address (Redis's `anetFormatAddr`).
    pub fn name(&self) -> String {
        if self.ip.contains(':') {
            format!("[{}]:{}", self.ip, self.port)
        } else {
            format!("{}:{}", self.ip, self.port)
        }
    }
}

/// The failover state machine of a master (Redis's `SENTINEL_FAILOVER_STATE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailoverState {
    None,
    WaitStart,
    SelectSlave,
    SendSlaveofNoOne,
    WaitPromotion,
    ReconfSlaves,
    UpdateConfig,
}

impl FailoverState {
    pub fn as_str(self) -> &'static str {
        match self {
            FailoverState::None => "none",
            FailoverState::WaitStart => "wait_start",
            FailoverState::SelectSlave => "select_slave",
            FailoverState::SendSlaveofNoOne => "send_slaveof_noone",
            FailoverState::WaitPromotion => "wait_promotion",
            FailoverState::ReconfSlaves => "reconf_slaves",
            FailoverState::UpdateConfig => "update_config",
        }
    }
}

/// Role an instance reported in its last INFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Unknown,
    Master,
    Slave,
}

/// One monitored instance: the master, a replica or another sentinel.
pub struct Instance {
    /// Stable identity (link tokens are derived from it).
    pub id: u64,
    pub kind: Kind,
    /// Master: its configured name; replica: `ip:port`; sentinel: its run id.
    pub name: String,
    pub addr: Addr,
    pub runid: Option<String>,
    pub flags: u32,
    pub link: InstanceLink,
    pub s_down_since: i64,
    pub o_down_since: i64,
    pub info_refresh: i64,
    pub info: String,
    pub role_reported: Role,
    pub role_reported_time: i64,
    pub last_pub_time: i64,
    pub last_hello_time: i64,
    pub last_master_down_reply_time: i64,
    /// Sentinels: who this sentinel said it voted for, in which epoch. Masters: our own vote.
    pub leader: Option<String>,
    pub leader_epoch: u64,
    // Replica fields, from its INFO.
    pub master_link_down_time: i64,
    pub slave_master_host: Option<String>,
    pub slave_master_port: u16,
    pub slave_master_link_up: bool,
    pub slave_priority: i64,
    pub slave_repl_offset: u64,
    pub replica_announced: bool,
    pub slave_conf_change_time: i64,
    pub slave_reconf_sent_time: i64,
}

impl Instance {
    pub fn new(id: u64, kind: Kind, name: String, addr: Addr) -> Instance {
        let now = mstime();
        Instance {
            id,
            kind,
            name,
            addr,
            runid: None,
            flags: 0,
            link: InstanceLink::new(now, kind != Kind::Sentinel),
            s_down_since: 0,
            o_down_since: 0,
            info_refresh: 0,
            info: String::new(),
            role_reported: if kind == Kind::Replica { Role::Slave } else { Role::Master },
            role_reported_time: now,
            last_pub_time: now,
            last_hello_time: now,
            last_master_down_reply_time: now,
            leader: None,
            leader_epoch: 0,
            master_link_down_time: 0,
            slave_master_host: None,
            slave_master_port: 0,
            slave_master_link_up: false,
            slave_priority: 100,
            slave_repl_offset: 0,
            replica_announced: true,
            slave_conf_change_time: now,
            slave_reconf_sent_time: 0,
        }
    }

    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// Redis's `sentinelRedisInstanceNoDownFor`.
    pub fn no_down_for(&self, ms: i64) -> bool {
        let recent = self.s_down_since.max(self.o_down_since);
        recent == 0 || mstime() - recent > ms
    }
}

/// A monitored master with the replicas and sentinels learned for it.
pub struct Master {
    pub inst: Instance,
    pub quorum: u32,
    pub down_after: i64,
    pub failover_timeout: i64,
    pub parallel_syncs: u32,
    pub auth_pass: Option<String>,
    pub auth_user: Option<String>,
    pub config_epoch: u64,
    pub failover_epoch: u64,
    pub failover_state: FailoverState,
    pub failover_state_change_time: i64,
    pub failover_start_time: i64,
    pub failover_delay_logged: i64,
    /// Id of the replica being promoted.
    pub promoted: Option<u64>,
    pub replicas: Vec<Instance>,
    pub sentinels: Vec<Instance>,
}

impl Master {
    pub fn new(id: u64, name: &str, addr: Addr, quorum: u32) -> Master {
        Master {
            inst: Instance::new(id, Kind::Master, name.to_string(), addr),
            quorum,
            down_after: DEFAULT_DOWN_AFTER,
            failover_timeout: DEFAULT_FAILOVER_TIMEOUT,
            parallel_syncs: 1,
            auth_pass: None,
            auth_user: None,
            config_epoch: 0,
            failover_epoch: 0,
            failover_state: FailoverState::None,
            failover_state_change_time: 0,
            failover_start_time: 0,
            failover_delay_logged: 0,
            promoted: None,
            replicas: Vec::new(),
            sentinels: Vec::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.inst.name
    }

    pub fn replica_index(&self, ip: &str, port: u16) -> Option<usize> {
        self.replicas.iter().position(|r| r.addr.matches(ip, port))
    }

    pub fn promoted_replica(&self) -> Option<&Instance> {
        self.promoted.and_then(|id| self.replicas.iter().find(|r| r.id == id))
    }

    /// Redis's `sentinelGetCurrentMasterAddress`: the promoted replica once it is master.
    pub fn current_addr(&self) -> Addr {
        if self.inst.has(FAILOVER_IN_PROGRESS) && self.failover_state >= FailoverState::ReconfSlaves {
            if let Some(p) = self.promoted_replica() {
                return p.addr.clone();
            }
        }
        self.inst.addr.clone()
    }

    /// Redis's `sentinelMasterLooksSane`.
    pub fn looks_sane(&self) -> bool {
        self.inst.flags & (S_DOWN | O_DOWN) == 0
            && self.inst.role_reported == Role::Master
            && mstime() - self.inst.info_refresh < INFO_PERIOD * 2
    }
}
