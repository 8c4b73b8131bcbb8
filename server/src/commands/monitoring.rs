//! Watching the server: SLOWLOG GET / LEN / RESET / HELP and MONITOR, with Redis 7.0's
//! replies. The slow log itself (what is kept, and when) is `crate::cmdstats`; the feed of
//! commands to monitors is `crate::monitor`.

use super::client_cmd::help_reply;
use super::{Ctx, Registration};
use bytes::Bytes;
use slotbox_protocol::Frame;

/// `SLOWLOG GET [count]`: the newest `count` entries (10 by default, -1 for all), each
/// `[id, unix time, microseconds, [arguments], "ip:port", client name]`.
fn slowlog_get(ctx: &mut Ctx, args: &[Bytes]) -> Frame {
    let count = match args.get(2) {
        None => 10,
        Some(a) => match slotbox_protocol::float::parse_i64(a) {
            Some(-1) => usize::MAX,
            Some(n) if n >= 0 => n as usize,
            _ => return Frame::error_static("ERR count should be greater than or equal to -1"),
        },
    };
    let entries = ctx.shared.slowlog.newest(count);
    Frame::Array(
        entries
            .into_iter()
            .map(|e| {
                Frame::Array(vec![
                    Frame::Integer(e.id as i64),
                    Frame::Integer(e.time),
                    Frame::Integer(e.usec as i64),
                    Frame::Array(e.args.into_iter().map(Frame::Bulk).collect()),
                    Frame::Bulk(Bytes::from(e.addr)),
                    Frame::Bulk(e.name),
                ])
            })
            .collect(),
    )
}

fn slowlog_len(ctx: &mut Ctx, _args: &[Bytes]) -> Frame {
    Frame::Integer(ctx.shared.slowlog.len() as i64)
}

fn slowlog_reset(ctx: &mut Ctx, _args: &[Bytes]) -> Frame {
    ctx.shared.slowlog.reset();
    Frame::ok()
}

const SLOWLOG_HELP: &[&str] = &[
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
];

fn slowlog_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Frame {
    help_reply(SLOWLOG_HELP)
}

/// `MONITOR`: from now on this connection receives a line per command the server runs. Like
/// a replica, it may no longer touch the keyspace itself (see `execute_in_batch`).
fn monitor(ctx: &mut Ctx, _args: &[Bytes]) -> Frame {
    if ctx.client.in_exec {
        // Redis: a client that expects a reply per command (inside EXEC) cannot monitor.
        return Frame::error_static("ERR MONITOR isn't allowed for DENY BLOCKING client");
    }
    let info = &ctx.client.info;
    if info.monitor.swap(true, std::sync::atomic::Ordering::Relaxed) {
        return Frame::Many(Vec::new());
    }
    ctx.shared.monitors.add(crate::pubsub::Subscriber { client_id: info.id, worker: info.worker() });
    Frame::ok()
}

pub const COMMANDS: Registration = &[
    ("monitor", monitor),
    ("slowlog|get", slowlog_get),
    ("slowlog|len", slowlog_len),
    ("slowlog|reset", slowlog_reset),
    ("slowlog|help", slowlog_help),
];
