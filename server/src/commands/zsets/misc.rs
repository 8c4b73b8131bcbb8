//! Point reads and sampling: ZSCORE, ZMSCORE, ZCARD, ZCOUNT, ZLEXCOUNT, ZRANK, ZREVRANK,
//! ZRANDMEMBER and ZSCAN. Read-only: every lookup counts a keyspace hit or miss.

use super::common::{is_resp3, read_zset, scored_reply};
use super::range::{LexRange, Range, ScoreRange};
use crate::commands::Reply;
use crate::commands::{args, Ctx};
use crate::store::glob::glob_match;
use crate::store::types::ZSetValue;
use bytes::Bytes;
use hashbrown::HashSet;
use slotbox_protocol::float::{fmt_g17, parse_i64};
use slotbox_protocol::Frame;

pub fn zscore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(match read_zset(ctx, &args[1]) {
        Err(e) => e,
        Ok(z) => z.and_then(|z| z.score(&args[2])).map_or(Frame::Null, Frame::Double),
    })
}

pub fn zmscore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let z = read_zset(ctx, &args[1])?;
    let scores = args[2..].iter().map(|m| z.and_then(|z| z.score(m)).map_or(Frame::Null, Frame::Double));
    Ok(Frame::Array(scores.collect()))
}

pub fn zcard(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(match read_zset(ctx, &args[1]) {
        Err(e) => e,
        Ok(z) => Frame::Integer(z.map_or(0, |z| z.len() as i64)),
    })
}

fn count_in(ctx: &mut Ctx, key: &[u8], range: Range) -> Frame {
    match read_zset(ctx, key) {
        Err(e) => e,
        Ok(z) => Frame::Integer(z.map_or(0, |z| range.count(z) as i64)),
    }
}

pub fn zcount(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let range = ScoreRange::parse(&args[2], &args[3])?;
    Ok(count_in(ctx, &args[1], Range::Score(range)))
}

pub fn zlexcount(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let range = LexRange::parse(&args[2], &args[3])?;
    Ok(count_in(ctx, &args[1], Range::Lex(range)))
}

fn rank_generic(ctx: &mut Ctx, args: &[Bytes], rev: bool) -> Frame {
    let z = match read_zset(ctx, &args[1]) {
        Err(e) => return e,
        Ok(None) => return Frame::Null,
        Ok(Some(z)) => z,
    };
    match z.rank(&args[2]) {
        None => Frame::Null,
        Some(r) if rev => Frame::Integer((z.len() - 1 - r) as i64),
        Some(r) => Frame::Integer(r as i64),
    }
}

pub fn zrank(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(rank_generic(ctx, args, false))
}

pub fn zrevrank(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(rank_generic(ctx, args, true))
}

/// A random element: O(log n) on the big encoding's tree.
fn random_element(z: &ZSetValue) -> (f64, &[u8]) {
    z.at_rank(crate::rand::below(z.len())).expect("non-empty sorted set")
}

/// `count` distinct random ranks (`count < len`), in random order.
fn distinct_ranks(len: usize, count: usize) -> Vec<usize> {
    if count * 3 > len {
        // Most of the set: shuffle all ranks and keep a prefix (Redis's CASE 3 in spirit).
        let mut all: Vec<usize> = (0..len).collect();
        for i in 0..count {
            let j = i + crate::rand::below(len - i);
            all.swap(i, j);
        }
        all.truncate(count);
        return all;
    }
    let mut seen = HashSet::with_capacity(count);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let r = crate::rand::below(len);
        if seen.insert(r) {
            out.push(r);
        }
    }
    out
}

/// ZRANDMEMBER key count [WITHSCORES] (Redis's `zrandmemberWithCountCommand`).
fn zrandmember_count(ctx: &mut Ctx, key: &[u8], count: i64, withscores: bool) -> Frame {
    let resp3 = is_resp3(ctx);
    let z = match read_zset(ctx, key) {
        Err(e) => return e,
        Ok(None) => return Frame::Array(Vec::new()),
        Ok(Some(z)) => z,
    };
    let n = count.unsigned_abs() as usize;
    if n == 0 {
        return Frame::Array(Vec::new());
    }
    if count < 0 || n == 1 {
        if n > 1 << 32 {
            // Redis would try to send billions of elements; refuse instead of exhausting memory.
            return Frame::error_static("ERR value is out of range");
        }
        return scored_reply((0..n).map(|_| random_element(z)), withscores, resp3);
    }
    if n >= z.len() {
        // The whole set, in the order Redis's set-operation iterator walks it (descending).
        return scored_reply(z.iter_back_from_rank(z.len() - 1), withscores, resp3);
    }
    let picks = distinct_ranks(z.len(), n);
    scored_reply(picks.into_iter().map(|r| z.at_rank(r).expect("rank in range")), withscores, resp3)
}

pub fn zrandmember(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() >= 3 {
        let count = match parse_i64(&args[2]) {
            None => return Ok(Frame::error_static(slotbox_protocol::frame::errors::NOT_INTEGER)),
            Some(i64::MIN) => {
                return Ok(Frame::error_static(
                    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                ))
            }
            Some(c) => c,
        };
        if args.len() > 4 || (args.len() == 4 && !args::is(&args[3], "withscores")) {
            return Ok(args::syntax_error());
        }
        let withscores = args.len() == 4;
        if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
            return Ok(Frame::error_static("ERR value is out of range"));
        }
        return Ok(zrandmember_count(ctx, &args[1], count, withscores));
    }
    Ok(match read_zset(ctx, &args[1]) {
        Err(e) => e,
        Ok(None) => Frame::Null,
        Ok(Some(z)) => Frame::Bulk(Bytes::copy_from_slice(random_element(z).1)),
    })
}

/// Redis's `parseScanCursorOrReply` (`strtoul` over the whole string).
fn scan_cursor(arg: &[u8]) -> Option<u64> {
    let digits = arg.strip_prefix(b"-").or_else(|| arg.strip_prefix(b"+")).unwrap_or(arg);
    if arg.is_empty() {
        return Some(0);
    }
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = digits.iter().try_fold(0u64, |acc, &d| acc.checked_mul(10)?.checked_add((d - b'0') as u64))?;
    Some(if arg[0] == b'-' { v.wrapping_neg() } else { v })
}

/// A score as ZSCAN shows it (Redis's `d2string`; a listpack stores integral scores in
/// ±2^62 as integers, so they print without the exponent form).
fn scan_score(score: f64, listpack: bool) -> Bytes {
    let limit = (i64::MAX / 2) as f64;
    if listpack && score.fract() == 0.0 && (-limit..=limit).contains(&score) {
        return Bytes::from((score as i64).to_string());
    }
    Bytes::from(fmt_g17(score))
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]: everything in one reply, cursor 0.
pub fn zscan(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if scan_cursor(&args[2]).is_none() {
        return Ok(Frame::error_static("ERR invalid cursor"));
    }
    let z = match read_zset(ctx, &args[1]) {
        Err(e) => return Ok(e),
        Ok(None) => return Ok(Frame::Array(vec![Frame::bulk_static("0"), Frame::Array(Vec::new())])),
        Ok(Some(z)) => z,
    };
    let mut pattern: Option<&[u8]> = None;
    let mut i = 3;
    while i < args.len() {
        let has_value = args.len() - i >= 2;
        if args::is(&args[i], "count") && has_value {
            if args::int(&args[i + 1])? < 1 {
                return Ok(args::syntax_error());
            }
        } else if args::is(&args[i], "match") && has_value {
            pattern = Some(&args[i + 1][..]).filter(|p| p != b"*");
        } else {
            return Ok(args::syntax_error());
        }
        i += 2;
    }
    let listpack = z.encoding() == "listpack";
    let mut out = Vec::new();
    for (score, member) in z.iter() {
        if pattern.is_some_and(|p| !glob_match(p, member, false)) {
            continue;
        }
        out.push(Frame::Bulk(Bytes::copy_from_slice(member)));
        out.push(Frame::Bulk(scan_score(score, listpack)));
    }
    Ok(Frame::Array(vec![Frame::bulk_static("0"), Frame::Array(out)]))
}
