//! SORT's ordering, as Redis's `sortCompare`: numeric by a weight read with `strtod` (ties by the
//! elements' bytes), or ALPHA by the elements or by BY-pattern values (a missing value first).
//! Redis compares ALPHA strings with `strcoll` (the server's locale; C / C.UTF-8 order is
//! byte order up to the first NUL) unless the result is STOREd, then byte by byte. DESC
//! reverses the comparison, not the result: equal items keep their input order, as glibc's
//! stable `qsort` keeps them.

use bytes::Bytes;
use slotbox_protocol::float::strtod;
use std::cmp::Ordering;

/// One element to sort and what it is compared by.
pub(super) struct Item {
    pub element: Bytes,
    /// Numeric weight (0 when the BY key is missing).
    pub score: f64,
    /// ALPHA by pattern: the BY value (`None`: no such key or field).
    pub by_value: Option<Bytes>,
}

impl Item {
    pub fn new(element: Bytes) -> Self {
        Item { element, score: 0.0, by_value: None }
    }
}

/// How items compare.
#[derive(Clone, Copy, Default)]
pub(super) struct Order {
    pub desc: bool,
    pub alpha: bool,
    pub by_pattern: bool,
    pub store: bool,
}

/// A weight as Redis reads it: `strtod` must read the whole value (up to a NUL byte), stay in
/// range and not be NaN; `None` is "One or more scores can't be converted into double".
pub(super) fn score(value: &[u8]) -> Option<f64> {
    let r = strtod(value);
    let whole = value.get(r.end).is_none_or(|&b| b == 0);
    (whole && !r.out_of_range && !r.value.is_nan()).then_some(r.value)
}

/// A string as C sees it: up to its first NUL byte.
fn c_str(s: &[u8]) -> &[u8] {
    s.iter().position(|&b| b == 0).map_or(s, |n| &s[..n])
}

fn text_cmp(a: &[u8], b: &[u8], store: bool) -> Ordering {
    if store {
        a.cmp(b)
    } else {
        c_str(a).cmp(c_str(b))
    }
}

pub(super) fn compare(a: &Item, b: &Item, o: Order) -> Ordering {
    let cmp = if !o.alpha {
        a.score.partial_cmp(&b.score).filter(|c| c.is_ne()).unwrap_or_else(|| a.element.cmp(&b.element))
    } else if o.by_pattern {
        match (&a.by_value, &b.by_value) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => text_cmp(x, y, o.store),
        }
    } else {
        text_cmp(&a.element, &b.element, o.store)
    };
    if o.desc {
        cmp.reverse()
    } else {
        cmp
    }
}

/// Sort `items` in place (stable).
pub(super) fn sort(items: &mut [Item], o: Order) {
    items.sort_by(|a, b| compare(a, b, o));
}

/// Redis's LIMIT arithmetic for `len` elements: the inclusive window `(start, end)`, empty when
/// `end < start`.
pub(super) fn window(len: usize, (offset, count): (i64, i64)) -> (i64, i64) {
    let len = len as i64;
    let mut start = offset.clamp(0, len);
    let count = count.clamp(-1, len);
    let mut end = if count < 0 { len - 1 } else { start + count - 1 };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(els: &[&str]) -> Vec<Item> {
        els.iter().map(|e| Item::new(Bytes::copy_from_slice(e.as_bytes()))).collect()
    }

    fn names(v: &[Item]) -> Vec<&str> {
        v.iter().map(|i| std::str::from_utf8(&i.element).unwrap()).collect()
    }

    #[test]
    fn weights_as_strtod() {
        assert_eq!(score(b"1.5"), Some(1.5));
        assert_eq!(score(b" 5"), Some(5.0));
        assert_eq!(score(b""), Some(0.0));
        assert_eq!(score(b"0x10"), Some(16.0));
        assert_eq!(score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(score(b"3\0junk"), Some(3.0));
        for bad in ["5 ", "+", "1e", "nan", "1e400", "1e-310", "abc"] {
            assert_eq!(score(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn numeric_ties_by_element_and_desc_reverses_the_comparison() {
        let mut v = items(&["b", "a", "c"]);
        v[0].score = 1.0;
        v[1].score = 1.0;
        v[2].score = 0.0;
        sort(&mut v, Order::default());
        assert_eq!(names(&v), ["c", "a", "b"]);
        sort(&mut v, Order { desc: true, ..Order::default() });
        assert_eq!(names(&v), ["b", "a", "c"]);
    }

    #[test]
    fn alpha_by_pattern_missing_first_and_ties_stable() {
        let mut v = items(&["x", "y", "z", "w"]);
        v[0].by_value = Some(Bytes::from_static(b"b"));
        v[2].by_value = Some(Bytes::from_static(b"a"));
        let o = Order { alpha: true, by_pattern: true, ..Order::default() };
        sort(&mut v, o);
        assert_eq!(names(&v), ["y", "w", "z", "x"]);
        sort(&mut v, Order { desc: true, ..o });
        assert_eq!(names(&v), ["x", "z", "y", "w"]);
    }

    #[test]
    fn alpha_compares_c_strings_unless_stored() {
        let a = Item::new(Bytes::from_static(b"a\0z"));
        let b = Item::new(Bytes::from_static(b"a\0b"));
        let o = Order { alpha: true, ..Order::default() };
        assert_eq!(compare(&a, &b, o), Ordering::Equal);
        assert_eq!(compare(&a, &b, Order { store: true, ..o }), Ordering::Greater);
    }

    #[test]
    fn limit_windows() {
        assert_eq!(window(5, (0, -1)), (0, 4));
        assert_eq!(window(5, (1, 2)), (1, 2));
        assert_eq!(window(5, (-3, 2)), (0, 1));
        assert_eq!(window(5, (3, 10)), (3, 4));
        assert_eq!(window(5, (5, 1)), (4, 3));
        assert_eq!(window(5, (2, 0)), (2, 1));
        assert_eq!(window(5, (0, -7)), (0, 4));
        assert_eq!(window(0, (0, -1)), (-1, -2));
        assert_eq!(window(5, (i64::MAX, i64::MAX)), (4, 3));
    }
}
