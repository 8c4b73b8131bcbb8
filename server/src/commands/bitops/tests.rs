//! Tests of the bitmap commands through `commands::execute`, with the replies redis-server
//! 7.0.15 gives.

use crate::commands::keys::testkit::{arr, bulk, err, int, nil, Harness};

const BAD_OFFSET: &str = "ERR bit offset is not an integer or out of range";

#[test]
fn setbit_getbit() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["SETBIT", "k", "7", "1"]), int(0));
    assert_eq!(h.call(&["SETBIT", "k", "7", "1"]), int(1));
    assert_eq!(h.call(&["GET", "k"]), bulk("\u{1}"));
    assert_eq!(h.call(&["GETBIT", "k", "7"]), int(1));
    assert_eq!(h.call(&["GETBIT", "k", "100"]), int(0));
    assert_eq!(h.call(&["GETBIT", "nokey", "0"]), int(0));
    assert_eq!(h.call(&["SETBIT", "k", "-1", "1"]), err(BAD_OFFSET));
    assert_eq!(h.call(&["SETBIT", "k", "4294967296", "1"]), err(BAD_OFFSET));
    assert_eq!(h.call(&["GETBIT", "k", "4294967296"]), err(BAD_OFFSET));
    assert_eq!(h.call(&["SETBIT", "k", "0", "2"]), err("ERR bit is not an integer or out of range"));
    assert_eq!(h.call(&["SET", "n", "1"]), crate::commands::keys::testkit::ok());
    assert_eq!(h.call(&["GETBIT", "n", "2"]), int(1));
    assert_eq!(h.call(&["SETBIT", "n", "6", "1"]), int(0));
    assert_eq!(h.call(&["GET", "n"]), bulk("3"));
    assert_eq!(h.call(&["OBJECT", "ENCODING", "n"]), bulk("raw"));
    h.call(&["LPUSH", "l", "a"]);
    assert!(matches!(h.call(&["SETBIT", "l", "0", "1"]), slotbox_protocol::Frame::Error(_)));
}

#[test]
fn bitcount_and_bitpos() {
    let mut h = Harness::new();
    h.call(&["SET", "s", "foobar"]);
    assert_eq!(h.call(&["BITCOUNT", "s"]), int(26));
    assert_eq!(h.call(&["BITCOUNT", "s", "1", "1"]), int(6));
    assert_eq!(h.call(&["BITCOUNT", "s", "5", "30", "BIT"]), int(17));
    assert_eq!(h.call(&["BITCOUNT", "s", "-1", "-2"]), int(0));
    assert_eq!(h.call(&["BITCOUNT", "s", "1"]), err("ERR syntax error"));
    assert_eq!(h.call(&["BITCOUNT", "s", "0", "1", "BOT"]), err("ERR syntax error"));
    h.call_raw(&[b"SET", b"p", b"\xff\xf0\x00"]);
    assert_eq!(h.call(&["BITPOS", "p", "0"]), int(12));
    h.call_raw(&[b"SET", b"p", b"\x00\xff\xf0"]);
    assert_eq!(h.call(&["BITPOS", "p", "1", "0"]), int(8));
    assert_eq!(h.call(&["BITPOS", "p", "1", "2"]), int(16));
    assert_eq!(h.call(&["BITPOS", "p", "1", "2", "-1", "BYTE"]), int(16));
    assert_eq!(h.call(&["BITPOS", "p", "1", "7", "15", "BIT"]), int(8));
    h.call_raw(&[b"SET", b"p", b"\xff\xff\xff"]);
    assert_eq!(h.call(&["BITPOS", "p", "0"]), int(24));
    assert_eq!(h.call(&["BITPOS", "p", "0", "0", "-1"]), int(-1));
    assert_eq!(h.call(&["BITPOS", "p", "0", "3", "BIT"]), err("ERR value is not an integer or out of range"));
    assert_eq!(h.call(&["BITPOS", "none", "0"]), int(0));
    assert_eq!(h.call(&["BITPOS", "none", "1"]), int(-1));
    assert_eq!(h.call(&["BITPOS", "p", "2"]), err("ERR The bit argument must be 1 or 0."));
}

#[test]
fn bitop_variants() {
    let mut h = Harness::new();
    h.call(&["SET", "a", "abc"]);
    h.call(&["SET", "b", "a"]);
    assert_eq!(h.call(&["BITOP", "AND", "d", "a", "b"]), int(3));
    assert_eq!(h.call(&["GET", "d"]), bulk("a\u{0}\u{0}"));
    assert_eq!(h.call(&["BITOP", "OR", "d", "a", "b", "missing"]), int(3));
    assert_eq!(h.call(&["GET", "d"]), bulk("abc"));
    assert_eq!(h.call(&["BITOP", "XOR", "d", "a", "a"]), int(3));
    assert_eq!(h.call(&["GET", "d"]), bulk("\u{0}\u{0}\u{0}"));
    assert_eq!(h.call(&["BITOP", "NOT", "d", "a", "b"]), err("ERR BITOP NOT must be called with a single source key."));
    assert_eq!(h.call(&["BITOP", "NAND", "d", "a"]), err("ERR syntax error"));
    assert_eq!(h.call(&["BITOP", "AND", "d", "x", "y"]), int(0));
    assert_eq!(h.call(&["EXISTS", "d"]), int(0));
    h.call(&["LPUSH", "l", "a"]);
    assert!(matches!(h.call(&["BITOP", "OR", "d", "a", "l"]), slotbox_protocol::Frame::Error(_)));
}

#[test]
fn bitfield_ops() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["BITFIELD", "k", "SET", "i8", "0", "-100", "GET", "i8", "0"]), arr(vec![int(0), int(-100)]));
    assert_eq!(
        h.call(&["BITFIELD", "k", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1"]),
        arr(vec![int(1), int(1)])
    );
    assert_eq!(h.call(&["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "-100"]), arr(vec![nil()]));
    assert_eq!(h.call(&["BITFIELD", "k", "SET", "i8", "#1", "5", "GET", "u8", "8"]), arr(vec![int(0), int(5)]));
    assert_eq!(h.call(&["BITFIELD_RO", "k", "GET", "i8", "0"]), arr(vec![int(-100)]));
    assert_eq!(
        h.call(&["BITFIELD_RO", "k", "SET", "i8", "0", "1"]),
        err("ERR BITFIELD_RO only supports the GET subcommand")
    );
    let bad_type = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
    assert_eq!(h.call(&["BITFIELD", "k", "GET", "u64", "0"]), err(bad_type));
    assert_eq!(h.call(&["BITFIELD", "k", "GET", "i65", "0"]), err(bad_type));
    assert_eq!(h.call(&["BITFIELD", "k", "OVERFLOW", "FOO"]), err("ERR Invalid OVERFLOW type specified"));
    assert_eq!(h.call(&["BITFIELD", "k", "GET", "i8"]), err("ERR syntax error"));
    assert_eq!(h.call(&["BITFIELD", "k", "GET", "i8", "-1"]), err(BAD_OFFSET));
    assert_eq!(h.call(&["BITFIELD", "none", "GET", "u63", "0"]), arr(vec![int(0)]));
    assert_eq!(h.call(&["EXISTS", "none"]), int(0));
}

#[test]
fn unchanged_setbit_does_not_break_watch() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["SETBIT", "w", "3", "1"]), int(0));
    assert_eq!(h.call(&["WATCH", "w"]), crate::commands::keys::testkit::ok());
    assert_eq!(h.call(&["SETBIT", "w", "3", "1"]), int(1));
    assert_eq!(h.call(&["SETBIT", "w", "2", "0"]), int(0));
    h.call(&["MULTI"]);
    h.call(&["GETBIT", "w", "3"]);
    assert_eq!(h.call(&["EXEC"]), arr(vec![int(1)]));
    h.call(&["WATCH", "w"]);
    assert_eq!(h.call(&["SETBIT", "w", "2", "1"]), int(0));
    h.call(&["MULTI"]);
    h.call(&["GETBIT", "w", "3"]);
    assert_eq!(h.call(&["EXEC"]), slotbox_protocol::Frame::NullArray);
}

#[test]
fn unchanged_bitfield_does_not_break_watch() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["BITFIELD", "w", "SET", "u8", "0", "5"]), arr(vec![int(0)]));
    h.call(&["WATCH", "w"]);
    let same = h.call(&[
        "BITFIELD", "w", "SET", "u8", "0", "5", "GET", "u4", "4", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300",
    ]);
    assert_eq!(same, arr(vec![int(5), int(5), nil()]));
    h.call(&["MULTI"]);
    h.call(&["GET", "w"]);
    assert_eq!(h.call(&["EXEC"]), arr(vec![bulk("\u{5}")]));
    h.call(&["WATCH", "w"]);
    assert_eq!(h.call(&["BITFIELD", "w", "INCRBY", "u8", "0", "0", "SET", "u8", "0", "6"]), arr(vec![int(5), int(5)]));
    h.call(&["MULTI"]);
    h.call(&["GET", "w"]);
    assert_eq!(h.call(&["EXEC"]), slotbox_protocol::Frame::NullArray);
    assert_eq!(h.call(&["GET", "w"]), bulk("\u{6}"));
}
