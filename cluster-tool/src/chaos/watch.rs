//! What the cluster did after a fault, seen from another node of the sandbox: polls its
//! `CLUSTER NODES` / `CLUSTER INFO` every 100 ms and prints, with the time since the fault,
//! each change about the target — suspected (PFAIL), marked FAIL, a replica of it promoted
//! (the new master, its slots and epoch), flags cleared, its role — and the observer's
//! cluster_state. Every wait is bounded by the caller's deadline.

use crate::conn::{frame_text, Auth, Conn};
use crate::node::{parse_nodes, NodeLine};
use std::time::{Duration, Instant};

/// The target as the observer last saw it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Seen {
    pub pfail: bool,
    pub fail: bool,
    pub master: bool,
    /// Address of the master serving the slots the target had (itself while it has them).
    pub slots_owner: Option<String>,
    pub state_ok: bool,
}

pub struct Watch {
    pub started: Instant,
    target_id: String,
    /// The target's slot ranges when the fault began (empty for a replica).
    target_slots: Vec<(u16, u16)>,
    observers: Vec<String>,
    last: Option<Seen>,
    pub new_master: Option<(String, Duration)>,
    pub fail_after: Option<Duration>,
}

fn ask(addr: &str, args: &[&str]) -> Option<String> {
    let (host, port) = crate::args::parse_host_port(addr)?;
    let mut c = Conn::open(&host, port, &Auth::default(), Duration::from_millis(500)).ok()?;
    c.call(args).ok().as_ref().and_then(frame_text)
}

/// The target's id and slot ranges, from `observer`'s view.
pub fn describe(observer: &str, target_addr: &str) -> Option<(NodeLine, Vec<NodeLine>)> {
    let lines = parse_nodes(&ask(observer, &["CLUSTER", "NODES"])?);
    let me = lines.iter().find(|l| format!("{}:{}", l.host, l.port) == target_addr)?.clone();
    Some((me, lines))
}

pub fn ranges(l: &NodeLine) -> Vec<(u16, u16)> {
    l.slots
        .iter()
        .filter_map(|t| match t {
            crate::node::SlotToken::Range(a, b) => Some((*a, *b)),
            _ => None,
        })
        .collect()
}

impl Watch {
    pub fn new(target: &NodeLine, observers: Vec<String>) -> Watch {
        Watch {
            started: Instant::now(),
            target_id: target.name.clone(),
            target_slots: ranges(target),
            observers,
            last: None,
            new_master: None,
            fail_after: None,
        }
    }

    fn stamp(&self) -> String {
        format!("+{:>5.1} s", self.started.elapsed().as_secs_f64())
    }

    /// Take the cluster's current view of the target as the starting point, printing
    /// nothing (a restart begins from a node already flagged failing).
    pub fn prime(&mut self) {
        self.look_inner(false);
    }

    /// One look; prints what changed. None when no observer answers.
    pub fn look(&mut self) -> Option<Seen> {
        self.look_inner(true)
    }

    fn look_inner(&mut self, print: bool) -> Option<Seen> {
        let (observer, lines, info) = self.observers.iter().find_map(|o| {
            let nodes = ask(o, &["CLUSTER", "NODES"])?;
            Some((o.clone(), parse_nodes(&nodes), ask(o, &["CLUSTER", "INFO"]).unwrap_or_default()))
        })?;
        let me = lines.iter().find(|l| l.name == self.target_id);
        let owner = self
            .target_slots
            .first()
            .and_then(|(a, _)| lines.iter().find(|l| ranges(l).iter().any(|(x, y)| x <= a && a <= y)).cloned());
        let seen = Seen {
            pfail: me.is_some_and(|l| l.has_flag("fail?")),
            fail: me.is_some_and(|l| l.has_flag("fail")),
            master: me.is_some_and(|l| l.has_flag("master")),
            slots_owner: owner.as_ref().map(|l| format!("{}:{}", l.host, l.port)),
            state_ok: info.contains("cluster_state:ok"),
        };
        let first =
            Seen { state_ok: true, master: seen.master, slots_owner: seen.slots_owner.clone(), ..Default::default() };
        // Priming compares the view with itself: nothing to tell.
        let prev = if print { self.last.clone().unwrap_or(first) } else { seen.clone() };
        let t = self.stamp();
        if seen.pfail && !prev.pfail {
            println!("  {t}  {observer} suspects it (PFAIL)");
        }
        if seen.fail && !prev.fail {
            self.fail_after.get_or_insert(self.started.elapsed());
            println!("  {t}  marked FAIL by the cluster (seen from {observer})");
        }
        if !seen.fail && !seen.pfail && (prev.fail || prev.pfail) {
            println!("  {t}  no longer flagged failing");
        }
        if seen.slots_owner != prev.slots_owner {
            if let (Some(o), Some(l)) = (&seen.slots_owner, &owner) {
                let n: usize = ranges(l).iter().map(|(a, b)| (*b - *a) as usize + 1).sum();
                println!("  {t}  {o} is the new master of its slots ({n} slots, config epoch {})", l.config_epoch);
                if l.name != self.target_id {
                    self.new_master.get_or_insert((o.clone(), self.started.elapsed()));
                }
            }
        }
        if seen.master != prev.master && me.is_some() {
            println!("  {t}  it is now a {}", if seen.master { "master" } else { "replica" });
        }
        if seen.state_ok != prev.state_ok {
            println!("  {t}  cluster_state {} (seen from {observer})", if seen.state_ok { "ok" } else { "fail" });
        }
        self.last = Some(seen.clone());
        Some(seen)
    }

    /// "master" / "replica" as last seen.
    pub fn last_role(&self) -> Option<&'static str> {
        self.last.as_ref().map(|s| if s.master { "master" } else { "replica" })
    }

    /// Look every 100 ms until `done` says so or `limit` has passed since the fault; true if done.
    pub fn until(&mut self, limit: Duration, mut done: impl FnMut(&Seen, &Watch) -> bool) -> bool {
        loop {
            if let Some(seen) = self.look() {
                if done(&seen, self) {
                    return true;
                }
            }
            if self.started.elapsed() >= limit {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
