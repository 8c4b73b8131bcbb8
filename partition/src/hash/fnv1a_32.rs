//! twemproxy `fnv1a_32`: 32-bit FNV-1a.

/// FNV-1a 32 of `key`.
pub fn fnv1a_32(key: &[u8]) -> u32 {
    let mut h: u32 = 2_166_136_261;
    for &b in key {
        h ^= super::signed(b);
        h = h.wrapping_mul(16_777_619);
    }
    h
}

#[cfg(test)]
mod tests {
    #[test]
    fn vector() {
        assert_eq!(super::fnv1a_32(b"apple"), 280767167);
    }
}
