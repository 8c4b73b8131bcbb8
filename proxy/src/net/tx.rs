//! Transactions through the proxy, with Redis semantics. MULTI is answered here and the
//! transaction's commands wait client-side until the first keyed one picks a backend (or
//! WATCH already did); from then on they are forwarded on a backend connection dedicated to
//! the client until EXEC / DISCARD / UNWATCH. A command the proxy has to refuse inside MULTI
//! (another backend, unknown, wrong arity) aborts the transaction as Redis's EXECABORT does;
//! proxy-local commands (PING, ECHO, CLIENT ...) are answered `+QUEUED` and their results
//! spliced into EXEC's reply. In a cluster pool, when the first request on a new pin is
//! answered MOVED (the proxy's slot map was stale), nothing has run yet, so the transaction
//! moves whole to the node named (`tx_repin`); a MOVED later on reaches the client, whose
//! EXEC then fails as it would against Redis. Routing of single commands lives in `dispatch`.

use super::backend::{encode_request, Role, Waiter};
use super::client::Slot;
use super::client_state::{Fresh, Pin};
use super::redirect::Redirect;
use super::request::{info_text, is_subscribe_family, routing_keys, spec_for, unknown, unsupported};
use super::worker::Worker;
use crate::local::{self, Local, PoolView};
use bytes::Bytes;
use mio::Token;
use slotbox_protocol::command::{self, flags};
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;

const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";
const NOT_IN_MULTI: &str = "ERR Command not allowed inside a transaction";

impl Worker {
    /// MULTI / EXEC / DISCARD / WATCH / UNWATCH, and every command while in MULTI (but
    /// QUIT). False when the request is none of the transaction's business.
    pub fn tx_request(&mut self, ct: Token, name: &str, args: &[Bytes]) -> bool {
        let Some(c) = self.clients.get(&ct) else {
            return true;
        };
        let in_multi = c.tx.in_multi;
        let is_tx = matches!(name, "multi" | "exec" | "discard" | "watch") || (name == "unwatch" && !in_multi);
        if !(is_tx || in_multi && name != "quit") {
            return false;
        }
        if is_tx {
            let spec = command::lookup(&args[0]).expect("transaction commands are in the table");
            if !spec.arity_ok(args.len()) {
                self.tx_refuse(ct, Frame::error(errors::wrong_arity(name)));
                return true;
            }
        }
        match name {
            "multi" => self.tx_multi(ct),
            "exec" => self.tx_exec(ct),
            "discard" => self.tx_discard(ct),
            "watch" => self.tx_watch(ct, args),
            "unwatch" if !in_multi => self.tx_unwatch(ct),
            _ => self.tx_queue(ct, name, args),
        }
        true
    }

    fn reply(&mut self, ct: Token, f: Frame) {
        if let Some(c) = self.clients.get_mut(&ct) {
            if f.is_error() {
                crate::stats::incr(&self.pools[c.pool].shared.stats.errors);
            }
            c.push_frame(&f);
            self.dirty_clients.push(ct);
        }
    }

    /// An error reply that aborts the transaction when inside MULTI.
    fn tx_refuse(&mut self, ct: Token, f: Frame) {
        if let Some(c) = self.clients.get_mut(&ct) {
            if c.tx.in_multi {
                c.tx.aborted = true;
            }
        }
        self.reply(ct, f);
    }

    /// Forward `args` on the client's pin, its reply owed in `slot`.
    fn tx_forward(&mut self, ct: Token, pin: Pin, args: &[Bytes], slot: Slot) {
        let Some(c) = self.clients.get_mut(&ct) else { return };
        let seq = c.push(slot);
        let request = Bytes::from(encode_request(args));
        let waiter = Waiter::Client { client: ct, seq, part: 0, request: request.clone(), redirects: 0 };
        self.send_on(pin.backend, &request, waiter);
    }

    fn tx_multi(&mut self, ct: Token) {
        let c = self.clients.get_mut(&ct).expect("client exists");
        if c.tx.in_multi {
            return self.reply(ct, Frame::error_static("ERR MULTI calls can not be nested"));
        }
        c.tx.reset_multi();
        c.tx.in_multi = true;
        match c.tx.pin {
            Some(pin) => self.tx_forward(ct, pin, &[Bytes::from_static(b"MULTI")], Slot::Waiting),
            None => self.reply(ct, Frame::ok()),
        }
    }

    fn tx_exec(&mut self, ct: Token) {
        let c = self.clients.get_mut(&ct).expect("client exists");
        if !c.tx.in_multi {
            return self.reply(ct, Frame::error_static("ERR EXEC without MULTI"));
        }
        let (aborted, lost, pin) = (c.tx.aborted, c.tx.watch_lost, c.tx.pin.take());
        let locals = c.tx.take_locals();
        c.tx.reset_multi();
        c.tx.watch_lost = false;
        match pin {
            Some(pin) if aborted => {
                self.send_on(
                    pin.backend,
                    &Bytes::from(encode_request(&[Bytes::from_static(b"DISCARD")])),
                    Waiter::Discard,
                );
                self.release(pin.backend);
                self.reply(ct, Frame::error_static(EXECABORT));
            }
            Some(pin) => {
                self.tx_forward(ct, pin, &[Bytes::from_static(b"EXEC")], Slot::Exec(locals));
                self.release(pin.backend);
                if let Some(c) = self.clients.get_mut(&ct) {
                    c.tx.draining = Some(pin);
                }
            }
            None if aborted => self.reply(ct, Frame::error_static(EXECABORT)),
            None if lost => self.reply(ct, Frame::NullArray),
            None => self.reply(ct, Frame::Array(locals.into_iter().map(|(_, f)| f).collect())),
        }
    }

    fn tx_discard(&mut self, ct: Token) {
        let c = self.clients.get_mut(&ct).expect("client exists");
        if !c.tx.in_multi {
            return self.reply(ct, Frame::error_static("ERR DISCARD without MULTI"));
        }
        c.tx.reset_multi();
        c.tx.watch_lost = false;
        match c.tx.pin.take() {
            Some(pin) => {
                self.tx_forward(ct, pin, &[Bytes::from_static(b"DISCARD")], Slot::Waiting);
                self.release(pin.backend);
            }
            None => self.reply(ct, Frame::ok()),
        }
    }

    fn tx_unwatch(&mut self, ct: Token) {
        let c = self.clients.get_mut(&ct).expect("client exists");
        c.tx.watch_lost = false;
        match c.tx.pin.take() {
            Some(pin) => {
                self.tx_forward(ct, pin, &[Bytes::from_static(b"UNWATCH")], Slot::Waiting);
                self.release(pin.backend);
            }
            None => self.reply(ct, Frame::ok()),
        }
    }

    fn tx_watch(&mut self, ct: Token, args: &[Bytes]) {
        let c = &self.clients[&ct];
        if c.tx.in_multi {
            return self.reply(ct, Frame::error_static("ERR WATCH inside MULTI is not allowed"));
        }
        if c.tx.watch_lost {
            // EXEC fails whatever happens now: nothing to watch on a backend.
            return self.reply(ct, Frame::ok());
        }
        let keys: Vec<usize> = (1..args.len()).collect();
        match self.tx_target(ct, "watch", args, &keys) {
            Ok(pin) => {
                let c = self.clients.get_mut(&ct).expect("client exists");
                c.tx.pin = Some(pin);
                c.tx.fresh = Some(Fresh { backend: pin.backend, multi_first: false });
                self.tx_forward(ct, pin, args, Slot::Waiting);
            }
            Err(f) => self.reply(ct, f),
        }
    }

    /// The pin for a command with `keys`: the client's pin if the keys live there, else a
    /// new dedicated connection (opened here, but not yet recorded as the pin).
    fn tx_target(&mut self, ct: Token, name: &str, args: &[Bytes], keys: &[usize]) -> Result<Pin, Frame> {
        let (pi, pin) = {
            let c = &self.clients[&ct];
            (c.pool, c.tx.pin)
        };
        let target = self.common_target(pi, name, args, keys)?;
        let server = target.server.ok_or_else(|| self.no_backend(pi))?;
        match pin {
            Some(p) if p.pool == pi && p.server == server => Ok(p),
            Some(_) if self.pools[pi].slots.is_some() => Err(Frame::error_static(errors::CROSSSLOT)),
            Some(_) => Err(Frame::error_static(
                "ERR keys in this transaction map to different backends; use a hash tag to keep them on one",
            )),
            None if self.draining_conn(ct, pi, server).is_some() => {
                // Take the EXEC's connection back rather than a new one: the commands stay
                // behind that EXEC.
                let backend = self.draining_conn(ct, pi, server).expect("checked");
                if let Some(b) = self.backends.get_mut(&backend) {
                    b.owner = Some(ct);
                    b.retire = false;
                }
                if let Some(c) = self.clients.get_mut(&ct) {
                    c.tx.draining = None;
                }
                Ok(Pin { backend, pool: pi, server })
            }
            None => match self.dedicated_conn(ct, pi, server, Role::Tx) {
                Ok(backend) => Ok(Pin { backend, pool: pi, server }),
                Err(e) => {
                    self.pools[pi].on_failure(server, std::time::Instant::now());
                    Err(Frame::error(format!("ERR {e}")))
                }
            },
        }
    }

    /// A command inside MULTI.
    fn tx_queue(&mut self, ct: Token, name: &str, args: &[Bytes]) {
        if name == "unwatch" {
            let pin = self.clients[&ct].tx.pin;
            return match pin {
                Some(pin) => self.tx_queued_forward(ct, pin, args),
                None => self.tx_queued_local(ct, Frame::ok()),
            };
        }
        let Some(spec) = command::lookup(&args[0]) else {
            return self.tx_refuse(ct, unknown(args));
        };
        if !spec.arity_ok(args.len()) {
            return self.tx_refuse(ct, Frame::error(errors::wrong_arity(name)));
        }
        if spec.has(flags::NO_MULTI) || is_subscribe_family(name) || name == "reset" {
            return self.tx_refuse(ct, Frame::error_static(NOT_IN_MULTI));
        }
        if let Some(result) = self.local_result(ct, name, args) {
            return self.tx_queued_local(ct, result);
        }
        let spec = spec_for(spec, args);
        let keys = routing_keys(spec, name, args);
        if keys.is_empty() {
            return self.tx_refuse(ct, unsupported(name));
        }
        if self.clients[&ct].tx.watch_lost {
            // EXEC will answer null: check the command routes, but run nothing.
            let pi = self.clients[&ct].pool;
            return match self.common_target(pi, name, args, &keys) {
                Ok(_) => self.reply(ct, Frame::queued()),
                Err(f) => self.tx_refuse(ct, f),
            };
        }
        let had_pin = self.clients[&ct].tx.pin.is_some();
        match self.tx_target(ct, name, args, &keys) {
            Ok(pin) => {
                if !had_pin {
                    let c = self.clients.get_mut(&ct).expect("client exists");
                    c.tx.pin = Some(pin);
                    c.tx.fresh = Some(Fresh { backend: pin.backend, multi_first: true });
                    let multi = Bytes::from(encode_request(&[Bytes::from_static(b"MULTI")]));
                    self.send_on(pin.backend, &multi, Waiter::Discard);
                }
                self.tx_queued_forward(ct, pin, args);
            }
            Err(f) => self.tx_refuse(ct, f),
        }
    }

    fn tx_queued_forward(&mut self, ct: Token, pin: Pin, args: &[Bytes]) {
        self.clients.get_mut(&ct).expect("client exists").tx.queue_forwarded();
        self.tx_forward(ct, pin, args, Slot::Waiting);
    }

    fn tx_queued_local(&mut self, ct: Token, result: Frame) {
        self.clients.get_mut(&ct).expect("client exists").tx.queue_local(result);
        self.reply(ct, Frame::queued());
    }

    /// The result of a proxy-local command (PING, ECHO, CLIENT ...), or `None` for one
    /// that is forwarded.
    fn local_result(&mut self, ct: Token, name: &str, args: &[Bytes]) -> Option<Frame> {
        let c = self.clients.get_mut(&ct)?;
        let pool = &self.pools[c.pool];
        let info = || info_text(pool);
        let view = PoolView { auth: pool.cfg().redis_auth.as_deref(), info: &info };
        match local::handle(name, args, &mut c.session, &view) {
            Local::Reply(f) => Some(f),
            Local::Quit | Local::Forward => None,
        }
    }

    /// A reply on `bt` that moves nothing: the pin there is no longer fresh.
    pub fn tx_answered(&mut self, ct: Token, bt: Token) {
        if let Some(c) = self.clients.get_mut(&ct) {
            if c.tx.fresh.is_some_and(|f| f.backend == bt) {
                c.tx.fresh = None;
            }
        }
    }

    /// The first request on a fresh pin `bt` was answered MOVED (the slot map was stale):
    /// nothing of the transaction has run or been answered, so it moves whole to the node
    /// named, on a new connection: MULTI if the proxy had sent one, the redirected request,
    /// then every request still in flight on `bt` (EXEC included), each owed the same reply
    /// as before. False (nothing done) when it cannot move.
    pub(super) fn tx_repin(&mut self, pi: usize, to: &Redirect, ct: Token, bt: Token, first: Waiter) -> bool {
        let Some(fresh) = self.clients.get(&ct).and_then(|c| c.tx.fresh).filter(|f| f.backend == bt) else {
            return false;
        };
        let Some(old) = self.backends.get(&bt) else { return false };
        if to.ask || !old.inflight.iter().all(|i| matches!(i.waiter, Waiter::Client { .. })) {
            return false;
        }
        let server = self.learn_redirect(pi, to);
        let Ok(backend) = self.dedicated_conn(ct, pi, server, Role::Tx) else {
            self.pools[pi].on_failure(server, std::time::Instant::now());
            return false;
        };
        let rest: Vec<Waiter> = self
            .backends
            .get_mut(&bt)
            .map(|b| std::mem::take(&mut b.inflight).into_iter().map(|i| i.waiter).collect())
            .unwrap_or_default();
        self.close_backend(bt);
        if fresh.multi_first {
            let multi = Bytes::from(encode_request(&[Bytes::from_static(b"MULTI")]));
            self.send_on(backend, &multi, Waiter::Discard);
        }
        for w in std::iter::once(first).chain(rest) {
            if let Waiter::Client { client, seq, part, request, redirects } = w {
                let waiter = Waiter::Client { client, seq, part, request: request.clone(), redirects: redirects + 1 };
                self.send_on(backend, &request, waiter);
            }
        }
        let pin = Pin { backend, pool: pi, server };
        let c = self.clients.get_mut(&ct).expect("client checked above");
        c.tx.fresh = Some(Fresh { backend, ..fresh });
        if c.tx.pin.is_some_and(|p| p.backend == bt) {
            c.tx.pin = Some(pin);
        } else if c.tx.draining.is_some_and(|p| p.backend == bt) {
            // EXEC (or DISCARD) went out already: the new connection drains like the old.
            c.tx.draining = Some(pin);
            self.release(backend);
        } else {
            // UNWATCH or DISCARD let go of it.
            self.release(backend);
        }
        true
    }

    /// The client's pinned connection died: a transaction in progress is aborted, watched
    /// keys can no longer be trusted.
    pub fn tx_pin_lost(&mut self, ct: Token, bt: Token) {
        let Some(c) = self.clients.get_mut(&ct) else { return };
        if c.tx.pin.map(|p| p.backend) != Some(bt) {
            return;
        }
        c.tx.pin = None;
        if c.tx.in_multi {
            c.tx.aborted = true;
        } else {
            c.tx.watch_lost = true;
        }
    }
}
