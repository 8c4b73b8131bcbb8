//! Where a slot's table keeps its nodes, published for the event loops' prefetch.
//!
//! A lookup in a slot's table costs two dependent cache misses before the key is even
//! compared: the table's control bytes, then the node they point at. While a pipelined
//! request runs, the event loop already knows the next request's key (`protocol::peek`); if
//! it also knows where that key's slot keeps its control bytes, it can hash the key and
//! start fetching both lines, so the next lookup finds them in the cache.
//!
//! The table's allocator ([`TableAlloc`]) sees every allocation the table makes, and the
//! layout of one is fixed by `hashbrown` (nodes below the control bytes, one control byte
//! per bucket): it records where the control bytes start and how many buckets there are.
//! The slot's guard copies that record, under the slot's lock, into an atomic the event loops
//! read without locking ([`publish`]). A record that went stale is harmless: a prefetch
//! never faults and never changes memory, it only warms the wrong line.

use super::Node;
use allocator_api2::alloc::{AllocError, Allocator, Global};
use std::alloc::Layout;
use std::cell::Cell;
use std::hash::BuildHasher;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The record changed since the guard last published it.
const DIRTY: u64 = 1;
/// The control bytes' address (16-byte aligned, below 2^56): the low bits below the top byte.
const ADDR: u64 = (1 << 56) - 1 - 0xf;
/// hashbrown's control group width on every target it builds for with SSE2 (and the
/// alignment of its control bytes).
const GROUP: usize = 16;

/// The hasher of every slot table of this process (one random seed, as Redis has one
/// siphash seed): the event loop's prefetch hashes a key as the table will.
pub fn hasher() -> &'static hashbrown::DefaultHashBuilder {
    static H: OnceLock<hashbrown::DefaultHashBuilder> = OnceLock::new();
    H.get_or_init(Default::default)
}

/// The allocator of one slot's table: the global allocator, recording the table's layout.
pub struct TableAlloc {
    /// Control bytes' address | log2(buckets) << 56 | DIRTY; 0 without an allocation.
    record: Cell<u64>,
}

impl Default for TableAlloc {
    fn default() -> Self {
        // A new table: its (empty) record is published by the first guard.
        TableAlloc { record: Cell::new(DIRTY) }
    }
}

/// `buckets` and the control bytes' offset for an allocation of `size` bytes, if it has
/// hashbrown's table layout for [`Node`]s.
fn table_shape(size: usize) -> Option<(usize, usize)> {
    let node = std::mem::size_of::<Node>();
    let align = std::mem::align_of::<Node>().max(GROUP);
    (0..40).map(|log| 1usize << log).find_map(|buckets| {
        let ctrl = (node.checked_mul(buckets)? + align - 1) & !(align - 1);
        (ctrl + buckets + GROUP == size).then_some((buckets, ctrl))
    })
}

impl TableAlloc {
    /// Publish the record again after the table moved to another slot (SWAPDB).
    pub fn moved(&self) {
        self.record.set(self.record.get() | DIRTY);
    }
}

// SAFETY: every allocation and deallocation is forwarded unchanged to `Global`, which
// upholds the trait's contract; the extra work only reads the layout and the returned
// address and writes `record`, never the memory.
unsafe impl Allocator for TableAlloc {
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        let block = Global.allocate(layout)?;
        let record = match table_shape(layout.size()) {
            Some((buckets, ctrl)) => {
                let at = block.cast::<u8>().as_ptr() as usize + ctrl;
                if at as u64 & !ADDR == 0 {
                    at as u64 | (buckets.trailing_zeros() as u64) << 56
                } else {
                    0
                }
            }
            None => 0,
        };
        self.record.set(record | DIRTY);
        Ok(block)
    }

    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        if let Some((_, ctrl)) = table_shape(layout.size()) {
            if (ptr.as_ptr() as usize + ctrl) as u64 == self.record.get() & ADDR {
                self.record.set(DIRTY);
            }
        }
        // SAFETY: forwarded as received (the caller's contract is `Global`'s).
        unsafe { Global.deallocate(ptr, layout) }
    }
}

/// Copy the table's record to the slot's published hint if it changed (called under the
/// slot's lock, when its guard is dropped).
#[inline]
pub fn publish(alloc: &TableAlloc, hint: &AtomicU64) {
    let r = alloc.record.get();
    if r & DIRTY != 0 {
        alloc.record.set(r & !DIRTY);
        hint.store(r & !DIRTY, Ordering::Relaxed);
    }
}

/// Start fetching the lines a lookup of `key` will read first, in the table `hint` describes:
/// its control group and the nodes of its first buckets. Only a hint: nothing is read or
/// written, and a stale `hint` warms other lines.
#[inline]
pub fn prefetch(hint: &AtomicU64, key: &[u8]) {
    let h = hint.load(Ordering::Relaxed);
    if h == 0 {
        return;
    }
    let ctrl = (h & ADDR) as usize;
    let mask = (1usize << (h >> 56)) - 1;
    let pos = hasher().hash_one(key) as usize & mask;
    let node = std::mem::size_of::<Node>();
    // The key's node sits at its probe position or in the few buckets after it (buckets
    // are laid out downwards from the control bytes).
    let first = ctrl.wrapping_sub((pos + 1) * node);
    for at in [ctrl + pos, first + node - 1, first, first.wrapping_sub(node)] {
        prefetch_line(at);
    }
}

#[inline(always)]
fn prefetch_line(at: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads and writes nothing and never faults, whatever the address.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(at as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Entry, Shard, Value};

    /// The record names the table's real control bytes and bucket count, through every size
    /// the table grows through: each key's node is found by the arithmetic the prefetch uses,
    /// and most nodes sit within the buckets it warms.
    #[test]
    fn record_finds_the_nodes_of_a_growing_table() {
        let hint = AtomicU64::new(0);
        let mut shard = Shard::default();
        shard.publish(&hint);
        assert_eq!(hint.load(Ordering::Relaxed), 0, "no table, no hint");
        let node_size = std::mem::size_of::<Node>();
        let (mut near, mut total) = (0, 0);
        for i in 0..2000u32 {
            let key = format!("key:{i:012}");
            shard.insert(key.as_bytes(), Entry::new(Value::string(key.as_bytes())));
            shard.publish(&hint);
            let h = hint.load(Ordering::Relaxed);
            let buckets = 1usize << (h >> 56);
            let ctrl = (h & ADDR) as usize;
            assert!(buckets > i as usize, "{buckets} buckets hold {} keys", i + 1);
            for j in [0, i / 2, i] {
                let key = format!("key:{j:012}");
                let node = shard.get(key.as_bytes()).unwrap() as *const Node as usize;
                assert!(node < ctrl && (ctrl - node).is_multiple_of(node_size), "node {node:#x} ctrl {ctrl:#x}");
                let index = (ctrl - node) / node_size - 1;
                assert!(index < buckets, "bucket {index} of {buckets}");
                let pos = hasher().hash_one(key.as_bytes()) as usize & (buckets - 1);
                near += usize::from((index + buckets - pos) % buckets <= 2);
                total += 1;
            }
        }
        assert!(near * 4 >= total * 3, "{near} of {total} nodes within the warmed buckets");
        shard.clear();
        shard.publish(&hint);
        assert_eq!(hint.load(Ordering::Relaxed), 0, "a cleared slot has no table");
    }
}
