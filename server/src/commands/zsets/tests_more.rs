//! Tests of the set operations, ZSCAN, ZRANDMEMBER, keyspace statistics and a randomized
//! comparison of the skiplist-encoded range commands against a naive model.

use crate::commands::keys::testkit::{arr, bulk, err, int, nil, Harness};
use slotbox_protocol::Frame;

fn flat(items: &[(&str, f64)]) -> Frame {
    arr(items.iter().flat_map(|(m, s)| [bulk(m), Frame::Double(*s)]).collect())
}

#[test]
fn set_operations() {
    let mut h = Harness::new();
    h.call(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    h.call(&["ZADD", "y", "10", "b", "20", "d"]);
    h.call(&["SADD", "st", "a", "x"]);
    assert_eq!(h.call(&["ZUNION", "0", "z"]), err("ERR at least 1 input key is needed for 'zunion' command"));
    assert_eq!(
        h.call(&["ZUNIONSTORE", "d", "0", "z"]),
        err("ERR at least 1 input key is needed for 'zunionstore' command")
    );
    assert_eq!(h.call(&["ZUNION", "3", "z", "y"]), err("ERR syntax error"));
    assert_eq!(h.call(&["ZUNION", "2", "z", "y", "WEIGHTS", "1", "x"]), err("ERR weight value is not a float"));
    assert_eq!(h.call(&["ZDIFF", "2", "z", "y", "WEIGHTS", "1", "1"]), err("ERR syntax error"));
    assert_eq!(h.call(&["ZUNIONSTORE", "d", "1", "z", "WITHSCORES"]), err("ERR syntax error"));
    let u = h.call(&["ZUNION", "2", "z", "st", "WITHSCORES"]);
    assert_eq!(u, flat(&[("x", 1.0), ("a", 2.0), ("b", 2.0), ("c", 3.0)]));
    let u = h.call(&["ZUNION", "2", "z", "y", "WEIGHTS", "2", "3", "AGGREGATE", "MAX", "WITHSCORES"]);
    assert_eq!(u, flat(&[("a", 2.0), ("c", 6.0), ("b", 30.0), ("d", 60.0)]));
    assert_eq!(h.call(&["ZINTER", "2", "z", "y", "WITHSCORES"]), flat(&[("b", 12.0)]));
    assert_eq!(h.call(&["ZDIFF", "2", "z", "y"]), arr(vec![bulk("a"), bulk("c")]));
    h.call(&["ZADD", "i1", "inf", "a", "-inf", "b"]);
    h.call(&["ZADD", "i2", "-inf", "a", "inf", "b"]);
    assert_eq!(h.call(&["ZUNION", "2", "i1", "i2", "WITHSCORES"]), flat(&[("a", 0.0), ("b", 0.0)]));
    let w = h.call(&["ZINTER", "2", "i1", "i2", "WEIGHTS", "0", "1", "AGGREGATE", "MIN", "WITHSCORES"]);
    assert_eq!(w, flat(&[("a", f64::NEG_INFINITY), ("b", 0.0)]));
    assert_eq!(h.call(&["ZUNIONSTORE", "d", "2", "z", "y"]), int(4));
    assert_eq!(h.call(&["ZINTERSTORE", "d", "2", "z", "nokey"]), int(0));
    assert_eq!(h.call(&["EXISTS", "d"]), int(0));
    assert_eq!(h.call(&["ZINTERCARD", "2", "z", "st"]), int(1));
    assert_eq!(h.call(&["ZINTERCARD", "1", "z", "LIMIT", "2"]), int(2));
    assert_eq!(h.call(&["ZINTERCARD", "1", "z", "LIMIT", "-1"]), err("ERR LIMIT can't be negative"));
    assert_eq!(h.call(&["ZINTERSTORE", "z", "2", "z", "y", "WEIGHTS", "1", "0.5"]), int(1));
    assert_eq!(h.call(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]), flat(&[("b", 7.0)]));
}

#[test]
fn zscan_formats_like_redis() {
    let mut h = Harness::new();
    h.call(&["ZADD", "z", "1.5", "a", "123456789012345678", "b", "1e19", "c", "-0", "d"]);
    let reply = h.call(&["ZSCAN", "z", "0", "MATCH", "[abc]"]);
    let items = ["a", "1.5", "b", "123456789012345680", "c", "1e+19"];
    let expect = arr(vec![bulk("0"), arr(items.iter().map(|s| bulk(s)).collect())]);
    assert_eq!(reply, expect);
    // A listpack reads -0 back as 0; the skiplist keeps the sign.
    assert!(matches!(h.call(&["ZSCORE", "z", "d"]), Frame::Double(x) if x == 0.0 && x.is_sign_positive()));
    assert_eq!(h.call(&["ZSCAN", "z", "x"]), err("ERR invalid cursor"));
    assert_eq!(h.call(&["ZSCAN", "z", "0", "COUNT", "0"]), err("ERR syntax error"));
    assert_eq!(h.call(&["ZSCAN", "nokey", "0", "FOO"]), arr(vec![bulk("0"), arr(vec![])]));
    h.call(&["ZADD", "big", "1", &"x".repeat(65), "123456789012345678", "b", "-0", "d"]);
    let reply = h.call(&["ZSCAN", "big", "-1", "MATCH", "b"]);
    assert_eq!(reply, arr(vec![bulk("0"), arr(vec![bulk("b"), bulk("1.2345678901234568e+17")])]));
    assert!(matches!(h.call(&["ZSCORE", "big", "d"]), Frame::Double(x) if x == 0.0 && x.is_sign_negative()));
}

/// A stored result too big for a listpack keeps a -0 score where Redis's does: the set
/// operations build a skiplist and pack it only if it fits, ZRANGESTORE by rank knows its
/// count up front, ZRANGESTORE by score grows a listpack that converts once full.
#[test]
fn stored_results_keep_negative_zero_when_big() {
    let mut h = Harness::new();
    let mut add = vec!["ZADD".to_string(), "big".to_string()];
    for i in 1..=129 {
        add.extend([i.to_string(), format!("m{i}")]);
    }
    h.call(&add.iter().map(String::as_str).collect::<Vec<_>>());
    h.call(&["ZADD", "big", "-0", "neg"]);
    h.call(&["ZADD", "one", "5", "a"]);
    let neg = |f: Frame| matches!(f, Frame::Double(x) if x == 0.0 && x.is_sign_negative());
    for store in [
        vec!["ZUNIONSTORE", "d", "2", "big", "one"],
        vec!["ZINTERSTORE", "d", "1", "big"],
        vec!["ZDIFFSTORE", "d", "2", "big", "one"],
        vec!["ZRANGESTORE", "d", "big", "0", "-1"],
    ] {
        h.call(&store);
        assert!(neg(h.call(&["ZSCORE", "d", "neg"])), "{store:?}");
    }
    // Fewer, or by score (a count not known up front): grown in a listpack, which reads 0.
    for store in [vec!["ZRANGESTORE", "d", "big", "0", "3"], vec!["ZRANGESTORE", "d", "big", "-inf", "+inf", "BYSCORE"]]
    {
        h.call(&store);
        assert!(
            matches!(h.call(&["ZSCORE", "d", "neg"]), Frame::Double(x) if x == 0.0 && x.is_sign_positive()),
            "{store:?}"
        );
    }
}

#[test]
fn zrandmember_counts() {
    let mut h = Harness::new();
    assert_eq!(h.call(&["ZRANDMEMBER", "nokey"]), nil());
    assert_eq!(h.call(&["ZRANDMEMBER", "nokey", "3"]), arr(vec![]));
    let members: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
    for (i, m) in members.iter().enumerate() {
        h.call(&["ZADD", "z", &i.to_string(), m]);
    }
    for count in ["10", "20", "49", "50", "60"] {
        let Frame::Array(items) = h.call(&["ZRANDMEMBER", "z", count]) else { panic!("array") };
        let mut seen: Vec<_> = items.iter().map(|f| f.as_bytes().unwrap().to_vec()).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), count.parse::<usize>().unwrap().min(50), "count {count}");
    }
    let Frame::Array(items) = h.call(&["ZRANDMEMBER", "z", "-100", "WITHSCORES"]) else { panic!("array") };
    assert_eq!(items.len(), 200);
    assert_eq!(h.call(&["ZRANDMEMBER", "z", "1", "x"]), err("ERR syntax error"));
    assert_eq!(h.call(&["ZRANDMEMBER", "z", "4611686018427387904", "WITHSCORES"]), err("ERR value is out of range"));
}

#[test]
fn keyspace_stats_follow_redis() {
    let mut h = Harness::new();
    h.call(&["ZADD", "z", "1", "a"]);
    let before = h.hits_misses();
    h.call(&["ZPOPMIN", "nokey"]);
    h.call(&["ZREM", "z", "x"]);
    h.call(&["ZINCRBY", "z", "1", "a"]);
    assert_eq!(h.hits_misses(), before);
    h.call(&["ZUNIONSTORE", "d", "2", "z", "nokey"]);
    h.call(&["ZSCORE", "z", "a"]);
    assert_eq!(h.hits_misses(), (before.0 + 2, before.1 + 1));
}

/// A naive sorted set: (score, member) pairs kept sorted.
fn model_sorted(model: &[(f64, String)]) -> Vec<(f64, String)> {
    let mut v = model.to_vec();
    v.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap().then_with(|| a.1.cmp(&b.1)));
    v
}

#[test]
fn skiplist_ranges_match_a_naive_model() {
    let mut h = Harness::new();
    let mut model: Vec<(f64, String)> = Vec::new();
    for i in 0..600u64 {
        let score = ((i * 7919) % 97) as f64 / 4.0;
        let member = format!("k{:04}", (i * 31) % 1000);
        h.call(&["ZADD", "z", &score.to_string(), &member]);
        model.retain(|(_, m)| *m != member);
        model.push((score, member));
    }
    assert_eq!(h.call(&["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    let sorted = model_sorted(&model);
    for (rank, (_, m)) in sorted.iter().enumerate().step_by(37) {
        assert_eq!(h.call(&["ZRANK", "z", m]), int(rank as i64));
        assert_eq!(h.call(&["ZREVRANK", "z", m]), int((sorted.len() - 1 - rank) as i64));
    }
    let inside: Vec<_> = sorted.iter().filter(|(s, _)| *s > 3.0 && *s <= 9.5).collect();
    let expect: Vec<Frame> = inside.iter().skip(5).take(20).map(|(_, m)| bulk(m)).collect();
    assert_eq!(h.call(&["ZRANGEBYSCORE", "z", "(3", "9.5", "LIMIT", "5", "20"]), arr(expect));
    let expect: Vec<Frame> = inside.iter().rev().skip(3).take(4).map(|(_, m)| bulk(m)).collect();
    assert_eq!(h.call(&["ZREVRANGEBYSCORE", "z", "9.5", "(3", "LIMIT", "3", "4"]), arr(expect));
    assert_eq!(h.call(&["ZCOUNT", "z", "(3", "9.5"]), int(inside.len() as i64));
    let expect: Vec<Frame> = sorted[100..=110].iter().map(|(_, m)| bulk(m)).collect();
    assert_eq!(h.call(&["ZRANGE", "z", "100", "110"]), arr(expect));
    assert_eq!(h.call(&["ZREMRANGEBYSCORE", "z", "(3", "9.5"]), int(inside.len() as i64));
    let rest: Vec<_> = sorted.iter().filter(|(s, _)| !(*s > 3.0 && *s <= 9.5)).collect();
    let expect: Vec<Frame> = rest[200..205].iter().map(|(_, m)| bulk(m)).collect();
    assert_eq!(h.call(&["ZRANGE", "z", "200", "204"]), arr(expect));
    assert_eq!(h.call(&["ZREMRANGEBYRANK", "z", "0", "-1"]), int(rest.len() as i64));
    assert_eq!(h.call(&["EXISTS", "z"]), int(0));
}
