//! The small subcommands: `check` / `fix` (the checks live in `check.rs`), `info`, `call`
//! (one command on every node, each reply printed raw) and `set-timeout` (CONFIG SET
//! cluster-node-timeout + CONFIG REWRITE on every node), with redis-cli's output lines.

use crate::args::{single_host, Options, INVALID_HOST_ARG};
use crate::conn::format_raw;
use crate::error::ToolError;
use crate::log;
use crate::manager::{conn, Manager};

fn load(opts: &Options) -> Result<Manager, ToolError> {
    let Some((host, port)) = single_host(&opts.args) else {
        eprintln!("{INVALID_HOST_ARG}");
        return Err(ToolError::Reported);
    };
    Manager::load(&host, port, opts)
}

/// `check` (and `fix`, which sets `opts.fix`): exit status 1 when problems remain.
pub fn check(opts: &Options) -> Result<(), ToolError> {
    let mut m = load(opts)?;
    m.show_cluster_info();
    match m.check_cluster(false)? {
        true => Ok(()),
        false => Err(ToolError::Reported),
    }
}

pub fn info(opts: &Options) -> Result<(), ToolError> {
    load(opts)?.show_cluster_info();
    Ok(())
}

pub fn call(opts: &Options) -> Result<(), ToolError> {
    let mut m = load(&Options { args: opts.args[..1].to_vec(), ..opts.clone() })?;
    let argv = &opts.args[1..];
    log::log(log::Level::Info, ">>> Calling");
    log::out(&format!(" {}\n", argv.join(" ")));
    for n in &mut m.nodes {
        if (opts.only_masters && n.replicate.is_some()) || (opts.only_replicas && n.replicate.is_none()) {
            continue;
        }
        let addr = n.addr();
        match conn(n).and_then(|c| c.call(argv)) {
            Ok(reply) => log::out(&format!("{addr}: {}\n", format_raw(&reply))),
            Err(_) => log::out(&format!("{addr}: Failed!\n")),
        }
    }
    Ok(())
}

pub fn set_timeout(opts: &Options) -> Result<(), ToolError> {
    let timeout: i64 = opts.args[1].parse().unwrap_or(0);
    if timeout < 100 {
        eprintln!("Setting a node timeout of less than 100 milliseconds is a bad idea.");
        return Err(ToolError::Reported);
    }
    let mut m = load(&Options { args: opts.args[..1].to_vec(), ..opts.clone() })?;
    log::info(">>> Reconfiguring node timeout in every cluster node...");
    let (mut ok, mut failed) = (0, 0);
    let t = timeout.to_string();
    for n in &mut m.nodes {
        let addr = n.addr();
        let result = conn(n).and_then(|c| {
            c.call_ok(&["CONFIG", "SET", "cluster-node-timeout", &t])?;
            c.call_ok(&["CONFIG", "REWRITE"])
        });
        match result {
            Ok(_) => {
                log::warn(&format!("*** New timeout set for {addr}"));
                ok += 1;
            }
            Err(e) => {
                let msg = e.reply_message().map(str::to_string).unwrap_or_default();
                log::err(&format!("ERR setting node-timeout for {addr}: {msg}"));
                failed += 1;
            }
        }
    }
    log::info(&format!(">>> New node timeout set. {ok} OK, {failed} ERR."));
    Ok(())
}
