//! The commands a sentinel answers (Redis 7.0's sentinel command table): PING, INFO, ROLE,
//! SENTINEL, the pub/sub family, PUBLISH (hello messages only), CLIENT, HELLO, AUTH,
//! SHUTDOWN, QUIT. One function per command; SENTINEL's subcommands are in `sentinel_cmd`.

use super::client::Client;
pub use super::ctx::{arity, lower, Ctx};
use super::state::Sentinel;
use bytes::Bytes;
use mio::Token;
use slotbox_protocol::encode::Protocol;
use slotbox_protocol::frame::Frame;
use std::collections::HashMap;

fn unknown_command(args: &[Bytes]) -> Frame {
    let mut msg = format!("ERR unknown command '{}', with args beginning with: ", String::from_utf8_lossy(&args[0]));
    for a in &args[1..] {
        msg.push_str(&format!("'{}' ", String::from_utf8_lossy(a)));
    }
    Frame::error(msg)
}

pub fn execute(ctx: &mut Ctx, c: &mut Client, args: Vec<Bytes>) -> Frame {
    let name = lower(&args[0]);
    c.last_cmd = name.clone();
    let subscribed = c.subscriptions() > 0 && c.proto == Protocol::Resp2;
    if subscribed
        && !matches!(
            name.as_str(),
            "subscribe" | "psubscribe" | "unsubscribe" | "punsubscribe" | "ping" | "quit" | "reset"
        )
    {
        return Frame::error(format!(
            "ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
        ));
    }
    match name.as_str() {
        "ping" => ping(&args, subscribed),
        "sentinel" => super::sentinel_cmd::sentinel(ctx, &args),
        "info" => super::info_cmd::info(ctx.s, ctx.others.len() + 1, &args),
        "role" if args.len() == 1 => role(ctx.s),
        "role" => arity("role"),
        "subscribe" | "psubscribe" => subscribe(c, &args, name == "psubscribe"),
        "unsubscribe" | "punsubscribe" => unsubscribe(c, &args, name == "punsubscribe"),
        "publish" => publish(ctx.s, &args),
        "client" => super::client_cmd::client(ctx, c, &args),
        "hello" => super::client_cmd::hello(c, &args),
        "auth" => super::client_cmd::auth(&args),
        "shutdown" => {
            *ctx.shutdown = true;
            Frame::Many(Vec::new())
        }
        "quit" => {
            c.close_after_reply = true;
            Frame::ok()
        }
        _ => unknown_command(&args),
    }
}

fn ping(args: &[Bytes], subscribed: bool) -> Frame {
    if args.len() > 2 {
        return arity("ping");
    }
    if subscribed {
        let msg = args.get(1).cloned().unwrap_or_default();
        return Frame::Array(vec![Frame::bulk_from_slice(b"pong"), Frame::Bulk(msg)]);
    }
    match args.get(1) {
        Some(m) => Frame::Bulk(m.clone()),
        None => Frame::simple_static("PONG"),
    }
}

fn role(s: &Sentinel) -> Frame {
    let names = s.masters.iter().map(|m| Frame::bulk(m.name().to_string())).collect();
    Frame::Array(vec![Frame::bulk_from_slice(b"sentinel"), Frame::Array(names)])
}

fn sub_reply(kind: &str, name: Option<Bytes>, count: usize) -> Frame {
    Frame::Push(vec![
        Frame::bulk(kind.to_string()),
        name.map(Frame::Bulk).unwrap_or(Frame::Null),
        Frame::Integer(count as i64),
    ])
}

fn subscribe(c: &mut Client, args: &[Bytes], pattern: bool) -> Frame {
    let kind = if pattern { "psubscribe" } else { "subscribe" };
    if args.len() < 2 {
        return arity(kind);
    }
    let mut out = Vec::new();
    for ch in &args[1..] {
        let list = if pattern { &mut c.patterns } else { &mut c.channels };
        if !list.contains(ch) {
            list.push(ch.clone());
        }
        out.push(sub_reply(kind, Some(ch.clone()), c.subscriptions()));
    }
    Frame::Many(out)
}

fn unsubscribe(c: &mut Client, args: &[Bytes], pattern: bool) -> Frame {
    let kind = if pattern { "punsubscribe" } else { "unsubscribe" };
    let names: Vec<Bytes> = if args.len() > 1 {
        args[1..].to_vec()
    } else if pattern {
        c.patterns.clone()
    } else {
        c.channels.clone()
    };
    if names.is_empty() {
        return Frame::Many(vec![sub_reply(kind, None, c.subscriptions())]);
    }
    let mut out = Vec::new();
    for ch in names {
        let list = if pattern { &mut c.patterns } else { &mut c.channels };
        list.retain(|x| *x != ch);
        out.push(sub_reply(kind, Some(ch), c.subscriptions()));
    }
    Frame::Many(out)
}

/// Sentinel's PUBLISH takes hello messages only (how sentinels reach each other directly).
fn publish(s: &mut Sentinel, args: &[Bytes]) -> Frame {
    if args.len() != 3 {
        return arity("publish");
    }
    if args[1].as_ref() != b"__sentinel__:hello" {
        return Frame::error_static("ERR Only HELLO messages are accepted by Sentinel instances.");
    }
    let hello = String::from_utf8_lossy(&args[2]).into_owned();
    if !hello.contains(&s.myid) {
        s.process_hello(&hello);
    }
    Frame::Integer(1)
}

/// Deliver one event to the clients subscribed to its channel (or a matching pattern).
pub fn publish_event(clients: &mut HashMap<Token, Client>, channel: &str, msg: &str) {
    let ch = Bytes::copy_from_slice(channel.as_bytes());
    let payload = Bytes::copy_from_slice(msg.as_bytes());
    for c in clients.values_mut() {
        if c.channels.contains(&ch) {
            let f = Frame::Push(vec![
                Frame::bulk_from_slice(b"message"),
                Frame::Bulk(ch.clone()),
                Frame::Bulk(payload.clone()),
            ]);
            c.reply(&f);
        }
        let matching: Vec<Bytes> =
            c.patterns.iter().filter(|p| crate::glob::glob_match(p, channel.as_bytes(), false)).cloned().collect();
        for p in matching {
            let f = Frame::Push(vec![
                Frame::bulk_from_slice(b"pmessage"),
                Frame::Bulk(p),
                Frame::Bulk(ch.clone()),
                Frame::Bulk(payload.clone()),
            ]);
            c.reply(&f);
        }
    }
}
