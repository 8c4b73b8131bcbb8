//! The acceptor thread: it accepts the clients of every pool and hands each to a worker
//! (crossbeam-channel + `mio::Waker`): to the first one with room (see `balance`), or
//! round-robin. A pool at its `client_connections` limit closes the new connection instead.

use super::stream::{ClientStream, Listener};
use super::worker::{Inbox, Peer};
use crate::error::ProxyError;
use crate::stats::{PoolStats, Stats};
use mio::{Events, Poll, Token, Waker};
use slotbox_protocol::balance;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Start the acceptor thread on `listeners` (one per pool, in pool order), handing clients to
/// `workers`: by their `loads` when given, else round-robin. Returns the thread and the waker
/// that interrupts its poll (so it sees `shutdown` at once).
pub fn spawn(
    listeners: Vec<Listener>,
    workers: Vec<Peer>,
    loads: Option<Arc<Vec<AtomicU32>>>,
    shutdown: Arc<AtomicBool>,
    stats: Arc<Stats>,
    limits: Arc<Vec<AtomicU32>>,
) -> Result<(JoinHandle<()>, Arc<Waker>), ProxyError> {
    let poll = Poll::new().map_err(|e| ProxyError::io("poll", e))?;
    let waker = Arc::new(Waker::new(poll.registry(), Token(usize::MAX)).map_err(|e| ProxyError::io("waker", e))?);
    let acceptor = Acceptor { poll, listeners, workers, loads, next: 0, shutdown, stats, limits };
    let t = std::thread::Builder::new()
        .name("proxy-acceptor".into())
        .spawn(move || acceptor.run())
        .map_err(|e| ProxyError::io("spawn acceptor", e))?;
    Ok((t, waker))
}

/// The acceptor thread's state.
struct Acceptor {
    poll: Poll,
    listeners: Vec<Listener>,
    workers: Vec<Peer>,
    /// The workers' loads when clients go to the first worker with room (else round-robin).
    loads: Option<Arc<Vec<AtomicU32>>>,
    next: usize,
    shutdown: Arc<AtomicBool>,
    stats: Arc<Stats>,
    limits: Arc<Vec<AtomicU32>>,
}

impl Acceptor {
    /// Accept until shutdown.
    fn run(mut self) {
        for (i, l) in self.listeners.iter_mut().enumerate() {
            let _ = l.register(self.poll.registry(), Token(i));
        }
        let mut events = Events::with_capacity(64);
        while !self.shutdown.load(Ordering::Relaxed) {
            if self.poll.poll(&mut events, Some(Duration::from_millis(100))).is_err() {
                continue;
            }
            for ev in events.iter() {
                if ev.token().0 < self.listeners.len() {
                    self.accept(ev.token().0);
                }
            }
        }
    }

    fn accept(&mut self, pool: usize) {
        loop {
            match self.listeners[pool].accept() {
                Ok(stream) => self.hand_over(stream, pool),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    /// Give a new client to a worker, or close it when the pool is at its
    /// `client_connections` limit (as nutcracker does, without a reply).
    fn hand_over(&mut self, stream: ClientStream, pool: usize) {
        self.stats.total_connections.fetch_add(1, Ordering::Relaxed);
        let ps: &PoolStats = &self.stats.pools[pool];
        let limit = self.limits[pool].load(Ordering::Relaxed);
        if limit > 0 && ps.client_connections.load(Ordering::Relaxed) >= i64::from(limit) {
            ps.client_rejected.fetch_add(1, Ordering::Relaxed);
            drop(stream);
            return;
        }
        ps.client_connections.fetch_add(1, Ordering::Relaxed);
        self.stats.curr_connections.fetch_add(1, Ordering::Relaxed);
        let to = match &self.loads {
            Some(loads) => balance::place(loads),
            None => {
                self.next += 1;
                self.next % self.workers.len()
            }
        };
        let (tx, waker) = &self.workers[to];
        if tx.send(Inbox::Client(stream, pool)).is_ok() {
            let _ = waker.wake();
        }
    }
}
