//! CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO (client-side caching), with Redis
//! 7.0's checks and error strings. The state lives in `crate::tracking`; the messages are
//! `commands::invalidate`'s.

use super::super::args::{self, is};
use super::super::{Ctx, Reply};
use crate::client::{TRACKING, TRACKING_BCAST};
use crate::tracking::Options;
use bytes::Bytes;
use slotbox_protocol::Frame;
use std::sync::atomic::Ordering;

/// `CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP]`.
pub fn client_tracking(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let mut o = Options::default();
    let mut prefixes: Vec<Bytes> = Vec::new();
    let mut redirect: i64 = 0;
    let mut j = 3;
    while j < a.len() {
        let more = j + 1 < a.len();
        if is(&a[j], "redirect") && more {
            j += 1;
            if redirect != 0 {
                return Ok(Frame::error_static("ERR A client can only redirect to a single other client"));
            }
            redirect = args::int(&a[j])?;
            let exists = redirect > 0 && ctx.shared.clients.lock().contains_key(&(redirect as u64));
            if !exists {
                return Ok(Frame::error_static("ERR The client ID you want redirect to does not exist"));
            }
        } else if is(&a[j], "bcast") {
            o.bcast = true;
        } else if is(&a[j], "optin") {
            o.optin = true;
        } else if is(&a[j], "optout") {
            o.optout = true;
        } else if is(&a[j], "noloop") {
            o.noloop = true;
        } else if is(&a[j], "prefix") && more {
            j += 1;
            prefixes.push(a[j].clone());
        } else {
            return Ok(args::syntax_error());
        }
        j += 1;
    }
    o.redirect = redirect as u64;
    let id = ctx.client.id();
    if is(&a[2], "off") {
        ctx.shared.tracking.disable(id);
        ctx.client.info.shown.tracking.store(0, Ordering::Relaxed);
        ctx.client.tracking_caching = false;
        return Ok(Frame::ok());
    }
    if !is(&a[2], "on") {
        return Ok(args::syntax_error());
    }
    check_options(ctx, &o, &prefixes)?;
    ctx.shared.tracking.enable(id, o, &prefixes);
    let shown = TRACKING | if o.bcast { TRACKING_BCAST } else { 0 };
    ctx.client.info.shown.tracking.store(shown, Ordering::Relaxed);
    Ok(Frame::ok())
}

/// The checks of `CLIENT TRACKING ON`, in Redis's order.
fn check_options(ctx: &Ctx, o: &Options, prefixes: &[Bytes]) -> Result<(), Frame> {
    let err = |s: &'static str| Err(Frame::error_static(s));
    if !o.bcast && !prefixes.is_empty() {
        return err("ERR PREFIX option requires BCAST mode to be enabled");
    }
    let now = ctx.shared.tracking.status(ctx.client.id()).map(|s| s.options);
    if now.is_some_and(|n| n.bcast != o.bcast) {
        return err("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.");
    }
    if o.bcast && (o.optin || o.optout) {
        return err("ERR OPTIN and OPTOUT are not compatible with BCAST");
    }
    if o.optin && o.optout {
        return err("ERR You can't specify both OPTIN mode and OPTOUT mode");
    }
    if now.is_some_and(|n| (o.optin && n.optout) || (o.optout && n.optin)) {
        return err("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.");
    }
    if o.bcast {
        ctx.shared.tracking.check_prefixes(ctx.client.id(), prefixes).map_err(Frame::error)?;
    }
    Ok(())
}

/// `CLIENT CACHING YES|NO`: the next command (or transaction) is cached (OPTIN) or not
/// (OPTOUT).
pub fn client_caching(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let Some(status) = ctx.shared.tracking.status(ctx.client.id()) else {
        return Ok(Frame::error_static(
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
        ));
    };
    let o = status.options;
    if is(&a[2], "yes") {
        if !o.optin {
            return Ok(Frame::error_static(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            ));
        }
    } else if is(&a[2], "no") {
        if !o.optout {
            return Ok(Frame::error_static(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            ));
        }
    } else {
        return Ok(args::syntax_error());
    }
    ctx.client.tracking_caching = true;
    Ok(Frame::ok())
}

/// `CLIENT GETREDIR`: the redirect id, 0 for none, -1 when not tracking.
pub fn client_getredir(ctx: &mut Ctx, _a: &[Bytes]) -> Reply {
    Ok(Frame::Integer(match ctx.shared.tracking.status(ctx.client.id()) {
        Some(s) => s.options.redirect as i64,
        None => -1,
    }))
}

/// `CLIENT TRACKINGINFO`: flags, redirect and prefixes, as a map.
pub fn client_trackinginfo(ctx: &mut Ctx, _a: &[Bytes]) -> Reply {
    let status = ctx.shared.tracking.status(ctx.client.id());
    let mut flags: Vec<&'static str> = Vec::new();
    let (redirect, prefixes) = match &status {
        None => {
            flags.push("off");
            (-1, Vec::new())
        }
        Some(s) => {
            let o = s.options;
            flags.push("on");
            let caching = ctx.client.tracking_caching;
            for (on, name) in [
                (o.bcast, "bcast"),
                (o.optin, "optin"),
                (o.optin && caching, "caching-yes"),
                (o.optout, "optout"),
                (o.optout && caching, "caching-no"),
                (o.noloop, "noloop"),
                (s.broken_redirect, "broken_redirect"),
            ] {
                if on {
                    flags.push(name);
                }
            }
            (o.redirect as i64, s.prefixes.clone())
        }
    };
    Ok(Frame::Map(vec![
        (Frame::bulk_static("flags"), Frame::Set(flags.into_iter().map(Frame::bulk_static).collect())),
        (Frame::bulk_static("redirect"), Frame::Integer(redirect)),
        (Frame::bulk_static("prefixes"), Frame::Array(prefixes.into_iter().map(Frame::Bulk).collect())),
    ]))
}
