//! The values a key can hold and their Redis type / encoding names. Strings keep Redis's
//! `int` / `embstr` / `raw` distinction because `OBJECT ENCODING` shows it. A hash's two
//! encodings are two variants, so a small hash is a single allocation (its listpack bytes);
//! [`HashRef`] and [`HashMut`] give the hash commands one view over both.

use super::key::Key;
use super::listpack::{self, Limits, Listpack, Upsert};
use super::strdata::StrData;
use super::types::{Bytes, SetValue, ZSetValue};
use hashbrown::HashMap;
use slotbox_protocol::float::parse_i64;

/// The "hashtable" encoding of a hash.
/// A big hash: fields of up to 22 bytes inside the buckets (`store::key::Key`), values behind
/// thin pointers.
pub type HashTable = HashMap<Key, Bytes>;

/// Longest string Redis stores as `embstr`.
pub const EMBSTR_MAX: usize = 44;

/// A stored value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string that is a canonical integer (`OBJECT ENCODING int`).
    Int(i64),
    /// Any other string; `raw` is true once it was modified in place (APPEND, SETRANGE), which
    /// Redis reports as `raw` whatever its length.
    Str {
        data: StrData,
        raw: bool,
    },
    /// A small hash (`OBJECT ENCODING listpack`): insertion order, one exactly-sized buffer.
    Hash(Listpack),
    /// A hash past `hash-max-listpack-entries` (512) or `-value` (64) bytes (`hashtable`);
    /// conversion is one-way, as in Redis.
    HashTable(Box<HashTable>),
    /// Always "quicklist" in Redis 7.0.
    List(Box<super::quicklist::QuickList>),
    Set(Box<SetValue>),
    ZSet(Box<ZSetValue>),
    /// Always "stream".
    Stream(Box<super::stream::Stream>),
}

impl Value {
    /// A string value encoded as Redis's `tryObjectEncoding` would.
    pub fn string(data: &[u8]) -> Value {
        if data.len() <= 20 {
            if let Some(i) = parse_i64(data) {
                return Value::Int(i);
            }
        }
        Value::Str { data: data.into(), raw: false }
    }

    /// A string value that Redis creates without trying the int encoding (INCRBYFLOAT,
    /// GETRANGE results...).
    pub fn plain_string(data: &[u8]) -> Value {
        Value::Str { data: data.into(), raw: false }
    }

    /// The `TYPE` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) | Value::Str { .. } => "string",
            Value::Hash(_) | Value::HashTable(_) => "hash",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// The `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Str { data, raw } => {
                if !raw && data.len() <= EMBSTR_MAX {
                    "embstr"
                } else {
                    "raw"
                }
            }
            Value::Hash(_) => "listpack",
            Value::HashTable(_) => "hashtable",
            Value::List(_) => "quicklist",
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    /// How much work freeing this value is, as Redis's `lazyfreeGetFreeEffort` counts it:
    /// allocations (list nodes, hashtable / skiplist entries, stream blocks and consumer-group
    /// entries); 1 for a value held in one buffer.
    pub fn free_effort(&self) -> usize {
        match self {
            Value::List(l) => l.node_count(),
            Value::HashTable(h) => h.len(),
            Value::Set(s) if s.encoding() == "hashtable" => s.len(),
            Value::ZSet(z) if z.encoding() == "skiplist" => z.len(),
            Value::Stream(s) => {
                // Redis estimates every group's PEL by the first group's.
                let groups = s.groups.len() * (1 + s.groups.values().next().map_or(0, |g| g.pel.len()));
                s.block_count() + groups
            }
            _ => 1,
        }
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Str { .. })
    }

    /// The bytes of a string value (integers formatted).
    pub fn string_bytes(&self) -> Option<StrBytes<'_>> {
        match self {
            Value::Int(i) => Some(StrBytes::Int(itoa::Buffer::new(), *i)),
            Value::Str { data, .. } => Some(StrBytes::Slice(data)),
            _ => None,
        }
    }

    /// Bytes of heap memory this value owns (for `used_memory`-style estimates).
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Int(_) => 0,
            Value::Str { data, .. } => data.heap_size(),
            Value::Hash(lp) => lp.heap_size(),
            Value::HashTable(m) => HashRef::Table(m).heap_size(),
            Value::List(l) => l.heap_size(),
            Value::Set(s) => s.heap_size(),
            Value::ZSet(z) => z.heap_size(),
            Value::Stream(s) => s.heap_size(),
        }
    }
}

impl Value {
    /// An empty hash (no allocation until its first field).
    pub fn new_hash() -> Value {
        Value::Hash(Listpack::new())
    }

    /// A read view of a hash value (`None` for another type).
    pub fn as_hash(&self) -> Option<HashRef<'_>> {
        match self {
            Value::Hash(lp) => Some(HashRef::Listpack(lp)),
            Value::HashTable(m) => Some(HashRef::Table(m)),
            _ => None,
        }
    }

    /// A write handle on a hash value (`None` for another type); a listpack past `limits`
    /// becomes a hashtable.
    pub fn as_hash_mut(&mut self, limits: Limits) -> Option<HashMut<'_>> {
        matches!(self, Value::Hash(_) | Value::HashTable(_)).then_some(HashMut(self, limits))
    }
}

/// A hash, read-only, whichever its encoding.
#[derive(Debug, Clone, Copy)]
pub enum HashRef<'a> {
    Listpack(&'a Listpack),
    Table(&'a HashTable),
}

impl<'a> HashRef<'a> {
    pub fn len(self) -> usize {
        match self {
            HashRef::Listpack(lp) => lp.len(),
            HashRef::Table(m) => m.len(),
        }
    }

    pub fn is_empty(self) -> bool {
        match self {
            HashRef::Listpack(lp) => lp.is_empty(),
            HashRef::Table(m) => m.is_empty(),
        }
    }

    /// The `OBJECT ENCODING` name.
    pub fn encoding(self) -> &'static str {
        match self {
            HashRef::Listpack(_) => "listpack",
            HashRef::Table(_) => "hashtable",
        }
    }

    pub fn get(self, field: &[u8]) -> Option<&'a [u8]> {
        match self {
            HashRef::Listpack(lp) => lp.get(field),
            HashRef::Table(m) => m.get(field).map(|v| &**v),
        }
    }

    /// Fields and values in the encoding's order (insertion order for a listpack).
    pub fn iter(self) -> HashIter<'a> {
        match self {
            HashRef::Listpack(lp) => HashIter::Listpack(lp.iter()),
            HashRef::Table(m) => HashIter::Table(m.iter()),
        }
    }

    /// The field / value pairs in the encoding's order, for random access (HRANDFIELD).
    pub fn pairs(self) -> Vec<(&'a [u8], &'a [u8])> {
        self.iter().collect()
    }

    /// A uniformly random field / value pair (`None` when empty): O(n), as neither encoding
    /// has random access.
    pub fn random_pair(self) -> Option<(&'a [u8], &'a [u8])> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        self.iter().nth(crate::rand::below(n))
    }

    /// Bytes of heap memory the hash owns: the listpack buffer, or the table's buckets plus
    /// every field and value.
    pub fn heap_size(self) -> usize {
        match self {
            HashRef::Listpack(lp) => lp.heap_size(),
            HashRef::Table(m) => {
                let table = super::types::table_bytes(m.capacity(), size_of::<Key>() + size_of::<Bytes>());
                let items: usize = m.iter().map(|(f, v)| f.heap_len() + v.len()).sum();
                size_of::<HashTable>() + table + items
            }
        }
    }
}

/// The pairs of a hash, see [`HashRef::iter`].
pub enum HashIter<'a> {
    Listpack(listpack::Iter<'a>),
    Table(hashbrown::hash_map::Iter<'a, Key, Bytes>),
}

impl<'a> Iterator for HashIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            HashIter::Listpack(it) => it.next(),
            HashIter::Table(it) => it.next().map(|(f, v)| (&**f, &**v)),
        }
    }
}

/// A hash being modified: a `&mut Value` known to be `Hash` or `HashTable`, turned from the
/// first into the second in place when Redis would convert.
pub struct HashMut<'a>(&'a mut Value, Limits);

impl HashMut<'_> {
    pub fn view(&self) -> HashRef<'_> {
        match &*self.0 {
            Value::Hash(lp) => HashRef::Listpack(lp),
            Value::HashTable(m) => HashRef::Table(m),
            _ => unreachable!("a HashMut holds a hash"),
        }
    }

    pub fn len(&self) -> usize {
        self.view().len()
    }

    pub fn is_empty(&self) -> bool {
        self.view().is_empty()
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.view().get(field)
    }

    /// Set a field; returns true if it is new. A listpack keeps an existing field's position;
    /// a field or value past `hash-max-listpack-value`, or one field more than
    /// `hash-max-listpack-entries`, converts it to a hashtable first.
    pub fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        let limits = self.1;
        if let Value::Hash(lp) = &mut *self.0 {
            if limits.fits(field, value) {
                match lp.upsert(field, value, limits.entries) {
                    // Past a lowered `hash-max-listpack-entries`, any write converts (as
                    // Redis's hashTypeSet); a pair takes a byte at least, so a buffer no longer
                    // than the limit needs no count.
                    Upsert::Replaced if lp.heap_size() <= limits.entries || lp.len() <= limits.entries => return false,
                    Upsert::Replaced => {
                        self.convert();
                        return false;
                    }
                    Upsert::Added => return true,
                    Upsert::Full => {}
                }
            }
            self.convert();
        }
        let Value::HashTable(m) = &mut *self.0 else { unreachable!("converted above") };
        match m.entry_ref(field) {
            hashbrown::hash_map::EntryRef::Occupied(mut o) => {
                // A value replaced by one of the same length is overwritten where it is (a
                // fixed-size value HSET again and again is common): no allocation, no free.
                let v = o.get_mut();
                if v.len() == value.len() && v.capacity() == v.len() {
                    v.copy_from_slice(value);
                } else {
                    *v = value.into();
                }
                false
            }
            hashbrown::hash_map::EntryRef::Vacant(e) => {
                e.insert(value.into());
                true
            }
        }
    }

    /// Remove a field; true if it was there. A hashtable stays one, as in Redis.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut *self.0 {
            Value::Hash(lp) => lp.remove(field),
            Value::HashTable(m) => m.remove(field).is_some(),
            _ => unreachable!("a HashMut holds a hash"),
        }
    }

    fn convert(&mut self) {
        if let Value::Hash(lp) = &*self.0 {
            let mut m = HashTable::with_capacity(lp.len() + 1);
            m.extend(lp.iter().map(|(f, v)| (Key::from(f), Bytes::from(v))));
            *self.0 = Value::HashTable(Box::new(m));
        }
    }
}

/// The bytes of a string value without allocating.
pub enum StrBytes<'a> {
    Slice(&'a [u8]),
    Int(itoa::Buffer, i64),
}

impl StrBytes<'_> {
    pub fn with<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            StrBytes::Slice(s) => f(s),
            StrBytes::Int(buf, i) => f(buf.format(*i).as_bytes()),
        }
    }

    pub fn to_vec(&mut self) -> Vec<u8> {
        self.with(|b| b.to_vec())
    }

    pub fn len(&mut self) -> usize {
        self.with(|b| b.len())
    }

    pub fn is_empty(&mut self) -> bool {
        self.len() == 0
    }
}

/// A key's entry: its value and absolute expiry time in ms (0 = no expiry).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub value: Value,
    pub expire_at: i64,
    /// The key's access clock (LRU time or LFU counter, see `store::lru`); `lru::UNSET` until
    /// the entry is stored.
    pub lru: u32,
}

impl Entry {
    pub fn new(value: Value) -> Self {
        Entry::with_expiry(value, 0)
    }

    /// An entry created now, expiring at `expire_at` (Unix ms, 0: never).
    pub fn with_expiry(value: Value, expire_at: i64) -> Self {
        Entry { value, expire_at, lru: super::lru::UNSET }
    }

    pub fn is_expired(&self, now_ms: i64) -> bool {
        self.expire_at != 0 && now_ms > self.expire_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(Value::string(b"123").encoding(), "int");
        assert_eq!(Value::string(b"0123").encoding(), "embstr");
        assert_eq!(Value::string(&[b'a'; 44]).encoding(), "embstr");
        assert_eq!(Value::string(&[b'a'; 45]).encoding(), "raw");
        assert_eq!(Value::plain_string(b"3").encoding(), "embstr");
    }

    #[test]
    fn sizes() {
        // A string key costs its Entry in the table: hashes must not make strings bigger.
        assert_eq!(size_of::<Value>(), 16);
        assert_eq!(size_of::<Entry>(), 32, "24 bytes of value and expiry, 4 of access clock");
        assert_eq!(size_of::<Listpack>(), 8);
    }

    fn hash_with(pairs: &[(&[u8], &[u8])]) -> Value {
        let mut v = Value::new_hash();
        let mut h = v.as_hash_mut(Default::default()).expect("hash");
        pairs.iter().for_each(|(f, val)| {
            h.set(f, val);
        });
        v
    }

    #[test]
    fn hash_converts_once() {
        let mut v = Value::new_hash();
        let mut h = v.as_hash_mut(Default::default()).expect("hash");
        for i in 0..512 {
            assert!(h.set(format!("f{i}").as_bytes(), b"v"));
        }
        assert!(!h.set(b"f0", b"w"));
        assert_eq!(h.view().encoding(), "listpack");
        let order: Vec<_> = h.view().iter().map(|(f, _)| f.to_vec()).collect();
        assert_eq!(order[0], b"f0");
        assert_eq!(order[511], b"f511");
        assert!(h.set(b"f512", b"v"));
        assert_eq!(h.view().encoding(), "hashtable");
        assert!(h.remove(b"f512"));
        assert!(!h.remove(b"f512"));
        assert_eq!((h.len(), h.get(b"f0")), (512, Some(&b"w"[..])));
        // A table's value replaced in place (same length) and by a longer and a shorter one.
        for value in [&b"x"[..], b"longer value", b"longer VALUE", b"", b"y"] {
            assert!(!h.set(b"f1", value));
            assert_eq!(h.get(b"f1"), Some(value));
        }
        assert_eq!((h.len(), h.get(b"f2")), (512, Some(&b"v"[..])));
        assert_eq!(v.encoding(), "hashtable");
        assert_eq!(v.type_name(), "hash");
        assert!(v.as_hash().expect("hash").heap_size() > 512 * 36);

        let long = [b'x'; 65];
        for pairs in [&[(&b"a"[..], &long[..])][..], &[(&long[..], &b"a"[..])], &[(b"a", b"1"), (b"a", &long)]] {
            let v = hash_with(pairs);
            assert_eq!(v.encoding(), "hashtable");
            assert_eq!(v.as_hash().expect("hash").len(), 1);
        }
        assert_eq!(hash_with(&[(b"a", &long[..64])]).encoding(), "listpack");
        assert!(Value::Int(1).as_hash().is_none() && Value::Int(1).as_hash_mut(Default::default()).is_none());
    }

    #[test]
    fn hash_follows_its_limits() {
        let limits = Limits { entries: 3, value: 10 };
        let mut v = Value::new_hash();
        let mut h = v.as_hash_mut(limits).expect("hash");
        for f in [&b"a"[..], b"b", b"c"] {
            assert!(h.set(f, b"0123456789"));
        }
        assert_eq!(h.view().encoding(), "listpack");
        assert!(h.set(b"d", b"v"), "a fourth field");
        assert_eq!(h.view().encoding(), "hashtable");
        let mut v = hash_with(&[(b"a", b"1")]);
        assert!(v.as_hash_mut(limits).expect("hash").set(b"b", b"01234567890"));
        assert_eq!(v.encoding(), "hashtable", "a value one byte past the limit");
        // Long entries stay a listpack when the limit allows them.
        let big = vec![b'x'; 70_000];
        let roomy = Limits { entries: 10, value: 100_000 };
        let mut v = Value::new_hash();
        v.as_hash_mut(roomy).expect("hash").set(&big[..300], &big);
        assert_eq!(v.encoding(), "listpack");
        assert_eq!(v.as_hash().expect("hash").get(&big[..300]), Some(&big[..]));
        // A lowered entry limit converts a listpack on its next write, even a replacement.
        let mut v = hash_with(&[(b"a", b"1"), (b"b", b"2"), (b"c", b"3")]);
        v.as_hash_mut(Limits { entries: 2, value: 64 }).expect("hash").set(b"a", b"9");
        assert_eq!(v.encoding(), "hashtable");
    }

    #[test]
    fn hash_views_agree() {
        let pairs: Vec<(Vec<u8>, Vec<u8>)> =
            (0..20).map(|i| (format!("f{i}").into(), format!("v{i}").into())).collect();
        let borrowed: Vec<(&[u8], &[u8])> = pairs.iter().map(|(f, v)| (&f[..], &v[..])).collect();
        let small = hash_with(&borrowed);
        let mut big = hash_with(&[(b"x", &[b'x'; 65])]);
        let mut h = big.as_hash_mut(Default::default()).expect("hash");
        h.remove(b"x");
        borrowed.iter().for_each(|(f, v)| assert!(h.set(f, v)));
        let (s, b) = (small.as_hash().expect("hash"), big.as_hash().expect("hash"));
        assert_eq!((s.encoding(), b.encoding()), ("listpack", "hashtable"));
        assert_eq!(s.pairs(), borrowed);
        let mut bp = b.pairs();
        bp.sort();
        let mut sp = s.pairs();
        sp.sort();
        assert_eq!(sp, bp);
        assert_eq!((s.len(), b.len(), s.get(b"f7"), b.get(b"f7")), (20, 20, Some(&b"v7"[..]), Some(&b"v7"[..])));
        assert!(s.random_pair().is_some_and(|(f, v)| s.get(f) == Some(v)));
        assert_eq!(small.heap_size(), 10 * 5 + 10 * 7);
    }
}
