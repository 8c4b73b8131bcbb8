//! The sparse encoding, as Redis 7.0 writes it: after the header, opcodes covering the 16384
//! registers in order — ZERO `00xxxxxx` (1..64 zero registers), XZERO `01xxxxxx yyyyyyyy`
//! (1..16384 zero registers), VAL `1vvvvvxx` (1..4 registers of value 1..32). Updates split and
//! merge opcodes exactly as `hllSparseSet` does, so the bytes equal Redis's for the same adds;
//! a value over 32 or growth past `hll-sparse-max-bytes` promotes to dense. Corrupt input never
//! panics: it is reported as [`Corrupt`].

use super::repr::{dense_raise, dense_set, invalidate_cache, Corrupt, DENSE_SIZE, ENC_DENSE, HDR, REGISTERS};

const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;

/// One decoded opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `len` zero registers in `width` bytes (1: ZERO, 2: XZERO).
    Zero { len: usize, width: usize },
    /// `len` registers of value `val`.
    Val { val: u8, len: usize },
}

/// The opcode at `s[p]` (an XZERO cut short by the end reads its second byte as 0, the string
/// terminator Redis would read).
pub fn op_at(s: &[u8], p: usize) -> Op {
    let b = s[p];
    if b & 0xc0 == 0 {
        Op::Zero { len: (b & 0x3f) as usize + 1, width: 1 }
    } else if b & 0x80 == 0 {
        let lo = s.get(p + 1).copied().unwrap_or(0) as usize;
        Op::Zero { len: ((((b & 0x3f) as usize) << 8) | lo) + 1, width: 2 }
    } else {
        Op::Val { val: ((b >> 2) & 0x1f) + 1, len: (b & 0x3) as usize + 1 }
    }
}

impl Op {
    fn span(self) -> usize {
        match self {
            Op::Zero { len, .. } | Op::Val { len, .. } => len,
        }
    }

    fn width(self) -> usize {
        match self {
            Op::Zero { width, .. } => width,
            Op::Val { .. } => 1,
        }
    }
}

fn val_byte(val: u8, len: usize) -> u8 {
    0x80 | ((val - 1) << 2) | (len as u8 - 1)
}

/// The few opcodes that replace one when a register is set (at most two XZERO around a VAL,
/// or VAL VAL VAL): kept on the stack.
type Seq = smallvec::SmallVec<[u8; 5]>;

/// Append the opcode(s) for a run of `len` zero registers (ZERO up to 64, XZERO beyond).
fn push_zeros(seq: &mut Seq, len: usize) {
    if len > ZERO_MAX_LEN {
        let l = len - 1;
        seq.push(0x40 | (l >> 8) as u8);
        seq.push((l & 0xff) as u8);
    } else {
        seq.push(len as u8 - 1);
    }
}

/// The value of register `index` of sparse HLL `s`, or `None` if the opcodes end first.
pub fn register(s: &[u8], index: usize) -> Option<u8> {
    let (mut p, mut first) = (HDR, 0usize);
    while p < s.len() {
        let op = op_at(s, p);
        if index < first + op.span() {
            return Some(match op {
                Op::Zero { .. } => 0,
                Op::Val { val, .. } => val,
            });
        }
        p += op.width();
        first += op.span();
    }
    None
}

/// `hllSparseSet`: raise register `index` to `count` in the sparse HLL `s` (the whole string).
/// `Ok(true)` when a register changed (the HLL may now be dense).
pub fn set(s: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize) -> Result<bool, Corrupt> {
    if count > VAL_MAX_VALUE {
        return promote(s, index, count);
    }
    // Step 1: find the opcode covering `index`.
    let end = s.len();
    let (mut p, mut first, mut prev, mut op) = (HDR, 0usize, None, None);
    while p < end {
        let o = op_at(s, p);
        if index < first + o.span() {
            op = Some(o);
            break;
        }
        prev = Some(p);
        p += o.width();
        first += o.span();
    }
    let Some(op) = op else { return Err(Corrupt) };
    // Step 2: the cases updated in place, else the replacement sequence.
    let seq = match op {
        Op::Val { val, .. } if val >= count => return Ok(false),
        Op::Val { len: 1, .. } | Op::Zero { len: 1, width: 1 } => {
            s[p] = val_byte(count, 1);
            merge_neighbours(s, prev);
            return Ok(true);
        }
        _ => split(op, index - first, count),
    };
    // Step 3: put the sequence in place of the opcode.
    let old = op.width();
    if seq.len() > old && s.len() + seq.len() - old > max_bytes {
        return promote(s, index, count);
    }
    let new_len = (end + seq.len()).saturating_sub(old);
    let tail_from = (p + old).min(end);
    s.splice(p..tail_from, seq);
    s.truncate(new_len);
    merge_neighbours(s, prev);
    Ok(true)
}

/// The opcodes replacing `op` when its register at `offset` becomes `count`.
fn split(op: Op, offset: usize, count: u8) -> Seq {
    let mut seq = Seq::new();
    let span = op.span();
    match op {
        Op::Zero { .. } => {
            if offset != 0 {
                push_zeros(&mut seq, offset);
            }
            seq.push(val_byte(count, 1));
            if offset != span - 1 {
                push_zeros(&mut seq, span - 1 - offset);
            }
        }
        Op::Val { val, .. } => {
            if offset != 0 {
                seq.push(val_byte(val, offset));
            }
            seq.push(val_byte(count, 1));
            if offset != span - 1 {
                seq.push(val_byte(val, span - 1 - offset));
            }
        }
    }
    seq
}

/// Step 4 of `hllSparseSet`: merge adjacent VAL opcodes of equal value (up to 4 registers),
/// scanning at most 5 opcodes from the one before the change; then mark the cache stale.
fn merge_neighbours(s: &mut Vec<u8>, prev: Option<usize>) {
    let mut p = prev.unwrap_or(HDR);
    let mut scan = 5;
    while p < s.len() && scan > 0 {
        scan -= 1;
        match op_at(s, p) {
            Op::Zero { width, .. } => {
                p += width;
                continue;
            }
            Op::Val { val, len } => {
                if let Some(Op::Val { val: v2, len: l2 }) = (p + 1 < s.len()).then(|| op_at(s, p + 1)) {
                    if val == v2 && len + l2 <= VAL_MAX_LEN {
                        s[p + 1] = val_byte(val, len + l2);
                        s.remove(p);
                        continue;
                    }
                }
            }
        }
        p += 1;
    }
    invalidate_cache(s);
}

/// Convert to dense, then raise the register there.
fn promote(s: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    *s = to_dense(s)?;
    dense_raise(&mut s[HDR..], index, count);
    Ok(true)
}

/// `hllSparseToDense`: the dense form of sparse HLL `s` (header copied, encoding changed).
pub fn to_dense(s: &[u8]) -> Result<Vec<u8>, Corrupt> {
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR].copy_from_slice(&s[..HDR]);
    dense[4] = ENC_DENSE;
    let regs = &mut dense[HDR..];
    let mut idx = 0usize;
    let mut p = HDR;
    while p < s.len() {
        let op = op_at(s, p);
        match op {
            Op::Zero { len, .. } => idx += len,
            Op::Val { val, len } => {
                // Past the last register: corrupt (Debian's redis-server 7.0.15 carries the
                // CVE-2025-32023 fix, which makes this an error where 7.0.15 stopped).
                if idx + len > REGISTERS {
                    return Err(Corrupt);
                }
                for i in idx..idx + len {
                    dense_set(regs, i, val);
                }
                idx += len;
            }
        }
        p += op.width();
    }
    if idx != REGISTERS {
        return Err(Corrupt);
    }
    Ok(dense)
}

/// Add the register histogram of sparse HLL `s` to `histo`; `Err` if the opcodes do not
/// cover exactly 16384 registers.
pub fn histogram(s: &[u8], histo: &mut [u32; 64]) -> Result<(), Corrupt> {
    let mut idx = 0usize;
    let mut p = HDR;
    while p < s.len() {
        let op = op_at(s, p);
        match op {
            Op::Zero { len, .. } => histo[0] = histo[0].saturating_add(len as u32),
            Op::Val { val, len } => histo[val as usize] += len as u32,
        }
        idx += op.span();
        p += op.width();
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// `hllMerge` for a sparse HLL: `max[i] = max(max[i], reg[i])`.
pub fn merge(s: &[u8], max: &mut [u8]) -> Result<(), Corrupt> {
    let mut i = 0usize;
    let mut p = HDR;
    while p < s.len() {
        let op = op_at(s, p);
        match op {
            Op::Zero { len, .. } => i += len,
            Op::Val { val, len } => {
                if i + len > REGISTERS {
                    return Err(Corrupt);
                }
                for m in &mut max[i..i + len] {
                    *m = (*m).max(val);
                }
                i += len;
            }
        }
        p += op.width();
    }
    if i == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// PFDEBUG DECODE's text: `z:<len>`, `Z:<len>`, `v:<val>,<len>` separated by spaces.
pub fn decode(s: &[u8]) -> String {
    let mut out = Vec::new();
    let mut p = HDR;
    while p < s.len() {
        let op = op_at(s, p);
        out.push(match op {
            Op::Zero { len, width: 1 } => format!("z:{len}"),
            Op::Zero { len, .. } => format!("Z:{len}"),
            Op::Val { val, len } => format!("v:{val},{len}"),
        });
        p += op.width();
    }
    out.join(" ")
}
