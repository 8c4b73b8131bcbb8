//! HSCAN, and the cursor / option parsing it shares with SSCAN. Every matching element is
//! returned in one reply with cursor "0": Redis does exactly that for its small encodings
//! (listpack, intset) and COUNT is only a hint for the others, so a client iterating until
//! cursor 0 sees the same elements. MATCH filters; TYPE is not an option of these commands.

use super::common::read_hash;
use crate::commands::Reply;
use crate::commands::{args, Ctx};
use crate::store::glob::glob_match;
use bytes::Bytes;
use slotbox_protocol::Frame;

/// Redis's `parseScanCursorOrReply`: `strtoul` in base 10, no leading space, no overflow.
pub(crate) fn parse_cursor(arg: &[u8]) -> Result<u64, Frame> {
    let invalid = || Frame::error_static("ERR invalid cursor");
    if arg.is_empty() {
        return Ok(0);
    }
    let (neg, digits) = match arg[0] {
        b'-' => (true, &arg[1..]),
        b'+' => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    let v = digits
        .iter()
        .try_fold(0u64, |acc, &d| acc.checked_mul(10)?.checked_add((d - b'0') as u64))
        .ok_or_else(invalid)?;
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// The options after the cursor (`argv[3..]`): the MATCH pattern (`None` for `*` or none).
/// COUNT is validated as Redis does and otherwise ignored.
pub(crate) fn parse_options(argv: &[Bytes]) -> Result<Option<&[u8]>, Frame> {
    let mut pattern = None;
    let mut i = 3;
    while i < argv.len() {
        let has_value = i + 1 < argv.len();
        if args::is(&argv[i], "count") && has_value {
            if args::int(&argv[i + 1])? < 1 {
                return Err(args::syntax_error());
            }
        } else if args::is(&argv[i], "match") && has_value {
            pattern = Some(&argv[i + 1][..]).filter(|p| *p != b"*");
        } else {
            return Err(args::syntax_error());
        }
        i += 2;
    }
    Ok(pattern)
}

/// Does `item` pass the MATCH filter?
pub(crate) fn matches(pattern: Option<&[u8]>, item: &[u8]) -> bool {
    pattern.is_none_or(|p| glob_match(p, item, false))
}

/// The reply of a scan that visited everything: cursor "0" and the items.
pub(crate) fn reply(items: Vec<Frame>) -> Frame {
    Frame::Array(vec![Frame::bulk_static("0"), Frame::Array(items)])
}

pub fn hscan(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    parse_cursor(&args[2])?;
    let Some(hash) = read_hash(ctx, &args[1])? else {
        return Ok(reply(Vec::new()));
    };
    let pattern = parse_options(args)?;
    let mut items = Vec::new();
    for (field, value) in hash.iter().filter(|(f, _)| matches(pattern, f)) {
        items.push(Frame::Bulk(Bytes::copy_from_slice(field)));
        items.push(Frame::Bulk(Bytes::copy_from_slice(value)));
    }
    Ok(reply(items))
}
