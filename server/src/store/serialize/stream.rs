//! The serialized form of a stream (tag `STREAM` of `serialize`):
//!
//! ```text
//! STREAM   count · entry* · last_id · first_id · max_deleted_id · entries_added
//!          · groups · group*
//! entry    id · pairs · (len · field · len · value)*
//! id       ms · seq                                    (varints)
//! group    len · name · last_id · zigzag(entries_read) · consumers · consumer*
//! consumer len · name · zigzag(seen_time) · pending · (id · zigzag(delivery_time) · count)*
//! ```
//!
//! Entries are appended again on reading (blocks are rebuilt with the default node limits);
//! a group's PEL is the union of its consumers'. Reading checks that IDs ascend and stay
//! under the last ID, and that no entry is pending twice in a group.

use super::wire::{put_bytes, put_varint, take_bytes, take_varint, unzigzag, zigzag, RestoreError};
use crate::store::stream::{Group, NodeLimits, Stream, StreamId};

type Result<T> = std::result::Result<T, RestoreError>;

fn put_id(out: &mut Vec<u8>, id: StreamId) {
    put_varint(out, id.ms);
    put_varint(out, id.seq);
}

/// Append stream `s` (without its tag).
pub fn write(out: &mut Vec<u8>, s: &Stream) {
    put_varint(out, s.len());
    for e in s.range(StreamId::MIN, StreamId::MAX, false, 0) {
        put_id(out, e.id);
        put_varint(out, e.fields.len() as u64);
        for (f, v) in e.fields {
            put_bytes(out, f);
            put_bytes(out, v);
        }
    }
    for id in [s.last_id, s.first_id, s.max_deleted_id] {
        put_id(out, id);
    }
    put_varint(out, s.entries_added);
    put_varint(out, s.groups.len() as u64);
    for (name, g) in &s.groups {
        put_bytes(out, name);
        put_id(out, g.last_id);
        put_varint(out, zigzag(g.entries_read));
        put_varint(out, g.consumers.len() as u64);
        for (cname, c) in &g.consumers {
            put_bytes(out, cname);
            put_varint(out, zigzag(c.seen_time));
            put_varint(out, c.pel.len() as u64);
            for id in &c.pel {
                let nack = g.pel.get(id);
                put_id(out, *id);
                put_varint(out, zigzag(nack.map_or(0, |n| n.delivery_time)));
                put_varint(out, nack.map_or(1, |n| n.delivery_count));
            }
        }
    }
}

fn take_id(input: &mut &[u8]) -> Result<StreamId> {
    Ok(StreamId::new(take_varint(input)?, take_varint(input)?))
}

/// A count of items of at least `min_size` bytes each (0 allowed).
fn take_len(input: &mut &[u8], min_size: usize) -> Result<usize> {
    let n = take_varint(input)?;
    if n > (input.len() / min_size) as u64 {
        return Err(RestoreError::BadData);
    }
    Ok(n as usize)
}

/// Read a stream written by [`write`].
pub fn read(input: &mut &[u8]) -> Result<Stream> {
    let mut s = Stream::new();
    let n = take_len(input, 4)?;
    let mut prev: Option<StreamId> = None;
    let mut pairs: Vec<(&[u8], &[u8])> = Vec::new();
    for _ in 0..n {
        let id = take_id(input)?;
        if prev.is_some_and(|p| p >= id) {
            return Err(RestoreError::BadData);
        }
        prev = Some(id);
        let fields = take_len(input, 2)?;
        if fields == 0 {
            return Err(RestoreError::BadData);
        }
        pairs.clear();
        for _ in 0..fields {
            pairs.push((take_bytes(input)?, take_bytes(input)?));
        }
        s.append(id, &pairs, NodeLimits::default());
    }
    let (last, first, max_deleted) = (take_id(input)?, take_id(input)?, take_id(input)?);
    let added = take_varint(input)?;
    if prev.is_some_and(|p| p > last) || added < s.len() {
        return Err(RestoreError::BadData);
    }
    (s.last_id, s.first_id, s.max_deleted_id, s.entries_added) = (last, first, max_deleted, added);
    let groups = take_len(input, 4)?;
    for _ in 0..groups {
        let name = take_bytes(input)?.to_vec();
        let g = read_group(input)?;
        if s.groups.insert(name, g).is_some() {
            return Err(RestoreError::BadData);
        }
    }
    Ok(s)
}

fn read_group(input: &mut &[u8]) -> Result<Group> {
    let last_id = take_id(input)?;
    let entries_read = unzigzag(take_varint(input)?);
    let mut g = Group::new(last_id, entries_read.max(-1));
    let consumers = take_len(input, 3)?;
    for _ in 0..consumers {
        let name = take_bytes(input)?;
        let seen = unzigzag(take_varint(input)?);
        if g.consumers.contains_key(name) {
            return Err(RestoreError::BadData);
        }
        g.consumer(name, seen);
        let pending = take_len(input, 4)?;
        for _ in 0..pending {
            let id = take_id(input)?;
            let (time, count) = (unzigzag(take_varint(input)?), take_varint(input)?);
            if g.pel.contains_key(&id) {
                return Err(RestoreError::BadData);
            }
            g.deliver(id, name, time, count);
        }
    }
    Ok(g)
}
