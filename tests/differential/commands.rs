//! The differential test's command generator: one table row per command (or command family)
//! with a weight, an argument generator and how its reply is compared. Adding a command is
//! one row here. Keys come from a small space so commands collide; values come from a small
//! set of edge cases (integers, i64 limits, floats, empty, junk).
//!
//! Rules that keep both servers deterministic (so any difference is a bug, not noise):
//! - relative TTLs are large and random (1000 s .. 1e6 s), so no key expires during a run,
//!   and NX/XX/GT/LT comparisons between two TTLs are never decided by a millisecond;
//! - only the `short_expiry` row makes keys expire, and it sleeps until they have on both;
//! - INCRBYFLOAT increments and float values are exact in binary, so f64 and long double
//!   agree; replies that are not deterministic (TTL readings, RANDOMKEY, KEYS/SCAN order)
//!   are compared through a [`Check`] that normalizes them.

use rand::rngs::StdRng;
use rand::Rng;
use Check::*;

/// One request: the command name and its arguments.
pub type Args = Vec<Vec<u8>>;

/// How two replies are compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Check {
    /// Byte for byte.
    Exact,
    /// An array whose order is unspecified (KEYS): compared sorted.
    Unordered,
    /// An integer that depends on the clock (TTL, PTTL, EXPIRETIME): negative values must
    /// match exactly, non-negative ones within this tolerance.
    Clock(i64),
    /// RANDOMKEY: both nil, or both some key.
    AnyKey,
    /// A SCAN request (cursor `0`): each server is scanned to the end with its own cursors and
    /// the sets of returned keys must match. Errors are compared byte for byte.
    ScanAll,
    /// Byte for byte, then sleep this many milliseconds (lets short expiries pass on both).
    ExactThenSleep(u64),
}

/// One row of the generator table.
pub struct Entry {
    pub name: &'static str,
    pub weight: u32,
    pub gen: fn(&mut Gen) -> Args,
    pub check: Check,
}

/// The key space: a few plain keys plus two sharing a hash tag.
pub const KEYS: &[&str] = &["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "{t}a", "{t}b"];

#[rustfmt::skip]
const VALUES: &[&str] = &[
    "", "0", "1", "-1", "7", "42", "-100", "10", "3.5", "-0.5", "0.25", "1e3", "1.5e2", "007",
    " 5", "+5", "-0", "0x1A", "abc", "hello world", "nan", "inf", "9223372036854775807",
    "-9223372036854775808", "9223372036854775806", "-9223372036854775807",
    "18446744073709551616", "12345678901234567890123", "\x00bin\u{7f}",
    "a fifty-byte string that is stored raw, not embstr!",
];

#[rustfmt::skip]
const INT_ARGS: &[&str] = &[
    "1", "-1", "0", "5", "-7", "100", "9223372036854775807", "-9223372036854775808", "abc",
    "1.5", "", " 1", "99999999999999999999", "+3",
];

#[rustfmt::skip]
const FLOAT_ARGS: &[&str] = &[
    "0.5", "1.25", "-3", "10", "-0.25", "0", "1e2", "2.5e-1", "abc", "inf", "-inf", "", "0x10",
    " 1", "nan",
];

#[rustfmt::skip]
const OFFSETS: &[&str] = &[
    "0", "1", "2", "3", "5", "-1", "-2", "-3", "-5", "-100", "100", "9223372036854775807",
    "-9223372036854775808", "abc", "",
];

#[rustfmt::skip]
const BAD_TTLS: &[&str] = &[
    "0", "-1", "abc", "", "1.5", "9223372036854775807", "-9223372036854775808",
];

#[rustfmt::skip]
const PATTERNS: &[&str] = &[
    "*", "k*", "k[0-3]", "k?", "{t}*", "\\{t\\}*", "*a*", "k[^0]", "nomatch*", "[k",
];

/// Random choices for one run; `now` (unix seconds at the start of the run) anchors absolute
/// expiry times so both servers see the same ones.
pub struct Gen {
    pub rng: StdRng,
    pub now: i64,
    /// Set when the last command carries an absolute expiry time in the past, or a short expiry
    /// that has passed by the time it was answered (`short_expiry`). Redis 7.0 can
    /// leave such a key in its keyspace, logically expired, until something looks it up (e.g.
    /// `SET k v EXAT 1 GET`), and when its active expiry cycle reclaims it is a matter of timing
    /// (visible to DBSIZE and SCAN TYPE none); so the harness follows such a command with an
    /// `EXISTS` of every key (compared), which reclaims them on both servers.
    pub touch_after: bool,
}

impl Gen {
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.rng.gen_range(0..xs.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p)
    }

    /// The command name, usually upper case, sometimes lower or mixed.
    fn name(&mut self, name: &str) -> Vec<u8> {
        match self.rng.gen_range(0..10) {
            0 => name.to_ascii_lowercase().into(),
            1 => name
                .char_indices()
                .map(|(i, c)| if i % 2 == 0 { c } else { c.to_ascii_lowercase() })
                .collect::<String>()
                .into(),
            _ => name.to_ascii_uppercase().into(),
        }
    }

    fn key(&mut self) -> Vec<u8> {
        self.pick(KEYS).into()
    }

    fn keys(&mut self, max: usize) -> Vec<Vec<u8>> {
        let n = self.rng.gen_range(1..=max);
        (0..n).map(|_| self.key()).collect()
    }

    fn value(&mut self) -> Vec<u8> {
        self.pick(VALUES).into()
    }

    /// Seconds for a relative expiry: large and random, sometimes invalid.
    fn ttl_secs(&mut self) -> Vec<u8> {
        if self.chance(0.12) {
            return self.pick(BAD_TTLS).into();
        }
        self.rng.gen_range(1000..1_000_000i64).to_string().into()
    }

    fn ttl_ms(&mut self) -> Vec<u8> {
        if self.chance(0.12) {
            return self.pick(BAD_TTLS).into();
        }
        self.rng.gen_range(1_000_000..1_000_000_000i64).to_string().into()
    }

    fn past(&mut self, when: &str) -> Vec<u8> {
        self.touch_after = true;
        when.into()
    }

    /// Absolute unix seconds: mostly far future, sometimes past or invalid.
    fn unix_secs(&mut self) -> Vec<u8> {
        match self.rng.gen_range(0..10) {
            0 => self.past("1"),
            1 => self.past(&(self.now - 100_000).to_string()),
            2 => self.pick(BAD_TTLS).into(),
            3 => (self.now + 500_000).to_string().into(), // a fixed value, so GT/LT ties happen
            _ => (self.now + self.rng.gen_range(1000..1_000_000i64)).to_string().into(),
        }
    }

    fn unix_ms(&mut self) -> Vec<u8> {
        match self.rng.gen_range(0..10) {
            0 => self.past("1"),
            1 => self.past(&((self.now - 100_000) * 1000).to_string()),
            2 => self.pick(BAD_TTLS).into(),
            3 => ((self.now + 500_000) * 1000).to_string().into(),
            _ => ((self.now + self.rng.gen_range(1000..1_000_000i64)) * 1000).to_string().into(),
        }
    }

    /// An expiry option with its value: EX/PX/EXAT/PXAT.
    fn expiry(&mut self) -> Vec<Vec<u8>> {
        let (opt, val) = match self.rng.gen_range(0..4) {
            0 => ("EX", self.ttl_secs()),
            1 => ("PX", self.ttl_ms()),
            2 => ("EXAT", self.unix_secs()),
            _ => ("PXAT", self.unix_ms()),
        };
        vec![self.name(opt), val]
    }
}

macro_rules! args {
    ($g:expr, $name:expr $(, $a:expr)* $(,)?) => {{
        #[allow(unused_mut)]
        let mut v: Args = vec![$g.name($name)];
        $( v.push($a.into()); )*
        v
    }};
}

fn with(mut head: Args, rest: impl IntoIterator<Item = Vec<u8>>) -> Args {
    head.extend(rest);
    head
}

/// Shuffle option groups, and sometimes break them (missing value, conflict, junk).
fn finish_options(g: &mut Gen, head: Args, mut groups: Vec<Vec<Vec<u8>>>, junk: &[&[&str]]) -> Args {
    use rand::seq::SliceRandom;
    if g.chance(0.1) && !junk.is_empty() {
        let bad = g.pick(junk);
        groups.push(bad.iter().map(|s| g.name(s)).collect());
    }
    groups.shuffle(&mut g.rng);
    with(head, groups.into_iter().flatten())
}

fn set(g: &mut Gen) -> Args {
    let head = args!(g, "SET", g.key(), g.value());
    let mut groups = Vec::new();
    match g.rng.gen_range(0..6) {
        0 | 1 => {}
        2 => groups.push(vec![g.name("KEEPTTL")]),
        _ => groups.push(g.expiry()),
    }
    match g.rng.gen_range(0..4) {
        0 => groups.push(vec![g.name("NX")]),
        1 => groups.push(vec![g.name("XX")]),
        _ => {}
    }
    if g.chance(0.25) {
        groups.push(vec![g.name("GET")]);
    }
    let junk: &[&[&str]] = &[
        &["EX"],
        &["PX", "100000"],
        &["NX"],
        &["XX"],
        &["KEEPTTL"],
        &["FOO"],
        &["EX", "10", "EX", "20"],
        &["GET", "GET"],
    ];
    finish_options(g, head, groups, junk)
}

fn getex(g: &mut Gen) -> Args {
    let head = args!(g, "GETEX", g.key());
    let mut groups = Vec::new();
    match g.rng.gen_range(0..5) {
        0 | 1 => {}
        2 => groups.push(vec![g.name("PERSIST")]),
        _ => groups.push(g.expiry()),
    }
    let junk: &[&[&str]] = &[&["EX"], &["PERSIST"], &["PX", "5000000"], &["FOO"], &["KEEPTTL"]];
    finish_options(g, head, groups, junk)
}

fn expire(g: &mut Gen) -> Args {
    let (name, when) = match g.rng.gen_range(0..4) {
        0 => ("EXPIRE", g.ttl_secs()),
        1 => ("PEXPIRE", g.ttl_ms()),
        2 => ("EXPIREAT", g.unix_secs()),
        _ => ("PEXPIREAT", g.unix_ms()),
    };
    let head = args!(g, name, g.key(), when);
    let flags: &[&[&str]] = &[
        &[],
        &[],
        &[],
        &["NX"],
        &["XX"],
        &["GT"],
        &["LT"],
        &["NX", "XX"],
        &["GT", "LT"],
        &["NX", "GT"],
        &["XX", "LT"],
        &["FOO"],
    ];
    let chosen = g.pick(flags);
    with(head, chosen.iter().map(|f| g.name(f)))
}

fn short_expiry(g: &mut Gen) -> Args {
    g.touch_after = true; // after the sleep, so that both servers reclaim the key now
    match g.rng.gen_range(0..4) {
        0 => args!(g, "SET", g.key(), g.value(), "PX", "1"),
        1 => args!(g, "PEXPIRE", g.key(), "1"),
        2 => args!(g, "GETEX", g.key(), "PX", "1"),
        _ => args!(g, "PSETEX", g.key(), "1", g.value()),
    }
}

fn pairs(g: &mut Gen, name: &str) -> Args {
    let mut a = args!(g, name);
    for _ in 0..g.rng.gen_range(1..=4) {
        a.push(g.key());
        a.push(g.value());
    }
    if g.chance(0.05) {
        a.pop();
    }
    a
}

fn lcs(g: &mut Gen) -> Args {
    let head = args!(g, "LCS", g.key(), g.key());
    let mut groups = Vec::new();
    if g.chance(0.3) {
        groups.push(vec![g.name("LEN")]);
    }
    if g.chance(0.4) {
        groups.push(vec![g.name("IDX")]);
    }
    if g.chance(0.3) {
        groups.push(vec![g.name("MINMATCHLEN"), g.pick(&["0", "1", "2", "4", "-1"]).into()]);
    }
    if g.chance(0.3) {
        groups.push(vec![g.name("WITHMATCHLEN")]);
    }
    finish_options(g, head, groups, &[&["MINMATCHLEN"], &["MINMATCHLEN", "abc"], &["FOO"]])
}

fn copy(g: &mut Gen) -> Args {
    let head = args!(g, "COPY", g.key(), g.key());
    let mut groups = Vec::new();
    if g.chance(0.4) {
        groups.push(vec![g.name("REPLACE")]);
    }
    if g.chance(0.15) {
        groups.push(vec![g.name("DB"), "0".into()]);
    }
    finish_options(g, head, groups, &[&["DB", "abc"], &["DB"], &["FOO"]])
}

fn scan(g: &mut Gen) -> Args {
    let cursor = if g.chance(0.05) { "abc" } else { "0" };
    let head = args!(g, "SCAN", cursor);
    let mut groups = Vec::new();
    if g.chance(0.5) {
        groups.push(vec![g.name("MATCH"), g.pick(PATTERNS).into()]);
    }
    if g.chance(0.5) {
        groups.push(vec![g.name("COUNT"), g.pick(&["1", "2", "5", "10", "1000"]).into()]);
    }
    if g.chance(0.2) {
        groups.push(vec![g.name("TYPE"), g.pick(&["string", "hash", "list", "set", "zset", "none"]).into()]);
    }
    finish_options(g, head, groups, &[&["COUNT", "0"], &["COUNT", "abc"], &["MATCH"], &["FOO", "bar"]])
}

/// Commands sent with a wrong number of arguments: (name, argc including the name).
#[rustfmt::skip]
const BAD_ARITY: &[(&str, usize)] = &[
    ("GET", 1), ("GET", 3), ("SET", 1), ("SET", 2), ("SETNX", 2), ("SETEX", 3), ("PSETEX", 2),
    ("GETSET", 2), ("GETDEL", 1), ("GETDEL", 3), ("GETEX", 1), ("MGET", 1), ("MSET", 1),
    ("MSETNX", 1), ("INCR", 1), ("INCR", 3), ("DECR", 1), ("INCRBY", 2), ("DECRBY", 4),
    ("INCRBYFLOAT", 2), ("APPEND", 2), ("STRLEN", 1), ("GETRANGE", 3), ("SETRANGE", 3),
    ("SUBSTR", 2), ("LCS", 2), ("DEL", 1), ("UNLINK", 1), ("EXISTS", 1), ("TYPE", 1),
    ("TYPE", 3), ("EXPIRE", 2), ("PEXPIRE", 2), ("EXPIREAT", 2), ("PEXPIREAT", 2),
    ("PERSIST", 1), ("PERSIST", 3), ("TTL", 1), ("PTTL", 3), ("EXPIRETIME", 1),
    ("PEXPIRETIME", 3), ("RENAME", 2), ("RENAMENX", 4), ("COPY", 2), ("TOUCH", 1),
    ("DBSIZE", 2), ("ECHO", 1), ("ECHO", 3), ("PING", 3), ("KEYS", 1), ("KEYS", 3),
    ("RANDOMKEY", 2), ("SCAN", 1), ("OBJECT", 1), ("OBJECT", 2),
];

fn wrong_arity(g: &mut Gen) -> Args {
    let (name, argc) = g.pick(BAD_ARITY);
    let mut a = args!(g, name);
    while a.len() < argc {
        a.push(g.key());
    }
    a
}

fn unknown(g: &mut Gen) -> Args {
    match g.rng.gen_range(0..4) {
        0 => args!(g, "FOOBAR"),
        1 => args!(g, "GETT", g.key(), g.value()),
        2 => vec![Vec::new(), g.key()],
        _ => args!(g, "OBJECT", "FOO", g.key()),
    }
}

fn object(g: &mut Gen) -> Args {
    let sub = g.pick(&["ENCODING", "ENCODING", "ENCODING", "FREQ"]);
    args!(g, "OBJECT", g.name(sub), g.key())
}

fn flush(g: &mut Gen) -> Args {
    let name = g.pick(&["FLUSHDB", "FLUSHALL"]);
    match g.rng.gen_range(0..4) {
        0 => args!(g, name, g.name("SYNC")),
        1 => args!(g, name, "FOO"),
        _ => args!(g, name),
    }
}

const fn row(name: &'static str, weight: u32, check: Check, gen: fn(&mut Gen) -> Args) -> Entry {
    Entry { name, weight, gen, check }
}

fn setrange(g: &mut Gen) -> Args {
    let off = if g.chance(0.85) {
        g.rng.gen_range(0..12).to_string()
    } else {
        g.pick(&["-1", "abc", "536870912", ""]).to_string()
    };
    args!(g, "SETRANGE", g.key(), off, g.value())
}

fn ping(g: &mut Gen) -> Args {
    if g.chance(0.5) {
        args!(g, "PING")
    } else {
        args!(g, "PING", g.value())
    }
}

/// Every row: (name for reports, relative weight, how replies compare, generator).
pub const TABLE: &[Entry] = &[
    // strings
    row("get", 30, Exact, |g| args!(g, "GET", g.key())),
    row("set", 40, Exact, set),
    row("setnx", 5, Exact, |g| args!(g, "SETNX", g.key(), g.value())),
    row("setex", 5, Exact, |g| args!(g, "SETEX", g.key(), g.ttl_secs(), g.value())),
    row("psetex", 4, Exact, |g| args!(g, "PSETEX", g.key(), g.ttl_ms(), g.value())),
    row("getset", 5, Exact, |g| args!(g, "GETSET", g.key(), g.value())),
    row("getdel", 4, Exact, |g| args!(g, "GETDEL", g.key())),
    row("getex", 8, Exact, getex),
    row("mget", 8, Exact, |g| with(args!(g, "MGET"), g.keys(5))),
    row("mset", 6, Exact, |g| pairs(g, "MSET")),
    row("msetnx", 4, Exact, |g| pairs(g, "MSETNX")),
    row("incr", 10, Exact, |g| args!(g, "INCR", g.key())),
    row("decr", 6, Exact, |g| args!(g, "DECR", g.key())),
    row("incrby", 8, Exact, |g| args!(g, "INCRBY", g.key(), g.pick(INT_ARGS))),
    row("decrby", 6, Exact, |g| args!(g, "DECRBY", g.key(), g.pick(INT_ARGS))),
    row("incrbyfloat", 10, Exact, |g| args!(g, "INCRBYFLOAT", g.key(), g.pick(FLOAT_ARGS))),
    row("append", 6, Exact, |g| args!(g, "APPEND", g.key(), g.value())),
    row("strlen", 5, Exact, |g| args!(g, "STRLEN", g.key())),
    row("getrange", 6, Exact, |g| args!(g, "GETRANGE", g.key(), g.pick(OFFSETS), g.pick(OFFSETS))),
    row("substr", 3, Exact, |g| args!(g, "SUBSTR", g.key(), g.pick(OFFSETS), g.pick(OFFSETS))),
    row("setrange", 6, Exact, setrange),
    row("lcs", 5, Exact, lcs),
    // keys
    row("del", 8, Exact, |g| with(args!(g, "DEL"), g.keys(4))),
    row("unlink", 4, Exact, |g| with(args!(g, "UNLINK"), g.keys(4))),
    row("exists", 6, Exact, |g| with(args!(g, "EXISTS"), g.keys(4))),
    row("touch", 3, Exact, |g| with(args!(g, "TOUCH"), g.keys(4))),
    row("type", 5, Exact, |g| args!(g, "TYPE", g.key())),
    row("expire", 14, Exact, expire),
    row("persist", 5, Exact, |g| args!(g, "PERSIST", g.key())),
    row("ttl", 8, Clock(1), |g| args!(g, "TTL", g.key())),
    row("pttl", 6, Clock(1000), |g| args!(g, "PTTL", g.key())),
    row("expiretime", 4, Clock(1), |g| args!(g, "EXPIRETIME", g.key())),
    row("pexpiretime", 4, Clock(1000), |g| args!(g, "PEXPIRETIME", g.key())),
    row("short_expiry", 1, ExactThenSleep(20), short_expiry),
    row("rename", 5, Exact, |g| args!(g, "RENAME", g.key(), g.key())),
    row("renamenx", 4, Exact, |g| args!(g, "RENAMENX", g.key(), g.key())),
    row("copy", 5, Exact, copy),
    row("dbsize", 3, Exact, |g| args!(g, "DBSIZE")),
    row("keys", 4, Unordered, |g| args!(g, "KEYS", g.pick(PATTERNS))),
    row("scan", 4, ScanAll, scan),
    row("randomkey", 2, AnyKey, |g| args!(g, "RANDOMKEY")),
    row("object", 4, Exact, object),
    // connection and server
    row("ping", 2, Exact, ping),
    row("echo", 2, Exact, |g| args!(g, "ECHO", g.value())),
    row("flush", 1, Exact, flush),
    // errors
    row("wrong_arity", 6, Exact, wrong_arity),
    row("unknown", 2, Exact, unknown),
];

/// Pick a row by weight, from the string/key rows and the data type rows alike.
pub fn pick_entry(g: &mut Gen) -> &'static Entry {
    let rows = || {
        TABLE
            .iter()
            .chain(types::TABLE)
            .chain(sort::TABLE)
            .chain(bitmaps::TABLE)
            .chain(hllgeo::TABLE)
            .chain(databases::TABLE)
            .chain(streams::TABLE)
    };
    let total: u32 = rows().map(|e| e.weight).sum();
    let mut n = g.rng.gen_range(0..total);
    for e in rows() {
        if n < e.weight {
            return e;
        }
        n -= e.weight;
    }
    unreachable!("weights cover the range")
}

/// Rows for streams and consumer groups.
mod streams;
/// Rows for hashes, lists, sets and sorted sets (a child module, so it can use `args!`).
mod types;

/// Rows for SORT and SORT_RO.
mod sort;

/// Rows for the bitmap commands.
mod bitmaps;

/// Rows for HyperLogLog and GEO.
mod hllgeo;

/// Rows for numbered databases (MOVE, SWAPDB, COPY ... DB).
mod databases;
