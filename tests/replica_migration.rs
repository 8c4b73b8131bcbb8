//! Replica migration end to end, on a 7-node embedded cluster: masters A, B, C (nodes 0-2)
//! with one replica each (nodes 3-5) plus a second replica of A started here and attached
//! with CLUSTER MEET + CLUSTER REPLICATE. Killing C's only replica leaves C orphaned: one of
//! A's replicas (the one with the smaller node id) becomes C's replica and syncs C's data,
//! and every node learns it; with `cluster-allow-replica-migration no` nobody moves.
//! Every wait is bounded.

mod common;

use common::{text, wait_for, RawClient, TempDir};
use slotbox::protocol::Frame;
use slotbox::{Cluster, Config, Server};
use std::net::SocketAddr;
use std::time::Duration;

const NODE_TIMEOUT_MS: u64 = 1500;

/// One CLUSTER NODES line: id, flags, master id ("-" for masters).
#[derive(Debug, Clone)]
struct NodeLine {
    id: String,
    flags: String,
    master: String,
}

impl NodeLine {
    fn failed(&self) -> bool {
        self.flags.split(',').any(|f| f == "fail" || f == "fail?")
    }
}

fn parse_lines(s: &str) -> Vec<NodeLine> {
    s.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 8).then(|| NodeLine { id: f[0].into(), flags: f[2].into(), master: f[3].into() })
        })
        .collect()
}

fn cluster_nodes(addr: SocketAddr) -> Vec<NodeLine> {
    parse_lines(&text(&RawClient::connect(addr).call(&["CLUSTER", "NODES"])))
}

/// CLUSTER REPLICAS <id> as asked from `addr`.
fn replicas_of(addr: SocketAddr, id: &str) -> Vec<NodeLine> {
    match RawClient::connect(addr).call(&["CLUSTER", "REPLICAS", id]) {
        Frame::Array(items) => items.iter().flat_map(|f| parse_lines(&text(f))).collect(),
        other => panic!("CLUSTER REPLICAS {id}: {other:?}"),
    }
}

fn myid(addr: SocketAddr) -> String {
    text(&RawClient::connect(addr).call(&["CLUSTER", "MYID"]))
}

/// The 3 × 1 embedded cluster plus a second replica of node 0 (A).
struct Setup {
    cluster: Cluster,
    _extra: Server,
    _dir: TempDir,
    /// Client addresses: nodes 0-5 of the cluster, then the extra replica (6).
    addrs: Vec<SocketAddr>,
    ids: Vec<String>,
    /// The stopped node, if any.
    dead: Option<usize>,
}

impl Setup {
    fn start(allow_migration: bool) -> Setup {
        let cluster = Cluster::builder().masters(3).replicas(1).node_timeout_ms(NODE_TIMEOUT_MS).start().unwrap();
        let dir = TempDir::new("replica-migration");
        let mut config = Config::ephemeral();
        config.cluster_enabled = true;
        config.cluster_node_timeout = NODE_TIMEOUT_MS;
        config.io_threads = 1;
        config.dir = dir.path().to_path_buf();
        let extra = Server::with_config(config).unwrap();
        let cport = extra.handle().shared().cluster.get().expect("cluster mode").lock().me().cport;
        let mut addrs = cluster.addrs();
        addrs.push(extra.addr());
        let ids: Vec<String> = addrs.iter().map(|a| myid(*a)).collect();
        let (port, cport) = (extra.addr().port().to_string(), cport.to_string());
        let mut c0 = RawClient::connect(addrs[0]);
        assert_eq!(c0.call(&["CLUSTER", "MEET", "127.0.0.1", &port, &cport]), Frame::ok());
        assert!(
            wait_for(Duration::from_secs(20), || cluster_nodes(addrs[6]).len() == 7),
            "the extra node never learned the cluster"
        );
        let mut e = RawClient::connect(addrs[6]);
        assert_eq!(e.call(&["CLUSTER", "REPLICATE", &ids[0]]), Frame::ok());
        let s = Setup { cluster, _extra: extra, _dir: dir, addrs, ids, dead: None };
        assert!(
            wait_for(Duration::from_secs(20), || s.everyone_agrees(6, 0)),
            "not every node sees the extra replica under A"
        );
        let mut a = RawClient::connect(s.addrs[0]);
        assert!(
            wait_for(Duration::from_secs(20), || text(&a.call(&["INFO", "replication"]))
                .contains("connected_slaves:2")),
            "A does not have two replicas"
        );
        if !allow_migration {
            for addr in &s.addrs {
                let r = RawClient::connect(*addr).call(&["CONFIG", "SET", "cluster-allow-replica-migration", "no"]);
                assert_eq!(r, Frame::ok());
            }
        }
        s
    }

    /// Indexes of the running nodes.
    fn running(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.addrs.len()).filter(move |&i| Some(i) != self.dead)
    }

    /// Every running node's CLUSTER NODES shows node `r` as a replica of node `m`.
    fn everyone_agrees(&self, r: usize, m: usize) -> bool {
        self.running()
            .all(|i| cluster_nodes(self.addrs[i]).iter().any(|n| n.id == self.ids[r] && n.master == self.ids[m]))
    }

    /// The index of C's only replica (a replica of node 2).
    fn replica_of_c(&self) -> usize {
        let lines = cluster_nodes(self.addrs[2]);
        let id = lines.iter().find(|n| n.master == self.ids[2]).expect("C has a replica").id.clone();
        self.ids.iter().position(|i| *i == id).unwrap()
    }

    /// Kill node `i` (a replica of the 3×1 cluster) and wait until C marks it FAIL.
    fn kill(&mut self, i: usize) {
        assert!(i < 6, "only cluster nodes are stopped here");
        self.cluster.stop_node(i);
        self.dead = Some(i);
        assert!(
            wait_for(Duration::from_secs(20), || {
                cluster_nodes(self.addrs[2])
                    .iter()
                    .any(|n| n.id == self.ids[i] && n.flags.split(',').any(|f| f == "fail"))
            }),
            "the killed replica was never marked FAIL"
        );
    }
}

#[test]
fn orphaned_master_gets_a_replica_from_the_master_with_two() {
    let mut s = Setup::start(true);
    let mut c = RawClient::connect(s.addrs[2]);
    // A key in one of C's slots (10923-16383): "{c}" hashes to 7365, "{a}" to 15495.
    assert_eq!(c.call(&["SET", "{a}orphan", "kept"]), Frame::ok());
    let dead = s.replica_of_c();
    // The node that joined last learns the other nodes' roles through gossip: wait for it.
    let mut a_replicas: Vec<usize> = Vec::new();
    assert!(
        wait_for(Duration::from_secs(20), || {
            a_replicas = [3, 4, 5, 6].into_iter().filter(|&i| s.everyone_agrees(i, 0)).collect();
            a_replicas.len() == 2
        }),
        "A should have two replicas, seen by every node: {a_replicas:?}"
    );
    let expected = *a_replicas.iter().min_by_key(|&&i| &s.ids[i]).unwrap();
    s.kill(dead);
    let mut moved = None;
    assert!(
        wait_for(Duration::from_secs(30), || {
            moved = replicas_of(s.addrs[2], &s.ids[2])
                .iter()
                .filter(|n| !n.failed())
                .find_map(|n| a_replicas.iter().copied().find(|&i| s.ids[i] == n.id));
            moved.is_some()
        }),
        "no replica of A migrated to the orphaned master C"
    );
    let moved = moved.unwrap();
    assert_eq!(moved, expected, "the replica with the smaller node id migrates");
    let stayed = *a_replicas.iter().find(|&&i| i != moved).unwrap();
    // The whole cluster learns it through gossip; A keeps its other replica.
    assert!(wait_for(Duration::from_secs(15), || s.everyone_agrees(moved, 2) && s.everyone_agrees(stayed, 0)));
    let a_view = replicas_of(s.addrs[0], &s.ids[0]);
    assert_eq!(a_view.iter().map(|n| n.id.clone()).collect::<Vec<_>>(), vec![s.ids[stayed].clone()]);
    // The migrated replica replicates C now and serves its data.
    let mut m = RawClient::connect(s.addrs[moved]);
    let c_port = format!("master_port:{}", s.addrs[2].port());
    assert!(
        wait_for(Duration::from_secs(15), || {
            let info = text(&m.call(&["INFO", "replication"]));
            info.contains(&c_port) && info.contains("master_link_status:up")
        }),
        "the migrated replica does not replicate C"
    );
    assert_eq!(m.call(&["READONLY"]), Frame::ok());
    assert!(wait_for(Duration::from_secs(10), || m.call(&["GET", "{a}orphan"]) == common::bulk("kept")));
}

#[test]
fn no_migration_when_disabled() {
    let mut s = Setup::start(false);
    let dead = s.replica_of_c();
    s.kill(dead);
    // Something must NOT happen: no state to wait for, so this sleep is the window in which a
    // migration would have happened (the 5 s migration delay after the failure is known, plus
    // gossip time). On a slow machine the window only checks less, it never fails wrongly.
    std::thread::sleep(Duration::from_secs(8));
    let c_replicas = replicas_of(s.addrs[2], &s.ids[2]);
    assert!(
        c_replicas.iter().all(|n| n.id == s.ids[dead]),
        "a replica migrated although migration is disabled: {c_replicas:?}"
    );
    let a_replicas = replicas_of(s.addrs[0], &s.ids[0]);
    assert_eq!(a_replicas.iter().filter(|n| !n.failed()).count(), 2, "{a_replicas:?}");
}
