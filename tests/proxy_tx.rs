//! Transactions through slotbox-proxy over real sockets: MULTI / EXEC on one backend with
//! its real reply array, proxy-local commands spliced into it, WATCH seeing another client's
//! write, a transaction spanning backends refused and aborted (EXECABORT) without running
//! anything, Redis's MULTI / EXEC / DISCARD errors, redis-rs atomic pipelines, and a
//! `cluster: true` pool where a command in another slot gets CROSSSLOT. Every wait is bounded.

mod common;

use common::{bulk, encode_command, error, simple, RawClient};
use slotbox::protocol::Frame;
use slotbox::{Cluster, Proxy, Server};
use std::net::SocketAddr;

fn pool_yaml(servers: &[SocketAddr]) -> String {
    let mut y = String::from("alpha:\n  listen: 127.0.0.1:0\n  redis: true\n  hash: murmur\n  servers:\n");
    for (i, s) in servers.iter().enumerate() {
        y.push_str(&format!("   - {s}:1 server{i}\n"));
    }
    y
}

fn three() -> (Vec<Server>, Proxy) {
    let servers: Vec<Server> = (0..3).map(|_| Server::start().expect("server")).collect();
    let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.addr()).collect();
    let proxy = Proxy::start(&pool_yaml(&addrs)).expect("proxy");
    (servers, proxy)
}

/// Which backend holds `key` (asked directly, after a write through the proxy).
fn holder(servers: &[Server], key: &str) -> usize {
    servers
        .iter()
        .position(|s| RawClient::connect(s.addr()).call(&["EXISTS", key]) == Frame::Integer(1))
        .unwrap_or_else(|| panic!("no backend holds {key}"))
}

/// Two keys that live on different backends.
fn keys_on_two_backends(c: &mut RawClient, servers: &[Server]) -> (String, String) {
    let first = "tx:a".to_string();
    c.call(&["SET", &first, "0"]);
    let home = holder(servers, &first);
    for i in 0..200 {
        let k = format!("tx:b{i}");
        c.call(&["SET", &k, "0"]);
        if holder(servers, &k) != home {
            return (first, k);
        }
    }
    panic!("no key on another backend");
}

#[test]
fn multi_exec_returns_the_backend_array_and_is_atomic() {
    let (servers, proxy) = three();
    let mut c = RawClient::connect(proxy.addr());
    assert_eq!(c.call(&["MULTI"]), simple("OK"));
    assert_eq!(c.call(&["PING"]), simple("QUEUED"));
    assert_eq!(c.call(&["INCR", "tx:counter"]), simple("QUEUED"));
    assert_eq!(c.call(&["INCRBY", "tx:counter", "10"]), simple("QUEUED"));
    assert_eq!(c.call(&["ECHO", "between"]), simple("QUEUED"));
    assert_eq!(c.call(&["GET", "tx:counter"]), simple("QUEUED"));
    let reply = c.call(&["EXEC"]);
    let expected = vec![simple("PONG"), Frame::Integer(1), Frame::Integer(11), bulk("between"), bulk("11")];
    assert_eq!(reply, Frame::Array(expected));
    // The transaction ran on the key's backend, and the connection is back to normal.
    assert_eq!(
        RawClient::connect(servers[holder(&servers, "tx:counter")].addr()).call(&["GET", "tx:counter"]),
        bulk("11")
    );
    assert_eq!(c.call(&["GET", "tx:counter"]), bulk("11"));

    // Pipelined, as client libraries send it.
    let mut batch = Vec::new();
    for args in [&["MULTI"][..], &["SET", "tx:p", "1"], &["APPEND", "tx:p", "2"], &["EXEC"], &["GET", "tx:p"]] {
        batch.extend(encode_command(args));
    }
    c.send_raw(&batch);
    assert_eq!(c.read_reply().0, simple("OK"));
    assert_eq!(c.read_reply().0, simple("QUEUED"));
    assert_eq!(c.read_reply().0, simple("QUEUED"));
    assert_eq!(c.read_reply().0, Frame::Array(vec![simple("OK"), Frame::Integer(2)]));
    assert_eq!(c.read_reply().0, bulk("12"));

    // An empty or local-only transaction is answered by the proxy itself.
    assert_eq!(c.call(&["MULTI"]), simple("OK"));
    assert_eq!(c.call(&["EXEC"]), Frame::Array(vec![]));

    // redis-rs atomic pipeline (MULTI ... EXEC) through the proxy.
    let client = redis::Client::open(proxy.url()).unwrap();
    let mut con = client.get_connection().unwrap();
    let (a, b): (i64, i64) = redis::pipe().atomic().incr("tx:rs", 5).incr("tx:rs", 1).query(&mut con).unwrap();
    assert_eq!((a, b), (5, 6));
}

#[test]
fn watch_sees_another_clients_write() {
    let (_servers, proxy) = three();
    let mut c = RawClient::connect(proxy.addr());
    let mut other = RawClient::connect(proxy.addr());
    c.call(&["SET", "tx:w", "1"]);
    assert_eq!(c.call(&["WATCH", "tx:w"]), simple("OK"));
    assert_eq!(c.call(&["GET", "tx:w"]), bulk("1"));
    assert_eq!(other.call(&["SET", "tx:w", "changed"]), simple("OK"));
    assert_eq!(c.call(&["MULTI"]), simple("OK"));
    assert_eq!(c.call(&["SET", "tx:w", "mine"]), simple("QUEUED"));
    assert_eq!(c.call(&["EXEC"]), Frame::NullArray, "a watched key changed: EXEC must not run");
    assert_eq!(c.call(&["GET", "tx:w"]), bulk("changed"));
    // Without interference the same sequence commits; UNWATCH lets go of the keys.
    assert_eq!(c.call(&["WATCH", "tx:w"]), simple("OK"));
    assert_eq!(c.call(&["MULTI"]), simple("OK"));
    assert_eq!(c.call(&["SET", "tx:w", "mine"]), simple("QUEUED"));
    assert_eq!(c.call(&["EXEC"]), Frame::Array(vec![simple("OK")]));
    assert_eq!(c.call(&["WATCH", "tx:w"]), simple("OK"));
    assert_eq!(c.call(&["UNWATCH"]), simple("OK"));
    other.call(&["SET", "tx:w", "again"]);
    assert_eq!(c.call(&["MULTI"]), simple("OK"));
    assert_eq!(c.call(&["GET", "tx:w"]), simple("QUEUED"));
    assert_eq!(c.call(&["EXEC"]), Frame::Array(vec![bulk("again")]));
}

#[test]
fn transaction_spanning_backends_is_aborted() {
    let (servers, proxy) = three();
    let mut c = RawClient::connect(proxy.addr());
    let (a, b) = keys_on_two_backends(&mut c, &servers);
    assert_eq!(c.call(&["MULTI"]), simple("OK"));
    assert_eq!(c.call(&["SET", &a, "new"]), simple("QUEUED"));
    let Frame::Error(e) = c.call(&["SET", &b, "new"]) else { panic!("a key on another backend must be refused") };
    assert!(String::from_utf8_lossy(&e).contains("different backends"), "{e:?}");
    assert_eq!(c.call(&["EXEC"]), error("EXECABORT Transaction discarded because of previous errors."));
    assert_eq!(c.call(&["GET", &a]), bulk("0"), "nothing of an aborted transaction runs");
    assert_eq!(c.call(&["GET", &b]), bulk("0"));
    // Also when the first keyed command is the stranger, and for WATCH across backends.
    assert_eq!(c.call(&["WATCH", &a]), simple("OK"));
    assert!(matches!(c.call(&["WATCH", &b]), Frame::Error(_)));
    assert_eq!(c.call(&["MULTI"]), simple("OK"));
    assert!(matches!(c.call(&["SET", &b, "x"]), Frame::Error(_)));
    assert_eq!(c.call(&["SET", &a, "x"]), simple("QUEUED"));
    assert_eq!(c.call(&["EXEC"]), error("EXECABORT Transaction discarded because of previous errors."));
    assert_eq!(c.call(&["GET", &a]), bulk("0"));
    // Queue-time errors abort too, as in Redis.
    assert_eq!(c.call(&["MULTI"]), simple("OK"));
    assert!(matches!(c.call(&["NOSUCH"]), Frame::Error(_)));
    assert!(matches!(c.call(&["GET"]), Frame::Error(_)));
    assert_eq!(c.call(&["EXEC"]), error("EXECABORT Transaction discarded because of previous errors."));
}

#[test]
fn multi_exec_discard_errors_match_redis() {
    let (_servers, proxy) = three();
    let mut c = RawClient::connect(proxy.addr());
    assert_eq!(c.call(&["EXEC"]), error("ERR EXEC without MULTI"));
    assert_eq!(c.call(&["DISCARD"]), error("ERR DISCARD without MULTI"));
    assert_eq!(c.call(&["MULTI"]), simple("OK"));
    assert_eq!(c.call(&["MULTI"]), error("ERR MULTI calls can not be nested"));
    assert_eq!(c.call(&["WATCH", "k"]), error("ERR WATCH inside MULTI is not allowed"));
    assert_eq!(c.call(&["SET", "tx:d", "1"]), simple("QUEUED"));
    // Neither error aborted the transaction; DISCARD drops it.
    assert_eq!(c.call(&["DISCARD"]), simple("OK"));
    assert_eq!(c.call(&["GET", "tx:d"]), Frame::Null);
    assert_eq!(c.call(&["MULTI"]), simple("OK"));
    assert_eq!(c.call(&["SET", "tx:d", "2"]), simple("QUEUED"));
    assert_eq!(c.call(&["EXEC"]), Frame::Array(vec![simple("OK")]));
    assert_eq!(c.call(&["GET", "tx:d"]), bulk("2"));
    // RESET drops a transaction in progress.
    assert_eq!(c.call(&["MULTI"]), simple("OK"));
    assert_eq!(c.call(&["SET", "tx:d", "3"]), simple("QUEUED"));
    assert_eq!(c.call(&["RESET"]), simple("RESET"));
    assert_eq!(c.call(&["GET", "tx:d"]), bulk("2"));
    assert_eq!(c.call(&["EXEC"]), error("ERR EXEC without MULTI"));
}

#[test]
fn cluster_pool_transactions_route_by_slot() {
    let cluster = Cluster::start(3).unwrap();
    let yaml = format!(
        "c:\n  listen: 127.0.0.1:0\n  redis: true\n  cluster: true\n  servers:\n   - {}:1\n",
        cluster.addrs()[0]
    );
    let proxy = Proxy::start(&yaml).unwrap();
    let mut c = RawClient::connect(proxy.addr());
    assert_eq!(c.call(&["MULTI"]), simple("OK"));
    assert_eq!(c.call(&["SET", "{user:1}:name", "ann"]), simple("QUEUED"));
    assert_eq!(c.call(&["INCR", "{user:1}:visits"]), simple("QUEUED"));
    assert_eq!(c.call(&["EXEC"]), Frame::Array(vec![simple("OK"), Frame::Integer(1)]));
    // "foo" (slot 12182) and "bar" (slot 5061) are on different masters of a 3-node cluster.
    assert_eq!(c.call(&["MULTI"]), simple("OK"));
    assert_eq!(c.call(&["SET", "foo", "1"]), simple("QUEUED"));
    assert_eq!(c.call(&["SET", "bar", "1"]), error("CROSSSLOT Keys in request don't hash to the same slot"));
    assert_eq!(c.call(&["EXEC"]), error("EXECABORT Transaction discarded because of previous errors."));
    assert_eq!(c.call(&["GET", "foo"]), Frame::Null);
    assert_eq!(c.call(&["GET", "{user:1}:name"]), bulk("ann"));
}

/// The same session, byte for byte: straight to a real redis-server, and through the proxy
/// to another one.
#[test]
fn same_replies_as_real_redis() {
    if !common::on_path("redis-server") {
        eprintln!("redis-server not on PATH: skipped");
        return;
    }
    let direct = common::ServerProcess::redis();
    let backend = common::ServerProcess::redis();
    let proxy = Proxy::start(&pool_yaml(&[backend.addr()])).unwrap();
    let session: &[&[&str]] = &[
        &["EXEC"],
        &["DISCARD"],
        &["MULTI"],
        &["MULTI"],
        &["WATCH", "a"],
        &["INCR", "a"],
        &["PING"],
        &["ECHO", "e"],
        &["GET", "a"],
        &["EXEC"],
        &["MULTI"],
        &["SET", "b", "1"],
        &["NOSUCHCOMMAND", "x"],
        &["GET"],
        &["EXEC"],
        &["GET", "b"],
        &["WATCH", "a", "b"],
        &["MULTI"],
        &["SET", "b", "2"],
        &["DISCARD"],
        &["UNWATCH"],
        &["UNSUBSCRIBE"],
        &["PUNSUBSCRIBE", "p*", "q*"],
        &["SUBSCRIBE", "c1", "c2"],
        &["PING"],
        &["PING", "x"],
        &["GET", "a"],
        &["PSUBSCRIBE", "c*"],
        &["UNSUBSCRIBE", "c1"],
        &["UNSUBSCRIBE"],
        &["PUNSUBSCRIBE"],
        &["GET", "a"],
        &["SUBSCRIBE", "c3"],
        &["RESET"],
        &["GET", "a"],
    ];
    let mut d = RawClient::connect(direct.addr());
    let mut p = RawClient::connect(proxy.addr());
    for cmd in session {
        // Pub/sub commands may answer with several frames: send, then read what arrives.
        let frames = match cmd[0] {
            "SUBSCRIBE" | "PSUBSCRIBE" | "UNSUBSCRIBE" | "PUNSUBSCRIBE" => (cmd.len() - 1).max(1),
            _ => 1,
        };
        d.send_raw(&encode_command(cmd));
        p.send_raw(&encode_command(cmd));
        for _ in 0..frames {
            let (want, got) = (d.read_reply().1, p.read_reply().1);
            assert_eq!(common::show(&got), common::show(&want), "reply to {cmd:?}");
        }
    }
}
