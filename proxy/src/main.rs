//! The `slotbox-proxy` binary: nutcracker 0.5's command line (`cli.rs`: `-c -t -d -p -o -v -s
//! -a -i -m -D -h -V`) plus `--workers N`, `--metrics-port N` and `--metrics-addr S`. Signals
//! as nutcracker: SIGHUP reopens the log file (and, slotbox's addition, re-reads the config
//! and applies it to the running pools; an invalid file is logged and ignored), SIGUSR1 /
//! SIGUSR2 raise / lower the log level, SIGINT / SIGTERM stop the proxy (the pid file is
//! removed).

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2};
use signal_hook::iterator::Signals;
use slotbox_proxy::cli::{self, Args};
use slotbox_proxy::log::{self, CRIT, EMERG, NOTICE};
use slotbox_proxy::{config, daemon, plog, Options, Proxy};
use std::process::exit;

fn main() {
    let args = match cli::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("slotbox-proxy: {}", e.0);
            eprint!("{}", cli::USAGE);
            exit(1);
        }
    };
    if args.help || args.version || args.describe_stats {
        print!("{}", cli::VERSION_TEXT);
        if args.help {
            print!("\n{}", cli::USAGE);
        } else if args.describe_stats {
            print!("\n{}", cli::DESCRIBE_STATS);
        }
        return;
    }
    let (text, pools) = read_config(&args);
    if args.test {
        println!("slotbox-proxy: configuration file '{}' syntax is ok", args.conf);
        return;
    }
    if let Err(e) = log::init(args.verbosity, args.log_file.as_ref().map(Into::into)) {
        eprintln!("slotbox-proxy: opening log file '{}' failed: {e}", args.log_file.as_deref().unwrap_or_default());
        exit(1);
    }
    if args.daemonize {
        if let Err(e) = daemon::daemonize() {
            eprintln!("slotbox-proxy: daemonize failed: {e}");
            exit(1);
        }
    }
    let _pid_file = args.pid_file.as_ref().map(|p| match daemon::PidFile::create(p.as_ref()) {
        Ok(f) => f,
        Err(e) => fail(&format!("opening pid file '{p}' failed: {e}")),
    });
    // The handlers (they only write to signal-hook's self-pipe) are installed before any
    // thread starts, so SIGHUP never kills the process (its default action) once it runs.
    let mut signals = Signals::new([SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2])
        .unwrap_or_else(|e| fail(&format!("cannot install signal handlers: {e}")));
    let mut proxy = start(&args, &text, pools);
    for sig in signals.forever() {
        match sig {
            SIGHUP => {
                log::reopen();
                reload(&proxy, &args.conf);
            }
            SIGUSR1 => log::level_up(),
            SIGUSR2 => log::level_down(),
            _ => {
                let name = if sig == SIGINT { "SIGINT" } else { "SIGTERM" };
                plog!(EMERG, "signal {sig} ({name}) received, exiting");
                proxy.stop();
                break;
            }
        }
    }
}

/// Log `msg` as critical (also on standard error when the log is a file), then exit 1.
fn fail(msg: &str) -> ! {
    plog!(CRIT, "{msg}");
    if log::has_file() || !log::enabled(CRIT) {
        eprintln!("slotbox-proxy: {msg}");
    }
    exit(1)
}

/// Read and parse the config file; exit 1 with nutcracker's messages when it is bad.
fn read_config(args: &Args) -> (String, Vec<slotbox_proxy::PoolConfig>) {
    let text = match std::fs::read_to_string(&args.conf) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("slotbox-proxy: cannot read configuration file '{}': {e}", args.conf);
            exit(1);
        }
    };
    match config::parse(&text) {
        Ok(p) => (text, p),
        Err(e) => {
            eprintln!("slotbox-proxy: {}: {e}", args.conf);
            if args.test {
                eprintln!("slotbox-proxy: configuration file '{}' syntax is invalid", args.conf);
            }
            exit(1);
        }
    }
}

/// Start the pools, the stats port and the metrics endpoint, logging where each listens.
fn start(args: &Args, text: &str, pools: Vec<slotbox_proxy::PoolConfig>) -> Proxy {
    let opts = Options {
        workers: args.workers,
        stats_addr: Some(format!("{}:{}", args.stats_addr, args.stats_port)),
        stats_interval_ms: args.stats_interval_ms,
        ..Default::default()
    };
    let mut proxy = Proxy::with_pools(pools, opts).unwrap_or_else(|e| fail(&e.to_string()));
    let metrics = args.metrics_port.map(|port| {
        proxy.serve_metrics(&format!("{}:{port}", args.metrics_addr)).unwrap_or_else(|e| fail(&e.to_string()))
    });
    plog!(
        NOTICE,
        "slotbox-proxy-{} (nutcracker-0.5.0 compatible) started on pid {}",
        env!("CARGO_PKG_VERSION"),
        std::process::id()
    );
    for (p, a) in text_pools(text).iter().zip(proxy.listen_addrs()) {
        plog!(NOTICE, "pool '{p}' listening on {a}");
    }
    if let Some(a) = proxy.stats_addr() {
        plog!(NOTICE, "stats on {a}");
    }
    if let Some(a) = metrics {
        plog!(NOTICE, "metrics on http://{a}/metrics");
    }
    proxy
}

/// SIGHUP: re-read `conf` and apply it; a bad file changes nothing.
fn reload(proxy: &Proxy, conf: &str) {
    let text = match std::fs::read_to_string(conf) {
        Ok(t) => t,
        Err(e) => {
            plog!(log::ERR, "reload: cannot read configuration file '{conf}': {e}; keeping the running one");
            return;
        }
    };
    match proxy.reload_yaml(&text) {
        Ok(report) => plog!(NOTICE, "reloaded '{conf}': {report}"),
        Err(e) => plog!(log::ERR, "reload: {conf}: {e}; keeping the running configuration"),
    }
}

fn text_pools(text: &str) -> Vec<String> {
    config::parse(text).map(|p| p.into_iter().map(|p| p.name).collect()).unwrap_or_default()
}
