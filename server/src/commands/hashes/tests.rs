//! Tests of the hash commands through `commands::execute`, with the replies redis-server
//! 7.0.15 gives (checked against the real server).

use crate::commands::keys::testkit::{arr, bulk, err, int, nil, ok, sorted_bulks, Harness};
use slotbox_protocol::Frame;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn long(n: usize) -> String {
    "x".repeat(n)
}

#[test]
fn set_get_delete() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["HSET", "h", "a", "1", "b", "2"]), int(2));
    assert_eq!(h.call(&["HSET", "h", "a", "3", "c", "4"]), int(1));
    assert_eq!(h.call(&["HMSET", "h", "d", "5"]), ok());
    assert_eq!(h.call(&["HGET", "h", "a"]), bulk("3"));
    assert_eq!(h.call(&["HGET", "h", "zz"]), nil());
    assert_eq!(h.call(&["HGET", "nokey", "a"]), nil());
    assert_eq!(h.call(&["HMGET", "h", "a", "zz", "b"]), arr(vec![bulk("3"), nil(), bulk("2")]));
    assert_eq!(h.call(&["HMGET", "nokey", "a"]), arr(vec![nil()]));
    assert_eq!(h.call(&["HLEN", "h"]), int(4));
    assert_eq!(h.call(&["HSTRLEN", "h", "a"]), int(1));
    assert_eq!(h.call(&["HSTRLEN", "h", "zz"]), int(0));
    assert_eq!(h.call(&["HEXISTS", "h", "a"]), int(1));
    assert_eq!(h.call(&["HEXISTS", "h", "zz"]), int(0));
    assert_eq!(h.call(&["HKEYS", "h"]), arr(vec![bulk("a"), bulk("b"), bulk("c"), bulk("d")]));
    assert_eq!(h.call(&["HVALS", "h"]), arr(vec![bulk("3"), bulk("2"), bulk("4"), bulk("5")]));
    assert_eq!(h.call(&["HSETNX", "h", "a", "9"]), int(0));
    assert_eq!(h.call(&["HSETNX", "h", "e", "9"]), int(1));
    assert_eq!(h.call(&["HDEL", "h", "a", "zz", "b"]), int(2));
    assert_eq!(h.call(&["HDEL", "h", "zz"]), int(0));
    assert_eq!(h.call(&["HDEL", "h", "c", "d", "e"]), int(3));
    assert_eq!(h.call(&["EXISTS", "h"]), int(0));
    assert_eq!(h.call(&["HDEL", "h", "a"]), int(0));
    assert_eq!(h.call(&["HSETNX", "n", "f", "v"]), int(1));
    assert_eq!(h.call(&["HGETALL", "n"]), Frame::Map(vec![(bulk("f"), bulk("v"))]));
    assert_eq!(h.call(&["HGETALL", "nokey"]), Frame::Map(vec![]));
    assert_eq!(h.call(&["HKEYS", "nokey"]), arr(vec![]));
}

#[test]
fn arity_and_wrongtype() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["HSET", "h", "a"]), err("ERR wrong number of arguments for 'hset' command"));
    assert_eq!(h.call(&["HMSET", "h", "a", "1", "b"]), err("ERR wrong number of arguments for 'hmset' command"));
    assert_eq!(h.call(&["EXISTS", "h"]), int(0));
    h.call(&["SET", "s", "x"]);
    for cmd in [
        &["HSET", "s", "a", "1"][..],
        &["HSETNX", "s", "a", "1"],
        &["HGET", "s", "a"],
        &["HMGET", "s", "a"],
        &["HDEL", "s", "a"],
        &["HLEN", "s"],
        &["HGETALL", "s"],
        &["HINCRBY", "s", "a", "1"],
        &["HINCRBYFLOAT", "s", "a", "1"],
        &["HRANDFIELD", "s"],
        &["HRANDFIELD", "s", "0"],
        &["HSCAN", "s", "0", "BADOPT"],
        &["HSTRLEN", "s", "a"],
        &["HEXISTS", "s", "a"],
    ] {
        assert_eq!(h.call(cmd), err(WRONGTYPE), "{cmd:?}");
    }
    // The increment is parsed before the key is looked up.
    assert_eq!(h.call(&["HINCRBY", "s", "a", "x"]), err("ERR value is not an integer or out of range"));
}

#[test]
fn encodings_follow_redis() {
    let mut h = Harness::new();
    h.call(&["HSET", "h", "a", "1"]);
    assert_eq!(h.call(&["OBJECT", "ENCODING", "h"]), bulk("listpack"));
    // HSETNX on an existing field does not convert even with a long value.
    assert_eq!(h.call(&["HSETNX", "h", "a", &long(65)]), int(0));
    assert_eq!(h.call(&["OBJECT", "ENCODING", "h"]), bulk("listpack"));
    assert_eq!(h.call(&["HINCRBY", "h", &long(65), "1"]), int(1));
    assert_eq!(h.call(&["OBJECT", "ENCODING", "h"]), bulk("hashtable"));
    for i in 0..512 {
        h.call(&["HSET", "big", &format!("f{i}"), "v"]);
    }
    assert_eq!(h.call(&["OBJECT", "ENCODING", "big"]), bulk("listpack"));
    h.call(&["HSET", "big", "f512", "v"]);
    assert_eq!(h.call(&["OBJECT", "ENCODING", "big"]), bulk("hashtable"));
    assert_eq!(h.call(&["TYPE", "big"]), Frame::simple_static("hash"));
}

#[test]
fn encodings_follow_the_configured_limits() {
    let mut h = Harness::new();
    h.call(&["CONFIG", "SET", "hash-max-listpack-entries", "2", "hash-max-listpack-value", "100000"]);
    h.call(&["HSET", "h", "a", "1", "b", &long(70_000)]);
    assert_eq!(h.call(&["OBJECT", "ENCODING", "h"]), bulk("listpack"));
    assert_eq!(h.call(&["HGET", "h", "b"]), bulk(&long(70_000)));
    // DUMP / RESTORE decide by the limits of the server restoring.
    let Frame::Bulk(dump) = h.call(&["DUMP", "h"]) else { panic!("no dump") };
    h.call(&["CONFIG", "SET", "hash-max-ziplist-value", "10"]);
    assert_eq!(h.call_raw(&[b"RESTORE", b"h2", b"0", &dump]), ok());
    assert_eq!(h.call(&["OBJECT", "ENCODING", "h2"]), bulk("hashtable"));
    h.call(&["CONFIG", "SET", "hash-max-ziplist-value", "100000"]);
    assert_eq!(h.call_raw(&[b"RESTORE", b"h3", b"0", &dump]), ok());
    assert_eq!(h.call(&["OBJECT", "ENCODING", "h3"]), bulk("listpack"));
    // A third field passes the entry limit.
    h.call(&["HSET", "h", "c", "3"]);
    assert_eq!(h.call(&["OBJECT", "ENCODING", "h"]), bulk("hashtable"));
    assert_eq!(h.call(&["HLEN", "h"]), int(3));
}

#[test]
fn hincrby_and_hincrbyfloat() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["HINCRBY", "h", "n", "5"]), int(5));
    assert_eq!(h.call(&["HINCRBY", "h", "n", "-7"]), int(-2));
    h.call(&["HSET", "h", "z", " 1", "max", "9223372036854775807", "f", "10.5", "m", "1e3"]);
    assert_eq!(h.call(&["HINCRBY", "h", "z", "1"]), err("ERR hash value is not an integer"));
    assert_eq!(h.call(&["HINCRBY", "h", "max", "1"]), err("ERR increment or decrement would overflow"));
    assert_eq!(h.call(&["HINCRBY", "h", "n", "x"]), err("ERR value is not an integer or out of range"));
    assert_eq!(h.call(&["HINCRBYFLOAT", "h", "f", "0.1"]), bulk("10.6"));
    assert_eq!(h.call(&["HINCRBYFLOAT", "h", "f", "5.0e3"]), bulk("5010.60000000000000009"));
    assert_eq!(h.call(&["HINCRBYFLOAT", "h", "max", "1"]), bulk("9223372036854775808"));
    assert_eq!(h.call(&["HINCRBYFLOAT", "h", "m", "1"]), bulk("1001"));
    assert_eq!(h.call(&["HINCRBY", "h", "m", "1"]), int(1002));
    assert_eq!(h.call(&["HINCRBYFLOAT", "h", "q", "0x10"]), bulk("16"));
    assert_eq!(h.call(&["HINCRBYFLOAT", "h", "z", "1"]), err("ERR hash value is not a float"));
    assert_eq!(h.call(&["HINCRBYFLOAT", "h", "f", "inf"]), err("ERR value is NaN or Infinity"));
    assert_eq!(h.call(&["HINCRBYFLOAT", "h", "f", "abc"]), err("ERR value is not a valid float"));
    assert_eq!(h.call(&["HINCRBYFLOAT", "nokey", "f", "abc"]), err("ERR value is not a valid float"));
    assert_eq!(h.call(&["EXISTS", "nokey"]), int(0));
    assert_eq!(h.call(&["HGET", "h", "f"]), bulk("5010.60000000000000009"));
}

#[test]
fn hrandfield_shapes() {
    let mut h = Harness::new();
    h.call(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(h.call(&["HRANDFIELD", "nokey"]), nil());
    assert_eq!(h.call(&["HRANDFIELD", "nokey", "3"]), arr(vec![]));
    assert_eq!(h.call(&["HRANDFIELD", "h", "0", "WITHVALUES"]), arr(vec![]));
    assert!(["a", "b", "c"].map(bulk).contains(&h.call(&["HRANDFIELD", "h"])));
    assert_eq!(sorted_bulks(&h.call(&["HRANDFIELD", "h", "10"])), ["a", "b", "c"]);
    let two = sorted_bulks(&h.call(&["HRANDFIELD", "h", "2"]));
    assert!(two.len() == 2 && two[0] != two[1]);
    let Frame::Array(rep) = h.call(&["HRANDFIELD", "h", "-7"]) else { panic!() };
    assert_eq!(rep.len(), 7);
    let Frame::Array(flat) = h.call(&["HRANDFIELD", "h", "-5", "withvalues"]) else { panic!() };
    assert_eq!(flat.len(), 10);
    for pair in flat.chunks(2) {
        let f = pair[0].as_bytes().unwrap();
        assert_eq!(h.call_raw(&[b"HGET", b"h", f]), pair[1]);
    }
    h.call(&["HELLO", "3"]);
    let Frame::Array(pairs) = h.call(&["HRANDFIELD", "h", "5", "WITHVALUES"]) else { panic!() };
    assert_eq!(pairs.len(), 3);
    assert!(pairs.iter().all(|p| matches!(p, Frame::Array(v) if v.len() == 2)));
}

#[test]
fn hrandfield_errors() {
    let mut h = Harness::new();
    h.call(&["HSET", "h", "a", "1"]);
    let range = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
    assert_eq!(h.call(&["HRANDFIELD", "h", "-9223372036854775808"]), err(range));
    assert_eq!(h.call(&["HRANDFIELD", "h", "1", "withvalues", "x"]), err("ERR syntax error"));
    assert_eq!(h.call(&["HRANDFIELD", "h", "1", "foo"]), err("ERR syntax error"));
    assert_eq!(h.call(&["HRANDFIELD", "h", "-9223372036854770000", "withvalues"]), err("ERR value is out of range"));
    assert_eq!(h.call(&["HRANDFIELD", "h", "abc"]), err("ERR value is not an integer or out of range"));
}

#[test]
fn hscan_returns_everything() {
    let mut h = Harness::new();
    h.call(&["HSET", "h", "a1", "1", "b1", "2", "a2", "3"]);
    let all = h.call(&["HSCAN", "h", "0"]);
    let expect = |items: Vec<&str>| arr(vec![bulk("0"), arr(items.into_iter().map(bulk).collect())]);
    assert_eq!(all, expect(vec!["a1", "1", "b1", "2", "a2", "3"]));
    assert_eq!(h.call(&["HSCAN", "h", "0", "MATCH", "a*", "COUNT", "1"]), expect(vec!["a1", "1", "a2", "3"]));
    assert_eq!(h.call(&["HSCAN", "nokey", "0", "COUNT", "0"]), expect(vec![]));
    assert_eq!(h.call(&["HSCAN", "nokey", "abc"]), err("ERR invalid cursor"));
    assert_eq!(h.call(&["HSCAN", "h", "18446744073709551616"]), err("ERR invalid cursor"));
    assert_eq!(h.call(&["HSCAN", "h", "0", "COUNT", "0"]), err("ERR syntax error"));
    assert_eq!(h.call(&["HSCAN", "h", "0", "TYPE", "string"]), err("ERR syntax error"));
    assert_eq!(h.call(&["HSCAN", "h", "0", "COUNT", "x"]), err("ERR value is not an integer or out of range"));
    for i in 0..200 {
        h.call(&["HSET", "big", &format!("f{i}"), "v"]);
    }
    let Frame::Array(reply) = h.call(&["HSCAN", "big", "0", "COUNT", "10"]) else { panic!() };
    assert_eq!(reply[0], bulk("0"));
    assert!(matches!(&reply[1], Frame::Array(v) if v.len() == 400));
}

#[test]
fn keyspace_commands_see_hashes() {
    let mut h = Harness::new();
    h.call(&["HSET", "{t}h", "a", "1"]);
    h.call(&["EXPIRE", "{t}h", "100"]);
    assert_eq!(h.call(&["COPY", "{t}h", "{t}c"]), int(1));
    h.call(&["HSET", "{t}c", "b", "2"]);
    assert_eq!(h.call(&["HLEN", "{t}h"]), int(1));
    assert_eq!(h.call(&["RENAME", "{t}c", "{t}r"]), ok());
    assert_eq!(h.call(&["HLEN", "{t}r"]), int(2));
    assert_eq!(h.call(&["TYPE", "{t}r"]), Frame::simple_static("hash"));
    assert_eq!(h.call(&["DEL", "{t}r", "{t}h"]), int(2));
    assert_eq!(h.call(&["EXISTS", "{t}h"]), int(0));
}

#[test]
fn read_commands_count_hits_writes_do_not() {
    let mut h = Harness::new();
    h.call(&["HSET", "h", "a", "1"]);
    let before = h.hits_misses();
    h.call(&["HGET", "h", "a"]);
    h.call(&["HGET", "nokey", "a"]);
    h.call(&["HINCRBY", "h", "a", "1"]);
    h.call(&["HSETNX", "h", "a", "1"]);
    let after = h.hits_misses();
    assert_eq!((after.0 - before.0, after.1 - before.1), (1, 1));
}
