//! Streams and consumer groups as a user meets them: the same command sequences answered
//! byte for byte like real `redis-server` 7.0 (RESP2 and RESP3; IDs explicit so they match),
//! a blocked XREAD / XREADGROUP woken by XADD, a replica whose pending entries match its
//! master's after XREADGROUP / XACK / XCLAIM / XAUTOCLAIM, and streams that survive a
//! restart from a snapshot, from the AOF and a DUMP / RESTORE. Every wait is bounded.

mod common;

use common::{blocked_clients, on_path, wait_for, RawClient, ServerProcess, TempDir};
use slotbox::protocol::Frame;
use slotbox::{Config, Server};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

/// Requests whose replies do not depend on the clock (no `*` IDs, no idle times).
#[rustfmt::skip]
const SCRIPT: &[&[&str]] = &[
    &["XADD", "s", "1-1", "a", "1", "b", "2"],
    &["XADD", "s", "1-1", "a", "1"],
    &["XADD", "s", "1", "a", "1"],
    &["XADD", "s", "1-*", "a", "3"],
    &["XADD", "s", "2-*", "x", "y"],
    &["XADD", "s", "3", "a", "1", "b", "2"],
    &["XADD", "s", "0-0", "a", "1"],
    &["XADD", "s", "abc", "a", "1"],
    &["XADD", "s", "5-0", "a"],
    &["XADD", "s", "MAXLEN", "~", "-1", "6-0", "a", "1"],
    &["XADD", "s", "MAXLEN", "1", "MINID", "1", "6-0", "a", "1"],
    &["XADD", "s", "LIMIT", "5", "6-0", "a", "1"],
    &["XADD", "s", "MAXLEN", "5", "LIMIT", "5", "6-0", "a", "1"],
    &["XADD", "nokey", "NOMKSTREAM", "1-1", "a", "1"],
    &["XADD", "s", "NOMKSTREAM", "MAXLEN", "=", "10", "7-0", "c", "3"],
    &["XLEN", "s"],
    &["XRANGE", "s", "-", "+"],
    &["XRANGE", "s", "(1-1", "+", "COUNT", "2"],
    &["XREVRANGE", "s", "+", "-", "COUNT", "1"],
    &["XREVRANGE", "s", "(3", "(1-2"],
    &["XRANGE", "s", "-", "+", "COUNT", "0"],
    &["XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"],
    &["XRANGE", "s", "-", "(0-0"],
    &["XRANGE", "s", "-", "+", "FOO"],
    &["XRANGE", "nokey", "-", "+"],
    &["XDEL", "s", "1-2", "9-9"],
    &["XDEL", "s", "bad"],
    &["XTRIM", "s", "MAXLEN", "3"],
    &["XTRIM", "s", "MINID", "=", "3"],
    &["XTRIM", "s", "LIMIT", "1"],
    &["XTRIM", "s", "MAXLEN", "1", "LIMIT", "1"],
    &["XRANGE", "s", "-", "+"],
    &["XREAD", "COUNT", "1", "STREAMS", "s", "nokey", "0", "0"],
    &["XREAD", "STREAMS", "s", "$"],
    &["XREAD", "STREAMS", "s"],
    &["XREAD", "STREAMS", "s", ">"],
    &["XREAD", "GROUP", "g", "c", "STREAMS", "s", "0"],
    &["XGROUP", "CREATE", "s", "g1", "0"],
    &["XGROUP", "CREATE", "s", "g1", "0"],
    &["XGROUP", "CREATE", "nokey", "g1", "0"],
    &["XGROUP", "CREATE", "new", "g1", "$", "MKSTREAM", "ENTRIESREAD", "0"],
    &["XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "-2"],
    &["XGROUP", "CREATE", "s", "g2", "$"],
    &["XGROUP", "CREATECONSUMER", "s", "g1", "alice"],
    &["XGROUP", "CREATECONSUMER", "s", "g1", "alice"],
    &["XGROUP", "CREATECONSUMER", "s", "nog", "alice"],
    &["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "1", "STREAMS", "s", ">"],
    &["XREADGROUP", "GROUP", "g1", "bob", "STREAMS", "s", ">"],
    &["XREADGROUP", "GROUP", "g1", "bob", "STREAMS", "s", ">"],
    &["XREADGROUP", "GROUP", "g1", "bob", "STREAMS", "s", "0"],
    &["XREADGROUP", "GROUP", "g1", "bob", "STREAMS", "s", "$"],
    &["XREADGROUP", "GROUP", "nog", "bob", "STREAMS", "s", ">"],
    &["XREADGROUP", "STREAMS", "s", ">"],
    &["XPENDING", "s", "g1"],
    &["XPENDING", "s", "g2"],
    &["XPENDING", "s", "nog"],
    &["XPENDING", "s", "g1", "-", "+", "10", "nobody"],
    &["XACK", "s", "g1", "3-0", "3-0", "9-9"],
    &["XACK", "s", "g1", "bad"],
    &["XCLAIM", "s", "g1", "alice", "0", "7-0", "JUSTID"],
    &["XCLAIM", "s", "g1", "alice", "0", "7-0"],
    &["XCLAIM", "s", "g1", "alice", "0", "7-0", "BOGUS"],
    &["XCLAIM", "s", "g1", "alice", "abc", "7-0"],
    &["XAUTOCLAIM", "s", "g1", "bob", "0", "-", "COUNT", "1"],
    &["XAUTOCLAIM", "s", "g1", "bob", "0", "0", "JUSTID"],
    &["XAUTOCLAIM", "s", "g1", "bob", "0", "0", "COUNT", "0"],
    &["XPENDING", "s", "g1"],
    &["XINFO", "GROUPS", "s"],
    &["XGROUP", "SETID", "s", "g1", "0", "ENTRIESREAD", "1"],
    &["XINFO", "GROUPS", "s"],
    &["XGROUP", "DELCONSUMER", "s", "g1", "bob"],
    &["XGROUP", "DESTROY", "s", "g2"],
    &["XGROUP", "DESTROY", "s", "g2"],
    &["XINFO", "GROUPS", "s"],
    &["XSETID", "s", "1-0"],
    &["XSETID", "s", "99-0", "ENTRIESADDED", "1"],
    &["XSETID", "s", "99-0", "ENTRIESADDED", "100", "MAXDELETEDID", "98-0"],
    &["XSETID", "nokey", "1-0"],
    &["XADD", "s", "99-*", "z", "z"],
    &["XINFO", "GROUPS", "s"],
    &["XGROUP", "SETID", "s", "g1", "$", "ENTRIESREAD", "1000"],
    &["XINFO", "GROUPS", "s"],
    &["XINFO", "HELP"],
    &["XGROUP", "HELP"],
    &["XINFO", "FOO", "s"],
    &["SET", "str", "x"],
    &["XADD", "str", "1-1", "a", "b"],
    &["XRANGE", "str", "-", "+"],
    &["XREAD", "STREAMS", "str", "0"],
    &["TYPE", "s"],
    &["OBJECT", "ENCODING", "s"],
];

fn redis_available() -> bool {
    if on_path("redis-server") {
        return true;
    }
    assert_eq!(
        std::env::var("SLOTBOX_SKIP_DIFFERENTIAL").as_deref(),
        Ok("1"),
        "redis-server is not installed (set SLOTBOX_SKIP_DIFFERENTIAL=1 to skip)"
    );
    false
}

#[test]
fn replies_match_redis_in_resp2_and_resp3() {
    if !redis_available() {
        return;
    }
    for resp3 in [false, true] {
        let redis = ServerProcess::redis();
        let slotbox = Server::start().unwrap();
        let mut r = RawClient::connect(redis.addr());
        let mut s = RawClient::connect(slotbox.addr());
        if resp3 {
            r.call(&["HELLO", "3"]);
            s.call(&["HELLO", "3"]);
        }
        for req in SCRIPT {
            let (want, got) = (r.call_raw(req), s.call_raw(req));
            assert_eq!(common::show(&got), common::show(&want), "{req:?} (resp3: {resp3})");
        }
    }
}

#[test]
fn restore_reads_a_stream_dumped_by_redis() {
    if !redis_available() {
        return;
    }
    let redis = ServerProcess::redis();
    let slotbox = Server::start().unwrap();
    let mut r = RawClient::connect(redis.addr());
    let mut s = RawClient::connect(slotbox.addr());
    r.call(&["CONFIG", "SET", "stream-node-max-entries", "3"]);
    for i in 1..=20 {
        let (f, v) = if i % 4 == 0 { ("other", "-123456") } else { ("f", "a value long enough to be a plain string") };
        r.call(&["XADD", "s", &format!("{i}-{i}"), f, v, "n", &(i * 1000).to_string()]);
    }
    r.call(&["XDEL", "s", "2-2", "7-7"]);
    r.call(&["XGROUP", "CREATE", "s", "g", "0"]);
    r.call(&["XGROUP", "CREATE", "s", "h", "$"]);
    r.call(&["XREADGROUP", "GROUP", "g", "alice", "COUNT", "4", "STREAMS", "s", ">"]);
    r.call(&["XREADGROUP", "GROUP", "g", "bob", "COUNT", "2", "STREAMS", "s", ">"]);
    r.call(&["XGROUP", "CREATECONSUMER", "s", "h", "carol"]);
    let Frame::Bulk(payload) = r.call(&["DUMP", "s"]) else { panic!("DUMP") };
    assert_eq!(s.call(&[&b"RESTORE"[..], b"s", b"0", &payload]), Frame::ok());
    for req in [&["XRANGE", "s", "-", "+"][..], &["XINFO", "GROUPS", "s"], &["XPENDING", "s", "g"], &["XLEN", "s"]] {
        assert_eq!(s.call(req), r.call(req), "{req:?}");
    }
    let full = |c: &mut RawClient| match c.call(&["XINFO", "STREAM", "s", "FULL", "COUNT", "0"]) {
        Frame::Array(mut f) => f.split_off(6),
        other => panic!("{other:?}"),
    };
    assert_eq!(full(&mut s), full(&mut r), "XINFO STREAM FULL past the radix-tree fields");
    let mut bad = payload.to_vec();
    bad[5] ^= 1;
    let refused = s.call(&[&b"RESTORE"[..], b"t", b"0", &bad]);
    assert_eq!(refused, common::error("ERR DUMP payload version or checksum are wrong"));
}

#[test]
fn blocked_reads_are_woken_by_xadd() {
    let server = Server::start().unwrap();
    let mut c = RawClient::connect(server.addr());
    c.call(&["XADD", "s", "1-0", "f", "v"]);
    c.call(&["XGROUP", "CREATE", "s", "g", "$"]);
    let mut reader = RawClient::connect(server.addr());
    let mut group_reader = RawClient::connect(server.addr());
    let mut late = RawClient::connect(server.addr());
    reader.send_raw(&common::encode_command(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]));
    late.send_raw(&common::encode_command(&["XREAD", "BLOCK", "0", "STREAMS", "s", "5-0"]));
    group_reader.send_raw(&common::encode_command(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]));
    assert!(wait_for(WAIT, || blocked_clients(server.addr()) == 3), "three readers blocked");
    c.call(&["XADD", "s", "2-0", "k", "1"]);
    let entry = Frame::Array(vec![Frame::Array(vec![
        common::bulk("s"),
        Frame::Array(vec![Frame::Array(vec![
            common::bulk("2-0"),
            Frame::Array(vec![common::bulk("k"), common::bulk("1")]),
        ])]),
    ])]);
    assert_eq!(reader.read_reply().0, entry);
    assert_eq!(group_reader.read_reply().0, entry);
    assert!(wait_for(WAIT, || blocked_clients(server.addr()) == 1), "the reader of 5-0 still waits");
    c.call(&["XADD", "s", "6-0", "k", "2"]);
    let reply = common::text(&late.read_reply().0);
    assert!(reply.contains("6-0"), "{reply}");
    c.call(&["SET", "str", "x"]);
    let scan = c.call(&["SCAN", "0", "TYPE", "stream"]);
    assert_eq!(scan, Frame::Array(vec![common::bulk("0"), Frame::Array(vec![common::bulk("s")])]));
    let pending = c.call(&["XPENDING", "s", "g"]);
    assert_eq!(
        pending,
        Frame::Array(vec![
            Frame::Integer(1),
            common::bulk("2-0"),
            common::bulk("2-0"),
            Frame::Array(vec![Frame::Array(vec![common::bulk("c"), common::bulk("1")])]),
        ])
    );
}

/// A field of `INFO <section>`.
fn info(c: &mut RawClient, section: &str, field: &str) -> String {
    let all = common::text(&c.call(&["INFO", section]));
    let prefix = format!("{field}:");
    all.lines().find_map(|l| l.strip_prefix(&prefix)).unwrap_or_default().trim().to_string()
}

/// What a group's pending entries look like without idle times: (id, consumer, deliveries).
fn pel(c: &mut RawClient, key: &str, group: &str) -> Vec<String> {
    let Frame::Array(items) = c.call(&["XPENDING", key, group, "-", "+", "1000"]) else {
        panic!("XPENDING failed");
    };
    items
        .iter()
        .map(|i| match i {
            Frame::Array(p) => format!("{} {} {}", common::text(&p[0]), common::text(&p[1]), common::text(&p[3])),
            other => panic!("{other:?}"),
        })
        .collect()
}

/// The groups, their pending entries and the entries. Not the read counters, which Redis
/// does not propagate either (a replica's stay unknown until it is promoted and reads).
fn group_state(c: &mut RawClient) -> Vec<String> {
    let Frame::Array(groups) = c.call(&["XINFO", "GROUPS", "s"]) else { panic!("XINFO GROUPS") };
    let mut out: Vec<String> = groups
        .iter()
        .map(|g| match g {
            Frame::Array(fields) => fields[..8].iter().map(common::text).collect::<Vec<_>>().join(" "),
            other => panic!("{other:?}"),
        })
        .collect();
    for g in ["g", "h"] {
        out.extend(pel(c, "s", g));
        out.push(common::text(&c.call(&["XPENDING", "s", g])));
    }
    out.push(common::text(&c.call(&["XRANGE", "s", "-", "+"])));
    out
}

fn fill_groups(m: &mut RawClient) {
    for i in 1..=6 {
        m.call(&["XADD", "s", &format!("{i}-0"), "n", &i.to_string()]);
    }
    m.call(&["XGROUP", "CREATE", "s", "g", "0"]);
    m.call(&["XGROUP", "CREATE", "s", "h", "0"]);
    m.call(&["XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">"]);
    m.call(&["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"]);
    m.call(&["XREADGROUP", "GROUP", "h", "carol", "NOACK", "COUNT", "2", "STREAMS", "s", ">"]);
    m.call(&["XACK", "s", "g", "1-0"]);
    m.call(&["XCLAIM", "s", "g", "carol", "0", "2-0", "5-0"]);
    m.call(&["XDEL", "s", "6-0"]);
    m.call(&["XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "10"]);
    m.call(&["XGROUP", "CREATECONSUMER", "s", "h", "erin"]);
}

#[test]
fn a_replica_keeps_the_same_pending_entries() {
    let master = Server::with_config(Config::ephemeral()).unwrap();
    let replica = Server::with_config(Config::ephemeral()).unwrap();
    let mut m = RawClient::connect(master.addr());
    let mut r = RawClient::connect(replica.addr());
    let port = master.addr().port().to_string();
    assert_eq!(r.call(&["REPLICAOF", "127.0.0.1", &port]), Frame::ok());
    assert!(wait_for(WAIT, || info(&mut r, "replication", "master_link_status") == "up"), "link");
    fill_groups(&mut m);
    // Generated IDs and approximate trims reach the replica as the IDs and lengths chosen.
    m.call(&["CONFIG", "SET", "stream-node-max-entries", "4"]);
    for i in 0..30 {
        m.call(&["XADD", "auto", "MAXLEN", "~", "10", "*", "i", &i.to_string()]);
    }
    m.call(&["XTRIM", "auto", "MINID", "~", "0-1"]);
    m.call(&["XADD", "auto", "NOMKSTREAM", "MINID", "~", "1", "LIMIT", "2", "*", "last", "1"]);
    let caught_up = || {
        let (mut m2, mut r2) = (RawClient::connect(master.addr()), RawClient::connect(replica.addr()));
        move || info(&mut m2, "replication", "master_repl_offset") == info(&mut r2, "replication", "slave_repl_offset")
    };
    assert!(wait_for(WAIT, caught_up()), "replica caught up");
    let want = group_state(&mut m);
    assert!(want.iter().any(|l| l.contains("dave")), "{want:?}");
    assert_eq!(group_state(&mut r), want);
    let auto = m.call(&["XRANGE", "auto", "-", "+"]);
    assert!(matches!(&auto, Frame::Array(a) if a.len() >= 10 && a.len() < 31), "{auto:?}");
    assert_eq!(r.call(&["XRANGE", "auto", "-", "+"]), auto);
}

#[test]
fn streams_survive_a_restart_from_the_snapshot_and_the_aof() {
    for appendonly in [false, true] {
        let dir = TempDir::new("streams");
        let mut cfg = Config::ephemeral();
        cfg.dir = dir.path().to_path_buf();
        cfg.appendonly = appendonly;
        let server = Server::with_config(cfg.clone()).unwrap();
        let mut c = RawClient::connect(server.addr());
        fill_groups(&mut c);
        c.call(&["XSETID", "s", "50-0", "ENTRIESADDED", "80", "MAXDELETEDID", "40-0"]);
        let full = |c: &mut RawClient| common::text(&c.call(&["XINFO", "STREAM", "s", "FULL"]));
        let before = (group_state(&mut c), full(&mut c));
        if !appendonly {
            assert_eq!(c.call(&["SAVE"]), Frame::ok());
        }
        let dump = c.call(&["DUMP", "s"]);
        drop(c);
        drop(server);
        let server = Server::with_config(cfg).unwrap();
        let mut c = RawClient::connect(server.addr());
        let after = (group_state(&mut c), full(&mut c));
        assert_eq!(after.0, before.0, "appendonly: {appendonly}");
        if !appendonly {
            // The snapshot keeps delivery and seen times too.
            assert_eq!(after.1, before.1);
        }
        let Frame::Bulk(payload) = dump else { panic!("DUMP: {dump:?}") };
        assert_eq!(c.call(&[&b"RESTORE"[..], b"copy", b"0", &payload]), Frame::ok());
        assert_eq!(common::text(&c.call(&["XINFO", "STREAM", "copy", "FULL"])), before.1, "DUMP / RESTORE");
    }
}
