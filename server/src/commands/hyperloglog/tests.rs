//! PFADD / PFCOUNT / PFMERGE / PFDEBUG through `commands::execute`, with the replies and the
//! bytes redis-server 7.0.15 gives for the same input.

use crate::commands::keys::testkit::{err, int, ok, Harness};
use slotbox_protocol::Frame;

fn get(h: &mut Harness, key: &str) -> Vec<u8> {
    match h.call(&["GET", key]) {
        Frame::Bulk(b) => b.to_vec(),
        other => panic!("GET {key}: {other:?}"),
    }
}

/// PFADD `n` elements `e0`..`e{n-1}` to `key`, 1000 per call.
fn fill(h: &mut Harness, key: &str, n: usize) {
    for start in (0..n).step_by(1000) {
        let names: Vec<String> = (start..n.min(start + 1000)).map(|j| format!("e{j}")).collect();
        let mut args = vec!["PFADD", key];
        args.extend(names.iter().map(|s| s.as_str()));
        h.call(&args);
    }
}

#[test]
fn bytes_and_cache_like_redis() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["PFADD", "h", "a", "b", "c"]), int(1));
    assert_eq!(get(&mut h, "h"), b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80`\xf3\x80P\xb1\x84K\xfb\x80BZ");
    assert_eq!(h.call(&["PFCOUNT", "h"]), int(3));
    assert_eq!(get(&mut h, "h"), b"HYLL\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00`\xf3\x80P\xb1\x84K\xfb\x80BZ");
    assert_eq!(h.call(&["PFADD", "h", "a", "b", "c"]), int(0));
    assert_eq!(h.call(&["PFADD", "empty"]), int(1));
    assert_eq!(get(&mut h, "empty"), b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff");
    assert_eq!(h.call(&["PFCOUNT", "empty"]), int(0));
    assert_eq!(h.call(&["PFCOUNT", "nosuch"]), int(0));
}

#[test]
fn counts_and_encodings_like_redis() {
    // (elements, PFCOUNT, encoding, length) from redis-server 7.0.15.
    let expected = [
        (1, 1, "sparse", 21),
        (10, 10, "sparse", 48),
        (100, 100, "sparse", 285),
        (1000, 1008, "sparse", 1906),
        (5000, 4968, "dense", 12304),
        (20000, 19901, "dense", 12304),
        (100000, 100853, "dense", 12304),
    ];
    let mut h = Harness::new();
    for (n, count, enc, len) in expected {
        h.call(&["DEL", "x"]);
        fill(&mut h, "x", n);
        assert_eq!(h.call(&["PFCOUNT", "x"]), int(count), "{n}");
        assert_eq!(h.call(&["PFDEBUG", "ENCODING", "x"]), Frame::Simple(enc.into()), "{n}");
        assert_eq!(get(&mut h, "x").len(), len, "{n}");
    }
}

#[test]
fn sparse_and_dense_agree() {
    let mut h = Harness::new();
    for n in [0, 1, 7, 50, 300] {
        h.call(&["DEL", "s", "d"]);
        h.call(&["PFADD", "d"]);
        assert_eq!(h.call(&["PFDEBUG", "TODENSE", "d"]), int(1));
        assert_eq!(h.call(&["PFDEBUG", "TODENSE", "d"]), int(0));
        h.call(&["PFADD", "s"]);
        fill(&mut h, "s", n);
        fill(&mut h, "d", n);
        assert_eq!(h.call(&["PFDEBUG", "ENCODING", "s"]), Frame::Simple("sparse".into()));
        assert_eq!(h.call(&["PFCOUNT", "s"]), h.call(&["PFCOUNT", "d"]));
        assert_eq!(h.call(&["PFCOUNT", "s", "d"]), h.call(&["PFCOUNT", "d"]));
    }
}

#[test]
fn merge_and_union() {
    let mut h = Harness::new();
    h.call(&["PFADD", "h1", "a", "b", "c"]);
    h.call(&["PFADD", "h2", "b", "c", "d"]);
    h.call(&["PFADD", "h3", "c", "d", "e"]);
    assert_eq!(h.call(&["PFCOUNT", "h1", "h2", "h3", "missing"]), int(5));
    assert_eq!(h.call(&["PFMERGE", "h", "h1", "h2", "h3"]), ok());
    assert_eq!(h.call(&["PFCOUNT", "h"]), int(5));
    assert_eq!(h.call(&["PFMERGE", "none"]), ok());
    assert_eq!(h.call(&["PFCOUNT", "none"]), int(0));
}

#[test]
fn errors_like_redis() {
    let mut h = Harness::new();
    let not_hll = err("WRONGTYPE Key is not a valid HyperLogLog string value.");
    let wrongtype = err("WRONGTYPE Operation against a key holding the wrong kind of value");
    h.call(&["SET", "str", "bar"]);
    h.call(&["SET", "num", "12"]);
    h.call(&["LPUSH", "list", "x"]);
    assert_eq!(h.call(&["PFADD", "str", "1"]), not_hll);
    assert_eq!(h.call(&["PFCOUNT", "num"]), not_hll);
    assert_eq!(h.call(&["PFCOUNT", "list"]), wrongtype);
    assert_eq!(h.call(&["PFMERGE", "x", "str"]), not_hll);
    assert_eq!(h.call(&["PFMERGE", "str", "x"]), not_hll);
    assert_eq!(h.call(&["PFDEBUG", "GETREG", "nope"]), err("ERR The specified key does not exist"));
    h.call(&["PFADD", "h", "a"]);
    assert_eq!(h.call(&["PFDEBUG", "FOO", "h"]), err("ERR Unknown PFDEBUG subcommand 'FOO'"));
    assert_eq!(h.call(&["PFDEBUG", "DECODE", "h"]), Frame::Bulk("Z:12711 v:2,1 Z:3672".into()));
    h.call(&["APPEND", "h", "hello"]);
    assert_eq!(h.call(&["PFCOUNT", "h"]), err("INVALIDOBJ Corrupted HLL object detected"));
    h.call(&["SETRANGE", "h", "4", "x"]);
    assert_eq!(h.call(&["PFCOUNT", "h"]), not_hll);
    h.call(&["SETRANGE", "h", "4", "\x00"]);
    assert_eq!(h.call(&["PFCOUNT", "h"]), not_hll);
}

#[test]
fn corrupt_bytes_never_panic() {
    let mut h = Harness::new();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..300 {
        h.call(&["DEL", "h", "o"]);
        fill(&mut h, "h", (next() % 3000) as usize);
        let len = get(&mut h, "h").len();
        for _ in 0..1 + next() % 5 {
            let pos = (next() as usize % len).to_string();
            let byte = [(next() & 0xff) as u8];
            h.call_raw(&[b"SETRANGE", b"h", pos.as_bytes(), &byte]);
        }
        let el = format!("z{round}");
        for cmd in [&["PFCOUNT", "h"][..], &["PFADD", "h", &el], &["PFCOUNT", "h", "o"], &["PFMERGE", "o", "h"]] {
            let _ = h.call(cmd);
        }
        let _ = h.call(&["PFDEBUG", "GETREG", "h"]);
    }
}

#[test]
fn sparse_max_bytes_is_read_after_config_set() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["CONFIG", "SET", "hll-sparse-max-bytes", "40"]), ok());
    fill(&mut h, "x", 30);
    assert_eq!(h.call(&["PFDEBUG", "ENCODING", "x"]), Frame::Simple("dense".into()));
    assert_eq!(h.call(&["CONFIG", "SET", "hll-sparse-max-bytes", "3000"]), ok());
    fill(&mut h, "y", 30);
    assert_eq!(h.call(&["PFDEBUG", "ENCODING", "y"]), Frame::Simple("sparse".into()));
}
