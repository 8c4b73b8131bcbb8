//! Jump consistent hash (Lamping and Veach, "A Fast, Minimal Memory, Consistent Hash
//! Algorithm", 2014): the key's hash seeds a linear congruential generator that jumps forward
//! through bucket numbers; adding bucket `n` moves exactly the keys that land on it. No
//! table, O(ln n) per key. Its limits, by construction: buckets are numbered `0..n`, so only
//! the last one can go away without renumbering the rest (removing a middle server, or
//! ejecting one, reshuffles the keys of every server after it), and weights are ignored
//! (one bucket per live server).

use super::{RingServer, Router};
use crate::hash::HashKind;

/// The bucket in `0..buckets` for `key` (0 when `buckets` is 0 or less), the paper's code.
pub fn jump_bucket(mut key: u64, buckets: i32) -> i32 {
    let (mut b, mut j) = (-1i64, 0i64);
    while j < i64::from(buckets) {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b.max(0) as i32
}

/// Jump hash over the live servers, in list order.
#[derive(Debug, Clone)]
pub struct Jump {
    hash: HashKind,
    /// Bucket number -> index of the live server.
    live: Vec<usize>,
}

impl Jump {
    pub fn new(hash: HashKind, servers: &[RingServer]) -> Jump {
        let live = servers.iter().enumerate().filter(|(_, s)| s.live).map(|(i, _)| i).collect();
        Jump { hash, live }
    }
}

impl Router for Jump {
    fn route(&self, key: &[u8]) -> Option<usize> {
        if self.live.is_empty() {
            return None;
        }
        let buckets = i32::try_from(self.live.len()).unwrap_or(i32::MAX);
        let b = jump_bucket(u64::from(self.hash.hash(key)), buckets);
        Some(self.live[b as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectors every port of the paper's code checks (dgryski/go-jump `jump_test.go`).
    #[test]
    fn published_vectors() {
        let v: [(u64, i32, i32); 7] = [
            (1, 1, 0),
            (42, 57, 43),
            (0xDEAD10CC, 1, 0),
            (0xDEAD10CC, 666, 361),
            (256, 1024, 520),
            (0, -10, 0),
            (0xDEAD10CC, -666, 0),
        ];
        for (key, buckets, want) in v {
            assert_eq!(jump_bucket(key, buckets), want, "key {key} buckets {buckets}");
        }
    }

    /// Growing from n to n+1 buckets moves keys only onto the new bucket.
    #[test]
    fn growth_moves_keys_only_to_the_new_bucket() {
        for key in 0..5000u64 {
            let k = key.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            for n in 1..12 {
                let (before, after) = (jump_bucket(k, n), jump_bucket(k, n + 1));
                assert!(after == before || after == n, "key {k}: {before} -> {after} at {n}");
            }
        }
    }

    #[test]
    fn skips_ejected_servers() {
        let mut s: Vec<RingServer> = (0..3).map(|i| RingServer::new(&format!("s{i}"))).collect();
        s[1].live = false;
        let j = Jump::new(HashKind::Fnv1a64, &s);
        let mut seen = [0usize; 3];
        for i in 0..3000 {
            seen[j.route(format!("key:{i}").as_bytes()).unwrap()] += 1;
        }
        assert_eq!(seen[1], 0);
        assert!(seen[0] > 1000 && seen[2] > 1000, "{seen:?}");
        s.iter_mut().for_each(|s| s.live = false);
        assert_eq!(Jump::new(HashKind::Fnv1a64, &s).route(b"k"), None);
    }
}
