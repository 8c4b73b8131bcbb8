//! Pure bit arithmetic on byte strings, Redis's bit order (bit 0 is the most significant bit of
//! the first byte): population count, first set / clear bit, bitfield get / set, and the
//! overflow rules of BITFIELD (WRAP / SAT / FAIL). No keys, no replies.

/// Set bits in `bytes`, eight bytes at a time.
pub fn popcount(bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        let word = u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        n += u64::from(word.count_ones());
    }
    n + chunks.remainder().iter().map(|b| u64::from(b.count_ones())).sum::<u64>()
}

/// Position (in bits, from the start of `bytes`) of the first bit equal to `bit`, or `None`.
/// The aligned middle is read as words, eight at a time folded together (which the compiler
/// turns into vector instructions): 64-byte blocks that cannot hold the bit are skipped at once.
pub fn first_bit(bytes: &[u8], bit: bool) -> Option<u64> {
    let skip = if bit { 0u64 } else { u64::MAX };
    let in_byte = |b: u8, at: usize| {
        let probe = if bit { b } else { !b };
        (probe != 0).then(|| at as u64 * 8 + u64::from(probe.leading_zeros()))
    };
    // SAFETY: every bit pattern is a valid u64.
    let (head, words, tail) = unsafe { bytes.align_to::<u64>() };
    if let Some(p) = head.iter().enumerate().find_map(|(i, &b)| in_byte(b, i)) {
        return Some(p);
    }
    let mut blocks = words.chunks_exact(8);
    let mut at = 0usize;
    for block in &mut blocks {
        let differs = if bit {
            block.iter().fold(0, |a, &w| a | w) != 0
        } else {
            block.iter().fold(u64::MAX, |a, &w| a & w) != u64::MAX
        };
        if differs {
            break;
        }
        at += 8;
    }
    let base = head.len();
    if let Some(i) = words[at..].iter().position(|&w| w != skip) {
        let at = base + (at + i) * 8;
        return bytes[at..at + 8].iter().enumerate().find_map(|(j, &b)| in_byte(b, at + j));
    }
    let base = base + words.len() * 8;
    tail.iter().enumerate().find_map(|(i, &b)| in_byte(b, base + i))
}

/// Bit `offset` of `bytes` (0 past the end).
pub fn get_bit(bytes: &[u8], offset: u64) -> bool {
    let byte = (offset >> 3) as usize;
    bytes.get(byte).is_some_and(|b| b & (0x80 >> (offset & 7)) != 0)
}

/// The `bits`-wide unsigned field at bit `offset` (bits past the end read as 0).
pub fn get_unsigned(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    (0..u64::from(bits)).fold(0u64, |v, j| (v << 1) | u64::from(get_bit(bytes, offset + j)))
}

/// The `bits`-wide two's-complement field at bit `offset`.
pub fn get_signed(bytes: &[u8], offset: u64, bits: u32) -> i64 {
    let v = get_unsigned(bytes, offset, bits) as i64;
    if bits < 64 && v & (1i64 << (bits - 1)) != 0 {
        v | (-1i64 << bits)
    } else {
        v
    }
}

/// Write the low `bits` bits of `value` at bit `offset`; `bytes` must reach that far.
pub fn set_unsigned(bytes: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..u64::from(bits) {
        let on = value & (1u64 << (u64::from(bits) - 1 - j)) != 0;
        let at = offset + j;
        let mask = 0x80u8 >> (at & 7);
        let b = &mut bytes[(at >> 3) as usize];
        *b = if on { *b | mask } else { *b & !mask };
    }
}

/// What BITFIELD does when a SET or INCRBY leaves the field's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// Redis's `checkUnsignedBitfieldOverflow`: `Some(limit)` when `value + incr` leaves a
/// `bits`-wide unsigned field (the wrapped or saturated value; unused for FAIL).
pub fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<u64> {
    let max = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = value.wrapping_neg() as i64;
    let wrap = || value.wrapping_add(incr as u64) & !(u64::MAX.checked_shl(bits).unwrap_or(0));
    if value > max || (incr > 0 && incr > maxincr) {
        Some(if ow == Overflow::Wrap { wrap() } else { max })
    } else if incr < 0 && incr < minincr {
        Some(if ow == Overflow::Wrap { wrap() } else { 0 })
    } else {
        None
    }
}

/// Redis's `checkSignedBitfieldOverflow`, with its exact (wrapping) comparisons.
pub fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<i64> {
    let max = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let c = (value as u64).wrapping_add(incr as u64);
        if bits == 64 {
            return c as i64;
        }
        let mask = u64::MAX << bits;
        (if c & (1u64 << (bits - 1)) != 0 { c | mask } else { c & !mask }) as i64
    };
    let wide = bits != 64;
    if value > max || (wide && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        Some(if ow == Overflow::Wrap { wrap() } else { max })
    } else if value < min || (wide && incr < minincr) || (value < 0 && incr < 0 && incr < minincr) {
        Some(if ow == Overflow::Wrap { wrap() } else { min })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn popcount_and_first_bit() {
        let data: Vec<u8> = (0..100u32).map(|i| (i * 37) as u8).collect();
        let slow: u64 = data.iter().map(|b| u64::from(b.count_ones())).sum();
        assert_eq!(popcount(&data), slow);
        assert_eq!(first_bit(&[0, 0, 0x10], true), Some(19));
        assert_eq!(first_bit(&[0xff; 9], false), None);
        assert_eq!(first_bit(&[0; 17], true), None);
        let mut v = vec![0xffu8; 20];
        v[13] = 0xfd;
        assert_eq!(first_bit(&v, false), Some(13 * 8 + 6));
        assert_eq!(first_bit(&[], false), None);
    }

    #[test]
    fn first_bit_in_every_block_position() {
        // Every length up to three blocks and every position of the one odd bit, both ways,
        // against a bit-by-bit search.
        for len in 0..200usize {
            for at in (0..len * 8).step_by(7).chain(len.checked_sub(1).map(|l| l * 8 + 7)) {
                for bit in [true, false] {
                    let fill = if bit { 0u8 } else { 0xff };
                    let mut v = vec![fill; len];
                    v[at / 8] ^= 0x80 >> (at % 8);
                    assert_eq!(first_bit(&v, bit), Some(at as u64), "len {len} at {at} bit {bit}");
                    v[at / 8] = fill;
                    assert_eq!(first_bit(&v, bit), None, "len {len} bit {bit}");
                }
            }
        }
    }

    #[test]
    fn fields_round_trip() {
        let mut buf = [0u8; 10];
        set_unsigned(&mut buf, 5, 13, 0x1abc);
        assert_eq!(get_unsigned(&buf, 5, 13), 0x1abc);
        set_unsigned(&mut buf, 3, 64, (-5i64) as u64);
        assert_eq!(get_signed(&buf, 3, 64), -5);
        set_unsigned(&mut buf, 0, 8, 0xff);
        assert_eq!((get_signed(&buf, 0, 8), get_unsigned(&buf, 0, 8), get_signed(&buf, 0, 1)), (-1, 255, -1));
        assert_eq!(get_unsigned(&[0x80], 0, 63), 1 << 62);
    }

    #[test]
    fn overflow_rules() {
        use Overflow::*;
        assert_eq!(unsigned_overflow(250, 10, 8, Wrap), Some(4));
        assert_eq!(unsigned_overflow(250, 10, 8, Sat), Some(255));
        assert_eq!(unsigned_overflow(5, -10, 8, Sat), Some(0));
        assert_eq!(unsigned_overflow(5, -10, 8, Wrap), Some(251));
        assert_eq!(unsigned_overflow(u64::MAX, 0, 8, Sat), Some(255), "SET u8 -1 saturates high");
        assert_eq!(unsigned_overflow(5, 3, 8, Fail), None);
        assert_eq!(signed_overflow(120, 10, 8, Wrap), Some(-126));
        assert_eq!(signed_overflow(120, 10, 8, Sat), Some(127));
        assert_eq!(signed_overflow(-120, -10, 8, Sat), Some(-128));
        assert_eq!(signed_overflow(i64::MAX, 1, 64, Wrap), Some(i64::MIN));
        assert_eq!(signed_overflow(i64::MIN, -1, 64, Sat), Some(i64::MIN));
        assert_eq!(signed_overflow(-1, 1, 64, Sat), None);
        assert_eq!(signed_overflow(300, 0, 8, Wrap), Some(44));
    }
}
