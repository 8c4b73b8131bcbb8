//! slotbox-server: a Redis 7.0-compatible in-memory RESP server.
//!
//! [`start`] runs a server in-process (threads, not a child process) and returns a
//! [`ServerHandle`] with its address; dropping the handle stops it. The binary
//! (`src/main.rs`) wraps the same function with config parsing, daemonize and pid files.

pub mod alloc;
pub mod blocking;
pub mod client;
pub mod commands;
pub mod config;
pub mod log;
pub mod net;
pub mod pubsub;
pub mod rand;
pub mod shared;
pub mod store;

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
    let shared = Arc::new(Shared::new(config));
    let running = net::start(shared.clone())?;
    Ok(ServerHandle { shared, addrs: running.addrs, threads: running.threads })
}
