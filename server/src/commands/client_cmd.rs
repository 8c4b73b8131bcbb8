//! The CLIENT container: ID, SETNAME, GETNAME, LIST, INFO, SETINFO (as Redis 7.2, which
//! redis-py sends on connect), KILL (`kill.rs`), PAUSE / UNPAUSE (`pause.rs`), UNBLOCK
//! (`unblock.rs`), TRACKING / CACHING / GETREDIR / TRACKINGINFO (`tracking.rs`), NO-EVICT, REPLY
//! and HELP, with Redis 7.0's replies.
//!
//! Every connection of an event loop is a client of user `default`, of type `pubsub` while it
//! holds a subscription and `normal` otherwise; the replication links are not in the client
//! registry (CLIENT KILL reaches them apart). This file never touches a socket.

mod common;
mod kill;
mod pause;
mod tracking;
mod unblock;

use super::args::{self, is};
use super::{Ctx, Registration};
use crate::commands::session::{ClientState, ReplyMode};
use crate::commands::Reply;
use bytes::Bytes;
use common::{all_clients, kind_by_name, kind_of, unknown_type};
use slotbox_protocol::Frame;
use std::sync::atomic::Ordering;

const BAD_NAME: &str = "ERR Client names cannot contain spaces, newlines or special characters.";

/// Names and lib attributes must be printable ASCII without spaces (CLIENT LIST stays
/// splittable on spaces).
fn valid_attr(value: &[u8]) -> bool {
    value.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

/// Set (or with an empty name, clear) the connection name: CLIENT SETNAME and HELLO SETNAME.
pub(super) fn set_client_name(client: &mut ClientState, name: &Bytes) -> Result<(), Frame> {
    if !valid_attr(name) {
        return Err(Frame::error_static(BAD_NAME));
    }
    *client.info.name.lock() = (!name.is_empty()).then(|| name.clone());
    Ok(())
}

fn client_id(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(Frame::Integer(ctx.client.id() as i64))
}

fn client_setname(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    set_client_name(ctx.client, &args[2])?;
    Ok(Frame::ok())
}

fn client_getname(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(match ctx.client.info.name.lock().as_ref() {
        Some(n) => Frame::Bulk(n.clone()),
        None => Frame::Null,
    })
}

/// `CLIENT SETINFO LIB-NAME|LIB-VER value` (Redis 7.2).
fn client_setinfo(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let attr = &args[2];
    let slot = if is(attr, "lib-name") {
        &ctx.client.info.lib_name
    } else if is(attr, "lib-ver") {
        &ctx.client.info.lib_ver
    } else {
        return Ok(Frame::error(format!("ERR Unrecognized option '{}'", String::from_utf8_lossy(attr))));
    };
    let value = &args[3];
    if !valid_attr(value) {
        return Ok(Frame::error(format!(
            "ERR {} cannot contain spaces, newlines or special characters.",
            String::from_utf8_lossy(attr)
        )));
    }
    *slot.lock() = (!value.is_empty()).then(|| value.clone());
    Ok(Frame::ok())
}

fn client_info(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let mut line = ctx.client.info.describe(super::name_of(ctx.client.info.last_cmd.load(Ordering::Relaxed)));
    line.push('\n');
    Ok(Frame::Verbatim("txt", Bytes::from(line)))
}

/// `CLIENT LIST [TYPE type] | [ID id [id ...]]`.
fn client_list(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let clients = if args.len() == 4 && is(&args[2], "type") {
        let kind = kind_by_name(&args[3]).ok_or_else(|| unknown_type(&args[3]))?;
        all_clients(ctx.shared).into_iter().filter(|c| kind_of(c) == kind).collect()
    } else if args.len() > 3 && is(&args[2], "id") {
        let ids: Result<Vec<i64>, _> = args[3..].iter().map(|a| args::int(a)).collect();
        let ids = ids.map_err(|_| Frame::error_static("ERR Invalid client ID"))?;
        let registry = ctx.shared.clients.lock();
        let by_id = |id: i64| u64::try_from(id).ok().and_then(|id| registry.get(&id).cloned());
        ids.into_iter().filter_map(by_id).collect()
    } else if args.len() == 2 {
        all_clients(ctx.shared)
    } else {
        return Ok(args::syntax_error());
    };
    let mut out = String::new();
    for c in &clients {
        out.push_str(&c.describe(super::name_of(c.last_cmd.load(Ordering::Relaxed))));
        out.push('\n');
    }
    Ok(Frame::Verbatim("txt", Bytes::from(out)))
}

fn client_no_evict(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if is(&args[2], "on") {
        ctx.client.no_evict = true;
    } else if is(&args[2], "off") {
        ctx.client.no_evict = false;
    } else {
        return Ok(args::syntax_error());
    }
    Ok(Frame::ok())
}

/// `CLIENT REPLY ON|OFF|SKIP`: the connection drops the replies (this one's included for
/// OFF and SKIP) according to `reply_mode`.
fn client_reply(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mode = &mut ctx.client.reply_mode;
    if is(&args[2], "on") {
        *mode = ReplyMode::On;
    } else if is(&args[2], "off") {
        *mode = ReplyMode::Off;
    } else if is(&args[2], "skip") {
        if *mode != ReplyMode::Off {
            *mode = ReplyMode::SkipNext;
        }
    } else {
        return Ok(args::syntax_error());
    }
    Ok(Frame::ok())
}

const CLIENT_HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "HELP",
    "    Prints this help.",
];

/// A HELP reply: one status line per text line.
pub(super) fn help_reply(lines: &[&'static str]) -> Frame {
    Frame::Array(lines.iter().map(|l| Frame::simple_static(l)).collect())
}

fn client_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(help_reply(CLIENT_HELP))
}

#[cfg(test)]
mod tests;

pub const COMMANDS: Registration = &[
    ("client|id", client_id),
    ("client|setname", client_setname),
    ("client|getname", client_getname),
    ("client|setinfo", client_setinfo),
    ("client|info", client_info),
    ("client|list", client_list),
    ("client|kill", kill::client_kill),
    ("client|pause", pause::client_pause),
    ("client|unpause", pause::client_unpause),
    ("client|unblock", unblock::client_unblock),
    ("client|no-evict", client_no_evict),
    ("client|reply", client_reply),
    ("client|tracking", tracking::client_tracking),
    ("client|caching", tracking::client_caching),
    ("client|getredir", tracking::client_getredir),
    ("client|trackinginfo", tracking::client_trackinginfo),
    ("client|help", client_help),
];
