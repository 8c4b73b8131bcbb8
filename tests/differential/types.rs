//! The differential test's rows for the data types: hashes, lists, sets and sorted sets, over
//! the same key space as the string rows (so every type meets every other one and WRONGTYPE
//! paths are exercised). A child of `commands.rs`: it reuses its `args!` macro, [`row`] and the
//! [`Gen`] helpers.
//!
//! Rules that keep both servers deterministic:
//! - members, fields and values come from small sets, so hashes and sorted sets stay listpack
//!   and sets stay intset or a small hashtable: listpack replies (HKEYS, ZRANGE, ...) have a
//!   defined order and are compared byte for byte; set replies (SMEMBERS, SINTER, ...) have
//!   none and are compared sorted ([`Unordered`]);
//! - lex ranges (BYLEX, ZLEXCOUNT, ...) also run on sorted sets with mixed scores: for a small
//!   (listpack) set Redis answers by a linear walk, which slotbox reproduces;
//! - scores, weights and increments are exact in binary, so both servers print them alike;
//! - nothing random (SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER) and nothing blocking.
//!
//! Each family mostly works on a few "home" keys and only sometimes on any key (WRONGTYPE
//! replies): the string rows overwrite keys all the time, and the `del_home` row frees home
//! keys again so that most type commands meet a key of their type.

use super::Check::*;
use super::{row, with, Args, Entry, Gen, FLOAT_ARGS, INT_ARGS};
use rand::Rng;

/// Set, list and sorted-set members: integers (intset) and short strings.
const MEMBERS: &[&str] = &["a", "b", "c", "1", "2", "10", "-3"];

/// Hash fields.
const FIELDS: &[&str] = &["f1", "f2", "f3", "a", "1"];

/// ZADD / ZINCRBY scores and increments: exact in binary, plus invalid ones.
#[rustfmt::skip]
const SCORES: &[&str] = &[
    "1", "2", "-1", "1.5", "0", "3", "-2.5", "+inf", "-inf", "1", "2", "10", "0.25",
];

const BAD_SCORES: &[&str] = &["abc", "nan", "", "1e400", " 1", "1x"];

/// Score range bounds (ZCOUNT, ZRANGEBYSCORE, ...).
#[rustfmt::skip]
const SCORE_BOUNDS: &[&str] = &[
    "-inf", "+inf", "(1", "(2", "1", "2", "0", "-1", "1.5", "(1.5", "10", "inf", "(-inf",
    "abc", "(", "(abc",
];

/// Lex range bounds (ZLEXCOUNT, ZRANGEBYLEX, ...).
#[rustfmt::skip]
const LEX_BOUNDS: &[&str] = &[
    "-", "+", "[a", "(a", "[b", "(c", "[1", "[10", "(2", "[", "(", "a", "",
];

/// List / rank indexes.
#[rustfmt::skip]
const INDEXES: &[&str] = &[
    "0", "1", "2", "3", "-1", "-2", "-3", "5", "100", "-100", "abc",
];

/// COUNT / LIMIT arguments.
const COUNTS: &[&str] = &["1", "2", "3", "10", "0", "-1", "abc"];

/// Multipliers for WEIGHTS.
const WEIGHTS: &[&str] = &["1", "2", "-1", "0.5", "0", "inf", "abc"];

/// Keys each family prefers (so most of its commands find a key of its type; the rest of the
/// time any key, for WRONGTYPE paths). The sorted-set operations that accept sets
/// (ZUNIONSTORE, ZINTERCARD, ...) read from [`ZSET_SOURCES`], which mixes both.
const HASH_KEYS: &[&str] = &["k1", "k2"];
const LIST_KEYS: &[&str] = &["k3", "k4"];
const SET_KEYS: &[&str] = &["k5", "k6", "{t}a"];
const ZSET_KEYS: &[&str] = &["k7", "{t}b", "k0"];
const ZSET_SOURCES: &[&str] = &["k7", "{t}b", "k0", "k7", "{t}b", "k0", "k6", "{t}a"];

/// A key: usually one of the family's `home` keys, sometimes any key.
fn fkey(g: &mut Gen, home: &[&str]) -> Vec<u8> {
    if g.chance(0.9) {
        g.pick(home).into()
    } else {
        g.key()
    }
}

fn fkeys(g: &mut Gen, home: &[&str], max: usize) -> Vec<Vec<u8>> {
    let n = g.rng.gen_range(1..=max);
    (0..n).map(|_| fkey(g, home)).collect()
}

fn hk(g: &mut Gen) -> Vec<u8> {
    fkey(g, HASH_KEYS)
}

fn lk(g: &mut Gen) -> Vec<u8> {
    fkey(g, LIST_KEYS)
}

fn sk(g: &mut Gen) -> Vec<u8> {
    fkey(g, SET_KEYS)
}

fn zk(g: &mut Gen) -> Vec<u8> {
    fkey(g, ZSET_KEYS)
}

fn member(g: &mut Gen) -> Vec<u8> {
    g.pick(MEMBERS).into()
}

fn members(g: &mut Gen, max: usize) -> Vec<Vec<u8>> {
    let n = g.rng.gen_range(1..=max);
    (0..n).map(|_| member(g)).collect()
}

fn field(g: &mut Gen) -> Vec<u8> {
    g.pick(FIELDS).into()
}

/// A hash value: usually a small integer (so HINCRBY works), sometimes any edge case.
fn hvalue(g: &mut Gen) -> Vec<u8> {
    if g.chance(0.5) {
        g.pick(&["0", "1", "5", "-2", "10"]).into()
    } else {
        g.value()
    }
}

/// A list element: mostly a member (so LREM/LPOS/LINSERT find it), sometimes any value.
fn elem(g: &mut Gen) -> Vec<u8> {
    if g.chance(0.85) {
        member(g)
    } else {
        g.value()
    }
}

fn count(g: &mut Gen) -> Vec<u8> {
    g.pick(COUNTS).into()
}

fn index(g: &mut Gen) -> Vec<u8> {
    g.pick(INDEXES).into()
}

/// `numkeys key...`: usually consistent, sometimes wrong (0, too many, junk).
fn numkeys(g: &mut Gen, home: &[&str], max: usize) -> Vec<Vec<u8>> {
    let keys = fkeys(g, home, max);
    let n = match g.rng.gen_range(0..20) {
        0 => "0".to_string(),
        1 => "-1".to_string(),
        2 => "abc".to_string(),
        3 => (keys.len() + 2).to_string(),
        _ => keys.len().to_string(),
    };
    std::iter::once(n.into_bytes()).chain(keys).collect()
}

/// Optionally drop the last argument (wrong number of arguments, or a missing value).
fn maybe_truncate(g: &mut Gen, mut a: Args) -> Args {
    if g.chance(0.04) {
        a.pop();
    }
    a
}

/// Option groups, shuffled, sometimes with a broken one added.
fn options(g: &mut Gen, head: Args, groups: Vec<Vec<Vec<u8>>>, junk: &[&[&str]]) -> Args {
    super::finish_options(g, head, groups, junk)
}

fn opt(g: &mut Gen, name: &str, value: Vec<u8>) -> Vec<Vec<u8>> {
    vec![g.name(name), value]
}

// ---- hashes ----

fn hset(g: &mut Gen, name: &str) -> Args {
    let mut a = args!(g, name, hk(g));
    for _ in 0..g.rng.gen_range(1..=3) {
        a.push(field(g));
        a.push(hvalue(g));
    }
    maybe_truncate(g, a)
}

// ---- lists ----

fn push(g: &mut Gen) -> Args {
    let name = g.pick(&["LPUSH", "RPUSH", "RPUSH", "LPUSHX", "RPUSHX"]);
    let n = g.rng.gen_range(1..=4);
    let elems: Vec<Vec<u8>> = (0..n).map(|_| elem(g)).collect();
    with(args!(g, name, lk(g)), elems)
}

fn pop(g: &mut Gen) -> Args {
    let name = g.pick(&["LPOP", "RPOP"]);
    if g.chance(0.5) {
        args!(g, name, lk(g))
    } else {
        args!(g, name, lk(g), count(g))
    }
}

fn linsert(g: &mut Gen) -> Args {
    let place = g.pick(&["BEFORE", "AFTER", "BEFORE", "AFTER", "MIDDLE"]);
    args!(g, "LINSERT", lk(g), g.name(place), elem(g), elem(g))
}

fn lpos(g: &mut Gen) -> Args {
    let head = args!(g, "LPOS", lk(g), elem(g));
    let mut groups = Vec::new();
    if g.chance(0.4) {
        let rank = g.pick(&["1", "2", "-1", "-2", "3", "0", "abc"]);
        groups.push(opt(g, "RANK", rank.into()));
    }
    if g.chance(0.4) {
        let c = g.pick(&["0", "1", "2", "5", "-1"]);
        groups.push(opt(g, "COUNT", c.into()));
    }
    if g.chance(0.3) {
        let m = g.pick(&["0", "1", "2", "3", "-1"]);
        groups.push(opt(g, "MAXLEN", m.into()));
    }
    options(g, head, groups, &[&["RANK"], &["FOO"], &["COUNT", "x"]])
}

fn side(g: &mut Gen) -> Vec<u8> {
    let s = if g.chance(0.03) { "UP" } else { g.pick(&["LEFT", "RIGHT"]) };
    g.name(s)
}

fn lmove(g: &mut Gen) -> Args {
    args!(g, "LMOVE", lk(g), lk(g), side(g), side(g))
}

fn lmpop(g: &mut Gen) -> Args {
    let mut a = with(args!(g, "LMPOP"), numkeys(g, LIST_KEYS, 3));
    a.push(side(g));
    if g.chance(0.5) {
        let c = count(g);
        a.extend(opt(g, "COUNT", c));
    }
    maybe_truncate(g, a)
}

// ---- sets ----

fn intercard(g: &mut Gen, name: &str, home: &[&str]) -> Args {
    let mut a = with(args!(g, name), numkeys(g, home, 3));
    if g.chance(0.4) {
        let limit = g.pick(&["0", "1", "2", "-1", "abc"]);
        a.extend(opt(g, "LIMIT", limit.into()));
    }
    a
}

fn set_store(g: &mut Gen) -> Args {
    let name = g.pick(&["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]);
    with(args!(g, name, sk(g)), fkeys(g, SET_KEYS, 3))
}

fn set_algebra(g: &mut Gen) -> Args {
    let name = g.pick(&["SINTER", "SUNION", "SDIFF"]);
    with(args!(g, name), fkeys(g, SET_KEYS, 3))
}

// ---- sorted sets ----

fn score(g: &mut Gen) -> Vec<u8> {
    if g.chance(0.05) {
        g.pick(BAD_SCORES).into()
    } else {
        g.pick(SCORES).into()
    }
}

/// ZADD flag sets: mostly none or valid ones, some incompatible.
#[rustfmt::skip]
const ZADD_FLAGS: &[&[&str]] = &[
    &[], &[], &[], &["NX"], &["XX"], &["GT"], &["LT"], &["CH"], &["GT", "CH"], &["LT", "CH"],
    &["XX", "CH"], &["INCR"], &["NX", "INCR"], &["XX", "INCR"], &["GT", "INCR"],
    &["NX", "XX"], &["NX", "GT"], &["GT", "LT"],
];

fn zadd(g: &mut Gen) -> Args {
    let mut a = args!(g, "ZADD", zk(g));
    let chosen = g.pick(ZADD_FLAGS);
    for f in chosen {
        a.push(g.name(f));
    }
    // INCR takes one score-member pair: mostly send one.
    let pairs = if chosen.contains(&"INCR") && g.chance(0.8) { 1 } else { g.rng.gen_range(1..=3) };
    for _ in 0..pairs {
        a.push(score(g));
        a.push(member(g));
    }
    maybe_truncate(g, a)
}

fn bounds(g: &mut Gen, lex: bool) -> [Vec<u8>; 2] {
    let set = if lex { LEX_BOUNDS } else { SCORE_BOUNDS };
    [g.pick(set).into(), g.pick(set).into()]
}

fn limit(g: &mut Gen) -> Vec<Vec<u8>> {
    let offset = g.pick(&["0", "1", "2", "-1", "abc"]);
    let c = g.pick(&["1", "2", "0", "-1", "10"]);
    vec![g.name("LIMIT"), offset.into(), c.into()]
}

fn zrange(g: &mut Gen) -> Args {
    let by = g.rng.gen_range(0..3);
    let [min, max] = match by {
        0 => [index(g), index(g)],
        1 => bounds(g, false),
        _ => bounds(g, true),
    };
    let head = args!(g, "ZRANGE", zk(g), min, max);
    let mut groups = Vec::new();
    match by {
        1 => groups.push(vec![g.name("BYSCORE")]),
        2 => groups.push(vec![g.name("BYLEX")]),
        _ => {}
    }
    if g.chance(0.4) {
        groups.push(vec![g.name("REV")]);
    }
    if g.chance(if by == 0 { 0.05 } else { 0.4 }) {
        groups.push(limit(g));
    }
    if g.chance(if by == 2 { 0.05 } else { 0.4 }) {
        groups.push(vec![g.name("WITHSCORES")]);
    }
    let junk: &[&[&str]] = &[&["LIMIT", "0"], &["FOO"], &["BYSCORE", "BYLEX"]];
    // REV/BYSCORE/LIMIT must follow min and max, but may come in any order.
    options(g, head, groups, junk)
}

fn zrangestore(g: &mut Gen) -> Args {
    let mut a = zrange(g);
    a[0] = g.name("ZRANGESTORE");
    a.insert(1, zk(g));
    if let Some(i) = a.iter().position(|x| x.eq_ignore_ascii_case(b"WITHSCORES")) {
        if g.chance(0.8) {
            a.remove(i);
        }
    }
    a
}

fn zrange_by(g: &mut Gen) -> Args {
    let (name, lex) = g.pick(&[
        ("ZRANGEBYSCORE", false),
        ("ZREVRANGEBYSCORE", false),
        ("ZRANGEBYLEX", true),
        ("ZREVRANGEBYLEX", true),
    ]);
    let [min, max] = bounds(g, lex);
    let head = args!(g, name, zk(g), min, max);
    let mut groups = Vec::new();
    if g.chance(if lex { 0.05 } else { 0.4 }) {
        groups.push(vec![g.name("WITHSCORES")]);
    }
    if g.chance(0.4) {
        groups.push(limit(g));
    }
    options(g, head, groups, &[&["LIMIT", "1"], &["FOO"]])
}

fn zrem_range(g: &mut Gen) -> Args {
    match g.rng.gen_range(0..3) {
        0 => args!(g, "ZREMRANGEBYRANK", zk(g), index(g), index(g)),
        1 => {
            let [min, max] = bounds(g, false);
            args!(g, "ZREMRANGEBYSCORE", zk(g), min, max)
        }
        _ => {
            let [min, max] = bounds(g, true);
            args!(g, "ZREMRANGEBYLEX", zk(g), min, max)
        }
    }
}

fn zpop(g: &mut Gen) -> Args {
    let name = g.pick(&["ZPOPMIN", "ZPOPMAX"]);
    if g.chance(0.5) {
        args!(g, name, zk(g))
    } else {
        args!(g, name, zk(g), count(g))
    }
}

/// WEIGHTS (one per key, sometimes one too few) and AGGREGATE groups for the set operations.
fn zsetop_options(g: &mut Gen, nkeys: usize, weights: bool) -> Vec<Vec<Vec<u8>>> {
    let mut groups = Vec::new();
    if weights && g.chance(0.35) {
        let n = if g.chance(0.1) { nkeys.saturating_sub(1) } else { nkeys };
        let mut w = vec![g.name("WEIGHTS")];
        for _ in 0..n {
            w.push(g.pick(WEIGHTS).into());
        }
        groups.push(w);
    }
    if weights && g.chance(0.35) {
        let agg = g.pick(&["SUM", "MIN", "MAX", "AVG"]);
        groups.push(opt(g, "AGGREGATE", agg.into()));
    }
    groups
}

fn zsetop(g: &mut Gen, store: bool) -> Args {
    let op = g.pick(&["UNION", "INTER", "DIFF"]);
    let mut head = if store { args!(g, &format!("Z{op}STORE"), zk(g)) } else { args!(g, &format!("Z{op}")) };
    let nk = numkeys(g, ZSET_SOURCES, 3);
    let nkeys = nk.len() - 1;
    head.extend(nk);
    // ZDIFF takes no WEIGHTS/AGGREGATE: sometimes send them anyway (syntax error).
    let weights = op != "DIFF" || g.chance(0.1);
    let mut groups = zsetop_options(g, nkeys, weights);
    if !store && g.chance(0.5) {
        groups.push(vec![g.name("WITHSCORES")]);
    }
    options(g, head, groups, &[&["WEIGHTS"], &["AGGREGATE"], &["FOO"]])
}

fn zmpop(g: &mut Gen) -> Args {
    let mut a = with(args!(g, "ZMPOP"), numkeys(g, ZSET_KEYS, 3));
    let which = if g.chance(0.03) { "MID" } else { g.pick(&["MIN", "MAX"]) };
    a.push(g.name(which));
    if g.chance(0.5) {
        let c = count(g);
        a.extend(opt(g, "COUNT", c));
    }
    maybe_truncate(g, a)
}

/// Type commands sent with a wrong number of arguments: (name, argc including the name).
#[rustfmt::skip]
const BAD_ARITY: &[(&str, usize)] = &[
    ("HSET", 2), ("HSET", 3), ("HGET", 2), ("HMGET", 2), ("HDEL", 2), ("HLEN", 1),
    ("HGETALL", 3), ("HINCRBY", 3), ("LPUSH", 2), ("LPOP", 1), ("LPOP", 4), ("LRANGE", 3),
    ("LINSERT", 4), ("LMOVE", 4), ("LMPOP", 2), ("LPOS", 2), ("SADD", 2), ("SCARD", 3),
    ("SMOVE", 3), ("SINTERCARD", 2), ("SMISMEMBER", 2), ("ZADD", 3), ("ZSCORE", 2),
    ("ZRANGE", 3), ("ZRANK", 2), ("ZRANK", 4), ("ZPOPMIN", 4), ("ZUNIONSTORE", 3),
    ("ZINTER", 2), ("ZMPOP", 2), ("ZRANGESTORE", 4), ("ZMSCORE", 2),
];

fn wrong_arity(g: &mut Gen) -> Args {
    let (name, argc) = g.pick(BAD_ARITY);
    let mut a = args!(g, name);
    while a.len() < argc {
        a.push(g.key());
    }
    a
}

/// Every type row: (name for reports, relative weight, how replies compare, generator).
#[rustfmt::skip]
pub const TABLE: &[Entry] = &[
    // hashes
    row("hset", 14, Exact, |g| hset(g, "HSET")),
    row("hmset", 4, Exact, |g| hset(g, "HMSET")),
    row("hsetnx", 4, Exact, |g| args!(g, "HSETNX", hk(g), field(g), hvalue(g))),
    row("hget", 8, Exact, |g| args!(g, "HGET", hk(g), field(g))),
    row("hmget", 4, Exact, |g| {
        let n = g.rng.gen_range(1..=3);
        let fields: Vec<Vec<u8>> = (0..n).map(|_| field(g)).collect();
        with(args!(g, "HMGET", hk(g)), fields)
    }),
    row("hdel", 6, Exact, |g| {
        let n = g.rng.gen_range(1..=3);
        let fields: Vec<Vec<u8>> = (0..n).map(|_| field(g)).collect();
        with(args!(g, "HDEL", hk(g)), fields)
    }),
    row("hexists", 3, Exact, |g| args!(g, "HEXISTS", hk(g), field(g))),
    row("hlen", 3, Exact, |g| args!(g, "HLEN", hk(g))),
    row("hstrlen", 3, Exact, |g| args!(g, "HSTRLEN", hk(g), field(g))),
    row("hkeys", 3, Exact, |g| args!(g, "HKEYS", hk(g))),
    row("hvals", 3, Exact, |g| args!(g, "HVALS", hk(g))),
    row("hgetall", 5, Exact, |g| args!(g, "HGETALL", hk(g))),
    row("hincrby", 6, Exact, |g| args!(g, "HINCRBY", hk(g), field(g), g.pick(INT_ARGS))),
    row("hincrbyfloat", 5, Exact, |g| {
        args!(g, "HINCRBYFLOAT", hk(g), field(g), g.pick(FLOAT_ARGS))
    }),
    // lists
    row("push", 16, Exact, push),
    row("pop", 8, Exact, pop),
    row("llen", 3, Exact, |g| args!(g, "LLEN", lk(g))),
    row("lrange", 8, Exact, |g| args!(g, "LRANGE", lk(g), index(g), index(g))),
    row("lindex", 4, Exact, |g| args!(g, "LINDEX", lk(g), index(g))),
    row("lset", 4, Exact, |g| args!(g, "LSET", lk(g), index(g), elem(g))),
    row("linsert", 4, Exact, linsert),
    row("lrem", 4, Exact, |g| {
        let c = g.pick(&["0", "1", "-1", "2", "-2", "abc"]);
        args!(g, "LREM", lk(g), c, elem(g))
    }),
    row("ltrim", 3, Exact, |g| args!(g, "LTRIM", lk(g), index(g), index(g))),
    row("lpos", 6, Exact, lpos),
    row("lmove", 4, Exact, lmove),
    row("rpoplpush", 3, Exact, |g| args!(g, "RPOPLPUSH", lk(g), lk(g))),
    row("lmpop", 4, Exact, lmpop),
    // sets
    row("sadd", 16, Exact, |g| with(args!(g, "SADD", sk(g)), members(g, 4))),
    row("srem", 5, Exact, |g| with(args!(g, "SREM", sk(g)), members(g, 3))),
    row("sismember", 4, Exact, |g| args!(g, "SISMEMBER", sk(g), member(g))),
    row("smismember", 3, Exact, |g| with(args!(g, "SMISMEMBER", sk(g)), members(g, 3))),
    row("scard", 3, Exact, |g| args!(g, "SCARD", sk(g))),
    row("smove", 4, Exact, |g| args!(g, "SMOVE", sk(g), sk(g), member(g))),
    row("sintercard", 3, Exact, |g| intercard(g, "SINTERCARD", SET_KEYS)),
    row("set_store", 6, Exact, set_store),
    row("smembers", 5, Unordered, |g| args!(g, "SMEMBERS", sk(g))),
    row("set_algebra", 5, Unordered, set_algebra),
    // sorted sets
    row("zadd", 20, Exact, zadd),
    row("zincrby", 5, Exact, |g| args!(g, "ZINCRBY", zk(g), score(g), member(g))),
    row("zscore", 4, Exact, |g| args!(g, "ZSCORE", zk(g), member(g))),
    row("zmscore", 3, Exact, |g| with(args!(g, "ZMSCORE", zk(g)), members(g, 3))),
    row("zcard", 3, Exact, |g| args!(g, "ZCARD", zk(g))),
    row("zcount", 4, Exact, |g| {
        let [min, max] = bounds(g, false);
        args!(g, "ZCOUNT", zk(g), min, max)
    }),
    row("zlexcount", 3, Exact, |g| {
        let [min, max] = bounds(g, true);
        args!(g, "ZLEXCOUNT", zk(g), min, max)
    }),
    row("zrank", 4, Exact, |g| {
        let name = g.pick(&["ZRANK", "ZREVRANK"]);
        args!(g, name, zk(g), member(g))
    }),
    row("zrange", 12, Exact, zrange),
    row("zrange_by", 8, Exact, zrange_by),
    row("zrevrange", 3, Exact, |g| {
        let mut a = args!(g, "ZREVRANGE", zk(g), index(g), index(g));
        if g.chance(0.5) {
            a.push(g.name("WITHSCORES"));
        }
        a
    }),
    row("zrem", 5, Exact, |g| with(args!(g, "ZREM", zk(g)), members(g, 3))),
    row("zremrange", 4, Exact, zrem_range),
    row("zpop", 6, Exact, zpop),
    row("zsetop_store", 6, Exact, |g| zsetop(g, true)),
    row("zsetop", 6, Exact, |g| zsetop(g, false)),
    row("zintercard", 3, Exact, |g| intercard(g, "ZINTERCARD", ZSET_SOURCES)),
    row("zrangestore", 4, Exact, zrangestore),
    row("zmpop", 4, Exact, zmpop),
    // deleting a few keys now and then gives the types room (string writes clobber them)
    row("del_home", 70, Exact, |g| {
        let home = g.pick(&[HASH_KEYS, LIST_KEYS, SET_KEYS, ZSET_KEYS]);
        with(args!(g, "DEL"), fkeys(g, home, 2))
    }),
    // errors
    row("type_arity", 4, Exact, wrong_arity),
];
