//! The command table as data: every command slotbox knows, with its arity, flags, documentation
//! and key specs (Redis 7 style). One function, [`extract_keys`], finds the keys of any command
//! from this table; the server (slot routing, CROSSSLOT), the proxy (fan-out) and the cluster
//! tool all use it. This module must not know how a command is executed.

mod keys;
mod table;

pub use keys::{extract_keys, extract_keys_with_flags, extract_keys_without_channels, keys_of, KeyIndices};
pub use table::COMMANDS;

/// Command flags, as Redis prints them in `COMMAND INFO`.
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 14;
    pub const NO_MULTI: u32 = 1 << 15;
    pub const ALLOW_BUSY: u32 = 1 << 16;
    pub const NO_ASYNC_LOADING: u32 = 1 << 17;
    /// Refused unless a config allows it (`enable-debug-command` for DEBUG); hidden from
    /// COMMAND INFO, as in Redis.
    pub const PROTECTED: u32 = 1 << 18;

    /// (flag, name) in the order Redis 7.0 prints them in COMMAND INFO (`may_replicate` is
    /// hidden, as in Redis; `movablekeys` is computed, see [`super::CommandSpec::flag_names`]).
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
    ];
}

/// Where the search for keys starts (Redis key spec `begin_search`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// Keys start at this argument index (0 is the command name).
    Index(usize),
    /// Keys start after the first occurrence of `keyword` found scanning from `start_from`
    /// (negative: from the end, backwards).
    Keyword { keyword: &'static str, start_from: i32 },
    /// Redis cannot say where these keys are (`"unknown"` in `COMMAND INFO`); only the
    /// command's own parser finds them (SORT's `BY`/`GET` patterns and `STORE`).
    Unknown,
}

/// How keys are found once the start is known (Redis key spec `find_keys`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// `last_key` is relative to the start (-1: last argument, -2: one before, ...);
    /// `limit` (when last_key is -1) divides the remaining args (0 = no limit).
    Range { last_key: i32, step: usize, limit: usize },
    /// The argument at `start + keynum_idx` is the number of keys; keys begin at
    /// `start + first_key` and are `step` apart.
    Keynum { keynum_idx: usize, first_key: usize, step: usize },
    /// Paired with [`BeginSearch::Unknown`] (`"unknown"` in `COMMAND INFO`).
    Unknown,
}

/// One key spec of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    pub begin: BeginSearch,
    pub find: FindKeys,
    /// Redis key-spec flags such as "RW", "access", "update", "OW", "RM", "insert", "delete", "RO".
    pub flags: &'static [&'static str],
    /// Redis's note on the spec (`COMMAND INFO` shows it first when not empty).
    pub notes: &'static str,
}

/// One row of the command table.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    /// Lower-case name (for a subcommand: the subcommand name alone, e.g. "getname").
    pub name: &'static str,
    /// Redis arity: positive = exact argc (including the name), negative = at least -arity.
    pub arity: i32,
    pub flags: u32,
    /// ACL categories without the '@' ("write", "string", "fast", ...).
    pub acl: &'static [&'static str],
    /// Redis command group: "string", "generic", "connection", "server", "hash", ...
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    pub key_specs: &'static [KeySpec],
    /// Container commands (CLIENT, CONFIG, COMMAND, CLUSTER, OBJECT, ...) list their subcommands.
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// True if `argc` (including the command name) satisfies the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        if self.arity >= 0 {
            argc == self.arity as usize
        } else {
            argc >= (-self.arity) as usize
        }
    }

    /// Legacy (first_key, last_key, step) as printed by COMMAND INFO, derived from the key specs
    /// exactly as Redis does (only from leading Index+Range specs).
    pub fn legacy_range(&self) -> (i64, i64, i64) {
        let mut first = 0i64;
        let mut last = 0i64;
        let mut step = 0i64;
        let mut prev_last: Option<i64> = None;
        for ks in self.key_specs {
            let (BeginSearch::Index(b), FindKeys::Range { last_key, step: s, limit: _ }) = (ks.begin, ks.find) else {
                break;
            };
            let b = b as i64;
            let this_last = if last_key < 0 { last_key as i64 } else { b + last_key as i64 };
            if first == 0 {
                first = b;
                last = this_last;
                step = s as i64;
            } else {
                // Only merge adjacent specs with step 1, like Redis's populateCommandLegacyRangeSpec.
                if step != 1 || s != 1 || prev_last.map(|p| p + 1) != Some(b) {
                    break;
                }
                last = this_last;
            }
            prev_last = Some(this_last);
            if this_last < 0 {
                break;
            }
        }
        (first, last, step)
    }

    /// True if the command's keys cannot be described by the legacy range (keynum, keyword...).
    pub fn movable_keys(&self) -> bool {
        self.key_specs
            .iter()
            .any(|ks| !matches!(ks.begin, BeginSearch::Index(_)) || !matches!(ks.find, FindKeys::Range { .. }))
    }

    /// The flags COMMAND INFO prints, in Redis's order (including the computed `movablekeys`).
    pub fn flag_names(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> =
            flags::NAMES.iter().filter(|(f, _)| self.flags & f != 0).map(|(_, n)| *n).collect();
        if self.movable_keys() {
            out.push("movablekeys");
        }
        if self.has(flags::ALLOW_BUSY) {
            out.push("allow_busy");
        }
        out
    }

    /// Find a subcommand by name, case-insensitively.
    pub fn subcommand(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        self.subcommands.iter().find(|c| c.name.as_bytes().eq_ignore_ascii_case(name))
    }
}

/// Find a command by name, case-insensitively.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    table::lookup(name)
}
