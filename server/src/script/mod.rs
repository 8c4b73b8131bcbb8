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
mod cpop;
mod cpush;
pub mod flags;
mod host;
pub mod library;
mod libs;
mod rand48;
pub mod speed;
mod strip;
pub mod vm;
mod watch;

pub use host::Host;
pub use watch::{KillOutcome, Watch};

use parking_lot::Mutex;
use std::sync::Arc;

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
    /// Which scripts are short enough to run in place on an event loop.
    pub speed: speed::Speed,
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
        Scripting {
            engines: Mutex::new(engines),
            watch: Arc::new(Watch::default()),
            speed: Default::default(),
            runner: Default::default(),
            rand,
        }
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
        self.speed.forget_eval();
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
