//! Client-side caching's messages, as Redis 7.0's `sendTrackingMessage`: what `crate::tracking`
//! decides (who is told about which keys) becomes a RESP3 `invalidate` push, or a
//! `__redis__:invalidate` message for a client redirecting to a RESP2 subscriber, or a
//! `tracking-redir-broken` push when the redirect target is gone. Messages for the connection
//! whose command caused them wait in its `pending_pushes` and follow that command's reply;
//! the others go to their event loops.
//!
//! Called by the seam around every command while any client tracks (`Tracking::active`),
//! by the keyspace hook (expired and evicted keys) and by the cron (broadcasts of keys that
//! expired there).

use super::session::ClientState;
use super::Resolved;
use crate::mailbox::WorkerMsg;
use crate::shared::Shared;
use bytes::Bytes;
use slotbox_protocol::command::flags;
use slotbox_protocol::Frame;
use std::sync::atomic::Ordering;
use std::sync::Arc;

const CHANNEL: &[u8] = b"__redis__:invalidate";
/// Keys dropped from the tracking table per command at most, over `tracking-table-max-keys`.
const LIMIT_EFFORT: usize = 100;

/// Tell tracking client `id` that `keys` changed (`None`: every key, after a flush).
pub fn send(shared: &Shared, id: u64, keys: Option<Vec<Bytes>>, mut current: Option<&mut ClientState>) {
    let Some(status) = shared.tracking.status(id) else { return };
    let lookup = |id: u64| shared.clients.lock().get(&id).cloned();
    let redirect = status.options.redirect;
    let (dest, redirected) = if redirect != 0 {
        match lookup(redirect) {
            Some(info) => (info, true),
            None => {
                shared.tracking.mark_broken(id);
                let Some(me) = lookup(id) else { return };
                me.shown.tracking.fetch_or(crate::client::TRACKING_BROKEN_REDIR, Ordering::Relaxed);
                if me.resp.load(Ordering::Relaxed) >= 3 {
                    let f =
                        Frame::Push(vec![Frame::bulk_static("tracking-redir-broken"), Frame::Integer(redirect as i64)]);
                    deliver(shared, &me, f, current.as_deref_mut());
                }
                return;
            }
        }
    } else {
        match lookup(id) {
            Some(info) => (info, false),
            None => return,
        }
    };
    let value = match keys {
        Some(keys) => Frame::Array(keys.into_iter().map(Frame::Bulk).collect()),
        None => Frame::Null,
    };
    let frame = if dest.resp.load(Ordering::Relaxed) >= 3 {
        Frame::Push(vec![Frame::bulk_static("invalidate"), value])
    } else if redirected {
        // Delivered only if the target is subscribed to the channel (`wants_message`).
        Frame::Push(vec![Frame::bulk_static("message"), Frame::Bulk(Bytes::from_static(CHANNEL)), value])
    } else {
        // RESP2 without a redirect: no way to push anything on that connection.
        return;
    };
    deliver(shared, &dest, frame, current);
}

fn deliver(shared: &Shared, dest: &Arc<crate::client::ClientInfo>, frame: Frame, current: Option<&mut ClientState>) {
    match current {
        Some(c) if c.id() == dest.id && c.pushes_early => c.early_pushes.push(frame),
        Some(c) if c.id() == dest.id => c.pending_pushes.push(frame),
        _ => {
            if let Some(h) = shared.workers.get().and_then(|ws| ws.get(dest.worker())) {
                h.send(WorkerMsg::Deliver(dest.id, Arc::new(frame)));
            }
        }
    }
}

/// After a command of `client` ran: the keys it modified are invalidated for the clients
/// that read them (and noted for BCAST prefixes); the keys a read-only command read are
/// remembered for the client when it tracks.
pub fn after_command(
    shared: &Shared,
    client: &mut ClientState,
    r: Resolved,
    args: &[Bytes],
    idx: &[usize],
    modified: Vec<Bytes>,
) {
    // In the order the command modified them (MSET k2 v k1 v tells k2 first, as Redis),
    // each once.
    let mut seen = std::collections::HashSet::with_capacity(modified.len());
    for key in modified {
        if !seen.insert(key.clone()) {
            continue;
        }
        let who = shared.tracking.invalidate(&key, Some(client.id()), true);
        for id in who {
            send(shared, id, Some(vec![key.clone()]), Some(client));
        }
    }
    // Scripts: not the *_RO command itself, nor each command a script runs: the script's
    // declared keys, once it ran a read-only command (`scripting::host`), as Redis.
    let script = client.in_script || matches!(r.full_name, "eval_ro" | "evalsha_ro" | "fcall_ro");
    if r.spec.has(flags::READONLY) && !r.spec.has(flags::PUBSUB) && !idx.is_empty() && !script {
        let keys: Vec<&[u8]> = idx.iter().map(|&i| &args[i][..]).collect();
        shared.tracking.remember(client.id(), &keys, client.tracking_caching);
    }
}

/// Keys evicted to make room for `client`'s command: their readers are told now, the client
/// itself before its reply (as Redis flushes these invalidations before running it).
pub fn evicted(shared: &Shared, client: &mut ClientState) {
    let keys = shared.tracking.take_evicted();
    if keys.is_empty() {
        return;
    }
    client.pushes_early = true;
    for key in keys {
        for id in shared.tracking.invalidate(&key, None, true) {
            send(shared, id, Some(vec![key.clone()]), Some(client));
        }
    }
    client.pushes_early = false;
}

/// A key changed outside any client's command (expired).
pub fn key_changed(shared: &Shared, key: &[u8]) {
    for id in shared.tracking.invalidate(key, None, true) {
        send(shared, id, Some(vec![Bytes::copy_from_slice(key)]), None);
    }
}

/// Send the BCAST messages due, and keep the key table under `tracking-table-max-keys`.
pub fn broadcast(shared: &Shared, mut current: Option<&mut ClientState>) {
    if !shared.tracking.active() {
        return;
    }
    for (id, keys) in shared.tracking.take_broadcasts() {
        send(shared, id, Some(keys), current.as_deref_mut());
    }
    let max = shared.config.read().tracking_table_max_keys;
    for key in shared.tracking.over_limit(max as usize, LIMIT_EFFORT) {
        for id in shared.tracking.invalidate(&key, None, false) {
            send(shared, id, Some(vec![key.clone()]), current.as_deref_mut());
        }
    }
}

/// The end of a client's request (a command, or a whole transaction): BCAST messages go out,
/// and CLIENT CACHING's one-shot flag is spent (unless inside MULTI or set just now).
pub fn end_of_request(shared: &Shared, client: &mut ClientState, r: Resolved) {
    if client.multi.is_none() && !r.full_name.starts_with("client|") {
        client.tracking_caching = false;
    }
    broadcast(shared, Some(client));
}

/// FLUSHALL / FLUSHDB: every tracking client is told that every key changed.
pub fn flushed(shared: &Shared, mut current: Option<&mut ClientState>) {
    for id in shared.tracking.flush() {
        send(shared, id, None, current.as_deref_mut());
    }
}
