//! A fixed-bucket latency histogram for backend round trips, recorded with relaxed atomics
//! on the request path and read by the metrics endpoint (Prometheus `_bucket` / `_sum` /
//! `_count`). No locks, no allocation after construction; it never formats anything.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the buckets, in microseconds (`+Inf` is implicit).
pub const BOUNDS_US: [u64; 15] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
    5_000_000,
];

/// Counts per bucket (not cumulative; the last one is `+Inf`), total time and count.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; BOUNDS_US.len() + 1],
    sum_us: AtomicU64,
}

impl Histogram {
    /// Record one round trip.
    pub fn observe(&self, d: Duration) {
        let us = d.as_micros().min(u64::MAX as u128) as u64;
        let i = BOUNDS_US.iter().position(|&b| us <= b).unwrap_or(BOUNDS_US.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    /// Cumulative counts, one per bound plus `+Inf` (Prometheus `le` semantics).
    pub fn cumulative(&self) -> Vec<u64> {
        let mut total = 0;
        self.buckets
            .iter()
            .map(|b| {
                total += b.load(Ordering::Relaxed);
                total
            })
            .collect()
    }

    /// Sum of all observations, in seconds.
    pub fn sum_seconds(&self) -> f64 {
        self.sum_us.load(Ordering::Relaxed) as f64 / 1e6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(50));
        h.observe(Duration::from_micros(100));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(60));
        let c = h.cumulative();
        assert_eq!(c.len(), BOUNDS_US.len() + 1);
        assert_eq!(c[0], 2, "<= 100us");
        assert_eq!(c[4], 2, "<= 2.5ms");
        assert_eq!(c[5], 3, "<= 5ms");
        assert_eq!(c[BOUNDS_US.len() - 1], 3);
        assert_eq!(*c.last().unwrap(), 4, "+Inf holds everything");
        assert!((h.sum_seconds() - 60.00315).abs() < 1e-9);
    }
}
