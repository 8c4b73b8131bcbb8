//! slotbox's own binary serialization of one value, used by DUMP / RESTORE / MIGRATE and meant
//! to be embedded (many values in one stream) by snapshot files and replication full sync.
//!
//! # Format
//!
//! A DUMP payload is `version (1 byte) · value · CRC-64/Jones of everything before (8 bytes,
//! little endian)`. A value is a type tag byte followed by its body; lengths and counts are
//! LEB128 varints, integers are zigzag varints, scores are IEEE-754 doubles (8 bytes LE):
//!
//! ```text
//! INT      zigzag(i)
//! STR      len · bytes
//! HASH     count · (len · field · len · value)*
//! LIST     count · (len · element)*
//! INTSET   count · zigzag(member)*           (ascending)
//! SET      count · (len · member)*
//! ZSET     count · (score · len · member)*   (ascending)
//! STREAM   see `serialize/stream.rs`
//! ```
//!
//! Reading rebuilds each collection through its type's normal insert path, so the encoding a
//! restored value reports follows its contents exactly as Redis's RESTORE does (a hash with
//! more than `hash-max-listpack-entries` fields is a hashtable, a small all-integer set is an
//! intset...). The format is not Redis's RDB format: payloads do not cross between slotbox
//! and real Redis, except that RESTORE reads a stream DUMPed by Redis (`serialize/redis_stream.rs`).
//!
//! Reading never panics and never trusts a length: every allocation is capped by the bytes
//! left in the input. This module does no I/O and knows nothing about commands.

use super::listpack::{self, Limits};
use super::types::{SetValue, ZSetValue, INTSET_MAX_ENTRIES};
use super::value::{HashRef, HashTable, Value};

/// The leading byte of a DUMP payload; bump it when the value format changes.
pub const FORMAT_VERSION: u8 = 1;

const CRC_LEN: usize = 8;

const TAG_INT: u8 = 0;
const TAG_STR: u8 = 1;
const TAG_HASH: u8 = 2;
const TAG_LIST: u8 = 3;
const TAG_INTSET: u8 = 4;
const TAG_SET: u8 = 5;
const TAG_ZSET: u8 = 6;
const TAG_STREAM: u8 = 7;

// ---------------------------------------------------------------------------------------------
// Writing.

/// A complete DUMP payload: version, value, checksum.
pub fn dump_value(v: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + v.heap_size());
    out.push(FORMAT_VERSION);
    write_value(&mut out, v);
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Append one value (tag and body, no version or checksum) to `out`.
pub fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Int(i) => {
            out.push(TAG_INT);
            put_varint(out, zigzag(*i));
        }
        Value::Str { data, .. } => {
            out.push(TAG_STR);
            put_bytes(out, data);
        }
        Value::Hash(lp) => write_hash(out, HashRef::Listpack(lp)),
        Value::HashTable(m) => write_hash(out, HashRef::Table(m)),
        Value::List(l) => {
            out.push(TAG_LIST);
            put_varint(out, l.len() as u64);
            l.iter().for_each(|e| put_bytes(out, e));
        }
        Value::Set(s) => write_set(out, s),
        Value::Stream(st) => {
            out.push(TAG_STREAM);
            stream::write(out, st);
        }
        Value::ZSet(z) => {
            out.push(TAG_ZSET);
            put_varint(out, z.len() as u64);
            for (score, m) in z.iter() {
                out.extend_from_slice(&score.to_le_bytes());
                put_bytes(out, m);
            }
        }
    }
}

fn write_hash(out: &mut Vec<u8>, h: HashRef) {
    out.push(TAG_HASH);
    put_varint(out, h.len() as u64);
    for (f, val) in h.iter() {
        put_bytes(out, f);
        put_bytes(out, val);
    }
}

fn write_set(out: &mut Vec<u8>, s: &SetValue) {
    match s {
        SetValue::Ints(v) => {
            out.push(TAG_INTSET);
            put_varint(out, v.len() as u64);
            v.iter().for_each(|&i| put_varint(out, zigzag(i)));
        }
        SetValue::Big(m) => {
            out.push(TAG_SET);
            put_varint(out, m.len() as u64);
            m.iter().for_each(|e| put_bytes(out, e));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading.

/// Check version and checksum of a DUMP payload and read its single value.
pub fn restore_value(payload: &[u8], limits: Limits) -> Result<Value> {
    if redis_stream::is_redis_stream(payload) {
        return redis_stream::restore(payload).map(|s| Value::Stream(Box::new(s)));
    }
    if payload.len() < 1 + CRC_LEN || payload[0] != FORMAT_VERSION {
        return Err(RestoreError::VersionOrChecksum);
    }
    let (data, crc) = payload.split_at(payload.len() - CRC_LEN);
    let mut crc_bytes = [0u8; CRC_LEN];
    crc_bytes.copy_from_slice(crc);
    if crc64(0, data) != u64::from_le_bytes(crc_bytes) {
        return Err(RestoreError::VersionOrChecksum);
    }
    let mut body = &data[1..];
    let v = read_value(&mut body, limits)?;
    if !body.is_empty() {
        return Err(RestoreError::BadData);
    }
    Ok(v)
}

/// Read one value written by [`write_value`] from the front of `input`, advancing it; a hash
/// is a listpack when it fits `limits`.
pub fn read_value(input: &mut &[u8], limits: Limits) -> Result<Value> {
    let tag = take_u8(input)?;
    match tag {
        TAG_INT => Ok(Value::Int(unzigzag(take_varint(input)?))),
        TAG_STR => Ok(Value::string(take_bytes(input)?)),
        TAG_HASH => read_hash(input, limits),
        TAG_LIST => read_list(input),
        TAG_INTSET => read_intset(input),
        TAG_SET => read_set(input),
        TAG_ZSET => read_zset(input),
        TAG_STREAM => Ok(Value::Stream(Box::new(stream::read(input)?))),
        _ => Err(RestoreError::BadData),
    }
}

/// A collection's element count: non-zero (Redis never stores an empty aggregate) and at most
/// what the remaining input could hold with `min_size` bytes per element.
fn take_count(input: &mut &[u8], min_size: usize) -> Result<usize> {
    let n = take_varint(input)?;
    if n == 0 || n > (input.len() / min_size) as u64 {
        return Err(RestoreError::BadData);
    }
    Ok(n as usize)
}

/// A hash is a listpack when its pairs fit one under `limits` (checked in a first pass over
/// the input), as Redis's RESTORE decides; the listpack is then built in one buffer, exactly
/// sized.
fn read_hash(input: &mut &[u8], limits: Limits) -> Result<Value> {
    let n = take_count(input, 2)?;
    let body = *input;
    let (mut small, mut bytes) = (n <= limits.entries, 0);
    for _ in 0..n {
        let (f, v) = take_pair(input)?;
        small &= limits.fits(f, v);
        bytes += listpack::encoded_len(f, v);
    }
    let mut pairs = body;
    if small {
        let mut lp = listpack::Builder::with_capacity(bytes);
        // A duplicate field is corrupt input; past a few fields a set finds it, not a scan.
        let mut seen = (n > 16).then(|| hashbrown::HashSet::with_capacity(n));
        for _ in 0..n {
            let (f, v) = take_pair(&mut pairs)?;
            let dup = match seen.as_mut() {
                Some(s) => !s.insert(f),
                None => lp.contains(f),
            };
            if dup {
                return Err(RestoreError::BadData);
            }
            lp.push(f, v);
        }
        return Ok(Value::Hash(lp.finish()));
    }
    let mut m = HashTable::with_capacity(n);
    for _ in 0..n {
        let (f, v) = take_pair(&mut pairs)?;
        if m.insert(f.into(), v.into()).is_some() {
            return Err(RestoreError::BadData);
        }
    }
    Ok(Value::HashTable(Box::new(m)))
}

fn read_list(input: &mut &[u8]) -> Result<Value> {
    let n = take_count(input, 1)?;
    let mut l = super::quicklist::QuickList::new();
    for _ in 0..n {
        l.push_back(take_bytes(input)?);
    }
    Ok(Value::List(Box::new(l)))
}

fn read_intset(input: &mut &[u8]) -> Result<Value> {
    let n = take_count(input, 1)?;
    if n > INTSET_MAX_ENTRIES {
        return Err(RestoreError::BadData);
    }
    let mut v: Vec<i64> = Vec::with_capacity(n);
    for _ in 0..n {
        let i = unzigzag(take_varint(input)?);
        if v.last().is_some_and(|&last| last >= i) {
            return Err(RestoreError::BadData);
        }
        v.push(i);
    }
    Ok(Value::Set(Box::new(SetValue::Ints(v))))
}

fn read_set(input: &mut &[u8]) -> Result<Value> {
    let n = take_count(input, 1)?;
    let mut s = if n > INTSET_MAX_ENTRIES {
        SetValue::Big(hashbrown::HashSet::with_capacity(n))
    } else {
        SetValue::Ints(Vec::with_capacity(n))
    };
    for _ in 0..n {
        if !s.insert(take_bytes(input)?) {
            return Err(RestoreError::BadData);
        }
    }
    Ok(Value::Set(Box::new(s)))
}

fn read_zset(input: &mut &[u8]) -> Result<Value> {
    let n = take_count(input, 9)?;
    let mut z = ZSetValue::default();
    for _ in 0..n {
        let score = take_f64(input)?;
        let member = take_bytes(input)?;
        if score.is_nan() || z.insert(member, score).is_some() {
            return Err(RestoreError::BadData);
        }
    }
    Ok(Value::ZSet(Box::new(z)))
}

fn take_pair<'a>(input: &mut &'a [u8]) -> Result<(&'a [u8], &'a [u8])> {
    Ok((take_bytes(input)?, take_bytes(input)?))
}

fn take_f64(input: &mut &[u8]) -> Result<f64> {
    if input.len() < 8 {
        return Err(RestoreError::BadData);
    }
    let (b, rest) = input.split_at(8);
    *input = rest;
    let mut raw = [0u8; 8];
    raw.copy_from_slice(b);
    Ok(f64::from_le_bytes(raw))
}

pub mod rdb_functions;
mod redis_stream;
mod stream;
mod wire;

pub use wire::{crc64, RestoreError};
use wire::{put_bytes, put_varint, take_bytes, take_u8, take_varint, unzigzag, zigzag, Result};
#[cfg(test)]
mod tests;
