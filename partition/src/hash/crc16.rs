//! twemproxy's `crc16`: the CRC16/XMODEM table with a 32-bit accumulator that is never
//! truncated (`nc_crc16.c`), so results exceed 16 bits. Not the Redis Cluster key slot CRC.

use slotbox_protocol::slot::crc16 as xmodem;

fn table() -> &'static [u16; 256] {
    static TABLE: std::sync::OnceLock<[u16; 256]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [0u16; 256];
        for (i, e) in t.iter_mut().enumerate() {
            // The XMODEM table entry for byte i is the CRC of the single byte i.
            *e = xmodem(&[i as u8]);
        }
        t
    })
}

/// twemproxy crc16 of `key`.
pub fn crc16(key: &[u8]) -> u32 {
    let t = table();
    let mut crc: u32 = 0;
    for &b in key {
        crc = (crc << 8) ^ t[(((crc >> 8) ^ super::signed(b)) & 0xff) as usize] as u32;
    }
    crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn vector() {
        assert_eq!(super::crc16(b"apple"), 3662830516);
    }
}
