//! nutcracker's modula distribution (`nc_modula.c`): each live server holds `weight`
//! consecutive entries; a key goes to entry `hash % entries`.

use super::{RingServer, Router};
use crate::hash::HashKind;

/// Modula placement over the live servers: the entries are kept as each live server's
/// cumulative weight, not materialized (a weight of 2^31 would be 16 GiB of entries).
#[derive(Debug, Clone)]
pub struct Modula {
    hash: HashKind,
    /// (index of a live server, sum of the weights up to and including it).
    ends: Vec<(usize, u64)>,
}

impl Modula {
    pub fn new(hash: HashKind, servers: &[RingServer]) -> Modula {
        let mut total = 0u64;
        let ends = servers
            .iter()
            .enumerate()
            .filter(|(_, s)| s.live && s.weight > 0)
            .map(|(i, s)| {
                total += u64::from(s.weight);
                (i, total)
            })
            .collect();
        Modula { hash, ends }
    }
}

impl Router for Modula {
    fn route(&self, key: &[u8]) -> Option<usize> {
        let &(_, total) = self.ends.last()?;
        let entry = u64::from(self.hash.hash(key)) % total;
        let at = self.ends.partition_point(|&(_, end)| end <= entry);
        Some(self.ends[at].0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modulo_of_hash() {
        let s: Vec<RingServer> = (0..3).map(|i| RingServer { name: format!("s{i}"), weight: 1, live: true }).collect();
        let m = Modula::new(HashKind::Crc32a, &s);
        let h = HashKind::Crc32a.hash(b"apple") as usize;
        assert_eq!(m.route(b"apple"), Some(h % 3));
    }

    /// Entry `hash % total` belongs to the server whose run of `weight` entries holds it, as
    /// when the entries were a materialized list; a huge weight costs no memory (it was
    /// `weight` entries: 32 GiB for u32::MAX, found by review, reachable from nutcracker.yml).
    #[test]
    fn weights_are_runs_of_entries() {
        let ring = |w: [u32; 3], live: [bool; 3]| -> Vec<RingServer> {
            (0..3).map(|i| RingServer { name: format!("s{i}"), weight: w[i], live: live[i] }).collect()
        };
        let s = ring([2, 3, 1], [true, true, true]);
        let m = Modula::new(HashKind::Crc32a, &s);
        let expanded = [0, 0, 1, 1, 1, 2];
        for key in ["apple", "banana", "cherry", "date", "elder", "fig", "grape"] {
            let h = HashKind::Crc32a.hash(key.as_bytes()) as usize;
            assert_eq!(m.route(key.as_bytes()), Some(expanded[h % 6]), "{key}");
        }
        let m = Modula::new(HashKind::Crc32a, &ring([2, 3, 1], [true, false, true]));
        for key in ["apple", "banana", "cherry"] {
            let h = HashKind::Crc32a.hash(key.as_bytes()) as usize;
            assert_eq!(m.route(key.as_bytes()), Some([0, 0, 2][h % 3]), "{key}");
        }
        let big = Modula::new(HashKind::Crc32a, &ring([u32::MAX, u32::MAX, 1], [true; 3]));
        assert!(big.route(b"k").is_some());
        assert_eq!(Modula::new(HashKind::Crc32a, &ring([1, 1, 1], [false; 3])).route(b"k"), None);
    }
}
