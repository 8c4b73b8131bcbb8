//! The `slotbox-server` binary: `slotbox-server [/path/to/redis.conf] [--directive value ...]`.

use crossbeam_channel::{Receiver, RecvTimeoutError};
use signal_hook::consts::{SIGINT, SIGTERM};
use slotbox_server::shutdown::{self, Signal};
use slotbox_server::{config::Config, log};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[global_allocator]
static ALLOC: slotbox_server::alloc::CountingAlloc = slotbox_server::alloc::CountingAlloc;

const USAGE: &str = "Usage: ./slotbox-server [/path/to/redis.conf] [options] [-]
       ./slotbox-server - (read config from stdin)
       ./slotbox-server -v or --version
       ./slotbox-server -h or --help
       ./slotbox-server --check-aof <file.aof> [--fix]

Examples:
       ./slotbox-server (run the server with default config)
       ./slotbox-server /etc/redis/6379.conf
       ./slotbox-server --port 7777
       ./slotbox-server --port 7777 --replicaof 127.0.0.1 8888
       ./slotbox-server /etc/myredis.conf --loglevel verbose -
       ./slotbox-server --threads 4 --bind 127.0.0.1";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(first) = args.first() {
        match first.as_str() {
            "-v" | "--version" => {
                println!(
                    "slotbox-server v={} (Redis compatible v={}) bits=64",
                    env!("CARGO_PKG_VERSION"),
                    slotbox_server::core::REDIS_VERSION
                );
                return;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            "--check-aof" => check_aof(&args[1..]),
            _ => {}
        }
    }
    if slotbox_server::sentinel::requested(&std::env::args().next().unwrap_or_default(), &args) {
        std::process::exit(slotbox_server::sentinel::main(&read_stdin_config(args)));
    }
    let args = read_stdin_config(args);
    let config = match Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("\n{e}");
            std::process::exit(1);
        }
    };
    let supervisor = supervisor(&config.supervised);
    if config.daemonize && supervisor.is_none() {
        daemonize();
    }
    if let Err(e) = log::init(config.logfile.as_deref(), &config.loglevel) {
        eprintln!("Can't open the log file: {e}");
        std::process::exit(1);
    }
    if let Some(pidfile) = &config.pidfile {
        if let Ok(mut f) = std::fs::File::create(pidfile) {
            let _ = writeln!(f, "{}", std::process::id());
        }
    }
    let pidfile = config.pidfile.clone();
    let dir = config.dir.clone();
    let threads = config.io_threads;
    let pending = Arc::new(AtomicBool::new(false));
    let signals = watch_signals(pending.clone(), dir);
    match slotbox_server::start(config) {
        Ok(handle) => {
            log::notice(&format!(
                "slotbox-server {} started, pid={}, {} I/O threads",
                env!("CARGO_PKG_VERSION"),
                std::process::id(),
                threads
            ));
            log::notice(&format!("Ready to accept connections tcp on {}", handle.addr()));
            if let Some(s) = supervisor {
                s.ready();
            }
            serve_until_stopped(&handle, &signals, &pending, supervisor);
            handle.wait();
        }
        Err(e) => {
            log::warning(&format!("Failed to start: {e}"));
            eprintln!("slotbox-server: {e}");
            std::process::exit(1);
        }
    }
    if let Some(p) = pidfile {
        log::notice("Removing the pid file.");
        let _ = std::fs::remove_file(p);
    }
    log::warning("slotbox-server is now ready to exit, bye bye...");
}

/// SIGTERM / SIGINT, as Redis handles them: the first one schedules a graceful shutdown (sent
/// to the main thread), a second one while it is pending exits at once with status 1.
fn watch_signals(pending: Arc<AtomicBool>, dir: std::path::PathBuf) -> Receiver<Signal> {
    let (tx, rx) = crossbeam_channel::bounded(4);
    let mut signals = match signal_hook::iterator::Signals::new([SIGTERM, SIGINT]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("slotbox-server: cannot install signal handlers: {e}");
            std::process::exit(1);
        }
    };
    let spawned = std::thread::Builder::new().name("slotbox-signals".into()).spawn(move || {
        for sig in signals.forever() {
            let sig = if sig == SIGINT { Signal::Int } else { Signal::Term };
            if pending.swap(true, Ordering::SeqCst) {
                log::warning("You insist... exiting now.");
                remove_temp_snapshots(&dir);
                std::process::exit(1);
            }
            log::warning(&format!("Received {} scheduling shutdown...", sig.name()));
            let _ = tx.send(sig);
        }
    });
    if let Err(e) = spawned {
        eprintln!("slotbox-server: cannot start the signal thread: {e}");
        std::process::exit(1);
    }
    rx
}

/// Serve until SHUTDOWN stops the server or a signal's graceful shutdown succeeds (a failed
/// final save keeps the server running, and the next signal tries again).
fn serve_until_stopped(
    handle: &slotbox_server::ServerHandle,
    signals: &Receiver<Signal>,
    pending: &AtomicBool,
    supervisor: Option<Supervisor>,
) {
    let status = |msg: &str| {
        if let Some(s) = supervisor {
            s.tell(msg);
        }
    };
    while !handle.shared().is_shutting_down() {
        match signals.recv_timeout(Duration::from_millis(100)) {
            Ok(sig) => {
                if shutdown::on_signal(handle.shared(), sig, &status) {
                    return;
                }
                pending.store(false, Ordering::SeqCst);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// A save cut short by the second signal leaves its temp file (`temp-<pid>-<ms>.rdb`): remove it.
fn remove_temp_snapshots(dir: &std::path::Path) {
    let prefix = format!("temp-{}-", std::process::id());
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// `--check-aof FILE [--fix]`: validate (and repair) an append-only file, then exit.
fn check_aof(rest: &[String]) -> ! {
    let (file, fix) = match rest {
        [f] => (f, false),
        [f, x] if x == "--fix" => (f, true),
        [x, f] if x == "--fix" => (f, true),
        _ => {
            eprintln!("Usage: slotbox-server --check-aof <file.aof> [--fix]");
            std::process::exit(1);
        }
    };
    std::process::exit(slotbox_server::persist::load::check_aof(std::path::Path::new(file), fix))
}

/// A lone "-" argument means: read config text from stdin (after the file, before flags).
fn read_stdin_config(args: Vec<String>) -> Vec<String> {
    if !args.iter().any(|a| a == "-") {
        return args;
    }
    let mut text = String::new();
    let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut text);
    let path = std::env::temp_dir().join(format!("slotbox-stdin-{}.conf", std::process::id()));
    let mut out: Vec<String> = Vec::new();
    let mut file_text = String::new();
    let mut rest = args.into_iter().filter(|a| a != "-").peekable();
    if let Some(first) = rest.peek() {
        if !first.starts_with("--") {
            file_text = std::fs::read_to_string(first).unwrap_or_default();
            rest.next();
        }
    }
    file_text.push('\n');
    file_text.push_str(&text);
    let _ = std::fs::write(&path, file_text);
    out.push(path.display().to_string());
    out.extend(rest);
    out
}

/// Who supervises the process (`supervised`), as Redis detects it: systemd when asked (or on
/// `auto`) and `NOTIFY_SOCKET` is set. (Upstart, gone from the distributions, is not.)
#[derive(Clone, Copy)]
enum Supervisor {
    Systemd,
}

fn supervisor(mode: &str) -> Option<Supervisor> {
    let systemd = std::env::var_os("NOTIFY_SOCKET").is_some();
    match mode {
        "systemd" | "auto" if systemd => Some(Supervisor::Systemd),
        "systemd" => {
            log::warning("systemd supervision requested, but NOTIFY_SOCKET is not set: not supervised");
            None
        }
        "upstart" => {
            log::warning("upstart supervision is not supported by slotbox-server: not supervised");
            None
        }
        _ => None,
    }
}

impl Supervisor {
    /// Tell the supervisor the server is ready (`READY=1` on systemd's notify socket).
    fn ready(self) {
        self.tell("STATUS=Ready to accept connections\nREADY=1\n");
    }

    /// Send `msg` (newline-separated `KEY=value` lines) to the supervisor.
    fn tell(self, msg: &str) {
        match self {
            Supervisor::Systemd => {
                if let Err(e) = notify_systemd(msg.as_bytes()) {
                    log::warning(&format!("systemd supervision error: {e}"));
                }
            }
        }
    }
}

/// Send one datagram to `$NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace).
fn notify_systemd(msg: &[u8]) -> std::io::Result<()> {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixDatagram};
    let target = std::env::var("NOTIFY_SOCKET").map_err(std::io::Error::other)?;
    let addr = match target.strip_prefix('@') {
        Some(name) => SocketAddr::from_abstract_name(name.as_bytes())?,
        None => SocketAddr::from_pathname(&target)?,
    };
    UnixDatagram::unbound()?.send_to_addr(msg, &addr).map(|_| ())
}

/// Detach from the terminal like Redis's `daemonize yes`.
fn daemonize() {
    // SAFETY: fork/setsid are called before any thread is started, so the child is a
    // complete copy of a single-threaded process.
    unsafe {
        match libc::fork() {
            -1 => {
                eprintln!("fork failed");
                std::process::exit(1);
            }
            0 => {}
            _ => std::process::exit(0),
        }
        libc::setsid();
        let devnull = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if devnull >= 0 {
            libc::dup2(devnull, 0);
            libc::dup2(devnull, 1);
            libc::dup2(devnull, 2);
        }
    }
}
