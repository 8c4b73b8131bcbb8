//! Redis's `pqsort` (`pqsort.c`: Bentley & McIlroy's quicksort from NetBSD, recursing only into
//! the parts that overlap the requested range). GEO searches with COUNT sort just the first
//! COUNT results this way; reproducing it exactly gives the same order as Redis among points
//! at the same distance. Indices stay inside the slice whatever the comparator answers.

use std::cmp::Ordering;

/// Sort `v` enough that positions `lrange..=rrange` hold what a full sort would put there.
pub fn pqsort<T>(v: &mut [T], cmp: &impl Fn(&T, &T) -> Ordering, lrange: usize, rrange: usize) {
    sort_part(v, 0, v.len(), cmp, (lrange, rrange));
}

/// Does `[start, start + len)` meet the wanted range?
fn overlaps(start: usize, len: usize, (l, r): (usize, usize)) -> bool {
    !((l < start && r < start) || (l >= start + len && r >= start + len))
}

fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &impl Fn(&T, &T) -> Ordering) -> usize {
    let lt = |x: usize, y: usize| cmp(&v[x], &v[y]) == Ordering::Less;
    let gt = |x: usize, y: usize| cmp(&v[x], &v[y]) == Ordering::Greater;
    if lt(a, b) {
        if lt(b, c) {
            b
        } else if lt(a, c) {
            c
        } else {
            a
        }
    } else if gt(b, c) {
        b
    } else if lt(a, c) {
        a
    } else {
        c
    }
}

fn vecswap<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for k in 0..n {
        v.swap(a + k, b + k);
    }
}

fn insertion_sort<T>(v: &mut [T], a: usize, n: usize, cmp: &impl Fn(&T, &T) -> Ordering) {
    for pm in a + 1..a + n {
        let mut pl = pm;
        while pl > a && cmp(&v[pl - 1], &v[pl]) == Ordering::Greater {
            v.swap(pl, pl - 1);
            pl -= 1;
        }
    }
}

/// `_pqsort` on `v[a..a + n]`.
fn sort_part<T>(v: &mut [T], mut a: usize, mut n: usize, cmp: &impl Fn(&T, &T) -> Ordering, range: (usize, usize)) {
    loop {
        if n < 7 {
            insertion_sort(v, a, n, cmp);
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let (mut pl, mut pn) = (a, a + n - 1);
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(a, pm);
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                let c = cmp(&v[pb], &v[a]);
                if c == Ordering::Greater {
                    break;
                }
                if c == Ordering::Equal {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let c = cmp(&v[pc], &v[a]);
                if c == Ordering::Less {
                    break;
                }
                if c == Ordering::Equal {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let pn = a + n;
        let r = (pa - a).min(pb - pa);
        vecswap(v, a, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        vecswap(v, pb, pn - r, r);
        let r = pb - pa;
        if r > 1 && overlaps(a, r, range) {
            sort_part(v, a, r, cmp, range);
        }
        let r = pd - pc;
        if r <= 1 {
            return;
        }
        (a, n) = (pn - r, r);
        if !overlaps(a, n, range) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_requested_prefix_is_sorted() {
        let mut x = 7u64;
        for len in [0usize, 1, 5, 7, 8, 41, 100, 1000] {
            for want in [1usize, 3, 10, 60] {
                let mut v: Vec<u64> = (0..len)
                    .map(|_| {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        (x >> 33) % 50
                    })
                    .collect();
                let mut sorted = v.clone();
                sorted.sort();
                let k = want.min(len);
                if k == 0 {
                    continue;
                }
                pqsort(&mut v, &|a: &u64, b: &u64| a.cmp(b), 0, k - 1);
                assert_eq!(v[..k], sorted[..k], "len {len} want {want}");
            }
        }
    }

    #[test]
    fn an_inconsistent_comparator_does_not_panic() {
        let mut v: Vec<f64> = (0..200).map(|i| if i % 3 == 0 { f64::NAN } else { i as f64 }).collect();
        let cmp = |a: &f64, b: &f64| {
            if a > b {
                Ordering::Greater
            } else if a == b {
                Ordering::Equal
            } else {
                Ordering::Less
            }
        };
        pqsort(&mut v, &cmp, 0, 9);
    }
}
