//! Helpers the strings commands share (lookups, argument parsing, reply shapes).

use crate::commands::Ctx;
use crate::store::Value;
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

/// The bytes of a string value, copied into a reply buffer; `None` for other types.
pub(super) fn value_bytes(v: &Value) -> Option<Bytes> {
    v.string_bytes().map(|mut s| s.with(Bytes::copy_from_slice))
}

/// A bulk reply with a string value, or WRONGTYPE.
pub(super) fn bulk_or_wrongtype(v: &Value) -> Frame {
    match value_bytes(v) {
        Some(b) => Frame::Bulk(b),
        None => wrongtype(),
    }
}

/// Move the bytes of a string value out (leaving it empty), for in-place edits.
pub(super) fn take_string(v: &mut Value) -> Vec<u8> {
    match v {
        Value::Str { data, .. } => std::mem::take(data).into_vec(),
        other => other.string_bytes().map(|mut s| s.to_vec()).unwrap_or_default(),
    }
}

pub(super) fn wrongtype() -> Frame {
    Frame::error_static(errors::WRONGTYPE)
}

/// Redis's `checkStringLength`: may a string of `size` bytes grow by `append` bytes?
pub(super) fn check_length(ctx: &Ctx, size: u64, append: u64) -> Result<(), Frame> {
    let max = ctx.shared.config.read().proto_max_bulk_len as u64;
    match size.checked_add(append) {
        Some(total) if total <= max => Ok(()),
        _ => Err(Frame::error_static("ERR string exceeds maximum allowed size (proto-max-bulk-len)")),
    }
}
