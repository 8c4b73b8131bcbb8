//! RENAME, RENAMENX and COPY. The TTL travels with the value (RENAME) or is copied (COPY);
//! an overwritten destination loses its own TTL. Both keys' slots are locked by the caller.

use crate::commands::keys::lookup::read;
use crate::commands::Reply;
use crate::commands::{args, Ctx};
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

/// Redis's `renameGenericCommand`.
fn rename_generic(ctx: &mut Ctx, args: &[Bytes], nx: bool) -> Frame {
    let (src, dst) = (&args[1], &args[2]);
    if !ctx.keys.exists(src) {
        return Frame::error_static(errors::NO_SUCH_KEY);
    }
    let done = if nx { Frame::Integer(1) } else { Frame::ok() };
    if src == dst {
        return if nx { Frame::Integer(0) } else { done };
    }
    if nx && ctx.keys.exists(dst) {
        return Frame::Integer(0);
    }
    if let Some(entry) = ctx.keys.remove(src) {
        ctx.keys.insert(dst, entry);
    }
    done
}

pub fn rename(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(rename_generic(ctx, args, false))
}

pub fn renamenx(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(rename_generic(ctx, args, true))
}

/// Parse `[DB destination-db] [REPLACE]`; returns REPLACE. Only database 0 exists.
fn parse_copy_options(ctx: &Ctx, argv: &[Bytes]) -> Result<bool, Frame> {
    let mut replace = false;
    let mut j = 3;
    while j < argv.len() {
        if args::is(&argv[j], "replace") {
            replace = true;
        } else if args::is(&argv[j], "db") && j + 1 < argv.len() {
            let db = args::int(&argv[j + 1])?;
            if i32::try_from(db).is_err() {
                return Err(Frame::error_static(
                    "ERR value is out of range, value must between -2147483648 and 2147483647",
                ));
            }
            if db != 0 {
                let config = ctx.shared.config.read();
                let msg = if config.cluster_enabled && db > 0 && db < config.databases as i64 {
                    "ERR Copying to another database is not allowed in cluster mode"
                } else {
                    "ERR DB index is out of range"
                };
                return Err(Frame::error_static(msg));
            }
            j += 1;
        } else {
            return Err(args::syntax_error());
        }
        j += 1;
    }
    Ok(replace)
}

pub fn copy(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let replace = match parse_copy_options(ctx, args) {
        Ok(r) => r,
        Err(e) => return Ok(e),
    };
    let (src, dst) = (&args[1], &args[2]);
    if src == dst {
        return Ok(Frame::error_static("ERR source and destination objects are the same"));
    }
    let Some(entry) = read(&mut ctx.keys, &ctx.shared.stats, src).cloned() else {
        return Ok(Frame::Integer(0));
    };
    if !replace && ctx.keys.exists(dst) {
        return Ok(Frame::Integer(0));
    }
    ctx.keys.insert(dst, entry);
    Ok(Frame::Integer(1))
}
