//! `rebalance host:port [--cluster-weight id=w ...] [--cluster-use-empty-masters]
//! [--cluster-threshold t] [--cluster-simulate] [--cluster-timeout ms] [--cluster-pipeline n]
//! [--cluster-replace]`: plan with `plan::plan_rebalance` and move the slots (a `#` per
//! slot), like redis-cli.

use crate::args::{single_host, Options, INVALID_HOST_ARG};
use crate::error::ToolError;
use crate::log;
use crate::manager::Manager;
use crate::plan::{plan_rebalance, reshard_table, Member, Rebalance};
use crate::slot_ops::MoveOpts;

/// Apply `--cluster-weight id=w` (ids may be abbreviated).
fn apply_weights(m: &mut Manager, weights: &[String]) -> Result<(), ToolError> {
    for w in weights {
        let Some((name, value)) = w.split_once('=') else {
            log::err(&format!("*** Invalid weight {w}"));
            return Err(ToolError::Reported);
        };
        let Some(n) = m.node_by_prefix(name) else {
            log::err(&format!("*** No such master node {name}"));
            return Err(ToolError::Reported);
        };
        m.nodes[n].weight = value.trim().parse().unwrap_or(0.0);
    }
    Ok(())
}

pub fn run(opts: &Options) -> Result<(), ToolError> {
    let Some((host, port)) = single_host(&opts.args) else {
        eprintln!("{INVALID_HOST_ARG}");
        return Err(ToolError::Reported);
    };
    let mut m = Manager::load(&host, port, opts)?;
    apply_weights(&mut m, &opts.weights)?;
    let mut involved = Vec::new();
    for n in m.masters() {
        if !opts.use_empty_masters && m.nodes[n].slots.is_empty() {
            m.nodes[n].weight = 0.0;
            continue;
        }
        involved.push(n);
    }
    m.check_cluster(true)?;
    if !m.errors.is_empty() {
        log::err("*** Please fix your cluster problems before rebalancing");
        return Err(ToolError::Reported);
    }
    let member = |n: &usize| Member { slots: m.nodes[*n].slots.count(), weight: m.nodes[*n].weight };
    let members: Vec<Member> = involved.iter().map(member).collect();
    let Rebalance::Moves { total_weight, balances, moves } = plan_rebalance(&members, opts.threshold) else {
        let t = opts.threshold;
        log::warn(&format!("*** No rebalancing needed! All nodes are within the {t:.2}% threshold."));
        return Ok(());
    };
    let n = involved.len();
    log::info(&format!(">>> Rebalancing across {n} nodes. Total weight = {total_weight:.2}"));
    if opts.verbose {
        for (i, b) in balances {
            log::out(&format!("{} balance is {b} slots\n", m.nodes[involved[i]].addr()));
        }
    }
    for mv in moves {
        move_slots(&mut m, involved[mv.src], involved[mv.dst], mv.slots, opts.simulate)?;
    }
    Ok(())
}

/// Move `count` slots (the first ones it holds) from `src` to `dst`, a `#` per slot.
fn move_slots(m: &mut Manager, src: usize, dst: usize, count: usize, simulate: bool) -> Result<(), ToolError> {
    let (from, to) = (m.nodes[src].addr(), m.nodes[dst].addr());
    log::out(&format!("Moving {count} slots from {from} to {to}\n"));
    let owned: Vec<u16> = m.nodes[src].slots.iter().collect();
    let table = reshard_table(&[owned], count);
    if table.len() != count {
        log::err("*** Assertion failed: Reshard table != number of slots");
        return Err(ToolError::Reported);
    }
    let opts = MoveOpts { quiet: true, update: true, ..MoveOpts::default() };
    for (_, slot) in table {
        if !simulate {
            m.move_slot(src, dst, slot, opts)?;
        }
        log::out("#");
    }
    log::out("\n");
    Ok(())
}
