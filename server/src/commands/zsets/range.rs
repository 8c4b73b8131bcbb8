//! Range specifications of the sorted-set commands and their translation into ranks:
//! score ranges (`(` exclusive, `-inf` / `+inf`, parsed with C `strtod`'s leniency as Redis's
//! `zslParseRange`), lex ranges (`[` / `(` / `-` / `+`, `zslParseLexRange`) and rank ranges
//! (negative indexes from the end). Rank bounds are found with `first_rank_where` (score
//! ranges: `first_rank_where_score`, which reads no member), so they cost O(log n) on the
//! big encoding's tree. Nothing here looks up keys or builds replies.

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
    let start = s.iter().position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
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
            (Some((min, minex)), Some((max, maxex))) => Ok(ScoreRange { min, max, minex, maxex }),
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

    /// A range nothing can be in (`zzlIsInLexRange`'s first test: min above max, or equal
    /// with an exclusive end; `-` and `+` count as exclusive).
    fn always_empty(&self) -> bool {
        use std::cmp::Ordering::*;
        let key = |b: &LexBound| match b {
            LexBound::NegInf => (0, None, true),
            LexBound::Incl(v) => (1, Some(v.clone()), false),
            LexBound::Excl(v) => (1, Some(v.clone()), true),
            LexBound::PosInf => (2, None, true),
        };
        let ((a, av, aex), (b, bv, bex)) = (key(&self.min), key(&self.max));
        match (a, av).cmp(&(b, bv)) {
            Greater => true,
            Equal => aex || bex,
            Less => false,
        }
    }

    /// Where Redis's walk over a listpack starts (`zzlFirstInLexRange`, or
    /// `zzlLastInLexRange` for `rev`): none unless the last member is at least min and the
    /// first at most max; then the first member (last for `rev`) past one end, if it is also
    /// within the other. Scores need not agree with member order, so this is a scan.
    fn listpack_start(&self, z: &ZSetValue, rev: bool) -> Option<usize> {
        let n = z.len();
        let (_, first) = z.at_rank(0)?;
        let (_, last) = z.at_rank(n - 1)?;
        if self.always_empty() || self.below(last) || !self.upto(first) {
            return None;
        }
        let i = if rev {
            n - 1 - z.iter_back_from_rank(n - 1).position(|(_, m)| self.upto(m))?
        } else {
            z.iter().position(|(_, m)| !self.below(m))?
        };
        let (_, m) = z.at_rank(i)?;
        (!self.below(m) && self.upto(m)).then_some(i)
    }

    /// The members a lex range selects from a small (listpack) sorted set, in reply order, as
    /// Redis's `genericZrangebylexCommand` walks it: from the start, skip `offset` members
    /// unchecked, then take at most `limit` (negative: all) while they stay in range. When all
    /// scores are equal (the documented use) this is the same as selecting by rank; with mixed
    /// scores it is what Redis answers, where a binary search would not be.
    pub fn listpack_walk<'z>(
        &self,
        z: &'z ZSetValue,
        rev: bool,
        offset: usize,
        limit: i64,
    ) -> Box<dyn Iterator<Item = (f64, &'z [u8])> + 'z> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let Some(start) = self.listpack_start(z, rev) else {
            return Box::new(std::iter::empty());
        };
        let r = self.clone();
        if rev {
            let Some(i) = start.checked_sub(offset) else {
                return Box::new(std::iter::empty());
            };
            let it = z.iter_back_from_rank(i);
            Box::new(it.take_while(move |(_, m)| !r.below(m)).take(limit))
        } else {
            let it = z.iter_from_rank(start.saturating_add(offset));
            Box::new(it.take_while(move |(_, m)| r.upto(m)).take(limit))
        }
    }
}

impl Range {
    /// The ascending ranks `start..end` of the elements inside the range (empty when
    /// `end <= start`).
    pub fn ranks(&self, z: &ZSetValue) -> (usize, usize) {
        let (start, end) = match self {
            Range::Score(r) => (z.first_rank_where_score(|s| r.below(s)), z.first_rank_where_score(|s| r.upto(s))),
            Range::Lex(r) if z.encoding() == "listpack" => {
                let start = r.listpack_start(z, false).unwrap_or(0);
                (start, start + r.listpack_walk(z, false, 0, -1).count())
            }
            Range::Lex(r) => (z.first_rank_where(|_, m| r.below(m)), z.first_rank_where(|_, m| r.upto(m))),
        };
        (start, end.max(start))
    }

    /// How many elements are inside the range.
    pub fn count(&self, z: &ZSetValue) -> usize {
        let (start, end) = self.ranks(z);
        end - start
    }
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
        assert_eq!((r.min, r.minex, r.max, r.maxex), (1.0, true, f64::INFINITY, false));
        assert_eq!(ScoreRange::parse(b"", b"(").unwrap().max, 0.0);
        assert_eq!(ScoreRange::parse(b" 1", b"2").unwrap().min, 1.0);
        assert_eq!(ScoreRange::parse(b"1e400", b"2").unwrap().min, f64::INFINITY);
        for bad in [&b" "[..], b"1 ", b"nan", b"(nan", b"x", b"1e", b"(("] {
            assert_eq!(ScoreRange::parse(bad, b"1"), Err(Frame::error_static(NOT_FLOAT)), "{bad:?}");
        }
    }

    #[test]
    fn lex_parsing() {
        assert!(LexRange::parse(b"-", b"+").is_ok());
        assert!(LexRange::parse(b"[", b"(a").is_ok());
        for bad in [&b""[..], b"a", b"-a", b"+a"] {
            assert_eq!(LexRange::parse(bad, b"+"), Err(Frame::error_static(NOT_LEX)));
        }
    }

    #[test]
    fn lex_on_mixed_scores_walks_like_a_listpack() {
        // Ascending by score: 10 1 a b c 2 (members out of lex order).
        let z = zset(&[(-1.0, "10"), (0.0, "1"), (1.0, "a"), (2.0, "b"), (3.0, "c"), (5.0, "2")]);
        let walk = |min: &[u8], max: &[u8], rev: bool, offset: usize| -> Vec<String> {
            let r = LexRange::parse(min, max).unwrap();
            r.listpack_walk(&z, rev, offset, -1).map(|(_, m)| String::from_utf8_lossy(m).into_owned()).collect()
        };
        // Expected replies are redis-server 7.0's. The last member ("2") is below "[b": none.
        assert!(walk(b"[b", b"+", false, 0).is_empty());
        assert!(walk(b"[b", b"+", true, 0).is_empty());
        assert_eq!(walk(b"[1", b"+", false, 0), ["10", "1", "a", "b", "c", "2"]);
        assert_eq!(Range::Lex(LexRange::parse(b"[1", b"+").unwrap()).count(&z), 6);
        // Walking stops at the first member out of range, even if later ones are in it.
        assert_eq!(walk(b"-", b"(a", false, 0), ["10", "1"]);
        assert_eq!(Range::Lex(LexRange::parse(b"-", b"(a").unwrap()).ranks(&z), (0, 2));
        // REV starts from the last member at most max and stops below min.
        assert_eq!(walk(b"[1", b"[b", true, 0), ["2", "c", "b", "a", "1", "10"]);
        assert_eq!(walk(b"(10", b"[c", true, 1), ["c", "b", "a"]);
        // The offset is skipped without looking at the members.
        assert_eq!(walk(b"(10", b"[c", false, 3), ["2"]);
        assert!(walk(b"[b", b"[a", false, 0).is_empty());
    }

    #[test]
    fn ranks_on_both_encodings() {
        let mut big = zset(&[(0.0, &"x".repeat(65))]);
        big.remove("x".repeat(65).as_bytes());
        let items: Vec<(f64, String)> = (0..300).map(|i| ((i / 3) as f64, format!("m{i:03}"))).collect();
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
        assert_eq!(crate::commands::args::index_range(-2, -1, 3), Some((1, 2)));
        assert_eq!(crate::commands::args::index_range(-100, 1, 3), Some((0, 1)));
        assert_eq!(crate::commands::args::index_range(3, 100, 3), None);
        assert_eq!(crate::commands::args::index_range(2, 1, 3), None);
        assert_eq!(crate::commands::args::index_range(i64::MIN, i64::MAX, 3), Some((0, 2)));
    }
}
