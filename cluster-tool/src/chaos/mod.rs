//! `slotbox-cluster chaos kill|restart|pause|partition NODE [SECONDS] [--run-dir DIR]`: one
//! fault on one node of the sandbox `make run-cluster` started (found by its pid file in the
//! run directory, never any other process), then what the cluster did next as another node
//! saw it (`watch.rs`), with the time to FAIL and to the new master.
//!
//! - `kill`: SIGKILL; waits for FAIL and, for a master, for a replica to take its slots.
//! - `restart`: SIGTERM (SIGKILL after 10 s), start again with the saved command line; waits
//!   until it answers and the cluster no longer flags it.
//! - `pause`: SIGSTOP for SECONDS, then SIGCONT (a network stall): the cluster may fail it over.
//! - `partition`: `DEBUG PARTITION SECONDS` on the node: its cluster bus and clients go silent
//!   while the process runs on (it sees its peers fail), then it rejoins.

mod procs;
mod watch;

use crate::conn::{Auth, Conn};
use procs::NodeProc;
use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = concat!(
    "Usage: slotbox-cluster chaos kill|restart|pause|partition NODE [SECONDS] [--run-dir DIR]\n",
    "    NODE: the port (or 127.0.0.1:PORT) of a node `make run-cluster` started;\n",
    "    pause and partition take SECONDS; the run directory is $SLOTBOX_RUN_DIR, else ./run."
);

#[derive(Debug, PartialEq)]
pub struct ChaosArgs {
    pub action: String,
    pub port: u16,
    pub seconds: Option<f64>,
    pub run_dir: PathBuf,
}

/// Parse the arguments after `chaos`; `env` reads SLOTBOX_RUN_DIR.
pub fn parse(argv: &[String], env: impl Fn(&str) -> Option<String>) -> Result<ChaosArgs, String> {
    let mut positional = Vec::new();
    let mut run_dir = env("SLOTBOX_RUN_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("run"));
    let mut it = argv.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--run-dir" => run_dir = PathBuf::from(it.next().ok_or(format!("--run-dir needs a value\n{USAGE}"))?),
            s if s.starts_with("--") => return Err(format!("unknown option '{s}'\n{USAGE}")),
            s => positional.push(s.to_string()),
        }
    }
    let [action, node, rest @ ..] = positional.as_slice() else { return Err(USAGE.into()) };
    if !["kill", "restart", "pause", "partition"].contains(&action.as_str()) {
        return Err(format!("unknown chaos action '{action}'\n{USAGE}"));
    }
    let port = node
        .strip_prefix("127.0.0.1:")
        .or_else(|| node.strip_prefix("localhost:"))
        .unwrap_or(node)
        .parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("'{node}' is not a sandbox node: give its port (or 127.0.0.1:PORT)"))?;
    let timed = matches!(action.as_str(), "pause" | "partition");
    let seconds = match (timed, rest) {
        (true, [s]) => Some(
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0 && *v <= 3600.0)
                .ok_or_else(|| format!("SECONDS must be a number from 0 to 3600, not '{s}'"))?,
        ),
        (false, []) => None,
        _ => return Err(format!("wrong number of arguments for chaos {action}\n{USAGE}")),
    };
    Ok(ChaosArgs { action: action.clone(), port, seconds, run_dir })
}

/// Run one fault and report; Err is the message to print (exit status 1).
pub fn run(a: ChaosArgs) -> Result<(), String> {
    let nodes = procs::nodes(&a.run_dir);
    let target = nodes.iter().find(|n| n.port == a.port).cloned().ok_or_else(|| {
        let ports: Vec<String> = nodes.iter().map(|n| n.port.to_string()).collect();
        format!(
            "no sandbox node {} in {} (nodes there: {}); start one with `make run-cluster`",
            a.port,
            a.run_dir.display(),
            if ports.is_empty() { "none".into() } else { ports.join(" ") }
        )
    })?;
    // Observers: the other running nodes, masters first once we know the roles.
    let observers: Vec<String> =
        nodes.iter().filter(|n| n.port != a.port && n.pid().is_some()).map(NodeProc::addr).collect();
    let Some((me, all)) = observers.iter().find_map(|o| watch::describe(o, &target.addr())) else {
        return Err(format!("no other sandbox node answers or knows {} (is the cluster up?)", target.addr()));
    };
    let mut observers = observers;
    observers.sort_by_key(|o| !all.iter().any(|l| l.has_flag("master") && format!("{}:{}", l.host, l.port) == *o));
    let timeout = node_timeout(&observers[0]);
    let slots: usize = watch::ranges(&me).iter().map(|(x, y)| (*y - *x) as usize + 1).sum();
    let role = if me.has_flag("master") { format!("a master with {slots} slots") } else { "a replica".into() };
    let limit = timeout * 10 + Duration::from_secs(10);
    let mut w = watch::Watch::new(&me, observers);
    match a.action.as_str() {
        "kill" => kill(&target, &role, slots, &mut w, limit),
        "restart" => restart(&target, &role, &mut w, limit),
        "pause" => pause(&target, &role, a.seconds.unwrap_or(1.0), &mut w, limit),
        _ => partition(&target, &role, a.seconds.unwrap_or(1.0), &mut w, limit),
    }
}

fn node_timeout(addr: &str) -> Duration {
    let ms = crate::args::parse_host_port(addr)
        .and_then(|(h, p)| Conn::open(&h, p, &Auth::default(), Duration::from_secs(1)).ok())
        .and_then(|mut c| match c.call(&["CONFIG", "GET", "cluster-node-timeout"]).ok()? {
            slotbox_protocol::Frame::Array(kv) => kv.get(1).and_then(crate::conn::frame_text)?.parse::<u64>().ok(),
            _ => None,
        })
        .unwrap_or(15000);
    Duration::from_millis(ms)
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn summary(w: &watch::Watch, what: &str) {
    let fail = w.fail_after.map_or("not marked FAIL".into(), |d| format!("FAIL after {}", secs(d)));
    let master = match &w.new_master {
        Some((addr, d)) => format!("; new master {addr} after {}", secs(*d)),
        None => String::new(),
    };
    println!("{what}: {fail}{master}");
}

fn kill(t: &NodeProc, role: &str, slots: usize, w: &mut watch::Watch, limit: Duration) -> Result<(), String> {
    let pid = t.signal("KILL")?;
    println!("chaos kill: sent SIGKILL to {} (pid {pid}), {role}", t.addr());
    let done = w.until(limit, |s, w| s.fail && (slots == 0 || w.new_master.is_some()) && s.state_ok);
    summary(w, &format!("{} killed", t.addr()));
    if !done {
        println!("(stopped watching after {}: the cluster had not finished reacting)", secs(limit));
    }
    println!("Bring it back with: slotbox-cluster chaos restart {}", t.port);
    Ok(())
}

fn restart(t: &NodeProc, role: &str, w: &mut watch::Watch, limit: Duration) -> Result<(), String> {
    if let Ok(pid) = t.signal("TERM") {
        let _ = t.signal("CONT");
        println!("chaos restart: sent SIGTERM to {} (pid {pid}), {role}", t.addr());
        if !t.wait_gone(pid, Duration::from_secs(10)) {
            let _ = t.signal("KILL");
            t.wait_gone(pid, Duration::from_secs(5));
            println!("  it did not exit within 10 s: sent SIGKILL");
        }
    } else {
        println!("chaos restart: {} was not running", t.addr());
    }
    w.prime();
    let pid = t.start()?;
    println!("  {} started again (pid {pid}) from {}", t.addr(), t.dir.join("argv").display());
    let answered = w.until(Duration::from_secs(10), |_, _| {
        crate::args::parse_host_port(&t.addr())
            .and_then(|(h, p)| Conn::open(&h, p, &Auth::default(), Duration::from_millis(300)).ok())
            .is_some_and(|mut c| c.call(&["PING"]).is_ok())
    });
    if !answered {
        return Err(format!(
            "{} did not answer within 10 s after the restart; see {}",
            t.addr(),
            t.dir.join("log").display()
        ));
    }
    println!("  +{:>5.1} s  it answers", w.started.elapsed().as_secs_f64());
    let back = w.until(limit, |s, _| !s.fail && !s.pfail);
    let role = w.last_role().unwrap_or("unknown role");
    match back {
        true => {
            println!("{} restarted: back in the cluster after {}, as a {role}", t.addr(), secs(w.started.elapsed()))
        }
        false => println!("{} restarted: still flagged failing after {}", t.addr(), secs(w.started.elapsed())),
    }
    println!("{}", if back { "It is part of the cluster again." } else { "It is still flagged failing." });
    Ok(())
}

fn pause(t: &NodeProc, role: &str, seconds: f64, w: &mut watch::Watch, limit: Duration) -> Result<(), String> {
    let pid = t.signal("STOP")?;
    println!("chaos pause: sent SIGSTOP to {} (pid {pid}), {role}, for {seconds} s", t.addr());
    let length = Duration::from_secs_f64(seconds);
    w.until(length, |_, _| false);
    t.signal("CONT")?;
    println!("  +{:>5.1} s  sent SIGCONT", w.started.elapsed().as_secs_f64());
    let back = w.until(length + limit, |s, _| !s.fail && !s.pfail);
    summary(w, &format!("{} paused {seconds} s", t.addr()));
    println!("{}", if back { "It is part of the cluster again." } else { "It is still flagged failing." });
    Ok(())
}

fn partition(t: &NodeProc, role: &str, seconds: f64, w: &mut watch::Watch, limit: Duration) -> Result<(), String> {
    t.pid().ok_or_else(|| format!("node {} is not running", t.addr()))?;
    let mut c = Conn::open("127.0.0.1", t.port, &Auth::default(), Duration::from_secs(2)).map_err(|e| e.to_string())?;
    c.call_ok(&["DEBUG", "PARTITION", &seconds.to_string()]).map_err(|e| e.to_string())?;
    println!(
        "chaos partition: {} ({role}) cut off from the cluster bus and its clients for {seconds} s (DEBUG PARTITION)",
        t.addr()
    );
    let length = Duration::from_secs_f64(seconds);
    w.until(length, |_, _| false);
    println!("  +{:>5.1} s  the partition is over", w.started.elapsed().as_secs_f64());
    let back = w.until(length + limit, |s, _| !s.fail && !s.pfail);
    summary(w, &format!("{} partitioned {seconds} s", t.addr()));
    println!("{}", if back { "It is part of the cluster again." } else { "It is still flagged failing." });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<ChaosArgs, String> {
        let v: Vec<String> = s.split_whitespace().map(str::to_string).collect();
        parse(&v, |_| None)
    }

    #[test]
    fn command_line() {
        let a = p("kill 7000").unwrap();
        assert_eq!((a.action.as_str(), a.port, a.seconds, a.run_dir), ("kill", 7000, None, PathBuf::from("run")));
        let a = p("pause 127.0.0.1:7001 2.5 --run-dir /tmp/x").unwrap();
        assert_eq!((a.port, a.seconds, a.run_dir), (7001, Some(2.5), PathBuf::from("/tmp/x")));
        assert!(p("pause 7001").unwrap_err().starts_with("wrong number of arguments for chaos pause"));
        assert!(p("kill 7001 3").unwrap_err().starts_with("wrong number of arguments for chaos kill"));
        assert!(p("partition 7001 -1").unwrap_err().starts_with("SECONDS must be"));
        assert!(p("kill 10.0.0.1:7000").unwrap_err().contains("is not a sandbox node"));
        assert!(p("explode 7000").unwrap_err().starts_with("unknown chaos action 'explode'"));
        assert_eq!(p("").unwrap_err(), USAGE);
        let env = parse(&["kill".into(), "7000".into()], |_| Some("/srv/run".into())).unwrap();
        assert_eq!(env.run_dir, PathBuf::from("/srv/run"));
    }
}
