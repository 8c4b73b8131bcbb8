//! OBJECT ENCODING names the same encoding as real Redis 7.0 for the same commands: strings
//! (`int`, `embstr`, `raw`: integers, lengths, APPEND / SETRANGE, INCRBYFLOAT, COPY, RENAME),
//! sets (`intset` until a non-integer or the 513th member, `hashtable`), sorted sets
//! (`listpack` to 128 members of up to 64 bytes, `skiplist`, back to `listpack` for a small
//! stored result, `skiplist` for good once SORT read it), hashes (`listpack` to
//! `hash-max-listpack-entries` fields, 512 by default, `hashtable` past it or for a field or
//! value longer than `hash-max-listpack-value`) and lists (`quicklist`, SORT ... STORE
//! included).

mod common;

use common::{show, RawClient, ServerProcess};
use slotbox::Server;

fn range(prefix: &str, n: usize, scored: bool) -> Vec<String> {
    (0..n)
        .flat_map(|i| if scored { vec![i.to_string(), format!("{prefix}{i}")] } else { vec![format!("{prefix}{i}")] })
        .collect()
}

#[test]
fn encodings_are_named_as_redis_names_them() {
    if !common::on_path("redis-server") {
        eprintln!("redis-server not on PATH: skipped");
        return;
    }
    let redis = ServerProcess::redis();
    let slotbox = Server::start().unwrap();
    let mut r = RawClient::connect(redis.addr());
    let mut s = RawClient::connect(slotbox.addr());
    let long = "x".repeat(65);
    let ints: Vec<String> = (0..512).map(|i| i.to_string()).collect();
    let mut script: Vec<Vec<String>> = Vec::new();
    let mut add = |words: &[&str]| script.push(words.iter().map(|w| w.to_string()).collect());
    for (k, v) in [
        ("s1", "12345"),
        ("s2", "hello"),
        ("s3", "-0"),
        ("s4", " 12"),
        ("s5", "9223372036854775807"),
        ("s6", "9223372036854775808"),
        ("s7", "1.5"),
        ("s8", "010"),
        ("s9", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ("s10", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ("s11", ""),
    ] {
        add(&["SET", k, v]);
        add(&["OBJECT", "ENCODING", k]);
    }
    for words in [
        &["APPEND", "s1", "0"][..],
        &["OBJECT", "ENCODING", "s1"],
        &["APPEND", "s2", "x"],
        &["OBJECT", "ENCODING", "s2"],
        &["INCR", "n"],
        &["OBJECT", "ENCODING", "n"],
        &["INCRBYFLOAT", "f", "1.5"],
        &["OBJECT", "ENCODING", "f"],
        &["SET", "f2", "3.0"],
        &["INCRBYFLOAT", "f2", "1"],
        &["OBJECT", "ENCODING", "f2"],
        &["SETRANGE", "r", "0", "abc"],
        &["OBJECT", "ENCODING", "r"],
        &["GETSET", "g", "7"],
        &["OBJECT", "ENCODING", "g"],
        &["SETEX", "e", "100", "5"],
        &["OBJECT", "ENCODING", "e"],
        &["COPY", "s2", "s2c"],
        &["OBJECT", "ENCODING", "s2c"],
        &["RENAME", "s9", "s9r"],
        &["OBJECT", "ENCODING", "s9r"],
        &["RPUSH", "l", "a", "1"],
        &["OBJECT", "ENCODING", "l"],
        &["SADD", "st", "1", "2", "-5"],
        &["OBJECT", "ENCODING", "st"],
        &["SADD", "st", "x"],
        &["OBJECT", "ENCODING", "st"],
        &["SADD", "sa", "a"],
        &["OBJECT", "ENCODING", "sa"],
        &["SADD", "s01", "01"],
        &["OBJECT", "ENCODING", "s01"],
        &["SINTERSTORE", "si", "st", "st"],
        &["OBJECT", "ENCODING", "si"],
        &["SMOVE", "st", "sm", "2"],
        &["OBJECT", "ENCODING", "sm"],
        &["ZADD", "z", "1", "a"],
        &["OBJECT", "ENCODING", "z"],
        &["ZADD", "zl", "1", &long],
        &["OBJECT", "ENCODING", "zl"],
        &["ZUNIONSTORE", "zu", "1", "z"],
        &["OBJECT", "ENCODING", "zu"],
        &["HSET", "h", "a", "b"],
        &["OBJECT", "ENCODING", "h"],
        &["HSET", "hl", "a", &long],
        &["OBJECT", "ENCODING", "hl"],
        &["HINCRBY", "hi", "f", "1"],
        &["OBJECT", "ENCODING", "hi"],
        &["ZADD", "zsorted", "1", "a", "2", "b"],
        &["SORT_RO", "zsorted", "BY", "nosort"],
        &["OBJECT", "ENCODING", "zsorted"],
        &["SORT", "st", "ALPHA", "STORE", "sorted"],
        &["OBJECT", "ENCODING", "sorted"],
        &["OBJECT", "ENCODING", "nokey"],
    ] {
        add(words);
    }
    let with = |head: &[&str], rest: &[String]| -> Vec<String> {
        head.iter().map(|w| w.to_string()).chain(rest.iter().cloned()).collect()
    };
    script.push(with(&["SADD", "big"], &ints));
    script.push(with(&["OBJECT", "ENCODING", "big"], &[]));
    script.push(with(&["SADD", "big", "512"], &[]));
    script.push(with(&["OBJECT", "ENCODING", "big"], &[]));
    script.push(with(&["ZADD", "zb"], &range("m", 128, true)));
    script.push(with(&["OBJECT", "ENCODING", "zb"], &[]));
    script.push(with(&["ZADD", "zb", "128", "m128"], &[]));
    script.push(with(&["OBJECT", "ENCODING", "zb"], &[]));
    script.push(with(&["ZREMRANGEBYRANK", "zb", "0", "120"], &[]));
    script.push(with(&["OBJECT", "ENCODING", "zb"], &[]));
    script.push(with(&["ZRANGESTORE", "zs", "zb", "0", "-1"], &[]));
    script.push(with(&["OBJECT", "ENCODING", "zs"], &[]));
    let pairs = |n| -> Vec<String> { range("f", n, false).into_iter().flat_map(|f| [f, "v".into()]).collect() };
    script.push(with(&["HSET", "hb"], &pairs(128)));
    script.push(with(&["OBJECT", "ENCODING", "hb"], &[]));
    script.push(with(&["HSET", "hc"], &pairs(512)));
    script.push(with(&["OBJECT", "ENCODING", "hc"], &[]));
    script.push(with(&["HSET", "hc", "f512", "v"], &[]));
    script.push(with(&["OBJECT", "ENCODING", "hc"], &[]));
    script.push(with(&["CONFIG", "SET", "hash-max-listpack-entries", "128", "hash-max-listpack-value", "300"], &[]));
    script.push(with(&["HSET", "hd"], &pairs(129)));
    script.push(with(&["OBJECT", "ENCODING", "hd"], &[]));
    script.push(with(&["HSET", "he", "f", &"x".repeat(300)], &[]));
    script.push(with(&["OBJECT", "ENCODING", "he"], &[]));
    script.push(with(&["HSET", "he", "g", &"x".repeat(301)], &[]));
    script.push(with(&["OBJECT", "ENCODING", "he"], &[]));
    script.push(with(&["CONFIG", "SET", "hash-max-listpack-entries", "512", "hash-max-listpack-value", "64"], &[]));
    for cmd in &script {
        let (want, got) = (r.call_raw(cmd), s.call_raw(cmd));
        assert_eq!(show(&got), show(&want), "{:?}", &cmd[..cmd.len().min(4)]);
    }
}
