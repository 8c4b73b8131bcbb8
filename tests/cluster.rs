//! Cluster mode end to end: an embedded 3-master cluster used by the redis-rs cluster client,
//! redirect errors byte for byte, live slot migration, restart from nodes.conf, failure
//! detection, and a garbage packet on the bus port. Every wait is bounded.

mod common;

use common::{encode_command, text, wait_for, wait_until, RawClient};
use slotbox::protocol::{key_hash_slot, Frame};
use slotbox::Cluster;
use std::io::Write;
use std::time::Duration;

/// The index of the node that serves `slot`.
fn owner(cluster: &Cluster, slot: u16) -> usize {
    let ranges = slotbox::slot_ranges(cluster.len());
    ranges.iter().position(|&(a, b)| (a..=b).contains(&slot)).unwrap()
}

fn node_id(c: &mut RawClient) -> String {
    text(&c.call(&["CLUSTER", "MYID"]))
}

#[test]
fn cluster_client_reads_and_writes_across_all_slots() {
    let cluster = Cluster::start(3).unwrap();
    let client = redis::cluster::ClusterClient::new(cluster.urls()).unwrap();
    let mut con = client.get_connection().unwrap();
    for i in 0..10_000 {
        let _: () = redis::cmd("SET").arg(format!("key:{i}")).arg(i).query(&mut con).unwrap();
    }
    for i in (0..10_000).step_by(7) {
        let v: i64 = redis::cmd("GET").arg(format!("key:{i}")).query(&mut con).unwrap();
        assert_eq!(v, i);
    }
    // Every node holds part of the keys.
    for a in cluster.addrs() {
        let mut c = RawClient::connect(a);
        let n = c.call(&["DBSIZE"]).as_integer().unwrap();
        assert!(n > 2000, "node {a} holds only {n} keys");
    }
}

#[test]
fn redirect_errors_are_byte_exact() {
    let cluster = Cluster::start(3).unwrap();
    let addrs = cluster.addrs();
    // "foo" hashes to 12182 (third node), "bar" to 5061 (first node).
    let mut c = RawClient::connect(addrs[0]);
    let moved = c.call_raw(&["GET", "foo"]);
    assert_eq!(moved, format!("-MOVED 12182 127.0.0.1:{}\r\n", addrs[2].port()).into_bytes());
    assert_eq!(
        c.call_raw(&["MGET", "bar", "foo"]),
        b"-CROSSSLOT Keys in request don't hash to the same slot\r\n".to_vec()
    );
    assert_eq!(c.call_raw(&["SET", "bar", "1"]), b"+OK\r\n".to_vec());
    // Keyless commands are never redirected.
    assert_eq!(c.call_raw(&["PING"]), b"+PONG\r\n".to_vec());
    // Hash tags keep keys together.
    assert_eq!(c.call_raw(&["MSET", "{bar}a", "1", "{bar}b", "2"]), b"+OK\r\n".to_vec());
    // MULTI: a command for another slot is refused at queue time and EXEC aborts.
    c.call(&["MULTI"]);
    assert!(text(&c.call(&["SET", "foo", "x"])).starts_with("MOVED 12182"));
    assert!(text(&c.call(&["EXEC"])).starts_with("EXECABORT"));

    // ASK / TRYAGAIN while slot 5061 migrates from node 0 to node 1.
    let mut target = RawClient::connect(addrs[1]);
    let (src_id, dst_id) = (node_id(&mut c), node_id(&mut target));
    assert_eq!(target.call(&["CLUSTER", "SETSLOT", "5061", "IMPORTING", &src_id]), Frame::ok());
    assert_eq!(c.call(&["CLUSTER", "SETSLOT", "5061", "MIGRATING", &dst_id]), Frame::ok());
    // A key the source still has is served; a missing one is redirected with ASK.
    assert_eq!(c.call(&["GET", "bar"]), Frame::bulk_static("1"));
    let missing = "{bar}missing";
    assert_eq!(key_hash_slot(missing.as_bytes()), 5061);
    assert_eq!(c.call_raw(&["GET", missing]), format!("-ASK 5061 127.0.0.1:{}\r\n", addrs[1].port()).into_bytes());
    assert_eq!(
        c.call_raw(&["MGET", "{bar}a", missing]),
        b"-TRYAGAIN Multiple keys request during rehashing of slot\r\n".to_vec()
    );
    // The target refuses without ASKING, serves with it, and ASKING is one-shot.
    assert!(text(&target.call(&["GET", missing])).starts_with("MOVED 5061"));
    assert_eq!(target.call(&["ASKING"]), Frame::ok());
    assert_eq!(target.call(&["GET", missing]), Frame::Null);
    assert!(text(&target.call(&["GET", missing])).starts_with("MOVED 5061"));
}

/// A client blocked in BLPOP on a slot that moves to another node is answered MOVED, as by
/// Redis, so it can go again where the key now lives; its connection stays usable.
#[test]
fn blocked_client_is_redirected_when_its_slot_moves() {
    let cluster = Cluster::start(3).unwrap();
    let addrs = cluster.addrs();
    // "bar" is slot 5061, served by the first node.
    let mut blocked = RawClient::connect(addrs[0]);
    blocked.send_raw(&encode_command(&["BLPOP", "bar", "0"]));
    let mut admin = RawClient::connect(addrs[0]);
    let blocked_clients = |c: &mut RawClient| text(&c.call(&["INFO", "clients"])).contains("blocked_clients:1\r\n");
    assert!(wait_for(Duration::from_secs(5), || blocked_clients(&mut admin)), "BLPOP never blocked");
    let other = node_id(&mut RawClient::connect(addrs[1]));
    assert_eq!(admin.call(&["CLUSTER", "SETSLOT", "5061", "NODE", &other]), Frame::ok());
    let (_, raw) = blocked.read_reply();
    assert_eq!(raw, format!("-MOVED 5061 127.0.0.1:{}\r\n", addrs[1].port()).into_bytes());
    assert!(!blocked_clients(&mut admin), "the waiter is gone");
    assert_eq!(blocked.call(&["PING"]), Frame::Simple("PONG".into()));
}

#[test]
fn slot_migration_under_load_loses_no_key() {
    let cluster = Cluster::start(3).unwrap();
    let addrs = cluster.addrs();
    let slot = key_hash_slot(b"{m}");
    let (from, to) = (owner(&cluster, slot), (owner(&cluster, slot) + 1) % 3);
    let mut src = RawClient::connect(addrs[from]);
    let mut dst = RawClient::connect(addrs[to]);
    for i in 0..300 {
        assert_eq!(src.call(&["SET", &format!("{{m}}{i}"), &i.to_string()]), Frame::ok());
    }
    let (src_id, dst_id) = (node_id(&mut src), node_id(&mut dst));
    // A cluster client keeps reading and writing the slot while it moves.
    let urls = cluster.urls();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let ops_done = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let ops_done2 = ops_done.clone();
    let debug_addrs = addrs.clone();
    let worker = std::thread::spawn(move || {
        let dump = || {
            for a in &debug_addrs {
                let mut c = RawClient::connect(*a);
                eprintln!("NODE {a}:\n{}", text(&c.call(&["CLUSTER", "NODES"])));
            }
        };
        let client = redis::cluster::ClusterClientBuilder::new(urls).retries(64).build().unwrap();
        let mut con = client.get_connection().unwrap();
        let mut n = 0u64;
        // A transient redirect error (the client ran out of redirects while the two nodes
        // switch owners) is retried; a missing key is a failure.
        // Bounded by time, not by a count of tries: on a loaded machine the switch of owners
        // can take longer than a fixed number of quick retries.
        let retry = |dump: &dyn Fn(), mut f: Box<dyn FnMut() -> redis::RedisResult<Option<i64>> + '_>| -> Option<i64> {
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            loop {
                match f() {
                    Ok(v) => return v,
                    Err(e) if e.is_io_error() => panic!("I/O error: {e}"),
                    Err(e) if std::time::Instant::now() >= deadline => {
                        dump();
                        panic!("command kept failing during migration: {e}");
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        };
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) && n < 100_000 {
            let i = 300 + (n % 200);
            retry(
                &dump,
                Box::new(|| redis::cmd("SET").arg(format!("{{m}}{i}")).arg(i).query::<()>(&mut con).map(|_| None)),
            );
            let v: Option<i64> =
                retry(&dump, Box::new(|| redis::cmd("GET").arg(format!("{{m}}{}", n % 300)).query(&mut con)));
            assert_eq!(v, Some((n % 300) as i64), "a key vanished during migration");
            n += 1;
            ops_done2.store(n, std::sync::atomic::Ordering::Relaxed);
        }
        n
    });
    // Operations before, during and after the move: wait for the client's progress, not a time.
    let progressed = |what: &str, n: u64| {
        let target = ops_done.load(std::sync::atomic::Ordering::Relaxed) + n;
        let now = || ops_done.load(std::sync::atomic::Ordering::Relaxed);
        wait_until(common::WAIT, what, || now() >= target || worker.is_finished());
    };
    progressed("the cluster client's first operations", 20);
    assert_eq!(dst.call(&["CLUSTER", "SETSLOT", &slot.to_string(), "IMPORTING", &src_id]), Frame::ok());
    assert_eq!(src.call(&["CLUSTER", "SETSLOT", &slot.to_string(), "MIGRATING", &dst_id]), Frame::ok());
    loop {
        let keys = src.call(&["CLUSTER", "GETKEYSINSLOT", &slot.to_string(), "50"]);
        let Frame::Array(keys) = keys else { panic!("GETKEYSINSLOT: {keys:?}") };
        if keys.is_empty() {
            break;
        }
        let mut cmd: Vec<String> = vec![
            "MIGRATE".into(),
            "127.0.0.1".into(),
            addrs[to].port().to_string(),
            "".into(),
            "0".into(),
            "5000".into(),
            "KEYS".into(),
        ];
        cmd.extend(keys.iter().map(text));
        assert_eq!(src.call(&cmd), Frame::ok());
    }
    assert_eq!(dst.call(&["CLUSTER", "SETSLOT", &slot.to_string(), "NODE", &dst_id]), Frame::ok());
    assert_eq!(src.call(&["CLUSTER", "SETSLOT", &slot.to_string(), "NODE", &dst_id]), Frame::ok());
    progressed("operations after the move", 20);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let ops = worker.join().expect("client thread saw an error");
    assert!(ops > 0);
    assert_eq!(src.call(&["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]), Frame::Integer(0));
    assert!(dst.call(&["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]).as_integer().unwrap() >= 300);
    for i in 0..300 {
        assert_eq!(dst.call(&["GET", &format!("{{m}}{i}")]), Frame::Bulk(i.to_string().into()));
    }
    // The third node learns the new owner through the bus.
    let third = 3 - from - to;
    let mut other = RawClient::connect(addrs[third]);
    let want = format!("-MOVED {slot} 127.0.0.1:{}\r\n", addrs[to].port()).into_bytes();
    assert!(wait_for(Duration::from_secs(10), || other.call_raw(&["GET", "{m}1"]) == want));
}

#[test]
fn node_restarts_with_same_id_and_slots() {
    let mut cluster = Cluster::start(3).unwrap();
    let addr = cluster.addrs()[1];
    let mut c = RawClient::connect(addr);
    let id = node_id(&mut c);
    let before = text(&c.call(&["CLUSTER", "NODES"]));
    let my_line = |nodes: &str| nodes.lines().find(|l| l.contains("myself")).unwrap().to_string();
    drop(c);
    cluster.stop_node(1);
    cluster.start_node(1).unwrap();
    let mut c = RawClient::connect(addr);
    assert_eq!(node_id(&mut c), id);
    let after = text(&c.call(&["CLUSTER", "NODES"]));
    let slots = |line: String| line.split(' ').skip(8).collect::<Vec<_>>().join(" ");
    assert_eq!(slots(my_line(&before)), slots(my_line(&after)));
    assert_eq!(after.lines().count(), 3);
    assert!(wait_for(Duration::from_secs(15), || text(&c.call(&["CLUSTER", "INFO"])).contains("cluster_state:ok")));
}

#[test]
fn killed_master_is_marked_fail_and_cleared_when_back() {
    let mut cluster = Cluster::builder().masters(3).node_timeout_ms(500).start().unwrap();
    let addrs = cluster.addrs();
    let mut c0 = RawClient::connect(addrs[0]);
    let mut c2 = RawClient::connect(addrs[2]);
    let id2 = node_id(&mut c2);
    drop(c2);
    cluster.stop_node(2);
    let line_of = |c: &mut RawClient| {
        let nodes = text(&c.call(&["CLUSTER", "NODES"]));
        nodes.lines().find(|l| l.starts_with(&id2)).unwrap_or_default().to_string()
    };
    assert!(
        wait_for(Duration::from_secs(15), || line_of(&mut c0).contains(" master,fail ")),
        "node never marked FAIL: {}",
        line_of(&mut c0)
    );
    assert!(text(&c0.call(&["CLUSTER", "INFO"])).contains("cluster_state:fail"));
    assert!(text(&c0.call(&["SET", "bar", "1"])).starts_with("CLUSTERDOWN The cluster is down"));
    cluster.start_node(2).unwrap();
    assert!(
        wait_for(Duration::from_secs(15), || !line_of(&mut c0).contains("fail")),
        "FAIL never cleared: {}",
        line_of(&mut c0)
    );
    assert!(wait_for(Duration::from_secs(15), || text(&c0.call(&["CLUSTER", "INFO"])).contains("cluster_state:ok")));
}

#[test]
fn garbage_on_the_bus_port_leaves_the_node_healthy() {
    let cluster = Cluster::start(3).unwrap();
    for junk in [&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..], b"SBus\x00\x01\x00\xff\xff\xff\xff", &[0u8; 4096][..]] {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", cluster.bus_port(0))).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
        let _ = s.write_all(junk);
        // A malformed message closes that link: wait (bounded) until the node has read and
        // rejected the junk, instead of guessing how long that takes.
        s.set_read_timeout(Some(common::WAIT)).unwrap();
        let mut buf = [0u8; 64];
        let closed = match std::io::Read::read(&mut s, &mut buf) {
            Ok(0) => true,
            Ok(n) => panic!("the bus answered junk with {n} bytes"),
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        };
        assert!(closed, "the node kept a link open after junk {:?}", common::show(&junk[..junk.len().min(16)]));
    }
    let mut c = RawClient::connect(cluster.addrs()[0]);
    assert_eq!(c.call(&["PING"]), Frame::simple_static("PONG"));
    assert!(text(&c.call(&["CLUSTER", "INFO"])).contains("cluster_state:ok"));
    assert!(text(&c.call(&["CLUSTER", "INFO"])).contains("cluster_known_nodes:3"));
}

#[test]
fn cluster_commands_in_standalone_mode_are_refused() {
    let server = slotbox::Server::start().unwrap();
    let mut c = RawClient::connect(server.addr());
    assert_eq!(c.call_raw(&["CLUSTER", "INFO"]), b"-ERR This instance has cluster support disabled\r\n".to_vec());
    assert_eq!(c.call_raw(&["READONLY"]), b"-ERR This instance has cluster support disabled\r\n".to_vec());
}

#[test]
fn publish_reaches_subscribers_on_every_node() {
    let cluster = Cluster::start(3).unwrap();
    let addrs = cluster.addrs();
    let mut subs: Vec<RawClient> = addrs.iter().map(|a| RawClient::connect(*a)).collect();
    for s in subs.iter_mut() {
        let confirm = s.call(&["SUBSCRIBE", "news"]);
        assert!(matches!(confirm, Frame::Array(_) | Frame::Push(_)), "{confirm:?}");
    }
    let mut publisher = RawClient::connect(addrs[1]);
    assert_eq!(publisher.call(&["PUBLISH", "news", "hello"]), Frame::Integer(1));
    for s in subs.iter_mut() {
        let (msg, _) = s.read_reply();
        let Frame::Array(parts) = msg else { panic!("{msg:?}") };
        assert_eq!(parts[0], Frame::bulk_static("message"));
        assert_eq!(parts[2], Frame::bulk_static("hello"));
    }
}
