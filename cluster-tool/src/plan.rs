//! Pure planning, redis-cli 7.0's algorithms with no I/O: master and replica allocation for
//! `create` (nodes interleaved by host, contiguous slot ranges with the last master taking
//! the remainder, replicas on other hosts first, then the anti-affinity optimiser), the
//! reshard table (slots taken from each source in proportion to what it holds), and
//! rebalance moves (expected slots per weight, threshold, two-pointer matching). Nodes are
//! referred to by index into the caller's list. Floating point follows redis-cli's `float`s
//! so the numbers printed are the same.

use crate::slots::SLOTS;

/// A small deterministic random generator (xorshift64*), seeded by the caller.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}

/// How many masters `create` makes from `nodes` nodes with `replicas` replicas each.
pub fn masters_count(nodes: usize, replicas: usize) -> usize {
    nodes / (replicas + 1)
}

/// Node indices interleaved by host: one node of each host in turn, hosts in order of
/// first appearance, so masters land on as many hosts as possible.
pub fn interleave_by_host(hosts: &[String]) -> Vec<usize> {
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, h) in hosts.iter().enumerate() {
        match groups.iter_mut().find(|(g, _)| *g == h.as_str()) {
            Some((_, v)) => v.push(i),
            None => groups.push((h.as_str(), vec![i])),
        }
    }
    let mut out = Vec::with_capacity(hosts.len());
    let mut round = 0;
    while out.len() < hosts.len() {
        for (_, members) in &groups {
            if let Some(&i) = members.get(round) {
                out.push(i);
            }
        }
        round += 1;
    }
    out
}

/// Contiguous slot ranges for `masters` masters; the last one takes the remainder.
pub fn master_slot_ranges(masters: usize) -> Vec<(u16, u16)> {
    let per_node = SLOTS as f32 / masters as f32;
    let (mut first, mut cursor) = (0i64, 0.0f32);
    let mut out = Vec::with_capacity(masters);
    for i in 0..masters {
        let mut last = ((cursor + per_node - 1.0) as f64).round() as i64;
        if last > SLOTS as i64 || i == masters - 1 {
            last = SLOTS as i64 - 1;
        }
        last = last.max(first);
        out.push((first as u16, last as u16));
        first = last + 1;
        cursor += per_node;
    }
    out
}

/// One line of the replica assignment, in the order redis-cli prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateStep {
    /// "Adding replica <replica> to <master>".
    Replica { replica: usize, master: usize },
    /// "Adding extra replicas..." (nodes left over after every master got its replicas).
    ExtraReplicas,
}

/// The layout `create` proposes.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatePlan {
    /// Master node indices, in master order (`Master[i]`).
    pub masters: Vec<usize>,
    /// Slot range of each master.
    pub ranges: Vec<(u16, u16)>,
    pub steps: Vec<CreateStep>,
    /// Final role of every node after anti-affinity optimisation: its master, if a replica.
    pub replica_of: Vec<Option<usize>>,
    /// Anti-affinity score after optimising, `None` when the first layout was already perfect
    /// (then redis-cli prints nothing about it).
    pub optimized_score: Option<u32>,
}

/// Plan `create` for nodes on `hosts`; `None` when fewer than 3 masters would result.
pub fn plan_create(hosts: &[String], replicas: usize, rng: &mut Rng) -> Option<CreatePlan> {
    let masters_n = masters_count(hosts.len(), replicas);
    if masters_n < 3 {
        return None;
    }
    let order = interleave_by_host(hosts);
    let masters: Vec<usize> = order[..masters_n].to_vec();
    let mut rest: Vec<Option<usize>> = order[masters_n..].iter().map(|&i| Some(i)).collect();
    if !rest.is_empty() {
        rest.rotate_left(1);
    }
    let mut replica_of = vec![None; hosts.len()];
    let mut steps = Vec::new();
    let mut available = rest.len();
    for extra in [false, true] {
        if extra {
            if available == 0 {
                break;
            }
            steps.push(CreateStep::ExtraReplicas);
        }
        for &m in &masters {
            let mut assigned = 0;
            while assigned < replicas && available > 0 {
                let pick = rest
                    .iter()
                    .position(|n| matches!(n, Some(i) if hosts[*i] != hosts[m]))
                    .or_else(|| rest.iter().position(Option::is_some))
                    .expect("available > 0");
                let r = rest[pick].take().expect("picked a node");
                replica_of[r] = Some(m);
                available -= 1;
                assigned += 1;
                steps.push(CreateStep::Replica { replica: r, master: m });
                if extra {
                    break;
                }
            }
        }
    }
    let optimized_score = optimize_anti_affinity(hosts, &mut replica_of, rng);
    let ranges = master_slot_ranges(masters_n);
    Some(CreatePlan { masters, ranges, steps, replica_of, optimized_score })
}

/// Anti-affinity score of a layout (0 is perfect): 10000 for every replica on its master's
/// host, plus, for replicas of one master sharing a host without it, one per such replica.
/// Also returns the offending replicas (one per offending group) the optimiser may move.
pub fn anti_affinity(hosts: &[String], replica_of: &[Option<usize>]) -> (u32, Vec<usize>) {
    let mut host_order: Vec<&str> = Vec::new();
    for h in hosts {
        if !host_order.contains(&h.as_str()) {
            host_order.push(h);
        }
    }
    let (mut score, mut offenders) = (0u32, Vec::new());
    for host in host_order {
        // Group this host's nodes by master: (master key, has master, replica count).
        let mut groups: Vec<(usize, bool, u32)> = Vec::new();
        for (i, _) in hosts.iter().enumerate().filter(|(_, h)| h.as_str() == host) {
            let key = replica_of[i].unwrap_or(i);
            let pos = groups.iter().position(|g| g.0 == key).unwrap_or_else(|| {
                groups.push((key, false, 0));
                groups.len() - 1
            });
            match replica_of[i] {
                Some(_) => groups[pos].2 += 1,
                None => groups[pos].1 = true,
            }
        }
        for (key, has_master, reps) in groups {
            let len = reps + has_master as u32;
            if len < 2 {
                continue;
            }
            score += if has_master { 10000 * (len - 1) } else { len };
            if let Some(o) = (0..hosts.len()).find(|&n| replica_of[n] == Some(key) && hosts[n] == host) {
                offenders.push(o);
            }
        }
    }
    (score, offenders)
}

/// redis-cli's optimiser: swap the masters of a random offending replica and a random other
/// replica, keeping the swap unless it makes the score worse, for `500 * nodes` rounds.
fn optimize_anti_affinity(hosts: &[String], replica_of: &mut [Option<usize>], rng: &mut Rng) -> Option<u32> {
    if anti_affinity(hosts, replica_of).0 == 0 {
        return None;
    }
    for _ in 0..500 * hosts.len() {
        let (score, offenders) = anti_affinity(hosts, replica_of);
        if score == 0 || offenders.is_empty() {
            break;
        }
        let first = offenders[rng.below(offenders.len())];
        let others: Vec<usize> = (0..hosts.len()).filter(|&n| n != first && replica_of[n].is_some()).collect();
        if others.is_empty() {
            break;
        }
        let second = others[rng.below(others.len())];
        replica_of.swap(first, second);
        if anti_affinity(hosts, replica_of).0 > score {
            replica_of.swap(first, second);
        }
    }
    Some(anti_affinity(hosts, replica_of).0)
}

/// The message redis-cli prints after optimising anti-affinity, and whether it is a warning.
pub fn anti_affinity_message(score: u32) -> (&'static str, bool) {
    match score {
        0 => ("[OK] Perfect anti-affinity obtained!", false),
        s if s >= 10000 => ("[WARNING] Some slaves are in the same host as their master", true),
        _ => ("[WARNING] Some slaves of the same master are in the same host", true),
    }
}

/// redis-cli's reshard table: `numslots` slots taken from `sources` (each its slots in
/// ascending order), the source holding most first, each in proportion to its share (the
/// first rounded up, the others down). Returns `(source index, slot)` pairs.
pub fn reshard_table(sources: &[Vec<u16>], numslots: usize) -> Vec<(usize, u16)> {
    let total: usize = sources.iter().map(Vec::len).sum();
    let mut order: Vec<usize> = (0..sources.len()).collect();
    order.sort_by(|a, b| sources[*b].len().cmp(&sources[*a].len()));
    let mut table = Vec::with_capacity(numslots);
    for (rank, &src) in order.iter().enumerate() {
        let share = numslots as f32 / total as f32 * sources[src].len() as f32;
        let max = if rank == 0 { share.ceil() } else { share.floor() } as usize;
        for &slot in sources[src].iter().take(max) {
            if table.len() >= numslots {
                break;
            }
            table.push((src, slot));
        }
    }
    table
}

/// A master taking part in a rebalance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Member {
    pub slots: usize,
    pub weight: f32,
}

/// Moving `slots` slots from member `src` to member `dst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub src: usize,
    pub dst: usize,
    pub slots: usize,
}

/// What rebalance will do.
#[derive(Debug, Clone, PartialEq)]
pub enum Rebalance {
    /// Every member is within the threshold: nothing to do.
    Balanced,
    Moves {
        total_weight: f32,
        /// Members sorted by balance (slots to give away, negative to receive).
        balances: Vec<(usize, i64)>,
        moves: Vec<Move>,
    },
}

/// redis-cli's rebalance plan for `members` with a threshold in percent.
pub fn plan_rebalance(members: &[Member], threshold: f32) -> Rebalance {
    let total_weight: f32 = members.iter().map(|m| m.weight).sum();
    let mut balance = Vec::with_capacity(members.len());
    let mut over_threshold = false;
    for m in members {
        let expected = ((SLOTS as f32 / total_weight) * m.weight) as i64;
        balance.push(m.slots as i64 - expected);
        if threshold > 0.0 {
            if m.slots > 0 {
                let err_perc = (100.0 - (100.0 * expected as f64 / m.slots as f64)).abs();
                over_threshold |= err_perc > threshold as f64;
            } else if expected > 1 {
                over_threshold = true;
            }
        }
    }
    if !over_threshold {
        return Rebalance::Balanced;
    }
    // Rounding can leave more slots to give than to take: hand them to receivers.
    let mut total: i64 = balance.iter().sum();
    while total > 0 {
        for b in balance.iter_mut() {
            if *b <= 0 && total > 0 {
                *b -= 1;
                total -= 1;
            }
        }
    }
    let mut order: Vec<usize> = (0..members.len()).collect();
    order.sort_by_key(|&i| balance[i]);
    let balances = order.iter().map(|&i| (i, balance[i])).collect();
    let moves = match_moves(&order, &mut balance);
    Rebalance::Moves { total_weight, balances, moves }
}

/// Pair receivers (start of `order`) with givers (end of `order`) until all are balanced.
fn match_moves(order: &[usize], balance: &mut [i64]) -> Vec<Move> {
    let mut moves = Vec::new();
    let (mut dst_idx, mut src_idx) = (0usize, order.len().saturating_sub(1));
    while dst_idx < src_idx {
        let (dst, src) = (order[dst_idx], order[src_idx]);
        let n = balance[dst].abs().min(balance[src].abs());
        if n > 0 {
            moves.push(Move { src, dst, slots: n as usize });
        }
        balance[dst] += n;
        balance[src] -= n;
        if balance[dst] == 0 {
            dst_idx += 1;
        }
        if balance[src] == 0 {
            src_idx = src_idx.saturating_sub(1);
        }
    }
    moves
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
