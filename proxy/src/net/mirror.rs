//! Pattern mirrors. A pattern matches channels that hash to any backend, and a plain pool
//! routes each PUBLISH to one backend: so in a plain pool a client's patterns are also
//! subscribed on a connection of its own to every other live backend of the pool (its
//! "mirrors"), whose messages are relayed. PSUBSCRIBE / PUNSUBSCRIBE go to the mirrors as
//! parts of the client's request (see `pubsub`): the client's confirmation waits for every
//! mirror's. A backend that is ejected or cannot be reached is not waited for: it gets the
//! client's patterns once it is back (checked every second), as does one whose mirror
//! connection was lost. A client with no pattern left lets its mirrors go. A cluster delivers
//! PUBLISH to every node, so cluster pools need no mirrors.
//!
//! Only connections are decided here (and what each is sent, a [`Part`] of the client's
//! request); requests and replies are `pubsub`'s.

use super::backend::{Role, Waiter};
use super::worker::Worker;
use bytes::Bytes;
use mio::Token;

/// One connection's share of a client request (see [`Worker::send_parts`]).
pub struct Part {
    pub conn: Token,
    pub request: Bytes,
    /// Frames answering `request`.
    pub frames: usize,
    /// Its answer is dropped; only the messages before it reach the client.
    pub mirror: bool,
}

impl Worker {
    /// The copies of pattern request `request` (answered by `frames` frames) for client
    /// `ct`'s mirrors: the request itself on the mirrors it has, every pattern on the ones
    /// opened now. None in a cluster pool.
    pub(super) fn mirror_parts(&mut self, ct: Token, request: &Bytes, frames: usize) -> Vec<Part> {
        let Some(sub) = self.clients.get(&ct).and_then(|c| c.sub.as_ref()) else { return Vec::new() };
        if self.pools[sub.pool].slots.is_some() {
            return Vec::new();
        }
        let mirror = |conn, request: &Bytes, frames| Part { conn, request: request.clone(), frames, mirror: true };
        let mut parts: Vec<Part> = sub.mirrors.iter().map(|&conn| mirror(conn, request, frames)).collect();
        if let Some((all, n)) = sub.psubscribe_all() {
            parts.extend(self.open_mirrors(ct).into_iter().map(|conn| mirror(conn, &all, n)));
        }
        parts
    }

    /// Open a mirror for client `ct` on every live backend of its pool that has none yet
    /// (none while it has no pattern); returns them, nothing sent yet.
    fn open_mirrors(&mut self, ct: Token) -> Vec<Token> {
        let Some(sub) = self.clients.get(&ct).and_then(|c| c.sub.as_ref()) else { return Vec::new() };
        if sub.psubscribe_all().is_none() {
            return Vec::new();
        }
        let (pi, home) = (sub.pool, sub.server);
        let covered: Vec<usize> = sub.mirrors.iter().filter_map(|t| self.backends.get(t)).map(|b| b.server).collect();
        let missing: Vec<usize> = (0..self.pools[pi].servers.len())
            .filter(|&s| s != home && !covered.contains(&s) && self.pools[pi].servers[s].ejected_until.is_none())
            .collect();
        let mut opened = Vec::new();
        for server in missing {
            // A backend that cannot be reached now gets the patterns on a later try.
            let Ok(bt) = self.dedicated_conn(ct, pi, server, Role::Sub) else { continue };
            if let Some(sub) = self.clients.get_mut(&ct).and_then(|c| c.sub.as_mut()) {
                sub.mirrors.push(bt);
            }
            opened.push(bt);
        }
        opened
    }

    /// Called every second: patterns reach the backends that were ejected, down or not yet
    /// in the pool when they were subscribed, and those whose mirror connection was lost.
    /// No client request waits for these.
    pub fn repair_mirrors(&mut self) {
        let pools = &self.pools;
        let clients: Vec<Token> = self
            .clients
            .iter()
            .filter(|(_, c)| c.sub.as_ref().is_some_and(|s| pools[s.pool].slots.is_none()))
            .map(|(t, _)| *t)
            .collect();
        for ct in clients {
            let Some((all, n)) = self.clients[&ct].sub.as_ref().and_then(|s| s.psubscribe_all()) else { continue };
            for bt in self.open_mirrors(ct) {
                self.send_on(bt, &all, Waiter::SubQuiet { left: n });
            }
        }
    }

    /// A client with no pattern left lets its mirrors go: they finish what is in flight
    /// (its PUNSUBSCRIBE), relaying nothing after; its next pattern opens new ones.
    pub(super) fn drop_unused_mirrors(&mut self, ct: Token) {
        let Some(sub) = self.clients.get_mut(&ct).and_then(|c| c.sub.as_mut()) else { return };
        if sub.psubscribe_all().is_some() {
            return;
        }
        for bt in std::mem::take(&mut sub.mirrors) {
            self.release(bt);
        }
    }
}
