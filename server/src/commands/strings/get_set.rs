//! GET and SET with their variants: SETNX, SETEX, PSETEX, GETSET, GETDEL, GETEX, MGET, MSET,
//! MSETNX. A plain set replaces the value and clears the TTL (unless KEEPTTL); values are
//! stored with Redis's `tryObjectEncoding` choice (`Value::string`).

use super::common::{bulk_or_wrongtype, value_bytes, wrongtype};
use super::expire_opts::{self, ExpireUnit, ExtOpts, Mode};
use crate::commands::keys::lookup::read;
use crate::commands::Ctx;
use crate::commands::Reply;
use crate::notify::class;
use crate::store::{Entry, Value};
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

/// Store `value` at `key` with `expire_at` (0 = none), replacing whatever was there, and
/// report the `set` event (Redis's `setKey` + its caller's notification).
fn store(ctx: &mut Ctx, key: &[u8], value: &[u8], expire_at: i64) {
    if value.len() <= 20 || !ctx.keys.overwrite_string(key, value, expire_at) {
        let mut entry = Entry::new(Value::string(value));
        entry.expire_at = expire_at;
        ctx.keys.insert(key, entry);
    }
    ctx.notify(class::STRING, "set", key);
}

pub fn get(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(match read(ctx.keys, &ctx.shared.stats, &args[1]) {
        None => Frame::Null,
        Some(e) => bulk_or_wrongtype(&e.value),
    })
}

/// Redis's `setGenericCommand`: `expire_at` is already validated (0 = none); `replies` are
/// the (done, aborted by NX/XX) replies when GET is not given.
fn set_generic(
    ctx: &mut Ctx,
    key: &[u8],
    value: &[u8],
    opts: &ExtOpts,
    expire_at: i64,
    replies: (Frame, Frame),
) -> Frame {
    let (ok, abort) = replies;
    let old = if opts.get {
        match read(ctx.keys, &ctx.shared.stats, key) {
            None => Some(Frame::Null),
            Some(e) => match value_bytes(&e.value) {
                Some(b) => Some(Frame::Bulk(b)),
                None => return wrongtype(),
            },
        }
    } else {
        None
    };
    let mut expire_at = expire_at;
    if opts.nx || opts.xx || opts.keepttl {
        // The plain SET path skips this lookup: `insert` replaces whatever is there.
        let existing = ctx.keys.get(key).map(|e| e.expire_at());
        if (opts.nx && existing.is_some()) || (opts.xx && existing.is_none()) {
            return old.unwrap_or(abort);
        }
        if opts.keepttl {
            expire_at = existing.unwrap_or(0);
        }
    }
    store(ctx, key, value, expire_at);
    if opts.expire.is_some() {
        ctx.notify(class::GENERIC, "expire", key);
    }
    old.unwrap_or(ok)
}

/// The absolute expiry requested by `opts` (0 = none).
fn requested_expiry(ctx: &Ctx, opts: &ExtOpts) -> Result<i64, Frame> {
    match opts.expire {
        None => Ok(0),
        Some((unit, arg)) => expire_opts::expire_at_ms(unit, arg, ctx.now_ms, ctx.spec.name),
    }
}

pub fn set(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let opts = expire_opts::parse(args, Mode::Set)?;
    let expire_at = requested_expiry(ctx, &opts)?;
    Ok(set_generic(ctx, &args[1], &args[2], &opts, expire_at, (Frame::ok(), Frame::Null)))
}

pub fn setnx(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let opts = ExtOpts { nx: true, ..Default::default() };
    Ok(set_generic(ctx, &args[1], &args[2], &opts, 0, (Frame::Integer(1), Frame::Integer(0))))
}

fn set_with_expire(ctx: &mut Ctx, args: &[Bytes], unit: ExpireUnit) -> Reply {
    let opts = ExtOpts { expire: Some((unit, &args[2])), ..Default::default() };
    let expire_at = requested_expiry(ctx, &opts)?;
    Ok(set_generic(ctx, &args[1], &args[3], &opts, expire_at, (Frame::ok(), Frame::Null)))
}

pub fn setex(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    set_with_expire(ctx, args, ExpireUnit::Ex)
}

pub fn psetex(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    set_with_expire(ctx, args, ExpireUnit::Px)
}

pub fn getset(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let old = match read(ctx.keys, &ctx.shared.stats, &args[1]) {
        None => Frame::Null,
        Some(e) => match value_bytes(&e.value) {
            Some(b) => Frame::Bulk(b),
            None => return Ok(wrongtype()),
        },
    };
    store(ctx, &args[1], &args[2], 0);
    Ok(old)
}

pub fn getdel(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let reply = match read(ctx.keys, &ctx.shared.stats, &args[1]) {
        None => return Ok(Frame::Null),
        Some(e) => bulk_or_wrongtype(&e.value),
    };
    if !reply.is_error() && ctx.keys.remove(&args[1]).is_some() {
        ctx.notify(class::GENERIC, "del", &args[1]);
    }
    Ok(reply)
}

pub fn getex(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let opts = expire_opts::parse(args, Mode::GetEx)?;
    let key = &args[1];
    let reply = match read(ctx.keys, &ctx.shared.stats, key) {
        None => return Ok(Frame::Null),
        Some(e) => bulk_or_wrongtype(&e.value),
    };
    if reply.is_error() {
        return Ok(reply);
    }
    let expire_at = requested_expiry(ctx, &opts)?;
    match opts.expire {
        // As EXPIREAT in the past: a DEL for the stream; never on the master's stream.
        Some((unit, _)) if unit.is_absolute() && expire_at <= ctx.now_ms && !ctx.client.is_master_link => {
            ctx.keys.remove(key);
            ctx.propagate = Some(vec![vec![Bytes::from_static(b"DEL"), key.clone()]]);
            ctx.notify(class::GENERIC, "del", key);
        }
        Some(_) => {
            ctx.keys.set_expire(key, expire_at);
            ctx.notify(class::GENERIC, "expire", key);
        }
        None if opts.persist && ctx.keys.get(key).is_some_and(|e| e.expire_at() != 0) => {
            ctx.keys.set_expire(key, 0);
            ctx.notify(class::GENERIC, "persist", key);
        }
        None => {}
    }
    Ok(reply)
}

pub fn mget(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let items = args[1..]
        .iter()
        .map(|key| match read(ctx.keys, &ctx.shared.stats, key).and_then(|e| value_bytes(&e.value)) {
            Some(b) => Frame::Bulk(b),
            None => Frame::Null,
        })
        .collect();
    Ok(Frame::Array(items))
}

pub fn mset(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len().is_multiple_of(2) {
        return Ok(Frame::error(errors::wrong_arity(ctx.spec.name)));
    }
    for pair in args[1..].chunks_exact(2) {
        store(ctx, &pair[0], &pair[1], 0);
    }
    Ok(Frame::ok())
}

pub fn msetnx(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len().is_multiple_of(2) {
        return Ok(Frame::error(errors::wrong_arity(ctx.spec.name)));
    }
    if args[1..].iter().step_by(2).any(|key| ctx.keys.exists(key)) {
        return Ok(Frame::Integer(0));
    }
    for pair in args[1..].chunks_exact(2) {
        store(ctx, &pair[0], &pair[1], 0);
    }
    Ok(Frame::Integer(1))
}
