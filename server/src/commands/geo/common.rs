//! What the GEO commands share: argument parsing with Redis's errors (coordinates, units,
//! distances), the lookup of the sorted set behind a GEO key, and the reply shapes
//! (distances with 4 decimals, coordinates as Redis's "human" long doubles).

use super::geohash;
use super::helper::valid_long_lat;
use crate::commands::keys::lookup::read;
use crate::commands::strings::long_double::LongDouble;
use crate::commands::zsets::strict_float;
use crate::commands::Ctx;
use crate::store::types::ZSetValue;
use crate::store::{Node, Value};
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::{Frame, Protocol};

/// A float argument as `getDoubleFromObjectOrReply`, with `err` (or the generic message).
pub fn float_arg(arg: &[u8], err: &'static str) -> Result<f64, Frame> {
    strict_float(arg).ok_or(Frame::error_static(err))
}

/// `extractLongLatOrReply`: two floats, then the range check.
pub fn long_lat(args: &[Bytes]) -> Result<[f64; 2], Frame> {
    let xy = [float_arg(&args[0], errors::NOT_FLOAT)?, float_arg(&args[1], errors::NOT_FLOAT)?];
    if !valid_long_lat(xy) {
        return Err(Frame::error(format!("ERR invalid longitude,latitude pair {:.6},{:.6}", xy[0], xy[1])));
    }
    Ok(xy)
}

/// `extractUnitOrReply`: meters per unit.
pub fn unit(arg: &[u8]) -> Result<f64, Frame> {
    match arg.to_ascii_lowercase().as_slice() {
        b"m" => Ok(1.0),
        b"km" => Ok(1000.0),
        b"ft" => Ok(0.3048),
        b"mi" => Ok(1609.34),
        _ => Err(Frame::error_static("ERR unsupported unit provided. please use M, KM, FT, MI")),
    }
}

/// The sorted set at `key` for a read (a keyspace hit or miss), or WRONGTYPE.
pub fn read_geo<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a ZSetValue>, Frame> {
    let shared = ctx.shared;
    match read(ctx.keys, &shared.stats, key) {
        None => Ok(None),
        Some(Node { value: Value::ZSet(z), .. }) => Ok(Some(z)),
        Some(_) => Err(Frame::error_static(errors::WRONGTYPE)),
    }
}

/// The position of `member` of `z`, if it is there.
pub fn member_pos(z: &ZSetValue, member: &[u8]) -> Option<[f64; 2]> {
    z.score(member).map(geohash::decode_score)
}

pub fn is_resp3(ctx: &Ctx) -> bool {
    ctx.client.resp == Protocol::Resp3
}

/// `addReplyDoubleDistance`: `llrint(d * 10000)` printed with four decimals, as a bulk.
pub fn distance_reply(d: f64) -> Frame {
    let v = (d * 10000.0).round_ties_even() as i64;
    let abs = v.unsigned_abs();
    let sign = if v < 0 { "-" } else { "" };
    Frame::Bulk(Bytes::from(format!("{sign}{}.{:04}", abs / 10000, abs % 10000)))
}

/// `addReplyHumanLongDouble`: `%.17Lf` without trailing zeros; a bulk in RESP2, a double in
/// RESP3 (with the same digits).
pub fn coord_reply(x: f64, resp3: bool) -> Frame {
    let text = LongDouble::from_f64(x).to_human();
    if resp3 {
        Frame::Raw(Bytes::from(format!(",{text}\r\n")))
    } else {
        Frame::Bulk(Bytes::from(text))
    }
}

/// A `[longitude, latitude]` pair.
pub fn coords_reply(xy: [f64; 2], resp3: bool) -> Frame {
    Frame::Array(vec![coord_reply(xy[0], resp3), coord_reply(xy[1], resp3)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: Frame) -> String {
        match f {
            Frame::Bulk(b) => String::from_utf8(b.to_vec()).unwrap_or_default(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn distances_and_coordinates_like_redis() {
        assert_eq!(text(distance_reply(0.0)), "0.0000");
        assert_eq!(text(distance_reply(0.0001)), "0.0001");
        assert_eq!(text(distance_reply(6.064_295_159_839_17e-5)), "0.0001");
        assert_eq!(text(distance_reply(0.01)), "0.0100");
        assert_eq!(text(distance_reply(-0.01)), "-0.0100");
        assert_eq!(text(distance_reply(166274.1516)), "166274.1516");
        assert_eq!(text(coord_reply(13.361389338970184, false)), "13.36138933897018433");
        assert_eq!(text(coord_reply(-1.0, false)), "-1");
        assert_eq!(text(coord_reply(0.0, false)), "0");
    }
}
