//! `CLIENT UNBLOCK id [TIMEOUT|ERROR]`: end another client's blocking command (BLPOP, BLMOVE,
//! BZPOPMIN, ...) as if it timed out (its timeout reply) or with Redis's `-UNBLOCKED` error.
//! Answers 1 when it ended a wait, 0 otherwise (no such client, not blocked on keys, or being
//! served right now: its reply is already on its way). The reply reaches the client through
//! its event loop.

use crate::commands::args::is;
use crate::commands::{Ctx, Reply};
use crate::mailbox::WorkerMsg;
use bytes::Bytes;
use slotbox_protocol::float::parse_i64;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

const UNBLOCKED: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

pub(super) fn client_unblock(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 4 {
        let sub = String::from_utf8_lossy(&args[1]);
        return Err(Frame::error(format!(
            "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try CLIENT HELP."
        )));
    }
    let as_error = match args.get(3) {
        None => false,
        Some(r) if is(r, "timeout") => false,
        Some(r) if is(r, "error") => true,
        Some(_) => return Err(Frame::error_static("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")),
    };
    let id = parse_i64(&args[2]).ok_or(Frame::error_static(errors::NOT_INTEGER))?;
    let Some(w) = u64::try_from(id).ok().and_then(|id| ctx.shared.blocking.waiter_of(id)) else {
        return Ok(Frame::Integer(0));
    };
    if w.cancel() != Some(true) {
        return Ok(Frame::Integer(0));
    }
    ctx.shared.blocking.remove(&w);
    let reply = if as_error { Frame::error_static(UNBLOCKED) } else { w.timeout_reply.clone() };
    if let Some(worker) = ctx.shared.workers.get().and_then(|ws| ws.get(w.info.worker())) {
        worker.send(WorkerMsg::Unblock(w.info.id, reply));
    }
    Ok(Frame::Integer(1))
}
