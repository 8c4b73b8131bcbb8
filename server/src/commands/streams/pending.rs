//! XACK and XPENDING: acknowledging and inspecting a group's pending entries.

use super::common::{id_frame, nogroup, parse_bound, parse_strict_id, read_stream, stream_mut};
use crate::commands::{args, Ctx, Reply};
use crate::store::stream::{Group, StreamId};
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

/// `XACK key group id [id ...]`: how many were pending.
pub fn xack(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let has_group = read_stream(ctx, &a[1])?.is_some_and(|s| s.groups.contains_key(&a[2][..]));
    if !has_group {
        ctx.propagate = Some(Vec::new());
        return Ok(Frame::Integer(0));
    }
    let ids = a[3..].iter().map(|x| parse_strict_id(x, 0)).collect::<Result<Vec<_>, _>>()?;
    let s = stream_mut(ctx, &a[1]).expect("checked above");
    let g = s.groups.get_mut(&a[2][..]).expect("checked above");
    let acked = ids.into_iter().filter(|&id| g.ack(id)).count();
    if acked == 0 {
        ctx.propagate = Some(Vec::new());
    }
    Ok(Frame::Integer(acked as i64))
}

/// The range form's arguments.
struct RangeArgs {
    min_idle: i64,
    start: StreamId,
    end: StreamId,
    count: usize,
    consumer: Option<Bytes>,
}

fn parse_range(a: &[Bytes]) -> Result<RangeArgs, Frame> {
    let mut at = 3;
    let mut min_idle = 0;
    if args::is(&a[3], "idle") {
        min_idle = args::int(&a[4])?;
        if a.len() < 8 {
            return Err(Frame::error_static(errors::SYNTAX));
        }
        at += 2;
    }
    let count = args::int(&a[at + 2])?.max(0) as usize;
    let start =
        parse_bound(&a[at], 0, false)?.ok_or_else(|| Frame::error_static("ERR invalid start ID for the interval"))?;
    let end = parse_bound(&a[at + 1], u64::MAX, true)?
        .ok_or_else(|| Frame::error_static("ERR invalid end ID for the interval"))?;
    Ok(RangeArgs { min_idle, start, end, count, consumer: a.get(at + 3).cloned() })
}

/// `XPENDING key group [[IDLE min-idle] start end count [consumer]]`.
pub fn xpending(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    if a.len() != 3 && !(6..=9).contains(&a.len()) {
        return Err(Frame::error_static(errors::SYNTAX));
    }
    let range = if a.len() >= 6 { Some(parse_range(a)?) } else { None };
    let now = ctx.now_ms;
    let s = read_stream(ctx, &a[1])?;
    let Some(g) = s.and_then(|s| s.groups.get(&a[2][..])) else {
        return Err(nogroup(&a[1], &a[2], ""));
    };
    Ok(match range {
        None => summary(g),
        Some(r) => extended(g, &r, now),
    })
}

fn summary(g: &Group) -> Frame {
    let (Some((first, _)), Some((last, _))) = (g.pel.first_key_value(), g.pel.last_key_value()) else {
        return Frame::Array(vec![Frame::Integer(0), Frame::Null, Frame::Null, Frame::NullArray]);
    };
    let consumers = g
        .consumers
        .iter()
        .filter(|(_, c)| !c.pel.is_empty())
        .map(|(name, c)| {
            Frame::Array(vec![Frame::bulk_from_slice(name), Frame::Bulk(Bytes::from(c.pel.len().to_string()))])
        })
        .collect();
    Frame::Array(vec![Frame::Integer(g.pel.len() as i64), id_frame(*first), id_frame(*last), Frame::Array(consumers)])
}

fn extended(g: &Group, r: &RangeArgs, now: i64) -> Frame {
    let ids: Box<dyn Iterator<Item = StreamId>> = match &r.consumer {
        Some(name) => match g.consumers.get(&name[..]) {
            Some(c) => Box::new(c.pel.range(r.start..).copied()),
            None => return Frame::Array(Vec::new()),
        },
        None => Box::new(g.pel.range(r.start..).map(|(id, _)| *id)),
    };
    let mut out = Vec::new();
    if r.count == 0 || r.start > r.end {
        return Frame::Array(out);
    }
    for id in ids.take_while(|id| *id <= r.end) {
        let Some(n) = g.pel.get(&id) else { continue };
        if r.min_idle != 0 && now - n.delivery_time < r.min_idle {
            continue;
        }
        out.push(Frame::Array(vec![
            id_frame(id),
            Frame::bulk_from_slice(&n.consumer),
            Frame::Integer((now - n.delivery_time).max(0)),
            Frame::Integer(n.delivery_count as i64),
        ]));
        if out.len() == r.count {
            break;
        }
    }
    Frame::Array(out)
}
