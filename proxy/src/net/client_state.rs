//! What ties a client to backend connections of its own, besides request and reply: its
//! transaction ([`TxState`]: the WATCH / MULTI pin), its subscription ([`SubState`]) and the
//! blocking command it waits in ([`Blocked`]). Data, with the small methods that keep it
//! consistent; what the proxy does with it is in `tx`, `pubsub` (with `mirror`) and `blocking`.

use super::backend::encode_request;
use bytes::Bytes;
use mio::Token;
use slotbox_protocol::Frame;
use std::collections::HashSet;
use std::time::Duration;

/// The dedicated connection a client's WATCH / MULTI runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pin {
    pub backend: Token,
    pub pool: usize,
    pub server: usize,
}

/// A client's transaction state.
#[derive(Debug, Default)]
pub struct TxState {
    /// Between MULTI and EXEC / DISCARD.
    pub in_multi: bool,
    /// A command was refused inside MULTI: EXEC answers EXECABORT.
    pub aborted: bool,
    /// The connection holding the client's WATCHes died: EXEC must not run (null reply).
    pub watch_lost: bool,
    /// Set by WATCH, or by the first keyed command inside MULTI (MULTI is sent then).
    pub pin: Option<Pin>,
    /// The connection the last EXEC went out on, until it is idle again: the client's next
    /// commands to that server follow it there, so a pipelined command after EXEC cannot
    /// overtake the transaction on another connection.
    pub draining: Option<Pin>,
    /// A pin (by connection) that has answered none of the client's requests yet, so a
    /// MOVED for its first one can move the whole transaction (see `tx_repin`).
    pub fresh: Option<Fresh>,
    /// Commands queued since MULTI (forwarded and local).
    queued: usize,
    /// Results of proxy-local commands, by position in EXEC's reply.
    locals: Vec<(usize, Frame)>,
}

impl TxState {
    /// Out of MULTI, nothing queued.
    pub fn reset_multi(&mut self) {
        self.in_multi = false;
        self.aborted = false;
        self.queued = 0;
        self.locals.clear();
    }

    /// A command inside MULTI was forwarded to the pin.
    pub fn queue_forwarded(&mut self) {
        self.queued += 1;
    }

    /// A command inside MULTI was answered by the proxy: `result` goes into EXEC's reply at
    /// its position.
    pub fn queue_local(&mut self, result: Frame) {
        self.locals.push((self.queued, result));
        self.queued += 1;
    }

    /// The proxy-answered results for EXEC's reply, by position.
    pub fn take_locals(&mut self) -> Vec<(usize, Frame)> {
        std::mem::take(&mut self.locals)
    }
}

/// A new pin whose requests are not answered yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fresh {
    pub backend: Token,
    /// It began with MULTI (sent by the proxy) rather than with WATCH.
    pub multi_first: bool,
}

/// What a client waits for while blocked: the dedicated connection and its reply's place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked {
    pub backend: Token,
    pub seq: u64,
    /// The command's own timeout (see `block_timeout`), kept for a redirected retry.
    pub grace: Option<Duration>,
}

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
    pub fn new(backend: Token, pool: usize, server: usize) -> SubState {
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

    /// Whether `message` is for one of these subscriptions (a backend may send one for a
    /// subscription it has just confirmed dropping).
    pub fn carries(&self, message: &Frame) -> bool {
        let (Frame::Push(items) | Frame::Array(items)) = message else { return false };
        let set = match items.first().and_then(Frame::as_bytes) {
            Some(b"message") => &self.channels,
            Some(b"pmessage") => &self.patterns,
            _ => &self.shards,
        };
        items.get(1).and_then(Frame::as_bytes).is_some_and(|name| set.contains(name))
    }

    /// `PSUBSCRIBE` with every pattern and the number of frames answering it; `None` without
    /// patterns.
    pub fn psubscribe_all(&self) -> Option<(Bytes, usize)> {
        if self.patterns.is_empty() {
            return None;
        }
        let mut args = vec![Bytes::from_static(b"PSUBSCRIBE")];
        args.extend(self.patterns.iter().cloned());
        Some((Bytes::from(encode_request(&args)), self.patterns.len()))
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
    fn late_messages_are_told_from_current_ones() {
        let b = |s: &'static str| Frame::bulk_static(s);
        let mut s = SubState::new(Token(1), 0, 0);
        s.apply("subscribe", &args(&["subscribe", "a"]));
        s.apply("psubscribe", &args(&["psubscribe", "n*"]));
        assert!(s.carries(&Frame::Array(vec![b("message"), b("a"), b("hi")])));
        assert!(s.carries(&Frame::Push(vec![b("pmessage"), b("n*"), b("news"), b("hi")])));
        assert!(!s.carries(&Frame::Array(vec![b("message"), b("n*"), b("hi")])));
        assert!(!s.carries(&Frame::Array(vec![b("smessage"), b("a"), b("hi")])));
        s.apply("punsubscribe", &args(&["punsubscribe"]));
        assert!(!s.carries(&Frame::Push(vec![b("pmessage"), b("n*"), b("news"), b("hi")])));
    }
}
