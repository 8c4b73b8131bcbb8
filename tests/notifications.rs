//! Keyspace notifications (`notify-keyspace-events`) as real Redis 7.0 sends them: the same
//! commands against both servers, with a subscriber on `__key*__:*`, give the same messages in
//! the same order. (The command families report their own events; this covers the generic
//! ones: del, rename, move, copy, expired, new.)

mod common;

use common::{RawClient, ServerProcess};
use slotbox::protocol::Frame;
use slotbox::Server;

fn messages(sub: &mut RawClient, until: &str) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let (f, _) = sub.read_reply();
        let (Frame::Array(parts) | Frame::Push(parts)) = f else { panic!("not a message: {f:?}") };
        let text: Vec<String> = parts.iter().map(common::text).collect();
        out.push(text[2..].join(" "));
        if last_is(&text, until) {
            return out;
        }
    }
}

fn run(addr: std::net::SocketAddr) -> Vec<String> {
    let mut c = RawClient::connect(addr);
    assert_eq!(c.call(&["CONFIG", "SET", "notify-keyspace-events", "KEgxn"]), Frame::ok());
    assert_eq!(
        c.call(&["CONFIG", "GET", "notify-keyspace-events"]).to_string_lossy(),
        "[notify-keyspace-events, gxnKE]"
    );
    let mut sub = RawClient::connect(addr);
    sub.call(&["PSUBSCRIBE", "__key*__:*"]);
    for cmd in [
        &["SET", "a", "1"][..],
        &["SET", "a", "2"],
        &["RENAME", "a", "b"],
        &["COPY", "b", "c"],
        &["SELECT", "3"],
        &["SET", "d", "1"],
        &["MOVE", "d", "4"],
        &["COPY", "d", "e", "DB", "5"],
        &["SELECT", "0"],
        &["DEL", "b", "c", "nosuch"],
        &["SET", "kept", "1"],
        &["EXPIRE", "kept", "100"],
        &["PERSIST", "kept"],
        &["PEXPIRE", "kept", "-1"],
        &["SET", "gone", "1"],
        &["PEXPIRE", "gone", "1"],
    ] {
        c.call(cmd);
    }
    // Until the expiry cycle reclaims `gone` (the keyevent message is the last of the two).
    messages(&mut sub, "gone:expired")
}

fn last_is(text: &[String], until: &str) -> bool {
    match until.split_once(':') {
        Some((key, event)) => text.len() == 4 && text[3] == key && text[2].ends_with(event),
        None => false,
    }
}

trait Lossy {
    fn to_string_lossy(&self) -> String;
}

impl Lossy for Frame {
    fn to_string_lossy(&self) -> String {
        match self {
            Frame::Array(items) => format!("[{}]", items.iter().map(common::text).collect::<Vec<_>>().join(", ")),
            other => common::text(other),
        }
    }
}

#[test]
fn generic_events_are_published_as_redis_does() {
    if !common::on_path("redis-server") {
        eprintln!("redis-server not on PATH: skipped");
        return;
    }
    let redis = ServerProcess::redis();
    let slotbox = Server::start().unwrap();
    let want = run(redis.addr());
    let got = run(slotbox.addr());
    assert_eq!(got, want);
    assert!(want.iter().any(|m| m.contains("expired")), "{want:?}");
}
