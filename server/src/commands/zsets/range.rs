//! Range specifications of the sorted-set commands and their translation into ranks:
//! score ranges (`(` exclusive, `-inf` / `+inf`, parsed with C `strtod`'s leniency as Redis's
//! `zslParseRange`), lex ranges (`[` / `(` / `-` / `+`, `zslParseLexRange`) and rank ranges
//! (negative indexes from the end). Rank bounds are found with `first_rank_where`, so they cost
//! O(log n) on the skiplist. Nothing here looks up keys or builds replies.

use crate::store::types::ZSetValue;
use slotbox_protocol::float::parse_f64;
use slotbox_protocol::Frame;

pub const NOT_FLOAT: &str = "ERR min or max is not a float";
pub const NOT_LEX: &str = "ERR min or max not valid string range item";

/// `[min, max]` of scores, each end possibly exclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

/// One end of a lex range.
#[derive(Debug, Clone, PartialEq)]
pub enum LexBound {
    NegInf,
    PosInf,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

/// `[min, max]` of members (meaningful when all scores are equal).
#[derive(Debug, Clone, PartialEq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

/// A parsed score or lex range.
#[derive(Debug, Clone, PartialEq)]
pub enum Range {
    Score(ScoreRange),
    Lex(LexRange),
}

/// C `strtod` over the whole argument, as `zslParseRange` uses it: leading white space is
/// skipped, an empty string is 0, trailing garbage and NaN are errors, overflow is ±inf.
fn strtod_whole(s: &[u8]) -> Option<f64> {
    if s.is_empty() {
        return Some(0.0);
    }
    let start = s
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    parse_f64(&s[start..])
}

fn parse_score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    match arg.strip_prefix(b"(") {
        Some(rest) => strtod_whole(rest).map(|v| (v, true)),
        None => strtod_whole(arg).map(|v| (v, false)),
    }
}

impl ScoreRange {
    /// Parse `min` and `max` (`ERR min or max is not a float`).
    pub fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, Frame> {
        match (parse_score_bound(min), parse_score_bound(max)) {
            (Some((min, minex)), Some((max, maxex))) => Ok(ScoreRange {
                min,
                max,
                minex,
                maxex,
            }),
            _ => Err(Frame::error_static(NOT_FLOAT)),
        }
    }

    /// Is the score below the range?
    fn below(&self, s: f64) -> bool {
        s < self.min || (self.minex && s <= self.min)
    }

    /// Is the score at most the range's upper end?
    fn upto(&self, s: f64) -> bool {
        s < self.max || (!self.maxex && s <= self.max)
    }
}

fn parse_lex_bound(arg: &[u8]) -> Option<LexBound> {
    match arg.first()? {
        b'-' if arg.len() == 1 => Some(LexBound::NegInf),
        b'+' if arg.len() == 1 => Some(LexBound::PosInf),
        b'[' => Some(LexBound::Incl(arg[1..].to_vec())),
        b'(' => Some(LexBound::Excl(arg[1..].to_vec())),
        _ => None,
    }
}

impl LexRange {
    /// Parse `min` and `max` (`ERR min or max not valid string range item`).
    pub fn parse(min: &[u8], max: &[u8]) -> Result<LexRange, Frame> {
        match (parse_lex_bound(min), parse_lex_bound(max)) {
            (Some(min), Some(max)) => Ok(LexRange { min, max }),
            _ => Err(Frame::error_static(NOT_LEX)),
        }
    }

    /// Is the member below the range?
    fn below(&self, m: &[u8]) -> bool {
        match &self.min {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Incl(b) => m < &b[..],
            LexBound::Excl(b) => m <= &b[..],
        }
    }

    /// Is the member at most the range's upper end?
    fn upto(&self, m: &[u8]) -> bool {
        match &self.max {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Incl(b) => m <= &b[..],
            LexBound::Excl(b) => m < &b[..],
        }
    }
}

impl Range {
    /// The ascending ranks `start..end` of the elements inside the range (empty when
    /// `end <= start`).
    pub fn ranks(&self, z: &ZSetValue) -> (usize, usize) {
        let (start, end) = match self {
            Range::Score(r) => (
                z.first_rank_where(|s, _| r.below(s)),
                z.first_rank_where(|s, _| r.upto(s)),
            ),
            Range::Lex(r) => (
                z.first_rank_where(|_, m| r.below(m)),
                z.first_rank_where(|_, m| r.upto(m)),
            ),
        };
        (start, end.max(start))
    }

    /// How many elements are inside the range.
    pub fn count(&self, z: &ZSetValue) -> usize {
        let (start, end) = self.ranks(z);
        end - start
    }
}

/// Redis's rank sanitizing for ZRANGE / ZREMRANGEBYRANK: negative indexes count from the end;
/// `None` when the range is empty, else the inclusive ascending ranks.
pub fn rank_span(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 {
        len.saturating_add(start)
    } else {
        start
    };
    let mut end = if end < 0 {
        len.saturating_add(end)
    } else {
        end
    };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, end as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zset(items: &[(f64, &str)]) -> ZSetValue {
        let mut z = ZSetValue::default();
        for (s, m) in items {
            z.insert(m.as_bytes(), *s);
        }
        z
    }

    #[test]
    fn score_parsing_like_strtod() {
        let r = ScoreRange::parse(b"(1", b"+inf").unwrap();
        assert_eq!(
            (r.min, r.minex, r.max, r.maxex),
            (1.0, true, f64::INFINITY, false)
        );
        assert_eq!(ScoreRange::parse(b"", b"(").unwrap().max, 0.0);
        assert_eq!(ScoreRange::parse(b" 1", b"2").unwrap().min, 1.0);
        assert_eq!(
            ScoreRange::parse(b"1e400", b"2").unwrap().min,
            f64::INFINITY
        );
        for bad in [&b" "[..], b"1 ", b"nan", b"(nan", b"x", b"1e", b"(("] {
            assert_eq!(
                ScoreRange::parse(bad, b"1"),
                Err(Frame::error_static(NOT_FLOAT)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn lex_parsing() {
        assert!(LexRange::parse(b"-", b"+").is_ok());
        assert!(LexRange::parse(b"[", b"(a").is_ok());
        for bad in [&b""[..], b"a", b"-a", b"+a"] {
            assert_eq!(
                LexRange::parse(bad, b"+"),
                Err(Frame::error_static(NOT_LEX))
            );
        }
    }

    #[test]
    fn ranks_on_both_encodings() {
        let mut big = zset(&[(0.0, &"x".repeat(65))]);
        big.remove("x".repeat(65).as_bytes());
        let items: Vec<(f64, String)> = (0..300)
            .map(|i| ((i / 3) as f64, format!("m{i:03}")))
            .collect();
        let mut small = ZSetValue::default();
        for (s, m) in &items {
            big.insert(m.as_bytes(), *s);
            if small.len() < 100 {
                small.insert(m.as_bytes(), *s);
            }
        }
        assert_eq!(big.encoding(), "skiplist");
        let r = Range::Score(ScoreRange::parse(b"(10", b"20").unwrap());
        assert_eq!(r.ranks(&big), (33, 63));
        assert_eq!(r.ranks(&small), (33, 63));
        let r = Range::Score(ScoreRange::parse(b"5", b"(5").unwrap());
        assert_eq!(r.count(&big), 0);
        let r = Range::Lex(LexRange::parse(b"[m010", b"(m020").unwrap());
        assert_eq!(r.ranks(&small), (10, 20));
        assert_eq!(rank_span(-2, -1, 3), Some((1, 2)));
        assert_eq!(rank_span(-100, 1, 3), Some((0, 1)));
        assert_eq!(rank_span(3, 100, 3), None);
        assert_eq!(rank_span(2, 1, 3), None);
        assert_eq!(rank_span(i64::MIN, i64::MAX, 3), Some((0, 2)));
    }
}
