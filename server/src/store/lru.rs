//! Each key's access clock (`Entry::lru`, 24 bits used), as Redis keeps it in its objects:
//! - LRU mode (the default): the Unix time of the last access in seconds, modulo 2^24; it
//!   gives OBJECT IDLETIME and the `*-lru` eviction policies.
//! - LFU mode (a `*-lfu` maxmemory policy): the minute of the last decrement (16 bits) and a
//!   logarithmic access counter (8 bits): OBJECT FREQ and the `*-lfu` policies. The counter
//!   grows with probability 1 / ((counter - 5) * lfu-log-factor + 1) per access and loses one
//!   per `lfu-decay-time` minutes without access.
//!
//! The mode and the LFU settings belong to one keyspace ([`AccessClock`], one per server);
//! the clock is the command's own time (`KeyView::now_ms`), or for keys created outside a
//! command the last second a command saw. A leaf of the store: it knows only the `u32` clock.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

const CLOCK_MAX: u32 = (1 << 24) - 1;
/// Counter of a new key (so it is not evicted before it had a chance to be used).
pub const LFU_INIT_VAL: u32 = 5;
/// The clock of an entry that has not been stored yet: it gets the keyspace's clock when it
/// is inserted (`KeyView::insert`, loading), so an entry built anywhere needs no clock.
pub const UNSET: u32 = u32::MAX;

/// One keyspace's access-clock settings and its notion of "now" for keys created outside a
/// command (each server has its own: two embedded servers may use different policies).
pub struct AccessClock {
    lfu: AtomicBool,
    log_factor: AtomicU32,
    decay_time: AtomicU32,
    /// Unix seconds as of the last command (for entries created without a clock at hand).
    now_secs: AtomicU32,
}

impl Default for AccessClock {
    fn default() -> Self {
        AccessClock {
            lfu: AtomicBool::new(false),
            log_factor: AtomicU32::new(10),
            decay_time: AtomicU32::new(1),
            now_secs: AtomicU32::new(0),
        }
    }
}

impl AccessClock {
    /// Apply `maxmemory-policy`, `lfu-log-factor` and `lfu-decay-time`.
    pub fn configure(&self, policy: &str, log_factor: u32, decay_time: u32) {
        self.lfu.store(policy.ends_with("-lfu"), Ordering::Relaxed);
        self.log_factor.store(log_factor, Ordering::Relaxed);
        self.decay_time.store(decay_time, Ordering::Relaxed);
    }

    pub fn lfu_mode(&self) -> bool {
        self.lfu.load(Ordering::Relaxed)
    }

    /// Note the time a command runs at (cheap: written once a second).
    #[inline]
    pub fn tick(&self, now_ms: i64) {
        let secs = (now_ms / 1000) as u32;
        if self.now_secs.load(Ordering::Relaxed) != secs {
            self.now_secs.store(secs, Ordering::Relaxed);
        }
    }

    /// The clock of a key created now: the last second a command saw (the wall clock before
    /// the first command, while data loads).
    pub fn initial(&self) -> u32 {
        let now_ms = match self.now_secs.load(Ordering::Relaxed) {
            0 => crate::clock::unix_time_ms(),
            secs => i64::from(secs) * 1000,
        };
        self.fresh(now_ms)
    }

    /// The clock of a key a command creates at `now_ms`.
    pub fn fresh(&self, now_ms: i64) -> u32 {
        if self.lfu_mode() {
            (minutes(now_ms) << 8) | LFU_INIT_VAL
        } else {
            lru_clock(now_ms)
        }
    }

    /// A command looked at the key whose clock is `lru`, at `now_ms`.
    #[inline]
    pub fn on_access(&self, lru: &mut u32, now_ms: i64) {
        *lru = if self.lfu_mode() {
            let counter = log_incr(self.decayed(*lru, now_ms), self.log_factor.load(Ordering::Relaxed));
            (minutes(now_ms) << 8) | counter
        } else {
            lru_clock(now_ms)
        };
    }

    /// The access counter after its decay (LFU mode): what OBJECT FREQ shows.
    pub fn decayed(&self, lru: u32, now_ms: i64) -> u32 {
        decayed(lru, now_ms, self.decay_time.load(Ordering::Relaxed))
    }
}

fn lru_clock(now_ms: i64) -> u32 {
    (now_ms / 1000) as u32 & CLOCK_MAX
}

fn minutes(now_ms: i64) -> u32 {
    (now_ms / 60_000) as u32 & 0xffff
}

/// Milliseconds since the last access (LRU mode), the clock wrapping every 194 days.
pub fn idle_ms(lru: u32, now_ms: i64) -> u64 {
    let now = lru_clock(now_ms);
    let secs = if now >= lru { now - lru } else { CLOCK_MAX - lru + now };
    u64::from(secs) * 1000
}

fn decayed(lru: u32, now_ms: i64, decay: u32) -> u32 {
    let (ldt, counter) = (lru >> 8, lru & 0xff);
    let now = minutes(now_ms);
    let elapsed = if now >= ldt { now - ldt } else { 65535 - ldt + now };
    let periods = elapsed.checked_div(decay).unwrap_or(0);
    counter.saturating_sub(periods)
}

fn log_incr(counter: u32, log_factor: u32) -> u32 {
    if counter >= 255 {
        return 255;
    }
    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
    let p = 1.0 / (base * f64::from(log_factor) + 1.0);
    if random_unit() < p {
        counter + 1
    } else {
        counter
    }
}

thread_local! {
    static RNG: Cell<u64> = const { Cell::new(0) };
}

/// A uniform number in [0, 1) from a per-thread xorshift generator.
fn random_unit() -> f64 {
    RNG.with(|r| {
        let mut x = r.get();
        if x == 0 {
            x = (r as *const _ as u64) | 1;
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        r.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_idle_time_and_lfu_counter() {
        let t0 = 1_795_933_000_000i64;
        let clock = AccessClock::default();
        let mut lru = lru_clock(t0);
        assert_eq!(idle_ms(lru, t0 + 5_500), 5_000);
        clock.on_access(&mut lru, t0 + 6_000);
        assert_eq!(idle_ms(lru, t0 + 6_000), 0);
        // Wrapped, counted as Redis does (from LRU_CLOCK_MAX, one second short).
        assert_eq!(idle_ms(CLOCK_MAX - 1, 1000 * i64::from(CLOCK_MAX + 3)), 3000);

        // LFU arithmetic.
        let lru = (minutes(t0) << 8) | 20;
        assert_eq!(clock.decayed(lru, t0), 20);
        assert_eq!(clock.decayed(lru, t0 + 3 * 60_000), 17, "one per idle minute");
        assert_eq!(clock.decayed(lru, t0 + 300 * 60_000), 0);
        // Redis's table for lfu-log-factor 10: 1000 hits give about 18, 100K about 142. The
        // increments are random: the median of 21 counters is what is checked.
        let median = |hits: usize| {
            let mut counts: Vec<u32> = (0..21).map(|_| (0..hits).fold(LFU_INIT_VAL, |c, _| log_incr(c, 10))).collect();
            counts.sort_unstable();
            counts[10]
        };
        let c = median(1000);
        assert!((12..26).contains(&c), "logarithmic growth: {c} after 1000 hits");
        let c = median(100_000);
        assert!((120..170).contains(&c), "logarithmic growth: {c} after 100k hits");
        assert_eq!(log_incr(255, 10), 255);
    }

    #[test]
    fn each_clock_has_its_own_settings() {
        let (a, b) = (AccessClock::default(), AccessClock::default());
        a.configure("allkeys-lfu", 1, 1);
        b.configure("allkeys-lru", 10, 1);
        assert!(a.lfu_mode() && !b.lfu_mode());
        assert_eq!(a.initial() & 0xff, LFU_INIT_VAL);
        let (mut hot_a, mut hot_b) = (a.initial(), a.initial());
        b.configure("allkeys-lfu", 100, 1);
        let now = crate::clock::unix_time_ms();
        for _ in 0..2000 {
            a.on_access(&mut hot_a, now);
            b.on_access(&mut hot_b, now);
        }
        assert!(a.decayed(hot_a, now) > b.decayed(hot_b, now) + 20, "log factor 1 grows faster than 100");
    }
}
