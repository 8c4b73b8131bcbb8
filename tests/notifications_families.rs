//! Keyspace notifications of the command families (strings, lists, hashes, sets, sorted sets)
//! as real Redis 7.0 sends them: the same commands against both servers, with a subscriber
//! on `__key*__:*` and every class on (`KEAn`), give the same messages in the same order and
//! the same replies. Each sequence mixes writes that change something with no-ops (which
//! send nothing), removals that empty a key (a `del` follows), STORE commands with an empty
//! result, and pops served later to a blocked client.

mod common;

use common::{RawClient, ServerProcess};
use slotbox::protocol::Frame;
use slotbox::Server;
use std::net::SocketAddr;
use std::time::Duration;

/// A step whose first word is this is sent from a new client that is left blocked; the
/// sequence goes on once the server counts it as blocked.
const BLOCK: &str = "BLOCK";

/// Replies that depend on a random choice (SPOP) are not compared.
fn random_reply(cmd: &[&str]) -> bool {
    cmd[0].eq_ignore_ascii_case("spop")
}

/// Run `steps` on a fresh server at `addr`: every message the subscriber got (channel and
/// payload), then every reply (the blocked clients' last).
fn run(addr: SocketAddr, flags: &str, steps: &[&[&str]]) -> (Vec<String>, Vec<String>) {
    let mut c = RawClient::connect(addr);
    assert_eq!(c.call(&["CONFIG", "SET", "notify-keyspace-events", flags]), Frame::ok());
    let mut sub = RawClient::connect(addr);
    sub.call(&["PSUBSCRIBE", "__key*__:*"]);
    let mut replies = Vec::new();
    let mut blocked = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        if step[0] == BLOCK {
            let n = common::blocked_clients(addr) + 1;
            let mut b = RawClient::connect(addr);
            b.send_raw(&common::encode_command(&step[1..]));
            common::wait_until(Duration::from_secs(5), "client blocked", || common::blocked_clients(addr) == n);
            blocked.push((i, b));
            continue;
        }
        let reply = c.call(step);
        if !random_reply(step) {
            replies.push(format!("{}: {}", step.join(" "), show(&reply)));
        }
    }
    c.call(&["SET", "end-of-sequence", "1"]);
    let messages = messages_until(&mut sub, "end-of-sequence");
    for (i, mut b) in blocked {
        let (reply, _) = b.read_reply();
        replies.push(format!("blocked {}: {}", steps[i][1..].join(" "), show(&reply)));
    }
    (messages, replies)
}

/// The subscriber's messages as `channel payload`, up to the keyevent message of `last`.
fn messages_until(sub: &mut RawClient, last: &str) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let (f, _) = sub.read_reply();
        let (Frame::Array(parts) | Frame::Push(parts)) = f else { panic!("not a message: {f:?}") };
        let text: Vec<String> = parts.iter().map(common::text).collect();
        let done = text.len() == 4 && text[2].starts_with("__keyevent@") && text[3] == last;
        out.push(text[2..].join(" "));
        if done {
            return out;
        }
    }
}

fn show(f: &Frame) -> String {
    match f {
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            format!("[{}]", items.iter().map(show).collect::<Vec<_>>().join(", "))
        }
        other => common::text(other),
    }
}

/// Run `steps` against real redis-server and slotbox with every class on, and compare.
fn compare(steps: &[&[&str]]) {
    compare_with("KEAn", steps);
}

/// Run `steps` against real redis-server and slotbox with the classes `flags` (which must
/// report the `new` of the closing key), and compare. Returns the messages.
fn compare_with(flags: &str, steps: &[&[&str]]) -> Vec<String> {
    if !common::on_path("redis-server") {
        eprintln!("redis-server not on PATH: skipped");
        return Vec::new();
    }
    let redis = ServerProcess::redis();
    let slotbox = Server::start().unwrap();
    let (want_msgs, want_replies) = run(redis.addr(), flags, steps);
    let (got_msgs, got_replies) = run(slotbox.addr(), flags, steps);
    assert_eq!(got_replies, want_replies, "replies differ");
    assert_eq!(got_msgs, want_msgs, "messages differ");
    want_msgs
}

#[test]
fn string_events() {
    compare(&[
        &["SET", "s", "1"],
        &["SET", "s", "2", "NX"],
        &["SET", "s", "3", "XX"],
        &["SET", "nokey", "3", "XX"],
        &["SET", "s", "4", "EX", "100"],
        &["SET", "s", "5", "KEEPTTL"],
        &["SET", "s2", "v", "PX", "100000", "GET"],
        &["SETNX", "s", "1"],
        &["SETNX", "s3", "1"],
        &["SETEX", "s4", "100", "v"],
        &["PSETEX", "s5", "100000", "v"],
        &["GETSET", "s", "9"],
        &["MSET", "m1", "1", "m2", "2"],
        &["MSETNX", "m1", "1", "m3", "3"],
        &["MSETNX", "m4", "4", "m5", "5"],
        &["GETEX", "s", "EX", "100"],
        &["GETEX", "s", "PERSIST"],
        &["GETEX", "s", "PERSIST"],
        &["GETEX", "s"],
        &["GETEX", "nokey", "EX", "10"],
        &["GETEX", "s", "EXAT", "1"],
        &["GETDEL", "m1"],
        &["GETDEL", "nokey"],
        &["INCR", "c"],
        &["INCRBY", "c", "5"],
        &["DECR", "c"],
        &["DECRBY", "c", "2"],
        &["INCR", "s4"],
        &["INCRBYFLOAT", "f", "1.5"],
        &["INCRBYFLOAT", "f", "abc"],
        &["APPEND", "a", "x"],
        &["APPEND", "a", "y"],
        &["SETRANGE", "r", "0", ""],
        &["SETRANGE", "a", "0", ""],
        &["SETRANGE", "r", "2", "z"],
        &["SETRANGE", "a", "0", "Z"],
    ]);
}

#[test]
fn list_events() {
    compare(&[
        &["LPUSH", "l", "a", "b", "c"],
        &["RPUSH", "l", "d"],
        &["LPUSHX", "nolist", "a"],
        &["RPUSHX", "nolist", "a"],
        &["RPUSHX", "l", "e"],
        &["LINSERT", "l", "BEFORE", "a", "x"],
        &["LINSERT", "l", "AFTER", "nosuch", "y"],
        &["LINSERT", "nolist", "BEFORE", "a", "y"],
        &["LSET", "l", "0", "z"],
        &["LSET", "l", "99", "z"],
        &["LPOP", "l"],
        &["RPOP", "l", "2"],
        &["LPOP", "l", "0"],
        &["LPOP", "nolist"],
        &["LTRIM", "l", "0", "0"],
        &["LTRIM", "l", "5", "10"],
        &["LTRIM", "nolist", "0", "1"],
        &["RPUSH", "r", "1", "2", "3", "2"],
        &["LREM", "r", "0", "9"],
        &["LREM", "r", "1", "2"],
        &["LREM", "r", "-1", "2"],
        &["LREM", "r", "0", "1"],
        &["LREM", "r", "0", "3"],
        &["RPUSH", "src", "a", "b"],
        &["LMOVE", "src", "dst", "LEFT", "RIGHT"],
        &["RPOPLPUSH", "src", "dst"],
        &["LMOVE", "dst", "dst", "LEFT", "RIGHT"],
        &["LMOVE", "nosuch", "dst", "LEFT", "LEFT"],
        &["LMPOP", "2", "nolist", "dst", "LEFT", "COUNT", "5"],
        &["RPUSH", "b", "1"],
        &["BLPOP", "b", "0"],
        &["RPUSH", "one", "1"],
        &["RPOPLPUSH", "one", "one"],
        &[BLOCK, "BLPOP", "bl", "0"],
        &["RPUSH", "bl", "x", "y"],
        &[BLOCK, "BRPOP", "bl2", "0"],
        &["LPUSH", "bl2", "x"],
        &[BLOCK, "BLMOVE", "bm", "bmdst", "RIGHT", "LEFT", "0"],
        &["RPUSH", "bm", "a"],
        &[BLOCK, "BLMPOP", "0", "1", "bmp", "LEFT", "COUNT", "3"],
        &["RPUSH", "bmp", "a", "b"],
        &[BLOCK, "BRPOPLPUSH", "brp", "brpdst", "0"],
        &["LPUSH", "brp", "a", "b"],
    ]);
}

#[test]
fn hash_events() {
    compare(&[
        &["HSET", "h", "a", "1", "b", "2"],
        &["HSET", "h", "a", "1"],
        &["HMSET", "h", "c", "3"],
        &["HSETNX", "h", "a", "9"],
        &["HSETNX", "h", "d", "4"],
        &["HSETNX", "h2", "a", "1"],
        &["HINCRBY", "h", "n", "5"],
        &["HINCRBY", "h", "a", "x"],
        &["HINCRBYFLOAT", "h", "f", "1.5"],
        &["HDEL", "h", "nosuch"],
        &["HDEL", "nohash", "a"],
        &["HDEL", "h", "a", "b"],
        &["HDEL", "h", "c", "d", "n", "f"],
        &["HDEL", "h2", "a"],
    ]);
}

#[test]
fn set_events() {
    compare(&[
        &["SADD", "s", "a", "b"],
        &["SADD", "s", "a"],
        &["SADD", "s", "c", "a"],
        &["SREM", "s", "x"],
        &["SREM", "noset", "a"],
        &["SREM", "s", "a"],
        &["SMOVE", "s", "d", "b"],
        &["SMOVE", "s", "d", "nosuch"],
        &["SADD", "s", "b"],
        &["SMOVE", "s", "d", "b"],
        &["SMOVE", "s", "d", "c"],
        &["SMOVE", "noset", "d", "a"],
        &["SMOVE", "d", "d", "b"],
        &["SPOP", "d"],
        &["SPOP", "d", "5"],
        &["SPOP", "noset"],
        &["SPOP", "noset", "3"],
        &["SADD", "p", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"],
        &["SPOP", "p", "2"],
        &["SPOP", "p", "7"],
        &["SPOP", "p", "0"],
        &["SPOP", "p"],
        &["SADD", "x", "1", "2", "3"],
        &["SADD", "y", "3", "4"],
        &["SADD", "z", "9"],
        &["SINTERSTORE", "i", "x", "y"],
        &["SINTERSTORE", "i", "x", "noset"],
        &["SINTERSTORE", "i", "x", "noset"],
        &["SINTERSTORE", "i", "x", "y"],
        &["SINTERSTORE", "i", "x", "z"],
        &["SUNIONSTORE", "u", "x", "y"],
        &["SUNIONSTORE", "u", "noset"],
        &["SDIFFSTORE", "df", "x", "y"],
        &["SDIFFSTORE", "df", "x", "x"],
        &["SDIFFSTORE", "df", "x", "x"],
    ]);
}

#[test]
fn zset_events() {
    compare(&[
        &["ZADD", "z", "1", "a", "2", "b"],
        &["ZADD", "z", "1", "a"],
        &["ZADD", "z", "NX", "5", "a"],
        &["ZADD", "z", "XX", "3", "c"],
        &["ZADD", "z", "GT", "0", "a"],
        &["ZADD", "z", "CH", "5", "a"],
        &["ZADD", "z", "INCR", "1", "a"],
        &["ZINCRBY", "z", "1", "b"],
        &["ZADD", "nozset", "XX", "1", "a"],
        &["ZADD", "z", "INCR", "GT", "-10", "a"],
        &["ZREM", "z", "nosuch"],
        &["ZREM", "nozset", "a"],
        &["ZREM", "z", "a"],
        &["ZADD", "z", "1", "a", "2", "c", "3", "d", "4", "e"],
        &["ZREMRANGEBYSCORE", "z", "100", "200"],
        &["ZREMRANGEBYSCORE", "z", "1", "1"],
        &["ZREMRANGEBYRANK", "z", "0", "0"],
        &["ZREMRANGEBYRANK", "z", "10", "20"],
        &["ZADD", "lx", "0", "a", "0", "b", "0", "c"],
        &["ZREMRANGEBYLEX", "lx", "[a", "[b"],
        &["ZREMRANGEBYLEX", "lx", "[x", "[y"],
        &["ZREMRANGEBYLEX", "lx", "-", "+"],
        &["ZPOPMIN", "z"],
        &["ZPOPMAX", "z", "0"],
        &["ZPOPMAX", "z", "10"],
        &["ZPOPMIN", "nozset"],
        &["ZADD", "a1", "1", "x", "2", "y"],
        &["ZADD", "a2", "2", "y", "3", "z"],
        &["ZUNIONSTORE", "u", "2", "a1", "a2"],
        &["ZINTERSTORE", "i", "2", "a1", "a2"],
        &["ZDIFFSTORE", "d", "2", "a1", "a2"],
        &["ZDIFFSTORE", "d", "2", "a1", "a1"],
        &["ZINTERSTORE", "i", "2", "a1", "nozset"],
        &["ZINTERSTORE", "i", "2", "a1", "nozset"],
        &["ZRANGESTORE", "r", "a1", "0", "-1"],
        &["ZRANGESTORE", "r", "a1", "5", "10"],
        &["ZRANGESTORE", "r", "nozset", "0", "-1"],
        &["ZMPOP", "2", "nozset", "a1", "MIN", "COUNT", "1"],
        &["ZMPOP", "1", "a1", "MAX", "COUNT", "5"],
        &["BZPOPMIN", "a2", "0"],
        &[BLOCK, "BZPOPMIN", "bz", "0"],
        &["ZADD", "bz", "1", "a"],
        &[BLOCK, "BZMPOP", "0", "1", "bz2", "MAX", "COUNT", "2"],
        &["ZADD", "bz2", "1", "a", "2", "b", "3", "c"],
        &[BLOCK, "BZPOPMAX", "bz3", "0"],
        &["ZINCRBY", "bz3", "1", "a"],
    ]);
}

/// RESTORE: `new` and `restore`; with REPLACE and a TTL already past, only the `del` of the
/// replaced key; nothing when there was none.
fn restore_sequence(addr: SocketAddr) -> Vec<String> {
    let mut c = RawClient::connect(addr);
    assert_eq!(c.call(&["CONFIG", "SET", "notify-keyspace-events", "KEAn"]), Frame::ok());
    c.call(&["RPUSH", "src", "a", "b"]);
    let Frame::Bulk(payload) = c.call(&["DUMP", "src"]) else { panic!("DUMP gave no payload") };
    let mut sub = RawClient::connect(addr);
    sub.call(&["PSUBSCRIBE", "__key*__:*"]);
    let p: &[u8] = &payload;
    for cmd in [
        &[&b"RESTORE"[..], b"k", b"0", p][..],
        &[b"RESTORE", b"k", b"0", p],
        &[b"RESTORE", b"k", b"0", p, b"REPLACE"],
        &[b"RESTORE", b"k", b"1", p, b"REPLACE", b"ABSTTL"],
        &[b"RESTORE", b"k", b"1", p, b"REPLACE", b"ABSTTL"],
        &[b"RESTORE", b"t", b"100000", p],
    ] {
        c.call(cmd);
    }
    c.call(&["SET", "end-of-sequence", "1"]);
    messages_until(&mut sub, "end-of-sequence")
}

#[test]
fn restore_events() {
    if !common::on_path("redis-server") {
        eprintln!("redis-server not on PATH: skipped");
        return;
    }
    let redis = ServerProcess::redis();
    let slotbox = Server::start().unwrap();
    assert_eq!(restore_sequence(slotbox.addr()), restore_sequence(redis.addr()));
}

/// Writes that meet a key whose TTL is past but that the expiry cycle has not reclaimed yet
/// (the cycle is off): Redis's lookup expires it first (`expired`), then the write goes on.
#[test]
fn writes_meeting_expired_keys() {
    let mut steps: Vec<&[&str]> = vec![&["DEBUG", "SET-ACTIVE-EXPIRE", "0"], &["SADD", "s", "1"]];
    for key in ["a", "b", "c", "d", "e", "f", "g", "h"] {
        steps.push(match key {
            "a" => &["PSETEX", "a", "1", "v"],
            "b" => &["PSETEX", "b", "1", "v"],
            "c" => &["PSETEX", "c", "1", "v"],
            "d" => &["PSETEX", "d", "1", "v"],
            "e" => &["PSETEX", "e", "1", "v"],
            "f" => &["PSETEX", "f", "1", "v"],
            "g" => &["PSETEX", "g", "1", "v"],
            _ => &["PSETEX", "h", "1", "v"],
        });
    }
    steps.extend_from_slice(&[
        &["DEBUG", "SLEEP", "0.01"],
        &["SET", "a", "1"],
        &["MSET", "b", "1"],
        &["DEL", "c"],
        &["LPUSH", "d", "x"],
        &["SUNIONSTORE", "e", "s"],
        &["RENAME", "f", "f2"],
        &["APPEND", "g", "x"],
        &["SET", "h", "1", "NX"],
        &["DEBUG", "SET-ACTIVE-EXPIRE", "1"],
    ]);
    compare(&steps);
}

/// Key misses (class `m`): every read lookup that finds no key, as Redis's `lookupKeyRead`
/// (writes and OBJECT never report one).
#[test]
fn keymiss_events() {
    let messages = compare_with(
        "KEmn",
        &[
            &["SET", "s", "1"],
            &["GET", "s"],
            &["GET", "nokey"],
            &["MGET", "s", "m1", "m2"],
            &["EXISTS", "e1", "s"],
            &["TYPE", "t1"],
            &["TTL", "t2"],
            &["PTTL", "t3"],
            &["STRLEN", "sl"],
            &["GETRANGE", "gr", "0", "1"],
            &["HGET", "h", "f"],
            &["HGETALL", "h2"],
            &["LRANGE", "l", "0", "-1"],
            &["LLEN", "l2"],
            &["SMEMBERS", "st"],
            &["SINTER", "st1", "st2"],
            &["SUNION", "st3", "st4"],
            &["ZSCORE", "z", "m"],
            &["ZRANGE", "z2", "0", "-1"],
            &["ZUNION", "2", "z3", "z4"],
            &["DUMP", "d"],
            &["OBJECT", "ENCODING", "o"],
            &["LPUSH", "w1", "x"],
            &["DEL", "w2"],
            &["SINTERSTORE", "dst", "st5", "st6"],
            &["ZRANGESTORE", "dst2", "z5", "0", "-1"],
            &["SORT", "so"],
        ],
    );
    let misses = messages.iter().filter(|m| m.starts_with("__keyevent@0__:keymiss")).count();
    assert!(messages.is_empty() || misses > 20, "{messages:?}");
}
