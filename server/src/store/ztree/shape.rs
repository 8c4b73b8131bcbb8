//! Reshaping the tree: node allocation, splits (on insert), and after a delete merging a node
//! left with fewer than `MIN` entries into a neighbour, or evening the two out.
//! Every slot of a node at or past its length holds an empty member, and so does an inner
//! node's unused key 0: entries move with `mem::replace`, never by copying a member.

use super::member::Member;
use super::{Inner, Leaf, Path, ZTree, CAP, MIN, NIL};

/// Two distinct nodes of one arena, mutably.
fn pair<T>(v: &mut [Box<T>], a: usize, b: usize) -> (&mut T, &mut T) {
    debug_assert_ne!(a, b);
    if a < b {
        let (l, r) = v.split_at_mut(b);
        (&mut l[a], &mut r[0])
    } else {
        let (l, r) = v.split_at_mut(a);
        (&mut r[0], &mut l[b])
    }
}

fn take(m: &mut Member) -> Member {
    std::mem::replace(m, Member::EMPTY)
}

/// Move `y`'s first `k` children to the end of `x`, the first of them under `key` (the one
/// that separated the two), the others with their own keys.
fn append_front(x: &mut Inner, y: &mut Inner, k: usize, key: (f64, Member)) {
    let na = x.len as usize;
    x.scores[na] = key.0;
    x.members[na] = key.1;
    for i in 0..k {
        x.children[na + i] = y.children[i];
        x.counts[na + i] = y.counts[i];
        if i > 0 {
            x.scores[na + i] = y.scores[i];
            x.members[na + i] = take(&mut y.members[i]);
        }
    }
    x.len += k as u32;
}

impl ZTree {
    pub(super) fn alloc_leaf(&mut self) -> usize {
        if let Some(x) = self.free_leaves.pop() {
            return x as usize;
        }
        self.leaves.push(Leaf::new());
        self.leaves.len() - 1
    }

    pub(super) fn alloc_inner(&mut self) -> usize {
        if let Some(x) = self.free_inners.pop() {
            return x as usize;
        }
        self.inners.push(Inner::new());
        self.inners.len() - 1
    }

    /// Move the elements of `leaf` from `at` on into a new leaf linked in after it; returns it.
    pub(super) fn split_leaf(&mut self, leaf: usize, at: usize) -> usize {
        let r = self.alloc_leaf();
        let (x, y) = pair(&mut self.leaves, leaf, r);
        let n = x.len as usize;
        for i in at..n {
            y.scores[i - at] = x.scores[i];
            y.members[i - at] = take(&mut x.members[i]);
        }
        y.len = (n - at) as u32;
        x.len = at as u32;
        y.prev = leaf as u32;
        y.next = x.next;
        x.next = r as u32;
        match y.next {
            NIL => self.tail = r as u32,
            next => self.leaves[next as usize].prev = r as u32,
        }
        r
    }

    /// Move the upper half of the full inner node `p` into a new one; returns it and the key
    /// that now separates the two.
    pub(super) fn split_inner(&mut self, p: usize) -> (usize, (f64, Member)) {
        let np = self.alloc_inner();
        let (x, y) = pair(&mut self.inners, p, np);
        let h = CAP / 2;
        for i in h..CAP {
            y.children[i - h] = x.children[i];
            y.counts[i - h] = x.counts[i];
            y.scores[i - h] = x.scores[i];
            y.members[i - h] = take(&mut x.members[i]);
        }
        x.len = h as u32;
        y.len = (CAP - h) as u32;
        let up = y.take_key(0);
        (np, up)
    }

    /// After an element left the leaf at the end of `path`: merge or even out every node on the
    /// way up that has fewer than `MIN` entries, and drop root levels of a single child.
    pub(super) fn rebalance(&mut self, path: &Path) {
        let mut level = path.len;
        while level > 0 {
            let (p, c) = path.get(level - 1);
            let node = self.inners[p].children[c] as usize;
            let at_leaves = level == path.len;
            let size = if at_leaves { self.leaves[node].len } else { self.inners[node].len };
            if size as usize >= MIN {
                return;
            }
            // The node and a neighbour: the root has two children or more, other nodes MIN.
            let a = c.saturating_sub(1);
            let merged = if at_leaves { self.fix_leaves(p, a) } else { self.fix_inners(p, a) };
            if !merged {
                return;
            }
            level -= 1;
        }
        while self.depth > 0 && self.inners[self.root as usize].len == 1 {
            let old = self.root as usize;
            self.root = self.inners[old].children[0];
            self.depth -= 1;
            self.inners[old].len = 0;
            self.free_inners.push(old as u32);
        }
    }

    /// Leaves `a` and `a + 1` of inner node `p`: merged into `a` when they fit in one (true),
    /// else evened out.
    fn fix_leaves(&mut self, p: usize, a: usize) -> bool {
        let (ia, ib) = (self.inners[p].children[a] as usize, self.inners[p].children[a + 1] as usize);
        let (x, y) = pair(&mut self.leaves, ia, ib);
        let (na, nb) = (x.len as usize, y.len as usize);
        if na + nb <= CAP {
            for i in 0..nb {
                x.scores[na + i] = y.scores[i];
                x.members[na + i] = take(&mut y.members[i]);
            }
            x.len = (na + nb) as u32;
            x.next = y.next;
            (y.len, y.prev, y.next) = (0, NIL, NIL);
            match x.next {
                NIL => self.tail = ia as u32,
                next => self.leaves[next as usize].prev = ia as u32,
            }
            self.free_leaves.push(ib as u32);
            let node = &mut self.inners[p];
            node.counts[a] = (na + nb) as u32;
            node.remove_child(a + 1);
            return true;
        }
        let want = (na + nb) / 2;
        if na < want {
            let k = want - na;
            for i in 0..k {
                x.scores[na + i] = y.scores[i];
                x.members[na + i] = take(&mut y.members[i]);
            }
            y.scores.copy_within(k..nb, 0);
            y.members[..nb].rotate_left(k);
        } else {
            let k = na - want;
            y.scores.copy_within(0..nb, k);
            y.members[..nb + k].rotate_right(k);
            for i in 0..k {
                y.scores[i] = x.scores[want + i];
                y.members[i] = take(&mut x.members[want + i]);
            }
        }
        x.len = want as u32;
        y.len = (na + nb - want) as u32;
        let key = (y.scores[0], y.members[0].clone());
        let node = &mut self.inners[p];
        node.counts[a] = want as u32;
        node.counts[a + 1] = (na + nb - want) as u32;
        node.scores[a + 1] = key.0;
        node.members[a + 1] = key.1;
        false
    }

    /// Inner nodes `a` and `a + 1` of `p`: merged into `a` (true) or evened out, their
    /// separating key coming down from `p` and a new one going up.
    fn fix_inners(&mut self, p: usize, a: usize) -> bool {
        let (ia, ib) = (self.inners[p].children[a] as usize, self.inners[p].children[a + 1] as usize);
        let sep = self.inners[p].take_key(a + 1);
        let (x, y) = pair(&mut self.inners, ia, ib);
        let (na, nb) = (x.len as usize, y.len as usize);
        if na + nb <= CAP {
            append_front(x, y, nb, sep);
            y.len = 0;
            let total = x.total();
            self.free_inners.push(ib as u32);
            let node = &mut self.inners[p];
            node.counts[a] = total;
            node.remove_child(a + 1);
            return true;
        }
        let want = (na + nb) / 2;
        let up = if na < want {
            // y's first k children go to x's end; y's child k's key goes up.
            let k = want - na;
            append_front(x, y, k, sep);
            let up = y.take_key(k);
            y.children.copy_within(k..nb, 0);
            y.counts.copy_within(k..nb, 0);
            y.scores.copy_within(k..nb, 0);
            y.members[..nb].rotate_left(k);
            up
        } else {
            // x's last k children go to y's front; the first of them's key goes up.
            let k = na - want;
            y.children.copy_within(0..nb, k);
            y.counts.copy_within(0..nb, k);
            y.scores.copy_within(0..nb, k);
            y.members[..nb + k].rotate_right(k);
            y.scores[k] = sep.0;
            y.members[k] = sep.1;
            for i in 0..k {
                y.children[i] = x.children[want + i];
                y.counts[i] = x.counts[want + i];
                if i > 0 {
                    y.scores[i] = x.scores[want + i];
                    y.members[i] = take(&mut x.members[want + i]);
                }
            }
            x.take_key(want)
        };
        x.len = want as u32;
        y.len = (na + nb - want) as u32;
        let counts = (x.total(), y.total());
        let node = &mut self.inners[p];
        node.counts[a] = counts.0;
        node.counts[a + 1] = counts.1;
        node.scores[a + 1] = up.0;
        node.members[a + 1] = up.1;
        false
    }
}
