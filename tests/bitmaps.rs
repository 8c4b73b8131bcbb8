//! Bitmap commands against real `redis-server` 7.0: the same command sequences to both give the
//! same reply bytes (RESP2 and RESP3, errors and edge offsets included), the same change count
//! (`rdb_changes_since_last_save`: what is propagated), the same keyspace events, and the
//! bitmaps written through the append-only file come back after a restart.

mod common;

use common::{RawClient, ServerProcess, TempDir};
use slotbox::protocol::Frame;

/// Commands whose replies are compared byte for byte.
#[rustfmt::skip]
const SCRIPT: &[&[&str]] = &[
    &["SETBIT", "b", "7", "1"], &["SETBIT", "b", "7", "1"], &["SETBIT", "b", "7", "0"],
    &["SETBIT", "b", "100", "1"], &["GET", "b"], &["STRLEN", "b"], &["OBJECT", "ENCODING", "b"],
    &["GETBIT", "b", "100"], &["GETBIT", "b", "4294967295"], &["GETBIT", "b", "4294967296"],
    &["SETBIT", "b", "-1", "1"], &["SETBIT", "b", "1", "2"], &["SETBIT", "b", "1", "-1"],
    &["SETBIT", "b", "abc", "1"], &["SETBIT", "b", "1", ""], &["GETBIT", "nokey", "3"],
    // integer-encoded strings are read and written as their decimal text
    &["SET", "n", "12345"], &["GETBIT", "n", "2"], &["BITCOUNT", "n"], &["BITPOS", "n", "0"],
    &["SETBIT", "n", "2", "1"], &["OBJECT", "ENCODING", "n"], &["GET", "n"],
    &["SET", "m", "99"], &["SETBIT", "m", "0", "0"], &["OBJECT", "ENCODING", "m"],
    // BITCOUNT
    &["SET", "s", "foobar"], &["BITCOUNT", "s"], &["BITCOUNT", "s", "1", "1"],
    &["BITCOUNT", "s", "-2", "-1"], &["BITCOUNT", "s", "5", "30", "BIT"],
    &["BITCOUNT", "s", "-3", "-1", "bit"], &["BITCOUNT", "s", "0", "-1", "BYTE"],
    &["BITCOUNT", "s", "-1", "-3"], &["BITCOUNT", "s", "-1", "-3", "FOO"],
    &["BITCOUNT", "s", "0", "100", "FOO"], &["BITCOUNT", "s", "1"], &["BITCOUNT", "s", "a", "1"],
    &["BITCOUNT", "s", "0", "1", "BIT", "X"], &["BITCOUNT", "nokey", "x"],
    &["BITCOUNT", "s", "9223372036854775807", "-9223372036854775808", "BIT"],
    // BITPOS
    &["BITPOS", "s", "1"], &["BITPOS", "s", "0"], &["BITPOS", "s", "1", "2"],
    &["BITPOS", "s", "0", "1", "-1"], &["BITPOS", "s", "1", "7", "15", "BIT"],
    &["BITPOS", "s", "0", "-3", "-1", "BIT"], &["BITPOS", "s", "1", "100"],
    &["BITPOS", "s", "2"], &["BITPOS", "s", "1", "0", "1", "BOT"],
    &["BITPOS", "s", "1", "x", "1", "BOT"], &["BITPOS", "nokey", "0"], &["BITPOS", "nokey", "1"],
    &["BITPOS", "nokey", "1", "0", "1", "2", "3"],
    &["SETBIT", "ones", "23", "1"], &["BITOP", "NOT", "ones", "ones"], &["SETBIT", "ones", "23", "1"],
    &["BITPOS", "ones", "0"], &["BITPOS", "ones", "0", "0", "-1"], &["BITPOS", "ones", "0", "3", "BIT"],
    &["BITPOS", "ones", "0", "3", "-1", "BIT"], &["SET", "empty", ""], &["BITPOS", "empty", "0"],
    &["BITCOUNT", "empty"],
    // BITOP
    &["SET", "a", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ"], &["SET", "c", "xyz"],
    &["BITOP", "AND", "d", "a", "c"], &["GET", "d"], &["OBJECT", "ENCODING", "d"],
    &["BITOP", "OR", "d", "a", "c", "nokey"], &["GET", "d"],
    &["BITOP", "XOR", "d", "a", "c", "a"], &["GET", "d"],
    &["BITOP", "NOT", "d", "a"], &["GET", "d"], &["BITOP", "AND", "d", "a", "nokey"], &["GET", "d"],
    &["BITOP", "NOT", "d", "a", "c"], &["BITOP", "NAND", "d", "a"], &["BITOP", "not", "d", "n"],
    &["GET", "d"], &["EXPIRE", "d", "1000"], &["BITOP", "OR", "d", "c"], &["TTL", "d"],
    &["BITOP", "OR", "d", "nokey", "nokey2"], &["EXISTS", "d"], &["BITOP", "OR", "d", "nokey"],
    &["LPUSH", "list", "x"], &["BITOP", "OR", "d", "a", "list"], &["SETBIT", "list", "0", "1"],
    &["GETBIT", "list", "0"], &["BITCOUNT", "list"], &["BITPOS", "list", "1"],
    &["BITFIELD", "list", "GET", "u8", "0"], &["BITFIELD_RO", "list", "GET", "u8", "0"],
    // BITFIELD
    &["BITFIELD", "f", "SET", "i8", "0", "-100", "GET", "i8", "0", "GET", "u8", "0"],
    &["BITFIELD", "f", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1"],
    &["BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "-100", "GET", "i8", "0"],
    &["BITFIELD", "f", "OVERFLOW", "WRAP", "INCRBY", "i8", "0", "-100"],
    &["BITFIELD", "f", "OVERFLOW", "SAT", "SET", "u8", "0", "-1", "SET", "i8", "8", "-9223372036854775808"],
    &["BITFIELD", "f", "SET", "i64", "#2", "9223372036854775807", "INCRBY", "i64", "#2", "1"],
    &["BITFIELD", "f", "OVERFLOW", "SAT", "INCRBY", "i64", "#2", "-1", "INCRBY", "i64", "#2", "-9223372036854775808"],
    &["BITFIELD", "f", "SET", "u63", "3", "9223372036854775807", "GET", "u63", "3", "GET", "i63", "3"],
    &["BITFIELD", "f", "OVERFLOW", "FAIL", "SET", "u8", "0", "256", "SET", "i4", "0", "8"],
    &["BITFIELD", "f", "GET", "u64", "0"], &["BITFIELD", "f", "GET", "i65", "0"],
    &["BITFIELD", "f", "GET", "i0", "0"], &["BITFIELD", "f", "GET", "x8", "0"],
    &["BITFIELD", "f", "GET", "i8", "-1"], &["BITFIELD", "f", "GET", "i8", "#-1"],
    &["BITFIELD", "f", "GET", "i8", "4294967296"], &["BITFIELD", "f", "GET", "i8", "#536870912"],
    &["BITFIELD", "f", "GET", "i8", "4294967288"], &["BITFIELD", "f", "GET", "i8"],
    &["BITFIELD", "f", "OVERFLOW", "BAD"], &["BITFIELD", "f", "OVERFLOW"], &["BITFIELD", "f", "FOO", "i8", "0"],
    &["BITFIELD", "f", "SET", "i8", "0", "x"], &["BITFIELD", "f", "INCRBY", "i8", "0", "1.5"],
    &["BITFIELD", "f"], &["BITFIELD", "nokey2"], &["EXISTS", "nokey2"],
    &["BITFIELD", "nokey2", "GET", "u8", "0"], &["EXISTS", "nokey2"],
    &["BITFIELD", "nokey3", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300"], &["EXISTS", "nokey3"], &["STRLEN", "nokey3"],
    &["BITFIELD", "n", "GET", "u8", "0", "SET", "u8", "0", "50"], &["GET", "n"], &["OBJECT", "ENCODING", "n"],
    &["BITFIELD_RO", "f", "GET", "i8", "0", "GET", "u16", "#1"], &["BITFIELD_RO", "f", "SET", "i8", "0", "1"],
    &["BITFIELD_RO", "f", "INCRBY", "i8", "0", "1"], &["BITFIELD_RO", "f", "OVERFLOW", "SAT"],
    &["BITFIELD_RO", "f", "OVERFLOW", "SAT", "GET", "i8", "0"], &["BITFIELD_RO", "nokey", "GET", "i8", "0"],
    &["GET", "f"],
    // the proto-max-bulk-len bound on offsets
    &["CONFIG", "SET", "proto-max-bulk-len", "1048576"], &["SETBIT", "big", "8388608", "1"],
    &["SETBIT", "big", "8388607", "1"], &["STRLEN", "big"], &["BITCOUNT", "big"], &["BITPOS", "big", "1"],
    &["BITFIELD", "big", "SET", "u8", "8388600", "1"], &["BITFIELD", "big", "SET", "u8", "8388601", "1"],
    &["BITFIELD", "big", "SET", "u8", "#1048575", "3"], &["BITFIELD", "big", "GET", "u8", "#1048576"],
    &["STRLEN", "big"], &["CONFIG", "SET", "proto-max-bulk-len", "536870912"],
    // wrong arity
    &["SETBIT", "b", "1"], &["GETBIT", "b"], &["BITCOUNT"], &["BITPOS", "b"], &["BITOP", "AND", "d"],
    &["BITFIELD"], &["BITFIELD_RO"],
];

fn changes(c: &mut RawClient) -> i64 {
    let v = common::info_value(c, "persistence", "rdb_changes_since_last_save").expect("rdb_changes_since_last_save");
    v.parse().expect("a number")
}

/// Run [`SCRIPT`]: every reply as bytes, and whether the command counted as a change (what
/// Redis propagates; the count itself differs where slotbox counts a propagated SELECT, or
/// Redis counts each field a BITFIELD changed).
fn run(c: &mut RawClient) -> Vec<(String, Vec<u8>, i64)> {
    let mut out = Vec::new();
    for cmd in SCRIPT {
        let before = changes(c);
        let reply = c.call_raw(cmd);
        let delta = if cmd[0] == "CONFIG" { 0 } else { (changes(c) - before).signum() };
        out.push((cmd.join(" "), reply, delta));
    }
    out
}

fn connect(addr: std::net::SocketAddr, resp3: bool) -> RawClient {
    let mut c = RawClient::connect(addr);
    if resp3 {
        assert!(matches!(c.call(&["HELLO", "3"]), Frame::Map(_)));
    }
    c
}

fn compare(want: &[(String, Vec<u8>, i64)], got: &[(String, Vec<u8>, i64)]) {
    for ((cmd, w, wd), (_, g, gd)) in want.iter().zip(got) {
        assert_eq!(common::show(g), common::show(w), "reply to {cmd}");
        assert_eq!(gd, wd, "counted as a change: {cmd}");
    }
}

/// Every string key with its value's length and FNV-1a hash (the big bitmap is 1 MB).
fn strings(c: &mut RawClient) -> Vec<(String, usize, u64)> {
    let Frame::Array(keys) = c.call(&["KEYS", "*"]) else { panic!("KEYS") };
    let mut names: Vec<String> = keys.iter().map(common::text).collect();
    names.sort();
    let fnv =
        |b: &[u8]| b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| (h ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3));
    let mut out = Vec::new();
    for k in names.into_iter().filter(|k| k != "list") {
        let Frame::Bulk(v) = c.call(&["GET", &k]) else { panic!("GET {k}") };
        out.push((k, v.len(), fnv(&v)));
    }
    out
}

#[test]
fn replies_changes_and_aof_match_redis() {
    if !common::on_path("redis-server") {
        eprintln!("redis-server not on PATH: skipped");
        return;
    }
    for resp3 in [false, true] {
        let redis = ServerProcess::redis();
        let dir = TempDir::new("bitmaps-aof");
        let start = || {
            let mut cfg = slotbox::Config::ephemeral();
            cfg.dir = dir.path().to_path_buf();
            cfg.appendonly = true;
            slotbox::Server::with_config(cfg).expect("start slotbox")
        };
        let slotbox = start();
        let want = run(&mut connect(redis.addr(), resp3));
        let got = run(&mut connect(slotbox.addr(), resp3));
        compare(&want, &got);
        let want = strings(&mut RawClient::connect(redis.addr()));
        assert_eq!(strings(&mut RawClient::connect(slotbox.addr())), want);
        drop(slotbox);
        let again = start();
        // A BITFIELD whose every write FAILed still creates its key but is not propagated (as
        // Redis: its AOF loses the key too).
        let want: Vec<_> = want.into_iter().filter(|(k, ..)| k != "nokey3").collect();
        assert_eq!(strings(&mut RawClient::connect(again.addr())), want, "after replaying the AOF");
    }
}

/// Without anything consuming the write stream, changes are counted all the same.
#[test]
fn changes_counted_without_persistence() {
    if !common::on_path("redis-server") {
        eprintln!("redis-server not on PATH: skipped");
        return;
    }
    let redis = ServerProcess::redis();
    let slotbox = slotbox::Server::start().expect("start slotbox");
    compare(&run(&mut connect(redis.addr(), false)), &run(&mut connect(slotbox.addr(), false)));
}

fn events(addr: std::net::SocketAddr) -> Vec<String> {
    let mut c = RawClient::connect(addr);
    assert_eq!(c.call(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]), Frame::ok());
    let mut sub = RawClient::connect(addr);
    sub.call(&["PSUBSCRIBE", "__key*__:*"]);
    for cmd in [
        &["SETBIT", "a", "3", "1"][..],
        &["SETBIT", "a", "3", "1"],
        &["SETBIT", "a", "3", "0"],
        &["BITFIELD", "f", "SET", "u8", "0", "5"],
        &["BITFIELD", "f", "SET", "u8", "0", "5"],
        &["BITFIELD", "f", "GET", "u8", "0"],
        &["BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300"],
        &["BITOP", "OR", "d", "a", "f"],
        &["BITOP", "AND", "d", "nokey"],
        &["BITOP", "AND", "d", "nokey"],
        &["SETBIT", "end", "0", "1"],
        &["DEL", "end"],
    ] {
        c.call(cmd);
    }
    let mut out = Vec::new();
    loop {
        let (f, _) = sub.read_reply();
        let (Frame::Array(parts) | Frame::Push(parts)) = f else { panic!("not a message: {f:?}") };
        let text: Vec<String> = parts.iter().map(common::text).collect();
        out.push(text[2..].join(" "));
        if text[2].ends_with(":del") && text[3] == "end" {
            return out;
        }
    }
}

#[test]
fn keyspace_events_match_redis() {
    if !common::on_path("redis-server") {
        eprintln!("redis-server not on PATH: skipped");
        return;
    }
    let redis = ServerProcess::redis();
    let slotbox = slotbox::Server::start().expect("start slotbox");
    let want = events(redis.addr());
    assert!(want.iter().any(|m| m.ends_with("setbit f")), "{want:?}");
    assert_eq!(events(slotbox.addr()), want);
}

/// A replica applies the bitmap writes its master propagates and ends up with the same bytes.
#[test]
fn replica_receives_bitmap_writes() {
    let master = slotbox::Server::start().expect("master");
    let replica = slotbox::Server::start().expect("replica");
    let (mut m, mut r) = (RawClient::connect(master.addr()), RawClient::connect(replica.addr()));
    let port = master.addr().port().to_string();
    assert_eq!(r.call(&["REPLICAOF", "127.0.0.1", &port]), Frame::ok());
    let link = || common::info_value(&mut RawClient::connect(replica.addr()), "replication", "master_link_status");
    assert!(common::wait_for(std::time::Duration::from_secs(10), || link().as_deref() == Some("up")));
    for cmd in SCRIPT.iter().filter(|c| c[0] != "CONFIG") {
        m.call(cmd);
    }
    m.call(&["MULTI"]);
    m.call(&["SETBIT", "b", "100", "1"]);
    m.call(&["BITFIELD", "f", "INCRBY", "u8", "#5", "7"]);
    m.call(&["EXEC"]);
    // `nokey3` stays on the master only, as in Redis (see `replies_changes_and_aof_match_redis`).
    let want: Vec<_> = strings(&mut m).into_iter().filter(|(k, ..)| k != "nokey3").collect();
    let same = || strings(&mut RawClient::connect(replica.addr())) == want;
    if !common::wait_for(std::time::Duration::from_secs(15), same) {
        assert_eq!(strings(&mut r), want, "the replica's bitmaps");
    }
}
