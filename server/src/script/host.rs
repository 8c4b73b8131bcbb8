//! [`Host`]: what a running script calls back into — the server's commands, run for it by the
//! caller (`commands::scripting`), which the interpreter does not know.

use super::watch::Watch;
use bytes::Bytes;
use slotbox_protocol::{Frame, Protocol};
use std::sync::Arc;

/// What a running script calls back into: the server's commands, run for it.
pub trait Host {
    /// Run one command for the script. `Err` is a refusal before the command ran (its text, in
    /// "-CODE msg" or "msg" form); a command's own error is an `Ok` error frame.
    fn call(&mut self, args: Vec<Bytes>) -> Result<Frame, String>;
    /// The protocol the script reads replies in (`redis.setresp`).
    fn resp(&self) -> Protocol;
    fn set_resp(&mut self, resp: Protocol);
    /// `redis.set_repl` flags (1: AOF, 2: replicas).
    fn set_repl(&mut self, flags: u8);
    /// Is this a known command (`redis.acl_check_cmd`)?
    fn is_command(&self, args: &[Bytes]) -> bool;
    /// The watch the VM polls while the script runs (None: never interrupted).
    fn watch(&self) -> Option<&Arc<Watch>>;
}

/// Where the interpreter's callbacks and `redis.call` find the running script's host: set by
/// `Vm::run` for the length of the run, empty otherwise. (Callbacks made once per interpreter
/// instead of per run: making and dropping them was a third of a short script's cost.)
#[derive(Default)]
pub struct HostSlot(parking_lot::Mutex<Option<HostPtr>>);

/// The running script's host, its lifetime erased (see [`HostSlot::with`]).
#[derive(Clone, Copy)]
struct HostPtr(*mut (dyn Host + 'static));

// SAFETY: the pointer is only dereferenced on the thread running the script (the callbacks
// run inside `Vm::run`, which holds the `&mut dyn Host` it points to).
unsafe impl Send for HostPtr {}

impl HostSlot {
    /// Hold `host` until the returned guard drops. The caller keeps `host` borrowed (and uses
    /// it only through this slot) for as long as the guard lives.
    pub fn set(&self, host: *mut (dyn Host + 'static)) -> Running<'_> {
        *self.0.lock() = Some(HostPtr(host));
        Running(self)
    }

    /// Run `f` on the running script's host, if a script runs.
    pub fn with<R>(&self, f: impl FnOnce(&mut dyn Host) -> R) -> Option<R> {
        let ptr = (*self.0.lock())?;
        // SAFETY: the slot holds a pointer only while `Vm::run` runs, which set it from a
        // `&mut dyn Host` it holds for that time and clears it (the `Running` guard, on every
        // exit path) before returning; what calls this runs inside that `Vm::run`, one call at
        // a time (Lua is single-threaded, and no callback runs inside another), so no other
        // reference to the host is live.
        Some(f(unsafe { &mut *ptr.0 }))
    }
}

/// Empties the host slot when a run ends.
pub struct Running<'a>(&'a HostSlot);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        *self.0 .0.lock() = None;
    }
}
