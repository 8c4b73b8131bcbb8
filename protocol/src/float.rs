//! Number formatting and parsing with Redis's rules: `%.17g` for doubles (Redis 7.0
//! `addReplyDouble`), the "human friendly" long-double form for INCRBYFLOAT, and the strict
//! integer / float parsers (`string2ll`, `strtod` without trailing garbage).

/// Format like C's `printf("%.17g", d)` for a finite `d`.
pub fn fmt_g17(d: f64) -> String {
    fmt_g(d, 17)
}

/// Format like C's `printf("%.<precision>g", d)` for a finite `d`.
pub fn fmt_g(d: f64, precision: usize) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let p = precision.max(1);
    if d == 0.0 {
        return if d.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let sci = format!("{:.*e}", p - 1, d);
    let (mantissa, exp) = sci.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent digits");
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if exp < -4 || exp >= p as i32 {
        out.push_str(&digits[..1]);
        let frac = digits[1..].trim_end_matches('0');
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        out.push_str(&digits[..int_len]);
        let frac = digits[int_len..].trim_end_matches('0');
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
    } else {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(digits.trim_end_matches('0'));
    }
    out
}

/// Format like Redis's `ld2string(..., LD_STR_HUMAN)`: `%.17Lf` with trailing zeros removed.
/// Computed on an f64, so the last digits can differ from Redis's 80-bit long double when the
/// value is not exactly representable.
pub fn fmt_human(d: f64) -> String {
    let mut s = format!("{:.17}", d);
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

/// Redis's strict `string2ll`: optional '-', no '+', no leading zeros, no spaces, fits i64.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !(b'1'..=b'9').contains(&digits[0]) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// Parse a float as Redis does with `strtod` (whole string, no spaces, no NaN).
/// Accepts `inf`, `+inf`, `-inf`, `infinity` in any case.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s[0].is_ascii_whitespace() || s[s.len() - 1].is_ascii_whitespace() {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    let v: f64 = match text.parse() {
        Ok(v) => v,
        Err(_) => parse_hex_float(text)?,
    };
    if v.is_nan() {
        return None;
    }
    Some(v)
}

/// C99 hexadecimal floats such as `0x1p3` that `strtod` accepts.
fn parse_hex_float(text: &str) -> Option<f64> {
    let (neg, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let rest = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X"))?;
    let (mant, exp) = match rest.find(['p', 'P']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i32>().ok()?),
        None => (rest, 0),
    };
    let (int_part, frac_part) = mant.split_once('.').unwrap_or((mant, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int_part.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in frac_part.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    let v = v * 2f64.powi(exp);
    Some(if neg { -v } else { v })
}

/// C's `isspace` in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// C's `atoi` as glibc computes it (`(int)strtol(s, NULL, 10)`): leading white space, a sign,
/// the digits up to the first non-digit (none: 0), saturated to a long, truncated to an int.
/// For Redis's options read with `atoi` (DEBUG SET-ACTIVE-EXPIRE ...).
pub fn atoi(s: &[u8]) -> i32 {
    let mut i = s.iter().take_while(|&&b| is_c_space(b)).count();
    let negative = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let mut v: i64 = 0;
    for &b in s[i..].iter().take_while(|b| b.is_ascii_digit()) {
        let d = i64::from(b - b'0');
        v = if negative { v.saturating_mul(10).saturating_sub(d) } else { v.saturating_mul(10).saturating_add(d) };
    }
    v as i32
}

/// C's `strtod` without an end pointer: the value of the longest prefix that is a number after
/// leading white space (decimal, hexadecimal, `inf`, `infinity`, `nan`, any case), 0 when there
/// is none. For Redis's arguments read that way (DEBUG SLEEP).
pub fn strtod_prefix(s: &[u8]) -> f64 {
    strtod(s).value
}

/// What glibc's `strtod` gives for a string: the value, where it stopped reading (`*endptr`,
/// 0 when nothing was converted) and whether it set `errno` to `ERANGE` (overflow to
/// infinity, or a result below the smallest normal double).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Strtod {
    pub value: f64,
    pub end: usize,
    pub out_of_range: bool,
}

/// C's `strtod` as glibc computes it, with its end pointer and `ERANGE` (SORT reads its
/// weights this way and refuses any that leave bytes unread or are out of range).
pub fn strtod(s: &[u8]) -> Strtod {
    let none = Strtod { value: 0.0, end: 0, out_of_range: false };
    let lead = s.iter().take_while(|&&b| is_c_space(b)).count();
    let t = &s[lead..];
    let signed = matches!(t.first(), Some(b'+' | b'-'));
    let negative = t.first() == Some(&b'-');
    let body = &t[usize::from(signed)..];
    let at = |n: usize| lead + usize::from(signed) + n;
    let apply_sign = |v: f64| if negative { -v } else { v };
    for (word, v) in [("infinity", f64::INFINITY), ("inf", f64::INFINITY), ("nan", f64::NAN)] {
        if body.len() >= word.len() && body[..word.len()].eq_ignore_ascii_case(word.as_bytes()) {
            return Strtod { value: apply_sign(v), end: at(word.len()), out_of_range: false };
        }
    }
    let digits_from = |from: usize, hex: bool| {
        body[from.min(body.len())..]
            .iter()
            .take_while(|b| if hex { b.is_ascii_hexdigit() } else { b.is_ascii_digit() })
            .count()
    };
    let hex = body.len() > 2 && body[0] == b'0' && matches!(body[1], b'x' | b'X');
    let start = if hex { 2 } else { 0 };
    let int_len = digits_from(start, hex);
    let mut end = start + int_len;
    let mut mantissa_digits = int_len;
    if body.get(end) == Some(&b'.') {
        let frac = digits_from(end + 1, hex);
        if mantissa_digits + frac > 0 {
            end += 1 + frac;
            mantissa_digits += frac;
        }
    }
    if mantissa_digits == 0 {
        // "0x" without hex digits still reads the "0".
        return if hex { Strtod { value: apply_sign(0.0), end: at(1), out_of_range: false } } else { none };
    }
    let nonzero = body[start..end].iter().any(|&b| b.is_ascii_hexdigit() && b != b'0');
    let exp_mark: &[u8] = if hex { b"pP" } else { b"eE" };
    if body.get(end).is_some_and(|b| exp_mark.contains(b)) {
        let sign = usize::from(matches!(body.get(end + 1), Some(b'+' | b'-')));
        let exp_digits = digits_from(end + 1 + sign, false);
        if exp_digits > 0 {
            end += 1 + sign + exp_digits;
        }
    }
    let text = std::str::from_utf8(&body[..end]).expect("ASCII digits");
    let v = if hex { parse_hex_float(text).unwrap_or(0.0) } else { text.parse().unwrap_or(0.0) };
    let out_of_range = v.is_infinite() || (nonzero && v.abs() < f64::MIN_POSITIVE);
    Strtod { value: apply_sign(v), end: at(end), out_of_range }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g17() {
        assert_eq!(fmt_g17(1.5), "1.5");
        assert_eq!(fmt_g17(1.1), "1.1000000000000001");
        assert_eq!(fmt_g17(100.0), "100");
        assert_eq!(fmt_g17(1e20), "1e+20");
        assert_eq!(fmt_g17(1.5e-7), "1.4999999999999999e-07");
        assert_eq!(fmt_g17(0.0001), "0.0001");
        assert_eq!(fmt_g17(-2.5), "-2.5");
        assert_eq!(fmt_g17(12345678901234567.0), "12345678901234568");
        assert_eq!(fmt_g17(123456789012345678.0), "1.2345678901234568e+17");
        assert_eq!(fmt_g17(0.0), "0");
    }

    #[test]
    fn human() {
        assert_eq!(fmt_human(10.5), "10.5");
        assert_eq!(fmt_human(3.0), "3");
        assert_eq!(fmt_human(-0.0), "0");
        assert_eq!(fmt_human(5200.0), "5200");
    }

    #[test]
    fn ints() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b"01"), None);
        assert_eq!(parse_i64(b" 1"), None);
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"12a"), None);
    }

    #[test]
    fn floats() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b""), None);
        assert_eq!(parse_f64(b"0x10"), Some(16.0));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
    }

    #[test]
    fn c_atoi() {
        for (s, v) in [
            ("0", 0),
            ("1", 1),
            (" -12x", -12),
            ("+7", 7),
            ("", 0),
            ("abc", 0),
            ("- 1", 0),
            ("4294967296", 0),
            ("4294967297", 1),
            ("99999999999999999999", -1),
            ("-99999999999999999999", 0),
        ] {
            assert_eq!(atoi(s.as_bytes()), v, "{s:?}");
        }
    }

    #[test]
    fn c_strtod_prefix() {
        for (s, v) in [
            ("1.5", 1.5),
            ("  1.5abc", 1.5),
            ("abc", 0.0),
            ("", 0.0),
            ("-2", -2.0),
            ("+.5", 0.5),
            ("5.", 5.0),
            (".", 0.0),
            ("1e3", 1000.0),
            ("1e", 1.0),
            ("1e+x", 1.0),
            ("2E-1s", 0.2),
            ("0x10", 16.0),
            ("0x1.8p1", 3.0),
            ("0x", 0.0),
            ("0xg", 0.0),
            ("-inf", f64::NEG_INFINITY),
            ("Infinity", f64::INFINITY),
            ("infin", f64::INFINITY),
            ("0x.8", 0.5),
            ("0x1p", 1.0),
            ("-.e1", 0.0),
        ] {
            assert_eq!(strtod_prefix(s.as_bytes()), v, "{s:?}");
        }
        // Checked against glibc's strtod.
        assert!(strtod_prefix(b"-0x").is_sign_negative());
        assert!(strtod_prefix(b"nan").is_nan());
        assert!(strtod_prefix(b"-NaNx").is_nan());
    }

    #[test]
    fn c_strtod_end_and_range() {
        // (input, value, end, ERANGE), checked against glibc.
        for (s, v, end, range) in [
            ("1.5", 1.5, 3, false),
            (" 5", 5.0, 2, false),
            ("5 ", 5.0, 1, false),
            ("", 0.0, 0, false),
            ("+", 0.0, 0, false),
            (".", 0.0, 0, false),
            ("1e", 1.0, 1, false),
            ("0x", 0.0, 1, false),
            ("0x10", 16.0, 4, false),
            ("infx", f64::INFINITY, 3, false),
            ("-infinity", f64::NEG_INFINITY, 9, false),
            ("1e400", f64::INFINITY, 5, true),
            ("1e-400", 0.0, 6, true),
            ("1e-310", 1e-310, 6, true),
            ("2.2250738585072014e-308", 2.2250738585072014e-308, 23, false),
            ("0e-400", 0.0, 6, false),
            ("1\0abc", 1.0, 1, false),
        ] {
            let r = strtod(s.as_bytes());
            assert_eq!((r.value, r.end, r.out_of_range), (v, end, range), "{s:?}");
        }
    }
}
