//! The keyspace, partitioned by hash slot: one map per slot, each behind its own lock, so
//! threads working on different slots never contend. A command locks the slots of its keys
//! (in ascending order) through [`Db::lock_slots`] and works on the returned [`KeyView`].
//! Whole-keyspace operations (DBSIZE, FLUSHALL, SCAN, KEYS) visit one slot at a time.
//! This module knows nothing about commands or connections.

pub mod expire;
pub mod glob;
mod key;
pub mod listpack;
pub mod lru;
pub mod quicklist;
pub mod serialize;
pub mod skiplist;
pub mod snapshot;
pub mod thin;
pub mod types;
pub mod value;
mod view;

use hashbrown::HashMap;
use parking_lot::{Mutex, MutexGuard};
use slotbox_protocol::SLOT_COUNT;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

pub use value::{Entry, Value};
pub use view::KeyView;

pub use key::Key;

/// Flags of the clients WATCHing keys of one slot; a write to the key sets them.
pub type Watchers = HashMap<Key, Vec<Arc<AtomicBool>>>;

/// One slot's keys.
#[derive(Default)]
pub struct Shard {
    pub map: HashMap<Key, Entry>,
    /// Keys in `map` with an expiry, so the active cycle skips slots without any.
    pub volatile: usize,
    /// WATCHed keys of this slot (None when nobody watches, the common case).
    pub watchers: Option<Box<Watchers>>,
}

impl Shard {
    /// Mark `key` as modified for the clients watching it.
    #[inline]
    pub fn touch(&self, key: &[u8]) {
        if let Some(w) = &self.watchers {
            if let Some(flags) = w.get(key) {
                for f in flags {
                    f.store(true, Ordering::Release);
                }
            }
        }
    }

    /// Mark every watched key of this slot that exists as modified (FLUSHALL, slot flush):
    /// as in Redis, watching a missing key is not broken by a flush.
    pub fn touch_all(&self) {
        if let Some(w) = &self.watchers {
            for (k, flags) in w.iter() {
                if self.map.contains_key(k) {
                    flags.iter().for_each(|f| f.store(true, Ordering::Release));
                }
            }
        }
    }

    /// Register a watcher flag for `key`.
    pub fn watch(&mut self, key: &[u8], flag: &Arc<AtomicBool>) {
        let w = self.watchers.get_or_insert_with(Default::default);
        w.entry(key.into()).or_default().push(flag.clone());
    }

    /// Remove a watcher flag for `key`.
    pub fn unwatch(&mut self, key: &[u8], flag: &Arc<AtomicBool>) {
        if let Some(w) = &mut self.watchers {
            if let Some(v) = w.get_mut(key) {
                v.retain(|f| !Arc::ptr_eq(f, flag));
                if v.is_empty() {
                    w.remove(key);
                }
            }
            if w.is_empty() {
                self.watchers = None;
            }
        }
    }

    /// Remove `key`, keeping the volatile count right. Returns the removed entry.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let e = self.map.remove(key)?;
        if e.expire_at != 0 {
            self.volatile -= 1;
        }
        Some(e)
    }

    /// Insert or replace `key`, keeping the volatile count right.
    pub fn insert(&mut self, key: &[u8], entry: Entry) -> Option<Entry> {
        if entry.expire_at != 0 {
            self.volatile += 1;
        }
        let old = match self.map.get_mut(key) {
            Some(slot) => Some(std::mem::replace(slot, entry)),
            None => {
                self.map.insert(key.into(), entry);
                None
            }
        };
        if let Some(o) = &old {
            if o.expire_at != 0 {
                self.volatile -= 1;
            }
        }
        old
    }

    /// Set the expiry of an existing key (0 = persist). Returns false if the key is absent.
    pub fn set_expire(&mut self, key: &[u8], at: i64) -> bool {
        let Some(e) = self.map.get_mut(key) else { return false };
        match (e.expire_at != 0, at != 0) {
            (false, true) => self.volatile += 1,
            (true, false) => self.volatile -= 1,
            _ => {}
        }
        e.expire_at = at;
        true
    }

    /// Drop every expired key; returns how many were removed.
    pub fn purge_expired(&mut self, now_ms: i64, on_expired: &dyn Fn(&[u8])) -> usize {
        if self.volatile == 0 {
            return 0;
        }
        let before = self.map.len();
        let watchers = self.watchers.as_deref();
        self.map.retain(|k, e| {
            let keep = !e.is_expired(now_ms);
            if !keep {
                on_expired(k);
                if let Some(flags) = watchers.and_then(|w| w.get(k)) {
                    flags.iter().for_each(|f| f.store(true, Ordering::Release));
                }
            }
            keep
        });
        let removed = before - self.map.len();
        self.volatile -= removed;
        removed
    }
}

/// One locked slot (debug builds also record it for the lock-order checks of `crate::gate`).
pub struct SlotGuard<'a> {
    guard: MutexGuard<'a, Shard>,
    _held: crate::gate::check::Held,
}

impl Deref for SlotGuard<'_> {
    type Target = Shard;
    fn deref(&self) -> &Shard {
        &self.guard
    }
}

impl DerefMut for SlotGuard<'_> {
    fn deref_mut(&mut self) -> &mut Shard {
        &mut self.guard
    }
}

/// The whole keyspace of database 0.
/// Called with each key deleted by expiry (a master propagates it as DEL).
pub type ExpireHook = Box<dyn Fn(&[u8]) + Send + Sync>;

pub struct Db {
    shards: Box<[Mutex<Shard>]>,
    /// True on a replica: keys are not expired locally (the master sends DELs), only hidden.
    replica: AtomicBool,
    expire_hook: std::sync::OnceLock<ExpireHook>,
    /// Keys removed by lazy or active expiry.
    pub expired_keys: AtomicU64,
    /// The keys' access clock settings (LRU / LFU).
    pub clock: lru::AccessClock,
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

    /// Lock the given slots (any order, duplicates allowed) in ascending order.
    pub fn lock_slots(&self, slots: &mut [u16]) -> KeyView<'_> {
        slots.sort_unstable();
        let mut view = KeyView::new(self);
        view.expire_on_access = !self.is_replica();
        let mut last = None;
        for &s in slots.iter() {
            if last != Some(s) {
                view.push(s, self.shard(s));
                last = Some(s);
            }
        }
        view
    }

    /// Lock every slot (for FLUSHALL inside MULTI and similar whole-keyspace atomics).
    pub fn lock_all(&self) -> KeyView<'_> {
        let mut view = KeyView::new(self);
        for s in 0..self.shards.len() {
            view.push(s as u16, self.shard(s as u16));
        }
        view
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
