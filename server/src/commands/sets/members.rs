//! Membership: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SMOVE, SSCAN. A write
//! that changes nothing leaves the key untouched (not created, not marked modified for
//! WATCH); a set whose last member is removed is deleted.

use super::common::{delete_if_empty, member_frame, peek_set, read_set, set_mut};
use crate::commands::hashes::scan;
use crate::commands::Ctx;
use crate::commands::Reply;
use crate::notify::class;
use crate::store::types::SetValue;
use crate::store::{Entry, Value};
use bytes::Bytes;
use slotbox_protocol::Frame;

pub fn sadd(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let members = &args[2..];
    match peek_set(ctx, key)? {
        Some(set) if members.iter().all(|m| set.contains(m)) => return Ok(Frame::Integer(0)),
        Some(_) => {}
        None => {
            let set = SetValue::for_member(&members[0]);
            ctx.keys.insert(key, Entry::new(Value::Set(Box::new(set))));
        }
    }
    let Some(set) = set_mut(ctx, key) else { unreachable!("set checked or created above") };
    let added = members.iter().filter(|m| set.insert(m)).count();
    ctx.notify(class::SET, "sadd", key);
    Ok(Frame::Integer(added as i64))
}

pub fn srem(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let members = &args[2..];
    match peek_set(ctx, key)? {
        Some(set) if members.iter().any(|m| set.contains(m)) => {}
        _ => return Ok(Frame::Integer(0)),
    }
    let Some(set) = set_mut(ctx, key) else { unreachable!("set checked above") };
    let removed = members.iter().filter(|m| set.remove(m)).count();
    ctx.notify(class::SET, "srem", key);
    delete_if_empty(ctx, key);
    Ok(Frame::Integer(removed as i64))
}

pub fn smembers(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let set = read_set(ctx, &args[1])?;
    Ok(Frame::Set(set.map_or_else(Vec::new, |s| s.iter().map(member_frame).collect())))
}

pub fn sismember(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let found = read_set(ctx, &args[1])?.is_some_and(|s| s.contains(&args[2]));
    Ok(Frame::Integer(found as i64))
}

pub fn smismember(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let set = read_set(ctx, &args[1])?;
    let found = args[2..].iter().map(|m| Frame::Integer(set.is_some_and(|s| s.contains(m)) as i64)).collect();
    Ok(Frame::Array(found))
}

pub fn scard(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(Frame::Integer(read_set(ctx, &args[1])?.map_or(0, |s| s.len() as i64)))
}

/// Redis's `smoveCommand`: the source must exist (else 0 whatever the destination holds),
/// both keys must be sets, and moving within one key only reports membership.
pub fn smove(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (src, dst, member) = (&args[1], &args[2], &args[3]);
    let dst_exists = ctx.keys.get(dst).is_some();
    let Some(src_set) = peek_set(ctx, src)? else {
        return Ok(Frame::Integer(0));
    };
    let in_src = src_set.contains(member);
    if dst_exists {
        peek_set(ctx, dst)?;
    }
    if src == dst || !in_src {
        return Ok(Frame::Integer(in_src as i64));
    }
    if let Some(set) = set_mut(ctx, src) {
        set.remove(member);
    }
    ctx.notify(class::SET, "srem", src);
    delete_if_empty(ctx, src);
    // The destination changes (for WATCH and the `sadd` event) only if the member is new there.
    match peek_set(ctx, dst)? {
        Some(set) if set.contains(member) => return Ok(Frame::Integer(1)),
        Some(_) => {
            if let Some(set) = set_mut(ctx, dst) {
                set.insert(member);
            }
        }
        None => {
            let mut set = SetValue::for_member(member);
            set.insert(member);
            ctx.keys.insert(dst, Entry::new(Value::Set(Box::new(set))));
        }
    }
    ctx.notify(class::SET, "sadd", dst);
    Ok(Frame::Integer(1))
}

pub fn sscan(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    scan::parse_cursor(&args[2])?;
    let Some(set) = read_set(ctx, &args[1])? else {
        return Ok(scan::reply(Vec::new()));
    };
    let pattern = scan::parse_options(args)?;
    let items = set.iter().map(|m| m.to_bytes()).filter(|m| scan::matches(pattern, m)).map(Frame::Bulk).collect();
    Ok(scan::reply(items))
}
