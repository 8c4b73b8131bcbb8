//! One hash slot's keys ([`Shard`]) and the guard that holds its lock ([`SlotGuard`]).

use super::{Entry, Key};
use hashbrown::hash_map::EntryRef;
use hashbrown::HashMap;
use parking_lot::MutexGuard;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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
        // One probe of the table, whether the key is there or not.
        let old = match self.map.entry_ref(key) {
            EntryRef::Occupied(mut slot) => Some(std::mem::replace(slot.get_mut(), entry)),
            EntryRef::Vacant(slot) => {
                slot.insert(entry);
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

    /// Drop every expired key; returns how many were removed. The TTLs left on the keys kept
    /// are added to `ttls` (sum in ms, count) for INFO's `avg_ttl`.
    pub fn purge_expired(&mut self, now_ms: i64, on_expired: &dyn Fn(&[u8]), ttls: &mut (i64, i64)) -> usize {
        if self.volatile == 0 {
            return 0;
        }
        let before = self.map.len();
        let watchers = self.watchers.as_deref();
        self.map.retain(|k, e| {
            let keep = !e.is_expired(now_ms);
            if keep && e.expire_at != 0 {
                ttls.0 += e.expire_at - now_ms;
                ttls.1 += 1;
            }
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
    pub(super) guard: MutexGuard<'a, Shard>,
    pub(super) _held: crate::gate::check::Held,
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
