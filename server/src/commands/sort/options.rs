//! SORT's SQL-like options, parsed as Redis's `sortCommandGeneric` reads them: left to right,
//! the last of ASC / DESC, LIMIT, STORE and BY winning, every GET kept in order, and the first
//! bad option answering its error (a cluster-mode refusal included). No keys are read here.

use crate::commands::args::{self, is};
use bytes::Bytes;
use slotbox_protocol::Frame;

/// What a SORT request asks for.
#[derive(Debug, Default, PartialEq)]
pub(super) struct SortOptions {
    pub desc: bool,
    pub alpha: bool,
    /// LIMIT offset and count as given (count -1: no limit).
    pub limit: (i64, i64),
    pub store: Option<Bytes>,
    /// The BY pattern (with a `*`: sort by the weights it names).
    pub by: Option<Bytes>,
    /// BY a pattern without `*`: keep the elements' own order.
    pub dontsort: bool,
    /// GET patterns, in order (`#` is the element itself).
    pub gets: Vec<Bytes>,
}

/// Where a SORT request runs: SORT_RO refuses STORE, cluster mode refuses patterns.
#[derive(Clone, Copy)]
pub(super) struct Mode {
    pub readonly: bool,
    pub cluster: bool,
}

/// Parse the options of `SORT key [option ...]` (`args[2..]`).
pub(super) fn parse(args: &[Bytes], mode: Mode) -> Result<SortOptions, Frame> {
    let mut o = SortOptions { limit: (0, -1), ..SortOptions::default() };
    let mut j = 2;
    while j < args.len() {
        let (opt, left) = (&args[j], args.len() - j - 1);
        if is(opt, "asc") {
            o.desc = false;
        } else if is(opt, "desc") {
            o.desc = true;
        } else if is(opt, "alpha") {
            o.alpha = true;
        } else if is(opt, "limit") && left >= 2 {
            o.limit = (args::int(&args[j + 1])?, args::int(&args[j + 2])?);
            j += 2;
        } else if !mode.readonly && is(opt, "store") && left >= 1 {
            o.store = Some(args[j + 1].clone());
            j += 1;
        } else if is(opt, "by") && left >= 1 {
            by(&mut o, &args[j + 1], mode)?;
            j += 1;
        } else if is(opt, "get") && left >= 1 {
            if mode.cluster {
                return Err(Frame::error_static("ERR GET option of SORT denied in Cluster mode."));
            }
            o.gets.push(args[j + 1].clone());
            j += 1;
        } else {
            return Err(args::syntax_error());
        }
        j += 1;
    }
    Ok(o)
}

fn by(o: &mut SortOptions, pattern: &Bytes, mode: Mode) -> Result<(), Frame> {
    o.by = Some(pattern.clone());
    // A constant BY names no weights: nothing to sort (a later BY with a `*` does not undo it).
    if !super::pattern::has_star(pattern) {
        o.dontsort = true;
    } else if mode.cluster {
        return Err(Frame::error_static("ERR BY option of SORT denied in Cluster mode."));
    }
    Ok(())
}

/// Does this SORT request read keys other than its own (BY or GET patterns with a `*`)? Those
/// can be anywhere in the keyspace, so the command runs with nothing else running.
pub fn reads_other_keys(args: &[Bytes]) -> bool {
    let mut j = 2;
    while j < args.len() {
        let arg = &args[j];
        if is(arg, "limit") {
            j += 2;
        } else if is(arg, "by") || is(arg, "get") {
            if args.get(j + 1).is_some_and(|p| !super::pattern::is_hash_sign(p) && super::pattern::has_star(p)) {
                return true;
            }
            j += 1;
        }
        j += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(words: &[&str], readonly: bool, cluster: bool) -> Result<SortOptions, String> {
        let args: Vec<Bytes> = words.iter().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect();
        parse(&args, Mode { readonly, cluster }).map_err(|e| String::from_utf8_lossy(e.error_text().unwrap()).into())
    }

    #[test]
    fn options_in_order_last_wins() {
        let o = parse_str(
            &["SORT", "k", "desc", "LIMIT", "1", "2", "asc", "alpha", "get", "#", "GET", "w_*"],
            false,
            false,
        )
        .unwrap();
        assert!(!o.desc && o.alpha && !o.dontsort);
        assert_eq!(o.limit, (1, 2));
        assert_eq!(o.gets, vec![Bytes::from_static(b"#"), Bytes::from_static(b"w_*")]);
        let o =
            parse_str(&["SORT", "k", "by", "nosort", "by", "w_*", "store", "a", "store", "b"], false, false).unwrap();
        assert!(o.dontsort, "a constant BY is remembered");
        assert_eq!(o.by.as_deref(), Some(&b"w_*"[..]));
        assert_eq!(o.store.as_deref(), Some(&b"b"[..]));
    }

    #[test]
    fn errors_as_redis() {
        let syntax = Err("ERR syntax error".to_string());
        assert_eq!(parse_str(&["SORT", "k", "limit", "1"], false, false), syntax);
        assert_eq!(parse_str(&["SORT", "k", "store"], false, false), syntax);
        assert_eq!(parse_str(&["SORT", "k", "store", "d"], true, false), syntax);
        assert_eq!(parse_str(&["SORT", "k", "foo"], false, false), syntax);
        assert_eq!(
            parse_str(&["SORT", "k", "limit", "x", "1"], false, false),
            Err("ERR value is not an integer or out of range".into())
        );
        assert_eq!(
            parse_str(&["SORT", "k", "by", "w_*"], false, true),
            Err("ERR BY option of SORT denied in Cluster mode.".into())
        );
        assert!(parse_str(&["SORT", "k", "by", "nosort"], false, true).is_ok());
        assert_eq!(
            parse_str(&["SORT", "k", "get", "#"], false, true),
            Err("ERR GET option of SORT denied in Cluster mode.".into())
        );
    }

    #[test]
    fn other_keys() {
        let a = |w: &[&str]| w.iter().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect::<Vec<_>>();
        assert!(!reads_other_keys(&a(&["SORT", "k", "get", "#", "by", "nosort", "limit", "*", "*"])));
        assert!(!reads_other_keys(&a(&["SORT", "k", "get", "fixed"])));
        assert!(reads_other_keys(&a(&["SORT", "k", "by", "w_*"])));
        assert!(reads_other_keys(&a(&["SORT", "k", "alpha", "get", "h_*->f"])));
    }
}
