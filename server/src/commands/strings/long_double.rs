//! A software x87 80-bit `long double`, only what INCRBYFLOAT needs to match Redis byte for
//! byte: `strtold` as Redis's `string2ld` uses it (correctly rounded, with its rejection of
//! overflow, underflow to zero, NaN, spaces and inputs of 5120+ bytes), one correctly rounded
//! addition, and `printf("%.17Lf")` with trailing zeros removed (`ld2string` LD_STR_HUMAN).
//! An f64 cannot do this: 10.5 + 0.1 prints as "10.6" only with the 64-bit mantissa.
//! Values are exact `mant * 2^exp`; every operation rounds half to even, as the FPU does.

use super::bigint::BigUint;

/// Lowest exponent of the least significant mantissa bit (subnormals included).
const EXP_MIN: i64 = -16445;
/// Values at or above 2^EXP_LIMIT overflow to infinity.
const EXP_LIMIT: i64 = 16384;
/// Redis's MAX_LONG_DOUBLE_CHARS: longer inputs are not valid floats.
const MAX_CHARS: usize = 5 * 1024;

/// A finite long double (`neg`, `mant * 2^exp`) or an infinity / NaN.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LongDouble {
    Finite { neg: bool, mant: u64, exp: i64 },
    NonFinite,
}

/// Rounding outcome before range checks.
enum Rounded {
    Value(LongDouble),
    Overflow,
}

/// Round `n * 2^e` (plus something below its last bit when `sticky`) to a long double.
fn round(neg: bool, n: &BigUint, e: i64, sticky_in: bool) -> Rounded {
    if n.is_zero() {
        return Rounded::Value(LongDouble::Finite { neg, mant: 0, exp: 0 });
    }
    let mut shift = (n.bits() as i64 - 64).max(0);
    if e + shift < EXP_MIN {
        shift = EXP_MIN - e;
    }
    let (mut mant, mut exp) = (n.shr(shift as u64).low_u64() as u128, e + shift);
    if shift > 0 {
        let half = n.bit(shift as u64 - 1);
        let sticky = sticky_in || n.any_below(shift as u64 - 1);
        if half && (sticky || mant & 1 == 1) {
            mant += 1;
            if mant == 1 << 64 {
                mant >>= 1;
                exp += 1;
            }
        }
    }
    let top = 128 - mant.leading_zeros() as i64;
    if mant != 0 && top + exp > EXP_LIMIT {
        return Rounded::Overflow;
    }
    Rounded::Value(LongDouble::Finite { neg, mant: mant as u64, exp })
}

impl LongDouble {
    pub const ZERO: LongDouble = LongDouble::Finite { neg: false, mant: 0, exp: 0 };

    pub fn is_finite(&self) -> bool {
        matches!(self, LongDouble::Finite { .. })
    }

    /// Parse as Redis's `string2ld` does; `None` means "ERR value is not a valid float".
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.is_empty() || s.len() >= MAX_CHARS || s[0].is_ascii_whitespace() || s[0] == 0x0b {
            return None;
        }
        let (neg, body) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(LongDouble::NonFinite);
        }
        let (n, e2, e10) = if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
            parse_hex(&body[2..])?
        } else {
            parse_decimal(body)?
        };
        if n.is_zero() {
            return Some(LongDouble::Finite { neg, mant: 0, exp: 0 });
        }
        let rounded = if e10 == 0 { round(neg, &n, e2, false) } else { scale_decimal(neg, n, e10)? };
        match rounded {
            Rounded::Value(LongDouble::Finite { mant: 0, .. }) | Rounded::Overflow => None,
            Rounded::Value(v) => Some(v),
        }
    }

    /// Correctly rounded `self + other`.
    pub fn add(self, other: LongDouble) -> LongDouble {
        let (LongDouble::Finite { neg: na, mant: ma, exp: ea }, LongDouble::Finite { neg: nb, mant: mb, exp: eb }) =
            (self, other)
        else {
            return LongDouble::NonFinite;
        };
        if ma == 0 && mb == 0 {
            return LongDouble::Finite { neg: na && nb, mant: 0, exp: 0 };
        }
        if ma == 0 {
            return other;
        }
        if mb == 0 {
            return self;
        }
        let e = ea.min(eb);
        let a = BigUint::from_u64(ma).shl((ea - e) as u64);
        let b = BigUint::from_u64(mb).shl((eb - e) as u64);
        let (neg, sum) = if na == nb {
            (na, a.add(&b))
        } else {
            match a.cmp(&b) {
                std::cmp::Ordering::Equal => return LongDouble::ZERO,
                std::cmp::Ordering::Greater => (na, a.sub(&b)),
                std::cmp::Ordering::Less => (nb, b.sub(&a)),
            }
        };
        match round(neg, &sum, e, false) {
            Rounded::Value(v) => v,
            Rounded::Overflow => LongDouble::NonFinite,
        }
    }

    /// The exact value of a double (every double is a long double).
    pub fn from_f64(x: f64) -> LongDouble {
        if !x.is_finite() {
            return LongDouble::NonFinite;
        }
        let bits = x.to_bits();
        let neg = bits >> 63 == 1;
        let biased = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1 << 52) - 1);
        let (mant, exp) = if biased == 0 { (frac, -1074) } else { (frac | (1 << 52), biased - 1075) };
        LongDouble::Finite { neg, mant, exp }
    }

    /// `%.17Lf` with trailing zeros (and a trailing '.') removed, "-0" printed as "0".
    pub fn to_human(self) -> String {
        let LongDouble::Finite { neg, mant, exp } = self else {
            return "inf".into();
        };
        let mut n = BigUint::from_u64(mant);
        n.mul_pow10(17);
        let scaled = if exp >= 0 {
            n.shl(exp as u64)
        } else {
            let sh = (-exp) as u64;
            let mut q = n.shr(sh);
            if n.bit(sh - 1) && (n.any_below(sh - 1) || q.bit(0)) {
                q = q.add(&BigUint::from_u64(1));
            }
            q
        };
        let digits = format!("{:0>18}", scaled.to_decimal());
        let (int, frac) = digits.split_at(digits.len() - 17);
        let frac = frac.trim_end_matches('0');
        let mut out = String::with_capacity(digits.len() + 2);
        if neg {
            out.push('-');
        }
        out.push_str(int);
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        if out == "-0" {
            out = "0".into();
        }
        out
    }
}

/// Exponent digits after `e` / `p`: `[+-]?digits`, clamped far outside the long double range.
fn parse_exponent(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = digits.iter().fold(0i64, |acc, &d| (acc * 10 + (d - b'0') as i64).min(1 << 40));
    Some(if neg { -v } else { v })
}

/// Split `int[.frac]` digits from the rest; returns (integer part, fraction part, rest).
fn split_mantissa(s: &[u8], is_digit: fn(&u8) -> bool) -> (&[u8], &[u8], &[u8]) {
    let int_len = s.iter().take_while(|c| is_digit(c)).count();
    let (int, rest) = s.split_at(int_len);
    match rest.split_first() {
        Some((b'.', after)) => {
            let frac_len = after.iter().take_while(|c| is_digit(c)).count();
            (int, &after[..frac_len], &after[frac_len..])
        }
        _ => (int, &[], rest),
    }
}

/// Decimal `digits[.digits][e[+-]digits]` -> (digits as integer, 0, decimal exponent).
fn parse_decimal(s: &[u8]) -> Option<(BigUint, i64, i64)> {
    let (int, frac, rest) = split_mantissa(s, u8::is_ascii_digit);
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let exp = match rest.split_first() {
        None => 0,
        Some((b'e' | b'E', e)) => parse_exponent(e)?,
        Some(_) => return None,
    };
    let mut all = Vec::with_capacity(int.len() + frac.len());
    all.extend_from_slice(int);
    all.extend_from_slice(frac);
    let first = all.iter().position(|&d| d != b'0').unwrap_or(all.len());
    let n = BigUint::from_digits(&all[first..], 10);
    let e10 = if n.is_zero() { 0 } else { exp - frac.len() as i64 };
    Some((n, 0, e10))
}

/// Hexadecimal (after `0x`) `hex[.hex][p[+-]digits]` -> (mantissa, binary exponent, 0).
fn parse_hex(s: &[u8]) -> Option<(BigUint, i64, i64)> {
    let (int, frac, rest) = split_mantissa(s, u8::is_ascii_hexdigit);
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let exp = match rest.split_first() {
        None => 0,
        Some((b'p' | b'P', e)) => parse_exponent(e)?,
        Some(_) => return None,
    };
    let mut all = Vec::with_capacity(int.len() + frac.len());
    all.extend_from_slice(int);
    all.extend_from_slice(frac);
    Some((BigUint::from_digits(&all, 16), exp - 4 * frac.len() as i64, 0))
}

/// Round `n * 10^e10` (n > 0). `None` when the result is certainly out of range.
fn scale_decimal(neg: bool, mut n: BigUint, e10: i64) -> Option<Rounded> {
    let digits = n.to_decimal().len() as i64;
    if digits + e10 > 4934 {
        return Some(Rounded::Overflow);
    }
    if digits + e10 < -4960 {
        return None;
    }
    if e10 > 0 {
        n.mul_pow10(e10 as u64);
        return Some(round(neg, &n, 0, false));
    }
    let mut d = BigUint::from_u64(1);
    d.mul_pow10((-e10) as u64);
    // Scale so that the quotient has 66 or 67 bits: enough for a sticky-correct rounding.
    let s = n.bits() as i64 - d.bits() as i64 - 66;
    let (a, b) = if s < 0 { (n.shl((-s) as u64), d) } else { (n, d.shl(s as u64)) };
    let (q, inexact) = a.div_small_quotient(&b);
    let q = BigUint::from_u64(q as u64).add(&BigUint::from_u64((q >> 64) as u64).shl(64));
    Some(round(neg, &q, s, inexact))
}

#[cfg(test)]
mod tests {
    use super::LongDouble;

    fn incr(a: &str, b: &str) -> Option<String> {
        let x = LongDouble::parse(a.as_bytes())?;
        let y = LongDouble::parse(b.as_bytes())?;
        let r = x.add(y);
        r.is_finite().then(|| r.to_human())
    }

    #[test]
    fn matches_redis_outputs() {
        // Expected values captured from redis-server 7.0.15 (x86_64, 80-bit long double).
        assert_eq!(incr("10.5", "0.1").as_deref(), Some("10.6"));
        assert_eq!(incr("0.1", "0.2").as_deref(), Some("0.3"));
        assert_eq!(incr("3.5", "1.5").as_deref(), Some("5"));
        assert_eq!(incr("0", "1.23456789012345678901234").as_deref(), Some("1.23456789012345679"));
        assert_eq!(incr("0", "0.333333333333333333333").as_deref(), Some("0.33333333333333333"));
        assert_eq!(incr("0", "-1e-20").as_deref(), Some("0"));
        assert_eq!(incr("0", "-0").as_deref(), Some("0"));
        assert_eq!(incr("0", "0x10").as_deref(), Some("16"));
        assert_eq!(incr("16", "1e-400").as_deref(), Some("16"));
        assert_eq!(incr("16", "3.0e3").as_deref(), Some("3016"));
        assert_eq!(incr("0", "5.0e3").as_deref(), Some("5000"));
        let big = "99999999999999999996685879655845645660560099847415567207797047994921734868838061872100126921888539320446747225054013223152134749593960583597420814430196418767959100019603190778663109604507106667939153395788938914560543563061268364901618630217086589253444881623791300855757318142424510452728255046343928578048";
        assert_eq!(incr("10.6", "1e308").as_deref(), Some(big));
        let two = "199999999999999999993371759311691291321120199694831134415594095989843469737676123744200253843777078640893494450108026446304269499187921167194841628860392837535918200039206381557326219209014213335878306791577877829121087126122536729803237260434173178506889763247582601711514636284849020905456510092687857156096";
        assert_eq!(incr("1e308", "1e308").as_deref(), Some(two));
    }

    #[test]
    fn rejects_like_string2ld() {
        for bad in ["", " 1", "1 ", "abc", "nan", "-nan", "1e", "1e+", ".", "0x", "0xp1", "1e5000", "1e-5000", "++1"] {
            assert!(LongDouble::parse(bad.as_bytes()).is_none(), "{bad}");
        }
        assert!(LongDouble::parse(format!("{}1", "0".repeat(5119)).as_bytes()).is_none());
        assert!(LongDouble::parse(format!("{}1", "0".repeat(5118)).as_bytes()).is_some());
        assert_eq!(LongDouble::parse(b"inf"), Some(LongDouble::NonFinite));
        assert_eq!(LongDouble::parse(b"-Infinity"), Some(LongDouble::NonFinite));
        assert_eq!(incr("1", "inf"), None);
        assert_eq!(incr("0e99999", "1").as_deref(), Some("1"));
        assert_eq!(incr(".5", "1.").as_deref(), Some("1.5"));
        assert_eq!(incr("0x1.8p1", "0").as_deref(), Some("3"));
    }

    #[test]
    fn rounding_ties_to_even_when_printing() {
        // 2^-18 * 10^17 = 381469726562.5 exactly: glibc prints the even digit.
        assert_eq!(incr("0", "0.000003814697265625").as_deref(), Some("0.00000381469726562"));
        assert_eq!(incr("1e4932", "1e4932"), None);
        assert_eq!(incr("-5", "2").as_deref(), Some("-3"));
    }
}
