//! Commands that add or remove entries: XADD, XTRIM, XDEL, XSETID. Approximate trims are
//! propagated as exact ones (`=` and the resulting length or first ID) and generated IDs as
//! the ID chosen, so replicas and the AOF end with the same entries.

use super::common::{create_stream, id_bytes, limits, parse_strict_id, stream_exists, stream_mut, INVALID_ID};
use crate::commands::args;
use crate::commands::{Ctx, Reply};
use crate::notify::class;
use crate::store::stream::{ParsedId, Stream, StreamId, TrimTo, MAX_ENTRY_BYTES};
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;
use smallvec::SmallVec;

/// The trimming and creation options of XADD / XTRIM (Redis's `streamAddTrimArgs`).
#[derive(Default)]
struct TrimArgs {
    to: Option<TrimTo>,
    approx: bool,
    limit: u64,
    /// Position of the MAXLEN / MINID value (rewritten for propagation).
    to_at: usize,
    no_mkstream: bool,
    /// XADD: the ID argument's position and value (`None` for `*`).
    id_at: usize,
    id: Option<ParsedId>,
}

fn err(msg: &'static str) -> Frame {
    Frame::error_static(msg)
}

const BOTH: &str = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";

/// Redis's `streamParseAddOrTrimArgsOrReply`.
fn parse_trim(ctx: &Ctx, a: &[Bytes], xadd: bool) -> Result<TrimArgs, Frame> {
    let mut t = TrimArgs::default();
    let (mut i, mut limit_given, mut limit) = (2, false, 0i64);
    while i < a.len() {
        let more = a.len() - 1 - i;
        let opt = &a[i][..];
        if xadd && opt == b"*" {
            break;
        } else if (args::is(opt, "maxlen") || args::is(opt, "minid")) && more > 0 {
            if t.to.is_some() {
                return Err(err(BOTH));
            }
            t.approx = false;
            if more >= 2 && (&a[i + 1][..] == b"~" || &a[i + 1][..] == b"=") {
                t.approx = &a[i + 1][..] == b"~";
                i += 1;
            }
            let v = &a[i + 1];
            t.to = Some(if args::is(opt, "maxlen") {
                let n = args::int(v)?;
                if n < 0 {
                    return Err(err("ERR The MAXLEN argument must be >= 0."));
                }
                TrimTo::MaxLen(n as u64)
            } else {
                TrimTo::MinId(parse_strict_id(v, 0)?)
            });
            i += 1;
            t.to_at = i;
        } else if args::is(opt, "limit") && more > 0 {
            limit = args::int(&a[i + 1])?;
            if limit < 0 {
                return Err(err("ERR The LIMIT argument must be >= 0."));
            }
            limit_given = true;
            i += 1;
        } else if xadd && args::is(opt, "nomkstream") {
            t.no_mkstream = true;
        } else if xadd {
            if opt.len() > 127 {
                return Err(err(INVALID_ID));
            }
            t.id = Some(StreamId::parse(opt, 0, true).ok_or_else(|| err(INVALID_ID))?);
            break;
        } else {
            return Err(Frame::error_static(errors::SYNTAX));
        }
        i += 1;
    }
    t.id_at = i;
    if limit != 0 && t.to.is_none() {
        return Err(err("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"));
    }
    if !xadd && t.to.is_none() {
        return Err(err("ERR syntax error, XTRIM must be called with a trimming strategy"));
    }
    if ctx.client.is_master_link {
        t.limit = 0;
    } else if limit_given {
        if !t.approx {
            return Err(err("ERR syntax error, LIMIT cannot be used without the special ~ option"));
        }
        t.limit = limit as u64;
    } else if t.approx {
        let per_node = limits(ctx).max_entries as i64;
        t.limit = match per_node.saturating_mul(100) {
            n if n <= 0 => 10_000,
            n => n.min(1_000_000) as u64,
        };
    }
    Ok(t)
}

/// An approximate trim's exact result, as replicas and the AOF are told it.
struct ExactTrim(Option<Bytes>);

impl ExactTrim {
    /// Write it over the trim's `~ threshold` in the propagated line `out`.
    fn apply(self, t: &TrimArgs, out: &mut [Bytes]) {
        if let Some(exact) = self.0 {
            out[t.to_at - 1] = Bytes::from_static(b"=");
            out[t.to_at] = exact;
        }
    }
}

/// Trim `s` as `t` asks: how many entries went, and an approximate trim's exact result.
fn trim(s: &mut Stream, t: &TrimArgs) -> (u64, ExactTrim) {
    let Some(to) = t.to else { return (0, ExactTrim(None)) };
    let deleted = s.trim(to, t.approx, t.limit);
    let exact = t.approx.then(|| match to {
        TrimTo::MaxLen(_) => Bytes::from(s.len().to_string()),
        TrimTo::MinId(_) => id_bytes(s.edge_id(false).unwrap_or(StreamId::MAX)),
    });
    (deleted, ExactTrim(exact))
}

/// `XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value ...`
pub fn xadd(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let t = parse_trim(ctx, a, true)?;
    let fields_at = t.id_at + 1;
    if a.len() < fields_at + 2 || (a.len() - fields_at) % 2 == 1 {
        return Err(Frame::error(errors::wrong_arity("xadd")));
    }
    if t.id.is_some_and(|p| p.seq_given && p.id.is_zero()) {
        return Err(err("ERR The ID specified in XADD must be greater than 0-0"));
    }
    let key = &a[1];
    if !stream_exists(ctx, key)? {
        if t.no_mkstream {
            return Ok(Frame::Null);
        }
        create_stream(ctx, key);
    }
    let (limits, now) = (limits(ctx), ctx.now_ms as u64);
    let pairs: SmallVec<[(&[u8], &[u8]); 8]> = a[fields_at..].chunks(2).map(|p| (&p[0][..], &p[1][..])).collect();
    let s = stream_mut(ctx, key).expect("checked above");
    let id = next_id(s, t.id, now)?;
    if pairs.iter().map(|(f, v)| f.len() + v.len()).sum::<usize>() > MAX_ENTRY_BYTES {
        return Err(err("ERR Elements are too large to be stored"));
    }
    s.append(id, &pairs, limits);
    let (trimmed, rewrite) = trim(s, &t);
    let id = id_bytes(id);
    ctx.notify(class::STREAM, "xadd", key);
    if trimmed > 0 {
        ctx.notify(class::STREAM, "xtrim", key);
    }
    if ctx.streaming {
        // The line replicas and the AOF get: the ID chosen, an exact trim. Without a consumer
        // of the write stream the seam counts the write as one change, and nothing is built.
        let mut out = a.to_vec();
        out[t.id_at] = id.clone();
        rewrite.apply(&t, &mut out);
        ctx.propagate = Some(vec![out]);
    }
    Ok(Frame::Bulk(id))
}

/// Redis's ID choice in `streamAppendItem` (and `streamNextID`), with its errors.
fn next_id(s: &Stream, given: Option<ParsedId>, now_ms: u64) -> Result<StreamId, Frame> {
    const TOP: &str = "ERR The ID specified in XADD is equal or smaller than the target stream top item";
    if s.last_id == StreamId::MAX {
        return Err(err("ERR The stream has exhausted the last possible ID, unable to add more items"));
    }
    let last = s.last_id;
    let id = match given {
        Some(p) if p.seq_given => p.id,
        Some(p) if p.id.ms == last.ms => {
            let seq = last.seq.checked_add(1).ok_or_else(|| err(TOP))?;
            StreamId::new(last.ms, seq)
        }
        Some(p) => p.id,
        None if last.ms < now_ms => StreamId::new(now_ms, 0),
        None => last.next().ok_or_else(|| err(TOP))?,
    };
    if id <= last {
        return Err(err(TOP));
    }
    Ok(id)
}

/// `XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]`: how many entries went.
pub fn xtrim(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let t = parse_trim(ctx, a, false)?;
    let key = &a[1];
    if !stream_exists(ctx, key)? {
        return Ok(Frame::Integer(0));
    }
    let s = stream_mut(ctx, key).expect("checked above");
    let (deleted, rewrite) = trim(s, &t);
    if deleted > 0 {
        ctx.notify(class::STREAM, "xtrim", key);
    }
    ctx.propagate = Some(if deleted > 0 {
        let mut out = a.to_vec();
        rewrite.apply(&t, &mut out);
        vec![out]
    } else {
        Vec::new()
    });
    Ok(Frame::Integer(deleted as i64))
}

/// `XDEL key id [id ...]`: how many were deleted.
pub fn xdel(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let key = &a[1];
    if !stream_exists(ctx, key)? {
        return Ok(Frame::Integer(0));
    }
    let ids = a[2..].iter().map(|x| parse_strict_id(x, 0)).collect::<Result<Vec<_>, _>>()?;
    let s = stream_mut(ctx, key).expect("checked above");
    let mut deleted = 0;
    for id in ids {
        if s.remove(id) {
            s.max_deleted_id = s.max_deleted_id.max(id);
            deleted += 1;
        }
    }
    if deleted > 0 {
        ctx.notify(class::STREAM, "xdel", key);
    } else {
        ctx.propagate = Some(Vec::new());
    }
    Ok(Frame::Integer(deleted))
}

/// `XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]`.
pub fn xsetid(ctx: &mut Ctx, a: &[Bytes]) -> Reply {
    let id = parse_strict_id(&a[2], 0)?;
    let (mut added, mut max_deleted) = (None, StreamId::MIN);
    let mut i = 3;
    while i < a.len() {
        let more = i + 1 < a.len();
        if args::is(&a[i], "entriesadded") && more {
            let n = args::int(&a[i + 1])?;
            if n < 0 {
                return Err(err("ERR entries_added must be positive"));
            }
            added = Some(n as u64);
        } else if args::is(&a[i], "maxdeletedid") && more {
            max_deleted = parse_strict_id(&a[i + 1], 0)?;
            if id < max_deleted {
                return Err(err("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"));
            }
        } else {
            return Err(Frame::error_static(errors::SYNTAX));
        }
        i += 2;
    }
    let key = &a[1];
    if !stream_exists(ctx, key)? {
        return Err(Frame::error_static(errors::NO_SUCH_KEY));
    }
    let s = stream_mut(ctx, key).expect("checked above");
    if let Some(top) = s.edge_id(true) {
        if id < top {
            return Err(err("ERR The ID specified in XSETID is smaller than the target stream top item"));
        }
        if added.is_some_and(|n| s.len() > n) {
            return Err(err("ERR The entries_added specified in XSETID is smaller than the target stream length"));
        }
    }
    s.last_id = id;
    if let Some(n) = added {
        s.entries_added = n;
    }
    if !max_deleted.is_zero() {
        s.max_deleted_id = max_deleted;
    }
    ctx.notify(class::STREAM, "xsetid", key);
    Ok(Frame::ok())
}
