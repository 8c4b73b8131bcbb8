//! [`ClientInfo`]: the part of a connection's state other threads may read (CLIENT LIST, INFO)
//! or flag (CLIENT KILL), kept in the server's client registry. The session state command
//! handlers work with is `commands::session::ClientState`.

use bytes::Bytes;
use parking_lot::Mutex;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU16, AtomicU64, AtomicU8, AtomicUsize, Ordering};
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
    /// CLIENT LIST `qbuf-free`: the query buffer's room beyond `qbuf`.
    pub qbuf_free: AtomicU64,
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
    /// The selected database.
    pub db: AtomicU64,
    pub sub: AtomicU64,
    pub psub: AtomicU64,
    pub ssub: AtomicU64,
    /// Commands queued in MULTI, -1 outside a transaction.
    pub multi: AtomicI64,
    /// Redis's flag letters: b blocked, r READONLY, M the master link, c closing after reply,
    /// e CLIENT NO-EVICT.
    pub blocked: AtomicBool,
    pub readonly: AtomicBool,
    pub master: AtomicBool,
    pub closing: AtomicBool,
    pub no_evict: AtomicBool,
    /// Client-side caching: [`TRACKING`], [`TRACKING_BROKEN_REDIR`], [`TRACKING_BCAST`].
    pub tracking: AtomicU8,
}

/// `Shown::tracking` bits (CLIENT LIST flags t, R and B).
pub const TRACKING: u8 = 1;
pub const TRACKING_BROKEN_REDIR: u8 = 2;
pub const TRACKING_BCAST: u8 = 4;

impl Shown {
    /// Channels, patterns and shard channels subscribed to.
    pub fn subscriptions(&self) -> u64 {
        self.sub.load(Ordering::Relaxed) + self.psub.load(Ordering::Relaxed) + self.ssub.load(Ordering::Relaxed)
    }

    /// CLIENT LIST `flags=` in Redis's letter order ('N' for none).
    fn flags(&self, monitor: bool) -> String {
        let mut f = String::new();
        let on = |a: &AtomicBool| a.load(Ordering::Relaxed);
        for (set, c) in [
            (monitor, 'O'),
            (on(&self.master), 'M'),
            (self.subscriptions() > 0, 'P'),
            (self.multi.load(Ordering::Relaxed) >= 0, 'x'),
            (on(&self.blocked), 'b'),
            (self.tracking.load(Ordering::Relaxed) & TRACKING != 0, 't'),
            (self.tracking.load(Ordering::Relaxed) & TRACKING_BROKEN_REDIR != 0, 'R'),
            (self.tracking.load(Ordering::Relaxed) & TRACKING_BCAST != 0, 'B'),
            (on(&self.closing), 'c'),
            (on(&self.readonly), 'r'),
            (on(&self.no_evict), 'e'),
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
            qbuf_free: AtomicU64::new(0),
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

    /// One line of CLIENT LIST / CLIENT INFO, in Redis's field order (`last_cmd`: the name of
    /// its last command, `cmd=`).
    pub fn describe(&self, last_cmd: &str) -> String {
        let opt = |m: &Mutex<Option<Bytes>>| {
            m.lock().as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default()
        };
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} \
             multi={} qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem={} \
             tot-mem=0 events=r cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            opt(&self.name),
            self.created.elapsed().as_secs(),
            self.idle_secs(),
            self.shown.flags(self.monitor.load(Ordering::Relaxed)),
            self.shown.db.load(Ordering::Relaxed),
            self.shown.sub.load(Ordering::Relaxed),
            self.shown.psub.load(Ordering::Relaxed),
            self.shown.ssub.load(Ordering::Relaxed),
            self.shown.multi.load(Ordering::Relaxed),
            self.qbuf.load(Ordering::Relaxed),
            self.qbuf_free.load(Ordering::Relaxed),
            self.omem.load(Ordering::Relaxed),
            last_cmd,
            self.resp.load(Ordering::Relaxed),
            opt(&self.lib_name),
            opt(&self.lib_ver),
        )
    }
}
