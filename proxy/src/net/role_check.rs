//! The replica link checks of a worker (see `replica_link`): `ROLE` goes to each replica of
//! a cluster pool that reads from replicas, every [`CHECK_EVERY`], on the replica's first
//! shared connection; its answer, a failed connection, or [`SILENT_AFTER`] of silence sets the
//! replica's [`LinkState`] and its `replica_link` gauge.

use super::backend::{encode_request, Waiter};
use super::replica_link::{LinkState, CHECK_EVERY, SILENT_AFTER};
use super::worker::Worker;
use crate::config::ReadFrom;
use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::time::Instant;

impl Worker {
    /// Send `ROLE` to each replica of pool `pi` whose check is due; a check unanswered for
    /// [`SILENT_AFTER`] marks the link down.
    pub fn check_replica_links(&mut self, pi: usize, now: Instant) {
        let p = &self.pools[pi];
        if p.cfg().read_from == ReadFrom::Master || p.slots.is_none() {
            return;
        }
        for server in p.replicas.clone() {
            let check = &self.pools[pi].servers[server].link;
            match check.sent {
                Some(sent) if now.duration_since(sent) >= SILENT_AFTER => self.set_link(pi, server, LinkState::Down),
                Some(_) => {}
                None if now >= check.next => self.send_role(pi, server, now),
                None => {}
            }
        }
    }

    fn send_role(&mut self, pi: usize, server: usize, now: Instant) {
        match self.backend_conn(pi, server, 0, 0) {
            Ok(bt) => {
                self.pools[pi].servers[server].link.sent = Some(now);
                let req = encode_request(&[Bytes::from_static(b"ROLE")]);
                if let Some(b) = self.backends.get_mut(&bt) {
                    b.send(&req, Waiter::Role);
                    self.dirty_backends.push(bt);
                }
            }
            Err(_) => self.link_checked(pi, server, LinkState::Down, now),
        }
    }

    /// A check of `server` ended: with its `ROLE` answer, or `Down` when its connection failed.
    /// (The state of a backend that is no replica any more is left alone.)
    pub fn link_checked(&mut self, pi: usize, server: usize, state: LinkState, now: Instant) {
        let p = &mut self.pools[pi];
        let Some(s) = p.servers.get_mut(server) else { return };
        s.link.sent = None;
        s.link.next = now + CHECK_EVERY;
        if p.replicas.binary_search(&server).is_ok() {
            self.set_link(pi, server, state);
        }
    }

    fn set_link(&mut self, pi: usize, server: usize, state: LinkState) {
        let s = &mut self.pools[pi].servers[server];
        s.link.state = state;
        s.stats.replica_link.store(state.gauge(), Ordering::Relaxed);
    }
}
