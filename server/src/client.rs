//! Per-connection state. [`ClientState`] is owned by the connection's event loop and used by
//! command handlers; [`ClientInfo`] is the part other threads may read (CLIENT LIST, INFO) or
//! flag (CLIENT KILL), kept in the server's client registry.

use bytes::Bytes;
use parking_lot::Mutex;
use slotbox_protocol::Protocol;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU16, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// What other threads may see of a client.
pub struct ClientInfo {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    pub fd: i32,
    pub created: Instant,
    /// The event loop serving this client (it may move: see `net::affinity`).
    pub worker: AtomicUsize,
    pub name: Mutex<Option<Bytes>>,
    pub lib_name: Mutex<Option<Bytes>>,
    pub lib_ver: Mutex<Option<Bytes>>,
    /// Full name of the last command ("client|list").
    pub last_cmd: AtomicU16,
    /// Unix ms of the last command.
    pub last_interaction: AtomicI64,
    pub resp: AtomicU8,
    pub qbuf: AtomicU64,
    pub omem: AtomicU64,
    pub tot_cmds: AtomicU64,
    pub killed: AtomicBool,
    /// Sent MONITOR (CLIENT LIST flags=O).
    pub monitor: AtomicBool,
    /// The connection's state as CLIENT LIST shows it (see [`ClientState::publish`]).
    pub shown: Shown,
}

/// What CLIENT LIST shows of a connection's own state, copied there by its event loop.
#[derive(Default)]
pub struct Shown {
    pub sub: AtomicU64,
    pub psub: AtomicU64,
    pub ssub: AtomicU64,
    /// Commands queued in MULTI, -1 outside a transaction.
    pub multi: AtomicI64,
    /// Redis's flag letters: b blocked, r READONLY, M the master link, c closing after reply.
    pub blocked: AtomicBool,
    pub readonly: AtomicBool,
    pub master: AtomicBool,
    pub closing: AtomicBool,
}

impl Shown {
    /// CLIENT LIST `flags=` in Redis's letter order ('N' for none).
    fn flags(&self, monitor: bool) -> String {
        let mut f = String::new();
        let on = |a: &AtomicBool| a.load(Ordering::Relaxed);
        for (set, c) in [
            (monitor, 'O'),
            (on(&self.master), 'M'),
            (self.sub.load(Ordering::Relaxed) + self.psub.load(Ordering::Relaxed) > 0, 'P'),
            (self.multi.load(Ordering::Relaxed) >= 0, 'x'),
            (on(&self.blocked), 'b'),
            (on(&self.closing), 'c'),
            (on(&self.readonly), 'r'),
        ] {
            if set {
                f.push(c);
            }
        }
        if f.is_empty() {
            f.push('N');
        }
        f
    }
}

impl ClientInfo {
    /// The event loop serving this client now.
    pub fn worker(&self) -> usize {
        self.worker.load(Ordering::Relaxed)
    }

    pub fn new(id: u64, addr: SocketAddr, laddr: SocketAddr, fd: i32, worker: usize) -> Self {
        ClientInfo {
            id,
            addr,
            laddr,
            fd,
            created: Instant::now(),
            worker: AtomicUsize::new(worker),
            name: Mutex::new(None),
            lib_name: Mutex::new(None),
            lib_ver: Mutex::new(None),
            last_cmd: AtomicU16::new(u16::MAX),
            last_interaction: AtomicI64::new(crate::clock::unix_time_ms()),
            resp: AtomicU8::new(2),
            qbuf: AtomicU64::new(0),
            omem: AtomicU64::new(0),
            tot_cmds: AtomicU64::new(0),
            killed: AtomicBool::new(false),
            monitor: AtomicBool::new(false),
            shown: Shown { multi: AtomicI64::new(-1), ..Shown::default() },
        }
    }

    /// Seconds since the last command.
    pub fn idle_secs(&self) -> i64 {
        (crate::clock::unix_time_ms() - self.last_interaction.load(Ordering::Relaxed)).max(0) / 1000
    }

    /// One line of CLIENT LIST / CLIENT INFO, in Redis's field order.
    pub fn describe(&self) -> String {
        let opt = |m: &Mutex<Option<Bytes>>| {
            m.lock().as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default()
        };
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db=0 sub={} psub={} ssub={} \
             multi={} qbuf={} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem={} \
             tot-mem=0 events=r cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            opt(&self.name),
            self.created.elapsed().as_secs(),
            self.idle_secs(),
            self.shown.flags(self.monitor.load(Ordering::Relaxed)),
            self.shown.sub.load(Ordering::Relaxed),
            self.shown.psub.load(Ordering::Relaxed),
            self.shown.ssub.load(Ordering::Relaxed),
            self.shown.multi.load(Ordering::Relaxed),
            self.qbuf.load(Ordering::Relaxed),
            self.omem.load(Ordering::Relaxed),
            crate::commands::name_of(self.last_cmd.load(Ordering::Relaxed)),
            self.resp.load(Ordering::Relaxed),
            opt(&self.lib_name),
            opt(&self.lib_ver),
        )
    }
}

/// CLIENT REPLY mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyMode {
    #[default]
    On,
    Off,
    /// Skip the reply of the next command only.
    SkipNext,
    /// Skipping the current command's reply.
    Skip,
}

/// Commands queued between MULTI and EXEC.
#[derive(Default)]
pub struct MultiState {
    pub queued: Vec<(crate::commands::Resolved, Vec<Bytes>)>,
    /// A command was rejected while queueing: EXEC answers EXECABORT.
    pub failed: bool,
}

/// A key this client WATCHes: its slot, the key, and its expiry time when watched.
pub struct WatchedKey {
    pub slot: u16,
    pub key: Box<[u8]>,
    pub expire_at: i64,
}

/// State of one connection, owned by its event loop.
pub struct ClientState {
    /// Set while the client waits in a blocking command; its later requests wait too.
    pub blocked: Option<Arc<crate::blocking::Waiter>>,
    /// Set by a blocking command that found nothing to do; turned into `blocked` by the
    /// dispatcher (or, when re-run for a blocked client, meaning "still nothing").
    pub want_block: Option<crate::commands::BlockOn>,
    /// This state stands in for a blocked client while another thread re-runs its command.
    pub serving_blocked: bool,
    /// Keys written by this client's command that blocked clients wait for.
    pub ready_keys: Vec<Bytes>,
    /// Running EXEC's queue: blocking commands must not block.
    pub in_exec: bool,
    /// Pub/sub subscriptions, in subscription order.
    pub channels: Vec<Bytes>,
    pub patterns: Vec<Bytes>,
    pub shard_channels: Vec<Bytes>,
    /// Cluster: the next command may be served for an importing slot (one-shot).
    pub asking: bool,
    /// Cluster: READONLY was sent (reads may be served by a replica).
    pub readonly: bool,
    /// The connection of this node's master (replication stream): never refused, never
    /// redirected, never propagated again.
    pub is_master_link: bool,
    /// WAIT in progress: (offset, replicas wanted, deadline ms or 0).
    pub waiting: Option<(u64, usize, i64)>,
    /// Replication offset after this client's last write (for WAIT).
    pub last_write_offset: u64,
    /// PSYNC / SYNC received: the connection becomes a replica link (replid, offset).
    pub handoff: Option<(String, i64)>,
    /// REPLCONF listening-port of a replica connection.
    pub repl_listening_port: u64,
    /// MULTI was fed to the replication stream for the running EXEC.
    pub exec_fed_multi: bool,
    /// Inside MULTI.
    pub multi: Option<MultiState>,
    pub watched: Vec<WatchedKey>,
    /// Set by any write to a watched key.
    pub watch_dirty: Arc<AtomicBool>,
    pub info: Arc<ClientInfo>,
    pub resp: Protocol,
    pub authenticated: bool,
    /// Close the connection once the pending replies are written (QUIT, protocol error).
    pub close_after_reply: bool,
    pub reply_mode: ReplyMode,
    /// CLIENT NO-EVICT: protect this client from client eviction.
    pub no_evict: bool,
    /// Unix µs at which the previous command of this batch ended (0: none): the next
    /// command starts then, which saves a clock read per pipelined command (see
    /// `commands::run_in_batch`). Reset between batches.
    pub batch_clock_us: i64,
    /// The slot of the last command's keys when they all were in one slot (hot-slot
    /// affinity, `net::affinity`).
    pub cmd_slot: Option<u16>,
}

impl ClientState {
    pub fn new(info: Arc<ClientInfo>, auth_required: bool) -> Self {
        ClientState {
            blocked: None,
            want_block: None,
            serving_blocked: false,
            ready_keys: Vec::new(),
            in_exec: false,
            channels: Vec::new(),
            patterns: Vec::new(),
            shard_channels: Vec::new(),
            is_master_link: false,
            waiting: None,
            last_write_offset: 0,
            handoff: None,
            repl_listening_port: 0,
            exec_fed_multi: false,
            asking: false,
            readonly: false,
            multi: None,
            watched: Vec::new(),
            watch_dirty: Arc::new(AtomicBool::new(false)),
            info,
            resp: Protocol::Resp2,
            authenticated: !auth_required,
            close_after_reply: false,
            reply_mode: ReplyMode::On,
            no_evict: false,
            batch_clock_us: 0,
            cmd_slot: None,
        }
    }

    /// Between commands with nothing in progress that ties it to its event loop (see
    /// `net::affinity`): not blocked, waiting, in a transaction, subscribed, monitoring or a
    /// link.
    pub fn movable(&self) -> bool {
        self.blocked.is_none()
            && self.waiting.is_none()
            && self.handoff.is_none()
            && self.multi.is_none()
            && !self.is_master_link
            && !self.close_after_reply
            && !self.in_pubsub()
            && !self.info.monitor.load(Ordering::Relaxed)
    }

    /// Copy what CLIENT LIST shows of this connection into its shared info (cheap: a few
    /// relaxed stores; the event loop calls it after each event).
    pub fn publish(&self) {
        let s = &self.info.shown;
        s.sub.store(self.channels.len() as u64, Ordering::Relaxed);
        s.psub.store(self.patterns.len() as u64, Ordering::Relaxed);
        s.ssub.store(self.shard_channels.len() as u64, Ordering::Relaxed);
        s.multi.store(self.multi.as_ref().map_or(-1, |m| m.queued.len() as i64), Ordering::Relaxed);
        s.blocked.store(self.blocked.is_some() || self.waiting.is_some(), Ordering::Relaxed);
        s.readonly.store(self.readonly, Ordering::Relaxed);
        s.master.store(self.is_master_link, Ordering::Relaxed);
        s.closing.store(self.close_after_reply, Ordering::Relaxed);
    }

    /// Subscribed to anything (RESP2 clients are then limited to pub/sub commands).
    pub fn in_pubsub(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shard_channels.is_empty())
    }

    pub fn id(&self) -> u64 {
        self.info.id
    }

    pub fn set_resp(&mut self, resp: Protocol) {
        self.resp = resp;
        self.info.resp.store(resp.version() as u8, Ordering::Relaxed);
    }
}
