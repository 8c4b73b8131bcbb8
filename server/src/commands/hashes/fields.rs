//! Field access: HSET, HMSET, HSETNX, HGET, HMGET, HDEL, HEXISTS, HLEN, HSTRLEN, HKEYS,
//! HVALS, HGETALL. A write that changes nothing leaves the key untouched (not created, not
//! marked modified for WATCH); a hash whose last field is deleted is deleted.

use super::common::{hash_for_write, peek_hash, read_hash};
use crate::commands::Ctx;
use crate::commands::Reply;
use crate::notify::class;
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

fn bulk(b: &[u8]) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(b))
}

/// Set every field / value pair of `args[2..]` (the `hset` event); returns how many fields
/// are new.
fn set_pairs(ctx: &mut Ctx, args: &[Bytes]) -> Result<i64, Frame> {
    if args.len() % 2 == 1 {
        return Err(Frame::error(errors::wrong_arity(ctx.spec.name)));
    }
    peek_hash(ctx, &args[1])?;
    let mut hash = hash_for_write(ctx, &args[1]);
    let created = args[2..].chunks_exact(2).filter(|p| hash.set(&p[0], &p[1])).count();
    ctx.notify(class::HASH, "hset", &args[1]);
    Ok(created as i64)
}

pub fn hset(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(Frame::Integer(set_pairs(ctx, args)?))
}

pub fn hmset(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    set_pairs(ctx, args)?;
    Ok(Frame::ok())
}

pub fn hsetnx(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (key, field) = (&args[1], &args[2]);
    if peek_hash(ctx, key)?.is_some_and(|h| h.get(field).is_some()) {
        return Ok(Frame::Integer(0));
    }
    hash_for_write(ctx, key).set(field, &args[3]);
    ctx.notify(class::HASH, "hset", key);
    Ok(Frame::Integer(1))
}

pub fn hget(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(match read_hash(ctx, &args[1])?.and_then(|h| h.get(&args[2])) {
        Some(v) => bulk(v),
        None => Frame::Null,
    })
}

pub fn hmget(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let hash = read_hash(ctx, &args[1])?;
    let values = args[2..].iter().map(|f| hash.and_then(|h| h.get(f)).map_or(Frame::Null, bulk)).collect();
    Ok(Frame::Array(values))
}

pub fn hdel(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let Some(hash) = peek_hash(ctx, key)? else {
        return Ok(Frame::Integer(0));
    };
    if !args[2..].iter().any(|f| hash.get(f).is_some()) {
        return Ok(Frame::Integer(0));
    }
    let mut hash = hash_for_write(ctx, key);
    let deleted = args[2..].iter().filter(|f| hash.remove(f)).count();
    let emptied = hash.is_empty();
    ctx.notify(class::HASH, "hdel", key);
    if emptied {
        ctx.keys.remove(key);
        ctx.notify(class::GENERIC, "del", key);
    }
    Ok(Frame::Integer(deleted as i64))
}

pub fn hexists(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let found = read_hash(ctx, &args[1])?.is_some_and(|h| h.get(&args[2]).is_some());
    Ok(Frame::Integer(found as i64))
}

pub fn hlen(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(Frame::Integer(read_hash(ctx, &args[1])?.map_or(0, |h| h.len() as i64)))
}

pub fn hstrlen(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let len = read_hash(ctx, &args[1])?.and_then(|h| h.get(&args[2])).map_or(0, |v| v.len());
    Ok(Frame::Integer(len as i64))
}

pub fn hkeys(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let hash = read_hash(ctx, &args[1])?;
    Ok(Frame::Array(hash.map_or_else(Vec::new, |h| h.iter().map(|(f, _)| bulk(f)).collect())))
}

pub fn hvals(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let hash = read_hash(ctx, &args[1])?;
    Ok(Frame::Array(hash.map_or_else(Vec::new, |h| h.iter().map(|(_, v)| bulk(v)).collect())))
}

pub fn hgetall(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let hash = read_hash(ctx, &args[1])?;
    let pairs = hash.map_or_else(Vec::new, |h| h.iter().map(|(f, v)| (bulk(f), bulk(v))).collect());
    Ok(Frame::Map(pairs))
}
