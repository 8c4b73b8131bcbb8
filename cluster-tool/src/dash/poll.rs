//! [`Poller`]: asks the cluster for one [`Snapshot`] — every known node in parallel (INFO,
//! CLUSTER NODES, CLUSTER INFO; the view shown is one node's, chosen by `pick_view`), the
//! hot keys of nodes under an LFU policy, the proxy's metrics — and keeps what spans polls:
//! the nodes seen so far (a killed seed does not blind the dashboard), ops/s history, the
//! previous counters. Every network wait is bounded by `NODE_TIMEOUT`.

use super::hotkeys::HotKeys;
use super::model::{self, NodeStats, Snapshot};
use super::proxy_metrics::{self, Readings};
use crate::conn::{frame_text, Auth, Conn};
use crate::node::parse_nodes;
use slotbox_protocol::Frame;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Bound on each connect and reply wait (a paused node costs at most this per poll).
const NODE_TIMEOUT: Duration = Duration::from_millis(700);
/// Values kept in each node's ops/s chart.
const HISTORY: usize = 60;

/// What one node told us in one poll.
#[derive(Default)]
struct Answer {
    info: Option<NodeStats>,
    /// Commands the dashboard itself sent before INFO (AUTH) and from INFO on, so ops/s can
    /// leave them out.
    own_before: u64,
    own_after: u64,
    nodes_text: Option<String>,
    cluster_info: Option<String>,
    hot: Option<Vec<model::HotKey>>,
}

pub struct Poller {
    auth: Auth,
    /// The node whose view the previous poll used (kept while it stays among the best).
    last_view: Option<String>,
    proxy: Option<String>,
    /// Every node address seen, the seed first.
    known: Vec<String>,
    /// Per address: the previous total of commands and when it was read.
    /// Per address: the last `total_commands_processed`, when, and how many of the commands
    /// counted after it will be the dashboard's own.
    last_totals: HashMap<String, (u64, Instant, u64)>,
    history: HashMap<String, Vec<f64>>,
    hot: HashMap<String, HotKeys>,
    last_proxy: Option<(Readings, Instant)>,
}

impl Poller {
    pub fn new(seed: String, auth: Auth, proxy: Option<String>) -> Poller {
        Poller {
            last_view: None,
            known: vec![seed],
            auth,
            proxy,
            last_totals: HashMap::new(),
            history: HashMap::new(),
            hot: HashMap::new(),
            last_proxy: None,
        }
    }

    /// One poll of every node and the proxy.
    pub fn poll(&mut self, now_ms: i64) -> Snapshot {
        let asked = self.known.clone();
        let mut answers = self.ask_nodes(&asked);
        let mut snap = Snapshot { time_ms: now_ms, ..Default::default() };
        let view = pick_view(&answers, self.last_view.as_deref());
        self.last_view = view.map(|i| answers[i].0.clone());
        let lines = view.map(|i| parse_nodes(answers[i].1.nodes_text.as_deref().unwrap_or(""))).unwrap_or_default();
        match view {
            Some(i) => {
                let (addr, a) = &answers[i];
                snap.view_from = Some(addr.clone());
                (snap.nodes, snap.slots, snap.migrations) = model::read_nodes(&lines);
                let f = model::info_fields(a.cluster_info.as_deref().unwrap_or(""));
                snap.cluster_state = f.get("cluster_state").unwrap_or(&"unknown").to_string();
                snap.current_epoch = f.get("cluster_current_epoch").and_then(|v| v.parse().ok()).unwrap_or(0);
            }
            None => snap.error = Some(format!("no node answers (tried {})", self.known.join(", "))),
        }
        // Nodes the view names that we never asked: learn them and ask them now.
        let new: Vec<String> = snap
            .nodes
            .iter()
            .map(|n| n.addr.clone())
            .filter(|a| !self.known.contains(a) && crate::args::parse_host_port(a).is_some())
            .collect();
        if !new.is_empty() {
            self.known.extend(new.iter().cloned());
            answers.extend(self.ask_nodes(&new));
        }
        self.fill_nodes(&mut snap, answers.into_iter().collect());
        self.poll_proxy(&mut snap);
        snap
    }

    /// Ask every known node in parallel (each thread takes its node's hot-key sampler).
    fn ask_nodes(&mut self, addrs: &[String]) -> Vec<(String, Answer)> {
        let auth = &self.auth;
        let jobs: Vec<(String, HotKeys)> =
            addrs.iter().map(|a| (a.clone(), self.hot.remove(a).unwrap_or_default())).collect();
        let results: Vec<(String, Answer, HotKeys)> = std::thread::scope(|s| {
            let handles: Vec<_> = jobs
                .into_iter()
                .map(|(addr, mut hk)| {
                    s.spawn(move || {
                        let a = ask_node(&addr, auth, &mut hk);
                        (addr, a, hk)
                    })
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        let mut answers = Vec::new();
        for (addr, a, hk) in results {
            self.hot.insert(addr.clone(), hk);
            answers.push((addr, a));
        }
        answers
    }

    /// Attach INFO figures, ops/s and hot keys to the nodes of the view.
    fn fill_nodes(&mut self, snap: &mut Snapshot, mut by_addr: HashMap<String, Answer>) {
        let now = Instant::now();
        for n in &mut snap.nodes {
            let answer = by_addr.remove(&n.addr).unwrap_or_default();
            n.reachable = answer.info.is_some();
            let history = self.history.entry(n.addr.clone()).or_default();
            if let Some(mut st) = answer.info {
                if let Some((total, at, own)) = self.last_totals.get(&n.addr) {
                    let secs = now.duration_since(*at).as_secs_f64();
                    if secs > 0.0 && st.total_commands >= *total {
                        let theirs = (st.total_commands - total).saturating_sub(own + answer.own_before);
                        st.ops_per_sec = Some(theirs as f64 / secs);
                    }
                }
                self.last_totals.insert(n.addr.clone(), (st.total_commands, now, answer.own_after));
                history.push(st.ops_per_sec.unwrap_or(0.0));
                n.stats = Some(st);
            } else {
                self.last_totals.remove(&n.addr);
                history.push(0.0);
            }
            if history.len() > HISTORY {
                history.drain(..history.len() - HISTORY);
            }
            n.ops_history = history.clone();
            if let Some(keys) = answer.hot {
                snap.hot_keys.push((n.id.clone(), keys));
            }
        }
    }

    fn poll_proxy(&mut self, snap: &mut Snapshot) {
        let Some(addr) = self.proxy.clone() else { return };
        snap.proxy_addr = Some(addr.clone());
        match proxy_metrics::fetch(&addr, NODE_TIMEOUT) {
            Ok(text) => {
                let now = Instant::now();
                let readings = proxy_metrics::parse(&text);
                let prev = self.last_proxy.as_ref();
                let secs = prev.map_or(0.0, |(_, at)| now.duration_since(*at).as_secs_f64());
                snap.backends = proxy_metrics::backends(prev.map(|(r, _)| r), &readings, secs);
                self.last_proxy = Some((readings, now));
            }
            Err(e) => {
                snap.proxy_error = Some(e);
                self.last_proxy = None;
            }
        }
    }
}

/// Whose CLUSTER NODES to show: among the nodes that answered, those with the highest
/// current epoch (a node back from a partition or a pause still holds its stale view, with a
/// lower epoch), then the previous poll's choice if it is one of them (no flapping), then the
/// one that flags the fewest nodes failing, then the first in order (the seed first).
fn pick_view(answers: &[(String, Answer)], previous: Option<&str>) -> Option<usize> {
    let epoch = |a: &Answer| {
        model::info_fields(a.cluster_info.as_deref().unwrap_or(""))
            .get("cluster_current_epoch")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let failing = |a: &Answer| {
        parse_nodes(a.nodes_text.as_deref().unwrap_or(""))
            .iter()
            .filter(|l| l.has_flag("fail") || l.has_flag("fail?"))
            .count()
    };
    let candidates: Vec<usize> = (0..answers.len()).filter(|i| answers[*i].1.nodes_text.is_some()).collect();
    let best = candidates.iter().map(|i| epoch(&answers[*i].1)).max()?;
    let top: Vec<usize> = candidates.into_iter().filter(|i| epoch(&answers[*i].1) == best).collect();
    if let Some(i) = top.iter().find(|i| Some(answers[**i].0.as_str()) == previous) {
        return Some(*i);
    }
    top.into_iter().min_by_key(|i| (failing(&answers[*i].1), *i))
}

/// INFO, CLUSTER NODES, CLUSTER INFO and (under LFU) a hot-key sample from one node.
fn ask_node(addr: &str, auth: &Auth, hot: &mut HotKeys) -> Answer {
    let mut a = Answer::default();
    let Some((host, port)) = crate::args::parse_host_port(addr) else { return a };
    let Ok(mut c) = Conn::open(&host, port, auth, NODE_TIMEOUT) else { return a };
    a.own_before = u64::from(auth.pass.is_some());
    let text = |c: &mut Conn, args: &[&str]| c.call(args).ok().as_ref().and_then(frame_text);
    let Some(info) = text(&mut c, &["INFO"]) else { return a };
    let mut stats = model::read_info(&info);
    a.own_after = 3;
    if stats.maxmemory_policy.is_empty() {
        a.own_after += 1;
        // Real Redis keeps the policy out of INFO before 7.0; CONFIG GET has it everywhere.
        if let Ok(Frame::Array(kv)) = c.call(&["CONFIG", "GET", "maxmemory-policy"]) {
            stats.maxmemory_policy = kv.get(1).and_then(frame_text).unwrap_or_default();
        }
    }
    a.nodes_text = text(&mut c, &["CLUSTER", "NODES"]).filter(|t| !t.starts_with("ERR"));
    a.cluster_info = text(&mut c, &["CLUSTER", "INFO"]);
    if stats.maxmemory_policy.contains("lfu") {
        let (keys, sent) = hot.sample(&mut c);
        a.hot = Some(keys);
        a.own_after += sent;
    } else {
        hot.clear();
    }
    a.info = Some(stats);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(epoch: u64, nodes: &str) -> Answer {
        Answer {
            nodes_text: Some(nodes.into()),
            cluster_info: Some(format!("cluster_state:ok\r\ncluster_current_epoch:{epoch}\r\n")),
            ..Default::default()
        }
    }

    #[test]
    fn the_view_is_the_newest_and_stays_put() {
        let ok = "a 127.0.0.1:1@2 myself,master - 0 0 1 connected 0-16383\n";
        let failing =
            "a 127.0.0.1:1@2 myself,master - 0 0 1 connected 0-16383\nb 127.0.0.1:3@4 master,fail? - 0 0 2 connected\n";
        let answers = vec![
            ("seed:1".to_string(), answer(8, ok)),
            ("b:1".to_string(), answer(9, failing)),
            ("c:1".to_string(), answer(9, ok)),
            ("d:1".to_string(), Answer::default()),
        ];
        // The seed's epoch is stale: the healthiest of the newest wins.
        assert_eq!(pick_view(&answers, None), Some(2));
        // A previous choice among the newest is kept.
        assert_eq!(pick_view(&answers, Some("b:1")), Some(1));
        assert_eq!(pick_view(&answers, Some("seed:1")), Some(2));
        assert_eq!(pick_view(&answers[3..], None), None);
    }
}
