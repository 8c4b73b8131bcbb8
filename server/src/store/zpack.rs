//! A small sorted set packed in one buffer, as Redis's listpack keeps it: per element its
//! score (8 bytes, a little-endian `f64`), its member's length (one byte), the member, and the
//! length again so that the buffer can be walked backwards; elements in ascending (score,
//! member) order. A lookup walks one buffer (at most `zset-max-listpack-entries` elements)
//! and touches no other allocation: where each member had an allocation of its own, reading
//! every member of a small set (GEOSEARCH, ZRANGE) was a cache miss per member.
//!
//! Members are at most [`MAX_MEMBER`] bytes (a small sorted set's members are at most
//! `zset-max-listpack-value`, 64); `ZSetValue` converts before a longer one comes in.

use super::thin::ThinBytes;
use super::ztree::cmp_entry;
use std::cmp::Ordering;

/// Longest member a pack holds: its length is one byte.
pub const MAX_MEMBER: usize = 255;
/// Bytes of an element besides its member: score, and the length before and after.
const OVERHEAD: usize = 10;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZPack {
    buf: Vec<u8>,
    len: usize,
}

/// The element starting at `at`: score, member, and where the next one starts.
#[inline]
fn entry(buf: &[u8], at: usize) -> (f64, &[u8], usize) {
    let mut score = [0u8; 8];
    score.copy_from_slice(&buf[at..at + 8]);
    let n = buf[at + 8] as usize;
    (f64::from_le_bytes(score), &buf[at + 9..at + 9 + n], at + OVERHEAD + n)
}

/// Where the element ending at `end` starts.
#[inline]
fn start_before(buf: &[u8], end: usize) -> usize {
    end - OVERHEAD - buf[end - 1] as usize
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

/// Descending elements before a byte offset.
pub struct Back<'a> {
    buf: &'a [u8],
    end: usize,
}

impl<'a> Iterator for Back<'a> {
    type Item = (f64, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.end == 0 {
            return None;
        }
        let at = start_before(self.buf, self.end);
        self.end = at;
        let (s, m, _) = entry(self.buf, at);
        Some((s, m))
    }
}

impl ZPack {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter { buf: &self.buf, at: 0 }
    }

    /// Byte offset of the element of rank `rank` (the end for `len`).
    fn offset_of_rank(&self, rank: usize) -> usize {
        let mut at = 0;
        for _ in 0..rank.min(self.len) {
            at = entry(&self.buf, at).2;
        }
        at
    }

    /// Ascending from rank `start`.
    pub fn iter_from_rank(&self, start: usize) -> Iter<'_> {
        Iter { buf: &self.buf, at: self.offset_of_rank(start) }
    }

    /// Descending from rank `start` (or from the last element when `start` is past it).
    pub fn iter_back_from_rank(&self, start: usize) -> Back<'_> {
        Back { buf: &self.buf, end: self.offset_of_rank(start.saturating_add(1)) }
    }

    pub fn get(&self, rank: usize) -> Option<(f64, &[u8])> {
        self.iter_from_rank(rank).next().filter(|_| rank < self.len)
    }

    /// Rank, byte offset and score of `member`.
    fn find(&self, member: &[u8]) -> Option<(usize, usize, f64)> {
        let mut at = 0;
        for rank in 0..self.len {
            let (s, m, next) = entry(&self.buf, at);
            if m == member {
                return Some((rank, at, s));
            }
            at = next;
        }
        None
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|(_, _, s)| s)
    }

    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        self.find(member).map(|(r, _, _)| r)
    }

    /// How many elements `before` holds for (elements partitioned: all `before` first).
    pub fn count_where(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        self.iter().take_while(|&(s, m)| before(s, m)).count()
    }

    /// Insert an element whose member is not present, in order.
    pub fn insert(&mut self, score: f64, member: &[u8]) {
        debug_assert!(member.len() <= MAX_MEMBER);
        let mut at = 0;
        while at < self.buf.len() {
            let (s, m, next) = entry(&self.buf, at);
            if cmp_entry(s, m, score, member) == Ordering::Greater {
                break;
            }
            at = next;
        }
        let n = member.len() as u8;
        let mut bytes = [0u8; OVERHEAD + MAX_MEMBER];
        bytes[..8].copy_from_slice(&score.to_le_bytes());
        bytes[8] = n;
        bytes[9..9 + member.len()].copy_from_slice(member);
        bytes[9 + member.len()] = n;
        // Exactly the room needed, as a listpack grows: a small sorted set is one allocation
        // the size of its elements (a doubling vector would hold up to twice that).
        self.buf.reserve_exact(OVERHEAD + member.len());
        self.buf.splice(at..at, bytes[..OVERHEAD + member.len()].iter().copied());
        self.len += 1;
    }

    /// Remove `member`; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let (_, at, s) = self.find(member)?;
        let end = entry(&self.buf, at).2;
        self.buf.drain(at..end);
        self.len -= 1;
        self.trim();
        Some(s)
    }

    /// Give back room left by removed elements once it is more than a few of them.
    fn trim(&mut self) {
        if self.buf.capacity() - self.buf.len() > 256 {
            self.buf.shrink_to_fit();
        }
    }

    /// Give `member` (present, at score `cur`) the score `score`, moving it into order.
    /// Returns its previous score, or `None` (and nothing changed) when it is not present.
    pub fn set_score(&mut self, member: &[u8], score: f64) -> Option<f64> {
        let (rank, at, cur) = self.find(member)?;
        // Same score bit for bit (so -0/+0 still move): nothing to reorder.
        if cur.to_bits() == score.to_bits() {
            return Some(cur);
        }
        let end = entry(&self.buf, at).2;
        let before = (rank == 0) || {
            let (s, m, _) = entry(&self.buf, start_before(&self.buf, at));
            cmp_entry(s, m, score, member) == Ordering::Less
        };
        let after = end == self.buf.len() || {
            let (s, m, _) = entry(&self.buf, end);
            cmp_entry(s, m, score, member) == Ordering::Greater
        };
        if before && after {
            self.buf[at..at + 8].copy_from_slice(&score.to_le_bytes());
        } else {
            self.buf.drain(at..end);
            self.len -= 1;
            self.insert(score, member);
        }
        Some(cur)
    }

    /// Remove the elements of ranks `start..end` (clamped) and return them ascending.
    pub fn drain_ranks(&mut self, start: usize, end: usize) -> Vec<(f64, ThinBytes)> {
        let end = end.min(self.len);
        if start >= end {
            return Vec::new();
        }
        let from = self.offset_of_rank(start);
        let items: Vec<(f64, ThinBytes)> =
            Iter { buf: &self.buf, at: from }.take(end - start).map(|(s, m)| (s, m.into())).collect();
        let to = items.iter().fold(from, |at, _| entry(&self.buf, at).2);
        self.buf.drain(from..to);
        self.len -= end - start;
        self.trim();
        items
    }

    /// Heap bytes held.
    pub fn heap_size(&self) -> usize {
        self.buf.capacity()
    }
}

const _: () = assert!(std::mem::size_of::<ZPack>() == 32);

#[cfg(test)]
mod tests {
    use super::*;

    fn items(p: &ZPack) -> Vec<(f64, Vec<u8>)> {
        p.iter().map(|(s, m)| (s, m.to_vec())).collect()
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
