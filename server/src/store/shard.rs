//! One hash slot's keys ([`Shard`]) and the guard that holds its lock ([`SlotGuard`]).

use super::tablehint::{self, TableAlloc};
use super::{Entry, Key, Node};
use hashbrown::hash_table::Entry as Slot;
use hashbrown::{HashMap, HashTable};
use parking_lot::MutexGuard;
use std::hash::BuildHasher;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Flags of the clients WATCHing keys of one slot; a write to the key sets them.
pub type Watchers = HashMap<Key, Vec<Arc<AtomicBool>>>;

/// One slot's keys: a table of [`Node`]s (key, value, clock and expiry in 40 bytes).
#[derive(Default)]
pub struct Shard {
    /// Its allocator records where the nodes are for the event loops' prefetch
    /// (`tablehint`); every table hashes with the process's one hasher.
    table: HashTable<Node, TableAlloc>,
    /// Keys in the table with an expiry, so the active cycle skips slots without any.
    pub volatile: usize,
    /// WATCHed keys of this slot (None when nobody watches, the common case).
    pub watchers: Option<Box<Watchers>>,
}

impl Shard {
    #[inline]
    fn hash(&self, key: &[u8]) -> u64 {
        tablehint::hasher().hash_one(key)
    }

    /// Publish where the table keeps its nodes to `hint`, if that changed (under the lock).
    #[inline]
    pub fn publish(&self, hint: &std::sync::atomic::AtomicU64) {
        tablehint::publish(self.table.allocator(), hint);
    }

    /// The node of `key` (expired or not).
    #[inline]
    pub fn get(&self, key: &[u8]) -> Option<&Node> {
        self.table.find(self.hash(key), |n| n.key() == key)
    }

    /// The node of `key` (expired or not), mutable. A caller that changes its expiry tells
    /// [`Shard::count_expiry`] (or uses [`Shard::set_expire`]).
    #[inline]
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Node> {
        let hash = self.hash(key);
        self.table.find_mut(hash, |n| n.key() == key)
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Keys held, expired ones not yet reclaimed included.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Every node, in table order.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> + '_ {
        self.table.iter()
    }

    /// Every (key, node), in table order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Node)> + '_ {
        self.table.iter().map(|n| (n.key(), n))
    }

    /// Drop every key (watchers stay).
    pub fn clear(&mut self) {
        self.table = HashTable::new_in(TableAlloc::default());
        self.volatile = 0;
    }

    /// Exchange keys (not watchers) with `other` (SWAPDB).
    pub fn swap_keys(&mut self, other: &mut Shard) {
        std::mem::swap(&mut self.table, &mut other.table);
        self.table.allocator().moved();
        other.table.allocator().moved();
        std::mem::swap(&mut self.volatile, &mut other.volatile);
    }

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
                if self.contains_key(k) {
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
        let hash = self.hash(key);
        let (node, _) = self.table.find_entry(hash, |n| n.key() == key).ok()?.remove();
        let e = node.into_entry();
        self.count_expiry(e.expire_at, 0);
        Some(e)
    }

    /// Insert or replace `key`, keeping the volatile count right.
    pub fn insert(&mut self, key: &[u8], entry: Entry) -> Option<Entry> {
        let at = entry.expire_at;
        // One probe of the table, whether the key is there or not.
        let hash = self.hash(key);
        let hasher = tablehint::hasher();
        let old = match self.table.entry(hash, |n| n.key() == key, |n| hasher.hash_one(n.key())) {
            Slot::Occupied(mut slot) => Some(slot.get_mut().replace(entry)),
            Slot::Vacant(slot) => {
                slot.insert(Node::new(key, entry));
                None
            }
        };
        self.count_expiry(old.as_ref().map_or(0, |o| o.expire_at), at);
        old
    }

    /// Set the expiry of an existing key (0 = persist). Returns false if the key is absent.
    pub fn set_expire(&mut self, key: &[u8], at: i64) -> bool {
        let Some(e) = self.get_mut(key) else { return false };
        let was = e.expire_at();
        e.set_expire(at);
        self.count_expiry(was, at);
        true
    }

    /// Keep the count of keys with an expiry right when one key's expiry goes from `was` to
    /// `now` (0: none; a key added or removed counts as 0 on its missing side).
    pub fn count_expiry(&mut self, was: i64, now: i64) {
        match (was != 0, now != 0) {
            (false, true) => self.volatile += 1,
            (true, false) => self.volatile -= 1,
            _ => {}
        }
    }

    /// Drop every expired key; returns how many were removed. The TTLs left on the keys kept
    /// are added to `ttls` (sum in ms, count) for INFO's `avg_ttl`.
    pub fn purge_expired(&mut self, now_ms: i64, on_expired: &dyn Fn(&[u8]), ttls: &mut (i64, i64)) -> usize {
        if self.volatile == 0 {
            return 0;
        }
        let before = self.table.len();
        let watchers = self.watchers.as_deref();
        self.table.retain(|n| {
            let at = n.expire_at();
            let keep = !(at != 0 && now_ms > at);
            if keep && at != 0 {
                ttls.0 = ttls.0.saturating_add(at - now_ms);
                ttls.1 += 1;
            }
            if !keep {
                on_expired(n.key());
                if let Some(flags) = watchers.and_then(|w| w.get(n.key())) {
                    flags.iter().for_each(|f| f.store(true, Ordering::Release));
                }
            }
            keep
        });
        let removed = before - self.table.len();
        self.volatile -= removed;
        removed
    }
}

/// One locked slot (debug builds also record it for the lock-order checks of `crate::gate`).
pub struct SlotGuard<'a> {
    pub(super) guard: MutexGuard<'a, Shard>,
    /// The slot's published table record (`tablehint`), refreshed before the unlock.
    pub(super) hint: &'a std::sync::atomic::AtomicU64,
    pub(super) _held: crate::gate::check::Held,
}

impl Drop for SlotGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        self.guard.publish(self.hint);
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Value;

    /// The table against a plain map: keys of every form (inline, long, with and without a
    /// TTL) inserted, replaced, expired, persisted and removed at random.
    #[test]
    fn agrees_with_a_model_through_random_operations() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut shard = Shard::default();
        let mut model: std::collections::HashMap<Vec<u8>, (Value, i64)> = Default::default();
        for step in 0..20_000 {
            let len = [0, 3, 14, 19, 20, 40][next(6) as usize];
            let key: Vec<u8> = format!("{:0len$}", next(60)).into_bytes();
            let at = [0, 0, 5, 50, i64::MAX][next(5) as usize];
            match next(5) {
                0 | 1 => {
                    let v = Value::string(format!("v{step}").as_bytes());
                    let old = shard.insert(&key, Entry::with_expiry(v.clone(), at));
                    let was = model.insert(key.clone(), (v, at));
                    assert_eq!(old.map(|e| (e.value, e.expire_at)), was);
                }
                2 => assert_eq!(shard.remove(&key).map(|e| (e.value, e.expire_at)), model.remove(&key)),
                3 => {
                    let present = model.get_mut(&key).map(|e| e.1 = at).is_some();
                    assert_eq!(shard.set_expire(&key, at), present);
                }
                _ => {
                    let expired = shard.purge_expired(40, &|_| {}, &mut (0, 0));
                    let before = model.len();
                    model.retain(|_, (_, at)| *at == 0 || *at >= 40);
                    assert_eq!(expired, before - model.len());
                }
            }
            assert_eq!(shard.len(), model.len());
            assert_eq!(shard.volatile, model.values().filter(|(_, at)| *at != 0).count());
            let node = shard.get(&key).map(|n| (n.key().to_vec(), n.value.clone(), n.expire_at()));
            assert_eq!(node, model.get(&key).map(|(v, at)| (key.clone(), v.clone(), *at)));
        }
        let mut seen: Vec<Vec<u8>> = shard.iter().map(|(k, _)| k.to_vec()).collect();
        let mut want: Vec<Vec<u8>> = model.keys().cloned().collect();
        seen.sort();
        want.sort();
        assert_eq!(seen, want);
    }
}
