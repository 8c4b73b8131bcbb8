//! The sentinel's one event loop: the listening sockets, client connections and the outgoing
//! links in one mio poll, the 100 ms timer, then publishing the events, flushing outputs and
//! rewriting the config file when the state changed.

use super::client::{Client, Input};
use super::commands::{self, Ctx};
use super::periodic::LINK_TOKEN_BASE;
use super::state::Sentinel;
use crate::listen::Listeners;
use mio::{Events, Poll, Token};
use slotbox_protocol::frame::Frame;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const MAX_LISTENERS: usize = 64;

pub struct EventLoop {
    s: Sentinel,
    poll: Poll,
    listeners: Listeners,
    clients: HashMap<Token, Client>,
    next_client: usize,
    shutdown: bool,
}

impl EventLoop {
    pub fn new(s: Sentinel) -> std::io::Result<EventLoop> {
        let poll = Poll::new()?;
        let listeners = Listeners::bind(poll.registry().try_clone()?, &s.settings.bind, s.settings.port)?;
        Ok(EventLoop { s, poll, listeners, clients: HashMap::new(), next_client: MAX_LISTENERS, shutdown: false })
    }

    pub fn addrs(&self) -> Vec<std::net::SocketAddr> {
        self.listeners.addrs()
    }

    pub fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let mut next_tick = Instant::now();
        while !self.shutdown {
            let timeout = next_tick.saturating_duration_since(Instant::now());
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    crate::log::warning(&format!("poll failed: {e}"));
                    return;
                }
            }
            for ev in events.iter() {
                let t = ev.token().0;
                if t < MAX_LISTENERS {
                    self.accept(t);
                } else if t >= LINK_TOKEN_BASE {
                    let rel = t - LINK_TOKEN_BASE;
                    let reg = self.poll.registry();
                    self.s.on_link_event(reg, (rel / 2) as u64, rel % 2 == 1, ev.is_writable() || ev.is_error());
                } else {
                    self.on_client(ev.token());
                }
            }
            if Instant::now() >= next_tick {
                self.s.tick(self.poll.registry());
                // Redis varies its timer frequency (hz 10..19) so sentinels do not act in step.
                let ms = 1000 / (10 + crate::rand::below(10) as u64);
                next_tick = Instant::now() + Duration::from_millis(ms);
            }
            self.after_events();
        }
        let _ = super::rewrite::flush(&self.s);
        self.listeners.close();
    }

    fn accept(&mut self, t: usize) {
        let (conns, err) = self.listeners.accept(t);
        if let Some(e) = err {
            crate::log::warning(&format!("Accepting client connection: {e}"));
        }
        for (stream, addr) in conns {
            let token = Token(self.next_client);
            self.next_client += 1;
            if self.next_client >= LINK_TOKEN_BASE {
                self.next_client = MAX_LISTENERS;
            }
            self.s.total_connections += 1;
            let id = self.s.total_connections;
            match Client::new(id, stream, addr, token, self.poll.registry()) {
                Ok(c) => {
                    self.clients.insert(token, c);
                }
                Err(e) => crate::log::warning(&format!("Error registering client: {e}")),
            }
        }
    }

    fn on_client(&mut self, token: Token) {
        let Some(mut c) = self.clients.remove(&token) else { return };
        let reqs = match c.read() {
            Input::Closed => {
                c.deregister(self.poll.registry());
                return;
            }
            Input::Requests(r) => r,
        };
        let mut kill = Vec::new();
        for args in reqs {
            if c.close_after_reply {
                break;
            }
            self.s.total_commands += 1;
            let mut ctx = Ctx { s: &mut self.s, others: &self.clients, shutdown: &mut self.shutdown, kill: &mut kill };
            let reply = commands::execute(&mut ctx, &mut c, args);
            if !matches!(reply, Frame::Many(ref v) if v.is_empty()) {
                c.reply(&reply);
            }
        }
        self.clients.insert(token, c);
        for id in kill {
            let victim = self.clients.iter().find(|(_, c)| c.id == id).map(|(t, _)| *t);
            if let Some(t) = victim {
                if let Some(mut v) = self.clients.remove(&t) {
                    v.deregister(self.poll.registry());
                }
            }
        }
    }

    fn after_events(&mut self) {
        let reg = self.poll.registry();
        self.s.flush_links(reg);
        for (channel, msg) in std::mem::take(&mut self.s.outbox) {
            commands::publish_event(&mut self.clients, &channel, &msg);
        }
        let mut gone = Vec::new();
        for (t, c) in self.clients.iter_mut() {
            if !c.flush(reg) {
                gone.push(*t);
            }
        }
        for t in gone {
            if let Some(mut c) = self.clients.remove(&t) {
                c.deregister(reg);
            }
        }
        if self.s.config_dirty {
            self.s.config_dirty = false;
            if self.s.settings.config_file.is_some() {
                if let Err(e) = super::rewrite::flush(&self.s) {
                    crate::log::warning(&format!(
                        "WARNING: Sentinel was not able to save the new configuration on disk!!!: {e}"
                    ));
                }
            }
        }
    }
}
