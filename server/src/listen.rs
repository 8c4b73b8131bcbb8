//! A server's listening sockets: bound from `bind` / `port` as Redis binds them (`*` and
//! `::*` for every address, a `-` prefix for an address that may be missing, no address for
//! the default `* -::*`), registered with the acceptor's poll under tokens 0..n, and replaced
//! whole at run time (CONFIG SET port / bind). Knows nothing of clients.

use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Registry, Token};
use parking_lot::Mutex;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Resolve one `bind` entry ("*", "::*", "-::*", a host or an IP) for `port`.
fn bind_addrs(entry: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let host = match entry.trim_start_matches('-') {
        "*" => "0.0.0.0",
        "::*" => "::",
        h => h,
    };
    Ok((host, port).to_socket_addrs()?.collect())
}

/// Bind every address; an optional (`-`) address that fails is skipped. With port 0 the
/// first socket's port is used for the others.
pub fn bind_all(bind: &[String], port: u16) -> io::Result<Vec<TcpListener>> {
    let default: Vec<String> = vec!["*".into(), "-::*".into()];
    let bind = if bind.is_empty() { &default[..] } else { bind };
    let mut listeners = Vec::new();
    let mut port = port;
    for b in bind {
        let optional = b.starts_with('-');
        let addrs = match bind_addrs(b, port) {
            Ok(a) => a,
            Err(_) if optional => continue,
            Err(e) => return Err(e),
        };
        for addr in addrs {
            match TcpListener::bind(addr) {
                Ok(l) => {
                    if port == 0 {
                        port = l.local_addr()?.port();
                    }
                    listeners.push(l);
                }
                Err(_) if optional => {}
                Err(e) => {
                    let msg = format!("Could not create server TCP listening socket {addr}: {e}");
                    return Err(io::Error::new(e.kind(), msg));
                }
            }
        }
    }
    if listeners.is_empty() {
        return Err(io::Error::new(io::ErrorKind::AddrNotAvailable, "no address to listen on"));
    }
    Ok(listeners)
}

/// The sockets a server listens on, registered with its acceptor's poll.
pub struct Listeners {
    registry: Registry,
    sockets: Mutex<Bound>,
}

struct Bound {
    sockets: Vec<TcpListener>,
    bind: Vec<String>,
    port: u16,
}

fn register(registry: &Registry, sockets: &mut [TcpListener]) -> io::Result<()> {
    for (i, l) in sockets.iter_mut().enumerate() {
        registry.register(l, Token(i), Interest::READABLE)?;
    }
    Ok(())
}

impl Listeners {
    /// Bind `bind` / `port` and register the sockets with `registry` (tokens 0..n).
    pub fn bind(registry: Registry, bind: &[String], port: u16) -> io::Result<Listeners> {
        let mut sockets = bind_all(bind, port)?;
        register(&registry, &mut sockets)?;
        let port = sockets[0].local_addr()?.port();
        Ok(Listeners { registry, sockets: Mutex::new(Bound { sockets, bind: bind.to_vec(), port }) })
    }

    /// The addresses listened on.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.sockets.lock().sockets.iter().filter_map(|l| l.local_addr().ok()).collect()
    }

    /// Accept every pending connection on the socket of `token` (none if there is no such
    /// socket: an event may outlive a rebind), and the error that stopped it, if any.
    pub fn accept(&self, token: usize) -> (Vec<(TcpStream, SocketAddr)>, Option<io::Error>) {
        let b = self.sockets.lock();
        let mut accepted = Vec::new();
        let Some(l) = b.sockets.get(token) else { return (accepted, None) };
        loop {
            match l.accept() {
                Ok(conn) => accepted.push(conn),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return (accepted, None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return (accepted, Some(e)),
            }
        }
    }

    /// Stop listening (the server is shutting down): the ports are free again at once, for a
    /// server restarted in the same process.
    pub fn close(&self) {
        let mut b = self.sockets.lock();
        for l in b.sockets.iter_mut() {
            let _ = self.registry.deregister(l);
        }
        b.sockets.clear();
    }

    /// Listen on `bind` / `port` instead; returns the port now listened on. The old sockets
    /// are closed first (a new set may bind the same address again) and bound again if the
    /// new ones cannot be.
    pub fn rebind(&self, bind: &[String], port: u16) -> io::Result<u16> {
        let mut b = self.sockets.lock();
        for l in b.sockets.iter_mut() {
            let _ = self.registry.deregister(l);
        }
        b.sockets.clear();
        let (new, err) = match bind_all(bind, port) {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(e)),
        };
        let (mut sockets, bind, port) = match new {
            Some(s) => (s, bind.to_vec(), port),
            None => (bind_all(&b.bind, b.port)?, b.bind.clone(), b.port),
        };
        register(&self.registry, &mut sockets)?;
        let actual = sockets[0].local_addr()?.port();
        *b = Bound { sockets, bind, port: if port == 0 { actual } else { port } };
        match err {
            Some(e) => Err(e),
            None => Ok(actual),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebinds_and_restores() {
        let poll = mio::Poll::new().unwrap();
        let local = vec!["127.0.0.1".to_string()];
        let l = Listeners::bind(poll.registry().try_clone().unwrap(), &local, 0).unwrap();
        let first = l.addrs()[0].port();
        let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let taken = other.local_addr().unwrap().port();
        assert!(l.rebind(&local, taken).is_err(), "a port in use");
        assert_eq!(l.addrs()[0].port(), first, "the old port is listened on again");
        drop(other);
        let moved = l.rebind(&local, 0).unwrap();
        assert_eq!(l.addrs()[0].port(), moved);
        assert!(std::net::TcpStream::connect(("127.0.0.1", moved)).is_ok());
        assert!(l.rebind(&["-203.0.113.9".to_string(), "127.0.0.1".to_string()], moved).is_ok());
    }
}
