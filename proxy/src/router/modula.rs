//! nutcracker's modula distribution (`nc_modula.c`): each live server holds `weight`
//! consecutive entries; a key goes to entry `hash % entries`.

use super::{RingServer, Router};
use crate::hash::HashKind;

/// Modula placement over the live servers.
#[derive(Debug, Clone)]
pub struct Modula {
    hash: HashKind,
    entries: Vec<usize>,
}

impl Modula {
    pub fn new(hash: HashKind, servers: &[RingServer]) -> Modula {
        let mut entries = Vec::new();
        for (i, s) in servers.iter().enumerate().filter(|(_, s)| s.live) {
            entries.extend(std::iter::repeat_n(i, s.weight as usize));
        }
        Modula { hash, entries }
    }
}

impl Router for Modula {
    fn route(&self, key: &[u8]) -> Option<usize> {
        if self.entries.is_empty() {
            return None;
        }
        let h = self.hash.hash(key) as usize;
        Some(self.entries[h % self.entries.len()])
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
}
