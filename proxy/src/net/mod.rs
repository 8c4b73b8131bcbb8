//! Starting and stopping the proxy: bind every pool's listener, fetch the first slot map of
//! cluster pools, spawn N worker threads and one acceptor thread that hands accepted
//! connections to the workers (crossbeam-channel + `mio::Waker`): to the first one with room
//! (see `balance`), or round-robin.

mod backend;
mod balance;
mod blocking;
mod client;
mod client_state;
mod connect;
mod dispatch;
mod event_loop;
mod forward;
mod mirror;
mod pool;
mod pubsub;
mod redirect;
mod reload;
mod replica_link;
mod request;
mod role_check;
mod stream;
mod tx;
mod worker;

pub use reload::{PoolChange, ReloadReport};
pub use stream::ListenAddr;

use crate::config::PoolConfig;
use crate::error::ProxyError;
use crate::router::{parse_cluster_slots, SlotRange};
use crate::stats::{PoolStats, Stats};
use mio::{Events, Poll, Token, Waker};
use parking_lot::Mutex;
use pool::{PoolRt, PoolShared};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};
use stream::{ClientStream, Listener};
use worker::{Inbox, Peer, Worker, WAKER};

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
    let mut listeners = Vec::new();
    let mut listen = Vec::new();
    for p in &pools {
        let (l, a) = Listener::bind(&p.listen, p.listen_perm)
            .map_err(|e| ProxyError::io(format!("pool '{}': listen on {}", p.name, p.listen), e))?;
        listeners.push(l);
        listen.push(a);
    }
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
    let client_ids = Arc::new(AtomicU64::new(1));
    let mut wakers = Vec::new();
    let mut inboxes = Vec::new();
    let mut threads = Vec::new();
    let mut setups = Vec::new();
    for _ in 0..workers.max(1) {
        let poll = Poll::new().map_err(|e| ProxyError::io("poll", e))?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER).map_err(|e| ProxyError::io("waker", e))?);
        let (tx, rx) = crossbeam_channel::unbounded();
        inboxes.push((tx, waker.clone()));
        wakers.push(waker);
        setups.push((poll, rx));
    }
    let peers = Arc::new(inboxes.clone());
    let loads: Arc<Vec<AtomicU32>> = Arc::new((0..setups.len()).map(|_| AtomicU32::new(0)).collect());
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
            balance: balance::Balance::new(i, loads.clone()),
            peers: peers.clone(),
            mirror_check: std::time::Instant::now(),
        };
        let t = std::thread::Builder::new()
            .name(format!("proxy-worker-{i}"))
            .spawn(move || w.run())
            .map_err(|e| ProxyError::io("spawn worker", e))?;
        threads.push(t);
    }
    let acc_poll = Poll::new().map_err(|e| ProxyError::io("poll", e))?;
    let acc_waker =
        Arc::new(Waker::new(acc_poll.registry(), Token(usize::MAX)).map_err(|e| ProxyError::io("waker", e))?);
    wakers.push(acc_waker);
    let acceptor = Acceptor {
        poll: acc_poll,
        listeners,
        workers: inboxes.clone(),
        loads: (!round_robin).then(|| loads.clone()),
        next: 0,
        shutdown: shutdown.clone(),
        stats: stats.clone(),
        limits: limits.clone(),
    };
    let t = std::thread::Builder::new()
        .name("proxy-acceptor".into())
        .spawn(move || acceptor.run())
        .map_err(|e| ProxyError::io("spawn acceptor", e))?;
    threads.push(t);
    Ok(Running { addrs, listen, stats, shutdown, wakers, threads, inboxes, pools: Mutex::new(shared), limits })
}

fn pool_shared(cfg: PoolConfig) -> Arc<PoolShared> {
    let names: Vec<String> = cfg.servers.iter().map(|s| s.addr.clone()).collect();
    let stats = Arc::new(PoolStats::new(&cfg.name, &names));
    let initial_slots = if cfg.cluster { fetch_slots(&names) } else { Vec::new() };
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
