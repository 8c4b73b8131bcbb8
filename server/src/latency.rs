//! The latency monitor (LATENCY LATEST / HISTORY / RESET): per event class (`command`,
//! `fast-command`, `eviction-cycle`), the last 160 seconds that had a sample at or over
//! `latency-monitor-threshold` milliseconds, one sample per second (the worst), and the
//! worst ever. Off while the threshold is 0 (the default); samples are rare by definition,
//! so one lock is enough.

use hashbrown::HashMap;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Samples kept per event (Redis's LATENCY_TS_LEN).
const HISTORY: usize = 160;

#[derive(Default, Clone)]
pub struct Series {
    /// (unix seconds, milliseconds), oldest first.
    pub samples: Vec<(i64, u64)>,
    pub max: u64,
}

#[derive(Default)]
pub struct Latency {
    /// `latency-monitor-threshold` in ms (0: off).
    pub threshold_ms: AtomicU64,
    events: Mutex<HashMap<&'static str, Series>>,
}

impl Latency {
    /// Record `ms` for `event` at `now_secs` if the monitor is on and it reaches the
    /// threshold. A second sample in the same second keeps the worse one.
    #[inline]
    pub fn sample(&self, event: &'static str, ms: u64, now_secs: i64) {
        let threshold = self.threshold_ms.load(Ordering::Relaxed);
        if threshold == 0 || ms < threshold {
            return;
        }
        let mut events = self.events.lock();
        let s = events.entry(event).or_default();
        s.max = s.max.max(ms);
        match s.samples.last_mut() {
            Some(last) if last.0 == now_secs => last.1 = last.1.max(ms),
            _ => {
                if s.samples.len() == HISTORY {
                    s.samples.remove(0);
                }
                s.samples.push((now_secs, ms));
            }
        }
    }

    /// Every event's series, by name.
    pub fn all(&self) -> Vec<(&'static str, Series)> {
        let mut v: Vec<_> = self.events.lock().iter().map(|(k, s)| (*k, s.clone())).collect();
        v.sort_by_key(|(k, _)| *k);
        v
    }

    pub fn history(&self, event: &[u8]) -> Vec<(i64, u64)> {
        let events = self.events.lock();
        events.iter().find(|(k, _)| k.as_bytes() == event).map(|(_, s)| s.samples.clone()).unwrap_or_default()
    }

    /// Drop the named series (all of them for none); how many existed.
    pub fn reset(&self, names: &[&[u8]]) -> usize {
        let mut events = self.events.lock();
        if names.is_empty() {
            let n = events.len();
            events.clear();
            return n;
        }
        let before = events.len();
        events.retain(|k, _| !names.contains(&k.as_bytes()));
        before - events.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_over_the_threshold_one_per_second() {
        let l = Latency::default();
        l.sample("command", 50, 100);
        assert!(l.all().is_empty(), "off at threshold 0");
        l.threshold_ms.store(10, Ordering::Relaxed);
        l.sample("command", 5, 100);
        l.sample("command", 20, 100);
        l.sample("command", 30, 100);
        l.sample("command", 12, 101);
        l.sample("fast-command", 11, 101);
        assert_eq!(l.history(b"command"), vec![(100, 30), (101, 12)]);
        let all = l.all();
        assert_eq!((all[0].0, all[0].1.max), ("command", 30));
        for t in 0..200 {
            l.sample("command", 10, 200 + t);
        }
        assert_eq!(l.history(b"command").len(), HISTORY);
        assert_eq!(l.reset(&[b"command", b"nope"]), 1);
        assert_eq!(l.reset(&[]), 1);
    }
}
