//! Distributions: which backend of a pool serves a key. `Ketama`, `Modula` and `Random`
//! (nutcracker's three) and `ClusterSlots` (Redis Cluster slot map) sit behind [`Router`].
//! Routers are pure data built from a server list; they never touch sockets. The key hash
//! functions themselves live in `crate::hash`.

mod cluster_slots;
mod ketama;
mod modula;
mod random;

pub use cluster_slots::{parse_cluster_slots, ClusterSlots, SlotRange};
pub use ketama::Ketama;
pub use modula::Modula;
pub use random::Random;

/// One backend as a distribution sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingServer {
    /// Ring identity: the `name` from the config, else `host:port` (`host` for port 11211).
    pub name: String,
    pub weight: u32,
    /// Ejected servers get no points (auto_eject_hosts).
    pub live: bool,
}

/// Maps a key to the index of the backend that owns it.
pub trait Router: Send {
    /// The backend for `key` (already reduced to its hash tag), or `None` when no backend
    /// is live.
    fn route(&self, key: &[u8]) -> Option<usize>;
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
}
