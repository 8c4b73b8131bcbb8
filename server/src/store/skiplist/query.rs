//! Read-only skip-list queries: ranks, rank lookups, predicate searches, cursors and iteration.
//! Nothing here mutates the list.

use super::{Cursor, SkipList, HEAD, NIL};

impl SkipList {
    /// 0-based rank of an element that is present.
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let mut x = HEAD;
        let mut rank = 0u32;
        for i in (0..self.level).rev() {
            loop {
                let c = self.lv(x, i);
                if c.link == NIL || self.after(c.link, c.score, score, member) {
                    break;
                }
                rank += c.span;
                x = c.link;
            }
            if x != HEAD && self.cells[x as usize].score == score && self.member_of(x) == member {
                return Some(rank as usize - 1);
            }
        }
        None
    }

    /// Cursor at 0-based `rank`.
    pub fn at_rank(&self, rank: usize) -> Option<Cursor> {
        if rank >= self.len {
            return None;
        }
        let target = rank as u32 + 1;
        let mut x = HEAD;
        let mut traversed = 0u32;
        for i in (0..self.level).rev() {
            loop {
                let c = self.lv(x, i);
                if c.link == NIL || traversed + c.span > target {
                    break;
                }
                traversed += c.span;
                x = c.link;
            }
            if traversed == target {
                return Some(Cursor(x));
            }
        }
        None
    }

    /// The last node (or HEAD) for which `go(score, node)` holds, walking down from the top
    /// level (elements must be partitioned: all `go` first), and its rank counted from 1 (0 for
    /// HEAD): the spans walked. `go` reads the node's member only if it needs it.
    fn descend_nodes(&self, go: impl Fn(f64, u32) -> bool) -> (u32, usize) {
        let (mut x, mut rank) = (HEAD, 0usize);
        for i in (0..self.level).rev() {
            loop {
                let c = self.lv(x, i);
                if c.link == NIL || !go(c.score, c.link) {
                    break;
                }
                rank += c.span as usize;
                x = c.link;
            }
        }
        (x, rank)
    }

    /// How many elements `before(score, member)` holds for (elements partitioned: all `before`
    /// first), which is the rank of the first it does not hold for. One descent.
    pub fn count_where(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        self.descend_nodes(|s, n| before(s, self.member_of(n))).1
    }

    /// [`SkipList::count_where`] when the score alone decides: no member is read.
    pub fn count_where_score(&self, before: impl Fn(f64) -> bool) -> usize {
        self.descend_nodes(|s, _| before(s)).1
    }

    /// First element whose score `before` is false for (scores partitioned); no member read.
    pub fn first_where_score(&self, before: impl Fn(f64) -> bool) -> Option<Cursor> {
        let f = self.lv(self.descend_nodes(|s, _| before(s)).0, 0).link;
        (f != NIL).then_some(Cursor(f))
    }

    pub fn first(&self) -> Option<Cursor> {
        let f = self.lv(HEAD, 0).link;
        (f != NIL).then_some(Cursor(f))
    }

    pub fn last(&self) -> Option<Cursor> {
        (self.tail != NIL).then_some(Cursor(self.tail))
    }

    pub fn next(&self, c: Cursor) -> Option<Cursor> {
        let f = self.lv(c.0, 0).link;
        (f != NIL).then_some(Cursor(f))
    }

    pub fn prev(&self, c: Cursor) -> Option<Cursor> {
        let b = self.cells[c.0 as usize].link;
        (b != NIL).then_some(Cursor(b))
    }

    pub fn score(&self, c: Cursor) -> f64 {
        self.cells[c.0 as usize].score
    }

    pub fn member(&self, c: Cursor) -> &[u8] {
        self.member_of(c.0)
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
