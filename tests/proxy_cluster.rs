//! slotbox-proxy in front of an embedded Redis Cluster: a slot moved live (MIGRATING /
//! IMPORTING, MIGRATE, SETSLOT NODE) while a plain client keeps writing through the proxy
//! gives that client no error (the proxy follows ASK and MOVED), blocked commands and
//! transactions included, and `read_from: replica` sends reads to replicas.

mod common;

use common::{blocked_clients, encode_command, simple, wait_until, wait_until_value, RawClient, WAIT};
use slotbox::protocol::{key_hash_slot, Frame};
use slotbox::{Cluster, Proxy};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn yaml(cluster: &Cluster, extra: &str) -> String {
    format!(
        "c:\n  listen: 127.0.0.1:0\n  redis: true\n  cluster: true\n{extra}  servers:\n   - {}:1\n",
        cluster.addrs()[0]
    )
}

fn text(f: Frame) -> String {
    String::from_utf8_lossy(f.as_bytes().expect("string reply")).into_owned()
}

/// SETSLOT NODE on the new owner first, then the old one, then the rest (redis-cli's order,
/// so no node ever redirects back).
fn setslot_everywhere(cluster: &Cluster, order: &[usize], slot: u16, node_id: &str) {
    let addrs = cluster.addrs();
    for a in order.iter().map(|&i| addrs[i]) {
        let r = RawClient::connect(a).call(&["CLUSTER", "SETSLOT", &slot.to_string(), "NODE", node_id]);
        assert_eq!(r, simple("OK"));
    }
}

/// Move `slot` from master `from` to master `to` with its keys, as redis-cli reshard does.
fn move_slot(cluster: &Cluster, slot: u16, from: usize, to: usize) {
    let addrs = cluster.addrs();
    let mut src = RawClient::connect(addrs[from]);
    let mut dst = RawClient::connect(addrs[to]);
    let src_id = text(src.call(&["CLUSTER", "MYID"]));
    let dst_id = text(dst.call(&["CLUSTER", "MYID"]));
    let s = slot.to_string();
    assert_eq!(dst.call(&["CLUSTER", "SETSLOT", &s, "IMPORTING", &src_id]), simple("OK"));
    assert_eq!(src.call(&["CLUSTER", "SETSLOT", &s, "MIGRATING", &dst_id]), simple("OK"));
    let port = addrs[to].port().to_string();
    // Bounded: keys only leave a MIGRATING slot (new keys are sent on with ASK).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let Frame::Array(keys) = src.call(&["CLUSTER", "GETKEYSINSLOT", &s, "50"]) else { panic!() };
        if keys.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "migration did not finish: {} keys left in this batch", keys.len());
        let mut cmd: Vec<String> =
            ["MIGRATE", "127.0.0.1", &port, "", "0", "5000", "KEYS"].iter().map(|s| s.to_string()).collect();
        cmd.extend(keys.into_iter().map(text));
        let r = src.call(&cmd);
        assert!(!r.is_error(), "MIGRATE: {r:?}");
        // Pacing, not synchronisation: lets a concurrent writer meet the slot mid-migration.
        std::thread::sleep(Duration::from_millis(20));
    }
    let other = 3 - from - to;
    setslot_everywhere(cluster, &[to, from, other], slot, &dst_id);
}

#[test]
fn live_slot_move_is_invisible_to_clients() {
    let cluster = Cluster::start(3).unwrap();
    let proxy = Proxy::start(&yaml(&cluster, "")).unwrap();
    let slot = key_hash_slot(b"mv");
    let from = cluster.master_of_slot(slot).unwrap();
    let to = (from + 1) % 3;
    let mut c = RawClient::connect(proxy.addr());
    for i in 0..100 {
        assert_eq!(c.call(&["SET", &format!("{{mv}}:{i}"), &i.to_string()]), simple("OK"));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let addr = proxy.addr();
    let writer = {
        let (stop, done) = (stop.clone(), done.clone());
        std::thread::spawn(move || {
            let mut c = RawClient::connect(addr);
            let mut i = 100;
            while !stop.load(Ordering::Relaxed) {
                let r = c.call(&["SET", &format!("{{mv}}:{i}"), &i.to_string()]);
                assert_eq!(r, simple("OK"), "write {i} during the move");
                let r = c.call(&["GET", &format!("{{mv}}:{}", i % 100)]);
                assert_eq!(r, Frame::bulk((i % 100).to_string()), "read during the move");
                i += 1;
                done.fetch_add(1, Ordering::Relaxed);
            }
            i
        })
    };
    // Writes before, during and after the move: wait for the writer's progress, not a time.
    let progressed = |what: &str, n: usize| {
        let target = done.load(Ordering::Relaxed) + n;
        wait_until(WAIT, what, || done.load(Ordering::Relaxed) >= target || writer.is_finished());
    };
    progressed("the writer's first writes", 20);
    move_slot(&cluster, slot, from, to);
    progressed("writes after the move", 20);
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().expect("writer saw no error");
    for i in 0..written {
        assert_eq!(c.call(&["GET", &format!("{{mv}}:{i}")]), Frame::bulk(i.to_string()), "key {i}");
    }
    let Frame::Integer(n) =
        RawClient::connect(cluster.addrs()[to]).call(&["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()])
    else {
        panic!()
    };
    assert_eq!(n as usize, written, "every key now lives on the new owner");
}

/// A BLPOP waiting through the proxy while its slot moves keeps waiting where the key now
/// lives: the old owner answers the blocked command MOVED and the proxy sends it again to the
/// new one; a BLPOP that meets a migrating slot is sent on with ASKING. Each gets the value
/// pushed later, and nothing else.
#[test]
fn blocked_pop_follows_its_slot_to_the_new_owner() {
    let cluster = Cluster::start(3).unwrap();
    let proxy = Proxy::start(&yaml(&cluster, "")).unwrap();
    let slot = key_hash_slot(b"{q}jobs");
    let from = cluster.master_of_slot(slot).unwrap();
    let (to, third) = ((from + 1) % 3, (from + 2) % 3);
    let mut waiter = RawClient::connect(proxy.addr());
    let mut pusher = RawClient::connect(proxy.addr());
    let pushed = |p: &mut RawClient, v: &str| assert_eq!(p.call(&["RPUSH", "{q}jobs", v]), Frame::Integer(1));
    let popped = |v: &str| Frame::Array(vec![Frame::bulk("{q}jobs"), Frame::bulk(v.to_string())]);

    let addrs = cluster.addrs();
    let blocked_on = |i: usize, n: i64, what: &str| {
        wait_until_value(WAIT, what, || blocked_clients(addrs[i]), |&b| b == n);
    };
    // MOVED: blocked on `from`, the slot moves to `to`, then a job arrives.
    waiter.send_raw(&encode_command(&["BLPOP", "{q}jobs", "0"]));
    blocked_on(from, 1, "the BLPOP blocked on the slot's owner");
    move_slot(&cluster, slot, from, to);
    // The old owner answers the blocked BLPOP MOVED; the proxy sends it again to `to`.
    blocked_on(from, 0, "the old owner to redirect the blocked BLPOP");
    blocked_on(to, 1, "the BLPOP blocked again on the new owner");
    pushed(&mut pusher, "one");
    assert_eq!(waiter.read_reply().0, popped("one"));

    // ASK: the slot starts migrating from `to` to `third` before the BLPOP comes.
    let mut src = RawClient::connect(addrs[to]);
    let mut dst = RawClient::connect(addrs[third]);
    let src_id = text(src.call(&["CLUSTER", "MYID"]));
    let dst_id = text(dst.call(&["CLUSTER", "MYID"]));
    let s = slot.to_string();
    assert_eq!(dst.call(&["CLUSTER", "SETSLOT", &s, "IMPORTING", &src_id]), simple("OK"));
    assert_eq!(src.call(&["CLUSTER", "SETSLOT", &s, "MIGRATING", &dst_id]), simple("OK"));
    waiter.send_raw(&encode_command(&["BLPOP", "{q}jobs", "0"]));
    blocked_on(third, 1, "the BLPOP sent on with ASKING to block on the importing node");
    setslot_everywhere(&cluster, &[third, to, from], slot, &dst_id);
    pushed(&mut pusher, "two");
    assert_eq!(waiter.read_reply().0, popped("two"));
    assert_eq!(waiter.call(&["LLEN", "{q}jobs"]), Frame::Integer(0), "each job popped once");
}

/// A transaction whose slot moved since the proxy last looked: the first command (or WATCH)
/// is answered MOVED, and the proxy moves the whole transaction to the new owner before
/// anything ran, so the client sees the normal replies (pipelined MULTI ... EXEC too).
#[test]
fn transaction_follows_a_moved_slot() {
    let cluster = Cluster::start(3).unwrap();
    let proxy = Proxy::start(&yaml(&cluster, "")).unwrap();
    let slot = key_hash_slot(b"{t}n");
    let first = cluster.master_of_slot(slot).unwrap();
    let mut c = RawClient::connect(proxy.addr());
    assert_eq!(c.call(&["GET", "{t}n"]), Frame::Null, "the proxy knows the slot's owner");
    let node_ids: Vec<String> =
        cluster.addrs().iter().map(|a| text(RawClient::connect(*a).call(&["CLUSTER", "MYID"]))).collect();

    // Pipelined MULTI / INCR / INCR / EXEC, all sent before the MOVED comes back.
    let to = (first + 1) % 3;
    setslot_everywhere(&cluster, &[to, first, 3 - first - to], slot, &node_ids[to]);
    let mut batch = Vec::new();
    for cmd in [&["MULTI"][..], &["INCR", "{t}n"], &["INCR", "{t}n"], &["EXEC"]] {
        batch.extend(encode_command(cmd));
    }
    c.send_raw(&batch);
    assert_eq!(c.read_reply().0, simple("OK"));
    assert_eq!(c.read_reply().0, simple("QUEUED"));
    assert_eq!(c.read_reply().0, simple("QUEUED"));
    assert_eq!(c.read_reply().0, Frame::Array(vec![Frame::Integer(1), Frame::Integer(2)]));

    // WATCH first: it is the request that moves, the rest follows it.
    move_slot(&cluster, slot, (first + 1) % 3, (first + 2) % 3);
    assert_eq!(c.call(&["WATCH", "{t}n"]), simple("OK"));
    assert_eq!(c.call(&["GET", "{t}n"]), Frame::bulk("2"));
    assert_eq!(c.call(&["MULTI"]), simple("OK"));
    assert_eq!(c.call(&["SET", "{t}n", "10"]), simple("QUEUED"));
    assert_eq!(c.call(&["EXEC"]), Frame::Array(vec![simple("OK")]));
    let owner = cluster.addrs()[(first + 2) % 3];
    assert_eq!(RawClient::connect(owner).call(&["GET", "{t}n"]), Frame::bulk("10"), "ran on the new owner");
}

fn commands_processed(addr: std::net::SocketAddr) -> i64 {
    let info = text(RawClient::connect(addr).call(&["INFO", "stats"]));
    let line = info.lines().find(|l| l.starts_with("total_commands_processed:")).unwrap();
    line.split(':').nth(1).unwrap().trim().parse().unwrap()
}

#[test]
fn read_from_replica_sends_reads_to_replicas() {
    let cluster = Cluster::builder().masters(3).replicas(1).node_timeout_ms(5000).start().unwrap();
    let proxy = Proxy::start(&yaml(&cluster, "  read_from: replica\n")).unwrap();
    let mut c = RawClient::connect(proxy.addr());
    // A just-started cluster with replicas may briefly answer CLUSTERDOWN (a loaded machine
    // can even flap once): retry those, bounded.
    let deadline = Instant::now() + Duration::from_secs(20);
    for i in 0..50 {
        loop {
            match c.call(&["SET", &format!("r{i}"), "v"]) {
                Frame::Error(e) if e.starts_with(b"CLUSTERDOWN") && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                r => {
                    assert_eq!(r, simple("OK"));
                    break;
                }
            }
        }
    }
    let replicas = &cluster.addrs()[3..];
    // The reads below must find every key on the replicas: wait until replication caught up.
    let dbsize = |a: &std::net::SocketAddr| RawClient::connect(*a).call(&["DBSIZE"]).as_integer().unwrap_or(-1);
    wait_until_value(
        Duration::from_secs(20),
        "the replicas to hold the 50 keys",
        || replicas.iter().map(dbsize).collect::<Vec<i64>>(),
        |sizes| sizes.iter().sum::<i64>() == 50,
    );
    let before: i64 = replicas.iter().map(|a| commands_processed(*a)).sum();
    let mut hits = 0;
    for i in 0..200 {
        if c.call(&["GET", &format!("r{}", i % 50)]) == Frame::bulk("v") {
            hits += 1;
        }
    }
    assert_eq!(hits, 200);
    let after: i64 = replicas.iter().map(|a| commands_processed(*a)).sum();
    assert!(after - before >= 200, "replicas served {} commands", after - before);
}
