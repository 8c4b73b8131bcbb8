//! Request routing and reply handling for a worker: local commands, key lookup through the
//! shared command table, fan-out, backend connection setup (AUTH / SELECT / HELLO 3 /
//! READONLY), cluster redirects (MOVED, ASK) and slot map refreshes.

use super::backend::{encode_request, Backend, Waiter};
use super::client::{Reply, Slot};
use super::pool::Target;
use super::worker::{short_io_error, Worker};
use crate::config::ReadFrom;
use crate::fanout::{self, Merge};
use crate::local::{self, Local, PoolView};
use crate::router::parse_cluster_slots;
use crate::stats::incr;
use bytes::Bytes;
use mio::net::TcpStream;
use mio::{Interest, Token};
use slotbox_protocol::command::{self, flags, CommandSpec};
use slotbox_protocol::{encode, Frame, Protocol};
use std::net::ToSocketAddrs;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const MAX_REDIRECTS: u8 = 5;
const REFRESH_EVERY: Duration = Duration::from_secs(10);

fn unsupported(name: &str) -> Frame {
    Frame::error(format!("ERR command '{name}' is not supported by slotbox-proxy"))
}

fn unknown(args: &[Bytes]) -> Frame {
    let mut rest = String::new();
    for a in args.iter().skip(1) {
        rest.push_str(&format!("'{}' ", String::from_utf8_lossy(a)));
    }
    Frame::error(format!(
        "ERR unknown command '{}', with args beginning with: {rest}",
        String::from_utf8_lossy(&args[0])
    ))
}

/// The spec that describes the keys of `args` (a container's subcommand when there is one).
fn spec_for(spec: &'static CommandSpec, args: &[Bytes]) -> &'static CommandSpec {
    match args.get(1) {
        Some(sub) if !spec.subcommands.is_empty() => spec.subcommand(sub).unwrap_or(spec),
        _ => spec,
    }
}

impl Worker {
    /// One decoded client request.
    pub fn request(&mut self, ct: Token, args: Vec<Bytes>) {
        if args.is_empty() {
            return;
        }
        let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        let Some(c) = self.clients.get_mut(&ct) else {
            return;
        };
        let pool = &self.pools[c.pool];
        let info = || info_text(pool);
        let view = PoolView { auth: pool.cfg().redis_auth.as_deref(), info: &info };
        match local::handle(&name, &args, &mut c.session, &view) {
            Local::Reply(f) => c.push_frame(&f),
            Local::Quit => {
                c.push_frame(&Frame::ok());
                c.closing = true;
            }
            Local::Forward => match self.route(ct, &name, &args) {
                Ok(()) => {}
                Err(f) => {
                    if let Some(c) = self.clients.get_mut(&ct) {
                        c.push_frame(&f);
                    }
                }
            },
        }
    }

    /// Route a request to its backend(s), or say why not.
    fn route(&mut self, ct: Token, name: &str, args: &[Bytes]) -> Result<(), Frame> {
        let spec = command::lookup(&args[0]).ok_or_else(|| unknown(args))?;
        if !spec.arity_ok(args.len()) {
            return Err(Frame::error(slotbox_protocol::frame::errors::wrong_arity(name)));
        }
        let spec = spec_for(spec, args);
        let tx = matches!(name, "multi" | "exec" | "discard" | "watch" | "unwatch");
        if spec.has(flags::BLOCKING) || spec.has(flags::PUBSUB) || tx {
            return Err(unsupported(name));
        }
        let keys = command::extract_keys(spec, args);
        if keys.is_empty() {
            return Err(unsupported(name));
        }
        let (pi, proto) = {
            let c = &self.clients[&ct];
            (c.pool, c.session.proto)
        };
        let pool = &self.pools[pi];
        let cluster = pool.slots.is_some();
        if fanout::is_fanout(name) && keys.len() > 1 {
            if let Some(split) = fanout::split(name, args, &keys, |k| pool.target(k)) {
                let n = split.parts.len();
                pool.shared.stats.fragments.fetch_add(n as u64, Ordering::Relaxed);
                let seq = self.push_slot(ct, Slot::Merging(Merge::new(split.merge, n)));
                for (part, (t, a)) in split.parts.into_iter().enumerate() {
                    self.send(pi, t, ct, proto, seq, part, Bytes::from(encode_request(&a)), 0);
                }
                return Ok(());
            }
        }
        let first = pool.target(&args[keys[0]]);
        for &k in &keys[1..] {
            let t = pool.target(&args[k]);
            if cluster && t.slot != first.slot {
                return Err(Frame::error(slotbox_protocol::frame::errors::CROSSSLOT));
            }
            if t.server != first.server {
                return Err(fanout::span_error(name));
            }
        }
        let target = if spec.has(flags::READONLY) { self.pools[pi].read_target(first) } else { first };
        let seq = self.push_slot(ct, Slot::Waiting);
        self.send(pi, target, ct, proto, seq, 0, Bytes::from(encode_request(args)), 0);
        Ok(())
    }

    fn push_slot(&mut self, ct: Token, slot: Slot) -> u64 {
        self.clients.get_mut(&ct).map(|c| c.push(slot)).unwrap_or(0)
    }

    /// Send one request (or part) to the target's backend, or fail it right away.
    #[allow(clippy::too_many_arguments)]
    fn send(
        &mut self,
        pi: usize,
        t: Target,
        client: Token,
        proto: Protocol,
        seq: u64,
        part: usize,
        request: Bytes,
        redirects: u8,
    ) {
        let Some(server) = t.server else {
            let msg = format!("ERR no live backend in pool '{}'", self.pools[pi].cfg().name);
            return self.deliver(client, seq, part, Frame::error(msg), None);
        };
        let proto_idx = usize::from(proto == Protocol::Resp3);
        match self.backend_conn(pi, server, proto_idx) {
            Ok(bt) => {
                if let Some(s) = self.pools[pi].shared.stats.server(server) {
                    incr(&s.requests);
                    s.request_bytes.fetch_add(request.len() as u64, Ordering::Relaxed);
                }
                let b = self.backends.get_mut(&bt).expect("backend just looked up");
                b.send(&request, Waiter::Client { client, seq, part, request: request.clone(), redirects });
                self.dirty_backends.push(bt);
            }
            Err(e) => {
                self.pools[pi].on_failure(server, Instant::now());
                incr(&self.pools[pi].shared.stats.forward_error);
                self.deliver(client, seq, part, Frame::error(format!("ERR {e}")), None);
            }
        }
    }

    /// The connection to `server` for protocol `proto_idx`, connecting if needed.
    fn backend_conn(&mut self, pi: usize, server: usize, proto_idx: usize) -> Result<Token, String> {
        if let Some(t) = self.pools[pi].servers[server].conns[proto_idx] {
            return Ok(t);
        }
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
        let mut b = Backend::new(stream, pi, server, proto_idx);
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
        if cfg.cluster && cfg.read_from != ReadFrom::Master {
            b.send(&encode_request(&[Bytes::from_static(b"READONLY")]), Waiter::Discard);
        }
        if let Some(s) = self.pools[pi].shared.stats.server(server) {
            s.server_connections.fetch_add(1, Ordering::Relaxed);
        }
        self.backends.insert(t, b);
        self.pools[pi].servers[server].conns[proto_idx] = Some(t);
        Ok(t)
    }

    /// Hand a reply (or an error) to a client; `raw` is the backend's own encoding.
    pub fn deliver(&mut self, ct: Token, seq: u64, part: usize, frame: Frame, raw: Option<Bytes>) {
        let Some(c) = self.clients.get_mut(&ct) else {
            return;
        };
        let raw = raw.unwrap_or_else(|| {
            let mut v = Vec::new();
            encode(&frame, c.session.proto, &mut v);
            Bytes::from(v)
        });
        c.complete(seq, part, Reply { frame, raw });
        self.dirty_clients.push(ct);
    }

    /// A backend answered the oldest request it held.
    pub fn backend_reply(&mut self, bt: Token, frame: Frame, raw: Bytes, waiter: Waiter) {
        let (pi, server) = match self.backends.get(&bt) {
            Some(b) => (b.pool, b.server),
            None => return,
        };
        match waiter {
            Waiter::Discard => {}
            Waiter::Slots => {
                let p = &mut self.pools[pi];
                p.refresh_pending = false;
                if let Some(ranges) = parse_cluster_slots(&frame) {
                    p.apply_slots(&ranges);
                }
            }
            Waiter::Client { client, seq, part, request, redirects } => {
                let p = &mut self.pools[pi];
                if let Some(s) = p.servers.get_mut(server) {
                    s.failures = 0;
                }
                if let Some(s) = p.shared.stats.server(server) {
                    incr(&s.responses);
                    s.response_bytes.fetch_add(raw.len() as u64, Ordering::Relaxed);
                }
                if p.slots.is_some() && redirects < MAX_REDIRECTS {
                    if let Some(text) = frame.error_text() {
                        if let Some((ask, slot, addr)) = parse_redirect(text) {
                            let proto_idx = self.backends[&bt].proto_idx;
                            let proto = if proto_idx == 1 { Protocol::Resp3 } else { Protocol::Resp2 };
                            let to = Redirect { ask, slot, addr, proto };
                            return self.redirect(pi, to, client, seq, part, request, redirects);
                        }
                    }
                }
                self.deliver(client, seq, part, frame, Some(raw));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn redirect(
        &mut self,
        pi: usize,
        to: Redirect,
        client: Token,
        seq: u64,
        part: usize,
        request: Bytes,
        redirects: u8,
    ) {
        let p = &mut self.pools[pi];
        let server = p.server_index(&to.addr);
        if !to.ask {
            if let Some(map) = &mut p.slots {
                map.set_master(to.slot, server);
            }
            p.refresh_wanted = true;
        } else if let Ok(bt) = self.backend_conn(pi, server, usize::from(to.proto == Protocol::Resp3)) {
            let b = self.backends.get_mut(&bt).expect("backend just looked up");
            b.send(&encode_request(&[Bytes::from_static(b"ASKING")]), Waiter::Discard);
        }
        let t = Target { server: Some(server), slot: to.slot };
        self.send(pi, t, client, to.proto, seq, part, request, redirects + 1);
    }

    /// Ask a master for CLUSTER SLOTS when a MOVED was seen or the map is getting old.
    pub fn maybe_refresh(&mut self, pi: usize, now: Instant) {
        let p = &self.pools[pi];
        if p.slots.is_none() || p.refresh_pending {
            return;
        }
        let old = now.duration_since(p.last_refresh) >= REFRESH_EVERY;
        if !p.refresh_wanted && !old {
            return;
        }
        let server = p.refresh_server();
        let p = &mut self.pools[pi];
        p.refresh_wanted = false;
        p.last_refresh = now;
        if let Ok(bt) = self.backend_conn(pi, server, 0) {
            let req = encode_request(&[Bytes::from_static(b"CLUSTER"), Bytes::from_static(b"SLOTS")]);
            self.backends.get_mut(&bt).expect("backend").send(&req, Waiter::Slots);
            self.pools[pi].refresh_pending = true;
            self.dirty_backends.push(bt);
        }
    }
}

struct Redirect {
    ask: bool,
    slot: u16,
    addr: String,
    proto: Protocol,
}

/// `MOVED 3999 127.0.0.1:6381` / `ASK 3999 127.0.0.1:6381` -> (is_ask, slot, addr).
fn parse_redirect(text: &[u8]) -> Option<(bool, u16, String)> {
    let s = std::str::from_utf8(text).ok()?;
    let mut it = s.split(' ');
    let ask = match it.next()? {
        "MOVED" => false,
        "ASK" => true,
        _ => return None,
    };
    let slot = it.next()?.parse().ok()?;
    Some((ask, slot, it.next()?.to_string()))
}

fn info_text(pool: &super::pool::PoolRt) -> String {
    let mut s = String::from("# Server\r\nredis_version:7.0.0\r\nproxy:slotbox-proxy\r\n");
    s.push_str(&format!("process_id:{}\r\n\r\n# Clients\r\n", std::process::id()));
    let st = &pool.shared.stats;
    s.push_str(&format!("connected_clients:{}\r\n\r\n", st.client_connections.load(Ordering::Relaxed)));
    s.push_str(&format!("# Stats\r\nforward_error:{}\r\n\r\n# Pool\r\n", st.forward_error.load(Ordering::Relaxed)));
    s.push_str(&format!("pool:{}\r\n", pool.cfg().name));
    for (i, srv) in pool.servers.iter().enumerate() {
        let live = if srv.ejected_until.is_some() { "ejected" } else { "up" };
        s.push_str(&format!("backend{i}:addr={},name={},weight={},status={live}\r\n", srv.addr, srv.name, srv.weight));
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn redirects_parse() {
        assert_eq!(
            super::parse_redirect(b"MOVED 3999 127.0.0.1:6381"),
            Some((false, 3999, "127.0.0.1:6381".to_string()))
        );
        assert_eq!(super::parse_redirect(b"ASK 1 h:2"), Some((true, 1, "h:2".to_string())));
        assert_eq!(super::parse_redirect(b"ERR x"), None);
    }
}
