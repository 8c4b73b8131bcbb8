//! Which scripts may run in place on an event loop.
//!
//! A script from an event loop's client normally runs on the script thread, its client waiting
//! like a blocked one, so that the event loop keeps answering its other clients (-BUSY past
//! `busy-reply-threshold`, SCRIPT KILL) however long the script runs. That hand-off costs two
//! thread wake-ups per call, which is most of a short script's time. So a script that has run
//! and whose last run was short ([`INLINE_MAX`]) runs in place, under the whole exec gate, like
//! a slow command; the first run of every script, the run after a slow one, and every run of
//! a script slow on more than one run in [`SLOW_SHARE`] go to the script thread. A function is known by its name, and forgotten when
//! the libraries change (`store::functions::FunctionCodes::version`).

use bytes::Bytes;
use hashbrown::HashMap;
use parking_lot::Mutex;
use std::time::Duration;

/// The longest run (wall time) that keeps a script in place: the next run goes to the script
/// thread. Well under any `busy-reply-threshold` a user sets.
pub const INLINE_MAX: Duration = Duration::from_millis(1);

/// A script slow on more than one run in this many never runs in place (one that is slow
/// now and then, on its data, is not worth stalling an event loop for).
const SLOW_SHARE: u32 = 64;

/// What the runs of one script showed.
#[derive(Clone, Copy, Default)]
struct Runs {
    /// The last run was short.
    last_short: bool,
    runs: u32,
    slow: u32,
}

impl Runs {
    fn inline(self) -> bool {
        self.last_short && self.slow.saturating_mul(SLOW_SHARE) <= self.runs
    }

    fn record(&mut self, took: Duration) {
        self.last_short = took <= INLINE_MAX;
        self.runs = self.runs.saturating_add(1);
        if !self.last_short {
            self.slow = self.slow.saturating_add(1);
        }
    }
}

/// Scripts known, bounded: past this many, the table starts over (everything runs on the
/// script thread once more before it runs in place again).
const MAX_KNOWN: usize = 16 * 1024;

#[derive(Default)]
pub struct Speed(Mutex<Known>);

#[derive(Default)]
struct Known {
    /// EVAL scripts by SHA1.
    eval: HashMap<[u8; 40], Runs>,
    /// Functions by name, for the libraries of `functions_version`.
    functions: HashMap<Bytes, Runs>,
    functions_version: u64,
}

impl Speed {
    /// May the EVAL script with this SHA1 run in place?
    pub fn eval_inline(&self, sha: &[u8; 40]) -> bool {
        self.0.lock().eval.get(sha).is_some_and(|r| r.inline())
    }

    /// May the function `name` of the libraries at `version` run in place?
    pub fn function_inline(&self, name: &[u8], version: u64) -> bool {
        let k = self.0.lock();
        k.functions_version == version && k.functions.get(name).is_some_and(|r| r.inline())
    }

    /// A run of the EVAL script `sha` took `took`.
    pub fn record_eval(&self, sha: &[u8], took: Duration) {
        let Ok(sha) = <[u8; 40]>::try_from(sha) else { return };
        let mut k = self.0.lock();
        if k.eval.len() >= MAX_KNOWN {
            k.eval.clear();
        }
        k.eval.entry(sha).or_default().record(took);
    }

    /// A run of the function `name` of the libraries at `version` took `took`.
    pub fn record_function(&self, name: &[u8], version: u64, took: Duration) {
        let mut k = self.0.lock();
        if k.functions_version != version || k.functions.len() >= MAX_KNOWN {
            k.functions.clear();
            k.functions_version = version;
        }
        match k.functions.get_mut(name) {
            Some(r) => r.record(took),
            None => k.functions.entry(Bytes::copy_from_slice(name)).or_default().record(took),
        }
    }

    /// SCRIPT FLUSH: every script is new again.
    pub fn forget_eval(&self) {
        self.0.lock().eval.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: [u8; 40] = [b'a'; 40];

    #[test]
    fn a_script_runs_in_place_only_after_short_runs_and_never_after_a_slow_one() {
        let s = Speed::default();
        assert!(!s.eval_inline(&SHA), "unknown scripts go to the script thread");
        s.record_eval(&SHA, Duration::from_micros(20));
        assert!(s.eval_inline(&SHA));
        for _ in 0..SLOW_SHARE {
            s.record_eval(&SHA, Duration::from_micros(20));
        }
        s.record_eval(&SHA, INLINE_MAX * 5);
        assert!(!s.eval_inline(&SHA), "the run after a slow one goes to the script thread");
        s.record_eval(&SHA, Duration::from_micros(20));
        assert!(s.eval_inline(&SHA), "a rare slow run (a collector step, a preemption) is forgiven");
        s.record_eval(&SHA, INLINE_MAX * 5);
        s.record_eval(&SHA, Duration::from_micros(20));
        assert!(!s.eval_inline(&SHA), "slow too often: always on the script thread");
        s.record_eval(&[b'b'; 40], Duration::ZERO);
        s.forget_eval();
        assert!(!s.eval_inline(&[b'b'; 40]));
    }

    #[test]
    fn functions_are_forgotten_when_the_libraries_change() {
        let s = Speed::default();
        s.record_function(b"f", 3, Duration::from_micros(5));
        assert!(s.function_inline(b"f", 3));
        assert!(!s.function_inline(b"f", 4), "a new library may hold a different f");
        assert!(!s.function_inline(b"F", 3));
    }
}
