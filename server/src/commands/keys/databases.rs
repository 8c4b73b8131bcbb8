//! Commands that reach across the numbered databases: MOVE, COPY ... DB, SWAPDB, and the DB
//! index argument they and SELECT share, with Redis 7.0's replies. They run with the whole
//! exec gate held (`exec::needs_whole_gate`), so locking a slot of a second database after the
//! command's own cannot meet another command doing the reverse.

use crate::commands::args;
use crate::commands::{Ctx, Reply};
use crate::notify::class;
use crate::store::{Entry, KeyView, Node};
use bytes::Bytes;
use slotbox_protocol::{key_hash_slot, Frame};

pub const SAME_OBJECT: &str = "ERR source and destination objects are the same";
const OUT_OF_RANGE: &str = "ERR DB index is out of range";

/// A database index argument, as Redis's `getIntFromObjectOrReply` reads it (`msg`: the error
/// for a non-integer, when the command has its own).
pub fn db_index(arg: &[u8], msg: Option<&'static str>) -> Result<i64, Frame> {
    let n = args::int(arg).map_err(|e| msg.map_or(e, Frame::error_static))?;
    if i32::try_from(n).is_err() {
        return Err(Frame::error_static(
            msg.unwrap_or("ERR value is out of range, value must between -2147483648 and 2147483647"),
        ));
    }
    Ok(n)
}

/// `n` as a database of this server.
pub fn existing_db(ctx: &Ctx, n: i64) -> Result<usize, Frame> {
    usize::try_from(n).ok().filter(|&d| d < ctx.shared.keyspace.count()).ok_or(Frame::error_static(OUT_OF_RANGE))
}

fn cluster_mode(ctx: &Ctx) -> bool {
    ctx.shared.config.read().cluster_enabled
}

/// Lock `key`'s slot in database `db` for this command.
fn other_db<'s>(ctx: &Ctx<'_, 's>, db: usize, key: &[u8]) -> KeyView<'s> {
    let mut view = ctx.shared.keyspace.db(db).lock_slots(&mut [key_hash_slot(key)]);
    view.now_ms = ctx.now_ms;
    view.expire_on_access = ctx.keys.expire_on_access;
    view.master_stream = ctx.keys.master_stream;
    view
}

/// `MOVE key db`.
pub fn move_key(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    if cluster_mode(ctx) {
        return Err(Frame::error_static("ERR MOVE is not allowed in cluster mode"));
    }
    let dst = existing_db(ctx, db_index(&a[2], None)?)?;
    if dst == ctx.client.db {
        return Err(Frame::error_static(SAME_OBJECT));
    }
    let key = &a[1];
    if ctx.keys.get_mut(key).is_none() {
        return Ok(Frame::Integer(0));
    }
    let mut to = other_db(ctx, dst, key);
    if to.exists(key) {
        return Ok(Frame::Integer(0));
    }
    let Some(entry) = ctx.keys.remove(key) else { return Ok(Frame::Integer(0)) };
    to.insert(key, entry);
    drop(to);
    ctx.notify(class::GENERIC, "move_from", key);
    ctx.notify_in(dst, class::GENERIC, "move_to", key);
    ctx.client.ready_keys.push((dst, key.clone()));
    Ok(Frame::Integer(1))
}

/// COPY's DB option: copy `src` of the client's database to `dst_key` of database `dst`.
pub fn copy_to_db(ctx: &mut Ctx, src: &Bytes, dst_key: &Bytes, dst: usize, replace: bool) -> Reply {
    let Some(entry) = crate::commands::keys::lookup::read(ctx.keys, &ctx.shared.stats, src).map(Node::to_entry) else {
        return Ok(Frame::Integer(0));
    };
    let mut to = other_db(ctx, dst, dst_key);
    if !replace && to.exists(dst_key) {
        return Ok(Frame::Integer(0));
    }
    to.insert(dst_key, Entry { lru: crate::store::lru::UNSET, ..entry });
    drop(to);
    ctx.notify_in(dst, class::GENERIC, "copy_to", dst_key);
    ctx.client.ready_keys.push((dst, dst_key.clone()));
    Ok(Frame::Integer(1))
}

/// `SWAPDB index1 index2`: every client of one database now sees the other's keys.
pub fn swapdb(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    if cluster_mode(ctx) {
        return Err(Frame::error_static("ERR SWAPDB is not allowed in cluster mode"));
    }
    let first = db_index(&a[1], Some("ERR invalid first DB index"))?;
    let second = db_index(&a[2], Some("ERR invalid second DB index"))?;
    let (first, second) = (existing_db(ctx, first)?, existing_db(ctx, second)?);
    if first != second {
        let ks = &ctx.shared.keyspace;
        ks.db(first).swap_keys(ks.db(second));
        // Clients blocked on a key that now exists in their database are served.
        for db in [first, second] {
            for key in ctx.shared.blocking.keys_waited_in(db) {
                ctx.client.ready_keys.push((db, key));
            }
        }
    }
    Ok(Frame::ok())
}
