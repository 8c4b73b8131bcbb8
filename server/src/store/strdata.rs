//! [`StrData`]: the bytes of a string value. Up to [`INLINE`] bytes live inside the value
//! itself — no allocation, and no pointer to follow after the key's lookup (redis-benchmark's
//! 3-byte values, flags, short ids, a small bitmap); longer strings are a [`ThinBytes`].
//! Redis's `embstr` saves the same allocation by putting the bytes after the object header.
//!
//! Fourteen bytes, alignment 1, so that `Value::Str { data, raw }` stays a 16-byte value:
//! `[length][13 bytes]`, or `[HEAP][5 unused][the ThinBytes pointer]` (read unaligned).

use super::thin::ThinBytes;
use std::mem::ManuallyDrop;

/// Longest string kept inside the value.
pub const INLINE: usize = 13;
const HEAP: u8 = 0xFF;
const PTR_AT: usize = 6;

pub struct StrData([u8; INLINE + 1]);

// SAFETY: a heap StrData exclusively owns its ThinBytes (which is Send and Sync).
unsafe impl Send for StrData {}
unsafe impl Sync for StrData {}

impl StrData {
    /// The empty string.
    pub fn new() -> StrData {
        StrData([0; INLINE + 1])
    }

    fn inline(bytes: &[u8]) -> StrData {
        debug_assert!(bytes.len() <= INLINE);
        let mut d = StrData::new();
        d.0[0] = bytes.len() as u8;
        d.0[1..=bytes.len()].copy_from_slice(bytes);
        d
    }

    fn heap(t: ThinBytes) -> StrData {
        let mut d = StrData::new();
        d.0[0] = HEAP;
        // SAFETY: the 8 bytes at PTR_AT are inside the array; the ThinBytes is moved in
        // (its drop is taken over by StrData's).
        unsafe { d.0.as_mut_ptr().add(PTR_AT).cast::<ManuallyDrop<ThinBytes>>().write_unaligned(ManuallyDrop::new(t)) };
        d
    }

    fn is_heap(&self) -> bool {
        self.0[0] == HEAP
    }

    /// The heap string, borrowed (valid while `self` is neither changed nor dropped).
    fn thin(&self) -> ManuallyDrop<ThinBytes> {
        debug_assert!(self.is_heap());
        // SAFETY: a heap StrData holds a live ThinBytes at PTR_AT; the copy is never dropped.
        unsafe { self.0.as_ptr().add(PTR_AT).cast::<ManuallyDrop<ThinBytes>>().read_unaligned() }
    }

    /// Take the heap string out, leaving the empty inline string.
    fn take_thin(&mut self) -> ThinBytes {
        let t = ManuallyDrop::into_inner(self.thin());
        self.0[0] = 0;
        t
    }

    /// Bytes held on the heap: 0 inline; a heap string may hold more than its length (see
    /// [`ThinBytes::grow_zeroed`]).
    pub fn heap_size(&self) -> usize {
        if self.is_heap() {
            self.thin().capacity()
        } else {
            0
        }
    }

    /// Grow to `new_len` bytes (nothing if not longer), the new bytes zero.
    pub fn grow_zeroed(&mut self, new_len: usize) {
        let len = self.len();
        if new_len <= len {
            return;
        }
        if !self.is_heap() && new_len <= INLINE {
            self.0[1 + len..=new_len].fill(0);
            self.0[0] = new_len as u8;
            return;
        }
        let mut t = if self.is_heap() { self.take_thin() } else { ThinBytes::from(&self[..]) };
        t.grow_zeroed(new_len);
        *self = StrData::heap(t);
    }

    /// The bytes as a vector (one copy).
    pub fn into_vec(self) -> Vec<u8> {
        self.to_vec()
    }
}

impl Default for StrData {
    fn default() -> Self {
        StrData::new()
    }
}

impl Drop for StrData {
    fn drop(&mut self) {
        if self.is_heap() {
            drop(self.take_thin());
        }
    }
}

impl std::ops::Deref for StrData {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        if !self.is_heap() {
            return &self.0[1..=self.0[0] as usize];
        }
        let t = self.thin();
        // SAFETY: the bytes belong to the ThinBytes this StrData owns, alive and unchanged
        // while the returned borrow of `self` lasts.
        unsafe { std::slice::from_raw_parts(t.as_ptr(), t.len()) }
    }
}

impl std::ops::DerefMut for StrData {
    fn deref_mut(&mut self) -> &mut [u8] {
        if !self.is_heap() {
            let len = self.0[0] as usize;
            return &mut self.0[1..=len];
        }
        let mut t = self.thin();
        // SAFETY: as in `deref`, borrowed mutably through `self`, which owns the bytes.
        unsafe { std::slice::from_raw_parts_mut(t.as_mut_ptr(), t.len()) }
    }
}

impl Clone for StrData {
    fn clone(&self) -> Self {
        StrData::from(&self[..])
    }
}

impl PartialEq for StrData {
    fn eq(&self, other: &Self) -> bool {
        self[..] == other[..]
    }
}

impl Eq for StrData {}

impl std::fmt::Debug for StrData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self))
    }
}

impl From<&[u8]> for StrData {
    fn from(b: &[u8]) -> Self {
        if b.len() <= INLINE {
            StrData::inline(b)
        } else {
            StrData::heap(ThinBytes::from(b))
        }
    }
}

impl From<Vec<u8>> for StrData {
    fn from(v: Vec<u8>) -> Self {
        StrData::from(&v[..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourteen_bytes_keep_a_string_value_at_sixteen() {
        assert_eq!(std::mem::size_of::<StrData>(), 14);
        assert_eq!(std::mem::size_of::<super::super::Value>(), 16);
    }

    #[test]
    fn inline_and_heap_strings_behave_as_bytes() {
        for len in [0, 1, INLINE, INLINE + 1, 300] {
            let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut d = StrData::from(&bytes[..]);
            assert_eq!(&d[..], &bytes[..]);
            assert_eq!(d.heap_size() > 0, len > INLINE);
            assert_eq!(d.clone(), d);
            if len > 0 {
                d[0] = 9;
                assert_eq!(d[0], 9);
            }
        }
    }

    #[test]
    fn growing_moves_to_the_heap_past_the_inline_room() {
        let mut d = StrData::from(&b"ab"[..]);
        d.grow_zeroed(INLINE);
        assert_eq!(&d[..2], b"ab");
        assert_eq!(d.len(), INLINE);
        assert_eq!(d.heap_size(), 0);
        d.grow_zeroed(INLINE + 1);
        assert_eq!(d.len(), INLINE + 1);
        assert!(d.heap_size() > 0);
        assert_eq!(&d[..3], b"ab\0");
        d.grow_zeroed(5000);
        assert_eq!(d.len(), 5000);
        assert!(d[2..].iter().all(|&b| b == 0));
        d.grow_zeroed(10);
        assert_eq!(d.len(), 5000);
        assert_eq!(d.into_vec().len(), 5000);
    }
}
