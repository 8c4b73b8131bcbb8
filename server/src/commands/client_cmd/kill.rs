//! `CLIENT KILL`: the old form (`CLIENT KILL addr:port`: OK, or "No such client"; it may
//! kill the caller) and the filters (ID, TYPE, USER, ADDR, LADDR, SKIPME, and Redis 7.4's
//! MAXAGE; all given must match; the answer is how many were killed; the caller is skipped
//! unless SKIPME no). Filters match this node's replica links and its link to its master too
//! (each closed by its own thread). Killing another client flags it and asks its event loop to
//! close it; the caller itself is closed after its reply.

use super::common::{all_clients, kind_by_name, kind_of, unknown_type, Kind};
use crate::client::ClientInfo;
use crate::commands::args::{self, is};
use crate::commands::{Ctx, Reply};
use crate::mailbox::WorkerMsg;
use crate::shared::Shared;
use bytes::Bytes;
use slotbox_protocol::Frame;
use std::sync::atomic::Ordering;

/// The filters of `CLIENT KILL`.
#[derive(Default)]
struct KillFilter {
    id: Option<u64>,
    addr: Option<String>,
    laddr: Option<String>,
    kind: Option<Kind>,
    /// USER (only `default` exists): clients of that user, so not the master link.
    user: bool,
    skipme: bool,
    /// Seconds: clients connected at least that long.
    max_age: Option<u64>,
}

impl KillFilter {
    fn matches(&self, c: &ClientInfo, me: u64) -> bool {
        self.id.is_none_or(|id| c.id == id)
            && self.addr.as_ref().is_none_or(|a| *a == c.addr.to_string())
            && self.laddr.as_ref().is_none_or(|a| *a == c.laddr.to_string())
            && self.kind.is_none_or(|k| k == kind_of(c))
            && self.max_age.is_none_or(|age| c.created.elapsed().as_secs() >= age)
            && !(self.skipme && c.id == me)
    }

    /// Does it select one of this master's replica links?
    fn matches_replica(&self, r: &crate::repl::ReplicaInfo) -> bool {
        self.kind.is_none_or(|k| k == Kind::Replica)
            && self.id.is_none_or(|id| r.id == id)
            && self.addr.as_ref().is_none_or(|a| *a == r.addr.to_string())
            && self.laddr.is_none()
            && self.max_age.is_none()
    }

    /// Does it select this replica's link to its master (`TYPE master`, or no filter at all)?
    fn matches_master(&self) -> bool {
        match self.kind {
            Some(k) => k == Kind::Master && self.narrows_nothing_else(),
            None => self.narrows_nothing_else(),
        }
    }

    fn narrows_nothing_else(&self) -> bool {
        self.id.is_none() && self.addr.is_none() && self.laddr.is_none() && !self.user && self.max_age.is_none()
    }
}

/// Parse the filters of `CLIENT KILL <filter> <value> ...`, with Redis's first error.
fn parse_filter(args: &[Bytes]) -> Result<KillFilter, Frame> {
    let mut f = KillFilter { skipme: true, ..KillFilter::default() };
    for pair in args[2..].chunks(2) {
        let [opt, val] = pair else { return Err(args::syntax_error()) };
        let text = || String::from_utf8_lossy(val).into_owned();
        if is(opt, "id") {
            match args::int(val) {
                Ok(id) if id >= 1 => f.id = Some(id as u64),
                _ => return Err(Frame::error_static("ERR client-id should be greater than 0")),
            }
        } else if is(opt, "type") {
            f.kind = Some(kind_by_name(val).ok_or_else(|| unknown_type(val))?);
        } else if is(opt, "addr") {
            f.addr = Some(text());
        } else if is(opt, "laddr") {
            f.laddr = Some(text());
        } else if is(opt, "user") {
            if val.as_ref() != b"default" {
                return Err(Frame::error(format!("ERR No such user '{}'", text())));
            }
            f.user = true;
        } else if is(opt, "skipme") {
            f.skipme = match () {
                _ if is(val, "yes") => true,
                _ if is(val, "no") => false,
                _ => return Err(args::syntax_error()),
            };
        } else if is(opt, "maxage") {
            let age =
                args::int(val).map_err(|_| Frame::error_static("ERR maxage is not an integer or out of range"))?;
            if age <= 0 {
                return Err(Frame::error_static("ERR maxage should be greater than 0"));
            }
            f.max_age = Some(age as u64);
        } else {
            return Err(args::syntax_error());
        }
    }
    Ok(f)
}

pub(super) fn client_kill(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let old_form = args.len() == 3;
    let filter = if old_form {
        KillFilter { addr: Some(String::from_utf8_lossy(&args[2]).into_owned()), ..KillFilter::default() }
    } else {
        parse_filter(args)?
    };
    let me = ctx.client.id();
    let mut killed = 0i64;
    for c in all_clients(ctx.shared).iter().filter(|c| filter.matches(c, me)) {
        if c.id == me {
            ctx.client.close_after_reply = true;
        } else {
            close_other(ctx.shared, c);
        }
        killed += 1;
    }
    killed += kill_replication_links(ctx.shared, &filter);
    Ok(match (old_form, killed) {
        (true, 0) => Frame::error_static("ERR No such client"),
        (true, _) => Frame::ok(),
        (false, n) => Frame::Integer(n),
    })
}

/// Replica links of this master, and this replica's link to its master, that the filter
/// selects: each is closed by its own thread (a replica then reconnects and asks for a partial
/// resync, as with Redis).
fn kill_replication_links(shared: &Shared, filter: &KillFilter) -> i64 {
    let mut killed = 0;
    for r in shared.repl.replicas.lock().iter() {
        if !r.gone.load(Ordering::Relaxed) && filter.matches_replica(r) {
            r.gone.store(true, Ordering::Relaxed);
            killed += 1;
        }
    }
    if filter.matches_master() {
        if let Some(link) = shared.repl.master.lock().as_ref() {
            if link.is_up() {
                link.kill.store(true, Ordering::Relaxed);
                killed += 1;
            }
        }
    }
    killed
}

/// Flag another client as killed and wake its event loop to close it.
fn close_other(shared: &Shared, c: &ClientInfo) {
    c.killed.store(true, Ordering::Relaxed);
    if let Some(w) = shared.workers.get().and_then(|ws| ws.get(c.worker())) {
        w.send(WorkerMsg::Kill(c.id));
    }
}
