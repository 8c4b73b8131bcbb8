//! Command execution. [`exec`] is the execution seam every command runs through; `ctx.rs` is
//! what a handler sees and `session.rs` a connection's session; `registry.rs` joins the
//! protocol's command table (arity, flags, key specs) with the handlers of the family files
//! that `tables.rs` lists; `admit.rs` and `effects.rs` are the seam's checks before and
//! bookkeeping after a command. Families never import the seam: EXEC runs its queue through
//! [`Ctx::run`]. Handlers never look at sockets.

mod admit;
pub mod args;
mod bitops;
mod client_cmd;
mod cluster;
mod command_info;
mod config_cmd;
mod connection;
mod ctx;
mod debug;
mod effects;
pub mod exec;
mod gating;
mod geo;
mod hashes;
mod held;
mod hyperloglog;
mod info;
mod info_fmt;
mod info_memory;
mod info_repl;
pub mod invalidate;
mod keys;
mod lists;
mod memory;
mod migrate;
mod monitoring;
mod persist;
pub mod pubsub;
mod registry;
pub mod replay;
mod replication;
mod scripting;
mod server;
pub mod session;
mod sets;
mod sort;
mod streams;
mod strings;
mod tables;
pub mod tx;
mod zsets;

pub use ctx::{Ctx, Reply};
pub use exec::{execute, execute_in_batch, on_disconnect, renamed, run};
pub use gating::needs_whole_gate;
pub use held::Held;
pub use registry::{is_registered, name_of, registered, Handler, Registration, Resolved};
pub use session::BlockOn;
pub use tables::resolve;
