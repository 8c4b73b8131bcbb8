//! The write stream: every write, as the RESP-encoded command a replica or the AOF must replay
//! (made deterministic by the execution seam: absolute expiry, SPOP as SREM, ...), fanned out
//! to the sinks registered when the server is assembled — the replication backlog and the
//! append-only file. The seam feeds it under the exec gate, so each sink sees the writes in
//! the order they were applied. Neither the stream nor a sink runs a command.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// A consumer of the write stream.
pub trait StreamSink: Send + Sync {
    /// One command: its name (first argument) and its RESP encoding.
    fn feed(&self, name: &[u8], encoded: &[u8]);
}

pub struct WriteStream {
    /// Is anything consuming the stream (a replica attached, this node a replica, persistence
    /// on)? Off, the seam does not encode writes at all (Redis creates its backlog lazily too).
    active: AtomicBool,
    sinks: OnceLock<Box<[Arc<dyn StreamSink>]>>,
    /// The database the stream's commands apply to (-1: unknown, the next command gets a
    /// SELECT). Held while a command is fed, so every sink sees the same order.
    selected: Mutex<i64>,
}

impl Default for WriteStream {
    fn default() -> Self {
        WriteStream { active: AtomicBool::new(false), sinks: OnceLock::new(), selected: Mutex::new(-1) }
    }
}

impl WriteStream {
    /// Set the sinks, once, when the server is assembled.
    pub fn connect(&self, sinks: Vec<Arc<dyn StreamSink>>) {
        let _ = self.sinks.set(sinks.into_boxed_slice());
    }

    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    pub fn activate(&self) {
        self.active.store(true, Ordering::Release);
    }

    /// Append a command of database `db`, preceded by a SELECT when the stream is in another
    /// database (as Redis propagates).
    pub fn feed_in_db<A: AsRef<[u8]>>(&self, db: usize, args: &[A]) {
        let mut selected = self.selected.lock();
        if *selected != db as i64 {
            self.emit(&[&b"SELECT"[..], itoa::Buffer::new().format(db).as_bytes()]);
            *selected = db as i64;
        }
        self.emit(args);
    }

    /// Append a command as is (a replica mirrors its master's stream byte for byte; PING and
    /// REPLCONF need no database). A SELECT moves the stream to its database.
    pub fn feed<A: AsRef<[u8]>>(&self, args: &[A]) {
        let mut selected = self.selected.lock();
        if let [name, db] = args {
            if name.as_ref().eq_ignore_ascii_case(b"select") {
                *selected = std::str::from_utf8(db.as_ref()).ok().and_then(|d| d.parse().ok()).unwrap_or(-1);
            }
        }
        self.emit(args);
    }

    /// The next command gets a SELECT whatever its database (a replica's full sync or an AOF
    /// rewrite starts reading the stream here, from database 0).
    pub fn forget_db(&self) {
        *self.selected.lock() = -1;
    }

    fn emit<A: AsRef<[u8]>>(&self, args: &[A]) {
        let mut out = Vec::with_capacity(64);
        encode(args, &mut out);
        let name = args.first().map_or(&[][..], |a| a.as_ref());
        for sink in self.sinks.get().into_iter().flatten() {
            sink.feed(name, &out);
        }
    }
}

/// RESP array of bulk strings.
fn encode<A: AsRef<[u8]>>(args: &[A], out: &mut Vec<u8>) {
    out.push(b'*');
    out.extend_from_slice(args.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in args {
        let a = a.as_ref();
        out.push(b'$');
        out.extend_from_slice(a.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;

    #[derive(Default)]
    struct Collect(Mutex<Vec<(Vec<u8>, Vec<u8>)>>);

    impl StreamSink for Collect {
        fn feed(&self, name: &[u8], encoded: &[u8]) {
            self.0.lock().push((name.to_vec(), encoded.to_vec()));
        }
    }

    #[test]
    fn every_sink_gets_each_command_encoded() {
        let s = WriteStream::default();
        let (a, b) = (Arc::new(Collect::default()), Arc::new(Collect::default()));
        s.connect(vec![a.clone(), b.clone()]);
        assert!(!s.is_active());
        s.feed(&["SET", "k", "v"]);
        let want = vec![(b"SET".to_vec(), b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n".to_vec())];
        assert_eq!(*a.0.lock(), want);
        assert_eq!(*b.0.lock(), want);
    }

    #[test]
    fn a_command_of_another_database_is_preceded_by_select() {
        let s = WriteStream::default();
        let a = Arc::new(Collect::default());
        s.connect(vec![a.clone()]);
        s.feed_in_db(0, &["SET", "k", "v"]);
        s.feed_in_db(0, &["DEL", "k"]);
        s.feed_in_db(3, &["SET", "k", "v"]);
        s.feed(&["SELECT", "5"]);
        s.feed_in_db(5, &["DEL", "k"]);
        s.forget_db();
        s.feed_in_db(5, &["DEL", "k"]);
        let names: Vec<String> =
            a.0.lock().iter().map(|(n, e)| format!("{}{}", String::from_utf8_lossy(n), e.len())).collect();
        assert_eq!(
            names,
            ["SELECT23", "SET27", "DEL20", "SELECT23", "SET27", "SELECT23", "DEL20", "SELECT23", "DEL20"]
        );
    }
}
