//! Set algebra: SINTER, SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE.
//! The source sets are taken out of the keyspace for the computation (so several can be read
//! at once without copying them) and put back untouched before anything is stored. Results
//! are built as Redis builds them (a fresh intset-first set, SDIFF's choice of algorithm),
//! so reply order for integer sets and the stored encoding match. A missing key is an empty
//! set; an empty result stored deletes the destination.

use super::common::{member_frame, read_set, store};
use crate::commands::Reply;
use crate::commands::{args, Ctx};
use crate::store::types::{SetMember, SetValue};
use crate::store::Value;
use bytes::Bytes;
use hashbrown::HashMap;
use slotbox_protocol::Frame;

/// One source set, with an identity shared by repeated keys (Redis compares set pointers).
#[derive(Clone, Copy)]
struct Source<'a> {
    id: usize,
    set: &'a SetValue,
}

/// Take the set at `key` out of the keyspace (leaving an empty placeholder, no WATCH touch).
fn take(ctx: &mut Ctx, key: &[u8]) -> SetValue {
    match ctx.keys.shard(key).get_mut(key).map(|e| &mut e.value) {
        Some(Value::Set(s)) => std::mem::take(&mut **s),
        _ => SetValue::default(),
    }
}

/// Put back a set taken by [`take`].
fn restore(ctx: &mut Ctx, key: &[u8], set: SetValue) {
    if let Some(Value::Set(s)) = ctx.keys.shard(key).get_mut(key).map(|e| &mut e.value) {
        **s = set;
    }
}

/// Look every key up for reading (hits / misses counted, WRONGTYPE at the first non-set),
/// then run `f` on the sources (`None` for a missing key) and restore them.
fn with_sources<R>(ctx: &mut Ctx, keys: &[Bytes], f: impl FnOnce(&[Option<Source>]) -> R) -> Result<R, Frame> {
    let mut present = Vec::with_capacity(keys.len());
    for key in keys {
        present.push(read_set(ctx, key)?.is_some());
    }
    let mut taken: Vec<(&[u8], SetValue)> = Vec::new();
    let mut ids: HashMap<&[u8], usize> = HashMap::new();
    let mut order = Vec::with_capacity(keys.len());
    for (key, &here) in keys.iter().zip(&present) {
        let id = here.then(|| {
            *ids.entry(&key[..]).or_insert_with(|| {
                taken.push((key, take(ctx, key)));
                taken.len() - 1
            })
        });
        order.push(id);
    }
    let sources: Vec<Option<Source>> = order.iter().map(|id| id.map(|i| Source { id: i, set: &taken[i].1 })).collect();
    let out = f(&sources);
    drop(sources);
    for (key, set) in taken {
        restore(ctx, key, set);
    }
    Ok(out)
}

/// Redis's `sinterGenericCommand` loop: members of the smallest set found in all the others,
/// passed to `emit` until it returns false. Nothing when a key is missing.
fn intersect(sources: &[Option<Source>], mut emit: impl FnMut(SetMember) -> bool) {
    let Some(mut sets) = sources.iter().copied().collect::<Option<Vec<Source>>>() else {
        return;
    };
    sets.sort_by_key(|s| s.set.len());
    let first = sets[0];
    for m in first.set.iter() {
        let everywhere = sets[1..].iter().all(|s| s.id == first.id || s.set.contains_member(m));
        if everywhere && !emit(m) {
            break;
        }
    }
}

fn union(sources: &[Option<Source>]) -> SetValue {
    let mut out = SetValue::default();
    for s in sources.iter().flatten() {
        s.set.iter().for_each(|m| {
            out.insert_member(m);
        });
    }
    out
}

/// Redis's SDIFF with its choice between "test each member of the first set" (1) and "copy
/// the first set, then remove the others" (2); the choice shows in the result's encoding.
fn diff(sources: &[Option<Source>]) -> SetValue {
    let mut out = SetValue::default();
    let Some(first) = sources[0] else {
        return out;
    };
    let existing = sources.iter().flatten();
    let algo_one_work = existing.clone().count() * first.set.len() / 2;
    let algo_two_work: usize = existing.map(|s| s.set.len()).sum();
    let others = || sources[1..].iter().flatten();
    if algo_one_work <= algo_two_work {
        for m in first.set.iter() {
            if !others().any(|s| s.id == first.id || s.set.contains_member(m)) {
                out.insert_member(m);
            }
        }
        return out;
    }
    first.set.iter().for_each(|m| {
        out.insert_member(m);
    });
    for s in others() {
        s.set.iter().for_each(|m| {
            out.remove_member(m);
        });
        if out.is_empty() {
            break;
        }
    }
    out
}

fn members_reply(set: &SetValue) -> Frame {
    Frame::Set(set.iter().map(member_frame).collect())
}

pub fn sinter(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let members = with_sources(ctx, &args[1..], |sources| {
        let mut out = Vec::new();
        intersect(sources, |m| {
            out.push(member_frame(m));
            true
        });
        out
    })?;
    Ok(Frame::Set(members))
}

pub fn sinterstore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let result = with_sources(ctx, &args[2..], |sources| {
        let mut out = SetValue::default();
        intersect(sources, |m| {
            out.insert_member(m);
            true
        });
        out
    })?;
    Ok(Frame::Integer(store(ctx, &args[1], result, "sinterstore")))
}

/// SINTERCARD's `numkeys` and `LIMIT` (0 = none), with Redis's errors.
fn parse_sintercard(argv: &[Bytes]) -> Result<(usize, usize), Frame> {
    let numkeys = match args::int(&argv[1]) {
        Ok(n) if n > 0 => n as u64,
        _ => return Err(Frame::error_static("ERR numkeys should be greater than 0")),
    };
    if numkeys > (argv.len() - 2) as u64 {
        return Err(Frame::error_static("ERR Number of keys can't be greater than number of args"));
    }
    let numkeys = numkeys as usize;
    let mut limit = 0;
    let mut j = 2 + numkeys;
    while j < argv.len() {
        if args::is(&argv[j], "limit") && j + 1 < argv.len() {
            limit = match args::int(&argv[j + 1]) {
                Ok(l) if l >= 0 => l as usize,
                _ => return Err(Frame::error_static("ERR LIMIT can't be negative")),
            };
            j += 2;
        } else {
            return Err(args::syntax_error());
        }
    }
    Ok((numkeys, limit))
}

pub fn sintercard(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (numkeys, limit) = parse_sintercard(args)?;
    let card = with_sources(ctx, &args[2..2 + numkeys], |sources| {
        let mut card = 0usize;
        intersect(sources, |_| {
            card += 1;
            limit == 0 || card < limit
        });
        card
    })?;
    Ok(Frame::Integer(card as i64))
}

pub fn sunion(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    with_sources(ctx, &args[1..], |s| members_reply(&union(s)))
}

pub fn sunionstore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let result = with_sources(ctx, &args[2..], union)?;
    Ok(Frame::Integer(store(ctx, &args[1], result, "sunionstore")))
}

pub fn sdiff(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    with_sources(ctx, &args[1..], |s| members_reply(&diff(s)))
}

pub fn sdiffstore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let result = with_sources(ctx, &args[2..], diff)?;
    Ok(Frame::Integer(store(ctx, &args[1], result, "sdiffstore")))
}
