//! Whole-keyspace commands: KEYS, SCAN, RANDOMKEY. They hold one slot's lock at a time, never
//! the whole keyspace. Expired keys are skipped, not deleted.
//!
//! SCAN cursor: the number of the next slot to visit (0 = start, and 0 again when done).
//! Each call returns the live keys of whole slots until COUNT keys were visited, so a key
//! present for the whole iteration is always returned, whatever other clients write, and
//! never twice unless it was deleted and re-added.

use super::lookup::with_slot;
use crate::commands::Reply;
use crate::commands::{args, Ctx};
use crate::store::glob::glob_match;
use crate::store::Shard;
use bytes::Bytes;
use slotbox_protocol::{Frame, SLOT_COUNT};
use std::sync::atomic::{AtomicU64, Ordering};

/// `pattern` unless it is `*` (which matches everything without looking).
fn effective_pattern(pattern: &[u8]) -> Option<&[u8]> {
    (pattern != b"*").then_some(pattern)
}

/// Collect the live keys of one shard that match `pattern` and `type_name`; returns how many
/// live keys were visited.
fn collect(shard: &Shard, now_ms: i64, filter: &Filter, out: &mut Vec<Frame>) -> usize {
    let mut visited = 0;
    for (key, entry) in shard.iter() {
        if entry.is_expired(now_ms) {
            continue;
        }
        visited += 1;
        if filter.pattern.is_some_and(|p| !glob_match(p, key, false)) {
            continue;
        }
        if filter.type_name.is_some_and(|t| !t.eq_ignore_ascii_case(entry.value.type_name().as_bytes())) {
            continue;
        }
        out.push(Frame::Bulk(Bytes::copy_from_slice(key)));
    }
    visited
}

#[derive(Default)]
struct Filter<'a> {
    pattern: Option<&'a [u8]>,
    type_name: Option<&'a [u8]>,
}

pub fn keys(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let filter = Filter { pattern: effective_pattern(&args[1]), type_name: None };
    let now = ctx.now_ms;
    let mut out = Vec::new();
    for slot in 0..SLOT_COUNT as u16 {
        with_slot(ctx, slot, |shard| collect(shard, now, &filter, &mut out));
    }
    Ok(Frame::Array(out))
}

/// Redis's `parseScanCursorOrReply`: `strtoul` in base 10, no leading space, no overflow.
fn parse_cursor(arg: &[u8]) -> Option<u64> {
    if arg.is_empty() {
        return Some(0);
    }
    if arg[0].is_ascii_whitespace() || arg[0] == 0x0b {
        return None;
    }
    let (neg, digits) = match arg[0] {
        b'-' => (true, &arg[1..]),
        b'+' => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = digits.iter().try_fold(0u64, |acc, &d| acc.checked_mul(10)?.checked_add((d - b'0') as u64))?;
    Some(if neg { v.wrapping_neg() } else { v })
}

/// SCAN's options: (COUNT, filter).
fn parse_scan_options(argv: &[Bytes]) -> Result<(usize, Filter<'_>), Frame> {
    let mut count = 10usize;
    let mut filter = Filter::default();
    let mut i = 2;
    while i < argv.len() {
        let has_value = i + 1 < argv.len();
        if args::is(&argv[i], "count") && has_value {
            let c = args::int(&argv[i + 1])?;
            if c < 1 {
                return Err(args::syntax_error());
            }
            count = c as usize;
        } else if args::is(&argv[i], "match") && has_value {
            filter.pattern = effective_pattern(&argv[i + 1]);
        } else if args::is(&argv[i], "type") && has_value {
            filter.type_name = Some(&argv[i + 1]);
        } else {
            return Err(args::syntax_error());
        }
        i += 2;
    }
    Ok((count, filter))
}

pub fn scan(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(cursor) = parse_cursor(&args[1]) else {
        return Ok(Frame::error_static("ERR invalid cursor"));
    };
    let (count, filter) = parse_scan_options(args)?;
    let now = ctx.now_ms;
    let mut out = Vec::new();
    let mut visited = 0;
    let mut slot = cursor.min(SLOT_COUNT as u64) as usize;
    while slot < SLOT_COUNT && visited < count {
        visited += with_slot(ctx, slot as u16, |shard| collect(shard, now, &filter, &mut out));
        slot += 1;
    }
    let next = if slot >= SLOT_COUNT { 0 } else { slot };
    Ok(Frame::Array(vec![Frame::Bulk(Bytes::from(next.to_string())), Frame::Array(out)]))
}

/// A fast non-cryptographic random number (splitmix64 over a shared counter).
fn random_u64() -> u64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let seed = crate::clock::unix_time_us() as u64;
    let mut z = STATE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed) ^ seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A random live key of `shard`.
fn random_key_in(shard: &Shard, now_ms: i64, rnd: u64) -> Option<Bytes> {
    if shard.is_empty() {
        return None;
    }
    let live = shard.nodes().filter(|e| !e.is_expired(now_ms)).count();
    if live == 0 {
        return None;
    }
    let pick = (rnd % live as u64) as usize;
    let mut keys = shard.iter().filter(|(_, e)| !e.is_expired(now_ms));
    keys.nth(pick).map(|(k, _)| Bytes::copy_from_slice(k))
}

pub fn randomkey(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let now = ctx.now_ms;
    let rnd = random_u64();
    let start = (rnd % SLOT_COUNT as u64) as usize;
    for offset in 0..SLOT_COUNT {
        let slot = ((start + offset) % SLOT_COUNT) as u16;
        if let Some(key) = with_slot(ctx, slot, |shard| random_key_in(shard, now, rnd >> 14)) {
            return Ok(Frame::Bulk(key));
        }
    }
    Ok(Frame::Null)
}

#[cfg(test)]
mod tests {
    use super::parse_cursor;

    #[test]
    fn cursors_like_strtoul() {
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b"+1"), Some(1));
        assert_eq!(parse_cursor(b"007"), Some(7));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_cursor(b" 1"), None);
        assert_eq!(parse_cursor(b"1 "), None);
        assert_eq!(parse_cursor(b"abc"), None);
        assert_eq!(parse_cursor(b"+"), None);
    }
}
