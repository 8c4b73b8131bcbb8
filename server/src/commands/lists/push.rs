//! Commands that add or replace list elements: LPUSH, RPUSH, LPUSHX, RPUSHX, LINSERT, LSET.
//! The X variants and LINSERT never create a key; LSET never changes a list's length.

use super::common::{list_len, list_mut, position, push_items, Side};
use crate::commands::Reply;
use crate::commands::{args, Ctx};
use crate::notify::class;
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

pub fn lpush(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    push_generic(ctx, args, Side::Left, false)
}

pub fn rpush(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    push_generic(ctx, args, Side::Right, false)
}

pub fn lpushx(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    push_generic(ctx, args, Side::Left, true)
}

pub fn rpushx(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    push_generic(ctx, args, Side::Right, true)
}

/// Redis's `pushGenericCommand`: `only_existing` for the X variants (0 on a missing key).
fn push_generic(ctx: &mut Ctx, args: &[Bytes], side: Side, only_existing: bool) -> Reply {
    let key = &args[1];
    let existing = list_len(ctx, key)?;
    if existing.is_none() && only_existing {
        return Ok(Frame::Integer(0));
    }
    let len = push_items(ctx, key, side, args[2..].iter().map(|a| &a[..]));
    Ok(Frame::Integer(len as i64))
}

/// `LINSERT key BEFORE|AFTER pivot element`: the new length, -1 without the pivot, 0 without
/// the key.
pub fn linsert(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let after = if args::is(&args[2], "after") {
        true
    } else if args::is(&args[2], "before") {
        false
    } else {
        return Ok(args::syntax_error());
    };
    let (key, pivot, element) = (&args[1], &args[3], &args[4]);
    if list_len(ctx, key)?.is_none() {
        return Ok(Frame::Integer(0));
    }
    let found = match ctx.keys.get(key).map(|e| &e.value) {
        Some(crate::store::Value::List(l)) => l.iter().position(|e| e == &pivot[..]),
        _ => None,
    };
    let Some(at) = found else {
        return Ok(Frame::Integer(-1));
    };
    let Some(l) = list_mut(ctx, key) else {
        return Ok(Frame::Integer(0));
    };
    l.insert(at + usize::from(after), element);
    let len = l.len();
    ctx.notify(class::LIST, "linsert", key);
    Ok(Frame::Integer(len as i64))
}

/// `LSET key index element`.
pub fn lset(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let Some(len) = list_len(ctx, key)? else {
        return Ok(Frame::error_static(errors::NO_SUCH_KEY));
    };
    let index = args::int(&args[2])?;
    let Some(at) = position(index, len) else {
        return Ok(Frame::error_static("ERR index out of range"));
    };
    if let Some(l) = list_mut(ctx, key) {
        l.set(at, &args[3]);
        ctx.notify(class::LIST, "lset", key);
    }
    Ok(Frame::ok())
}
