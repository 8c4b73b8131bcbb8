//! Blocking list commands: BLPOP, BRPOP, BLMPOP, BLMOVE, BRPOPLPUSH. Each first does what its
//! non-blocking twin does; when every key is missing or empty it asks the dispatcher to park
//! the client (`ctx.block`) or, inside MULTI/EXEC, answers its timeout reply at once. The
//! dispatcher re-runs the same handler with the same arguments when one of the keys is
//! written; a re-run (`serving_blocked`) looks only at lists, as Redis serves only list keys
//! to list-blocked clients, so a key that turned into another type keeps the client waiting.
//!
//! Replies on timeout are a null array for all of them (Redis's `replyToBlockedClientTimedOut`);
//! inside MULTI, BLMOVE and BRPOPLPUSH answer a null bulk instead.

use super::common::{pop_items, Side};
use super::pop::{first_nonempty, move_one, mpop_first, parse_mpop};
use crate::commands::args::block_timeout;
use crate::commands::Reply;
use crate::commands::{BlockOn, Ctx};
use bytes::Bytes;
use slotbox_protocol::Frame;

pub fn blpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    bpop(ctx, args, Side::Left)
}

pub fn brpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    bpop(ctx, args, Side::Right)
}

/// `B[LR]POP key [key ...] timeout`: `[key, element]` from the first non-empty list.
fn bpop(ctx: &mut Ctx, args: &[Bytes], side: Side) -> Reply {
    let last = args.len() - 1;
    let deadline = block_timeout(&args[last], ctx.now_ms)?;
    let keys = &args[1..last];
    let serving = ctx.client.serving_blocked;
    if let Some(key) = first_nonempty(ctx, keys, serving)? {
        if let Some(item) = pop_items(ctx, key, side, 1).pop() {
            return Ok(Frame::Array(vec![Frame::Bulk(key.clone()), Frame::Bulk(item)]));
        }
    }
    Ok(wait(ctx, keys, deadline, Frame::NullArray))
}

/// `BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]`: like LMPOP.
pub fn blmpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let a = parse_mpop(args, 2)?;
    let deadline = block_timeout(&args[1], ctx.now_ms)?;
    let keys = &args[a.keys];
    let serving = ctx.client.serving_blocked;
    if let Some(reply) = mpop_first(ctx, keys, a.side, a.count, serving)? {
        return Ok(reply);
    }
    Ok(wait(ctx, keys, deadline, Frame::NullArray))
}

/// `BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout`.
pub fn blmove(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let from = Side::parse(&args[3])?;
    let to = Side::parse(&args[4])?;
    let deadline = block_timeout(&args[5], ctx.now_ms)?;
    bmove(ctx, args, from, to, deadline)
}

/// `BRPOPLPUSH source destination timeout` = `BLMOVE source destination RIGHT LEFT timeout`.
pub fn brpoplpush(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let deadline = block_timeout(&args[3], ctx.now_ms)?;
    bmove(ctx, args, Side::Right, Side::Left, deadline)
}

/// Redis's `blmoveGenericCommand`: move at once if the source has elements, else wait on it.
fn bmove(ctx: &mut Ctx, args: &[Bytes], from: Side, to: Side, deadline: i64) -> Reply {
    let serving = ctx.client.serving_blocked;
    let src = std::slice::from_ref(&args[1]);
    if first_nonempty(ctx, src, serving)?.is_some() {
        return move_one(ctx, &args[1], &args[2], from, to);
    }
    if !ctx.may_block {
        return Ok(Frame::Null);
    }
    Ok(wait(ctx, src, deadline, Frame::NullArray))
}

/// Nothing to pop: park the client on `keys` until `deadline` (0 = forever), or answer
/// `timeout_reply` at once where blocking is not allowed (inside MULTI/EXEC).
fn wait(ctx: &mut Ctx, keys: &[Bytes], deadline: i64, timeout_reply: Frame) -> Frame {
    if !ctx.may_block {
        return timeout_reply;
    }
    ctx.block = Some(BlockOn { keys: keys.to_vec(), deadline_ms: deadline, timeout_reply, rerun_args: None });
    Frame::Null
}
