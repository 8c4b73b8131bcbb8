//! Helpers the sorted sets commands share (lookups, argument parsing, reply shapes).

use crate::commands::keys::lookup::read;
use crate::commands::Ctx;
use crate::notify::class;
use crate::store::types::{ZSetValue, ZSET_LISTPACK_MAX_ENTRIES, ZSET_LISTPACK_MAX_VALUE};
use crate::store::{Entry, Node, Value};
use bytes::Bytes;
use slotbox_protocol::float::parse_f64;
use slotbox_protocol::frame::errors;
use slotbox_protocol::{Frame, Protocol};

pub(super) fn wrongtype() -> Frame {
    Frame::error_static(errors::WRONGTYPE)
}

/// The sorted set at `key` for a read command (counts a keyspace hit or miss).
pub(super) fn read_zset<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a ZSetValue>, Frame> {
    let shared = ctx.shared;
    match read(ctx.keys, &shared.stats, key) {
        None => Ok(None),
        Some(Node { value: Value::ZSet(z), .. }) => Ok(Some(z)),
        Some(_) => Err(wrongtype()),
    }
}

/// The sorted set at `key` for a write command, without modifying it (no stats, no WATCH
/// touch): writers look first and only take it mutably when something changes.
pub(super) fn peek_zset<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a ZSetValue>, Frame> {
    match ctx.keys.get(key) {
        None => Ok(None),
        Some(Node { value: Value::ZSet(z), .. }) => Ok(Some(z)),
        Some(_) => Err(wrongtype()),
    }
}

/// The sorted set at `key`, mutably (a modification for WATCH). Only call after `peek_zset`
/// found a sorted set there.
pub(super) fn zset_mut<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Option<&'a mut ZSetValue> {
    match ctx.keys.get_mut(key) {
        Some(Node { value: Value::ZSet(z), .. }) => Some(z),
        _ => None,
    }
}

/// How Redis builds a stored sorted set, which decides where a -0 score survives (a listpack
/// reads it back as 0, a skiplist keeps it).
pub(super) enum Built {
    /// As a skiplist, packed into a listpack at the end if it fits (ZUNIONSTORE, ZINTERSTORE,
    /// ZDIFFSTORE).
    ThenPacked,
    /// Element by element into a listpack that converts once it overflows, unless the count
    /// is known up front and too big for one (ZRANGESTORE; known for a range by rank).
    Grown { known_len: bool },
}

/// Replace `dst` with the sorted set made of `items` (ascending) and report `event`, or delete
/// it when there are none (a `del` event if it existed), as the *STORE commands do. Returns
/// the reply (the stored length).
pub(super) fn store_result(
    ctx: &mut Ctx,
    dst: &[u8],
    items: Vec<(f64, Box<[u8]>)>,
    event: &str,
    built: Built,
) -> Frame {
    if items.is_empty() {
        if ctx.keys.remove(dst).is_some() {
            ctx.notify(class::GENERIC, "del", dst);
        }
        return Frame::Integer(0);
    }
    let too_many = items.len() > ZSET_LISTPACK_MAX_ENTRIES;
    let skiplist_from_start = match built {
        Built::ThenPacked => too_many || items.iter().any(|(_, m)| m.len() > ZSET_LISTPACK_MAX_VALUE),
        Built::Grown { known_len } => known_len && too_many,
    };
    let mut z = ZSetValue::default();
    if skiplist_from_start {
        z.convert_to_skiplist();
    }
    for (score, member) in &items {
        z.put(member, *score);
    }
    let len = z.len() as i64;
    ctx.keys.insert(dst, Entry::new(Value::ZSet(Box::new(z))));
    ctx.notify(class::ZSET, event, dst);
    Frame::Integer(len)
}

/// Report `event` on `key` after elements were removed from its sorted set, then delete the
/// key (with its `del` event) if the set is now empty.
pub(super) fn removed_from(ctx: &mut Ctx, key: &[u8], event: &str) {
    ctx.notify(class::ZSET, event, key);
    if zset_mut(ctx, key).is_some_and(|z| z.is_empty()) {
        ctx.keys.remove(key);
        ctx.notify(class::GENERIC, "del", key);
    }
}

pub(super) fn is_resp3(ctx: &Ctx) -> bool {
    ctx.client.resp == Protocol::Resp3
}

/// Members, with their scores when asked: flat `[m, s, m, s]` in RESP2, `[[m, s], ...]` in
/// RESP3 (as Redis's `zrangeResultEmitCBufferForClient`).
pub(super) fn scored_reply<B, I>(items: I, withscores: bool, resp3: bool) -> Frame
where
    B: AsRef<[u8]>,
    I: IntoIterator<Item = (f64, B)>,
{
    let mut out = Vec::new();
    for (score, member) in items {
        let m = Frame::Bulk(Bytes::copy_from_slice(member.as_ref()));
        match (withscores, resp3) {
            (false, _) => out.push(m),
            (true, false) => {
                out.push(m);
                out.push(Frame::Double(score));
            }
            (true, true) => out.push(Frame::Array(vec![m, Frame::Double(score)])),
        }
    }
    Frame::Array(out)
}

/// A score, increment or weight argument parsed like Redis's `string2d`: the whole string,
/// no NaN, no leading space, and no overflow to ±inf or underflow to 0 (`1e400`, `1e-400`).
pub(crate) fn strict_float(arg: &[u8]) -> Option<f64> {
    let v = parse_f64(arg)?;
    if v.is_infinite() && !is_inf_literal(arg) {
        return None;
    }
    if v == 0.0 && has_nonzero_mantissa(arg) {
        return None;
    }
    Some(v)
}

pub(super) fn is_inf_literal(arg: &[u8]) -> bool {
    let body = arg.strip_prefix(b"-").or_else(|| arg.strip_prefix(b"+")).unwrap_or(arg);
    body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity")
}

pub(super) fn has_nonzero_mantissa(arg: &[u8]) -> bool {
    let body = arg.strip_prefix(b"-").or_else(|| arg.strip_prefix(b"+")).unwrap_or(arg);
    if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        let mantissa = body[2..].split(|&c| c | 0x20 == b'p').next().unwrap_or_default();
        return mantissa.iter().any(|c| c.is_ascii_hexdigit() && *c != b'0');
    }
    let mantissa = body.split(|&c| c | 0x20 == b'e').next().unwrap_or_default();
    mantissa.iter().any(|c| (b'1'..=b'9').contains(c))
}

/// `strict_float` with Redis's error text for the argument.
pub(super) fn float_arg(arg: &[u8], err: &'static str) -> Result<f64, Frame> {
    strict_float(arg).ok_or(Frame::error_static(err))
}

/// Redis's `getRangeLongFromObjectOrReply(.., 1, LONG_MAX, msg)`: a positive count whose
/// parse failure and range failure both give `msg`.
pub(super) fn positive_count(arg: &[u8], msg: &'static str) -> Result<i64, Frame> {
    match slotbox_protocol::float::parse_i64(arg) {
        Some(v) if v >= 1 => Ok(v),
        _ => Err(Frame::error_static(msg)),
    }
}
