//! Unit tests of the pure planning in `plan.rs`, with the layouts real redis-cli 7.0 prints
//! for the same inputs.

use super::*;

fn hosts(list: &[&str]) -> Vec<String> {
    list.iter().map(|h| h.to_string()).collect()
}

#[test]
fn slot_ranges_match_redis_cli() {
    assert_eq!(master_slot_ranges(3), vec![(0, 5460), (5461, 10922), (10923, 16383)]);
    assert_eq!(master_slot_ranges(4), vec![(0, 4095), (4096, 8191), (8192, 12287), (12288, 16383)]);
    let five = master_slot_ranges(5);
    assert_eq!(five, vec![(0, 3276), (3277, 6553), (6554, 9829), (9830, 13106), (13107, 16383)]);
    for n in 3..=64 {
        let r = master_slot_ranges(n);
        assert_eq!(r[0].0, 0);
        assert_eq!(r[n - 1].1, 16383);
        assert!(r.windows(2).all(|w| w[0].1 + 1 == w[1].0), "{n} masters: {r:?}");
    }
}

#[test]
fn interleaves_hosts_in_order_of_appearance() {
    let h = hosts(&["a", "a", "a", "b", "c", "b"]);
    assert_eq!(interleave_by_host(&h), vec![0, 3, 4, 1, 5, 2]);
}

#[test]
fn six_nodes_on_one_host_like_redis_cli() {
    // redis-cli: "Adding replica :7004 to :7000", ":7005 to :7001", ":7003 to :7002", then
    // "[WARNING] Some slaves are in the same host as their master".
    let h = hosts(&["127.0.0.1"; 6]);
    let plan = plan_create(&h, 1, &mut Rng::new(7)).unwrap();
    assert_eq!(plan.masters, vec![0, 1, 2]);
    assert_eq!(
        plan.steps,
        vec![
            CreateStep::Replica { replica: 4, master: 0 },
            CreateStep::Replica { replica: 5, master: 1 },
            CreateStep::Replica { replica: 3, master: 2 },
        ]
    );
    let score = plan.optimized_score.unwrap();
    assert!(score >= 10000);
    assert_eq!(anti_affinity_message(score).0, "[WARNING] Some slaves are in the same host as their master");
    // Every master still has exactly one replica after optimisation.
    for m in 0..3 {
        assert_eq!(plan.replica_of.iter().filter(|r| **r == Some(m)).count(), 1);
    }
}

#[test]
fn replicas_go_to_other_hosts_first() {
    let h = hosts(&["a", "a", "b", "b", "c", "c"]);
    let plan = plan_create(&h, 1, &mut Rng::new(1)).unwrap();
    assert_eq!(plan.masters, vec![0, 2, 4]);
    assert_eq!(plan.replica_of, vec![None, Some(4), None, Some(0), None, Some(2)]);
    for (r, m) in plan.replica_of.iter().enumerate().filter_map(|(r, m)| m.map(|m| (r, m))) {
        assert_ne!(h[r], h[m], "replica {r} shares a host with its master {m}");
    }
    assert_eq!(plan.optimized_score, None, "already perfect: no optimisation message");
}

#[test]
fn optimiser_fixes_a_bad_first_layout() {
    // Two hosts, 3 masters + 3 replicas: the first pass puts a replica next to its master
    // only if it must; the optimiser must end with no replica on its master's host.
    let h = hosts(&["a", "b", "a", "b", "a", "b", "a", "b"]);
    let plan = plan_create(&h, 1, &mut Rng::new(42)).unwrap();
    let (score, _) = anti_affinity(&h, &plan.replica_of);
    assert!(score < 10000, "score {score}, layout {:?}", plan.replica_of);
}

#[test]
fn leftover_nodes_become_extra_replicas() {
    let h = hosts(&["127.0.0.1"; 7]);
    let plan = plan_create(&h, 1, &mut Rng::new(3)).unwrap();
    let extra = plan.steps.iter().position(|s| *s == CreateStep::ExtraReplicas).unwrap();
    assert_eq!(extra, 3);
    assert_eq!(plan.steps.len(), 5);
    assert_eq!(plan.replica_of.iter().filter(|r| r.is_some()).count(), 4);
}

#[test]
fn too_few_masters_is_refused() {
    assert!(plan_create(&hosts(&["h"; 5]), 1, &mut Rng::new(1)).is_none());
    assert!(plan_create(&hosts(&["h"; 2]), 0, &mut Rng::new(1)).is_none());
    let three = plan_create(&hosts(&["h"; 3]), 0, &mut Rng::new(1)).unwrap();
    assert!(three.steps.is_empty() && three.optimized_score.is_none());
}

#[test]
fn anti_affinity_scores() {
    let h = hosts(&["a", "a", "b", "b"]);
    // 0 master on a, 1 replica of 0 on a: 10000.
    assert_eq!(anti_affinity(&h, &[None, Some(0), None, None]).0, 10000);
    // 2 and 3 replicas of 0, both on b, master elsewhere: 2.
    let (score, offenders) = anti_affinity(&h, &[None, None, Some(0), Some(0)]);
    assert_eq!((score, offenders), (2, vec![2]));
}

#[test]
fn reshard_table_like_redis_cli() {
    // redis-cli moved slots 0,1,2 from the first master and 10923,10924 from the third.
    let a: Vec<u16> = (0..=5460).collect();
    let c: Vec<u16> = (10923..=16383).collect();
    let t = reshard_table(&[a.clone(), c.clone()], 5);
    assert_eq!(t, vec![(0, 0), (0, 1), (0, 2), (1, 10923), (1, 10924)]);
    // The biggest source goes first and gets the rounded-up share.
    let small: Vec<u16> = (10..20).collect();
    let t = reshard_table(&[small, a], 100);
    assert_eq!(t.len(), 100);
    assert!(t[0].0 == 1 && t.iter().filter(|(s, _)| *s == 0).count() <= 1);
    assert!(reshard_table(&[c], 0).is_empty());
}

#[test]
fn rebalance_after_adding_an_empty_master() {
    // The layout redis-cli rebalanced in the reference run: 1371, 1363 and 1362 slots moved.
    let members = [5458, 5467, 5459, 0].map(|s| Member { slots: s, weight: 1.0 });
    let Rebalance::Moves { total_weight, balances, moves } = plan_rebalance(&members, 2.0) else {
        panic!("expected moves");
    };
    assert_eq!(total_weight, 4.0);
    assert_eq!(balances, vec![(3, -4096), (0, 1362), (2, 1363), (1, 1371)]);
    assert_eq!(
        moves,
        vec![
            Move { src: 1, dst: 3, slots: 1371 },
            Move { src: 2, dst: 3, slots: 1363 },
            Move { src: 0, dst: 3, slots: 1362 },
        ]
    );
}

#[test]
fn rebalance_threshold_and_weights() {
    let even = [5461, 5462, 5461].map(|s| Member { slots: s, weight: 1.0 });
    assert_eq!(plan_rebalance(&even, 2.0), Rebalance::Balanced);
    // 3% off is within a 5% threshold but not within 2%.
    let skew = [5300, 5542, 5542].map(|s| Member { slots: s, weight: 1.0 });
    assert_eq!(plan_rebalance(&skew, 5.0), Rebalance::Balanced);
    assert!(matches!(plan_rebalance(&skew, 2.0), Rebalance::Moves { .. }));
    let weighted = [Member { slots: 8192, weight: 1.0 }, Member { slots: 8192, weight: 3.0 }];
    let Rebalance::Moves { moves, .. } = plan_rebalance(&weighted, 2.0) else { panic!() };
    assert_eq!(moves, vec![Move { src: 0, dst: 1, slots: 4096 }]);
}

#[test]
fn rebalance_moves_conserve_slots() {
    let members = [100, 16000, 284, 0, 0].map(|s| Member { slots: s, weight: 1.0 });
    let Rebalance::Moves { moves, .. } = plan_rebalance(&members, 2.0) else { panic!() };
    let mut slots: Vec<i64> = members.iter().map(|m| m.slots as i64).collect();
    for m in &moves {
        slots[m.src] -= m.slots as i64;
        slots[m.dst] += m.slots as i64;
    }
    assert_eq!(slots.iter().sum::<i64>(), 16384);
    assert!(slots.iter().all(|s| (3276..=3278).contains(s)), "{slots:?}");
}

#[test]
fn rng_is_deterministic_and_in_range() {
    let (mut a, mut b) = (Rng::new(9), Rng::new(9));
    for n in 1..100 {
        let x = a.below(n);
        assert_eq!(x, b.below(n));
        assert!(x < n);
    }
}
