//! FCALL, FCALL_RO and FUNCTION LOAD / DELETE / FLUSH / LIST / DUMP / RESTORE / STATS / KILL /
//! HELP, with Redis 7.0's replies and errors. The FUNCTION commands that change libraries are
//! writes: the seam sends them to replicas and the AOF as they are.

use super::run::{self, Call};
use crate::commands::{Ctx, Reply};
use crate::script::library::Functions;
use crate::script::vm::Input;
use crate::store::serialize::rdb_functions;
use bytes::Bytes;
use slotbox_protocol::Frame;

fn fcall(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    run_fcall(ctx, args, false, "fcall")
}

fn fcall_ro(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    run_fcall(ctx, args, true, "fcall_ro")
}

fn run_fcall(ctx: &mut Ctx, args: &[Bytes], ro: bool, name: &str) -> Reply {
    run::feed_monitors(ctx, name, args);
    let shared = ctx.shared;
    let engines = shared.scripting.lock(&shared.keyspace.functions);
    let fns = &engines.functions;
    let Some(f) = fns.function(&args[1]) else { return Ok(Frame::error_static("ERR Function not found")) };
    let numkeys = run::numkeys(args, "ERR Bad number of keys provided")?;
    let (keys, argv) = (&args[3..3 + numkeys], &args[3 + numkeys..]);
    let call = Call { is_eval: false, name: &f.name, flags: f.flags, ro, keys };
    let vm = &fns.vm;
    shared.scripting.watch.set_counts(fns.library_count(), fns.function_count());
    let reply =
        run::run(ctx, call, args, |host, caller| vm.run(&f.func, Input::Args(keys, argv), host, caller, &f.name));
    Ok(reply)
}

fn function_load(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut replace = false;
    let mut pos = 2;
    while pos < args.len() - 1 {
        if !args[pos].eq_ignore_ascii_case(b"replace") {
            return Ok(Frame::error(format!("ERR Unknown option given: {}", String::from_utf8_lossy(&args[pos]))));
        }
        replace = true;
        pos += 1;
    }
    if pos >= args.len() {
        return Ok(Frame::error_static("ERR Function code is missing"));
    }
    let timeout = !ctx.client.is_master_link;
    let mut engines = ctx.shared.scripting.lock(&ctx.shared.keyspace.functions);
    match engines.functions.load(&args[pos], replace, timeout) {
        Ok(name) => {
            ctx.shared.keyspace.functions.publish(engines.functions.codes());
            Ok(Frame::Bulk(Bytes::from(name)))
        }
        Err(e) => Ok(Frame::error(format!("ERR {e}"))),
    }
}

fn function_delete(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut engines = ctx.shared.scripting.lock(&ctx.shared.keyspace.functions);
    if engines.functions.delete(&args[2]) {
        ctx.shared.keyspace.functions.publish(engines.functions.codes());
        Ok(Frame::ok())
    } else {
        Ok(Frame::error_static("ERR Library not found"))
    }
}

fn flush_mode_ok(args: &[Bytes]) -> bool {
    args.len() == 2
        || (args.len() == 3 && (args[2].eq_ignore_ascii_case(b"sync") || args[2].eq_ignore_ascii_case(b"async")))
}

/// Redis's reply to a FUNCTION subcommand given too many arguments.
fn syntax_error(sub: &[u8]) -> Frame {
    Frame::error(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try FUNCTION HELP.",
        String::from_utf8_lossy(&sub[..sub.len().min(128)])
    ))
}

fn function_flush(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return Ok(syntax_error(&args[1]));
    }
    if !flush_mode_ok(args) {
        return Ok(Frame::error_static("ERR FUNCTION FLUSH only supports SYNC|ASYNC option"));
    }
    let scripting = &ctx.shared.scripting;
    let fresh = scripting.new_functions();
    scripting.lock(&ctx.shared.keyspace.functions).functions = fresh;
    ctx.shared.keyspace.functions.publish(Vec::new());
    Ok(Frame::ok())
}

fn bulk(s: &str) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

fn function_list(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (mut with_code, mut pattern): (bool, Option<Bytes>) = (false, None);
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if !with_code && a.eq_ignore_ascii_case(b"withcode") {
            with_code = true;
        } else if pattern.is_none() && a.eq_ignore_ascii_case(b"libraryname") {
            if i >= args.len() - 1 {
                return Ok(Frame::error_static("ERR library name argument was not given"));
            }
            i += 1;
            pattern = Some(args[i].clone());
        } else {
            return Ok(Frame::error(format!("ERR Unknown argument {}", String::from_utf8_lossy(a))));
        }
        i += 1;
    }
    let engines = ctx.shared.scripting.lock(&ctx.shared.keyspace.functions);
    let mut out = Vec::new();
    for lib in engines.functions.libraries() {
        if let Some(p) = &pattern {
            if !crate::store::glob::glob_match(p, lib.name.as_bytes(), true) {
                continue;
            }
        }
        let functions = lib
            .functions
            .iter()
            .map(|f| {
                let flags = crate::script::flags::NAMES
                    .iter()
                    .filter(|(_, bit)| f.flags & bit != 0)
                    .map(|(n, _)| Frame::Simple(Bytes::from_static(n.as_bytes())))
                    .collect();
                Frame::Map(vec![
                    (bulk("name"), bulk(&f.name)),
                    (bulk("description"), f.description.clone().map_or(Frame::Null, Frame::Bulk)),
                    (bulk("flags"), Frame::Set(flags)),
                ])
            })
            .collect();
        let mut m = vec![
            (bulk("library_name"), bulk(&lib.name)),
            (bulk("engine"), bulk("LUA")),
            (bulk("functions"), Frame::Array(functions)),
        ];
        if with_code {
            m.push((bulk("library_code"), Frame::Bulk(lib.code.clone())));
        }
        out.push(Frame::Map(m));
    }
    Ok(Frame::Array(out))
}

/// FUNCTION DUMP: every library's code, in Redis 7.0's payload format
/// (`store::serialize::rdb_functions`), so real Redis can restore it and the other way round.
fn function_dump(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let engines = ctx.shared.scripting.lock(&ctx.shared.keyspace.functions);
    Ok(Frame::Bulk(Bytes::from(rdb_functions::dump(&engines.functions.codes()))))
}

fn function_restore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 4 {
        return Ok(syntax_error(&args[1]));
    }
    let policy = args.get(3).map_or(b"APPEND".to_vec(), |p| p.to_ascii_uppercase());
    if !matches!(&policy[..], b"FLUSH" | b"APPEND" | b"REPLACE") {
        return Ok(Frame::error_static(
            "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
        ));
    }
    let codes = match rdb_functions::restore(&args[2]) {
        Ok(codes) => codes,
        Err(e) => return Ok(Frame::error_static(e)),
    };
    let scripting = &ctx.shared.scripting;
    // Load into a fresh interpreter first: a bad payload changes nothing.
    let mut fresh = scripting.new_functions();
    for code in &codes {
        if let Err(e) = fresh.load(code, false, false) {
            return Ok(Frame::error(format!("ERR {e}")));
        }
    }
    let mut engines = scripting.lock(&ctx.shared.keyspace.functions);
    match &policy[..] {
        b"FLUSH" => engines.functions = fresh,
        policy => {
            if let Err(e) = merge(&mut engines.functions, &fresh, policy == b"REPLACE") {
                return Ok(Frame::error(format!("ERR {e}")));
            }
        }
    }
    ctx.shared.keyspace.functions.publish(engines.functions.codes());
    Ok(Frame::ok())
}

/// APPEND / REPLACE: add `new`'s libraries to `cur`, all or none.
fn merge(cur: &mut Functions, new: &Functions, replace: bool) -> Result<(), String> {
    for lib in new.libraries() {
        if !replace && cur.libraries().any(|l| l.name == lib.name) {
            return Err(format!("Library {} already exists", lib.name));
        }
        for f in &lib.functions {
            let owner = cur.libraries().find(|l| l.functions.iter().any(|g| g.name.eq_ignore_ascii_case(&f.name)));
            if owner.is_some_and(|l| !replace || l.name != lib.name) {
                return Err(format!("Function {} already exists", f.name));
            }
        }
    }
    for lib in new.libraries() {
        cur.load(&lib.code, replace, false)?;
    }
    Ok(())
}

fn function_stats(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(stats_reply(ctx.shared))
}

/// FUNCTION STATS (also answered while a script is busy, without the gate).
pub fn stats_reply(shared: &crate::shared::Shared) -> Frame {
    let watch = &shared.scripting.watch;
    if let Some((true, _, _, _)) = watch.running() {
        return Frame::error_static(
            "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
        );
    }
    let running = match watch.running() {
        Some((_, name, command, ms)) => Frame::Map(vec![
            (bulk("name"), bulk(&name)),
            (bulk("command"), Frame::Array(command.into_iter().map(Frame::Bulk).collect())),
            (bulk("duration_ms"), Frame::Integer(ms)),
        ]),
        None => Frame::Null,
    };
    let (libs, fns) = match shared.scripting.engines.try_lock() {
        Some(e) => (e.functions.library_count(), e.functions.function_count()),
        None => shared.scripting.watch.counts(),
    };
    Frame::Map(vec![
        (bulk("running_script"), running),
        (
            bulk("engines"),
            Frame::Map(vec![(
                bulk("LUA"),
                Frame::Map(vec![
                    (bulk("libraries_count"), Frame::Integer(libs as i64)),
                    (bulk("functions_count"), Frame::Integer(fns as i64)),
                ]),
            )]),
        ),
    ])
}

fn function_kill(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(super::eval::kill_reply(ctx.shared.scripting.watch.request_kill(false)))
}

const FUNCTION_HELP: &[&str] = &[
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
];

fn function_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(Frame::Array(FUNCTION_HELP.iter().map(|l| Frame::Simple(Bytes::from_static(l.as_bytes()))).collect()))
}

pub const COMMANDS: crate::commands::Registration = &[
    ("fcall", fcall),
    ("fcall_ro", fcall_ro),
    ("function|load", function_load),
    ("function|delete", function_delete),
    ("function|flush", function_flush),
    ("function|list", function_list),
    ("function|dump", function_dump),
    ("function|restore", function_restore),
    ("function|stats", function_stats),
    ("function|kill", function_kill),
    ("function|help", function_help),
];
