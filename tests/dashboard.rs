//! `slotbox-cluster dashboard` in a real browser: a sandbox started as `make run-cluster`
//! does (tests/sandbox, free ports), the page loaded by headless Chromium (`--dump-dom`
//! after its scripts ran, `--screenshot`), checked for what a user looks at: the slot map's
//! owner of every one of the 16384 slots equals the cluster's own CLUSTER NODES answer, the
//! nodes table lists every node with its role, the proxy table lists the proxy's backends,
//! a key read 300 times under an LFU policy is in the hot-keys table, and a slot set
//! MIGRATING / IMPORTING is marked on the map. Then a master is killed with
//! `slotbox-cluster chaos kill`, and the page must show the failover: the replica is a
//! master owning the old master's slots, the dead node is flagged fail, the timeline has the
//! failover event. The screenshot of that last page is kept in
//! target/artifacts/dashboard.png.
//!
//! Needs the `chromium` package; without it the test says so loudly and passes, unless `CI`
//! or `SLOTBOX_REQUIRE_CHROMIUM` is set (.ci/run installs chromium and sets the latter), where
//! a missing browser fails.

mod common;
mod sandbox;

use sandbox::{root, Sandbox};
use slotbox::protocol::Frame;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The browser binary, or None (after saying so) where the test may skip.
fn chromium() -> Option<&'static str> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if common::on_path(name) {
            return Some(name);
        }
    }
    let required = std::env::var_os("CI").is_some() || std::env::var_os("SLOTBOX_REQUIRE_CHROMIUM").is_some();
    assert!(!required, "CI / SLOTBOX_REQUIRE_CHROMIUM is set but chromium is not installed (apt-get install chromium)");
    eprintln!("\n*** SKIPPED dashboard browser test: no chromium on PATH (apt-get install chromium) ***\n");
    None
}

/// Run headless Chromium on `url` with `args` (bounded); its stdout.
fn browse(browser: &str, profile: &Path, args: &[&str], url: &str) -> String {
    let mut cmd = Command::new(browser);
    cmd.args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--window-size=1400,1800", "--virtual-time-budget=3000"])
        .args(args)
        .arg(url);
    let out = common::run_bounded(&mut cmd, Duration::from_secs(90)).expect("chromium did not finish in 90 s");
    assert!(out.0.success(), "chromium failed: {}", out.2);
    // The rendered document, without the page's own script (its templates look like markup).
    let dom = out.1;
    dom[..dom.find("<script").unwrap_or(dom.len())].to_string()
}

/// `name="value"` attributes of every tag starting with `prefix` in the dumped DOM.
fn tags<'a>(dom: &'a str, prefix: &str) -> Vec<HashMap<&'a str, &'a str>> {
    dom.match_indices(prefix)
        .map(|(i, _)| {
            let tag = &dom[i..i + dom[i..].find('>').unwrap_or(0)];
            let mut attrs = HashMap::new();
            for part in tag.split("\" ") {
                if let Some((k, v)) = part.rsplit_once("=\"") {
                    attrs.insert(k.rsplit(' ').next().unwrap_or(k), v.trim_end_matches('"'));
                }
            }
            attrs
        })
        .collect()
}

/// Owner address of every slot as the slot map draws it.
fn drawn_owners(dom: &str) -> Vec<Option<String>> {
    let mut owners = vec![None; 16384];
    for r in tags(dom, "<rect ").into_iter().filter(|a| a.get("class") == Some(&"slot-range")) {
        let (start, end): (usize, usize) = (r["data-start"].parse().unwrap(), r["data-end"].parse().unwrap());
        for o in &mut owners[start..=end] {
            *o = Some(r["data-owner"].to_string());
        }
    }
    owners
}

/// The cluster's own answer: owner address per slot, from CLUSTER NODES of `port`.
fn cluster_owners(sb: &Sandbox, port: u16) -> Vec<Option<String>> {
    let (ok, text) = sb.tool(&["call", &format!("127.0.0.1:{port}"), "CLUSTER", "NODES"], Duration::from_secs(10));
    assert!(ok, "{text}");
    let mut owners = vec![None; 16384];
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 9 || !f[2].contains("master") {
            continue;
        }
        let addr = f[1].split('@').next().unwrap().to_string();
        for range in f[8..].iter().filter(|t| !t.starts_with('[')) {
            let (a, b) = range.split_once('-').unwrap_or((range, range));
            for o in &mut owners[a.parse::<usize>().unwrap()..=b.parse::<usize>().unwrap()] {
                *o = Some(addr.clone());
            }
        }
    }
    owners
}

/// `(addr, role, flags cell)` of every row of the nodes table.
fn node_rows(dom: &str) -> Vec<(String, String, String)> {
    tags(dom, "<tr class=\"node\"")
        .into_iter()
        .zip(dom.split("<tr class=\"node\"").skip(1))
        .map(|(a, html)| {
            let cells: Vec<&str> = html.split("<td").collect();
            (a["data-addr"].to_string(), a["data-role"].to_string(), cells.get(5).copied().unwrap_or("").to_string())
        })
        .collect()
}

fn artifact_path() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.ancestors().nth(3).map(Path::to_path_buf).unwrap_or_else(|| root().join("target")).join("artifacts")
}

#[test]
fn dashboard_shows_slot_owners_and_follows_a_failover() {
    let Some(browser) = chromium() else { return };
    let sb = Sandbox::start(1500);
    let url = format!("http://127.0.0.1:{}/", sb.dashboard);
    let profile = sb.dir.path().join("chromium-profile");
    let six_up = |d: &str| d.matches("\"reachable\":true").count() == 6 && d.contains("\"state\":\"ok\"");
    assert!(sb.wait_api(Duration::from_secs(20), six_up).is_some(), "the dashboard never saw 6 nodes up");

    // A hot key under an LFU policy, for the hot-keys table.
    let (ok, out) = sb.tool(
        &["call", &format!("127.0.0.1:{}", sb.nodes[0]), "CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
        Duration::from_secs(10),
    );
    assert!(ok, "{out}");
    let mut proxy = common::RawClient::connect(([127, 0, 0, 1], sb.proxy).into());
    proxy.call(&["SET", "hot:item", "1"]);
    for _ in 0..300 {
        proxy.call(&["GET", "hot:item"]);
    }
    let hot = |d: &str| d.contains("\"key\":\"hot:item\"");
    assert!(sb.wait_api(Duration::from_secs(20), hot).is_some(), "the dashboard never listed the hot key");

    let dom = browse(browser, &profile, &["--dump-dom"], &url);
    assert!(
        dom.split("<tr class=\"hotkey\">").skip(1).any(|row| row.contains("<td>hot:item</td>")),
        "the hot keys table does not show hot:item"
    );
    assert!(!dom.contains("class=\"migrating\""), "no slot is migrating yet");
    let backends = dom.matches("<tr class=\"backend\">").count();
    assert_eq!(backends, 12, "proxy table: one row per backend of each of the 2 pools");
    let expected = cluster_owners(&sb, sb.nodes[1]);
    assert!(expected.iter().all(Option::is_some), "the cluster does not cover every slot");
    assert_eq!(drawn_owners(&dom), expected, "the slot map's owners differ from CLUSTER NODES");
    let rows = node_rows(&dom);
    let masters: Vec<&String> = rows.iter().filter(|r| r.1 == "master").map(|r| &r.0).collect();
    assert_eq!((rows.len(), masters.len()), (6, 3), "nodes table: {rows:?}");
    for port in &sb.nodes {
        assert!(rows.iter().any(|r| r.0 == format!("127.0.0.1:{port}")), "node {port} missing from the table");
    }

    // Open slot 100 (MIGRATING on its owner, IMPORTING on another master): the map marks it.
    let owner = expected[100].clone().unwrap();
    let other = expected[16383].clone().unwrap();
    let port_of = |addr: &str| -> u16 { addr.rsplit(':').next().unwrap().parse().unwrap() };
    let call =
        |addr: &str, args: &[&str]| common::RawClient::connect(([127, 0, 0, 1], port_of(addr)).into()).call(args);
    let id = |addr: &str| match call(addr, &["CLUSTER", "MYID"]) {
        Frame::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
        other => panic!("CLUSTER MYID: {other:?}"),
    };
    let (owner_id, other_id) = (id(&owner), id(&other));
    assert_eq!(call(&owner, &["CLUSTER", "SETSLOT", "100", "MIGRATING", &other_id]), Frame::Simple("OK".into()));
    assert_eq!(call(&other, &["CLUSTER", "SETSLOT", "100", "IMPORTING", &owner_id]), Frame::Simple("OK".into()));
    let open = |d: &str| d.contains("\"migrating\":[{\"slot\":100,");
    assert!(sb.wait_api(Duration::from_secs(20), open).is_some(), "the dashboard never saw slot 100 migrating");
    let dom = browse(browser, &profile, &["--dump-dom"], &url);
    assert!(dom.contains("class=\"migrating\" data-slot=\"100\""), "the slot map does not mark slot 100");
    for addr in [&owner, &other] {
        assert_eq!(call(addr, &["CLUSTER", "SETSLOT", "100", "STABLE"]), Frame::Simple("OK".into()));
    }

    // Kill the master of slot 0 and its replica must show up as the new master.
    let victim = expected[0].clone().unwrap();
    let victim_port: u16 = victim.rsplit(':').next().unwrap().parse().unwrap();
    let (ok, out) = sb.tool(&["chaos", "kill", &victim_port.to_string()], Duration::from_secs(60));
    assert!(ok && out.contains("marked FAIL") && out.contains("new master"), "chaos kill:\n{out}");
    let promoted = out.split("; new master ").nth(1).and_then(|s| s.split_whitespace().next()).unwrap().to_string();
    let failed_over = |d: &str| d.contains("\"kind\":\"failover\"") && !d.contains(&format!("\"owner\":\"{victim}"));
    assert!(sb.wait_api(Duration::from_secs(20), failed_over).is_some(), "the dashboard never showed the failover");

    let shot = artifact_path();
    std::fs::create_dir_all(&shot).unwrap();
    let png = shot.join("dashboard.png");
    let _ = std::fs::remove_file(&png);
    let dom = browse(browser, &profile, &["--dump-dom"], &url);
    browse(browser, &profile, &[&format!("--screenshot={}", png.display())], &url);
    let drawn = drawn_owners(&dom);
    assert_eq!(drawn[0].as_deref(), Some(promoted.as_str()), "slot 0 is not drawn as owned by the new master");
    assert!(
        !drawn.iter().any(|o| o.as_deref() == Some(victim.as_str())),
        "the dead master still owns slots on the map"
    );
    let rows = node_rows(&dom);
    let row =
        |addr: &str| rows.iter().find(|r| r.0 == addr).cloned().unwrap_or_else(|| panic!("{addr} not in {rows:?}"));
    assert_eq!(row(&promoted).1, "master", "the promoted replica's row");
    assert!(row(&victim).2.contains("fail"), "the killed master's flags: {:?}", row(&victim));
    assert!(dom.contains("data-kind=\"failover\""), "no failover event in the timeline");
    let bytes = std::fs::read(&png).expect("the screenshot was written");
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000, "not a real screenshot");
    eprintln!("dashboard screenshot: {}", png.display());
}
