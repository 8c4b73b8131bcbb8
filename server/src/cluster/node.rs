//! A cluster node as this node knows it: identity, address, role flags, epochs, liveness
//! timestamps, failure reports and the slots it claims; plus the slot bitmap and the
//! `CLUSTER NODES` line format (which is also the `nodes.conf` line format).

use slotbox_protocol::SLOT_COUNT;

/// Node flags, as in Redis's `CLUSTER_NODE_*`.
pub mod flags {
    pub const MYSELF: u16 = 1 << 0;
    pub const MASTER: u16 = 1 << 1;
    pub const SLAVE: u16 = 1 << 2;
    pub const PFAIL: u16 = 1 << 3;
    pub const FAIL: u16 = 1 << 4;
    pub const HANDSHAKE: u16 = 1 << 5;
    pub const NOADDR: u16 = 1 << 6;
    pub const MEET: u16 = 1 << 7;
    pub const NOFAILOVER: u16 = 1 << 8;
}

/// A set of hash slots.
#[derive(Clone, PartialEq, Eq)]
pub struct SlotSet(Box<[u64; SLOT_COUNT / 64]>);

impl Default for SlotSet {
    fn default() -> Self {
        SlotSet(Box::new([0; SLOT_COUNT / 64]))
    }
}

impl std::fmt::Debug for SlotSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SlotSet({})", self.ranges_string())
    }
}

impl SlotSet {
    pub fn contains(&self, slot: u16) -> bool {
        self.0[slot as usize / 64] & (1 << (slot % 64)) != 0
    }

    pub fn set(&mut self, slot: u16) {
        self.0[slot as usize / 64] |= 1 << (slot % 64);
    }

    pub fn clear(&mut self, slot: u16) {
        self.0[slot as usize / 64] &= !(1 << (slot % 64));
    }

    /// Every slot.
    pub fn full() -> Self {
        SlotSet(Box::new([u64::MAX; SLOT_COUNT / 64]))
    }

    /// The slots of `self` that are not in `other`.
    pub fn minus(&self, other: &SlotSet) -> SlotSet {
        let mut out = self.clone();
        for (w, o) in out.0.iter_mut().zip(other.0.iter()) {
            *w &= !o;
        }
        out
    }

    /// Add the slots in exactly one of `a` and `b`.
    pub fn add_difference(&mut self, a: &SlotSet, b: &SlotSet) {
        for (w, (x, y)) in self.0.iter_mut().zip(a.0.iter().zip(b.0.iter())) {
            *w |= x ^ y;
        }
    }

    pub fn count(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    /// Set slots, ascending (word by word: empty words cost one test).
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        self.0.iter().enumerate().flat_map(|(i, &w)| {
            let mut bits = w;
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let b = bits.trailing_zeros();
                bits &= bits - 1;
                Some((i * 64) as u16 + b as u16)
            })
        })
    }

    /// Contiguous ranges, ascending (found word by word: a run of full or empty words
    /// costs one test per word).
    pub fn ranges(&self) -> Vec<(u16, u16)> {
        let mut out = Vec::new();
        let mut start: Option<usize> = None;
        let mut s = 0;
        while s < SLOT_COUNT {
            let off = s % 64;
            let avail = 64 - off;
            let word = self.0[s / 64] >> off;
            // Bits from s on that share s's state (set while in a run, clear outside one).
            let same = if start.is_some() { (!word).trailing_zeros() } else { word.trailing_zeros() } as usize;
            if same >= avail {
                s += avail;
                continue;
            }
            s += same;
            match start.take() {
                Some(a) => out.push((a as u16, (s - 1) as u16)),
                None => start = Some(s),
            }
        }
        if let Some(a) = start {
            out.push((a as u16, (SLOT_COUNT - 1) as u16));
        }
        out
    }

    /// "0-100 200 300-400" as CLUSTER NODES prints.
    pub fn ranges_string(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        for (a, b) in self.ranges() {
            if !out.is_empty() {
                out.push(' ');
            }
            let _ = if a == b { write!(out, "{a}") } else { write!(out, "{a}-{b}") };
        }
        out
    }

    pub fn as_words(&self) -> &[u64; SLOT_COUNT / 64] {
        &self.0
    }

    pub fn from_words(words: [u64; SLOT_COUNT / 64]) -> Self {
        SlotSet(Box::new(words))
    }
}

/// What this node knows about one node of the cluster (itself included).
#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub ip: String,
    pub port: u16,
    pub cport: u16,
    pub flags: u16,
    /// The master's id, for replicas.
    pub master: Option<String>,
    /// Unix ms of the last PING sent and not yet answered (0 = none pending).
    pub ping_sent: i64,
    /// Unix ms of the last PONG received.
    pub pong_received: i64,
    /// Unix ms of the last message of any kind received from it.
    pub data_received: i64,
    pub config_epoch: u64,
    /// An outbound bus link to it is connected.
    pub link_connected: bool,
    pub slots: SlotSet,
    /// (reporter id, unix ms) of masters that reported it PFAIL or FAIL.
    pub fail_reports: Vec<(String, i64)>,
    /// Unix ms when it was marked FAIL.
    pub fail_time: i64,
    pub repl_offset: i64,
    /// Unix ms when this entry was created (handshake timeout).
    pub created: i64,
    /// Its last header said it paused writes for a manual failover.
    pub mf_paused: bool,
}

impl Node {
    pub fn new(id: String, ip: String, port: u16, cport: u16, flags: u16, now: i64) -> Self {
        Node {
            id,
            ip,
            port,
            cport,
            flags,
            master: None,
            ping_sent: 0,
            pong_received: 0,
            data_received: 0,
            config_epoch: 0,
            link_connected: false,
            slots: SlotSet::default(),
            fail_reports: Vec::new(),
            fail_time: 0,
            repl_offset: 0,
            created: now,
            mf_paused: false,
        }
    }

    pub fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }

    pub fn is_master(&self) -> bool {
        self.has(flags::MASTER)
    }

    pub fn is_failing(&self) -> bool {
        self.has(flags::FAIL) || self.has(flags::PFAIL)
    }

    /// The flags field of CLUSTER NODES ("myself,master", "slave,fail?", "noflags").
    pub fn flags_string(&self) -> String {
        let names = [
            (flags::MYSELF, "myself"),
            (flags::MASTER, "master"),
            (flags::SLAVE, "slave"),
            (flags::PFAIL, "fail?"),
            (flags::FAIL, "fail"),
            (flags::HANDSHAKE, "handshake"),
            (flags::NOADDR, "noaddr"),
            (flags::NOFAILOVER, "nofailover"),
        ];
        let v: Vec<&str> = names.iter().filter(|(f, _)| self.has(*f)).map(|(_, n)| *n).collect();
        if v.is_empty() {
            "noflags".into()
        } else {
            v.join(",")
        }
    }

    /// "ip:port@cport".
    pub fn address_string(&self) -> String {
        format!("{}:{}@{}", self.ip, self.port, self.cport)
    }

    /// One CLUSTER NODES line without the open-slot markers and without a newline.
    pub fn describe(&self, connected: bool) -> String {
        let mut line = format!(
            "{} {} {} {} {} {} {} {}",
            self.id,
            self.address_string(),
            self.flags_string(),
            self.master.as_deref().unwrap_or("-"),
            self.ping_sent,
            self.pong_received,
            self.config_epoch,
            if connected { "connected" } else { "disconnected" },
        );
        if self.is_master() && !self.slots.is_empty() {
            line.push(' ');
            line.push_str(&self.slots.ranges_string());
        }
        line
    }
}

/// True if `id` looks like a node id (40 hex characters).
pub fn valid_node_id(id: &[u8]) -> bool {
    id.len() == 40 && id.iter().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_ranges() {
        let mut s = SlotSet::default();
        for i in 0..=100 {
            s.set(i);
        }
        s.set(200);
        s.set(16383);
        assert_eq!(s.ranges_string(), "0-100 200 16383");
        assert_eq!(s.count(), 103);
        s.clear(50);
        assert_eq!(s.ranges_string(), "0-49 51-100 200 16383");
    }

    /// The word-wise `iter` and `ranges` agree with a bit-by-bit walk on sets with runs that
    /// start, end and span word boundaries.
    #[test]
    fn iter_and_ranges_match_bitwise_walk() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for round in 0..200 {
            let mut s = SlotSet::default();
            let mut pos = 0usize;
            while pos < SLOT_COUNT {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let len = (seed % if round % 2 == 0 { 130 } else { 3 }) as usize + 1;
                if seed & (1 << 40) != 0 {
                    for b in pos..(pos + len).min(SLOT_COUNT) {
                        s.set(b as u16);
                    }
                }
                pos += len;
            }
            let slow: Vec<u16> = (0..SLOT_COUNT as u16).filter(|&b| s.contains(b)).collect();
            assert_eq!(s.iter().collect::<Vec<_>>(), slow);
            let mut runs: Vec<(u16, u16)> = Vec::new();
            for b in slow {
                match runs.last_mut() {
                    Some((_, e)) if *e + 1 == b => *e = b,
                    _ => runs.push((b, b)),
                }
            }
            assert_eq!(s.ranges(), runs);
        }
        assert_eq!(SlotSet::full().ranges(), vec![(0, 16383)]);
        assert_eq!(SlotSet::default().ranges(), vec![]);
    }

    #[test]
    fn add_difference_collects_changed_slots() {
        let (mut a, mut b, mut d) = (SlotSet::default(), SlotSet::default(), SlotSet::default());
        a.set(5);
        a.set(700);
        b.set(700);
        b.set(9000);
        d.add_difference(&a, &b);
        assert_eq!(d.iter().collect::<Vec<_>>(), vec![5, 9000]);
    }

    #[test]
    fn describe_line() {
        let mut n = Node::new("a".repeat(40), "127.0.0.1".into(), 7000, 17000, flags::MYSELF | flags::MASTER, 0);
        n.slots.set(0);
        n.slots.set(1);
        assert_eq!(
            n.describe(true),
            format!("{} 127.0.0.1:7000@17000 myself,master - 0 0 0 connected 0-1", "a".repeat(40))
        );
    }
}
