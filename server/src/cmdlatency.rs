//! Per-command latency distributions (INFO latencystats, `latency-tracking`): for each
//! command id a log-linear histogram of run times in microseconds (exact below 16 µs, then
//! 16 buckets per power of two: within 6.25 %), from which the percentiles of
//! `latency-tracking-info-percentiles` are read as Redis's HDR histograms report them (the
//! highest value of the bucket holding the rank). Histograms are allocated on a command's
//! first call, in a few stripes so event loops rarely share a cache line. Bookkeeping only.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;

const SUB: u64 = 16;
/// Exact buckets 0..16, then 16 per power of two from 2^4 to 2^39 µs (about 6 days).
const BUCKETS: usize = 16 + 36 * 16;
const STRIPES: usize = 4;
const MAX_COMMANDS: usize = crate::cmdstats::MAX_COMMANDS;

type Histogram = [AtomicU64; BUCKETS];

/// The histograms of every command.
pub struct CommandLatency {
    /// `latency-tracking` (kept here so recording reads no config).
    pub enabled: AtomicBool,
    cells: Box<[OnceLock<Box<[Histogram; STRIPES]>>]>,
}

impl Default for CommandLatency {
    fn default() -> Self {
        CommandLatency { enabled: AtomicBool::new(true), cells: (0..MAX_COMMANDS).map(|_| OnceLock::new()).collect() }
    }
}

fn bucket(us: u64) -> usize {
    if us < SUB {
        return us as usize;
    }
    let k = 63 - us.leading_zeros() as u64;
    let mantissa = (us >> (k - 4)) - SUB;
    ((SUB + (k - 4) * SUB + mantissa) as usize).min(BUCKETS - 1)
}

/// The highest value that falls in bucket `i`.
fn highest(i: usize) -> u64 {
    let i = i as u64;
    if i < SUB {
        return i;
    }
    let (k, mantissa) = (4 + (i - SUB) / SUB, (i - SUB) % SUB);
    ((SUB + mantissa) << (k - 4)) + (1 << (k - 4)) - 1
}

impl CommandLatency {
    /// Command `id` ran for `usec` microseconds.
    #[inline]
    pub fn record(&self, id: u16, usec: u64) {
        if !self.enabled.load(Ordering::Relaxed) {
            return;
        }
        let Some(cell) = self.cells.get(id as usize) else { return };
        let h = cell.get_or_init(|| Box::new(std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0)))));
        h[crate::stats::stripe() % STRIPES][bucket(usec)].fetch_add(1, Ordering::Relaxed);
    }

    /// For each command id with calls, the value (µs) at each percentile of `percentiles`.
    pub fn percentiles(&self, percentiles: &[f64]) -> Vec<(u16, Vec<u64>)> {
        let mut out = Vec::new();
        for (id, cell) in self.cells.iter().enumerate() {
            let Some(h) = cell.get() else { continue };
            let counts: Vec<u64> = (0..BUCKETS).map(|b| h.iter().map(|s| s[b].load(Ordering::Relaxed)).sum()).collect();
            let total: u64 = counts.iter().sum();
            if total == 0 {
                continue;
            }
            out.push((id as u16, percentiles.iter().map(|&p| value_at(&counts, total, p)).collect()));
        }
        out
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        for h in self.cells.iter().filter_map(OnceLock::get) {
            h.iter().flatten().for_each(|c| c.store(0, Ordering::Relaxed));
        }
    }
}

/// The value at percentile `p` (0..=100) of a histogram of `total` counts.
fn value_at(counts: &[u64], total: u64, p: f64) -> u64 {
    let rank = ((p.clamp(0.0, 100.0) / 100.0 * total as f64).ceil() as u64).max(1);
    let mut seen = 0;
    for (i, &c) in counts.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return highest(i);
        }
    }
    highest(BUCKETS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_values_within_a_sixteenth() {
        for us in [0u64, 1, 15, 16, 17, 31, 32, 100, 1000, 123_456, 1 << 38] {
            let b = bucket(us);
            assert!(highest(b) >= us, "{us}: bucket {b} tops at {}", highest(b));
            assert!(highest(b) - us <= us / 16, "{us}: {} too coarse", highest(b));
            assert!(b == 0 || highest(b - 1) < us, "{us}: not the first bucket that holds it");
        }
    }

    #[test]
    fn percentiles_of_recorded_calls() {
        let l = CommandLatency::default();
        for us in 1..=100 {
            l.record(7, us);
        }
        let p = l.percentiles(&[50.0, 99.0, 100.0]);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].0, 7);
        // 50th of 1..=100 is 50 (bucket 48..=51), 99th is 99 (96..=99), the max 100 (100..=103).
        assert_eq!(p[0].1, vec![51, 99, 103]);
        l.enabled.store(false, Ordering::Relaxed);
        l.record(8, 5);
        assert_eq!(l.percentiles(&[50.0]).len(), 1, "not recorded while latency-tracking is off");
        l.reset();
        assert!(l.percentiles(&[50.0]).is_empty());
    }
}
