//! slotbox: embedded API. Start slotbox servers in-process on free loopback ports, for tests,
//! benchmarks and your own test suites.
//!
//! ```no_run
//! let server = slotbox::Server::start().unwrap();
//! println!("slotbox listening on {}", server.addr());
//! // ... connect any Redis client to server.addr() ...
//! drop(server); // stops it
//! ```

mod cluster;
mod proxy;
pub use proxy::Proxy;

pub use cluster::{slot_ranges, Cluster, ClusterBuilder};
/// Key hash functions and distributions (the proxy's), for client-side partitioning.
pub use slotbox_partition as partition;
pub use slotbox_protocol as protocol;

/// Count allocations so `INFO memory` reports real `used_memory` for embedded servers too.
#[global_allocator]
static ALLOC: slotbox_server::alloc::CountingAlloc = slotbox_server::alloc::CountingAlloc;
pub use slotbox_server::{Config, ServerHandle};

/// A slotbox server running inside this process.
pub struct Server {
    handle: ServerHandle,
}

impl Server {
    /// Start a server on 127.0.0.1 with a free port and default settings.
    pub fn start() -> std::io::Result<Server> {
        Server::with_config(Config::ephemeral())
    }

    /// Start a server with `config` (use [`Config::ephemeral`] as a base for port 0).
    pub fn with_config(config: Config) -> std::io::Result<Server> {
        Ok(Server { handle: slotbox_server::start(config)? })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.handle.addr()
    }

    /// `redis://127.0.0.1:port/` for client libraries.
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr())
    }

    /// The server's in-process handle (shared state, stop).
    pub fn handle(&self) -> &ServerHandle {
        &self.handle
    }
}
