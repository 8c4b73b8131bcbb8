//! Commands that take elements out of lists without blocking: LPOP, RPOP (with COUNT), LMPOP,
//! LMOVE and RPOPLPUSH, and the cores the blocking variants share with them (finding the
//! first non-empty list, LMPOP's argument parsing, moving one element).

use super::common::{bulks, elements_removed, list_len, list_mut, non_negative, pop_items, push_items, take_items};
use super::common::{wrongtype, Side};
use crate::commands::Reply;
use crate::commands::{args, Ctx};
use crate::notify::class;
use crate::store::Value;
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

pub fn lpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    pop_generic(ctx, args, Side::Left)
}

pub fn rpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    pop_generic(ctx, args, Side::Right)
}

/// Redis's `popGenericCommand`: `[LR]POP key [count]`.
fn pop_generic(ctx: &mut Ctx, args: &[Bytes], side: Side) -> Reply {
    if args.len() > 3 {
        return Ok(Frame::error(errors::wrong_arity(ctx.spec.name)));
    }
    let count = match args.get(2) {
        Some(a) => Some(non_negative(a, "ERR value is out of range, must be positive")?),
        None => None,
    };
    let key = &args[1];
    if list_len(ctx, key)?.is_none() {
        return Ok(if count.is_some() { Frame::NullArray } else { Frame::Null });
    }
    Ok(match count {
        None => match pop_items(ctx, key, side, 1).pop() {
            Some(v) => Frame::Bulk(v),
            None => Frame::Null,
        },
        Some(0) => Frame::Array(Vec::new()),
        Some(n) => bulks(pop_items(ctx, key, side, usize::try_from(n).unwrap_or(usize::MAX))),
    })
}

/// The first of `keys` holding a non-empty list. A key of another type is WRONGTYPE, unless
/// `skip_other_types` (a blocked client being served: Redis then only looks at lists).
pub(super) fn first_nonempty<'k>(
    ctx: &mut Ctx,
    keys: &'k [Bytes],
    skip_other_types: bool,
) -> Result<Option<&'k Bytes>, Frame> {
    for key in keys {
        match ctx.keys.get(key).map(|e| &e.value) {
            None => {}
            Some(Value::List(l)) if l.is_empty() => {}
            Some(Value::List(_)) => return Ok(Some(key)),
            Some(_) if skip_other_types => {}
            Some(_) => return Err(wrongtype()),
        }
    }
    Ok(None)
}

/// LMPOP's arguments after the command name (and BLMPOP's timeout).
pub(super) struct MpopArgs {
    /// Index range of the keys in the request.
    pub keys: std::ops::Range<usize>,
    pub side: Side,
    pub count: usize,
}

/// Redis's `lmpopGenericCommand` parsing: `numkeys key [key ...] LEFT|RIGHT [COUNT count]`
/// with `numkeys` at `args[numkeys_at]`.
pub(super) fn parse_mpop(args: &[Bytes], numkeys_at: usize) -> Result<MpopArgs, Frame> {
    const NUMKEYS: &str = "ERR numkeys should be greater than 0";
    let numkeys = match args::int(&args[numkeys_at]) {
        Ok(n) if n >= 1 => n as u64,
        _ => return Err(Frame::error_static(NUMKEYS)),
    };
    let side_at = (numkeys_at as u64).saturating_add(numkeys).saturating_add(1);
    if side_at >= args.len() as u64 {
        return Err(args::syntax_error());
    }
    let side_at = side_at as usize;
    let side = Side::parse(&args[side_at])?;
    let mut count = None;
    let mut j = side_at + 1;
    while j < args.len() {
        let more = j + 1 < args.len();
        if count.is_none() && args::is(&args[j], "count") && more {
            j += 1;
            match args::int(&args[j]) {
                Ok(n) if n >= 1 => count = Some(n),
                _ => return Err(Frame::error_static("ERR count should be greater than 0")),
            }
        } else {
            return Err(args::syntax_error());
        }
        j += 1;
    }
    let count = usize::try_from(count.unwrap_or(1)).unwrap_or(usize::MAX);
    Ok(MpopArgs { keys: numkeys_at + 1..side_at, side, count })
}

/// Pop up to `count` elements from the first non-empty list of `keys`: `[key, [elements]]`,
/// or `None` when every key is missing or empty.
pub(super) fn mpop_first(
    ctx: &mut Ctx,
    keys: &[Bytes],
    side: Side,
    count: usize,
    skip_other_types: bool,
) -> Result<Option<Frame>, Frame> {
    let Some(key) = first_nonempty(ctx, keys, skip_other_types)? else {
        return Ok(None);
    };
    let items = pop_items(ctx, key, side, count);
    Ok(Some(Frame::Array(vec![Frame::Bulk(key.clone()), bulks(items)])))
}

/// `LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]`.
pub fn lmpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let a = parse_mpop(args, 1)?;
    Ok(match mpop_first(ctx, &args[a.keys], a.side, a.count, false)? {
        Some(reply) => reply,
        None => Frame::NullArray,
    })
}

/// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT`.
pub fn lmove(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let from = Side::parse(&args[3])?;
    let to = Side::parse(&args[4])?;
    move_one(ctx, &args[1], &args[2], from, to)
}

/// `RPOPLPUSH source destination` = `LMOVE source destination RIGHT LEFT`.
pub fn rpoplpush(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    move_one(ctx, &args[1], &args[2], Side::Right, Side::Left)
}

/// Redis's `lmoveGenericCommand`: the moved element, Null when `src` is missing, WRONGTYPE
/// if either key holds another type (the destination is only checked when there is an
/// element to move). Events as Redis: the push on `dst` (after its `new`), then the pop on
/// `src`, then `del` if that emptied it.
pub(super) fn move_one(ctx: &mut Ctx, src: &[u8], dst: &[u8], from: Side, to: Side) -> Reply {
    match list_len(ctx, src)? {
        None | Some(0) => return Ok(Frame::Null),
        Some(_) => {}
    }
    list_len(ctx, dst)?;
    if src == dst {
        // Rotate in place: the key (and its TTL) survives even with one element.
        let Some(l) = list_mut(ctx, src) else {
            return Ok(Frame::Null);
        };
        let item = match from {
            Side::Left => l.pop_front(),
            Side::Right => l.pop_back(),
        };
        let Some(item) = item else {
            return Ok(Frame::Null);
        };
        let reply = Bytes::copy_from_slice(&item);
        match to {
            Side::Left => l.push_front(&item),
            Side::Right => l.push_back(&item),
        }
        ctx.notify(class::LIST, to.push_event(), dst);
        ctx.notify(class::LIST, from.pop_event(), src);
        return Ok(Frame::Bulk(reply));
    }
    let Some(item) = take_items(ctx, src, from, 1).pop() else {
        return Ok(Frame::Null);
    };
    push_items(ctx, dst, to, [&item[..]]);
    elements_removed(ctx, src, from);
    Ok(Frame::Bulk(item))
}
