//! The Redis Cluster column of ring-sim: slots placed as `create` places them (contiguous
//! ranges, `plan::master_slot_ranges`), then moved as `rebalance` moves them when masters
//! join (`--cluster-use-empty-masters`) or are emptied to leave (`--cluster-weight id=0`,
//! what precedes `del-node`): `plan::plan_rebalance` picks the moves and
//! `plan::reshard_table` the slots of each, as redis-cli does. Pure: no I/O.

use crate::plan::{master_slot_ranges, plan_rebalance, reshard_table, Member, Rebalance};
use crate::slots::SLOTS;

/// Slot -> master index, after `create` with `masters` masters.
pub fn created(masters: usize) -> Vec<usize> {
    let mut owner = vec![0usize; SLOTS];
    for (m, (first, last)) in master_slot_ranges(masters).into_iter().enumerate() {
        owner[first as usize..=last as usize].iter_mut().for_each(|o| *o = m);
    }
    owner
}

/// The slots each of `masters` masters holds, ascending.
fn slots_of(owner: &[usize], masters: usize) -> Vec<Vec<u16>> {
    let mut held = vec![Vec::new(); masters];
    for (slot, &m) in owner.iter().enumerate() {
        held[m].push(slot as u16);
    }
    held
}

/// The map after `rebalance` with `weights` (one per master, 0 to empty it), with redis-cli's
/// default threshold. Masters not in `owner` yet (indices beyond it) start empty.
pub fn rebalanced(owner: &[usize], weights: &[f32], threshold: f32) -> Vec<usize> {
    let mut owner = owner.to_vec();
    let held = slots_of(&owner, weights.len());
    let members: Vec<Member> = held.iter().zip(weights).map(|(h, &weight)| Member { slots: h.len(), weight }).collect();
    let Rebalance::Moves { moves, .. } = plan_rebalance(&members, threshold) else {
        return owner;
    };
    for mv in moves {
        // redis-cli recomputes the source's slots before each move.
        let src = slots_of(&owner, weights.len()).swap_remove(mv.src);
        for (_, slot) in reshard_table(&[src], mv.slots) {
            owner[slot as usize] = mv.dst;
        }
    }
    owner
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::DEFAULT_THRESHOLD;

    fn counts(owner: &[usize], n: usize) -> Vec<usize> {
        let mut c = vec![0; n];
        owner.iter().for_each(|&m| c[m] += 1);
        c
    }

    #[test]
    fn adding_a_master_moves_a_fifth_of_the_slots_to_it() {
        let before = created(4);
        assert_eq!(counts(&before, 4), vec![4096; 4]);
        let after = rebalanced(&before, &[1.0; 5], DEFAULT_THRESHOLD);
        let moved: Vec<usize> = (0..SLOTS).filter(|&s| before[s] != after[s]).collect();
        assert!(moved.iter().all(|&s| after[s] == 4), "slots only move to the new master");
        // 16384 / 5 = 3276 expected, plus the rounding remainder handed to receivers.
        let c = counts(&after, 5);
        assert!((3276..=3280).contains(&c[4]), "{c:?}");
        assert_eq!(moved.len(), c[4]);
    }

    #[test]
    fn a_master_of_weight_zero_is_emptied_onto_the_others() {
        let before = created(4);
        let after = rebalanced(&before, &[1.0, 1.0, 1.0, 0.0], DEFAULT_THRESHOLD);
        let c = counts(&after, 4);
        assert_eq!(c[3], 0, "{c:?}");
        assert!((0..SLOTS).all(|s| before[s] == after[s] || before[s] == 3), "only its slots move");
    }
}
