//! The after-run effects of the execution seam, in order: MONITOR, INFO commandstats / the
//! latency monitor / the slow log, registering a command that blocked, and feeding a write to
//! the write stream (made deterministic: relative expiry becomes absolute).

use super::ctx::Ctx;
use super::Resolved;
use crate::commands::session::ClientState;
use crate::shared::Shared;
use bytes::Bytes;
use slotbox_protocol::command;
use slotbox_protocol::Frame;
use std::sync::atomic::Ordering;

/// After command `r` ran from `start_us` to `end_us` (Unix µs): count it, sample it for the
/// latency monitor, and keep it in the slow log if it took at least
/// `slowlog-log-slower-than` (negative: never; commands flagged `skip_slowlog`, like EXEC
/// whose commands are logged one by one, never).
pub fn record_call(
    shared: &Shared,
    client: &ClientState,
    r: Resolved,
    args: &[Bytes],
    (start_us, end_us): (i64, i64),
    failed: bool,
) {
    let usec = (end_us - start_us).max(0) as u64;
    let now_secs = end_us / 1_000_000;
    shared.cmdstats.record(r.id, usec, failed);
    shared.cmdlatency.record(r.id, usec);
    if usec >= 1000 {
        let event = if r.spec.has(slotbox_protocol::command::flags::FAST) { "fast-command" } else { "command" };
        shared.latency.sample(event, usec / 1000, now_secs);
    }
    let slower = shared.hot.slowlog_slower_than.load(Ordering::Relaxed);
    if slower < 0 || (usec as i64) < slower || r.spec.has(slotbox_protocol::command::flags::SKIP_SLOWLOG) {
        return;
    }
    let entry = crate::cmdstats::SlowEntry {
        id: 0,
        time: now_secs,
        usec,
        args: crate::cmdstats::shorten(&crate::cmdstats::redacted(r.full_name, args)),
        addr: client.info.addr.to_string(),
        name: client.info.name.lock().clone().unwrap_or_default(),
    };
    shared.slowlog.push(entry, shared.hot.slowlog_max_len.load(Ordering::Relaxed));
}

/// How a command's run ended, for the seam.
#[derive(PartialEq, Eq)]
pub(super) enum Outcome {
    Done,
    /// It found nothing to do and blocked: its reply is withheld.
    Blocked,
}

/// Everything that follows a handler's return, while the command's slots are still locked.
pub(super) fn after_run(
    ctx: &mut Ctx,
    r: Resolved,
    args: &[Bytes],
    reply: &Frame,
    (start_us, end_us): (i64, i64),
) -> Outcome {
    let shared = ctx.shared;
    if shared.monitors.any()
        && !ctx.client.serving_blocked
        && !r.spec.has(command::flags::ADMIN | command::flags::SKIP_MONITOR)
    {
        // Commands a script runs show as the "lua" client, as in Redis.
        let addr = if ctx.client.in_script { "lua".to_string() } else { ctx.client.info.addr.to_string() };
        shared.monitors.feed(shared, r.full_name, args, start_us, &addr);
    }
    if let Some(b) = ctx.block.take() {
        // A command that blocks is counted when it is served (its wait is not its run time).
        block(ctx, r, args, b);
        return Outcome::Blocked;
    }
    record_call(shared, ctx.client, r, args, (start_us, end_us), reply.is_error());
    // A read-only command may still ask to be replicated (PFCOUNT refreshing an HLL's cache).
    let asks = ctx.propagate.as_ref().is_some_and(|p| !p.is_empty());
    if (r.spec.has(command::flags::WRITE) || asks)
        && !reply.is_error()
        && !ctx.client.is_master_link
        && !ctx.client.no_propagate
    {
        if ctx.streaming {
            propagate(ctx, r, args);
        } else {
            count_unstreamed(ctx);
        }
    }
    Outcome::Done
}

/// With nothing consuming the write stream, a write still counts towards
/// `rdb_changes_since_last_save` (the persistence sink counts it otherwise), unless the
/// handler said it changed nothing (an empty replacement, as SETBIT of an unchanged bit).
fn count_unstreamed(ctx: &Ctx) {
    let n = ctx.propagate.as_ref().map_or(1, Vec::len) as u64;
    if n > 0 {
        ctx.shared.persist.dirty.add(n);
    }
}

/// A blocking command found nothing to do.
fn block(ctx: &mut Ctx, r: Resolved, args: &[Bytes], b: super::BlockOn) {
    if ctx.client.serving_blocked {
        // Re-run for a blocked client and still nothing: it keeps waiting.
        ctx.client.want_block = Some(b);
        return;
    }
    // Registered while the keys' slots are still locked, so a push from another thread
    // either happened before (and the handler saw it) or will see the waiter.
    let waiter = std::sync::Arc::new(crate::blocking::Waiter::new(
        (ctx.client.info.clone(), ctx.client.db),
        (r.id, r.spec),
        b.rerun_args.unwrap_or_else(|| args.to_vec()),
        b.keys,
        b.deadline_ms,
        b.timeout_reply,
    ));
    ctx.shared.blocking.register(waiter.clone());
    ctx.client.blocked = Some(waiter);
}

/// Feed a write to the replication stream while its slots are still locked (so writes to one
/// key reach replicas in the order they were applied). Relative expiry becomes absolute.
fn propagate(ctx: &mut Ctx, r: Resolved, args: &[Bytes]) {
    if ctx.propagate.as_ref().is_some_and(Vec::is_empty) {
        // The handler changed nothing: no MULTI opened for it inside EXEC either.
        return;
    }
    let (stream, repl, db) = (&ctx.shared.stream, &ctx.shared.repl, ctx.client.db);
    if ctx.client.in_exec && !ctx.client.exec_fed_multi {
        stream.feed_in_db(db, &[Bytes::from_static(b"MULTI")]);
        ctx.client.exec_fed_multi = true;
    }
    match ctx.propagate.take() {
        Some(cmds) => cmds.iter().for_each(|c| stream.feed_in_db(db, c)),
        None => stream.feed_in_db(db, args),
    }
    let sets_expiry = matches!(
        r.full_name,
        "set"
            | "setex"
            | "psetex"
            | "getex"
            | "expire"
            | "pexpire"
            | "expireat"
            | "pexpireat"
            | "restore"
            | "restore-asking"
    );
    if sets_expiry && args.len() > 1 {
        if let Some(at) = ctx.keys.get(&args[1]).map(|e| e.expire_at()).filter(|&at| at != 0) {
            stream.feed_in_db(db, &[Bytes::from_static(b"PEXPIREAT"), args[1].clone(), Bytes::from(at.to_string())]);
        }
    }
    ctx.client.last_write_offset = repl.offset();
}
