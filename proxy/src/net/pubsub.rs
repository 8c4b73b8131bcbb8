//! Pub/sub through the proxy. SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE pin the client to a
//! backend connection of its own, chosen by hashing the first channel like a key (so a
//! PUBLISH, routed the same way, meets its subscribers); frames from that connection are
//! either messages, relayed as they arrive, or the confirmations of the client's requests,
//! matched to them by count (SUBSCRIBE a b is answered by two frames). The client leaves
//! subscribed mode when its last subscription goes; RESP2 clients may only send pub/sub
//! commands, PING, QUIT and RESET meanwhile, RESP3 clients anything.
//!
//! A pattern matches channels that hash to any backend, and a plain pool routes each PUBLISH
//! to one backend: so in a plain pool PSUBSCRIBE / PUNSUBSCRIBE are also sent to a connection
//! of the client's on every other live backend (its "mirrors"), whose messages are relayed
//! and whose confirmations are dropped (the client sees the first backend's). A backend that
//! is ejected or down meanwhile gets the patterns when it is back (checked every second). A
//! cluster delivers PUBLISH to every node, so cluster pools need no mirrors.

use super::backend::{encode_request, Role, Waiter};
use super::client::Slot;
use super::worker::Worker;
use crate::fanout::{Merge, MergeKind};
use crate::stats::incr;
use bytes::Bytes;
use mio::Token;
use slotbox_protocol::frame::errors;
use slotbox_protocol::output_limit::Limits;
use slotbox_protocol::{Frame, Protocol};
use std::collections::HashSet;
use std::time::Instant;

/// A subscribed client's connection and what it is subscribed to, as of the requests sent.
#[derive(Debug)]
pub struct SubState {
    pub backend: Token,
    pub pool: usize,
    pub server: usize,
    /// Connections on the pool's other backends that carry the patterns (plain pools).
    pub mirrors: Vec<Token>,
    channels: HashSet<Bytes>,
    patterns: HashSet<Bytes>,
    shards: HashSet<Bytes>,
}

impl SubState {
    fn new(backend: Token, pool: usize, server: usize) -> SubState {
        SubState {
            backend,
            pool,
            server,
            mirrors: Vec::new(),
            channels: HashSet::new(),
            patterns: HashSet::new(),
            shards: HashSet::new(),
        }
    }

    /// Every connection of this subscription: the main one, then the mirrors.
    pub fn connections(&self) -> Vec<Token> {
        std::iter::once(self.backend).chain(self.mirrors.iter().copied()).collect()
    }

    /// Apply a (un)subscribe request; returns how many frames the backend answers it with
    /// (one per argument, or one per subscription dropped by an argument-less unsubscribe,
    /// at least one).
    pub fn apply(&mut self, name: &str, args: &[Bytes]) -> usize {
        let set = match name {
            "subscribe" | "unsubscribe" => &mut self.channels,
            "psubscribe" | "punsubscribe" => &mut self.patterns,
            _ => &mut self.shards,
        };
        let names = &args[1..];
        if !name.ends_with("unsubscribe") {
            set.extend(names.iter().cloned());
            return names.len();
        }
        if names.is_empty() {
            let n = set.len().max(1);
            set.clear();
            return n;
        }
        for n in names {
            set.remove(n);
        }
        names.len()
    }

    /// Still subscribed to something.
    pub fn active(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shards.is_empty())
    }
}

/// (P|S)(UN)SUBSCRIBE.
pub fn is_subscribe_family(name: &str) -> bool {
    matches!(name, "subscribe" | "psubscribe" | "ssubscribe" | "unsubscribe" | "punsubscribe" | "sunsubscribe")
}

/// A published message (`message`, `pmessage`, `smessage`), RESP2 array or RESP3 push.
pub fn is_message(frame: &Frame) -> bool {
    let (Frame::Push(items) | Frame::Array(items)) = frame else {
        return false;
    };
    matches!(items.first().and_then(Frame::as_bytes), Some(b"message" | b"pmessage" | b"smessage"))
}

fn not_allowed(name: &str) -> Frame {
    Frame::error(format!(
        "ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    ))
}

impl Worker {
    /// Pub/sub requests, and every request of a subscribed client. False when the request
    /// takes the normal path.
    pub fn sub_request(&mut self, ct: Token, name: &str, args: &[Bytes]) -> bool {
        let Some(c) = self.clients.get(&ct) else { return true };
        if is_subscribe_family(name) {
            self.sub_command(ct, name, args);
            return true;
        }
        let Some(sub) = &c.sub else { return false };
        if c.session.proto == Protocol::Resp3 || matches!(name, "quit" | "reset") {
            return false;
        }
        if name != "ping" {
            self.reply_error(ct, not_allowed(name));
        } else if args.len() > 2 {
            self.reply_error(ct, Frame::error(errors::wrong_arity("ping")));
        } else {
            // RESP2 subscribed PING is answered by the backend as ["pong", arg].
            let bt = sub.backend;
            self.sub_send(ct, bt, args, 1);
        }
        true
    }

    fn sub_send(&mut self, ct: Token, bt: Token, args: &[Bytes], frames: usize) {
        let Some(c) = self.clients.get_mut(&ct) else { return };
        let seq = c.push(Slot::Waiting);
        let request = Bytes::from(encode_request(args));
        self.send_on(bt, &request, Waiter::Sub { client: ct, seq, left: frames, raw: Vec::new() });
    }

    fn sub_command(&mut self, ct: Token, name: &str, args: &[Bytes]) {
        let spec = slotbox_protocol::command::lookup(&args[0]).expect("pub/sub commands are in the table");
        if !spec.arity_ok(args.len()) {
            return self.reply_error(ct, Frame::error(errors::wrong_arity(name)));
        }
        let c = &self.clients[&ct];
        let unsubscribe = name.ends_with("unsubscribe");
        let backend = match (&c.sub, unsubscribe) {
            (None, true) => return self.unsubscribe_idle(ct, name, args),
            (Some(sub), true) => sub.backend,
            (sub, false) => match self.sub_backend(ct, name, args, sub.as_ref().map(|s| (s.backend, s.server))) {
                Ok(bt) => bt,
                Err(f) => return self.reply_error(ct, f),
            },
        };
        let c = self.clients.get_mut(&ct).expect("client exists");
        let sub = c.sub.get_or_insert_with(|| {
            let b = &self.backends[&backend];
            SubState::new(backend, b.pool, b.server)
        });
        let frames = sub.apply(name, args);
        let done = !sub.active();
        self.sub_send(ct, backend, args, frames);
        if matches!(name, "psubscribe" | "punsubscribe") {
            self.mirror_patterns(ct, args, frames);
        }
        if done {
            // Out of subscribed mode as of this request; the connections go once they have
            // answered everything sent on them.
            let sub = self.clients.get_mut(&ct).expect("client exists").sub.take();
            for bt in sub.map(|s| s.connections()).unwrap_or_default() {
                self.release(bt);
            }
        }
    }

    /// Copy a pattern (un)subscription to the client's connections on the pool's other
    /// backends, in a plain pool, and open the ones still missing.
    fn mirror_patterns(&mut self, ct: Token, args: &[Bytes], frames: usize) {
        let Some(sub) = self.clients.get(&ct).and_then(|c| c.sub.as_ref()) else { return };
        if self.pools[sub.pool].slots.is_some() {
            return;
        }
        let request = Bytes::from(encode_request(args));
        for bt in sub.mirrors.clone() {
            self.send_on(bt, &request, Waiter::SubQuiet { left: frames });
        }
        self.add_mirrors(ct);
    }

    /// Give the client a mirror on every live backend of its pool that has none yet,
    /// subscribed to all of its patterns (none while it has no pattern).
    fn add_mirrors(&mut self, ct: Token) {
        let Some(sub) = self.clients.get(&ct).and_then(|c| c.sub.as_ref()) else { return };
        if sub.patterns.is_empty() {
            return;
        }
        let (pi, home) = (sub.pool, sub.server);
        let covered: Vec<usize> = sub.mirrors.iter().filter_map(|t| self.backends.get(t)).map(|b| b.server).collect();
        let missing: Vec<usize> = (0..self.pools[pi].servers.len())
            .filter(|&s| s != home && !covered.contains(&s) && self.pools[pi].servers[s].ejected_until.is_none())
            .collect();
        if missing.is_empty() {
            return;
        }
        let mut args = vec![Bytes::from_static(b"PSUBSCRIBE")];
        args.extend(sub.patterns.iter().cloned());
        let request = Bytes::from(encode_request(&args));
        let frames = args.len() - 1;
        for server in missing {
            // A backend that cannot be reached now gets the patterns on a later try.
            let Ok(bt) = self.dedicated_conn(ct, pi, server, Role::Sub) else { continue };
            self.send_on(bt, &request, Waiter::SubQuiet { left: frames });
            if let Some(sub) = self.clients.get_mut(&ct).and_then(|c| c.sub.as_mut()) {
                sub.mirrors.push(bt);
            }
        }
    }

    /// Called every second: patterns reach the backends that were ejected, down or not yet
    /// in the pool when they were subscribed, and those whose mirror connection was lost.
    pub fn repair_mirrors(&mut self) {
        let pools = &self.pools;
        let clients: Vec<Token> = self
            .clients
            .iter()
            .filter(|(_, c)| c.sub.as_ref().is_some_and(|s| !s.patterns.is_empty() && pools[s.pool].slots.is_none()))
            .map(|(t, _)| *t)
            .collect();
        for ct in clients {
            self.add_mirrors(ct);
        }
    }

    /// The connection a subscribe request goes on: the client's own when the channels are
    /// served there, a new one for a client not yet subscribed.
    fn sub_backend(
        &mut self,
        ct: Token,
        name: &str,
        args: &[Bytes],
        current: Option<(Token, usize)>,
    ) -> Result<Token, Frame> {
        let pi = self.clients[&ct].pool;
        let cluster = self.pools[pi].slots.is_some();
        // Which channels must live on the subscription's backend: shard channels always,
        // plain channels in plain pools (a cluster delivers PUBLISH to every node), patterns
        // never (they cannot be routed: the first one picks the backend).
        let checked: Vec<usize> = match name {
            "ssubscribe" => (1..args.len()).collect(),
            "subscribe" if !cluster => (1..args.len()).collect(),
            _ => vec![1],
        };
        let target = self.common_target(pi, name, args, &checked)?;
        let server = target.server.ok_or_else(|| self.no_backend(pi))?;
        match current {
            Some((bt, s)) if s == server || name == "psubscribe" || (name == "subscribe" && cluster) => Ok(bt),
            Some(_) => Err(Frame::error(format!(
                "ERR channel '{}' maps to another backend than this connection's subscriptions; use a hash tag \
                 to keep them on one",
                String::from_utf8_lossy(&args[1])
            ))),
            None => self.dedicated_conn(ct, pi, server, Role::Sub).map_err(|e| {
                self.pools[pi].on_failure(server, Instant::now());
                Frame::error(format!("ERR {e}"))
            }),
        }
    }

    /// (P|S)UNSUBSCRIBE from a client that is not subscribed: answered here, as Redis does.
    fn unsubscribe_idle(&mut self, ct: Token, name: &str, args: &[Bytes]) {
        let kind = Frame::bulk(Bytes::copy_from_slice(name.as_bytes()));
        let frames: Vec<Frame> = if args.len() == 1 {
            vec![Frame::Push(vec![kind, Frame::Null, Frame::Integer(0)])]
        } else {
            args[1..]
                .iter()
                .map(|ch| Frame::Push(vec![kind.clone(), Frame::Bulk(ch.clone()), Frame::Integer(0)]))
                .collect()
        };
        if let Some(c) = self.clients.get_mut(&ct) {
            c.push_frame(&Frame::Many(frames));
        }
    }

    /// One frame from a subscription connection.
    pub fn sub_frame(&mut self, bt: Token, frame: Frame, raw: Bytes) {
        let Some(b) = self.backends.get_mut(&bt) else { return };
        if is_message(&frame) {
            let Some(ct) = b.owner else { return };
            if let Some(c) = self.clients.get_mut(&ct) {
                c.push_raw(raw);
                self.dirty_clients.push(ct);
                let pending = c.pending_output();
                if c.pubsub_limit.exceeded(pending, Instant::now(), Limits::PUBSUB) {
                    eprintln!(
                        "slotbox-proxy: client {} closed for overcoming of output buffer limits (pubsub: {} bytes pending)",
                        c.session.id, pending
                    );
                    incr(&self.pools[c.pool].shared.stats.client_err);
                    self.close_client(ct);
                }
            }
            return;
        }
        let Some(front) = b.inflight.front_mut() else { return };
        if let Waiter::SubQuiet { left } = &mut front.waiter {
            *left = if frame.is_error() { 0 } else { left.saturating_sub(1) };
            if *left == 0 {
                b.inflight.pop_front();
            }
            return;
        }
        if let Waiter::Sub { left, raw: gathered, .. } = &mut front.waiter {
            gathered.extend_from_slice(&raw);
            *left = if frame.is_error() { 0 } else { left.saturating_sub(1) };
            if *left > 0 {
                return;
            }
            incr(&b.stats.responses);
            let inf = b.inflight.pop_front().expect("front exists");
            b.stats.latency.observe(inf.sent_at.elapsed());
            if let Waiter::Sub { client, seq, raw: gathered, .. } = inf.waiter {
                self.deliver(client, seq, 0, frame, Some(Bytes::from(gathered)));
            }
            return;
        }
        let inf = b.inflight.pop_front().expect("front exists");
        self.backend_reply(bt, frame, raw, inf, Instant::now());
    }

    /// A subscription connection died. The client's own: it will get no more messages, so it
    /// is disconnected, as it would be by the server itself. A mirror: that backend's
    /// messages stop until `repair_mirrors` subscribes the patterns there again.
    pub fn sub_conn_lost(&mut self, ct: Token, bt: Token) {
        let Some(sub) = self.clients.get_mut(&ct).and_then(|c| c.sub.as_mut()) else { return };
        if sub.backend == bt {
            self.close_client(ct);
        } else {
            sub.mirrors.retain(|&m| m != bt);
        }
    }
}

impl Worker {
    /// PUBSUB CHANNELS / SHARDCHANNELS / NUMSUB / SHARDNUMSUB / NUMPAT, asked of every live
    /// backend (every master in a cluster pool) and merged: channel lists united, counts
    /// summed (NUMPAT in a plain pool: the largest, patterns being on every backend), so a
    /// client sees the whole pool as one server. PUBSUB HELP goes to one backend.
    pub fn pubsub_introspect(&mut self, ct: Token, args: &[Bytes]) -> Result<(), Frame> {
        let sub = args.get(1).map(|a| String::from_utf8_lossy(a).to_ascii_lowercase()).unwrap_or_default();
        let kind = match sub.as_str() {
            "channels" | "shardchannels" => MergeKind::Union,
            "numsub" | "shardnumsub" => MergeKind::PairSum,
            // Patterns are copied to every backend of a plain pool (see the module doc).
            "numpat" if self.pools[self.clients[&ct].pool].slots.is_none() => MergeKind::Max,
            "numpat" => MergeKind::Sum,
            "help" => MergeKind::Union,
            _ => {
                return Err(Frame::error(format!(
                    "ERR unknown subcommand '{}'. Try PUBSUB HELP.",
                    String::from_utf8_lossy(&args[1])
                )))
            }
        };
        let (pi, proto) = {
            let c = &self.clients[&ct];
            (c.pool, c.session.proto)
        };
        let mut targets = self.pools[pi].every_target();
        if sub == "help" {
            targets.truncate(1);
        }
        if targets.is_empty() {
            return Err(self.no_backend(pi));
        }
        let request = Bytes::from(encode_request(args));
        let seq = self.push_slot(ct, Slot::Merging(Merge::new(kind, targets.len())));
        for (part, t) in targets.into_iter().enumerate() {
            self.send(pi, t, ct, proto, seq, part, request.clone(), 0);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<Bytes> {
        v.iter().map(|s| Bytes::copy_from_slice(s.as_bytes())).collect()
    }

    #[test]
    fn frames_expected_per_request() {
        let mut s = SubState::new(Token(1), 0, 0);
        assert_eq!(s.apply("subscribe", &args(&["subscribe", "a", "b", "a"])), 3);
        assert_eq!(s.apply("psubscribe", &args(&["psubscribe", "n*"])), 1);
        assert_eq!(s.apply("unsubscribe", &args(&["unsubscribe"])), 2);
        assert!(s.active());
        assert_eq!(s.apply("punsubscribe", &args(&["punsubscribe", "x*", "n*"])), 2);
        assert!(!s.active());
        assert_eq!(s.apply("sunsubscribe", &args(&["sunsubscribe"])), 1);
    }

    #[test]
    fn messages_are_told_from_confirmations() {
        let b = |s: &'static str| Frame::bulk_static(s);
        assert!(is_message(&Frame::Array(vec![b("message"), b("ch"), b("hi")])));
        assert!(is_message(&Frame::Push(vec![b("pmessage"), b("c*"), b("ch"), b("hi")])));
        assert!(!is_message(&Frame::Push(vec![b("subscribe"), b("message"), Frame::Integer(1)])));
        assert!(!is_message(&Frame::Array(vec![b("pong"), b("")])));
        assert!(!is_message(&Frame::simple_static("PONG")));
    }
}
