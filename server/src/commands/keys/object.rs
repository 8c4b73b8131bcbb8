//! OBJECT ENCODING / REFCOUNT / FREQ / HELP. IDLETIME is not registered: slotbox keeps no
//! per-key access clock, and a made-up idle time would mislead eviction tooling.

use super::lookup::read;
use crate::commands::Ctx;
use crate::store::Value;
use bytes::Bytes;
use slotbox_protocol::Frame;

/// Redis's OBJ_SHARED_REFCOUNT, shown for the shared integers 0..9999.
const SHARED_REFCOUNT: i64 = i32::MAX as i64;
/// Redis's OBJ_SHARED_INTEGERS.
const SHARED_INTEGERS: i64 = 10_000;
/// Redis's LFU_INIT_VAL: the counter of a key not accessed since it was created.
const LFU_INIT_VAL: i64 = 5;

pub fn encoding(ctx: &mut Ctx, args: &[Bytes]) -> Frame {
    match read(&mut ctx.keys, &ctx.shared.stats, &args[2]) {
        Some(e) => Frame::bulk_static(e.value.encoding()),
        None => Frame::Null,
    }
}

/// Redis shares the integers 0..9999 unless an LRU/LFU maxmemory policy forbids it.
fn shared_integers_allowed(ctx: &Ctx) -> bool {
    let config = ctx.shared.config.read();
    config.maxmemory == 0 || !(config.maxmemory_policy.contains("lru") || config.maxmemory_policy.contains("lfu"))
}

pub fn refcount(ctx: &mut Ctx, args: &[Bytes]) -> Frame {
    let shared = shared_integers_allowed(ctx);
    match read(&mut ctx.keys, &ctx.shared.stats, &args[2]) {
        Some(e) => match e.value {
            Value::Int(i) if shared && (0..SHARED_INTEGERS).contains(&i) => Frame::Integer(SHARED_REFCOUNT),
            _ => Frame::Integer(1),
        },
        None => Frame::Null,
    }
}

pub fn freq(ctx: &mut Ctx, args: &[Bytes]) -> Frame {
    if read(&mut ctx.keys, &ctx.shared.stats, &args[2]).is_none() {
        return Frame::Null;
    }
    if !ctx.shared.config.read().maxmemory_policy.contains("lfu") {
        return Frame::error_static(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        );
    }
    Frame::Integer(LFU_INIT_VAL)
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

pub fn help(_ctx: &mut Ctx, _args: &[Bytes]) -> Frame {
    Frame::Array(HELP.iter().map(|l| Frame::simple_static(l)).collect())
}
