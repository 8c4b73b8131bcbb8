//! String commands (group `string`): GET/SET and friends, counters, ranges, LCS. Each
//! submodule of `strings/` holds one group of commands; this file joins their handlers into
//! the registration table and keeps the small helpers they share. Handlers see only the
//! locked keys of their command: no sockets, no cluster state.

mod bigint;
mod counters;
mod expire_opts;
mod get_set;
mod lcs;
pub(crate) mod long_double;
mod ranges;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_more;

use super::{Ctx, Registration};
use crate::store::Value;
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

pub const COMMANDS: Registration = &[
    ("get", get_set::get),
    ("set", get_set::set),
    ("setnx", get_set::setnx),
    ("setex", get_set::setex),
    ("psetex", get_set::psetex),
    ("getset", get_set::getset),
    ("getdel", get_set::getdel),
    ("getex", get_set::getex),
    ("mget", get_set::mget),
    ("mset", get_set::mset),
    ("msetnx", get_set::msetnx),
    ("incr", counters::incr),
    ("decr", counters::decr),
    ("incrby", counters::incrby),
    ("decrby", counters::decrby),
    ("incrbyfloat", counters::incrbyfloat),
    ("append", ranges::append),
    ("strlen", ranges::strlen),
    ("getrange", ranges::getrange),
    ("substr", ranges::getrange),
    ("setrange", ranges::setrange),
    ("lcs", lcs::lcs),
];

/// The bytes of a string value, copied into a reply buffer; `None` for other types.
fn value_bytes(v: &Value) -> Option<Bytes> {
    v.string_bytes().map(|mut s| s.with(Bytes::copy_from_slice))
}

/// A bulk reply with a string value, or WRONGTYPE.
fn bulk_or_wrongtype(v: &Value) -> Frame {
    match value_bytes(v) {
        Some(b) => Frame::Bulk(b),
        None => wrongtype(),
    }
}

/// Move the bytes of a string value out (leaving it empty), for in-place edits.
fn take_string(v: &mut Value) -> Vec<u8> {
    match v {
        Value::Str { data, .. } => std::mem::take(data).into_vec(),
        other => other.string_bytes().map(|mut s| s.to_vec()).unwrap_or_default(),
    }
}

fn wrongtype() -> Frame {
    Frame::error_static(errors::WRONGTYPE)
}

/// Redis's `checkStringLength`: may a string of `size` bytes grow by `append` bytes?
fn check_length(ctx: &Ctx, size: u64, append: u64) -> Result<(), Frame> {
    let max = ctx.shared.config.read().proto_max_bulk_len as u64;
    match size.checked_add(append) {
        Some(total) if total <= max => Ok(()),
        _ => Err(Frame::error_static("ERR string exceeds maximum allowed size (proto-max-bulk-len)")),
    }
}
