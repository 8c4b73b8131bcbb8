//! The sandbox's node processes, found only through the pid files `make run-cluster` writes
//! (`<run dir>/<port>/pid`, the command line in `<port>/argv`): a pid is used only while
//! `/proc/<pid>/comm` says `slotbox-server`, so a stale pid file never signals another
//! process. Signals go through the `kill` program; a restart runs the saved command line.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One node of the sandbox.
#[derive(Debug, Clone)]
pub struct NodeProc {
    pub port: u16,
    pub dir: PathBuf,
}

impl NodeProc {
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The pid of the running node, if its pid file names a live slotbox-server.
    pub fn pid(&self) -> Option<u32> {
        let pid: u32 = std::fs::read_to_string(self.dir.join("pid")).ok()?.trim().parse().ok()?;
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        (comm.trim() == "slotbox-server").then_some(pid)
    }

    /// Send `signal` (KILL, TERM, STOP, CONT) to the node.
    pub fn signal(&self, signal: &str) -> Result<u32, String> {
        let pid = self.pid().ok_or_else(|| {
            format!("node {} is not running (no live slotbox-server in {}/pid)", self.addr(), self.dir.display())
        })?;
        let status = Command::new("kill")
            .args(["-s", signal, &pid.to_string()])
            .status()
            .map_err(|e| format!("cannot run kill: {e}"))?;
        if !status.success() {
            return Err(format!("kill -s {signal} {pid} failed"));
        }
        Ok(pid)
    }

    /// Wait (at most `limit`) until the node's process is gone.
    pub fn wait_gone(&self, pid: u32, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid) {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        true
    }

    /// Start the node again with the command line run-cluster saved; its new pid.
    pub fn start(&self) -> Result<u32, String> {
        let argv = std::fs::read_to_string(self.dir.join("argv"))
            .map_err(|e| format!("cannot read {}: {e}", self.dir.join("argv").display()))?;
        let argv: Vec<&str> = argv.lines().collect();
        let (program, args) = argv.split_first().ok_or("empty argv file")?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("log"))
            .map_err(|e| format!("cannot open the node's log: {e}"))?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {program}: {e}"))?;
        let pid = child.id();
        std::fs::write(self.dir.join("pid"), format!("{pid}\n")).map_err(|e| e.to_string())?;
        // The node outlives us (dropping a Child neither kills nor waits for it), as the
        // nodes run-cluster starts outlive the script.
        drop(child);
        Ok(pid)
    }
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, rest)| rest.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

/// Every node of the sandbox in `run_dir` (directories named by a port with a pid or argv file).
pub fn nodes(run_dir: &Path) -> Vec<NodeProc> {
    let mut out: Vec<NodeProc> = std::fs::read_dir(run_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let port: u16 = e.file_name().to_str()?.parse().ok()?;
            let dir = e.path();
            (dir.join("argv").exists() || dir.join("pid").exists()).then_some(NodeProc { port, dir })
        })
        .collect();
    out.sort_by_key(|n| n.port);
    out
}
