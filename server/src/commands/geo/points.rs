//! GEOADD (a ZADD of geohash scores, replicated as that ZADD), GEODIST, GEOHASH, GEOPOS.

use super::common::{coords_reply, is_resp3, long_lat, member_pos, read_geo, unit};
use super::geohash::{self, Range};
use crate::commands::{args, Ctx, Reply};
use bytes::Bytes;
use slotbox_protocol::Frame;

/// GEOADD key [NX|XX] [CH] longitude latitude member [...]: parsed, then run as the ZADD
/// Redis rewrites it to (so ZADD's own checks, counts and events apply).
pub fn geoadd(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut first = 2;
    let (mut nx, mut xx) = (false, false);
    while first < args.len() {
        let opt = &args[first];
        if args::is(opt, "nx") {
            nx = true;
        } else if args::is(opt, "xx") {
            xx = true;
        } else if !args::is(opt, "ch") {
            break;
        }
        first += 1;
    }
    if !(args.len() - first).is_multiple_of(3) || (xx && nx) {
        return Err(args::syntax_error());
    }
    let mut zadd: Vec<Bytes> = Vec::with_capacity(first + (args.len() - first) / 3 * 2);
    zadd.push(Bytes::from_static(b"zadd"));
    zadd.extend_from_slice(&args[1..first]);
    for triple in args[first..].chunks(3) {
        let [lon, lat] = long_lat(&triple[..2])?;
        zadd.push(Bytes::from(geohash::score_of(lon, lat).to_string()));
        zadd.push(triple[2].clone());
    }
    let reply = crate::commands::zsets::zadd(ctx, &zadd)?;
    ctx.propagate = Some(vec![zadd]);
    Ok(reply)
}

/// GEODIST key member1 member2 [unit].
pub fn geodist(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let to_meter = match args.len() {
        5 => unit(&args[4])?,
        n if n > 5 => return Err(args::syntax_error()),
        _ => 1.0,
    };
    let Some(z) = read_geo(ctx, &args[1])? else {
        return Ok(Frame::Null);
    };
    let (Some(a), Some(b)) = (member_pos(z, &args[2]), member_pos(z, &args[3])) else {
        return Ok(Frame::Null);
    };
    Ok(super::common::distance_reply(super::helper::distance(a[0], a[1], b[0], b[1]) / to_meter))
}

const GEOALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";

/// The standard 11-character geohash of a position (re-encoded over latitude ±90).
fn geohash_string(xy: [f64; 2]) -> Bytes {
    let long = Range { min: -180.0, max: 180.0 };
    let lat = Range { min: -90.0, max: 90.0 };
    let bits = geohash::encode(long, lat, xy[0], xy[1], 26).unwrap_or_default().bits;
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        *c = GEOALPHABET[((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize];
    }
    Bytes::copy_from_slice(&out)
}

/// GEOHASH key [member ...].
pub fn geohash_cmd(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let z = read_geo(ctx, &args[1])?;
    let out = args[2..]
        .iter()
        .map(|m| match z.and_then(|z| member_pos(z, m)) {
            Some(xy) => Frame::Bulk(geohash_string(xy)),
            None => Frame::Null,
        })
        .collect();
    Ok(Frame::Array(out))
}

/// GEOPOS key [member ...].
pub fn geopos(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let resp3 = is_resp3(ctx);
    let z = read_geo(ctx, &args[1])?;
    let out = args[2..]
        .iter()
        .map(|m| match z.and_then(|z| member_pos(z, m)) {
            Some(xy) => coords_reply(xy, resp3),
            None => Frame::NullArray,
        })
        .collect();
    Ok(Frame::Array(out))
}
