//! The chaos workload: one [`Worker`] per client thread, each with its own RNG seeded from the
//! run's seed, writing through its own [`ClusterClient`] until told to stop.
//!
//! Operations, by weight: single commands of every family (`commands.rs`: strings, hashes,
//! lists, sets, sorted sets, expiries, deletes, blocking pops), MULTI/EXEC and pipelines of
//! 2-20 commands on one key group, big values (64 KB to 8 MB, rarely), writes acknowledged by
//! `WAIT 1` on unique keys (kept in the ledger for the end), PUBLISH, and a Lua script writing
//! three keys of a group (its effects reach replicas wrapped in MULTI/EXEC). Any error reply is
//! journaled: no generated command can get one from a correct server.

use crate::client::{cmd, describe, ClusterClient, Cmd};
use crate::commands::Gen;
use crate::journal::{Counts, Journal};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use slotbox::protocol::{key_hash_slot, Frame};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// Pub/sub channels the publishers use and the subscriber listens to.
pub const CHANNELS: u32 = 4;
/// `WAIT 1 <ms>` after a write that must survive a failover.
const WAIT_MS: u32 = 1000;

/// Workers hold it for reading around each operation; the fault runner takes it for writing
/// to stop the writes while it compares replicas with their masters.
pub type Quiesce = Arc<RwLock<()>>;

/// Writes acknowledged by `WAIT 1`: (key, value), each key written once and never again.
pub type Ledger = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// Operation kinds, with their weights out of the total.
const KINDS: &[(&str, u32)] = &[
    ("string", 18),
    ("hash", 10),
    ("list", 10),
    ("set", 9),
    ("zset", 9),
    ("expire", 7),
    ("delete", 4),
    ("multi", 9),
    ("pipeline", 7),
    ("wait", 6),
    ("publish", 4),
    ("script", 4),
];

/// The script of the `script` kind: a counter, a hash and a capped list of one key group.
const SCRIPT: &str = "local n = redis.call('INCR', KEYS[1]) \
redis.call('HSET', KEYS[2], 'last', ARGV[1], 'n', n) \
redis.call('RPUSH', KEYS[3], ARGV[1]) redis.call('LTRIM', KEYS[3], -20, -1) return n";

/// One big value in this many operations (on average).
const BIG_EVERY: u32 = 400;

pub struct Worker {
    id: usize,
    gen: Gen,
    client: ClusterClient,
    journal: Arc<Journal>,
    ledger: Ledger,
    quiesce: Quiesce,
    counts: Counts,
    seq: u64,
}

/// What a worker did: operations per kind, and its slowest answered batch.
pub struct WorkerReport {
    pub counts: Counts,
    pub slowest: (Duration, String, u16),
}

impl Worker {
    pub fn new(
        id: usize,
        seed: u64,
        client: ClusterClient,
        journal: Arc<Journal>,
        ledger: Ledger,
        quiesce: Quiesce,
    ) -> Worker {
        let rng = StdRng::seed_from_u64(seed ^ (id as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        Worker { id, gen: Gen::new(rng, id), client, journal, ledger, quiesce, counts: Counts::default(), seq: 0 }
    }

    pub fn run(mut self, stop: &AtomicBool) -> WorkerReport {
        while !stop.load(Ordering::Relaxed) {
            let quiesce = self.quiesce.clone();
            let _running = quiesce.read().unwrap_or_else(|e| e.into_inner());
            self.step();
        }
        WorkerReport { counts: self.counts, slowest: self.client.slowest.clone() }
    }

    fn step(&mut self) {
        if self.gen.rng.gen_range(0..BIG_EVERY) == 0 {
            return self.big();
        }
        let kind = self.pick_kind();
        let g = self.gen.group();
        match kind {
            "multi" | "pipeline" => {
                let n = if kind == "multi" { self.gen.rng.gen_range(2..=5) } else { self.gen.rng.gen_range(5..=20) };
                let cmds: Vec<Cmd> = (0..n).map(|_| self.gen.small_cmd(g)).collect();
                self.batch(kind, g, cmds, kind == "multi");
            }
            "wait" => self.acked_write(),
            "publish" => self.publish(),
            "script" => self.script(g),
            family => {
                let c = self.gen.family_cmd(family, g, true);
                self.batch(family, g, vec![c], false);
            }
        }
    }

    /// A kind from [`KINDS`], by weight.
    fn pick_kind(&mut self) -> &'static str {
        let total: u32 = KINDS.iter().map(|k| k.1).sum();
        let mut pick = self.gen.rng.gen_range(0..total);
        for (kind, weight) in KINDS {
            if pick < *weight {
                return kind;
            }
            pick -= weight;
        }
        "string"
    }

    /// Run a batch on group `g`'s slot and journal any error reply.
    fn batch(&mut self, kind: &'static str, g: u32, cmds: Vec<Cmd>, tx: bool) {
        let slot = key_hash_slot(self.gen.key(g, "s").as_bytes());
        if let Ok(replies) = self.client.run(slot, &cmds, tx) {
            self.counts.add(kind, 1);
            self.check_replies(&cmds, tx, &replies);
        }
    }

    fn check_replies(&self, cmds: &[Cmd], tx: bool, replies: &[Frame]) {
        let results: Vec<&Frame> = match (tx, replies.last()) {
            (true, Some(Frame::Array(r))) => r.iter().collect(),
            (true, other) => {
                let got = other.map(|f| format!("{f:?}")).unwrap_or_default();
                return self.journal.unexpected("EXEC", &format!("{got} for {}", describe(cmds, true)));
            }
            (false, _) => replies.iter().collect(),
        };
        for (c, r) in cmds.iter().zip(results) {
            if let Frame::Error(e) = r {
                let name = String::from_utf8_lossy(&c[0]).into_owned();
                self.journal.unexpected(
                    &name,
                    &format!("-{} for {}", String::from_utf8_lossy(e), describe(std::slice::from_ref(c), false)),
                );
            }
        }
    }

    /// A value of 64 KB to 8 MB (log-uniform) on one of three big keys of this worker.
    fn big(&mut self) {
        let size = 1usize << self.gen.rng.gen_range(16..=23);
        let size = self.gen.rng.gen_range(size / 2..=size).max(65536);
        let key = format!("big:w{}:{}", self.id, self.gen.rng.gen_range(0..3));
        let mut v = vec![self.gen.rng.gen_range(b'A'..=b'Z'); size];
        v[..8].copy_from_slice(&self.gen.rng.gen::<u64>().to_le_bytes());
        let slot = key_hash_slot(key.as_bytes());
        if let Ok(r) = self.client.one(slot, vec![b"SET".to_vec(), key.into_bytes(), v]) {
            self.counts.add("big", 1);
            self.counts.add("big-bytes", size as u64);
            if r != Frame::ok() {
                self.journal.unexpected("SET", &format!("{r:?} for a {size}-byte value"));
            }
        }
    }

    /// SET a unique key, then WAIT 1 on the same connection; acknowledged writes go to the
    /// ledger (the key is never written again).
    fn acked_write(&mut self) {
        self.seq += 1;
        let key = format!("ack:w{}:{}", self.id, self.seq);
        let value = format!("{}:{}", self.seq, self.gen.rng.gen::<u32>()).into_bytes();
        let cmds = vec![
            vec![b"SET".to_vec(), key.clone().into_bytes(), value.clone()],
            cmd(&["WAIT", "1", &WAIT_MS.to_string()]),
        ];
        let slot = key_hash_slot(key.as_bytes());
        let Ok(replies) = self.client.run(slot, &cmds, false) else { return };
        match (&replies[0], &replies[1]) {
            (r, Frame::Integer(n)) if *r == Frame::ok() => {
                self.counts.add(if *n >= 1 { "wait" } else { "wait-unacked" }, 1);
                if *n >= 1 {
                    self.ledger.lock().unwrap().push((key, value));
                }
            }
            (a, b) => self.journal.unexpected("SET+WAIT", &format!("{a:?} {b:?} for {key}")),
        }
    }

    /// EVAL of [`SCRIPT`] on three keys of group `g` (one slot: they share its hash tag).
    fn script(&mut self, g: u32) {
        let keys = [self.gen.key(g, "lua-n"), self.gen.key(g, "lua-h"), self.gen.key(g, "lua-l")];
        let value = format!("w{}:{}", self.id, self.gen.rng.gen::<u32>());
        let c = cmd(&["EVAL", SCRIPT, "3", &keys[0], &keys[1], &keys[2], &value]);
        self.batch("script", g, vec![c], false);
    }

    fn publish(&mut self) {
        self.seq += 1;
        let channel = format!("chaos:{}", self.gen.rng.gen_range(0..CHANNELS));
        let slot = key_hash_slot(channel.as_bytes());
        let msg = format!("w{}:{}", self.id, self.seq);
        match self.client.one(slot, cmd(&["PUBLISH", &channel, &msg])) {
            Ok(Frame::Integer(_)) => self.counts.add("publish", 1),
            Ok(other) => self.journal.unexpected("PUBLISH", &format!("{other:?}")),
            Err(_) => {}
        }
    }
}
