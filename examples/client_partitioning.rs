//! Client-side partitioning: the client, not a proxy or the servers, decides which of several
//! independent (standalone, non-cluster) slotbox-servers holds each key, with the same hash
//! functions and distributions slotbox-proxy uses (`slotbox::partition`).
//!
//! ```text
//! slotbox-server --port 7101 --daemonize yes   # and 7102, 7103
//! cargo run --example client_partitioning -- 127.0.0.1:7101 127.0.0.1:7102 127.0.0.1:7103
//! cargo run --example client_partitioning -- --dist modula --hash murmur --keys 5000 HOST:PORT ...
//! ```
//!
//! The defaults are ketama and murmur; `--hash fnv1a_64` (nutcracker's default) shows how
//! unevenly a hash that keeps the low 32 bits of FNV-1a spreads keys this similar.
//!
//! It writes `--keys` keys (`cp:user:0` ...), each with one pipeline per server, reads them
//! back from the server the ring names, shows that keys sharing a `{hash tag}` share a server,
//! and prints how many of these keys would move if one more server joined.

use slotbox::partition::hash::HashKind;
use slotbox::partition::router::{apply_hash_tag, Distribution, RingServer, Router};
use std::error::Error;

/// What the example was asked to do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub servers: Vec<String>,
    pub dist: Distribution,
    pub hash: HashKind,
    pub keys: usize,
}

/// What it did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Keys written to each server, in `Plan::servers` order.
    pub per_server: Vec<usize>,
    /// Keys read back with the value written.
    pub read_back: usize,
    /// The server holding the keys tagged `{user:42}`.
    pub tagged_on: usize,
    /// Of the keys written, how many another server would take.
    pub would_move: usize,
}

/// The key's name, its hash tag honoured as nutcracker's `hash_tag: "{}"` does.
pub fn owner(ring: &dyn Router, key: &str) -> usize {
    // Every server given is live, so the ring always answers.
    ring.route(apply_hash_tag(key.as_bytes(), Some(*b"{}"))).unwrap_or(0)
}

fn ring(plan: &Plan, servers: &[String]) -> Box<dyn Router> {
    let ring: Vec<RingServer> = servers.iter().map(|s| RingServer::new(s)).collect();
    plan.dist.build(plan.hash, &ring)
}

fn key(i: usize) -> String {
    format!("cp:user:{i}")
}

/// Write, read back and measure, over the servers in `plan`.
pub fn run(plan: &Plan) -> Result<Summary, Box<dyn Error>> {
    let ring = ring(plan, &plan.servers);
    let mut conns = Vec::new();
    for s in &plan.servers {
        conns.push(redis::Client::open(format!("redis://{s}/"))?.get_connection()?);
    }
    // One pipeline per server: the batching a partitioning client does.
    let mut pipes: Vec<redis::Pipeline> = plan.servers.iter().map(|_| redis::pipe()).collect();
    let mut sum = Summary { per_server: vec![0; plan.servers.len()], ..Summary::default() };
    for i in 0..plan.keys {
        let s = owner(ring.as_ref(), &key(i));
        pipes[s].cmd("SET").arg(key(i)).arg(i).ignore();
        sum.per_server[s] += 1;
    }
    for (pipe, con) in pipes.iter().zip(conns.iter_mut()) {
        pipe.query::<()>(con)?;
    }
    for i in 0..plan.keys {
        let s = owner(ring.as_ref(), &key(i));
        let v: Option<usize> = redis::cmd("GET").arg(key(i)).query(&mut conns[s])?;
        sum.read_back += usize::from(v == Some(i));
    }
    // Keys with the same {tag} hash by the tag alone, so one server holds them all and
    // multi-key commands work on them.
    sum.tagged_on = owner(ring.as_ref(), "cp:{user:42}:name");
    redis::cmd("MSET")
        .arg("cp:{user:42}:name")
        .arg("Ada")
        .arg("cp:{user:42}:email")
        .arg("ada@example.org")
        .query::<()>(&mut conns[sum.tagged_on])?;
    let mut grown = plan.servers.clone();
    grown.push("127.0.0.1:1".into());
    let bigger = self::ring(plan, &grown);
    sum.would_move =
        (0..plan.keys).filter(|&i| owner(bigger.as_ref(), &key(i)) != owner(ring.as_ref(), &key(i))).count();
    Ok(sum)
}

fn parse(argv: &[String]) -> Result<Plan, String> {
    let mut plan = Plan { servers: Vec::new(), dist: Distribution::Ketama, hash: HashKind::Murmur, keys: 1000 };
    let mut it = argv.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--dist" => {
                let v = value()?;
                plan.dist = Distribution::from_name(v).ok_or(format!("unknown distribution '{v}'"))?;
            }
            "--hash" => {
                let v = value()?;
                plan.hash = HashKind::from_name(v).ok_or(format!("unknown hash '{v}'"))?;
            }
            "--keys" => {
                let v = value()?;
                plan.keys = v.parse().map_err(|_| format!("invalid --keys '{v}'"))?;
            }
            s if s.starts_with("--") => return Err(format!("unknown option '{s}'")),
            s => plan.servers.push(s.to_string()),
        }
    }
    if plan.servers.is_empty() {
        return Err("usage: client_partitioning [--dist NAME] [--hash NAME] [--keys N] HOST:PORT ...".into());
    }
    Ok(plan)
}

#[allow(dead_code)] // When tests/partition_example.rs includes this file, its own main is unused.
fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let plan = parse(&argv).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2);
    });
    let sum = run(&plan).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1);
    });
    println!(
        "{} keys over {} servers, distribution {}, hash {}",
        plan.keys,
        plan.servers.len(),
        plan.dist.name(),
        plan.hash.name()
    );
    for (s, n) in plan.servers.iter().zip(&sum.per_server) {
        println!("  {s:<22} {n:>7} keys ({:.1}%)", 100.0 * *n as f64 / plan.keys.max(1) as f64);
    }
    println!("read back {} of {} from the server the ring names", sum.read_back, plan.keys);
    println!("cp:{{user:42}}:name and cp:{{user:42}}:email both live on {}", plan.servers[sum.tagged_on]);
    println!(
        "one more server would move {} of these keys ({:.1}%)",
        sum.would_move,
        100.0 * sum.would_move as f64 / plan.keys.max(1) as f64
    );
}
