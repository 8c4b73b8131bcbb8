//! Persistence: the append-only file (`aof.rs`), its rewrite (`rewrite.rs`), loading at start
//! and `--check-aof` (`load.rs`), and snapshot files with `save` rules (`save.rs`).
//!
//! Writes reach persistence as a sink of the write stream (`crate::stream`): it receives every
//! command the stream carries (already made deterministic: absolute expiry, SPOP as SREM, ...),
//! so the AOF holds exactly what replicas receive. This module never runs a command: replaying
//! a file at start goes through the `replay` function the server gives [`Persistence::start`].

pub mod aof;
pub mod info;
mod lifecycle;
pub mod load;
mod paths;
mod replies;
pub mod rewrite;
pub mod save;
mod state;
mod syncer;

pub use paths::{aof_path, save_rules, snapshot_path};
pub use state::{Persistence, Replay};
