//! [`Watch`]: the running script as other threads see it while it holds the whole gate — how
//! long it has run (-BUSY past `busy-reply-threshold`), whether it wrote, and SCRIPT KILL /
//! FUNCTION KILL requests, which the interpreter's hook polls.

use bytes::Bytes;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, Ordering};

/// The running script as other threads see it: since when it runs, whether it timed out
/// (other clients get -BUSY), whether SCRIPT KILL / FUNCTION KILL asked it to stop.
#[derive(Default)]
pub struct Watch {
    /// 0: idle; else the Unix ms the script started.
    started_ms: AtomicI64,
    /// `busy-reply-threshold` in ms (0: never busy).
    threshold_ms: AtomicI64,
    /// 0 none, 1 eval, 2 function.
    kind: AtomicU8,
    /// It ran past the threshold.
    timed_out: AtomicBool,
    /// It wrote: it can not be killed.
    dirty: AtomicBool,
    /// Run by the master link: it can not be killed.
    from_master: AtomicBool,
    kill: AtomicBool,
    /// SHUTDOWN NOSAVE stops the script whatever it did (its effects are not committed).
    abort: AtomicBool,
    /// The script's name (SHA or function) and the command that runs it.
    name: Mutex<(String, Vec<Bytes>)>,
    /// Libraries and functions loaded when it started (FUNCTION STATS while busy).
    counts: Mutex<(usize, usize)>,
}

/// Why a kill request was refused, or that it was accepted.
pub enum KillOutcome {
    Killed,
    NotBusy,
    Unkillable(&'static str),
    WrongKind(&'static str),
}

impl Watch {
    /// A script starts (`is_eval`: an EVAL, else a function) at Unix ms `now_ms`.
    pub fn start(
        &self,
        is_eval: bool,
        threshold_ms: i64,
        name: &str,
        from_master: bool,
        command: &[Bytes],
        now_ms: i64,
    ) {
        {
            // Kept in place: no allocation per run once the buffers are large enough. The
            // command is only ever shown for a function (FUNCTION STATS while busy).
            let mut n = self.name.lock();
            n.0.clear();
            n.0.push_str(name);
            n.1.clear();
            if !is_eval {
                n.1.extend_from_slice(command);
            }
        }
        self.threshold_ms.store(threshold_ms, Ordering::Relaxed);
        self.timed_out.store(false, Ordering::Relaxed);
        self.dirty.store(false, Ordering::Relaxed);
        self.kill.store(false, Ordering::Relaxed);
        self.abort.store(false, Ordering::Relaxed);
        self.from_master.store(from_master, Ordering::Relaxed);
        self.kind.store(if is_eval { 1 } else { 2 }, Ordering::Relaxed);
        self.started_ms.store(now_ms, Ordering::Release);
    }

    pub fn stop(&self) {
        if self.kind.load(Ordering::Relaxed) == 2 {
            // Only a function's command was kept.
            self.name.lock().1.clear();
        }
        self.started_ms.store(0, Ordering::Release);
        self.timed_out.store(false, Ordering::Release);
        self.kind.store(0, Ordering::Relaxed);
    }

    /// The script wrote to the dataset.
    pub fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::Relaxed);
    }

    /// Called by the VM every so many instructions: true when the script must stop.
    pub fn poll(&self) -> bool {
        let started = self.started_ms.load(Ordering::Acquire);
        if started == 0 {
            // No run in progress (the VM keeps its hook between runs).
            return false;
        }
        let threshold = self.threshold_ms.load(Ordering::Relaxed);
        if threshold > 0 && !self.timed_out.load(Ordering::Relaxed) {
            let elapsed = crate::clock::unix_time_ms() - started;
            if elapsed >= threshold {
                let (cmd, name) = (
                    if self.kind.load(Ordering::Relaxed) == 1 { "SCRIPT KILL" } else { "FUNCTION KILL" },
                    self.name.lock().0.clone(),
                );
                crate::log::warning(&format!(
                    "Slow script detected: still in execution after {elapsed} milliseconds. You can try killing the script using the {cmd} command. Script name is: {name}."
                ));
                self.timed_out.store(true, Ordering::Release);
            }
        }
        self.kill.load(Ordering::Relaxed) || self.abort.load(Ordering::Relaxed)
    }

    /// SHUTDOWN NOSAVE while the script is busy: it stops at its next check, even after writes
    /// or when its master sent it; the server is going away.
    pub fn abort_for_shutdown(&self) {
        self.abort.store(true, Ordering::Release);
    }

    /// Was the script stopped by SHUTDOWN NOSAVE?
    pub fn aborted(&self) -> bool {
        self.abort.load(Ordering::Acquire)
    }

    /// The running script: (is an EVAL, name, command (a function's only), ms it has run).
    pub fn running(&self) -> Option<(bool, String, Vec<Bytes>, i64)> {
        let started = self.started_ms.load(Ordering::Acquire);
        if started == 0 {
            return None;
        }
        let (name, command) = self.name.lock().clone();
        Some((self.busy_is_eval(), name, command, crate::clock::unix_time_ms() - started))
    }

    /// Libraries and functions loaded (kept for FUNCTION STATS while a script runs).
    pub fn counts(&self) -> (usize, usize) {
        *self.counts.lock()
    }

    pub fn set_counts(&self, libs: usize, functions: usize) {
        *self.counts.lock() = (libs, functions);
    }

    /// SCRIPT KILL / FUNCTION KILL asked the running script to stop.
    pub fn killed(&self) -> bool {
        self.kill.load(Ordering::Relaxed)
    }

    /// A script runs past `busy-reply-threshold`: other clients get -BUSY.
    pub fn is_busy(&self) -> bool {
        self.timed_out.load(Ordering::Acquire) && self.started_ms.load(Ordering::Acquire) != 0
    }

    /// Is the busy script an EVAL (else a function)?
    pub fn busy_is_eval(&self) -> bool {
        self.kind.load(Ordering::Relaxed) == 1
    }

    /// SCRIPT KILL (`is_eval`) or FUNCTION KILL.
    pub fn request_kill(&self, is_eval: bool) -> KillOutcome {
        if self.started_ms.load(Ordering::Acquire) == 0 {
            return KillOutcome::NotBusy;
        }
        if self.from_master.load(Ordering::Relaxed) {
            return KillOutcome::Unkillable("UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed.");
        }
        if self.dirty.load(Ordering::Relaxed) {
            return KillOutcome::Unkillable("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.");
        }
        let running_eval = self.kind.load(Ordering::Relaxed) == 1;
        if is_eval && !running_eval {
            return KillOutcome::WrongKind(
                "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.",
            );
        }
        if !is_eval && running_eval {
            return KillOutcome::WrongKind(
                "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
            );
        }
        self.kill.store(true, Ordering::Release);
        KillOutcome::Killed
    }
}
