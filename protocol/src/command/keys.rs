//! Finding the key arguments of a request from its command's key specs, the way Redis 7.0
//! does (`getKeysFromCommandWithSpecs` / `getKeysUsingKeySpecs` in `db.c`).
//!
//! Indices count from `args[0]`, the command name; for a subcommand the caller passes the
//! subcommand's spec with the full arguments (`args[1]` is the subcommand name). When a spec
//! cannot be followed (bad `numkeys`, too few arguments, an `incomplete` or `unknown` spec)
//! Redis falls back to the command's own key parser (`getkeys_proc`); the ones this table
//! needs are mirrored in `keys/procs.rs`: SORT, SORT_RO, MIGRATE, and the `numkeys`
//! parser shared by EVAL, FCALL, ZUNIONSTORE, LMPOP, SINTERCARD and friends.
//!
//! This module only finds positions: it never panics, allocates only for more than four
//! keys, and knows nothing about slots or how a command runs.

mod procs;

use smallvec::SmallVec;

use super::{BeginSearch, CommandSpec, FindKeys, KeySpec};

/// Positions of key arguments, in the order the key specs list them.
pub type KeyIndices = SmallVec<[usize; 4]>;

/// The arguments that decide where a request runs: its keys plus its shard channels
/// (SPUBLISH, SSUBSCRIBE, SUNSUBSCRIBE, whose specs Redis flags `not_key`). This is what
/// Redis Cluster hashes for `-MOVED` and `-CROSSSLOT`; use it for routing and fan-out.
pub fn extract_keys<A: AsRef<[u8]>>(spec: &CommandSpec, args: &[A]) -> KeyIndices {
    // Most commands (GET, SET, INCR, LPUSH, HSET ...) have one key at a fixed position: no
    // walk over the specs for them, it runs on every request.
    if let [KeySpec { begin: BeginSearch::Index(pos), find: FindKeys::Range { last_key: 0, .. }, flags, .. }] =
        spec.key_specs
    {
        let pos = *pos;
        if pos > 0 && pos < args.len() && !flags.contains(&"incomplete") {
            let mut keys = KeyIndices::new();
            keys.push(pos);
            return keys;
        }
    }
    find_keys(spec, args, true)
}

/// Only real keys, as `COMMAND GETKEYS` reports them: shard channels are not keys.
pub fn extract_keys_without_channels<A: AsRef<[u8]>>(spec: &CommandSpec, args: &[A]) -> KeyIndices {
    find_keys(spec, args, false)
}

/// The key arguments themselves (see [`extract_keys`]).
pub fn keys_of<'a, A: AsRef<[u8]>>(spec: &CommandSpec, args: &'a [A]) -> impl Iterator<Item = &'a [u8]> + 'a {
    extract_keys(spec, args).into_iter().map(move |i| args[i].as_ref())
}

fn find_keys<A: AsRef<[u8]>>(spec: &CommandSpec, args: &[A], channels: bool) -> KeyIndices {
    match walk_specs(spec, args, channels, |_, _| {}) {
        Found::Specs(keys) | Found::Parser(keys) => keys,
    }
}

/// Where the keys of a request came from.
enum Found {
    /// Every key spec was followed.
    Specs(KeyIndices),
    /// A spec could not be followed: the command's own parser found these.
    Parser(KeyIndices),
}

/// Follow the key specs in order (`not_key` ones only with `channels`), telling `per_spec`
/// which positions each one found; the command's parser takes over as soon as one cannot be
/// followed.
fn walk_specs<A: AsRef<[u8]>>(
    spec: &CommandSpec,
    args: &[A],
    channels: bool,
    mut per_spec: impl FnMut(&'static KeySpec, &[usize]),
) -> Found {
    let mut keys = KeyIndices::new();
    for ks in spec.key_specs {
        if !channels && ks.flags.contains(&"not_key") {
            continue;
        }
        let before = keys.len();
        if follow_spec(ks, args, &mut keys).is_err() {
            return Found::Parser(procs::command_parser(spec, args));
        }
        per_spec(ks, &keys[before..]);
    }
    Found::Specs(keys)
}

/// Key positions with the flags of the key spec that found each, as `COMMAND GETKEYSANDFLAGS`
/// reports them (Redis's `getKeysFromCommandWithSpecs`). When the specs cannot be followed the
/// command's own parser finds the keys: the first takes the first spec's flags, the others
/// the last spec's (SORT's STORE key, MIGRATE's KEYS); a spec flagged `variable_flags` (SET, BITFIELD) takes the flags of
/// this request, as Redis's `setGetKeys` / `bitfieldGetKeys` set them. `incomplete` and
/// `variable_flags` are not reported.
pub fn extract_keys_with_flags<A: AsRef<[u8]>>(spec: &CommandSpec, args: &[A]) -> Vec<(usize, Vec<&'static str>)> {
    let mut out = Vec::new();
    let per_spec = |ks: &'static KeySpec, found: &[usize]| {
        out.extend(found.iter().map(|&k| (k, shown_flags(spec.name, ks.flags, args))));
    };
    let Found::Parser(found) = walk_specs(spec, args, false, per_spec) else { return out };
    let mut specs = spec.key_specs.iter().filter(|ks| !ks.flags.contains(&"not_key"));
    let (first, last) = (specs.next(), specs.next_back());
    found
        .into_iter()
        .enumerate()
        .map(|(i, k)| {
            let spec_of = if i == 0 { first } else { last.or(first) };
            (k, shown_flags(spec.name, spec_of.map_or(&[][..], |ks| ks.flags), args))
        })
        .collect()
}

/// A key spec's flags as reported for this request.
fn shown_flags<A: AsRef<[u8]>>(name: &str, flags: &'static [&'static str], args: &[A]) -> Vec<&'static str> {
    let is = |a: &A, w: &str| a.as_ref().eq_ignore_ascii_case(w.as_bytes());
    let flags: &'static [&'static str] = if !flags.contains(&"variable_flags") {
        flags
    } else if name == "set" {
        if args.iter().skip(3).any(|a| is(a, "get")) {
            &["RW", "access", "update"]
        } else {
            &["OW", "update"]
        }
    } else if name == "bitfield" {
        // Read-only unless a SET or INCRBY is among the operations.
        let mut i = 2;
        let mut writes = false;
        while i < args.len() {
            let a = &args[i];
            if is(a, "get") {
                i += 3;
            } else if is(a, "set") || is(a, "incrby") {
                writes = true;
                break;
            } else if is(a, "overflow") {
                i += 2;
            } else {
                i += 1;
            }
        }
        if writes {
            &["RW", "access", "update"]
        } else {
            &["RO", "access"]
        }
    } else {
        flags
    };
    flags.iter().copied().filter(|f| *f != "incomplete" && *f != "variable_flags").collect()
}

/// The spec cannot be followed for this request; Redis then asks the command's own parser.
struct Invalid;

/// One iteration of Redis's `getKeysUsingKeySpecs` loop. Positions are `i64` so that bad
/// input can only make the spec invalid, never overflow.
fn follow_spec<A: AsRef<[u8]>>(ks: &KeySpec, args: &[A], keys: &mut KeyIndices) -> Result<(), Invalid> {
    let argc = args.len() as i64;
    let first = match ks.begin {
        BeginSearch::Index(pos) => pos as i64,
        BeginSearch::Keyword { keyword, start_from } => {
            match find_keyword(args, keyword, start_from) {
                Some(pos) => pos + 1,
                // Not there: the spec contributes nothing, and that is not an error.
                None => return Ok(()),
            }
        }
        BeginSearch::Unknown => return Err(Invalid),
    };
    let (first, last, step) = match ks.find {
        FindKeys::Range { last_key, step, limit } => {
            let last_key = i64::from(last_key);
            let last = if last_key >= 0 {
                first + last_key
            } else if limit == 0 {
                argc + last_key
            } else {
                // Only meaningful with last_key == -1: keys are 1/limit of the rest.
                first + ((argc - first) / limit as i64 + last_key)
            };
            (first, last, step)
        }
        FindKeys::Keynum { keynum_idx, first_key, step } => {
            let at = first + keynum_idx as i64;
            let Some(arg) = usize::try_from(at).ok().and_then(|i| args.get(i)) else {
                return Err(Invalid);
            };
            let numkeys = parse_numkeys(arg.as_ref()).ok_or(Invalid)?;
            // Redis computes `first + (int)numkeys - 1`: a count past i32 wraps.
            let numkeys = i64::from(numkeys as i32);
            let first = first + first_key as i64;
            (first, first + numkeys - 1, step)
        }
        FindKeys::Unknown => return Err(Invalid),
    };
    if last >= argc || last < first || first >= argc {
        return Err(Invalid);
    }
    // Bounds were checked above, so every position below is an index into `args`.
    let step = step.max(1);
    keys.extend((first as usize..=last as usize).step_by(step));
    if ks.flags.contains(&"incomplete") {
        return Err(Invalid);
    }
    Ok(())
}

/// Position of `keyword` (ASCII case-insensitive), scanning forward from `start_from` or,
/// when it is negative, backward from `argc + start_from`. Like Redis, the forward scan
/// stops before the last argument and the backward scan before `args[1]`.
fn find_keyword<A: AsRef<[u8]>>(args: &[A], keyword: &str, start_from: i32) -> Option<i64> {
    let argc = args.len() as i64;
    let start_from = i64::from(start_from);
    let (start, end) = if start_from > 0 { (start_from, argc - 1) } else { (argc + start_from, 1) };
    let forward = start <= end;
    let mut i = start;
    while i != end {
        if i >= argc || i < 1 {
            break;
        }
        if args[i as usize].as_ref().eq_ignore_ascii_case(keyword.as_bytes()) {
            return Some(i);
        }
        i += if forward { 1 } else { -1 };
    }
    None
}

/// `numkeys` as Redis's `string2ll` reads it: an optional '-', no '+', no spaces, no
/// leading zeros. Negative counts are as invalid as non-numbers.
fn parse_numkeys(arg: &[u8]) -> Option<i64> {
    let digits = arg.strip_prefix(b"-").unwrap_or(arg);
    let leading_zero = digits.len() > 1 && digits[0] == b'0';
    if digits.is_empty() || leading_zero || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: i64 = std::str::from_utf8(arg).ok()?.parse().ok()?;
    (n >= 0).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::super::lookup;
    use super::*;

    fn keys(line: &str) -> Vec<usize> {
        let args: Vec<&str> = line.split(' ').collect();
        let spec = lookup(args[0].as_bytes()).expect("known command");
        extract_keys(spec, &args).to_vec()
    }

    fn sub_keys(line: &str) -> Vec<usize> {
        let args: Vec<&str> = line.split(' ').collect();
        let container = lookup(args[0].as_bytes()).expect("known command");
        let spec = container.subcommand(args[1].as_bytes()).expect("known subcommand");
        extract_keys(spec, &args).to_vec()
    }

    #[test]
    fn the_single_key_shortcut_agrees_with_the_spec_walk() {
        let specs = super::super::table::COMMANDS.iter().flat_map(|c| std::iter::once(c).chain(c.subcommands));
        for spec in specs {
            for argc in 0..6 {
                let args: Vec<String> = (0..argc).map(|i| format!("a{i}")).collect();
                let walked = find_keys(spec, &args, true);
                assert_eq!(extract_keys(spec, &args), walked, "{} with {argc} arguments", spec.name);
            }
        }
    }

    #[test]
    fn single_and_multi_key_ranges() {
        assert_eq!(keys("GET k"), [1]);
        assert_eq!(keys("get"), [] as [usize; 0]);
        assert_eq!(keys("SET k v EX 10"), [1]);
        assert_eq!(keys("MGET a b c"), [1, 2, 3]);
        assert_eq!(keys("DEL a b"), [1, 2]);
        assert_eq!(keys("MSET a 1 b 2 c 3"), [1, 3, 5]);
        assert_eq!(keys("MSET a 1 b"), [1, 3]);
        assert_eq!(keys("RENAME a b"), [1, 2]);
        assert_eq!(keys("LMOVE a b LEFT RIGHT"), [1, 2]);
        assert_eq!(keys("PING"), [] as [usize; 0]);
    }

    #[test]
    fn blocking_pops_stop_before_the_timeout() {
        assert_eq!(keys("BLPOP a b 0"), [1, 2]);
        assert_eq!(keys("BRPOP a 1.5"), [1]);
        assert_eq!(keys("BLPOP a"), [] as [usize; 0]);
        assert_eq!(keys("BZPOPMIN a b c 0"), [1, 2, 3]);
        assert_eq!(keys("BLMOVE a b LEFT LEFT 0"), [1, 2]);
    }

    #[test]
    fn numkeys_commands() {
        assert_eq!(keys("ZUNIONSTORE dest 2 a b WEIGHTS 1 2"), [1, 3, 4]);
        assert_eq!(keys("ZINTERSTORE dest 1 a"), [1, 3]);
        assert_eq!(keys("ZUNION 2 a b WITHSCORES"), [2, 3]);
        assert_eq!(keys("ZDIFF 1 a"), [2]);
        assert_eq!(keys("EVAL script 2 a b arg"), [3, 4]);
        assert_eq!(keys("EVAL script 0 arg"), [] as [usize; 0]);
        assert_eq!(keys("EVALSHA sha 1 a"), [3]);
        assert_eq!(keys("FCALL_RO f 1 a x"), [3]);
        assert_eq!(keys("SINTERCARD 2 a b LIMIT 5"), [2, 3]);
        assert_eq!(keys("ZINTERCARD 1 a"), [2]);
        assert_eq!(keys("LMPOP 2 a b LEFT COUNT 3"), [2, 3]);
        assert_eq!(keys("BLMPOP 0.5 2 a b RIGHT"), [3, 4]);
        assert_eq!(keys("ZMPOP 1 z MIN"), [2]);
        assert_eq!(keys("BZMPOP 1 2 y z MAX"), [3, 4]);
    }

    #[test]
    fn bad_numkeys_give_no_keys() {
        for line in [
            "ZUNIONSTORE dest 0 a",
            "ZUNIONSTORE dest -1 a",
            "ZUNIONSTORE dest abc a",
            "ZUNIONSTORE dest 3 a b",
            "ZUNIONSTORE dest 99999999999999999999999 a",
            "ZUNIONSTORE dest 9223372036854775807 a",
            "ZUNIONSTORE dest",
            "EVAL s 2 a",
            "EVAL s -1 a",
            "EVAL s",
            "SINTERCARD 0",
            "SINTERCARD x a",
            "LMPOP 3 a b",
            "BLMPOP 0",
        ] {
            assert_eq!(keys(line), [] as [usize; 0], "{line}");
        }
    }

    /// Checked against Redis 7.0.15's `COMMAND GETKEYS`: a count the spec rejects is read
    /// again with `atoi` (destination key last), and a count past i32 wraps.
    #[test]
    fn odd_numkeys_like_redis() {
        assert_eq!(keys("ZUNIONSTORE dest 01 a"), [3, 1]);
        assert_eq!(keys("ZUNIONSTORE dest +1 a"), [3, 1]);
        assert_eq!(keys("EVAL s 1abc k"), [3]);
        assert_eq!(keys("ZUNIONSTORE dest 4294967297 a"), [1, 3]);
    }

    #[test]
    fn migrate_single_key_and_keys_forms() {
        assert_eq!(keys("MIGRATE host 6379 k 0 5000"), [3]);
        assert_eq!(keys("MIGRATE host 6379 k 0 5000 COPY REPLACE"), [3]);
        assert_eq!(keys("MIGRATE host 6379 keys 0 5000"), [3]);
        assert_eq!(keys("MIGRATE host 6379  0 5000 KEYS a b"), [7, 8]);
        assert_eq!(keys("MIGRATE host 6379  0 5000 COPY AUTH2 u keys KEYS b"), [11]);
        assert_eq!(keys("MIGRATE host 6379  0 5000 AUTH keys KEYS a"), [9]);
        // KEYS with a non-empty key argument is a syntax error: no keys.
        assert_eq!(keys("MIGRATE host 6379 k 0 5000 KEYS a b"), [] as [usize; 0]);
        assert_eq!(keys("MIGRATE host"), [] as [usize; 0]);
    }

    #[test]
    fn sort_finds_the_last_store() {
        assert_eq!(keys("SORT k"), [1]);
        assert_eq!(keys("SORT k BY w_* GET # STORE dst"), [1, 7]);
        assert_eq!(keys("SORT k STORE d1 LIMIT 0 10 STORE d2"), [1, 8]);
        assert_eq!(keys("SORT k BY store"), [1]);
        assert_eq!(keys("SORT k STORE"), [1]);
        assert_eq!(keys("SORT_RO k BY w_* GET #"), [1]);
        assert_eq!(keys("SORT_RO"), [] as [usize; 0]);
    }

    #[test]
    fn subcommand_keys_count_from_the_command_name() {
        assert_eq!(sub_keys("OBJECT ENCODING k"), [2]);
        assert_eq!(sub_keys("OBJECT FREQ k"), [2]);
        assert_eq!(sub_keys("MEMORY USAGE k SAMPLES 5"), [2]);
        assert_eq!(sub_keys("OBJECT ENCODING"), [] as [usize; 0]);
        assert_eq!(sub_keys("CLIENT GETNAME"), [] as [usize; 0]);
        assert_eq!(sub_keys("CLUSTER KEYSLOT k"), [] as [usize; 0]);
    }

    #[test]
    fn shard_channels_route_but_are_not_keys() {
        let args = ["SPUBLISH", "ch", "msg"];
        let spec = lookup(b"spublish").unwrap();
        assert_eq!(extract_keys(spec, &args).to_vec(), [1]);
        assert!(extract_keys_without_channels(spec, &args).is_empty());
        assert_eq!(keys("SSUBSCRIBE a b"), [1, 2]);
        assert_eq!(keys("PUBLISH ch msg"), [] as [usize; 0]);
        let get = lookup(b"get").unwrap();
        assert_eq!(extract_keys_without_channels(get, &["GET", "k"]).to_vec(), [1]);
    }

    #[test]
    fn keys_of_returns_the_arguments() {
        let args: Vec<Vec<u8>> = ["MSET", "a", "1", "b", "2"].iter().map(|s| s.as_bytes().to_vec()).collect();
        let spec = lookup(b"mset").unwrap();
        let found: Vec<&[u8]> = keys_of(spec, &args).collect();
        assert_eq!(found, [&b"a"[..], &b"b"[..]]);
    }

    /// XREAD is not in the table; its Redis 7.0 spec exercises keyword search with `limit`.
    #[test]
    fn keyword_search_with_limit() {
        const XREAD: CommandSpec = CommandSpec {
            name: "xread",
            arity: -4,
            flags: 0,
            acl: &[],
            group: "stream",
            since: "5.0.0",
            summary: "",
            complexity: "",
            key_specs: &[KeySpec {
                begin: BeginSearch::Keyword { keyword: "STREAMS", start_from: 1 },
                find: FindKeys::Range { last_key: -1, step: 1, limit: 2 },
                flags: &["RO", "access"],
                notes: "",
            }],
            subcommands: &[],
        };
        let run = |line: &str| {
            let args: Vec<&str> = line.split(' ').collect();
            extract_keys(&XREAD, &args).to_vec()
        };
        assert_eq!(run("XREAD COUNT 2 STREAMS a b 0 0"), [4, 5]);
        assert_eq!(run("XREAD streams a 0"), [2]);
        assert_eq!(run("XREAD BLOCK 0 STREAMS"), [] as [usize; 0]);
        assert_eq!(run("XREAD COUNT 1"), [] as [usize; 0]);
    }

    #[test]
    fn hyperloglog_and_geo_keys() {
        assert_eq!(keys("PFCOUNT a b c"), [1, 2, 3]);
        assert_eq!(keys("PFMERGE d a b"), [1, 2, 3]);
        assert_eq!(keys("PFMERGE d"), [1]);
        assert_eq!(keys("PFDEBUG GETREG k"), [2]);
        assert_eq!(keys("GEOSEARCHSTORE d s FROMMEMBER m BYRADIUS 1 km"), [1, 2]);
        assert_eq!(keys("GEORADIUS s 0 0 1 km"), [1]);
        assert_eq!(keys("GEORADIUS s 0 0 1 km WITHDIST STORE d"), [1, 8]);
        assert_eq!(keys("GEORADIUS s 0 0 1 km STOREDIST d"), [1, 7]);
        assert_eq!(keys("GEORADIUSBYMEMBER s m 1 km STORE d"), [1, 6]);
        assert_eq!(keys("GEORADIUS_RO s 0 0 1 km"), [1]);
    }

    #[test]
    fn keys_with_flags_as_getkeysandflags_reports_them() {
        let run = |line: &str| {
            let args: Vec<&str> = line.split(' ').collect();
            let spec = super::super::lookup(args[0].as_bytes()).unwrap();
            extract_keys_with_flags(spec, &args)
                .into_iter()
                .map(|(i, f)| (args[i].to_string(), f.join(" ")))
                .collect::<Vec<_>>()
        };
        let pair = |k: &str, f: &str| (k.to_string(), f.to_string());
        assert_eq!(run("set k1 v1"), vec![pair("k1", "OW update")]);
        assert_eq!(run("set k1 v1 get"), vec![pair("k1", "RW access update")]);
        assert_eq!(run("mset k1 v1 k2 v2"), vec![pair("k1", "OW update"), pair("k2", "OW update")]);
        assert_eq!(run("LMOVE k1 k2 left right"), vec![pair("k1", "RW access delete"), pair("k2", "RW insert")]);
        assert_eq!(run("sort k1 store k2"), vec![pair("k1", "RO access"), pair("k2", "OW update")]);
        assert_eq!(run("bitfield b get u8 0"), vec![pair("b", "RO access")]);
        assert_eq!(run("bitfield b overflow sat incrby u8 0 1"), vec![pair("b", "RW access update")]);
    }

    #[test]
    fn never_panics_on_odd_input() {
        let odd: [&[&str]; 6] = [
            &[],
            &[""],
            &["x"; 40],
            &["", "", "", "", "", "", "KEYS"],
            &["-1", "-1", "-1", "-1"],
            &["99999999999999999999", "18446744073709551615", "-9223372036854775808"],
        ];
        let mut specs: Vec<&CommandSpec> = Vec::new();
        for c in super::super::COMMANDS {
            specs.push(c);
            specs.extend(c.subcommands.iter());
        }
        for spec in specs {
            for args in odd {
                for n in 0..=args.len() {
                    for k in extract_keys(spec, &args[..n]) {
                        assert!(k < n, "{} {:?}", spec.name, &args[..n]);
                    }
                    let _ = extract_keys_without_channels(spec, &args[..n]);
                }
            }
        }
    }
}
