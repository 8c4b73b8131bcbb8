//! Tests of the set commands through `commands::execute`, with the replies redis-server
//! 7.0.15 gives (checked against the real server).

use crate::commands::keys::testkit::{arr, bulk, err, int, nil, ok, Harness};
use slotbox_protocol::Frame;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn set(items: &[&str]) -> Frame {
    Frame::Set(items.iter().map(|s| bulk(s)).collect())
}

/// The bulk strings of an array or set reply, sorted.
fn sorted_bulks(f: &Frame) -> Vec<String> {
    let (Frame::Array(items) | Frame::Set(items)) = f else { panic!("not an aggregate: {f:?}") };
    let mut v: Vec<String> =
        items.iter().map(|i| String::from_utf8_lossy(i.as_bytes().expect("bulk")).into_owned()).collect();
    v.sort();
    v
}

fn encoding(h: &mut Harness, key: &str) -> Frame {
    h.call(&["OBJECT", "ENCODING", key])
}

fn range(from: usize, to: usize) -> Vec<String> {
    (from..=to).map(|i| i.to_string()).collect()
}

fn call_with(h: &mut Harness, head: &[&str], tail: &[String]) -> Frame {
    let mut argv: Vec<&str> = head.to_vec();
    argv.extend(tail.iter().map(|s| s.as_str()));
    h.call(&argv)
}

#[test]
fn membership() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["SADD", "s", "3", "1", "2", "1"]), int(3));
    assert_eq!(encoding(&mut h, "s"), bulk("intset"));
    assert_eq!(h.call(&["SMEMBERS", "s"]), set(&["1", "2", "3"]));
    assert_eq!(h.call(&["SADD", "s", "1"]), int(0));
    assert_eq!(h.call(&["SISMEMBER", "s", "2"]), int(1));
    assert_eq!(h.call(&["SISMEMBER", "s", "x"]), int(0));
    assert_eq!(h.call(&["SMISMEMBER", "s", "1", "x"]), arr(vec![int(1), int(0)]));
    assert_eq!(h.call(&["SMISMEMBER", "nokey", "1"]), arr(vec![int(0)]));
    assert_eq!(h.call(&["SCARD", "s"]), int(3));
    assert_eq!(h.call(&["SADD", "s", "a"]), int(1));
    assert_eq!(encoding(&mut h, "s"), bulk("hashtable"));
    assert_eq!(h.call(&["SREM", "s", "1", "zz", "a"]), int(2));
    assert_eq!(h.call(&["SREM", "s", "zz"]), int(0));
    assert_eq!(h.call(&["SREM", "s", "2", "3"]), int(2));
    assert_eq!(h.call(&["EXISTS", "s"]), int(0));
    assert_eq!(h.call(&["SMEMBERS", "nokey"]), set(&[]));
    assert_eq!(h.call(&["SCARD", "nokey"]), int(0));
    assert_eq!(h.call(&["SADD", "w", "x"]), int(1));
    assert_eq!(encoding(&mut h, "w"), bulk("hashtable"));
    assert_eq!(h.call(&["TYPE", "w"]), Frame::simple_static("set"));
}

#[test]
fn wrongtype_everywhere() {
    let mut h = Harness::new();
    h.call(&["SET", "str", "x"]);
    h.call(&["SADD", "s", "1"]);
    for cmd in [
        &["SADD", "str", "1"][..],
        &["SREM", "str", "1"],
        &["SMEMBERS", "str"],
        &["SISMEMBER", "str", "1"],
        &["SMISMEMBER", "str", "1"],
        &["SCARD", "str"],
        &["SPOP", "str"],
        &["SPOP", "str", "1"],
        &["SRANDMEMBER", "str"],
        &["SRANDMEMBER", "str", "2"],
        &["SINTER", "nokey", "str"],
        &["SINTER", "str", "nokey"],
        &["SINTERCARD", "2", "nokey", "str"],
        &["SUNION", "s", "str"],
        &["SDIFF", "nokey", "str"],
        &["SINTERSTORE", "d", "s", "str"],
        &["SMOVE", "s", "str", "1"],
        &["SMOVE", "str", "s", "1"],
        &["SSCAN", "str", "0", "BADOPT"],
    ] {
        assert_eq!(h.call(cmd), err(WRONGTYPE), "{cmd:?}");
    }
    assert_eq!(h.call(&["SMOVE", "nokey", "str", "a"]), int(0));
    assert_eq!(h.call(&["EXISTS", "d"]), int(0));
}

#[test]
fn spop_and_srandmember() {
    let mut h = Harness::new();
    h.call(&["SADD", "s", "1", "2", "3"]);
    assert_eq!(h.call(&["SPOP", "nokey"]), nil());
    assert_eq!(h.call(&["SPOP", "nokey", "2"]), set(&[]));
    assert_eq!(h.call(&["SPOP", "s", "0"]), set(&[]));
    assert_eq!(h.call(&["SPOP", "s", "-1"]), err("ERR value is out of range, must be positive"));
    assert_eq!(h.call(&["SPOP", "s", "abc"]), err("ERR value is out of range, must be positive"));
    assert_eq!(h.call(&["SPOP", "s", "1", "2"]), err("ERR syntax error"));
    assert_eq!(h.call(&["SRANDMEMBER", "s", "1", "2"]), err("ERR syntax error"));
    assert_eq!(h.call(&["SRANDMEMBER", "s", "abc"]), err("ERR value is not an integer or out of range"));
    assert_eq!(
        h.call(&["SRANDMEMBER", "s", "-9223372036854775808"]),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    assert_eq!(h.call(&["SRANDMEMBER", "nokey"]), nil());
    assert_eq!(h.call(&["SRANDMEMBER", "nokey", "3"]), arr(vec![]));
    assert_eq!(h.call(&["SRANDMEMBER", "s", "0"]), arr(vec![]));
    assert_eq!(h.call(&["SRANDMEMBER", "s", "5"]), arr(vec![bulk("1"), bulk("2"), bulk("3")]));
    let two = sorted_bulks(&h.call(&["SRANDMEMBER", "s", "2"]));
    assert!(two.len() == 2 && two[0] != two[1]);
    let Frame::Array(rep) = h.call(&["SRANDMEMBER", "s", "-10"]) else { panic!() };
    assert_eq!(rep.len(), 10);
    let Frame::Bulk(one) = h.call(&["SPOP", "s"]) else { panic!() };
    assert_eq!(h.call_raw(&[b"SISMEMBER", b"s", &one]), int(0));
    assert_eq!(h.call(&["SCARD", "s"]), int(2));
    let Frame::Set(rest) = h.call(&["SPOP", "s", "5"]) else { panic!() };
    assert_eq!(rest.len(), 2);
    assert_eq!(h.call(&["EXISTS", "s"]), int(0));
}

#[test]
fn spop_count_strategies() {
    let mut h = Harness::new();
    // Whole set: replied in union order (ascending for integers), key deleted.
    call_with(&mut h, &["SADD", "hs"], &range(1, 600));
    call_with(&mut h, &["SREM", "hs"], &range(11, 600));
    assert_eq!(encoding(&mut h, "hs"), bulk("hashtable"));
    let all: Vec<String> = range(1, 10);
    let expect = Frame::Set(all.iter().map(|s| bulk(s)).collect());
    assert_eq!(h.call(&["SPOP", "hs", "20"]), expect);
    // Most members popped: the survivors form a fresh set (an intset again).
    call_with(&mut h, &["SADD", "hs"], &range(1, 600));
    call_with(&mut h, &["SREM", "hs"], &range(51, 600));
    let Frame::Set(popped) = h.call(&["SPOP", "hs", "45"]) else { panic!() };
    assert_eq!(popped.len(), 45);
    assert_eq!(h.call(&["SCARD", "hs"]), int(5));
    assert_eq!(encoding(&mut h, "hs"), bulk("intset"));
    // Few members popped: removed one by one.
    call_with(&mut h, &["SADD", "big"], &range(1, 100));
    let Frame::Set(popped) = h.call(&["SPOP", "big", "10"]) else { panic!() };
    assert_eq!(popped.len(), 10);
    for p in &popped {
        assert_eq!(h.call_raw(&[b"SISMEMBER", b"big", p.as_bytes().unwrap()]), int(0));
    }
    assert_eq!(h.call(&["SCARD", "big"]), int(90));
}

#[test]
fn smove_cases() {
    let mut h = Harness::new();
    h.call(&["SADD", "{t}a", "1", "2"]);
    assert_eq!(h.call(&["SMOVE", "{t}a", "{t}b", "1"]), int(1));
    assert_eq!(h.call(&["SMEMBERS", "{t}b"]), set(&["1"]));
    assert_eq!(encoding(&mut h, "{t}b"), bulk("intset"));
    assert_eq!(h.call(&["SMOVE", "{t}a", "{t}b", "9"]), int(0));
    assert_eq!(h.call(&["SMOVE", "{t}a", "{t}a", "2"]), int(1));
    assert_eq!(h.call(&["SMOVE", "{t}a", "{t}a", "9"]), int(0));
    assert_eq!(h.call(&["SMOVE", "{t}a", "{t}b", "2"]), int(1));
    assert_eq!(h.call(&["EXISTS", "{t}a"]), int(0));
    assert_eq!(h.call(&["SMEMBERS", "{t}b"]), set(&["1", "2"]));
    // Keys in different slots (standalone mode): both are locked.
    assert_eq!(h.call(&["SMOVE", "{t}b", "other", "1"]), int(1));
    assert_eq!(h.call(&["SMEMBERS", "other"]), set(&["1"]));
}

#[test]
fn algebra() {
    let mut h = Harness::new();
    h.call(&["SADD", "{t}a", "3", "1", "2", "x"]);
    h.call(&["SADD", "{t}b", "2", "3", "4"]);
    assert_eq!(sorted_bulks(&h.call(&["SINTER", "{t}a", "{t}b"])), ["2", "3"]);
    assert_eq!(h.call(&["SINTER", "{t}b", "{t}b"]), set(&["2", "3", "4"]));
    assert_eq!(h.call(&["SINTER", "{t}a", "{t}nokey"]), set(&[]));
    assert_eq!(sorted_bulks(&h.call(&["SUNION", "{t}a", "{t}b", "{t}nokey"])), ["1", "2", "3", "4", "x"]);
    assert_eq!(sorted_bulks(&h.call(&["SDIFF", "{t}a", "{t}b"])), ["1", "x"]);
    assert_eq!(h.call(&["SDIFF", "{t}a", "{t}a"]), set(&[]));
    assert_eq!(h.call(&["SDIFF", "{t}nokey", "{t}a"]), set(&[]));
    assert_eq!(h.call(&["SDIFF", "{t}b"]), set(&["2", "3", "4"]));
    assert_eq!(h.call(&["SINTERSTORE", "{t}d", "{t}a", "{t}b"]), int(2));
    assert_eq!(encoding(&mut h, "{t}d"), bulk("intset"));
    assert_eq!(h.call(&["SMEMBERS", "{t}d"]), set(&["2", "3"]));
    h.call(&["EXPIRE", "{t}d", "100"]);
    assert_eq!(h.call(&["SUNIONSTORE", "{t}d", "{t}a", "{t}b"]), int(5));
    assert_eq!(h.call(&["TTL", "{t}d"]), int(-1));
    assert_eq!(encoding(&mut h, "{t}d"), bulk("hashtable"));
    assert_eq!(h.call(&["SDIFFSTORE", "{t}d", "{t}b", "{t}a"]), int(1));
    assert_eq!(h.call(&["SMEMBERS", "{t}d"]), set(&["4"]));
    assert_eq!(h.call(&["SINTERSTORE", "{t}d", "{t}nokey", "{t}a"]), int(0));
    assert_eq!(h.call(&["EXISTS", "{t}d"]), int(0));
    // A source can be the destination; the sources are intact afterwards.
    assert_eq!(h.call(&["SUNIONSTORE", "{t}b", "{t}b", "{t}a"]), int(5));
    assert_eq!(h.call(&["SCARD", "{t}a"]), int(4));
    // Union of intsets replies in ascending order.
    h.call(&["SADD", "{t}i", "10", "5"]);
    h.call(&["SADD", "{t}j", "7", "1"]);
    assert_eq!(h.call(&["SUNION", "{t}i", "{t}j"]), set(&["1", "5", "7", "10"]));
}

#[test]
fn sdiff_algorithm_shows_in_encoding() {
    let mut h = Harness::new();
    // Algorithm 2 (copy then remove): the 600-member copy became a hashtable.
    call_with(&mut h, &["SADD", "{t}a"], &range(1, 600));
    call_with(&mut h, &["SADD", "{t}b"], &range(1, 590));
    for (k, m) in [("{t}c", "1"), ("{t}e", "2"), ("{t}f", "3")] {
        h.call(&["SADD", k, m]);
    }
    let five = ["SDIFFSTORE", "{t}d", "{t}a", "{t}b", "{t}c", "{t}e", "{t}f"];
    assert_eq!(h.call(&five), int(10));
    assert_eq!(encoding(&mut h, "{t}d"), bulk("hashtable"));
    assert_eq!(h.call(&["SDIFFSTORE", "{t}d", "{t}a", "{t}b", "{t}c"]), int(10));
    assert_eq!(encoding(&mut h, "{t}d"), bulk("intset"));
    // Algorithm 1 (test each member): only the result is inserted.
    assert_eq!(h.call(&["SDIFFSTORE", "{t}d", "{t}a", "{t}b"]), int(10));
    assert_eq!(encoding(&mut h, "{t}d"), bulk("intset"));
}

#[test]
fn sintercard_options() {
    let mut h = Harness::new();
    h.call(&["SADD", "{t}a", "1", "2", "3"]);
    h.call(&["SADD", "{t}b", "2", "3", "4"]);
    assert_eq!(h.call(&["SINTERCARD", "2", "{t}a", "{t}b"]), int(2));
    assert_eq!(h.call(&["SINTERCARD", "2", "{t}a", "{t}b", "LIMIT", "1"]), int(1));
    assert_eq!(h.call(&["SINTERCARD", "2", "{t}a", "{t}b", "LIMIT", "0"]), int(2));
    assert_eq!(h.call(&["SINTERCARD", "1", "{t}a"]), int(3));
    assert_eq!(h.call(&["SINTERCARD", "2", "{t}a", "{t}nokey"]), int(0));
    let numkeys = err("ERR numkeys should be greater than 0");
    assert_eq!(h.call(&["SINTERCARD", "0", "{t}a"]), numkeys);
    assert_eq!(h.call(&["SINTERCARD", "abc", "{t}a"]), numkeys);
    assert_eq!(h.call(&["SINTERCARD", "-1", "{t}a"]), numkeys);
    assert_eq!(
        h.call(&["SINTERCARD", "3", "{t}a", "{t}b"]),
        err("ERR Number of keys can't be greater than number of args")
    );
    let negative = err("ERR LIMIT can't be negative");
    assert_eq!(h.call(&["SINTERCARD", "1", "{t}a", "LIMIT", "-1"]), negative);
    assert_eq!(h.call(&["SINTERCARD", "1", "{t}a", "LIMIT", "x"]), negative);
    assert_eq!(h.call(&["SINTERCARD", "1", "{t}a", "LIMIT"]), err("ERR syntax error"));
    assert_eq!(h.call(&["SINTERCARD", "1", "{t}a", "FOO"]), err("ERR syntax error"));
}

#[test]
fn sscan_and_resp3() {
    let mut h = Harness::new();
    h.call(&["SADD", "s", "3", "1", "2", "11"]);
    let scan = |items: &[&str]| arr(vec![bulk("0"), arr(items.iter().map(|s| bulk(s)).collect())]);
    assert_eq!(h.call(&["SSCAN", "s", "0"]), scan(&["1", "2", "3", "11"]));
    assert_eq!(h.call(&["SSCAN", "s", "-1", "MATCH", "1*"]), scan(&["1", "11"]));
    assert_eq!(h.call(&["SSCAN", "nokey", "0", "COUNT", "0"]), scan(&[]));
    assert_eq!(h.call(&["SSCAN", "s", "0", "COUNT", "0"]), err("ERR syntax error"));
    assert_eq!(h.call(&["SSCAN", "s", "0", "TYPE", "set"]), err("ERR syntax error"));
    assert_eq!(h.call(&["SSCAN", "s", "x"]), err("ERR invalid cursor"));
    h.call(&["HELLO", "3"]);
    assert_eq!(h.call(&["SMEMBERS", "s"]), set(&["1", "2", "3", "11"]));
    assert_eq!(h.call(&["SMISMEMBER", "s", "1"]), arr(vec![int(1)]));
}

#[test]
fn no_op_writes_keep_watch() {
    let mut h = Harness::new();
    h.call(&["SADD", "s", "a"]);
    h.call(&["HSET", "h", "f", "v"]);
    assert_eq!(h.call(&["WATCH", "s", "h"]), ok());
    assert_eq!(h.call(&["SADD", "s", "a"]), int(0));
    assert_eq!(h.call(&["SREM", "s", "zz"]), int(0));
    assert_eq!(h.call(&["HDEL", "h", "zz"]), int(0));
    assert_eq!(h.call(&["HSETNX", "h", "f", "x"]), int(0));
    assert_eq!(h.call(&["SMOVE", "s", "d", "zz"]), int(0));
    assert_eq!(h.call(&["SINTERSTORE", "s2", "s", "h"]), err(WRONGTYPE));
    h.call(&["MULTI"]);
    h.call(&["PING"]);
    assert_eq!(h.call(&["EXEC"]), arr(vec![Frame::simple_static("PONG")]));
    assert_eq!(h.call(&["SMEMBERS", "s"]), set(&["a"]));
    // A real change does abort the transaction.
    h.call(&["WATCH", "h"]);
    assert_eq!(h.call(&["HDEL", "h", "f"]), int(1));
    h.call(&["MULTI"]);
    h.call(&["PING"]);
    assert_eq!(h.call(&["EXEC"]), Frame::NullArray);
}

#[test]
fn smove_touches_the_destination_only_when_it_adds() {
    let mut h = Harness::new();
    h.call(&["SADD", "{t}src", "a", "b"]);
    h.call(&["SADD", "{t}dst", "a"]);
    h.call(&["WATCH", "{t}dst"]);
    assert_eq!(h.call(&["SMOVE", "{t}src", "{t}dst", "a"]), int(1));
    h.call(&["MULTI"]);
    h.call(&["PING"]);
    assert_eq!(h.call(&["EXEC"]), arr(vec![Frame::simple_static("PONG")]));
    assert_eq!(h.call(&["SMEMBERS", "{t}src"]), set(&["b"]));
    h.call(&["WATCH", "{t}dst"]);
    assert_eq!(h.call(&["SMOVE", "{t}src", "{t}dst", "b"]), int(1));
    h.call(&["MULTI"]);
    h.call(&["PING"]);
    assert_eq!(h.call(&["EXEC"]), Frame::NullArray);
    assert_eq!(h.call(&["EXISTS", "{t}src"]), int(0));
}

#[test]
fn keyspace_commands_see_sets() {
    let mut h = Harness::new();
    h.call(&["SADD", "{t}s", "1", "a"]);
    assert_eq!(h.call(&["COPY", "{t}s", "{t}c"]), int(1));
    h.call(&["SREM", "{t}c", "a"]);
    assert_eq!(h.call(&["SCARD", "{t}s"]), int(2));
    assert_eq!(h.call(&["RENAME", "{t}c", "{t}r"]), ok());
    assert_eq!(h.call(&["SMEMBERS", "{t}r"]), set(&["1"]));
    assert_eq!(h.call(&["DEL", "{t}r", "{t}s"]), int(2));
    assert_eq!(h.call(&["EXISTS", "{t}s"]), int(0));
}

#[test]
fn read_commands_count_hits() {
    let mut h = Harness::new();
    h.call(&["SADD", "s", "1"]);
    let before = h.hits_misses();
    h.call(&["SUNIONSTORE", "d", "s", "nokey"]);
    h.call(&["SMOVE", "s", "d2", "1"]);
    h.call(&["SPOP", "nokey"]);
    let after = h.hits_misses();
    assert_eq!((after.0 - before.0, after.1 - before.1), (1, 1));
}
