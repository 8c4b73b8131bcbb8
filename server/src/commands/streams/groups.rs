//! XGROUP CREATE / SETID / DESTROY / CREATECONSUMER / DELCONSUMER / HELP, and the consumer
//! lookup the reading and claiming commands share.

use super::common::{create_stream, parse_id, parse_strict_id, stream_exists, stream_mut};
use crate::commands::{args, Ctx, Reply};
use crate::notify::class;
use crate::store::stream::{Group, Stream, StreamId, ENTRIES_READ_UNKNOWN};
use bytes::Bytes;
use slotbox_protocol::Frame;

/// Consumer `c` of group `g` (which exists), created if new and marked seen now: `Some(true)`
/// if it was created, `None` without the group.
pub(super) fn touch_consumer(s: &mut Stream, g: &[u8], c: &[u8], now: i64) -> Option<bool> {
    let group = s.groups.get_mut(g)?;
    let (cons, created) = group.consumer(c, now);
    cons.seen_time = now;
    Some(created)
}

/// Redis's `addReplySubcommandSyntaxError`.
pub(super) fn subcommand_error(a: &[Bytes]) -> Frame {
    let sub: String = String::from_utf8_lossy(&a[1]).chars().take(128).collect();
    let cmd = String::from_utf8_lossy(&a[0]).to_ascii_uppercase();
    Frame::error(
        format!("ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {cmd} HELP.")
            .replace(['\r', '\n'], " "),
    )
}

/// The options after `XGROUP CREATE|SETID key group id`.
struct Options {
    mkstream: bool,
    entries_read: i64,
}

fn options(a: &[Bytes], create: bool) -> Result<Options, Frame> {
    let mut o = Options { mkstream: false, entries_read: ENTRIES_READ_UNKNOWN };
    let mut i = 5;
    while i < a.len() {
        if create && args::is(&a[i], "mkstream") {
            o.mkstream = true;
            i += 1;
        } else if args::is(&a[i], "entriesread") && i + 1 < a.len() {
            o.entries_read = args::int(&a[i + 1])?;
            if o.entries_read < 0 && o.entries_read != ENTRIES_READ_UNKNOWN {
                return Err(Frame::error_static("ERR value for ENTRIESREAD must be positive or -1"));
            }
            i += 2;
        } else {
            return Err(subcommand_error(a));
        }
    }
    Ok(o)
}

const NEEDS_KEY: &str = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";

/// The checks every XGROUP subcommand but HELP makes: the key is a stream (unless MKSTREAM)
/// and, for `needs_group`, the group exists.
fn check(ctx: &mut Ctx, a: &[Bytes], mkstream: bool, needs_group: bool) -> Result<bool, Frame> {
    let exists = stream_exists(ctx, &a[2])?;
    if mkstream {
        return Ok(exists);
    }
    if !exists {
        return Err(Frame::error_static(NEEDS_KEY));
    }
    let has_group = match ctx.keys.get(&a[2]).map(|e| &e.value) {
        Some(crate::store::Value::Stream(s)) => s.groups.contains_key(&a[3][..]),
        _ => false,
    };
    if needs_group && !has_group {
        return Err(Frame::error(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            String::from_utf8_lossy(&a[3]),
            String::from_utf8_lossy(&a[2])
        )));
    }
    Ok(true)
}

/// `XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n]`.
pub fn create(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    if a.len() > 8 {
        return Err(subcommand_error(a));
    }
    let o = options(a, true)?;
    let exists = check(ctx, a, o.mkstream, false)?;
    let id = if &a[4][..] == b"$" {
        match super::common::read_stream(ctx, &a[2])? {
            Some(s) => s.last_id,
            None => StreamId::MIN,
        }
    } else {
        parse_strict_id(&a[4], 0)?
    };
    if !exists {
        create_stream(ctx, &a[2]);
    }
    let s = stream_mut(ctx, &a[2]).expect("a stream");
    if s.groups.contains_key(&a[3][..]) {
        return Err(Frame::error_static("BUSYGROUP Consumer Group name already exists"));
    }
    s.groups.insert(a[3].to_vec(), Group::new(id, o.entries_read));
    ctx.notify(class::STREAM, "xgroup-create", &a[2]);
    Ok(Frame::ok())
}

/// `XGROUP SETID key group id|$ [ENTRIESREAD n]`.
pub fn setid(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    if a.len() != 5 && a.len() != 7 {
        return Err(subcommand_error(a));
    }
    let o = options(a, false)?;
    check(ctx, a, false, true)?;
    let s = stream_mut(ctx, &a[2]).expect("a stream");
    let id = if &a[4][..] == b"$" { s.last_id } else { parse_id(&a[4], 0)? };
    let g = s.groups.get_mut(&a[3][..]).expect("checked");
    g.last_id = id;
    g.entries_read = o.entries_read;
    ctx.notify(class::STREAM, "xgroup-setid", &a[2]);
    Ok(Frame::ok())
}

/// `XGROUP DESTROY key group`: 1 if it was there.
pub fn destroy(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    check(ctx, a, false, false)?;
    let s = stream_mut(ctx, &a[2]).expect("a stream");
    if s.groups.remove(&a[3][..]).is_none() {
        ctx.propagate = Some(Vec::new());
        return Ok(Frame::Integer(0));
    }
    ctx.notify(class::STREAM, "xgroup-destroy", &a[2]);
    Ok(Frame::Integer(1))
}

/// `XGROUP CREATECONSUMER key group consumer`: 1 if created.
pub fn createconsumer(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    check(ctx, a, false, true)?;
    let now = ctx.now_ms;
    let s = stream_mut(ctx, &a[2]).expect("a stream");
    let (_, created) = s.groups.get_mut(&a[3][..]).expect("checked").consumer(&a[4], now);
    if created {
        ctx.notify(class::STREAM, "xgroup-createconsumer", &a[2]);
    } else {
        ctx.propagate = Some(Vec::new());
    }
    Ok(Frame::Integer(created.into()))
}

/// `XGROUP DELCONSUMER key group consumer`: how many entries it had pending.
pub fn delconsumer(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    check(ctx, a, false, true)?;
    let s = stream_mut(ctx, &a[2]).expect("a stream");
    let pending = s.groups.get_mut(&a[3][..]).expect("checked").delete_consumer(&a[4]);
    match pending {
        Some(n) => {
            ctx.notify(class::STREAM, "xgroup-delconsumer", &a[2]);
            Ok(Frame::Integer(n as i64))
        }
        None => {
            ctx.propagate = Some(Vec::new());
            Ok(Frame::Integer(0))
        }
    }
}

const HELP: &[&str] = &[
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
];

pub fn help(_ctx: &mut Ctx, _a: &[Bytes]) -> Reply {
    Ok(Frame::Array(HELP.iter().map(|l| Frame::simple_static(l)).collect()))
}
