//! A worker thread's event loop: it adopts accepted clients and reloaded pool configs sent
//! over a channel (woken by a `mio::Waker`), reads their requests, and owns its own
//! pipelined backend connections. Request routing and reply handling live in `dispatch`;
//! this file is sockets and timers.

use super::backend::{Role, Waiter};
use super::client::Client;
use super::replica_link::LinkState;
use super::stream::{short_io_error, ClientStream};
use super::worker::{Inbox, Worker, WAKER};
use crate::log;
use crate::stats::{incr, ServerStats};
use bytes::Bytes;
use mio::{Events, Interest, Token};
use slotbox_protocol::Frame;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Why a backend connection is closed (each has its own counter in the stats).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Close {
    /// A socket or protocol error (`server_err`).
    Error,
    /// The server closed the connection (`server_eof`).
    Eof,
    /// The oldest request waited longer than the pool's `timeout` (`server_timedout`).
    Timeout,
}

/// Log a closed backend connection: a timeout or an error as a warning (at most one line a
/// second per backend), a close by the server (idle connections at a restart) as a notice.
fn log_close(pool: &str, st: &ServerStats, msg: &str, why: Close, inflight: usize) {
    let server = &st.name;
    match why {
        Close::Eof => plog!(log::NOTICE, "pool '{pool}': server '{server}' closed the connection"),
        _ => {
            let Some(skipped) = st.error_log_due() else { return };
            let more =
                if skipped > 0 { format!(" ({skipped} more errors since the last line)") } else { String::new() };
            if why == Close::Timeout {
                plog!(log::WARN, "pool '{pool}': server '{server}' timed out with {inflight} requests in flight{more}")
            } else {
                plog!(log::WARN, "pool '{pool}': connection to server '{server}' failed: {msg}{more}")
            }
        }
    }
}

impl Worker {
    /// Run until shutdown.
    pub fn run(mut self) {
        for pi in 0..self.pools.len() {
            self.preconnect(pi);
        }
        self.flush_dirty();
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
                    self.client_event(t, ev.is_read_closed());
                } else if self.backends.contains_key(&t) {
                    self.backend_event(t, ev.is_error(), ev.is_read_closed());
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
        while let Ok(msg) = self.rx.try_recv() {
            match msg {
                Inbox::Client(stream, pool) => self.adopt(stream, pool),
                Inbox::Reload(pool, shared, done) => {
                    self.reload_pool(pool, shared);
                    let _ = done.send(());
                }
                Inbox::Migrate(c) => self.adopt_moved(*c),
                Inbox::Topology(pool, ranges) => {
                    if let Some(p) = self.pools.get_mut(pool).filter(|p| p.is_sentinel()) {
                        p.apply_slots(&ranges);
                    }
                }
            }
        }
    }

    /// A new client (the acceptor already counted it in the pool's connections).
    fn adopt(&mut self, mut stream: ClientStream, pool: usize) {
        let t = self.token();
        if self.poll.registry().register(&mut stream, t, Interest::READABLE | Interest::WRITABLE).is_err() {
            self.pools[pool].shared.stats.client_connections.fetch_sub(1, Ordering::Relaxed);
            self.stats.curr_connections.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        stream.set_nodelay();
        if self.pools[pool].cfg().tcpkeepalive {
            if let Err(e) = stream.set_keepalive() {
                plog!(
                    log::WARN,
                    "set tcpkeepalive on a client of pool '{}' failed, ignored: {e}",
                    self.pools[pool].cfg().name
                );
            }
        }
        let id = self.client_ids.fetch_add(1, Ordering::Relaxed);
        plog!(log::DEBUG, "pool '{}': client {id} accepted", self.pools[pool].cfg().name);
        let mut c = Client::new(stream, pool, id, self.pools[pool].shared.stats.clone());
        c.session.authed = self.pools[pool].cfg().redis_auth.is_none();
        self.clients.insert(t, c);
    }

    fn client_event(&mut self, t: Token, hup: bool) {
        let Some(c) = self.clients.get_mut(&t) else {
            return;
        };
        let eof = match c.read(hup, &mut self.scratch) {
            Ok(eof) => eof,
            Err(_) => {
                incr(&self.pools[c.pool].shared.stats.client_err);
                self.close_client(t);
                return;
            }
        };
        self.serve_input(t);
        if eof {
            if let Some(c) = self.clients.get(&t) {
                incr(&self.pools[c.pool].shared.stats.client_eof);
            }
            self.close_client(t);
            return;
        }
        self.dirty_clients.push(t);
    }

    /// Decode and route the client's buffered requests, one at a time, stopping while it
    /// waits in a blocking command (see `blocking`). A protocol error is answered and
    /// closes the connection once the replies before it are out.
    pub fn serve_input(&mut self, t: Token) {
        loop {
            let Some(c) = self.clients.get_mut(&t) else { return };
            if c.blocked.is_some() || c.closing {
                return;
            }
            match c.decoder.decode(&mut c.inbuf) {
                Ok(Some(args)) => self.request(t, args),
                Ok(None) => return,
                Err(e) => {
                    c.push_frame(&Frame::error(e.reply_text()));
                    c.closing = true;
                    c.inbuf.clear();
                    return;
                }
            }
        }
    }

    pub fn close_client(&mut self, t: Token) {
        if let Some(mut c) = self.clients.remove(&t) {
            let _ = self.poll.registry().deregister(&mut c.stream);
            plog!(log::DEBUG, "pool '{}': client {} closed", self.pools[c.pool].cfg().name, c.session.id);
            self.pools[c.pool].shared.stats.client_connections.fetch_sub(1, Ordering::Relaxed);
            self.stats.curr_connections.fetch_sub(1, Ordering::Relaxed);
            // Its dedicated connections hold its MULTI, WATCHes and subscriptions: closing
            // them drops those on the backend.
            // A blocked command's connection too: the backend then forgets the waiter.
            let subs = c.sub.map(|s| s.connections()).unwrap_or_default();
            let dedicated = c.tx.pin.map(|p| p.backend).into_iter().chain(subs);
            for bt in dedicated.chain(c.blocked.map(|b| b.backend)) {
                self.close_backend(bt);
            }
        }
    }

    fn backend_event(&mut self, t: Token, is_error: bool, hup: bool) {
        let Some(b) = self.backends.get_mut(&t) else {
            return;
        };
        if is_error {
            let err = b.stream.take_error().ok().flatten();
            let msg = err.map(|e| short_io_error(&e)).unwrap_or_else(|| "Connection refused".into());
            self.kill_backend(t, &msg, Close::Error);
            return;
        }
        let res = b.read(hup, &mut self.scratch);
        let mut bad = false;
        if b.role == Role::Sub {
            let mut frames = Vec::new();
            loop {
                match b.next_frame() {
                    Ok(Some(f)) => frames.push(f),
                    Ok(None) => break,
                    Err(_) => {
                        bad = true;
                        break;
                    }
                }
            }
            for (frame, raw) in frames {
                self.sub_frame(t, frame, raw);
            }
        } else {
            // One reply at a time: handling one may move the rest of the connection's work
            // elsewhere (a transaction following MOVED) or close it.
            let now = Instant::now();
            loop {
                let Some(b) = self.backends.get_mut(&t) else { return };
                match b.next_reply() {
                    Ok(Some((frame, raw, inflight))) => self.backend_reply(t, frame, raw, inflight, now),
                    Ok(None) => break,
                    Err(_) => {
                        bad = true;
                        break;
                    }
                }
            }
            // After the replies read with them: an invalidation that came before a fill's
            // reply only drops a fresh copy (conservative), one after it drops a stale one.
            if self.backends.get(&t).is_some_and(|b| !b.pushes.is_empty()) {
                self.tracking_pushes(t);
            }
        }
        match res {
            _ if bad => self.kill_backend(t, "Protocol error from server", Close::Error),
            Ok(true) => self.kill_backend(t, "Server closed the connection", Close::Eof),
            Err(e) => self.kill_backend(t, &short_io_error(&e), Close::Error),
            Ok(false) => {
                self.dirty_backends.push(t);
                self.retire_if_idle(t);
            }
        }
    }

    /// Drop a backend connection and fail exactly the requests it held.
    pub fn kill_backend(&mut self, t: Token, msg: &str, why: Close) {
        let Some(mut b) = self.backends.remove(&t) else {
            return;
        };
        let _ = self.poll.registry().deregister(&mut b.stream);
        let pool = &mut self.pools[b.pool];
        if let Some(s) = pool.servers.get_mut(b.server) {
            s.forget(t);
        }
        let stats = pool.shared.stats.clone();
        let st = &b.stats;
        st.server_connections.fetch_sub(1, Ordering::Relaxed);
        incr(match why {
            Close::Timeout => &st.server_timedout,
            Close::Eof => &st.server_eof,
            Close::Error => &st.server_err,
        });
        let had_work = !b.inflight.is_empty();
        log_close(&stats.name, st, msg, why, b.inflight.len());
        if had_work {
            self.server_failed(b.pool, b.server, msg);
        }
        let err = Frame::error(format!("ERR {msg}"));
        for inf in b.inflight {
            match inf.waiter {
                Waiter::Client { client, seq, part, .. } => {
                    incr(&stats.forward_error);
                    self.deliver(client, seq, part, err.clone(), None);
                }
                Waiter::Fill { client, seq, .. } => {
                    incr(&stats.forward_error);
                    self.deliver(client, seq, 0, err.clone(), None);
                }
                // A mirror's part brings the messages it relayed; the backend is repaired later.
                Waiter::Sub { client, seq, mirror: true, raw, .. } => {
                    self.sub_answered(client, seq, true, Frame::Null, Bytes::from(raw))
                }
                Waiter::Sub { client, seq, .. } => self.deliver(client, seq, 0, err.clone(), None),
                Waiter::Slots => self.pools[b.pool].refresh_pending = false,
                Waiter::Role => self.link_checked(b.pool, b.server, LinkState::Down, Instant::now()),
                Waiter::Discard | Waiter::SubQuiet { .. } | Waiter::TrackingOn => {}
            }
        }
        if b.role == Role::Tracking {
            // The invalidations of what it read stop with it (its fills under way are
            // poisoned: they were answered above with errors, or never will be).
            self.pools[b.pool].cache_clear();
        }
        if let Some(ct) = b.owner {
            match b.role {
                Role::Tx => self.tx_pin_lost(ct, t),
                Role::Sub => self.sub_conn_lost(ct, t),
                Role::Shared { .. } | Role::Tracking => {}
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
                self.kill_backend(t, &short_io_error(&e), Close::Error);
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
            } else if self.clients[&t].movable() {
                if let Some(to) = self.balance.destination() {
                    self.move_client(t, to);
                }
            }
        }
    }

    /// Hand an idle client over to worker `to` (see `balance`).
    fn move_client(&mut self, t: Token, to: usize) {
        let Some(mut c) = self.clients.remove(&t) else { return };
        let _ = self.poll.registry().deregister(&mut c.stream);
        let pool = c.pool;
        let (tx, waker) = &self.peers[to];
        if tx.send(Inbox::Migrate(Box::new(c))).is_ok() {
            let _ = waker.wake();
            self.stats.client_moves.fetch_add(1, Ordering::Relaxed);
        } else {
            // The other worker is gone (shutting down): the client is dropped with it.
            self.pools[pool].shared.stats.client_connections.fetch_sub(1, Ordering::Relaxed);
            self.stats.curr_connections.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// A client moved here: register it and run whatever it already sent.
    fn adopt_moved(&mut self, mut c: Client) {
        let t = self.token();
        if self.poll.registry().register(&mut c.stream, t, Interest::READABLE | Interest::WRITABLE).is_err() {
            self.pools[c.pool].shared.stats.client_connections.fetch_sub(1, Ordering::Relaxed);
            self.stats.curr_connections.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        self.clients.insert(t, c);
        self.client_event(t, false);
    }

    fn tick(&mut self, now: Instant) {
        for p in &mut self.pools {
            p.tick(now);
        }
        self.report_queues();
        self.balance.tick(now, self.clients.len());
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
            self.kill_backend(t, "Connection timed out", Close::Timeout);
        }
        for i in 0..self.pools.len() {
            self.maybe_refresh(i, now);
            self.check_replica_links(i, now);
        }
        if now.duration_since(self.mirror_check) >= Duration::from_secs(1) {
            self.mirror_check = now;
            self.repair_mirrors();
        }
    }
}
