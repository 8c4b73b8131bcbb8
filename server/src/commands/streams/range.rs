//! Read commands over a stream's entries: XRANGE, XREVRANGE, XLEN.

use super::common::{count_arg, entries_frame, parse_bound, read_stream};
use crate::commands::{args, Ctx, Reply};
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

pub fn xrange(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    range(ctx, a, false)
}

pub fn xrevrange(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    range(ctx, a, true)
}

/// Redis's `xrangeGenericCommand`: `XRANGE key start end [COUNT n]` (XREVRANGE: end start).
fn range(ctx: &mut Ctx, a: &[Bytes], rev: bool) -> Reply {
    let (start_arg, end_arg) = if rev { (&a[3], &a[2]) } else { (&a[2], &a[3]) };
    let start = parse_bound(start_arg, 0, false)?
        .ok_or_else(|| Frame::error_static("ERR invalid start ID for the interval"))?;
    let end = parse_bound(end_arg, u64::MAX, true)?
        .ok_or_else(|| Frame::error_static("ERR invalid end ID for the interval"))?;
    let mut count: i64 = -1;
    let mut j = 4;
    while j < a.len() {
        if args::is(&a[j], "count") && j + 1 < a.len() {
            count = count_arg(&a[j + 1])?.max(0);
            j += 2;
        } else {
            return Err(Frame::error_static(errors::SYNTAX));
        }
    }
    let Some(s) = read_stream(ctx, &a[1])? else {
        return Ok(Frame::Array(Vec::new()));
    };
    if count == 0 {
        return Ok(Frame::NullArray);
    }
    let n = if count < 0 { 0 } else { count as usize };
    Ok(entries_frame(&s.range(start, end, rev, n)))
}

/// `XLEN key`.
pub fn xlen(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    Ok(Frame::Integer(read_stream(ctx, &a[1])?.map_or(0, |s| s.len() as i64)))
}
