//! Distributions: which backend of a pool serves a key. `Ketama`, `Modula` and `Random`
//! (nutcracker's three), `Jump` (jump consistent hash), `Rendezvous` (highest random weight)
//! and `ClusterSlots` (Redis Cluster slot map) sit behind [`Router`]. Routers are pure data
//! built from a server list; they never touch sockets. The key hash functions themselves
//! live in `crate::hash`.

mod cluster_slots;
mod jump;
mod ketama;
mod modula;
mod random;
mod rendezvous;

pub use cluster_slots::{parse_cluster_slots, ClusterSlots, SlotRange};
pub use jump::{jump_bucket, Jump};
pub use ketama::{Ketama, POINTS_PER_SERVER};
pub use modula::Modula;
pub use random::Random;
pub use rendezvous::Rendezvous;

use crate::hash::HashKind;

/// One backend as a distribution sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingServer {
    /// Ring identity: the `name` from the config, else `host:port` (`host` for port 11211).
    pub name: String,
    pub weight: u32,
    /// Ejected servers get no points (auto_eject_hosts).
    pub live: bool,
}

impl RingServer {
    /// A live server of weight 1 named `name`.
    pub fn new(name: &str) -> RingServer {
        RingServer { name: name.to_string(), weight: 1, live: true }
    }
}

/// Maps a key to the index of the backend that owns it.
pub trait Router: Send {
    /// The backend for `key` (already reduced to its hash tag), or `None` when no backend
    /// is live.
    fn route(&self, key: &[u8]) -> Option<usize>;
}

/// The distributions that place a key by its hash over a server list (the slot map of a
/// Redis Cluster is built differently: see [`ClusterSlots`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distribution {
    Ketama,
    Modula,
    Random,
    Jump,
    Rendezvous,
}

impl Distribution {
    /// Every distribution, with its name in nutcracker.yml (`jump` and `rendezvous` are
    /// slotbox extensions).
    pub const ALL: [(Distribution, &'static str); 5] = [
        (Distribution::Ketama, "ketama"),
        (Distribution::Modula, "modula"),
        (Distribution::Random, "random"),
        (Distribution::Jump, "jump"),
        (Distribution::Rendezvous, "rendezvous"),
    ];

    /// The distribution named `name`.
    pub fn from_name(name: &str) -> Option<Distribution> {
        Distribution::ALL.iter().find(|(_, n)| *n == name).map(|(d, _)| *d)
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        Distribution::ALL.iter().find(|(d, _)| *d == self).map_or("", |(_, n)| n)
    }

    /// A router placing keys hashed with `hash` over `servers` (ketama with nutcracker's
    /// 160 points per server).
    pub fn build(self, hash: HashKind, servers: &[RingServer]) -> Box<dyn Router> {
        match self {
            Distribution::Ketama => Box::new(Ketama::new(hash, servers)),
            Distribution::Modula => Box::new(Modula::new(hash, servers)),
            Distribution::Random => Box::new(Random::new(servers)),
            Distribution::Jump => Box::new(Jump::new(hash, servers)),
            Distribution::Rendezvous => Box::new(Rendezvous::new(hash, servers)),
        }
    }
}

/// The part of `key` between the two `tag` characters, as nutcracker's `hash_tag`: the first
/// `tag[0]`, then the next `tag[1]` after it; a missing end or an empty tag hashes the
/// whole key.
pub fn apply_hash_tag(key: &[u8], tag: Option<[u8; 2]>) -> &[u8] {
    let Some([open, close]) = tag else { return key };
    let Some(start) = key.iter().position(|&b| b == open) else {
        return key;
    };
    let rest = &key[start + 1..];
    match rest.iter().position(|&b| b == close) {
        Some(end) if end > 0 => &rest[..end],
        _ => key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_tag_extraction() {
        let t = Some(*b"{}");
        assert_eq!(apply_hash_tag(b"user:{42}:name", t), b"42");
        assert_eq!(apply_hash_tag(b"user:{}:name", t), b"user:{}:name");
        assert_eq!(apply_hash_tag(b"user:{42", t), b"user:{42");
        assert_eq!(apply_hash_tag(b"plain", t), b"plain");
        assert_eq!(apply_hash_tag(b"a{b}c", None), b"a{b}c");
        assert_eq!(apply_hash_tag(b"x$ab$", Some(*b"$$")), b"ab");
    }

    #[test]
    fn distribution_names_round_trip() {
        for (d, name) in Distribution::ALL {
            assert_eq!(Distribution::from_name(name), Some(d));
            assert_eq!(d.name(), name);
        }
        assert_eq!(Distribution::from_name("round"), None);
    }

    /// Every keyed distribution places a key on the same server each time, and only on a
    /// live one.
    #[test]
    fn keyed_distributions_are_stable_and_live() {
        let mut s: Vec<RingServer> = (0..4).map(|i| RingServer::new(&format!("n{i}"))).collect();
        s[3].live = false;
        for (d, _) in Distribution::ALL {
            let r = d.build(HashKind::Fnv1a64, &s);
            for i in 0..500 {
                let k = format!("key:{i}");
                let owner = r.route(k.as_bytes()).unwrap();
                assert_ne!(owner, 3, "{d:?}");
                if d != Distribution::Random {
                    assert_eq!(r.route(k.as_bytes()), Some(owner), "{d:?}");
                }
            }
        }
    }
}
