//! MurmurHash64A as Redis's `hyperloglog.c` uses it (endian-neutral: words read little endian),
//! and `hllPatLen`: which register an element lands in and the length of its `000..1` run.

const M: u64 = 0xc6a4_a793_5bd1_e995;
const R: u32 = 47;

/// The seed Redis hashes HyperLogLog elements with.
pub const SEED: u64 = 0xadc8_3b19;

/// MurmurHash2, 64-bit version.
pub fn murmur64a(data: &[u8], seed: u64) -> u64 {
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let mut k = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// (register index, run length) of an element: the low 14 bits of its hash pick the register,
/// the count is the position of the first 1 bit in the remaining 50 (at most 51).
pub fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, SEED);
    let index = (hash & (super::repr::REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> super::repr::P) | (1u64 << super::repr::Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_match_redis() {
        // From `PFADD h <e>` then `PFDEBUG DECODE h` on redis-server 7.0.15.
        assert_eq!(pat_len(b"a"), (12711, 2));
        assert_eq!(pat_len(b"hello"), (9216, 1));
        assert_eq!(pat_len(b""), (5938, 2));
        assert_eq!(pat_len(b"12345678"), (10579, 3));
        assert_eq!(pat_len(b"abcdefghi"), (6903, 1));
    }
}
