//! [`Key`]: an owned key for the maps beside the keyspace (a slot's WATCHed keys, eviction
//! candidates); the keyspace itself keeps its keys in its nodes (`store::node`). Keys of up
//! to [`INLINE`] bytes (most real keys: `user:1001:session`, `key:000000012345`) live inside
//! the map's bucket, so a lookup compares them without following a pointer and they cost no
//! allocation of their own; longer keys are one exact-size heap allocation.
//!
//! It hashes, compares and borrows exactly as `[u8]`, so maps keyed by it are queried with
//! plain byte slices.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// Longest key stored inline (the enum stays 24 bytes: tag, length, bytes).
pub const INLINE: usize = 22;

#[derive(Clone)]
pub enum Key {
    Inline(u8, [u8; INLINE]),
    Heap(Box<[u8]>),
}

impl Key {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline(len, buf) => &buf[..*len as usize],
            Key::Heap(b) => b,
        }
    }

    /// Heap bytes owned beyond the key itself (for memory accounting).
    pub fn heap_len(&self) -> usize {
        match self {
            Key::Inline(..) => 0,
            Key::Heap(b) => b.len(),
        }
    }
}

impl From<&[u8]> for Key {
    fn from(b: &[u8]) -> Self {
        if b.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..b.len()].copy_from_slice(b);
            Key::Inline(b.len() as u8, buf)
        } else {
            Key::Heap(b.into())
        }
    }
}

impl From<&Vec<u8>> for Key {
    fn from(b: &Vec<u8>) -> Self {
        Key::from(&b[..])
    }
}

impl From<Vec<u8>> for Key {
    fn from(b: Vec<u8>) -> Self {
        Key::from(&b[..])
    }
}

impl From<&bytes::Bytes> for Key {
    fn from(b: &bytes::Bytes) -> Self {
        Key::from(&b[..])
    }
}

impl Deref for Key {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for Key {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Key {}

impl Hash for Key {
    // Must hash as `[u8]` does (the `Borrow` contract): maps are queried with slices.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hashbrown::HashMap;

    #[test]
    fn inline_and_heap_keys_behave_as_bytes() {
        let short: &[u8] = b"user:1001:session";
        let exact = [b'x'; INLINE];
        let long = [b'y'; INLINE + 1];
        assert!(matches!(Key::from(short), Key::Inline(..)));
        assert!(matches!(Key::from(&exact[..]), Key::Inline(..)));
        assert!(matches!(Key::from(&long[..]), Key::Heap(..)));
        assert!(matches!(Key::from(&b""[..]), Key::Inline(0, _)));
        let mut m: HashMap<Key, u32> = HashMap::new();
        for (i, k) in [short, &exact[..], &long[..], b""].into_iter().enumerate() {
            m.insert(Key::from(k), i as u32);
        }
        assert_eq!(m.get(short), Some(&0));
        assert_eq!(m.get(&exact[..]), Some(&1));
        assert_eq!(m.get(&long[..]), Some(&2));
        assert_eq!(m.get(&b""[..]), Some(&3));
        assert_eq!(m.get(&b"user:1001:sessio"[..]), None);
        assert_eq!(&*Key::from(&long[..]), &long[..]);
        assert_eq!(std::mem::size_of::<Key>(), 24);
    }
}
