//! [`ThinBytes`]: an owned byte string behind one 8-byte pointer, its length stored in front
//! of the bytes in the same allocation. A boxed slice is a 16-byte (pointer, length) pair;
//! with this, a string value or a small hash takes 8 bytes in a `Value`, which leaves room
//! in every `Entry` for the key's LRU / LFU clock at no cost per key.
//!
//! Layout: one length byte, then the bytes; a length of 255 or more is stored as the byte
//! 255 followed by the `u64` length. One byte of header keeps small strings and small hashes
//! in the same malloc size class as a boxed slice of them. The empty string points at a
//! static header and owns no allocation.
//!
//! A long string grown in place ([`ThinBytes::grow_zeroed`], SETBIT / BITFIELD) keeps spare
//! room as Redis's `sdsMakeRoomFor` does: its length word has its top bit set and is followed
//! by a `u64` capacity (a 17-byte header), so growing a bitmap bit by bit copies it O(log n)
//! times, not once per byte.

use std::alloc::{alloc, dealloc, handle_alloc_error, realloc, Layout};
use std::ptr::NonNull;

const SHORT: usize = 1;
const LONG: usize = 9;
/// A long header with a capacity word.
const ROOMY: usize = 17;
/// The first byte of a long header.
const LONG_MARK: u8 = 255;
/// Set in a long header's length word when a capacity word follows.
const ROOMY_BIT: u64 = 1 << 63;
/// Growth doubles the size up to this, then adds this much (Redis's `SDS_MAX_PREALLOC`).
const MAX_PREALLOC: usize = 1024 * 1024;

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
        // SAFETY: the pointer is to a live header written by `from_parts` / `grow_zeroed` (or
        // EMPTY): a byte, then for long strings a u64 (and a u64 capacity if its top bit is
        // set), read unaligned.
        unsafe {
            let short = *self.0.as_ptr();
            if short != LONG_MARK {
                return (SHORT, short as usize);
            }
            let word = self.0.as_ptr().add(SHORT).cast::<u64>().read_unaligned();
            if word & ROOMY_BIT != 0 {
                (ROOMY, (word & !ROOMY_BIT) as usize)
            } else {
                (LONG, word as usize)
            }
        }
    }

    /// Bytes the allocation holds after its header (the length, or more with spare room).
    pub fn capacity(&self) -> usize {
        match self.head() {
            // SAFETY: a roomy header has its capacity word at offset LONG (see `head`).
            (ROOMY, _) => unsafe { self.0.as_ptr().add(LONG).cast::<u64>().read_unaligned() as usize },
            (_, len) => len,
        }
    }

    /// Grow to `new_len` bytes (nothing if not longer), the new bytes zero. A long string
    /// gets spare room (twice the length up to 1 MB, then 1 MB more), used by later growth.
    pub fn grow_zeroed(&mut self, new_len: usize) {
        let (head, len) = self.head();
        if new_len <= len {
            return;
        }
        if new_len < LONG_MARK as usize {
            *self = ThinBytes::from_parts(&[&self[..], &[0u8; LONG_MARK as usize][..new_len - len]]);
            return;
        }
        let cap = self.capacity();
        if head == ROOMY && new_len <= cap {
            // SAFETY: a roomy allocation holds `cap` >= `new_len` bytes after its 17-byte
            // header, so the zeroed range is inside it; the length word is rewritten in place.
            unsafe {
                let p = self.0.as_ptr();
                std::ptr::write_bytes(p.add(ROOMY + len), 0, new_len - len);
                p.add(SHORT).cast::<u64>().write_unaligned(new_len as u64 | ROOMY_BIT);
            }
            return;
        }
        let new_cap =
            if new_len < MAX_PREALLOC { new_len.saturating_mul(2) } else { new_len.saturating_add(MAX_PREALLOC) };
        let layout = Self::layout(ROOMY, new_cap);
        // SAFETY: `layout` is non-zero; a roomy allocation is realloc'ed with the layout it was
        // allocated with (header and old capacity) and keeps its header and bytes; any other
        // is copied into a fresh one (the static empty header is never freed: `len` >= 0 and
        // `new_len` >= 255 mean the old value is dropped by the assignment, which skips
        // EMPTY). The header and the zero tail are written before the pointer is used.
        unsafe {
            let p = if head == ROOMY {
                realloc(self.0.as_ptr(), Self::layout(ROOMY, cap), layout.size())
            } else {
                let p = alloc(layout);
                if !p.is_null() {
                    std::ptr::copy_nonoverlapping(self.as_ptr(), p.add(ROOMY), len);
                }
                p
            };
            if p.is_null() {
                handle_alloc_error(layout);
            }
            *p = LONG_MARK;
            p.add(SHORT).cast::<u64>().write_unaligned(new_len as u64 | ROOMY_BIT);
            p.add(LONG).cast::<u64>().write_unaligned(new_cap as u64);
            std::ptr::write_bytes(p.add(ROOMY + len), 0, new_len - len);
            let fresh = ThinBytes(NonNull::new_unchecked(p));
            if head == ROOMY {
                // The old allocation was moved by realloc: forget it without freeing.
                std::mem::forget(std::mem::replace(self, fresh));
            } else {
                *self = fresh;
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
        let (head, _) = self.head();
        // SAFETY: allocated by `from_parts` / `grow_zeroed` with exactly this layout (header
        // and capacity), freed once (here).
        unsafe { dealloc(self.0.as_ptr(), Self::layout(head, self.capacity())) }
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

    #[test]
    fn grows_with_spare_room() {
        let mut t = ThinBytes::from(&b"ab"[..]);
        t.grow_zeroed(1);
        assert_eq!(&t[..], b"ab");
        t.grow_zeroed(5);
        assert_eq!((&t[..], t.capacity()), (&b"ab\0\0\0"[..], 5));
        let mut want = t.to_vec();
        for n in [254, 255, 300, 301, 600, 5000, 5001, 3 << 20] {
            t[1] = n as u8;
            want[1] = n as u8;
            t.grow_zeroed(n);
            want.resize(n, 0);
            assert_eq!(&t[..], &want[..], "length {n}");
            assert!(t.capacity() >= n);
            let last = t.len() - 1;
            t[last] = 7;
            want[last] = 7;
        }
        assert_eq!(t.capacity(), (3 << 20) + (1 << 20));
        let c = t.clone();
        assert_eq!((&c[..], c.capacity()), (&t[..], t.len()), "a clone is exact");
        assert_eq!(t, c);
        assert_eq!(t.clone().into_vec(), want);
        let mut e = ThinBytes::new();
        e.grow_zeroed(0);
        assert!(e.is_empty());
        e.grow_zeroed(1000);
        assert_eq!(&e[..], &[0u8; 1000][..]);
    }
}
