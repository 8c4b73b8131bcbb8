//! One script run, EVAL's or FCALL's: Redis's checks before it starts, the script's own
//! session, and after it ends the effects on its caller — the EXEC closing the MULTI that
//! wraps its writes in the write stream, keys that wake blocked clients.

use super::host::{prepare, ScriptHost};
use crate::commands::session::ClientState;
use crate::commands::Ctx;
use crate::script::vm::Outcome;
use bytes::Bytes;
use slotbox_protocol::{key_hash_slot, Frame, Protocol};

/// What is run.
pub struct Call<'a> {
    pub is_eval: bool,
    /// The script's SHA or the function's name (error replies, FUNCTION STATS, the log).
    pub name: &'a str,
    pub flags: u32,
    /// Called as EVAL_RO / EVALSHA_RO / FCALL_RO.
    pub ro: bool,
    pub keys: &'a [Bytes],
}

/// Parse EVAL's / FCALL's `numkeys` against the arguments after it.
pub fn numkeys(args: &[Bytes], bad: &'static str) -> Result<usize, Frame> {
    let n = match slotbox_protocol::float::parse_i64(&args[2]) {
        Some(n) => n,
        None if bad.is_empty() => return Err(Frame::error_static("ERR value is not an integer or out of range")),
        None => return Err(Frame::error_static(bad)),
    };
    if n > (args.len() - 3) as i64 {
        return Err(Frame::error_static("ERR Number of keys can't be greater than number of args"));
    }
    if n < 0 {
        return Err(Frame::error_static("ERR Number of keys can't be negative"));
    }
    Ok(n as usize)
}

/// Feed MONITOR the script command itself, before the commands it runs (as Redis does).
pub fn feed_monitors(ctx: &Ctx, name: &str, args: &[Bytes]) {
    let shared = ctx.shared;
    if shared.monitors.any() && !ctx.client.serving_blocked {
        let addr = ctx.client.info.addr.to_string();
        shared.monitors.feed(shared, name, args, crate::clock::unix_time_us(), &addr);
    }
}

/// Run `body` (which runs the Lua code through the host) for the caller of `ctx`.
pub fn run(
    ctx: &mut Ctx,
    call: Call,
    args: &[Bytes],
    body: impl FnOnce(&mut ScriptHost, Protocol) -> Outcome,
) -> Frame {
    let shared = ctx.shared;
    let obey = ctx.client.is_master_link;
    let rules = match prepare(shared, call.flags, call.ro, obey) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let mut client = ClientState::new(ctx.client.info.clone(), false);
    client.db = ctx.client.db;
    client.in_exec = true;
    client.in_script = true;
    client.is_master_link = obey;
    client.exec_fed_multi = ctx.client.in_exec && ctx.client.exec_fed_multi;
    client.batch_clock = ctx.client.batch_clock.nested();
    let slot = match (shared.cluster.get(), call.keys.first()) {
        (Some(_), Some(k)) => Some(key_hash_slot(k)),
        _ => None,
    };
    let watch = &shared.scripting.watch;
    let threshold = shared.hot.busy_reply_threshold.load(std::sync::atomic::Ordering::Relaxed);
    let started_us = ctx.client.batch_clock.now_us();
    watch.start(call.is_eval, threshold, call.name, obey, args, started_us / 1000);
    let mut host = ScriptHost {
        shared,
        client,
        run: ctx.run,
        rules,
        slot,
        caller_readonly: ctx.client.readonly,
        caller_asking: ctx.client.asking,
        wrote: false,
        declared: call.keys,
        caller_caching: ctx.client.tracking_caching,
        watch,
    };
    let outcome = body(&mut host, ctx.client.resp);
    let took = std::time::Duration::from_micros(ctx.client.batch_clock.now_us().saturating_sub(started_us) as u64);
    watch.stop();
    let speed = &shared.scripting.speed;
    if call.is_eval {
        speed.record_eval(call.name.as_bytes(), took);
    } else {
        speed.record_function(call.name.as_bytes(), shared.keyspace.functions.version(), took);
    }
    let script = host.client;
    // A script SHUTDOWN NOSAVE stopped leaves its MULTI open: its writes are not committed.
    if script.exec_fed_multi && !watch.aborted() {
        if ctx.client.in_exec {
            ctx.client.exec_fed_multi = true;
        } else {
            shared.stream.feed_in_db(script.db, &[Bytes::from_static(b"EXEC")]);
            ctx.client.last_write_offset = shared.repl.offset();
        }
    }
    ctx.client.ready_keys.extend(script.ready_keys);
    ctx.client.pending_pushes.extend(script.pending_pushes);
    let (reply, counted) = match outcome {
        Outcome::Reply(f, counted) => (f, counted),
        Outcome::Error(text, counted) => (Frame::Error(Bytes::from(text)), counted),
    };
    if counted && reply.is_error() {
        // Counted when the script's command failed; the reply will be counted again.
        shared.uncount_error(&reply);
    }
    reply
}
