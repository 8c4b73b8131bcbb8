//! The proxy's threads and connections: N worker threads, each a mio event loop owning its
//! clients and its own pipelined backend connections, and one acceptor thread that hands
//! accepted clients to the workers. This file starts and stops them ([`start`], [`Running`]):
//! bind every pool's listener, fetch the first slot map of cluster pools, spawn the threads.
//!
//! # Layers
//!
//! Read bottom to top; a file imports only files of lower layers (no import cycle), checked by
//! `tests/layers.rs`:
//!
//! 1. leaves: `stream` (client sockets and listeners); the balancing policy (a worker's load and
//!    when its clients move) is `slotbox_protocol::balance`, shared with the server's loops
//! 2. `backend` (one backend connection: requests out, replies matched to their waiters in
//!    order), `replica_link` (a replica's link state, as `ROLE` shows it)
//! 3. `pool`: a pool as one worker runs it — servers, distribution, slot map, readable replicas
//! 4. `client_state`: what ties a client to connections of its own — its transaction,
//!    subscription, blocking command
//! 5. `client` (one client connection: buffers and the replies owed, in order), `request`
//!    (plain functions of a request: its spec, routing keys, refusals, INFO)
//! 6. `worker`: the `Worker` — what a worker thread owns — and its inbox; data only
//! 7. `connect`: a worker's backend connections — shared lanes, dedicated, parked, closed
//! 8. `forward` (a request's target, sending it, delivering replies), `role_check` (replica
//!    link checks)
//! 9. `redirect`: MOVED / ASK, slot map refreshes
//! 10. the features: `blocking`, `tx`, `mirror` (pattern copies on every backend), then
//!     `pubsub` on `mirror`; `near_cache` (hot keys answered from memory, `hot_key_cache:`)
//! 11. `dispatch`: a request's path and a reply's waiter, then `reload` (a new config, on the
//!     control thread and in each worker)
//! 12. the threads: `event_loop` (a worker's loop: sockets, timers, inbox), `acceptor`
//! 13. this file
//!
//! Layers 7 to 12 are `impl Worker` blocks (and the free functions they share): each file
//! imports the `Worker` type from `worker` and calls the methods of the files below it. The
//! calls that go up are the event flow coming back round: a delivered reply unblocks a client
//! (`forward::deliver` -> `blocking::unblock`), whose waiting input then runs
//! (`event_loop::serve_input`); a subscription connection hands a plain reply to
//! `dispatch::backend_reply` and closes a client it must (`event_loop::close_client`).

mod acceptor;
mod backend;
mod blocking;
mod client;
mod client_state;
mod connect;
mod dispatch;
mod event_loop;
mod forward;
mod mirror;
mod near_cache;
mod pool;
mod pubsub;
mod redirect;
mod reload;
mod replica_link;
mod request;
mod role_check;
mod script;
mod stream;
mod tx;
mod worker;

pub use reload::{PoolChange, ReloadReport};
pub use stream::ListenAddr;

use crate::config::PoolConfig;
use crate::error::ProxyError;
use crate::router::{parse_cluster_slots, SlotRange};
use crate::stats::{PoolStats, Stats};
use mio::{Poll, Waker};
use parking_lot::Mutex;
use pool::{PoolRt, PoolShared};
use slotbox_protocol::balance::Balance;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};
use stream::Listener;
use worker::{Peer, Worker, WAKER};

/// A running proxy.
pub struct Running {
    /// Each pool's TCP address (`0.0.0.0:0` for a unix socket pool: see `listen`).
    pub addrs: Vec<SocketAddr>,
    pub listen: Vec<ListenAddr>,
    pub stats: Arc<Stats>,
    shutdown: Arc<AtomicBool>,
    wakers: Vec<Arc<Waker>>,
    threads: Vec<JoinHandle<()>>,
    inboxes: Vec<Peer>,
    /// The configuration every worker runs, per pool (replaced by reloads).
    pools: Mutex<Vec<Arc<PoolShared>>>,
    /// `client_connections` per pool (0: unlimited), read by the acceptor.
    limits: Arc<Vec<AtomicU32>>,
}

impl Running {
    /// Apply `new` to the running pools (see `reload`); returns once every worker has.
    pub fn reload(&self, new: Vec<PoolConfig>) -> Result<ReloadReport, ProxyError> {
        reload::reload(&mut self.pools.lock(), &self.limits, &self.inboxes, new)
    }

    /// Stop every thread and wait for them.
    pub fn stop(&mut self) {
        self.shutdown.store(true, Ordering::Relaxed);
        for w in &self.wakers {
            let _ = w.wake();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Bind and start everything.
pub fn start(pools: Vec<PoolConfig>, workers: usize, round_robin: bool) -> Result<Running, ProxyError> {
    let (listeners, listen) = bind(&pools)?;
    let addrs = listen
        .iter()
        .map(|a| match a {
            ListenAddr::Tcp(a) => *a,
            ListenAddr::Unix(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        })
        .collect();
    let limits: Arc<Vec<AtomicU32>> = Arc::new(pools.iter().map(|p| AtomicU32::new(p.client_connections)).collect());
    let shared: Vec<Arc<PoolShared>> = pools.into_iter().map(pool_shared).collect();
    let stats = Arc::new(Stats {
        started: SystemTime::now(),
        total_connections: AtomicU64::new(0),
        curr_connections: Default::default(),
        pools: shared.iter().map(|p| p.stats.clone()).collect(),
        client_moves: AtomicU64::new(0),
    });
    let shutdown = Arc::new(AtomicBool::new(false));
    let Workers { mut threads, inboxes, loads } = spawn_workers(workers, &shared, &shutdown, &stats)?;
    let mut wakers: Vec<Arc<Waker>> = inboxes.iter().map(|(_, w)| w.clone()).collect();
    let loads = (!round_robin).then_some(loads);
    let (t, waker) =
        acceptor::spawn(listeners, inboxes.clone(), loads, shutdown.clone(), stats.clone(), limits.clone())?;
    wakers.push(waker);
    threads.push(t);
    for (pi, p) in shared.iter().enumerate() {
        if let Some(t) = spawn_sentinel_watch(pi, p, &inboxes, &shutdown)? {
            threads.push(t);
        }
    }
    Ok(Running { addrs, listen, stats, shutdown, wakers, threads, inboxes, pools: Mutex::new(shared), limits })
}

/// Bind every pool's listener, in pool order.
fn bind(pools: &[PoolConfig]) -> Result<(Vec<Listener>, Vec<ListenAddr>), ProxyError> {
    let mut listeners = Vec::new();
    let mut listen = Vec::new();
    for p in pools {
        let (l, a) = Listener::bind(&p.listen, p.listen_perm)
            .map_err(|e| ProxyError::io(format!("pool '{}': listen on {}", p.name, p.listen), e))?;
        listeners.push(l);
        listen.push(a);
    }
    Ok((listeners, listen))
}

/// The worker threads, with their inboxes and the loads they publish (see `balance`).
struct Workers {
    threads: Vec<JoinHandle<()>>,
    inboxes: Vec<Peer>,
    loads: Arc<Vec<AtomicU32>>,
}

/// Start `n` (at least one) worker threads, each with its own runtime copy of every pool.
fn spawn_workers(
    n: usize,
    shared: &[Arc<PoolShared>],
    shutdown: &Arc<AtomicBool>,
    stats: &Arc<Stats>,
) -> Result<Workers, ProxyError> {
    let client_ids = Arc::new(AtomicU64::new(1));
    let mut inboxes = Vec::new();
    let mut setups = Vec::new();
    for _ in 0..n.max(1) {
        let poll = Poll::new().map_err(|e| ProxyError::io("poll", e))?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER).map_err(|e| ProxyError::io("waker", e))?);
        let (tx, rx) = crossbeam_channel::unbounded();
        inboxes.push((tx, waker));
        setups.push((poll, rx));
    }
    let peers = Arc::new(inboxes.clone());
    let loads: Arc<Vec<AtomicU32>> = Arc::new((0..setups.len()).map(|_| AtomicU32::new(0)).collect());
    let mut threads = Vec::new();
    for (i, (poll, rx)) in setups.into_iter().enumerate() {
        let w = Worker {
            poll,
            rx,
            pools: shared.iter().map(|s| PoolRt::new(s.clone())).collect(),
            clients: Default::default(),
            backends: Default::default(),
            next_token: 0,
            shutdown: shutdown.clone(),
            stats: stats.clone(),
            client_ids: client_ids.clone(),
            dirty_clients: Vec::new(),
            dirty_backends: Vec::new(),
            scratch: vec![0u8; 32 * 1024].into_boxed_slice(),
            balance: Balance::new(i, loads.clone()),
            peers: peers.clone(),
            mirror_check: Instant::now(),
            queue_report: Vec::new(),
        };
        let t = std::thread::Builder::new()
            .name(format!("proxy-worker-{i}"))
            .spawn(move || w.run())
            .map_err(|e| ProxyError::io("spawn worker", e))?;
        threads.push(t);
    }
    Ok(Workers { threads, inboxes, loads })
}

/// For a sentinel pool, the thread that follows its master (see `crate::sentinel`) and
/// hands every new topology to the workers.
fn spawn_sentinel_watch(
    pi: usize,
    pool: &PoolShared,
    inboxes: &[Peer],
    shutdown: &Arc<AtomicBool>,
) -> Result<Option<JoinHandle<()>>, ProxyError> {
    let Some(name) = pool.cfg.master_name.clone() else { return Ok(None) };
    let sentinels = pool.cfg.sentinels.clone();
    let first = pool.initial_slots.clone();
    let (inboxes, shutdown) = (inboxes.to_vec(), shutdown.clone());
    let t = std::thread::Builder::new()
        .name(format!("proxy-sentinel-{pi}"))
        .spawn(move || {
            crate::sentinel::watch(&sentinels, &name, first, &shutdown, |ranges| {
                for (tx, waker) in &inboxes {
                    if tx.send(worker::Inbox::Topology(pi, ranges.clone())).is_ok() {
                        let _ = waker.wake();
                    }
                }
            })
        })
        .map_err(|e| ProxyError::io("spawn sentinel watcher", e))?;
    Ok(Some(t))
}

fn pool_shared(cfg: PoolConfig) -> Arc<PoolShared> {
    let names: Vec<String> = cfg.servers.iter().map(|s| s.addr.clone()).collect();
    let stats = Arc::new(PoolStats::new(&cfg.name, &names));
    let initial_slots = if cfg.cluster {
        fetch_slots(&names)
    } else if let Some(name) = &cfg.master_name {
        crate::sentinel::fetch(&cfg.sentinels, name)
    } else {
        Vec::new()
    };
    Arc::new(PoolShared { cfg, stats, initial_slots })
}

/// Blocking CLUSTER SLOTS against the seeds, first answer wins (empty if none answers).
fn fetch_slots(seeds: &[String]) -> Vec<SlotRange> {
    for seed in seeds {
        if let Some(r) = fetch_slots_from(seed) {
            return r;
        }
    }
    Vec::new()
}

fn fetch_slots_from(seed: &str) -> Option<Vec<SlotRange>> {
    use std::net::ToSocketAddrs;
    let addr = seed.to_socket_addrs().ok()?.next()?;
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"*2\r\n$7\r\nCLUSTER\r\n$5\r\nSLOTS\r\n").ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Ok(Some((frame, _))) = slotbox_protocol::resp_parse::parse_frame(&buf) {
            return parse_cluster_slots(&frame).filter(|r| !r.is_empty());
        }
    }
}
