//! An order-statistic B+ tree: the ordered index of a big sorted set (where Redis keeps a
//! `zskiplist`), elements ordered by (score, member), every inner node counting the elements
//! under each child so that ranks and rank lookups are O(log n). `ZSetValue` pairs it with a
//! member → score map.
//!
//! Why a tree and not Redis's skip list: a skip-list descent over 100k elements follows some
//! 25 links to nodes scattered over the heap, each a dependent cache miss, and a score update
//! (ZADD of an existing member) takes two descents. Here a descent reads one node per level
//! (three inner levels and a leaf at 100k elements), whose keys sit side by side, and the inner
//! levels are small enough to stay in cache.
//!
//! Layout (no `unsafe`): leaves hold up to [`CAP`] elements, scores in one array and members
//! (inline when short) in another, linked both ways for iteration; inner nodes hold up to
//! [`CAP`] children with the element count under each and a lower-bound key for each child but
//! the first. Nodes live in two arenas and are addressed by index (a [`Cursor`] is a leaf and a
//! slot); freed nodes are reused. Every node but the root keeps at least [`MIN`] entries: a
//! delete that leaves fewer merges the node with a neighbour or evens the two out, so the depth
//! stays O(log n). Node reshaping (split, merge, even out) lives in `ztree/shape.rs`, read-only
//! queries in `ztree/query.rs`.
//!
//! The invariant of an inner node's keys: everything under child `i - 1` < `key[i]` <=
//! everything under child `i` (`key[0]` is unused). A key stays valid when the element it was
//! copied from leaves, so only reshaping writes keys.

use member::Member;
use std::cmp::Ordering;

mod member;
mod query;
mod shape;

#[cfg(test)]
mod perf;
#[cfg(test)]
mod tests;

/// Most entries of a node (elements of a leaf, children of an inner node).
const CAP: usize = 32;
/// Fewest entries of a node other than the root.
const MIN: usize = CAP / 4;
const NIL: u32 = u32::MAX;
/// Inner levels a tree can have: with at least `MIN` children per node, 2^32 elements need
/// fewer than 12.
const MAX_DEPTH: usize = 24;

/// (score, member) ordering used everywhere in sorted sets.
pub fn cmp_entry(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    s1.partial_cmp(&s2).unwrap_or(Ordering::Equal).then_with(|| m1.cmp(m2))
}

/// Is (s1, m1) ordered before (s2, m2)? Reads the members only on a score tie.
#[inline]
fn less(s1: f64, m1: &Member, s2: f64, m2: &[u8]) -> bool {
    match s1.partial_cmp(&s2) {
        Some(Ordering::Less) => true,
        Some(Ordering::Greater) => false,
        _ => m1.bytes() < m2,
    }
}

/// Elements sorted by score, then member bytes: the leaf level.
#[derive(Clone, Debug)]
struct Leaf {
    len: u32,
    prev: u32,
    next: u32,
    scores: [f64; CAP],
    members: [Member; CAP],
}

/// Children and their element counts and lower-bound keys.
#[derive(Clone, Debug)]
struct Inner {
    len: u32,
    children: [u32; CAP],
    counts: [u32; CAP],
    scores: [f64; CAP],
    members: [Member; CAP],
}

impl Leaf {
    fn new() -> Box<Leaf> {
        Box::new(Leaf { len: 0, prev: NIL, next: NIL, scores: [0.0; CAP], members: [Member::EMPTY; CAP] })
    }

    /// How many elements are ordered before (score, member): where it is or would go. The
    /// scores are counted without a branch; members are compared only among equal scores.
    #[inline]
    fn position(&self, score: f64, member: &[u8]) -> usize {
        let n = self.len as usize;
        let mut pos = self.scores[..n].iter().filter(|&&s| s < score).count();
        while pos < n && self.scores[pos] == score && self.members[pos].bytes() < member {
            pos += 1;
        }
        pos
    }

    #[inline]
    fn is_at(&self, pos: usize, score: f64, member: &[u8]) -> bool {
        pos < self.len as usize && self.scores[pos] == score && self.members[pos].bytes() == member
    }

    fn insert_at(&mut self, pos: usize, score: f64, member: Member) {
        let n = self.len as usize;
        self.scores.copy_within(pos..n, pos + 1);
        self.members[pos..=n].rotate_right(1);
        self.scores[pos] = score;
        self.members[pos] = member;
        self.len += 1;
    }

    fn remove_at(&mut self, pos: usize) -> Member {
        let n = self.len as usize;
        let m = std::mem::replace(&mut self.members[pos], Member::EMPTY);
        self.scores.copy_within(pos + 1..n, pos);
        self.members[pos..n].rotate_left(1);
        self.len -= 1;
        m
    }
}

impl Inner {
    fn new() -> Box<Inner> {
        Box::new(Inner {
            len: 0,
            children: [NIL; CAP],
            counts: [0; CAP],
            scores: [0.0; CAP],
            members: [Member::EMPTY; CAP],
        })
    }

    /// The child whose range holds (score, member): how many keys after the first are <= it.
    #[inline]
    fn child_for(&self, score: f64, member: &[u8]) -> usize {
        let n = self.len as usize;
        let mut c = self.scores[1..n].iter().filter(|&&s| s < score).count();
        while c + 1 < n && self.scores[c + 1] == score && self.members[c + 1].bytes() <= member {
            c += 1;
        }
        c
    }

    fn total(&self) -> u32 {
        self.counts[..self.len as usize].iter().sum()
    }

    /// Put `child` (holding `count` elements, everything in it >= the key) at `at`.
    fn insert_child(&mut self, at: usize, child: u32, count: u32, key: (f64, Member)) {
        let n = self.len as usize;
        self.children.copy_within(at..n, at + 1);
        self.counts.copy_within(at..n, at + 1);
        self.scores.copy_within(at..n, at + 1);
        self.members[at..=n].rotate_right(1);
        self.children[at] = child;
        self.counts[at] = count;
        self.scores[at] = key.0;
        self.members[at] = key.1;
        self.len += 1;
    }

    /// Drop child `at` (its key goes with it).
    fn remove_child(&mut self, at: usize) {
        let n = self.len as usize;
        self.members[at] = Member::EMPTY;
        self.children.copy_within(at + 1..n, at);
        self.counts.copy_within(at + 1..n, at);
        self.scores.copy_within(at + 1..n, at);
        self.members[at..n].rotate_left(1);
        self.len -= 1;
    }

    /// Key `i`, leaving an empty member in its place.
    fn take_key(&mut self, i: usize) -> (f64, Member) {
        (self.scores[i], std::mem::replace(&mut self.members[i], Member::EMPTY))
    }
}

/// The inner nodes a descent went through, and the child it took in each.
struct Path {
    steps: [(u32, u32); MAX_DEPTH],
    len: usize,
}

impl Path {
    fn new() -> Self {
        Path { steps: [(NIL, 0); MAX_DEPTH], len: 0 }
    }

    fn push(&mut self, node: u32, child: usize) {
        self.steps[self.len] = (node, child as u32);
        self.len += 1;
    }

    fn get(&self, level: usize) -> (usize, usize) {
        let (n, c) = self.steps[level];
        (n as usize, c as usize)
    }
}

/// Elements sorted by score, then member bytes.
#[derive(Clone, Debug)]
// Boxed nodes: a node is an allocation of its own (~1 KB), so growing an arena moves
// pointers, not nodes, and never holds two copies of the whole tree.
#[allow(clippy::vec_box)]
pub struct ZTree {
    leaves: Vec<Box<Leaf>>,
    inners: Vec<Box<Inner>>,
    free_leaves: Vec<u32>,
    free_inners: Vec<u32>,
    root: u32,
    /// Inner levels above the leaves (0: the root is a leaf).
    depth: usize,
    len: usize,
    /// First and last leaf.
    head: u32,
    tail: u32,
}

impl Default for ZTree {
    fn default() -> Self {
        Self::new()
    }
}

impl ZTree {
    pub fn new() -> Self {
        ZTree {
            leaves: vec![Leaf::new()],
            inners: Vec::new(),
            free_leaves: Vec::new(),
            free_inners: Vec::new(),
            root: 0,
            depth: 0,
            len: 0,
            head: 0,
            tail: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The leaf where (score, member) is or belongs, recording the way down in `path`.
    #[inline]
    fn descend(&self, score: f64, member: &[u8], path: &mut Path) -> usize {
        let mut x = self.root as usize;
        for _ in 0..self.depth {
            let node = &self.inners[x];
            let c = node.child_for(score, member);
            path.push(x as u32, c);
            x = node.children[c] as usize;
        }
        x
    }

    /// Insert an element that is not present.
    pub fn insert(&mut self, score: f64, member: &[u8]) {
        self.insert_member(score, Member::new(member));
    }

    fn insert_member(&mut self, score: f64, member: Member) {
        let mut path = Path::new();
        let leaf = self.descend(score, member.bytes(), &mut path);
        for &(x, c) in &path.steps[..path.len] {
            self.inners[x as usize].counts[c as usize] += 1;
        }
        self.len += 1;
        let pos = self.leaves[leaf].position(score, member.bytes());
        if (self.leaves[leaf].len as usize) < CAP {
            self.leaves[leaf].insert_at(pos, score, member);
            return;
        }
        // Full: split it in half. Adding past either end of the whole (a sorted load in either
        // direction, or scores that only grow) leaves the new end leaf the fewest elements it
        // may have and the other nearly full, not two half-empty leaves.
        let l = &self.leaves[leaf];
        let at = match pos {
            CAP if l.next == NIL => CAP - MIN + 1,
            0 if l.prev == NIL => MIN - 1,
            _ => CAP / 2,
        };
        let right = self.split_leaf(leaf, at);
        if pos <= at {
            self.leaves[leaf].insert_at(pos, score, member);
        } else {
            self.leaves[right].insert_at(pos - at, score, member);
        }
        let r = &self.leaves[right];
        let key = (r.scores[0], r.members[0].clone());
        let counts = (self.leaves[leaf].len, r.len);
        self.add_child(&path, path.len, counts, right as u32, key);
    }

    /// The node taken at `path`'s step `level - 1` (the root when 0) was split, keeping `counts.0`
    /// elements, and `right` (holding `counts.1`, everything >= `key`) goes right after it.
    fn add_child(
        &mut self,
        path: &Path,
        mut level: usize,
        mut counts: (u32, u32),
        mut right: u32,
        mut key: (f64, Member),
    ) {
        loop {
            if level == 0 {
                let r = self.alloc_inner();
                let node = &mut self.inners[r];
                node.len = 2;
                node.children[0] = self.root;
                node.children[1] = right;
                node.counts[0] = counts.0;
                node.counts[1] = counts.1;
                node.scores[1] = key.0;
                node.members[1] = key.1;
                self.root = r as u32;
                self.depth += 1;
                return;
            }
            level -= 1;
            let (p, c) = path.get(level);
            self.inners[p].counts[c] = counts.0;
            if (self.inners[p].len as usize) < CAP {
                self.inners[p].insert_child(c + 1, right, counts.1, key);
                return;
            }
            let (np, up) = self.split_inner(p);
            if c < CAP / 2 {
                self.inners[p].insert_child(c + 1, right, counts.1, key);
            } else {
                self.inners[np].insert_child(c + 1 - CAP / 2, right, counts.1, key);
            }
            counts = (self.inners[p].total(), self.inners[np].total());
            right = np as u32;
            key = up;
        }
    }

    /// Remove an element; false if it was not there.
    pub fn delete(&mut self, score: f64, member: &[u8]) -> bool {
        let mut path = Path::new();
        let leaf = self.descend(score, member, &mut path);
        let pos = self.leaves[leaf].position(score, member);
        if !self.leaves[leaf].is_at(pos, score, member) {
            return false;
        }
        self.remove(&path, leaf, pos);
        true
    }

    /// Take the element at `pos` of `leaf` (reached by `path`) out; returns its member.
    fn remove(&mut self, path: &Path, leaf: usize, pos: usize) -> Member {
        for &(x, c) in &path.steps[..path.len] {
            self.inners[x as usize].counts[c as usize] -= 1;
        }
        self.len -= 1;
        let m = self.leaves[leaf].remove_at(pos);
        self.rebalance(path);
        m
    }

    /// Move an element from score `cur` to score `new` (Redis's `zslUpdateScore`): in place when
    /// it stays between its neighbours in its leaf, else taken out and put in again (its member
    /// moves, unallocated). False (and nothing changed) if (cur, member) was not there.
    pub fn update_score(&mut self, cur: f64, member: &[u8], new: f64) -> bool {
        let mut path = Path::new();
        let leaf = self.descend(cur, member, &mut path);
        let l = &mut self.leaves[leaf];
        let pos = l.position(cur, member);
        if !l.is_at(pos, cur, member) {
            return false;
        }
        let n = l.len as usize;
        // Between two neighbours of the same leaf, it also stays above the leaf's key.
        if pos > 0
            && pos + 1 < n
            && less(l.scores[pos - 1], &l.members[pos - 1], new, member)
            && !less(l.scores[pos + 1], &l.members[pos + 1], new, member)
        {
            l.scores[pos] = new;
            return true;
        }
        let m = self.remove(&path, leaf, pos);
        self.insert_member(new, m);
        true
    }

    /// Heap bytes used (estimate for memory accounting).
    pub fn heap_size(&self) -> usize {
        let node = |size: usize| size + 16;
        let members: usize = self
            .leaves
            .iter()
            .flat_map(|l| l.members[..l.len as usize].iter())
            .chain(self.inners.iter().flat_map(|n| n.members[..n.len as usize].iter()))
            .map(Member::heap_len)
            .sum();
        self.leaves.len() * node(std::mem::size_of::<Leaf>())
            + self.inners.len() * node(std::mem::size_of::<Inner>())
            + (self.leaves.capacity() + self.inners.capacity()) * 8
            + (self.free_leaves.capacity() + self.free_inners.capacity()) * 4
            + members
    }
}

/// A position in the tree (valid until the next mutation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    leaf: u32,
    slot: u32,
}
