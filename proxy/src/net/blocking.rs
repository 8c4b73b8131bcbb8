//! Blocking commands through the proxy: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
//! BZPOPMAX, BZMPOP (a job queue's workers use them). nutcracker refuses them because a
//! blocked command would hold up every request pipelined behind it on a shared connection;
//! here it goes out on a connection dedicated to the client for as long as it blocks.
//!
//! - The command's keys must live on one backend (one slot in a cluster pool), as for
//!   transactions; otherwise the client gets the same error a transaction would.
//! - As in Redis, the client's later requests wait until the blocking command is answered
//!   (they stay in its input buffer), so nothing it sent afterwards can overtake it.
//! - The pool's `timeout` counts from the end of the command's own timeout; a timeout of 0
//!   (block forever) is never cut short by the proxy.
//! - A client that disconnects while blocked closes its dedicated connection, so the backend
//!   forgets the waiter and serves the next push to someone still listening.
//! - In a cluster pool a MOVED / ASK answer (the command did not run: its slot is elsewhere,
//!   e.g. during a reshard) is followed: the command goes again, on a dedicated connection
//!   to the node named (after ASKING for an ASK), and the client keeps waiting for it.

use super::backend::{encode_request, Role, Waiter};
use super::client::Slot;
use super::client_state::Blocked;
use super::redirect::Redirect;
use super::worker::Worker;
use bytes::Bytes;
use mio::Token;
use slotbox_protocol::Frame;
use std::time::{Duration, Instant};

/// The timeout argument of a blocking command (seconds, fractions allowed; XREAD and
/// XREADGROUP: `BLOCK` milliseconds); `None` for 0
/// (forever) or an argument the backend will refuse anyway (it answers at once then).
pub fn block_timeout(name: &str, args: &[Bytes]) -> Option<Duration> {
    if name == "xread" || name == "xreadgroup" {
        // `BLOCK <ms>` among the options before STREAMS; no BLOCK: it answers at once.
        let opts = args.iter().take_while(|a| !a.eq_ignore_ascii_case(b"streams"));
        let at = opts.clone().position(|a| a.eq_ignore_ascii_case(b"block"))?;
        let ms: u64 = std::str::from_utf8(args.get(at + 1)?).ok()?.parse().ok()?;
        return (ms > 0).then(|| Duration::from_millis(ms));
    }
    let arg = match name {
        "blmpop" | "bzmpop" => args.get(1)?,
        _ => args.last()?,
    };
    let secs: f64 = std::str::from_utf8(arg).ok()?.parse().ok()?;
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)))
}

impl Worker {
    /// Send blocking command `args` (whose keys are at `keys`) on a dedicated connection.
    pub fn block_request(&mut self, ct: Token, name: &str, args: &[Bytes], keys: &[usize]) -> Result<(), Frame> {
        let pi = self.clients[&ct].pool;
        let target = self.common_target(pi, name, args, keys)?;
        let server = target.server.ok_or_else(|| self.no_backend(pi))?;
        let backend = match self.draining_conn(ct, pi, server) {
            // Behind the client's EXEC still running there: take that connection back so
            // the blocking command cannot overtake the transaction.
            Some(b) => {
                let conn = self.backends.get_mut(&b).expect("draining connection exists");
                conn.owner = Some(ct);
                conn.retire = false;
                self.clients.get_mut(&ct).expect("client exists").tx.draining = None;
                b
            }
            None => match self.dedicated_conn(ct, pi, server, Role::Tx) {
                Ok(b) => b,
                Err(e) => {
                    self.pools[pi].on_failure(server, Instant::now());
                    return Err(Frame::error(format!("ERR {e}")));
                }
            },
        };
        let c = self.clients.get_mut(&ct).expect("client exists");
        let seq = c.push(Slot::Waiting);
        let blocked = Blocked { backend, seq, grace: block_timeout(name, args) };
        self.send_blocking(ct, blocked, Bytes::from(encode_request(args)), 0);
        Ok(())
    }

    /// Send the blocking command on `blocked.backend` and note the client waits for it.
    fn send_blocking(&mut self, ct: Token, blocked: Blocked, request: Bytes, redirects: u8) {
        if let Some(c) = self.clients.get_mut(&ct) {
            c.blocked = Some(blocked);
        }
        let waiter = Waiter::Client { client: ct, seq: blocked.seq, part: 0, request: request.clone(), redirects };
        self.send_on(blocked.backend, &request, waiter);
        if let Some(b) = self.backends.get_mut(&blocked.backend) {
            b.block_last(blocked.grace);
        }
    }

    /// The blocking command was answered MOVED / ASK: its connection goes back to the pool
    /// and the command goes again to the node the answer names.
    pub(super) fn block_redirect(
        &mut self,
        pi: usize,
        to: Redirect,
        ct: Token,
        blocked: Blocked,
        request: Bytes,
        redirects: u8,
    ) {
        let server = self.learn_redirect(pi, &to);
        if let Some(c) = self.clients.get_mut(&ct) {
            c.blocked = None;
        }
        self.release(blocked.backend);
        let backend = match self.dedicated_conn(ct, pi, server, Role::Tx) {
            Ok(b) => b,
            Err(e) => {
                self.pools[pi].on_failure(server, Instant::now());
                // Delivering the error unblocks nothing (cleared above): run what waits.
                self.deliver(ct, blocked.seq, 0, Frame::error(format!("ERR {e}")), None);
                return self.serve_input(ct);
            }
        };
        if to.ask {
            self.asking(backend);
        }
        self.send_blocking(ct, Blocked { backend, ..blocked }, request, redirects + 1);
    }

    /// The command client `ct` blocks in was answered: its dedicated connection goes back to
    /// the pool and its waiting requests run.
    pub fn unblock(&mut self, ct: Token) {
        let Some(blocked) = self.clients.get_mut(&ct).and_then(|c| c.blocked.take()) else { return };
        if let Some(b) = self.backends.get_mut(&blocked.backend) {
            if b.owner == Some(ct) {
                self.release(blocked.backend);
            }
        }
        self.serve_input(ct);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(parts: &[&str]) -> Vec<Bytes> {
        parts.iter().map(|p| Bytes::from(p.to_string())).collect()
    }

    #[test]
    fn timeouts_are_read_where_each_command_keeps_them() {
        assert_eq!(block_timeout("blpop", &args(&["BLPOP", "a", "b", "2.5"])), Some(Duration::from_millis(2500)));
        let xread = args(&["XREAD", "COUNT", "2", "block", "1500", "STREAMS", "s", "5"]);
        assert_eq!(block_timeout("xread", &xread), Some(Duration::from_millis(1500)));
        assert_eq!(block_timeout("xread", &args(&["XREAD", "STREAMS", "block", "5"])), None);
        let group = args(&["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]);
        assert_eq!(block_timeout("xreadgroup", &group), None);
        assert_eq!(
            block_timeout("blmove", &args(&["BLMOVE", "a", "b", "LEFT", "RIGHT", "1"])),
            Some(Duration::from_secs(1))
        );
        assert_eq!(block_timeout("blmpop", &args(&["BLMPOP", "3", "1", "a", "LEFT"])), Some(Duration::from_secs(3)));
        assert_eq!(
            block_timeout("bzmpop", &args(&["BZMPOP", "0.5", "1", "z", "MIN"])),
            Some(Duration::from_millis(500))
        );
        assert_eq!(block_timeout("brpop", &args(&["BRPOP", "a", "0"])), None, "0 blocks forever");
        assert_eq!(block_timeout("brpop", &args(&["BRPOP", "a", "soon"])), None);
        assert_eq!(block_timeout("brpop", &args(&["BRPOP", "a", "-1"])), None);
    }
}
