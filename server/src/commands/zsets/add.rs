//! ZADD (NX, XX, GT, LT, CH, INCR), ZINCRBY and ZREM. A write is planned against the current
//! scores first and applied only when it changes something, so a no-op never creates the key
//! nor counts as a modification for WATCH (Redis signals only on added/updated elements).

use super::common::{float_arg, peek_zset, removed_from, wrongtype, zset_mut};
use crate::commands::Reply;
use crate::commands::{args, Ctx};
use crate::notify::class;
use crate::store::types::ZSetValue;
use crate::store::{Entry, Value};
use bytes::Bytes;
use hashbrown::HashMap;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

const NAN_ERR: &str = "ERR resulting score is not a number (NaN)";

/// ZADD's option flags.
#[derive(Debug, Default, Clone, Copy)]
struct Flags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// What one score-member pair does to the set.
enum Outcome {
    /// Nothing (NX on an existing member, XX on a missing one, GT / LT refused).
    Nop,
    /// INCR made the score NaN.
    Nan,
    /// The member gets `score`; `added` if new, `changed` if the score differs.
    Set { score: f64, added: bool, changed: bool },
}

/// Redis's `zsetAdd` decision for one pair, given the member's current score.
fn outcome(current: Option<f64>, score: f64, f: Flags) -> Outcome {
    let Some(cur) = current else {
        return if f.xx { Outcome::Nop } else { Outcome::Set { score, added: true, changed: true } };
    };
    if f.nx {
        return Outcome::Nop;
    }
    let new = if f.incr { score + cur } else { score };
    if new.is_nan() {
        return Outcome::Nan;
    }
    if (f.lt && new >= cur) || (f.gt && new <= cur) {
        return Outcome::Nop;
    }
    Outcome::Set { score: new, added: false, changed: new != cur }
}

/// Parse the flags and the score-member pairs that follow them (from `args[2]`).
/// Score-member pairs, members borrowed from the arguments.
type Pairs<'a> = Vec<(f64, &'a [u8])>;

fn parse(args: &[Bytes]) -> Result<(Flags, Pairs<'_>), Frame> {
    let mut f = Flags::default();
    let mut i = 2;
    while i < args.len() {
        if args[i].len() > 4 {
            break;
        }
        let flag = match args[i].to_ascii_lowercase().as_slice() {
            b"nx" => &mut f.nx,
            b"xx" => &mut f.xx,
            b"ch" => &mut f.ch,
            b"incr" => &mut f.incr,
            b"gt" => &mut f.gt,
            b"lt" => &mut f.lt,
            _ => break,
        };
        *flag = true;
        i += 1;
    }
    let rest = &args[i..];
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(args::syntax_error());
    }
    if f.nx && f.xx {
        return Err(Frame::error_static("ERR XX and NX options at the same time are not compatible"));
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return Err(Frame::error_static("ERR GT, LT, and/or NX options at the same time are not compatible"));
    }
    if f.incr && rest.len() > 2 {
        return Err(Frame::error_static("ERR INCR option supports a single increment-element pair"));
    }
    let mut pairs = Vec::with_capacity(rest.len() / 2);
    for pair in rest.chunks(2) {
        pairs.push((float_arg(&pair[0], errors::NOT_FLOAT)?, &pair[1][..]));
    }
    Ok((f, pairs))
}

/// The counts a ZADD reports, and the changes to apply.
#[derive(Default)]
struct Plan<'a> {
    changes: Vec<(&'a [u8], f64)>,
    added: i64,
    updated: i64,
    processed: bool,
    last_score: f64,
}

/// Decide every pair against the current scores (and the pairs before it).
fn plan<'a>(z: Option<&ZSetValue>, pairs: &[(f64, &'a [u8])], f: Flags) -> Result<Plan<'a>, Frame> {
    let mut p = Plan::default();
    let mut planned: HashMap<&[u8], f64> = HashMap::new();
    for &(score, member) in pairs {
        let current = planned.get(member).copied().or_else(|| z.and_then(|z| z.score(member)));
        match outcome(current, score, f) {
            Outcome::Nop => {}
            Outcome::Nan => return Err(Frame::error_static(NAN_ERR)),
            Outcome::Set { score, added, changed } => {
                p.processed = true;
                p.last_score = score;
                if changed {
                    planned.insert(member, score);
                    p.changes.push((member, score));
                    if added {
                        p.added += 1;
                    } else {
                        p.updated += 1;
                    }
                }
            }
        }
    }
    Ok(p)
}

/// Redis's `zaddGenericCommand` after parsing.
fn zadd_generic(ctx: &mut Ctx, key: &[u8], f: Flags, pairs: &[(f64, &[u8])]) -> Reply {
    let existing = peek_zset(ctx, key)?;
    let p = if existing.is_none() && f.xx { Plan::default() } else { plan(existing, pairs, f)? };
    if !p.changes.is_empty() {
        match zset_mut(ctx, key) {
            Some(z) => p.changes.iter().for_each(|&(m, s)| {
                z.put(m, s);
            }),
            None => {
                let mut z = ZSetValue::default();
                p.changes.iter().for_each(|&(m, s)| {
                    z.put(m, s);
                });
                ctx.keys.insert(key, Entry::new(Value::ZSet(Box::new(z))));
            }
        }
        ctx.notify(class::ZSET, if f.incr { "zincr" } else { "zadd" }, key);
    }
    if f.incr {
        return Ok(if p.processed { Frame::Double(p.last_score) } else { Frame::Null });
    }
    Ok(Frame::Integer(if f.ch { p.added + p.updated } else { p.added }))
}

pub fn zadd(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (f, pairs) = parse(args)?;
    zadd_generic(ctx, &args[1], f, &pairs)
}

pub fn zincrby(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let incr = float_arg(&args[2], errors::NOT_FLOAT)?;
    let f = Flags { incr: true, ..Flags::default() };
    zadd_generic(ctx, &args[1], f, &[(incr, &args[3][..])])
}

pub fn zrem(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let members = &args[2..];
    match peek_zset(ctx, key) {
        Err(e) => return Ok(e),
        Ok(None) => return Ok(Frame::Integer(0)),
        Ok(Some(z)) if !members.iter().any(|m| z.score(m).is_some()) => return Ok(Frame::Integer(0)),
        Ok(Some(_)) => {}
    }
    let Some(z) = zset_mut(ctx, key) else {
        return Ok(wrongtype());
    };
    let removed = members.iter().filter(|m| z.remove(m).is_some()).count();
    removed_from(ctx, key, "zrem");
    Ok(Frame::Integer(removed as i64))
}
