//! Tests of ZADD / ZINCRBY / ZREM, the range commands and the pops through
//! `commands::execute`, with the replies redis-server 7.0.15 gives.

use crate::commands::keys::testkit::{arr, bulk, err, int, nil, ok, Harness};
use slotbox_protocol::Frame;

fn dbl(x: f64) -> Frame {
    Frame::Double(x)
}

fn bulks(items: &[&str]) -> Frame {
    arr(items.iter().map(|s| bulk(s)).collect())
}

/// A flat RESP2 `member, score` reply.
fn flat(items: &[(&str, f64)]) -> Frame {
    arr(items.iter().flat_map(|(m, s)| [bulk(m), dbl(*s)]).collect())
}

/// A RESP3 `[[member, score], ...]` reply.
fn nested(items: &[(&str, f64)]) -> Frame {
    arr(items.iter().map(|(m, s)| arr(vec![bulk(m), dbl(*s)])).collect())
}

#[test]
fn zadd_flags_and_errors() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]), int(3));
    assert_eq!(
        h.call(&["ZADD", "z", "NX", "XX", "1", "a"]),
        err("ERR XX and NX options at the same time are not compatible")
    );
    let gtlt = err("ERR GT, LT, and/or NX options at the same time are not compatible");
    assert_eq!(h.call(&["ZADD", "z", "GT", "LT", "1", "a"]), gtlt);
    assert_eq!(h.call(&["ZADD", "z", "NX", "GT", "1", "a"]), gtlt);
    assert_eq!(
        h.call(&["ZADD", "z", "INCR", "1", "a", "2", "b"]),
        err("ERR INCR option supports a single increment-element pair")
    );
    assert_eq!(h.call(&["ZADD", "z", "XX", "GT", "1", "a", "2"]), err("ERR syntax error"));
    for bad in ["x", "nan", "1e400", "1e-400", " 1", "1 ", ""] {
        assert_eq!(h.call(&["ZADD", "z", bad, "a"]), err("ERR value is not a valid float"), "{bad:?}");
    }
    assert_eq!(h.call(&["ZADD", "z", "XX", "INCR", "5", "nope"]), nil());
    assert_eq!(h.call(&["ZADD", "z", "NX", "INCR", "5", "a"]), nil());
    assert_eq!(h.call(&["ZADD", "z", "GT", "INCR", "-1", "a"]), nil());
    assert_eq!(h.call(&["ZADD", "z", "LT", "INCR", "-1", "a"]), dbl(0.0));
    assert_eq!(h.call(&["ZADD", "z", "GT", "CH", "0", "a", "11", "b", "8", "new"]), int(2));
    assert_eq!(h.call(&["ZADD", "z", "LT", "CH", "0", "a", "12", "b", "9", "new"]), int(0));
    assert_eq!(h.call(&["ZADD", "z", "CH", "1", "dup", "2", "dup", "2", "dup"]), int(2));
    assert_eq!(h.call(&["ZSCORE", "z", "dup"]), dbl(2.0));
    assert_eq!(h.call(&["ZADD", "z", "1", "d2", "2", "d2"]), int(1));
    assert_eq!(h.call(&["ZADD", "z", "0x10", "hex", "-inf", "m"]), int(2));
    assert_eq!(h.call(&["ZSCORE", "z", "hex"]), dbl(16.0));
    assert_eq!(h.call(&["ZINCRBY", "z", "+inf", "m"]), err("ERR resulting score is not a number (NaN)"));
    assert_eq!(h.call(&["ZINCRBY", "z", "x", "m"]), err("ERR value is not a valid float"));
    assert_eq!(h.call(&["ZINCRBY", "fresh", "2.5", "m"]), dbl(2.5));
    assert_eq!(h.call(&["ZINCRBY", "fresh", "0.1", "m"]), dbl(2.6));
}

#[test]
fn noop_writes_create_nothing_and_touch_nothing() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["ZADD", "z", "XX", "1", "a"]), int(0));
    assert_eq!(h.call(&["EXISTS", "z"]), int(0));
    assert_eq!(h.call(&["ZADD", "z", "XX", "INCR", "1", "a"]), nil());
    assert_eq!(h.call(&["EXISTS", "z"]), int(0));
    assert_eq!(h.call(&["ZADD", "z", "1", "a"]), int(1));
    assert_eq!(h.call(&["WATCH", "z"]), ok());
    assert_eq!(h.call(&["ZADD", "z", "NX", "5", "a"]), int(0));
    assert_eq!(h.call(&["ZADD", "z", "1", "a"]), int(0));
    assert_eq!(h.call(&["ZREM", "z", "nope"]), int(0));
    assert_eq!(h.call(&["ZREMRANGEBYSCORE", "z", "5", "6"]), int(0));
    assert_eq!(h.call(&["MULTI"]), ok());
    assert_eq!(h.call(&["ZCARD", "z"]), Frame::queued());
    assert_eq!(h.call(&["EXEC"]), arr(vec![int(1)]));
    assert_eq!(h.call(&["WATCH", "z"]), ok());
    assert_eq!(h.call(&["ZADD", "z", "2", "a"]), int(0));
    assert_eq!(h.call(&["MULTI"]), ok());
    assert_eq!(h.call(&["ZCARD", "z"]), Frame::queued());
    assert_eq!(h.call(&["EXEC"]), Frame::NullArray);
}

#[test]
fn zrem_and_wrongtype() {
    let mut h = Harness::new();
    h.call(&["SET", "s", "x"]);
    let wrong = err("WRONGTYPE Operation against a key holding the wrong kind of value");
    for cmd in [
        &["ZADD", "s", "1", "a"][..],
        &["ZINCRBY", "s", "1", "a"],
        &["ZREM", "s", "a"],
        &["ZSCORE", "s", "a"],
        &["ZMSCORE", "s", "a"],
        &["ZCARD", "s"],
        &["ZRANK", "s", "a"],
        &["ZRANGE", "s", "0", "-1"],
        &["ZRANGESTORE", "d", "s", "0", "-1"],
        &["ZPOPMIN", "s"],
        &["ZMPOP", "2", "nokey", "s", "MIN"],
        &["BZPOPMIN", "nokey", "s", "0"],
        &["ZRANDMEMBER", "s"],
        &["ZSCAN", "s", "0"],
        &["ZUNION", "2", "nokey", "s"],
        &["ZREMRANGEBYRANK", "s", "0", "1"],
    ] {
        assert_eq!(h.call(cmd), wrong, "{cmd:?}");
    }
    h.call(&["ZADD", "z", "1", "a", "2", "b"]);
    assert_eq!(h.call(&["ZREM", "z", "a", "a", "x"]), int(1));
    assert_eq!(h.call(&["ZREM", "z", "b"]), int(1));
    assert_eq!(h.call(&["EXISTS", "z"]), int(0));
}

#[test]
fn zrange_options() {
    let mut h = Harness::new();
    h.call(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
    assert_eq!(
        h.call(&["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"]),
        err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
    );
    assert_eq!(h.call(&["ZRANGE", "z", "0", "-1", "LIMIT", "5", "-1"]), bulks(&["a", "b", "c", "d"]));
    assert_eq!(
        h.call(&["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"]),
        err("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    );
    assert_eq!(h.call(&["ZRANGEBYLEX", "z", "-", "+", "REV"]), err("ERR syntax error"));
    assert_eq!(h.call(&["ZRANGE", "z", "0", "1", "REV", "REV"]), err("ERR syntax error"));
    assert_eq!(h.call(&["ZRANGE", "z", "x", "1", "BYSCORE"]), err("ERR min or max is not a float"));
    assert_eq!(h.call(&["ZRANGE", "z", "x", "1", "BYLEX"]), err("ERR min or max not valid string range item"));
    assert_eq!(h.call(&["ZRANGESTORE", "d", "z", "0", "-1", "WITHSCORES"]), err("ERR syntax error"));
    assert_eq!(h.call(&["ZRANGE", "z", "-2", "-1", "WITHSCORES"]), flat(&[("c", 3.0), ("d", 4.0)]));
    assert_eq!(h.call(&["ZRANGE", "z", "0", "1", "REV"]), bulks(&["d", "c"]));
    assert_eq!(h.call(&["ZRANGE", "z", "(1", "+inf", "BYSCORE", "LIMIT", "1", "2"]), bulks(&["c", "d"]));
    assert_eq!(h.call(&["ZRANGE", "z", "+inf", "(1", "BYSCORE", "REV", "LIMIT", "1", "1"]), bulks(&["c"]));
    assert_eq!(h.call(&["ZRANGEBYSCORE", "z", "-inf", "inf", "LIMIT", "-1", "1"]), arr(vec![]));
    assert_eq!(h.call(&["ZRANGEBYSCORE", "z", "-inf", "inf", "LIMIT", "3", "-5"]), bulks(&["d"]));
    assert_eq!(h.call(&["ZRANGEBYSCORE", "z", "", "(2"]), bulks(&["a"]));
    assert_eq!(h.call(&["ZREVRANGEBYSCORE", "z", "3", " 2", "WITHSCORES"]), flat(&[("c", 3.0), ("b", 2.0)]));
    assert_eq!(h.call(&["ZREVRANGE", "z", "0", "0"]), bulks(&["d"]));
    assert_eq!(h.call(&["ZRANGESTORE", "d", "z", "1", "2"]), int(2));
    assert_eq!(h.call(&["ZRANGE", "d", "0", "-1", "WITHSCORES"]), flat(&[("b", 2.0), ("c", 3.0)]));
    assert_eq!(h.call(&["ZRANGESTORE", "d", "nokey", "0", "-1"]), int(0));
    assert_eq!(h.call(&["EXISTS", "d"]), int(0));
    assert!(!h.call(&["HELLO", "3"]).is_error());
    assert_eq!(h.call(&["ZRANGE", "z", "0", "1", "WITHSCORES"]), nested(&[("a", 1.0), ("b", 2.0)]));
}

#[test]
fn lex_ranges() {
    let mut h = Harness::new();
    h.call(&["ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e"]);
    assert_eq!(h.call(&["ZLEXCOUNT", "l", "(a", "[c"]), int(2));
    assert_eq!(h.call(&["ZLEXCOUNT", "l", "+", "-"]), int(0));
    assert_eq!(h.call(&["ZLEXCOUNT", "l", "-a", "+"]), err("ERR min or max not valid string range item"));
    assert_eq!(h.call(&["ZRANGEBYLEX", "l", "[b", "(d"]), bulks(&["b", "c"]));
    assert_eq!(h.call(&["ZREVRANGEBYLEX", "l", "+", "-", "LIMIT", "1", "2"]), bulks(&["d", "c"]));
    assert_eq!(h.call(&["ZREMRANGEBYLEX", "l", "(a", "[b"]), int(1));
    assert_eq!(h.call(&["ZREMRANGEBYLEX", "l", "-", "+"]), int(4));
    assert_eq!(h.call(&["EXISTS", "l"]), int(0));
}

#[test]
fn pops_and_shapes() {
    let mut h = Harness::new();
    h.call(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
    assert_eq!(h.call(&["ZPOPMIN", "z", "-1"]), err("ERR value is out of range, must be positive"));
    assert_eq!(h.call(&["ZPOPMIN", "z", "1", "2"]), err("ERR syntax error"));
    assert_eq!(h.call(&["ZPOPMIN", "z", "0"]), arr(vec![]));
    assert_eq!(h.call(&["ZPOPMIN", "z"]), flat(&[("a", 1.0)]));
    assert_eq!(h.call(&["ZPOPMAX", "z", "2"]), flat(&[("d", 4.0), ("c", 3.0)]));
    assert_eq!(h.call(&["ZPOPMIN", "nokey"]), arr(vec![]));
    assert_eq!(h.call(&["ZMPOP", "0", "z", "MIN"]), err("ERR numkeys should be greater than 0"));
    assert_eq!(h.call(&["ZMPOP", "2", "z", "MIN"]), err("ERR syntax error"));
    assert_eq!(h.call(&["ZMPOP", "1", "z", "MIN", "COUNT", "0"]), err("ERR count should be greater than 0"));
    assert_eq!(h.call(&["ZMPOP", "1", "nokey", "MIN"]), Frame::NullArray);
    let popped = arr(vec![bulk("z"), nested(&[("b", 2.0)])]);
    assert_eq!(h.call(&["ZMPOP", "2", "nokey", "z", "MAX", "COUNT", "9"]), popped);
    assert_eq!(h.call(&["EXISTS", "z"]), int(0));
    h.call(&["ZADD", "z", "1", "a", "2", "b"]);
    assert_eq!(h.call(&["BZPOPMIN", "nokey", "z", "0"]), arr(vec![bulk("z"), bulk("a"), dbl(1.0)]));
    assert_eq!(h.call(&["BZPOPMIN", "z", "-1"]), err("ERR timeout is negative"));
    assert_eq!(h.call(&["BZMPOP", "x", "1", "z", "MIN"]), err("ERR timeout is not a float or out of range"));
    assert_eq!(h.call(&["BZMPOP", "x", "0", "z", "MIN"]), err("ERR numkeys should be greater than 0"));
    h.call(&["MULTI"]);
    h.call(&["BZPOPMIN", "empty", "0"]);
    h.call(&["BZMPOP", "0", "1", "empty", "MIN"]);
    h.call(&["BZPOPMAX", "z", "0"]);
    let expect = arr(vec![Frame::NullArray, Frame::NullArray, arr(vec![bulk("z"), bulk("b"), dbl(2.0)])]);
    assert_eq!(h.call(&["EXEC"]), expect);
    h.call(&["HELLO", "3"]);
    h.call(&["ZADD", "z", "1", "a", "2", "b"]);
    assert_eq!(h.call(&["ZPOPMIN", "z"]), flat(&[("a", 1.0)]));
    assert_eq!(h.call(&["ZPOPMIN", "z", "1"]), nested(&[("b", 2.0)]));
}
