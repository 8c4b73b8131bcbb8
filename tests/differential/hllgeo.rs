//! The differential test's rows for HyperLogLog and GEO: PFADD / PFCOUNT / PFMERGE / PFDEBUG
//! on HLL strings (which the string rows also read, append to and clobber, so corrupt and
//! foreign values meet the HLL commands), and GEOADD, GEODIST, GEOHASH, GEOPOS, GEOSEARCH,
//! GEOSEARCHSTORE and GEORADIUS* on sorted sets (the sorted-set rows share their keys, so GEO
//! commands also decode arbitrary scores). A child of `commands.rs`, like `types.rs`.
//!
//! Deterministic by construction: coordinates, radii and elements come from small fixed sets;
//! distances and coordinates are printed the same way by both servers (that is the point).

use super::Check::*;
use super::{row, Args, Entry, Gen};
use rand::Rng;

/// Keys the HLL rows prefer (strings elsewhere, so some are not valid HLLs).
const HLL_KEYS: &[&str] = &["k8", "k8", "k0"];
/// Keys the GEO rows prefer: two of them are the sorted-set rows' keys.
const GEO_KEYS: &[&str] = &["k9", "k9", "k7", "{t}b"];

#[rustfmt::skip]
const ELEMENTS: &[&str] = &[
    "a", "b", "c", "1", "2", "10", "-3", "", "hello", "foo-1", "foo-2", "bar", "\x00", "zap",
    "a somewhat longer element of text", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9",
];

#[rustfmt::skip]
const LONGITUDES: &[&str] = &[
    "13.361389", "15.087269", "-0.1275", "2.3522", "0", "-73.9857", "139.6917", "179.99",
    "-180", "180", "12.5", "-122.4194", "151.2093", "13.5", "14.75",
];

#[rustfmt::skip]
const LATITUDES: &[&str] = &[
    "38.115556", "37.502669", "51.5072", "48.8566", "0", "40.7484", "35.6895", "-33.8688",
    "85.05112878", "-85.05112878", "37.7749", "38", "37.9", "-1.5", "60",
];

const BAD_COORDS: &[&str] = &["abc", "200", "-181", "86", "-86", "", "nan", "inf"];

const MEMBERS: &[&str] = &["Palermo", "Catania", "London", "Paris", "NY", "Tokyo", "Sydney", "a", "1"];

const RADII: &[&str] = &["0", "1", "50", "100", "200", "500", "1000", "5000", "20000", "0.5"];

const BAD_RADII: &[&str] = &["-1", "abc", "", "nan"];

const UNITS: &[&str] = &["m", "km", "km", "mi", "ft", "KM", "parsec"];

fn fkey(g: &mut Gen, home: &[&str]) -> Vec<u8> {
    if g.chance(0.9) {
        g.pick(home).into()
    } else {
        g.key()
    }
}

fn element(g: &mut Gen) -> Vec<u8> {
    if g.chance(0.8) {
        g.pick(ELEMENTS).into()
    } else {
        g.value()
    }
}

fn pfadd(g: &mut Gen) -> Args {
    let mut a = args!(g, "PFADD", fkey(g, HLL_KEYS));
    let n = g.rng.gen_range(0..=12);
    for _ in 0..n {
        a.push(element(g));
    }
    a
}

fn hll_keys(g: &mut Gen, max: usize) -> Vec<Vec<u8>> {
    (0..g.rng.gen_range(1..=max)).map(|_| fkey(g, HLL_KEYS)).collect()
}

fn coord(g: &mut Gen, good: &[&str]) -> Vec<u8> {
    if g.chance(0.01) {
        g.pick(BAD_COORDS).into()
    } else {
        g.pick(good).into()
    }
}

fn lonlat(g: &mut Gen) -> [Vec<u8>; 2] {
    [coord(g, LONGITUDES), coord(g, LATITUDES)]
}

fn member(g: &mut Gen) -> Vec<u8> {
    g.pick(MEMBERS).into()
}

fn radius(g: &mut Gen) -> Vec<u8> {
    if g.chance(0.04) {
        g.pick(BAD_RADII).into()
    } else {
        g.pick(RADII).into()
    }
}

fn unit(g: &mut Gen) -> Vec<u8> {
    let u = g.pick(UNITS);
    g.name(u)
}

fn geoadd(g: &mut Gen) -> Args {
    let mut a = args!(g, "GEOADD", fkey(g, GEO_KEYS));
    for f in g.pick(&[&[][..], &[], &[], &["NX"], &["XX"], &["CH"], &["XX", "CH"], &["NX", "XX"]]) {
        a.push(g.name(f));
    }
    for _ in 0..g.rng.gen_range(1..=3) {
        let [lon, lat] = lonlat(g);
        a.extend([lon, lat, member(g)]);
    }
    if g.chance(0.03) {
        a.pop();
    }
    a
}

/// The optional part of a search: WITH* flags, order, COUNT [ANY].
fn search_options(g: &mut Gen, store: bool) -> Vec<Vec<u8>> {
    let mut groups: Vec<Vec<Vec<u8>>> = Vec::new();
    if !store || g.chance(0.05) {
        for w in ["WITHDIST", "WITHHASH", "WITHCOORD"] {
            if g.chance(0.4) {
                groups.push(vec![g.name(w)]);
            }
        }
    }
    if g.chance(0.5) {
        let o = g.pick(&["ASC", "DESC"]);
        groups.push(vec![g.name(o)]);
    }
    if g.chance(0.4) {
        let n = g.pick(&["1", "2", "3", "10", "0", "-1", "abc"]);
        let mut c = vec![g.name("COUNT"), n.into()];
        if g.chance(0.3) {
            c.push(g.name("ANY"));
        }
        groups.push(c);
    } else if g.chance(0.03) {
        groups.push(vec![g.name("ANY")]);
    }
    for i in (1..groups.len()).rev() {
        let j = g.rng.gen_range(0..=i);
        groups.swap(i, j);
    }
    groups.concat()
}

fn center(g: &mut Gen) -> Vec<Vec<u8>> {
    if g.chance(0.5) {
        vec![g.name("FROMMEMBER"), member(g)]
    } else {
        let [lon, lat] = lonlat(g);
        vec![g.name("FROMLONLAT"), lon, lat]
    }
}

fn area(g: &mut Gen) -> Vec<Vec<u8>> {
    if g.chance(0.5) {
        vec![g.name("BYRADIUS"), radius(g), unit(g)]
    } else {
        vec![g.name("BYBOX"), radius(g), radius(g), unit(g)]
    }
}

fn geosearch(g: &mut Gen, store: bool) -> Args {
    let mut a = if store {
        args!(g, "GEOSEARCHSTORE", fkey(g, GEO_KEYS), fkey(g, GEO_KEYS))
    } else {
        args!(g, "GEOSEARCH", fkey(g, GEO_KEYS))
    };
    let mut parts = vec![center(g), area(g), search_options(g, store)];
    if store && g.chance(0.4) {
        parts.push(vec![g.name("STOREDIST")]);
    }
    if g.chance(0.03) {
        parts.push(center(g));
    } else if g.chance(0.03) {
        parts.push(area(g));
    } else if g.chance(0.02) {
        parts.remove(g.rng.gen_range(0..2));
    }
    if g.chance(0.5) {
        parts.swap(0, 1);
    }
    a.extend(parts.concat());
    a
}

fn georadius(g: &mut Gen) -> Args {
    let (name, by_member) = g.pick(&[
        ("GEORADIUS", false),
        ("GEORADIUS_RO", false),
        ("GEORADIUSBYMEMBER", true),
        ("GEORADIUSBYMEMBER_RO", true),
    ]);
    let mut a = args!(g, name, fkey(g, GEO_KEYS));
    if by_member {
        a.push(member(g));
    } else {
        let [lon, lat] = lonlat(g);
        a.extend([lon, lat]);
    }
    a.extend([radius(g), unit(g)]);
    let store = g.chance(0.3);
    a.extend(search_options(g, store));
    if store {
        let s = g.pick(&["STORE", "STOREDIST"]);
        a.extend([g.name(s), fkey(g, GEO_KEYS)]);
    }
    a
}

fn members(g: &mut Gen) -> Vec<Vec<u8>> {
    (0..g.rng.gen_range(0..=3)).map(|_| member(g)).collect()
}

pub const TABLE: &[Entry] = &[
    // HyperLogLog
    row("pfadd", 20, Exact, pfadd),
    row("pfcount", 10, Exact, |g| super::with(args!(g, "PFCOUNT"), hll_keys(g, 3))),
    row("pfmerge", 5, Exact, |g| super::with(args!(g, "PFMERGE"), hll_keys(g, 3))),
    row("pfdebug", 3, Exact, |g| {
        let sub = g.pick(&["ENCODING", "DECODE", "TODENSE", "GETREG", "NOPE"]);
        args!(g, "PFDEBUG", sub, fkey(g, HLL_KEYS))
    }),
    // GEO
    row("geoadd", 16, Exact, geoadd),
    row("geodist", 4, Exact, |g| {
        let mut a = args!(g, "GEODIST", fkey(g, GEO_KEYS), member(g), member(g));
        if g.chance(0.6) {
            a.push(unit(g));
        }
        a
    }),
    row("geohash", 3, Exact, |g| super::with(args!(g, "GEOHASH", fkey(g, GEO_KEYS)), members(g))),
    row("geopos", 3, Exact, |g| super::with(args!(g, "GEOPOS", fkey(g, GEO_KEYS)), members(g))),
    row("geosearch", 10, Exact, |g| geosearch(g, false)),
    row("geosearchstore", 5, Exact, |g| geosearch(g, true)),
    row("georadius", 8, Exact, georadius),
    // the string and type rows clobber these keys; free them now and then
    row("del_hllgeo", 6, Exact, |g| {
        let k = g.pick(&["k8", "k9"]);
        args!(g, "DEL", k)
    }),
];
