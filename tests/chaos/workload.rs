//! The chaos workload: one [`Worker`] per client thread, each with its own RNG seeded from the
//! run's seed, writing through its own [`ClusterClient`] until told to stop.
//!
//! Each worker owns `GROUPS` key groups sharing a hash tag (`{w<id>g<n>}:s`, `:c`, `:h`, `:l`,
//! `:S`, `:z`), so a group's keys live in one slot and can go together in a transaction or a
//! pipeline. Every key keeps one type (the counter only ever holds an integer, and so on), so
//! any error reply is a server bug and is journaled. Operations: strings (SET with and without
//! expiry, GET, APPEND, INCR, SETRANGE, MSET, GETEX), hashes, lists, sets (SPOP too), sorted
//! sets, expiries (EXPIRE / PEXPIRE, some short, PERSIST), deletes, MULTI/EXEC, pipelines,
//! big values (64 KB to 8 MB, rarely), writes acknowledged by `WAIT 1` on unique keys (kept in
//! the ledger for the end), and PUBLISH.

use crate::client::{cmd, describe, ClusterClient, Cmd};
use crate::journal::{Counts, Journal};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use slotbox::protocol::{key_hash_slot, Frame};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

const GROUPS: u32 = 64;
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
];

/// One big value in this many operations (on average).
const BIG_EVERY: u32 = 400;

pub struct Worker {
    id: usize,
    rng: StdRng,
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
        Worker { id, rng, client, journal, ledger, quiesce, counts: Counts::default(), seq: 0 }
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
        if self.rng.gen_range(0..BIG_EVERY) == 0 {
            return self.big();
        }
        let kind = self.pick_kind();
        let g = self.rng.gen_range(0..GROUPS);
        match kind {
            "multi" | "pipeline" => {
                let n = if kind == "multi" { self.rng.gen_range(2..=5) } else { self.rng.gen_range(5..=20) };
                let cmds: Vec<Cmd> = (0..n).map(|_| self.small_cmd(g)).collect();
                self.batch(kind, g, cmds, kind == "multi");
            }
            "wait" => self.acked_write(),
            "publish" => self.publish(),
            family => {
                let c = self.family_cmd(family, g);
                self.batch(family, g, vec![c], false);
            }
        }
    }

    /// A kind from [`KINDS`], by weight.
    fn pick_kind(&mut self) -> &'static str {
        let total: u32 = KINDS.iter().map(|k| k.1).sum();
        let mut pick = self.rng.gen_range(0..total);
        for (kind, weight) in KINDS {
            if pick < *weight {
                return kind;
            }
            pick -= weight;
        }
        "string"
    }

    fn key(&self, g: u32, kind: &str) -> String {
        format!("{{w{}g{g}}}:{kind}", self.id)
    }

    /// Run a batch on group `g`'s slot and journal any error reply.
    fn batch(&mut self, kind: &'static str, g: u32, cmds: Vec<Cmd>, tx: bool) {
        let slot = key_hash_slot(self.key(g, "s").as_bytes());
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
                    &format!("-{} for {}", String::from_utf8_lossy(e), describe(&[c.clone()], false)),
                );
            }
        }
    }

    /// A command of any small family, for transactions and pipelines.
    fn small_cmd(&mut self, g: u32) -> Cmd {
        let families = ["string", "hash", "list", "set", "zset", "expire", "delete"];
        let family = families[self.rng.gen_range(0..families.len())];
        self.family_cmd(family, g)
    }

    fn family_cmd(&mut self, family: &str, g: u32) -> Cmd {
        match family {
            "string" => self.string_cmd(g),
            "hash" => self.hash_cmd(g),
            "list" => self.list_cmd(g),
            "set" => self.set_cmd(g),
            "zset" => self.zset_cmd(g),
            "expire" => self.expire_cmd(g),
            _ => self.delete_cmd(g),
        }
    }

    /// A value of 1 to 200 bytes, sometimes up to 16 KB.
    fn value(&mut self) -> Vec<u8> {
        let len =
            if self.rng.gen_range(0..20) == 0 { self.rng.gen_range(200..16384) } else { self.rng.gen_range(1..200) };
        let fill = self.rng.gen_range(b'a'..=b'z');
        let mut v = vec![fill; len];
        v[0] = self.rng.gen();
        v
    }

    fn string_cmd(&mut self, g: u32) -> Cmd {
        let (s, c) = (self.key(g, "s"), self.key(g, "c"));
        let v = self.value();
        match self.rng.gen_range(0..10) {
            0 | 1 => vec![b"SET".to_vec(), s.into_bytes(), v],
            2 => cmd(&["SET", &s, "x", "EX", &self.rng.gen_range(1..60).to_string()]),
            3 => cmd(&["GET", &s]),
            4 => vec![b"APPEND".to_vec(), s.into_bytes(), v],
            5 => cmd(&["INCR", &c]),
            6 => cmd(&["INCRBY", &c, &self.rng.gen_range(-100..100).to_string()]),
            7 => vec![b"SETRANGE".to_vec(), s.into_bytes(), self.rng.gen_range(0..1000).to_string().into_bytes(), v],
            8 => vec![b"MSET".to_vec(), s.into_bytes(), v, self.key(g, "s2").into_bytes(), b"m".to_vec()],
            _ => cmd(&["GETEX", &s, "PX", &self.rng.gen_range(100..20_000).to_string()]),
        }
    }

    fn hash_cmd(&mut self, g: u32) -> Cmd {
        let h = self.key(g, "h");
        let f = format!("f{}", self.rng.gen_range(0..40));
        match self.rng.gen_range(0..6) {
            0 | 1 => {
                let mut c = cmd(&["HSET", &h]);
                for _ in 0..self.rng.gen_range(1..5) {
                    c.push(format!("f{}", self.rng.gen_range(0..40)).into_bytes());
                    c.push(self.value());
                }
                c
            }
            2 => cmd(&[
                "HINCRBY",
                &h,
                &format!("n{}", self.rng.gen_range(0..4)),
                &self.rng.gen_range(-9..10).to_string(),
            ]),
            3 => cmd(&["HDEL", &h, &f]),
            4 => cmd(&["HINCRBYFLOAT", &h, "x", "1.5"]),
            _ => cmd(&["HGETALL", &h]),
        }
    }

    fn list_cmd(&mut self, g: u32) -> Cmd {
        let (l, l2) = (self.key(g, "l"), self.key(g, "l2"));
        match self.rng.gen_range(0..7) {
            0 | 1 => {
                let push = if self.rng.gen() { "LPUSH" } else { "RPUSH" };
                let mut c = cmd(&[push, &l]);
                (0..self.rng.gen_range(1..6)).for_each(|_| c.push(self.value()));
                c
            }
            2 => cmd(&[if self.rng.gen() { "LPOP" } else { "RPOP" }, &l]),
            3 => cmd(&["LTRIM", &l, "0", "99"]),
            4 => cmd(&["LRANGE", &l, "0", "9"]),
            5 => cmd(&["LMOVE", &l, &l2, "LEFT", "RIGHT"]),
            _ => cmd(&["LTRIM", &l2, "-50", "-1"]),
        }
    }

    fn set_cmd(&mut self, g: u32) -> Cmd {
        let (s1, s2, s3) = (self.key(g, "S"), self.key(g, "S2"), self.key(g, "S3"));
        let m = format!("m{}", self.rng.gen_range(0..300));
        match self.rng.gen_range(0..7) {
            0 | 1 => {
                let key = if self.rng.gen() { &s1 } else { &s2 };
                let mut c = cmd(&["SADD", key]);
                (0..self.rng.gen_range(1..6))
                    .for_each(|_| c.push(format!("m{}", self.rng.gen_range(0..300)).into_bytes()));
                c
            }
            2 => cmd(&["SREM", &s1, &m]),
            3 => cmd(&["SPOP", &s1]),
            4 => cmd(&["SINTERSTORE", &s3, &s1, &s2]),
            5 => cmd(&["SMOVE", &s1, &s2, &m]),
            _ => cmd(&["SCARD", &s1]),
        }
    }

    fn zset_cmd(&mut self, g: u32) -> Cmd {
        let z = self.key(g, "z");
        let m = format!("m{}", self.rng.gen_range(0..200));
        match self.rng.gen_range(0..7) {
            0 | 1 => {
                let score = format!("{}", self.rng.gen_range(-1000.0..1000.0f64));
                cmd(&["ZADD", &z, &score, &m])
            }
            2 => cmd(&["ZINCRBY", &z, "0.25", &m]),
            3 => cmd(&["ZREM", &z, &m]),
            4 => cmd(&["ZRANGE", &z, "0", "-1", "WITHSCORES"]),
            5 => cmd(&["ZPOPMIN", &z]),
            _ => cmd(&["ZREMRANGEBYRANK", &z, "0", "-101"]),
        }
    }

    fn expire_cmd(&mut self, g: u32) -> Cmd {
        let kinds = ["s", "c", "h", "l", "S", "z"];
        let kind = kinds[self.rng.gen_range(0..kinds.len())];
        let k = self.key(g, kind);
        match self.rng.gen_range(0..5) {
            0 => cmd(&["EXPIRE", &k, &self.rng.gen_range(1..30).to_string()]),
            1 => cmd(&["PEXPIRE", &k, &self.rng.gen_range(50..3000).to_string()]),
            2 => cmd(&["PERSIST", &k]),
            3 => cmd(&["SET", &self.key(g, "s"), "short", "PX", &self.rng.gen_range(50..2000).to_string()]),
            _ => cmd(&["TTL", &k]),
        }
    }

    fn delete_cmd(&mut self, g: u32) -> Cmd {
        if self.rng.gen() {
            cmd(&["DEL", &self.key(g, "s"), &self.key(g, "l")])
        } else {
            let kinds = ["h", "S", "z", "c", "l2"];
            let kind = kinds[self.rng.gen_range(0..kinds.len())];
            cmd(&["UNLINK", &self.key(g, kind)])
        }
    }

    /// A value of 64 KB to 8 MB (log-uniform) on one of three big keys of this worker.
    fn big(&mut self) {
        let size = 1usize << self.rng.gen_range(16..=23);
        let size = self.rng.gen_range(size / 2..=size).max(65536);
        let key = format!("big:w{}:{}", self.id, self.rng.gen_range(0..3));
        let mut v = vec![self.rng.gen_range(b'A'..=b'Z'); size];
        v[..8].copy_from_slice(&self.rng.gen::<u64>().to_le_bytes());
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
        let value = format!("{}:{}", self.seq, self.rng.gen::<u32>()).into_bytes();
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

    fn publish(&mut self) {
        self.seq += 1;
        let channel = format!("chaos:{}", self.rng.gen_range(0..CHANNELS));
        let slot = key_hash_slot(channel.as_bytes());
        let msg = format!("w{}:{}", self.id, self.seq);
        match self.client.one(slot, cmd(&["PUBLISH", &channel, &msg])) {
            Ok(Frame::Integer(_)) => self.counts.add("publish", 1),
            Ok(other) => self.journal.unexpected("PUBLISH", &format!("{other:?}")),
            Err(_) => {}
        }
    }
}
