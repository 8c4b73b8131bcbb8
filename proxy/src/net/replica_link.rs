//! Which replicas may serve reads. A cluster pool that reads from replicas (`read_from:
//! replica` or `prefer_replica`) asks each replica `ROLE` every [`CHECK_EVERY`], on the
//! replica's first shared connection, and routes reads only to replicas whose link to their
//! master is up: `ROLE` answers `slave <host> <port> connected <offset>` (Redis's
//! `master_link_status:up`). A replica that is connecting or syncing (`connect`,
//! `connecting`, `sync`, `handshake`), unreachable, silent for [`SILENT_AFTER`], answering
//! an error (`-LOADING`, ...), promoted to master, or not checked yet gets no reads: they go
//! to the slot's master (see `PoolRt::read_target`). It is used again from the first check
//! that finds its link up.
//!
//! Each worker checks with its own connections and keeps its own view, like the rest of its
//! pool state; the backend's `replica_link` gauge (stats and metrics) shows the latest view.
//! Nothing here routes a request.

use super::backend::{encode_request, Waiter};
use super::worker::Worker;
use crate::config::ReadFrom;
use bytes::Bytes;
use slotbox_protocol::Frame;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How often each worker asks each replica for its role.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);
/// A check unanswered this long counts as a down link (the answer still counts when it comes).
pub const SILENT_AFTER: Duration = Duration::from_secs(3);

/// What the last check said about a backend's replication link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Not checked yet.
    Unknown,
    /// A replica whose link to its master is up: it may serve reads.
    Up,
    /// A replica whose link is down or still syncing, or a backend that did not answer.
    Down,
    /// It says it is a master (promoted: the slot map will catch up).
    Master,
}

impl LinkState {
    /// The `replica_link` gauge: 1 up, 0 down (or not known yet), -1 not a replica.
    pub fn gauge(self) -> i64 {
        match self {
            LinkState::Up => 1,
            LinkState::Down | LinkState::Unknown => 0,
            LinkState::Master => -1,
        }
    }

    /// How INFO on the proxy shows it.
    pub fn name(self) -> &'static str {
        match self {
            LinkState::Up => "up",
            LinkState::Down => "down",
            LinkState::Unknown => "unknown",
            LinkState::Master => "master",
        }
    }
}

/// One backend's link checks.
#[derive(Debug)]
pub struct LinkCheck {
    pub state: LinkState,
    /// When the `ROLE` still unanswered was sent.
    pub sent: Option<Instant>,
    /// When the next `ROLE` is due.
    pub next: Instant,
}

impl LinkCheck {
    pub fn new(now: Instant) -> LinkCheck {
        LinkCheck { state: LinkState::Unknown, sent: None, next: now }
    }
}

/// What a `ROLE` reply says about the link (Redis 7.0's format).
pub fn parse_role(reply: &Frame) -> LinkState {
    let Frame::Array(items) = reply else {
        return LinkState::Down;
    };
    let word = |i: usize| items.get(i).and_then(Frame::as_bytes).map(|b| b.to_ascii_lowercase());
    match word(0).as_deref() {
        Some(b"master") => LinkState::Master,
        Some(b"slave" | b"replica") if word(3).as_deref() == Some(b"connected") => LinkState::Up,
        _ => LinkState::Down,
    }
}

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

#[cfg(test)]
mod tests {
    use super::{parse_role, LinkState};
    use slotbox_protocol::Frame;

    fn role(words: &[&str], offset: i64) -> Frame {
        let mut items: Vec<Frame> = words.iter().map(|w| Frame::bulk(w.to_string())).collect();
        items.insert(2.min(items.len()), Frame::Integer(7000));
        items.push(Frame::Integer(offset));
        Frame::Array(items)
    }

    #[test]
    fn only_a_connected_replica_is_up() {
        assert_eq!(parse_role(&role(&["slave", "127.0.0.1", "connected"], 42)), LinkState::Up);
        for state in ["connect", "connecting", "sync", "handshake", "none", ""] {
            assert_eq!(parse_role(&role(&["slave", "127.0.0.1", state], 42)), LinkState::Down, "{state}");
        }
        let master = Frame::Array(vec![Frame::bulk("master"), Frame::Integer(3), Frame::Array(vec![])]);
        assert_eq!(parse_role(&master), LinkState::Master);
        assert_eq!(parse_role(&Frame::error("LOADING Redis is loading the dataset in memory")), LinkState::Down);
        assert_eq!(parse_role(&Frame::Array(vec![Frame::bulk("sentinel"), Frame::Array(vec![])])), LinkState::Down);
        assert_eq!(parse_role(&Frame::Array(vec![Frame::bulk("slave")])), LinkState::Down, "truncated");
    }
}
