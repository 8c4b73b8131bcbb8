//! Byte-range commands: APPEND, STRLEN, GETRANGE (and its old name SUBSTR), SETRANGE.
//! In-place edits turn the value into Redis's `raw` encoding and keep the key's TTL; growth
//! is bounded by `proto-max-bulk-len` as in Redis's `checkStringLength`.

use super::common::{check_length, take_string, wrongtype};
use crate::commands::keys::lookup::read;
use crate::commands::Reply;
use crate::commands::{args, Ctx};
use crate::notify::class;
use crate::store::{Entry, Value};
use bytes::Bytes;
use slotbox_protocol::Frame;

/// Length of a string value.
fn string_len(v: &Value) -> Option<usize> {
    v.string_bytes().map(|mut b| b.len())
}

pub fn append(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (key, tail) = (&args[1], &args[2]);
    let len = match ctx.keys.get(key) {
        None => {
            ctx.keys.insert(key, Entry::new(Value::string(tail)));
            ctx.notify(class::STRING, "append", key);
            return Ok(Frame::Integer(tail.len() as i64));
        }
        Some(e) => match string_len(&e.value) {
            Some(len) => len,
            None => return Ok(wrongtype()),
        },
    };
    check_length(ctx, len as u64, tail.len() as u64)?;
    let Some(e) = ctx.keys.get_mut(key) else {
        return Ok(Frame::Integer(0));
    };
    let mut data = take_string(&mut e.value);
    data.extend_from_slice(tail);
    let new_len = data.len();
    e.value = Value::Str { data: data.into(), raw: true };
    ctx.notify(class::STRING, "append", key);
    Ok(Frame::Integer(new_len as i64))
}

pub fn strlen(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(match read(ctx.keys, &ctx.shared.stats, &args[1]) {
        None => Frame::Integer(0),
        Some(e) => match string_len(&e.value) {
            Some(len) => Frame::Integer(len as i64),
            None => wrongtype(),
        },
    })
}

/// The byte range `[start, end]` (inclusive, negative = from the end) of a `len`-byte string,
/// with Redis's clamping; `None` when it is empty.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let len_i = len as i64;
    let start = if start < 0 { len_i.saturating_add(start) } else { start }.max(0);
    let end = if end < 0 { len_i.saturating_add(end) } else { end }.max(0);
    let end = end.min(len_i - 1);
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

/// GETRANGE and SUBSTR.
pub fn getrange(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let start = args::int(&args[2])?;
    let end = args::int(&args[3])?;
    let Some(entry) = read(ctx.keys, &ctx.shared.stats, &args[1]) else {
        return Ok(Frame::Bulk(Bytes::new()));
    };
    let Some(mut bytes) = entry.value.string_bytes() else {
        return Ok(wrongtype());
    };
    Ok(bytes.with(|b| match clamp_range(start, end, b.len()) {
        Some((s, e)) => Frame::Bulk(Bytes::copy_from_slice(&b[s..=e])),
        None => Frame::Bulk(Bytes::new()),
    }))
}

pub fn setrange(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (key, patch) = (&args[1], &args[3]);
    let offset = args::int(&args[2])?;
    if offset < 0 {
        return Ok(Frame::error_static("ERR offset is out of range"));
    }
    let offset = offset as u64;
    let current_len = match ctx.keys.get(key) {
        None => None,
        Some(e) => match string_len(&e.value) {
            Some(len) => Some(len),
            None => return Ok(wrongtype()),
        },
    };
    if patch.is_empty() {
        return Ok(Frame::Integer(current_len.unwrap_or(0) as i64));
    }
    check_length(ctx, offset, patch.len() as u64)?;
    let offset = offset as usize;
    if let Some(e) = ctx.keys.get_mut(key) {
        let mut data = take_string(&mut e.value);
        splice(&mut data, offset, patch);
        let new_len = data.len();
        e.value = Value::Str { data: data.into(), raw: true };
        ctx.notify(class::STRING, "setrange", key);
        return Ok(Frame::Integer(new_len as i64));
    }
    let mut data = Vec::new();
    splice(&mut data, offset, patch);
    let new_len = data.len();
    ctx.keys.insert(key, Entry::new(Value::Str { data: data.into(), raw: true }));
    ctx.notify(class::STRING, "setrange", key);
    Ok(Frame::Integer(new_len as i64))
}

/// Write `patch` at `offset`, zero-padding the gap.
fn splice(data: &mut Vec<u8>, offset: usize, patch: &[u8]) {
    if data.len() < offset + patch.len() {
        data.resize(offset + patch.len(), 0);
    }
    data[offset..offset + patch.len()].copy_from_slice(patch);
}

#[cfg(test)]
mod tests {
    use super::clamp_range;

    #[test]
    fn ranges_like_redis() {
        assert_eq!(clamp_range(1, -2, 5), Some((1, 3)));
        assert_eq!(clamp_range(-100, -200, 5), None);
        assert_eq!(clamp_range(-1, -3, 5), None);
        assert_eq!(clamp_range(3, 1, 5), None);
        assert_eq!(clamp_range(0, 100, 5), Some((0, 4)));
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 5), Some((0, 4)));
        assert_eq!(clamp_range(-3, -1, 5), Some((2, 4)));
        assert_eq!(clamp_range(0, -1, 0), None);
        assert_eq!(clamp_range(10, 20, 5), None);
    }
}
