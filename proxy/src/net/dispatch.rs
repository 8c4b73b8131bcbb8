//! Where a worker's requests go and where its replies come back. A decoded request is
//! checked (AUTH, RESET), offered to `pubsub` and `tx`, answered here when the proxy can
//! (`crate::local`), or routed: fanned out over backends and merged (`crate::fanout`), sent
//! to its keys' backend (a replica for reads, when the pool says so), or handed to
//! `blocking`. A backend's reply goes to what waited for it: a client (following a redirect,
//! see `redirect`), a slot map refresh, a ROLE check (`role_check`), a subscription.

use super::backend::{encode_request, Inflight, Waiter};
use super::client::Slot;
use super::redirect::{parse_redirect, Redirect, MAX_REDIRECTS};
use super::replica_link;
use super::request::{info_text, routing_keys, spec_for, unknown, unsupported};
use super::worker::Worker;
use crate::fanout::{self, Merge};
use crate::local::{self, Local, PoolView};
use crate::router::parse_cluster_slots;
use crate::stats::incr;
use bytes::Bytes;
use mio::Token;
use slotbox_protocol::command::{self, flags};
use slotbox_protocol::{Frame, Protocol};
use std::sync::atomic::Ordering;
use std::time::Instant;

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
        c.time_request(crate::cmdstats::index_of(&args[0]));
        if local::auth_required(&name, &c.session, pool.cfg().redis_auth.as_deref()) {
            return self.reply_error(ct, Frame::error_static(slotbox_protocol::frame::errors::NOAUTH));
        }
        if name == "reset" && args.len() == 1 {
            return self.reset_client(ct);
        }
        let pi = c.pool;
        self.cache_note_write(pi, &args);
        let Some(c) = self.clients.get_mut(&ct) else { return };
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
        if name == "script" {
            return self.script_fanout(ct, args);
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
        if keys.len() == 1 && spec.has(flags::READONLY) && self.cache_read(ct, pi, name, args, keys[0], first) {
            return Ok(());
        }
        let target = if spec.has(flags::READONLY) { self.pools[pi].read_target(first) } else { first };
        let seq = self.push_slot(ct, Slot::Waiting);
        self.send(pi, target, ct, proto, seq, 0, Bytes::from(encode_request(args)), 0);
        Ok(())
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
                match parse_cluster_slots(&frame) {
                    Some(ranges) => {
                        p.apply_slots(&ranges);
                        crate::plog!(
                            crate::log::INFO,
                            "pool '{}': slot map refreshed from '{}': {} ranges",
                            p.shared.cfg.name,
                            b.stats.name,
                            ranges.len()
                        );
                    }
                    None => crate::plog!(
                        crate::log::WARN,
                        "pool '{}': CLUSTER SLOTS from '{}' not understood",
                        p.shared.cfg.name,
                        b.stats.name
                    ),
                }
            }
            Waiter::Role => self.link_checked(pi, server, replica_link::parse_role(&frame), now),
            Waiter::Sub { client, seq, mirror, .. } => self.sub_answered(client, seq, mirror, frame, raw),
            Waiter::SubQuiet { .. } => {}
            Waiter::TrackingOn => self.tracking_answered(bt, &frame),
            Waiter::Fill { .. } => self.fill_answered(bt, frame, raw, inflight, now),
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
}
