//! Redis's HyperLogLog string layout, byte for byte: a 16-byte header (`HYLL`, the encoding,
//! three unused bytes, the cached cardinality little endian with bit 63 meaning "stale"), then
//! either 16384 registers of 6 bits packed LSB first ("dense", 12288 bytes) or the run-length
//! opcodes of the "sparse" encoding (see `sparse.rs`). Pure functions over bytes: no keys.

pub const P: u32 = 14;
pub const Q: u32 = 64 - P;
pub const REGISTERS: usize = 1 << P;
pub const BITS: usize = 6;
pub const REGISTER_MAX: u8 = (1 << BITS) - 1;
pub const HDR: usize = 16;
pub const DENSE_SIZE: usize = HDR + (REGISTERS * BITS).div_ceil(8);
pub const ENC_DENSE: u8 = 0;
pub const ENC_SPARSE: u8 = 1;
const MAGIC: &[u8; 4] = b"HYLL";
/// Byte of the header holding the cache's validity bit (the cardinality's MSB).
const CARD_MSB: usize = 15;

/// A sparse HLL representation that does not add up to 16384 registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// The two encodings a valid header names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Dense,
    Sparse,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Dense => "dense",
            Encoding::Sparse => "sparse",
        }
    }
}

/// Redis's `isHLLObjectOrReply` checks on a string's bytes: long enough for the header, the
/// magic, a known encoding, and the exact size when dense. `None`: not an HLL.
pub fn check(s: &[u8]) -> Option<Encoding> {
    if s.len() < HDR || &s[..4] != MAGIC {
        return None;
    }
    match s[4] {
        ENC_DENSE if s.len() == DENSE_SIZE => Some(Encoding::Dense),
        ENC_SPARSE => Some(Encoding::Sparse),
        _ => None,
    }
}

/// An empty HLL as `createHLLObject` makes it: sparse, one XZERO opcode covering all 16384
/// registers, cached cardinality 0 (valid).
pub fn new_sparse() -> Vec<u8> {
    let mut s = Vec::with_capacity(HDR + 2);
    s.extend_from_slice(MAGIC);
    s.push(ENC_SPARSE);
    s.extend_from_slice(&[0; 11]);
    let len = REGISTERS - 1;
    s.push(0x40 | (len >> 8) as u8);
    s.push((len & 0xff) as u8);
    s
}

/// The cached cardinality, if it is valid.
pub fn cached_card(s: &[u8]) -> Option<u64> {
    if s[CARD_MSB] & 0x80 != 0 {
        return None;
    }
    let mut card = [0u8; 8];
    card.copy_from_slice(&s[8..16]);
    Some(u64::from_le_bytes(card))
}

pub fn set_cached_card(s: &mut [u8], card: u64) {
    s[8..16].copy_from_slice(&card.to_le_bytes());
}

pub fn invalidate_cache(s: &mut [u8]) {
    s[CARD_MSB] |= 0x80;
}

/// Register `i` of dense registers `regs` (Redis reads one byte past the last register, its
/// string terminator, which is always 0).
pub fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = u16::from(regs[byte]);
    let b1 = u16::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> fb) | (b1 << (8 - fb))) & u16::from(REGISTER_MAX)) as u8
}

/// Set register `i` of dense registers `regs` to `val` (< 64).
pub fn dense_set(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = u16::from(val);
    let max = u16::from(REGISTER_MAX);
    regs[byte] &= !((max << fb) as u8);
    regs[byte] |= (v << fb) as u8;
    if let Some(next) = regs.get_mut(byte + 1) {
        *next &= !((max >> (8 - fb)) as u8);
        *next |= (v >> (8 - fb)) as u8;
    }
}

/// `hllDenseSet`: raise register `i` to `count`; true if it changed.
pub fn dense_raise(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_set(regs, i, count);
        true
    } else {
        false
    }
}

/// Add the histogram of dense registers `regs` to `histo`.
pub fn dense_histogram(regs: &[u8], histo: &mut [u32; 64]) {
    for group in regs.chunks_exact(3) {
        let (a, b, c) = (group[0], group[1], group[2]);
        histo[(a & 63) as usize] += 1;
        histo[((a >> 6 | b << 2) & 63) as usize] += 1;
        histo[((b >> 4 | c << 4) & 63) as usize] += 1;
        histo[(c >> 2) as usize] += 1;
    }
}

/// `hllMerge` for a dense HLL: `max[i] = max(max[i], reg[i])`.
pub fn dense_merge(regs: &[u8], max: &mut [u8]) {
    for (i, m) in max.iter_mut().enumerate().take(REGISTERS) {
        let v = dense_get(regs, i);
        if v > *m {
            *m = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_registers_round_trip_without_touching_neighbours() {
        let mut regs = vec![0u8; DENSE_SIZE - HDR];
        let mut expected = vec![0u8; REGISTERS];
        let mut x = 12345u32;
        for round in 0..3 {
            for (i, e) in expected.iter_mut().enumerate() {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345 + round);
                *e = ((x >> 16) as u8) & REGISTER_MAX;
                dense_set(&mut regs, i, *e);
            }
            for (i, e) in expected.iter().enumerate() {
                assert_eq!(dense_get(&regs, i), *e, "register {i}");
            }
            let mut histo = [0u32; 64];
            dense_histogram(&regs, &mut histo);
            let mut direct = [0u32; 64];
            expected.iter().for_each(|&e| direct[e as usize] += 1);
            assert_eq!(histo, direct);
        }
    }

    #[test]
    fn empty_hll_is_redis_bytes() {
        let s = new_sparse();
        assert_eq!(s, b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff");
        assert_eq!(check(&s), Some(Encoding::Sparse));
        assert_eq!(cached_card(&s), Some(0));
        assert_eq!(check(b"HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"), None);
        assert_eq!(check(b"HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), None);
        assert_eq!(check(b"HYLX\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), None);
        assert_eq!(check(b"HYLL\x01"), None);
    }
}
