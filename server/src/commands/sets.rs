//! Set commands (group `set`): membership, SPOP / SRANDMEMBER, SMOVE, SSCAN and the set
//! algebra (SINTER, SUNION, SDIFF and their STORE / CARD forms). Each submodule of `sets/`
//! holds one group of commands; this file joins their handlers into the registration table
//! and keeps the key lookups they share. Handlers see only the locked keys of their command:
//! no sockets, no cluster state.

mod algebra;
mod members;
mod random;
#[cfg(test)]
mod tests;

use super::keys::lookup::read;
use super::{Ctx, Registration};
use crate::store::types::{SetMember, SetValue};
use crate::store::{Entry, Value};
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

pub const COMMANDS: Registration = &[
    ("sadd", members::sadd),
    ("srem", members::srem),
    ("smembers", members::smembers),
    ("sismember", members::sismember),
    ("smismember", members::smismember),
    ("scard", members::scard),
    ("smove", members::smove),
    ("sscan", members::sscan),
    ("spop", random::spop),
    ("srandmember", random::srandmember),
    ("sinter", algebra::sinter),
    ("sintercard", algebra::sintercard),
    ("sinterstore", algebra::sinterstore),
    ("sunion", algebra::sunion),
    ("sunionstore", algebra::sunionstore),
    ("sdiff", algebra::sdiff),
    ("sdiffstore", algebra::sdiffstore),
];

fn wrongtype() -> Frame {
    Frame::error_static(errors::WRONGTYPE)
}

/// A member as a bulk reply.
fn member_frame(m: SetMember) -> Frame {
    Frame::Bulk(m.to_bytes())
}

/// Look a set up for reading (counting a keyspace hit or miss): `Ok(None)` when missing.
fn read_set<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c SetValue>, Frame> {
    match read(&mut ctx.keys, &ctx.shared.stats, key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::Set(s)) => Ok(Some(s)),
        Some(_) => Err(wrongtype()),
    }
}

/// Look a set up for writing without modifying it (no hit / miss counted, no WATCH touch).
fn peek_set<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c SetValue>, Frame> {
    match ctx.keys.get(key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::Set(s)) => Ok(Some(s)),
        Some(_) => Err(wrongtype()),
    }
}

/// The existing set at `key`, for modification (marks the key modified for WATCH).
fn set_mut<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Option<&'c mut SetValue> {
    match ctx.keys.get_mut(key).map(|e| &mut e.value) {
        Some(Value::Set(s)) => Some(s),
        _ => None,
    }
}

/// Store `set` at `key` as a new value (dropping any TTL), or delete `key` when `set` is
/// empty; returns the stored size.
fn store(ctx: &mut Ctx, key: &[u8], set: SetValue) -> i64 {
    let len = set.len() as i64;
    if set.is_empty() {
        ctx.keys.remove(key);
    } else {
        ctx.keys.insert(key, Entry::new(Value::Set(Box::new(set))));
    }
    len
}

/// Remove `key` if its set became empty.
fn delete_if_empty(ctx: &mut Ctx, key: &[u8]) {
    if matches!(ctx.keys.get(key).map(|e| &e.value), Some(Value::Set(s)) if s.is_empty()) {
        ctx.keys.remove(key);
    }
}
