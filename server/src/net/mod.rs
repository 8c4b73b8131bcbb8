//! Networking: binds the listeners, starts the event-loop threads, and runs the acceptor /
//! cron loop that hands accepted connections to workers round-robin and runs periodic jobs
//! (active expiry, ops sampling). Stops everything when the server is asked to shut down.

pub mod affinity;
pub mod conn;
mod worker;

use crate::mailbox::{WorkerHandle, WorkerMsg};
use crate::shared::Shared;
use crate::store::expire::ActiveExpiry;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const MAIN_WAKER: Token = Token(usize::MAX);

/// Resolve one `bind` entry ("*", "::*", "-::*", a host or an IP) for `port`.
fn bind_addrs(entry: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let host = entry.trim_start_matches('-');
    let host = match host {
        "*" => "0.0.0.0",
        "::*" => "::",
        h => h,
    };
    Ok((host, port).to_socket_addrs()?.collect())
}

/// Bind every address; an optional (`-`) address that fails is skipped. With port 0 the
/// first listener's port is reused for the others.
fn bind_all(bind: &[String], port: u16) -> io::Result<Vec<TcpListener>> {
    let optional: Vec<bool> = bind.iter().map(|b| b.starts_with('-')).collect();
    let mut listeners = Vec::new();
    let mut port = port;
    for (i, b) in bind.iter().enumerate() {
        let addrs = bind_addrs(b, port);
        let addrs = match addrs {
            Ok(a) => a,
            Err(e) if optional[i] => {
                let _ = e;
                continue;
            }
            Err(e) => return Err(e),
        };
        for addr in addrs {
            match TcpListener::bind(addr) {
                Ok(l) => {
                    if port == 0 {
                        port = l.local_addr()?.port();
                    }
                    listeners.push(l);
                }
                Err(_) if optional[i] => {}
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!("Could not create server TCP listening socket {addr}: {e}"),
                    ))
                }
            }
        }
    }
    if listeners.is_empty() {
        return Err(io::Error::new(io::ErrorKind::AddrNotAvailable, "no address to listen on"));
    }
    Ok(listeners)
}

/// A running server's threads.
pub struct Running {
    pub addrs: Vec<SocketAddr>,
    pub threads: Vec<JoinHandle<()>>,
}

/// Bind, run `on_bound` with the listening addresses (before any client is served), then
/// start the workers and the acceptor/cron thread.
pub fn start(
    shared: Arc<Shared>,
    on_bound: impl FnOnce(&[SocketAddr]) -> io::Result<Vec<JoinHandle<()>>>,
) -> io::Result<Running> {
    let (bind, port, threads) = {
        let c = shared.config.read();
        (c.bind.clone(), c.port, c.io_threads.max(1))
    };
    let mut listeners = bind_all(&bind, port)?;
    let addrs: Vec<SocketAddr> = listeners.iter().filter_map(|l| l.local_addr().ok()).collect();
    shared.tcp_port.store(addrs[0].port() as u64, Ordering::Relaxed);
    let mut handles = on_bound(&addrs)?;

    let mut workers = Vec::new();
    let (adopt_tx, adopt_rx): (Vec<_>, Vec<_>) = (0..threads).map(|_| crossbeam_channel::unbounded()).unzip();
    let loads: Arc<Vec<AtomicU32>> = Arc::new((0..threads).map(|_| AtomicU32::new(0)).collect());
    let loops = Arc::new(worker::Loops { hot_slots: Default::default(), adopt: adopt_tx, loads: loads.clone() });
    for (i, adopt_rx) in adopt_rx.into_iter().enumerate() {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), worker::WAKER)?);
        let (tx, rx) = crossbeam_channel::unbounded();
        workers.push(WorkerHandle { tx, waker });
        let w = worker::Worker::new(i, poll, (rx, adopt_rx), shared.clone(), loops.clone());
        handles.push(std::thread::Builder::new().name(format!("slotbox-io-{i}")).spawn(move || w.run())?);
    }
    let _ = shared.workers.set(workers);

    let poll = Poll::new()?;
    for (i, l) in listeners.iter_mut().enumerate() {
        poll.registry().register(l, Token(i), Interest::READABLE)?;
    }
    let waker = Arc::new(Waker::new(poll.registry(), MAIN_WAKER)?);
    let _ = shared.main_waker.set(waker);
    let s = shared.clone();
    handles.push(
        std::thread::Builder::new().name("slotbox-main".into()).spawn(move || main_loop(s, poll, listeners, loads))?,
    );
    Ok(Running { addrs, threads: handles })
}

fn main_loop(shared: Arc<Shared>, mut poll: Poll, listeners: Vec<TcpListener>, loads: Arc<Vec<AtomicU32>>) {
    let mut events = Events::with_capacity(128);
    let mut expiry = ActiveExpiry::default();
    let mut last_cron = Instant::now();
    let mut last_ping = Instant::now();
    let mut ops_sample = (Instant::now(), 0u64);
    while !shared.is_shutting_down() {
        let hz = shared.config.read().hz.max(1);
        let period = Duration::from_millis(1000 / hz as u64);
        let _ = poll.poll(&mut events, Some(period));
        for ev in events.iter() {
            if ev.token() == MAIN_WAKER {
                continue;
            }
            if let Some(l) = listeners.get(ev.token().0) {
                accept_all(&shared, l, &loads);
            }
        }
        if last_cron.elapsed() >= period {
            last_cron = Instant::now();
            // Visit a slice of the slots every tick: a full pass takes about a second.
            // A script busy under the whole gate: skip this tick rather than stop accepting.
            let busy = || shared.scripting.watch.is_busy();
            if let Some(_gate) = shared.exec_gate.read_unless(shared.exec_gate.service_stripe(), &busy) {
                // Expired keys are propagated as DEL: fed under the gate like any write.
                expiry.run(&shared.keyspace, crate::clock::unix_time_ms(), (16384 / hz as usize).max(1));
            }
            // Expired keys' DELs are not an event loop's: they reach the AOF now.
            shared.persist.commit();
            crate::repl::cron(&shared.repl, &mut last_ping, &busy);
            let total = shared.stats.total_commands_processed.load(Ordering::Relaxed);
            let elapsed = ops_sample.0.elapsed();
            if elapsed >= Duration::from_secs(1) {
                let ops = total.saturating_sub(ops_sample.1) as f64 / elapsed.as_secs_f64();
                shared.stats.instantaneous_ops.store(ops as u64, Ordering::Relaxed);
                ops_sample = (Instant::now(), total);
            }
        }
    }
    if let Some(ws) = shared.workers.get() {
        for w in ws {
            let _ = w.waker.wake();
        }
    }
}

fn accept_all(shared: &Shared, listener: &TcpListener, loads: &[AtomicU32]) {
    loop {
        match listener.accept() {
            Ok((stream, addr)) => {
                shared.stats.total_connections_received.fetch_add(1, Ordering::Relaxed);
                let max = shared.config.read().maxclients;
                if shared.connected_clients.load(Ordering::Relaxed) >= max {
                    shared.stats.rejected_connections.fetch_add(1, Ordering::Relaxed);
                    let mut std_stream: std::net::TcpStream = stream.into();
                    let _ = std_stream.set_nonblocking(false);
                    let _ = io::Write::write_all(&mut std_stream, b"-ERR max number of clients reached\r\n");
                    continue;
                }
                shared.connected_clients.fetch_add(1, Ordering::Relaxed);
                let Some(workers) = shared.workers.get() else { return };
                // The first event loop with room (a light load gathers on one loop).
                let to = if shared.config.read().round_robin_placement {
                    shared.stats.total_connections_received.load(Ordering::Relaxed) as usize
                } else {
                    slotbox_protocol::balance::place(loads)
                };
                let w = &workers[to % workers.len()];
                w.send(WorkerMsg::NewConn(stream, addr));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                crate::log::warning(&format!("accept failed: {e}"));
                return;
            }
        }
    }
}
