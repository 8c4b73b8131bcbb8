//! HRANDFIELD: one random field, or `count` of them (distinct for a positive count, clamped
//! to the hash's size; with repeats for a negative one), optionally WITHVALUES. Replies with
//! values are flat in RESP2 and [field, value] pairs in RESP3, as Redis 7.0.

use super::common::read_hash;
use crate::commands::Reply;
use crate::commands::{args, Ctx};
use bytes::Bytes;
use slotbox_protocol::{Frame, Protocol};

fn bulk(b: &[u8]) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(b))
}

pub fn hrandfield(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() >= 3 {
        return with_count(ctx, args);
    }
    Ok(match read_hash(ctx, &args[1])?.and_then(|h| h.random_pair()) {
        Some((field, _)) => bulk(field),
        None => Frame::Null,
    })
}

/// The count argument and WITHVALUES, with Redis's errors and their order.
fn parse_count(args: &[Bytes]) -> Result<(i64, bool), Frame> {
    let count = args::int(&args[2])?;
    if count == i64::MIN {
        return Err(Frame::error_static(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    if args.len() > 4 || (args.len() == 4 && !args::is(&args[3], "withvalues")) {
        return Err(args::syntax_error());
    }
    let withvalues = args.len() == 4;
    if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(Frame::error_static("ERR value is out of range"));
    }
    Ok((count, withvalues))
}

/// Most elements reserved up front (a huge negative count grows the reply as it goes).
const CAPACITY_HINT: usize = 1 << 16;

/// Indices of `picks` elements out of `size`: distinct (random order) or with repeats.
pub(crate) fn sample_indices(size: usize, picks: usize, distinct: bool) -> Vec<usize> {
    if !distinct {
        let mut out = Vec::with_capacity(picks.min(CAPACITY_HINT));
        out.extend((0..picks).map(|_| crate::rand::below(size)));
        return out;
    }
    let mut idx: Vec<usize> = (0..size).collect();
    for i in 0..picks.min(size) {
        let j = i + crate::rand::below(size - i);
        idx.swap(i, j);
    }
    idx.truncate(picks.min(size));
    idx
}

fn with_count(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (count, withvalues) = parse_count(args)?;
    let resp3 = ctx.client.resp == Protocol::Resp3;
    let Some(hash) = read_hash(ctx, &args[1])? else {
        return Ok(Frame::Array(Vec::new()));
    };
    if count == 0 {
        return Ok(Frame::Array(Vec::new()));
    }
    let pairs = hash.pairs();
    let n = count.unsigned_abs() as usize;
    let chosen: Vec<usize> = if count > 0 && n >= pairs.len() {
        (0..pairs.len()).collect()
    } else {
        sample_indices(pairs.len(), n, count > 0)
    };
    let mut out = Vec::with_capacity(chosen.len() * (1 + (withvalues && !resp3) as usize));
    for i in chosen {
        let (f, v) = pairs[i];
        match (withvalues, resp3) {
            (false, _) => out.push(bulk(f)),
            (true, false) => out.extend([bulk(f), bulk(v)]),
            (true, true) => out.push(Frame::Array(vec![bulk(f), bulk(v)])),
        }
    }
    Ok(Frame::Array(out))
}
