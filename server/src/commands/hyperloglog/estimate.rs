//! The cardinality estimate of Redis 7.0 (`hllCount`): Otmar Ertl's improved raw estimator
//! ("New cardinality estimation algorithms for HyperLogLog sketches", arXiv:1702.01284) over
//! the histogram of register values, in the same floating-point operations as Redis so the
//! rounded result is the same.

use super::repr::{self, Corrupt, Encoding, HDR, Q, REGISTERS};
use super::sparse;

/// 0.5 / ln(2).
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
/// Upper bound on the series' iterations (they converge in well under 100 for inputs in range).
const MAX_STEPS: usize = 10_000;

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    for _ in 0..MAX_STEPS {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            break;
        }
    }
    z
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    for _ in 0..MAX_STEPS {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if prev == z {
            break;
        }
    }
    z / 3.0
}

/// The estimate from a histogram of register values.
pub fn from_histogram(histo: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let q = Q as usize;
    let mut z = m * tau((m - f64::from(histo[q + 1])) / m);
    for j in (1..=q).rev() {
        z += f64::from(histo[j]);
        z *= 0.5;
    }
    z += m * sigma(f64::from(histo[0]) / m);
    (ALPHA_INF * m * m / z).round() as u64
}

/// The estimate of HLL string `s` (already [`repr::check`]ed).
pub fn count(s: &[u8], enc: Encoding) -> Result<u64, Corrupt> {
    let mut histo = [0u32; 64];
    match enc {
        Encoding::Dense => repr::dense_histogram(&s[HDR..], &mut histo),
        Encoding::Sparse => sparse::histogram(s, &mut histo)?,
    }
    Ok(from_histogram(&histo))
}

/// The estimate of registers held one per byte (PFCOUNT of several keys).
pub fn count_raw(regs: &[u8]) -> u64 {
    let mut histo = [0u32; 64];
    for &r in regs {
        histo[(r & 63) as usize] += 1;
    }
    from_histogram(&histo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_zero() {
        let mut h = [0u32; 64];
        h[0] = REGISTERS as u32;
        assert_eq!(from_histogram(&h), 0);
    }
}
