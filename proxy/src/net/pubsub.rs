//! Pub/sub through the proxy. SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE pin the client to a
//! backend connection of its own, chosen by hashing the first channel like a key (so a
//! PUBLISH, routed the same way, meets its subscribers); frames from that connection are
//! either messages, relayed as they arrive, or the confirmations of the client's requests,
//! matched to them by count (SUBSCRIBE a b is answered by two frames). The client leaves
//! subscribed mode when its last subscription goes; RESP2 clients may only send pub/sub
//! commands, PING, QUIT and RESET meanwhile, RESP3 clients anything.
//!
//! In a plain pool a pattern is also subscribed on the client's connections to the other
//! backends (see `mirror`), and a (P)UNSUBSCRIBE is sent there too: the client's reply joins
//! every part ([`Slot::Joining`]), so it is confirmed only once every backend carries (or has
//! dropped) the pattern, as a single Redis server would. RESET does the same on every
//! connection of the subscription.
//!
//! Message order follows Redis: a message a connection sends before answering a request was
//! published before the request took effect, so it is gathered with that request's parts and
//! reaches the client before the reply. A connection the client let go (it left subscribed
//! mode, RESET, quit) relays nothing more.

use super::backend::{encode_request, Role, Waiter};
use super::client::Slot;
use super::client_state::SubState;
use super::mirror::Part;
use super::request::is_subscribe_family;
use super::worker::Worker;
use crate::fanout::{Merge, MergeKind};
use crate::stats::incr;
use bytes::Bytes;
use mio::Token;
use slotbox_protocol::frame::errors;
use slotbox_protocol::output_limit::Limits;
use slotbox_protocol::{Frame, Protocol};
use std::time::Instant;

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
            let part = Part { conn: sub.backend, request: Bytes::from(encode_request(args)), frames: 1, mirror: false };
            self.send_parts(ct, vec![part], None);
        }
        true
    }

    /// Owe the client one reply for a request sent as `parts` (the first not a mirror, unless
    /// `reply` is known from the start): ready once every part is answered, with the
    /// messages the mirrors relayed before their answers, then the reply. A part whose
    /// connection is gone is not waited for.
    pub(super) fn send_parts(&mut self, ct: Token, parts: Vec<Part>, reply: Option<Bytes>) {
        let parts: Vec<Part> = parts.into_iter().filter(|p| self.backends.contains_key(&p.conn)).collect();
        if reply.is_none() && parts.first().is_none_or(|p| p.mirror) {
            return self.reply_error(ct, Frame::error_static("ERR Server closed the connection"));
        }
        let slot = match (parts.len(), reply) {
            (0, Some(r)) => Slot::Ready(r),
            (1, None) => Slot::Waiting,
            (n, reply) => Slot::Joining { left: n, before: Vec::new(), reply },
        };
        let Some(c) = self.clients.get_mut(&ct) else { return };
        let seq = c.push(slot);
        self.dirty_clients.push(ct);
        for p in parts {
            let waiter = Waiter::Sub { client: ct, seq, mirror: p.mirror, left: p.frames, raw: Vec::new() };
            self.send_on(p.conn, &p.request, waiter);
        }
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
        let request = Bytes::from(encode_request(args));
        let mut parts = vec![Part { conn: backend, request: request.clone(), frames, mirror: false }];
        if matches!(name, "psubscribe" | "punsubscribe") {
            parts.extend(self.mirror_parts(ct, &request, frames));
        }
        self.send_parts(ct, parts, None);
        if done {
            // Out of subscribed mode as of this request; the connections go once they have
            // answered everything sent on them, relaying nothing more meanwhile.
            let sub = self.clients.get_mut(&ct).expect("client exists").sub.take();
            for bt in sub.map(|s| s.connections()).unwrap_or_default() {
                self.release(bt);
            }
        } else {
            self.drop_unused_mirrors(ct);
        }
    }

    /// RESET: `+RESET` once every connection of the client's subscription (if any) has
    /// dropped everything (RESET is sent there too), after the messages they sent before;
    /// the connections are let go.
    pub fn reset_subscriptions(&mut self, ct: Token, sub: Option<SubState>) {
        let conns = sub.map(|s| s.connections()).unwrap_or_default();
        let request = Bytes::from(encode_request(&[Bytes::from_static(b"RESET")]));
        let parts =
            conns.iter().map(|&conn| Part { conn, request: request.clone(), frames: 1, mirror: true }).collect();
        self.send_parts(ct, parts, Some(Bytes::from_static(b"+RESET\r\n")));
        for bt in conns {
            self.release(bt);
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
        let front = b.inflight.front_mut().map(|i| &mut i.waiter);
        if is_message(&frame) {
            if let Some(Waiter::Sub { raw: gathered, .. }) = front {
                // Published before the request in flight took effect: the client sees it
                // before that request's reply (even when the request ends the subscription).
                gathered.extend_from_slice(&raw);
            } else if let Some(ct) = b.owner {
                self.relay_message(ct, &frame, raw);
            }
            return;
        }
        match front {
            Some(Waiter::SubQuiet { left }) => {
                *left = if frame.is_error() { 0 } else { left.saturating_sub(1) };
                if *left == 0 {
                    b.inflight.pop_front();
                }
            }
            Some(Waiter::Sub { mirror, left, raw: gathered, .. }) => {
                if !*mirror {
                    gathered.extend_from_slice(&raw);
                }
                *left = if frame.is_error() { 0 } else { left.saturating_sub(1) };
                if *left > 0 {
                    return;
                }
                incr(&b.stats.responses);
                let inf = b.inflight.pop_front().expect("front exists");
                b.stats.latency.observe(inf.sent_at.elapsed());
                if let Waiter::Sub { client, seq, mirror, raw: gathered, .. } = inf.waiter {
                    self.sub_answered(client, seq, mirror, frame, Bytes::from(gathered));
                }
            }
            Some(_) => {
                let inf = b.inflight.pop_front().expect("front exists");
                self.backend_reply(bt, frame, raw, inf, Instant::now());
            }
            None => {}
        }
    }

    /// A subscription connection's part of request `seq` is answered: `raw` holds what it
    /// brings (the messages before the answer, and the answer unless it is a mirror's).
    pub fn sub_answered(&mut self, client: Token, seq: u64, mirror: bool, frame: Frame, raw: Bytes) {
        // A mirror's answer (or error) is not the client's reply.
        let (part, frame) = if mirror { (1, Frame::Null) } else { (0, frame) };
        self.deliver(client, seq, part, frame, Some(raw));
    }

    /// A message for subscribed client `ct`, sent after every reply owed so far; a client
    /// over the pubsub output limit is closed. Dropped when the client has left that
    /// subscription (its confirmation may already be out) or quit (+OK is its last reply).
    fn relay_message(&mut self, ct: Token, message: &Frame, raw: Bytes) {
        let Some(c) = self.clients.get_mut(&ct) else { return };
        if c.closing || !c.sub.as_ref().is_some_and(|s| s.carries(message)) {
            return;
        }
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
