//! Unit tests of the non-blocking list commands: replies and errors checked against
//! redis-server 7.0.15, key deletion when a list empties, WATCH only broken by real changes.

use crate::commands::keys::testkit::{arr, bulk, err, int, nil, ok, Harness};
use slotbox_protocol::Frame;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn bulks(items: &[&str]) -> Frame {
    arr(items.iter().map(|s| bulk(s)).collect())
}

fn ints(items: &[i64]) -> Frame {
    arr(items.iter().map(|&i| int(i)).collect())
}

fn setup(h: &mut Harness, key: &str, items: &[&str]) {
    let mut args = vec!["rpush", key];
    args.extend_from_slice(items);
    h.call(&args);
}

#[test]
fn push_and_range() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["lpush", "l", "a", "b", "c"]), int(3));
    assert_eq!(h.call(&["rpush", "l", "x"]), int(4));
    assert_eq!(h.call(&["lrange", "l", "0", "-1"]), bulks(&["c", "b", "a", "x"]));
    assert_eq!(h.call(&["lrange", "l", "-100", "100"]), bulks(&["c", "b", "a", "x"]));
    assert_eq!(h.call(&["lrange", "l", "-3", "-2"]), bulks(&["b", "a"]));
    assert_eq!(h.call(&["lrange", "l", "2", "1"]), arr(vec![]));
    let extremes = ["lrange", "l", "-9223372036854775808", "9223372036854775807"];
    assert_eq!(h.call(&extremes), bulks(&["c", "b", "a", "x"]));
    assert_eq!(h.call(&["lrange", "nokey", "x", "1"]), err("ERR value is not an integer or out of range"));
    assert_eq!(h.call(&["lrange", "nokey", "0", "-1"]), arr(vec![]));
    assert_eq!(h.call(&["object", "encoding", "l"]), bulk("quicklist"));
    assert_eq!(h.call(&["type", "l"]), Frame::simple_static("list"));
}

#[test]
fn pushx_never_creates() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["lpushx", "l", "a"]), int(0));
    assert_eq!(h.call(&["rpushx", "l", "a"]), int(0));
    assert_eq!(h.call(&["exists", "l"]), int(0));
    setup(&mut h, "l", &["a"]);
    assert_eq!(h.call(&["rpushx", "l", "b", "c"]), int(3));
    assert_eq!(h.call(&["lpushx", "l", "z"]), int(4));
    assert_eq!(h.call(&["lrange", "l", "0", "-1"]), bulks(&["z", "a", "b", "c"]));
}

#[test]
fn wrongtype_everywhere() {
    let mut h = Harness::new();
    h.call(&["set", "s", "x"]);
    for cmd in [
        &["lpush", "s", "a"][..],
        &["rpushx", "s", "a"],
        &["llen", "s"],
        &["lrange", "s", "0", "1"],
        &["lindex", "s", "abc"],
        &["lset", "s", "abc", "x"],
        &["linsert", "s", "before", "a", "b"],
        &["lrem", "s", "0", "x"],
        &["ltrim", "s", "0", "1"],
        &["lpos", "s", "a"],
        &["lpop", "s", "0"],
        &["rpop", "s"],
        &["lmove", "s", "l", "left", "right"],
        &["rpoplpush", "s", "l"],
        &["lmpop", "2", "nokey", "s", "left"],
    ] {
        assert_eq!(h.call(cmd), err(WRONGTYPE), "{cmd:?}");
    }
    // The count is checked before the key, and the type before the empty-count fast path.
    assert_eq!(h.call(&["lpop", "s", "-1"]), err("ERR value is out of range, must be positive"));
}

#[test]
fn pop_with_count() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["lpop", "nokey"]), nil());
    assert_eq!(h.call(&["lpop", "nokey", "0"]), Frame::NullArray);
    assert_eq!(h.call(&["lpop", "nokey", "abc"]), err("ERR value is out of range, must be positive"));
    assert_eq!(h.call(&["lpop", "a", "1", "2"]), err("ERR wrong number of arguments for 'lpop' command"));
    setup(&mut h, "l", &["a", "b", "c", "d"]);
    assert_eq!(h.call(&["lpop", "l", "0"]), arr(vec![]));
    assert_eq!(h.call(&["lpop", "l"]), bulk("a"));
    assert_eq!(h.call(&["rpop", "l", "2"]), bulks(&["d", "c"]));
    assert_eq!(h.call(&["rpop", "l", "10"]), bulks(&["b"]));
    assert_eq!(h.call(&["exists", "l"]), int(0));
}

#[test]
fn lindex_and_lset() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["lindex", "nokey", "abc"]), nil());
    assert_eq!(h.call(&["lset", "nokey", "abc", "x"]), err("ERR no such key"));
    setup(&mut h, "l", &["a", "b", "c"]);
    assert_eq!(h.call(&["lindex", "l", "abc"]), err("ERR value is not an integer or out of range"));
    assert_eq!(h.call(&["lindex", "l", "-1"]), bulk("c"));
    assert_eq!(h.call(&["lindex", "l", "-4"]), nil());
    assert_eq!(h.call(&["lindex", "l", "3"]), nil());
    assert_eq!(h.call(&["lset", "l", "3", "x"]), err("ERR index out of range"));
    assert_eq!(h.call(&["lset", "l", "-3", "z"]), ok());
    assert_eq!(h.call(&["lrange", "l", "0", "-1"]), bulks(&["z", "b", "c"]));
}

#[test]
fn linsert_cases() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["linsert", "nokey", "foo", "a", "b"]), err("ERR syntax error"));
    assert_eq!(h.call(&["linsert", "nokey", "before", "a", "b"]), int(0));
    assert_eq!(h.call(&["exists", "nokey"]), int(0));
    setup(&mut h, "l", &["a", "b", "c"]);
    assert_eq!(h.call(&["linsert", "l", "before", "zz", "x"]), int(-1));
    assert_eq!(h.call(&["linsert", "l", "AFTER", "a", "Q"]), int(4));
    assert_eq!(h.call(&["linsert", "l", "Before", "a", "P"]), int(5));
    assert_eq!(h.call(&["linsert", "l", "after", "c", "Z"]), int(6));
    assert_eq!(h.call(&["lrange", "l", "0", "-1"]), bulks(&["P", "a", "Q", "b", "c", "Z"]));
}

#[test]
fn lrem_directions() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["lrem", "nokey", "abc", "x"]), err("ERR value is not an integer or out of range"));
    setup(&mut h, "l", &["a", "b", "a", "c", "a", "a"]);
    assert_eq!(h.call(&["lrem", "l", "-1", "a"]), int(1));
    assert_eq!(h.call(&["lrange", "l", "0", "-1"]), bulks(&["a", "b", "a", "c", "a"]));
    assert_eq!(h.call(&["lrem", "l", "2", "a"]), int(2));
    assert_eq!(h.call(&["lrange", "l", "0", "-1"]), bulks(&["b", "c", "a"]));
    assert_eq!(h.call(&["lrem", "l", "0", "zz"]), int(0));
    assert_eq!(h.call(&["lrem", "l", "-9223372036854775808", "b"]), int(1));
    assert_eq!(h.call(&["lrem", "l", "0", "c"]), int(1));
    assert_eq!(h.call(&["lrem", "l", "0", "a"]), int(1));
    assert_eq!(h.call(&["exists", "l"]), int(0));
}

#[test]
fn ltrim_cases() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["ltrim", "nokey", "abc", "1"]), err("ERR value is not an integer or out of range"));
    assert_eq!(h.call(&["ltrim", "nokey", "0", "1"]), ok());
    setup(&mut h, "l", &["a", "b", "c", "d", "e"]);
    assert_eq!(h.call(&["ltrim", "l", "1", "-2"]), ok());
    assert_eq!(h.call(&["lrange", "l", "0", "-1"]), bulks(&["b", "c", "d"]));
    assert_eq!(h.call(&["ltrim", "l", "-100", "100"]), ok());
    assert_eq!(h.call(&["llen", "l"]), int(3));
    assert_eq!(h.call(&["ltrim", "l", "5", "10"]), ok());
    assert_eq!(h.call(&["exists", "l"]), int(0));
}

#[test]
fn lpos_options() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["lpos", "nokey", "a"]), nil());
    assert_eq!(h.call(&["lpos", "nokey", "a", "count", "0"]), arr(vec![]));
    setup(&mut h, "l", &["a", "b", "c", "a", "b", "c", "a"]);
    assert_eq!(h.call(&["lpos", "l", "a"]), int(0));
    assert_eq!(h.call(&["lpos", "l", "a", "count", "0"]), ints(&[0, 3, 6]));
    assert_eq!(h.call(&["lpos", "l", "a", "rank", "-1"]), int(6));
    assert_eq!(h.call(&["lpos", "l", "a", "rank", "-2", "count", "0"]), ints(&[3, 0]));
    assert_eq!(h.call(&["lpos", "l", "a", "rank", "2", "count", "2", "maxlen", "5"]), ints(&[3]));
    assert_eq!(h.call(&["lpos", "l", "a", "maxlen", "1", "rank", "-1"]), int(6));
    assert_eq!(h.call(&["lpos", "l", "a", "rank", "-9223372036854775808"]), int(6));
    let min_rank = ["lpos", "l", "a", "rank", "-9223372036854775808", "count", "2"];
    assert_eq!(h.call(&min_rank), ints(&[6, 3, 0]));
    assert_eq!(h.call(&["lpos", "l", "z"]), nil());
    assert_eq!(h.call(&["lpos", "l", "z", "count", "0"]), arr(vec![]));
}

#[test]
fn lpos_errors() {
    let mut h = Harness::new();
    setup(&mut h, "l", &["a"]);
    let rank0 = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second \
                 ... or use negative to start from the end of the list";
    assert_eq!(h.call(&["lpos", "l", "a", "rank", "0"]), err(rank0));
    assert_eq!(h.call(&["lpos", "l", "a", "rank", "1", "rank", "0"]), err(rank0));
    assert_eq!(h.call(&["lpos", "l", "a", "count", "-1"]), err("ERR COUNT can't be negative"));
    assert_eq!(h.call(&["lpos", "l", "a", "count", "x"]), err("ERR COUNT can't be negative"));
    assert_eq!(h.call(&["lpos", "l", "a", "maxlen", "-1"]), err("ERR MAXLEN can't be negative"));
    assert_eq!(h.call(&["lpos", "l", "a", "foo"]), err("ERR syntax error"));
    assert_eq!(h.call(&["lpos", "l", "a", "rank"]), err("ERR syntax error"));
    let not_int = err("ERR value is not an integer or out of range");
    assert_eq!(h.call(&["lpos", "l", "a", "rank", "x"]), not_int);
    // Options are checked before the key's type.
    h.call(&["set", "s", "x"]);
    assert_eq!(h.call(&["lpos", "s", "a", "rank", "0"]), err(rank0));
}

#[test]
fn lmove_and_rpoplpush() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["lmove", "nokey", "d", "left", "right"]), nil());
    assert_eq!(h.call(&["lmove", "nokey", "d", "up", "right"]), err("ERR syntax error"));
    setup(&mut h, "src", &["a", "b", "c"]);
    assert_eq!(h.call(&["lmove", "src", "d", "left", "right"]), bulk("a"));
    assert_eq!(h.call(&["lmove", "src", "d", "RIGHT", "LEFT"]), bulk("c"));
    assert_eq!(h.call(&["rpoplpush", "src", "d"]), bulk("b"));
    assert_eq!(h.call(&["exists", "src"]), int(0));
    assert_eq!(h.call(&["lrange", "d", "0", "-1"]), bulks(&["b", "c", "a"]));
    // The destination's type is only checked when there is something to move.
    h.call(&["set", "s", "x"]);
    assert_eq!(h.call(&["rpoplpush", "nokey", "s"]), nil());
    assert_eq!(h.call(&["rpoplpush", "d", "s"]), err(WRONGTYPE));
    assert_eq!(h.call(&["llen", "d"]), int(3));
}

#[test]
fn lmove_same_key_rotates_and_keeps_ttl() {
    let mut h = Harness::new();
    setup(&mut h, "one", &["x"]);
    h.call(&["expire", "one", "100"]);
    assert_eq!(h.call(&["lmove", "one", "one", "left", "right"]), bulk("x"));
    assert_eq!(h.call(&["lrange", "one", "0", "-1"]), bulks(&["x"]));
    assert_eq!(h.call(&["ttl", "one"]), int(100));
    setup(&mut h, "two", &["x", "y", "z"]);
    assert_eq!(h.call(&["rpoplpush", "two", "two"]), bulk("z"));
    assert_eq!(h.call(&["lrange", "two", "0", "-1"]), bulks(&["z", "x", "y"]));
}

#[test]
fn lmpop_parsing_and_replies() {
    let mut h = Harness::new();
    let numkeys = err("ERR numkeys should be greater than 0");
    assert_eq!(h.call(&["lmpop", "0", "l", "left"]), numkeys);
    assert_eq!(h.call(&["lmpop", "abc", "l", "left"]), numkeys);
    assert_eq!(h.call(&["lmpop", "3", "l", "left"]), err("ERR syntax error"));
    assert_eq!(h.call(&["lmpop", "9223372036854775807", "l", "left"]), err("ERR syntax error"));
    assert_eq!(h.call(&["lmpop", "1", "l", "middle"]), err("ERR syntax error"));
    let count = err("ERR count should be greater than 0");
    assert_eq!(h.call(&["lmpop", "1", "l", "left", "count", "0"]), count);
    assert_eq!(h.call(&["lmpop", "1", "l", "left", "count", "x"]), count);
    assert_eq!(h.call(&["lmpop", "1", "l", "left", "count", "2", "count", "2"]), err("ERR syntax error"));
    assert_eq!(h.call(&["lmpop", "1", "l", "left", "count"]), err("ERR syntax error"));
    assert_eq!(h.call(&["lmpop", "2", "a", "b", "left"]), Frame::NullArray);
    setup(&mut h, "l", &["a", "b", "c", "d", "e"]);
    let reply = h.call(&["lmpop", "2", "nokey", "l", "right", "COUNT", "2"]);
    assert_eq!(reply, arr(vec![bulk("l"), bulks(&["e", "d"])]));
    let reply = h.call(&["lmpop", "1", "l", "left", "count", "100"]);
    assert_eq!(reply, arr(vec![bulk("l"), bulks(&["a", "b", "c"])]));
    assert_eq!(h.call(&["exists", "l"]), int(0));
}

#[test]
fn watch_broken_only_by_real_changes() {
    let mut h = Harness::new();
    setup(&mut h, "l", &["a", "b"]);
    let exec_after = |h: &mut Harness, cmd: &[&str]| {
        h.call(&["watch", "l"]);
        h.call(cmd);
        h.call(&["multi"]);
        h.call(&["ping"]);
        h.call(&["exec"])
    };
    let pong = arr(vec![Frame::simple_static("PONG")]);
    assert_eq!(exec_after(&mut h, &["lrem", "l", "0", "zz"]), pong);
    assert_eq!(exec_after(&mut h, &["linsert", "l", "before", "zz", "x"]), pong);
    assert_eq!(exec_after(&mut h, &["lpop", "l", "0"]), pong);
    assert_eq!(exec_after(&mut h, &["lmove", "nokey", "l", "left", "left"]), pong);
    assert_eq!(exec_after(&mut h, &["lpos", "l", "a"]), pong);
    // Redis signals LTRIM's key even when nothing was trimmed.
    assert_eq!(exec_after(&mut h, &["ltrim", "l", "0", "-1"]), Frame::NullArray);
    assert_eq!(exec_after(&mut h, &["lset", "l", "0", "a"]), Frame::NullArray);
}

#[test]
fn read_commands_count_hits_and_misses() {
    let mut h = Harness::new();
    setup(&mut h, "l", &["a"]);
    let before = h.hits_misses();
    h.call(&["llen", "l"]);
    h.call(&["lrange", "nokey", "0", "-1"]);
    h.call(&["lpop", "nokey"]);
    let after = h.hits_misses();
    assert_eq!((after.0 - before.0, after.1 - before.1), (1, 1));
}
