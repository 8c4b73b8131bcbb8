//! [`Core`]: what every part of one server above the store shares — the keyspace, the exec
//! gate, the configuration (and its hot copies), counters, the event loops' mailboxes and the
//! server's lifetime flags. Services (replication, persistence, cluster) and the bookkeeping
//! below commands take a `Core` (or an `Arc` of it), never the whole server (`Shared`).

use crate::clock::unix_time_ms;
use crate::config::{Config, Limits, MaxmemoryPolicy};
use crate::gate::ExecGate;
use crate::latency::Latency;
use crate::mailbox::WorkerHandle;
use crate::rand::random_hex;
use crate::stats::Stats;
use crate::store::Keyspace;
use crate::stream::WriteStream;
use parking_lot::RwLock;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// The Redis version whose behaviour slotbox matches (INFO `redis_version`, HELLO `version`).
pub const REDIS_VERSION: &str = "7.0.15";

pub struct Core {
    /// The numbered databases (`SELECT`; cluster mode uses database 0 only).
    pub keyspace: Keyspace,
    /// Held shared by every batch of commands, exclusively by EXEC: a transaction never
    /// interleaves with another client's command (the lock rule: `crate::gate`).
    pub exec_gate: ExecGate,
    pub config: RwLock<Config>,
    /// Hot copies of config values read on every batch (refreshed by [`Core::refresh_hot`]).
    pub hot: HotConfig,
    pub stats: Stats,
    /// LATENCY's events.
    pub latency: Latency,
    /// Every write, fanned out to the replication backlog and the AOF.
    pub stream: WriteStream,
    /// CLIENT PAUSE and a manual failover's write pause.
    pub pause: crate::pause::ClientPause,
    /// DEBUG PARTITION: until when the bus and the event loops stay silent.
    pub partition: crate::partition::Partition,
    pub connected_clients: AtomicUsize,
    pub next_client_id: AtomicU64,
    pub shutdown: AtomicBool,
    pub started: Instant,
    pub started_unix: u64,
    pub run_id: String,
    /// The port actually bound (differs from the config when it asked for port 0).
    pub tcp_port: AtomicU64,
    /// The event loops, set when they start.
    pub workers: OnceLock<Vec<WorkerHandle>>,
    /// Wakes the acceptor/cron thread (for SHUTDOWN).
    pub main_waker: OnceLock<Arc<mio::Waker>>,
    /// The listening sockets, set when the server starts listening (CONFIG SET port / bind
    /// replaces them).
    pub listeners: OnceLock<Arc<crate::listen::Listeners>>,
    /// `rename-command`: a name a client may type (lowercase) → the command's own name, or
    /// `None` for a name removed. Fixed at start.
    pub renamed_commands: hashbrown::HashMap<Box<[u8]>, Option<bytes::Bytes>>,
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
    pub slowlog_slower_than: AtomicI64,
    pub slowlog_max_len: AtomicUsize,
    /// `stream-node-max-bytes` / `stream-node-max-entries`.
    pub stream_node_max_bytes: AtomicUsize,
    pub stream_node_max_entries: AtomicUsize,
    /// `maxmemory` (0: no limit), `maxmemory-policy` (see `evict::Policy`) and
    /// `maxmemory-samples`.
    pub maxmemory: AtomicUsize,
    pub maxmemory_policy: AtomicU8,
    pub maxmemory_samples: AtomicUsize,
    /// `notify-keyspace-events` (`crate::notify::class` flags).
    pub notify_flags: std::sync::atomic::AtomicU32,
    /// `repl-timeout`, `repl-ping-replica-period` (seconds), `replica-serve-stale-data`.
    pub repl_timeout_secs: AtomicU64,
    pub repl_ping_period_secs: AtomicU64,
    pub replica_serve_stale_data: AtomicBool,
    /// `hll-sparse-max-bytes` (PFADD reads it on every add).
    pub hll_sparse_max_bytes: AtomicUsize,
    /// `hash-max-listpack-entries` / `-value` (every hash write and load reads them).
    pub hash_max_listpack_entries: AtomicUsize,
    pub hash_max_listpack_value: AtomicUsize,
    /// `busy-reply-threshold` (ms; every script run reads it).
    pub busy_reply_threshold: AtomicI64,
}

impl HotConfig {
    /// When a hash leaves the listpack encoding, as configured now.
    pub fn hash_limits(&self) -> crate::store::listpack::Limits {
        crate::store::listpack::Limits {
            entries: self.hash_max_listpack_entries.load(Ordering::Relaxed),
            value: self.hash_max_listpack_value.load(Ordering::Relaxed),
        }
    }
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
            slowlog_slower_than: AtomicI64::new(c.slowlog_log_slower_than),
            slowlog_max_len: AtomicUsize::new(c.slowlog_max_len as usize),
            stream_node_max_bytes: AtomicUsize::new(c.stream_node_max_bytes),
            stream_node_max_entries: AtomicUsize::new(c.stream_node_max_entries as usize),
            maxmemory: AtomicUsize::new(c.maxmemory),
            maxmemory_policy: AtomicU8::new(MaxmemoryPolicy::from_name(&c.maxmemory_policy) as u8),
            maxmemory_samples: AtomicUsize::new(c.maxmemory_samples as usize),
            notify_flags: std::sync::atomic::AtomicU32::new(c.notify_keyspace_events),
            repl_timeout_secs: AtomicU64::new(c.repl_timeout as u64),
            repl_ping_period_secs: AtomicU64::new(c.repl_ping_replica_period as u64),
            replica_serve_stale_data: AtomicBool::new(c.replica_serve_stale_data),
            hll_sparse_max_bytes: AtomicUsize::new(c.hll_sparse_max_bytes),
            hash_max_listpack_entries: AtomicUsize::new(c.hash_max_listpack_entries),
            hash_max_listpack_value: AtomicUsize::new(c.hash_max_listpack_value),
            busy_reply_threshold: AtomicI64::new(c.busy_reply_threshold),
        }
    }
}

/// Tell the keyspace which key events the classes of `notify-keyspace-events` need.
fn report_key_events(keyspace: &Keyspace, flags: u32) {
    use crate::config::notify_flags::class;
    keyspace.set_reports(flags & class::NEW != 0, flags & class::KEY_MISS != 0);
}

/// The `rename-command` table of a config, for lookups by the bytes a client sends.
fn renamed_commands(config: &Config) -> hashbrown::HashMap<Box<[u8]>, Option<bytes::Bytes>> {
    let table = config.renamed_commands.iter();
    table.map(|(name, to)| (name.as_bytes().into(), to.clone().map(bytes::Bytes::from))).collect()
}

impl Core {
    pub fn new(config: Config) -> Self {
        let started_unix = unix_time_ms() as u64 / 1000;
        let databases = if config.cluster_enabled { 1 } else { config.databases.max(1) as usize };
        let keyspace = Keyspace::new(databases);
        report_key_events(&keyspace, config.notify_keyspace_events);
        keyspace.clock.configure(&config.maxmemory_policy, config.lfu_log_factor, config.lfu_decay_time);
        let renamed_commands = renamed_commands(&config);
        let latency = Latency::default();
        latency.threshold_ms.store(config.latency_monitor_threshold, Ordering::Relaxed);
        Core {
            keyspace,
            exec_gate: ExecGate::new(config.io_threads),
            hot: HotConfig::from(&config),
            config: RwLock::new(config),
            stats: Stats::default(),
            latency,
            stream: WriteStream::default(),
            pause: Default::default(),
            partition: Default::default(),
            connected_clients: AtomicUsize::new(0),
            next_client_id: AtomicU64::new(1),
            shutdown: AtomicBool::new(false),
            started: Instant::now(),
            started_unix,
            run_id: random_hex(40),
            tcp_port: AtomicU64::new(0),
            workers: OnceLock::new(),
            main_waker: OnceLock::new(),
            listeners: OnceLock::new(),
            renamed_commands,
            executable: std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
            lastsave: AtomicU64::new(started_unix),
        }
    }

    /// Copy the config values read on hot paths (after CONFIG SET).
    pub fn refresh_hot(&self) {
        let c = self.config.read();
        let hot = &self.hot;
        hot.proto_max_bulk_len.store(c.proto_max_bulk_len, Ordering::Relaxed);
        hot.client_query_buffer_limit.store(c.client_query_buffer_limit, Ordering::Relaxed);
        hot.replica_read_only.store(c.replica_read_only, Ordering::Relaxed);
        hot.min_replicas_to_write.store(c.min_replicas_to_write as usize, Ordering::Relaxed);
        hot.min_replicas_max_lag.store(c.min_replicas_max_lag as usize, Ordering::Relaxed);
        for (h, l) in hot.output_limits.iter().zip(c.client_output_buffer_limit) {
            h.store(l);
        }
        hot.slowlog_slower_than.store(c.slowlog_log_slower_than, Ordering::Relaxed);
        hot.slowlog_max_len.store(c.slowlog_max_len as usize, Ordering::Relaxed);
        hot.stream_node_max_bytes.store(c.stream_node_max_bytes, Ordering::Relaxed);
        hot.stream_node_max_entries.store(c.stream_node_max_entries as usize, Ordering::Relaxed);
        hot.maxmemory.store(c.maxmemory, Ordering::Relaxed);
        hot.maxmemory_policy.store(MaxmemoryPolicy::from_name(&c.maxmemory_policy) as u8, Ordering::Relaxed);
        hot.maxmemory_samples.store(c.maxmemory_samples as usize, Ordering::Relaxed);
        hot.repl_timeout_secs.store(c.repl_timeout as u64, Ordering::Relaxed);
        hot.repl_ping_period_secs.store(c.repl_ping_replica_period as u64, Ordering::Relaxed);
        hot.replica_serve_stale_data.store(c.replica_serve_stale_data, Ordering::Relaxed);
        hot.hll_sparse_max_bytes.store(c.hll_sparse_max_bytes, Ordering::Relaxed);
        hot.hash_max_listpack_entries.store(c.hash_max_listpack_entries, Ordering::Relaxed);
        hot.hash_max_listpack_value.store(c.hash_max_listpack_value, Ordering::Relaxed);
        hot.busy_reply_threshold.store(c.busy_reply_threshold, Ordering::Relaxed);
        self.latency.threshold_ms.store(c.latency_monitor_threshold, Ordering::Relaxed);
        hot.notify_flags.store(c.notify_keyspace_events, Ordering::Relaxed);
        report_key_events(&self.keyspace, c.notify_keyspace_events);
        self.keyspace.clock.configure(&c.maxmemory_policy, c.lfu_log_factor, c.lfu_decay_time);
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
