//! The workload's command generator: [`Gen`] draws commands from a seeded RNG for one key
//! group (all keys of a group share a hash tag, so one slot). Every key suffix keeps one type
//! (`s` string, `c` integer, `f` float, `h`/`h2` hash, `l`/`l2`/`l3` list, `S`/`S2`/`S3` set,
//! `z`/`z2`/`z3` sorted set), so no generated command can get an error reply from a correct
//! server. Commands with replication subtleties are in the mix on purpose: random effects
//! (SPOP, SRANDMEMBER counts are reads, but SPOP is a write), blocking pops that another
//! worker's push may serve (shared groups), expiries in the past, GETEX / GETDEL, COPY, the
//! *STORE commands, INCRBYFLOAT, LMPOP / ZMPOP, encodings that grow past their small form.

use crate::client::{cmd, Cmd};
use rand::rngs::StdRng;
use rand::Rng;

/// Key groups per worker, and groups every worker shares (blocking pops served by another
/// worker's push, interleaved transactions).
pub const GROUPS: u32 = 64;
pub const SHARED_GROUPS: u32 = 8;

pub struct Gen {
    pub rng: StdRng,
    id: usize,
}

impl Gen {
    pub fn new(rng: StdRng, id: usize) -> Gen {
        Gen { rng, id }
    }

    /// A group: mostly this worker's own, sometimes a shared one.
    pub fn group(&mut self) -> u32 {
        if self.rng.gen_range(0..8) == 0 {
            GROUPS + self.rng.gen_range(0..SHARED_GROUPS)
        } else {
            self.rng.gen_range(0..GROUPS)
        }
    }

    pub fn key(&self, g: u32, kind: &str) -> String {
        if g >= GROUPS {
            format!("{{shared{}}}:{kind}", g - GROUPS)
        } else {
            format!("{{w{}g{g}}}:{kind}", self.id)
        }
    }

    fn n(&mut self, range: std::ops::Range<i64>) -> String {
        self.rng.gen_range(range).to_string()
    }

    /// A command of any small family, for transactions and pipelines (rarely a value of up
    /// to 1 MB, so big values go through MULTI/EXEC too).
    pub fn small_cmd(&mut self, g: u32) -> Cmd {
        if self.rng.gen_range(0..300) == 0 {
            let len = self.rng.gen_range(65536..1 << 20);
            return vec![b"SET".to_vec(), self.key(g, "s").into_bytes(), vec![b'M'; len]];
        }
        let families = ["string", "hash", "list", "set", "zset", "expire", "delete"];
        let family = families[self.rng.gen_range(0..families.len())];
        self.family_cmd(family, g, false)
    }

    /// One command of `family`; `blocking` allows blocking pops (not inside batches, where
    /// they would hold the connection).
    pub fn family_cmd(&mut self, family: &str, g: u32, blocking: bool) -> Cmd {
        match family {
            "string" => self.string_cmd(g),
            "hash" => self.hash_cmd(g),
            "list" if blocking && self.rng.gen_range(0..6) == 0 => self.blocking_list_cmd(g),
            "list" => self.list_cmd(g),
            "set" => self.set_cmd(g),
            "zset" if blocking && self.rng.gen_range(0..8) == 0 => {
                cmd(&["BZPOPMIN", &self.key(g, "z"), &self.key(g, "z2"), "0.05"])
            }
            "zset" => self.zset_cmd(g),
            "expire" => self.expire_cmd(g),
            _ => self.delete_cmd(g),
        }
    }

    /// A value of 1 to 200 bytes, sometimes up to 16 KB.
    pub fn value(&mut self) -> Vec<u8> {
        let len =
            if self.rng.gen_range(0..20) == 0 { self.rng.gen_range(200..16384) } else { self.rng.gen_range(1..200) };
        let fill = self.rng.gen_range(b'a'..=b'z');
        let mut v = vec![fill; len];
        v[0] = self.rng.gen();
        v
    }

    fn string_cmd(&mut self, g: u32) -> Cmd {
        let (s, c, f) = (self.key(g, "s"), self.key(g, "c"), self.key(g, "f"));
        let v = self.value();
        let with = |name: &str, key: &str, v: Vec<u8>| vec![name.as_bytes().to_vec(), key.as_bytes().to_vec(), v];
        match self.rng.gen_range(0..16) {
            0 | 1 => with("SET", &s, v),
            2 => cmd(&["SET", &s, "x", "EX", &self.n(1..60)]),
            3 => cmd(&["GET", &s]),
            4 => with("APPEND", &s, v),
            5 => cmd(&["INCR", &c]),
            6 => cmd(&["INCRBY", &c, &self.n(-100..100)]),
            7 => vec![b"SETRANGE".to_vec(), s.into_bytes(), self.n(0..1000).into_bytes(), v],
            8 => vec![b"MSET".to_vec(), s.into_bytes(), v, self.key(g, "s2").into_bytes(), b"m".to_vec()],
            9 => cmd(&["GETEX", &s, "PX", &self.n(100..20_000)]),
            10 => cmd(&["INCRBYFLOAT", &f, "0.125"]),
            11 => cmd(&["SET", &s, "kept", "KEEPTTL", "GET"]),
            12 => cmd(&["COPY", &s, &self.key(g, "s4"), "REPLACE"]),
            13 => cmd(&["GETDEL", &self.key(g, "s4")]),
            14 => cmd(&["PSETEX", &self.key(g, "s2"), &self.n(50..5000), "p"]),
            _ => cmd(&["GETEX", &s, "PERSIST"]),
        }
    }

    fn hash_cmd(&mut self, g: u32) -> Cmd {
        let h = self.key(g, "h");
        let f = format!("f{}", self.rng.gen_range(0..40));
        match self.rng.gen_range(0..8) {
            0 | 1 => {
                let mut c = cmd(&["HSET", &h]);
                // Sometimes many fields at once: past the small encoding.
                let pairs = if self.rng.gen_range(0..30) == 0 { 300 } else { self.rng.gen_range(1..5) };
                for _ in 0..pairs {
                    let field = format!("f{}", self.rng.gen_range(0..pairs.max(40)));
                    c.push(field.into_bytes());
                    c.push(self.value());
                }
                c
            }
            2 => cmd(&["HINCRBY", &h, &format!("n{}", self.rng.gen_range(0..4)), &self.n(-9..10)]),
            3 => cmd(&["HDEL", &h, &f]),
            4 => cmd(&["HINCRBYFLOAT", &h, "x", "1.5"]),
            5 => cmd(&["HSETNX", &self.key(g, "h2"), &f, "v"]),
            6 => cmd(&["HRANDFIELD", &h, "3", "WITHVALUES"]),
            _ => cmd(&["HGETALL", &h]),
        }
    }

    fn list_cmd(&mut self, g: u32) -> Cmd {
        let (l, l2) = (self.key(g, "l"), self.key(g, "l2"));
        match self.rng.gen_range(0..11) {
            0 | 1 => {
                let push = if self.rng.gen() { "LPUSH" } else { "RPUSH" };
                let mut c = cmd(&[push, &l]);
                let n = if self.rng.gen_range(0..40) == 0 { 1000 } else { self.rng.gen_range(1..6) };
                (0..n).for_each(|_| c.push(self.value()));
                c
            }
            2 => cmd(&[if self.rng.gen() { "LPOP" } else { "RPOP" }, &l]),
            3 => cmd(&["LTRIM", &l, "0", "199"]),
            4 => cmd(&["LRANGE", &l, "0", "9"]),
            5 => cmd(&["LMOVE", &l, &l2, "LEFT", "RIGHT"]),
            6 => cmd(&["LTRIM", &l2, "-50", "-1"]),
            7 => cmd(&["LINSERT", &l, "BEFORE", "pivot", "v"]),
            8 => cmd(&["LREM", &l2, "1", "x"]),
            9 => cmd(&["LMPOP", "2", &l, &l2, "RIGHT", "COUNT", "2"]),
            _ => cmd(&["RPUSH", &self.key(g, "l3"), "a", "pivot", "x"]),
        }
    }

    /// A blocking pop with a short timeout (a push from another worker may serve it).
    fn blocking_list_cmd(&mut self, g: u32) -> Cmd {
        let (l, l2) = (self.key(g, "l"), self.key(g, "l2"));
        match self.rng.gen_range(0..3) {
            0 => cmd(&["BLPOP", &l, &self.key(g, "l3"), "0.05"]),
            1 => cmd(&["BLMOVE", &l, &l2, "RIGHT", "LEFT", "0.05"]),
            _ => cmd(&["BLMPOP", "0.05", "2", &l2, &l, "LEFT"]),
        }
    }

    fn set_cmd(&mut self, g: u32) -> Cmd {
        let (s1, s2, s3) = (self.key(g, "S"), self.key(g, "S2"), self.key(g, "S3"));
        let m = format!("m{}", self.rng.gen_range(0..300));
        match self.rng.gen_range(0..10) {
            0 | 1 => {
                let key = if self.rng.gen() { &s1 } else { &s2 };
                let mut c = cmd(&["SADD", key]);
                let n = if self.rng.gen_range(0..30) == 0 { 600 } else { self.rng.gen_range(1..6) };
                (0..n).for_each(|_| c.push(format!("m{}", self.rng.gen_range(0..n.max(300))).into_bytes()));
                c
            }
            2 => cmd(&["SREM", &s1, &m]),
            3 => cmd(&["SPOP", &s1]),
            4 => cmd(&["SINTERSTORE", &s3, &s1, &s2]),
            5 => cmd(&["SMOVE", &s1, &s2, &m]),
            6 => cmd(&["SADD", &s3, &self.n(0..1000), &self.n(0..1000)]),
            7 => cmd(&["SPOP", &s2, "3"]),
            8 => cmd(&["SUNIONSTORE", &s3, &s3, &s1]),
            _ => cmd(&["SCARD", &s1]),
        }
    }

    fn zset_cmd(&mut self, g: u32) -> Cmd {
        let (z, z2, z3) = (self.key(g, "z"), self.key(g, "z2"), self.key(g, "z3"));
        let m = format!("m{}", self.rng.gen_range(0..200));
        match self.rng.gen_range(0..11) {
            0 | 1 => {
                let score = format!("{}", self.rng.gen_range(-1000.0..1000.0f64));
                cmd(&["ZADD", if self.rng.gen() { &z } else { &z2 }, &score, &m])
            }
            2 => cmd(&["ZINCRBY", &z, "0.25", &m]),
            3 => cmd(&["ZREM", &z, &m]),
            4 => cmd(&["ZRANGE", &z, "0", "-1", "WITHSCORES"]),
            5 => cmd(&["ZPOPMIN", &z]),
            6 => cmd(&["ZREMRANGEBYRANK", &z, "0", "-151"]),
            7 => cmd(&["ZUNIONSTORE", &z3, "2", &z, &z2, "WEIGHTS", "1", "0.5"]),
            8 => cmd(&["ZRANGESTORE", &z3, &z, "0", "9"]),
            9 => cmd(&["ZMPOP", "2", &z2, &z, "MAX", "COUNT", "2"]),
            _ => cmd(&["ZADD", &z, "GT", "CH", &self.n(-5..5), &m]),
        }
    }

    fn expire_cmd(&mut self, g: u32) -> Cmd {
        let kinds = ["s", "c", "h", "l", "S", "z", "f", "z3"];
        let kind = kinds[self.rng.gen_range(0..kinds.len())];
        let k = self.key(g, kind);
        match self.rng.gen_range(0..8) {
            0 => cmd(&["EXPIRE", &k, &self.n(1..30)]),
            1 => cmd(&["PEXPIRE", &k, &self.n(50..3000)]),
            2 => cmd(&["PERSIST", &k]),
            3 => cmd(&["SET", &self.key(g, "s"), "short", "PX", &self.n(50..2000)]),
            4 => cmd(&["EXPIREAT", &k, "1000"]),
            5 => cmd(&["EXPIRE", &k, &self.n(5..60), if self.rng.gen() { "NX" } else { "GT" }]),
            6 => cmd(&["PEXPIRE", &k, "0"]),
            _ => cmd(&["TTL", &k]),
        }
    }

    fn delete_cmd(&mut self, g: u32) -> Cmd {
        if self.rng.gen() {
            cmd(&["DEL", &self.key(g, "s"), &self.key(g, "l")])
        } else {
            let kinds = ["h", "S", "z", "c", "l2", "l3", "h2", "S3", "z2"];
            let kind = kinds[self.rng.gen_range(0..kinds.len())];
            cmd(&["UNLINK", &self.key(g, kind)])
        }
    }
}
