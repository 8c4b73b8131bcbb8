//! What the bitmap commands share: Redis's bit-offset argument (with BITFIELD's `#N` form and
//! the `proto-max-bulk-len` bound), the read view of a string value, and the write lookup that
//! creates or zero-pads the string so a bit can be addressed (`lookupStringForBitCommand`).

use crate::commands::Ctx;
use crate::store::{Entry, Value};
use bytes::Bytes;
use slotbox_protocol::float::parse_i64;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

pub const BAD_OFFSET: &str = "ERR bit offset is not an integer or out of range";

/// A bit offset argument; `hash_bits` > 0 allows `#N` (N fields of that width).
pub fn bit_offset(ctx: &Ctx, arg: &[u8], hash_bits: u32) -> Result<u64, Frame> {
    let bad = || Frame::error_static(BAD_OFFSET);
    let (digits, mult) = match arg.split_first() {
        Some((b'#', rest)) if hash_bits > 0 => (rest, i64::from(hash_bits)),
        _ => (arg, 1),
    };
    let offset = parse_i64(digits).ok_or_else(bad)?.wrapping_mul(mult);
    let max = ctx.shared.hot.proto_max_bulk_len.load(std::sync::atomic::Ordering::Relaxed) as i64;
    if offset < 0 || (!ctx.client.is_master_link && (offset >> 3) >= max) {
        return Err(bad());
    }
    Ok(offset as u64)
}

/// `ERR wrong type` as a reply.
pub fn wrongtype() -> Frame {
    Frame::error_static(errors::WRONGTYPE)
}

/// Run `f` on the bytes of string value `v` (integers as their decimal text); `None` for
/// another type.
pub fn with_string<R>(v: &Value, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
    v.string_bytes().map(|mut s| s.with(f))
}

/// Run `f` on the string at `key`, created or zero-padded to at least `len` bytes (with
/// spare room, as Redis's `sdsgrowzero`) and turned `raw` (as Redis unshares it). `f` is told
/// whether the key was created or grew. `Err` is WRONGTYPE.
pub fn with_string_for_write<R>(
    ctx: &mut Ctx,
    key: &Bytes,
    len: usize,
    f: impl FnOnce(&mut [u8], bool) -> R,
) -> Result<R, Frame> {
    if let Some(e) = ctx.keys.get_mut(key) {
        return match &mut e.value {
            Value::Str { data, raw } => {
                *raw = true;
                let grows = data.len() < len;
                data.grow_zeroed(len);
                Ok(f(&mut data[..], grows))
            }
            v @ Value::Int(_) => {
                let mut bytes = v.string_bytes().map(|mut s| s.to_vec()).unwrap_or_default();
                let grows = bytes.len() < len;
                bytes.resize(len.max(bytes.len()), 0);
                let r = f(&mut bytes, grows);
                *v = Value::Str { data: bytes.into(), raw: true };
                Ok(r)
            }
            _ => Err(wrongtype()),
        };
    }
    let mut data = vec![0u8; len];
    let r = f(&mut data, true);
    ctx.keys.insert(key, Entry::new(Value::Str { data: data.into(), raw: true }));
    Ok(r)
}
