//! Client pauses, as Redis's `pauseClients`: CLIENT PAUSE, a manual failover and a shutdown each hold a
//! pause of their own (`WRITE` or `ALL`, until a unix ms time); the pause in force is the most
//! restrictive one not yet over, until the furthest end among those of that kind. While it
//! holds, the execution seam postpones the commands it covers and the keyspace stays still:
//! no key expires (lazily or actively) and nothing is evicted. Only bookkeeping: no command or
//! connection is touched here.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU8, AtomicUsize, Ordering};

/// What a pause holds back, least restrictive first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
#[repr(u8)]
pub enum PauseKind {
    #[default]
    Off = 0,
    /// Commands that write or may replicate (PUBLISH, ...), and EXEC of such commands.
    Write = 1,
    /// Every command.
    All = 2,
}

impl PauseKind {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => PauseKind::Write,
            2 => PauseKind::All,
            _ => PauseKind::Off,
        }
    }
}

/// Who holds a pause (each holds at most one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// CLIENT PAUSE / UNPAUSE.
    ClientCommand = 0,
    /// A master's writes during a cluster manual failover.
    Failover = 1,
    /// Writes while a signal-initiated shutdown saves the data (`crate::shutdown`).
    Shutdown = 2,
}

/// The server's pauses.
#[derive(Default)]
pub struct ClientPause {
    /// Per purpose: the kind and its end (unix ms).
    held: Mutex<[Option<(PauseKind, i64)>; 3]>,
    /// The pause in force, read on every command without the lock.
    kind: AtomicU8,
    end: AtomicI64,
    /// Clients whose command waits for the pause to end (INFO `blocked_clients` counts them).
    postponed: AtomicUsize,
}

impl ClientPause {
    /// Pause for `purpose` until `end_ms`: with a pause of that purpose already held, the more
    /// restrictive kind and the later end win (Redis's `pauseClients`). An end already past
    /// pauses nothing.
    pub fn pause(&self, purpose: Purpose, kind: PauseKind, end_ms: i64, now_ms: i64) {
        let mut held = self.held.lock();
        let slot = &mut held[purpose as usize];
        *slot = Some(match *slot {
            Some((k, e)) => (k.max(kind), e.max(end_ms)),
            None => (kind, end_ms),
        });
        self.update(&mut held, now_ms);
    }

    /// End `purpose`'s pause.
    pub fn unpause(&self, purpose: Purpose, now_ms: i64) {
        let mut held = self.held.lock();
        held[purpose as usize] = None;
        self.update(&mut held, now_ms);
    }

    /// A manual failover's write pause: until `until_ms`, or none for 0.
    pub fn set_failover_until(&self, until_ms: i64, now_ms: i64) {
        if until_ms == self.failover_until() {
            return;
        }
        let mut held = self.held.lock();
        held[Purpose::Failover as usize] = (until_ms != 0).then_some((PauseKind::Write, until_ms));
        self.update(&mut held, now_ms);
    }

    /// The end of the manual failover's pause (0: none).
    pub fn failover_until(&self) -> i64 {
        self.held.lock()[Purpose::Failover as usize].map_or(0, |(_, end)| end)
    }

    /// The pause in force at `now_ms` (cheap when there is none).
    #[inline]
    pub fn kind_at(&self, now_ms: i64) -> PauseKind {
        let kind = PauseKind::from_u8(self.kind.load(Ordering::Acquire));
        if kind == PauseKind::Off || self.end.load(Ordering::Acquire) >= now_ms {
            return kind;
        }
        let mut held = self.held.lock();
        self.update(&mut held, now_ms)
    }

    /// The pause in force now; calls `now_ms` (the clock) only while a pause is set (this
    /// runs for every command).
    #[inline]
    pub fn kind_now(&self, now_ms: impl FnOnce() -> i64) -> PauseKind {
        if PauseKind::from_u8(self.kind.load(Ordering::Acquire)) == PauseKind::Off {
            return PauseKind::Off;
        }
        self.kind_at(now_ms())
    }

    /// Is any pause in force (expiry and eviction wait)?
    pub fn active(&self, now_ms: i64) -> bool {
        self.kind_at(now_ms) != PauseKind::Off
    }

    /// Drop the pauses that are over and publish the one in force.
    fn update(&self, held: &mut [Option<(PauseKind, i64)>; 3], now_ms: i64) -> PauseKind {
        for slot in held.iter_mut() {
            if slot.is_some_and(|(_, end)| end < now_ms) {
                *slot = None;
            }
        }
        let kind = held.iter().flatten().map(|&(k, _)| k).max().unwrap_or_default();
        let end = held.iter().flatten().filter(|&&(k, _)| k == kind).map(|&(_, e)| e).max().unwrap_or(0);
        self.end.store(end, Ordering::Release);
        self.kind.store(kind as u8, Ordering::Release);
        kind
    }

    /// A client's command now waits for the pause to end.
    pub fn note_postponed(&self) {
        self.postponed.fetch_add(1, Ordering::Relaxed);
    }

    /// A postponed client runs its command again (or is gone).
    pub fn note_resumed(&self) {
        self.postponed.fetch_sub(1, Ordering::Relaxed);
    }

    /// Clients waiting for the pause to end.
    pub fn postponed(&self) -> usize {
        self.postponed.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_restrictive_pause_until_its_furthest_end() {
        let p = ClientPause::default();
        assert_eq!(p.kind_at(0), PauseKind::Off);
        p.pause(Purpose::ClientCommand, PauseKind::Write, 1000, 0);
        assert_eq!(p.kind_at(1000), PauseKind::Write);
        assert_eq!(p.kind_at(1001), PauseKind::Off);
        // Same purpose: the more restrictive kind and the later end.
        p.pause(Purpose::ClientCommand, PauseKind::Write, 1000, 0);
        p.pause(Purpose::ClientCommand, PauseKind::All, 100, 0);
        assert_eq!(p.kind_at(500), PauseKind::All);
        p.unpause(Purpose::ClientCommand, 500);
        assert_eq!(p.kind_at(500), PauseKind::Off);
        // Two purposes: the most restrictive in force, then the other once it is over.
        p.pause(Purpose::ClientCommand, PauseKind::All, 200, 0);
        p.set_failover_until(400, 0);
        assert_eq!(p.failover_until(), 400);
        assert_eq!(p.kind_at(150), PauseKind::All);
        assert_eq!(p.kind_at(300), PauseKind::Write);
        assert_eq!(p.kind_at(401), PauseKind::Off);
        assert_eq!(p.failover_until(), 0);
        // An end already past (a timeout of 0) pauses nothing.
        p.pause(Purpose::ClientCommand, PauseKind::All, 0, 10);
        assert_eq!(p.kind_at(10), PauseKind::Off);
    }
}
