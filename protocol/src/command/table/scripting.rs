//! Scripting commands (group `scripting`). slotbox does not run scripts; the rows are here
//! so that their keys (`numkeys` style) can be routed and checked like any other command.
//!
//! Data only: rows copied from Redis 7.0 (`COMMAND INFO` / `COMMAND DOCS`); no behaviour here.

use super::super::flags::*;
use super::super::CommandSpec;
use super::{index, key, keynum, noted};

const ASSUME_RW: &str = "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE";
const ASSUME_RO: &str = "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS";

pub(super) const ROWS: &[CommandSpec] = &[
    CommandSpec {
        name: "eval",
        arity: -3,
        flags: NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | MAY_REPLICATE,
        acl: &["slow", "scripting"],
        group: "scripting",
        since: "2.6.0",
        summary: "Execute a Lua script server side",
        complexity: "Depends on the script that is executed.",
        key_specs: &[noted(ASSUME_RW, key(index(2), keynum(0, 1, 1), &["RW", "access", "update"]))],
        subcommands: &[],
    },
    CommandSpec {
        name: "eval_ro",
        arity: -3,
        flags: READONLY | NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS,
        acl: &["slow", "scripting"],
        group: "scripting",
        since: "7.0.0",
        summary: "Execute a read-only Lua script server side",
        complexity: "Depends on the script that is executed.",
        key_specs: &[noted(ASSUME_RO, key(index(2), keynum(0, 1, 1), &["RO", "access"]))],
        subcommands: &[],
    },
    CommandSpec {
        name: "evalsha",
        arity: -3,
        flags: NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | MAY_REPLICATE,
        acl: &["slow", "scripting"],
        group: "scripting",
        since: "2.6.0",
        summary: "Execute a Lua script server side",
        complexity: "Depends on the script that is executed.",
        key_specs: &[key(index(2), keynum(0, 1, 1), &["RW", "access", "update"])],
        subcommands: &[],
    },
    CommandSpec {
        name: "evalsha_ro",
        arity: -3,
        flags: READONLY | NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS,
        acl: &["slow", "scripting"],
        group: "scripting",
        since: "7.0.0",
        summary: "Execute a read-only Lua script server side",
        complexity: "Depends on the script that is executed.",
        key_specs: &[key(index(2), keynum(0, 1, 1), &["RO", "access"])],
        subcommands: &[],
    },
    CommandSpec {
        name: "fcall",
        arity: -3,
        flags: NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | MAY_REPLICATE,
        acl: &["slow", "scripting"],
        group: "scripting",
        since: "7.0.0",
        summary: "Invoke a function",
        complexity: "Depends on the function that is executed.",
        key_specs: &[noted(ASSUME_RW, key(index(2), keynum(0, 1, 1), &["RW", "access", "update"]))],
        subcommands: &[],
    },
    CommandSpec {
        name: "fcall_ro",
        arity: -3,
        flags: READONLY | NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS,
        acl: &["slow", "scripting"],
        group: "scripting",
        since: "7.0.0",
        summary: "Invoke a read-only function",
        complexity: "Depends on the function that is executed.",
        key_specs: &[noted(ASSUME_RO, key(index(2), keynum(0, 1, 1), &["RO", "access"]))],
        subcommands: &[],
    },
];
