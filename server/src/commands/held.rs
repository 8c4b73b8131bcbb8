//! [`Held`]: the locks a caller of the execution seam keeps from one command to the next —
//! its stripe of the exec gate (shared) or the whole gate (exclusive), and the slots of the
//! last command. The seam (`commands::execute_in_batch`) is the only code that takes the gate
//! for a command; it looks here first, so a caller that already holds the gate never takes it
//! again (the lock rule: `crate::gate`).
//!
//! A hot key served by several event loops changes hands once per loop turn instead of once
//! per command when the loop keeps its `Held` across the turn's connections.

use crate::gate::{ExclusiveGate, ExecGate, SharedGate};
use crate::store::KeyView;

enum Gate<'s> {
    Free,
    Shared { _stripe: SharedGate<'s> },
    Exclusive { _all: ExclusiveGate<'s> },
}

/// What a thread that runs commands holds between them. Field order is drop order: slots
/// before the gate.
pub struct Held<'s> {
    pub(super) keys: Option<KeyView<'s>>,
    gate: Gate<'s>,
    stripe: usize,
}

impl<'s> Held<'s> {
    /// Nothing held yet; the gate will be taken on `stripe` (an event loop's index, or the
    /// gate's service stripe).
    pub fn new(stripe: usize) -> Self {
        Held { keys: None, gate: Gate::Free, stripe }
    }

    /// Release everything (end of a loop turn, before closing a connection, before blocking
    /// on I/O).
    pub fn release(&mut self) {
        self.keys = None;
        self.gate = Gate::Free;
    }

    /// Hold at least the shared stripe (a thread that feeds the replication stream itself).
    pub fn shared(&mut self, gate: &'s ExecGate) {
        if matches!(self.gate, Gate::Free) {
            self.gate = Gate::Shared { _stripe: gate.read(self.stripe) };
        }
    }

    /// [`Self::shared`], unless `busy()` turns true while waiting: false then, holding
    /// nothing.
    pub fn shared_unless(&mut self, gate: &'s ExecGate, busy: &dyn Fn() -> bool) -> bool {
        if matches!(self.gate, Gate::Free) {
            match gate.read_unless(self.stripe, busy) {
                Some(g) => self.gate = Gate::Shared { _stripe: g },
                None => return false,
            }
        }
        true
    }

    /// [`Self::exclusive`], unless `busy()` turns true while waiting: `None` then, holding
    /// nothing.
    pub fn exclusive_unless(&mut self, gate: &'s ExecGate, busy: &dyn Fn() -> bool) -> Option<bool> {
        if self.is_exclusive() {
            return Some(false);
        }
        self.release();
        self.gate = Gate::Exclusive { _all: gate.write_all_unless(busy)? };
        Some(true)
    }

    /// Hold the whole gate. Releases the shared stripe and the slots first (a thread holding
    /// its stripe while waiting for every stripe would wait for itself). True if it was not
    /// already held exclusively.
    pub fn exclusive(&mut self, gate: &'s ExecGate) -> bool {
        if self.is_exclusive() {
            return false;
        }
        self.release();
        self.gate = Gate::Exclusive { _all: gate.write_all() };
        true
    }

    /// Is this an event loop's (not the service stripe of the server's own threads)?
    pub fn on_event_loop(&self, gate: &ExecGate) -> bool {
        self.stripe != gate.service_stripe()
    }

    pub fn is_exclusive(&self) -> bool {
        matches!(self.gate, Gate::Exclusive { .. })
    }

    /// Is any part of the gate held (commands may run)?
    pub fn holds_gate(&self) -> bool {
        !matches!(self.gate, Gate::Free)
    }
}
