//! [`Proxy`]: a slotbox-proxy running inside this process, started from a nutcracker.yml
//! text (use `listen: 127.0.0.1:0` for a free port), for tests, benches and users' suites.
//!
//! ```no_run
//! let redis = slotbox::Server::start().unwrap();
//! let yaml = format!("p:\n  listen: 127.0.0.1:0\n  servers:\n   - {}:1\n", redis.addr());
//! let proxy = slotbox::Proxy::start(&yaml).unwrap();
//! println!("proxy on {}", proxy.addr());
//! ```

use std::net::SocketAddr;

/// An in-process proxy; dropping it stops it.
pub struct Proxy {
    inner: slotbox_proxy::Proxy,
}

impl Proxy {
    /// Start every pool of `yaml` with two worker threads and no stats port.
    pub fn start(yaml: &str) -> std::io::Result<Proxy> {
        Proxy::with_options(yaml, slotbox_proxy::Options { workers: 2, stats_addr: None, ..Default::default() })
    }

    /// Start with explicit options (workers, stats address).
    pub fn with_options(yaml: &str, opts: slotbox_proxy::Options) -> std::io::Result<Proxy> {
        Ok(Proxy { inner: slotbox_proxy::Proxy::start(yaml, opts)? })
    }

    /// The first pool's listen address.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr()
    }

    /// Every pool's listen address, in config order.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.inner.addrs().to_vec()
    }

    /// `redis://host:port/` of the first pool.
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr())
    }

    /// nutcracker's stats JSON.
    pub fn stats_json(&self) -> String {
        self.inner.stats_json()
    }

    /// The stats port, if started with one.
    pub fn stats_addr(&self) -> Option<SocketAddr> {
        self.inner.stats_addr()
    }
}
