//! OBJECT ENCODING / REFCOUNT / IDLETIME / FREQ / HELP. None of them counts as an access to
//! the key (its LRU / LFU clock, `store::lru`, stays as it was).

use crate::commands::Ctx;
use crate::commands::Reply;
use crate::shared::Shared;
use crate::stats::Stats;
use crate::store::Value;
use crate::store::{lru, KeyView, Node};
use bytes::Bytes;
use slotbox_protocol::Frame;
use std::sync::atomic::Ordering;

/// Redis's OBJ_SHARED_REFCOUNT, shown for the shared integers 0..9999.
const SHARED_REFCOUNT: i64 = i32::MAX as i64;
/// Redis's OBJ_SHARED_INTEGERS.
const SHARED_INTEGERS: i64 = 10_000;

/// The entry of `key` without touching it (keyspace hits and misses still count, as in Redis).
fn read<'a>(keys: &'a mut KeyView<'_>, stats: &Stats, key: &[u8]) -> Option<&'a Node> {
    let found = keys.peek(key);
    let counter = if found.is_some() { &stats.keyspace_hits } else { &stats.keyspace_misses };
    counter.fetch_add(1, Ordering::Relaxed);
    found
}

pub fn encoding(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(match read(ctx.keys, &ctx.shared.stats, &args[2]) {
        Some(e) => Frame::bulk_static(e.value.encoding()),
        None => Frame::Null,
    })
}

/// Redis shares the integers 0..9999 unless an LRU/LFU maxmemory policy forbids it.
pub(crate) fn shared_integers_allowed(shared: &Shared) -> bool {
    let config = shared.config.read();
    config.maxmemory == 0 || !(config.maxmemory_policy.contains("lru") || config.maxmemory_policy.contains("lfu"))
}

/// The reference count Redis would show for `v` (OBJECT REFCOUNT, DEBUG OBJECT): its shared
/// small integers have Redis's shared count, every other value is owned by its key alone.
pub(crate) fn refcount_of(v: &Value, shared_ints: bool) -> i64 {
    match v {
        Value::Int(i) if shared_ints && (0..SHARED_INTEGERS).contains(i) => SHARED_REFCOUNT,
        _ => 1,
    }
}

pub fn refcount(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let shared_ints = shared_integers_allowed(ctx.shared);
    Ok(match read(ctx.keys, &ctx.shared.stats, &args[2]) {
        Some(e) => Frame::Integer(refcount_of(&e.value, shared_ints)),
        None => Frame::Null,
    })
}

pub fn freq(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let now = ctx.keys.now_ms;
    let Some(e) = read(ctx.keys, &ctx.shared.stats, &args[2]) else {
        return Ok(Frame::Null);
    };
    let clock = &ctx.shared.keyspace.clock;
    if !clock.lfu_mode() {
        return Ok(Frame::error_static(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ));
    }
    Ok(Frame::Integer(i64::from(clock.decayed(e.lru(), now))))
}

pub fn idletime(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let now = ctx.keys.now_ms;
    let Some(e) = read(ctx.keys, &ctx.shared.stats, &args[2]) else {
        return Ok(Frame::Null);
    };
    if ctx.shared.keyspace.clock.lfu_mode() {
        return Ok(Frame::error_static(
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ));
    }
    Ok(Frame::Integer((lru::idle_ms(e.lru(), now) / 1000) as i64))
}

const HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

pub fn help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(Frame::Array(HELP.iter().map(|l| Frame::simple_static(l)).collect()))
}
