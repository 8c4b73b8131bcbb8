//! A minimal unsigned big integer, just enough for exact decimal <-> binary float conversion
//! in [`super::long_double`] (parsing up to 5119-digit numbers, printing values up to 2^16384).
//! Limbs are base 2^32, little-endian, with no high zero limbs. Not a general-purpose bignum:
//! no multiplication of two big numbers, no general division.

use std::cmp::Ordering;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BigUint {
    limbs: Vec<u32>,
}

impl BigUint {
    pub fn from_u64(v: u64) -> Self {
        let mut b = BigUint { limbs: vec![v as u32, (v >> 32) as u32] };
        b.trim();
        b
    }

    /// The value of a string of ASCII digits in `radix` (10 or 16); digits must be valid.
    pub fn from_digits(digits: &[u8], radix: u32) -> Self {
        let mut b = BigUint::default();
        for chunk in digits.chunks(7) {
            let mut v = 0u32;
            let mut scale = 1u32;
            for &d in chunk {
                v = v * radix + (d as char).to_digit(radix).unwrap_or(0);
                scale *= radix;
            }
            b.mul_add_small(scale, v);
        }
        b
    }

    fn trim(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }

    pub fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    /// Number of significant bits (0 for zero).
    pub fn bits(&self) -> u64 {
        match self.limbs.last() {
            None => 0,
            Some(&top) => (self.limbs.len() as u64) * 32 - top.leading_zeros() as u64,
        }
    }

    /// Bit `i` (0 = least significant).
    pub fn bit(&self, i: u64) -> bool {
        let limb = (i / 32) as usize;
        limb < self.limbs.len() && (self.limbs[limb] >> (i % 32)) & 1 == 1
    }

    /// True if any bit below position `i` is set.
    pub fn any_below(&self, i: u64) -> bool {
        let full = ((i / 32) as usize).min(self.limbs.len());
        if self.limbs[..full].iter().any(|&l| l != 0) {
            return true;
        }
        let rem = i % 32;
        full < self.limbs.len() && rem > 0 && self.limbs[full] & ((1u32 << rem) - 1) != 0
    }

    /// The low 64 bits.
    pub fn low_u64(&self) -> u64 {
        let lo = self.limbs.first().copied().unwrap_or(0) as u64;
        let hi = self.limbs.get(1).copied().unwrap_or(0) as u64;
        lo | (hi << 32)
    }

    /// self = self * m + a.
    pub fn mul_add_small(&mut self, m: u32, a: u32) {
        let mut carry = a as u64;
        for l in self.limbs.iter_mut() {
            let v = (*l as u64) * (m as u64) + carry;
            *l = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.limbs.push(carry as u32);
        }
        self.trim();
    }

    /// self *= 10^n.
    pub fn mul_pow10(&mut self, mut n: u64) {
        while n >= 9 {
            self.mul_add_small(1_000_000_000, 0);
            n -= 9;
        }
        if n > 0 {
            self.mul_add_small(10u32.pow(n as u32), 0);
        }
    }

    /// self << n.
    pub fn shl(&self, n: u64) -> BigUint {
        if self.is_zero() {
            return BigUint::default();
        }
        let (words, bits) = ((n / 32) as usize, (n % 32) as u32);
        let mut limbs = vec![0u32; words];
        limbs.reserve(self.limbs.len() + 1);
        let mut carry = 0u32;
        for &l in &self.limbs {
            if bits == 0 {
                limbs.push(l);
            } else {
                limbs.push((l << bits) | carry);
                carry = l >> (32 - bits);
            }
        }
        if carry != 0 {
            limbs.push(carry);
        }
        BigUint { limbs }
    }

    /// self >> n.
    pub fn shr(&self, n: u64) -> BigUint {
        let words = (n / 32) as usize;
        if words >= self.limbs.len() {
            return BigUint::default();
        }
        let bits = (n % 32) as u32;
        let src = &self.limbs[words..];
        let mut limbs = Vec::with_capacity(src.len());
        for (i, &l) in src.iter().enumerate() {
            let next = src.get(i + 1).copied().unwrap_or(0);
            limbs.push(if bits == 0 { l } else { (l >> bits) | (next << (32 - bits)) });
        }
        let mut b = BigUint { limbs };
        b.trim();
        b
    }

    pub fn add(&self, other: &BigUint) -> BigUint {
        let (long, short) = if self.limbs.len() >= other.limbs.len() { (self, other) } else { (other, self) };
        let mut limbs = Vec::with_capacity(long.limbs.len() + 1);
        let mut carry = 0u64;
        for (i, &l) in long.limbs.iter().enumerate() {
            let v = l as u64 + short.limbs.get(i).copied().unwrap_or(0) as u64 + carry;
            limbs.push(v as u32);
            carry = v >> 32;
        }
        if carry != 0 {
            limbs.push(carry as u32);
        }
        BigUint { limbs }
    }

    /// self - other; requires self >= other.
    pub fn sub(&self, other: &BigUint) -> BigUint {
        debug_assert!(self.cmp(other) != Ordering::Less);
        let mut limbs = Vec::with_capacity(self.limbs.len());
        let mut borrow = 0i64;
        for (i, &l) in self.limbs.iter().enumerate() {
            let mut v = l as i64 - other.limbs.get(i).copied().unwrap_or(0) as i64 - borrow;
            borrow = 0;
            if v < 0 {
                v += 1 << 32;
                borrow = 1;
            }
            limbs.push(v as u32);
        }
        let mut b = BigUint { limbs };
        b.trim();
        b
    }

    /// (floor(self / d), remainder != 0), for quotients known to fit in 128 bits.
    pub fn div_small_quotient(&self, d: &BigUint) -> (u128, bool) {
        if self.cmp(d) == Ordering::Less {
            return (0, !self.is_zero());
        }
        let shift = self.bits() - d.bits();
        debug_assert!(shift < 127);
        let mut rem = self.clone();
        let mut q = 0u128;
        let mut ds = d.shl(shift);
        for _ in 0..=shift {
            q <<= 1;
            if rem.cmp(&ds) != Ordering::Less {
                rem = rem.sub(&ds);
                q |= 1;
            }
            ds = ds.shr(1);
        }
        (q, !rem.is_zero())
    }

    /// Divide in place by a small divisor; returns the remainder.
    fn divrem_small(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for l in self.limbs.iter_mut().rev() {
            let cur = (rem << 32) | *l as u64;
            *l = (cur / d as u64) as u32;
            rem = cur % d as u64;
        }
        self.trim();
        rem as u32
    }

    /// Decimal digits ("0" for zero).
    pub fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".into();
        }
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            chunks.push(n.divrem_small(1_000_000_000));
        }
        let mut s = chunks.pop().map(|c| c.to_string()).unwrap_or_default();
        for c in chunks.iter().rev() {
            s.push_str(&format!("{c:09}"));
        }
        s
    }
}

impl PartialOrd for BigUint {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for BigUint {
    fn cmp(&self, other: &Self) -> Ordering {
        self.limbs.len().cmp(&other.limbs.len()).then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic() {
        let a = BigUint::from_digits(b"123456789012345678901234567890", 10);
        assert_eq!(a.to_decimal(), "123456789012345678901234567890");
        let mut b = BigUint::from_u64(1);
        b.mul_pow10(30);
        assert_eq!(b.to_decimal(), format!("1{}", "0".repeat(30)));
        assert_eq!(a.add(&b).sub(&b), a);
        assert_eq!(BigUint::from_u64(1).shl(100).shr(99).low_u64(), 2);
        assert_eq!(BigUint::from_u64(0b1011).bits(), 4);
        assert!(BigUint::from_u64(0b1000).any_below(4));
        assert!(!BigUint::from_u64(0b1000).any_below(3));
        assert_eq!(BigUint::from_digits(b"ff", 16).low_u64(), 255);
        let (q, r) = BigUint::from_u64(100).div_small_quotient(&BigUint::from_u64(7));
        assert_eq!((q, r), (14, true));
    }
}
