//! `create host1:port1 ... hostN:portN [--cluster-replicas N] [--cluster-yes]`: check that
//! every node is an empty cluster node, print the layout planned by `plan::plan_create`,
//! ask for confirmation, then ADDSLOTS, SET-CONFIG-EPOCH, MEET, wait for the nodes to agree,
//! REPLICATE, and finish with a full check. Same lines as redis-cli.

use crate::args::Options;
use crate::error::ToolError;
use crate::log;
use crate::manager::{conn, connect, ensure_cluster_node, ensure_empty, load_node_info, report, Manager};
use crate::node::Node;
use crate::plan::{anti_affinity_message, masters_count, plan_create, CreateStep, Rng};
use std::time::Duration;

/// Parse `host:port[@busport]`.
fn parse_create_address(addr: &str) -> Option<Node> {
    let (hostport, bus) = match addr.rsplit_once('@') {
        Some((hp, b)) => (hp, b.parse().ok()),
        None => (addr, None),
    };
    let (host, port) = hostport.rsplit_once(':')?;
    let mut node = Node::new(host, port.parse().ok()?);
    node.bus_port = bus;
    Some(node)
}

/// Connect to every node given and make sure each is an empty cluster node.
fn open_nodes(opts: &Options) -> Result<Vec<Node>, ToolError> {
    let mut nodes = Vec::with_capacity(opts.args.len());
    for addr in &opts.args {
        let Some(mut node) = parse_create_address(addr) else {
            eprintln!("Invalid address format: {addr}");
            return Err(ToolError::Reported);
        };
        connect(&mut node, opts)?;
        ensure_cluster_node(&mut node)?;
        load_node_info(&mut node, false)?;
        ensure_empty(&mut node)?;
        nodes.push(node);
    }
    Ok(nodes)
}

pub fn run(opts: &Options) -> Result<(), ToolError> {
    let mut m = Manager::new(opts);
    m.nodes = open_nodes(opts)?;
    let (n, replicas) = (m.nodes.len(), opts.replicas);
    if masters_count(n, replicas) < 3 {
        log::err(&format!(
            "*** ERROR: Invalid configuration for cluster creation.\n*** Redis Cluster requires at least 3 \
             master nodes.\n*** This is not possible with {n} nodes and {replicas} replicas per node."
        ));
        log::err(&format!("*** At least {} nodes are required.", 3 * (replicas + 1)));
        return Err(ToolError::Reported);
    }
    log::info(&format!(">>> Performing hash slots allocation on {n} nodes..."));
    apply_plan(&mut m, replicas);
    m.show_nodes();
    if !log::confirm("Can I set the above configuration?", opts.yes) {
        return Ok(());
    }
    for i in 0..m.nodes.len() {
        flush_node_config(&mut m.nodes[i])?;
    }
    log::info(">>> Nodes configuration updated");
    log::info(">>> Assign a different config epoch to each node");
    for (i, node) in m.nodes.iter_mut().enumerate() {
        let _ = conn(node)?.call(&["CLUSTER", "SET-CONFIG-EPOCH", &(i + 1).to_string()]);
    }
    log::info(">>> Sending CLUSTER MEET messages to join the cluster");
    meet_first(&mut m)?;
    // Give the handshakes a moment so the nodes do not "agree" while still alone.
    std::thread::sleep(Duration::from_millis(500));
    m.wait_for_join()?;
    for i in 0..m.nodes.len() {
        if m.nodes[i].dirty {
            flush_node_config(&mut m.nodes[i])?;
        }
    }
    let (host, port) = (m.nodes[0].host.clone(), m.nodes[0].port);
    drop(m);
    let mut loaded = Manager::load(&host, port, opts)?;
    loaded.check_cluster(false)?;
    Ok(())
}

/// Plan the layout, print it the way redis-cli does and record it in the nodes.
fn apply_plan(m: &mut Manager, replicas: usize) {
    let hosts: Vec<String> = m.nodes.iter().map(|n| n.host.clone()).collect();
    let seed =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1);
    let plan = plan_create(&hosts, replicas, &mut Rng::new(seed)).expect("at least 3 masters checked");
    for (i, (&master, &(first, last))) in plan.masters.iter().zip(&plan.ranges).enumerate() {
        log::out(&format!("Master[{i}] -> Slots {first} - {last}\n"));
        m.nodes[master].slots.insert_range(first, last);
        m.nodes[master].dirty = true;
    }
    for step in &plan.steps {
        match step {
            CreateStep::Replica { replica, master } => {
                log::out(&format!("Adding replica {} to {}\n", m.nodes[*replica].addr(), m.nodes[*master].addr()))
            }
            CreateStep::ExtraReplicas => log::out("Adding extra replicas...\n"),
        }
    }
    if let Some(score) = plan.optimized_score {
        log::info(">>> Trying to optimize slaves allocation for anti-affinity");
        match anti_affinity_message(score) {
            (msg, true) => log::warn(msg),
            (msg, false) => log::ok(msg),
        }
    }
    for (r, master) in plan.replica_of.iter().enumerate() {
        if let Some(master) = master {
            m.nodes[r].replicate = Some(m.nodes[*master].name.clone());
            m.nodes[r].dirty = true;
        }
    }
}

/// Send a node its planned configuration: ADDSLOTS for a master, REPLICATE for a replica.
/// A replica may not know its master before the cluster joined: it stays dirty for later.
fn flush_node_config(node: &mut Node) -> Result<(), ToolError> {
    if !node.dirty {
        return Ok(());
    }
    if let Some(master) = node.replicate.clone() {
        if conn(node)?.call_ok(&["CLUSTER", "REPLICATE", &master]).is_ok() {
            node.dirty = false;
        }
        return Ok(());
    }
    let mut args = vec!["CLUSTER".to_string(), "ADDSLOTS".to_string()];
    args.extend(node.slots.iter().map(|s| s.to_string()));
    conn(node)?.call_ok(&args)?;
    node.dirty = false;
    Ok(())
}

/// Every node but the first meets the first one.
fn meet_first(m: &mut Manager) -> Result<(), ToolError> {
    let first = &m.nodes[0];
    let mut meet = vec!["CLUSTER".to_string(), "MEET".into(), first.host.clone(), first.port.to_string()];
    if let Some(bus) = first.bus_port.filter(|&b| b as u32 != first.port as u32 + 10000) {
        meet.push(bus.to_string());
    }
    for node in m.nodes.iter_mut().skip(1) {
        if let Err(e) = conn(node)?.call_ok(&meet) {
            report(&e);
            return Err(ToolError::Reported);
        }
    }
    Ok(())
}
