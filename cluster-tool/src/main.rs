//! `slotbox-cluster`: manage a Redis Cluster (slotbox nodes or real Redis 7 nodes) exactly as
//! with `redis-cli --cluster`: create, check, info, fix, reshard, rebalance, add-node,
//! del-node, call, set-timeout; `ring-sim`, a partitioning simulator; plus the sandbox's own
//! `dashboard` (a live web view) and `chaos` (fault injection on the nodes `make run-cluster`
//! started), which have their own command lines. This file only parses the command line, runs
//! the subcommand and turns the outcome into the exit status (0 on success, 1 on any failure).

mod args;
mod chaos;
mod check;
mod cmd;
mod conn;
mod dash;
mod error;
mod fix;
mod fix_open;
mod log;
mod manager;
mod node;
mod plan;
mod ring_sim;
mod slot_ops;
mod slots;

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().map(String::as_str) == Some("ring-sim") {
        std::process::exit(ring_sim::main(&argv[1..]));
    }
    if argv.first().map(String::as_str) == Some("dashboard") {
        let outcome = dash::parse(&argv[1..]).and_then(dash::run);
        if let Err(e) = outcome {
            eprintln!("{e}");
            std::process::exit(1);
        }
        return;
    }
    if argv.first().map(String::as_str) == Some("chaos") {
        let outcome = chaos::parse(&argv[1..], |k| std::env::var(k).ok()).and_then(chaos::run);
        if let Err(e) = outcome {
            eprintln!("{e}");
            std::process::exit(1);
        }
        return;
    }
    let opts = match args::parse(&argv, |k| std::env::var(k).ok()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{}", e.0);
            std::process::exit(1);
        }
    };
    if opts.command == "help" {
        print!("{}", args::help_text());
        println!("\nSandbox Commands (their own options):");
        for usage in [dash::USAGE, chaos::USAGE] {
            println!("  {}", usage.trim_start_matches("Usage: slotbox-cluster ").replace('\n', "\n  "));
        }
        return;
    }
    if opts.command == "version" {
        println!("slotbox-cluster {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    if opts.password_on_command_line && !opts.no_auth_warning {
        eprintln!("Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.");
    }
    if let Err(e) = cmd::run(&opts) {
        manager::report(&e);
        std::process::exit(1);
    }
}
