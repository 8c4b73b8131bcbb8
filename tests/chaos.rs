//! The chaos soak: a seeded, reproducible run of a process-based cluster (3 masters + 3
//! replicas of the release `slotbox-server`, assembled by the release `slotbox-cluster create
//! --cluster-replicas 1`) under a mixed workload and a schedule of faults, then checked
//! against the invariants a user relies on: no hang anywhere, replicas converge to exactly
//! their master's data, no write acknowledged by WAIT is lost, no replica stays detached, the
//! cluster ends ok with every slot covered.
//!
//! - `CHAOS_SEED=<n>`: rerun one schedule (the seed is printed at the start and in the
//!   summary). Timing is not reproducible, so the invariants never depend on it.
//! - `CHAOS_SECONDS=<n>`: how long the load runs (default 60: the short run of `make test`;
//!   `make chaos` runs 600). Every fault kind is injected at least once however short it is.
//! - `CHAOS_WORKERS=<n>`: client threads (default 4).
//! - `CHAOS_FAULTS=<kind,...>`: only these fault kinds (e.g. `pause-master,reshard`; the
//!   default is all: pause-replica, kill-link, restart-replica, kill-master, pause-master,
//!   manual-failover, reshard, operator), to explore one kind or leave out one that found a
//!   bug.
//!
//! Layout: `chaos/nodes.rs` (processes and signals), `chaos/client.rs` (the cluster-aware
//! client), `chaos/workload.rs` (the workers; their commands in `chaos/commands.rs`), `chaos/probe.rs` (the probe and the
//! subscriber), `chaos/faults.rs` (the schedule; the faults in `chaos/replica_faults.rs` and
//! `chaos/master_faults.rs`), `chaos/topology.rs` (CLUSTER NODES and
//! "healed"), `chaos/checks.rs` (the invariants), `chaos/journal.rs` (timeline and problems).

#[path = "chaos/checks.rs"]
mod checks;
#[path = "chaos/client.rs"]
mod client;
#[path = "chaos/commands.rs"]
mod commands;
mod common;
#[path = "chaos/faults.rs"]
mod faults;
#[path = "chaos/journal.rs"]
mod journal;
#[path = "chaos/master_faults.rs"]
mod master_faults;
#[path = "chaos/nodes.rs"]
mod nodes;
#[path = "chaos/probe.rs"]
mod probe;
#[path = "chaos/replica_faults.rs"]
mod replica_faults;
#[path = "chaos/topology.rs"]
mod topology;
#[path = "chaos/workload.rs"]
mod workload;

use client::ClusterClient;
use journal::{Counts, Journal};
use nodes::Cluster;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use workload::{Ledger, Quiesce, Worker, WorkerReport};

struct Settings {
    seed: u64,
    seconds: u64,
    workers: usize,
}

fn env_number(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    Some(v.trim().parse().unwrap_or_else(|_| panic!("{name}={v:?} is not a number")))
}

impl Settings {
    fn from_env() -> Settings {
        let random = || {
            let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            (t.as_nanos() as u64 ^ u64::from(std::process::id()).rotate_left(32)) % 1_000_000_000
        };
        Settings {
            seed: env_number("CHAOS_SEED").unwrap_or_else(random),
            seconds: env_number("CHAOS_SECONDS").unwrap_or(60),
            workers: env_number("CHAOS_WORKERS").unwrap_or(4) as usize,
        }
    }

    fn rerun(&self) -> String {
        format!("CHAOS_SEED={} CHAOS_SECONDS={} make chaos", self.seed, self.seconds)
    }
}

/// Assemble the six nodes with `slotbox-cluster create` and wait until the cluster is healed.
fn create(cluster: &Cluster, journal: &Journal) {
    let mut args = vec!["create".to_string()];
    args.extend((0..cluster.nodes.len()).map(|i| cluster.hostport(i)));
    args.extend(["--cluster-replicas", "1", "--cluster-yes"].map(String::from));
    let (ok, out) = cluster.tool(&args, Duration::from_secs(120));
    assert!(ok && out.contains("[OK] All 16384 slots covered."), "slotbox-cluster create failed:\n{out}");
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < faults::HEAL_LIMIT {
        match topology::health(cluster) {
            Ok(_) => return journal.log(format!("cluster created: {}", args[1..7].join(" "))),
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the new cluster never became healthy: {last}\n{}", cluster.log_tails(20));
}

/// What the threads beside the fault runner did.
struct Load {
    ops: Counts,
    watchers: Counts,
    slowest: Vec<(Duration, String, u16)>,
}

/// Start the workers, the probe and the subscriber; run the faults in this thread; stop the
/// load at the end of the run (or when the first round of faults is over, if later).
fn run_load(s: &Settings, cluster: &Arc<Cluster>, journal: &Arc<Journal>, ledger: &Ledger) -> (Load, Counts) {
    let stop = Arc::new(AtomicBool::new(false));
    let quiesce = Quiesce::default();
    let workers: Vec<std::thread::JoinHandle<WorkerReport>> = (0..s.workers)
        .map(|id| {
            let client = ClusterClient::new(cluster.clone(), journal.clone());
            let worker = Worker::new(id, s.seed, client, journal.clone(), ledger.clone(), quiesce.clone());
            let stop = stop.clone();
            std::thread::spawn(move || worker.run(&stop))
        })
        .collect();
    let (c, j, st) = (cluster.clone(), journal.clone(), stop.clone());
    let prober = std::thread::spawn(move || probe::probe(c, j, st));
    let (c, j, st, seed) = (cluster.clone(), journal.clone(), stop.clone(), s.seed);
    let subscriber = std::thread::spawn(move || probe::subscribe(c, j, st, seed));
    let until = Instant::now() + Duration::from_secs(s.seconds);
    let fault_counts = faults::FaultRunner::new(cluster.clone(), journal.clone(), s.seed, quiesce).run(until);
    std::thread::sleep(until.saturating_duration_since(Instant::now()));
    stop.store(true, Ordering::SeqCst);
    journal.log("load stopped");
    let mut load = Load { ops: Counts::default(), watchers: Counts::default(), slowest: Vec::new() };
    for w in workers {
        let report = w.join().expect("worker thread");
        load.ops.merge(&report.counts);
        load.slowest.push(report.slowest);
    }
    load.watchers.merge(&prober.join().expect("probe thread"));
    load.watchers.merge(&subscriber.join().expect("subscriber thread"));
    (load, fault_counts)
}

fn summary(
    s: &Settings,
    elapsed: Duration,
    load: &Load,
    faults: &Counts,
    syncs: &Counts,
    checks: &[checks::Check],
) -> String {
    let mut out = String::from("\n======== chaos summary ========\n");
    out.push_str(&format!("seed: {}   (rerun: {})\n", s.seed, s.rerun()));
    out.push_str(&format!(
        "duration: {:.0} s in all, {} s of load, {} workers\n",
        elapsed.as_secs_f64(),
        s.seconds,
        s.workers
    ));
    out.push_str(&format!("operations ({}): {}\n", load.ops.total(), load.ops.line()));
    out.push_str(&format!("watchers: {}\n", load.watchers.line()));
    out.push_str(&format!("faults: {}\n", faults.line()));
    out.push_str(&format!("replication (INFO stats of the final nodes): {}\n", syncs.line()));
    if let Some((d, what, port)) = load.slowest.iter().max_by_key(|x| x.0) {
        out.push_str(&format!("slowest answered operation: {:.2} s, {what} on 127.0.0.1:{port}\n", d.as_secs_f64()));
    }
    out.push_str("invariants:\n");
    for c in checks {
        out.push_str(&format!("  [{}] {}\n", if c.ok { "PASS" } else { "FAIL" }, c.name));
        if !c.detail.is_empty() && (!c.ok || c.name.starts_with("converged") || c.name.starts_with("no write")) {
            c.detail.lines().for_each(|l| out.push_str(&format!("         {l}\n")));
        }
    }
    let failed = checks.iter().filter(|c| !c.ok).count();
    let verdict = if failed == 0 { "PASS".to_string() } else { format!("FAIL ({failed} invariants)") };
    out.push_str(&format!("result: {verdict}   seed {}\n", s.seed));
    out
}

#[test]
fn chaos_soak() {
    let s = Settings::from_env();
    let journal = Arc::new(Journal::new());
    journal.log(format!("seed {} ({} s of load, {} workers; rerun: {})", s.seed, s.seconds, s.workers, s.rerun()));
    let cluster = Arc::new(Cluster::start(6));
    create(&cluster, &journal);
    let ledger = Ledger::default();
    let (load, fault_counts) = run_load(&s, &cluster, &journal, &ledger);
    faults::note_crashes(&cluster, &journal);
    let checks = checks::run_all(&cluster, &journal, &ledger, &load.watchers);
    let syncs = faults::sync_counts(&cluster);
    let report = summary(&s, journal.elapsed(), &load, &fault_counts, &syncs, &checks);
    println!("{report}");
    let logs = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("chaos-{}", s.seed));
    match cluster.save_logs(&logs) {
        Ok(()) => println!("node logs saved in {}", logs.display()),
        Err(e) => println!("could not save the node logs in {}: {e}", logs.display()),
    }
    if checks.iter().any(|c| !c.ok) {
        println!("last lines of the node logs:\n{}", cluster.log_tails(25));
        panic!("chaos run failed (seed {}; rerun: {}):{report}", s.seed, s.rerun());
    }
}
