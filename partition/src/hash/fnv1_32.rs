//! twemproxy `fnv1_32`: 32-bit FNV-1.

/// FNV-1 32 of `key`.
pub fn fnv1_32(key: &[u8]) -> u32 {
    let mut h: u32 = 2_166_136_261;
    for &b in key {
        h = h.wrapping_mul(16_777_619);
        h ^= super::signed(b);
    }
    h
}

#[cfg(test)]
mod tests {
    #[test]
    fn vector() {
        assert_eq!(super::fnv1_32(b"apple"), 67176023);
    }
}
