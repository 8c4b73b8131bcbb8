//! Bob Jenkins' one-at-a-time hash (twemproxy `nc_one_at_a_time.c`).

use super::signed;

/// One-at-a-time over `key`, bytes read as signed chars.
pub fn one_at_a_time(key: &[u8]) -> u32 {
    let mut v: u32 = 0;
    for &b in key {
        v = v.wrapping_add(signed(b));
        v = v.wrapping_add(v << 10);
        v ^= v >> 6;
    }
    v = v.wrapping_add(v << 3);
    v ^= v >> 11;
    v.wrapping_add(v << 15)
}

#[cfg(test)]
mod tests {
    #[test]
    fn vector() {
        assert_eq!(super::one_at_a_time(b"apple"), 2297466611);
    }
}
