//! LEB128 varints (seven bits a byte, low first, the top bit set on all but the last byte),
//! as the store's own byte layouts and formats write their lengths and numbers. Reading here
//! trusts the bytes (buffers this process wrote: listpacks, quicklist nodes, stream blocks);
//! input from outside is read with the checked `serialize::wire::take_varint`.

/// Append `v`.
pub fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Bytes [`put`] writes for `v`.
pub fn len(v: u64) -> usize {
    (u64::BITS - (v | 1).leading_zeros()).div_ceil(7) as usize
}

/// The varint at `buf[pos..]` and its length in bytes (panics past the end of `buf`: only
/// for bytes this process wrote).
pub fn get(buf: &[u8], pos: usize) -> (u64, usize) {
    let (mut v, mut shift, mut i) = (0u64, 0, pos);
    loop {
        let b = buf[i];
        v |= u64::from(b & 0x7f) << shift;
        i += 1;
        if b & 0x80 == 0 {
            return (v, i - pos);
        }
        shift += 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_at_every_length_boundary() {
        for v in [0u64, 1, 127, 128, 16_383, 16_384, u32::MAX as u64, u64::MAX >> 1, u64::MAX] {
            let mut out = vec![0xaa];
            put(&mut out, v);
            assert_eq!(out.len() - 1, len(v), "{v}");
            assert_eq!(get(&out, 1), (v, len(v)), "{v}");
        }
        assert_eq!(len(0), 1);
        assert_eq!(len(u64::MAX), 10);
    }
}
