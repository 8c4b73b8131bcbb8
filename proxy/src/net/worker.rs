//! A worker thread's event loop: it adopts accepted clients sent over a channel (woken by
//! a `mio::Waker`), reads their requests, and owns its own pipelined backend connections.
//! Request routing and reply handling live in `dispatch`; this file is sockets and timers.

use super::backend::{Backend, Waiter};
use super::client::Client;
use super::pool::PoolRt;
use crate::stats::{incr, Stats};
use crossbeam_channel::Receiver;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use slotbox_protocol::Frame;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const WAKER: Token = Token(0);

pub struct Worker {
    pub poll: Poll,
    pub rx: Receiver<(TcpStream, usize)>,
    pub pools: Vec<PoolRt>,
    pub clients: HashMap<Token, Client>,
    pub backends: HashMap<Token, Backend>,
    pub next_token: usize,
    pub shutdown: Arc<AtomicBool>,
    pub stats: Arc<Stats>,
    pub client_ids: Arc<AtomicU64>,
    pub dirty_clients: Vec<Token>,
    pub dirty_backends: Vec<Token>,
}

impl Worker {
    pub fn token(&mut self) -> Token {
        self.next_token += 1;
        Token(self.next_token)
    }

    /// Run until shutdown.
    pub fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let mut last_tick = Instant::now();
        while !self.shutdown.load(Ordering::Relaxed) {
            if let Err(e) = self.poll.poll(&mut events, Some(Duration::from_millis(20))) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    break;
                }
            }
            for ev in events.iter() {
                let t = ev.token();
                if t == WAKER {
                    self.adopt_clients();
                } else if self.clients.contains_key(&t) {
                    self.client_event(t);
                } else if self.backends.contains_key(&t) {
                    self.backend_event(t, ev.is_error());
                }
            }
            self.flush_dirty();
            let now = Instant::now();
            if now.duration_since(last_tick) >= Duration::from_millis(10) {
                last_tick = now;
                self.tick(now);
                self.flush_dirty();
            }
        }
    }

    fn adopt_clients(&mut self) {
        while let Ok((mut stream, pool)) = self.rx.try_recv() {
            let t = self.token();
            if self.poll.registry().register(&mut stream, t, Interest::READABLE | Interest::WRITABLE).is_err() {
                continue;
            }
            let _ = stream.set_nodelay(true);
            let id = self.client_ids.fetch_add(1, Ordering::Relaxed);
            let mut c = Client::new(stream, pool, id);
            c.session.authed = self.pools[pool].cfg().redis_auth.is_none();
            self.clients.insert(t, c);
            self.pools[pool].shared.stats.client_connections.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn client_event(&mut self, t: Token) {
        let Some(c) = self.clients.get_mut(&t) else {
            return;
        };
        let eof = match c.read() {
            Ok(eof) => eof,
            Err(_) => {
                incr(&self.pools[c.pool].shared.stats.client_err);
                self.close_client(t);
                return;
            }
        };
        let mut requests = Vec::new();
        let mut proto_err = None;
        loop {
            match c.decoder.decode(&mut c.inbuf) {
                Ok(Some(args)) => requests.push(args),
                Ok(None) => break,
                Err(e) => {
                    proto_err = Some(e.reply_text());
                    break;
                }
            }
        }
        for args in requests {
            self.request(t, args);
        }
        if let Some(msg) = proto_err {
            if let Some(c) = self.clients.get_mut(&t) {
                c.push_frame(&Frame::error(msg));
                c.closing = true;
                c.inbuf.clear();
            }
        }
        if eof {
            if let Some(c) = self.clients.get(&t) {
                incr(&self.pools[c.pool].shared.stats.client_eof);
            }
            self.close_client(t);
            return;
        }
        self.dirty_clients.push(t);
    }

    pub fn close_client(&mut self, t: Token) {
        if let Some(mut c) = self.clients.remove(&t) {
            let _ = self.poll.registry().deregister(&mut c.stream);
            self.pools[c.pool].shared.stats.client_connections.fetch_sub(1, Ordering::Relaxed);
            self.stats.curr_connections.fetch_sub(1, Ordering::Relaxed);
        }
    }

    fn backend_event(&mut self, t: Token, is_error: bool) {
        let Some(b) = self.backends.get_mut(&t) else {
            return;
        };
        if is_error {
            let err = b.stream.take_error().ok().flatten();
            let msg = err.map(|e| short_io_error(&e)).unwrap_or_else(|| "Connection refused".into());
            self.kill_backend(t, &msg, false);
            return;
        }
        let res = b.read();
        let mut replies = Vec::new();
        let mut bad = false;
        loop {
            match b.next_reply() {
                Ok(Some(r)) => replies.push(r),
                Ok(None) => break,
                Err(_) => {
                    bad = true;
                    break;
                }
            }
        }
        for (frame, raw, inflight) in replies {
            self.backend_reply(t, frame, raw, inflight.waiter);
        }
        match res {
            _ if bad => self.kill_backend(t, "Protocol error from server", false),
            Ok(true) => self.kill_backend(t, "Server closed the connection", false),
            Err(e) => self.kill_backend(t, &short_io_error(&e), false),
            Ok(false) => self.dirty_backends.push(t),
        }
    }

    /// Drop a backend connection and fail exactly the requests it held.
    pub fn kill_backend(&mut self, t: Token, msg: &str, timed_out: bool) {
        let Some(mut b) = self.backends.remove(&t) else {
            return;
        };
        let _ = self.poll.registry().deregister(&mut b.stream);
        let pool = &mut self.pools[b.pool];
        if let Some(s) = pool.servers.get_mut(b.server) {
            if s.conns[b.proto_idx] == Some(t) {
                s.conns[b.proto_idx] = None;
            }
        }
        let stats = pool.shared.stats.clone();
        if let Some(s) = stats.server(b.server) {
            s.server_connections.fetch_sub(1, Ordering::Relaxed);
            incr(if timed_out { &s.server_timedout } else { &s.server_err });
        }
        let had_work = !b.inflight.is_empty();
        if had_work && pool.on_failure(b.server, Instant::now()) {
            incr(&stats.server_ejects);
            if let Some(s) = stats.server(b.server) {
                s.server_ejected_at.store(now_usec(), Ordering::Relaxed);
            }
        }
        let err = Frame::error(format!("ERR {msg}"));
        for inf in b.inflight {
            match inf.waiter {
                Waiter::Client { client, seq, part, .. } => {
                    incr(&stats.forward_error);
                    self.deliver(client, seq, part, err.clone(), None);
                }
                Waiter::Slots => self.pools[b.pool].refresh_pending = false,
                Waiter::Discard => {}
            }
        }
    }

    fn flush_dirty(&mut self) {
        let backends = std::mem::take(&mut self.dirty_backends);
        for t in backends {
            let res = match self.backends.get_mut(&t) {
                Some(b) => b.flush(),
                None => continue,
            };
            if let Err(e) = res {
                self.kill_backend(t, &short_io_error(&e), false);
            }
        }
        let mut clients = std::mem::take(&mut self.dirty_clients);
        clients.dedup();
        for t in clients {
            let res = match self.clients.get_mut(&t) {
                Some(c) => c.flush(),
                None => continue,
            };
            if !matches!(res, Ok(false)) {
                self.close_client(t);
            }
        }
    }

    fn tick(&mut self, now: Instant) {
        for p in &mut self.pools {
            p.tick(now);
        }
        let mut expired = Vec::new();
        for (t, b) in &self.backends {
            let Some(ms) = self.pools[b.pool].cfg().timeout_ms else {
                continue;
            };
            if matches!(b.oldest(), Some(at) if now.duration_since(at) >= Duration::from_millis(ms)) {
                expired.push(*t);
            }
        }
        for t in expired {
            self.kill_backend(t, "Connection timed out", true);
        }
        for i in 0..self.pools.len() {
            self.maybe_refresh(i, now);
        }
    }
}

fn now_usec() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

/// "Connection refused" rather than "Connection refused (os error 111)".
pub fn short_io_error(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
