//! Number syntaxes of config values, as Redis 7.0 reads and writes them: memory sizes
//! (`memtoull`: `1gb`, `100k`), C's `strtoll` (save points, ports, octal permissions), the
//! strict integer of `string2ll`, and the compact forms CONFIG REWRITE writes. Pure functions.

pub use slotbox_protocol::float::parse_i64 as string2ll;

/// Redis's `memtoull`: digits then an optional unit (`b`, `k` = 1000, `kb` = 1024, `m`, `mb`,
/// `g`, `gb`, any case). As in Redis, no digits reads as 0, a huge number saturates and the
/// multiplication wraps; a leading `-` is refused.
pub fn memtoull(s: &str) -> Option<u64> {
    if s.starts_with('-') {
        return None;
    }
    let end = s.bytes().position(|c| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(end);
    let mul: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits.len() >= 128 {
        return None;
    }
    let value = if digits.is_empty() { 0 } else { digits.parse::<u64>().unwrap_or(u64::MAX) };
    Some(value.wrapping_mul(mul))
}

/// C's `strtoll(s, &end, radix)` that must consume the whole string: leading white space and a
/// sign are allowed; an empty string reads as 0 (as Redis's `*end == '\0'` check lets through);
/// overflow is refused.
pub fn strtoll(s: &str, radix: u32) -> Option<i64> {
    if s.is_empty() {
        return Some(0);
    }
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    let v = if neg { -magnitude } else { magnitude };
    i64::try_from(v).ok()
}

/// CONFIG REWRITE's memory form: `1gb`, `64mb`, `4kb` when exact, else plain bytes.
pub fn format_memory(bytes: i128) -> String {
    const GB: i128 = 1 << 30;
    const MB: i128 = 1 << 20;
    const KB: i128 = 1 << 10;
    match bytes {
        0 => "0".into(),
        b if b % GB == 0 => format!("{}gb", b / GB),
        b if b % MB == 0 => format!("{}mb", b / MB),
        b if b % KB == 0 => format!("{}kb", b / KB),
        b => b.to_string(),
    }
}

/// Redis's `"%f"` then `trimDoubleString`: six decimals with trailing zeros (and a bare
/// point) removed: 99.9 → `99.9`, 50 → `50`.
pub fn format_percentile(v: f64) -> String {
    let s = format!("{v:.6}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Redis's `string2d` for config values: a whole-string decimal number, not NaN, with no
/// white space around it.
pub fn string2d(s: &str) -> Option<f64> {
    if s.is_empty() || s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| !v.is_nan())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units_as_redis() {
        assert_eq!(memtoull("512mb"), Some(512 << 20));
        assert_eq!(memtoull("1GB"), Some(1 << 30));
        assert_eq!(memtoull("100k"), Some(100_000));
        assert_eq!(memtoull("42"), Some(42));
        assert_eq!(memtoull("7b"), Some(7));
        assert_eq!(memtoull(""), Some(0), "Redis reads no digits as 0");
        assert_eq!(memtoull("x"), None);
        assert_eq!(memtoull("-1"), None);
        assert_eq!(memtoull("1tb"), None);
        assert_eq!(memtoull("1 mb"), None);
    }

    #[test]
    fn strtoll_like_c() {
        assert_eq!(strtoll("  -12", 10), Some(-12));
        assert_eq!(strtoll("+7", 10), Some(7));
        assert_eq!(strtoll("", 10), Some(0));
        assert_eq!(strtoll("12x", 10), None);
        assert_eq!(strtoll("777", 8), Some(0o777));
        assert_eq!(strtoll("8", 8), None);
        assert_eq!(strtoll("99999999999999999999", 10), None);
    }

    #[test]
    fn rewrite_forms() {
        assert_eq!(format_memory(64 << 20), "64mb");
        assert_eq!(format_memory(1 << 30), "1gb");
        assert_eq!(format_memory(3072), "3kb");
        assert_eq!(format_memory(1000), "1000");
        assert_eq!(format_memory(0), "0");
        assert_eq!(format_percentile(99.9), "99.9");
        assert_eq!(format_percentile(50.0), "50");
        assert_eq!(format_percentile(0.0), "0");
        assert_eq!(string2d("99.9"), Some(99.9));
        assert_eq!(string2d(" 1"), None);
        assert_eq!(string2d("nan"), None);
        assert_eq!(string2d("x"), None);
    }
}
