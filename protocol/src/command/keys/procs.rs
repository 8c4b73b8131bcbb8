//! Redis 7.0's own key parsers (`getkeys_proc` in `db.c`) for the commands of our table,
//! used only when a request's key specs cannot be followed: SORT and SORT_RO (whose specs
//! are `unknown`), MIGRATE (`incomplete`), PFMERGE without sources, and the `numkeys` parser shared by EVAL, FCALL,
//! ZUNIONSTORE, LMPOP, SINTERCARD and friends (a count the spec rejects, such as "01").
//! Like the rest of key extraction: positions only, no panics.

use super::super::{BeginSearch, CommandSpec, FindKeys};
use super::KeyIndices;

/// Redis's `getkeys_proc` for a request whose specs could not be followed.
pub(super) fn command_parser<A: AsRef<[u8]>>(spec: &CommandSpec, args: &[A]) -> KeyIndices {
    match spec.name {
        "sort" => sort_keys(args),
        "sort_ro" if args.len() > 1 => KeyIndices::from_slice(&[1]),
        "migrate" => migrate_keys(args),
        // `PFMERGE dest` (no sources): Redis's specs give no key and it has no parser; the
        // destination is still the key it writes, so it is the one to route and lock.
        "pfmerge" if args.len() == 2 => KeyIndices::from_slice(&[1]),
        _ => numkeys_keys(spec, args),
    }
}

/// `genericGetKeys`, which every `numkeys` command uses: the count is read with C's
/// `atoi` (so "01" or " 2" count), any count that does not fit gives no keys, and the
/// destination key (the `Index` spec before the `numkeys` one), if any, comes last.
fn numkeys_keys<A: AsRef<[u8]>>(spec: &CommandSpec, args: &[A]) -> KeyIndices {
    let mut keys = KeyIndices::new();
    let mut store = None;
    for ks in spec.key_specs {
        match (ks.begin, ks.find) {
            (BeginSearch::Index(pos), FindKeys::Range { last_key: 0, .. }) => store = Some(pos),
            (BeginSearch::Index(pos), FindKeys::Keynum { keynum_idx, first_key, step }) => {
                let Some(count) = args.get(pos + keynum_idx) else {
                    return keys;
                };
                let num = i64::from(atoi(count.as_ref()));
                let first = pos + first_key;
                let room = args.len().saturating_sub(first) / step.max(1);
                if num < 1 || num > room as i64 {
                    return keys;
                }
                keys.extend((0..num as usize).map(|i| first + i * step));
                keys.extend(store.filter(|&s| s < args.len()));
                return keys;
            }
            _ => {}
        }
    }
    keys
}

/// C's `atoi` as glibc does it: `(int) strtol(s, NULL, 10)` — leading white space, a sign,
/// digits up to the first non-digit, clamped to `long` and then truncated to `int`.
fn atoi(s: &[u8]) -> i32 {
    let s = match s.iter().position(|b| !matches!(b, b' ' | b'\t'..=b'\r')) {
        Some(start) => &s[start..],
        None => return 0,
    };
    let (negative, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for &b in digits.iter().take_while(|b| b.is_ascii_digit()) {
        let d = i64::from(b - b'0');
        n = if negative { n.saturating_mul(10).saturating_sub(d) } else { n.saturating_mul(10).saturating_add(d) };
    }
    n as i32
}

/// `sortGetKeys`: the sorted key, plus the key after the last `STORE`, skipping the
/// arguments of `LIMIT` (2), `GET` (1) and `BY` (1).
fn sort_keys<A: AsRef<[u8]>>(args: &[A]) -> KeyIndices {
    let mut keys = KeyIndices::new();
    if args.len() < 2 {
        return keys;
    }
    keys.push(1);
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let arg = args[i].as_ref();
        if arg.eq_ignore_ascii_case(b"limit") {
            i += 2;
        } else if arg.eq_ignore_ascii_case(b"get") || arg.eq_ignore_ascii_case(b"by") {
            i += 1;
        } else if arg.eq_ignore_ascii_case(b"store") && i + 1 < args.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    keys.extend(store);
    keys
}

/// `migrateGetKeys`: `MIGRATE host port key db timeout [COPY] [REPLACE] [AUTH pw]
/// [AUTH2 user pw] [KEYS key...]`. With `KEYS` the key argument must be empty; if it is
/// not, the request is a syntax error and has no keys.
fn migrate_keys<A: AsRef<[u8]>>(args: &[A]) -> KeyIndices {
    let mut keys = KeyIndices::new();
    let mut i = 6;
    while i < args.len() {
        let arg = args[i].as_ref();
        if arg.eq_ignore_ascii_case(b"keys") {
            if args[3].as_ref().is_empty() {
                keys.extend(i + 1..args.len());
            }
            return keys;
        }
        if arg.eq_ignore_ascii_case(b"auth") {
            i += 1;
        } else if arg.eq_ignore_ascii_case(b"auth2") {
            i += 2;
        }
        i += 1;
    }
    if args.len() > 3 {
        keys.push(3);
    }
    keys
}
