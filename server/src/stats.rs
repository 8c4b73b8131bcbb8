//! Server-wide counters (INFO stats) that many threads bump on every request. Each
//! [`Counter`] is striped over cache-padded atomics, one stripe per thread (round-robin), so
//! two event loops never fight over one cache line; reads add the stripes up.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

pub const STRIPES: usize = 16;

#[repr(align(128))]
#[derive(Default)]
struct Padded(AtomicU64);

static NEXT_STRIPE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static STRIPE: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// This thread's stripe index.
pub fn stripe() -> usize {
    STRIPE.with(|s| {
        let v = s.get();
        if v != usize::MAX {
            return v;
        }
        let n = NEXT_STRIPE.fetch_add(1, Ordering::Relaxed) % STRIPES;
        s.set(n);
        n
    })
}

/// A striped counter with the `AtomicU64` methods the call sites use.
#[derive(Default)]
pub struct Counter([Padded; STRIPES]);

impl Counter {
    #[inline]
    pub fn fetch_add(&self, n: u64, _order: Ordering) -> u64 {
        self.0[stripe()].0.fetch_add(n, Ordering::Relaxed)
    }

    pub fn load(&self, _order: Ordering) -> u64 {
        self.0.iter().map(|p| p.0.load(Ordering::Relaxed)).fold(0u64, |a, b| a.wrapping_add(b))
    }

    pub fn store(&self, v: u64, _order: Ordering) {
        for (i, p) in self.0.iter().enumerate() {
            p.0.store(if i == 0 { v } else { 0 }, Ordering::Relaxed);
        }
    }
}

/// Server-wide counters (INFO stats).
#[derive(Default)]
pub struct Stats {
    pub total_connections_received: Counter,
    pub rejected_connections: Counter,
    pub total_commands_processed: Counter,
    pub keyspace_hits: Counter,
    /// Keys dropped by `maxmemory` eviction.
    pub evicted_keys: Counter,
    /// Unix ms before which eviction does not search every slot again (it found nothing to
    /// evict; see `evict`).
    pub nothing_to_evict_until_ms: AtomicU64,
    pub keyspace_misses: Counter,
    pub net_input_bytes: Counter,
    pub net_output_bytes: Counter,
    /// Read events that brought bytes / flushes that wrote some (INFO
    /// `total_reads_processed` / `total_writes_processed`).
    pub reads_processed: Counter,
    pub writes_processed: Counter,
    pub total_error_replies: Counter,
    /// Connections moved to the event loop that owns their hot slot (`net::affinity`).
    pub hot_slot_client_moves: Counter,
    /// Connections moved between event loops by load (gathering or spreading).
    pub balance_client_moves: Counter,
    /// Full and partial resyncs served to replicas (INFO stats `sync_*`).
    pub sync_full: Counter,
    pub sync_partial_ok: Counter,
    pub sync_partial_err: Counter,
    /// Datasets replaced by a full sync from this node's master (the AOF starts over).
    pub full_sync_loads: AtomicU64,
    /// Commands per second, sampled by the cron.
    pub instantaneous_ops: AtomicU64,
}

impl Stats {
    pub fn reset(&self) {
        for c in [
            &self.total_connections_received,
            &self.rejected_connections,
            &self.total_commands_processed,
            &self.keyspace_hits,
            &self.keyspace_misses,
            &self.evicted_keys,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.reads_processed,
            &self.writes_processed,
            &self.total_error_replies,
            &self.hot_slot_client_moves,
            &self.balance_client_moves,
            &self.sync_full,
            &self.sync_partial_ok,
            &self.sync_partial_err,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_sums_stripes_across_threads() {
        let c = std::sync::Arc::new(Counter::default());
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        c.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        hs.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(c.load(Ordering::Relaxed), 4000);
        c.store(0, Ordering::Relaxed);
        assert_eq!(c.load(Ordering::Relaxed), 0);
    }
}
