//! DEBUG's arguments and replies, as Redis 7.0 parses and words them: which subcommand a request
//! is ([`parse`]; slotbox implements DIGEST, DIGEST-VALUE, OBJECT, SLEEP, SET-ACTIVE-EXPIRE and
//! HELP, plus its own PARTITION for fault injection; any other gets Redis's unknown-subcommand
//! error), the help text, the DEBUG OBJECT
//! line and the refusal while `enable-debug-command` forbids DEBUG. Pure: no locks, no server
//! state; the handler that applies a request is in `server.rs`, the refusal in `admit.rs`, the
//! digests in `store::digest`.

use super::args::is;
use crate::store::{lru, serialize, Node, Value};
use bytes::Bytes;
use slotbox_protocol::float::{atoi, strtod_prefix};
use slotbox_protocol::Frame;

/// The refusal while `enable-debug-command` does not allow the client.
pub const NOT_ALLOWED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", \
     you can run it from a local connection, otherwise you need to set this option in the configuration file, and \
     then restart the server.";

/// A parsed DEBUG request.
#[derive(Debug, PartialEq)]
pub enum Sub<'a> {
    Help,
    Digest,
    DigestValue(&'a [Bytes]),
    Object(&'a [u8]),
    SetActiveExpire(bool),
    /// Microseconds (0: return at once).
    Sleep(u64),
    /// slotbox's simulated network partition, in milliseconds.
    Partition(i64),
}

/// DEBUG PARTITION's refusal of a bad duration.
pub const BAD_PARTITION: &str = "ERR DEBUG PARTITION takes a number of seconds from 0 to 3600";

/// Redis's tests of each subcommand name and argument count; `Err`: the syntax error reply.
pub fn parse(args: &[Bytes]) -> Result<Sub<'_>, Frame> {
    let (sub, n) = (&args[1], args.len());
    Ok(if is(sub, "help") && n == 2 {
        Sub::Help
    } else if is(sub, "object") && n == 3 {
        Sub::Object(&args[2])
    } else if is(sub, "digest") && n == 2 {
        Sub::Digest
    } else if is(sub, "digest-value") {
        Sub::DigestValue(&args[2..])
    } else if is(sub, "sleep") && n == 3 {
        Sub::Sleep(sleep_micros(&args[2]))
    } else if is(sub, "partition") && n == 3 {
        Sub::Partition(partition_millis(&args[2]).ok_or_else(|| Frame::error_static(BAD_PARTITION))?)
    } else if is(sub, "set-active-expire") && n == 3 {
        Sub::SetActiveExpire(atoi(&args[2]) != 0)
    } else {
        return Err(unknown_subcommand(args));
    })
}

/// DEBUG SLEEP's seconds (decimals allowed) read as Redis does: `strtod` of the argument
/// (garbage reads as 0), times a million, as `nanosleep` gets it: a negative, NaN or
/// out-of-range time makes it fail at once.
fn sleep_micros(arg: &[u8]) -> u64 {
    let us = strtod_prefix(arg) * 1e6;
    if us.is_finite() && us >= 1.0 && us < i64::MAX as f64 {
        us as u64
    } else {
        0
    }
}

/// DEBUG PARTITION's seconds (decimals allowed, 0 to `partition::MAX_SECONDS`) in ms.
fn partition_millis(arg: &[u8]) -> Option<i64> {
    let secs: f64 = std::str::from_utf8(arg).ok()?.trim().parse().ok()?;
    (secs.is_finite() && (0.0..=crate::partition::MAX_SECONDS).contains(&secs)).then_some((secs * 1000.0) as i64)
}

/// Redis's `addReplySubcommandSyntaxError` (the command name upper-cased as typed).
fn unknown_subcommand(args: &[Bytes]) -> Frame {
    let sub = String::from_utf8_lossy(&args[1]);
    let sub: String = sub.chars().take(128).collect();
    let cmd = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
    Frame::error(
        format!("ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {cmd} HELP.")
            .replace(['\r', '\n'], " "),
    )
}

/// `DEBUG OBJECT`'s status line: Redis's fields for slotbox's layout. `Value at` is where the
/// value lives in its slot's table, `refcount` what OBJECT REFCOUNT says, `serializedlength`
/// its length in slotbox's DUMP format (not Redis's RDB), `lru` the key's access clock; a list
/// adds its quicklist's node count, elements per node and packed bytes (slotbox's nodes are
/// bounded in bytes, so Redis's `ql_listpack_max` fill setting has no counterpart and is left
/// out).
pub fn describe(e: &Node, refcount: i64, now_ms: i64) -> Frame {
    let mut body = Vec::new();
    serialize::write_value(&mut body, &e.value);
    let mut out = format!(
        "Value at:{:p} refcount:{refcount} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
        &e.value,
        e.value.encoding(),
        body.len(),
        e.lru(),
        lru::idle_ms(e.lru(), now_ms) / 1000,
    );
    if let Value::List(l) = &e.value {
        let nodes = l.node_count();
        out.push_str(&format!(
            " ql_nodes:{nodes} ql_avg_node:{:.2} ql_compressed:0 ql_uncompressed_size:{}",
            l.len() as f64 / nodes as f64,
            l.packed_bytes()
        ));
    }
    Frame::Simple(out.into())
}

/// `DEBUG HELP`: Redis's lines for the subcommands slotbox implements.
pub fn help() -> Frame {
    Frame::Array(HELP.iter().map(|l| Frame::simple_static(l)).collect())
}

const HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "PARTITION <seconds>",
    "    slotbox only: cut this node off for <seconds> (decimals allowed, at most 3600): its",
    "    cluster bus drops every link and client requests wait unanswered; the process runs on.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "HELP",
    "    Prints this help.",
];

#[cfg(test)]
mod tests;
