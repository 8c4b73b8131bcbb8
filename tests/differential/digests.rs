//! The differential test's dataset comparison: `DEBUG DIGEST` and `DEBUG DIGEST-VALUE` on both
//! servers must be the same hex (slotbox computes Redis's digest bit for bit), and a scenario
//! that puts values of every encoding into both.

use super::{Args, Pair};
use crate::common::show;
use slotbox::protocol::Frame;

/// `DEBUG DIGEST` of an empty dataset.
const EMPTY_DIGEST: &[u8] = b"+0000000000000000000000000000000000000000\r\n";

/// `DEBUG DIGEST`, then `DEBUG DIGEST-VALUE` of `keys`, on both servers: `Ok(true)` when
/// everything agrees on a non-empty dataset, `Ok(false)` when it agrees on an empty one,
/// `Err` naming the keys whose value digests differ.
pub fn compare<K: AsRef<[u8]>>(pair: &mut Pair, keys: &[K]) -> Result<bool, String> {
    let digest: Args = vec![b"DEBUG".to_vec(), b"DIGEST".to_vec()];
    let [redis, slotbox] = pair.both(&digest)?;
    let mut values: Args = vec![b"DEBUG".to_vec(), b"DIGEST-VALUE".to_vec()];
    values.extend(keys.iter().map(|k| k.as_ref().to_vec()));
    let [redis_values, slotbox_values] = pair.both(&values)?;
    if redis.0.is_error() || redis_values.0.is_error() {
        return Err(format!("redis refused DEBUG: {} {}", show(&redis.1), show(&redis_values.1)));
    }
    if redis.1 == slotbox.1 && redis_values.1 == slotbox_values.1 {
        return Ok(redis.1 != EMPTY_DIGEST);
    }
    let differing = match (&redis_values.0, &slotbox_values.0) {
        (Frame::Array(r), Frame::Array(s)) if r.len() == s.len() => keys
            .iter()
            .zip(r.iter().zip(s))
            .filter(|(_, (a, b))| a != b)
            .map(|(k, _)| show(k.as_ref()))
            .collect::<Vec<_>>()
            .join(", "),
        _ => format!("(redis {} / slotbox {})", show(&redis_values.1), show(&slotbox_values.1)),
    };
    Err(format!(
        "DEBUG DIGEST redis {} slotbox {}; DEBUG DIGEST-VALUE differs for [{differing}]",
        show(&redis.1),
        show(&slotbox.1)
    ))
}

/// The keys [`encoding_scenario`] writes.
pub const SCENARIO_KEYS: &[&[u8]] = &[
    b"bighash",
    b"smallhash",
    b"bigzset",
    b"smallzset",
    b"bigset",
    b"intset",
    b"strset",
    b"biglist",
    b"smalllist",
    b"bigstr",
    b"int",
    b"float",
    b"edited",
    b"bin\x00key\xff",
    b"ttl",
    b"gone",
];

fn cmd(parts: &[&[u8]]) -> Args {
    parts.iter().map(|p| p.to_vec()).collect()
}

fn with_items(head: &[&[u8]], items: impl IntoIterator<Item = String>) -> Args {
    let mut args = cmd(head);
    args.extend(items.into_iter().map(String::into_bytes));
    args
}

/// Writes that leave values of every encoding (and TTLs) in both servers.
pub fn encoding_scenario() -> Vec<Args> {
    let long = "x".repeat(70);
    vec![
        // A hashtable hash (200 fields) and a listpack one.
        with_items(&[b"HSET", b"bighash"], (0..200).flat_map(|i| [format!("f{i}"), format!("v{}", i * 7)])),
        cmd(&[b"HSET", b"smallhash", b"a", b"1", b"b", b"", b"", b"empty-field"]),
        // A skiplist sorted set with scores that print long in %.17g, and a listpack one.
        with_items(&[b"ZADD", b"bigzset"], (0..200).flat_map(|i| [format!("{}", f64::from(i) * 0.1), format!("m{i}")])),
        cmd(&[b"ZADD", b"bigzset", b"-0", b"negzero", b"1e300", b"huge", b"-inf", b"bottom", b"+inf", b"top"]),
        cmd(&[b"ZADD", b"bigzset", b"123456789012345678", b"bigint", b"0.30000000000000004", b"pointthree"]),
        cmd(&[b"ZADD", b"smallzset", b"1.5", b"a", b"2.5e-10", b"b", b"-3", b"c", b"-0", b"d", b"7", b"12"]),
        cmd(&[b"ZINCRBY", b"smallzset", b"0.1", b"a"]),
        // A hashtable set of integers (past 512), an intset and a string set.
        with_items(&[b"SADD", b"bigset"], (0..600).map(|i| (i * 3 - 900).to_string())),
        cmd(&[b"SADD", b"intset", b"5", b"-9223372036854775808", b"9223372036854775807", b"0"]),
        cmd(&[b"SADD", b"strset", b"a", b"b", long.as_bytes(), b"", b"007"]),
        // A list over several quicklist nodes (and one element bigger than a node).
        with_items(&[b"RPUSH", b"biglist"], (0..3000).map(|i| format!("element-{i}-{}", "y".repeat(i % 50)))),
        cmd(&[b"LPUSH", b"biglist", "z".repeat(20_000).as_bytes(), b"12345", b""]),
        cmd(&[b"LSET", b"biglist", b"1500", b"replaced"]),
        cmd(&[b"RPUSH", b"smalllist", b"1", b"-1", b"a"]),
        // Strings: long, integer, float, edited in place, binary key and value.
        cmd(&[b"SET", b"bigstr", "s".repeat(100_000).as_bytes()]),
        cmd(&[b"SET", b"int", b"-42"]),
        cmd(&[b"INCRBY", b"int", b"1000"]),
        cmd(&[b"INCRBYFLOAT", b"float", b"10.5"]),
        cmd(&[b"SET", b"edited", b"hello"]),
        cmd(&[b"APPEND", b"edited", b" world"]),
        cmd(&[b"SETRANGE", b"edited", b"20", b"!"]),
        cmd(&[b"SET", b"bin\x00key\xff", b"\x00\x01\xfe\xff"]),
        // TTLs: the presence of one counts, its time does not; a persisted one no longer counts.
        cmd(&[b"SET", b"ttl", b"v", b"EX", b"100000"]),
        cmd(&[b"EXPIRE", b"bighash", b"5000"]),
        cmd(&[b"PEXPIRE", b"biglist", b"123456789"]),
        cmd(&[b"EXPIRE", b"smallzset", b"77777"]),
        cmd(&[b"PERSIST", b"smallzset"]),
        cmd(&[b"SET", b"gone", b"1"]),
        cmd(&[b"DEL", b"gone"]),
    ]
}
