//! Running a parsed GEO search: the sorted-set score ranges of the nine boxes scanned in
//! Redis's order (`membersOfAllNeighbors`), the points inside the shape, sorted by distance
//! (a stable sort, as glibc's `qsort`), then the reply or the stored sorted set with its
//! keyspace event. Also the handlers of the six search commands.

use super::common::{coords_reply, distance_reply, is_resp3, read_geo};
use super::geohash::{self, HashBits};
use super::helper::{self, Shape};
use super::pqsort::pqsort;
use super::query::{self, Query, Sort, Variant};
use crate::commands::{Ctx, Reply};
use crate::notify::class;
use crate::store::types::ZSetValue;
use crate::store::{Entry, Value};
use bytes::Bytes;
use slotbox_protocol::Frame;
use std::cmp::Ordering;

/// One match.
pub struct Point {
    pub xy: [f64; 2],
    pub dist: f64,
    pub score: f64,
    pub member: Bytes,
}

/// `geoGetPointsInRange`: members with `min <= score < max` inside `shape`, appended to `out`;
/// stops once `out` holds `limit` points (0: no limit).
fn points_in_range(z: &ZSetValue, range: (f64, f64), shape: &Shape, out: &mut Vec<Point>, limit: usize) {
    z.visit_score_range(range, |score, member| {
        let xy = geohash::decode_score(score);
        if let Some(dist) = helper::within(shape, xy) {
            out.push(Point { xy, dist, score, member: Bytes::copy_from_slice(member) });
        }
        limit == 0 || out.len() < limit
    });
}

/// The score range of everything inside box `hash`.
fn box_scores(hash: HashBits) -> (f64, f64) {
    let min = hash.align52();
    let max = HashBits { bits: hash.bits + 1, step: hash.step }.align52();
    (min as f64, max as f64)
}

/// `membersOfAllNeighbors`: scan the centre box and its neighbours, skipping zeroed ones and
/// a box equal to the one scanned just before it.
fn collect(z: &ZSetValue, shape: &Shape, limit: usize) -> Vec<Point> {
    let boxes = helper::areas_by_shape(shape).in_order();
    let mut out = Vec::new();
    let mut last: usize = 0;
    for (i, b) in boxes.iter().enumerate() {
        if b.is_zero() {
            continue;
        }
        if last != 0 && *b == boxes[last] {
            continue;
        }
        if limit != 0 && out.len() >= limit {
            break;
        }
        points_in_range(z, box_scores(*b), shape, &mut out, limit);
        last = i;
    }
    out
}

/// The matches of `q` in `z`, sorted as asked and cut to COUNT, distances in the unit asked.
fn run(z: &ZSetValue, q: &Query) -> Vec<Point> {
    let limit = if q.any { q.count } else { 0 };
    let mut points = collect(z, &q.shape, limit);
    let sort = if q.count != 0 && q.sort == Sort::None && !q.any { Sort::Asc } else { q.sort };
    let returned = if q.count == 0 { points.len() } else { q.count.min(points.len()) };
    if sort != Sort::None && !points.is_empty() {
        let desc = sort == Sort::Desc;
        // Redis's comparator (`sort_gp_asc`): an unordered pair (NaN) counts as "less".
        let cmp = |a: &Point, b: &Point| {
            let o = if a.dist > b.dist {
                Ordering::Greater
            } else if a.dist == b.dist {
                Ordering::Equal
            } else {
                Ordering::Less
            };
            if desc {
                o.reverse()
            } else {
                o
            }
        };
        if returned == points.len() {
            // glibc's qsort is a merge sort: stable, so ties keep the scan order.
            merge_sort(&mut points, &cmp);
        } else {
            pqsort(&mut points, &cmp, 0, returned - 1);
        }
    }
    points.truncate(returned);
    for p in &mut points {
        p.dist /= q.shape.conversion;
    }
    points
}

/// A stable merge sort that never panics on an inconsistent comparator (`slice::sort_by`
/// may): top-down, as glibc's `msort`, so equal keys keep their order.
fn merge_sort(v: &mut Vec<Point>, cmp: &impl Fn(&Point, &Point) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    let right = v.split_off(v.len() / 2);
    let mut left = std::mem::take(v);
    let mut right = right;
    merge_sort(&mut left, cmp);
    merge_sort(&mut right, cmp);
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut l, mut r) = (left.into_iter().peekable(), right.into_iter().peekable());
    while let (Some(a), Some(b)) = (l.peek(), r.peek()) {
        let next = if cmp(a, b) != Ordering::Greater { l.next() } else { r.next() };
        out.extend(next);
    }
    out.extend(l);
    out.extend(r);
    *v = out;
}

fn reply(points: Vec<Point>, q: &Query, resp3: bool) -> Frame {
    let with = q.withdist || q.withhash || q.withcoord;
    let out = points
        .into_iter()
        .map(|p| {
            if !with {
                return Frame::Bulk(p.member);
            }
            let mut item = vec![Frame::Bulk(p.member)];
            if q.withdist {
                item.push(distance_reply(p.dist));
            }
            if q.withhash {
                item.push(Frame::Integer(p.score as i64));
            }
            if q.withcoord {
                item.push(coords_reply(p.xy, resp3));
            }
            Frame::Array(item)
        })
        .collect();
    Frame::Array(out)
}

/// Replace `dest` with the results (or delete it when there are none), with Redis's events.
fn store(ctx: &mut Ctx, dest: &[u8], points: Vec<Point>, storedist: bool, v: Variant) -> Frame {
    let n = points.len() as i64;
    if points.is_empty() {
        if ctx.keys.remove(dest).is_some() {
            ctx.notify(class::GENERIC, "del", dest);
        }
        return Frame::Integer(0);
    }
    let mut z = ZSetValue::default();
    for p in &points {
        z.put(&p.member, if storedist { p.dist } else { p.score });
    }
    ctx.keys.insert(dest, Entry::new(Value::ZSet(Box::new(z))));
    let event = if v.is_search() { "geosearchstore" } else { "georadiusstore" };
    ctx.notify(class::ZSET, event, dest);
    Frame::Integer(n)
}

/// `georadiusGeneric`.
fn generic(ctx: &mut Ctx, args: &[Bytes], v: Variant) -> Reply {
    let resp3 = is_resp3(ctx);
    let (q, points) = {
        let z = read_geo(ctx, &args[v.source()])?;
        let q = query::parse(args, v, z)?;
        let points = z.map(|z| run(z, &q));
        (q, points)
    };
    let Some((dest, storedist)) = q.store.clone() else {
        // A read: nothing to replicate even for the forms flagged as writes.
        ctx.propagate = Some(Vec::new());
        return Ok(points.map_or(Frame::Array(Vec::new()), |p| reply(p, &q, resp3)));
    };
    Ok(store(ctx, &dest, points.unwrap_or_default(), storedist, v))
}

pub fn georadius(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, Variant::Radius { ro: false })
}

pub fn georadius_ro(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, Variant::Radius { ro: true })
}

pub fn georadiusbymember(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, Variant::ByMember { ro: false })
}

pub fn georadiusbymember_ro(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, Variant::ByMember { ro: true })
}

pub fn geosearch(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, Variant::Search)
}

pub fn geosearchstore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, Variant::SearchStore)
}
