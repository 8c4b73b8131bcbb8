//! Collection values with Redis 7.0's two encodings each, because replies show them: small
//! hashes (`Value::Hash`, see `value::HashRef`) and sorted sets are "listpack" (insertion /
//! score order, linear scans, compact) and become "hashtable" / "skiplist" past
//! `*-max-listpack-entries` (hashes: as configured, see `listpack::Limits`; sorted sets: 128)
//! or a member longer than `*-max-listpack-value` (64); small all-integer sets are "intset"
//! (sorted) until 512 members or a non-integer. Conversion is one-way, as in Redis. Lists are
//! always "quicklist" (7.0).

use super::key::Key;
use super::zpack::ZPack;
use super::ztree::ZTree;
use hashbrown::{HashMap, HashSet};
use slotbox_protocol::float::parse_i64;

/// A sorted set's listpack limits (Redis's default `zset-max-listpack-entries` / `-value`).
pub const ZSET_LISTPACK_MAX_ENTRIES: usize = 128;
pub const ZSET_LISTPACK_MAX_VALUE: usize = 64;
pub const INTSET_MAX_ENTRIES: usize = 512;

pub type Bytes = super::thin::ThinBytes;

/// A set value.
#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    /// Sorted integers, as Redis's intset.
    Ints(Vec<i64>),
    /// Members of up to 22 bytes inside the table's buckets (`store::key::Key`): a lookup
    /// compares them without following a pointer, and adding one allocates nothing.
    Big(HashSet<Key>),
}

impl Default for SetValue {
    fn default() -> Self {
        SetValue::Ints(Vec::new())
    }
}

impl SetValue {
    /// An empty set suited to its first member (Redis picks intset only for an integer).
    pub fn for_member(member: &[u8]) -> SetValue {
        if parse_i64(member).is_some() {
            SetValue::Ints(Vec::new())
        } else {
            SetValue::Big(HashSet::new())
        }
    }

    pub fn len(&self) -> usize {
        match self {
            SetValue::Ints(v) => v.len(),
            SetValue::Big(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            SetValue::Ints(_) => "intset",
            SetValue::Big(_) => "hashtable",
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            SetValue::Ints(v) => parse_i64(member).is_some_and(|i| v.binary_search(&i).is_ok()),
            SetValue::Big(s) => s.contains(member),
        }
    }

    /// Add a member; true if it is new.
    pub fn insert(&mut self, member: &[u8]) -> bool {
        if let SetValue::Ints(v) = self {
            if let Some(i) = parse_i64(member) {
                match v.binary_search(&i) {
                    Ok(_) => return false,
                    Err(pos) if v.len() < INTSET_MAX_ENTRIES => {
                        v.insert(pos, i);
                        return true;
                    }
                    Err(_) => {}
                }
            }
            self.convert();
        }
        match self {
            SetValue::Big(s) => s.insert(member.into()),
            SetValue::Ints(_) => unreachable!("converted above"),
        }
    }

    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            SetValue::Ints(v) => match parse_i64(member).map(|i| v.binary_search(&i)) {
                Some(Ok(pos)) => {
                    v.remove(pos);
                    true
                }
                _ => false,
            },
            SetValue::Big(s) => s.remove(member),
        }
    }

    fn convert(&mut self) {
        if let SetValue::Ints(v) = self {
            let s: HashSet<Key> = v.iter().map(|i| Key::from(itoa::Buffer::new().format(*i).as_bytes())).collect();
            *self = SetValue::Big(s);
        }
    }

    /// Members in the encoding's order (ascending for intsets).
    pub fn members(&self) -> Vec<Vec<u8>> {
        match self {
            SetValue::Ints(v) => v.iter().map(|i| i.to_string().into_bytes()).collect(),
            SetValue::Big(s) => s.iter().map(|m| m.to_vec()).collect(),
        }
    }

    pub fn heap_size(&self) -> usize {
        match self {
            SetValue::Ints(v) => v.len() * 8,
            SetValue::Big(s) => {
                table_bytes(s.capacity(), std::mem::size_of::<Key>()) + s.iter().map(|m| m.heap_len()).sum::<usize>()
            }
        }
    }
}

/// A sorted-set value.
#[derive(Debug, Clone)]
pub enum ZSetValue {
    /// Sorted by (score, member) in one buffer, as Redis's listpack (see `zpack`).
    Small(ZPack),
    /// Boxed: a small sorted set (the common case) carries one pointer for a big one's parts.
    Big(Box<BigZSet>),
}

/// A big sorted set: member → score, and the members ordered by (score, member).
#[derive(Debug, Clone)]
pub struct BigZSet {
    pub dict: HashMap<Key, f64>,
    pub list: ZTree,
}

// A small sorted set's box holds its buffer's pointer and the variant's tag.
const _: () = assert!(std::mem::size_of::<ZSetValue>() <= 16);

impl Default for ZSetValue {
    fn default() -> Self {
        ZSetValue::Small(ZPack::default())
    }
}

impl PartialEq for ZSetValue {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a.0 == b.0 && a.1 == b.1)
    }
}

impl ZSetValue {
    pub fn len(&self) -> usize {
        match self {
            ZSetValue::Small(p) => p.len(),
            ZSetValue::Big(b) => b.dict.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            ZSetValue::Small(_) => "listpack",
            ZSetValue::Big(_) => "skiplist",
        }
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSetValue::Small(p) => p.score(member),
            ZSetValue::Big(b) => b.dict.get(member).copied(),
        }
    }

    /// Insert or update; returns the previous score.
    pub fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        // A member already in the tree moves in place (one lookup, no reallocation).
        if let ZSetValue::Big(b) = self {
            let BigZSet { dict, list } = &mut **b;
            if let Some(cur) = dict.get_mut(member) {
                let old = std::mem::replace(cur, score);
                if old.to_bits() != score.to_bits() {
                    list.update_score(old, member, score);
                }
                return Some(old);
            }
        }
        if let ZSetValue::Small(p) = self {
            if let Some(cur) = p.set_score(member, score) {
                return Some(cur);
            }
            if p.len() < ZSET_LISTPACK_MAX_ENTRIES && member.len() <= ZSET_LISTPACK_MAX_VALUE {
                p.insert(score, member);
                return None;
            }
            self.convert();
        }
        // A new member (one in the tree was moved above).
        if let ZSetValue::Big(b) = self {
            b.dict.insert(member.into(), score);
            b.list.insert(score, member);
        }
        None
    }

    /// Remove a member; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match self {
            ZSetValue::Small(p) => p.remove(member),
            ZSetValue::Big(b) => {
                let s = b.dict.remove(member)?;
                b.list.delete(s, member);
                Some(s)
            }
        }
    }

    /// The skiplist encoding from now on (one-way, as Redis's `zsetConvert`: SORT converts a
    /// sorted set it reads).
    pub fn convert_to_skiplist(&mut self) {
        self.convert();
    }

    fn convert(&mut self) {
        if let ZSetValue::Small(p) = self {
            let mut dict = HashMap::with_capacity(p.len());
            let mut list = ZTree::new();
            for (s, m) in p.iter() {
                list.insert(s, m);
                dict.insert(m.into(), s);
            }
            *self = ZSetValue::Big(Box::new(BigZSet { dict, list }));
        }
    }

    /// 0-based rank in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match self {
            ZSetValue::Small(p) => p.rank(member),
            ZSetValue::Big(b) => b.list.rank(*b.dict.get(member)?, member),
        }
    }

    /// Elements in ascending order starting at rank `start`.
    pub fn iter_from_rank(&self, start: usize) -> Box<dyn Iterator<Item = (f64, &[u8])> + '_> {
        match self {
            ZSetValue::Small(p) => Box::new(p.iter_from_rank(start)),
            ZSetValue::Big(b) => Box::new(b.list.iter_from(b.list.at_rank(start))),
        }
    }

    /// Elements in descending order starting at ascending rank `start` going down.
    pub fn iter_back_from_rank(&self, start: usize) -> Box<dyn Iterator<Item = (f64, &[u8])> + '_> {
        match self {
            ZSetValue::Small(p) => Box::new(p.iter_back_from_rank(start)),
            ZSetValue::Big(b) => Box::new(b.list.iter_back_from(b.list.at_rank(start))),
        }
    }

    /// All elements ascending.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (f64, &[u8])> + '_> {
        self.iter_from_rank(0)
    }

    /// Rank of the first element for which `before` is false (elements partitioned).
    pub fn first_rank_where(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        match self {
            ZSetValue::Small(p) => p.count_where(before),
            ZSetValue::Big(b) => b.list.count_where(before),
        }
    }

    /// [`ZSetValue::first_rank_where`] when the score alone decides: no member is read (each
    /// is a pointer away, a cache miss per probe).
    pub fn first_rank_where_score(&self, before: impl Fn(f64) -> bool) -> usize {
        match self {
            ZSetValue::Small(p) => p.count_where(|s, _| before(s)),
            ZSetValue::Big(b) => b.list.count_where_score(before),
        }
    }

    /// The elements with `min <= score < max`, ascending, handed to `f` until it returns
    /// false. Scores alone find and bound the range; a member is read when it is handed over.
    pub fn visit_score_range(&self, (min, max): (f64, f64), mut f: impl FnMut(f64, &[u8]) -> bool) {
        match self {
            ZSetValue::Small(p) => {
                for (s, m) in p.iter().skip_while(|&(s, _)| s < min) {
                    if s >= max || !f(s, m) {
                        break;
                    }
                }
            }
            ZSetValue::Big(b) => {
                let list = &b.list;
                let mut at = list.first_where_score(|s| s < min);
                while let Some(c) = at {
                    let s = list.score(c);
                    if s >= max || !f(s, list.member(c)) {
                        break;
                    }
                    at = list.next(c);
                }
            }
        }
    }

    pub fn heap_size(&self) -> usize {
        match self {
            ZSetValue::Small(p) => p.heap_size(),
            ZSetValue::Big(b) => std::mem::size_of::<BigZSet>() + b.dict.len() * 40 + b.list.heap_size(),
        }
    }
}

// --- sets family helpers ---
/// One set member as its encoding holds it: an intset integer or a hashtable string.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SetMember<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl SetMember<'_> {
    /// The member's bytes (an integer formatted in decimal).
    pub fn to_bytes(self) -> bytes::Bytes {
        match self {
            SetMember::Int(i) => bytes::Bytes::copy_from_slice(itoa::Buffer::new().format(i).as_bytes()),
            SetMember::Str(s) => bytes::Bytes::copy_from_slice(s),
        }
    }
}

impl SetValue {
    /// Members in the encoding's order (ascending for intsets), without copying.
    pub fn iter(&self) -> Box<dyn Iterator<Item = SetMember<'_>> + '_> {
        match self {
            SetValue::Ints(v) => Box::new(v.iter().map(|&i| SetMember::Int(i))),
            SetValue::Big(s) => Box::new(s.iter().map(|m| SetMember::Str(m))),
        }
    }

    /// The member at position `i` of [`SetValue::iter`]: O(1) for intsets, O(n) otherwise.
    pub fn nth(&self, i: usize) -> Option<SetMember<'_>> {
        match self {
            SetValue::Ints(v) => v.get(i).map(|&x| SetMember::Int(x)),
            SetValue::Big(s) => s.iter().nth(i).map(|m| SetMember::Str(m)),
        }
    }

    /// A uniformly random member (`None` when empty).
    pub fn random_member(&self) -> Option<SetMember<'_>> {
        if self.is_empty() {
            return None;
        }
        self.nth(crate::rand::below(self.len()))
    }

    pub fn contains_member(&self, m: SetMember) -> bool {
        match (self, m) {
            (SetValue::Ints(v), SetMember::Int(i)) => v.binary_search(&i).is_ok(),
            (SetValue::Big(s), SetMember::Int(i)) => s.contains(itoa::Buffer::new().format(i).as_bytes()),
            (_, SetMember::Str(b)) => self.contains(b),
        }
    }

    /// Add a member; true if it is new.
    pub fn insert_member(&mut self, m: SetMember) -> bool {
        match m {
            SetMember::Int(i) => self.insert(itoa::Buffer::new().format(i).as_bytes()),
            SetMember::Str(b) => self.insert(b),
        }
    }

    /// Remove a member; true if it was there.
    pub fn remove_member(&mut self, m: SetMember) -> bool {
        match m {
            SetMember::Int(i) => {
                if let SetValue::Ints(v) = self {
                    let Ok(pos) = v.binary_search(&i) else { return false };
                    v.remove(pos);
                    return true;
                }
                self.remove(itoa::Buffer::new().format(i).as_bytes())
            }
            SetMember::Str(b) => self.remove(b),
        }
    }
}

// --- zsets family helpers ---
impl ZSetValue {
    /// Would `member` be stored in the listpack? Redis converts *before* inserting, so an
    /// element that does not fit goes straight into the tree.
    fn keeps_listpack_with(&self, member: &[u8]) -> bool {
        match self {
            ZSetValue::Small(p) => {
                (p.len() < ZSET_LISTPACK_MAX_ENTRIES && member.len() <= ZSET_LISTPACK_MAX_VALUE)
                    || p.score(member).is_some()
            }
            ZSetValue::Big(_) => false,
        }
    }

    /// Insert or update as Redis stores it: a listpack keeps scores as numbers in text, so a
    /// score of -0 is read back as 0 there (the tree keeps -0). Returns the previous score.
    pub fn put(&mut self, member: &[u8], score: f64) -> Option<f64> {
        let score = if score == 0.0 && self.keeps_listpack_with(member) { 0.0 } else { score };
        self.insert(member, score)
    }

    /// The element at ascending rank `rank`: O(log n) on the tree.
    pub fn at_rank(&self, rank: usize) -> Option<(f64, &[u8])> {
        match self {
            ZSetValue::Small(p) => p.get(rank),
            ZSetValue::Big(b) => b.list.at_rank(rank).map(|c| (b.list.score(c), b.list.member(c))),
        }
    }

    /// Remove the elements of ascending ranks `start..end` (clamped to the length) and
    /// return them in ascending order: O((end - start) log n) on the tree.
    pub fn drain_ranks(&mut self, start: usize, end: usize) -> Vec<(f64, Bytes)> {
        let end = end.min(self.len());
        if start >= end {
            return Vec::new();
        }
        match self {
            ZSetValue::Small(p) => p.drain_ranks(start, end),
            ZSetValue::Big(b) => {
                let BigZSet { dict, list } = &mut **b;
                let items: Vec<(f64, Bytes)> =
                    list.iter_from(list.at_rank(start)).take(end - start).map(|(s, m)| (s, m.into())).collect();
                for (s, m) in &items {
                    dict.remove(&m[..]);
                    list.delete(*s, m);
                }
                items
            }
        }
    }
}

/// Heap bytes of a hashbrown table with room for `capacity` items of `item` bytes: a power of
/// two of buckets, each the item and a control byte, and a group of trailing control bytes.
pub(super) fn table_bytes(capacity: usize, item: usize) -> usize {
    let buckets = match capacity {
        0 => return 0,
        1..=7 => (capacity + 1).next_power_of_two(),
        _ => (capacity * 8 / 7).next_power_of_two(),
    };
    buckets * (item + 1) + 16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_intset() {
        let mut s = SetValue::for_member(b"3");
        s.insert(b"3");
        s.insert(b"1");
        assert_eq!(s.members(), vec![b"1".to_vec(), b"3".to_vec()]);
        assert_eq!(s.encoding(), "intset");
        s.insert(b"a");
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"1") && s.contains(b"a"));
    }

    #[test]
    fn zset_both_encodings_agree() {
        let mut small = ZSetValue::default();
        let mut big = ZSetValue::default();
        big.insert(&[b'x'; 65], 0.0);
        big.remove(&[b'x'; 65]);
        assert_eq!(big.encoding(), "skiplist");
        for i in 0..50 {
            let m = format!("m{}", (i * 17) % 50);
            small.insert(m.as_bytes(), (i % 7) as f64);
            big.insert(m.as_bytes(), (i % 7) as f64);
        }
        assert_eq!(small, big);
        for i in 0..50 {
            let m = format!("m{i}");
            assert_eq!(small.rank(m.as_bytes()), big.rank(m.as_bytes()));
        }
        let a: Vec<_> = small.iter_back_from_rank(10).map(|(s, m)| (s, m.to_vec())).collect();
        let b: Vec<_> = big.iter_back_from_rank(10).map(|(s, m)| (s, m.to_vec())).collect();
        assert_eq!(a, b);
        assert_eq!(a.len(), 11);
        assert_eq!(small.first_rank_where(|s, _| s < 3.0), big.first_rank_where(|s, _| s < 3.0));
        // Every score bound and member bound: the rank from one descent, by score alone, and
        // the elements of each score range, against a scan of the ascending order.
        let all: Vec<(f64, Vec<u8>)> = small.iter().map(|(s, m)| (s, m.to_vec())).collect();
        for z in [&small, &big] {
            for b in 0..9 {
                let b = f64::from(b) - 0.5;
                let want = all.iter().take_while(|(s, _)| *s < b).count();
                assert_eq!(z.first_rank_where_score(|s| s < b), want);
                assert_eq!(z.first_rank_where(|s, _| s < b), want);
                let mut got = Vec::new();
                z.visit_score_range((b, b + 2.0), |s, m| {
                    got.push((s, m.to_vec()));
                    true
                });
                let want: Vec<_> = all.iter().filter(|(s, _)| *s >= b && *s < b + 2.0).cloned().collect();
                assert_eq!(got, want);
            }
            for (i, (s, m)) in all.iter().enumerate() {
                assert_eq!(z.first_rank_where(|t, n| (t, n) < (*s, &m[..])), i);
            }
        }
    }
}
