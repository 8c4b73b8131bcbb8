//! twemproxy `fnv1_64`: 64-bit FNV-1, truncated to the low 32 bits.

const INIT: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1 (64-bit state) of `key`, low 32 bits.
pub fn fnv1_64(key: &[u8]) -> u32 {
    let mut h = INIT;
    for &b in key {
        h = h.wrapping_mul(PRIME);
        h ^= b as i8 as i64 as u64;
    }
    h as u32
}

#[cfg(test)]
mod tests {
    #[test]
    fn vector() {
        assert_eq!(super::fnv1_64(b"apple"), 473199127);
    }
}
