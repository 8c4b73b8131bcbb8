//! `MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password]
//! [AUTH2 username password] [KEYS key [key ...]]`, as Redis 7.0's `migrateCommand`:
//! serialize the keys that exist, send AUTH / SELECT / one RESTORE (RESTORE-ASKING in cluster
//! mode) per key in one pipelined write, read one reply line each, and delete the source keys
//! the target accepted (unless COPY). The keys' slots stay locked by the dispatcher for the
//! whole exchange, which is what makes the move atomic for other clients. One retry on a fresh
//! connection when a cached one turns out dead before anything was processed.

use super::conn::{self, ConnectFail, TargetConn};
use crate::commands::args;
use crate::commands::keys::lookup::read;
use crate::commands::Ctx;
use crate::commands::Reply;
use crate::notify::class;
use crate::store::serialize::dump_value;
use bytes::Bytes;
use slotbox_protocol::Frame;
use std::time::Duration;

/// The parsed request.
struct Request<'a> {
    host: &'a [u8],
    port: &'a [u8],
    db: i64,
    timeout: Duration,
    copy: bool,
    replace: bool,
    username: Option<&'a [u8]>,
    password: Option<&'a [u8]>,
    keys: &'a [Bytes],
}

/// One key to send.
struct Item {
    key: Bytes,
    ttl: i64,
    payload: Vec<u8>,
}

/// How an exchange with the target ended.
enum Failure {
    /// No connection (not retried): "connecting to the client".
    Connect,
    /// A failed write, or a failed read before any RESTORE reply: retried once unless it
    /// was a timeout.
    Early { writing: bool, timeout: bool },
}

pub fn migrate(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let req = parse(args)?;
    let mut items = Vec::new();
    for key in req.keys {
        if let Some(e) = read(ctx.keys, &ctx.shared.stats, key) {
            // Already-expired keys were dropped by the lookup; a due one still gets 1 ms.
            let ttl = if e.expire_at() == 0 { 0 } else { (e.expire_at() - ctx.now_ms).max(1) };
            items.push(Item { key: key.clone(), ttl, payload: dump_value(&e.value) });
        }
    }
    if items.is_empty() {
        return Ok(Frame::simple_static("NOKEY"));
    }
    let asking = ctx.shared.config.read().cluster_enabled;
    let request = encode_request(&req, &items, asking);
    let (restored, reply) = exchange(&req, &request, items.len());
    let mut del = vec![Bytes::from_static(b"DEL")];
    if !req.copy {
        for &i in &restored {
            ctx.keys.remove(&items[i].key);
            ctx.notify(class::GENERIC, "del", &items[i].key);
            del.push(Bytes::copy_from_slice(&items[i].key));
        }
    }
    // Replicas see the effect (the keys left), never a MIGRATE of their own.
    ctx.propagate = Some(if del.len() > 1 { vec![del] } else { Vec::new() });
    Ok(reply)
}

/// Redis's option loop, then the timeout and db (in that order, as Redis checks them).
fn parse(args: &[Bytes]) -> Result<Request<'_>, Frame> {
    let mut req = Request {
        host: &args[1],
        port: &args[2],
        db: 0,
        timeout: Duration::ZERO,
        copy: false,
        replace: false,
        username: None,
        password: None,
        keys: &args[3..4],
    };
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let a = &args[j];
        if args::is(a, "copy") {
            req.copy = true;
        } else if args::is(a, "replace") {
            req.replace = true;
        } else if args::is(a, "auth") && more >= 1 {
            req.password = Some(&args[j + 1]);
            j += 1;
        } else if args::is(a, "auth2") && more >= 2 {
            req.username = Some(&args[j + 1]);
            req.password = Some(&args[j + 2]);
            j += 2;
        } else if args::is(a, "keys") {
            if !args[3].is_empty() {
                return Err(Frame::error_static(
                    "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
                ));
            }
            req.keys = &args[j + 1..];
            break;
        } else {
            return Err(args::syntax_error());
        }
        j += 1;
    }
    let timeout = args::int(&args[5])?;
    req.db = args::int(&args[4])?;
    let ms = if timeout <= 0 { 1000 } else { timeout as u64 };
    req.timeout = Duration::from_millis(ms);
    Ok(req)
}

/// Append one RESP command.
fn push_command(out: &mut Vec<u8>, parts: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", parts.len()).as_bytes());
    for p in parts {
        out.extend_from_slice(format!("${}\r\n", p.len()).as_bytes());
        out.extend_from_slice(p);
        out.extend_from_slice(b"\r\n");
    }
}

/// The RESTORE commands (without AUTH / SELECT, which depend on the connection).
fn encode_request(req: &Request, items: &[Item], asking: bool) -> Vec<u8> {
    let name: &[u8] = if asking { b"RESTORE-ASKING" } else { b"RESTORE" };
    let mut out = Vec::with_capacity(items.iter().map(|i| i.payload.len() + i.key.len() + 64).sum());
    for item in items {
        let ttl = itoa::Buffer::new().format(item.ttl).to_owned();
        let mut parts: Vec<&[u8]> = vec![name, &item.key, ttl.as_bytes(), &item.payload];
        if req.replace {
            parts.push(b"REPLACE");
        }
        push_command(&mut out, &parts);
    }
    out
}

/// Run the exchange (with Redis's single retry). Returns the indices of the items the target
/// restored, and the reply for the client.
fn exchange(req: &Request, restores: &[u8], n: usize) -> (Vec<usize>, Frame) {
    let mut may_retry = true;
    loop {
        match attempt(req, restores, n) {
            Ok(done) => return done,
            Err(Failure::Connect) => {
                return (Vec::new(), Frame::error_static("IOERR error or timeout connecting to the client"));
            }
            Err(Failure::Early { writing, timeout }) => {
                if may_retry && !timeout {
                    may_retry = false;
                    continue;
                }
                return (Vec::new(), io_error(writing));
            }
        }
    }
}

fn io_error(writing: bool) -> Frame {
    Frame::error_static(if writing {
        "IOERR error or timeout writing to target instance"
    } else {
        "IOERR error or timeout reading to target instance"
    })
}

/// One try on one connection.
fn attempt(req: &Request, restores: &[u8], n: usize) -> Result<(Vec<usize>, Frame), Failure> {
    let early = |writing, e: std::io::Error| Failure::Early { writing, timeout: conn::is_timeout(&e) };
    let mut c = match conn::checkout(req.host, req.port, req.timeout) {
        Ok(c) => c,
        Err(ConnectFail::Connect) => return Err(Failure::Connect),
        Err(ConnectFail::Refused) => return Err(Failure::Early { writing: true, timeout: false }),
    };
    let select = c.last_dbid != req.db;
    let mut out = Vec::with_capacity(restores.len() + 64);
    if let Some(pw) = req.password {
        match req.username {
            Some(user) => push_command(&mut out, &[b"AUTH", user, pw]),
            None => push_command(&mut out, &[b"AUTH", pw]),
        }
    }
    if select {
        push_command(&mut out, &[b"SELECT", itoa::Buffer::new().format(req.db).as_bytes()]);
    }
    out.extend_from_slice(restores);
    c.write_all(&out, req.timeout).map_err(|e| early(true, e))?;
    let mut first_error: Option<Vec<u8>> = None;
    if req.password.is_some() {
        let line = c.read_line(req.timeout).map_err(|e| early(false, e))?;
        note_error(&mut first_error, line);
    }
    if select {
        let line = c.read_line(req.timeout).map_err(|e| early(false, e))?;
        note_error(&mut first_error, line);
    }
    read_restore_replies(c, req, n, first_error)
}

/// Keep the first error line (without its '-') seen.
fn note_error(first: &mut Option<Vec<u8>>, line: Vec<u8>) {
    if first.is_none() && line.first() == Some(&b'-') {
        *first = Some(line[1..].to_vec());
    }
}

/// Read the n RESTORE replies. An AUTH / SELECT error makes every key count as failed.
fn read_restore_replies(
    mut c: TargetConn,
    req: &Request,
    n: usize,
    pre_error: Option<Vec<u8>>,
) -> Result<(Vec<usize>, Frame), Failure> {
    let mut restored = Vec::new();
    let mut target_error: Option<Vec<u8>> = None;
    for i in 0..n {
        let line = match c.read_line(req.timeout) {
            Ok(l) => l,
            Err(e) if i == 0 && target_error.is_none() => {
                return Err(Failure::Early { writing: false, timeout: conn::is_timeout(&e) });
            }
            // Some replies were processed: no retry; the connection is dropped.
            Err(_) => {
                let reply = match target_error {
                    Some(text) => relay(&text),
                    None => io_error(false),
                };
                return Ok((restored, reply));
            }
        };
        if pre_error.is_some() || line.first() == Some(&b'-') {
            if target_error.is_none() {
                target_error = Some(pre_error.clone().unwrap_or_else(|| line[1..].to_vec()));
            }
        } else {
            restored.push(i);
        }
    }
    let reply = match target_error {
        Some(text) => {
            c.last_dbid = -1;
            relay(&text)
        }
        None => {
            c.last_dbid = req.db;
            Frame::ok()
        }
    };
    conn::checkin(c);
    Ok((restored, reply))
}

/// A target's error, relayed.
fn relay(text: &[u8]) -> Frame {
    Frame::error(format!("ERR Target instance replied with error: {}", String::from_utf8_lossy(text)))
}
