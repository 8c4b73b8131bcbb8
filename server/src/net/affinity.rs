//! Hot-slot affinity: connections that keep hitting one slot are served by one event loop.
//!
//! Slots are locked per command, so several event loops can serve one key; for a hot key
//! (a queue, a leaderboard, a counter every client hits) that costs a lock hand-off and the
//! key's data moving between cores on every turn, and two loops serve it slower than one.
//! So once a connection has run [`STREAK`] commands in a row on one slot, the slot gets an
//! owner (the first loop to ask), and the connection moves to the owner's loop, with its
//! buffers and state, between two batches. Ownership lapses [`LEASE_MS`] after the owner
//! last saw such a streak, so a slot that cooled down does not pin anything.
//!
//! Commands run under the whole exec gate (scripts, EXEC) count as one more pseudo-slot,
//! [`crate::gate::WHOLE_GATE_SLOT`]: connections that keep running them gather on one loop,
//! which keeps the gate for its turn, instead of two loops handing it back and forth.
//!
//! Only plain request/response connections move: not while blocked, in WAIT, in MULTI,
//! subscribed, a replication link, paused or waiting for the AOF.

use std::sync::atomic::{AtomicU64, Ordering};

/// Commands in a row on one slot before a connection counts as hot for it.
pub const STREAK: u32 = 64;
/// How long a slot's ownership outlives its owner's last streak on it.
const LEASE_MS: u64 = 1000;

/// Per slot: the owning event loop + 1 in the top 8 bits (0 = none), the ms timestamp of the
/// last claim or renewal below.
pub struct HotSlots(Box<[AtomicU64]>);

const TS_MASK: u64 = (1 << 56) - 1;

impl HotSlots {
    pub fn new() -> Self {
        HotSlots((0..=crate::gate::WHOLE_GATE_SLOT).map(|_| AtomicU64::new(0)).collect())
    }

    /// The event loop that serves hot connections of `slot`, claiming or renewing it for
    /// `me` when it has no live owner or `me` owns it.
    pub fn owner(&self, slot: u16, me: usize, now_ms: u64) -> usize {
        let cell = &self.0[slot as usize];
        let mine = ((me as u64 + 1) << 56) | (now_ms & TS_MASK);
        let mut cur = cell.load(Ordering::Acquire);
        loop {
            let owner = (cur >> 56) as usize;
            let since = now_ms.saturating_sub(cur & TS_MASK);
            let live = owner != 0 && since < LEASE_MS;
            if live && owner - 1 != me {
                return owner - 1;
            }
            if live && since < LEASE_MS / 4 {
                // Ours and recently renewed: no write (keeps the line shared).
                return me;
            }
            match cell.compare_exchange_weak(cur, mine, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return me,
                Err(seen) => cur = seen,
            }
        }
    }
}

impl Default for HotSlots {
    fn default() -> Self {
        Self::new()
    }
}

/// Counts a connection's commands in a row on one slot.
#[derive(Default)]
pub struct Streak {
    slot: u16,
    len: u32,
}

impl Streak {
    /// Account one command (`Some(slot)`: it had keys in exactly that slot).
    #[inline]
    pub fn note(&mut self, slot: Option<u16>) {
        match slot {
            Some(s) if s == self.slot => self.len = self.len.saturating_add(1),
            Some(s) => {
                self.slot = s;
                self.len = 1;
            }
            None => self.len = 0,
        }
    }

    /// The slot this connection is hot for, if any.
    pub fn hot(&self) -> Option<u16> {
        (self.len >= STREAK).then_some(self.slot)
    }

    pub fn reset(&mut self) {
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_claim_wins_until_the_lease_lapses() {
        let h = HotSlots::new();
        assert_eq!(h.owner(7, 1, 10_000), 1);
        assert_eq!(h.owner(7, 0, 10_100), 1, "owned by loop 1");
        assert_eq!(h.owner(7, 1, 10_600), 1, "renewed by its owner");
        assert_eq!(h.owner(7, 0, 11_500), 1, "lease runs from the renewal");
        assert_eq!(h.owner(7, 0, 11_700), 0, "lapsed: loop 0 claims it");
        assert_eq!(h.owner(8, 0, 11_700), 0, "slots are independent");
        assert_eq!(h.owner(crate::gate::WHOLE_GATE_SLOT, 1, 11_700), 1, "the whole gate's pseudo-slot too");
    }

    #[test]
    fn streak_counts_consecutive_commands_on_one_slot() {
        let mut s = Streak::default();
        for _ in 0..STREAK - 1 {
            s.note(Some(5));
        }
        assert_eq!(s.hot(), None);
        s.note(Some(5));
        assert_eq!(s.hot(), Some(5));
        s.note(Some(6));
        assert_eq!(s.hot(), None);
        for _ in 0..STREAK {
            s.note(Some(6));
        }
        s.note(None);
        assert_eq!(s.hot(), None, "a keyless command ends the streak");
    }
}
