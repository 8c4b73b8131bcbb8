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
//! This file is the states and how a `ROLE` answer reads; `role_check` sends the checks.
//! Nothing here routes a request.

use slotbox_protocol::Frame;
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
