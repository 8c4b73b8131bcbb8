//! Key access shared by the keyspace and string commands: reads that count keyspace hits and
//! misses exactly where Redis's `lookupKeyRead` does (writes never count), and access to one
//! slot's shard for whole-keyspace commands (KEYS, SCAN, RANDOMKEY).

use crate::commands::Ctx;
use crate::stats::Stats;
use crate::store::{KeyView, Node, Shard};
use std::sync::atomic::Ordering;

/// Look `key` up for reading, counting a keyspace hit or miss; a miss is a `keymiss` event
/// (class `m`), as in Redis's `lookupKeyRead`. An access: the key's LRU / LFU clock moves.
pub fn read<'a>(keys: &'a mut KeyView<'_>, stats: &Stats, key: &[u8]) -> Option<&'a Node> {
    lookup(keys, stats, key, true)
}

/// [`read`] without counting an access (Redis's `LOOKUP_NOTOUCH`: TTL, TYPE, EXISTS leave
/// OBJECT IDLETIME / FREQ alone).
pub fn read_notouch<'a>(keys: &'a mut KeyView<'_>, stats: &Stats, key: &[u8]) -> Option<&'a Node> {
    lookup(keys, stats, key, false)
}

fn lookup<'a>(keys: &'a mut KeyView<'_>, stats: &Stats, key: &[u8], touch: bool) -> Option<&'a Node> {
    let db = keys.db();
    let found = if touch { keys.get(key) } else { keys.peek(key) };
    if found.is_none() {
        stats.keyspace_misses.fetch_add(1, Ordering::Relaxed);
        if db.report_miss.load(Ordering::Relaxed) {
            db.key_event(key, crate::store::KeyEvent::Missed);
        }
        return None;
    }
    stats.keyspace_hits.fetch_add(1, Ordering::Relaxed);
    found
}

/// Run `f` on the shard of `slot`: the command's own guard if it already holds that slot
/// (inside a transaction), else a short lock of its own.
pub fn with_slot<R>(ctx: &mut Ctx, slot: u16, f: impl FnOnce(&mut Shard) -> R) -> R {
    if let Some(shard) = ctx.keys.locked_shard(slot) {
        return f(shard);
    }
    let mut guard = ctx.keys.db().shard(slot);
    f(&mut guard)
}
