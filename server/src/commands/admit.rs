//! Admission checks the execution seam runs before a command (after lookup): protected
//! commands (before auth), the replica's write gate, cluster routing, the stale-data gate. Each
//! answers `Err(reply)` to refuse the command; none runs it.

use super::Resolved;
use crate::commands::session::ClientState;
use crate::shared::Shared;
use crate::store::KeyView;
use bytes::Bytes;
use slotbox_protocol::command::{self, extract_keys};
use slotbox_protocol::frame::errors;
use slotbox_protocol::{key_hash_slot, Frame};
use smallvec::SmallVec;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A protected command (DEBUG) runs only where `enable-debug-command` allows it: `yes`, or
/// `local` for a client on 127.0.0.1 / ::1 (Redis compares the peer's address text with
/// exactly these two). Checked before authentication, as in Redis.
fn protected_gate(shared: &Shared, client: &ClientState, r: Resolved) -> Result<(), Frame> {
    if !r.spec.has(command::flags::PROTECTED) {
        return Ok(());
    }
    let allowed = match shared.config.read().enable_debug_command.as_str() {
        "yes" => true,
        "local" => matches!(client.info.addr.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST) | IpAddr::V6(Ipv6Addr::LOCALHOST)),
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(Frame::error_static(super::debug::NOT_ALLOWED))
    }
}

/// A replica refuses writes (`replica-read-only`); a master with `min-replicas-to-write`
/// refuses them without enough good replicas.
fn replication_gate(shared: &Shared) -> Result<(), Frame> {
    // Read from atomics: this runs for every write command.
    let hot = &shared.hot;
    if shared.keyspace.is_replica() {
        if hot.replica_read_only.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(Frame::error_static("READONLY You can't write against a read only replica."));
        }
        return Ok(());
    }
    let min = hot.min_replicas_to_write.load(std::sync::atomic::Ordering::Relaxed);
    let lag = hot.min_replicas_max_lag.load(std::sync::atomic::Ordering::Relaxed);
    if min > 0 && shared.repl.good_replicas(lag as i64) < min {
        return Err(Frame::error_static("NOREPLICAS Not enough good replicas to write."));
    }
    Ok(())
}

/// Cluster mode: may this node run the command (or the queued transaction, at EXEC)?
fn cluster_route(
    shared: &Shared,
    cs: &crate::cluster::ClusterState,
    client: &ClientState,
    r: Resolved,
    args: &[Bytes],
    asking: bool,
    held: &mut Option<KeyView<'_>>,
) -> Result<(), Frame> {
    let is_exec = r.full_name == "exec";
    if r.spec.key_specs.is_empty() && !is_exec {
        return Ok(());
    }
    // Inline storage: this runs for every keyed command in cluster mode.
    let mut keys: SmallVec<[&[u8]; 4]> = SmallVec::new();
    let mut is_write = r.spec.has(command::flags::WRITE);
    if is_exec {
        let Some(m) = &client.multi else { return Ok(()) };
        for q in &m.queued {
            is_write |= q.spec.has(command::flags::WRITE);
            keys.extend(extract_keys(q.spec, &q.args).iter().map(|&i| q.args[i].as_ref()));
        }
    } else {
        keys.extend(extract_keys(r.spec, args).iter().map(|&i| args[i].as_ref()));
    }
    let q = crate::cluster::Query {
        keys: &keys,
        is_write,
        asking,
        cmd_asking: r.full_name == "restore-asking",
        readonly_client: client.readonly,
        is_migrate: r.full_name == "migrate",
        is_pubsub_shard: matches!(r.full_name, "ssubscribe" | "sunsubscribe" | "spublish"),
        allow_reads_when_down: cs.config.allow_reads_when_down,
    };
    let now = crate::clock::unix_time_ms();
    let exists = |key: &[u8]| {
        let slot = key_hash_slot(key);
        // Slots this batch still holds (the command's own) are read through their guard.
        if let Some(shard) = held.as_mut().and_then(|v| v.locked_shard(slot)) {
            return shard.get(key).is_some_and(|e| !e.is_expired(now));
        }
        let shard = shared.keyspace.db(client.db).shard(slot);
        shard.get(key).is_some_and(|e| !e.is_expired(now))
    };
    match crate::cluster::route(&cs.routes, &q, exists) {
        crate::cluster::Route::Local => Ok(()),
        crate::cluster::Route::Refuse(msg) => Err(Frame::error(msg)),
    }
}

/// A replica whose link to its master is down refuses what is not flagged `stale` when
/// `replica-serve-stale-data` is `no` (EXEC: when any queued command is not), as Redis does.
fn stale_gate(shared: &Shared, client: &ClientState, r: Resolved) -> Result<(), Frame> {
    if client.is_master_link || shared.hot.replica_serve_stale_data.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(());
    }
    let link_down = shared.repl.master.lock().as_ref().is_some_and(|l| !l.is_up());
    if !link_down {
        return Ok(());
    }
    let stale_ok = |r: &Resolved| r.spec.has(command::flags::STALE);
    let denied = if r.full_name == "exec" {
        client.multi.as_ref().is_some_and(|m| m.queued.iter().any(|q| !q.spec.has(command::flags::STALE)))
    } else {
        !stale_ok(&r)
    };
    if denied {
        return Err(Frame::error_static(
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
        ));
    }
    Ok(())
}

/// Over `maxmemory`, before command `r` of `client` (holding no slot lock): make room, or
/// the refusal. As Redis, refused when nothing could be evicted: commands that may grow
/// memory, anything queued inside MULTI (but EXEC and DISCARD), and EXEC of a queue holding
/// such commands (answered EXECABORT; the caller discards the transaction).
fn make_room(shared: &Shared, client: &ClientState, r: Resolved) -> Result<(), Frame> {
    use slotbox_protocol::command::flags::DENYOOM;
    let name = r.full_name;
    let denyoom = r.spec.has(DENYOOM)
        || match &client.multi {
            Some(m) if name == "exec" => m.queued.iter().any(|q| q.spec.has(DENYOOM)),
            Some(_) => !matches!(name, "discard" | "quit" | "reset"),
            None => false,
        };
    crate::evict::make_room(shared, denyoom, crate::clock::unix_time_ms()).map_err(|e| {
        if name != "exec" {
            return e;
        }
        let why = String::from_utf8_lossy(e.error_text().unwrap_or_default()).into_owned();
        Frame::error(format!("EXECABORT Transaction discarded because of: {why}"))
    })
}

/// The admission chain, in Redis's order: protected commands, auth, MONITOR clients kept off
/// the keyspace, room under `maxmemory`, the replica's write gate, cluster routing, the RESP2
/// pub/sub context, stale data. `Err` is the refusal.
pub(super) fn admit<'s>(
    shared: &'s Shared,
    client: &mut ClientState,
    r: Resolved,
    args: &[Bytes],
    held: &mut Option<KeyView<'s>>,
) -> Result<(), Frame> {
    protected_gate(shared, client, r)?;
    auth_gate(client, r)?;
    monitor_gate(client, r)?;
    if !client.is_master_link && crate::evict::over_limit(shared) {
        *held = None;
        make_room(shared, client, r)?;
    }
    let asking = std::mem::take(&mut client.asking);
    if r.spec.has(command::flags::WRITE) && !client.is_master_link {
        replication_gate(shared)?;
    }
    if let Some(cs) = shared.cluster.get().filter(|_| !client.is_master_link) {
        cluster_route(shared, cs, client, r, args, asking, held)?;
    }
    pubsub_context_gate(client, r)?;
    stale_gate(shared, client, r)
}

/// Is command `r` held back by a client pause (checked after every admission check, as
/// Redis does last in `processCommand`)? `WRITE` holds back what writes or may replicate, and
/// EXEC of a queue holding such commands; `ALL` holds back everything. The master's stream
/// is never paused here (it is applied by its own link), nor are the commands EXEC or a
/// woken blocked client runs.
pub(super) fn paused(
    shared: &Shared,
    client: &ClientState,
    r: Resolved,
    args: &[Bytes],
) -> Option<crate::pause::PauseKind> {
    use crate::pause::PauseKind;
    let kind = shared.pause.kind_now(crate::clock::unix_time_ms);
    if kind == PauseKind::Off || client.is_master_link || client.in_exec || client.serving_blocked {
        return None;
    }
    // A script that declares `no-writes` is a read (Redis takes a script's flags for its
    // command's).
    if kind != PauseKind::All && super::scripting::declares_no_writes(shared, r.full_name, args) {
        return None;
    }
    let writes = command::flags::WRITE | command::flags::MAY_REPLICATE;
    let held = kind == PauseKind::All
        || r.spec.flags & writes != 0
        || (r.full_name == "exec"
            && client.multi.as_ref().is_some_and(|m| {
                m.queued.iter().any(|q| {
                    q.spec.flags & writes != 0
                        && !super::scripting::declares_no_writes(shared, super::registry::name_of(q.id), &q.args)
                })
            }));
    held.then_some(kind)
}

/// A client that has not authenticated may only run `no_auth` commands.
fn auth_gate(client: &ClientState, r: Resolved) -> Result<(), Frame> {
    if !client.authenticated && !r.spec.has(command::flags::NO_AUTH) {
        return Err(Frame::error_static(errors::NOAUTH));
    }
    Ok(())
}

/// A MONITOR client stays off the keyspace (Redis answers as for a replica).
fn monitor_gate(client: &ClientState, r: Resolved) -> Result<(), Frame> {
    let keyspace = command::flags::WRITE | command::flags::READONLY | command::flags::MAY_REPLICATE;
    if r.spec.flags & keyspace != 0 && client.info.monitor.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(Frame::error_static("ERR Replica can't interact with the keyspace"));
    }
    Ok(())
}

/// A RESP2 client in subscribed mode may only (un)subscribe, PING, QUIT and RESET.
fn pubsub_context_gate(client: &ClientState, r: Resolved) -> Result<(), Frame> {
    if client.resp == slotbox_protocol::Protocol::Resp2
        && client.in_pubsub()
        && !super::pubsub::allowed_in_pubsub(r.full_name)
    {
        return Err(Frame::error(format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            r.full_name
        )));
    }
    Ok(())
}
