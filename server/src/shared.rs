//! [`Shared`]: one server — its [`Core`] (keyspace, gate, config, counters, mailboxes; what
//! `Shared` derefs to) plus the services (replication, cluster) and the bookkeeping the command
//! layer works with: pub/sub, blocked clients, MONITOR, command statistics, SLOWLOG, LATENCY
//! and the registry of connected clients (CLIENT LIST / KILL, INFO clients).

use crate::client::ClientInfo;
pub use crate::core::Core;
use hashbrown::HashMap;
use parking_lot::Mutex;
use slotbox_protocol::Frame;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

pub struct Shared {
    pub core: Arc<Core>,
    /// Cluster mode state (set at start when `cluster-enabled yes`).
    pub cluster: OnceLock<Arc<crate::cluster::ClusterState>>,
    /// A weak pointer to ourselves, set at start.
    pub me: OnceLock<std::sync::Weak<Shared>>,
    /// Replication (both roles).
    pub repl: Arc<crate::repl::Replication>,
    /// The append-only file, snapshots and their `save` rules.
    pub persist: Arc<crate::persist::Persistence>,
    /// Pub/sub subscriptions.
    pub pubsub: Arc<crate::pubsub::PubSub>,
    /// Clients blocked on keys.
    pub blocking: crate::blocking::Blocking,
    /// INFO commandstats.
    pub cmdstats: crate::cmdstats::CommandStats,
    /// INFO `used_memory_startup`: bytes allocated when the server was created.
    pub startup_memory: u64,
    /// INFO latencystats: each command's run-time distribution.
    pub cmdlatency: crate::cmdlatency::CommandLatency,
    /// UNLINK's background freeing (INFO `lazyfree_*`).
    pub lazyfree: crate::lazyfree::LazyFree,
    /// SLOWLOG.
    pub slowlog: crate::cmdstats::SlowLog,
    /// INFO errorstats.
    pub errorstats: crate::cmdstats::ErrorStats,
    /// MONITOR clients.
    pub monitors: crate::monitor::Monitors,
    pub clients: Mutex<HashMap<u64, Arc<ClientInfo>>>,
    /// Lua scripts and function libraries.
    pub scripting: crate::script::Scripting,
    /// Client-side caching (CLIENT TRACKING).
    pub tracking: crate::tracking::Tracking,
}

impl std::ops::Deref for Shared {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
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

    /// Undo [`Self::count_error`] for `reply` (see `ErrorStats::unrecord`).
    pub fn uncount_error(&self, reply: &Frame) {
        if let Some(text) = reply.error_text() {
            // Adding 2^64 - 1 takes one back (the counter sums its stripes wrapping).
            self.stats.total_error_replies.fetch_add(u64::MAX, Ordering::Relaxed);
            self.errorstats.unrecord(text);
        }
    }

    /// Call after changing `config` (CONFIG SET) so hot copies follow.
    pub fn config_changed(&self) {
        self.core.refresh_hot();
        crate::log::set_level(&self.config.read().loglevel);
        self.repl.backlog.resize(self.config.read().repl_backlog_size);
        self.follow_latency_tracking();
    }

    /// `latency-tracking` into the histograms' switch.
    fn follow_latency_tracking(&self) {
        let on = self.config.read().get("latency-tracking").is_none_or(|v| v == "yes");
        self.cmdlatency.enabled.store(on, Ordering::Relaxed);
    }

    pub fn new(config: crate::config::Config) -> Self {
        let core = Arc::new(Core::new(config));
        let repl = Arc::new(crate::repl::Replication::new(core.clone()));
        let persist = Arc::new(crate::persist::Persistence::new(core.clone()));
        core.stream.connect(vec![repl.backlog.clone(), persist.clone()]);
        let shared = Shared {
            core,
            persist,
            blocking: Default::default(),
            pubsub: Default::default(),
            me: OnceLock::new(),
            repl,
            cluster: OnceLock::new(),
            cmdstats: Default::default(),
            cmdlatency: Default::default(),
            lazyfree: Default::default(),
            startup_memory: if crate::alloc::is_installed() { crate::alloc::allocated() as u64 } else { 0 },
            slowlog: Default::default(),
            errorstats: Default::default(),
            monitors: Default::default(),
            clients: Mutex::new(HashMap::new()),
            scripting: Default::default(),
            tracking: Default::default(),
        };
        shared.follow_latency_tracking();
        shared
    }

    /// The `Arc` this state lives in (for threads started by commands).
    pub fn self_arc(&self) -> Option<Arc<Shared>> {
        self.me.get().and_then(|w| w.upgrade())
    }
}
