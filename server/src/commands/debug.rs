//! DEBUG, with the subcommands slotbox implements fully and Redis 7.0's replies: DIGEST,
//! DIGEST-VALUE (the digests of `store::digest`, equal to Redis's for the same data), OBJECT,
//! SLEEP, SET-ACTIVE-EXPIRE and HELP. Any other subcommand gets Redis's "unknown subcommand"
//! error.
//!
//! DEBUG runs with the whole exec gate held (`commands::needs_whole_gate`), as every command
//! runs in Redis's single thread: SLEEP stops every client, and DIGEST reads the dataset with
//! no command running meanwhile, even under load (only the active expiry cycle, which takes no
//! gate, may still reclaim an expired key during the walk).
//!
//! As in Redis, DEBUG is refused unless `enable-debug-command` allows it (`yes`, or `local`
//! for clients on 127.0.0.1 / ::1); the execution seam checks it before authentication.
//! DEBUG names keys without key specs, so it is never redirected in cluster mode and locks
//! each key's slot itself, one at a time; like Redis it sees expired keys not yet reclaimed.

use super::args::is;
use super::client_cmd::help_reply;
use super::keys::object::{refcount_of, shared_integers_allowed};
use super::{Ctx, Registration};
use crate::client::ClientState;
use crate::shared::Shared;
use crate::store::digest::{self, hex};
use crate::store::{lru, serialize, Entry, Value};
use bytes::Bytes;
use slotbox_protocol::float::{atoi, strtod_prefix};
use slotbox_protocol::frame::errors;
use slotbox_protocol::{key_hash_slot, Frame};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The refusal while `enable-debug-command` does not allow the client.
pub const NOT_ALLOWED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", \
     you can run it from a local connection, otherwise you need to set this option in the configuration file, and \
     then restart the server.";

/// May `client` run DEBUG under `enable-debug-command`?
pub fn allowed(shared: &Shared, client: &ClientState) -> bool {
    match shared.config.read().enable_debug_command.as_str() {
        "yes" => true,
        // Redis compares the peer's address text with exactly these two.
        "local" => matches!(client.info.addr.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST) | IpAddr::V6(Ipv6Addr::LOCALHOST)),
        _ => false,
    }
}

/// A parsed DEBUG request.
#[derive(Debug, PartialEq)]
enum Sub<'a> {
    Help,
    Digest,
    DigestValue(&'a [Bytes]),
    Object(&'a [u8]),
    SetActiveExpire(bool),
    /// Microseconds (0: return at once).
    Sleep(u64),
}

/// Redis's tests of each subcommand name and argument count; `None`: the syntax error.
fn parse(args: &[Bytes]) -> Option<Sub<'_>> {
    let (sub, n) = (&args[1], args.len());
    Some(if is(sub, "help") && n == 2 {
        Sub::Help
    } else if is(sub, "object") && n == 3 {
        Sub::Object(&args[2])
    } else if is(sub, "digest") && n == 2 {
        Sub::Digest
    } else if is(sub, "digest-value") {
        Sub::DigestValue(&args[2..])
    } else if is(sub, "sleep") && n == 3 {
        Sub::Sleep(sleep_micros(&args[2]))
    } else if is(sub, "set-active-expire") && n == 3 {
        Sub::SetActiveExpire(atoi(&args[2]) != 0)
    } else {
        return None;
    })
}

fn debug(ctx: &mut Ctx, args: &[Bytes]) -> Frame {
    match parse(args) {
        None => unknown_subcommand(args),
        Some(Sub::Help) => help_reply(HELP),
        Some(Sub::Digest) => Frame::Simple(hex(&ctx.shared.db.digest()).into()),
        Some(Sub::DigestValue(keys)) => digest_values(ctx, keys),
        Some(Sub::Object(key)) => object(ctx, key),
        Some(Sub::Sleep(us)) => {
            // The seam holds the whole exec gate for DEBUG (EXEC for a queued one): nothing
            // runs anywhere meanwhile.
            debug_assert!(ctx.exclusive || ctx.client.in_exec, "DEBUG SLEEP without the whole gate");
            std::thread::sleep(Duration::from_micros(us));
            Frame::ok()
        }
        Some(Sub::SetActiveExpire(on)) => {
            ctx.shared.db.active_expire.store(on, Ordering::Relaxed);
            Frame::ok()
        }
    }
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

/// Run `f` on the entry of `key`, expired or not, with its slot locked.
fn with_entry<R>(ctx: &Ctx, key: &[u8], f: impl FnOnce(Option<&Entry>) -> R) -> R {
    let shard = ctx.shared.db.shard(key_hash_slot(key));
    f(shard.map.get(key))
}

/// `DEBUG DIGEST-VALUE key...`: one status reply per key, zeros for a missing key.
fn digest_values(ctx: &mut Ctx, keys: &[Bytes]) -> Frame {
    let one = |key: &Bytes| {
        let d = with_entry(ctx, key, |e| e.map(digest::value_digest).unwrap_or_default());
        Frame::Simple(hex(&d).into())
    };
    Frame::Array(keys.iter().map(one).collect())
}

/// `DEBUG OBJECT key`: Redis's fields for slotbox's layout. `Value at` is where the value
/// lives in its slot's table, `serializedlength` its length in slotbox's DUMP format (not
/// Redis's RDB), `lru` the key's access clock; a list adds its quicklist's node count,
/// elements per node and packed bytes (slotbox's nodes are bounded in bytes, so Redis's
/// `ql_listpack_max` fill setting has no counterpart and is left out).
fn object(ctx: &mut Ctx, key: &[u8]) -> Frame {
    let shared_ints = shared_integers_allowed(ctx.shared);
    let now = ctx.now_ms;
    with_entry(ctx, key, |e| match e {
        None => Frame::error_static(errors::NO_SUCH_KEY),
        Some(e) => Frame::Simple(describe(e, shared_ints, now).into()),
    })
}

fn describe(e: &Entry, shared_ints: bool, now_ms: i64) -> String {
    let mut body = Vec::new();
    serialize::write_value(&mut body, &e.value);
    let mut out = format!(
        "Value at:{:p} refcount:{} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
        &e.value,
        refcount_of(&e.value, shared_ints),
        e.value.encoding(),
        body.len(),
        e.lru,
        lru::idle_ms(e.lru, now_ms) / 1000,
    );
    if let Value::List(l) = &e.value {
        let nodes = l.node_count();
        out.push_str(&format!(
            " ql_nodes:{nodes} ql_avg_node:{:.2} ql_compressed:0 ql_uncompressed_size:{}",
            l.len() as f64 / nodes as f64,
            l.packed_bytes()
        ));
    }
    out
}

/// Redis's help lines for the subcommands slotbox implements.
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
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "HELP",
    "    Prints this help.",
];

pub const COMMANDS: Registration = &[("debug", debug)];

#[cfg(test)]
mod tests;
