//! Scripting commands: EVAL and SCRIPT (`eval.rs`), FCALL and FUNCTION (`function.rs`). A
//! script runs under the whole exec gate (`commands::needs_whole_gate`), and the commands it
//! calls go through `Ctx::run` (`host.rs`), which never takes the gate again; `run.rs` is one
//! run with its checks and effects. The interpreters live below, in `crate::script`.

mod eval;
mod function;
mod host;
mod run;

pub use eval::{kill_reply, COMMANDS as EVAL_COMMANDS};
pub use function::{stats_reply, COMMANDS as FUNCTION_COMMANDS};
