//! MONITOR: every command the server runs, as one status line per command sent to each
//! monitoring client's event loop (`+<unix time>.<µs> [0 <ip:port>] "arg" "arg"...`, as
//! Redis prints it). Commands flagged `admin` or `skip_monitor` are not shown, passwords are
//! redacted (see `cmdstats::redacted`). With nobody monitoring it costs one atomic load per
//! command.

use crate::core::Core;
use crate::mailbox::WorkerMsg;
use crate::pubsub::Subscriber;
use bytes::Bytes;
use parking_lot::RwLock;
use slotbox_protocol::decode::repr;
use slotbox_protocol::Frame;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The monitoring clients.
#[derive(Default)]
pub struct Monitors {
    list: RwLock<Vec<Subscriber>>,
    count: AtomicUsize,
}

impl Monitors {
    /// Is anybody monitoring?
    #[inline]
    pub fn any(&self) -> bool {
        self.count.load(Ordering::Relaxed) > 0
    }

    pub fn add(&self, m: Subscriber) {
        let mut list = self.list.write();
        list.push(m);
        self.count.store(list.len(), Ordering::Relaxed);
    }

    pub fn remove(&self, client_id: u64) {
        let mut list = self.list.write();
        list.retain(|m| m.client_id != client_id);
        self.count.store(list.len(), Ordering::Relaxed);
    }

    /// Show command `args` (of full name `full_name`), run at `time_us` by the client at
    /// `addr`, to every monitor.
    pub fn feed(&self, core: &Core, full_name: &str, args: &[Bytes], time_us: i64, addr: &str) {
        let Some(workers) = core.workers.get() else { return };
        let line =
            Arc::new(Frame::Simple(Bytes::from(line(time_us, addr, &crate::cmdstats::redacted(full_name, args)))));
        for m in self.list.read().iter() {
            workers[m.worker].send(WorkerMsg::Deliver(m.client_id, line.clone()));
        }
    }
}

/// `1339518083.107412 [0 127.0.0.1:60866] "keys" "*"`.
pub fn line(time_us: i64, addr: &str, args: &[Bytes]) -> String {
    let mut out = format!("{}.{:06} [0 {addr}]", time_us / 1_000_000, time_us % 1_000_000);
    for a in args {
        out.push(' ');
        out.push_str(&repr(a));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_quote_like_redis() {
        let args = [Bytes::from("SET"), Bytes::from("a\nb"), Bytes::from(&b"\x00\"\\\xff"[..])];
        assert_eq!(
            line(1_795_933_238_332_522, "127.0.0.1:34278", &args),
            r#"1795933238.332522 [0 127.0.0.1:34278] "SET" "a\nb" "\x00\"\\\xff""#
        );
        assert_eq!(line(5_000_007, "h:1", &[Bytes::from("PING")]), r#"5.000007 [0 h:1] "PING""#);
    }
}
