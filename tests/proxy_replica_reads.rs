//! slotbox-proxy with `read_from: prefer_replica` reads from a replica only while the
//! replica's link to its master is up: a replica cut off from its master (holding a value its
//! master has since overwritten) or stopped is not read from, the master answers instead, and
//! the replica gets reads again once its link is back. The proxy learns each replica's link
//! from `ROLE` (state `connected`), so these tests wait for its view (INFO `replica_link=`)
//! and then assert on the values the proxy returns.
//!
//! How a link is cut here: the replica gets a wrong `masterauth` and its master restarts, so
//! every reconnection fails at AUTH (as with Redis) while the master serves clients.

mod common;

use common::{bulk, simple, text, wait_for, RawClient};
use slotbox::protocol::Frame;
use slotbox::{Cluster, Proxy};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(20);

/// One worker: each worker keeps its own view of the replicas' links, so with one the view
/// the test waits for is the one its requests are routed by.
fn start_proxy(seed: SocketAddr) -> Proxy {
    let yaml = format!(
        "c:\n  listen: 127.0.0.1:0\n  redis: true\n  cluster: true\n  read_from: prefer_replica\n  \
         timeout: 5000\n  servers:\n   - {seed}:1\n"
    );
    let opts = slotbox_proxy::Options { workers: 1, stats_addr: None, ..Default::default() };
    Proxy::with_options(&yaml, opts).unwrap()
}

/// One master (all slots) and its replica; a long node timeout, so no failover happens while
/// the master is stopped.
fn master_and_replica() -> (Cluster, SocketAddr, SocketAddr) {
    let cluster = Cluster::builder().masters(1).replicas(1).node_timeout_ms(60_000).start().unwrap();
    let addrs = cluster.addrs();
    (cluster, addrs[0], addrs[1])
}

/// The proxy's view of `replica`'s link, from its INFO (`replica_link=up|down|unknown`).
fn link_seen(proxy: &mut RawClient, replica: SocketAddr) -> String {
    let info = text(&proxy.call(&["INFO"]));
    let line = info.lines().find(|l| l.contains(&format!("addr={replica},")));
    let field = line.and_then(|l| l.split(',').find_map(|f| f.strip_prefix("replica_link=")));
    field.unwrap_or("absent").to_string()
}

fn wait_link(proxy: &mut RawClient, replica: SocketAddr, want: &str, why: &str) {
    let mut seen = String::new();
    let ok = wait_for(LIMIT, || {
        seen = link_seen(proxy, replica);
        seen == want
    });
    let role = RawClient::connect(replica).call(&["ROLE"]);
    assert!(ok, "{why}: the proxy still sees the link {seen}, want {want}; ROLE on the replica: {role:?}");
}

/// The replica's own value of `key` (READONLY, so it answers for its master's slots).
fn on_replica(replica: SocketAddr, key: &str) -> Frame {
    let mut c = RawClient::connect(replica);
    assert_eq!(c.call(&["READONLY"]), simple("OK"));
    c.call(&["GET", key])
}

/// GETs `addr` has served (INFO commandstats).
fn get_calls(addr: SocketAddr) -> i64 {
    let info = text(&RawClient::connect(addr).call(&["INFO", "commandstats"]));
    let calls = info.lines().find_map(|l| l.strip_prefix("cmdstat_get:calls="));
    calls.and_then(|c| c.split(',').next()).map_or(0, |n| n.parse().unwrap())
}

/// A write through the proxy, retried while the cluster (re)starts: CLUSTERDOWN, or the
/// proxy's error for a master that is not accepting connections yet.
fn set_retrying(proxy: &mut RawClient, key: &str, value: &str) {
    let deadline = Instant::now() + LIMIT;
    loop {
        match proxy.call(&["SET", key, value]) {
            Frame::Error(e) if Instant::now() < deadline => {
                let e = String::from_utf8_lossy(&e).into_owned();
                assert!(e.starts_with("CLUSTERDOWN") || e.starts_with("ERR "), "SET {key}: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
            r => return assert_eq!(r, simple("OK"), "SET {key} {value}"),
        }
    }
}

/// `n` GETs of `key` through the proxy all return `want`; returns how many of them the
/// replica served.
fn reads(proxy: &mut RawClient, replica: SocketAddr, key: &str, want: &str, n: i64) -> i64 {
    let before = get_calls(replica);
    for i in 0..n {
        assert_eq!(proxy.call(&["GET", key]), bulk(want), "GET {key} #{i} through the proxy");
    }
    get_calls(replica) - before
}

/// The replica's `replica_link` in the proxy's stats JSON.
fn stats_link(proxy: &Proxy, replica: SocketAddr) -> Option<String> {
    let json = proxy.stats_json();
    let at = json.find(&format!("\"{replica}\":{{"))?;
    let entry = &json[at..at + json[at..].find('}')?];
    let v = entry.split("\"replica_link\":").nth(1)?;
    Some(v.chars().take_while(|c| c.is_ascii_digit() || *c == '-').collect())
}

#[test]
fn a_replica_cut_off_from_its_master_is_not_read_until_its_link_is_back() {
    let (mut cluster, master, replica) = master_and_replica();
    let proxy = start_proxy(master);
    let mut c = RawClient::connect(proxy.addr());
    set_retrying(&mut c, "k", "old");
    assert!(wait_for(LIMIT, || on_replica(replica, "k") == bulk("old")), "the replica never got k");
    wait_link(&mut c, replica, "up", "a replicating replica");
    assert_eq!(reads(&mut c, replica, "k", "old", 20), 20, "prefer_replica reads from the replica");
    assert_eq!(stats_link(&proxy, replica).as_deref(), Some("1"), "{}", proxy.stats_json());

    // Cut the link: the replica cannot authenticate when it reconnects to its master.
    let mut r = RawClient::connect(replica);
    assert_eq!(r.call(&["CONFIG", "SET", "masterauth", "not-the-password"]), simple("OK"));
    cluster.stop_node(0);
    wait_link(&mut c, replica, "down", "the replica's master is stopped");
    cluster.start_node(0).unwrap();
    set_retrying(&mut c, "k", "new");
    let stale = on_replica(replica, "k");
    assert_ne!(stale, bulk("new"), "the replica must not have the new value (is its link really down?)");
    assert_eq!(link_seen(&mut c, replica), "down", "ROLE on the replica: {:?}", r.call(&["ROLE"]));
    assert_eq!(reads(&mut c, replica, "k", "new", 20), 0, "the replica ({stale:?}) got reads");
    assert_eq!(stats_link(&proxy, replica).as_deref(), Some("0"), "{}", proxy.stats_json());

    // The link comes back: the replica resyncs and serves reads again.
    assert_eq!(r.call(&["CONFIG", "SET", "masterauth", ""]), simple("OK"));
    assert!(wait_for(LIMIT, || on_replica(replica, "k") == bulk("new")), "the replica never resynced");
    wait_link(&mut c, replica, "up", "the replica resynced");
    assert_eq!(reads(&mut c, replica, "k", "new", 20), 20, "the replica is read from again");
}

#[test]
fn a_stopped_replica_is_not_read_from() {
    let (mut cluster, master, replica) = master_and_replica();
    let proxy = start_proxy(master);
    let mut c = RawClient::connect(proxy.addr());
    set_retrying(&mut c, "k", "v");
    assert!(wait_for(LIMIT, || on_replica(replica, "k") == bulk("v")), "the replica never got k");
    wait_link(&mut c, replica, "up", "a replicating replica");
    cluster.stop_node(1);
    let mut seen = String::new();
    let ok = wait_for(LIMIT, || {
        seen = link_seen(&mut c, replica);
        seen == "down"
    });
    assert!(ok, "the proxy still sees a stopped replica's link {seen}");
    for i in 0..20 {
        assert_eq!(c.call(&["GET", "k"]), bulk("v"), "GET #{i}: the master answers");
    }
}
