//! One pool as a worker sees it: its servers (with failure counts and ejection times for
//! `auto_eject_hosts`), the distribution built over the live ones, and for `cluster: true`
//! pools the slot map learned from CLUSTER SLOTS and MOVED. Each worker owns its own copy,
//! so nothing here is locked. No sockets: connection tokens are only recorded.

use crate::config::{Distribution, PoolConfig, ReadFrom};
use crate::router::{apply_hash_tag, ClusterSlots, Ketama, Modula, Random, RingServer, Router, SlotRange};
use crate::stats::PoolStats;
use mio::Token;
use slotbox_protocol::key_hash_slot;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What every worker shares about a pool.
pub struct PoolShared {
    pub cfg: PoolConfig,
    pub stats: Arc<PoolStats>,
    /// The slot map fetched at start (cluster pools).
    pub initial_slots: Vec<SlotRange>,
}

/// One backend server of the pool.
#[derive(Debug)]
pub struct ServerRt {
    pub addr: String,
    pub name: String,
    pub weight: u32,
    /// Connection per protocol (RESP2, RESP3).
    pub conns: [Option<Token>; 2],
    pub failures: u32,
    pub ejected_until: Option<Instant>,
}

/// Where a key goes: a server, and (cluster pools) its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub server: Option<usize>,
    pub slot: u16,
}

pub struct PoolRt {
    pub shared: Arc<PoolShared>,
    pub servers: Vec<ServerRt>,
    router: Box<dyn Router>,
    pub slots: Option<ClusterSlots>,
    pub refresh_pending: bool,
    pub refresh_wanted: bool,
    pub last_refresh: Instant,
    rr: usize,
}

impl PoolRt {
    pub fn new(shared: Arc<PoolShared>) -> PoolRt {
        let servers = shared
            .cfg
            .servers
            .iter()
            .map(|s| ServerRt {
                addr: s.addr.clone(),
                name: s.name.clone(),
                weight: s.weight,
                conns: [None, None],
                failures: 0,
                ejected_until: None,
            })
            .collect();
        let cluster = shared.cfg.cluster;
        let mut p = PoolRt {
            shared,
            servers,
            router: Box::new(Random::new(&[])),
            slots: None,
            refresh_pending: false,
            refresh_wanted: false,
            last_refresh: Instant::now(),
            rr: 0,
        };
        if cluster {
            let ranges = p.shared.initial_slots.clone();
            p.apply_slots(&ranges);
            p.refresh_wanted = ranges.is_empty();
        }
        p.rebuild();
        p
    }

    pub fn cfg(&self) -> &PoolConfig {
        &self.shared.cfg
    }

    /// Rebuild the distribution over the live servers.
    pub fn rebuild(&mut self) {
        let ring: Vec<RingServer> = self
            .servers
            .iter()
            .map(|s| RingServer { name: s.name.clone(), weight: s.weight, live: s.ejected_until.is_none() })
            .collect();
        let hash = self.shared.cfg.hash;
        self.router = match self.shared.cfg.distribution {
            Distribution::Ketama => Box::new(Ketama::new(hash, &ring)),
            Distribution::Modula => Box::new(Modula::new(hash, &ring)),
            Distribution::Random => Box::new(Random::new(&ring)),
        };
    }

    /// Where `key` goes.
    pub fn target(&self, key: &[u8]) -> Target {
        match &self.slots {
            Some(map) => {
                let slot = key_hash_slot(key);
                // Unknown slot: ask the first seed, which will redirect us.
                Target { server: Some(map.master_of(slot).unwrap_or(0)), slot }
            }
            None => {
                let k = apply_hash_tag(key, self.shared.cfg.hash_tag);
                Target { server: self.router.route(k), slot: 0 }
            }
        }
    }

    /// For a read-only command: a replica of the slot's master when `read_from` asks so.
    pub fn read_target(&mut self, t: Target) -> Target {
        let Some(map) = &self.slots else { return t };
        if self.shared.cfg.read_from == ReadFrom::Master {
            return t;
        }
        let reps = map.replicas_of(t.slot);
        if reps.is_empty() {
            return t;
        }
        self.rr = self.rr.wrapping_add(1);
        Target { server: Some(reps[self.rr % reps.len()] as usize), slot: t.slot }
    }

    /// The index of the server at `addr`, adding it (a cluster node we just learned of).
    pub fn server_index(&mut self, addr: &str) -> usize {
        if let Some(i) = self.servers.iter().position(|s| s.addr == addr) {
            return i;
        }
        self.servers.push(ServerRt {
            addr: addr.to_string(),
            name: addr.to_string(),
            weight: 1,
            conns: [None, None],
            failures: 0,
            ejected_until: None,
        });
        self.servers.len() - 1
    }

    /// Replace the slot map with a CLUSTER SLOTS answer.
    pub fn apply_slots(&mut self, ranges: &[SlotRange]) {
        let mut idx = Vec::new();
        for r in ranges {
            idx.push(self.server_index(&r.master));
            for a in &r.replicas {
                self.server_index(a);
            }
        }
        let servers = &self.servers;
        let map = ClusterSlots::from_ranges(ranges, |a| servers.iter().position(|s| s.addr == a).unwrap_or(0));
        self.slots = Some(map);
        self.last_refresh = Instant::now();
    }

    /// A request to `server` failed. True if the server was just ejected.
    pub fn on_failure(&mut self, server: usize, now: Instant) -> bool {
        let cfg = &self.shared.cfg;
        let (eject, limit, retry) = (cfg.auto_eject_hosts, cfg.server_failure_limit, cfg.server_retry_timeout_ms);
        let Some(s) = self.servers.get_mut(server) else {
            return false;
        };
        s.failures += 1;
        if !eject || s.failures < limit || s.ejected_until.is_some() || self.slots.is_some() {
            return false;
        }
        s.ejected_until = Some(now + Duration::from_millis(retry));
        self.rebuild();
        true
    }

    /// Put ejected servers whose retry time has come back on the ring.
    pub fn tick(&mut self, now: Instant) {
        let mut changed = false;
        for s in &mut self.servers {
            if matches!(s.ejected_until, Some(t) if t <= now) {
                s.ejected_until = None;
                s.failures = 0;
                changed = true;
            }
        }
        if changed {
            self.rebuild();
        }
    }

    /// A master to ask CLUSTER SLOTS.
    pub fn refresh_server(&self) -> usize {
        self.slots.as_ref().and_then(|m| m.master_of(0)).unwrap_or(0)
    }
}
