//! What a worker thread owns: its poll and inbox, its own runtime copy of every pool, its
//! clients and backend connections by token, and what it shares with the other threads
//! (shutdown flag, stats, client ids, the peers' inboxes). Data and token allocation only:
//! the event loop (`event_loop`) and the behaviour (`connect`, `dispatch`, `tx`, `pubsub`, ...)
//! are `impl Worker` blocks in files above this one.

use super::backend::Backend;
use super::client::Client;
use super::pool::{PoolRt, PoolShared};
use super::stream::ClientStream;
use crate::stats::Stats;
use crossbeam_channel::{Receiver, Sender};
use mio::{Poll, Token};
use slotbox_protocol::balance::Balance;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::time::Instant;

/// The token of the worker's `mio::Waker` (its inbox has mail).
pub const WAKER: Token = Token(0);

/// What the acceptor and the control thread send a worker.
pub enum Inbox {
    /// A new client of pool `usize`.
    Client(ClientStream, usize),
    /// Pool `usize` has a new configuration; say when it is applied.
    Reload(usize, Arc<PoolShared>, Sender<()>),
    /// A client moved here from another worker (see `balance`).
    Migrate(Box<Client>),
    /// Sentinel pool `usize` has a new master / replicas (see `crate::sentinel`).
    Topology(usize, Vec<crate::router::SlotRange>),
}

/// How a worker reaches another (see `balance`).
pub type Peer = (Sender<Inbox>, Arc<mio::Waker>);

/// Maps keyed by this worker's own tokens (small sequential integers it hands out, never
/// chosen by a peer): a multiplicative hash instead of SipHash, which was ~2.5 % of the
/// worker's CPU at -P 1.
pub type TokenMap<V> = HashMap<Token, V, std::hash::BuildHasherDefault<TokenHasher>>;

#[derive(Default)]
pub struct TokenHasher(u64);

impl std::hash::Hasher for TokenHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn write_usize(&mut self, n: usize) {
        // Fibonacci hashing: spreads sequential tokens over the high bits hashbrown uses.
        self.0 = (n as u64 ^ self.0).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

pub struct Worker {
    pub poll: Poll,
    pub rx: Receiver<Inbox>,
    pub pools: Vec<PoolRt>,
    pub clients: TokenMap<Client>,
    pub backends: TokenMap<Backend>,
    pub next_token: usize,
    pub shutdown: Arc<AtomicBool>,
    pub stats: Arc<Stats>,
    pub client_ids: Arc<AtomicU64>,
    pub dirty_clients: Vec<Token>,
    pub dirty_backends: Vec<Token>,
    /// Scratch buffer for socket reads.
    pub scratch: Box<[u8]>,
    /// This worker's load and the moves of clients between workers.
    pub balance: Balance,
    /// Every worker's inbox, this one's included (clients move through them).
    pub peers: Arc<Vec<Peer>>,
    /// Last time the pattern mirrors were checked (see `mirror`).
    pub mirror_check: Instant,
    /// This worker's share of each server's queue gauges, as last added to the stats
    /// (see `connect::report_queues`).
    pub queue_report: Vec<(Arc<crate::stats::ServerStats>, super::backend::Queues)>,
}

impl Worker {
    /// A new token for a client or backend connection.
    pub fn token(&mut self) -> Token {
        self.next_token += 1;
        Token(self.next_token)
    }
}
