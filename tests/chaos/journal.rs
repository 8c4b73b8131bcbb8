//! The run's journal: a timeline of what the harness did (printed as it happens, prefixed with
//! the time since the start), and the problems it met, kept for the summary: commands that got
//! no answer within the stall bound, error replies the workload never expects, operations that
//! could not complete within the retry bound, and findings of the fault runner (a failover that
//! did not happen, a cluster that did not heal). It only records; judging is `checks.rs`.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How many examples of one kind of problem the summary shows.
const SAMPLES: usize = 8;

#[derive(Default)]
struct Problems {
    stalls: Vec<String>,
    excused_stalls: u64,
    /// Unexpected error replies: count per command name, with the first reply seen.
    unexpected: BTreeMap<String, (u64, String)>,
    gave_up: Vec<String>,
    gave_up_count: u64,
    findings: Vec<String>,
}

pub struct Journal {
    start: Instant,
    problems: Mutex<Problems>,
}

impl Journal {
    pub fn new() -> Journal {
        Journal { start: Instant::now(), problems: Mutex::new(Problems::default()) }
    }

    fn problems(&self) -> MutexGuard<'_, Problems> {
        self.problems.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Print one timeline line.
    pub fn log(&self, msg: impl AsRef<str>) {
        println!("[chaos {:>7.1}s] {}", self.start.elapsed().as_secs_f64(), msg.as_ref());
    }

    /// A command on `node` got no answer within the stall bound while the node was neither
    /// paused nor killed.
    pub fn stall(&self, node: u16, command: &str, waited: Duration) {
        let msg = format!("no answer from 127.0.0.1:{node} to {command} within {:.1} s", waited.as_secs_f64());
        self.log(format!("STALL: {msg}"));
        self.problems().stalls.push(format!("t+{:.1}s {msg}", self.elapsed().as_secs_f64()));
    }

    /// A command went unanswered because its node was paused or killed meanwhile.
    pub fn excused_stall(&self) {
        self.problems().excused_stalls += 1;
    }

    /// An error reply the workload never provokes.
    pub fn unexpected(&self, command: &str, reply: &str) {
        let mut p = self.problems();
        let e = p.unexpected.entry(command.to_ascii_uppercase()).or_insert_with(|| (0, reply.to_string()));
        e.0 += 1;
        if e.0 == 1 {
            drop(p);
            self.log(format!("UNEXPECTED reply to {command}: {reply}"));
        }
    }

    /// An operation that kept failing for the whole retry bound.
    pub fn gave_up(&self, what: &str, last_error: &str) {
        let mut p = self.problems();
        p.gave_up_count += 1;
        if p.gave_up.len() < SAMPLES {
            let msg = format!("t+{:.1}s {what}: {last_error}", self.elapsed().as_secs_f64());
            p.gave_up.push(msg.clone());
            drop(p);
            self.log(format!("GAVE UP: {msg}"));
        }
    }

    /// Something the fault runner expected did not happen (bounded wait ran out).
    pub fn finding(&self, msg: impl Into<String>) {
        let msg = msg.into();
        self.log(format!("FINDING: {msg}"));
        self.problems().findings.push(format!("t+{:.1}s {msg}", self.elapsed().as_secs_f64()));
    }

    pub fn stalls(&self) -> (Vec<String>, u64) {
        let p = self.problems();
        (p.stalls.clone(), p.excused_stalls)
    }

    pub fn unexpected_replies(&self) -> Vec<String> {
        let p = self.problems();
        p.unexpected.iter().map(|(cmd, (n, first))| format!("{cmd}: {n} times, first: {first}")).collect()
    }

    pub fn gave_up_ops(&self) -> (u64, Vec<String>) {
        let p = self.problems();
        (p.gave_up_count, p.gave_up.clone())
    }

    pub fn findings(&self) -> Vec<String> {
        self.problems().findings.clone()
    }
}

/// Counts per kind (operations, faults), merged from several threads for the summary.
#[derive(Default, Clone, Debug)]
pub struct Counts(pub BTreeMap<&'static str, u64>);

impl Counts {
    pub fn add(&mut self, kind: &'static str, n: u64) {
        *self.0.entry(kind).or_default() += n;
    }

    pub fn merge(&mut self, other: &Counts) {
        other.0.iter().for_each(|(k, n)| self.add(k, *n));
    }

    pub fn get(&self, kind: &str) -> u64 {
        self.0.get(kind).copied().unwrap_or(0)
    }

    /// The sum of every count except byte counts (kinds ending in `bytes`).
    pub fn total(&self) -> u64 {
        self.0.iter().filter(|(k, _)| !k.ends_with("bytes")).map(|(_, n)| n).sum()
    }

    /// `kind=n kind=n ...`
    pub fn line(&self) -> String {
        let show = |(k, n): (&&str, &u64)| match k.ends_with("bytes") {
            true => format!("{k}={:.1}MB", *n as f64 / 1048576.0),
            false => format!("{k}={n}"),
        };
        let parts: Vec<String> = self.0.iter().map(show).collect();
        parts.join(" ")
    }
}
