//! The invariants, checked once the load has stopped. Each is a [`Check`] with a verdict and
//! a one-paragraph detail for the summary:
//!
//! - no hang: no command (workload, probe, subscriber) went unanswered for the stall bound on
//!   a node that was neither paused nor killed;
//! - healed: within [`HEAL_LIMIT`] every node is up, agrees on the slots, says
//!   `cluster_state:ok`, and every master has a replica whose link is up and listed online;
//! - `slotbox-cluster check` passes with all 16384 slots covered;
//! - converged: within [`CONVERGE_LIMIT`] each replica reports its master's offset and the
//!   same `DEBUG DIGEST` (on a mismatch, the keys that differ are listed);
//! - no write acknowledged by `WAIT 1` was lost;
//! - every operation completed within the retry bound, with no unexpected error reply;
//! - the fault runner met nothing unexpected (every failover happened, every heal in time);
//! - the subscriber received published messages.

use crate::client::{cmd, ClusterClient};
use crate::common::{encode_command, text, RawClient};
use crate::faults::HEAL_LIMIT;
use crate::journal::{Counts, Journal};
use crate::nodes::Cluster;
use crate::topology::{health, info_field, View};
use crate::workload::Ledger;
use slotbox::protocol::{key_hash_slot, Frame};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long replicas may take to reach their master's data after the load stops.
pub const CONVERGE_LIMIT: Duration = Duration::from_secs(30);

pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

fn check(name: &'static str, ok: bool, detail: impl Into<String>) -> Check {
    Check { name, ok, detail: detail.into() }
}

/// Run every check, in order.
pub fn run_all(cluster: &Arc<Cluster>, journal: &Arc<Journal>, ledger: &Ledger, watchers: &Counts) -> Vec<Check> {
    let mut out = vec![no_hang(journal)];
    let healed = healed(cluster);
    let view = healed.as_ref().ok().cloned();
    out.push(match healed {
        Ok(_) => check("healed: no replica detached, cluster ok", true, "every replica's link up and listed online"),
        Err(e) => check("healed: no replica detached, cluster ok", false, e),
    });
    out.push(tool_check(cluster));
    out.push(converged(cluster, view));
    out.push(acked_writes(cluster, journal, ledger));
    let (gave_up, samples) = journal.gave_up_ops();
    out.push(check("every operation completed within the retry bound", gave_up == 0, samples.join("\n")));
    let unexpected = journal.unexpected_replies();
    out.push(check("no unexpected error reply", unexpected.is_empty(), unexpected.join("\n")));
    let findings = journal.findings();
    out.push(check("faults: failovers, restarts and heals as expected", findings.is_empty(), findings.join("\n")));
    let received = watchers.get("received");
    out.push(check("pub/sub: the subscriber received messages", received > 0, format!("{received} received")));
    out
}

fn no_hang(journal: &Journal) -> Check {
    let (stalls, excused) = journal.stalls();
    let detail = format!(
        "{} stalls; {excused} unanswered commands excused (node paused or killed)\n{}",
        stalls.len(),
        stalls.join("\n")
    );
    check("no hang anywhere", stalls.is_empty(), detail.trim_end())
}

fn healed(cluster: &Cluster) -> Result<View, String> {
    let started = Instant::now();
    loop {
        match health(cluster) {
            Ok(v) => return Ok(v),
            Err(e) if started.elapsed() > HEAL_LIMIT => return Err(format!("after {} s: {e}", HEAL_LIMIT.as_secs())),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

fn tool_check(cluster: &Cluster) -> Check {
    let started = Instant::now();
    let args = vec!["check".to_string(), cluster.hostport(0)];
    loop {
        let (ok, out) = cluster.tool(&args, Duration::from_secs(60));
        let covered = out.contains("[OK] All 16384 slots covered.");
        if ok && covered {
            return check("slotbox-cluster check: all 16384 slots covered", true, "");
        }
        if started.elapsed() > Duration::from_secs(30) {
            return check("slotbox-cluster check: all 16384 slots covered", false, out);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn digest(cluster: &Cluster, i: usize) -> Result<String, String> {
    Ok(text(&cluster.call(i, &["DEBUG", "DIGEST"])?))
}

fn offset(cluster: &Cluster, i: usize) -> Result<String, String> {
    Ok(info_field(&text(&cluster.call(i, &["INFO", "replication"])?), "master_repl_offset"))
}

/// One master and one replica at the same offset with the same digest?
fn same_data(cluster: &Cluster, m: usize, r: usize) -> Result<String, String> {
    let before = offset(cluster, m)?;
    let (dm, dr) = (digest(cluster, m)?, digest(cluster, r)?);
    let (after, roff) = (offset(cluster, m)?, offset(cluster, r)?);
    if before == after && after == roff && dm == dr {
        Ok(dm)
    } else {
        Err(format!("offsets {before}/{after} vs {roff}, digests {dm} vs {dr}"))
    }
}

fn converged(cluster: &Cluster, view: Option<View>) -> Check {
    const NAME: &str = "converged: every replica holds its master's data (DEBUG DIGEST)";
    let Some(view) = view.or_else(|| View::any(cluster).ok()) else {
        return check(NAME, false, "no view of the cluster");
    };
    match replicas_match(cluster, &view) {
        Ok(lines) => check(NAME, true, lines.join("\n")),
        Err(lines) => check(NAME, false, lines.join("\n")),
    }
}

/// Does every replica in `view` reach its master's offset with the same DEBUG DIGEST within
/// [`CONVERGE_LIMIT`] (the writes having stopped)? One line per pair; on a mismatch, the
/// keys that differ too.
pub fn replicas_match(cluster: &Cluster, view: &View) -> Result<Vec<String>, Vec<String>> {
    let mut lines = Vec::new();
    let mut ok = true;
    for m in view.masters() {
        for r in view.replicas_of(&m.id) {
            let (Some(mi), Some(ri)) = (cluster.index_of(m.port), cluster.index_of(r.port)) else { continue };
            let started = Instant::now();
            let result = loop {
                match same_data(cluster, mi, ri) {
                    Ok(d) => break Ok(d),
                    Err(e) if started.elapsed() > CONVERGE_LIMIT => break Err(e),
                    Err(_) => std::thread::sleep(Duration::from_millis(250)),
                }
            };
            let limit = CONVERGE_LIMIT.as_secs();
            match result {
                Ok(d) => lines.push(format!("127.0.0.1:{} = 127.0.0.1:{}: {d}", m.port, r.port)),
                Err(e) => {
                    ok = false;
                    lines.push(format!("127.0.0.1:{} != 127.0.0.1:{} after {limit} s: {e}", m.port, r.port));
                    lines.extend(diff_keys(cluster, mi, ri));
                }
            }
        }
    }
    if ok {
        Ok(lines)
    } else {
        Err(lines)
    }
}

/// Send `cmds` pipelined (in chunks) and return their replies; None on an I/O error.
fn pipeline(c: &mut RawClient, cmds: &[Vec<String>]) -> Option<Vec<Frame>> {
    let mut out = Vec::with_capacity(cmds.len());
    for chunk in cmds.chunks(1000) {
        let bytes: Vec<u8> = chunk.iter().flat_map(|a| encode_command(a)).collect();
        c.try_send_raw(&bytes).ok()?;
        for _ in chunk {
            out.push(c.try_read_reply().ok()?.0);
        }
    }
    Some(out)
}

/// Keys of `slot` (CLUSTER GETKEYSINSLOT: the live ones).
fn slot_keys(c: &mut RawClient, slot: usize) -> Vec<String> {
    let reply = pipeline(c, &[vec!["CLUSTER".into(), "GETKEYSINSLOT".into(), slot.to_string(), "100000".into()]]);
    match reply.as_deref() {
        Some([Frame::Array(keys)]) => keys.iter().map(text).collect(),
        _ => Vec::new(),
    }
}

/// Why a master and its replica differ: DBSIZE on both, the slots whose key counts differ
/// and the keys only one side has, then keys whose value digest or expiry differs (up to 10
/// of each). Runs after the comparison failed (PEXPIRETIME may reclaim an expired key).
fn diff_keys(cluster: &Cluster, m: usize, r: usize) -> Vec<String> {
    let connect = |i: usize| RawClient::try_connect(cluster.nodes[i].addr()).ok();
    let (Some(mut cm), Some(mut cr)) = (connect(m), connect(r)) else { return vec!["  (cannot connect)".into()] };
    let counts: Vec<Vec<String>> =
        (0..16384).map(|s| vec!["CLUSTER".into(), "COUNTKEYSINSLOT".into(), s.to_string()]).collect();
    let (Some(a), Some(b)) = (pipeline(&mut cm, &counts), pipeline(&mut cr, &counts)) else {
        return vec!["  (I/O error while comparing)".into()];
    };
    let dbsize = |c: &mut RawClient| pipeline(c, &[vec!["DBSIZE".into()]]).map(|f| format!("{:?}", f[0]));
    let mut out = vec![format!("  DBSIZE master {:?} replica {:?}", dbsize(&mut cm), dbsize(&mut cr))];
    let slots: Vec<usize> = (0..16384).filter(|&s| a[s] != b[s]).collect();
    out.push(format!("  {} slots with different key counts: {:?}", slots.len(), &slots[..slots.len().min(20)]));
    let mut common = Vec::new();
    for (n, s) in (0..16384).filter(|&s| a[s] != Frame::Integer(0)).enumerate() {
        let (km, kr) = (slot_keys(&mut cm, s), slot_keys(&mut cr, s));
        if n < 5 || slots.contains(&s) {
            let only_m: Vec<&String> = km.iter().filter(|k| !kr.contains(k)).take(5).collect();
            let only_r: Vec<&String> = kr.iter().filter(|k| !km.contains(k)).take(5).collect();
            if !only_m.is_empty() || !only_r.is_empty() {
                out.push(format!("  slot {s}: only on master {only_m:?}, only on replica {only_r:?}"));
            }
        }
        common.extend(km.into_iter().filter(|k| kr.contains(k)));
    }
    let probe: Vec<Vec<String>> = common
        .iter()
        .flat_map(|k| [vec!["DEBUG".into(), "DIGEST-VALUE".into(), k.clone()], vec!["PEXPIRETIME".into(), k.clone()]])
        .collect();
    let _ = pipeline(&mut cr, &[vec!["READONLY".into()]]);
    let (Some(va), Some(vb)) = (pipeline(&mut cm, &probe), pipeline(&mut cr, &probe)) else { return out };
    let differing = common.iter().enumerate().filter(|(i, _)| va[2 * i..2 * i + 2] != vb[2 * i..2 * i + 2]);
    for (i, k) in differing.take(10) {
        let (x, y) = (&va[2 * i..2 * i + 2], &vb[2 * i..2 * i + 2]);
        out.push(format!("  key {k:?}: master {x:?} / replica {y:?}"));
    }
    out
}

fn acked_writes(cluster: &Arc<Cluster>, journal: &Arc<Journal>, ledger: &Ledger) -> Check {
    let entries = ledger.lock().unwrap().clone();
    let mut client = ClusterClient::new(cluster.clone(), journal.clone());
    let mut lost = Vec::new();
    for (key, value) in &entries {
        let got = client.one(key_hash_slot(key.as_bytes()), cmd(&["GET", key]));
        if !matches!(&got, Ok(Frame::Bulk(b)) if b[..] == value[..]) {
            lost.push(format!("{key}: wrote {:?}, read {got:?}", String::from_utf8_lossy(value)));
        }
    }
    let mut detail = format!("{} acknowledged writes, {} lost", entries.len(), lost.len());
    lost.iter().take(10).for_each(|l| detail.push_str(&format!("\n  {l}")));
    check("no write acknowledged by WAIT lost", lost.is_empty(), detail)
}
