//! slotbox's fuzz targets: one module per decoder, each with a `run(data)` that feeds the
//! bytes to the decoder exactly as the server, proxy or tool would, and checks the invariants
//! that are cheap to check (round trips, incremental == whole, a fixed-up file reloads clean).
//! `fuzz_targets/*.rs` wrap each `run` for libFuzzer; `examples/gen_corpus.rs` writes the
//! checked-in seed corpus with the code's own encoders; `run.sh` (`make fuzz`) builds and runs
//! them all. A panic, a hang or an allocation larger than [`MAX_ALLOC`] is a finding.
//!
//! This crate is its own workspace (built with coverage instrumentation into `fuzz/target`);
//! nothing in the server, proxy or tools depends on it.

pub mod aof;
pub mod cluster_bus;
pub mod nutcracker_yml;
pub mod resp_reply;
pub mod resp_request;
pub mod restore;
pub mod server_config;
pub mod snapshot;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;

/// Largest single allocation a decoder may make while fuzzing. Inputs are a few KiB, so
/// anything this big was sized from a declared length instead of the bytes actually present.
pub const MAX_ALLOC: usize = 64 << 20;

/// The system allocator, aborting (a libFuzzer crash, with the input saved) on any single
/// allocation above [`MAX_ALLOC`]. libFuzzer's own `-malloc_limit_mb` needs a sanitizer
/// runtime, which stable Rust cannot link.
pub struct CappedAlloc;

fn check(size: usize) {
    if size > MAX_ALLOC {
        // No formatting: nothing here may allocate.
        let _ = std::io::stderr().write_all(b"==slotbox-fuzz== allocation above MAX_ALLOC (64 MiB)\n");
        std::process::abort();
    }
}

// SAFETY: every method checks the size (which neither allocates nor unwinds) and then
// forwards unchanged to `System`, so `System`'s guarantees hold. The test below allocates,
// grows, zero-allocates and frees through it (`cargo test --lib` in fuzz/).
unsafe impl GlobalAlloc for CappedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        check(new_size);
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOC: CappedAlloc = CappedAlloc;

/// Split `data` into a control byte and the rest (targets use it to pick modes).
pub fn control(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((&c, rest)) => (c, rest),
        None => (0, data),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn allocations_under_the_cap_go_through() {
        let n = 1 << 20;
        let mut v: Vec<u64> = Vec::with_capacity(n);
        v.extend(0..n as u64);
        v.resize(2 * n, 7);
        assert_eq!((v[n - 1], v[2 * n - 1], v.len()), (n as u64 - 1, 7, 2 * n));
        let z = vec![0u8; 8 << 20];
        assert!(z.iter().all(|&b| b == 0));
        assert_eq!(super::control(&[9, 1, 2]), (9, &[1u8, 2][..]));
    }
}
