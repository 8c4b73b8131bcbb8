//! Pub/sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, the sharded
//! SSUBSCRIBE / SUNSUBSCRIBE / SPUBLISH, and PUBSUB introspection. Confirmations are push
//! frames (arrays in RESP2), one per channel, as Redis sends them.

use super::{Ctx, Registration};
use crate::commands::session::ClientState;
use crate::commands::Reply;
use crate::pubsub::{Kind, Subscriber};
use crate::shared::Shared;
use bytes::Bytes;
use slotbox_protocol::Frame;

/// Commands a RESP2 client may send while subscribed.
pub fn allowed_in_pubsub(full_name: &str) -> bool {
    matches!(
        full_name,
        "subscribe"
            | "ssubscribe"
            | "unsubscribe"
            | "sunsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "ping"
            | "quit"
            | "reset"
    )
}

fn me(client: &ClientState) -> Subscriber {
    Subscriber { client_id: client.id(), worker: client.info.worker() }
}

fn list(client: &mut ClientState, kind: Kind) -> &mut Vec<Bytes> {
    match kind {
        Kind::Channel => &mut client.channels,
        Kind::Pattern => &mut client.patterns,
        Kind::Shard => &mut client.shard_channels,
    }
}

/// The count Redis reports in confirmations: shard subscriptions count alone.
fn count(client: &ClientState, kind: Kind) -> i64 {
    match kind {
        Kind::Shard => client.shard_channels.len() as i64,
        _ => (client.channels.len() + client.patterns.len()) as i64,
    }
}

fn confirm(kind_word: &'static str, name: Option<Bytes>, n: i64) -> Frame {
    Frame::Push(vec![Frame::bulk_static(kind_word), name.map_or(Frame::Null, Frame::Bulk), Frame::Integer(n)])
}

fn subscribe_kind(ctx: &mut Ctx, args: &[Bytes], kind: Kind, word: &'static str) -> Frame {
    let sub = me(ctx.client);
    let mut out = Vec::with_capacity(args.len() - 1);
    for name in &args[1..] {
        if !list(ctx.client, kind).contains(name) {
            list(ctx.client, kind).push(name.clone());
            ctx.shared.pubsub.subscribe(kind, name, sub);
        }
        out.push(confirm(word, Some(name.clone()), count(ctx.client, kind)));
    }
    Frame::Many(out)
}

fn unsubscribe_kind(ctx: &mut Ctx, args: &[Bytes], kind: Kind, word: &'static str) -> Frame {
    let names: Vec<Bytes> = if args.len() > 1 { args[1..].to_vec() } else { list(ctx.client, kind).clone() };
    if names.is_empty() {
        return confirm(word, None, count(ctx.client, kind));
    }
    let sub = me(ctx.client);
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let l = list(ctx.client, kind);
        if let Some(pos) = l.iter().position(|c| *c == name) {
            l.remove(pos);
            ctx.shared.pubsub.unsubscribe(kind, &name, sub);
        }
        out.push(confirm(word, Some(name), count(ctx.client, kind)));
    }
    Frame::Many(out)
}

/// Drop every subscription of a closing client.
pub fn unsubscribe_all(shared: &Shared, client: &mut ClientState) {
    let sub = me(client);
    for (kind, names) in [
        (Kind::Channel, std::mem::take(&mut client.channels)),
        (Kind::Pattern, std::mem::take(&mut client.patterns)),
        (Kind::Shard, std::mem::take(&mut client.shard_channels)),
    ] {
        for n in names {
            shared.pubsub.unsubscribe(kind, &n, sub);
        }
    }
}

fn subscribe(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(subscribe_kind(ctx, args, Kind::Channel, "subscribe"))
}

fn psubscribe(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(subscribe_kind(ctx, args, Kind::Pattern, "psubscribe"))
}

fn ssubscribe(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(subscribe_kind(ctx, args, Kind::Shard, "ssubscribe"))
}

fn unsubscribe(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(unsubscribe_kind(ctx, args, Kind::Channel, "unsubscribe"))
}

fn punsubscribe(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(unsubscribe_kind(ctx, args, Kind::Pattern, "punsubscribe"))
}

fn sunsubscribe(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(unsubscribe_kind(ctx, args, Kind::Shard, "sunsubscribe"))
}

fn publish(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if let Some(cs) = ctx.shared.cluster.get() {
        cs.propagate_publish(&args[1], &args[2], false);
    }
    Ok(Frame::Integer(ctx.shared.pubsub.publish(ctx.shared, &args[1], &args[2])))
}

fn spublish(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if let Some(cs) = ctx.shared.cluster.get() {
        cs.propagate_publish(&args[1], &args[2], true);
    }
    Ok(Frame::Integer(ctx.shared.pubsub.spublish(ctx.shared, &args[1], &args[2])))
}

fn pubsub_channels(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let names = ctx.shared.pubsub.channel_names(Kind::Channel, args.get(2).map(|b| b.as_ref()));
    Ok(Frame::Array(names.into_iter().map(Frame::Bulk).collect()))
}

fn pubsub_shardchannels(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let names = ctx.shared.pubsub.channel_names(Kind::Shard, args.get(2).map(|b| b.as_ref()));
    Ok(Frame::Array(names.into_iter().map(Frame::Bulk).collect()))
}

fn numsub(ctx: &mut Ctx, args: &[Bytes], kind: Kind) -> Frame {
    let mut out = Vec::new();
    for c in &args[2..] {
        out.push(Frame::Bulk(c.clone()));
        out.push(Frame::Integer(ctx.shared.pubsub.num_subscribers(kind, c) as i64));
    }
    Frame::Array(out)
}

fn pubsub_numsub(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(numsub(ctx, args, Kind::Channel))
}

fn pubsub_shardnumsub(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(numsub(ctx, args, Kind::Shard))
}

fn pubsub_numpat(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(Frame::Integer(ctx.shared.pubsub.num_patterns() as i64))
}

fn pubsub_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let lines = [
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ];
    Ok(Frame::Array(lines.iter().map(|l| Frame::Simple(Bytes::from_static(l.as_bytes()))).collect()))
}

pub const COMMANDS: Registration = &[
    ("subscribe", subscribe),
    ("psubscribe", psubscribe),
    ("ssubscribe", ssubscribe),
    ("unsubscribe", unsubscribe),
    ("punsubscribe", punsubscribe),
    ("sunsubscribe", sunsubscribe),
    ("publish", publish),
    ("spublish", spublish),
    ("pubsub|channels", pubsub_channels),
    ("pubsub|shardchannels", pubsub_shardchannels),
    ("pubsub|numsub", pubsub_numsub),
    ("pubsub|shardnumsub", pubsub_shardnumsub),
    ("pubsub|numpat", pubsub_numpat),
    ("pubsub|help", pubsub_help),
];
