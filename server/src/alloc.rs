//! [`CountingAlloc`]: a global allocator wrapping [`std::alloc::System`] that counts the bytes
//! the process has allocated, for INFO's `used_memory` (Redis reads the same number from its
//! allocator). The binary installs it with
//! `#[global_allocator] static A: slotbox_server::alloc::CountingAlloc = CountingAlloc;`.
//!
//! Counting must stay cheap on every allocation from every thread: each thread adds to one of
//! [`STRIPES`] cache-line-padded counters (picked once per thread, round-robin), and
//! [`allocated`] sums them. The allocator itself never allocates, locks or panics.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

/// Number of counters; threads beyond this share them (still correct, just more contention).
const STRIPES: usize = 32;

/// One counter on its own cache line (two lines: adjacent-line prefetch), so threads don't
/// false-share.
#[repr(align(128))]
struct Stripe(AtomicIsize);

static COUNTERS: [Stripe; STRIPES] = [const { Stripe(AtomicIsize::new(0)) }; STRIPES];
static NEXT_STRIPE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's stripe, `usize::MAX` until first use. Const-initialized and without a
    /// destructor, so reading it never allocates and works during thread teardown.
    static STRIPE: Cell<usize> = const { Cell::new(usize::MAX) };
}

fn stripe() -> &'static AtomicIsize {
    let idx = STRIPE
        .try_with(|s| {
            let mut i = s.get();
            if i == usize::MAX {
                i = NEXT_STRIPE.fetch_add(1, Ordering::Relaxed) % STRIPES;
                s.set(i);
            }
            i
        })
        .unwrap_or(0);
    &COUNTERS[idx].0
}

fn add(bytes: usize) {
    stripe().fetch_add(bytes as isize, Ordering::Relaxed);
}

fn sub(bytes: usize) {
    stripe().fetch_sub(bytes as isize, Ordering::Relaxed);
}

/// The counting allocator (a unit struct: all state is in statics).
pub struct CountingAlloc;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so each
// upholds `GlobalAlloc`'s contract exactly as `System` does; the only extra work is relaxed
// atomic arithmetic on statics and a const thread-local `Cell`, which neither allocates
// (no re-entrancy into the allocator) nor unwinds. Counts are adjusted only when the
// underlying call succeeded. `tests::counts_allocations` checks the bookkeeping.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            add(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            add(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        sub(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            if new_size >= layout.size() {
                add(new_size - layout.size());
            } else {
                sub(layout.size() - new_size);
            }
        }
        p
    }
}

/// Bytes currently allocated through [`CountingAlloc`]; 0 when it is not the global allocator.
pub fn allocated() -> usize {
    let total: isize = COUNTERS.iter().map(|s| s.0.load(Ordering::Relaxed)).sum();
    total.max(0) as usize
}

/// True once anything was allocated through [`CountingAlloc`] (i.e. it is installed).
pub fn is_installed() -> bool {
    allocated() > 0
}

/// Record `used` as a peak candidate and return the highest value seen (`used_memory_peak`).
pub fn note_peak(used: usize) -> usize {
    PEAK.fetch_max(used, Ordering::Relaxed).max(used)
}

// The unit-test binary of this crate runs with the counting allocator, so its bookkeeping
// is tested for real.
#[cfg(test)]
#[global_allocator]
static TEST_ALLOC: CountingAlloc = CountingAlloc;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// The big-allocation tests must not overlap each other.
    static SERIAL: Mutex<()> = Mutex::new(());

    const BIG: usize = 256 << 20;
    /// Other tests allocate concurrently; they move the total by far less than this.
    const SLACK: usize = 64 << 20;

    #[test]
    fn counts_allocations() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        assert!(is_installed());
        let before = allocated();
        let mut v: Vec<u8> = Vec::with_capacity(BIG);
        v.push(1);
        let during = allocated();
        assert!(during + SLACK >= before + BIG, "before {before} during {during}");
        v.shrink_to(BIG / 2);
        let shrunk = allocated();
        assert!(shrunk + BIG / 2 <= during + SLACK, "during {during} shrunk {shrunk}");
        drop(v);
        let after = allocated();
        assert!(after <= before + SLACK, "before {before} after {after}");
    }

    #[test]
    fn counts_frees_from_other_threads() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let before = allocated();
        let v: Vec<u8> = Vec::with_capacity(BIG);
        std::thread::spawn(move || drop(v)).join().unwrap();
        assert!(allocated() <= before + SLACK);
    }

    #[test]
    fn peak_is_monotonic() {
        let p = note_peak(allocated());
        assert!(note_peak(1) >= p);
    }
}
