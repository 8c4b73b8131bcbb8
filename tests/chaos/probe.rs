//! Watchers that run beside the workload.
//!
//! - [`probe`]: "no hang anywhere" for every node, replicas included (the workload only talks
//!   to masters): every 200 ms, each node that is up gets `PING`, `ROLE`, `DBSIZE`, `INFO
//!   replication` and a `READONLY` `GET`, pipelined; no answer within the stall bound while the
//!   node was neither paused nor killed is a stall.
//! - [`subscribe`]: a subscriber on one node (moving to another when its node is paused or
//!   killed) counts the messages the workers publish, and checks that each publisher's messages
//!   on one channel arrive in order and once; it pings in subscribed mode so a subscriber
//!   connection that stops answering is a stall too.

use crate::common::{encode_command, text, RawClient};
use crate::journal::{Counts, Journal};
use crate::nodes::{Cluster, Node, NodeState};
use crate::workload::CHANNELS;
use slotbox::protocol::Frame;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A timeout, attributed: a stall unless the node changed state (paused, killed) meanwhile.
fn timed_out(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
}

/// Probe every node until `stop`; returns probe counts.
pub fn probe(cluster: Arc<Cluster>, journal: Arc<Journal>, stop: Arc<AtomicBool>) -> Counts {
    let mut conns: HashMap<u16, RawClient> = HashMap::new();
    let mut counts = Counts::default();
    let mut batch = Vec::new();
    for c in [&["PING"][..], &["ROLE"], &["DBSIZE"], &["INFO", "replication"], &["READONLY"], &["GET", "{w0g0}:s"]] {
        batch.extend(encode_command(c));
    }
    while !stop.load(Ordering::Relaxed) {
        for node in &cluster.nodes {
            if node.state() != NodeState::Up {
                continue;
            }
            let changes = node.changes();
            let started = Instant::now();
            let result = match conns.entry(node.port) {
                std::collections::hash_map::Entry::Occupied(o) => Ok(o.into_mut()),
                std::collections::hash_map::Entry::Vacant(v) => {
                    RawClient::try_connect(node.addr()).map(|c| v.insert(c))
                }
            }
            .and_then(|c| {
                c.try_send_raw(&batch)?;
                (0..6).try_for_each(|_| c.try_read_reply().map(|_| ()))
            });
            match result {
                Ok(()) => counts.add("probe", 1),
                Err(e) => {
                    conns.remove(&node.port);
                    if timed_out(&e) && node.changes() == changes && node.state() == NodeState::Up {
                        journal.stall(node.port, "PING/ROLE/DBSIZE/INFO/GET (probe)", started.elapsed());
                    } else if timed_out(&e) {
                        journal.excused_stall();
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    counts
}

/// Per (publisher, channel): the last sequence number seen.
#[derive(Default)]
struct Order {
    last: HashMap<(String, String), u64>,
    received: u64,
    out_of_order: u64,
}

impl Order {
    /// A `message` push: `["message", channel, "w<id>:<seq>"]`.
    fn note(&mut self, f: &Frame) -> bool {
        let Frame::Array(parts) = f else { return false };
        if parts.len() != 3 || text(&parts[0]) != "message" {
            return false;
        }
        let (channel, payload) = (text(&parts[1]), text(&parts[2]));
        let Some((publisher, seq)) = payload.split_once(':') else { return false };
        let Ok(seq) = seq.parse::<u64>() else { return false };
        self.received += 1;
        let last = self.last.entry((publisher.to_string(), channel)).or_insert(0);
        if seq <= *last {
            self.out_of_order += 1;
        }
        *last = seq.max(*last);
        true
    }
}

/// Subscribe to every chaos channel on one node and count messages until `stop`. Returns
/// counts: messages received, out-of-order or repeated ones, resubscriptions.
pub fn subscribe(cluster: Arc<Cluster>, journal: Arc<Journal>, stop: Arc<AtomicBool>, seed: u64) -> Counts {
    let mut order = Order::default();
    let mut counts = Counts::default();
    let mut pick = seed as usize;
    while !stop.load(Ordering::Relaxed) {
        pick += 1;
        let i = pick % cluster.nodes.len();
        let node = &cluster.nodes[i];
        if node.state() != NodeState::Up {
            continue;
        }
        counts.add("subscriptions", 1);
        let changes = node.changes();
        if let Err(e) = listen(node, changes, &mut order, &stop) {
            if timed_out(&e) && node.changes() == changes && node.state() == NodeState::Up {
                journal.stall(node.port, "PING in subscribed mode", Duration::from_secs(10));
            } else if timed_out(&e) {
                journal.excused_stall();
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    counts.add("received", order.received);
    counts.add("out-of-order", order.out_of_order);
    counts
}

/// One subscription on node `i`: ping every 500 ms and read until the pong, counting the
/// messages on the way. Ends with an error when the connection fails or stops answering.
fn listen(node: &Node, changes: u64, order: &mut Order, stop: &AtomicBool) -> std::io::Result<()> {
    let mut c = RawClient::try_connect(node.addr())?;
    let mut sub = vec!["SUBSCRIBE".to_string()];
    sub.extend((0..CHANNELS).map(|n| format!("chaos:{n}")));
    c.try_send_raw(&encode_command(&sub))?;
    for _ in 0..CHANNELS {
        c.try_read_reply()?;
    }
    while !stop.load(Ordering::Relaxed) && node.changes() == changes {
        c.try_send_raw(&encode_command(&["PING"]))?;
        loop {
            let (f, _) = c.try_read_reply()?;
            if order.note(&f) {
                continue;
            }
            if matches!(&f, Frame::Array(p) if p.first().map(text).as_deref() == Some("pong")) {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    Ok(())
}
