//! [`ClusterState`]: the only public cluster API. It owns this node's view of the cluster
//! ([`ClusterInner`], behind one lock), persists it to `nodes.conf` on every change, publishes
//! routing facts to the lock-free [`RouteTable`], and offers the operations behind the CLUSTER
//! commands (`ops.rs`). The bus (`bus.rs`, `gossip.rs`) updates it from messages.

use super::bus_handle::BusHandle;
pub use super::inner::{ClusterConfig, ClusterInner};
use super::node::{flags, Node};
use super::routes::RouteTable;
use hashbrown::HashMap;
use parking_lot::{Mutex, MutexGuard};
use slotbox_protocol::SLOT_COUNT;

/// One bus link as CLUSTER LINKS shows it (refreshed by the bus every 100 ms).
#[derive(Debug, Clone)]
pub struct LinkInfo {
    pub inbound: bool,
    pub node: String,
    pub create_time: i64,
    pub events: String,
    pub send_buffer_allocated: usize,
    pub send_buffer_used: usize,
}

pub struct ClusterState {
    pub links: Mutex<Vec<LinkInfo>>,
    inner: Mutex<ClusterInner>,
    pub routes: RouteTable,
    pub config: ClusterConfig,
    /// Writes nodes.conf (with fsync) off the bus thread, newest version first.
    saver: super::nodes_conf::Saver,
    /// The bus thread's handle, set once the bus runs.
    pub bus: std::sync::OnceLock<BusHandle>,
}

impl ClusterState {
    /// A fresh single-node cluster, or the one saved in `config.config_file`.
    pub fn open(config: ClusterConfig, ip: &str, port: u16, cport: u16) -> Result<ClusterState, String> {
        let now = crate::clock::unix_time_ms();
        let loaded = super::nodes_conf::load(&config.config_file, now)?;
        let inner = match loaded {
            Some(mut inner) => {
                // Our own address may have changed since the file was written.
                let me = inner.me_mut();
                me.port = port;
                me.cport = cport;
                if me.ip.is_empty() {
                    me.ip = ip.to_string();
                }
                inner
            }
            None => {
                let id = crate::rand::random_hex(40);
                let me = Node::new(id.clone(), ip.to_string(), port, cport, flags::MYSELF | flags::MASTER, now);
                let mut nodes = HashMap::new();
                nodes.insert(id.clone(), me);
                ClusterInner::new(id, nodes, vec![None; SLOT_COUNT], HashMap::new(), HashMap::new(), 0, 0)
            }
        };
        let state = ClusterState {
            links: Mutex::new(Vec::new()),
            inner: Mutex::new(inner),
            routes: RouteTable::default(),
            config: config.clone(),
            bus: std::sync::OnceLock::new(),
            saver: super::nodes_conf::Saver::new(config.config_file.clone()),
        };
        {
            let mut g = state.inner.lock();
            state.commit(&mut g);
        }
        Ok(state)
    }

    /// Lock the cluster view. Callers that change it must finish with [`ClusterState::commit`].
    pub fn lock(&self) -> MutexGuard<'_, ClusterInner> {
        self.inner.lock()
    }

    /// Persist and publish a changed view (nodes.conf + route table + cluster state).
    pub fn commit(&self, g: &mut ClusterInner) {
        let was_ok = g.state_ok;
        super::health::update_state(&self.config, g);
        if g.dirty || was_ok != g.state_ok {
            super::publish::publish(&self.routes, g);
        }
        if g.dirty {
            g.dirty = false;
            let text = super::nodes_conf::file_text(g);
            self.saver.submit(text);
        }
    }

    pub fn myself_id(&self) -> String {
        self.inner.lock().myself.clone()
    }
}
