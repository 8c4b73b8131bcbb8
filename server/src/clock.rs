//! Wall-clock time for the whole server: milliseconds and microseconds since the Unix epoch.
//! A leaf: uses nothing of the crate.

use std::time::{SystemTime, UNIX_EPOCH};

/// Wall-clock time in milliseconds since the Unix epoch.
pub fn unix_time_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Wall-clock time in microseconds since the Unix epoch.
pub fn unix_time_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// A batch's clock: one real reading, then the time-stamp counter's ticks since it. A
/// pipelined batch times each command (INFO commandstats, the slow log, latency) and every
/// command starts where the previous one ended, so the real clock is read once per batch, and
/// each command's end costs one counter read instead of a clock call (a third of its price
/// on a virtual machine). Where the counter is not invariant, or until its rate is known, each
/// reading is the real clock's.
#[derive(Clone, Copy, Default)]
pub struct BatchClock {
    /// Unix µs of the real reading (0: none yet).
    base_us: i64,
    base_ticks: u64,
    /// When the batch's previous command ended (0: none yet).
    last_end_us: i64,
}

impl BatchClock {
    /// Unix µs at which a command starts: when the previous one of the batch ended.
    pub fn command_start(&mut self) -> i64 {
        match self.last_end_us {
            0 => self.now_us(),
            t => t,
        }
    }

    /// Unix µs at which a command ends (and the next one starts).
    pub fn command_end(&mut self) -> i64 {
        self.last_end_us = self.now_us();
        self.last_end_us
    }

    /// Unix µs now, starting the batch's clock when it has not started.
    pub fn now_us(&mut self) -> i64 {
        if self.base_us == 0 {
            let ticks = tsc::read();
            let us = unix_time_us();
            tsc::calibrate(us, ticks);
            self.base_us = us;
            self.base_ticks = ticks;
            return us;
        }
        match tsc::micros(tsc::read().wrapping_sub(self.base_ticks)) {
            Some(elapsed) => self.base_us + elapsed,
            None => unix_time_us(),
        }
    }

    /// This clock for commands run from inside the current one (a script's): same readings,
    /// no previous command.
    pub fn nested(&self) -> BatchClock {
        BatchClock { last_end_us: 0, ..*self }
    }

    /// A new batch: the next reading is the real clock's.
    pub fn reset(&mut self) {
        *self = BatchClock::default();
    }
}

/// The time-stamp counter and its rate, learned by comparing it with the real clock.
mod tsc {
    use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

    /// µs per tick, times 2^32 (0: not known yet, or no invariant counter).
    static RATE: AtomicU64 = AtomicU64::new(0);
    /// The first real reading and its ticks, the calibration's start.
    static FIRST_US: AtomicI64 = AtomicI64::new(0);
    static FIRST_TICKS: AtomicU64 = AtomicU64::new(0);
    /// Real time between the two readings the rate comes from.
    const SPAN_US: i64 = 200_000;
    /// The longest calibration span in ticks (minutes at any rate a counter runs at).
    const MAX_TICKS: u64 = 1 << 40;
    /// A batch longer than this many ticks (a second or more) reads the real clock; below it,
    /// ticks times the rate (at most 2^32) fits in 64 bits.
    const MAX_BATCH_TICKS: u64 = 1 << 32;

    #[cfg(target_arch = "x86_64")]
    pub fn read() -> u64 {
        // SAFETY: RDTSC is available on every x86_64 processor.
        unsafe { core::arch::x86_64::_rdtsc() }
    }

    #[cfg(not(target_arch = "x86_64"))]
    pub fn read() -> u64 {
        0
    }

    /// Does the counter tick at a constant rate in every power state (CPUID 8000_0007h,
    /// EDX bit 8)?
    #[cfg(target_arch = "x86_64")]
    fn invariant() -> bool {
        use std::sync::OnceLock;
        static INVARIANT: OnceLock<bool> = OnceLock::new();
        *INVARIANT.get_or_init(|| {
            // CPUID is available on every x86_64 processor; the extended leaf is read only
            // when the processor reports it.
            let max = core::arch::x86_64::__cpuid(0x8000_0000).eax;
            max >= 0x8000_0007 && core::arch::x86_64::__cpuid(0x8000_0007).edx & (1 << 8) != 0
        })
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn invariant() -> bool {
        false
    }

    /// A real reading `us` taken with the counter at `ticks`: the first one starts the
    /// calibration, one at least `SPAN_US` later sets the rate.
    pub fn calibrate(us: i64, ticks: u64) {
        if RATE.load(Ordering::Relaxed) != 0 || !invariant() {
            return;
        }
        let first = FIRST_US.load(Ordering::Acquire);
        if first == 0 {
            FIRST_TICKS.store(ticks, Ordering::Relaxed);
            let _ = FIRST_US.compare_exchange(0, us, Ordering::Release, Ordering::Relaxed);
            return;
        }
        let span = us - first;
        if span < SPAN_US {
            // Also a clock stepped backwards: wait for a later reading.
            return;
        }
        let ticks_span = ticks.wrapping_sub(FIRST_TICKS.load(Ordering::Relaxed));
        // At least 1 MHz (below that it cannot time µs), and the span must not have wrapped.
        if ticks_span >= span as u64 && ticks_span < MAX_TICKS {
            let rate = ((span as u128) << 32) / ticks_span as u128;
            RATE.store(rate as u64, Ordering::Relaxed);
        } else {
            // Not a counter that can time µs: start over.
            FIRST_US.store(0, Ordering::Relaxed);
        }
    }

    /// `ticks` as µs, when the rate is known and the span is sane.
    pub fn micros(ticks: u64) -> Option<i64> {
        let rate = RATE.load(Ordering::Relaxed);
        if rate == 0 {
            return None;
        }
        (ticks < MAX_BATCH_TICKS).then(|| ((ticks * rate) >> 32) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_clock_follows_the_real_clock() {
        let mut c = BatchClock::default();
        let start = c.now_us();
        // Long enough for the counter's rate to be learned (or the real clock to be used).
        std::thread::sleep(std::time::Duration::from_millis(250));
        c.reset();
        let _ = c.now_us();
        let first = c.command_start();
        std::thread::sleep(std::time::Duration::from_millis(30));
        let end = c.command_end();
        assert_eq!(c.command_start(), end, "the next command starts where the last ended");
        let real = unix_time_us();
        assert!((real - end).abs() < 5_000, "batch clock {end} vs real {real}");
        assert!(end - first >= 30_000, "{} µs for 30 ms of sleep", end - first);
        assert!(end - start >= 280_000, "{} µs for 280 ms of sleep", end - start);
    }
}
