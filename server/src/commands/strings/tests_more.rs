//! Tests of the counter, range and LCS commands through `commands::execute`, with the
//! replies redis-server 7.0.15 gives.

use crate::commands::keys::testkit::{arr, bulk, err, int, ok, Harness};
use slotbox_protocol::Frame;

const NOT_INT: &str = "ERR value is not an integer or out of range";
const NOT_FLOAT: &str = "ERR value is not a valid float";

#[test]
fn incr_family() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["INCR", "n"]), int(1));
    assert_eq!(h.call(&["INCRBY", "n", "41"]), int(42));
    assert_eq!(h.call(&["DECR", "n"]), int(41));
    assert_eq!(h.call(&["DECRBY", "n", "50"]), int(-9));
    assert_eq!(h.call(&["OBJECT", "ENCODING", "n"]), bulk("int"));
    assert_eq!(h.call(&["INCRBY", "n", "x"]), err(NOT_INT));
    h.call(&["SET", "s", "abc"]);
    assert_eq!(h.call(&["INCR", "s"]), err(NOT_INT));
    for bad in [" 1", "007", "-0", "+1", "1.5", "12345678901234567890"] {
        h.call(&["SET", "s", bad]);
        assert_eq!(h.call(&["INCR", "s"]), err(NOT_INT), "{bad}");
    }
    h.call(&["SET", "s", "10"]);
    h.call(&["APPEND", "s", "0"]);
    assert_eq!(h.call(&["INCR", "s"]), int(101));
}

#[test]
fn incr_overflow_and_ttl() {
    let mut h = Harness::new();
    const OVERFLOW: &str = "ERR increment or decrement would overflow";
    h.call(&["SET", "x", "9223372036854775807"]);
    assert_eq!(h.call(&["INCR", "x"]), err(OVERFLOW));
    assert_eq!(h.call(&["DECRBY", "x", "-1"]), err(OVERFLOW));
    assert_eq!(h.call(&["DECRBY", "x", "-9223372036854775808"]), err("ERR decrement would overflow"));
    h.call(&["SET", "y", "-9223372036854775808"]);
    assert_eq!(h.call(&["DECR", "y"]), err(OVERFLOW));
    assert_eq!(h.call(&["INCRBY", "y", "9223372036854775807"]), int(-1));
    h.call(&["SET", "t", "1", "EX", "100"]);
    assert_eq!(h.call(&["INCR", "t"]), int(2));
    assert_eq!(h.call(&["TTL", "t"]), int(100));
}

#[test]
fn incrbyfloat_formatting() {
    let mut h = Harness::new();
    h.call(&["SET", "f", "10.5"]);
    assert_eq!(h.call(&["INCRBYFLOAT", "f", "0.1"]), bulk("10.6"));
    assert_eq!(h.call(&["INCRBYFLOAT", "f", "-5.1"]), bulk("5.5"));
    assert_eq!(h.call(&["INCRBYFLOAT", "f", "-5.5"]), bulk("0"));
    assert_eq!(h.call(&["INCRBYFLOAT", "g", "5.0e3"]), bulk("5000"));
    assert_eq!(h.call(&["OBJECT", "ENCODING", "g"]), bulk("embstr"));
    assert_eq!(h.call(&["INCRBYFLOAT", "g", "2.0e2"]), bulk("5200"));
    assert_eq!(h.call(&["INCR", "g"]), int(5201));
    assert_eq!(h.call(&["INCRBYFLOAT", "h", "1.23456789012345678901234"]), bulk("1.23456789012345679"));
    assert_eq!(h.call(&["INCRBYFLOAT", "h", "abc"]), err(NOT_FLOAT));
    assert_eq!(h.call(&["INCRBYFLOAT", "h", " 1"]), err(NOT_FLOAT));
    assert_eq!(h.call(&["INCRBYFLOAT", "h", "inf"]), err("ERR increment would produce NaN or Infinity"));
    assert_eq!(h.call(&["INCRBYFLOAT", "h", "nan"]), err(NOT_FLOAT));
    h.call(&["SET", "s", "abc"]);
    assert_eq!(h.call(&["INCRBYFLOAT", "s", "1"]), err(NOT_FLOAT));
    h.call(&["SET", "t", "1.5", "EX", "100"]);
    assert_eq!(h.call(&["INCRBYFLOAT", "t", "1"]), bulk("2.5"));
    assert_eq!(h.call(&["TTL", "t"]), int(100));
}

#[test]
fn append_and_strlen() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["APPEND", "k", "5"]), int(1));
    assert_eq!(h.call(&["OBJECT", "ENCODING", "k"]), bulk("int"));
    assert_eq!(h.call(&["APPEND", "k", "6"]), int(2));
    assert_eq!(h.call(&["OBJECT", "ENCODING", "k"]), bulk("raw"));
    assert_eq!(h.call(&["GET", "k"]), bulk("56"));
    assert_eq!(h.call(&["STRLEN", "k"]), int(2));
    assert_eq!(h.call(&["STRLEN", "nope"]), int(0));
    h.call(&["SET", "n", "-123"]);
    assert_eq!(h.call(&["STRLEN", "n"]), int(4));
    h.call(&["EXPIRE", "k", "100"]);
    h.call(&["APPEND", "k", "7"]);
    assert_eq!(h.call(&["TTL", "k"]), int(100));
}

#[test]
fn getrange_and_substr() {
    let mut h = Harness::new();
    h.call(&["SET", "s", "This is a string"]);
    assert_eq!(h.call(&["GETRANGE", "s", "0", "3"]), bulk("This"));
    assert_eq!(h.call(&["GETRANGE", "s", "-3", "-1"]), bulk("ing"));
    assert_eq!(h.call(&["GETRANGE", "s", "0", "-1"]), bulk("This is a string"));
    assert_eq!(h.call(&["GETRANGE", "s", "10", "100"]), bulk("string"));
    assert_eq!(h.call(&["GETRANGE", "s", "-1", "-3"]), bulk(""));
    assert_eq!(h.call(&["GETRANGE", "s", "-100", "2"]), bulk("Thi"));
    assert_eq!(h.call(&["SUBSTR", "s", "5", "6"]), bulk("is"));
    assert_eq!(h.call(&["GETRANGE", "nope", "0", "-1"]), bulk(""));
    assert_eq!(h.call(&["GETRANGE", "s", "x", "1"]), err(NOT_INT));
    h.call(&["SET", "n", "12345"]);
    assert_eq!(h.call(&["GETRANGE", "n", "1", "-2"]), bulk("234"));
    assert_eq!(h.call(&["GETRANGE", "n", "-9223372036854775808", "9223372036854775807"]), bulk("12345"));
}

#[test]
fn setrange_padding_and_limits() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["SETRANGE", "k", "5", "ab"]), int(7));
    assert_eq!(h.call_raw(&[b"GET", b"k"]), Frame::bulk_from_slice(b"\0\0\0\0\0ab"));
    assert_eq!(h.call(&["OBJECT", "ENCODING", "k"]), bulk("raw"));
    assert_eq!(h.call(&["SETRANGE", "k", "0", "XY"]), int(7));
    assert_eq!(h.call_raw(&[b"GET", b"k"]), Frame::bulk_from_slice(b"XY\0\0\0ab"));
    assert_eq!(h.call(&["SETRANGE", "nope", "3", ""]), int(0));
    assert_eq!(h.call(&["EXISTS", "nope"]), int(0));
    assert_eq!(h.call(&["SETRANGE", "k", "100", ""]), int(7));
    assert_eq!(h.call(&["SETRANGE", "k", "-1", "x"]), err("ERR offset is out of range"));
    let too_big = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
    assert_eq!(h.call(&["SETRANGE", "k", "536870912", "x"]), err(too_big));
    assert_eq!(h.call(&["SETRANGE", "k", "9223372036854775807", "x"]), err(too_big));
    h.call(&["SET", "e", "abc"]);
    assert_eq!(h.call(&["SETRANGE", "e", "0", ""]), int(3));
    assert_eq!(h.call(&["OBJECT", "ENCODING", "e"]), bulk("embstr"));
    h.call(&["SET", "n", "12345", "EX", "100"]);
    assert_eq!(h.call(&["SETRANGE", "n", "1", "9"]), int(5));
    assert_eq!(h.call(&["GET", "n"]), bulk("19345"));
    assert_eq!(h.call(&["TTL", "n"]), int(100));
}

fn range(a: (i64, i64), b: (i64, i64), len: Option<i64>) -> Frame {
    let mut v = vec![arr(vec![int(a.0), int(a.1)]), arr(vec![int(b.0), int(b.1)])];
    v.extend(len.map(int));
    arr(v)
}

fn idx_reply(matches: Vec<Frame>, len: i64) -> Frame {
    Frame::Map(vec![(bulk("matches"), arr(matches)), (bulk("len"), int(len))])
}

#[test]
fn lcs_variants() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["MSET", "{k}1", "ohmytext", "{k}2", "mynewtext"]), ok());
    assert_eq!(h.call(&["LCS", "{k}1", "{k}2"]), bulk("mytext"));
    assert_eq!(h.call(&["LCS", "{k}1", "{k}2", "LEN"]), int(6));
    assert_eq!(h.call(&["LCS", "{k}1", "{k}2", "LEN", "LEN"]), int(6));
    let all = vec![range((4, 7), (5, 8), None), range((2, 3), (0, 1), None)];
    assert_eq!(h.call(&["LCS", "{k}1", "{k}2", "IDX"]), idx_reply(all, 6));
    let long = vec![range((4, 7), (5, 8), Some(4))];
    assert_eq!(h.call(&["LCS", "{k}1", "{k}2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]), idx_reply(long, 6));
    let neg = vec![range((4, 7), (5, 8), Some(4)), range((2, 3), (0, 1), Some(2))];
    assert_eq!(h.call(&["LCS", "{k}1", "{k}2", "IDX", "WITHMATCHLEN", "MINMATCHLEN", "-5"]), idx_reply(neg, 6));
    assert_eq!(h.call(&["LCS", "{k}x", "{k}2", "IDX"]), idx_reply(vec![], 0));
    assert_eq!(
        h.call(&["LCS", "{k}1", "{k}2", "IDX", "LEN"]),
        err("ERR If you want both the length and indexes, please just use IDX.")
    );
    assert_eq!(h.call(&["LCS", "{k}1", "{k}2", "MINMATCHLEN"]), err("ERR syntax error"));
    assert_eq!(h.call(&["LCS", "{k}1", "{k}2", "MINMATCHLEN", "x"]), err(NOT_INT));
    assert_eq!(h.call(&["LCS", "{k}1", "{k}2", "FOO"]), err("ERR syntax error"));
    h.call(&["SET", "{k}n", "12345"]);
    assert_eq!(h.call(&["LCS", "{k}n", "{k}2"]), bulk(""));
}

#[test]
fn lcs_memory_limit() {
    let mut h = Harness::new();
    let a = "a".repeat(12_000);
    h.call(&["MSET", "{k}a", &a, "{k}b", &a]);
    assert_eq!(
        h.call(&["LCS", "{k}a", "{k}b"]),
        err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
    );
}
