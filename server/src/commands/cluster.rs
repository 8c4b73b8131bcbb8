//! CLUSTER subcommands, ASKING, READONLY and READWRITE. Handlers parse arguments and call
//! [`ClusterState`] operations; reply shapes for SLOTS / SHARDS / LINKS are in `cluster/view.rs`.
//! In standalone mode every one of them answers "ERR This instance has cluster support
//! disabled", as Redis does.

mod view;

use super::{args, Ctx, Registration};
use crate::cluster::ops::{node_id_arg, SetSlot};
use crate::cluster::ClusterState;
use crate::commands::Reply;
use bytes::Bytes;
use slotbox_protocol::{key_hash_slot, Frame, SLOT_COUNT};
use std::sync::Arc;

const DISABLED: &str = "ERR This instance has cluster support disabled";

fn cs(ctx: &Ctx) -> Result<Arc<ClusterState>, Frame> {
    ctx.shared.cluster.get().cloned().ok_or(Frame::error_static(DISABLED))
}

fn done(r: Result<(), String>) -> Frame {
    match r {
        Ok(()) => Frame::ok(),
        Err(e) => Frame::error(e),
    }
}

/// A slot number argument ("ERR Invalid or out of range slot").
fn slot_arg(a: &[u8]) -> Result<u16, Frame> {
    match slotbox_protocol::float::parse_i64(a) {
        Some(s) if (0..SLOT_COUNT as i64).contains(&s) => Ok(s as u16),
        _ => Err(Frame::error_static("ERR Invalid or out of range slot")),
    }
}

fn keys_in_slot(ctx: &Ctx, slot: u16) -> usize {
    let now = ctx.now_ms;
    ctx.shared.keyspace.db(0).shard(slot).nodes().filter(|e| !e.is_expired(now)).count()
}

fn myid(ctx: &mut Ctx, _a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    Ok(Frame::Bulk(c.myself_id().into()))
}

fn myshardid(ctx: &mut Ctx, _a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    let g = c.lock();
    let id = g.master_of(g.me()).id.clone();
    Ok(Frame::Bulk(id.into()))
}

fn nodes(ctx: &mut Ctx, _a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    Ok(Frame::Verbatim("txt", c.nodes_text().into()))
}

fn info(ctx: &mut Ctx, _a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    Ok(Frame::Verbatim("txt", c.info_text().into()))
}

fn slots(ctx: &mut Ctx, _a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    Ok(view::slots(&c))
}

fn shards(ctx: &mut Ctx, _a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    Ok(view::shards(&c))
}

fn links(ctx: &mut Ctx, _a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    Ok(view::links(&c))
}

fn keyslot(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    cs(ctx)?;
    Ok(Frame::Integer(key_hash_slot(&a[2]) as i64))
}

fn countkeysinslot(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    cs(ctx)?;
    let slot = match slotbox_protocol::float::parse_i64(&a[2]) {
        Some(s) if (0..SLOT_COUNT as i64).contains(&s) => s as u16,
        _ => return Ok(Frame::error_static("ERR Invalid slot")),
    };
    Ok(Frame::Integer(keys_in_slot(ctx, slot) as i64))
}

fn getkeysinslot(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    cs(ctx)?;
    let (slot, count) = match (slotbox_protocol::float::parse_i64(&a[2]), slotbox_protocol::float::parse_i64(&a[3])) {
        (Some(s), Some(n)) if (0..SLOT_COUNT as i64).contains(&s) && n >= 0 => (s as u16, n as usize),
        _ => return Ok(Frame::error_static("ERR Invalid slot or number of keys")),
    };
    let mut keys = Vec::new();
    ctx.shared.keyspace.db(0).for_each_key_in_slot(slot, ctx.now_ms, |k, _| {
        if keys.len() < count {
            keys.push(Frame::Bulk(Bytes::copy_from_slice(k)));
        }
    });
    Ok(Frame::Array(keys))
}

fn addslots(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    let mut slots = Vec::new();
    for s in &a[2..] {
        slots.push(slot_arg(s)?);
    }
    Ok(done(c.add_slots(&slots)))
}

fn delslots(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    let mut slots = Vec::new();
    for s in &a[2..] {
        slots.push(slot_arg(s)?);
    }
    Ok(done(c.del_slots(&slots)))
}

/// ADDSLOTSRANGE / DELSLOTSRANGE arguments: pairs of start end.
fn ranges(ctx: &Ctx, a: &[Bytes], name: &str) -> Result<Vec<u16>, Frame> {
    if !a.len().is_multiple_of(2) {
        let _ = ctx;
        return Err(Frame::error(slotbox_protocol::frame::errors::wrong_arity(name)));
    }
    let mut slots = Vec::new();
    for pair in a[2..].chunks(2) {
        let (s, e) = (slot_arg(&pair[0])?, slot_arg(&pair[1])?);
        if s > e {
            return Err(Frame::error(format!("ERR start slot number {s} is greater than end slot number {e}")));
        }
        slots.extend(s..=e);
    }
    Ok(slots)
}

fn addslotsrange(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    let slots = ranges(ctx, a, "cluster|addslotsrange")?;
    Ok(done(c.add_slots(&slots)))
}

fn delslotsrange(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    let slots = ranges(ctx, a, "cluster|delslotsrange")?;
    Ok(done(c.del_slots(&slots)))
}

fn flushslots(ctx: &mut Ctx, _a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    if !ctx.shared.keyspace.db(0).is_empty() {
        return Ok(Frame::error_static("ERR DB must be empty to perform CLUSTER FLUSHSLOTS."));
    }
    c.flush_slots();
    Ok(Frame::ok())
}

fn meet(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    let ip = String::from_utf8_lossy(&a[2]).into_owned();
    let port = match slotbox_protocol::float::parse_i64(&a[3]) {
        Some(p) if (0..=65535).contains(&p) => p as u16,
        _ => return Ok(Frame::error(format!("ERR Invalid base port specified: {}", String::from_utf8_lossy(&a[3])))),
    };
    let cport = match a.get(4) {
        None => port.wrapping_add(10000),
        Some(v) => match slotbox_protocol::float::parse_i64(v) {
            Some(p) if (0..=65535).contains(&p) => p as u16,
            _ => return Ok(Frame::error(format!("ERR Invalid bus port specified: {}", String::from_utf8_lossy(v)))),
        },
    };
    Ok(match c.meet(&ip, port, cport) {
        Ok(()) => Frame::ok(),
        Err(_) => Frame::error(format!("ERR Invalid node address specified: {ip}:{port}")),
    })
}

fn id_or_unknown(a: &[u8]) -> Result<String, Frame> {
    node_id_arg(a).ok_or_else(|| Frame::error(format!("ERR Unknown node {}", String::from_utf8_lossy(a))))
}

fn forget(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    let id = id_or_unknown(&a[2])?;
    Ok(done(c.forget(&id)))
}

fn replicate(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    let id = id_or_unknown(&a[2])?;
    let empty = ctx.shared.keyspace.db(0).is_empty();
    let r = c.replicate(&id, empty);
    if r.is_ok() {
        c.sync_replication(&ctx.shared.repl);
    }
    Ok(done(r))
}

fn replicas(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    let id = id_or_unknown(&a[2])?;
    let g = c.lock();
    Ok(match g.nodes.get(&id) {
        None => Frame::error(format!("ERR Unknown node {id}")),
        Some(n) if !n.is_master() => Frame::error_static("ERR The specified node is not a master"),
        Some(_) => Frame::Array(
            g.replicas_of(&id)
                .iter()
                .map(|r| Frame::Bulk(format!("{}\n", r.describe(r.link_connected)).into()))
                .collect(),
        ),
    })
}

fn setslot(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    let slot = slot_arg(&a[2])?;
    let bad = || Frame::error_static("ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP");
    let action = String::from_utf8_lossy(&a[3]).to_ascii_lowercase();
    let op = match (action.as_str(), a.len()) {
        ("stable", 4) => SetSlot::Stable,
        ("importing" | "migrating" | "node", 5) => {
            let Some(id) = node_id_arg(&a[4]) else {
                return Ok(Frame::error(format!("ERR I don't know about node {}", String::from_utf8_lossy(&a[4]))));
            };
            match action.as_str() {
                "importing" => SetSlot::Importing(id),
                "migrating" => SetSlot::Migrating(id),
                _ => SetSlot::Node(id),
            }
        }
        _ => return Ok(bad()),
    };
    let keys = keys_in_slot(ctx, slot);
    Ok(done(c.set_slot(slot, op, keys)))
}

fn set_config_epoch(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    Ok(match slotbox_protocol::float::parse_i64(&a[2]) {
        Some(e) if e >= 0 => done(c.set_config_epoch(e as u64)),
        _ => Frame::error(format!("ERR Invalid config epoch specified: {}", String::from_utf8_lossy(&a[2]))),
    })
}

fn bumpepoch(ctx: &mut Ctx, _a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    Ok(Frame::Simple(c.bump_epoch().into()))
}

fn count_failure_reports(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    let id = id_or_unknown(&a[2])?;
    Ok(match c.count_failure_reports(&id) {
        Ok(n) => Frame::Integer(n as i64),
        Err(e) => Frame::error(e),
    })
}

fn reset(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    let hard = match a.get(2) {
        None => false,
        Some(x) if args::is(x, "hard") => true,
        Some(x) if args::is(x, "soft") => false,
        Some(_) => return Ok(args::syntax_error()),
    };
    if c.lock().me().is_master() && !ctx.shared.keyspace.db(0).is_empty() {
        return Ok(Frame::error_static("ERR CLUSTER RESET can't be called with master nodes containing keys"));
    }
    c.reset(hard);
    Ok(Frame::ok())
}

fn saveconfig(ctx: &mut Ctx, _a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    Ok(done(c.save_config()))
}

fn failover(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let c = cs(ctx)?;
    let mode = match a.get(2) {
        None => None,
        Some(x) if args::is(x, "force") => Some("force"),
        Some(x) if args::is(x, "takeover") => Some("takeover"),
        Some(_) => return Ok(args::syntax_error()),
    };
    let r = c.manual_failover(mode);
    if r.is_ok() {
        c.sync_replication(&ctx.shared.repl);
    }
    Ok(done(r))
}

fn help(ctx: &mut Ctx, _a: &[Bytes]) -> Reply {
    cs(ctx)?;
    Ok(view::help())
}

fn asking(ctx: &mut Ctx, _a: &[Bytes]) -> Reply {
    cs(ctx)?;
    ctx.client.asking = true;
    Ok(Frame::ok())
}

fn readonly(ctx: &mut Ctx, _a: &[Bytes]) -> Reply {
    cs(ctx)?;
    ctx.client.readonly = true;
    Ok(Frame::ok())
}

fn readwrite(ctx: &mut Ctx, _a: &[Bytes]) -> Reply {
    cs(ctx)?;
    ctx.client.readonly = false;
    Ok(Frame::ok())
}

pub const COMMANDS: Registration = &[
    ("cluster|myid", myid),
    ("cluster|myshardid", myshardid),
    ("cluster|nodes", nodes),
    ("cluster|info", info),
    ("cluster|slots", slots),
    ("cluster|shards", shards),
    ("cluster|links", links),
    ("cluster|keyslot", keyslot),
    ("cluster|countkeysinslot", countkeysinslot),
    ("cluster|getkeysinslot", getkeysinslot),
    ("cluster|addslots", addslots),
    ("cluster|addslotsrange", addslotsrange),
    ("cluster|delslots", delslots),
    ("cluster|delslotsrange", delslotsrange),
    ("cluster|flushslots", flushslots),
    ("cluster|meet", meet),
    ("cluster|forget", forget),
    ("cluster|replicate", replicate),
    ("cluster|replicas", replicas),
    ("cluster|slaves", replicas),
    ("cluster|setslot", setslot),
    ("cluster|set-config-epoch", set_config_epoch),
    ("cluster|bumpepoch", bumpepoch),
    ("cluster|count-failure-reports", count_failure_reports),
    ("cluster|reset", reset),
    ("cluster|saveconfig", saveconfig),
    ("cluster|help", help),
    ("cluster|failover", failover),
    ("asking", asking),
    ("readonly", readonly),
    ("readwrite", readwrite),
];
