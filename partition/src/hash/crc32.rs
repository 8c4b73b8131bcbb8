//! twemproxy's `crc32` (libmemcached compatible): CRC-32 (IEEE) of the key, then
//! `((~crc) >> 16) & 0x7fff`. The table is shared with `crc32a`.

/// The reflected CRC-32 (poly 0xEDB88320) table.
pub(crate) fn table() -> &'static [u32; 256] {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
            *e = c;
        }
        t
    })
}

/// The raw (complemented) CRC-32 of `key`, bytes read as signed chars.
pub(crate) fn crc32_raw(key: &[u8]) -> u32 {
    let t = table();
    let mut crc = u32::MAX;
    for &b in key {
        crc = (crc >> 8) ^ t[((crc ^ super::signed(b)) & 0xff) as usize];
    }
    !crc
}

/// twemproxy crc32 of `key` (15 bits).
pub fn crc32(key: &[u8]) -> u32 {
    (crc32_raw(key) >> 16) & 0x7fff
}

#[cfg(test)]
mod tests {
    #[test]
    fn vector() {
        assert_eq!(super::crc32(b"apple"), 10542);
    }
}
