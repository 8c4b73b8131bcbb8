//! slotbox-proxy: a twemproxy (nutcracker 0.5) compatible Redis load balancer on mio event
//! loops, with Redis Cluster backend pools and replica reads, transactions and pub/sub
//! through pinned backend connections, hot reload and Prometheus metrics. [`Proxy`] starts
//! one from a nutcracker.yml text; the binary (`main.rs`) adds the command line and signals.

pub mod cli;
pub mod cmdstats;
pub mod config;
pub mod daemon;
pub mod error;
pub mod fanout;
pub mod hot_cache;
pub mod latency;
pub mod local;
#[macro_use]
pub mod log;
pub mod metrics;
mod net;
pub mod process;
pub mod sentinel;
pub mod stats;

/// The key hash functions and distributions live in `slotbox-partition` (shared with
/// client-side partitioning and `slotbox-cluster ring-sim`).
pub use slotbox_partition::{hash, router};

pub use config::PoolConfig;
pub use error::{ConfigError, ProxyError};
pub use net::{ListenAddr, PoolChange, ReloadReport};

use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Start-up options beyond the config file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Worker threads (0: one per core).
    pub workers: usize,
    /// Address of the stats port (`-s`), e.g. `127.0.0.1:22222`.
    pub stats_addr: Option<String>,
    /// nutcracker's `-i`: the stats port serves a document aggregated at most this many ms
    /// ago (None: always current).
    pub stats_interval_ms: Option<u64>,
    /// Deal new clients to the workers round-robin instead of to the first one with room
    /// (the load balancer still gathers a light load and spreads a heavy one).
    pub round_robin: bool,
}

/// A running proxy; dropping it stops it.
pub struct Proxy {
    running: net::Running,
    stats_addr: Option<SocketAddr>,
    stats_stop: Arc<AtomicBool>,
    stats_thread: Option<std::thread::JoinHandle<()>>,
    metrics_addr: Option<SocketAddr>,
    metrics_thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    /// Parse `yaml` (nutcracker.yml) and start every pool.
    pub fn start(yaml: &str, opts: Options) -> Result<Proxy, ProxyError> {
        Proxy::with_pools(config::parse(yaml)?, opts)
    }

    /// Start from already parsed pools.
    pub fn with_pools(pools: Vec<PoolConfig>, opts: Options) -> Result<Proxy, ProxyError> {
        let workers = match opts.workers {
            0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            n => n,
        };
        let running = net::start(pools, workers, opts.round_robin)?;
        let stats_stop = Arc::new(AtomicBool::new(false));
        let (stats_addr, stats_thread) = match &opts.stats_addr {
            Some(a) => {
                let (l, addr) = stats::bind(a).map_err(|e| ProxyError::io(format!("stats port {a}"), e))?;
                let (st, stop) = (running.stats.clone(), stats_stop.clone());
                let interval = opts.stats_interval_ms.map(std::time::Duration::from_millis);
                (Some(addr), Some(std::thread::spawn(move || stats::serve(l, st, stop, interval))))
            }
            None => (None, None),
        };
        Ok(Proxy { running, stats_addr, stats_stop, stats_thread, metrics_addr: None, metrics_thread: None })
    }

    /// Serve Prometheus metrics (`GET /metrics`, HTTP/1.0) on `addr`, e.g. `127.0.0.1:9121`
    /// (port 0: a free one). Returns the bound address.
    pub fn serve_metrics(&mut self, addr: &str) -> Result<SocketAddr, ProxyError> {
        if let Some(a) = self.metrics_addr {
            return Ok(a);
        }
        let (l, a) = metrics::bind(addr).map_err(|e| ProxyError::io(format!("metrics port {addr}"), e))?;
        let (st, stop) = (self.running.stats.clone(), self.stats_stop.clone());
        self.metrics_thread = Some(std::thread::spawn(move || metrics::serve(l, st, stop)));
        self.metrics_addr = Some(a);
        Ok(a)
    }

    /// The metrics address, when serving.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The Prometheus exposition text the metrics endpoint serves.
    pub fn metrics_text(&self) -> String {
        metrics::render(&self.running.stats)
    }

    /// Apply a new configuration to the running pools without dropping clients: servers
    /// added, removed or reweighted, and the other pool keys. Pools are matched by name;
    /// a changed `listen` or `cluster`, and pools added or removed, need a restart and are
    /// reported in [`ReloadReport::ignored`]. Returns once every worker runs the new config.
    pub fn reload(&self, pools: Vec<PoolConfig>) -> Result<ReloadReport, ProxyError> {
        self.running.reload(pools)
    }

    /// [`Proxy::reload`] from nutcracker.yml text; an invalid text changes nothing.
    pub fn reload_yaml(&self, yaml: &str) -> Result<ReloadReport, ProxyError> {
        self.reload(config::parse(yaml)?)
    }

    /// The TCP listen address of each pool, in config order (`0.0.0.0:0` for a pool that
    /// listens on a unix socket: see [`Proxy::listen_addrs`]).
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.running.addrs
    }

    /// Where each pool listens, TCP or unix socket, in config order.
    pub fn listen_addrs(&self) -> &[ListenAddr] {
        &self.running.listen
    }

    /// The first pool's address.
    pub fn addr(&self) -> SocketAddr {
        self.running.addrs[0]
    }

    /// The stats port's address, when enabled.
    pub fn stats_addr(&self) -> Option<SocketAddr> {
        self.stats_addr
    }

    /// The stats document as the stats port serves it.
    pub fn stats_json(&self) -> String {
        self.running.stats.to_json()
    }

    /// Stop and wait for every thread.
    pub fn stop(&mut self) {
        self.stats_stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in [self.stats_thread.take(), self.metrics_thread.take()].into_iter().flatten() {
            let _ = t.join();
        }
        self.running.stop();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop();
    }
}
