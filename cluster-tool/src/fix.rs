//! `fix` for slot coverage and for slots with several owners, as redis-cli does it:
//! uncovered slots with no keys go to a random master, slots whose keys sit on one node go
//! to that node, slots with keys on several nodes go to the node with most keys and the
//! others' keys are moved there. Each group is confirmed interactively (redis-cli asks even
//! with `--cluster-yes`). Open slots are handled in `fix_open.rs`.

use crate::error::ToolError;
use crate::log;
use crate::manager::Manager;
use crate::plan::Rng;
use crate::slot_ops::MoveOpts;
use crate::slots::{set_of, SlotSet, SLOTS};

/// Uncovered slots, grouped by how many masters hold keys for them.
struct Uncovered {
    none: Vec<u16>,
    single: Vec<(u16, usize)>,
    multi: Vec<(u16, Vec<usize>)>,
}

fn time_seed() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
}

impl Manager {
    /// Cover every slot no node serves; returns how many were fixed.
    pub fn fix_slots_coverage(&mut self, covered: &SlotSet) -> Result<usize, ToolError> {
        self.refuse_with_unreachable_masters("slots coverage")?;
        log::info(">>> Fixing slots coverage...");
        let u = self.classify_uncovered(covered)?;
        let mut fixed = 0;
        if !u.none.is_empty() {
            log::out("The following uncovered slots have no keys across the cluster:\n");
            log::out(&format!("{}\n", set_of(&u.none).ranges_string()));
            if log::confirm("Fix these slots by covering with a random node?", false) {
                let masters = self.masters();
                let mut rng = Rng::new(time_seed());
                for &slot in &u.none {
                    let n = masters[rng.below(masters.len())];
                    log::info(&format!(">>> Covering slot {slot} with {}", self.nodes[n].addr()));
                    self.set_slot_owner(n, slot, false)?;
                    self.nodes[n].slots.insert(slot);
                    fixed += 1;
                }
            }
        }
        if !u.single.is_empty() {
            log::out("The following uncovered slots have keys in just one node:\n");
            let slots: Vec<u16> = u.single.iter().map(|(s, _)| *s).collect();
            log::out(&format!("{}\n", set_of(&slots).ranges_string()));
            if log::confirm("Fix these slots by covering with those nodes?", false) {
                for &(slot, n) in &u.single {
                    log::info(&format!(">>> Covering slot {slot} with {}", self.nodes[n].addr()));
                    self.set_slot_owner(n, slot, false)?;
                    self.nodes[n].slots.insert(slot);
                    fixed += 1;
                }
            }
        }
        if !u.multi.is_empty() {
            log::out("The following uncovered slots have keys in multiple nodes:\n");
            let slots: Vec<u16> = u.multi.iter().map(|(s, _)| *s).collect();
            log::out(&format!("{}\n", set_of(&slots).ranges_string()));
            if log::confirm("Fix these slots by moving keys into a single node?", false) {
                for (slot, holders) in &u.multi {
                    self.cover_by_moving_keys(*slot, holders)?;
                    fixed += 1;
                }
            }
        }
        Ok(fixed)
    }

    /// For each uncovered slot, the masters holding keys in it.
    fn classify_uncovered(&mut self, covered: &SlotSet) -> Result<Uncovered, ToolError> {
        let uncovered: Vec<u16> = (0..SLOTS as u16).filter(|s| !covered.contains(*s)).collect();
        let mut holders: Vec<Vec<usize>> = vec![Vec::new(); uncovered.len()];
        for n in 0..self.nodes.len() {
            if self.nodes[n].slave || self.nodes[n].replicate.is_some() {
                continue;
            }
            let counts = self.count_keys_many(n, &uncovered)?;
            for (i, c) in counts.into_iter().enumerate() {
                if c > 0 {
                    holders[i].push(n);
                }
            }
        }
        let mut u = Uncovered { none: Vec::new(), single: Vec::new(), multi: Vec::new() };
        for (slot, h) in uncovered.into_iter().zip(holders) {
            match h.len() {
                0 => u.none.push(slot),
                1 => u.single.push((slot, h[0])),
                _ => u.multi.push((slot, h)),
            }
        }
        Ok(u)
    }

    /// Give `slot` to the holder with most keys and move the other holders' keys there.
    fn cover_by_moving_keys(&mut self, slot: u16, holders: &[usize]) -> Result<(), ToolError> {
        let Some(target) = self.node_with_most_keys(holders, slot)? else {
            return Err(ToolError::Reported);
        };
        log::info(&format!(">>> Covering slot {slot} moving keys to {}", self.nodes[target].addr()));
        self.set_slot_owner(target, slot, true)?;
        self.nodes[target].slots.insert(slot);
        for &src in holders.iter().filter(|&&s| s != target) {
            self.set_slot(src, target, slot, "NODE")?;
            // Importing on the source too, so MIGRATE is not redirected.
            self.set_slot(src, target, slot, "IMPORTING")?;
            self.move_slot(src, target, slot, MoveOpts { verbose: true, cold: true, ..MoveOpts::default() })?;
            self.clear_slot(src, slot)?;
        }
        Ok(())
    }

    /// Resolve a slot claimed by several masters: the one with most keys keeps it, the others
    /// hand over their keys.
    pub fn fix_multiple_owners(&mut self, slot: u16, owners: &[usize]) -> Result<bool, ToolError> {
        log::info(&format!(">>> Fixing multiple owners for slot {slot}..."));
        let owner = self.node_with_most_keys(owners, slot)?.unwrap_or(owners[0]);
        log::info(&format!(">>> Setting slot {slot} owner: {}", self.nodes[owner].addr()));
        self.set_slot_owner(owner, slot, false)?;
        let mut success = false;
        let others: Vec<usize> = (0..self.nodes.len()).filter(|&n| n != owner && !self.nodes[n].slave).collect();
        for n in others {
            let count = self.count_keys(n, slot)?;
            success = count >= 0;
            let _ = self.del_slot(n, slot, true);
            self.set_slot(n, owner, slot, "node")?;
            if count > 0 {
                self.move_slot(n, owner, slot, MoveOpts { verbose: true, cold: true, ..MoveOpts::default() })?;
            }
        }
        Ok(success)
    }
}
