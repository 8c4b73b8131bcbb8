//! ZUNION, ZINTER, ZDIFF, their *STORE forms and ZINTERCARD (Redis's
//! `zunionInterDiffGenericCommand`). Inputs may be sorted sets or plain sets (every member
//! scoring 1). The result is accumulated in owned memory one source at a time, so only one
//! input is borrowed from the keyspace at any moment; aggregation follows Redis's order
//! (sources by ascending cardinality, `inf - inf` summing to 0).

use super::common::{float_arg, is_resp3, scored_reply, store_result, wrongtype, Built};
use crate::commands::keys::lookup::read;
use crate::commands::Reply;
use crate::commands::{args, Ctx};
use crate::store::types::{SetValue, ZSetValue};
use crate::store::ztree::cmp_entry;
use crate::store::{Node, Value};
use bytes::Bytes;
use hashbrown::HashMap;
use slotbox_protocol::float::parse_i64;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// One input: its key, weight and cardinality (0 when missing).
struct Source {
    key: Bytes,
    weight: f64,
    len: usize,
}

/// Parsed options.
struct Opts {
    aggregate: Aggregate,
    withscores: bool,
    limit: usize,
}

/// One input value, borrowed from the keyspace.
enum Input<'a> {
    ZSet(&'a ZSetValue),
    Set(&'a SetValue),
}

impl Input<'_> {
    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Input::ZSet(z) => z.score(member),
            Input::Set(s) => s.contains(member).then_some(1.0),
        }
    }

    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Input::ZSet(z) => z.iter().for_each(|(s, m)| f(m, s)),
            Input::Set(s) => s.members().iter().for_each(|m| f(m, 1.0)),
        }
    }
}

/// Run `f` on the input at `key` (already type-checked by `sources`).
fn with_input<R>(ctx: &mut Ctx, key: &[u8], f: impl FnOnce(Option<Input>) -> R) -> R {
    match ctx.keys.get(key) {
        Some(Node { value: Value::ZSet(z), .. }) => f(Some(Input::ZSet(z))),
        Some(Node { value: Value::Set(s), .. }) => f(Some(Input::Set(s))),
        _ => f(None),
    }
}

fn aggregate(target: &mut f64, val: f64, agg: Aggregate) {
    match agg {
        Aggregate::Sum => {
            *target += val;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => *target = if val < *target { val } else { *target },
        Aggregate::Max => *target = if val > *target { val } else { *target },
    }
}

/// numkeys, the keys (type-checked, counting hits / misses) and the options after them.
fn parse(
    ctx: &mut Ctx,
    args: &[Bytes],
    at: usize,
    op: Op,
    store: bool,
    card: bool,
) -> Result<(Vec<Source>, Opts), Frame> {
    let setnum = parse_i64(&args[at]).ok_or(Frame::error_static(errors::NOT_INTEGER))?;
    if setnum < 1 {
        return Err(Frame::error(format!("ERR at least 1 input key is needed for '{}' command", ctx.spec.name)));
    }
    if setnum as u64 > (args.len() - at - 1) as u64 {
        return Err(args::syntax_error());
    }
    let keys = &args[at + 1..at + 1 + setnum as usize];
    let mut srcs = Vec::with_capacity(keys.len());
    for key in keys {
        let shared = ctx.shared;
        let len = match read(ctx.keys, &shared.stats, key).map(|e| &e.value) {
            None => 0,
            Some(Value::ZSet(z)) => z.len(),
            Some(Value::Set(s)) => s.len(),
            Some(_) => return Err(wrongtype()),
        };
        srcs.push(Source { key: key.clone(), weight: 1.0, len });
    }
    let opts = parse_options(&args[at + 1 + keys.len()..], &mut srcs, op, store, card)?;
    Ok((srcs, opts))
}

fn parse_options(rest: &[Bytes], srcs: &mut [Source], op: Op, store: bool, card: bool) -> Result<Opts, Frame> {
    let mut o = Opts { aggregate: Aggregate::Sum, withscores: false, limit: 0 };
    let mut j = 0;
    while j < rest.len() {
        let left = rest.len() - j;
        let a = &rest[j];
        if op != Op::Diff && !card && left > srcs.len() && args::is(a, "weights") {
            for (i, src) in srcs.iter_mut().enumerate() {
                src.weight = float_arg(&rest[j + 1 + i], "ERR weight value is not a float")?;
            }
            j += 1 + srcs.len();
        } else if op != Op::Diff && !card && left >= 2 && args::is(a, "aggregate") {
            o.aggregate = match &rest[j + 1] {
                x if args::is(x, "sum") => Aggregate::Sum,
                x if args::is(x, "min") => Aggregate::Min,
                x if args::is(x, "max") => Aggregate::Max,
                _ => return Err(args::syntax_error()),
            };
            j += 2;
        } else if !store && !card && args::is(a, "withscores") {
            o.withscores = true;
            j += 1;
        } else if card && left >= 2 && args::is(a, "limit") {
            let limit = parse_i64(&rest[j + 1]).filter(|&l| l >= 0);
            o.limit = limit.ok_or(Frame::error_static("ERR LIMIT can't be negative"))? as usize;
            j += 2;
        } else {
            return Err(args::syntax_error());
        }
    }
    Ok(o)
}

/// The weighted score of a member of source `src`, NaN (inf * 0) read as 0.
fn weighted(score: f64, weight: f64) -> f64 {
    let s = score * weight;
    if s.is_nan() {
        0.0
    } else {
        s
    }
}

fn union(ctx: &mut Ctx, srcs: &[Source], agg: Aggregate) -> Vec<(Box<[u8]>, f64)> {
    let mut acc: HashMap<Box<[u8]>, f64> = HashMap::new();
    for src in srcs.iter().filter(|s| s.len > 0) {
        with_input(ctx, &src.key, |input| {
            input.into_iter().for_each(|i| {
                i.for_each(|m, s| {
                    let score = weighted(s, src.weight);
                    match acc.get_mut(m) {
                        Some(t) => aggregate(t, score, agg),
                        None => {
                            acc.insert(m.into(), score);
                        }
                    }
                })
            })
        });
    }
    acc.into_iter().collect()
}

fn inter(ctx: &mut Ctx, srcs: &[Source], agg: Aggregate) -> Vec<(Box<[u8]>, f64)> {
    if srcs[0].len == 0 {
        return Vec::new();
    }
    let mut acc: Vec<(Box<[u8]>, f64)> = Vec::with_capacity(srcs[0].len);
    with_input(ctx, &srcs[0].key, |input| {
        input.into_iter().for_each(|i| i.for_each(|m, s| acc.push((m.into(), weighted(s, srcs[0].weight)))))
    });
    for src in &srcs[1..] {
        with_input(ctx, &src.key, |input| match input {
            None => acc.clear(),
            Some(i) => acc.retain_mut(|(m, score)| match i.score(m) {
                None => false,
                Some(v) => {
                    aggregate(score, v * src.weight, agg);
                    true
                }
            }),
        });
        if acc.is_empty() {
            break;
        }
    }
    acc
}

fn diff(ctx: &mut Ctx, srcs: &[Source]) -> Vec<(Box<[u8]>, f64)> {
    let mut acc: Vec<(Box<[u8]>, f64)> = Vec::with_capacity(srcs[0].len);
    with_input(ctx, &srcs[0].key, |input| input.into_iter().for_each(|i| i.for_each(|m, s| acc.push((m.into(), s)))));
    for src in srcs[1..].iter().filter(|s| s.len > 0) {
        with_input(ctx, &src.key, |input| {
            if let Some(i) = input {
                acc.retain(|(m, _)| i.score(m).is_none());
            }
        });
        if acc.is_empty() {
            break;
        }
    }
    acc
}

/// Compute the operation; the result sorted by (score, member).
fn compute(ctx: &mut Ctx, mut srcs: Vec<Source>, op: Op, agg: Aggregate) -> Vec<(f64, Box<[u8]>)> {
    if op != Op::Diff {
        srcs.sort_by_key(|s| s.len);
    }
    let acc = match op {
        Op::Union => union(ctx, &srcs, agg),
        Op::Inter => inter(ctx, &srcs, agg),
        Op::Diff => diff(ctx, &srcs),
    };
    let mut out: Vec<(f64, Box<[u8]>)> = acc.into_iter().map(|(m, s)| (s, m)).collect();
    out.sort_by(|a, b| cmp_entry(a.0, &a.1, b.0, &b.1));
    out
}

/// ZUNION / ZINTER / ZDIFF (numkeys at `args[1]`).
fn reply_generic(ctx: &mut Ctx, args: &[Bytes], op: Op) -> Reply {
    let (srcs, opts) = parse(ctx, args, 1, op, false, false)?;
    let result = compute(ctx, srcs, op, opts.aggregate);
    Ok(scored_reply(result, opts.withscores, is_resp3(ctx)))
}

/// ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE (destination at `args[1]`, numkeys at `args[2]`).
fn store_generic(ctx: &mut Ctx, args: &[Bytes], op: Op) -> Reply {
    let (srcs, opts) = parse(ctx, args, 2, op, true, false)?;
    let result = compute(ctx, srcs, op, opts.aggregate);
    let event = match op {
        Op::Union => "zunionstore",
        Op::Inter => "zinterstore",
        Op::Diff => "zdiffstore",
    };
    Ok(store_result(ctx, &args[1], result, event, Built::ThenPacked))
}

pub fn zunion(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    reply_generic(ctx, args, Op::Union)
}

pub fn zinter(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    reply_generic(ctx, args, Op::Inter)
}

pub fn zdiff(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    reply_generic(ctx, args, Op::Diff)
}

pub fn zunionstore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    store_generic(ctx, args, Op::Union)
}

pub fn zinterstore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    store_generic(ctx, args, Op::Inter)
}

pub fn zdiffstore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    store_generic(ctx, args, Op::Diff)
}

/// ZINTERCARD numkeys key... [LIMIT limit].
pub fn zintercard(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (mut srcs, opts) = parse(ctx, args, 1, Op::Inter, false, true)?;
    srcs.sort_by_key(|s| s.len);
    let n = inter(ctx, &srcs, Aggregate::Sum).len();
    let n = if opts.limit > 0 { n.min(opts.limit) } else { n };
    Ok(Frame::Integer(n as i64))
}
