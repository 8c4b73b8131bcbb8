//! slotbox-proxy: a twemproxy (nutcracker 0.5) compatible Redis load balancer on mio event
//! loops, with Redis Cluster backend pools and replica reads. [`Proxy`] starts one from a
//! nutcracker.yml text; the binary (`main.rs`) adds the command line.

pub mod config;
pub mod error;
pub mod fanout;
pub mod hash;
pub mod local;
mod net;
pub mod router;
pub mod stats;

pub use config::PoolConfig;
pub use error::{ConfigError, ProxyError};

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
}

/// A running proxy; dropping it stops it.
pub struct Proxy {
    running: net::Running,
    stats_addr: Option<SocketAddr>,
    stats_stop: Arc<AtomicBool>,
    stats_thread: Option<std::thread::JoinHandle<()>>,
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
        let running = net::start(pools, workers)?;
        let stats_stop = Arc::new(AtomicBool::new(false));
        let (stats_addr, stats_thread) = match &opts.stats_addr {
            Some(a) => {
                let (l, addr) = stats::bind(a).map_err(|e| ProxyError::io(format!("stats port {a}"), e))?;
                let (st, stop) = (running.stats.clone(), stats_stop.clone());
                (Some(addr), Some(std::thread::spawn(move || stats::serve(l, st, stop))))
            }
            None => (None, None),
        };
        Ok(Proxy { running, stats_addr, stats_stop, stats_thread })
    }

    /// The listen address of each pool, in config order.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.running.addrs
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
        if let Some(t) = self.stats_thread.take() {
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
