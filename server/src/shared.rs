//! [`Shared`]: the state every thread of one server sees: keyspace, configuration, statistics
//! and the registry of connected clients (for CLIENT LIST / KILL and INFO clients).

use crate::client::ClientInfo;
use crate::clock::unix_time_ms;
use crate::config::{Config, Limits};
use crate::rand::random_hex;
use crate::store::Db;
use hashbrown::HashMap;
use parking_lot::{Mutex, RwLock};
use slotbox_protocol::Frame;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

pub use crate::stats::{Counter, Stats};

/// A request to a worker thread, delivered over its channel plus a waker.
pub enum WorkerMsg {
    NewConn(mio::net::TcpStream, std::net::SocketAddr),
    /// Close the client with this id (CLIENT KILL).
    Kill(u64),
    /// The blocking command of this client was served by another thread: send the reply.
    Unblock(u64, Frame),
    /// A pub/sub message for this client.
    Deliver(u64, Arc<Frame>),
    /// A connection moved here from another event loop (hot-slot affinity).
    Adopt(Box<crate::net::conn::Conn>),
}

/// How to reach one event-loop thread.
pub struct WorkerHandle {
    pub tx: crossbeam_channel::Sender<WorkerMsg>,
    pub waker: Arc<mio::Waker>,
}

impl WorkerHandle {
    pub fn send(&self, msg: WorkerMsg) {
        if self.tx.send(msg).is_ok() {
            let _ = self.waker.wake();
        }
    }
}

pub struct Shared {
    pub db: Db,
    /// Held shared by every batch of commands, exclusively by EXEC: a transaction never
    /// interleaves with another client's command (the lock rule: `crate::gate`).
    pub exec_gate: crate::gate::ExecGate,
    /// Which event loop serves connections hot for a slot (`net::affinity`).
    pub hot_slots: crate::net::affinity::HotSlots,
    /// Hot copies of config values read on every batch (refreshed by `config_changed`).
    pub hot: HotConfig,
    /// Cluster mode state (set at start when `cluster-enabled yes`).
    pub cluster: OnceLock<Arc<crate::cluster::ClusterState>>,
    /// Unix ms until which write commands wait (a master during a manual failover).
    pub pause_writes_until: std::sync::atomic::AtomicI64,
    /// A weak pointer to ourselves, set at start.
    pub me: OnceLock<std::sync::Weak<Shared>>,
    /// Replication (both roles).
    pub repl: crate::repl::Replication,
    /// Pub/sub subscriptions.
    pub pubsub: crate::pubsub::PubSub,
    /// Clients blocked on keys.
    pub blocking: crate::blocking::Blocking,
    pub config: RwLock<Config>,
    pub stats: Stats,
    /// INFO commandstats.
    pub cmdstats: crate::cmdstats::CommandStats,
    /// SLOWLOG.
    pub slowlog: crate::cmdstats::SlowLog,
    /// INFO errorstats.
    pub errorstats: crate::cmdstats::ErrorStats,
    /// LATENCY.
    pub latency: crate::latency::Latency,
    /// MONITOR clients.
    pub monitors: crate::monitor::Monitors,
    pub clients: Mutex<HashMap<u64, Arc<ClientInfo>>>,
    pub connected_clients: AtomicUsize,
    pub next_client_id: AtomicU64,
    pub shutdown: AtomicBool,
    pub started: Instant,
    pub started_unix: u64,
    pub run_id: String,
    /// The port actually bound (differs from the config when it asked for port 0).
    pub tcp_port: AtomicU64,
    pub workers: OnceLock<Vec<WorkerHandle>>,
    /// Wakes the acceptor/cron thread (for SHUTDOWN).
    pub main_waker: OnceLock<Arc<mio::Waker>>,
    pub executable: String,
    /// Unix time in seconds of the last successful save (LASTSAVE).
    pub lastsave: AtomicU64,
}

/// One class's `client-output-buffer-limit`, readable without the config lock.
#[derive(Default)]
pub struct HotLimits {
    hard: AtomicUsize,
    soft: AtomicUsize,
    soft_secs: AtomicU64,
}

impl HotLimits {
    pub fn load(&self) -> Limits {
        Limits {
            hard: self.hard.load(Ordering::Relaxed),
            soft: self.soft.load(Ordering::Relaxed),
            soft_secs: self.soft_secs.load(Ordering::Relaxed),
        }
    }

    fn store(&self, l: Limits) {
        self.hard.store(l.hard, Ordering::Relaxed);
        self.soft.store(l.soft, Ordering::Relaxed);
        self.soft_secs.store(l.soft_secs, Ordering::Relaxed);
    }
}

/// Config values the request path reads without taking the config lock.
pub struct HotConfig {
    /// `client-output-buffer-limit`, per `ClientClass`.
    pub output_limits: [HotLimits; 3],
    pub proto_max_bulk_len: AtomicUsize,
    pub client_query_buffer_limit: AtomicUsize,
    pub replica_read_only: AtomicBool,
    pub min_replicas_to_write: AtomicUsize,
    pub min_replicas_max_lag: AtomicUsize,
    /// `slowlog-log-slower-than` (µs; negative: off) and `slowlog-max-len`.
    pub slowlog_slower_than: std::sync::atomic::AtomicI64,
    pub slowlog_max_len: AtomicUsize,
    /// `maxmemory` (0: no limit), `maxmemory-policy` (see `evict::Policy`) and
    /// `maxmemory-samples`.
    pub maxmemory: AtomicUsize,
    pub maxmemory_policy: std::sync::atomic::AtomicU8,
    pub maxmemory_samples: AtomicUsize,
    /// `repl-timeout`, `repl-ping-replica-period` (seconds), `replica-serve-stale-data`.
    pub repl_timeout_secs: AtomicU64,
    pub repl_ping_period_secs: AtomicU64,
    pub replica_serve_stale_data: AtomicBool,
}

impl HotConfig {
    fn from(c: &Config) -> Self {
        let output_limits: [HotLimits; 3] = Default::default();
        for (hot, l) in output_limits.iter().zip(c.client_output_buffer_limit) {
            hot.store(l);
        }
        HotConfig {
            output_limits,
            proto_max_bulk_len: AtomicUsize::new(c.proto_max_bulk_len),
            client_query_buffer_limit: AtomicUsize::new(c.client_query_buffer_limit),
            replica_read_only: AtomicBool::new(c.replica_read_only),
            min_replicas_to_write: AtomicUsize::new(c.min_replicas_to_write as usize),
            min_replicas_max_lag: AtomicUsize::new(c.min_replicas_max_lag as usize),
            slowlog_slower_than: std::sync::atomic::AtomicI64::new(c.slowlog_log_slower_than),
            slowlog_max_len: AtomicUsize::new(c.slowlog_max_len as usize),
            maxmemory: AtomicUsize::new(c.maxmemory),
            maxmemory_policy: std::sync::atomic::AtomicU8::new(
                crate::evict::Policy::from_name(&c.maxmemory_policy) as u8
            ),
            maxmemory_samples: AtomicUsize::new(c.maxmemory_samples as usize),
            repl_timeout_secs: AtomicU64::new(c.repl_timeout as u64),
            repl_ping_period_secs: AtomicU64::new(c.repl_ping_replica_period as u64),
            replica_serve_stale_data: AtomicBool::new(c.replica_serve_stale_data),
        }
    }
}

impl Shared {
    /// An error reply went (or goes, inside EXEC's array) to a client: INFO
    /// `total_error_replies` and errorstats.
    pub fn count_error(&self, reply: &Frame) {
        if let Some(text) = reply.error_text() {
            self.stats.total_error_replies.fetch_add(1, Ordering::Relaxed);
            self.errorstats.record(text);
        }
    }

    /// Call after changing `config` (CONFIG SET) so hot copies follow.
    pub fn config_changed(&self) {
        let c = self.config.read();
        self.hot.proto_max_bulk_len.store(c.proto_max_bulk_len, Ordering::Relaxed);
        self.hot.client_query_buffer_limit.store(c.client_query_buffer_limit, Ordering::Relaxed);
        self.hot.replica_read_only.store(c.replica_read_only, Ordering::Relaxed);
        self.hot.min_replicas_to_write.store(c.min_replicas_to_write as usize, Ordering::Relaxed);
        self.hot.min_replicas_max_lag.store(c.min_replicas_max_lag as usize, Ordering::Relaxed);
        for (hot, l) in self.hot.output_limits.iter().zip(c.client_output_buffer_limit) {
            hot.store(l);
        }
        self.hot.slowlog_slower_than.store(c.slowlog_log_slower_than, Ordering::Relaxed);
        self.hot.slowlog_max_len.store(c.slowlog_max_len as usize, Ordering::Relaxed);
        self.hot.maxmemory.store(c.maxmemory, Ordering::Relaxed);
        self.latency.threshold_ms.store(c.latency_monitor_threshold, Ordering::Relaxed);
        let policy = crate::evict::Policy::from_name(&c.maxmemory_policy);
        self.hot.maxmemory_policy.store(policy as u8, Ordering::Relaxed);
        self.hot.maxmemory_samples.store(c.maxmemory_samples as usize, Ordering::Relaxed);
        self.db.clock.configure(&c.maxmemory_policy, c.lfu_log_factor, c.lfu_decay_time);
        self.hot.repl_timeout_secs.store(c.repl_timeout as u64, Ordering::Relaxed);
        self.hot.repl_ping_period_secs.store(c.repl_ping_replica_period as u64, Ordering::Relaxed);
        self.hot.replica_serve_stale_data.store(c.replica_serve_stale_data, Ordering::Relaxed);
        self.repl.backlog.resize(c.repl_backlog_size);
    }

    pub fn new(config: Config) -> Self {
        let latency = crate::latency::Latency::default();
        latency.threshold_ms.store(config.latency_monitor_threshold, Ordering::Relaxed);
        let started_unix = unix_time_ms() as u64 / 1000;
        let db = Db::new();
        db.clock.configure(&config.maxmemory_policy, config.lfu_log_factor, config.lfu_decay_time);
        Shared {
            db,
            exec_gate: crate::gate::ExecGate::new(config.io_threads),
            hot_slots: Default::default(),
            hot: HotConfig::from(&config),
            blocking: Default::default(),
            pubsub: Default::default(),
            me: OnceLock::new(),
            pause_writes_until: std::sync::atomic::AtomicI64::new(0),
            repl: crate::repl::Replication::new(config.repl_backlog_size),
            cluster: OnceLock::new(),
            config: RwLock::new(config),
            stats: Stats::default(),
            cmdstats: Default::default(),
            slowlog: Default::default(),
            errorstats: Default::default(),
            latency,
            monitors: Default::default(),
            clients: Mutex::new(HashMap::new()),
            connected_clients: AtomicUsize::new(0),
            next_client_id: AtomicU64::new(1),
            shutdown: AtomicBool::new(false),
            started: Instant::now(),
            started_unix,
            run_id: random_hex(40),
            tcp_port: AtomicU64::new(0),
            workers: OnceLock::new(),
            main_waker: OnceLock::new(),
            executable: std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
            lastsave: AtomicU64::new(started_unix),
        }
    }

    /// The `Arc` this state lives in (for threads started by commands).
    pub fn self_arc(&self) -> Option<Arc<Shared>> {
        self.me.get().and_then(|w| w.upgrade())
    }

    /// Are write commands paused right now?
    pub fn writes_paused(&self) -> bool {
        let until = self.pause_writes_until.load(Ordering::Relaxed);
        until != 0 && unix_time_ms() < until
    }

    /// Ask every thread to stop.
    pub fn request_shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        if let Some(w) = self.main_waker.get() {
            let _ = w.wake();
        }
        if let Some(ws) = self.workers.get() {
            for w in ws {
                let _ = w.waker.wake();
            }
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::Relaxed)
    }

    pub fn uptime_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }
}
