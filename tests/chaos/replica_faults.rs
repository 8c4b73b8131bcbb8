//! Faults on a replica: paused under big writes, its link killed from either side, killed
//! with -9 and restarted from its nodes.conf (sometimes killed again in its first sync).

use crate::client::cmd;
use crate::common::text;
use crate::faults::FaultRunner;
use crate::nodes::REPL_TIMEOUT_S;
use crate::topology::{info_field, Row};
use rand::Rng;
use slotbox::protocol::{key_hash_slot, Frame};
use std::time::{Duration, Instant};

/// A hash tag whose slot `master` owns.
pub fn tag_in(master: &Row) -> Option<String> {
    (0..100_000).map(|n| format!("c{n}")).find(|t| {
        let s = key_hash_slot(t.as_bytes());
        master.ranges.iter().any(|(a, b)| (*a..=*b).contains(&s))
    })
}

impl FaultRunner {
    /// SIGSTOP a replica, write big values to its master meanwhile (more than the backlog),
    /// SIGCONT. A long pause outlasts repl-timeout: both sides drop the link.
    pub(crate) fn pause_replica(&mut self, master: &Row, replica: &Row) {
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
        let keys = self.write_big(master, mb << 20);
        std::thread::sleep(Duration::from_secs(secs).saturating_sub(started.elapsed()));
        self.cluster.resume(ri);
        self.cluster.nodes[ri].mark("SIGCONT");
        self.journal.log(format!("SIGCONT 127.0.0.1:{} after {:.1} s", replica.port, started.elapsed().as_secs_f64()));
        // The big values go again (the dataset stays small enough for quick full syncs).
        for key in keys {
            let _ = self.client.one(key_hash_slot(key.as_bytes()), cmd(&["DEL", &key]));
        }
    }

    /// Write about `bytes` of 1-8 MB values to keys in `master`'s slots; returns the keys.
    pub(crate) fn write_big(&mut self, master: &Row, bytes: u64) -> Vec<String> {
        let Some(tag) = tag_in(master) else { return Vec::new() };
        let mut keys = Vec::new();
        let mut written = 0u64;
        while written < bytes {
            let size = self.rng.gen_range(1usize << 20..=8 << 20).min((bytes - written).max(1 << 20) as usize);
            self.big_seq += 1;
            let key = format!("chaosbig:{{{tag}}}:{}", self.big_seq % 8);
            let value = vec![b'a' + (self.big_seq % 26) as u8; size];
            let slot = key_hash_slot(key.as_bytes());
            keys.push(key.clone());
            match self.client.one(slot, vec![b"SET".to_vec(), key.into_bytes(), value]) {
                Ok(r) if r == Frame::ok() => written += size as u64,
                Ok(r) => {
                    self.journal.unexpected("SET", &format!("{r:?} for a {size}-byte value"));
                    break;
                }
                Err(_) => break,
            }
        }
        self.counts.add("big-bytes-during-pause", written);
        keys.sort();
        keys.dedup();
        keys
    }

    pub(crate) fn kill_link(&mut self, master: &Row, replica: &Row) {
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
            // Nothing to kill is right if the link went down on its own meanwhile.
            let info = self.cluster.call(self.index(replica.port), &["INFO", "replication"]);
            let link = info.map(|f| info_field(&text(&f), "master_link_status")).unwrap_or_default();
            let msg = format!("{} on 127.0.0.1:{node} killed nothing: {reply:?} (link {link})", args.join(" "));
            match link.as_str() {
                "up" => self.journal.finding(msg),
                _ => self.journal.log(msg),
            }
        }
    }

    /// kill -9 a replica and restart it; sometimes kill it again as soon as its first sync
    /// with the master begins (or the link comes up), and restart it once more.
    pub(crate) fn restart_replica(&mut self, master: &Row, replica: &Row) {
        let ri = self.index(replica.port);
        let down = Duration::from_millis(self.rng.gen_range(500..3000));
        let twice = self.rng.gen_bool(0.4);
        self.journal.log(format!(
            "fault: kill -9 replica 127.0.0.1:{} (of 127.0.0.1:{}), restart in {:.1} s{}",
            replica.port,
            master.port,
            down.as_secs_f64(),
            if twice { ", kill it again in its first sync" } else { "" }
        ));
        self.kill_and_restart(ri, down);
        self.counts.add("restart-replica", 1);
        if twice {
            let syncing = self.wait_sync_started(ri);
            self.journal.log(format!("kill -9 127.0.0.1:{} again ({syncing})", replica.port));
            self.counts.add("restart-replica-mid-sync", 1);
            self.kill_and_restart(ri, Duration::from_millis(300));
        }
    }

    fn kill_and_restart(&mut self, i: usize, down: Duration) {
        self.cluster.nodes[i].mark("kill -9");
        self.cluster.kill(i);
        std::thread::sleep(down);
        self.cluster.nodes[i].mark("restart");
        if let Err(e) = self.cluster.restart(i) {
            self.journal.finding(format!("127.0.0.1:{} did not restart: {e}", self.cluster.nodes[i].port));
        }
    }

    /// Poll a restarted replica until its sync is in progress or its link is up (5 s at
    /// most); says which.
    fn wait_sync_started(&self, i: usize) -> String {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Ok(f) = self.cluster.call(i, &["INFO", "replication"]) {
                let info = text(&f);
                if info_field(&info, "master_sync_in_progress") == "1" {
                    return format!("syncing, {} bytes read", info_field(&info, "master_sync_read_bytes"));
                }
                if info_field(&info, "master_link_status") == "up" {
                    return "link already up".into();
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        "no sync within 5 s".into()
    }
}

impl FaultRunner {
    /// What an operator does to a live cluster: drop every normal (or pub/sub) client of a
    /// master, resize its replication backlog (16 KB to 4 MB), or BGSAVE on any node.
    pub(crate) fn operator(&mut self, master: &Row, replica: &Row) {
        let (mi, ri) = (self.index(master.port), self.index(replica.port));
        let size = format!("{}", self.rng.gen_range(16u64 << 10..=4 << 20));
        let (node, args, kind) = match self.rng.gen_range(0..4) {
            0 => (mi, vec!["CLIENT", "KILL", "TYPE", "normal"], "kill-normal-clients"),
            1 => (mi, vec!["CLIENT", "KILL", "TYPE", "pubsub"], "kill-pubsub-clients"),
            2 => (mi, vec!["CONFIG", "SET", "repl-backlog-size", &size], "resize-backlog"),
            _ => (if self.rng.gen() { mi } else { ri }, vec!["BGSAVE"], "bgsave"),
        };
        let reply = self.cluster.call(node, &args);
        let port = self.cluster.nodes[node].port;
        self.journal.log(format!("fault: {} on 127.0.0.1:{port}: {reply:?}", args.join(" ")));
        self.counts.add(kind, 1);
        if let Ok(Frame::Error(e)) = &reply {
            self.journal.finding(format!("{} on 127.0.0.1:{port}: -{}", args.join(" "), String::from_utf8_lossy(e)));
        }
    }
}
