//! Differential rows for the bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP,
//! BITFIELD, BITFIELD_RO. Offsets stay small (no 512 MB strings), with the edge values that
//! must be refused; every command also goes through the string values of the other rows
//! (integers, junk, long raw strings).

use super::*;

#[rustfmt::skip]
const BIT_OFFSETS: &[&str] = &[
    "0", "1", "7", "8", "15", "31", "63", "64", "100", "200", "-1", "abc", "", "4294967296",
    "9223372036854775807", "1.5",
];

#[rustfmt::skip]
const RANGE_ARGS: &[&str] = &[
    "0", "1", "2", "5", "-1", "-2", "-5", "-100", "100", "7", "9", "17",
    "9223372036854775807", "-9223372036854775808", "abc",
];

#[rustfmt::skip]
const FIELD_TYPES: &[&str] = &[
    "i1", "i5", "i8", "i16", "i32", "i63", "i64", "u1", "u3", "u8", "u16", "u31", "u63",
    "u64", "i65", "i0", "x8", "I8", "",
];

#[rustfmt::skip]
const FIELD_OFFSETS: &[&str] = &[
    "0", "1", "3", "7", "8", "13", "64", "100", "#0", "#1", "#3", "#-1", "-1", "abc", "#",
];

#[rustfmt::skip]
const FIELD_VALUES: &[&str] = &[
    "0", "1", "-1", "5", "100", "127", "128", "-128", "255", "256", "-129", "1000000",
    "9223372036854775807", "-9223372036854775808", "abc",
];

fn bit_offset(g: &mut Gen) -> Vec<u8> {
    if g.chance(0.8) {
        g.rng.gen_range(0..120).to_string().into()
    } else {
        g.pick(BIT_OFFSETS).into()
    }
}

fn setbit(g: &mut Gen) -> Args {
    let bit = if g.chance(0.9) { g.pick(&["0", "1"]) } else { g.pick(&["2", "-1", "abc", ""]) };
    args!(g, "SETBIT", g.key(), bit_offset(g), bit)
}

/// `[start [end [BIT|BYTE]]]`, sometimes broken (BITCOUNT refuses a start alone).
fn range(g: &mut Gen, head: Args) -> Args {
    let mut a = head;
    match g.rng.gen_range(0..6) {
        0 => return a,
        1 => return with(a, [g.pick(RANGE_ARGS).into()]),
        _ => {}
    }
    a.push(g.pick(RANGE_ARGS).into());
    a.push(g.pick(RANGE_ARGS).into());
    match g.rng.gen_range(0..8) {
        0..=2 => a.push(g.name("BIT")),
        3 | 4 => a.push(g.name("BYTE")),
        5 => a.push(g.pick(&["BOT", ""]).into()),
        6 if g.chance(0.3) => a.extend([g.name("BIT"), g.name("BIT")]),
        _ => {}
    }
    a
}

fn bitcount(g: &mut Gen) -> Args {
    let head = args!(g, "BITCOUNT", g.key());
    range(g, head)
}

fn bitpos(g: &mut Gen) -> Args {
    let bit = if g.chance(0.9) { g.pick(&["0", "1"]) } else { g.pick(&["2", "-1", "abc"]) };
    let head = args!(g, "BITPOS", g.key(), bit);
    range(g, head)
}

fn bitop(g: &mut Gen) -> Args {
    let op = if g.chance(0.92) { g.pick(&["AND", "OR", "XOR", "NOT"]) } else { g.pick(&["NAND", "", "ANDX"]) };
    let n = if op == "NOT" && g.chance(0.85) { 1 } else { g.rng.gen_range(1..=4) };
    let head = args!(g, "BITOP", g.name(op), g.key());
    with(head, g.keys(n).into_iter().take(n))
}

/// One BITFIELD subcommand (or a broken one).
fn field_op(g: &mut Gen, read_only: bool) -> Vec<Vec<u8>> {
    let kind = if read_only && g.chance(0.85) { 0 } else { g.rng.gen_range(0..10) };
    let kind = if kind == 9 && g.chance(0.5) { 0 } else { kind };
    let t: Vec<u8> = if g.chance(0.9) { g.pick(&FIELD_TYPES[..13]) } else { g.pick(FIELD_TYPES) }.into();
    let off: Vec<u8> =
        if g.chance(0.8) { g.rng.gen_range(0..80).to_string().into() } else { g.pick(FIELD_OFFSETS).into() };
    match kind {
        0..=2 => vec![g.name("GET"), t, off],
        3..=4 => vec![g.name("SET"), t, off, g.pick(FIELD_VALUES).into()],
        5..=7 => vec![g.name("INCRBY"), t, off, g.pick(FIELD_VALUES).into()],
        8 => {
            let how = g.pick(&["WRAP", "SAT", "FAIL", "FAIL", "SATX"]);
            vec![g.name("OVERFLOW"), g.name(how)]
        }
        _ => match g.rng.gen_range(0..3) {
            0 => vec![g.name("GET"), t],
            1 => vec![g.name("FOO"), t, off],
            _ => vec![g.name("OVERFLOW")],
        },
    }
}

fn bitfield(g: &mut Gen, name: &str, read_only: bool) -> Args {
    let mut a = args!(g, name, g.key());
    for _ in 0..g.rng.gen_range(0..=4) {
        let op = field_op(g, read_only);
        a.extend(op);
    }
    a
}

/// Bitmap commands with a wrong number of arguments: (name, argc including the name).
#[rustfmt::skip]
const BAD_ARITY: &[(&str, usize)] = &[
    ("SETBIT", 3), ("SETBIT", 5), ("GETBIT", 2), ("GETBIT", 4), ("BITCOUNT", 1), ("BITPOS", 2),
    ("BITOP", 3), ("BITFIELD", 1), ("BITFIELD_RO", 1),
];

fn wrong_arity(g: &mut Gen) -> Args {
    let (name, argc) = g.pick(BAD_ARITY);
    let mut a = args!(g, name);
    while a.len() < argc {
        a.push(g.key());
    }
    a
}

/// Every bitmap row: (name for reports, relative weight, how replies compare, generator).
pub const TABLE: &[Entry] = &[
    row("setbit", 14, Exact, setbit),
    row("getbit", 8, Exact, |g| args!(g, "GETBIT", g.key(), bit_offset(g))),
    row("bitcount", 8, Exact, bitcount),
    row("bitpos", 8, Exact, bitpos),
    row("bitop", 6, Exact, bitop),
    row("bitfield", 10, Exact, |g| bitfield(g, "BITFIELD", false)),
    row("bitfield_ro", 4, Exact, |g| bitfield(g, "BITFIELD_RO", true)),
    row("bitmap_arity", 2, Exact, wrong_arity),
];
