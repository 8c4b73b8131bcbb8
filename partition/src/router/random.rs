//! nutcracker's random distribution (`nc_random.c`): every request picks a live server at
//! random, whatever its key. Useful for caches of read-only data replicated everywhere.

use super::{RingServer, Router};
use std::cell::Cell;

/// Random placement over the live servers.
#[derive(Debug, Clone)]
pub struct Random {
    live: Vec<usize>,
    state: Cell<u64>,
}

impl Random {
    pub fn new(servers: &[RingServer]) -> Random {
        let live = servers.iter().enumerate().filter(|(_, s)| s.live).map(|(i, _)| i).collect();
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Random { live, state: Cell::new(seed | 1) }
    }

    fn next(&self) -> u64 {
        // xorshift64*: plenty for spreading load.
        let mut x = self.state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

impl Router for Random {
    fn route(&self, _key: &[u8]) -> Option<usize> {
        if self.live.is_empty() {
            return None;
        }
        Some(self.live[(self.next() % self.live.len() as u64) as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_live_servers() {
        let mut s: Vec<RingServer> =
            (0..3).map(|i| RingServer { name: format!("s{i}"), weight: 1, live: true }).collect();
        s[0].live = false;
        let r = Random::new(&s);
        let mut seen = [false; 3];
        for _ in 0..200 {
            seen[r.route(b"k").unwrap()] = true;
        }
        assert_eq!(seen, [false, true, true]);
    }
}
