//! `slotbox-cluster ring-sim` as a user runs it: the table on stdout, exit status 0; bad
//! flags on stderr with status 1; listed in `help`.

use std::process::Command;

fn ring_sim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_slotbox-cluster")).arg("ring-sim").args(args).output().unwrap()
}

/// The percentage in the `moved` column of `scheme`'s row.
fn moved_pct(out: &str, scheme: &str) -> f64 {
    let line = out.lines().find(|l| l.starts_with(scheme)).unwrap_or_else(|| panic!("no {scheme} row:\n{out}"));
    let pct = line.split_whitespace().find(|w| w.ends_with('%')).unwrap();
    pct.trim_end_matches('%').parse().unwrap()
}

#[test]
fn three_to_four_nodes() {
    let out = ring_sim(&["--nodes", "3", "--add", "1", "--keys", "20000", "--hash", "fnv1a_64", "--vnodes", "160"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("ring-sim: 3 -> 4 nodes (add 1), 20000 keys"), "{text}");
    assert_eq!(moved_pct(&text, "minimum possible"), 25.0);
    assert!((73.0..77.0).contains(&moved_pct(&text, "modula")), "{text}");
    for scheme in ["jump", "rendezvous", "cluster slots"] {
        assert!((23.0..27.0).contains(&moved_pct(&text, scheme)), "{scheme}:\n{text}");
    }
    assert!((15.0..35.0).contains(&moved_pct(&text, "ketama (160 points)")), "{text}");
}

#[test]
fn remove_and_bad_flags() {
    let out = ring_sim(&["--nodes", "5", "--remove", "1", "--keys", "5000"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("ring-sim: 5 -> 4 nodes (remove 1, the last)"), "{text}");
    assert_eq!(moved_pct(&text, "minimum possible"), 20.0);

    let bad = ring_sim(&["--nodes", "4", "--add", "1", "--hash", "sha1"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown hash 'sha1'"), "{bad:?}");
    assert!(bad.stdout.is_empty());

    let help = Command::new(env!("CARGO_BIN_EXE_slotbox-cluster")).arg("help").output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("ring-sim --nodes <n> (--add <n> | --remove <n>)"));
}
