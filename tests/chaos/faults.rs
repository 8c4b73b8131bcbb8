//! The fault schedule and its runner. Faults come one at a time, on a schedule drawn from the
//! run's seed: first every kind once (in a seeded order, even if that takes longer than the
//! run's duration), then seeded picks until the duration is over. After each fault the runner
//! waits (bounded) for the cluster to heal — see `topology::health` — and journals a finding
//! if it does not; then a seeded pause before the next one.
//!
//! Kinds: a replica paused with SIGSTOP for a few seconds (shorter or longer than
//! `repl-timeout`) while its master takes megabytes of big values, then SIGCONT; a replica's
//! link killed from either side (`CLIENT KILL TYPE replica` on the master, `CLIENT KILL TYPE
//! master` on the replica); kill -9 and restart of a replica; kill -9 of a master (its replica
//! must take over) and its restart once the failover happened (it must rejoin as a replica);
//! a `slotbox-cluster reshard` of some slots between two masters, while the workload writes.

use crate::client::ClusterClient;
use crate::common::text;
use crate::journal::{Counts, Journal};
use crate::nodes::{Cluster, NODE_TIMEOUT_MS, REPL_TIMEOUT_S};
use crate::topology::{health, Row, View};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use slotbox::protocol::{key_hash_slot, Frame};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the cluster may take to heal after a fault.
pub const HEAL_LIMIT: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    PauseReplica,
    KillLink,
    RestartReplica,
    KillMaster,
    Reshard,
}

const ALL: [Fault; 5] =
    [Fault::PauseReplica, Fault::KillLink, Fault::RestartReplica, Fault::KillMaster, Fault::Reshard];

pub struct FaultRunner {
    cluster: Arc<Cluster>,
    journal: Arc<Journal>,
    rng: StdRng,
    client: ClusterClient,
    counts: Counts,
    big_seq: u64,
}

impl FaultRunner {
    pub fn new(cluster: Arc<Cluster>, journal: Arc<Journal>, seed: u64) -> FaultRunner {
        let client = ClusterClient::new(cluster.clone(), journal.clone());
        let rng = StdRng::seed_from_u64(seed ^ 0xFA17_FA17_FA17_FA17);
        FaultRunner { cluster, journal, rng, client, counts: Counts::default(), big_seq: 0 }
    }

    /// Inject faults until `until` (and at least one of each kind); returns counts per kind.
    pub fn run(mut self, until: Instant) -> Counts {
        let mut first_round = ALL.to_vec();
        first_round.shuffle(&mut self.rng);
        std::thread::sleep(Duration::from_secs(3));
        loop {
            let fault = match first_round.pop() {
                Some(f) => f,
                None if Instant::now() >= until => break,
                None => *ALL.choose(&mut self.rng).expect("kinds"),
            };
            let Ok(view) = self.settled_view() else {
                std::thread::sleep(Duration::from_secs(1));
                continue;
            };
            self.inject(fault, &view);
            self.heal(fault);
            std::thread::sleep(Duration::from_millis(self.rng.gen_range(500..3000)));
        }
        self.counts
    }

    /// The view to pick targets from; healing is waited for after every fault, so this is
    /// the healed cluster (or whatever it became, if it never healed).
    fn settled_view(&mut self) -> Result<View, String> {
        health(&self.cluster).or_else(|_| View::any(&self.cluster))
    }

    fn inject(&mut self, fault: Fault, view: &View) {
        let masters: Vec<Row> = view.masters().into_iter().cloned().collect();
        if masters.is_empty() {
            return;
        }
        let shard = self.rng.gen_range(0..masters.len());
        let master = masters[shard].clone();
        let replica = view.replicas_of(&master.id).first().map(|r| (*r).clone());
        match (fault, replica) {
            (Fault::PauseReplica, Some(r)) => self.pause_replica(&master, &r),
            (Fault::KillLink, Some(r)) => self.kill_link(&master, &r),
            (Fault::RestartReplica, Some(r)) => self.restart_replica(&r),
            (Fault::KillMaster, Some(r)) => self.kill_master(&master, &r),
            (Fault::Reshard, _) => self.reshard(&masters, shard),
            (f, None) => self.journal.log(format!("skipping {f:?}: master 127.0.0.1:{} has no replica", master.port)),
        }
    }

    fn index(&self, port: u16) -> usize {
        self.cluster.index_of(port).expect("a port of ours")
    }

    /// Wait until the cluster is healed; a finding if it is not within [`HEAL_LIMIT`].
    fn heal(&mut self, fault: Fault) {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < HEAL_LIMIT {
            match health(&self.cluster) {
                Ok(_) => {
                    self.journal.log(format!("healed in {:.1} s", started.elapsed().as_secs_f64()));
                    return;
                }
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        self.journal.finding(format!("not healed {} s after {fault:?}: {last}", HEAL_LIMIT.as_secs()));
    }

    /// SIGSTOP a replica, write big values to its master meanwhile, SIGCONT.
    fn pause_replica(&mut self, master: &Row, replica: &Row) {
        let long = self.rng.gen_bool(0.5);
        let secs =
            if long { self.rng.gen_range(REPL_TIMEOUT_S + 2..=REPL_TIMEOUT_S + 6) } else { self.rng.gen_range(2..=4) };
        let mb = self.rng.gen_range(2..=24u64);
        let ri = self.index(replica.port);
        self.journal.log(format!(
            "fault: SIGSTOP replica 127.0.0.1:{} of 127.0.0.1:{} for {secs} s, writing {mb} MB of big values to its master",
            replica.port, master.port
        ));
        self.cluster.nodes[ri].mark("SIGSTOP");
        let started = Instant::now();
        self.cluster.pause(ri);
        self.counts.add(if long { "pause-replica-long" } else { "pause-replica-short" }, 1);
        self.write_big(master, mb << 20);
        let rest = Duration::from_secs(secs).saturating_sub(started.elapsed());
        std::thread::sleep(rest);
        self.cluster.resume(ri);
        self.cluster.nodes[ri].mark("SIGCONT");
        self.journal.log(format!("SIGCONT 127.0.0.1:{} after {:.1} s", replica.port, started.elapsed().as_secs_f64()));
    }

    /// Write about `bytes` of 1-8 MB values to keys in `master`'s slots.
    fn write_big(&mut self, master: &Row, bytes: u64) {
        let Some(tag) = tag_in(master) else { return };
        let mut written = 0u64;
        while written < bytes {
            let size = self.rng.gen_range(1usize << 20..=8 << 20).min((bytes - written).max(1 << 20) as usize);
            self.big_seq += 1;
            let key = format!("chaosbig:{{{tag}}}:{}", self.big_seq % 8);
            let value = vec![b'a' + (self.big_seq % 26) as u8; size];
            let slot = key_hash_slot(key.as_bytes());
            match self.client.one(slot, vec![b"SET".to_vec(), key.into_bytes(), value]) {
                Ok(r) if r == Frame::ok() => written += size as u64,
                Ok(r) => {
                    self.journal.unexpected("SET", &format!("{r:?} for a {size}-byte value"));
                    return;
                }
                Err(_) => return,
            }
        }
        self.counts.add("big-bytes-during-pause", written);
    }

    fn kill_link(&mut self, master: &Row, replica: &Row) {
        let (node, args, kind) = if self.rng.gen_bool(0.5) {
            (master.port, ["CLIENT", "KILL", "TYPE", "replica"], "kill-link-on-master")
        } else {
            (replica.port, ["CLIENT", "KILL", "TYPE", "master"], "kill-link-on-replica")
        };
        let reply = self.cluster.call(self.index(node), &args);
        self.journal.log(format!(
            "fault: {} on 127.0.0.1:{node} (replica 127.0.0.1:{} of 127.0.0.1:{}): {reply:?}",
            args.join(" "),
            replica.port,
            master.port
        ));
        self.counts.add(kind, 1);
        if !matches!(reply, Ok(Frame::Integer(n)) if n >= 1) {
            self.journal.finding(format!("{} on 127.0.0.1:{node} killed nothing: {reply:?}", args.join(" ")));
        }
    }

    fn restart_replica(&mut self, replica: &Row) {
        let ri = self.index(replica.port);
        let down = Duration::from_millis(self.rng.gen_range(500..3000));
        self.journal.log(format!(
            "fault: kill -9 replica 127.0.0.1:{}, restart in {:.1} s",
            replica.port,
            down.as_secs_f64()
        ));
        self.cluster.nodes[ri].mark("kill -9");
        self.cluster.kill(ri);
        self.counts.add("restart-replica", 1);
        std::thread::sleep(down);
        self.cluster.nodes[ri].mark("restart");
        if let Err(e) = self.cluster.restart(ri) {
            self.journal.finding(format!("replica 127.0.0.1:{} did not restart: {e}", replica.port));
        }
    }

    /// kill -9 a master, wait for its replica to take over, restart the old master.
    fn kill_master(&mut self, master: &Row, replica: &Row) {
        let (mi, ri) = (self.index(master.port), self.index(replica.port));
        self.journal
            .log(format!("fault: kill -9 master 127.0.0.1:{} (replica 127.0.0.1:{})", master.port, replica.port));
        self.cluster.nodes[mi].mark("kill -9");
        let started = Instant::now();
        self.cluster.kill(mi);
        self.counts.add("kill-master", 1);
        let limit = Duration::from_millis(NODE_TIMEOUT_MS) + Duration::from_secs(30);
        let promoted = loop {
            let view = View::of(&self.cluster, ri);
            if view.as_ref().is_ok_and(|v| v.by_port(replica.port).is_some_and(|r| r.master && !r.ranges.is_empty())) {
                break true;
            }
            if started.elapsed() > limit {
                break false;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        if promoted {
            self.journal.log(format!(
                "failover: 127.0.0.1:{} promoted after {:.1} s",
                replica.port,
                started.elapsed().as_secs_f64()
            ));
            self.counts.add("failover", 1);
        } else {
            self.journal.finding(format!(
                "replica 127.0.0.1:{} not promoted {} s after its master died",
                replica.port,
                limit.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(self.rng.gen_range(0..3000)));
        self.cluster.nodes[mi].mark("restart (old master)");
        if let Err(e) = self.cluster.restart(mi) {
            self.journal.finding(format!("old master 127.0.0.1:{} did not restart: {e}", master.port));
        }
    }

    /// `slotbox-cluster reshard` of some slots from one master to another, as a subprocess.
    fn reshard(&mut self, masters: &[Row], from: usize) {
        let to = (from + self.rng.gen_range(1..masters.len().max(2))) % masters.len();
        if to == from {
            return;
        }
        let (src, dst) = (&masters[from], &masters[to]);
        let max = src.slot_count().saturating_sub(1).min(400);
        if max < 10 {
            return;
        }
        let n = self.rng.gen_range(10..=max);
        let entry = format!("127.0.0.1:{}", dst.port);
        let args = format!(
            "reshard {entry} --cluster-from {} --cluster-to {} --cluster-slots {n} --cluster-yes",
            src.id, dst.id
        );
        self.journal.log(format!("fault: reshard {n} slots 127.0.0.1:{} -> 127.0.0.1:{}", src.port, dst.port));
        let started = Instant::now();
        let args: Vec<String> = args.split(' ').map(String::from).collect();
        let (ok, out) = self.cluster.tool(&args, Duration::from_secs(300));
        self.counts.add("reshard", 1);
        self.counts.add("resharded-slots", n as u64);
        if ok {
            self.journal.log(format!("reshard done in {:.1} s", started.elapsed().as_secs_f64()));
        } else {
            let tail: Vec<&str> = out.lines().rev().take(15).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            self.journal.finding(format!("slotbox-cluster {} failed:\n{}", args.join(" "), tail.join("\n")));
        }
    }
}

/// A hash tag whose slot `master` owns.
fn tag_in(master: &Row) -> Option<String> {
    (0..100_000).map(|n| format!("c{n}")).find(|t| {
        let s = key_hash_slot(t.as_bytes());
        master.ranges.iter().any(|(a, b)| (*a..=*b).contains(&s))
    })
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
