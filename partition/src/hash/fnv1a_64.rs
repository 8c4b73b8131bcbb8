//! twemproxy `fnv1a_64` (nutcracker's default hash): despite the name, FNV-1a computed in
//! 32 bits with the 64-bit constants truncated (`(uint32_t) FNV_64_INIT`, `FNV_64_PRIME`).

const INIT: u32 = 0xcbf2_9ce4_8422_2325_u64 as u32;
const PRIME: u32 = 0x0000_0100_0000_01b3_u64 as u32;

/// twemproxy fnv1a_64 of `key`.
pub fn fnv1a_64(key: &[u8]) -> u32 {
    let mut h = INIT;
    for &b in key {
        h ^= super::signed(b);
        h = h.wrapping_mul(PRIME);
    }
    h
}

#[cfg(test)]
mod tests {
    #[test]
    fn vector() {
        assert_eq!(super::fnv1a_64(b"apple"), 1488911807);
    }
}
