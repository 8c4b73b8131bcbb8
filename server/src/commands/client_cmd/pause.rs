//! `CLIENT PAUSE timeout [WRITE|ALL]` and `CLIENT UNPAUSE`: hold back clients' commands (all of
//! them, or those that write or may replicate) for `timeout` ms, as Redis 7.0; the execution
//! seam postpones what the pause covers and the event loops run it once the pause eases
//! (`crate::pause`). A pause asked for while one is held keeps the more restrictive kind and
//! the later end.

use crate::commands::args::is;
use crate::commands::{Ctx, Reply};
use crate::pause::{PauseKind, Purpose};
use bytes::Bytes;
use slotbox_protocol::float::parse_i64;
use slotbox_protocol::Frame;

pub(super) fn client_pause(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 4 {
        let sub = String::from_utf8_lossy(&args[1]);
        return Err(Frame::error(format!(
            "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try CLIENT HELP."
        )));
    }
    let kind = match args.get(3) {
        None => PauseKind::All,
        Some(m) if is(m, "write") => PauseKind::Write,
        Some(m) if is(m, "all") => PauseKind::All,
        Some(_) => return Err(Frame::error_static("ERR CLIENT PAUSE mode must be WRITE or ALL")),
    };
    let ms = parse_i64(&args[2]).ok_or(Frame::error_static("ERR timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(Frame::error_static("ERR timeout is negative"));
    }
    let now = crate::clock::unix_time_ms();
    // Redis adds the clock to a positive timeout without an overflow check: a wrapped end is
    // in the past, and so is 0: no pause.
    let end = if ms > 0 { ms.wrapping_add(now) } else { 0 };
    ctx.shared.pause.pause(Purpose::ClientCommand, kind, end, now);
    Ok(Frame::ok())
}

pub(super) fn client_unpause(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    ctx.shared.pause.unpause(Purpose::ClientCommand, crate::clock::unix_time_ms());
    Ok(Frame::ok())
}
