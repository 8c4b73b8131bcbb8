//! The command registry: every family file's (name, handler) table gathered once into a
//! lookup by name and subcommand, with the ids INFO commandstats and CLIENT LIST use, and
//! resolution of a request to its handler with Redis's errors for unknown commands,
//! unknown subcommands and wrong arity.

use super::ctx::{Ctx, Reply};
use bytes::Bytes;
use hashbrown::HashMap;
use slotbox_protocol::command::{self, CommandSpec};
use slotbox_protocol::frame::errors;
use slotbox_protocol::Frame;
use std::sync::OnceLock;

/// A command handler: arguments include the command name (and subcommand) at the front.
pub type Handler = fn(&mut Ctx, &[Bytes]) -> Reply;

/// A family file's registration table: (full name as in the command table, handler).
pub type Registration = &'static [(&'static str, Handler)];

/// One resolved command.
#[derive(Clone, Copy)]
pub struct Resolved {
    pub spec: &'static CommandSpec,
    pub handler: Handler,
    /// "get", or "client|list" for a subcommand.
    pub full_name: &'static str,
    /// Index into the registered names (CLIENT LIST `cmd=`).
    pub id: u16,
}

static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
static BY_ID: OnceLock<Vec<Resolved>> = OnceLock::new();

/// A registered command by id (a blocked client's command, kept by id below this layer).
pub fn by_id(id: u16) -> Option<Resolved> {
    BY_ID.get().and_then(|v| v.get(id as usize)).copied()
}

/// The full name of a registered command by id ("NULL" for none, as CLIENT LIST shows).
pub fn name_of(id: u16) -> &'static str {
    NAMES.get().and_then(|n| n.get(id as usize)).copied().unwrap_or("NULL")
}

struct Entry {
    top: Option<Resolved>,
    spec: &'static CommandSpec,
    subs: HashMap<&'static str, Resolved>,
}

static REGISTRY: OnceLock<HashMap<&'static str, Entry>> = OnceLock::new();

/// Build the registry from the families' tables (`commands::tables`), once; later calls
/// only check it is there.
pub fn install(tables: impl FnOnce() -> Vec<Registration>) {
    if REGISTRY.get().is_some() {
        return;
    }
    let _ = REGISTRY.get_or_init(|| build(&tables()));
}

fn registry() -> &'static HashMap<&'static str, Entry> {
    REGISTRY.get().expect("commands::tables installs the registry before any lookup")
}

fn build(tables: &[Registration]) -> HashMap<&'static str, Entry> {
    let mut map: HashMap<&'static str, Entry> = HashMap::new();
    let mut names: Vec<&'static str> = Vec::new();
    let mut by_id: Vec<Resolved> = Vec::new();
    for table in tables {
        for &(full, handler) in *table {
            let id = names.len() as u16;
            names.push(full);
            let (top, sub) = match full.split_once('|') {
                Some((t, s)) => (t, Some(s)),
                None => (full, None),
            };
            let spec = command::lookup(top.as_bytes())
                .unwrap_or_else(|| panic!("command '{top}' missing from the command table"));
            let entry = map.entry(spec.name).or_insert(Entry { top: None, spec, subs: HashMap::new() });
            let resolved = match sub {
                None => {
                    let r = Resolved { spec, handler, full_name: full, id };
                    entry.top = Some(r);
                    r
                }
                Some(s) => {
                    let sspec = spec
                        .subcommand(s.as_bytes())
                        .unwrap_or_else(|| panic!("subcommand '{full}' missing from the command table"));
                    let r = Resolved { spec: sspec, handler, full_name: full, id };
                    entry.subs.insert(sspec.name, r);
                    r
                }
            };
            by_id.push(resolved);
        }
    }
    assert!(names.len() <= crate::cmdstats::MAX_COMMANDS, "raise cmdstats::MAX_COMMANDS");
    let _ = NAMES.set(names);
    let _ = BY_ID.set(by_id);
    map
}

/// Every registered command and subcommand spec (COMMAND COUNT / LIST / INFO / DOCS).
pub fn registered() -> Vec<(&'static CommandSpec, Vec<&'static CommandSpec>)> {
    let mut v: Vec<_> = registry()
        .values()
        .map(|e| {
            let mut subs: Vec<_> = e.subs.values().map(|r| r.spec).collect();
            subs.sort_by_key(|s| s.name);
            (e.spec, subs)
        })
        .collect();
    v.sort_by_key(|(s, _)| s.name);
    v
}

/// Is this (lower-case) command name registered?
pub fn is_registered(name: &[u8]) -> bool {
    lookup_entry(name).is_some()
}

/// The last two command names an event loop looked up, as the client spelled them (a pipeline
/// repeats its command, a script pipeline its script and the command in it: the repeat skips
/// lower-casing and hashing).
#[derive(Clone, Copy)]
struct LastName {
    len: u8,
    name: [u8; 16],
    entry: Option<&'static Entry>,
}

thread_local! {
    static LAST_NAMES: std::cell::Cell<[LastName; 2]> =
        const { std::cell::Cell::new([LastName { len: 0, name: [0; 16], entry: None }; 2]) };
}

fn lookup_entry(name: &[u8]) -> Option<&'static Entry> {
    let short = !name.is_empty() && name.len() <= 16;
    if short {
        let hit = LAST_NAMES.with(|c| {
            c.get().iter().find(|l| l.len as usize == name.len() && l.name[..name.len()] == *name).map(|l| l.entry)
        });
        if let Some(entry) = hit {
            return entry;
        }
    }
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        return None;
    }
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    let entry = registry().get(std::str::from_utf8(lower).ok()?);
    if short && entry.is_some() {
        let mut last = LastName { len: name.len() as u8, name: [0; 16], entry };
        last.name[..name.len()].copy_from_slice(name);
        // The newest first, the one before second: a script's command and the script's own
        // (EVALSHA, then INCR inside it) both stay.
        LAST_NAMES.with(|c| c.set([last, c.get()[0]]));
    }
    entry
}

/// Resolve a request to its handler, or the error reply Redis gives.
pub fn resolve(args: &[Bytes]) -> Result<Resolved, Frame> {
    resolve_or_refuse(args).map_err(|(e, _)| e)
}

/// [`resolve`], with the id of a command refused for its arity (INFO commandstats counts it
/// as rejected, as Redis does).
pub(super) fn resolve_or_refuse(args: &[Bytes]) -> Result<Resolved, (Frame, Option<u16>)> {
    let Some(entry) = lookup_entry(&args[0]) else {
        return Err((unknown_command(args), None));
    };
    if !entry.subs.is_empty() && args.len() >= 2 {
        let mut buf = [0u8; 32];
        let sub = &args[1];
        let found = (sub.len() <= buf.len())
            .then(|| {
                let lower = &mut buf[..sub.len()];
                lower.copy_from_slice(sub);
                lower.make_ascii_lowercase();
                std::str::from_utf8(lower).ok().and_then(|s| entry.subs.get(s))
            })
            .flatten();
        return match found {
            Some(r) => {
                if r.spec.arity_ok(args.len()) {
                    Ok(*r)
                } else {
                    Err((Frame::error(errors::wrong_arity(r.full_name)), Some(r.id)))
                }
            }
            None => Err((
                Frame::error(format!(
                    "ERR unknown subcommand '{}'. Try {} HELP.",
                    sanitize(&String::from_utf8_lossy(&sub[..sub.len().min(128)])),
                    entry.spec.name.to_ascii_uppercase()
                )),
                None,
            )),
        };
    }
    let Some(top) = entry.top else {
        return Err((Frame::error(errors::wrong_arity(entry.spec.name)), None));
    };
    if !top.spec.arity_ok(args.len()) {
        return Err((Frame::error(errors::wrong_arity(entry.spec.name)), Some(top.id)));
    }
    Ok(top)
}

/// Redis replaces CR/LF in error messages so the reply stays one line.
fn sanitize(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

pub(super) fn unknown_command(args: &[Bytes]) -> Frame {
    let mut rest = String::new();
    for a in &args[1..] {
        if rest.len() >= 128 {
            break;
        }
        let room = 128 - rest.len();
        // Redis prints arguments with %.*s, which stops at a NUL byte.
        let a = &a[..a.iter().position(|&b| b == 0).unwrap_or(a.len())];
        let s = String::from_utf8_lossy(a);
        let cut: String = s.chars().take(room).collect();
        rest.push_str(&format!("'{cut}' "));
    }
    let name = &args[0][..args[0].iter().position(|&b| b == 0).unwrap_or(args[0].len())];
    let name = String::from_utf8_lossy(name);
    let name: String = name.chars().take(128).collect();
    Frame::error(sanitize(&format!("ERR unknown command '{name}', with args beginning with: {rest}")))
}
