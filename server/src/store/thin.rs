//! [`ThinBytes`]: an owned byte string behind one 8-byte pointer, its length stored in front
//! of the bytes in the same allocation. A boxed slice is a 16-byte (pointer, length) pair;
//! with this, a string value or a small hash takes 8 bytes in a `Value`, which leaves room
//! in every `Entry` for the key's LRU / LFU clock at no cost per key.
//!
//! Layout: one length byte, then the bytes; a length of 255 or more is stored as the byte
//! 255 followed by the `u64` length. One byte of header keeps small strings and small hashes
//! in the same malloc size class as a boxed slice of them. The empty string points at a
//! static header and owns no allocation.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;

const SHORT: usize = 1;
const LONG: usize = 9;
/// The first byte of a long header.
const LONG_MARK: u8 = 255;

/// The header of every empty `ThinBytes`: length 0, never written, never freed.
static EMPTY: u8 = 0;

pub struct ThinBytes(NonNull<u8>);

// SAFETY: a ThinBytes exclusively owns its allocation (like Box<[u8]>); the static empty
// header is never written.
unsafe impl Send for ThinBytes {}
unsafe impl Sync for ThinBytes {}

impl ThinBytes {
    /// The empty string (no allocation).
    pub fn new() -> ThinBytes {
        ThinBytes(NonNull::from(&EMPTY))
    }

    fn is_empty_static(&self) -> bool {
        std::ptr::eq(self.0.as_ptr() as *const u8, &EMPTY)
    }

    /// (header size, length).
    fn head(&self) -> (usize, usize) {
        // SAFETY: the pointer is to a live header written by `from_parts` (or EMPTY): a byte,
        // then for long strings a u64, read unaligned.
        unsafe {
            let short = *self.0.as_ptr();
            if short != LONG_MARK {
                (SHORT, short as usize)
            } else {
                (LONG, self.0.as_ptr().add(SHORT).cast::<u64>().read_unaligned() as usize)
            }
        }
    }

    fn layout(head: usize, len: usize) -> Layout {
        Layout::from_size_align(head + len, 1).expect("a byte string never exceeds isize::MAX")
    }

    /// The concatenation of `parts`, in one allocation.
    pub fn from_parts(parts: &[&[u8]]) -> ThinBytes {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len == 0 {
            return ThinBytes::new();
        }
        let head = if len < LONG_MARK as usize { SHORT } else { LONG };
        let layout = Self::layout(head, len);
        // SAFETY: `layout` has a non-zero size; every byte of it is written below before the
        // ThinBytes is handed out (header, then each part in turn).
        unsafe {
            let p = alloc(layout);
            if p.is_null() {
                handle_alloc_error(layout);
            }
            if head == SHORT {
                *p = len as u8;
            } else {
                *p = LONG_MARK;
                p.add(SHORT).cast::<u64>().write_unaligned(len as u64);
            }
            let mut at = p.add(head);
            for part in parts {
                std::ptr::copy_nonoverlapping(part.as_ptr(), at, part.len());
                at = at.add(part.len());
            }
            ThinBytes(NonNull::new_unchecked(p))
        }
    }

    /// The bytes as a vector (one copy).
    pub fn into_vec(self) -> Vec<u8> {
        self.to_vec()
    }
}

impl Default for ThinBytes {
    fn default() -> Self {
        ThinBytes::new()
    }
}

impl Drop for ThinBytes {
    fn drop(&mut self) {
        if self.is_empty_static() {
            return;
        }
        let (head, len) = self.head();
        // SAFETY: allocated by `from_parts` with exactly this layout, freed once (here).
        unsafe { dealloc(self.0.as_ptr(), Self::layout(head, len)) }
    }
}

impl std::ops::Deref for ThinBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        let (head, len) = self.head();
        // SAFETY: `len` initialized bytes follow the header in this live allocation (none for
        // the static empty header, which a zero-length slice does not read).
        unsafe { std::slice::from_raw_parts(self.0.as_ptr().add(head), len) }
    }
}

impl std::ops::DerefMut for ThinBytes {
    fn deref_mut(&mut self) -> &mut [u8] {
        if self.is_empty_static() {
            return &mut [];
        }
        let (head, len) = self.head();
        // SAFETY: as in `deref`, and this ThinBytes owns the allocation exclusively.
        unsafe { std::slice::from_raw_parts_mut(self.0.as_ptr().add(head), len) }
    }
}

impl Clone for ThinBytes {
    fn clone(&self) -> Self {
        ThinBytes::from_parts(&[self])
    }
}

impl PartialEq for ThinBytes {
    fn eq(&self, other: &Self) -> bool {
        self[..] == other[..]
    }
}

impl Eq for ThinBytes {}

impl std::fmt::Debug for ThinBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self[..].fmt(f)
    }
}

impl std::hash::Hash for ThinBytes {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self[..].hash(state)
    }
}

impl std::borrow::Borrow<[u8]> for ThinBytes {
    fn borrow(&self) -> &[u8] {
        self
    }
}

impl AsRef<[u8]> for ThinBytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl PartialOrd for ThinBytes {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ThinBytes {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self[..].cmp(&other[..])
    }
}

impl From<&[u8]> for ThinBytes {
    fn from(s: &[u8]) -> Self {
        ThinBytes::from_parts(&[s])
    }
}

impl From<Vec<u8>> for ThinBytes {
    fn from(v: Vec<u8>) -> Self {
        ThinBytes::from_parts(&[&v])
    }
}

impl From<Box<[u8]>> for ThinBytes {
    fn from(b: Box<[u8]>) -> Self {
        ThinBytes::from_parts(&[&b])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_bytes_in_one_thin_pointer() {
        assert_eq!(std::mem::size_of::<ThinBytes>(), 8);
        let empty = ThinBytes::new();
        assert!(empty.is_empty());
        let mut e2 = empty.clone();
        assert_eq!(&mut e2[..], &mut [] as &mut [u8]);
        let s = ThinBytes::from(&b"hello"[..]);
        assert_eq!(&s[..], b"hello");
        let mut c = s.clone();
        c[0] = b'j';
        assert_eq!((&s[..], &c[..]), (&b"hello"[..], &b"jello"[..]));
        assert_eq!(ThinBytes::from_parts(&[b"ab", b"", b"cd"]).into_vec(), b"abcd");
        assert_eq!(ThinBytes::from(vec![7u8; 70_000]).len(), 70_000);
        for n in [254, 255, 256] {
            assert_eq!(&ThinBytes::from(vec![1u8; n])[..], &vec![1u8; n][..], "length {n}");
        }
        assert_eq!(ThinBytes::from(Vec::new()), ThinBytes::new());
        assert_eq!(format!("{:?}", ThinBytes::from(&b"x"[..])), "[120]");
    }
}
