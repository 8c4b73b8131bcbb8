//! slotbox-server: a Redis 7.0-compatible in-memory RESP server.
//!
//! # Layers
//!
//! Read bottom to top; a module imports only modules of lower layers (and its own files, with
//! no cycle among them), checked by `tests/layers.rs`:
//!
//! 1. leaves: `clock`, `alloc`, `stats`, `gate` (the lock rule), `latency`, `glob` (Redis's
//!    pattern matching), `listen` (listening sockets), `pause` (client pauses), `partition`
//!    (DEBUG PARTITION's deadline); then `log`, `rand`
//! 2. `config`: the settings and their directives
//! 3. `store`: the slot-partitioned keyspace and value types (no commands, no clients)
//! 4. `stream` (the write stream and its sinks), `mailbox` (reaching the event loops)
//! 5. `core`: what every layer above shares — keyspace, gate, config, counters, write stream
//! 6. per-client and per-server bookkeeping: `client` (ClientInfo), then `blocking`, `pubsub`,
//!    `cmdstats`, `evict`, `tracking` (client-side caching), `script` (the Lua interpreters:
//!    scripts and function libraries, calling commands only through the `Host` they are
//!    handed), then `monitor`, `notify` (keyspace notifications), `cmdlatency` (INFO
//!    latencystats) and `lazyfree` (UNLINK's background freeing)
//! 7. services on `Core`: `persist`, then `repl`, then `cluster` — fed by the write stream,
//!    handed what they run by the wiring (AOF replay, a replica's stream applier), never
//!    calling up
//! 8. `shared`: one server (Core plus services and bookkeeping)
//! 9. `commands`: the execution seam (`commands::exec`), the session, the registry, one
//!    family per folder; `shutdown` (the final save on SIGTERM / SIGINT)
//! 10. `net`: event loops and connections; this file wires a server together (`start`)
//! 11. `sentinel`: sentinel mode, its own event loop on the leaves (no keyspace, no commands)
//!
//! [`start`] runs a server in-process (threads, not a child process) and returns a
//! [`ServerHandle`] with its address; dropping the handle stops it. The binary
//! (`src/main.rs`) wraps the same function with config parsing, daemonize and pid files.

pub mod alloc;
pub mod blocking;
pub mod client;
pub mod clock;
pub mod cluster;
pub mod cmdlatency;
pub mod cmdstats;
pub mod commands;
pub mod config;
pub mod core;
pub mod evict;
pub mod gate;
pub mod glob;
pub mod latency;
pub mod lazyfree;
pub mod listen;
pub mod log;
pub mod mailbox;
pub mod monitor;
pub mod net;
pub mod notify;
pub mod partition;
pub mod pause;
pub mod persist;
pub mod pubsub;
pub mod rand;
pub mod repl;
pub mod script;
pub mod sentinel;
pub mod shared;
pub mod shutdown;
pub mod stats;
pub mod store;
pub mod stream;
pub mod tracking;

pub use config::Config;
pub use shared::Shared;

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

/// A running server. Dropping it shuts the server down and joins its threads.
pub struct ServerHandle {
    shared: Arc<Shared>,
    addrs: Vec<SocketAddr>,
    threads: Vec<JoinHandle<()>>,
}

impl ServerHandle {
    /// The first listening address (with the real port when the config asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Every listening address.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The server's shared state (keyspace, config, stats).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Block until the server stops (SHUTDOWN or [`ServerHandle::stop`] from another thread).
    pub fn wait(mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }

    /// Stop the server and join its threads.
    pub fn stop(mut self) {
        self.shutdown_and_join();
    }

    fn shutdown_and_join(&mut self) {
        self.shared.request_shutdown();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.shutdown_and_join();
    }
}

/// Start a server with `config`; returns once it is listening.
pub fn start(config: Config) -> std::io::Result<ServerHandle> {
    let replicaof = config.replicaof.clone();
    let shared = Arc::new(Shared::new(config));
    let weak = Arc::downgrade(&shared);
    let _ = shared.me.set(weak.clone());
    shared.keyspace.set_expire_hook(Box::new(move |db, key, event| {
        let Some(s) = weak.upgrade() else { return };
        use store::KeyEvent;
        let removed = matches!(event, KeyEvent::Expired | KeyEvent::Evicted);
        if removed && s.stream.is_active() && !s.keyspace.is_replica() {
            s.stream.feed_in_db(db, &[&b"DEL"[..], key]);
        }
        let (class, name) = match event {
            KeyEvent::Expired => (notify::class::EXPIRED, "expired"),
            KeyEvent::Evicted => (notify::class::EVICTED, "evicted"),
            KeyEvent::Created => (notify::class::NEW, "new"),
            KeyEvent::Missed => (notify::class::KEY_MISS, "keymiss"),
        };
        notify::emit(&s.core, &s.pubsub, class, name, key, db);
        if s.tracking.active() {
            match event {
                KeyEvent::Evicted => s.tracking.note_evicted(key),
                KeyEvent::Expired => commands::invalidate::key_changed(&s, key),
                KeyEvent::Created | KeyEvent::Missed => {}
            }
        }
    }));
    let weak = Arc::downgrade(&shared);
    let _ = shared.repl.applier.set(Box::new(move |peer, local| -> Box<dyn repl::StreamApplier> {
        Box::new(commands::replay::ReplicaApplier::new(weak.upgrade().expect("server alive"), peer, local))
    }));
    // Data is loaded before any client is served.
    let persist_thread = shared.persist.start(&mut commands::replay::aof_replayer(&shared))?;
    let s = shared.clone();
    let running = match net::start(shared.clone(), move |addrs| start_cluster(&s, addrs)) {
        Ok(r) => r,
        Err(e) => {
            shared.request_shutdown();
            let _ = persist_thread.join();
            return Err(e);
        }
    };
    if let Some(target) = replicaof {
        repl::replica::set_master(&shared.repl, Some(target));
    }
    let mut threads = running.threads;
    threads.push(persist_thread);
    Ok(ServerHandle { shared, addrs: running.addrs, threads })
}

/// In cluster mode: load or create the cluster state and start the bus, before any client
/// is served.
fn start_cluster(shared: &Arc<Shared>, addrs: &[SocketAddr]) -> std::io::Result<Vec<JoinHandle<()>>> {
    let c = shared.config.read().clone();
    if !c.cluster_enabled {
        return Ok(Vec::new());
    }
    let port = addrs[0].port();
    let bus_port = match (c.cluster_port, c.port) {
        (p, _) if p != 0 => p,
        (_, 0) => 0,
        _ => port
            .checked_add(10000)
            .ok_or_else(|| std::io::Error::other("port + 10000 is not a valid cluster bus port"))?,
    };
    let bus_addr = SocketAddr::new(addrs[0].ip(), bus_port);
    let listener = std::net::TcpListener::bind(bus_addr)
        .map_err(|e| std::io::Error::new(e.kind(), format!("Could not bind the cluster bus port {bus_addr}: {e}")))?;
    let bus_port = listener.local_addr()?.port();
    let ip = if !c.cluster_announce_ip.is_empty() {
        c.cluster_announce_ip.clone()
    } else if addrs[0].ip().is_unspecified() {
        String::new()
    } else {
        addrs[0].ip().to_string()
    };
    let cc = cluster::ClusterConfig {
        node_timeout: c.cluster_node_timeout as i64,
        require_full_coverage: c.cluster_require_full_coverage,
        allow_reads_when_down: c.cluster_allow_reads_when_down,
        announce_ip: (!c.cluster_announce_ip.is_empty()).then(|| c.cluster_announce_ip.clone()),
        announce_port: (c.cluster_announce_port != 0).then_some(c.cluster_announce_port),
        announce_bus_port: (c.cluster_announce_bus_port != 0).then_some(c.cluster_announce_bus_port),
        config_file: c.dir.join(&c.cluster_config_file),
        replica_no_failover: c.cluster_replica_no_failover,
        allow_replica_migration: c.cluster_allow_replica_migration,
        migration_barrier: c.cluster_migration_barrier,
        replica_validity_factor: c.cluster_replica_validity_factor,
    };
    let announced_port = cc.announce_port.unwrap_or(port);
    let announced_cport = cc.announce_bus_port.unwrap_or(bus_port);
    let state =
        Arc::new(cluster::ClusterState::open(cc, &ip, announced_port, announced_cport).map_err(std::io::Error::other)?);
    let services = (shared.core.clone(), shared.repl.clone(), shared.pubsub.clone());
    let (bus, thread) = cluster::bus::start(services, state.clone(), listener)?;
    let _ = state.bus.set(bus);
    let _ = shared.cluster.set(state);
    Ok(vec![thread])
}
