//! One client connection: read buffer, decoder, pending replies. After every event the
//! connection's mio interest is computed from its state ([`Conn::interest`]), never toggled
//! by hand: readable unless it is closing or its output backlog is too large, writable while
//! replies are pending.

use crate::commands::session::{ClientState, ReplyMode};
use crate::commands::{self, Held};
use crate::config::ClientClass;
use crate::shared::Shared;
use bytes::BytesMut;
use mio::net::TcpStream;
use mio::Interest;
use slotbox_protocol::decode::Limits;
use slotbox_protocol::{encode, Frame, RequestDecoder};
use std::io::{self, Read, Write};
use std::sync::atomic::Ordering;

/// Stop reading from a client whose unsent replies exceed this (pipelining backpressure).
const OUTPUT_HIGH_WATER: usize = 4 * 1024 * 1024;
/// Read at most this much per readable event before yielding to other connections.
const READ_BUDGET: usize = 1024 * 1024;
const READ_CHUNK: usize = 16 * 1024;
/// A request vector that grew past this many arguments is not kept for the next request.
const ARGS_KEPT: usize = 64;

pub struct Conn {
    pub stream: TcpStream,
    pub client: ClientState,
    rbuf: BytesMut,
    wbuf: Vec<u8>,
    wpos: usize,
    decoder: RequestDecoder,
    /// The request being run (one vector reused for all of them).
    args: Vec<bytes::Bytes>,
    /// The peer closed its side or an I/O error happened.
    pub dead: bool,
    /// The interest currently registered with the poller.
    pub registered: Option<Interest>,
    /// The last read stopped before the socket said WouldBlock.
    pub read_pending: bool,
    /// The last event said the peer closed its side: read to the end of the stream rather
    /// than stopping at a short read (no further edge would report it).
    pub hup: bool,
    /// A command held back by a client pause (CLIENT PAUSE, a manual failover); it runs (and
    /// gets its reply, possibly a redirect) once the pause is less restrictive.
    pub stashed: Option<Vec<bytes::Bytes>>,
    /// This thread's AOF position after this connection's last batch: its replies go out
    /// once the AOF holds that much (see `Persistence::replies_wait`).
    pub aof_end: u64,
    /// The slot of the next request's first key, computed when it was prefetched (within one
    /// `process` call: no read happens between the prefetch and the decode, so the bytes at
    /// the hinted address are still that key's).
    next_slot_hint: Option<commands::session::SlotHint>,
    /// Commands in a row on one slot (hot-slot affinity).
    pub streak: super::affinity::Streak,
    /// Its replies wait for the end of the loop's turn (see `Worker::later`).
    pub write_later: bool,
    /// Its standing against its class's `client-output-buffer-limit`.
    output_limit: slotbox_protocol::output_limit::OutputLimit,
    /// The query buffer as Redis sizes it (CLIENT LIST `qbuf` + `qbuf-free`): grown to hold
    /// each read, shrunk by [`Conn::resize_query_buffer`].
    qbuf_size: usize,
    /// The most the query buffer held (with the read in progress) since the last resize check.
    qbuf_peak: usize,
}

impl Conn {
    pub fn new(stream: TcpStream, client: ClientState) -> Self {
        Conn {
            stream,
            client,
            rbuf: BytesMut::with_capacity(READ_CHUNK),
            wbuf: Vec::new(),
            wpos: 0,
            decoder: RequestDecoder::default(),
            args: Vec::new(),
            dead: false,
            registered: None,
            read_pending: false,
            hup: false,
            stashed: None,
            aof_end: 0,
            next_slot_hint: None,
            streak: Default::default(),
            write_later: false,
            output_limit: Default::default(),
            qbuf_size: 0,
            qbuf_peak: 0,
        }
    }

    /// Read what the socket has and run every complete request (the caller writes the
    /// replies).
    /// Ordinary reads go through the event loop's `scratch` buffer (growing `rbuf` by a
    /// zeroed chunk per read was a 16 KiB memset per request); a large bulk still being
    /// received is read straight into `rbuf`.
    pub fn on_readable<'s>(&mut self, shared: &'s Shared, locks: &mut Held<'s>, scratch: &mut [u8]) {
        let mut read_total = 0;
        // Edge-triggered readiness: unless we read until WouldBlock, the socket may still hold
        // data and no new event will say so; `read_pending` makes the loop come back.
        self.read_pending = true;
        loop {
            if self.dead || self.client.close_after_reply {
                self.read_pending = false;
                break;
            }
            if read_total >= READ_BUDGET || self.wbuf.len() - self.wpos > OUTPUT_HIGH_WATER {
                break;
            }
            let want = self.decoder.want.saturating_sub(self.rbuf.len()).clamp(READ_CHUNK, 1024 * 1024);
            let start = self.rbuf.len();
            self.qbuf_size = self.qbuf_size.max(start + want);
            self.qbuf_peak = self.qbuf_peak.max(start + want);
            let r = if want <= scratch.len() {
                let r = self.stream.read(&mut scratch[..want]);
                if let Ok(n) = r {
                    self.rbuf.extend_from_slice(&scratch[..n]);
                }
                r
            } else {
                self.rbuf.resize(start + want, 0);
                self.stream.read(&mut self.rbuf[start..])
            };
            match r {
                Ok(0) => {
                    self.rbuf.truncate(start);
                    self.dead = true;
                }
                Ok(n) => {
                    self.rbuf.truncate(start + n);
                    read_total += n;
                    if n < want && !self.hup {
                        // A short read drained the socket: with epoll, any data arriving
                        // after it raises a new edge, so skip the read that would only
                        // say WouldBlock (one syscall per request at -P 1).
                        self.read_pending = false;
                        break;
                    }
                }
                Err(e) => {
                    self.rbuf.truncate(start);
                    match e.kind() {
                        io::ErrorKind::WouldBlock => {
                            self.read_pending = false;
                            break;
                        }
                        io::ErrorKind::Interrupted => {}
                        _ => self.dead = true,
                    }
                }
            }
        }
        shared.stats.net_input_bytes.fetch_add(read_total as u64, Ordering::Relaxed);
        if read_total > 0 {
            shared.stats.reads_processed.fetch_add(1, Ordering::Relaxed);
        }
        // The replies are written by the event loop: at the end of its turn, once every
        // ready connection has been read and run (see `Worker::later`), or after the AOF.
        self.process(shared, locks);
    }

    /// Every 100 ms (the event loop's cron), as Redis's `clientsCronResizeQueryBuffer`:
    /// a query buffer wasting more than 4 KiB is freed when its client has been idle for more
    /// than 2 s, or cut down to its recent peak when it is over 32 KiB and twice that peak.
    pub fn resize_query_buffer(&mut self) {
        let len = self.rbuf.len();
        if self.qbuf_size.saturating_sub(len) > 4 * 1024 {
            if self.client.info.idle_secs() > 2 {
                self.qbuf_size = len;
            } else if self.qbuf_size > 32 * 1024 && self.qbuf_size / 2 > self.qbuf_peak {
                self.qbuf_size = len.max(self.qbuf_peak);
            }
            if len == 0 && self.rbuf.capacity() > self.qbuf_size {
                // The memory goes too (an idle connection keeps no read buffer).
                self.rbuf = BytesMut::with_capacity(self.qbuf_size);
            }
            self.client.info.qbuf_free.store((self.qbuf_size - len) as u64, Ordering::Relaxed);
        }
        self.qbuf_peak = len;
    }

    /// Decode and execute the buffered requests through the execution seam, which takes the
    /// exec gate as each command needs it; what it holds (the shared stripe, the last
    /// command's slots) stays in `locks` for the next command and connection of the turn.
    pub fn process<'s>(&mut self, shared: &'s Shared, locks: &mut Held<'s>) {
        let limit = shared.hot.client_query_buffer_limit.load(Ordering::Relaxed);
        let max_bulk = shared.hot.proto_max_bulk_len.load(Ordering::Relaxed);
        let mut commands = 0u64;
        self.client.batch_clock.reset();
        // A hint lives within one pass over the read buffer: a later read may move the
        // buffer's bytes (so another key could sit where the hinted one was).
        self.next_slot_hint = None;
        loop {
            if self.client.close_after_reply
                || self.client.blocked.is_some()
                || self.client.waiting.is_some()
                || self.client.handoff.is_some()
                || self.wbuf.len() - self.wpos > OUTPUT_HIGH_WATER
            {
                break;
            }
            self.decoder.limits = if self.client.authenticated {
                Limits { max_bulk_len: max_bulk, ..Limits::default() }
            } else {
                Limits::unauthenticated()
            };
            let buffered = self.rbuf.len();
            // A command a client pause held runs first (taken only now: a backlog stops
            // the loop above without losing it).
            let resumed = self.stashed.is_some();
            let decoded = match self.stashed.take() {
                Some(args) => {
                    shared.pause.note_resumed();
                    self.args = args;
                    Ok(true)
                }
                None => self.decoder.decode_into(&mut self.rbuf, &mut self.args),
            };
            match decoded {
                Ok(true) => {
                    // A stashed command was renamed before it was held.
                    if !resumed {
                        if let Err(reply) = commands::renamed(shared, &mut self.client, &mut self.args) {
                            self.args.clear();
                            commands += 1;
                            self.push_reply(shared, &reply);
                            continue;
                        }
                    }
                    // CLIENT LIST `qbuf=` while a command runs: its own request and what
                    // follows it, as Redis's query buffer holds them.
                    self.client.info.qbuf.store(buffered as u64, Ordering::Relaxed);
                    // The next request's slot is fetched while this one runs; this one's was
                    // computed the same way while the one before ran (if it was).
                    self.client.slot_hint = self.next_slot_hint.take();
                    if let Some(key) = slotbox_protocol::peek::first_key(&self.rbuf) {
                        let slot = slotbox_protocol::key_hash_slot(key);
                        shared.keyspace.db(self.client.db).prefetch_key(slot, key);
                        self.next_slot_hint = Some(commands::session::SlotHint::of(key, slot));
                    }
                    let reply = commands::execute_in_batch(shared, &mut self.client, &self.args, locks);
                    self.client.slot_hint = None;
                    if self.client.postponed.is_some() {
                        // A client pause holds it: it runs again when the pause eases.
                        self.stashed = Some(std::mem::take(&mut self.args));
                        shared.pause.note_postponed();
                        break;
                    }
                    // The arguments hold the read buffer's memory: let it go at once.
                    self.args.clear();
                    if self.args.capacity() > ARGS_KEPT {
                        self.args = Vec::new();
                    }
                    commands += 1;
                    self.streak.note(self.client.cmd_slot);
                    if self.client.blocked.is_some() || self.client.waiting.is_some() {
                        break;
                    }
                    for push in std::mem::take(&mut self.client.early_pushes) {
                        self.push_message(&push);
                    }
                    self.push_reply(shared, &reply);
                    for push in std::mem::take(&mut self.client.pending_pushes) {
                        self.push_message(&push);
                    }
                }
                Ok(false) => {
                    if self.rbuf.len() > limit {
                        // Redis closes such a client without a reply.
                        self.dead = true;
                    }
                    break;
                }
                Err(e) => {
                    let f = Frame::error(e.reply_text());
                    encode(&f, self.client.resp, &mut self.wbuf);
                    self.client.close_after_reply = true;
                    break;
                }
            }
        }
        self.client.batch_clock.reset();
        if self.rbuf.is_empty() && self.rbuf.capacity() > 4 * READ_CHUNK {
            // A big request grew the query buffer; an idle client does not keep it (Redis
            // shrinks query buffers too).
            self.rbuf = BytesMut::with_capacity(READ_CHUNK);
        }
        self.aof_end = shared.persist.position();
        if commands > 0 {
            shared.stats.total_commands_processed.fetch_add(commands, Ordering::Relaxed);
            self.client.info.tot_cmds.fetch_add(commands, Ordering::Relaxed);
        }
        self.client.info.qbuf.store(self.rbuf.len() as u64, Ordering::Relaxed);
        self.client.info.qbuf_free.store(self.qbuf_size.saturating_sub(self.rbuf.len()) as u64, Ordering::Relaxed);
        self.client.info.last_interaction.store(crate::clock::unix_time_ms(), Ordering::Relaxed);
        self.check_output_limit(shared);
    }

    /// Over its class's `client-output-buffer-limit` (checked before the replies are written,
    /// as Redis does): logged, and marked dead so nothing more is written and the event loop
    /// closes it.
    pub fn check_output_limit(&mut self, shared: &Shared) {
        if let Some(class) = self.over_output_limit(shared) {
            crate::log::warning(&format!(
                "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits ({class}).",
                self.client.id(),
                self.client.info.addr
            ));
            self.dead = true;
        }
    }

    /// End the client's blocked wait with `reply` (its timeout reply, or a cluster redirect)
    /// unless a server thread claimed the waiter first: `Some(true)` ended here, `None` being
    /// served right now (that reply is on its way), `Some(false)` nothing to end.
    pub fn end_block(&mut self, shared: &Shared, reply: &Frame) -> Option<bool> {
        let Some(w) = self.client.blocked.clone() else { return Some(false) };
        let ended = w.cancel();
        if ended == Some(true) {
            shared.blocking.remove(&w);
            self.client.blocked = None;
            self.push_reply(shared, reply);
        }
        ended
    }

    /// Queue a command's reply, honouring CLIENT REPLY OFF / SKIP (a SKIP lasts one command).
    /// Pub/sub confirmations are pushes: Redis sends them whatever the reply mode.
    pub fn push_reply(&mut self, shared: &Shared, reply: &Frame) {
        shared.count_error(reply);
        let mode = self.client.reply_mode;
        if mode == ReplyMode::On || is_push(reply) {
            encode(reply, self.client.resp, &mut self.wbuf);
        }
        match mode {
            ReplyMode::On | ReplyMode::Off => {}
            ReplyMode::Skip => self.client.reply_mode = ReplyMode::On,
            ReplyMode::SkipNext => self.client.reply_mode = ReplyMode::Skip,
        }
    }

    /// Queue what is no command's reply: a pub/sub message (a push, written in every reply
    /// mode) or a MONITOR line (silenced by CLIENT REPLY OFF, as Redis's plain replies). A
    /// pending SKIP still applies to the next command.
    pub fn push_message(&mut self, message: &Frame) {
        if is_push(message) || self.client.reply_mode != ReplyMode::Off {
            encode(message, self.client.resp, &mut self.wbuf);
        }
    }

    /// Write pending replies until the socket would block.
    pub fn flush(&mut self, shared: &Shared) {
        if self.wpos < self.wbuf.len() && !self.dead {
            shared.stats.writes_processed.fetch_add(1, Ordering::Relaxed);
        }
        while self.wpos < self.wbuf.len() && !self.dead {
            match self.stream.write(&self.wbuf[self.wpos..]) {
                Ok(0) => self.dead = true,
                Ok(n) => {
                    self.wpos += n;
                    shared.stats.net_output_bytes.fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => self.dead = true,
            }
        }
        if self.wpos == self.wbuf.len() {
            self.wbuf.clear();
            self.wpos = 0;
            if self.wbuf.capacity() > 1024 * 1024 {
                self.wbuf.shrink_to(64 * 1024);
            }
        }
        self.client.info.omem.store((self.wbuf.len() - self.wpos) as u64, Ordering::Relaxed);
    }

    /// Replies not written yet?
    pub fn has_output(&self) -> bool {
        self.wpos < self.wbuf.len()
    }

    /// True once the connection should be dropped.
    pub fn finished(&self) -> bool {
        self.dead || (self.client.close_after_reply && self.wpos == self.wbuf.len())
    }

    /// Are there unprocessed complete requests (after backpressure paused processing)?
    pub fn has_buffered_input(&self) -> bool {
        !self.rbuf.is_empty()
            && !self.client.close_after_reply
            && self.client.blocked.is_none()
            && self.client.waiting.is_none()
            && self.client.handoff.is_none()
            && self.stashed.is_none()
    }

    /// Write what is pending with the socket in blocking mode (before a hand-off).
    pub fn flush_blocking(&mut self) {
        use std::io::Write;
        let pending = self.wbuf[self.wpos..].to_vec();
        self.wbuf.clear();
        self.wpos = 0;
        if !pending.is_empty() {
            let mut left = &pending[..];
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while !left.is_empty() && std::time::Instant::now() < deadline {
                match self.stream.write(left) {
                    Ok(n) => left = &left[n..],
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        std::thread::sleep(std::time::Duration::from_millis(1))
                    }
                    Err(_) => break,
                }
            }
        }
    }

    /// Has this client let more output pile up than its class's `client-output-buffer-limit`
    /// allows? The class, named for the log.
    fn over_output_limit(&mut self, shared: &Shared) -> Option<&'static str> {
        let class = if self.client.in_pubsub() { ClientClass::Pubsub } else { ClientClass::Normal };
        let limits = shared.hot.output_limits[class as usize].load();
        if limits.is_unlimited() {
            return None;
        }
        let pending = self.wbuf.len() - self.wpos;
        self.output_limit.exceeded(pending, std::time::Instant::now(), limits).then(|| class.name())
    }

    /// A command is waiting for a client pause to ease.
    pub fn paused(&self) -> bool {
        self.stashed.is_some()
    }

    /// Should its held-back command run again: is the pause in force now less restrictive
    /// than the one that held it?
    pub fn pause_eased(&self, now_in_force: crate::pause::PauseKind) -> bool {
        self.client.postponed.is_none_or(|held_by| now_in_force < held_by)
    }

    /// Bytes read but not yet decoded.
    pub fn buffered_input(&self) -> usize {
        self.rbuf.len()
    }

    /// Too many unsent replies to keep reading.
    pub fn backlogged(&self) -> bool {
        self.wbuf.len() - self.wpos > OUTPUT_HIGH_WATER
    }

    /// The interest this connection needs now.
    pub fn interest(&self) -> Interest {
        let pending = self.wpos < self.wbuf.len();
        let reading = !self.client.close_after_reply && self.wbuf.len() - self.wpos <= OUTPUT_HIGH_WATER;
        match (reading, pending) {
            (true, true) => Interest::READABLE | Interest::WRITABLE,
            (false, true) => Interest::WRITABLE,
            _ => Interest::READABLE,
        }
    }
}

/// Is this reply made of pushes only (pub/sub confirmations)?
fn is_push(reply: &Frame) -> bool {
    match reply {
        Frame::Push(_) => true,
        Frame::Many(parts) => !parts.is_empty() && parts.iter().all(is_push),
        _ => false,
    }
}
