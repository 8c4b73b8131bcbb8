//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH. EXEC runs its queue while the seam
//! holds the server's exec gate exclusively for it (`commands::needs_whole_gate`), so no
//! command of any other client (on any thread) runs in between. WATCH registers a flag on the watched keys' slots; any write to such a key (expiry
//! and FLUSHALL included) sets it and makes EXEC answer a null reply.

use super::{Ctx, Registration, Resolved};
use crate::commands::session::{ClientState, MultiState, Queued, WatchedKey};
use crate::commands::Reply;
use crate::shared::Shared;
use bytes::Bytes;
use slotbox_protocol::{key_hash_slot, Frame};
use std::sync::atomic::Ordering;

/// Commands that run at once even inside MULTI (Redis's list).
pub fn runs_inside_multi(name: &str) -> bool {
    matches!(name, "exec" | "discard" | "multi" | "watch" | "quit" | "reset")
}

/// Queue a command of a client in MULTI.
pub fn queue(client: &mut ClientState, r: Resolved, args: &[Bytes]) -> Frame {
    if r.spec.has(slotbox_protocol::command::flags::NO_MULTI) {
        if let Some(m) = client.multi.as_mut() {
            m.failed = true;
        }
        return Frame::error_static("ERR Command not allowed inside a transaction");
    }
    if let Some(m) = client.multi.as_mut() {
        m.queued.push(Queued { id: r.id, spec: r.spec, args: args.to_vec() });
    }
    Frame::queued()
}

/// MULTI, DISCARD and UNWATCH while a script is busy (Redis lets them through: they touch
/// only the client's own state), answered without the gate; None for any other command.
pub fn while_busy(shared: &Shared, client: &mut ClientState, name: &str) -> Option<Frame> {
    Some(match name {
        "multi" if client.multi.is_some() => Frame::error_static("ERR MULTI calls can not be nested"),
        "multi" => {
            client.multi = Some(MultiState::default());
            Frame::ok()
        }
        "discard" if client.multi.take().is_none() => Frame::error_static("ERR DISCARD without MULTI"),
        "discard" | "unwatch" => {
            unwatch_all(shared, client);
            Frame::ok()
        }
        _ => return None,
    })
}

/// A command was rejected (unknown, arity) while queueing.
pub fn flag_failed(client: &mut ClientState) {
    if let Some(m) = client.multi.as_mut() {
        m.failed = true;
    }
}

fn multi(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    if ctx.client.multi.is_some() {
        return Ok(Frame::error_static("ERR MULTI calls can not be nested"));
    }
    ctx.client.multi = Some(MultiState::default());
    Ok(Frame::ok())
}

fn discard(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    if ctx.client.multi.take().is_none() {
        return Ok(Frame::error_static("ERR DISCARD without MULTI"));
    }
    unwatch_all(ctx.shared, ctx.client);
    Ok(Frame::ok())
}

fn exec(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let Some(state) = ctx.client.multi.take() else {
        return Ok(Frame::error_static("ERR EXEC without MULTI"));
    };
    if state.failed {
        unwatch_all(ctx.shared, ctx.client);
        return Ok(Frame::error_static("EXECABORT Transaction discarded because of previous errors."));
    }
    let shared = ctx.shared;
    // The seam took the whole gate for EXEC (`needs_whole_gate`): no other command runs
    // anywhere until the queue is done.
    debug_assert!(ctx.exclusive, "EXEC without the whole exec gate");
    let aborted = watch_broken(shared, ctx.client, ctx.now_ms);
    unwatch_all(shared, ctx.client);
    if aborted {
        return Ok(Frame::NullArray);
    }
    let mut replies = Vec::with_capacity(state.queued.len());
    ctx.client.in_exec = true;
    for q in &state.queued {
        let reply = (ctx.run)(shared, ctx.client, q.id, &q.args);
        shared.count_error(&reply);
        replies.push(reply);
    }
    ctx.client.in_exec = false;
    if std::mem::take(&mut ctx.client.exec_fed_multi) {
        shared.stream.feed_in_db(ctx.client.db, &[Bytes::from_static(b"EXEC")]);
        ctx.client.last_write_offset = shared.repl.offset();
    }
    Ok(Frame::Array(replies))
}

/// True if a watched key was written, or expired since it was watched.
fn watch_broken(shared: &Shared, client: &ClientState, now_ms: i64) -> bool {
    if client.watch_dirty.load(Ordering::Acquire) {
        return true;
    }
    client.watched.iter().any(|w| {
        if w.expire_at == 0 {
            return false;
        }
        let shard = shared.keyspace.db(w.db).shard(w.slot);
        matches!(shard.get(&w.key[..]), Some(e) if e.is_expired(now_ms))
    })
}

fn watch(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if ctx.client.multi.is_some() {
        return Ok(Frame::error_static("ERR WATCH inside MULTI is not allowed"));
    }
    for key in &args[1..] {
        if ctx.client.watched.iter().any(|w| &*w.key == key.as_ref()) {
            continue;
        }
        let now = ctx.now_ms;
        let expire_at = ctx.keys.get(key).map(|e| e.expire_at()).unwrap_or(0);
        let _ = now;
        let flag = ctx.client.watch_dirty.clone();
        ctx.keys.shard(key).watch(key, &flag);
        ctx.client.watched.push(WatchedKey {
            db: ctx.client.db,
            slot: key_hash_slot(key),
            key: key.as_ref().into(),
            expire_at,
        });
    }
    Ok(Frame::ok())
}

fn unwatch(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    unwatch_all(ctx.shared, ctx.client);
    Ok(Frame::ok())
}

/// Forget every watched key (EXEC, DISCARD, UNWATCH, disconnect).
pub fn unwatch_all(shared: &Shared, client: &mut ClientState) {
    for w in client.watched.drain(..) {
        shared.keyspace.db(w.db).shard(w.slot).unwatch(&w.key, &client.watch_dirty);
    }
    client.watch_dirty.store(false, Ordering::Release);
}

pub const COMMANDS: Registration =
    &[("multi", multi), ("exec", exec), ("discard", discard), ("watch", watch), ("unwatch", unwatch)];
