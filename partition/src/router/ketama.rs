//! nutcracker's ketama continuum (`nc_ketama.c`): per live server
//! `floor(weight/total * 160/4 * nlive) * 4` points (160: [`POINTS_PER_SERVER`]; other
//! counts, for experiments such as `slotbox-cluster ring-sim --vnodes`, via
//! [`Ketama::with_points`]) (computed in `f32`, as the C code does),
//! each group of four from the MD5 of `"{name}-{i}"`, sorted; a key goes to the first point
//! at or after its hash, wrapping to the first point.

use super::{RingServer, Router};
use crate::hash::{md5, HashKind};

/// nutcracker's points per server of weight 1 (`KETAMA_POINTS_PER_SERVER`).
pub const POINTS_PER_SERVER: u32 = 160;

#[derive(Debug, Clone, Copy)]
struct Point {
    value: u32,
    server: usize,
}

/// A ketama ring over a server list.
#[derive(Debug, Clone)]
pub struct Ketama {
    hash: HashKind,
    points: Vec<Point>,
}

impl Ketama {
    /// Build the continuum of the live servers (indices refer to `servers`), exactly as
    /// nutcracker does.
    pub fn new(hash: HashKind, servers: &[RingServer]) -> Ketama {
        Ketama::with_points(hash, servers, POINTS_PER_SERVER)
    }

    /// The continuum with `points_per_server` (rounded down to a multiple of 4: each MD5
    /// gives four points) instead of nutcracker's 160.
    pub fn with_points(hash: HashKind, servers: &[RingServer], points_per_server: u32) -> Ketama {
        let per_weight = points_per_server as f32;
        let live: Vec<(usize, &RingServer)> = servers.iter().enumerate().filter(|(_, s)| s.live).collect();
        // u64: weights are u32 each, and their sum must not wrap.
        let total: u64 = live.iter().map(|(_, s)| u64::from(s.weight)).sum();
        let nlive = live.len() as f32;
        let mut points = Vec::with_capacity(live.len() * points_per_server as usize);
        for (idx, s) in live {
            let pct = s.weight as f32 / total as f32;
            let raw = (pct * per_weight / 4.0 * nlive) as f64 + 0.000_000_000_1;
            let per_server = ((raw as f32).floor() as u32) * 4;
            for i in 0..per_server / 4 {
                let d = md5::digest(format!("{}-{}", s.name, i).as_bytes());
                for w in 0..4 {
                    points.push(Point { value: md5::digest_word(&d, w), server: idx });
                }
            }
        }
        points.sort_by_key(|p| p.value);
        Ketama { hash, points }
    }

    /// The server owning hash value `h`.
    pub fn dispatch(&self, h: u32) -> Option<usize> {
        if self.points.is_empty() {
            return None;
        }
        let i = self.points.partition_point(|p| p.value < h);
        let i = if i == self.points.len() { 0 } else { i };
        Some(self.points[i].server)
    }

    /// Number of points on the ring.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

impl Router for Ketama {
    fn route(&self, key: &[u8]) -> Option<usize> {
        self.dispatch(self.hash.hash(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers(n: usize) -> Vec<RingServer> {
        (0..n).map(|i| RingServer { name: format!("127.0.0.1:{}", 7000 + i), weight: 1, live: true }).collect()
    }

    #[test]
    fn points_scale_with_weight() {
        assert_eq!(Ketama::new(HashKind::Fnv1a64, &servers(3)).len(), 480);
        let mut s = servers(2);
        s[0].weight = 3;
        // 3/4*40*2 = 60 groups, 1/4*40*2 = 20 groups.
        assert_eq!(Ketama::new(HashKind::Fnv1a64, &s).len(), 320);
    }

    /// Two weights of 2^31 overflowed a u32 total (a panic with overflow checks; wrapped
    /// shares without). Found by review; reachable from nutcracker.yml.
    #[test]
    fn huge_weights_do_not_overflow() {
        let mut s = servers(2);
        s[0].weight = u32::MAX;
        s[1].weight = u32::MAX;
        assert_eq!(Ketama::new(HashKind::Fnv1a64, &s).len(), 320);
    }

    #[test]
    fn ejected_servers_get_no_keys() {
        let mut s = servers(3);
        s[1].live = false;
        let k = Ketama::new(HashKind::Fnv1a64, &s);
        for i in 0..1000 {
            assert_ne!(k.route(format!("key:{i}").as_bytes()), Some(1));
        }
    }

    #[test]
    fn point_count_is_configurable() {
        assert_eq!(Ketama::with_points(HashKind::Fnv1a64, &servers(3), 40).len(), 120);
        assert_eq!(Ketama::with_points(HashKind::Fnv1a64, &servers(3), 42).len(), 120);
        let a = Ketama::with_points(HashKind::Md5, &servers(3), POINTS_PER_SERVER);
        let b = Ketama::new(HashKind::Md5, &servers(3));
        for h in [0, 1 << 20, 1 << 30, u32::MAX / 3] {
            assert_eq!(a.dispatch(h), b.dispatch(h));
        }
    }

    #[test]
    fn wraps_past_the_last_point() {
        let k = Ketama::new(HashKind::Md5, &servers(3));
        assert_eq!(k.dispatch(u32::MAX), k.dispatch(0));
    }
}
