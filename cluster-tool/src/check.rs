//! redis-cli's `clusterManagerCheckCluster`: configuration agreement, open (migrating /
//! importing) slots, coverage of all 16384 slots and, on request, slots with several
//! owners, each with redis-cli's `[OK]` / `[ERR]` / `[WARNING]` lines. With `fix` set it
//! hands each problem to the repairs in `fix.rs`.

use crate::error::ToolError;
use crate::log;
use crate::manager::{conn, Manager};
use crate::slots::{SlotSet, SLOTS};
use slotbox_protocol::Frame;
use std::collections::BTreeMap;

/// Commands sent per round trip when counting keys in many slots.
const COUNT_BATCH: usize = 1024;

impl Manager {
    /// Check the cluster (and repair it with `opts.fix`); `Ok(false)` when problems remain.
    pub fn check_cluster(&mut self, quiet: bool) -> Result<bool, ToolError> {
        let Some(first) = self.nodes.first() else {
            return Ok(false);
        };
        log::info(&format!(">>> Performing Cluster Check (using node {})", first.addr()));
        if !quiet {
            self.show_nodes();
        }
        let mut result = true;
        if self.is_config_consistent() {
            log::ok("[OK] All nodes agree about slots configuration.");
        } else {
            self.on_error("[ERR] Nodes don't agree about configuration!".into());
            result = false;
        }
        log::info(">>> Check for open slots...");
        if let Some(fixed) = self.check_open_slots()? {
            result = fixed;
        }
        log::info(">>> Check slots coverage...");
        let covered = self.covered_slots();
        if covered.count() == SLOTS {
            log::ok(&format!("[OK] All {SLOTS} slots covered."));
        } else {
            self.on_error(format!("[ERR] Not all {SLOTS} slots are covered by nodes.\n"));
            result = false;
            if self.opts.fix && self.fix_slots_coverage(&covered)? > 0 {
                result = true;
            }
        }
        if self.opts.search_multiple_owners {
            if let Some(fixed) = self.check_multiple_owners()? {
                result = fixed;
            }
        }
        Ok(result)
    }

    /// Report (and with fix, close) slots left migrating / importing. `None` if there are
    /// none, else whether they were all fixed (like redis-cli, the last fix decides).
    fn check_open_slots(&mut self) -> Result<Option<bool>, ToolError> {
        let mut open: BTreeMap<u16, ()> = BTreeMap::new();
        for i in 0..self.nodes.len() {
            let n = &self.nodes[i];
            let addr = n.addr();
            for (state, list) in [("migrating", n.migrating.clone()), ("importing", n.importing.clone())] {
                if list.is_empty() {
                    continue;
                }
                let slots: Vec<String> = list.iter().map(|(s, _)| s.to_string()).collect();
                list.iter().for_each(|(s, _)| {
                    open.insert(*s, ());
                });
                self.on_error(format!("[WARNING] Node {addr} has slots in {state} state {}.", slots.join(",")));
            }
        }
        if open.is_empty() {
            return Ok(None);
        }
        let list: Vec<String> = open.keys().map(u16::to_string).collect();
        log::err(&format!("[WARNING] The following slots are open: {}.", list.join(",")));
        let mut fixed = false;
        if self.opts.fix {
            for &slot in open.keys() {
                fixed = self.fix_open_slot(slot)?;
                if !fixed {
                    break;
                }
            }
        }
        Ok(Some(fixed))
    }

    /// Slots served by some node.
    pub fn covered_slots(&self) -> SlotSet {
        let mut all = SlotSet::default();
        for n in &self.nodes {
            for s in n.slots.iter() {
                all.insert(s);
            }
        }
        all
    }

    /// `CLUSTER COUNTKEYSINSLOT` for many slots on node `on`, pipelined.
    pub fn count_keys_many(&mut self, on: usize, slots: &[u16]) -> Result<Vec<i64>, ToolError> {
        let c = conn(&mut self.nodes[on])?;
        let mut out = Vec::with_capacity(slots.len());
        for chunk in slots.chunks(COUNT_BATCH) {
            for s in chunk {
                c.send(&["CLUSTER", "COUNTKEYSINSLOT", &s.to_string()])?;
            }
            for _ in chunk {
                out.push(match c.read_reply()? {
                    Frame::Integer(n) => n,
                    _ => -1,
                });
            }
        }
        Ok(out)
    }

    /// Masters claiming each slot: by configuration, or by holding keys in it.
    fn slot_claims(&mut self) -> Result<Vec<Vec<usize>>, ToolError> {
        let mut owners: Vec<Vec<usize>> = vec![Vec::new(); SLOTS];
        for i in 0..self.nodes.len() {
            if self.nodes[i].slave {
                continue;
            }
            let not_owned: Vec<u16> = (0..SLOTS as u16).filter(|s| !self.nodes[i].slots.contains(*s)).collect();
            let counts = self.count_keys_many(i, &not_owned)?;
            let mut claimed: Vec<u16> = self.nodes[i].slots.iter().collect();
            claimed.extend(not_owned.iter().zip(counts).filter(|(_, c)| *c > 0).map(|(s, _)| *s));
            for s in claimed {
                owners[s as usize].push(i);
            }
        }
        for list in owners.iter_mut() {
            list.sort_unstable();
        }
        Ok(owners)
    }

    /// `--cluster-search-multiple-owners`: report (and with fix, resolve) slots claimed by
    /// more than one master. `None` if there are none, else whether all were fixed.
    fn check_multiple_owners(&mut self) -> Result<Option<bool>, ToolError> {
        log::info(">>> Check for multiple slot owners...");
        let claims = self.slot_claims()?;
        let (mut ok, mut found, mut remaining) = (false, false, 0usize);
        for (slot, owners) in claims.into_iter().enumerate() {
            if owners.len() < 2 {
                continue;
            }
            (ok, found) = (false, true);
            log::err(&format!("[WARNING] Slot {slot} has {} owners:", owners.len()));
            for &o in &owners {
                log::err(&format!("    {}", self.nodes[o].addr()));
            }
            remaining += 1;
            if self.opts.fix {
                ok = self.fix_multiple_owners(slot as u16, &owners)?;
                if !ok {
                    log::err(&format!("Failed to fix multiple owners for slot {slot}"));
                    break;
                }
                remaining -= 1;
            }
        }
        if remaining == 0 {
            log::ok("[OK] No multiple owners found.");
        }
        Ok(found.then_some(ok))
    }
}
