//! DEL / UNLINK (the same here: values are freed inline either way), EXISTS / TOUCH (count
//! existing keys, duplicates included), TYPE.

use super::lookup::{read, read_notouch};
use crate::commands::Ctx;
use crate::commands::Reply;
use crate::notify::class;
use bytes::Bytes;
use slotbox_protocol::Frame;

/// DEL and UNLINK: how many of the keys existed and were removed.
pub fn del(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut removed = 0;
    for key in &args[1..] {
        if ctx.keys.remove(key).is_some() {
            ctx.notify(class::GENERIC, "del", key);
            removed += 1;
        }
    }
    Ok(Frame::Integer(removed))
}

/// UNLINK: DEL whose big values are freed on the lazyfree thread.
pub fn unlink(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut removed = 0;
    for key in &args[1..] {
        if let Some(entry) = ctx.keys.remove(key) {
            ctx.notify(class::GENERIC, "del", key);
            ctx.shared.lazyfree.free(entry.value);
            removed += 1;
        }
    }
    Ok(Frame::Integer(removed))
}

/// EXISTS: how many of the keys exist (a key named twice counts twice), leaving their access
/// times alone.
pub fn exists(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let stats = &ctx.shared.stats;
    let found = args[1..].iter().filter(|key| read_notouch(ctx.keys, stats, key).is_some()).count();
    Ok(Frame::Integer(found as i64))
}

/// TOUCH: EXISTS that counts as an access of each key.
pub fn touch(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let stats = &ctx.shared.stats;
    let found = args[1..].iter().filter(|key| read(ctx.keys, stats, key).is_some()).count();
    Ok(Frame::Integer(found as i64))
}

pub fn type_(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let name = match read_notouch(ctx.keys, &ctx.shared.stats, &args[1]) {
        Some(e) => e.value.type_name(),
        None => "none",
    };
    Ok(Frame::simple_static(name))
}
