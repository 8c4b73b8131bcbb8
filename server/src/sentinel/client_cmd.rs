//! Connection commands on a sentinel: CLIENT (SETNAME, GETNAME, ID, INFO, LIST, KILL),
//! HELLO and AUTH (a sentinel has no password of its own, like a default Redis).

use super::client::Client;
use super::ctx::{arity, lower, Ctx};
use super::instance::mstime;
use bytes::Bytes;
use slotbox_protocol::encode::Protocol;
use slotbox_protocol::frame::Frame;

fn unknown_sub(sub: &[u8], cmd: &str) -> Frame {
    Frame::error(format!("ERR unknown subcommand '{}'. Try {cmd} HELP.", String::from_utf8_lossy(sub)))
}

fn describe(c: &Client) -> String {
    let now = mstime();
    let laddr = c.local.map(|a| a.to_string()).unwrap_or_default();
    let flags = if c.subscriptions() > 0 { "P" } else { "N" };
    format!(
        "id={} addr={} laddr={laddr} name={} age={} flags={flags} db=0 sub={} psub={} ssub=0 multi=-1 cmd={} user=default resp={}\n",
        c.id,
        c.addr,
        c.name.as_deref().unwrap_or(""),
        (now - c.created) / 1000,
        c.channels.len(),
        c.patterns.len(),
        c.last_cmd,
        c.proto.version()
    )
}

fn valid_name(n: &[u8]) -> bool {
    n.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

pub fn client(ctx: &mut Ctx, c: &mut Client, args: &[Bytes]) -> Frame {
    if args.len() < 2 {
        return arity("client");
    }
    let sub = lower(&args[1]);
    c.last_cmd = format!("client|{sub}");
    match (sub.as_str(), args.len()) {
        ("setname", 3) => {
            if !valid_name(&args[2]) {
                return Frame::error_static("ERR Client names cannot contain spaces, newlines or special characters.");
            }
            c.name = (!args[2].is_empty()).then(|| String::from_utf8_lossy(&args[2]).into_owned());
            Frame::ok()
        }
        ("getname", 2) => c.name.as_ref().map(|n| Frame::bulk(n.clone())).unwrap_or(Frame::Null),
        ("id", 2) => Frame::Integer(c.id as i64),
        ("info", 2) => Frame::Verbatim("txt", Bytes::from(describe(c))),
        ("list", 2) => {
            let mut all: Vec<&Client> = ctx.others.values().collect();
            all.push(c);
            all.sort_by_key(|c| c.id);
            Frame::Verbatim("txt", Bytes::from(all.iter().map(|c| describe(c)).collect::<String>()))
        }
        ("kill", 3) => {
            let target = String::from_utf8_lossy(&args[2]).into_owned();
            match ctx.others.values().find(|o| o.addr.to_string() == target) {
                Some(o) => {
                    ctx.kill.push(o.id);
                    Frame::ok()
                }
                None if c.addr.to_string() == target => {
                    c.close_after_reply = true;
                    Frame::ok()
                }
                None => Frame::error_static("ERR No such client"),
            }
        }
        ("kill", 4) if lower(&args[2]) == "id" => {
            let Ok(id) = String::from_utf8_lossy(&args[3]).parse::<u64>() else {
                return Frame::error_static("ERR client-id should be greater than 0");
            };
            let n = ctx.others.values().filter(|o| o.id == id).count() as i64;
            ctx.kill.extend(ctx.others.values().filter(|o| o.id == id).map(|o| o.id));
            if c.id == id {
                c.close_after_reply = true;
                return Frame::Integer(n + 1);
            }
            Frame::Integer(n)
        }
        ("setname" | "getname" | "id" | "info" | "list" | "kill", _) => arity(&format!("client|{sub}")),
        _ => unknown_sub(&args[1], "CLIENT"),
    }
}

pub fn auth(args: &[Bytes]) -> Frame {
    match args.len() {
        2 => Frame::error_static(
            "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        ),
        3 if args[1].as_ref() == b"default" => Frame::ok(),
        3 => Frame::error_static("WRONGPASS invalid username-password pair or user is disabled."),
        _ => Frame::error_static("ERR syntax error"),
    }
}

/// `HELLO [protover [AUTH user pass] [SETNAME name]]`.
pub fn hello(c: &mut Client, args: &[Bytes]) -> Frame {
    let mut proto = c.proto;
    if let Some(v) = args.get(1) {
        match String::from_utf8_lossy(v).parse::<i64>() {
            Ok(2) => proto = Protocol::Resp2,
            Ok(3) => proto = Protocol::Resp3,
            Ok(_) => return Frame::error_static("NOPROTO unsupported protocol version"),
            Err(_) => return Frame::error_static("ERR Protocol version is not an integer or out of range"),
        }
    }
    let mut i = 2;
    let mut name = None;
    while i < args.len() {
        match lower(&args[i]).as_str() {
            "auth" if i + 2 < args.len() => {
                if let Frame::Error(e) = auth(&[args[0].clone(), args[i + 1].clone(), args[i + 2].clone()]) {
                    return Frame::Error(e);
                }
                i += 3;
            }
            "setname" if i + 1 < args.len() => {
                if !valid_name(&args[i + 1]) {
                    return Frame::error_static(
                        "ERR Client names cannot contain spaces, newlines or special characters.",
                    );
                }
                name = Some(String::from_utf8_lossy(&args[i + 1]).into_owned());
                i += 2;
            }
            _ => {
                return Frame::error(format!(
                    "ERR Syntax error in HELLO option '{}'",
                    String::from_utf8_lossy(&args[i])
                ))
            }
        }
    }
    c.proto = proto;
    if name.is_some() {
        c.name = name;
    }
    let kv = |k: &str, v: Frame| (Frame::bulk(k.to_string()), v);
    Frame::Map(vec![
        kv("server", Frame::bulk("redis")),
        kv("version", Frame::bulk(crate::core::REDIS_VERSION)),
        kv("proto", Frame::Integer(proto.version())),
        kv("id", Frame::Integer(c.id as i64)),
        kv("mode", Frame::bulk("sentinel")),
        kv("role", Frame::bulk("master")),
        kv("modules", Frame::Array(Vec::new())),
    ])
}
