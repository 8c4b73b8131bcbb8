//! Commands that read or cut list ranges by index or value: LLEN, LRANGE, LINDEX, LREM, LTRIM,
//! LPOS. Index arithmetic follows Redis's (negative counts from the tail, out-of-range ends
//! clamped); each command parses its arguments in the same order Redis does relative to the
//! key lookup, so the same error wins.

use super::common::{list_len, list_mut, non_negative, position, read_list, remove_if_empty, List};
use crate::commands::Reply;
use crate::commands::{args, Ctx};
use crate::notify::class;
use crate::store::Value;
use bytes::Bytes;
use slotbox_protocol::Frame;

pub fn llen(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(match read_list(ctx, &args[1])? {
        Some(l) => Frame::Integer(l.len() as i64),
        None => Frame::Integer(0),
    })
}

/// `LRANGE key start stop`.
pub fn lrange(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let start = args::int(&args[2])?;
    let end = args::int(&args[3])?;
    let Some(l) = read_list(ctx, &args[1])? else {
        return Ok(Frame::Array(Vec::new()));
    };
    let Some((start, end)) = args::index_range(start, end, l.len()) else {
        return Ok(Frame::Array(Vec::new()));
    };
    Ok(slotbox_protocol::encode::bulk_array(end - start + 1, l.range(start, end)))
}

/// `LINDEX key index` (the key is looked up before the index is parsed, as in Redis).
pub fn lindex(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(l) = read_list(ctx, &args[1])? else {
        return Ok(Frame::Null);
    };
    let index = args::int(&args[2])?;
    Ok(match position(index, l.len()) {
        Some(at) => l.get(at).map_or(Frame::Null, |e| Frame::Bulk(Bytes::copy_from_slice(e))),
        None => Frame::Null,
    })
}

/// `LTRIM key start stop`. Always counts as a modification when the key exists, as in Redis.
pub fn ltrim(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let start = args::int(&args[2])?;
    let end = args::int(&args[3])?;
    let key = &args[1];
    let Some(len) = list_len(ctx, key)? else {
        return Ok(Frame::ok());
    };
    let keep = args::index_range(start, end, len);
    let Some(l) = list_mut(ctx, key) else {
        return Ok(Frame::ok());
    };
    match keep {
        Some((start, end)) => {
            l.truncate(end + 1);
            l.drop_front(start);
        }
        None => l.clear(),
    }
    ctx.notify(class::LIST, "ltrim", key);
    remove_if_empty(ctx, key);
    Ok(Frame::ok())
}

/// `LREM key count element`: up to |count| matches from the head (count > 0) or the tail
/// (count < 0), all of them for 0.
pub fn lrem(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let count = args::int(&args[2])?;
    let (key, element) = (&args[1], &args[3][..]);
    if list_len(ctx, key)?.is_none() {
        return Ok(Frame::Integer(0));
    }
    // Only a removal counts as a modification.
    let any = match ctx.keys.get(key).map(|e| &e.value) {
        Some(Value::List(l)) => l.iter().any(|e| e == element),
        _ => false,
    };
    if !any {
        return Ok(Frame::Integer(0));
    }
    let Some(l) = list_mut(ctx, key) else {
        return Ok(Frame::Integer(0));
    };
    let removed = remove_matches(l, element, count);
    ctx.notify(class::LIST, "lrem", key);
    remove_if_empty(ctx, key);
    Ok(Frame::Integer(removed as i64))
}

/// Remove up to |count| (all for 0) elements equal to `element`, from the tail if count < 0.
fn remove_matches(l: &mut List, element: &[u8], count: i64) -> u64 {
    let limit = if count == 0 { u64::MAX } else { count.unsigned_abs() };
    let mut removed = 0;
    let mut keep = |e: &[u8]| {
        let hit = removed < limit && e == element;
        removed += u64::from(hit);
        !hit
    };
    let kept: List = if count < 0 {
        let mut back: Vec<&[u8]> = l.iter().rev().filter(|e| keep(e)).collect();
        back.reverse();
        back.into_iter().collect()
    } else {
        l.iter().filter(|e| keep(e)).collect()
    };
    *l = kept;
    removed
}

/// LPOS options.
struct LposOpts {
    rank: i64,
    /// `None` without COUNT (a single integer or Null reply).
    count: Option<i64>,
    maxlen: i64,
}

fn parse_lpos(args: &[Bytes]) -> Result<LposOpts, Frame> {
    let mut o = LposOpts { rank: 1, count: None, maxlen: 0 };
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        let opt = &args[j];
        if args::is(opt, "rank") && more {
            j += 1;
            o.rank = args::int(&args[j])?;
            if o.rank == 0 {
                return Err(Frame::error_static(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the \
                     second ... or use negative to start from the end of the list",
                ));
            }
        } else if args::is(opt, "count") && more {
            j += 1;
            o.count = Some(non_negative(&args[j], "ERR COUNT can't be negative")?);
        } else if args::is(opt, "maxlen") && more {
            j += 1;
            o.maxlen = non_negative(&args[j], "ERR MAXLEN can't be negative")?;
        } else {
            return Err(args::syntax_error());
        }
        j += 1;
    }
    Ok(o)
}

/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]`. The rank arithmetic wraps
/// like Redis's C longs (so `RANK -9223372036854775808` behaves as it does there).
pub fn lpos(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let o = parse_lpos(args)?;
    let (mut rank, mut from_tail) = (o.rank, false);
    if rank < 0 {
        rank = rank.wrapping_neg();
        from_tail = true;
    }
    let Some(l) = read_list(ctx, &args[1])? else {
        return Ok(if o.count.is_some() { Frame::Array(Vec::new()) } else { Frame::Null });
    };
    let element = &args[2][..];
    let len = l.len();
    let mut found = Vec::new();
    let mut matches: i64 = 0;
    let iter: Box<dyn Iterator<Item = &[u8]>> = if from_tail { Box::new(l.iter().rev()) } else { Box::new(l.iter()) };
    for (index, e) in iter.enumerate() {
        if o.maxlen != 0 && index as i64 >= o.maxlen {
            break;
        }
        if e != element {
            continue;
        }
        matches += 1;
        if matches < rank {
            continue;
        }
        found.push(if from_tail { len - index - 1 } else { index } as i64);
        match o.count {
            None => break,
            Some(c) if c != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= c => break,
            Some(_) => {}
        }
    }
    Ok(match o.count {
        Some(_) => Frame::Array(found.into_iter().map(Frame::Integer).collect()),
        None => found.first().map_or(Frame::Null, |&i| Frame::Integer(i)),
    })
}
