//! SETBIT and GETBIT: one bit of a string value. SETBIT creates or zero-pads the string, makes
//! it `raw`, and counts as a change (keyspace event `setbit`, propagation) only when the key
//! was created, grew, or the bit flipped, as in Redis.

use super::bits;
use super::common::{bit_offset, with_string, with_string_for_write, wrongtype};
use crate::commands::keys::lookup::read;
use crate::commands::{Ctx, Reply};
use crate::notify::class;
use crate::store::Value;
use bytes::Bytes;
use slotbox_protocol::float::parse_i64;
use slotbox_protocol::Frame;

const BAD_BIT: &str = "ERR bit is not an integer or out of range";

pub fn setbit(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let offset = bit_offset(ctx, &args[2], 0)?;
    let on = match parse_i64(&args[3]) {
        Some(v @ (0 | 1)) => v == 1,
        _ => return Err(Frame::error_static(BAD_BIT)),
    };
    if unchanged(ctx, &args[1], offset, on) {
        // Not a modification: WATCH and client tracking do not see it, nothing propagates.
        ctx.propagate = Some(Vec::new());
        return Ok(Frame::Integer(i64::from(on)));
    }
    let (was, changed) = with_string_for_write(ctx, &args[1], (offset >> 3) as usize + 1, |data, grew| {
        let was = bits::get_bit(data, offset);
        if grew || was != on {
            let mask = 0x80u8 >> (offset & 7);
            let b = &mut data[(offset >> 3) as usize];
            *b = if on { *b | mask } else { *b & !mask };
        }
        (was, grew || was != on)
    })?;
    if changed {
        ctx.notify(class::STRING, "setbit", &args[1]);
    } else {
        ctx.propagate = Some(Vec::new());
    }
    Ok(Frame::Integer(i64::from(was)))
}

/// Is bit `offset` of the `raw` string at `key` already `on`? (Then SETBIT changes nothing, as
/// Redis sees it; an `embstr` or integer value still becomes `raw`, a write.)
fn unchanged(ctx: &mut Ctx, key: &[u8], offset: u64, on: bool) -> bool {
    match ctx.keys.get(key).map(|e| &e.value) {
        Some(Value::Str { data, raw: true }) => (offset >> 3) < data.len() as u64 && bits::get_bit(data, offset) == on,
        _ => false,
    }
}

pub fn getbit(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let offset = bit_offset(ctx, &args[2], 0)?;
    let Some(e) = read(ctx.keys, &ctx.shared.stats, &args[1]) else {
        return Ok(Frame::Integer(0));
    };
    match with_string(&e.value, |b| bits::get_bit(b, offset)) {
        Some(bit) => Ok(Frame::Integer(i64::from(bit))),
        None => Ok(wrongtype()),
    }
}
