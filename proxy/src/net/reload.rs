//! Hot reload of a running proxy: a new set of pool configs (already parsed and valid) is
//! matched to the running pools by name and handed to every worker, which keeps the
//! connections of servers that stay, retires those of removed servers once their in-flight
//! requests are answered, and re-points client pins. Clients stay connected throughout.
//! What cannot change without new listeners (a pool's `listen`, `cluster`, pools added or
//! removed) is reported and left as it runs.

use super::pool::PoolShared;
use super::worker::{Inbox, Peer, Worker};
use crate::config::PoolConfig;
use crate::error::ProxyError;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long a reload waits for each worker to apply it.
const APPLY_WAIT: Duration = Duration::from_secs(5);

/// One pool a reload changed, with its servers (`host:port`) added, removed, reweighted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PoolChange {
    pub pool: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub reweighted: Vec<String>,
}

/// What a reload changed, pool by pool, and what it left alone.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReloadReport {
    pub changed: Vec<PoolChange>,
    /// Changes that need a restart and were not applied.
    pub ignored: Vec<String>,
}

impl fmt::Display for ReloadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changed.is_empty() {
            f.write_str("no pool changed")?;
        }
        for (i, c) in self.changed.iter().enumerate() {
            let sep = if i > 0 { "; " } else { "" };
            let (name, added, removed, w) = (&c.pool, &c.added, &c.removed, &c.reweighted);
            write!(f, "{sep}pool '{name}': servers added {added:?}, removed {removed:?}, reweighted {w:?}")?;
        }
        for note in &self.ignored {
            write!(f, "; not applied: {note}")?;
        }
        Ok(())
    }
}

/// Servers of `new` missing from `old`, of `old` missing from `new`, and those whose weight
/// changed (by `host:port:weight name` identity, as the ring sees them).
fn diff_servers(old: &PoolConfig, new: &PoolConfig) -> (Vec<String>, Vec<String>, Vec<String>) {
    let same = |a: &crate::config::ServerConfig, b: &crate::config::ServerConfig| a.addr == b.addr && a.name == b.name;
    let added =
        new.servers.iter().filter(|n| !old.servers.iter().any(|o| same(o, n))).map(|s| s.addr.clone()).collect();
    let removed =
        old.servers.iter().filter(|o| !new.servers.iter().any(|n| same(o, n))).map(|s| s.addr.clone()).collect();
    let reweighted = new
        .servers
        .iter()
        .filter(|n| old.servers.iter().any(|o| same(o, n) && o.weight != n.weight))
        .map(|s| s.addr.clone())
        .collect();
    (added, removed, reweighted)
}

/// Apply `new` to the running pools (`current`, with their `client_connections` limits as the
/// acceptor reads them); returns once every worker (reached through `inboxes`) has applied it.
pub fn reload(
    current: &mut [Arc<PoolShared>],
    limits: &[AtomicU32],
    inboxes: &[Peer],
    new: Vec<PoolConfig>,
) -> Result<ReloadReport, ProxyError> {
    let mut report = ReloadReport::default();
    for p in new.iter().filter(|n| !current.iter().any(|c| c.cfg.name == n.name)) {
        report.ignored.push(format!("new pool '{}' (needs a restart)", p.name));
    }
    for (pi, cur) in current.iter_mut().enumerate() {
        let Some(mut cfg) = new.iter().find(|p| p.name == cur.cfg.name).cloned() else {
            report.ignored.push(format!("removal of pool '{}' (needs a restart)", cur.cfg.name));
            continue;
        };
        if cfg.cluster != cur.cfg.cluster {
            report.ignored.push(format!("pool '{}': cluster mode change (needs a restart)", cfg.name));
            continue;
        }
        if (&cfg.sentinels, &cfg.master_name) != (&cur.cfg.sentinels, &cur.cfg.master_name) {
            report.ignored.push(format!("pool '{}': sentinels or master_name change (needs a restart)", cfg.name));
            continue;
        }
        if (&cfg.listen, cfg.listen_perm) != (&cur.cfg.listen, cur.cfg.listen_perm) {
            report.ignored.push(format!("pool '{}': listen address change (needs a restart)", cfg.name));
            (cfg.listen, cfg.listen_perm) = (cur.cfg.listen.clone(), cur.cfg.listen_perm);
        }
        if cfg == cur.cfg {
            continue;
        }
        let (added, removed, reweighted) = diff_servers(&cur.cfg, &cfg);
        report.changed.push(PoolChange { pool: cfg.name.clone(), added, removed, reweighted });
        limits[pi].store(cfg.client_connections, Ordering::Relaxed);
        let shared = Arc::new(PoolShared { cfg, stats: cur.stats.clone(), initial_slots: cur.initial_slots.clone() });
        apply(inboxes, pi, &shared)?;
        *cur = shared;
    }
    Ok(report)
}

/// Hand pool `pi`'s new config to every worker and wait until each has applied it.
fn apply(inboxes: &[Peer], pi: usize, shared: &Arc<PoolShared>) -> Result<(), ProxyError> {
    let (done_tx, done_rx) = crossbeam_channel::unbounded();
    for (tx, waker) in inboxes {
        if tx.send(Inbox::Reload(pi, shared.clone(), done_tx.clone())).is_ok() {
            let _ = waker.wake();
        }
    }
    for _ in inboxes {
        done_rx.recv_timeout(APPLY_WAIT).map_err(|_| {
            ProxyError::io("reload", std::io::Error::new(std::io::ErrorKind::TimedOut, "a worker did not answer"))
        })?;
    }
    Ok(())
}

impl Worker {
    /// Take pool `pi`'s new configuration (see the module comment).
    pub fn reload_pool(&mut self, pi: usize, shared: Arc<PoolShared>) {
        let (map, orphans) = self.pools[pi].reconfigure(shared);
        let remap = |s: usize| map.get(s).copied().flatten().unwrap_or(usize::MAX);
        for b in self.backends.values_mut().filter(|b| b.pool == pi) {
            b.server = remap(b.server);
        }
        for c in self.clients.values_mut() {
            if let Some(p) = c.tx.pin.as_mut().filter(|p| p.pool == pi) {
                p.server = remap(p.server);
            }
            if let Some(s) = c.sub.as_mut().filter(|s| s.pool == pi) {
                s.server = remap(s.server);
            }
        }
        for t in orphans {
            if let Some(b) = self.backends.get_mut(&t) {
                b.retire = true;
            }
            self.retire_if_idle(t);
        }
        self.preconnect(pi);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_diff() {
        let old =
            &crate::config::parse("p:\n  listen: 127.0.0.1:0\n  servers:\n   - 10.0.0.1:1:1\n   - 10.0.0.2:1:1\n")
                .unwrap()[0];
        let new =
            &crate::config::parse("p:\n  listen: 127.0.0.1:0\n  servers:\n   - 10.0.0.2:1:3\n   - 10.0.0.3:1:1\n")
                .unwrap()[0];
        let (a, r, w) = diff_servers(old, new);
        assert_eq!(
            (a, r, w),
            (vec!["10.0.0.3:1".to_string()], vec!["10.0.0.1:1".to_string()], vec!["10.0.0.2:1".into()])
        );
    }
}
