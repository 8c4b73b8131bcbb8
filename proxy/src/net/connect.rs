//! Backend connections of a worker: the shared pipelined lanes (`server_connections` per
//! backend and protocol, chosen by client id so one client's requests keep their order),
//! dedicated connections pinned to one client (transactions, subscriptions; clean
//! transaction connections are parked for reuse), the near cache's tracking connections (one
//! per backend), `preconnect`, retiring and closing. Connection setup sends AUTH / SELECT /
//! HELLO 3 / READONLY / CLIENT TRACKING ahead of any request.

use super::backend::{encode_request, Backend, Queues, Role, Waiter};
use super::stream::short_io_error;
use super::worker::Worker;
use crate::config::ReadFrom;
use crate::stats::{incr, ServerStats};
use bytes::Bytes;
use mio::net::TcpStream;
use mio::{Interest, Token};
use slotbox_protocol::Protocol;
use std::net::ToSocketAddrs;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Add `q` to `into` (`sign` 1) or take it away (`sign` -1).
fn add_queues(into: &mut Queues, q: Queues, sign: i64) {
    into.in_queue += sign * q.in_queue;
    into.in_queue_bytes += sign * q.in_queue_bytes;
    into.out_queue += sign * q.out_queue;
    into.out_queue_bytes += sign * q.out_queue_bytes;
}

/// Dedicated connections kept per backend and protocol for reuse.
const MAX_IDLE: usize = 8;

/// Index of a protocol in per-protocol tables.
pub fn proto_idx(p: Protocol) -> usize {
    usize::from(p == Protocol::Resp3)
}

impl Worker {
    /// The shared connection `lane` to `server` for protocol `proto_idx`, connecting if needed.
    pub fn backend_conn(&mut self, pi: usize, server: usize, proto_idx: usize, lane: usize) -> Result<Token, String> {
        let lanes = self.pools[pi].lanes();
        let lane = lane % lanes;
        if let Some(t) = self.pools[pi].servers[server].conns[proto_idx][lane] {
            return Ok(t);
        }
        let t = self.open_conn(pi, server, proto_idx, Role::Shared { lane })?;
        self.pools[pi].servers[server].conns[proto_idx][lane] = Some(t);
        Ok(t)
    }

    /// The near cache's tracking connection to `server` (RESP3, `CLIENT TRACKING on`),
    /// connecting if needed.
    pub fn tracking_conn(&mut self, pi: usize, server: usize) -> Result<Token, String> {
        if let Some(t) = self.pools[pi].servers[server].tracking {
            return Ok(t);
        }
        let t = self.open_conn(pi, server, 1, Role::Tracking)?;
        self.pools[pi].servers[server].tracking = Some(t);
        Ok(t)
    }

    /// The lane a client's requests use (its id spread over `server_connections`).
    pub fn lane_of(&self, ct: Token) -> usize {
        self.clients.get(&ct).map(|c| c.session.id as usize).unwrap_or(0)
    }

    /// A connection to `server` pinned to client `ct`: a parked clean one when there is one
    /// (transactions only), else a new one.
    pub fn dedicated_conn(&mut self, ct: Token, pi: usize, server: usize, role: Role) -> Result<Token, String> {
        let proto = self.clients.get(&ct).map(|c| proto_idx(c.session.proto)).unwrap_or(0);
        let parked = if role == Role::Tx { self.pools[pi].servers[server].idle[proto].pop() } else { None };
        let t = match parked {
            Some(t) => t,
            None => self.open_conn(pi, server, proto, role)?,
        };
        let b = self.backends.get_mut(&t).expect("dedicated connection exists");
        b.owner = Some(ct);
        b.retire = false;
        Ok(t)
    }

    /// Connect to `server` and queue the connection's setup commands.
    fn open_conn(&mut self, pi: usize, server: usize, proto_idx: usize, role: Role) -> Result<Token, String> {
        let addr_s = self.pools[pi].servers[server].addr.clone();
        let addr = addr_s
            .to_socket_addrs()
            .map_err(|e| short_io_error(&e))?
            .next()
            .ok_or_else(|| format!("cannot resolve {addr_s}"))?;
        let mut stream = TcpStream::connect(addr).map_err(|e| short_io_error(&e))?;
        let _ = stream.set_nodelay(true);
        let t = self.token();
        self.poll
            .registry()
            .register(&mut stream, t, Interest::READABLE | Interest::WRITABLE)
            .map_err(|e| short_io_error(&e))?;
        let stats = self.pools[pi].servers[server].stats.clone();
        let mut b = Backend::new(stream, pi, server, proto_idx, role, stats);
        let cfg = self.pools[pi].cfg();
        if let Some(pass) = &cfg.redis_auth {
            b.send(&encode_request(&[Bytes::from_static(b"AUTH"), Bytes::from(pass.clone())]), Waiter::Discard);
        }
        if cfg.redis_db != 0 && !cfg.cluster {
            let db = Bytes::from(cfg.redis_db.to_string());
            b.send(&encode_request(&[Bytes::from_static(b"SELECT"), db]), Waiter::Discard);
        }
        if proto_idx == 1 {
            b.send(&encode_request(&[Bytes::from_static(b"HELLO"), Bytes::from_static(b"3")]), Waiter::Discard);
        }
        if cfg.cluster && cfg.read_from != ReadFrom::Master && matches!(role, Role::Shared { .. }) {
            b.send(&encode_request(&[Bytes::from_static(b"READONLY")]), Waiter::Discard);
        }
        if role == Role::Tracking {
            let on = [Bytes::from_static(b"CLIENT"), Bytes::from_static(b"TRACKING"), Bytes::from_static(b"on")];
            b.send(&encode_request(&on), Waiter::TrackingOn);
        }
        b.stats.server_connections.fetch_add(1, Ordering::Relaxed);
        self.backends.insert(t, b);
        self.dirty_backends.push(t);
        Ok(t)
    }

    /// `preconnect: true`: open every shared lane (RESP2) of every server of pool `pi`.
    pub fn preconnect(&mut self, pi: usize) {
        if !self.pools[pi].cfg().preconnect {
            return;
        }
        for server in 0..self.pools[pi].servers.len() {
            for lane in 0..self.pools[pi].lanes() {
                if self.backend_conn(pi, server, 0, lane).is_err() {
                    self.pools[pi].servers[server].stats.server_err.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            }
        }
    }

    /// Queue `request` for client `ct` (reply `seq`) on backend `bt`.
    pub fn send_on(&mut self, bt: Token, request: &Bytes, waiter: Waiter) {
        let Some(b) = self.backends.get_mut(&bt) else {
            return;
        };
        incr(&b.stats.requests);
        b.stats.request_bytes.fetch_add(request.len() as u64, Ordering::Relaxed);
        b.send(request, waiter);
        self.dirty_backends.push(bt);
    }

    /// A dedicated connection's client lets go of it: it finishes what is in flight (nothing
    /// else reaches the client: a subscription's late messages are dropped), then a clean
    /// transaction connection is parked for reuse and anything else is closed.
    pub fn release(&mut self, bt: Token) {
        let Some(b) = self.backends.get_mut(&bt) else {
            return;
        };
        b.owner = None;
        b.retire = true;
        self.retire_if_idle(bt);
    }

    /// Finish retiring `bt` when nothing is in flight on it any more.
    pub fn retire_if_idle(&mut self, bt: Token) {
        let Some(b) = self.backends.get(&bt) else {
            return;
        };
        if !b.retire || !b.inflight.is_empty() {
            return;
        }
        let (pi, server, proto, role) = (b.pool, b.server, b.proto_idx, b.role);
        if role == Role::Tx {
            if let Some(s) = self.pools[pi].servers.get_mut(server) {
                if s.idle[proto].len() < MAX_IDLE {
                    s.idle[proto].push(bt);
                    self.backends.get_mut(&bt).expect("checked above").retire = false;
                    return;
                }
            }
        }
        self.close_backend(bt);
    }

    /// Close a backend connection that has nothing in flight (or whose waiters no longer
    /// matter: their client is gone).
    pub fn close_backend(&mut self, bt: Token) {
        let Some(mut b) = self.backends.remove(&bt) else {
            return;
        };
        let _ = self.poll.registry().deregister(&mut b.stream);
        if let Some(s) = self.pools[b.pool].servers.get_mut(b.server) {
            s.forget(bt);
        }
        b.stats.server_connections.fetch_sub(1, Ordering::Relaxed);
        if b.role == Role::Tracking {
            // The invalidations of what it read stop with it.
            self.pools[b.pool].cache_clear();
        }
    }

    /// Publish this worker's share of every server's `in_queue` / `out_queue` gauges: the
    /// difference between its connections' queues now and what it published last.
    pub fn report_queues(&mut self) {
        let mut now: Vec<(Arc<ServerStats>, Queues)> = Vec::new();
        for b in self.backends.values() {
            match now.iter_mut().find(|(s, _)| Arc::ptr_eq(s, &b.stats)) {
                Some((_, t)) => add_queues(t, b.queues(), 1),
                None => now.push((b.stats.clone(), b.queues())),
            }
        }
        for (s, _) in &self.queue_report {
            if !now.iter().any(|(n, _)| Arc::ptr_eq(n, s)) {
                now.push((s.clone(), Queues::default()));
            }
        }
        for (s, q) in &now {
            let mut delta = *q;
            if let Some((_, old)) = self.queue_report.iter().find(|(o, _)| Arc::ptr_eq(o, s)) {
                add_queues(&mut delta, *old, -1);
            }
            s.add_queues(delta.in_queue, delta.in_queue_bytes, delta.out_queue, delta.out_queue_bytes);
        }
        now.retain(|(_, q)| *q != Queues::default());
        self.queue_report = now;
    }

    /// A request to server `server` of pool `pi` failed (`why`): count it toward the
    /// server's ejection (`auto_eject_hosts`), and count and log an ejection.
    pub fn server_failed(&mut self, pi: usize, server: usize, why: &str) {
        let pool = &mut self.pools[pi];
        if !pool.on_failure(server, std::time::Instant::now()) {
            return;
        }
        let (stats, st) = (pool.shared.stats.clone(), pool.servers[server].stats.clone());
        incr(&stats.server_ejects);
        incr(&st.ejects);
        let usec = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros());
        st.server_ejected_at.store(usec as u64, Ordering::Relaxed);
        let retry = pool.cfg().server_retry_timeout_ms;
        crate::plog!(
            crate::log::WARN,
            "pool '{}': server '{}' ejected for {retry} ms after {} failures (last: {why})",
            stats.name,
            st.name,
            pool.cfg().server_failure_limit
        );
    }

    /// Opening a connection to server `server` of pool `pi` failed at once.
    pub fn connect_failed(&mut self, pi: usize, server: usize, why: &str) {
        let st = self.pools[pi].servers[server].stats.clone();
        incr(&st.server_err);
        let pool = &self.pools[pi].shared.stats.name;
        if let Some(skipped) = st.error_log_due() {
            let more =
                if skipped > 0 { format!(" ({skipped} more errors since the last line)") } else { String::new() };
            crate::plog!(crate::log::WARN, "pool '{pool}': connection to server '{}' failed: {why}{more}", st.name);
        }
        self.server_failed(pi, server, why);
    }
}
