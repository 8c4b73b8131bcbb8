//! The differential test's rows for numbered databases, from a connection that stays in
//! database 0: MOVE a key to database 1 (and back through SWAPDB), COPY ... DB 1, SWAPDB of
//! 0 and 1 (or other pairs), and their errors. `DEBUG DIGEST` covers every database, so what
//! lands in database 1 is compared too. A child of `commands.rs`, like `types.rs`.

use super::Check::*;
use super::{row, Args, Entry, Gen};
use rand::Rng;

const DBS: &[&str] = &["1", "1", "1", "2", "0", "16", "-1", "abc"];

fn mv(g: &mut Gen) -> Args {
    args!(g, "MOVE", g.key(), g.pick(DBS))
}

fn swapdb(g: &mut Gen) -> Args {
    let (a, b) = match g.rng.gen_range(0..6) {
        0..=2 => ("0", "1"),
        3 => ("1", "2"),
        4 => ("0", "0"),
        _ => (g.pick(DBS), g.pick(DBS)),
    };
    args!(g, "SWAPDB", a, b)
}

fn copy_db(g: &mut Gen) -> Args {
    let mut a = args!(g, "COPY", g.key(), g.key(), g.name("DB"), g.pick(DBS));
    if g.chance(0.3) {
        a.push(g.name("REPLACE"));
    }
    a
}

/// Rows: (name for reports, relative weight, how replies compare, generator).
pub const TABLE: &[Entry] =
    &[row("move", 4, Exact, mv), row("swapdb", 2, Exact, swapdb), row("copy_db", 3, Exact, copy_db)];
