//! PFDEBUG (GETREG, DECODE, ENCODING, TODENSE) and PFSELFTEST, as Redis 7.0 has them: the
//! debugging view of an HLL's registers and encoding, and the self test of the register
//! packing and of the estimator's error against a known number of distinct elements.

use super::commands::{add, hll_of, invalid, sparse_max};
use super::estimate;
use super::repr::{self, Encoding, DENSE_SIZE, HDR, REGISTERS, REGISTER_MAX};
use super::sparse;
use crate::commands::{Ctx, Reply};
use crate::store::{Node, Value};
use bytes::Bytes;
use slotbox_protocol::Frame;

pub fn pfdebug(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (sub, key) = (&args[1], &args[2]);
    let Some(e) = ctx.keys.get(key) else {
        return Err(Frame::error_static("ERR The specified key does not exist"));
    };
    let (s, enc) = hll_of(&e.value)?;
    // Replicated only when a sparse HLL is made dense (GETREG, TODENSE), as Redis forces it.
    ctx.propagate = Some(Vec::new());
    match sub.to_ascii_lowercase().as_slice() {
        b"getreg" => {
            let dense = to_dense_in_place(ctx, key, enc)?;
            let regs = &dense[HDR..];
            Ok(Frame::Array((0..REGISTERS).map(|i| Frame::Integer(i64::from(repr::dense_get(regs, i)))).collect()))
        }
        b"decode" if enc == Encoding::Sparse => Ok(Frame::Bulk(Bytes::from(sparse::decode(s)))),
        b"decode" => Err(Frame::error_static("ERR HLL encoding is not sparse")),
        b"encoding" => Ok(Frame::Simple(Bytes::from_static(enc.name().as_bytes()))),
        b"todense" => {
            to_dense_in_place(ctx, key, enc)?;
            Ok(Frame::Integer(i64::from(enc == Encoding::Sparse)))
        }
        _ => Err(Frame::error(format!("ERR Unknown PFDEBUG subcommand '{}'", String::from_utf8_lossy(sub)))),
    }
}

/// Make the HLL at `key` dense (a write when it was sparse) and return its bytes.
fn to_dense_in_place(ctx: &mut Ctx, key: &[u8], enc: Encoding) -> Result<Vec<u8>, Frame> {
    let Some(Node { value: Value::Str { data, raw }, .. }) = ctx.keys.get_mut(key) else {
        return Err(invalid());
    };
    if enc == Encoding::Dense {
        return Ok(data.to_vec());
    }
    let dense = sparse::to_dense(data).map_err(|_| invalid())?;
    *data = dense[..].into();
    *raw = true;
    ctx.propagate = None;
    Ok(dense)
}

/// A small xorshift generator for the self test (its values need only be varied).
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

pub fn pfselftest(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let mut rng = Xorshift(crate::rand::next_u64() | 1);
    if let Err(e) = registers_test(&mut rng) {
        return Err(Frame::error(e));
    }
    approximation_test(&mut rng, sparse_max(ctx)).map_err(Frame::error)?;
    Ok(Frame::ok())
}

/// Test 1: random values written to every register read back, neighbours untouched.
fn registers_test(rng: &mut Xorshift) -> Result<(), String> {
    let mut regs = vec![0u8; DENSE_SIZE - HDR];
    let mut bytes = vec![0u8; REGISTERS];
    for _ in 0..1000 {
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (rng.next() as u8) & REGISTER_MAX;
            repr::dense_set(&mut regs, i, *b);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let v = repr::dense_get(&regs, i);
            if v != b {
                return Err(format!("TESTFAILED Register {i} should be {b} but is {v}"));
            }
        }
    }
    Ok(())
}

/// Test 2: dense and sparse HLLs fed the same distinct elements agree, stay sparse while
/// small, and estimate within six standard errors at each power of ten up to 10^7.
fn approximation_test(rng: &mut Xorshift, max_bytes: usize) -> Result<(), String> {
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..4].copy_from_slice(b"HYLL");
    let mut sparse_hll = repr::new_sparse();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let seed = rng.next();
    let mut checkpoint: u64 = 1;
    for j in 1..=10_000_000u64 {
        let ele = (j ^ seed).to_le_bytes();
        let _ = add(&mut dense, &ele, max_bytes);
        let _ = add(&mut sparse_hll, &ele, max_bytes);
        if j != checkpoint {
            continue;
        }
        if (j as usize) < max_bytes / 2 && sparse_hll[4] != repr::ENC_SPARSE {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let enc_of = |s: &[u8]| repr::check(s).unwrap_or(Encoding::Dense);
        let d = estimate::count(&dense, Encoding::Dense).unwrap_or(0);
        let s = estimate::count(&sparse_hll, enc_of(&sparse_hll)).unwrap_or(u64::MAX);
        if d != s {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = (checkpoint as i64 - d as i64).unsigned_abs();
        let maxerr = if j == 10 { 1 } else { (relerr * 6.0 * checkpoint as f64).ceil() as u64 };
        if abserr > maxerr {
            return Err(format!("TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"));
        }
        checkpoint *= 10;
    }
    Ok(())
}
