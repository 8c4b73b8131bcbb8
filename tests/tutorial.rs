//! docs/tutorial.md, executed: every fenced block whose info string is `sh run` runs, in
//! order, in bash (`set -euo pipefail`), against a fresh sandbox started as `make
//! run-cluster` does (tests/sandbox). A block that exits non-zero, or runs longer than
//! `BLOCK_LIMIT`, fails the test with its text and output, so the tutorial cannot drift from
//! the code. The runner is generic: new sections only add blocks.
//!
//! The tutorial is written for the default sandbox (ports 7000-7005, 22121, ..., run/ in the
//! repository root). The test runs the blocks in a temp directory holding the sandbox's `run/`
//! and links to the repository's `target/`, `conf/` and `docs/`, and replaces each well-known
//! port number in a block (a whole number, not part of a longer one) by a free port: the
//! sandbox's, or for the extra ports the tutorial's own processes use (`EXTRA_PORTS`), one
//! picked for this run. Processes a block starts must write a pid file under `run/`
//! (`*.pid`): the sandbox's drop kills whatever such files name, also when a block fails.

mod common;
mod sandbox;

use sandbox::{root, Sandbox};
use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

/// The longest one block may run.
const BLOCK_LIMIT: Duration = Duration::from_secs(120);
/// Ports the tutorial's own processes use (standalone nodes, a ketama proxy, its stats and
/// metrics, nutcracker and its stats), besides the sandbox's.
const EXTRA_PORTS: [u16; 14] =
    [7100, 7101, 7102, 22122, 22224, 9122, 22125, 22226, 7110, 7111, 7112, 22127, 22227, 9127];

/// The `sh run` blocks of a markdown text, in order: (line of the fence, body).
fn blocks(md: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in md.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match (&mut current, fence) {
            (None, true)
                if line.trim_start().trim_start_matches('`').split_whitespace().collect::<Vec<_>>()
                    == ["sh", "run"] =>
            {
                current = Some((i + 1, String::new()));
            }
            (Some(_), true) => out.push(current.take().expect("open block")),
            (Some((_, body)), false) => {
                body.push_str(line);
                body.push('\n');
            }
            _ => {}
        }
    }
    assert!(current.is_none(), "an `sh run` block is never closed");
    out
}

/// Replace every whole number that is a key of `map` by its value.
fn map_ports(text: &str, map: &HashMap<u16, u16>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        match digits.parse::<u16>().ok().and_then(|p| map.get(&p)) {
            Some(p) if !digits.starts_with('0') => out.push_str(&p.to_string()),
            _ => out.push_str(digits),
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

#[test]
fn port_mapping_touches_whole_numbers_only() {
    let map: HashMap<u16, u16> = [(7000, 41000), (22121, 40001)].into();
    assert_eq!(
        map_ports("redis-cli -p 7000 -n 170000 127.0.0.1:7000 run/7000/pid 22121 07000", &map),
        "redis-cli -p 41000 -n 170000 127.0.0.1:41000 run/41000/pid 40001 07000"
    );
    let md = "text\n```sh\nnot run\n```\n```sh run\necho a\necho b\n```\n```sh run\necho c\n```\n";
    assert_eq!(blocks(md), vec![(5, "echo a\necho b\n".to_string()), (9, "echo c\n".to_string())]);
}

#[test]
fn tutorial_runs_against_a_fresh_sandbox() {
    let md = std::fs::read_to_string(root().join("docs/tutorial.md")).expect("docs/tutorial.md");
    let blocks = blocks(&md);
    assert!(!blocks.is_empty(), "no `sh run` block in docs/tutorial.md");
    let sb = Sandbox::start(1500);
    let mut map = sb.port_map();
    let mut taken: Vec<u16> = map.values().copied().collect();
    for p in EXTRA_PORTS {
        let free = loop {
            let f = common::free_port();
            if !taken.contains(&f) && !taken.iter().any(|t| t + 10000 == f) {
                break f;
            }
        };
        taken.push(free);
        map.insert(p, free);
    }
    let work = sb.dir.path().to_path_buf();
    let target = sandbox::release_binary("slotbox-server").ancestors().nth(2).expect("target dir").to_path_buf();
    for (name, to) in [("target", target), ("conf", root().join("conf")), ("docs", root().join("docs"))] {
        std::os::unix::fs::symlink(to, work.join(name)).expect("link into the work dir");
    }
    let started = Instant::now();
    for (line, body) in &blocks {
        let script = format!("set -euo pipefail\n{}", map_ports(body, &map));
        let mut cmd = Command::new("bash");
        cmd.arg("-c").arg(&script).current_dir(&work).env_remove("SLOTBOX_RUN_DIR");
        let t = Instant::now();
        let out = common::run_bounded(&mut cmd, BLOCK_LIMIT);
        let Some((status, stdout, stderr)) = out else {
            panic!("docs/tutorial.md:{line}: the block ran longer than {BLOCK_LIMIT:?}:\n{script}");
        };
        eprintln!("--- docs/tutorial.md:{line} ({:.1} s)\n{stdout}{stderr}", t.elapsed().as_secs_f64());
        assert!(
            status.success(),
            "docs/tutorial.md:{line}: the block failed ({status}):\n{script}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}"
        );
    }
    eprintln!("{} tutorial blocks in {:.1} s", blocks.len(), started.elapsed().as_secs_f64());
}
