//! Unit tests of the tree, including a randomized comparison with a `BTreeSet` model.

use super::*;
use std::collections::{BTreeSet, HashMap};

/// Structural invariants: counts, key bounds, fill, equal leaf depth, the leaf chain, length.
fn check_invariants(s: &ZTree) {
    // In-order leaves, from the tree.
    fn walk(s: &ZTree, x: usize, level: usize, leaves: &mut Vec<usize>) -> usize {
        if level == s.depth {
            let l = &s.leaves[x];
            assert!(x as u32 == s.root || l.len as usize >= MIN, "leaf under MIN");
            for i in 1..l.len as usize {
                let o = cmp_entry(l.scores[i - 1], l.members[i - 1].bytes(), l.scores[i], l.members[i].bytes());
                assert_eq!(o, Ordering::Less, "leaf order");
            }
            leaves.push(x);
            return l.len as usize;
        }
        let n = &s.inners[x];
        let len = n.len as usize;
        assert!(len >= if x as u32 == s.root { 2 } else { MIN }, "inner under MIN");
        let mut total = 0;
        for c in 0..len {
            let from = leaves.len();
            let count = walk(s, n.children[c] as usize, level + 1, leaves);
            assert_eq!(n.counts[c] as usize, count, "count");
            total += count;
            if c > 0 {
                // Everything before child c is below its key, everything in it at or above.
                let (ks, km) = (n.scores[c], n.members[c].bytes());
                let first = &s.leaves[leaves[from]];
                assert_ne!(cmp_entry(first.scores[0], first.members[0].bytes(), ks, km), Ordering::Less);
                let prev = &s.leaves[leaves[from - 1]];
                let j = prev.len as usize - 1;
                assert_eq!(cmp_entry(prev.scores[j], prev.members[j].bytes(), ks, km), Ordering::Less);
            }
        }
        total
    }
    let mut leaves = Vec::new();
    assert_eq!(walk(s, s.root as usize, 0, &mut leaves), s.len());
    let chain: Vec<usize> =
        std::iter::successors(Some(s.head), |&x| Some(s.leaves[x as usize].next).filter(|&n| n != NIL))
            .map(|x| x as usize)
            .collect();
    assert_eq!(chain, leaves, "leaf chain");
    assert_eq!(s.tail as usize, *leaves.last().unwrap());
    for w in leaves.windows(2) {
        assert_eq!(s.leaves[w[1]].prev as usize, w[0]);
    }
    assert_eq!(s.leaves[s.head as usize].prev, NIL);
    let order: Vec<_> = s.iter_from(s.first()).collect();
    assert_eq!(order.len(), s.len());
}

#[test]
fn ranks_and_order() {
    let mut s = ZTree::new();
    let n = 2000;
    for i in 0..n {
        let member = format!("m{:05}", (i * 7919) % n);
        s.insert(((i * 7919) % n / 10) as f64, member.as_bytes());
    }
    assert_eq!(s.len(), n);
    let all: Vec<(f64, Vec<u8>)> = s.iter_from(s.first()).map(|(sc, m)| (sc, m.to_vec())).collect();
    for w in all.windows(2) {
        assert_eq!(cmp_entry(w[0].0, &w[0].1, w[1].0, &w[1].1), Ordering::Less);
    }
    for (r, (sc, m)) in all.iter().enumerate() {
        assert_eq!(s.rank(*sc, m), Some(r));
        let c = s.at_rank(r).unwrap();
        assert_eq!(s.member(c), &m[..]);
    }
    // Delete every third and re-check ranks.
    for (sc, m) in all.iter().step_by(3) {
        assert!(s.delete(*sc, m));
        assert!(!s.delete(*sc, m));
    }
    let rest: Vec<_> = all.iter().enumerate().filter(|(i, _)| i % 3 != 0).map(|(_, e)| e.clone()).collect();
    assert_eq!(s.len(), rest.len());
    for (r, (sc, m)) in rest.iter().enumerate() {
        assert_eq!(s.rank(*sc, m), Some(r));
        assert_eq!(s.member(s.at_rank(r).unwrap()), &m[..]);
    }
    let back: Vec<_> = s.iter_back_from(s.last()).map(|(_, m)| m.to_vec()).collect();
    assert_eq!(back.len(), rest.len());
    assert_eq!(back[0], rest.last().unwrap().1);
    check_invariants(&s);
}

#[test]
fn range_search() {
    let mut s = ZTree::new();
    for i in 0..100 {
        s.insert(i as f64, format!("{i:03}").as_bytes());
    }
    let c = s.first_where_score(|sc| sc < 10.5).unwrap();
    assert_eq!(s.score(c), 11.0);
    assert_eq!(s.count_where_score(|sc| sc < 10.5), 11);
    assert_eq!(s.count_where(|sc, _| sc <= 20.0), 21);
    assert_eq!(s.count_where(|sc, m| (sc, m) < (20.0, &b"020"[..])), 20);
    assert!(s.first_where_score(|_| true).is_none());
    assert_eq!(s.count_where(|_, _| false), 0);
    assert_eq!(s.count_where_score(|_| true), 100);
}

#[test]
fn update_in_place_and_moves() {
    let mut s = ZTree::new();
    for i in 0..10 {
        s.insert(i as f64 * 10.0, format!("m{i}").as_bytes());
    }
    // Stays between its neighbours (in place), then ties broken by member.
    assert!(s.update_score(30.0, b"m3", 35.0));
    assert!(s.update_score(35.0, b"m3", 40.0));
    assert_eq!(s.rank(40.0, b"m3"), Some(3));
    assert_eq!(s.rank(40.0, b"m4"), Some(4));
    // Moves to either end and back; -0 is kept as given.
    assert!(s.update_score(40.0, b"m3", -1.0));
    assert_eq!(s.rank(-1.0, b"m3"), Some(0));
    assert!(s.update_score(-1.0, b"m3", f64::INFINITY));
    assert_eq!(s.member(s.last().unwrap()), b"m3");
    assert!(s.update_score(f64::INFINITY, b"m3", -0.0));
    assert!(s.score(s.at_rank(1).unwrap()).is_sign_negative());
    // Absent element: nothing changes.
    assert!(!s.update_score(5.0, b"m3", 6.0));
    assert!(!s.update_score(-0.0, b"zz", 6.0));
    assert_eq!(s.len(), 10);
    check_invariants(&s);
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Random operations on the tree and on a `BTreeSet<(score, member)>` model (integer scores
/// in a small range so that ties on score are frequent; the tree sees them scaled by 1/4).
/// Members are `prefix` + a number: a long prefix puts them out of line.
fn model_run(seed: u64, ops: usize, members: u64, scores: i64, prefix: &str) {
    let mut rng = Rng(seed);
    let mut s = ZTree::new();
    let mut model: BTreeSet<(i64, Vec<u8>)> = BTreeSet::new();
    let mut cur: HashMap<Vec<u8>, i64> = HashMap::new();
    let f = |k: i64| k as f64 / 4.0;
    for step in 0..ops {
        let m = format!("{prefix}{}", rng.below(members)).into_bytes();
        let k = rng.below(2 * scores as u64) as i64 - scores;
        match (rng.below(10), cur.get(&m).copied()) {
            (0..=2, None) => {
                s.insert(f(k), &m);
                model.insert((k, m.clone()));
                cur.insert(m, k);
            }
            (3 | 4, Some(old)) => {
                assert!(s.delete(f(old), &m));
                assert!(!s.delete(f(old), &m));
                model.remove(&(old, m.clone()));
                cur.remove(&m);
            }
            (5..=7, Some(old)) => {
                assert!(s.update_score(f(old), &m, f(k)));
                model.remove(&(old, m.clone()));
                model.insert((k, m.clone()));
                cur.insert(m, k);
            }
            (_, None) => {
                assert!(!s.delete(f(k), &m));
                assert!(!s.update_score(f(k), &m, f(k + 1)));
                assert_eq!(s.rank(f(k), &m), None);
            }
            (_, Some(old)) => {
                let r = model.range(..(old, m.clone())).count();
                assert_eq!(s.rank(f(old), &m), Some(r));
                assert_eq!(s.member(s.at_rank(r).unwrap()), &m[..]);
                // Range bounds: first score >= k, last score <= k.
                let ge = model.iter().position(|(sc, _)| *sc >= k).unwrap_or(model.len());
                assert_eq!(s.count_where(|sc, _| sc < f(k)), ge);
                assert_eq!(s.count_where_score(|sc| sc < f(k)), ge);
                assert_eq!(
                    s.first_where_score(|sc| sc < f(k)).map(|c| s.score(c)),
                    model.iter().nth(ge).map(|(sc, _)| f(*sc))
                );
                let le = model.iter().rposition(|(sc, _)| *sc <= k);
                assert_eq!(s.count_where(|sc, _| sc <= f(k)).checked_sub(1), le);
            }
        }
        assert_eq!(s.len(), model.len());
        if step % 500 == 0 || step == ops - 1 {
            check_invariants(&s);
            let got: Vec<(f64, Vec<u8>)> = s.iter_from(s.first()).map(|(sc, m)| (sc, m.to_vec())).collect();
            let want: Vec<(f64, Vec<u8>)> = model.iter().map(|(k, m)| (f(*k), m.clone())).collect();
            assert_eq!(got, want);
            let back: Vec<Vec<u8>> = s.iter_back_from(s.last()).map(|(_, m)| m.to_vec()).collect();
            assert!(back.iter().eq(want.iter().rev().map(|(_, m)| m)));
            assert_eq!(s.at_rank(model.len()), None);
        }
    }
}

#[test]
fn matches_btreeset_model() {
    model_run(0x2545_F491_4F6C_DD1D, 20_000, 400, 50, "m");
    model_run(0x9E37_79B9_7F4A_7C15, 20_000, 60, 3, "");
    model_run(42, 5_000, 3000, 1_000_000, "m");
    model_run(7, 10_000, 200, 20, "a-member-name-longer-than-inline:");
    model_run(8, 10_000, 2000, 200, "nineteen-byte-name:"); // 20..=23 bytes: both sides of inline
}

/// Enough elements for three inner levels, in sorted, reverse and shuffled order, then taken
/// out in an order of their own: splits and merges at every level, and the root growing and
/// shrinking back to one leaf.
#[test]
fn deep_trees_grow_and_shrink() {
    let n = 40_000u64;
    let key = |i: u64| (((i * 7) % 1000) as f64, format!("k{i}").into_bytes());
    for order in 0..3 {
        let mut s = ZTree::new();
        let mut rng = Rng(order + 1);
        let mut ids: Vec<u64> = (0..n).collect();
        ids.sort_by_key(|&i| {
            let (sc, m) = key(i);
            (sc as u64, m)
        });
        match order {
            0 => {}
            1 => ids.reverse(),
            _ => {
                for i in (1..ids.len()).rev() {
                    ids.swap(i, rng.below(i as u64 + 1) as usize);
                }
            }
        }
        for (k, &i) in ids.iter().enumerate() {
            let (sc, m) = key(i);
            s.insert(sc, &m);
            if k % 9_999 == 0 {
                check_invariants(&s);
            }
        }
        check_invariants(&s);
        assert!(s.depth >= 3, "depth {}", s.depth);
        for r in (0..n as usize).step_by(997) {
            let c = s.at_rank(r).unwrap();
            assert_eq!(s.rank(s.score(c), s.member(c)), Some(r));
        }
        for i in (1..ids.len()).rev() {
            ids.swap(i, rng.below(i as u64 + 1) as usize);
        }
        for (k, &i) in ids.iter().enumerate() {
            let (sc, m) = key(i);
            assert!(s.delete(sc, &m));
            if k % 4_999 == 0 {
                check_invariants(&s);
            }
        }
        check_invariants(&s);
        assert_eq!((s.len(), s.depth), (0, 0));
        assert_eq!(s.first(), None);
    }
}

/// A load in score order, either way (a snapshot, a RESTORE, scores that only grow), leaves
/// its leaves three quarters full, not half.
#[test]
fn sorted_loads_fill_their_leaves() {
    let n = 10_000;
    for descending in [false, true] {
        let mut s = ZTree::new();
        for i in 0..n {
            let k = if descending { n - 1 - i } else { i };
            s.insert(k as f64, b"m");
        }
        check_invariants(&s);
        let leaves = s.leaves.len() - s.free_leaves.len();
        assert!(leaves <= n / (CAP - MIN) + 1, "{leaves} leaves for {n} elements");
    }
}
