//! slotbox-proxy's near cache (`hot_key_cache:`), over real sockets: hot reads are answered
//! from the proxy's memory (the backend's own command counts show it), a write through the
//! proxy and a write straight to the backend both invalidate (the second by the backend's
//! CLIENT TRACKING push, with a TTL far longer than the wait), FLUSHALL drops everything,
//! RESP2 and RESP3 clients get their own encodings, and the cache is off unless configured.
//! Run against slotbox-server and, when installed, real redis-server 7.0.

mod common;

use common::{bulk, on_path, wait_for, RawClient, ServerProcess, WAIT};
use slotbox::protocol::Frame;
use slotbox::Server;
use slotbox_proxy::{Options, Proxy};
use std::net::SocketAddr;

/// One worker: one cache, so the counts below are exact.
fn proxy(backend: SocketAddr, cache: &str) -> Proxy {
    let yaml = format!("p:\n  listen: 127.0.0.1:0\n  redis: true\n{cache}  servers:\n   - {backend}:1\n");
    Proxy::start(&yaml, Options { workers: 1, ..Default::default() }).expect("proxy starts")
}

const CACHE: &str = "  hot_key_cache: {size: 100, ttl_ms: 600000, min_hits: 3}\n";

/// `calls=` of `cmdstat_<cmd>` in the backend's INFO commandstats (0 if never called).
fn backend_calls(backend: SocketAddr, cmd: &str) -> u64 {
    let mut c = RawClient::connect(backend);
    let info = common::text(&c.call(&["INFO", "commandstats"]));
    let prefix = format!("cmdstat_{cmd}:calls=");
    info.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|rest| rest.split(',').next().unwrap().parse().unwrap())
        .unwrap_or(0)
}

/// A counter of the pool in the stats document.
fn stat(p: &Proxy, field: &str) -> i64 {
    let json = p.stats_json();
    let at = json.find(&format!("\"{field}\":")).unwrap_or_else(|| panic!("no {field} in {json}"));
    let rest = &json[at + field.len() + 3..];
    rest[..rest.find(|c: char| !c.is_ascii_digit() && c != '-').unwrap()].parse().unwrap()
}

/// Read `key` through the proxy until the cache holds it (min_hits 3: the third read fills).
fn make_hot(c: &mut RawClient, key: &str, want: &Frame) {
    for _ in 0..4 {
        assert_eq!(&c.call(&["GET", key]), want);
    }
}

fn hot_reads_come_from_memory(backend: SocketAddr) {
    let p = proxy(backend, CACHE);
    let mut c = RawClient::connect(p.addr());
    assert_eq!(c.call(&["SET", "hot", "v1"]), Frame::Simple("OK".into()));
    let before = backend_calls(backend, "get");
    for _ in 0..50 {
        assert_eq!(c.call(&["GET", "hot"]), bulk("v1"));
    }
    // Two plain reads, then the fill; the other 47 never reach the backend.
    assert_eq!(backend_calls(backend, "get") - before, 3);
    assert_eq!((stat(&p, "hot_cache_hits"), stat(&p, "hot_cache_fills")), (47, 1));
    assert_eq!(stat(&p, "hot_cache_entries"), 1);
    let info = common::text(&c.call(&["INFO"]));
    assert!(info.contains("hot_cache_hits:47\r\n") && info.contains("hot_cache_entries:1\r\n"), "{info}");
    let metrics = p.metrics_text();
    assert!(metrics.contains("slotbox_proxy_pool_hot_cache_hits_total{pool=\"p\"} 47"), "{metrics}");
}

fn writes_invalidate(backend: SocketAddr) {
    let p = proxy(backend, CACHE);
    let mut c = RawClient::connect(p.addr());
    let mut other = RawClient::connect(p.addr());
    c.call(&["SET", "k", "v1"]);
    make_hot(&mut c, "k", &bulk("v1"));
    // Through the proxy: the writer reads its write at once, pipelined or not, and so does
    // every other client of the proxy.
    let mut pipeline = common::encode_command(&["SET", "k", "v2"]);
    pipeline.extend(common::encode_command(&["GET", "k"]));
    c.send_raw(&pipeline);
    assert_eq!(c.read_reply().0, Frame::Simple("OK".into()));
    assert_eq!(c.read_reply().0, bulk("v2"));
    assert_eq!(other.call(&["GET", "k"]), bulk("v2"));
    // Straight to the backend: the proxy hears of it by the backend's invalidation (the TTL
    // is ten minutes, so nothing else could make it see the new value).
    make_hot(&mut c, "k", &bulk("v2"));
    let hits = stat(&p, "hot_cache_hits");
    assert!(hits > 0);
    RawClient::connect(backend).call(&["SET", "k", "v3"]);
    assert!(wait_for(WAIT, || c.call(&["GET", "k"]) == bulk("v3")), "the direct write never reached the cache");
    assert!(stat(&p, "hot_cache_invalidations") >= 2);
    // And it is cached again afterwards.
    make_hot(&mut c, "k", &bulk("v3"));
    assert!(stat(&p, "hot_cache_hits") > hits);
    // FLUSHALL on the backend: everything goes.
    RawClient::connect(backend).call(&["FLUSHALL"]);
    assert!(wait_for(WAIT, || c.call(&["GET", "k"]) == Frame::Null), "FLUSHALL never reached the cache");
}

fn each_protocol_gets_its_encoding(backend: SocketAddr) {
    let p = proxy(backend, CACHE);
    let mut resp2 = RawClient::connect(p.addr());
    let mut resp3 = RawClient::connect(p.addr());
    resp3.call(&["HELLO", "3"]);
    resp2.call(&["HSET", "h", "f", "1"]);
    for _ in 0..5 {
        assert_eq!(resp2.call_raw(&["HGETALL", "h"]), b"*2\r\n$1\r\nf\r\n$1\r\n1\r\n");
        assert_eq!(resp3.call_raw(&["HGETALL", "h"]), b"%1\r\n$1\r\nf\r\n$1\r\n1\r\n");
        assert_eq!(resp2.call_raw(&["GET", "missing"]), b"$-1\r\n");
        assert_eq!(resp3.call_raw(&["GET", "missing"]), b"_\r\n");
    }
    assert!(stat(&p, "hot_cache_hits") >= 8, "{}", p.stats_json());
}

/// The backend drops the tracking connection (CLIENT KILL): its invalidations stop, so the
/// proxy must stop trusting what it read there.
fn losing_the_tracking_connection_empties_the_cache(backend: SocketAddr) {
    let p = proxy(backend, CACHE);
    let mut c = RawClient::connect(p.addr());
    c.call(&["SET", "lost", "v1"]);
    make_hot(&mut c, "lost", &bulk("v1"));
    let mut admin = RawClient::connect(backend);
    let list = common::text(&admin.call(&["CLIENT", "LIST"]));
    let tracking: Vec<&str> = list
        .lines()
        .filter(|l| l.split(' ').any(|f| f.starts_with("flags=") && f.contains('t')))
        .filter_map(|l| l.split(' ').find_map(|f| f.strip_prefix("id=")))
        .collect();
    assert_eq!(tracking.len(), 1, "one tracking connection expected:\n{list}");
    assert_eq!(stat(&p, "hot_cache_invalidations"), 0);
    assert_eq!(admin.call(&["CLIENT", "KILL", "ID", tracking[0]]), Frame::Integer(1));
    admin.call(&["SET", "lost", "v2"]);
    assert!(wait_for(WAIT, || c.call(&["GET", "lost"]) == bulk("v2")), "stale after the tracking connection closed");
    // Nothing but the lost connection dropped the copy (the write after it told nobody).
    assert_eq!(stat(&p, "hot_cache_invalidations"), 1);
}

#[test]
fn slotbox_backend() {
    let s = Server::start().unwrap();
    hot_reads_come_from_memory(s.addr());
    writes_invalidate(s.addr());
    each_protocol_gets_its_encoding(s.addr());
    losing_the_tracking_connection_empties_the_cache(s.addr());
}

#[test]
fn redis_backend() {
    if !on_path("redis-server") {
        eprintln!("redis-server not installed: skipped");
        return;
    }
    let r = ServerProcess::redis();
    hot_reads_come_from_memory(r.addr());
    writes_invalidate(r.addr());
    each_protocol_gets_its_encoding(r.addr());
    losing_the_tracking_connection_empties_the_cache(r.addr());
}

/// A cluster pool: fills go to the key's master, whose invalidation reaches the cache.
#[test]
fn cluster_pool() {
    let cluster = slotbox::Cluster::start(3).unwrap();
    let yaml = format!(
        "c:\n  listen: 127.0.0.1:0\n  redis: true\n  cluster: true\n{CACHE}  servers:\n   - {}:1\n",
        cluster.addrs()[0]
    );
    let p = Proxy::start(&yaml, Options { workers: 1, ..Default::default() }).expect("proxy starts");
    let mut c = RawClient::connect(p.addr());
    // "foo" is in slot 12182, on the third master.
    assert_eq!(c.call(&["SET", "foo", "v1"]), Frame::Simple("OK".into()));
    let owner = cluster.addrs()[cluster.master_of_slot(12182).unwrap()];
    let before = backend_calls(owner, "get");
    for _ in 0..20 {
        assert_eq!(c.call(&["GET", "foo"]), bulk("v1"));
    }
    assert_eq!(backend_calls(owner, "get") - before, 3);
    RawClient::connect(owner).call(&["SET", "foo", "v2"]);
    assert!(wait_for(WAIT, || c.call(&["GET", "foo"]) == bulk("v2")), "the direct write never reached the cache");
}

#[test]
fn off_unless_configured() {
    let s = Server::start().unwrap();
    let p = proxy(s.addr(), "");
    let mut c = RawClient::connect(p.addr());
    c.call(&["SET", "k", "v"]);
    for _ in 0..20 {
        assert_eq!(c.call(&["GET", "k"]), bulk("v"));
    }
    assert_eq!(backend_calls(s.addr(), "get"), 20);
    assert!(!p.stats_json().contains("hot_cache"), "{}", p.stats_json());
    let bad = "p:\n  listen: 127.0.0.1:0\n  hot_key_cache: {size: 0}\n  servers:\n   - 127.0.0.1:1:1\n";
    let e = Proxy::start(bad, Options::default()).err().expect("size 0 is refused").to_string();
    assert!(e.contains("hot_key_cache") && e.contains("size must be between"), "{e}");
}
