//! `add-node new_host:new_port existing_host:existing_port [--cluster-slave
//! [--cluster-master-id id]]` and `del-node host:port node_id`, like redis-cli: add-node
//! checks the cluster and the new node, copies Redis functions when the cluster has them,
//! MEETs and optionally REPLICATEs; del-node refuses a node that still serves slots, moves
//! its replicas to another master, FORGETs it everywhere and soft-resets it.

use crate::args::{single_host, Options, INVALID_HOST_ARG};
use crate::error::ToolError;
use crate::log;
use crate::manager::{conn, connect, ensure_cluster_node, ensure_empty, load_node_info, report, Manager};
use crate::node::Node;
use slotbox_protocol::Frame;
use std::time::Duration;

fn host_arg(args: &[String]) -> Result<(String, u16), ToolError> {
    single_host(args).ok_or_else(|| {
        eprintln!("{INVALID_HOST_ARG}");
        ToolError::Reported
    })
}

/// The master with fewest replicas (the first of them on a tie), skipping `except`.
fn master_with_least_replicas(m: &Manager, except: Option<usize>) -> Option<usize> {
    let masters = (0..m.nodes.len()).filter(|&i| !m.nodes[i].slave && Some(i) != except);
    masters.min_by_key(|&i| m.nodes[i].replicas_count)
}

/// Copy the cluster's functions (FUNCTION DUMP / RESTORE) to the new node; servers without
/// FUNCTION support are skipped, as redis-cli does.
fn copy_functions(m: &mut Manager, new_node: &mut Node) -> Result<(), ToolError> {
    log::info(">>> Getting functions from cluster");
    let dump = match m.cmd(0, &["FUNCTION", "DUMP"]) {
        Ok(Frame::Bulk(b)) => b,
        Ok(other) => return Err(ToolError::Protocol { addr: m.nodes[0].addr(), reason: format!("{other:?}") }),
        Err(e) if e.is_connection() => return Err(e),
        Err(e) => {
            let msg = e.reply_message().map(str::to_string).unwrap_or_else(|| e.to_string());
            log::info(&format!(
                ">>> Failed retrieving Functions from the cluster, skip this step as Redis version do not \
                 support function command (error = '{msg}')"
            ));
            return Ok(());
        }
    };
    let addr = new_node.addr();
    log::info(&format!(">>> Send FUNCTION LIST to {addr} to verify there is no functions in it"));
    match conn(new_node)?.call_ok(&["FUNCTION", "LIST"]) {
        Ok(Frame::Array(list)) if list.is_empty() => {}
        Ok(_) => {
            log::err(">>> New node already contains functions and can not be added to the cluster. Use FUNCTION FLUSH and try again.");
            return Err(ToolError::Reported);
        }
        Err(e) => {
            log::err(&format!(">>> Failed on CLUSTER LIST (error = '{}')", e.reply_message().unwrap_or("NULL reply")));
            return Err(ToolError::Reported);
        }
    }
    log::info(&format!(">>> Send FUNCTION RESTORE to {addr}"));
    if let Err(e) = conn(new_node)?.call_ok(&[&b"FUNCTION"[..], b"RESTORE", &dump]) {
        log::err(&format!(
            ">>> Failed loading functions to the new node (error = '{}')",
            e.reply_message().unwrap_or("NULL reply")
        ));
        return Err(ToolError::Reported);
    }
    Ok(())
}

/// Connect to the node being added and make sure it is an empty cluster node.
fn open_new_node(host: &str, port: u16, opts: &Options) -> Result<Node, ToolError> {
    let mut node = Node::new(host, port);
    if let Err(e) = connect(&mut node, opts) {
        report(&e);
        log::err(&format!("[ERR] Sorry, can't connect to node {host}:{port}"));
        return Err(ToolError::Reported);
    }
    ensure_cluster_node(&mut node)?;
    load_node_info(&mut node, false)?;
    ensure_empty(&mut node)?;
    Ok(node)
}

pub fn add_node(opts: &Options) -> Result<(), ToolError> {
    let (ref_host, ref_port) = host_arg(&opts.args[1..])?;
    let (host, port) = host_arg(&opts.args[..1])?;
    log::info(&format!(">>> Adding node {host}:{port} to cluster {ref_host}:{ref_port}"));
    let mut m = Manager::load(&ref_host, ref_port, opts)?;
    if !m.check_cluster(false)? {
        return Err(ToolError::Reported);
    }
    let master = if opts.slave {
        let found = match &opts.master_id {
            Some(id) => m.node_by_name(id).ok_or_else(|| {
                log::err(&format!("[ERR] No such master ID {id}"));
                ToolError::Reported
            })?,
            None => {
                let found = master_with_least_replicas(&m, None).ok_or(ToolError::Reported)?;
                log::out(&format!("Automatically selected master {}\n", m.nodes[found].addr()));
                found
            }
        };
        Some(found)
    } else {
        None
    };
    let mut new_node = open_new_node(&host, port, opts)?;
    copy_functions(&mut m, &mut new_node)?;
    log::info(&format!(">>> Send CLUSTER MEET to node {host}:{port} to make it join the cluster."));
    let first = &m.nodes[0];
    let mut meet = vec!["CLUSTER".to_string(), "MEET".into(), first.host.clone(), first.port.to_string()];
    if let Some(bus) = first.bus_port.filter(|&b| b as u32 != first.port as u32 + 10000) {
        meet.push(bus.to_string());
    }
    conn(&mut new_node)?.call_ok(&meet)?;
    m.nodes.push(new_node);
    if let Some(master) = master {
        std::thread::sleep(Duration::from_secs(1));
        m.wait_for_join()?;
        log::info(&format!(">>> Configure node as replica of {}.", m.nodes[master].addr()));
        let id = m.nodes[master].name.clone();
        let last = m.nodes.len() - 1;
        m.cmd(last, &["CLUSTER", "REPLICATE", &id])?;
    }
    log::ok("[OK] New node added correctly.");
    Ok(())
}

pub fn del_node(opts: &Options) -> Result<(), ToolError> {
    let (host, port) = host_arg(&opts.args[..1])?;
    let node_id = opts.args[1].clone();
    log::info(&format!(">>> Removing node {node_id} from cluster {host}:{port}"));
    let mut m = Manager::load(&host, port, opts)?;
    let Some(node) = m.node_by_name(&node_id) else {
        log::err(&format!("[ERR] No such node ID {node_id}"));
        return Err(ToolError::Reported);
    };
    if !m.nodes[node].slots.is_empty() {
        log::err(&format!("[ERR] Node {} is not empty! Reshard data away and try again.", m.nodes[node].addr()));
        return Err(ToolError::Reported);
    }
    log::info(">>> Sending CLUSTER FORGET messages to the cluster...");
    let forget_id = m.nodes[node].name.clone();
    for n in (0..m.nodes.len()).filter(|&n| n != node) {
        if m.nodes[n].replicate.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(&node_id)) {
            let master = master_with_least_replicas(&m, Some(node)).ok_or(ToolError::Reported)?;
            log::info(&format!(">>> {} as replica of {}", m.nodes[n].addr(), m.nodes[master].addr()));
            let id = m.nodes[master].name.clone();
            m.cmd(n, &["CLUSTER", "REPLICATE", &id])?;
        }
        m.cmd(n, &["CLUSTER", "FORGET", &forget_id])?;
    }
    log::info(">>> Sending CLUSTER RESET SOFT to the deleted node.");
    m.cmd(node, &["CLUSTER", "RESET", "SOFT"])?;
    Ok(())
}
