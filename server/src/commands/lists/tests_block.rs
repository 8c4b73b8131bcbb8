//! Unit tests of the blocking list commands through the dispatcher: immediate serving, the
//! answers inside MULTI/EXEC, argument errors, and the re-run on a write (the blocked
//! client's reply goes nowhere here, but the list shows what it took).

use crate::commands::keys::testkit::{arr, bulk, err, int, nil, Harness};
use slotbox_protocol::Frame;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn bulks(items: &[&str]) -> Frame {
    arr(items.iter().map(|s| bulk(s)).collect())
}

#[test]
fn serves_at_once_when_a_list_has_elements() {
    let mut h = Harness::new();
    h.call(&["rpush", "b", "1", "2", "3"]);
    assert_eq!(h.call(&["blpop", "a", "b", "0"]), bulks(&["b", "1"]));
    assert_eq!(h.call(&["brpop", "a", "b", "0"]), bulks(&["b", "3"]));
    assert_eq!(h.call(&["blmove", "b", "c", "left", "right", "0"]), bulk("2"));
    assert_eq!(h.call(&["exists", "b"]), int(0));
    assert_eq!(h.call(&["brpoplpush", "c", "d", "0"]), bulk("2"));
    h.call(&["rpush", "m", "x", "y", "z"]);
    let reply = h.call(&["blmpop", "0", "2", "a", "m", "right", "count", "2"]);
    assert_eq!(reply, arr(vec![bulk("m"), bulks(&["z", "y"])]));
    assert!(h.shared.blocking.is_empty());
}

#[test]
fn argument_errors() {
    let mut h = Harness::new();
    let not_float = err("ERR timeout is not a float or out of range");
    assert_eq!(h.call(&["blpop", "k", "abc"]), not_float);
    assert_eq!(h.call(&["blpop", "k", "-1"]), err("ERR timeout is negative"));
    assert_eq!(h.call(&["blmove", "k", "d", "foo", "right", "abc"]), err("ERR syntax error"));
    assert_eq!(h.call(&["blmove", "k", "d", "left", "right", "abc"]), not_float);
    assert_eq!(h.call(&["brpoplpush", "k", "d", "abc"]), not_float);
    // BLMPOP checks numkeys, side and count before the timeout.
    let numkeys = err("ERR numkeys should be greater than 0");
    assert_eq!(h.call(&["blmpop", "abc", "0", "k", "left"]), numkeys);
    assert_eq!(h.call(&["blmpop", "abc", "1", "k", "left"]), not_float);
    assert!(h.shared.blocking.is_empty());
}

#[test]
fn wrong_type_answers_at_call_time() {
    let mut h = Harness::new();
    h.call(&["set", "s", "x"]);
    h.call(&["rpush", "l", "a"]);
    assert_eq!(h.call(&["blpop", "nokey", "s", "0"]), err(WRONGTYPE));
    assert_eq!(h.call(&["blpop", "s", "l", "0"]), err(WRONGTYPE));
    assert_eq!(h.call(&["blmove", "s", "l", "left", "left", "0"]), err(WRONGTYPE));
    assert_eq!(h.call(&["blmove", "l", "s", "left", "left", "0"]), err(WRONGTYPE));
    assert_eq!(h.call(&["blmpop", "0", "2", "s", "l", "left"]), err(WRONGTYPE));
    assert_eq!(h.call(&["llen", "l"]), int(1));
    assert!(h.shared.blocking.is_empty());
}

#[test]
fn inside_exec_the_timeout_reply_comes_at_once() {
    let mut h = Harness::new();
    h.call(&["multi"]);
    for cmd in [
        &["blpop", "k", "0"][..],
        &["brpop", "k", "0"],
        &["blmove", "k", "d", "left", "right", "0"],
        &["brpoplpush", "k", "d", "0"],
        &["blmpop", "0", "1", "k", "left"],
    ] {
        assert_eq!(h.call(cmd), Frame::queued());
    }
    let expected = vec![Frame::NullArray, Frame::NullArray, nil(), nil(), Frame::NullArray];
    assert_eq!(h.call(&["exec"]), arr(expected));
    assert!(h.shared.blocking.is_empty());
}

#[test]
fn a_push_reruns_the_blocked_command() {
    let mut h = Harness::new();
    h.call(&["blpop", "a", "b", "0"]);
    assert_eq!(h.shared.blocking.len(), 1);
    // The waiter pops the element as soon as it is pushed.
    assert_eq!(h.call(&["rpush", "b", "x", "y"]), int(2));
    assert!(h.shared.blocking.is_empty());
    assert_eq!(h.call(&["lrange", "b", "0", "-1"]), bulks(&["y"]));
}

#[test]
fn a_key_of_another_type_keeps_the_waiter_waiting() {
    let mut h = Harness::new();
    h.call(&["blmpop", "0", "2", "a", "b", "right", "count", "5"]);
    h.call(&["set", "a", "str"]);
    assert_eq!(h.shared.blocking.len(), 1);
    h.call(&["rpush", "b", "1", "2", "3"]);
    assert!(h.shared.blocking.is_empty());
    assert_eq!(h.call(&["exists", "b"]), int(0));
}

#[test]
fn blmove_waiter_feeds_the_next_waiter() {
    let mut h = Harness::new();
    h.call(&["blmove", "src", "dst", "left", "right", "0"]);
    h.call(&["brpop", "dst", "0"]);
    assert_eq!(h.shared.blocking.len(), 2);
    h.call(&["rpush", "src", "job"]);
    assert!(h.shared.blocking.is_empty());
    assert_eq!(h.call(&["exists", "src"]), int(0));
    assert_eq!(h.call(&["exists", "dst"]), int(0));
}

#[test]
fn blmove_into_a_wrong_type_leaves_the_element() {
    let mut h = Harness::new();
    h.call(&["blmove", "src", "dst", "left", "right", "0"]);
    h.call(&["set", "dst", "x"]);
    h.call(&["rpush", "src", "v"]);
    // The waiter got WRONGTYPE and is gone; the element stays in the source.
    assert!(h.shared.blocking.is_empty());
    assert_eq!(h.call(&["lrange", "src", "0", "-1"]), bulks(&["v"]));
}
