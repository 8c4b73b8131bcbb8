//! Persistence commands: SAVE, BGSAVE and BGREWRITEAOF, with Redis 7.0's replies. The work
//! is in `crate::persist`; these handlers only parse arguments and shape replies.

use super::args::{self, is};
use super::{Ctx, Registration};
use crate::commands::Reply;
use crate::persist;
use bytes::Bytes;
use slotbox_protocol::Frame;
use std::sync::atomic::Ordering;

/// `SAVE`: write the snapshot file now.
fn save(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    if ctx.shared.persist.bgsave_in_progress.load(Ordering::Acquire) {
        return Ok(Frame::error_static("ERR Background save already in progress"));
    }
    Ok(match persist::save::save_now(&ctx.shared.persist) {
        Ok(()) => Frame::ok(),
        Err(_) => Frame::error_static("ERR"),
    })
}

/// `BGSAVE [SCHEDULE]`.
fn bgsave(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match args.len() {
        1 => {}
        2 if is(&args[1], "schedule") => {}
        _ => return Ok(args::syntax_error()),
    }
    Ok(match persist::save::start_bgsave(&ctx.shared.persist) {
        Ok(()) => Frame::Simple(Bytes::from_static(b"Background saving started")),
        Err(e) => Frame::error(e),
    })
}

/// `BGREWRITEAOF`.
fn bgrewriteaof(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Ok(match persist::rewrite::start_rewrite(&ctx.shared.persist) {
        Ok(()) => Frame::Simple(Bytes::from_static(b"Background append only file rewriting started")),
        Err(e) => Frame::error(e),
    })
}

pub const COMMANDS: Registration = &[("save", save), ("bgsave", bgsave), ("bgrewriteaof", bgrewriteaof)];
