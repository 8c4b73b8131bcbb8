//! RENAME, RENAMENX and COPY. The TTL travels with the value (RENAME) or is copied (COPY);
//! an overwritten destination loses its own TTL. Both keys' slots are locked by the caller.

use super::databases;
use crate::commands::keys::lookup::read;
use crate::commands::Reply;
use crate::commands::{args, Ctx};
use crate::notify::class;
use crate::store::Node;
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
        ctx.notify(class::GENERIC, "rename_from", src);
        ctx.notify(class::GENERIC, "rename_to", dst);
    }
    done
}

pub fn rename(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(rename_generic(ctx, args, false))
}

pub fn renamenx(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(rename_generic(ctx, args, true))
}

/// COPY's options: REPLACE and DB (Redis's checks, in its order). The destination database.
fn parse_copy_options(ctx: &Ctx, argv: &[Bytes]) -> Result<(bool, usize), Frame> {
    let mut replace = false;
    let mut db = ctx.client.db;
    let mut j = 3;
    while j < argv.len() {
        if args::is(&argv[j], "replace") {
            replace = true;
        } else if args::is(&argv[j], "db") && j + 1 < argv.len() {
            db = databases::existing_db(ctx, databases::db_index(&argv[j + 1], None)?)?;
            j += 1;
        } else {
            return Err(args::syntax_error());
        }
        j += 1;
    }
    if ctx.shared.config.read().cluster_enabled && (ctx.client.db != 0 || db != 0) {
        return Err(Frame::error_static("ERR Copying to another database is not allowed in cluster mode"));
    }
    Ok((replace, db))
}

pub fn copy(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (replace, db) = parse_copy_options(ctx, args)?;
    let (src, dst) = (&args[1], &args[2]);
    if db != ctx.client.db {
        return databases::copy_to_db(ctx, src, dst, db, replace);
    }
    if src == dst {
        return Ok(Frame::error_static(databases::SAME_OBJECT));
    }
    let Some(entry) = read(ctx.keys, &ctx.shared.stats, src).map(Node::to_entry) else {
        return Ok(Frame::Integer(0));
    };
    if !replace && ctx.keys.exists(dst) {
        return Ok(Frame::Integer(0));
    }
    ctx.keys.insert(dst, entry);
    ctx.notify(class::GENERIC, "copy_to", dst);
    Ok(Frame::Integer(1))
}
