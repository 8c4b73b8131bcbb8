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

    pub fn count(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        (0..SLOT_COUNT as u16).filter(move |&s| self.contains(s))
    }

    /// Contiguous ranges, ascending.
    pub fn ranges(&self) -> Vec<(u16, u16)> {
        let mut out: Vec<(u16, u16)> = Vec::new();
        for s in self.iter() {
            match out.last_mut() {
                Some((_, end)) if *end + 1 == s => *end = s,
                _ => out.push((s, s)),
            }
        }
        out
    }

    /// "0-100 200 300-400" as CLUSTER NODES prints.
    pub fn ranges_string(&self) -> String {
        self.ranges()
            .iter()
            .map(|&(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") })
            .collect::<Vec<_>>()
            .join(" ")
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
