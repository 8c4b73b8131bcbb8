//! Balancing clients between event loops by load, for the server's event loops and the
//! proxy's workers alike (the policy only: the caller moves the clients).
//!
//! Spreading clients over every worker suits a busy process but costs wake-ups when it is not:
//! every worker sleeps and wakes for a share of the requests, and on a machine shared with
//! clients and backends each sleeping worker is another thread the scheduler has to fit in.
//! So every worker measures how busy it is (its thread's CPU time per [`WINDOW`] of wall
//! time: wall time between polls would count the time the thread waited for a core) and
//! publishes it; the acceptor gives a new client to the first worker with room ([`place`]);
//! then
//! - consolidate: when a worker and a lower-numbered one would together stay under
//!   [`CONSOLIDATE_UNDER`] for two windows in a row, its clients move there (one worker
//!   carries a light load);
//! - spread: when a worker is over [`SPREAD_OVER`] and another is under [`SPREAD_TO_UNDER`],
//!   half of its clients move to the idler one (a heavy load uses every core) — if the
//!   machine has a core's share to give it: at least [`SPARE_TO_SPREAD`] of idle CPU time
//!   over the window (`/proc/stat`). On a machine whose other cores are busy (with the
//!   clients themselves, as a load generator beside the server), a second busy worker only
//!   takes turns with them, and every request waits for the scheduler's time slices.
//!
//! A client moves only between requests (nothing in flight, nothing unsent, no transaction,
//! subscription or blocking command), with its buffers and session, so the move is invisible
//! to it. Decisions are at least [`COOLDOWN`] apart per worker.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_millis(200);
const COOLDOWN: Duration = Duration::from_secs(1);
/// Loads are in per-mille of one core's time.
const CONSOLIDATE_UNDER: u32 = 850;
const SPREAD_OVER: u32 = 950;
const SPREAD_TO_UNDER: u32 = 400;
/// Idle CPU time of the whole machine, per-mille of one core, below which a worker does not
/// spread (there is no core for another busy worker).
const SPARE_TO_SPREAD: u32 = 300;

pub struct Balance {
    pub index: usize,
    /// Each worker's load over its last window (one entry per worker).
    pub loads: Arc<Vec<AtomicU32>>,
    /// This thread's CPU time at the start of the window.
    cpu_start: Duration,
    window_start: Instant,
    /// Moving idle clients to this worker: (worker, clients left to move, until).
    moving: Option<(usize, usize, Instant)>,
    next_decision: Instant,
    /// Windows in a row that called for consolidating (a load that just started is not
    /// judged on one window that was mostly idle).
    light_windows: u32,
    /// The machine's idle CPU time (in clock ticks of all cores) at the start of the window.
    idle_start: Option<u64>,
}

impl Balance {
    pub fn new(index: usize, loads: Arc<Vec<AtomicU32>>) -> Balance {
        let now = Instant::now();
        let idle_start = if loads.len() > 1 { idle_ticks() } else { None };
        Balance {
            index,
            loads,
            cpu_start: Duration::ZERO,
            window_start: now,
            moving: None,
            next_decision: now,
            light_windows: 0,
            idle_start,
        }
    }

    /// At the end of each window: publish this worker's load and decide whether its
    /// clients (`clients` of them) should move.
    pub fn tick(&mut self, now: Instant, clients: usize) {
        let elapsed = now.duration_since(self.window_start);
        if elapsed < WINDOW {
            return;
        }
        let cpu = thread_cpu_time();
        let busy = cpu.saturating_sub(self.cpu_start);
        let load = (busy.as_micros() * 1000 / elapsed.as_micros().max(1)).min(1000) as u32;
        self.loads[self.index].store(load, Ordering::Relaxed);
        // The machine's idle time matters only where there is another worker to spread to.
        let idle = if self.loads.len() > 1 { idle_ticks() } else { None };
        let spare = match (self.idle_start, idle) {
            (Some(a), Some(b)) => spare_permille(b.saturating_sub(a), elapsed),
            _ => u32::MAX,
        };
        self.idle_start = idle;
        self.cpu_start = cpu;
        self.window_start = now;
        if self.moving.is_some_and(|(_, left, until)| left == 0 || now >= until) {
            self.moving = None;
        }
        if self.loads.len() < 2 || clients == 0 || now < self.next_decision || self.moving.is_some() {
            return;
        }
        let loads: Vec<u32> = self.loads.iter().map(|l| l.load(Ordering::Relaxed)).collect();
        let Some((to, n)) = decide(self.index, &loads, clients, spare) else {
            self.light_windows = 0;
            return;
        };
        if to < self.index && n == clients {
            self.light_windows += 1;
            if self.light_windows < 2 {
                return;
            }
        }
        self.light_windows = 0;
        self.moving = Some((to, n, now + COOLDOWN));
        self.next_decision = now + COOLDOWN * 2;
    }

    /// Where an idle client should go now, if anywhere (counts it as moved).
    pub fn destination(&mut self) -> Option<usize> {
        let (to, left, _) = self.moving.as_mut()?;
        if *left == 0 {
            return None;
        }
        *left -= 1;
        Some(*to)
    }
}

/// CPU time used by the calling thread.
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime only writes the timespec it is given, which is a valid, owned,
    // properly aligned local; CLOCK_THREAD_CPUTIME_ID is supported by every Linux kernel we
    // run on, and on failure (non-zero return) `ts` is left zeroed and we report zero.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The machine's idle CPU time so far, in clock ticks summed over its cores (`/proc/stat`'s
/// idle and iowait columns); None where there is no such file.
fn idle_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu = stat.lines().next()?.strip_prefix("cpu ")?;
    let cols: Vec<u64> = cpu.split_whitespace().take(5).map(|c| c.parse().ok()).collect::<Option<_>>()?;
    Some(cols.get(3)? + cols.get(4)?)
}

/// `ticks` of idle time over `elapsed`, in per-mille of one core.
fn spare_permille(ticks: u64, elapsed: Duration) -> u32 {
    // SAFETY: sysconf only reads a system constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u128;
    (ticks as u128 * 1_000_000_000 / (hz * elapsed.as_micros().max(1))).min(u32::MAX as u128) as u32
}

/// The worker a new client goes to, given every worker's load: the lowest-numbered one that
/// is not busy (where consolidating would gather it anyway), else the least busy. A burst
/// of connections all lands on one worker until its next window shows the load; spreading
/// then shares them out.
pub fn place(loads: &[AtomicU32]) -> usize {
    let loads: Vec<u32> = loads.iter().map(|l| l.load(Ordering::Relaxed)).collect();
    place_by(&loads)
}

fn place_by(loads: &[u32]) -> usize {
    if let Some(w) = loads.iter().position(|&l| l < CONSOLIDATE_UNDER) {
        return w;
    }
    loads.iter().enumerate().min_by_key(|&(_, l)| *l).map_or(0, |(w, _)| w)
}

/// The move worker `me` (with `clients` clients) should make given every worker's load and
/// the machine's `spare` CPU time (per-mille of one core): (destination, how many clients).
fn decide(me: usize, loads: &[u32], clients: usize, spare: u32) -> Option<(usize, usize)> {
    let mine = loads[me];
    // Consolidate into the lowest-numbered worker that can take the load.
    if let Some(to) = (0..me).find(|&w| loads[w] + mine < CONSOLIDATE_UNDER) {
        return Some((to, clients));
    }
    if mine > SPREAD_OVER && clients >= 2 && spare >= SPARE_TO_SPREAD {
        let (to, &least) = loads.iter().enumerate().filter(|&(w, _)| w != me).min_by_key(|&(_, l)| *l)?;
        if least < SPREAD_TO_UNDER {
            return Some((to, clients / 2));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{decide, idle_ticks, place_by, spare_permille, thread_cpu_time};

    #[test]
    fn thread_cpu_time_counts_this_threads_work_only() {
        let before = thread_cpu_time();
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_millis(30) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        assert!(thread_cpu_time() > before, "a busy loop must show as CPU time");
        let idle = thread_cpu_time();
        std::thread::sleep(std::time::Duration::from_millis(30));
        assert!(thread_cpu_time() - idle < std::time::Duration::from_millis(20), "sleeping is not CPU time");
    }

    #[test]
    fn light_loads_gather_on_the_first_worker() {
        assert_eq!(decide(1, &[300, 250], 25, 1000), Some((0, 25)));
        assert_eq!(decide(0, &[300, 250], 25, 1000), None, "worker 0 is where others gather");
        assert_eq!(decide(2, &[700, 100, 200], 10, 1000), Some((1, 10)), "first worker that can take it");
        assert_eq!(decide(1, &[500, 400], 25, 1000), None, "together they would be too busy");
        assert_eq!(decide(1, &[300, 250], 25, 0), Some((0, 25)), "gathering needs no spare core");
    }

    #[test]
    fn new_clients_go_to_the_first_worker_with_room() {
        assert_eq!(place_by(&[0, 0]), 0, "an idle proxy gathers on worker 0");
        assert_eq!(place_by(&[600, 0, 0]), 0);
        assert_eq!(place_by(&[900, 700, 0]), 1, "worker 0 busy: the next one with room");
        assert_eq!(place_by(&[990, 900, 870]), 2, "all busy: the least busy");
        assert_eq!(place_by(&[0]), 0);
    }

    #[test]
    fn a_saturated_worker_hands_half_to_an_idle_one() {
        assert_eq!(decide(0, &[980, 0], 50, 1000), Some((1, 25)));
        assert_eq!(decide(0, &[980, 600], 50, 1000), None, "nobody idle enough");
        assert_eq!(decide(0, &[980, 0], 1, 1000), None, "one client cannot be split");
        assert_eq!(decide(1, &[100, 980], 40, 1000), Some((0, 20)), "spreading goes to any worker");
    }

    #[test]
    fn a_saturated_worker_keeps_its_clients_when_no_core_is_spare() {
        assert_eq!(decide(0, &[980, 0], 50, 50), None, "the other cores are busy (the clients)");
        assert_eq!(decide(0, &[980, 0], 50, 300), Some((1, 25)));
    }

    #[test]
    fn idle_time_is_read_and_scaled_to_one_core() {
        let a = idle_ticks().expect("/proc/stat on Linux");
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(idle_ticks().unwrap() >= a, "idle time only grows");
        // SAFETY: sysconf only reads a system constant.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
        assert_eq!(spare_permille(hz / 5, std::time::Duration::from_millis(200)), 1000, "a whole core idle");
        assert_eq!(spare_permille(hz / 10, std::time::Duration::from_millis(200)), 500);
        assert_eq!(spare_permille(0, std::time::Duration::from_millis(200)), 0);
    }
}
