//! A small sorted set packed in one exactly-sized buffer, as Redis's listpack keeps it: a
//! count byte, then per element, in ascending (score, member) order, a score tag, the score,
//! the member's length (one byte) and the member. A score that is a whole number is stored as
//! a zigzag integer in as few bytes as it needs (the tag is their number, 0 to 8: scores are
//! often counts or timestamps, which Redis's listpack also keeps as integers), any other in 8
//! bytes (tag 9). A lookup walks one buffer (at most `zset-max-listpack-entries` elements)
//! and touches no other allocation, where each member had an allocation of its own before.
//!
//! Members are at most [`MAX_MEMBER`] bytes (a small sorted set's are at most
//! `zset-max-listpack-value`, 64); `ZSetValue` converts before a longer one comes in, and
//! before a 256th element (the count is one byte).

use super::thin::ThinBytes;
use super::ztree::cmp_entry;
use std::cmp::Ordering;

/// Longest member a pack holds: its length is one byte.
pub const MAX_MEMBER: usize = 255;
/// Most elements a pack holds: the count is one byte.
pub const MAX_LEN: usize = 255;
/// The tag of an 8-byte floating-point score.
const FLOAT: u8 = 9;
/// Most bytes of an element besides its member: tag, score, length.
const OVERHEAD: usize = 10;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZPack {
    buf: ThinBytes,
}

/// A score as the integer it is, when it is a whole number that converts back bit for bit
/// (not -0, which would come back as 0).
#[inline]
fn as_int(score: f64) -> Option<i64> {
    let i = score as i64;
    (i as f64 == score && (i != 0 || score.is_sign_positive())).then_some(i)
}

/// The encoded element: its bytes in `out`, their number returned.
fn encode(score: f64, member: &[u8], out: &mut [u8; OVERHEAD + MAX_MEMBER]) -> usize {
    let mut at = match as_int(score) {
        Some(i) => {
            let z = ((i << 1) ^ (i >> 63)) as u64;
            let k = (8 - z.leading_zeros() as usize / 8).min(8);
            out[0] = k as u8;
            out[1..1 + k].copy_from_slice(&z.to_le_bytes()[..k]);
            1 + k
        }
        None => {
            out[0] = FLOAT;
            out[1..9].copy_from_slice(&score.to_le_bytes());
            9
        }
    };
    out[at] = member.len() as u8;
    at += 1;
    out[at..at + member.len()].copy_from_slice(member);
    at + member.len()
}

/// The element starting at `at`: score, member, and where the next one starts.
#[inline]
fn entry(buf: &[u8], at: usize) -> (f64, &[u8], usize) {
    let tag = buf[at];
    let (score, p) = if tag == FLOAT {
        let mut b = [0u8; 8];
        b.copy_from_slice(&buf[at + 1..at + 9]);
        (f64::from_le_bytes(b), at + 9)
    } else {
        let k = tag as usize;
        let mut b = [0u8; 8];
        b[..k].copy_from_slice(&buf[at + 1..at + 1 + k]);
        let z = u64::from_le_bytes(b);
        let i = ((z >> 1) as i64) ^ -((z & 1) as i64);
        (i as f64, at + 1 + k)
    };
    let n = buf[p] as usize;
    (score, &buf[p + 1..p + 1 + n], p + 1 + n)
}

/// Ascending elements from a byte offset.
pub struct Iter<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (f64, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.buf.len() {
            return None;
        }
        let (s, m, next) = entry(self.buf, self.at);
        self.at = next;
        Some((s, m))
    }
}

/// Descending elements: the offsets of those to hand out, last first.
pub struct Back<'a> {
    buf: &'a [u8],
    offsets: Vec<u32>,
}

impl<'a> Iterator for Back<'a> {
    type Item = (f64, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let at = self.offsets.pop()? as usize;
        let (s, m, _) = entry(self.buf, at);
        Some((s, m))
    }
}

impl ZPack {
    pub fn len(&self) -> usize {
        self.buf.first().map_or(0, |&n| n as usize)
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter { buf: &self.buf, at: 1 }
    }

    /// Byte offset of the element of rank `rank` (the end for `len` or more).
    fn offset_of_rank(&self, rank: usize) -> usize {
        let mut at = 1;
        for _ in 0..rank.min(self.len()) {
            at = entry(&self.buf, at).2;
        }
        at
    }

    /// Replace the bytes `span` with `with`, leaving `count` elements: one new buffer of
    /// exactly the new size (none for no element).
    fn splice(&mut self, span: std::ops::Range<usize>, with: &[u8], count: usize) {
        if count == 0 {
            self.buf = ThinBytes::new();
            return;
        }
        let buf = &self.buf;
        let (before, after): (&[u8], &[u8]) =
            if buf.is_empty() { (&[], &[]) } else { (&buf[1..span.start], &buf[span.end..]) };
        self.buf = ThinBytes::from_parts(&[&[count as u8], before, with, after]);
    }

    /// Ascending from rank `start`.
    pub fn iter_from_rank(&self, start: usize) -> Iter<'_> {
        Iter { buf: &self.buf, at: self.offset_of_rank(start) }
    }

    /// Descending from rank `start` (or from the last element when `start` is past it).
    pub fn iter_back_from_rank(&self, start: usize) -> Back<'_> {
        let n = start.saturating_add(1).min(self.len());
        let mut offsets = Vec::with_capacity(n);
        let mut at = 1;
        for _ in 0..n {
            offsets.push(at as u32);
            at = entry(&self.buf, at).2;
        }
        Back { buf: &self.buf, offsets }
    }

    pub fn get(&self, rank: usize) -> Option<(f64, &[u8])> {
        self.iter_from_rank(rank).next().filter(|_| rank < self.len())
    }

    /// Rank, byte offset and score of `member`, and the offset of the element before it
    /// (`None` for the first).
    fn find(&self, member: &[u8]) -> Option<(usize, usize, f64, Option<usize>)> {
        let (mut at, mut prev) = (1, None);
        for rank in 0..self.len() {
            let (s, m, next) = entry(&self.buf, at);
            if m == member {
                return Some((rank, at, s, prev));
            }
            (prev, at) = (Some(at), next);
        }
        None
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|(_, _, s, _)| s)
    }

    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        self.find(member).map(|(r, _, _, _)| r)
    }

    /// How many elements `before` holds for (elements partitioned: all `before` first).
    pub fn count_where(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        self.iter().take_while(|&(s, m)| before(s, m)).count()
    }

    /// Where (score, member) goes: the offset of the first element after it.
    fn place(&self, score: f64, member: &[u8]) -> usize {
        let mut at = 1;
        while at < self.buf.len() {
            let (s, m, next) = entry(&self.buf, at);
            if cmp_entry(s, m, score, member) == Ordering::Greater {
                break;
            }
            at = next;
        }
        at
    }

    /// Insert an element whose member is not present, in order.
    pub fn insert(&mut self, score: f64, member: &[u8]) {
        debug_assert!(member.len() <= MAX_MEMBER && self.len() < MAX_LEN);
        let at = self.place(score, member);
        let mut enc = [0u8; OVERHEAD + MAX_MEMBER];
        let n = encode(score, member, &mut enc);
        self.splice(at..at, &enc[..n], self.len() + 1);
    }

    /// Remove `member`; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let (_, at, s, _) = self.find(member)?;
        let end = entry(&self.buf, at).2;
        self.splice(at..end, &[], self.len() - 1);
        Some(s)
    }

    /// Give `member` the score `score`, moving it into order. Returns its previous score, or
    /// `None` (and nothing changed) when it is not present.
    pub fn set_score(&mut self, member: &[u8], score: f64) -> Option<f64> {
        let (_, at, cur, prev) = self.find(member)?;
        // Same score bit for bit (so -0/+0 still move): nothing to reorder.
        if cur.to_bits() == score.to_bits() {
            return Some(cur);
        }
        let end = entry(&self.buf, at).2;
        let mut enc = [0u8; OVERHEAD + MAX_MEMBER];
        let n = encode(score, member, &mut enc);
        let after = end == self.buf.len() || {
            let (s, m, _) = entry(&self.buf, end);
            cmp_entry(s, m, score, member) == Ordering::Greater
        };
        let before = prev.is_none_or(|p| {
            let (s, m, _) = entry(&self.buf, p);
            cmp_entry(s, m, score, member) == Ordering::Less
        });
        if before && after && n == end - at {
            self.buf[at..end].copy_from_slice(&enc[..n]);
        } else if before && after {
            self.splice(at..end, &enc[..n], self.len());
        } else {
            self.splice(at..end, &[], self.len() - 1);
            let to = self.place(score, member);
            self.splice(to..to, &enc[..n], self.len() + 1);
        }
        Some(cur)
    }

    /// Remove the elements of ranks `start..end` (clamped) and return them ascending.
    pub fn drain_ranks(&mut self, start: usize, end: usize) -> Vec<(f64, ThinBytes)> {
        let end = end.min(self.len());
        if start >= end {
            return Vec::new();
        }
        let from = self.offset_of_rank(start);
        let mut to = from;
        let mut items = Vec::with_capacity(end - start);
        for _ in start..end {
            let (s, m, next) = entry(&self.buf, to);
            items.push((s, m.into()));
            to = next;
        }
        self.splice(from..to, &[], self.len() - (end - start));
        items
    }

    /// Heap bytes held (the buffer is exactly sized; its one-byte header included).
    pub fn heap_size(&self) -> usize {
        if self.buf.is_empty() {
            0
        } else {
            self.buf.len() + 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(p: &ZPack) -> Vec<(f64, Vec<u8>)> {
        p.iter().map(|(s, m)| (s, m.to_vec())).collect()
    }

    #[test]
    fn scores_round_trip_bit_for_bit_in_their_shortest_form() {
        let scores = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            63.0,
            64.0,
            -64.0,
            -65.0,
            255.0,
            256.0,
            1.5,
            -2.25,
            9007199254740993.0,
            i64::MAX as f64,
            i64::MIN as f64,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
        ];
        let mut p = ZPack::default();
        for (i, &sc) in scores.iter().enumerate() {
            p.insert(sc, format!("m{i}").as_bytes());
        }
        for (i, &sc) in scores.iter().enumerate() {
            assert_eq!(p.score(format!("m{i}").as_bytes()).map(f64::to_bits), Some(sc.to_bits()), "{sc}");
        }
        // 0 takes no score byte, small integers one, 1.5 eight.
        let mut one = ZPack::default();
        one.insert(0.0, b"m");
        assert_eq!(one.heap_size(), 1 + 1 + 1 + 1 + 1);
        assert_eq!(one.set_score(b"m", 63.0), Some(0.0));
        assert_eq!(one.heap_size(), 6);
        assert_eq!(one.set_score(b"m", 1.5), Some(63.0));
        assert_eq!(one.heap_size(), 13);
        assert_eq!(one.remove(b"m"), Some(1.5));
        assert_eq!((one.len(), one.heap_size()), (0, 0));
    }

    #[test]
    fn order_lookups_and_walks_both_ways() {
        let mut p = ZPack::default();
        for (s, m) in
            [(2.0, "b"), (1.0, "z"), (2.0, "a"), (-1.5, ""), (f64::INFINITY, "long-member-name-of-some-length")]
        {
            p.insert(s, m.as_bytes());
        }
        let want: Vec<(f64, Vec<u8>)> =
            [(-1.5, ""), (1.0, "z"), (2.0, "a"), (2.0, "b"), (f64::INFINITY, "long-member-name-of-some-length")]
                .iter()
                .map(|&(s, m)| (s, m.as_bytes().to_vec()))
                .collect();
        assert_eq!(items(&p), want);
        assert_eq!(p.len(), 5);
        assert_eq!(p.rank(b"a"), Some(2));
        assert_eq!(p.score(b""), Some(-1.5));
        assert_eq!(p.score(b"nope"), None);
        assert_eq!(p.get(4).map(|(s, _)| s), Some(f64::INFINITY));
        assert_eq!(p.get(5), None);
        let back: Vec<&[u8]> = p.iter_back_from_rank(3).map(|(_, m)| m).collect();
        assert_eq!(back, [&b"b"[..], b"a", b"z", b""]);
        assert_eq!(p.iter_back_from_rank(99).count(), 5);
        assert_eq!(p.iter_from_rank(3).count(), 2);
        assert_eq!(p.iter_from_rank(9).count(), 0);
        assert_eq!(p.count_where(|s, _| s < 2.0), 2);
        assert_eq!(p.count_where(|s, m| (s, m) < (2.0, &b"b"[..])), 3);
    }

    #[test]
    fn scores_move_in_place_or_reorder() {
        let mut p = ZPack::default();
        for i in 0..10 {
            p.insert(i as f64, format!("m{i}").as_bytes());
        }
        assert_eq!(p.set_score(b"m3", 3.5), Some(3.0)); // stays between m2 and m4
        assert_eq!(p.set_score(b"m3", 9.5), Some(3.5)); // moves to the end
        assert_eq!(p.set_score(b"m9", -1.0), Some(9.0)); // moves to the front
        assert_eq!(p.set_score(b"m0", -0.0), Some(0.0)); // same order, the new bits kept
        assert!(p.score(b"m0").unwrap().is_sign_negative());
        assert_eq!(p.set_score(b"zz", 1.0), None);
        let order: Vec<Vec<u8>> = p.iter().map(|(_, m)| m.to_vec()).collect();
        let want: Vec<Vec<u8>> = ["m9", "m0", "m1", "m2", "m4", "m5", "m6", "m7", "m8", "m3"]
            .iter()
            .map(|m| m.as_bytes().to_vec())
            .collect();
        assert_eq!(order, want);
        assert_eq!(p.remove(b"m5"), Some(5.0));
        assert_eq!(p.remove(b"m5"), None);
        let drained = p.drain_ranks(1, 3);
        assert_eq!(
            drained.iter().map(|(s, m)| (*s, &m[..])).collect::<Vec<_>>(),
            [(-0.0, &b"m0"[..]), (1.0, &b"m1"[..])]
        );
        assert_eq!(p.len(), 7);
        assert_eq!(items(&p).len(), 7);
        assert!(p.drain_ranks(7, 9).is_empty());
        assert_eq!(p.drain_ranks(4, 99).len(), 3);
        let back: Vec<Vec<u8>> = p.iter_back_from_rank(99).map(|(_, m)| m.to_vec()).collect();
        assert_eq!(back, [b"m6".to_vec(), b"m4".to_vec(), b"m2".to_vec(), b"m9".to_vec()]);
    }
}
