//! Tests of the keyspace commands through `commands::execute`, with the replies
//! redis-server 7.0.15 gives.

use super::testkit::{arr, bulk, err, int, nil, ok, sorted_bulks, Harness};
use crate::clock::unix_time_ms;
use slotbox_protocol::Frame;

#[test]
fn del_exists_type_touch() {
    let mut h = Harness::new();
    h.call(&["MSET", "a", "1", "b", "2"]);
    assert_eq!(h.call(&["EXISTS", "a", "a", "nope"]), int(2));
    assert_eq!(h.call(&["TOUCH", "a", "b", "nope"]), int(2));
    assert_eq!(h.call(&["TYPE", "a"]), Frame::simple_static("string"));
    assert_eq!(h.call(&["TYPE", "nope"]), Frame::simple_static("none"));
    assert_eq!(h.call(&["DEL", "a", "a", "nope"]), int(1));
    assert_eq!(h.call(&["UNLINK", "b"]), int(1));
    assert_eq!(h.call(&["EXISTS", "a", "b"]), int(0));
}

#[test]
fn expire_options() {
    let mut h = Harness::new();
    h.call(&["SET", "k", "v"]);
    assert_eq!(
        h.call(&["EXPIRE", "k", "10", "NX", "XX"]),
        err("ERR NX and XX, GT or LT options at the same time are not compatible")
    );
    assert_eq!(
        h.call(&["EXPIRE", "k", "10", "GT", "LT"]),
        err("ERR GT and LT options at the same time are not compatible")
    );
    assert_eq!(h.call(&["EXPIRE", "k", "10", "foo"]), err("ERR Unsupported option foo"));
    assert_eq!(h.call(&["EXPIRE", "k", "abc", "foo"]), err("ERR Unsupported option foo"));
    assert_eq!(h.call(&["EXPIRE", "k", "abc"]), err("ERR value is not an integer or out of range"));
    assert_eq!(h.call(&["EXPIRE", "k", "100", "XX"]), int(0));
    assert_eq!(h.call(&["EXPIRE", "k", "100", "GT"]), int(0));
    assert_eq!(h.call(&["EXPIRE", "k", "100", "LT"]), int(1));
    assert_eq!(h.call(&["TTL", "k"]), int(100));
    assert_eq!(h.call(&["EXPIRE", "k", "200", "NX"]), int(0));
    assert_eq!(h.call(&["EXPIRE", "k", "50", "GT"]), int(0));
    assert_eq!(h.call(&["EXPIRE", "k", "200", "GT"]), int(1));
    assert_eq!(h.call(&["EXPIRE", "k", "300", "LT"]), int(0));
    assert_eq!(h.call(&["EXPIRE", "k", "150", "xx", "lt"]), int(1));
    assert_eq!(h.call(&["TTL", "k"]), int(150));
    assert_eq!(h.call(&["PERSIST", "k"]), int(1));
    assert_eq!(h.call(&["PERSIST", "k"]), int(0));
    assert_eq!(h.call(&["EXPIRE", "k", "100", "nx", "nx"]), int(1));
    assert_eq!(h.call(&["EXPIRE", "nope", "100"]), int(0));
}

#[test]
fn expire_overflow_and_past() {
    let mut h = Harness::new();
    h.call(&["SET", "k", "v"]);
    for (cmd, arg) in [
        ("expire", "9223372036854776"),
        ("expire", "-9223372036854776"),
        ("expire", "9223372036854775"),
        ("pexpire", "9223372036854775807"),
        ("expireat", "9223372036854776"),
    ] {
        let msg = format!("ERR invalid expire time in '{cmd}' command");
        assert_eq!(h.call(&[cmd, "k", arg]), err(&msg), "{cmd} {arg}");
    }
    assert_eq!(h.call(&["PEXPIREAT", "k", "9223372036854775807"]), int(1));
    assert_eq!(h.call(&["EXPIRETIME", "k"]), int(9223372036854776));
    assert_eq!(h.call(&["PEXPIRETIME", "k"]), int(i64::MAX));
    assert_eq!(h.call(&["EXPIRE", "k", "0"]), int(1));
    assert_eq!(h.call(&["EXISTS", "k"]), int(0));
    h.call(&["SET", "k", "v"]);
    assert_eq!(h.call(&["EXPIRE", "k", "-1", "LT"]), int(1));
    assert_eq!(h.call(&["EXISTS", "k"]), int(0));
    h.call(&["SET", "k", "v"]);
    assert_eq!(h.call(&["EXPIREAT", "k", "1"]), int(1));
    assert_eq!(h.call(&["GET", "k"]), nil());
}

#[test]
fn ttl_family() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["TTL", "nope"]), int(-2));
    assert_eq!(h.call(&["PTTL", "nope"]), int(-2));
    assert_eq!(h.call(&["EXPIRETIME", "nope"]), int(-2));
    h.call(&["SET", "k", "v"]);
    assert_eq!(h.call(&["TTL", "k"]), int(-1));
    assert_eq!(h.call(&["PEXPIRETIME", "k"]), int(-1));
    assert_eq!(h.call(&["PEXPIRE", "k", "1500"]), int(1));
    // TTL rounds the remaining 1500 ms (minus the time the test took) to 2 or 1 seconds.
    let ttl = h.call(&["TTL", "k"]);
    assert!(ttl == int(2) || ttl == int(1), "{ttl:?}");
    let at = unix_time_ms() + 10_000;
    assert_eq!(h.call(&["PEXPIREAT", "k", &at.to_string()]), int(1));
    assert_eq!(h.call(&["PEXPIRETIME", "k"]), int(at));
    assert_eq!(h.call(&["EXPIRETIME", "k"]), int((at + 500) / 1000));
}

#[test]
fn rename_moves_ttl() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["RENAME", "{t}a", "{t}b"]), err("ERR no such key"));
    assert_eq!(h.call(&["RENAME", "{t}a", "{t}a"]), err("ERR no such key"));
    assert_eq!(h.call(&["RENAMENX", "{t}a", "{t}b"]), err("ERR no such key"));
    h.call(&["SET", "{t}a", "1", "EX", "100"]);
    h.call(&["SET", "{t}b", "2", "EX", "500"]);
    assert_eq!(h.call(&["RENAME", "{t}a", "{t}a"]), ok());
    assert_eq!(h.call(&["RENAMENX", "{t}a", "{t}a"]), int(0));
    assert_eq!(h.call(&["RENAMENX", "{t}a", "{t}b"]), int(0));
    assert_eq!(h.call(&["RENAME", "{t}a", "{t}b"]), ok());
    assert_eq!(h.call(&["EXISTS", "{t}a"]), int(0));
    assert_eq!(h.call(&["GET", "{t}b"]), bulk("1"));
    assert_eq!(h.call(&["TTL", "{t}b"]), int(100));
    h.call(&["SET", "{t}c", "3"]);
    assert_eq!(h.call(&["RENAMENX", "{t}c", "{t}d"]), int(1));
    assert_eq!(h.call(&["TTL", "{t}d"]), int(-1));
    // Across slots (standalone mode): the dispatcher locked both.
    h.call(&["SET", "x", "v", "PX", "100000"]);
    assert_eq!(h.call(&["RENAME", "x", "y"]), ok());
    assert_eq!(h.call(&["TTL", "y"]), int(100));
}

#[test]
fn copy_with_options() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["COPY", "a", "a"]), err("ERR source and destination objects are the same"));
    assert_eq!(h.call(&["COPY", "a", "b"]), int(0));
    h.call(&["SET", "a", "1", "EX", "100"]);
    h.call(&["SET", "b", "2"]);
    assert_eq!(h.call(&["COPY", "a", "b"]), int(0));
    assert_eq!(h.call(&["COPY", "a", "b", "REPLACE"]), int(1));
    assert_eq!(h.call(&["GET", "b"]), bulk("1"));
    assert_eq!(h.call(&["TTL", "b"]), int(100));
    assert_eq!(h.call(&["GET", "a"]), bulk("1"));
    assert_eq!(h.call(&["COPY", "a", "c", "DB", "0"]), int(1));
    assert_eq!(h.call(&["COPY", "a", "c", "DB", "1"]), int(1));
    assert_eq!(h.call(&["COPY", "a", "c", "DB", "1"]), int(0), "already in database 1");
    assert_eq!(h.call(&["COPY", "a", "a", "DB", "1", "REPLACE"]), int(1), "same name, other database");
    assert_eq!(h.call(&["COPY", "a", "c", "DB", "16"]), err("ERR DB index is out of range"));
    assert_eq!(h.call(&["COPY", "a", "c", "DB", "x"]), err("ERR value is not an integer or out of range"));
    assert_eq!(
        h.call(&["COPY", "a", "c", "DB", "99999999999"]),
        err("ERR value is out of range, value must between -2147483648 and 2147483647")
    );
    assert_eq!(h.call(&["COPY", "a", "c", "DB"]), err("ERR syntax error"));
    assert_eq!(h.call(&["COPY", "a", "c", "REPLACE", "foo"]), err("ERR syntax error"));
}

#[test]
fn keys_patterns() {
    let mut h = Harness::new();
    for k in ["hello", "hallo", "hxllo", "hllo", "heeeello", "user:1", "user:2", "h*llo"] {
        h.call(&["SET", k, "v"]);
    }
    h.call(&["SET", "gone", "v", "EX", "100"]);
    h.force_expire("gone", 1);
    assert_eq!(sorted_bulks(&h.call(&["KEYS", "*"])).len(), 8);
    assert_eq!(sorted_bulks(&h.call(&["KEYS", "h?llo"])), ["h*llo", "hallo", "hello", "hxllo"]);
    assert_eq!(sorted_bulks(&h.call(&["KEYS", "h*llo"])), ["h*llo", "hallo", "heeeello", "hello", "hllo", "hxllo"]);
    assert_eq!(sorted_bulks(&h.call(&["KEYS", "h[ae]llo"])), ["hallo", "hello"]);
    assert_eq!(sorted_bulks(&h.call(&["KEYS", "h[^e]llo"])), ["h*llo", "hallo", "hxllo"]);
    assert_eq!(sorted_bulks(&h.call(&["KEYS", "h\\*llo"])), ["h*llo"]);
    assert_eq!(sorted_bulks(&h.call(&["KEYS", "user:*"])), ["user:1", "user:2"]);
    assert_eq!(h.call(&["KEYS", "nothing*"]), arr(vec![]));
}

/// Run a full SCAN iteration; returns the keys and the number of calls.
fn full_scan(h: &mut Harness, extra: &[&str]) -> (Vec<String>, usize) {
    let (mut cursor, mut keys, mut calls) = ("0".to_string(), Vec::new(), 0);
    loop {
        let mut args = vec!["SCAN", &cursor];
        args.extend_from_slice(extra);
        let reply = h.call(&args);
        let Frame::Array(parts) = reply else { panic!("{reply:?}") };
        keys.extend(sorted_bulks(&parts[1]));
        cursor = String::from_utf8_lossy(parts[0].as_bytes().expect("cursor")).into_owned();
        calls += 1;
        if cursor == "0" {
            break;
        }
    }
    keys.sort();
    (keys, calls)
}

#[test]
fn scan_covers_every_key() {
    let mut h = Harness::new();
    let mut expected: Vec<String> = (0..1000).map(|i| format!("key:{i}")).collect();
    for k in &expected {
        h.call(&["SET", k, "v"]);
    }
    expected.sort();
    let (keys, calls) = full_scan(&mut h, &["COUNT", "100"]);
    assert_eq!(keys, expected);
    assert!(calls >= 10, "{calls}");
    let (keys, _) = full_scan(&mut h, &["MATCH", "key:1*", "COUNT", "50"]);
    assert_eq!(keys.len(), 111);
    let (keys, _) = full_scan(&mut h, &["TYPE", "STRING"]);
    assert_eq!(keys.len(), 1000);
    let (keys, _) = full_scan(&mut h, &["TYPE", "hash"]);
    assert!(keys.is_empty());
}

#[test]
fn scan_while_writing() {
    let mut h = Harness::new();
    for i in 0..300 {
        h.call(&["SET", &format!("stable:{i}"), "v"]);
    }
    let (mut cursor, mut seen, mut n) = ("0".to_string(), Vec::new(), 0);
    loop {
        let reply = h.call(&["SCAN", &cursor, "COUNT", "20"]);
        let Frame::Array(parts) = reply else { panic!() };
        seen.extend(sorted_bulks(&parts[1]));
        cursor = String::from_utf8_lossy(parts[0].as_bytes().expect("cursor")).into_owned();
        h.call(&["SET", &format!("new:{n}"), "v"]);
        h.call(&["DEL", &format!("new:{}", n / 2)]);
        n += 1;
        if cursor == "0" {
            break;
        }
    }
    for i in 0..300 {
        assert!(seen.contains(&format!("stable:{i}")), "stable:{i} missed");
    }
}

#[test]
fn scan_errors() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["SCAN", "abc"]), err("ERR invalid cursor"));
    assert_eq!(h.call(&["SCAN", "18446744073709551616"]), err("ERR invalid cursor"));
    assert_eq!(h.call(&["SCAN", "0", "COUNT", "0"]), err("ERR syntax error"));
    assert_eq!(h.call(&["SCAN", "0", "COUNT", "x"]), err("ERR value is not an integer or out of range"));
    assert_eq!(h.call(&["SCAN", "0", "MATCH"]), err("ERR syntax error"));
    assert_eq!(h.call(&["SCAN", "0", "FOO", "bar"]), err("ERR syntax error"));
    assert_eq!(h.call(&["SCAN", "99999"]), arr(vec![bulk("0"), arr(vec![])]));
}

#[test]
fn randomkey_picks_live_keys() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["RANDOMKEY"]), nil());
    h.call(&["SET", "gone", "v", "EX", "100"]);
    h.force_expire("gone", 1);
    assert_eq!(h.call(&["RANDOMKEY"]), nil());
    h.call(&["MSET", "a", "1", "b", "2", "c", "3"]);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let k = h.call(&["RANDOMKEY"]);
        seen.insert(String::from_utf8_lossy(k.as_bytes().expect("bulk")).into_owned());
    }
    assert!(seen.iter().all(|k| ["a", "b", "c"].contains(&k.as_str())), "{seen:?}");
    assert!(seen.len() >= 2, "{seen:?}");
}

#[test]
fn object_subcommands() {
    let mut h = Harness::new();
    h.call(&["MSET", "small", "100", "big", "10000", "neg", "-1", "s", "abc"]);
    h.call(&["SET", "long", &"x".repeat(45)]);
    assert_eq!(h.call(&["OBJECT", "ENCODING", "small"]), bulk("int"));
    assert_eq!(h.call(&["OBJECT", "ENCODING", "s"]), bulk("embstr"));
    assert_eq!(h.call(&["OBJECT", "ENCODING", "long"]), bulk("raw"));
    assert_eq!(h.call(&["OBJECT", "ENCODING", "nope"]), nil());
    assert_eq!(h.call(&["OBJECT", "REFCOUNT", "small"]), int(2147483647));
    assert_eq!(h.call(&["OBJECT", "REFCOUNT", "big"]), int(1));
    assert_eq!(h.call(&["OBJECT", "REFCOUNT", "neg"]), int(1));
    assert_eq!(h.call(&["OBJECT", "REFCOUNT", "nope"]), nil());
    assert!(h.call(&["OBJECT", "FREQ", "s"]).is_error());
    assert_eq!(h.call(&["OBJECT", "FREQ", "nope"]), nil());
    let Frame::Array(help) = h.call(&["OBJECT", "HELP"]) else { panic!() };
    assert_eq!(help.len(), 15);
    assert_eq!(help[14], Frame::simple_static("    Prints this help."));
    assert_eq!(
        h.call(&["OBJECT", "ENCODING", "a", "b"]),
        err("ERR wrong number of arguments for 'object|encoding' command")
    );
    assert_eq!(h.call(&["OBJECT", "FOO"]), err("ERR unknown subcommand 'FOO'. Try OBJECT HELP."));
}
