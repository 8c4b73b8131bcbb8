//! slotbox-server as a service manager stops it: SIGTERM with save points writes a final
//! snapshot that the next start loads, SIGINT fsyncs the AOF, removes the pid file and logs Redis's shutdown lines; a
//! second signal while the first one's shutdown waits exits at once with status 1; a final
//! save that fails keeps the server serving (as Redis does) until a later signal succeeds.
//!
//! As a systemd service: `supervised systemd` sends READY=1 then STOPPING=1 to
//! `$NOTIFY_SOCKET`, and the unit files of `conf/` pass `systemd-analyze verify`.
//!
//! The binary runs as a child on a free 127.0.0.1 port; it is killed on drop, every wait is
//! bounded.

mod common;

use common::{free_port, slotbox_server_binary, wait_for, RawClient, TempDir, WAIT};
use slotbox::protocol::Frame;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

/// A `slotbox-server` child (stdout and stderr in `dir/server.log`), killed on drop.
struct Node {
    child: Child,
    addr: SocketAddr,
    log: std::path::PathBuf,
}

impl Node {
    fn spawn(dir: &Path, extra: &[&str]) -> Node {
        Node::spawn_env(dir, extra, &[])
    }

    fn spawn_env(dir: &Path, extra: &[&str], env: &[(&str, &Path)]) -> Node {
        Node::spawn_full(None, dir, extra, env)
    }

    /// `slotbox-server [conf] --port P --bind 127.0.0.1 --dir dir extra...` with `env`.
    fn spawn_full(conf: Option<&Path>, dir: &Path, extra: &[&str], env: &[(&str, &Path)]) -> Node {
        for _ in 0..5 {
            let port = free_port();
            let log = dir.join("server.log");
            let out = std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap();
            let child = Command::new(slotbox_server_binary())
                .args(conf)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--dir"])
                .arg(dir)
                .args(extra)
                .envs(env.iter().map(|&(k, v)| (k, v)))
                .stdin(Stdio::null())
                .stdout(Stdio::from(out.try_clone().unwrap()))
                .stderr(Stdio::from(out))
                .spawn()
                .expect("start slotbox-server");
            let mut node = Node { child, addr: SocketAddr::from(([127, 0, 0, 1], port)), log };
            let up = wait_for(WAIT, || {
                matches!(node.child.try_wait(), Ok(Some(_)))
                    || RawClient::try_connect(node.addr).is_ok_and(|mut c| c.try_call(&["PING"]).is_ok())
            });
            if up && node.child.try_wait().is_ok_and(|s| s.is_none()) {
                return node;
            }
        }
        panic!(
            "slotbox-server did not start; log:\n{}",
            std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
        );
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill").args([sig, &self.child.id().to_string()]).status();
        assert!(ok.is_ok_and(|s| s.success()), "kill {sig} failed");
    }

    /// The exit status, waiting at most [`WAIT`].
    fn wait_exit(&mut self) -> Option<ExitStatus> {
        let mut status = None;
        wait_for(WAIT, || {
            status = self.child.try_wait().ok().flatten();
            status.is_some()
        });
        status
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn call(&self, args: &[&str]) -> Frame {
        RawClient::connect(self.addr).call(args)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The log's lines without their `pid:role date time` prefix (the level mark and message).
fn messages(log: &str) -> Vec<String> {
    log.lines().filter_map(|l| l.splitn(6, ' ').nth(5).map(str::to_string)).collect()
}

#[test]
fn sigterm_with_save_points_leaves_a_loadable_snapshot_and_removes_the_pid_file() {
    let dir = TempDir::new("sigterm");
    let pidfile = dir.path().join("slotbox.pid");
    let pid_arg = pidfile.display().to_string();
    let mut node = Node::spawn(dir.path(), &["--save", "60 1", "--pidfile", &pid_arg]);
    assert!(pidfile.is_file(), "the pid file is written at start");
    for i in 0..100 {
        assert_eq!(node.call(&["SET", &format!("key:{i}"), &format!("value {i}")]), Frame::Simple("OK".into()));
    }
    node.call(&["HSET", "h", "f", "v"]);
    node.signal("-TERM");
    let status = node.wait_exit().unwrap_or_else(|| panic!("still running after SIGTERM:\n{}", node.log_text()));
    assert!(status.success(), "exit status {status:?}; log:\n{}", node.log_text());
    assert!(!pidfile.exists(), "the pid file is removed");
    let log = messages(&node.log_text());
    let order = [
        "# Received SIGTERM scheduling shutdown...",
        "# User requested shutdown...",
        "* Saving the final RDB snapshot before exiting.",
        "* Removing the pid file.",
        "# slotbox-server is now ready to exit, bye bye...",
    ];
    let at: Vec<Option<usize>> = order.iter().map(|m| log.iter().position(|l| l == m)).collect();
    assert!(at.iter().all(Option::is_some) && at.windows(2).all(|w| w[0] < w[1]), "log lines {at:?}:\n{log:#?}");
    assert!(dir.path().join("dump.rdb").is_file(), "the final snapshot is written");
    drop(node);

    let again = Node::spawn(dir.path(), &["--save", ""]);
    assert_eq!(again.call(&["DBSIZE"]), Frame::Integer(101), "the next start loads the snapshot");
    assert_eq!(again.call(&["GET", "key:42"]), Frame::Bulk("value 42".into()));
    assert_eq!(again.call(&["HGET", "h", "f"]), Frame::Bulk("v".into()));
}

#[test]
fn sigint_without_save_points_fsyncs_the_aof_and_saves_no_snapshot() {
    let dir = TempDir::new("sigint");
    let mut node = Node::spawn(dir.path(), &["--save", "", "--appendonly", "yes", "--appendfsync", "no"]);
    node.call(&["SET", "k", "v"]);
    node.signal("-INT");
    let status = node.wait_exit().expect("exits after SIGINT");
    assert!(status.success(), "exit status {status:?}");
    let log = messages(&node.log_text());
    for line in ["# Received SIGINT scheduling shutdown...", "* Calling fsync() on the AOF file."] {
        assert!(log.iter().any(|l| l == line), "no {line:?} in {log:#?}");
    }
    assert!(!log.iter().any(|l| l.contains("Saving the final")), "{log:#?}");
    assert!(!dir.path().join("dump.rdb").exists(), "no save points: no snapshot");
    drop(node);
    let again = Node::spawn(dir.path(), &["--save", "", "--appendonly", "yes"]);
    assert_eq!(again.call(&["GET", "k"]), Frame::Bulk("v".into()), "the AOF holds the write");
}

#[test]
fn second_signal_while_shutting_down_exits_at_once() {
    let dir = TempDir::new("insist");
    let mut node = Node::spawn(dir.path(), &["--save", "60 1", "--enable-debug-command", "yes"]);
    node.call(&["SET", "k", "v"]);
    // DEBUG SLEEP holds the whole exec gate: the shutdown waits for it, so it is pending.
    let mut sleeper = RawClient::connect(node.addr);
    sleeper.send_raw(&common::encode_command(&["DEBUG", "SLEEP", "8"]));
    std::thread::sleep(Duration::from_millis(300));
    node.signal("-TERM");
    assert!(
        wait_for(WAIT, || node.log_text().contains("User requested shutdown...")),
        "the shutdown started:\n{}",
        node.log_text()
    );
    node.signal("-TERM");
    let status = node.wait_exit().expect("exits on the second signal");
    assert_eq!(status.code(), Some(1), "not a clean exit; log:\n{}", node.log_text());
    assert!(node.log_text().contains("# You insist... exiting now."), "{}", node.log_text());
    assert!(!dir.path().join("dump.rdb").exists(), "the final save never ran");
}

#[test]
fn failed_final_save_keeps_serving_until_a_later_signal_succeeds() {
    let dir = TempDir::new("savefail");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let data_arg = data.display().to_string();
    let mut node = Node::spawn(dir.path(), &["--save", "60 1", "--dir", &data_arg]);
    node.call(&["SET", "k", "v"]);
    // The snapshot's directory is gone: the save cannot write its temp file.
    std::fs::remove_dir_all(&data).unwrap();
    node.signal("-TERM");
    let refused = "# SIGTERM received but errors trying to shut down the server, check the logs for more information";
    assert!(wait_for(WAIT, || messages(&node.log_text()).iter().any(|l| l == refused)), "{}", node.log_text());
    assert!(messages(&node.log_text()).iter().any(|l| l == "# Error trying to save the DB, can't exit."));
    // Still serving, writes included (the shutdown's write pause is over).
    assert_eq!(node.call(&["SET", "k2", "v2"]), Frame::Simple("OK".into()));
    assert!(node.child.try_wait().unwrap().is_none(), "still running after the failed save");
    assert_eq!(node.call(&["CONFIG", "SET", "shutdown-on-sigterm", "nosave"]), Frame::Simple("OK".into()));
    node.signal("-TERM");
    let status = node.wait_exit().expect("exits on the next signal");
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn supervised_systemd_notifies_ready_then_stopping() {
    use std::os::unix::net::UnixDatagram;
    let dir = TempDir::new("notify");
    let sock_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(WAIT)).unwrap();
    let mut node =
        Node::spawn_env(dir.path(), &["--save", "", "--supervised", "systemd"], &[("NOTIFY_SOCKET", &sock_path)]);
    let mut buf = [0u8; 512];
    let n = sock.recv(&mut buf).expect("a datagram from the server");
    let ready = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(ready.lines().any(|l| l == "READY=1"), "{ready:?}");
    node.signal("-TERM");
    let n = sock.recv(&mut buf).expect("a datagram at shutdown");
    assert_eq!(String::from_utf8_lossy(&buf[..n]), "STOPPING=1\n");
    assert!(node.wait_exit().is_some_and(|s| s.success()));
}

#[test]
fn unit_files_pass_systemd_analyze_verify() {
    assert!(common::on_path("systemd-analyze"), "systemd-analyze is missing (apt-get install systemd; .ci/run does)");
    let dir = TempDir::new("units");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bins = slotbox_server_binary().parent().unwrap().to_path_buf();
    let _ = common::slotbox_proxy_binary();
    for unit in ["slotbox-server.service", "slotbox-proxy.service"] {
        // The units name the installed binaries; verify checks that they exist, so the copy
        // names the ones just built (nothing else changes).
        let text = std::fs::read_to_string(root.join("conf").join(unit)).unwrap();
        let text = text.replace("/usr/local/bin/", &format!("{}/", bins.display()));
        let path = dir.path().join(unit);
        std::fs::write(&path, text).unwrap();
        let out = common::run_bounded(Command::new("systemd-analyze").arg("verify").arg(&path), WAIT)
            .expect("systemd-analyze finished");
        assert!(out.0.success() && out.2.trim().is_empty(), "{unit}: {:?}\n{}{}", out.0, out.1, out.2);
    }
}

#[test]
fn the_sample_config_loads() {
    let dir = TempDir::new("sample-conf");
    let conf = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/slotbox.conf");
    let pid = dir.path().join("p.pid");
    let pid = pid.to_str().unwrap();
    let mut node = Node::spawn_full(Some(&conf), dir.path(), &["--pidfile", pid], &[]);
    let get = |name: &str| match node.call(&["CONFIG", "GET", name]) {
        Frame::Array(kv) if kv.len() == 2 => common::text(&kv[1]),
        other => panic!("CONFIG GET {name}: {other:?}"),
    };
    assert_eq!(get("save"), "3600 1 300 100 60 10000");
    assert_eq!(
        (get("io-threads"), get("appendfsync"), get("supervised")),
        ("2".into(), "everysec".into(), "auto".into())
    );
    assert_eq!(get("latency-tracking-info-percentiles"), "50 99 99.9");
    node.signal("-TERM");
    assert!(node.wait_exit().is_some_and(|s| s.success()));
}

/// A master with one replica in sync (offsets equal).
fn master_and_replica(dir: &Path, master_extra: &[&str]) -> (Node, Node) {
    let (mdir, rdir) = (dir.join("m"), dir.join("r"));
    std::fs::create_dir_all(&mdir).unwrap();
    std::fs::create_dir_all(&rdir).unwrap();
    let mut args = vec!["--save", ""];
    args.extend_from_slice(master_extra);
    let master = Node::spawn(&mdir, &args);
    let port = master.addr.port().to_string();
    let replica = Node::spawn(&rdir, &["--save", "", "--replicaof", "127.0.0.1", &port]);
    let synced = wait_for(WAIT, || {
        let mut c = RawClient::connect(master.addr);
        let m = common::info_value(&mut c, "replication", "master_repl_offset");
        let r = common::info_value(&mut RawClient::connect(replica.addr), "replication", "slave_repl_offset");
        common::info_value(&mut c, "replication", "connected_slaves").as_deref() == Some("1") && m.is_some() && m == r
    });
    assert!(synced, "the replica never caught up:\n{}", master.log_text());
    (master, replica)
}

#[test]
fn sigterm_lets_replicas_catch_up_and_reports_a_lagging_one() {
    let dir = TempDir::new("replicas");
    // In sync: the shutdown reports it and the replica holds every write.
    let (mut master, replica) = master_and_replica(&dir.path().join("a"), &[]);
    for i in 0..50 {
        master.call(&["SET", &format!("k{i}"), "v"]);
    }
    master.signal("-TERM");
    assert!(master.wait_exit().is_some_and(|s| s.success()), "{}", master.log_text());
    let log = messages(&master.log_text());
    assert!(log.iter().any(|l| l == "* 1 of 1 replicas are in sync when shutting down."), "{log:#?}");
    assert_eq!(replica.call(&["DBSIZE"]), Frame::Integer(50));
    drop(replica);

    // A replica that cannot answer (stopped): the master waits shutdown-timeout, then says
    // which replica lags and exits anyway.
    let (mut master, replica) = master_and_replica(&dir.path().join("b"), &["--shutdown-timeout", "1"]);
    replica.signal("-STOP");
    master.call(&["SET", "late", "write"]);
    master.signal("-TERM");
    let status = master.wait_exit();
    replica.signal("-CONT");
    assert!(status.is_some_and(|s| s.success()), "{}", master.log_text());
    let log = messages(&master.log_text());
    let waiting = log.iter().position(|l| l == "* Waiting for replicas before shutting down.");
    let lagging =
        log.iter().position(|l| l.starts_with("# Lagging replica 127.0.0.1:") && l.ends_with("state=online."));
    let summary = log.iter().position(|l| l == "* 0 of 1 replicas are in sync when shutting down.");
    assert!(waiting < lagging && lagging < summary && waiting.is_some(), "{log:#?}");
}
