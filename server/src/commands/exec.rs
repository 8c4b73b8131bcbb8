//! The execution seam: every command runs through [`execute_in_batch`] (or [`execute`]),
//! whoever asks — a client's connection, a replica applying its master's stream, an AOF being
//! replayed — and EXEC's queue and blocked clients through [`run`] under the gate the seam
//! already holds. In order: lookup and arity, the admission checks (`admit.rs`), a client
//! pause (the command is postponed: `ClientState::postponed`), MULTI queueing, key locking, the handler, then the effects — the write stream, keys that wake
//! blocked clients, commandstats / slowlog / latency (`effects.rs`), MONITOR.

use super::ctx::Ctx;
use super::gating::{needs_whole_gate, runs_script};
use super::held::Held;
use super::registry::{self, Resolved};
use super::session::ClientState;
use super::{admit, effects, pubsub, tx};
use crate::pause::PauseKind;
use crate::shared::Shared;
use crate::store::KeyView;
use bytes::Bytes;
use slotbox_protocol::command::{self, extract_keys, KeyIndices};
use slotbox_protocol::{key_hash_slot, Frame};
use smallvec::SmallVec;

/// Called when a connection closes: drop its watches (and, later, subscriptions and blocks).
pub fn on_disconnect(shared: &Shared, client: &mut ClientState) {
    if client.info.monitor.load(std::sync::atomic::Ordering::Relaxed) {
        shared.monitors.remove(client.info.id);
    }
    tx::unwatch_all(shared, client);
    pubsub::unsubscribe_all(shared, client);
    shared.tracking.disable(client.id());
    if let Some(w) = client.blocked.take() {
        // If a thread is serving it right now, its reply is simply dropped with the client.
        let _ = w.cancel();
        shared.blocking.remove(&w);
    }
}

/// Run one request for `client` on its own (taking and releasing the gate on the gate's
/// service stripe). `args` is never empty. Must not be called by a thread that holds the
/// gate: such code runs commands through [`execute_in_batch`] with what it holds.
pub fn execute(shared: &Shared, client: &mut ClientState, args: &[Bytes]) -> Frame {
    client.batch_clock.reset();
    let mut held = Held::new(shared.exec_gate.service_stripe());
    execute_in_batch(shared, client, args, &mut held)
}

/// A client's request under the names `rename-command` gave: a new name becomes its command's
/// own (so the command runs, and is propagated, under its own name), and a name removed
/// answers as an unknown command (failing a transaction, as Redis does).
pub fn renamed(shared: &Shared, client: &mut ClientState, args: &mut [Bytes]) -> Result<(), Frame> {
    if shared.renamed_commands.is_empty() || args.is_empty() {
        return Ok(());
    }
    match shared.renamed_commands.get(&args[0].to_ascii_lowercase()[..]) {
        None => Ok(()),
        Some(Some(command)) => {
            args[0] = command.clone();
            Ok(())
        }
        Some(None) => {
            tx::flag_failed(client);
            Err(registry::unknown_command(args))
        }
    }
}

/// The execution seam: run one request of a caller that keeps `held` from one command to the
/// next. The seam takes the exec gate as the command needs it (shared, or whole for
/// [`needs_whole_gate`] commands, giving up the shared stripe first) unless `held` already has
/// it, so a caller never takes it twice (the lock rule: `crate::gate`). A whole gate the seam
/// took is released when the command ends (one an event loop's script took, at the end of the
/// loop's turn); one the caller took stays.
///
/// `held` also carries the slot locks of the previous command: a command on exactly the same
/// slots runs under them instead of unlocking and relocking (a pipeline hammering one hot key
/// stays on one thread for the whole batch instead of bouncing the lock, and its data, between
/// threads). Any other command releases them first, before anything else is locked.
pub fn execute_in_batch<'s>(
    shared: &'s Shared,
    client: &mut ClientState,
    args: &[Bytes],
    held: &mut Held<'s>,
) -> Frame {
    client.cmd_slot = None;
    client.postponed = None;
    let resolved = match super::tables::resolve_or_refuse(args) {
        Ok(r) => r,
        Err((e, id)) => {
            held.keys = None;
            tx::flag_failed(client);
            if let Some(id) = id {
                client.info.last_cmd.store(id, std::sync::atomic::Ordering::Relaxed);
                shared.cmdstats.reject(id);
            }
            return e;
        }
    };
    // CLIENT LIST `cmd=`: the last command looked up, as Redis's lastcmd (refused and queued
    // ones too; EXEC for the commands it ran).
    client.info.last_cmd.store(resolved.id, std::sync::atomic::Ordering::Relaxed);
    // While a script runs past busy-reply-threshold under the whole gate, nothing waits for
    // the gate: the command is answered -BUSY (or, for SCRIPT KILL and the like, at once).
    let watch = &shared.scripting.watch;
    let busy = || watch.is_busy();
    let detach = runs_script(resolved) && detachable(shared, client, held) && !runs_in_place(shared, resolved, args);
    let whole = needs_whole_gate(resolved, args) && !detach;
    let took_whole = if whole {
        match held.exclusive_unless(&shared.exec_gate, &busy) {
            Some(took) => took,
            None => return refuse_busy(shared, client, resolved, args),
        }
    } else {
        false
    };
    if !held.shared_unless(&shared.exec_gate, &busy) {
        return refuse_busy(shared, client, resolved, args);
    }
    let reply = if detach {
        admit_and_detach(shared, client, resolved, args, held)
    } else {
        admit_and_run(shared, client, resolved, args, held)
    };
    let on_loop = whole && held.on_event_loop(&shared.exec_gate);
    if on_loop {
        // Hot-slot affinity gathers such clients on one loop (`net::affinity`).
        client.cmd_slot = Some(crate::gate::WHOLE_GATE_SLOT);
    }
    // A script an event loop ran in place keeps the whole gate for the rest of the loop's turn
    // (released by the loop at the turn's end): a pipeline of scripts takes it once, instead of
    // handing it back and forth with the other loops once per script.
    if took_whole && !(on_loop && runs_script(resolved)) {
        held.release();
    }
    if shared.tracking.active() {
        super::invalidate::end_of_request(shared, client, resolved);
    }
    reply
}

/// May this EVAL / FCALL run on the script thread, its client waiting like a blocked one?
/// Only for an event loop's client outside a transaction (EXEC, the master's stream, the AOF
/// and embedded callers run scripts in place, under the whole gate).
fn detachable(shared: &Shared, client: &ClientState, held: &Held) -> bool {
    !client.in_exec
        && !client.is_master_link
        && !client.serving_blocked
        && client.multi.is_none()
        && held.on_event_loop(&shared.exec_gate)
        && shared.workers.get().is_some()
        && shared.self_arc().is_some()
}

/// Is this EVAL / FCALL's script known to be short (`script::speed`), so that it runs here
/// rather than on the script thread?
fn runs_in_place(shared: &Shared, r: Resolved, args: &[Bytes]) -> bool {
    let speed = &shared.scripting.speed;
    match r.full_name {
        "eval" | "eval_ro" => speed.eval_inline(&crate::script::cache::sha1_hex(&args[1])),
        "evalsha" | "evalsha_ro" => crate::script::cache::sha_key(&args[1]).is_some_and(|k| speed.eval_inline(&k)),
        _ => speed.function_inline(&args[1], shared.keyspace.functions.version()),
    }
}

/// Admit a script for a detachable client, then hand it to the script thread: the client
/// waits (as a blocked client does) and gets the reply through its event loop's mailbox. The
/// reply returned here is not sent.
fn admit_and_detach<'s>(
    shared: &'s Shared,
    client: &mut ClientState,
    resolved: Resolved,
    args: &[Bytes],
    held: &mut Held<'s>,
) -> Frame {
    held.keys = None;
    let asking = client.asking;
    if let Err(e) = admit::admit(shared, client, resolved, args, &mut held.keys) {
        return reject(shared, client, resolved, e);
    }
    if let Some(kind) = admit::paused(shared, client, resolved, args) {
        // Held back by a client pause, as in `admit_and_run`.
        client.postponed = Some(kind);
        client.asking = asking;
        return Frame::Null;
    }
    let Some(me) = shared.self_arc() else { return Frame::error_static("ERR server is shutting down") };
    let waiter = std::sync::Arc::new(crate::blocking::Waiter::new(
        (client.info.clone(), client.db),
        (resolved.id, resolved.spec),
        Vec::new(),
        Vec::new(),
        0,
        Frame::Null,
    ));
    let mut runner = ClientState::new(client.info.clone(), false);
    runner.db = client.db;
    runner.resp = client.resp;
    runner.readonly = client.readonly;
    let args = args.to_vec();
    let w = waiter.clone();
    let job = Box::new(move || run_detached(&me, runner, resolved, &args, &w));
    if !shared.scripting.submit(job) {
        return Frame::error_static("ERR could not start the script thread");
    }
    client.blocked = Some(waiter);
    Frame::Null
}

/// On the script thread: run a detached script under the whole gate, serve the clients its
/// writes readied, and send the reply to the caller's event loop.
fn run_detached(shared: &Shared, mut client: ClientState, r: Resolved, args: &[Bytes], w: &crate::blocking::Waiter) {
    let mut held = Held::new(shared.exec_gate.service_stripe());
    held.exclusive(&shared.exec_gate);
    let reply = run(shared, &mut client, r, args);
    if !client.ready_keys.is_empty() {
        serve_blocked(shared, std::mem::take(&mut client.ready_keys));
    }
    held.release();
    w.finish();
    if let Some(h) = shared.workers.get().and_then(|ws| ws.get(w.info.worker())) {
        h.send(crate::mailbox::WorkerMsg::Unblock(w.info.id, reply));
        // Invalidations the script caused for its own client follow its reply.
        for push in client.pending_pushes.drain(..) {
            h.send(crate::mailbox::WorkerMsg::Deliver(w.info.id, std::sync::Arc::new(push)));
        }
    }
}

/// The reply to a command that arrives while a script is busy: what may run then (SCRIPT
/// KILL, FUNCTION KILL / STATS) runs without the gate; anything else is refused with -BUSY.
fn refuse_busy(shared: &Shared, client: &mut ClientState, r: Resolved, args: &[Bytes]) -> Frame {
    if let Some(reply) = super::scripting::while_busy(shared, r.full_name) {
        return reply;
    }
    if r.full_name == "shutdown" {
        if let Some(reply) = super::scripting::shutdown_while_busy(shared, client, args) {
            return reply;
        }
    }
    if let Some(reply) = tx::while_busy(shared, client, r.full_name) {
        return reply;
    }
    shared.cmdstats.reject(r.id);
    let busy = super::scripting::busy_error(shared);
    if r.full_name == "exec" && client.multi.take().is_some() {
        tx::unwatch_all(shared, client);
        let why = String::from_utf8_lossy(busy.error_text().unwrap_or_default()).into_owned();
        return Frame::error(format!("EXECABORT Transaction discarded because of: {why}"));
    }
    tx::flag_failed(client);
    busy
}

/// The admission chain (`admit::admit`), MULTI queueing, then the run and the blocked clients
/// it readied. The gate is held.
fn admit_and_run<'s>(
    shared: &'s Shared,
    client: &mut ClientState,
    resolved: Resolved,
    args: &[Bytes],
    held: &mut Held<'s>,
) -> Frame {
    // Key positions and slots, computed once for the checks below and the run.
    let idx = extract_keys(resolved.spec, args);
    let slots = slots_of(&idx, args, client.slot_hint.take());
    client.cmd_slot = match slots[..] {
        [s] => Some(s),
        _ => None,
    };
    if held.keys.as_ref().is_some_and(|v| client.multi.is_some() || !same_slots(v, &slots)) {
        held.keys = None;
    }
    let asking = client.asking;
    let admitted = admit::admit(shared, client, resolved, args, &mut held.keys);
    if shared.tracking.active() {
        super::invalidate::evicted(shared, client);
    }
    if let Err(e) = admitted {
        return reject(shared, client, resolved, e);
    }
    if let Some(kind) = admit::paused(shared, client, resolved, args) {
        // Held back whole: it runs again from the start (ASKING still applying) once the
        // pause is less restrictive; the connection keeps it.
        client.postponed = Some(kind);
        client.asking = asking;
        held.keys = None;
        return Frame::Null;
    }
    if client.multi.is_some() && !tx::runs_inside_multi(resolved.full_name) {
        return tx::queue(client, resolved, args);
    }
    let exclusive = held.is_exclusive();
    let reply = run_in_batch(shared, client, resolved, args, &mut held.keys, exclusive, idx, slots);
    if !client.ready_keys.is_empty() {
        held.keys = None;
        let keys = std::mem::take(&mut client.ready_keys);
        serve_blocked(shared, keys);
    }
    reply
}

/// A refused command marks the client's transaction failed; a refused EXEC discards it.
fn reject(shared: &Shared, client: &mut ClientState, r: Resolved, e: Frame) -> Frame {
    shared.cmdstats.reject(r.id);
    if r.full_name == "exec" {
        client.multi = None;
        tx::unwatch_all(shared, client);
    } else {
        tx::flag_failed(client);
    }
    e
}

/// Serve clients blocked on `keys` (FIFO per key), re-running their commands; keys their
/// commands write (BLMOVE's destination) are served in turn. Runs under the gate the seam
/// holds for the command that readied the keys.
fn serve_blocked(shared: &Shared, keys: Vec<(usize, Bytes)>) {
    let mut queue: std::collections::VecDeque<(usize, Bytes)> = keys.into();
    while let Some((db, key)) = queue.pop_front() {
        // Stream readers wait for different IDs: one that cannot be served yet does not mean
        // the next cannot (a list that cannot serve its first waiter serves nobody).
        let mut passed: Vec<std::sync::Arc<crate::blocking::Waiter>> = Vec::new();
        while let Some(w) = shared.blocking.claim_first(db, &key, &passed) {
            let mut proxy = ClientState::new(w.info.clone(), false);
            proxy.serving_blocked = true;
            proxy.db = w.db;
            let Some(resolved) = registry::by_id(w.cmd) else {
                w.release();
                break;
            };
            let reply = run(shared, &mut proxy, resolved, &w.args);
            if proxy.want_block.take().is_some() {
                w.release();
                if w.spec.group == "stream" {
                    passed.push(w);
                    continue;
                }
                break;
            }
            w.finish();
            shared.blocking.remove(&w);
            if let Some(ws) = shared.workers.get() {
                if let Some(h) = ws.get(w.info.worker()) {
                    h.send(crate::mailbox::WorkerMsg::Unblock(w.info.id, reply));
                    // Its own invalidations follow its reply, as on its connection.
                    for push in proxy.pending_pushes.drain(..) {
                        h.send(crate::mailbox::WorkerMsg::Deliver(w.info.id, std::sync::Arc::new(push)));
                    }
                }
            }
            queue.extend(proxy.ready_keys.drain(..));
        }
    }
}

/// The distinct slots of the keys at positions `idx`, ascending (a single key's from `hint`
/// when the hint was computed from that very key).
fn slots_of(idx: &[usize], args: &[Bytes], hint: Option<super::session::SlotHint>) -> SmallVec<[u16; 4]> {
    if let [i] = idx {
        let key = &args[*i];
        let mut one = SmallVec::new();
        one.push(hint.and_then(|h| h.slot_of(key)).unwrap_or_else(|| key_hash_slot(key)));
        return one;
    }
    let mut slots: SmallVec<[u16; 4]> = idx.iter().map(|&i| key_hash_slot(&args[i])).collect();
    slots.sort_unstable();
    slots.dedup();
    slots
}

fn same_slots(view: &KeyView<'_>, slots: &[u16]) -> bool {
    !slots.is_empty() && view.slots().eq(slots.iter().copied())
}

/// [`run`] for a registered command id ([`Ctx::run`]); an unknown id is Redis's unknown
/// command error.
fn run_by_id(shared: &Shared, client: &mut ClientState, id: u16, args: &[Bytes]) -> Frame {
    match registry::by_id(id) {
        Some(r) => run(shared, client, r, args),
        None => Frame::error(format!("ERR unknown command id {id}")),
    }
}

/// Lock the command's keys and call its handler. For code that already holds the exec gate
/// (EXEC running its queue, blocked clients being served): it never takes the gate.
pub fn run(shared: &Shared, client: &mut ClientState, r: Resolved, args: &[Bytes]) -> Frame {
    debug_assert!(crate::gate::check::holds_gate(), "commands::run without the exec gate");
    let idx = extract_keys(r.spec, args);
    let slots = slots_of(&idx, args, None);
    run_in_batch(shared, client, r, args, &mut None, false, idx, slots)
}

/// [`run`], reusing the batch's held locks when they are the command's slots, and leaving the
/// command's locks in `held` afterwards (unless it blocked, ran inside EXEC or for a blocked
/// client).
#[allow(clippy::too_many_arguments)]
fn run_in_batch<'s>(
    shared: &'s Shared,
    client: &mut ClientState,
    r: Resolved,
    args: &[Bytes],
    held: &mut Option<KeyView<'s>>,
    exclusive: bool,
    idx: KeyIndices,
    mut slots: SmallVec<[u16; 4]>,
) -> Frame {
    if runs_script(r) {
        slots.clear();
    }
    let start_us = client.batch_clock.command_start();
    let now_ms = start_us / 1000;
    // The view stays where it is held (no move per command): reused when the previous request
    // of this connection locked the same slots, else replaced (the old one unlocked first).
    if !held.as_ref().is_some_and(|v| same_slots(v, &slots)) {
        shared.keyspace.db(client.db).relock_slots(held, &mut slots);
    }
    let Some(keys) = held.as_mut() else { unreachable!("set above") };
    // A replica, or any server while clients are paused, leaves expired keys in place (hidden
    // from commands); they go once the pause ends.
    keys.expire_on_access = !shared.keyspace.is_replica() && shared.pause.kind_at(now_ms) == PauseKind::Off;
    keys.master_stream = client.is_master_link;
    keys.set_key_hint(match (&idx[..], &slots[..]) {
        ([i], [slot]) => Some((&args[*i][..], *slot)),
        _ => None,
    });
    keys.now_ms = now_ms;
    keys.modified = shared.tracking.active().then(Vec::new);
    shared.keyspace.clock.tick(now_ms);
    let may_block = !client.in_exec && !client.is_master_link;
    // The context lives in this block and ends in place (moving it to drop it copied it).
    let (reply, keep, blocked) = {
        let mut ctx = Ctx {
            shared,
            client,
            keys,
            now_ms,
            spec: r.spec,
            block: None,
            may_block,
            propagate: None,
            streaming: shared.stream.is_active(),
            exclusive,
            run: run_by_id,
        };
        let reply = (r.handler)(&mut ctx, args).unwrap_or_else(|e| e);
        let end_us = ctx.client.batch_clock.command_end();
        if effects::after_run(&mut ctx, r, args, &reply, (start_us, end_us)) == effects::Outcome::Blocked {
            (reply, false, true)
        } else {
            let keep = !slots.is_empty() && !ctx.client.in_exec && !ctx.client.serving_blocked;
            if let Some(modified) = ctx.keys.modified.take() {
                super::invalidate::after_command(shared, ctx.client, r, args, &idx, modified);
            }
            (reply, keep, false)
        }
    };
    if !keep {
        // A blocked command's slots are unlocked at once, as any command's it does not keep.
        *held = None;
    }
    if blocked {
        return reply;
    }
    if r.spec.has(command::flags::WRITE) && shared.blocking.any() {
        for &i in idx.iter() {
            let ready = (client.db, args[i].clone());
            if shared.blocking.waits_for(client.db, &args[i]) && !client.ready_keys.contains(&ready) {
                client.ready_keys.push(ready);
            }
        }
    }
    reply
}
