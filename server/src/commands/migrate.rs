//! Key transfer commands: DUMP, RESTORE (and RESTORE-ASKING, the same handler), MIGRATE.
//! Values travel in slotbox's own format (`store::serialize`), not Redis's RDB format, so
//! payloads move between slotbox servers only. MIGRATE's network side (the per-thread
//! connection cache and the request / reply exchange) lives in `migrate/`; handlers here only
//! parse arguments and touch the locked keys.

mod command;
mod conn;
#[cfg(test)]
mod tests;

use super::keys::lookup::read;
use super::{args, Ctx, Registration};
use crate::commands::Reply;
use crate::notify::class;
use crate::store::serialize::{dump_value, restore_value};
use crate::store::Entry;
use bytes::Bytes;
use slotbox_protocol::Frame;

pub const COMMANDS: Registration =
    &[("dump", dump), ("restore", restore), ("restore-asking", restore), ("migrate", command::migrate)];

/// `DUMP key`: the serialized value, or nil.
fn dump(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(match read(ctx.keys, &ctx.shared.stats, &args[1]) {
        Some(e) => Frame::Bulk(dump_value(&e.value).into()),
        None => Frame::Null,
    })
}

/// RESTORE's options after the payload.
#[derive(Debug, Default, PartialEq)]
struct RestoreOpts {
    replace: bool,
    absttl: bool,
    /// IDLETIME seconds (parsed and checked; slotbox keeps no access clock).
    idle: Option<i64>,
    /// FREQ counter (parsed and checked; slotbox keeps no LFU counter).
    freq: Option<i64>,
}

/// Redis's option loop: IDLETIME and FREQ exclude each other (the second is a syntax error),
/// and each needs its value.
fn restore_opts(opts: &[Bytes]) -> Result<RestoreOpts, Frame> {
    let mut o = RestoreOpts::default();
    let mut i = 0;
    while i < opts.len() {
        let arg = &opts[i];
        let has_value = i + 1 < opts.len();
        if args::is(arg, "replace") {
            o.replace = true;
        } else if args::is(arg, "absttl") {
            o.absttl = true;
        } else if args::is(arg, "idletime") && has_value && o.freq.is_none() {
            i += 1;
            let v = args::int(&opts[i])?;
            if v < 0 {
                return Err(Frame::error_static("ERR Invalid IDLETIME value, must be >= 0"));
            }
            o.idle = Some(v);
        } else if args::is(arg, "freq") && has_value && o.idle.is_none() {
            i += 1;
            let v = args::int(&opts[i])?;
            if !(0..=255).contains(&v) {
                return Err(Frame::error_static("ERR Invalid FREQ value, must be >= 0 and <= 255"));
            }
            o.freq = Some(v);
        } else {
            return Err(args::syntax_error());
        }
        i += 1;
    }
    Ok(o)
}

/// `RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]`, checked in
/// Redis's order: options, existing key, TTL, payload.
fn restore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let opts = restore_opts(&args[4..])?;
    let key = &args[1];
    if !opts.replace && ctx.keys.get(key).is_some() {
        return Ok(Frame::error_static("BUSYKEY Target key name already exists."));
    }
    let ttl = args::int(&args[2])?;
    if ttl < 0 {
        return Ok(Frame::error_static("ERR Invalid TTL value, must be >= 0"));
    }
    let value = match restore_value(&args[3], ctx.shared.hot.hash_limits()) {
        Ok(v) => v,
        Err(e) => return Ok(Frame::error_static(e.reply_text())),
    };
    let deleted = opts.replace && ctx.keys.remove(key).is_some();
    let expire_at = match (ttl, opts.absttl) {
        (0, _) => 0,
        (t, true) => t,
        (t, false) => ctx.now_ms.saturating_add(t),
    };
    // An absolute TTL already in the past: the key is not created (a replaced one is gone).
    if expire_at != 0 && expire_at <= ctx.now_ms {
        if deleted {
            ctx.notify(class::GENERIC, "del", key);
        }
        return Ok(Frame::ok());
    }
    ctx.keys.insert(key, Entry::with_expiry(value, expire_at));
    ctx.notify(class::GENERIC, "restore", key);
    Ok(Frame::ok())
}
