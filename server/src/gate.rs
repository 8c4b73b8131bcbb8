//! The server's locks and the one rule for taking them.
//!
//! # The locks
//!
//! 1. **The exec gate** ([`ExecGate`]): one `RwLock<()>` per stripe (one stripe per event loop
//!    plus one [`ExecGate::service_stripe`] for the server's own threads: replica link, cron).
//!    A thread that runs commands, or feeds the replication stream, holds *its* stripe shared;
//!    code that must see no command run anywhere (EXEC, a snapshot cut for BGSAVE, an AOF
//!    rewrite or a replica's full sync, loading a full sync on a replica) holds every stripe
//!    exclusively, taking them in ascending order.
//! 2. **Slot locks** (`store::Db`): one mutex per hash slot. A command locks its keys' slots in
//!    ascending order (`Db::lock_slots`) and runs under them.
//! 3. **Leaf locks**: everything else (the replication backlog, the client registry, config,
//!    blocking and pub/sub registries, cluster state, ...). Nothing else is ever taken while one
//!    of them is held, and no command runs under one.
//!
//! # The order
//!
//! `gate → slots (ascending) → leaf locks`. A thread never takes the gate while it holds the
//! gate (in any mode, on any stripe) or any slot lock; it never takes a slot lock while holding
//! an equal or higher slot of the same keyspace. Slot locks may be taken without the gate only
//! by code that takes nothing else while holding them (the active expiry cycle, closing a
//! connection).
//!
//! # Who runs commands under a lock
//!
//! Only the execution seam (`commands::exec`) takes the gate for a command, and it is given
//! what its caller already holds (`commands::Held`): the shared stripe from the previous command
//! of the batch, or the exclusive gate. A command that needs the gate exclusively (EXEC) makes
//! the seam release the shared stripe first and take every stripe; the commands EXEC runs go
//! through `commands::run`, which never touches the gate. Blocked clients served after a write
//! run under the gate the seam already holds. Nothing that holds the gate (a snapshot, a full
//! sync load) calls the seam.
//!
//! While a script holds the whole gate past `busy-reply-threshold`, threads waiting for the
//! gate give up (`read_unless`, `write_all_unless`) and answer -BUSY instead; the scripting
//! engines' lock (`script::Scripting::engines`) is taken only under the whole gate, after it
//! and before any slot (gate → engines → slots).
//!
//! Debug builds check the order: every gate and slot acquisition is recorded per thread and a
//! violation panics naming the locks ([`check`]), so a test that reaches one fails.

use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The pseudo-slot a command that ran under the whole gate counts as for hot-slot affinity
/// (`net::affinity`): connections that keep running scripts or transactions gather on one
/// event loop, where the whole gate stays, instead of passing it between loops every turn.
pub const WHOLE_GATE_SLOT: u16 = slotbox_protocol::SLOT_COUNT as u16;

/// How often a thread waiting for the gate checks whether a script became busy.
const BUSY_POLL: std::time::Duration = std::time::Duration::from_millis(5);

#[repr(align(128))]
#[derive(Default)]
struct PaddedLock(RwLock<()>);

/// Held shared by each thread that runs commands (its own stripe, so threads never contend),
/// and exclusively — every stripe, in order — by whatever must run with no command running.
pub struct ExecGate(Vec<PaddedLock>);

/// One stripe held shared.
pub struct SharedGate<'a> {
    _guard: RwLockReadGuard<'a, ()>,
    _held: check::Held,
}

/// Every stripe held: no command runs anywhere else.
pub struct ExclusiveGate<'a> {
    _guards: Vec<RwLockWriteGuard<'a, ()>>,
    _held: check::Held,
}

impl ExecGate {
    /// A gate for `workers` event loops (plus the service stripe).
    pub fn new(workers: usize) -> Self {
        ExecGate((0..workers.max(1) + 1).map(|_| PaddedLock::default()).collect())
    }

    /// The stripe of threads that are not event loops (replica link, cron, replica pings).
    pub fn service_stripe(&self) -> usize {
        self.0.len() - 1
    }

    /// Shared access on `stripe` (an event loop's index, or [`Self::service_stripe`]).
    pub fn read(&self, stripe: usize) -> SharedGate<'_> {
        let held = check::gate(self);
        SharedGate { _guard: self.0[stripe % self.0.len()].0.read(), _held: held }
    }

    /// [`Self::read`], unless `busy()` turns true while waiting (a script runs past
    /// `busy-reply-threshold` under the whole gate): then `None`, holding nothing.
    pub fn read_unless(&self, stripe: usize, busy: &dyn Fn() -> bool) -> Option<SharedGate<'_>> {
        let lock = &self.0[stripe % self.0.len()].0;
        loop {
            if let Some(g) = lock.try_read_for(BUSY_POLL) {
                return Some(SharedGate { _guard: g, _held: check::gate(self) });
            }
            if busy() {
                return None;
            }
        }
    }

    /// [`Self::write_all`], unless `busy()` turns true while waiting (see
    /// [`Self::read_unless`]).
    pub fn write_all_unless(&self, busy: &dyn Fn() -> bool) -> Option<ExclusiveGate<'_>> {
        let mut guards = Vec::with_capacity(self.0.len());
        for l in &self.0 {
            loop {
                if let Some(g) = l.0.try_write_for(BUSY_POLL) {
                    guards.push(g);
                    break;
                }
                if busy() {
                    return None;
                }
            }
        }
        Some(ExclusiveGate { _guards: guards, _held: check::gate(self) })
    }

    /// Exclusive access: no other command runs anywhere until the guard drops.
    pub fn write_all(&self) -> ExclusiveGate<'_> {
        let held = check::gate(self);
        ExclusiveGate { _guards: self.0.iter().map(|l| l.0.write()).collect(), _held: held }
    }
}

/// Debug-build lock-order checks (no-ops in release builds).
pub mod check {
    #[cfg(debug_assertions)]
    use std::cell::RefCell;
    #[cfg(debug_assertions)]
    use std::collections::VecDeque;

    #[cfg(debug_assertions)]
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum Lock {
        /// The exec gate at this address.
        Gate(usize),
        /// A slot lock of the keyspace at this address.
        Slot(usize, u16),
    }

    #[cfg(debug_assertions)]
    thread_local! {
        // Lock-order bookkeeping of this thread (debug builds only): the locks it holds, in
        // the order taken. It describes the thread, not a server, so it is not server state.
        static HELD: RefCell<VecDeque<Lock>> = const { RefCell::new(VecDeque::new()) };
    }

    /// A record of one held lock; dropping it forgets the lock.
    pub struct Held {
        #[cfg(debug_assertions)]
        lock: Lock,
    }

    #[cfg(debug_assertions)]
    fn acquire(lock: Lock) -> Held {
        HELD.with(|h| {
            let mut h = h.borrow_mut();
            let bad = match lock {
                Lock::Gate(_) => h.front().map(|have| match have {
                    Lock::Gate(_) => "the exec gate is already held by this thread",
                    Lock::Slot(..) => "the exec gate is taken while a slot lock is held",
                }),
                // Slots are held in ascending order, so the last one of this keyspace is the
                // highest (a command may hold all 16384: no quadratic scan).
                Lock::Slot(db, s) => h
                    .iter()
                    .rev()
                    .find_map(|have| match *have {
                        Lock::Slot(db2, s2) if db2 == db => Some(s2),
                        _ => None,
                    })
                    .filter(|&s2| s2 >= s)
                    .map(|_| "slot locks are taken out of ascending order"),
            };
            if let Some(why) = bad {
                let shown: Vec<_> = h.iter().rev().take(8).collect();
                panic!(
                    "lock order violation: {why} (taking {lock:?} while holding {} locks, last: {shown:?})",
                    h.len()
                );
            }
            h.push_back(lock);
        });
        Held { lock }
    }

    #[cfg(debug_assertions)]
    impl Drop for Held {
        fn drop(&mut self) {
            HELD.with(|h| {
                let mut h = h.borrow_mut();
                // Locks go in the order taken (a command's slots) or the reverse: look at both
                // ends first.
                let i = if h.back() == Some(&self.lock) {
                    Some(h.len() - 1)
                } else {
                    h.iter().position(|&l| l == self.lock)
                };
                if let Some(i) = i {
                    h.remove(i);
                }
            });
        }
    }

    /// Record taking the exec gate `gate` (any mode).
    #[inline]
    pub fn gate<T>(gate: &T) -> Held {
        #[cfg(debug_assertions)]
        {
            acquire(Lock::Gate(gate as *const T as usize))
        }
        #[cfg(not(debug_assertions))]
        {
            let _ = gate;
            Held {}
        }
    }

    /// Record taking slot `slot` of the keyspace `db`.
    #[inline]
    pub fn slot<T>(db: &T, slot: u16) -> Held {
        #[cfg(debug_assertions)]
        {
            acquire(Lock::Slot(db as *const T as usize, slot))
        }
        #[cfg(not(debug_assertions))]
        {
            let _ = (db, slot);
            Held {}
        }
    }

    /// Does this thread hold the exec gate (debug builds; always true in release builds)?
    pub fn holds_gate() -> bool {
        #[cfg(debug_assertions)]
        {
            HELD.with(|h| h.borrow().iter().any(|l| matches!(l, Lock::Gate(_))))
        }
        #[cfg(not(debug_assertions))]
        {
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_waits_for_shared_and_shared_stripes_do_not_contend() {
        let gate = std::sync::Arc::new(ExecGate::new(2));
        let a = gate.read(0);
        let g = gate.clone();
        // Another stripe is free while stripe 0 is held.
        std::thread::spawn(move || drop(g.read(1))).join().unwrap();
        let g = gate.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            let _x = g.write_all();
            tx.send(()).unwrap();
        });
        assert!(rx.recv_timeout(std::time::Duration::from_millis(100)).is_err(), "exclusive ran beside a reader");
        drop(a);
        rx.recv_timeout(std::time::Duration::from_secs(10)).expect("exclusive never ran");
        t.join().unwrap();
    }

    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "the exec gate is already held by this thread")]
    fn taking_the_gate_twice_panics_in_debug_builds() {
        let gate = ExecGate::new(2);
        let _a = gate.read(0);
        let _b = gate.write_all();
    }

    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "slot locks are taken out of ascending order")]
    fn descending_slots_panic_in_debug_builds() {
        let db = 0u8;
        let _a = check::slot(&db, 7);
        let _b = check::slot(&db, 3);
    }

    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "the exec gate is taken while a slot lock is held")]
    fn gate_after_slot_panics_in_debug_builds() {
        let gate = ExecGate::new(1);
        let db = 0u8;
        let _a = check::slot(&db, 7);
        let _b = gate.read(0);
    }

    #[cfg(debug_assertions)]
    #[test]
    fn released_locks_are_forgotten() {
        let gate = ExecGate::new(1);
        drop(gate.read(0));
        drop(gate.write_all());
        let db = 0u8;
        drop(check::slot(&db, 7));
        let _b = check::slot(&db, 3);
        assert!(!check::holds_gate());
    }
}
