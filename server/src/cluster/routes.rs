//! The routing table read on every command in cluster mode: per slot, the owner, the node a
//! slot is migrating to and the node it is importing from, as atomics (no lock on the request
//! path). Nodes are named by small handles; their addresses sit in a table read only to build
//! a redirect. Written by `ClusterState` after every configuration change.

use parking_lot::RwLock;
use slotbox_protocol::SLOT_COUNT;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

pub const NONE: u32 = u32::MAX;

pub struct RouteTable {
    owner: Box<[AtomicU32]>,
    migrating: Box<[AtomicU32]>,
    importing: Box<[AtomicU32]>,
    /// Handle of this node's master when it is a replica (NONE otherwise).
    pub my_master: AtomicU32,
    pub my_handle: AtomicU32,
    pub ok: AtomicBool,
    addrs: RwLock<Vec<(String, u16)>>,
}

fn atomics() -> Box<[AtomicU32]> {
    (0..SLOT_COUNT).map(|_| AtomicU32::new(NONE)).collect()
}

impl Default for RouteTable {
    fn default() -> Self {
        RouteTable {
            owner: atomics(),
            migrating: atomics(),
            importing: atomics(),
            my_master: AtomicU32::new(NONE),
            my_handle: AtomicU32::new(NONE),
            ok: AtomicBool::new(false),
            addrs: RwLock::new(Vec::new()),
        }
    }
}

/// One slot's routing facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotRoute {
    pub owner: u32,
    pub migrating_to: u32,
    pub importing_from: u32,
}

impl RouteTable {
    pub fn slot(&self, slot: u16) -> SlotRoute {
        let i = slot as usize;
        SlotRoute {
            owner: self.owner[i].load(Ordering::Acquire),
            migrating_to: self.migrating[i].load(Ordering::Acquire),
            importing_from: self.importing[i].load(Ordering::Acquire),
        }
    }

    /// Store a slot's route. Unchanged entries are not written: a republish after a change
    /// to one slot leaves the other slots' cache lines shared by the I/O threads reading them.
    pub fn set_slot(&self, slot: u16, r: SlotRoute) {
        let i = slot as usize;
        let store = |a: &AtomicU32, v: u32| {
            if a.load(Ordering::Relaxed) != v {
                a.store(v, Ordering::Release);
            }
        };
        store(&self.owner[i], r.owner);
        store(&self.migrating[i], r.migrating_to);
        store(&self.importing[i], r.importing_from);
    }

    /// "ip:port" of a node handle.
    pub fn addr(&self, handle: u32) -> Option<(String, u16)> {
        self.addrs.read().get(handle as usize).cloned()
    }

    pub fn set_addr(&self, handle: u32, ip: &str, port: u16) {
        let mut a = self.addrs.write();
        let i = handle as usize;
        if a.len() <= i {
            a.resize(i + 1, (String::new(), 0));
        }
        if a[i].0 != ip || a[i].1 != port {
            a[i] = (ip.to_string(), port);
        }
    }

    pub fn me(&self) -> u32 {
        self.my_handle.load(Ordering::Relaxed)
    }

    pub fn is_ok(&self) -> bool {
        self.ok.load(Ordering::Acquire)
    }
}
