//! XCLAIM and XAUTOCLAIM: moving pending entries to another consumer. Both propagate one
//! idempotent `XCLAIM ... FORCE JUSTID LASTID` per entry changed (also for a pending entry
//! whose stream entry is gone, which the replica then drops), never themselves.

use super::common::{entry_frame, id_frame, nogroup, parse_bound, parse_strict_id, read_stream, stream_mut};
use super::read::xclaim_line;
use crate::commands::{args, Ctx, Reply};
use crate::notify::class;
use crate::store::stream::{Group, Stream, StreamId};
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

/// The group must exist (NOGROUP otherwise; WRONGTYPE for another type).
fn check_group(ctx: &mut Ctx, a: &[Bytes]) -> Result<(), Frame> {
    match read_stream(ctx, &a[1])? {
        Some(s) if s.groups.contains_key(&a[2][..]) => Ok(()),
        _ => Err(nogroup(&a[1], &a[2], "")),
    }
}

fn int_or(arg: &[u8], msg: &'static str) -> Result<i64, Frame> {
    args::int(arg).map_err(|_| Frame::error_static(msg))
}

/// XCLAIM's options.
struct ClaimOpts {
    ids: Vec<StreamId>,
    time: Option<i64>,
    retrycount: Option<i64>,
    force: bool,
    justid: bool,
    last_id: StreamId,
}

fn parse_claim(a: &[Bytes], now: i64) -> Result<ClaimOpts, Frame> {
    let mut o = ClaimOpts {
        ids: Vec::new(),
        time: None,
        retrycount: None,
        force: false,
        justid: false,
        last_id: StreamId::MIN,
    };
    let mut j = 5;
    while j < a.len() {
        match parse_strict_id(&a[j], 0) {
            Ok(id) => o.ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    while j < a.len() {
        let more = j + 1 < a.len();
        let opt = &a[j][..];
        if args::is(opt, "force") {
            o.force = true;
        } else if args::is(opt, "justid") {
            o.justid = true;
        } else if args::is(opt, "idle") && more {
            j += 1;
            o.time = Some(now.wrapping_sub(int_or(&a[j], "ERR Invalid IDLE option argument for XCLAIM")?));
        } else if args::is(opt, "time") && more {
            j += 1;
            o.time = Some(int_or(&a[j], "ERR Invalid TIME option argument for XCLAIM")?);
        } else if args::is(opt, "retrycount") && more {
            j += 1;
            o.retrycount = Some(int_or(&a[j], "ERR Invalid RETRYCOUNT option argument for XCLAIM")?);
        } else if args::is(opt, "lastid") && more {
            j += 1;
            o.last_id = parse_strict_id(&a[j], 0)?;
        } else {
            return Err(Frame::error(format!("ERR Unrecognized XCLAIM option '{}'", String::from_utf8_lossy(opt))));
        }
        j += 1;
    }
    Ok(o)
}

/// `XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME ms] [RETRYCOUNT n]
/// [FORCE] [JUSTID] [LASTID id]`.
pub fn xclaim(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    check_group(ctx, a)?;
    let min_idle = int_or(&a[4], "ERR Invalid min-idle-time argument for XCLAIM")?.max(0);
    let now = ctx.now_ms;
    let o = parse_claim(a, now)?;
    let time = match o.time {
        Some(t) if (0..=now).contains(&t) => t,
        _ => now,
    };
    let (key, g, c) = (&a[1], &a[2], &a[3]);
    let s = stream_mut(ctx, key).expect("checked above");
    let mut group = s.groups.remove(&g[..]).expect("checked above");
    let mut propagate = Vec::new();
    let mut moved_last = false;
    if o.last_id > group.last_id {
        group.last_id = o.last_id;
        moved_last = true;
    }
    let (mut out, mut created) = (Vec::new(), false);
    for &id in &o.ids {
        let exists = s.get(id).is_some();
        if !exists {
            if let Some(n) = group.pel.get(&id) {
                propagate.push(xclaim_line(key, g, &n.consumer.clone(), id, &group));
                moved_last = false;
                group.ack(id);
            }
            continue;
        }
        let Some(nack) = group.pel.get(&id) else {
            if !o.force {
                continue;
            }
            created |= group.consumer(c, now).1;
            group.deliver(id, c, time, o.retrycount.map_or(if o.justid { 0 } else { 1 }, |n| n as u64));
            out.push(claimed(s, id, o.justid));
            propagate.push(xclaim_line(key, g, c, id, &group));
            moved_last = false;
            continue;
        };
        if min_idle != 0 && now - nack.delivery_time < min_idle {
            continue;
        }
        let count = match o.retrycount {
            Some(n) => n as u64,
            None if o.justid => nack.delivery_count,
            None => nack.delivery_count + 1,
        };
        created |= group.consumer(c, now).1;
        group.deliver(id, c, time, count);
        out.push(claimed(s, id, o.justid));
        propagate.push(xclaim_line(key, g, c, id, &group));
        moved_last = false;
    }
    if let Some(cons) = group.consumers.get_mut(&c[..]) {
        cons.seen_time = now;
    }
    if moved_last {
        let read = group.entries_read.to_string();
        propagate.push(super::common::line(&[
            b"XGROUP",
            b"SETID",
            key,
            g,
            &super::common::id_bytes(group.last_id),
            b"ENTRIESREAD",
            read.as_bytes(),
        ]));
    }
    s.groups.insert(g.to_vec(), group);
    if created {
        ctx.notify(class::STREAM, "xgroup-createconsumer", key);
    }
    ctx.propagate = Some(propagate);
    Ok(Frame::Array(out))
}

/// The reply item for a claimed entry.
fn claimed(s: &Stream, id: StreamId, justid: bool) -> Frame {
    match (justid, s.get(id)) {
        (false, Some(e)) => entry_frame(&e),
        _ => id_frame(id),
    }
}

/// `XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]`:
/// `[next cursor, claimed, deleted IDs]`.
pub fn xautoclaim(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let min_idle = int_or(&a[4], "ERR Invalid min-idle-time argument for XAUTOCLAIM")?.max(0);
    let start =
        parse_bound(&a[5], 0, false)?.ok_or_else(|| Frame::error_static("ERR invalid start ID for the interval"))?;
    let (mut count, mut justid) = (100i64, false);
    let mut j = 6;
    while j < a.len() {
        if args::is(&a[j], "count") && j + 1 < a.len() {
            let max = i64::MAX / 16;
            count = match args::int(&a[j + 1]) {
                Ok(n) if (1..=max).contains(&n) => n,
                _ => return Err(Frame::error_static("ERR COUNT must be > 0")),
            };
            j += 1;
        } else if args::is(&a[j], "justid") {
            justid = true;
        } else {
            return Err(Frame::error_static(errors::SYNTAX));
        }
        j += 1;
    }
    check_group(ctx, a)?;
    let now = ctx.now_ms;
    let (key, g, c) = (&a[1], &a[2], &a[3]);
    let s = stream_mut(ctx, key).expect("checked above");
    let mut group = s.groups.remove(&g[..]).expect("checked above");
    let r = autoclaim(s, &mut group, (key, g, c), (start, min_idle, count as u64, justid), now);
    if let Some(cons) = group.consumers.get_mut(&c[..]) {
        cons.seen_time = now;
    }
    s.groups.insert(g.to_vec(), group);
    if r.created {
        ctx.notify(class::STREAM, "xgroup-createconsumer", key);
    }
    ctx.propagate = Some(r.propagate);
    let deleted = r.deleted.into_iter().map(id_frame).collect();
    Ok(Frame::Array(vec![id_frame(r.cursor), Frame::Array(r.claimed), Frame::Array(deleted)]))
}

struct AutoClaim {
    cursor: StreamId,
    claimed: Vec<Frame>,
    deleted: Vec<StreamId>,
    propagate: Vec<Vec<Bytes>>,
    created: bool,
}

/// The claiming loop of XAUTOCLAIM: at most `count` entries answered (claimed or found
/// deleted) and `count * 10` pending entries looked at.
fn autoclaim(
    s: &Stream,
    group: &mut Group,
    (key, g, c): (&[u8], &[u8], &[u8]),
    (start, min_idle, mut count, justid): (StreamId, i64, u64, bool),
    now: i64,
) -> AutoClaim {
    let mut r = AutoClaim {
        cursor: StreamId::MIN,
        claimed: Vec::new(),
        deleted: Vec::new(),
        propagate: Vec::new(),
        created: false,
    };
    let mut attempts = count.saturating_mul(10);
    let mut next = group.pel.range(start..).next().map(|(id, _)| *id);
    while let Some(id) = next {
        if attempts == 0 || count == 0 {
            break;
        }
        attempts -= 1;
        next = group.pel.range(id..).nth(1).map(|(id, _)| *id);
        let nack = &group.pel[&id];
        if s.get(id).is_none() {
            r.propagate.push(xclaim_line(key, g, &nack.consumer.clone(), id, group));
            group.ack(id);
            r.deleted.push(id);
            count -= 1;
            continue;
        }
        if min_idle != 0 && now - nack.delivery_time < min_idle {
            continue;
        }
        let times = if justid { nack.delivery_count } else { nack.delivery_count + 1 };
        r.created |= group.consumer(c, now).1;
        group.deliver(id, c, now, times);
        r.claimed.push(claimed(s, id, justid));
        count -= 1;
        r.propagate.push(xclaim_line(key, g, c, id, group));
    }
    r.cursor = next.unwrap_or(StreamId::MIN);
    r
}
