//! PFADD, PFCOUNT and PFMERGE on string values holding Redis's HLL bytes. A dense HLL is
//! updated in place; a sparse one is rewritten (it is at most `hll-sparse-max-bytes`). PFADD
//! looks before it writes, so an add that changes no register leaves the key untouched (no
//! WATCH modification), as Redis signals the key only when a register moved.

use super::estimate;
use super::murmur::pat_len;
use super::repr::{self, Corrupt, Encoding, HDR, REGISTERS};
use super::sparse;
use crate::commands::keys::lookup::read;
use crate::commands::{Ctx, Reply};
use crate::notify::class;
use crate::store::{Entry, Node, Value};
use bytes::Bytes;
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

pub(super) const INVALID: &str = "INVALIDOBJ Corrupted HLL object detected";
const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";

pub(super) fn invalid() -> Frame {
    Frame::error_static(INVALID)
}

/// The HLL bytes of a value and their encoding, or the error Redis replies with.
pub(super) fn hll_of(v: &Value) -> Result<(&[u8], Encoding), Frame> {
    match v {
        Value::Str { data, .. } => repr::check(data).map(|e| (&data[..], e)).ok_or(Frame::error_static(NOT_HLL)),
        Value::Int(_) => Err(Frame::error_static(NOT_HLL)),
        _ => Err(Frame::error_static(errors::WRONGTYPE)),
    }
}

pub(super) fn sparse_max(ctx: &Ctx) -> usize {
    ctx.shared.hot.hll_sparse_max_bytes.load(std::sync::atomic::Ordering::Relaxed)
}

/// `hllAdd` on a whole HLL string (either encoding).
pub(super) fn add(s: &mut Vec<u8>, ele: &[u8], max_bytes: usize) -> Result<bool, Corrupt> {
    let (index, count) = pat_len(ele);
    if s[4] == repr::ENC_DENSE {
        Ok(repr::dense_raise(&mut s[HDR..], index, count))
    } else {
        sparse::set(s, index, count, max_bytes)
    }
}

/// What PFADD does to an existing HLL, worked out before the key is taken for writing.
enum Plan {
    /// Nothing changes.
    Nop,
    /// Dense: raise registers in place.
    Dense,
    /// Sparse: the new bytes (computed on a copy), and whether an add met a corruption.
    Sparse(Vec<u8>, bool),
}

fn plan(s: &[u8], enc: Encoding, elements: &[Bytes], max_bytes: usize) -> Plan {
    match enc {
        Encoding::Dense => {
            let changes = elements.iter().any(|e| {
                let (i, c) = pat_len(e);
                repr::dense_get(&s[HDR..], i) < c
            });
            if changes {
                Plan::Dense
            } else {
                Plan::Nop
            }
        }
        Encoding::Sparse => {
            // Registers only rise: if none of the elements raises its register in `s`, the
            // adds change nothing (a corrupt `s` goes on, to be reported by the add).
            let raises = |e: &Bytes| {
                let (i, c) = pat_len(e);
                sparse::register(s, i).is_none_or(|r| r < c)
            };
            if !elements.iter().any(raises) {
                return Plan::Nop;
            }
            // Room for the usual growth (an opcode split in three per element).
            let mut copy = Vec::with_capacity(s.len() + 4 * elements.len());
            copy.extend_from_slice(s);
            let mut updated = false;
            for e in elements {
                match add(&mut copy, e, max_bytes) {
                    Ok(changed) => updated |= changed,
                    Err(Corrupt) => return Plan::Sparse(copy, true),
                }
            }
            if updated {
                Plan::Sparse(copy, false)
            } else {
                Plan::Nop
            }
        }
    }
}

pub fn pfadd(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (key, elements) = (&args[1], &args[2..]);
    let max_bytes = sparse_max(ctx);
    let plan = match ctx.keys.get(key) {
        None => {
            let mut s = repr::new_sparse();
            for e in elements {
                // A fresh HLL is well formed: an add cannot fail.
                let _ = add(&mut s, e, max_bytes);
            }
            repr::invalidate_cache(&mut s);
            ctx.keys.insert(key, Entry::new(Value::Str { data: s.into(), raw: true }));
            ctx.notify(class::STRING, "pfadd", key);
            return Ok(Frame::Integer(1));
        }
        Some(e) => {
            let (s, enc) = hll_of(&e.value)?;
            plan(s, enc, elements, max_bytes)
        }
    };
    if matches!(plan, Plan::Nop) {
        // Nothing changed: nothing to replicate (Redis leaves `dirty` alone).
        ctx.propagate = Some(Vec::new());
        return Ok(Frame::Integer(0));
    }
    let Some(Node { value: Value::Str { data, raw }, .. }) = ctx.keys.get_mut(key) else {
        return Ok(Frame::Integer(0));
    };
    *raw = true;
    match plan {
        Plan::Nop => {}
        Plan::Dense => {
            for e in elements {
                let (i, c) = pat_len(e);
                repr::dense_raise(&mut data[HDR..], i, c);
            }
        }
        Plan::Sparse(bytes, corrupt) => {
            *data = bytes.into();
            if corrupt {
                return Err(invalid());
            }
        }
    }
    repr::invalidate_cache(data);
    ctx.notify(class::STRING, "pfadd", key);
    Ok(Frame::Integer(1))
}

pub fn pfcount(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 2 {
        return pfcount_union(ctx, &args[1..]);
    }
    let key = &args[1];
    let shared = ctx.shared;
    let Some(e) = read(ctx.keys, &shared.stats, key) else {
        return Ok(Frame::Integer(0));
    };
    let (s, enc) = hll_of(&e.value)?;
    if let Some(card) = repr::cached_card(s) {
        return Ok(Frame::Integer(card as i64));
    }
    let card = estimate::count(s, enc).map_err(|_| invalid())?;
    if let Some(Node { value: Value::Str { data, .. }, .. }) = ctx.keys.get_mut(key) {
        repr::set_cached_card(data, card);
    }
    // The cache is part of the string: replicas refresh theirs too, as Redis propagates it.
    ctx.propagate = Some(vec![args.to_vec()]);
    Ok(Frame::Integer(card as i64))
}

/// Fold the HLLs at `keys` into one register per byte; missing keys count as empty.
fn union(ctx: &mut Ctx, keys: &[Bytes]) -> Result<(Vec<u8>, bool), Frame> {
    let shared = ctx.shared;
    let mut max = vec![0u8; REGISTERS];
    let mut any_dense = false;
    for key in keys {
        let Some(e) = read(ctx.keys, &shared.stats, key) else { continue };
        let (s, enc) = hll_of(&e.value)?;
        match enc {
            Encoding::Dense => {
                any_dense = true;
                repr::dense_merge(&s[HDR..], &mut max);
            }
            Encoding::Sparse => sparse::merge(s, &mut max).map_err(|_| invalid())?,
        }
    }
    Ok((max, any_dense))
}

fn pfcount_union(ctx: &mut Ctx, keys: &[Bytes]) -> Reply {
    let (max, _) = union(ctx, keys)?;
    Ok(Frame::Integer(estimate::count_raw(&max) as i64))
}

pub fn pfmerge(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let dest = &args[1];
    let (max, use_dense) = union(ctx, &args[1..])?;
    let max_bytes = sparse_max(ctx);
    let mut s = match ctx.keys.get(dest) {
        Some(Node { value: Value::Str { data, .. }, .. }) => data.to_vec(),
        _ => repr::new_sparse(),
    };
    if use_dense && s[4] != repr::ENC_DENSE {
        s = sparse::to_dense(&s).map_err(|_| invalid())?;
    }
    for (i, &m) in max.iter().enumerate() {
        if m == 0 {
            continue;
        }
        if s[4] == repr::ENC_DENSE {
            repr::dense_raise(&mut s[HDR..], i, m);
        } else {
            // The destination was checked whole when it was merged in: it is well formed.
            let _ = sparse::set(&mut s, i, m, max_bytes);
        }
    }
    repr::invalidate_cache(&mut s);
    match ctx.keys.get_mut(dest) {
        Some(e) => e.value = Value::Str { data: s.into(), raw: true },
        None => {
            ctx.keys.insert(dest, Entry::new(Value::Str { data: s.into(), raw: true }));
        }
    }
    ctx.notify(class::STRING, "pfadd", dest);
    Ok(Frame::ok())
}
