//! Argument parsing helpers shared by the command families: each returns the exact error reply
//! Redis gives for a bad value, so handlers can use `?`-style early returns.

use bytes::Bytes;
use slotbox_protocol::float::{parse_f64, parse_i64};
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

/// An integer argument (`ERR value is not an integer or out of range`).
pub fn int(arg: &[u8]) -> Result<i64, Frame> {
    parse_i64(arg).ok_or(Frame::error_static(errors::NOT_INTEGER))
}

/// A float argument (`ERR value is not a valid float`).
pub fn float(arg: &[u8]) -> Result<f64, Frame> {
    parse_f64(arg).ok_or(Frame::error_static(errors::NOT_FLOAT))
}

/// A non-negative integer with a custom error.
pub fn positive_int(arg: &[u8], err: &'static str) -> Result<i64, Frame> {
    match parse_i64(arg) {
        Some(v) if v >= 0 => Ok(v),
        Some(_) => Err(Frame::error_static(err)),
        None => Err(Frame::error_static(errors::NOT_INTEGER)),
    }
}

/// Case-insensitive comparison of an argument with an option name.
pub fn is(arg: &[u8], name: &str) -> bool {
    arg.eq_ignore_ascii_case(name.as_bytes())
}

/// `ERR syntax error`.
pub fn syntax_error() -> Frame {
    Frame::error_static(errors::SYNTAX)
}

/// Convert a list of byte strings into bulk frames.
pub fn bulks<I: IntoIterator<Item = Bytes>>(items: I) -> Vec<Frame> {
    items.into_iter().map(Frame::Bulk).collect()
}

/// A blocking command's timeout in seconds (fractions allowed, 0 = forever) turned into a unix
/// ms deadline (0 = forever), with Redis's errors.
pub fn block_timeout(arg: &[u8], now_ms: i64) -> Result<i64, Frame> {
    let secs = match parse_f64(arg) {
        Some(v) if v.is_finite() => v,
        _ => return Err(Frame::error_static("ERR timeout is not a float or out of range")),
    };
    if secs < 0.0 {
        return Err(Frame::error_static("ERR timeout is negative"));
    }
    let ms = secs * 1000.0;
    if ms >= (i64::MAX - now_ms) as f64 {
        return Err(Frame::error_static("ERR timeout is out of range"));
    }
    let ms = ms as i64;
    Ok(if ms > 0 { now_ms + ms } else { 0 })
}

/// Redis's index-range sanitizing (LRANGE, LTRIM, ZRANGE, ZREMRANGEBYRANK): negative indexes
/// count from the end; `None` when the range is empty, else the inclusive positions.
pub fn index_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { len.saturating_add(start) } else { start }.max(0);
    let mut end = if end < 0 { len.saturating_add(end) } else { end };
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, end as usize))
}
