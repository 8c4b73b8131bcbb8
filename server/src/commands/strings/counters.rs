//! Counters: INCR, DECR, INCRBY, DECRBY on the `int` encoding (a canonical integer string),
//! and INCRBYFLOAT computed in a software 80-bit long double exactly as Redis does. All of
//! them keep the key's TTL, as Redis's in-place update (`dbOverwrite`) does.

use super::common::wrongtype;
use super::long_double::LongDouble;
use crate::commands::Reply;
use crate::commands::{args, Ctx};
use crate::notify::class;
use crate::store::{Entry, Value};
use bytes::Bytes;
use slotbox_protocol::float::parse_i64;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

/// The current value of `key` as an integer (0 if missing), or the error Redis gives.
fn current_int(ctx: &mut Ctx, key: &[u8]) -> Result<i64, Frame> {
    match ctx.keys.get(key).map(|e| &e.value) {
        None => Ok(0),
        Some(Value::Int(i)) => Ok(*i),
        Some(v) if !v.is_string() => Err(wrongtype()),
        Some(v) => match v.string_bytes() {
            Some(mut b) => b.with(parse_i64).ok_or(Frame::error_static(errors::NOT_INTEGER)),
            None => Err(wrongtype()),
        },
    }
}

/// Store a new string value at `key`, keeping its TTL if it exists.
fn overwrite(ctx: &mut Ctx, key: &[u8], value: Value) {
    match ctx.keys.get_mut(key) {
        Some(e) => e.value = value,
        None => {
            ctx.keys.insert(key, Entry::new(value));
        }
    }
}

/// Redis's `incrDecrCommand`.
fn incr_by(ctx: &mut Ctx, key: &[u8], incr: i64) -> Reply {
    let old = current_int(ctx, key)?;
    let Some(new) = old.checked_add(incr) else {
        return Ok(Frame::error_static(errors::OVERFLOW));
    };
    overwrite(ctx, key, Value::Int(new));
    ctx.notify(class::STRING, "incrby", key);
    Ok(Frame::Integer(new))
}

pub fn incr(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    incr_by(ctx, &args[1], 1)
}

pub fn decr(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    incr_by(ctx, &args[1], -1)
}

pub fn incrby(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let incr = args::int(&args[2])?;
    incr_by(ctx, &args[1], incr)
}

pub fn decrby(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let decr = args::int(&args[2])?;
    if decr == i64::MIN {
        return Ok(Frame::error_static("ERR decrement would overflow"));
    }
    incr_by(ctx, &args[1], -decr)
}

pub fn incrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let not_float = || Frame::error_static(errors::NOT_FLOAT);
    let current = match ctx.keys.get(key).map(|e| &e.value) {
        None => Some(LongDouble::ZERO),
        Some(v) if !v.is_string() => return Ok(wrongtype()),
        Some(v) => v.string_bytes().and_then(|mut b| b.with(LongDouble::parse)),
    };
    let Some(current) = current else {
        return Ok(not_float());
    };
    let Some(incr) = LongDouble::parse(&args[2]) else {
        return Ok(not_float());
    };
    let sum = current.add(incr);
    if !sum.is_finite() {
        return Ok(Frame::error_static("ERR increment would produce NaN or Infinity"));
    }
    let text = sum.to_human();
    overwrite(ctx, key, Value::plain_string(text.as_bytes()));
    ctx.notify(class::STRING, "incrbyfloat", key);
    Ok(Frame::Bulk(Bytes::from(text)))
}
