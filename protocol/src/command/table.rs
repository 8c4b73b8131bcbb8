//! The command table as one flat slice, [`COMMANDS`], and the per-request name lookup.
//!
//! The rows are data, one file per command group under `table/`, copied from Redis 7.0's
//! `COMMAND INFO` / `COMMAND DOCS`. This file only glues them together and finds a row by
//! name: case-insensitively, without allocating. It must not know how a command runs.

mod bitmaps;
mod cluster;
mod connection;
#[cfg(test)]
mod expected;
mod generic;
mod geo;
mod hashes;
mod hyperloglog;
mod lists;
mod pubsub;
mod scripting;
mod server;
mod server_sub;
mod sets;
mod streams;
mod strings;
mod zsets;
mod zsets_multi;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use super::{BeginSearch, CommandSpec, FindKeys, KeySpec};

/// Every group's rows, in the order `COMMANDS` lists them.
const GROUPS: &[&[CommandSpec]] = &[
    connection::ROWS,
    cluster::ROWS,
    server::ROWS,
    generic::ROWS,
    strings::ROWS,
    bitmaps::ROWS,
    hashes::ROWS,
    lists::ROWS,
    sets::ROWS,
    zsets::ROWS,
    zsets_multi::ROWS,
    hyperloglog::ROWS,
    geo::ROWS,
    pubsub::ROWS,
    scripting::ROWS,
    streams::ROWS,
];

const COUNT: usize = total_len(GROUPS);

static ALL: [CommandSpec; COUNT] = concat(GROUPS);

/// Every top-level command slotbox knows (subcommands hang off their container's row).
pub static COMMANDS: &[CommandSpec] = &ALL;

/// Longest name [`lookup`] accepts; longer names are not commands.
const MAX_NAME: usize = 32;

type NameIndex = HashMap<&'static [u8], &'static CommandSpec, BuildHasherDefault<NameHasher>>;

/// Find a top-level command by name, ignoring ASCII case. No heap allocation.
pub(super) fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    if name.len() > MAX_NAME {
        return None;
    }
    let mut buf = [0u8; MAX_NAME];
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    by_name().get(&*lower).copied()
}

fn by_name() -> &'static NameIndex {
    static INDEX: OnceLock<NameIndex> = OnceLock::new();
    INDEX.get_or_init(|| COMMANDS.iter().map(|c| (c.name.as_bytes(), c)).collect())
}

/// FNV-1a: command names are short and trusted (they come from our own table), so a
/// DoS-resistant hasher buys nothing on this per-request path.
#[derive(Clone, Copy)]
struct NameHasher(u64);

impl Default for NameHasher {
    fn default() -> Self {
        NameHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

// Row-building helpers for the data files (`table/*.rs`).

const fn index(pos: usize) -> BeginSearch {
    BeginSearch::Index(pos)
}

const fn keyword(keyword: &'static str, start_from: i32) -> BeginSearch {
    BeginSearch::Keyword { keyword, start_from }
}

const fn range(last_key: i32, step: usize, limit: usize) -> FindKeys {
    FindKeys::Range { last_key, step, limit }
}

const fn keynum(keynum_idx: usize, first_key: usize, step: usize) -> FindKeys {
    FindKeys::Keynum { keynum_idx, first_key, step }
}

const fn key(begin: BeginSearch, find: FindKeys, flags: &'static [&'static str]) -> KeySpec {
    KeySpec { begin, find, flags, notes: "" }
}

/// A key spec with Redis's note on it.
const fn noted(notes: &'static str, spec: KeySpec) -> KeySpec {
    KeySpec { notes, ..spec }
}

const fn total_len(groups: &[&[CommandSpec]]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < groups.len() {
        n += groups[i].len();
        i += 1;
    }
    n
}

const fn concat<const N: usize>(groups: &[&[CommandSpec]]) -> [CommandSpec; N] {
    const BLANK: CommandSpec = CommandSpec {
        name: "",
        arity: 0,
        flags: 0,
        acl: &[],
        group: "",
        since: "",
        summary: "",
        complexity: "",
        key_specs: &[],
        subcommands: &[],
    };
    let mut out = [BLANK; N];
    let mut k = 0;
    let mut i = 0;
    while i < groups.len() {
        let mut j = 0;
        while j < groups[i].len() {
            out[k] = groups[i][j];
            k += 1;
            j += 1;
        }
        i += 1;
    }
    assert!(k == N, "COUNT does not match the groups");
    out
}

#[cfg(test)]
mod tests {
    use super::expected::REDIS_COMMAND_INFO;
    use super::*;
    use std::collections::HashSet;

    /// (full name as COMMAND INFO prints it, spec) for every row, subcommands included.
    fn all_rows() -> Vec<(String, &'static CommandSpec)> {
        let mut rows = Vec::new();
        for c in COMMANDS {
            rows.push((c.name.to_string(), c));
            for s in c.subcommands {
                rows.push((format!("{}|{}", c.name, s.name), s));
            }
        }
        rows
    }

    fn get(name: &str) -> &'static CommandSpec {
        lookup(name.as_bytes()).unwrap_or_else(|| panic!("{name} missing"))
    }

    #[test]
    fn names_are_lowercase_and_unique() {
        let mut seen = HashSet::new();
        for (full, spec) in all_rows() {
            assert!(!spec.name.is_empty());
            assert_eq!(spec.name, spec.name.to_ascii_lowercase(), "{full}");
            assert!(seen.insert(full.clone()), "duplicate {full}");
        }
        assert_eq!(COMMANDS.len(), COUNT);
        assert!(COMMANDS.len() >= 190);
    }

    #[test]
    fn lookup_ignores_case() {
        assert_eq!(get("get").name, "get");
        assert_eq!(lookup(b"GeT").unwrap().name, "get");
        assert_eq!(lookup(b"ZUNIONSTORE").unwrap().name, "zunionstore");
        assert_eq!(lookup(b"sort_ro").unwrap().name, "sort_ro");
        assert!(lookup(b"nosuchcommand").is_none());
        assert!(lookup(b"").is_none());
        assert!(lookup(&[b'a'; 200]).is_none());
        assert!(lookup(b"get\0").is_none());
        // Subcommands are not top-level names.
        assert!(lookup(b"getname").is_none());
        for c in COMMANDS {
            assert!(std::ptr::eq(lookup(c.name.to_uppercase().as_bytes()).unwrap(), c));
        }
    }

    #[test]
    fn subcommand_lookup() {
        let client = get("client");
        let getname = client.subcommand(b"GETNAME").unwrap();
        assert_eq!(getname.arity, 2);
        assert_eq!(get("config").subcommand(b"get").unwrap().arity, -3);
        let encoding = get("object").subcommand(b"encoding").unwrap();
        assert_eq!(encoding.arity, 3);
        assert_eq!(encoding.key_specs[0].begin, BeginSearch::Index(2));
        assert!(client.subcommand(b"nope").is_none());
        for name in ["id", "setname", "getname", "list", "info", "setinfo", "kill", "no-evict"] {
            assert!(client.subcommand(name.as_bytes()).is_some(), "client {name}");
        }
        for name in ["myid", "myshardid", "nodes", "slots", "shards", "keyslot", "setslot"] {
            assert!(get("cluster").subcommand(name.as_bytes()).is_some(), "cluster {name}");
        }
    }

    #[test]
    fn arity_ok_follows_redis_rules() {
        let get_ = get("get");
        assert!(get_.arity_ok(2));
        assert!(!get_.arity_ok(1));
        assert!(!get_.arity_ok(3));
        let mset = get("mset");
        assert!(!mset.arity_ok(2));
        assert!(mset.arity_ok(3));
        assert!(mset.arity_ok(9));
        assert!(get("ping").arity_ok(1));
    }

    #[test]
    fn legacy_range_matches_command_info() {
        assert_eq!(get("get").legacy_range(), (1, 1, 1));
        assert_eq!(get("mset").legacy_range(), (1, -1, 2));
        assert_eq!(get("blpop").legacy_range(), (1, -2, 1));
        assert_eq!(get("zunionstore").legacy_range(), (1, 1, 1));
        assert_eq!(get("eval").legacy_range(), (0, 0, 0));
        assert_eq!(get("mget").legacy_range(), (1, -1, 1));
        assert_eq!(get("ping").legacy_range(), (0, 0, 0));
    }

    #[test]
    fn movable_keys_for_keynum_keyword_and_unknown_specs() {
        for name in ["zunionstore", "eval", "migrate", "sort", "lmpop", "sintercard"] {
            assert!(get(name).movable_keys(), "{name}");
        }
        for name in ["get", "mset", "blpop", "del", "ping"] {
            assert!(!get(name).movable_keys(), "{name}");
        }
    }

    /// Arity, legacy key range and movablekeys of every row, against what Redis 7.0.15's
    /// `COMMAND INFO` prints.
    #[test]
    fn every_row_matches_redis_command_info() {
        let rows = all_rows();
        assert_eq!(rows.len(), REDIS_COMMAND_INFO.len());
        let by_full: HashMap<_, _> = rows.into_iter().collect();
        for &(full, arity, first, last, step, movable) in REDIS_COMMAND_INFO {
            let spec = by_full.get(full).unwrap_or_else(|| panic!("{full} missing"));
            assert_eq!(spec.arity, arity, "{full} arity");
            assert_eq!(spec.legacy_range(), (first, last, step), "{full} legacy range");
            assert_eq!(spec.movable_keys(), movable, "{full} movablekeys");
        }
    }

    #[test]
    fn key_specs_are_well_formed() {
        for (full, spec) in all_rows() {
            for ks in spec.key_specs {
                match ks.find {
                    FindKeys::Range { last_key, step, limit } => {
                        assert!(step >= 1, "{full}");
                        assert!(limit == 0 || last_key == -1, "{full}");
                    }
                    FindKeys::Keynum { step, .. } => assert!(step >= 1, "{full}"),
                    FindKeys::Unknown => assert_eq!(ks.begin, BeginSearch::Unknown, "{full}"),
                }
                if let BeginSearch::Index(i) = ks.begin {
                    assert!(i >= 1, "{full}");
                }
            }
            if !spec.subcommands.is_empty() {
                assert!(spec.key_specs.is_empty(), "{full}: containers have no keys");
            }
        }
    }

    #[test]
    fn may_replicate_rows() {
        use super::super::flags::MAY_REPLICATE;
        for name in ["publish", "spublish", "eval", "evalsha", "fcall"] {
            assert!(get(name).has(MAY_REPLICATE), "{name}");
        }
        assert!(!get("eval_ro").has(MAY_REPLICATE));
    }
}
