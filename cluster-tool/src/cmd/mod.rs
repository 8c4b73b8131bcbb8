//! The subcommands: each file does the I/O of one (or a few small) subcommand(s) on top of
//! `Manager`, with the planning done in `plan.rs`.

mod create;
mod membership;
mod misc;
mod rebalance;
mod reshard;

use crate::args::Options;
use crate::error::ToolError;

/// Run the subcommand named in `opts`.
pub fn run(opts: &Options) -> Result<(), ToolError> {
    match opts.command.as_str() {
        "create" => create::run(opts),
        "check" => misc::check(opts),
        "fix" => misc::check(&Options { fix: true, ..opts.clone() }),
        "info" => misc::info(opts),
        "reshard" => reshard::run(opts),
        "rebalance" => rebalance::run(opts),
        "add-node" => membership::add_node(opts),
        "del-node" => membership::del_node(opts),
        "call" => misc::call(opts),
        "set-timeout" => misc::set_timeout(opts),
        other => unreachable!("subcommand {other} passed validation"),
    }
}
