//! Tests of GET / SET and their variants through `commands::execute`, with the replies
//! redis-server 7.0.15 gives.

use crate::clock::unix_time_ms;
use crate::commands::keys::testkit::{arr, bulk, err, int, nil, ok, Harness};

const INVALID_SET: &str = "ERR invalid expire time in 'set' command";
const SYNTAX: &str = "ERR syntax error";

#[test]
fn get_and_set_basics() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["GET", "k"]), nil());
    assert_eq!(h.call(&["SET", "k", "v"]), ok());
    assert_eq!(h.call(&["GET", "k"]), bulk("v"));
    assert_eq!(h.call(&["SET", "n", "123"]), ok());
    assert_eq!(h.call(&["GET", "n"]), bulk("123"));
    assert_eq!(h.call(&["OBJECT", "ENCODING", "n"]), bulk("int"));
    assert_eq!(h.call_raw(&[b"SET", b"bin", b"a\x00\r\nb"]), ok());
    assert_eq!(h.call_raw(&[b"GET", b"bin"]), slotbox_protocol::Frame::bulk_from_slice(b"a\x00\r\nb"));
    assert_eq!(h.call(&["GET"]), err("ERR wrong number of arguments for 'get' command"));
}

#[test]
fn set_option_errors() {
    let mut h = Harness::new();
    for bad in [
        &["SET", "k", "v", "NX", "XX"][..],
        &["SET", "k", "v", "EX", "10", "PX", "100"],
        &["SET", "k", "v", "KEEPTTL", "EX", "10"],
        &["SET", "k", "v", "EX"],
        &["SET", "k", "v", "FOO"],
        &["SET", "k", "v", "PERSIST"],
    ] {
        assert_eq!(h.call(bad), err(SYNTAX), "{bad:?}");
    }
    assert_eq!(h.call(&["SET", "k", "v", "EX", "0"]), err(INVALID_SET));
    assert_eq!(h.call(&["SET", "k", "v", "PX", "-1"]), err(INVALID_SET));
    assert_eq!(h.call(&["SET", "k", "v", "EX", "9223372036854776"]), err(INVALID_SET));
    assert_eq!(h.call(&["SET", "k", "v", "EX", "9223372036854775"]), err(INVALID_SET));
    assert_eq!(h.call(&["SET", "k", "v", "PX", "9223372036854775807"]), err(INVALID_SET));
    assert_eq!(h.call(&["SET", "k", "v", "EX", "abc"]), err("ERR value is not an integer or out of range"));
    assert_eq!(h.call(&["EXISTS", "k"]), int(0));
}

#[test]
fn set_nx_xx_get_matrix() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["SET", "k", "v1", "XX"]), nil());
    assert_eq!(h.call(&["SET", "k", "v1", "NX"]), ok());
    assert_eq!(h.call(&["SET", "k", "v2", "NX"]), nil());
    assert_eq!(h.call(&["SET", "k", "v2", "nx", "nx"]), nil());
    assert_eq!(h.call(&["SET", "k", "v2", "XX"]), ok());
    assert_eq!(h.call(&["SET", "k", "v3", "GET"]), bulk("v2"));
    assert_eq!(h.call(&["SET", "k", "v4", "NX", "GET"]), bulk("v3"));
    assert_eq!(h.call(&["GET", "k"]), bulk("v3"));
    assert_eq!(h.call(&["SET", "new", "x", "GET", "NX"]), nil());
    assert_eq!(h.call(&["GET", "new"]), bulk("x"));
    assert_eq!(h.call(&["SET", "none", "x", "GET", "XX"]), nil());
    assert_eq!(h.call(&["EXISTS", "none"]), int(0));
}

#[test]
fn set_ttl_options() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["SET", "k", "v", "EX", "10", "EX", "20"]), ok());
    assert_eq!(h.call(&["TTL", "k"]), int(20));
    assert_eq!(h.call(&["SET", "k", "v2", "KEEPTTL"]), ok());
    assert_eq!(h.call(&["TTL", "k"]), int(20));
    assert_eq!(h.call(&["SET", "k", "v3"]), ok());
    assert_eq!(h.call(&["TTL", "k"]), int(-1));
    assert_eq!(h.call(&["SET", "k", "v", "PX", "5000"]), ok());
    let left = h.call(&["PTTL", "k"]).as_integer().unwrap_or(0);
    assert!((4900..=5000).contains(&left), "{left}");
    let at = unix_time_ms() / 1000 + 100;
    assert_eq!(h.call(&["SET", "k", "v", "EXAT", &at.to_string()]), ok());
    assert_eq!(h.call(&["EXPIRETIME", "k"]), int(at));
    let pat = unix_time_ms() + 100_000;
    assert_eq!(h.call(&["SET", "k", "v", "PXAT", &pat.to_string()]), ok());
    assert_eq!(h.call(&["PEXPIRETIME", "k"]), int(pat));
    // An absolute time in the past stores a key that is already gone.
    assert_eq!(h.call(&["SET", "k", "v", "EXAT", "1"]), ok());
    assert_eq!(h.call(&["EXISTS", "k"]), int(0));
    assert_eq!(h.call(&["SET", "k", "v", "KEEPTTL"]), ok());
    assert_eq!(h.call(&["TTL", "k"]), int(-1));
}

#[test]
fn setnx_setex_psetex() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["SETNX", "k", "1"]), int(1));
    assert_eq!(h.call(&["SETNX", "k", "2"]), int(0));
    assert_eq!(h.call(&["GET", "k"]), bulk("1"));
    assert_eq!(h.call(&["SETEX", "k", "100", "v"]), ok());
    assert_eq!(h.call(&["TTL", "k"]), int(100));
    assert_eq!(h.call(&["GET", "k"]), bulk("v"));
    assert_eq!(h.call(&["SETEX", "k", "0", "v"]), err("ERR invalid expire time in 'setex' command"));
    assert_eq!(h.call(&["PSETEX", "k", "-1", "v"]), err("ERR invalid expire time in 'psetex' command"));
    assert_eq!(h.call(&["PSETEX", "k", "100000", "w"]), ok());
    assert_eq!(h.call(&["TTL", "k"]), int(100));
    assert_eq!(h.call(&["SETEX", "k", "x", "v"]), err("ERR value is not an integer or out of range"));
}

#[test]
fn getset_getdel() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["GETSET", "k", "a"]), nil());
    assert_eq!(h.call(&["EXPIRE", "k", "100"]), int(1));
    assert_eq!(h.call(&["GETSET", "k", "b"]), bulk("a"));
    assert_eq!(h.call(&["TTL", "k"]), int(-1));
    assert_eq!(h.call(&["GETDEL", "k"]), bulk("b"));
    assert_eq!(h.call(&["GETDEL", "k"]), nil());
    assert_eq!(h.call(&["EXISTS", "k"]), int(0));
}

#[test]
fn getex_options() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["GETEX", "missing", "EX", "abc"]), nil());
    assert_eq!(h.call(&["GETEX", "missing", "FOO"]), err(SYNTAX));
    assert_eq!(h.call(&["SET", "k", "v"]), ok());
    assert_eq!(h.call(&["GETEX", "k"]), bulk("v"));
    assert_eq!(h.call(&["GETEX", "k", "PERSIST", "EX", "5"]), err(SYNTAX));
    assert_eq!(h.call(&["GETEX", "k", "NX"]), err(SYNTAX));
    assert_eq!(h.call(&["GETEX", "k", "EX", "0"]), err("ERR invalid expire time in 'getex' command"));
    assert_eq!(h.call(&["GETEX", "k", "EX", "100"]), bulk("v"));
    assert_eq!(h.call(&["TTL", "k"]), int(100));
    assert_eq!(h.call(&["GETEX", "k", "PERSIST"]), bulk("v"));
    assert_eq!(h.call(&["TTL", "k"]), int(-1));
    assert_eq!(h.call(&["GETEX", "k", "PX", "50000"]), bulk("v"));
    assert_eq!(h.call(&["TTL", "k"]), int(50));
    let at = unix_time_ms() + 70_000;
    assert_eq!(h.call(&["GETEX", "k", "PXAT", &at.to_string()]), bulk("v"));
    assert_eq!(h.call(&["PEXPIRETIME", "k"]), int(at));
    assert_eq!(h.call(&["GETEX", "k", "EXAT", "1"]), bulk("v"));
    assert_eq!(h.call(&["EXISTS", "k"]), int(0));
}

#[test]
fn mget_mset_msetnx() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["MSET", "a", "1", "b", "2"]), ok());
    assert_eq!(h.call(&["MGET", "a", "nope", "b", "a"]), arr(vec![bulk("1"), nil(), bulk("2"), bulk("1")]));
    assert_eq!(h.call(&["MSET", "a", "1", "b"]), err("ERR wrong number of arguments for 'mset' command"));
    assert_eq!(h.call(&["MSET", "a"]), err("ERR wrong number of arguments for 'mset' command"));
    assert_eq!(h.call(&["MSETNX", "a", "x", "c", "3"]), int(0));
    assert_eq!(h.call(&["EXISTS", "c"]), int(0));
    assert_eq!(h.call(&["MSETNX", "c", "3", "d", "4"]), int(1));
    assert_eq!(h.call(&["MGET", "c", "d"]), arr(vec![bulk("3"), bulk("4")]));
    assert_eq!(h.call(&["MSETNX", "e", "1", "f"]), err("ERR wrong number of arguments for 'msetnx' command"));
    assert_eq!(h.call(&["EXPIRE", "a", "100"]), int(1));
    assert_eq!(h.call(&["MSET", "a", "9", "a", "10"]), ok());
    assert_eq!(h.call(&["GET", "a"]), bulk("10"));
    assert_eq!(h.call(&["TTL", "a"]), int(-1));
}

#[test]
fn keyspace_hits_and_misses() {
    let mut h = Harness::new();
    h.call(&["SET", "k", "v"]);
    h.call(&["INCR", "n"]);
    assert_eq!(h.hits_misses(), (0, 0));
    h.call(&["GET", "k"]);
    h.call(&["GET", "nope"]);
    h.call(&["MGET", "k", "nope", "n"]);
    assert_eq!(h.hits_misses(), (3, 2));
    h.call(&["EXISTS", "k", "x"]);
    h.call(&["TTL", "k"]);
    h.call(&["DEL", "x", "k"]);
    assert_eq!(h.hits_misses(), (5, 3));
}

#[test]
fn expired_keys_are_invisible() {
    let mut h = Harness::new();
    h.call(&["SET", "k", "v", "EX", "100"]);
    h.force_expire("k", 1);
    assert_eq!(h.call(&["GET", "k"]), nil());
    assert!(h.entry("k").is_none());
    h.call(&["SET", "n", "5", "EX", "100"]);
    h.force_expire("n", 1);
    assert_eq!(h.call(&["INCR", "n"]), int(1));
    assert_eq!(h.call(&["TTL", "n"]), int(-1));
}

#[test]
fn set_over_a_string_of_the_same_length_is_a_fresh_set() {
    // SET over a value of the same length writes it in place: nothing a client sees differs
    // from a new value (encoding, TTL, the volatile count, expiry of an expired key, events).
    let mut h = Harness::new();
    let (a, b) = ("a".repeat(30), "b".repeat(30));
    h.call(&["SET", "k", &a, "EX", "100"]);
    h.call(&["APPEND", "k", ""]);
    assert_eq!(h.call(&["OBJECT", "ENCODING", "k"]), bulk("raw"));
    assert_eq!(h.call(&["SET", "k", &b]), ok());
    assert_eq!(h.call(&["GET", "k"]), bulk(&b));
    assert_eq!(h.call(&["OBJECT", "ENCODING", "k"]), bulk("embstr"));
    assert_eq!(h.call(&["TTL", "k"]), int(-1));
    assert_eq!(h.call(&["SET", "k", &a, "PX", "100000"]), ok());
    assert!(matches!(h.call(&["PTTL", "k"]), slotbox_protocol::Frame::Integer(t) if t > 99_000));
    assert_eq!(h.call(&["SET", "k", &b, "KEEPTTL", "GET"]), bulk(&a));
    assert!(matches!(h.call(&["PTTL", "k"]), slotbox_protocol::Frame::Integer(t) if t > 99_000));
    let slot = slotbox_protocol::key_hash_slot(b"k");
    assert_eq!(h.shared.keyspace.db(0).shard(slot).volatile, 1);
    assert_eq!(h.call(&["SET", "k", &a]), ok());
    assert_eq!(h.shared.keyspace.db(0).shard(slot).volatile, 0);
    // An expired value is not overwritten in place: the key is expired, then set.
    h.call(&["SET", "k", &a, "EX", "100"]);
    h.force_expire("k", 1);
    let expired_keys = |h: &Harness| h.shared.keyspace.db(0).expired_keys.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(expired_keys(&h), 0);
    assert_eq!(h.call(&["SET", "k", &b]), ok());
    assert_eq!(h.call(&["GET", "k"]), bulk(&b));
    assert_eq!(h.call(&["TTL", "k"]), int(-1));
    assert_eq!(expired_keys(&h), 1, "the expired value counted as expired");
    // A WATCH on the key is broken by the overwrite.
    assert_eq!(h.call(&["WATCH", "k"]), ok());
    assert_eq!(h.call(&["SET", "k", &a]), ok());
    assert_eq!(h.call(&["MULTI"]), ok());
    h.call(&["PING"]);
    assert_eq!(h.call(&["EXEC"]), slotbox_protocol::Frame::NullArray);
}
