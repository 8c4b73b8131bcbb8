//! The cluster bus: a mio event loop on the bus port. It accepts inbound links, keeps one
//! outbound link to every known node, decodes messages (a malformed one closes that link
//! only), hands them to `gossip::handle` under the cluster lock, and sends what comes back.
//! Every 100 ms it runs `gossip::cron` (pings, PFAIL, FAIL quorum) and reconnects links.

use super::bus_handle::{BusCmd, BusHandle};
use super::gossip;
use super::message::{self, Body, Message};
use super::node::flags;
use super::outbox::Out;
use super::state::ClusterState;
use crate::core::Core;
use crate::pubsub::PubSub;
use crate::repl::Replication;
use crossbeam_channel::Receiver;
use hashbrown::HashMap;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);
const FIRST_LINK: usize = 2;
/// A link whose unsent data exceeds this is dropped (its node is too slow or gone).
const MAX_SEND_BUFFER: usize = 64 * 1024 * 1024;

struct Link {
    stream: TcpStream,
    inbound: bool,
    /// For outbound links: the node it was opened to (its id may change after a handshake).
    node: Option<String>,
    connected: bool,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
    peer_ip: String,
    local_ip: String,
    interest: Interest,
    created: i64,
}

struct Bus {
    poll: Poll,
    listener: TcpListener,
    links: HashMap<usize, Link>,
    next_token: usize,
    core: Arc<Core>,
    repl: Arc<Replication>,
    /// Where PUBLISH messages relayed by other nodes are delivered.
    pubsub: Arc<PubSub>,
    cs: Arc<ClusterState>,
    rx: Receiver<BusCmd>,
    tick: u64,
    orphans: super::replica_migration::OrphanTracker,
}

/// Start the bus thread on an already bound listener (the cluster port).
pub fn start(
    (core, repl, pubsub): (Arc<Core>, Arc<Replication>, Arc<PubSub>),
    cs: Arc<ClusterState>,
    listener: std::net::TcpListener,
) -> io::Result<(BusHandle, std::thread::JoinHandle<()>)> {
    let poll = Poll::new()?;
    listener.set_nonblocking(true)?;
    let mut listener = TcpListener::from_std(listener);
    poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    let (tx, rx) = crossbeam_channel::unbounded();
    let mut bus = Bus {
        poll,
        listener,
        links: HashMap::new(),
        next_token: FIRST_LINK,
        core,
        repl,
        pubsub,
        cs,
        rx,
        tick: 0,
        orphans: Default::default(),
    };
    let handle = std::thread::Builder::new().name("slotbox-bus".into()).spawn(move || bus.run())?;
    Ok((BusHandle::new(tx, waker), handle))
}

impl Bus {
    fn run(&mut self) {
        let mut events = Events::with_capacity(256);
        let mut last_cron = Instant::now() - Duration::from_secs(1);
        while !self.core.is_shutting_down() {
            let _ = self.poll.poll(&mut events, Some(Duration::from_millis(100)));
            let ready: Vec<(usize, bool, bool)> = events
                .iter()
                .map(|e| (e.token().0, e.is_readable() || e.is_read_closed() || e.is_error(), e.is_writable()))
                .collect();
            if self.core.partition.active(crate::clock::unix_time_ms()) {
                self.cut_off(&ready);
            } else {
                for (token, readable, writable) in ready {
                    match Token(token) {
                        LISTENER => self.accept(),
                        WAKER => self.commands(),
                        _ => self.on_link(token, readable, writable),
                    }
                }
            }
            if last_cron.elapsed() >= Duration::from_millis(100) {
                last_cron = Instant::now();
                self.cron();
            }
        }
    }

    /// DEBUG PARTITION in force: no link survives, a new one is closed as soon as it is
    /// accepted, and whatever the node would send is dropped.
    fn cut_off(&mut self, ready: &[(usize, bool, bool)]) {
        let tokens: Vec<usize> = self.links.keys().copied().collect();
        for t in tokens {
            self.close(t);
        }
        for &(token, _, _) in ready {
            match Token(token) {
                LISTENER => while self.listener.accept().is_ok() {},
                WAKER => while self.rx.try_recv().is_ok() {},
                _ => {}
            }
        }
    }

    fn register(&mut self, mut stream: TcpStream, inbound: bool, node: Option<String>) {
        let token = self.next_token;
        self.next_token += 1;
        let interest = if inbound { Interest::READABLE } else { Interest::READABLE | Interest::WRITABLE };
        if self.poll.registry().register(&mut stream, Token(token), interest).is_err() {
            return;
        }
        let peer_ip = stream.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default();
        let local_ip = stream.local_addr().map(|a| a.ip().to_string()).unwrap_or_default();
        let link = Link {
            stream,
            inbound,
            node,
            connected: inbound,
            rbuf: Vec::new(),
            wbuf: Vec::new(),
            peer_ip,
            local_ip,
            interest,
            created: crate::clock::unix_time_ms(),
        };
        self.links.insert(token, link);
    }

    fn accept(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    self.register(stream, true, None);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => return,
            }
        }
    }

    fn commands(&mut self) {
        while let Ok(cmd) = self.rx.try_recv() {
            match cmd {
                BusCmd::Send(id, m) => self.send_to(&id, &m),
                BusCmd::Broadcast(m) => self.broadcast(&m),
                BusCmd::Wake => self.connect_missing(),
            }
        }
    }

    fn outbound_token(&self, id: &str) -> Option<usize> {
        self.links.iter().find(|(_, l)| !l.inbound && l.node.as_deref() == Some(id)).map(|(t, _)| *t)
    }

    fn send_to(&mut self, id: &str, m: &Message) {
        if let Some(t) = self.outbound_token(id) {
            let bytes = message::encode(m);
            self.queue(t, &bytes);
        }
    }

    fn broadcast(&mut self, m: &Message) {
        let bytes = message::encode(m);
        let tokens: Vec<usize> = {
            let g = self.cs.lock();
            self.links
                .iter()
                .filter(|(_, l)| {
                    !l.inbound
                        && l.node.as_ref().and_then(|id| g.nodes.get(id)).is_some_and(|n| !n.has(flags::HANDSHAKE))
                })
                .map(|(t, _)| *t)
                .collect()
        };
        for t in tokens {
            self.queue(t, &bytes);
        }
    }

    fn queue(&mut self, token: usize, bytes: &[u8]) {
        let Some(link) = self.links.get_mut(&token) else { return };
        link.wbuf.extend_from_slice(bytes);
        if link.wbuf.len() > MAX_SEND_BUFFER {
            self.close(token);
            return;
        }
        self.flush(token);
    }

    fn flush(&mut self, token: usize) {
        let Some(link) = self.links.get_mut(&token) else { return };
        let mut dead = false;
        if link.connected {
            while !link.wbuf.is_empty() {
                match link.stream.write(&link.wbuf) {
                    Ok(0) => {
                        dead = true;
                        break;
                    }
                    Ok(n) => {
                        link.wbuf.drain(..n);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => {
                        dead = true;
                        break;
                    }
                }
            }
        }
        if dead {
            self.close(token);
            return;
        }
        let want = if !link.connected || !link.wbuf.is_empty() {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        if want != link.interest {
            if self.poll.registry().reregister(&mut link.stream, Token(token), want).is_err() {
                self.close(token);
                return;
            }
            link.interest = want;
        }
    }

    fn close(&mut self, token: usize) {
        let Some(mut link) = self.links.remove(&token) else { return };
        let _ = self.poll.registry().deregister(&mut link.stream);
        if !link.inbound {
            if let Some(id) = &link.node {
                let mut g = self.cs.lock();
                if let Some(n) = g.nodes.get_mut(id) {
                    n.link_connected = false;
                }
            }
        }
    }

    fn on_link(&mut self, token: usize, readable: bool, writable: bool) {
        let Some(link) = self.links.get_mut(&token) else { return };
        if writable && !link.connected {
            match link.stream.peer_addr() {
                Ok(_) => {
                    link.connected = true;
                    link.local_ip = link.stream.local_addr().map(|a| a.ip().to_string()).unwrap_or_default();
                    if let Some(id) = link.node.clone() {
                        let mut g = self.cs.lock();
                        if let Some(n) = g.nodes.get_mut(&id) {
                            n.link_connected = true;
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
                Err(_) => {
                    self.close(token);
                    return;
                }
            }
        }
        if readable && self.read(token).is_err() {
            self.close(token);
            return;
        }
        self.flush(token);
    }

    /// Read and process every complete message; Err closes the link.
    fn read(&mut self, token: usize) -> Result<(), ()> {
        let mut eof = false;
        {
            let link = self.links.get_mut(&token).ok_or(())?;
            let mut chunk = [0u8; 16384];
            loop {
                match link.stream.read(&mut chunk) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => link.rbuf.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => return Err(()),
                }
            }
        }
        loop {
            let link = self.links.get_mut(&token).ok_or(())?;
            let decoded = match message::decode(&link.rbuf) {
                Ok(Some(x)) => x,
                Ok(None) => break,
                Err(e) => {
                    crate::log::warning(&format!("Closing cluster bus link from {}: {e}", link.peer_ip));
                    return Err(());
                }
            };
            let (msg, used) = decoded;
            link.rbuf.drain(..used);
            if link.inbound && link.node.is_none() {
                link.node = Some(msg.header.sender.clone());
            }
            self.process(token, msg);
        }
        if eof {
            Err(())
        } else {
            Ok(())
        }
    }

    fn process(&mut self, token: usize, msg: Message) {
        let Some(link) = self.links.get(&token) else { return };
        let (peer_ip, local_ip, link_node, inbound) =
            (link.peer_ip.clone(), link.local_ip.clone(), link.node.clone(), link.inbound);
        let sender = msg.header.sender.clone();
        let is_meet = matches!(msg.body, Body::Meet(_));
        let now = crate::clock::unix_time_ms();
        let outs = {
            let mut g = self.cs.lock();
            if is_meet && inbound && g.me().ip.is_empty() {
                // Like Redis, learn our own address from the first MEET we receive.
                g.me_mut().ip = local_ip;
                g.dirty = true;
            }
            g.me_mut().repl_offset = self.repl.offset() as i64;
            let outs =
                gossip::handle(&self.cs, &mut g, msg, &peer_ip, if inbound { None } else { link_node.as_deref() }, now);
            self.cs.commit(&mut g);
            let until = if g.me().is_master() { g.mf_paused_until } else { 0 };
            self.core.pause.set_failover_until(until, now);
            // An outbound handshake link now knows its node's real id.
            if let Some(temp) = &link_node {
                if !g.nodes.contains_key(temp) && g.nodes.contains_key(&sender) {
                    if let Some(n) = g.nodes.get_mut(&sender) {
                        n.link_connected = true;
                    }
                    if let Some(l) = self.links.get_mut(&token) {
                        l.node = Some(sender.clone());
                    }
                }
            }
            outs
        };
        self.execute(token, outs);
        self.cs.sync_replication(&self.repl);
    }

    fn execute(&mut self, token: usize, outs: Vec<Out>) {
        for o in outs {
            match o {
                Out::Reply(m) => {
                    let bytes = message::encode(&m);
                    self.queue(token, &bytes);
                }
                Out::To(id, m) => self.send_to(&id, &m),
                Out::Broadcast(m) => self.broadcast(&m),
                Out::Deliver { channel, message, shard } => {
                    let (c, m) = (bytes::Bytes::from(channel), bytes::Bytes::from(message));
                    if shard {
                        self.pubsub.spublish(&self.core, &c, &m);
                    } else {
                        self.pubsub.publish(&self.core, &c, &m);
                    }
                }
            }
        }
    }

    /// Open outbound links to nodes that have none; drop links to forgotten nodes.
    fn connect_missing(&mut self) {
        let targets: Vec<(String, String, u16)> = {
            let g = self.cs.lock();
            g.nodes
                .values()
                .filter(|n| !n.has(flags::MYSELF) && !n.ip.is_empty() && self.outbound_token(&n.id).is_none())
                .map(|n| (n.id.clone(), n.ip.clone(), n.cport))
                .collect()
        };
        for (id, ip, cport) in targets {
            let Ok(addr) = format!("{ip}:{cport}").parse::<SocketAddr>() else { continue };
            if let Ok(stream) = TcpStream::connect(addr) {
                let _ = stream.set_nodelay(true);
                self.register(stream, false, Some(id));
            }
        }
        let stale: Vec<usize> = {
            let g = self.cs.lock();
            let now = crate::clock::unix_time_ms();
            let timeout = self.cs.config.node_timeout;
            self.links
                .iter()
                .filter(|(_, l)| {
                    let gone = !l.inbound && l.node.as_ref().is_some_and(|id| !g.nodes.contains_key(id));
                    // A connect that never completes is retried after node-timeout.
                    let stuck = !l.connected && now - l.created > timeout.max(1000);
                    gone || stuck
                })
                .map(|(t, _)| *t)
                .collect()
        };
        for t in stale {
            self.close(t);
        }
    }

    fn report_links(&self) {
        let infos = self
            .links
            .values()
            .filter(|l| l.connected)
            .map(|l| super::state::LinkInfo {
                inbound: l.inbound,
                node: l.node.clone().unwrap_or_default(),
                create_time: l.created,
                events: if l.wbuf.is_empty() { "r".into() } else { "rw".into() },
                send_buffer_allocated: l.wbuf.capacity(),
                send_buffer_used: l.wbuf.len(),
            })
            .collect();
        *self.cs.links.lock() = infos;
    }

    fn cron(&mut self) {
        self.tick += 1;
        let cut = self.core.partition.active(crate::clock::unix_time_ms());
        if cut {
            self.cut_off(&[]);
        }
        self.report_links();
        if !cut {
            self.connect_missing();
        }
        let now = crate::clock::unix_time_ms();
        let paused_until = self.core.pause.failover_until();
        {
            let mut g = self.cs.lock();
            if g.mf_paused_until != 0 && g.mf_paused_until == paused_until {
                g.mf_pause_published = true;
            }
        }
        let repl = &self.repl;
        let my_offset = repl.offset() as i64;
        let data_age = match repl.master.lock().as_ref() {
            Some(l) if !l.is_up() => now - l.down_since.load(std::sync::atomic::Ordering::Relaxed),
            _ => 0,
        };
        let migration = super::replica_migration::MigrationSettings::read(&self.core);
        let outs = {
            let mut g = self.cs.lock();
            g.me_mut().repl_offset = my_offset;
            g.allow_replica_migration = migration.allow;
            let mut outs = gossip::cron(&self.cs, &mut g, now, self.tick, data_age, my_offset);
            outs.extend(super::replica_migration::cron(&mut g, &mut self.orphans, migration, now));
            self.cs.commit(&mut g);
            let until = if g.me().is_master() { g.mf_paused_until } else { 0 };
            self.core.pause.set_failover_until(until, now);
            outs
        };
        if !cut {
            self.execute(usize::MAX, outs);
        }
        self.cs.sync_replication(&self.repl);
    }
}
