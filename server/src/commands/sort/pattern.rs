//! SORT's BY / GET patterns, as Redis's `lookupKeyByPattern`: `#` is the element itself; the
//! first `*` is replaced by the element; a `->field` after the `*` (with a field name) reads
//! that field of a hash instead of a string. A pattern without `*` names nothing.

use crate::commands::keys::lookup::read;
use crate::commands::Ctx;
use bytes::Bytes;

/// The key (and hash field) a pattern names for one element.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Target<'p> {
    pub key: Vec<u8>,
    pub field: Option<&'p [u8]>,
}

/// Redis searches a pattern as a C string: up to its first NUL byte.
fn c_str(pattern: &[u8]) -> &[u8] {
    pattern.iter().position(|&b| b == 0).map_or(pattern, |n| &pattern[..n])
}

/// Is this pattern `#` (the element itself)?
pub(super) fn is_hash_sign(pattern: &[u8]) -> bool {
    c_str(pattern) == b"#"
}

/// Does this pattern have a `*` (does it name a key per element)?
pub(super) fn has_star(pattern: &[u8]) -> bool {
    c_str(pattern).contains(&b'*')
}

/// What `pattern` names for `element`: `None` for `#` or a pattern without `*`.
pub(super) fn target<'p>(pattern: &'p [u8], element: &[u8]) -> Option<Target<'p>> {
    if is_hash_sign(pattern) {
        return None;
    }
    let star = c_str(pattern).iter().position(|&b| b == b'*')?;
    let after = &pattern[star + 1..];
    // The first "->" after the `*`, with a field name after it.
    let arrow = c_str(after).windows(2).position(|w| w == b"->").filter(|&i| after.get(i + 2).is_some_and(|&b| b != 0));
    let (postfix, field) = match arrow {
        Some(i) => (&after[..i], Some(&after[i + 2..])),
        None => (after, None),
    };
    let mut key = Vec::with_capacity(pattern.len() + element.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(element);
    key.extend_from_slice(postfix);
    Some(Target { key, field })
}

/// The value `pattern` names for `element` (`#`: the element), reading keys as Redis's
/// `lookupKeyRead` does (a keyspace hit or miss each); `None` when there is no such key, it
/// has another type, or the hash has no such field.
pub(super) fn lookup(ctx: &mut Ctx, pattern: &[u8], element: &Bytes) -> Option<Bytes> {
    if is_hash_sign(pattern) {
        return Some(element.clone());
    }
    let t = target(pattern, element)?;
    let entry = read(ctx.keys, &ctx.shared.stats, &t.key)?;
    match t.field {
        Some(field) => entry.value.as_hash()?.get(field).map(Bytes::copy_from_slice),
        None => entry.value.string_bytes().map(|mut s| s.with(Bytes::copy_from_slice)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(p: &str, e: &str) -> Option<(String, Option<String>)> {
        target(p.as_bytes(), e.as_bytes())
            .map(|t| (String::from_utf8(t.key).unwrap(), t.field.map(|f| String::from_utf8(f.to_vec()).unwrap())))
    }

    #[test]
    fn targets_as_redis() {
        assert_eq!(t("#", "a"), None);
        assert_eq!(t("fixed", "a"), None);
        assert_eq!(t("w_*", "a"), Some(("w_a".into(), None)));
        assert_eq!(t("w_*_x", "a"), Some(("w_a_x".into(), None)));
        assert_eq!(t("*-*", "a"), Some(("a-*".into(), None)));
        assert_eq!(t("h_*->f", "a"), Some(("h_a".into(), Some("f".into()))));
        assert_eq!(t("h_*x->f->g", "a"), Some(("h_ax".into(), Some("f->g".into()))));
        // "->" with no field name after it is part of the key name.
        assert_eq!(t("h_*->", "a"), Some(("h_a->".into(), None)));
        // A "->" before the `*` is not a field separator.
        assert_eq!(t("a->b*", "x"), Some(("a->bx".into(), None)));
        // Searched as C strings: nothing after a NUL byte counts.
        assert_eq!(t("#\0x", "a"), None);
        assert_eq!(t("w\0*", "a"), None);
        assert_eq!(t("w_*\0->f", "a"), Some(("w_a\0->f".into(), None)));
    }
}
