//! An order-statistics skip list (Redis's `zskiplist`): elements ordered by (score, member),
//! every forward link carrying its span so rank queries and rank lookups are O(log n).
//! Nodes live in an arena (`Vec`) addressed by `u32` indexes: no `unsafe`, no `Rc`.
//! This is only the ordered index; `ZSetValue` pairs it with a member → score map.
#![allow(clippy::needless_range_loop)] // level loops index several parallel arrays, as the C original

use std::cmp::Ordering;

const MAX_LEVEL: usize = 32;
const NIL: u32 = u32::MAX;
const HEAD: u32 = 0;

#[derive(Clone, Copy, Debug)]
struct Level {
    forward: u32,
    span: u32,
}

#[derive(Debug)]
struct Node {
    member: Box<[u8]>,
    score: f64,
    backward: u32,
    levels: smallvec::SmallVec<[Level; 2]>,
}

/// Elements sorted by score, then member bytes.
#[derive(Debug)]
pub struct SkipList {
    nodes: Vec<Node>,
    free: Vec<u32>,
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
        let head = Node {
            member: Box::default(),
            score: 0.0,
            backward: NIL,
            levels: (0..MAX_LEVEL).map(|_| Level { forward: NIL, span: 0 }).collect(),
        };
        SkipList { nodes: vec![head], free: Vec::new(), level: 1, len: 0, tail: NIL, rng: 0x9E37_79B9_7F4A_7C15 }
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

    fn fwd(&self, n: u32, lvl: usize) -> u32 {
        self.nodes[n as usize].levels[lvl].forward
    }

    fn less(&self, n: u32, score: f64, member: &[u8]) -> bool {
        let node = &self.nodes[n as usize];
        cmp_entry(node.score, &node.member, score, member) == Ordering::Less
    }

    /// Insert an element that is not present.
    pub fn insert(&mut self, score: f64, member: &[u8]) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let f = self.fwd(x, i);
                if f != NIL && self.less(f, score, member) {
                    rank[i] += self.nodes[x as usize].levels[i].span;
                    x = f;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        let level = self.random_level();
        if level > self.level {
            for i in self.level..level {
                rank[i] = 0;
                update[i] = HEAD;
                self.nodes[HEAD as usize].levels[i].span = self.len as u32;
            }
            self.level = level;
        }
        let node = Node { member: member.into(), score, backward: NIL, levels: smallvec::SmallVec::new() };
        let idx = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        for i in 0..level {
            let u = update[i] as usize;
            let forward = self.nodes[u].levels[i].forward;
            let uspan = self.nodes[u].levels[i].span;
            let span = uspan - (rank[0] - rank[i]);
            self.nodes[idx as usize].levels.push(Level { forward, span });
            self.nodes[u].levels[i] = Level { forward: idx, span: rank[0] - rank[i] + 1 };
        }
        for i in level..self.level {
            self.nodes[update[i] as usize].levels[i].span += 1;
        }
        let back = if update[0] == HEAD { NIL } else { update[0] };
        self.nodes[idx as usize].backward = back;
        let next = self.fwd(idx, 0);
        if next != NIL {
            self.nodes[next as usize].backward = idx;
        } else {
            self.tail = idx;
        }
        self.len += 1;
    }

    /// Remove an element; false if it was not there.
    pub fn delete(&mut self, score: f64, member: &[u8]) -> bool {
        let mut update = [HEAD; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f != NIL && self.less(f, score, member) {
                    x = f;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        let target = self.fwd(x, 0);
        if target == NIL {
            return false;
        }
        {
            let n = &self.nodes[target as usize];
            if cmp_entry(n.score, &n.member, score, member) != Ordering::Equal {
                return false;
            }
        }
        for i in 0..self.level {
            let u = update[i] as usize;
            if self.nodes[u].levels[i].forward == target {
                let t = &self.nodes[target as usize].levels[i];
                let (tf, ts) = (t.forward, t.span);
                let l = &mut self.nodes[u].levels[i];
                l.span += ts;
                l.span -= 1;
                l.forward = tf;
            } else {
                self.nodes[u].levels[i].span -= 1;
            }
        }
        let next = self.fwd(target, 0);
        let back = self.nodes[target as usize].backward;
        if next != NIL {
            self.nodes[next as usize].backward = back;
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.fwd(HEAD, self.level - 1) == NIL {
            self.level -= 1;
        }
        let n = &mut self.nodes[target as usize];
        n.member = Box::default();
        n.levels = smallvec::SmallVec::new();
        self.free.push(target);
        self.len -= 1;
        true
    }

    /// 0-based rank of an element that is present.
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let mut x = HEAD;
        let mut rank = 0u32;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f == NIL {
                    break;
                }
                let n = &self.nodes[f as usize];
                if cmp_entry(n.score, &n.member, score, member) != Ordering::Greater {
                    rank += self.nodes[x as usize].levels[i].span;
                    x = f;
                } else {
                    break;
                }
            }
            if x != HEAD {
                let n = &self.nodes[x as usize];
                if n.score == score && &*n.member == member {
                    return Some(rank as usize - 1);
                }
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
                let f = self.fwd(x, i);
                let span = self.nodes[x as usize].levels[i].span;
                if f != NIL && traversed + span <= target {
                    traversed += span;
                    x = f;
                } else {
                    break;
                }
            }
            if traversed == target {
                return Some(Cursor(x));
            }
        }
        None
    }

    /// The last node (or HEAD) for which `go(score, member)` holds, walking down from the top
    /// level (elements must be partitioned: all `go` first).
    fn descend(&self, go: impl Fn(f64, &[u8]) -> bool) -> u32 {
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f == NIL || !go(self.nodes[f as usize].score, &self.nodes[f as usize].member) {
                    break;
                }
                x = f;
            }
        }
        x
    }

    /// First element for which `before(score, member)` is false (elements must be partitioned:
    /// all `before` first).
    pub fn first_where(&self, before: impl Fn(f64, &[u8]) -> bool) -> Option<Cursor> {
        let f = self.fwd(self.descend(before), 0);
        (f != NIL).then_some(Cursor(f))
    }

    /// Last element for which `upto(score, member)` is true (elements partitioned: all `upto`
    /// first).
    pub fn last_where(&self, upto: impl Fn(f64, &[u8]) -> bool) -> Option<Cursor> {
        let x = self.descend(upto);
        (x != HEAD).then_some(Cursor(x))
    }

    pub fn first(&self) -> Option<Cursor> {
        let f = self.fwd(HEAD, 0);
        (f != NIL).then_some(Cursor(f))
    }

    pub fn last(&self) -> Option<Cursor> {
        (self.tail != NIL).then_some(Cursor(self.tail))
    }

    pub fn next(&self, c: Cursor) -> Option<Cursor> {
        let f = self.fwd(c.0, 0);
        (f != NIL).then_some(Cursor(f))
    }

    pub fn prev(&self, c: Cursor) -> Option<Cursor> {
        let b = self.nodes[c.0 as usize].backward;
        (b != NIL).then_some(Cursor(b))
    }

    pub fn score(&self, c: Cursor) -> f64 {
        self.nodes[c.0 as usize].score
    }

    pub fn member(&self, c: Cursor) -> &[u8] {
        &self.nodes[c.0 as usize].member
    }

    /// Rank of the element under a cursor.
    pub fn rank_of(&self, c: Cursor) -> usize {
        let n = &self.nodes[c.0 as usize];
        self.rank(n.score, &n.member).unwrap_or(0)
    }

    /// Iterate in order from a cursor.
    pub fn iter_from(&self, c: Option<Cursor>) -> impl Iterator<Item = (f64, &[u8])> + '_ {
        std::iter::successors(c, move |c| self.next(*c)).map(move |c| (self.score(c), self.member(c)))
    }

    /// Iterate backwards from a cursor.
    pub fn iter_back_from(&self, c: Option<Cursor>) -> impl Iterator<Item = (f64, &[u8])> + '_ {
        std::iter::successors(c, move |c| self.prev(*c)).map(move |c| (self.score(c), self.member(c)))
    }

    /// Heap bytes used (estimate for memory accounting).
    pub fn heap_size(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self
                .nodes
                .iter()
                .map(|n| n.member.len() + if n.levels.spilled() { n.levels.capacity() * 8 } else { 0 })
                .sum::<usize>()
    }
}

/// A position in the list (valid until the next mutation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor(u32);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_and_order() {
        let mut s = SkipList::new();
        let n = 2000;
        for i in 0..n {
            let member = format!("m{:05}", (i * 7919) % n);
            s.insert(((i * 7919) % n / 10) as f64, member.as_bytes());
        }
        assert_eq!(s.len(), n);
        let all: Vec<(f64, Vec<u8>)> = s.iter_from(s.first()).map(|(sc, m)| (sc, m.to_vec())).collect();
        for w in all.windows(2) {
            assert_eq!(cmp_entry(w[0].0, &w[0].1, w[1].0, &w[1].1), Ordering::Less);
        }
        for (r, (sc, m)) in all.iter().enumerate() {
            assert_eq!(s.rank(*sc, m), Some(r));
            let c = s.at_rank(r).unwrap();
            assert_eq!(s.member(c), &m[..]);
        }
        // Delete every third and re-check ranks.
        for (sc, m) in all.iter().step_by(3) {
            assert!(s.delete(*sc, m));
            assert!(!s.delete(*sc, m));
        }
        let rest: Vec<_> = all.iter().enumerate().filter(|(i, _)| i % 3 != 0).map(|(_, e)| e.clone()).collect();
        assert_eq!(s.len(), rest.len());
        for (r, (sc, m)) in rest.iter().enumerate() {
            assert_eq!(s.rank(*sc, m), Some(r));
            assert_eq!(s.member(s.at_rank(r).unwrap()), &m[..]);
        }
        let back: Vec<_> = s.iter_back_from(s.last()).map(|(_, m)| m.to_vec()).collect();
        assert_eq!(back.len(), rest.len());
        assert_eq!(back[0], rest.last().unwrap().1);
    }

    #[test]
    fn range_search() {
        let mut s = SkipList::new();
        for i in 0..100 {
            s.insert(i as f64, format!("{i:03}").as_bytes());
        }
        let c = s.first_where(|sc, _| sc < 10.5).unwrap();
        assert_eq!(s.score(c), 11.0);
        let c = s.last_where(|sc, _| sc <= 20.0).unwrap();
        assert_eq!(s.score(c), 20.0);
        assert!(s.first_where(|_, _| true).is_none());
        assert!(s.last_where(|_, _| false).is_none());
        assert_eq!(s.rank_of(c), 20);
    }
}
