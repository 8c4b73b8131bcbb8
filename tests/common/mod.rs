//! Shared helpers for the integration tests: start an embedded slotbox server, a real
//! `redis-server` or the `slotbox-server` binary on a free loopback port, and talk to any of
//! them with [`RawClient`], a tiny RESP client that sends raw bytes and reads exactly one reply.
//!
//! Every wait here is bounded (connects retry for at most [`WAIT`], reads time out), and child
//! processes are killed when their handle is dropped, so a broken server fails a test instead
//! of hanging it. Nothing here uses a fixed port.

#![allow(dead_code)] // each test crate uses a different subset

pub mod relay;

use slotbox::protocol::resp_parse::parse_frame;
use slotbox::protocol::Frame;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The longest any helper waits for a server to come up or a reply to arrive.
pub const WAIT: Duration = Duration::from_secs(10);

/// A port on 127.0.0.1 that was free a moment ago (the OS picked it for port 0).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}

/// Is `program` an executable on PATH?
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("slotbox-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A server child process (real `redis-server` or the `slotbox-server` binary), killed on drop.
pub struct ServerProcess {
    child: Child,
    port: u16,
    name: String,
    log: PathBuf,
    _dir: TempDir,
}

impl ServerProcess {
    /// Start real `redis-server` on a free port with no persistence and DEBUG allowed. Panics with a clear
    /// message if it cannot be started.
    pub fn redis() -> ServerProcess {
        ServerProcess::spawn_with_retries("redis-server", |port, dir| {
            let mut cmd = Command::new("redis-server");
            cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
            // DEBUG allowed, as in Redis's own test servers and slotbox's `Config::ephemeral`.
            cmd.args(["--enable-debug-command", "yes"]);
            cmd.args(["--daemonize", "no", "--protected-mode", "no", "--dir"]).arg(dir);
            cmd
        })
    }

    /// Start the `slotbox-server` binary on a free port with `extra` arguments
    /// (`--port` and `--bind` are added).
    pub fn slotbox_binary(extra: &[&str]) -> ServerProcess {
        let bin = slotbox_server_binary();
        ServerProcess::spawn_with_retries("slotbox-server", |port, dir| {
            let mut cmd = Command::new(&bin);
            cmd.args(extra);
            cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--dir"]).arg(dir);
            cmd
        })
    }

    /// Start a server with `make_cmd(port, dir)`, retrying on another port if the first one
    /// was taken between `free_port` and the child's bind.
    pub fn spawn_with_retries(name: &str, make_cmd: impl Fn(u16, &Path) -> Command) -> ServerProcess {
        let mut last_err = String::new();
        for _ in 0..5 {
            let dir = TempDir::new(name);
            let port = free_port();
            let log = dir.path().join("server.log");
            let out = std::fs::File::create(&log).expect("create log file");
            let err = out.try_clone().expect("clone log file");
            let child = make_cmd(port, dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::from(out))
                .stderr(Stdio::from(err))
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
            let mut proc = ServerProcess { child, port, name: name.to_string(), log, _dir: dir };
            match proc.wait_ready() {
                Ok(()) => return proc,
                Err(e) => last_err = e,
            }
        }
        panic!("{name} did not start: {last_err}");
    }

    /// Wait until the server answers PING (bounded by [`WAIT`]).
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited with {status}; log:\n{}", self.log_text()));
            }
            if let Ok(mut c) = RawClient::try_connect(self.addr()) {
                if let Ok(Frame::Simple(s)) = c.try_call(&[b"PING"]) {
                    if &s[..] == b"PONG" {
                        return Ok(());
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("not answering PING after {WAIT:?}; log:\n{}", self.log_text()))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Has the process exited (on its own: SHUTDOWN, a crash)?
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// What the server printed so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Path of the `slotbox-server` binary of the profile these tests were built with
/// (`target/<profile>/slotbox-server`), building it if it is missing.
pub fn slotbox_server_binary() -> PathBuf {
    // Test binaries live in target/<profile>/deps/.
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>").to_path_buf();
    let bin = profile_dir.join("slotbox-server");
    if bin.is_file() {
        return bin;
    }
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(["build", "-p", "slotbox-server", "--bin", "slotbox-server"]);
    if release {
        cmd.arg("--release");
    }
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    let status = run_bounded(&mut cmd, Duration::from_secs(600)).map(|(s, _, _)| s);
    assert!(
        matches!(status, Some(s) if s.success()) && bin.is_file(),
        "{} is missing and `cargo build -p slotbox-server` failed; build it first",
        bin.display()
    );
    bin
}

/// Run `cmd` to completion with a time limit; returns (status, stdout, stderr), or `None` if
/// it had to be killed. Output goes through temp files so a chatty child cannot block on a pipe.
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Option<(ExitStatus, String, String)> {
    let dir = TempDir::new("run");
    let out_path = dir.path().join("stdout");
    let err_path = dir.path().join("stderr");
    let out = std::fs::File::create(&out_path).expect("create stdout file");
    let err = std::fs::File::create(&err_path).expect("create stderr file");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    status.map(|s| (s, read(&out_path), read(&err_path)))
}

/// Encode a command as a RESP multibulk request.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Printable form of raw protocol bytes (`\r\n` shown escaped) for failure messages.
pub fn show(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

/// A minimal RESP client over a blocking socket: write any bytes, read exactly one reply.
pub struct RawClient {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl RawClient {
    /// Connect, retrying for up to [`WAIT`]. Panics if the server never accepts.
    pub fn connect(addr: SocketAddr) -> RawClient {
        let deadline = Instant::now() + WAIT;
        loop {
            match RawClient::try_connect(addr) {
                Ok(c) => return c,
                Err(e) if Instant::now() >= deadline => panic!("cannot connect to {addr}: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    /// One connection attempt, with read/write timeouts of [`WAIT`].
    pub fn try_connect(addr: SocketAddr) -> std::io::Result<RawClient> {
        let stream = TcpStream::connect_timeout(&addr, WAIT)?;
        stream.set_read_timeout(Some(WAIT))?;
        stream.set_write_timeout(Some(WAIT))?;
        stream.set_nodelay(true)?;
        Ok(RawClient { stream, buf: Vec::new() })
    }

    /// Write raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to server");
    }

    /// Write raw bytes, reporting a failure (e.g. the server closed the connection).
    pub fn try_send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Read exactly one reply; returns it parsed and as the raw bytes it was sent as.
    pub fn try_read_reply(&mut self) -> std::io::Result<(Frame, Vec<u8>)> {
        loop {
            match parse_frame(&self.buf) {
                Ok(Some((frame, used))) => {
                    let raw: Vec<u8> = self.buf.drain(..used).collect();
                    return Ok((frame, raw));
                }
                Ok(None) => {}
                Err(e) => {
                    let msg = format!("unparsable reply {:?}: {e}", show(&self.buf));
                    return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, msg));
                }
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                let msg = format!("connection closed (buffered: {:?})", show(&self.buf));
                return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, msg));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Read one reply; panics on timeout, EOF or garbage.
    pub fn read_reply(&mut self) -> (Frame, Vec<u8>) {
        self.try_read_reply().unwrap_or_else(|e| panic!("reading a reply: {e}"))
    }

    /// Send a command and return its parsed reply (or an I/O error).
    pub fn try_call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> std::io::Result<Frame> {
        self.stream.write_all(&encode_command(args))?;
        self.try_read_reply().map(|(f, _)| f)
    }

    /// Send a command and return its parsed reply.
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Frame {
        self.send_raw(&encode_command(args));
        self.read_reply().0
    }

    /// Send a command and return its reply exactly as the server encoded it.
    pub fn call_raw<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Vec<u8> {
        self.send_raw(&encode_command(args));
        self.read_reply().1
    }

    /// Read replies until the server closes the connection. Returns them and whether it did
    /// close (EOF or reset), rather than stay silent for [`WAIT`] or send garbage.
    pub fn read_until_closed(&mut self) -> (Vec<Frame>, bool) {
        let mut frames = Vec::new();
        loop {
            match self.try_read_reply() {
                Ok((f, _)) => frames.push(f),
                Err(e) => {
                    let closed =
                        matches!(e.kind(), std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset);
                    return (frames, closed);
                }
            }
        }
    }

    /// True if the server closes the connection (EOF or reset) within [`WAIT`] without sending
    /// anything more.
    pub fn is_closed_by_server(&mut self) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        let mut chunk = [0u8; 64];
        match self.stream.read(&mut chunk) {
            Ok(0) => true,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
            Ok(_) => false,
        }
    }
}

/// A bulk string frame, for assertions.
pub fn bulk(s: &str) -> Frame {
    Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

/// A simple string frame, for assertions.
pub fn simple(s: &str) -> Frame {
    Frame::Simple(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

/// An error frame, for assertions (text without the leading '-').
pub fn error(s: &str) -> Frame {
    Frame::Error(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

/// The text of a bulk / simple / error / verbatim reply (other frames: their debug form).
pub fn text(f: &Frame) -> String {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) | Frame::Error(b) | Frame::Verbatim(_, b) => {
            String::from_utf8_lossy(b).into_owned()
        }
        other => format!("{other:?}"),
    }
}

/// Poll `f` every 50 ms until it holds or `limit` passes; true if it held.
pub fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Wait (polling every 20 ms, for at most `limit`) until `cond` holds; panics naming `what`
/// when it never did. For waits whose last observed value helps a failure report, use
/// [`wait_until_value`].
pub fn wait_until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    wait_until_value(limit, what, &mut cond, |held| *held);
}

/// Poll `probe` every 20 ms until `done` accepts what it returned, for at most `limit`, and
/// return that value; panics naming `what` and the last value observed when time runs out.
/// The probe runs at least once, and once more at the deadline, so a slow machine that
/// overslept still gets a last look.
pub fn wait_until_value<T: std::fmt::Debug>(
    limit: Duration,
    what: &str,
    mut probe: impl FnMut() -> T,
    mut done: impl FnMut(&T) -> bool,
) -> T {
    let start = Instant::now();
    loop {
        let late = start.elapsed() >= limit;
        let value = probe();
        if done(&value) {
            return value;
        }
        if late {
            panic!("timed out after {limit:?} waiting for {what}; last observed: {value:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The value of `field` in `INFO <section>` as `c` sees it (`None` if the field is absent).
pub fn info_value(c: &mut RawClient, section: &str, field: &str) -> Option<String> {
    let info = text(&c.call(&["INFO", section]));
    let prefix = format!("{field}:");
    info.lines().find_map(|l| l.strip_prefix(&prefix)).map(|v| v.trim().to_string())
}

/// `INFO clients` `blocked_clients` of the server at `addr` (a fresh connection per call).
pub fn blocked_clients(addr: SocketAddr) -> i64 {
    let mut c = RawClient::connect(addr);
    let v = info_value(&mut c, "clients", "blocked_clients").expect("INFO clients has blocked_clients");
    v.parse().unwrap_or_else(|e| panic!("blocked_clients:{v}: {e}"))
}

/// Path of the `slotbox-proxy` binary of the profile these tests were built with, built
/// (or brought up to date) with `cargo build -p slotbox-proxy` first.
pub fn slotbox_proxy_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>").to_path_buf();
    let bin = profile_dir.join("slotbox-proxy");
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(["build", "-p", "slotbox-proxy", "--bin", "slotbox-proxy"]);
    if release {
        cmd.arg("--release");
    }
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    let out = run_bounded(&mut cmd, Duration::from_secs(600));
    assert!(
        bin.is_file(),
        "{} is missing and `cargo build -p slotbox-proxy` failed ({:?}); build it first",
        bin.display(),
        out.map(|(_, _, err)| err)
    );
    bin
}
