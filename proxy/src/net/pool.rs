//! One pool as a worker sees it: its servers (with failure counts and ejection times for
//! `auto_eject_hosts`), the distribution built over the live ones, and for `cluster: true`
//! pools the slot map learned from CLUSTER SLOTS and MOVED, and which replicas may serve
//! reads (see `replica_link`). Each worker owns its own copy, so nothing here is locked. No
//! sockets: connection tokens are only recorded.

use super::replica_link::{LinkCheck, LinkState};
use crate::config::{PoolConfig, ReadFrom};
use crate::hot_cache::HotCache;
use crate::router::{apply_hash_tag, ClusterSlots, RingServer, Router, SlotRange};
use crate::stats::{PoolStats, ServerStats};
use mio::Token;
use slotbox_protocol::key_hash_slot;
use std::sync::atomic::Ordering;
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
    /// Shared connections per protocol (RESP2, RESP3): `server_connections` lanes each.
    pub conns: [Vec<Option<Token>>; 2],
    /// Clean dedicated connections (after EXEC / DISCARD / UNWATCH) kept for the next
    /// transaction, per protocol.
    pub idle: [Vec<Token>; 2],
    pub failures: u32,
    pub ejected_until: Option<Instant>,
    /// Its replication link, as the last `ROLE` check saw it (replicas of cluster pools that
    /// read from replicas).
    pub link: LinkCheck,
    pub stats: Arc<ServerStats>,
    /// The near cache's connection to it (RESP3, `CLIENT TRACKING on`), when open.
    pub tracking: Option<Token>,
    /// It answered `CLIENT TRACKING on` with an error: hot reads of its keys are not cached.
    pub tracking_refused: bool,
}

impl ServerRt {
    fn new(addr: &str, name: &str, weight: u32, lanes: usize, stats: &PoolStats) -> ServerRt {
        ServerRt {
            addr: addr.to_string(),
            name: name.to_string(),
            weight,
            conns: [vec![None; lanes], vec![None; lanes]],
            idle: [Vec::new(), Vec::new()],
            failures: 0,
            ejected_until: None,
            link: LinkCheck::new(Instant::now()),
            stats: stats.server(addr),
            tracking: None,
            tracking_refused: false,
        }
    }

    /// Every connection token this server holds (shared lanes and idle dedicated ones).
    pub fn tokens(&self) -> Vec<Token> {
        let shared = self.conns.iter().flatten().flatten().copied();
        shared.chain(self.idle.iter().flatten().copied()).chain(self.tracking).collect()
    }

    /// Forget connection `t` (it closed).
    pub fn forget(&mut self, t: Token) {
        for c in self.conns.iter_mut().flatten() {
            if *c == Some(t) {
                *c = None;
            }
        }
        for idle in &mut self.idle {
            idle.retain(|&x| x != t);
        }
        if self.tracking == Some(t) {
            self.tracking = None;
        }
    }

    /// Change the number of shared lanes; returns the tokens of lanes that went away.
    fn set_lanes(&mut self, lanes: usize) -> Vec<Token> {
        let mut gone = Vec::new();
        for c in &mut self.conns {
            if c.len() > lanes {
                gone.extend(c.drain(lanes..).flatten());
            }
            c.resize(lanes, None);
        }
        gone
    }
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
    /// Every backend that is a replica in the slot map.
    pub replicas: Vec<usize>,
    pub refresh_pending: bool,
    pub refresh_wanted: bool,
    pub last_refresh: Instant,
    rr: usize,
    /// The near cache for hot keys (`hot_key_cache:`), this worker's.
    pub cache: Option<HotCache>,
    /// Its size as last added to the pool's `hot_cache_entries` gauge.
    cache_reported: usize,
}

impl PoolRt {
    pub fn new(shared: Arc<PoolShared>) -> PoolRt {
        let lanes = shared.cfg.server_connections.max(1) as usize;
        let servers = shared
            .cfg
            .servers
            .iter()
            .map(|s| ServerRt::new(&s.addr, &s.name, s.weight, lanes, &shared.stats))
            .collect();
        let cluster = shared.cfg.cluster || !shared.cfg.sentinels.is_empty();
        let cache = shared.cfg.hot_key_cache.map(|c| HotCache::new(c, Instant::now()));
        shared.stats.hot_cache_enabled.store(cache.is_some(), Ordering::Relaxed);
        let mut p = PoolRt {
            shared,
            servers,
            router: Box::new(crate::router::Random::new(&[])),
            slots: None,
            replicas: Vec::new(),
            refresh_pending: false,
            refresh_wanted: false,
            last_refresh: Instant::now(),
            rr: 0,
            cache,
            cache_reported: 0,
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

    /// A sentinel pool: one master (and its replicas) that the sentinels name.
    pub fn is_sentinel(&self) -> bool {
        !self.shared.cfg.sentinels.is_empty()
    }

    /// Rebuild the distribution over the live servers.
    pub fn rebuild(&mut self) {
        let ring: Vec<RingServer> = self
            .servers
            .iter()
            .map(|s| RingServer { name: s.name.clone(), weight: s.weight, live: s.ejected_until.is_none() })
            .collect();
        let hash = self.shared.cfg.hash;
        self.router = self.shared.cfg.distribution.build(hash, &ring);
    }

    /// Where `key` goes.
    pub fn target(&self, key: &[u8]) -> Target {
        match &self.slots {
            // A sentinel pool's keys all live on its one master (no CROSSSLOT there).
            Some(map) if self.is_sentinel() => Target { server: map.master_of(0), slot: 0 },
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

    /// One target per live backend (per master in a cluster pool), for commands asked of
    /// every backend (PUBSUB CHANNELS ...).
    pub fn every_target(&self) -> Vec<Target> {
        match &self.slots {
            Some(map) => {
                let mut out: Vec<Target> = Vec::new();
                for slot in 0..slotbox_protocol::SLOT_COUNT as u16 {
                    if let Some(server) = map.master_of(slot) {
                        if !out.iter().any(|t| t.server == Some(server)) {
                            out.push(Target { server: Some(server), slot });
                        }
                    }
                }
                out
            }
            None => (0..self.servers.len())
                .filter(|&i| self.servers[i].ejected_until.is_none())
                .map(|i| Target { server: Some(i), slot: 0 })
                .collect(),
        }
    }

    /// For a read-only command: when `read_from` asks so, a replica of the slot's master
    /// whose link to it is up (round-robin); the master itself when there is none (no
    /// replicas, or each one detached, syncing, unreachable or not checked yet).
    pub fn read_target(&mut self, t: Target) -> Target {
        let Some(map) = &self.slots else { return t };
        if self.shared.cfg.read_from == ReadFrom::Master {
            return t;
        }
        let servers = &self.servers;
        let usable = |r: &&u32| servers.get(**r as usize).is_some_and(|s| s.link.state == LinkState::Up);
        let reps = map.replicas_of(t.slot);
        let n = reps.iter().filter(usable).count();
        if n == 0 {
            return t;
        }
        self.rr = self.rr.wrapping_add(1);
        let pick = reps.iter().filter(usable).nth(self.rr % n).map(|&r| r as usize);
        Target { server: pick, slot: t.slot }
    }

    /// The index of the server at `addr`, adding it (a cluster node we just learned of).
    pub fn server_index(&mut self, addr: &str) -> usize {
        if let Some(i) = self.servers.iter().position(|s| s.addr == addr) {
            return i;
        }
        let lanes = self.lanes();
        self.servers.push(ServerRt::new(addr, addr, 1, lanes, &self.shared.stats));
        self.servers.len() - 1
    }

    /// Shared connections per backend and protocol (`server_connections`).
    pub fn lanes(&self) -> usize {
        self.shared.cfg.server_connections.max(1) as usize
    }

    /// Take a reloaded configuration. Servers that stay (same address and name) keep their
    /// connections and failure state; returns, for each old server index, its new index
    /// (`None`: removed), and the connection tokens that no longer belong to any server.
    pub fn reconfigure(&mut self, shared: Arc<PoolShared>) -> (Vec<Option<usize>>, Vec<Token>) {
        // The servers may change: start the near cache afresh (with its new settings).
        self.cache_clear();
        self.shared = shared;
        self.cache = self.shared.cfg.hot_key_cache.map(|c| HotCache::new(c, Instant::now()));
        self.shared.stats.hot_cache_enabled.store(self.cache.is_some(), Ordering::Relaxed);
        let lanes = self.lanes();
        let mut orphans = Vec::new();
        if self.is_sentinel() {
            // Sentinel pools learn their servers from the sentinels.
            for s in &mut self.servers {
                orphans.extend(s.set_lanes(lanes));
            }
            return ((0..self.servers.len()).map(Some).collect(), orphans);
        }
        if self.shared.cfg.cluster {
            // Cluster pools learn their nodes from the cluster: seeds are only added.
            let seeds: Vec<String> = self.shared.cfg.servers.iter().map(|s| s.addr.clone()).collect();
            for a in &seeds {
                self.server_index(a);
            }
            for s in &mut self.servers {
                orphans.extend(s.set_lanes(lanes));
            }
            self.refresh_wanted = true;
            return ((0..self.servers.len()).map(Some).collect(), orphans);
        }
        let mut old: Vec<Option<ServerRt>> = std::mem::take(&mut self.servers).into_iter().map(Some).collect();
        let mut map = vec![None; old.len()];
        for (new_i, sc) in self.shared.cfg.servers.clone().iter().enumerate() {
            let kept = old.iter().position(|o| matches!(o, Some(o) if o.addr == sc.addr && o.name == sc.name));
            let srv = match kept {
                Some(i) => {
                    map[i] = Some(new_i);
                    let mut s = old[i].take().expect("position found it");
                    s.weight = sc.weight;
                    orphans.extend(s.set_lanes(lanes));
                    s
                }
                None => ServerRt::new(&sc.addr, &sc.name, sc.weight, lanes, &self.shared.stats),
            };
            self.servers.push(srv);
        }
        orphans.extend(old.into_iter().flatten().flat_map(|s| s.tokens()));
        self.rebuild();
        (map, orphans)
    }

    /// Drop everything the near cache holds (its invalidations can no longer be trusted, or
    /// the pool changed).
    pub fn cache_clear(&mut self) {
        if let Some(c) = self.cache.as_mut() {
            let n = c.clear() as u64;
            self.shared.stats.hot_cache_invalidations.fetch_add(n, Ordering::Relaxed);
        }
        self.cache_report();
    }

    /// Bring the pool's `hot_cache_entries` gauge up to date with this worker's cache.
    pub fn cache_report(&mut self) {
        let now = self.cache.as_ref().map_or(0, |c| c.len());
        let delta = now as i64 - self.cache_reported as i64;
        if delta != 0 {
            self.shared.stats.hot_cache_entries.fetch_add(delta, Ordering::Relaxed);
            self.cache_reported = now;
        }
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
        self.replicas = map.all_replicas();
        self.slots = Some(map);
        // A backend that is no replica any more is checked afresh if it becomes one again
        // (an old master rejoining as a replica starts with a full sync).
        let now = Instant::now();
        for (i, s) in self.servers.iter_mut().enumerate() {
            if s.link.state != LinkState::Unknown && self.replicas.binary_search(&i).is_err() {
                s.link = LinkCheck::new(now);
                s.stats.replica_link.store(LinkState::Master.gauge(), std::sync::atomic::Ordering::Relaxed);
            }
        }
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
                crate::plog!(crate::log::NOTICE, "pool '{}': server '{}' returned", self.shared.cfg.name, s.addr);
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

#[cfg(test)]
mod tests {
    use super::{PoolRt, PoolShared, Target};
    use crate::net::replica_link::LinkState;
    use crate::router::SlotRange;
    use crate::stats::PoolStats;
    use std::sync::Arc;

    /// A cluster pool whose slots 0..=16383 have master :7000 and replicas :7001, :7002.
    fn pool(read_from: &str) -> PoolRt {
        let yaml = format!(
            "c:\n  listen: 127.0.0.1:0\n  cluster: true\n  read_from: {read_from}\n  servers:\n   - 127.0.0.1:7000:1\n"
        );
        let cfg = crate::config::parse(&yaml).unwrap().remove(0);
        let replicas = vec!["127.0.0.1:7001".to_string(), "127.0.0.1:7002".to_string()];
        let initial_slots = vec![SlotRange { start: 0, end: 16383, master: "127.0.0.1:7000".into(), replicas }];
        let stats = Arc::new(PoolStats::new("c", &[]));
        PoolRt::new(Arc::new(PoolShared { cfg, stats, initial_slots }))
    }

    fn reads(p: &mut PoolRt) -> Vec<usize> {
        (0..4).map(|_| p.read_target(Target { server: Some(0), slot: 9 }).server.unwrap()).collect()
    }

    #[test]
    fn reads_go_only_to_replicas_whose_link_is_up() {
        let mut p = pool("prefer_replica");
        assert_eq!(p.replicas, vec![1, 2]);
        assert_eq!(reads(&mut p), vec![0; 4], "not checked yet: the master");
        p.servers[1].link.state = LinkState::Up;
        p.servers[2].link.state = LinkState::Up;
        let mut both = reads(&mut p);
        both.sort_unstable();
        assert_eq!(both, vec![1, 1, 2, 2], "round-robin over the replicas");
        p.servers[2].link.state = LinkState::Down;
        assert_eq!(reads(&mut p), vec![1; 4]);
        p.servers[1].link.state = LinkState::Master;
        assert_eq!(reads(&mut p), vec![0; 4], "none up: the master");
        p.servers[1].link.state = LinkState::Up;
        p.servers[2].stats.replica_link.store(0, std::sync::atomic::Ordering::Relaxed);
        let only_first = vec![SlotRange {
            start: 0,
            end: 16383,
            master: "127.0.0.1:7000".into(),
            replicas: vec!["127.0.0.1:7001".into()],
        }];
        p.apply_slots(&only_first);
        assert_eq!(p.replicas, vec![1]);
        assert_eq!(p.servers[2].link.state, LinkState::Unknown, "no replica any more: checked afresh");
        assert_eq!(p.servers[2].stats.replica_link.load(std::sync::atomic::Ordering::Relaxed), -1);
        assert_eq!(reads(&mut p), vec![1; 4]);
        let mut m = pool("master");
        m.servers[1].link.state = LinkState::Up;
        assert_eq!(reads(&mut m), vec![0; 4], "read_from: master");
    }
}
