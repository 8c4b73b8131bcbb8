//! A small, fast, thread-local pseudo-random generator (xorshift64*), for RANDOMKEY,
//! SRANDMEMBER, SPOP, HRANDFIELD, ZRANDMEMBER and skip-list levels. Not cryptographic.

use std::cell::Cell;

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0x1234_5678);
    let local = 0u8;
    (t ^ (&local as *const u8 as u64).rotate_left(29)) | 1
}

/// The next random 64-bit value.
pub fn next_u64() -> u64 {
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

/// A random index in `0..n` (`n` > 0).
pub fn below(n: usize) -> usize {
    debug_assert!(n > 0);
    ((next_u64() as u128 * n as u128) >> 64) as usize
}

/// `len` random hex characters (run ids, node ids), seeded from the clock and the address
/// space; not cryptographic.
pub fn random_hex(len: usize) -> String {
    let mut state =
        crate::clock::unix_time_us() as u64 ^ ((&len as *const usize as u64) << 13) ^ std::process::id() as u64;
    let mut out = String::with_capacity(len);
    for _ in 0..len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.push(char::from_digit((state >> 32) as u32 % 16, 16).unwrap_or('0'));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn below_is_in_range_and_varies() {
        let mut seen = [false; 10];
        for _ in 0..1000 {
            seen[super::below(10)] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
