//! The CLIENT container: ID, SETNAME, GETNAME, LIST, INFO, SETINFO (as Redis 7.2, which
//! redis-py sends on connect), KILL, NO-EVICT, REPLY and HELP, with Redis 7.0's replies.
//!
//! Every connection of an event loop is a `normal` client of user `default`. CLIENT KILL also
//! reaches the replication links (`TYPE replica` on a master, `TYPE master` on a replica),
//! which are closed by their own threads. Killing another client flags it and asks its own
//! event-loop thread to close it; this file never touches a socket.

use super::args::{self, is};
use super::{Ctx, Registration};
use crate::client::ClientInfo;
use crate::commands::session::{ClientState, ReplyMode};
use crate::commands::Reply;
use crate::mailbox::WorkerMsg;
use crate::shared::Shared;
use bytes::Bytes;
use slotbox_protocol::Frame;
use std::sync::atomic::Ordering;
use std::sync::Arc;

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

/// Every connected client, oldest first (Redis lists them in connection order).
fn all_clients(shared: &Shared) -> Vec<Arc<ClientInfo>> {
    let mut v: Vec<_> = shared.clients.lock().values().cloned().collect();
    v.sort_by_key(|c| c.id);
    v
}

/// The client types CLIENT KILL TYPE names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Normal,
    Replica,
    Master,
    Pubsub,
}

fn kind(name: &[u8]) -> Option<Kind> {
    match () {
        _ if is(name, "normal") => Some(Kind::Normal),
        _ if is(name, "slave") || is(name, "replica") => Some(Kind::Replica),
        _ if is(name, "master") => Some(Kind::Master),
        _ if is(name, "pubsub") => Some(Kind::Pubsub),
        _ => None,
    }
}

fn unknown_type(name: &[u8]) -> Frame {
    Frame::error(format!("ERR Unknown client type '{}'", String::from_utf8_lossy(name)))
}

/// `CLIENT LIST [TYPE type] | [ID id [id ...]]`.
fn client_list(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let clients = if args.len() == 4 && is(&args[2], "type") {
        match kind(&args[3]) {
            None => return Ok(unknown_type(&args[3])),
            Some(Kind::Normal) => all_clients(ctx.shared),
            Some(_) => Vec::new(),
        }
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

/// The filters of `CLIENT KILL`.
#[derive(Default)]
struct KillFilter {
    id: Option<u64>,
    addr: Option<String>,
    laddr: Option<String>,
    kind: Option<Kind>,
    skipme: bool,
}

impl KillFilter {
    fn matches(&self, c: &ClientInfo, me: u64) -> bool {
        self.id.is_none_or(|id| c.id == id)
            && self.addr.as_ref().is_none_or(|a| *a == c.addr.to_string())
            && self.laddr.as_ref().is_none_or(|a| *a == c.laddr.to_string())
            && self.kind.is_none_or(|k| k == Kind::Normal)
            && !(self.skipme && c.id == me)
    }

    /// Does it select this node's replica links (`TYPE replica`, or no type)?
    fn matches_replica(&self, r: &crate::repl::ReplicaInfo) -> bool {
        self.kind.is_none_or(|k| k == Kind::Replica)
            && self.id.is_none_or(|id| r.id == id)
            && self.addr.as_ref().is_none_or(|a| *a == r.addr.to_string())
            && self.laddr.is_none()
    }
}

/// Parse the new-style `CLIENT KILL <filter> <value> ...` form.
fn parse_kill_filter(args: &[Bytes]) -> Result<KillFilter, Frame> {
    let mut f = KillFilter { skipme: true, ..KillFilter::default() };
    let mut i = 2;
    while i < args.len() {
        let (opt, val) = match args.get(i + 1) {
            Some(v) => (&args[i], v),
            None => return Err(args::syntax_error()),
        };
        let text = || String::from_utf8_lossy(val).into_owned();
        if is(opt, "id") {
            match args::int(val) {
                Ok(id) if id >= 1 => f.id = Some(id as u64),
                _ => return Err(Frame::error_static("ERR client-id should be greater than 0")),
            }
        } else if is(opt, "type") {
            f.kind = Some(kind(val).ok_or_else(|| unknown_type(val))?);
        } else if is(opt, "addr") {
            f.addr = Some(text());
        } else if is(opt, "laddr") {
            f.laddr = Some(text());
        } else if is(opt, "user") {
            if val.as_ref() != b"default" {
                return Err(Frame::error(format!("ERR No such user '{}'", text())));
            }
        } else if is(opt, "skipme") {
            f.skipme = match () {
                _ if is(val, "yes") => true,
                _ if is(val, "no") => false,
                _ => return Err(args::syntax_error()),
            };
        } else {
            return Err(args::syntax_error());
        }
        i += 2;
    }
    Ok(f)
}

/// `CLIENT KILL addr:port` (reply OK / No such client) or `CLIENT KILL <filters>` (reply: the
/// number killed). The caller itself is closed after its reply.
fn client_kill(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let old_form = args.len() == 3;
    let filter = if old_form {
        KillFilter { addr: Some(String::from_utf8_lossy(&args[2]).into_owned()), ..KillFilter::default() }
    } else {
        parse_kill_filter(args)?
    };
    let me = ctx.client.id();
    let mut killed = 0i64;
    for c in all_clients(ctx.shared).iter().filter(|c| filter.matches(c, me)) {
        if c.id == me {
            ctx.client.close_after_reply = true;
        } else {
            close_other(ctx.shared, c);
        }
        killed += 1;
    }
    killed += kill_replication_links(ctx.shared, &filter);
    Ok(match (old_form, killed) {
        (true, 0) => Frame::error_static("ERR No such client"),
        (true, _) => Frame::ok(),
        (false, n) => Frame::Integer(n),
    })
}

/// Replica links of this master, and (`TYPE master`) this replica's link to its master, that
/// the filter selects: each is closed by its own thread (a replica then reconnects and asks
/// for a partial resync, as with Redis).
fn kill_replication_links(shared: &Shared, filter: &KillFilter) -> i64 {
    let mut killed = 0;
    for r in shared.repl.replicas.lock().iter() {
        if !r.gone.load(Ordering::Relaxed) && filter.matches_replica(r) {
            r.gone.store(true, Ordering::Relaxed);
            killed += 1;
        }
    }
    if filter.kind == Some(Kind::Master) {
        if let Some(link) = shared.repl.master.lock().as_ref() {
            if link.is_up() {
                link.kill.store(true, Ordering::Relaxed);
                killed += 1;
            }
        }
    }
    killed
}

/// Flag another client as killed and wake its event loop to close it.
fn close_other(shared: &Shared, c: &ClientInfo) {
    c.killed.store(true, Ordering::Relaxed);
    if let Some(w) = shared.workers.get().and_then(|ws| ws.get(c.worker())) {
        w.send(WorkerMsg::Kill(c.id));
    }
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

pub const COMMANDS: Registration = &[
    ("client|id", client_id),
    ("client|setname", client_setname),
    ("client|getname", client_getname),
    ("client|setinfo", client_setinfo),
    ("client|info", client_info),
    ("client|list", client_list),
    ("client|kill", client_kill),
    ("client|no-evict", client_no_evict),
    ("client|reply", client_reply),
    ("client|help", client_help),
];

#[cfg(test)]
mod tests {
    use super::super::connection::testing::TestClient;
    use crate::commands::session::ReplyMode;
    use std::sync::atomic::Ordering;

    #[test]
    fn setname_getname() {
        let bad = "-ERR Client names cannot contain spaces, newlines or special characters.\r\n";
        TestClient::new().expect(&[
            (&["CLIENT", "GETNAME"], "$-1\r\n"),
            (&["CLIENT", "SETNAME", "conn-1"], "+OK\r\n"),
            (&["client", "getname"], "$6\r\nconn-1\r\n"),
            (&["CLIENT", "SETNAME", "a b"], bad),
            (&["CLIENT", "SETNAME", "a\nb"], bad),
            (&["CLIENT", "SETNAME", ""], "+OK\r\n"),
            (&["CLIENT", "GETNAME"], "$-1\r\n"),
            (&["CLIENT", "SETNAME"], "-ERR wrong number of arguments for 'client|setname' command\r\n"),
        ]);
    }

    #[test]
    fn id_info_list() {
        let mut c = TestClient::new();
        let id = c.client.id();
        assert_eq!(c.wire(&["CLIENT", "ID"]), format!(":{id}\r\n"));
        let info = c.wire(&["CLIENT", "INFO"]);
        assert!(info.contains(&format!("id={id} addr=")) && info.ends_with("\n\r\n"), "{info}");
        let mut other = TestClient::on(c.shared.clone());
        let list = other.wire(&["CLIENT", "LIST"]);
        assert_eq!(list.matches(" addr=").count(), 2, "{list}");
        assert!(c.wire(&["CLIENT", "LIST", "TYPE", "normal"]).contains("id="));
        let mine = c.wire(&["CLIENT", "LIST", "ID", &id.to_string()]);
        assert!(mine.contains(&format!("id={id} ")));
        c.expect(&[
            (&["CLIENT", "LIST", "TYPE", "pubsub"], "$0\r\n\r\n"),
            (&["CLIENT", "LIST", "TYPE", "foo"], "-ERR Unknown client type 'foo'\r\n"),
            (&["CLIENT", "LIST", "ID", "1", "x"], "-ERR Invalid client ID\r\n"),
            (&["CLIENT", "LIST", "ID", "99999"], "$0\r\n\r\n"),
            (&["CLIENT", "LIST", "foo"], "-ERR syntax error\r\n"),
        ]);
        c.run(&["HELLO", "3"]);
        assert!(c.wire(&["CLIENT", "INFO"]).starts_with("="));
    }

    #[test]
    fn setinfo() {
        let mut c = TestClient::new();
        c.expect(&[
            (&["CLIENT", "SETINFO", "LIB-NAME", "redis-py"], "+OK\r\n"),
            (&["CLIENT", "SETINFO", "lib-ver", "5.0"], "+OK\r\n"),
            (&["CLIENT", "SETINFO", "x", "y"], "-ERR Unrecognized option 'x'\r\n"),
            (
                &["CLIENT", "SETINFO", "lib-name", "a b"],
                "-ERR lib-name cannot contain spaces, newlines or special characters.\r\n",
            ),
        ]);
        assert!(c.wire(&["CLIENT", "INFO"]).contains("lib-name=redis-py lib-ver=5.0"));
    }

    #[test]
    fn kill() {
        let mut c = TestClient::new();
        let other = TestClient::on(c.shared.clone());
        let bad_id = "-ERR client-id should be greater than 0\r\n";
        c.expect(&[
            (&["CLIENT", "KILL", "1.2.3.4:5"], "-ERR No such client\r\n"),
            (&["CLIENT", "KILL", "ID", "x"], bad_id),
            (&["CLIENT", "KILL", "ID", "0"], bad_id),
            (&["CLIENT", "KILL", "foo", "bar"], "-ERR syntax error\r\n"),
            (&["CLIENT", "KILL", "ID", "1", "SKIPME"], "-ERR syntax error\r\n"),
            (&["CLIENT", "KILL", "TYPE", "foo"], "-ERR Unknown client type 'foo'\r\n"),
            (&["CLIENT", "KILL", "USER", "bob"], "-ERR No such user 'bob'\r\n"),
            (&["CLIENT", "KILL", "TYPE", "master"], ":0\r\n"),
            (&["CLIENT", "KILL", "ID", &other.client.id().to_string()], ":1\r\n"),
        ]);
        assert!(other.client.info.killed.load(Ordering::Relaxed));
        assert!(!c.client.close_after_reply);
        let me = c.client.info.addr.to_string();
        assert_eq!(c.wire(&["CLIENT", "KILL", &me]), "+OK\r\n");
        assert!(c.client.close_after_reply);
    }

    #[test]
    fn reply_modes_and_no_evict() {
        let mut c = TestClient::new();
        c.run(&["CLIENT", "REPLY", "OFF"]);
        assert_eq!(c.client.reply_mode, ReplyMode::Off);
        c.run(&["CLIENT", "REPLY", "SKIP"]);
        assert_eq!(c.client.reply_mode, ReplyMode::Off);
        assert_eq!(c.wire(&["CLIENT", "REPLY", "ON"]), "+OK\r\n");
        c.run(&["CLIENT", "REPLY", "SKIP"]);
        assert_eq!(c.client.reply_mode, ReplyMode::SkipNext);
        c.expect(&[
            (&["CLIENT", "REPLY", "maybe"], "-ERR syntax error\r\n"),
            (&["CLIENT", "NO-EVICT", "on"], "+OK\r\n"),
            (&["CLIENT", "NO-EVICT", "x"], "-ERR syntax error\r\n"),
        ]);
        assert!(c.client.no_evict);
        assert!(c.wire(&["CLIENT", "HELP"]).starts_with("*48\r\n+CLIENT <subcommand>"));
    }
}
