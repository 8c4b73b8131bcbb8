//! Lua scripting as Redis 7.0 embeds it: the interpreters (`vm.rs`, sandboxed by
//! `sandbox.lua`), the conversions between replies and Lua values (`convert.rs`), the bundled
//! libraries (`libs/`), EVAL's script cache (`cache.rs`), function libraries (`library.rs`) and
//! shebang flags (`flags.rs`). A service below `commands`: a running script calls commands only
//! through the [`Host`] its caller hands in (the execution seam, without taking the gate again),
//! and the `commands::scripting` family owns the commands.
//!
//! Scripts run one at a time, under the whole exec gate; [`Scripting::engines`] is only locked
//! there (gate → engines → slots, see `crate::gate`). [`Watch`] is the part other threads read
//! while a script runs (BUSY, SCRIPT KILL).

pub mod cache;
mod ccall;
pub mod convert;
pub mod flags;
pub mod library;
mod libs;
mod rand48;
pub mod vm;

use bytes::Bytes;
use parking_lot::Mutex;
use slotbox_protocol::{Frame, Protocol};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, Ordering};
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
    fn watch(&self) -> Option<Arc<Watch>>;
}

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
    /// A script starts (`is_eval`: an EVAL, else a function).
    pub fn start(&self, is_eval: bool, threshold_ms: i64, name: &str, from_master: bool, command: Vec<Bytes>) {
        *self.name.lock() = (name.to_string(), command);
        self.threshold_ms.store(threshold_ms, Ordering::Relaxed);
        self.timed_out.store(false, Ordering::Relaxed);
        self.dirty.store(false, Ordering::Relaxed);
        self.kill.store(false, Ordering::Relaxed);
        self.from_master.store(from_master, Ordering::Relaxed);
        self.kind.store(if is_eval { 1 } else { 2 }, Ordering::Relaxed);
        self.started_ms.store(crate::clock::unix_time_ms(), Ordering::Release);
    }

    pub fn stop(&self) {
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
        let threshold = self.threshold_ms.load(Ordering::Relaxed);
        if started != 0 && threshold > 0 && !self.timed_out.load(Ordering::Relaxed) {
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
        self.kill.load(Ordering::Relaxed)
    }

    /// The running script: (is an EVAL, name, command, ms it has run).
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

/// The interpreters and what they hold: EVAL's VM and script cache, the functions VM and its
/// libraries.
pub struct Engines {
    pub eval: cache::EvalEngine,
    pub functions: library::Functions,
    /// The `store::functions` generation the functions were loaded from.
    pub functions_generation: u64,
}

/// A script run handed to the script thread.
pub type Job = Box<dyn FnOnce() + Send>;

/// Scripting state of one server.
pub struct Scripting {
    pub engines: Mutex<Engines>,
    pub watch: Arc<Watch>,
    /// The script thread's queue (started on first use): scripts from event loops run there,
    /// so an event loop keeps answering its other clients (-BUSY) while a script runs long.
    runner: std::sync::OnceLock<crossbeam_channel::Sender<Job>>,
    /// `math.random`'s generator, shared by both VMs (one script runs at a time).
    rand: Arc<rand48::Rand48>,
}

impl Default for Scripting {
    fn default() -> Self {
        let rand = Arc::new(rand48::Rand48::default());
        let engines = Engines {
            eval: cache::EvalEngine::new(rand.clone()),
            functions: library::Functions::new(rand.clone()),
            functions_generation: 0,
        };
        Scripting { engines: Mutex::new(engines), watch: Arc::new(Watch::default()), runner: Default::default(), rand }
    }
}

impl Scripting {
    /// Run `job` on the script thread (in order, one at a time). False if the thread could
    /// not be started.
    pub fn submit(&self, job: Job) -> bool {
        let tx = self.runner.get_or_init(|| {
            let (tx, rx) = crossbeam_channel::unbounded::<Job>();
            let spawned = std::thread::Builder::new().name("script".into()).spawn(move || {
                while let Ok(job) = rx.recv() {
                    job();
                }
            });
            if spawned.is_err() {
                crate::log::warning("could not start the script thread");
            }
            tx
        });
        tx.send(job).is_ok()
    }

    /// SCRIPT FLUSH: a fresh EVAL interpreter with no scripts.
    pub fn flush_scripts(&self, engines: &mut Engines) {
        engines.eval = cache::EvalEngine::new(self.rand.clone());
    }

    /// The engines, with the function libraries a loaded snapshot brought compiled first.
    pub fn lock(&self, codes: &crate::store::functions::FunctionCodes) -> parking_lot::MutexGuard<'_, Engines> {
        let mut e = self.engines.lock();
        let generation = codes.generation();
        if e.functions_generation != generation {
            let mut fresh = self.new_functions();
            for code in codes.get() {
                if let Err(err) = fresh.load(&code, true, false) {
                    crate::log::warning(&format!("Failed loading a function library: {err}"));
                }
            }
            e.functions = fresh;
            e.functions_generation = generation;
        }
        e
    }

    /// A fresh functions interpreter with no libraries (FUNCTION FLUSH).
    pub fn new_functions(&self) -> library::Functions {
        library::Functions::new(self.rand.clone())
    }
}

/// The version the `redis` table reports.
pub const VERSION: (&str, i64) = ("7.0.15", 0x07000f);
