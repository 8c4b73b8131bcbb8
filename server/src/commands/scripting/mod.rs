//! Scripting commands: EVAL and SCRIPT (`eval.rs`), FCALL and FUNCTION (`function.rs`). A
//! script runs under the whole exec gate (`commands::needs_whole_gate`), and the commands it
//! calls go through `Ctx::run` (`host.rs`), which never takes the gate again; `run.rs` is one
//! run with its checks and effects. The interpreters live below, in `crate::script`.

mod eval;
mod function;
mod host;
mod run;

pub use eval::COMMANDS as EVAL_COMMANDS;
pub use function::COMMANDS as FUNCTION_COMMANDS;

use crate::shared::Shared;
use slotbox_protocol::Frame;

/// While a script is busy: the reply of a command that runs anyway, without the gate (SCRIPT
/// KILL, FUNCTION KILL, FUNCTION STATS), or None.
pub fn while_busy(shared: &Shared, full_name: &str) -> Option<Frame> {
    let watch = &shared.scripting.watch;
    match full_name {
        "script|kill" => Some(eval::kill_reply(watch.request_kill(true))),
        "function|kill" => Some(eval::kill_reply(watch.request_kill(false))),
        "function|stats" => Some(function::stats_reply(shared)),
        _ => None,
    }
}

/// -BUSY, naming the command that can stop the running script.
pub fn busy_error(shared: &Shared) -> Frame {
    if shared.scripting.watch.busy_is_eval() {
        Frame::error_static("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
    } else {
        Frame::error_static("BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.")
    }
}
