//! The CONFIG container: GET (several names or glob patterns, aliases listed as names of their
//! own, hidden directives by exact name only), SET (several pairs at once, all or nothing),
//! RESETSTAT, REWRITE and HELP, with Redis 7.0's replies and errors. The directives (names,
//! kinds, checks, where values live) are the config module's table; this file drives it and
//! applies what needs more than a new value (listening sockets).

use super::args;
use super::client_cmd::help_reply;
use super::{Ctx, Registration};
use crate::commands::Reply;
use crate::config::directives::{self, lookup, Named, PROTECTED};
use crate::config::{rewrite, Config, Directive};
use crate::store::glob::glob_match;
use bytes::Bytes;
use slotbox_protocol::Frame;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::Ordering;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `CONFIG GET parameter [parameter ...]`: a map (a flat array in RESP2) of every directive
/// a pattern matches. A plain name is echoed as it was typed.
fn config_get(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut found: Vec<(String, &'static Directive)> = Vec::new();
    let seen = |found: &[(String, &Directive)], name: &str| found.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    for pattern in &args[2..] {
        let name = text(pattern);
        if !name.contains(['[', '*', '?']) {
            if let Some(n) = lookup(&name).filter(|_| !seen(&found, &name)) {
                found.push((name, n.directive));
            }
            continue;
        }
        for n in directives::names().filter(|n| !n.hidden) {
            if !seen(&found, n.name) && glob_match(pattern, n.name.as_bytes(), true) {
                found.push((n.name.to_string(), n.directive));
            }
        }
    }
    let config = ctx.shared.config.read();
    let reply = found.into_iter().map(|(k, d)| (Frame::bulk(k), Frame::bulk(d.kind.show(&config.value(d)))));
    Ok(Frame::Map(reply.collect()))
}

fn set_failed(name: &str, reason: &str) -> Frame {
    Frame::error(format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}"))
}

/// Redis's `allowProtectedAction`: `yes`, or `local` for a client on 127.0.0.1 / ::1.
fn protected_allowed(setting: &str, peer: IpAddr) -> bool {
    match setting {
        "yes" => true,
        "local" => matches!(peer, IpAddr::V4(Ipv4Addr::LOCALHOST) | IpAddr::V6(Ipv6Addr::LOCALHOST)),
        _ => false,
    }
}

/// The directives of a CONFIG SET, checked as Redis checks them before any value is read:
/// known, mutable, not protected from this client, not given twice. The first problem is the
/// error.
fn set_targets(ctx: &Ctx, args: &[Bytes]) -> Result<Vec<(Named, String)>, Frame> {
    let protection = ctx.shared.config.read().enable_protected_configs.clone();
    let mut targets: Vec<(Named, String)> = Vec::new();
    for pair in args[2..].chunks(2) {
        let typed = text(&pair[0]);
        let Some(n) = lookup(&typed) else {
            return Err(Frame::error(format!("ERR Unknown option or number of arguments for CONFIG SET - '{typed}'")));
        };
        if !n.directive.mutable() {
            return Err(set_failed(&typed, "can't set immutable config"));
        }
        if n.directive.has(PROTECTED) && !protected_allowed(&protection, ctx.client.info.addr.ip()) {
            return Err(set_failed(&typed, "can't set protected config"));
        }
        // An alias and its directive are two names to Redis: setting both is no duplicate.
        if targets.iter().any(|(t, _)| t.name == n.name) {
            return Err(set_failed(&typed, "duplicate parameter"));
        }
        targets.push((n, text(&pair[1])));
    }
    Ok(targets)
}

/// The words of a CONFIG SET value: the whole value for a single-valued directive, else the
/// value split on single spaces (Redis's `sdssplitlen`; empty is no words).
fn set_words(d: &Directive, value: &str) -> Vec<String> {
    if !d.kind.multi() {
        vec![value.to_string()]
    } else if value.is_empty() {
        Vec::new()
    } else {
        value.split(' ').map(str::to_string).collect()
    }
}

/// `CONFIG SET parameter value [parameter value ...]`: every value is read into a copy of the
/// config; the server's config changes only if all are valid and applied. (No lock is held
/// while the listening sockets change: the config lock is a leaf lock, `crate::gate`.)
fn config_set(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if !args.len().is_multiple_of(2) {
        return Ok(args::syntax_error());
    }
    let targets = match set_targets(ctx, args) {
        Ok(t) => t,
        Err(e) => return Ok(e),
    };
    let old = ctx.shared.config.read().clone();
    let mut next = old.clone();
    for (n, value) in &targets {
        let d = n.directive;
        match d.parse(&set_words(d, value), &next.value(d)) {
            Ok(v) => next.set_value(d, v),
            Err(reason) => return Ok(set_failed(n.name, &reason)),
        }
    }
    // What Redis's apply step does to a value: a backlog is at least 16kb.
    next.repl_backlog_size = next.repl_backlog_size.max(REPL_BACKLOG_MIN_SIZE);
    if let Err((name, reason)) = apply_listeners(ctx, &old, &next, &targets) {
        return Ok(set_failed(name, reason));
    }
    {
        // Only the directives set here change: a concurrent CONFIG SET of others is kept.
        let mut config = ctx.shared.config.write();
        for (n, _) in &targets {
            config.set_value(n.directive, next.value(n.directive));
        }
    }
    ctx.shared.config_changed();
    Ok(Frame::ok())
}

/// The smallest replication backlog CONFIG SET leaves (Redis's `CONFIG_REPL_BACKLOG_MIN_SIZE`).
const REPL_BACKLOG_MIN_SIZE: usize = 16 * 1024;

/// A new `port` or `bind`: listen there instead (the old sockets stay if that fails).
fn apply_listeners(
    ctx: &Ctx,
    old: &Config,
    next: &Config,
    targets: &[(Named, String)],
) -> Result<(), (&'static str, &'static str)> {
    let (port_changed, bind_changed) = (old.port != next.port, old.bind != next.bind);
    if !port_changed && !bind_changed {
        return Ok(());
    }
    let Some(listeners) = ctx.shared.listeners.get() else { return Ok(()) };
    match listeners.rebind(&next.bind, next.port) {
        Ok(port) => {
            ctx.shared.tcp_port.store(port as u64, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => {
            crate::log::warning(&format!("Failed to listen on the new address / port: {e}"));
            let first = targets.iter().map(|(n, _)| n.directive.name).find(|n| *n == "port" || *n == "bind");
            match first {
                Some("bind") => Err(("bind", "Failed to bind to specified addresses.")),
                _ => Err(("port", "Unable to listen on this port. Check server logs.")),
            }
        }
    }
}

/// `CONFIG RESETSTAT`: zero the INFO stats counters.
fn config_resetstat(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    ctx.shared.stats.reset();
    ctx.shared.cmdstats.reset();
    ctx.shared.cmdlatency.reset();
    ctx.shared.lazyfree.reset_stats();
    ctx.shared.errorstats.reset();
    ctx.shared.keyspace.expired_keys.store(0, Ordering::Relaxed);
    Ok(Frame::ok())
}

/// `CONFIG REWRITE`: write the running configuration back to the file it was read from.
fn config_rewrite(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let config = ctx.shared.config.read().clone();
    let Some(path) = config.config_file.clone() else {
        return Ok(Frame::error_static("ERR The server is running without a config file"));
    };
    Ok(match rewrite::rewrite_file(&config, &path) {
        Ok(()) => {
            crate::log::warning("CONFIG REWRITE executed with success.");
            Frame::ok()
        }
        Err(e) => {
            crate::log::warning(&format!("CONFIG REWRITE failed: {e}"));
            Frame::error(format!("ERR Rewriting config file: {}", strerror(&e)))
        }
    })
}

/// An I/O error as C's `strerror` words it.
fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_string()
}

const CONFIG_HELP: &[&str] = &[
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
];

fn config_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(help_reply(CONFIG_HELP))
}

pub const COMMANDS: Registration = &[
    ("config|get", config_get),
    ("config|set", config_set),
    ("config|resetstat", config_resetstat),
    ("config|rewrite", config_rewrite),
    ("config|help", config_help),
];

#[cfg(test)]
#[path = "config_cmd_tests.rs"]
mod tests;
