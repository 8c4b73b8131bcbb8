//! A small cluster-aware client for the chaos workload, on [`RawClient`] connections (10 s
//! read and write timeouts: the stall bound). It keeps a slot → node map from CLUSTER SLOTS,
//! follows MOVED (updates the map) and ASK (ASKING on the target), and retries connection
//! errors, CLUSTERDOWN, TRYAGAIN, LOADING, MASTERDOWN and READONLY with a backoff, for at most
//! [`RETRY_LIMIT`] per operation.
//!
//! An operation is a batch of commands for one slot sent on one connection: a single command,
//! a pipeline, a transaction (MULTI … EXEC around the batch), or a write and the WAIT that
//! must follow it on the same connection. A command that gets no answer within the stall
//! bound is journaled as a stall, unless its node was paused or killed meanwhile.

use crate::common::{encode_command, RawClient};
use crate::journal::Journal;
use crate::nodes::{Cluster, NodeState};
use slotbox::protocol::Frame;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long one operation may keep retrying before it is journaled as given up.
pub const RETRY_LIMIT: Duration = Duration::from_secs(30);

/// One command: its arguments.
pub type Cmd = Vec<Vec<u8>>;

/// A command from string-like arguments.
pub fn cmd<A: AsRef<[u8]>>(args: &[A]) -> Cmd {
    args.iter().map(|a| a.as_ref().to_vec()).collect()
}

/// What a batch's replies call for.
enum Verdict {
    Done,
    Moved(u16, u16),
    Ask(u16),
    Retry(String),
}

/// Errors the client retries (the cluster is changing under it); anything else is an answer.
fn retryable(msg: &str) -> bool {
    ["CLUSTERDOWN", "TRYAGAIN", "LOADING", "MASTERDOWN", "READONLY", "NOREPLICAS"].iter().any(|p| msg.starts_with(p))
}

/// `MOVED 3999 127.0.0.1:7001` / `ASK ...` → (slot, port).
fn redirect(msg: &str, kind: &str) -> Option<(u16, u16)> {
    let rest = msg.strip_prefix(kind)?.trim();
    let (slot, addr) = rest.split_once(' ')?;
    let port = addr.rsplit_once(':')?.1;
    Some((slot.parse().ok()?, port.parse().ok()?))
}

fn verdict(frames: &[Frame]) -> Verdict {
    let mut retry = None;
    for f in frames {
        let Frame::Error(e) = f else { continue };
        let msg = String::from_utf8_lossy(e);
        if let Some((slot, port)) = redirect(&msg, "MOVED") {
            return Verdict::Moved(slot, port);
        }
        if let Some((_, port)) = redirect(&msg, "ASK") {
            return Verdict::Ask(port);
        }
        if retryable(&msg) && retry.is_none() {
            retry = Some(msg.into_owned());
        }
    }
    retry.map_or(Verdict::Done, Verdict::Retry)
}

/// A short name for an operation, for the journal.
pub fn describe(cmds: &[Cmd], tx: bool) -> String {
    let name = |c: &Cmd| String::from_utf8_lossy(&c[0]).to_ascii_uppercase();
    let key =
        |c: &Cmd| c.get(1).map(|k| String::from_utf8_lossy(&k[..k.len().min(40)]).into_owned()).unwrap_or_default();
    match (cmds.len(), tx) {
        (1, false) => format!("{} {}", name(&cmds[0]), key(&cmds[0])),
        (n, true) => format!("MULTI/EXEC of {n} ({} {} ...)", name(&cmds[0]), key(&cmds[0])),
        (n, false) => format!("pipeline of {n} ({} {} ...)", name(&cmds[0]), key(&cmds[0])),
    }
}

pub struct ClusterClient {
    cluster: Arc<Cluster>,
    journal: Arc<Journal>,
    owners: Vec<Option<u16>>,
    conns: HashMap<u16, RawClient>,
    stale: bool,
    next_seed: usize,
    /// The slowest answered batch whose node was not paused meanwhile: (time, what, node).
    pub slowest: (Duration, String, u16),
}

impl ClusterClient {
    pub fn new(cluster: Arc<Cluster>, journal: Arc<Journal>) -> ClusterClient {
        let owners = vec![None; 16384];
        let slowest = (Duration::ZERO, String::new(), 0);
        ClusterClient { cluster, journal, owners, conns: HashMap::new(), stale: true, next_seed: 0, slowest }
    }

    /// One command; Err if it could not be done within the retry bound (journaled).
    pub fn one(&mut self, slot: u16, c: Cmd) -> Result<Frame, String> {
        self.run(slot, &[c], false).map(|mut r| r.pop().unwrap_or(Frame::Null))
    }

    /// A batch for `slot` on one connection: pipelined, or as one transaction (`tx`: the
    /// replies are MULTI's, one QUEUED per command, then EXEC's).
    pub fn run(&mut self, slot: u16, cmds: &[Cmd], tx: bool) -> Result<Vec<Frame>, String> {
        let deadline = Instant::now() + RETRY_LIMIT;
        let mut ask: Option<u16> = None;
        let mut backoff = Duration::from_millis(20);
        let mut last = String::from("no node owns the slot");
        for attempt in 0u32.. {
            if Instant::now() > deadline {
                self.journal.gave_up(&describe(cmds, tx), &last);
                return Err(last);
            }
            if attempt > 1 && ask.is_none() {
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_millis(500));
            }
            let asking = ask.is_some();
            let Some(port) = ask.take().or_else(|| self.owner(slot)) else { continue };
            let (payload, n) = encode(cmds, tx, asking);
            let (started, changes) = (Instant::now(), self.changes(port));
            let frames = match self.send(port, &payload, n, &describe(cmds, tx)) {
                Ok(frames) => frames,
                Err(e) => {
                    last = format!("127.0.0.1:{port}: {e}");
                    self.stale = true;
                    continue;
                }
            };
            // (Not an answer held up by a pause of its node.)
            if self.changes(port) == changes {
                self.note_latency(started.elapsed(), cmds, tx, port);
            }
            let frames: Vec<Frame> = if asking { frames.into_iter().skip(1).collect() } else { frames };
            match verdict(&frames) {
                Verdict::Done => return Ok(frames),
                Verdict::Moved(s, p) => {
                    last = format!("MOVED {s} to {p}");
                    self.owners[s as usize] = Some(p);
                }
                // A transaction under migration waits for the slot to move rather than
                // queue ASKING inside MULTI.
                Verdict::Ask(p) if !tx => ask = Some(p),
                Verdict::Ask(p) => last = format!("ASK {p} (transaction: retry later)"),
                Verdict::Retry(e) => {
                    last = format!("127.0.0.1:{port}: {e}");
                    self.stale = true;
                }
            }
        }
        unreachable!()
    }

    /// The state-change counter of the node on `port` (0 for a port not of ours).
    fn changes(&self, port: u16) -> u64 {
        self.cluster.index_of(port).map_or(0, |i| self.cluster.nodes[i].changes())
    }

    fn note_latency(&mut self, took: Duration, cmds: &[Cmd], tx: bool, port: u16) {
        if took > self.slowest.0 {
            self.slowest = (took, describe(cmds, tx), port);
        }
    }

    fn owner(&mut self, slot: u16) -> Option<u16> {
        if self.stale || self.owners[slot as usize].is_none() {
            self.refresh();
        }
        self.owners[slot as usize]
    }

    /// Reload the slot map from the first node that answers CLUSTER SLOTS (nodes in turn).
    pub fn refresh(&mut self) {
        let n = self.cluster.nodes.len();
        for k in 0..n {
            let i = (self.next_seed + k) % n;
            let port = self.cluster.nodes[i].port;
            let payload = encode_command(&["CLUSTER", "SLOTS"]);
            if let Ok(frames) = self.send(port, &payload, 1, "CLUSTER SLOTS") {
                if let Some(map) = slot_map(&frames[0]) {
                    self.owners = map;
                    self.stale = false;
                    self.next_seed = (i + 1) % n;
                    return;
                }
            }
        }
    }

    /// Send `payload` to a node and read `n` replies. A node that is paused or down is not
    /// tried; a timeout while it was up is a stall.
    fn send(&mut self, port: u16, payload: &[u8], n: usize, what: &str) -> Result<Vec<Frame>, String> {
        let Some(idx) = self.cluster.index_of(port) else { return Err(format!("unknown node {port}")) };
        let cluster = self.cluster.clone();
        let node = &cluster.nodes[idx];
        if node.state() != NodeState::Up {
            return Err(format!("node is {:?}", node.state()));
        }
        let changes = node.changes();
        let started = Instant::now();
        let result = self.exchange(port, payload, n);
        if let Err(e) = &result {
            self.conns.remove(&port);
            if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) {
                if node.changes() != changes || node.state() != NodeState::Up {
                    self.journal.excused_stall();
                } else {
                    self.journal.stall(port, what, started.elapsed());
                }
            } else if e.kind() == std::io::ErrorKind::InvalidData {
                self.journal.unexpected("(protocol)", &e.to_string());
            }
        }
        result.map_err(|e| e.to_string())
    }

    fn exchange(&mut self, port: u16, payload: &[u8], n: usize) -> std::io::Result<Vec<Frame>> {
        let conn = match self.conns.entry(port) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(RawClient::try_connect(std::net::SocketAddr::from(([127, 0, 0, 1], port)))?)
            }
        };
        conn.try_send_raw(payload)?;
        (0..n).map(|_| conn.try_read_reply().map(|(f, _)| f)).collect()
    }
}

/// Encode a batch: ASKING first when redirected by ASK, MULTI / EXEC around a transaction.
/// Returns the bytes and the number of replies to read.
fn encode(cmds: &[Cmd], tx: bool, asking: bool) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut n = cmds.len();
    if asking {
        out.extend(encode_command(&["ASKING"]));
        n += 1;
    }
    if tx {
        out.extend(encode_command(&["MULTI"]));
        n += 2;
    }
    for c in cmds {
        out.extend(encode_command(c));
    }
    if tx {
        out.extend(encode_command(&["EXEC"]));
    }
    (out, n)
}

/// CLUSTER SLOTS → owner port per slot (None if the reply is not a slot table).
pub fn slot_map(reply: &Frame) -> Option<Vec<Option<u16>>> {
    let Frame::Array(ranges) = reply else { return None };
    let mut owners = vec![None; 16384];
    for r in ranges {
        let Frame::Array(f) = r else { return None };
        let (Some(Frame::Integer(a)), Some(Frame::Integer(b)), Some(Frame::Array(m))) = (f.first(), f.get(1), f.get(2))
        else {
            return None;
        };
        let Some(Frame::Integer(port)) = m.get(1) else { return None };
        for s in *a..=*b {
            owners[s as usize] = Some(*port as u16);
        }
    }
    Some(owners)
}
