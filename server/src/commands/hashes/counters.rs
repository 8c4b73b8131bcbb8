//! HINCRBY and HINCRBYFLOAT. The float variant computes in the software 80-bit long double
//! INCRBYFLOAT uses, so its replies and stored values match Redis byte for byte. Errors are
//! found before anything is written: a failed increment never creates or touches the key.

use super::common::{hash_for_write, peek_hash};
use crate::commands::strings::long_double::LongDouble;
use crate::commands::Reply;
use crate::commands::{args, Ctx};
use crate::notify::class;
use bytes::Bytes;
use slotbox_protocol::float::parse_i64;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

/// The current value of a field, `None` when the key or field is missing.
fn current<'c>(ctx: &'c mut Ctx, key: &[u8], field: &[u8]) -> Result<Option<&'c [u8]>, Frame> {
    Ok(peek_hash(ctx, key)?.and_then(|h| h.get(field)))
}

pub fn hincrby(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (key, field) = (&args[1], &args[2]);
    let incr = args::int(&args[3])?;
    let old = match current(ctx, key, field)? {
        None => 0,
        Some(v) => match parse_i64(v) {
            Some(i) => i,
            None => return Ok(Frame::error_static("ERR hash value is not an integer")),
        },
    };
    let Some(new) = old.checked_add(incr) else {
        return Ok(Frame::error_static(errors::OVERFLOW));
    };
    let text = itoa::Buffer::new().format(new).as_bytes().to_vec();
    hash_for_write(ctx, key).set(field, &text);
    ctx.notify(class::HASH, "hincrby", key);
    Ok(Frame::Integer(new))
}

pub fn hincrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (key, field) = (&args[1], &args[2]);
    let Some(incr) = LongDouble::parse(&args[3]) else {
        return Ok(Frame::error_static(errors::NOT_FLOAT));
    };
    if !incr.is_finite() {
        return Ok(Frame::error_static("ERR value is NaN or Infinity"));
    }
    let old = match current(ctx, key, field)? {
        None => LongDouble::ZERO,
        Some(v) => match LongDouble::parse(v) {
            Some(ld) => ld,
            None => return Ok(Frame::error_static("ERR hash value is not a float")),
        },
    };
    let sum = old.add(incr);
    if !sum.is_finite() {
        return Ok(Frame::error_static("ERR increment would produce NaN or Infinity"));
    }
    let text = sum.to_human();
    hash_for_write(ctx, key).set(field, text.as_bytes());
    ctx.notify(class::HASH, "hincrbyfloat", key);
    Ok(Frame::Bulk(Bytes::from(text)))
}
