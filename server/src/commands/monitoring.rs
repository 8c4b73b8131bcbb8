//! Watching the server: SLOWLOG GET / LEN / RESET / HELP, LATENCY LATEST / HISTORY / RESET /
//! HELP and MONITOR, with Redis 7.0's replies. The slow log itself (what is kept, and when) is
//! `crate::cmdstats`, the latency series `crate::latency`, the feed of commands to monitors
//! `crate::monitor`.

use super::client_cmd::help_reply;
use super::{Ctx, Registration};
use crate::commands::Reply;
use bytes::Bytes;
use slotbox_protocol::Frame;

/// `SLOWLOG GET [count]`: the newest `count` entries (10 by default, -1 for all), each
/// `[id, unix time, microseconds, [arguments], "ip:port", client name]`.
fn slowlog_get(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let count = match args.get(2) {
        None => 10,
        Some(a) => match slotbox_protocol::float::parse_i64(a) {
            Some(-1) => usize::MAX,
            Some(n) if n >= 0 => n as usize,
            _ => return Ok(Frame::error_static("ERR count should be greater than or equal to -1")),
        },
    };
    let entries = ctx.shared.slowlog.newest(count);
    Ok(Frame::Array(
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
    ))
}

fn slowlog_len(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(Frame::Integer(ctx.shared.slowlog.len() as i64))
}

fn slowlog_reset(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    ctx.shared.slowlog.reset();
    Ok(Frame::ok())
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

fn slowlog_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(help_reply(SLOWLOG_HELP))
}

/// `MONITOR`: from now on this connection receives a line per command the server runs. Like
/// a replica, it may no longer touch the keyspace itself (see `execute_in_batch`).
fn monitor(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    if ctx.client.in_exec {
        // Redis: a client that expects a reply per command (inside EXEC) cannot monitor.
        return Ok(Frame::error_static("ERR MONITOR isn't allowed for DENY BLOCKING client"));
    }
    let info = &ctx.client.info;
    if info.monitor.swap(true, std::sync::atomic::Ordering::Relaxed) {
        return Ok(Frame::Many(Vec::new()));
    }
    ctx.shared.monitors.add(crate::pubsub::Subscriber { client_id: info.id, worker: info.worker() });
    Ok(Frame::ok())
}

/// `LATENCY LATEST`: per event, `[name, unix time of the latest sample, its ms, max ms]`.
fn latency_latest(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(Frame::Array(
        ctx.shared
            .latency
            .all()
            .into_iter()
            .map(|(name, s)| {
                let (time, ms) = s.samples.last().copied().unwrap_or((0, 0));
                Frame::Array(vec![
                    Frame::bulk_static(name),
                    Frame::Integer(time),
                    Frame::Integer(ms as i64),
                    Frame::Integer(s.max as i64),
                ])
            })
            .collect(),
    ))
}

/// `LATENCY HISTORY event`: `[unix time, ms]` per second that had a sample, oldest first.
fn latency_history(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let samples = ctx.shared.latency.history(&args[2]);
    Ok(Frame::Array(
        samples.into_iter().map(|(t, ms)| Frame::Array(vec![Frame::Integer(t), Frame::Integer(ms as i64)])).collect(),
    ))
}

/// `LATENCY RESET [event ...]`: how many event series were dropped.
fn latency_reset(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let names: Vec<&[u8]> = args[2..].iter().map(|a| &a[..]).collect();
    Ok(Frame::Integer(ctx.shared.latency.reset(&names) as i64))
}

const LATENCY_HELP: &[&str] = &[
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HELP",
    "    Prints this help.",
];

fn latency_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(help_reply(LATENCY_HELP))
}

pub const COMMANDS: Registration = &[
    ("latency|latest", latency_latest),
    ("latency|history", latency_history),
    ("latency|reset", latency_reset),
    ("latency|help", latency_help),
    ("monitor", monitor),
    ("slowlog|get", slowlog_get),
    ("slowlog|len", slowlog_len),
    ("slowlog|reset", slowlog_reset),
    ("slowlog|help", slowlog_help),
];
