//! `slotbox-cluster`: manage a Redis Cluster (slotbox nodes or real Redis 7 nodes) exactly as
//! with `redis-cli --cluster`: create, check, info, fix, reshard, rebalance, add-node,
//! del-node, call, set-timeout; and `ring-sim`, a partitioning simulator. This file only parses the command line, runs the subcommand
//! and turns the outcome into the exit status (0 on success, 1 on any failure).

mod args;
mod check;
mod cmd;
mod conn;
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
    let opts = match args::parse(&argv, |k| std::env::var(k).ok()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{}", e.0);
            std::process::exit(1);
        }
    };
    if opts.command == "help" {
        print!("{}", args::help_text());
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
