//! [`QuickList`]: a list as Redis 7.0 keeps it, a sequence of nodes of packed elements (up to
//! 2 KiB per node: a push at the head moves one node's bytes, so smaller nodes than Redis's
//! 8 KiB keep LPUSH cheap; the node table costs under 2 bytes per element), instead of one
//! allocation per element. Each element is `[length][bytes][length, reversed]` (LEB128 lengths, the second
//! one written backwards), so a node is walked from either end: push and pop at both ends
//! touch one node, an index walks node counts first. Elements come out as `&[u8]` views.

use super::varint;
use std::collections::VecDeque;

/// Bytes per node before a new node is started (an element larger than this gets a node of
/// its own).
const NODE_BYTES: usize = 2048;
/// Node buffers grow by a quarter, at least this many bytes (few reallocations, little slack).
const GROW: usize = 128;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Node {
    buf: Vec<u8>,
    count: usize,
}

fn varint_len(n: usize) -> usize {
    varint::len(n as u64)
}

/// The encoded element: forward length, bytes, backward length.
fn encode(item: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(item.len() + 2 * varint_len(item.len()));
    varint::put(&mut out, item.len() as u64);
    out.extend_from_slice(item);
    let at = out.len();
    varint::put(&mut out, item.len() as u64);
    out[at..].reverse();
    out
}

fn encoded_len(item_len: usize) -> usize {
    item_len + 2 * varint_len(item_len)
}

impl Node {
    /// The element starting at `off`: (bytes range, offset of the next element).
    fn at(&self, off: usize) -> (std::ops::Range<usize>, usize) {
        let (n, k) = varint::get(&self.buf, off);
        let (n, p) = (n as usize, off + k);
        (p..p + n, p + n + k)
    }

    /// The element ending at `end`: (bytes range, offset where it starts).
    fn before(&self, end: usize) -> (std::ops::Range<usize>, usize) {
        let (mut n, mut shift, mut p) = (0usize, 0, end);
        loop {
            p -= 1;
            let b = self.buf[p];
            n |= ((b & 0x7f) as usize) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        let start = p - n;
        (start..p, start - varint_len(n))
    }

    /// Byte offset of element `i` (walking from the nearer end).
    fn offset_of(&self, i: usize) -> usize {
        if i <= self.count / 2 {
            let mut off = 0;
            for _ in 0..i {
                off = self.at(off).1;
            }
            off
        } else {
            let mut end = self.buf.len();
            for _ in i..self.count {
                end = self.before(end).1;
            }
            end
        }
    }

    /// Replace `range` of the buffer with `with`, keeping slack small.
    fn splice(&mut self, range: std::ops::Range<usize>, with: &[u8]) {
        let new_len = self.buf.len() - range.len() + with.len();
        if new_len > self.buf.capacity() {
            let target = new_len.max(self.buf.len() + (self.buf.len() / 4).max(GROW));
            self.buf.reserve_exact(target - self.buf.len());
        }
        // Move the tail once (memmove), then copy the new bytes in (Vec::splice inserts
        // element by element).
        let old_len = self.buf.len();
        if with.len() >= range.len() {
            self.buf.resize(new_len, 0);
            self.buf.copy_within(range.end..old_len, range.end + (with.len() - range.len()));
        } else {
            self.buf.copy_within(range.end..old_len, range.start + with.len());
            self.buf.truncate(new_len);
        }
        self.buf[range.start..range.start + with.len()].copy_from_slice(with);
    }

    fn fits(&self, item_len: usize) -> bool {
        self.count == 0 || self.buf.len() + encoded_len(item_len) <= NODE_BYTES
    }
}

/// A list of byte strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuickList {
    nodes: VecDeque<Node>,
    len: usize,
}

impl QuickList {
    pub fn new() -> QuickList {
        QuickList::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push_back(&mut self, item: &[u8]) {
        if !self.nodes.back().is_some_and(|n| n.fits(item.len())) {
            self.nodes.push_back(Node::default());
        }
        let node = self.nodes.back_mut().expect("just ensured");
        let end = node.buf.len();
        node.splice(end..end, &encode(item));
        node.count += 1;
        self.len += 1;
    }

    pub fn push_front(&mut self, item: &[u8]) {
        if !self.nodes.front().is_some_and(|n| n.fits(item.len())) {
            self.nodes.push_front(Node::default());
        }
        let node = self.nodes.front_mut().expect("just ensured");
        node.splice(0..0, &encode(item));
        node.count += 1;
        self.len += 1;
    }

    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let node = self.nodes.front_mut()?;
        let (range, next) = node.at(0);
        let item = node.buf[range].to_vec();
        node.buf.drain(..next);
        node.count -= 1;
        if node.count == 0 {
            self.nodes.pop_front();
        }
        self.len -= 1;
        Some(item)
    }

    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let node = self.nodes.back_mut()?;
        let (range, start) = node.before(node.buf.len());
        let item = node.buf[range].to_vec();
        node.buf.truncate(start);
        node.count -= 1;
        if node.count == 0 {
            self.nodes.pop_back();
        }
        self.len -= 1;
        Some(item)
    }

    /// (node, index in the node) of element `i < len`, counting from the nearer end.
    fn locate(&self, i: usize) -> (usize, usize) {
        if i < self.len / 2 {
            let mut left = i;
            for (k, n) in self.nodes.iter().enumerate() {
                if left < n.count {
                    return (k, left);
                }
                left -= n.count;
            }
        } else {
            let mut right = self.len - i;
            for (k, n) in self.nodes.iter().enumerate().rev() {
                if right <= n.count {
                    return (k, n.count - right);
                }
                right -= n.count;
            }
        }
        unreachable!("index {i} checked against the length {}", self.len)
    }

    pub fn get(&self, i: usize) -> Option<&[u8]> {
        if i >= self.len {
            return None;
        }
        let (k, j) = self.locate(i);
        let n = &self.nodes[k];
        let (range, _) = n.at(n.offset_of(j));
        Some(&n.buf[range])
    }

    /// Replace element `i` (< len).
    pub fn set(&mut self, i: usize, item: &[u8]) {
        let (k, j) = self.locate(i);
        let n = &mut self.nodes[k];
        let off = n.offset_of(j);
        let (_, next) = n.at(off);
        n.splice(off..next, &encode(item));
        self.split_if_big(k);
    }

    /// Insert `item` so that it becomes element `i` (<= len).
    pub fn insert(&mut self, i: usize, item: &[u8]) {
        if i == 0 {
            return self.push_front(item);
        }
        if i == self.len {
            return self.push_back(item);
        }
        let (k, j) = self.locate(i);
        let n = &mut self.nodes[k];
        let off = n.offset_of(j);
        n.splice(off..off, &encode(item));
        n.count += 1;
        self.len += 1;
        self.split_if_big(k);
    }

    /// Split node `k` in two when it grew past the node size (and holds more than one).
    fn split_if_big(&mut self, k: usize) {
        let n = &mut self.nodes[k];
        if n.buf.len() <= NODE_BYTES || n.count < 2 {
            return;
        }
        let half = n.count / 2;
        let off = n.offset_of(half);
        let tail = Node { buf: n.buf[off..].to_vec(), count: n.count - half };
        n.buf.truncate(off);
        n.buf.shrink_to(off.div_ceil(GROW) * GROW);
        n.count = half;
        self.nodes.insert(k + 1, tail);
    }

    /// Keep the first `n` elements.
    pub fn truncate(&mut self, n: usize) {
        while self.len > n {
            let excess = self.len - n;
            let last = self.nodes.back_mut().expect("len > 0");
            if last.count <= excess {
                self.len -= last.count;
                self.nodes.pop_back();
            } else {
                let off = last.offset_of(last.count - excess);
                last.buf.truncate(off);
                last.count -= excess;
                self.len -= excess;
            }
        }
    }

    /// Drop the first `n` elements.
    pub fn drop_front(&mut self, n: usize) {
        let mut left = n.min(self.len);
        while left > 0 {
            let first = self.nodes.front_mut().expect("len > 0");
            if first.count <= left {
                left -= first.count;
                self.len -= first.count;
                self.nodes.pop_front();
            } else {
                let off = first.offset_of(left);
                first.buf.drain(..off);
                first.count -= left;
                self.len -= left;
                left = 0;
            }
        }
    }

    pub fn clear(&mut self) {
        self.nodes.clear();
        self.len = 0;
    }

    /// Elements front to back (and back to front with `.rev()`).
    pub fn iter(&self) -> Iter<'_> {
        Iter { list: self, front: (0, 0), back: (self.nodes.len(), 0), left: self.len }
    }

    /// Elements `start..=end` (both < len).
    pub fn range(&self, start: usize, end: usize) -> impl Iterator<Item = &[u8]> {
        let (k, j) = if start < self.len { self.locate(start) } else { (self.nodes.len(), 0) };
        let off = self.nodes.get(k).map_or(0, |n| n.offset_of(j));
        Iter { list: self, front: (k, off), back: (self.nodes.len(), 0), left: (end + 1).saturating_sub(start) }
    }

    /// Number of nodes (DEBUG OBJECT `ql_nodes`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Bytes of packed elements over all nodes, slack excluded (DEBUG OBJECT
    /// `ql_uncompressed_size`: nodes are never compressed).
    pub fn packed_bytes(&self) -> usize {
        self.nodes.iter().map(|n| n.buf.len()).sum()
    }

    /// Heap bytes used (node buffers and the node table).
    pub fn heap_size(&self) -> usize {
        self.nodes.iter().map(|n| n.buf.capacity()).sum::<usize>() + self.nodes.capacity() * size_of::<Node>()
    }
}

impl<'a> FromIterator<&'a [u8]> for QuickList {
    fn from_iter<T: IntoIterator<Item = &'a [u8]>>(items: T) -> Self {
        let mut l = QuickList::new();
        for item in items {
            l.push_back(item);
        }
        l
    }
}

/// A double-ended walk over a [`QuickList`]; `left` elements remain between the cursors.
pub struct Iter<'a> {
    list: &'a QuickList,
    /// (node, byte offset) of the next element from the front.
    front: (usize, usize),
    /// (node, byte offset) just past the next element from the back; node == nodes.len()
    /// means "the end of the last node".
    back: (usize, usize),
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        let nodes = &self.list.nodes;
        while self.front.1 >= nodes[self.front.0].buf.len() {
            self.front = (self.front.0 + 1, 0);
        }
        let n = &nodes[self.front.0];
        let (range, next) = n.at(self.front.1);
        self.front.1 = next;
        self.left -= 1;
        Some(&n.buf[range])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<'a> DoubleEndedIterator for Iter<'a> {
    fn next_back(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        let nodes = &self.list.nodes;
        if self.back.0 == nodes.len() {
            self.back = (nodes.len() - 1, nodes[nodes.len() - 1].buf.len());
        }
        while self.back.1 == 0 {
            let k = self.back.0 - 1;
            self.back = (k, nodes[k].buf.len());
        }
        let n = &nodes[self.back.0];
        let (range, start) = n.before(self.back.1);
        self.back.1 = start;
        self.left -= 1;
        Some(&n.buf[range])
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random operations on a QuickList and a VecDeque model must agree.
    #[test]
    fn behaves_like_a_deque() {
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let mut q = QuickList::new();
        let mut m: VecDeque<Vec<u8>> = VecDeque::new();
        for step in 0..40_000u64 {
            let size = match next(10) {
                0 => 300 + next(9000) as usize,
                1 => 0,
                _ => next(40) as usize,
            };
            let item: Vec<u8> = (0..size).map(|i| (i as u64 + step) as u8).collect();
            match next(12) {
                0..=2 => {
                    q.push_back(&item);
                    m.push_back(item);
                }
                3..=4 => {
                    q.push_front(&item);
                    m.push_front(item);
                }
                5 => assert_eq!(q.pop_front(), m.pop_front()),
                6 => assert_eq!(q.pop_back(), m.pop_back()),
                7 if !m.is_empty() => {
                    let i = next(m.len() as u64) as usize;
                    q.set(i, &item);
                    m[i] = item;
                }
                8 => {
                    let i = next(m.len() as u64 + 1) as usize;
                    q.insert(i, &item);
                    m.insert(i, item);
                }
                9 if step % 50 == 0 => {
                    let n = next(m.len() as u64 + 1) as usize;
                    q.truncate(m.len() - n / 4);
                    m.truncate(m.len() - n / 4);
                    q.drop_front(n / 4);
                    m.drain(..(n / 4).min(m.len()));
                }
                _ => {}
            }
            assert_eq!(q.len(), m.len());
            if step % 997 == 0 || m.len() < 5 {
                assert!(q.iter().eq(m.iter().map(|v| &v[..])), "step {step}");
                assert!(q.iter().rev().eq(m.iter().rev().map(|v| &v[..])), "step {step} backwards");
                if !m.is_empty() {
                    let i = next(m.len() as u64) as usize;
                    assert_eq!(q.get(i), Some(&m[i][..]));
                    let (a, b) = (i / 2, i);
                    assert!(q.range(a, b).eq(m.range(a..=b).map(|v| &v[..])), "range {a}..={b}");
                }
            }
        }
        assert!(q.get(q.len()).is_none());
        let mut it = q.iter();
        let (f, b) = (it.next(), it.next_back());
        assert_eq!((f, b), (m.front().map(|v| &v[..]), m.back().map(|v| &v[..])));
    }

    #[test]
    fn small_elements_pack_into_few_nodes() {
        let q: QuickList = (0..10_000).map(|_| &b"element-12345"[..]).collect();
        assert_eq!(q.len(), 10_000);
        assert!(q.nodes.len() < 100, "{} nodes for 150 KB", q.nodes.len());
        assert!(q.heap_size() < 10_000 * 17, "about 15 bytes per element: {}", q.heap_size());
    }
}
