//! [`FunctionCodes`]: the code of every function library (FUNCTION LOAD), kept beside the
//! data so that snapshot files, AOF rewrites and replication full syncs carry it, as Redis
//! keeps functions in its RDB. The scripting engine (`crate::script`) compiles the code; it
//! publishes what it loaded here, and notices through [`FunctionCodes::generation`] when a
//! loaded snapshot replaced it.

use bytes::Bytes;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct FunctionCodes {
    codes: Mutex<Vec<Bytes>>,
    /// Bumped when a snapshot load replaced the codes (not when the engine publishes).
    generation: AtomicU64,
    /// Bumped on every change (FUNCTION LOAD, DELETE, FLUSH, RESTORE, a snapshot load).
    version: AtomicU64,
}

impl FunctionCodes {
    pub fn get(&self) -> Vec<Bytes> {
        self.codes.lock().clone()
    }

    /// The engine's libraries changed (FUNCTION LOAD, DELETE, FLUSH, RESTORE).
    pub fn publish(&self, codes: Vec<Bytes>) {
        *self.codes.lock() = codes;
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// A snapshot brought these libraries: the engine reloads them.
    pub fn replace_loaded(&self, codes: Vec<Bytes>) {
        *self.codes.lock() = codes;
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// Changes so far: a function known by name at one version may differ at the next.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}
