//! Networking: binds the listeners, starts the event-loop threads, and runs the acceptor /
//! cron loop that hands accepted connections to workers round-robin and runs periodic jobs
//! (active expiry, ops sampling). Stops everything when the server is asked to shut down.

pub mod affinity;
pub mod conn;
mod worker;

use crate::listen::Listeners;
use crate::mailbox::{WorkerHandle, WorkerMsg};
use crate::shared::Shared;
use crate::store::expire::ActiveExpiry;
use mio::{Events, Poll, Token, Waker};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const MAIN_WAKER: Token = Token(usize::MAX);

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
    let poll = Poll::new()?;
    let listeners = Arc::new(Listeners::bind(poll.registry().try_clone()?, &bind, port)?);
    let addrs = listeners.addrs();
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

    let _ = shared.listeners.set(listeners.clone());
    let waker = Arc::new(Waker::new(poll.registry(), MAIN_WAKER)?);
    let _ = shared.main_waker.set(waker);
    let s = shared.clone();
    handles.push(
        std::thread::Builder::new().name("slotbox-main".into()).spawn(move || main_loop(s, poll, listeners, loads))?,
    );
    Ok(Running { addrs, threads: handles })
}

fn main_loop(shared: Arc<Shared>, mut poll: Poll, listeners: Arc<Listeners>, loads: Arc<Vec<AtomicU32>>) {
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
            accept_all(&shared, &listeners, ev.token().0, &loads);
        }
        if last_cron.elapsed() >= period {
            last_cron = Instant::now();
            // Visit a slice of the slots every tick: a full pass takes about a second.
            // A script busy under the whole gate: skip this tick rather than stop accepting.
            let busy = || shared.scripting.watch.is_busy();
            if let Some(_gate) = shared.exec_gate.read_unless(shared.exec_gate.service_stripe(), &busy) {
                // Expired keys are propagated as DEL: fed under the gate like any write.
                let now = crate::clock::unix_time_ms();
                // While clients are paused no key expires (Redis: the dataset stays still).
                if !shared.pause.active(now) {
                    expiry.run(&shared.keyspace, now, (16384 / hz as usize).max(1));
                }
            }
            // Keys that expired here reach BCAST trackers now.
            crate::commands::invalidate::broadcast(&shared, None);
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
    listeners.close();
    if let Some(ws) = shared.workers.get() {
        for w in ws {
            let _ = w.waker.wake();
        }
    }
}

/// Redis's reply to a remote client while `protected-mode` is on and no password is set.
const PROTECTED_MODE_DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and \
no password is set for the default user. In this mode connections are only accepted from the loopback interface. If \
you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable \
protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis \
from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do \
so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by \
editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. \
3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a \
an authentication password for the default user. NOTE: You only need to do one of the above things in order for the \
server to start accepting connections from the outside.\r\n";

/// A loopback client as Redis counts one (the addresses 127.0.0.1 and ::1 exactly).
fn is_local(ip: std::net::IpAddr) -> bool {
    matches!(ip, std::net::IpAddr::V4(v4) if v4 == std::net::Ipv4Addr::LOCALHOST)
        || matches!(ip, std::net::IpAddr::V6(v6) if v6 == std::net::Ipv6Addr::LOCALHOST)
}

/// Answer a connection with one error line and close it (counted as rejected).
fn refuse(shared: &Shared, stream: mio::net::TcpStream, reply: &[u8]) {
    shared.stats.rejected_connections.fetch_add(1, Ordering::Relaxed);
    let mut std_stream: std::net::TcpStream = stream.into();
    let _ = std_stream.set_nonblocking(false);
    let _ = io::Write::write_all(&mut std_stream, reply);
}

fn accept_all(shared: &Shared, listeners: &Listeners, token: usize, loads: &[AtomicU32]) {
    let (accepted, err) = listeners.accept(token);
    if let Some(e) = err {
        crate::log::warning(&format!("accept failed: {e}"));
    }
    for (stream, addr) in accepted {
        admit(shared, stream, addr, loads);
    }
}

/// A new connection: refused (maxclients, protected mode) or handed to an event loop.
fn admit(shared: &Shared, stream: mio::net::TcpStream, addr: SocketAddr, loads: &[AtomicU32]) {
    shared.stats.total_connections_received.fetch_add(1, Ordering::Relaxed);
    let (max, protected, round_robin) = {
        let c = shared.config.read();
        (c.maxclients, c.protected_mode && c.requirepass.is_none(), c.round_robin_placement)
    };
    if shared.connected_clients.load(Ordering::Relaxed) >= max {
        return refuse(shared, stream, b"-ERR max number of clients reached\r\n");
    }
    if protected && !is_local(addr.ip()) {
        return refuse(shared, stream, PROTECTED_MODE_DENIED.as_bytes());
    }
    shared.connected_clients.fetch_add(1, Ordering::Relaxed);
    let Some(workers) = shared.workers.get() else { return };
    // The first event loop with room (a light load gathers on one loop).
    let to = if round_robin {
        shared.stats.total_connections_received.load(Ordering::Relaxed) as usize
    } else {
        slotbox_protocol::balance::place(loads)
    };
    workers[to % workers.len()].send(WorkerMsg::NewConn(stream, addr));
}
