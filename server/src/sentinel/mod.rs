//! Sentinel mode: `slotbox-server --sentinel` (or `slotbox-server sentinel.conf --sentinel`)
//! runs a Redis 7.0 Sentinel instead of a data server — monitoring master/replica groups,
//! agreeing with the other sentinels that a master is down, electing a leader and failing
//! over, and answering the SENTINEL commands. It is its own small event loop with outgoing
//! connections; it shares nothing with the data server but the leaves (log, rand, glob,
//! listen) and the protocol crate.
//!
//! Files: `settings` (what the config says), `config`/`config_sentinel` (parsing), `rewrite`
//! (persisting), `instance`/`state`
//! (the data), `link` (outgoing sockets), `periodic` (the timer), `replies`/`info`/`hello`
//! (what comes back), `election`/`failover`/`reset` (the failover), `client`/`ctx`/`commands`/
//! `client_cmd`/`sentinel_cmd`/`admin`/`render`/`info_cmd` (the clients' side),
//! `event_loop` (the loop).

mod admin;
mod client;
mod client_cmd;
mod commands;
pub mod config;
mod config_sentinel;
mod ctx;
mod election;
mod event_loop;
mod failover;
mod hello;
mod info;
mod info_cmd;
pub mod instance;
mod link;
mod periodic;
mod render;
mod replies;
mod reset;
mod rewrite;
mod sentinel_cmd;
pub mod settings;
pub mod state;
#[cfg(test)]
mod tests;

use instance::{Addr, Instance, Kind, Master};
use state::{Level, Loc, Sentinel};

/// Whether the command line asks for sentinel mode (`--sentinel`, or a binary named
/// `*-sentinel`, as `redis-sentinel` is).
pub fn requested(argv0: &str, args: &[String]) -> bool {
    argv0.ends_with("-sentinel") || args.iter().any(|a| a == "--sentinel")
}

/// Build the state from the parsed config: masters with their known replicas and sentinels.
fn build(p: settings::Parsed) -> Sentinel {
    let myid = p.myid.clone().unwrap_or_else(|| crate::rand::random_hex(40));
    let mut s = Sentinel::new(p.settings.clone(), myid, p.current_epoch);
    for spec in p.masters {
        let id = s.next_id();
        let mut m = Master::new(id, &spec.name, Addr::new(&spec.ip, spec.port), spec.quorum);
        m.down_after = spec.down_after.unwrap_or(m.down_after);
        m.failover_timeout = spec.failover_timeout.unwrap_or(m.failover_timeout);
        m.parallel_syncs = spec.parallel_syncs.unwrap_or(m.parallel_syncs);
        m.auth_pass = spec.auth_pass;
        m.auth_user = spec.auth_user;
        m.config_epoch = spec.config_epoch;
        m.inst.leader_epoch = spec.leader_epoch;
        s.masters.push(m);
        let mi = s.masters.len() - 1;
        for (ip, port) in spec.known_replicas {
            let id = s.next_id();
            let a = Addr::new(&ip, port);
            if s.masters[mi].replica_index(&ip, port).is_none() {
                s.masters[mi].replicas.push(Instance::new(id, Kind::Replica, a.name(), a));
            }
        }
        for (ip, port, runid) in spec.known_sentinels {
            if runid != s.myid {
                s.add_sentinel(mi, &ip, port, &runid, false);
            }
        }
    }
    s
}

/// Run a sentinel from the command line (`args` without the program name). Returns the exit
/// code.
pub fn main(args: &[String]) -> i32 {
    // `--sentinel` alone selects the mode; followed by words it is a `sentinel ...` line.
    let (file, lines) = match config::lines_from_args(args) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let parsed = match config::parse(file, &lines) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("\n{e}");
            return 1;
        }
    };
    if parsed.settings.daemonize {
        eprintln!("slotbox sentinels run in the foreground: use `daemonize no` (and a supervisor)");
        return 1;
    }
    if let Err(e) = crate::log::init(parsed.settings.logfile.as_deref(), &parsed.settings.loglevel) {
        eprintln!("Can't open the log file: {e}");
        return 1;
    }
    if let Some(pidfile) = &parsed.settings.pidfile {
        let _ = std::fs::write(pidfile, format!("{}\n", std::process::id()));
    }
    let mut s = build(parsed);
    if let Some(f) = &s.settings.config_file {
        if let Err(e) = rewrite::flush(&s) {
            crate::log::warning(&format!("Sentinel config file {} is not writable: {e}. Exiting...", f.display()));
            return 1;
        }
    } else {
        crate::log::warning("Sentinel started without a config file: its state will not be saved");
    }
    let pidfile = s.settings.pidfile.clone();
    s.announce_start();
    let ev = match event_loop::EventLoop::new(s) {
        Ok(ev) => ev,
        Err(e) => {
            crate::log::warning(&format!("Failed to start: {e}"));
            eprintln!("slotbox-server: {e}");
            return 1;
        }
    };
    for a in ev.addrs() {
        crate::log::notice(&format!("Ready to accept connections tcp on {a}"));
    }
    ev.run();
    if let Some(p) = pidfile {
        let _ = std::fs::remove_file(p);
    }
    0
}

impl Sentinel {
    /// The startup events: the sentinel id, and `+monitor` per master (Redis's
    /// `sentinelGenerateInitialMonitorEvents`).
    fn announce_start(&mut self) {
        crate::log::notice(&format!("Sentinel ID is {}", self.myid));
        for m in 0..self.masters.len() {
            let q = self.masters[m].quorum;
            self.event_at(Level::Warning, "+monitor", Loc::master(m), &format!(" quorum {q}"));
        }
    }
}
