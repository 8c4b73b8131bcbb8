//! `reshard host:port [--cluster-from ids|all] [--cluster-to id] [--cluster-slots n]
//! [--cluster-yes] [--cluster-timeout ms] [--cluster-pipeline n] [--cluster-replace]`:
//! asks for what the flags do not say, prints the plan from `plan::reshard_table`, and moves
//! the slots one by one with their keys (a dot per key). A reshard that was interrupted is
//! finished by `fix`.

use crate::args::{single_host, Options, INVALID_HOST_ARG};
use crate::error::ToolError;
use crate::log;
use crate::manager::Manager;
use crate::plan::reshard_table;
use crate::slot_ops::MoveOpts;
use crate::slots::SLOTS;

/// What to do with a node id given as a reshard source or target.
enum Pick {
    Node(usize),
    /// Not usable but not fatal (the target given as a source).
    Skip,
}

/// redis-cli's `clusterNodeForResharding`.
fn node_for_resharding(m: &Manager, id: &str, target: Option<usize>) -> Result<Pick, ToolError> {
    let Some(n) = m.node_by_name(id).filter(|&n| !m.nodes[n].slave) else {
        log::err(&format!("*** The specified node ({id}) is not known or not a master, please retry."));
        return Err(ToolError::Reported);
    };
    if target.is_some_and(|t| m.nodes[t].name == m.nodes[n].name) {
        log::err("*** It is not possible to use the target node as source node.");
        return Ok(Pick::Skip);
    }
    Ok(Pick::Node(n))
}

/// Ask until the answer is usable; end of input aborts.
fn ask(question: &str) -> Result<String, ToolError> {
    log::prompt(question).ok_or_else(|| {
        log::out("\n");
        log::err("*** End of input, operation aborted.");
        ToolError::Reported
    })
}

fn slots_to_move(opts: &Options) -> Result<usize, ToolError> {
    let mut slots = opts.slots;
    while slots == 0 || slots > SLOTS {
        let answer = ask(&format!("How many slots do you want to move (from 1 to {SLOTS})? "))?;
        slots = answer.trim().parse().unwrap_or(0);
    }
    Ok(slots)
}

/// Source masters from `--cluster-from` or interactively; `all` means every other master.
fn sources(m: &Manager, opts: &Options, target: usize) -> Result<Vec<usize>, ToolError> {
    let mut list = Vec::new();
    let mut all = false;
    let add = |id: &str, list: &mut Vec<usize>| -> Result<bool, ToolError> {
        if id == "all" {
            return Ok(true);
        }
        if let Pick::Node(n) = node_for_resharding(m, id, Some(target))? {
            list.push(n);
        }
        Ok(false)
    };
    match &opts.from {
        Some(from) => {
            for id in from.split(',').filter(|s| !s.is_empty()) {
                if add(id, &mut list)? {
                    all = true;
                    break;
                }
            }
        }
        None => {
            log::out("Please enter all the source node IDs.\n");
            log::out("  Type 'all' to use all the nodes as source nodes for the hash slots.\n");
            log::out("  Type 'done' once you entered all the source nodes IDs.\n");
            loop {
                let id = ask(&format!("Source node #{}: ", list.len() + 1))?;
                if id == "done" {
                    break;
                }
                if add(&id, &mut list)? {
                    all = true;
                    break;
                }
            }
        }
    }
    if all {
        list = m.masters().into_iter().filter(|&n| m.nodes[n].name != m.nodes[target].name).collect();
    }
    Ok(list)
}

pub fn run(opts: &Options) -> Result<(), ToolError> {
    let Some((host, port)) = single_host(&opts.args) else {
        eprintln!("{INVALID_HOST_ARG}");
        return Err(ToolError::Reported);
    };
    let mut m = Manager::load(&host, port, opts)?;
    m.check_cluster(false)?;
    if !m.errors.is_empty() {
        eprintln!("*** Please fix your cluster problems before resharding");
        return Err(ToolError::Reported);
    }
    let slots = slots_to_move(opts)?;
    let mut to = opts.to.clone().unwrap_or_default();
    while to.is_empty() {
        to = ask("What is the receiving node ID? ")?;
    }
    let Pick::Node(target) = node_for_resharding(&m, &to, None)? else {
        return Err(ToolError::Reported);
    };
    let sources = sources(&m, opts, target)?;
    if sources.is_empty() {
        eprintln!("*** No source nodes given, operation aborted.");
        return Err(ToolError::Reported);
    }
    log::out(&format!("\nReady to move {slots} slots.\n  Source nodes:\n"));
    for &s in &sources {
        log::out(&format!("{}\n", m.nodes[s].info_string(4)));
    }
    log::out(&format!("  Destination node:\n{}\n", m.nodes[target].info_string(4)));
    let owned: Vec<Vec<u16>> = sources.iter().map(|&s| m.nodes[s].slots.iter().collect()).collect();
    let table: Vec<(usize, u16)> =
        reshard_table(&owned, slots).into_iter().map(|(i, slot)| (sources[i], slot)).collect();
    log::out("  Resharding plan:\n");
    for &(src, slot) in &table {
        log::out(&format!("    Moving slot {slot} from {}\n", m.nodes[src].name));
    }
    if !opts.yes {
        let answer = log::prompt("Do you want to proceed with the proposed reshard plan (yes/no)? ");
        if !answer.is_some_and(|a| a.starts_with("yes")) {
            return Err(ToolError::Reported);
        }
    }
    for (src, slot) in table {
        m.move_slot(src, target, slot, MoveOpts { verbose: true, ..MoveOpts::default() })?;
    }
    Ok(())
}
