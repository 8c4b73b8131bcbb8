//! Redis's `client-output-buffer-limit <class> <hard> <soft> <soft-seconds>`, shared by the
//! server and the proxy: a client whose unsent output reaches the hard limit, or stays at or
//! over the soft limit for longer than the soft period, is disconnected instead of growing its
//! server's memory without bound. A limit of 0 is no limit. Pure bookkeeping: the caller says
//! how much is pending and closes the connection.

use std::time::{Duration, Instant};

/// One client class's limits, in bytes and seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub hard: usize,
    pub soft: usize,
    pub soft_secs: u64,
}

impl Limits {
    /// Redis 7.0's defaults per class: `normal 0 0 0`, `replica 256mb 64mb 60`,
    /// `pubsub 32mb 8mb 60`.
    pub const NORMAL: Limits = Limits { hard: 0, soft: 0, soft_secs: 0 };
    pub const REPLICA: Limits = Limits { hard: 256 << 20, soft: 64 << 20, soft_secs: 60 };
    pub const PUBSUB: Limits = Limits { hard: 32 << 20, soft: 8 << 20, soft_secs: 60 };

    /// Neither limit set: nothing to check.
    pub fn is_unlimited(&self) -> bool {
        self.hard == 0 && self.soft == 0
    }
}

/// One client's standing against its class's limits.
#[derive(Debug, Default)]
pub struct OutputLimit {
    /// Since when the pending output is at or over the soft limit.
    over_soft_since: Option<Instant>,
}

impl OutputLimit {
    /// With `pending` bytes unsent at `now`: must the client be disconnected?
    pub fn exceeded(&mut self, pending: usize, now: Instant, limits: Limits) -> bool {
        let hard = limits.hard > 0 && pending >= limits.hard;
        if limits.soft == 0 || pending < limits.soft {
            self.over_soft_since = None;
            return hard;
        }
        let since = *self.over_soft_since.get_or_insert(now);
        hard || now.duration_since(since) > Duration::from_secs(limits.soft_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_limit_at_once_soft_limit_after_its_period() {
        let (t0, l) = (Instant::now(), Limits::PUBSUB);
        let mut o = OutputLimit::default();
        assert!(!o.exceeded(l.soft - 1, t0, l));
        assert!(o.exceeded(l.hard, t0, l), "at the hard limit: at once");
        let mut o = OutputLimit::default();
        assert!(!o.exceeded(l.soft, t0, l));
        assert!(!o.exceeded(l.soft, t0 + Duration::from_secs(60), l), "not longer than the period yet");
        assert!(o.exceeded(l.soft, t0 + Duration::from_millis(60_001), l), "over the soft limit past the period");
        assert!(!o.exceeded(10, t0 + Duration::from_secs(61), l), "drained: the clock restarts");
        assert!(!o.exceeded(l.soft + 1, t0 + Duration::from_secs(62), l));
    }

    #[test]
    fn zero_is_no_limit() {
        let t0 = Instant::now();
        let mut o = OutputLimit::default();
        assert!(Limits::NORMAL.is_unlimited());
        assert!(!o.exceeded(usize::MAX, t0 + Duration::from_secs(1000), Limits::NORMAL));
        let hard_only = Limits { hard: 100, soft: 0, soft_secs: 0 };
        assert!(!o.exceeded(99, t0, hard_only));
        assert!(o.exceeded(100, t0, hard_only));
        let soft_only = Limits { hard: 0, soft: 100, soft_secs: 0 };
        assert!(!o.exceeded(1 << 30, t0, soft_only), "soft: first seen now");
        assert!(o.exceeded(1 << 30, t0 + Duration::from_millis(1), soft_only));
    }
}
