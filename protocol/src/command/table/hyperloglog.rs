//! HyperLogLog commands (group `hyperloglog`).
//!
//! Data only: rows copied from Redis 7.0 (`COMMAND INFO` / `COMMAND DOCS`); no behaviour here.

use super::super::flags::*;
use super::super::CommandSpec;
use super::{index, key, range};

pub(super) const ROWS: &[CommandSpec] = &[
    CommandSpec {
        name: "pfadd",
        arity: -2,
        flags: WRITE | DENYOOM | FAST,
        acl: &["write", "hyperloglog", "fast"],
        group: "hyperloglog",
        since: "2.8.9",
        summary: "Adds the specified elements to the specified HyperLogLog.",
        complexity: "O(1) to add every element.",
        key_specs: &[key(index(1), range(0, 1, 0), &["RW", "insert"])],
        subcommands: &[],
    },
    CommandSpec {
        name: "pfcount",
        arity: -2,
        flags: READONLY | MAY_REPLICATE,
        acl: &["read", "hyperloglog", "slow"],
        group: "hyperloglog",
        since: "2.8.9",
        summary: "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
        complexity: "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
        key_specs: &[key(index(1), range(-1, 1, 0), &["RW", "access"])],
        subcommands: &[],
    },
    CommandSpec {
        name: "pfdebug",
        arity: 3,
        flags: WRITE | DENYOOM | ADMIN,
        acl: &["write", "hyperloglog", "admin", "slow", "dangerous"],
        group: "hyperloglog",
        since: "2.8.9",
        summary: "Internal commands for debugging HyperLogLog values",
        complexity: "N/A",
        key_specs: &[key(index(2), range(0, 1, 0), &["RW", "access"])],
        subcommands: &[],
    },
    CommandSpec {
        name: "pfmerge",
        arity: -2,
        flags: WRITE | DENYOOM,
        acl: &["write", "hyperloglog", "slow"],
        group: "hyperloglog",
        since: "2.8.9",
        summary: "Merge N different HyperLogLogs into a single one.",
        complexity: "O(N) to merge N HyperLogLogs, but with high constant times.",
        key_specs: &[
            key(index(1), range(0, 1, 0), &["RW", "access", "insert"]),
            key(index(2), range(-1, 1, 0), &["RO", "access"]),
        ],
        subcommands: &[],
    },
    CommandSpec {
        name: "pfselftest",
        arity: 1,
        flags: ADMIN,
        acl: &["hyperloglog", "admin", "slow", "dangerous"],
        group: "hyperloglog",
        since: "2.8.9",
        summary: "An internal command for testing HyperLogLog values",
        complexity: "N/A",
        key_specs: &[],
        subcommands: &[],
    },
];
