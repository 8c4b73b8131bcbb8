//! [`KeyView`]: the slots a command has locked, and key-level access to them with lazy expiry
//! (an expired key is removed the moment a command looks at it, as Redis does).

use super::{lru, Db, Entry, Node, Shard, SlotGuard, Value};
use slotbox_protocol::key_hash_slot;
use smallvec::SmallVec;

/// Locked slots of one command (or one transaction).
pub struct KeyView<'a> {
    db: &'a Db,
    guards: SmallVec<[(u16, SlotGuard<'a>); 2]>,
    /// The command's clock, in ms.
    pub now_ms: i64,
    /// When false (a replica), expired keys are hidden but not deleted.
    pub expire_on_access: bool,
    /// The command comes from this replica's master (its replication stream): no key is
    /// expired, hidden or deleted, whatever its TTL says on this node's clock. The master
    /// decided with the key alive and sends a DEL when it expires it (Redis's
    /// `expireIfNeeded` for the master client); hiding it here made PERSIST, EXPIRE,
    /// ZUNIONSTORE ... applied late on a replica miss a key the master saw.
    pub master_stream: bool,
    /// The running command's single key (address and length of its argument) and its slot,
    /// so key accesses skip the CRC16; replaced for every command.
    hint: Option<(usize, usize, u16)>,
    /// Keys this command modified, recorded only when `Some` (a client tracks keys for
    /// client-side caching: their readers are told). Expired keys are not recorded here:
    /// the keyspace hook reports them.
    pub modified: Option<Vec<bytes::Bytes>>,
}

impl<'a> KeyView<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        KeyView {
            db,
            guards: SmallVec::new(),
            now_ms: 0,
            expire_on_access: true,
            master_stream: false,
            hint: None,
            modified: None,
        }
    }

    /// Unlock every slot and forget the last command's settings: as [`KeyView::new`] left it.
    fn reset(&mut self) {
        self.guards.clear();
        self.now_ms = 0;
        self.expire_on_access = true;
        self.master_stream = false;
        self.hint = None;
        self.modified = None;
    }

    /// Add the guard of `slot`, above every slot already held (locks go in ascending order).
    pub(super) fn push(&mut self, slot: u16, guard: SlotGuard<'a>) {
        debug_assert!(self.guards.last().is_none_or(|(s, _)| *s < slot));
        self.guards.push((slot, guard));
    }

    /// Name the running command's key (the very slice its handler will pass) and its slot;
    /// `None` for commands with no or several keys. The argument outlives the command, so
    /// an equal address and length within the command means the same bytes.
    pub fn set_key_hint(&mut self, key: Option<(&[u8], u16)>) {
        self.hint = key.map(|(k, slot)| (k.as_ptr() as usize, k.len(), slot));
    }

    #[inline]
    fn slot_of(&self, key: &[u8]) -> u16 {
        match self.hint {
            Some((ptr, len, slot)) if ptr == key.as_ptr() as usize && len == key.len() => {
                debug_assert_eq!(slot, key_hash_slot(key));
                slot
            }
            _ => key_hash_slot(key),
        }
    }

    /// The locked shard holding `key`. Locks it if the command forgot to (a bug: debug builds
    /// assert), so that a wrong key spec can never crash a release server.
    pub fn shard(&mut self, key: &[u8]) -> &mut Shard {
        let slot = self.slot_of(key);
        // Guards are kept in ascending slot order (a command may hold thousands: SORT BY).
        let idx = match self.guards.binary_search_by_key(&slot, |(s, _)| *s) {
            Ok(i) => i,
            Err(i) => {
                debug_assert!(false, "slot {slot} accessed without being locked");
                self.guards.insert(i, (slot, self.db.shard(slot)));
                i
            }
        };
        &mut self.guards[idx].1
    }

    /// The shard of `slot` if this view holds its lock (whole-keyspace commands use it to
    /// visit a slot their transaction already locked instead of locking it again).
    pub fn locked_shard(&mut self, slot: u16) -> Option<&mut Shard> {
        let i = self.guards.binary_search_by_key(&slot, |(s, _)| *s).ok()?;
        Some(&mut *self.guards[i].1)
    }

    /// Locked slots, ascending.
    pub fn slots(&self) -> impl Iterator<Item = u16> + '_ {
        self.guards.iter().map(|(s, _)| *s)
    }

    /// Remove `key` if it is logically expired; true if it is (now) absent because of expiry.
    fn expire_if_needed(&mut self, key: &[u8]) -> bool {
        if self.master_stream {
            return false;
        }
        let now = self.now_ms;
        let delete = self.expire_on_access;
        let shard = self.shard(key);
        let expired = matches!(shard.get(key), Some(e) if e.is_expired(now));
        if expired && delete {
            shard.touch(key);
            shard.remove(key);
            self.db.key_event(key, super::KeyEvent::Expired);
            self.db.note_expired(1);
        }
        expired
    }

    /// The live entry of `key` (an access: its LRU / LFU clock moves).
    pub fn get(&mut self, key: &[u8]) -> Option<&Node> {
        // A slot without keys that expire needs one lookup, not two.
        if self.shard(key).volatile != 0 && self.expire_if_needed(key) {
            return None;
        }
        let (now, clock) = (self.now_ms, &self.db.clock);
        let e = self.shard(key).get_mut(key)?;
        e.touch(clock, now);
        Some(e)
    }

    /// The live entry of `key` without counting an access (OBJECT, eviction sampling).
    pub fn peek(&mut self, key: &[u8]) -> Option<&Node> {
        if self.shard(key).volatile != 0 && self.expire_if_needed(key) {
            return None;
        }
        self.shard(key).get(key)
    }

    fn note_modified(&mut self, key: &[u8]) {
        if let Some(m) = self.modified.as_mut() {
            m.push(bytes::Bytes::copy_from_slice(key));
        }
    }

    /// The live entry of `key`, mutable. Counts as a modification for WATCH.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Node> {
        if self.shard(key).volatile != 0 && self.expire_if_needed(key) {
            return None;
        }
        if self.modified.is_some() && self.shard(key).contains_key(key) {
            self.note_modified(key);
        }
        let (now, clock) = (self.now_ms, &self.db.clock);
        let shard = self.shard(key);
        shard.touch(key);
        let e = shard.get_mut(key)?;
        e.touch(clock, now);
        Some(e)
    }

    pub fn exists(&mut self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Insert or replace `key`; returns the previous live entry. The entry keeps its access
    /// clock (a new one starts now; RENAME moves an entry with its idle time, as Redis moves
    /// the object).
    pub fn insert(&mut self, key: &[u8], mut entry: Entry) -> Option<Entry> {
        let (now, clock) = (self.now_ms, &self.db.clock);
        if entry.lru == lru::UNSET {
            entry.lru = clock.fresh(now);
        }
        self.note_modified(key);
        let shard = self.shard(key);
        shard.touch(key);
        let old = shard.insert(key, entry);
        if old.as_ref().is_some_and(|o| o.is_expired(now)) {
            self.replaced_expired(key);
        }
        if self.db.report_new.load(std::sync::atomic::Ordering::Relaxed)
            && old.as_ref().is_none_or(|o| o.is_expired(now))
        {
            self.db.key_event(key, super::KeyEvent::Created);
        }
        let shard = self.shard(key);
        if clock.lfu_mode() {
            // Overwriting keeps the key's access frequency (as Redis's dbSetValue does).
            if let (Some(o), Some(e)) = (&old, shard.get_mut(key)) {
                e.set_lru(o.lru);
                e.touch(clock, now);
            }
        }
        let live = self.master_stream;
        old.filter(|e| live || !e.is_expired(now))
    }

    /// [`KeyView::insert`] of a fresh string value with `expire_at` (SET), done in place when
    /// `key` holds a live string of exactly as many bytes in an allocation of its own size:
    /// its bytes are overwritten (no allocation, no free; a fixed-size value SET again and
    /// again is common), and everything else is as `insert` leaves it. False, with nothing
    /// done, when that does not apply. Only for values no integer encoding would take.
    pub fn overwrite_string(&mut self, key: &[u8], value: &[u8], expire_at: i64) -> bool {
        debug_assert!(value.len() > 20, "a short value may be an integer");
        let (now, clock) = (self.now_ms, &self.db.clock);
        let master_stream = self.master_stream;
        let shard = self.shard(key);
        let Some(e) = shard.get_mut(key) else { return false };
        let fits =
            matches!(&e.value, Value::Str { data, .. } if data.len() == value.len() && data.heap_size() == data.len());
        if !fits || (e.is_expired(now) && !master_stream) {
            return false;
        }
        if let Value::Str { data, raw } = &mut e.value {
            data.copy_from_slice(value);
            *raw = false;
        }
        if clock.lfu_mode() {
            e.touch(clock, now);
        } else {
            e.set_lru(clock.fresh(now));
        }
        let was = e.expire_at();
        e.set_expire(expire_at);
        shard.count_expiry(was, expire_at);
        shard.touch(key);
        self.note_modified(key);
        true
    }

    /// Remove `key`; returns the live entry that was there.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let now = self.now_ms;
        let shard = self.shard(key);
        let old = shard.remove(key);
        if old.is_some() {
            shard.touch(key);
            self.note_modified(key);
        }
        match old {
            Some(e) if e.is_expired(now) && !self.master_stream => {
                self.replaced_expired(key);
                None
            }
            other => other,
        }
    }

    /// A write met `key` with its TTL past before any lookup expired it: count and report the
    /// expiry as Redis's `lookupKeyWrite` does first (its `expired` event, a DEL for the
    /// replication stream). A replica's view only hides such keys (its master sends the DEL)
    /// and the master's own stream never expires them.
    fn replaced_expired(&self, key: &[u8]) {
        if self.master_stream {
            return;
        }
        self.db.note_expired(1);
        if self.expire_on_access {
            self.db.key_event(key, super::KeyEvent::Expired);
        }
    }

    /// Set (or clear, with 0) the expiry of a live key. False if there is no such key.
    pub fn set_expire(&mut self, key: &[u8], at_ms: i64) -> bool {
        if self.get(key).is_none() {
            return false;
        }
        self.note_modified(key);
        let shard = self.shard(key);
        shard.touch(key);
        shard.set_expire(key, at_ms)
    }

    /// The database this view belongs to.
    pub fn db(&self) -> &'a Db {
        self.db
    }
}
impl Db {
    /// Lock the given slots (any order, duplicates allowed) in ascending order.
    pub fn lock_slots(&self, slots: &mut [u16]) -> KeyView<'_> {
        let mut view = KeyView::new(self);
        self.lock_into(&mut view, slots);
        view
    }

    /// Lock `slots` (sorted here, each once, in ascending order) into an empty `view`.
    fn lock_into<'a>(&'a self, view: &mut KeyView<'a>, slots: &mut [u16]) {
        debug_assert!(view.guards.is_empty());
        slots.sort_unstable();
        view.expire_on_access = !self.is_replica();
        let mut last = None;
        for &s in slots.iter() {
            if last != Some(s) {
                view.push(s, self.shard(s));
                last = Some(s);
            }
        }
    }

    /// [`Db::lock_slots`] into `view`: a view of this database is emptied (its slots unlocked
    /// first) and refilled where it is, not built anew and moved there (a command's seam keeps
    /// its view between requests; the move was a copy per command).
    pub fn relock_slots<'a>(&'a self, view: &mut Option<KeyView<'a>>, slots: &mut [u16]) {
        match view {
            Some(v) if std::ptr::eq(v.db, self) => {
                v.reset();
                self.lock_into(v, slots);
            }
            _ => {
                *view = None;
                *view = Some(self.lock_slots(slots));
            }
        }
    }

    /// Lock every slot (for FLUSHALL inside MULTI and similar whole-keyspace atomics).
    pub fn lock_all(&self) -> KeyView<'_> {
        let mut view = KeyView::new(self);
        for s in 0..slotbox_protocol::SLOT_COUNT as u16 {
            view.push(s, self.shard(s));
        }
        view
    }
}
