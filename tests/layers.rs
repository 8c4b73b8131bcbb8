//! The layering rule, checked: no import cycle between the files of `server/src` or of
//! `proxy/src/net` (DESIGN.md: "a module may use only what stands below it"), and each imports
//! only from the layers below it in the order its top module documents (`server/src/lib.rs`,
//! `proxy/src/net/mod.rs`). The graph is read from the source text by `layers/graph.rs`.

#[path = "layers/graph.rs"]
mod graph;

use std::path::Path;

fn report(crate_src: &str, sub: &[&str]) -> Vec<Vec<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(crate_src);
    let g = graph::build(&root, sub);
    let cycles = graph::cycles(&g);
    eprintln!("{crate_src} {sub:?}: {} files, {} edges, {} cycles", g.files.len(), g.edges.len(), cycles.len());
    for c in &cycles {
        eprintln!("  cycle of {}: {}", c.len(), c.join(" "));
    }
    cycles
}

/// The server's layers, bottom to top (the order `server/src/lib.rs` documents): a file may
/// import files of its own top-level module (acyclic, checked above) and of lower layers only.
const SERVER_LAYERS: &[&[&str]] = &[
    &["clock", "alloc", "stats", "gate", "latency", "glob", "listen", "pause", "partition"],
    &["log", "rand"],
    &["config"],
    &["store"],
    &["stream", "mailbox"],
    &["core"],
    &["client"],
    &["blocking", "pubsub", "cmdstats", "evict", "tracking", "script"],
    &["monitor", "notify", "cmdlatency", "lazyfree"],
    &["persist"],
    &["repl"],
    &["cluster"],
    &["shared"],
    &["commands", "shutdown"],
    &["net"],
    &["sentinel"],
    &["lib"],
];

#[test]
fn server_modules_import_only_lower_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("server/src");
    let g = graph::build(&root, &[]);
    let top = |f: &str| f.split('/').next().unwrap_or_default().trim_end_matches(".rs").to_string();
    let layer = |m: &str| SERVER_LAYERS.iter().position(|l| l.contains(&m));
    let mut bad = Vec::new();
    for &(a, b) in &g.edges {
        let (ta, tb) = (top(&g.files[a]), top(&g.files[b]));
        let (la, lb) = (layer(&ta), layer(&tb));
        assert!(la.is_some() && lb.is_some(), "a top-level module missing from SERVER_LAYERS: {ta} or {tb}");
        if ta != tb && lb >= la {
            bad.push(format!("{} -> {}", g.files[a], g.files[b]));
        }
    }
    assert!(bad.is_empty(), "imports from a layer not below: {bad:#?}");
}

#[test]
fn server_files_import_no_cycle() {
    let cycles = report("server/src", &[]);
    assert!(cycles.is_empty(), "import cycles in server/src: {cycles:?}");
}

#[test]
fn proxy_net_files_import_no_cycle() {
    let cycles = report("proxy/src", &["net"]);
    assert!(cycles.is_empty(), "import cycles in proxy/src/net: {cycles:?}");
}

/// The layers of `proxy/src/net`, bottom to top, by file (the order `proxy/src/net/mod.rs`
/// documents): a file may import files of lower layers only, not of its own.
const PROXY_NET_LAYERS: &[&[&str]] = &[
    &["stream"],
    &["backend", "replica_link"],
    &["pool"],
    &["client_state"],
    &["client", "request"],
    &["worker"],
    &["connect"],
    &["forward", "role_check"],
    &["redirect"],
    &["blocking", "tx", "mirror", "near_cache"],
    &["pubsub", "script"],
    &["dispatch", "reload"],
    &["event_loop", "acceptor"],
    &["mod"],
];

#[test]
fn proxy_net_files_import_only_lower_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("proxy/src");
    let g = graph::build(&root, &["net"]);
    let stem = |f: &str| f.trim_start_matches("net/").trim_end_matches(".rs").to_string();
    let layer = |f: &str| PROXY_NET_LAYERS.iter().position(|l| l.contains(&stem(f).as_str()));
    for f in &g.files {
        assert!(layer(f).is_some(), "a file of proxy/src/net missing from PROXY_NET_LAYERS: {f}");
    }
    let bad: Vec<String> = g
        .edges
        .iter()
        .filter(|&&(a, b)| layer(&g.files[b]) >= layer(&g.files[a]))
        .map(|&(a, b)| format!("{} -> {}", g.files[a], g.files[b]))
        .collect();
    assert!(bad.is_empty(), "imports from a layer not below: {bad:#?}");
}

#[test]
fn the_graph_reader_sees_edges_and_cycles() {
    // Reading this very test directory: graph.rs imports nothing of the crate.
    let dir = std::env::temp_dir().join(format!("slotbox-layers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::write(dir.join("lib.rs"), "mod a; pub mod b; pub use b::Thing;").unwrap();
    std::fs::write(dir.join("a/mod.rs"), "mod c;\nuse crate::Thing; // crate::c::x\nfn f() { c::g(); }").unwrap();
    std::fs::write(dir.join("a/c.rs"), "pub fn g() { let _ = \"super::nothing\"; }").unwrap();
    std::fs::write(
        dir.join("b.rs"),
        "pub struct Thing;\nfn h() { crate::a::f(); }\n#[cfg(test)] mod t { use crate::a::c; }",
    )
    .unwrap();
    let g = graph::build(&dir, &[]);
    let name = |i: usize| g.files[i].as_str();
    let mut edges: Vec<(&str, &str)> = g.edges.iter().map(|&(a, b)| (name(a), name(b))).collect();
    edges.sort();
    assert_eq!(edges, vec![("a/mod.rs", "a/c.rs"), ("a/mod.rs", "b.rs"), ("b.rs", "a/mod.rs"), ("lib.rs", "b.rs")]);
    assert_eq!(graph::cycles(&g), vec![vec!["a/mod.rs".to_string(), "b.rs".to_string()]]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore]
fn print_server_edges() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("server/src");
    let g = graph::build(&root, &[]);
    for &(a, b) in &g.edges {
        println!("EDGE {} {}", g.files[a], g.files[b]);
    }
}

#[test]
#[ignore]
fn print_proxy_net_edges() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("proxy/src");
    let g = graph::build(&root, &["net"]);
    for &(a, b) in &g.edges {
        println!("EDGE {} {}", g.files[a], g.files[b]);
    }
}
