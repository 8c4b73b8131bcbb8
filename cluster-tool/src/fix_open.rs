//! `fix` for an open slot (left MIGRATING / IMPORTING, e.g. by an interrupted reshard),
//! redis-cli's `clusterManagerFixOpenSlot`: find the owner (or elect the master with most
//! keys), turn extra owners into importers, then close the slot by the matching case:
//!
//! 1. one migrating and one importing node: finish the move;
//! 2. only importers: move their keys to the owner;
//! 3. one migrating node and several importers: move to the intended target, close the rest;
//! 4. only a migrating node that owns the slot or holds no key: mark it stable.

use crate::error::ToolError;
use crate::log;
use crate::manager::Manager;
use crate::slot_ops::MoveOpts;
use slotbox_protocol::Frame;

/// Nodes involved in one open slot.
#[derive(Default)]
struct OpenSlot {
    owner: Option<usize>,
    owners: Vec<usize>,
    migrating: Vec<usize>,
    importing: Vec<usize>,
}

fn remove(list: &mut Vec<usize>, n: usize) {
    list.retain(|&x| x != n);
}

impl Manager {
    /// Refuse a repair while masters are unreachable, unless the user insisted.
    pub fn refuse_with_unreachable_masters(&self, what: &str) -> Result<(), ToolError> {
        if self.unreachable_masters > 0 && !self.opts.fix_with_unreachable_masters {
            log::warn(&format!(
                "*** Fixing {what} with {} unreachable masters is dangerous: slotbox-cluster will assume that \
                 slots about masters that are not reachable are not covered, and will try to reassign them \
                 to the reachable nodes. This can cause data loss and is rarely what you want to do. If you \
                 really want to proceed use the --cluster-fix-with-unreachable-masters option.",
                self.unreachable_masters
            ));
            return Err(ToolError::Reported);
        }
        Ok(())
    }

    /// The master (among `candidates`) holding most keys of `slot`.
    pub fn node_with_most_keys(&mut self, candidates: &[usize], slot: u16) -> Result<Option<usize>, ToolError> {
        let mut best: Option<(usize, i64)> = None;
        for &n in candidates {
            if self.nodes[n].slave || self.nodes[n].replicate.is_some() {
                continue;
            }
            let count = self.count_keys(n, slot)?;
            if best.is_none_or(|(_, c)| count > c) {
                best = Some((n, count));
            }
        }
        Ok(best.map(|(n, _)| n))
    }

    fn addrs(&self, list: &[usize]) -> String {
        list.iter().map(|&i| self.nodes[i].addr()).collect::<Vec<_>>().join(",")
    }

    /// Close open `slot`; `Ok(false)` when it cannot be fixed automatically.
    pub fn fix_open_slot(&mut self, slot: u16) -> Result<bool, ToolError> {
        self.refuse_with_unreachable_masters("open slots")?;
        log::info(&format!(">>> Fixing open slot {slot}"));
        let mut o = self.open_slot_roles(slot)?;
        if !o.migrating.is_empty() {
            log::out(&format!("Set as migrating in: {}\n", self.addrs(&o.migrating)));
        }
        if !o.importing.is_empty() {
            log::out(&format!("Set as importing in: {}\n", self.addrs(&o.importing)));
        }
        let owner = match o.owner {
            Some(owner) => owner,
            None => match self.elect_owner(slot, &mut o)? {
                Some(owner) => owner,
                None => return Ok(false),
            },
        };
        if o.owners.len() > 1 {
            for n in o.owners.clone().into_iter().filter(|&n| n != owner) {
                self.del_slot(n, slot, true)?;
                self.nodes[n].slots.remove(slot);
                self.set_slot(n, owner, slot, "node")?;
                self.set_slot(n, owner, slot, "importing")?;
                remove(&mut o.importing, n);
                o.importing.push(n);
                remove(&mut o.migrating, n);
            }
        }
        self.close_open_slot(slot, owner, &o)
    }

    /// Who owns, migrates, imports or merely holds keys of `slot`.
    fn open_slot_roles(&mut self, slot: u16) -> Result<OpenSlot, ToolError> {
        let mut o = OpenSlot::default();
        for n in 0..self.nodes.len() {
            if self.nodes[n].slave {
                continue;
            }
            if self.nodes[n].slots.contains(slot) {
                o.owners.push(n);
            } else if self.count_keys(n, slot)? > 0 {
                log::warn(&format!("*** Found keys about slot {slot} in non-owner node {}!", self.nodes[n].addr()));
                o.owners.push(n);
            }
        }
        if o.owners.len() == 1 {
            o.owner = Some(o.owners[0]);
        }
        for n in 0..self.nodes.len() {
            let node = &self.nodes[n];
            if node.slave {
                continue;
            }
            if node.migrating.iter().any(|(s, _)| *s == slot) {
                o.migrating.push(n);
            } else if node.importing.iter().any(|(s, _)| *s == slot) {
                o.importing.push(n);
            } else if o.owner != Some(n) && self.count_keys(n, slot)? > 0 {
                log::warn(&format!("*** Found keys about slot {slot} in node {}!", self.nodes[n].addr()));
                o.importing.push(n);
            }
        }
        Ok(o)
    }

    /// No single owner: give the slot to the master with most keys in it.
    fn elect_owner(&mut self, slot: u16, o: &mut OpenSlot) -> Result<Option<usize>, ToolError> {
        log::info(">>> No single clear owner for the slot, selecting an owner by # of keys...");
        let all: Vec<usize> = (0..self.nodes.len()).collect();
        let Some(owner) = self.node_with_most_keys(&all, slot)? else {
            log::err("[ERR] Can't select a slot owner. Impossible to fix.");
            return Ok(None);
        };
        log::warn(&format!("*** Configuring {} as the slot owner", self.nodes[owner].addr()));
        self.clear_slot(owner, slot)?;
        self.set_slot_owner(owner, slot, false)?;
        self.nodes[owner].slots.insert(slot);
        self.bump_epoch(owner)?;
        remove(&mut o.migrating, owner);
        remove(&mut o.importing, owner);
        Ok(Some(owner))
    }

    /// Pick the case that matches the migrating / importing nodes and close the slot.
    fn close_open_slot(&mut self, slot: u16, owner: usize, o: &OpenSlot) -> Result<bool, ToolError> {
        let verbose = MoveOpts { verbose: true, ..MoveOpts::default() };
        let (m, i) = (o.migrating.len(), o.importing.len());
        if m == 1 && i == 1 {
            let (src, dst) = (o.migrating[0], o.importing[0]);
            log::info(&format!(
                ">>> Case 1: Moving slot {slot} from {} to {}",
                self.nodes[src].addr(),
                self.nodes[dst].addr()
            ));
            self.move_slot(src, dst, slot, MoveOpts { update: true, ..verbose })?;
        } else if m == 0 && i > 0 {
            log::info(&format!(
                ">>> Case 2: Moving all the {slot} slot keys to its owner {}",
                self.nodes[owner].addr()
            ));
            for &n in o.importing.iter().filter(|&&n| n != owner) {
                self.move_slot(n, owner, slot, MoveOpts { cold: true, ..verbose })?;
                log::info(&format!(">>> Setting {slot} as STABLE in {}", self.nodes[n].addr()));
                self.clear_slot(n, slot)?;
            }
            for n in self.masters().into_iter().filter(|&n| n != owner) {
                self.set_slot(n, owner, slot, "NODE")?;
            }
        } else if m == 1 && i > 1 {
            return self.fix_case_3(slot, owner, o);
        } else if !self.close_idle_migrating(slot, owner, o)? {
            return Ok(self.unhandled(slot, owner, o));
        }
        Ok(true)
    }

    /// Case 3: one migrating node, several importers holding no keys.
    fn fix_case_3(&mut self, slot: u16, owner: usize, o: &OpenSlot) -> Result<bool, ToolError> {
        let src = o.migrating[0];
        let target_id = self.nodes[src].migrating.iter().find(|(s, _)| *s == slot).map(|(_, id)| id.clone());
        let mut dst = None;
        for &n in &o.importing {
            if self.count_keys(n, slot)? > 0 {
                return Ok(self.unhandled(slot, owner, o));
            }
            if Some(&self.nodes[n].name) == target_id.as_ref() {
                dst = Some(n);
            }
        }
        match dst {
            Some(dst) => {
                log::info(&format!(
                    ">>> Case 3: Moving slot {slot} from {} to {} and closing it on all the other importing nodes.",
                    self.nodes[src].addr(),
                    self.nodes[dst].addr()
                ));
                self.move_slot(src, dst, slot, MoveOpts { verbose: true, ..MoveOpts::default() })?;
                for &n in o.importing.iter().filter(|&&n| n != dst) {
                    self.clear_slot(n, slot)?;
                }
            }
            None => {
                log::info(&format!(">>> Case 3: Closing slot {slot} on both migrating and importing nodes."));
                self.clear_slot(src, slot)?;
                for &n in &o.importing {
                    self.clear_slot(n, slot)?;
                }
            }
        }
        Ok(true)
    }

    /// Case 4: only a migrating node, which owns the slot or holds no key: mark it stable.
    fn close_idle_migrating(&mut self, slot: u16, owner: usize, o: &OpenSlot) -> Result<bool, ToolError> {
        if !(o.importing.is_empty() && o.migrating.len() == 1) {
            return Ok(false);
        }
        let n = o.migrating[0];
        if owner != n {
            let keys = self.cmd(n, &["CLUSTER", "GETKEYSINSLOT", &slot.to_string(), "10"])?;
            if !matches!(keys, Frame::Array(ref k) if k.is_empty()) {
                return Ok(false);
            }
        }
        log::info(&format!(">>> Case 4: Closing slot {slot} on {}", self.nodes[n].addr()));
        self.clear_slot(n, slot)?;
        Ok(true)
    }

    fn unhandled(&self, slot: u16, owner: usize, o: &OpenSlot) -> bool {
        log::err(&format!(
            "[ERR] Sorry, slotbox-cluster can't fix this slot {slot} yet (work in progress). Slot is set as \
             migrating in {}, as importing in {}, owner is {}",
            self.addrs(&o.migrating),
            self.addrs(&o.importing),
            self.nodes[owner].addr()
        ));
        false
    }
}
