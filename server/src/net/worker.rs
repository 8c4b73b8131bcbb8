//! One event-loop thread: owns its connections, receives new ones (and kill requests) over a
//! channel with a `mio::Waker`, and runs each ready connection. Idle clients past `timeout`
//! are closed by the loop's periodic tick.

use super::conn::Conn;
use crate::client::{ClientInfo, ClientState};
use crate::shared::{Shared, WorkerMsg};
use crossbeam_channel::Receiver;
use mio::{Events, Interest, Poll, Token};
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const WAKER: Token = Token(usize::MAX);

pub struct Worker {
    pub index: usize,
    pub poll: Poll,
    pub rx: Receiver<WorkerMsg>,
    pub shared: Arc<Shared>,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
}

impl Worker {
    pub fn new(index: usize, poll: Poll, rx: Receiver<WorkerMsg>, shared: Arc<Shared>) -> Self {
        Worker { index, poll, rx, shared, conns: Vec::new(), free: Vec::new() }
    }

    pub fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let mut last_tick = Instant::now();
        while !self.shared.is_shutting_down() {
            if let Err(e) = self.poll.poll(&mut events, Some(Duration::from_millis(100))) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    crate::log::warning(&format!("poll failed: {e}"));
                    break;
                }
            }
            for ev in events.iter() {
                if ev.token() == WAKER {
                    self.drain_messages();
                    continue;
                }
                self.on_event(ev.token().0, ev.is_readable() || ev.is_read_closed() || ev.is_error());
            }
            if last_tick.elapsed() >= Duration::from_millis(100) {
                last_tick = Instant::now();
                self.tick();
            }
        }
        for i in 0..self.conns.len() {
            self.close(i);
        }
    }

    fn drain_messages(&mut self) {
        while let Ok(msg) = self.rx.try_recv() {
            match msg {
                WorkerMsg::NewConn(stream, addr) => self.add(stream, addr),
                WorkerMsg::Kill(id) => {
                    if let Some(i) = self.conns.iter().position(|c| c.as_ref().is_some_and(|c| c.client.id() == id)) {
                        self.close(i);
                    }
                }
            }
        }
    }

    fn add(&mut self, stream: mio::net::TcpStream, addr: std::net::SocketAddr) {
        let _ = stream.set_nodelay(true);
        let laddr = stream.local_addr().unwrap_or(addr);
        let id = self.shared.next_client_id.fetch_add(1, Ordering::Relaxed);
        let info = Arc::new(ClientInfo::new(id, addr, laddr, stream.as_raw_fd(), self.index));
        let auth_required = self.shared.config.read().requirepass.is_some();
        let client = ClientState::new(info.clone(), auth_required);
        let mut conn = Conn::new(stream, client);
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.conns.push(None);
                self.conns.len() - 1
            }
        };
        if self.poll.registry().register(&mut conn.stream, Token(slot), Interest::READABLE).is_err() {
            self.free.push(slot);
            self.shared.connected_clients.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        conn.registered = Some(Interest::READABLE);
        self.shared.clients.lock().insert(id, info);
        self.conns[slot] = Some(conn);
    }

    fn on_event(&mut self, slot: usize, readable: bool) {
        let shared = self.shared.clone();
        let Some(conn) = self.conns.get_mut(slot).and_then(|c| c.as_mut()) else { return };
        if readable {
            conn.on_readable(&shared);
        }
        conn.flush(&shared);
        // Backpressure may have left complete requests unprocessed: run them now that
        // the output drained.
        while conn.has_buffered_input() && !conn.finished() && !conn.backlogged() {
            let before = conn.buffered_input();
            conn.process(&shared);
            conn.flush(&shared);
            if conn.buffered_input() == before {
                break;
            }
        }
        if conn.finished() || conn.client.info.killed.load(Ordering::Relaxed) {
            self.close(slot);
            return;
        }
        let want = conn.interest();
        if conn.registered != Some(want) {
            if self.poll.registry().reregister(&mut conn.stream, Token(slot), want).is_err() {
                self.close(slot);
                return;
            }
            conn.registered = Some(want);
        }
    }

    fn close(&mut self, slot: usize) {
        if let Some(mut conn) = self.conns.get_mut(slot).and_then(|c| c.take()) {
            let _ = self.poll.registry().deregister(&mut conn.stream);
            self.shared.clients.lock().remove(&conn.client.id());
            self.shared.connected_clients.fetch_sub(1, Ordering::Relaxed);
            self.free.push(slot);
        }
    }

    /// Periodic work: idle timeouts and killed clients.
    fn tick(&mut self) {
        let timeout = self.shared.config.read().timeout as i64;
        for i in 0..self.conns.len() {
            let Some(conn) = self.conns[i].as_ref() else { continue };
            let killed = conn.client.info.killed.load(Ordering::Relaxed);
            let idle = timeout > 0 && conn.client.info.idle_secs() > timeout;
            if killed || idle {
                self.close(i);
            }
        }
    }
}
