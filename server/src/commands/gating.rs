//! What the execution seam must know of a command beyond its table row: whether it runs a
//! script, and whether it needs the whole exec gate. Decided once per registered command from
//! its name (a table by id), so the seam's per-request checks are an index, not string
//! comparisons.

use super::registry::{self, Resolved};
use bytes::Bytes;
use std::sync::OnceLock;

/// When a command needs the whole exec gate.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Whole {
    Never,
    Always,
    /// COPY ... DB, SORT with BY / GET patterns: it depends on the arguments.
    ByArgs,
}

#[derive(Clone, Copy)]
struct Traits {
    script: bool,
    whole: Whole,
}

static TRAITS: OnceLock<Vec<Traits>> = OnceLock::new();

fn traits(r: Resolved) -> Traits {
    let table = TRAITS.get_or_init(|| (0..).map_while(registry::by_id).map(|r| decide(r.full_name)).collect());
    table.get(r.id as usize).copied().unwrap_or_else(|| decide(r.full_name))
}

fn decide(name: &str) -> Traits {
    let script = slotbox_protocol::peek::is_script_command(name.as_bytes());
    let whole = match name {
        "exec" | "debug" | "move" | "swapdb" => Whole::Always,
        // Scripts (atomic, like EXEC) and what changes the interpreters; SCRIPT KILL,
        // FUNCTION KILL and FUNCTION STATS only read the running script's watch.
        "script|kill" | "function|kill" | "function|stats" => Whole::Never,
        n if script || n.starts_with("script|") || n.starts_with("function|") => Whole::Always,
        "copy" | "sort" | "sort_ro" => Whole::ByArgs,
        _ => Whole::Never,
    };
    Traits { script, whole }
}

/// Commands that run with the whole exec gate held: nothing else runs anywhere meanwhile.
/// EXEC; DEBUG (SLEEP stops the server, DIGEST reads the dataset at one point in time); the
/// commands that touch two databases (MOVE, SWAPDB, COPY ... DB), which lock a slot of a
/// second database after their own; SORT with BY / GET patterns, which reads keys it learns
/// only from the sorted elements; scripts and what changes the interpreters.
pub fn needs_whole_gate(r: Resolved, args: &[Bytes]) -> bool {
    match traits(r).whole {
        Whole::Never => false,
        Whole::Always => true,
        Whole::ByArgs if r.full_name == "copy" => args.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"db")),
        Whole::ByArgs => super::sort::reads_other_keys(args),
    }
}

/// EVAL and FCALL and their read-only forms: they run other commands on their keys, so the
/// seam does not lock those keys for them.
pub(super) fn runs_script(r: Resolved) -> bool {
    traits(r).script
}
