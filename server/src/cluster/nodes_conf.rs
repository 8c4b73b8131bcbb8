//! `nodes.conf`: the cluster configuration file, in Redis's format (one CLUSTER NODES line per
//! node, open slots as `[slot->-id]` / `[slot-<-id]` on our own line, then
//! `vars currentEpoch N lastVoteEpoch N`). Written atomically (temp file, fsync, rename) on
//! every configuration change; read back at start so a node keeps its id, slots and peers.

use super::inner::ClusterInner;
use super::node::{flags, valid_node_id, Node};
use hashbrown::HashMap;
use slotbox_protocol::SLOT_COUNT;
use std::io::Write;
use std::path::Path;

/// The CLUSTER NODES text (each line ends with '\n').
pub fn nodes_text(g: &ClusterInner) -> String {
    let mut ids: Vec<&String> = g.nodes.keys().collect();
    ids.sort_by_key(|id| (**id != g.myself, (*id).clone()));
    let mut out = String::new();
    for id in ids {
        let n = &g.nodes[id];
        if n.has(flags::HANDSHAKE) {
            continue;
        }
        let connected = n.has(flags::MYSELF) || n.link_connected;
        out.push_str(&n.describe(connected));
        if *id == g.myself {
            let mut open: Vec<(u16, String)> = Vec::new();
            for (s, to) in &g.migrating {
                open.push((*s, format!("[{s}->-{to}]")));
            }
            for (s, from) in &g.importing {
                open.push((*s, format!("[{s}-<-{from}]")));
            }
            open.sort();
            for (_, o) in open {
                out.push(' ');
                out.push_str(&o);
            }
        }
        out.push('\n');
    }
    out
}

/// The whole file's text.
pub fn file_text(g: &ClusterInner) -> String {
    let mut text = nodes_text(g);
    text.push_str(&format!("vars currentEpoch {} lastVoteEpoch {}\n", g.current_epoch, g.last_vote_epoch));
    text
}

/// Shortest time between two background writes of nodes.conf.
const SAVE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(10);

/// A background writer: `submit` hands over the newest text; a thread writes and fsyncs it,
/// skipping versions superseded while it was busy, so a slow disk never stalls the bus.
pub struct Saver {
    pending: std::sync::Arc<(parking_lot::Mutex<Option<String>>, parking_lot::Condvar)>,
    path: std::path::PathBuf,
}

impl Drop for Saver {
    fn drop(&mut self) {
        if let Some(text) = self.pending.0.lock().take() {
            let _ = write_file(&self.path, &text);
        }
    }
}

impl Saver {
    pub fn new(path: std::path::PathBuf) -> Self {
        let pending = std::sync::Arc::new((parking_lot::Mutex::new(None::<String>), parking_lot::Condvar::new()));
        let p = std::sync::Arc::downgrade(&pending);
        let thread_path = path.clone();
        let _ = std::thread::Builder::new().name("slotbox-nodes-conf".into()).spawn(move || loop {
            let path = &thread_path;
            let Some(p) = p.upgrade() else { return };
            let text = {
                let mut g = p.0.lock();
                if g.is_none() {
                    p.1.wait_for(&mut g, std::time::Duration::from_millis(200));
                }
                g.take()
            };
            if let Some(text) = text {
                if let Err(e) = write_file(path, &text) {
                    crate::log::warning(&format!("Could not save cluster config {}: {e}", path.display()));
                }
                // A burst of changes (a reshard moves a slot every millisecond or so) is
                // written once per SAVE_INTERVAL, always ending with the newest version.
                std::thread::sleep(SAVE_INTERVAL);
            }
        });
        Saver { pending, path }
    }

    pub fn submit(&self, text: String) {
        *self.pending.0.lock() = Some(text);
        self.pending.1.notify_one();
    }
}

/// Write the file atomically and fsync it, now.
pub fn save(path: &Path, g: &ClusterInner) -> std::io::Result<()> {
    write_file(path, &file_text(g))
}

fn write_file(path: &Path, text: &str) -> std::io::Result<()> {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp-{}-{seq}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = std::fs::File::open(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn bad(path: &Path, line_no: usize, why: &str) -> String {
    format!("Unrecoverable error: corrupted cluster config file {} at line {}: {}", path.display(), line_no, why)
}

/// Read the file; `Ok(None)` when it does not exist or is empty.
pub fn load(path: &Path, now: i64) -> Result<Option<ClusterInner>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("Can't read cluster config file {}: {e}", path.display())),
    };
    if text.trim().is_empty() {
        return Ok(None);
    }
    let mut nodes: HashMap<String, Node> = HashMap::new();
    let mut owners: Vec<Option<String>> = vec![None; SLOT_COUNT];
    let mut migrating = HashMap::new();
    let mut importing = HashMap::new();
    let (mut current_epoch, mut last_vote_epoch) = (0u64, 0u64);
    let mut myself = None;
    for (i, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        if words[0] == "vars" {
            for kv in words[1..].chunks(2) {
                if let [k, v] = kv {
                    let v: u64 = v.parse().map_err(|_| bad(path, i + 1, "bad vars value"))?;
                    match *k {
                        "currentEpoch" => current_epoch = v,
                        "lastVoteEpoch" => last_vote_epoch = v,
                        _ => {}
                    }
                }
            }
            continue;
        }
        if words.len() < 8 || !valid_node_id(words[0].as_bytes()) {
            return Err(bad(path, i + 1, "expected a node line"));
        }
        let node = parse_node(&words, now).ok_or_else(|| bad(path, i + 1, "bad node fields"))?;
        for w in &words[8..] {
            parse_slot_token(w, &node.id, &mut owners, &mut migrating, &mut importing)
                .ok_or_else(|| bad(path, i + 1, &format!("bad slot '{w}'")))?;
        }
        if node.has(flags::MYSELF) {
            myself = Some(node.id.clone());
        }
        nodes.insert(node.id.clone(), node);
    }
    let myself = myself.ok_or_else(|| bad(path, 0, "no 'myself' node"))?;
    for (slot, owner) in owners.iter().enumerate() {
        if let Some(n) = owner.as_ref().and_then(|o| nodes.get_mut(o)) {
            n.slots.set(slot as u16);
        }
    }
    let mut inner = ClusterInner::new(myself, nodes, owners, migrating, importing, current_epoch, last_vote_epoch);
    inner.dirty = false;
    Ok(Some(inner))
}

fn parse_node(w: &[&str], now: i64) -> Option<Node> {
    let addr = w[1].split(',').next()?;
    let (hostport, cport) = addr.split_once('@')?;
    let (ip, port) = hostport.rsplit_once(':')?;
    let mut fl = 0u16;
    for f in w[2].split(',') {
        fl |= match f {
            "myself" => flags::MYSELF,
            "master" => flags::MASTER,
            "slave" => flags::SLAVE,
            "fail?" => flags::PFAIL,
            "fail" => flags::FAIL,
            "handshake" => flags::HANDSHAKE,
            "noaddr" => flags::NOADDR,
            "nofailover" => flags::NOFAILOVER,
            "noflags" => 0,
            _ => return None,
        };
    }
    let mut n = Node::new(w[0].to_string(), ip.to_string(), port.parse().ok()?, cport.parse().ok()?, fl, now);
    if w[3] != "-" {
        n.master = Some(w[3].to_string());
    }
    n.config_epoch = w[6].parse().ok()?;
    if fl & flags::FAIL != 0 {
        n.fail_time = now;
    }
    Some(n)
}

fn parse_slot_token(
    w: &str,
    id: &str,
    owners: &mut [Option<String>],
    migrating: &mut HashMap<u16, String>,
    importing: &mut HashMap<u16, String>,
) -> Option<()> {
    if let Some(inner) = w.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
        if let Some((s, to)) = inner.split_once("->-") {
            migrating.insert(s.parse().ok()?, to.to_string());
        } else if let Some((s, from)) = inner.split_once("-<-") {
            importing.insert(s.parse().ok()?, from.to_string());
        } else {
            return None;
        }
        return Some(());
    }
    let (a, b) = match w.split_once('-') {
        Some((a, b)) => (a.parse::<u16>().ok()?, b.parse::<u16>().ok()?),
        None => {
            let s = w.parse::<u16>().ok()?;
            (s, s)
        }
    };
    if a > b || b as usize >= SLOT_COUNT {
        return None;
    }
    for s in a..=b {
        owners[s as usize] = Some(id.to_string());
    }
    Some(())
}
