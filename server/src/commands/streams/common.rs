//! Helpers the stream commands share: typed lookups, ID arguments in the forms Redis accepts,
//! the node limits from the config, and reply shapes (an entry, an ID).

use crate::commands::keys::lookup::read;
use crate::commands::Ctx;
use crate::store::stream::{EntryRef, NodeLimits, Stream, StreamId};
use crate::store::{Entry, Value};
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;
use std::sync::atomic::Ordering;

pub(super) const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

pub(super) fn wrongtype() -> Frame {
    Frame::error_static(errors::WRONGTYPE)
}

/// Redis's `lookupKeyRead` + `checkType` (counts a hit or miss).
pub(super) fn read_stream<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a Stream>, Frame> {
    match read(ctx.keys, &ctx.shared.stats, key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::Stream(s)) => Ok(Some(s)),
        Some(_) => Err(wrongtype()),
    }
}

/// Is there a stream at `key` (WRONGTYPE for another type)? Not a modification.
pub(super) fn stream_exists(ctx: &mut Ctx, key: &[u8]) -> Result<bool, Frame> {
    match ctx.keys.get(key).map(|e| &e.value) {
        None => Ok(false),
        Some(Value::Stream(_)) => Ok(true),
        Some(_) => Err(wrongtype()),
    }
}

/// The stream at `key` for modification (counts as one for WATCH); `None` if there is no
/// stream there: callers check the type first.
pub(super) fn stream_mut<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Option<&'a mut Stream> {
    match ctx.keys.get_mut(key).map(|e| &mut e.value) {
        Some(Value::Stream(s)) => Some(s),
        _ => None,
    }
}

/// Create an empty stream at `key` (the caller checked there is no key).
pub(super) fn create_stream(ctx: &mut Ctx, key: &[u8]) {
    ctx.keys.insert(key, Entry::new(Value::Stream(Box::default())));
}

/// `stream-node-max-bytes` / `stream-node-max-entries`.
pub(super) fn limits(ctx: &Ctx) -> NodeLimits {
    let hot = &ctx.shared.hot;
    NodeLimits {
        max_bytes: hot.stream_node_max_bytes.load(Ordering::Relaxed),
        max_entries: hot.stream_node_max_entries.load(Ordering::Relaxed),
    }
}

/// Redis's `streamParseIDOrReply`: `-`, `+`, `ms` (sequence `missing_seq`) or `ms-seq`.
pub(super) fn parse_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, Frame> {
    match arg {
        b"-" => Ok(StreamId::MIN),
        b"+" => Ok(StreamId::MAX),
        _ => parse_strict_id(arg, missing_seq),
    }
}

/// Redis's `streamParseStrictIDOrReply` without `ms-*`: `-` and `+` are invalid.
pub(super) fn parse_strict_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, Frame> {
    if arg.len() > 127 {
        return Err(Frame::error_static(INVALID_ID));
    }
    StreamId::parse(arg, missing_seq, false).map(|p| p.id).ok_or_else(|| Frame::error_static(INVALID_ID))
}

/// A range bound (`streamParseIntervalIDOrReply`): `(` makes it exclusive, which moves it one
/// ID inwards (`None` when that leaves the ID space).
pub(super) fn parse_bound(arg: &[u8], missing_seq: u64, upper: bool) -> Result<Option<StreamId>, Frame> {
    if arg.len() > 1 && arg[0] == b'(' {
        let id = parse_strict_id(&arg[1..], missing_seq)?;
        return Ok(if upper { id.prev() } else { id.next() });
    }
    parse_id(arg, missing_seq).map(Some)
}

/// `<ms>-<seq>` written into `buf` (two u64s of at most 20 digits and the dash); its length.
fn id_text(buf: &mut [u8; 41], id: StreamId) -> usize {
    let (mut ms, mut seq) = (itoa::Buffer::new(), itoa::Buffer::new());
    let (ms, seq) = (ms.format(id.ms).as_bytes(), seq.format(id.seq).as_bytes());
    buf[..ms.len()].copy_from_slice(ms);
    buf[ms.len()] = b'-';
    buf[ms.len() + 1..ms.len() + 1 + seq.len()].copy_from_slice(seq);
    ms.len() + 1 + seq.len()
}

pub(super) fn id_bytes(id: StreamId) -> Bytes {
    let mut buf = [0u8; 41];
    let n = id_text(&mut buf, id);
    Bytes::copy_from_slice(&buf[..n])
}

pub(super) fn id_frame(id: StreamId) -> Frame {
    Frame::Bulk(id_bytes(id))
}

/// Append the encoding of `[id, [field, value, ...]]` (arrays of bulk strings: the same bytes
/// in RESP2 and RESP3).
fn encode_entry(out: &mut Vec<u8>, e: &EntryRef) {
    use slotbox_protocol::encode::{array_header, bulk};
    array_header(out, 2);
    let mut id = [0u8; 41];
    let n = id_text(&mut id, e.id);
    bulk(out, &id[..n]);
    array_header(out, e.fields.len() * 2);
    for (f, v) in &e.fields {
        bulk(out, f);
        bulk(out, v);
    }
}

/// `[id, [field, value, ...]]`, pre-encoded.
pub(super) fn entry_frame(e: &EntryRef) -> Frame {
    let mut out = Vec::with_capacity(64);
    encode_entry(&mut out, e);
    Frame::Raw(out.into())
}

/// An array of entries, pre-encoded in one buffer.
pub(super) fn entries_frame(entries: &[EntryRef]) -> Frame {
    let mut out = Vec::with_capacity(16 + entries.len() * 64);
    slotbox_protocol::encode::array_header(&mut out, entries.len());
    for e in entries {
        encode_entry(&mut out, e);
    }
    Frame::Raw(out.into())
}

/// A non-negative COUNT-style integer (negative values count as 0, as Redis clamps them).
pub(super) fn count_arg(arg: &[u8]) -> Result<i64, Frame> {
    crate::commands::args::int(arg)
}

/// `-NOGROUP No such key '<key>' or consumer group '<group>'<suffix>`.
pub(super) fn nogroup(key: &[u8], group: &[u8], suffix: &str) -> Frame {
    Frame::error(format!(
        "NOGROUP No such key '{}' or consumer group '{}'{suffix}",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

/// A command line for the write stream.
pub(super) fn line(parts: &[&[u8]]) -> Vec<Bytes> {
    parts.iter().map(|p| Bytes::copy_from_slice(p)).collect()
}
