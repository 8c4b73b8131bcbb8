//! SETBIT and GETBIT: one bit of a string value. SETBIT creates or zero-pads the string, makes
//! it `raw`, and counts as a change (keyspace event `setbit`, propagation) only when the key
//! was created, grew, or the bit flipped, as in Redis.

use super::bits;
use super::common::{bit_offset, string_for_write, with_string, wrongtype};
use crate::commands::keys::lookup::read;
use crate::commands::{Ctx, Reply};
use crate::notify::class;
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
    let (data, grew) = string_for_write(ctx, &args[1], (offset >> 3) as usize + 1)?;
    let was = bits::get_bit(data, offset);
    let changed = grew || was != on;
    if changed {
        let mask = 0x80u8 >> (offset & 7);
        let b = &mut data[(offset >> 3) as usize];
        *b = if on { *b | mask } else { *b & !mask };
        ctx.notify(class::STRING, "setbit", &args[1]);
    } else {
        ctx.propagate = Some(Vec::new());
    }
    Ok(Frame::Integer(i64::from(was)))
}

pub fn getbit(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let offset = bit_offset(ctx, &args[2], 0)?;
    let Some(e) = read(&mut ctx.keys, &ctx.shared.stats, &args[1]) else {
        return Ok(Frame::Integer(0));
    };
    match with_string(&e.value, |b| bits::get_bit(b, offset)) {
        Some(bit) => Ok(Frame::Integer(i64::from(bit))),
        None => Ok(wrongtype()),
    }
}
