//! The `slotbox-proxy` binary: nutcracker's command line (`-c conf`, `-t` test the config,
//! `-s` stats port, `-a` stats address) plus `--workers N` and `--metrics-port N`
//! (Prometheus on 127.0.0.1). SIGHUP re-reads the config file and applies it to the running
//! pools (an invalid file is logged and ignored); SIGINT / SIGTERM stop the proxy.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use slotbox_proxy::{config, Options, Proxy};
use std::process::exit;

struct Args {
    conf: String,
    test: bool,
    stats_port: u16,
    stats_addr: String,
    workers: usize,
    metrics_port: Option<u16>,
}

fn usage() -> ! {
    eprintln!(
        "Usage: slotbox-proxy [-t] [-c conf file] [-s stats port] [-a stats addr] [--workers N] [--metrics-port N]\n\
         \n  -t, --test-conf      : test configuration for syntax errors and exit\
         \n  -c, --conf-file=S    : set configuration file (default: conf/nutcracker.yml)\
         \n  -s, --stats-port=N   : set stats monitoring port (default: 22222)\
         \n  -a, --stats-addr=S   : set stats monitoring ip (default: 0.0.0.0)\
         \n  --workers=N          : worker threads (default: one per core)\
         \n  --metrics-port=N     : serve Prometheus metrics on 127.0.0.1:N (GET /metrics)\
         \n\nSIGHUP reloads the configuration file."
    );
    exit(1)
}

fn parse_args() -> Args {
    let mut a = Args {
        conf: "conf/nutcracker.yml".into(),
        test: false,
        stats_port: 22222,
        stats_addr: "0.0.0.0".into(),
        workers: 0,
        metrics_port: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| it.next()).unwrap_or_else(|| usage());
        match flag.as_str() {
            "-t" | "--test-conf" => a.test = true,
            "-c" | "--conf-file" => a.conf = value(),
            "-s" | "--stats-port" => a.stats_port = value().parse().unwrap_or_else(|_| usage()),
            "-a" | "--stats-addr" => a.stats_addr = value(),
            "--workers" => a.workers = value().parse().unwrap_or_else(|_| usage()),
            "--metrics-port" => a.metrics_port = Some(value().parse().unwrap_or_else(|_| usage())),
            "-d" | "--daemonize" | "-D" | "--describe-stats" | "-v" | "--verbose" | "-o" | "--output" | "-p"
            | "--pid-file" | "-m" | "--mbuf-size" | "-i" | "--stats-interval" => {
                if !matches!(flag.as_str(), "-d" | "--daemonize" | "-D" | "--describe-stats") {
                    let _ = value();
                }
            }
            "-h" | "--help" | "-V" | "--version" => usage(),
            _ => usage(),
        }
    }
    a
}

fn main() {
    let args = parse_args();
    let text = match std::fs::read_to_string(&args.conf) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("slotbox-proxy: cannot read configuration file '{}': {e}", args.conf);
            exit(1);
        }
    };
    let pools = match config::parse(&text) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("slotbox-proxy: {}: {e}", args.conf);
            if args.test {
                eprintln!("slotbox-proxy: configuration file '{}' syntax is invalid", args.conf);
            }
            exit(1);
        }
    };
    if args.test {
        println!("slotbox-proxy: configuration file '{}' syntax is ok", args.conf);
        return;
    }
    let opts = Options {
        workers: args.workers,
        stats_addr: Some(format!("{}:{}", args.stats_addr, args.stats_port)),
        ..Default::default()
    };
    // The handlers (they only write to signal-hook's self-pipe) are installed before any
    // thread starts, so SIGHUP never kills the process (its default action) once it runs.
    let mut signals = match Signals::new([SIGHUP, SIGINT, SIGTERM]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("slotbox-proxy: cannot install signal handlers: {e}");
            exit(1);
        }
    };
    let mut proxy = match Proxy::with_pools(pools, opts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("slotbox-proxy: {e}");
            exit(1);
        }
    };
    for (p, a) in text_pools(&text).iter().zip(proxy.listen_addrs()) {
        eprintln!("slotbox-proxy: pool '{p}' listening on {a}");
    }
    if let Some(port) = args.metrics_port {
        match proxy.serve_metrics(&format!("127.0.0.1:{port}")) {
            Ok(a) => eprintln!("slotbox-proxy: metrics on http://{a}/metrics"),
            Err(e) => {
                eprintln!("slotbox-proxy: {e}");
                exit(1);
            }
        }
    }
    for sig in signals.forever() {
        if sig == SIGHUP {
            reload(&proxy, &args.conf);
        } else {
            eprintln!("slotbox-proxy: signal {sig}: stopping");
            proxy.stop();
            exit(0);
        }
    }
}

/// SIGHUP: re-read `conf` and apply it; a bad file changes nothing.
fn reload(proxy: &Proxy, conf: &str) {
    let text = match std::fs::read_to_string(conf) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("slotbox-proxy: reload: cannot read configuration file '{conf}': {e}; keeping the running one");
            return;
        }
    };
    match proxy.reload_yaml(&text) {
        Ok(report) => eprintln!("slotbox-proxy: reloaded '{conf}': {report}"),
        Err(e) => eprintln!("slotbox-proxy: reload: {conf}: {e}; keeping the running configuration"),
    }
}

fn text_pools(text: &str) -> Vec<String> {
    config::parse(text).map(|p| p.into_iter().map(|p| p.name).collect()).unwrap_or_default()
}
