//! The arguments of GEORADIUS, GEORADIUSBYMEMBER (and their _RO forms), GEOSEARCH and
//! GEOSEARCHSTORE, parsed as Redis's `georadiusGeneric` does — in the same order, so the same
//! error wins (a missing FROMMEMBER member is reported before a later syntax error).

use super::common::{float_arg, long_lat, member_pos, unit};
use super::helper::{Shape, ShapeKind};
use crate::commands::args;
use crate::store::types::ZSetValue;
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

/// Which command is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// GEORADIUS key lon lat radius unit ... (`ro`: no STORE).
    Radius { ro: bool },
    /// GEORADIUSBYMEMBER key member radius unit ... (`ro`: no STORE).
    ByMember { ro: bool },
    /// GEOSEARCH key ...
    Search,
    /// GEOSEARCHSTORE dest key ...
    SearchStore,
}

impl Variant {
    pub fn is_search(self) -> bool {
        matches!(self, Variant::Search | Variant::SearchStore)
    }

    fn may_store(self) -> bool {
        matches!(self, Variant::Radius { ro: false } | Variant::ByMember { ro: false })
    }

    /// Index of the source key.
    pub fn source(self) -> usize {
        if self == Variant::SearchStore {
            2
        } else {
            1
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    None,
    Asc,
    Desc,
}

/// A parsed search.
pub struct Query {
    pub shape: Shape,
    pub withdist: bool,
    pub withhash: bool,
    pub withcoord: bool,
    pub sort: Sort,
    /// Stop at `count` matches found, unsorted (ANY).
    pub any: bool,
    /// Most results to return (0: all).
    pub count: usize,
    /// Where to store the results, and whether the scores stored are distances.
    pub store: Option<(Bytes, bool)>,
}

fn could_not_decode() -> Frame {
    Frame::error_static("ERR could not decode requested zset member")
}

/// `extractDistanceOrReply`: (radius, meters per unit).
fn distance(args: &[Bytes]) -> Result<(f64, f64), Frame> {
    let d = float_arg(&args[0], "ERR need numeric radius")?;
    if d < 0.0 {
        return Err(Frame::error_static("ERR radius cannot be negative"));
    }
    Ok((d, unit(&args[1])?))
}

/// `extractBoxOrReply`: (width, height, meters per unit).
fn box_size(args: &[Bytes]) -> Result<(f64, f64, f64), Frame> {
    let w = float_arg(&args[0], "ERR need numeric width")?;
    let h = float_arg(&args[1], "ERR need numeric height")?;
    if h < 0.0 || w < 0.0 {
        return Err(Frame::error_static("ERR height or width cannot be negative"));
    }
    Ok((w, h, unit(&args[2])?))
}

/// What the option loop has seen of GEOSEARCH's centre and shape.
#[derive(Default)]
struct Seen {
    frommember: bool,
    fromloc: bool,
    byradius: bool,
    bybox: bool,
}

/// Parse a search whose source sorted set is `z` (`None`: the key does not exist).
pub fn parse(args: &[Bytes], v: Variant, z: Option<&ZSetValue>) -> Result<Query, Frame> {
    let mut q = Query {
        shape: Shape { xy: [0.0; 2], conversion: 0.0, kind: ShapeKind::Circle { radius: 0.0 } },
        withdist: false,
        withhash: false,
        withcoord: false,
        sort: Sort::None,
        any: false,
        count: 0,
        store: None,
    };
    let base = match v {
        Variant::Radius { .. } => {
            q.shape.xy = long_lat(&args[2..4])?;
            let (radius, conversion) = distance(&args[4..6])?;
            (q.shape.kind, q.shape.conversion) = (ShapeKind::Circle { radius }, conversion);
            6
        }
        Variant::ByMember { .. } => {
            if let Some(z) = z {
                q.shape.xy = member_pos(z, &args[2]).ok_or_else(could_not_decode)?;
                let (radius, conversion) = distance(&args[3..5])?;
                (q.shape.kind, q.shape.conversion) = (ShapeKind::Circle { radius }, conversion);
            }
            5
        }
        Variant::Search => 2,
        Variant::SearchStore => {
            q.store = Some((args[1].clone(), false));
            3
        }
    };
    let mut seen = Seen::default();
    let rest = &args[base..];
    let mut i = 0;
    while i < rest.len() {
        i += option(&mut q, &mut seen, &rest[i..], v, z)?;
    }
    check(&q, &seen, v, &args[0])?;
    Ok(q)
}

/// One option at the head of `rest`; how many arguments it took.
fn option(q: &mut Query, seen: &mut Seen, rest: &[Bytes], v: Variant, z: Option<&ZSetValue>) -> Result<usize, Frame> {
    let arg = rest[0].to_ascii_lowercase();
    let more = rest.len() - 1;
    match arg.as_slice() {
        b"withdist" => q.withdist = true,
        b"withhash" => q.withhash = true,
        b"withcoord" => q.withcoord = true,
        b"any" => q.any = true,
        b"asc" => q.sort = Sort::Asc,
        b"desc" => q.sort = Sort::Desc,
        b"count" if more >= 1 => {
            let n = args::int(&rest[1])?;
            if n <= 0 {
                return Err(Frame::error_static("ERR COUNT must be > 0"));
            }
            q.count = n as usize;
            return Ok(2);
        }
        b"store" | b"storedist" if more >= 1 && v.may_store() => {
            q.store = Some((rest[1].clone(), arg == b"storedist"));
            return Ok(2);
        }
        b"storedist" if v == Variant::SearchStore => {
            if let Some(store) = &mut q.store {
                store.1 = true;
            }
        }
        b"frommember" if more >= 1 && v.is_search() && !seen.fromloc => {
            if let Some(z) = z {
                q.shape.xy = member_pos(z, &rest[1]).ok_or_else(could_not_decode)?;
            }
            seen.frommember = true;
            return Ok(2);
        }
        b"fromlonlat" if more >= 2 && v.is_search() && !seen.frommember => {
            q.shape.xy = long_lat(&rest[1..3])?;
            seen.fromloc = true;
            return Ok(3);
        }
        b"byradius" if more >= 2 && v.is_search() && !seen.bybox => {
            let (radius, conversion) = distance(&rest[1..3])?;
            (q.shape.kind, q.shape.conversion) = (ShapeKind::Circle { radius }, conversion);
            seen.byradius = true;
            return Ok(3);
        }
        b"bybox" if more >= 3 && v.is_search() && !seen.byradius => {
            let (width, height, conversion) = box_size(&rest[1..4])?;
            (q.shape.kind, q.shape.conversion) = (ShapeKind::Box { width, height }, conversion);
            seen.bybox = true;
            return Ok(4);
        }
        _ => return Err(Frame::error_static(errors::SYNTAX)),
    }
    Ok(1)
}

/// The checks after the option loop, in Redis's order.
fn check(q: &Query, seen: &Seen, v: Variant, name: &[u8]) -> Result<(), Frame> {
    if q.store.is_some() && (q.withdist || q.withhash || q.withcoord) {
        let what = if v == Variant::SearchStore { "GEOSEARCHSTORE" } else { "STORE option in GEORADIUS" };
        return Err(Frame::error(format!(
            "ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )));
    }
    let name = String::from_utf8_lossy(name);
    if v.is_search() && !(seen.frommember || seen.fromloc) {
        return Err(Frame::error(format!("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}")));
    }
    if v.is_search() && !(seen.byradius || seen.bybox) {
        return Err(Frame::error(format!("ERR exactly one of BYRADIUS and BYBOX can be specified for {name}")));
    }
    if q.any && q.count == 0 {
        return Err(Frame::error_static("ERR the ANY argument requires COUNT argument"));
    }
    Ok(())
}
