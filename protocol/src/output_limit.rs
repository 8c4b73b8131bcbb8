//! Redis's `client-output-buffer-limit pubsub 32mb 8mb 60`, shared by the server and the
//! proxy: a subscriber whose unsent messages pass the hard limit, or stay over the soft limit
//! for the soft period, is disconnected instead of growing its server's memory without bound.
//! Pure bookkeeping: the caller says how much is pending and closes the connection.

use std::time::{Duration, Instant};

/// The pubsub class limits of a Redis 7.0 default configuration.
pub const PUBSUB_HARD: usize = 32 << 20;
pub const PUBSUB_SOFT: usize = 8 << 20;
pub const PUBSUB_SOFT_PERIOD: Duration = Duration::from_secs(60);

/// One client's standing against the pubsub limit.
#[derive(Debug, Default)]
pub struct PubsubLimit {
    /// Since when the pending output is over the soft limit.
    over_soft_since: Option<Instant>,
}

impl PubsubLimit {
    /// With `pending` bytes unsent at `now`: must the client be disconnected?
    pub fn exceeded(&mut self, pending: usize, now: Instant) -> bool {
        if pending <= PUBSUB_SOFT {
            self.over_soft_since = None;
            return false;
        }
        let since = *self.over_soft_since.get_or_insert(now);
        pending > PUBSUB_HARD || now.duration_since(since) >= PUBSUB_SOFT_PERIOD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_limit_at_once_soft_limit_after_its_period() {
        let t0 = Instant::now();
        let mut l = PubsubLimit::default();
        assert!(!l.exceeded(PUBSUB_SOFT, t0));
        assert!(l.exceeded(PUBSUB_HARD + 1, t0), "over the hard limit: at once");
        let mut l = PubsubLimit::default();
        assert!(!l.exceeded(PUBSUB_SOFT + 1, t0));
        assert!(!l.exceeded(PUBSUB_SOFT + 1, t0 + Duration::from_secs(59)));
        assert!(l.exceeded(PUBSUB_SOFT + 1, t0 + PUBSUB_SOFT_PERIOD), "over the soft limit for the period");
        assert!(!l.exceeded(10, t0 + Duration::from_secs(61)), "drained: the clock restarts");
        assert!(!l.exceeded(PUBSUB_SOFT + 1, t0 + Duration::from_secs(62)));
    }
}
