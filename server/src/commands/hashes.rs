//! Hash commands (group `hash`): HSET and friends, counters, HRANDFIELD and HSCAN. Each
//! submodule of `hashes/` holds one group of commands; this file joins their handlers into the
//! registration table and keeps the key lookups they share. Handlers see only the locked keys
//! of their command: no sockets, no cluster state. `scan` is shared with the set family.

mod counters;
mod fields;
pub(super) mod random;
pub(super) mod scan;
#[cfg(test)]
mod tests;

use super::keys::lookup::read;
use super::{Ctx, Registration};
use crate::store::value::{HashMut, HashRef};
use crate::store::{Entry, Value};
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

pub const COMMANDS: Registration = &[
    ("hset", fields::hset),
    ("hmset", fields::hmset),
    ("hsetnx", fields::hsetnx),
    ("hget", fields::hget),
    ("hmget", fields::hmget),
    ("hdel", fields::hdel),
    ("hexists", fields::hexists),
    ("hlen", fields::hlen),
    ("hstrlen", fields::hstrlen),
    ("hkeys", fields::hkeys),
    ("hvals", fields::hvals),
    ("hgetall", fields::hgetall),
    ("hincrby", counters::hincrby),
    ("hincrbyfloat", counters::hincrbyfloat),
    ("hrandfield", random::hrandfield),
    ("hscan", scan::hscan),
];

fn wrongtype() -> Frame {
    Frame::error_static(errors::WRONGTYPE)
}

/// Look a hash up for reading (counting a keyspace hit or miss): `Ok(None)` when missing.
fn read_hash<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<HashRef<'c>>, Frame> {
    match read(&mut ctx.keys, &ctx.shared.stats, key) {
        None => Ok(None),
        Some(e) => e.value.as_hash().map(Some).ok_or_else(wrongtype),
    }
}

/// Look a hash up for writing without modifying it (no hit / miss counted, no WATCH touch):
/// `Ok(None)` when missing.
fn peek_hash<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<HashRef<'c>>, Frame> {
    match ctx.keys.get(key) {
        None => Ok(None),
        Some(e) => e.value.as_hash().map(Some).ok_or_else(wrongtype),
    }
}

/// The hash at `key` for modification, created empty if missing. Only call it once the
/// command is sure to change the hash (and after a type check: another type is replaced).
fn hash_for_write<'c>(ctx: &'c mut Ctx, key: &[u8]) -> HashMut<'c> {
    if ctx.keys.get(key).is_none_or(|e| e.value.as_hash().is_none()) {
        ctx.keys.insert(key, Entry::new(Value::new_hash()));
    }
    ctx.keys.get_mut(key).and_then(|e| e.value.as_hash_mut()).expect("hash inserted above")
}
