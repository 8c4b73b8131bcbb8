//! The CONFIG container: GET (glob patterns over directive names and aliases), SET (several
//! pairs at once, all or nothing), RESETSTAT, REWRITE and HELP, with Redis 7.0's replies.
//! The directives themselves (names, parsing, mutability) are the config module's table;
//! this file only drives it.

use super::args;
use super::client_cmd::help_reply;
use super::{Ctx, Registration};
use crate::commands::Reply;
use crate::config::{Config, Directive, DIRECTIVES};
use crate::store::glob::glob_match;
use bytes::Bytes;
use slotbox_protocol::Frame;
use std::io;
use std::path::Path;
use std::sync::atomic::Ordering;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `CONFIG GET parameter [parameter ...]`: a map (a flat array in RESP2) of every directive
/// a pattern matches. A plain name also finds an alias and is echoed as it was typed.
fn config_get(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut found: Vec<(String, &'static Directive)> = Vec::new();
    let seen = |found: &[(String, &Directive)], name: &str| found.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    for pattern in &args[2..] {
        let name = text(pattern);
        if !name.contains(['[', '*', '?']) {
            if let Some(d) = Config::directive(&name).filter(|_| !seen(&found, &name)) {
                found.push((name, d));
            }
            continue;
        }
        for d in DIRECTIVES {
            for n in d.alias.into_iter().chain([d.name]) {
                if !seen(&found, n) && glob_match(pattern, n.as_bytes(), true) {
                    found.push((n.to_string(), d));
                }
            }
        }
    }
    let config = ctx.shared.config.read();
    Ok(Frame::Map(found.into_iter().map(|(k, d)| (Frame::bulk(k), Frame::bulk((d.get)(&config)))).collect()))
}

/// Apply one CONFIG SET value. Multi-word directives (`save`, `bind`) take the value split
/// on spaces, as Redis does; others take it whole (a password may contain spaces).
fn set_value(config: &mut Config, d: &Directive, value: &str) -> Result<(), String> {
    let words: Vec<String> = value.split_ascii_whitespace().map(str::to_string).collect();
    if words.len() != 1 || words[0] != value {
        let mut trial = config.clone();
        if (d.set)(&mut trial, &words).is_ok() {
            *config = trial;
            return Ok(());
        }
    }
    (d.set)(config, &[value.to_string()])
}

fn set_failed(name: &str, reason: &str) -> Frame {
    Frame::error(format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}"))
}

/// `CONFIG SET parameter value [parameter value ...]`: every pair is checked and applied to
/// a copy first; the server's config changes only if all of them succeed.
fn config_set(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if !args.len().is_multiple_of(2) {
        return Ok(args::syntax_error());
    }
    let mut pairs: Vec<(&'static Directive, String, String)> = Vec::new();
    for pair in args[2..].chunks(2) {
        let name = text(&pair[0]);
        let Some(d) = Config::directive(&name) else {
            return Ok(Frame::error(format!("ERR Unknown option or number of arguments for CONFIG SET - '{name}'")));
        };
        if !d.mutable {
            return Ok(set_failed(&name, "can't set immutable config"));
        }
        if pairs.iter().any(|(seen, _, _)| std::ptr::eq(*seen, d)) {
            return Ok(set_failed(&name, "duplicate parameter"));
        }
        pairs.push((d, name, text(&pair[1])));
    }
    let mut config = ctx.shared.config.write();
    let mut next = config.clone();
    for (d, name, value) in &pairs {
        if let Err(reason) = set_value(&mut next, d, value) {
            return Ok(set_failed(name, &reason));
        }
    }
    *config = next;
    drop(config);
    ctx.shared.config_changed();
    Ok(Frame::ok())
}

/// `CONFIG RESETSTAT`: zero the INFO stats counters.
fn config_resetstat(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    ctx.shared.stats.reset();
    ctx.shared.cmdstats.reset();
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
    Ok(match rewrite_file(&config, &path) {
        Ok(()) => Frame::ok(),
        Err(e) => Frame::error(format!("ERR Rewriting config file: {e}")),
    })
}

/// A value as a config line writes it: the first of bare, each word double-quoted, or the
/// whole value double-quoted that the parser reads back to the same value (`CONFIG GET`
/// joins list values with spaces, so their words are not always the original arguments).
fn config_value(d: &Directive, value: &str) -> String {
    let bare = value.to_string();
    let words = value.split(' ').map(quoted).collect::<Vec<_>>().join(" ");
    [bare, words].into_iter().find(|line| reads_back(d, line, value)).unwrap_or_else(|| quoted(value))
}

/// Does `line`, after the directive name, set the directive to `value`? (One line, and the
/// file reader trims lines.)
fn reads_back(d: &Directive, line: &str, value: &str) -> bool {
    if line.contains(['\n', '\r']) || line.trim_end() != line {
        return false;
    }
    let Some(words) = slotbox_protocol::decode::split_args(line.as_bytes()) else { return false };
    let words: Vec<String> = words.into_iter().map(|w| text(&w)).collect();
    let mut c = Config::default();
    !words.is_empty() && (d.set)(&mut c, &words).is_ok() && (d.get)(&c) == value
}

/// `s` in double quotes with C escapes, as `split_args` reads it back whole.
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The directive a config file line sets, read as the file reader reads it (trimmed, `#`
/// comments, the first of `split_args`'s words, which a NUL or quotes can change).
fn directive_of(line: &str) -> Option<&'static Directive> {
    let line = line.trim();
    if line.starts_with('#') {
        return None;
    }
    let words = slotbox_protocol::decode::split_args(line.as_bytes())?;
    Config::directive(&text(words.first()?))
}

/// The rewritten file text: known directives keep their place (first occurrence, later
/// duplicates dropped), comments and unknown lines stay, and directives the file lacks are
/// appended when they differ from the default. Public as the entry point of the config
/// fuzz target (a rewritten config must load back to the same values).
pub fn rewritten_text(config: &Config, old: &str) -> String {
    let line_for = |d: &Directive| format!("{} {}", d.name, config_value(d, &(d.get)(config)));
    let mut out: Vec<String> = Vec::new();
    let mut written: Vec<&'static str> = Vec::new();
    for line in old.lines() {
        match directive_of(line) {
            Some(d) if written.contains(&d.name) => {}
            Some(d) => {
                written.push(d.name);
                out.push(line_for(d));
            }
            None => out.push(line.to_string()),
        }
    }
    let defaults = Config::default();
    let mut header = false;
    for d in DIRECTIVES.iter().filter(|d| !written.contains(&d.name)) {
        if (d.get)(config) == (d.get)(&defaults) {
            continue;
        }
        if !header {
            out.push("# Generated by CONFIG REWRITE".to_string());
            header = true;
        }
        out.push(line_for(d));
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

/// Replace the file atomically (write a sibling, then rename over it).
fn rewrite_file(config: &Config, path: &Path) -> io::Result<()> {
    let old = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let tmp = path.with_extension(format!("rewrite-{}.tmp", std::process::id()));
    std::fs::write(&tmp, rewritten_text(config, &old))?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
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
mod tests {
    use super::super::connection::testing::TestClient;
    use super::*;

    #[test]
    fn get_maxclients() {
        let mut c = TestClient::new();
        assert_eq!(c.wire(&["CONFIG", "GET", "maxclients"]), "*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n");
        assert_eq!(c.wire(&["CONFIG", "GET", "MAXCLIENTS", "maxc*"]), "*2\r\n$10\r\nMAXCLIENTS\r\n$5\r\n10000\r\n");
        assert_eq!(c.wire(&["CONFIG", "GET", "nosuch"]), "*0\r\n");
        let ro = c.wire(&["CONFIG", "GET", "*read-only"]);
        assert!(ro.starts_with("*4\r\n$15\r\nslave-read-only\r\n$3\r\nyes\r\n$17\r\nreplica-read-only"), "{ro}");
        c.run(&["HELLO", "3"]);
        assert_eq!(c.wire(&["CONFIG", "GET", "hz"]), "%1\r\n$2\r\nhz\r\n$2\r\n10\r\n");
    }

    #[test]
    fn set_then_get() {
        let mut c = TestClient::new();
        assert_eq!(c.wire(&["CONFIG", "SET", "maxclients", "77", "hz", "20"]), "+OK\r\n");
        assert_eq!(c.wire(&["CONFIG", "GET", "maxclients"]), "*2\r\n$10\r\nmaxclients\r\n$2\r\n77\r\n");
        assert_eq!(c.shared.config.read().hz, 20);
        assert_eq!(c.wire(&["CONFIG", "SET", "save", "3600 1 300 100"]), "+OK\r\n");
        assert_eq!(c.shared.config.read().save, "3600 1 300 100");
        assert_eq!(c.wire(&["CONFIG", "SET", "requirepass", "a b"]), "+OK\r\n");
        assert_eq!(c.shared.config.read().requirepass.as_deref(), Some(&b"a b"[..]));
        assert_eq!(c.wire(&["CONFIG", "SET", "requirepass", ""]), "+OK\r\n");
        assert_eq!(c.shared.config.read().requirepass, None);
    }

    #[test]
    fn set_errors_change_nothing() {
        let mut c = TestClient::new();
        let wire = c.wire(&["CONFIG", "SET", "nosuch", "1"]);
        assert_eq!(wire, "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n");
        assert_eq!(
            c.wire(&["CONFIG", "SET", "maxclients", "abc"]),
            "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer\r\n"
        );
        assert_eq!(
            c.wire(&["CONFIG", "SET", "hz", "30", "maxclients", "1", "MAXCLIENTS", "2"]),
            "-ERR CONFIG SET failed (possibly related to argument 'MAXCLIENTS') - duplicate parameter\r\n"
        );
        assert_eq!(
            c.wire(&["CONFIG", "SET", "daemonize", "no"]),
            "-ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config\r\n"
        );
        assert_eq!(
            c.wire(&["CONFIG", "SET", "hz", "30", "appendonly", "maybe"]).split(" - ").nth(1),
            Some("argument must be 'yes' or 'no'\r\n")
        );
        assert_eq!(c.shared.config.read().hz, 10);
        assert_eq!(c.wire(&["CONFIG", "SET", "hz", "1", "x"]), "-ERR syntax error\r\n");
    }

    #[test]
    fn resetstat_rewrite_help() {
        let mut c = TestClient::new();
        c.shared.stats.total_commands_processed.store(99, Ordering::Relaxed);
        assert_eq!(c.wire(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
        assert!(c.shared.stats.total_commands_processed.load(Ordering::Relaxed) <= 1);
        assert_eq!(c.wire(&["CONFIG", "REWRITE"]), "-ERR The server is running without a config file\r\n");
        assert!(c.wire(&["CONFIG", "HELP"]).starts_with("*11\r\n+CONFIG <subcommand>"));
    }

    #[test]
    fn rewrite_keeps_comments_and_updates_values() {
        let mut config = Config { hz: 42, maxclients: 5, requirepass: Some(b"p w".to_vec()), ..Config::default() };
        config.save = String::new();
        let old = "# my conf\nhz 10\nunknown-thing 1\nhz 11\nsave 60 1\n";
        let text = rewritten_text(&config, old);
        assert!(
            text.starts_with("# my conf\nhz 42\nunknown-thing 1\nsave \"\"\n# Generated by CONFIG REWRITE\n"),
            "{text}"
        );
        assert!(text.contains("\nmaxclients 5\n") && text.contains("\nrequirepass \"p w\"\n"), "{text}");
        let mut back = Config::default();
        back.load_str(&text.replace("unknown-thing 1\n", ""), "t").unwrap();
        assert_eq!((back.hz, back.maxclients, back.save.as_str()), (42, 5, ""));
        assert_eq!(back.requirepass.as_deref(), Some(&b"p w"[..]));
    }

    /// Found by fuzzing (server_config): `bind a ""` was rewritten as `bind a ` (CONFIG GET
    /// joins the list), which loads as `bind a`; `replicaof` with a quote in the host was
    /// quoted whole, which does not load at all. A rewritten value now reads back the same.
    #[test]
    fn rewritten_values_read_back_the_same() {
        let text = "bind 127.0.0.1 :ir .\x0bsave \"\"\nreplicaof 'h\"st' 7000\nrequirepass \"pw\u{a0}\"\n";
        let mut config = Config::default();
        config.load_str(text, "t").unwrap();
        let rewritten = rewritten_text(&config, text);
        let mut back = Config::default();
        back.load_str(&rewritten, "rewritten").unwrap();
        for name in ["bind", "replicaof", "requirepass"] {
            assert_eq!(back.get(name), config.get(name), "{name} in\n{rewritten}");
        }
        // A line the reader takes for a directive is rewritten as one, and only once (found
        // by fuzzing: `save\0junk` was kept as an unknown line after the rewritten `save`,
        // and reloaded as `save` with no argument).
        let text = "save 851 1\nsave\0junk\n\"save\" 60 1\n";
        let mut config = Config::default();
        config.load_str(text, "t").unwrap();
        let rewritten = rewritten_text(&config, text);
        assert_eq!(rewritten, "save 60 1\n");
        // A master host with a blank is refused: no line could give it back.
        let e = Config::default().load_str("replicaof \"a b\" 7000\n", "t").unwrap_err();
        assert_eq!(e.reason, "Invalid master host");
    }
}
