//! Request routing and reply handling for a worker: local commands, key lookup through the
//! shared command table, fan-out, cluster redirects (MOVED, ASK) and slot map refreshes.
//! Transactions (`tx`) and subscriptions (`pubsub`) get the request first; connections are
//! made in `connect`.

use super::backend::{encode_request, Inflight, Waiter};
use super::client::{Reply, Slot};
use super::connect::proto_idx;
use super::pool::Target;
use super::replica_link;
use super::worker::Worker;
use crate::fanout::{self, Merge};
use crate::local::{self, Local, PoolView};
use crate::router::parse_cluster_slots;
use crate::stats::incr;
use bytes::Bytes;
use mio::Token;
use slotbox_protocol::command::{self, flags, CommandSpec, KeyIndices};
use slotbox_protocol::{encode, Frame, Protocol};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const MAX_REDIRECTS: u8 = 5;
const REFRESH_EVERY: Duration = Duration::from_secs(10);

pub fn unsupported(name: &str) -> Frame {
    Frame::error(format!("ERR command '{name}' is not supported by slotbox-proxy"))
}

pub fn unknown(args: &[Bytes]) -> Frame {
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
pub fn spec_for(spec: &'static CommandSpec, args: &[Bytes]) -> &'static CommandSpec {
    match args.get(1) {
        Some(sub) if !spec.subcommands.is_empty() => spec.subcommand(sub).unwrap_or(spec),
        _ => spec,
    }
}

/// The arguments a request is routed by: its keys (shard channels included), or for PUBLISH
/// the channel, hashed like a key so publishers and subscribers meet on one backend.
pub fn routing_keys(spec: &CommandSpec, name: &str, args: &[Bytes]) -> KeyIndices {
    if name == "publish" && args.len() > 1 {
        return KeyIndices::from_slice(&[1]);
    }
    command::extract_keys(spec, args)
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
        incr(&pool.shared.stats.requests);
        if local::auth_required(&name, &c.session, pool.cfg().redis_auth.as_deref()) {
            return self.reply_error(ct, Frame::error_static(slotbox_protocol::frame::errors::NOAUTH));
        }
        if name == "reset" && args.len() == 1 {
            return self.reset_client(ct);
        }
        if !c.tx.in_multi && self.sub_request(ct, &name, &args) {
            return;
        }
        if self.tx_request(ct, &name, &args) {
            return;
        }
        let c = self.clients.get_mut(&ct).expect("client exists");
        let pool = &self.pools[c.pool];
        let info = || info_text(pool);
        let view = PoolView { auth: pool.cfg().redis_auth.as_deref(), info: &info };
        match local::handle(&name, &args, &mut c.session, &view) {
            Local::Reply(f) if f.is_error() => self.reply_error(ct, f),
            Local::Reply(f) => c.push_frame(&f),
            Local::Quit => {
                c.push_frame(&Frame::ok());
                c.closing = true;
            }
            Local::Forward => {
                if let Err(f) = self.route(ct, &name, &args) {
                    self.reply_error(ct, f);
                }
            }
        }
    }

    /// Answer an error right away (and count it).
    pub fn reply_error(&mut self, ct: Token, f: Frame) {
        if let Some(c) = self.clients.get_mut(&ct) {
            incr(&self.pools[c.pool].shared.stats.errors);
            c.push_frame(&f);
        }
    }

    /// RESET: leave MULTI, WATCH and subscribed mode, back to RESP2, no name, logged out.
    fn reset_client(&mut self, ct: Token) {
        let Some(c) = self.clients.get_mut(&ct) else { return };
        let tx = std::mem::take(&mut c.tx);
        let sub = c.sub.take();
        c.session.proto = Protocol::Resp2;
        c.session.name = None;
        c.session.authed = self.pools[c.pool].cfg().redis_auth.is_none();
        self.reset_subscriptions(ct, sub);
        if let Some(pin) = tx.pin {
            let cmd: &'static [u8] = if tx.in_multi { b"DISCARD" } else { b"UNWATCH" };
            self.send_on(pin.backend, &Bytes::from(encode_request(&[Bytes::from_static(cmd)])), Waiter::Discard);
            self.release(pin.backend);
        }
    }

    /// Route a request to its backend(s), or say why not.
    fn route(&mut self, ct: Token, name: &str, args: &[Bytes]) -> Result<(), Frame> {
        let spec = command::lookup(&args[0]).ok_or_else(|| unknown(args))?;
        if !spec.arity_ok(args.len()) {
            return Err(Frame::error(slotbox_protocol::frame::errors::wrong_arity(name)));
        }
        let spec = spec_for(spec, args);
        let publish = matches!(name, "publish" | "spublish");
        if name == "pubsub" {
            return self.pubsub_introspect(ct, args);
        }
        if spec.has(flags::PUBSUB) && !publish {
            return Err(unsupported(name));
        }
        let keys = routing_keys(spec, name, args);
        if keys.is_empty() {
            return Err(unsupported(name));
        }
        if spec.has(flags::BLOCKING) {
            return self.block_request(ct, name, args, &keys);
        }
        let (pi, proto) = {
            let c = &self.clients[&ct];
            (c.pool, c.session.proto)
        };
        let pool = &self.pools[pi];
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
        let first = self.common_target(pi, name, args, &keys)?;
        let target = if spec.has(flags::READONLY) { self.pools[pi].read_target(first) } else { first };
        let seq = self.push_slot(ct, Slot::Waiting);
        self.send(pi, target, ct, proto, seq, 0, Bytes::from(encode_request(args)), 0);
        Ok(())
    }

    /// The one target of the keys at `keys`, or the error for keys that span backends
    /// (CROSSSLOT in cluster pools).
    pub fn common_target(&self, pi: usize, name: &str, args: &[Bytes], keys: &[usize]) -> Result<Target, Frame> {
        let pool = &self.pools[pi];
        let first = pool.target(&args[keys[0]]);
        for &k in &keys[1..] {
            let t = pool.target(&args[k]);
            if pool.slots.is_some() && t.slot != first.slot {
                return Err(Frame::error(slotbox_protocol::frame::errors::CROSSSLOT));
            }
            if t.server != first.server {
                return Err(fanout::span_error(name));
            }
        }
        Ok(first)
    }

    /// The reply for a request whose key maps to no live backend.
    pub fn no_backend(&self, pi: usize) -> Frame {
        Frame::error(format!("ERR no live backend in pool '{}'", self.pools[pi].cfg().name))
    }

    pub(super) fn push_slot(&mut self, ct: Token, slot: Slot) -> u64 {
        self.clients.get_mut(&ct).map(|c| c.push(slot)).unwrap_or(0)
    }

    /// The client's WATCH connection when it is on `server` (its commands there keep their
    /// order relative to the WATCH).
    fn pinned_conn(&self, ct: Token, pi: usize, server: usize, proto: usize) -> Option<Token> {
        let Some(pin) = self.clients.get(&ct)?.tx.pin else {
            // Right after EXEC: follow its connection until it finished (see `TxState`).
            let t = self.draining_conn(ct, pi, server)?;
            return (self.backends.get(&t)?.proto_idx == proto).then_some(t);
        };
        let b = self.backends.get(&pin.backend)?;
        (pin.pool == pi && pin.server == server && b.proto_idx == proto).then_some(pin.backend)
    }

    /// Send one request (or part) to the target's backend, or fail it right away.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn send(
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
            return self.deliver(client, seq, part, self.no_backend(pi), None);
        };
        let pidx = proto_idx(proto);
        let pinned = if redirects == 0 { self.pinned_conn(client, pi, server, pidx) } else { None };
        let conn = match pinned {
            Some(bt) => Ok(bt),
            None => self.backend_conn(pi, server, pidx, self.lane_of(client)),
        };
        match conn {
            Ok(bt) => {
                let waiter = Waiter::Client { client, seq, part, request: request.clone(), redirects };
                self.send_on(bt, &request, waiter);
            }
            Err(e) => {
                self.pools[pi].on_failure(server, Instant::now());
                incr(&self.pools[pi].shared.stats.forward_error);
                self.deliver(client, seq, part, Frame::error(format!("ERR {e}")), None);
            }
        }
    }

    /// Hand a reply (or an error) to a client; `raw` is the backend's own encoding.
    pub fn deliver(&mut self, ct: Token, seq: u64, part: usize, frame: Frame, raw: Option<Bytes>) {
        let Some(c) = self.clients.get_mut(&ct) else {
            return;
        };
        if frame.is_error() {
            incr(&self.pools[c.pool].shared.stats.errors);
        }
        let raw = raw.unwrap_or_else(|| {
            let mut v = Vec::new();
            encode(&frame, c.session.proto, &mut v);
            Bytes::from(v)
        });
        c.complete(seq, part, Reply { frame, raw });
        let unblocks = c.blocked.is_some_and(|b| b.seq == seq);
        self.dirty_clients.push(ct);
        if unblocks {
            self.unblock(ct);
        }
    }

    /// A backend answered the oldest request it held.
    pub fn backend_reply(&mut self, bt: Token, frame: Frame, raw: Bytes, inflight: Inflight, now: Instant) {
        let Some(b) = self.backends.get(&bt) else {
            return;
        };
        let (pi, server, dedicated, proto_idx) = (b.pool, b.server, b.is_dedicated(), b.proto_idx);
        match inflight.waiter {
            Waiter::Discard => {}
            Waiter::Slots => {
                let p = &mut self.pools[pi];
                p.refresh_pending = false;
                if let Some(ranges) = parse_cluster_slots(&frame) {
                    p.apply_slots(&ranges);
                }
            }
            Waiter::Role => self.link_checked(pi, server, replica_link::parse_role(&frame), now),
            Waiter::Sub { client, seq, mirror, .. } => self.sub_answered(client, seq, mirror, frame, raw),
            Waiter::SubQuiet { .. } => {}
            Waiter::Client { client, seq, part, request, redirects } => {
                let st = &b.stats;
                incr(&st.responses);
                st.response_bytes.fetch_add(raw.len() as u64, Ordering::Relaxed);
                st.latency.observe(now.saturating_duration_since(inflight.sent_at));
                if frame.is_error() {
                    incr(&st.error_replies);
                }
                let p = &mut self.pools[pi];
                if let Some(s) = p.servers.get_mut(server) {
                    s.failures = 0;
                }
                if p.slots.is_some() && redirects < MAX_REDIRECTS {
                    if let Some((ask, slot, addr)) = frame.error_text().and_then(parse_redirect) {
                        let proto = if proto_idx == 1 { Protocol::Resp3 } else { Protocol::Resp2 };
                        let to = Redirect { ask, slot, addr, proto };
                        let blocked = self.clients.get(&client).and_then(|c| c.blocked);
                        if let Some(b) = blocked.filter(|b| b.backend == bt && b.seq == seq) {
                            return self.block_redirect(pi, to, client, b, request, redirects);
                        }
                        if !dedicated {
                            return self.redirect(pi, to, client, seq, part, request, redirects);
                        }
                        let first = Waiter::Client { client, seq, part, request, redirects };
                        if self.tx_repin(pi, &to, client, bt, first) {
                            return;
                        }
                        // A transaction under way cannot move: the client sees the redirect.
                        self.pools[pi].refresh_wanted |= !to.ask;
                    }
                }
                if dedicated {
                    self.tx_answered(client, bt);
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
        let server = self.learn_redirect(pi, &to);
        if to.ask {
            if let Ok(bt) = self.backend_conn(pi, server, proto_idx(to.proto), self.lane_of(client)) {
                self.asking(bt);
            }
        }
        let t = Target { server: Some(server), slot: to.slot };
        self.send(pi, t, client, to.proto, seq, part, request, redirects + 1);
    }

    /// Queue ASKING on `bt`, for the request sent next on it (its reply is dropped).
    pub(super) fn asking(&mut self, bt: Token) {
        if let Some(b) = self.backends.get_mut(&bt) {
            b.send(&encode_request(&[Bytes::from_static(b"ASKING")]), Waiter::Discard);
        }
    }

    /// The server a redirect names (added to the pool if new); a MOVED also updates the slot
    /// map at once and asks for a refresh.
    pub(super) fn learn_redirect(&mut self, pi: usize, to: &Redirect) -> usize {
        let p = &mut self.pools[pi];
        let server = p.server_index(&to.addr);
        if !to.ask {
            if let Some(map) = &mut p.slots {
                map.set_master(to.slot, server);
            }
            p.refresh_wanted = true;
        }
        server
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
        if let Ok(bt) = self.backend_conn(pi, server, 0, 0) {
            let req = encode_request(&[Bytes::from_static(b"CLUSTER"), Bytes::from_static(b"SLOTS")]);
            self.backends.get_mut(&bt).expect("backend").send(&req, Waiter::Slots);
            self.pools[pi].refresh_pending = true;
            self.dirty_backends.push(bt);
        }
    }
}

/// Where a MOVED / ASK answer sends a request.
pub(super) struct Redirect {
    pub ask: bool,
    pub slot: u16,
    pub addr: String,
    pub proto: Protocol,
}

/// `MOVED 3999 127.0.0.1:6381` / `ASK 3999 127.0.0.1:6381` -> (is_ask, slot, addr).
pub fn parse_redirect(text: &[u8]) -> Option<(bool, u16, String)> {
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

pub fn info_text(pool: &super::pool::PoolRt) -> String {
    let mut s = String::from("# Server\r\nredis_version:7.0.0\r\nproxy:slotbox-proxy\r\n");
    s.push_str(&format!("process_id:{}\r\n\r\n# Clients\r\n", std::process::id()));
    let st = &pool.shared.stats;
    s.push_str(&format!("connected_clients:{}\r\n\r\n", st.client_connections.load(Ordering::Relaxed)));
    s.push_str(&format!("# Stats\r\nforward_error:{}\r\n\r\n# Pool\r\n", st.forward_error.load(Ordering::Relaxed)));
    s.push_str(&format!("pool:{}\r\n", pool.cfg().name));
    for (i, srv) in pool.servers.iter().enumerate() {
        let live = if srv.ejected_until.is_some() { "ejected" } else { "up" };
        s.push_str(&format!("backend{i}:addr={},name={},weight={},status={live}", srv.addr, srv.name, srv.weight));
        if pool.cfg().read_from != crate::config::ReadFrom::Master && pool.replicas.contains(&i) {
            s.push_str(&format!(",replica_link={}", srv.link.state.name()));
        }
        s.push_str("\r\n");
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
