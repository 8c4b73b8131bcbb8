//! SORT and SORT_RO as a user meets them: reply for reply as real Redis (BY keys and hash
//! fields, GET, LIMIT, ALPHA, STORE, errors, RESP3 nulls, key extraction); a STOREd result
//! reaches replicas as the stored list (and a SORT without STORE sends them nothing); a client
//! blocked on the STORE key is served; SORT BY beside concurrent writers neither hangs nor
//! mixes states; cluster mode refuses patterns as Redis 7.0. Every wait is bounded.

mod common;

use common::{show, text, wait_for, RawClient, ServerProcess};
use slotbox::protocol::Frame;
use slotbox::{Cluster, Config, Server};
use std::time::Duration;

fn bulks(items: &[&str]) -> Frame {
    Frame::Array(items.iter().map(|s| Frame::Bulk(s.as_bytes().to_vec().into())).collect())
}

/// The same script against real Redis and slotbox: identical raw replies.
#[test]
fn sort_answers_as_redis() {
    if !common::on_path("redis-server") {
        eprintln!("redis-server not on PATH: skipped");
        return;
    }
    let redis = ServerProcess::redis();
    let slotbox = Server::start().unwrap();
    let mut r = RawClient::connect(redis.addr());
    let mut s = RawClient::connect(slotbox.addr());
    let script: &[&[&str]] = &[
        &["RPUSH", "l", "3", "1", "2", "10", " 5", "", "0x10", "-inf", "1.5e1"],
        &["SORT", "l"],
        &["SORT", "l", "DESC", "LIMIT", "1", "3"],
        &["SORT", "l", "ALPHA", "LIMIT", "-1", "-1"],
        &["SORT", "l", "LIMIT", "100", "1"],
        &["SORT", "l", "BY", "nosort", "DESC", "LIMIT", "2", "3"],
        &["SORT_RO", "l", "STORE", "x"],
        &["SORT", "l", "LIMIT", "x", "1"],
        &["SORT", "l", "LIMIT", "1"],
        &["SORT", "l", "FOO"],
        &["SET", "str", "x"],
        &["SORT", "str"],
        &["SORT", "str", "FOO"],
        &["RPUSH", "bad", "1", "x"],
        &["SORT", "bad"],
        &["SORT", "bad", "STORE", "dst"],
        &["EXISTS", "dst"],
        &["MSET", "w_1", "5", "w_3", "1", "w_2", "2", "w_10", "3", "o_1", "one", "o_3", "three"],
        &["HSET", "h_1", "f", "9"],
        &["HSET", "h_2", "f", "8", "g", "x"],
        &["SORT", "l", "BY", "w_*", "GET", "#", "GET", "o_*", "GET", "h_*->f", "GET", "h_*->"],
        &["SORT", "l", "BY", "h_*->f", "ALPHA", "DESC"],
        &["SORT", "l", "BY", "w_*", "GET", "o_*", "STORE", "dst"],
        &["LRANGE", "dst", "0", "-1"],
        &["TYPE", "dst"],
        &["OBJECT", "ENCODING", "dst"],
        &["SADD", "s", "b", "10", "a", "9"],
        &["SORT", "s", "BY", "nosort", "STORE", "dst"],
        &["LRANGE", "dst", "0", "-1"],
        &["SORT", "s", "ALPHA", "DESC", "LIMIT", "1", "2"],
        &["ZADD", "z", "1", "c", "2", "b", "3", "a", "4", "d"],
        &["SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "2"],
        &["SORT", "z", "ALPHA"],
        &["SORT", "nokey", "STORE", "dst"],
        &["EXISTS", "dst"],
        &["RPUSH", "e", "a\0b", "a\0a", "a"],
        &["SORT", "e", "ALPHA"],
        &["SORT", "e", "ALPHA", "STORE", "es"],
        &["LRANGE", "es", "0", "-1"],
        &["COMMAND", "GETKEYS", "SORT", "l", "BY", "w_*", "STORE", "a", "LIMIT", "0", "1", "STORE", "b"],
        &["COMMAND", "GETKEYS", "SORT_RO", "l", "GET", "#"],
        &["COMMAND", "INFO", "SORT", "SORT_RO"],
        &["HELLO", "3"],
        &["SORT", "l", "BY", "w_*", "GET", "o_*"],
        &["SORT", "nokey"],
    ];
    for cmd in script {
        let (want, got) = (r.call_raw(cmd), s.call_raw(cmd));
        // HELLO's reply carries the connection's id.
        if cmd[0] != "HELLO" {
            assert_eq!(show(&got), show(&want), "{cmd:?}");
        }
    }
}

/// A field of `INFO replication`.
fn repl_offset(c: &mut RawClient, field: &str) -> String {
    common::info_value(c, "replication", field).unwrap_or_default()
}

#[test]
fn stored_result_reaches_replicas_and_a_plain_sort_sends_nothing() {
    let master = Server::with_config(Config::ephemeral()).unwrap();
    let replica = Server::with_config(Config::ephemeral()).unwrap();
    let mut m = RawClient::connect(master.addr());
    let mut r = RawClient::connect(replica.addr());
    let port = master.addr().port().to_string();
    assert_eq!(r.call(&["REPLICAOF", "127.0.0.1", &port]), Frame::ok());
    let up = wait_for(Duration::from_secs(10), || repl_offset(&mut r, "master_link_status") == "up");
    assert!(up, "replica never linked");
    m.call(&["SADD", "s", "c", "a", "b"]);
    m.call(&["MSET", "w_a", "3", "w_b", "1", "w_c", "2"]);
    m.call(&["SET", "dst", "old"]);
    m.call(&["EXPIRE", "dst", "1000"]);
    assert_eq!(m.call(&["SORT", "s", "BY", "w_*", "STORE", "dst"]), Frame::Integer(3));
    let caught_up = |m: &mut RawClient, r: &mut RawClient| {
        wait_for(Duration::from_secs(10), || {
            repl_offset(r, "slave_repl_offset") == repl_offset(m, "master_repl_offset")
        })
    };
    assert!(caught_up(&mut m, &mut r), "replica never caught up");
    assert_eq!(r.call(&["LRANGE", "dst", "0", "-1"]), bulks(&["b", "c", "a"]));
    assert_eq!(r.call(&["TTL", "dst"]), Frame::Integer(-1));
    // A plain SORT (flagged write, like Redis's) writes nothing and sends nothing.
    let before = repl_offset(&mut m, "master_repl_offset");
    assert_eq!(m.call(&["SORT", "s", "BY", "w_*"]), bulks(&["b", "c", "a"]));
    assert_eq!(repl_offset(&mut m, "master_repl_offset"), before);
    // An empty result deletes the destination, on the replica too.
    assert_eq!(m.call(&["SORT", "nokey", "STORE", "dst"]), Frame::Integer(0));
    assert!(caught_up(&mut m, &mut r), "replica never caught up");
    assert_eq!(r.call(&["EXISTS", "dst"]), Frame::Integer(0));
    // A replica refuses SORT (a write command) and answers SORT_RO.
    let refused = text(&r.call(&["SORT", "s", "ALPHA"]));
    assert!(refused.starts_with("READONLY"), "{refused}");
    assert_eq!(r.call(&["SORT_RO", "s", "ALPHA"]), bulks(&["a", "b", "c"]));
}

#[test]
fn a_client_blocked_on_the_store_key_is_served() {
    let server = Server::start().unwrap();
    let mut blocked = RawClient::connect(server.addr());
    let mut c = RawClient::connect(server.addr());
    c.call(&["RPUSH", "l", "2", "1"]);
    blocked.send_raw(&common::encode_command(&["BLPOP", "dst", "10"]));
    let waiting = wait_for(Duration::from_secs(10), || common::blocked_clients(server.addr()) == 1);
    assert!(waiting, "BLPOP never blocked");
    assert_eq!(c.call(&["SORT", "l", "STORE", "dst"]), Frame::Integer(2));
    assert_eq!(blocked.read_reply().0, bulks(&["dst", "1"]));
    assert_eq!(c.call(&["LRANGE", "dst", "0", "-1"]), bulks(&["2"]));
}

/// SORT BY / GET patterns lock the slots they name while other clients swap weights in
/// transactions: every reply reads the weights at one point (always the same multiset, in
/// order), and nothing hangs.
#[test]
fn sorting_by_patterns_beside_writers() {
    let server = Server::start().unwrap();
    let addr = server.addr();
    let mut setup = RawClient::connect(addr);
    for i in 0..50 {
        setup.call(&["RPUSH", "l", &i.to_string()]);
        setup.call(&["SET", &format!("w_{i}"), &(100 + i).to_string()]);
    }
    let writers: Vec<_> = (0..2)
        .map(|t| {
            std::thread::spawn(move || {
                let mut c = RawClient::connect(addr);
                for n in 0..200 {
                    let i = (n * 7 + t) % 50;
                    let (a, b) = (format!("w_{i}"), format!("w_{}", (i + 1 + n % 3) % 50));
                    c.call(&["MULTI"]);
                    c.call(&["RENAME", &a, "tmp"]);
                    c.call(&["RENAME", &b, &a]);
                    c.call(&["RENAME", "tmp", &b]);
                    assert!(matches!(c.call(&["EXEC"]), Frame::Array(_)));
                }
            })
        })
        .collect();
    let sorters: Vec<_> = (0..2)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = RawClient::connect(addr);
                let want: Vec<String> = (100..150).map(|w: i32| w.to_string()).collect();
                for _ in 0..150 {
                    let Frame::Array(weights) = c.call(&["SORT", "l", "BY", "w_*", "GET", "w_*"]) else {
                        panic!("SORT did not answer an array");
                    };
                    let weights: Vec<String> = weights.iter().map(text).collect();
                    assert_eq!(weights, want, "weights read at one point, in order");
                }
            })
        })
        .collect();
    for t in writers.into_iter().chain(sorters) {
        t.join().expect("a client thread failed");
    }
}

#[test]
fn cluster_mode_refuses_patterns_as_redis_7_0() {
    let cluster = Cluster::start(1).unwrap();
    cluster.wait_ok(Duration::from_secs(20)).unwrap();
    let mut c = RawClient::connect(cluster.addrs()[0]);
    c.call(&["RPUSH", "{l}", "b", "a"]);
    let by = c.call(&["SORT", "{l}", "BY", "w_*"]);
    assert_eq!(by, Frame::Error("ERR BY option of SORT denied in Cluster mode.".into()));
    let get = c.call(&["SORT", "{l}", "ALPHA", "GET", "#"]);
    assert_eq!(get, Frame::Error("ERR GET option of SORT denied in Cluster mode.".into()));
    assert_eq!(c.call(&["SORT", "{l}", "BY", "nosort"]), bulks(&["b", "a"]));
    assert_eq!(c.call(&["SORT", "{l}", "ALPHA", "STORE", "{l}dst"]), Frame::Integer(2));
    let cross = text(&c.call(&["SORT", "{l}", "ALPHA", "STORE", "other"]));
    assert!(cross.starts_with("CROSSSLOT"), "{cross}");
}

/// STORE's keyspace events, as real Redis sends them: `sortstore` for a stored list, `del`
/// for an empty result that deleted the key, nothing otherwise.
#[test]
fn store_reports_its_keyspace_events_as_redis() {
    if !common::on_path("redis-server") {
        eprintln!("redis-server not on PATH: skipped");
        return;
    }
    let redis = ServerProcess::redis();
    let slotbox = Server::start().unwrap();
    let events = |addr| -> Vec<Frame> {
        let mut c = RawClient::connect(addr);
        let mut sub = RawClient::connect(addr);
        c.call(&["RPUSH", "l", "b", "a"]);
        c.call(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
        sub.call(&["PSUBSCRIBE", "__keyevent@0__:*"]);
        sub.call(&["SUBSCRIBE", "end"]);
        for cmd in [
            &["SORT", "l", "ALPHA", "STORE", "d"][..],
            &["SORT", "nokey", "STORE", "d"],
            &["SORT", "nokey", "STORE", "d"],
            &["SORT", "l", "BY", "nosort"],
            &["PUBLISH", "end", "."],
        ] {
            c.call(cmd);
        }
        let mut seen = Vec::new();
        loop {
            let f = sub.read_reply().0;
            if matches!(&f, Frame::Array(p) if p.first() == Some(&Frame::Bulk("message".into()))) {
                return seen;
            }
            seen.push(f);
        }
    };
    assert_eq!(events(slotbox.addr()), events(redis.addr()));
}
