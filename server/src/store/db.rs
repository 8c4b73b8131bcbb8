//! [`Db`]: one numbered database (`SELECT`), one [`Shard`] per hash slot, each behind its own
//! lock, and the state all databases of a server share ([`Common`], reached through `Db`).
//! Whole-database operations (DBSIZE, FLUSHDB, SCAN, KEYS) visit one slot at a time; a
//! command's keys are locked through `Db::lock_slots` (in `view.rs`, with the view it returns).

use super::{lru, Node, Shard, SlotGuard};
use parking_lot::Mutex;
use slotbox_protocol::SLOT_COUNT;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// What happened to a key without a command asking for it by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyEvent {
    /// Removed by lazy or active expiry (a master propagates it as DEL).
    Expired,
    /// Removed by `maxmemory` eviction (propagated as DEL too).
    Evicted,
    /// A new key was stored (reported only while `Common::report_new` is on).
    Created,
    /// A read command found no such key (reported only while `Common::report_miss` is on).
    Missed,
}

/// Called with the database, the key and what happened to it (the server propagates and
/// notifies).
pub type ExpireHook = Box<dyn Fn(usize, &[u8], KeyEvent) + Send + Sync>;

/// What every database of one server shares.
pub struct Common {
    /// True on a replica: keys are not expired locally (the master sends DELs), only hidden.
    replica: AtomicBool,
    expire_hook: std::sync::OnceLock<ExpireHook>,
    /// Keys removed by lazy or active expiry.
    pub expired_keys: AtomicU64,
    /// The keys' access clock settings (LRU / LFU).
    pub clock: lru::AccessClock,
    /// The active expiry cycle runs (`DEBUG SET-ACTIVE-EXPIRE`); lazy expiry always does.
    pub active_expire: AtomicBool,
    /// New keys are reported to the hook (keyspace notifications of class `n` are on).
    pub report_new: AtomicBool,
    /// Key misses of reads are reported to the hook (keyspace notifications of class `m`).
    pub report_miss: AtomicBool,
}

impl Default for Common {
    fn default() -> Self {
        Common {
            expired_keys: AtomicU64::new(0),
            active_expire: AtomicBool::new(true),
            report_new: AtomicBool::new(false),
            report_miss: AtomicBool::new(false),
            replica: AtomicBool::new(false),
            expire_hook: std::sync::OnceLock::new(),
            clock: Default::default(),
        }
    }
}

impl Common {
    /// Which key events the hook hears besides expiry and eviction: new keys, key misses.
    pub fn set_reports(&self, new_keys: bool, misses: bool) {
        self.report_new.store(new_keys, Ordering::Relaxed);
        self.report_miss.store(misses, Ordering::Relaxed);
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

    /// Record keys removed by expiry.
    pub fn note_expired(&self, n: usize) {
        if n > 0 {
            self.expired_keys.fetch_add(n as u64, Ordering::Relaxed);
        }
    }
}

/// One slot's lock and map header on one cache line of its own: locking a slot brings in
/// its map's header with the same miss, and neighbouring slots locked by other threads never
/// share the line.
#[repr(align(64))]
struct LineShard(Mutex<Shard>);

impl std::ops::Deref for LineShard {
    type Target = Mutex<Shard>;
    fn deref(&self) -> &Mutex<Shard> {
        &self.0
    }
}

pub struct Db {
    /// Its number (`SELECT`).
    pub id: usize,
    /// One table per slot, allocated on first use (an unused database of the 16 costs nothing).
    shards: std::sync::OnceLock<Box<[LineShard]>>,
    /// Per slot, where its table keeps its nodes (`tablehint`), for prefetching without the
    /// lock; allocated with `shards`.
    hints: std::sync::OnceLock<Box<[AtomicU64]>>,
    common: Arc<Common>,
    /// INFO keyspace `avg_ttl` (ms): Redis's running estimate from the TTLs the active expiry
    /// cycle sees.
    avg_ttl: std::sync::atomic::AtomicI64,
}

impl std::ops::Deref for Db {
    type Target = Common;
    fn deref(&self) -> &Common {
        &self.common
    }
}

impl Default for Db {
    fn default() -> Self {
        Self::new()
    }
}

impl Db {
    /// A database 0 of its own (tests, tools).
    pub fn new() -> Self {
        Db::with_common(0, Arc::default())
    }

    /// Database `id` of a server whose databases share `common`.
    pub fn with_common(id: usize, common: Arc<Common>) -> Self {
        Db {
            id,
            shards: std::sync::OnceLock::new(),
            hints: std::sync::OnceLock::new(),
            common,
            avg_ttl: Default::default(),
        }
    }

    fn slots(&self) -> &[LineShard] {
        self.shards.get_or_init(|| {
            self.hints.get_or_init(|| (0..SLOT_COUNT).map(|_| AtomicU64::new(0)).collect());
            (0..SLOT_COUNT).map(|_| LineShard(Mutex::new(Shard::default()))).collect()
        })
    }

    /// Allocate the slot maps now rather than on first use.
    pub fn allocate(&self) {
        self.slots();
    }

    /// Has this database ever been used (its slot maps allocated)? An unused one has no keys.
    pub fn in_use(&self) -> bool {
        self.shards.get().is_some()
    }

    /// Tell the hook what happened to a key of this database.
    pub fn key_event(&self, key: &[u8], event: KeyEvent) {
        if let Some(h) = self.common.expire_hook.get() {
            h(self.id, key, event);
        }
    }

    /// Lock one slot.
    pub fn shard(&self, slot: u16) -> SlotGuard<'_> {
        let held = crate::gate::check::slot(self, slot);
        let guard = self.slots()[slot as usize].lock();
        // `slots()` allocated the hints first.
        let hint = &self.hints.get().expect("hints are allocated with the slots")[slot as usize];
        SlotGuard { guard, hint, _held: held }
    }

    /// Start bringing into this core's cache what the next request of a pipeline will touch
    /// first for `key` of `slot`: the slot's lock and table header (for writing), and the
    /// table's control group and first candidate nodes for `key` (see `tablehint`). Only a
    /// hint: nothing is read or locked.
    #[inline]
    pub fn prefetch_key(&self, slot: u16, key: &[u8]) {
        #[cfg(target_arch = "x86_64")]
        if let Some(slots) = self.shards.get() {
            if let Some(line) = slots.get(slot as usize) {
                // SAFETY: a prefetch reads and writes nothing; the address is a live slot.
                unsafe {
                    use std::arch::x86_64::{_mm_prefetch, _MM_HINT_ET0};
                    _mm_prefetch::<_MM_HINT_ET0>((line as *const LineShard).cast::<i8>());
                }
            }
        }
        if let Some(hint) = self.hints.get().and_then(|h| h.get(slot as usize)) {
            super::tablehint::prefetch(hint, key);
        }
    }

    /// Number of keys (expired keys not yet reclaimed included, as Redis's DBSIZE).
    pub fn len(&self) -> usize {
        if !self.in_use() {
            return 0;
        }
        (0..SLOT_COUNT as u16).map(|s| self.shard(s).len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// (keys, keys with expiry) for INFO keyspace.
    pub fn counts(&self) -> (usize, usize) {
        if !self.in_use() {
            return (0, 0);
        }
        (0..SLOT_COUNT as u16).fold((0, 0), |(k, v), s| {
            let g = self.shard(s);
            (k + g.len(), v + g.volatile)
        })
    }

    /// Swap every key with database `other` (SWAPDB; the caller holds the whole exec gate).
    /// WATCHed keys that exist on either side are touched, as Redis does.
    pub fn swap_keys(&self, other: &Db) {
        if !self.in_use() && !other.in_use() {
            return;
        }
        for s in 0..SLOT_COUNT as u16 {
            let (mut a, mut b) = if self.id < other.id {
                (self.shard(s), other.shard(s))
            } else {
                let b = other.shard(s);
                (self.shard(s), b)
            };
            a.touch_all();
            b.touch_all();
            a.swap_keys(&mut b);
            // Watchers belong to their database, not to the keys: the swapped-in keys are
            // watched by whoever watched them in this database.
            a.touch_all();
            b.touch_all();
        }
        let mine = self.avg_ttl.load(Ordering::Relaxed);
        self.avg_ttl.store(other.avg_ttl.swap(mine, Ordering::Relaxed), Ordering::Relaxed);
    }

    /// The keys with a TTL that the active expiry cycle just walked had `ttl_sum_ms` of TTL left
    /// over `samples` keys: move the estimate as Redis does (1/50 of the way per cycle).
    pub fn note_ttls(&self, ttl_sum_ms: i64, samples: i64) {
        if samples == 0 {
            return;
        }
        let avg = ttl_sum_ms / samples;
        let old = self.avg_ttl.load(Ordering::Relaxed);
        let new = if old == 0 { avg } else { (old / 50) * 49 + avg / 50 };
        self.avg_ttl.store(new, Ordering::Relaxed);
    }

    /// INFO keyspace's `avg_ttl` in ms (0 until the expiry cycle has seen a key with a TTL).
    pub fn avg_ttl(&self) -> i64 {
        self.avg_ttl.load(Ordering::Relaxed)
    }

    /// Remove every key. Returns how many were removed.
    pub fn flush(&self) -> usize {
        self.avg_ttl.store(0, Ordering::Relaxed);
        if !self.in_use() {
            return 0;
        }
        let mut n = 0;
        for s in 0..SLOT_COUNT as u16 {
            let mut g = self.shard(s);
            n += g.len();
            g.touch_all();
            g.clear();
        }
        n
    }

    /// Visit the live keys of one slot (expired ones are skipped, not removed).
    pub fn for_each_key_in_slot(&self, slot: u16, now_ms: i64, mut f: impl FnMut(&[u8], &Node)) {
        if !self.in_use() {
            return;
        }
        let g = self.shard(slot);
        for (k, e) in g.iter() {
            if !e.is_expired(now_ms) {
                f(k, e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_slot_takes_one_cache_line() {
        assert_eq!(std::mem::size_of::<super::LineShard>(), 64);
    }
}
