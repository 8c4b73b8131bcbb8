//! Helpers the sets commands share (lookups, argument parsing, reply shapes).

use crate::commands::keys::lookup::read;
use crate::commands::Ctx;
use crate::notify::class;
use crate::store::types::{SetMember, SetValue};
use crate::store::{Entry, Value};
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

pub(super) fn wrongtype() -> Frame {
    Frame::error_static(errors::WRONGTYPE)
}

/// A member as a bulk reply.
pub(super) fn member_frame(m: SetMember) -> Frame {
    Frame::Bulk(m.to_bytes())
}

/// Look a set up for reading (counting a keyspace hit or miss): `Ok(None)` when missing.
pub(super) fn read_set<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c SetValue>, Frame> {
    match read(ctx.keys, &ctx.shared.stats, key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::Set(s)) => Ok(Some(s)),
        Some(_) => Err(wrongtype()),
    }
}

/// Look a set up for writing without modifying it (no hit / miss counted, no WATCH touch).
pub(super) fn peek_set<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c SetValue>, Frame> {
    match ctx.keys.get(key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::Set(s)) => Ok(Some(s)),
        Some(_) => Err(wrongtype()),
    }
}

/// The existing set at `key`, for modification (marks the key modified for WATCH).
pub(super) fn set_mut<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Option<&'c mut SetValue> {
    match ctx.keys.get_mut(key).map(|e| &mut e.value) {
        Some(Value::Set(s)) => Some(s),
        _ => None,
    }
}

/// Store `set` at `key` as a new value (dropping any TTL) and report `event`, or delete `key`
/// when `set` is empty (a `del` event if there was one); returns the stored size.
pub(super) fn store(ctx: &mut Ctx, key: &[u8], set: SetValue, event: &str) -> i64 {
    let len = set.len() as i64;
    if set.is_empty() {
        if ctx.keys.remove(key).is_some() {
            ctx.notify(class::GENERIC, "del", key);
        }
    } else {
        ctx.keys.insert(key, Entry::new(Value::Set(Box::new(set))));
        ctx.notify(class::SET, event, key);
    }
    len
}

/// Remove `key` (with its `del` event) if its set became empty.
pub(super) fn delete_if_empty(ctx: &mut Ctx, key: &[u8]) {
    if matches!(ctx.keys.get(key).map(|e| &e.value), Some(Value::Set(s)) if s.is_empty()) {
        ctx.keys.remove(key);
        ctx.notify(class::GENERIC, "del", key);
    }
}
