//! Slot operations on the nodes of a [`Manager`], as redis-cli performs them: SETSLOT
//! (importing / migrating / node / stable), ADDSLOTS / DELSLOTS, taking ownership in one
//! MULTI/EXEC, and moving a slot with its keys (IMPORTING on the target, MIGRATING on the
//! source, GETKEYSINSLOT + MIGRATE in batches, then SETSLOT NODE on the target, the source
//! and every other master).

use crate::conn::frame_text;
use crate::error::ToolError;
use crate::log;
use crate::manager::{conn, Manager};
use slotbox_protocol::Frame;
use std::time::{Duration, Instant};

/// How long [`Manager::bump_epoch`] waits for the other masters to learn a new epoch.
const EPOCH_SPREAD_LIMIT: Duration = Duration::from_secs(5);

/// How [`Manager::move_slot`] behaves (redis-cli's `CLUSTER_MANAGER_OPT_*`).
#[derive(Debug, Clone, Copy, Default)]
pub struct MoveOpts {
    /// Print a dot per migrated key.
    pub verbose: bool,
    /// Only move the keys: no IMPORTING / MIGRATING / NODE.
    pub cold: bool,
    /// Update the slot maps of source and target in memory.
    pub update: bool,
    /// Print no "Moving slot" line.
    pub quiet: bool,
}

impl Manager {
    /// Send a command to node `i`; error replies become [`ToolError::Reply`].
    pub fn cmd<A: AsRef<[u8]>>(&mut self, i: usize, args: &[A]) -> Result<Frame, ToolError> {
        conn(&mut self.nodes[i])?.call_ok(args)
    }

    /// `CLUSTER SETSLOT slot <status> <id of node other>` on node `on`.
    pub fn set_slot(&mut self, on: usize, other: usize, slot: u16, status: &str) -> Result<(), ToolError> {
        let id = self.nodes[other].name.clone();
        self.cmd(on, &["CLUSTER", "SETSLOT", &slot.to_string(), status, &id]).map(drop)
    }

    /// `CLUSTER SETSLOT slot STABLE`.
    pub fn clear_slot(&mut self, on: usize, slot: u16) -> Result<(), ToolError> {
        self.cmd(on, &["CLUSTER", "SETSLOT", &slot.to_string(), "STABLE"]).map(drop)
    }

    /// `CLUSTER DELSLOTS slot`; with `ignore_unassigned`, an error because the slot is not
    /// assigned at all is not a failure.
    pub fn del_slot(&mut self, on: usize, slot: u16, ignore_unassigned: bool) -> Result<(), ToolError> {
        match self.cmd(on, &["CLUSTER", "DELSLOTS", &slot.to_string()]) {
            Err(e) if ignore_unassigned && e.reply_message().is_some() => match self.slot_owner(on, slot)? {
                None => Ok(()),
                Some(_) => Err(e),
            },
            other => other.map(drop),
        }
    }

    /// `CLUSTER COUNTKEYSINSLOT slot`.
    pub fn count_keys(&mut self, on: usize, slot: u16) -> Result<i64, ToolError> {
        conn(&mut self.nodes[on])?.call_int(&["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()])
    }

    /// `CLUSTER BUMPEPOCH`, then wait (a few seconds at most) until every master knows the
    /// new epoch: a master that bumps its own epoch from an older view (SETSLOT NODE on an
    /// importing node, next) could collide with it, and while the collision is resolved a
    /// stale claim can take a slot from its new owner.
    pub fn bump_epoch(&mut self, on: usize) -> Result<(), ToolError> {
        let reply = self.cmd(on, &["CLUSTER", "BUMPEPOCH"])?;
        let Some(epoch) = frame_text(&reply).and_then(|t| t.strip_prefix("BUMPED ")?.trim().parse::<u64>().ok()) else {
            return Ok(());
        };
        let id = self.nodes[on].name.clone();
        let deadline = Instant::now() + EPOCH_SPREAD_LIMIT;
        for n in self.masters() {
            while Instant::now() < deadline {
                let known = conn(&mut self.nodes[n]).and_then(|c| c.call_text(&["CLUSTER", "NODES"]));
                let knows = known.is_ok_and(|text| {
                    text.lines().filter_map(crate::node::parse_line).any(|n| n.name == id && n.config_epoch >= epoch)
                });
                if knows {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(())
    }

    /// The owner of `slot` according to node `on` (`CLUSTER SLOTS`), as a node index.
    pub fn slot_owner(&mut self, on: usize, slot: u16) -> Result<Option<usize>, ToolError> {
        let Frame::Array(ranges) = self.cmd(on, &["CLUSTER", "SLOTS"])? else {
            return Ok(None);
        };
        for r in ranges {
            let Frame::Array(f) = r else { continue };
            let (Some(Frame::Integer(a)), Some(Frame::Integer(b)), Some(Frame::Array(master))) =
                (f.first(), f.get(1), f.get(2))
            else {
                continue;
            };
            if (slot as i64) < *a || (slot as i64) > *b {
                continue;
            }
            if let Some(id) = master.get(2).and_then(frame_text) {
                return Ok(self.node_by_name(&id));
            }
            let ip = master.first().and_then(frame_text).unwrap_or_default();
            let port = match master.get(1) {
                Some(Frame::Integer(p)) => *p,
                _ => 0,
            };
            return Ok(self.nodes.iter().position(|n| n.host == ip && n.port as i64 == port));
        }
        Ok(None)
    }

    /// Make `owner` the owner of `slot` in one transaction: DELSLOTS, ADDSLOTS,
    /// [SETSLOT STABLE], BUMPEPOCH. Only an ADDSLOTS failure counts.
    pub fn set_slot_owner(&mut self, owner: usize, slot: u16, clear: bool) -> Result<(), ToolError> {
        let s = slot.to_string();
        let c = conn(&mut self.nodes[owner])?;
        c.call_ok(&["MULTI"])?;
        c.call_ok(&["CLUSTER", "DELSLOTS", &s])?;
        c.call_ok(&["CLUSTER", "ADDSLOTS", &s])?;
        if clear {
            c.call_ok(&["CLUSTER", "SETSLOT", &s, "STABLE"])?;
        }
        c.call_ok(&["CLUSTER", "BUMPEPOCH"])?;
        match c.call_ok(&["EXEC"])? {
            Frame::Array(results) => match results.get(1) {
                Some(Frame::Error(e)) => Err(ToolError::Reply {
                    addr: c.addr().to_string(),
                    message: String::from_utf8_lossy(e).into_owned(),
                }),
                _ => Ok(()),
            },
            other => Err(ToolError::Protocol { addr: c.addr().to_string(), reason: format!("EXEC replied {other:?}") }),
        }
    }

    /// redis-cli's `clusterManagerMoveSlot`.
    pub fn move_slot(&mut self, src: usize, dst: usize, slot: u16, o: MoveOpts) -> Result<(), ToolError> {
        if !o.quiet {
            let (s, d) = (self.nodes[src].addr(), self.nodes[dst].addr());
            log::out(&format!("Moving slot {slot} from {s} to {d}: "));
        }
        if !o.cold {
            self.set_slot(dst, src, slot, "importing")?;
            self.set_slot(src, dst, slot, "migrating")?;
        }
        let moved = self.migrate_keys_in_slot(src, dst, slot, o.verbose);
        if !o.quiet {
            log::out("\n");
        }
        moved?;
        if !o.cold {
            // The target first (it spreads the news), then the source, then the others.
            self.set_slot(dst, dst, slot, "node")?;
            // A source that just gave away its last slot may already have turned itself into
            // a replica of the target (cluster-allow-replica-migration): it knows the new
            // owner, so its "SETSLOT only with masters" refusal is not a failure.
            match self.set_slot(src, dst, slot, "node") {
                Err(ToolError::Reply { message, .. }) if message.contains("Please use SETSLOT only with masters") => {}
                other => other?,
            }
            for i in self.masters() {
                if i != src && i != dst {
                    self.set_slot(i, dst, slot, "node")?;
                }
            }
        }
        if o.update {
            self.nodes[src].slots.remove(slot);
            self.nodes[dst].slots.insert(slot);
        }
        Ok(())
    }

    /// Move every key of `slot` from `src` to `dst`, `--cluster-pipeline` keys at a time.
    pub fn migrate_keys_in_slot(&mut self, src: usize, dst: usize, slot: u16, dots: bool) -> Result<(), ToolError> {
        let (slot_s, batch) = (slot.to_string(), self.opts.pipeline.to_string());
        loop {
            let keys = match self.cmd(src, &["CLUSTER", "GETKEYSINSLOT", &slot_s, &batch])? {
                Frame::Array(k) => k
                    .iter()
                    .filter_map(|f| if let Frame::Bulk(b) = f { Some(b.to_vec()) } else { None })
                    .collect::<Vec<_>>(),
                _ => Vec::new(),
            };
            if keys.is_empty() {
                return Ok(());
            }
            if let Frame::Error(e) = self.migrate(src, dst, &keys, false)? {
                let message = String::from_utf8_lossy(&e).into_owned();
                self.recover_migrate_error(src, dst, slot, &keys, message)?;
            }
            if dots {
                log::out(&".".repeat(keys.len()));
            }
        }
    }

    /// `MIGRATE host port "" 0 timeout [REPLACE] [AUTH..] KEYS k...` sent to `src`.
    fn migrate(&mut self, src: usize, dst: usize, keys: &[Vec<u8>], replace: bool) -> Result<Frame, ToolError> {
        let (host, port) = (self.nodes[dst].host.clone(), self.nodes[dst].port.to_string());
        let mut args: Vec<Vec<u8>> =
            vec![b"MIGRATE".to_vec(), host.into_bytes(), port.into_bytes(), Vec::new(), b"0".to_vec()];
        args.push(self.opts.timeout_ms.to_string().into_bytes());
        if replace {
            args.push(b"REPLACE".to_vec());
        }
        if let Some(pass) = &self.opts.auth.pass {
            match &self.opts.auth.user {
                Some(user) => args.extend([b"AUTH2".to_vec(), user.clone().into_bytes(), pass.clone().into_bytes()]),
                None => args.extend([b"AUTH".to_vec(), pass.clone().into_bytes()]),
            }
        }
        args.push(b"KEYS".to_vec());
        args.extend(keys.iter().cloned());
        conn(&mut self.nodes[src])?.call(&args)
    }

    /// A MIGRATE failed: retry with REPLACE when the keys already exist on the target with
    /// the same values (or `--cluster-replace`), take the slot when nobody serves it (fix).
    fn recover_migrate_error(
        &mut self,
        src: usize,
        dst: usize,
        slot: u16,
        keys: &[Vec<u8>],
        msg: String,
    ) -> Result<(), ToolError> {
        let busy = msg.contains("BUSYKEY");
        let not_served = !busy && self.slot_owner(src, slot)?.is_none();
        let fail = |m: &Manager, message: String| {
            log::out("\n");
            Err(ToolError::Reply { addr: m.nodes[src].addr(), message })
        };
        if !busy && !not_served {
            return fail(self, msg);
        }
        if self.opts.fix && not_served {
            log::warn(&format!("*** Slot was not served, setting owner to node {}.", self.nodes[dst].addr()));
            let _ = self.set_slot(src, dst, slot, "node");
        }
        if busy {
            log::warn("\n*** Target key exists");
            if !self.opts.replace {
                self.check_same_values(src, dst, keys)?;
            }
            log::warn("*** Replacing target keys...");
        }
        match self.migrate(src, dst, keys, busy)? {
            Frame::Error(e) => fail(self, String::from_utf8_lossy(&e).into_owned()),
            _ => Ok(()),
        }
    }

    /// Compare `DEBUG DIGEST-VALUE` of `keys` on both nodes; fail if any value differs.
    fn check_same_values(&mut self, src: usize, dst: usize, keys: &[Vec<u8>]) -> Result<(), ToolError> {
        log::warn("*** Checking key values on both nodes...");
        let mut args: Vec<Vec<u8>> = vec![b"DEBUG".to_vec(), b"DIGEST-VALUE".to_vec()];
        args.extend(keys.iter().cloned());
        let digests = |m: &mut Manager, i: usize| -> Option<Vec<String>> {
            match conn(&mut m.nodes[i]).ok()?.call_ok(&args) {
                Ok(Frame::Array(items)) => Some(items.iter().map(|f| frame_text(f).unwrap_or_default()).collect()),
                Ok(_) => None,
                Err(e) => {
                    crate::manager::report(&e);
                    None
                }
            }
        };
        let (Some(a), Some(b)) = (digests(self, src), digests(self, dst)) else {
            log::err("*** Value check failed!");
            return Err(ToolError::Reported);
        };
        let zero = "0".repeat(40);
        let diffs: Vec<String> = (0..keys.len().min(a.len()).min(b.len()))
            .filter(|&i| a[i] != zero && b[i] != zero && a[i] != b[i])
            .map(|i| String::from_utf8_lossy(&keys[i]).into_owned())
            .collect();
        if diffs.is_empty() {
            return Ok(());
        }
        log::err(&format!(
            "*** Found {} key(s) in both source node and target node having different values.\n    Source node: {}\n    Target node: {}\n    Keys(s):",
            diffs.len(),
            self.nodes[src].addr(),
            self.nodes[dst].addr()
        ));
        for k in diffs {
            log::err(&format!("    - {k}"));
        }
        log::err("Please fix the above key(s) manually and try again or relaunch the command \nwith --cluster-replace option to force key overriding.");
        Err(ToolError::Reported)
    }
}
