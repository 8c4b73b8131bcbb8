//! [`SlotSet`]: the set of hash slots a node serves, and its redis-cli text form
//! (`[0-5460],[5462]`). Pure data; no I/O.

/// Number of hash slots in a Redis Cluster.
pub const SLOTS: usize = 16384;

/// A set of hash slots (one flag per slot).
#[derive(Clone, PartialEq, Eq)]
pub struct SlotSet {
    bits: Vec<bool>,
}

impl Default for SlotSet {
    fn default() -> Self {
        SlotSet { bits: vec![false; SLOTS] }
    }
}

impl std::fmt::Debug for SlotSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SlotSet({})", self.ranges_string())
    }
}

impl SlotSet {
    pub fn contains(&self, slot: u16) -> bool {
        self.bits[slot as usize]
    }

    pub fn insert(&mut self, slot: u16) {
        self.bits[slot as usize] = true;
    }

    pub fn remove(&mut self, slot: u16) {
        self.bits[slot as usize] = false;
    }

    pub fn insert_range(&mut self, first: u16, last: u16) {
        for s in first..=last {
            self.insert(s);
        }
    }

    pub fn clear(&mut self) {
        self.bits.iter_mut().for_each(|b| *b = false);
    }

    pub fn count(&self) -> usize {
        self.bits.iter().filter(|b| **b).count()
    }

    pub fn is_empty(&self) -> bool {
        !self.bits.iter().any(|b| *b)
    }

    /// The slots in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        self.bits.iter().enumerate().filter(|(_, b)| **b).map(|(i, _)| i as u16)
    }

    /// Contiguous runs as `(first, last)` pairs.
    pub fn ranges(&self) -> Vec<(u16, u16)> {
        let mut out: Vec<(u16, u16)> = Vec::new();
        for s in self.iter() {
            match out.last_mut() {
                Some((_, last)) if *last + 1 == s => *last = s,
                _ => out.push((s, s)),
            }
        }
        out
    }

    /// redis-cli's `clusterManagerNodeSlotsString`: `[0-5460],[5462]`.
    pub fn ranges_string(&self) -> String {
        let parts: Vec<String> = self
            .ranges()
            .into_iter()
            .map(|(a, b)| if a == b { format!("[{a}]") } else { format!("[{a}-{b}]") })
            .collect();
        parts.join(",")
    }
}

/// A set built from a list of slots (for messages about slot lists).
pub fn set_of(slots: &[u16]) -> SlotSet {
    let mut set = SlotSet::default();
    for &s in slots {
        set.insert(s);
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_string_like_redis_cli() {
        let mut s = SlotSet::default();
        assert_eq!(s.ranges_string(), "");
        s.insert_range(0, 2);
        s.insert_range(5461, 10924);
        s.insert(16383);
        assert_eq!(s.ranges_string(), "[0-2],[5461-10924],[16383]");
        assert_eq!(s.count(), 3 + 5464 + 1);
        s.remove(1);
        assert_eq!(s.ranges()[..2], [(0, 0), (2, 2)]);
        assert_eq!(set_of(&[300]).ranges_string(), "[300]");
    }
}
