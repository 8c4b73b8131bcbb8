//! [`Db`]: the keyspace of database 0, one [`Shard`] per hash slot, each behind its own lock.
//! Whole-keyspace operations (DBSIZE, FLUSHALL, SCAN, KEYS) visit one slot at a time; a
//! command's keys are locked through `Db::lock_slots` (in `view.rs`, with the view it returns).

use super::{lru, Entry, Shard, SlotGuard};
use hashbrown::HashMap;
use parking_lot::Mutex;
use slotbox_protocol::SLOT_COUNT;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The whole keyspace of database 0.
/// Called with each key deleted by expiry (a master propagates it as DEL).
pub type ExpireHook = Box<dyn Fn(&[u8]) + Send + Sync>;

pub struct Db {
    pub(super) shards: Box<[Mutex<Shard>]>,
    /// True on a replica: keys are not expired locally (the master sends DELs), only hidden.
    replica: AtomicBool,
    expire_hook: std::sync::OnceLock<ExpireHook>,
    /// Keys removed by lazy or active expiry.
    pub expired_keys: AtomicU64,
    /// The keys' access clock settings (LRU / LFU).
    pub clock: lru::AccessClock,
    /// The active expiry cycle runs (`DEBUG SET-ACTIVE-EXPIRE`); lazy expiry always does.
    pub active_expire: AtomicBool,
}

impl Default for Db {
    fn default() -> Self {
        Self::new()
    }
}

impl Db {
    pub fn new() -> Self {
        let shards = (0..SLOT_COUNT).map(|_| Mutex::new(Shard::default())).collect();
        Db {
            shards,
            expired_keys: AtomicU64::new(0),
            active_expire: AtomicBool::new(true),
            replica: AtomicBool::new(false),
            expire_hook: std::sync::OnceLock::new(),
            clock: Default::default(),
        }
    }

    pub fn set_replica(&self, on: bool) {
        self.replica.store(on, Ordering::Relaxed);
    }

    pub fn is_replica(&self) -> bool {
        self.replica.load(Ordering::Relaxed)
    }

    pub fn set_expire_hook(&self, hook: ExpireHook) {
        let _ = self.expire_hook.set(hook);
    }

    /// Tell the hook a key expired.
    pub fn expired(&self, key: &[u8]) {
        if let Some(h) = self.expire_hook.get() {
            h(key);
        }
    }

    /// Lock one slot.
    pub fn shard(&self, slot: u16) -> SlotGuard<'_> {
        let held = crate::gate::check::slot(self, slot);
        SlotGuard { guard: self.shards[slot as usize].lock(), _held: held }
    }

    /// Number of keys (expired keys not yet reclaimed included, as Redis's DBSIZE).
    pub fn len(&self) -> usize {
        (0..SLOT_COUNT as u16).map(|s| self.shard(s).map.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// (keys, keys with expiry) for INFO keyspace.
    pub fn counts(&self) -> (usize, usize) {
        (0..SLOT_COUNT as u16).fold((0, 0), |(k, v), s| {
            let g = self.shard(s);
            (k + g.map.len(), v + g.volatile)
        })
    }

    /// Remove every key. Returns how many were removed.
    pub fn flush(&self) -> usize {
        let mut n = 0;
        for s in 0..SLOT_COUNT as u16 {
            let mut g = self.shard(s);
            n += g.map.len();
            g.touch_all();
            g.map = HashMap::new();
            g.volatile = 0;
        }
        n
    }

    /// Record keys removed by expiry.
    pub fn note_expired(&self, n: usize) {
        if n > 0 {
            self.expired_keys.fetch_add(n as u64, Ordering::Relaxed);
        }
    }

    /// Visit the live keys of one slot (expired ones are skipped, not removed).
    pub fn for_each_key_in_slot(&self, slot: u16, now_ms: i64, mut f: impl FnMut(&[u8], &Entry)) {
        let g = self.shard(slot);
        for (k, e) in g.map.iter() {
            if !e.is_expired(now_ms) {
                f(k, e);
            }
        }
    }
}
