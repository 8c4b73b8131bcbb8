//! [`Node`]: one key as a slot's table stores it — its value, its access clock, its key bytes
//! and its expiry — in 40 bytes, the size of Redis's dictEntry plus its robj header.
//!
//! A node keeps a key of up to [`INLINE`] bytes inside itself (most keys: `user:1001:session`,
//! `counter:000000012345`), so a lookup compares it without following a pointer and it costs no
//! allocation. A longer key, or any key with an expiry, lives in one exact-size block of its
//! own; the block of a key with an expiry starts with the expiry, so a lookup that compared
//! the key has the expiry in the same cache line. Keys without an expiry (the common case)
//! pay nothing for the possibility, as in Redis, whose `expires` dict holds only volatile keys.
//!
//! The owned [`Entry`] (value, expiry, clock) is what goes in and comes out of a table.

use super::lru::AccessClock;
use super::{Entry, Value};
use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};

/// Longest key stored inside the node.
pub const INLINE: usize = 20;
/// The access clock's bits in `word` (Redis's objects keep 24 bits too); the key's tag (its
/// inline length, or [`HEAP`] / [`VOLATILE`]) is the top byte.
const CLOCK_BITS: u32 = 0x00FF_FFFF;

/// `tag` of a key in a block `[u32 length][bytes]`.
const HEAP: u8 = 0xFE;
/// `tag` of a key with an expiry: a block `[i64 expiry][u32 length][bytes]`.
const VOLATILE: u8 = 0xFF;
/// Where a block's pointer sits in `key` (8-aligned in the node; bytes 0..=3 stay unused).
const PTR_AT: usize = 4;
const EXPIRY: usize = 8;
const LEN: usize = 4;

pub struct Node {
    pub value: Value,
    /// The key's access clock (LRU time or LFU counter, see `store::lru`) in the low 24
    /// bits, the key's tag in the top byte: its length when it is inline, else [`HEAP`] or
    /// [`VOLATILE`].
    word: u32,
    /// The key's bytes inline, or `[4 unused bytes, block pointer]`.
    key: [u8; INLINE],
}

// SAFETY: a node exclusively owns its block (if any), like a Box; nothing is shared.
unsafe impl Send for Node {}
unsafe impl Sync for Node {}

fn block_layout(volatile: bool, len: usize) -> Layout {
    let size = if volatile { EXPIRY } else { 0 } + LEN + len;
    Layout::from_size_align(size, 8).expect("key length fits a layout")
}

impl Node {
    /// A node for `key` holding `entry`.
    pub fn new(key: &[u8], entry: Entry) -> Node {
        let mut n = Node { value: entry.value, word: entry.lru & CLOCK_BITS, key: [0; INLINE] };
        n.store_key(key, entry.expire_at);
        n
    }

    #[inline]
    fn tag(&self) -> u8 {
        (self.word >> 24) as u8
    }

    fn set_tag(&mut self, tag: u8) {
        self.word = (self.word & CLOCK_BITS) | (u32::from(tag) << 24);
    }

    /// The key's access clock (24 bits).
    #[inline]
    pub fn lru(&self) -> u32 {
        self.word & CLOCK_BITS
    }

    /// Set the access clock (its low 24 bits are kept, as Redis keeps them).
    #[inline]
    pub fn set_lru(&mut self, lru: u32) {
        self.word = (self.word & !CLOCK_BITS) | (lru & CLOCK_BITS);
    }

    /// Note an access at `now_ms` on the key's clock.
    #[inline]
    pub fn touch(&mut self, clock: &AccessClock, now_ms: i64) {
        let mut lru = self.lru();
        clock.on_access(&mut lru, now_ms);
        self.set_lru(lru);
    }

    fn block(&self) -> *mut u8 {
        debug_assert!(self.tag() >= HEAP);
        // SAFETY: a block key's pointer was written at PTR_AT by `store_key` (unaligned).
        unsafe { self.key.as_ptr().add(PTR_AT).cast::<*mut u8>().read_unaligned() }
    }

    /// Write `key` (and `expire_at`, 0: none) into a node whose key area holds no block.
    fn store_key(&mut self, key: &[u8], expire_at: i64) {
        if expire_at == 0 && key.len() <= INLINE {
            self.set_tag(key.len() as u8);
            self.key[..key.len()].copy_from_slice(key);
            return;
        }
        let volatile = expire_at != 0;
        let layout = block_layout(volatile, key.len());
        // SAFETY: the layout has a non-zero size (at least the length word); the writes stay
        // inside it: [expiry][u32 length][bytes] or [u32 length][bytes].
        unsafe {
            let p = alloc(layout);
            if p.is_null() {
                handle_alloc_error(layout);
            }
            let mut at = p;
            if volatile {
                at.cast::<i64>().write_unaligned(expire_at);
                at = at.add(EXPIRY);
            }
            at.cast::<u32>().write_unaligned(u32::try_from(key.len()).expect("keys are under 4 GB"));
            std::ptr::copy_nonoverlapping(key.as_ptr(), at.add(LEN), key.len());
            self.set_tag(if volatile { VOLATILE } else { HEAP });
            self.key.as_mut_ptr().add(PTR_AT).cast::<*mut u8>().write_unaligned(p);
        }
    }

    /// Free the key's block, if any (the key area is left for `store_key` to overwrite).
    fn free_block(&mut self) {
        let tag = self.tag();
        if tag < HEAP {
            return;
        }
        let len = self.key().len();
        // SAFETY: the block was allocated by `store_key` with exactly this layout (its
        // kind from the tag, its length from its length word).
        unsafe { dealloc(self.block(), block_layout(tag == VOLATILE, len)) };
        self.set_tag(0);
    }

    /// The key's bytes.
    #[inline]
    pub fn key(&self) -> &[u8] {
        let tag = self.tag();
        if tag < HEAP {
            return &self.key[..tag as usize];
        }
        // SAFETY: the block holds its length word and that many bytes (see `store_key`); the
        // slice lives as long as the node, which owns the block.
        unsafe {
            let at = self.block().add(if tag == VOLATILE { EXPIRY } else { 0 });
            let len = at.cast::<u32>().read_unaligned() as usize;
            std::slice::from_raw_parts(at.add(LEN), len)
        }
    }

    /// Absolute expiry time in Unix ms, 0 for none.
    #[inline]
    pub fn expire_at(&self) -> i64 {
        if self.tag() != VOLATILE {
            return 0;
        }
        // SAFETY: a volatile block starts with its expiry.
        unsafe { self.block().cast::<i64>().read_unaligned() }
    }

    pub fn is_expired(&self, now_ms: i64) -> bool {
        let at = self.expire_at();
        at != 0 && now_ms > at
    }

    /// Set the expiry (0: none). A key gaining or losing its expiry moves to or from a block.
    pub fn set_expire(&mut self, at: i64) {
        match (self.tag() == VOLATILE, at != 0) {
            // SAFETY: a volatile block starts with its expiry.
            (true, true) => unsafe { self.block().cast::<i64>().write_unaligned(at) },
            (false, false) => {}
            _ => {
                let key = self.key().to_vec();
                self.free_block();
                self.store_key(&key, at);
            }
        }
    }

    /// Heap bytes the key takes beyond the node (for MEMORY USAGE).
    pub fn key_heap_len(&self) -> usize {
        match self.tag() {
            HEAP => LEN + self.key().len(),
            VOLATILE => EXPIRY + LEN + self.key().len(),
            _ => 0,
        }
    }

    /// An owned copy of the entry.
    pub fn to_entry(&self) -> Entry {
        Entry { value: self.value.clone(), expire_at: self.expire_at(), lru: self.lru() }
    }

    /// Put `entry` in the node (same key), returning what it held.
    pub fn replace(&mut self, entry: Entry) -> Entry {
        let old = Entry {
            value: std::mem::replace(&mut self.value, entry.value),
            expire_at: self.expire_at(),
            lru: self.lru(),
        };
        self.set_lru(entry.lru);
        self.set_expire(entry.expire_at);
        old
    }

    /// The entry the node held.
    pub fn into_entry(mut self) -> Entry {
        let lru = self.lru();
        Entry { value: std::mem::replace(&mut self.value, Value::Int(0)), expire_at: self.expire_at(), lru }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.free_block();
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("key", &String::from_utf8_lossy(self.key()))
            .field("value", &self.value)
            .field("expire_at", &self.expire_at())
            .field("lru", &self.lru())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_is_forty_bytes() {
        assert_eq!(std::mem::size_of::<Node>(), 40);
    }

    #[test]
    fn keys_and_expiries_round_trip_through_every_form() {
        let keys: [&[u8]; 5] = [b"", b"k", &[b'x'; INLINE], &[b'y'; INLINE + 1], &[b'z'; 300]];
        for key in keys {
            for at in [0, 1, i64::MAX, -5] {
                let mut n = Node::new(key, Entry::with_expiry(Value::string(b"v"), at));
                assert_eq!(n.key(), key);
                assert_eq!(n.expire_at(), at);
                assert_eq!(n.key_heap_len() > 0, at != 0 || key.len() > INLINE);
                for next in [0, 7, 0, 9, 10, 0] {
                    n.set_expire(next);
                    assert_eq!((n.key(), n.expire_at()), (key, next));
                }
                n.set_lru(3);
                assert_eq!((n.key(), n.expire_at(), n.lru()), (key, 0, 3));
                let old = n.replace(Entry::with_expiry(Value::Int(4), 12));
                assert_eq!((old.value, old.expire_at, old.lru), (Value::string(b"v"), 0, 3));
                assert_eq!((n.key(), n.expire_at()), (key, 12));
                assert!(n.is_expired(13) && !n.is_expired(12));
                let e = n.into_entry();
                assert_eq!((e.value, e.expire_at), (Value::Int(4), 12));
            }
        }
    }
}
