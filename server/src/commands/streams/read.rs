//! XREAD and XREADGROUP: serve what is there at once, else block on the streams (the
//! dispatcher re-runs the command when one is written). XREAD's `$` is resolved to the
//! stream's last ID when it blocks, so the re-run waits for entries added after that point.
//! XREADGROUP propagates what it did to the group (an `XCLAIM ... FORCE JUSTID LASTID` per
//! delivered entry, `XGROUP SETID` for NOACK reads, `XGROUP CREATECONSUMER` for a consumer
//! NOACK created), never itself, as Redis does.

use super::common::{entries_frame, entry_frame, id_bytes, id_frame, line, nogroup, parse_strict_id};
use super::groups::touch_consumer;
use crate::commands::{args, BlockOn, Ctx, Reply};
use crate::store::stream::{Group, Stream, StreamId};
use crate::store::Value;
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::{Frame, Protocol};

/// XREAD's default COUNT when serving a client that blocked without one.
const BLOCKED_DEFAULT_COUNT: usize = 1000;

/// `>`: the group's next undelivered entries.
const NEW: StreamId = StreamId::MAX;

struct ReadArgs {
    /// Unix ms deadline of BLOCK (0 forever), `None` without BLOCK.
    block: Option<i64>,
    count: usize,
    streams_at: usize,
    n: usize,
    group: Option<(Bytes, Bytes)>,
    noack: bool,
}

fn parse(ctx: &Ctx, a: &[Bytes], group_cmd: bool) -> Result<ReadArgs, Frame> {
    let mut r = ReadArgs { block: None, count: 0, streams_at: 0, n: 0, group: None, noack: false };
    let mut i = 1;
    while i < a.len() {
        let more = a.len() - i - 1;
        let o = &a[i][..];
        if args::is(o, "block") && more > 0 {
            i += 1;
            r.block = Some(block_ms(&a[i], ctx.now_ms)?);
            if ctx.client.in_script {
                // No sense in blocking inside a script (Redis's own refusal).
                let name = String::from_utf8_lossy(&a[0]);
                return Err(Frame::error(format!("ERR {name} command is not allowed with BLOCK option from scripts")));
            }
        } else if args::is(o, "count") && more > 0 {
            i += 1;
            r.count = args::int(&a[i])?.max(0) as usize;
        } else if args::is(o, "streams") && more > 0 {
            r.streams_at = i + 1;
            if !(a.len() - r.streams_at).is_multiple_of(2) {
                return Err(Frame::error_static(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            r.n = (a.len() - r.streams_at) / 2;
            break;
        } else if args::is(o, "group") && more >= 2 {
            if !group_cmd {
                return Err(Frame::error_static(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            r.group = Some((a[i + 1].clone(), a[i + 2].clone()));
            i += 2;
        } else if args::is(o, "noack") {
            if !group_cmd {
                return Err(Frame::error_static(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            r.noack = true;
        } else {
            return Err(Frame::error_static(errors::SYNTAX));
        }
        i += 1;
    }
    if r.streams_at == 0 {
        return Err(Frame::error_static(errors::SYNTAX));
    }
    if group_cmd && r.group.is_none() {
        return Err(Frame::error_static("ERR Missing GROUP option for XREADGROUP"));
    }
    Ok(r)
}

/// Redis's `getTimeoutFromObjectOrReply` in milliseconds.
fn block_ms(arg: &[u8], now_ms: i64) -> Result<i64, Frame> {
    let ms = args::int(arg).map_err(|_| Frame::error_static("ERR timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(Frame::error_static("ERR timeout is negative"));
    }
    if ms > i64::MAX - now_ms {
        return Err(Frame::error_static("ERR timeout is out of range"));
    }
    Ok(if ms > 0 { now_ms + ms } else { 0 })
}

pub fn xread(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    read(ctx, a, false)
}

pub fn xreadgroup(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    read(ctx, a, true)
}

/// What the ID of one stream asks for.
fn parse_ids(ctx: &mut Ctx, a: &[Bytes], r: &ReadArgs) -> Result<Option<Vec<StreamId>>, Frame> {
    let serving = ctx.client.serving_blocked;
    let mut ids = Vec::with_capacity(r.n);
    for k in 0..r.n {
        let (key, arg) = (&a[r.streams_at + k], &a[r.streams_at + r.n + k]);
        let found = match super::common::read_stream(ctx, key) {
            Ok(s) => s.map(|s| (s.last_id, r.group.as_ref().is_some_and(|(g, _)| s.groups.contains_key(&g[..])))),
            Err(_) if serving && r.group.is_some() => {
                return Err(Frame::error_static("UNBLOCKED the stream key no longer exists"));
            }
            Err(_) if serving => return Ok(None),
            Err(e) => return Err(e),
        };
        if let Some((g, _)) = &r.group {
            match found {
                None if serving => return Err(Frame::error_static("UNBLOCKED the stream key no longer exists")),
                Some((_, false)) if serving => {
                    return Err(Frame::error_static(
                        "NOGROUP the consumer group this client was blocked on no longer exists",
                    ))
                }
                None | Some((_, false)) => return Err(nogroup(key, g, " in XREADGROUP with GROUP option")),
                _ => {}
            }
        }
        let id = match &arg[..] {
            b"$" if r.group.is_some() => return Err(Frame::error_static(
                "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
            )),
            b"$" => found.map_or(StreamId::MIN, |(last, _)| last),
            b">" if r.group.is_none() => return Err(Frame::error_static(
                "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
            )),
            b">" => NEW,
            _ => parse_strict_id(arg, 0)?,
        };
        ids.push(id);
    }
    Ok(Some(ids))
}

fn read(ctx: &mut Ctx, a: &[Bytes], group_cmd: bool) -> Reply {
    let mut r = parse(ctx, a, group_cmd)?;
    if ctx.client.serving_blocked && r.count == 0 {
        r.count = BLOCKED_DEFAULT_COUNT;
    }
    let Some(ids) = parse_ids(ctx, a, &r)? else {
        return Ok(wait(ctx, a, &r, None));
    };
    let mut served: Vec<(Frame, Frame)> = Vec::new();
    let mut propagate = Vec::new();
    for (k, &gt) in ids.iter().enumerate() {
        let key = &a[r.streams_at + k];
        let entries = match &r.group {
            None => read_plain(ctx, key, gt, r.count),
            Some((g, c)) => read_group(ctx, (key, g, c), gt, &r, &mut propagate),
        };
        if let Some(entries) = entries {
            served.push((Frame::Bulk(key.clone()), entries));
        }
    }
    if group_cmd {
        ctx.propagate = Some(propagate);
    }
    if !served.is_empty() {
        return Ok(match ctx.client.resp {
            Protocol::Resp2 => Frame::Array(served.into_iter().map(|(k, v)| Frame::Array(vec![k, v])).collect()),
            _ => Frame::Map(served),
        });
    }
    Ok(wait(ctx, a, &r, Some(&ids)))
}

/// Nothing to serve: block if BLOCK was given (with `$` pinned to the IDs resolved now), or
/// answer the null array.
fn wait(ctx: &mut Ctx, a: &[Bytes], r: &ReadArgs, ids: Option<&[StreamId]>) -> Frame {
    let Some(deadline) = r.block else {
        return Frame::NullArray;
    };
    if !ctx.may_block {
        return Frame::NullArray;
    }
    let mut rerun = a.to_vec();
    if let Some(ids) = ids {
        for (k, id) in ids.iter().enumerate() {
            if &a[r.streams_at + r.n + k][..] == b"$" {
                rerun[r.streams_at + r.n + k] = id_bytes(*id);
            }
        }
    }
    let keys = a[r.streams_at..r.streams_at + r.n].to_vec();
    ctx.block = Some(BlockOn { keys, deadline_ms: deadline, timeout_reply: Frame::NullArray, rerun_args: Some(rerun) });
    Frame::Null
}

fn stream_at<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Option<&'a mut Stream> {
    match ctx.keys.get_mut(key).map(|e| &mut e.value) {
        Some(Value::Stream(s)) => Some(s),
        _ => None,
    }
}

/// XREAD on one stream: the entries after `gt`, `None` if there are none.
fn read_plain(ctx: &mut Ctx, key: &[u8], gt: StreamId, count: usize) -> Option<Frame> {
    let s = match ctx.keys.get(key).map(|e| &e.value) {
        Some(Value::Stream(s)) => s,
        _ => return None,
    };
    let start = gt.next()?;
    let entries = s.range(start, StreamId::MAX, false, count);
    (!entries.is_empty()).then(|| entries_frame(&entries))
}

/// XREADGROUP on one stream (its group exists, checked while parsing).
fn read_group(
    ctx: &mut Ctx,
    (key, g, c): (&Bytes, &Bytes, &Bytes),
    gt: StreamId,
    r: &ReadArgs,
    propagate: &mut Vec<Vec<Bytes>>,
) -> Option<Frame> {
    let now = ctx.now_ms;
    let s = match ctx.keys.peek(key).map(|e| &e.value) {
        Some(Value::Stream(s)) => s,
        _ => return None,
    };
    let group = s.groups.get(&g[..])?;
    let from = if gt != NEW {
        gt
    } else if s.edge_id(true).is_some_and(|top| top > group.last_id) {
        group.last_id
    } else {
        return None;
    };
    let s = stream_at(ctx, key)?;
    let created = touch_consumer(s, g, c, now)?;
    if created && r.noack {
        propagate.push(line(&[b"XGROUP", b"CREATECONSUMER", key, g, c]));
    }
    let frame =
        if gt != NEW { history(s, g, c, from, r.count, now) } else { deliver(s, (key, g, c), from, r, now, propagate) };
    if created {
        ctx.notify(crate::notify::class::STREAM, "xgroup-createconsumer", key);
    }
    Some(frame)
}

/// Entries after `from`, delivered to consumer `c` (PEL entries unless NOACK).
fn deliver(
    s: &mut Stream,
    (key, g, c): (&Bytes, &Bytes, &Bytes),
    from: StreamId,
    r: &ReadArgs,
    now: i64,
    propagate: &mut Vec<Vec<Bytes>>,
) -> Frame {
    let Some(start) = from.next() else { return Frame::Array(Vec::new()) };
    let (frames, ids): (Vec<Frame>, Vec<StreamId>) =
        s.range(start, StreamId::MAX, false, r.count).iter().map(|e| (entry_frame(e), e.id)).unzip();
    let mut group = s.groups.remove(&g[..]).expect("group checked");
    let mut moved = false;
    for &id in &ids {
        if id > group.last_id {
            advance(s, &mut group, id);
            moved = true;
        }
        if !r.noack {
            group.deliver(id, c, now, 1);
            propagate.push(xclaim_line(key, g, c, id, &group));
        }
    }
    if r.noack && moved {
        let read = group.entries_read.to_string();
        propagate.push(line(&[b"XGROUP", b"SETID", key, g, &id_bytes(group.last_id), b"ENTRIESREAD", read.as_bytes()]));
    }
    s.groups.insert(g.to_vec(), group);
    Frame::Array(frames)
}

/// Move a group's last ID to `id`, keeping its read counter as Redis does.
fn advance(s: &Stream, group: &mut Group, id: StreamId) {
    if group.entries_read >= 0 && !s.has_tombstones_after(id) {
        group.entries_read += 1;
    } else if s.entries_added > 0 {
        group.entries_read = s.estimate_distance(id).map_or(-1, |n| n as i64);
    }
    group.last_id = id;
}

/// Redis's `streamPropagateXCLAIM`: the idempotent XCLAIM a replica applies for one delivery.
pub(super) fn xclaim_line(key: &[u8], g: &[u8], c: &[u8], id: StreamId, group: &Group) -> Vec<Bytes> {
    let nack = group.pel.get(&id);
    let (time, count) = nack.map_or((0, 1), |n| (n.delivery_time, n.delivery_count));
    let copy = Bytes::copy_from_slice;
    let word = Bytes::from_static;
    vec![
        word(b"XCLAIM"),
        copy(key),
        copy(g),
        copy(c),
        word(b"0"),
        id_bytes(id),
        word(b"TIME"),
        copy(itoa::Buffer::new().format(time).as_bytes()),
        word(b"RETRYCOUNT"),
        copy(itoa::Buffer::new().format(count).as_bytes()),
        word(b"FORCE"),
        word(b"JUSTID"),
        word(b"LASTID"),
        id_bytes(group.last_id),
    ]
}

/// The consumer's own pending entries after `from` (Redis's
/// `streamReplyWithRangeFromConsumerPEL`): deleted entries show as `[id, nil]`.
fn history(s: &mut Stream, g: &[u8], c: &[u8], from: StreamId, count: usize, now: i64) -> Frame {
    let Some(start) = from.next() else { return Frame::Array(Vec::new()) };
    let Some(ids) = s.groups.get(g).and_then(|grp| grp.consumers.get(c)).map(|cons| {
        let it = cons.pel.range(start..).copied();
        if count == 0 {
            it.collect::<Vec<_>>()
        } else {
            it.take(count).collect()
        }
    }) else {
        return Frame::Array(Vec::new());
    };
    let mut out = Vec::with_capacity(ids.len());
    let mut found = Vec::new();
    for id in ids {
        match s.get(id) {
            Some(e) => {
                out.push(entry_frame(&e));
                found.push(id);
            }
            None => out.push(Frame::Array(vec![id_frame(id), Frame::NullArray])),
        }
    }
    if let Some(grp) = s.groups.get_mut(g) {
        for id in found {
            if let Some(n) = grp.pel.get_mut(&id) {
                n.delivery_time = now;
                n.delivery_count += 1;
            }
        }
    }
    Frame::Array(out)
}
