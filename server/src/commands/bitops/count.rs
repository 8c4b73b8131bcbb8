//! BITCOUNT and BITPOS: read-only scans of a string value over an optional range given in
//! bytes (default) or bits (`BIT`), negative indexes counting from the end, with Redis's
//! clamping and its answers for empty ranges and missing keys.

use super::bits;
use super::common::{with_string, wrongtype};
use crate::commands::keys::lookup::read;
use crate::commands::{args, Ctx, Reply};
use bytes::Bytes;
use slotbox_protocol::Frame;

/// `BYTE` (false) or `BIT` (true), or a syntax error.
fn unit(arg: Option<&Bytes>) -> Result<bool, Frame> {
    match arg {
        None => Ok(false),
        Some(a) if args::is(a, "bit") => Ok(true),
        Some(a) if args::is(a, "byte") => Ok(false),
        Some(_) => Err(args::syntax_error()),
    }
}

/// Clamp `[start, end]` (negative from the end) to `0..total`; `None` when empty. `total`
/// is the string's length in the range's unit.
fn clamp(start: i64, end: i64, total: i64) -> Option<(u64, u64)> {
    let fix = |i: i64| if i < 0 { total + i } else { i }.max(0);
    let (start, end) = (fix(start), fix(end).min(total - 1));
    (start <= end).then_some((start as u64, end as u64))
}

/// A byte range `[start, end]` as the bit range it covers.
fn bit_range(range: (u64, u64), is_bit: bool) -> (u64, u64) {
    if is_bit {
        range
    } else {
        (range.0 * 8, range.1 * 8 + 7)
    }
}

/// Set bits of `data` in the bit range `[start, end]`.
fn count_bits(data: &[u8], (start, end): (u64, u64)) -> u64 {
    let (first, last) = ((start >> 3) as usize, (end >> 3) as usize);
    let mut n = bits::popcount(&data[first..=last]);
    // Bits of the edge bytes outside the range.
    n -= u64::from((data[first] & !(0xffu8 >> (start & 7))).count_ones());
    n -= u64::from((data[last] & (0x7fu8 >> (end & 7))).count_ones());
    n
}

pub fn bitcount(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(e) = read(ctx.keys, &ctx.shared.stats, &args[1]) else {
        return Ok(Frame::Integer(0));
    };
    let value = &e.value;
    if !value.is_string() {
        return Ok(wrongtype());
    }
    let range = match args.len() {
        2 => None,
        4 | 5 => {
            let (start, end) = (args::int(&args[2])?, args::int(&args[3])?);
            if start < 0 && end < 0 && start > end {
                return Ok(Frame::Integer(0));
            }
            Some((start, end, unit(args.get(4))?))
        }
        _ => return Err(args::syntax_error()),
    };
    let n = with_string(value, |data| {
        let len = data.len() as i64;
        let bit_span = match range {
            None => clamp(0, len - 1, len).map(|r| bit_range(r, false)),
            Some((s, e, is_bit)) => clamp(s, e, if is_bit { len * 8 } else { len }).map(|r| bit_range(r, is_bit)),
        };
        bit_span.map_or(0, |r| count_bits(data, r))
    });
    Ok(Frame::Integer(n.unwrap_or(0) as i64))
}

pub fn bitpos(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let bit = match args::int(&args[2])? {
        b @ (0 | 1) => b == 1,
        _ => return Err(Frame::error_static("ERR The bit argument must be 1 or 0.")),
    };
    let Some(e) = read(ctx.keys, &ctx.shared.stats, &args[1]) else {
        return Ok(Frame::Integer(if bit { -1 } else { 0 }));
    };
    let value = &e.value;
    if !value.is_string() {
        return Ok(wrongtype());
    }
    if args.len() > 6 {
        return Err(args::syntax_error());
    }
    let start = match args.get(3) {
        Some(a) => args::int(a)?,
        None => 0,
    };
    let is_bit = unit(args.get(5))?;
    let end = match args.get(4) {
        Some(a) => Some(args::int(a)?),
        None => None,
    };
    let pos = with_string(value, |data| {
        let len = data.len() as i64;
        let total = if is_bit { len * 8 } else { len };
        let Some(range) = clamp(start, end.unwrap_or(total - 1), total) else {
            return -1;
        };
        let (from, to) = bit_range(range, is_bit);
        match find_bit(data, (from, to), bit) {
            Some(p) => p as i64,
            // Looking for a clear bit with no end given: the string is zero-padded on the right.
            None if !bit && end.is_none() => to as i64 + 1,
            None => -1,
        }
    });
    Ok(Frame::Integer(pos.unwrap_or(-1)))
}

/// The first bit equal to `bit` in the bit range `[from, to]` of `data`.
fn find_bit(data: &[u8], (from, to): (u64, u64), bit: bool) -> Option<u64> {
    let (first, last) = ((from >> 3) as usize, (to >> 3) as usize);
    let in_range = |p: u64| (from..=to).contains(&p).then_some(p);
    // The edge bytes bit by bit, the whole bytes between word by word.
    let edge = |byte: usize| {
        (0..8u64).map(|i| byte as u64 * 8 + i).find(|&p| bits::get_bit(data, p) == bit && in_range(p).is_some())
    };
    if let Some(p) = edge(first) {
        return Some(p);
    }
    if last > first + 1 {
        if let Some(p) = bits::first_bit(&data[first + 1..last], bit) {
            return Some((first as u64 + 1) * 8 + p);
        }
    }
    if last > first {
        return edge(last);
    }
    None
}
