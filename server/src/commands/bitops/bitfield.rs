//! BITFIELD and BITFIELD_RO: GET / SET / INCRBY on signed (`i1`..`i64`) and unsigned
//! (`u1`..`u63`) integers at any bit offset (`#N`: the N-th field of that width), with
//! OVERFLOW WRAP / SAT / FAIL applying to the operations after it. All arguments are parsed
//! before anything is touched; a write grows the string once to the farthest bit written. The
//! command counts as a change (event `setbit`, propagation) only if some field changed or the
//! string was created or grew, as in Redis.

use super::bits::{self, Overflow};
use super::common::{bit_offset, with_string, with_string_for_write, wrongtype};
use crate::commands::keys::lookup::read;
use crate::commands::{args, Ctx, Reply};
use crate::notify::class;
use crate::store::Value;
use bytes::Bytes;
use slotbox_protocol::float::parse_i64;
use slotbox_protocol::Frame;

const BAD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Get,
    Set,
    Incrby,
}

/// One parsed operation.
#[derive(Clone, Copy)]
struct FieldOp {
    kind: Kind,
    signed: bool,
    bits: u32,
    offset: u64,
    /// SET's value or INCRBY's increment.
    value: i64,
    overflow: Overflow,
}

/// A field type: `i1`..`i64` or `u1`..`u63`.
fn field_type(arg: &[u8]) -> Result<(bool, u32), Frame> {
    let bad = || Frame::error_static(BAD_TYPE);
    let (signed, digits) = match arg.split_first() {
        Some((b'i', rest)) => (true, rest),
        Some((b'u', rest)) => (false, rest),
        _ => return Err(bad()),
    };
    match parse_i64(digits) {
        Some(n) if n >= 1 && n <= if signed { 64 } else { 63 } => Ok((signed, n as u32)),
        _ => Err(bad()),
    }
}

fn overflow_kind(arg: &[u8]) -> Result<Overflow, Frame> {
    [("wrap", Overflow::Wrap), ("sat", Overflow::Sat), ("fail", Overflow::Fail)]
        .into_iter()
        .find(|(name, _)| args::is(arg, name))
        .map(|(_, o)| o)
        .ok_or(Frame::error_static("ERR Invalid OVERFLOW type specified"))
}

/// Parse every operation, with the errors Redis gives, in its order.
fn parse(ctx: &Ctx, args: &[Bytes]) -> Result<Vec<FieldOp>, Frame> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let sub = &args[j];
        let kind = if args::is(sub, "get") && left >= 2 {
            Kind::Get
        } else if args::is(sub, "set") && left >= 3 {
            Kind::Set
        } else if args::is(sub, "incrby") && left >= 3 {
            Kind::Incrby
        } else if args::is(sub, "overflow") && left >= 1 {
            overflow = overflow_kind(&args[j + 1])?;
            j += 2;
            continue;
        } else {
            return Err(args::syntax_error());
        };
        let (signed, bits) = field_type(&args[j + 1])?;
        let offset = bit_offset(ctx, &args[j + 2], bits)?;
        let value = if kind == Kind::Get { 0 } else { args::int(&args[j + 3])? };
        ops.push(FieldOp { kind, signed, bits, offset, value, overflow });
        j += if kind == Kind::Get { 3 } else { 4 };
    }
    Ok(ops)
}

pub fn bitfield(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    run(ctx, args, false)
}

pub fn bitfield_ro(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    run(ctx, args, true)
}

fn run(ctx: &mut Ctx, args: &[Bytes], read_only: bool) -> Reply {
    let ops = parse(ctx, args)?;
    let key = &args[1];
    let highest = ops.iter().filter(|op| op.kind != Kind::Get).map(|op| op.offset + u64::from(op.bits) - 1).max();
    let Some(highest) = highest else {
        ctx.propagate = Some(Vec::new());
        return Ok(read_all(ctx, key, &ops));
    };
    if read_only {
        return Err(Frame::error_static("ERR BITFIELD_RO only supports the GET subcommand"));
    }
    if let Some(replies) = unchanged_replies(ctx, key, &ops, highest) {
        // Not a modification: WATCH and client tracking do not see it, nothing propagates.
        ctx.propagate = Some(Vec::new());
        return Ok(Frame::Array(replies));
    }
    let (replies, changes) = with_string_for_write(ctx, key, (highest >> 3) as usize + 1, |data, grew| {
        let mut changes = 0usize;
        let replies: Vec<Frame> = ops
            .iter()
            .map(|op| {
                let (reply, changed) = apply(data, op);
                let wrote = op.kind != Kind::Get && !matches!(reply, Frame::Null);
                changes += usize::from(wrote && (changed || grew));
                reply
            })
            .collect();
        (replies, changes)
    })?;
    if changes > 0 {
        ctx.notify(class::STRING, "setbit", key);
    } else {
        ctx.propagate = Some(Vec::new());
    }
    Ok(Frame::Array(replies))
}

/// Largest span of an existing string the no-change check copies.
const DRY_RUN_MAX: usize = 64 * 1024;

/// The replies, when the operations would change nothing in the existing `raw` string at `key`
/// (it need not grow, every write leaves its field as it was or fails): worked out on a copy
/// of the bytes they touch. `None` when they would change something, or the span is too long
/// to copy (then the write path runs and counts as a modification).
fn unchanged_replies(ctx: &mut Ctx, key: &[u8], ops: &[FieldOp], highest: u64) -> Option<Vec<Frame>> {
    let Some(Value::Str { data, raw: true }) = ctx.keys.get(key).map(|e| &e.value) else {
        return None;
    };
    if (highest >> 3) as usize >= data.len() {
        return None;
    }
    let lo = ops.iter().map(|op| op.offset >> 3).min()?;
    let hi = ops.iter().map(|op| (op.offset + u64::from(op.bits) - 1) >> 3).max()?;
    let end = (hi as usize + 1).min(data.len());
    if end - lo as usize > DRY_RUN_MAX {
        return None;
    }
    // A short span (the usual one or two fields) is copied to the stack; the replies are
    // only gathered once an operation turned out not to change anything.
    let mut scratch: smallvec::SmallVec<[u8; 64]> = smallvec::SmallVec::from_slice(&data[lo as usize..end]);
    let mut replies = Vec::new();
    for op in ops {
        let shifted = FieldOp { offset: op.offset - lo * 8, ..*op };
        let (reply, changed) = apply(&mut scratch, &shifted);
        if changed {
            return None;
        }
        replies.push(reply);
    }
    Some(replies)
}

/// Only GETs: the key need not exist, and is not created.
fn read_all(ctx: &mut Ctx, key: &[u8], ops: &[FieldOp]) -> Frame {
    let value = read(ctx.keys, &ctx.shared.stats, key).map(|e| &e.value);
    let replies = match value {
        None => ops.iter().map(|op| get(&[], op)).collect(),
        Some(v) => match with_string(v, |data| ops.iter().map(|op| get(data, op)).collect()) {
            Some(r) => r,
            None => return wrongtype(),
        },
    };
    Frame::Array(replies)
}

fn get(data: &[u8], op: &FieldOp) -> Frame {
    Frame::Integer(if op.signed {
        bits::get_signed(data, op.offset, op.bits)
    } else {
        bits::get_unsigned(data, op.offset, op.bits) as i64
    })
}

/// Run one operation on the (grown) string: its reply, and whether the field changed.
fn apply(data: &mut [u8], op: &FieldOp) -> (Frame, bool) {
    if op.kind == Kind::Get {
        return (get(data, op), false);
    }
    let (old, new, reply) = if op.signed {
        let old = bits::get_signed(data, op.offset, op.bits);
        let (base, incr) = if op.kind == Kind::Incrby { (old, op.value) } else { (op.value, 0) };
        let over = bits::signed_overflow(base, incr, op.bits, op.overflow);
        if over.is_some() && op.overflow == Overflow::Fail {
            return (Frame::Null, false);
        }
        let new = over.unwrap_or(base.wrapping_add(incr));
        (old as u64, new as u64, if op.kind == Kind::Incrby { new } else { old })
    } else {
        let old = bits::get_unsigned(data, op.offset, op.bits);
        let (base, incr) = if op.kind == Kind::Incrby { (old, op.value) } else { (op.value as u64, 0) };
        let over = bits::unsigned_overflow(base, incr, op.bits, op.overflow);
        if over.is_some() && op.overflow == Overflow::Fail {
            return (Frame::Null, false);
        }
        let new = over.unwrap_or(base.wrapping_add(incr as u64));
        (old, new, if op.kind == Kind::Incrby { new as i64 } else { old as i64 })
    };
    bits::set_unsigned(data, op.offset, op.bits, new);
    (Frame::Integer(reply), old != new)
}
