//! Read-only tree queries: ranks, rank lookups, predicate searches, cursors and iteration.
//! Nothing here mutates the tree.

use super::member::Member;
use super::{Cursor, ZTree, NIL};

/// The first index in `lo..hi` for which `pred` is false (`pred` true then false).
#[inline]
fn partition(mut lo: usize, mut hi: usize, pred: impl Fn(usize) -> bool) -> usize {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

impl ZTree {
    /// 0-based rank of an element that is present.
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let mut x = self.root as usize;
        let mut rank = 0usize;
        for _ in 0..self.depth {
            let node = &self.inners[x];
            let c = node.child_for(score, member);
            rank += node.counts[..c].iter().map(|&n| n as usize).sum::<usize>();
            x = node.children[c] as usize;
        }
        let leaf = &self.leaves[x];
        let pos = leaf.position(score, member);
        leaf.is_at(pos, score, member).then_some(rank + pos)
    }

    /// Cursor at 0-based `rank`.
    pub fn at_rank(&self, rank: usize) -> Option<Cursor> {
        if rank >= self.len {
            return None;
        }
        let mut r = rank as u32;
        let mut x = self.root as usize;
        for _ in 0..self.depth {
            let node = &self.inners[x];
            let mut c = 0;
            while r >= node.counts[c] {
                r -= node.counts[c];
                c += 1;
            }
            x = node.children[c] as usize;
        }
        Some(Cursor { leaf: x as u32, slot: r })
    }

    /// Where `before(score, member)` turns false (elements and keys partitioned: all `before`
    /// first): the leaf, the slot in it, and how many elements come before. One descent; an
    /// inner node's keys are bounds, so `before` must hold for a whole range of keys, as range
    /// bounds do, not only for the elements.
    fn descend_where(&self, before: impl Fn(f64, &Member) -> bool) -> (usize, usize, usize) {
        let mut x = self.root as usize;
        let mut rank = 0usize;
        for _ in 0..self.depth {
            let node = &self.inners[x];
            let c = partition(1, node.len as usize, |i| before(node.scores[i], &node.members[i])) - 1;
            rank += node.counts[..c].iter().map(|&n| n as usize).sum::<usize>();
            x = node.children[c] as usize;
        }
        let leaf = &self.leaves[x];
        let pos = partition(0, leaf.len as usize, |i| before(leaf.scores[i], &leaf.members[i]));
        (x, pos, rank + pos)
    }

    /// How many elements `before(score, member)` holds for (elements partitioned: all `before`
    /// first), which is the rank of the first it does not hold for. One descent.
    pub fn count_where(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        self.descend_where(|s, m| before(s, m.bytes())).2
    }

    /// [`ZTree::count_where`] when the score alone decides: no member is read.
    pub fn count_where_score(&self, before: impl Fn(f64) -> bool) -> usize {
        self.descend_where(|s, _| before(s)).2
    }

    /// First element whose score `before` is false for (scores partitioned); no member read.
    pub fn first_where_score(&self, before: impl Fn(f64) -> bool) -> Option<Cursor> {
        let (leaf, slot, _) = self.descend_where(|s, _| before(s));
        self.settle(leaf, slot)
    }

    /// The cursor at `slot` of `leaf`, or at the next leaf's first when past its end.
    fn settle(&self, leaf: usize, slot: usize) -> Option<Cursor> {
        if slot < self.leaves[leaf].len as usize {
            return Some(Cursor { leaf: leaf as u32, slot: slot as u32 });
        }
        match self.leaves[leaf].next {
            NIL => None,
            next => Some(Cursor { leaf: next, slot: 0 }),
        }
    }

    pub fn first(&self) -> Option<Cursor> {
        (self.len > 0).then_some(Cursor { leaf: self.head, slot: 0 })
    }

    pub fn last(&self) -> Option<Cursor> {
        (self.len > 0).then(|| Cursor { leaf: self.tail, slot: self.leaves[self.tail as usize].len - 1 })
    }

    pub fn next(&self, c: Cursor) -> Option<Cursor> {
        self.settle(c.leaf as usize, c.slot as usize + 1)
    }

    pub fn prev(&self, c: Cursor) -> Option<Cursor> {
        if c.slot > 0 {
            return Some(Cursor { leaf: c.leaf, slot: c.slot - 1 });
        }
        match self.leaves[c.leaf as usize].prev {
            NIL => None,
            p => Some(Cursor { leaf: p, slot: self.leaves[p as usize].len - 1 }),
        }
    }

    pub fn score(&self, c: Cursor) -> f64 {
        self.leaves[c.leaf as usize].scores[c.slot as usize]
    }

    pub fn member(&self, c: Cursor) -> &[u8] {
        self.leaves[c.leaf as usize].members[c.slot as usize].bytes()
    }

    /// Iterate in order from a cursor.
    pub fn iter_from(&self, c: Option<Cursor>) -> impl Iterator<Item = (f64, &[u8])> + '_ {
        std::iter::successors(c, move |c| self.next(*c)).map(move |c| (self.score(c), self.member(c)))
    }

    /// Iterate backwards from a cursor.
    pub fn iter_back_from(&self, c: Option<Cursor>) -> impl Iterator<Item = (f64, &[u8])> + '_ {
        std::iter::successors(c, move |c| self.prev(*c)).map(move |c| (self.score(c), self.member(c)))
    }
}
