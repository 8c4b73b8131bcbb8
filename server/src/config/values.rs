//! The [`Config`] struct (a field per directive the server acts on, Redis's defaults; the
//! values of directives without behaviour here in one map) and the client classes of
//! `client-output-buffer-limit`. Plain data: reading and writing directives is elsewhere.

use super::kinds::Value;
pub use slotbox_protocol::output_limit::Limits;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The client classes of `client-output-buffer-limit`, in Redis's order: the index into
/// [`Config::client_output_buffer_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientClass {
    Normal = 0,
    Replica = 1,
    Pubsub = 2,
}

impl ClientClass {
    /// Redis's name for the class (CONFIG GET, log lines).
    pub fn name(self) -> &'static str {
        ["normal", "slave", "pubsub"][self as usize]
    }
}

/// The server's settings. Field names follow the directive names.
#[derive(Debug, Clone)]
pub struct Config {
    /// Directives accepted with Redis's checks and reported by CONFIG GET that change nothing
    /// here (encodings, lazy freeing, TLS...), by name; a directive absent is at its default.
    pub inert: BTreeMap<&'static str, Value>,
    pub port: u16,
    pub bind: Vec<String>,
    pub dir: PathBuf,
    pub requirepass: Option<Vec<u8>>,
    pub maxclients: usize,
    /// Idle client timeout in seconds (0 = never).
    pub timeout: u64,
    pub proto_max_bulk_len: usize,
    pub client_query_buffer_limit: usize,
    /// `client-output-buffer-limit`, per [`ClientClass`].
    pub client_output_buffer_limit: [Limits; 3],
    /// Event-loop threads (`io-threads`, `--threads`).
    pub io_threads: usize,
    pub hz: u32,
    pub databases: u32,
    pub daemonize: bool,
    pub pidfile: Option<PathBuf>,
    pub logfile: Option<PathBuf>,
    pub loglevel: String,
    pub save: String,
    pub protected_mode: bool,
    pub appendonly: bool,
    pub appendfilename: String,
    pub appenddirname: String,
    pub appendfsync: String,
    pub dbfilename: String,
    /// Rewrite the AOF once it grew this many percent past its size after the last rewrite
    /// (0 = never automatically).
    pub auto_aof_rewrite_percentage: u64,
    /// ... but not while it is smaller than this.
    pub auto_aof_rewrite_min_size: usize,
    /// Load an AOF whose last command is incomplete (and truncate it) instead of refusing.
    pub aof_load_truncated: bool,
    pub cluster_enabled: bool,
    pub cluster_config_file: String,
    pub cluster_node_timeout: u64,
    /// Cluster bus port (0 = port + 10000).
    pub cluster_port: u16,
    pub cluster_announce_ip: String,
    pub cluster_announce_port: u16,
    pub cluster_announce_bus_port: u16,
    pub cluster_require_full_coverage: bool,
    pub cluster_allow_reads_when_down: bool,
    pub cluster_replica_no_failover: bool,
    pub cluster_allow_replica_migration: bool,
    pub cluster_migration_barrier: u32,
    pub cluster_replica_validity_factor: u32,
    pub maxmemory: usize,
    pub maxmemory_policy: String,
    /// Keys sampled per eviction (`maxmemory-samples`).
    pub maxmemory_samples: u32,
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
    /// LATENCY samples events taking at least this many ms (0: off).
    pub latency_monitor_threshold: u64,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: u64,
    /// Ms a script runs before other clients get -BUSY (`busy-reply-threshold`, 0: never).
    pub busy_reply_threshold: i64,
    /// `stream-node-max-bytes` / `stream-node-max-entries` (0: no limit).
    pub stream_node_max_bytes: usize,
    pub stream_node_max_entries: u64,
    pub replica_read_only: bool,
    pub masterauth: Option<String>,
    pub repl_backlog_size: usize,
    /// Seconds of silence after which a replication link is dropped (both sides).
    pub repl_timeout: u32,
    /// Seconds between the PINGs a master feeds its replicas.
    pub repl_ping_replica_period: u32,
    /// Does a replica whose link is down serve reads (else `-MASTERDOWN`)?
    pub replica_serve_stale_data: bool,
    pub min_replicas_to_write: u32,
    pub min_replicas_max_lag: u32,
    pub replica_priority: u32,
    /// `replicaof host port` from the config file.
    pub replicaof: Option<(String, u16)>,
    /// `enable-debug-command`: who may run DEBUG ("no", "yes" or "local": loopback clients).
    pub enable_debug_command: String,
    /// `enable-protected-configs`: who may CONFIG SET `dir` and `dbfilename` (same values).
    pub enable_protected_configs: String,
    /// `notify-keyspace-events`, as flags (`crate::notify::class`).
    pub notify_keyspace_events: u32,
    /// `tracking-table-max-keys`: keys the client-side caching table holds at most (0: no
    /// limit).
    pub tracking_table_max_keys: u64,
    /// `supervised`: "no", "upstart", "systemd" or "auto" (systemd is told when the server
    /// is ready).
    pub supervised: String,
    /// `rename-command` lines, as the names a client may type (lowercase): `Some(command)`
    /// for a new name of `command`, `None` for a name removed (renamed away or to "").
    pub renamed_commands: BTreeMap<String, Option<String>>,
    /// `hll-sparse-max-bytes`: a sparse HyperLogLog growing past this many bytes becomes dense.
    pub hll_sparse_max_bytes: usize,
    /// `hash-max-listpack-entries` / `-value`: a hash with more fields, or a longer field or
    /// value, leaves the listpack encoding for a hashtable.
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    /// The config file this server was started with, if any.
    pub config_file: Option<PathBuf>,
    /// Deal new connections to the event loops in turn instead of to the first loop with room
    /// (embedded API only, for tests that need connections on every loop; no directive).
    pub round_robin_placement: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            inert: BTreeMap::new(),
            port: 6379,
            bind: vec!["*".into(), "-::*".into()],
            dir: PathBuf::from("."),
            requirepass: None,
            maxclients: 10000,
            timeout: 0,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            client_output_buffer_limit: [Limits::NORMAL, Limits::REPLICA, Limits::PUBSUB],
            io_threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            hz: 10,
            databases: 16,
            daemonize: false,
            pidfile: None,
            logfile: None,
            loglevel: "notice".into(),
            save: "3600 1 300 100 60 10000".into(),
            protected_mode: true,
            appendonly: false,
            appendfilename: "appendonly.aof".into(),
            appenddirname: "appendonlydir".into(),
            appendfsync: "everysec".into(),
            dbfilename: "dump.rdb".into(),
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size: 64 * 1024 * 1024,
            aof_load_truncated: true,
            cluster_enabled: false,
            cluster_config_file: "nodes.conf".into(),
            cluster_node_timeout: 15000,
            cluster_port: 0,
            cluster_announce_ip: String::new(),
            cluster_announce_port: 0,
            cluster_announce_bus_port: 0,
            cluster_require_full_coverage: true,
            cluster_allow_reads_when_down: false,
            cluster_replica_no_failover: false,
            cluster_allow_replica_migration: true,
            cluster_migration_barrier: 1,
            cluster_replica_validity_factor: 10,
            maxmemory: 0,
            maxmemory_policy: "noeviction".into(),
            maxmemory_samples: 5,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            latency_monitor_threshold: 0,
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
            busy_reply_threshold: 5000,
            stream_node_max_bytes: 4096,
            stream_node_max_entries: 100,
            replica_read_only: true,
            masterauth: None,
            repl_backlog_size: 1024 * 1024,
            repl_timeout: 60,
            repl_ping_replica_period: 10,
            replica_serve_stale_data: true,
            min_replicas_to_write: 0,
            min_replicas_max_lag: 10,
            replica_priority: 100,
            replicaof: None,
            enable_debug_command: "no".into(),
            enable_protected_configs: "no".into(),
            notify_keyspace_events: 0,
            tracking_table_max_keys: 1_000_000,
            supervised: "no".into(),
            renamed_commands: BTreeMap::new(),
            hll_sparse_max_bytes: 3000,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            config_file: None,
            round_robin_placement: false,
        }
    }
}

impl Config {
    /// A config for tests and embedding: 127.0.0.1, port 0 (any free port), no persistence,
    /// and DEBUG allowed (`enable-debug-command yes`, as Redis's own test servers run).
    pub fn ephemeral() -> Self {
        Config {
            port: 0,
            bind: vec!["127.0.0.1".into()],
            save: String::new(),
            io_threads: 2,
            enable_debug_command: "yes".into(),
            ..Config::default()
        }
    }
}

/// `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxmemoryPolicy {
    NoEviction = 0,
    AllKeysLru,
    VolatileLru,
    AllKeysLfu,
    VolatileLfu,
    AllKeysRandom,
    VolatileRandom,
    VolatileTtl,
}

impl MaxmemoryPolicy {
    pub fn from_name(name: &str) -> MaxmemoryPolicy {
        match name {
            "allkeys-lru" => MaxmemoryPolicy::AllKeysLru,
            "volatile-lru" => MaxmemoryPolicy::VolatileLru,
            "allkeys-lfu" => MaxmemoryPolicy::AllKeysLfu,
            "volatile-lfu" => MaxmemoryPolicy::VolatileLfu,
            "allkeys-random" => MaxmemoryPolicy::AllKeysRandom,
            "volatile-random" => MaxmemoryPolicy::VolatileRandom,
            "volatile-ttl" => MaxmemoryPolicy::VolatileTtl,
            _ => MaxmemoryPolicy::NoEviction,
        }
    }

    pub fn from_u8(v: u8) -> MaxmemoryPolicy {
        [
            MaxmemoryPolicy::NoEviction,
            MaxmemoryPolicy::AllKeysLru,
            MaxmemoryPolicy::VolatileLru,
            MaxmemoryPolicy::AllKeysLfu,
            MaxmemoryPolicy::VolatileLfu,
            MaxmemoryPolicy::AllKeysRandom,
            MaxmemoryPolicy::VolatileRandom,
            MaxmemoryPolicy::VolatileTtl,
        ]
        .get(v as usize)
        .copied()
        .unwrap_or(MaxmemoryPolicy::NoEviction)
    }

    pub fn volatile_only(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::VolatileLru
                | MaxmemoryPolicy::VolatileLfu
                | MaxmemoryPolicy::VolatileRandom
                | MaxmemoryPolicy::VolatileTtl
        )
    }
}
