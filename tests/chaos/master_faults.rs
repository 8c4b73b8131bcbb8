//! Faults on a master: kill -9 (its replica must take over; the old master is restarted once
//! it has, and must rejoin as a replica), SIGSTOP shorter or longer than cluster-node-timeout
//! (longer: its replica takes over while it is frozen, and on SIGCONT it must step down,
//! dropping the writes it took meanwhile), CLUSTER FAILOVER on its replica, and a reshard
//! between two masters with `slotbox-cluster reshard` as a subprocess.

use crate::faults::FaultRunner;
use crate::nodes::{Cluster, NODE_TIMEOUT_MS};
use crate::topology::Row;
use rand::Rng;
use slotbox::protocol::Frame;
use std::time::{Duration, Instant};

/// How long a failover may take once its master is unreachable or asked to step down.
fn failover_limit() -> Duration {
    Duration::from_millis(NODE_TIMEOUT_MS) + Duration::from_secs(30)
}

impl FaultRunner {
    /// kill -9 a master, wait for its replica to take over, restart the old master.
    /// Sometimes the replica has just been paused under big writes and is still catching up
    /// when its master dies: what it acknowledged (WAIT) must survive all the same.
    pub(crate) fn kill_master(&mut self, master: &Row, replica: &Row) {
        let (mi, ri) = (self.index(master.port), self.index(replica.port));
        if self.rng.gen_bool(0.3) {
            self.lagging_replica(master, ri);
        }
        self.journal
            .log(format!("fault: kill -9 master 127.0.0.1:{} (replica 127.0.0.1:{})", master.port, replica.port));
        self.cluster.nodes[mi].mark("kill -9");
        let started = Instant::now();
        self.cluster.kill(mi);
        self.counts.add("kill-master", 1);
        if self.wait_promoted(ri, replica.port, failover_limit()) {
            let took = started.elapsed().as_secs_f64();
            self.journal.log(format!("failover: 127.0.0.1:{} promoted after {took:.1} s", replica.port));
            self.counts.add("failover", 1);
        } else {
            let limit = failover_limit().as_secs();
            self.journal
                .finding(format!("replica 127.0.0.1:{} not promoted {limit} s after its master died", replica.port));
        }
        std::thread::sleep(Duration::from_millis(self.rng.gen_range(0..3000)));
        self.cluster.nodes[mi].mark("restart (old master)");
        if let Err(e) = self.cluster.restart(mi) {
            self.journal.finding(format!("old master 127.0.0.1:{} did not restart: {e}", master.port));
        }
    }

    /// SIGSTOP replica `ri` for 1-3 s while its master takes big values, SIGCONT, and let
    /// it catch up for at most half a second.
    fn lagging_replica(&mut self, master: &Row, ri: usize) {
        let pause = Duration::from_millis(self.rng.gen_range(1000..3000));
        let mb = self.rng.gen_range(2..=16u64);
        let port = self.cluster.nodes[ri].port;
        self.journal.log(format!(
            "fault: SIGSTOP replica 127.0.0.1:{port} for {:.1} s, {mb} MB to its master",
            pause.as_secs_f64()
        ));
        self.cluster.nodes[ri].mark("SIGSTOP");
        let started = Instant::now();
        self.cluster.pause(ri);
        self.counts.add("kill-master-of-a-lagging-replica", 1);
        let keys = self.write_big(master, mb << 20);
        std::thread::sleep(pause.saturating_sub(started.elapsed()));
        self.cluster.resume(ri);
        self.cluster.nodes[ri].mark("SIGCONT");
        std::thread::sleep(Duration::from_millis(self.rng.gen_range(0..500)));
        drop(keys);
    }

    /// SIGSTOP a master for 1-2 s (no failover) or well over cluster-node-timeout (its
    /// replica takes over meanwhile), then SIGCONT.
    pub(crate) fn pause_master(&mut self, master: &Row, replica: &Row) {
        let long = self.rng.gen_bool(0.6);
        let ms = if long { NODE_TIMEOUT_MS + self.rng.gen_range(4000..8000) } else { self.rng.gen_range(1000..2000) };
        let (mi, ri) = (self.index(master.port), self.index(replica.port));
        self.journal.log(format!(
            "fault: SIGSTOP master 127.0.0.1:{} (replica 127.0.0.1:{}) for {:.1} s",
            master.port,
            replica.port,
            ms as f64 / 1000.0
        ));
        self.cluster.nodes[mi].mark("SIGSTOP");
        self.cluster.pause(mi);
        std::thread::sleep(Duration::from_millis(ms));
        self.cluster.resume(mi);
        self.cluster.nodes[mi].mark("SIGCONT");
        self.counts.add(if long { "pause-master-long" } else { "pause-master-short" }, 1);
        let promoted = self.promoted(ri, replica.port);
        self.journal.log(format!(
            "SIGCONT 127.0.0.1:{}; its replica {}",
            master.port,
            if promoted { "took over meanwhile" } else { "did not take over" }
        ));
        if promoted {
            self.counts.add("failover", 1);
        }
    }

    /// CLUSTER FAILOVER on a replica: it must take over (coordinated with its master). A
    /// manual failover may time out when the replica cannot catch up in time (as in Redis);
    /// it is asked twice before that counts as a finding.
    pub(crate) fn manual_failover(&mut self, master: &Row, replica: &Row) {
        let ri = self.index(replica.port);
        self.counts.add("manual-failover", 1);
        for attempt in 1..=2 {
            let reply = self.cluster.call(ri, &["CLUSTER", "FAILOVER"]);
            self.journal.log(format!(
                "fault: CLUSTER FAILOVER on replica 127.0.0.1:{} of 127.0.0.1:{}: {reply:?}",
                replica.port, master.port
            ));
            if reply != Ok(Frame::ok()) {
                return self.journal.finding(format!("CLUSTER FAILOVER on 127.0.0.1:{}: {reply:?}", replica.port));
            }
            let started = Instant::now();
            if self.wait_promoted(ri, replica.port, Duration::from_secs(15)) {
                let took = started.elapsed().as_secs_f64();
                self.journal.log(format!("manual failover: 127.0.0.1:{} promoted after {took:.1} s", replica.port));
                self.counts.add("failover", 1);
                return;
            }
            self.journal.log(format!("manual failover: 127.0.0.1:{} not promoted (attempt {attempt})", replica.port));
        }
        self.journal.finding(format!("CLUSTER FAILOVER twice: 127.0.0.1:{} not promoted", replica.port));
    }

    /// `slotbox-cluster reshard` of some slots from one master to another, as a subprocess.
    pub(crate) fn reshard(&mut self, masters: &[Row], from: usize) {
        if let Some(plan) = self.plan_reshard(masters, from, 400) {
            let outcome = run_reshard(&self.cluster, &plan);
            self.record_reshard(&plan, outcome);
        }
    }

    /// Draw a reshard of up to `most` slots from `masters[from]` to another master.
    pub(crate) fn plan_reshard(&mut self, masters: &[Row], from: usize, most: usize) -> Option<Reshard> {
        if masters.len() < 2 {
            return None;
        }
        let to = (from + self.rng.gen_range(1..masters.len())) % masters.len();
        let (src, dst) = (&masters[from], &masters[to]);
        let max = src.slot_count().saturating_sub(1).min(most);
        if max < 10 {
            return None;
        }
        let n = self.rng.gen_range(10..=max);
        let args = format!(
            "reshard 127.0.0.1:{} --cluster-from {} --cluster-to {} --cluster-slots {n} --cluster-yes",
            dst.port, src.id, dst.id
        );
        self.journal.log(format!("fault: reshard {n} slots 127.0.0.1:{} -> 127.0.0.1:{}", src.port, dst.port));
        Some(Reshard { args: args.split(' ').map(String::from).collect(), slots: n, source: src.port })
    }

    pub(crate) fn record_reshard(&mut self, plan: &Reshard, (ok, out, took): (bool, String, Duration)) {
        self.counts.add("reshard", 1);
        self.counts.add("resharded-slots", plan.slots as u64);
        if ok {
            self.journal.log(format!("reshard of {} slots done in {:.1} s", plan.slots, took.as_secs_f64()));
        } else {
            self.journal.finding(format!("slotbox-cluster {} failed:\n{}", plan.args.join(" "), tail(&out, 15)));
            // What a user does next: close the slots it left open.
            let entry = plan.args[1].clone();
            let (ok, out) = self.cluster.tool(&["fix".into(), entry, "--cluster-yes".into()], Duration::from_secs(120));
            self.journal.log(format!("slotbox-cluster fix: {}\n{}", if ok { "ok" } else { "failed" }, tail(&out, 10)));
        }
    }
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A reshard to run: the tool's arguments and the number of slots.
pub struct Reshard {
    pub args: Vec<String>,
    pub slots: usize,
    /// The port of the master giving its slots.
    pub source: u16,
}

/// Run the tool (5 minutes at most): (success, output, time taken).
pub fn run_reshard(cluster: &Cluster, plan: &Reshard) -> (bool, String, Duration) {
    let started = Instant::now();
    let (ok, out) = cluster.tool(&plan.args, Duration::from_secs(300));
    (ok, out, started.elapsed())
}
