//! [`StreamId`]: a stream entry's `<ms>-<seq>` identifier, ordered as a 128-bit number, and the
//! ways commands write one (`ms`, `ms-seq`, `ms-*`, `-`, `+`). No command logic here: the
//! commands decide which forms they accept and which error they answer.

use std::fmt;

/// An entry ID: milliseconds and sequence number, compared in that order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

/// How an ID argument was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedId {
    pub id: StreamId,
    /// False for `ms-*` (the sequence is to be chosen); `ms` alone means `ms-<missing_seq>`.
    pub seq_given: bool,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId { ms: u64::MAX, seq: u64::MAX };

    pub const fn new(ms: u64, seq: u64) -> Self {
        StreamId { ms, seq }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// The next ID, `None` at the maximum.
    pub fn next(self) -> Option<StreamId> {
        match self.seq.checked_add(1) {
            Some(seq) => Some(StreamId::new(self.ms, seq)),
            None => self.ms.checked_add(1).map(|ms| StreamId::new(ms, 0)),
        }
    }

    /// The previous ID, `None` at 0-0.
    pub fn prev(self) -> Option<StreamId> {
        match self.seq.checked_sub(1) {
            Some(seq) => Some(StreamId::new(self.ms, seq)),
            None => self.ms.checked_sub(1).map(|ms| StreamId::new(ms, u64::MAX)),
        }
    }

    /// Parse `ms[-seq]`; a missing sequence is `missing_seq`. With `allow_star`, `ms-*`
    /// parses with `seq_given` false. `-` and `+` are not handled here.
    pub fn parse(arg: &[u8], missing_seq: u64, allow_star: bool) -> Option<ParsedId> {
        let (ms, seq) = match arg.iter().position(|&b| b == b'-') {
            None => (parse_u64(arg)?, None),
            Some(dash) => (parse_u64(&arg[..dash])?, Some(&arg[dash + 1..])),
        };
        match seq {
            None => Some(ParsedId { id: StreamId::new(ms, missing_seq), seq_given: true }),
            Some(b"*") if allow_star => Some(ParsedId { id: StreamId::new(ms, 0), seq_given: false }),
            Some(s) => Some(ParsedId { id: StreamId::new(ms, parse_u64(s)?), seq_given: true }),
        }
    }

    /// The 16-byte big-endian form (Redis's rax key and the one the serialization uses).
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.ms.to_be_bytes());
        out[8..].copy_from_slice(&self.seq.to_be_bytes());
        out
    }
}

/// Redis's `string2ull`: decimal digits only, no sign, no overflow, at most 20 digits.
fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        let p = |s: &str| StreamId::parse(s.as_bytes(), 7, true);
        assert_eq!(p("5").map(|p| (p.id, p.seq_given)), Some((StreamId::new(5, 7), true)));
        assert_eq!(p("5-3").map(|p| (p.id, p.seq_given)), Some((StreamId::new(5, 3), true)));
        assert_eq!(p("5-*").map(|p| (p.id, p.seq_given)), Some((StreamId::new(5, 0), false)));
        assert_eq!(StreamId::parse(b"5-*", 0, false), None);
        for bad in ["", "-", "a", "1-", "-1", "1-2-3", "18446744073709551616", "+1", "1-+2", " 1"] {
            assert_eq!(p(bad), None, "{bad}");
        }
        assert_eq!(p("18446744073709551615-18446744073709551615").map(|p| p.id), Some(StreamId::MAX));
    }

    #[test]
    fn neighbours() {
        assert_eq!(StreamId::new(1, u64::MAX).next(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.next(), None);
        assert_eq!(StreamId::new(2, 0).prev(), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(StreamId::MIN.prev(), None);
        assert_eq!(StreamId::new(3, 4).to_string(), "3-4");
    }
}
