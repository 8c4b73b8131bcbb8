//! COMMAND and its subcommands (COUNT, INFO, DOCS, GETKEYS, LIST, HELP): the command table
//! rendered in Redis 7.0's reply shapes. Only commands with a handler (see
//! [`super::registered`]) are reported, so clients never learn of a command that would fail
//! with "unknown command". The table has no command tips, argument docs or history: those
//! fields are empty or absent.

use super::args::{self, is};
use super::client_cmd::help_reply;
use super::{registered, Ctx, Registration};
use crate::commands::Reply;
use crate::store::glob::glob_match;
use bytes::Bytes;
use slotbox_protocol::command::{self, flags, BeginSearch, CommandSpec, FindKeys, KeySpec};
use slotbox_protocol::Frame;

/// Command flags in the order Redis 7.0 prints them (`may_replicate` is hidden there);
/// `None` stands for `movablekeys`, which is derived from the key specs.
const FLAG_ORDER: &[(Option<u32>, &str)] = &[
    (Some(flags::WRITE), "write"),
    (Some(flags::READONLY), "readonly"),
    (Some(flags::DENYOOM), "denyoom"),
    (Some(flags::ADMIN), "admin"),
    (Some(flags::PUBSUB), "pubsub"),
    (Some(flags::NOSCRIPT), "noscript"),
    (Some(flags::BLOCKING), "blocking"),
    (Some(flags::LOADING), "loading"),
    (Some(flags::STALE), "stale"),
    (Some(flags::SKIP_MONITOR), "skip_monitor"),
    (Some(flags::SKIP_SLOWLOG), "skip_slowlog"),
    (Some(flags::FAST), "fast"),
    (Some(flags::NO_AUTH), "no_auth"),
    (Some(flags::NO_MANDATORY_KEYS), "no_mandatory_keys"),
    (Some(flags::NO_ASYNC_LOADING), "no_async_loading"),
    (Some(flags::NO_MULTI), "no_multi"),
    (None, "movablekeys"),
    (Some(flags::ALLOW_BUSY), "allow_busy"),
];

/// A registered command or subcommand found by its full name ("get", "client|list").
struct Found {
    full: String,
    spec: &'static CommandSpec,
    /// Registered subcommands (empty for a subcommand).
    subs: Vec<&'static CommandSpec>,
}

/// Every registered top-level command with its registered subcommands.
fn all() -> Vec<Found> {
    registered().into_iter().map(|(spec, subs)| Found { full: spec.name.to_string(), spec, subs }).collect()
}

fn find(name: &[u8]) -> Option<Found> {
    let name = String::from_utf8_lossy(name).to_ascii_lowercase();
    let (top, sub) = match name.split_once('|') {
        Some((t, s)) => (t, Some(s)),
        None => (name.as_str(), None),
    };
    let (spec, subs) = registered().into_iter().find(|(s, _)| s.name == top)?;
    match sub {
        None => Some(Found { full: spec.name.to_string(), spec, subs }),
        Some(s) => {
            let sspec = subs.into_iter().find(|x| x.name == s)?;
            Some(Found { full: format!("{}|{}", spec.name, sspec.name), spec: sspec, subs: Vec::new() })
        }
    }
}

fn bulk(s: &str) -> Frame {
    Frame::bulk(Bytes::copy_from_slice(s.as_bytes()))
}

fn simple(s: &str) -> Frame {
    Frame::Simple(Bytes::copy_from_slice(s.as_bytes()))
}

fn pair(k: &'static str, v: Frame) -> (Frame, Frame) {
    (Frame::bulk_static(k), v)
}

fn flag_set(spec: &CommandSpec) -> Frame {
    let movable = spec.movable_keys();
    let names = FLAG_ORDER.iter().filter(|(f, _)| match f {
        Some(bit) => spec.has(*bit),
        None => movable,
    });
    Frame::Set(names.map(|(_, n)| Frame::simple_static(n)).collect())
}

fn begin_search(b: &BeginSearch) -> Frame {
    let (kind, spec) = match *b {
        BeginSearch::Index(i) => ("index", vec![pair("index", Frame::Integer(i as i64))]),
        BeginSearch::Keyword { keyword, start_from } => (
            "keyword",
            vec![pair("keyword", Frame::bulk_static(keyword)), pair("startfrom", Frame::Integer(start_from.into()))],
        ),
        BeginSearch::Unknown => ("unknown", Vec::new()),
    };
    Frame::Map(vec![pair("type", Frame::bulk_static(kind)), pair("spec", Frame::Map(spec))])
}

fn find_keys(f: &FindKeys) -> Frame {
    let int = |v: i64| Frame::Integer(v);
    let (kind, spec) = match *f {
        FindKeys::Range { last_key, step, limit } => (
            "range",
            vec![
                pair("lastkey", int(last_key.into())),
                pair("keystep", int(step as i64)),
                pair("limit", int(limit as i64)),
            ],
        ),
        FindKeys::Keynum { keynum_idx, first_key, step } => (
            "keynum",
            vec![
                pair("keynumidx", int(keynum_idx as i64)),
                pair("firstkey", int(first_key as i64)),
                pair("keystep", int(step as i64)),
            ],
        ),
        FindKeys::Unknown => ("unknown", Vec::new()),
    };
    Frame::Map(vec![pair("type", Frame::bulk_static(kind)), pair("spec", Frame::Map(spec))])
}

fn key_spec(ks: &KeySpec) -> Frame {
    let mut fields = Vec::with_capacity(4);
    if !ks.notes.is_empty() {
        fields.push(pair("notes", bulk(ks.notes)));
    }
    fields.push(pair("flags", Frame::Set(ks.flags.iter().map(|f| Frame::simple_static(f)).collect())));
    fields.push(pair("begin_search", begin_search(&ks.begin)));
    fields.push(pair("find_keys", find_keys(&ks.find)));
    Frame::Map(fields)
}

/// One command's `COMMAND INFO` entry (10 fields, Redis 7.0 shape).
fn info_entry(full: &str, spec: &CommandSpec, subs: &[&'static CommandSpec]) -> Frame {
    let (first, last, step) = spec.legacy_range();
    let subcommands = if subs.is_empty() {
        Frame::Set(Vec::new())
    } else {
        Frame::Array(subs.iter().map(|s| info_entry(&format!("{full}|{}", s.name), s, &[])).collect())
    };
    Frame::Array(vec![
        bulk(full),
        Frame::Integer(spec.arity.into()),
        flag_set(spec),
        Frame::Integer(first),
        Frame::Integer(last),
        Frame::Integer(step),
        Frame::Set(spec.acl.iter().map(|c| simple(&format!("@{c}"))).collect()),
        Frame::Set(Vec::new()),
        Frame::Set(spec.key_specs.iter().map(key_spec).collect()),
        subcommands,
    ])
}

/// One command's `COMMAND DOCS` map.
fn docs_entry(full: &str, spec: &CommandSpec, subs: &[&'static CommandSpec]) -> Frame {
    let mut m =
        vec![pair("summary", bulk(spec.summary)), pair("since", bulk(spec.since)), pair("group", bulk(spec.group))];
    if !spec.complexity.is_empty() {
        m.push(pair("complexity", bulk(spec.complexity)));
    }
    if !subs.is_empty() {
        let docs = subs.iter().map(|s| {
            let name = format!("{full}|{}", s.name);
            let d = docs_entry(&name, s, &[]);
            (bulk(&name), d)
        });
        m.push(pair("subcommands", Frame::Map(docs.collect())));
    }
    Frame::Map(m)
}

/// `COMMAND` (no arguments): every command's info.
fn command(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(Frame::Array(all().iter().map(|f| info_entry(&f.full, f.spec, &f.subs)).collect()))
}

fn command_count(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(Frame::Integer(registered().len() as i64))
}

/// `COMMAND INFO [name ...]`: a null entry for each unknown name.
fn command_info(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() == 2 {
        return command(ctx, args);
    }
    let entries = args[2..].iter().map(|n| match find(n) {
        Some(f) => info_entry(&f.full, f.spec, &f.subs),
        None => Frame::Null,
    });
    Ok(Frame::Array(entries.collect()))
}

/// `COMMAND DOCS [name ...]`: unknown names are left out.
fn command_docs(_ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let found: Vec<Found> = if args.len() == 2 { all() } else { args[2..].iter().filter_map(|n| find(n)).collect() };
    Ok(Frame::Map(found.iter().map(|f| (bulk(&f.full), docs_entry(&f.full, f.spec, &f.subs))).collect()))
}

/// The spec `lookupCommand` would pick for a full request: a subcommand when the container
/// has any and one is named, else the command itself. Key positions are pure table data, so
/// this consults the whole table, registered or not.
fn target_spec(target: &[Bytes]) -> Option<&'static CommandSpec> {
    let spec = command::lookup(&target[0])?;
    if spec.subcommands.is_empty() || target.len() == 1 {
        return Some(spec);
    }
    spec.subcommand(&target[1])
}

/// The keys of the request after `COMMAND GETKEYS` / `GETKEYSANDFLAGS` (positions in it, with
/// their key-spec flags), or the error Redis gives for it.
fn request_keys(args: &[Bytes]) -> Result<Vec<(usize, Vec<&'static str>)>, Frame> {
    let target = &args[2..];
    let Some(spec) = target_spec(target) else {
        return Err(Frame::error_static("ERR Invalid command specified"));
    };
    if !spec.key_specs.iter().any(|ks| !ks.flags.contains(&"not_key")) {
        return Err(Frame::error_static("ERR The command has no key arguments"));
    }
    if !spec.arity_ok(target.len()) {
        return Err(Frame::error_static("ERR Invalid number of arguments specified for command"));
    }
    let keys = command::extract_keys_with_flags(spec, target);
    if keys.is_empty() && !spec.has(flags::NO_MANDATORY_KEYS) {
        return Err(Frame::error_static("ERR Invalid arguments specified for command"));
    }
    Ok(keys)
}

/// `COMMAND GETKEYS command [arg ...]`.
fn command_getkeys(_ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let keys = request_keys(args)?;
    Ok(Frame::Array(keys.into_iter().map(|(i, _)| Frame::Bulk(args[2 + i].clone())).collect()))
}

/// `COMMAND GETKEYSANDFLAGS command [arg ...]`: each key with its key-spec flags.
fn command_getkeysandflags(_ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let keys = request_keys(args)?;
    Ok(Frame::Array(
        keys.into_iter()
            .map(|(i, f)| {
                let shown = f.into_iter().map(|f| Frame::Simple(Bytes::from_static(f.as_bytes()))).collect();
                Frame::Array(vec![Frame::Bulk(args[2 + i].clone()), Frame::Set(shown)])
            })
            .collect(),
    ))
}

/// A `COMMAND LIST FILTERBY` filter.
enum ListFilter {
    None,
    Module,
    AclCat(String),
    Pattern(Bytes),
}

impl ListFilter {
    fn keeps(&self, full: &str, spec: &CommandSpec) -> bool {
        match self {
            ListFilter::None => true,
            ListFilter::Module => false,
            ListFilter::AclCat(c) => spec.acl.iter().any(|a| a.eq_ignore_ascii_case(c)),
            ListFilter::Pattern(p) => glob_match(p, full.as_bytes(), true),
        }
    }
}

fn parse_list_filter(args: &[Bytes]) -> Result<ListFilter, Frame> {
    let mut filter = ListFilter::None;
    let mut i = 2;
    while i < args.len() {
        if !(is(&args[i], "filterby") && args.len() - 1 - i == 2) {
            return Err(args::syntax_error());
        }
        let (kind, arg) = (&args[i + 1], &args[i + 2]);
        filter = if is(kind, "module") {
            ListFilter::Module
        } else if is(kind, "aclcat") {
            ListFilter::AclCat(String::from_utf8_lossy(arg).into_owned())
        } else if is(kind, "pattern") {
            ListFilter::Pattern(arg.clone())
        } else {
            return Err(args::syntax_error());
        };
        i += 3;
    }
    Ok(filter)
}

/// `COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]`: full names,
/// subcommands included.
fn command_list(_ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let filter = parse_list_filter(args)?;
    let mut out = Vec::new();
    for f in all() {
        if filter.keeps(&f.full, f.spec) {
            out.push(bulk(&f.full));
        }
        for s in &f.subs {
            let full = format!("{}|{}", f.full, s.name);
            if filter.keeps(&full, s) {
                out.push(bulk(&full));
            }
        }
    }
    Ok(Frame::Array(out))
}

const COMMAND_HELP: &[&str] = &[
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
];

fn command_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(help_reply(COMMAND_HELP))
}

pub const COMMANDS: Registration = &[
    ("command", command),
    ("command|count", command_count),
    ("command|info", command_info),
    ("command|docs", command_docs),
    ("command|getkeys", command_getkeys),
    ("command|getkeysandflags", command_getkeysandflags),
    ("command|list", command_list),
    ("command|help", command_help),
];

#[cfg(test)]
mod tests {
    use super::super::connection::testing::TestClient;
    use super::super::registered;
    use slotbox_protocol::Frame;

    #[test]
    fn count_equals_registered() {
        let mut c = TestClient::new();
        assert_eq!(c.run(&["COMMAND", "COUNT"]), Frame::Integer(registered().len() as i64));
        let Frame::Array(all) = c.run(&["COMMAND", "INFO"]) else { panic!() };
        assert_eq!(all.len(), registered().len());
    }

    #[test]
    fn getkeys() {
        let no_keys = "-ERR The command has no key arguments\r\n";
        let invalid = "-ERR Invalid command specified\r\n";
        TestClient::new().expect(&[
            (&["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"], "*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
            (&["COMMAND", "GETKEYS", "nosuch", "a"], invalid),
            (&["COMMAND", "GETKEYS", "config", "nosuch"], invalid),
            (&["COMMAND", "GETKEYS", "ping", "a"], no_keys),
            (&["COMMAND", "GETKEYS", "config", "get", "x"], no_keys),
            (&["COMMAND", "GETKEYS", "spublish", "a", "b"], no_keys),
            (&["COMMAND", "GETKEYS", "get"], "-ERR wrong number of arguments for 'command|getkeys' command\r\n"),
            (&["COMMAND", "GETKEYS", "get", "a", "b"], "-ERR Invalid number of arguments specified for command\r\n"),
            (&["COMMAND", "GETKEYS", "object", "encoding", "k"], "*1\r\n$1\r\nk\r\n"),
            (&["COMMAND", "GETKEYS", "eval", "x", "0"], "*0\r\n"),
            (&["COMMAND", "GETKEYS", "zunionstore", "d", "5", "a"], "-ERR Invalid arguments specified for command\r\n"),
        ]);
    }

    #[test]
    fn info_shape() {
        let mut c = TestClient::new();
        let want = "*1\r\n*10\r\n$9\r\nclient|id\r\n:2\r\n*3\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n\
                    *2\r\n+@slow\r\n+@connection\r\n*0\r\n*0\r\n*0\r\n";
        assert_eq!(c.wire(&["COMMAND", "INFO", "client|id"]), want);
        assert_eq!(c.wire(&["COMMAND", "INFO", "nosuch"]), "*1\r\n$-1\r\n");
        let hello = c.wire(&["COMMAND", "INFO", "hello"]);
        assert!(hello.contains("+noscript\r\n+loading\r\n+stale\r\n+fast\r\n+no_auth\r\n+allow_busy\r\n"), "{hello}");
        c.run(&["HELLO", "3"]);
        let cfg = c.wire(&["COMMAND", "INFO", "config"]);
        assert!(
            cfg.starts_with(
                "*1\r\n*10\r\n$6\r\nconfig\r\n:-2\r\n~0\r\n:0\r\n:0\r\n:0\r\n~1\r\n+@slow\r\n~0\r\n~0\r\n*"
            ),
            "{cfg}"
        );
        assert_eq!(c.wire(&["COMMAND", "INFO", "nosuch"]), "*1\r\n_\r\n");
    }

    #[test]
    fn docs_and_list() {
        let mut c = TestClient::new();
        let want = "*2\r\n$9\r\nclient|id\r\n*8\r\n$7\r\nsummary\r\n$48\r\nReturns the client ID for the current connection\r\n\
                    $5\r\nsince\r\n$5\r\n5.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n";
        c.expect(&[
            (&["COMMAND", "DOCS", "client|id", "nosuch"], want),
            (
                &["COMMAND", "LIST", "FILTERBY", "PATTERN", "client|*name"],
                "*2\r\n$14\r\nclient|getname\r\n$14\r\nclient|setname\r\n",
            ),
            (&["COMMAND", "LIST", "FILTERBY", "module", "x"], "*0\r\n"),
            (&["COMMAND", "LIST", "FILTERBY", "foo", "x"], "-ERR syntax error\r\n"),
            (&["COMMAND", "nosuch"], "-ERR unknown subcommand 'nosuch'. Try COMMAND HELP.\r\n"),
        ]);
        assert!(c.wire(&["COMMAND", "DOCS", "config"]).contains("$11\r\nsubcommands\r\n*"));
        let by_acl = c.wire(&["COMMAND", "LIST", "FILTERBY", "aclcat", "connection"]);
        assert!(by_acl.contains("$4\r\nping\r\n"));
        assert!(c.wire(&["COMMAND", "HELP"]).starts_with("*21\r\n"));
    }
}
