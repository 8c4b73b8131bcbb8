//! The differential test's rows for streams and consumer groups, over the shared key space. A
//! child of `commands.rs` (it reuses `args!`, [`row`] and the [`Gen`] helpers).
//!
//! Rules that keep both servers deterministic: every ID is explicit (never `*`, whose value
//! is the clock), no BLOCK, and nothing that prints a time (XPENDING's extended form, XINFO
//! CONSUMERS and STREAM): XCLAIM / XAUTOCLAIM use a min-idle-time of 0 or one no entry
//! reaches. Streams stay far below a node's 100 entries, so `~` trims agree too.

use super::Check::*;
use super::{row, with, Args, Entry, Gen, INT_ARGS};
use rand::Rng;

const STREAM_KEYS: &[&str] = &["k2", "k4", "{t}a"];
const GROUPS: &[&str] = &["g1", "g2"];
const CONSUMERS: &[&str] = &["alice", "bob"];
const FIELDS: &[&str] = &["f", "g", "a", "1"];
const VALUES: &[&str] = &["v", "1", "", "-5", "hello"];

/// Explicit IDs, partial forms and junk.
#[rustfmt::skip]
const BAD_IDS: &[&str] = &[
    "0-0", "0", "-", "+", "abc", "1-", "-1", "18446744073709551615-18446744073709551615",
    "18446744073709551616", "1-2-3", "",
];

/// Range bounds.
#[rustfmt::skip]
const BOUNDS: &[&str] = &["-", "+", "(-", "(+", "(0-0", "abc", "0", "18446744073709551615-18446744073709551615"];

const COUNTS: &[&str] = &["1", "2", "3", "10", "0", "-1", "abc"];

fn xk(g: &mut Gen) -> Vec<u8> {
    if g.chance(0.9) {
        g.pick(STREAM_KEYS).into()
    } else {
        g.key()
    }
}

/// An ID: mostly `ms-seq` or `ms` in a small range, sometimes an edge case.
fn id(g: &mut Gen) -> Vec<u8> {
    if g.chance(0.1) {
        return g.pick(BAD_IDS).into();
    }
    let ms = g.rng.gen_range(1..40u32);
    match g.rng.gen_range(0..3) {
        0 => ms.to_string().into(),
        _ => format!("{ms}-{}", g.rng.gen_range(0..3u32)).into(),
    }
}

fn bound(g: &mut Gen) -> Vec<u8> {
    if g.chance(0.4) {
        return g.pick(BOUNDS).into();
    }
    let mut b = id(g);
    if g.chance(0.3) {
        b.insert(0, b'(');
    }
    b
}

fn pairs(g: &mut Gen) -> Vec<Vec<u8>> {
    let n = g.rng.gen_range(1..=3);
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(g.pick(FIELDS).into());
        out.push(g.pick(VALUES).into());
    }
    if g.chance(0.03) {
        out.pop();
    }
    out
}

fn trim_opts(g: &mut Gen) -> Vec<Vec<u8>> {
    let mut o = Vec::new();
    if g.chance(0.5) {
        o.push(g.name("MAXLEN"));
        if g.chance(0.5) {
            o.push(g.pick(&["~", "="]).into());
        }
        o.push(g.pick(&["0", "1", "2", "5", "-1", "abc"]).into());
    } else {
        o.push(g.name("MINID"));
        if g.chance(0.5) {
            o.push(g.pick(&["~", "="]).into());
        }
        o.push(id(g));
    }
    if g.chance(0.2) {
        o.push(g.name("LIMIT"));
        o.push(g.pick(&["0", "1", "10", "-1"]).into());
    }
    o
}

fn xadd(g: &mut Gen) -> Args {
    let mut a = args!(g, "XADD", xk(g));
    if g.chance(0.1) {
        a.push(g.name("NOMKSTREAM"));
    }
    if g.chance(0.2) {
        a.extend(trim_opts(g));
    }
    let id = if g.chance(0.15) { format!("{}-*", g.rng.gen_range(0..40u32)).into() } else { id(g) };
    a.push(id);
    with(a, pairs(g))
}

fn range(g: &mut Gen) -> Args {
    let name = g.pick(&["XRANGE", "XREVRANGE"]);
    let mut a = args!(g, name, xk(g), bound(g), bound(g));
    if g.chance(0.5) {
        a.push(g.name("COUNT"));
        a.push(g.pick(COUNTS).into());
    }
    a
}

fn group_cmd(g: &mut Gen) -> Args {
    let (key, group) = (xk(g), g.pick(GROUPS));
    match g.rng.gen_range(0..7) {
        0..=2 => {
            let start = if g.chance(0.3) { "$".into() } else { id(g) };
            let mut a = args!(g, "XGROUP", "CREATE", key, group, start);
            if g.chance(0.7) {
                a.push(g.name("MKSTREAM"));
            }
            if g.chance(0.2) {
                a.push(g.name("ENTRIESREAD"));
                a.push(g.pick(&["0", "3", "-1", "-2", "abc"]).into());
            }
            a
        }
        3 => {
            let start = if g.chance(0.3) { "$".into() } else { id(g) };
            args!(g, "XGROUP", "SETID", key, group, start)
        }
        4 => args!(g, "XGROUP", "DESTROY", key, group),
        5 => args!(g, "XGROUP", "CREATECONSUMER", key, group, g.pick(CONSUMERS)),
        _ => args!(g, "XGROUP", "DELCONSUMER", key, group, g.pick(CONSUMERS)),
    }
}

fn xread(g: &mut Gen) -> Args {
    let group = g.chance(0.6);
    let mut a =
        if group { args!(g, "XREADGROUP", "GROUP", g.pick(GROUPS), g.pick(CONSUMERS)) } else { args!(g, "XREAD") };
    if g.chance(0.5) {
        a.push(g.name("COUNT"));
        a.push(g.pick(COUNTS).into());
    }
    if group && g.chance(0.2) {
        a.push(g.name("NOACK"));
    }
    a.push(g.name("STREAMS"));
    let n = g.rng.gen_range(1..=2);
    let keys: Vec<Vec<u8>> = (0..n).map(|_| g.pick(STREAM_KEYS).into()).collect();
    let ids: Vec<Vec<u8>> = (0..n)
        .map(|_| match g.rng.gen_range(0..4) {
            0 if group => ">".into(),
            1 => g.pick(&["0", "$", ">"]).into(),
            _ => id(g),
        })
        .collect();
    with(with(a, keys), ids)
}

fn claim(g: &mut Gen) -> Args {
    let (key, group, consumer) = (xk(g), g.pick(GROUPS), g.pick(CONSUMERS));
    let idle = g.pick(&["0", "0", "3600000", "-5", "abc"]);
    if g.chance(0.4) {
        let mut a = args!(g, "XAUTOCLAIM", key, group, consumer, idle, bound(g));
        if g.chance(0.5) {
            a.push(g.name("COUNT"));
            a.push(g.pick(&["1", "2", "0", "-1", "100"]).into());
        }
        if g.chance(0.3) {
            a.push(g.name("JUSTID"));
        }
        return a;
    }
    let n = g.rng.gen_range(1..=3);
    let ids: Vec<Vec<u8>> = (0..n).map(|_| id(g)).collect();
    let mut a = with(args!(g, "XCLAIM", key, group, consumer, idle), ids);
    for opt in ["JUSTID", "FORCE", "RETRYCOUNT", "LASTID"] {
        if g.chance(0.2) {
            a.push(g.name(opt));
            match opt {
                "RETRYCOUNT" => a.push(g.pick(INT_ARGS).into()),
                "LASTID" => a.push(id(g)),
                _ => {}
            }
        }
    }
    a
}

/// Every stream row: (name for reports, relative weight, how replies compare, generator).
#[rustfmt::skip]
pub const TABLE: &[Entry] = &[
    row("xadd", 24, Exact, xadd),
    row("xrange", 10, Exact, range),
    row("xlen", 3, Exact, |g| args!(g, "XLEN", xk(g))),
    row("xdel", 5, Exact, |g| {
        let n = g.rng.gen_range(1..=3);
        let ids: Vec<Vec<u8>> = (0..n).map(|_| id(g)).collect();
        with(args!(g, "XDEL", xk(g)), ids)
    }),
    row("xtrim", 4, Exact, |g| with(args!(g, "XTRIM", xk(g)), trim_opts(g))),
    row("xsetid", 2, Exact, |g| args!(g, "XSETID", xk(g), id(g))),
    row("xgroup", 16, Exact, group_cmd),
    row("xread", 12, Exact, xread),
    row("xack", 5, Exact, |g| {
        let n = g.rng.gen_range(1..=3);
        let ids: Vec<Vec<u8>> = (0..n).map(|_| id(g)).collect();
        with(args!(g, "XACK", xk(g), g.pick(GROUPS)), ids)
    }),
    row("xpending", 4, Exact, |g| args!(g, "XPENDING", xk(g), g.pick(GROUPS))),
    row("xclaim", 6, Exact, claim),
    row("xinfo_groups", 3, Exact, |g| args!(g, "XINFO", "GROUPS", xk(g))),
    row("del_streams", 3, Exact, |g| args!(g, "DEL", xk(g))),
];
