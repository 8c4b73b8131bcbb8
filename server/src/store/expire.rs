//! The active expiry cycle: walks the slots that hold keys with a TTL and reclaims expired
//! ones without waiting for a client to touch them (Redis's `activeExpireCycle`).

use super::{Db, Keyspace};
use slotbox_protocol::SLOT_COUNT;

/// Incremental walker over the slots; each call does a bounded amount of work.
#[derive(Default)]
pub struct ActiveExpiry {
    next_slot: usize,
}

impl ActiveExpiry {
    /// Visit the next `slots` slots of every database, purging expired keys. Returns keys
    /// reclaimed. Does nothing on a replica or while `active_expire` is off.
    pub fn run(&mut self, keyspace: &Keyspace, now_ms: i64, slots: usize) -> usize {
        let start = self.next_slot;
        let mut reclaimed = 0;
        for db in keyspace.iter() {
            self.next_slot = start;
            reclaimed += self.run_db(db, now_ms, slots);
        }
        // Every database walks the same slots; the walk moves on whether or not any was used.
        self.next_slot = (start + slots.min(SLOT_COUNT)) % SLOT_COUNT;
        reclaimed
    }

    fn run_db(&mut self, db: &Db, now_ms: i64, slots: usize) -> usize {
        if !db.in_use() {
            return 0;
        }
        if !db.active_expire.load(std::sync::atomic::Ordering::Relaxed) {
            return 0;
        }
        let mut reclaimed = 0;
        let mut ttls = (0, 0);
        for _ in 0..slots.min(SLOT_COUNT) {
            let slot = self.next_slot as u16;
            self.next_slot = (self.next_slot + 1) % SLOT_COUNT;
            if db.is_replica() {
                continue;
            }
            let mut shard = db.shard(slot);
            if shard.volatile > 0 {
                reclaimed += shard.purge_expired(now_ms, &|k| db.key_event(k, super::KeyEvent::Expired), &mut ttls);
            }
        }
        db.note_expired(reclaimed);
        db.note_ttls(ttls.0, ttls.1);
        reclaimed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Entry, Value};

    #[test]
    fn reclaims_without_access() {
        let db = Db::new();
        for i in 0..100 {
            let key = format!("k{i}");
            let mut slots = [slotbox_protocol::key_hash_slot(key.as_bytes())];
            let mut view = db.lock_slots(&mut slots);
            let mut e = Entry::new(Value::string(b"v"));
            e.expire_at = if i % 2 == 0 { 1000 } else { 0 };
            view.insert(key.as_bytes(), e);
        }
        let mut ae = ActiveExpiry::default();
        db.active_expire.store(false, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(ae.run_db(&db, 2000, SLOT_COUNT), 0);
        assert_eq!(db.len(), 100);
        db.active_expire.store(true, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(ae.run_db(&db, 2000, SLOT_COUNT), 50);
        assert_eq!(db.len(), 50);
        assert_eq!(db.avg_ttl(), 0, "no key with a TTL left");
    }

    #[test]
    fn average_ttl_follows_the_keys_seen() {
        let db = Db::new();
        for (i, at) in [(0, 11_000), (1, 21_000), (2, 0)] {
            let key = format!("t{i}");
            let mut slots = [slotbox_protocol::key_hash_slot(key.as_bytes())];
            let mut e = Entry::new(Value::string(b"v"));
            e.expire_at = at;
            db.lock_slots(&mut slots).insert(key.as_bytes(), e);
        }
        let mut ae = ActiveExpiry::default();
        ae.run_db(&db, 1000, SLOT_COUNT);
        assert_eq!(db.avg_ttl(), 15_000, "the first estimate is the average: (10 s + 20 s) / 2");
        ae.run_db(&db, 6000, SLOT_COUNT);
        assert_eq!(db.avg_ttl(), 15_000 / 50 * 49 + 10_000 / 50, "then it moves 1/50 of the way");
        db.flush();
        assert_eq!(db.avg_ttl(), 0);
    }

    #[test]
    fn the_walk_moves_on_when_the_last_database_is_unused() {
        let ks = Keyspace::new(3);
        let key = b"k";
        let slot = slotbox_protocol::key_hash_slot(key);
        let db = ks.db(0);
        let mut slots = [slot];
        let mut e = Entry::new(Value::string(b"v"));
        e.expire_at = 1000;
        db.lock_slots(&mut slots).insert(key, e);
        let mut ae = ActiveExpiry::default();
        let mut reclaimed = 0;
        for _ in 0..SLOT_COUNT / 100 + 1 {
            reclaimed += ae.run(&ks, 2000, 100);
        }
        assert_eq!(reclaimed, 1);
    }
}
