//! `maxmemory`: before a command runs on a server over its limit, keys are evicted by the
//! `maxmemory-policy`, as Redis's `performEvictions` does; a command that may grow memory
//! (`denyoom`) is refused with OOM when nothing can be evicted (always, under
//! `noeviction`). Each eviction samples `maxmemory-samples` keys from random slots and
//! drops the best candidate: the longest idle (`*-lru`), the least used (`*-lfu`), the
//! soonest to expire (`volatile-ttl`) or any (`*-random`); `volatile-*` policies only
//! consider keys with an expiry. Evictions reach replicas as DEL (like expirations) and
//! count in INFO `evicted_keys`. Memory is what the counting allocator reports
//! (`used_memory`); replicas do not evict (their master's DELs do). Nothing is evicted (or
//! refused) while clients are paused.

use crate::config::MaxmemoryPolicy as Policy;
use crate::core::Core;
use crate::store::{lru, Key};
use slotbox_protocol::Frame;
use std::sync::atomic::Ordering;

const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
/// Keys evicted at most before one command (then it runs, as Redis's eviction time limit).
const MAX_PER_COMMAND: usize = 256;
/// Random slots probed for one sample before a full pass over the slots.
const PROBES: usize = 64;
/// Entries of one slot a sample is drawn from (bounds the walk in a huge single slot).
const SAMPLE_WINDOW: usize = 4096;

/// Is the server over `maxmemory`? (Cheap when no limit is set.)
#[inline]
pub fn over_limit(core: &Core) -> bool {
    let max = core.hot.maxmemory.load(Ordering::Relaxed);
    max > 0 && !core.keyspace.is_replica() && crate::alloc::allocated() > max
}

/// Evict until under `maxmemory` (the caller holds no slot lock). `Err(OOM)` for a
/// `denyoom` command when memory could not be freed.
pub fn make_room(core: &Core, denyoom: bool, now_ms: i64) -> Result<(), Frame> {
    if core.pause.active(now_ms) {
        // Clients are paused: the dataset stays still, and nothing is refused for memory.
        return Ok(());
    }
    let policy = Policy::from_u8(core.hot.maxmemory_policy.load(Ordering::Relaxed));
    let samples = core.hot.maxmemory_samples.load(Ordering::Relaxed).max(1);
    let mut evicted = 0;
    if policy != Policy::NoEviction {
        let started = std::time::Instant::now();
        while evicted < MAX_PER_COMMAND && over_limit(core) {
            let Some((slot, key)) = victim(core, policy, samples, now_ms) else { break };
            if evict(core, slot, &key) {
                evicted += 1;
            }
        }
        core.latency.sample("eviction-cycle", started.elapsed().as_millis() as u64, now_ms / 1000);
    }
    if evicted == 0 && denyoom && over_limit(core) {
        return Err(Frame::error_static(OOM));
    }
    Ok(())
}

/// Drop `key` from `slot` if still there; true if it was.
fn evict(core: &Core, (db, slot): (usize, u16), key: &[u8]) -> bool {
    let db = core.keyspace.db(db);
    let mut shard = db.shard(slot);
    shard.touch(key);
    if shard.remove(key).is_none() {
        return false;
    }
    drop(shard);
    db.key_event(key, crate::store::KeyEvent::Evicted);
    core.stats.evicted_keys.fetch_add(1, Ordering::Relaxed);
    true
}

/// The best of `samples` keys drawn from random slots (higher score: evicted first).
fn victim(core: &Core, policy: Policy, samples: usize, now_ms: i64) -> Option<((usize, u16), Key)> {
    let mut best: Option<(u64, (usize, u16), Key)> = None;
    // Only databases that ever held a key are sampled: probing the 15 unused ones of a
    // plain server would leave an LRU pick a handful of candidates instead of `samples`.
    let dbs: Vec<usize> = (0..core.keyspace.count()).filter(|&i| core.keyspace.db(i).in_use()).collect();
    if dbs.is_empty() {
        return None;
    }
    let mut drawn = 0;
    let mut probes = 0;
    while drawn < samples && probes < PROBES {
        probes += 1;
        let r = crate::rand::next_u64();
        let at = (dbs[(r >> 32) as usize % dbs.len()], (r % slotbox_protocol::SLOT_COUNT as u64) as u16);
        if let Some((score, key)) = sample(core, at, policy, now_ms) {
            drawn += 1;
            if best.as_ref().is_none_or(|b| score > b.0) {
                best = Some((score, at, key));
            }
        }
    }
    let quiet_until = &core.stats.nothing_to_evict_until_ms;
    if best.is_none() && now_ms >= quiet_until.load(Ordering::Relaxed) as i64 {
        // A sparse keyspace: walk every slot from a random one until a candidate turns up.
        let start = crate::rand::next_u64() as usize;
        let total = slotbox_protocol::SLOT_COUNT * dbs.len();
        for i in 0..total {
            let n = (start + i) % total;
            let at = (dbs[n / slotbox_protocol::SLOT_COUNT], (n % slotbox_protocol::SLOT_COUNT) as u16);
            if let Some((score, key)) = sample(core, at, policy, now_ms) {
                best = Some((score, at, key));
                break;
            }
        }
        if best.is_none() {
            // Nothing evictable at all (over maxmemory with no candidate keys): do not walk
            // the 16384 slots again for every command of the next 100 ms.
            quiet_until.store((now_ms + 100) as u64, Ordering::Relaxed);
        }
    }
    best.map(|(_, at, key)| (at, key))
}

/// One random candidate of `slot` with its score, if the slot has any.
fn sample(core: &Core, (db, slot): (usize, u16), policy: Policy, now_ms: i64) -> Option<(u64, Key)> {
    let db = core.keyspace.db(db);
    if !db.in_use() {
        return None;
    }
    let shard = db.shard(slot);
    let volatile = policy.volatile_only();
    let pool = if volatile { shard.volatile } else { shard.len() };
    if pool == 0 {
        return None;
    }
    let pick = (crate::rand::next_u64() % pool.min(SAMPLE_WINDOW) as u64) as usize;
    let (key, e) = shard.iter().filter(|(_, e)| !volatile || e.expire_at() != 0).nth(pick)?;
    let score = match policy {
        Policy::AllKeysLru | Policy::VolatileLru => lru::idle_ms(e.lru(), now_ms),
        Policy::AllKeysLfu | Policy::VolatileLfu => 255 - u64::from(core.keyspace.clock.decayed(e.lru(), now_ms)),
        Policy::VolatileTtl => u64::MAX - e.expire_at().max(0) as u64,
        Policy::AllKeysRandom | Policy::VolatileRandom | Policy::NoEviction => 0,
    };
    Some((score, Key::from(key)))
}

#[cfg(test)]
mod tests {
    use super::Policy;

    #[test]
    fn policy_names_round_trip() {
        for name in [
            "noeviction",
            "allkeys-lru",
            "volatile-lru",
            "allkeys-lfu",
            "volatile-lfu",
            "allkeys-random",
            "volatile-random",
            "volatile-ttl",
        ] {
            let p = Policy::from_name(name);
            assert_eq!(Policy::from_u8(p as u8), p);
            assert_eq!(p == Policy::NoEviction, name == "noeviction");
            assert_eq!(p.volatile_only(), name.starts_with("volatile"));
        }
    }
}
