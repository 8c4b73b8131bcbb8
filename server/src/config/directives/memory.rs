//! Memory directives: the `maxmemory` limit and eviction policy, LFU counters, lazy freeing and
//! active defragmentation.

use super::checks;
use super::row::{field, int, one_of, umem, yes, Directive, INT_MAX, LONG_MAX, MUTABLE, ULLONG_MAX};

type D = Directive;

const MAXMEMORY_POLICY: &[(&str, u32)] = &[
    ("volatile-lru", 1),
    ("volatile-lfu", 2),
    ("volatile-random", 3),
    ("volatile-ttl", 4),
    ("allkeys-lru", 5),
    ("allkeys-lfu", 6),
    ("allkeys-random", 7),
    ("noeviction", 0),
];

pub static ROWS: &[Directive] = &[
    D::new("maxmemory", MUTABLE, umem(0, ULLONG_MAX, 0)).field(field!(maxmemory)),
    D::new("maxmemory-policy", MUTABLE, one_of(MAXMEMORY_POLICY, 0)).field(field!(maxmemory_policy)),
    D::new("maxmemory-samples", MUTABLE, int(1, INT_MAX, 5)).field(field!(maxmemory_samples)),
    D::new("maxmemory-eviction-tenacity", MUTABLE, int(0, 100, 10)),
    D::new("lfu-log-factor", MUTABLE, int(0, INT_MAX, 10)).field(field!(lfu_log_factor)),
    D::new("lfu-decay-time", MUTABLE, int(0, INT_MAX, 1)).field(field!(lfu_decay_time)),
    D::new("active-expire-effort", MUTABLE, int(1, 10, 1)),
    // Lazy freeing (slotbox frees in place).
    D::new("lazyfree-lazy-eviction", MUTABLE, yes(false)),
    D::new("lazyfree-lazy-expire", MUTABLE, yes(false)),
    D::new("lazyfree-lazy-server-del", MUTABLE, yes(false)),
    D::new("lazyfree-lazy-user-del", MUTABLE, yes(false)),
    D::new("lazyfree-lazy-user-flush", MUTABLE, yes(false)),
    // Allocator and active defragmentation.
    D::new("jemalloc-bg-thread", MUTABLE, yes(true)),
    D::new("activedefrag", MUTABLE, yes(false)).check(checks::activedefrag),
    D::new("active-defrag-ignore-bytes", MUTABLE, umem(1, LONG_MAX, 100 << 20)),
    D::new("active-defrag-threshold-lower", MUTABLE, int(0, 1000, 10)),
    D::new("active-defrag-threshold-upper", MUTABLE, int(0, 1000, 100)),
    D::new("active-defrag-cycle-min", MUTABLE, int(1, 99, 1)),
    D::new("active-defrag-cycle-max", MUTABLE, int(1, 99, 25)),
    D::new("active-defrag-max-scan-fields", MUTABLE, int(1, LONG_MAX, 1000)),
];
