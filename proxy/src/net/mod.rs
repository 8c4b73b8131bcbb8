//! Starting and stopping the proxy: bind every pool's listener, fetch the first slot map of
//! cluster pools, spawn N worker threads and one acceptor thread that hands accepted
//! connections to the workers round-robin (crossbeam-channel + `mio::Waker`).

mod backend;
mod client;
mod dispatch;
mod pool;
mod worker;

use crate::config::PoolConfig;
use crate::error::ProxyError;
use crate::router::{parse_cluster_slots, SlotRange};
use crate::stats::{PoolStats, Stats};
use crossbeam_channel::Sender;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use pool::{PoolRt, PoolShared};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};
use worker::{Worker, WAKER};

/// A running proxy.
pub struct Running {
    pub addrs: Vec<SocketAddr>,
    pub stats: Arc<Stats>,
    shutdown: Arc<AtomicBool>,
    wakers: Vec<Arc<Waker>>,
    threads: Vec<JoinHandle<()>>,
}

impl Running {
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
pub fn start(pools: Vec<PoolConfig>, workers: usize) -> Result<Running, ProxyError> {
    let mut listeners = Vec::new();
    let mut addrs = Vec::new();
    for p in &pools {
        let std_l = std::net::TcpListener::bind(&p.listen)
            .map_err(|e| ProxyError::io(format!("pool '{}': listen on {}", p.name, p.listen), e))?;
        std_l.set_nonblocking(true).map_err(|e| ProxyError::io("listener", e))?;
        addrs.push(std_l.local_addr().map_err(|e| ProxyError::io("listener", e))?);
        listeners.push(TcpListener::from_std(std_l));
    }
    let shared: Vec<Arc<PoolShared>> = pools.into_iter().map(pool_shared).collect();
    let stats = Arc::new(Stats {
        started: SystemTime::now(),
        total_connections: AtomicU64::new(0),
        curr_connections: Default::default(),
        pools: shared.iter().map(|p| p.stats.clone()).collect(),
    });
    let shutdown = Arc::new(AtomicBool::new(false));
    let client_ids = Arc::new(AtomicU64::new(1));
    let mut wakers = Vec::new();
    let mut senders = Vec::new();
    let mut threads = Vec::new();
    for i in 0..workers.max(1) {
        let poll = Poll::new().map_err(|e| ProxyError::io("poll", e))?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER).map_err(|e| ProxyError::io("waker", e))?);
        let (tx, rx) = crossbeam_channel::unbounded();
        let w = Worker {
            poll,
            rx,
            pools: shared.iter().map(|s| PoolRt::new(s.clone())).collect(),
            clients: HashMap::new(),
            backends: HashMap::new(),
            next_token: 0,
            shutdown: shutdown.clone(),
            stats: stats.clone(),
            client_ids: client_ids.clone(),
            dirty_clients: Vec::new(),
            dirty_backends: Vec::new(),
        };
        let t = std::thread::Builder::new()
            .name(format!("proxy-worker-{i}"))
            .spawn(move || w.run())
            .map_err(|e| ProxyError::io("spawn worker", e))?;
        threads.push(t);
        senders.push((tx, waker.clone()));
        wakers.push(waker);
    }
    let acc_poll = Poll::new().map_err(|e| ProxyError::io("poll", e))?;
    let acc_waker =
        Arc::new(Waker::new(acc_poll.registry(), Token(usize::MAX)).map_err(|e| ProxyError::io("waker", e))?);
    wakers.push(acc_waker);
    let acceptor = Acceptor {
        poll: acc_poll,
        listeners,
        workers: senders,
        next: 0,
        shutdown: shutdown.clone(),
        stats: stats.clone(),
    };
    let t = std::thread::Builder::new()
        .name("proxy-acceptor".into())
        .spawn(move || acceptor.run())
        .map_err(|e| ProxyError::io("spawn acceptor", e))?;
    threads.push(t);
    Ok(Running { addrs, stats, shutdown, wakers, threads })
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

/// Where the acceptor hands a worker its new connections.
type WorkerInbox = (Sender<(TcpStream, usize)>, Arc<Waker>);

struct Acceptor {
    poll: Poll,
    listeners: Vec<TcpListener>,
    workers: Vec<WorkerInbox>,
    next: usize,
    shutdown: Arc<AtomicBool>,
    stats: Arc<Stats>,
}

impl Acceptor {
    fn run(mut self) {
        for (i, l) in self.listeners.iter_mut().enumerate() {
            let _ = self.poll.registry().register(l, Token(i), Interest::READABLE);
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
                Ok((stream, _)) => {
                    self.stats.total_connections.fetch_add(1, Ordering::Relaxed);
                    self.stats.curr_connections.fetch_add(1, Ordering::Relaxed);
                    let (tx, waker) = &self.workers[self.next % self.workers.len()];
                    self.next += 1;
                    if tx.send((stream, pool)).is_ok() {
                        let _ = waker.wake();
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(_) => return,
            }
        }
    }
}
