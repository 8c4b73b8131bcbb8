//! slotbox-proxy end to end over real sockets: plain pools over embedded slotbox servers
//! (routing, fan-out and merge, pipelining order, local commands, auth, RESP3, timeouts,
//! ejection and return of a dead backend, stats), and cluster pools over an embedded
//! cluster (slot routing, MOVED during a live slot move). Every wait is bounded.

mod common;

use common::{bulk, encode_command, simple, RawClient};
use slotbox::protocol::Frame;
use slotbox::{Cluster, Proxy, Server};
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

fn pool_yaml(extra: &str, servers: &[SocketAddr]) -> String {
    let mut y = format!("alpha:\n  listen: 127.0.0.1:0\n  redis: true\n{extra}  servers:\n");
    for (i, s) in servers.iter().enumerate() {
        y.push_str(&format!("   - {s}:1 server{i}\n"));
    }
    y
}

fn three_servers() -> Vec<Server> {
    (0..3).map(|_| Server::start().expect("server")).collect()
}

fn addrs(servers: &[Server]) -> Vec<SocketAddr> {
    servers.iter().map(|s| s.addr()).collect()
}

fn int(i: i64) -> Frame {
    Frame::Integer(i)
}

#[test]
fn plain_client_set_get_and_keys_spread() {
    let servers = three_servers();
    let proxy = Proxy::start(&pool_yaml("", &addrs(&servers))).unwrap();
    let client = redis::Client::open(proxy.url()).unwrap();
    let mut con = client.get_connection().unwrap();
    for id in 1001..=1003 {
        let _: () = redis::cmd("SET").arg(format!("user:{id}")).arg(format!("name{id}")).query(&mut con).unwrap();
    }
    for id in 1001..=1003 {
        let v: String = redis::cmd("GET").arg(format!("user:{id}")).query(&mut con).unwrap();
        assert_eq!(v, format!("name{id}"));
    }
    let mut c = RawClient::connect(proxy.addr());
    for i in 0..200 {
        assert_eq!(c.call(&["SET", &format!("k{i}"), "v"]), simple("OK"));
    }
    // fnv1a_64 (nutcracker's default) spreads short similar keys unevenly, as nutcracker does.
    let sizes: Vec<i64> = servers
        .iter()
        .map(|s| match RawClient::connect(s.addr()).call(&["DBSIZE"]) {
            Frame::Integer(n) => n,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(sizes.iter().sum::<i64>(), 203, "{sizes:?}");
    assert!(sizes.iter().filter(|&&n| n > 0).count() >= 2, "{sizes:?}");
}

#[test]
fn fanout_merges_and_spanning_commands_are_refused() {
    let servers = three_servers();
    let proxy = Proxy::start(&pool_yaml("  hash: murmur\n  hash_tag: \"{}\"\n", &addrs(&servers))).unwrap();
    let mut c = RawClient::connect(proxy.addr());
    let keys: Vec<String> = (0..20).map(|i| format!("fan:{i}")).collect();
    let mut mset = vec!["MSET".to_string()];
    for k in &keys {
        mset.push(k.clone());
        mset.push(format!("val-{k}"));
    }
    assert_eq!(c.call(&mset), simple("OK"));
    let mut mget = vec!["MGET".to_string()];
    mget.extend(keys.iter().cloned());
    mget.insert(3, "missing".into());
    let Frame::Array(items) = c.call(&mget) else { panic!("MGET") };
    assert_eq!(items.len(), 21);
    assert_eq!(items[0], bulk("val-fan:0"));
    assert_eq!(items[2], Frame::Null);
    assert_eq!(items[20], bulk("val-fan:19"));
    let mut exists = vec!["EXISTS".to_string()];
    exists.extend(keys.iter().cloned());
    exists.push("nope".into());
    assert_eq!(c.call(&exists), int(20));
    let mut del = vec!["DEL".to_string()];
    del.extend(keys[..10].iter().cloned());
    assert_eq!(c.call(&del), int(10));
    assert_eq!(c.call(&["TOUCH", "fan:10", "fan:11", "fan:1"]), int(2));
    assert_eq!(c.call(&["UNLINK", "fan:10", "fan:11", "fan:12"]), int(3));
    // Keys on different backends: refused with a clear error, never half-run.
    let (a, b) = (0..100)
        .map(|i| format!("s{i}"))
        .collect::<Vec<_>>()
        .windows(2)
        .find_map(|w| {
            c.call(&["SADD", &w[0], "x"]);
            c.call(&["SADD", &w[1], "x"]);
            match c.call(&["SINTER", &w[0], &w[1]]) {
                Frame::Error(_) => Some((w[0].clone(), w[1].clone())),
                _ => None,
            }
        })
        .expect("two keys on different backends");
    let Frame::Error(e) = c.call(&["SUNION", &a, &b]) else { panic!("should refuse") };
    assert!(String::from_utf8_lossy(&e).contains("different backends"));
    // A hash tag keeps them together.
    c.call(&["SADD", "{t}a", "1"]);
    c.call(&["SADD", "{t}b", "1"]);
    assert_eq!(c.call(&["SINTER", "{t}a", "{t}b"]), Frame::Array(vec![bulk("1")]));
}

#[test]
fn pipelined_replies_come_back_in_order() {
    let servers = three_servers();
    let proxy = Proxy::start(&pool_yaml("", &addrs(&servers))).unwrap();
    let mut c = RawClient::connect(proxy.addr());
    let mut batch = Vec::new();
    for i in 0..500 {
        batch.extend(encode_command(&["SET", &format!("p{i}"), &i.to_string()]));
        batch.extend(encode_command(&["GET", &format!("p{i}")]));
        batch.extend(encode_command(&["PING"]));
        batch.extend(encode_command(&["MGET", &format!("p{i}"), "p0"]));
    }
    c.send_raw(&batch);
    for i in 0..500 {
        assert_eq!(c.read_reply().0, simple("OK"));
        assert_eq!(c.read_reply().0, bulk(&i.to_string()));
        assert_eq!(c.read_reply().0, simple("PONG"));
        assert_eq!(c.read_reply().0, Frame::Array(vec![bulk(&i.to_string()), bulk("0")]));
    }
}

#[test]
fn local_commands_resp3_and_unknowns() {
    let servers = three_servers();
    let proxy = Proxy::start(&pool_yaml("", &addrs(&servers))).unwrap();
    let mut c = RawClient::connect(proxy.addr());
    assert_eq!(c.call(&["PING"]), simple("PONG"));
    assert_eq!(c.call(&["ECHO", "hi"]), bulk("hi"));
    assert_eq!(c.call(&["SELECT", "0"]), simple("OK"));
    assert_eq!(c.call(&["CLIENT", "SETINFO", "lib-name", "redis-py"]), simple("OK"));
    assert_eq!(c.call(&["CLIENT", "SETNAME", "app"]), simple("OK"));
    assert_eq!(c.call(&["CLIENT", "GETNAME"]), bulk("app"));
    assert!(matches!(c.call(&["CLIENT", "ID"]), Frame::Integer(_)));
    assert!(matches!(c.call(&["NOSUCHCMD", "x"]), Frame::Error(_)));
    let Frame::Error(e) = c.call(&["KEYS", "*"]) else { panic!("KEYS") };
    assert!(String::from_utf8_lossy(&e).contains("'keys'"));
    assert_eq!(c.call(&["BLPOP", "l", "0.01"]), Frame::NullArray, "blocking commands time out as in Redis");
    assert_eq!(c.call(&["PING"]), simple("PONG"), "connection stays open");
    // RESP3: HELLO 3 is answered locally and replies come back as RESP3.
    assert!(matches!(c.call(&["HELLO", "3"]), Frame::Map(_)));
    c.call(&["HSET", "h", "f", "v"]);
    assert_eq!(c.call_raw(&["HGETALL", "h"]), b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n");
    assert_eq!(c.call_raw(&["GET", "nokey"]), b"_\r\n");
    assert_eq!(c.call_raw(&["MGET", "nokey", "h2", "h3", "h4"]), b"*4\r\n_\r\n_\r\n_\r\n_\r\n");
    assert_eq!(c.call(&["QUIT"]), simple("OK"));
    assert!(c.is_closed_by_server());
}

#[test]
fn auth_with_redis_auth() {
    let server = Server::start().unwrap();
    let yaml = pool_yaml("  redis_auth: sekret\n", &[server.addr()]);
    let proxy = Proxy::start(&yaml).unwrap();
    let mut c = RawClient::connect(proxy.addr());
    assert!(matches!(c.call(&["GET", "k"]), Frame::Error(e) if e.starts_with(b"NOAUTH")));
    assert!(matches!(c.call(&["AUTH", "wrong"]), Frame::Error(e) if e.starts_with(b"WRONGPASS")));
    assert_eq!(c.call(&["AUTH", "sekret"]), simple("OK"));
    // The backend has no password: slotbox forwards AUTH on connect and drops its reply.
    assert_eq!(c.call(&["SET", "k", "v"]), simple("OK"));
    assert_eq!(c.call(&["GET", "k"]), bulk("v"));
}

/// A backend that accepts connections and never answers.
fn silent_backend() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap();
    (l, a)
}

#[test]
fn timeout_gives_connection_timed_out() {
    let (listener, addr) = silent_backend();
    // The silent backend holds its connection open until the test is done with it (a fixed
    // hold time would race with the proxy's timeout on a slow machine).
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let keep = std::thread::spawn(move || {
        let conns: Vec<_> = listener.incoming().take(1).collect();
        let _ = done_rx.recv_timeout(Duration::from_secs(60));
        drop(conns);
    });
    let proxy = Proxy::start(&pool_yaml("  timeout: 200\n", &[addr])).unwrap();
    let mut c = RawClient::connect(proxy.addr());
    // Only the proxy's timeout can answer this (the backend never does, and keeps the
    // connection open); RawClient's read timeout bounds the wait.
    assert_eq!(c.call(&["GET", "k"]), Frame::error("ERR Connection timed out"));
    assert_eq!(c.call(&["PING"]), simple("PONG"));
    drop(proxy);
    let _ = done_tx.send(());
    keep.join().unwrap();
}

#[test]
fn dead_backend_is_ejected_and_returns() {
    let servers = three_servers();
    let mut list = addrs(&servers);
    let dead = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap(); // closed: refuses
    list.push(dead);
    const RETRY_MS: u128 = 500;
    let extra = format!("  auto_eject_hosts: true\n  server_failure_limit: 1\n  server_retry_timeout: {RETRY_MS}\n");
    let proxy = Proxy::with_options(
        &pool_yaml(&extra, &list),
        slotbox_proxy::Options { workers: 1, stats_addr: None, ..Default::default() },
    )
    .unwrap();
    let mut c = RawClient::connect(proxy.addr());
    // Each failure ejects the dead server for server_retry_timeout, after which one more
    // request may meet it: how many fail depends on how long the loop took, which the test
    // measures rather than assumes.
    let refused =
        |f: &Frame| matches!(f, Frame::Error(e) if String::from_utf8_lossy(e).starts_with("ERR Connection refused"));
    let retries_within = |took: Duration| took.as_millis() / RETRY_MS;
    let start = Instant::now();
    let mut errors = 0;
    for i in 0..300 {
        match c.call(&["SET", &format!("e{i}"), "v"]) {
            f if refused(&f) => errors += 1,
            f => assert_eq!(f, simple("OK")),
        }
    }
    let allowed = 2 + retries_within(start.elapsed());
    assert!(
        (1..=allowed).contains(&(errors as u128)),
        "only requests before an ejection fail: {errors} (at most {allowed})"
    );
    let json = proxy.stats_json();
    let ejects: u64 = json
        .split("\"server_ejects\":")
        .nth(1)
        .and_then(|t| t.split(|ch: char| !ch.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no server_ejects in {json}"));
    assert!(ejects >= 1, "server_ejects {ejects}: {json}");
    // Every key is readable through the ring without the dead server (a retry window that
    // passes meanwhile may send one more request to it).
    let start = Instant::now();
    let mut errors = 0;
    for i in 0..300 {
        let r = c.call(&["GET", &format!("e{i}")]);
        if refused(&r) {
            errors += 1;
        } else {
            assert!(r == bulk("v") || r == Frame::Null, "{r:?}");
        }
    }
    let allowed = retries_within(start.elapsed()) + 1;
    assert!(errors as u128 <= allowed, "{errors} reads met the ejected server (at most {allowed})");
    // After server_retry_timeout the server is tried again (and fails again).
    common::wait_until(common::WAIT, "a request to meet the ejected server again after server_retry_timeout", || {
        (0..300).any(|i| refused(&c.call(&["GET", &format!("e{i}")])))
    });
}

#[test]
fn backend_dying_mid_pipeline_fails_only_its_requests() {
    let good = Server::start().unwrap();
    let (listener, bad) = silent_backend();
    // The bad backend reads requests, then closes without answering.
    let killer = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = std::io::Read::read(&mut s, &mut buf);
        std::thread::sleep(Duration::from_millis(100));
    });
    let proxy = Proxy::start(&pool_yaml("", &[good.addr(), bad])).unwrap();
    let mut c = RawClient::connect(proxy.addr());
    let keys: Vec<String> = (0..40).map(|i| format!("d{i}")).collect();
    let mut batch = Vec::new();
    for k in &keys {
        batch.extend(encode_command(&["SET", k, "v"]));
    }
    c.send_raw(&batch);
    let (mut ok, mut err) = (0, 0);
    for _ in &keys {
        match c.read_reply().0 {
            Frame::Simple(_) => ok += 1,
            Frame::Error(_) => err += 1,
            other => panic!("{other:?}"),
        }
    }
    assert!(ok > 0 && err > 0, "ok={ok} err={err}");
    assert_eq!(c.call(&["PING"]), simple("PONG"));
    killer.join().unwrap();
}

#[test]
fn stats_port_serves_nutcracker_json() {
    let server = Server::start().unwrap();
    let opts = slotbox_proxy::Options { workers: 1, stats_addr: Some("127.0.0.1:0".into()), ..Default::default() };
    let proxy = Proxy::with_options(&pool_yaml("", &[server.addr()]), opts).unwrap();
    let mut c = RawClient::connect(proxy.addr());
    c.call(&["SET", "a", "b"]);
    let mut s = std::net::TcpStream::connect(proxy.stats_addr().unwrap()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut json = String::new();
    std::io::Read::read_to_string(&mut s, &mut json).unwrap();
    for field in [
        "\"service\":\"nutcracker\"",
        "\"alpha\":{",
        "\"client_connections\":1",
        "\"requests\":1",
        "\"server_ejects\":0",
    ] {
        assert!(json.contains(field), "{field} missing in {json}");
    }
}

#[test]
fn config_errors_name_pool_and_key() {
    let err = Proxy::start("beta:\n  listen: 127.0.0.1:0\n  hash: sha1\n  servers:\n   - 127.0.0.1:1:1\n")
        .err()
        .expect("bad hash");
    let text = err.to_string();
    assert!(text.contains("pool 'beta'") && text.contains("key 'hash'") && text.contains("sha1"), "{text}");
}

fn cluster_yaml(cluster: &Cluster, extra: &str) -> String {
    let mut y = format!("c:\n  listen: 127.0.0.1:0\n  redis: true\n  cluster: true\n{extra}  servers:\n");
    y.push_str(&format!("   - {}:1\n", cluster.addrs()[0]));
    y
}

#[test]
fn cluster_pool_routes_by_slot_and_splits_multikey() {
    let cluster = Cluster::start(3).unwrap();
    let proxy = Proxy::start(&cluster_yaml(&cluster, "")).unwrap();
    let client = redis::Client::open(proxy.url()).unwrap();
    let mut con = client.get_connection().unwrap();
    for i in 0..300 {
        let _: () = redis::cmd("SET").arg(format!("ck{i}")).arg(i).query(&mut con).unwrap();
    }
    for i in 0..300 {
        let v: i64 = redis::cmd("GET").arg(format!("ck{i}")).query(&mut con).unwrap();
        assert_eq!(v, i);
    }
    let keys: Vec<String> = (0..50).map(|i| format!("ck{i}")).collect();
    let vals: Vec<i64> = redis::cmd("MGET").arg(&keys).query(&mut con).unwrap();
    assert_eq!(vals, (0..50).collect::<Vec<i64>>());
    let n: i64 = redis::cmd("DEL").arg(&keys).query(&mut con).unwrap();
    assert_eq!(n, 50);
    let mut c = RawClient::connect(proxy.addr());
    assert!(matches!(c.call(&["SINTER", "a", "b"]), Frame::Error(e) if e.starts_with(b"CROSSSLOT")));
    // Every node holds some of the keys: routing used the slot map.
    for a in cluster.addrs() {
        let Frame::Integer(n) = RawClient::connect(a).call(&["DBSIZE"]) else { panic!() };
        assert!(n > 50, "node {a} has {n} keys");
    }
}
