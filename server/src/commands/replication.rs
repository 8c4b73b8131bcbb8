//! Replication commands: REPLICAOF / SLAVEOF, ROLE, WAIT, REPLCONF, and PSYNC / SYNC (which
//! turn the connection into a replica link served by `repl::master`).

use super::{args, Ctx, Registration};
use crate::commands::Reply;
use bytes::Bytes;
use slotbox_protocol::float::parse_i64;
use slotbox_protocol::Frame;
use std::sync::atomic::Ordering;

fn replicaof(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    if ctx.shared.cluster.get().is_some() {
        return Ok(Frame::error_static("ERR REPLICAOF not allowed in cluster mode."));
    }
    if args::is(&a[1], "no") && args::is(&a[2], "one") {
        if ctx.shared.repl.is_replica() {
            crate::repl::replica::set_master(&ctx.shared.repl, None);
            crate::log::notice("MASTER MODE enabled (user request)");
        }
        return Ok(Frame::ok());
    }
    let host = String::from_utf8_lossy(&a[1]).into_owned();
    let port = match parse_i64(&a[2]) {
        Some(p) if (0..=65535).contains(&p) => p as u16,
        _ => return Ok(Frame::error_static("ERR Invalid master port")),
    };
    if let Some(link) = ctx.shared.repl.master.lock().as_ref() {
        if link.host == host && link.port == port {
            return Ok(Frame::simple_static("OK Already connected to specified master"));
        }
    }
    crate::repl::replica::set_master(&ctx.shared.repl, Some((host.clone(), port)));
    crate::log::notice(&format!("REPLICAOF {host}:{port} enabled (user request from '{}')", ctx.client.info.addr));
    Ok(Frame::ok())
}

fn role(ctx: &mut Ctx, _a: &[Bytes]) -> Reply {
    let repl = &ctx.shared.repl;
    if let Some(link) = repl.master.lock().as_ref() {
        let state = link.state().name();
        return Ok(Frame::Array(vec![
            Frame::bulk_static("slave"),
            Frame::Bulk(link.host.clone().into()),
            Frame::Integer(link.port as i64),
            Frame::bulk_static(state),
            Frame::Integer(repl.offset() as i64),
        ]));
    }
    let replicas = repl
        .replicas
        .lock()
        .iter()
        .filter(|r| !r.gone.load(Ordering::Relaxed) && *r.state.lock() == "online")
        .map(|r| {
            Frame::Array(vec![
                Frame::Bulk(r.addr.ip().to_string().into()),
                Frame::Bulk(r.listening_port.load(Ordering::Relaxed).to_string().into()),
                Frame::Bulk(r.ack_offset.load(Ordering::Relaxed).to_string().into()),
            ])
        })
        .collect();
    Ok(Frame::Array(vec![Frame::bulk_static("master"), Frame::Integer(repl.offset() as i64), Frame::Array(replicas)]))
}

fn wait(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    if ctx.shared.keyspace.is_replica() {
        return Ok(Frame::error_static("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated."));
    }
    let num = args::int(&a[1])?;
    let timeout = match parse_i64(&a[2]) {
        Some(t) if t >= 0 => t,
        Some(_) => return Ok(Frame::error_static("ERR timeout is negative")),
        None => return Ok(Frame::error_static("ERR timeout is not an integer or out of range")),
    };
    let offset = ctx.client.last_write_offset;
    let acked = ctx.shared.repl.acked(offset);
    if acked as i64 >= num || ctx.client.in_exec {
        return Ok(Frame::Integer(acked as i64));
    }
    ctx.shared.repl.request_acks(&ctx.shared.stream);
    let deadline = if timeout > 0 { ctx.now_ms + timeout } else { 0 };
    ctx.client.waiting = Some((offset, num.max(0) as usize, deadline));
    Ok(Frame::Null)
}

fn replconf(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    if a.len().is_multiple_of(2) {
        return Ok(args::syntax_error());
    }
    for pair in a[1..].chunks(2) {
        if args::is(&pair[0], "listening-port") {
            ctx.client.repl_listening_port = parse_i64(&pair[1]).unwrap_or(0).max(0) as u64;
        } else if args::is(&pair[0], "ack") || args::is(&pair[0], "getack") {
            // Only meaningful on a replica link; never answered.
            return Ok(Frame::Raw(Bytes::new()));
        } else if !(args::is(&pair[0], "capa") || args::is(&pair[0], "ip-address") || args::is(&pair[0], "rdb-only")) {
            return Ok(Frame::error(format!(
                "ERR Unrecognized REPLCONF option: {}",
                String::from_utf8_lossy(&pair[0])
            )));
        }
    }
    Ok(Frame::ok())
}

fn psync(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    if ctx.shared.keyspace.is_replica() && !ctx.shared.repl.master.lock().as_ref().is_some_and(|l| l.is_up()) {
        return Ok(Frame::error_static("NOMASTERLINK Can't SYNC while not connected with my master"));
    }
    let replid = String::from_utf8_lossy(&a[1]).into_owned();
    let from = parse_i64(&a[2]).unwrap_or(-1);
    ctx.client.handoff = Some((replid, from));
    Ok(Frame::Raw(Bytes::new()))
}

fn sync(ctx: &mut Ctx, _a: &[Bytes]) -> Reply {
    ctx.client.handoff = Some(("?".into(), -1));
    Ok(Frame::Raw(Bytes::new()))
}

pub const COMMANDS: Registration = &[
    ("replicaof", replicaof),
    ("slaveof", replicaof),
    ("role", role),
    ("wait", wait),
    ("replconf", replconf),
    ("psync", psync),
    ("sync", sync),
];
