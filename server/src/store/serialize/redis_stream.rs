//! Reading a stream from a payload real Redis's `DUMP` wrote (RDB types `STREAM_LISTPACKS`
//! and `STREAM_LISTPACKS_2`, RDB version up to 10), so RESTORE and MIGRATE take streams from
//! Redis 5 to 7.0. Only reading: slotbox's own DUMP keeps its format.
//!
//! # Format
//!
//! ```text
//! payload  type · object · rdb version (2 bytes LE) · CRC-64/Jones (8 bytes LE)
//! object   nodes · (string node-key[16] · string listpack)* · length · last_id
//!          [· first_id · max_deleted_id · entries_added]            (type 19)
//!          · groups · (string name · last_id [· entries_read] · pel · (raw-id[16] · ms[8 LE]
//!          · count)* · consumers · (string name · ms[8 LE] · n · raw-id[16]*)*)*
//! ```
//!
//! Lengths are RDB lengths, strings RDB strings (plain, integer or LZF), IDs two lengths.
//! A listpack holds the master entry (count, deleted, fields) and then the entries (flags,
//! ID deltas from the node key, fields or values, back-count). Nothing here trusts a length.

use super::wire::{crc64, RestoreError};
use crate::store::stream::{Group, NodeLimits, Stream, StreamId};

type Result<T> = std::result::Result<T, RestoreError>;

const TYPE_STREAM_LISTPACKS: u8 = 15;
const TYPE_STREAM_LISTPACKS_2: u8 = 19;
const MAX_RDB_VERSION: u16 = 10;
const FLAG_DELETED: i64 = 1;
const FLAG_SAME_FIELDS: i64 = 2;

const BAD: RestoreError = RestoreError::BadData;

/// Does `payload` look like a Redis DUMP of a stream (its first byte)?
pub fn is_redis_stream(payload: &[u8]) -> bool {
    matches!(payload.first(), Some(&TYPE_STREAM_LISTPACKS | &TYPE_STREAM_LISTPACKS_2))
}

/// Check a Redis DUMP payload's version and checksum and read its stream.
pub fn restore(payload: &[u8]) -> Result<Stream> {
    if payload.len() < 11 {
        return Err(RestoreError::VersionOrChecksum);
    }
    let (body, crc) = payload.split_at(payload.len() - 8);
    let version = u16::from_le_bytes([body[body.len() - 2], body[body.len() - 1]]);
    if version > MAX_RDB_VERSION || crc64(0, body) != u64::from_le_bytes(crc.try_into().map_err(|_| BAD)?) {
        return Err(RestoreError::VersionOrChecksum);
    }
    let mut r = Reader(&body[1..body.len() - 2]);
    let s = read_stream(&mut r, body[0] == TYPE_STREAM_LISTPACKS_2)?;
    if !r.0.is_empty() {
        return Err(BAD);
    }
    Ok(s)
}

pub(super) struct Reader<'a>(pub(super) &'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.0.len() {
            return Err(BAD);
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }

    pub(super) fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    /// An RDB length; `Err` for an encoded value.
    fn len(&mut self) -> Result<u64> {
        match self.len_or_enc()? {
            (n, false) => Ok(n),
            _ => Err(BAD),
        }
    }

    /// An RDB length, or (with `true`) a special encoding's number.
    fn len_or_enc(&mut self) -> Result<(u64, bool)> {
        let b = self.byte()?;
        Ok(match b >> 6 {
            0 => (u64::from(b & 0x3f), false),
            1 => ((u64::from(b & 0x3f) << 8) | u64::from(self.byte()?), false),
            3 => (u64::from(b & 0x3f), true),
            _ if b == 0x80 => (u64::from(u32::from_be_bytes(self.take(4)?.try_into().map_err(|_| BAD)?)), false),
            _ if b == 0x81 => (u64::from_be_bytes(self.take(8)?.try_into().map_err(|_| BAD)?), false),
            _ => return Err(BAD),
        })
    }

    /// An RDB string (plain, integer-encoded or LZF-compressed).
    pub(super) fn string(&mut self) -> Result<Vec<u8>> {
        let (n, enc) = self.len_or_enc()?;
        if !enc {
            return Ok(self.take(usize::try_from(n).map_err(|_| BAD)?)?.to_vec());
        }
        let int = match n {
            0 => i64::from(self.byte()? as i8),
            1 => i64::from(i16::from_le_bytes(self.take(2)?.try_into().map_err(|_| BAD)?)),
            2 => i64::from(i32::from_le_bytes(self.take(4)?.try_into().map_err(|_| BAD)?)),
            3 => {
                let (clen, len) = (self.len()?, self.len()?);
                let packed = self.take(usize::try_from(clen).map_err(|_| BAD)?)?;
                return lzf_decompress(packed, usize::try_from(len).map_err(|_| BAD)?);
            }
            _ => return Err(BAD),
        };
        Ok(int.to_string().into_bytes())
    }

    fn id(&mut self) -> Result<StreamId> {
        Ok(StreamId::new(self.len()?, self.len()?))
    }

    fn raw_id(&mut self) -> Result<StreamId> {
        raw_id(self.take(16)?)
    }

    fn ms(&mut self) -> Result<i64> {
        Ok(i64::from_le_bytes(self.take(8)?.try_into().map_err(|_| BAD)?))
    }
}

fn raw_id(b: &[u8]) -> Result<StreamId> {
    if b.len() != 16 {
        return Err(BAD);
    }
    let ms = u64::from_be_bytes(b[..8].try_into().map_err(|_| BAD)?);
    Ok(StreamId::new(ms, u64::from_be_bytes(b[8..].try_into().map_err(|_| BAD)?)))
}

/// LZF (liblzf's format, as Redis compresses RDB strings); the output must be `len` bytes.
fn lzf_decompress(mut input: &[u8], len: usize) -> Result<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(len.min(input.len().saturating_mul(256)));
    while let Some((&ctrl, rest)) = input.split_first() {
        input = rest;
        if ctrl < 32 {
            let n = usize::from(ctrl) + 1;
            if n > input.len() || out.len() + n > len {
                return Err(BAD);
            }
            out.extend_from_slice(&input[..n]);
            input = &input[n..];
            continue;
        }
        let mut n = usize::from(ctrl >> 5);
        let mut next = || -> Result<usize> {
            let (&b, rest) = input.split_first().ok_or(BAD)?;
            input = rest;
            Ok(usize::from(b))
        };
        if n == 7 {
            n += next()?;
        }
        let back = ((usize::from(ctrl & 0x1f)) << 8) + next()? + 1;
        n += 2;
        if back > out.len() || out.len() + n > len {
            return Err(BAD);
        }
        let from = out.len() - back;
        for i in 0..n {
            out.push(out[from + i]);
        }
    }
    if out.len() != len {
        return Err(BAD);
    }
    Ok(out)
}

/// One listpack element.
enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Elem<'_> {
    fn int(&self) -> Result<i64> {
        match self {
            Elem::Int(i) => Ok(*i),
            Elem::Str(s) => std::str::from_utf8(s).ok().and_then(|s| s.parse().ok()).ok_or(BAD),
        }
    }

    fn bytes(&self) -> Vec<u8> {
        match self {
            Elem::Int(i) => i.to_string().into_bytes(),
            Elem::Str(s) => s.to_vec(),
        }
    }
}

/// The elements of a listpack, in order.
fn listpack(lp: &[u8]) -> Result<Vec<Elem<'_>>> {
    if lp.len() < 7 || u32::from_le_bytes(lp[..4].try_into().map_err(|_| BAD)?) as usize != lp.len() {
        return Err(BAD);
    }
    let mut p = &lp[6..];
    let mut out = Vec::new();
    loop {
        let (&b, _) = p.split_first().ok_or(BAD)?;
        if b == 0xff {
            return if p.len() == 1 { Ok(out) } else { Err(BAD) };
        }
        let (elem, size) = element(p)?;
        let back = match size {
            0..=127 => 1,
            128..=16382 => 2,
            16383..=2097150 => 3,
            2097151..=268435454 => 4,
            _ => 5,
        };
        if size + back > p.len() {
            return Err(BAD);
        }
        out.push(elem);
        p = &p[size + back..];
    }
}

/// The element at the front of `p` and its size (encoding and data, without back-length).
fn element(p: &[u8]) -> Result<(Elem<'_>, usize)> {
    let get = |from: usize, n: usize| p.get(from..from + n).ok_or(BAD);
    let le = |from: usize, n: usize| -> Result<i64> {
        let b = get(from, n)?;
        let mut v: u64 = 0;
        for (i, &x) in b.iter().enumerate() {
            v |= u64::from(x) << (8 * i);
        }
        let shift = 64 - 8 * n as u32;
        Ok(((v << shift) as i64) >> shift)
    };
    let b = p[0];
    Ok(match b {
        0x00..=0x7f => (Elem::Int(i64::from(b)), 1),
        0x80..=0xbf => {
            let n = usize::from(b & 0x3f);
            (Elem::Str(get(1, n)?), 1 + n)
        }
        0xc0..=0xdf => {
            let v = (i64::from(b & 0x1f) << 8) | i64::from(*get(1, 1)?.first().ok_or(BAD)?);
            (Elem::Int(if v >= 1 << 12 { v - (1 << 13) } else { v }), 2)
        }
        0xe0..=0xef => {
            let n = (usize::from(b & 0x0f) << 8) | usize::from(get(1, 1)?[0]);
            (Elem::Str(get(2, n)?), 2 + n)
        }
        0xf0 => {
            let n = usize::try_from(le(1, 4)? as u32).map_err(|_| BAD)?;
            (Elem::Str(get(5, n)?), 5 + n)
        }
        0xf1 => (Elem::Int(le(1, 2)?), 3),
        0xf2 => (Elem::Int(le(1, 3)?), 4),
        0xf3 => (Elem::Int(le(1, 4)?), 5),
        0xf4 => (Elem::Int(le(1, 8)?), 9),
        _ => return Err(BAD),
    })
}

/// The live entries of one node's listpack, appended to `s`.
fn read_node(s: &mut Stream, base: StreamId, lp: &[u8]) -> Result<()> {
    let elems = listpack(lp)?;
    let mut it = elems.iter();
    let mut next = || it.next().ok_or(BAD);
    let (count, deleted) = (next()?.int()?, next()?.int()?);
    let master_n = usize::try_from(next()?.int()?).map_err(|_| BAD)?;
    let master: Vec<Vec<u8>> = (0..master_n).map(|_| next().map(Elem::bytes)).collect::<Result<_>>()?;
    if next()?.int()? != 0 || count < 0 || deleted < 0 {
        return Err(BAD);
    }
    for _ in 0..count.saturating_add(deleted) {
        let flags = next()?.int()?;
        let ms = base.ms.checked_add(u64::try_from(next()?.int()?).map_err(|_| BAD)?).ok_or(BAD)?;
        let seq = base.seq.checked_add(u64::try_from(next()?.int()?).map_err(|_| BAD)?).ok_or(BAD)?;
        let mut pairs = Vec::new();
        if flags & FLAG_SAME_FIELDS != 0 {
            for f in &master {
                pairs.push((f.clone(), next()?.bytes()));
            }
        } else {
            let n = next()?.int()?;
            for _ in 0..n {
                pairs.push((next()?.bytes(), next()?.bytes()));
            }
        }
        next()?;
        let id = StreamId::new(ms, seq);
        if flags & FLAG_DELETED != 0 {
            continue;
        }
        if pairs.is_empty() || (!s.is_empty() && s.last_id >= id) {
            return Err(BAD);
        }
        let refs: Vec<(&[u8], &[u8])> = pairs.iter().map(|(f, v)| (&f[..], &v[..])).collect();
        s.append(id, &refs, NodeLimits::default());
    }
    Ok(())
}

fn read_stream(r: &mut Reader, v2: bool) -> Result<Stream> {
    let mut s = Stream::new();
    let nodes = r.len()?;
    for _ in 0..nodes {
        let key = raw_id(&r.string()?)?;
        read_node(&mut s, key, &r.string()?)?;
    }
    let length = r.len()?;
    let last = r.id()?;
    if length != s.len() || s.edge_id(true).is_some_and(|top| top > last) {
        return Err(BAD);
    }
    s.last_id = last;
    if v2 {
        s.first_id = r.id()?;
        s.max_deleted_id = r.id()?;
        s.entries_added = r.len()?;
    } else {
        s.first_id = s.edge_id(false).unwrap_or_default();
        s.entries_added = length;
    }
    let groups = r.len()?;
    for _ in 0..groups {
        let name = r.string()?;
        let last_id = r.id()?;
        let read = if v2 { r.len()? as i64 } else { s.estimate_distance(last_id).map_or(-1, |n| n as i64) };
        let g = read_group(r, Group::new(last_id, read))?;
        if s.groups.insert(name, g).is_some() {
            return Err(BAD);
        }
    }
    Ok(s)
}

fn read_group(r: &mut Reader, mut g: Group) -> Result<Group> {
    let mut pel = std::collections::BTreeMap::new();
    for _ in 0..r.len()? {
        let id = r.raw_id()?;
        let (time, count) = (r.ms()?, r.len()?);
        if pel.insert(id, (time, count)).is_some() {
            return Err(BAD);
        }
    }
    for _ in 0..r.len()? {
        let name = r.string()?;
        let seen = r.ms()?;
        if g.consumers.contains_key(&name) {
            return Err(BAD);
        }
        g.consumer(&name, seen);
        for _ in 0..r.len()? {
            let id = r.raw_id()?;
            let (time, count) = pel.remove(&id).ok_or(BAD)?;
            g.deliver(id, &name, time, count);
        }
    }
    if !pel.is_empty() {
        return Err(BAD);
    }
    Ok(g)
}
