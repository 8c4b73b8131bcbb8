//! One event-loop thread: owns its connections, receives new ones (and kill requests) over a
//! channel with a `mio::Waker`, and runs each ready connection. Idle clients past `timeout`
//! are closed by the loop's periodic tick.

use super::conn::Conn;
use crate::client::ClientInfo;
use crate::commands::session::ClientState;
use crate::commands::Held;
use crate::mailbox::WorkerMsg;
use crate::shared::Shared;
use crossbeam_channel::Receiver;
use mio::{Events, Interest, Poll, Token};
use slotbox_protocol::balance::Balance;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const WAKER: Token = Token(usize::MAX);

/// What the event loops of one server share among themselves (nothing else of the server
/// sees it): the hot-slot owners and the channels that hand a connection to another loop.
pub struct Loops {
    pub hot_slots: super::affinity::HotSlots,
    pub adopt: Vec<crossbeam_channel::Sender<Box<Conn>>>,
    /// Each loop's CPU load (per mille of a core, `slotbox_protocol::balance`).
    pub loads: Arc<Vec<std::sync::atomic::AtomicU32>>,
}

pub struct Worker {
    pub index: usize,
    pub poll: Poll,
    pub rx: Receiver<WorkerMsg>,
    /// Connections handed over by another loop (hot-slot affinity).
    adopt_rx: Receiver<Box<Conn>>,
    loops: Arc<Loops>,
    /// Gathers a light load on one loop and spreads a heavy one (`slotbox_protocol::balance`).
    balance: Balance,
    pub shared: Arc<Shared>,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    by_id: hashbrown::HashMap<u64, usize>,
    /// Slots of connections blocked with a deadline (checked every loop turn).
    timed_blocks: Vec<usize>,
    /// Slots of connections in WAIT.
    waits: Vec<usize>,
    /// Connections whose socket may still hold unread data (edge-triggered readiness).
    ready: Vec<usize>,
    /// Connections holding a write until the write pause ends.
    paused: Vec<usize>,
    /// Connections whose replies wait for the AOF: its write, and with `appendfsync always`
    /// an fsync covering this thread's writes.
    deferred: Vec<usize>,
    /// Connections whose replies are written once every event of the loop's turn has been
    /// read and run (as Redis writes before it sleeps): the peer gets them in one burst,
    /// instead of being woken for each connection's replies between the others' commands.
    later: Vec<usize>,
    /// The loop is reading and running this turn's events (replies wait in `later`).
    in_turn: bool,
    /// An fsync was requested from the AOF syncer, which wakes this loop when it is done.
    fsync_wait: bool,
    last_getack: Instant,
    /// Socket reads land here first (allocated once; see `Conn::on_readable`).
    scratch: Box<[u8]>,
}

impl Worker {
    pub fn new(
        index: usize,
        poll: Poll,
        (rx, adopt_rx): (Receiver<WorkerMsg>, Receiver<Box<Conn>>),
        shared: Arc<Shared>,
        loops: Arc<Loops>,
    ) -> Self {
        Worker {
            index,
            poll,
            rx,
            adopt_rx,
            balance: Balance::new(index, loops.loads.clone()),
            loops,
            shared,
            conns: Vec::new(),
            free: Vec::new(),
            by_id: Default::default(),
            timed_blocks: Vec::new(),
            waits: Vec::new(),
            ready: Vec::new(),
            paused: Vec::new(),
            deferred: Vec::new(),
            later: Vec::new(),
            in_turn: false,
            fsync_wait: false,
            last_getack: Instant::now(),
            scratch: vec![0u8; 64 * 1024].into_boxed_slice(),
        }
    }

    pub fn run(mut self) {
        let shared = self.shared.clone();
        let mut events = Events::with_capacity(1024);
        let mut last_tick = Instant::now();
        while !self.shared.is_shutting_down() {
            let wait = if !self.ready.is_empty() || (!self.deferred.is_empty() && !self.fsync_wait) {
                0
            } else if self.fsync_wait {
                // The syncer wakes us; this is only a backstop.
                5
            } else if self.timed_blocks.is_empty() && self.waits.is_empty() && self.paused.is_empty() {
                100
            } else {
                5
            };
            if let Err(e) = self.poll.poll(&mut events, Some(Duration::from_millis(wait))) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    crate::log::warning(&format!("poll failed: {e}"));
                    break;
                }
            }
            // DEBUG PARTITION: leave every request unanswered until the partition is over
            // (the events just polled are handled after it).
            shared.partition.wait_out(crate::clock::unix_time_ms, || shared.is_shutting_down());
            let counted = (!events.is_empty() || !self.ready.is_empty() || !self.deferred.is_empty())
                && shared.persist.turn_begin();
            // Locks kept across the connections of this turn (see `commands::Held`).
            let mut locks = Held::new(self.index);
            self.in_turn = true;
            for ev in events.iter() {
                if ev.token() == WAKER {
                    self.drain_messages(&shared, &mut locks);
                    continue;
                }
                let hup = ev.is_read_closed() || ev.is_error();
                if hup {
                    if let Some(conn) = self.conns.get_mut(ev.token().0).and_then(|c| c.as_mut()) {
                        conn.hup = true;
                    }
                }
                self.on_event(ev.token().0, ev.is_readable() || hup, &shared, &mut locks);
            }
            for slot in std::mem::take(&mut self.ready) {
                self.on_event(slot, true, &shared, &mut locks);
            }
            drop(locks);
            self.in_turn = false;
            for slot in std::mem::take(&mut self.later) {
                self.on_event(slot, false, &shared, &mut Held::new(self.index));
            }
            if !self.deferred.is_empty() {
                // One AOF write for every write of this loop turn (and with `always`, an
                // fsync covering them), then the replies.
                if let Some(w) = self.shared.workers.get().map(|w| w[self.index].waker.clone()) {
                    self.shared.persist.prepare_replies(self.shared.persist.position(), &w);
                }
                // Connections whose writes are not covered yet defer themselves again.
                for slot in std::mem::take(&mut self.deferred) {
                    self.on_event(slot, false, &shared, &mut Held::new(self.index));
                }
                self.fsync_wait = !self.deferred.is_empty();
            }
            if !self.paused.is_empty() {
                self.resume_paused();
            }
            if !self.timed_blocks.is_empty() {
                self.expire_blocks();
            }
            if !self.waits.is_empty() {
                self.check_waits();
            }
            if counted {
                self.shared.persist.turn_end();
            }
            self.balance.tick(Instant::now(), self.by_id.len());
            if last_tick.elapsed() >= Duration::from_millis(100) {
                last_tick = Instant::now();
                self.tick();
            }
        }
        for i in 0..self.conns.len() {
            self.close(i);
        }
    }

    fn drain_messages<'s>(&mut self, shared: &'s Arc<Shared>, locks: &mut Held<'s>) {
        while let Ok(conn) = self.adopt_rx.try_recv() {
            self.adopt(*conn);
        }
        while let Ok(msg) = self.rx.try_recv() {
            match msg {
                WorkerMsg::NewConn(stream, addr) => self.add(stream, addr),
                WorkerMsg::Kill(id) => {
                    if let Some(&i) = self.by_id.get(&id) {
                        locks.release();
                        self.close(i);
                    }
                }
                WorkerMsg::Unblock(id, reply) => {
                    let Some(&i) = self.by_id.get(&id) else { continue };
                    if let Some(conn) = self.conns[i].as_mut() {
                        if conn.client.blocked.take().is_some() {
                            conn.push_reply(shared, &reply);
                        }
                    }
                    self.on_event(i, false, shared, locks);
                }
                WorkerMsg::Deliver(id, frame) => {
                    let Some(&i) = self.by_id.get(&id) else { continue };
                    let mut over = false;
                    if let Some(conn) = self.conns[i].as_mut() {
                        if !conn.client.wants_message(&frame) {
                            continue;
                        }
                        conn.push_message(&frame);
                        conn.check_output_limit(shared);
                        conn.flush(shared);
                        over = conn.finished();
                    }
                    if over {
                        locks.release();
                        self.close(i);
                        continue;
                    }
                    self.on_event(i, false, shared, locks);
                }
            }
        }
    }

    fn add(&mut self, stream: mio::net::TcpStream, addr: std::net::SocketAddr) {
        let _ = stream.set_nodelay(true);
        let laddr = stream.local_addr().unwrap_or(addr);
        let id = self.shared.next_client_id.fetch_add(1, Ordering::Relaxed);
        let info = Arc::new(ClientInfo::new(id, addr, laddr, stream.as_raw_fd(), self.index));
        let auth_required = self.shared.config.read().requirepass.is_some();
        let client = ClientState::new(info.clone(), auth_required);
        let mut conn = Conn::new(stream, client);
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.conns.push(None);
                self.conns.len() - 1
            }
        };
        if self.poll.registry().register(&mut conn.stream, Token(slot), Interest::READABLE).is_err() {
            self.free.push(slot);
            self.shared.connected_clients.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        conn.registered = Some(Interest::READABLE);
        self.shared.clients.lock().insert(id, info);
        self.conns[slot] = Some(conn);
        self.by_id.insert(id, slot);
    }

    /// Register a connection moved here from another event loop; it runs at once (its
    /// buffers may hold requests).
    fn adopt(&mut self, mut conn: Conn) {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.conns.push(None);
                self.conns.len() - 1
            }
        };
        let want = conn.interest();
        if self.poll.registry().register(&mut conn.stream, Token(slot), want).is_err() {
            self.free.push(slot);
            crate::commands::on_disconnect(&self.shared, &mut conn.client);
            self.shared.clients.lock().remove(&conn.client.id());
            self.shared.connected_clients.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        conn.registered = Some(want);
        conn.client.info.worker.store(self.index, Ordering::Relaxed);
        self.by_id.insert(conn.client.id(), slot);
        self.conns[slot] = Some(conn);
        self.ready.push(slot);
    }

    /// Hot-slot affinity (`net::affinity`): if this connection keeps hitting one slot that
    /// another event loop owns, move it there. True if it moved.
    fn maybe_move(&mut self, slot: usize) -> bool {
        let Some(conn) = self.conns.get_mut(slot).and_then(|c| c.as_mut()) else { return false };
        let Some(hot) = conn.streak.hot() else { return false };
        if self.loops.adopt.len() < 2 || !conn.client.movable() || conn.paused() {
            conn.streak.reset();
            return false;
        }
        let now = crate::clock::unix_time_ms() as u64;
        let owner = self.loops.hot_slots.owner(hot, self.index, now);
        if owner == self.index {
            // Served where it belongs: it stays hot (the load balancer leaves it here) until
            // its streak ends.
            return false;
        }
        conn.streak.reset();
        if owner >= self.loops.adopt.len() {
            return false;
        }
        self.shared.stats.hot_slot_client_moves.fetch_add(1, Ordering::Relaxed);
        self.hand_over(slot, owner)
    }

    /// Load balancing: while this loop is handing clients to another (gathering a light load
    /// on one loop, or sharing a heavy one), move this connection if it is between requests.
    /// A connection hot for a slot stays where the slot's owner serves it.
    fn maybe_rebalance(&mut self, slot: usize) -> bool {
        let Some(conn) = self.conns.get(slot).and_then(|c| c.as_ref()) else { return false };
        if !conn.client.movable() || conn.paused() || conn.streak.hot().is_some() || conn.has_buffered_input() {
            return false;
        }
        let Some(to) = self.balance.destination() else { return false };
        if to == self.index || to >= self.loops.adopt.len() {
            return false;
        }
        self.shared.stats.balance_client_moves.fetch_add(1, Ordering::Relaxed);
        self.hand_over(slot, to)
    }

    /// Give a connection to event loop `to`, with its buffers and session.
    fn hand_over(&mut self, slot: usize, to: usize) -> bool {
        let Some(workers) = self.shared.workers.get() else { return false };
        let Some(mut conn) = self.conns[slot].take() else { return false };
        let _ = self.poll.registry().deregister(&mut conn.stream);
        conn.registered = None;
        self.by_id.remove(&conn.client.id());
        self.ready.retain(|&s| s != slot);
        self.free.push(slot);
        if self.loops.adopt[to].send(Box::new(conn)).is_ok() {
            let _ = workers[to].waker.wake();
        }
        true
    }

    fn on_event<'s>(&mut self, slot: usize, readable: bool, shared: &'s Arc<Shared>, locks: &mut Held<'s>) {
        let Some(conn) = self.conns.get_mut(slot).and_then(|c| c.as_mut()) else { return };
        if readable || conn.read_pending {
            conn.on_readable(shared, locks, &mut self.scratch);
        } else if conn.paused() {
            conn.process(shared, locks);
        }
        if defer_for_aof(&mut self.deferred, shared, slot, conn) {
            return;
        }
        if self.in_turn && conn.has_output() && !conn.dead {
            if !conn.write_later {
                conn.write_later = true;
                self.later.push(slot);
            }
            return;
        }
        conn.write_later = false;
        conn.flush(shared);
        // Backpressure may have left complete requests unprocessed: run them now that
        // the output drained.
        while conn.has_buffered_input() && !conn.finished() && !conn.backlogged() {
            let before = conn.buffered_input();
            conn.process(shared, locks);
            if defer_for_aof(&mut self.deferred, shared, slot, conn) {
                return;
            }
            conn.flush(shared);
            if conn.buffered_input() == before {
                break;
            }
        }
        conn.client.publish();
        if conn.finished() || conn.client.info.killed.load(Ordering::Relaxed) {
            locks.release();
            self.close(slot);
            return;
        }
        if conn.client.handoff.is_some() {
            locks.release();
            self.hand_off(slot);
            return;
        }
        if conn.streak.hot().is_some() && self.maybe_move(slot) {
            return;
        }
        if self.maybe_rebalance(slot) {
            return;
        }
        let Some(conn) = self.conns.get_mut(slot).and_then(|c| c.as_mut()) else { return };
        if conn.read_pending && !conn.backlogged() && !self.ready.contains(&slot) {
            self.ready.push(slot);
        }
        if conn.paused() && !self.paused.contains(&slot) {
            self.paused.push(slot);
        }
        if conn.client.waiting.is_some() && !self.waits.contains(&slot) {
            self.waits.push(slot);
        }
        if conn.client.blocked.as_ref().is_some_and(|w| w.deadline_ms != 0) && !self.timed_blocks.contains(&slot) {
            self.timed_blocks.push(slot);
        }
        let want = conn.interest();
        if conn.registered != Some(want) {
            if self.poll.registry().reregister(&mut conn.stream, Token(slot), want).is_err() {
                locks.release();
                self.close(slot);
                return;
            }
            conn.registered = Some(want);
        }
    }

    fn close(&mut self, slot: usize) {
        if let Some(mut conn) = self.conns.get_mut(slot).and_then(|c| c.take()) {
            let _ = self.poll.registry().deregister(&mut conn.stream);
            crate::commands::on_disconnect(&self.shared, &mut conn.client);
            if conn.paused() {
                self.shared.pause.note_resumed();
            }
            self.by_id.remove(&conn.client.id());
            self.timed_blocks.retain(|&s| s != slot);
            self.waits.retain(|&s| s != slot);
            self.ready.retain(|&s| s != slot);
            self.paused.retain(|&s| s != slot);
            self.shared.clients.lock().remove(&conn.client.id());
            self.shared.connected_clients.fetch_sub(1, Ordering::Relaxed);
            self.free.push(slot);
        }
    }

    /// A connection that sent PSYNC becomes a replica link served by its own threads.
    fn hand_off(&mut self, slot: usize) {
        let Some(mut conn) = self.conns.get_mut(slot).and_then(|c| c.take()) else { return };
        let _ = self.poll.registry().deregister(&mut conn.stream);
        self.shared.clients.lock().remove(&conn.client.id());
        self.shared.connected_clients.fetch_sub(1, Ordering::Relaxed);
        self.by_id.remove(&conn.client.id());
        self.free.push(slot);
        conn.flush_blocking();
        let (replid, from) = conn.client.handoff.take().unwrap_or_default();
        let port = conn.client.repl_listening_port;
        let Some(shared) = self.shared.self_arc() else { return };
        let std_stream = std::net::TcpStream::from(conn.stream);
        let _ = std_stream.set_nonblocking(false);
        crate::repl::master::serve(shared.repl.clone(), std_stream, replid, from, port);
    }

    /// Run again the commands a client pause held back, once the pause in force is less
    /// restrictive than the one that held each (they may be held again).
    fn resume_paused(&mut self) {
        let now_in_force = self.shared.pause.kind_at(crate::clock::unix_time_ms());
        let shared = self.shared.clone();
        for slot in std::mem::take(&mut self.paused) {
            let Some(conn) = self.conns.get(slot).and_then(|c| c.as_ref()) else { continue };
            if conn.pause_eased(now_in_force) {
                self.on_event(slot, false, &shared, &mut Held::new(self.index));
            } else {
                self.paused.push(slot);
            }
        }
    }

    /// Answer WAIT once enough replicas acknowledged, or at its deadline.
    fn check_waits(&mut self) {
        let now = crate::clock::unix_time_ms();
        if self.last_getack.elapsed() >= Duration::from_millis(100) {
            // A write to the stream like any other: under this loop's stripe of the gate.
            let busy = || self.shared.scripting.watch.is_busy();
            if let Some(_gate) = self.shared.exec_gate.read_unless(self.index, &busy) {
                self.shared.repl.request_acks(&self.shared.stream);
                self.last_getack = Instant::now();
            }
        }
        let shared = self.shared.clone();
        let mut done = Vec::new();
        self.waits.retain(|&slot| {
            let Some(conn) = self.conns.get_mut(slot).and_then(|c| c.as_mut()) else { return false };
            let Some((offset, want, deadline)) = conn.client.waiting else { return false };
            let acked = shared.repl.acked(offset);
            if acked >= want || (deadline != 0 && now >= deadline) {
                conn.client.waiting = None;
                conn.push_reply(&shared, &slotbox_protocol::Frame::Integer(acked as i64));
                done.push(slot);
                return false;
            }
            true
        });
        for slot in done {
            self.on_event(slot, false, &shared, &mut Held::new(self.index));
        }
    }

    /// Answer blocked clients whose timeout passed.
    fn expire_blocks(&mut self) {
        let now = crate::clock::unix_time_ms();
        let shared = self.shared.clone();
        let slots = std::mem::take(&mut self.timed_blocks);
        let mut wake = Vec::new();
        for slot in slots {
            let Some(conn) = self.conns.get_mut(slot).and_then(|c| c.as_mut()) else { continue };
            let Some(w) = conn.client.blocked.clone() else { continue };
            if now < w.deadline_ms {
                self.timed_blocks.push(slot);
                continue;
            }
            match conn.end_block(&shared, &w.timeout_reply) {
                Some(true) => wake.push(slot),
                // Being served right now: the reply is on its way.
                None => self.timed_blocks.push(slot),
                Some(false) => {}
            }
        }
        for slot in wake {
            self.on_event(slot, false, &shared, &mut Held::new(self.index));
        }
    }

    /// Periodic work: idle timeouts, killed clients, and (cluster mode) blocked clients
    /// whose keys this node no longer serves.
    fn tick(&mut self) {
        let timeout = self.shared.config.read().timeout as i64;
        let cluster = self.shared.cluster.get().cloned();
        let mut redirected = Vec::new();
        for i in 0..self.conns.len() {
            let Some(conn) = self.conns[i].as_mut() else { continue };
            let killed = conn.client.info.killed.load(Ordering::Relaxed);
            let idle = timeout > 0 && conn.client.info.idle_secs() > timeout;
            if killed || idle {
                self.close(i);
                continue;
            }
            // Query buffers shrink as Redis's client cron shrinks them (which visits every
            // client each 100 ms when there are few).
            conn.resize_query_buffer();
            if let (Some(cs), Some(w)) = (&cluster, &conn.client.blocked) {
                let is_write = w.spec.has(slotbox_protocol::command::flags::WRITE);
                let Some(key) = w.keys.first() else { continue };
                let Some(msg) = crate::cluster::blocked_redirect(&cs.routes, key, conn.client.readonly, is_write)
                else {
                    continue;
                };
                // A server thread may be serving it right now: then its reply wins.
                if conn.end_block(&self.shared, &slotbox_protocol::Frame::error(msg)) == Some(true) {
                    redirected.push(i);
                }
            }
        }
        let shared = self.shared.clone();
        for slot in redirected {
            self.on_event(slot, false, &shared, &mut Held::new(self.index));
        }
    }
}

/// Must `conn`'s replies wait for the AOF? Then it joins `deferred` (once) until the loop's
/// AOF write (and fsync, with `always`) covers them.
fn defer_for_aof(deferred: &mut Vec<usize>, shared: &Shared, slot: usize, conn: &Conn) -> bool {
    if !shared.persist.replies_wait(conn.aof_end) {
        return false;
    }
    if !deferred.contains(&slot) {
        deferred.push(slot);
    }
    true
}
