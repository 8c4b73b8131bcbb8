//! Rendezvous (highest random weight) hashing, Thaler and Ravishankar 1996: every live server
//! scores the key and the highest score wins, so removing a server moves only its own keys
//! and adding one takes only the keys it now wins. Weighted as in "logarithmic method"
//! rendezvous: score = `weight / -ln(u)` with `u` in (0, 1) drawn from the key's hash and the
//! server's seed, which gives each server a share of keys proportional to its weight.
//! O(servers) per key.

use super::{RingServer, Router};
use crate::hash::{md5, HashKind};

/// splitmix64's finalizer: a bijective 64-bit mix, so nearby inputs score independently.
fn mix64(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    server: usize,
    /// The first eight bytes of the MD5 of the server's name.
    seed: u64,
    weight: f64,
}

/// Rendezvous hashing over the live servers with a positive weight.
#[derive(Debug, Clone)]
pub struct Rendezvous {
    hash: HashKind,
    candidates: Vec<Candidate>,
}

impl Rendezvous {
    pub fn new(hash: HashKind, servers: &[RingServer]) -> Rendezvous {
        let candidates = servers
            .iter()
            .enumerate()
            .filter(|(_, s)| s.live && s.weight > 0)
            .map(|(server, s)| {
                let d = md5::digest(s.name.as_bytes());
                let seed = u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]);
                Candidate { server, seed, weight: f64::from(s.weight) }
            })
            .collect();
        Rendezvous { hash, candidates }
    }

    /// The score of candidate `c` for a key hashed to `h`.
    fn score(c: &Candidate, h: u32) -> f64 {
        let r = mix64(c.seed ^ mix64(u64::from(h)));
        // 53 random bits as a float strictly inside (0, 1).
        let u = ((r >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        c.weight / -u.ln()
    }
}

impl Router for Rendezvous {
    fn route(&self, key: &[u8]) -> Option<usize> {
        let h = self.hash.hash(key);
        let mut best: Option<(f64, usize)> = None;
        for c in &self.candidates {
            let s = Rendezvous::score(c, h);
            if best.is_none_or(|(b, _)| s > b) {
                best = Some((s, c.server));
            }
        }
        best.map(|(_, server)| server)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers(n: usize) -> Vec<RingServer> {
        (0..n).map(|i| RingServer::new(&format!("127.0.0.1:{}", 7000 + i))).collect()
    }

    /// Removing a server moves exactly its keys; adding one moves keys only onto it.
    #[test]
    fn minimal_disruption() {
        let four = Rendezvous::new(HashKind::Fnv1a64, &servers(4));
        let mut three = servers(4);
        three[2].live = false;
        let three = Rendezvous::new(HashKind::Fnv1a64, &three);
        let five = Rendezvous::new(HashKind::Fnv1a64, &servers(5));
        for i in 0..5000 {
            let k = format!("key:{i}");
            let owner = four.route(k.as_bytes()).unwrap();
            let after_remove = three.route(k.as_bytes()).unwrap();
            assert!(owner == 2 || after_remove == owner, "{k} moved off a surviving server");
            assert_ne!(after_remove, 2);
            let after_add = five.route(k.as_bytes()).unwrap();
            assert!(after_add == owner || after_add == 4, "{k} moved between old servers");
        }
    }

    #[test]
    fn shares_follow_weights() {
        let mut s = servers(2);
        s[0].weight = 3;
        let r = Rendezvous::new(HashKind::Murmur, &s);
        let on_first = (0..20000).filter(|i| r.route(format!("k{i}").as_bytes()) == Some(0)).count();
        // 3/4 of 20000 is 15000; a fair coin per key stays well within 2%.
        assert!((14600..15400).contains(&on_first), "{on_first}");
        assert_eq!(Rendezvous::new(HashKind::Murmur, &[]).route(b"k"), None);
    }
}
