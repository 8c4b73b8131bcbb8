//! MEMORY USAGE and MEMORY HELP (what `redis-cli --memkeys` uses). The size reported is the
//! key's cost in slotbox's own layout: its slot-table bucket (key, entry, control byte), the
//! key's bytes when they do not fit inline, and the value's heap memory. Values are measured
//! whole, so SAMPLES is checked as Redis does but does not change the answer.

use super::args::{self, is};
use super::client_cmd::help_reply;
use super::{Ctx, Registration};
use crate::commands::Reply;
use crate::store::Node;
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

/// `MEMORY USAGE key [SAMPLES count]`.
fn memory_usage(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut j = 3;
    while j < args.len() {
        if !(is(&args[j], "samples") && j + 1 < args.len()) {
            return Ok(args::syntax_error());
        }
        match slotbox_protocol::float::parse_i64(&args[j + 1]) {
            None => return Ok(Frame::error_static(errors::NOT_INTEGER)),
            Some(n) if n < 0 => return Ok(args::syntax_error()),
            Some(_) => j += 2,
        }
    }
    let key = &args[2];
    Ok(match ctx.keys.peek(key) {
        None => Frame::Null,
        Some(e) => {
            // The node and its table control byte, the key's block if it has one, the value.
            let bucket = std::mem::size_of::<Node>() + 1;
            Frame::Integer((bucket + e.key_heap_len() + e.value.heap_size()) as i64)
        }
    })
}

const MEMORY_HELP: &[&str] = &[
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
];

fn memory_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(help_reply(MEMORY_HELP))
}

pub const COMMANDS: Registration = &[("memory|usage", memory_usage), ("memory|help", memory_help)];
