use super::args::{Change, SimArgs};
use super::*;
use slotbox_partition::hash::HashKind;

fn sim(nodes: usize, change: Change, keys: usize) -> Vec<Row> {
    simulate(&SimArgs { nodes, change, keys, hash: HashKind::Fnv1a64, vnodes: 160 })
}

fn moved(rows: &[Row], scheme: &str, keys: usize) -> f64 {
    let r = rows.iter().find(|r| r.scheme.starts_with(scheme)).unwrap();
    r.moved as f64 / keys as f64
}

/// The seed's point, measured: modulo moves most keys, consistent schemes about the new
/// server's share.
#[test]
fn adding_a_server() {
    let rows = sim(4, Change::Add(1), 20_000);
    let names: Vec<&str> = rows.iter().map(|r| r.scheme.as_str()).collect();
    assert_eq!(names, ["ketama (160 points)", "modula", "random", "jump", "rendezvous", "cluster slots (crc16)"]);
    // h % 4 == h % 5 for 4 of every 20 hashes.
    assert!((0.78..0.82).contains(&moved(&rows, "modula", 20_000)));
    assert!((0.76..0.84).contains(&moved(&rows, "random", 20_000)));
    for scheme in ["jump", "rendezvous", "cluster"] {
        let m = moved(&rows, scheme, 20_000);
        assert!((0.18..0.22).contains(&m), "{scheme} moved {m}");
    }
    // Ketama's share for the new server varies with where its 160 points fall.
    let m = moved(&rows, "ketama", 20_000);
    assert!((0.12..0.28).contains(&m), "ketama moved {m}");
    for r in &rows {
        assert!(r.spread_before >= 1.0 && r.spread_before < 1.5, "{r:?}");
        assert!(r.spread_after >= 1.0 && r.spread_after < 1.5, "{r:?}");
    }
}

#[test]
fn removing_a_server() {
    let rows = sim(4, Change::Remove(1), 20_000);
    // h % 4 == h % 3 for 3 of every 12 hashes.
    assert!((0.73..0.77).contains(&moved(&rows, "modula", 20_000)));
    for scheme in ["jump", "rendezvous", "cluster", "ketama"] {
        let m = moved(&rows, scheme, 20_000);
        assert!((0.15..0.35).contains(&m), "{scheme} moved {m}");
    }
    // Exactly the leaving server's keys move in the consistent schemes.
    let before = servers(4);
    let jump = Distribution::Jump.build(HashKind::Fnv1a64, &before);
    let on_last = (0..20_000).filter(|&i| jump.route(key(i).as_bytes()) == Some(3)).count();
    assert_eq!(rows.iter().find(|r| r.scheme == "jump").unwrap().moved, on_last);
}

/// More ketama points even out the load.
#[test]
fn more_points_spread_load_more_evenly() {
    let spread_with = |vnodes| {
        let a = SimArgs { nodes: 8, change: Change::Add(1), keys: 50_000, hash: HashKind::Md5, vnodes };
        simulate(&a)[0].spread_after
    };
    assert!(spread_with(4) > spread_with(1000), "{} vs {}", spread_with(4), spread_with(1000));
}

#[test]
fn render_prints_every_scheme_and_the_minimum() {
    let a = SimArgs { nodes: 3, change: Change::Add(1), keys: 1000, hash: HashKind::Murmur, vnodes: 160 };
    let text = render(&a, &simulate(&a));
    assert!(text.starts_with("ring-sim: 3 -> 4 nodes (add 1), 1000 keys key:0..key:999, hash murmur\n"), "{text}");
    for line in ["ketama (160 points)", "modula", "jump", "rendezvous", "cluster slots (crc16)"] {
        assert!(text.lines().any(|l| l.starts_with(line)), "{line} missing:\n{text}");
    }
    assert!(text.lines().any(|l| l.starts_with("minimum possible") && l.ends_with("25.00%")), "{text}");
}
