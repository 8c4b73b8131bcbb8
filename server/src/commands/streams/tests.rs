//! Unit tests of the stream commands through the dispatcher: ID edge cases (sequence
//! overflow, the last possible ID), huge counts, MULTI answers of blocking reads, and a
//! seeded fuzz of every stream command that must never panic.

use crate::commands::keys::testkit::{arr, bulk, err, int, Harness};
use slotbox_protocol::Frame;

const TOP: &str = "ERR The ID specified in XADD is equal or smaller than the target stream top item";

#[test]
fn ids_at_the_edges() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["xadd", "s", "5-18446744073709551615", "f", "v"]), bulk("5-18446744073709551615"));
    assert_eq!(h.call(&["xadd", "s", "5-*", "f", "v"]), err(TOP));
    assert_eq!(h.call(&["xadd", "s", "6-*", "f", "v"]), bulk("6-0"));
    assert_eq!(h.call(&["xadd", "s", "6", "f", "v"]), err(TOP));
    let last = "18446744073709551615-18446744073709551615";
    assert_eq!(h.call(&["xadd", "s", last, "f", "v"]), bulk(last));
    let exhausted = "ERR The stream has exhausted the last possible ID, unable to add more items";
    assert_eq!(h.call(&["xadd", "s", "*", "f", "v"]), err(exhausted));
    assert_eq!(h.call(&["xadd", "s", "18446744073709551615-*", "f", "v"]), err(exhausted));
    assert_eq!(h.call(&["xrange", "s", &format!("({last}"), "+"]), err("ERR invalid start ID for the interval"));
    assert_eq!(h.call(&["xrange", "s", "-", "(0-0"]), err("ERR invalid end ID for the interval"));
    let between = h.call(&["xrange", "s", "(5-18446744073709551615", "(6-1"]);
    assert_eq!(between, arr(vec![arr(vec![bulk("6-0"), arr(vec![bulk("f"), bulk("v")])])]));
    assert_eq!(h.call(&["xadd", "t", "0-*", "f", "v"]), bulk("0-1"));
    assert_eq!(h.call(&["xadd", "t", "0-0", "f", "v"]), err("ERR The ID specified in XADD must be greater than 0-0"));
    let too_long = "1".repeat(200);
    let invalid = "ERR Invalid stream ID specified as stream command argument";
    assert_eq!(h.call(&["xadd", "t", &too_long, "f", "v"]), err(invalid));
    assert_eq!(h.call(&["xdel", "t", "18446744073709551616"]), err(invalid));
}

#[test]
fn huge_counts_and_limits() {
    let mut h = Harness::new();
    for i in 1..=5 {
        h.call(&["xadd", "s", &format!("{i}-0"), "f", "v"]);
    }
    let max = "9223372036854775807";
    let Frame::Array(all) = h.call(&["xrange", "s", "-", "+", "count", max]) else { panic!("xrange") };
    assert_eq!(all.len(), 5);
    let Frame::Array(read) = h.call(&["xread", "count", max, "streams", "s", "0"]) else { panic!("xread") };
    assert_eq!(read.len(), 1);
    assert_eq!(h.call(&["xtrim", "s", "maxlen", "~", max, "limit", max]), int(0));
    assert_eq!(h.call(&["xtrim", "s", "maxlen", "-1"]), err("ERR The MAXLEN argument must be >= 0."));
    h.call(&["xgroup", "create", "s", "g", "0"]);
    assert_eq!(h.call(&["xautoclaim", "s", "g", "c", "0", "0", "count", max]), err("ERR COUNT must be > 0"));
    let Frame::Array(claimed) = h.call(&["xautoclaim", "s", "g", "c", "0", "0", "count", "576460752303423487"]) else {
        panic!("xautoclaim")
    };
    assert_eq!(claimed[0], bulk("0-0"));
    assert_eq!(h.call(&["xclaim", "s", "g", "c", max, "1-0", "retrycount", max]), arr(vec![]));
    assert_eq!(h.call(&["xsetid", "s", "9-0", "entriesadded", max]), Frame::ok());
}

#[test]
fn blocking_reads_inside_multi_answer_at_once() {
    let mut h = Harness::new();
    h.call(&["xadd", "s", "1-0", "f", "v"]);
    h.call(&["xgroup", "create", "s", "g", "$"]);
    h.call(&["multi"]);
    h.call(&["xread", "block", "0", "streams", "s", "$"]);
    h.call(&["xreadgroup", "group", "g", "c", "block", "0", "streams", "s", ">"]);
    assert_eq!(h.call(&["exec"]), arr(vec![Frame::NullArray, Frame::NullArray]));
    assert!(h.shared.blocking.is_empty());
    assert_eq!(h.call(&["xread", "block", "-1", "streams", "s", "$"]), err("ERR timeout is negative"));
    assert_eq!(
        h.call(&["xread", "block", "x", "streams", "s", "$"]),
        err("ERR timeout is not an integer or out of range")
    );
}

/// A tiny deterministic generator (no dependency on the rand crate's streams).
struct Lcg(u64);

impl Lcg {
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        xs[((self.0 >> 33) as usize) % xs.len()]
    }
}

#[test]
fn no_argument_list_panics() {
    #[rustfmt::skip]
    const NAMES: &[&str] = &[
        "xadd", "xrange", "xrevrange", "xlen", "xdel", "xtrim", "xsetid", "xread", "xreadgroup", "xack",
        "xpending", "xclaim", "xautoclaim", "xgroup", "xinfo",
    ];
    #[rustfmt::skip]
    const ARGS: &[&str] = &[
        "s", "s", "g", "c", "0", "1", "-1", "1-1", "2-*", "*", "$", ">", "-", "+", "(1", "(", "~", "=",
        "MAXLEN", "MINID", "LIMIT", "COUNT", "BLOCK", "STREAMS", "GROUP", "NOACK", "IDLE", "TIME", "RETRYCOUNT",
        "FORCE", "JUSTID", "LASTID", "CREATE", "SETID", "DESTROY", "CREATECONSUMER", "DELCONSUMER", "MKSTREAM",
        "ENTRIESREAD", "STREAM", "GROUPS", "CONSUMERS", "FULL", "NOMKSTREAM", "ENTRIESADDED", "MAXDELETEDID",
        "18446744073709551615-18446744073709551615", "9223372036854775807", "-9223372036854775808", "abc", "",
    ];
    let mut h = Harness::new();
    let mut rng = Lcg(7);
    for _ in 0..20_000 {
        let n = (rng.pick(&["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]).parse::<usize>()).unwrap_or(0);
        let mut args = vec![rng.pick(NAMES)];
        for _ in 0..n {
            args.push(rng.pick(ARGS));
        }
        if args.iter().any(|a| a.eq_ignore_ascii_case("block")) {
            continue;
        }
        h.call(&args);
    }
    assert!(h.shared.blocking.is_empty());
}
