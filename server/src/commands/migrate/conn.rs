//! MIGRATE's connections to target instances: blocking `std::net` sockets with the command's
//! timeout on connect, every read and every write, kept in a small per-thread cache (one per
//! host:port, at most [`CACHE_ITEMS`], closed after [`CACHE_TTL`] idle) as Redis's
//! `migrate_cached_sockets`. A connection is checked out for one MIGRATE and checked back in
//! only if the exchange left it in step; on any I/O error it is simply dropped (closed).
//! This module knows RESP only as far as reading one reply line.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Cached connections per thread (Redis's MIGRATE_SOCKET_CACHE_ITEMS).
const CACHE_ITEMS: usize = 64;
/// Idle time after which a cached connection is closed (Redis's MIGRATE_SOCKET_CACHE_TTL).
const CACHE_TTL: Duration = Duration::from_secs(10);
/// Longest reply line accepted from a target (RESTORE replies are short status lines).
const MAX_LINE: usize = 64 * 1024;

/// One connection to a target instance.
pub struct TargetConn {
    host: Vec<u8>,
    port: Vec<u8>,
    stream: TcpStream,
    /// Bytes read past the last line returned.
    pending: Vec<u8>,
    /// The database the target connection has selected (-1: unknown, SELECT next time).
    pub last_dbid: i64,
    last_use: Instant,
}

/// Why no connection could be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectFail {
    /// Bad address, failed resolution or connect timeout: "error or timeout connecting".
    Connect,
    /// The target refused the connection. Redis 7.0 does not notice this at connect time
    /// (its blocking connect only waits for writability) and reports the failed write that
    /// follows, so MIGRATE treats it as a (retryable) write error.
    Refused,
}

thread_local! {
    static CACHE: RefCell<Vec<TargetConn>> = const { RefCell::new(Vec::new()) };
}

/// A connection to `host:port`: the cached one if any (removed from the cache while in use),
/// else a new one.
pub fn checkout(host: &[u8], port: &[u8], timeout: Duration) -> Result<TargetConn, ConnectFail> {
    let cached = CACHE.with(|c| {
        let mut c = c.borrow_mut();
        c.retain(|t| t.last_use.elapsed() < CACHE_TTL);
        let pos = c.iter().position(|t| t.host == host && t.port == port)?;
        Some(c.swap_remove(pos))
    });
    match cached {
        Some(t) => Ok(t),
        None => connect(host, port, timeout),
    }
}

/// Return a connection that is still in step to the cache (evicting the least recently used
/// one when full).
pub fn checkin(mut conn: TargetConn) {
    conn.last_use = Instant::now();
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_ITEMS {
            if let Some((oldest, _)) = c.iter().enumerate().min_by_key(|(_, t)| t.last_use) {
                c.swap_remove(oldest);
            }
        }
        c.push(conn);
    });
}

/// Close every cached connection of this thread.
#[cfg(test)]
pub fn close_all() {
    CACHE.with(|c| c.borrow_mut().clear());
}

fn connect(host: &[u8], port: &[u8], timeout: Duration) -> Result<TargetConn, ConnectFail> {
    let host_str = std::str::from_utf8(host).map_err(|_| ConnectFail::Connect)?;
    let port_num: u16 = std::str::from_utf8(port).ok().and_then(|p| p.parse().ok()).ok_or(ConnectFail::Connect)?;
    let addrs = (host_str, port_num).to_socket_addrs().map_err(|_| ConnectFail::Connect)?;
    let mut fail = ConnectFail::Connect;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(TargetConn {
                    host: host.to_vec(),
                    port: port.to_vec(),
                    stream,
                    pending: Vec::new(),
                    last_dbid: 0,
                    last_use: Instant::now(),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => fail = ConnectFail::Refused,
            Err(_) => {}
        }
    }
    Err(fail)
}

/// Did this I/O error come from the timeout (no retry then, as Redis on ETIMEDOUT)?
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

impl TargetConn {
    /// Send all of `data`, each write bounded by `timeout`.
    pub fn write_all(&mut self, data: &[u8], timeout: Duration) -> io::Result<()> {
        self.stream.set_write_timeout(Some(timeout))?;
        self.stream.write_all(data)
    }

    /// The next reply line without its CRLF, each read bounded by `timeout`.
    pub fn read_line(&mut self, timeout: Duration) -> io::Result<Vec<u8>> {
        self.stream.set_read_timeout(Some(timeout))?;
        let mut scanned = 0;
        loop {
            if let Some(pos) = self.pending[scanned..].iter().position(|&b| b == b'\n') {
                let end = scanned + pos;
                let mut line: Vec<u8> = self.pending.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            scanned = self.pending.len();
            if scanned > MAX_LINE {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "reply line too long"));
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.pending.extend_from_slice(&chunk[..n]);
        }
    }
}
