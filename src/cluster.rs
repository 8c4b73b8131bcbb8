//! [`Cluster`]: an embedded Redis Cluster of slotbox nodes, in this process, on free loopback
//! ports. Each node gets its own temporary directory (for nodes.conf), the slots are split the
//! way `redis-cli --cluster create` splits them, every node learns the others through MEET,
//! and [`Cluster::start`] returns once every node reports `cluster_state:ok`. Dropping the
//! cluster stops the nodes and removes their directories.

use crate::Server;
use slotbox_server::Config;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// How to build a cluster.
#[derive(Debug, Clone)]
pub struct ClusterBuilder {
    masters: usize,
    replicas: usize,
    node_timeout_ms: u64,
    io_threads: usize,
}

impl Default for ClusterBuilder {
    fn default() -> Self {
        ClusterBuilder { masters: 3, replicas: 0, node_timeout_ms: 2000, io_threads: 1 }
    }
}

impl ClusterBuilder {
    /// Number of masters (at least 1; `redis-cli --cluster create` wants 3).
    pub fn masters(mut self, n: usize) -> Self {
        self.masters = n.max(1);
        self
    }

    /// Replicas per master (they replicate and can fail over).
    pub fn replicas(mut self, n: usize) -> Self {
        self.replicas = n;
        self
    }

    /// `cluster-node-timeout` of every node.
    pub fn node_timeout_ms(mut self, ms: u64) -> Self {
        self.node_timeout_ms = ms;
        self
    }

    /// Event-loop threads per node.
    pub fn io_threads(mut self, n: usize) -> Self {
        self.io_threads = n.max(1);
        self
    }

    pub fn start(self) -> std::io::Result<Cluster> {
        Cluster::start_with(self)
    }
}

/// A running embedded cluster.
pub struct Cluster {
    nodes: Vec<Option<Server>>,
    /// Each node's config with its real ports filled in, for restarts.
    configs: Vec<Config>,
    dirs: Vec<PathBuf>,
}

/// The slot ranges `redis-cli --cluster create` gives `masters` masters.
pub fn slot_ranges(masters: usize) -> Vec<(u16, u16)> {
    let per = 16384.0f32 / masters as f32;
    let mut first = 0i64;
    let mut cursor = 0.0f32;
    let mut out = Vec::new();
    for i in 0..masters {
        let mut last = (cursor + per - 1.0).round() as i64;
        if last > 16384 || i == masters - 1 {
            last = 16383;
        }
        if last < first {
            last = first;
        }
        out.push((first as u16, last as u16));
        first = last + 1;
        cursor += per;
    }
    out
}

impl Cluster {
    /// Start `masters` masters and assemble them.
    pub fn start(masters: usize) -> std::io::Result<Cluster> {
        ClusterBuilder::default().masters(masters).start()
    }

    pub fn builder() -> ClusterBuilder {
        ClusterBuilder::default()
    }

    fn start_with(b: ClusterBuilder) -> std::io::Result<Cluster> {
        let mut cluster = Cluster { nodes: Vec::new(), configs: Vec::new(), dirs: Vec::new() };
        for _ in 0..b.masters * (1 + b.replicas) {
            let dir = std::env::temp_dir().join(format!(
                "slotbox-cluster-{}-{}",
                std::process::id(),
                NEXT_DIR.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir)?;
            cluster.dirs.push(dir.clone());
            let mut config = Config::ephemeral();
            config.cluster_enabled = true;
            config.cluster_node_timeout = b.node_timeout_ms;
            config.io_threads = b.io_threads;
            config.dir = dir;
            let server = Server::with_config(config.clone())?;
            config.port = server.addr().port();
            config.cluster_port = server.handle().shared().cluster.get().map(|c| c.lock().me().cport).unwrap_or(0);
            cluster.configs.push(config);
            cluster.nodes.push(Some(server));
        }
        cluster.assemble(&slot_ranges(b.masters), b.replicas)?;
        cluster.wait_ok(Duration::from_secs(30))?;
        Ok(cluster)
    }

    fn state(&self, i: usize) -> &std::sync::Arc<slotbox_server::cluster::ClusterState> {
        self.node(i).handle().shared().cluster.get().expect("cluster mode")
    }

    /// Node `i` (panics if it is stopped).
    pub fn node(&self, i: usize) -> &Server {
        self.nodes[i].as_ref().expect("node is stopped")
    }

    /// Stop node `i` (its nodes.conf stays, so [`Cluster::start_node`] brings it back).
    pub fn stop_node(&mut self, i: usize) {
        self.nodes[i] = None;
    }

    /// Start a stopped node again on the same ports and directory.
    pub fn start_node(&mut self, i: usize) -> std::io::Result<()> {
        if self.nodes[i].is_some() {
            return Ok(());
        }
        // The node comes back on its own ports, which another socket (an outgoing
        // connection's ephemeral port) may hold for a moment: retry for up to 5 s.
        let mut tries = 0;
        loop {
            match Server::with_config(self.configs[i].clone()) {
                Ok(s) => {
                    self.nodes[i] = Some(s);
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && tries < 50 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn assemble(&self, ranges: &[(u16, u16)], replicas: usize) -> std::io::Result<()> {
        let err = |e: String| std::io::Error::other(e);
        for (i, &(a, b)) in ranges.iter().enumerate() {
            let cs = self.state(i);
            cs.add_slots(&(a..=b).collect::<Vec<u16>>()).map_err(err)?;
            cs.set_config_epoch(i as u64 + 1).map_err(err)?;
        }
        let first = self.state(0);
        for i in 1..self.nodes.len() {
            let cs = self.state(i);
            let (port, cport) = {
                let g = cs.lock();
                (g.me().port, g.me().cport)
            };
            first.meet("127.0.0.1", port, cport).map_err(err)?;
        }
        if replicas == 0 {
            return Ok(());
        }
        // Replicas: wait until they know their master, then CLUSTER REPLICATE.
        let masters = ranges.len();
        for r in masters..self.nodes.len() {
            let master = (r - masters) % masters;
            let master_id = self.state(master).myself_id();
            let cs = self.state(r);
            let deadline = Instant::now() + Duration::from_secs(30);
            while !cs.lock().nodes.contains_key(&master_id) {
                if Instant::now() > deadline {
                    return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "replica never learned its master"));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            cs.replicate(&master_id, true).map_err(err)?;
            cs.sync_replication(&self.node(r).handle().shared().repl);
        }
        Ok(())
    }

    /// Index of the node currently serving `slot` as master (asks node 0's view, or the first
    /// running node).
    pub fn master_of_slot(&self, slot: u16) -> Option<usize> {
        let i = (0..self.nodes.len()).find(|&i| self.nodes[i].is_some())?;
        let owner = self.state(i).lock().owners[slot as usize].clone()?;
        (0..self.nodes.len()).find(|&j| self.nodes[j].is_some() && self.state(j).myself_id() == owner)
    }

    /// Wait until every node knows every other node and reports `cluster_state:ok`.
    pub fn wait_ok(&self, timeout: Duration) -> std::io::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let ready = (0..self.nodes.len()).filter(|&i| self.nodes[i].is_some()).all(|i| {
                let g = self.state(i).lock();
                g.state_ok && g.nodes.len() == self.nodes.len()
            });
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "cluster did not reach cluster_state:ok",
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Client addresses of the nodes (stopped nodes included: their address is kept).
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.configs.iter().map(|c| SocketAddr::from(([127, 0, 0, 1], c.port))).collect()
    }

    /// `redis://127.0.0.1:port/` of every node, for cluster clients.
    pub fn urls(&self) -> Vec<String> {
        self.addrs().iter().map(|a| format!("redis://{a}/")).collect()
    }

    /// Bus (cluster) port of node `i`.
    pub fn bus_port(&self, i: usize) -> u16 {
        self.configs[i].cluster_port
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.nodes.clear();
        for d in &self.dirs {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ranges_match_redis_cli() {
        assert_eq!(super::slot_ranges(3), vec![(0, 5460), (5461, 10922), (10923, 16383)]);
        assert_eq!(super::slot_ranges(1), vec![(0, 16383)]);
    }
}
