//! The fault schedule and its runner. Faults come one at a time, on a schedule drawn from the
//! run's seed: first every kind once (in a seeded order, even if that takes longer than the
//! run's duration), then seeded picks until the duration is over. After each fault the runner
//! waits (bounded) for the cluster to heal — see `topology::health` — and journals a finding
//! if it does not (or if a node exited by itself); then a seeded pause before the next one.
//! The faults themselves are in `replica_faults.rs` and `master_faults.rs`.

use crate::checks::replicas_match;
use crate::client::ClusterClient;
use crate::common::text;
use crate::journal::{Counts, Journal};
use crate::master_faults::run_reshard;
use crate::nodes::Cluster;
use crate::topology::{health, Row, View};
use crate::workload::Quiesce;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the cluster may take to heal after a fault.
pub const HEAL_LIMIT: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// SIGSTOP a replica (shorter or longer than repl-timeout) under big writes, SIGCONT.
    PauseReplica,
    /// CLIENT KILL TYPE replica on the master, or TYPE master on the replica.
    KillLink,
    /// kill -9 a replica and restart it (sometimes cutting its first sync short).
    RestartReplica,
    /// kill -9 a master; its replica takes over; the old master restarts as a replica.
    KillMaster,
    /// SIGSTOP a master, shorter or longer than cluster-node-timeout, then SIGCONT.
    PauseMaster,
    /// CLUSTER FAILOVER on a replica, under load.
    ManualFailover,
    /// slotbox-cluster reshard between two masters, under load.
    Reshard,
    /// CLIENT KILL TYPE normal / pubsub, CONFIG SET repl-backlog-size, BGSAVE.
    Operator,
}

const ALL: [Fault; 8] = [
    Fault::PauseReplica,
    Fault::KillLink,
    Fault::RestartReplica,
    Fault::KillMaster,
    Fault::PauseMaster,
    Fault::ManualFailover,
    Fault::Reshard,
    Fault::Operator,
];

impl Fault {
    /// The name `CHAOS_FAULTS` uses: `PauseReplica` is `pause-replica`.
    fn name(self) -> String {
        let mut out = String::new();
        for c in format!("{self:?}").chars() {
            if c.is_ascii_uppercase() && !out.is_empty() {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }
}

/// The fault kinds of this run: all of them, or those `CHAOS_FAULTS` names (comma-separated,
/// e.g. `pause-master,kill-master`; `none` for none), to explore one kind or leave one out.
fn enabled() -> Vec<Fault> {
    match std::env::var("CHAOS_FAULTS") {
        Ok(list) => {
            let names: Vec<String> = list.split(',').map(|n| n.trim().to_ascii_lowercase()).collect();
            let known = |n: &String| n == "none" || ALL.iter().any(|f| f.name() == *n);
            let all: Vec<String> = ALL.iter().map(|f| f.name()).collect();
            assert!(names.iter().all(known), "CHAOS_FAULTS={list:?}: known kinds are {}", all.join(", "));
            ALL.into_iter().filter(|f| names.contains(&f.name())).collect()
        }
        Err(_) => ALL.to_vec(),
    }
}

pub struct FaultRunner {
    pub(crate) cluster: Arc<Cluster>,
    pub(crate) journal: Arc<Journal>,
    pub(crate) rng: StdRng,
    pub(crate) client: ClusterClient,
    pub(crate) counts: Counts,
    pub(crate) big_seq: u64,
    /// Held for writing while replicas are compared with their masters (workers stop).
    quiesce: Quiesce,
}

impl FaultRunner {
    pub fn new(cluster: Arc<Cluster>, journal: Arc<Journal>, seed: u64, quiesce: Quiesce) -> FaultRunner {
        let client = ClusterClient::new(cluster.clone(), journal.clone());
        let rng = StdRng::seed_from_u64(seed ^ 0xFA17_FA17_FA17_FA17);
        FaultRunner { cluster, journal, rng, client, counts: Counts::default(), big_seq: 0, quiesce }
    }

    /// Inject faults until `until` (and at least one of each kind); returns counts per kind.
    pub fn run(mut self, until: Instant) -> Counts {
        let kinds = enabled();
        let mut first_round = kinds.clone();
        first_round.shuffle(&mut self.rng);
        std::thread::sleep(Duration::from_secs(3));
        loop {
            let fault = match first_round.pop() {
                Some(f) => f,
                None if Instant::now() >= until => break,
                None => match kinds.choose(&mut self.rng) {
                    Some(f) => *f,
                    None => {
                        std::thread::sleep(until.saturating_duration_since(Instant::now()));
                        break;
                    }
                },
            };
            let Ok(view) = health(&self.cluster).or_else(|_| View::any(&self.cluster)) else {
                std::thread::sleep(Duration::from_secs(1));
                continue;
            };
            self.inject(fault, &view);
            if let Some(healed) = self.heal(fault) {
                self.compare_replicas(fault, &healed);
            }
            std::thread::sleep(Duration::from_millis(self.rng.gen_range(500..3000)));
        }
        self.counts
    }

    fn inject(&mut self, fault: Fault, view: &View) {
        let masters: Vec<Row> = view.masters().into_iter().cloned().collect();
        if masters.is_empty() {
            return;
        }
        let shard = self.rng.gen_range(0..masters.len());
        let master = masters[shard].clone();
        let replica = view.replicas_of(&master.id).first().map(|r| (*r).clone());
        // Sometimes a replica fault lands while a reshard moves slots (and their keys, big
        // values too) between two masters; the tool has checked the cluster by then.
        // (Not beside an operator fault: CLIENT KILL TYPE normal would kill the tool's links.)
        let on_replica = matches!(fault, Fault::PauseReplica | Fault::KillLink | Fault::RestartReplica);
        let beside = match on_replica && replica.is_some() && self.rng.gen_bool(0.35) {
            true => {
                let from = self.rng.gen_range(0..masters.len());
                self.plan_reshard(&masters, from, 3000)
            }
            false => None,
        };
        let background = beside.map(|plan| {
            let (cluster, source) = (self.cluster.clone(), plan.source);
            let handle = std::thread::spawn(move || {
                let outcome = run_reshard(&cluster, &plan);
                (plan, outcome)
            });
            self.wait_migrating(source, &handle);
            std::thread::sleep(Duration::from_millis(self.rng.gen_range(0..500)));
            handle
        });
        match (fault, replica) {
            (Fault::PauseReplica, Some(r)) => self.pause_replica(&master, &r),
            (Fault::KillLink, Some(r)) => self.kill_link(&master, &r),
            (Fault::RestartReplica, Some(r)) => self.restart_replica(&master, &r),
            (Fault::KillMaster, Some(r)) => self.kill_master(&master, &r),
            (Fault::PauseMaster, Some(r)) => self.pause_master(&master, &r),
            (Fault::ManualFailover, Some(r)) => self.manual_failover(&master, &r),
            (Fault::Reshard, _) => self.reshard(&masters, shard),
            (Fault::Operator, Some(r)) => self.operator(&master, &r),
            (f, None) => self.journal.log(format!("skipping {f:?}: master 127.0.0.1:{} has no replica", master.port)),
        }
        if let Some(handle) = background {
            let (plan, outcome) = handle.join().expect("reshard thread");
            self.counts.add("reshard-beside-a-fault", 1);
            self.record_reshard(&plan, outcome);
        }
    }

    /// Wait (10 s at most) until the master on `source` shows a slot migrating, i.e. the
    /// reshard has loaded and checked the cluster and moves keys; or until the tool is done.
    fn wait_migrating<T>(&self, source: u16, tool: &std::thread::JoinHandle<T>) {
        let started = Instant::now();
        let i = self.index(source);
        while started.elapsed() < Duration::from_secs(10) && !tool.is_finished() {
            if self.cluster.call(i, &["CLUSTER", "NODES"]).is_ok_and(|f| text(&f).contains("->-")) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn index(&self, port: u16) -> usize {
        self.cluster.index_of(port).expect("a port of ours")
    }

    /// Wait until the cluster is healed; a finding if it is not within [`HEAL_LIMIT`].
    fn heal(&mut self, fault: Fault) -> Option<View> {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < HEAL_LIMIT {
            note_crashes(&self.cluster, &self.journal);
            match health(&self.cluster) {
                Ok(view) => {
                    self.journal.log(format!("healed in {:.1} s", started.elapsed().as_secs_f64()));
                    return Some(view);
                }
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        self.journal.finding(format!("not healed {} s after {fault:?}: {last}", HEAL_LIMIT.as_secs()));
        None
    }

    /// Stop the workers and check that every replica reaches its master's data, so a
    /// divergence is pinned to the fault that caused it (a later full sync would hide it).
    fn compare_replicas(&mut self, fault: Fault, view: &View) {
        let _quiet = self.quiesce.write().unwrap_or_else(|e| e.into_inner());
        let started = Instant::now();
        self.counts.add("convergence-checks", 1);
        match replicas_match(&self.cluster, view) {
            Ok(pairs) => self.journal.log(format!(
                "writes paused: {} replicas match their masters (DEBUG DIGEST) after {:.1} s",
                pairs.len(),
                started.elapsed().as_secs_f64()
            )),
            Err(lines) => self.journal.finding(format!(
                "after {fault:?}, with writes paused, a replica differs from its master:\n{}",
                lines.join("\n")
            )),
        }
    }

    /// Does node `i` see `port` as a master owning slots?
    pub(crate) fn promoted(&self, i: usize, port: u16) -> bool {
        let view = View::of(&self.cluster, i);
        view.is_ok_and(|v| v.by_port(port).is_some_and(|r| r.master && !r.ranges.is_empty()))
    }

    /// Poll until node `i` sees `port` as a master owning slots; false after `limit`.
    pub(crate) fn wait_promoted(&self, i: usize, port: u16, limit: Duration) -> bool {
        let started = Instant::now();
        while started.elapsed() < limit {
            if self.promoted(i, port) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

/// A node that exited by itself is a finding (with its last log lines).
pub fn note_crashes(cluster: &Cluster, journal: &Journal) {
    for crash in cluster.crashed() {
        journal.finding(crash);
    }
}

/// Replication counters of every node that is up, summed (INFO stats: sync_full,
/// sync_partial_ok, sync_partial_err), for the summary.
pub fn sync_counts(cluster: &Cluster) -> Counts {
    let mut counts = Counts::default();
    for i in 0..cluster.nodes.len() {
        let Ok(info) = cluster.call(i, &["INFO", "stats"]) else { continue };
        let info = text(&info);
        for field in ["sync_full", "sync_partial_ok", "sync_partial_err"] {
            let v = crate::topology::info_field(&info, field).parse().unwrap_or(0);
            counts.add(field, v);
        }
    }
    counts
}
