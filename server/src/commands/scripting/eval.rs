//! EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT LOAD / EXISTS / FLUSH / KILL / HELP, with
//! Redis 7.0's replies and errors.

use super::run::{self, Call};
use crate::commands::{Ctx, Reply};
use crate::script::cache::{sha_key, EvalEngine};
use crate::script::vm::Input;
use crate::script::KillOutcome;
use bytes::Bytes;
use slotbox_protocol::Frame;

const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";

fn eval(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    run_eval(ctx, args, false, false, "eval")
}

fn eval_ro(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    run_eval(ctx, args, false, true, "eval_ro")
}

fn evalsha(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    run_eval(ctx, args, true, false, "evalsha")
}

fn evalsha_ro(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    run_eval(ctx, args, true, true, "evalsha_ro")
}

fn run_eval(ctx: &mut Ctx, args: &[Bytes], by_sha: bool, ro: bool, name: &str) -> Reply {
    run::feed_monitors(ctx, name, args);
    if by_sha && args[1].len() != 40 {
        return Ok(Frame::error_static(NOSCRIPT));
    }
    let numkeys = run::numkeys(args, "")?;
    let shared = ctx.shared;
    let mut engines = shared.scripting.engines.lock();
    let eng: &mut EvalEngine = &mut engines.eval;
    let sha = if by_sha {
        sha_key(&args[1]).ok_or(Frame::error_static(NOSCRIPT))?
    } else {
        eng.load(&args[1]).map_err(|e| Frame::error(format!("ERR {e}")))?
    };
    let Some(script) = eng.get(&sha) else { return Ok(Frame::error_static(NOSCRIPT)) };
    let sha_str = std::str::from_utf8(&sha).unwrap_or_default();
    let keys = &args[3..3 + numkeys];
    let argv = &args[3 + numkeys..];
    let call = Call { is_eval: true, name: sha_str, flags: script.flags, ro, keys };
    let vm = &eng.vm;
    let reply = run::run(ctx, call, args, |host, caller| {
        vm.run(&script.func, Input::Globals(keys, argv), host, caller, sha_str)
    });
    Ok(reply)
}

fn script_load(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut engines = ctx.shared.scripting.engines.lock();
    let sha = engines.eval.load(&args[2]).map_err(|e| Frame::error(format!("ERR {e}")))?;
    Ok(Frame::Bulk(Bytes::copy_from_slice(&sha)))
}

fn script_exists(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let engines = ctx.shared.scripting.engines.lock();
    let found = |a: &Bytes| sha_key(a).is_some_and(|k| engines.eval.get(&k).is_some());
    Ok(Frame::Array(args[2..].iter().map(|a| Frame::Integer(found(a) as i64)).collect()))
}

fn script_flush(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 3
        || (args.len() == 3 && !args[2].eq_ignore_ascii_case(b"sync") && !args[2].eq_ignore_ascii_case(b"async"))
    {
        return Ok(Frame::error_static("ERR SCRIPT FLUSH only support SYNC|ASYNC option"));
    }
    let scripting = &ctx.shared.scripting;
    let mut engines = scripting.engines.lock();
    scripting.flush_scripts(&mut engines);
    Ok(Frame::ok())
}

fn script_kill(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(kill_reply(ctx.shared.scripting.watch.request_kill(true)))
}

/// SCRIPT KILL's / FUNCTION KILL's reply.
pub fn kill_reply(k: KillOutcome) -> Frame {
    match k {
        KillOutcome::Killed => Frame::ok(),
        KillOutcome::NotBusy => Frame::error_static("NOTBUSY No scripts in execution right now."),
        KillOutcome::Unkillable(e) | KillOutcome::WrongKind(e) => Frame::error_static(e),
    }
}

const SCRIPT_HELP: &[&str] = &[
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
];

fn script_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(Frame::Array(SCRIPT_HELP.iter().map(|l| Frame::Simple(Bytes::from_static(l.as_bytes()))).collect()))
}

pub const COMMANDS: crate::commands::Registration = &[
    ("eval", eval),
    ("eval_ro", eval_ro),
    ("evalsha", evalsha),
    ("evalsha_ro", evalsha_ro),
    ("script|load", script_load),
    ("script|exists", script_exists),
    ("script|flush", script_flush),
    ("script|kill", script_kill),
    ("script|help", script_help),
];
