//! An order-statistics skip list (Redis's `zskiplist`): elements ordered by (score, member),
//! every forward link carrying its span so rank queries and rank lookups are O(log n).
//! This is only the ordered index; `ZSetValue` pairs it with a member → score map.
//!
//! Layout (no `unsafe`, no `Rc`): every node is a run of 16-byte [`Cell`]s in one `Vec`, a header
//! cell (backward link, member slot, own score) followed by its levels inline, so a node's levels
//! share cache lines as in the C `zskiplistNode`. A node is addressed by the index of its header.
//! Each level cell also keeps the score of the node it points to: a descent compares scores
//! without touching the next node and reads a member only on a score tie (members live in a
//! parallel `Vec`, inline when short). Freed runs are kept on per-height free lists and reused
//! by nodes of the same height. Queries (ranks, cursors, iteration) live in `skiplist/query.rs`.
#![allow(clippy::needless_range_loop)] // level loops index several parallel arrays, as the C original

use member::Member;
use std::cmp::Ordering;

mod member;
mod query;

#[cfg(test)]
mod perf;
#[cfg(test)]
mod tests;

const MAX_LEVEL: usize = 32;
const NIL: u32 = u32::MAX;
const HEAD: u32 = 0;

/// A header cell (`link` = backward node, `span` = member slot, `score` = the node's score) or a
/// level cell (`link` = forward node, `span` = its span, `score` = the forward node's score).
#[derive(Clone, Copy, Debug)]
struct Cell {
    link: u32,
    span: u32,
    score: f64,
}

const EMPTY: Cell = Cell { link: NIL, span: 0, score: 0.0 };

/// Elements sorted by score, then member bytes.
#[derive(Clone, Debug)]
pub struct SkipList {
    cells: Vec<Cell>,
    /// Members, indexed by a header cell's `span`.
    slots: Vec<Member>,
    /// `free[h]`: freed nodes of height `h` (each keeps its member slot); grown on demand.
    free: Vec<Vec<u32>>,
    level: usize,
    len: usize,
    tail: u32,
    rng: u64,
}

impl Default for SkipList {
    fn default() -> Self {
        Self::new()
    }
}

/// (score, member) ordering used everywhere in sorted sets.
pub fn cmp_entry(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    s1.partial_cmp(&s2).unwrap_or(Ordering::Equal).then_with(|| m1.cmp(m2))
}

impl SkipList {
    pub fn new() -> Self {
        let mut cells = Vec::with_capacity(MAX_LEVEL + 1);
        cells.push(Cell { link: NIL, span: 0, score: 0.0 });
        cells.extend(std::iter::repeat_n(EMPTY, MAX_LEVEL));
        SkipList {
            cells,
            slots: vec![Member::EMPTY],
            free: Vec::new(),
            level: 1,
            len: 0,
            tail: NIL,
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn random_level(&mut self) -> usize {
        let mut level = 1;
        loop {
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            // p = 1/4 as in Redis.
            if (self.rng & 0xFFFF) < 0x4000 && level < MAX_LEVEL {
                level += 1;
            } else {
                return level;
            }
        }
    }

    /// Level `i` of node `x`.
    #[inline]
    fn lv(&self, x: u32, i: usize) -> Cell {
        self.cells[x as usize + 1 + i]
    }

    #[inline]
    fn lv_mut(&mut self, x: u32, i: usize) -> &mut Cell {
        &mut self.cells[x as usize + 1 + i]
    }

    #[inline]
    fn member_of(&self, x: u32) -> &[u8] {
        self.slots[self.cells[x as usize].span as usize].bytes()
    }

    /// Number of levels of node `x`, `update` being its predecessors (as from `find_update`).
    fn height(&self, x: u32, update: &[u32; MAX_LEVEL]) -> usize {
        (0..self.level).take_while(|&i| self.lv(update[i], i).link == x).count()
    }

    /// Is node `n` (whose score is `ns`) ordered before (score, member)? Reads the member only
    /// on a score tie.
    #[inline]
    fn before(&self, n: u32, ns: f64, score: f64, member: &[u8]) -> bool {
        match ns.partial_cmp(&score) {
            Some(Ordering::Less) => true,
            Some(Ordering::Greater) => false,
            _ => self.member_of(n) < member,
        }
    }

    /// Is node `n` (whose score is `ns`) ordered after (score, member)?
    #[inline]
    fn after(&self, n: u32, ns: f64, score: f64, member: &[u8]) -> bool {
        match ns.partial_cmp(&score) {
            Some(Ordering::Less) => false,
            Some(Ordering::Greater) => true,
            _ => self.member_of(n) > member,
        }
    }

    /// Does level cell `c` lead to a node ordered before (score, member)?
    #[inline]
    fn leads_before(&self, c: Cell, score: f64, member: &[u8]) -> bool {
        c.link != NIL && self.before(c.link, c.score, score, member)
    }

    /// Fill `update[i]` with the last node before (score, member) on each level; returns
    /// `update[0]`.
    fn find_update(&self, score: f64, member: &[u8], update: &mut [u32; MAX_LEVEL]) -> u32 {
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let c = self.lv(x, i);
                if !self.leads_before(c, score, member) {
                    break;
                }
                x = c.link;
            }
            update[i] = x;
        }
        x
    }

    /// The node holding exactly (score, member), given `update[0]` from `find_update`.
    fn found(&self, prev: u32, score: f64, member: &[u8]) -> Option<u32> {
        let c = self.lv(prev, 0);
        let hit = c.link != NIL
            && c.score.partial_cmp(&score).unwrap_or(Ordering::Equal) == Ordering::Equal
            && self.member_of(c.link) == member;
        hit.then_some(c.link)
    }

    /// A node of `height` levels holding `member` (levels not yet linked).
    fn alloc(&mut self, height: usize, member: &[u8]) -> u32 {
        if let Some(x) = self.free.get_mut(height).and_then(Vec::pop) {
            let slot = self.cells[x as usize].span as usize;
            self.slots[slot] = Member::new(member);
            return x;
        }
        let x = u32::try_from(self.cells.len()).ok().filter(|&x| x != NIL).expect("skip list too large");
        let slot = self.slots.len() as u32;
        self.slots.push(Member::new(member));
        self.cells.push(Cell { link: NIL, span: slot, score: 0.0 });
        self.cells.extend(std::iter::repeat_n(EMPTY, height));
        x
    }

    /// Insert an element that is not present.
    pub fn insert(&mut self, score: f64, member: &[u8]) {
        let height = self.random_level();
        let x = self.alloc(height, member);
        self.link(x, height, score, member);
    }

    /// Link the unlinked node `x` (of `height` levels, holding `member`) in at `score`.
    fn link(&mut self, x: u32, height: usize, score: f64, member: &[u8]) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let mut y = HEAD;
        let mut r = 0u32;
        for i in (0..self.level).rev() {
            loop {
                let c = self.lv(y, i);
                if !self.leads_before(c, score, member) {
                    break;
                }
                r += c.span;
                y = c.link;
            }
            update[i] = y;
            rank[i] = r;
        }
        if height > self.level {
            for i in self.level..height {
                self.lv_mut(HEAD, i).span = self.len as u32;
            }
            self.level = height;
        }
        for i in 0..height {
            let u = self.lv(update[i], i);
            let before = rank[0] - rank[i];
            *self.lv_mut(x, i) = Cell { link: u.link, span: u.span - before, score: u.score };
            *self.lv_mut(update[i], i) = Cell { link: x, span: before + 1, score };
        }
        for i in height..self.level {
            self.lv_mut(update[i], i).span += 1;
        }
        let header = &mut self.cells[x as usize];
        header.link = if update[0] == HEAD { NIL } else { update[0] };
        header.score = score;
        let next = self.lv(x, 0).link;
        if next != NIL {
            self.cells[next as usize].link = x;
        } else {
            self.tail = x;
        }
        self.len += 1;
    }

    /// Unlink node `x`, `update` being its predecessors on every level (the node is kept).
    fn unlink(&mut self, x: u32, update: &[u32; MAX_LEVEL]) {
        for i in 0..self.level {
            if self.lv(update[i], i).link == x {
                let t = self.lv(x, i);
                let u = self.lv_mut(update[i], i);
                u.span = u.span + t.span - 1;
                u.link = t.link;
                u.score = t.score;
            } else {
                self.lv_mut(update[i], i).span -= 1;
            }
        }
        let next = self.lv(x, 0).link;
        let back = self.cells[x as usize].link;
        if next != NIL {
            self.cells[next as usize].link = back;
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.lv(HEAD, self.level - 1).link == NIL {
            self.level -= 1;
        }
        self.len -= 1;
    }

    /// Remove an element; false if it was not there.
    pub fn delete(&mut self, score: f64, member: &[u8]) -> bool {
        let mut update = [HEAD; MAX_LEVEL];
        let prev = self.find_update(score, member, &mut update);
        let Some(x) = self.found(prev, score, member) else {
            return false;
        };
        let height = self.height(x, &update);
        self.unlink(x, &update);
        let slot = self.cells[x as usize].span as usize;
        self.slots[slot] = Member::EMPTY;
        if self.free.len() <= height {
            self.free.resize_with(height + 1, Vec::new);
        }
        self.free[height].push(x);
        true
    }

    /// Move an element from score `cur` to score `new` (Redis's `zslUpdateScore`): in place when
    /// it stays between its neighbours, else unlinked and linked again reusing its node. False
    /// (and nothing changed) if (cur, member) was not there.
    pub fn update_score(&mut self, cur: f64, member: &[u8], new: f64) -> bool {
        let mut update = [HEAD; MAX_LEVEL];
        let prev = self.find_update(cur, member, &mut update);
        let Some(x) = self.found(prev, cur, member) else {
            return false;
        };
        let height = self.height(x, &update);
        let next = self.lv(x, 0);
        let stays = (prev == HEAD || self.before(prev, self.cells[prev as usize].score, new, member))
            && (next.link == NIL || self.after(next.link, next.score, new, member));
        if stays {
            self.cells[x as usize].score = new;
            for i in 0..height {
                self.lv_mut(update[i], i).score = new;
            }
        } else {
            self.unlink(x, &update);
            self.link(x, height, new, member);
        }
        true
    }

    /// Heap bytes used (estimate for memory accounting).
    pub fn heap_size(&self) -> usize {
        self.cells.capacity() * std::mem::size_of::<Cell>()
            + self.slots.capacity() * std::mem::size_of::<Member>()
            + self.slots.iter().map(Member::heap_len).sum::<usize>()
            + self.free.iter().map(|f| f.capacity() * 4).sum::<usize>()
    }
}

/// A position in the list (valid until the next mutation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor(u32);
