//! Key expiry: EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT with NX | XX | GT | LT, the readers
//! TTL / PTTL / EXPIRETIME / PEXPIRETIME, and PERSIST. A time already in the past deletes the
//! key (and still answers 1), as Redis does on a master.

use super::lookup::read_notouch;
use crate::commands::Reply;
use crate::commands::{args, Ctx};
use crate::notify::class;
use bytes::Bytes;
use slotbox_protocol::Frame;

/// The NX / XX / GT / LT conditions.
#[derive(Default)]
struct Conditions {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

/// Redis's `parseExtendedExpireArgumentsOrReply`.
fn parse_conditions(argv: &[Bytes]) -> Result<Conditions, Frame> {
    let mut c = Conditions::default();
    for opt in &argv[3..] {
        if args::is(opt, "nx") {
            c.nx = true;
        } else if args::is(opt, "xx") {
            c.xx = true;
        } else if args::is(opt, "gt") {
            c.gt = true;
        } else if args::is(opt, "lt") {
            c.lt = true;
        } else {
            return Err(Frame::error(format!("ERR Unsupported option {}", String::from_utf8_lossy(opt))));
        }
    }
    if c.nx && (c.xx || c.gt || c.lt) {
        return Err(Frame::error_static("ERR NX and XX, GT or LT options at the same time are not compatible"));
    }
    if c.gt && c.lt {
        return Err(Frame::error_static("ERR GT and LT options at the same time are not compatible"));
    }
    Ok(c)
}

impl Conditions {
    /// May a key whose expiry is `current` (-1 = none) get `when`?
    fn allow(&self, current: i64, when: i64) -> bool {
        !((self.nx && current != -1)
            || (self.xx && current == -1)
            || (self.gt && (when <= current || current == -1))
            || (self.lt && current != -1 && when >= current))
    }
}

/// Redis's `expireGenericCommand`: `basetime` is now (relative forms) or 0 (absolute forms).
fn expire_generic(ctx: &mut Ctx, args: &[Bytes], basetime: i64, seconds: bool) -> Reply {
    let cond = parse_conditions(args)?;
    let mut when = args::int(&args[2])?;
    let invalid = || Frame::error(format!("ERR invalid expire time in '{}' command", ctx.spec.name));
    if seconds {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return Ok(invalid());
        }
        when *= 1000;
    }
    if when > i64::MAX - basetime {
        return Ok(invalid());
    }
    when += basetime;
    let key = &args[1];
    let Some(current) = ctx.keys.get(key).map(|e| e.expire_at()) else {
        return Ok(Frame::Integer(0));
    };
    let current = if current == 0 { -1 } else { current };
    if !cond.allow(current, when) {
        return Ok(Frame::Integer(0));
    }
    // A time already past deletes the key, and the stream gets a DEL rather than the command
    // (Redis's checkAlreadyExpired): a replica applying its master's stream, or an AOF being
    // loaded, never deletes on its own clock. It keeps the TTL, past or not, and the master's
    // DEL follows if the key really expires there (a replica lagging behind used to delete a
    // key its master then persisted or extended).
    if when <= ctx.now_ms && !ctx.client.is_master_link {
        ctx.keys.remove(key);
        ctx.notify(class::GENERIC, "del", key);
        ctx.propagate = Some(vec![vec![Bytes::from_static(b"DEL"), key.clone()]]);
    } else {
        ctx.keys.set_expire(key, when);
        ctx.notify(class::GENERIC, "expire", key);
    }
    Ok(Frame::Integer(1))
}

pub fn expire(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    expire_generic(ctx, args, ctx.now_ms, true)
}

pub fn pexpire(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    expire_generic(ctx, args, ctx.now_ms, false)
}

pub fn expireat(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    expire_generic(ctx, args, 0, true)
}

pub fn pexpireat(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    expire_generic(ctx, args, 0, false)
}

/// Redis's `ttlGenericCommand`: -2 missing, -1 no expiry, else remaining (or absolute) time.
fn ttl_generic(ctx: &mut Ctx, key: &[u8], output_ms: bool, output_abs: bool) -> Frame {
    let Some(expire_at) = read_notouch(ctx.keys, &ctx.shared.stats, key).map(|e| e.expire_at()) else {
        return Frame::Integer(-2);
    };
    if expire_at == 0 {
        return Frame::Integer(-1);
    }
    let ttl = if output_abs { expire_at } else { (expire_at - ctx.now_ms).max(0) };
    Frame::Integer(if output_ms { ttl } else { ((ttl as i128 + 500) / 1000) as i64 })
}

pub fn ttl(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(ttl_generic(ctx, &args[1], false, false))
}

pub fn pttl(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(ttl_generic(ctx, &args[1], true, false))
}

pub fn expiretime(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(ttl_generic(ctx, &args[1], false, true))
}

pub fn pexpiretime(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Ok(ttl_generic(ctx, &args[1], true, true))
}

pub fn persist(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let key = &args[1];
    Ok(match ctx.keys.get(key) {
        Some(e) if e.expire_at() != 0 => {
            ctx.keys.set_expire(key, 0);
            ctx.notify(class::GENERIC, "persist", key);
            Frame::Integer(1)
        }
        _ => Frame::Integer(0),
    })
}
