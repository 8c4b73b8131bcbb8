//! `slotbox-cluster ring-sim`: how many keys move, and how evenly they spread, when servers
//! join or leave under each way of partitioning keys: nutcracker's ketama (with `--vnodes`
//! points per server), modula and random, jump hash, rendezvous hashing (all from
//! `slotbox-partition`, the code the proxy routes with), and Redis Cluster slots (CRC16,
//! moved by redis-cli's rebalance plan). Servers are named like a sandbox's
//! (`127.0.0.1:7000` ...); new ones are appended, and `--remove` takes the last ones (jump
//! hash can only lose its last buckets). Computation and printing only: no sockets.

mod args;
mod slots;

pub use args::USAGE;
use args::{Change, SimArgs};
use slotbox_partition::router::{Distribution, Ketama, RingServer, Router};
use slotbox_protocol::key_hash_slot;

/// First port of the simulated servers' names.
const BASE_PORT: usize = 7000;

/// One scheme's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub scheme: String,
    /// Keys whose server differs after the change.
    pub moved: usize,
    /// Most keys on one server over the mean, before and after.
    pub spread_before: f64,
    pub spread_after: f64,
}

/// Run `ring-sim` with the arguments after its name; returns the exit status.
pub fn main(argv: &[String]) -> i32 {
    match args::parse(argv) {
        Ok(a) => {
            print!("{}", render(&a, &simulate(&a)));
            0
        }
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}

fn servers(n: usize) -> Vec<RingServer> {
    (0..n).map(|i| RingServer::new(&format!("127.0.0.1:{}", BASE_PORT + i))).collect()
}

fn key(i: usize) -> String {
    format!("key:{i}")
}

/// max/mean keys per server.
fn spread(placement: &[usize], servers: usize) -> f64 {
    let mut load = vec![0usize; servers];
    placement.iter().for_each(|&s| load[s] += 1);
    let max = load.iter().copied().max().unwrap_or(0) as f64;
    max / (placement.len() as f64 / servers as f64)
}

fn row(scheme: String, a: &SimArgs, before: Vec<usize>, after: Vec<usize>) -> Row {
    let moved = before.iter().zip(&after).filter(|(b, a)| b != a).count();
    Row { scheme, moved, spread_before: spread(&before, a.nodes), spread_after: spread(&after, a.nodes_after()) }
}

fn place(router: &dyn Router, keys: usize) -> Vec<usize> {
    // Every simulated server is live, so every router has an answer.
    (0..keys).map(|i| router.route(key(i).as_bytes()).unwrap_or(0)).collect()
}

/// Every scheme's outcome for `a`, in a fixed order.
pub fn simulate(a: &SimArgs) -> Vec<Row> {
    let (before, after) = (servers(a.nodes), servers(a.nodes_after()));
    let mut rows = Vec::new();
    let ketama = |s: &[RingServer]| Ketama::with_points(a.hash, s, a.vnodes);
    rows.push(row(
        format!("ketama ({} points)", a.vnodes),
        a,
        place(&ketama(&before), a.keys),
        place(&ketama(&after), a.keys),
    ));
    for d in [Distribution::Modula, Distribution::Random, Distribution::Jump, Distribution::Rendezvous] {
        let (b, c) = (d.build(a.hash, &before), d.build(a.hash, &after));
        rows.push(row(d.name().to_string(), a, place(b.as_ref(), a.keys), place(c.as_ref(), a.keys)));
    }
    rows.push(cluster_row(a));
    rows
}

/// Redis Cluster: CRC16 slots (the `--hash` does not apply), moved by rebalance.
fn cluster_row(a: &SimArgs) -> Row {
    let owner = slots::created(a.nodes);
    let weights: Vec<f32> = match a.change {
        Change::Add(n) => vec![1.0; a.nodes + n],
        Change::Remove(n) => (0..a.nodes).map(|i| if i < a.nodes - n { 1.0 } else { 0.0 }).collect(),
    };
    let moved_to = slots::rebalanced(&owner, &weights, crate::args::DEFAULT_THRESHOLD);
    let slot_of: Vec<u16> = (0..a.keys).map(|i| key_hash_slot(key(i).as_bytes())).collect();
    let before = slot_of.iter().map(|&s| owner[s as usize]).collect();
    let after = slot_of.iter().map(|&s| moved_to[s as usize]).collect();
    row("cluster slots (crc16)".into(), a, before, after)
}

/// The fewest keys any scheme must move: the new servers' share, or the leaving ones' keys.
fn minimum_moved(a: &SimArgs) -> f64 {
    match a.change {
        Change::Add(n) => n as f64 / a.nodes_after() as f64,
        Change::Remove(n) => n as f64 / a.nodes as f64,
    }
}

/// The table `ring-sim` prints.
pub fn render(a: &SimArgs, rows: &[Row]) -> String {
    let change = match a.change {
        Change::Add(n) => format!("add {n}"),
        Change::Remove(n) => format!("remove {n}, the last"),
    };
    let hash = a.hash.name();
    let mut out = format!(
        "ring-sim: {} -> {} nodes ({change}), {} keys key:0..key:{}, hash {hash}\n",
        a.nodes,
        a.nodes_after(),
        a.keys,
        a.keys - 1
    );
    out.push_str(&format!(
        "{:<24}{:>12}{:>9}{:>18}{:>17}\n",
        "scheme", "keys moved", "moved", "max/mean before", "max/mean after"
    ));
    for r in rows {
        out.push_str(&format!(
            "{:<24}{:>12}{:>8.2}%{:>18.3}{:>17.3}\n",
            r.scheme,
            r.moved,
            100.0 * r.moved as f64 / a.keys as f64,
            r.spread_before,
            r.spread_after
        ));
    }
    out.push_str(&format!("{:<24}{:>12}{:>8.2}%\n", "minimum possible", "", 100.0 * minimum_moved(a)));
    out.push_str(
        "random draws a server per request, so its 'moved' is the chance that two requests for a key \
         meet different servers.\n",
    );
    out
}

#[cfg(test)]
mod tests;
