//! Release-mode timing of score updates (ZADD on an existing member), ignored by default:
//! `cargo test --release -p slotbox-server ztree::perf -- --ignored --nocapture`.

use super::ZTree;
use crate::store::types::ZSetValue;
use std::time::Instant;

const MEMBERS: u64 = 100_000;
const UPDATES: usize = 1_000_000;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn members() -> Vec<Vec<u8>> {
    (0..MEMBERS).map(|i| format!("element:{i:012}").into_bytes()).collect()
}

/// ns per update, the best of a few rounds of `UPDATES` (the machine is shared and noisy).
fn best_of(mut round: impl FnMut()) -> f64 {
    (0..5)
        .map(|_| {
            let t = Instant::now();
            round();
            t.elapsed().as_nanos() as f64 / UPDATES as f64
        })
        .fold(f64::INFINITY, f64::min)
}

#[test]
#[ignore]
fn ztree_update_timing() {
    let ms = members();
    let mut rng = Rng(7);
    let mut scores: Vec<f64> = (0..MEMBERS).map(|_| (rng.next() % MEMBERS) as f64).collect();
    let mut s = ZTree::new();
    for (m, sc) in ms.iter().zip(&scores) {
        s.insert(*sc, m);
    }
    let ops: Vec<(usize, f64)> =
        (0..UPDATES).map(|_| ((rng.next() % MEMBERS) as usize, (rng.next() % MEMBERS) as f64)).collect();
    let ns = best_of(|| {
        for &(i, new) in &ops {
            let old = scores[i];
            if old != new {
                s.update_score(old, &ms[i], new);
                scores[i] = new;
            }
        }
    });
    println!("ztree: {UPDATES} updates over {MEMBERS} members: {ns:.1} ns/op");
    assert_eq!(s.len(), MEMBERS as usize);
}

#[test]
#[ignore]
fn zset_put_timing() {
    let ms = members();
    let mut rng = Rng(11);
    let mut z = ZSetValue::default();
    for m in &ms {
        z.put(m, (rng.next() % MEMBERS) as f64);
    }
    let ops: Vec<(usize, f64)> =
        (0..UPDATES).map(|_| ((rng.next() % MEMBERS) as usize, (rng.next() % MEMBERS) as f64)).collect();
    let ns = best_of(|| {
        for &(i, new) in &ops {
            z.put(&ms[i], new);
        }
    });
    println!("zset put: {UPDATES} updates over {MEMBERS} members: {ns:.1} ns/op");
    assert_eq!(z.len(), MEMBERS as usize);
}

#[test]
#[ignore]
fn score_range_timing() {
    let ms = members();
    let mut rng = Rng(13);
    let mut s = ZTree::new();
    for m in &ms {
        s.insert((rng.next() % MEMBERS) as f64, m);
    }
    let bounds: Vec<f64> = (0..UPDATES).map(|_| (rng.next() % MEMBERS) as f64 + 0.5).collect();
    let mut total = 0usize;
    let ns = best_of(|| {
        for &b in &bounds {
            // ZCOUNT-like: the rank of the first element past a score bound.
            total += s.count_where_score(|sc| sc < b);
        }
    });
    println!("count_where_score: {UPDATES} lookups over {MEMBERS} members: {ns:.1} ns/op");
    assert!(total > 0);
}
