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

use crate::commands::session::ClientState;
use crate::shared::Shared;
use bytes::Bytes;
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

/// SHUTDOWN while a script is busy: with NOSAVE the script is stopped (its writes are not
/// committed: no EXEC closes them in the write stream) and the server shuts down without
/// saving, as Redis does; the client's connection closes. Without NOSAVE it is refused (None:
/// the caller answers -BUSY).
pub fn shutdown_while_busy(shared: &Shared, client: &mut ClientState, args: &[Bytes]) -> Option<Frame> {
    if !args[1..].iter().any(|a| a.eq_ignore_ascii_case(b"nosave")) {
        return None;
    }
    crate::log::warning("User requested shutdown...");
    shared.scripting.watch.abort_for_shutdown();
    shared.request_shutdown();
    client.close_after_reply = true;
    Some(Frame::Raw(Bytes::new()))
}

/// Does this EVAL / EVALSHA / FCALL run a script that declares `no-writes` (so a client pause
/// on writes lets it through)? False when unknown (an uncached SHA, the engines busy).
pub fn declares_no_writes(shared: &Shared, name: &str, args: &[bytes::Bytes]) -> bool {
    use crate::script::flags::{EVAL_COMPAT, NO_WRITES};
    let declared = |f: u32| f & EVAL_COMPAT == 0 && f & NO_WRITES != 0;
    match name {
        "eval" => {
            args.get(1).and_then(|b| crate::script::flags::parse_shebang(b).ok()).is_some_and(|(f, _)| declared(f))
        }
        "evalsha" => {
            let Some(sha) = args.get(1).and_then(|a| crate::script::cache::sha_key(a)) else { return false };
            shared
                .scripting
                .engines
                .try_lock()
                .and_then(|e| e.eval.get(&sha).map(|s| declared(s.flags)))
                .unwrap_or(false)
        }
        "fcall" => {
            let Some(f) = args.get(1) else { return false };
            shared
                .scripting
                .engines
                .try_lock()
                .and_then(|e| e.functions.function(f).map(|d| declared(d.flags)))
                .unwrap_or(false)
        }
        _ => false,
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
