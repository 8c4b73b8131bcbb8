//! The differential test's rows for SORT and SORT_RO, over the keys the type rows fill (lists,
//! sets, sorted sets, and whatever else a key holds now: WRONGTYPE and missing keys too). BY
//! and GET patterns name keys of the same key space (`k*` is `k1` for the element `1`, where
//! the hash rows keep hashes and the string rows strings), so weights come from every kind
//! of value, convertible or not.
//!
//! Rules that keep both servers deterministic:
//! - `sort` rows ask only for orders that a total order decides: numeric (ties go by the
//!   elements' bytes), ALPHA by the elements, or nothing to sort on a list or sorted set (its
//!   own order) or STOREd from a set (Redis then sorts it ALPHA). Their replies compare byte
//!   for byte and STOREd lists are compared by the digests;
//! - `sort_unordered` rows ask for what depends on a set's layout (BY a constant without
//!   STORE) or on the order ties keep (ALPHA BY a pattern, where missing weights tie):
//!   compared as multisets, without LIMIT or STORE (which would pick or keep an order).

use super::Check::*;
use super::{row, with, Args, Entry, Gen};
use rand::Rng;

/// Keys the type rows keep lists, sets and sorted sets in (and any key now and then).
const SOURCES: &[&str] = &["k3", "k4", "k5", "k6", "{t}a", "k7", "{t}b", "k0", "k1", "k2"];

/// BY patterns that name weights (elements are `a`, `b`, `c`, `1`, `2`, `10`, `-3`).
const BY_PATTERNS: &[&str] = &["k*", "k*->f1", "k*->a", "k*->1", "{t}*", "*", "w_*", "k*->", "k*x"];

/// GET patterns.
const GET_PATTERNS: &[&str] = &["#", "k*", "k*->f1", "{t}*", "*", "nothing", "k*->1"];

/// Malformed or refused option lists.
#[rustfmt::skip]
const BAD_OPTIONS: &[&[&str]] = &[
    &["LIMIT", "1"], &["LIMIT", "a", "1"], &["LIMIT", "0", "1.5"], &["STORE"], &["BY"], &["GET"],
    &["FOO"], &["ASC", "DESC", "x"],
];

fn source(g: &mut Gen) -> Vec<u8> {
    g.pick(SOURCES).into()
}

fn limit(g: &mut Gen) -> Vec<Vec<u8>> {
    let offset = g.pick(&["0", "1", "2", "-1", "5", "100"]);
    let count = g.pick(&["1", "2", "3", "0", "-1", "-5", "100"]);
    vec![g.name("LIMIT"), offset.into(), count.into()]
}

fn gets(g: &mut Gen) -> Vec<Vec<u8>> {
    let n = g.rng.gen_range(0..=2);
    (0..n).flat_map(|_| [g.name("GET"), g.pick(GET_PATTERNS).into()]).collect()
}

fn direction(g: &mut Gen) -> Vec<Vec<u8>> {
    match g.rng.gen_range(0..3) {
        0 => vec![g.name("DESC")],
        1 => vec![g.name("ASC")],
        _ => vec![],
    }
}

/// SORT with a deterministic order (see the module rules).
fn sort(g: &mut Gen) -> Args {
    let ro = g.chance(0.2);
    let mut a = args!(g, if ro { "SORT_RO" } else { "SORT" }, source(g));
    if g.chance(0.05) {
        let bad = g.pick(BAD_OPTIONS);
        a.extend(bad.iter().map(|w| w.as_bytes().to_vec()));
        return a;
    }
    let store = if ro { g.chance(0.05) } else { g.chance(0.3) };
    let mut opts: Vec<Vec<Vec<u8>>> = Vec::new();
    match g.rng.gen_range(0..4) {
        // ALPHA by the elements
        0 => opts.push(vec![g.name("ALPHA")]),
        // numeric by a pattern
        1 => opts.push(vec![g.name("BY"), g.pick(BY_PATTERNS).into()]),
        // nothing to sort: only where the order is the key's own or STORE sorts ALPHA
        2 if store => opts.push(vec![g.name("BY"), b"nosort".to_vec()]),
        _ => {}
    }
    if g.chance(0.4) {
        opts.push(limit(g));
    }
    opts.push(gets(g));
    opts.push(direction(g));
    if store {
        opts.push(vec![g.name("STORE"), g.key()]);
    }
    shuffle(g, &mut opts);
    with(a, opts.into_iter().flatten())
}

/// SORT whose order depends on a set's layout or on ties: compared unordered.
fn sort_unordered(g: &mut Gen) -> Args {
    let a = args!(g, "SORT", source(g));
    let mut opts: Vec<Vec<Vec<u8>>> = vec![gets(g), direction(g)];
    if g.chance(0.5) {
        opts.push(vec![g.name("BY"), g.pick(&["nosort", "constant"]).into()]);
    } else {
        opts.push(vec![g.name("ALPHA")]);
        opts.push(vec![g.name("BY"), g.pick(BY_PATTERNS).into()]);
    }
    shuffle(g, &mut opts);
    with(a, opts.into_iter().flatten())
}

fn shuffle<T>(g: &mut Gen, v: &mut [T]) {
    for i in (1..v.len()).rev() {
        let j = g.rng.gen_range(0..=i);
        v.swap(i, j);
    }
}

/// The SORT rows: (name for reports, relative weight, how replies compare, generator).
pub const TABLE: &[Entry] = &[row("sort", 14, Exact, sort), row("sort_unordered", 5, Unordered, sort_unordered)];
