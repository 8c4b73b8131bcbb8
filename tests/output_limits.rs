//! `client-output-buffer-limit`: CONFIG GET / SET replies byte for byte as real Redis 7.0
//! gives them, and each class enforced: a normal client whose reply passes its limit, a
//! subscriber that stops reading, a replica link that stops reading. Every wait is bounded.

mod common;

use common::{encode_command, on_path, text, wait_for, RawClient, ServerProcess};
use slotbox::protocol::Frame;
use slotbox::{Config, Server};
use std::io::{Read, Write};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);

#[test]
fn config_replies_match_redis() {
    if !on_path("redis-server") {
        eprintln!("redis-server not on PATH: skipped");
        return;
    }
    let redis = ServerProcess::redis();
    let slotbox = Server::start().unwrap();
    let (mut r, mut s) = (RawClient::connect(redis.addr()), RawClient::connect(slotbox.addr()));
    let get = ["CONFIG", "GET", "client-output-buffer-limit"];
    let set = |v: &str| vec!["CONFIG".to_string(), "SET".into(), "client-output-buffer-limit".into(), v.into()];
    let session = [
        get.iter().map(|s| s.to_string()).collect(),
        set("normal 1mb 512kb 10 pubsub 64mb 16mb 120"),
        set("normal 1 2"),
        set("master 0 0 0"),
        set("normal x 0 0"),
        set("replica 1gb 1gb -1"),
        set("Slave 1k 1k 1"),
        set(""),
        get.iter().map(|s| s.to_string()).collect(),
    ];
    for cmd in &session {
        assert_eq!(common::show(&s.call_raw(cmd)), common::show(&r.call_raw(cmd)), "{cmd:?}");
    }
}

#[test]
fn normal_client_over_its_limit_is_closed_without_the_reply() {
    let server = Server::start().unwrap();
    let mut admin = RawClient::connect(server.addr());
    let big = "x".repeat(8 << 20);
    assert_eq!(admin.call(&["SET", "big", &big]), Frame::ok());
    let mut reader = RawClient::connect(server.addr());
    assert_eq!(reader.call(&["STRLEN", "big"]), Frame::Integer(8 << 20), "no limit by default");
    assert_eq!(reader.call(&["GET", "big"]).as_bytes().map(|b| b.len()), Some(8 << 20));
    assert_eq!(admin.call(&["CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 0 0"]), Frame::ok());
    reader.send_raw(&encode_command(&["GET", "big"]));
    let (frames, closed) = reader.read_until_closed();
    assert!(closed && frames.is_empty(), "the reply over the limit is not sent: {} frames", frames.len());
    assert_eq!(admin.call(&["GET", "small"]), Frame::Null, "small replies are fine");
}

#[test]
fn subscriber_over_a_configured_pubsub_limit_is_closed() {
    let server = Server::start().unwrap();
    let mut admin = RawClient::connect(server.addr());
    assert_eq!(admin.call(&["CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 0 0"]), Frame::ok());
    let mut slow = RawClient::connect(server.addr());
    assert!(matches!(slow.call(&["SUBSCRIBE", "firehose"]), Frame::Array(_) | Frame::Push(_)));
    let payload = "x".repeat(256 * 1024);
    for _ in 0..100 {
        assert!(matches!(admin.call(&["PUBLISH", "firehose", &payload]), Frame::Integer(0 | 1)));
    }
    let (frames, closed) = slow.read_until_closed();
    assert!(closed, "the subscriber should have been disconnected");
    assert!(frames.len() < 100, "all {} messages arrived: nothing was cut", frames.len());
}

#[test]
fn replica_link_over_its_limit_is_closed() {
    let config = Config { repl_backlog_size: 128 << 20, ..Config::ephemeral() };
    let server = Server::with_config(config).unwrap();
    let mut admin = RawClient::connect(server.addr());
    assert_eq!(admin.call(&["CONFIG", "SET", "client-output-buffer-limit", "replica 2mb 0 0"]), Frame::ok());
    // A replica that syncs, then stops reading.
    let mut replica = std::net::TcpStream::connect(server.addr()).unwrap();
    replica.set_read_timeout(Some(LIMIT)).unwrap();
    replica.write_all(&encode_command(&["PSYNC", "?", "-1"])).unwrap();
    let mut head = [0u8; 11];
    replica.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"+FULLRESYNC");
    let slaves = |c: &mut RawClient| {
        let info = text(&c.call(&["INFO", "replication"]));
        info.lines().find_map(|l| l.strip_prefix("connected_slaves:")).map(|v| v.trim().to_string())
    };
    assert!(wait_for(LIMIT, || slaves(&mut admin).as_deref() == Some("1")), "the replica never came online");
    let value = "v".repeat(1 << 20);
    for i in 0..48 {
        assert_eq!(admin.call(&["SET", &format!("k{i}"), &value]), Frame::ok());
    }
    assert!(
        wait_for(LIMIT, || slaves(&mut admin).as_deref() == Some("0")),
        "the replica link over its output limit was not closed"
    );
}
