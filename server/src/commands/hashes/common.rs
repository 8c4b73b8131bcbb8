//! Helpers the hashes commands share (lookups, argument parsing, reply shapes).

use crate::commands::keys::lookup::read;
use crate::commands::Ctx;
use crate::store::value::{HashMut, HashRef};
use crate::store::{Entry, Value};
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

pub(super) fn wrongtype() -> Frame {
    Frame::error_static(errors::WRONGTYPE)
}

/// Look a hash up for reading (counting a keyspace hit or miss): `Ok(None)` when missing.
pub(super) fn read_hash<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<HashRef<'c>>, Frame> {
    match read(ctx.keys, &ctx.shared.stats, key) {
        None => Ok(None),
        Some(e) => e.value.as_hash().map(Some).ok_or_else(wrongtype),
    }
}

/// Look a hash up for writing without modifying it (no hit / miss counted, no WATCH touch):
/// `Ok(None)` when missing.
pub(super) fn peek_hash<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<HashRef<'c>>, Frame> {
    match ctx.keys.get(key) {
        None => Ok(None),
        Some(e) => e.value.as_hash().map(Some).ok_or_else(wrongtype),
    }
}

/// The hash at `key` for modification, created empty if missing. Only call it once the
/// command is sure to change the hash (and after a type check: another type is replaced).
pub(super) fn hash_for_write<'c>(ctx: &'c mut Ctx, key: &[u8]) -> HashMut<'c> {
    if ctx.keys.get(key).is_none_or(|e| e.value.as_hash().is_none()) {
        ctx.keys.insert(key, Entry::new(Value::new_hash()));
    }
    let limits = ctx.shared.hot.hash_limits();
    ctx.keys.get_mut(key).and_then(|e| e.value.as_hash_mut(limits)).expect("hash inserted above")
}
