//! XINFO STREAM [FULL [COUNT n]] / GROUPS / CONSUMERS / HELP. Replies are maps (RESP3) or
//! flat arrays (RESP2), in Redis's field order.

use super::common::{entries_frame, entry_frame, id_frame, read_stream};
use super::groups::subcommand_error;
use crate::commands::{args, Ctx, Reply};
use crate::store::stream::{Group, Stream, StreamId};
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

fn name(s: &'static str) -> Frame {
    Frame::bulk_static(s)
}

fn map(pairs: Vec<(&'static str, Frame)>) -> Frame {
    Frame::Map(pairs.into_iter().map(|(k, v)| (name(k), v)).collect())
}

fn int(n: impl TryInto<i64>) -> Frame {
    Frame::Integer(n.try_into().unwrap_or(i64::MAX))
}

fn stream_of<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<&'a Stream, Frame> {
    read_stream(ctx, key)?.ok_or_else(|| Frame::error_static(errors::NO_SUCH_KEY))
}

fn entries_read(g: &Group) -> Frame {
    if g.entries_read >= 0 {
        int(g.entries_read)
    } else {
        Frame::Null
    }
}

fn lag(s: &Stream, g: &Group) -> Frame {
    s.group_lag(g).map_or(Frame::Null, int)
}

/// `XINFO CONSUMERS key group`.
pub fn consumers(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let now = ctx.now_ms;
    let s = stream_of(ctx, &a[2])?;
    let Some(g) = s.groups.get(&a[3][..]) else {
        return Err(Frame::error(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            String::from_utf8_lossy(&a[3]),
            String::from_utf8_lossy(&a[2])
        )));
    };
    let out = g
        .consumers
        .iter()
        .map(|(n, c)| {
            map(vec![
                ("name", Frame::bulk_from_slice(n)),
                ("pending", int(c.pel.len())),
                ("idle", int((now - c.seen_time).max(0))),
            ])
        })
        .collect();
    Ok(Frame::Array(out))
}

/// `XINFO GROUPS key`.
pub fn groups(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let s = stream_of(ctx, &a[2])?;
    let out = s
        .groups
        .iter()
        .map(|(n, g)| {
            map(vec![
                ("name", Frame::bulk_from_slice(n)),
                ("consumers", int(g.consumers.len())),
                ("pending", int(g.pel.len())),
                ("last-delivered-id", id_frame(g.last_id)),
                ("entries-read", entries_read(g)),
                ("lag", lag(s, g)),
            ])
        })
        .collect();
    Ok(Frame::Array(out))
}

/// `XINFO STREAM key [FULL [COUNT count]]`.
pub fn stream(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let full = match a.len() {
        3 => None,
        4 if args::is(&a[3], "full") => Some(10),
        6 if args::is(&a[3], "full") && args::is(&a[4], "count") => {
            let n = args::int(&a[5])?;
            Some(if n < 0 { 10 } else { n as usize })
        }
        _ => return Err(subcommand_error(a)),
    };
    let s = stream_of(ctx, &a[2])?;
    let blocks = s.block_count();
    let mut fields = vec![
        ("length", int(s.len())),
        ("radix-tree-keys", int(blocks)),
        ("radix-tree-nodes", int(blocks + 1)),
        ("last-generated-id", id_frame(s.last_id)),
        ("max-deleted-entry-id", id_frame(s.max_deleted_id)),
        ("entries-added", int(s.entries_added)),
        ("recorded-first-entry-id", id_frame(s.first_id)),
    ];
    let Some(count) = full else {
        let edge = |rev| s.range(StreamId::MIN, StreamId::MAX, rev, 1).first().map_or(Frame::Null, entry_frame);
        fields.push(("groups", int(s.groups.len())));
        fields.push(("first-entry", edge(false)));
        fields.push(("last-entry", edge(true)));
        return Ok(map(fields));
    };
    fields.push(("entries", entries_frame(&s.range(StreamId::MIN, StreamId::MAX, false, count))));
    let groups = s.groups.iter().map(|(n, g)| full_group(s, n, g, count)).collect();
    fields.push(("groups", Frame::Array(groups)));
    Ok(map(fields))
}

fn full_group(s: &Stream, n: &[u8], g: &Group, count: usize) -> Frame {
    let take = if count == 0 { usize::MAX } else { count };
    let pel = g
        .pel
        .iter()
        .take(take)
        .map(|(id, nack)| {
            Frame::Array(vec![
                id_frame(*id),
                Frame::bulk_from_slice(&nack.consumer),
                int(nack.delivery_time),
                int(nack.delivery_count),
            ])
        })
        .collect();
    let consumers = g
        .consumers
        .iter()
        .map(|(cn, c)| {
            let pending = c
                .pel
                .iter()
                .take(take)
                .map(|id| {
                    let nack = g.pel.get(id);
                    Frame::Array(vec![
                        id_frame(*id),
                        int(nack.map_or(0, |n| n.delivery_time)),
                        int(nack.map_or(0, |n| n.delivery_count)),
                    ])
                })
                .collect();
            map(vec![
                ("name", Frame::bulk_from_slice(cn)),
                ("seen-time", int(c.seen_time)),
                ("pel-count", int(c.pel.len())),
                ("pending", Frame::Array(pending)),
            ])
        })
        .collect();
    map(vec![
        ("name", Frame::bulk_from_slice(n)),
        ("last-delivered-id", id_frame(g.last_id)),
        ("entries-read", entries_read(g)),
        ("lag", lag(s, g)),
        ("pel-count", int(g.pel.len())),
        ("pending", Frame::Array(pel)),
        ("consumers", Frame::Array(consumers)),
    ])
}

const HELP: &[&str] = &[
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
];

pub fn help(_ctx: &mut Ctx, _a: &[Bytes]) -> Reply {
    Ok(Frame::Array(HELP.iter().map(|l| Frame::simple_static(l)).collect()))
}
