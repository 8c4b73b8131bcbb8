//! The `slotbox-proxy` binary: nutcracker's command line (`-c conf`, `-t` test the config,
//! `-s` stats port, `-a` stats address) plus `--workers N`. Runs until SIGINT/SIGTERM.

use slotbox_proxy::{config, Options, Proxy};
use std::process::exit;

struct Args {
    conf: String,
    test: bool,
    stats_port: u16,
    stats_addr: String,
    workers: usize,
}

fn usage() -> ! {
    eprintln!(
        "Usage: slotbox-proxy [-t] [-c conf file] [-s stats port] [-a stats addr] [--workers N]\n\
         \n  -t, --test-conf      : test configuration for syntax errors and exit\
         \n  -c, --conf-file=S    : set configuration file (default: conf/nutcracker.yml)\
         \n  -s, --stats-port=N   : set stats monitoring port (default: 22222)\
         \n  -a, --stats-addr=S   : set stats monitoring ip (default: 0.0.0.0)\
         \n  --workers=N          : worker threads (default: one per core)"
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
    let opts = Options { workers: args.workers, stats_addr: Some(format!("{}:{}", args.stats_addr, args.stats_port)) };
    let proxy = match Proxy::with_pools(pools, opts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("slotbox-proxy: {e}");
            exit(1);
        }
    };
    for (p, a) in text_pools(&text).iter().zip(proxy.addrs()) {
        eprintln!("slotbox-proxy: pool '{p}' listening on {a}");
    }
    loop {
        std::thread::park();
    }
}

fn text_pools(text: &str) -> Vec<String> {
    config::parse(text).map(|p| p.into_iter().map(|p| p.name).collect()).unwrap_or_default()
}
