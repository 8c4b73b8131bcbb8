//! SPOP and SRANDMEMBER. With a count, SPOP replies a set and follows Redis's three cases
//! (whole set: the set is deleted and returned in union order; few members: removed one by
//! one; most members: the survivors are moved to a fresh set, which may become an intset
//! again); SRANDMEMBER replies an array, distinct members for a positive count (clamped to
//! the set's size) and repeats allowed for a negative one.

use super::common::{delete_if_empty, member_frame, peek_set, read_set, set_mut, wrongtype};
use crate::commands::hashes::random::sample_indices;
use crate::commands::Reply;
use crate::commands::{args, Ctx};
use crate::notify::class;
use crate::store::types::{SetMember, SetValue};
use crate::store::Value;
use bytes::Bytes;
use slotbox_protocol::float::parse_i64;
use slotbox_protocol::Frame;

/// Redis's SPOP_MOVE_STRATEGY_MUL.
const MOVE_STRATEGY_MUL: usize = 5;

pub fn spop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let reply = match args.len() {
        2 => spop_one(ctx, &args[1])?,
        3 => spop_count(ctx, args)?,
        _ => return Err(args::syntax_error()),
    };
    // Replicas must remove the same (randomly chosen) members: propagate SREM.
    let popped: Vec<Bytes> = match &reply {
        Frame::Bulk(m) => vec![m.clone()],
        Frame::Set(ms) | Frame::Array(ms) => {
            ms.iter().filter_map(|f| f.as_bytes().map(Bytes::copy_from_slice)).collect()
        }
        _ => Vec::new(),
    };
    ctx.propagate = Some(if popped.is_empty() {
        Vec::new()
    } else {
        let mut srem = vec![Bytes::from_static(b"SREM"), args[1].clone()];
        srem.extend(popped);
        vec![srem]
    });
    Ok(reply)
}

fn spop_one(ctx: &mut Ctx, key: &[u8]) -> Reply {
    if peek_set(ctx, key)?.is_none() {
        return Ok(Frame::Null);
    }
    let Some(set) = set_mut(ctx, key) else {
        return Ok(Frame::Null);
    };
    let member = set.random_member().map(|m| m.to_bytes());
    let Some(member) = member else {
        return Ok(Frame::Null);
    };
    set.remove(&member);
    ctx.notify(class::SET, "spop", key);
    delete_if_empty(ctx, key);
    Ok(Frame::Bulk(member))
}

fn spop_count(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let count = match parse_i64(&args[2]) {
        Some(c) if c >= 0 => c as u64,
        _ => return Ok(Frame::error_static("ERR value is out of range, must be positive")),
    };
    let Some(set) = peek_set(ctx, key)? else {
        return Ok(Frame::Set(Vec::new()));
    };
    if count == 0 {
        return Ok(Frame::Set(Vec::new()));
    }
    let size = set.len();
    if count >= size as u64 {
        // Redis replies through SUNION of the one set: in a fresh (intset-first) set's order.
        let mut union = SetValue::default();
        set.iter().for_each(|m| {
            union.insert_member(m);
        });
        ctx.keys.remove(key);
        ctx.notify(class::SET, "spop", key);
        ctx.notify(class::GENERIC, "del", key);
        return Ok(Frame::Set(union.iter().map(member_frame).collect()));
    }
    let count = count as usize;
    let remaining = size - count;
    let Some(set) = set_mut(ctx, key) else {
        return Ok(wrongtype());
    };
    if remaining * MOVE_STRATEGY_MUL > count {
        let popped = pick(set, count, true);
        for m in &popped {
            set.remove(m);
        }
        ctx.notify(class::SET, "spop", key);
        return Ok(Frame::Set(popped.into_iter().map(Frame::Bulk).collect()));
    }
    let kept = pick(set, remaining, true);
    let mut fresh = SetValue::for_member(&kept[0]);
    for m in &kept {
        fresh.insert(m);
        set.remove(m);
    }
    let popped = set.iter().map(member_frame).collect();
    **set_box(ctx, key) = fresh;
    ctx.notify(class::SET, "spop", key);
    Ok(Frame::Set(popped))
}

/// The boxed set value at `key` (known to be a set).
fn set_box<'c>(ctx: &'c mut Ctx, key: &[u8]) -> &'c mut Box<SetValue> {
    match ctx.keys.get_mut(key).map(|e| &mut e.value) {
        Some(Value::Set(s)) => s,
        _ => unreachable!("checked to be a set"),
    }
}

/// `count` random members (distinct, or with repeats), copied out.
fn pick(set: &SetValue, count: usize, distinct: bool) -> Vec<Bytes> {
    if let SetValue::Ints(v) = set {
        let idx = sample_indices(v.len(), count, distinct);
        return idx.into_iter().map(|i| SetMember::Int(v[i]).to_bytes()).collect();
    }
    let all: Vec<SetMember> = set.iter().collect();
    let idx = sample_indices(all.len(), count, distinct);
    idx.into_iter().map(|i| all[i].to_bytes()).collect()
}

pub fn srandmember(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match args.len() {
        2 => {}
        3 => return srandmember_count(ctx, args),
        _ => return Ok(args::syntax_error()),
    }
    Ok(match read_set(ctx, &args[1])?.and_then(|s| s.random_member()) {
        Some(m) => member_frame(m),
        None => Frame::Null,
    })
}

fn srandmember_count(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let count = args::int(&args[2])?;
    if count == i64::MIN {
        return Ok(Frame::error_static(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    let Some(set) = read_set(ctx, &args[1])? else {
        return Ok(Frame::Array(Vec::new()));
    };
    let n = count.unsigned_abs() as usize;
    if count > 0 && n >= set.len() {
        return Ok(Frame::Array(set.iter().map(member_frame).collect()));
    }
    Ok(Frame::Array(pick(set, n, count > 0).into_iter().map(Frame::Bulk).collect()))
}
