//! Redis's `rand48` generator behind a script's `math.random`: the same sequence on every
//! platform, starting from the same state at server start and reseeded by `math.randomseed`.

use std::sync::atomic::{AtomicU64, Ordering};

const MASK: u64 = (1 << 48) - 1;
const A: u64 = 0x5_DEEC_E66D;
const C: u64 = 0xB;
/// `RAND48_MAX` of Redis (`INT32_MAX`).
const MAX: i64 = i32::MAX as i64;

/// The generator's 48-bit state (scripts run one at a time; the atomic only makes it `Sync`).
pub struct Rand48(AtomicU64);

impl Default for Rand48 {
    fn default() -> Self {
        Rand48(AtomicU64::new(0x1234_ABCD_330E))
    }
}

impl Rand48 {
    /// `redisLrand48`: the next 31-bit value.
    pub fn next_i32(&self) -> i64 {
        let x = (self.0.load(Ordering::Relaxed).wrapping_mul(A).wrapping_add(C)) & MASK;
        self.0.store(x, Ordering::Relaxed);
        (x >> 17) as i64
    }

    /// What `math.random()` returns: in [0, 1).
    pub fn next_f64(&self) -> f64 {
        (self.next_i32() % MAX) as f64 / MAX as f64
    }

    /// `redisSrand48`.
    pub fn seed(&self, seed: i32) {
        self.0.store(((seed as u32 as u64) << 16) | 0x330E, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_lrand48() {
        // glibc: srand48(0); lrand48() x3
        let r = Rand48::default();
        r.seed(0);
        assert_eq!([r.next_i32(), r.next_i32(), r.next_i32()], [366850414, 1610402240, 206956554]);
    }
}
