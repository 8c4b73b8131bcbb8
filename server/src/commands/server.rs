//! Server commands: DBSIZE, FLUSHDB, FLUSHALL, TIME, LASTSAVE, SHUTDOWN and DEBUG, with Redis
//! 7.0's replies. INFO is in `info.rs`, CONFIG in `config_cmd.rs`, COMMAND in
//! `command_info.rs`; DEBUG's parsing and wording in `debug.rs`.
//!
//! There is one database, so FLUSHDB and FLUSHALL do the same thing; ASYNC flushes
//! synchronously. SHUTDOWN fsyncs the AOF and saves a snapshot when `save` rules exist or SAVE
//! is given (not with NOSAVE); then it stops the server and closes the caller's connection
//! without a reply, as Redis does on success. A failed save refuses the shutdown unless FORCE.
//!
//! DEBUG runs with the whole exec gate held (`commands::needs_whole_gate`), as every command
//! runs in Redis's single thread: SLEEP stops every client, and DIGEST reads the dataset with
//! no command running meanwhile, even under load (only the active expiry cycle, which takes no
//! gate, may still reclaim an expired key during the walk). DEBUG names keys without key specs,
//! so it is never redirected in cluster mode and locks each key's slot itself, one at a time;
//! like Redis it sees expired keys not yet reclaimed.

use super::args::{self, is};
use super::debug::{self, Sub};
use super::keys::object::{refcount_of, shared_integers_allowed};
use super::{Ctx, Registration};
use crate::clock::unix_time_us;
use crate::commands::Reply;
use crate::store::digest::{hex, value_digest};
use crate::store::Node;
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::{key_hash_slot, Frame};
use std::sync::atomic::Ordering;
use std::time::Duration;

fn dbsize(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(Frame::Integer(ctx.keys.db().len() as i64))
}

/// `FLUSHDB|FLUSHALL [ASYNC|SYNC]`.
fn flush(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match args.len() {
        1 => {}
        2 if is(&args[1], "async") || is(&args[1], "sync") => {}
        _ => return Ok(args::syntax_error()),
    }
    let flushed = if ctx.spec.name == "flushall" {
        ctx.shared.keyspace.flush_all();
        0..ctx.shared.keyspace.count()
    } else {
        ctx.keys.db().flush();
        ctx.client.db..ctx.client.db + 1
    };
    // Clients blocked on a flushed key get another look (XREADGROUP answers that the key
    // is gone; the others keep waiting).
    if ctx.shared.blocking.any() {
        for db in flushed {
            for key in ctx.shared.blocking.keys_waited_in(db) {
                ctx.client.ready_keys.push((db, key));
            }
        }
    }
    // Also with no client tracking now: the key table still holds the ids of clients that
    // tracked before (dropped lazily), and a flush empties it as Redis's does.
    crate::commands::invalidate::flushed(ctx.shared, Some(ctx.client));
    Ok(Frame::ok())
}

/// `TIME`: [unix seconds, microseconds] as bulk strings.
fn time(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let us = unix_time_us();
    Ok(Frame::Array(vec![Frame::bulk((us / 1_000_000).to_string()), Frame::bulk((us % 1_000_000).to_string())]))
}

fn lastsave(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(Frame::Integer(ctx.shared.lastsave.load(Ordering::Relaxed) as i64))
}

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`.
fn shutdown(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (mut save, mut nosave, mut other, mut abort, mut force) = (false, false, false, false, false);
    for a in &args[1..] {
        if is(a, "nosave") {
            nosave = true;
        } else if is(a, "save") {
            save = true;
        } else if is(a, "now") || is(a, "force") {
            other = true;
            force |= is(a, "force");
        } else if is(a, "abort") {
            abort = true;
        } else {
            return Ok(args::syntax_error());
        }
    }
    if (abort && (save || nosave || other)) || (save && nosave) {
        return Ok(args::syntax_error());
    }
    if abort {
        // Shutdown is immediate, so one is never in progress.
        return Ok(Frame::error_static("ERR No shutdown in progress."));
    }
    crate::log::warning("User requested shutdown...");
    if let Err(e) = crate::persist::save::on_shutdown(&ctx.shared.persist, save, nosave) {
        if !force {
            crate::log::warning(&format!("Error trying to save the DB, can't exit: {e}"));
            return Ok(Frame::error_static("ERR Errors trying to SHUTDOWN. Check logs."));
        }
    }
    ctx.shared.request_shutdown();
    ctx.client.close_after_reply = true;
    Ok(Frame::Raw(Bytes::new()))
}

/// `DEBUG <subcommand> [arg ...]` (see `debug.rs` for what each reads).
fn debug_cmd(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(match debug::parse(args) {
        Err(e) => e,
        Ok(Sub::Help) => debug::help(),
        Ok(Sub::Digest) => Frame::Simple(hex(&ctx.shared.keyspace.digest()).into()),
        Ok(Sub::DigestValue(keys)) => Frame::Array(
            keys.iter()
                .map(|k| Frame::Simple(hex(&with_entry(ctx, k, |e| e.map(value_digest).unwrap_or_default())).into()))
                .collect(),
        ),
        Ok(Sub::Object(key)) => {
            let (shared_ints, now) = (shared_integers_allowed(ctx.shared), ctx.now_ms);
            with_entry(ctx, key, |e| match e {
                None => Frame::error_static(errors::NO_SUCH_KEY),
                Some(e) => debug::describe(e, refcount_of(&e.value, shared_ints), now),
            })
        }
        Ok(Sub::Sleep(us)) => {
            // The seam holds the whole exec gate for DEBUG (EXEC for a queued one): nothing
            // runs anywhere meanwhile.
            debug_assert!(ctx.exclusive || ctx.client.in_exec, "DEBUG SLEEP without the whole gate");
            std::thread::sleep(Duration::from_micros(us));
            Frame::ok()
        }
        Ok(Sub::Partition(ms)) => {
            ctx.shared.partition.start(ctx.now_ms, ms);
            crate::log::warning(&format!("DEBUG PARTITION: cut off from the cluster bus and clients for {ms} ms"));
            Frame::ok()
        }
        Ok(Sub::SetActiveExpire(on)) => {
            ctx.shared.keyspace.active_expire.store(on, Ordering::Relaxed);
            Frame::ok()
        }
    })
}

/// Run `f` on the entry of `key`, expired or not (as Redis's DEBUG looks keys up), with its
/// slot locked.
fn with_entry<R>(ctx: &Ctx, key: &[u8], f: impl FnOnce(Option<&Node>) -> R) -> R {
    let shard = ctx.keys.db().shard(key_hash_slot(key));
    f(shard.get(key))
}

pub const COMMANDS: Registration = &[
    ("dbsize", dbsize),
    ("flushdb", flush),
    ("flushall", flush),
    ("time", time),
    ("lastsave", lastsave),
    ("shutdown", shutdown),
    ("debug", debug_cmd),
];

#[cfg(test)]
mod tests {
    use super::super::connection::testing::TestClient;
    use crate::store::{Entry, Value};

    #[test]
    fn dbsize_and_flush() {
        let mut c = TestClient::new();
        c.shared.keyspace.db(0).shard(0).insert(b"k", Entry::new(Value::string(b"v")));
        assert_eq!(c.wire(&["DBSIZE"]), ":1\r\n");
        assert_eq!(c.wire(&["FLUSHALL", "foo"]), "-ERR syntax error\r\n");
        assert_eq!(c.wire(&["FLUSHDB", "ASYNC", "x"]), "-ERR syntax error\r\n");
        assert_eq!(c.wire(&["FLUSHALL", "SYNC"]), "+OK\r\n");
        assert_eq!(c.wire(&["DBSIZE"]), ":0\r\n");
        assert_eq!(c.wire(&["flushdb"]), "+OK\r\n");
    }

    #[test]
    fn time_and_lastsave() {
        let mut c = TestClient::new();
        let t = c.wire(&["TIME"]);
        let parts: Vec<&str> = t.split("\r\n").collect();
        assert_eq!(parts[0], "*2");
        assert_eq!(parts[1], "$10");
        assert!(parts[4].parse::<u32>().unwrap() < 1_000_000);
        assert!(c.wire(&["LASTSAVE"]).starts_with(":17"));
    }

    #[test]
    fn shutdown_checks_then_stops() {
        let mut c = TestClient::new();
        assert_eq!(c.wire(&["SHUTDOWN", "foo"]), "-ERR syntax error\r\n");
        assert_eq!(c.wire(&["SHUTDOWN", "NOSAVE", "ABORT"]), "-ERR syntax error\r\n");
        assert_eq!(c.wire(&["SHUTDOWN", "SAVE", "NOSAVE"]), "-ERR syntax error\r\n");
        assert_eq!(c.wire(&["SHUTDOWN", "ABORT"]), "-ERR No shutdown in progress.\r\n");
        assert!(!c.shared.is_shutting_down());
        assert_eq!(c.wire(&["SHUTDOWN", "NOSAVE", "NOW"]), "");
        assert!(c.shared.is_shutting_down());
        assert!(c.client.close_after_reply);
    }
}
