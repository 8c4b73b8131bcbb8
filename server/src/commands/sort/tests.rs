//! SORT / SORT_RO through `commands::execute`, with the replies redis-server 7.0.15 gives
//! (checked against the real server).

use crate::commands::keys::testkit::{arr, bulk, err, int, nil, Harness};
use slotbox_protocol::Frame;

fn bulks(items: &[&str]) -> Frame {
    arr(items.iter().map(|s| bulk(s)).collect())
}

const NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

#[test]
fn numeric_alpha_desc_limit() {
    let mut h = Harness::new();
    h.call(&["RPUSH", "l", "3", "1", "2", "10"]);
    assert_eq!(h.call(&["SORT", "l"]), bulks(&["1", "2", "3", "10"]));
    assert_eq!(h.call(&["SORT", "l", "DESC"]), bulks(&["10", "3", "2", "1"]));
    assert_eq!(h.call(&["SORT", "l", "ALPHA"]), bulks(&["1", "10", "2", "3"]));
    assert_eq!(h.call(&["SORT", "l", "LIMIT", "1", "2"]), bulks(&["2", "3"]));
    assert_eq!(h.call(&["SORT", "l", "LIMIT", "-5", "2"]), bulks(&["1", "2"]));
    assert_eq!(h.call(&["SORT", "l", "LIMIT", "9", "2"]), bulks(&[]));
    assert_eq!(h.call(&["SORT_RO", "l", "DESC", "LIMIT", "0", "1"]), bulks(&["10"]));
    h.call(&["RPUSH", "l", "x"]);
    assert_eq!(h.call(&["SORT", "l"]), err(NOT_DOUBLE));
    assert_eq!(h.call(&["SORT", "nokey"]), bulks(&[]));
    h.call(&["SET", "s", "v"]);
    assert_eq!(h.call(&["SORT", "s"]), err("WRONGTYPE Operation against a key holding the wrong kind of value"));
    assert_eq!(h.call(&["SORT", "s", "foo"]), err("ERR syntax error"));
    assert_eq!(h.call(&["SORT_RO", "l", "STORE", "d"]), err("ERR syntax error"));
}

#[test]
fn by_and_get_patterns() {
    let mut h = Harness::new();
    h.call(&["RPUSH", "l", "a", "b", "c"]);
    h.call(&["MSET", "w_a", "3", "w_b", "1", "w_c", "2", "o_a", "A", "o_c", "C"]);
    h.call(&["HSET", "h_a", "f", "30"]);
    h.call(&["HSET", "h_b", "f", "10"]);
    assert_eq!(h.call(&["SORT", "l", "BY", "w_*"]), bulks(&["b", "c", "a"]));
    assert_eq!(h.call(&["SORT", "l", "BY", "h_*->f", "DESC"]), bulks(&["a", "b", "c"]));
    assert_eq!(
        h.call(&["SORT", "l", "BY", "w_*", "GET", "o_*", "GET", "#"]),
        arr(vec![nil(), bulk("b"), bulk("C"), bulk("c"), bulk("A"), bulk("a")])
    );
    assert_eq!(h.call(&["SORT", "l", "BY", "nosort", "DESC", "LIMIT", "0", "2"]), bulks(&["c", "b"]));
    assert_eq!(h.call(&["SORT", "l", "BY", "nosort", "GET", "h_*->f"]), arr(vec![bulk("30"), bulk("10"), nil()]));
    assert_eq!(h.call(&["SORT", "l", "BY", "nosort", "GET", "fixed"]), arr(vec![nil(), nil(), nil()]));
    assert_eq!(h.call(&["SORT", "l", "BY", "o_*", "ALPHA"]), bulks(&["b", "a", "c"]));
}

#[test]
fn store_replaces_the_destination_or_deletes_it() {
    let mut h = Harness::new();
    h.call(&["SADD", "s", "3", "1", "2"]);
    h.call(&["SET", "d", "old", "EX", "100"]);
    assert_eq!(h.call(&["SORT", "s", "STORE", "d"]), int(3));
    assert_eq!(h.call(&["LRANGE", "d", "0", "-1"]), bulks(&["1", "2", "3"]));
    assert_eq!(h.call(&["TTL", "d"]), int(-1));
    assert_eq!(h.call(&["SORT", "s", "GET", "nothing_*", "STORE", "d"]), int(3));
    assert_eq!(h.call(&["LRANGE", "d", "0", "-1"]), bulks(&["", "", ""]));
    assert_eq!(h.call(&["SORT", "nokey", "STORE", "d"]), int(0));
    assert_eq!(h.call(&["EXISTS", "d"]), int(0));
    // A set STOREd with nothing to sort is sorted ALPHA.
    h.call(&["SADD", "t", "b", "10", "a", "9"]);
    assert_eq!(h.call(&["SORT", "t", "BY", "nosort", "STORE", "d"]), int(4));
    assert_eq!(h.call(&["LRANGE", "d", "0", "-1"]), bulks(&["10", "9", "a", "b"]));
}

#[test]
fn sorted_sets_keep_score_order_without_sorting() {
    let mut h = Harness::new();
    h.call(&["ZADD", "z", "1", "c", "2", "a", "3", "b"]);
    assert_eq!(h.call(&["SORT", "z", "BY", "nosort"]), bulks(&["c", "a", "b"]));
    assert_eq!(h.call(&["SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "5"]), bulks(&["a", "c"]));
    assert_eq!(h.call(&["SORT", "z", "ALPHA"]), bulks(&["a", "b", "c"]));
}

#[test]
fn pattern_reads_count_hits_and_misses() {
    let mut h = Harness::new();
    h.call(&["RPUSH", "l", "a", "b"]);
    h.call(&["SET", "w_a", "1"]);
    let (hits, misses) = h.hits_misses();
    h.call(&["SORT", "l", "BY", "w_*"]);
    assert_eq!(h.hits_misses(), (hits + 2, misses + 1));
}
