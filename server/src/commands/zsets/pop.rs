//! Pops: ZPOPMIN, ZPOPMAX, ZMPOP and the blocking BZPOPMIN, BZPOPMAX, BZMPOP (Redis's
//! `genericZpopCommand` / `blockingGenericZpopCommand`). A blocking pop first tries to serve
//! like the non-blocking one; when every key is missing it asks the dispatcher to block
//! (`ctx.block`), or answers the timeout reply at once inside EXEC. The dispatcher re-runs the
//! same handler when a write touches one of the keys.

use super::common::{positive_count, removed_from, wrongtype};
use crate::commands::Reply;
use crate::commands::{args, BlockOn, Ctx};
use crate::store::{Node, Value};
use bytes::Bytes;
use slotbox_protocol::{Frame, Protocol};

/// The popped elements of one key, in pop order.
struct Popped {
    key: Bytes,
    items: Vec<(f64, crate::store::types::Bytes)>,
}

/// Pop up to `count` elements from the first key holding a sorted set. `Ok(None)` when all
/// keys are missing; WRONGTYPE stops at the first key of another type, as in Redis, except
/// when re-run for a blocked client: Redis then only serves keys that hold a sorted set and
/// leaves the client blocked otherwise.
fn pop_first(ctx: &mut Ctx, keys: &[Bytes], max: bool, count: usize) -> Result<Option<Popped>, Frame> {
    let skip_other_types = ctx.client.serving_blocked;
    for key in keys {
        let len = match ctx.keys.get(key) {
            None => continue,
            Some(Node { value: Value::ZSet(z), .. }) => z.len(),
            Some(_) if skip_other_types => continue,
            Some(_) => return Err(wrongtype()),
        };
        if count == 0 {
            return Ok(Some(Popped { key: key.clone(), items: Vec::new() }));
        }
        let n = count.min(len);
        let Some(Node { value: Value::ZSet(z), .. }) = ctx.keys.get_mut(key) else {
            return Err(wrongtype());
        };
        let items = if max {
            let mut v = z.drain_ranks(len - n, len);
            v.reverse();
            v
        } else {
            z.drain_ranks(0, n)
        };
        removed_from(ctx, key, if max { "zpopmax" } else { "zpopmin" });
        return Ok(Some(Popped { key: key.clone(), items }));
    }
    Ok(None)
}

/// Elements as `m, s, m, s` (flat) or `[m, s], [m, s]` (nested).
fn pairs(items: Vec<(f64, crate::store::types::Bytes)>, nested: bool) -> Vec<Frame> {
    let mut out = Vec::with_capacity(items.len() * 2);
    for (score, member) in items {
        let m = Frame::Bulk(Bytes::from(member.into_vec()));
        if nested {
            out.push(Frame::Array(vec![m, Frame::Double(score)]));
        } else {
            out.push(m);
            out.push(Frame::Double(score));
        }
    }
    out
}

/// ZMPOP / BZMPOP reply: `[key, [[m, s], ...]]` in both protocols.
fn mpop_reply(p: Popped) -> Frame {
    Frame::Array(vec![Frame::Bulk(p.key), Frame::Array(pairs(p.items, true))])
}

/// BZPOPMIN / BZPOPMAX reply: `[key, m, s]`.
fn bzpop_reply(p: Popped) -> Frame {
    let mut out = vec![Frame::Bulk(p.key)];
    out.extend(pairs(p.items, false));
    Frame::Array(out)
}

fn zpop(ctx: &mut Ctx, args: &[Bytes], max: bool) -> Reply {
    if args.len() > 3 {
        return Ok(args::syntax_error());
    }
    let count = match args.get(2) {
        None => None,
        Some(a) => match slotbox_protocol::float::parse_i64(a) {
            Some(c) if c >= 0 => Some(c as usize),
            _ => return Ok(Frame::error_static("ERR value is out of range, must be positive")),
        },
    };
    let nested = ctx.client.resp == Protocol::Resp3 && count.is_some();
    Ok(match pop_first(ctx, &args[1..2], max, count.unwrap_or(1))? {
        None => Frame::Array(Vec::new()),
        Some(p) => Frame::Array(pairs(p.items, nested)),
    })
}

pub fn zpopmin(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zpop(ctx, args, false)
}

pub fn zpopmax(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zpop(ctx, args, true)
}

/// `[B]ZMPOP`'s `numkeys key... MIN|MAX [COUNT n]` from `args[at]`: (keys, max, count).
fn parse_mpop(args: &[Bytes], at: usize) -> Result<(&[Bytes], bool, usize), Frame> {
    let numkeys = positive_count(&args[at], "ERR numkeys should be greater than 0")? as u64;
    let where_idx = (at as u64 + 1).saturating_add(numkeys);
    if where_idx >= args.len() as u64 {
        return Err(args::syntax_error());
    }
    let where_idx = where_idx as usize;
    let max = match &args[where_idx] {
        w if args::is(w, "min") => false,
        w if args::is(w, "max") => true,
        _ => return Err(args::syntax_error()),
    };
    let mut count = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count.is_none() && args::is(&args[j], "count") && j + 1 < args.len() {
            count = Some(positive_count(&args[j + 1], "ERR count should be greater than 0")?);
            j += 2;
        } else {
            return Err(args::syntax_error());
        }
    }
    let count = usize::try_from(count.unwrap_or(1)).unwrap_or(usize::MAX);
    Ok((&args[at + 1..where_idx], max, count))
}

pub fn zmpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (keys, max, count) = parse_mpop(args, 1)?;
    Ok(match pop_first(ctx, keys, max, count)? {
        None => Frame::NullArray,
        Some(p) => mpop_reply(p),
    })
}

/// Serve a blocking pop now, or block (null array at once when blocking is not allowed).
fn blocking_pop(
    ctx: &mut Ctx,
    keys: &[Bytes],
    timeout: &[u8],
    max: bool,
    count: usize,
    reply: fn(Popped) -> Frame,
) -> Reply {
    let deadline_ms = args::block_timeout(timeout, ctx.now_ms)?;
    if let Some(p) = pop_first(ctx, keys, max, count)? {
        return Ok(reply(p));
    }
    if ctx.may_block {
        ctx.block =
            Some(BlockOn { keys: keys.to_vec(), deadline_ms, timeout_reply: Frame::NullArray, rerun_args: None });
    }
    Ok(Frame::NullArray)
}

fn bzpop(ctx: &mut Ctx, args: &[Bytes], max: bool) -> Reply {
    let (keys, timeout) = args[1..].split_at(args.len() - 2);
    blocking_pop(ctx, keys, &timeout[0], max, 1, bzpop_reply)
}

pub fn bzpopmin(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    bzpop(ctx, args, false)
}

pub fn bzpopmax(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    bzpop(ctx, args, true)
}

pub fn bzmpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (keys, max, count) = parse_mpop(args, 2)?;
    blocking_pop(ctx, keys, &args[1], max, count, mpop_reply)
}
