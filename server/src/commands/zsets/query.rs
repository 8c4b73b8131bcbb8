//! Range reads and removals: ZRANGE (BYSCORE, BYLEX, REV, LIMIT, WITHSCORES), ZRANGESTORE,
//! the legacy ZRANGEBYSCORE / ZREVRANGEBYSCORE / ZRANGEBYLEX / ZREVRANGEBYLEX / ZREVRANGE, and
//! ZREMRANGEBYRANK / SCORE / LEX. All of them are Redis's `zrangeGenericCommand` with some
//! options fixed; elements are reached by rank, so a range costs O(log n + m).

use super::common::{is_resp3, peek_zset, read_zset, removed_from, scored_reply, store_result, zset_mut, Built};
use super::range::{LexRange, Range, ScoreRange};
use crate::commands::Reply;
use crate::commands::{args, Ctx};
use crate::store::types::ZSetValue;
use bytes::Bytes;
use slotbox_protocol::Frame;

/// How the range arguments are read.
#[derive(Debug, Clone, Copy, PartialEq)]
enum By {
    Rank,
    Score,
    Lex,
}

/// A parsed range query.
struct Query {
    by: By,
    rev: bool,
    withscores: bool,
    offset: i64,
    /// -1: no limit (also what `LIMIT x -1` means, as in Redis).
    limit: i64,
    /// `By::Rank`: the start / end indexes as given (negative from the end).
    start: i64,
    end: i64,
    /// `By::Score` / `By::Lex`: the range, min and max already swapped for REV.
    range: Option<Range>,
}

/// Options after `<src> <min> <max>` (`first` is the index of the first option).
fn parse_options(args: &[Bytes], first: usize, store: bool, by: Option<By>, rev: Option<bool>) -> Result<Query, Frame> {
    let (mut by, mut rev) = (by, rev);
    let mut q =
        Query { by: By::Rank, rev: false, withscores: false, offset: 0, limit: -1, start: 0, end: 0, range: None };
    let mut j = first;
    while j < args.len() {
        let a = &args[j];
        let left = args.len() - j - 1;
        if !store && args::is(a, "withscores") {
            q.withscores = true;
        } else if args::is(a, "limit") && left >= 2 {
            q.offset = args::int(&args[j + 1])?;
            q.limit = args::int(&args[j + 2])?;
            j += 2;
        } else if rev.is_none() && args::is(a, "rev") {
            rev = Some(true);
        } else if by.is_none() && args::is(a, "bylex") {
            by = Some(By::Lex);
        } else if by.is_none() && args::is(a, "byscore") {
            by = Some(By::Score);
        } else {
            return Err(args::syntax_error());
        }
        j += 1;
    }
    q.by = by.unwrap_or(By::Rank);
    q.rev = rev.unwrap_or(false);
    if q.limit != -1 && q.by == By::Rank {
        return Err(Frame::error_static(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if q.withscores && q.by == By::Lex {
        return Err(Frame::error_static("ERR syntax error, WITHSCORES not supported in combination with BYLEX"));
    }
    Ok(q)
}

/// Parse a whole range query whose source key is at `args[src]`.
fn parse_query(args: &[Bytes], src: usize, store: bool, by: Option<By>, rev: Option<bool>) -> Result<Query, Frame> {
    let mut q = parse_options(args, src + 3, store, by, rev)?;
    let (mut lo, mut hi) = (&args[src + 1], &args[src + 2]);
    if q.rev && q.by != By::Rank {
        std::mem::swap(&mut lo, &mut hi);
    }
    match q.by {
        By::Rank => {
            q.start = args::int(lo)?;
            q.end = args::int(hi)?;
        }
        By::Score => q.range = Some(Range::Score(ScoreRange::parse(lo, hi)?)),
        By::Lex => q.range = Some(Range::Lex(LexRange::parse(lo, hi)?)),
    }
    Ok(q)
}

/// The elements a query selects, in reply order.
fn select<'z>(z: &'z ZSetValue, q: &Query) -> Box<dyn Iterator<Item = (f64, &'z [u8])> + 'z> {
    let len = z.len();
    let Some(range) = &q.range else {
        let Some((start, end)) = crate::commands::args::index_range(q.start, q.end, len) else {
            return Box::new(std::iter::empty());
        };
        let n = end - start + 1;
        return if q.rev {
            Box::new(z.iter_back_from_rank(len - 1 - start).take(n))
        } else {
            Box::new(z.iter_from_rank(start).take(n))
        };
    };
    if q.offset < 0 {
        return Box::new(std::iter::empty());
    }
    if let (Range::Lex(r), "listpack") = (range, z.encoding()) {
        return r.listpack_walk(z, q.rev, q.offset as usize, q.limit);
    }
    let (start, end) = range.ranks(z);
    let count = end - start;
    if q.offset < 0 || q.offset as u64 >= count as u64 {
        return Box::new(std::iter::empty());
    }
    let offset = q.offset as usize;
    let avail = count - offset;
    let take = if q.limit < 0 { avail } else { (q.limit as u64).min(avail as u64) as usize };
    if q.rev {
        Box::new(z.iter_back_from_rank(end - 1 - offset).take(take))
    } else {
        Box::new(z.iter_from_rank(start + offset).take(take))
    }
}

/// `zrangeGenericCommand`: the source key is `args[src]`; `dst` for ZRANGESTORE.
fn zrange_generic(
    ctx: &mut Ctx,
    args: &[Bytes],
    src: usize,
    dst: Option<&[u8]>,
    by: Option<By>,
    rev: Option<bool>,
) -> Reply {
    let q = parse_query(args, src, dst.is_some(), by, rev)?;
    let resp3 = is_resp3(ctx);
    let z = match read_zset(ctx, &args[src]) {
        Err(e) => return Ok(e),
        Ok(z) => z,
    };
    Ok(match dst {
        None => match z {
            None => Frame::Array(Vec::new()),
            Some(z) => scored_reply(select(z, &q), q.withscores, resp3),
        },
        Some(dst) => {
            let items: Vec<(f64, Box<[u8]>)> = match z {
                None => Vec::new(),
                Some(z) => select(z, &q).map(|(s, m)| (s, m.into())).collect(),
            };
            store_result(ctx, dst, items, "zrangestore", Built::Grown { known_len: matches!(q.by, By::Rank) })
        }
    })
}

pub fn zrange(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zrange_generic(ctx, args, 1, None, None, None)
}

pub fn zrangestore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let dst = args[1].clone();
    zrange_generic(ctx, args, 2, Some(&dst), None, None)
}

pub fn zrevrange(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zrange_generic(ctx, args, 1, None, Some(By::Rank), Some(true))
}

pub fn zrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zrange_generic(ctx, args, 1, None, Some(By::Score), Some(false))
}

pub fn zrevrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zrange_generic(ctx, args, 1, None, Some(By::Score), Some(true))
}

pub fn zrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zrange_generic(ctx, args, 1, None, Some(By::Lex), Some(false))
}

pub fn zrevrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zrange_generic(ctx, args, 1, None, Some(By::Lex), Some(true))
}

/// `zremrangeGenericCommand`: parse, then remove the selected ascending ranks.
fn zremrange(ctx: &mut Ctx, args: &[Bytes], by: By) -> Reply {
    let key = &args[1];
    let range = match by {
        By::Rank => None,
        By::Score => Some(Range::Score(ScoreRange::parse(&args[2], &args[3])?)),
        By::Lex => Some(Range::Lex(LexRange::parse(&args[2], &args[3])?)),
    };
    let ranks = match by {
        By::Rank => Some((args::int(&args[2])?, args::int(&args[3])?)),
        _ => None,
    };
    let (start, end) = match peek_zset(ctx, key)? {
        None => return Ok(Frame::Integer(0)),
        Some(z) => match (&range, ranks) {
            (Some(r), _) => r.ranks(z),
            (None, Some((s, e))) => {
                crate::commands::args::index_range(s, e, z.len()).map_or((0, 0), |(s, e)| (s, e + 1))
            }
            (None, None) => (0, 0),
        },
    };
    if end <= start {
        return Ok(Frame::Integer(0));
    }
    let Some(z) = zset_mut(ctx, key) else {
        return Ok(Frame::Integer(0));
    };
    let removed = z.drain_ranks(start, end).len();
    let event = match by {
        By::Rank => "zremrangebyrank",
        By::Score => "zremrangebyscore",
        By::Lex => "zremrangebylex",
    };
    removed_from(ctx, key, event);
    Ok(Frame::Integer(removed as i64))
}

pub fn zremrangebyrank(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zremrange(ctx, args, By::Rank)
}

pub fn zremrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zremrange(ctx, args, By::Score)
}

pub fn zremrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zremrange(ctx, args, By::Lex)
}
