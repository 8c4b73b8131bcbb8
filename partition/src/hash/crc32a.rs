//! twemproxy's `crc32a`: the full 32-bit CRC-32 (IEEE) of the key.

/// twemproxy crc32a of `key`.
pub fn crc32a(key: &[u8]) -> u32 {
    super::crc32::crc32_raw(key)
}

#[cfg(test)]
mod tests {
    #[test]
    fn vector() {
        assert_eq!(super::crc32a(b"apple"), 2838417488);
        assert_eq!(super::crc32a(b"123456789"), 0xCBF4_3926);
    }
}
