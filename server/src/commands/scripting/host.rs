//! [`ScriptHost`]: how a running script's `redis.call` reaches the server — Redis's checks
//! before each call (unknown command, arity, `noscript`, stale replica, writes from a
//! read-only script, OOM, cluster slots) and then the execution seam's gate-free entry
//! (`Ctx::run`), on the script's own session (its database, its protocol, MULTI wrapping of
//! what it writes).

use crate::commands::ctx::RunFn;
use crate::commands::session::ClientState;
use crate::script::{flags, Host, Watch};
use crate::shared::Shared;
use bytes::Bytes;
use slotbox_protocol::command::{self, flags as cf};
use slotbox_protocol::{key_hash_slot, Frame, Protocol};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The rules of one run, fixed when it starts (Redis's run context flags).
#[derive(Clone, Copy, Default)]
pub struct Rules {
    /// No write (or may-replicate) command may run: *_RO, or a `no-writes` script.
    pub read_only: bool,
    pub allow_oom: bool,
    pub allow_cross_slot: bool,
    /// Over `maxmemory` when the script started.
    pub oom_at_start: bool,
    /// Run for the master link or the AOF: never refused.
    pub obey: bool,
}

pub struct ScriptHost<'s> {
    pub shared: &'s Shared,
    /// The script's session.
    pub client: ClientState,
    pub run: RunFn,
    pub rules: Rules,
    /// The slot the script's keys are in so far (cross-slot checks).
    pub slot: Option<u16>,
    /// The caller's cluster flags, copied for each call's routing.
    pub caller_readonly: bool,
    pub caller_asking: bool,
    /// A write ran: the script can not be refused later, nor killed.
    pub wrote: bool,
    /// The keys the script declared, remembered for its tracking caller once it reads
    /// (`CLIENT CACHING yes` of the caller: `caller_caching`).
    pub declared: &'s [Bytes],
    pub caller_caching: bool,
    pub watch: &'s Arc<Watch>,
}

impl ScriptHost<'_> {
    fn check(&mut self, r: super::super::registry::Resolved, args: &[Bytes]) -> Result<(), String> {
        let spec = r.spec;
        if spec.has(cf::NOSCRIPT) {
            return Err("This Redis command is not allowed from script".into());
        }
        if stale(self.shared) && !spec.has(cf::STALE) {
            return Err("Can not execute the command on a stale replica".into());
        }
        if self.rules.read_only && spec.flags & (cf::WRITE | cf::MAY_REPLICATE) != 0 {
            return Err("Write commands are not allowed from read-only scripts.".into());
        }
        let is_write = spec.has(cf::WRITE);
        if is_write && !self.wrote {
            let hot = &self.shared.hot;
            if self.shared.keyspace.is_replica() && hot.replica_read_only.load(Ordering::Relaxed) && !self.rules.obey {
                return Err("-READONLY You can't write against a read only replica.".into());
            }
            let min = hot.min_replicas_to_write.load(Ordering::Relaxed);
            let lag = hot.min_replicas_max_lag.load(Ordering::Relaxed);
            if !self.shared.keyspace.is_replica() && min > 0 && self.shared.repl.good_replicas(lag as i64) < min {
                return Err("-NOREPLICAS Not enough good replicas to write.".into());
            }
        }
        if !self.rules.allow_oom && !self.rules.obey && !self.wrote && self.rules.oom_at_start && spec.has(cf::DENYOOM)
        {
            return Err("-OOM command not allowed when used memory > 'maxmemory'.".into());
        }
        if is_write {
            self.wrote = true;
            self.watch.mark_dirty();
        }
        self.cluster_check(r, args)
    }

    /// Keys this node does not serve, or (unless allowed) keys in another slot than the
    /// script's earlier ones.
    fn cluster_check(&mut self, r: super::super::registry::Resolved, args: &[Bytes]) -> Result<(), String> {
        let Some(cs) = self.shared.cluster.get() else { return Ok(()) };
        if self.rules.obey {
            return Ok(());
        }
        let idx = command::extract_keys(r.spec, args);
        let keys: Vec<&[u8]> = idx.iter().map(|&i| args[i].as_ref()).collect();
        let q = crate::cluster::Query {
            keys: &keys,
            is_write: r.spec.has(cf::WRITE),
            asking: self.caller_asking,
            cmd_asking: false,
            readonly_client: self.caller_readonly,
            is_migrate: false,
            is_pubsub_shard: matches!(r.full_name, "ssubscribe" | "sunsubscribe" | "spublish"),
            allow_reads_when_down: cs.config.allow_reads_when_down,
        };
        let (shared, db) = (self.shared, self.client.db);
        let now = crate::clock::unix_time_ms();
        let exists = |key: &[u8]| {
            let shard = shared.keyspace.db(db).shard(key_hash_slot(key));
            shard.get(key).is_some_and(|e| !e.is_expired(now))
        };
        if let crate::cluster::Route::Refuse(msg) = crate::cluster::route(&cs.routes, &q, exists) {
            return Err(if msg.starts_with("CLUSTERDOWN The cluster is down and only accepts read") {
                "Script attempted to execute a write command while the cluster is down and readonly".into()
            } else if msg.starts_with("CLUSTERDOWN") {
                "Script attempted to execute a command while the cluster is down".into()
            } else {
                "Script attempted to access a non local key in a cluster node".into()
            });
        }
        if let (Some(&first), false) = (keys.first(), self.rules.allow_cross_slot) {
            let slot = key_hash_slot(first);
            match self.slot {
                None => self.slot = Some(slot),
                Some(s) if s != slot => {
                    return Err("Script attempted to access keys that do not hash to the same slot".into())
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// A replica whose master link is down and that must not serve stale data.
pub fn stale(shared: &Shared) -> bool {
    shared.keyspace.is_replica()
        && !shared.hot.replica_serve_stale_data.load(Ordering::Relaxed)
        && shared.repl.master.lock().as_ref().is_some_and(|l| !l.is_up())
}

impl Host for ScriptHost<'_> {
    fn call(&mut self, args: Vec<Bytes>) -> Result<Frame, String> {
        let r = match super::super::registry::resolve(&args) {
            Ok(r) => r,
            Err(e) => {
                let text = e.error_text().unwrap_or_default();
                return Err(if text.starts_with(b"ERR unknown") {
                    "Unknown Redis command called from script".into()
                } else {
                    "Wrong number of args calling Redis command from script".into()
                });
            }
        };
        if let Err(e) = self.check(r, &args) {
            self.shared.cmdstats.reject(r.id);
            let text = crate::script::convert::error_text(e.as_bytes());
            self.shared.count_error(&Frame::Error(Bytes::from(text)));
            return Err(e);
        }
        let reply = (self.run)(self.shared, &mut self.client, r.id, &args);
        self.shared.count_error(&reply);
        let reads = r.spec.has(cf::READONLY) && !r.spec.has(cf::PUBSUB);
        if reads && self.shared.tracking.active() && !self.declared.is_empty() {
            let keys: Vec<&[u8]> = self.declared.iter().map(|k| &k[..]).collect();
            self.shared.tracking.remember(self.client.id(), &keys, self.caller_caching);
        }
        Ok(reply)
    }

    fn resp(&self) -> Protocol {
        self.client.resp
    }

    fn set_resp(&mut self, resp: Protocol) {
        self.client.resp = resp;
    }

    fn set_repl(&mut self, flags: u8) {
        self.client.no_propagate = flags == 0;
    }

    fn is_command(&self, args: &[Bytes]) -> bool {
        !args.is_empty() && super::super::registry::resolve(args).is_ok()
    }

    fn watch(&self) -> Option<&Arc<Watch>> {
        Some(self.watch)
    }
}

/// Redis's checks before a script starts (`scriptPrepareForRun`): its flags against the
/// server's state. `ro`: called through EVAL_RO / EVALSHA_RO / FCALL_RO.
pub fn prepare(shared: &Shared, script_flags: u32, ro: bool, obey: bool) -> Result<Rules, Frame> {
    let compat = script_flags & flags::EVAL_COMPAT != 0;
    let running_stale = stale(shared);
    let oom = crate::evict::over_limit(shared);
    if !compat {
        if script_flags & flags::NO_CLUSTER != 0 && shared.cluster.get().is_some() {
            return Err(Frame::error_static("ERR Can not run script on cluster, 'no-cluster' flag is set."));
        }
        if running_stale && script_flags & flags::ALLOW_STALE == 0 {
            return Err(Frame::error_static("MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script."));
        }
        if script_flags & flags::NO_WRITES == 0 {
            let hot = &shared.hot;
            if shared.keyspace.is_replica() && hot.replica_read_only.load(Ordering::Relaxed) && !obey {
                return Err(Frame::error_static("READONLY Can not run script with write flag on readonly replica"));
            }
            if ro {
                return Err(Frame::error_static("ERR Can not execute a script with write flag using *_ro command."));
            }
            let min = hot.min_replicas_to_write.load(Ordering::Relaxed);
            let lag = hot.min_replicas_max_lag.load(Ordering::Relaxed);
            if !shared.keyspace.is_replica() && min > 0 && shared.repl.good_replicas(lag as i64) < min {
                return Err(Frame::error_static("NOREPLICAS Not enough good replicas to write."));
            }
        }
        if oom && script_flags & (flags::ALLOW_OOM | flags::NO_WRITES) == 0 {
            return Err(Frame::error_static(
                "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'",
            ));
        }
    } else if running_stale {
        return Err(Frame::error_static(
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
        ));
    }
    Ok(Rules {
        read_only: ro || (!compat && script_flags & flags::NO_WRITES != 0),
        allow_oom: !compat && script_flags & flags::ALLOW_OOM != 0,
        allow_cross_slot: compat || script_flags & flags::ALLOW_CROSS_SLOT != 0,
        oom_at_start: oom,
        obey,
    })
}
